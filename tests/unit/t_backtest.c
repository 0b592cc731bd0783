/*
 * The backtest: the fill model, exact equity through a buy and a sell with fee and slippage,
 * every metric on a series small enough to work out by hand, and a plain reference book for the
 * fractional positions of TS_MOMENTUM_V1.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "q_backtest.h"

#define T0 1767225600000LL
#define MINUTE 60000LL

static struct q_bar *
closes(const double *c, size_t n)
{
	struct q_bar *b = calloc(n, sizeof(*b));

	for (size_t i = 0; i < n; i++) {
		b[i].open_ms = T0 + (long long)i * MINUTE;
		b[i].open = b[i].high = b[i].low = b[i].close = c[i];
		b[i].volume = 1;
	}
	return b;
}

static void
init_cfg(struct q_strategy_config *cfg, const char *id, const char *params)
{
	json_t *p = json_loads(params, 0, NULL);
	struct q_err err = {0};

	cr_assert_not_null(p);
	cr_assert_eq(q_strategy_config_init(cfg, q_strategy_lookup(id), p, NULL, &err), 0, "%s",
	             err.msg);
	json_decref(p);
}

static void
run(const struct q_strategy_config *cfg, const struct q_bar *b, size_t n, const struct q_bt_opts *o,
    struct q_arena *a, struct q_bt_result *res)
{
	struct q_err err = {0};

	cr_assert_eq(q_backtest_run(cfg, b, n, o, a, res, &err), 0, "%s", err.msg);
	cr_assert_eq(res->candles, n);
}

Test(backtest, fill_model)
{
	struct q_fill_model m = {.fee_bps = 10, .slippage_bps = 25};
	struct q_fill_model free_ = {0};

	cr_assert_float_eq(q_fill_price(&m, +1, 100), 100.25, 1e-12); /* buys pay more */
	cr_assert_float_eq(q_fill_price(&m, -1, 100), 99.75, 1e-12);  /* sells get less */
	cr_assert_float_eq(q_fill_fee(&m, 2000), 2.0, 1e-12);
	cr_assert_eq(q_fill_price(&free_, +1, 100), 100);
	cr_assert_eq(q_fill_fee(&free_, 2000), 0);
}

/*
 * Buy at one close, sell at a higher one, 10 bps fee and 10 bps slippage, equity from 1:
 *   closes 90, 100, 95, 110, 120; entry 100 <= close < 101, exit close >= 110
 *   candle 1 buys at 100 * 1.001 = 100.1, spending all cash with the fee on top:
 *     spend = 1 / 1.001, fee = 0.001 / 1.001, qty = spend / 100.1 = 1 / 100.2001
 *     equity marked at the close: 100 / 100.2001
 *   candle 2: 95 / 100.2001
 *   candle 3 sells at 110 * 0.999 = 109.89: proceeds 109.89 / 100.2001, fee 0.1 % of them,
 *     equity 109.89 * 0.999 / 100.2001 = 109.78011 / 100.2001 = 1.0956088...
 *   candle 4 (120): flat, entry refused (not under 101): equity stays.
 * Drawdown: peak 1, trough 95 / 100.2001 (0.0518972...). Exposure: the position was held
 * through candles 2 and 3 of 5. Buy and hold: 120 / 90 - 1.
 */
Test(backtest, buy_low_sell_high_with_fee_and_slippage)
{
	static const double c[] = {90, 100, 95, 110, 120};
	struct q_bt_opts o = {.fill = {.fee_bps = 10, .slippage_bps = 10}, .interval_ms = MINUTE};
	struct q_strategy_config cfg;
	struct q_arena *a = q_arena_new();
	struct q_bar *b = closes(c, 5);
	struct q_bt_result res;
	double e1 = 100 / 100.2001, e2 = 95 / 100.2001, e3 = 109.78011 / 100.2001;
	double r[5], mean = 0, var = 0;

	init_cfg(&cfg, "CUSTOM",
	         "{\"entry\":{\"and\":[{\"gte\":[{\"price\":\"close\"},100]},"
	         "{\"lt\":[{\"price\":\"close\"},101]}]},"
	         "\"exit\":{\"gte\":[{\"price\":\"close\"},110]}}");
	run(&cfg, b, 5, &o, a, &res);

	cr_assert_eq(res.ntrades, 2);
	cr_assert_eq(res.trades[0].side, +1);
	cr_assert_eq(res.trades[0].time_ms, T0 + 2 * MINUTE); /* candle 1 closes at its end */
	cr_assert_float_eq(res.trades[0].price, 100.1, 1e-12);
	cr_assert_float_eq(res.trades[0].qty, 1 / 100.2001, 1e-15);
	cr_assert_float_eq(res.trades[0].fee, 0.001 / 1.001, 1e-15);
	cr_assert_float_eq(res.trades[0].equity, e1, 1e-15);
	cr_assert_eq(res.trades[1].side, -1);
	cr_assert_eq(res.trades[1].time_ms, T0 + 4 * MINUTE);
	cr_assert_float_eq(res.trades[1].price, 109.89, 1e-12);
	cr_assert_float_eq(res.trades[1].qty, 1 / 100.2001, 1e-15);
	cr_assert_float_eq(res.trades[1].fee, 109.89 / 100.2001 * 0.001, 1e-15);
	cr_assert_float_eq(res.trades[1].equity, e3, 1e-15);

	cr_assert_float_eq(res.total_return, e3 - 1, 1e-15);
	cr_assert_float_eq(res.total_return, 0.0956088, 1e-7);
	cr_assert_float_eq(res.max_drawdown, 1 - e2, 1e-15);
	cr_assert_float_eq(res.exposure, 0.4, 1e-15);
	cr_assert_float_eq(res.buy_hold_return, 120.0 / 90.0 - 1, 1e-15);

	/* Sharpe: per-candle equity returns, sample deviation, sqrt(525600) one-minute candles. */
	r[0] = 0;
	r[1] = e1 - 1;
	r[2] = e2 / e1 - 1; /* -5 % */
	r[3] = e3 / e2 - 1;
	r[4] = 0;
	for (int i = 0; i < 5; i++)
		mean += r[i] / 5;
	for (int i = 0; i < 5; i++)
		var += (r[i] - mean) * (r[i] - mean) / 4;
	cr_assert_float_eq(r[2], -0.05, 1e-12);
	cr_assert_float_eq(res.sharpe, mean / sqrt(var) * sqrt(525600.0), 1e-9, "%.12g",
	                   res.sharpe);

	q_strategy_config_release(&cfg);
	q_arena_destroy(a);
	free(b);
}

/* Without costs, bought at the first close and held: exactly buy and hold. */
Test(backtest, free_buy_and_hold_is_buy_and_hold)
{
	static const double c[] = {50, 55, 45, 60, 58, 70};
	struct q_bt_opts o = {.interval_ms = 3600000};
	struct q_strategy_config cfg;
	struct q_arena *a = q_arena_new();
	struct q_bar *b = closes(c, 6);
	struct q_bt_result res;

	init_cfg(&cfg, "CUSTOM", "{\"entry\":{\"gt\":[1,0]},\"exit\":{\"lt\":[1,0]}}");
	run(&cfg, b, 6, &o, a, &res);
	cr_assert_eq(res.ntrades, 1);
	cr_assert_float_eq(res.total_return, 0.4, 1e-12);
	cr_assert_float_eq(res.buy_hold_return, 0.4, 1e-15);
	cr_assert_float_eq(res.max_drawdown, 1 - 45.0 / 55.0, 1e-12); /* from the peak at 55 */
	cr_assert_float_eq(res.exposure, 5.0 / 6.0, 1e-15);
	cr_assert_gt(res.sharpe, 0);
	q_strategy_config_release(&cfg);
	q_arena_destroy(a);
	free(b);
}

Test(backtest, a_strategy_that_never_enters)
{
	static const double c[] = {50, 55, 45, 60};
	struct q_bt_opts o = {.fill = {.fee_bps = 10, .slippage_bps = 5}, .interval_ms = MINUTE};
	struct q_strategy_config cfg;
	struct q_arena *a = q_arena_new();
	struct q_bar *b = closes(c, 4);
	struct q_bt_result res;

	init_cfg(&cfg, "CUSTOM", "{\"entry\":{\"lt\":[1,0]},\"exit\":{\"lt\":[1,0]}}");
	run(&cfg, b, 4, &o, a, &res);
	cr_assert_eq(res.ntrades, 0);
	cr_assert_null(res.trades);
	cr_assert_eq(res.total_return, 0);
	cr_assert_eq(res.max_drawdown, 0);
	cr_assert_eq(res.sharpe, 0); /* flat: no deviation to divide by */
	cr_assert_eq(res.exposure, 0);
	cr_assert_float_eq(res.buy_hold_return, 0.2, 1e-15);
	q_strategy_config_release(&cfg);
	q_arena_destroy(a);
	free(b);
}

/*
 * Fractional positions: TS_MOMENTUM_V1 resizes as volatility moves. A plain book written out
 * here (move to target x equity at the close whenever the target changes; a buy spends at most
 * the cash, fee on top; flat sells everything) must give the same equity, trade for trade.
 */
Test(backtest, fractional_targets_against_a_reference_book)
{
	enum { N = 600 };
	struct q_bt_opts o = {.fill = {.fee_bps = 7, .slippage_bps = 3}, .interval_ms = MINUTE};
	struct q_strategy_config cfg;
	struct q_arena *a = q_arena_new();
	struct q_bt_result res;
	struct q_bar *b;
	double c[N], cash = 1, qty = 0, prev = 0, f = 0.0007, s = 0.0003;
	json_t *st = json_object();
	size_t trades = 0;

	c[0] = 100;
	for (size_t i = 1; i < N; i++)
		c[i] = c[i - 1] * exp(0.01 * sin((double)i / 9.0) + 0.004 * cos((double)i * 1.7));
	b = closes(c, N);
	init_cfg(&cfg, "TS_MOMENTUM_V1", "{\"lookback\":8,\"vol_window\":16,\"target_vol\":3}");
	run(&cfg, b, N, &o, a, &res);

	for (size_t i = 0; i < N; i++) {
		struct q_err err = {0};
		double t, v, d;

		cr_assert_eq(cfg.s->step(&cfg, b, i + 1, st, &t, &err), 0);
		if (t == prev)
			continue;
		prev = t;
		v = cash + qty * c[i];
		d = t * v - qty * c[i];
		if (d > 0) {
			double spend = fmin(d, cash / (1 + f));

			cash -= spend * (1 + f);
			qty += spend / (c[i] * (1 + s));
		} else if (t == 0) {
			cash += qty * c[i] * (1 - s) * (1 - f);
			qty = 0;
		} else {
			double q = -d / c[i];

			cash += q * c[i] * (1 - s) * (1 - f);
			qty -= q;
		}
		cr_assert_lt(trades, res.ntrades);
		cr_assert_float_eq(res.trades[trades].equity, cash + qty * c[i], 1e-12,
		                   "trade %zu at candle %zu", trades, i);
		trades++;
	}
	cr_assert_eq(trades, res.ntrades);
	cr_assert_gt(trades, 10, "the series must make the strategy resize: %zu trades", trades);
	cr_assert_float_eq(res.total_return, cash + qty * c[N - 1] - 1, 1e-12);
	cr_assert(res.exposure > 0 && res.exposure < 1);
	json_decref(st);
	q_strategy_config_release(&cfg);
	q_arena_destroy(a);
	free(b);
}

static void
count(size_t done, size_t total, void *ud)
{
	size_t *calls = ud;

	cr_assert_leq(done, total);
	calls[0]++;
	calls[1] = done;
}

Test(backtest, progress_is_reported)
{
	enum { N = 10000 };
	struct q_bt_opts o = {.interval_ms = MINUTE, .progress = count};
	struct q_strategy_config cfg;
	struct q_arena *a = q_arena_new();
	struct q_bt_result res;
	struct q_bar *b;
	double c[N];
	size_t calls[2] = {0, 0};

	for (size_t i = 0; i < N; i++)
		c[i] = 100 + sin((double)i / 50.0);
	b = closes(c, N);
	o.ud = calls;
	init_cfg(&cfg, "EMA", "{}");
	run(&cfg, b, N, &o, a, &res);
	cr_assert_eq(calls[0], 3); /* 4096, 8192, 10000 */
	cr_assert_eq(calls[1], N);
	cr_assert_gt(res.ntrades, 0);
	q_strategy_config_release(&cfg);
	q_arena_destroy(a);
	free(b);
}

Test(backtest, refusals)
{
	static const double c[] = {50, 55, 45, 60};
	struct q_bt_opts o = {.interval_ms = 0};
	struct q_strategy_config cfg;
	struct q_arena *a = q_arena_new();
	struct q_bar *b = closes(c, 4);
	struct q_bt_result res;
	struct q_err err = {0};

	init_cfg(&cfg, "EMA", "{\"fast\":1,\"slow\":2}");
	cr_assert_eq(q_backtest_run(&cfg, b, 4, &o, a, &res, &err), -1);
	cr_assert_eq(err.code, Q_E_BAD_REQUEST);
	cr_assert_str_eq(err.field, "interval_ms");

	o.interval_ms = MINUTE;
	b[2].close = -1;
	q_err_clear(&err);
	cr_assert_eq(q_backtest_run(&cfg, b, 4, &o, a, &res, &err), -1);
	cr_assert_eq(err.code, Q_E_BAD_REQUEST);

	q_err_clear(&err);
	cr_assert_eq(q_backtest_run(&cfg, b, 0, &o, a, &res, &err), 0);
	cr_assert_eq(res.candles, 0);
	cr_assert_eq(res.total_return, 0);
	q_strategy_config_release(&cfg);
	q_arena_destroy(a);
	free(b);
}
