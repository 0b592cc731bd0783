/*
 * kit: what the strategy modules (lib/strategy/<name>.c) share: the saved-state protocol and
 * the candle checks. Not an interface for other callers: they use q_strategy.h.
 *
 * A strategy is written as one function, advance(), that folds the newest candle into a few
 * numbers and says the target. q_kit_step() runs it the way the contract wants:
 *   - the state continues from bars[n - 2] (its last_ms is that candle's open time): only the
 *     newest candle is folded in, O(1) for the folded indicators;
 *   - the state already holds bars[n - 1] (the same candle stepped again): its target, unchanged;
 *   - anything else (an empty state, a gap, a restart, another series): the numbers start from
 *     zero and every candle given is folded in, oldest first, through the same advance().
 * Because the replay and the incremental path run the very same arithmetic, stepping candle by
 * candle gives bit-identical state and target to one step over the whole series.
 *
 * The state object: {"last_ms":open_ms, "seen":candles folded, "pos":0..1, "target":0..1,
 * <var>:number...}, with the strategy's variables under their own names.
 */
#ifndef Q_KIT_H
#define Q_KIT_H

#include <jansson.h>
#include <stddef.h>

#include "q_err.h"
#include "q_strategy.h"

/* Variables one strategy keeps (CUSTOM: up to 2 per indicator of a 2 x 64-node rule set). */
#define Q_KIT_MAX_VARS 256

struct q_kit_vars {
	size_t seen; /* candles folded in since the numbers started, bars[n - 1] included */
	double pos;  /* the position the strategy holds, in [0, 1]: rules with memory read it */
	double x[Q_KIT_MAX_VARS];
};

/*
 * Fold bars[n - 1] into v (v->seen already counts it; bars[0 .. n - 2] are folded) and return
 * the target in [0, 1].
 */
typedef double (*q_kit_advance_fn)(const struct q_strategy_config *cfg, const struct q_bar *bars,
                                   size_t n, struct q_kit_vars *v);

/*
 * The step of a strategy whose variables are named names[0 .. nvars - 1] (nvars <=
 * Q_KIT_MAX_VARS). Returns 0 with *target set and state updated, or -1 with Q_E_BAD_REQUEST for
 * a broken state (not an object, a continuing state with a variable missing or not a number),
 * for n == 0, and for candles the strategy cannot use (a price that is not a positive finite
 * number, open times not increasing) or that drive an indicator out of the finite doubles.
 * State and target are untouched on error.
 */
int q_kit_step(const struct q_strategy_config *cfg, const char *const *names, size_t nvars,
               q_kit_advance_fn advance, const struct q_bar *bars, size_t n, json_t *state,
               double *target, struct q_err *err);

/* Whether an indicator that needs `need` candles can be read: folded enough and given enough. */
static inline int
q_kit_ready(const struct q_kit_vars *v, size_t n, size_t need)
{
	return v->seen >= need && n >= need;
}

/* Hysteresis: enter when flat and `in` holds, leave when holding and `out` holds. */
static inline double
q_kit_hold(double pos, int in, int out)
{
	if (pos == 0 && in)
		return 1;
	if (pos != 0 && out)
		return 0;
	return pos;
}

/* The six strategies' shared schema check: lo must be strictly below hi, naming lo's field. */
int q_kit_below(const struct q_strategy_config *cfg, size_t lo, size_t hi, struct q_err *err);

#endif
