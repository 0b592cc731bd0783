#include "api.h"
#include "q_db.h"
#include "q_log.h"

int
h_health_get(struct q_req *r)
{
	struct q_err e = {0};
	struct q_db *db = q_ctx_db(r->ctx, 0, &e);

	if (db == NULL || q_db_ping(db, &e) < 0) {
		char where[256];

		q_err_where(&e, where, sizeof(where));
		q_logkv(Q_LOG_WARN, "health.db_down", "where", where, "reason", e.msg,
		        (char *)NULL);
		return q_reply(r, 503,
		               json_pack("{s:s, s:s, s:{s:s, s:s}}", "status", "unavailable", "db",
		                         "down", "error", "code", "DB_UNAVAILABLE", "message",
		                         "database unavailable"));
	}
	return q_reply(r, 200, json_pack("{s:s, s:s}", "status", "ok", "db", "ok"));
}
