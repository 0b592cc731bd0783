/*
 * CUSTOM: a rule set the user writes in JSON over the built-in indicators. Nothing is executed:
 * the rules are compiled into a small tree of comparisons once, when the bot's parameters are
 * checked, and evaluated on each candle.
 *
 *   params  {"entry": EXPR, "exit": EXPR}
 *   EXPR    {"and":[EXPR,...]} | {"or":[EXPR,...]} | {"not":EXPR}
 *           | {"gt":[A,B]} | {"lt":[A,B]} | {"gte":[A,B]} | {"lte":[A,B]}
 *   A, B    a number | {"price":"close|open|high|low"} | {"ind":NAME,"period":N}
 *
 * Flat, the entry rule is asked; holding, the exit rule. Nothing is decided before every
 * indicator used is warm. Limits keep a hostile rule set cheap to refuse and to run: each rule
 * nests at most 8 expressions deep and holds at most 64 nodes (expressions and operands), and
 * periods are 1..500. Every refusal is Q_E_BAD_REQUEST naming the offending path
 * ("params.entry.and[1].gt[0].period").
 */
#include "strategy/kit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "q_indicators.h"
#include "q_mem.h"

#define MAX_DEPTH 8
#define MAX_NODES 64
#define MAX_PERIOD 500
#define MAX_SLOTS 128 /* one per operand of both rules: 2 x MAX_NODES */

enum kind { K_AND, K_OR, K_NOT, K_GT, K_LT, K_GTE, K_LTE, K_NUM, K_PRICE, K_IND };

/* arity: -1 for a list of expressions, 1 for one expression, 2 for two operands. */
static const struct {
	const char *name;
	enum kind kind;
	int arity;
} ops[] = {
        {"and", K_AND, -1}, {"or", K_OR, -1},  {"not", K_NOT, 1}, {"gt", K_GT, 2},
        {"lt", K_LT, 2},    {"gte", K_GTE, 2}, {"lte", K_LTE, 2},
};

static double
p_close(const struct q_bar *b)
{
	return b->close;
}

static double
p_open(const struct q_bar *b)
{
	return b->open;
}

static double
p_high(const struct q_bar *b)
{
	return b->high;
}

static double
p_low(const struct q_bar *b)
{
	return b->low;
}

static const struct {
	const char *name;
	double (*get)(const struct q_bar *b);
} prices[] = {
        {"close", p_close},
        {"open", p_open},
        {"high", p_high},
        {"low", p_low},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* One indicator of the rule set, computed once per candle however often it is used. */
struct slot {
	size_t ind; /* index in inds[] */
	size_t period;
	size_t var; /* its first state variable, for the folded ones */
};

struct eval {
	const struct custom *c;
	const struct q_bar *bars;
	size_t n;
	struct q_kit_vars *v;
	double val[MAX_SLOTS];
	unsigned char have[MAX_SLOTS];
};

static void
fold_ema(const struct slot *s, struct eval *e)
{
	q_indicators_ema_fold(&e->v->x[s->var], e->v->seen, s->period, e->bars[e->n - 1].close);
}

static void
fold_rsi(const struct slot *s, struct eval *e)
{
	const struct q_bar *b = e->bars + e->n - 1;

	q_indicators_rsi_fold(&e->v->x[s->var], &e->v->x[s->var + 1], e->v->seen, s->period,
	                      e->v->seen >= 2 ? b[-1].close : b->close, b->close);
}

static void
fold_atr(const struct slot *s, struct eval *e)
{
	const struct q_bar *b = e->bars + e->n - 1;

	q_indicators_atr_fold(&e->v->x[s->var], e->v->seen, s->period, e->v->seen >= 2 ? b - 1 : b,
	                      b);
}

static double
val_state(const struct slot *s, const struct eval *e)
{
	return e->v->x[s->var];
}

static double
val_rsi(const struct slot *s, const struct eval *e)
{
	return q_indicators_rsi_value(e->v->x[s->var], e->v->x[s->var + 1]);
}

static double
val_sma(const struct slot *s, const struct eval *e)
{
	return q_indicators_sma(e->bars, e->n, s->period);
}

static double
val_high(const struct slot *s, const struct eval *e)
{
	return q_indicators_highest(e->bars, e->n, s->period);
}

static double
val_low(const struct slot *s, const struct eval *e)
{
	return q_indicators_lowest(e->bars, e->n, s->period);
}

static double
val_ret(const struct slot *s, const struct eval *e)
{
	return q_indicators_ret(e->bars, e->n, s->period);
}

static double
val_vol(const struct slot *s, const struct eval *e)
{
	return q_indicators_volatility(e->bars, e->n, s->period);
}

/*
 * The indicators. need = period + extra candles; folded ones keep nvars state variables named
 * "<name>_<period><suffix>" (ema_20, rsi_14_gain, rsi_14_loss).
 */
static const struct ind {
	const char *name;
	size_t extra, min_period, nvars;
	const char *suffix[2];
	void (*fold)(const struct slot *s, struct eval *e);
	double (*value)(const struct slot *s, const struct eval *e);
} inds[] = {
        {"ema", 0, 1, 1, {""}, fold_ema, val_state},
        {"sma", 0, 1, 0, {NULL}, NULL, val_sma},
        {"rsi", 1, 1, 2, {"_gain", "_loss"}, fold_rsi, val_rsi},
        {"atr", 1, 1, 1, {""}, fold_atr, val_state},
        {"donchian_high", 1, 1, 0, {NULL}, NULL, val_high},
        {"donchian_low", 1, 1, 0, {NULL}, NULL, val_low},
        {"return", 1, 1, 0, {NULL}, NULL, val_ret},
        {"volatility", 1, 2, 0, {NULL}, NULL, val_vol},
};

struct node {
	enum kind kind;
	size_t nkids, kid; /* and/or/not and comparisons: children kids[kid .. kid + nkids - 1] */
	double num;        /* K_NUM */
	size_t price;      /* K_PRICE: index in prices[] */
	size_t slot;       /* K_IND */
};

struct rule {
	struct node nodes[MAX_NODES];
	size_t kids[MAX_NODES];
	size_t nnodes, nkids, root;
};

struct custom {
	struct rule rules[2]; /* entry, exit */
	struct slot slots[MAX_SLOTS];
	size_t nslots, nvars, warmup;
	char names[Q_KIT_MAX_VARS][32];
	const char *namep[Q_KIT_MAX_VARS];
};

struct parser {
	struct custom *c;
	struct rule *r;
	char path[192];
	size_t plen;
	struct q_err *err;
};

static size_t push(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append a segment to the path; returns the length to restore. */
static size_t
push(struct parser *p, const char *fmt, ...)
{
	size_t old = p->plen;
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(p->path + p->plen, sizeof(p->path) - p->plen, fmt, ap);
	va_end(ap);
	if (w > 0)
		p->plen += (size_t)w < sizeof(p->path) - p->plen ? (size_t)w
		                                                 : sizeof(p->path) - 1 - p->plen;
	return old;
}

static void
pop(struct parser *p, size_t old)
{
	p->plen = old;
	p->path[old] = '\0';
}

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(struct parser *p, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return q_err_set_field(p->err, p->path, Q_E_BAD_REQUEST, "%s: %s", p->path, why);
}

static int
new_node(struct parser *p, enum kind kind)
{
	struct node *nd;

	if (p->r->nnodes >= MAX_NODES)
		return fail(p, "a rule holds at most %d nodes", MAX_NODES);
	nd = &p->r->nodes[p->r->nnodes];
	memset(nd, 0, sizeof(*nd));
	nd->kind = kind;
	return (int)p->r->nnodes++;
}

/* Reserve n consecutive child slots for node nd. */
static int
reserve(struct parser *p, int nd, size_t n)
{
	if (n > MAX_NODES - p->r->nnodes || n > MAX_NODES - p->r->nkids)
		return fail(p, "%zu operands: a rule holds at most %d nodes", n, MAX_NODES);
	p->r->nodes[nd].kid = p->r->nkids;
	p->r->nodes[nd].nkids = n;
	p->r->nkids += n;
	return 0;
}

static int
add_slot(struct parser *p, size_t ind, size_t period)
{
	struct custom *c = p->c;
	const struct ind *d = &inds[ind];
	struct slot *s;

	for (size_t i = 0; i < c->nslots; i++)
		if (c->slots[i].ind == ind && c->slots[i].period == period)
			return (int)i;
	if (c->nslots >= MAX_SLOTS || c->nvars + d->nvars > Q_KIT_MAX_VARS)
		return fail(p, "too many indicators");
	s = &c->slots[c->nslots];
	s->ind = ind;
	s->period = period;
	s->var = c->nvars;
	for (size_t k = 0; k < d->nvars; k++, c->nvars++) {
		snprintf(c->names[c->nvars], sizeof(c->names[0]), "%s_%zu%s", d->name, period,
		         d->suffix[k]);
		c->namep[c->nvars] = c->names[c->nvars];
	}
	if (period + d->extra > c->warmup)
		c->warmup = period + d->extra;
	return (int)c->nslots++;
}

static int
parse_ind(struct parser *p, json_t *j, int nd)
{
	const char *key, *name = json_string_value(json_object_get(j, "ind"));
	json_t *val, *per = json_object_get(j, "period");
	size_t ind, old;
	json_int_t period;
	int slot;

	json_object_foreach(j, key, val)
	{
		if (strcmp(key, "ind") != 0 && strcmp(key, "period") != 0) {
			push(p, ".%.40s", key);
			return fail(p, "unknown key in an indicator (ind, period)");
		}
	}
	old = push(p, ".ind");
	if (name == NULL)
		return fail(p, "expected an indicator name");
	for (ind = 0; ind < NELEM(inds) && strcmp(inds[ind].name, name) != 0; ind++)
		;
	if (ind == NELEM(inds))
		return fail(p, "unknown indicator \"%.40s\"", name);
	pop(p, old);
	push(p, ".period");
	if (per == NULL)
		return fail(p, "required");
	if (!json_is_integer(per))
		return fail(p, "expected an integer");
	period = json_integer_value(per);
	if (period < (json_int_t)inds[ind].min_period || period > MAX_PERIOD)
		return fail(p, "%lld is out of bounds [%zu, %d] for %s", (long long)period,
		            inds[ind].min_period, MAX_PERIOD, name);
	pop(p, old);
	if ((slot = add_slot(p, ind, (size_t)period)) < 0)
		return -1;
	p->r->nodes[nd].slot = (size_t)slot;
	return nd;
}

static int
parse_operand(struct parser *p, json_t *j)
{
	const char *name;
	int nd;

	if (json_is_number(j)) {
		if ((nd = new_node(p, K_NUM)) < 0)
			return -1;
		p->r->nodes[nd].num = json_number_value(j);
		return nd;
	}
	if (json_is_object(j) && json_object_get(j, "ind") != NULL) {
		if ((nd = new_node(p, K_IND)) < 0)
			return -1;
		return parse_ind(p, j, nd);
	}
	if (!json_is_object(j) || json_object_size(j) != 1 || json_object_get(j, "price") == NULL)
		return fail(p, "an operand is a number, {\"price\":\"close\"} or "
		               "{\"ind\":\"ema\",\"period\":20}");
	push(p, ".price");
	name = json_string_value(json_object_get(j, "price"));
	for (size_t i = 0; name != NULL && i < NELEM(prices); i++) {
		if (strcmp(prices[i].name, name) == 0) {
			if ((nd = new_node(p, K_PRICE)) < 0)
				return -1;
			p->r->nodes[nd].price = i;
			return nd;
		}
	}
	return fail(p, "expected close, open, high or low");
}

static int
parse_expr(struct parser *p, json_t *j, int depth)
{
	const char *key;
	json_t *val;
	size_t op, old, n;
	int nd, kid;

	if (depth > MAX_DEPTH)
		return fail(p, "expressions nest at most %d deep", MAX_DEPTH);
	if (!json_is_object(j) || json_object_size(j) != 1)
		return fail(p, "an expression is an object with one operator: and, or, not, gt, "
		               "lt, gte, lte");
	key = json_object_iter_key(json_object_iter(j));
	val = json_object_iter_value(json_object_iter(j));
	for (op = 0; op < NELEM(ops) && strcmp(ops[op].name, key) != 0; op++)
		;
	old = push(p, ".%.40s", key);
	if (op == NELEM(ops))
		return fail(p, "unknown operator");
	if ((nd = new_node(p, ops[op].kind)) < 0)
		return -1;
	if (ops[op].arity == 1) {
		if (reserve(p, nd, 1) < 0 || (kid = parse_expr(p, val, depth + 1)) < 0)
			return -1;
		p->r->kids[p->r->nodes[nd].kid] = (size_t)kid;
		pop(p, old);
		return nd;
	}
	n = json_array_size(val);
	if (!json_is_array(val) || (ops[op].arity == 2 && n != 2) || n == 0)
		return ops[op].arity == 2 ? fail(p, "expected an array of two operands")
		                          : fail(p, "expected a non-empty array of expressions");
	if (reserve(p, nd, n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t at = push(p, "[%zu]", i);

		kid = ops[op].arity == 2 ? parse_operand(p, json_array_get(val, i))
		                         : parse_expr(p, json_array_get(val, i), depth + 1);
		if (kid < 0)
			return -1;
		p->r->kids[p->r->nodes[nd].kid + i] = (size_t)kid;
		pop(p, at);
	}
	pop(p, old);
	return nd;
}

static int
compile(struct q_strategy_config *cfg, const json_t *params, struct q_err *err)
{
	static const char *const names[2] = {"entry", "exit"};
	struct parser p = {.err = err};
	const char *key;
	json_t *val;
	int root;

	json_object_foreach((json_t *)params, key, val)
	{
		if (strcmp(key, "entry") != 0 && strcmp(key, "exit") != 0) {
			char field[64];

			snprintf(field, sizeof(field), "params.%.40s", key);
			return q_err_set_field(
			        err, field, Q_E_BAD_REQUEST,
			        "%s: unknown parameter (CUSTOM takes entry and exit)", field);
		}
	}
	p.c = q_calloc(1, sizeof(*p.c));
	p.c->warmup = 1;
	for (size_t i = 0; i < 2; i++) {
		p.r = &p.c->rules[i];
		pop(&p, 0);
		push(&p, "params.%s", names[i]);
		val = json_object_get(params, names[i]);
		if (val == NULL) {
			fail(&p, "required: a rule such as {\"gt\":[{\"price\":\"close\"},"
			         "{\"ind\":\"ema\",\"period\":50}]}");
			goto fail;
		}
		if ((root = parse_expr(&p, val, 1)) < 0)
			goto fail;
		p.r->root = (size_t)root;
	}
	cfg->compiled = p.c;
	return 0;
fail:
	free(p.c);
	return -1;
}

static void
release(struct q_strategy_config *cfg)
{
	free(cfg->compiled);
	cfg->compiled = NULL;
}

static size_t
warmup(const struct q_strategy_config *cfg)
{
	const struct custom *c = cfg->compiled;

	return c != NULL ? c->warmup : 1;
}

static double
operand(struct eval *e, const struct rule *r, size_t i)
{
	const struct node *nd = &r->nodes[i];
	const struct slot *s;

	switch (nd->kind) {
	case K_NUM:
		return nd->num;
	case K_PRICE:
		return prices[nd->price].get(&e->bars[e->n - 1]);
	default:
		s = &e->c->slots[nd->slot];
		if (!e->have[nd->slot]) {
			e->val[nd->slot] = inds[s->ind].value(s, e);
			e->have[nd->slot] = 1;
		}
		return e->val[nd->slot];
	}
}

static int
eval(struct eval *e, const struct rule *r, size_t i)
{
	const struct node *nd = &r->nodes[i];
	const size_t *k = &r->kids[nd->kid];

	switch (nd->kind) {
	case K_AND:
		for (size_t j = 0; j < nd->nkids; j++)
			if (!eval(e, r, k[j]))
				return 0;
		return 1;
	case K_OR:
		for (size_t j = 0; j < nd->nkids; j++)
			if (eval(e, r, k[j]))
				return 1;
		return 0;
	case K_NOT:
		return !eval(e, r, k[0]);
	case K_GT:
		return operand(e, r, k[0]) > operand(e, r, k[1]);
	case K_LT:
		return operand(e, r, k[0]) < operand(e, r, k[1]);
	case K_GTE:
		return operand(e, r, k[0]) >= operand(e, r, k[1]);
	case K_LTE:
		return operand(e, r, k[0]) <= operand(e, r, k[1]);
	default:
		return 0; /* operands are never expressions: the compiler saw to it */
	}
}

static double
advance(const struct q_strategy_config *cfg, const struct q_bar *bars, size_t n,
        struct q_kit_vars *v)
{
	const struct custom *c = cfg->compiled;
	struct eval e;

	e.c = c;
	e.bars = bars;
	e.n = n;
	e.v = v;
	for (size_t i = 0; i < c->nslots; i++)
		if (inds[c->slots[i].ind].fold != NULL)
			inds[c->slots[i].ind].fold(&c->slots[i], &e);
	if (!q_kit_ready(v, n, c->warmup)) {
		v->pos = 0;
		return 0;
	}
	memset(e.have, 0, c->nslots);
	if (v->pos == 0)
		v->pos = q_kit_hold(v->pos, eval(&e, &c->rules[0], c->rules[0].root), 0);
	else
		v->pos = q_kit_hold(v->pos, 0, eval(&e, &c->rules[1], c->rules[1].root));
	return v->pos;
}

static int
step(const struct q_strategy_config *cfg, const struct q_bar *bars, size_t n, json_t *state,
     double *target, struct q_err *err)
{
	const struct custom *c = cfg->compiled;

	if (c == NULL)
		return q_err_set(err, Q_E_INTERNAL, "CUSTOM step without a compiled rule set");
	return q_kit_step(cfg, c->namep, c->nvars, advance, bars, n, state, target, err);
}

/* The rule language, for the catalog: what a client needs to build a rule set. */
static json_t *
grammar(void)
{
	json_t *logic = json_array(), *cmp = json_array(), *pr = json_array(), *in = json_array();

	for (size_t i = 0; i < NELEM(ops); i++)
		json_array_append_new(ops[i].arity == 2 ? cmp : logic, json_string(ops[i].name));
	for (size_t i = 0; i < NELEM(prices); i++)
		json_array_append_new(pr, json_string(prices[i].name));
	for (size_t i = 0; i < NELEM(inds); i++)
		json_array_append_new(in, json_pack("{s:s, s:i, s:i}", "name", inds[i].name,
		                                    "min_period", (int)inds[i].min_period,
		                                    "max_period", MAX_PERIOD));
	return json_pack("{s:[s,s], s:o, s:o, s:o, s:o, s:i, s:i}", "rules", "entry", "exit",
	                 "logic", logic, "compare", cmp, "prices", pr, "indicators", in,
	                 "max_depth", MAX_DEPTH, "max_nodes", MAX_NODES);
}

static const struct q_strategy_param none[] = {{NULL, 0, 0, 0, 0, NULL}};

const struct q_strategy q_strategy_custom = {
        .id = "CUSTOM",
        .name = "Custom rules",
        .advanced = 1,
        .params = none,
        .compile = compile,
        .release = release,
        .warmup = warmup,
        .step = step,
        .rule_set = 1,
        .grammar = grammar,
};
