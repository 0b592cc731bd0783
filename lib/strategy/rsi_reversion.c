/*
 * RSI_REVERSION_V1: buy the dip. Enter when Wilder's RSI falls below `oversold`, leave when it
 * rises above `exit_level`, hold in between. The RSI's average gain and loss are folded in the
 * state.
 */
#include "strategy/kit.h"

#include "q_indicators.h"

enum { PERIOD, OVERSOLD, EXIT_LEVEL };
enum { AVG_GAIN, AVG_LOSS, NVARS };

static const struct q_strategy_param params[] = {
        {"period", Q_PARAM_INT, 2, 200, 14, "candles in Wilder's RSI"},
        {"oversold", Q_PARAM_NUMBER, 1, 50, 30, "enter when the RSI falls below this"},
        {"exit_level", Q_PARAM_NUMBER, 10, 99, 50, "leave when the RSI rises above this"},
        {NULL, 0, 0, 0, 0, NULL},
};

static const char *const vars[NVARS] = {"avg_gain", "avg_loss"};

static int
compile(struct q_strategy_config *cfg, const json_t *p, struct q_err *err)
{
	(void)p;
	return q_kit_below(cfg, OVERSOLD, EXIT_LEVEL, err);
}

static size_t
warmup(const struct q_strategy_config *cfg)
{
	return q_indicators_rsi_need((size_t)cfg->v[PERIOD]);
}

static double
advance(const struct q_strategy_config *cfg, const struct q_bar *bars, size_t n,
        struct q_kit_vars *v)
{
	double c = bars[n - 1].close, rsi;

	q_indicators_rsi_fold(&v->x[AVG_GAIN], &v->x[AVG_LOSS], v->seen, (size_t)cfg->v[PERIOD],
	                      v->seen >= 2 ? bars[n - 2].close : c, c);
	if (!q_kit_ready(v, n, warmup(cfg))) {
		v->pos = 0;
		return 0;
	}
	rsi = q_indicators_rsi_value(v->x[AVG_GAIN], v->x[AVG_LOSS]);
	v->pos = q_kit_hold(v->pos, rsi<cfg->v[OVERSOLD], rsi> cfg->v[EXIT_LEVEL]);
	return v->pos;
}

static int
step(const struct q_strategy_config *cfg, const struct q_bar *bars, size_t n, json_t *state,
     double *target, struct q_err *err)
{
	return q_kit_step(cfg, vars, NVARS, advance, bars, n, state, target, err);
}

const struct q_strategy q_strategy_rsi_reversion = {
        .id = "RSI_REVERSION_V1",
        .name = "RSI mean reversion",
        .advanced = 1,
        .params = params,
        .compile = compile,
        .warmup = warmup,
        .step = step,
};
