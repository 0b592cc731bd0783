/*
 * TS_MOMENTUM_V1: time-series momentum, volatility-scaled. In only while the close is above the
 * close `lookback` candles earlier, with a position of target_vol / realized volatility (both
 * annualised), capped at fully in: the calmer the market, the larger the position.
 */
#include "strategy/kit.h"

#include "q_indicators.h"

enum { LOOKBACK, VOL_WINDOW, TARGET_VOL };

static const struct q_strategy_param params[] = {
        {"lookback", Q_PARAM_INT, 1, 1000, 24, "candles the return is measured over"},
        {"vol_window", Q_PARAM_INT, 2, 1000, 24,
         "candles of log returns in the realized volatility"},
        {"target_vol", Q_PARAM_NUMBER, 0.01, 10, 0.5,
         "annualised volatility the position aims at (0.5 = 50 %)"},
        {NULL, 0, 0, 0, 0, NULL},
};

static size_t
warmup(const struct q_strategy_config *cfg)
{
	size_t lb = (size_t)cfg->v[LOOKBACK], vw = (size_t)cfg->v[VOL_WINDOW];

	return (lb > vw ? lb : vw) + 1;
}

static double
advance(const struct q_strategy_config *cfg, const struct q_bar *bars, size_t n,
        struct q_kit_vars *v)
{
	double vol;

	v->pos = 0;
	if (!q_kit_ready(v, n, warmup(cfg)) ||
	    q_indicators_ret(bars, n, (size_t)cfg->v[LOOKBACK]) <= 0)
		return 0;
	vol = q_indicators_volatility(bars, n, (size_t)cfg->v[VOL_WINDOW]);
	v->pos = vol > cfg->v[TARGET_VOL] ? cfg->v[TARGET_VOL] / vol : 1;
	return v->pos;
}

static int
step(const struct q_strategy_config *cfg, const struct q_bar *bars, size_t n, json_t *state,
     double *target, struct q_err *err)
{
	return q_kit_step(cfg, NULL, 0, advance, bars, n, state, target, err);
}

const struct q_strategy q_strategy_ts_momentum = {
        .id = "TS_MOMENTUM_V1",
        .name = "Time-series momentum",
        .advanced = 1,
        .params = params,
        .warmup = warmup,
        .step = step,
};
