/*
 * q_db, the schema and quantorctl migrate against the stack's MariaDB (var/test/stack.env):
 * QUANTOR_CONFIG names the [db] settings, QUANTOR_DB_DIR the scripts/db.sh directory (to stop
 * and restart the server, or run SQL as its superuser), QUANTOR_SRC the repository.
 *
 * Rows written by these tests live inside transactions that are rolled back, or use ids no real
 * row has (negative Telegram update ids) and are deleted, so the stack's data is left as found.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "q_arena.h"
#include "q_buf.h"
#include "q_config.h"
#include "q_crypto.h"
#include "itest.h"
#include "q_db.h"
#include "q_err.h"

static struct q_config *cfg;

static const struct q_config *
config(void)
{
	struct q_err err = {0};

	if (cfg == NULL) {
		q_crypto_init();
		cfg = q_config_load(it_env("QUANTOR_CONFIG"), &err);
		cr_assert_not_null(cfg, "config: %s", err.msg);
	}
	return cfg;
}

static struct q_db *
open_db(int admin)
{
	struct q_buf pw = Q_BUF_INIT;
	struct q_err err = {0};
	struct q_db_opts o;
	struct q_db *db;

	cr_assert_eq(q_db_opts_from_config(&o, config(), admin, &pw, &err), 0, "%s", err.msg);
	db = q_db_open(&o, &err);
	q_buf_release_secret(&pw);
	cr_assert_not_null(db, "%s", err.msg);
	return db;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A value no real row uses: ids above 8e18 for Telegram users, below 0 for update ids. */
static long long
unique_id(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return 8000000000000000000LL + ((long long)getpid() << 32) + ts.tv_nsec;
}

/* Run a command through sh -c with its output (stdout and stderr) in out; its exit status. */
static int sh(struct q_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
sh(struct q_buf *out, const char *fmt, ...)
{
	struct q_buf cmd = Q_BUF_INIT;
	char chunk[4096];
	va_list ap;
	FILE *p;
	size_t n;
	int st;

	va_start(ap, fmt);
	q_buf_vprintf(&cmd, fmt, ap);
	va_end(ap);
	q_buf_adds(&cmd, " 2>&1");
	p = popen(cmd.data, "r");
	cr_assert_not_null(p, "popen %s", cmd.data);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		if (out != NULL)
			q_buf_add(out, chunk, n);
	st = pclose(p);
	q_buf_release(&cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static const char *const tables[] = {
        "users",
        "subscriptions",
        "billing_events",
        "exchange_keys",
        "bots",
        "orders",
        "fills",
        "positions",
        "daily_pnl",
        "equity",
        "candles",
        "regime_snapshots",
        "settings",
        "audit_log",
        "audit_head",
        "audit_checkpoints",
        "heartbeats",
        "pulse_runs",
        "outbox",
        "telegram_updates",
        "schema_migrations",
};

Test(db, every_table_exists_as_innodb_utf8mb4)
{
	static const char sql[] = "SELECT ENGINE, TABLE_COLLATION FROM information_schema.TABLES"
	                          " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?";
	struct q_db *db = open_db(0);
	struct q_err err = {0};
	char engine[32], coll[64], hash[65];
	long long seq;

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		int rc = q_db_row(db, &err, sql, "s>ss", tables[i], engine, sizeof(engine), coll,
		                  sizeof(coll));

		cr_assert_eq(rc, 1, "table %s: %s", tables[i], rc < 0 ? err.msg : "missing");
		cr_assert_str_eq(engine, "InnoDB", "table %s", tables[i]);
		cr_assert(strncmp(coll, "utf8mb4", 7) == 0, "table %s collation %s", tables[i],
		          coll);
	}
	/* The chain head is seeded: one row, id 1, a 64-hex hash. */
	cr_assert_eq(q_db_row(db, &err, "SELECT seq, hash FROM audit_head WHERE id = 1", ">is",
	                      &seq, hash, sizeof(hash)),
	             1, "%s", err.msg);
	cr_assert_geq(seq, 0);
	cr_assert_eq(strspn(hash, "0123456789abcdef"), 64, "head hash %s", hash);
	q_db_free(db);
}

/* A user and a PAPER bot inside the open transaction of db; returns the bot id. */
static long long
make_bot(struct q_db *db, long long *user_id)
{
	struct q_err err = {0};

	cr_assert_eq(q_db_exec(db, &err, "INSERT INTO users (telegram_id, username) VALUES (?, ?)",
	                       "is", unique_id(), "t_db"),
	             1, "%s", err.msg);
	*user_id = (long long)q_db_insert_id(db);
	cr_assert_gt(*user_id, 0);
	cr_assert_eq(
	        q_db_exec(db, &err,
	                  "INSERT INTO bots (user_id, exchange, strategy, symbol, candle_interval,"
	                  " mode, params, notional) VALUES (?, 'binance', 'EMA', 'BTCUSDT', '1h',"
	                  " 'PAPER', '{}', ?)",
	                  "im", *user_id, "100.5"),
	        1, "%s", err.msg);
	return (long long)q_db_insert_id(db);
}

static const char sql_order[] =
        "INSERT INTO orders (bot_id, user_id, client_order_id, exchange, mode, symbol, side, type,"
        " qty, price) VALUES (?, ?, ?, 'binance', 'PAPER', 'BTCUSDT', 'BUY', ?, ?, ?)";

/* Expect the last call to have failed as a duplicate of the unique key named key. */
static void
assert_duplicate(struct q_db *db, long long rc, struct q_err *err, const char *key)
{
	cr_assert_eq(rc, -1, "a duplicate %s was accepted", key);
	cr_assert_eq(err->code, Q_E_CONFLICT, "%s: %s", key, err->msg);
	cr_assert_eq(q_db_errno(db), 1062u);
	cr_assert(strstr(err->msg, key) != NULL, "message \"%s\" names %s", err->msg, key);
	cr_assert(!q_db_err_retryable(err));
	q_err_clear(err);
}

Test(db, unique_client_order_id_and_telegram_id)
{
	struct q_db *db = open_db(0);
	struct q_err err = {0};
	long long user, bot, tg = unique_id(), rc;
	char coid[64];

	snprintf(coid, sizeof(coid), "t-db-%d-%lld", getpid(), (long long)time(NULL));
	cr_assert_eq(q_db_begin(db, &err), 0, "%s", err.msg);
	bot = make_bot(db, &user);
	cr_assert_eq(q_db_exec(db, &err, sql_order, "iissmn", bot, user, coid, "MARKET", "0.5"), 1,
	             "%s", err.msg);
	rc = q_db_exec(db, &err, sql_order, "iissmn", bot, user, coid, "MARKET", "0.7");
	assert_duplicate(db, rc, &err, "uk_orders_client_order_id");
	/* The statement failed, the transaction did not: it still holds the first order. */
	cr_assert(q_db_in_tx(db));
	cr_assert_eq(q_db_exec(db, &err, "INSERT INTO users (telegram_id) VALUES (?)", "i", tg), 1,
	             "%s", err.msg);
	rc = q_db_exec(db, &err, "INSERT INTO users (telegram_id) VALUES (?)", "i", tg);
	assert_duplicate(db, rc, &err, "uk_users_telegram_id");
	cr_assert_eq(q_db_rollback(db, &err), 0, "%s", err.msg);
	cr_assert_eq(q_db_row(db, &err, "SELECT id FROM orders WHERE client_order_id = ?", "s>i",
	                      coid, &rc),
	             0, "rolled back order still there (%s)", err.msg);
	q_db_free(db);
}

Test(db, unique_billing_event_and_telegram_update)
{
	static const char sql_event[] =
	        "INSERT INTO billing_events (provider, event_id, type, payload)"
	        " VALUES (?, ?, 'order_created', '{}')";
	struct q_db *db = open_db(0);
	struct q_err err = {0};
	long long rc, upd = -unique_id();
	char ev[64];

	snprintf(ev, sizeof(ev), "t-db-ev-%d", getpid());
	cr_assert_eq(q_db_begin(db, &err), 0, "%s", err.msg);
	cr_assert_eq(q_db_exec(db, &err, sql_event, "ss", "lemonsqueezy", ev), 1, "%s", err.msg);
	rc = q_db_exec(db, &err, sql_event, "ss", "lemonsqueezy", ev);
	assert_duplicate(db, rc, &err, "uk_billing_events_provider_event");
	/* The same event id from another provider is another event. */
	cr_assert_eq(q_db_exec(db, &err, sql_event, "ss", "cryptocloud", ev), 1, "%s", err.msg);
	cr_assert_eq(q_db_exec(db, &err, "INSERT INTO telegram_updates (update_id) VALUES (?)", "i",
	                       upd),
	             1, "%s", err.msg);
	rc = q_db_exec(db, &err, "INSERT INTO telegram_updates (update_id) VALUES (?)", "i", upd);
	assert_duplicate(db, rc, &err, "PRIMARY");
	cr_assert_eq(q_db_rollback(db, &err), 0, "%s", err.msg);
	q_db_free(db);
}

static const char sql_audit[] = "INSERT INTO audit_log (seq, prev_hash, hash, ts, actor, type,"
                                " user_id, payload) VALUES (?, ?, ?, ?, 'test', 't_db', NULL, ?)";

/* 64 hex chars derived from a number, distinct for distinct n. */
static void
hex64(char out[65], unsigned long long n)
{
	uint8_t d[Q_SHA256_LEN];

	q_sha256(d, &n, sizeof(n));
	q_hex_encode(out, d, sizeof(d));
}

Test(db, audit_seq_and_prev_hash_are_unique)
{
	struct q_db *db = open_db(0);
	struct q_err err = {0};
	unsigned long long seq = (unsigned long long)unique_id();
	char a[65], b[65], c[65], d[65];
	long long rc;

	hex64(a, seq);
	hex64(b, seq + 1);
	hex64(c, seq + 2);
	hex64(d, seq + 3);
	cr_assert_eq(q_db_begin(db, &err), 0, "%s", err.msg);
	cr_assert_eq(q_db_exec(db, &err, sql_audit, "ussts", seq, a, b, 0LL, "{}"), 1, "%s",
	             err.msg);
	/* Same seq, another link: a fork at the same height. */
	rc = q_db_exec(db, &err, sql_audit, "ussts", seq, c, d, 0LL, "{}");
	assert_duplicate(db, rc, &err, "PRIMARY");
	/* Another seq claiming the same predecessor: a fork from the same parent. */
	rc = q_db_exec(db, &err, sql_audit, "ussts", seq + 1, a, c, 0LL, "{}");
	assert_duplicate(db, rc, &err, "uk_audit_log_prev_hash");
	/* A hash that is not 64 lowercase hex is refused by the CHECK. */
	rc = q_db_exec(db, &err, sql_audit, "ussts", seq + 2, d, "ABC", 0LL, "{}");
	cr_assert_eq(rc, -1);
	cr_assert_eq(err.code, Q_E_INTERNAL, "%s", err.msg);
	q_err_clear(&err);
	cr_assert_eq(q_db_rollback(db, &err), 0, "%s", err.msg);
	q_db_free(db);
}

Test(db, app_user_cannot_update_or_delete_audit_log)
{
	struct q_db *db = open_db(0);
	struct q_err err = {0};
	unsigned long long seq = (unsigned long long)unique_id();
	char a[65], b[65], actor[32];
	long long rc;

	hex64(a, seq);
	hex64(b, seq + 1);
	cr_assert_eq(q_db_begin(db, &err), 0, "%s", err.msg);
	/* INSERT and SELECT are allowed. */
	cr_assert_eq(q_db_exec(db, &err, sql_audit, "ussts", seq, a, b, 0LL, "{\"k\":1}"), 1, "%s",
	             err.msg);
	cr_assert_eq(q_db_row(db, &err, "SELECT actor FROM audit_log WHERE seq = ?", "u>s", seq,
	                      actor, sizeof(actor)),
	             1, "%s", err.msg);
	cr_assert_str_eq(actor, "test");
	/* UPDATE and DELETE are denied by the database itself. */
	rc = q_db_exec(db, &err, "UPDATE audit_log SET actor = 'evil' WHERE seq = ?", "u", seq);
	cr_assert_eq(rc, -1, "UPDATE audit_log was allowed");
	cr_assert_eq(err.code, Q_E_FORBIDDEN, "%s", err.msg);
	cr_assert_eq(q_db_errno(db), 1142u);
	q_err_clear(&err);
	rc = q_db_exec(db, &err, "DELETE FROM audit_log WHERE seq = ?", "u", seq);
	cr_assert_eq(rc, -1, "DELETE FROM audit_log was allowed");
	cr_assert_eq(err.code, Q_E_FORBIDDEN, "%s", err.msg);
	q_err_clear(&err);
	/* audit_head: UPDATE yes (appends move it), INSERT and DELETE no. */
	cr_assert_eq(q_db_exec(db, &err, "UPDATE audit_head SET seq = seq WHERE id = 1", ""), 1,
	             "%s", err.msg);
	rc = q_db_exec(db, &err, "DELETE FROM audit_head WHERE id = 1", "");
	cr_assert_eq(rc, -1);
	cr_assert_eq(err.code, Q_E_FORBIDDEN, "%s", err.msg);
	q_err_clear(&err);
	/* schema_migrations is read-only for the application. */
	rc = q_db_exec(db, &err, "DELETE FROM schema_migrations WHERE version = 0", "");
	cr_assert_eq(rc, -1);
	cr_assert_eq(err.code, Q_E_FORBIDDEN, "%s", err.msg);
	q_err_clear(&err);
	cr_assert_eq(q_db_rollback(db, &err), 0, "%s", err.msg);
	q_db_free(db);
}

Test(db, prepared_round_trip_of_every_type)
{
	struct q_db *db = open_db(0);
	struct q_err err = {0};
	struct q_stmt *st;
	static const char blob[] = {'a', '\0', 'b', (char)0xff, '\0'};
	const char *s;
	size_t len;
	long long us = 1700000000123456LL; /* 2023-11-14 22:13:20.123456 UTC */

	st = q_db_prepare(db, "SELECT ?, ?, ?, ?, ?, ?, ?, ?", &err);
	cr_assert_not_null(st, "%s", err.msg);
	q_stmt_bind_int64(st, 0, INT64_MIN);
	q_stmt_bind_uint64(st, 1, UINT64_MAX);
	q_stmt_bind_double(st, 2, 0.1);
	q_stmt_bind_str(st, 3, "h\xc3\xa9llo \xf0\x9f\x9a\x80"); /* 4-byte UTF-8 needs utf8mb4 */
	q_stmt_bind_blob(st, 4, blob, sizeof(blob));
	q_stmt_bind_null(st, 5);
	q_stmt_bind_decimal(st, 6, "-123456789012345678.123456789012345678");
	q_stmt_bind_time_us(st, 7, us);
	cr_assert_eq(q_stmt_exec(st, &err), 0, "%s", err.msg);
	cr_assert_eq(q_stmt_ncols(st), 8u);
	cr_assert_eq(q_stmt_fetch(st, &err), 1, "%s", err.msg);
	cr_assert_eq(q_stmt_col_int64(st, 0), INT64_MIN);
	cr_assert_eq(q_stmt_col_uint64(st, 1), UINT64_MAX);
	cr_assert_eq(q_stmt_col_double(st, 2), 0.1);
	cr_assert_str_eq(q_stmt_col_text(st, 3, NULL), "h\xc3\xa9llo \xf0\x9f\x9a\x80");
	s = q_stmt_col_text(st, 4, &len);
	cr_assert_eq(len, sizeof(blob));
	cr_assert_eq(memcmp(s, blob, len), 0);
	cr_assert(q_stmt_col_null(st, 5));
	cr_assert_null(q_stmt_col_text(st, 5, NULL));
	cr_assert(!q_stmt_col_null(st, 4));
	cr_assert_str_eq(q_stmt_col_text(st, 6, NULL), "-123456789012345678.123456789012345678");
	cr_assert_eq(q_stmt_col_time_us(st, 7), us);
	cr_assert_eq(q_stmt_fetch(st, &err), 0);
	q_stmt_done(st);

	/* A DATETIME(6) column keeps the microseconds; DECIMAL(36,18) keeps every digit. */
	cr_assert_eq(q_db_begin(db, &err), 0, "%s", err.msg);
	{
		long long user, bot = make_bot(db, &user), got_us, id;
		char coid[64], qty[64], price[64];

		snprintf(coid, sizeof(coid), "t-db-rt-%d", getpid());
		cr_assert_eq(q_db_exec(db, &err, sql_order, "iissmm", bot, user, coid, "LIMIT",
		                       "0.000000000000000001",
		                       "999999999999999999.999999999999999999"),
		             1, "%s", err.msg);
		id = (long long)q_db_insert_id(db);
		cr_assert_eq(q_db_exec(db, &err, "UPDATE orders SET created_at = ? WHERE id = ?",
		                       "ti", us, id),
		             1, "%s", err.msg);
		cr_assert_eq(q_db_row(db, &err,
		                      "SELECT qty, price, created_at FROM orders WHERE id = ?",
		                      "i>sst", id, qty, sizeof(qty), price, sizeof(price), &got_us),
		             1, "%s", err.msg);
		cr_assert_str_eq(qty, "0.000000000000000001");
		cr_assert_str_eq(price, "999999999999999999.999999999999999999");
		cr_assert_eq(got_us, us);
		st = q_db_prepare(db, "SELECT created_at, price FROM orders WHERE id = ?", &err);
		cr_assert_not_null(st, "%s", err.msg);
		q_stmt_bind_int64(st, 0, id);
		cr_assert_eq(q_stmt_exec(st, &err), 0, "%s", err.msg);
		cr_assert_eq(q_stmt_fetch(st, &err), 1, "%s", err.msg);
		cr_assert_str_eq(q_stmt_col_text(st, 0, NULL), "2023-11-14 22:13:20.123456");
		/* Too small a buffer is an error, never a silent truncation. */
		cr_assert_eq(q_stmt_col_copy(st, 1, qty, 8, &err), -1);
		cr_assert_eq(err.code, Q_E_INTERNAL);
		q_err_clear(&err);
		q_stmt_done(st);
	}
	cr_assert_eq(q_db_rollback(db, &err), 0, "%s", err.msg);
	q_db_free(db);
}

Test(db, long_text_is_never_truncated)
{
	struct q_db *db = open_db(0);
	struct q_arena *a = q_arena_new();
	struct q_buf big = Q_BUF_INIT, got = Q_BUF_INIT;
	struct q_err err = {0};
	struct q_stmt *st;
	const char *s;
	size_t len;
	char ev[64], *copy;
	long long id;

	/* > 64 KiB, so it needs more than a TEXT column and more than any initial buffer. */
	q_buf_adds(&big, "{\"pad\":\"");
	for (int i = 0; big.len < 100 * 1024; i++)
		q_buf_printf(&big, "%07d-", i);
	q_buf_adds(&big, "\"}");
	snprintf(ev, sizeof(ev), "t-db-long-%d", getpid());
	cr_assert_eq(q_db_begin(db, &err), 0, "%s", err.msg);
	cr_assert_eq(q_db_exec(db, &err,
	                       "INSERT INTO billing_events (provider, event_id, type, payload)"
	                       " VALUES ('manual', ?, 'test', ?)",
	                       "ss", ev, big.data),
	             1, "%s", err.msg);
	id = (long long)q_db_insert_id(db);
	cr_assert_eq(q_db_row(db, &err, "SELECT payload FROM billing_events WHERE id = ?", "i>b",
	                      id, &got),
	             1, "%s", err.msg);
	cr_assert_eq(got.len, big.len);
	cr_assert_eq(memcmp(got.data, big.data, big.len), 0);

	/* Short, long, short: the column buffer grows for the long row and still reads the rest. */
	st = q_db_prepare(db,
	                  "SELECT 'abc' UNION ALL SELECT payload FROM billing_events WHERE id = ?"
	                  " UNION ALL SELECT 'de'",
	                  &err);
	cr_assert_not_null(st, "%s", err.msg);
	q_stmt_bind_int64(st, 0, id);
	cr_assert_eq(q_stmt_exec(st, &err), 0, "%s", err.msg);
	cr_assert_eq(q_stmt_affected(st), 3);
	cr_assert_eq(q_stmt_fetch(st, &err), 1, "%s", err.msg);
	cr_assert_str_eq(q_stmt_col_text(st, 0, NULL), "abc");
	cr_assert_eq(q_stmt_fetch(st, &err), 1, "%s", err.msg);
	s = q_stmt_col_text(st, 0, &len);
	cr_assert_eq(len, big.len);
	cr_assert_eq(memcmp(s, big.data, len), 0);
	copy = q_stmt_col_strdup(st, 0, a, &len);
	cr_assert_eq(len, big.len);
	cr_assert_str_eq(copy, big.data);
	cr_assert_eq(q_stmt_fetch(st, &err), 1, "%s", err.msg);
	cr_assert_str_eq(q_stmt_col_text(st, 0, &len), "de");
	cr_assert_eq(len, 2u);
	cr_assert_eq(q_stmt_fetch(st, &err), 0);
	q_stmt_done(st);
	cr_assert_eq(q_db_rollback(db, &err), 0, "%s", err.msg);
	q_buf_release(&big);
	q_buf_release(&got);
	q_arena_destroy(a);
	q_db_free(db);
}

Test(db, misuse_is_reported_not_executed)
{
	struct q_db *db = open_db(0);
	struct q_err err = {0};
	struct q_stmt *st;
	long long v;

	/* An SQL error at prepare time names the server's complaint. */
	cr_assert_null(q_db_prepare(db, "SELEKT 1", &err));
	cr_assert_eq(err.code, Q_E_INTERNAL);
	cr_assert(strstr(err.msg, "SQL syntax") != NULL, "%s", err.msg);
	cr_assert_eq(q_db_errno(db), 1064u);
	q_err_clear(&err);
	/* A bind past the last placeholder, a parameter left unbound, a malformed decimal. */
	st = q_db_prepare(db, "SELECT ? + ?", &err);
	cr_assert_not_null(st, "%s", err.msg);
	q_stmt_bind_int64(st, 0, 1);
	cr_assert_eq(q_stmt_exec(st, &err), -1);
	cr_assert(strstr(err.msg, "not bound") != NULL, "%s", err.msg);
	q_err_clear(&err);
	q_stmt_bind_int64(st, 2, 1);
	cr_assert_eq(q_stmt_exec(st, &err), -1);
	cr_assert(strstr(err.msg, "out of range") != NULL, "%s", err.msg);
	q_stmt_done(st);
	q_err_clear(&err);
	st = q_db_prepare(db, "SELECT ?", &err);
	cr_assert_not_null(st, "%s", err.msg);
	q_stmt_bind_decimal(st, 0, "1e5");
	cr_assert_eq(q_stmt_exec(st, &err), -1);
	cr_assert_eq(err.code, Q_E_BAD_REQUEST, "%s", err.msg);
	q_stmt_done(st);
	q_err_clear(&err);
	/* The varargs helpers check the type string against the placeholders. */
	cr_assert_eq(q_db_exec(db, &err, "SELECT ?", "ii", 1LL, 2LL), -1);
	cr_assert_eq(err.code, Q_E_INTERNAL);
	q_err_clear(&err);
	cr_assert_eq(q_db_row(db, &err, "SELECT 1", ">ii", &v, &v), -1);
	q_err_clear(&err);
	/* Strict mode: a malformed number is refused, not cut to 12 with a warning. */
	cr_assert_eq(q_db_begin(db, &err), 0, "%s", err.msg);
	cr_assert_eq(q_db_exec(db, &err, "INSERT INTO telegram_updates (update_id) VALUES (?)", "s",
	                       "-12abc"),
	             -1, "strict mode is off");
	cr_assert_eq(err.code, Q_E_INTERNAL, "%s", err.msg);
	cr_assert(q_db_errno(db) == 1265 || q_db_errno(db) == 1366, "%s", err.msg);
	q_err_clear(&err);
	cr_assert_eq(q_db_rollback(db, &err), 0, "%s", err.msg);
	/* And the handle is fine afterwards, with the session settings in place. */
	{
		char tz[16], mode[512];

		cr_assert_eq(q_db_row(db, &err, "SELECT @@session.time_zone, @@session.sql_mode",
		                      ">ss", tz, sizeof(tz), mode, sizeof(mode)),
		             1, "%s", err.msg);
		cr_assert_str_eq(tz, "+00:00");
		cr_assert(strstr(mode, "STRICT_ALL_TABLES") != NULL, "%s", mode);
	}
	q_db_free(db);
}

Test(db, transactions_commit_and_roll_back)
{
	static const char ins[] = "INSERT INTO telegram_updates (update_id) VALUES (?)";
	static const char sel[] = "SELECT COUNT(*) FROM telegram_updates WHERE update_id = ?";
	struct q_db *db = open_db(0), *other = open_db(0);
	struct q_err err = {0};
	long long id = -unique_id(), n;

	cr_assert(!q_db_in_tx(db));
	cr_assert_eq(q_db_begin(db, &err), 0, "%s", err.msg);
	cr_assert(q_db_in_tx(db));
	cr_assert_eq(q_db_begin(db, &err), -1, "a nested begin was accepted");
	q_err_clear(&err);
	cr_assert_eq(q_db_exec(db, &err, ins, "i", id), 1, "%s", err.msg);
	cr_assert_eq(q_db_row(other, &err, sel, "i>i", id, &n), 1, "%s", err.msg);
	cr_assert_eq(n, 0, "uncommitted row visible to another connection");
	cr_assert_eq(q_db_rollback(db, &err), 0, "%s", err.msg);
	cr_assert(!q_db_in_tx(db));
	cr_assert_eq(q_db_row(db, &err, sel, "i>i", id, &n), 1, "%s", err.msg);
	cr_assert_eq(n, 0, "rolled back row still there");

	cr_assert_eq(q_db_begin(db, &err), 0, "%s", err.msg);
	cr_assert_eq(q_db_exec(db, &err, ins, "i", id), 1, "%s", err.msg);
	cr_assert_eq(q_db_commit(db, &err), 0, "%s", err.msg);
	cr_assert(!q_db_in_tx(db));
	cr_assert_eq(q_db_row(other, &err, sel, "i>i", id, &n), 1, "%s", err.msg);
	cr_assert_eq(n, 1, "committed row not visible");
	/* Autocommit is back: a plain statement is visible at once. */
	cr_assert_eq(
	        q_db_exec(db, &err, "DELETE FROM telegram_updates WHERE update_id = ?", "i", id), 1,
	        "%s", err.msg);
	cr_assert_eq(q_db_row(other, &err, sel, "i>i", id, &n), 1, "%s", err.msg);
	cr_assert_eq(n, 0, "autocommit was not restored");
	cr_assert_eq(q_db_commit(db, &err), -1, "commit outside a transaction");
	q_db_free(db);
	q_db_free(other);
}

struct locker {
	struct q_db *db;
	long long id;
	long long rc;
	struct q_err err;
};

static const char sql_touch[] = "UPDATE telegram_updates SET received_at = UTC_TIMESTAMP(6)"
                                " WHERE update_id = ?";

static void *
lock_second(void *arg)
{
	struct locker *l = arg;

	l->rc = q_db_exec(l->db, &l->err, sql_touch, "i", l->id);
	return NULL;
}

static long long dl_ids[2];

static void
deadlock_fini(void)
{
	struct q_err err = {0};
	struct q_db *db = open_db(0);

	q_db_exec(db, &err, "DELETE FROM telegram_updates WHERE update_id IN (?, ?)", "ii",
	          dl_ids[0], dl_ids[1]);
	q_db_free(db);
}

Test(db, deadlock_is_a_retryable_conflict, .fini = deadlock_fini)
{
	struct q_db *a = open_db(0), *b = open_db(0);
	struct locker l = {0};
	struct q_err err = {0};
	pthread_t th;
	long long rc;

	dl_ids[0] = -unique_id();
	dl_ids[1] = dl_ids[0] - 1;
	for (int i = 0; i < 2; i++)
		cr_assert_eq(q_db_exec(a, &err,
		                       "INSERT INTO telegram_updates (update_id) VALUES (?)", "i",
		                       dl_ids[i]),
		             1, "%s", err.msg);
	/* a locks row 0, b locks row 1; then a wants row 1 (waits) and b wants row 0: a cycle. */
	cr_assert_eq(q_db_begin(a, &err), 0, "%s", err.msg);
	cr_assert_eq(q_db_begin(b, &err), 0, "%s", err.msg);
	cr_assert_eq(q_db_exec(a, &err, sql_touch, "i", dl_ids[0]), 1, "%s", err.msg);
	cr_assert_eq(q_db_exec(b, &err, sql_touch, "i", dl_ids[1]), 1, "%s", err.msg);
	l.db = a;
	l.id = dl_ids[1];
	cr_assert_eq(pthread_create(&th, NULL, lock_second, &l), 0);
	usleep(300 * 1000);
	rc = q_db_exec(b, &err, sql_touch, "i", dl_ids[0]);
	cr_assert_eq(pthread_join(th, NULL), 0);
	/* InnoDB picks one victim: exactly one of the two failed, as a retryable conflict. */
	cr_assert((rc == -1) != (l.rc == -1), "b: %lld (%s), a: %lld (%s)", rc, err.msg, l.rc,
	          l.err.msg);
	{
		struct q_err *e = rc == -1 ? &err : &l.err;
		struct q_db *victim = rc == -1 ? b : a;

		cr_assert_eq(e->code, Q_E_DB_CONFLICT, "%s", e->msg);
		cr_assert(q_db_err_retryable(e));
		cr_assert_eq(q_db_errno(victim), 1213u);
	}
	q_err_clear(&err);
	cr_assert_eq(q_db_rollback(a, &err), 0, "%s", err.msg);
	cr_assert_eq(q_db_rollback(b, &err), 0, "%s", err.msg);
	q_db_free(a);
	q_db_free(b);
}

Test(db, unreachable_server_fails_fast_without_the_password)
{
	struct q_buf pw = Q_BUF_INIT;
	struct q_err err = {0};
	struct q_db_opts o;
	struct q_db *db;
	long long t0;

	cr_assert_eq(q_db_opts_from_config(&o, config(), 0, &pw, &err), 0, "%s", err.msg);
	cr_assert_gt(pw.len, 0u, "the test needs a password-protected application user");
	/* A worker can start while the database is away, and learns it on first use. */
	o.socket = "/nonexistent/quantor-test.sock";
	db = q_db_open_lazy(&o, &err);
	cr_assert_not_null(db, "%s", err.msg);
	t0 = now_ms();
	cr_assert_eq(q_db_ping(db, &err), -1);
	cr_assert_lt(now_ms() - t0, 2000);
	cr_assert_eq(err.code, Q_E_DB_UNAVAILABLE, "%s", err.msg);
	cr_assert(strncmp(err.msg, "database unavailable: ", 22) == 0, "%s", err.msg);
	q_err_clear(&err);
	cr_assert_eq(q_db_exec(db, &err, "SELECT 1", ""), -1);
	cr_assert_eq(err.code, Q_E_DB_UNAVAILABLE, "%s", err.msg);
	q_db_free(db);
	q_err_clear(&err);
	/* A wrong password: refused at once (no retries), and the message does not echo it. */
	o.socket = q_config_get(config(), "db", "socket", NULL);
	o.password = "Wr0ng-pa55word-for-t_db";
	o.retries = 3;
	t0 = now_ms();
	cr_assert_null(q_db_open(&o, &err));
	cr_assert_lt(now_ms() - t0, 2000, "access denied was retried");
	cr_assert_eq(err.code, Q_E_DB_UNAVAILABLE, "%s", err.msg);
	cr_assert(strstr(err.msg, "Access denied") != NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, o.password) == NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, pw.data) == NULL, "%s", err.msg);
	q_buf_release_secret(&pw);
}

Test(db, lost_connection_is_replaced_outside_a_transaction)
{
	struct q_db *db = open_db(0), *killer = open_db(0);
	struct q_err err = {0};
	long long id, id2, n;

	cr_assert_eq(q_db_row(db, &err, "SELECT CONNECTION_ID()", ">i", &id), 1, "%s", err.msg);
	cr_assert_eq(q_db_exec(killer, &err, "KILL CONNECTION ?", "i", id), 0, "%s", err.msg);
	/* Outside a transaction the next call just works, on a new connection. */
	cr_assert_eq(q_db_row(db, &err, "SELECT CONNECTION_ID()", ">i", &id2), 1, "%s", err.msg);
	cr_assert_neq(id2, id);
	/* Inside one, the loss is reported and sticks until the rollback. */
	cr_assert_eq(q_db_begin(db, &err), 0, "%s", err.msg);
	cr_assert_eq(q_db_row(db, &err, "SELECT COUNT(*) FROM audit_head", ">i", &n), 1, "%s",
	             err.msg);
	cr_assert_eq(q_db_exec(killer, &err, "KILL CONNECTION ?", "i", id2), 0, "%s", err.msg);
	cr_assert_eq(q_db_row(db, &err, "SELECT COUNT(*) FROM audit_head", ">i", &n), -1);
	cr_assert_eq(err.code, Q_E_DB_UNAVAILABLE, "%s", err.msg);
	cr_assert(strstr(err.msg, "transaction") != NULL, "%s", err.msg);
	q_err_clear(&err);
	cr_assert_eq(q_db_row(db, &err, "SELECT 1", ">i", &n), -1,
	             "ran outside the lost transaction");
	cr_assert_eq(err.code, Q_E_DB_UNAVAILABLE, "%s", err.msg);
	q_err_clear(&err);
	cr_assert_eq(q_db_commit(db, &err), -1, "a lost transaction committed");
	q_err_clear(&err);
	cr_assert_eq(q_db_rollback(db, &err), 0, "%s", err.msg);
	cr_assert(!q_db_in_tx(db));
	cr_assert_eq(q_db_row(db, &err, "SELECT 1", ">i", &n), 1, "%s", err.msg);
	q_db_free(db);
	q_db_free(killer);
}

/*
 * The restart test stops and starts a server of its own (scripts/db.sh in a temporary
 * directory, bootstrapped like the stack's; it logs in as that database's owner, with a
 * password), not the stack's: tests running beside it, and the stack's own responders and
 * trader, never see the database vanish.
 */
static char priv_dir[64];

static void
private_server_stop(void)
{
	/* Whatever the test did or asserted, no server is left behind. */
	if (priv_dir[0] == '\0')
		return;
	sh(NULL, "'%s/scripts/db.sh' stop '%s'", it_env("QUANTOR_SRC"), priv_dir);
	sh(NULL, "rm -rf '%s'", priv_dir);
}

static struct q_db *
private_db(const char *password)
{
	struct q_err err = {0};
	struct q_db_opts o = {0};
	char sock[128];
	struct q_db *db;

	snprintf(sock, sizeof(sock), "%s/mysql.sock", priv_dir);
	o.socket = sock;
	o.name = "quantor_t";
	o.user = "quantor_t";
	o.password = password;
	o.connect_timeout_s = 5;
	db = q_db_open(&o, &err);
	cr_assert_not_null(db, "%s", err.msg);
	return db;
}

Test(db, survives_a_server_restart, .fini = private_server_stop, .timeout = 180)
{
	static const char password[] = "t-db-restart-Pa55";
	struct q_buf out = Q_BUF_INIT;
	struct q_err err = {0};
	struct q_db *db, *tx;
	long long v, t0;
	int rc;

	snprintf(priv_dir, sizeof(priv_dir), "/tmp/quantor-t-db-XXXXXX");
	cr_assert_not_null(mkdtemp(priv_dir));
	rc = sh(&out,
	        "cd '%s' && umask 077 && printf 'x%%s' '%s' > app.pw && printf '%%s' '%s' > owner.pw"
	        " && '%s/scripts/db.sh' start . && '%s/scripts/db.sh' bootstrap . quantor_t"
	        " quantor_t_app app.pw quantor_t owner.pw",
	        priv_dir, password, password, it_env("QUANTOR_SRC"), it_env("QUANTOR_SRC"));
	cr_assert_eq(rc, 0, "private server: %s", out.data);
	db = private_db(password);
	tx = private_db(password);
	cr_assert_eq(q_db_row(db, &err, "SELECT 1", ">i", &v), 1, "%s", err.msg);
	cr_assert_eq(q_db_begin(tx, &err), 0, "%s", err.msg);
	cr_assert_eq(q_db_row(tx, &err, "SELECT 1", ">i", &v), 1, "%s", err.msg);
	q_buf_reset(&out);
	rc = sh(&out, "'%s/scripts/db.sh' stop '%s'", it_env("QUANTOR_SRC"), priv_dir);
	cr_assert_eq(rc, 0, "db.sh stop: %s", out.data);

	/* Down: every call fails at once with DB_UNAVAILABLE. */
	t0 = now_ms();
	cr_assert_eq(q_db_row(db, &err, "SELECT 1", ">i", &v), -1,
	             "a query ran with the server down");
	cr_assert_lt(now_ms() - t0, 2000, "failing took %lld ms", now_ms() - t0);
	cr_assert_eq(err.code, Q_E_DB_UNAVAILABLE, "%s", err.msg);
	cr_assert(strstr(err.msg, password) == NULL, "%s", err.msg);
	q_err_clear(&err);
	cr_assert_eq(q_db_ping(db, &err), -1);
	cr_assert_eq(err.code, Q_E_DB_UNAVAILABLE, "%s", err.msg);
	q_err_clear(&err);
	cr_assert_eq(q_db_row(tx, &err, "SELECT 1", ">i", &v), -1);
	cr_assert_eq(err.code, Q_E_DB_UNAVAILABLE, "%s", err.msg);
	q_err_clear(&err);

	q_buf_reset(&out);
	rc = sh(&out, "'%s/scripts/db.sh' start '%s'", it_env("QUANTOR_SRC"), priv_dir);
	cr_assert_eq(rc, 0, "db.sh start: %s", out.data);
	/* Up again: the same handles recover by themselves (after the short fail-fast window),
	 * logging in again with the password they kept. */
	t0 = now_ms();
	while (q_db_ping(db, &err) < 0 && now_ms() - t0 < 10000) {
		q_err_clear(&err);
		usleep(100 * 1000);
	}
	cr_assert_eq(err.code, Q_OK, "still down after the restart: %s", err.msg);
	cr_assert_eq(q_db_row(db, &err, "SELECT 2", ">i", &v), 1, "%s", err.msg);
	cr_assert_eq(v, 2);
	/* The lost transaction stays lost until rolled back; then that handle works too. */
	cr_assert_eq(q_db_row(tx, &err, "SELECT 1", ">i", &v), -1);
	cr_assert_eq(err.code, Q_E_DB_UNAVAILABLE, "%s", err.msg);
	q_err_clear(&err);
	cr_assert_eq(q_db_rollback(tx, &err), 0, "%s", err.msg);
	v = 0;
	t0 = now_ms();
	while (q_db_row(tx, &err, "SELECT 3", ">i", &v) != 1 && now_ms() - t0 < 10000) {
		q_err_clear(&err);
		usleep(100 * 1000);
	}
	cr_assert_eq(v, 3, "%s", err.msg);
	q_buf_release(&out);
	q_db_free(db);
	q_db_free(tx);
}

/* ---- quantorctl migrate ------------------------------------------------------------------ */

Test(migrate, is_idempotent)
{
	struct q_buf out = Q_BUF_INIT;
	int rc;

	for (int i = 0; i < 2; i++) {
		q_buf_reset(&out);
		rc = sh(&out, "'%s/quantorctl' migrate --dir '%s/sql/migrations'", it_build_dir(),
		        it_env("QUANTOR_SRC"));
		cr_assert_eq(rc, 0, "run %d: %s", i + 1, out.data);
	}
	cr_assert(strstr(out.data, "schema up to date (") != NULL, "second run: %s", out.data);
	cr_assert(strstr(out.data, "applied ") == NULL, "second run applied: %s", out.data);
	q_buf_release(&out);
}

/* A scratch database the admin user owns, a copy of the migrations and a config for both. */
static char scratch_db[64], scratch_dir[256], scratch_conf[300];

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	cr_assert_geq(fputs(text, f), 0);
	cr_assert_eq(fclose(f), 0);
}

/* The absolute path of a [db] secret file as the main config names it. */
static const char *
secret_path(const char *key, char *out, size_t outlen)
{
	const char *v = q_config_get(config(), "db", key, NULL);
	const char *conf = it_env("QUANTOR_CONFIG");
	const char *slash = strrchr(conf, '/');

	cr_assert_not_null(v, "[db] %s is not set", key);
	if (v[0] == '/' || slash == NULL)
		snprintf(out, outlen, "%s", v);
	else
		snprintf(out, outlen, "%.*s/%s", (int)(slash - conf), conf, v);
	return out;
}

/*
 * Called first thing in a test body, not as .init: Criterion runs .fini after a failed body but
 * not after a failed .init, and the scratch database must never be left behind.
 */
static void
scratch_init(void)
{
	const char *admin = q_config_get(config(), "db", "admin_user", NULL);
	const char *sock = q_config_get(config(), "db", "socket", NULL);
	struct q_buf out = Q_BUF_INIT, conf = Q_BUF_INIT;
	char pw[512], apw[512];
	int rc;

	cr_assert(
	        admin != NULL &&
	                strspn(admin,
	                       "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
	                        strlen(admin),
	        "[db] admin_user");
	snprintf(scratch_db, sizeof(scratch_db), "quantor_t_migrate_%d", getpid());
	snprintf(scratch_dir, sizeof(scratch_dir), "/tmp/quantor-t-migrate-XXXXXX");
	cr_assert_not_null(mkdtemp(scratch_dir));
	snprintf(scratch_conf, sizeof(scratch_conf), "%s/quantor.conf", scratch_dir);
	/* The migration owner has rights on its own database only: the superuser makes the scratch
	 * one and hands it over. */
	rc = sh(&out,
	        "'%s/scripts/db.sh' sql '%s' -e \"CREATE DATABASE %s CHARACTER SET utf8mb4;"
	        " GRANT ALL PRIVILEGES ON %s.* TO '%s'@'localhost' WITH GRANT OPTION\"",
	        it_env("QUANTOR_SRC"), it_env("QUANTOR_DB_DIR"), scratch_db, scratch_db, admin);
	cr_assert_eq(rc, 0, "%s", out.data);
	q_buf_adds(&conf, "[db]\n");
	if (sock != NULL)
		q_buf_printf(&conf, "socket = %s\n", sock);
	q_buf_printf(&conf,
	             "host = %s\nport = %s\nname = %s\nuser = %s\npassword_file = %s\n"
	             "admin_user = %s\nadmin_password_file = %s\nconnect_timeout = 5\n"
	             "connect_retries = 1\n",
	             q_config_get(config(), "db", "host", "127.0.0.1"),
	             q_config_get(config(), "db", "port", "3306"), scratch_db,
	             q_config_get(config(), "db", "user", "quantor"),
	             secret_path("password_file", pw, sizeof(pw)), admin,
	             secret_path("admin_password_file", apw, sizeof(apw)));
	write_file(scratch_dir, "quantor.conf", conf.data);
	q_buf_release(&conf);
	q_buf_release(&out);
}

static void
scratch_fini(void)
{
	if (scratch_db[0] == '\0')
		return;
	sh(NULL,
	   "'%s/scripts/db.sh' sql '%s' -e \"DROP DATABASE IF EXISTS %s;"
	   " DELETE FROM mysql.tables_priv WHERE Db = '%s'; DELETE FROM mysql.db WHERE Db = '%s';"
	   " FLUSH PRIVILEGES\"",
	   it_env("QUANTOR_SRC"), it_env("QUANTOR_DB_DIR"), scratch_db, scratch_db, scratch_db);
	sh(NULL, "rm -rf '%s'", scratch_dir);
}

static int
migrate_scratch(struct q_buf *out, const char *dir)
{
	q_buf_reset(out);
	return sh(out, "QUANTOR_CONFIG='%s' '%s/quantorctl' migrate --dir '%s'", scratch_conf,
	          it_build_dir(), dir);
}

static void
file_sha256(const char *dir, const char *name, char hex[65])
{
	uint8_t d[Q_SHA256_LEN], buf[8192];
	struct q_sha256 s;
	char path[512];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	q_sha256_init(&s);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		q_sha256_update(&s, buf, n);
	fclose(f);
	q_sha256_final(&s, d);
	q_hex_encode(hex, d, sizeof(d));
}

/* Quotes, escapes and comments that hold ';' must not split a statement. */
static const char tricky[] =
        "-- 0002: the splitter's test; not a statement\n"
        "CREATE TABLE t_extra (id INT PRIMARY KEY, note VARCHAR(64) NOT NULL)"
        " ENGINE=InnoDB; # trailing; comment\n"
        "/* a block; comment\n   over two lines; */\n"
        "INSERT INTO t_extra VALUES (1, 'semi;colon'), (2, 'it''s; \\'quoted\\''),"
        "\n  (3, \"double;\"), (4, '-- not a comment; /* nor this */');\n";

Test(migrate, refuses_a_changed_or_missing_migration, .fini = scratch_fini, .timeout = 120)
{
	struct q_buf out = Q_BUF_INIT, path = Q_BUF_INIT;
	char sum_old[65], sum_new[65], note[64];
	struct q_err err = {0};
	struct q_db *db;
	int rc;

	scratch_init();
	rc = sh(&out, "cp '%s/sql/migrations/'*.sql '%s/'", it_env("QUANTOR_SRC"), scratch_dir);
	cr_assert_eq(rc, 0, "%s", out.data);
	write_file(scratch_dir, "0900_t_extra.sql", tricky);
	cr_assert_eq(migrate_scratch(&out, scratch_dir), 0, "%s", out.data);
	cr_assert(strstr(out.data, "applied 0001_init.sql") != NULL, "%s", out.data);
	cr_assert(strstr(out.data, "applied 0900_t_extra.sql (2 statements") != NULL, "%s",
	          out.data);
	cr_assert_eq(migrate_scratch(&out, scratch_dir), 0, "%s", out.data);
	cr_assert(strstr(out.data, "schema up to date (") != NULL, "%s", out.data);

	/* Recorded with the file's checksum; the strings went in whole. */
	{
		struct q_buf pw = Q_BUF_INIT;
		struct q_config *sc = q_config_load(scratch_conf, &err);
		struct q_db_opts o;
		char sum[65];

		cr_assert_not_null(sc, "%s", err.msg);
		cr_assert_eq(q_db_opts_from_config(&o, sc, 1, &pw, &err), 0, "%s", err.msg);
		db = q_db_open(&o, &err);
		q_buf_release_secret(&pw);
		cr_assert_not_null(db, "%s", err.msg);
		file_sha256(scratch_dir, "0900_t_extra.sql", sum_old);
		cr_assert_eq(q_db_row(db, &err,
		                      "SELECT checksum FROM schema_migrations WHERE version = 900",
		                      ">s", sum, sizeof(sum)),
		             1, "%s", err.msg);
		cr_assert_str_eq(sum, sum_old);
		cr_assert_eq(q_db_row(db, &err, "SELECT note FROM t_extra WHERE id = 2", ">s", note,
		                      sizeof(note)),
		             1, "%s", err.msg);
		cr_assert_str_eq(note, "it's; 'quoted'");
		cr_assert_eq(q_db_row(db, &err, "SELECT note FROM t_extra WHERE id = 4", ">s", note,
		                      sizeof(note)),
		             1, "%s", err.msg);
		cr_assert_str_eq(note, "-- not a comment; /* nor this */");
		q_db_free(db);
		q_config_free(sc);
	}

	/* An applied file that changed: refused, naming the file and both checksums. */
	q_buf_printf(&path, "%s/0900_t_extra.sql", scratch_dir);
	rc = sh(&out, "echo '-- an edit' >> '%s'", path.data);
	cr_assert_eq(rc, 0);
	file_sha256(scratch_dir, "0900_t_extra.sql", sum_new);
	cr_assert_str_neq(sum_old, sum_new);
	rc = migrate_scratch(&out, scratch_dir);
	cr_assert_eq(rc, 1, "exit %d: %s", rc, out.data);
	cr_assert(strstr(out.data, "quantorctl: migration 0900_t_extra.sql changed") != NULL, "%s",
	          out.data);
	cr_assert(strstr(out.data, sum_old) != NULL, "%s", out.data);
	cr_assert(strstr(out.data, sum_new) != NULL, "%s", out.data);

	/* An applied file that is gone: refused too. */
	cr_assert_eq(unlink(path.data), 0);
	rc = migrate_scratch(&out, scratch_dir);
	cr_assert_eq(rc, 1, "exit %d: %s", rc, out.data);
	cr_assert(strstr(out.data, "0900_t_extra.sql is missing") != NULL, "%s", out.data);

	/* Put back as it was: up to date again. */
	write_file(scratch_dir, "0900_t_extra.sql", tricky);
	cr_assert_eq(migrate_scratch(&out, scratch_dir), 0, "%s", out.data);
	cr_assert(strstr(out.data, "schema up to date (") != NULL, "%s", out.data);

	/* A new file numbered below the newest applied one would run out of order. */
	write_file(scratch_dir, "0500_late.sql", "SELECT 1;\n");
	rc = migrate_scratch(&out, scratch_dir);
	cr_assert_eq(rc, 1, "exit %d: %s", rc, out.data);
	cr_assert(strstr(out.data, "0500_late.sql is numbered below") != NULL, "%s", out.data);
	q_buf_release(&path);
	q_buf_release(&out);
}

Test(migrate, names_the_failing_statement, .fini = scratch_fini, .timeout = 120)
{
	struct q_buf out = Q_BUF_INIT;
	int rc;

	scratch_init();
	write_file(scratch_dir, "0001_ok.sql", "CREATE TABLE t_ok (id INT PRIMARY KEY);\n");
	write_file(scratch_dir, "0002_bad.sql",
	           "CREATE TABLE t_two (id INT PRIMARY KEY);\n\n"
	           "-- the next one is wrong\n"
	           "ALTER TABLE t_missing ADD COLUMN x INT;\n");
	rc = migrate_scratch(&out, scratch_dir);
	cr_assert_eq(rc, 1, "exit %d: %s", rc, out.data);
	cr_assert(strstr(out.data, "applied 0001_ok.sql") != NULL, "%s", out.data);
	cr_assert(strstr(out.data, "0002_bad.sql: statement 2 (line 4) failed") != NULL, "%s",
	          out.data);
	cr_assert(strstr(out.data, "0002_bad.sql: statement 1 before it stays applied") != NULL,
	          "%s", out.data);
	/* A badly named file is not skipped silently. */
	write_file(scratch_dir, "3-oops.sql", "SELECT 1;\n");
	rc = migrate_scratch(&out, scratch_dir);
	cr_assert_eq(rc, 1, "exit %d: %s", rc, out.data);
	cr_assert(strstr(out.data, "3-oops.sql: a migration is named NNNN_name.sql") != NULL, "%s",
	          out.data);
	q_buf_release(&out);
}
