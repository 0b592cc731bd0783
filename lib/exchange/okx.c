/*
 * OKX v5 REST, spot in cash mode (protocols.md section 2). GET parameters are part of the
 * request path that is signed; POST bodies are compact JSON. The signature is base64
 * HMAC-SHA256 of timestamp (ISO 8601, ms) + METHOD + path[?query] + body. Instruments are
 * "BTC-USDT": the canonical "BTCUSDT" is split at a known quote asset.
 */
#include "exchange/venue.h"

#include <stdio.h>
#include <string.h>

static const struct q_exchange_interval intervals[] = {
        /* 6h and longer in their UTC variants: the plain ones start at Hong Kong midnight. */
        {"1m", "1m", 60000LL},
        {"3m", "3m", 180000LL},
        {"5m", "5m", 300000LL},
        {"15m", "15m", 900000LL},
        {"30m", "30m", 1800000LL},
        {"1h", "1H", 3600000LL},
        {"2h", "2H", 7200000LL},
        {"4h", "4H", 14400000LL},
        {"6h", "6Hutc", 21600000LL},
        {"12h", "12Hutc", 43200000LL},
        {"1d", "1Dutc", 86400000LL},
        {"1w", "1Wutc", 604800000LL},
        {NULL, NULL, 0},
};

/*
 * protocols.md 2.5, and beyond it OKX's error table as ccxt's okx exceptions list it: 50001,
 * 50013, 50026 (service unavailable, busy, system error: treated as the 5xx they stand for) and
 * 50004 (endpoint timeout: "does not mean that the request was successful or failed") and
 * 51149 (order request timed out, outcome unknown), 50037 (expTime passed: the request was
 * dropped unread, so a clock skew like 50102: our expTime is ts + recv_window, far inside
 * OKX's 30 s timestamp window), 50103-50107 (missing headers, wrong passphrase),
 * 51119/51127/51131 (balance), 51020/51100/51120/51121/51122 (order size and price rules),
 * 51400-51402 and 51603 (no such open order).
 */
static const struct q_exchange_errmap errors[] = {
        {"50011", NULL, Q_E_EX_RATE_LIMITED},
        {"50102", NULL, Q_E_EX_CLOCK_SKEW},
        {"50112", NULL, Q_E_EX_CLOCK_SKEW},
        {"50037", NULL, Q_E_EX_CLOCK_SKEW},
        {"50004", NULL, Q_E_EX_UNKNOWN_OUTCOME},
        {"50001", NULL, Q_E_EX_UNKNOWN_OUTCOME},
        {"50013", NULL, Q_E_EX_UNKNOWN_OUTCOME},
        {"50026", NULL, Q_E_EX_UNKNOWN_OUTCOME},
        {"51149", NULL, Q_E_EX_UNKNOWN_OUTCOME},
        {"50103", NULL, Q_E_EX_AUTH},
        {"50104", NULL, Q_E_EX_AUTH},
        {"50105", NULL, Q_E_EX_AUTH},
        {"50106", NULL, Q_E_EX_AUTH},
        {"50107", NULL, Q_E_EX_AUTH},
        {"50110", NULL, Q_E_EX_AUTH},
        {"50111", NULL, Q_E_EX_AUTH},
        {"50113", NULL, Q_E_EX_AUTH},
        {"50114", NULL, Q_E_EX_AUTH},
        {"50119", NULL, Q_E_EX_AUTH},
        {"50120", NULL, Q_E_EX_AUTH},
        {"51000", NULL, Q_E_BAD_REQUEST},
        {"51001", NULL, Q_E_BAD_REQUEST},
        {"51008", NULL, Q_E_EX_INSUFFICIENT},
        {"51119", NULL, Q_E_EX_INSUFFICIENT},
        {"51127", NULL, Q_E_EX_INSUFFICIENT},
        {"51131", NULL, Q_E_EX_INSUFFICIENT},
        {"51016", NULL, Q_E_CONFLICT},
        {"51020", NULL, Q_E_EX_FILTER},
        {"51100", NULL, Q_E_EX_FILTER},
        {"51120", NULL, Q_E_EX_FILTER},
        {"51121", NULL, Q_E_EX_FILTER},
        {"51122", NULL, Q_E_EX_FILTER},
        {"51400", NULL, Q_E_NOT_FOUND},
        {"51401", NULL, Q_E_NOT_FOUND},
        {"51402", NULL, Q_E_NOT_FOUND},
        {"51603", NULL, Q_E_NOT_FOUND},
        {NULL, NULL, Q_OK},
};

static const struct q_venue_status statuses[] = {
        {"live", Q_EX_OPEN},
        {"partially_filled", Q_EX_PARTIALLY_FILLED},
        {"filled", Q_EX_FILLED},
        {"canceled", Q_EX_CANCELLED},
        {"mmp_canceled", Q_EX_CANCELLED},
        {NULL, 0},
};

/* Longest first, so USDT wins over USD. */
static const char *const quotes[] = {"USDT", "USDC", "BTC", "ETH", "EUR", "USD", "DAI", "OKB"};

/* "BTCUSDT" -> "BTC-USDT". */
static int
inst_id(char out[Q_EX_SYMBOL_MAX], const char *symbol, struct q_err *err)
{
	size_t n = strlen(symbol);

	for (size_t i = 0; i < sizeof(quotes) / sizeof(quotes[0]); i++) {
		size_t q = strlen(quotes[i]);

		if (n > q && n + 2 <= Q_EX_SYMBOL_MAX && strcmp(symbol + n - q, quotes[i]) == 0) {
			snprintf(out, Q_EX_SYMBOL_MAX, "%.*s-%s", (int)(n - q), symbol, quotes[i]);
			return 0;
		}
	}
	return q_err_set_field(err, "symbol", Q_E_BAD_REQUEST,
	                       "okx: cannot tell the quote asset of %s", symbol);
}

static int
okx_sign(struct q_exchange_request *rq, const struct q_exchange_creds *c, long long ts_ms,
         long recv_window_ms, struct q_err *err)
{
	struct q_buf sig = Q_BUF_INIT;
	char ts[32];

	(void)err;
	q_venue_iso8601_ms(ts, ts_ms);
	q_buf_printf(&rq->prehash, "%s%s%s%s%s%s", ts, rq->method, rq->path,
	             rq->query.len ? "?" : "", rq->query.data, rq->body.data);
	q_venue_hmac_base64(&sig, c->secret, c->secret_len, rq->prehash.data, rq->prehash.len);
	q_exchange_request_header(rq, "OK-ACCESS-KEY: %s", c->api_key);
	q_exchange_request_header(rq, "OK-ACCESS-SIGN: %s", sig.data);
	q_exchange_request_header(rq, "OK-ACCESS-TIMESTAMP: %s", ts);
	q_exchange_request_header(rq, "OK-ACCESS-PASSPHRASE: %s", c->passphrase);
	if (strcmp(rq->method, "POST") == 0)
		q_exchange_request_header(rq, "Content-Type: application/json");
	/* OKX drops an order request still queued after expTime: our recvWindow. */
	if (rq->flags & Q_EX_MUTATING)
		q_exchange_request_header(rq, "expTime: %lld", ts_ms + recv_window_ms);
	q_buf_release_secret(&sig);
	return 0;
}

/*
 * {"code":"0","msg":"","data":[...]}. An order call also fails per item: code "1" with
 * data[0].sCode "51008", and success needs every sCode "0" (protocols.md 2.3).
 */
static int
okx_envelope(json_t *root, json_t **data, struct q_exchange_venue_err *ve)
{
	const char *code = q_venue_str(root, "code"), *msg = q_venue_str(root, "msg");
	json_t *d = json_object_get(root, "data"), *item;
	size_t i;

	json_array_foreach(d, i, item)
	{
		const char *sc = q_venue_str(item, "sCode"), *sm = q_venue_str(item, "sMsg");

		if (sc && strcmp(sc, "0") != 0) {
			snprintf(ve->code, sizeof(ve->code), "%s", sc);
			q_venue_copy_msg(ve->msg, sizeof(ve->msg), sm ? sm : "");
			return -1;
		}
	}
	if (code == NULL)
		return -2;
	if (strcmp(code, "0") != 0) {
		snprintf(ve->code, sizeof(ve->code), "%s", code);
		q_venue_copy_msg(ve->msg, sizeof(ve->msg), msg ? msg : "");
		return -1;
	}
	*data = d;
	return 0;
}

static json_t *
first(json_t *data, struct q_err *err)
{
	json_t *o = json_array_get(data, 0);

	if (!json_is_object(o))
		q_venue_malformed(err, "data[0] missing");
	return o;
}

static int
build_time(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	(void)args;
	(void)err;
	rq->method = "GET";
	rq->path = "/api/v5/public/time";
	return 0;
}

static int
parse_time(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
           struct q_arena *a, struct q_err *err)
{
	json_t *o = first(data, err);

	(void)args;
	(void)a;
	return o ? q_venue_ms(&res->server_ms, json_object_get(o, "ts"), "ts", err) : -1;
}

static int
build_rules(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	char inst[Q_EX_SYMBOL_MAX];

	if (q_venue_need_symbol(args, err) < 0 || inst_id(inst, args->symbol, err) < 0)
		return -1;
	rq->method = "GET";
	rq->path = "/api/v5/public/instruments";
	q_venue_param(&rq->query, "instType", "SPOT");
	q_venue_param(&rq->query, "instId", inst);
	return 0;
}

static int
parse_rules(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
            struct q_arena *a, struct q_err *err)
{
	struct q_exchange_rules *r = &res->rules;
	json_t *o = first(data, err);
	const char *inst, *state;

	(void)a;
	if (o == NULL)
		return -1;
	inst = q_venue_str(o, "instId");
	if (inst == NULL || strlen(inst) >= sizeof(r->symbol))
		return q_venue_malformed(err, "instId");
	q_venue_canonical_symbol(r->symbol, inst);
	if (args->symbol && strcmp(r->symbol, args->symbol) != 0)
		return q_venue_malformed(err, "rules for %s, not %s", r->symbol, args->symbol);
	if (q_venue_copy(r->base, sizeof(r->base), o, "baseCcy", err) < 0 ||
	    q_venue_copy(r->quote, sizeof(r->quote), o, "quoteCcy", err) < 0 ||
	    q_venue_dec(&r->tick, o, "tickSz", err) < 0 ||
	    q_venue_dec(&r->lot, o, "lotSz", err) < 0 ||
	    q_venue_dec_opt(&r->min_qty, o, "minSz", err) < 0 ||
	    q_venue_dec_opt(&r->max_qty, o, "maxLmtSz", err) < 0)
		return -1;
	if (q_dec_sign(r->tick) <= 0 || q_dec_sign(r->lot) <= 0)
		return q_venue_malformed(err, "tickSz or lotSz not positive");
	state = q_venue_str(o, "state");
	r->trading = state && strcmp(state, "live") == 0;
	return 0;
}

static int
build_klines(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	const struct q_exchange_interval *iv;
	char inst[Q_EX_SYMBOL_MAX];
	int limit;

	if (q_venue_need_symbol(args, err) < 0 || inst_id(inst, args->symbol, err) < 0 ||
	    q_venue_interval(&iv, &q_exchange_okx, args->interval, err) < 0 ||
	    q_venue_limit(&limit, args, q_exchange_okx.max_klines, err) < 0)
		return -1;
	rq->method = "GET";
	rq->path = "/api/v5/market/candles";
	q_venue_param(&rq->query, "instId", inst);
	q_venue_param(&rq->query, "bar", iv->venue);
	/* "after": records earlier than ts, so one past end_ms keeps the candle opening there. */
	if (args->end_ms > 0)
		q_venue_param_ll(&rq->query, "after", args->end_ms + 1);
	q_venue_param_ll(&rq->query, "limit", limit);
	return 0;
}

/* ["ts","o","h","l","c","vol","volCcy","volCcyQuote","confirm"], newest first. */
static int
parse_klines(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
             struct q_arena *a, struct q_err *err)
{
	const struct q_exchange_interval *iv =
	        q_exchange_interval(&q_exchange_okx, args->interval ? args->interval : "");
	struct q_exchange_kline *k;
	json_t *row;
	size_t i;

	if (!json_is_array(data) || iv == NULL)
		return q_venue_malformed(err, "candles are not an array");
	k = q_venue_klines_alloc(res, a, json_array_size(data));
	json_array_foreach(data, i, row)
	{
		const char *confirm = json_string_value(json_array_get(row, 8));

		if (confirm == NULL ||
		    q_venue_ms(&k[i].open_ms, json_array_get(row, 0), "ts", err) < 0 ||
		    q_venue_dec_value(&k[i].open, json_array_get(row, 1), "open", err) < 0 ||
		    q_venue_dec_value(&k[i].high, json_array_get(row, 2), "high", err) < 0 ||
		    q_venue_dec_value(&k[i].low, json_array_get(row, 3), "low", err) < 0 ||
		    q_venue_dec_value(&k[i].close, json_array_get(row, 4), "close", err) < 0 ||
		    q_venue_dec_value(&k[i].volume, json_array_get(row, 5), "vol", err) < 0)
			return q_venue_malformed(err, "candle row %zu", i);
		k[i].closed = strcmp(confirm, "1") == 0;
	}
	q_venue_klines_finish(res, iv->ms, args->now_ms, 1);
	return 0;
}

static int
build_balances(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	(void)args;
	(void)err;
	rq->method = "GET";
	rq->path = "/api/v5/account/balance";
	return 0;
}

static int
parse_balances(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
               struct q_arena *a, struct q_err *err)
{
	json_t *o = first(data, err), *details, *b;
	struct q_exchange_balance *out;
	size_t i;

	(void)args;
	if (o == NULL)
		return -1;
	details = json_object_get(o, "details");
	if (!json_is_array(details))
		return q_venue_malformed(err, "no details array");
	out = q_venue_balances_alloc(res, a, json_array_size(details));
	json_array_foreach(details, i, b)
	{
		struct q_exchange_balance *x = &out[res->nbalances];

		if (q_venue_copy(x->asset, sizeof(x->asset), b, "ccy", err) < 0 ||
		    q_venue_dec_opt(&x->free, b, "availBal", err) < 0 ||
		    q_venue_dec_opt(&x->locked, b, "frozenBal", err) < 0)
			return -1;
		if (!q_dec_is_zero(x->free) || !q_dec_is_zero(x->locked))
			res->nbalances++;
	}
	return 0;
}

static int
build_perms(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	(void)args;
	(void)err;
	rq->method = "GET";
	rq->path = "/api/v5/account/config";
	return 0;
}

/* "perm" is a comma-separated set in no fixed order ("read_only,withdraw,trade"). */
static int
has_perm(const char *perm, const char *want)
{
	size_t n = strlen(want);

	for (const char *p = perm; *p;) {
		size_t len = strcspn(p, ",");
		size_t b = strspn(p, " "), e = len;

		while (e > b && p[e - 1] == ' ')
			e--;
		if (e - b == n && strncmp(p + b, want, n) == 0)
			return 1;
		p += len + (p[len] == ',');
	}
	return 0;
}

static int
parse_perms(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
            struct q_arena *a, struct q_err *err)
{
	struct q_exchange_perms *p = &res->perms;
	json_t *o = first(data, err);
	const char *perm, *ip;

	(void)args;
	(void)a;
	if (o == NULL)
		return -1;
	perm = q_venue_str(o, "perm");
	ip = q_venue_str(o, "ip");
	if (perm == NULL || ip == NULL)
		return q_venue_malformed(err, "perm or ip missing");
	p->can_read = has_perm(perm, "read_only");
	p->can_trade = has_perm(perm, "trade");
	p->can_withdraw = has_perm(perm, "withdraw");
	p->can_transfer = 0;
	p->ip_restricted = ip[0] != '\0';
	snprintf(p->raw, sizeof(p->raw), "%s", perm);
	return 0;
}

static int
build_place(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	static const char *const ord_type[] = {"limit", "ioc", "fok"};
	const struct q_exchange_order_req *o = args->order;
	char inst[Q_EX_SYMBOL_MAX];
	json_t *b;

	if (q_venue_need_order(&q_exchange_okx, args, err) < 0 || inst_id(inst, o->symbol, err) < 0)
		return -1;
	rq->method = "POST";
	rq->path = "/api/v5/trade/order";
	/* The member order of the doc's example, so its body is reproduced byte for byte. */
	b = json_object();
	q_venue_jset(b, "instId", inst);
	q_venue_jset(b, "tdMode", "cash");
	q_venue_jset(b, "clOrdId", o->client_id);
	q_venue_jset(b, "side", o->side == Q_EX_BUY ? "buy" : "sell");
	q_venue_jset(b, "ordType", o->type == Q_EX_LIMIT ? ord_type[o->tif] : "market");
	if (o->type == Q_EX_LIMIT)
		q_venue_jset_dec(b, "px", o->price);
	if (q_dec_is_zero(o->quote_qty)) {
		q_venue_jset_dec(b, "sz", o->qty);
		/* A market buy's sz is in the quote asset unless told otherwise. */
		if (o->type == Q_EX_MARKET)
			q_venue_jset(b, "tgtCcy", "base_ccy");
	} else {
		q_venue_jset_dec(b, "sz", o->quote_qty);
		q_venue_jset(b, "tgtCcy", "quote_ccy");
	}
	q_venue_body(&rq->body, b);
	return 0;
}

static int
parse_ack(struct q_exchange_order *o, json_t *data, struct q_err *err)
{
	json_t *item = first(data, err);

	if (item == NULL ||
	    q_venue_copy(o->order_id, sizeof(o->order_id), item, "ordId", err) < 0 ||
	    q_venue_copy(o->client_id, sizeof(o->client_id), item, "clOrdId", err) < 0)
		return -1;
	if (o->order_id[0] == '\0')
		return q_venue_malformed(err, "empty ordId");
	return 0;
}

static int
parse_place(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
            struct q_arena *a, struct q_err *err)
{
	(void)a;
	if (parse_ack(&res->order, data, err) < 0)
		return -1;
	q_venue_order_ack(&res->order, args->order, Q_EX_OPEN);
	return 0;
}

static int
parse_order_obj(struct q_exchange_order *o, json_t *j, struct q_err *err)
{
	const char *inst = q_venue_str(j, "instId"), *side = q_venue_str(j, "side");
	const char *type = q_venue_str(j, "ordType"), *tgt = q_venue_str(j, "tgtCcy");
	struct q_dec fee;

	memset(o, 0, sizeof(*o));
	if (inst == NULL || strlen(inst) >= sizeof(o->symbol))
		return q_venue_malformed(err, "instId");
	q_venue_canonical_symbol(o->symbol, inst);
	if (q_venue_copy(o->order_id, sizeof(o->order_id), j, "ordId", err) < 0 ||
	    q_venue_copy_opt(o->client_id, sizeof(o->client_id), j, "clOrdId", err) < 0 ||
	    q_venue_dec_opt(&o->price, j, "px", err) < 0 ||
	    q_venue_dec(&o->qty, j, "sz", err) < 0 ||
	    q_venue_dec_opt(&o->executed_qty, j, "accFillSz", err) < 0 ||
	    q_venue_dec_opt(&o->avg_price, j, "avgPx", err) < 0 ||
	    q_venue_dec_opt(&fee, j, "fee", err) < 0 ||
	    q_venue_copy_opt(o->fee_asset, sizeof(o->fee_asset), j, "feeCcy", err) < 0)
		return -1;
	if (q_venue_status(&o->status, statuses, q_venue_str(j, "state")) < 0)
		return q_venue_malformed(err, "unknown order state");
	o->side = side && strcmp(side, "buy") == 0    ? Q_EX_BUY
	          : side && strcmp(side, "sell") == 0 ? Q_EX_SELL
	                                              : 0;
	if (o->side == 0)
		return q_venue_malformed(err, "order side");
	o->type = type && strcmp(type, "market") == 0 ? Q_EX_MARKET
	          : type && (!strcmp(type, "limit") || !strcmp(type, "post_only") ||
	                     !strcmp(type, "ioc") || !strcmp(type, "fok"))
	                  ? Q_EX_LIMIT
	                  : 0;
	/* A market buy sized in quote: sz is not a base quantity. */
	if (tgt && strcmp(tgt, "quote_ccy") == 0)
		o->qty.m = 0;
	/* OKX reports only the average, so the quote amount is rounded: accFillSz * avgPx. */
	q_dec_mul(&o->cum_quote, o->executed_qty, o->avg_price, Q_DEC_HALF_EVEN, NULL);
	/* OKX's fee is negative when charged; ours is positive when paid. */
	o->fee = q_dec_neg(fee);
	o->has_fee = json_object_get(j, "fee") != NULL;
	if (json_object_get(j, "uTime") &&
	    q_venue_ms(&o->update_ms, json_object_get(j, "uTime"), "uTime", err) < 0)
		return -1;
	return 0;
}

static int
parse_order(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
            struct q_arena *a, struct q_err *err)
{
	json_t *o = json_array_get(data, 0);

	(void)args;
	(void)a;
	if (json_is_array(data) && json_array_size(data) == 0)
		return q_err_set(err, Q_E_NOT_FOUND, "no such order");
	if (!json_is_object(o))
		return q_venue_malformed(err, "data[0] missing");
	return parse_order_obj(&res->order, o, err);
}

static int
build_query(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	char inst[Q_EX_SYMBOL_MAX];

	if (q_venue_need_symbol(args, err) < 0 ||
	    q_venue_need_client_id(&q_exchange_okx, args, err) < 0 ||
	    inst_id(inst, args->symbol, err) < 0)
		return -1;
	rq->method = "GET";
	rq->path = "/api/v5/trade/order";
	q_venue_param(&rq->query, "instId", inst);
	q_venue_param(&rq->query, "clOrdId", args->client_id);
	return 0;
}

static int
build_cancel(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	char inst[Q_EX_SYMBOL_MAX];
	int by_client;
	json_t *b;

	if (q_venue_need_symbol(args, err) < 0 ||
	    (by_client = q_venue_need_order_ref(&q_exchange_okx, args, err)) < 0 ||
	    inst_id(inst, args->symbol, err) < 0)
		return -1;
	rq->method = "POST";
	rq->path = "/api/v5/trade/cancel-order";
	b = json_object();
	q_venue_jset(b, "instId", inst);
	if (by_client)
		q_venue_jset(b, "clOrdId", args->client_id);
	else
		q_venue_jset(b, "ordId", args->order_id);
	q_venue_body(&rq->body, b);
	return 0;
}

static int
parse_cancel(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
             struct q_arena *a, struct q_err *err)
{
	struct q_exchange_order *o = &res->order;

	(void)a;
	if (parse_ack(o, data, err) < 0)
		return -1;
	snprintf(o->symbol, sizeof(o->symbol), "%s", args->symbol);
	o->status = Q_EX_CANCELLED;
	o->ack_only = 1;
	return 0;
}

static int
build_open_orders(struct q_exchange_request *rq, const struct q_exchange_args *args,
                  struct q_err *err)
{
	char inst[Q_EX_SYMBOL_MAX];

	if (q_venue_need_symbol(args, err) < 0 || inst_id(inst, args->symbol, err) < 0)
		return -1;
	rq->method = "GET";
	rq->path = "/api/v5/trade/orders-pending";
	q_venue_param(&rq->query, "instType", "SPOT");
	q_venue_param(&rq->query, "instId", inst);
	return 0;
}

static int
parse_orders(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
             struct q_arena *a, struct q_err *err)
{
	struct q_exchange_order *out;
	json_t *j;
	size_t i;

	(void)args;
	if (!json_is_array(data))
		return q_venue_malformed(err, "orders are not an array");
	out = q_venue_orders_alloc(res, a, json_array_size(data));
	json_array_foreach(data, i, j)
	{
		if (parse_order_obj(&out[i], j, err) < 0)
			return -1;
		res->norders++;
	}
	return 0;
}

/*
 * OKX has no spot "cancel all on a symbol": list the open orders, cancel each by its order id
 * (orders placed elsewhere may have no client id). One already gone is not an error.
 */
static int
run_cancel_all(struct q_exchange *ex, const struct q_exchange_args *args,
               struct q_exchange_result *res, struct q_arena *a, struct q_err *err)
{
	struct q_exchange_result open, one;
	size_t n;

	if (q_exchange_exec(ex, &q_exchange_okx.op[Q_EX_OP_OPEN_ORDERS], args, &open, a, err) < 0)
		return -1;
	n = open.norders;
	for (size_t i = 0; i < n; i++) {
		struct q_exchange_args c = {.symbol = args->symbol,
		                            .order_id = open.orders[i].order_id};
		struct q_err e = {0};

		if (q_exchange_exec(ex, &q_exchange_okx.op[Q_EX_OP_CANCEL], &c, &one, a, &e) < 0 &&
		    e.code != Q_E_NOT_FOUND) {
			if (err && err->code == Q_OK)
				*err = e;
			return -1;
		}
	}
	memset(res, 0, sizeof(*res));
	res->orders = open.orders;
	res->norders = n;
	return 0;
}

const struct q_exchange_ops q_exchange_okx = {
        .name = "okx",
        .base_url = "https://www.okx.com",
        .needs_passphrase = 1,
        .max_klines = 300,
        /* clOrdId: "case-sensitive alphanumerics ... up to 32 characters" (protocols.md 2.3) */
        .client_id_max = 32,
        .client_id_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        .intervals = intervals,
        .sign = okx_sign,
        .envelope = okx_envelope,
        .errors = errors,
        .op =
                {
                        [Q_EX_OP_TIME] = {"time", 0, build_time, parse_time, NULL},
                        [Q_EX_OP_RULES] = {"rules", 0, build_rules, parse_rules, NULL},
                        [Q_EX_OP_KLINES] = {"klines", 0, build_klines, parse_klines, NULL},
                        [Q_EX_OP_BALANCES] = {"balances", Q_EX_SIGNED, build_balances,
                                              parse_balances, NULL},
                        [Q_EX_OP_PERMISSIONS] = {"permissions", Q_EX_SIGNED, build_perms,
                                                 parse_perms, NULL},
                        [Q_EX_OP_PLACE] = {"place", Q_EX_SIGNED | Q_EX_MUTATING, build_place,
                                           parse_place, NULL},
                        [Q_EX_OP_QUERY] = {"query", Q_EX_SIGNED, build_query, parse_order, NULL},
                        [Q_EX_OP_CANCEL] = {"cancel", Q_EX_SIGNED | Q_EX_MUTATING, build_cancel,
                                            parse_cancel, NULL},
                        [Q_EX_OP_CANCEL_ALL] = {"cancel_all", Q_EX_SIGNED | Q_EX_MUTATING, NULL,
                                                NULL, run_cancel_all},
                        [Q_EX_OP_OPEN_ORDERS] = {"open_orders", Q_EX_SIGNED, build_open_orders,
                                                 parse_orders, NULL},
                },
};
