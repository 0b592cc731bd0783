/*
 * ex_bitget: Bitget v2 spot REST as quantor-sim plays it (protocols.md section 4): the paths,
 * ACCESS-KEY, ACCESS-PASSPHRASE, ACCESS-TIMESTAMP within 30 s of the venue's clock (or the
 * request's receiveWindow) and ACCESS-SIGN, the base64 HMAC-SHA256 of timestamp + METHOD +
 * path[?query] + body exactly as received; the {"code":"00000","msg","requestTime","data"}
 * envelope; refusals as HTTP 400 with Bitget's codes, 429 with code "429" for the rate limit.
 * A market buy is sized in the quote asset.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exchange.h"
#include "q_mem.h"

#define PREFIX "/bitget" /* the module's prefix: what the client's base URL adds to the path */
#define RECV_WINDOW_MS 30000LL
#define MAX_WINDOW_MS 60000LL
#define LIST_MAX 100 /* unfilled-orders and history-orders: "default 100 max 100" */

static const struct {
	const char *name;
	int64_t ms;
} granularities[] = {
        {"1min", 60000LL},
        {"3min", 180000LL},
        {"5min", 300000LL},
        {"15min", 900000LL},
        {"30min", 1800000LL},
        {"1h", 3600000LL},
        {"4h", 14400000LL},
        {"6Hutc", 21600000LL},
        {"12Hutc", 43200000LL},
        {"1Dutc", 86400000LL},
        {"3Dutc", 259200000LL},
        {"1Wutc", 604800000LL},
        /* XXX Bitget opens these on UTC+8 boundaries; the simulated candles open on UTC ones.
         * 1M and 1Mutc (months have no fixed length) are refused as unknown. */
        {"6h", 21600000LL},
        {"12h", 43200000LL},
        {"1day", 86400000LL},
        {"3day", 259200000LL},
        {"1week", 604800000LL},
};

/*
 * Bitget lists closed orders (history-orders) and the core keeps no list of an account's orders,
 * so the ids of the orders placed here are kept, oldest first, and looked up again on each
 * listing: an id whose order a reset dropped finds nothing and is forgotten. Only signed
 * handlers touch it, and the core runs them with its lock held.
 */
struct placed {
	const struct sim_account *acct;
	char order_id[24];
};

static struct placed *placed;
static size_t nplaced, cap_placed;

/* --- envelope and errors ------------------------------------------------------------------- */

static int
ok(struct sim_ex_call *c, json_t *data)
{
	return sim_ex_json(c, 200,
	                   json_pack("{s:s, s:s, s:I, s:o}", "code", "00000", "msg", "success",
	                             "requestTime", (json_int_t)c->now_ms, "data", data));
}

static void
fail(struct sim_ex_call *c, int status, const char *code, const char *msg)
{
	sim_ex_json(c, status,
	            json_pack("{s:s, s:s, s:I, s:n}", "code", code, "msg", msg, "requestTime",
	                      (json_int_t)c->now_ms, "data"));
}

/* A header that is present and not empty, or NULL. */
static const char *
header(const struct sim_ex_call *c, const char *name)
{
	const char *v = sim_req_header(c->req, name);

	return v && v[0] ? v : NULL;
}

/* 1 to 18 digits into *out: 0, else -1. */
static int
digits(const char *s, long long *out)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
		return -1;
	*out = strtoll(s, NULL, 10);
	return 0;
}

static const char *
ms_text(struct sim_ex_call *c, long long ms)
{
	return q_arena_printf(c->req->arena, "%lld", ms);
}

/* The symbol a refused order named, or NULL. */
static const struct sim_symbol *
body_symbol(const struct sim_ex_call *c)
{
	return sim_ex_symbol(sim_ex_body_str(c, "symbol"));
}

static int
is_market_buy(const struct sim_ex_call *c)
{
	const char *side = sim_ex_body_str(c, "side"), *type = sim_ex_body_str(c, "orderType");

	return side && type && strcmp(side, "buy") == 0 && strcmp(type, "market") == 0;
}

/* Bitget names the rule a size breaks: its scale, or the minimum or maximum amount. */
static void
lot_error(struct sim_ex_call *c)
{
	const struct sim_symbol *s = body_symbol(c);
	const char *size = sim_ex_body_str(c, "size"), *code = "40808";
	int scale;
	struct q_dec d;
	char msg[256];

	if (s == NULL || sim_ex_parse_dec(size, &d) < 0) {
		fail(c, 400, "40808", "Parameter verification exception size");
		return;
	}
	scale = is_market_buy(c) ? s->price_decimals : s->qty_decimals;
	if (q_dec_decimals(d) > scale) {
		snprintf(msg, sizeof(msg),
		         "Parameter verification exception size checkBDScale error value=%s "
		         "checkScale=%d",
		         size, scale);
	} else if (!is_market_buy(c) && q_dec_cmp(d, s->max_qty) > 0) {
		snprintf(msg, sizeof(msg),
		         "Parameter verification exception size value=%s exceeds the maximum %s",
		         size, sim_ex_dec(c, s->max_qty));
	} else {
		code = "45110";
		snprintf(msg, sizeof(msg), "less than the minimum amount %s %s",
		         sim_ex_dec(c, s->min_qty), s->base);
	}
	fail(c, 400, code, msg);
}

/*
 * The refusals, as Bitget words them (its "Error Code" tables: HTTP 400 for all of them). Which
 * header is missing or malformed is read again from the request, since Bitget has a code for
 * each.
 */
static void
bg_error(struct sim_ex_call *c, enum sim_ex_err e, const char *detail)
{
	const struct sim_symbol *s;
	long long t;
	char msg[256];

	switch (e) {
	case SIM_EX_OK:
	case SIM_EX_BAD_PARAM:
		if (strcmp(c->req->method, "POST") == 0 &&
		    !sim_req_is(c->req, "application/json")) {
			fail(c, 400, "40007",
			     "Invalid Content_Type, use \"application/json\" format");
			return;
		}
		snprintf(msg, sizeof(msg), "Parameter verification failed%s%s", detail ? ": " : "",
		         detail ? detail : "");
		fail(c, 400, "40017", msg);
		return;
	case SIM_EX_BAD_SYMBOL:
		fail(c, 400, "40034", "Parameter symbol does not exist");
		return;
	case SIM_EX_BAD_KEY:
		if (header(c, "ACCESS-KEY") == NULL)
			fail(c, 400, "40001", "Header \"ACCESS_KEY\" is required");
		else
			fail(c, 400, "40006", "Invalid ACCESS_KEY");
		return;
	case SIM_EX_BAD_SIGN:
		if (header(c, "ACCESS-SIGN") == NULL)
			fail(c, 400, "40002", "Header \"ACCESS_SIGN\" is required");
		else
			fail(c, 400, "40009", "sign signature error");
		return;
	case SIM_EX_BAD_PASS:
		if (header(c, "ACCESS-PASSPHRASE") == NULL)
			fail(c, 400, "40011", "Header \"ACCESS_PASSPHRASE\" is required");
		else
			fail(c, 400, "40012", "Incorrect API key/Passphrase");
		return;
	case SIM_EX_NO_PERM:
		fail(c, 400, "40014", "Incorrect permissions");
		return;
	case SIM_EX_TIMESTAMP:
		if (header(c, "ACCESS-TIMESTAMP") == NULL)
			fail(c, 400, "40003", "Header \"ACCESS_TIMESTAMP\" is required");
		else if (digits(header(c, "ACCESS-TIMESTAMP"), &t) < 0)
			fail(c, 400, "40005", "Invalid ACCESS_TIMESTAMP");
		else
			fail(c, 400, "40008", "Request timestamp expired");
		return;
	case SIM_EX_INSUFFICIENT:
		fail(c, 400, "43012", "Insufficient balance");
		return;
	case SIM_EX_FILTER_LOT:
		lot_error(c);
		return;
	case SIM_EX_FILTER_PRICE:
		fail(c, 400, "41103", "param price scale error error");
		return;
	case SIM_EX_FILTER_NOTIONAL:
		s = body_symbol(c);
		snprintf(msg, sizeof(msg), "less than the minimum amount %s %s",
		         s ? sim_ex_dec(c, s->min_notional) : "5", s ? s->quote : "USDT");
		fail(c, 400, "45110", msg);
		return;
	case SIM_EX_DUPLICATE:
		fail(c, 400, "40786", "Duplicate clientOid");
		return;
	case SIM_EX_NO_ORDER:
		fail(c, 400, "43001", "The order does not exist");
		return;
	case SIM_EX_RATE_LIMITED:
		fail(c, 429, "429", "Too Many Requests");
		return;
	case SIM_EX_BANNED:
		/* Bitget documents no ban: a 418 is what the connector reads as one. */
		snprintf(msg, sizeof(msg), "Too Many Requests, access restricted for %d s",
		         c->retry_after_s);
		fail(c, 418, "429", msg);
		return;
	case SIM_EX_INTERNAL:
		fail(c, 500, "40015", "System error");
		return;
	case SIM_EX_NOT_FOUND:
	case SIM_EX__COUNT:
		break;
	}
	fail(c, 404, "40404", "Request URL NOT FOUND");
}

/* --- authentication ------------------------------------------------------------------------ */

static enum sim_ex_err
bg_auth(struct sim_ex_call *c)
{
	const struct sim_req *req = c->req;
	const char *key = header(c, "ACCESS-KEY"), *sign = header(c, "ACCESS-SIGN");
	const char *ts = header(c, "ACCESS-TIMESTAMP"), *pass = header(c, "ACCESS-PASSPHRASE");
	const char *rw = sim_ex_param(c, "receiveWindow"), *path = req->raw_path;
	struct q_buf msg = Q_BUF_INIT;
	long long t, window = RECV_WINDOW_MS;
	char want[64];

	if (key == NULL)
		return SIM_EX_BAD_KEY;
	if (sign == NULL)
		return SIM_EX_BAD_SIGN;
	if (ts == NULL)
		return SIM_EX_TIMESTAMP;
	if (pass == NULL)
		return SIM_EX_BAD_PASS;
	if ((c->acct = sim_ex_account("bitget", key)) == NULL)
		return SIM_EX_BAD_KEY;
	if (!sim_ex_streq(c->acct->passphrase, pass))
		return SIM_EX_BAD_PASS;
	if (digits(ts, &t) < 0)
		return SIM_EX_TIMESTAMP;
	if (rw == NULL)
		rw = sim_ex_body_str(c, "receiveWindow");
	if (rw && (digits(rw, &window) < 0 || window < 1 || window > MAX_WINDOW_MS))
		return SIM_EX_BAD_PARAM;
	if (llabs(c->now_ms - t) >= window)
		return SIM_EX_TIMESTAMP;
	/* What the client signed: its own path, below the prefix its base URL carries. */
	if (strncmp(path, PREFIX "/", strlen(PREFIX) + 1) == 0)
		path += strlen(PREFIX);
	q_buf_printf(&msg, "%s%s%s%s%s", ts, req->method, path, req->query[0] ? "?" : "",
	             req->query);
	q_buf_add(&msg, req->body, req->body_len);
	sim_ex_hmac_b64(want, c->acct, msg.data, msg.len);
	q_buf_release(&msg);
	return sim_ex_streq(want, sign) ? SIM_EX_OK : SIM_EX_BAD_SIGN;
}

/* The key may do this (spot read: "stor" or "stow"; trading: "stow"); else refused. */
static int
allowed(struct sim_ex_call *c, unsigned perms)
{
	if (c->acct->perms & perms)
		return 1;
	bg_error(c, SIM_EX_NO_PERM, NULL);
	return 0;
}

#define READ_PERMS (SIM_PERM_READ | SIM_PERM_TRADE)

/* --- public -------------------------------------------------------------------------------- */

static int
r_time(struct sim_ex_call *c)
{
	return ok(c, json_pack("{s:s}", "serverTime", ms_text(c, c->now_ms)));
}

static json_t *
symbol_json(struct sim_ex_call *c, const struct sim_symbol *s)
{
	struct q_dec fee;
	json_t *j;

	q_dec_div(&fee, q_dec_from_int(SIM_EX_FEE_BPS), q_dec_from_int(10000), Q_DEC_DOWN, NULL);
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "symbol",
	              s->symbol, "baseCoin", s->base, "quoteCoin", s->quote, "minTradeAmount",
	              sim_ex_dec(c, s->min_qty), "maxTradeAmount", sim_ex_dec(c, s->max_qty),
	              "takerFeeRate", sim_ex_dec(c, fee), "makerFeeRate", sim_ex_dec(c, fee),
	              "pricePrecision", q_arena_printf(c->req->arena, "%d", s->price_decimals),
	              "quantityPrecision", q_arena_printf(c->req->arena, "%d", s->qty_decimals),
	              /* A market buy's quote amount: on the price grid. */
	              "quotePrecision", q_arena_printf(c->req->arena, "%d", s->price_decimals),
	              "status", "online", "minTradeUSDT", sim_ex_dec(c, s->min_notional));
	if (j &&
	    json_object_update_new(j, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
	                                        "buyLimitPriceRatio", "0.05", "sellLimitPriceRatio",
	                                        "0.05", "areaSymbol", "no", "orderQuantity", "200",
	                                        "openTime", "1532454360000", "offTime", "")) < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static int
r_symbols(struct sim_ex_call *c)
{
	const char *sym = sim_ex_param(c, "symbol");
	const struct sim_symbol *s;
	json_t *list = json_array();

	if (sym && sym[0]) {
		if ((s = sim_ex_symbol(sym)) == NULL) {
			json_decref(list);
			bg_error(c, SIM_EX_BAD_SYMBOL, NULL);
			return 0;
		}
		json_array_append_new(list, symbol_json(c, s));
	} else {
		for (size_t i = 0; (s = sim_market_symbol_at(i)) != NULL; i++)
			json_array_append_new(list, symbol_json(c, s));
	}
	return ok(c, list);
}

/* [ts, open, high, low, close, baseVolume, usdtVolume, quoteVolume], oldest first. */
static int
r_candles(struct sim_ex_call *c)
{
	const char *sym = sim_ex_param(c, "symbol"), *g = sim_ex_param(c, "granularity");
	const char *lim = sim_ex_param(c, "limit"), *st = sim_ex_param(c, "startTime");
	const char *et = sim_ex_param(c, "endTime");
	long long limit = 100, start = 0, end = 0;
	int64_t ms = 0;
	struct sim_candle *k;
	json_t *rows;
	int n;

	if (sym == NULL || g == NULL) {
		bg_error(c, SIM_EX_BAD_PARAM, sym ? "granularity" : "symbol");
		return 0;
	}
	if (sim_ex_symbol(sym) == NULL) {
		bg_error(c, SIM_EX_BAD_SYMBOL, NULL);
		return 0;
	}
	for (size_t i = 0; i < sizeof(granularities) / sizeof(granularities[0]); i++)
		if (strcmp(granularities[i].name, g) == 0)
			ms = granularities[i].ms;
	if (ms == 0) {
		fail(c, 400, "40020", "Parameter granularity error");
		return 0;
	}
	if ((lim && (digits(lim, &limit) < 0 || limit < 1 || limit > 1000)) ||
	    (st && digits(st, &start) < 0) || (et && digits(et, &end) < 0)) {
		bg_error(c, SIM_EX_BAD_PARAM, "limit, startTime or endTime");
		return 0;
	}
	/* From startTime alone: the candles that open at or after it. */
	if (st && !et)
		end = (start + ms - 1) / ms * ms + (limit - 1) * ms;
	/* The newest candle opens at or before endTime, whole: the market model cuts the candle
	 * at the instant it is given (the core clamps it to now). */
	if (end > 0)
		end = end / ms * ms + ms - 1;
	n = sim_ex_candles(c, sym, ms, end, (size_t)limit, &k);
	if (n < 0) {
		bg_error(c, SIM_EX_INTERNAL, NULL);
		return 0;
	}
	rows = json_array();
	for (int i = 0; i < n; i++) {
		struct q_dec qv;

		if (k[i].open_ms < start)
			continue;
		q_dec_mul(&qv, k[i].volume, k[i].close, Q_DEC_DOWN, NULL);
		json_array_append_new(
		        rows, json_pack("[s, s, s, s, s, s, s, s]", ms_text(c, k[i].open_ms),
		                        sim_ex_dec(c, k[i].open), sim_ex_dec(c, k[i].high),
		                        sim_ex_dec(c, k[i].low), sim_ex_dec(c, k[i].close),
		                        sim_ex_dec(c, k[i].volume), sim_ex_dec(c, qv),
		                        sim_ex_dec(c, qv)));
	}
	return ok(c, rows);
}

/* --- account ------------------------------------------------------------------------------- */

/* A stable user id per key (Bitget's userId is a number in a string). */
static const char *
user_id(struct sim_ex_call *c, const struct sim_account *a)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = a->api_key; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return q_arena_printf(c->req->arena, "%llu",
	                      (unsigned long long)(h % 9000000000ULL + 1000000000ULL));
}

static int
r_assets(struct sim_ex_call *c)
{
	const char *coin = sim_ex_param(c, "coin"), *type = sim_ex_param(c, "assetType");
	int all = type && strcmp(type, "all") == 0;
	json_t *list;

	if (!allowed(c, READ_PERMS))
		return 0;
	if (type && !all && strcmp(type, "hold_only") != 0) {
		bg_error(c, SIM_EX_BAD_PARAM, "assetType");
		return 0;
	}
	list = json_array();
	for (int i = 0; i < c->acct->nbal; i++) {
		const struct sim_balance *b = &c->acct->bal[i];

		if (coin ? strcasecmp(coin, b->asset) != 0
		         : !all && q_dec_is_zero(b->free) && q_dec_is_zero(b->locked))
			continue;
		json_array_append_new(
		        list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "coin", b->asset,
		                        "available", sim_ex_dec_fixed(c, b->free, 8), "frozen",
		                        sim_ex_dec_fixed(c, b->locked, 8), "locked", "0.00000000",
		                        "limitAvailable", "0", "uTime", ms_text(c, c->now_ms)));
	}
	return ok(c, list);
}

/*
 * authorities in the four-letter codes of the field's description: "stor" / "stow" spot read /
 * read and write, "wtow" wallet transfer, "wwow" withdrawal; ips the whitelist, "" when none.
 */
static int
r_account_info(struct sim_ex_call *c)
{
	static const struct {
		unsigned perm;
		const char *code;
	} codes[] = {
	        {SIM_PERM_READ, "stor"},
	        {SIM_PERM_TRADE, "stow"},
	        {SIM_PERM_TRANSFER, "wtow"},
	        {SIM_PERM_WITHDRAW, "wwow"},
	};
	json_t *auth;

	if (!allowed(c, READ_PERMS))
		return 0;
	auth = json_array();
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (c->acct->perms & codes[i].perm)
			json_array_append_new(auth, json_string(codes[i].code));
	return ok(c, json_pack("{s:s, s:s, s:s, s:o, s:i, s:s, s:s, s:s, s:s}", "userId",
	                       user_id(c, c->acct), "inviterId", "", "ips",
	                       c->acct->perms & SIM_PERM_IP ? "127.0.0.1" : "", "authorities", auth,
	                       "parentId", 1, "traderType", "not_trader", "channelCode", "",
	                       "channel", "", "regisTime", "1672531200000"));
}

/* --- orders -------------------------------------------------------------------------------- */

enum view { V_INFO, V_HISTORY, V_UNFILLED };

static const char *
status_of(const struct sim_order *o)
{
	switch (o->status) {
	case SIM_NEW:
		return "live";
	case SIM_FILLED:
		return "filled";
	case SIM_CANCELED:
	case SIM_EXPIRED:
		break;
	}
	return "cancelled";
}

/* 16 places, as Bitget prints amounts ("10.0000000000000000"). */
static const char *
amount(struct sim_ex_call *c, struct q_dec d)
{
	struct q_dec step;

	q_dec_parse_str(&step, "0.0000000000000001", NULL);
	q_dec_quantize(&d, d, step, Q_DEC_HALF_EVEN, NULL);
	return sim_ex_dec_fixed(c, d, 16);
}

/*
 * feeDetail is a JSON text inside the JSON, its amounts JSON numbers (negative: paid). The sim
 * charges the quote asset.
 */
static const char *
fee_detail(struct sim_ex_call *c, const struct sim_order *o)
{
	const char *f;

	if (q_dec_is_zero(o->fee))
		return "";
	f = sim_ex_dec(c, o->fee);
	return q_arena_printf(
	        c->req->arena,
	        "{\"newFees\":{\"c\":0,\"d\":0,\"deduction\":false,\"r\":-%s,\"t\":-%s,"
	        "\"totalDeductionFee\":0},\"%s\":{\"deduction\":false,"
	        "\"feeCoinCode\":\"%s\",\"totalDeductionFee\":0,\"totalFee\":-%s}}",
	        f, f, o->fee_asset, o->fee_asset, f);
}

/*
 * One order as orderInfo, history-orders or unfilled-orders shows it. A market buy's size is its
 * quote amount. unfilled-orders has no "price" (its "priceAvg" is the order price) and spells
 * the symbol in lowercase.
 */
static json_t *
order_json(struct sim_ex_call *c, const struct sim_order *o, enum view v)
{
	int market_buy = o->type == SIM_MARKET && o->side == SIM_BUY;
	struct q_dec avg = {0};
	char sym[sizeof(o->symbol)];
	json_t *j;

	if (q_dec_sign(o->executed) > 0)
		q_dec_div(&avg, o->cum_quote, o->executed, Q_DEC_HALF_EVEN, NULL);
	snprintf(sym, sizeof(sym), "%s", o->symbol);
	for (char *p = sym; v == V_UNFILLED && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	j = json_pack(
	        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "userId",
	        user_id(c, o->acct), "symbol", sym, "orderId", o->order_id, "clientOid",
	        o->client_id, "size", amount(c, market_buy ? o->quote_qty : o->qty), "orderType",
	        o->type == SIM_LIMIT ? "limit" : "market", "side",
	        o->side == SIM_BUY ? "buy" : "sell", "status", status_of(o), "baseVolume",
	        amount(c, o->executed), "quoteVolume", amount(c, o->cum_quote), "enterPointSource",
	        "API", "orderSource", o->type == SIM_LIMIT ? "normal" : "market", "cTime",
	        ms_text(c, o->created_ms), "uTime", ms_text(c, o->updated_ms));
	if (j == NULL)
		return NULL;
	if (v == V_UNFILLED) {
		json_object_set_new(j, "priceAvg", json_string(amount(c, o->price)));
		json_object_set_new(j, "basePrice", json_string(amount(c, avg)));
	} else {
		json_object_set_new(j, "price", json_string(amount(c, o->price)));
		json_object_set_new(j, "priceAvg", json_string(amount(c, avg)));
		json_object_set_new(j, "feeDetail", json_string(fee_detail(c, o)));
		json_object_set_new(j, "cancelReason",
		                    json_string(o->status == SIM_CANCELED ? "normal_cancel" : ""));
	}
	if (v != V_INFO) {
		json_object_set_new(j, "tpslType", json_string("normal"));
		json_object_set_new(j, "triggerPrice", json_null());
	}
	return j;
}

static void
remember(const struct sim_order *o)
{
	if (nplaced == cap_placed) {
		cap_placed = cap_placed ? cap_placed * 2 : 256;
		placed = q_realloc(placed, cap_placed * sizeof(*placed));
	}
	placed[nplaced].acct = o->acct;
	snprintf(placed[nplaced].order_id, sizeof(placed[0].order_id), "%s", o->order_id);
	nplaced++;
}

/* The account's orders placed here, oldest first, in an arena array. */
static size_t
account_orders(struct sim_ex_call *c, struct sim_order ***out)
{
	size_t n = 0, w = 0;

	*out = q_arena_alloc(c->req->arena, (nplaced + 1) * sizeof(struct sim_order *));
	for (size_t i = 0; i < nplaced; i++) {
		struct sim_order *o = NULL;

		if (placed[i].acct == c->acct &&
		    (o = sim_ex_find(c, NULL, NULL, placed[i].order_id)) == NULL)
			continue; /* dropped by a reset */
		placed[w++] = placed[i];
		if (o)
			(*out)[n++] = o;
	}
	nplaced = w;
	return n;
}

static int
clientoid_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 50 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_#.:") ==
	               n;
}

static int
r_place(struct sim_ex_call *c)
{
	const char *sym = sim_ex_body_str(c, "symbol"), *side = sim_ex_body_str(c, "side");
	const char *type = sim_ex_body_str(c, "orderType"), *force = sim_ex_body_str(c, "force");
	const char *price = sim_ex_body_str(c, "price"), *size = sim_ex_body_str(c, "size");
	const char *cid = sim_ex_body_str(c, "clientOid");
	struct sim_order_req r = {.symbol = sym, .client_id = cid};
	const struct sim_symbol *s;
	struct sim_order *o;
	struct q_dec amt;
	enum sim_ex_err e;

	r.side = side && !strcmp(side, "buy")    ? SIM_BUY
	         : side && !strcmp(side, "sell") ? SIM_SELL
	                                         : 0;
	r.type = type && !strcmp(type, "limit")    ? SIM_LIMIT
	         : type && !strcmp(type, "market") ? SIM_MARKET
	                                           : 0;
	if (c->body == NULL || sym == NULL || r.side == 0 || r.type == 0 ||
	    sim_ex_parse_dec(size, &amt) < 0 || q_dec_sign(amt) <= 0) {
		bg_error(c, SIM_EX_BAD_PARAM, "symbol, side, orderType and size are required");
		return 0;
	}
	if ((s = sim_ex_symbol(sym)) == NULL) {
		bg_error(c, SIM_EX_BAD_SYMBOL, NULL);
		return 0;
	}
	if (cid && !clientoid_ok(cid)) {
		bg_error(c, SIM_EX_BAD_PARAM, "clientOid");
		return 0;
	}
	if (r.type == SIM_LIMIT) {
		if (force == NULL || price == NULL || sim_ex_parse_dec(price, &r.price) < 0) {
			bg_error(c, SIM_EX_BAD_PARAM, "a limit order needs force and price");
			return 0;
		}
		if (strcmp(force, "gtc") == 0) {
			r.tif = SIM_GTC;
		} else if (strcmp(force, "ioc") == 0) {
			r.tif = SIM_IOC;
		} else if (strcmp(force, "fok") == 0) {
			r.tif = SIM_FOK;
		} else {
			bg_error(c, SIM_EX_BAD_PARAM, "force (post_only is not simulated)");
			return 0;
		}
		if (q_dec_decimals(r.price) > s->price_decimals) {
			bg_error(c, SIM_EX_FILTER_PRICE, NULL);
			return 0;
		}
	}
	/* "For Market-Buy orders, it represents the number of quote coins." */
	if (r.type == SIM_MARKET && r.side == SIM_BUY)
		r.quote_qty = amt;
	else
		r.qty = amt;
	if (q_dec_decimals(amt) >
	    (r.type == SIM_MARKET && r.side == SIM_BUY ? s->price_decimals : s->qty_decimals)) {
		bg_error(c, SIM_EX_FILTER_LOT, NULL);
		return 0;
	}
	e = sim_ex_place(c, &r, &o);
	if (e != SIM_EX_OK) {
		bg_error(c, e, NULL);
		return 0;
	}
	remember(o);
	return ok(c, json_pack("{s:s, s:s}", "orderId", o->order_id, "clientOid", o->client_id));
}

/*
 * By orderId, any order; by clientOid, only an unfilled one (Get-Order-Info: "the order is in
 * unfilled status"). No match is an empty list.
 */
static int
r_order_info(struct sim_ex_call *c)
{
	const char *oid = sim_ex_param(c, "orderId"), *cid = sim_ex_param(c, "clientOid");
	struct sim_order *o;
	json_t *list;

	if (oid == NULL && cid == NULL) {
		bg_error(c, SIM_EX_BAD_PARAM, "orderId or clientOid");
		return 0;
	}
	if (!allowed(c, READ_PERMS))
		return 0;
	o = sim_ex_find(c, NULL, oid ? NULL : cid, oid);
	list = json_array();
	if (o && (oid || o->status == SIM_NEW))
		json_array_append_new(list, order_json(c, o, V_INFO));
	return ok(c, list);
}

/* The filters unfilled-orders and history-orders share; -1 after a refusal. */
struct list_args {
	const char *symbol, *order_id;
	long long start, end, id_below, limit;
};

static int
list_args(struct sim_ex_call *c, struct list_args *a)
{
	const char *st = sim_ex_param(c, "startTime"), *et = sim_ex_param(c, "endTime");
	const char *below = sim_ex_param(c, "idLessThan"), *lim = sim_ex_param(c, "limit");

	memset(a, 0, sizeof(*a));
	a->symbol = sim_ex_param(c, "symbol");
	a->order_id = sim_ex_param(c, "orderId");
	a->limit = LIST_MAX;
	if (a->symbol && !a->symbol[0])
		a->symbol = NULL;
	if (a->symbol && sim_ex_symbol(a->symbol) == NULL) {
		bg_error(c, SIM_EX_BAD_SYMBOL, NULL);
		return -1;
	}
	if ((st && digits(st, &a->start) < 0) || (et && digits(et, &a->end) < 0) ||
	    (below && digits(below, &a->id_below) < 0) ||
	    (lim && (digits(lim, &a->limit) < 0 || a->limit < 1))) {
		bg_error(c, SIM_EX_BAD_PARAM, "startTime, endTime, idLessThan or limit");
		return -1;
	}
	if (a->limit > LIST_MAX)
		a->limit = LIST_MAX;
	return allowed(c, READ_PERMS) ? 0 : -1;
}

static int
list_match(const struct list_args *a, const struct sim_order *o)
{
	return (a->symbol == NULL || strcmp(a->symbol, o->symbol) == 0) &&
	       (a->order_id == NULL || strcmp(a->order_id, o->order_id) == 0) &&
	       o->created_ms >= a->start && (a->end == 0 || o->created_ms <= a->end) &&
	       (a->id_below == 0 || strtoll(o->order_id, NULL, 10) < a->id_below);
}

/* The newest first, up to limit. */
static int
list_reply(struct sim_ex_call *c, const struct list_args *a, struct sim_order **orders, size_t n,
           enum view v)
{
	json_t *list = json_array();

	for (size_t i = n; i-- > 0 && (long long)json_array_size(list) < a->limit;)
		if (list_match(a, orders[i]))
			json_array_append_new(list, order_json(c, orders[i], v));
	return ok(c, list);
}

static int
r_unfilled(struct sim_ex_call *c)
{
	struct list_args a;
	struct sim_order **open;
	size_t n;

	if (list_args(c, &a) < 0)
		return 0;
	n = sim_ex_open_orders(c, a.symbol, &open);
	return list_reply(c, &a, open, n, V_UNFILLED);
}

/* Orders no longer open: filled, cancelled, expired. */
static int
r_history(struct sim_ex_call *c)
{
	struct list_args a;
	struct sim_order **all;
	size_t n, w = 0;

	if (list_args(c, &a) < 0)
		return 0;
	n = account_orders(c, &all);
	for (size_t i = 0; i < n; i++)
		if (all[i]->status != SIM_NEW)
			all[w++] = all[i];
	return list_reply(c, &a, all, w, V_HISTORY);
}

static int
r_cancel(struct sim_ex_call *c)
{
	const char *sym = sim_ex_body_str(c, "symbol"), *oid = sim_ex_body_str(c, "orderId");
	const char *cid = sim_ex_body_str(c, "clientOid");
	struct sim_order *o;

	if (c->body == NULL || sym == NULL || (oid == NULL && cid == NULL)) {
		bg_error(c, SIM_EX_BAD_PARAM, "symbol and orderId or clientOid");
		return 0;
	}
	if (sim_ex_symbol(sym) == NULL) {
		bg_error(c, SIM_EX_BAD_SYMBOL, NULL);
		return 0;
	}
	if (!allowed(c, SIM_PERM_TRADE))
		return 0;
	o = sim_ex_find(c, sym, oid ? NULL : cid, oid);
	if (o == NULL || sim_ex_cancel(c, o) != SIM_EX_OK) {
		bg_error(c, SIM_EX_NO_ORDER, NULL);
		return 0;
	}
	return ok(c, json_pack("{s:s, s:s}", "orderId", o->order_id, "clientOid", o->client_id));
}

/* Bitget cancels asynchronously and answers with the symbol; the sim cancels at once. */
static int
r_cancel_symbol(struct sim_ex_call *c)
{
	const char *sym = sim_ex_body_str(c, "symbol");
	struct sim_order **open;
	size_t n;

	if (c->body == NULL || sym == NULL) {
		bg_error(c, SIM_EX_BAD_PARAM, "symbol");
		return 0;
	}
	if (sim_ex_symbol(sym) == NULL) {
		bg_error(c, SIM_EX_BAD_SYMBOL, NULL);
		return 0;
	}
	if (!allowed(c, SIM_PERM_TRADE))
		return 0;
	n = sim_ex_open_orders(c, sym, &open);
	for (size_t i = 0; i < n; i++)
		sim_ex_cancel(c, open[i]);
	return ok(c, json_pack("{s:s}", "symbol", sym));
}

static const struct sim_ex_route routes[] = {
        {"GET", "/api/v2/public/time", "time", 0, r_time},
        {"GET", "/api/v2/spot/public/symbols", "rules", 0, r_symbols},
        {"GET", "/api/v2/spot/market/candles", "klines", 0, r_candles},
        {"GET", "/api/v2/spot/account/assets", "balances", 1, r_assets},
        {"GET", "/api/v2/spot/account/info", "permissions", 1, r_account_info},
        {"POST", "/api/v2/spot/trade/place-order", "place", 1, r_place},
        {"GET", "/api/v2/spot/trade/orderInfo", "query", 1, r_order_info},
        {"GET", "/api/v2/spot/trade/history-orders", "query", 1, r_history},
        {"POST", "/api/v2/spot/trade/cancel-order", "cancel", 1, r_cancel},
        {"POST", "/api/v2/spot/trade/cancel-symbol-order", "cancel_all", 1, r_cancel_symbol},
        {"GET", "/api/v2/spot/trade/unfilled-orders", "open_orders", 1, r_unfilled},
        {NULL, NULL, NULL, 0, NULL},
};

const struct sim_venue sim_venue_bitget = {
        .name = "bitget",
        .routes = routes,
        .auth = bg_auth,
        .error = bg_error,
};
