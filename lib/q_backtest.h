/*
 * q_backtest: a strategy over a candle series, with the same fill model the trader's PAPER mode
 * uses (DESIGN.md section 6 and 12): a change of target position fills at the close of the
 * candle that decided it, moved against the trader by the slippage, and pays the fee.
 */
#ifndef Q_BACKTEST_H
#define Q_BACKTEST_H

#include <jansson.h>
#include <stddef.h>

#include "q_arena.h"
#include "q_err.h"
#include "q_strategy.h"

/* The fill model, shared with the trader's PAPER mode. side: +1 buy, -1 sell. */
struct q_fill_model {
	int fee_bps;      /* of the quote amount, e.g. 10 = 0.1 % */
	int slippage_bps; /* the fill price moves this far against the trader */
};

/* The price a market order of this side fills at when the candle closed at close. */
double q_fill_price(const struct q_fill_model *m, int side, double close);
/* The fee of a fill of quote_amount. */
double q_fill_fee(const struct q_fill_model *m, double quote_amount);

struct q_bt_trade {
	long long time_ms; /* the deciding candle's close time */
	int side;          /* +1 buy, -1 sell */
	double price;      /* after slippage */
	double qty;        /* base units, for a starting equity of 1 quote unit */
	double fee;        /* quote units */
	double equity;     /* after the fill */
};

struct q_bt_result {
	struct q_bt_trade *trades; /* in the arena */
	size_t ntrades;
	double total_return;    /* final equity / 1 - 1 */
	double max_drawdown;    /* largest fall of equity from a running peak, 0.25 = 25 % */
	double sharpe;          /* annualised from per-candle equity returns; 0 when flat */
	double exposure;        /* fraction of candles spent with a position */
	double buy_hold_return; /* last close / first close - 1 */
	size_t candles;
};

struct q_bt_opts {
	struct q_fill_model fill;
	long long interval_ms; /* for annualising */
	/* Called every few thousand candles with the count done (may be NULL). */
	void (*progress)(size_t done, size_t total, void *ud);
	void *ud;
};

/*
 * Run cfg's strategy over bars (oldest first, consecutive) from equity 1: each candle is one
 * step, exactly as the trader runs it on a newly closed candle. 0, or -1 with err (a strategy
 * error). res->trades live in a.
 */
int q_backtest_run(const struct q_strategy_config *cfg, const struct q_bar *bars, size_t n,
                   const struct q_bt_opts *o, struct q_arena *a, struct q_bt_result *res,
                   struct q_err *err);

#endif
