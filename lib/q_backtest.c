#include "q_backtest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "q_indicators.h"
#include "q_mem.h"

#define PROGRESS_EVERY 4096

double
q_fill_price(const struct q_fill_model *m, int side, double close)
{
	return close * (1.0 + (side > 0 ? 1 : -1) * (double)m->slippage_bps / 10000.0);
}

double
q_fill_fee(const struct q_fill_model *m, double quote_amount)
{
	return quote_amount * (double)m->fee_bps / 10000.0;
}

/* The account: quote cash and base quantity, from 1 quote unit. */
struct book {
	double cash, qty;
	struct q_bt_trade *trades; /* malloc'd while running, copied into the arena at the end */
	size_t ntrades, cap;
};

static void
record(struct book *bk, long long time_ms, int side, double price, double qty, double fee,
       double close)
{
	struct q_bt_trade *t;

	if (bk->ntrades == bk->cap) {
		bk->cap = bk->cap ? 2 * bk->cap : 64;
		bk->trades = q_realloc(bk->trades, bk->cap * sizeof(*bk->trades));
	}
	t = &bk->trades[bk->ntrades++];
	t->time_ms = time_ms;
	t->side = side;
	t->price = price;
	t->qty = qty;
	t->fee = fee;
	t->equity = bk->cash + bk->qty * close;
}

/*
 * Move the book to target (a fraction of equity marked at close) at this close. A buy spends
 * at most the cash, fee included; a move to flat sells every unit, so no dust stays behind.
 */
static void
rebalance(struct book *bk, const struct q_fill_model *m, double target, double close,
          long long time_ms)
{
	double equity = bk->cash + bk->qty * close, want = target * equity - bk->qty * close;
	double fee_rate = (double)m->fee_bps / 10000.0;

	if (want > 1e-12 * equity) {
		double price = q_fill_price(m, +1, close), spend = want, fee, qty;

		if (spend * (1.0 + fee_rate) > bk->cash)
			spend = bk->cash / (1.0 + fee_rate);
		if (spend <= 0)
			return;
		fee = q_fill_fee(m, spend);
		qty = spend / price;
		bk->cash -= spend + fee;
		if (bk->cash < 0)
			bk->cash = 0;
		bk->qty += qty;
		record(bk, time_ms, +1, price, qty, fee, close);
	} else if (want < -1e-12 * equity || (target == 0 && bk->qty > 0)) {
		double price = q_fill_price(m, -1, close), qty, fee;

		qty = target == 0 ? bk->qty : -want / close;
		if (qty > bk->qty)
			qty = bk->qty;
		fee = q_fill_fee(m, qty * price);
		bk->cash += qty * price - fee;
		bk->qty = target == 0 ? 0 : bk->qty - qty;
		record(bk, time_ms, -1, price, qty, fee, close);
	}
}

int
q_backtest_run(const struct q_strategy_config *cfg, const struct q_bar *bars, size_t n,
               const struct q_bt_opts *o, struct q_arena *a, struct q_bt_result *res,
               struct q_err *err)
{
	struct book bk = {.cash = 1.0};
	json_t *state = NULL;
	double prev_target = 0, prev_eq = 1.0, peak = 1.0, mean = 0, m2 = 0;
	size_t held = 0;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	if (cfg == NULL || cfg->s == NULL || o == NULL || (bars == NULL && n > 0))
		return q_err_set(err, Q_E_INTERNAL,
		                 "backtest without a strategy, options or candles");
	if (o->interval_ms <= 0)
		return q_err_set_field(err, "interval_ms", Q_E_BAD_REQUEST,
		                       "interval_ms must be positive");
	state = json_object();
	for (size_t i = 0; i < n; i++) {
		double target, eq, r, d;

		if (bk.qty > 0)
			held++;
		if (cfg->s->step(cfg, bars, i + 1, state, &target, err) < 0)
			goto out;
		if (!(target >= 0 && target <= 1)) {
			q_err_set(err, Q_E_INTERNAL, "%s gave target %g", cfg->s->id, target);
			goto out;
		}
		if (target != prev_target)
			rebalance(&bk, &o->fill, target, bars[i].close,
			          bars[i].open_ms + o->interval_ms);
		prev_target = target;

		/* Per-candle equity return, folded with Welford's method for the Sharpe ratio. */
		eq = bk.cash + bk.qty * bars[i].close;
		r = eq / prev_eq - 1.0;
		d = r - mean;
		mean += d / (double)(i + 1);
		m2 += d * (r - mean);
		prev_eq = eq;
		if (eq > peak)
			peak = eq;
		if (1.0 - eq / peak > res->max_drawdown)
			res->max_drawdown = 1.0 - eq / peak;
		if (o->progress != NULL && ((i + 1) % PROGRESS_EVERY == 0 || i + 1 == n))
			o->progress(i + 1, n, o->ud);
	}
	res->candles = n;
	res->total_return = prev_eq - 1.0;
	res->exposure = n ? (double)held / (double)n : 0;
	res->buy_hold_return = n ? bars[n - 1].close / bars[0].close - 1.0 : 0;
	if (n >= 2 && m2 > 0)
		res->sharpe = mean / sqrt(m2 / (double)(n - 1)) *
		              sqrt(Q_INDICATORS_YEAR_MS / (double)o->interval_ms);
	res->ntrades = bk.ntrades;
	res->trades =
	        bk.ntrades ? q_arena_memdup(a, bk.trades, bk.ntrades * sizeof(*bk.trades)) : NULL;
	rc = 0;
out:
	free(bk.trades);
	json_decref(state);
	return rc;
}
