#include <stdio.h>

#include "api.h"
#include "q_json.h"
#include "q_log.h"
#include "q_settings.h"

/* POST /api/v1/admin/live {"enabled":bool,"reason":"..."}: the LIVE kill switch. */
int
h_admin_live_post(struct q_req *r)
{
	int enabled = 0;
	const char *reason = NULL;
	char actor[64];
	struct q_db *db;

	if (q_json_unpack(r->json, &r->err, "{s:b, s:s}", "enabled", &enabled, "reason", &reason) <
	    0)
		return -1;
	db = q_ctx_db(r->ctx, 0, &r->err);
	snprintf(actor, sizeof(actor), "admin:%lld", r->user.telegram_id);
	if (db == NULL || q_settings_set_live(db, enabled, actor, reason, &r->err) < 0)
		return -1;
	q_log(Q_LOG_WARN, "killswitch.flipped", "enabled=%d actor=%s", enabled, actor);
	return q_reply(
	        r, 200,
	        json_pack("{s:b, s:s, s:s}", "enabled", enabled, "reason", reason, "by", actor));
}
