/*
 * ADAPTIVE_PRO: trend following when the market moves, mean reversion when it is quiet. While
 * the realized volatility over vol_window candles (annualised) is at or above vol_threshold the
 * EMA crossover rules (in while EMA(fast) > EMA(slow)); below it the RSI rule does (enter under
 * oversold, leave over exit_level). Both sets of indicators are folded on every candle, so a
 * switch finds the other side warm; the position carries over a switch.
 */
#include "strategy/kit.h"

#include "q_indicators.h"

enum { FAST, SLOW, RSI_PERIOD, OVERSOLD, EXIT_LEVEL, VOL_WINDOW, VOL_THRESHOLD };
enum { EMA_FAST, EMA_SLOW, AVG_GAIN, AVG_LOSS, TREND, NVARS };

static const struct q_strategy_param params[] = {
        {"fast", Q_PARAM_INT, 1, 250, 12, "candles in the fast EMA of the trend mode (below slow)"},
        {"slow", Q_PARAM_INT, 2, 500, 26, "candles in the slow EMA of the trend mode"},
        {"rsi_period", Q_PARAM_INT, 2, 200, 14, "candles in the RSI of the mean-reversion mode"},
        {"oversold", Q_PARAM_NUMBER, 1, 50, 30, "mean reversion enters when the RSI falls below"},
        {"exit_level", Q_PARAM_NUMBER, 10, 99, 50,
         "mean reversion leaves when the RSI rises above"},
        {"vol_window", Q_PARAM_INT, 2, 1000, 24,
         "candles of log returns in the realized volatility"},
        {"vol_threshold", Q_PARAM_NUMBER, 0.01, 50, 0.6,
         "annualised volatility at and above which the trend mode rules (0.6 = 60 %)"},
        {NULL, 0, 0, 0, 0, NULL},
};

static const char *const vars[NVARS] = {"ema_fast", "ema_slow", "avg_gain", "avg_loss", "trend"};

static int
compile(struct q_strategy_config *cfg, const json_t *p, struct q_err *err)
{
	(void)p;
	if (q_kit_below(cfg, FAST, SLOW, err) < 0)
		return -1;
	return q_kit_below(cfg, OVERSOLD, EXIT_LEVEL, err);
}

static size_t
warmup(const struct q_strategy_config *cfg)
{
	size_t need = q_indicators_ema_need((size_t)cfg->v[SLOW]);
	size_t rsi = q_indicators_rsi_need((size_t)cfg->v[RSI_PERIOD]);
	size_t vol = (size_t)cfg->v[VOL_WINDOW] + 1;

	if (rsi > need)
		need = rsi;
	return vol > need ? vol : need;
}

static double
advance(const struct q_strategy_config *cfg, const struct q_bar *bars, size_t n,
        struct q_kit_vars *v)
{
	double c = bars[n - 1].close, *x = v->x, rsi;

	q_indicators_ema_fold(&x[EMA_FAST], v->seen, (size_t)cfg->v[FAST], c);
	q_indicators_ema_fold(&x[EMA_SLOW], v->seen, (size_t)cfg->v[SLOW], c);
	q_indicators_rsi_fold(&x[AVG_GAIN], &x[AVG_LOSS], v->seen, (size_t)cfg->v[RSI_PERIOD],
	                      v->seen >= 2 ? bars[n - 2].close : c, c);
	if (!q_kit_ready(v, n, warmup(cfg))) {
		x[TREND] = 0;
		v->pos = 0;
		return 0;
	}
	x[TREND] = q_indicators_volatility(bars, n, (size_t)cfg->v[VOL_WINDOW]) >=
	           cfg->v[VOL_THRESHOLD];
	if (x[TREND] != 0) {
		v->pos = x[EMA_FAST] > x[EMA_SLOW];
	} else {
		rsi = q_indicators_rsi_value(x[AVG_GAIN], x[AVG_LOSS]);
		v->pos = q_kit_hold(v->pos, rsi<cfg->v[OVERSOLD], rsi> cfg->v[EXIT_LEVEL]);
	}
	return v->pos;
}

static int
step(const struct q_strategy_config *cfg, const struct q_bar *bars, size_t n, json_t *state,
     double *target, struct q_err *err)
{
	return q_kit_step(cfg, vars, NVARS, advance, bars, n, state, target, err);
}

const struct q_strategy q_strategy_adaptive_pro = {
        .id = "ADAPTIVE_PRO",
        .name = "Adaptive trend / mean reversion",
        .advanced = 1,
        .params = params,
        .compile = compile,
        .warmup = warmup,
        .step = step,
};
