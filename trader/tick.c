/*
 * One tick: heartbeat -> settings -> market data (once per exchange, symbol and interval) ->
 * regime -> LIVE orders in flight settled -> bots claimed in batches with SKIP LOCKED, each
 * stepped once per newly closed candle -> LIVE intents sent -> cancellations -> daily key check
 * -> outbox drained to Telegram.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "q_audit.h"
#include "q_candles.h"
#include "q_crypto.h"
#include "q_keys.h"
#include "q_log.h"
#include "q_settings.h"
#include "trader.h"

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SHA-256 of this very binary, as the heartbeat reports it. */
static void
self_digest(char out[65])
{
	FILE *f = fopen("/proc/self/exe", "rb");
	struct q_sha256 s;
	uint8_t buf[65536], h[Q_SHA256_LEN];
	size_t n;

	out[0] = '\0';
	if (f == NULL)
		return;
	q_sha256_init(&s);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		q_sha256_update(&s, buf, n);
	fclose(f);
	q_sha256_final(&s, h);
	q_hex_encode(out, h, sizeof(h));
}

int
tr_init(struct trader *t, const char *config, struct q_err *err)
{
	long long fee, slip;
	struct q_err e = {0};

	memset(t, 0, sizeof(*t));
	if (q_ctx_init(&t->ctx, "quantor-trader", config, err) < 0)
		return -1;
	if (q_config_get_int(t->ctx.cfg, "trader", "fee_bps", 10, 0, 1000, &fee, err) < 0 ||
	    q_config_get_int(t->ctx.cfg, "trader", "slippage_bps", 5, 0, 1000, &slip, err) < 0)
		return -1;
	t->fill.fee_bps = (int)fee;
	t->fill.slippage_bps = (int)slip;
	t->db = q_ctx_db(&t->ctx, 0, err);
	if (t->db == NULL)
		return -1;
	/* LIVE needs the vault's private key; PAPER runs without it. */
	if (q_vault_load_private(&t->vault, t->ctx.cfg, &e) == 0)
		t->have_vault = 1;
	else
		q_log_warn("trader.vault", "LIVE bots cannot trade: %s", e.msg);
	q_err_clear(&e);
	if (q_tg_api_load(&t->tg, t->ctx.cfg, &e) == 0) {
		t->have_tg = 1;
		t->tg_http = q_http_new();
	}
	q_err_clear(&e);
	if (q_audit_conf_load(&t->audit, t->ctx.cfg, 1, &e) == 0 && t->audit.have_sk)
		t->have_audit = 1;
	else
		q_log_warn("trader.audit", "no audit checkpoints will be signed: %s",
		           e.msg[0] ? e.msg : "no checkpoint_key_file");
	if (gethostname(t->host, sizeof(t->host) - 1) < 0)
		snprintf(t->host, sizeof(t->host), "localhost");
	self_digest(t->digest);
	return 0;
}

void
tr_release(struct trader *t)
{
	for (size_t i = 0; i < sizeof(t->pub) / sizeof(t->pub[0]); i++)
		q_exchange_free(t->pub[i]);
	if (t->have_vault)
		q_vault_release(&t->vault);
	if (t->have_tg)
		q_tg_api_release(&t->tg);
	if (t->have_audit)
		q_audit_conf_release(&t->audit);
	q_http_free(t->tg_http);
	q_arena_destroy(t->a);
	q_ctx_release(&t->ctx);
}

struct q_exchange *
tr_public(struct trader *t, const char *exchange, struct q_err *err)
{
	for (size_t i = 0; q_exchange_venue(i) != NULL; i++) {
		if (strcmp(q_exchange_venue(i)->name, exchange) != 0)
			continue;
		if (t->pub[i] == NULL)
			t->pub[i] = q_exchange_new(exchange, t->ctx.cfg, err);
		return t->pub[i];
	}
	q_err_set(err, Q_E_BAD_REQUEST, "unknown exchange %s", exchange);
	return NULL;
}

struct tr_market *
tr_market(struct trader *t, const char *exchange, const char *symbol, const char *interval)
{
	for (size_t i = 0; i < t->nmarkets; i++) {
		struct tr_market *m = &t->markets[i];

		if (!strcmp(m->exchange, exchange) && !strcmp(m->symbol, symbol) &&
		    !strcmp(m->interval, interval))
			return m;
	}
	return NULL;
}

struct q_dec
tr_dec(double v, int places)
{
	struct q_dec d = q_dec_from_int(0);
	long long p10 = 1;

	if (!isfinite(v) || places < 0 || places > 12 || fabs(v) > 9e6)
		return d;
	for (int i = 0; i < places; i++)
		p10 *= 10;
	q_dec_div(&d, q_dec_from_int(llround(v * (double)p10)), q_dec_from_int(p10), Q_DEC_DOWN,
	          NULL);
	return d;
}

/* --- phases -------------------------------------------------------------------------------- */

/* Bots halted for the day's loss limit run again once the next UTC day has begun. */
static int
resume_next_day(struct trader *t, struct q_err *err)
{
	long long n = q_db_exec(t->db, err,
	                        "UPDATE bots SET status = 'running', halt_reason = NULL, "
	                        "halted_until = NULL WHERE status = 'halted' AND halt_reason = "
	                        "'DAILY_LOSS_LIMIT' AND halted_until <= UTC_TIMESTAMP(6) AND "
	                        "deleted_at IS NULL",
	                        "");
	json_t *data;
	int rc;

	if (n <= 0)
		return n < 0 ? -1 : 0;
	data = json_pack("{s:I, s:s}", "bots", (json_int_t)n, "reason", "a new UTC day");
	rc = q_audit_append(t->db, "system:trader", 0, "bots.resumed", data, NULL, err);
	json_decref(data);
	return rc;
}

static int
heartbeat(struct trader *t, struct q_err *err)
{
	return q_db_exec(t->db, err,
	                 "INSERT INTO heartbeats (service, host, pid, binary_digest, at) VALUES "
	                 "('worker', ?, ?, ?, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE pid = "
	                 "VALUES(pid), binary_digest = VALUES(binary_digest), at = VALUES(at)",
	                 "sis", t->host, (long long)getpid(), t->digest[0] ? t->digest : NULL) < 0
	               ? -1
	               : 0;
}

/* The markets the running bots trade, each fetched once whatever the number of its bots. */
static int
load_markets(struct trader *t, struct q_err *err)
{
	struct q_stmt *st =
	        q_db_prepare(t->db,
	                     "SELECT DISTINCT exchange, symbol, candle_interval FROM bots "
	                     "WHERE status = 'running' AND deleted_at IS NULL",
	                     err);
	int r, rc = -1;

	t->nmarkets = 0;
	if (st == NULL)
		return -1;
	if (q_stmt_exec(st, err) < 0)
		goto out;
	while ((r = q_stmt_fetch(st, err)) == 1 && t->nmarkets < TR_MAX_MARKETS) {
		struct tr_market *m = &t->markets[t->nmarkets];

		memset(m, 0, sizeof(*m));
		if (q_stmt_col_copy(st, 0, m->exchange, sizeof(m->exchange), err) < 0 ||
		    q_stmt_col_copy(st, 1, m->symbol, sizeof(m->symbol), err) < 0 ||
		    q_stmt_col_copy(st, 2, m->interval, sizeof(m->interval), err) < 0)
			goto out;
		t->nmarkets++;
	}
	if (r < 0)
		goto out;
	rc = 0;
out:
	q_stmt_done(st);
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < t->nmarkets; i++) {
		struct tr_market *m = &t->markets[i];
		struct q_exchange *ex = tr_public(t, m->exchange, err);
		struct q_err e = {0};

		if (ex == NULL)
			return -1;
		m->interval_ms = q_candles_interval_ms(m->interval);
		if (m->interval_ms <= 0 ||
		    q_candles_sync(t->db, ex, m->exchange, m->symbol, m->interval, TR_HISTORY, t->a,
		                   &m->bars, &m->n, &e) < 0 ||
		    q_exchange_symbol_rules(ex, &m->rules, m->symbol, &e) < 0) {
			q_log_warn("tick.market", "exchange=%s symbol=%s interval=%s error=%s",
			           m->exchange, m->symbol, m->interval, e.msg);
			t->st.errors++;
			continue;
		}
		m->ok = m->n > 0;
		t->st.markets++;
	}
	return 0;
}

static int
update_regime(struct trader *t, struct q_err *err)
{
	struct q_regime_cfg rc;
	struct q_exchange *ex;
	struct q_bar *bars = NULL;
	size_t n = 0;
	struct q_err e = {0};

	if (q_regime_config(&rc, t->ctx.cfg, err) < 0 ||
	    (ex = tr_public(t, rc.exchange, err)) == NULL)
		return -1;
	/* A venue that cannot be read leaves the data to go stale: UNKNOWN, fail closed. */
	if (q_candles_sync(t->db, ex, rc.exchange, rc.symbol, "1h", q_regime_bars_needed(&rc), t->a,
	                   &bars, &n, &e) < 0)
		q_log_warn("tick.regime", "symbol=%s error=%s", rc.symbol, e.msg);
	return q_regime_update(t->db, &rc, bars, n, t->now_ms, &t->regime, err);
}

/* Claim up to TR_BATCH running bots with id > after, skipping those another trader holds. */
static int
claim(struct trader *t, long long after, struct tr_bot *bots, size_t *n, struct q_err *err)
{
	static const char sql[] =
	        "SELECT id, user_id, COALESCE(exchange_key_id, 0), exchange, strategy, symbol, "
	        "candle_interval, mode, params, notional, COALESCE(state, '{}'), "
	        "COALESCE(last_candle_open_time, '1970-01-01 00:00:00') FROM bots FORCE INDEX "
	        "(PRIMARY) WHERE id > ? AND status = 'running' AND deleted_at IS NULL ORDER BY id "
	        "LIMIT ? FOR UPDATE SKIP LOCKED";
	struct q_stmt *st = q_db_prepare(t->db, sql, err);
	int r, rc = -1;

	*n = 0;
	if (st == NULL)
		return -1;
	q_stmt_bind_int64(st, 0, after);
	q_stmt_bind_int64(st, 1, TR_BATCH);
	if (q_stmt_exec(st, err) < 0)
		goto out;
	while ((r = q_stmt_fetch(st, err)) == 1) {
		struct tr_bot *b = &bots[*n];
		struct tr_slot *slot = b->slot;

		(*n)++;
		memset(b, 0, sizeof(*b));
		b->slot = slot;
		b->id = q_stmt_col_int64(st, 0);
		b->user_id = q_stmt_col_int64(st, 1);
		b->key_id = q_stmt_col_int64(st, 2);
		if (q_stmt_col_copy(st, 3, b->exchange, sizeof(b->exchange), err) < 0 ||
		    q_stmt_col_copy(st, 4, b->strategy, sizeof(b->strategy), err) < 0 ||
		    q_stmt_col_copy(st, 5, b->symbol, sizeof(b->symbol), err) < 0 ||
		    q_stmt_col_copy(st, 6, b->interval, sizeof(b->interval), err) < 0 ||
		    q_stmt_col_copy(st, 7, b->mode, sizeof(b->mode), err) < 0 ||
		    q_stmt_col_copy(st, 9, b->notional, sizeof(b->notional), err) < 0)
			goto out;
		b->params = q_stmt_col_strdup(st, 8, t->a, NULL);
		b->state = q_stmt_col_strdup(st, 10, t->a, NULL);
		b->last_open_ms = q_stmt_col_time_us(st, 11) / 1000;
	}
	if (r < 0)
		goto out;
	rc = 0;
out:
	q_stmt_done(st);
	return rc;
}

int
tr_halt(struct trader *t, long long bot_id, long long user_id, const char *mode, const char *reason,
        struct q_err *err)
{
	json_t *data = json_pack("{s:I, s:s, s:s}", "bot_id", (json_int_t)bot_id, "reason", reason,
	                         "mode", mode);
	int rc;

	rc = q_db_exec(t->db, err,
	               "UPDATE bots SET status = 'halted', halt_reason = ? WHERE id = ?", "si",
	               reason, bot_id) < 0
	             ? -1
	             : q_audit_append_tx(t->db, "system:trader", user_id, "bot.halted", data, NULL,
	                                 err);
	json_decref(data);
	t->st.halted++;
	return rc;
}

/*
 * One bot on its market's newest closed candle, inside the batch transaction: never twice on the
 * same candle (last_candle_open_time), state saved with the decision.
 */
static int
step_bot(struct trader *t, const struct tr_bot *b, long long *intent, struct q_err *err)
{
	const struct tr_market *m = tr_market(t, b->exchange, b->symbol, b->interval);
	const struct q_strategy *s = q_strategy_lookup(b->strategy);
	struct q_strategy_config cfg;
	json_t *params = NULL, *state = NULL;
	const char *halt_reason = NULL;
	long long newest;
	double target = 0;
	char *stext = NULL;
	struct q_err e = {0};
	int live = strcmp(b->mode, "PAPER") != 0, rc = -1;

	*intent = 0;
	t->st.bots_seen++;
	if (m == NULL || !m->ok)
		return 0; /* no data this tick: try again next tick */
	newest = m->bars[m->n - 1].open_ms;
	if (newest <= b->last_open_ms)
		return 0; /* this candle was already decided on */
	memset(&cfg, 0, sizeof(cfg));
	params = json_loads(b->params ? b->params : "{}", 0, NULL);
	state = json_loads(b->state ? b->state : "{}", 0, NULL);
	if (s == NULL || !json_is_object(state) ||
	    q_strategy_config_init(&cfg, s, params, NULL, &e) < 0 ||
	    s->step(&cfg, m->bars, m->n, state, &target, &e) < 0) {
		/* A bot whose strategy cannot run halts, loudly, instead of trading blind. */
		q_log_error("tick.strategy", "bot=%lld strategy=%s error=%s", b->id, b->strategy,
		            e.msg[0] ? e.msg : "unknown strategy or broken state");
		rc = tr_halt(t, b->id, b->user_id, b->mode, "STRATEGY_ERROR", err);
		goto out;
	}
	if (target < 0 || target > 1 || !isfinite(target))
		target = 0;
	if (!live) {
		if (tr_paper_step(t, b, m, target, err) < 0)
			goto out;
	} else if (tr_live_decide(t, b, m, target, intent, &halt_reason, err) < 0 ||
	           tr_mark(b, m, err) < 0) {
		goto out;
	}
	/* The state and the candle are written with the batch (tr_batch_flush). */
	stext = json_dumps(state, JSON_COMPACT);
	b->slot->state = q_arena_strdup(t->a, stext ? stext : "{}");
	b->slot->newest_ms = newest;
	b->slot->stepped = 1;
	if (halt_reason && tr_halt(t, b->id, b->user_id, b->mode, halt_reason, err) < 0)
		goto out;
	t->st.bots_stepped++;
	rc = 0;
out:
	free(stext);
	json_decref(params);
	json_decref(state);
	q_strategy_config_release(&cfg);
	return rc;
}

struct batch {
	struct trader *t;
	long long after;
	size_t claimed;
	long long intents[TR_BATCH];
	size_t nintents;
	struct tr_bot bots[TR_BATCH];
	struct tr_slot slots[TR_BATCH];
};

static int
batch_tx(struct q_db *db, void *arg, struct q_err *err)
{
	struct batch *bt = arg;
	size_t n;

	(void)db;
	bt->nintents = 0;
	for (size_t i = 0; i < TR_BATCH; i++)
		bt->bots[i].slot = &bt->slots[i];
	if (claim(bt->t, bt->after, bt->bots, &n, err) < 0 ||
	    tr_batch_load(bt->t, bt->bots, n, err) < 0)
		return -1;
	bt->claimed = n;
	for (size_t i = 0; i < n; i++) {
		long long intent = 0;

		if (step_bot(bt->t, &bt->bots[i], &intent, err) < 0)
			return -1;
		if (intent)
			bt->intents[bt->nintents++] = intent;
	}
	return tr_batch_flush(bt->t, bt->bots, n, err);
}

static int
run_bots(struct trader *t, struct q_err *err)
{
	struct batch *bt = q_arena_zalloc(t->a, sizeof(*bt));

	bt->t = t;
	for (;;) {
		if (q_db_tx(t->db, batch_tx, bt, err) < 0)
			return -1;
		/* Intents are committed: only now may they go to the venue. */
		if (bt->nintents && tr_live_send(t, bt->intents, bt->nintents, err) < 0)
			return -1;
		if (bt->claimed < TR_BATCH)
			return 0;
		bt->after = bt->bots[bt->claimed - 1].id;
	}
}

/* Every [audit] checkpoint_interval, a signed checkpoint of the chain's head (DESIGN section 9). */
static void
checkpoint(struct trader *t)
{
	struct q_audit_checkpoint cp;
	struct q_buf note = Q_BUF_INIT;
	struct q_err e = {0};
	int r;

	if (!t->have_audit || t->audit.checkpoint_interval <= 0)
		return;
	r = q_audit_checkpoint_latest(t->db, t->a, &cp, &e);
	if (r < 0 || (r == 1 && t->now_ms * 1000 - cp.signed_at_us <
	                                t->audit.checkpoint_interval * 1000000LL))
		goto out;
	if (q_audit_checkpoint_sign(t->db, &t->audit, "system:trader", &note, &cp, &e) == 0)
		q_log_info("audit.checkpoint", "size=%llu hash=%s", cp.size, cp.hash);
out:
	if (e.code != Q_OK)
		q_log_warn("audit.checkpoint", "error=%s", e.msg);
	q_buf_release(&note);
}

static void
drain_outbox(struct trader *t)
{
	struct q_outbox_stats os = {0};
	struct q_err e = {0};

	if (!t->have_tg)
		return;
	if (q_outbox_drain(t->db, t->tg_http, &t->tg, 100, &os, &e) < 0)
		q_log_warn("tick.outbox", "error=%s", e.msg);
}

int
tr_tick(struct trader *t, struct q_err *err)
{
	struct timespec t0, t1;
	struct q_err e = {0};
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	q_arena_destroy(t->a);
	t->a = q_arena_new();
	memset(&t->st, 0, sizeof(t->st));
	t->now_ms = now_ms();
	if (heartbeat(t, err) < 0 || q_settings_live_enabled(t->db, &t->live_on, err) < 0 ||
	    resume_next_day(t, err) < 0)
		return -1;
	if (load_markets(t, err) < 0)
		return -1;
	if (update_regime(t, &e) < 0) {
		/* Without a regime, LIVE fails closed: UNKNOWN means no new entries. */
		q_log_warn("tick.regime", "error=%s", e.msg);
		snprintf(t->regime.regime, sizeof(t->regime.regime), "UNKNOWN");
		q_err_clear(&e);
	}
	if (tr_live_settle(t, err) < 0 || run_bots(t, err) < 0 || tr_live_cancel(t, err) < 0)
		return -1;
	if (tr_keys_daily(t, &e) < 0)
		q_log_warn("tick.keys", "error=%s", e.msg);
	checkpoint(t);
	drain_outbox(t);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	q_log_info("tick.done",
	           "ms=%.0f markets=%d bots=%d stepped=%d paper_fills=%d live_orders=%d "
	           "settled=%d halted=%d errors=%d regime=%s live=%d",
	           ms, t->st.markets, t->st.bots_seen, t->st.bots_stepped, t->st.paper_fills,
	           t->st.live_orders, t->st.live_settled, t->st.halted, t->st.errors,
	           t->regime.regime[0] ? t->regime.regime : "UNKNOWN", t->live_on);
	return 0;
}
