#include "api.h"
#include "q_log.h"

/*
 * POST /api/v1/hooks/telegram: an update from Telegram. The secret token header is checked
 * first (401, nothing recorded); the update is then recorded and acted on in one transaction,
 * and answered at once: replies go out through the outbox, never inline.
 */
int
h_hooks_telegram_post(struct q_req *r)
{
	struct q_db *db;
	int dup = 0;

	if (q_telegram_check_secret(&r->conf->tg,
	                            q_req_param(r, "HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN"),
	                            &r->err) < 0)
		return -1;
	db = q_ctx_db(r->ctx, 0, &r->err);
	if (db == NULL ||
	    q_telegram_handle_update(db, &r->conf->id, &r->conf->tg, r->json, &dup, &r->err) < 0)
		return -1;
	if (dup)
		q_log(Q_LOG_INFO, "telegram.duplicate_update", "update_id=%lld",
		      (long long)json_integer_value(json_object_get(r->json, "update_id")));
	return q_reply(r, 200, json_pack("{s:b, s:b}", "ok", 1, "duplicate", dup));
}
