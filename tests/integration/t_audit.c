/*
 * The audit chain against the live stack (var/test/stack.env): appends through q_audit as the
 * application user, the /api/v1/audit endpoints through nginx, quantorctl audit, and tampering
 * done directly in SQL as the migration owner (who, unlike the application, may UPDATE and
 * DELETE audit_log). Later suites append to the same chain, so every test that breaks the
 * chain puts back the exact original rows and checks that it verifies again.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"
#include "q_audit.h"
#include "q_buf.h"
#include "q_checkpoint.h"
#include "q_config.h"
#include "q_crypto.h"
#include "q_db.h"

#define ACTOR "system:t_audit"
#define WRITERS 8
#define PER_WRITER 500

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

/* The application user (admin 0) or the migration owner (admin 1). */
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

/* Append n events as ACTOR of type; returns the last entry. */
static struct q_audit_entry
append_some(struct q_db *db, int n, const char *type)
{
	struct q_audit_entry e = {0};
	struct q_err err = {0};

	for (int i = 0; i < n; i++) {
		json_t *data = json_pack("{s:i, s:s}", "i", i, "amount", "12.50");

		cr_assert_eq(q_audit_append(db, ACTOR, 0, type, data, &e, &err), 0, "%s", err.msg);
		json_decref(data);
	}
	return e;
}

static struct q_audit_entry
head(struct q_db *db)
{
	struct q_audit_entry h;
	struct q_err err = {0};

	cr_assert_eq(q_audit_head(db, &h, &err), 0, "%s", err.msg);
	return h;
}

/* GET /api/v1/audit/verify: 0 when ok (with *seq), else the first bad seq reported. */
static unsigned long long
http_verify(unsigned long long *seq, char head_hex[65])
{
	struct it_resp r;
	unsigned long long bad = 0;
	json_t *ok;

	it_request(&r, "GET", "/api/v1/audit/verify", NULL, 0, NULL);
	cr_assert_eq(r.status, 200, "body %s", r.raw.body.data);
	ok = json_object_get(r.json, "ok");
	cr_assert(json_is_boolean(ok), "body %s", r.raw.body.data);
	if (json_is_true(ok)) {
		cr_assert_eq(json_object_size(r.json), 3u, "body %s", r.raw.body.data);
		if (seq)
			*seq = (unsigned long long)json_integer_value(
			        json_object_get(r.json, "seq"));
		if (head_hex)
			snprintf(head_hex, 65, "%s",
			         json_string_value(json_object_get(r.json, "head")));
	} else {
		cr_assert_eq(json_object_size(r.json), 2u, "body %s", r.raw.body.data);
		bad = (unsigned long long)json_integer_value(
		        json_object_get(r.json, "first_bad_seq"));
		cr_assert_gt(bad, 0u, "body %s", r.raw.body.data);
	}
	it_release(&r);
	return bad;
}

static void
assert_chain_ok(void)
{
	unsigned long long seq = 0, bad = http_verify(&seq, NULL);

	cr_assert_eq(bad, 0u, "the chain is broken at seq %llu", bad);
}

/* Run a shell command from the repository root; its exit status, its output in out. */
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

	q_buf_printf(&cmd, "cd '%s' && ", it_env("QUANTOR_SRC"));
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

/* ---- one row, saved and put back by the migration owner -------------------------------- */

struct row {
	unsigned long long seq;
	char prev[65], hash[65], actor[129], type[65];
	long long ts_us, user_id;
	struct q_buf payload;
};

static const char sql_row[] = "SELECT seq, prev_hash, hash, ts, actor, type, user_id, payload"
                              " FROM audit_log WHERE seq = ?";
static const char sql_put_row[] =
        "INSERT INTO audit_log (seq, prev_hash, hash, ts, actor, type, user_id, payload)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

static void
save_row(struct q_db *admin, unsigned long long seq, struct row *r)
{
	struct q_err err = {0};

	memset(r, 0, sizeof(*r));
	q_buf_init(&r->payload);
	cr_assert_eq(q_db_row(admin, &err, sql_row, "u>usstssib", seq, &r->seq, r->prev,
	                      sizeof(r->prev), r->hash, sizeof(r->hash), &r->ts_us, r->actor,
	                      sizeof(r->actor), r->type, sizeof(r->type), &r->user_id, &r->payload),
	             1, "row %llu: %s", seq, err.msg);
}

static void
put_row(struct q_db *admin, const struct row *r)
{
	struct q_err err = {0};
	struct q_stmt *st = q_db_prepare(admin, sql_put_row, &err);

	cr_assert_not_null(st, "%s", err.msg);
	q_stmt_bind_uint64(st, 0, r->seq);
	q_stmt_bind_str(st, 1, r->prev);
	q_stmt_bind_str(st, 2, r->hash);
	q_stmt_bind_time_us(st, 3, r->ts_us);
	q_stmt_bind_str(st, 4, r->actor);
	q_stmt_bind_str(st, 5, r->type);
	if (r->user_id)
		q_stmt_bind_int64(st, 6, r->user_id);
	else
		q_stmt_bind_null(st, 6);
	q_stmt_bind_text(st, 7, r->payload.data, r->payload.len);
	cr_assert_eq(q_stmt_exec(st, &err), 0, "put back row %llu: %s", r->seq, err.msg);
	q_stmt_done(st);
}

static void
admin_exec(struct q_db *admin, const char *sql, const char *types, unsigned long long a,
           unsigned long long b)
{
	struct q_err err = {0};
	long long n;

	if (strlen(types) == 1)
		n = q_db_exec(admin, &err, sql, types, a);
	else
		n = q_db_exec(admin, &err, sql, types, a, b);
	cr_assert_geq(n, 1, "%s: %s", sql, err.msg);
}

/* ---- the suite: a working chain --------------------------------------------------------- */

Test(audit, appends_verify_over_http_and_head_matches)
{
	struct q_db *db = open_db(0);
	struct q_audit_entry before = head(db), last;
	struct it_resp r;
	unsigned long long seq = 0;
	char hex[65];

	last = append_some(db, 3, "test.append");
	cr_assert_eq(last.seq, before.seq + 3);
	it_request(&r, "GET", "/api/v1/audit/head", NULL, 0, NULL);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	cr_assert_eq(json_integer_value(json_object_get(r.json, "seq")), (json_int_t)last.seq);
	cr_assert_str_eq(json_string_value(json_object_get(r.json, "hash")), last.hash);
	it_release(&r);
	cr_assert_eq(http_verify(&seq, hex), 0u);
	cr_assert_eq(seq, last.seq);
	cr_assert_str_eq(hex, last.hash);
	q_db_free(db);
}

Test(audit, stored_entry_recomputes_with_the_formula)
{
	struct q_db *db = open_db(0);
	struct q_err err = {0};
	json_t *data = json_pack("{s:s, s:s}", "symbol", "BTCUSDT", "notional", "250.00");
	struct q_audit_entry e, prev;
	char pv[65], hv[65], calc[65], actor[129], type[65];
	struct q_buf payload = Q_BUF_INIT;
	struct q_sha256 h;
	uint8_t d[32];
	long long uid = 0;
	json_t *p;

	cr_assert_eq(q_audit_append(db, "user:77", 77, "bot.started", data, &e, &err), 0, "%s",
	             err.msg);
	cr_assert_eq(q_db_row(db, &err,
	                      "SELECT prev_hash, hash, actor, type, user_id, payload FROM audit_log"
	                      " WHERE seq = ?",
	                      "u>ssssib", e.seq, pv, sizeof(pv), hv, sizeof(hv), actor,
	                      sizeof(actor), type, sizeof(type), &uid, &payload),
	             1, "%s", err.msg);
	cr_assert_str_eq(hv, e.hash);
	/* The formula, computed here independently of q_audit_hash. */
	q_sha256_init(&h);
	q_sha256_update(&h, pv, 64);
	q_sha256_update(&h, payload.data, payload.len);
	q_sha256_final(&h, d);
	q_hex_encode(calc, d, sizeof(d));
	cr_assert_str_eq(calc, hv);
	/* prev_hash is the previous entry's hash (genesis zeros when this is the first). */
	if (e.seq > 1) {
		cr_assert_eq(q_db_row(db, &err, "SELECT hash FROM audit_log WHERE seq = ?", "u>s",
		                      e.seq - 1, prev.hash, sizeof(prev.hash)),
		             1);
		cr_assert_str_eq(pv, prev.hash);
	}
	/* The payload is canonical: re-encoding it gives the same bytes. */
	p = json_loadb(payload.data, payload.len, 0, NULL);
	cr_assert_not_null(p, "%s", payload.data);
	{
		char *again = json_dumps(p, JSON_SORT_KEYS | JSON_COMPACT);

		cr_assert_str_eq(again, payload.data);
		free(again);
	}
	cr_assert_str_eq(json_string_value(json_object_get(p, "actor")), "user:77");
	cr_assert_str_eq(json_string_value(json_object_get(p, "type")), "bot.started");
	cr_assert_eq(json_integer_value(json_object_get(p, "seq")), (json_int_t)e.seq);
	cr_assert(json_equal(json_object_get(p, "data"), data));
	cr_assert_eq(strlen(json_string_value(json_object_get(p, "ts"))), 27u);
	cr_assert_str_eq(actor, "user:77");
	cr_assert_str_eq(type, "bot.started");
	cr_assert_eq(uid, 77);
	json_decref(p);
	json_decref(data);
	q_buf_release(&payload);
	q_db_free(db);
}

Test(audit, append_tx_commits_and_rolls_back_with_the_caller)
{
	struct q_db *db = open_db(0);
	struct q_err err = {0};
	struct q_audit_entry before = head(db), e;

	/* Outside a transaction append_tx refuses; inside one, append joins it. */
	cr_assert_eq(q_audit_append_tx(db, ACTOR, 0, "test.tx", NULL, &e, &err), -1);
	cr_assert_eq(err.code, Q_E_INTERNAL);
	q_err_clear(&err);
	cr_assert_eq(q_db_begin(db, &err), 0, "%s", err.msg);
	cr_assert_eq(q_audit_append_tx(db, ACTOR, 0, "test.tx", NULL, &e, &err), 0, "%s", err.msg);
	cr_assert_eq(e.seq, before.seq + 1);
	cr_assert_eq(q_audit_append(db, ACTOR, 0, "test.tx", NULL, &e, &err), 0, "%s", err.msg);
	cr_assert_eq(e.seq, before.seq + 2);
	cr_assert(q_db_in_tx(db));
	cr_assert_eq(q_db_rollback(db, &err), 0);
	cr_assert_eq(head(db).seq, before.seq, "a rolled-back append moved the head");
	cr_assert_eq(q_db_begin(db, &err), 0, "%s", err.msg);
	cr_assert_eq(q_audit_append_tx(db, ACTOR, 0, "test.tx", NULL, &e, &err), 0, "%s", err.msg);
	cr_assert_eq(q_db_commit(db, &err), 0, "%s", err.msg);
	cr_assert_eq(head(db).seq, before.seq + 1);
	cr_assert_str_eq(head(db).hash, e.hash);
	assert_chain_ok();
	q_db_free(db);
}

struct writer {
	int id;
	unsigned long long seqs[PER_WRITER];
	char msg[300];
};

static void *
write_events(void *arg)
{
	struct writer *w = arg;
	struct q_err err = {0};
	struct q_buf pw = Q_BUF_INIT;
	struct q_db_opts o;
	struct q_db *db = NULL;

	if (q_db_opts_from_config(&o, cfg, 0, &pw, &err) == 0)
		db = q_db_open(&o, &err);
	q_buf_release_secret(&pw);
	for (int i = 0; db != NULL && i < PER_WRITER; i++) {
		struct q_audit_entry e;
		json_t *data = json_pack("{s:i, s:i}", "writer", w->id, "n", i);

		if (q_audit_append(db, ACTOR, 0, "test.concurrent", data, &e, &err) < 0) {
			json_decref(data);
			break;
		}
		json_decref(data);
		w->seqs[i] = e.seq;
	}
	if (err.code != Q_OK)
		snprintf(w->msg, sizeof(w->msg), "writer %d: %s", w->id, err.msg);
	q_db_free(db);
	return NULL;
}

static int
by_seq(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;

	return x < y ? -1 : x > y;
}

Test(audit, concurrent_writers_make_one_linear_chain, .timeout = 300)
{
	static struct writer w[WRITERS];
	static unsigned long long all[WRITERS * PER_WRITER];
	struct q_db *db = open_db(0);
	struct q_audit_entry before, after;
	struct q_audit_verify_result res;
	struct q_err err = {0};
	pthread_t th[WRITERS];
	long long count, max;
	size_t n = 0;

	config();
	before = head(db);
	for (int i = 0; i < WRITERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = i;
		cr_assert_eq(pthread_create(&th[i], NULL, write_events, &w[i]), 0);
	}
	for (int i = 0; i < WRITERS; i++)
		cr_assert_eq(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < WRITERS; i++) {
		cr_assert_eq(w[i].msg[0], '\0', "%s", w[i].msg);
		for (int j = 0; j < PER_WRITER; j++) {
			/* Each writer sees its own entries in order. */
			cr_assert(j == 0 || w[i].seqs[j] > w[i].seqs[j - 1]);
			all[n++] = w[i].seqs[j];
		}
	}
	qsort(all, n, sizeof(all[0]), by_seq);
	for (size_t i = 1; i < n; i++)
		cr_assert_neq(all[i], all[i - 1], "seq %llu was handed out twice", all[i]);
	cr_assert_gt(all[0], before.seq);
	after = head(db);
	cr_assert_geq(after.seq, before.seq + WRITERS * PER_WRITER);
	/* No gap and no fork: exactly one row per seq from 1 to the head, each linked to the
	 * one before (the verification walks every link). */
	cr_assert_eq(
	        q_db_row(db, &err, "SELECT COUNT(*), MAX(seq) FROM audit_log", ">ii", &count, &max),
	        1, "%s", err.msg);
	cr_assert_eq((unsigned long long)count, after.seq);
	cr_assert_eq((unsigned long long)max, after.seq);
	cr_assert_eq(q_audit_verify(db, 0, &res, &err), 0, "%s", err.msg);
	cr_assert(res.ok, "broken at %llu: %s", res.first_bad_seq, res.reason);
	cr_assert_eq(res.seq, after.seq);
	assert_chain_ok();
	q_db_free(db);
}

/* Holds the head row locked for a while from another connection, then lets go. */
static void *
hold_head(void *arg)
{
	struct q_db *db = arg;
	struct q_err err = {0};
	unsigned long long seq;
	struct timespec ts = {1, 500000000};

	if (q_db_begin(db, &err) == 0 &&
	    q_db_row(db, &err, "SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE", ">u", &seq) ==
	            1)
		nanosleep(&ts, NULL);
	q_db_rollback(db, &err);
	return NULL;
}

Test(audit, lock_wait_timeout_is_retried, .timeout = 60)
{
	struct q_db *holder = open_db(0), *db = open_db(0);
	struct q_audit_entry before = head(db), e;
	struct q_err err = {0};
	struct timespec ts = {0, 200000000};
	pthread_t th;

	/* One second of waiting for the lock, then 1205: the first run fails, a later one wins. */
	cr_assert_eq(q_db_exec(db, &err, "SET SESSION innodb_lock_wait_timeout = 1", ""), 0, "%s",
	             err.msg);
	cr_assert_eq(pthread_create(&th, NULL, hold_head, holder), 0);
	nanosleep(&ts, NULL);
	cr_assert_eq(q_audit_append(db, ACTOR, 0, "test.retry", NULL, &e, &err), 0, "%s", err.msg);
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_eq(e.seq, before.seq + 1);
	assert_chain_ok();
	q_db_free(db);
	q_db_free(holder);
}

Test(audit, app_user_cannot_rewrite_audit_log)
{
	struct q_db *db = open_db(0);
	struct q_err err = {0};
	struct q_audit_entry e = append_some(db, 1, "test.grants");
	long long rc;

	rc = q_db_exec(db, &err, "UPDATE audit_log SET payload = '{}' WHERE seq = ?", "u", e.seq);
	cr_assert_eq(rc, -1, "UPDATE audit_log was allowed");
	cr_assert_eq(err.code, Q_E_FORBIDDEN, "%s", err.msg);
	cr_assert_eq(q_db_errno(db), 1142u);
	q_err_clear(&err);
	rc = q_db_exec(db, &err, "DELETE FROM audit_log WHERE seq = ?", "u", e.seq);
	cr_assert_eq(rc, -1, "DELETE FROM audit_log was allowed");
	cr_assert_eq(err.code, Q_E_FORBIDDEN, "%s", err.msg);
	cr_assert_eq(q_db_errno(db), 1142u);
	/* Nor delete the checkpoints that would expose a rewritten chain. */
	q_err_clear(&err);
	rc = q_db_exec(db, &err, "DELETE FROM audit_checkpoints WHERE id > ?", "i", 0LL);
	cr_assert_eq(rc, -1, "DELETE FROM audit_checkpoints was allowed");
	cr_assert_eq(q_db_errno(db), 1142u);
	assert_chain_ok();
	q_db_free(db);
}

Test(audit, events_are_the_callers_own)
{
	struct it_resp r;
	json_t *ev, *events;
	size_t i;
	int created = 0;

	/* Two users exist; each sees only their own events. */
	it_as_user(&r, "GET", "/api/v1/me", 5400002, NULL);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	it_release(&r);
	it_as_user(&r, "GET", "/api/v1/audit/events", 5400001, NULL);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	events = json_object_get(r.json, "events");
	cr_assert(json_array_size(events) >= 1, "%s", r.raw.body.data);
	json_array_foreach(events, i, ev)
	{
		const char *payload = json_string_value(json_object_get(ev, "payload"));
		json_t *p = json_loads(payload ? payload : "", 0, NULL);

		cr_assert(json_integer_value(json_object_get(ev, "seq")) > 0);
		cr_assert_eq(strlen(json_string_value(json_object_get(ev, "hash"))), 64);
		cr_assert_eq(strlen(json_string_value(json_object_get(ev, "prev_hash"))), 64);
		cr_assert(p != NULL, "payload is not JSON: %s", payload);
		if (strcmp(json_string_value(json_object_get(p, "type")), "user.created") == 0) {
			created++;
			cr_assert_eq(json_integer_value(json_object_get(json_object_get(p, "data"),
			                                                "telegram_id")),
			             5400001, "another user's event: %s", payload);
		}
		json_decref(p);
	}
	cr_assert_eq(created, 1, "%s", r.raw.body.data);
	it_release(&r);
}

Test(audit, events_route_requires_authentication)
{
	struct it_resp r;

	it_request(&r, "GET", "/api/v1/audit/events", NULL, 0, NULL);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_release(&r);
	it_request(&r, "POST", "/api/v1/audit/verify", NULL, 0, NULL);
	it_assert_error(&r, 405, "METHOD_NOT_ALLOWED");
	it_release(&r);
}

Test(audit, events_of_one_user_in_order)
{
	struct q_db *db = open_db(0);
	struct q_arena *a = q_arena_new();
	struct q_err err = {0};
	struct q_audit_event *ev;
	struct q_audit_entry e[3];
	size_t n;
	/* An id no real user has (user_id has no foreign key: events outlive users). */
	long long uid = 4000000000000LL + getpid();

	for (int i = 0; i < 3; i++) {
		json_t *data = json_pack("{s:i}", "i", i);

		cr_assert_eq(q_audit_append(db, "user:x", uid, "key.saved", data, &e[i], &err), 0,
		             "%s", err.msg);
		json_decref(data);
		append_some(db, 1, "test.other_user");
	}
	cr_assert_eq(q_audit_events_for_user(db, a, uid, 0, 10, &ev, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 3u);
	for (int i = 0; i < 3; i++) {
		char calc[65];

		cr_assert_eq(ev[i].seq, e[i].seq);
		cr_assert_str_eq(ev[i].hash, e[i].hash);
		q_audit_hash(calc, ev[i].prev_hash, ev[i].payload, ev[i].payload_len);
		cr_assert_str_eq(calc, ev[i].hash);
	}
	cr_assert_eq(q_audit_events_for_user(db, a, uid, e[0].seq, 1, &ev, &n, &err), 0);
	cr_assert_eq(n, 1u);
	cr_assert_eq(ev[0].seq, e[1].seq);
	q_arena_destroy(a);
	q_db_free(db);
}

Test(audit, streaming_reads_keep_the_connection_busy_until_done)
{
	struct q_db *db = open_db(0);
	struct q_err err = {0};
	struct q_stmt *st;
	long long one = 0, rows = 0;

	append_some(db, 3, "test.stream");
	st = q_db_prepare(db, "SELECT seq, payload FROM audit_log ORDER BY seq", &err);
	cr_assert_not_null(st, "%s", err.msg);
	cr_assert_eq(q_stmt_exec_stream(st, &err), 0, "%s", err.msg);
	cr_assert_eq(q_stmt_affected(st), -1);
	cr_assert_eq(q_stmt_fetch(st, &err), 1, "%s", err.msg);
	rows++;
	/* Another statement while rows are on the wire is refused, not sent out of sync. */
	cr_assert_eq(q_db_row(db, &err, "SELECT 1", ">i", &one), -1);
	cr_assert_eq(err.code, Q_E_INTERNAL, "%s", err.msg);
	q_err_clear(&err);
	while (q_stmt_fetch(st, &err) == 1)
		rows++;
	cr_assert_eq(err.code, Q_OK, "%s", err.msg);
	cr_assert_eq((unsigned long long)rows, head(db).seq);
	/* Read to the end: the connection is free again, and a reset stream drains. */
	cr_assert_eq(q_db_row(db, &err, "SELECT 1", ">i", &one), 1, "%s", err.msg);
	cr_assert_eq(q_stmt_exec_stream(st, &err), 0, "%s", err.msg);
	cr_assert_eq(q_stmt_fetch(st, &err), 1);
	q_stmt_reset(st);
	cr_assert_eq(q_db_row(db, &err, "SELECT 1", ">i", &one), 1, "%s", err.msg);
	q_stmt_done(st);
	q_db_free(db);
}

/* Every stored checkpoint, taken out (as the migration owner) and put back later. */
struct saved_cps {
	int n;
	unsigned long long id[64], size[64];
	char hash[64][65];
	struct q_buf note[64];
	long long signed_at[64];
};

static void
take_checkpoints(struct q_db *admin, struct saved_cps *s)
{
	struct q_err err = {0};
	struct q_stmt *st = q_db_prepare(
	        admin, "SELECT id, size, hash, note, signed_at FROM audit_checkpoints ORDER BY id",
	        &err);

	cr_assert_not_null(st, "%s", err.msg);
	cr_assert_eq(q_stmt_exec(st, &err), 0, "%s", err.msg);
	s->n = 0;
	while (q_stmt_fetch(st, &err) == 1) {
		size_t len;
		const char *note;

		cr_assert_lt(s->n, 64);
		s->id[s->n] = q_stmt_col_uint64(st, 0);
		s->size[s->n] = q_stmt_col_uint64(st, 1);
		q_stmt_col_copy(st, 2, s->hash[s->n], 65, &err);
		note = q_stmt_col_text(st, 3, &len);
		q_buf_init(&s->note[s->n]);
		q_buf_add(&s->note[s->n], note, len);
		s->signed_at[s->n] = q_stmt_col_time_us(st, 4);
		s->n++;
	}
	q_stmt_done(st);
	cr_assert_geq(q_db_exec(admin, &err, "DELETE FROM audit_checkpoints", ""), 0, "%s",
	              err.msg);
}

static void
put_checkpoints(struct q_db *admin, struct saved_cps *s)
{
	struct q_err err = {0};

	for (int i = 0; i < s->n; i++) {
		cr_assert_eq(
		        q_db_exec(admin, &err,
		                  "INSERT INTO audit_checkpoints (id, size, hash, note, signed_at)"
		                  " VALUES (?, ?, ?, ?, ?)",
		                  "uusst", s->id[i], s->size[i], s->hash[i], s->note[i].data,
		                  s->signed_at[i]),
		        1, "%s", err.msg);
		q_buf_release(&s->note[i]);
	}
}

Test(audit, checkpoint_is_404_until_one_is_signed)
{
	static struct saved_cps saved;
	struct q_db *admin = open_db(1);
	struct it_resp r;

	take_checkpoints(admin, &saved);
	it_request(&r, "GET", "/api/v1/audit/checkpoint", NULL, 0, NULL);
	it_assert_error(&r, 404, "NOT_FOUND");
	it_release(&r);
	put_checkpoints(admin, &saved);
	q_db_free(admin);
}

Test(audit, quantorctl_signs_a_checkpoint_the_api_serves_and_verify_accepts)
{
	struct q_db *db = open_db(0);
	struct q_audit_entry before, after;
	struct q_audit_conf conf;
	struct q_checkpoint cp;
	struct q_err err = {0};
	struct q_buf out = Q_BUF_INIT, url = Q_BUF_INIT;
	struct it_resp r;
	const char *note;
	char type[65], path[] = "/tmp/t_audit_cp_XXXXXX";
	FILE *f;
	int fd;

	append_some(db, 2, "test.checkpoint");
	before = head(db);
	cr_assert_eq(sh(&out, "(./build/quantorctl audit checkpoint 2>/dev/null)"), 0, "%s",
	             out.data);
	cr_assert(strncmp(out.data, "quantor.local/audit\n", 20) == 0, "%s", out.data);
	/* Sign first, then record it: the event follows the signed head. */
	after = head(db);
	cr_assert_eq(after.seq, before.seq + 1);
	cr_assert_eq(q_db_row(db, &err, "SELECT type FROM audit_log WHERE seq = ?", "u>s",
	                      after.seq, type, sizeof(type)),
	             1);
	cr_assert_str_eq(type, "audit.checkpoint_signed");

	it_request(&r, "GET", "/api/v1/audit/checkpoint", NULL, 0, NULL);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	cr_assert_eq(json_integer_value(json_object_get(r.json, "size")), (json_int_t)before.seq);
	cr_assert_str_eq(json_string_value(json_object_get(r.json, "hash")), before.hash);
	cr_assert(json_is_true(json_object_get(r.json, "signature_valid")), "%s", r.raw.body.data);
	cr_assert_not_null(json_string_value(json_object_get(r.json, "signed_at")));
	note = json_string_value(json_object_get(r.json, "note"));
	cr_assert_str_eq(note, out.data);
	/* Anyone with the public key can open the note. */
	cr_assert_eq(q_audit_conf_load(&conf, config(), 0, &err), 0, "%s", err.msg);
	cr_assert_str_eq(json_string_value(json_object_get(r.json, "public_key")),
	                 q_config_get(config(), "audit", "public_key", ""));
	cr_assert_eq(
	        q_checkpoint_open(&cp, note, strlen(note), &conf.key, "quantor.local/audit", &err),
	        0, "%s", err.msg);
	cr_assert_eq(cp.size, before.seq);

	/* verify: the stored ones, a file and the URL of the endpoint. */
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	fputs(note, f);
	fclose(f);
	q_buf_reset(&out);
	q_buf_printf(&url, "%s/api/v1/audit/checkpoint", it_env("QUANTOR_URL"));
	cr_assert_eq(sh(&out, "./build/quantorctl audit verify --checkpoint %s --checkpoint %s",
	                path, url.data),
	             0, "%s", out.data);
	cr_assert(strstr(out.data, "chain: ok") != NULL, "%s", out.data);
	cr_assert(strstr(out.data, "extended by the chain") != NULL, "%s", out.data);
	/* A note altered by one byte is refused. */
	f = fopen(path, "r+");
	fseek(f, 20, SEEK_SET);
	fputc(note[20] == '1' ? '2' : '1', f);
	fclose(f);
	q_buf_reset(&out);
	cr_assert_eq(sh(&out, "./build/quantorctl audit verify --checkpoint %s", path), 1, "%s",
	             out.data);
	cr_assert(strstr(out.data, "does not verify") != NULL, "%s", out.data);
	unlink(path);
	it_release(&r);
	q_buf_reset(&out);
	cr_assert_eq(sh(&out, "./build/quantorctl audit head"), 0, "%s", out.data);
	q_buf_reset(&url);
	q_buf_printf(&url, "%llu %s\n", after.seq, after.hash);
	cr_assert_str_eq(out.data, url.data);
	q_audit_conf_release(&conf);
	q_buf_release(&out);
	q_buf_release(&url);
	q_db_free(db);
}

Test(audit, keygen_refuses_to_overwrite)
{
	struct q_buf out = Q_BUF_INIT;
	char dir[] = "/tmp/t_audit_key_XXXXXX";

	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(sh(&out,
	                "(./build/quantorctl audit keygen --out %s/k 2>/dev/null) && stat -c %%a "
	                "%s/k",
	                dir, dir),
	             0, "%s", out.data);
	cr_assert_eq(strspn(out.data, "0123456789abcdef"), 64u, "%s", out.data);
	cr_assert(strstr(out.data, "\n600\n") != NULL, "%s", out.data);
	q_buf_reset(&out);
	cr_assert_eq(sh(&out, "./build/quantorctl audit keygen --out %s/k", dir), 1, "%s",
	             out.data);
	cr_assert(strstr(out.data, "refusing to overwrite") != NULL, "%s", out.data);
	sh(NULL, "rm -rf %s", dir);
	q_buf_release(&out);
}

/* ---- the suite: a chain tampered with, then put back ------------------------------------ */

/* Both ways of checking see the chain broken at want: the endpoint and quantorctl. */
static void
assert_broken_at(unsigned long long want)
{
	struct q_buf out = Q_BUF_INIT;
	char needle[64];

	cr_assert_eq(http_verify(NULL, NULL), want);
	cr_assert_eq(sh(&out, "./build/quantorctl audit verify"), 1, "%s", out.data);
	snprintf(needle, sizeof(needle), "broken at seq %llu", want);
	cr_assert(strstr(out.data, needle) != NULL, "%s", out.data);
	q_buf_release(&out);
}

/* Enough entries to tamper with in the middle: returns a seq with two entries after it. */
static unsigned long long
middle(struct q_db *db)
{
	return append_some(db, 5, "test.tamper").seq - 2;
}

Test(auditbad, modified_payload)
{
	struct q_db *db = open_db(0), *admin = open_db(1);
	unsigned long long k = middle(db);
	struct q_err err = {0};
	struct row saved;

	save_row(admin, k, &saved);
	cr_assert_eq(q_db_exec(admin, &err,
	                       "UPDATE audit_log SET payload = REPLACE(payload, '12.50', '99.50')"
	                       " WHERE seq = ?",
	                       "u", k),
	             1, "%s", err.msg);
	assert_broken_at(k);
	cr_assert_eq(q_db_exec(admin, &err, "UPDATE audit_log SET payload = ? WHERE seq = ?", "su",
	                       saved.payload.data, k),
	             1, "%s", err.msg);
	assert_chain_ok();
	q_buf_release(&saved.payload);
	q_db_free(admin);
	q_db_free(db);
}

Test(auditbad, deleted_row)
{
	struct q_db *db = open_db(0), *admin = open_db(1);
	unsigned long long k = middle(db);
	struct row saved;

	save_row(admin, k, &saved);
	admin_exec(admin, "DELETE FROM audit_log WHERE seq = ?", "u", k, 0);
	assert_broken_at(k);
	put_row(admin, &saved);
	assert_chain_ok();
	q_buf_release(&saved.payload);
	q_db_free(admin);
	q_db_free(db);
}

Test(auditbad, deleted_last_row)
{
	struct q_db *db = open_db(0), *admin = open_db(1);
	unsigned long long k = append_some(db, 2, "test.tamper").seq;
	struct row saved;

	save_row(admin, k, &saved);
	admin_exec(admin, "DELETE FROM audit_log WHERE seq = ?", "u", k, 0);
	/* The head still names entry k. */
	assert_broken_at(k);
	put_row(admin, &saved);
	assert_chain_ok();
	q_buf_release(&saved.payload);
	q_db_free(admin);
	q_db_free(db);
}

Test(auditbad, swapped_rows)
{
	struct q_db *db = open_db(0), *admin = open_db(1);
	unsigned long long k = middle(db), park = 9000000000000000000ULL;
	static const char sql_move[] = "UPDATE audit_log SET seq = ? WHERE seq = ?";

	/* Exchange entries k and k + 1, each keeping its own links and payload. */
	admin_exec(admin, sql_move, "uu", park, k);
	admin_exec(admin, sql_move, "uu", k, k + 1);
	admin_exec(admin, sql_move, "uu", k + 1, park);
	assert_broken_at(k);
	admin_exec(admin, sql_move, "uu", park, k);
	admin_exec(admin, sql_move, "uu", k, k + 1);
	admin_exec(admin, sql_move, "uu", k + 1, park);
	assert_chain_ok();
	q_db_free(admin);
	q_db_free(db);
}

Test(auditbad, payload_seq_must_match_the_row)
{
	struct q_db *db = open_db(0), *admin = open_db(1);
	unsigned long long k = middle(db);
	struct q_err err = {0};
	struct row saved;
	char hash[65];
	struct q_buf forged = Q_BUF_INIT;
	const char *s;

	/* Entry k's payload claims another seq but its hash is recomputed to match: the
	 * links all hold, the seq check alone catches it. */
	save_row(admin, k, &saved);
	s = strstr(saved.payload.data, "\"seq\":");
	cr_assert_not_null(s);
	q_buf_add(&forged, saved.payload.data, (size_t)(s - saved.payload.data));
	q_buf_printf(&forged, "\"seq\":%llu%s", k + 1000, strchr(s, ','));
	q_audit_hash(hash, saved.prev, forged.data, forged.len);
	/* The next entry's prev_hash is UNIQUE-linked to this hash: relink it too. */
	cr_assert_eq(q_db_exec(admin, &err, "UPDATE audit_log SET prev_hash = ? WHERE seq = ?",
	                       "su", hash, k + 1),
	             1, "%s", err.msg);
	cr_assert_eq(q_db_exec(admin, &err,
	                       "UPDATE audit_log SET payload = ?, hash = ? WHERE seq = ?", "ssu",
	                       forged.data, hash, k),
	             1, "%s", err.msg);
	assert_broken_at(k);
	cr_assert_eq(q_db_exec(admin, &err,
	                       "UPDATE audit_log SET payload = ?, hash = ? WHERE seq = ?", "ssu",
	                       saved.payload.data, saved.hash, k),
	             1, "%s", err.msg);
	cr_assert_eq(q_db_exec(admin, &err, "UPDATE audit_log SET prev_hash = ? WHERE seq = ?",
	                       "su", saved.hash, k + 1),
	             1, "%s", err.msg);
	assert_chain_ok();
	q_buf_release(&forged);
	q_buf_release(&saved.payload);
	q_db_free(admin);
	q_db_free(db);
}

/* The whole chain as stored, to rewrite and to put back. */
struct chain {
	size_t n;
	char (*prev)[65];
	char (*hash)[65];
	struct q_buf *payload;
};

static void
load_chain(struct q_db *admin, struct chain *c, unsigned long long n)
{
	struct q_err err = {0};
	struct q_stmt *st = q_db_prepare(
	        admin, "SELECT seq, prev_hash, hash, payload FROM audit_log ORDER BY seq", &err);

	cr_assert_not_null(st, "%s", err.msg);
	c->n = 0;
	c->prev = calloc(n, sizeof(*c->prev));
	c->hash = calloc(n, sizeof(*c->hash));
	c->payload = calloc(n, sizeof(*c->payload));
	cr_assert_eq(q_stmt_exec(st, &err), 0, "%s", err.msg);
	while (q_stmt_fetch(st, &err) == 1) {
		size_t len;
		const char *p;

		cr_assert_lt(c->n, n);
		cr_assert_eq(q_stmt_col_uint64(st, 0), c->n + 1);
		q_stmt_col_copy(st, 1, c->prev[c->n], 65, &err);
		q_stmt_col_copy(st, 2, c->hash[c->n], 65, &err);
		p = q_stmt_col_text(st, 3, &len);
		q_buf_init(&c->payload[c->n]);
		q_buf_add(&c->payload[c->n], p, len);
		c->n++;
	}
	q_stmt_done(st);
	cr_assert_eq(c->n, n);
}

/* Write c into audit_log and audit_head in one transaction of the migration owner. */
static void
store_chain(struct q_db *admin, const struct chain *c)
{
	struct q_err err = {0};

	cr_assert_eq(q_db_begin(admin, &err), 0, "%s", err.msg);
	for (size_t i = 0; i < c->n; i++)
		cr_assert_geq(q_db_exec(admin, &err,
		                        "UPDATE audit_log SET prev_hash = ?, hash = ?, payload = ?"
		                        " WHERE seq = ?",
		                        "sssu", c->prev[i], c->hash[i], c->payload[i].data,
		                        (unsigned long long)i + 1),
		              1, "%s", err.msg);
	cr_assert_eq(q_db_exec(admin, &err, "UPDATE audit_head SET hash = ? WHERE id = 1", "s",
	                       c->hash[c->n - 1]),
	             1, "%s", err.msg);
	cr_assert_eq(q_db_commit(admin, &err), 0, "%s", err.msg);
}

Test(auditbad, rewrite_from_genesis_is_caught_by_the_checkpoint, .timeout = 300)
{
	static struct saved_cps saved;
	struct q_db *db = open_db(0), *admin = open_db(1);
	struct q_buf out = Q_BUF_INIT, note = Q_BUF_INIT;
	struct chain orig, forged;
	struct q_audit_entry h;
	char path[] = "/tmp/t_audit_note_XXXXXX", *p;
	FILE *f;
	int fd;

	append_some(db, 3, "test.rewrite");
	cr_assert_eq(sh(&note, "(./build/quantorctl audit checkpoint 2>/dev/null)"), 0, "%s",
	             note.data);
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fwrite(note.data, 1, note.len, f);
	fclose(f);
	append_some(db, 2, "test.rewrite");
	h = head(db);

	/* Someone with database access changes entry 1 and recomputes every hash after it
	 * with the published formula: the chain is self-consistent again. */
	load_chain(admin, &orig, h.seq);
	load_chain(admin, &forged, h.seq);
	p = strstr(forged.payload[0].data, "\"actor\":\"");
	cr_assert_not_null(p);
	p[9] = p[9] == 'X' ? 'Y' : 'X';
	for (size_t i = 0; i < forged.n; i++) {
		struct q_sha256 s;
		uint8_t d[32];

		if (i > 0)
			memcpy(forged.prev[i], forged.hash[i - 1], 65);
		q_sha256_init(&s);
		q_sha256_update(&s, forged.prev[i], 64);
		q_sha256_update(&s, forged.payload[i].data, forged.payload[i].len);
		q_sha256_final(&s, d);
		q_hex_encode(forged.hash[i], d, sizeof(d));
	}
	cr_assert_str_neq(forged.hash[h.seq - 1], h.hash);
	store_chain(admin, &forged);

	/* The chain alone verifies: only the checkpoint can tell. */
	assert_chain_ok();
	cr_assert_eq(sh(&out, "./build/quantorctl audit verify"), 1, "%s", out.data);
	cr_assert(strstr(out.data, "chain: ok") != NULL, "%s", out.data);
	cr_assert(strstr(out.data, "checkpoint ") != NULL, "%s", out.data);
	cr_assert(strstr(out.data, "no longer extended by the chain") != NULL, "%s", out.data);
	/* Deleting the stored checkpoints too leaves the published one. */
	take_checkpoints(admin, &saved);
	q_buf_reset(&out);
	cr_assert_eq(sh(&out, "./build/quantorctl audit verify"), 0, "%s", out.data);
	q_buf_reset(&out);
	cr_assert_eq(sh(&out, "./build/quantorctl audit verify --checkpoint %s", path), 1, "%s",
	             out.data);
	cr_assert(strstr(out.data, path) != NULL, "%s", out.data);
	cr_assert(strstr(out.data, "no longer extended by the chain") != NULL, "%s", out.data);

	put_checkpoints(admin, &saved);
	store_chain(admin, &orig);
	assert_chain_ok();
	q_buf_reset(&out);
	cr_assert_eq(sh(&out, "./build/quantorctl audit verify --checkpoint %s", path), 0, "%s",
	             out.data);
	unlink(path);
	for (size_t i = 0; i < orig.n; i++) {
		q_buf_release(&orig.payload[i]);
		q_buf_release(&forged.payload[i]);
	}
	free(orig.prev);
	free(orig.hash);
	free(orig.payload);
	free(forged.prev);
	free(forged.hash);
	free(forged.payload);
	q_buf_release(&out);
	q_buf_release(&note);
	q_db_free(admin);
	q_db_free(db);
}
