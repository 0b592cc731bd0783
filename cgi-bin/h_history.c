#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "q_ledger.h"

typedef int (*history_fn)(struct q_db *, long long, long long, int, json_t **, struct q_err *);

/* GET /api/v1/bots/{id}/<what>[?limit=N]: the caller's bot's history. */
static int
serve(struct q_req *r, history_fn fn)
{
	char *end;
	long long id = strtoll(r->params[0], &end, 10);
	long limit = 200;
	const char *q = strstr(r->query, "limit=");
	struct q_db *db;
	json_t *out;

	if (*end || id <= 0)
		return q_err_set_field(&r->err, "id", Q_E_BAD_REQUEST, "bot id must be a number");
	if (q) {
		limit = strtol(q + 6, &end, 10);
		if ((*end && *end != '&') || limit < 1 || limit > 1000)
			return q_err_set_field(&r->err, "limit", Q_E_BAD_REQUEST,
			                       "limit must be 1 to 1000");
	}
	db = q_ctx_db(r->ctx, 0, &r->err);
	if (db == NULL || fn(db, r->user_id, id, (int)limit, &out, &r->err) < 0)
		return -1;
	return q_reply(r, 200, out);
}

int
h_bot_orders_get(struct q_req *r)
{
	return serve(r, q_ledger_orders_json);
}

int
h_bot_trades_get(struct q_req *r)
{
	return serve(r, q_ledger_trades_json);
}

int
h_bot_equity_get(struct q_req *r)
{
	return serve(r, q_ledger_equity_json);
}
