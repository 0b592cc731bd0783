/*
 * Exchange keys through the real stack: POST /api/v1/exchange-keys asks quantor-sim's venue
 * what the key may do, refuses withdrawal, store nothing on a refusal, seals what it keeps; the
 * daily re-check (`quantorctl keys verify`) halts LIVE bots whose key gained withdrawal rights.
 * Telegram ids 5300xxx are this file's.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"
#include "q_crypto.h"
#include "q_db.h"
#include "q_vault.h"

static const char *const venues[] = {"binance", "okx", "bybit", "bitget"};
#define NVENUES (sizeof(venues) / sizeof(venues[0]))

static json_t *accounts;

static void
setup(void)
{
	json_error_t je;

	accounts = json_load_file(it_env("QUANTOR_SIM_ACCOUNTS"), 0, &je);
	cr_assert(json_is_array(accounts), "%s", je.text);
	it_sim_post("/_sim/exchange/reset", "{}");
}

static void
teardown(void)
{
	json_decref(accounts);
	it_sim_post("/_sim/exchange/reset", "{}");
}

TestSuite(keys, .init = setup, .fini = teardown, .timeout = 120);

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

/* The POST body for that sim key; secret_override replaces the secret when not NULL. */
static char *
key_body(const char *venue, const char *kind, const char *secret_override)
{
	json_t *a = account(venue, kind);
	const char *pass = json_string_value(json_object_get(a, "passphrase"));
	json_t *b =
	        json_pack("{s:s, s:s, s:s, s:s}", "exchange", venue, "label", kind, "api_key",
	                  json_string_value(json_object_get(a, "api_key")), "api_secret",
	                  secret_override ? secret_override
	                                  : json_string_value(json_object_get(a, "api_secret")));
	char *s;

	if (pass && *pass)
		json_object_set_new(b, "passphrase", json_string(pass));
	s = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	return s;
}

/* ---- saving ------------------------------------------------------------------------------- */

Test(keys, a_trade_only_key_is_verified_sealed_listed_and_deleted_on_every_venue)
{
	const long long tg = 5300001, other = 5300002;
	long long ids[NVENUES], uid;
	struct it_resp r;

	for (size_t v = 0; v < NVENUES; v++) {
		json_t *a = account(venues[v], "trade");
		const char *key = json_string_value(json_object_get(a, "api_key"));
		const char *secret = json_string_value(json_object_get(a, "api_secret"));
		char *body = key_body(venues[v], "trade", NULL);
		json_t *k;
		struct q_buf blob = Q_BUF_INIT;
		struct q_err err = {0};

		it_as_user(&r, "POST", "/api/v1/exchange-keys", tg, body);
		free(body);
		cr_assert_eq(r.status, 201, "%s: %s", venues[v], r.raw.body.data);
		cr_assert_null(strstr(r.raw.body.data, secret), "%s: the secret came back",
		               venues[v]);
		k = json_object_get(r.json, "key");
		ids[v] = json_integer_value(json_object_get(k, "id"));
		cr_assert_gt(ids[v], 0);
		cr_expect_str_eq(json_string_value(json_object_get(k, "exchange")), venues[v]);
		cr_expect_str_eq(json_string_value(json_object_get(k, "last4")),
		                 key + strlen(key) - 4);
		cr_expect(json_is_true(json_object_get(k, "verified")), "%s", venues[v]);
		cr_expect(json_is_false(json_object_get(k, "ip_restricted")), "%s", venues[v]);
		cr_expect_gt(json_array_size(json_object_get(k, "permissions")), 0, "%s",
		             r.raw.body.data);
		cr_expect_null(json_object_get(k, "api_key"));
		cr_expect_null(json_object_get(k, "api_secret"));
		it_release(&r);

		/* Stored sealed: neither the key nor the secret is in the row in clear. */
		cr_assert_eq(q_db_row(it_db(), &err,
		                      "SELECT enc_blob FROM exchange_keys WHERE id = ?", "i>b",
		                      ids[v], &blob),
		             1, "%s", err.msg);
		cr_expect_gt(blob.len, 100);
		cr_expect_null(memmem(blob.data, blob.len, secret, strlen(secret)), "%s",
		               venues[v]);
		cr_expect_null(memmem(blob.data, blob.len, key, strlen(key)), "%s", venues[v]);
		cr_expect(memcmp(blob.data, "QV\x01", 3) == 0, "%s: not a vault blob", venues[v]);
		q_buf_release(&blob);
	}
	uid = it_user_id(tg);
	cr_expect_eq(it_count("SELECT COUNT(*) FROM audit_log WHERE type = 'key.saved' AND "
	                      "user_id = ?",
	                      uid),
	             4);

	/* Listed with flags only; another user sees none of them and cannot delete them. */
	it_as_user(&r, "GET", "/api/v1/exchange-keys", tg, NULL);
	cr_assert_eq(r.status, 200);
	cr_expect_eq(json_array_size(json_object_get(r.json, "keys")), NVENUES);
	it_release(&r);
	it_as_user(&r, "GET", "/api/v1/exchange-keys", other, NULL);
	cr_expect_eq(json_array_size(json_object_get(r.json, "keys")), 0);
	it_release(&r);
	{
		char path[64];

		snprintf(path, sizeof(path), "/api/v1/exchange-keys/%lld", ids[0]);
		it_as_user(&r, "DELETE", path, other, NULL);
		it_assert_error(&r, 404, "NOT_FOUND");
		it_release(&r);
		it_as_user(&r, "DELETE", path, tg, NULL);
		cr_expect_eq(r.status, 200, "%s", r.raw.body.data);
		it_release(&r);
		it_as_user(&r, "DELETE", path, tg, NULL);
		it_assert_error(&r, 404, "NOT_FOUND");
		it_release(&r);
		it_as_user(&r, "DELETE", "/api/v1/exchange-keys/abc", tg, NULL);
		it_assert_error(&r, 400, "BAD_REQUEST");
		it_release(&r);
	}
	cr_expect_eq(it_count("SELECT COUNT(*) FROM exchange_keys WHERE user_id = ?", uid),
	             NVENUES - 1);
	cr_expect_eq(it_count("SELECT COUNT(*) FROM audit_log WHERE type = 'key.deleted' AND "
	                      "user_id = ?",
	                      uid),
	             1);
}

Test(keys, a_key_that_can_withdraw_cannot_trade_or_is_wrong_stores_nothing)
{
	const long long tg = 5300003;
	static const struct {
		const char *kind, *secret, *code;
	} cases[] = {
	        {"withdraw", NULL, "KEY_CAN_WITHDRAW"},
	        {"read", NULL, "KEY_CANNOT_TRADE"},
	        {"trade", "0123456789abcdef0123456789abcdef", "KEY_INVALID"},
	};
	struct it_resp r;
	long long uid;

	for (size_t v = 0; v < NVENUES; v++)
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char *body = key_body(venues[v], cases[i].kind, cases[i].secret);
			const char *msg;

			it_as_user(&r, "POST", "/api/v1/exchange-keys", tg, body);
			free(body);
			msg = it_assert_error(&r, 422, cases[i].code);
			cr_expect(strstr(msg, venues[v]) != NULL || i < 2, "%s %s: %s", venues[v],
			          cases[i].kind, msg);
			it_release(&r);
		}
	uid = it_user_id(tg);
	cr_expect_eq(it_count("SELECT COUNT(*) FROM exchange_keys WHERE user_id = ?", uid), 0);
	cr_expect_eq(it_count("SELECT COUNT(*) FROM audit_log WHERE type = 'key.rejected' AND "
	                      "user_id = ?",
	                      uid),
	             NVENUES * 3);
	it_as_user(&r, "GET", "/api/v1/exchange-keys", tg, NULL);
	cr_expect_eq(json_array_size(json_object_get(r.json, "keys")), 0);
	it_release(&r);
}

Test(keys, malformed_submissions_are_400_naming_the_field)
{
	static const struct {
		const char *body, *field;
	} cases[] = {
	        {"{\"exchange\":\"kraken\",\"api_key\":\"k\",\"api_secret\":\"s\"}", "exchange"},
	        {"{\"exchange\":\"okx\",\"api_key\":\"k\",\"api_secret\":\"s\"}", "passphrase"},
	        {"{\"exchange\":\"binance\",\"api_key\":\"k\",\"api_secret\":\"s\","
	         "\"passphrase\":\"p\"}",
	         "passphrase"},
	        {"{\"exchange\":\"binance\",\"api_key\":\"k k\",\"api_secret\":\"s\"}", "api_key"},
	        {"{\"exchange\":\"binance\",\"api_key\":\"k\",\"api_secret\":\"\"}", "api_secret"},
	        {"{\"exchange\":\"binance\",\"api_key\":\"k\"}", "api_secret"},
	        {"{\"exchange\":\"binance\",\"api_key\":\"k\",\"api_secret\":\"s\","
	         "\"withdraw\":true}",
	         "withdraw"},
	};
	struct it_resp r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		it_as_user(&r, "POST", "/api/v1/exchange-keys", 5300004, cases[i].body);
		it_assert_error(&r, 400, "BAD_REQUEST");
		cr_expect_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"),
		                                                   "field")),
		                 cases[i].field, "%s", cases[i].body);
		it_release(&r);
	}
	it_request(&r, "POST", "/api/v1/exchange-keys", cases[0].body, strlen(cases[0].body), NULL);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_release(&r);
}

Test(keys, a_venue_that_cannot_be_asked_concludes_nothing)
{
	const long long tg = 5300005;
	char *body = key_body("bybit", "trade", NULL);
	struct it_resp r;
	long long uid;

	it_sim_post(
	        "/_sim/exchange/faults",
	        "{\"venue\":\"bybit\",\"op\":\"permissions\",\"fault\":\"5xx\",\"status\":502}");
	it_as_user(&r, "POST", "/api/v1/exchange-keys", tg, body);
	it_assert_error(&r, 503, "EXCHANGE_UNAVAILABLE");
	it_release(&r);
	uid = it_user_id(tg);
	cr_expect_eq(it_count("SELECT COUNT(*) FROM exchange_keys WHERE user_id = ?", uid), 0);
	cr_expect_eq(it_count("SELECT COUNT(*) FROM audit_log WHERE type LIKE 'key.%' AND "
	                      "user_id = ?",
	                      uid),
	             0);
	/* Once the venue answers again, the same key is saved. */
	it_as_user(&r, "POST", "/api/v1/exchange-keys", tg, body);
	cr_expect_eq(r.status, 201, "%s", r.raw.body.data);
	it_release(&r);
	free(body);
}

/* ---- the daily re-check ------------------------------------------------------------------- */

Test(keys, a_key_that_gains_withdrawal_rights_halts_its_live_bots_and_tells_the_user)
{
	const long long tg = 5300006;
	char *body = key_body("okx", "iprestricted", NULL);
	struct it_resp r;
	struct q_err err = {0};
	long long uid, key_id, bot_id, paper_id, verified = -1;
	char st[16] = "", reason[64] = "";
	int rc;

	it_as_user(&r, "POST", "/api/v1/exchange-keys", tg, body);
	free(body);
	cr_assert_eq(r.status, 201, "%s", r.raw.body.data);
	cr_expect(json_is_true(json_object_get(json_object_get(r.json, "key"), "ip_restricted")));
	key_id = json_integer_value(json_object_get(json_object_get(r.json, "key"), "id"));
	it_release(&r);
	uid = it_user_id(tg);
	cr_assert_eq(q_db_exec(it_db(), &err, "UPDATE users SET chat_id = ? WHERE id = ?", "ii", tg,
	                       uid),
	             1, "%s", err.msg);
	cr_assert_eq(q_db_exec(it_db(), &err,
	                       "INSERT INTO bots (user_id, exchange_key_id, exchange, strategy, "
	                       "symbol, candle_interval, mode, params, notional, status) VALUES "
	                       "(?, ?, 'okx', 'EMA', 'BTCUSDT', '1h', 'LIVE', '{}', '100', "
	                       "'running')",
	                       "ii", uid, key_id),
	             1, "%s", err.msg);
	bot_id = (long long)q_db_insert_id(it_db());
	cr_assert_eq(q_db_exec(it_db(), &err,
	                       "INSERT INTO bots (user_id, exchange_key_id, exchange, strategy, "
	                       "symbol, candle_interval, mode, params, notional, status) VALUES "
	                       "(?, ?, 'okx', 'EMA', 'BTCUSDT', '1h', 'PAPER', '{}', '100', "
	                       "'running')",
	                       "ii", uid, key_id),
	             1, "%s", err.msg);
	paper_id = (long long)q_db_insert_id(it_db());

	/* The user enables withdrawals on the exchange; the next check catches it. */
	it_sim_post("/_sim/exchange/permissions",
	            "{\"venue\":\"okx\",\"name\":\"iprestricted\",\"permissions\":[\"read\","
	            "\"spot_trade\",\"withdraw\",\"ip_restricted\"]}");
	rc = it_sh("QUANTOR_CONFIG='%s' '%s/quantorctl' keys verify >/dev/null",
	           it_env("QUANTOR_CONFIG"), it_build_dir());
	cr_expect_eq(rc, 3, "keys verify exit status %d", rc);
	cr_assert_eq(q_db_row(it_db(), &err, "SELECT verified FROM exchange_keys WHERE id = ?",
	                      "i>i", key_id, &verified),
	             1);
	cr_expect_eq(verified, 0);
	cr_assert_eq(q_db_row(it_db(), &err,
	                      "SELECT status, COALESCE(halt_reason, '') FROM bots WHERE id = ?",
	                      "i>ss", bot_id, st, sizeof(st), reason, sizeof(reason)),
	             1);
	cr_expect_str_eq(st, "halted");
	cr_expect_str_eq(reason, "KEY_CAN_WITHDRAW");
	cr_assert_eq(q_db_row(it_db(), &err, "SELECT status FROM bots WHERE id = ?", "i>s",
	                      paper_id, st, sizeof(st)),
	             1);
	cr_expect_str_eq(st, "running", "a PAPER bot sends no orders: it keeps running");
	cr_expect_eq(it_count("SELECT COUNT(*) FROM outbox WHERE user_id = ? AND text LIKE "
	                      "'%can now withdraw%'",
	                      uid),
	             1);
	cr_expect_eq(it_count("SELECT COUNT(*) FROM audit_log WHERE type = 'bot.halted' AND "
	                      "user_id = ?",
	                      uid),
	             1);
	cr_expect_eq(it_count("SELECT COUNT(*) FROM audit_log WHERE type = 'key.rejected' AND "
	                      "user_id = ?",
	                      uid),
	             1);

	/* Withdrawal switched off again: the next check verifies the key again. */
	it_sim_post("/_sim/exchange/permissions",
	            "{\"venue\":\"okx\",\"name\":\"iprestricted\",\"permissions\":[\"read\","
	            "\"spot_trade\",\"ip_restricted\"]}");
	it_sh("QUANTOR_CONFIG='%s' '%s/quantorctl' keys verify >/dev/null",
	      it_env("QUANTOR_CONFIG"), it_build_dir());
	cr_assert_eq(q_db_row(it_db(), &err, "SELECT verified FROM exchange_keys WHERE id = ?",
	                      "i>i", key_id, &verified),
	             1);
	cr_expect_eq(verified, 1);
}

/* Last in this file's order: every secret the suite sent, searched for in every log. */
Test(keys, z_no_secret_ever_reaches_a_log_line)
{
	json_t *a;
	size_t i;
	int found = 0;

	json_array_foreach(accounts, i, a)
	{
		const char *secret = json_string_value(json_object_get(a, "api_secret"));
		const char *pass = json_string_value(json_object_get(a, "passphrase"));

		if (it_sh("grep -rqF -- '%s' '%s/log'", secret, it_env("QUANTOR_VAR")) == 0) {
			cr_expect_fail("an api_secret of %s is in a log",
			               json_string_value(json_object_get(a, "exchange")));
			found++;
		}
		if (pass && *pass &&
		    it_sh("grep -rqF -- '%s' '%s/log'", pass, it_env("QUANTOR_VAR")) == 0) {
			cr_expect_fail("a passphrase is in a log");
			found++;
		}
	}
	cr_expect_eq(found, 0);
	/* The logs exist and are searched: the API logged the requests above. */
	cr_expect_eq(it_sh("grep -rqF 'exchange-keys' '%s/log'", it_env("QUANTOR_VAR")), 0);
}

/* ---- master key rotation ------------------------------------------------------------------ */

/* Keys saved through the API for tg from the sim's accounts of kind kind, on every venue. */
static void
save_all(long long tg, const char *kind)
{
	for (size_t v = 0; v < NVENUES; v++) {
		char *body = key_body(venues[v], kind, NULL);
		struct it_resp r;

		it_as_user(&r, "POST", "/api/v1/exchange-keys", tg, body);
		free(body);
		cr_assert_eq(r.status, 201, "%s: %s", venues[v], r.raw.body.data);
		it_release(&r);
	}
}

Test(keys, rotating_the_master_key_while_the_stack_runs_loses_nothing)
{
	const long long tg = 5300007;
	const char *var = it_env("QUANTOR_VAR"), *conf = it_env("QUANTOR_CONFIG");
	const char *bin = it_build_dir();
	long long stale = -1;
	struct q_err err = {0};
	int rc;

	save_all(tg, "trade");
	/* A new master key; the config names it current and keeps the old one as previous. */
	cr_assert_eq(it_sh("rm -f '%s/rot.key' && '%s/quantorctl' keys gen-master --out "
	                   "'%s/rot.key' >'%s/rot.pub' 2>/dev/null",
	                   var, bin, var, var),
	             0);
	cr_assert_eq(
	        it_sh("old=$(sed -n 's/^private_key_file = //p' '%s'); "
	              "sed -e \"s|^public_key = [0-9a-f]\\{64\\}$|public_key = $(cat "
	              "'%s/rot.pub')|\" -e \"s|^private_key_file = .*|private_key_file = "
	              "%s/rot.key\\nprevious_private_key_file = $old|\" '%s' >'%s/rot.conf' && "
	              "'%s/quantorctl' keys rotate --help >/dev/null 2>&1; grep -q "
	              "previous_private_key_file '%s/rot.conf'",
	              conf, var, var, conf, var, bin, var),
	        0);
	/* The rotation runs in batches of one while the API (still on the old public key) keeps
	 * saving keys: both master keys open everything meanwhile. */
	cr_assert_eq(it_sh("QUANTOR_CONFIG='%s/rot.conf' '%s/quantorctl' keys rotate --batch 1 "
	                   ">'%s/rot.log' 2>&1 &",
	                   var, bin, var),
	             0);
	save_all(tg, "iprestricted");
	it_sh("sleep 1");
	/* A second pass rewraps what was saved during the first; then nothing is left. */
	rc = it_sh(
	        "QUANTOR_CONFIG='%s/rot.conf' '%s/quantorctl' keys rotate --batch 5 >>'%s/rot.log' "
	        "2>&1",
	        var, bin, var);
	cr_expect_eq(rc, 0, "rotate failed: see %s/rot.log", var);
	{
		char pub[80] = "", kid[Q_VAULT_KEK_ID_HEX + 1];
		uint8_t pk[Q_VAULT_KEY_LEN];
		size_t len = 0;
		FILE *f;

		snprintf(pub, sizeof(pub), "%s/rot.pub", var);
		f = fopen(pub, "r");
		cr_assert(f != NULL);
		cr_assert(fgets(pub, sizeof(pub), f) != NULL);
		fclose(f);
		cr_assert_eq(q_hex_decode(pk, sizeof(pk), pub, 64, &len), 0);
		q_vault_kek_id(kid, pk);
		cr_assert_eq(
		        q_db_row(it_db(), &err,
		                 "SELECT COUNT(*) FROM exchange_keys WHERE user_id = ? AND kek_id "
		                 "= ?",
		                 "is>i", it_user_id(tg), kid, &stale),
		        1);
		cr_expect_eq(stale, 2 * (long long)NVENUES,
		             "every key of the user on the new master");
	}
	/* With the new master key alone, every stored key still opens and verifies. */
	cr_assert_eq(it_sh("grep -v '^previous_private_key_file' '%s/rot.conf' >'%s/rot-new.conf'",
	                   var, var),
	             0);
	rc = it_sh(
	        "QUANTOR_CONFIG='%s/rot-new.conf' '%s/quantorctl' keys verify >'%s/rot-verify.log' "
	        "2>&1",
	        var, bin, var);
	cr_expect(rc == 0 || rc == 3, "keys verify could not open a key (status %d): see %s", rc,
	          var);
	cr_expect_neq(it_sh("grep -q CRYPTO '%s/rot-verify.log'", var), 0,
	              "a key did not open with the new master key");
	/* And back: the stack's own config names the old key, which the other suites use. */
	cr_assert_eq(
	        it_sh("sed -e \"s|^private_key_file = .*|&\\nprevious_private_key_file = "
	              "%s/rot.key|\" '%s' >'%s/rot-back.conf' && QUANTOR_CONFIG='%s/rot-back.conf' "
	              "'%s/quantorctl' keys rotate >>'%s/rot.log' 2>&1",
	              var, conf, var, var, bin, var),
	        0, "rotating back failed: see %s/rot.log", var);
}

Test(keys, a_key_a_running_live_bot_uses_cannot_be_deleted)
{
	const long long tg = 5300008;
	char *body = key_body("bitget", "trade", NULL), path[64];
	struct it_resp r;
	struct q_err err = {0};
	long long key_id, bot_id;

	it_as_user(&r, "POST", "/api/v1/exchange-keys", tg, body);
	free(body);
	cr_assert_eq(r.status, 201, "%s", r.raw.body.data);
	key_id = json_integer_value(json_object_get(json_object_get(r.json, "key"), "id"));
	it_release(&r);
	cr_assert_eq(q_db_exec(it_db(), &err,
	                       "INSERT INTO bots (user_id, exchange_key_id, exchange, strategy, "
	                       "symbol, candle_interval, mode, params, notional, status) VALUES "
	                       "(?, ?, 'bitget', 'EMA', 'BTCUSDT', '1h', 'LIVE', '{}', '100', "
	                       "'running')",
	                       "ii", it_user_id(tg), key_id),
	             1, "%s", err.msg);
	bot_id = (long long)q_db_insert_id(it_db());
	snprintf(path, sizeof(path), "/api/v1/exchange-keys/%lld", key_id);
	it_as_user(&r, "DELETE", path, tg, NULL);
	it_assert_error(&r, 409, "CONFLICT");
	it_release(&r);
	cr_expect_eq(it_count("SELECT COUNT(*) FROM exchange_keys WHERE id = ?", key_id), 1);
	/* Stopped, the bot no longer holds the key. */
	cr_assert_eq(q_db_exec(it_db(), &err, "UPDATE bots SET status = 'stopped' WHERE id = ?",
	                       "i", bot_id),
	             1);
	it_as_user(&r, "DELETE", path, tg, NULL);
	cr_expect_eq(r.status, 200, "%s", r.raw.body.data);
	it_release(&r);
}
