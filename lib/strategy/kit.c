#include "strategy/kit.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "q_mem.h"

static int
positive(double x)
{
	return isfinite(x) && x > 0;
}

/* bars[from .. n - 1]: usable prices, open times strictly increasing (also across from - 1). */
static int
check_bars(const struct q_bar *bars, size_t from, size_t n, struct q_err *err)
{
	for (size_t i = from; i < n; i++) {
		const struct q_bar *b = &bars[i];

		if (!positive(b->open) || !positive(b->high) || !positive(b->low) ||
		    !positive(b->close) || !isfinite(b->volume) || b->volume < 0)
			return q_err_set(
			        err, Q_E_BAD_REQUEST,
			        "candle %lld: a price is not a positive finite number, or the "
			        "volume is negative",
			        b->open_ms);
		if (i > 0 && b->open_ms <= bars[i - 1].open_ms)
			return q_err_set(err, Q_E_BAD_REQUEST,
			                 "candle %lld: open times are not increasing", b->open_ms);
	}
	return 0;
}

static int
get_num(const json_t *state, const char *key, double lo, double hi, double *out, struct q_err *err)
{
	const json_t *j = json_object_get(state, key);

	if (!json_is_number(j))
		return q_err_set(err, Q_E_BAD_REQUEST, "strategy state: %s missing or not a number",
		                 key);
	*out = json_number_value(j);
	if (!(*out >= lo && *out <= hi))
		return q_err_set(err, Q_E_BAD_REQUEST, "strategy state: %s out of range", key);
	return 0;
}

static int
load(const json_t *state, const char *const *names, size_t nvars, struct q_kit_vars *v,
     struct q_err *err)
{
	const json_t *seen = json_object_get(state, "seen");

	if (!json_is_integer(seen) || json_integer_value(seen) < 1)
		return q_err_set(err, Q_E_BAD_REQUEST,
		                 "strategy state: seen missing or not a positive integer");
	v->seen = (size_t)json_integer_value(seen);
	if (get_num(state, "pos", 0, 1, &v->pos, err) < 0)
		return -1;
	for (size_t i = 0; i < nvars; i++)
		if (get_num(state, names[i], -HUGE_VAL, HUGE_VAL, &v->x[i], err) < 0)
			return -1;
	return 0;
}

/*
 * Store a number. A real the state alone holds is overwritten in place: a backtest steps
 * hundreds of thousands of times and a fresh json_t per value per step was a third of its time.
 * One held elsewhere too (a shallow json_copy of the state) is replaced, never changed under
 * its other holder.
 */
static void
put_real(json_t *state, const char *key, double x)
{
	json_t *j = json_object_get(state, key);

	if (json_is_real(j) && j->refcount == 1) {
		json_real_set(j, x);
		return;
	}
	if (json_object_set_new(state, key, json_real(x)) < 0)
		q_die("strategy state: cannot store %s", key);
}

static void
put_int(json_t *state, const char *key, json_int_t x)
{
	json_t *j = json_object_get(state, key);

	if (json_is_integer(j) && j->refcount == 1) {
		json_integer_set(j, x);
		return;
	}
	if (json_object_set_new(state, key, json_integer(x)) < 0)
		q_die("strategy state: cannot store %s", key);
}

int
q_kit_step(const struct q_strategy_config *cfg, const char *const *names, size_t nvars,
           q_kit_advance_fn advance, const struct q_bar *bars, size_t n, json_t *state,
           double *target, struct q_err *err)
{
	struct q_kit_vars v;
	const json_t *jl;
	double t = 0;
	int cont = 0;

	if (!json_is_object(state))
		return q_err_set(err, Q_E_BAD_REQUEST, "strategy state is not an object");
	if (n == 0 || bars == NULL)
		return q_err_set(err, Q_E_BAD_REQUEST, "no candles to decide on");
	if (nvars > Q_KIT_MAX_VARS)
		return q_err_set(err, Q_E_INTERNAL, "%zu strategy variables", nvars);
	jl = json_object_get(state, "last_ms");
	if (jl != NULL && !json_is_integer(jl))
		return q_err_set(err, Q_E_BAD_REQUEST, "strategy state: last_ms is not an integer");
	if (jl != NULL) {
		json_int_t last = json_integer_value(jl);

		if (last == bars[n - 1].open_ms) {
			if (get_num(state, "target", 0, 1, &t, err) < 0)
				return -1;
			*target = t;
			return 0;
		}
		cont = n >= 2 && last == bars[n - 2].open_ms;
	}

	/* Only the variables in use are cleared: the whole array is 2 KB, each step. */
	v.seen = 0;
	v.pos = 0;
	memset(v.x, 0, nvars * sizeof(v.x[0]));
	if (cont) {
		if (load(state, names, nvars, &v, err) < 0 || check_bars(bars, n - 1, n, err) < 0)
			return -1;
		v.seen++;
		t = advance(cfg, bars, n, &v);
	} else {
		if (check_bars(bars, 0, n, err) < 0)
			return -1;
		for (size_t i = 1; i <= n; i++) {
			v.seen = i;
			t = advance(cfg, bars, i, &v);
		}
	}
	if (!isfinite(t) || !isfinite(v.pos))
		return q_err_set(err, Q_E_BAD_REQUEST, "the candles drive the target out of range");
	for (size_t i = 0; i < nvars; i++)
		if (!isfinite(v.x[i]))
			return q_err_set(err, Q_E_BAD_REQUEST, "the candles drive %s out of range",
			                 names[i]);
	t = t < 0 ? 0 : t > 1 ? 1 : t;

	/* A recomputed state starts clean: it must equal what a fresh state would give. */
	if (!cont)
		json_object_clear(state);
	put_int(state, "last_ms", bars[n - 1].open_ms);
	put_int(state, "seen", (json_int_t)v.seen);
	put_real(state, "pos", v.pos);
	put_real(state, "target", t);
	for (size_t i = 0; i < nvars; i++)
		put_real(state, names[i], v.x[i]);
	*target = t;
	return 0;
}

int
q_kit_below(const struct q_strategy_config *cfg, size_t lo, size_t hi, struct q_err *err)
{
	const struct q_strategy_param *p = cfg->s->params;
	char field[64];

	if (cfg->v[lo] < cfg->v[hi])
		return 0;
	snprintf(field, sizeof(field), "params.%s", p[lo].name);
	return q_err_set_field(err, field, Q_E_BAD_REQUEST, "%s: %g must be below %s (%g)", field,
	                       cfg->v[lo], p[hi].name, cfg->v[hi]);
}
