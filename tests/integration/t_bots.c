/*
 * Bots, the risk gates, the kill switch and the LIVE allowlist through the real stack: every
 * gate refused over HTTP with its status, code and gate number, in DESIGN's order; the settings
 * changed through the admin API and quantorctl and seen on the very next request; plans and
 * status as the public sees them. Telegram ids 54001xx (and 54999xx, never signed in) are this
 * file's (t_audit.c has 5400001 and 5400002).
 *
 * The market regime is pinned by inserting regime_snapshots rows dated a day ahead (the newest
 * row wins, so a trader ticking in the same stack cannot override them mid-test); the suite's
 * fini deletes them.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"
#include "q_db.h"

static json_t *accounts;

static long long
count2(const char *sql, long long a, long long b)
{
	struct q_err err = {0};
	long long n = -1;

	cr_assert_eq(q_db_row(it_db(), &err, sql, "ii>i", a, b, &n), 1, "%s: %s", sql, err.msg);
	return n;
}

/* The audit chain's head seq: events after it are this test's. */
static long long
audit_seq(void)
{
	return it_count("SELECT COALESCE(MAX(seq), 0) FROM audit_log WHERE seq > ?", -1);
}

/* Run one statement with the q_db_exec types and arguments; fails the test on an error. */
static void
sql(const char *stmt, const char *types, ...)
{
	struct q_err err = {0};
	long long r;
	va_list ap;

	va_start(ap, types);
	/* q_db_exec has no va_list form: forward the few shapes used here. */
	if (strcmp(types, "") == 0)
		r = q_db_exec(it_db(), &err, stmt, "");
	else if (strcmp(types, "i") == 0)
		r = q_db_exec(it_db(), &err, stmt, "i", va_arg(ap, long long));
	else if (strcmp(types, "ii") == 0) {
		long long a = va_arg(ap, long long);

		r = q_db_exec(it_db(), &err, stmt, "ii", a, va_arg(ap, long long));
	} else if (strcmp(types, "si") == 0) {
		const char *a = va_arg(ap, const char *);

		r = q_db_exec(it_db(), &err, stmt, "si", a, va_arg(ap, long long));
	} else if (strcmp(types, "is") == 0) {
		long long a = va_arg(ap, long long);

		r = q_db_exec(it_db(), &err, stmt, "is", a, va_arg(ap, const char *));
	} else if (strcmp(types, "s") == 0) {
		r = q_db_exec(it_db(), &err, stmt, "s", va_arg(ap, const char *));
	} else {
		cr_assert_fail("sql(): add types %s", types);
		r = -1;
	}
	va_end(ap);
	cr_assert_geq(r, 0, "%s: %s", stmt, err.msg);
}

static long long
admin(void)
{
	return strtoll(it_env("QUANTOR_ADMIN_TG_ID"), NULL, 10);
}

static int ctl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* quantorctl with the stack's config; its output goes to $QUANTOR_VAR/t_bots.ctl.out. */
static int
ctl(const char *fmt, ...)
{
	char args[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return it_sh("QUANTOR_CONFIG='%s' '%s/quantorctl' %s >'%s/t_bots.ctl.out' 2>&1",
	             it_env("QUANTOR_CONFIG"), it_build_dir(), args, it_env("QUANTOR_VAR"));
}

/* What the last ctl() printed. */
static void
ctl_out(char *out, size_t len)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/t_bots.ctl.out", it_env("QUANTOR_VAR"));
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
}

/* ---- the market regime and the kill switch ------------------------------------------------ */

static void
clear_regime(void)
{
	sql("DELETE FROM regime_snapshots WHERE computed_at > UTC_TIMESTAMP(6) + INTERVAL 1 HOUR",
	    "");
}

/* The regime the gates will read: the newest snapshot of [regime] symbol (BTCUSDT). */
static void
set_regime(const char *regime, long long stale)
{
	clear_regime();
	sql("INSERT INTO regime_snapshots (symbol, regime, realized_vol, drawdown, computed_at, "
	    "stale) VALUES ('BTCUSDT', ?, 0.5, 0.05, UTC_TIMESTAMP(6) + INTERVAL 1 DAY, ?)",
	    "si", regime, stale);
}

static void
live(int on)
{
	struct it_resp r;

	it_as_user(&r, "POST", "/api/v1/admin/live", admin(),
	           on ? "{\"enabled\":true,\"reason\":\"t_bots: LIVE on\"}"
	              : "{\"enabled\":false,\"reason\":\"t_bots: LIVE off\"}");
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	it_release(&r);
}

/* ---- users, keys and bots ----------------------------------------------------------------- */

static json_t *
account(const char *venue, const char *kind)
{
	json_t *a;
	size_t i;

	json_array_foreach(accounts, i, a)
	{
		if (strcmp(json_string_value(json_object_get(a, "exchange")), venue) == 0 &&
		    strcmp(json_string_value(json_object_get(a, "name")), kind) == 0)
			return a;
	}
	cr_assert_fail("no %s key for %s", kind, venue);
	return NULL;
}

/* Save quantor-sim's Binance trade-only key for tg: verified by the venue. Its id. */
static long long
save_key(long long tg)
{
	json_t *a = account("binance", "trade");
	json_t *b = json_pack("{s:s, s:s, s:s}", "exchange", "binance", "api_key",
	                      json_string_value(json_object_get(a, "api_key")), "api_secret",
	                      json_string_value(json_object_get(a, "api_secret")));
	char *body = json_dumps(b, JSON_COMPACT);
	struct it_resp r;
	long long id;

	it_as_user(&r, "POST", "/api/v1/exchange-keys", tg, body);
	cr_assert_eq(r.status, 201, "%s", r.raw.body.data);
	id = json_integer_value(json_object_get(json_object_get(r.json, "key"), "id"));
	cr_assert_gt(id, 0);
	it_release(&r);
	free(body);
	json_decref(b);
	return id;
}

struct who {
	long long tg, uid, key;
};

/* Sign tg in (creating the user) and give it plan, with an active subscription if paid. */
static void
sign_in(struct who *w, long long tg, const char *plan)
{
	struct it_resp r;

	memset(w, 0, sizeof(*w));
	w->tg = tg;
	it_as_user(&r, "GET", "/api/v1/me", tg, NULL);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	it_release(&r);
	w->uid = it_user_id(tg);
	/* A rerun against the same stack starts from a clean account too. */
	sql("UPDATE bots SET status = 'stopped', deleted_at = UTC_TIMESTAMP(6) WHERE user_id = ? "
	    "AND deleted_at IS NULL",
	    "i", w->uid);
	sql("DELETE FROM daily_pnl WHERE user_id = ?", "i", w->uid);
	sql("DELETE FROM subscriptions WHERE user_id = ?", "i", w->uid);
	sql("UPDATE users SET frozen = 0, chat_id = NULL WHERE id = ?", "i", w->uid);
	sql("UPDATE users SET plan = ? WHERE id = ?", "si", plan, w->uid);
	if (strcmp(plan, "FREE") != 0)
		sql("INSERT INTO subscriptions (user_id, plan, provider, status, current_period_end) "
		    "VALUES (?, ?, 'manual', 'active', UTC_TIMESTAMP(6) + INTERVAL 30 DAY)",
		    "is", w->uid, plan);
}

/* Everything a LIVE start needs: plan, bot chat, allowlist, a verified key. */
static void
ready(struct who *w, long long tg, const char *plan)
{
	sign_in(w, tg, plan);
	sql("UPDATE users SET chat_id = telegram_id WHERE id = ?", "i", w->uid);
	cr_assert_eq(ctl("allowlist add %lld --reason 't_bots: ready for LIVE'", w->uid), 0);
	w->key = save_key(tg);
}

/* POST /api/v1/bots with body; the new bot's id, asserting 201. */
static long long
create(long long tg, const char *body)
{
	struct it_resp r;
	long long id;

	it_as_user(&r, "POST", "/api/v1/bots", tg, body);
	cr_assert_eq(r.status, 201, "%s -> %s", body, r.raw.body.data);
	id = json_integer_value(json_object_get(json_object_get(r.json, "bot"), "id"));
	cr_assert_gt(id, 0);
	cr_assert_str_eq(
	        json_string_value(json_object_get(json_object_get(r.json, "bot"), "status")),
	        "stopped");
	it_release(&r);
	return id;
}

static long long
create_live(const struct who *w, const char *mode, const char *strategy, const char *notional)
{
	char body[512];

	snprintf(body, sizeof(body),
	         "{\"strategy\":\"%s\",\"symbol\":\"BTCUSDT\",\"interval\":\"1h\",\"mode\":\"%s\","
	         "\"notional\":\"%s\",\"exchange_key_id\":%lld}",
	         strategy, mode, notional, w->key);
	return create(w->tg, body);
}

static void
bot_route(struct it_resp *r, const char *method, long long tg, long long id, const char *what)
{
	char path[96];

	snprintf(path, sizeof(path), "/api/v1/bots/%lld%s", id, what);
	it_as_user(r, method, path, tg, NULL);
}

static long long nrefused; /* refusals seen by this test process */

/* Start and expect the policy refusal of that gate, in the one error shape. */
static void
refused(long long tg, long long id, const char *code, int gate)
{
	struct it_resp r;
	json_t *e;

	nrefused++;
	bot_route(&r, "POST", tg, id, "/start");
	it_assert_error(&r, 403, code);
	e = json_object_get(r.json, "error");
	cr_assert_str_eq(json_string_value(json_object_get(e, "kind")), "policy", "%s",
	                 r.raw.body.data);
	cr_assert_eq(json_integer_value(json_object_get(e, "gate")), gate, "%s", r.raw.body.data);
	cr_assert_null(json_object_get(e, "field"));
	it_release(&r);
}

static void
started(long long tg, long long id)
{
	struct it_resp r;

	bot_route(&r, "POST", tg, id, "/start");
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	cr_assert_str_eq(
	        json_string_value(json_object_get(json_object_get(r.json, "bot"), "status")),
	        "running", "%s", r.raw.body.data);
	cr_assert_not(json_is_null(json_object_get(json_object_get(r.json, "bot"), "started_at")));
	it_release(&r);
}

static void
stop(long long tg, long long id)
{
	struct it_resp r;

	bot_route(&r, "POST", tg, id, "/stop");
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	it_release(&r);
}

/* The data of the user's newest audit event of type. */
static json_t *
last_event(long long uid, const char *type)
{
	struct q_err err = {0};
	struct q_buf p = Q_BUF_INIT;
	json_t *j, *data;

	cr_assert_eq(q_db_row(it_db(), &err,
	                      "SELECT payload FROM audit_log WHERE user_id = ? AND type = ? "
	                      "ORDER BY seq DESC LIMIT 1",
	                      "is>b", uid, type, &p),
	             1, "no %s event: %s", type, err.msg);
	j = json_loadb(p.data, p.len, 0, NULL);
	cr_assert_not_null(j);
	data = json_incref(json_object_get(j, "data"));
	json_decref(j);
	q_buf_release(&p);
	return data;
}

static void
setup(void)
{
	json_error_t je;

	accounts = json_load_file(it_env("QUANTOR_SIM_ACCOUNTS"), 0, &je);
	cr_assert(json_is_array(accounts), "%s", je.text);
}

static void
teardown(void)
{
	clear_regime();
	json_decref(accounts);
}

TestSuite(bots, .init = setup, .fini = teardown, .timeout = 120);

/* ---- the chain ---------------------------------------------------------------------------- */

Test(bots, the_whole_chain_in_order_reports_the_first_refusal_each_time)
{
	struct who w;
	long long id, extra[10], uid, refusals0 = nrefused, seq0 = audit_seq();
	struct q_buf perms = Q_BUF_INIT;
	struct q_err err = {0};
	json_t *d;
	char body[256];

	ready(&w, 5400101, "PRO");
	uid = w.uid;
	/* STARTER's subscription too, for the steps that move the user to STARTER. */
	sql("INSERT INTO subscriptions (user_id, plan, provider, status, current_period_end) "
	    "VALUES (?, 'STARTER', 'manual', 'active', UTC_TIMESTAMP(6) + INTERVAL 30 DAY)",
	    "i", uid);
	id = create_live(&w, "LIVE", "EMA", "5000");

	/* Break every gate at once. */
	sql("UPDATE bots SET symbol = 'DOGEUSDT', notional = 0, strategy = 'BREAKOUT_V1' "
	    "WHERE id = ?",
	    "i", id);
	set_regime("DANGEROUS", 0);
	live(0);
	cr_assert_eq(ctl("allowlist remove %lld --reason 't_bots: chain'", uid), 0);
	sql("UPDATE subscriptions SET current_period_end = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND "
	    "WHERE user_id = ? AND plan = 'PRO'",
	    "i", uid);
	sql("UPDATE users SET frozen = 1, chat_id = NULL WHERE id = ?", "i", uid);
	for (int i = 0; i < 10; i++) {
		snprintf(body, sizeof(body),
		         "{\"strategy\":\"EMA\",\"symbol\":\"ETHUSDT\",\"interval\":\"5m\","
		         "\"notional\":\"10\"}");
		extra[i] = create(w.tg, body);
		sql("UPDATE bots SET status = ? WHERE id = ?", "si", i ? "running" : "halted",
		    extra[i]);
	}
	cr_assert_eq(q_db_row(it_db(), &err, "SELECT permissions FROM exchange_keys WHERE id = ?",
	                      "i>b", w.key, &perms),
	             1, "%s", err.msg);
	sql("UPDATE exchange_keys SET verified = 0 WHERE id = ?", "i", w.key);
	sql("INSERT INTO daily_pnl (bot_id, day, user_id, realized, unrealized, equity_start) "
	    "VALUES (?, UTC_DATE(), ?, -500, 0, 10000)",
	    "ii", id, uid);

	/* Fix them one by one: each start reports the first gate still failing. */
	refused(w.tg, id, "SYMBOL_NOT_ALLOWED", 1);
	sql("UPDATE bots SET symbol = 'BTCUSDT' WHERE id = ?", "i", id);
	refused(w.tg, id, "REGIME_DANGEROUS", 2);
	set_regime("CALM", 0);
	refused(w.tg, id, "LIVE_DISABLED", 3);
	live(1);
	refused(w.tg, id, "USER_NOT_ALLOWLISTED", 4);
	cr_assert_eq(ctl("allowlist add %lld --reason 't_bots: chain'", uid), 0);
	refused(w.tg, id, "ZERO_NOTIONAL", 5);
	sql("UPDATE bots SET notional = '5000.000000000000000001' WHERE id = ?", "i", id);
	refused(w.tg, id, "SUBSCRIPTION_INACTIVE", 6);
	sql("UPDATE subscriptions SET current_period_end = UTC_TIMESTAMP(6) + INTERVAL 30 DAY "
	    "WHERE user_id = ? AND plan = 'PRO'",
	    "i", uid);
	refused(w.tg, id, "ACCOUNT_FROZEN", 7);
	sql("UPDATE users SET frozen = 0 WHERE id = ?", "i", uid);
	/* Nine running and one halted: PRO's ten. */
	refused(w.tg, id, "BOT_LIMIT_REACHED", 7);
	sql("UPDATE bots SET status = 'stopped' WHERE id = ?", "i", extra[1]);
	sql("UPDATE users SET plan = 'FREE' WHERE id = ?", "i", uid);
	/* FREE (no subscription needed): its own limit of one running bot comes first. */
	refused(w.tg, id, "BOT_LIMIT_REACHED", 7);
	for (int i = 0; i < 10; i++)
		sql("UPDATE bots SET status = 'stopped' WHERE id = ?", "i", extra[i]);
	refused(w.tg, id, "PLAN_NO_LIVE", 8);
	sql("UPDATE users SET plan = 'STARTER' WHERE id = ?", "i", uid);
	refused(w.tg, id, "PLAN_NO_LIVE", 8); /* STARTER: EMA only */
	sql("UPDATE bots SET strategy = 'EMA', mode = 'LIVE_ADVANCED' WHERE id = ?", "i", id);
	refused(w.tg, id, "ADVANCED_NOT_ALLOWED", 9);
	sql("UPDATE users SET plan = 'PRO' WHERE id = ?", "i", uid);
	sql("UPDATE bots SET strategy = 'BREAKOUT_V1', mode = 'LIVE' WHERE id = ?", "i", id);
	refused(w.tg, id, "TELEGRAM_NOT_LINKED", 10);
	sql("UPDATE users SET chat_id = telegram_id WHERE id = ?", "i", uid);
	refused(w.tg, id, "STRATEGY_NOT_PERMITTED", 11);
	sql("UPDATE bots SET strategy = 'EMA' WHERE id = ?", "i", id);
	refused(w.tg, id, "KEYS_NOT_VERIFIED", 12);
	sql("UPDATE exchange_keys SET verified = 1, permissions = "
	    "'[\"enableReading\",\"enableSpotAndMarginTrading\",\"enableWithdrawals\"]' "
	    "WHERE id = ?",
	    "i", w.key);
	refused(w.tg, id, "KEYS_NOT_VERIFIED", 12); /* verified, but can withdraw */
	sql("UPDATE exchange_keys SET permissions = ? WHERE id = ?", "si", perms.data, w.key);
	refused(w.tg, id, "MAX_NOTIONAL_EXCEEDED", 13);
	sql("UPDATE bots SET notional = 5000 WHERE id = ?", "i", id); /* exactly the cap */
	/* Only this bot's day counts below (a trader in the stack may have marked the others). */
	sql("DELETE FROM daily_pnl WHERE user_id = ? AND bot_id <> ?", "ii", uid, id);
	refused(w.tg, id, "DAILY_LOSS_LIMIT", 14); /* 500 of 10000: exactly 5 % */
	sql("UPDATE daily_pnl SET realized = '-499.99' WHERE bot_id = ?", "i", id);
	started(w.tg, id);

	/* Each refusal is in the audit chain with its code and gate; the start too. */
	cr_assert_eq(count2("SELECT COUNT(*) FROM audit_log WHERE type = 'bot.refused' AND "
	                    "user_id = ? AND seq > ?",
	                    uid, seq0),
	             nrefused - refusals0);
	cr_assert_eq(count2("SELECT COUNT(*) FROM audit_log WHERE type = 'bot.started' AND "
	                    "user_id = ? AND seq > ?",
	                    uid, seq0),
	             1);
	d = last_event(uid, "bot.started");
	cr_assert_eq(json_integer_value(json_object_get(d, "bot_id")), id);
	cr_assert_str_eq(json_string_value(json_object_get(d, "notional")), "5000");
	json_decref(d);
	{
		/* The newest refusal: DAILY_LOSS_LIMIT at gate 14. */
		struct q_buf p = Q_BUF_INIT;

		cr_assert_eq(q_db_row(it_db(), &err,
		                      "SELECT payload FROM audit_log WHERE user_id = ? AND type = "
		                      "'bot.refused' ORDER BY seq DESC LIMIT 1",
		                      "i>b", uid, &p),
		             1);
		cr_assert(strstr(p.data, "\"code\":\"DAILY_LOSS_LIMIT\",\"gate\":14") != NULL, "%s",
		          p.data);
		q_buf_release(&p);
	}
	stop(w.tg, id);
	q_buf_release(&perms);
}

/* ---- the regime, PAPER and the kill switch ------------------------------------------------ */

Test(bots, paper_starts_in_a_dangerous_regime_with_live_off)
{
	struct who w;
	long long id;

	sign_in(&w, 5400102, "FREE");
	id = create(w.tg, "{\"strategy\":\"EMA\",\"symbol\":\"BTCUSDT\",\"interval\":\"15m\","
	                  "\"mode\":\"PAPER\",\"notional\":\"1000\"}");
	set_regime("DANGEROUS", 0);
	live(0);
	/* Not allowlisted, no key, no bot chat, a notional above any cap: PAPER starts. */
	started(w.tg, id);
	stop(w.tg, id);
	/* Gate 1 still holds for PAPER. */
	sql("UPDATE bots SET symbol = 'DOGEUSDT' WHERE id = ?", "i", id);
	refused(w.tg, id, "SYMBOL_NOT_ALLOWED", 1);
}

Test(bots, live_is_refused_in_a_dangerous_or_unknown_regime)
{
	struct who w;
	long long id;

	ready(&w, 5400103, "PRO");
	live(1);
	id = create_live(&w, "LIVE", "EMA", "100");
	set_regime("DANGEROUS", 0);
	refused(w.tg, id, "REGIME_DANGEROUS", 2);
	set_regime("UNKNOWN", 0);
	refused(w.tg, id, "REGIME_DANGEROUS", 2);
	set_regime("CALM", 1); /* stale data is UNKNOWN, whatever it said */
	refused(w.tg, id, "REGIME_DANGEROUS", 2);
	set_regime("VOLATILE", 0);
	started(w.tg, id);
	stop(w.tg, id);
}

Test(bots, a_kill_switch_flip_is_seen_on_the_very_next_request)
{
	struct who w;
	struct it_resp r;
	struct q_err err = {0};
	char by[160] = "", why[600] = "", out[1024];
	long long id, flips0;

	ready(&w, 5400104, "PRO");
	set_regime("NORMAL", 0);
	id = create_live(&w, "LIVE", "EMA", "100");
	flips0 = it_count("SELECT COUNT(*) FROM audit_log WHERE type = 'killswitch.flipped' AND "
	                  "seq > ?",
	                  0);

	live(1);
	it_request(&r, "GET", "/api/v1/status", NULL, 0, NULL);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	cr_assert(json_is_true(json_object_get(r.json, "live_enabled")), "%s", r.raw.body.data);
	cr_assert(json_is_null(json_object_get(r.json, "banner")), "%s", r.raw.body.data);
	it_release(&r);

	live(0);
	it_request(&r, "GET", "/api/v1/status", NULL, 0, NULL);
	cr_assert(json_is_false(json_object_get(r.json, "live_enabled")), "%s", r.raw.body.data);
	cr_assert(json_string_length(json_object_get(r.json, "banner")) > 10, "%s",
	          r.raw.body.data);
	it_release(&r);
	refused(w.tg, id, "LIVE_DISABLED", 3);
	live(1);
	started(w.tg, id);
	stop(w.tg, id);

	/* The same through quantorctl. */
	cr_assert_eq(ctl("live off --reason 't_bots: operator stop'"), 0);
	refused(w.tg, id, "LIVE_DISABLED", 3);
	cr_assert_eq(q_db_row(it_db(), &err,
	                      "SELECT updated_by, reason FROM settings WHERE name = "
	                      "'quantor.trading.live.enabled'",
	                      ">ss", by, sizeof(by), why, sizeof(why)),
	             1, "%s", err.msg);
	cr_assert(strncmp(by, "operator:", 9) == 0, "%s", by);
	cr_assert_str_eq(why, "t_bots: operator stop");
	cr_assert_eq(ctl("live status"), 0);
	ctl_out(out, sizeof(out));
	cr_assert(strstr(out, "LIVE trading: off") != NULL, "%s", out);
	cr_assert(strstr(out, "t_bots: operator stop") != NULL, "%s", out);
	cr_assert_eq(ctl("live on --reason 't_bots: operator start'"), 0);
	started(w.tg, id);
	stop(w.tg, id);
	/* No reason, no flip. */
	cr_assert_eq(ctl("live off"), 2);
	cr_assert_eq(ctl("live sideways --reason x"), 2);
	it_request(&r, "GET", "/api/v1/status", NULL, 0, NULL);
	cr_assert(json_is_true(json_object_get(r.json, "live_enabled")), "%s", r.raw.body.data);
	it_release(&r);
	/* Five flips, each in the audit chain. */
	cr_assert_eq(
	        it_count("SELECT COUNT(*) FROM audit_log WHERE type = 'killswitch.flipped' AND "
	                 "seq > ?",
	                 0),
	        flips0 + 5);
}

/* ---- plans --------------------------------------------------------------------------------- */

Test(bots, a_free_user_is_refused_live)
{
	struct who w;
	long long id;

	ready(&w, 5400105, "FREE");
	set_regime("CALM", 0);
	live(1);
	id = create_live(&w, "LIVE", "EMA", "100");
	refused(w.tg, id, "PLAN_NO_LIVE", 8);
}

Test(bots, a_starter_user_trades_live_with_ema_only_up_to_its_cap)
{
	struct who w;
	long long momentum, adv, ema, over;

	ready(&w, 5400106, "STARTER");
	set_regime("CALM", 0);
	live(1);
	momentum = create_live(&w, "LIVE", "TS_MOMENTUM_V1", "100");
	adv = create_live(&w, "LIVE_ADVANCED", "BREAKOUT_V1", "100");
	over = create_live(&w, "LIVE", "EMA", "250.01");
	ema = create_live(&w, "LIVE", "EMA", "250");
	refused(w.tg, momentum, "PLAN_NO_LIVE", 8);
	refused(w.tg, adv, "PLAN_NO_LIVE", 8);
	refused(w.tg, over, "MAX_NOTIONAL_EXCEEDED", 13);
	started(w.tg, ema);
	stop(w.tg, ema);
}

struct racer {
	long long tg, id;
	long status;
};

static void *
race_start(void *arg)
{
	struct racer *x = arg;
	struct it_resp r;

	bot_route(&r, "POST", x->tg, x->id, "/start");
	x->status = r.status;
	it_release(&r);
	return NULL;
}

Test(bots, racing_starts_cannot_both_take_the_last_bot_slot)
{
	struct who w;
	struct racer x[4];
	pthread_t t[4];
	long long held[2];
	int ok = 0, limited = 0;

	ready(&w, 5400114, "STARTER"); /* three bots at once */
	set_regime("CALM", 0);
	live(1);
	for (int i = 0; i < 2; i++) {
		held[i] = create(w.tg, "{\"strategy\":\"EMA\",\"symbol\":\"ETHUSDT\","
		                       "\"interval\":\"1d\",\"notional\":\"10\"}");
		sql("UPDATE bots SET status = 'halted' WHERE id = ?", "i", held[i]);
	}
	for (int i = 0; i < 4; i++) {
		x[i].tg = w.tg;
		x[i].id = create_live(&w, "LIVE", "EMA", "100");
	}
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, race_start, &x[i]), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ok += x[i].status == 200;
		limited += x[i].status == 403;
	}
	cr_assert_eq(ok, 1, "%d starts took the one free slot", ok);
	cr_assert_eq(limited, 3);
	cr_assert_eq(
	        it_count("SELECT COUNT(*) FROM bots WHERE user_id = ? AND deleted_at IS NULL AND "
	                 "status IN ('running', 'halted')",
	                 w.uid),
	        3);
	for (int i = 0; i < 4; i++)
		stop(w.tg, x[i].id);
}

/* ---- the API's shape ------------------------------------------------------------------------ */

Test(bots, create_checks_every_field)
{
	static const struct {
		const char *body, *field;
	} bad[] = {
	        {"{}", "strategy"},
	        {"{\"strategy\":\"EMA\",\"symbol\":\"BTCUSDT\",\"interval\":\"1h\",\"notional\":"
	         "\"1\",\"colour\":\"red\"}",
	         "colour"},
	        {"{\"strategy\":\"NOPE\",\"symbol\":\"BTCUSDT\",\"interval\":\"1h\",\"notional\":"
	         "\"1\"}",
	         "strategy"},
	        {"{\"strategy\":\"EMA\",\"params\":{\"fast\":0},\"symbol\":\"BTCUSDT\","
	         "\"interval\":\"1h\",\"notional\":\"1\"}",
	         "params.fast"},
	        {"{\"strategy\":\"EMA\",\"params\":{\"nope\":1},\"symbol\":\"BTCUSDT\","
	         "\"interval\":\"1h\",\"notional\":\"1\"}",
	         "params.nope"},
	        {"{\"strategy\":\"EMA\",\"params\":[1],\"symbol\":\"BTCUSDT\","
	         "\"interval\":\"1h\",\"notional\":\"1\"}",
	         "params"},
	        {"{\"strategy\":\"EMA\",\"symbol\":\"btc\",\"interval\":\"1h\",\"notional\":\"1\"}",
	         "symbol"},
	        {"{\"strategy\":\"EMA\",\"symbol\":\"BTCUSDT\",\"interval\":\"2h\",\"notional\":"
	         "\"1\"}",
	         "interval"},
	        {"{\"strategy\":\"EMA\",\"symbol\":\"BTCUSDT\",\"interval\":\"1h\",\"mode\":"
	         "\"live\",\"notional\":\"1\"}",
	         "mode"},
	        {"{\"strategy\":\"EMA\",\"symbol\":\"BTCUSDT\",\"interval\":\"1h\",\"notional\":"
	         "\"0\"}",
	         "notional"},
	        {"{\"strategy\":\"EMA\",\"symbol\":\"BTCUSDT\",\"interval\":\"1h\",\"notional\":"
	         "\"-5\"}",
	         "notional"},
	        {"{\"strategy\":\"EMA\",\"symbol\":\"BTCUSDT\",\"interval\":\"1h\",\"notional\":"
	         "\"1e5\"}",
	         "notional"},
	        {"{\"strategy\":\"EMA\",\"symbol\":\"BTCUSDT\",\"interval\":\"1h\",\"notional\":"
	         "100}",
	         "notional"},
	        {"{\"strategy\":\"EMA\",\"symbol\":\"BTCUSDT\",\"interval\":\"1h\",\"notional\":"
	         "\"1\",\"exchange\":\"kraken\"}",
	         "exchange"},
	        {"{\"strategy\":\"EMA\",\"symbol\":\"BTCUSDT\",\"interval\":\"1h\",\"mode\":"
	         "\"LIVE\",\"notional\":\"1\"}",
	         "exchange_key_id"},
	        {"{\"strategy\":\"EMA\",\"symbol\":\"BTCUSDT\",\"interval\":\"1h\",\"notional\":"
	         "\"1\",\"exchange_key_id\":\"7\"}",
	         "exchange_key_id"},
	};
	struct who w, other;
	struct it_resp r;
	char body[512];
	json_t *b, *p;
	long long id, seq0 = audit_seq();

	sign_in(&w, 5400107, "FREE");
	sign_in(&other, 5400108, "FREE");
	other.key = save_key(other.tg);
	w.key = save_key(w.tg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		it_as_user(&r, "POST", "/api/v1/bots", w.tg, bad[i].body);
		it_assert_error(&r, 400, "BAD_REQUEST");
		cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"),
		                                                   "field")),
		                 bad[i].field, "%s -> %s", bad[i].body, r.raw.body.data);
		it_release(&r);
	}
	/* Someone else's key, and a key of another venue than the one asked for. */
	snprintf(body, sizeof(body),
	         "{\"strategy\":\"EMA\",\"symbol\":\"BTCUSDT\",\"interval\":\"1h\",\"mode\":"
	         "\"LIVE\",\"notional\":\"1\",\"exchange_key_id\":%lld}",
	         other.key);
	it_as_user(&r, "POST", "/api/v1/bots", w.tg, body);
	it_assert_error(&r, 400, "BAD_REQUEST");
	cr_assert_str_eq(
	        json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
	        "exchange_key_id");
	it_release(&r);
	snprintf(body, sizeof(body),
	         "{\"strategy\":\"EMA\",\"symbol\":\"BTCUSDT\",\"interval\":\"1h\",\"mode\":"
	         "\"LIVE\",\"notional\":\"1\",\"exchange\":\"okx\",\"exchange_key_id\":%lld}",
	         w.key);
	it_as_user(&r, "POST", "/api/v1/bots", w.tg, body);
	it_assert_error(&r, 400, "BAD_REQUEST");
	cr_assert_str_eq(
	        json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
	        "exchange");
	it_release(&r);
	/* A pair outside [trading] symbols is gate 1's refusal, at once. */
	it_as_user(&r, "POST", "/api/v1/bots", w.tg,
	           "{\"strategy\":\"EMA\",\"symbol\":\"DOGEUSDT\",\"interval\":\"1h\","
	           "\"notional\":\"1\"}");
	it_assert_error(&r, 403, "SYMBOL_NOT_ALLOWED");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(r.json, "error"), "gate")),
	             1);
	it_release(&r);
	/* Nothing was stored. */
	cr_assert_eq(it_count("SELECT COUNT(*) FROM bots WHERE user_id = ? AND deleted_at IS NULL",
	                      w.uid),
	             0);
	/* Unauthenticated: 401 before anything else. */
	it_request(&r, "POST", "/api/v1/bots", "{}", 2,
	           (const char *const[]){"Content-Type: application/json", NULL});
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_release(&r);

	/* The good one: the key's venue, defaults filled into params, exact notional. */
	snprintf(body, sizeof(body),
	         "{\"strategy\":\"EMA\",\"params\":{\"fast\":5},\"symbol\":\"SOLUSDT\","
	         "\"interval\":\"4h\",\"mode\":\"LIVE\",\"notional\":\"12.50\","
	         "\"exchange_key_id\":%lld}",
	         w.key);
	it_as_user(&r, "POST", "/api/v1/bots", w.tg, body);
	cr_assert_eq(r.status, 201, "%s", r.raw.body.data);
	b = json_object_get(r.json, "bot");
	id = json_integer_value(json_object_get(b, "id"));
	cr_assert_str_eq(json_string_value(json_object_get(b, "exchange")), "binance");
	cr_assert_eq(json_integer_value(json_object_get(b, "exchange_key_id")), w.key);
	cr_assert_str_eq(json_string_value(json_object_get(b, "notional")), "12.5");
	cr_assert_str_eq(json_string_value(json_object_get(b, "interval")), "4h");
	cr_assert_str_eq(json_string_value(json_object_get(b, "mode")), "LIVE");
	p = json_object_get(b, "params");
	cr_assert_eq(json_number_value(json_object_get(p, "fast")), 5, "%s", r.raw.body.data);
	cr_assert_eq(json_number_value(json_object_get(p, "slow")), 26, "%s", r.raw.body.data);
	cr_assert(json_is_null(json_object_get(b, "started_at")));
	it_release(&r);
	cr_assert_eq(count2("SELECT COUNT(*) FROM audit_log WHERE type = 'bot.created' AND "
	                    "user_id = ? AND seq > ?",
	                    w.uid, seq0),
	             1);
	/* A PAPER bot needs no key; binance's market data by default. */
	id = create(w.tg, "{\"strategy\":\"RSI_REVERSION_V1\",\"symbol\":\"ETHUSDT\","
	                  "\"interval\":\"1d\",\"notional\":\"100\",\"exchange_key_id\":null}");
	it_as_user(&r, "GET", "/api/v1/bots", w.tg, NULL);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	cr_assert_eq(json_array_size(json_object_get(r.json, "bots")), 2);
	b = json_array_get(json_object_get(r.json, "bots"), 0); /* newest first */
	cr_assert_eq(json_integer_value(json_object_get(b, "id")), id);
	cr_assert_str_eq(json_string_value(json_object_get(b, "mode")), "PAPER");
	cr_assert_str_eq(json_string_value(json_object_get(b, "exchange")), "binance");
	cr_assert(json_is_null(json_object_get(b, "exchange_key_id")));
	it_release(&r);
}

Test(bots, delete_stop_and_someone_elses_bot)
{
	struct who w, other;
	struct it_resp r;
	long long id, seq0 = audit_seq();

	sign_in(&w, 5400109, "FREE");
	sign_in(&other, 5400110, "FREE");
	id = create(w.tg, "{\"strategy\":\"EMA\",\"symbol\":\"BTCUSDT\",\"interval\":\"1h\","
	                  "\"notional\":\"100\"}");
	started(w.tg, id);
	bot_route(&r, "POST", w.tg, id, "/start");
	it_assert_error(&r, 409, "CONFLICT");
	it_release(&r);
	bot_route(&r, "DELETE", w.tg, id, "");
	it_assert_error(&r, 409, "CONFLICT");
	it_release(&r);

	/* Another user's bot does not exist for them, whatever they try. */
	bot_route(&r, "GET", other.tg, id, "");
	it_assert_error(&r, 404, "NOT_FOUND");
	it_release(&r);
	bot_route(&r, "POST", other.tg, id, "/stop");
	it_assert_error(&r, 404, "NOT_FOUND");
	it_release(&r);
	bot_route(&r, "POST", other.tg, id, "/start");
	it_assert_error(&r, 404, "NOT_FOUND");
	it_release(&r);
	bot_route(&r, "DELETE", other.tg, id, "");
	it_assert_error(&r, 404, "NOT_FOUND");
	it_release(&r);
	it_as_user(&r, "GET", "/api/v1/bots", other.tg, NULL);
	cr_assert_eq(json_array_size(json_object_get(r.json, "bots")), 0);
	it_release(&r);
	cr_assert_eq(it_count("SELECT COUNT(*) FROM bots WHERE id = ? AND status = 'running'", id),
	             1);

	/* Stop: always allowed, recorded once. */
	bot_route(&r, "POST", w.tg, id, "/stop");
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	cr_assert(json_is_true(json_object_get(r.json, "stopped")));
	cr_assert_str_eq(
	        json_string_value(json_object_get(json_object_get(r.json, "bot"), "status")),
	        "stopped");
	it_release(&r);
	bot_route(&r, "POST", w.tg, id, "/stop");
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	cr_assert(json_is_false(json_object_get(r.json, "stopped")));
	it_release(&r);
	cr_assert_eq(count2("SELECT COUNT(*) FROM audit_log WHERE type = 'bot.stopped' AND "
	                    "user_id = ? AND seq > ?",
	                    w.uid, seq0),
	             1);

	/* Delete the stopped bot: gone from the API, kept (retired) in the database. */
	bot_route(&r, "DELETE", w.tg, id, "");
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	it_release(&r);
	bot_route(&r, "GET", w.tg, id, "");
	it_assert_error(&r, 404, "NOT_FOUND");
	it_release(&r);
	bot_route(&r, "DELETE", w.tg, id, "");
	it_assert_error(&r, 404, "NOT_FOUND");
	it_release(&r);
	bot_route(&r, "POST", w.tg, id, "/start");
	it_assert_error(&r, 404, "NOT_FOUND");
	it_release(&r);
	cr_assert_eq(
	        it_count("SELECT COUNT(*) FROM bots WHERE id = ? AND deleted_at IS NOT NULL", id),
	        1);
	cr_assert_eq(count2("SELECT COUNT(*) FROM audit_log WHERE type = 'bot.deleted' AND "
	                    "user_id = ? AND seq > ?",
	                    w.uid, seq0),
	             1);
	it_as_user(&r, "GET", "/api/v1/bots/abc", w.tg, NULL);
	it_assert_error(&r, 400, "BAD_REQUEST");
	it_release(&r);
	it_as_user(&r, "POST", "/api/v1/bots/999999999/stop", w.tg, NULL);
	it_assert_error(&r, 404, "NOT_FOUND");
	it_release(&r);
	it_request(&r, "GET", "/api/v1/bots", NULL, 0, NULL);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_release(&r);
}

/* ---- the allowlist ------------------------------------------------------------------------- */

Test(bots, the_allowlist_through_the_admin_api_and_quantorctl)
{
	struct who a, b, c;
	struct it_resp r;
	struct q_err err = {0};
	char body[256], by[160] = "", out[4096], line[32];
	long long changes0, one, seq0 = audit_seq();
	json_t *ids;

	sign_in(&a, 5400111, "FREE");
	sign_in(&b, 5400112, "FREE");
	sign_in(&c, 5400113, "FREE");
	changes0 = it_count("SELECT COUNT(*) FROM audit_log WHERE type = 'allowlist.changed' AND "
	                    "seq > ?",
	                    0);

	it_as_user(&r, "GET", "/api/v1/admin/allowlist", a.tg, NULL);
	it_assert_error(&r, 403, "FORBIDDEN");
	it_release(&r);
	it_as_user(&r, "PUT", "/api/v1/admin/allowlist", a.tg,
	           "{\"user_ids\":[1],\"reason\":\"let me in\"}");
	it_assert_error(&r, 403, "FORBIDDEN");
	it_release(&r);

	/* Replace the list: one by user id, one by Telegram id. */
	snprintf(body, sizeof(body),
	         "{\"user_ids\":[%lld],\"telegram_ids\":[%lld],\"reason\":\"t_bots: pilot\"}",
	         b.uid, a.tg);
	it_as_user(&r, "PUT", "/api/v1/admin/allowlist", admin(), body);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	ids = json_object_get(r.json, "user_ids");
	cr_assert_eq(json_array_size(ids), 2, "%s", r.raw.body.data);
	cr_assert_eq(json_integer_value(json_array_get(ids, 0)), a.uid < b.uid ? a.uid : b.uid);
	cr_assert_str_eq(json_string_value(json_object_get(r.json, "reason")), "t_bots: pilot");
	it_release(&r);
	it_as_user(&r, "GET", "/api/v1/admin/allowlist", admin(), NULL);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	cr_assert_eq(json_array_size(json_object_get(r.json, "user_ids")), 2);
	cr_assert(strstr(json_string_value(json_object_get(r.json, "updated_by")),
	                 it_env("QUANTOR_ADMIN_TG_ID")) != NULL,
	          "%s", r.raw.body.data);
	it_release(&r);

	/* Refused, changing nothing: no reason, an unknown user, an unknown Telegram id. */
	it_as_user(&r, "PUT", "/api/v1/admin/allowlist", admin(), "{\"user_ids\":[]}");
	it_assert_error(&r, 400, "BAD_REQUEST");
	it_release(&r);
	it_as_user(&r, "PUT", "/api/v1/admin/allowlist", admin(),
	           "{\"user_ids\":[],\"reason\":\"  \"}");
	it_assert_error(&r, 400, "BAD_REQUEST");
	it_release(&r);
	it_as_user(&r, "PUT", "/api/v1/admin/allowlist", admin(),
	           "{\"user_ids\":[999999999999],\"reason\":\"t_bots\"}");
	it_assert_error(&r, 400, "BAD_REQUEST");
	it_release(&r);
	it_as_user(&r, "PUT", "/api/v1/admin/allowlist", admin(),
	           "{\"telegram_ids\":[5499999],\"reason\":\"t_bots\"}");
	it_assert_error(&r, 400, "BAD_REQUEST");
	cr_assert_str_eq(
	        json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
	        "telegram_ids");
	it_release(&r);
	it_as_user(&r, "PUT", "/api/v1/admin/allowlist", admin(),
	           "{\"user_ids\":[0],\"reason\":\"t_bots\"}");
	it_assert_error(&r, 400, "BAD_REQUEST");
	it_release(&r);

	/* quantorctl: add by Telegram id, remove by user id, list. */
	cr_assert_eq(ctl("allowlist add --telegram %lld --reason 't_bots: cli add'", c.tg), 0);
	cr_assert_eq(ctl("allowlist remove %lld --reason 't_bots: cli remove'", a.uid), 0);
	cr_assert_eq(ctl("allowlist list"), 0);
	out[0] = '\n';
	ctl_out(out + 1, sizeof(out) - 1);
	snprintf(line, sizeof(line), "\n%lld\n", c.uid);
	cr_assert(strstr(out, line) != NULL, "%s", out);
	snprintf(line, sizeof(line), "\n%lld\n", b.uid);
	cr_assert(strstr(out, line) != NULL, "%s", out);
	snprintf(line, sizeof(line), "\n%lld\n", a.uid);
	cr_assert(strstr(out, line) == NULL, "%s", out);
	cr_assert_eq(ctl("allowlist add %lld", b.uid), 2, "no reason, no change");
	cr_assert_eq(ctl("allowlist add 999999999999 --reason 't_bots'"), 1);
	cr_assert_eq(ctl("allowlist add --telegram 5499998 --reason 't_bots'"), 1);
	cr_assert_eq(ctl("allowlist frob 1 --reason x"), 2);
	it_as_user(&r, "GET", "/api/v1/admin/allowlist", admin(), NULL);
	ids = json_object_get(r.json, "user_ids");
	cr_assert_eq(json_array_size(ids), 2, "%s", r.raw.body.data);
	one = json_integer_value(json_array_get(ids, 0));
	cr_assert(one == b.uid || one == c.uid, "%s", r.raw.body.data);
	it_release(&r);
	cr_assert_eq(q_db_row(it_db(), &err,
	                      "SELECT updated_by FROM settings WHERE name = "
	                      "'quantor.trading.live.allowedUserIds'",
	                      ">s", by, sizeof(by)),
	             1, "%s", err.msg);
	cr_assert(strncmp(by, "operator:", 9) == 0, "%s", by);
	/* Exactly the three accepted changes are in the chain, with their reasons. */
	cr_assert_eq(it_count("SELECT COUNT(*) FROM audit_log WHERE type = 'allowlist.changed' AND "
	                      "seq > ?",
	                      0),
	             changes0 + 3);
	cr_assert_eq(it_count("SELECT COUNT(*) FROM audit_log WHERE type = 'allowlist.changed' AND "
	                      "payload LIKE '%t_bots: cli remove%' AND seq > ?",
	                      seq0),
	             1);
}

/* ---- public endpoints ---------------------------------------------------------------------- */

Test(bots, plans_are_served_from_code_and_seeded_into_the_database)
{
	struct it_resp r;
	struct q_err err = {0};
	json_t *plans, *starter;
	char cap[64] = "";
	long long n;

	it_request(&r, "GET", "/api/v1/plans", NULL, 0, NULL);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	plans = json_object_get(r.json, "plans");
	cr_assert_eq(json_array_size(plans), 4);
	starter = json_array_get(plans, 1);
	cr_assert_str_eq(json_string_value(json_object_get(starter, "id")), "STARTER");
	cr_assert_str_eq(json_string_value(json_object_get(starter, "price_usd_month")), "19");
	cr_assert_str_eq(json_string_value(json_object_get(starter, "live_strategies")), "EMA");
	cr_assert_str_eq(json_string_value(json_object_get(starter, "max_notional_usd")), "250");
	cr_assert_str_eq(json_string_value(json_object_get(starter, "daily_loss_pct")), "2");
	cr_assert_eq(json_integer_value(json_object_get(starter, "max_bots")), 3);
	cr_assert(json_is_null(json_object_get(json_array_get(plans, 0), "max_notional_usd")));
	it_release(&r);

	n = it_count("SELECT COUNT(*) FROM plans WHERE position >= ?", 0);
	cr_assert_eq(n, 4);
	cr_assert_eq(q_db_row(it_db(), &err,
	                      "SELECT CAST(max_notional_usd AS CHAR) FROM plans WHERE id = 'TEAMS'",
	                      ">s", cap, sizeof(cap)),
	             1, "%s", err.msg);
	cr_assert(strncmp(cap, "25000.", 6) == 0, "%s", cap);
	cr_assert_eq(it_count("SELECT COUNT(*) FROM plans WHERE id = 'PRO' AND max_bots = ? AND "
	                      "live_strategies = 'all' AND daily_loss_pct = 5 AND advanced = 1",
	                      10),
	             1);
	/* The catalog is code's: the application user cannot change the copy. */
	cr_assert_lt(
	        q_db_exec(it_db(), &err, "UPDATE plans SET max_bots = 99 WHERE id = 'FREE'", ""),
	        0);
	cr_assert_eq(err.code, Q_E_FORBIDDEN, "%s", err.msg);
}

Test(bots, status_shows_the_switch_the_regime_and_the_worker)
{
	struct it_resp r;
	json_t *rg, *hb;
	long long before = it_count("SELECT COUNT(*) FROM heartbeats WHERE service = 'worker' AND "
	                            "pid > ?",
	                            -1);

	set_regime("VOLATILE", 0);
	it_request(&r, "GET", "/api/v1/status", NULL, 0, NULL);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	cr_assert(json_is_boolean(json_object_get(r.json, "live_enabled")));
	rg = json_object_get(r.json, "regime");
	cr_assert_str_eq(json_string_value(json_object_get(rg, "symbol")), "BTCUSDT");
	cr_assert_str_eq(json_string_value(json_object_get(rg, "regime")), "VOLATILE");
	cr_assert_str_eq(json_string_value(json_object_get(rg, "realized_vol")), "0.5");
	cr_assert(json_is_string(json_object_get(rg, "computed_at")));
	if (before == 0)
		cr_assert(json_is_null(json_object_get(r.json, "worker_heartbeat")), "%s",
		          r.raw.body.data);
	it_release(&r);

	sql("INSERT INTO heartbeats (service, host, pid, at) VALUES ('worker', 't_bots-host', 1, "
	    "UTC_TIMESTAMP(6) + INTERVAL 1 MINUTE)",
	    "");
	it_request(&r, "GET", "/api/v1/status", NULL, 0, NULL);
	hb = json_object_get(r.json, "worker_heartbeat");
	sql("DELETE FROM heartbeats WHERE host = 't_bots-host'", "");
	cr_assert(json_is_string(json_object_get(hb, "at")), "%s", r.raw.body.data);
	cr_assert_eq(json_integer_value(json_object_get(hb, "age_seconds")), 0, "%s",
	             r.raw.body.data);
	it_release(&r);
	clear_regime();
}
