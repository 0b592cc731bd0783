/*
 * ex_bybit: Bybit v5 REST, category spot, as quantor-sim plays it (protocols.md section 3): the
 * /v5/ paths, the X-BAPI-API-KEY / -TIMESTAMP / -SIGN / -RECV-WINDOW headers, lowercase hex
 * HMAC-SHA256 of timestamp + key + recv window + (raw query | raw JSON body), the window rule
 * "server_time - recv_window <= timestamp < server_time + 1000", the {"retCode", "retMsg",
 * "result", "retExtInfo", "time"} envelope with Bybit's codes (10xxx general, 170xxx spot),
 * 429 for the rate limit, "403, access too frequent" for a ban, and the X-Bapi-Limit-* headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange.h"

/*
 * Bybit counts per endpoint and second; the core counts the venue's requests per minute, so the
 * usage headers show a per-minute budget. Only the core's own limit (per_minute, faults) refuses.
 */
#define BY_LIMIT 1200
#define BY_QUOTE_STEP "0.00000001" /* quotePrecision: the step of a market buy's quote amount */
#define BY_MAX_ORDER_AMT "2000000"
#define BY_CID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

/* The kline intervals Bybit names; "M" (a calendar month) is not simulated. */
static const struct {
	const char *name;
	int64_t ms;
} intervals[] = {
        {"1", 60000LL},      {"3", 180000LL},     {"5", 300000LL},    {"15", 900000LL},
        {"30", 1800000LL},   {"60", 3600000LL},   {"120", 7200000LL}, {"240", 14400000LL},
        {"360", 21600000LL}, {"720", 43200000LL}, {"D", 86400000LL},  {"W", 604800000LL},
};

static int
reply(struct sim_ex_call *c, int status, int code, const char *msg, json_t *result)
{
	/* A NULL result (a failed json_pack) makes this pack fail too: sim_ex_json answers 500. */
	return sim_ex_json(c, status,
	                   json_pack("{s:i, s:s, s:o, s:{}, s:I}", "retCode", code, "retMsg", msg,
	                             "result", result, "retExtInfo", "time",
	                             (json_int_t)c->now_ms));
}

static int
ok(struct sim_ex_call *c, json_t *result)
{
	return reply(c, 200, 0, "OK", result);
}

static int
fail(struct sim_ex_call *c, int status, int code, const char *msg)
{
	return reply(c, status, code, msg, json_object());
}

static int
bad_param(struct sim_ex_call *c, const char *what)
{
	return fail(c, 200, 10001, q_arena_printf(c->req->arena, "params error: %s", what));
}

static void
by_error(struct sim_ex_call *c, enum sim_ex_err e, const char *detail)
{
	static const char forbidden[] = "403, access too frequent";

	switch (e) {
	case SIM_EX_OK:
	case SIM_EX_BAD_PARAM:
		if (detail)
			bad_param(c, detail);
		else
			fail(c, 200, 10001, "Request parameter error.");
		return;
	case SIM_EX_BAD_SYMBOL:
		fail(c, 200, 10001, "params error: symbol invalid");
		return;
	case SIM_EX_BAD_KEY:
	case SIM_EX_BAD_PASS:
		/* error.mdx: 401 for a wrong key or missing authentication headers. */
		fail(c, 401, 10003, "API key is invalid.");
		return;
	case SIM_EX_BAD_SIGN:
		fail(c, 200, 10004,
		     "Error sign, please check your signature generation algorithm.");
		return;
	case SIM_EX_NO_PERM:
		fail(c, 200, 10005, "Permission denied, please check your API key permissions.");
		return;
	case SIM_EX_TIMESTAMP: {
		const char *ts = sim_req_header(c->req, "X-BAPI-TIMESTAMP");
		const char *rw = sim_req_header(c->req, "X-BAPI-RECV-WINDOW");

		fail(c, 200, 10002,
		     q_arena_printf(c->req->arena,
		                    "invalid request, please check your server timestamp or "
		                    "recv_window param. req_timestamp[%s],server_timestamp[%lld],"
		                    "recv_window[%s]",
		                    ts ? ts : "", (long long)c->now_ms, rw ? rw : "5000"));
		return;
	}
	case SIM_EX_INSUFFICIENT:
		fail(c, 200, 170131, "Insufficient balance.");
		return;
	case SIM_EX_FILTER_LOT:
		fail(c, 200, 170137, "Order volume decimal too long.");
		return;
	case SIM_EX_FILTER_PRICE:
		fail(c, 200, 170134, "Order price decimal too long.");
		return;
	case SIM_EX_FILTER_NOTIONAL:
		fail(c, 200, 170140, "Order value exceeded lower limit.");
		return;
	case SIM_EX_DUPLICATE:
		fail(c, 200, 170141, "Duplicate clientOrderId.");
		return;
	case SIM_EX_NO_ORDER:
		fail(c, 200, 170213, "Order does not exist.");
		return;
	case SIM_EX_RATE_LIMITED:
		/* The X-Bapi-Limit-* headers (by_usage) say 0 left until the wait is over. */
		fail(c, 429, 10006, "Too many visits. Exceeded the API Rate Limit.");
		return;
	case SIM_EX_BANNED:
		/* The IP ban answers from Bybit's edge, not with the JSON envelope. */
		sim_reply(c->resp, 403, "text/plain", forbidden, sizeof(forbidden) - 1);
		return;
	case SIM_EX_INTERNAL:
		fail(c, 500, 10016, "Internal System Error.");
		return;
	case SIM_EX_NOT_FOUND:
	case SIM_EX__COUNT:
		break;
	}
	fail(c, 404, 10017, "Route not found.");
}

static void
by_usage(struct sim_ex_call *c)
{
	long long left = BY_LIMIT - c->used_weight, reset = c->now_ms;

	/* "when your request limit resets if you have exceeded your rate_limit. Otherwise, this is
	 * just the current timestamp" (rate-limit.mdx). */
	if (c->resp->status == 429) {
		left = 0;
		reset = c->now_ms + 1000LL * c->retry_after_s;
	}
	sim_reply_header(c->resp, "X-Bapi-Limit-Status", "%lld", left > 0 ? left : 0);
	sim_reply_header(c->resp, "X-Bapi-Limit", "%d", BY_LIMIT);
	sim_reply_header(c->resp, "X-Bapi-Limit-Reset-Timestamp", "%lld", reset);
}

static int
all_digits(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= max && strspn(s, "0123456789") == n;
}

static enum sim_ex_err
by_auth(struct sim_ex_call *c)
{
	const struct sim_req *req = c->req;
	const char *key = sim_req_header(req, "X-BAPI-API-KEY");
	const char *ts = sim_req_header(req, "X-BAPI-TIMESTAMP");
	const char *sign = sim_req_header(req, "X-BAPI-SIGN");
	const char *rw = sim_req_header(req, "X-BAPI-RECV-WINDOW");
	const char *type = sim_req_header(req, "X-BAPI-SIGN-TYPE");
	long long t, window = 5000;
	const char *payload;
	size_t np, nk, nt, nr;
	char *msg, want[65];

	c->acct = sim_ex_account("bybit", key);
	if (c->acct == NULL)
		return SIM_EX_BAD_KEY;
	if (!all_digits(ts, 18) || (rw && !all_digits(rw, 9)))
		return SIM_EX_BAD_PARAM;
	t = strtoll(ts, NULL, 10);
	if (rw && (window = strtoll(rw, NULL, 10)) <= 0)
		return SIM_EX_BAD_PARAM;
	if (!(c->now_ms - window <= t && t < c->now_ms + 1000))
		return SIM_EX_TIMESTAMP;
	/* HMAC only ("2", the default); RSA keys are not simulated. */
	if (sign == NULL || (type && strcmp(type, "2") != 0))
		return SIM_EX_BAD_SIGN;
	/* The exact bytes received: the raw query of a GET, the raw body of a POST. */
	if (strcmp(req->method, "POST") == 0) {
		payload = req->body;
		np = req->body_len;
	} else {
		payload = req->query;
		np = strlen(req->query);
	}
	nt = strlen(ts);
	nk = strlen(key);
	nr = rw ? strlen(rw) : 0;
	msg = q_arena_alloc(req->arena, nt + nk + nr + np + 1);
	memcpy(msg, ts, nt);
	memcpy(msg + nt, key, nk);
	if (nr)
		memcpy(msg + nt + nk, rw, nr);
	memcpy(msg + nt + nk + nr, payload, np);
	msg[nt + nk + nr + np] = '\0';
	sim_ex_hmac_hex(want, c->acct, msg, nt + nk + nr + np);
	return sim_ex_streq(want, sign) ? SIM_EX_OK : SIM_EX_BAD_SIGN;
}

/* --- helpers ------------------------------------------------------------------------------- */

/* A parameter: from the JSON body of a POST, from the query string otherwise. */
static const char *
arg(const struct sim_ex_call *c, const char *name)
{
	return strcmp(c->req->method, "POST") == 0 ? sim_ex_body_str(c, name)
	                                           : sim_ex_param(c, name);
}

/* category=spot, the only one simulated; 0 after answering 10001 otherwise. */
static int
spot(struct sim_ex_call *c)
{
	const char *cat = arg(c, "category");

	if (cat && strcmp(cat, "spot") == 0)
		return 1;
	bad_param(c,
	          cat ? "category invalid (quantor-sim plays spot only)" : "category is required");
	return 0;
}

/* limit in [1, max], def when absent; -1 after answering 10001. */
static int
limit_arg(struct sim_ex_call *c, int def, int max)
{
	const char *s = arg(c, "limit");
	long n;

	if (s == NULL)
		return def;
	n = all_digits(s, 6) ? strtol(s, NULL, 10) : 0;
	if (n < 1 || n > max) {
		bad_param(c, q_arena_printf(c->req->arena, "limit must be 1 to %d", max));
		return -1;
	}
	return (int)n;
}

static const char *
ms_str(struct sim_ex_call *c, long long ms)
{
	return q_arena_printf(c->req->arena, "%lld", ms);
}

static void
jset(json_t *j, const char *key, const char *value)
{
	json_object_set_new(j, key, json_string(value));
}

static const char *
dec_or_empty(struct sim_ex_call *c, struct q_dec d)
{
	return q_dec_is_zero(d) ? "" : sim_ex_dec(c, d);
}

/* --- market data --------------------------------------------------------------------------- */

static int
r_time(struct sim_ex_call *c)
{
	long long ms = c->now_ms;

	return ok(c, json_pack("{s:s, s:s}", "timeSecond", ms_str(c, ms / 1000), "timeNano",
	                       q_arena_printf(c->req->arena, "%lld000000", ms)));
}

static json_t *
instrument_json(struct sim_ex_call *c, const struct sim_symbol *s)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s},"
	                 " s:{s:s}, s:{s:s, s:s}}",
	                 "symbol", s->symbol, "baseCoin", s->base, "quoteCoin", s->quote,
	                 "innovation", "0", "status", "Trading", "marginTrading", "none", "stTag",
	                 "0", "lotSizeFilter", "basePrecision", sim_ex_dec(c, s->lot),
	                 "quotePrecision", BY_QUOTE_STEP, "minOrderQty", sim_ex_dec(c, s->min_qty),
	                 "maxOrderQty", sim_ex_dec(c, s->max_qty), "minOrderAmt",
	                 sim_ex_dec(c, s->min_notional), "maxOrderAmt", BY_MAX_ORDER_AMT,
	                 "priceFilter", "tickSize", sim_ex_dec(c, s->tick), "riskParameters",
	                 "priceLimitRatioX", "0.05", "priceLimitRatioY", "0.05");
}

/* An unknown symbol is an empty list, as Bybit answers it. */
static int
r_instruments(struct sim_ex_call *c)
{
	const char *sym = arg(c, "symbol");
	const struct sim_symbol *s;
	json_t *list;

	if (!spot(c))
		return 0;
	list = json_array();
	if (sym) {
		if ((s = sim_ex_symbol(sym)) != NULL)
			json_array_append_new(list, instrument_json(c, s));
	} else {
		for (size_t i = 0; (s = sim_market_symbol_at(i)) != NULL; i++)
			json_array_append_new(list, instrument_json(c, s));
	}
	return ok(c, json_pack("{s:s, s:s, s:o}", "category", "spot", "nextPageCursor", "", "list",
	                       list));
}

/* result.list: [startTime, open, high, low, close, volume, turnover] strings, newest first. */
static int
r_kline(struct sim_ex_call *c)
{
	const char *sym = arg(c, "symbol"), *iv = arg(c, "interval");
	const char *start = arg(c, "start"), *end = arg(c, "end");
	long long start_ms = 0, end_ms = 0;
	int64_t ms = 0;
	struct sim_candle *k;
	json_t *rows;
	int limit, n;

	if (!spot(c))
		return 0;
	if (sym == NULL)
		return bad_param(c, "symbol is required");
	if (sim_ex_symbol(sym) == NULL)
		return fail(c, 200, 10001, "Not supported symbols");
	for (size_t i = 0; iv && i < sizeof(intervals) / sizeof(intervals[0]); i++)
		if (strcmp(intervals[i].name, iv) == 0)
			ms = intervals[i].ms;
	if (ms == 0)
		return fail(c, 200, 10001, "Invalid period!");
	if ((start && !all_digits(start, 18)) || (end && !all_digits(end, 18)))
		return bad_param(c, "start and end are times in ms");
	if ((limit = limit_arg(c, 200, 1000)) < 0)
		return 0;
	start_ms = start ? strtoll(start, NULL, 10) : 0;
	end_ms = end ? strtoll(end, NULL, 10) : 0;
	/* Only a start: the candles from it on. */
	if (start && !end)
		end_ms = start_ms + (long long)limit * ms - 1;
	n = sim_ex_candles(c, sym, ms, end_ms, (size_t)limit, &k);
	if (n < 0) {
		by_error(c, SIM_EX_INTERNAL, NULL);
		return 0;
	}
	rows = json_array();
	for (int i = n - 1; i >= 0; i--) {
		struct q_dec turnover;

		if (k[i].open_ms < start_ms)
			continue;
		q_dec_mul(&turnover, k[i].volume, k[i].close, Q_DEC_DOWN, NULL);
		json_array_append_new(
		        rows, json_pack("[s, s, s, s, s, s, s]", ms_str(c, k[i].open_ms),
		                        sim_ex_dec(c, k[i].open), sim_ex_dec(c, k[i].high),
		                        sim_ex_dec(c, k[i].low), sim_ex_dec(c, k[i].close),
		                        sim_ex_dec(c, k[i].volume), sim_ex_dec(c, turnover)));
	}
	return ok(c, json_pack("{s:s, s:s, s:o}", "symbol", sym, "category", "spot", "list", rows));
}

/* --- account ------------------------------------------------------------------------------- */

/* The USD value of n of asset (USDT 1:1, else at its USDT price; 0 when it has none). */
static struct q_dec
usd_value(struct sim_ex_call *c, const char *asset, struct q_dec n)
{
	struct q_dec px, v = {0}, step;

	if (strcmp(asset, "USDT") == 0)
		return n;
	q_dec_parse_str(&step, BY_QUOTE_STEP, NULL);
	if (sim_ex_price(c, q_arena_printf(c->req->arena, "%sUSDT", asset), &px) < 0 ||
	    q_dec_mul(&v, n, px, Q_DEC_DOWN, NULL) < 0 ||
	    q_dec_quantize(&v, v, step, Q_DEC_DOWN, NULL) < 0)
		return (struct q_dec){0};
	return v;
}

/* 1 when item is one of the comma-separated names in list. */
static int
in_list(const char *list, const char *item)
{
	size_t n = strlen(item);

	for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, item, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/* A UTA's wallet: walletBalance is free + locked, locked what open spot orders hold. */
static int
r_wallet(struct sim_ex_call *c)
{
	const char *type = arg(c, "accountType"), *coins = arg(c, "coin");
	struct q_dec equity = {0}, avail = {0};
	json_t *list = json_array();

	if (type == NULL || strcmp(type, "UNIFIED") != 0) {
		json_decref(list);
		return bad_param(c, "accountType only support UNIFIED");
	}
	for (int i = 0; i < c->acct->nbal; i++) {
		const struct sim_balance *b = &c->acct->bal[i];
		struct q_dec wallet, usd, usd_free;
		json_t *j;

		if (coins) {
			if (!in_list(coins, b->asset))
				continue;
		} else if (q_dec_is_zero(b->free) && q_dec_is_zero(b->locked)) {
			continue;
		}
		q_dec_add(&wallet, b->free, b->locked, NULL);
		usd = usd_value(c, b->asset, wallet);
		usd_free = usd_value(c, b->asset, b->free);
		q_dec_add(&equity, equity, usd, NULL);
		q_dec_add(&avail, avail, usd_free, NULL);
		j = json_pack(
		        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
		        " s:s, s:b, s:b, s:s}",
		        "coin", b->asset, "equity", sim_ex_dec(c, wallet), "usdValue",
		        sim_ex_dec(c, usd), "walletBalance", sim_ex_dec(c, wallet), "locked",
		        sim_ex_dec(c, b->locked), "spotHedgingQty", "0", "borrowAmount", "0",
		        "availableToWithdraw", "", "accruedInterest", "0", "totalOrderIM", "0",
		        "totalPositionIM", "0", "totalPositionMM", "0", "unrealisedPnl", "0",
		        "cumRealisedPnl", "0", "bonus", "0", "marginCollateral", 1,
		        "collateralSwitch", 1, "availableToBorrow", "");
		json_array_append_new(list, j);
	}
	return ok(c, json_pack("{s:[{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}]}",
	                       "list", "accountType", "UNIFIED", "accountIMRate", "0",
	                       "accountMMRate", "0", "accountLTV", "0", "totalEquity",
	                       sim_ex_dec(c, equity), "totalWalletBalance", sim_ex_dec(c, equity),
	                       "totalMarginBalance", sim_ex_dec(c, equity), "totalAvailableBalance",
	                       sim_ex_dec(c, avail), "totalPerpUPL", "0", "totalInitialMargin", "0",
	                       "totalMaintenanceMargin", "0", "coin", list));
}

static unsigned
fnv1a(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* "2025-10-13T03:20:45Z": Bybit's times here carry no milliseconds. */
static const char *
rfc3339_s(struct sim_ex_call *c, int64_t ms)
{
	char t[32];

	sim_clock_rfc3339(t, ms);
	t[19] = 'Z';
	t[20] = '\0';
	return q_arena_strdup(c->req->arena, t);
}

/*
 * The key's own record (apikey-info.mdx). readOnly 1 is a key that cannot trade; the groups it
 * reads are listed all the same, as Bybit does. An IP-bound key never expires, an unbound one
 * after 90 days.
 */
static int
r_query_api(struct sim_ex_call *c)
{
	unsigned p = c->acct->perms;
	int ip = (p & SIM_PERM_IP) != 0;
	json_t *wallet = json_array(), *perms;

	if (p & SIM_PERM_TRANSFER) {
		json_array_append_new(wallet, json_string("AccountTransfer"));
		json_array_append_new(wallet, json_string("SubMemberTransfer"));
	}
	if (p & SIM_PERM_WITHDRAW)
		json_array_append_new(wallet, json_string("Withdraw"));
	perms = json_pack("{s:[], s:[s], s:o, s:[], s:[], s:[], s:[], s:[], s:[], s:[], s:[]}",
	                  "ContractTrade", "Spot", "SpotTrade", "Wallet", wallet, "Options",
	                  "Derivatives", "CopyTrading", "BlockTrade", "Exchange", "NFT",
	                  "Affiliate", "Earn");
	return ok(
	        c,
	        json_pack("{s:s, s:s, s:s, s:i, s:s, s:o, s:[s], s:i, s:i, s:s, s:s, s:i, s:i, "
	                  "s:I, s:i, s:s, s:s, s:i, s:s, s:b, s:s, s:s, s:s}",
	                  "id",
	                  q_arena_printf(c->req->arena, "%u", fnv1a(c->acct->api_key) % 10000000u),
	                  "note", c->acct->name, "apiKey", c->acct->api_key, "readOnly",
	                  (p & SIM_PERM_TRADE) ? 0 : 1, "secret", "", "permissions", perms, "ips",
	                  ip ? "127.0.0.1" : "*", "type", 1, "deadlineDay", ip ? -2 : 90,
	                  "expiredAt",
	                  ip ? "1970-01-01T00:00:00Z" : rfc3339_s(c, c->now_ms + 90 * 86400000LL),
	                  "createdAt", rfc3339_s(c, c->now_ms), "unified", 0, "uta", 1, "userID",
	                  (json_int_t)(100000 + fnv1a(c->acct->name) % 900000u), "inviterID", 0,
	                  "vipLevel", "No VIP", "mktMakerLevel", "0", "affiliateID", 0,
	                  "rsaPublicKey", "", "isMaster", 1, "parentUid", "0", "kycLevel",
	                  "LEVEL_1", "kycRegion", ""));
}

/* --- orders -------------------------------------------------------------------------------- */

static const char *
status_of(const struct sim_order *o)
{
	switch (o->status) {
	case SIM_NEW:
		return "New";
	case SIM_FILLED:
		return "Filled";
	case SIM_CANCELED:
	case SIM_EXPIRED: /* an IOC / FOK that could not fill: Bybit cancels it */
		return "Cancelled";
	}
	return "Rejected";
}

static const char *
cancel_type(const struct sim_order *o)
{
	return o->status == SIM_CANCELED  ? "CancelByUser"
	       : o->status == SIM_EXPIRED ? "CancelByTimeInForce"
	                                  : "UNKNOWN";
}

/* An order as /v5/order/realtime and /v5/order/history list it (open-order.mdx). */
static json_t *
order_json(struct sim_ex_call *c, const struct sim_order *o)
{
	static const char *const tif[] = {"GTC", "IOC", "FOK"};
	int market = o->type == SIM_MARKET, by_quote = !q_dec_is_zero(o->quote_qty);
	struct q_dec leaves = {0}, leaves_value = {0}, avg = {0};
	json_t *j = json_object();

	if (o->status == SIM_NEW) {
		q_dec_sub(&leaves, o->qty, o->executed, NULL);
		q_dec_mul(&leaves_value, leaves, o->price, Q_DEC_UP, NULL);
	}
	if (q_dec_sign(o->executed) > 0)
		q_dec_div(&avg, o->cum_quote, o->executed, Q_DEC_HALF_EVEN, NULL);
	jset(j, "orderId", o->order_id);
	jset(j, "orderLinkId", o->client_id);
	jset(j, "blockTradeId", "");
	jset(j, "symbol", o->symbol);
	jset(j, "price", sim_ex_dec(c, o->price));
	/* A market buy for a quote amount states that amount, in the quote coin. */
	jset(j, "qty", sim_ex_dec(c, by_quote ? o->quote_qty : o->qty));
	jset(j, "side", o->side == SIM_BUY ? "Buy" : "Sell");
	jset(j, "isLeverage", "0");
	json_object_set_new(j, "positionIdx", json_integer(0));
	jset(j, "orderStatus", status_of(o));
	jset(j, "cancelType", cancel_type(o));
	jset(j, "rejectReason", "EC_NoError");
	jset(j, "avgPrice", dec_or_empty(c, avg));
	jset(j, "leavesQty", sim_ex_dec(c, leaves));
	jset(j, "leavesValue", sim_ex_dec(c, leaves_value));
	jset(j, "cumExecQty", sim_ex_dec(c, o->executed));
	jset(j, "cumExecValue", sim_ex_dec(c, o->cum_quote));
	jset(j, "cumExecFee", sim_ex_dec(c, o->fee));
	jset(j, "timeInForce", market ? "IOC" : tif[o->tif]);
	jset(j, "orderType", market ? "Market" : "Limit");
	jset(j, "stopOrderType", "");
	jset(j, "orderIv", "");
	jset(j, "marketUnit", !market ? "" : by_quote ? "quoteCoin" : "baseCoin");
	jset(j, "triggerPrice", "0");
	jset(j, "takeProfit", "0");
	jset(j, "stopLoss", "0");
	jset(j, "tpslMode", "");
	jset(j, "ocoTriggerBy", "OcoTriggerByUnknown");
	jset(j, "tpLimitPrice", "0");
	jset(j, "slLimitPrice", "0");
	jset(j, "tpTriggerBy", "");
	jset(j, "slTriggerBy", "");
	json_object_set_new(j, "triggerDirection", json_integer(0));
	jset(j, "triggerBy", "");
	jset(j, "lastPriceOnCreated", "");
	json_object_set_new(j, "reduceOnly", json_false());
	json_object_set_new(j, "closeOnTrigger", json_false());
	jset(j, "placeType", "");
	jset(j, "smpType", "None");
	json_object_set_new(j, "smpGroup", json_integer(0));
	jset(j, "smpOrderId", "");
	jset(j, "createdTime", ms_str(c, o->created_ms));
	jset(j, "updatedTime", ms_str(c, o->updated_ms));
	return j;
}

static json_t *
ack_json(const struct sim_order *o)
{
	return json_pack("{s:s, s:s}", "orderId", o->order_id, "orderLinkId", o->client_id);
}

/* Which limit a SIM_EX_FILTER_LOT broke, in Bybit's spot codes. */
static int
lot_error(struct sim_ex_call *c, const struct sim_symbol *s, const struct sim_order_req *r)
{
	if (q_dec_is_zero(r->quote_qty) && q_dec_cmp(r->qty, s->max_qty) > 0)
		return fail(c, 200, 170135, "Order quantity too large.");
	if (!q_dec_is_zero(r->quote_qty) || q_dec_cmp(r->qty, s->min_qty) < 0)
		return fail(c, 200, 170136, "Order quantity lower than the minimum.");
	by_error(c, SIM_EX_FILTER_LOT, NULL);
	return 0;
}

/*
 * POST /v5/order/create (create-order.mdx). A spot Market order's qty is in the quote coin for a
 * Buy and the base coin for a Sell unless marketUnit says otherwise; Market orders are IOC.
 * PostOnly rests like GTC; one that would take liquidity is refused (170218), since the core
 * cannot record an order born cancelled.
 */
static int
r_create(struct sim_ex_call *c)
{
	const char *side = arg(c, "side"), *type = arg(c, "orderType"), *qty = arg(c, "qty");
	const char *px = arg(c, "price"), *tif = arg(c, "timeInForce");
	const char *unit = arg(c, "marketUnit"), *cid = arg(c, "orderLinkId");
	const char *filter = arg(c, "orderFilter");
	json_t *lev = json_object_get(c->body, "isLeverage");
	struct sim_order_req r = {.symbol = arg(c, "symbol"), .client_id = cid};
	const struct sim_symbol *s;
	struct sim_order *o;
	struct q_dec amount, step;
	enum sim_ex_err e;
	int post_only = 0;

	if (!spot(c))
		return 0;
	if (r.symbol == NULL)
		return bad_param(c, "symbol is required");
	if ((s = sim_ex_symbol(r.symbol)) == NULL)
		return fail(c, 200, 170121, "Invalid symbol.");
	r.side = side && !strcmp(side, "Buy")    ? SIM_BUY
	         : side && !strcmp(side, "Sell") ? SIM_SELL
	                                         : 0;
	if (r.side == 0)
		return fail(c, 200, 170117, "Invalid side.");
	r.type = type && !strcmp(type, "Limit")    ? SIM_LIMIT
	         : type && !strcmp(type, "Market") ? SIM_MARKET
	                                           : 0;
	if (r.type == 0)
		return fail(c, 200, 170116, "Invalid orderType.");
	if (qty == NULL || sim_ex_parse_dec(qty, &amount) < 0 || q_dec_sign(amount) <= 0)
		return bad_param(c, "qty must be a positive decimal string");
	if ((lev && !(json_is_integer(lev) && json_integer_value(lev) == 0) &&
	     !(json_is_string(lev) && strcmp(json_string_value(lev), "0") == 0)) ||
	    (filter && strcmp(filter, "Order") != 0))
		return bad_param(c, "quantor-sim plays plain spot orders only (isLeverage 0, "
		                    "orderFilter Order)");
	if (cid &&
	    (strlen(cid) < 1 || strlen(cid) > 36 || strspn(cid, BY_CID_CHARS) != strlen(cid)))
		return bad_param(c, "orderLinkId must be 1 to 36 of letters, digits, - and _");
	if (r.type == SIM_LIMIT) {
		if (px == NULL || sim_ex_parse_dec(px, &r.price) < 0)
			return bad_param(c, "a Limit order needs a price");
		if (tif == NULL || !strcmp(tif, "GTC"))
			r.tif = SIM_GTC;
		else if (!strcmp(tif, "IOC"))
			r.tif = SIM_IOC;
		else if (!strcmp(tif, "FOK"))
			r.tif = SIM_FOK;
		else if (!strcmp(tif, "PostOnly"))
			post_only = 1;
		else
			return fail(c, 200, 170115, "Invalid timeInForce.");
		r.qty = amount;
	} else if (unit ? !strcmp(unit, "quoteCoin") : r.side == SIM_BUY) {
		if (r.side != SIM_BUY)
			return bad_param(c, "marketUnit quoteCoin is simulated for a Buy only");
		q_dec_parse_str(&step, BY_QUOTE_STEP, NULL);
		if (!q_dec_is_multiple(amount, step))
			return fail(c, 200, 170148, "Market order amount decimal too long.");
		r.quote_qty = amount;
	} else if (unit && strcmp(unit, "baseCoin") != 0) {
		return bad_param(c, "marketUnit must be baseCoin or quoteCoin");
	} else {
		r.qty = amount;
	}
	if (post_only && q_dec_sign(r.price) > 0) {
		struct q_dec m;

		if (sim_ex_price(c, s->symbol, &m) == 0 &&
		    (r.side == SIM_BUY ? q_dec_cmp(r.price, m) >= 0 : q_dec_cmp(r.price, m) <= 0))
			return fail(c, 200, 170218,
			            "The LIMIT-MAKER order is rejected due to invalid price.");
	}
	e = sim_ex_place(c, &r, &o);
	switch (e) {
	case SIM_EX_OK:
		return ok(c, ack_json(o));
	case SIM_EX_BAD_SYMBOL:
		return fail(c, 200, 170121, "Invalid symbol.");
	case SIM_EX_FILTER_LOT:
		return lot_error(c, s, &r);
	case SIM_EX_FILTER_PRICE:
		if (q_dec_sign(r.price) <= 0)
			return fail(c, 200, 170133, "Order price lower than the minimum.");
		break;
	default:
		break;
	}
	by_error(c, e, NULL);
	return 0;
}

/*
 * The account's order by orderId (first) or orderLinkId, on symbol when given; NULL when neither
 * id was sent. *asked says whether one was.
 */
static struct sim_order *
find_by_id(struct sim_ex_call *c, int *asked)
{
	const char *oid = arg(c, "orderId"), *cid = arg(c, "orderLinkId"), *sym = arg(c, "symbol");

	if (oid && oid[0] == '\0')
		oid = NULL;
	if (cid && cid[0] == '\0')
		cid = NULL;
	*asked = oid || cid;
	if (!*asked)
		return NULL;
	return sim_ex_find(c, sym, oid ? NULL : cid, oid);
}

static int
order_list(struct sim_ex_call *c, json_t *list)
{
	return ok(c, json_pack("{s:s, s:s, s:o}", "category", "spot", "nextPageCursor", "", "list",
	                       list));
}

/*
 * GET /v5/order/realtime: by orderId / orderLinkId the order whatever its state (a UTA keeps
 * the recent closed ones there), else the open orders, newest first. openOnly=1 (the recent
 * closed list) is not simulated: the open orders answer it.
 */
static int
r_realtime(struct sim_ex_call *c)
{
	const char *sym = arg(c, "symbol");
	struct sim_order **open, *o;
	json_t *list;
	int asked, limit;
	size_t n;

	if (!spot(c) || (limit = limit_arg(c, 20, 50)) < 0)
		return 0;
	list = json_array();
	o = find_by_id(c, &asked);
	if (asked) {
		if (o)
			json_array_append_new(list, order_json(c, o));
		return order_list(c, list);
	}
	n = sim_ex_open_orders(c, sym, &open);
	for (size_t i = n; i-- > 0 && json_array_size(list) < (size_t)limit;)
		json_array_append_new(list, order_json(c, open[i]));
	return order_list(c, list);
}

/*
 * GET /v5/order/history: every order of the account, by orderId / orderLinkId. XXX listing the
 * history without an id needs an iterator over the core's orders, which exchange.h lacks: such a
 * request is refused.
 */
static int
r_history(struct sim_ex_call *c)
{
	struct sim_order *o;
	json_t *list;
	int asked;

	if (!spot(c) || limit_arg(c, 20, 50) < 0)
		return 0;
	o = find_by_id(c, &asked);
	if (!asked)
		return bad_param(c, "quantor-sim looks the order history up by orderId or "
		                    "orderLinkId only");
	list = json_array();
	if (o)
		json_array_append_new(list, order_json(c, o));
	return order_list(c, list);
}

static int
r_cancel(struct sim_ex_call *c)
{
	const char *sym = arg(c, "symbol");
	struct sim_order *o;
	int asked;

	if (!spot(c))
		return 0;
	if (sym == NULL)
		return bad_param(c, "symbol is required");
	if (sim_ex_symbol(sym) == NULL)
		return fail(c, 200, 170121, "Invalid symbol.");
	o = find_by_id(c, &asked);
	if (!asked)
		return bad_param(c, "orderId or orderLinkId is required");
	if (o == NULL || sim_ex_cancel(c, o) != SIM_EX_OK) {
		by_error(c, SIM_EX_NO_ORDER, NULL);
		return 0;
	}
	return ok(c, ack_json(o));
}

/* Every open spot order, on symbol (else on baseCoin, else all); none open is a success. */
static int
r_cancel_all(struct sim_ex_call *c)
{
	const char *sym = arg(c, "symbol"), *base = arg(c, "baseCoin");
	const char *filter = arg(c, "orderFilter");
	struct sim_order **open;
	json_t *list;
	size_t n;

	if (!spot(c))
		return 0;
	if (sym && sim_ex_symbol(sym) == NULL)
		return fail(c, 200, 170121, "Invalid symbol.");
	list = json_array();
	/* Only plain orders exist here: a cancel of the conditional kinds finds none. */
	n = filter && strcmp(filter, "Order") != 0 ? 0 : sim_ex_open_orders(c, sym, &open);
	for (size_t i = 0; i < n; i++) {
		const struct sim_symbol *s = sim_ex_symbol(open[i]->symbol);

		if (!sym && base && (s == NULL || strcmp(s->base, base) != 0))
			continue;
		if (sim_ex_cancel(c, open[i]) == SIM_EX_OK)
			json_array_append_new(list, ack_json(open[i]));
	}
	return ok(c, json_pack("{s:o, s:s}", "list", list, "success", "1"));
}

/*
 * GET /v5/order/realtime serves both the query by client id and the open orders, so faults for
 * op "query" hit both; the core picks the op by path alone.
 */
static const struct sim_ex_route routes[] = {
        {"GET", "/v5/market/time", "time", 0, r_time},
        {"GET", "/v5/market/instruments-info", "rules", 0, r_instruments},
        {"GET", "/v5/market/kline", "klines", 0, r_kline},
        {"GET", "/v5/account/wallet-balance", "balances", 1, r_wallet},
        {"GET", "/v5/user/query-api", "permissions", 1, r_query_api},
        {"POST", "/v5/order/create", "place", 1, r_create},
        {"GET", "/v5/order/realtime", "query", 1, r_realtime},
        {"GET", "/v5/order/history", "query", 1, r_history},
        {"POST", "/v5/order/cancel", "cancel", 1, r_cancel},
        {"POST", "/v5/order/cancel-all", "cancel_all", 1, r_cancel_all},
        {NULL, NULL, NULL, 0, NULL},
};

const struct sim_venue sim_venue_bybit = {
        .name = "bybit",
        .routes = routes,
        .auth = by_auth,
        .error = by_error,
        .usage = by_usage,
};
