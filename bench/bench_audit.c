/*
 * The audit chain's figures, against the stack scripts/bench.sh started (var/bench/stack.env):
 *
 *   audit.append       appends/s with 8 writer threads, each its own connection, each append
 *                      its own transaction through q_audit_append (the head row lock serialises
 *                      them: this is the contended rate)
 *   audit.fill         the chain topped up to 100,000 entries through q_audit_append_tx, 1,000
 *                      appends per transaction: the real formula and SQL, only fewer commits
 *   audit.verify       q_audit_verify in this process, streaming the whole table
 *   audit.verify_http  GET /api/v1/audit/verify through nginx and a responder
 *
 * Baseline, measured in the same run: SHA-256 alone over the same stored (prev_hash, payload)
 * pairs already in memory: the most any verification could reach on this machine. Each timing
 * is the best of RUNS runs. Benchmarks report, they do not gate: the HTTP target (100,000
 * entries in under a second) is printed as OK or SLOW.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "q_audit.h"
#include "q_buf.h"
#include "q_config.h"
#include "q_crypto.h"
#include "q_db.h"
#include "q_http.h"
#include "q_log.h"

#define WRITERS 8
#define PER_WRITER 500
#define TARGET 100000ULL
#define BATCH 1000
#define RUNS 3

static const struct q_config *cfg;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, const struct q_err *err)
{
	fprintf(stderr, "bench_audit: %s: %s\n", what, err ? err->msg : "");
	exit(1);
}

static struct q_db *
open_db(void)
{
	struct q_buf pw = Q_BUF_INIT;
	struct q_err err = {0};
	struct q_db_opts o;
	struct q_db *db = NULL;

	if (q_db_opts_from_config(&o, cfg, 0, &pw, &err) == 0)
		db = q_db_open(&o, &err);
	q_buf_release_secret(&pw);
	if (db == NULL)
		die("database", &err);
	return db;
}

static void *
writer(void *arg)
{
	struct q_db *db = open_db();
	struct q_err err = {0};
	long id = (long)(intptr_t)arg;

	for (int i = 0; i < PER_WRITER; i++) {
		json_t *data = json_pack("{s:i, s:i, s:s}", "writer", (int)id, "n", i, "amount",
		                         "1234.5678");

		if (q_audit_append(db, "system:bench", 0, "bench.append", data, NULL, &err) < 0)
			die("append", &err);
		json_decref(data);
	}
	q_db_free(db);
	return NULL;
}

static void
bench_append(void)
{
	pthread_t th[WRITERS];
	double t0 = now_s(), dt;

	for (long i = 0; i < WRITERS; i++)
		if (pthread_create(&th[i], NULL, writer, (void *)(intptr_t)i) != 0)
			die("pthread_create", NULL);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(th[i], NULL);
	dt = now_s() - t0;
	printf("audit.append: %d writers x %d = %d appends in %.3f s = %.0f appends/s\n", WRITERS,
	       PER_WRITER, WRITERS * PER_WRITER, dt, WRITERS * PER_WRITER / dt);
}

/* Top the chain up to TARGET entries, BATCH appends per transaction. */
static void
fill(struct q_db *db)
{
	struct q_audit_entry head;
	struct q_err err = {0};
	unsigned long long start, n = 0;
	double t0 = now_s(), dt;

	if (q_audit_head(db, &head, &err) < 0)
		die("head", &err);
	start = head.seq;
	while (head.seq < TARGET) {
		if (q_db_begin(db, &err) < 0)
			die("begin", &err);
		for (int i = 0; i < BATCH && head.seq < TARGET; i++) {
			json_t *data = json_pack("{s:s, s:s, s:I}", "symbol", "BTCUSDT", "qty",
			                         "0.00150000", "order", (json_int_t)head.seq);

			if (q_audit_append_tx(db, "system:bench", 0, "bench.fill", data, &head,
			                      &err) < 0)
				die("append_tx", &err);
			json_decref(data);
			n++;
		}
		if (q_db_commit(db, &err) < 0)
			die("commit", &err);
	}
	dt = now_s() - t0;
	printf("audit.fill: %llu -> %llu entries through q_audit_append_tx, %d per transaction, "
	       "in %.2f s = %.0f appends/s\n",
	       start, head.seq, BATCH, dt, n ? (double)n / dt : 0.0);
}

/* Every stored (prev_hash, payload) pair, in memory, for the SHA-256 baseline. */
struct pairs {
	struct q_buf text; /* prev_hash (64) then payload, one after the other */
	size_t *off, *len, n;
	double bytes;
};

static void
load_pairs(struct q_db *db, struct pairs *p, unsigned long long count)
{
	struct q_err err = {0};
	struct q_stmt *st =
	        q_db_prepare(db, "SELECT prev_hash, payload FROM audit_log ORDER BY seq", &err);
	int r;

	q_buf_init(&p->text);
	p->off = calloc(count + 1, sizeof(*p->off));
	p->len = calloc(count + 1, sizeof(*p->len));
	p->n = 0;
	if (st == NULL || q_stmt_exec_stream(st, &err) < 0)
		die("load", &err);
	while ((r = q_stmt_fetch(st, &err)) == 1 && p->n <= count) {
		size_t pl, hl;
		const char *h = q_stmt_col_text(st, 0, &hl);
		const char *pay = q_stmt_col_text(st, 1, &pl);

		p->off[p->n] = p->text.len;
		q_buf_add(&p->text, h, hl);
		q_buf_add(&p->text, pay, pl);
		p->len[p->n] = hl + pl;
		p->n++;
	}
	if (r < 0)
		die("load", &err);
	q_stmt_done(st);
	p->bytes = (double)p->text.len;
}

static double
sha_baseline(const struct pairs *p)
{
	double best = 1e9;
	volatile uint8_t sink = 0;

	for (int run = 0; run < RUNS; run++) {
		double t0 = now_s(), dt;

		for (size_t i = 0; i < p->n; i++) {
			struct q_sha256 s;
			uint8_t d[Q_SHA256_LEN];

			q_sha256_init(&s);
			q_sha256_update(&s, p->text.data + p->off[i], 64);
			q_sha256_update(&s, p->text.data + p->off[i] + 64, p->len[i] - 64);
			q_sha256_final(&s, d);
			sink ^= d[0];
		}
		dt = now_s() - t0;
		if (dt < best)
			best = dt;
	}
	(void)sink;
	return best;
}

static double
verify_inproc(struct q_db *db, unsigned long long *seq)
{
	struct q_audit_verify_result res;
	struct q_err err = {0};
	double best = 1e9;

	for (int run = 0; run < RUNS; run++) {
		double t0 = now_s(), dt;

		if (q_audit_verify(db, 0, &res, &err) < 0)
			die("verify", &err);
		dt = now_s() - t0;
		if (!res.ok) {
			fprintf(stderr, "bench_audit: chain broken at %llu: %s\n",
			        res.first_bad_seq, res.reason);
			exit(1);
		}
		if (dt < best)
			best = dt;
	}
	*seq = res.seq;
	return best;
}

static double
verify_http(const char *base, unsigned long long *seq)
{
	struct q_http *h = q_http_new();
	struct q_http_resp resp;
	struct q_http_req req = {0};
	struct q_buf url = Q_BUF_INIT;
	struct q_err err = {0};
	double best = 1e9;

	q_http_resp_init(&resp);
	q_buf_printf(&url, "%s/api/v1/audit/verify", base);
	req.url = url.data;
	req.timeout_ms = 60000;
	for (int run = 0; run < RUNS; run++) {
		double t0 = now_s(), dt;
		json_t *j;

		if (q_http_do(h, &resp, &req, &err) < 0)
			die("GET /api/v1/audit/verify", &err);
		dt = now_s() - t0;
		j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
		if (resp.status != 200 || !json_is_true(json_object_get(j, "ok"))) {
			fprintf(stderr, "bench_audit: verify answered %ld %s\n", resp.status,
			        resp.body.data);
			exit(1);
		}
		*seq = (unsigned long long)json_integer_value(json_object_get(j, "seq"));
		json_decref(j);
		if (dt < best)
			best = dt;
	}
	q_buf_release(&url);
	q_http_resp_release(&resp);
	q_http_free(h);
	return best;
}

int
main(void)
{
	const char *conf = getenv("QUANTOR_CONFIG"), *base = getenv("QUANTOR_URL");
	struct q_err err = {0};
	struct q_config *c;
	struct q_db *db;
	struct pairs p;
	unsigned long long seq = 0, hseq = 0;
	double v, sha, http;

	if (conf == NULL || base == NULL) {
		fputs("bench_audit: run through scripts/bench.sh (QUANTOR_CONFIG, QUANTOR_URL)\n",
		      stderr);
		return 2;
	}
	q_log_init("bench_audit", Q_LOG_WARN);
	q_crypto_init();
	c = q_config_load(conf, &err);
	if (c == NULL)
		die("config", &err);
	cfg = c;
	db = open_db();

	bench_append();
	fill(db);
	v = verify_inproc(db, &seq);
	load_pairs(db, &p, seq);
	sha = sha_baseline(&p);
	http = verify_http(base, &hseq);

	printf("audit.sha256_baseline: %zu entries (%.1f MB: prev_hash || payload) in %.3f s = "
	       "%.2f M entries/s, %.0f MB/s\n",
	       p.n, p.bytes / 1e6, sha, (double)p.n / sha / 1e6, p.bytes / sha / 1e6);
	printf("audit.verify: %llu entries in %.3f s = %.0f entries/s (baseline sha256 only: "
	       "%.2f M entries/s; ratio %.2f)\n",
	       seq, v, (double)seq / v, (double)p.n / sha / 1e6, sha / v);
	printf("audit.verify_http: %llu entries in %.3f s = %.0f entries/s (target 100000 in < 1 s: "
	       "%s)\n",
	       hseq, http, (double)hseq / http,
	       http * 100000.0 / (double)(hseq ? hseq : 1) < 1.0 ? "OK" : "SLOW");

	q_buf_release(&p.text);
	free(p.off);
	free(p.len);
	q_db_free(db);
	q_config_free(c);
	return 0;
}
