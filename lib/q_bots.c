#include "q_bots.h"
#include "q_audit.h"
#include "q_exchange.h"
#include "q_mem.h"
#include "q_regime.h"
#include "q_settings.h"
#include "q_strategy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- reading --------------------------------------------------------------------------- */

#define BOT_COLS                                                                                   \
	"id, user_id, COALESCE(exchange_key_id, 0), exchange, strategy, symbol, candle_interval, " \
	"mode, status, notional, COALESCE(halt_reason, ''), params, halted_until, started_at, "    \
	"created_at"

static const char sql_one[] =
        "SELECT " BOT_COLS " FROM bots WHERE id = ? AND user_id = ? AND deleted_at IS NULL";
static const char sql_one_locked[] =
        "SELECT " BOT_COLS " FROM bots WHERE id = ? AND user_id = ? AND deleted_at IS "
        "NULL FOR UPDATE";
static const char sql_list[] = "SELECT " BOT_COLS " FROM bots WHERE user_id = ? AND deleted_at "
                               "IS NULL ORDER BY id DESC LIMIT ?";

/* The current row into b; params into a (skipped when a is NULL). */
static int
read_bot(struct q_stmt *st, struct q_arena *a, struct q_bot *b, struct q_err *err)
{
	char notional[64];
	struct q_dec d;

	memset(b, 0, sizeof(*b));
	b->id = q_stmt_col_int64(st, 0);
	b->user_id = q_stmt_col_int64(st, 1);
	b->exchange_key_id = q_stmt_col_int64(st, 2);
	if (q_stmt_col_copy(st, 3, b->exchange, sizeof(b->exchange), err) < 0 ||
	    q_stmt_col_copy(st, 4, b->strategy, sizeof(b->strategy), err) < 0 ||
	    q_stmt_col_copy(st, 5, b->symbol, sizeof(b->symbol), err) < 0 ||
	    q_stmt_col_copy(st, 6, b->interval, sizeof(b->interval), err) < 0 ||
	    q_stmt_col_copy(st, 7, b->mode, sizeof(b->mode), err) < 0 ||
	    q_stmt_col_copy(st, 8, b->status, sizeof(b->status), err) < 0 ||
	    q_stmt_col_copy(st, 9, notional, sizeof(notional), err) < 0 ||
	    q_stmt_col_copy(st, 10, b->halt_reason, sizeof(b->halt_reason), err) < 0)
		return -1;
	/* DECIMAL(36,18) arrives zero-padded; show it canonical, exactly. */
	if (q_dec_parse_str(&d, notional, err) < 0)
		return -1;
	q_dec_format(b->notional, d);
	if (a)
		b->params = q_stmt_col_strdup(st, 11, a, NULL);
	b->halted_until_us = q_stmt_col_null(st, 12) ? 0 : q_stmt_col_time_us(st, 12);
	b->started_us = q_stmt_col_null(st, 13) ? 0 : q_stmt_col_time_us(st, 13);
	b->created_us = q_stmt_col_time_us(st, 14);
	return 0;
}

/* One bot of the user by id; 1 found, 0 not, -1 error. */
static int
fetch_one(struct q_db *db, const char *sql, struct q_arena *a, long long user_id, long long bot_id,
          struct q_bot *out, struct q_err *err)
{
	struct q_stmt *st = q_db_prepare(db, sql, err);
	int r, rc = -1;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return -1;
	q_stmt_bind_int64(st, 0, bot_id);
	q_stmt_bind_int64(st, 1, user_id);
	if (q_stmt_exec(st, err) < 0)
		goto out;
	r = q_stmt_fetch(st, err);
	if (r < 0 || (r == 1 && read_bot(st, a, out, err) < 0))
		goto out;
	rc = r == 1;
out:
	q_stmt_done(st);
	return rc;
}

int
q_bots_get(struct q_db *db, struct q_arena *a, long long user_id, long long bot_id,
           struct q_bot *out, struct q_err *err)
{
	int r = bot_id > 0 ? fetch_one(db, sql_one, a, user_id, bot_id, out, err) : 0;

	if (r < 0)
		return -1;
	if (r == 0)
		return q_err_set(err, Q_E_NOT_FOUND, "bot %lld not found", bot_id);
	return 0;
}

int
q_bots_list(struct q_db *db, struct q_arena *a, long long user_id, size_t max, struct q_bot **out,
            size_t *n, struct q_err *err)
{
	struct q_stmt *st = q_db_prepare(db, sql_list, err);
	struct q_bot *bots;
	int rc = -1, r = 0;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	if (max > Q_BOTS_MAX_LIST)
		max = Q_BOTS_MAX_LIST;
	bots = q_arena_zalloc(a, (max ? max : 1) * sizeof(*bots));
	q_stmt_bind_int64(st, 0, user_id);
	q_stmt_bind_int64(st, 1, (long long)max);
	if (q_stmt_exec(st, err) < 0)
		goto out;
	while (*n < max && (r = q_stmt_fetch(st, err)) == 1) {
		if (read_bot(st, a, &bots[*n], err) < 0)
			goto out;
		(*n)++;
	}
	if (*n < max && r < 0)
		goto out;
	*out = bots;
	rc = 0;
out:
	q_stmt_done(st);
	return rc;
}

/* ---- creating ---------------------------------------------------------------------------- */

static const char *const intervals[] = {"1m", "5m", "15m", "1h", "4h", "1d"};
static const char *const venues[] = {"binance", "okx", "bybit", "bitget"};

int
q_bots_interval_valid(const char *s)
{
	for (size_t i = 0; s && i < sizeof(intervals) / sizeof(intervals[0]); i++)
		if (strcmp(s, intervals[i]) == 0)
			return 1;
	return 0;
}

static int
venue_valid(const char *s)
{
	for (size_t i = 0; s && i < sizeof(venues) / sizeof(venues[0]); i++)
		if (strcmp(s, venues[i]) == 0)
			return 1;
	return 0;
}

/* The strategy ids for a message: "EMA, BREAKOUT_V1, ...". */
static void
strategy_ids(char *out, size_t len)
{
	const struct q_strategy *s;
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; (s = q_strategy_at(i)) != NULL && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", i ? ", " : "", s->id);
}

/* notional: an exact decimal above zero that fits DECIMAL(36,18). */
static int
check_notional(const char *s, struct q_err *err)
{
	struct q_dec d, max = q_dec_from_int(1000000000000000000LL);

	if (s == NULL || q_dec_parse_str(&d, s, NULL) < 0)
		return q_err_set_field(err, "notional", Q_E_BAD_REQUEST,
		                       "notional is an exact decimal string such as \"250\" or "
		                       "\"99.5\" (USD)");
	if (q_dec_sign(d) <= 0)
		return q_err_set_field(err, "notional", Q_E_BAD_REQUEST,
		                       "notional must be above zero");
	if (q_dec_cmp(d, max) >= 0)
		return q_err_set_field(err, "notional", Q_E_BAD_REQUEST,
		                       "notional has more than 18 digits before the point");
	return 0;
}

/* Everything about spec that needs no database; *norm gets the normalized params. */
static int
check_spec(const struct q_config *cfg, const struct q_bot_spec *sp, json_t **norm,
           struct q_err *err)
{
	const struct q_strategy *s = q_strategy_lookup(sp->strategy);
	struct q_strategy_config sc;
	struct q_risk_symbols syms;
	int mode = sp->mode ? q_bot_mode_parse(sp->mode) : Q_MODE_PAPER;
	char ids[160];

	*norm = NULL;
	if (s == NULL) {
		strategy_ids(ids, sizeof(ids));
		return q_err_set_field(err, "strategy", Q_E_BAD_REQUEST,
		                       "unknown strategy \"%.32s\"; one of %s",
		                       sp->strategy ? sp->strategy : "", ids);
	}
	if (sp->params != NULL && !json_is_object(sp->params) && !json_is_null(sp->params))
		return q_err_set_field(err, "params", Q_E_BAD_REQUEST,
		                       "params is an object of the strategy's parameters");
	memset(&sc, 0, sizeof(sc));
	if (q_strategy_config_init(&sc, s, json_is_object(sp->params) ? sp->params : NULL, norm,
	                           err) < 0)
		return -1;
	q_strategy_config_release(&sc);
	if (!q_risk_symbol_valid(sp->symbol))
		return q_err_set_field(err, "symbol", Q_E_BAD_REQUEST,
		                       "symbol is a pair such as BTCUSDT (A-Z and 0-9)");
	if (q_risk_symbols_load(&syms, cfg, err) < 0)
		return -1;
	if (!q_risk_symbols_has(&syms, sp->symbol))
		return q_err_set(err, Q_E_SYMBOL_NOT_ALLOWED,
		                 "%s is not one of the liquid pairs Quantor trades", sp->symbol);
	if (!q_bots_interval_valid(sp->interval))
		return q_err_set_field(err, "interval", Q_E_BAD_REQUEST,
		                       "interval is one of 1m, 5m, 15m, 1h, 4h, 1d");
	if (mode < 0)
		return q_err_set_field(err, "mode", Q_E_BAD_REQUEST,
		                       "mode is PAPER, LIVE or LIVE_ADVANCED");
	if (check_notional(sp->notional, err) < 0)
		return -1;
	if (sp->exchange && !venue_valid(sp->exchange))
		return q_err_set_field(err, "exchange", Q_E_BAD_REQUEST,
		                       "exchange is one of binance, okx, bybit, bitget");
	if (sp->exchange_key_id < 0)
		return q_err_set_field(err, "exchange_key_id", Q_E_BAD_REQUEST,
		                       "exchange_key_id is the id of one of your exchange keys");
	if (mode != Q_MODE_PAPER && sp->exchange_key_id == 0)
		return q_err_set_field(
		        err, "exchange_key_id", Q_E_BAD_REQUEST,
		        "a %s bot trades with one of your exchange keys: give its id "
		        "(POST /api/v1/exchange-keys saves one)",
		        sp->mode);
	return 0;
}

struct create {
	long long user_id;
	const char *actor;
	const struct q_bot_spec *sp;
	const char *params; /* normalized JSON text */
	long long id;
};

static const char sql_insert[] =
        "INSERT INTO bots (user_id, exchange_key_id, exchange, strategy, symbol, "
        "candle_interval, mode, params, notional) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

static int
create_tx(struct q_db *db, void *arg, struct q_err *err)
{
	struct create *c = arg;
	const struct q_bot_spec *sp = c->sp;
	const char *mode = sp->mode ? sp->mode : "PAPER";
	char exchange[16];
	long long have = 0;
	json_t *data;
	int r, rc;

	snprintf(exchange, sizeof(exchange), "%s", sp->exchange ? sp->exchange : "binance");
	if (q_db_row(db, err, "SELECT COUNT(*) FROM bots WHERE user_id = ? AND deleted_at IS NULL",
	             "i>i", c->user_id, &have) < 0)
		return -1;
	if (have >= Q_BOTS_MAX_LIST)
		return q_err_set(err, Q_E_CONFLICT,
		                 "you have %lld bots; delete stopped ones before creating more",
		                 have);
	if (sp->exchange_key_id > 0) {
		char kx[16] = "";

		r = q_db_row(db, err,
		             "SELECT exchange FROM exchange_keys WHERE id = ? AND user_id = ? "
		             "LOCK IN SHARE MODE",
		             "ii>s", sp->exchange_key_id, c->user_id, kx, sizeof(kx));
		if (r < 0)
			return -1;
		if (r == 0)
			return q_err_set_field(err, "exchange_key_id", Q_E_BAD_REQUEST,
			                       "you have no exchange key %lld",
			                       sp->exchange_key_id);
		if (sp->exchange && strcmp(sp->exchange, kx) != 0)
			return q_err_set_field(err, "exchange", Q_E_BAD_REQUEST,
			                       "exchange key %lld is a %s key, not %s",
			                       sp->exchange_key_id, kx, sp->exchange);
		snprintf(exchange, sizeof(exchange), "%s", kx);
	}
	/* No key is SQL NULL (the column references exchange_keys). */
	if ((sp->exchange_key_id > 0
	             ? q_db_exec(db, err, sql_insert, "iissssssm", c->user_id, sp->exchange_key_id,
	                         exchange, sp->strategy, sp->symbol, sp->interval, mode, c->params,
	                         sp->notional)
	             : q_db_exec(db, err, sql_insert, "inssssssm", c->user_id, exchange,
	                         sp->strategy, sp->symbol, sp->interval, mode, c->params,
	                         sp->notional)) < 0)
		return -1;
	c->id = (long long)q_db_insert_id(db);
	data = json_pack(
	        "{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "bot_id", (json_int_t)c->id, "strategy",
	        sp->strategy, "symbol", sp->symbol, "interval", sp->interval, "mode", mode,
	        "exchange", exchange, "notional", sp->notional, "exchange_key_id",
	        sp->exchange_key_id ? json_integer((json_int_t)sp->exchange_key_id) : json_null());
	rc = q_audit_append_tx(db, c->actor, c->user_id, "bot.created", data, NULL, err);
	json_decref(data);
	return rc;
}

int
q_bots_create(struct q_db *db, const struct q_config *cfg, struct q_arena *a, long long user_id,
              const char *actor, const struct q_bot_spec *spec, struct q_bot *out,
              struct q_err *err)
{
	struct create c = {user_id, actor, spec, NULL, 0};
	json_t *norm = NULL;
	char *text = NULL;
	int rc = -1;

	if (check_spec(cfg, spec, &norm, err) < 0)
		goto out;
	text = norm ? json_dumps(norm, JSON_COMPACT | JSON_SORT_KEYS) : q_strdup("{}");
	if (text == NULL) {
		q_err_set(err, Q_E_INTERNAL, "the bot's parameters could not be encoded");
		goto out;
	}
	c.params = text;
	if (q_db_tx(db, create_tx, &c, err) < 0 || q_bots_get(db, a, user_id, c.id, out, err) < 0)
		goto out;
	rc = 0;
out:
	free(text);
	json_decref(norm);
	return rc;
}

/* ---- the facts the gates judge ----------------------------------------------------------- */

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* "Can withdraw" in each venue's own words, as q_keys stores what the venue reported:
 * Binance enableWithdrawals, OKX withdraw, Bybit Wallet=...Withdraw, Bitget wwow. */
static const char sql_key[] =
        "SELECT verified, (LOWER(COALESCE(permissions, '')) LIKE '%withdraw%' OR "
        "LOWER(COALESCE(permissions, '')) LIKE '%wwow%') FROM exchange_keys "
        "WHERE id = ? AND user_id = ? AND exchange = ?";

static const char sql_user[] = "SELECT plan, frozen, COALESCE(chat_id, 0) FROM users WHERE id = ?";

/* The newest subscription for the plan the user is on now. */
static const char sql_sub[] = "SELECT status, COALESCE(current_period_end, 0) FROM subscriptions "
                              "WHERE user_id = ? AND plan = ? ORDER BY id DESC LIMIT 1";

static const char sql_others[] =
        "SELECT COUNT(*) FROM bots WHERE user_id = ? AND id <> ? AND deleted_at IS NULL AND "
        "status IN ('running', 'halted')";

int
q_bots_risk_input(struct q_db *db, const struct q_config *cfg, long long user_id,
                  const struct q_bot *bot, struct q_risk_facts *f, struct q_err *err)
{
	struct q_risk_input *in = &f->in;
	const struct q_strategy *s = q_strategy_lookup(bot->strategy);
	struct q_regime_snapshot rs;
	char pnl[48], eq[48];
	long long frozen = 0, chat = 0, verified = 0, withdraw = 0;
	struct q_dec p;
	int mode = q_bot_mode_parse(bot->mode), r;

	memset(f, 0, sizeof(*f));
	if (mode < 0)
		return q_err_set(err, Q_E_INTERNAL, "bot %lld has mode %s", bot->id, bot->mode);
	in->mode = (enum q_bot_mode)mode;
	in->symbol = bot->symbol;
	in->strategy = bot->strategy;
	in->strategy_advanced = s == NULL || s->advanced; /* unknown: treated as advanced */
	if (q_dec_parse_str(&in->notional, bot->notional, err) < 0)
		return -1;
	if (q_risk_symbols_load(&f->symbols, cfg, err) < 0)
		return -1;
	in->symbols = f->symbols.v;
	in->nsymbols = f->symbols.n;

	if (q_regime_latest(db, q_config_get(cfg, "regime", "symbol", "BTCUSDT"), &rs, err) < 0)
		return -1;
	snprintf(f->regime, sizeof(f->regime), "%s", rs.regime);
	in->regime = f->regime;
	if (q_settings_live_enabled(db, &in->live_enabled, err) < 0 ||
	    q_settings_allowlisted(db, user_id, &in->allowlisted, err) < 0)
		return -1;

	r = q_db_row(db, err, sql_user, "i>sii", user_id, f->plan, sizeof(f->plan), &frozen, &chat);
	if (r < 0)
		return -1;
	if (r == 0)
		return q_err_set(err, Q_E_NOT_FOUND, "user %lld not found", user_id);
	in->plan = q_plan_get(f->plan);
	in->frozen = frozen != 0;
	in->telegram_linked = chat != 0;
	r = q_db_row(db, err, sql_sub, "is>st", user_id, f->plan, f->subscription_status,
	             sizeof(f->subscription_status), &in->subscription_end_us);
	if (r < 0)
		return -1;
	in->subscription_status = r == 1 ? f->subscription_status : NULL;
	in->now_us = now_us();
	if (q_db_row(db, err, sql_others, "ii>i", user_id, bot->id, &in->running_bots) < 0)
		return -1;

	if (bot->exchange_key_id > 0) {
		r = q_db_row(db, err, sql_key, "iis>ii", bot->exchange_key_id, user_id,
		             bot->exchange, &verified, &withdraw);
		if (r < 0)
			return -1;
		in->key_present = r == 1;
		in->key_verified = verified != 0;
		in->key_can_withdraw = withdraw != 0;
	}

	if (q_bots_pnl_today(db, user_id, pnl, eq, err) < 0 || q_dec_parse_str(&p, pnl, err) < 0 ||
	    q_dec_parse_str(&in->equity_start, eq, err) < 0)
		return -1;
	in->loss_today = q_dec_sign(p) < 0 ? q_dec_neg(p) : q_dec_from_int(0);
	return 0;
}

/* ---- starting ---------------------------------------------------------------------------- */

struct start {
	const struct q_config *cfg;
	long long user_id, bot_id;
	const char *actor;
	struct q_err refusal; /* the gate that refused, Q_OK when the bot started */
};

static int
start_tx(struct q_db *db, void *arg, struct q_err *err)
{
	struct start *s = arg;
	struct q_risk_facts f;
	struct q_bot b;
	long long locked = 0;
	json_t *data;
	int r, rc;

	q_err_clear(&s->refusal);
	/* The user's row first: two starts of the same user queue here, so the second one
	 * counts the bot the first one started (gate 7). */
	r = q_db_row(db, err, "SELECT id FROM users WHERE id = ? FOR UPDATE", "i>i", s->user_id,
	             &locked);
	if (r < 0)
		return -1;
	r = r == 1 ? fetch_one(db, sql_one_locked, NULL, s->user_id, s->bot_id, &b, err) : 0;
	if (r < 0)
		return -1;
	if (r == 0)
		return q_err_set(err, Q_E_NOT_FOUND, "bot %lld not found", s->bot_id);
	if (strcmp(b.status, "running") == 0)
		return q_err_set(err, Q_E_CONFLICT, "bot %lld is already running", s->bot_id);
	if (q_bots_risk_input(db, s->cfg, s->user_id, &b, &f, err) < 0)
		return -1;
	if (q_risk_check(&f.in, &s->refusal) < 0) {
		data = json_pack("{s:I, s:s, s:s, s:i}", "bot_id", (json_int_t)b.id, "mode", b.mode,
		                 "code", q_err_name(s->refusal.code), "gate",
		                 q_err_gate(s->refusal.code));
		rc = q_audit_append_tx(db, s->actor, s->user_id, "bot.refused", data, NULL, err);
		json_decref(data);
		return rc;
	}
	if (q_db_exec(db, err,
	              "UPDATE bots SET status = 'running', started_at = UTC_TIMESTAMP(6), "
	              "halt_reason = NULL, halted_until = NULL WHERE id = ?",
	              "i", b.id) < 0)
		return -1;
	data = json_pack("{s:I, s:s, s:s, s:s, s:s}", "bot_id", (json_int_t)b.id, "mode", b.mode,
	                 "strategy", b.strategy, "symbol", b.symbol, "notional", b.notional);
	rc = q_audit_append_tx(db, s->actor, s->user_id, "bot.started", data, NULL, err);
	json_decref(data);
	return rc;
}

int
q_bots_start(struct q_db *db, const struct q_config *cfg, long long user_id, long long bot_id,
             const char *actor, struct q_err *err)
{
	struct start s;

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	s.user_id = user_id;
	s.bot_id = bot_id;
	s.actor = actor;
	if (bot_id <= 0)
		return q_err_set(err, Q_E_NOT_FOUND, "bot %lld not found", bot_id);
	if (q_db_tx(db, start_tx, &s, err) < 0)
		return -1;
	if (s.refusal.code != Q_OK) {
		/* Committed with its "bot.refused": now the caller sees the gate's own error. */
		if (err && err->code == Q_OK)
			*err = s.refusal;
		return -1;
	}
	return 0;
}

/* ---- stopping and deleting --------------------------------------------------------------- */

struct stop {
	long long user_id, bot_id; /* bot_id 0: all of the user's active bots */
	const char *actor, *via;
	int stopped, found;
};

static const char sql_active_one[] =
        "SELECT id, status FROM bots WHERE user_id = ? AND id = ? AND deleted_at IS NULL "
        "FOR UPDATE";
static const char sql_active_all[] =
        "SELECT id, status FROM bots WHERE user_id = ? AND status IN ('running', 'halted') "
        "AND deleted_at IS NULL ORDER BY id FOR UPDATE";
static const char sql_stop[] =
        "UPDATE bots SET status = 'stopped', halt_reason = NULL, halted_until = NULL WHERE id = ?";

static int
stop_tx(struct q_db *db, void *arg, struct q_err *err)
{
	struct stop *s = arg;
	struct q_stmt *st;
	long long ids[256];
	size_t n = 0;
	int r, rc = -1;

	s->stopped = 0;
	s->found = 0;
	st = q_db_prepare(db, s->bot_id ? sql_active_one : sql_active_all, err);
	if (st == NULL)
		return -1;
	q_stmt_bind_int64(st, 0, s->user_id);
	if (s->bot_id)
		q_stmt_bind_int64(st, 1, s->bot_id);
	if (q_stmt_exec(st, err) < 0)
		goto out;
	while ((r = q_stmt_fetch(st, err)) == 1) {
		size_t len;
		const char *status = q_stmt_col_text(st, 1, &len);

		s->found = 1;
		if (strcmp(status, "stopped") != 0 && n < sizeof(ids) / sizeof(ids[0]))
			ids[n++] = q_stmt_col_int64(st, 0);
	}
	if (r < 0)
		goto out;
	q_stmt_done(st);
	st = NULL;
	for (size_t i = 0; i < n; i++) {
		json_t *data = json_pack("{s:I, s:s}", "bot_id", (json_int_t)ids[i], "via", s->via);

		r = q_db_exec(db, err, sql_stop, "i", ids[i]) < 0
		            ? -1
		            : q_audit_append_tx(db, s->actor, s->user_id, "bot.stopped", data, NULL,
		                                err);
		json_decref(data);
		if (r < 0)
			goto out;
		s->stopped++;
	}
	rc = 0;
out:
	q_stmt_done(st);
	return rc;
}

int
q_bots_stop(struct q_db *db, long long user_id, long long bot_id, const char *actor,
            const char *via, int *was_active, struct q_err *err)
{
	struct stop s = {user_id, bot_id, actor, via, 0, 0};

	if (bot_id <= 0)
		return q_err_set(err, Q_E_NOT_FOUND, "bot %lld not found", bot_id);
	if (q_db_tx(db, stop_tx, &s, err) < 0)
		return -1;
	if (!s.found)
		return q_err_set(err, Q_E_NOT_FOUND, "bot %lld not found", bot_id);
	if (was_active)
		*was_active = s.stopped > 0;
	return 0;
}

int
q_bots_stop_all(struct q_db *db, long long user_id, const char *actor, const char *via,
                int *stopped, struct q_err *err)
{
	struct stop s = {user_id, 0, actor, via, 0, 0};

	if (q_db_tx(db, stop_tx, &s, err) < 0)
		return -1;
	*stopped = s.stopped;
	return 0;
}

struct del {
	long long user_id, bot_id;
	const char *actor;
};

static int
delete_tx(struct q_db *db, void *arg, struct q_err *err)
{
	struct del *d = arg;
	struct q_bot b;
	json_t *data;
	int r, rc;

	r = fetch_one(db, sql_one_locked, NULL, d->user_id, d->bot_id, &b, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return q_err_set(err, Q_E_NOT_FOUND, "bot %lld not found", d->bot_id);
	if (strcmp(b.status, "stopped") != 0)
		return q_err_set(err, Q_E_CONFLICT, "bot %lld is %s: stop it before deleting it",
		                 b.id, b.status);
	if (q_db_exec(db, err, "UPDATE bots SET deleted_at = UTC_TIMESTAMP(6) WHERE id = ?", "i",
	              b.id) < 0)
		return -1;
	data = json_pack("{s:I}", "bot_id", (json_int_t)b.id);
	rc = q_audit_append_tx(db, d->actor, d->user_id, "bot.deleted", data, NULL, err);
	json_decref(data);
	return rc;
}

int
q_bots_delete(struct q_db *db, long long user_id, long long bot_id, const char *actor,
              struct q_err *err)
{
	struct del d = {user_id, bot_id, actor};

	if (bot_id <= 0)
		return q_err_set(err, Q_E_NOT_FOUND, "bot %lld not found", bot_id);
	return q_db_tx(db, delete_tx, &d, err);
}

/* ---- counts and P&L ---------------------------------------------------------------------- */

int
q_bots_count_running(struct q_db *db, long long user_id, long long *n, struct q_err *err)
{
	*n = 0;
	return q_db_row(db, err,
	                "SELECT COUNT(*) FROM bots WHERE user_id = ? AND status = 'running' "
	                "AND deleted_at IS NULL",
	                "i>i", user_id, n) < 0
	               ? -1
	               : 0;
}

int
q_bots_pnl_today(struct q_db *db, long long user_id, char pnl[48], char equity_start[48],
                 struct q_err *err)
{
	/* The sums stay DECIMAL in SQL and arrive as exact text; TRIM drops the zero padding. */
	static const char sql[] =
	        "SELECT TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM "
	        "CAST(COALESCE(SUM(realized + unrealized), 0) AS DECIMAL(40,18)))), "
	        "TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM "
	        "CAST(COALESCE(SUM(equity_start), 0) AS DECIMAL(40,18)))) "
	        "FROM daily_pnl WHERE user_id = ? AND day = UTC_DATE()";

	snprintf(pnl, 48, "0");
	snprintf(equity_start, 48, "0");
	if (q_db_row(db, err, sql, "i>ss", user_id, pnl, (size_t)48, equity_start, (size_t)48) < 0)
		return -1;
	if (pnl[0] == '\0' || strcmp(pnl, "-0") == 0)
		snprintf(pnl, 48, "0");
	if (equity_start[0] == '\0')
		snprintf(equity_start, 48, "0");
	return 0;
}
