/*
 * One trader tick for 1,000, 10,000 and 20,000 PAPER bots over 20 symbols, against the stack
 * scripts/bench.sh started (MariaDB, quantor-sim): wall time, database round trips per bot
 * (the server's Questions counter) and the tick's peak RSS. Each run resets the bots so that
 * every one of them decides on the newest candle, as after a minute boundary.
 *
 * Baseline, measured in the same run: reading the same bot rows with one SELECT in this process,
 * the least any tick over them must pay. Target (issue 9): 10,000 bots in under 2 s and under
 * 64 MB, with cost growing linearly; benchmarks report, they do not gate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "q_config.h"
#include "q_db.h"

static const char *const symbols[] = {
        "BTCUSDT",  "ETHUSDT", "SOLUSDT",  "BNBUSDT",  "XRPUSDT", "ADAUSDT", "DOGEUSDT",
        "LTCUSDT",  "DOTUSDT", "LINKUSDT", "AVAXUSDT", "TRXUSDT", "POLUSDT", "SHIBUSDT",
        "ATOMUSDT", "UNIUSDT", "BCHUSDT",  "NEARUSDT", "APTUSDT", "ARBUSDT",
};

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
	fprintf(stderr, "bench_tick: %s: %s\n", what, err ? err->msg : "failed");
	exit(1);
}

static long long
questions(struct q_db *db)
{
	struct q_err err = {0};
	char v[32] = "";

	if (q_db_row(db, &err,
	             "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE "
	             "VARIABLE_NAME = 'QUESTIONS'",
	             ">s", v, sizeof(v)) != 1)
		die("reading Questions", &err);
	return atoll(v);
}

/* Make exactly n running PAPER bots of user uid, spread over the 20 symbols. */
static void
bots(struct q_db *db, long long uid, long long n)
{
	struct q_err err = {0};
	long long have = 0;

	if (q_db_row(db, &err, "SELECT COUNT(*) FROM bots WHERE user_id = ?", "i>i", uid, &have) !=
	    1)
		die("count", &err);
	if (q_db_begin(db, &err) < 0)
		die("begin", &err);
	for (long long i = have; i < n; i++)
		if (q_db_exec(
		            db, &err,
		            "INSERT INTO bots (user_id, exchange, strategy, symbol, candle_interval, "
		            "mode, params, notional, status) VALUES (?, 'binance', 'EMA', ?, '1m', "
		            "'PAPER', '{\"fast\":5,\"slow\":20}', '1000', 'running')",
		            "is", uid, symbols[i % 20]) < 0)
			die("insert bot", &err);
	if (q_db_commit(db, &err) < 0)
		die("commit", &err);
	if (q_db_exec(db, &err,
	              "UPDATE bots SET status = IF(id <= (SELECT m FROM (SELECT MIN(id) + ? - 1 AS "
	              "m FROM bots WHERE user_id = ?) x), 'running', 'stopped'), "
	              "last_candle_open_time = NULL, state = NULL WHERE user_id = ?",
	              "iii", n, uid, uid) < 0)
		die("reset bots", &err);
}

int
main(void)
{
	static const long long sizes[] = {1000, 10000, 20000};
	const char *conf_path = getenv("QUANTOR_CONFIG"), *var = getenv("QUANTOR_VAR");
	const char *build = getenv("QUANTOR_BUILD");
	struct q_err err = {0};
	struct q_buf pw = Q_BUF_INIT;
	struct q_config *cfg;
	struct q_db_opts o;
	struct q_db *db;
	char conf[4096], cmd[8192];
	long long uid;

	if (!conf_path || !var || !build)
		die("environment", NULL);
	cfg = q_config_load(conf_path, &err);
	if (cfg == NULL || q_db_opts_from_config(&o, cfg, 0, &pw, &err) < 0 ||
	    (db = q_db_open(&o, &err)) == NULL)
		die("database", &err);
	/* Its own lock: the stack's looping trader holds the usual one. */
	snprintf(conf, sizeof(conf), "%s/bench-trader.conf", var);
	snprintf(cmd, sizeof(cmd),
	         "grep -v '^lock_file' '%s' | sed 's|^\\[trader\\]|[trader]\\nlock_file = "
	         "%s/run/bench-trader.lock|' >'%s'",
	         conf_path, var, conf);
	if (system(cmd) != 0)
		die("config", NULL);
	if (q_db_exec(db, &err,
	              "INSERT IGNORE INTO users (telegram_id, first_name) VALUES (5900000001, "
	              "'bench')",
	              "") < 0 ||
	    q_db_row(db, &err, "SELECT id FROM users WHERE telegram_id = 5900000001", ">i", &uid) !=
	            1)
		die("user", &err);
	printf("%-8s %10s %12s %14s %12s %14s\n", "bots", "tick ms", "ms/1000 bots",
	       "round trips/bot", "peak RSS MB", "baseline ms");
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct rusage ru;
		long long q0, q1, nrows = 0;
		double t0, t1, b0, b1;
		int status;
		pid_t pid;

		bots(db, uid, sizes[k]);
		/* Warm the market data once (candles fetched and stored), then time a full tick. */
		snprintf(cmd, sizeof(cmd),
		         "QUANTOR_CONFIG='%s' '%s/quantor-trader' tick >/dev/null", conf, build);
		if (k == 0 && system(cmd) != 0)
			die("warm-up tick", NULL);
		bots(db, uid, sizes[k]);
		b0 = now_s();
		if (q_db_row(
		            db, &err,
		            "SELECT COUNT(*) FROM (SELECT id, params, state, notional FROM bots WHERE "
		            "status = 'running') x",
		            ">i", &nrows) != 1)
			die("baseline", &err);
		b1 = now_s();
		q0 = questions(db);
		t0 = now_s();
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			char bin[4096];

			/* The trader itself is the child, so the rusage is its own. */
			snprintf(bin, sizeof(bin), "%s/quantor-trader", build);
			setenv("QUANTOR_CONFIG", conf, 1);
			if (freopen("/dev/null", "w", stdout) == NULL)
				_exit(127);
			execl(bin, "quantor-trader", "tick", (char *)NULL);
			_exit(127);
		}
		if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			die("tick", NULL);
		t1 = now_s();
		q1 = questions(db);
		printf("%-8lld %10.0f %12.1f %14.1f %12.1f %14.1f\n", sizes[k], (t1 - t0) * 1000,
		       (t1 - t0) * 1000 * 1000 / (double)sizes[k],
		       (double)(q1 - q0) / (double)sizes[k], (double)ru.ru_maxrss / 1024.0,
		       (b1 - b0) * 1000);
		if (sizes[k] == 10000)
			printf("target: 10,000 bots under 2 s and 64 MB: %s\n",
			       (t1 - t0) < 2.0 && ru.ru_maxrss < 64L * 1024 ? "OK" : "SLOW");
		fflush(stdout);
	}
	q_db_exec(db, &err, "UPDATE bots SET status = 'stopped' WHERE user_id = ?", "i", uid);
	q_db_free(db);
	q_buf_release_secret(&pw);
	q_config_free(cfg);
	return 0;
}
