/*
 * The strategies: the catalog, parameter checks, each rule on a series small enough to follow by
 * hand, Wilder's RSI against the classic example, CUSTOM rule sets (good and hostile), and the
 * determinism the trader relies on: stepping candle by candle, over a sliding window, after a
 * gap or twice on the same candle always gives what one step over the series gives.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "q_indicators.h"
#include "q_strategy.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */
#define MINUTE 60000LL

/* ---- helpers ---- */

static struct q_bar
bar(size_t i, double o, double h, double l, double c)
{
	struct q_bar b = {T0 + (long long)i * MINUTE, o, h, l, c, 1.0};

	return b;
}

/* Candles whose open, high, low and close are all `closes[i]`, one minute apart. */
static struct q_bar *
flat_bars(const double *closes, size_t n)
{
	struct q_bar *b = calloc(n, sizeof(*b));

	for (size_t i = 0; i < n; i++)
		b[i] = bar(i, closes[i], closes[i], closes[i], closes[i]);
	return b;
}

/* Candles from log returns: close[0] = 100, close[i] = close[i - 1] * exp(r[i - 1]). */
static struct q_bar *
log_bars(const double *r, size_t nr)
{
	double *c = calloc(nr + 1, sizeof(*c));
	struct q_bar *b;

	c[0] = 100;
	for (size_t i = 0; i < nr; i++)
		c[i + 1] = c[i] * exp(r[i]);
	b = flat_bars(c, nr + 1);
	free(c);
	return b;
}

/* A deterministic random walk with calm and wild stretches, so every strategy trades. */
static struct q_bar *
walk(size_t n)
{
	struct q_bar *b = calloc(n, sizeof(*b));
	unsigned long long x = 88172645463325252ULL;
	double c = 100;

	for (size_t i = 0; i < n; i++) {
		double u, sd = (i / 60) % 2 ? 0.006 : 0.0015, o = c, drift;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		u = (double)(x >> 11) / 9007199254740992.0 - 0.5;
		drift = sin((double)i / 25.0) * 0.002;
		c = o * exp(drift + u * sd * 3.46);
		b[i] = bar(i, o, fmax(o, c) * (1 + sd / 2), fmin(o, c) * (1 - sd / 2), c);
	}
	return b;
}

static void
init_cfg(struct q_strategy_config *cfg, const char *id, const char *params)
{
	json_error_t jerr;
	json_t *p = params ? json_loads(params, 0, &jerr) : NULL;
	struct q_err err = {0};

	cr_assert(params == NULL || p != NULL, "test JSON: %s", jerr.text);
	cr_assert_eq(q_strategy_config_init(cfg, q_strategy_lookup(id), p, NULL, &err), 0,
	             "%s %s refused: %s (%s)", id, params ? params : "{}", err.msg, err.field);
	json_decref(p);
}

/* params for id must be refused with BAD_REQUEST naming field. */
static void
refused(const char *id, const char *params, const char *field)
{
	struct q_strategy_config cfg;
	struct q_err err = {0};
	json_error_t jerr;
	json_t *p = json_loads(params, JSON_DECODE_ANY, &jerr), *norm = (json_t *)1;

	cr_assert_not_null(p, "test JSON: %s", jerr.text);
	cr_assert_eq(q_strategy_config_init(&cfg, q_strategy_lookup(id), p, &norm, &err), -1,
	             "%s accepted %s", id, params);
	cr_assert_eq(err.code, Q_E_BAD_REQUEST, "%s: %s", q_err_name(err.code), err.msg);
	cr_assert_str_eq(err.field, field, "%s %.60s: field %s (%s), expected %s", id, params,
	                 err.field, err.msg, field);
	cr_assert_null(norm);
	cr_assert_null(cfg.compiled);
	cr_assert(err.msg[0] != '\0');
	q_strategy_config_release(&cfg);
	json_decref(p);
}

static json_t *
normalized(const char *id, const char *params)
{
	struct q_strategy_config cfg;
	struct q_err err = {0};
	json_t *p = params ? json_loads(params, 0, NULL) : NULL, *norm = NULL;

	cr_assert_eq(q_strategy_config_init(&cfg, q_strategy_lookup(id), p, &norm, &err), 0, "%s",
	             err.msg);
	q_strategy_config_release(&cfg);
	json_decref(p);
	return norm;
}

static void
assert_json(json_t *got, const char *want)
{
	json_t *w = json_loads(want, 0, NULL);
	char *g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);

	cr_assert_not_null(w, "test JSON");
	cr_assert(json_equal(got, w), "got %s, expected %s", g, want);
	free(g);
	json_decref(w);
	json_decref(got);
}

/* Step candle by candle as the trader does: bars[0 .. i] on the i-th step, one state. */
static double *
step_all(const struct q_strategy_config *cfg, const struct q_bar *b, size_t n, json_t **state)
{
	double *t = calloc(n, sizeof(*t));
	json_t *st = json_object();

	for (size_t i = 0; i < n; i++) {
		struct q_err err = {0};

		cr_assert_eq(cfg->s->step(cfg, b, i + 1, st, &t[i], &err), 0, "%s step %zu: %s",
		             cfg->s->id, i, err.msg);
		cr_assert(t[i] >= 0 && t[i] <= 1);
	}
	if (state)
		*state = st;
	else
		json_decref(st);
	return t;
}

/* One step over bars[0 .. n - 1] from an empty state. */
static double
step_fresh(const struct q_strategy_config *cfg, const struct q_bar *b, size_t n, json_t **state)
{
	json_t *st = json_object();
	struct q_err err = {0};
	double t = -1;

	cr_assert_eq(cfg->s->step(cfg, b, n, st, &t, &err), 0, "%s: %s", cfg->s->id, err.msg);
	if (state)
		*state = st;
	else
		json_decref(st);
	return t;
}

static void
assert_targets(const double *got, const double *want, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++)
		cr_assert_float_eq(got[i], want[i], 1e-12,
		                   "%s: candle %zu: target %.17g, expected %g", what, i, got[i],
		                   want[i]);
}

static double
state_num(const json_t *st, const char *key)
{
	const json_t *j = json_object_get(st, key);

	cr_assert(json_is_number(j), "state has no %s", key);
	return json_number_value(j);
}

/* ---- the catalog ---- */

Test(strategy, six_in_catalog_order_and_only_ema_is_basic)
{
	static const char *const ids[] = {"EMA",          "BREAKOUT_V1",      "TS_MOMENTUM_V1",
	                                  "ADAPTIVE_PRO", "RSI_REVERSION_V1", "CUSTOM"};

	for (size_t i = 0; i < 6; i++) {
		const struct q_strategy *s = q_strategy_at(i);

		cr_assert_not_null(s);
		cr_assert_str_eq(s->id, ids[i]);
		cr_assert_eq(q_strategy_lookup(ids[i]), s);
		cr_assert_eq(s->advanced, i != 0, "%s advanced=%d", s->id, s->advanced);
		cr_assert_not_null(s->step);
		cr_assert_not_null(s->warmup);
	}
	cr_assert_null(q_strategy_at(6));
	cr_assert_null(q_strategy_lookup("ema"));
	cr_assert_null(q_strategy_lookup("MACD"));
	cr_assert_null(q_strategy_lookup(NULL));
}

Test(strategy, every_schema_is_sane)
{
	const struct q_strategy *s;

	for (size_t i = 0; (s = q_strategy_at(i)) != NULL; i++) {
		size_t n = 0;

		for (const struct q_strategy_param *p = s->params; p->name; p++, n++) {
			cr_assert(p->min <= p->def && p->def <= p->max, "%s.%s", s->id, p->name);
			cr_assert(p->help != NULL && p->help[0] != '\0');
			cr_assert(p->type == Q_PARAM_INT || p->type == Q_PARAM_NUMBER);
			for (const struct q_strategy_param *q = s->params; q != p; q++)
				cr_assert_str_neq(q->name, p->name);
		}
		cr_assert_leq(n, Q_STRATEGY_MAX_PARAMS);
		cr_assert_eq(n == 0, strcmp(s->id, "CUSTOM") == 0);
		/* The defaults are accepted and give a warm-up of at least one candle. */
		if (!s->rule_set) {
			struct q_strategy_config cfg;

			init_cfg(&cfg, s->id, NULL);
			cr_assert_geq(s->warmup(&cfg), 1);
			q_strategy_config_release(&cfg);
		}
	}
}

Test(strategy, catalog_json)
{
	json_t *c;

	assert_json(q_strategy_json(&q_strategy_ema),
	            "{\"id\":\"EMA\",\"name\":\"EMA crossover\",\"advanced\":false,\"params\":["
	            "{\"name\":\"fast\",\"type\":\"integer\",\"min\":1,\"max\":250,\"default\":12,"
	            "\"help\":\"candles in the fast EMA (below slow)\"},"
	            "{\"name\":\"slow\",\"type\":\"integer\",\"min\":2,\"max\":500,\"default\":26,"
	            "\"help\":\"candles in the slow EMA\"}]}");
	c = q_strategy_json(&q_strategy_ts_momentum);
	cr_assert(json_is_true(json_object_get(c, "advanced")));
	cr_assert_str_eq(json_string_value(json_object_get(
	                         json_array_get(json_object_get(c, "params"), 2), "type")),
	                 "number");
	cr_assert(json_is_real(
	        json_object_get(json_array_get(json_object_get(c, "params"), 2), "default")));
	json_decref(c);
	c = q_strategy_json(&q_strategy_custom);
	cr_assert_eq(json_array_size(json_object_get(c, "params")), 0);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(c, "rules"), "max_depth")),
	             8);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(c, "rules"), "max_nodes")),
	             64);
	cr_assert_eq(json_array_size(json_object_get(json_object_get(c, "rules"), "indicators")),
	             8);
	json_decref(c);
}

/* ---- parameters ---- */

Test(strategy, defaults_are_filled_in)
{
	assert_json(normalized("EMA", NULL), "{\"fast\":12,\"slow\":26}");
	assert_json(normalized("EMA", "{}"), "{\"fast\":12,\"slow\":26}");
	assert_json(normalized("EMA", "{\"fast\":5}"), "{\"fast\":5,\"slow\":26}");
	assert_json(normalized("BREAKOUT_V1", NULL), "{\"entry\":20,\"exit\":10}");
	assert_json(normalized("TS_MOMENTUM_V1", "{\"target_vol\":1}"),
	            "{\"lookback\":24,\"vol_window\":24,\"target_vol\":1.0}");
	assert_json(normalized("RSI_REVERSION_V1", "{\"oversold\":25}"),
	            "{\"period\":14,\"oversold\":25.0,\"exit_level\":50.0}");
	assert_json(normalized("ADAPTIVE_PRO", NULL),
	            "{\"fast\":12,\"slow\":26,\"rsi_period\":14,\"oversold\":30.0,"
	            "\"exit_level\":50.0,\"vol_window\":24,\"vol_threshold\":0.6}");
}

Test(strategy, bounds_are_inclusive)
{
	struct q_strategy_config cfg;

	init_cfg(&cfg, "EMA", "{\"fast\":1,\"slow\":500}");
	cr_assert_eq(cfg.v[0], 1);
	cr_assert_eq(cfg.v[1], 500);
	init_cfg(&cfg, "TS_MOMENTUM_V1", "{\"target_vol\":0.01}");
	init_cfg(&cfg, "TS_MOMENTUM_V1", "{\"target_vol\":10}");
	cr_assert_eq(cfg.v[2], 10.0);
}

Test(strategy, unknown_parameters_are_refused)
{
	refused("EMA", "{\"fats\":5}", "params.fats");
	refused("BREAKOUT_V1", "{\"entry\":20,\"exit\":10,\"stop\":5}", "params.stop");
	refused("RSI_REVERSION_V1", "{\"Period\":14}", "params.Period");
}

Test(strategy, wrong_types_are_refused)
{
	refused("EMA", "{\"fast\":\"5\"}", "params.fast");
	refused("EMA", "{\"fast\":5.0}", "params.fast"); /* integers must be integers */
	refused("EMA", "{\"fast\":5.5}", "params.fast");
	refused("EMA", "{\"slow\":true}", "params.slow");
	refused("EMA", "{\"slow\":null}", "params.slow");
	refused("EMA", "{\"slow\":[26]}", "params.slow");
	refused("TS_MOMENTUM_V1", "{\"target_vol\":\"0.5\"}", "params.target_vol");
	refused("EMA", "[12,26]", "params");
	refused("EMA", "\"fast=12\"", "params");
}

Test(strategy, out_of_bounds_is_refused)
{
	refused("EMA", "{\"fast\":0}", "params.fast");
	refused("EMA", "{\"fast\":-5}", "params.fast");
	refused("EMA", "{\"slow\":501}", "params.slow");
	refused("EMA", "{\"slow\":9223372036854775807}", "params.slow");
	refused("BREAKOUT_V1", "{\"entry\":1}", "params.entry");
	refused("TS_MOMENTUM_V1", "{\"target_vol\":0.009}", "params.target_vol");
	refused("TS_MOMENTUM_V1", "{\"target_vol\":10.01}", "params.target_vol");
	refused("TS_MOMENTUM_V1", "{\"vol_window\":1}", "params.vol_window");
	refused("RSI_REVERSION_V1", "{\"oversold\":0.5}", "params.oversold");
	refused("ADAPTIVE_PRO", "{\"vol_threshold\":0}", "params.vol_threshold");
}

Test(strategy, orderings_between_parameters)
{
	refused("EMA", "{\"fast\":26,\"slow\":26}", "params.fast");
	refused("EMA", "{\"fast\":30}", "params.fast");
	refused("ADAPTIVE_PRO", "{\"fast\":40,\"slow\":20}", "params.fast");
	refused("RSI_REVERSION_V1", "{\"oversold\":50,\"exit_level\":50}", "params.oversold");
	refused("ADAPTIVE_PRO", "{\"oversold\":45,\"exit_level\":40}", "params.oversold");
}

Test(strategy, unknown_strategy_is_a_bad_request)
{
	struct q_strategy_config cfg;
	struct q_err err = {0};

	cr_assert_eq(q_strategy_config_init(&cfg, q_strategy_lookup("NOPE"), NULL, NULL, &err), -1);
	cr_assert_eq(err.code, Q_E_BAD_REQUEST);
	cr_assert_str_eq(err.field, "strategy");
}

/* ---- EMA ---- */

/*
 * EMA(2) and EMA(3) over 10 11 12 11 9 8 10 13, each seeded with its SMA:
 *   alpha(2) = 2/3: 10.5 (seed, candle 1), 11.5, 11.1667, 9.7222, 8.5741, 9.5247, 11.8416
 *   alpha(3) = 1/2: 11 (seed, candle 2), 11, 10, 9, 9.5, 11.25
 * so fast > slow at candles 2, 3 (11.5 > 11, 11.17 > 11), 6 (9.5247 > 9.5) and 7 (11.84 > 11.25),
 * and nothing is said before the slow EMA exists (candles 0 and 1).
 */
Test(strategy, ema_crossover_by_hand)
{
	static const double c[] = {10, 11, 12, 11, 9, 8, 10, 13};
	static const double want[] = {0, 0, 1, 1, 0, 0, 1, 1};
	struct q_strategy_config cfg;
	struct q_bar *b = flat_bars(c, 8);
	json_t *st;
	double *t;

	init_cfg(&cfg, "EMA", "{\"fast\":2,\"slow\":3}");
	cr_assert_eq(cfg.s->warmup(&cfg), 3);
	t = step_all(&cfg, b, 8, &st);
	assert_targets(t, want, 8, "EMA(2,3)");
	cr_assert_float_eq(state_num(st, "ema_fast"), 11.841563786008230, 1e-12);
	cr_assert_float_eq(state_num(st, "ema_slow"), 11.25, 1e-12);
	cr_assert_eq(json_integer_value(json_object_get(st, "last_ms")), T0 + 7 * MINUTE);
	json_decref(st);
	free(t);
	free(b);
}

Test(strategy, nothing_but_flat_before_warmup)
{
	double c[40];
	struct q_strategy_config cfg;
	struct q_bar *b;
	double *t;

	for (size_t i = 0; i < 40; i++)
		c[i] = 100 + (double)i;
	b = flat_bars(c, 40);
	init_cfg(&cfg, "EMA", "{\"fast\":5,\"slow\":20}");
	t = step_all(&cfg, b, 40, NULL);
	for (size_t i = 0; i < 19; i++)
		cr_assert_eq(t[i], 0, "candle %zu", i);
	cr_assert_eq(t[19], 1); /* the 20th candle: both EMAs exist, the rising fast one is above */
	free(t);
	free(b);
}

/* ---- BREAKOUT_V1 ---- */

/*
 * entry 3, exit 2 (warm-up 4 candles). The channel is over the candles before the newest:
 *   3: close 11.5 > max high of 0..2 (11)        -> in
 *   4: 11 vs min low of 2..3 (9); 5: 10 vs min low of 3..4 (10): not below -> hold
 *   6: 9.8 vs 9.5 -> hold;  7: 8.4 < min low of 5..6 (8.5) -> out
 *   8: 8.9 vs max high of 5..7 (11) -> flat;  9: 11.2 > max high of 6..8 (10) -> in
 */
Test(strategy, breakout_on_a_constructed_channel)
{
	struct q_bar b[] = {
	        bar(0, 9, 10, 8, 9),          bar(1, 9, 11, 9, 10),      bar(2, 10, 10.5, 9, 10),
	        bar(3, 10, 12, 10, 11.5),     bar(4, 11, 12, 10.5, 11),  bar(5, 11, 11, 9.5, 10),
	        bar(6, 10, 10, 8.5, 9.8),     bar(7, 9.8, 10, 8.3, 8.4), bar(8, 8.4, 9, 8, 8.9),
	        bar(9, 8.9, 11.5, 8.9, 11.2),
	};
	static const double want[] = {0, 0, 0, 1, 1, 1, 1, 0, 0, 1};
	struct q_strategy_config cfg;
	double *t;

	init_cfg(&cfg, "BREAKOUT_V1", "{\"entry\":3,\"exit\":2}");
	cr_assert_eq(cfg.s->warmup(&cfg), 4);
	t = step_all(&cfg, b, 10, NULL);
	assert_targets(t, want, 10, "BREAKOUT(3,2)");
	free(t);

	/* A close equal to the channel's top is not a break. */
	b[3].close = 11;
	t = step_all(&cfg, b, 4, NULL);
	cr_assert_eq(t[3], 0);
	free(t);
}

/* ---- RSI ---- */

/* The classic 14-period example (Wilder; StockCharts' worked table), and its published RSI. */
static const double rsi_closes[] = {
        44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433,
        46.0826, 45.8931, 46.0328, 45.6140, 46.2820, 46.2820, 46.0028, 46.0328, 46.4116,
        46.2222, 45.6439, 46.2122, 46.2521, 45.7137, 46.4515, 45.7835, 45.3548, 44.0288,
        44.1783, 44.2181, 44.5672, 43.4205, 42.6628, 43.1314,
};
static const double rsi_published[] = {
        70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38,
        54.71, 50.42, 39.99, 41.46, 41.87, 45.46, 37.30, 33.08, 37.77,
};

/* Wilder's definition written out plainly, as the reference: SMA seed, then smoothing. */
static double
rsi_reference(const double *c, size_t n, size_t p)
{
	double g = 0, l = 0;

	for (size_t i = 1; i <= p; i++) {
		g += fmax(c[i] - c[i - 1], 0);
		l += fmax(c[i - 1] - c[i], 0);
	}
	g /= (double)p;
	l /= (double)p;
	for (size_t i = p + 1; i < n; i++) {
		g = (g * (double)(p - 1) + fmax(c[i] - c[i - 1], 0)) / (double)p;
		l = (l * (double)(p - 1) + fmax(c[i - 1] - c[i], 0)) / (double)p;
	}
	return 100.0 - 100.0 / (1.0 + g / l);
}

Test(strategy, rsi_matches_wilder_and_the_published_table)
{
	double g = 0, l = 0;

	for (size_t i = 0; i < 33; i++) {
		q_indicators_rsi_fold(&g, &l, i + 1, 14, i ? rsi_closes[i - 1] : 0, rsi_closes[i]);
		if (i < 14)
			continue;
		cr_assert_float_eq(q_indicators_rsi_value(g, l), rsi_published[i - 14], 0.005,
		                   "candle %zu: %.4f, published %.2f", i,
		                   q_indicators_rsi_value(g, l), rsi_published[i - 14]);
		cr_assert_float_eq(q_indicators_rsi_value(g, l),
		                   rsi_reference(rsi_closes, i + 1, 14), 1e-9);
	}
	cr_assert_eq(q_indicators_rsi_need(14), 15);
	cr_assert_eq(q_indicators_rsi_value(0, 0), 50); /* no move at all: neutral */
	cr_assert_eq(q_indicators_rsi_value(1, 0), 100);
}

/*
 * RSI(14), enter under 40, leave over 41, on the same closes: RSI is 39.99 at candle 26 (in),
 * 41.46 at 27 (out), 41.87 and 45.46 (flat: not under 40), 37.30 at 30 (in), 33.08, 37.77 (hold).
 */
Test(strategy, rsi_reversion_enters_and_exits_on_the_reference_rsi)
{
	struct q_strategy_config cfg;
	struct q_bar *b = flat_bars(rsi_closes, 33);
	double want[33] = {0}, *t;

	want[26] = want[30] = want[31] = want[32] = 1;
	init_cfg(&cfg, "RSI_REVERSION_V1", "{\"period\":14,\"oversold\":40,\"exit_level\":41}");
	cr_assert_eq(cfg.s->warmup(&cfg), 15);
	t = step_all(&cfg, b, 33, NULL);
	assert_targets(t, want, 33, "RSI_REVERSION(14,40,41)");
	free(t);
	free(b);
}

/* ---- TS_MOMENTUM_V1 ---- */

/*
 * lookback 4, vol_window 4 on one-minute candles. Log returns +0.03, +0.01 alternating for ten
 * candles, then -0.02, -0.04. The 4-candle return is exp(sum of its 4 log returns) - 1: in while
 * that sum is positive. The last 4 log returns of the rise are {0.03, 0.01, 0.03, 0.01}: mean
 * 0.02, sample variance 4 * 0.01^2 / 3, so the annualised volatility is
 * 0.01 * sqrt(4/3) * sqrt(525600) = 8.3714..., and target_vol 2 gives 2 / 8.3714 = 0.23891.
 */
Test(strategy, momentum_sign_flips_and_vol_scaling)
{
	double r[20], want[21] = {0};
	struct q_strategy_config cfg, capped;
	struct q_bar *b;
	double *t, *tc, vol = 0.01 * sqrt(4.0 / 3.0) * sqrt(525600.0);

	for (size_t i = 0; i < 20; i++)
		r[i] = i < 10 ? (i % 2 ? 0.01 : 0.03) : (i % 2 ? -0.04 : -0.02);
	b = log_bars(r, 20);
	init_cfg(&cfg, "TS_MOMENTUM_V1", "{\"lookback\":4,\"vol_window\":4,\"target_vol\":2}");
	init_cfg(&capped, "TS_MOMENTUM_V1", "{\"lookback\":4,\"vol_window\":4,\"target_vol\":10}");
	cr_assert_eq(cfg.s->warmup(&cfg), 5);
	t = step_all(&cfg, b, 21, NULL);
	tc = step_all(&capped, b, 21, NULL);
	for (size_t i = 4; i <= 20; i++) {
		double sum = r[i - 4] + r[i - 3] + r[i - 2] + r[i - 1];

		want[i] = sum > 0;
		if (sum > 0)
			cr_assert_gt(t[i], 0, "candle %zu", i);
		else
			cr_assert_eq(t[i], 0, "candle %zu", i);
		if (i <= 10 || sum <= 0) /* 10 / 8.37 > 1 on the steady rise: fully in */
			cr_assert_eq(tc[i], want[i], "candle %zu: %g", i, tc[i]);
	}
	cr_assert_float_eq(t[10], 2.0 / vol, 1e-9, "%.10f vs %.10f", t[10], 2.0 / vol);
	cr_assert_float_eq(2.0 / vol, 0.23891, 1e-5);
	cr_assert_gt(t[11], 0); /* {0.01,0.03,0.01,-0.02}: still up */
	cr_assert_eq(t[12], 0); /* {0.03,0.01,-0.02,-0.04}: the sign flips */
	cr_assert_eq(t[20], 0);
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(t[i], 0);
	free(t);
	free(tc);
	free(b);
}

/* ---- ADAPTIVE_PRO ---- */

/*
 * fast 2, slow 3, RSI(2) 30/70, vol_window 3, threshold 1.0 (annualised). Four stretches of ten
 * candles, each checked on its last candle, where the two modes disagree:
 *   calm fall (log returns -0.001: volatility 0)  mean reversion: RSI 0 < 30 -> in (trend: out)
 *   wild fall (-0.05, -0.01: volatility ~17)      trend: fast EMA below slow -> out (MR: hold)
 *   wild rise (+0.05, +0.01)                      trend: fast above slow -> in
 *   calm rise (+0.001)                            mean reversion: RSI 100 > 70 -> out (trend: in)
 */
Test(strategy, adaptive_switches_between_trend_and_reversion)
{
	double r[40];
	struct q_strategy_config cfg;
	struct q_bar *b;
	json_t *st;
	double *t;

	for (size_t i = 0; i < 40; i++) {
		size_t k = i / 10;

		r[i] = k == 0   ? -0.001
		       : k == 1 ? (i % 2 ? -0.01 : -0.05)
		       : k == 2 ? (i % 2 ? 0.01 : 0.05)
		                : 0.001;
	}
	b = log_bars(r, 40);
	init_cfg(&cfg, "ADAPTIVE_PRO",
	         "{\"fast\":2,\"slow\":3,\"rsi_period\":2,\"oversold\":30,\"exit_level\":70,"
	         "\"vol_window\":3,\"vol_threshold\":1.0}");
	cr_assert_eq(cfg.s->warmup(&cfg), 4);
	t = step_all(&cfg, b, 41, NULL);
	cr_assert_eq(t[2], 0); /* warming up */
	cr_assert_eq(t[10], 1, "calm fall: mean reversion buys the dip");
	cr_assert_eq(t[20], 0, "wild fall: the trend says out");
	cr_assert_eq(t[30], 1, "wild rise: the trend says in");
	cr_assert_eq(t[40], 0, "calm rise: mean reversion takes the profit");
	free(t);

	/* The mode is in the state, for people reading it. */
	step_fresh(&cfg, b, 11, &st);
	cr_assert_eq(state_num(st, "trend"), 0);
	json_decref(st);
	step_fresh(&cfg, b, 21, &st);
	cr_assert_eq(state_num(st, "trend"), 1);
	json_decref(st);
	free(b);
}

/* ---- determinism ---- */

#define WALK 400

static const struct {
	const char *id, *params;
} cases[] = {
        {"EMA", "{\"fast\":5,\"slow\":20}"},
        {"BREAKOUT_V1", "{\"entry\":20,\"exit\":10}"},
        {"TS_MOMENTUM_V1", "{\"lookback\":10,\"vol_window\":20,\"target_vol\":0.8}"},
        {"ADAPTIVE_PRO", "{\"fast\":5,\"slow\":20,\"rsi_period\":14,\"oversold\":35,"
                         "\"exit_level\":55,\"vol_window\":20,\"vol_threshold\":1.6}"},
        {"RSI_REVERSION_V1", "{\"period\":14,\"oversold\":35,\"exit_level\":55}"},
        {"CUSTOM",
         "{\"entry\":{\"and\":[{\"gt\":[{\"price\":\"close\"},{\"ind\":\"ema\",\"period\":10}]},"
         "{\"lt\":[{\"ind\":\"rsi\",\"period\":14},70]},"
         "{\"gt\":[{\"ind\":\"atr\",\"period\":14},0]}]},"
         "\"exit\":{\"or\":[{\"lt\":[{\"price\":\"low\"},{\"ind\":\"donchian_low\",\"period\":10}]},"
         "{\"gt\":[{\"ind\":\"volatility\",\"period\":20},3]},"
         "{\"lt\":[{\"ind\":\"return\",\"period\":5},-0.01]},"
         "{\"lt\":[{\"price\":\"close\"},{\"ind\":\"sma\",\"period\":20}]}]}}"},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

Test(strategy, every_strategy_trades_on_the_test_walk)
{
	struct q_bar *b = walk(WALK);

	for (size_t k = 0; k < NCASES; k++) {
		struct q_strategy_config cfg;
		size_t in = 0, changes = 0;
		double *t;

		init_cfg(&cfg, cases[k].id, cases[k].params);
		t = step_all(&cfg, b, WALK, NULL);
		for (size_t i = 0; i < WALK; i++) {
			in += t[i] > 0;
			changes += i > 0 && t[i] != t[i - 1];
		}
		cr_assert_geq(changes, 4, "%s: %zu changes", cases[k].id, changes);
		cr_assert(in > 20 && in < WALK - 20, "%s: in %zu of %d", cases[k].id, in, WALK);
		q_strategy_config_release(&cfg);
		free(t);
	}
	free(b);
}

Test(strategy, same_inputs_same_targets)
{
	struct q_bar *b = walk(WALK);

	for (size_t k = 0; k < NCASES; k++) {
		struct q_strategy_config c1, c2;
		double *t1, *t2;
		json_t *s1, *s2;

		init_cfg(&c1, cases[k].id, cases[k].params);
		init_cfg(&c2, cases[k].id, cases[k].params);
		t1 = step_all(&c1, b, WALK, &s1);
		t2 = step_all(&c2, b, WALK, &s2);
		cr_assert_eq(memcmp(t1, t2, WALK * sizeof(double)), 0, "%s", cases[k].id);
		cr_assert(json_equal(s1, s2), "%s", cases[k].id);
		q_strategy_config_release(&c1);
		q_strategy_config_release(&c2);
		json_decref(s1);
		json_decref(s2);
		free(t1);
		free(t2);
	}
	free(b);
}

/* Every incremental step equals a recomputation from scratch: target and state, bit for bit. */
Test(strategy, incremental_steps_equal_recomputation)
{
	struct q_bar *b = walk(WALK);

	for (size_t k = 0; k < NCASES; k++) {
		struct q_strategy_config cfg;
		json_t *inc = json_object();

		init_cfg(&cfg, cases[k].id, cases[k].params);
		for (size_t i = 0; i < WALK; i++) {
			struct q_err err = {0};
			json_t *fresh;
			double t, tf;

			cr_assert_eq(cfg.s->step(&cfg, b, i + 1, inc, &t, &err), 0, "%s", err.msg);
			tf = step_fresh(&cfg, b, i + 1, &fresh);
			cr_assert_eq(t, tf, "%s candle %zu: %g incremental, %g recomputed",
			             cases[k].id, i, t, tf);
			cr_assert(json_equal(inc, fresh), "%s candle %zu: states differ",
			          cases[k].id, i);
			json_decref(fresh);
		}
		json_decref(inc);
		q_strategy_config_release(&cfg);
	}
	free(b);
}

/* The trader passes the last W candles, not the whole history: the same targets. */
Test(strategy, a_sliding_window_gives_the_same_targets)
{
	struct q_bar *b = walk(WALK);
	const size_t w = 60;

	for (size_t k = 0; k < NCASES; k++) {
		struct q_strategy_config cfg;
		json_t *st = json_object();
		double *full;

		init_cfg(&cfg, cases[k].id, cases[k].params);
		cr_assert_leq(cfg.s->warmup(&cfg), w);
		full = step_all(&cfg, b, WALK, NULL);
		for (size_t i = 0; i < WALK; i++) {
			size_t from = i + 1 > w ? i + 1 - w : 0;
			struct q_err err = {0};
			double t;

			cr_assert_eq(cfg.s->step(&cfg, b + from, i + 1 - from, st, &t, &err), 0,
			             "%s", err.msg);
			cr_assert_eq(t, full[i], "%s candle %zu", cases[k].id, i);
		}
		json_decref(st);
		free(full);
		q_strategy_config_release(&cfg);
	}
	free(b);
}

Test(strategy, a_gap_or_a_restart_recomputes_and_a_repeat_changes_nothing)
{
	struct q_bar *b = walk(WALK);

	for (size_t k = 0; k < NCASES; k++) {
		struct q_strategy_config cfg;
		struct q_err err = {0};
		json_t *st, *fresh, *copy;
		double *t, t2, tf;

		init_cfg(&cfg, cases[k].id, cases[k].params);
		t = step_all(&cfg, b, 200, &st);

		/* The same candle again: the same target, the state untouched. */
		copy = json_deep_copy(st);
		cr_assert_eq(cfg.s->step(&cfg, b, 200, st, &t2, &err), 0, "%s", err.msg);
		cr_assert_eq(t2, t[199]);
		cr_assert(json_equal(st, copy));

		/* Fifty candles missed: the state does not continue, the step starts afresh. */
		cr_assert_eq(cfg.s->step(&cfg, b, 250, st, &t2, &err), 0, "%s", err.msg);
		tf = step_fresh(&cfg, b, 250, &fresh);
		cr_assert_eq(t2, tf, "%s", cases[k].id);
		cr_assert(json_equal(st, fresh), "%s", cases[k].id);

		/* A restart on another window of candles: afresh too. */
		json_decref(fresh);
		cr_assert_eq(cfg.s->step(&cfg, b + 120, 100, copy, &t2, &err), 0, "%s", err.msg);
		tf = step_fresh(&cfg, b + 120, 100, &fresh);
		cr_assert_eq(t2, tf);
		cr_assert(json_equal(copy, fresh));

		json_decref(fresh);
		json_decref(copy);
		json_decref(st);
		free(t);
		q_strategy_config_release(&cfg);
	}
	free(b);
}

/* A state that claims to continue but cannot is refused, and left as it was. */
Test(strategy, a_broken_state_is_refused)
{
	static const char *const breaks[] = {
	        "{\"ema_fast\":\"12.5\"}", "{\"ema_slow\":null}", "{\"seen\":-1}",
	        "{\"seen\":1.5}",          "{\"pos\":2}",         "{\"pos\":\"1\"}",
	};
	struct q_bar *b = walk(60);
	struct q_strategy_config cfg;
	struct q_err err = {0};
	json_t *st, *arr = json_array();
	double t = 42;

	init_cfg(&cfg, "EMA", "{\"fast\":5,\"slow\":20}");
	for (size_t i = 0; i < sizeof(breaks) / sizeof(breaks[0]); i++) {
		json_t *patch = json_loads(breaks[i], 0, NULL), *before;

		free(step_all(&cfg, b, 50, &st));
		json_object_update(st, patch);
		before = json_deep_copy(st);
		q_err_clear(&err);
		cr_assert_eq(cfg.s->step(&cfg, b, 51, st, &t, &err), -1, "%s", breaks[i]);
		cr_assert_eq(err.code, Q_E_BAD_REQUEST);
		cr_assert(json_equal(st, before));
		cr_assert_eq(t, 42);
		json_decref(before);
		json_decref(patch);
		json_decref(st);
	}
	q_err_clear(&err);
	cr_assert_eq(cfg.s->step(&cfg, b, 51, arr, &t, &err), -1);
	cr_assert_eq(err.code, Q_E_BAD_REQUEST);
	st = json_pack("{s:s}", "last_ms", "yesterday");
	q_err_clear(&err);
	cr_assert_eq(cfg.s->step(&cfg, b, 51, st, &t, &err), -1);
	json_decref(st);
	json_decref(arr);
	free(b);
}

Test(strategy, unusable_candles_are_refused)
{
	struct q_bar *b = walk(60);
	const struct q_strategy *s;

	for (size_t k = 0; (s = q_strategy_at(k)) != NULL; k++) {
		struct q_strategy_config cfg;
		struct q_err err = {0};
		json_t *st;
		double keep, t;

		init_cfg(&cfg, cases[k].id, cases[k].params);
		st = json_object();
		cr_assert_eq(s->step(&cfg, b, 0, st, &t, &err), -1, "%s: no candles", s->id);
		cr_assert_eq(err.code, Q_E_BAD_REQUEST);
		json_decref(st);

		free(step_all(&cfg, b, 40, &st));
		keep = b[40].close;
		b[40].close = NAN;
		q_err_clear(&err);
		cr_assert_eq(s->step(&cfg, b, 41, st, &t, &err), -1, "%s: NaN close", s->id);
		cr_assert_eq(err.code, Q_E_BAD_REQUEST);
		b[40].close = 0;
		q_err_clear(&err);
		cr_assert_eq(s->step(&cfg, b, 41, st, &t, &err), -1, "%s: zero close", s->id);
		b[40].close = keep;
		b[40].open_ms = b[39].open_ms - 1;
		q_err_clear(&err);
		cr_assert_eq(s->step(&cfg, b, 41, st, &t, &err), -1, "%s: time order", s->id);
		b[40].open_ms = b[39].open_ms + MINUTE;
		b[20].open_ms = b[19].open_ms; /* a duplicate inside a recomputation */
		json_object_clear(st);
		q_err_clear(&err);
		cr_assert_eq(s->step(&cfg, b, 41, st, &t, &err), -1, "%s: duplicate", s->id);
		b[20].open_ms = b[19].open_ms + MINUTE;
		b[10].high = INFINITY; /* in the middle of a fresh recomputation */
		json_object_clear(st);
		q_err_clear(&err);
		cr_assert_eq(s->step(&cfg, b, 41, st, &t, &err), -1, "%s: infinite high", s->id);
		b[10].high = b[10].open * 1.01;
		json_decref(st);
		q_strategy_config_release(&cfg);
	}
	free(b);
}

/* ---- CUSTOM ---- */

static double *
custom_targets(const char *rules, const struct q_bar *b, size_t n)
{
	struct q_strategy_config cfg;
	double *t;

	init_cfg(&cfg, "CUSTOM", rules);
	t = step_all(&cfg, b, n, NULL);
	q_strategy_config_release(&cfg);
	return t;
}

static double *
builtin_targets(const char *id, const char *params, const struct q_bar *b, size_t n)
{
	struct q_strategy_config cfg;
	double *t;

	init_cfg(&cfg, id, params);
	t = step_all(&cfg, b, n, NULL);
	q_strategy_config_release(&cfg);
	return t;
}

/* Three built-in strategies written as CUSTOM rules decide exactly as the built-ins. */
Test(custom, rules_reproduce_the_builtins)
{
	struct q_bar *b = walk(WALK);
	double *c, *r;

	c = custom_targets("{\"entry\":{\"gt\":[{\"ind\":\"ema\",\"period\":5},"
	                   "{\"ind\":\"ema\",\"period\":20}]},"
	                   "\"exit\":{\"not\":{\"gt\":[{\"ind\":\"ema\",\"period\":5},"
	                   "{\"ind\":\"ema\",\"period\":20}]}}}",
	                   b, WALK);
	r = builtin_targets("EMA", "{\"fast\":5,\"slow\":20}", b, WALK);
	assert_targets(c, r, WALK, "CUSTOM as EMA");
	free(c);
	free(r);

	c = custom_targets("{\"entry\":{\"gt\":[{\"price\":\"close\"},"
	                   "{\"ind\":\"donchian_high\",\"period\":20}]},"
	                   "\"exit\":{\"lt\":[{\"price\":\"close\"},"
	                   "{\"ind\":\"donchian_low\",\"period\":10}]}}",
	                   b, WALK);
	r = builtin_targets("BREAKOUT_V1", "{\"entry\":20,\"exit\":10}", b, WALK);
	assert_targets(c, r, WALK, "CUSTOM as BREAKOUT_V1");
	free(c);
	free(r);

	c = custom_targets("{\"entry\":{\"lt\":[{\"ind\":\"rsi\",\"period\":14},35]},"
	                   "\"exit\":{\"gt\":[{\"ind\":\"rsi\",\"period\":14},55]}}",
	                   b, WALK);
	r = builtin_targets("RSI_REVERSION_V1", "{\"period\":14,\"oversold\":35,\"exit_level\":55}",
	                    b, WALK);
	assert_targets(c, r, WALK, "CUSTOM as RSI_REVERSION_V1");
	free(c);
	free(r);
	free(b);
}

/*
 * entry: close >= 10 and not (close > 12); exit: close <= 9.5 or close >= 13, over
 *   9 10 11 13 12 9 11 12.5 -> 0 1 1 0 1 0 1 0 (13 leaves; 12 re-enters: not above 12).
 */
Test(custom, logic_by_hand)
{
	static const double c[] = {9, 10, 11, 13, 12, 9, 11, 12.5};
	static const double want[] = {0, 1, 1, 0, 1, 0, 1, 0};
	struct q_bar *b = flat_bars(c, 8);
	double *t;

	t = custom_targets("{\"entry\":{\"and\":[{\"gte\":[{\"price\":\"close\"},10]},"
	                   "{\"not\":{\"gt\":[{\"price\":\"close\"},12]}}]},"
	                   "\"exit\":{\"or\":[{\"lte\":[{\"price\":\"close\"},9.5]},"
	                   "{\"gte\":[{\"price\":\"close\"},12.5]}]}}",
	                   b, 8);
	assert_targets(t, want, 8, "CUSTOM logic");
	free(t);
	free(b);
}

Test(custom, warmup_is_the_slowest_indicator_and_normalized_is_the_rule_set)
{
	struct q_strategy_config cfg;
	const char *rules =
	        "{\"entry\":{\"gt\":[{\"ind\":\"ema\",\"period\":50},"
	        "{\"ind\":\"atr\",\"period\":60}]},"
	        "\"exit\":{\"lt\":[{\"price\":\"open\"},{\"ind\":\"rsi\",\"period\":14}]}}";

	init_cfg(&cfg, "CUSTOM", rules);
	cr_assert_eq(cfg.s->warmup(&cfg), 61);
	q_strategy_config_release(&cfg);
	cr_assert_null(cfg.compiled);
	init_cfg(&cfg, "CUSTOM", "{\"entry\":{\"gt\":[1,0]},\"exit\":{\"lt\":[1,0]}}");
	cr_assert_eq(cfg.s->warmup(&cfg), 1);
	q_strategy_config_release(&cfg);
	assert_json(normalized("CUSTOM", rules), rules);
}

static const char *
nest(const char *open, const char *leaf, const char *close, int depth)
{
	static char buf[8192];
	size_t n = 0;

	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{\"entry\":");
	for (int i = 0; i < depth; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", open);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", leaf);
	for (int i = 0; i < depth; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", close);
	snprintf(buf + n, sizeof(buf) - n, ",\"exit\":{\"lt\":[1,0]}}");
	return buf;
}

#define LEAF "{\"gt\":[{\"price\":\"close\"},1]}"

Test(custom, depth_is_limited_to_eight)
{
	struct q_strategy_config cfg;

	init_cfg(&cfg, "CUSTOM", nest("{\"not\":", LEAF, "}", 7)); /* 8 levels: fine */
	q_strategy_config_release(&cfg);
	init_cfg(&cfg, "CUSTOM", nest("{\"and\":[", LEAF, "]}", 7));
	q_strategy_config_release(&cfg);
	refused("CUSTOM", nest("{\"not\":", LEAF, "}", 8),
	        "params.entry.not.not.not.not.not.not.not.not");
	refused("CUSTOM", nest("{\"not\":", LEAF, "}", 50),
	        "params.entry.not.not.not.not.not.not.not.not");
	refused("CUSTOM", nest("{\"or\":[", LEAF, "]}", 50),
	        "params.entry.or[0].or[0].or[0].or[0].or[0].or[0].or[0].or[0]");
}

static char *
wide(const char *op, size_t n, const char *elem)
{
	size_t len = strlen(elem) + 1, cap = n * len + 128, at = 0;
	char *s = malloc(cap);

	at += (size_t)snprintf(s, cap, "{\"entry\":{\"%s\":[", op);
	for (size_t i = 0; i < n; i++)
		at += (size_t)snprintf(s + at, cap - at, "%s%s", i ? "," : "", elem);
	snprintf(s + at, cap - at, "]},\"exit\":{\"lt\":[1,0]}}");
	return s;
}

Test(custom, node_count_is_limited_to_64)
{
	struct q_strategy_config cfg;
	char *s;

	s = wide("and", 21, "{\"gt\":[1,0]}"); /* 1 + 21 x 3 = 64 nodes */
	init_cfg(&cfg, "CUSTOM", s);
	q_strategy_config_release(&cfg);
	free(s);
	s = wide("and", 22, "{\"gt\":[1,0]}");
	refused("CUSTOM", s, "params.entry.and[21].gt");
	free(s);
	s = wide("and", 10000, "{\"gt\":[1,0]}");
	refused("CUSTOM", s, "params.entry.and");
	free(s);
	s = wide("or", 10000, "1");
	refused("CUSTOM", s, "params.entry.or");
	free(s);
	s = wide("gt", 10000, "1");
	refused("CUSTOM", s, "params.entry.gt");
	free(s);
}

Test(custom, bad_indicators_are_refused)
{
	refused("CUSTOM",
	        "{\"entry\":{\"gt\":[{\"price\":\"close\"},{\"ind\":\"macd\",\"period\":12}]},"
	        "\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.gt[1].ind");
	refused("CUSTOM",
	        "{\"entry\":{\"gt\":[{\"price\":\"close\"},{\"ind\":\"ema\",\"period\":0}]},"
	        "\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.gt[1].period");
	refused("CUSTOM",
	        "{\"entry\":{\"gt\":[1,0]},\"exit\":{\"or\":[{\"lt\":[1,0]},"
	        "{\"gt\":[{\"ind\":\"sma\",\"period\":100000},1]}]}}",
	        "params.exit.or[1].gt[0].period");
	refused("CUSTOM",
	        "{\"entry\":{\"gt\":[{\"ind\":\"rsi\",\"period\":501},1]},\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.gt[0].period");
	refused("CUSTOM",
	        "{\"entry\":{\"gt\":[{\"ind\":\"rsi\",\"period\":\"14\"},1]},\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.gt[0].period");
	refused("CUSTOM",
	        "{\"entry\":{\"gt\":[{\"ind\":\"rsi\",\"period\":14.0},1]},\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.gt[0].period");
	refused("CUSTOM", "{\"entry\":{\"gt\":[{\"ind\":\"rsi\"},1]},\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.gt[0].period");
	refused("CUSTOM",
	        "{\"entry\":{\"gt\":[{\"ind\":14,\"period\":14},1]},\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.gt[0].ind");
	refused("CUSTOM",
	        "{\"entry\":{\"gt\":[{\"ind\":\"volatility\",\"period\":1},1]},"
	        "\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.gt[0].period");
	refused("CUSTOM",
	        "{\"entry\":{\"gt\":[{\"ind\":\"ema\",\"period\":5,\"source\":\"high\"},1]},"
	        "\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.gt[0].source");
	refused("CUSTOM", "{\"entry\":{\"gt\":[{\"price\":\"volume\"},1]},\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.gt[0].price");
	refused("CUSTOM",
	        "{\"entry\":{\"gt\":[{\"price\":\"close\",\"shift\":1},1]},\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.gt[0]");
}

Test(custom, bad_shapes_are_refused)
{
	refused("CUSTOM", "{\"entry\":{\"gt\":[1,0]}}", "params.exit");
	refused("CUSTOM", "{\"exit\":{\"gt\":[1,0]}}", "params.entry");
	refused("CUSTOM", "{}", "params.entry");
	refused("CUSTOM", "{\"entry\":{\"gt\":[1,0]},\"exit\":{\"lt\":[1,0]},\"stop\":1}",
	        "params.stop");
	refused("CUSTOM", "{\"entry\":\"close > ema(20)\",\"exit\":{\"lt\":[1,0]}}",
	        "params.entry");
	refused("CUSTOM", "{\"entry\":null,\"exit\":{\"lt\":[1,0]}}", "params.entry");
	refused("CUSTOM", "{\"entry\":1,\"exit\":{\"lt\":[1,0]}}", "params.entry");
	refused("CUSTOM", "{\"entry\":{\"xor\":[1,0]},\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.xor");
	refused("CUSTOM", "{\"entry\":{\"gt\":[1,0],\"lt\":[0,1]},\"exit\":{\"lt\":[1,0]}}",
	        "params.entry");
	refused("CUSTOM", "{\"entry\":{},\"exit\":{\"lt\":[1,0]}}", "params.entry");
	refused("CUSTOM", "{\"entry\":{\"gt\":[1,0,2]},\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.gt");
	refused("CUSTOM", "{\"entry\":{\"gt\":[1]},\"exit\":{\"lt\":[1,0]}}", "params.entry.gt");
	refused("CUSTOM", "{\"entry\":{\"gt\":{\"a\":1}},\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.gt");
	refused("CUSTOM", "{\"entry\":{\"and\":[]},\"exit\":{\"lt\":[1,0]}}", "params.entry.and");
	refused("CUSTOM", "{\"entry\":{\"and\":{\"gt\":[1,0]}},\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.and");
	refused("CUSTOM", "{\"entry\":{\"not\":[{\"gt\":[1,0]}]},\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.not");
	refused("CUSTOM", "{\"entry\":{\"and\":[{\"gt\":[1,0]},5]},\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.and[1]");
	refused("CUSTOM", "{\"entry\":{\"gt\":[true,0]},\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.gt[0]");
	refused("CUSTOM", "{\"entry\":{\"gt\":[\"close\",0]},\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.gt[0]");
	refused("CUSTOM", "{\"entry\":{\"gt\":[[1],0]},\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.gt[0]");
	refused("CUSTOM", "{\"entry\":{\"gt\":[{\"gt\":[1,0]},0]},\"exit\":{\"lt\":[1,0]}}",
	        "params.entry.gt[0]");
	refused("CUSTOM", "[]", "params");
}

Test(custom, nothing_is_defaulted)
{
	struct q_strategy_config cfg;
	struct q_err err = {0};

	cr_assert_eq(q_strategy_config_init(&cfg, &q_strategy_custom, NULL, NULL, &err), -1);
	cr_assert_str_eq(err.field, "params.entry");
}
