/*
 * Telegram identity through the real stack: Mini App initData on /api/v1/me, the admin
 * route, and the bot webhook with its commands. Every Telegram id here is distinct per test.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"
#include "q_buf.h"
#include "q_ctx.h"
#include "q_db.h"
#include "q_initdata.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static struct q_ctx ctx;

static struct q_db *
db(void)
{
	struct q_err err = {0};
	struct q_db *d;

	if (ctx.cfg == NULL)
		cr_assert_eq(q_ctx_init(&ctx, "t_identity", it_env("QUANTOR_CONFIG"), &err), 0,
		             "%s", err.msg);
	d = q_ctx_db(&ctx, 0, &err);
	cr_assert(d != NULL, "%s", err.msg);
	return d;
}

static long long
count(const char *sql, long long arg)
{
	struct q_err err = {0};
	long long n = -1;

	cr_assert_eq(q_db_row(db(), &err, sql, "i>i", arg, &n), 1, "%s: %s", sql, err.msg);
	return n;
}

static void
me_with(struct it_resp *r, const char *authorization)
{
	const char *h[] = {authorization, NULL};

	it_request(r, "GET", "/api/v1/me", NULL, 0, authorization ? h : NULL);
}

/* ---- Mini App authentication -------------------------------------------------------------- */

Test(identity, missing_or_foreign_authorization_is_401)
{
	struct it_resp r;

	me_with(&r, NULL);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_release(&r);
	me_with(&r, "Authorization: Bearer abc");
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_release(&r);
	me_with(&r, "Authorization: tma ");
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_release(&r);
}

Test(identity, valid_init_data_creates_exactly_one_user)
{
	const long long tg = 5100001;
	struct it_resp r;
	json_t *u;

	cr_assert_eq(count("SELECT COUNT(*) FROM users WHERE telegram_id = ?", tg), 0);
	for (int i = 0; i < 3; i++) {
		it_as_user(&r, "GET", "/api/v1/me", tg, NULL);
		cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
		u = json_object_get(r.json, "user");
		cr_assert_eq(json_integer_value(json_object_get(u, "telegram_id")), tg);
		cr_assert_str_eq(json_string_value(json_object_get(u, "first_name")), "Ann");
		cr_assert_str_eq(
		        json_string_value(json_object_get(json_object_get(r.json, "plan"), "id")),
		        "FREE");
		cr_assert(json_is_false(json_object_get(r.json, "telegram_linked")));
		cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "today"),
		                                                   "daily_loss_limit_pct")),
		                 "1");
		it_release(&r);
	}
	cr_assert_eq(count("SELECT COUNT(*) FROM users WHERE telegram_id = ?", tg), 1);
	cr_assert_eq(count("SELECT COUNT(*) FROM audit_log a JOIN users u ON a.user_id = u.id "
	                   "WHERE u.telegram_id = ? AND a.type = 'user.created'",
	                   tg),
	             1);
}

Test(identity, names_are_refreshed)
{
	const long long tg = 5100002;
	struct q_buf init = Q_BUF_INIT, auth = Q_BUF_INIT;
	struct it_resp r;
	char name[64] = "";
	struct q_err err = {0};

	for (int i = 0; i < 2; i++) {
		it_init_data(&init, it_env("QUANTOR_BOT_TOKEN"), tg, i ? "Renamed" : "First",
		             (long long)time(NULL));
		q_buf_reset(&auth);
		q_buf_printf(&auth, "Authorization: tma %s", init.data);
		me_with(&r, auth.data);
		cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
		it_release(&r);
	}
	cr_assert_eq(q_db_row(db(), &err, "SELECT first_name FROM users WHERE telegram_id = ?",
	                      "i>s", tg, name, sizeof(name)),
	             1);
	cr_assert_str_eq(name, "Renamed");
	q_buf_release(&init);
	q_buf_release(&auth);
}

Test(identity, forged_tampered_expired_and_other_bot_are_401)
{
	const long long tg = 5100003;
	struct q_buf init = Q_BUF_INIT, auth = Q_BUF_INIT;
	struct it_resp r;
	char *p;
	long long now = (long long)time(NULL);

	/* Tampered: the signed name changed after signing. */
	it_init_data(&init, it_env("QUANTOR_BOT_TOKEN"), tg, "Ann", now);
	p = strstr(init.data, "Ann");
	cr_assert(p != NULL);
	p[0] = 'B';
	q_buf_printf(&auth, "Authorization: tma %s", init.data);
	me_with(&r, auth.data);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_release(&r);
	/* Forged: a hash of zeros. */
	it_init_data(&init, it_env("QUANTOR_BOT_TOKEN"), tg, "Ann", now);
	p = strstr(init.data, "hash=");
	memset(p + 5, '0', 64);
	q_buf_reset(&auth);
	q_buf_printf(&auth, "Authorization: tma %s", init.data);
	me_with(&r, auth.data);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_release(&r);
	/* Expired: signed two days ago (init_data_max_age is one day). */
	it_init_data(&init, it_env("QUANTOR_BOT_TOKEN"), tg, "Ann", now - 2 * 86400);
	q_buf_reset(&auth);
	q_buf_printf(&auth, "Authorization: tma %s", init.data);
	me_with(&r, auth.data);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_release(&r);
	/* Another bot's token: valid for that bot, not for this one. */
	it_init_data(&init, "123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", tg, "Ann", now);
	q_buf_reset(&auth);
	q_buf_printf(&auth, "Authorization: tma %s", init.data);
	me_with(&r, auth.data);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_release(&r);
	/* None of them created the user. */
	cr_assert_eq(count("SELECT COUNT(*) FROM users WHERE telegram_id = ?", tg), 0);
	q_buf_release(&init);
	q_buf_release(&auth);
}

static void *
hammer(void *arg)
{
	struct it_resp r;
	long status;

	it_as_user(&r, "GET", "/api/v1/me", *(long long *)arg, NULL);
	status = r.status;
	it_release(&r);
	return (void *)status;
}

Test(identity, racing_first_requests_create_one_user)
{
	long long tg = 5100004;
	pthread_t t[8];
	void *st;

	for (int i = 0; i < 8; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, hammer, &tg), 0);
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], &st);
		cr_assert_eq((long)st, 200, "request %d answered %ld", i, (long)st);
	}
	cr_assert_eq(count("SELECT COUNT(*) FROM users WHERE telegram_id = ?", tg), 1);
	cr_assert_eq(count("SELECT COUNT(*) FROM audit_log a JOIN users u ON a.user_id = u.id "
	                   "WHERE u.telegram_id = ? AND a.type = 'user.created'",
	                   tg),
	             1);
}

Test(identity, admin_route_is_403_for_others_and_works_for_admins)
{
	struct it_resp r;
	struct q_err err = {0};
	char v[16] = "", by[64] = "";
	long long admin = strtoll(it_env("QUANTOR_ADMIN_TG_ID"), NULL, 10);
	static const char flips[] =
	        "SELECT COUNT(*) FROM audit_log WHERE type = 'killswitch.flipped' AND seq > ?";
	long long before = count(flips, 0);

	it_as_user(&r, "POST", "/api/v1/admin/live", 5100005,
	           "{\"enabled\":true,\"reason\":\"let me trade\"}");
	it_assert_error(&r, 403, "FORBIDDEN");
	it_release(&r);
	it_as_user(&r, "POST", "/api/v1/admin/live", admin, "{\"enabled\":true}");
	cr_assert_eq(r.status, 400, "a reason is required: %s", r.raw.body.data);
	it_release(&r);
	it_as_user(&r, "POST", "/api/v1/admin/live", admin,
	           "{\"enabled\":false,\"reason\":\"integration test\"}");
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	it_release(&r);
	cr_assert_eq(
	        q_db_row(db(), &err,
	                 "SELECT JSON_EXTRACT(value, '$'), updated_by FROM settings WHERE name = ?",
	                 "s>ss", "quantor.trading.live.enabled", v, sizeof(v), by, sizeof(by)),
	        1, "%s", err.msg);
	cr_assert_str_eq(v, "false");
	cr_assert(strstr(by, it_env("QUANTOR_ADMIN_TG_ID")) != NULL, "%s", by);
	/* Exactly the one accepted flip was recorded; the refused ones changed nothing. */
	cr_assert_eq(count(flips, 0), before + 1);
}

/* ---- the bot webhook ---------------------------------------------------------------------- */

/* Update ids unique across tests (each runs in its own process): derived from the sender. */
static long long
new_update_id(long long tg)
{
	static int n;

	return tg * 1000 + n++;
}

/* Deliver a text message from Telegram user tg (private chat) with the given secret header. */
static void
deliver(struct it_resp *r, long long update_id, long long tg, const char *text, const char *secret)
{
	json_t *u = json_pack("{s:I, s:{s:i, s:i, s:{s:I, s:b, s:s, s:s}, s:{s:I, s:s}, s:s}}",
	                      "update_id", (json_int_t)update_id, "message", "message_id", 1,
	                      "date", (int)time(NULL), "from", "id", (json_int_t)tg, "is_bot", 0,
	                      "first_name", "Tess", "language_code", "en", "chat", "id",
	                      (json_int_t)tg, "type", "private", "text", text);
	char *body = json_dumps(u, JSON_COMPACT);
	struct q_buf h = Q_BUF_INIT;
	const char *headers[3] = {"Content-Type: application/json", NULL, NULL};

	if (secret) {
		q_buf_printf(&h, "X-Telegram-Bot-Api-Secret-Token: %s", secret);
		headers[1] = h.data;
	}
	it_request(r, "POST", "/api/v1/hooks/telegram", body, strlen(body), headers);
	free(body);
	json_decref(u);
	q_buf_release(&h);
}

/* Deliver with the right secret and expect 200; returns the update id used. */
static long long
say(long long tg, const char *text)
{
	struct it_resp r;
	long long id = new_update_id(tg);

	deliver(&r, id, tg, text, it_env("QUANTOR_TG_WEBHOOK_SECRET"));
	cr_assert_eq(r.status, 200, "%s: %s", text, r.raw.body.data);
	it_release(&r);
	return id;
}

/* The text of the reply queued for update id (the last one when several). */
static void
reply_to(long long update_id, char *out, size_t outlen)
{
	struct q_err err = {0};
	char key[64];

	snprintf(key, sizeof(key), "tg:%lld:%%", update_id);
	cr_assert_eq(q_db_row(db(), &err,
	                      "SELECT text FROM outbox WHERE dedupe_key LIKE ? ORDER BY id DESC "
	                      "LIMIT 1",
	                      "s>s", key, out, outlen),
	             1, "no reply queued for update %lld %s", update_id, err.msg);
}

static long long
user_id_of(long long tg)
{
	struct q_err err = {0};
	long long id = 0;

	cr_assert_eq(
	        q_db_row(db(), &err, "SELECT id FROM users WHERE telegram_id = ?", "i>i", tg, &id),
	        1, "no user for %lld", tg);
	return id;
}

static long long
add_bot(long long user_id, const char *status)
{
	struct q_err err = {0};

	cr_assert_eq(q_db_exec(db(), &err,
	                       "INSERT INTO bots (user_id, exchange, strategy, symbol, "
	                       "candle_interval, mode, params, notional, status) VALUES "
	                       "(?, 'binance', 'EMA', 'BTCUSDT', '1h', 'PAPER', '{}', '100', ?)",
	                       "is", user_id, status),
	             1, "%s", err.msg);
	return (long long)q_db_insert_id(db());
}

static void
bot_status(long long bot_id, char *out, size_t outlen)
{
	struct q_err err = {0};

	cr_assert_eq(q_db_row(db(), &err, "SELECT status FROM bots WHERE id = ?", "i>s", bot_id,
	                      out, outlen),
	             1, "%s", err.msg);
}

Test(webhook, wrong_or_missing_secret_is_401_and_changes_nothing)
{
	struct it_resp r;
	long long id = new_update_id(5200001);

	deliver(&r, id, 5200001, "/start", "not-the-secret");
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_release(&r);
	deliver(&r, id, 5200001, "/start", NULL);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_release(&r);
	cr_assert_eq(count("SELECT COUNT(*) FROM telegram_updates WHERE update_id = ?", id), 0);
	cr_assert_eq(count("SELECT COUNT(*) FROM users WHERE telegram_id = ?", 5200001), 0);
}

Test(webhook, start_links_the_chat_and_queues_a_welcome_with_the_app)
{
	const long long tg = 5200002;
	struct it_resp r;
	char text[2048], markup[1024];
	struct q_err err = {0};
	long long id = say(tg, "/start");

	reply_to(id, text, sizeof(text));
	cr_assert(strstr(text, "Welcome") != NULL, "%s", text);
	cr_assert_eq(q_db_row(db(), &err,
	                      "SELECT reply_markup FROM outbox WHERE dedupe_key LIKE ? LIMIT 1",
	                      "s>s", "tg:%", markup, sizeof(markup)),
	             1);
	cr_assert_eq(count("SELECT COUNT(*) FROM users WHERE telegram_id = ? AND chat_id = "
	                   "telegram_id",
	                   tg),
	             1);
	it_as_user(&r, "GET", "/api/v1/me", tg, NULL);
	cr_assert(json_is_true(json_object_get(r.json, "telegram_linked")), "%s", r.raw.body.data);
	it_release(&r);
	cr_assert_eq(count("SELECT COUNT(*) FROM audit_log WHERE type = 'telegram.linked' AND "
	                   "user_id = ?",
	                   user_id_of(tg)),
	             1);
}

Test(webhook, the_same_update_twice_acts_once)
{
	const long long tg = 5200003;
	struct it_resp r;
	long long id = new_update_id(tg);

	for (int i = 0; i < 2; i++) {
		deliver(&r, id, tg, "/start", it_env("QUANTOR_TG_WEBHOOK_SECRET"));
		cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
		cr_assert_eq(json_is_true(json_object_get(r.json, "duplicate")), i == 1, "%s",
		             r.raw.body.data);
		it_release(&r);
	}
	cr_assert_eq(count("SELECT COUNT(*) FROM outbox WHERE chat_id = ?", tg), 1);
	cr_assert_eq(count("SELECT COUNT(*) FROM audit_log WHERE type = 'telegram.linked' AND "
	                   "user_id = ?",
	                   user_id_of(tg)),
	             1);
}

Test(webhook, stopall_stops_that_users_bots_and_no_one_elses)
{
	const long long a = 5200004, b = 5200005;
	long long a1, a2, b1, a3;
	char st[16], text[512];

	say(a, "/start");
	say(b, "/start");
	a1 = add_bot(user_id_of(a), "running");
	a2 = add_bot(user_id_of(a), "halted");
	a3 = add_bot(user_id_of(a), "stopped");
	b1 = add_bot(user_id_of(b), "running");
	reply_to(say(a, "/stopall"), text, sizeof(text));
	cr_assert(strstr(text, "Stopped 2 bots") != NULL, "%s", text);
	bot_status(a1, st, sizeof(st));
	cr_assert_str_eq(st, "stopped");
	bot_status(a2, st, sizeof(st));
	cr_assert_str_eq(st, "stopped");
	bot_status(a3, st, sizeof(st));
	cr_assert_str_eq(st, "stopped");
	bot_status(b1, st, sizeof(st));
	cr_assert_str_eq(st, "running", "another user's bot was stopped");
	cr_assert_eq(count("SELECT COUNT(*) FROM audit_log WHERE type = 'bot.stopped' AND "
	                   "user_id = ?",
	                   user_id_of(a)),
	             2);
	/* /stop on someone else's bot is refused and changes nothing. */
	snprintf(text, sizeof(text), "/stop %lld", b1);
	{
		char reply[512];

		reply_to(say(a, text), reply, sizeof(reply));
		cr_assert(strstr(reply, "no bot") != NULL, "%s", reply);
	}
	bot_status(b1, st, sizeof(st));
	cr_assert_str_eq(st, "running");
	/* /stop on one's own bot works. */
	snprintf(text, sizeof(text), "/stop %lld", b1);
	reply_to(say(b, text), text, sizeof(text));
	cr_assert(strstr(text, "stopped") != NULL, "%s", text);
	bot_status(b1, st, sizeof(st));
	cr_assert_str_eq(st, "stopped");
}

Test(webhook, live_is_for_admins_only)
{
	char text[512], v[16] = "";
	struct q_err err = {0};
	long long admin = strtoll(it_env("QUANTOR_ADMIN_TG_ID"), NULL, 10);

	reply_to(say(5200006, "/live on please"), text, sizeof(text));
	cr_assert(strstr(text, "admins") != NULL, "%s", text);
	reply_to(say(admin, "/live on"), text, sizeof(text));
	cr_assert(strstr(text, "Say why") != NULL, "%s", text);
	reply_to(say(admin, "/live on integration test of the chat switch"), text, sizeof(text));
	cr_assert(strstr(text, "now ON") != NULL, "%s", text);
	cr_assert_eq(q_db_row(db(), &err,
	                      "SELECT JSON_EXTRACT(value, '$') FROM settings WHERE name = ?", "s>s",
	                      "quantor.trading.live.enabled", v, sizeof(v)),
	             1);
	cr_assert_str_eq(v, "true");
	reply_to(say(admin, "/status"), text, sizeof(text));
	cr_assert(strstr(text, "LIVE trading: on") != NULL, "%s", text);
	reply_to(say(admin, "/live off done testing"), text, sizeof(text));
	reply_to(say(admin, "/status"), text, sizeof(text));
	cr_assert(strstr(text, "LIVE trading: off") != NULL, "%s", text);
}

Test(webhook, commands_answer_plainly)
{
	const long long tg = 5200007;
	char text[1024];

	reply_to(say(tg, "/help"), text, sizeof(text));
	cr_assert(strstr(text, "/stopall") != NULL, "%s", text);
	cr_assert(strstr(text, "/live") == NULL, "admin commands shown to a user: %s", text);
	reply_to(say(tg, "/bots"), text, sizeof(text));
	cr_assert(strstr(text, "no bots") != NULL, "%s", text);
	/* /regime names the regime the API serves, whatever the trader last stored. */
	{
		struct it_resp r;
		const char *regime;

		it_request(&r, "GET", "/api/v1/market/regime", NULL, 0, NULL);
		cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
		regime = json_string_value(json_object_get(r.json, "regime"));
		cr_assert(regime != NULL, "%s", r.raw.body.data);
		reply_to(say(tg, "/regime"), text, sizeof(text));
		cr_assert(strstr(text, regime) != NULL, "/regime says %s, the API %s", text,
		          regime);
		it_release(&r);
	}
	reply_to(say(tg, "/stop"), text, sizeof(text));
	cr_assert(strstr(text, "/stop <id>") != NULL, "%s", text);
	reply_to(say(tg, "/frobnicate"), text, sizeof(text));
	cr_assert(strstr(text, "don't know") != NULL, "%s", text);
	reply_to(say(tg, "/start@QuantorBot"), text, sizeof(text));
	cr_assert(strstr(text, "Welcome") != NULL, "%s", text);
}

Test(webhook, malformed_updates_are_400)
{
	struct it_resp r;
	const char *h[] = {"Content-Type: application/json", NULL, NULL};
	struct q_buf sec = Q_BUF_INIT;

	q_buf_printf(&sec, "X-Telegram-Bot-Api-Secret-Token: %s",
	             it_env("QUANTOR_TG_WEBHOOK_SECRET"));
	h[1] = sec.data;
	it_request(&r, "POST", "/api/v1/hooks/telegram", "{\"message\":{}}", 14, h);
	it_assert_error(&r, 400, "BAD_REQUEST");
	it_release(&r);
	it_request(&r, "POST", "/api/v1/hooks/telegram", "{\"update_id\":", 13, h);
	it_assert_error(&r, 400, "BAD_REQUEST");
	it_release(&r);
	q_buf_release(&sec);
}
