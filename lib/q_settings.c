#include "q_settings.h"
#include "q_audit.h"

#include <string.h>

int
q_settings_live_enabled(struct q_db *db, int *on, struct q_err *err)
{
	char v[16] = "";
	int r;

	*on = 0;
	r = q_db_row(db, err, "SELECT JSON_EXTRACT(value, '$') FROM settings WHERE name = ?", "s>s",
	             Q_SETTING_LIVE, v, sizeof(v));
	if (r < 0)
		return -1;
	*on = r == 1 && strcmp(v, "true") == 0;
	return 0;
}

struct live {
	int on;
	const char *actor, *reason;
};

static const char sql_set[] =
        "INSERT INTO settings (name, value, updated_by, reason) VALUES (?, ?, ?, ?) "
        "ON DUPLICATE KEY UPDATE value = VALUES(value), updated_by = VALUES(updated_by), "
        "reason = VALUES(reason)";

static int
live_tx(struct q_db *db, void *arg, struct q_err *err)
{
	struct live *l = arg;
	json_t *data;
	int rc;

	if (q_db_exec(db, err, sql_set, "ssss", Q_SETTING_LIVE, l->on ? "true" : "false", l->actor,
	              l->reason) < 0)
		return -1;
	data = json_pack("{s:b, s:s}", "enabled", l->on, "reason", l->reason);
	rc = q_audit_append_tx(db, l->actor, 0, "killswitch.flipped", data, NULL, err);
	json_decref(data);
	return rc;
}

int
q_settings_set_live(struct q_db *db, int on, const char *actor, const char *reason,
                    struct q_err *err)
{
	struct live l = {on, actor, reason};

	if (reason == NULL || reason[0] == '\0')
		return q_err_set_field(err, "reason", Q_E_BAD_REQUEST,
		                       "say why: a kill switch change needs a reason");
	if (strlen(reason) > 500)
		return q_err_set_field(err, "reason", Q_E_BAD_REQUEST,
		                       "the reason is longer than 500 bytes");
	return q_db_tx(db, live_tx, &l, err);
}
