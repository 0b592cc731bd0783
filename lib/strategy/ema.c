/*
 * EMA: the fast/slow exponential moving average crossover, the one strategy every plan may run
 * LIVE. Fully in while EMA(fast) of the closes is above EMA(slow), flat otherwise. Both EMAs are
 * folded candle by candle in the state, each seeded with the SMA of its first candles.
 */
#include "strategy/kit.h"

#include "q_indicators.h"

enum { FAST, SLOW };
enum { EMA_FAST, EMA_SLOW, NVARS };

static const struct q_strategy_param params[] = {
        {"fast", Q_PARAM_INT, 1, 250, 12, "candles in the fast EMA (below slow)"},
        {"slow", Q_PARAM_INT, 2, 500, 26, "candles in the slow EMA"},
        {NULL, 0, 0, 0, 0, NULL},
};

static const char *const vars[NVARS] = {"ema_fast", "ema_slow"};

static int
compile(struct q_strategy_config *cfg, const json_t *p, struct q_err *err)
{
	(void)p;
	return q_kit_below(cfg, FAST, SLOW, err);
}

static size_t
warmup(const struct q_strategy_config *cfg)
{
	return q_indicators_ema_need((size_t)cfg->v[SLOW]);
}

static double
advance(const struct q_strategy_config *cfg, const struct q_bar *bars, size_t n,
        struct q_kit_vars *v)
{
	double c = bars[n - 1].close;

	q_indicators_ema_fold(&v->x[EMA_FAST], v->seen, (size_t)cfg->v[FAST], c);
	q_indicators_ema_fold(&v->x[EMA_SLOW], v->seen, (size_t)cfg->v[SLOW], c);
	v->pos = q_kit_ready(v, n, warmup(cfg)) && v->x[EMA_FAST] > v->x[EMA_SLOW];
	return v->pos;
}

static int
step(const struct q_strategy_config *cfg, const struct q_bar *bars, size_t n, json_t *state,
     double *target, struct q_err *err)
{
	return q_kit_step(cfg, vars, NVARS, advance, bars, n, state, target, err);
}

const struct q_strategy q_strategy_ema = {
        .id = "EMA",
        .name = "EMA crossover",
        .advanced = 0,
        .params = params,
        .compile = compile,
        .warmup = warmup,
        .step = step,
};
