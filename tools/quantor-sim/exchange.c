/*
 * exchange: the core every simulated venue shares (see exchange.h): accounts, balances, orders
 * and their matching against market.h's prices, faults, rate limits, bans and clock skew, and
 * the control endpoints.
 */
#include "exchange.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "q_crypto.h"
#include "q_log.h"
#include "q_mem.h"

#define MAX_FAULTS 64
#define BAN_DEFAULT_S 120
#define RETRY_DEFAULT_S 2

enum fault_kind {
	F_RATE_LIMIT = 1,       /* 429 with Retry-After; a request inside the wait earns a ban */
	F_BAN,                  /* banned at once for ban_s */
	F_5XX,                  /* status (default 503), nothing done */
	F_TIMEOUT,              /* no answer, connection closed, nothing done */
	F_TIMEOUT_AFTER_ACCEPT, /* done, then no answer */
	F_MALFORMED,            /* done, then a truncated JSON answer */
};

static const struct {
	const char *name;
	enum fault_kind kind;
} fault_names[] = {
        {"rate_limit", F_RATE_LIMIT},
        {"ban", F_BAN},
        {"5xx", F_5XX},
        {"timeout", F_TIMEOUT},
        {"timeout_after_accept", F_TIMEOUT_AFTER_ACCEPT},
        {"malformed", F_MALFORMED},
};

struct fault {
	char venue[12]; /* or "*" */
	char op[16];    /* or "*" */
	enum fault_kind kind;
	int status;
	int retry_after_s;
	int ban_s;
	long delay_ms;
	long long count;
};

static const struct sim_venue *const venues[] = {
        &sim_venue_binance,
        &sim_venue_okx,
        &sim_venue_bybit,
        &sim_venue_bitget,
};
#define NVENUES (sizeof(venues) / sizeof(venues[0]))

struct venue_state {
	long long skew_ms;
	long long limited_until; /* sim ms: a request before it is banned */
	long long ban_until;     /* sim ms */
	int ban_s;               /* the ban a request inside a rate-limit wait earns */
	long long minute;        /* the current minute of the venue clock, and its request count */
	long long used;
	long long per_minute; /* 0: no limit; else 429 past it until the minute turns */
};

static struct {
	pthread_mutex_t lock;
	struct sim_account *accts;
	size_t naccts;
	struct sim_order **orders;
	size_t norders, cap;
	long long next_order_id;
	struct venue_state vs[NVENUES];
	struct fault faults[MAX_FAULTS];
	int nfaults;
} ex = {.lock = PTHREAD_MUTEX_INITIALIZER};

static size_t
venue_index(const struct sim_venue *v)
{
	for (size_t i = 0; i < NVENUES; i++)
		if (venues[i] == v)
			return i;
	return 0;
}

static const struct sim_venue *
venue_by_name(const char *name)
{
	for (size_t i = 0; name && i < NVENUES; i++)
		if (strcmp(venues[i]->name, name) == 0)
			return venues[i];
	return NULL;
}

/* --- small helpers for the front-ends ------------------------------------------------------ */

const char *
sim_ex_param(const struct sim_ex_call *c, const char *name)
{
	return sim_param_get(c->params, c->nparams, name);
}

const char *
sim_ex_body_str(const struct sim_ex_call *c, const char *name)
{
	return c->body ? json_string_value(json_object_get(c->body, name)) : NULL;
}

struct sim_account *
sim_ex_account(const char *venue, const char *api_key)
{
	for (size_t i = 0; api_key && i < ex.naccts; i++)
		if (strcmp(ex.accts[i].venue, venue) == 0 &&
		    sim_ex_streq(ex.accts[i].api_key, api_key))
			return &ex.accts[i];
	return NULL;
}

int
sim_ex_streq(const char *a, const char *b)
{
	size_t n = strlen(a);

	return n == strlen(b) && sodium_memcmp(a, b, n) == 0;
}

const struct sim_symbol *
sim_ex_symbol(const char *symbol)
{
	return symbol ? sim_market_symbol(symbol) : NULL;
}

struct sim_balance *
sim_ex_balance(struct sim_account *a, const char *asset)
{
	for (int i = 0; i < a->nbal; i++)
		if (strcmp(a->bal[i].asset, asset) == 0)
			return &a->bal[i];
	if (a->nbal == SIM_EX_MAX_ASSETS)
		q_die("quantor-sim: more than %d assets in one account", SIM_EX_MAX_ASSETS);
	memset(&a->bal[a->nbal], 0, sizeof(a->bal[0]));
	snprintf(a->bal[a->nbal].asset, sizeof(a->bal[0].asset), "%s", asset);
	return &a->bal[a->nbal++];
}

int
sim_ex_candles(struct sim_ex_call *c, const char *symbol, int64_t interval_ms, int64_t end_ms,
               size_t limit, struct sim_candle **out)
{
	if (limit < 1 || limit > 1000)
		return -1;
	/* A candle that has closed is served whole, as the venues do: only the current one is
	 * partial. */
	if (end_ms > 0 && interval_ms > 0)
		end_ms = end_ms / interval_ms * interval_ms + interval_ms - 1;
	if (end_ms <= 0 || end_ms > c->now_ms)
		end_ms = c->now_ms;
	*out = q_arena_alloc(c->req->arena, limit * sizeof(**out));
	return sim_market_candles(*out, limit, symbol, interval_ms, end_ms, NULL);
}

int
sim_ex_price(struct sim_ex_call *c, const char *symbol, struct q_dec *out)
{
	return sim_market_price(out, symbol, c->now_ms, NULL);
}

const char *
sim_ex_dec(struct sim_ex_call *c, struct q_dec d)
{
	char s[Q_DEC_STR_MAX];

	q_dec_format(s, d);
	return q_arena_strdup(c->req->arena, s);
}

const char *
sim_ex_dec_fixed(struct sim_ex_call *c, struct q_dec d, int places)
{
	char s[Q_DEC_STR_MAX];
	struct q_dec r;

	if (q_dec_quantize(&r, d, q_dec_from_int(1), Q_DEC_DOWN, NULL) == 0 && places == 0)
		d = r;
	if (q_dec_format_fixed(s, d, places) < 0)
		q_dec_format(s, d);
	return q_arena_strdup(c->req->arena, s);
}

int
sim_ex_parse_dec(const char *s, struct q_dec *out)
{
	return s ? q_dec_parse_str(out, s, NULL) : -1;
}

int
sim_ex_json(struct sim_ex_call *c, int status, json_t *j)
{
	struct q_err e = {0};

	if (sim_reply_json(c->resp, status, j, &e) < 0)
		sim_reply_error(c->resp, 500, "INTERNAL", "quantor-sim could not build the answer");
	return 0;
}

void
sim_ex_hmac_hex(char out[65], const struct sim_account *a, const void *msg, size_t len)
{
	uint8_t mac[Q_HMAC_SHA256_LEN];

	q_hmac_sha256(mac, a->secret, a->secret_len, msg, len);
	q_hex_encode(out, mac, sizeof(mac));
}

void
sim_ex_hmac_b64(char out[64], const struct sim_account *a, const void *msg, size_t len)
{
	uint8_t mac[Q_HMAC_SHA256_LEN];
	struct q_buf b = Q_BUF_INIT;

	q_hmac_sha256(mac, a->secret, a->secret_len, msg, len);
	q_base64_encode(&b, mac, sizeof(mac));
	snprintf(out, 64, "%s", b.data);
	q_buf_release(&b);
}

const char *
sim_ex_status_name(enum sim_status s)
{
	switch (s) {
	case SIM_NEW:
		return "NEW";
	case SIM_FILLED:
		return "FILLED";
	case SIM_CANCELED:
		return "CANCELED";
	case SIM_EXPIRED:
		return "EXPIRED";
	}
	return "UNKNOWN";
}

/* --- orders -------------------------------------------------------------------------------- */

static struct q_dec
bps(int n)
{
	struct q_dec d;

	q_dec_div(&d, q_dec_from_int(n), q_dec_from_int(10000), Q_DEC_DOWN, NULL);
	return d;
}

/* quote amount * fee rate, rounded up to 10^-8: the venue never undercharges. */
static int
fee_of(struct q_dec *fee, struct q_dec quote)
{
	struct q_dec step;

	q_dec_parse_str(&step, "0.00000001", NULL);
	return q_dec_mul(fee, quote, bps(SIM_EX_FEE_BPS), Q_DEC_UP, NULL) < 0 ||
	                       q_dec_quantize(fee, *fee, step, Q_DEC_UP, NULL) < 0
	               ? -1
	               : 0;
}

static int
add(struct q_dec *x, struct q_dec d)
{
	return q_dec_add(x, *x, d, NULL);
}

static int
sub(struct q_dec *x, struct q_dec d)
{
	return q_dec_sub(x, *x, d, NULL);
}

/*
 * Fill o whole at price px: move the funds (from locked when the order rested, else from free),
 * record the amounts. The caller checked the balance.
 */
static void
fill(struct sim_order *o, const struct sim_symbol *s, struct q_dec px, int rested, int64_t now)
{
	struct sim_balance *base = sim_ex_balance(o->acct, s->base);
	struct sim_balance *quote = sim_ex_balance(o->acct, s->quote);
	struct q_dec cost, fee, reserved;

	q_dec_mul(&cost, o->qty, px, Q_DEC_UP, NULL);
	fee_of(&fee, cost);
	if (o->side == SIM_BUY) {
		if (rested) {
			/* The reservation was made at the limit price: give back what is left. */
			q_dec_mul(&reserved, o->qty, o->price, Q_DEC_UP, NULL);
			struct q_dec rfee;

			fee_of(&rfee, reserved);
			add(&reserved, rfee);
			sub(&quote->locked, reserved);
			add(&quote->free, reserved);
		}
		sub(&quote->free, cost);
		sub(&quote->free, fee);
		add(&base->free, o->qty);
	} else {
		if (rested)
			sub(&base->locked, o->qty);
		else
			sub(&base->free, o->qty);
		add(&quote->free, cost);
		sub(&quote->free, fee);
	}
	o->executed = o->qty;
	o->cum_quote = cost;
	o->fee = fee;
	snprintf(o->fee_asset, sizeof(o->fee_asset), "%s", s->quote);
	o->status = SIM_FILLED;
	o->updated_ms = now;
}

/* Resting LIMIT orders of the account that the price has reached fill at their limit. */
static void
sweep(struct sim_account *a, int64_t now)
{
	for (size_t i = 0; i < ex.norders; i++) {
		struct sim_order *o = ex.orders[i];
		const struct sim_symbol *s;
		struct q_dec px;

		if (o->acct != a || o->status != SIM_NEW ||
		    (s = sim_market_symbol(o->symbol)) == NULL ||
		    sim_market_price(&px, o->symbol, now, NULL) < 0)
			continue;
		if ((o->side == SIM_BUY && q_dec_cmp(px, o->price) <= 0) ||
		    (o->side == SIM_SELL && q_dec_cmp(px, o->price) >= 0))
			fill(o, s, o->price, 1, now);
	}
}

static struct sim_order *
store(struct sim_ex_call *c, const struct sim_order_req *r, const struct sim_symbol *s)
{
	struct sim_order *o = q_calloc(1, sizeof(*o));

	if (ex.norders == ex.cap) {
		ex.cap = ex.cap ? ex.cap * 2 : 256;
		ex.orders = q_realloc(ex.orders, ex.cap * sizeof(struct sim_order *));
	}
	ex.orders[ex.norders++] = o;
	o->seq = (long long)ex.norders;
	snprintf(o->venue, sizeof(o->venue), "%s", c->venue->name);
	o->acct = c->acct;
	snprintf(o->order_id, sizeof(o->order_id), "%lld", ex.next_order_id++);
	if (r->client_id && r->client_id[0])
		snprintf(o->client_id, sizeof(o->client_id), "%s", r->client_id);
	else
		snprintf(o->client_id, sizeof(o->client_id), "sim%lld", o->seq);
	snprintf(o->symbol, sizeof(o->symbol), "%s", s->symbol);
	o->side = r->side;
	o->type = r->type;
	o->tif = r->tif;
	o->qty = r->qty;
	o->quote_qty = r->quote_qty;
	o->price = r->type == SIM_LIMIT ? r->price : (struct q_dec){0};
	o->status = SIM_NEW;
	o->created_ms = o->updated_ms = c->now_ms;
	return o;
}

enum sim_ex_err
sim_ex_place(struct sim_ex_call *c, const struct sim_order_req *r, struct sim_order **out)
{
	const struct sim_symbol *s = sim_ex_symbol(r->symbol);
	struct q_dec px, qty = r->qty, notional, fee, need;
	struct sim_balance *bal;
	int crosses;

	if (s == NULL)
		return SIM_EX_BAD_SYMBOL;
	if ((r->side != SIM_BUY && r->side != SIM_SELL) ||
	    (r->type != SIM_MARKET && r->type != SIM_LIMIT))
		return SIM_EX_BAD_PARAM;
	if (!(c->acct->perms & SIM_PERM_TRADE))
		return SIM_EX_NO_PERM;
	if (r->client_id && r->client_id[0] && sim_ex_find(c, NULL, r->client_id, NULL) != NULL)
		return SIM_EX_DUPLICATE;
	if (sim_market_price(&px, s->symbol, c->now_ms, NULL) < 0)
		return SIM_EX_INTERNAL;
	if (r->type == SIM_LIMIT) {
		if (q_dec_sign(r->price) <= 0 || !q_dec_is_multiple(r->price, s->tick))
			return SIM_EX_FILTER_PRICE;
		px = r->price;
	}
	if (!q_dec_is_zero(r->quote_qty)) {
		/* A MARKET BUY for a quote amount: as much base as it buys, on the lot grid. */
		if (r->type != SIM_MARKET || r->side != SIM_BUY || q_dec_sign(r->quote_qty) < 0 ||
		    !q_dec_is_zero(r->qty))
			return SIM_EX_BAD_PARAM;
		if (q_dec_cmp(r->quote_qty, s->min_notional) < 0)
			return SIM_EX_FILTER_NOTIONAL;
		if (q_dec_div(&qty, r->quote_qty, px, Q_DEC_DOWN, NULL) < 0 ||
		    q_dec_quantize(&qty, qty, s->lot, Q_DEC_DOWN, NULL) < 0)
			return SIM_EX_BAD_PARAM;
	}
	if (q_dec_sign(qty) <= 0 || !q_dec_is_multiple(qty, s->lot) ||
	    q_dec_cmp(qty, s->min_qty) < 0 || q_dec_cmp(qty, s->max_qty) > 0)
		return SIM_EX_FILTER_LOT;
	if (q_dec_mul(&notional, qty, px, Q_DEC_UP, NULL) < 0 ||
	    q_dec_cmp(notional, s->min_notional) < 0)
		return SIM_EX_FILTER_NOTIONAL;
	fee_of(&fee, notional);
	crosses = r->type == SIM_MARKET || (r->side == SIM_BUY ? q_dec_cmp(r->price, px) >= 0
	                                                       : q_dec_cmp(r->price, px) <= 0);
	if (r->type == SIM_LIMIT) {
		/* A crossing LIMIT takes the market price, which is at least as good. */
		struct q_dec m;

		if (sim_market_price(&m, s->symbol, c->now_ms, NULL) < 0)
			return SIM_EX_INTERNAL;
		crosses = r->side == SIM_BUY ? q_dec_cmp(r->price, m) >= 0
		                             : q_dec_cmp(r->price, m) <= 0;
		if (crosses) {
			px = m;
			q_dec_mul(&notional, qty, px, Q_DEC_UP, NULL);
			fee_of(&fee, notional);
		}
	}
	if (r->side == SIM_BUY) {
		/* A resting BUY reserves its cost and fee at the limit price. */
		bal = sim_ex_balance(c->acct, s->quote);
		q_dec_add(&need, notional, fee, NULL);
	} else {
		bal = sim_ex_balance(c->acct, s->base);
		need = qty;
	}
	if (q_dec_cmp(bal->free, need) < 0)
		return SIM_EX_INSUFFICIENT;
	{
		struct sim_order_req rr = *r;

		rr.qty = qty;
		*out = store(c, &rr, s);
	}
	if (crosses) {
		fill(*out, s, px, 0, c->now_ms);
	} else if (r->tif != SIM_GTC) {
		(*out)->status = SIM_EXPIRED; /* IOC / FOK that cannot fill now */
	} else {
		sub(&bal->free, need);
		add(&bal->locked, need);
	}
	return SIM_EX_OK;
}

struct sim_order *
sim_ex_find(struct sim_ex_call *c, const char *symbol, const char *client_id, const char *order_id)
{
	for (size_t i = ex.norders; i-- > 0;) {
		struct sim_order *o = ex.orders[i];

		if (o->acct != c->acct || (symbol && strcmp(o->symbol, symbol) != 0))
			continue;
		if (client_id ? strcmp(o->client_id, client_id) == 0
		              : order_id && strcmp(o->order_id, order_id) == 0)
			return o;
	}
	return NULL;
}

enum sim_ex_err
sim_ex_cancel(struct sim_ex_call *c, struct sim_order *o)
{
	const struct sim_symbol *s = sim_market_symbol(o->symbol);
	struct q_dec need, fee;
	struct sim_balance *bal;

	if (o->status != SIM_NEW || s == NULL)
		return SIM_EX_NO_ORDER;
	if (o->side == SIM_BUY) {
		bal = sim_ex_balance(o->acct, s->quote);
		q_dec_mul(&need, o->qty, o->price, Q_DEC_UP, NULL);
		fee_of(&fee, need);
		add(&need, fee);
	} else {
		bal = sim_ex_balance(o->acct, s->base);
		need = o->qty;
	}
	sub(&bal->locked, need);
	add(&bal->free, need);
	o->status = SIM_CANCELED;
	o->updated_ms = c->now_ms;
	return SIM_EX_OK;
}

size_t
sim_ex_open_orders(struct sim_ex_call *c, const char *symbol, struct sim_order ***out)
{
	size_t n = 0;

	*out = q_arena_alloc(c->req->arena, (ex.norders + 1) * sizeof(struct sim_order *));
	for (size_t i = 0; i < ex.norders; i++) {
		struct sim_order *o = ex.orders[i];

		if (o->acct == c->acct && o->status == SIM_NEW &&
		    (symbol == NULL || strcmp(o->symbol, symbol) == 0))
			(*out)[n++] = o;
	}
	return n;
}

/* --- faults, limits and the request path --------------------------------------------------- */

static int
fault_take(const char *venue, const char *op, struct fault *out)
{
	for (int i = 0; i < ex.nfaults; i++) {
		struct fault *f = &ex.faults[i];

		if ((strcmp(f->venue, "*") != 0 && strcmp(f->venue, venue) != 0) ||
		    (strcmp(f->op, "*") != 0 && strcmp(f->op, op) != 0))
			continue;
		*out = *f;
		if (--f->count <= 0) {
			memmove(f, f + 1, (size_t)(ex.nfaults - i - 1) * sizeof(*f));
			ex.nfaults--;
		}
		return 1;
	}
	return 0;
}

static int
secs_until(long long until, long long now)
{
	long long s = (until - now + 999) / 1000;

	return s < 1 ? 1 : (int)s;
}

static void
render(struct sim_ex_call *c, enum sim_ex_err e, const char *detail)
{
	c->venue->error(c, e, detail);
	if (e == SIM_EX_RATE_LIMITED || e == SIM_EX_BANNED)
		sim_reply_header(c->resp, "Retry-After", "%d", c->retry_after_s);
}

/*
 * The gate before the handler, under the lock: a ban in force, a request inside a rate-limit
 * wait (which earns a ban, as Binance's 418 does), the per-minute limit, then an injected fault.
 * Returns SIM_EX_OK with *f->kind 0 (none) or the fault to apply.
 */
static enum sim_ex_err
admit(struct sim_ex_call *c, struct fault *f)
{
	struct venue_state *vs = &ex.vs[venue_index(c->venue)];
	long long now = sim_clock_ms(), minute = c->now_ms / 60000;

	memset(f, 0, sizeof(*f));
	if (minute != vs->minute) {
		vs->minute = minute;
		vs->used = 0;
	}
	vs->used++;
	c->used_weight = vs->used;
	if (now < vs->ban_until) {
		c->retry_after_s = secs_until(vs->ban_until, now);
		c->ban_until = vs->ban_until + vs->skew_ms;
		return SIM_EX_BANNED;
	}
	if (now < vs->limited_until) {
		vs->ban_until = now + 1000LL * (vs->ban_s > 0 ? vs->ban_s : BAN_DEFAULT_S);
		vs->limited_until = 0;
		c->retry_after_s = secs_until(vs->ban_until, now);
		c->ban_until = vs->ban_until + vs->skew_ms;
		q_log_info("sim.exchange.ban", "venue=%s until=%lld reason=ignored_retry_after",
		           c->venue->name, vs->ban_until);
		return SIM_EX_BANNED;
	}
	if (vs->per_minute > 0 && vs->used > vs->per_minute) {
		vs->limited_until = (minute + 1) * 60000 - vs->skew_ms;
		c->retry_after_s = secs_until(vs->limited_until, now);
		return SIM_EX_RATE_LIMITED;
	}
	if (!fault_take(c->venue->name, c->route->op, f))
		return SIM_EX_OK;
	if (f->kind == F_RATE_LIMIT) {
		c->retry_after_s = f->retry_after_s > 0 ? f->retry_after_s : RETRY_DEFAULT_S;
		vs->limited_until = now + 1000LL * c->retry_after_s;
		vs->ban_s = f->ban_s;
		return SIM_EX_RATE_LIMITED;
	}
	if (f->kind == F_BAN) {
		vs->ban_until = now + 1000LL * (f->ban_s > 0 ? f->ban_s : BAN_DEFAULT_S);
		c->retry_after_s = secs_until(vs->ban_until, now);
		c->ban_until = vs->ban_until + vs->skew_ms;
		return SIM_EX_BANNED;
	}
	return SIM_EX_OK;
}

static const struct sim_ex_route *
route_find(const struct sim_venue *v, const char *method, const char *path)
{
	for (const struct sim_ex_route *r = v->routes; r->method; r++)
		if (strcmp(r->method, method) == 0 && strcmp(r->path, path) == 0)
			return r;
	return NULL;
}

static void
free_json(void *j)
{
	json_decref(j);
}

static int
read_params(struct sim_ex_call *c)
{
	struct sim_req *req = c->req;
	struct sim_param *qp = NULL, *bp = NULL;
	int nq = sim_form_parse(req->arena, req->query, strlen(req->query), &qp), nb = 0;

	if (nq < 0)
		return -1;
	if (req->body_len > 0 && sim_req_is(req, "application/x-www-form-urlencoded")) {
		nb = sim_form_parse(req->arena, req->body, req->body_len, &bp);
		if (nb < 0)
			return -1;
	} else if (req->body_len > 0) {
		c->body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(c->body))
			return -1;
		q_arena_cleanup_add(req->arena, free_json, c->body);
	}
	c->params = q_arena_alloc(req->arena, (size_t)(nq + nb + 1) * sizeof(*c->params));
	if (nq)
		memcpy(c->params, qp, (size_t)nq * sizeof(*qp));
	if (nb)
		memcpy(c->params + nq, bp, (size_t)nb * sizeof(*bp));
	c->nparams = nq + nb;
	return 0;
}

/* The answer as a fault spoils it: cut in the middle, so no JSON parser reads it. */
static void
spoil(struct sim_resp *resp)
{
	size_t n = resp->body.len / 2;

	if (n < 2 || resp->body.len == 0) {
		q_buf_reset(&resp->body);
		q_buf_adds(&resp->body, "{\"code\":");
		return;
	}
	q_buf_truncate(&resp->body, n);
}

static int
venue_handle(const struct sim_venue *v, struct sim_req *req, struct sim_resp *resp,
             struct q_err *err)
{
	struct sim_ex_call c = {.req = req, .resp = resp, .venue = v};
	struct venue_state *vs = &ex.vs[venue_index(v)];
	char path[256];
	struct fault f;
	enum sim_ex_err e;
	int locked = 0;

	(void)err;
	snprintf(path, sizeof(path), "/%s", req->sub);
	pthread_mutex_lock(&ex.lock);
	c.now_ms = sim_clock_ms() + vs->skew_ms;
	pthread_mutex_unlock(&ex.lock);
	c.route = route_find(v, req->method, path);
	if (c.route == NULL) {
		render(&c, SIM_EX_NOT_FOUND, path);
		return 0;
	}
	if (read_params(&c) < 0) {
		render(&c, SIM_EX_BAD_PARAM, "malformed parameters or body");
		return 0;
	}
	pthread_mutex_lock(&ex.lock);
	locked = 1;
	e = admit(&c, &f);
	if (e != SIM_EX_OK) {
		render(&c, e, NULL);
		goto out;
	}
	if (f.kind == F_5XX) {
		render(&c, SIM_EX_INTERNAL, NULL);
		if (f.status >= 500 && f.status <= 599)
			resp->status = f.status;
		goto out;
	}
	if (f.kind == F_TIMEOUT) {
		resp->status = 504;
		resp->drop = 1;
		resp->delay_ms = f.delay_ms;
		goto out;
	}
	if (!c.route->sign) {
		/* Market data needs no lock: the market model has its own. */
		pthread_mutex_unlock(&ex.lock);
		locked = 0;
	} else {
		e = v->auth(&c);
		if (e != SIM_EX_OK) {
			render(&c, e, NULL);
			goto out;
		}
		sweep(c.acct, c.now_ms);
	}
	c.route->fn(&c);
	if (f.kind == F_TIMEOUT_AFTER_ACCEPT) {
		resp->drop = 1;
		resp->delay_ms = f.delay_ms;
		q_log_info("sim.exchange.fault", "venue=%s op=%s fault=timeout_after_accept",
		           v->name, c.route->op);
	} else if (f.kind == F_MALFORMED) {
		spoil(resp);
	}
out:
	if (v->usage && !resp->drop)
		v->usage(&c);
	if (locked)
		pthread_mutex_unlock(&ex.lock);
	return 0;
}

#define VENUE_MODULE(var, venue)                                                                   \
	static int var##_handle(struct sim_req *req, struct sim_resp *resp, struct q_err *err)     \
	{                                                                                          \
		return venue_handle(&(venue), req, resp, err);                                     \
	}

VENUE_MODULE(binance, sim_venue_binance)
VENUE_MODULE(okx, sim_venue_okx)
VENUE_MODULE(bybit, sim_venue_bybit)
VENUE_MODULE(bitget, sim_venue_bitget)

const struct sim_module sim_ex_binance = {
        .name = "binance", .prefix = "/binance/", .handle = binance_handle};
const struct sim_module sim_ex_okx = {.name = "okx", .prefix = "/okx/", .handle = okx_handle};
const struct sim_module sim_ex_bybit = {
        .name = "bybit", .prefix = "/bybit/", .handle = bybit_handle};
const struct sim_module sim_ex_bitget = {
        .name = "bitget", .prefix = "/bitget/", .handle = bitget_handle};

/* --- accounts ------------------------------------------------------------------------------ */

static unsigned
perms_of(json_t *list)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
	        {"read", SIM_PERM_READ},         {"spot_trade", SIM_PERM_TRADE},
	        {"withdraw", SIM_PERM_WITHDRAW}, {"transfer", SIM_PERM_TRANSFER},
	        {"ip_restricted", SIM_PERM_IP},
	};
	unsigned p = 0;
	json_t *v;
	size_t i;

	json_array_foreach(list, i, v)
	{
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (json_is_string(v) && strcmp(json_string_value(v), names[k].name) == 0)
				p |= names[k].bit;
	}
	return p;
}

/* Every account starts with 100,000 USDT and about 10,000 USDT worth of each base asset. */
static void
fund(struct sim_account *a, int64_t now)
{
	const struct sim_symbol *s;

	a->nbal = 0;
	sim_ex_balance(a, "USDT")->free = q_dec_from_int(100000);
	for (size_t i = 0; (s = sim_market_symbol_at(i)) != NULL; i++) {
		struct q_dec px, q;

		if (sim_market_price(&px, s->symbol, now, NULL) < 0 ||
		    q_dec_div(&q, q_dec_from_int(10000), px, Q_DEC_DOWN, NULL) < 0 ||
		    q_dec_quantize(&q, q, s->lot, Q_DEC_DOWN, NULL) < 0)
			continue;
		sim_ex_balance(a, s->base)->free = q;
	}
}

static int
load_accounts(const json_t *list, struct q_err *err)
{
	const json_t *j;
	size_t i;

	ex.accts = q_calloc(json_array_size(list) + 1, sizeof(*ex.accts));
	json_array_foreach(list, i, j)
	{
		struct sim_account *a = &ex.accts[ex.naccts];
		const char *venue = json_string_value(json_object_get(j, "exchange"));
		const char *key = json_string_value(json_object_get(j, "api_key"));
		const char *secret = json_string_value(json_object_get(j, "api_secret"));
		const char *pass = json_string_value(json_object_get(j, "passphrase"));
		const char *name = json_string_value(json_object_get(j, "name"));

		if (venue == NULL || venue_by_name(venue) == NULL || key == NULL ||
		    secret == NULL || strlen(key) >= sizeof(a->api_key) ||
		    strlen(secret) >= sizeof(a->secret) ||
		    (pass && strlen(pass) >= sizeof(a->passphrase)))
			return q_err_set(
			        err, Q_E_CONFIG,
			        "account %zu: needs a known \"exchange\", an \"api_key\" and "
			        "an \"api_secret\" of sensible length",
			        i);
		snprintf(a->venue, sizeof(a->venue), "%s", venue);
		snprintf(a->name, sizeof(a->name), "%s", name ? name : "account");
		snprintf(a->api_key, sizeof(a->api_key), "%s", key);
		a->secret_len = strlen(secret);
		memcpy(a->secret, secret, a->secret_len);
		snprintf(a->passphrase, sizeof(a->passphrase), "%s", pass ? pass : "");
		a->perms = a->perms_at_start = perms_of(json_object_get(j, "permissions"));
		fund(a, sim_clock_ms());
		ex.naccts++;
	}
	return 0;
}

static int
ex_init(const struct sim_env *env, struct q_err *err)
{
	long long seed;

	if (q_config_get_int(env->cfg, "sim", "seed", 42, 0, 0x7fffffffffffffffLL, &seed, err) <
	            0 ||
	    sim_market_init((uint64_t)seed, err) < 0)
		return -1;
	ex.next_order_id = 1000001;
	return load_accounts(env->accounts, err);
}

static void
clear_orders(void)
{
	for (size_t i = 0; i < ex.norders; i++)
		free(ex.orders[i]);
	ex.norders = 0;
}

static void
ex_release(void)
{
	pthread_mutex_lock(&ex.lock);
	clear_orders();
	free(ex.orders);
	ex.orders = NULL;
	ex.cap = 0;
	for (size_t i = 0; i < ex.naccts; i++)
		sodium_memzero(ex.accts[i].secret, sizeof(ex.accts[i].secret));
	free(ex.accts);
	ex.accts = NULL;
	ex.naccts = 0;
	pthread_mutex_unlock(&ex.lock);
	sim_market_release();
}

/* --- control endpoints --------------------------------------------------------------------- */

static json_t *
order_json(const struct sim_order *o)
{
	char q[Q_DEC_STR_MAX], qq[Q_DEC_STR_MAX], p[Q_DEC_STR_MAX], e[Q_DEC_STR_MAX],
	        cq[Q_DEC_STR_MAX], f[Q_DEC_STR_MAX];

	q_dec_format(q, o->qty);
	q_dec_format(qq, o->quote_qty);
	q_dec_format(p, o->price);
	q_dec_format(e, o->executed);
	q_dec_format(cq, o->cum_quote);
	q_dec_format(f, o->fee);
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
	                 "s:s, s:s, s:I, s:I}",
	                 "seq", (json_int_t)o->seq, "venue", o->venue, "account", o->acct->name,
	                 "order_id", o->order_id, "client_id", o->client_id, "symbol", o->symbol,
	                 "side", o->side == SIM_BUY ? "BUY" : "SELL", "type",
	                 o->type == SIM_LIMIT ? "LIMIT" : "MARKET", "qty", q, "quote_qty", qq,
	                 "price", p, "executed_qty", e, "cum_quote", cq, "fee", f, "fee_asset",
	                 o->fee_asset, "status", sim_ex_status_name(o->status), "created_ms",
	                 (json_int_t)o->created_ms, "updated_ms", (json_int_t)o->updated_ms);
}

int
sim_ex_orders(struct sim_req *req, struct sim_resp *resp, struct q_err *err)
{
	struct sim_param *qp = NULL;
	int nq = sim_form_parse(req->arena, req->query, strlen(req->query), &qp);
	const char *venue = nq > 0 ? sim_param_get(qp, nq, "venue") : NULL;
	const char *cid = nq > 0 ? sim_param_get(qp, nq, "client_id") : NULL;
	json_t *a = json_array();

	pthread_mutex_lock(&ex.lock);
	for (size_t i = 0; i < ex.norders; i++) {
		const struct sim_order *o = ex.orders[i];

		if ((venue && strcmp(o->venue, venue) != 0) ||
		    (cid && strcmp(o->client_id, cid) != 0))
			continue;
		json_array_append_new(a, order_json(o));
	}
	pthread_mutex_unlock(&ex.lock);
	return sim_reply_json(resp, 200, json_pack("{s:o}", "orders", a), err);
}

static json_t *
faults_json(void)
{
	json_t *a = json_array();

	for (int i = 0; i < ex.nfaults; i++) {
		const struct fault *f = &ex.faults[i];
		const char *name = "";

		for (size_t k = 0; k < sizeof(fault_names) / sizeof(fault_names[0]); k++)
			if (fault_names[k].kind == f->kind)
				name = fault_names[k].name;
		json_array_append_new(
		        a, json_pack("{s:s, s:s, s:s, s:I, s:i, s:i, s:i, s:I}", "venue", f->venue,
		                     "op", f->op, "fault", name, "count", (json_int_t)f->count,
		                     "status", f->status, "retry_after", f->retry_after_s, "ban_s",
		                     f->ban_s, "delay_ms", (json_int_t)f->delay_ms));
	}
	return a;
}

static json_t *
body_json(struct sim_req *req, struct sim_resp *resp)
{
	json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);

	if (!json_is_object(j)) {
		json_decref(j);
		sim_reply_error(resp, 400, "BAD_REQUEST", "the body must be a JSON object");
		return NULL;
	}
	return j;
}

/* "*" or a venue name into out; 0, or -1 after a 400. */
static int
venue_arg(char out[12], json_t *j, struct sim_resp *resp)
{
	const char *v = json_string_value(json_object_get(j, "venue"));

	if (v == NULL || strcmp(v, "*") == 0) {
		snprintf(out, 12, "*");
		return 0;
	}
	if (venue_by_name(v) == NULL) {
		sim_reply_error(resp, 400, "BAD_REQUEST",
		                "venue must be binance, okx, bybit, bitget or *");
		return -1;
	}
	snprintf(out, 12, "%s", v);
	return 0;
}

/*
 * POST /_sim/exchange/faults {"fault":"rate_limit|ban|5xx|timeout|timeout_after_accept|
 * malformed","venue":"binance|..|*","op":"place|..|*","count":N,"retry_after":S,"ban_s":S,
 * "status":5xx,"delay_ms":MS}; GET lists them; DELETE clears them and every ban and wait.
 */
static int
ctl_faults(struct sim_req *req, struct sim_resp *resp, struct q_err *err)
{
	struct fault f = {0};
	const char *kind, *op;
	json_t *j;

	if (strcmp(req->method, "GET") == 0) {
		json_t *a;

		pthread_mutex_lock(&ex.lock);
		a = faults_json();
		pthread_mutex_unlock(&ex.lock);
		return sim_reply_json(resp, 200, json_pack("{s:o}", "faults", a), err);
	}
	if (strcmp(req->method, "DELETE") == 0) {
		pthread_mutex_lock(&ex.lock);
		ex.nfaults = 0;
		for (size_t i = 0; i < NVENUES; i++) {
			ex.vs[i].ban_until = ex.vs[i].limited_until = 0;
			ex.vs[i].per_minute = 0;
		}
		pthread_mutex_unlock(&ex.lock);
		return sim_reply_json(resp, 200, json_pack("{s:b}", "ok", 1), err);
	}
	if (strcmp(req->method, "POST") != 0) {
		sim_reply_not_allowed(resp, "GET, POST, DELETE");
		return 0;
	}
	if ((j = body_json(req, resp)) == NULL)
		return 0;
	kind = json_string_value(json_object_get(j, "fault"));
	op = json_string_value(json_object_get(j, "op"));
	for (size_t k = 0; kind && k < sizeof(fault_names) / sizeof(fault_names[0]); k++)
		if (strcmp(kind, fault_names[k].name) == 0)
			f.kind = fault_names[k].kind;
	if (f.kind == 0 || venue_arg(f.venue, j, resp) < 0) {
		if (f.kind == 0)
			sim_reply_error(resp, 400, "BAD_REQUEST",
			                "fault must be rate_limit, ban, 5xx, timeout, "
			                "timeout_after_accept or malformed");
		json_decref(j);
		return 0;
	}
	snprintf(f.op, sizeof(f.op), "%s", op ? op : "*");
	f.count = json_integer_value(json_object_get(j, "count"));
	f.count = f.count > 0 ? f.count : 1;
	f.status = (int)json_integer_value(json_object_get(j, "status"));
	f.retry_after_s = (int)json_integer_value(json_object_get(j, "retry_after"));
	f.ban_s = (int)json_integer_value(json_object_get(j, "ban_s"));
	f.delay_ms = (long)json_integer_value(json_object_get(j, "delay_ms"));
	json_decref(j);
	pthread_mutex_lock(&ex.lock);
	if (ex.nfaults == MAX_FAULTS) {
		pthread_mutex_unlock(&ex.lock);
		sim_reply_error(resp, 409, "CONFLICT", "%d faults are pending already", MAX_FAULTS);
		return 0;
	}
	ex.faults[ex.nfaults++] = f;
	pthread_mutex_unlock(&ex.lock);
	return sim_reply_json(resp, 200, json_pack("{s:b}", "ok", 1), err);
}

/*
 * POST /_sim/exchange/clock {"venue":"..|*","skew_ms":N}: the venue's clock runs N ms ahead of
 * the simulator's (negative: behind). {"venue","per_minute":N}: answer 429 past N requests a
 * minute (0: no limit).
 */
static int
ctl_clock(struct sim_req *req, struct sim_resp *resp, struct q_err *err)
{
	json_t *j, *skew, *pm;
	char venue[12];

	if (strcmp(req->method, "POST") != 0) {
		sim_reply_not_allowed(resp, "POST");
		return 0;
	}
	if ((j = body_json(req, resp)) == NULL)
		return 0;
	if (venue_arg(venue, j, resp) < 0) {
		json_decref(j);
		return 0;
	}
	skew = json_object_get(j, "skew_ms");
	pm = json_object_get(j, "per_minute");
	pthread_mutex_lock(&ex.lock);
	for (size_t i = 0; i < NVENUES; i++) {
		if (strcmp(venue, "*") != 0 && strcmp(venue, venues[i]->name) != 0)
			continue;
		if (json_is_integer(skew))
			ex.vs[i].skew_ms = json_integer_value(skew);
		if (json_is_integer(pm))
			ex.vs[i].per_minute = json_integer_value(pm);
	}
	pthread_mutex_unlock(&ex.lock);
	json_decref(j);
	return sim_reply_json(resp, 200, json_pack("{s:b}", "ok", 1), err);
}

/* GET /_sim/exchange/accounts: every account's venue, name, permissions and balances. */
static int
ctl_accounts(struct sim_req *req, struct sim_resp *resp, struct q_err *err)
{
	json_t *a = json_array();

	(void)req;
	pthread_mutex_lock(&ex.lock);
	for (size_t i = 0; i < ex.naccts; i++) {
		const struct sim_account *acct = &ex.accts[i];
		json_t *bal = json_object();

		for (int k = 0; k < acct->nbal; k++) {
			char f[Q_DEC_STR_MAX], l[Q_DEC_STR_MAX];

			q_dec_format(f, acct->bal[k].free);
			q_dec_format(l, acct->bal[k].locked);
			json_object_set_new(bal, acct->bal[k].asset,
			                    json_pack("{s:s, s:s}", "free", f, "locked", l));
		}
		json_array_append_new(a, json_pack("{s:s, s:s, s:i, s:o}", "venue", acct->venue,
		                                   "name", acct->name, "perms", (int)acct->perms,
		                                   "balances", bal));
	}
	pthread_mutex_unlock(&ex.lock);
	return sim_reply_json(resp, 200, json_pack("{s:o}", "accounts", a), err);
}

/* POST /_sim/exchange/balance {"venue","name","asset","free"}: set a free balance. */
static int
ctl_balance(struct sim_req *req, struct sim_resp *resp, struct q_err *err)
{
	const char *venue, *name, *asset, *free_s;
	struct q_dec v;
	json_t *j;
	int found = 0;

	if (strcmp(req->method, "POST") != 0) {
		sim_reply_not_allowed(resp, "POST");
		return 0;
	}
	if ((j = body_json(req, resp)) == NULL)
		return 0;
	venue = json_string_value(json_object_get(j, "venue"));
	name = json_string_value(json_object_get(j, "name"));
	asset = json_string_value(json_object_get(j, "asset"));
	free_s = json_string_value(json_object_get(j, "free"));
	if (!venue || !name || !asset || strlen(asset) >= sizeof(ex.accts[0].bal[0].asset) ||
	    sim_ex_parse_dec(free_s, &v) < 0 || q_dec_sign(v) < 0) {
		json_decref(j);
		sim_reply_error(resp, 400, "BAD_REQUEST",
		                "needs venue, name, asset and free (a decimal string >= 0)");
		return 0;
	}
	pthread_mutex_lock(&ex.lock);
	for (size_t i = 0; i < ex.naccts; i++)
		if (strcmp(ex.accts[i].venue, venue) == 0 && strcmp(ex.accts[i].name, name) == 0) {
			sim_ex_balance(&ex.accts[i], asset)->free = v;
			found = 1;
		}
	pthread_mutex_unlock(&ex.lock);
	json_decref(j);
	if (!found) {
		sim_reply_error(resp, 404, "NOT_FOUND", "no such account");
		return 0;
	}
	return sim_reply_json(resp, 200, json_pack("{s:b}", "ok", 1), err);
}

/*
 * POST /_sim/exchange/permissions {"venue","name","permissions":[...]}: change what a key may do
 * (a user enabling withdrawals on a key Quantor already holds).
 */
static int
ctl_permissions(struct sim_req *req, struct sim_resp *resp, struct q_err *err)
{
	const char *venue, *name;
	json_t *j, *perms;
	int found = 0;

	if (strcmp(req->method, "POST") != 0) {
		sim_reply_not_allowed(resp, "POST");
		return 0;
	}
	if ((j = body_json(req, resp)) == NULL)
		return 0;
	venue = json_string_value(json_object_get(j, "venue"));
	name = json_string_value(json_object_get(j, "name"));
	perms = json_object_get(j, "permissions");
	if (!venue || !name || !json_is_array(perms)) {
		json_decref(j);
		sim_reply_error(resp, 400, "BAD_REQUEST", "needs venue, name and permissions");
		return 0;
	}
	pthread_mutex_lock(&ex.lock);
	for (size_t i = 0; i < ex.naccts; i++)
		if (strcmp(ex.accts[i].venue, venue) == 0 && strcmp(ex.accts[i].name, name) == 0) {
			ex.accts[i].perms = perms_of(perms);
			found = 1;
		}
	pthread_mutex_unlock(&ex.lock);
	json_decref(j);
	if (!found) {
		sim_reply_error(resp, 404, "NOT_FOUND", "no such account");
		return 0;
	}
	return sim_reply_json(resp, 200, json_pack("{s:b}", "ok", 1), err);
}

/* POST /_sim/exchange/reset: no orders, no faults, no bans, no skew, balances as at start. */
static int
ctl_reset(struct sim_req *req, struct sim_resp *resp, struct q_err *err)
{
	if (strcmp(req->method, "POST") != 0) {
		sim_reply_not_allowed(resp, "POST");
		return 0;
	}
	pthread_mutex_lock(&ex.lock);
	clear_orders();
	ex.nfaults = 0;
	memset(ex.vs, 0, sizeof(ex.vs));
	for (size_t i = 0; i < ex.naccts; i++) {
		ex.accts[i].perms = ex.accts[i].perms_at_start;
		fund(&ex.accts[i], sim_clock_ms());
	}
	pthread_mutex_unlock(&ex.lock);
	return sim_reply_json(resp, 200, json_pack("{s:b}", "ok", 1), err);
}

/* GET /_sim/exchange/market?symbol=S[&t=MS]: price and phase at t (default now). */
static int
ctl_market(struct sim_req *req, struct sim_resp *resp, struct q_err *err)
{
	struct sim_param *qp = NULL;
	int nq = sim_form_parse(req->arena, req->query, strlen(req->query), &qp);
	const char *sym = nq > 0 ? sim_param_get(qp, nq, "symbol") : NULL;
	const char *t = nq > 0 ? sim_param_get(qp, nq, "t") : NULL;
	int64_t ms = t ? strtoll(t, NULL, 10) : sim_clock_ms();
	struct q_dec px;
	char p[Q_DEC_STR_MAX];
	struct q_err e = {0};

	if (sym == NULL || sim_market_price(&px, sym, ms, &e) < 0) {
		sim_reply_error(resp, sym ? 404 : 400, sym ? "NOT_FOUND" : "BAD_REQUEST", "%s",
		                sym ? e.msg : "symbol is required");
		return 0;
	}
	q_dec_format(p, px);
	return sim_reply_json(resp, 200,
	                      json_pack("{s:s, s:s, s:I, s:s}", "symbol", sym, "price", p, "t",
	                                (json_int_t)ms, "phase",
	                                sim_market_phase_name(sim_market_phase(sym, ms))),
	                      err);
}

static int
ex_control(struct sim_req *req, struct sim_resp *resp, struct q_err *err)
{
	static const struct {
		const char *name;
		int (*fn)(struct sim_req *, struct sim_resp *, struct q_err *);
	} eps[] = {
	        {"faults", ctl_faults},           {"clock", ctl_clock}, {"accounts", ctl_accounts},
	        {"balance", ctl_balance},         {"reset", ctl_reset}, {"market", ctl_market},
	        {"permissions", ctl_permissions},
	};

	for (size_t i = 0; i < sizeof(eps) / sizeof(eps[0]); i++)
		if (strcmp(req->sub, eps[i].name) == 0)
			return eps[i].fn(req, resp, err);
	sim_reply_error(resp, 404, "NOT_FOUND", "no exchange control endpoint %s", req->path);
	return 0;
}

const struct sim_module sim_ex_control = {
        .name = "exchange",
        .prefix = NULL,
        .init = ex_init,
        .control = ex_control,
        .release = ex_release,
};
