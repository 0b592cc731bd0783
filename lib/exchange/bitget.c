/*
 * Bitget v2 spot REST (protocols.md section 4). The signature is base64 HMAC-SHA256 of
 * timestamp (ms) + METHOD + path[?query] + body; query keys are sent in ascending order (the
 * newer signature page asks for it, the older one does not mind), so every builder below adds
 * its parameters alphabetically.
 */
#include "exchange/venue.h"

#include <stdio.h>
#include <string.h>

static const struct q_exchange_interval intervals[] = {
        /* No 2h. 6h and longer in their UTC variants, aligned with the other venues. */
        {"1m", "1min", 60000LL},     {"3m", "3min", 180000LL},     {"5m", "5min", 300000LL},
        {"15m", "15min", 900000LL},  {"30m", "30min", 1800000LL},  {"1h", "1h", 3600000LL},
        {"4h", "4h", 14400000LL},    {"6h", "6Hutc", 21600000LL},  {"12h", "12Hutc", 43200000LL},
        {"1d", "1Dutc", 86400000LL}, {"1w", "1Wutc", 604800000LL}, {NULL, NULL, 0},
};

/*
 * protocols.md 4 calls Bitget's codes UNVERIFIED; these follow ccxt's bitget exceptions:
 * 40001-40003/40006/40009-40012/40037 (key, signature, passphrase), 40014 (permissions), 40018
 * (IP), 40004/40005/40008 (timestamp), 429, 43012/40762 (balance), 45110/40808/41103 (minimum
 * amount, quantity and price scale), 43001/40768 (no such order), 40015 (system abnormal:
 * treated as a 5xx), 40200/41114 (upgrade, maintenance); 40786 "Duplicate clientOid" (Bitget's
 * error table and SDK) is the client order id already in use.
 */
static const struct q_exchange_errmap errors[] = {
        {"40001", NULL, Q_E_EX_AUTH},
        {"40002", NULL, Q_E_EX_AUTH},
        {"40003", NULL, Q_E_EX_AUTH},
        {"40006", NULL, Q_E_EX_AUTH},
        {"40009", NULL, Q_E_EX_AUTH},
        {"40010", NULL, Q_E_EX_AUTH},
        {"40011", NULL, Q_E_EX_AUTH},
        {"40012", NULL, Q_E_EX_AUTH},
        {"40014", NULL, Q_E_EX_AUTH},
        {"40018", NULL, Q_E_EX_AUTH},
        {"40037", NULL, Q_E_EX_AUTH},
        {"40004", NULL, Q_E_EX_CLOCK_SKEW},
        {"40005", NULL, Q_E_EX_CLOCK_SKEW},
        {"40008", NULL, Q_E_EX_CLOCK_SKEW},
        {"429", NULL, Q_E_EX_RATE_LIMITED},
        {"43012", NULL, Q_E_EX_INSUFFICIENT},
        {"40762", NULL, Q_E_EX_INSUFFICIENT},
        {"45110", NULL, Q_E_EX_FILTER},
        {"40808", NULL, Q_E_EX_FILTER},
        {"41103", NULL, Q_E_EX_FILTER},
        {"43001", NULL, Q_E_NOT_FOUND},
        {"40768", NULL, Q_E_NOT_FOUND},
        {"40786", NULL, Q_E_CONFLICT},
        {"40015", NULL, Q_E_EX_UNKNOWN_OUTCOME},
        {"40200", NULL, Q_E_EXCHANGE_UNAVAILABLE},
        {"41114", NULL, Q_E_EXCHANGE_UNAVAILABLE},
        {NULL, NULL, Q_OK},
};

/* orderInfo and unfilled-orders say partially_filled / filled, history-orders the older
 * partially_fill / full_fill. */
static const struct q_venue_status statuses[] = {
        {"init", Q_EX_OPEN},
        {"new", Q_EX_OPEN},
        {"live", Q_EX_OPEN},
        {"partially_filled", Q_EX_PARTIALLY_FILLED},
        {"partially_fill", Q_EX_PARTIALLY_FILLED},
        {"filled", Q_EX_FILLED},
        {"full_fill", Q_EX_FILLED},
        {"cancelled", Q_EX_CANCELLED},
        {"canceled", Q_EX_CANCELLED},
        {NULL, 0},
};

static int
bitget_sign(struct q_exchange_request *rq, const struct q_exchange_creds *c, long long ts_ms,
            long recv_window_ms, struct q_err *err)
{
	struct q_buf sig = Q_BUF_INIT;

	(void)recv_window_ms;
	(void)err;
	q_buf_printf(&rq->prehash, "%lld%s%s%s%s%s", ts_ms, rq->method, rq->path,
	             rq->query.len ? "?" : "", rq->query.data, rq->body.data);
	q_venue_hmac_base64(&sig, c->secret, c->secret_len, rq->prehash.data, rq->prehash.len);
	q_exchange_request_header(rq, "ACCESS-KEY: %s", c->api_key);
	q_exchange_request_header(rq, "ACCESS-SIGN: %s", sig.data);
	q_exchange_request_header(rq, "ACCESS-TIMESTAMP: %lld", ts_ms);
	q_exchange_request_header(rq, "ACCESS-PASSPHRASE: %s", c->passphrase);
	q_exchange_request_header(rq, "locale: en-US");
	if (strcmp(rq->method, "POST") == 0)
		q_exchange_request_header(rq, "Content-Type: application/json");
	q_buf_release_secret(&sig);
	return 0;
}

/* {"code":"00000","msg":"success","requestTime":...,"data":...} */
static int
bitget_envelope(json_t *root, json_t **data, struct q_exchange_venue_err *ve)
{
	json_t *code = json_object_get(root, "code");
	const char *msg = q_venue_str(root, "msg");

	if (json_is_string(code) && strcmp(json_string_value(code), "00000") == 0) {
		*data = json_object_get(root, "data");
		return 0;
	}
	if (json_is_integer(code))
		snprintf(ve->code, sizeof(ve->code), "%lld", (long long)json_integer_value(code));
	else if (json_is_string(code))
		snprintf(ve->code, sizeof(ve->code), "%s", json_string_value(code));
	else
		return -2;
	q_venue_copy_msg(ve->msg, sizeof(ve->msg), msg ? msg : "");
	return -1;
}

static int
build_time(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	(void)args;
	(void)err;
	rq->method = "GET";
	rq->path = "/api/v2/public/time";
	return 0;
}

static int
parse_time(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
           struct q_arena *a, struct q_err *err)
{
	(void)args;
	(void)a;
	return q_venue_ms(&res->server_ms, json_object_get(data, "serverTime"), "serverTime", err);
}

static int
build_rules(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	if (q_venue_need_symbol(args, err) < 0)
		return -1;
	rq->method = "GET";
	rq->path = "/api/v2/spot/public/symbols";
	q_venue_param(&rq->query, "symbol", args->symbol);
	return 0;
}

static int
parse_rules(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
            struct q_arena *a, struct q_err *err)
{
	struct q_exchange_rules *r = &res->rules;
	json_t *o = json_array_get(data, 0);
	const char *status;

	(void)a;
	if (!json_is_object(o))
		return q_venue_malformed(err, "data[0] missing");
	if (q_venue_copy(r->symbol, sizeof(r->symbol), o, "symbol", err) < 0 ||
	    q_venue_copy(r->base, sizeof(r->base), o, "baseCoin", err) < 0 ||
	    q_venue_copy(r->quote, sizeof(r->quote), o, "quoteCoin", err) < 0 ||
	    q_venue_precision_step(&r->tick, o, "pricePrecision", err) < 0 ||
	    q_venue_precision_step(&r->lot, o, "quantityPrecision", err) < 0 ||
	    q_venue_dec_opt(&r->min_qty, o, "minTradeAmount", err) < 0 ||
	    q_venue_dec_opt(&r->max_qty, o, "maxTradeAmount", err) < 0 ||
	    q_venue_dec_opt(&r->min_notional, o, "minTradeUSDT", err) < 0 ||
	    (json_object_get(o, "quotePrecision") &&
	     q_venue_precision_step(&r->quote_step, o, "quotePrecision", err) < 0))
		return -1;
	if (args->symbol && strcmp(r->symbol, args->symbol) != 0)
		return q_venue_malformed(err, "rules for %s, not %s", r->symbol, args->symbol);
	status = q_venue_str(o, "status");
	r->trading = status && strcmp(status, "online") == 0;
	return 0;
}

static int
build_klines(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	const struct q_exchange_interval *iv;
	int limit;

	if (q_venue_need_symbol(args, err) < 0 ||
	    q_venue_interval(&iv, &q_exchange_bitget, args->interval, err) < 0 ||
	    q_venue_limit(&limit, args, q_exchange_bitget.max_klines, err) < 0)
		return -1;
	rq->method = "GET";
	rq->path = "/api/v2/spot/market/candles";
	if (args->end_ms > 0)
		q_venue_param_ll(&rq->query, "endTime", args->end_ms);
	q_venue_param(&rq->query, "granularity", iv->venue);
	q_venue_param_ll(&rq->query, "limit", limit);
	q_venue_param(&rq->query, "symbol", args->symbol);
	return 0;
}

/* [ts, open, high, low, close, baseVolume, usdtVolume, quoteVolume], all strings. */
static int
parse_klines(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
             struct q_arena *a, struct q_err *err)
{
	const struct q_exchange_interval *iv =
	        q_exchange_interval(&q_exchange_bitget, args->interval ? args->interval : "");
	struct q_exchange_kline *k;
	json_t *row;
	size_t i;

	if (!json_is_array(data) || iv == NULL)
		return q_venue_malformed(err, "candles are not an array");
	k = q_venue_klines_alloc(res, a, json_array_size(data));
	json_array_foreach(data, i, row)
	{
		if (q_venue_ms(&k[i].open_ms, json_array_get(row, 0), "ts", err) < 0 ||
		    q_venue_dec_value(&k[i].open, json_array_get(row, 1), "open", err) < 0 ||
		    q_venue_dec_value(&k[i].high, json_array_get(row, 2), "high", err) < 0 ||
		    q_venue_dec_value(&k[i].low, json_array_get(row, 3), "low", err) < 0 ||
		    q_venue_dec_value(&k[i].close, json_array_get(row, 4), "close", err) < 0 ||
		    q_venue_dec_value(&k[i].volume, json_array_get(row, 5), "baseVolume", err) < 0)
			return q_venue_malformed(err, "candle row %zu", i);
	}
	q_venue_klines_finish(res, iv->ms, args->now_ms, 0);
	return 0;
}

static int
build_balances(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	(void)args;
	(void)err;
	rq->method = "GET";
	rq->path = "/api/v2/spot/account/assets";
	return 0;
}

/* data[]: {"coin","available","frozen","locked",...}: frozen and locked both hold funds. */
static int
parse_balances(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
               struct q_arena *a, struct q_err *err)
{
	struct q_exchange_balance *out;
	json_t *b;
	size_t i;

	(void)args;
	if (!json_is_array(data))
		return q_venue_malformed(err, "assets are not an array");
	out = q_venue_balances_alloc(res, a, json_array_size(data));
	json_array_foreach(data, i, b)
	{
		struct q_exchange_balance *x = &out[res->nbalances];
		struct q_dec frozen, locked;

		if (q_venue_copy(x->asset, sizeof(x->asset), b, "coin", err) < 0 ||
		    q_venue_dec(&x->free, b, "available", err) < 0 ||
		    q_venue_dec_opt(&frozen, b, "frozen", err) < 0 ||
		    q_venue_dec_opt(&locked, b, "locked", err) < 0 ||
		    q_dec_add(&x->locked, frozen, locked, NULL) < 0)
			return q_venue_malformed(err, "asset %zu", i);
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
	rq->path = "/api/v2/spot/account/info";
	return 0;
}

/*
 * authorities: the four-letter codes of the field description ("stow" spot trade, "wwow"
 * withdrawal) or the doc example's words ("trade", "readonly"): both are read (protocols.md 4.2).
 */
static int
parse_perms(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
            struct q_arena *a, struct q_err *err)
{
	struct q_exchange_perms *p = &res->perms;
	json_t *auth = json_object_get(data, "authorities"), *v;
	const char *ips = q_venue_str(data, "ips");
	size_t i, n = 0;

	(void)args;
	(void)a;
	if (!json_is_array(auth))
		return q_venue_malformed(err, "authorities missing");
	p->can_read = 1; /* the endpoint itself needs read permission */
	json_array_foreach(auth, i, v)
	{
		const char *s = json_string_value(v);

		if (s == NULL)
			return q_venue_malformed(err, "authorities[%zu] is not a string", i);
		if (strcmp(s, "stow") == 0 || strcmp(s, "trade") == 0)
			p->can_trade = 1;
		if (strcmp(s, "wwow") == 0 || strcmp(s, "withdraw") == 0)
			p->can_withdraw = 1;
		n += (size_t)snprintf(p->raw + n, sizeof(p->raw) - n, "%s%s", n ? "," : "", s);
		if (n >= sizeof(p->raw))
			n = sizeof(p->raw) - 1;
	}
	p->ip_restricted = ips && ips[0] != '\0';
	return 0;
}

static int
build_place(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	static const char *const force[] = {"gtc", "ioc", "fok"};
	const struct q_exchange_order_req *o = args->order;
	json_t *b;

	if (q_venue_need_order(&q_exchange_bitget, args, err) < 0)
		return -1;
	/* "For Market-Buy orders, [size] represents the number of quote coins." */
	if (o->type == Q_EX_MARKET && o->side == Q_EX_BUY && q_dec_is_zero(o->quote_qty))
		return q_err_set_field(
		        err, "quote_qty", Q_E_BAD_REQUEST,
		        "bitget: a market buy is sized in the quote asset (quote_qty)");
	rq->method = "POST";
	rq->path = "/api/v2/spot/trade/place-order";
	/* The member order of the doc's example, so its body is reproduced byte for byte. */
	b = json_object();
	q_venue_jset(b, "symbol", o->symbol);
	q_venue_jset(b, "side", o->side == Q_EX_BUY ? "buy" : "sell");
	q_venue_jset(b, "orderType", o->type == Q_EX_LIMIT ? "limit" : "market");
	if (o->type == Q_EX_LIMIT) {
		q_venue_jset(b, "force", force[o->tif]);
		q_venue_jset_dec(b, "price", o->price);
	}
	q_venue_jset_dec(b, "size", q_dec_is_zero(o->quote_qty) ? o->qty : o->quote_qty);
	q_venue_jset(b, "clientOid", o->client_id);
	q_venue_body(&rq->body, b);
	return 0;
}

static int
parse_ack(struct q_exchange_order *o, json_t *data, struct q_err *err)
{
	if (q_venue_copy(o->order_id, sizeof(o->order_id), data, "orderId", err) < 0 ||
	    q_venue_copy_opt(o->client_id, sizeof(o->client_id), data, "clientOid", err) < 0)
		return -1;
	if (o->order_id[0] == '\0')
		return q_venue_malformed(err, "empty orderId");
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

/*
 * orderInfo and history-orders name the order price "price" (and "priceAvg" the fill average);
 * unfilled-orders has no "price" and names the order price "priceAvg". Its symbol is lowercase.
 * XXX The fee stays unknown (has_fee 0): Bitget reports it only inside feeDetail, a JSON text
 * whose amounts are JSON numbers in exponent form ("-7E-7"), which q_dec refuses by design.
 */
static int
parse_order_obj(struct q_exchange_order *o, json_t *j, struct q_err *err)
{
	const char *side = q_venue_str(j, "side"), *type = q_venue_str(j, "orderType");
	const char *sym = q_venue_str(j, "symbol");

	memset(o, 0, sizeof(*o));
	if (sym == NULL || strlen(sym) >= sizeof(o->symbol))
		return q_venue_malformed(err, "order symbol");
	q_venue_canonical_symbol(o->symbol, sym);
	if (q_venue_copy(o->order_id, sizeof(o->order_id), j, "orderId", err) < 0 ||
	    q_venue_copy_opt(o->client_id, sizeof(o->client_id), j, "clientOid", err) < 0 ||
	    q_venue_dec_opt(&o->price, j, json_object_get(j, "price") ? "price" : "priceAvg", err) <
	            0 ||
	    q_venue_dec(&o->qty, j, "size", err) < 0 ||
	    q_venue_dec_opt(&o->executed_qty, j, "baseVolume", err) < 0 ||
	    q_venue_dec_opt(&o->cum_quote, j, "quoteVolume", err) < 0)
		return -1;
	if (q_venue_status(&o->status, statuses, q_venue_str(j, "status")) < 0)
		return q_venue_malformed(err, "unknown order status");
	o->side = side && strcmp(side, "buy") == 0    ? Q_EX_BUY
	          : side && strcmp(side, "sell") == 0 ? Q_EX_SELL
	                                              : 0;
	if (o->side == 0)
		return q_venue_malformed(err, "order side");
	o->type = type && strcmp(type, "market") == 0  ? Q_EX_MARKET
	          : type && strcmp(type, "limit") == 0 ? Q_EX_LIMIT
	                                               : 0;
	/* A market order has no price; a market buy's size is its quote amount, not a base
	 * quantity. */
	if (o->type == Q_EX_MARKET)
		o->price.m = 0;
	if (o->type == Q_EX_MARKET && o->side == Q_EX_BUY)
		o->qty.m = 0;
	if (json_object_get(j, "uTime") &&
	    q_venue_ms(&o->update_ms, json_object_get(j, "uTime"), "uTime", err) < 0)
		return -1;
	q_venue_order_avg(o);
	return 0;
}

static int
parse_order(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
            struct q_arena *a, struct q_err *err)
{
	(void)args;
	(void)a;
	if (!json_is_array(data))
		return q_venue_malformed(err, "data is not an array");
	if (json_array_size(data) == 0)
		return q_err_set(err, Q_E_NOT_FOUND, "no such order");
	return parse_order_obj(&res->order, json_array_get(data, 0), err);
}

static int
build_query(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	if (q_venue_need_symbol(args, err) < 0 ||
	    q_venue_need_client_id(&q_exchange_bitget, args, err) < 0)
		return -1;
	rq->method = "GET";
	rq->path = "/api/v2/spot/trade/orderInfo";
	q_venue_param(&rq->query, "clientOid", args->client_id);
	return 0;
}

static int
build_history(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	if (q_venue_need_symbol(args, err) < 0 ||
	    q_venue_need_client_id(&q_exchange_bitget, args, err) < 0)
		return -1;
	rq->method = "GET";
	rq->path = "/api/v2/spot/trade/history-orders";
	q_venue_param(&rq->query, "limit", "100");
	q_venue_param(&rq->query, "symbol", args->symbol);
	return 0;
}

/* The order of the recent history whose clientOid is ours. */
static int
parse_history(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
              struct q_arena *a, struct q_err *err)
{
	json_t *j;
	size_t i;

	(void)a;
	if (!json_is_array(data))
		return q_venue_malformed(err, "data is not an array");
	json_array_foreach(data, i, j)
	{
		const char *cid = q_venue_str(j, "clientOid");

		if (cid && strcmp(cid, args->client_id) == 0)
			return parse_order_obj(&res->order, j, err);
	}
	return q_err_set(err, Q_E_NOT_FOUND, "no such order in the last 100");
}

static const struct q_exchange_opdef order_info = {"query", Q_EX_SIGNED, build_query, parse_order,
                                                   NULL};
static const struct q_exchange_opdef history = {"query_history", Q_EX_SIGNED, build_history,
                                                parse_history, NULL};

/*
 * orderInfo finds an order by clientOid only while it is unfilled (Get-Order-Info: "the order is
 * in unfilled status"), yet a market order that filled at once must be found too, or it could
 * be sent twice: a miss falls back to the symbol's recent history.
 */
static int
run_query(struct q_exchange *ex, const struct q_exchange_args *args, struct q_exchange_result *res,
          struct q_arena *a, struct q_err *err)
{
	struct q_err e = {0};

	if (q_exchange_exec(ex, &order_info, args, res, a, &e) == 0)
		return 0;
	if (e.code != Q_E_NOT_FOUND) {
		if (err && err->code == Q_OK)
			*err = e;
		return -1;
	}
	return q_exchange_exec(ex, &history, args, res, a, err);
}

static int
build_cancel(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	int by_client;
	json_t *b;

	if (q_venue_need_symbol(args, err) < 0 ||
	    (by_client = q_venue_need_order_ref(&q_exchange_bitget, args, err)) < 0)
		return -1;
	rq->method = "POST";
	rq->path = "/api/v2/spot/trade/cancel-order";
	b = json_object();
	q_venue_jset(b, "symbol", args->symbol);
	if (by_client)
		q_venue_jset(b, "clientOid", args->client_id);
	else
		q_venue_jset(b, "orderId", args->order_id);
	q_venue_body(&rq->body, b);
	return 0;
}

static int
parse_cancel(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
             struct q_arena *a, struct q_err *err)
{
	(void)a;
	if (parse_ack(&res->order, data, err) < 0)
		return -1;
	snprintf(res->order.symbol, sizeof(res->order.symbol), "%s", args->symbol);
	res->order.status = Q_EX_CANCELLED;
	res->order.ack_only = 1;
	return 0;
}

static int
build_cancel_all(struct q_exchange_request *rq, const struct q_exchange_args *args,
                 struct q_err *err)
{
	json_t *b;

	if (q_venue_need_symbol(args, err) < 0)
		return -1;
	rq->method = "POST";
	rq->path = "/api/v2/spot/trade/cancel-symbol-order";
	b = json_object();
	q_venue_jset(b, "symbol", args->symbol);
	q_venue_body(&rq->body, b);
	return 0;
}

/* data: {"symbol":"BTCUSDT"}: the venue cancels asynchronously and lists nothing. */
static int
parse_cancel_all(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
                 struct q_arena *a, struct q_err *err)
{
	(void)res;
	(void)args;
	(void)a;
	if (q_venue_str(data, "symbol") == NULL)
		return q_venue_malformed(err, "no symbol");
	return 0;
}

static int
build_open_orders(struct q_exchange_request *rq, const struct q_exchange_args *args,
                  struct q_err *err)
{
	if (q_venue_need_symbol(args, err) < 0)
		return -1;
	rq->method = "GET";
	rq->path = "/api/v2/spot/trade/unfilled-orders";
	q_venue_param(&rq->query, "symbol", args->symbol);
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
		return q_venue_malformed(err, "data is not an array");
	out = q_venue_orders_alloc(res, a, json_array_size(data));
	json_array_foreach(data, i, j)
	{
		if (parse_order_obj(&out[i], j, err) < 0)
			return -1;
		res->norders++;
	}
	return 0;
}

const struct q_exchange_ops q_exchange_bitget = {
        .name = "bitget",
        .base_url = "https://api.bitget.com",
        .needs_passphrase = 1,
        .max_klines = 1000,
        /* clientOid: charset and length unverified; protocols.md 4.3 chooses [A-Za-z0-9_-], 32 */
        .client_id_max = 32,
        .client_id_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        .intervals = intervals,
        .sign = bitget_sign,
        .envelope = bitget_envelope,
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
                        [Q_EX_OP_QUERY] = {"query", Q_EX_SIGNED, build_query, parse_order,
                                           run_query},
                        [Q_EX_OP_CANCEL] = {"cancel", Q_EX_SIGNED | Q_EX_MUTATING, build_cancel,
                                            parse_cancel, NULL},
                        [Q_EX_OP_CANCEL_ALL] = {"cancel_all", Q_EX_SIGNED | Q_EX_MUTATING,
                                                build_cancel_all, parse_cancel_all, NULL},
                        [Q_EX_OP_OPEN_ORDERS] = {"open_orders", Q_EX_SIGNED, build_open_orders,
                                                 parse_orders, NULL},
                },
};
