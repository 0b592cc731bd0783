/*
 * q_strategy: the six strategies behind one ops table (DESIGN.md section 6), one file each in
 * lib/strategy/. A strategy is pure: the closed candles, its parameters and its saved state in,
 * a target position (0 = flat, 1 = fully in; spot only, never short) and its new state out. The
 * trader and `quantorctl backtest` run exactly the same code.
 *
 * Prices in a struct q_bar are doubles: strategies compute indicators, never amounts. Orders are
 * sized and formatted from exact decimals elsewhere (q_decimal, q_exchange_order_check).
 */
#ifndef Q_STRATEGY_H
#define Q_STRATEGY_H

#include <jansson.h>
#include <stddef.h>

#include "q_err.h"

#define Q_STRATEGY_MAX_PARAMS 16

/* One closed candle, for analytics. */
struct q_bar {
	long long open_ms;
	double open, high, low, close, volume;
};

enum q_param_type { Q_PARAM_INT = 1, Q_PARAM_NUMBER };

/* One tunable parameter: its schema, as GET /api/v1/strategies shows it. */
struct q_strategy_param {
	const char *name; /* "fast" */
	enum q_param_type type;
	double min, max, def; /* bounds inclusive; def within them */
	const char *help;     /* one line for people */
};

/*
 * Parameters checked and compiled for one bot: values in the order of the strategy's params[]
 * (defaults filled in), plus what a strategy compiles from them (CUSTOM's rule set). Owned by
 * the caller; release with q_strategy_config_release().
 */
struct q_strategy_config {
	const struct q_strategy *s;
	double v[Q_STRATEGY_MAX_PARAMS];
	void *compiled; /* strategy-private (CUSTOM's rules), NULL for the others */
};

struct q_strategy {
	const char *id;   /* "EMA", "BREAKOUT_V1", "TS_MOMENTUM_V1", "ADAPTIVE_PRO",
	                   * "RSI_REVERSION_V1", "CUSTOM" */
	const char *name; /* for people */
	int advanced;     /* 0 only for EMA */
	const struct q_strategy_param *params; /* terminated by name NULL; CUSTOM has none */
	/*
	 * Extra checks and compilation beyond the schema (CUSTOM parses its rule set from the
	 * params JSON here). May be NULL.
	 */
	int (*compile)(struct q_strategy_config *cfg, const json_t *params, struct q_err *err);
	void (*release)(struct q_strategy_config *cfg);
	/* Closed candles a step needs to say anything but "flat" (its warm-up). */
	size_t (*warmup)(const struct q_strategy_config *cfg);
	/*
	 * Decide on the newest closed candle bars[n - 1] (bars oldest first, n >= 1, consecutive).
	 * state is the JSON object the previous step returned (an empty object at the first step);
	 * the step updates it in place. *target gets the position wanted, in [0, 1]. Pure: the same
	 * inputs always give the same outputs. -1 with err only on a broken state (Q_E_BAD_REQUEST).
	 */
	int (*step)(const struct q_strategy_config *cfg, const struct q_bar *bars, size_t n,
	            json_t *state, double *target, struct q_err *err);
	/*
	 * Additions to the first contract. rule_set: params is a rule set that compile() checks
	 * whole (CUSTOM), not values against params[]. grammar (may be NULL): a new JSON object
	 * describing that rule language, shown by q_strategy_json() as "rules".
	 */
	int rule_set;
	json_t *(*grammar)(void);
};

/*
 * What every step of the six does besides its rule (lib/strategy/kit.h), spelt out for callers:
 *   - state {"last_ms","seen","pos","target",<indicator values>...} continues from bars[n - 2]:
 *     only bars[n - 1] is folded in. Otherwise (an empty state, a gap, a restart) the step
 *     starts afresh from bars[0] and folds every candle given, so one step over a series gives
 *     exactly the state and target of stepping it candle by candle.
 *   - a state that already holds bars[n - 1] gives its stored target back, unchanged.
 *   - -1 with Q_E_BAD_REQUEST also for n == 0 and for candles a strategy cannot use: a price
 *     that is not a positive finite number, a negative volume, open times not increasing.
 *   - the target is flat (0) until warmup() candles were both folded and given.
 */

/* The six, for tests and tools that want one directly; the registry below is the way in. */
extern const struct q_strategy q_strategy_ema;
extern const struct q_strategy q_strategy_breakout;
extern const struct q_strategy q_strategy_ts_momentum;
extern const struct q_strategy q_strategy_adaptive_pro;
extern const struct q_strategy q_strategy_rsi_reversion;
extern const struct q_strategy q_strategy_custom;

/* The strategies, by id (NULL for an unknown one), and in catalog order (NULL past the end). */
const struct q_strategy *q_strategy_lookup(const char *id);
const struct q_strategy *q_strategy_at(size_t i);

/*
 * Check params (a JSON object, or NULL for all defaults) against s's schema and compile them
 * into cfg: unknown parameters, wrong types, values out of bounds and a broken CUSTOM rule set
 * are -1 with Q_E_BAD_REQUEST and err->field "params.<name>" naming the parameter. On success
 * *normalized (when not NULL) gets a new JSON object with every parameter, defaults filled in:
 * what the bots table stores.
 */
int q_strategy_config_init(struct q_strategy_config *cfg, const struct q_strategy *s,
                           const json_t *params, json_t **normalized, struct q_err *err);
void q_strategy_config_release(struct q_strategy_config *cfg);

/*
 * {"id","name","advanced","params":[{"name","type","min","max","default","help"}]}: new ref.
 * type is "integer" or "number" (min, max and default are JSON integers for "integer"); a
 * rule-set strategy (CUSTOM) adds "rules": its grammar (operators, prices, indicators, limits).
 */
json_t *q_strategy_json(const struct q_strategy *s);

#endif
