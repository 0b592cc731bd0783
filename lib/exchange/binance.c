/*
 * Binance spot REST (protocols.md section 1). Parameters travel in the query string, also for
 * POST and DELETE (as in the official signed example); the signature is over query + body,
 * HMAC-SHA256 hex, or Ed25519 base64 percent-encoded when the secret is a PEM private key.
 */
#include "exchange/venue.h"

#include <stdio.h>
#include <string.h>

static const struct q_exchange_interval intervals[] = {
        {"1m", "1m", 60000LL},     {"3m", "3m", 180000LL},
        {"5m", "5m", 300000LL},    {"15m", "15m", 900000LL},
        {"30m", "30m", 1800000LL}, {"1h", "1h", 3600000LL},
        {"2h", "2h", 7200000LL},   {"4h", "4h", 14400000LL},
        {"6h", "6h", 21600000LL},  {"12h", "12h", 43200000LL},
        {"1d", "1d", 86400000LL},  {"1w", "1w", 604800000LL},
        {NULL, NULL, 0},
};

/*
 * errors.md as protocols.md 1.2 quotes it, plus codes of errors.md it does not list: -1000,
 * -1001, -1006 and -1007 (unknown error, internal error, unexpected response, "execution status
 * unknown": treated as a 5xx), -1008 (server overloaded), -1013 (filter failures on newer
 * servers) and -1015 (too many new orders).
 */
static const struct q_exchange_errmap errors[] = {
        {"-1003", "banned until", Q_E_EX_BANNED},
        {"-1003", NULL, Q_E_EX_RATE_LIMITED},
        {"-1015", NULL, Q_E_EX_RATE_LIMITED},
        {"-1000", NULL, Q_E_EX_UNKNOWN_OUTCOME},
        {"-1001", NULL, Q_E_EX_UNKNOWN_OUTCOME},
        {"-1006", NULL, Q_E_EX_UNKNOWN_OUTCOME},
        {"-1007", NULL, Q_E_EX_UNKNOWN_OUTCOME},
        {"-1008", NULL, Q_E_EXCHANGE_UNAVAILABLE},
        {"-1021", NULL, Q_E_EX_CLOCK_SKEW},
        {"-1022", NULL, Q_E_EX_AUTH},
        {"-2014", NULL, Q_E_EX_AUTH},
        {"-2015", NULL, Q_E_EX_AUTH},
        {"-2010", "insufficient balance", Q_E_EX_INSUFFICIENT},
        {"-2010", "Filter failure", Q_E_EX_FILTER},
        {"-2010", "Duplicate order", Q_E_CONFLICT},
        {"-1013", "Filter failure", Q_E_EX_FILTER},
        {"-1111", NULL, Q_E_EX_FILTER},
        {"-2013", NULL, Q_E_NOT_FOUND},
        {"-2011", "Unknown order", Q_E_NOT_FOUND},
        {"-1100", NULL, Q_E_BAD_REQUEST},
        {"-1102", NULL, Q_E_BAD_REQUEST},
        {"-1121", NULL, Q_E_BAD_REQUEST},
        {NULL, NULL, Q_OK},
};

static const struct q_venue_status statuses[] = {
        {"NEW", Q_EX_OPEN},
        {"PENDING_NEW", Q_EX_OPEN},
        {"PARTIALLY_FILLED", Q_EX_PARTIALLY_FILLED},
        {"FILLED", Q_EX_FILLED},
        {"CANCELED", Q_EX_CANCELLED},
        {"PENDING_CANCEL", Q_EX_OPEN},
        {"REJECTED", Q_EX_REJECTED},
        {"EXPIRED", Q_EX_CANCELLED},
        {"EXPIRED_IN_MATCH", Q_EX_CANCELLED},
        {NULL, 0},
};

/* query + body, then recvWindow and timestamp, then the signature over all of it. */
static int
binance_sign(struct q_exchange_request *rq, const struct q_exchange_creds *c, long long ts_ms,
             long recv_window_ms, struct q_err *err)
{
	char hex[65];

	q_venue_param_ll(&rq->query, "recvWindow", recv_window_ms);
	q_venue_param_ll(&rq->query, "timestamp", ts_ms);
	q_buf_add(&rq->prehash, rq->query.data, rq->query.len);
	q_buf_add(&rq->prehash, rq->body.data, rq->body.len);
	if (q_venue_is_pem(c->secret, c->secret_len)) {
		struct q_buf sig = Q_BUF_INIT;

		if (q_venue_ed25519_pem_sign(&sig, c->secret, c->secret_len, rq->prehash.data,
		                             rq->prehash.len, err) < 0) {
			q_buf_release(&sig);
			return -1;
		}
		q_venue_param(&rq->query, "signature", sig.data); /* + / = percent-encoded */
		q_buf_release(&sig);
	} else {
		q_venue_hmac_hex(hex, c->secret, c->secret_len, rq->prehash.data, rq->prehash.len);
		q_venue_param(&rq->query, "signature", hex);
	}
	q_exchange_request_header(rq, "X-MBX-APIKEY: %s", c->api_key);
	return 0;
}

/* {"code":-1121,"msg":"Invalid symbol."}; success bodies never carry both members. */
static int
binance_envelope(json_t *root, json_t **data, struct q_exchange_venue_err *ve)
{
	json_t *code = json_object_get(root, "code");
	const char *msg = q_venue_str(root, "msg");

	if (json_is_integer(code) && msg) {
		snprintf(ve->code, sizeof(ve->code), "%lld", (long long)json_integer_value(code));
		q_venue_copy_msg(ve->msg, sizeof(ve->msg), msg);
		return -1;
	}
	*data = root;
	return 0;
}

static int
build_time(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	(void)args;
	(void)err;
	rq->method = "GET";
	rq->path = "/api/v3/time";
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
	rq->path = "/api/v3/exchangeInfo";
	q_venue_param(&rq->query, "symbol", args->symbol);
	return 0;
}

static int
parse_filter(struct q_exchange_rules *r, json_t *f, struct q_err *err)
{
	const char *type = q_venue_str(f, "filterType");

	if (type == NULL)
		return q_venue_malformed(err, "filter without filterType");
	if (strcmp(type, "PRICE_FILTER") == 0)
		return q_venue_dec(&r->tick, f, "tickSize", err);
	if (strcmp(type, "LOT_SIZE") == 0)
		return q_venue_dec(&r->lot, f, "stepSize", err) < 0 ||
		                       q_venue_dec(&r->min_qty, f, "minQty", err) < 0 ||
		                       q_venue_dec_opt(&r->max_qty, f, "maxQty", err) < 0
		               ? -1
		               : 0;
	/* NOTIONAL replaced MIN_NOTIONAL; either carries minNotional. */
	if (strcmp(type, "NOTIONAL") == 0 || strcmp(type, "MIN_NOTIONAL") == 0)
		return q_venue_dec(&r->min_notional, f, "minNotional", err);
	return 0;
}

static int
parse_rules(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
            struct q_arena *a, struct q_err *err)
{
	json_t *sym = json_array_get(json_object_get(data, "symbols"), 0), *filters, *f;
	struct q_exchange_rules *r = &res->rules;
	const char *status;
	size_t i;

	(void)a;
	if (!json_is_object(sym))
		return q_venue_malformed(err, "no symbols[0]");
	if (q_venue_copy(r->symbol, sizeof(r->symbol), sym, "symbol", err) < 0 ||
	    q_venue_copy(r->base, sizeof(r->base), sym, "baseAsset", err) < 0 ||
	    q_venue_copy(r->quote, sizeof(r->quote), sym, "quoteAsset", err) < 0)
		return -1;
	if (args->symbol && strcmp(r->symbol, args->symbol) != 0)
		return q_venue_malformed(err, "rules for %s, not %s", r->symbol, args->symbol);
	if (json_object_get(sym, "quoteAssetPrecision") &&
	    q_venue_precision_step(&r->quote_step, sym, "quoteAssetPrecision", err) < 0)
		return -1;
	status = q_venue_str(sym, "status");
	r->trading = status && strcmp(status, "TRADING") == 0;
	filters = json_object_get(sym, "filters");
	json_array_foreach(filters, i, f)
	{
		if (parse_filter(r, f, err) < 0)
			return -1;
	}
	if (q_dec_sign(r->tick) <= 0 || q_dec_sign(r->lot) <= 0)
		return q_venue_malformed(err, "no PRICE_FILTER tickSize or LOT_SIZE stepSize");
	return 0;
}

static int
build_klines(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	const struct q_exchange_interval *iv;
	int limit;

	if (q_venue_need_symbol(args, err) < 0 ||
	    q_venue_interval(&iv, &q_exchange_binance, args->interval, err) < 0 ||
	    q_venue_limit(&limit, args, q_exchange_binance.max_klines, err) < 0)
		return -1;
	rq->method = "GET";
	rq->path = "/api/v3/klines";
	q_venue_param(&rq->query, "symbol", args->symbol);
	q_venue_param(&rq->query, "interval", iv->venue);
	if (args->end_ms > 0)
		q_venue_param_ll(&rq->query, "endTime", args->end_ms);
	q_venue_param_ll(&rq->query, "limit", limit);
	return 0;
}

/* [open time, "open", "high", "low", "close", "volume", close time, ...] */
static int
parse_klines(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
             struct q_arena *a, struct q_err *err)
{
	const struct q_exchange_interval *iv =
	        q_exchange_interval(&q_exchange_binance, args->interval ? args->interval : "");
	struct q_exchange_kline *k;
	json_t *row;
	size_t i;

	if (!json_is_array(data) || iv == NULL)
		return q_venue_malformed(err, "klines are not an array");
	k = q_venue_klines_alloc(res, a, json_array_size(data));
	json_array_foreach(data, i, row)
	{
		if (json_array_size(row) < 7 ||
		    q_venue_ms(&k[i].open_ms, json_array_get(row, 0), "open time", err) < 0 ||
		    q_venue_dec_value(&k[i].open, json_array_get(row, 1), "open", err) < 0 ||
		    q_venue_dec_value(&k[i].high, json_array_get(row, 2), "high", err) < 0 ||
		    q_venue_dec_value(&k[i].low, json_array_get(row, 3), "low", err) < 0 ||
		    q_venue_dec_value(&k[i].close, json_array_get(row, 4), "close", err) < 0 ||
		    q_venue_dec_value(&k[i].volume, json_array_get(row, 5), "volume", err) < 0)
			return q_venue_malformed(err, "kline row %zu", i);
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
	rq->path = "/api/v3/account";
	q_venue_param(&rq->query, "omitZeroBalances", "true");
	return 0;
}

static int
parse_balances(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
               struct q_arena *a, struct q_err *err)
{
	json_t *list = json_object_get(data, "balances"), *b;
	struct q_exchange_balance *out;
	size_t i;

	(void)args;
	if (!json_is_array(list))
		return q_venue_malformed(err, "no balances array");
	out = q_venue_balances_alloc(res, a, json_array_size(list));
	json_array_foreach(list, i, b)
	{
		struct q_exchange_balance *x = &out[res->nbalances];

		if (q_venue_copy(x->asset, sizeof(x->asset), b, "asset", err) < 0 ||
		    q_venue_dec(&x->free, b, "free", err) < 0 ||
		    q_venue_dec(&x->locked, b, "locked", err) < 0)
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
	rq->path = "/sapi/v1/account/apiRestrictions";
	return 0;
}

/* A flag Binance leaves out reads as its unsafe value (protocols.md 1.8: parse by name). */
static int
parse_perms(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
            struct q_arena *a, struct q_err *err)
{
	static const char *const flags[] = {"enableReading",
	                                    "enableSpotAndMarginTrading",
	                                    "enableWithdrawals",
	                                    "enableInternalTransfer",
	                                    "permitsUniversalTransfer",
	                                    "enableMargin",
	                                    "enableFutures",
	                                    "enableVanillaOptions",
	                                    "enablePortfolioMarginTrading",
	                                    "enableFixApiTrade",
	                                    "enableFixReadOnly",
	                                    "ipRestrict"};
	struct q_exchange_perms *p = &res->perms;
	size_t n = 0;

	(void)args;
	(void)a;
	if (!json_is_object(data) ||
	    q_venue_bool(&p->can_read, data, "enableReading", 0, err) < 0 ||
	    q_venue_bool(&p->can_trade, data, "enableSpotAndMarginTrading", 0, err) < 0 ||
	    q_venue_bool(&p->can_withdraw, data, "enableWithdrawals", 1, err) < 0 ||
	    q_venue_bool(&p->can_transfer, data, "enableInternalTransfer", 1, err) < 0 ||
	    q_venue_bool(&p->ip_restricted, data, "ipRestrict", 0, err) < 0)
		return q_venue_malformed(err, "apiRestrictions");
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (!json_is_true(json_object_get(data, flags[i])))
			continue;
		n += (size_t)snprintf(p->raw + n, sizeof(p->raw) - n, "%s%s", n ? "," : "",
		                      flags[i]);
		if (n >= sizeof(p->raw))
			n = sizeof(p->raw) - 1;
	}
	return 0;
}

static int
build_place(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	static const char *const tif[] = {"GTC", "IOC", "FOK"};
	const struct q_exchange_order_req *o = args->order;

	if (q_venue_need_order(&q_exchange_binance, args, err) < 0)
		return -1;
	rq->method = "POST";
	rq->path = "/api/v3/order";
	q_venue_param(&rq->query, "symbol", o->symbol);
	q_venue_param(&rq->query, "side", o->side == Q_EX_BUY ? "BUY" : "SELL");
	q_venue_param(&rq->query, "type", o->type == Q_EX_LIMIT ? "LIMIT" : "MARKET");
	if (o->type == Q_EX_LIMIT)
		q_venue_param(&rq->query, "timeInForce", tif[o->tif]);
	if (q_dec_is_zero(o->quote_qty))
		q_venue_param_dec(&rq->query, "quantity", o->qty);
	else
		q_venue_param_dec(&rq->query, "quoteOrderQty", o->quote_qty);
	if (o->type == Q_EX_LIMIT)
		q_venue_param_dec(&rq->query, "price", o->price);
	q_venue_param(&rq->query, "newClientOrderId", o->client_id);
	q_venue_param(&rq->query, "newOrderRespType", "FULL");
	return 0;
}

/* The fee of a FULL answer: the fills' commissions when they share one asset. */
static int
parse_fills(struct q_exchange_order *o, json_t *fills, struct q_err *err)
{
	json_t *f;
	size_t i;

	if (!json_is_array(fills) || json_array_size(fills) == 0)
		return 0;
	o->has_fee = 1;
	json_array_foreach(fills, i, f)
	{
		struct q_dec c;
		const char *asset = q_venue_str(f, "commissionAsset");

		if (asset == NULL || q_venue_dec(&c, f, "commission", err) < 0)
			return q_venue_malformed(err, "fill %zu", i);
		if (i == 0)
			snprintf(o->fee_asset, sizeof(o->fee_asset), "%s", asset);
		if (strcmp(o->fee_asset, asset) != 0 || q_dec_add(&o->fee, o->fee, c, NULL) < 0) {
			o->has_fee = 0; /* several assets: no single figure */
			o->fee.m = 0;
			o->fee_asset[0] = '\0';
			return 0;
		}
	}
	return 0;
}

static int
parse_order_obj(struct q_exchange_order *o, json_t *j, struct q_err *err)
{
	const char *type = q_venue_str(j, "type"), *side = q_venue_str(j, "side");
	json_t *id = json_object_get(j, "orderId"), *t;

	memset(o, 0, sizeof(*o));
	if (!json_is_integer(id))
		return q_venue_malformed(err, "order without an integer orderId");
	snprintf(o->order_id, sizeof(o->order_id), "%lld", (long long)json_integer_value(id));
	/* A cancellation names the order's own id origClientOrderId (clientOrderId is the
	 * cancel's). */
	if (q_venue_copy(o->client_id, sizeof(o->client_id), j,
	                 json_object_get(j, "origClientOrderId") ? "origClientOrderId"
	                                                         : "clientOrderId",
	                 err) < 0 ||
	    q_venue_copy(o->symbol, sizeof(o->symbol), j, "symbol", err) < 0 ||
	    q_venue_dec(&o->qty, j, "origQty", err) < 0 ||
	    q_venue_dec(&o->price, j, "price", err) < 0 ||
	    q_venue_dec(&o->executed_qty, j, "executedQty", err) < 0 ||
	    q_venue_dec(&o->cum_quote, j, "cummulativeQuoteQty", err) < 0)
		return -1;
	if (q_venue_status(&o->status, statuses, q_venue_str(j, "status")) < 0)
		return q_venue_malformed(err, "unknown order status");
	o->side = side && strcmp(side, "BUY") == 0    ? Q_EX_BUY
	          : side && strcmp(side, "SELL") == 0 ? Q_EX_SELL
	                                              : 0;
	o->type = type && strcmp(type, "MARKET") == 0                                ? Q_EX_MARKET
	          : type && (!strcmp(type, "LIMIT") || !strcmp(type, "LIMIT_MAKER")) ? Q_EX_LIMIT
	                                                                             : 0;
	if (o->side == 0)
		return q_venue_malformed(err, "order side");
	t = json_object_get(j, "updateTime");
	if (t == NULL)
		t = json_object_get(j, "transactTime");
	if (t && q_venue_ms(&o->update_ms, t, "updateTime", err) < 0)
		return -1;
	q_venue_order_avg(o);
	return parse_fills(o, json_object_get(j, "fills"), err);
}

static int
parse_order(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
            struct q_arena *a, struct q_err *err)
{
	(void)args;
	(void)a;
	return parse_order_obj(&res->order, data, err);
}

static int
build_query(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	if (q_venue_need_symbol(args, err) < 0 ||
	    q_venue_need_client_id(&q_exchange_binance, args, err) < 0)
		return -1;
	rq->method = "GET";
	rq->path = "/api/v3/order";
	q_venue_param(&rq->query, "symbol", args->symbol);
	q_venue_param(&rq->query, "origClientOrderId", args->client_id);
	return 0;
}

static int
build_cancel(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	int by_client;

	if (q_venue_need_symbol(args, err) < 0 ||
	    (by_client = q_venue_need_order_ref(&q_exchange_binance, args, err)) < 0)
		return -1;
	rq->method = "DELETE";
	rq->path = "/api/v3/order";
	q_venue_param(&rq->query, "symbol", args->symbol);
	if (by_client)
		q_venue_param(&rq->query, "origClientOrderId", args->client_id);
	else
		q_venue_param(&rq->query, "orderId", args->order_id);
	return 0;
}

static int
build_cancel_all(struct q_exchange_request *rq, const struct q_exchange_args *args,
                 struct q_err *err)
{
	if (q_venue_need_symbol(args, err) < 0)
		return -1;
	rq->method = "DELETE";
	rq->path = "/api/v3/openOrders";
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
		return q_venue_malformed(err, "orders are not an array");
	out = q_venue_orders_alloc(res, a, json_array_size(data));
	json_array_foreach(data, i, j)
	{
		/* DELETE openOrders also lists order-list reports, which have no orderId. */
		if (json_object_get(j, "orderListId") && !json_object_get(j, "orderId"))
			continue;
		if (parse_order_obj(&out[res->norders], j, err) < 0)
			return -1;
		res->norders++;
	}
	return 0;
}

static int
build_open_orders(struct q_exchange_request *rq, const struct q_exchange_args *args,
                  struct q_err *err)
{
	if (q_venue_need_symbol(args, err) < 0)
		return -1;
	rq->method = "GET";
	rq->path = "/api/v3/openOrders";
	q_venue_param(&rq->query, "symbol", args->symbol);
	return 0;
}

const struct q_exchange_ops q_exchange_binance = {
        .name = "binance",
        .base_url = "https://api.binance.com",
        .needs_passphrase = 0,
        .max_klines = 1000,
        .weight_limit = 5400, /* 90 % of the default REQUEST_WEIGHT of 6000 per minute */
        .weight_header = "X-MBX-USED-WEIGHT-1M",
        /* ^[a-zA-Z0-9-_]{1,36}$ (protocols.md 1.9) */
        .client_id_max = 36,
        .client_id_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        .intervals = intervals,
        .sign = binance_sign,
        .envelope = binance_envelope,
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
                                           parse_order, NULL},
                        [Q_EX_OP_QUERY] = {"query", Q_EX_SIGNED, build_query, parse_order, NULL},
                        [Q_EX_OP_CANCEL] = {"cancel", Q_EX_SIGNED | Q_EX_MUTATING, build_cancel,
                                            parse_order, NULL},
                        [Q_EX_OP_CANCEL_ALL] = {"cancel_all", Q_EX_SIGNED | Q_EX_MUTATING,
                                                build_cancel_all, parse_orders, NULL},
                        [Q_EX_OP_OPEN_ORDERS] = {"open_orders", Q_EX_SIGNED, build_open_orders,
                                                 parse_orders, NULL},
                },
};
