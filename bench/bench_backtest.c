/*
 * The backtest's speed, per strategy, over N synthetic one-minute candles (a seeded random walk
 * with calm and wild stretches; no stack needed):
 *
 *   backtest.<ID>   q_backtest_run with the default parameters (CUSTOM: a rule set over seven
 *                   indicators), 10 bps fee, 5 bps slippage. Each candle is one step through
 *                   the strategy's JSON state, exactly as the trader runs it.
 *
 * Baseline, measured in the same run: a loop that only reads the same candles (sums the
 * closes), the most any pass over them could reach on this machine. Each timing is the best of
 * RUNS runs (the baseline's of BASE_RUNS). Benchmarks report, they do not gate.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "q_arena.h"
#include "q_backtest.h"

#define N 200000
#define RUNS 3
#define BASE_RUNS 50

static const char custom_rules[] =
        "{\"entry\":{\"and\":[{\"gt\":[{\"price\":\"close\"},{\"ind\":\"ema\",\"period\":50}]},"
        "{\"lt\":[{\"ind\":\"rsi\",\"period\":14},70]},"
        "{\"gt\":[{\"ind\":\"atr\",\"period\":14},0]}]},"
        "\"exit\":{\"or\":[{\"lt\":[{\"price\":\"low\"},{\"ind\":\"donchian_low\",\"period\":20}]},"
        "{\"gt\":[{\"ind\":\"volatility\",\"period\":30},3]},"
        "{\"lt\":[{\"ind\":\"return\",\"period\":10},-0.01]},"
        "{\"lt\":[{\"price\":\"close\"},{\"ind\":\"sma\",\"period\":100}]}]}}";

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct q_bar *
synth(size_t n)
{
	struct q_bar *b = calloc(n, sizeof(*b));
	unsigned long long x = 0x9e3779b97f4a7c15ULL;
	double c = 30000;

	for (size_t i = 0; i < n && b != NULL; i++) {
		double sd = (i / 1440) % 3 == 2 ? 0.004 : 0.0012, o = c, u;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		u = (double)(x >> 11) / 9007199254740992.0 - 0.5;
		c = o * exp(u * sd * 3.46 + 0.00004 * sin((double)i / 700.0));
		b[i].open_ms = 1767225600000LL + (long long)i * 60000;
		b[i].open = o;
		b[i].high = fmax(o, c) * (1 + sd / 3);
		b[i].low = fmin(o, c) * (1 - sd / 3);
		b[i].close = c;
		b[i].volume = 1 + (double)(x % 1000);
	}
	return b;
}

static double
baseline(const struct q_bar *b, size_t n)
{
	volatile double sink = 0;
	double best = 1e9;

	for (int run = 0; run < BASE_RUNS; run++) {
		double t0 = now_s(), sum = 0, dt;

		for (size_t i = 0; i < n; i++)
			sum += b[i].close;
		sink += sum;
		dt = now_s() - t0;
		if (dt < best)
			best = dt;
	}
	(void)sink;
	return best;
}

int
main(void)
{
	struct q_bt_opts o = {.fill = {.fee_bps = 10, .slippage_bps = 5}, .interval_ms = 60000};
	struct q_bar *b = synth(N);
	const struct q_strategy *s;
	double base;
	int status = 0;

	if (b == NULL) {
		fputs("bench_backtest: out of memory\n", stderr);
		return 1;
	}
	base = baseline(b, N);
	printf("backtest.baseline: %d candles read (sum of closes) in %.6f s = %.0f M candles/s\n",
	       N, base, N / base / 1e6);
	for (size_t k = 0; (s = q_strategy_at(k)) != NULL; k++) {
		json_t *params = s->rule_set ? json_loads(custom_rules, 0, NULL) : NULL;
		struct q_strategy_config cfg;
		struct q_bt_result res;
		struct q_err err = {0};
		double best = 1e9;

		if (q_strategy_config_init(&cfg, s, params, NULL, &err) < 0) {
			fprintf(stderr, "bench_backtest: %s: %s\n", s->id, err.msg);
			json_decref(params);
			status = 1;
			continue;
		}
		for (int run = 0; run < RUNS; run++) {
			struct q_arena *a = q_arena_new();
			double t0 = now_s(), dt;

			if (q_backtest_run(&cfg, b, N, &o, a, &res, &err) < 0) {
				fprintf(stderr, "bench_backtest: %s: %s\n", s->id, err.msg);
				status = 1;
			}
			dt = now_s() - t0;
			if (dt < best)
				best = dt;
			q_arena_destroy(a);
		}
		printf("backtest.%s: %d candles in %.3f s = %.2f M candles/s, %zu trades, "
		       "return %+.1f %% (baseline read-only loop: %.0f M candles/s; ratio %.5f, %.0fx slower)\n",
		       s->id, N, best, N / best / 1e6, res.ntrades, 100 * res.total_return,
		       N / base / 1e6, base / best, best / base);
		q_strategy_config_release(&cfg);
		json_decref(params);
	}
	free(b);
	return status;
}
