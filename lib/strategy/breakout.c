/*
 * BREAKOUT_V1: the Donchian channel breakout (the turtle rule). Enter when the close breaks
 * above the highest high of the previous `entry` candles; leave when it breaks below the lowest
 * low of the previous `exit` candles; hold in between. The channels are read from the candles
 * given, so the state only carries the position.
 */
#include "strategy/kit.h"

#include "q_indicators.h"

enum { ENTRY, EXIT };

static const struct q_strategy_param params[] = {
        {"entry", Q_PARAM_INT, 2, 500, 20, "candles of highs a close must break above to enter"},
        {"exit", Q_PARAM_INT, 2, 500, 10, "candles of lows a close must break below to leave"},
        {NULL, 0, 0, 0, 0, NULL},
};

static size_t
warmup(const struct q_strategy_config *cfg)
{
	size_t in = (size_t)cfg->v[ENTRY], out = (size_t)cfg->v[EXIT];

	return (in > out ? in : out) + 1;
}

static double
advance(const struct q_strategy_config *cfg, const struct q_bar *bars, size_t n,
        struct q_kit_vars *v)
{
	double c = bars[n - 1].close;

	if (!q_kit_ready(v, n, warmup(cfg)))
		v->pos = 0;
	else if (v->pos == 0)
		v->pos = q_kit_hold(v->pos,
		                    c > q_indicators_highest(bars, n, (size_t)cfg->v[ENTRY]), 0);
	else
		v->pos = q_kit_hold(v->pos, 0,
		                    c < q_indicators_lowest(bars, n, (size_t)cfg->v[EXIT]));
	return v->pos;
}

static int
step(const struct q_strategy_config *cfg, const struct q_bar *bars, size_t n, json_t *state,
     double *target, struct q_err *err)
{
	return q_kit_step(cfg, NULL, 0, advance, bars, n, state, target, err);
}

const struct q_strategy q_strategy_breakout = {
        .id = "BREAKOUT_V1",
        .name = "Donchian breakout",
        .advanced = 1,
        .params = params,
        .warmup = warmup,
        .step = step,
};
