/*
 * Bybit v5 REST, category spot (protocols.md section 3). The signature is lowercase hex
 * HMAC-SHA256 of timestamp + API key + recv window + (query string for GET | JSON body for POST),
 * over exactly the bytes sent, in the X-BAPI-* headers.
 */
#include "exchange/venue.h"

#include <stdio.h>
#include <string.h>

static const struct q_exchange_interval intervals[] = {
        {"1m", "1", 60000LL},      {"3m", "3", 180000LL},
        {"5m", "5", 300000LL},     {"15m", "15", 900000LL},
        {"30m", "30", 1800000LL},  {"1h", "60", 3600000LL},
        {"2h", "120", 7200000LL},  {"4h", "240", 14400000LL},
        {"6h", "360", 21600000LL}, {"12h", "720", 43200000LL},
        {"1d", "D", 86400000LL},   {"1w", "W", 604800000LL},
        {NULL, NULL, 0},
};

/*
 * protocols.md 3.5, and beyond it ccxt's bybit exceptions: 10000 and 10016 (server timeout and
 * server error: treated as a 5xx), for the spot engine 170007/170146/170147 (backend, creation or
 * cancellation timeout: status unknown), 170133-170137/170140/170148 (price and amount rules),
 * 170213 (no such order), 170222 (too many requests).
 */
static const struct q_exchange_errmap errors[] = {
        {"10001", NULL, Q_E_BAD_REQUEST},
        {"10002", NULL, Q_E_EX_CLOCK_SKEW},
        {"10003", NULL, Q_E_EX_AUTH},
        {"10004", NULL, Q_E_EX_AUTH},
        {"10005", NULL, Q_E_EX_AUTH},
        {"10010", NULL, Q_E_EX_AUTH},
        {"33004", NULL, Q_E_EX_AUTH},
        {"10006", NULL, Q_E_EX_RATE_LIMITED},
        {"170222", NULL, Q_E_EX_RATE_LIMITED},
        {"10000", NULL, Q_E_EX_UNKNOWN_OUTCOME},
        {"10016", NULL, Q_E_EX_UNKNOWN_OUTCOME},
        {"170007", NULL, Q_E_EX_UNKNOWN_OUTCOME},
        {"170146", NULL, Q_E_EX_UNKNOWN_OUTCOME},
        {"170147", NULL, Q_E_EX_UNKNOWN_OUTCOME},
        {"110007", NULL, Q_E_EX_INSUFFICIENT},
        {"170131", NULL, Q_E_EX_INSUFFICIENT},
        {"170133", NULL, Q_E_EX_FILTER},
        {"170134", NULL, Q_E_EX_FILTER},
        {"170135", NULL, Q_E_EX_FILTER},
        {"170136", NULL, Q_E_EX_FILTER},
        {"170137", NULL, Q_E_EX_FILTER},
        {"170140", NULL, Q_E_EX_FILTER},
        {"170148", NULL, Q_E_EX_FILTER},
        {"110072", NULL, Q_E_CONFLICT},
        {"170141", NULL, Q_E_CONFLICT},
        {"110001", NULL, Q_E_NOT_FOUND},
        {"170213", NULL, Q_E_NOT_FOUND},
        {NULL, NULL, Q_OK},
};

static const struct q_venue_status statuses[] = {
        {"New", Q_EX_OPEN},
        {"Untriggered", Q_EX_OPEN},
        {"Triggered", Q_EX_OPEN},
        {"PartiallyFilled", Q_EX_PARTIALLY_FILLED},
        {"Filled", Q_EX_FILLED},
        {"Cancelled", Q_EX_CANCELLED},
        {"PartiallyFilledCanceled", Q_EX_CANCELLED},
        {"Deactivated", Q_EX_CANCELLED},
        {"Rejected", Q_EX_REJECTED},
        {NULL, 0},
};

static int
bybit_sign(struct q_exchange_request *rq, const struct q_exchange_creds *c, long long ts_ms,
           long recv_window_ms, struct q_err *err)
{
	int post = strcmp(rq->method, "POST") == 0;
	char hex[65];

	(void)err;
	q_buf_printf(&rq->prehash, "%lld%s%ld%s", ts_ms, c->api_key, recv_window_ms,
	             post ? rq->body.data : rq->query.data);
	q_venue_hmac_hex(hex, c->secret, c->secret_len, rq->prehash.data, rq->prehash.len);
	q_exchange_request_header(rq, "X-BAPI-API-KEY: %s", c->api_key);
	q_exchange_request_header(rq, "X-BAPI-TIMESTAMP: %lld", ts_ms);
	q_exchange_request_header(rq, "X-BAPI-SIGN: %s", hex);
	q_exchange_request_header(rq, "X-BAPI-RECV-WINDOW: %ld", recv_window_ms);
	q_exchange_request_header(rq, "X-BAPI-SIGN-TYPE: 2");
	if (post)
		q_exchange_request_header(rq, "Content-Type: application/json");
	return 0;
}

/* {"retCode":0,"retMsg":"OK","result":{...},"retExtInfo":{},"time":...} */
static int
bybit_envelope(json_t *root, json_t **data, struct q_exchange_venue_err *ve)
{
	json_t *code = json_object_get(root, "retCode");
	const char *msg = q_venue_str(root, "retMsg");

	if (!json_is_integer(code))
		return -2;
	if (json_integer_value(code) != 0) {
		snprintf(ve->code, sizeof(ve->code), "%lld", (long long)json_integer_value(code));
		q_venue_copy_msg(ve->msg, sizeof(ve->msg), msg ? msg : "");
		return -1;
	}
	*data = json_object_get(root, "result");
	return 0;
}

static json_t *
first_of_list(json_t *data, struct q_err *err)
{
	json_t *o = json_array_get(json_object_get(data, "list"), 0);

	if (!json_is_object(o))
		q_venue_malformed(err, "result.list[0] missing");
	return o;
}

static int
build_time(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	(void)args;
	(void)err;
	rq->method = "GET";
	rq->path = "/v5/market/time";
	return 0;
}

/* result.timeNano is 19 digits: the milliseconds are all but the last six. */
static int
parse_time(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
           struct q_arena *a, struct q_err *err)
{
	const char *nano = q_venue_str(data, "timeNano");
	size_t n = nano ? strlen(nano) : 0;
	long long ms = 0;

	(void)args;
	(void)a;
	if (n < 7 || n > 24 || strspn(nano, "0123456789") != n)
		return q_venue_malformed(err, "timeNano");
	for (size_t i = 0; i + 6 < n; i++)
		ms = ms * 10 + (nano[i] - '0');
	res->server_ms = ms;
	return 0;
}

static int
build_rules(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	if (q_venue_need_symbol(args, err) < 0)
		return -1;
	rq->method = "GET";
	rq->path = "/v5/market/instruments-info";
	q_venue_param(&rq->query, "category", "spot");
	q_venue_param(&rq->query, "symbol", args->symbol);
	return 0;
}

static int
parse_rules(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
            struct q_arena *a, struct q_err *err)
{
	struct q_exchange_rules *r = &res->rules;
	json_t *list = json_object_get(data, "list"), *o, *lot, *price;
	const char *status;

	(void)a;
	/* A symbol Bybit does not trade is an empty list: a refusal, not a malformed answer. */
	if (json_is_array(list) && json_array_size(list) == 0)
		return q_err_set(err, Q_E_BAD_REQUEST, "no such symbol %s",
		                 args->symbol ? args->symbol : "");
	if ((o = first_of_list(data, err)) == NULL)
		return -1;
	lot = json_object_get(o, "lotSizeFilter");
	price = json_object_get(o, "priceFilter");
	if (q_venue_copy(r->symbol, sizeof(r->symbol), o, "symbol", err) < 0 ||
	    q_venue_copy(r->base, sizeof(r->base), o, "baseCoin", err) < 0 ||
	    q_venue_copy(r->quote, sizeof(r->quote), o, "quoteCoin", err) < 0 ||
	    q_venue_dec(&r->tick, price, "tickSize", err) < 0 ||
	    q_venue_dec(&r->lot, lot, "basePrecision", err) < 0 ||
	    q_venue_dec_opt(&r->min_qty, lot, "minOrderQty", err) < 0 ||
	    q_venue_dec_opt(&r->max_qty, lot, "maxOrderQty", err) < 0 ||
	    q_venue_dec_opt(&r->min_notional, lot, "minOrderAmt", err) < 0 ||
	    q_venue_dec_opt(&r->quote_step, lot, "quotePrecision", err) < 0)
		return -1;
	if (args->symbol && strcmp(r->symbol, args->symbol) != 0)
		return q_venue_malformed(err, "rules for %s, not %s", r->symbol, args->symbol);
	if (q_dec_sign(r->tick) <= 0 || q_dec_sign(r->lot) <= 0)
		return q_venue_malformed(err, "tickSize or basePrecision not positive");
	status = q_venue_str(o, "status");
	r->trading = status && strcmp(status, "Trading") == 0;
	return 0;
}

static int
build_klines(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	const struct q_exchange_interval *iv;
	int limit;

	if (q_venue_need_symbol(args, err) < 0 ||
	    q_venue_interval(&iv, &q_exchange_bybit, args->interval, err) < 0 ||
	    q_venue_limit(&limit, args, q_exchange_bybit.max_klines, err) < 0)
		return -1;
	rq->method = "GET";
	rq->path = "/v5/market/kline";
	q_venue_param(&rq->query, "category", "spot");
	q_venue_param(&rq->query, "symbol", args->symbol);
	q_venue_param(&rq->query, "interval", iv->venue);
	if (args->end_ms > 0)
		q_venue_param_ll(&rq->query, "end", args->end_ms);
	q_venue_param_ll(&rq->query, "limit", limit);
	return 0;
}

/* result.list: [startTime, open, high, low, close, volume, turnover], newest first. */
static int
parse_klines(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
             struct q_arena *a, struct q_err *err)
{
	const struct q_exchange_interval *iv =
	        q_exchange_interval(&q_exchange_bybit, args->interval ? args->interval : "");
	json_t *list = json_object_get(data, "list"), *row;
	struct q_exchange_kline *k;
	size_t i;

	if (!json_is_array(list) || iv == NULL)
		return q_venue_malformed(err, "result.list is not an array");
	k = q_venue_klines_alloc(res, a, json_array_size(list));
	json_array_foreach(list, i, row)
	{
		if (q_venue_ms(&k[i].open_ms, json_array_get(row, 0), "startTime", err) < 0 ||
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
	rq->path = "/v5/account/wallet-balance";
	q_venue_param(&rq->query, "accountType", "UNIFIED");
	return 0;
}

/* result.list[0].coin[]: walletBalance is the total, locked what open orders hold. */
static int
parse_balances(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
               struct q_arena *a, struct q_err *err)
{
	json_t *acct = first_of_list(data, err), *coins, *c;
	struct q_exchange_balance *out;
	size_t i;

	(void)args;
	if (acct == NULL)
		return -1;
	coins = json_object_get(acct, "coin");
	if (!json_is_array(coins))
		return q_venue_malformed(err, "no coin array");
	out = q_venue_balances_alloc(res, a, json_array_size(coins));
	json_array_foreach(coins, i, c)
	{
		struct q_exchange_balance *x = &out[res->nbalances];
		struct q_dec total;

		if (q_venue_copy(x->asset, sizeof(x->asset), c, "coin", err) < 0 ||
		    q_venue_dec_opt(&total, c, "walletBalance", err) < 0 ||
		    q_venue_dec_opt(&x->locked, c, "locked", err) < 0 ||
		    q_dec_sub(&x->free, total, x->locked, NULL) < 0)
			return q_venue_malformed(err, "coin %zu", i);
		if (q_dec_sign(x->free) < 0)
			x->free.m = 0;
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
	rq->path = "/v5/user/query-api";
	return 0;
}

static int
array_has(json_t *arr, const char *s)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	}
	return 0;
}

/* "Wallet=AccountTransfer,SubMemberTransfer;Spot=SpotTrade": the non-empty groups in order. */
static void
raw_groups(char *out, size_t n, json_t *perms)
{
	size_t len = 0;
	const char *key;
	json_t *list;

	out[0] = '\0';
	json_object_foreach(perms, key, list)
	{
		json_t *v;
		size_t i;

		if (json_array_size(list) == 0 || len + 1 >= n)
			continue;
		len += (size_t)snprintf(out + len, n - len, "%s%s=", len ? ";" : "", key);
		json_array_foreach(list, i, v)
		{
			if (len + 1 < n && json_is_string(v))
				len += (size_t)snprintf(out + len, n - len, "%s%s", i ? "," : "",
				                        json_string_value(v));
		}
		if (len >= n)
			len = n - 1;
	}
}

/*
 * readOnly 1 means no trading at all; ips ["*"] (or none) means not IP-restricted (protocols.md
 * 3.2). Withdraw in permissions.Wallet is the right DESIGN.md section 8 refuses.
 */
static int
parse_perms(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
            struct q_arena *a, struct q_err *err)
{
	struct q_exchange_perms *p = &res->perms;
	json_t *perms = json_object_get(data, "permissions"), *ips = json_object_get(data, "ips");
	json_t *ro = json_object_get(data, "readOnly");

	(void)args;
	(void)a;
	if (!json_is_object(perms) || !json_is_integer(ro))
		return q_venue_malformed(err, "permissions or readOnly missing");
	p->can_read = 1; /* "Any permission can access this endpoint" */
	p->can_trade = json_integer_value(ro) == 0 &&
	               array_has(json_object_get(perms, "Spot"), "SpotTrade");
	p->can_withdraw = array_has(json_object_get(perms, "Wallet"), "Withdraw");
	p->can_transfer = 0;
	p->ip_restricted = json_array_size(ips) > 0 && !array_has(ips, "*");
	raw_groups(p->raw, sizeof(p->raw), perms);
	return 0;
}

static int
build_place(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	static const char *const tif[] = {"GTC", "IOC", "FOK"};
	const struct q_exchange_order_req *o = args->order;
	json_t *b;

	if (q_venue_need_order(&q_exchange_bybit, args, err) < 0)
		return -1;
	rq->method = "POST";
	rq->path = "/v5/order/create";
	b = json_object();
	q_venue_jset(b, "category", "spot");
	q_venue_jset(b, "symbol", o->symbol);
	q_venue_jset(b, "side", o->side == Q_EX_BUY ? "Buy" : "Sell");
	q_venue_jset(b, "orderType", o->type == Q_EX_LIMIT ? "Limit" : "Market");
	if (q_dec_is_zero(o->quote_qty)) {
		q_venue_jset_dec(b, "qty", o->qty);
		/* A spot market buy's qty is in the quote coin unless told otherwise. */
		if (o->type == Q_EX_MARKET)
			q_venue_jset(b, "marketUnit", "baseCoin");
	} else {
		q_venue_jset_dec(b, "qty", o->quote_qty);
		q_venue_jset(b, "marketUnit", "quoteCoin");
	}
	if (o->type == Q_EX_LIMIT) {
		q_venue_jset_dec(b, "price", o->price);
		q_venue_jset(b, "timeInForce", tif[o->tif]);
	}
	q_venue_jset(b, "orderLinkId", o->client_id);
	q_venue_body(&rq->body, b);
	return 0;
}

static int
parse_ack(struct q_exchange_order *o, json_t *data, struct q_err *err)
{
	if (q_venue_copy(o->order_id, sizeof(o->order_id), data, "orderId", err) < 0 ||
	    q_venue_copy(o->client_id, sizeof(o->client_id), data, "orderLinkId", err) < 0)
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

static int
parse_order_obj(struct q_exchange_order *o, json_t *j, struct q_err *err)
{
	const char *side = q_venue_str(j, "side"), *type = q_venue_str(j, "orderType");
	const char *unit = q_venue_str(j, "marketUnit");

	memset(o, 0, sizeof(*o));
	if (q_venue_copy(o->order_id, sizeof(o->order_id), j, "orderId", err) < 0 ||
	    q_venue_copy_opt(o->client_id, sizeof(o->client_id), j, "orderLinkId", err) < 0 ||
	    q_venue_copy(o->symbol, sizeof(o->symbol), j, "symbol", err) < 0 ||
	    q_venue_dec_opt(&o->price, j, "price", err) < 0 ||
	    q_venue_dec(&o->qty, j, "qty", err) < 0 ||
	    q_venue_dec_opt(&o->executed_qty, j, "cumExecQty", err) < 0 ||
	    q_venue_dec_opt(&o->cum_quote, j, "cumExecValue", err) < 0 ||
	    q_venue_dec_opt(&o->fee, j, "cumExecFee", err) < 0)
		return -1;
	if (q_venue_status(&o->status, statuses, q_venue_str(j, "orderStatus")) < 0)
		return q_venue_malformed(err, "unknown orderStatus");
	o->side = side && strcmp(side, "Buy") == 0    ? Q_EX_BUY
	          : side && strcmp(side, "Sell") == 0 ? Q_EX_SELL
	                                              : 0;
	if (o->side == 0)
		return q_venue_malformed(err, "order side");
	o->type = type && strcmp(type, "Market") == 0  ? Q_EX_MARKET
	          : type && strcmp(type, "Limit") == 0 ? Q_EX_LIMIT
	                                               : 0;
	if (o->type == Q_EX_MARKET)
		o->price.m = 0;
	if (unit && strcmp(unit, "quoteCoin") == 0)
		o->qty.m = 0;
	o->has_fee = json_object_get(j, "cumExecFee") != NULL;
	if (json_object_get(j, "updatedTime") &&
	    q_venue_ms(&o->update_ms, json_object_get(j, "updatedTime"), "updatedTime", err) < 0)
		return -1;
	q_venue_order_avg(o);
	return 0;
}

/* The first order of result.list, NOT_FOUND when the list is empty. */
static int
parse_order(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
            struct q_arena *a, struct q_err *err)
{
	json_t *list = json_object_get(data, "list");

	(void)args;
	(void)a;
	if (!json_is_array(list))
		return q_venue_malformed(err, "result.list is not an array");
	if (json_array_size(list) == 0)
		return q_err_set(err, Q_E_NOT_FOUND, "no such order");
	return parse_order_obj(&res->order, json_array_get(list, 0), err);
}

static int
build_lookup(struct q_exchange_request *rq, const struct q_exchange_args *args, const char *path,
             struct q_err *err)
{
	if (q_venue_need_symbol(args, err) < 0 ||
	    q_venue_need_client_id(&q_exchange_bybit, args, err) < 0)
		return -1;
	rq->method = "GET";
	rq->path = path;
	q_venue_param(&rq->query, "category", "spot");
	q_venue_param(&rq->query, "symbol", args->symbol);
	q_venue_param(&rq->query, "orderLinkId", args->client_id);
	return 0;
}

static int
build_query(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	return build_lookup(rq, args, "/v5/order/realtime", err);
}

static int
build_history(struct q_exchange_request *rq, const struct q_exchange_args *args, struct q_err *err)
{
	return build_lookup(rq, args, "/v5/order/history", err);
}

static const struct q_exchange_opdef realtime = {"query", Q_EX_SIGNED, build_query, parse_order,
                                                 NULL};
static const struct q_exchange_opdef history = {"query_history", Q_EX_SIGNED, build_history,
                                                parse_order, NULL};

/*
 * /v5/order/realtime holds open orders and the most recent closed ones; an order that fell out
 * of it is still in /v5/order/history. Only a miss in both is NOT_FOUND.
 */
static int
run_query(struct q_exchange *ex, const struct q_exchange_args *args, struct q_exchange_result *res,
          struct q_arena *a, struct q_err *err)
{
	struct q_err e = {0};

	if (q_exchange_exec(ex, &realtime, args, res, a, &e) == 0)
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
	    (by_client = q_venue_need_order_ref(&q_exchange_bybit, args, err)) < 0)
		return -1;
	rq->method = "POST";
	rq->path = "/v5/order/cancel";
	b = json_object();
	q_venue_jset(b, "category", "spot");
	q_venue_jset(b, "symbol", args->symbol);
	if (by_client)
		q_venue_jset(b, "orderLinkId", args->client_id);
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
	rq->path = "/v5/order/cancel-all";
	b = json_object();
	q_venue_jset(b, "category", "spot");
	q_venue_jset(b, "symbol", args->symbol);
	q_venue_body(&rq->body, b);
	return 0;
}

/* result.list: [{"orderId","orderLinkId"}, ...] of what was cancelled. */
static int
parse_cancel_all(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
                 struct q_arena *a, struct q_err *err)
{
	json_t *list = json_object_get(data, "list"), *j;
	struct q_exchange_order *out;
	size_t i;

	if (!json_is_array(list))
		return q_venue_malformed(err, "result.list is not an array");
	out = q_venue_orders_alloc(res, a, json_array_size(list));
	json_array_foreach(list, i, j)
	{
		if (parse_ack(&out[i], j, err) < 0)
			return -1;
		snprintf(out[i].symbol, sizeof(out[i].symbol), "%s", args->symbol);
		out[i].status = Q_EX_CANCELLED;
		out[i].ack_only = 1;
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
	rq->path = "/v5/order/realtime";
	q_venue_param(&rq->query, "category", "spot");
	q_venue_param(&rq->query, "symbol", args->symbol);
	q_venue_param(&rq->query, "limit", "50");
	return 0;
}

static int
parse_orders(struct q_exchange_result *res, const struct q_exchange_args *args, json_t *data,
             struct q_arena *a, struct q_err *err)
{
	json_t *list = json_object_get(data, "list"), *j;
	struct q_exchange_order *out;
	size_t i;

	(void)args;
	if (!json_is_array(list))
		return q_venue_malformed(err, "result.list is not an array");
	out = q_venue_orders_alloc(res, a, json_array_size(list));
	json_array_foreach(list, i, j)
	{
		if (parse_order_obj(&out[i], j, err) < 0)
			return -1;
		res->norders++;
	}
	return 0;
}

const struct q_exchange_ops q_exchange_bybit = {
        .name = "bybit",
        .base_url = "https://api.bybit.com",
        .needs_passphrase = 0,
        .max_klines = 1000,
        .remaining_header = "X-Bapi-Limit-Status",
        .reset_header = "X-Bapi-Limit-Reset-Timestamp",
        .ban_403_s = 600, /* "403, access too frequent": wait at least 10 minutes */
        /* orderLinkId: "max of 36", letters, digits, dashes and underscores (protocols.md 3.3) */
        .client_id_max = 36,
        .client_id_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        .intervals = intervals,
        .sign = bybit_sign,
        .envelope = bybit_envelope,
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
