#include "q_strategy.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The catalog, in the order GET /api/v1/strategies shows it. */
static const struct q_strategy *const strategies[] = {
        &q_strategy_ema,          &q_strategy_breakout,      &q_strategy_ts_momentum,
        &q_strategy_adaptive_pro, &q_strategy_rsi_reversion, &q_strategy_custom,
};

#define NSTRATEGIES (sizeof(strategies) / sizeof(strategies[0]))

const struct q_strategy *
q_strategy_lookup(const char *id)
{
	for (size_t i = 0; id != NULL && i < NSTRATEGIES; i++)
		if (strcmp(strategies[i]->id, id) == 0)
			return strategies[i];
	return NULL;
}

const struct q_strategy *
q_strategy_at(size_t i)
{
	return i < NSTRATEGIES ? strategies[i] : NULL;
}

static const struct q_strategy_param *
param_find(const struct q_strategy *s, const char *name)
{
	for (const struct q_strategy_param *p = s->params; p->name != NULL; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static const char *
type_name(const json_t *j)
{
	static const char *const names[] = {
	        [JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",
	        [JSON_STRING] = "a string",  [JSON_INTEGER] = "an integer",
	        [JSON_REAL] = "a real",      [JSON_TRUE] = "true",
	        [JSON_FALSE] = "false",      [JSON_NULL] = "null",
	};

	return names[json_typeof(j)];
}

/* One schema value: its type and bounds. */
static int
check_value(const struct q_strategy_param *p, const json_t *j, double *out, struct q_err *err)
{
	char field[64];
	double x;

	snprintf(field, sizeof(field), "params.%s", p->name);
	if (p->type == Q_PARAM_INT && !json_is_integer(j))
		return q_err_set_field(err, field, Q_E_BAD_REQUEST,
		                       "%s: expected an integer, got %s", field, type_name(j));
	if (p->type == Q_PARAM_NUMBER && !json_is_number(j))
		return q_err_set_field(err, field, Q_E_BAD_REQUEST, "%s: expected a number, got %s",
		                       field, type_name(j));
	x = json_is_integer(j) ? (double)json_integer_value(j) : json_real_value(j);
	if (!(x >= p->min && x <= p->max))
		return q_err_set_field(err, field, Q_E_BAD_REQUEST,
		                       "%s: %.17g is out of bounds [%g, %g]", field, x, p->min,
		                       p->max);
	*out = x;
	return 0;
}

static int
check_schema(struct q_strategy_config *cfg, const json_t *params, struct q_err *err)
{
	const struct q_strategy *s = cfg->s;
	const char *key;
	json_t *val;
	size_t i = 0;

	json_object_foreach((json_t *)params, key, val)
	{
		if (param_find(s, key) == NULL) {
			char field[64];

			snprintf(field, sizeof(field), "params.%.40s", key);
			return q_err_set_field(err, field, Q_E_BAD_REQUEST,
			                       "%s: unknown parameter for %s", field, s->id);
		}
	}
	for (const struct q_strategy_param *p = s->params; p->name != NULL; p++, i++) {
		val = json_object_get(params, p->name);
		cfg->v[i] = p->def;
		if (val != NULL && check_value(p, val, &cfg->v[i], err) < 0)
			return -1;
	}
	return 0;
}

static json_t *
normalize(const struct q_strategy_config *cfg, const json_t *params)
{
	const struct q_strategy *s = cfg->s;
	json_t *out;
	size_t i = 0;

	if (s->rule_set)
		return json_deep_copy(params);
	out = json_object();
	for (const struct q_strategy_param *p = s->params; p->name != NULL; p++, i++)
		json_object_set_new(out, p->name,
		                    p->type == Q_PARAM_INT ? json_integer((json_int_t)cfg->v[i])
		                                           : json_real(cfg->v[i]));
	return out;
}

int
q_strategy_config_init(struct q_strategy_config *cfg, const struct q_strategy *s,
                       const json_t *params, json_t **normalized, struct q_err *err)
{
	memset(cfg, 0, sizeof(*cfg));
	if (normalized != NULL)
		*normalized = NULL;
	if (s == NULL)
		return q_err_set_field(err, "strategy", Q_E_BAD_REQUEST, "unknown strategy");
	cfg->s = s;
	if (params != NULL && !json_is_object(params))
		return q_err_set_field(err, "params", Q_E_BAD_REQUEST,
		                       "params: expected an object, got %s", type_name(params));
	if (!s->rule_set && check_schema(cfg, params, err) < 0)
		goto fail;
	if (s->compile != NULL && s->compile(cfg, params, err) < 0)
		goto fail;
	if (normalized != NULL)
		*normalized = normalize(cfg, params);
	return 0;
fail:
	q_strategy_config_release(cfg);
	return -1;
}

void
q_strategy_config_release(struct q_strategy_config *cfg)
{
	if (cfg->s != NULL && cfg->s->release != NULL && cfg->compiled != NULL)
		cfg->s->release(cfg);
	cfg->compiled = NULL;
}

static json_t *
bound(const struct q_strategy_param *p, double x)
{
	return p->type == Q_PARAM_INT ? json_integer((json_int_t)x) : json_real(x);
}

json_t *
q_strategy_json(const struct q_strategy *s)
{
	json_t *params = json_array(), *out;

	for (const struct q_strategy_param *p = s->params; p->name != NULL; p++)
		json_array_append_new(
		        params, json_pack("{s:s, s:s, s:o, s:o, s:o, s:s}", "name", p->name, "type",
		                          p->type == Q_PARAM_INT ? "integer" : "number", "min",
		                          bound(p, p->min), "max", bound(p, p->max), "default",
		                          bound(p, p->def), "help", p->help));
	out = json_pack("{s:s, s:s, s:b, s:o}", "id", s->id, "name", s->name, "advanced",
	                s->advanced, "params", params);
	if (out != NULL && s->grammar != NULL)
		json_object_set_new(out, "rules", s->grammar());
	return out;
}
