/*
 * ex_binance: Binance spot REST as quantor-sim plays it (protocols.md section 1): the paths,
 * X-MBX-APIKEY, HMAC-SHA256 hex (or Ed25519 base64 for a PEM secret) over the query string and
 * body without the signature, timestamp within recvWindow, {"code":-N,"msg":...} errors with
 * Binance's codes and HTTP statuses, 429 and 418 with Retry-After, X-MBX-USED-WEIGHT-1M.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange.h"
#include "exchange/venue.h"

static const struct {
	const char *name;
	int64_t ms;
} intervals[] = {
        {"1m", 60000LL},     {"3m", 180000LL},    {"5m", 300000LL},    {"15m", 900000LL},
        {"30m", 1800000LL},  {"1h", 3600000LL},   {"2h", 7200000LL},   {"4h", 14400000LL},
        {"6h", 21600000LL},  {"8h", 28800000LL},  {"12h", 43200000LL}, {"1d", 86400000LL},
        {"3d", 259200000LL}, {"1w", 604800000LL},
};

static void
fail(struct sim_ex_call *c, int status, int code, const char *msg)
{
	sim_ex_json(c, status, json_pack("{s:i, s:s}", "code", code, "msg", msg));
}

static void
bn_error(struct sim_ex_call *c, enum sim_ex_err e, const char *detail)
{
	char msg[256];

	switch (e) {
	case SIM_EX_OK:
	case SIM_EX_BAD_PARAM:
		snprintf(msg, sizeof(msg),
		         "Mandatory parameter was not sent, was empty/null, or malformed.%s%s",
		         detail ? " " : "", detail ? detail : "");
		fail(c, 400, -1102, msg);
		return;
	case SIM_EX_BAD_SYMBOL:
		fail(c, 400, -1121, "Invalid symbol.");
		return;
	case SIM_EX_BAD_KEY:
	case SIM_EX_BAD_PASS:
	case SIM_EX_NO_PERM:
		fail(c, 401, -2015, "Invalid API-key, IP, or permissions for action.");
		return;
	case SIM_EX_BAD_SIGN:
		fail(c, 400, -1022, "Signature for this request is not valid.");
		return;
	case SIM_EX_TIMESTAMP:
		fail(c, 400, -1021, "Timestamp for this request is outside of the recvWindow.");
		return;
	case SIM_EX_INSUFFICIENT:
		fail(c, 400, -2010, "Account has insufficient balance for requested action.");
		return;
	case SIM_EX_FILTER_LOT:
		fail(c, 400, -1013, "Filter failure: LOT_SIZE");
		return;
	case SIM_EX_FILTER_PRICE:
		fail(c, 400, -1013, "Filter failure: PRICE_FILTER");
		return;
	case SIM_EX_FILTER_NOTIONAL:
		fail(c, 400, -1013, "Filter failure: NOTIONAL");
		return;
	case SIM_EX_DUPLICATE:
		fail(c, 400, -2010, "Duplicate order sent.");
		return;
	case SIM_EX_NO_ORDER:
		fail(c, 400, -2013, "Order does not exist.");
		return;
	case SIM_EX_RATE_LIMITED:
		fail(c, 429, -1003,
		     "Too much request weight used; current limit is 6000 request weight per 1 "
		     "MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.");
		return;
	case SIM_EX_BANNED:
		snprintf(
		        msg, sizeof(msg),
		        "Way too much request weight used; IP banned until %lld. Please use WebSocket "
		        "Streams for live updates to avoid bans.",
		        c->ban_until);
		fail(c, 418, -1003, msg);
		return;
	case SIM_EX_INTERNAL:
		fail(c, 500, -1001,
		     "Internal error; unable to process your request. Please try again.");
		return;
	case SIM_EX_NOT_FOUND:
	case SIM_EX__COUNT:
		break;
	}
	sim_reply(c->resp, 404, "text/html", "<html><body><h1>404 Not Found</h1></body></html>",
	          48);
}

static void
bn_usage(struct sim_ex_call *c)
{
	sim_reply_header(c->resp, "X-MBX-USED-WEIGHT-1M", "%lld", c->used_weight);
}

/* The raw query and body without the signature parameter: what the client signed. */
static char *
payload(struct sim_ex_call *c, const char **sig)
{
	const struct sim_req *req = c->req;
	size_t qn = strlen(req->query);
	char *p = q_arena_alloc(req->arena, qn + req->body_len + 1), *w = p;
	const char *s = req->query;

	*sig = NULL;
	while (*s) {
		const char *amp = strchr(s, '&'), *end = amp ? amp : s + strlen(s);

		if (strncmp(s, "signature=", 10) == 0) {
			*sig = q_arena_strndup(req->arena, s + 10, (size_t)(end - s - 10));
		} else {
			if (w != p)
				*w++ = '&';
			memcpy(w, s, (size_t)(end - s));
			w += end - s;
		}
		s = amp ? amp + 1 : end;
	}
	memcpy(w, req->body, req->body_len);
	w[req->body_len] = '\0';
	return p;
}

/* "%2B" -> "+" and the like, in place (base64 signatures arrive percent-encoded). */
static void
pct_decode(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '%' && s[1] && s[2]) {
			char hex[3] = {s[1], s[2], 0};

			*w++ = (char)strtol(hex, NULL, 16);
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

static enum sim_ex_err
bn_auth(struct sim_ex_call *c)
{
	const char *key = sim_req_header(c->req, "X-MBX-APIKEY");
	const char *ts = sim_ex_param(c, "timestamp"), *rw = sim_ex_param(c, "recvWindow");
	const char *given;
	char *msg, *sig;
	long long t, window = 5000;

	c->acct = sim_ex_account("binance", key);
	if (c->acct == NULL)
		return SIM_EX_BAD_KEY;
	if (ts == NULL)
		return SIM_EX_BAD_PARAM;
	t = strtoll(ts, NULL, 10);
	if (rw) {
		window = strtoll(rw, NULL, 10);
		if (window <= 0 || window > 60000)
			return SIM_EX_BAD_PARAM;
	}
	if (!(t < c->now_ms + 1000 && c->now_ms - t <= window))
		return SIM_EX_TIMESTAMP;
	msg = payload(c, &given);
	if (given == NULL)
		return SIM_EX_BAD_PARAM;
	sig = q_arena_strdup(c->req->arena, given);
	if (q_venue_is_pem(c->acct->secret, c->acct->secret_len)) {
		struct q_buf want = Q_BUF_INIT;
		int ok;

		pct_decode(sig);
		ok = q_venue_ed25519_pem_sign(&want, c->acct->secret, c->acct->secret_len, msg,
		                              strlen(msg), NULL) == 0 &&
		     sim_ex_streq(want.data, sig);
		q_buf_release(&want);
		return ok ? SIM_EX_OK : SIM_EX_BAD_SIGN;
	} else {
		char want[65];

		/* Binance: "the resulting signature value is case-insensitive". */
		for (char *p = sig; *p; p++)
			if (*p >= 'A' && *p <= 'F')
				*p = (char)(*p - 'A' + 'a');
		sim_ex_hmac_hex(want, c->acct, msg, strlen(msg));
		return sim_ex_streq(want, sig) ? SIM_EX_OK : SIM_EX_BAD_SIGN;
	}
}

/* --- public -------------------------------------------------------------------------------- */

static int
r_time(struct sim_ex_call *c)
{
	return sim_ex_json(c, 200, json_pack("{s:I}", "serverTime", (json_int_t)c->now_ms));
}

static json_t *
symbol_json(struct sim_ex_call *c, const struct sim_symbol *s)
{
	return json_pack(
	        "{s:s, s:s, s:s, s:i, s:s, s:i, s:i, s:[{s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s},"
	        " {s:s, s:s, s:b, s:s, s:b, s:i}], s:[s]}",
	        "symbol", s->symbol, "status", "TRADING", "baseAsset", s->base,
	        "baseAssetPrecision", 8, "quoteAsset", s->quote, "quotePrecision", 8,
	        "quoteAssetPrecision", 8, "filters", "filterType", "PRICE_FILTER", "minPrice",
	        sim_ex_dec_fixed(c, s->tick, 8), "maxPrice", "1000000.00000000", "tickSize",
	        sim_ex_dec_fixed(c, s->tick, 8), "filterType", "LOT_SIZE", "minQty",
	        sim_ex_dec_fixed(c, s->min_qty, 8), "maxQty", sim_ex_dec_fixed(c, s->max_qty, 8),
	        "stepSize", sim_ex_dec_fixed(c, s->lot, 8), "filterType", "NOTIONAL", "minNotional",
	        sim_ex_dec_fixed(c, s->min_notional, 8), "applyMinToMarket", 1, "maxNotional",
	        "9000000.00000000", "applyMaxToMarket", 0, "avgPriceMins", 5, "permissions",
	        "SPOT");
}

static int
r_exchange_info(struct sim_ex_call *c)
{
	const char *sym = sim_ex_param(c, "symbol");
	const struct sim_symbol *s;
	json_t *list = json_array();

	if (sym) {
		if ((s = sim_ex_symbol(sym)) == NULL) {
			json_decref(list);
			bn_error(c, SIM_EX_BAD_SYMBOL, NULL);
			return 0;
		}
		json_array_append_new(list, symbol_json(c, s));
	} else {
		for (size_t i = 0; (s = sim_market_symbol_at(i)) != NULL; i++)
			json_array_append_new(list, symbol_json(c, s));
	}
	return sim_ex_json(c, 200,
	                   json_pack("{s:s, s:I, s:[], s:o}", "timezone", "UTC", "serverTime",
	                             (json_int_t)c->now_ms, "rateLimits", "symbols", list));
}

static int
r_klines(struct sim_ex_call *c)
{
	const char *sym = sim_ex_param(c, "symbol"), *iv = sim_ex_param(c, "interval");
	const char *lim = sim_ex_param(c, "limit"), *end = sim_ex_param(c, "endTime");
	long long limit = lim ? strtoll(lim, NULL, 10) : 500,
	          end_ms = end ? strtoll(end, NULL, 10) : 0;
	int64_t ms = 0;
	struct sim_candle *k;
	json_t *rows;
	int n;

	if (sym == NULL || sim_ex_symbol(sym) == NULL) {
		bn_error(c, sym ? SIM_EX_BAD_SYMBOL : SIM_EX_BAD_PARAM, "symbol");
		return 0;
	}
	for (size_t i = 0; iv && i < sizeof(intervals) / sizeof(intervals[0]); i++)
		if (strcmp(intervals[i].name, iv) == 0)
			ms = intervals[i].ms;
	if (ms == 0) {
		fail(c, 400, -1120, "Invalid interval.");
		return 0;
	}
	if (limit < 1 || limit > 1000) {
		fail(c, 400, -1130, "Invalid data sent for a parameter.");
		return 0;
	}
	n = sim_ex_candles(c, sym, ms, end_ms, (size_t)limit, &k);
	if (n < 0) {
		bn_error(c, SIM_EX_INTERNAL, NULL);
		return 0;
	}
	rows = json_array();
	for (int i = 0; i < n; i++) {
		struct q_dec qv;

		q_dec_mul(&qv, k[i].volume, k[i].close, Q_DEC_DOWN, NULL);
		json_array_append_new(rows, json_pack("[I, s, s, s, s, s, I, s, i, s, s, s]",
		                                      (json_int_t)k[i].open_ms,
		                                      sim_ex_dec_fixed(c, k[i].open, 8),
		                                      sim_ex_dec_fixed(c, k[i].high, 8),
		                                      sim_ex_dec_fixed(c, k[i].low, 8),
		                                      sim_ex_dec_fixed(c, k[i].close, 8),
		                                      sim_ex_dec_fixed(c, k[i].volume, 8),
		                                      (json_int_t)(k[i].open_ms + ms - 1),
		                                      sim_ex_dec(c, qv), 100, "0", "0", "0"));
	}
	return sim_ex_json(c, 200, rows);
}

/* --- signed -------------------------------------------------------------------------------- */

static int
r_account(struct sim_ex_call *c)
{
	json_t *bal = json_array();
	const char *omit = sim_ex_param(c, "omitZeroBalances");
	int skip_zero = omit && strcmp(omit, "true") == 0;

	for (int i = 0; i < c->acct->nbal; i++) {
		const struct sim_balance *b = &c->acct->bal[i];

		if (skip_zero && q_dec_is_zero(b->free) && q_dec_is_zero(b->locked))
			continue;
		json_array_append_new(bal, json_pack("{s:s, s:s, s:s}", "asset", b->asset, "free",
		                                     sim_ex_dec_fixed(c, b->free, 8), "locked",
		                                     sim_ex_dec_fixed(c, b->locked, 8)));
	}
	return sim_ex_json(
	        c, 200,
	        json_pack("{s:i, s:i, s:b, s:b, s:b, s:s, s:I, s:o, s:[s], s:I}", "makerCommission",
	                  SIM_EX_FEE_BPS, "takerCommission", SIM_EX_FEE_BPS, "canTrade",
	                  (c->acct->perms & SIM_PERM_TRADE) != 0, "canWithdraw", 1, "canDeposit", 1,
	                  "accountType", "SPOT", "updateTime", (json_int_t)c->now_ms, "balances",
	                  bal, "permissions", "SPOT", "uid", (json_int_t)354937868));
}

static int
r_api_restrictions(struct sim_ex_call *c)
{
	unsigned p = c->acct->perms;

	return sim_ex_json(
	        c, 200,
	        json_pack("{s:b, s:I, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b}",
	                  "ipRestrict", (p & SIM_PERM_IP) != 0, "createTime",
	                  (json_int_t)1698645219000LL, "enableReading", (p & SIM_PERM_READ) != 0,
	                  "enableWithdrawals", (p & SIM_PERM_WITHDRAW) != 0,
	                  "enableInternalTransfer", (p & SIM_PERM_TRANSFER) != 0, "enableMargin", 0,
	                  "enableFutures", 0, "permitsUniversalTransfer",
	                  (p & SIM_PERM_TRANSFER) != 0, "enableVanillaOptions", 0,
	                  "enableFixApiTrade", 0, "enableFixReadOnly", 0,
	                  "enableSpotAndMarginTrading", (p & SIM_PERM_TRADE) != 0,
	                  "enablePortfolioMarginTrading", 0));
}

static const char *
status_of(const struct sim_order *o)
{
	return o->status == SIM_CANCELED ? "CANCELED" : sim_ex_status_name(o->status);
}

static json_t *
order_json(struct sim_ex_call *c, const struct sim_order *o)
{
	static const char *const tif[] = {"GTC", "IOC", "FOK"};

	return json_pack(
	        "{s:s, s:I, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
	        " s:I, s:I, s:b, s:I, s:s, s:s}",
	        "symbol", o->symbol, "orderId", (json_int_t)strtoll(o->order_id, NULL, 10),
	        "orderListId", -1, "clientOrderId", o->client_id, "price",
	        sim_ex_dec_fixed(c, o->price, 8), "origQty", sim_ex_dec_fixed(c, o->qty, 8),
	        "executedQty", sim_ex_dec_fixed(c, o->executed, 8), "cummulativeQuoteQty",
	        sim_ex_dec_fixed(c, o->cum_quote, 8), "status", status_of(o), "timeInForce",
	        tif[o->tif], "type", o->type == SIM_LIMIT ? "LIMIT" : "MARKET", "side",
	        o->side == SIM_BUY ? "BUY" : "SELL", "stopPrice", "0.00000000", "icebergQty",
	        "0.00000000", "time", (json_int_t)o->created_ms, "updateTime",
	        (json_int_t)o->updated_ms, "isWorking", o->status == SIM_NEW, "workingTime",
	        (json_int_t)o->created_ms, "origQuoteOrderQty",
	        sim_ex_dec_fixed(c, o->quote_qty, 8), "selfTradePreventionMode", "NONE");
}

static int
r_place(struct sim_ex_call *c)
{
	const char *side = sim_ex_param(c, "side"), *type = sim_ex_param(c, "type");
	const char *tif = sim_ex_param(c, "timeInForce"), *qty = sim_ex_param(c, "quantity");
	const char *qq = sim_ex_param(c, "quoteOrderQty"), *px = sim_ex_param(c, "price");
	const char *cid = sim_ex_param(c, "newClientOrderId");
	struct sim_order_req r = {.symbol = sim_ex_param(c, "symbol"), .client_id = cid};
	struct sim_order *o;
	enum sim_ex_err e;
	json_t *j;

	r.side = side && !strcmp(side, "BUY")    ? SIM_BUY
	         : side && !strcmp(side, "SELL") ? SIM_SELL
	                                         : 0;
	r.type = type && !strcmp(type, "LIMIT")    ? SIM_LIMIT
	         : type && !strcmp(type, "MARKET") ? SIM_MARKET
	                                           : 0;
	if (r.symbol == NULL || r.side == 0 || r.type == 0 || (qty == NULL) == (qq == NULL) ||
	    (qty && sim_ex_parse_dec(qty, &r.qty) < 0) ||
	    (qq && sim_ex_parse_dec(qq, &r.quote_qty) < 0)) {
		bn_error(c, SIM_EX_BAD_PARAM, NULL);
		return 0;
	}
	if (cid &&
	    (strlen(cid) > 36 || strspn(cid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
	                                     "wxyz0123456789-_") != strlen(cid))) {
		fail(c, 400, -1100,
		     "Illegal characters found in parameter 'newClientOrderId'; legal range is "
		     "'^[a-zA-Z0-9-_]{1,36}$'.");
		return 0;
	}
	if (r.type == SIM_LIMIT) {
		if (tif == NULL || px == NULL || sim_ex_parse_dec(px, &r.price) < 0) {
			bn_error(c, SIM_EX_BAD_PARAM, NULL);
			return 0;
		}
		r.tif = !strcmp(tif, "IOC") ? SIM_IOC : !strcmp(tif, "FOK") ? SIM_FOK : SIM_GTC;
	}
	e = sim_ex_place(c, &r, &o);
	if (e != SIM_EX_OK) {
		bn_error(c, e, NULL);
		return 0;
	}
	j = order_json(c, o);
	json_object_set_new(j, "transactTime", json_integer(o->created_ms));
	if (o->status == SIM_FILLED) {
		struct q_dec avg;

		q_dec_div(&avg, o->cum_quote, o->executed, Q_DEC_HALF_EVEN, NULL);
		json_object_set_new(j, "fills",
		                    json_pack("[{s:s, s:s, s:s, s:s, s:I}]", "price",
		                              sim_ex_dec(c, avg), "qty",
		                              sim_ex_dec_fixed(c, o->executed, 8), "commission",
		                              sim_ex_dec_fixed(c, o->fee, 8), "commissionAsset",
		                              o->fee_asset, "tradeId", (json_int_t)o->seq));
	} else {
		json_object_set_new(j, "fills", json_array());
	}
	return sim_ex_json(c, 200, j);
}

static struct sim_order *
find(struct sim_ex_call *c)
{
	const char *sym = sim_ex_param(c, "symbol"), *cid = sim_ex_param(c, "origClientOrderId");
	const char *oid = sim_ex_param(c, "orderId");

	if (sym == NULL || (cid == NULL && oid == NULL)) {
		bn_error(c, SIM_EX_BAD_PARAM, NULL);
		return NULL;
	}
	return sim_ex_find(c, sym, cid, oid);
}

static int
r_query(struct sim_ex_call *c)
{
	struct sim_order *o = find(c);

	if (o == NULL) {
		if (c->resp->status == 0)
			bn_error(c, SIM_EX_NO_ORDER, NULL);
		return 0;
	}
	return sim_ex_json(c, 200, order_json(c, o));
}

static json_t *
cancel_json(struct sim_ex_call *c, const struct sim_order *o)
{
	json_t *j = order_json(c, o);

	json_object_set_new(j, "origClientOrderId", json_string(o->client_id));
	json_object_set_new(j, "clientOrderId",
	                    json_string(q_arena_printf(c->req->arena, "cancel%lld", o->seq)));
	json_object_set_new(j, "transactTime", json_integer(c->now_ms));
	return j;
}

static int
r_cancel(struct sim_ex_call *c)
{
	struct sim_order *o = find(c);

	if (o == NULL || sim_ex_cancel(c, o) != SIM_EX_OK) {
		if (c->resp->status == 0)
			fail(c, 400, -2011, "Unknown order sent.");
		return 0;
	}
	return sim_ex_json(c, 200, cancel_json(c, o));
}

static int
r_cancel_all(struct sim_ex_call *c)
{
	const char *sym = sim_ex_param(c, "symbol");
	struct sim_order **open;
	size_t n;
	json_t *a;

	if (sym == NULL || sim_ex_symbol(sym) == NULL) {
		bn_error(c, sym ? SIM_EX_BAD_SYMBOL : SIM_EX_BAD_PARAM, NULL);
		return 0;
	}
	n = sim_ex_open_orders(c, sym, &open);
	if (n == 0) {
		fail(c, 400, -2011, "Unknown order sent.");
		return 0;
	}
	a = json_array();
	for (size_t i = 0; i < n; i++) {
		sim_ex_cancel(c, open[i]);
		json_array_append_new(a, cancel_json(c, open[i]));
	}
	return sim_ex_json(c, 200, a);
}

static int
r_open_orders(struct sim_ex_call *c)
{
	const char *sym = sim_ex_param(c, "symbol");
	struct sim_order **open;
	size_t n;
	json_t *a;

	if (sym && sim_ex_symbol(sym) == NULL) {
		bn_error(c, SIM_EX_BAD_SYMBOL, NULL);
		return 0;
	}
	n = sim_ex_open_orders(c, sym, &open);
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, order_json(c, open[i]));
	return sim_ex_json(c, 200, a);
}

static const struct sim_ex_route routes[] = {
        {"GET", "/api/v3/time", "time", 0, r_time},
        {"GET", "/api/v3/exchangeInfo", "rules", 0, r_exchange_info},
        {"GET", "/api/v3/klines", "klines", 0, r_klines},
        {"GET", "/api/v3/account", "balances", 1, r_account},
        {"GET", "/sapi/v1/account/apiRestrictions", "permissions", 1, r_api_restrictions},
        {"POST", "/api/v3/order", "place", 1, r_place},
        {"GET", "/api/v3/order", "query", 1, r_query},
        {"DELETE", "/api/v3/order", "cancel", 1, r_cancel},
        {"DELETE", "/api/v3/openOrders", "cancel_all", 1, r_cancel_all},
        {"GET", "/api/v3/openOrders", "open_orders", 1, r_open_orders},
        {NULL, NULL, NULL, 0, NULL},
};

const struct sim_venue sim_venue_binance = {
        .name = "binance",
        .routes = routes,
        .auth = bn_auth,
        .error = bn_error,
        .usage = bn_usage,
};
