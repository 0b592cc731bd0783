#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "api.h"
#include "q_bots.h"
#include "q_json.h"

static json_t *
time_or_null(long long us)
{
	char t[32];

	if (us == 0 || q_json_time_rfc3339(t, (time_t)(us / 1000000)) < 0)
		return json_null();
	return json_string(t);
}

/* A bot as every route shows it. */
static json_t *
bot_json(const struct q_bot *b)
{
	json_t *params = b->params ? json_loads(b->params, 0, NULL) : NULL;

	return json_pack("{s:I, s:s, s:o, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:o}",
	                 "id", (json_int_t)b->id, "strategy", b->strategy, "params",
	                 params ? params : json_object(), "symbol", b->symbol, "interval",
	                 b->interval, "mode", b->mode, "exchange", b->exchange, "exchange_key_id",
	                 b->exchange_key_id ? json_integer((json_int_t)b->exchange_key_id)
	                                    : json_null(),
	                 "notional", b->notional, "status", b->status, "halt_reason",
	                 b->halt_reason[0] ? json_string(b->halt_reason) : json_null(),
	                 "halted_until", time_or_null(b->halted_until_us), "started_at",
	                 time_or_null(b->started_us), "created_at", time_or_null(b->created_us));
}

static int
bot_id(struct q_req *r, long long *id)
{
	char *end;

	*id = strtoll(r->params[0], &end, 10);
	if (*end || *id <= 0)
		return q_err_set_field(&r->err, "id", Q_E_BAD_REQUEST, "a bot id is a number");
	return 0;
}

static void
actor_of(const struct q_req *r, char actor[48])
{
	snprintf(actor, 48, "user:%lld", r->user_id);
}

/* The caller's bot as it is now: the answer of every route that changes one. */
static int
reply_bot(struct q_req *r, struct q_db *db, long long id, int status)
{
	struct q_bot b;

	if (q_bots_get(db, r->arena, r->user_id, id, &b, &r->err) < 0)
		return -1;
	return q_reply(r, status, json_pack("{s:o}", "bot", bot_json(&b)));
}

/* GET /api/v1/bots: the caller's bots, newest first. */
int
h_bots_list(struct q_req *r)
{
	struct q_db *db = q_ctx_db(r->ctx, 0, &r->err);
	struct q_bot *bots;
	json_t *list;
	size_t n;

	if (db == NULL ||
	    q_bots_list(db, r->arena, r->user_id, Q_BOTS_MAX_LIST, &bots, &n, &r->err) < 0)
		return -1;
	list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, bot_json(&bots[i]));
	return q_reply(r, 200, json_pack("{s:o}", "bots", list));
}

/*
 * POST /api/v1/bots {strategy, params?, symbol, interval, mode?, notional, exchange?,
 * exchange_key_id?}: a stopped bot, 201.
 */
int
h_bots_create(struct q_req *r)
{
	struct q_bot_spec sp = {0};
	json_t *key = NULL;
	struct q_db *db;
	struct q_bot b;
	char actor[48];

	if (q_json_unpack(r->json, &r->err, "{s:s, s?o, s:s, s:s, s?s, s:s, s?s, s?o}", "strategy",
	                  &sp.strategy, "params", &sp.params, "symbol", &sp.symbol, "interval",
	                  &sp.interval, "mode", &sp.mode, "notional", &sp.notional, "exchange",
	                  &sp.exchange, "exchange_key_id", &key) < 0)
		return -1;
	if (key && !json_is_null(key)) {
		if (!json_is_integer(key) || json_integer_value(key) <= 0)
			return q_err_set_field(&r->err, "exchange_key_id", Q_E_BAD_REQUEST,
			                       "exchange_key_id is the id of one of your keys");
		sp.exchange_key_id = (long long)json_integer_value(key);
	}
	actor_of(r, actor);
	db = q_ctx_db(r->ctx, 0, &r->err);
	if (db == NULL ||
	    q_bots_create(db, r->ctx->cfg, r->arena, r->user_id, actor, &sp, &b, &r->err) < 0)
		return -1;
	return q_reply(r, 201, json_pack("{s:o}", "bot", bot_json(&b)));
}

/* GET /api/v1/bots/{id} */
int
h_bots_get(struct q_req *r)
{
	struct q_db *db;
	long long id;

	if (bot_id(r, &id) < 0 || (db = q_ctx_db(r->ctx, 0, &r->err)) == NULL)
		return -1;
	return reply_bot(r, db, id, 200);
}

/* DELETE /api/v1/bots/{id}: stopped bots only (409 otherwise). */
int
h_bots_delete(struct q_req *r)
{
	struct q_db *db;
	char actor[48];
	long long id;

	if (bot_id(r, &id) < 0 || (db = q_ctx_db(r->ctx, 0, &r->err)) == NULL)
		return -1;
	actor_of(r, actor);
	if (q_bots_delete(db, r->user_id, id, actor, &r->err) < 0)
		return -1;
	return q_reply(r, 200, json_pack("{s:b, s:I}", "deleted", 1, "id", (json_int_t)id));
}

/* POST /api/v1/bots/{id}/start: the risk gates; a refusal is the gate's 403 policy error. */
int
h_bots_start(struct q_req *r)
{
	struct q_db *db;
	char actor[48];
	long long id;

	if (bot_id(r, &id) < 0 || (db = q_ctx_db(r->ctx, 0, &r->err)) == NULL)
		return -1;
	actor_of(r, actor);
	if (q_bots_start(db, r->ctx->cfg, r->user_id, id, actor, &r->err) < 0)
		return -1;
	return reply_bot(r, db, id, 200);
}

/* POST /api/v1/bots/{id}/stop: always allowed; "stopped" tells whether it was running. */
int
h_bots_stop(struct q_req *r)
{
	struct q_db *db;
	struct q_bot b;
	char actor[48];
	long long id;
	int was = 0;

	if (bot_id(r, &id) < 0 || (db = q_ctx_db(r->ctx, 0, &r->err)) == NULL)
		return -1;
	actor_of(r, actor);
	if (q_bots_stop(db, r->user_id, id, actor, "api", &was, &r->err) < 0 ||
	    q_bots_get(db, r->arena, r->user_id, id, &b, &r->err) < 0)
		return -1;
	return q_reply(r, 200, json_pack("{s:o, s:b}", "bot", bot_json(&b), "stopped", was));
}
