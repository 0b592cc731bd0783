#include "q_exchange.h"
#include "exchange/venue.h"
#include "q_crypto.h"
#include "q_mem.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const struct q_exchange_ops *const venues[] = {
        &q_exchange_binance,
        &q_exchange_okx,
        &q_exchange_bybit,
        &q_exchange_bitget,
};

const struct q_exchange_ops *
q_exchange_lookup(const char *name)
{
	for (size_t i = 0; name && i < sizeof(venues) / sizeof(venues[0]); i++)
		if (strcmp(venues[i]->name, name) == 0)
			return venues[i];
	return NULL;
}

const struct q_exchange_ops *
q_exchange_venue(size_t i)
{
	return i < sizeof(venues) / sizeof(venues[0]) ? venues[i] : NULL;
}

/* -------- requests -------- */

void
q_exchange_request_init(struct q_exchange_request *rq)
{
	memset(rq, 0, sizeof(*rq));
	q_buf_init(&rq->query);
	q_buf_init(&rq->body);
	q_buf_init(&rq->prehash);
}

void
q_exchange_request_release(struct q_exchange_request *rq)
{
	/* The query carries Binance's signature, the prehash Bybit's API key. */
	q_buf_release_secret(&rq->query);
	q_buf_release(&rq->body);
	q_buf_release_secret(&rq->prehash);
	for (int i = 0; i < rq->nheaders; i++) {
		q_wipe(rq->headers[i], strlen(rq->headers[i]));
		free(rq->headers[i]);
	}
	q_exchange_request_init(rq);
}

void
q_exchange_request_header(struct q_exchange_request *rq, const char *fmt, ...)
{
	struct q_buf b = Q_BUF_INIT;
	va_list ap;

	if (rq->nheaders >= Q_EX_MAX_HEADERS)
		q_die("q_exchange_request_header: more than %d headers", Q_EX_MAX_HEADERS);
	va_start(ap, fmt);
	q_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	rq->headers[rq->nheaders++] = q_buf_detach(&b, NULL);
	rq->headers[rq->nheaders] = NULL;
}

const char *
q_exchange_request_get_header(const struct q_exchange_request *rq, const char *name)
{
	size_t n = strlen(name);

	for (int i = 0; i < rq->nheaders; i++) {
		const char *h = rq->headers[i];

		if (strncasecmp(h, name, n) == 0 && h[n] == ':')
			return h + n + 1 + strspn(h + n + 1, " ");
	}
	return NULL;
}

static int
build_with(struct q_exchange_request *rq, const struct q_exchange_ops *ops,
           const struct q_exchange_opdef *d, const struct q_exchange_args *args,
           const struct q_exchange_creds *c, long long ts_ms, long recv_window_ms,
           struct q_err *err)
{
	rq->flags = d->flags;
	if (d->build(rq, args, err) < 0)
		return -1;
	if (!(d->flags & Q_EX_SIGNED))
		return 0;
	if (c == NULL || c->api_key == NULL || c->api_key[0] == '\0' || c->secret_len == 0)
		return q_err_set(err, Q_E_EX_AUTH, "%s %s: no API key set", ops->name, d->name);
	if (ops->needs_passphrase && (c->passphrase == NULL || c->passphrase[0] == '\0'))
		return q_err_set(err, Q_E_EX_AUTH, "%s %s: no API passphrase set", ops->name,
		                 d->name);
	return ops->sign(rq, c, ts_ms, recv_window_ms, err);
}

int
q_exchange_build(struct q_exchange_request *rq, const struct q_exchange_ops *ops,
                 enum q_exchange_op op, const struct q_exchange_args *args,
                 const struct q_exchange_creds *c, long long ts_ms, long recv_window_ms,
                 struct q_err *err)
{
	if ((unsigned)op >= Q_EX_OP__COUNT)
		return q_err_set(err, Q_E_BAD_REQUEST, "unknown exchange operation %d", (int)op);
	if (ops->op[op].build == NULL)
		return q_err_set(err, Q_E_BAD_REQUEST, "%s %s is not a single request", ops->name,
		                 ops->op[op].name);
	return build_with(rq, ops, &ops->op[op], args, c, ts_ms, recv_window_ms, err);
}

/* -------- responses and errors -------- */

enum q_code
q_exchange_map_error(const struct q_exchange_ops *ops, const char *code, const char *msg)
{
	for (const struct q_exchange_errmap *m = ops->errors; m && m->code; m++)
		if (strcmp(m->code, code) == 0 && (m->msg == NULL || strstr(msg, m->msg)))
			return m->q;
	return Q_OK;
}

const struct q_exchange_interval *
q_exchange_interval(const struct q_exchange_ops *ops, const char *name)
{
	for (const struct q_exchange_interval *i = ops->intervals; i && i->name; i++)
		if (strcmp(i->name, name) == 0)
			return i;
	return NULL;
}

/* Whole seconds of a Retry-After header; 0 when absent or not a plain number (an HTTP date). */
static int
retry_after(const struct q_http_resp *resp)
{
	char v[16];
	long n;
	char *end;

	if (q_http_resp_header(resp, "Retry-After", v, sizeof(v)) == NULL || v[0] < '0' ||
	    v[0] > '9')
		return 0;
	n = strtol(v, &end, 10);
	return *end == '\0' && n > 0 && n < 10000000 ? (int)n : 0;
}

/* Binance: "Way too much request weight used; IP banned until 1580000000000." */
static long long
banned_until(const char *msg)
{
	const char *p = strstr(msg, "until ");
	long long v = 0;
	int n = 0;

	if (p == NULL)
		return 0;
	for (p += 6; *p >= '0' && *p <= '9' && n < 16; p++, n++)
		v = v * 10 + (*p - '0');
	return n >= 10 ? v : 0;
}

static const char *
code_sep(const struct q_exchange_venue_err *ve)
{
	return ve->code[0] ? " " : "";
}

int
q_exchange_parse(struct q_exchange_result *res, struct q_exchange_venue_err *ve,
                 const struct q_exchange_ops *ops, const struct q_exchange_opdef *d,
                 const struct q_exchange_args *args, const struct q_http_resp *resp,
                 struct q_arena *a, struct q_err *err)
{
	int mutating = (d->flags & Q_EX_MUTATING) != 0, env = -2;
	long st = resp->status;
	json_t *root, *data = NULL;
	enum q_code code = Q_OK;
	struct q_err e = {0};
	int rc = -1;

	memset(res, 0, sizeof(*res));
	memset(ve, 0, sizeof(*ve));
	ve->http_status = st;
	ve->retry_after_s = retry_after(resp);
	root = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	if (root)
		env = ops->envelope(root, &data, ve);
	if (env == -1)
		code = q_exchange_map_error(ops, ve->code, ve->msg);
	if (st == 418 || (st == 403 && ops->ban_403_s > 0)) {
		code = Q_E_EX_BANNED;
		if (st == 403 && ve->retry_after_s == 0)
			ve->retry_after_s = ops->ban_403_s;
	} else if (st == 429 && code != Q_E_EX_BANNED) {
		code = Q_E_EX_RATE_LIMITED;
	} else if (st >= 500) {
		code = Q_E_EX_UNKNOWN_OUTCOME;
	} else if (env == -1 && code == Q_OK) {
		/* The venue answered with an error code no row maps: a refusal, not an outage. */
		code = st == 401   ? Q_E_EX_AUTH
		       : st >= 200 ? Q_E_BAD_REQUEST
		                   : Q_E_EXCHANGE_UNAVAILABLE;
	} else if (env != -1 && (env == -2 || st < 200 || st >= 300)) {
		/* No venue answer to read: a 2xx that cannot be read may still have acted. A
		 * mapped venue error keeps its code whatever the status (Binance's 400s). */
		code = st == 401               ? Q_E_EX_AUTH
		       : st >= 200 && st < 300 ? Q_E_EX_UNKNOWN_OUTCOME
		                               : Q_E_EXCHANGE_UNAVAILABLE;
	}
	/* Only a call that changes orders has an outcome to be unsure of. */
	if (code == Q_E_EX_UNKNOWN_OUTCOME && !mutating)
		code = Q_E_EXCHANGE_UNAVAILABLE;
	if (code == Q_E_EX_BANNED && env == -1)
		ve->until_ms = banned_until(ve->msg);
	if (code != Q_OK) {
		q_err_set(err, code, "%s %s: HTTP %ld%s%s%s%s%s", ops->name, d->name, st,
		          env == -1 ? ", " : "", ve->code, code_sep(ve), ve->msg,
		          code == Q_E_EX_UNKNOWN_OUTCOME ? "; the order may exist: query it" : "");
		goto out;
	}
	if (d->parse(res, args, data, a, &e) < 0) {
		if (e.code == Q_E_EXCHANGE_UNAVAILABLE && mutating)
			q_err_set(err, Q_E_EX_UNKNOWN_OUTCOME,
			          "%s %s: %s; the order may exist: query it", ops->name, d->name,
			          e.msg);
		else
			q_err_set(err, e.code, "%s %s: %s", ops->name, d->name, e.msg);
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* -------- rate limits -------- */

static void
later(long long *at, long long t)
{
	if (t > *at)
		*at = t;
}

static long long
header_ll(const struct q_http_resp *resp, const char *name)
{
	char v[32], *end;
	long long n;

	if (name == NULL || q_http_resp_header(resp, name, v, sizeof(v)) == NULL || v[0] < '0' ||
	    v[0] > '9')
		return -1;
	n = strtoll(v, &end, 10);
	return *end == '\0' ? n : -1;
}

void
q_exchange_limits_init(struct q_exchange_limits *l, long long weight_limit)
{
	memset(l, 0, sizeof(*l));
	l->used_weight = -1;
	l->remaining = -1;
	l->weight_limit = weight_limit;
}

static long long
secs_left(long long until, long long now)
{
	return (until - now + 999) / 1000;
}

int
q_exchange_limits_admit(const struct q_exchange_limits *l, long long now_ms, struct q_err *err)
{
	if (now_ms < l->banned_until_ms)
		return q_err_set(err, Q_E_EX_BANNED,
		                 "banned by the venue for another %lld s: nothing sent",
		                 secs_left(l->banned_until_ms, now_ms));
	if (now_ms < l->not_before_ms)
		return q_err_set(err, Q_E_EX_RATE_LIMITED,
		                 "rate limited for another %lld s: nothing sent",
		                 secs_left(l->not_before_ms, now_ms));
	return 0;
}

void
q_exchange_limits_observe(struct q_exchange_limits *l, const struct q_exchange_ops *ops,
                          const struct q_http_resp *resp, long long now_ms, long long offset_ms)
{
	int ra = retry_after(resp);
	long long v;

	if (resp->status == 429) {
		l->retry_after_s = ra > 0 ? ra : Q_EX_RETRY_DEFAULT_S;
		later(&l->not_before_ms, now_ms + l->retry_after_s * 1000LL);
	} else if (resp->status == 418 || (resp->status == 403 && ops->ban_403_s > 0)) {
		l->retry_after_s = ra > 0                ? ra
		                   : resp->status == 403 ? ops->ban_403_s
		                                         : Q_EX_BAN_DEFAULT_S;
		later(&l->banned_until_ms, now_ms + l->retry_after_s * 1000LL);
	}
	if ((v = header_ll(resp, ops->weight_header)) >= 0) {
		l->used_weight = v;
		/* The weight counts per minute of the venue's clock: wait for the next one. */
		if (l->weight_limit > 0 && v >= l->weight_limit) {
			long long venue_now = now_ms + offset_ms;

			later(&l->not_before_ms, (venue_now / 60000 + 1) * 60000 - offset_ms);
			l->retry_after_s = (int)secs_left(l->not_before_ms, now_ms);
		}
	}
	if ((v = header_ll(resp, ops->remaining_header)) >= 0) {
		long long reset = header_ll(resp, ops->reset_header);

		l->remaining = v;
		if (v == 0 && reset > 0 && reset - offset_ms > now_ms) {
			later(&l->not_before_ms, reset - offset_ms);
			l->retry_after_s = (int)secs_left(l->not_before_ms, now_ms);
		}
	}
}

void
q_exchange_limits_penalize(struct q_exchange_limits *l, enum q_code code,
                           const struct q_exchange_venue_err *ve, long long now_ms,
                           long long offset_ms)
{
	if (code == Q_E_EX_BANNED) {
		long long until =
		        ve->until_ms > 0
		                ? ve->until_ms - offset_ms
		                : now_ms + 1000LL * (ve->retry_after_s > 0 ? ve->retry_after_s
		                                                           : Q_EX_BAN_DEFAULT_S);

		later(&l->banned_until_ms, until);
		l->retry_after_s = (int)secs_left(l->banned_until_ms, now_ms);
	} else if (code == Q_E_EX_RATE_LIMITED) {
		/* A wait the headers already set (Bybit's reset time) is more precise than a guess. */
		if (ve->retry_after_s > 0)
			later(&l->not_before_ms, now_ms + 1000LL * ve->retry_after_s);
		else if (l->not_before_ms <= now_ms)
			later(&l->not_before_ms, now_ms + 1000LL * Q_EX_RETRY_DEFAULT_S);
		l->retry_after_s = (int)secs_left(l->not_before_ms, now_ms);
	}
}

/* -------- client order ids, order and key checks -------- */

#define CID_PREFIX "qt"
#define CID_DIGITS 13 /* 36^13 > 2^63 */

static const char b36[] = "0123456789abcdefghijklmnopqrstuvwxyz";

int
q_exchange_client_order_id(char out[Q_EX_CLIENT_ID_LEN + 1], long long bot_id, long long seq)
{
	unsigned long long v[2] = {(unsigned long long)bot_id, (unsigned long long)seq};

	out[0] = '\0';
	if (bot_id < 0 || seq < 0)
		return -1;
	memcpy(out, CID_PREFIX, 2);
	for (int k = 0; k < 2; k++)
		for (int i = CID_DIGITS - 1; i >= 0; i--) {
			out[2 + k * CID_DIGITS + i] = b36[v[k] % 36];
			v[k] /= 36;
		}
	out[2 + 2 * CID_DIGITS] = '\0';
	return 0;
}

int
q_exchange_client_order_id_parse(long long *bot_id, long long *seq, const char *id)
{
	unsigned long long v[2] = {0, 0};

	if (strlen(id) != 2 + 2 * CID_DIGITS || memcmp(id, CID_PREFIX, 2) != 0)
		return -1;
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < CID_DIGITS; i++) {
			const char *p = strchr(b36, id[2 + k * CID_DIGITS + i]);

			if (p == NULL || *p == '\0' || v[k] > (unsigned long long)LLONG_MAX / 36)
				return -1;
			v[k] = v[k] * 36 + (unsigned long long)(p - b36);
			if (v[k] > (unsigned long long)LLONG_MAX)
				return -1;
		}
	*bot_id = (long long)v[0];
	*seq = (long long)v[1];
	return 0;
}

int
q_exchange_client_id_valid_on(const struct q_exchange_ops *ops, const char *id)
{
	size_t n = id ? strspn(id, ops->client_id_chars) : 0;

	return n >= 1 && n <= (size_t)ops->client_id_max && id[n] == '\0';
}

int
q_exchange_client_id_valid(const char *id)
{
	size_t nv = sizeof(venues) / sizeof(venues[0]);

	for (size_t i = 0; i < nv; i++)
		if (!q_exchange_client_id_valid_on(venues[i], id))
			return 0;
	return id != NULL && strlen(id) <= Q_EX_CLIENT_ID_LEN;
}

static int
filter(struct q_err *err, const char *fmt, struct q_dec a, struct q_dec b)
{
	char x[Q_DEC_STR_MAX], y[Q_DEC_STR_MAX];

	q_dec_format(x, a);
	q_dec_format(y, b);
	return q_err_set(err, Q_E_EX_FILTER, fmt, x, y);
}

int
q_exchange_order_check(struct q_exchange_order_req *req, const struct q_exchange_rules *r,
                       struct q_err *err)
{
	struct q_exchange_order_req o = *req;
	struct q_dec notional;

	if ((o.side != Q_EX_BUY && o.side != Q_EX_SELL) ||
	    (o.type != Q_EX_MARKET && o.type != Q_EX_LIMIT) || o.tif < Q_EX_GTC || o.tif > Q_EX_FOK)
		return q_err_set(err, Q_E_BAD_REQUEST,
		                 "order needs a side, a type and a valid time "
		                 "in force");
	if (!q_exchange_client_id_valid(o.client_id))
		return q_err_set_field(err, "client_id", Q_E_BAD_REQUEST,
		                       "client order id must be 1 to %d of A-Z a-z 0-9",
		                       Q_EX_CLIENT_ID_LEN);
	if (q_dec_sign(r->tick) <= 0 || q_dec_sign(r->lot) <= 0)
		return q_err_set(err, Q_E_BAD_REQUEST, "symbol rules lack a tick or lot size");
	if (o.type == Q_EX_LIMIT && q_dec_sign(o.price) <= 0)
		return q_err_set_field(err, "price", Q_E_BAD_REQUEST,
		                       "a LIMIT order needs a price");
	if (q_dec_sign(o.price) < 0)
		return q_err_set_field(err, "price", Q_E_BAD_REQUEST, "price is negative");
	if (!q_dec_is_zero(o.quote_qty)) {
		if (o.type != Q_EX_MARKET || o.side != Q_EX_BUY || q_dec_sign(o.quote_qty) < 0 ||
		    !q_dec_is_zero(o.qty))
			return q_err_set_field(err, "quote_qty", Q_E_BAD_REQUEST,
			                       "a quote amount is for a MARKET BUY without qty");
		if (q_dec_sign(r->quote_step) > 0 &&
		    q_dec_quantize(&o.quote_qty, o.quote_qty, r->quote_step, Q_DEC_DOWN, err) < 0)
			return -1;
		if (q_dec_is_zero(o.quote_qty) || q_dec_cmp(o.quote_qty, r->min_notional) < 0)
			return filter(err, "quote amount %s is below the minimum notional %s",
			              o.quote_qty, r->min_notional);
		*req = o;
		return 0;
	}
	if (q_dec_sign(o.qty) <= 0)
		return q_err_set_field(err, "qty", Q_E_BAD_REQUEST, "quantity must be positive");
	if (q_dec_quantize(&o.qty, o.qty, r->lot, Q_DEC_DOWN, err) < 0)
		return -1;
	if (o.type == Q_EX_LIMIT &&
	    q_dec_quantize(&o.price, o.price, r->tick,
	                   o.side == Q_EX_BUY ? Q_DEC_FLOOR : Q_DEC_CEIL, err) < 0)
		return -1;
	if (q_dec_is_zero(o.qty) || q_dec_cmp(o.qty, r->min_qty) < 0)
		return filter(err, "quantity %s is below the minimum %s", o.qty,
		              q_dec_cmp(r->min_qty, r->lot) > 0 ? r->min_qty : r->lot);
	if (o.type == Q_EX_LIMIT && q_dec_is_zero(o.price))
		return filter(err, "price %s is below the tick %s", req->price, r->tick);
	if (!q_dec_is_zero(r->max_qty) && q_dec_cmp(o.qty, r->max_qty) > 0)
		return filter(err, "quantity %s is above the maximum %s", o.qty, r->max_qty);
	if (!q_dec_is_zero(o.price) && !q_dec_is_zero(r->min_notional)) {
		if (q_dec_mul(&notional, o.qty, o.price, Q_DEC_DOWN, err) < 0)
			return -1;
		if (q_dec_cmp(notional, r->min_notional) < 0)
			return filter(err, "notional %s is below the minimum %s", notional,
			              r->min_notional);
	}
	*req = o;
	return 0;
}

int
q_exchange_perms_check(const struct q_exchange_perms *p, struct q_err *err)
{
	if (p->can_withdraw || p->can_transfer)
		return q_err_set(err, Q_E_KEY_CAN_WITHDRAW,
		                 "this API key can %s: create a key without that permission",
		                 p->can_withdraw ? "withdraw" : "transfer funds");
	if (!p->can_trade)
		return q_err_set(err, Q_E_KEY_CANNOT_TRADE,
		                 "this API key cannot trade spot: enable spot trading for it");
	return 0;
}

const char *
q_exchange_status_name(enum q_exchange_status s)
{
	static const char *const names[] = {
	        [Q_EX_OPEN] = "OPEN",         [Q_EX_PARTIALLY_FILLED] = "PARTIALLY_FILLED",
	        [Q_EX_FILLED] = "FILLED",     [Q_EX_CANCELLED] = "CANCELLED",
	        [Q_EX_REJECTED] = "REJECTED",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) && names[s] ? names[s] : "UNKNOWN";
}

/* -------- the client -------- */

static long long
realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
http_transport(void *ud, struct q_http_resp *resp, const struct q_http_req *req, struct q_err *err)
{
	struct q_exchange *ex = ud;

	if (ex->http == NULL)
		ex->http = q_http_new();
	return q_http_do(ex->http, resp, req, err);
}

static int
set_base_url(struct q_exchange *ex, const char *url, const char *section, struct q_err *err)
{
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
	    n >= sizeof(ex->base_url) || n <= 8 || strcspn(url, " \t\r\n?#") < n)
		return q_err_set(err, Q_E_CONFIG,
		                 "[%s] base_url must be an http:// or https:// URL without query, "
		                 "fragment or blanks, under %zu bytes",
		                 section, sizeof(ex->base_url));
	memcpy(ex->base_url, url, n);
	ex->base_url[n] = '\0';
	return 0;
}

struct q_exchange *
q_exchange_new(const char *name, const struct q_config *cfg, struct q_err *err)
{
	const struct q_exchange_ops *ops = q_exchange_lookup(name);
	struct q_exchange *ex;
	char section[64];
	long long recv = Q_EX_RECV_WINDOW_MS, weight;

	if (ops == NULL) {
		q_err_set(err, Q_E_BAD_REQUEST, "unknown exchange \"%.32s\"", name ? name : "");
		return NULL;
	}
	weight = ops->weight_limit;
	snprintf(section, sizeof(section), "exchange.%s", ops->name);
	ex = q_calloc(1, sizeof(*ex));
	ex->ops = ops;
	q_buf_init(&ex->api_key);
	q_buf_init(&ex->secret);
	q_buf_init(&ex->passphrase);
	if (set_base_url(
	            ex, cfg ? q_config_get(cfg, section, "base_url", ops->base_url) : ops->base_url,
	            section, err) < 0 ||
	    (cfg && (q_config_get_int(cfg, section, "recv_window_ms", Q_EX_RECV_WINDOW_MS, 1, 60000,
	                              &recv, err) < 0 ||
	             q_config_get_int(cfg, section, "weight_limit", ops->weight_limit, 0, 1000000,
	                              &weight, err) < 0))) {
		free(ex);
		return NULL;
	}
	ex->recv_window_ms = (long)recv;
	q_exchange_limits_init(&ex->limits, weight);
	ex->now_ms = realtime_ms;
	ex->transport = http_transport;
	ex->transport_ud = ex;
	return ex;
}

void
q_exchange_free(struct q_exchange *ex)
{
	if (ex == NULL)
		return;
	q_buf_release_secret(&ex->api_key);
	q_buf_release_secret(&ex->secret);
	q_buf_release_secret(&ex->passphrase);
	q_http_free(ex->http);
	free(ex);
}

static int
has_ctl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

int
q_exchange_set_credentials(struct q_exchange *ex, const char *api_key, const char *secret,
                           size_t secret_len, const char *passphrase, struct q_err *err)
{
	int pem = q_venue_is_pem(secret, secret_len);

	if (api_key == NULL || api_key[0] == '\0' || has_ctl(api_key, strlen(api_key)) ||
	    secret == NULL || secret_len == 0 || (!pem && has_ctl(secret, secret_len)))
		return q_err_set(err, Q_E_BAD_REQUEST,
		                 "%s: API key and secret must be non-empty, without control "
		                 "characters",
		                 ex->ops->name);
	if (ex->ops->needs_passphrase && (passphrase == NULL || passphrase[0] == '\0' ||
	                                  has_ctl(passphrase, strlen(passphrase))))
		return q_err_set(err, Q_E_BAD_REQUEST, "%s: the API passphrase is required",
		                 ex->ops->name);
	{
		/* Copy first: the new values may point into the old ones. */
		struct q_buf k = Q_BUF_INIT, s = Q_BUF_INIT, p = Q_BUF_INIT;

		q_buf_adds(&k, api_key);
		q_buf_add(&s, secret, secret_len);
		if (passphrase)
			q_buf_adds(&p, passphrase);
		q_buf_release_secret(&ex->api_key);
		q_buf_release_secret(&ex->secret);
		q_buf_release_secret(&ex->passphrase);
		ex->api_key = k;
		ex->secret = s;
		ex->passphrase = p;
	}
	return 0;
}

long long
q_exchange_now_ms(const struct q_exchange *ex)
{
	return ex->now_ms() + ex->clock_offset_ms;
}

static int
pass(struct q_err *err, const struct q_err *e)
{
	if (err && err->code == Q_OK)
		*err = *e;
	return -1;
}

static int
exec_once(struct q_exchange *ex, const struct q_exchange_opdef *d, const struct q_exchange_args *in,
          struct q_exchange_result *res, struct q_arena *a, struct q_err *err)
{
	const struct q_exchange_creds c = {ex->api_key.data, ex->secret.data, ex->secret.len,
	                                   ex->passphrase.data};
	struct q_exchange_args args = *in;
	struct q_exchange_request rq;
	struct q_http_resp resp;
	struct q_buf url = Q_BUF_INIT;
	struct q_http_req req = {0};
	struct q_err e = {0};
	long long now;
	int rc = -1;

	q_exchange_request_init(&rq);
	q_http_resp_init(&resp);
	memset(&ex->last, 0, sizeof(ex->last));
	args.now_ms = q_exchange_now_ms(ex);
	if (build_with(&rq, ex->ops, d, &args, &c, args.now_ms, ex->recv_window_ms, err) < 0)
		goto out;
	now = ex->now_ms();
	if (q_exchange_limits_admit(&ex->limits, now, err) < 0) {
		ex->last.retry_after_s =
		        (int)secs_left(ex->limits.banned_until_ms > now ? ex->limits.banned_until_ms
		                                                        : ex->limits.not_before_ms,
		                       now);
		goto out;
	}
	q_buf_printf(&url, "%s%s%s%s", ex->base_url, rq.path, rq.query.len ? "?" : "",
	             rq.query.data);
	req.method = rq.method;
	req.url = url.data;
	req.headers = (const char *const *)rq.headers;
	req.body = rq.body.data;
	req.body_len = rq.body.len;
	/* An order must reach the venue at most once, whatever the connection does. */
	req.once = (d->flags & Q_EX_MUTATING) != 0;
	if (ex->transport(ex->transport_ud, &resp, &req, &e) < 0) {
		if (resp.sent && (d->flags & Q_EX_MUTATING))
			q_err_set(err, Q_E_EX_UNKNOWN_OUTCOME,
			          "%s %s: %s; the request was sent, the order may exist: query it",
			          ex->ops->name, d->name, e.msg);
		else
			q_err_set(err, Q_E_EXCHANGE_UNAVAILABLE, "%s %s: %s", ex->ops->name,
			          d->name, e.msg);
		goto out;
	}
	now = ex->now_ms();
	q_exchange_limits_observe(&ex->limits, ex->ops, &resp, now, ex->clock_offset_ms);
	if (q_exchange_parse(res, &ex->last, ex->ops, d, &args, &resp, a, &e) < 0) {
		if (e.code == Q_E_EX_RATE_LIMITED || e.code == Q_E_EX_BANNED) {
			q_exchange_limits_penalize(&ex->limits, e.code, &ex->last, now,
			                           ex->clock_offset_ms);
			ex->last.retry_after_s = ex->limits.retry_after_s;
			q_err_set(err, e.code, "%s; retry after %d s", e.msg,
			          ex->limits.retry_after_s);
		} else {
			pass(err, &e);
		}
		goto out;
	}
	rc = 0;
out:
	q_buf_release_secret(&url);
	q_http_resp_release(&resp);
	q_exchange_request_release(&rq);
	return rc;
}

int
q_exchange_exec(struct q_exchange *ex, const struct q_exchange_opdef *d,
                const struct q_exchange_args *args, struct q_exchange_result *res,
                struct q_arena *a, struct q_err *err)
{
	struct q_err e;

	if (d->run)
		return d->run(ex, args, res, a, err);
	for (int attempt = 0;; attempt++) {
		struct q_err se = {0};

		q_err_clear(&e);
		if (exec_once(ex, d, args, res, a, &e) == 0)
			return 0;
		/* The venue refused the timestamp before acting: resync and try once more. */
		if (e.code != Q_E_EX_CLOCK_SKEW || attempt > 0 || !(d->flags & Q_EX_SIGNED) ||
		    q_exchange_sync_time(ex, &se) < 0)
			break;
	}
	return pass(err, &e);
}

static int
run_op(struct q_exchange *ex, enum q_exchange_op op, const struct q_exchange_args *args,
       struct q_exchange_result *res, struct q_arena *a, struct q_err *err)
{
	return q_exchange_exec(ex, &ex->ops->op[op], args, res, a, err);
}

/* The operations that return arrays put them in the caller's arena. */
static int
need_arena(const struct q_arena *a, struct q_err *err)
{
	return a ? 0 : q_err_set(err, Q_E_INTERNAL, "no arena for the result");
}

int
q_exchange_server_time(struct q_exchange *ex, long long *ms, struct q_err *err)
{
	struct q_exchange_args args = {0};
	struct q_exchange_result res;

	if (run_op(ex, Q_EX_OP_TIME, &args, &res, NULL, err) < 0)
		return -1;
	*ms = res.server_ms;
	return 0;
}

int
q_exchange_sync_time(struct q_exchange *ex, struct q_err *err)
{
	long long t0 = ex->now_ms(), server, t1;

	if (q_exchange_server_time(ex, &server, err) < 0)
		return -1;
	t1 = ex->now_ms();
	ex->clock_offset_ms = server - (t0 + (t1 - t0) / 2);
	ex->clock_synced = 1;
	return 0;
}

int
q_exchange_symbol_rules(struct q_exchange *ex, struct q_exchange_rules *out, const char *symbol,
                        struct q_err *err)
{
	struct q_exchange_args args = {.symbol = symbol};
	struct q_exchange_result res;

	if (run_op(ex, Q_EX_OP_RULES, &args, &res, NULL, err) < 0)
		return -1;
	*out = res.rules;
	return 0;
}

int
q_exchange_klines(struct q_exchange *ex, struct q_arena *a, struct q_exchange_kline **out,
                  size_t *n, const char *symbol, const char *interval, long long end_ms, int limit,
                  struct q_err *err)
{
	struct q_exchange_args args = {
	        .symbol = symbol, .interval = interval, .end_ms = end_ms, .limit = limit};
	struct q_exchange_result res;

	if (need_arena(a, err) < 0 || run_op(ex, Q_EX_OP_KLINES, &args, &res, a, err) < 0)
		return -1;
	*out = res.klines;
	*n = res.nklines;
	return 0;
}

int
q_exchange_balances(struct q_exchange *ex, struct q_arena *a, struct q_exchange_balance **out,
                    size_t *n, struct q_err *err)
{
	struct q_exchange_args args = {0};
	struct q_exchange_result res;

	if (need_arena(a, err) < 0 || run_op(ex, Q_EX_OP_BALANCES, &args, &res, a, err) < 0)
		return -1;
	*out = res.balances;
	*n = res.nbalances;
	return 0;
}

int
q_exchange_key_permissions(struct q_exchange *ex, struct q_exchange_perms *out, struct q_err *err)
{
	struct q_exchange_args args = {0};
	struct q_exchange_result res;

	if (run_op(ex, Q_EX_OP_PERMISSIONS, &args, &res, NULL, err) < 0)
		return -1;
	*out = res.perms;
	return 0;
}

int
q_exchange_place_order(struct q_exchange *ex, struct q_exchange_order *out,
                       const struct q_exchange_order_req *req, struct q_err *err)
{
	struct q_exchange_args args = {.symbol = req->symbol, .order = req};
	struct q_exchange_result res;

	if (run_op(ex, Q_EX_OP_PLACE, &args, &res, NULL, err) < 0)
		return -1;
	*out = res.order;
	return 0;
}

int
q_exchange_query_order(struct q_exchange *ex, struct q_exchange_order *out, const char *symbol,
                       const char *client_id, struct q_err *err)
{
	struct q_exchange_args args = {.symbol = symbol, .client_id = client_id};
	struct q_exchange_result res;

	if (run_op(ex, Q_EX_OP_QUERY, &args, &res, NULL, err) < 0)
		return -1;
	*out = res.order;
	return 0;
}

int
q_exchange_cancel_order(struct q_exchange *ex, struct q_exchange_order *out, const char *symbol,
                        const char *client_id, struct q_err *err)
{
	struct q_exchange_args args = {.symbol = symbol, .client_id = client_id};
	struct q_exchange_result res;

	if (run_op(ex, Q_EX_OP_CANCEL, &args, &res, NULL, err) < 0)
		return -1;
	*out = res.order;
	return 0;
}

int
q_exchange_cancel_all(struct q_exchange *ex, const char *symbol, struct q_err *err)
{
	struct q_exchange_args args = {.symbol = symbol};
	struct q_exchange_result res;
	struct q_arena *a = q_arena_new();
	struct q_err e = {0};
	int rc = run_op(ex, Q_EX_OP_CANCEL_ALL, &args, &res, a, &e);

	q_arena_destroy(a);
	/* Binance answers "Unknown order sent." when nothing is open: nothing to cancel is done. */
	if (rc < 0 && e.code == Q_E_NOT_FOUND)
		return 0;
	return rc < 0 ? pass(err, &e) : 0;
}

int
q_exchange_open_orders(struct q_exchange *ex, struct q_arena *a, struct q_exchange_order **out,
                       size_t *n, const char *symbol, struct q_err *err)
{
	struct q_exchange_args args = {.symbol = symbol};
	struct q_exchange_result res;

	if (need_arena(a, err) < 0 || run_op(ex, Q_EX_OP_OPEN_ORDERS, &args, &res, a, err) < 0)
		return -1;
	*out = res.orders;
	*n = res.norders;
	return 0;
}
