/*
 * ex_okx: OKX v5 REST, spot in cash mode, as quantor-sim plays it (protocols.md section 2): the
 * paths, OK-ACCESS-KEY / -PASSPHRASE / -TIMESTAMP (ISO 8601 with ms, within 30 s of the venue's
 * clock) / -SIGN (base64 HMAC-SHA256 of timestamp + METHOD + path[?query] + body, over the bytes
 * received), expTime on order calls, the {"code":"0","msg":"","data":[...]} envelope with the
 * per-order sCode / sMsg of trade calls, and OKX's codes and HTTP statuses. OKX documents no IP
 * ban and sends no usage headers: a ban is an HTTP 418 with Retry-After, which Quantor's parser
 * reads as a ban for every venue.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exchange.h"

#define MIN_MS 60000LL
#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL
#define WINDOW_MS 30000LL /* "the request will expire 30 seconds after the timestamp" */
#define MAX_CANDLES 300
#define CANDLE_DEPTH 1440 /* market/candles serves "the latest 1,440 data entries" only */
#define MAX_PENDING 100

/*
 * The bars: open at offset_ms + k * ms from the epoch. The plain 6H and longer start at Hong Kong
 * midnight (16:00 UTC), weeks on Mondays (the epoch was a Thursday).
 * XXX 2D, 3D, 1M and 3M are not simulated: their anchors are not documented.
 */
static const struct bar {
	const char *name;
	int64_t ms;
	int64_t offset_ms;
} bars[] = {
        {"1m", MIN_MS, 0},
        {"3m", 3 * MIN_MS, 0},
        {"5m", 5 * MIN_MS, 0},
        {"15m", 15 * MIN_MS, 0},
        {"30m", 30 * MIN_MS, 0},
        {"1H", HOUR_MS, 0},
        {"2H", 2 * HOUR_MS, 0},
        {"4H", 4 * HOUR_MS, 0},
        {"6H", 6 * HOUR_MS, 4 * HOUR_MS},
        {"12H", 12 * HOUR_MS, 4 * HOUR_MS},
        {"1D", DAY_MS, 16 * HOUR_MS},
        {"1W", 7 * DAY_MS, 3 * DAY_MS + 16 * HOUR_MS},
        {"6Hutc", 6 * HOUR_MS, 0},
        {"12Hutc", 12 * HOUR_MS, 0},
        {"1Dutc", DAY_MS, 0},
        {"1Wutc", 7 * DAY_MS, 4 * DAY_MS},
};

static int fail(struct sim_ex_call *c, int status, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* {"code":code,"msg":...,"data":[]}: OKX's refusal of a whole request. Returns 0. */
static int
fail(struct sim_ex_call *c, int status, const char *code, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sim_ex_json(c, status,
	                   json_pack("{s:s, s:s, s:[]}", "code", code, "msg", msg, "data"));
}

/* A request header, NULL when absent or empty (OKX: "cannot be empty"). */
static const char *
header(const struct sim_ex_call *c, const char *name)
{
	const char *v = sim_req_header(c->req, name);

	return v && v[0] ? v : NULL;
}

/* "2020-12-08T09:08:57.715Z" -> ms; -1 for anything else. */
static int
parse_ts(const char *s, int64_t *out)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	struct tm tm;
	int v[7] = {0}, k = 0;
	time_t t;

	if (strlen(s) != sizeof(shape) - 1)
		return -1;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] != 'd') {
			if (s[i] != shape[i])
				return -1;
			k++;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v[k] = v[k] * 10 + (s[i] - '0');
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 59)
		return -1;
	t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != v[2])
		return -1;
	*out = (int64_t)t * 1000 + v[6];
	return 0;
}

/* A whole number of ms ("1597026383085"), or -1. */
static int
parse_ms(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || v < 0)
		return -1;
	*out = v;
	return 0;
}

static void
okx_error(struct sim_ex_call *c, enum sim_ex_err e, const char *detail)
{
	const char *ts = header(c, "OK-ACCESS-TIMESTAMP");
	int64_t t;

	switch (e) {
	case SIM_EX_OK:
	case SIM_EX_BAD_PARAM:
		if (c->req->body_len > 0 && c->body == NULL)
			fail(c, 400, "50002", "Json data format error.");
		else
			fail(c, 400, "51000", "Parameter %s error", detail ? detail : "request");
		return;
	case SIM_EX_BAD_SYMBOL:
		fail(c, 200, "51001", "Instrument ID doesn't exist.");
		return;
	case SIM_EX_BAD_KEY:
		if (header(c, "OK-ACCESS-KEY"))
			fail(c, 401, "50111", "Invalid OK-ACCESS-KEY.");
		else
			fail(c, 401, "50103", "Request header \"OK-ACCESS-KEY\" cannot be empty.");
		return;
	case SIM_EX_BAD_PASS:
		if (header(c, "OK-ACCESS-PASSPHRASE"))
			fail(c, 401, "50105", "Request header \"OK-ACCESS-PASSPHRASE\" incorrect.");
		else
			fail(c, 401, "50104",
			     "Request header \"OK-ACCESS-PASSPHRASE\" cannot be empty.");
		return;
	case SIM_EX_BAD_SIGN:
		if (header(c, "OK-ACCESS-SIGN"))
			fail(c, 401, "50113", "Invalid signature.");
		else
			fail(c, 401, "50106", "Request header \"OK-ACCESS-SIGN\" cannot be empty.");
		return;
	case SIM_EX_TIMESTAMP:
		if (ts == NULL)
			fail(c, 401, "50107",
			     "Request header \"OK-ACCESS-TIMESTAMP\" cannot be empty.");
		else if (parse_ts(ts, &t) < 0)
			fail(c, 401, "50112", "Invalid OK-ACCESS-TIMESTAMP.");
		else
			fail(c, 401, "50102", "Timestamp request expired.");
		return;
	case SIM_EX_NO_PERM:
		fail(c, 200, "50120", "This API key doesn't have permission to use this function.");
		return;
	case SIM_EX_INSUFFICIENT:
		fail(c, 200, "51008", "Order failed. Insufficient %s balance in account.",
		     detail ? detail : "");
		return;
	case SIM_EX_FILTER_LOT:
		fail(c, 200, "51121", "Order quantity must be a multiple of the lot size.");
		return;
	case SIM_EX_FILTER_PRICE:
		fail(c, 200, "51000", "Parameter px error");
		return;
	case SIM_EX_FILTER_NOTIONAL:
		fail(c, 200, "51020",
		     "Order amount should be greater than the min available amount.");
		return;
	case SIM_EX_DUPLICATE:
		fail(c, 200, "51016", "Client order ID already exists.");
		return;
	case SIM_EX_NO_ORDER:
		fail(c, 200, "51603", "Order does not exist");
		return;
	case SIM_EX_RATE_LIMITED:
		fail(c, 429, "50011", "Too Many Requests");
		return;
	case SIM_EX_BANNED:
		fail(c, 418, "50011",
		     "Too Many Requests: requests from this IP are refused for %d s",
		     c->retry_after_s);
		return;
	case SIM_EX_INTERNAL:
		fail(c, 503, "50001", "Service temporarily unavailable. Please try again later.");
		return;
	case SIM_EX_NOT_FOUND:
	case SIM_EX__COUNT:
		break;
	}
	sim_reply(c->resp, 404, "text/html",
	          "<html><head><title>404 Not Found</title></head><body></body></html>", 67);
}

static enum sim_ex_err
okx_auth(struct sim_ex_call *c)
{
	const struct sim_req *req = c->req;
	const char *key = header(c, "OK-ACCESS-KEY"), *sig = header(c, "OK-ACCESS-SIGN");
	const char *ts = header(c, "OK-ACCESS-TIMESTAMP"),
	           *pass = header(c, "OK-ACCESS-PASSPHRASE");
	const char *path = req->raw_path, *q = strchr(req->target, '?') ? "?" : "";
	size_t n;
	char want[64], *msg;
	int64_t t;

	if (key == NULL)
		return SIM_EX_BAD_KEY;
	if (pass == NULL)
		return SIM_EX_BAD_PASS;
	if (sig == NULL)
		return SIM_EX_BAD_SIGN;
	if (ts == NULL || parse_ts(ts, &t) < 0)
		return SIM_EX_TIMESTAMP;
	if ((c->acct = sim_ex_account("okx", key)) == NULL)
		return SIM_EX_BAD_KEY;
	if (t <= c->now_ms - WINDOW_MS || t >= c->now_ms + WINDOW_MS)
		return SIM_EX_TIMESTAMP;
	if (!sim_ex_streq(c->acct->passphrase, pass))
		return SIM_EX_BAD_PASS;
	/* The client signed the venue's own path: the one received, without the sim's "/okx". */
	if (strncmp(path, "/okx/", 5) == 0)
		path += 4;
	n = strlen(ts) + strlen(req->method) + strlen(path) + strlen(q) + strlen(req->query);
	msg = q_arena_alloc(req->arena, n + req->body_len + 1);
	snprintf(msg, n + 1, "%s%s%s%s%s", ts, req->method, path, q, req->query);
	memcpy(msg + n, req->body, req->body_len);
	msg[n + req->body_len] = '\0';
	sim_ex_hmac_b64(want, c->acct, msg, n + req->body_len);
	return sim_ex_streq(want, sig) ? SIM_EX_OK : SIM_EX_BAD_SIGN;
}

/* --- helpers --------------------------------------------------------------------------------- */

static const char *
ms_str(struct sim_ex_call *c, int64_t ms)
{
	return q_arena_printf(c->req->arena, "%lld", (long long)ms);
}

static void
put(json_t *o, const char *key, const char *value)
{
	json_object_set_new(o, key, json_string(value));
}

/* "BTC-USDT" -> its symbol, or NULL. */
static const struct sim_symbol *
inst_symbol(const char *inst_id)
{
	const char *dash = inst_id ? strchr(inst_id, '-') : NULL;
	const struct sim_symbol *s;
	char sym[40];
	size_t nb;

	if (dash == NULL || strlen(inst_id) >= sizeof(sym))
		return NULL;
	nb = (size_t)(dash - inst_id);
	snprintf(sym, sizeof(sym), "%.*s%s", (int)nb, inst_id, dash + 1);
	s = sim_ex_symbol(sym);
	if (s == NULL || strlen(s->base) != nb || strncmp(s->base, inst_id, nb) != 0)
		return NULL;
	return s;
}

static const char *
inst_id(struct sim_ex_call *c, const struct sim_symbol *s)
{
	return q_arena_printf(c->req->arena, "%s-%s", s->base, s->quote);
}

/* The trade endpoints' envelope: {"code","msg","data":[item],"inTime","outTime"}. */
static int
trade_reply(struct sim_ex_call *c, const char *code, const char *msg, json_t *item)
{
	const char *us = q_arena_printf(c->req->arena, "%lld000", (long long)c->now_ms);

	return sim_ex_json(c, 200,
	                   json_pack("{s:s, s:s, s:[o], s:s, s:s}", "code", code, "msg", msg,
	                             "data", item, "inTime", us, "outTime", us));
}

/* One order of a trade call refused: code "1" and the reason in data[0].sCode / sMsg. */
static int
item_fail(struct sim_ex_call *c, const char *cl_ord_id, const char *ord_id, const char *scode,
          const char *smsg)
{
	return trade_reply(c, "1", "All operations failed",
	                   json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "clOrdId", cl_ord_id,
	                             "ordId", ord_id, "tag", "", "ts", ms_str(c, c->now_ms),
	                             "sCode", scode, "sMsg", smsg));
}

/* expTime: "the request is discarded if the server time is later than expTime". 0 to go on. */
static int
expired(struct sim_ex_call *c)
{
	const char *v = sim_req_header(c->req, "expTime");
	int64_t t;

	if (v == NULL)
		return 0;
	if (parse_ms(v, &t) < 0) {
		fail(c, 400, "50036", "Invalid expTime");
		return -1;
	}
	if (c->now_ms > t) {
		fail(c, 400, "50037", "Order expired");
		return -1;
	}
	return 0;
}

/* --- public ---------------------------------------------------------------------------------- */

static int
r_time(struct sim_ex_call *c)
{
	return sim_ex_json(c, 200,
	                   json_pack("{s:s, s:s, s:[{s:s}]}", "code", "0", "msg", "", "data", "ts",
	                             ms_str(c, c->now_ms)));
}

static json_t *
instrument_json(struct sim_ex_call *c, const struct sim_symbol *s)
{
	const char *max = sim_ex_dec(c, s->max_qty);
	json_t *j = json_object();

	put(j, "alias", "");
	put(j, "auctionEndTime", "");
	put(j, "baseCcy", s->base);
	put(j, "category", "1");
	put(j, "ctMult", "");
	put(j, "ctType", "");
	put(j, "ctVal", "");
	put(j, "ctValCcy", "");
	put(j, "expTime", "");
	put(j, "instFamily", "");
	put(j, "instId", inst_id(c, s));
	put(j, "instType", "SPOT");
	put(j, "lever", "");
	put(j, "listTime", "1606468572000");
	put(j, "lotSz", sim_ex_dec(c, s->lot));
	put(j, "maxIcebergSz", max);
	put(j, "maxLmtAmt", "20000000");
	put(j, "maxLmtSz", max);
	put(j, "maxMktAmt", "1000000");
	put(j, "maxMktSz", max);
	put(j, "maxStopSz", max);
	put(j, "maxTriggerSz", max);
	put(j, "maxTwapSz", max);
	put(j, "minSz", sim_ex_dec(c, s->min_qty));
	put(j, "optType", "");
	put(j, "quoteCcy", s->quote);
	put(j, "ruleType", "normal");
	put(j, "settleCcy", "");
	put(j, "state", "live");
	put(j, "stk", "");
	put(j, "tickSz", sim_ex_dec(c, s->tick));
	put(j, "uly", "");
	return j;
}

static int
r_instruments(struct sim_ex_call *c)
{
	const char *type = sim_ex_param(c, "instType"), *id = sim_ex_param(c, "instId");
	const struct sim_symbol *s;
	json_t *list;

	if (type == NULL || type[0] == '\0')
		return fail(c, 400, "50014", "Parameter instType can not be empty.");
	if (strcmp(type, "SPOT") != 0 && strcmp(type, "MARGIN") != 0 && strcmp(type, "SWAP") != 0 &&
	    strcmp(type, "FUTURES") != 0 && strcmp(type, "OPTION") != 0)
		return fail(c, 400, "51000", "Parameter instType error");
	list = json_array();
	if (id && id[0]) {
		if ((s = inst_symbol(id)) == NULL || strcmp(type, "SPOT") != 0) {
			json_decref(list);
			okx_error(c, SIM_EX_BAD_SYMBOL, NULL);
			return 0;
		}
		json_array_append_new(list, instrument_json(c, s));
	} else if (strcmp(type, "SPOT") == 0) {
		for (size_t i = 0; (s = sim_market_symbol_at(i)) != NULL; i++)
			json_array_append_new(list, instrument_json(c, s));
	}
	return sim_ex_json(c, 200,
	                   json_pack("{s:s, s:s, s:o}", "code", "0", "msg", "", "data", list));
}

static int64_t
bar_open(const struct bar *b, int64_t t)
{
	return (t - b->offset_ms) / b->ms * b->ms + b->offset_ms;
}

/*
 * Up to limit bars of b, oldest first, the newest opening at or before end (<= now), each whole
 * unless it is still open. Bars aligned on the epoch come straight from the market; the others
 * are summed from units of gcd(length, offset), which the market aligns on the epoch too.
 */
static int
bars_of(struct sim_ex_call *c, const struct sim_symbol *s, const struct bar *b, int64_t end,
        size_t limit, struct sim_candle **out)
{
	int64_t newest = bar_open(b, end), first = newest - (int64_t)(limit - 1) * b->ms, unit;
	int64_t stop = newest + b->ms - 1 < c->now_ms ? newest + b->ms - 1 : c->now_ms, r;
	struct sim_candle *u, *k;
	size_t nu;
	int got, n = 0;

	if (b->offset_ms == 0)
		return sim_ex_candles(c, s->symbol, b->ms, stop, limit, out);
	for (unit = b->ms, r = b->offset_ms; r != 0;) {
		int64_t t = unit % r;

		unit = r;
		r = t;
	}
	nu = (size_t)((stop / unit * unit - first) / unit + 1);
	u = q_arena_alloc(c->req->arena, nu * sizeof(*u));
	got = sim_market_candles(u, nu, s->symbol, unit, stop, NULL);
	if (got < 0)
		return -1;
	k = q_arena_alloc(c->req->arena, limit * sizeof(*k));
	for (int i = 0; i < got; i++) {
		int64_t bo = bar_open(b, u[i].open_ms);
		struct sim_candle *x;

		if (bo < first)
			continue;
		if (n == 0 || k[n - 1].open_ms != bo) {
			if ((size_t)n == limit)
				break;
			k[n] = u[i];
			k[n++].open_ms = bo;
			continue;
		}
		x = &k[n - 1];
		if (q_dec_cmp(u[i].high, x->high) > 0)
			x->high = u[i].high;
		if (q_dec_cmp(u[i].low, x->low) < 0)
			x->low = u[i].low;
		x->close = u[i].close;
		q_dec_add(&x->volume, x->volume, u[i].volume, NULL);
	}
	*out = k;
	return n;
}

static int
r_candles(struct sim_ex_call *c)
{
	const char *id = sim_ex_param(c, "instId"), *bar = sim_ex_param(c, "bar");
	const char *after = sim_ex_param(c, "after"), *before = sim_ex_param(c, "before");
	const char *lim = sim_ex_param(c, "limit");
	const struct sim_symbol *s;
	const struct bar *b = NULL;
	int64_t limit = 100, a = 0, bf = -1, end = c->now_ms, oldest;
	struct sim_candle *k;
	json_t *rows;
	int n;

	if (id == NULL || id[0] == '\0')
		return fail(c, 400, "50014", "Parameter instId can not be empty.");
	if ((s = inst_symbol(id)) == NULL) {
		okx_error(c, SIM_EX_BAD_SYMBOL, NULL);
		return 0;
	}
	for (size_t i = 0; i < sizeof(bars) / sizeof(bars[0]); i++)
		if (strcmp(bars[i].name, bar ? bar : "1m") == 0)
			b = &bars[i];
	if (b == NULL)
		return fail(c, 400, "51000", "Parameter bar error");
	if (lim && (parse_ms(lim, &limit) < 0 || limit < 1))
		return fail(c, 400, "51000", "Parameter limit error");
	if (after && after[0] && parse_ms(after, &a) < 0)
		return fail(c, 400, "51000", "Parameter after error");
	if (before && before[0] && parse_ms(before, &bf) < 0)
		return fail(c, 400, "51000", "Parameter before error");
	if (limit > MAX_CANDLES)
		limit = MAX_CANDLES;
	/* after: records earlier than the instant given; only the latest 1,440 bars are served. */
	if (a > 0 && a - 1 < end)
		end = a - 1;
	oldest = bar_open(b, c->now_ms) - (CANDLE_DEPTH - 1) * b->ms;
	rows = json_array();
	if (end >= oldest) {
		if (bar_open(b, end) - (limit - 1) * b->ms < oldest)
			limit = (bar_open(b, end) - oldest) / b->ms + 1;
		n = bars_of(c, s, b, end, (size_t)limit, &k);
		if (n < 0) {
			json_decref(rows);
			okx_error(c, SIM_EX_INTERNAL, NULL);
			return 0;
		}
		for (int i = n - 1; i >= 0; i--) {
			struct q_dec qv;

			if (k[i].open_ms <= bf)
				continue;
			q_dec_mul(&qv, k[i].volume, k[i].close, Q_DEC_HALF_EVEN, NULL);
			json_array_append_new(
			        rows,
			        json_pack("[s, s, s, s, s, s, s, s, s]", ms_str(c, k[i].open_ms),
			                  sim_ex_dec(c, k[i].open), sim_ex_dec(c, k[i].high),
			                  sim_ex_dec(c, k[i].low), sim_ex_dec(c, k[i].close),
			                  sim_ex_dec(c, k[i].volume), sim_ex_dec(c, qv),
			                  sim_ex_dec(c, qv),
			                  k[i].open_ms + b->ms <= c->now_ms ? "1" : "0"));
		}
	}
	return sim_ex_json(c, 200,
	                   json_pack("{s:s, s:s, s:o}", "code", "0", "msg", "", "data", rows));
}

/* --- account --------------------------------------------------------------------------------- */

/* The asset's value in USDT now (0 when no USDT pair prices it). */
static struct q_dec
usd_value(struct sim_ex_call *c, const char *asset, struct q_dec amount)
{
	char sym[24];
	struct q_dec px, v = {0};

	if (strcmp(asset, "USDT") == 0)
		return amount;
	snprintf(sym, sizeof(sym), "%sUSDT", asset);
	if (sim_ex_symbol(sym) && sim_ex_price(c, sym, &px) == 0)
		q_dec_mul(&v, amount, px, Q_DEC_HALF_EVEN, NULL);
	return v;
}

/* 1 when asset is in the comma-separated list (or there is no list). */
static int
listed(const char *list, const char *asset)
{
	size_t n = strlen(asset);

	if (list == NULL || list[0] == '\0')
		return 1;
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, asset, n) == 0)
			return 1;
		p += len + (p[len] == ',');
	}
	return 0;
}

static int
r_balance(struct sim_ex_call *c)
{
	const char *ccy = sim_ex_param(c, "ccy"), *now = ms_str(c, c->now_ms);
	struct q_dec total = {0};
	json_t *details = json_array(), *j;

	for (int i = 0; i < c->acct->nbal; i++) {
		const struct sim_balance *b = &c->acct->bal[i];
		struct q_dec eq, usd;

		if (!listed(ccy, b->asset) || (q_dec_is_zero(b->free) && q_dec_is_zero(b->locked)))
			continue;
		q_dec_add(&eq, b->free, b->locked, NULL);
		usd = usd_value(c, b->asset, eq);
		q_dec_add(&total, total, usd, NULL);
		j = json_object();
		put(j, "availBal", sim_ex_dec(c, b->free));
		put(j, "availEq", sim_ex_dec(c, b->free));
		put(j, "borrowFroz", "");
		put(j, "cashBal", sim_ex_dec(c, eq));
		put(j, "ccy", b->asset);
		put(j, "crossLiab", "");
		put(j, "disEq", sim_ex_dec(c, usd));
		put(j, "eq", sim_ex_dec(c, eq));
		put(j, "eqUsd", sim_ex_dec(c, usd));
		put(j, "fixedBal", "0");
		put(j, "frozenBal", sim_ex_dec(c, b->locked));
		put(j, "imr", "");
		put(j, "interest", "");
		put(j, "isoEq", "");
		put(j, "isoLiab", "");
		put(j, "isoUpl", "");
		put(j, "liab", "");
		put(j, "maxLoan", "");
		put(j, "mgnRatio", "");
		put(j, "mmr", "");
		put(j, "notionalLever", "");
		put(j, "ordFrozen", sim_ex_dec(c, b->locked));
		put(j, "rewardBal", "0");
		put(j, "spotInUseAmt", "");
		put(j, "stgyEq", "0");
		put(j, "twap", "0");
		put(j, "uTime", now);
		put(j, "upl", "");
		put(j, "uplLiab", "");
		json_array_append_new(details, j);
	}
	j = json_object();
	put(j, "adjEq", "");
	put(j, "borrowFroz", "");
	json_object_set_new(j, "details", details);
	put(j, "imr", "");
	put(j, "isoEq", "0");
	put(j, "mgnRatio", "");
	put(j, "mmr", "");
	put(j, "notionalUsd", "");
	put(j, "ordFroz", "");
	put(j, "totalEq", sim_ex_dec(c, total));
	put(j, "uTime", now);
	put(j, "upl", "");
	return sim_ex_json(c, 200,
	                   json_pack("{s:s, s:s, s:[o]}", "code", "0", "msg", "", "data", j));
}

/* A stable uid per account, from its key (FNV-1a), as OKX's 17-digit decimal. */
static const char *
uid_of(struct sim_ex_call *c)
{
	unsigned long long h = 1469598103934665603ULL;

	for (const char *p = c->acct->api_key; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return q_arena_printf(c->req->arena, "%llu",
	                      10000000000000000ULL + h % 89999999999999999ULL);
}

static int
r_config(struct sim_ex_call *c)
{
	unsigned p = c->acct->perms;
	const char *uid = uid_of(c);
	char perm[64];
	json_t *j = json_object();

	/* In the doc's example order: "read_only,withdraw,trade". */
	snprintf(perm, sizeof(perm), "%s%s%s%s%s", p & SIM_PERM_READ ? "read_only" : "",
	         p & SIM_PERM_READ && p & (SIM_PERM_WITHDRAW | SIM_PERM_TRADE) ? "," : "",
	         p & SIM_PERM_WITHDRAW ? "withdraw" : "",
	         p & SIM_PERM_WITHDRAW && p & SIM_PERM_TRADE ? "," : "",
	         p & SIM_PERM_TRADE ? "trade" : "");
	put(j, "acctLv", "1");
	put(j, "acctStpMode", "cancel_maker");
	json_object_set_new(j, "autoLoan", json_false());
	put(j, "ctIsoMode", "automatic");
	json_object_set_new(j, "enableSpotBorrow", json_false());
	put(j, "greeksType", "PA");
	put(j, "ip", p & SIM_PERM_IP ? "127.0.0.1" : "");
	put(j, "kycLv", "2");
	put(j, "label", c->acct->name);
	put(j, "level", "Lv1");
	put(j, "levelTmp", "");
	put(j, "liquidationGear", "-1");
	put(j, "mainUid", uid);
	put(j, "mgnIsoMode", "automatic");
	put(j, "opAuth", "0");
	put(j, "perm", perm);
	put(j, "posMode", "net_mode");
	put(j, "roleType", "0");
	json_object_set_new(j, "spotBorrowAutoRepay", json_false());
	put(j, "spotOffsetType", "");
	put(j, "spotRoleType", "0");
	json_object_set_new(j, "spotTraderInsts", json_array());
	json_object_set_new(j, "traderInsts", json_array());
	put(j, "type", "0");
	put(j, "uid", uid);
	return sim_ex_json(c, 200,
	                   json_pack("{s:s, s:s, s:[o]}", "code", "0", "msg", "", "data", j));
}

/* --- trade ----------------------------------------------------------------------------------- */

static const char *
state_of(const struct sim_order *o)
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
	return "canceled"; /* an IOC / FOK that could not fill is cancelled by the system */
}

static json_t *
order_json(struct sim_ex_call *c, const struct sim_order *o)
{
	static const char *const tif[] = {"limit", "ioc", "fok"};
	const struct sim_symbol *s = sim_ex_symbol(o->symbol);
	int filled = !q_dec_is_zero(o->executed), by_quote = !q_dec_is_zero(o->quote_qty);
	const char *avg = "", *trade_id = "", *fill_time = "";
	json_t *j = json_object();

	if (filled) {
		struct q_dec a;

		q_dec_div(&a, o->cum_quote, o->executed, Q_DEC_HALF_EVEN, NULL);
		avg = sim_ex_dec(c, a);
		trade_id = q_arena_printf(c->req->arena, "%lld", o->seq);
		fill_time = ms_str(c, o->updated_ms);
	}
	put(j, "accFillSz", sim_ex_dec(c, o->executed));
	put(j, "algoClOrdId", "");
	put(j, "algoId", "");
	put(j, "attachAlgoClOrdId", "");
	json_object_set_new(j, "attachAlgoOrds", json_array());
	put(j, "avgPx", avg);
	put(j, "cTime", ms_str(c, o->created_ms));
	put(j, "cancelSource", o->status == SIM_EXPIRED ? "14" : "");
	put(j, "cancelSourceReason", "");
	put(j, "category", "normal");
	put(j, "ccy", "");
	put(j, "clOrdId", o->client_id);
	put(j, "fee", sim_ex_dec(c, q_dec_neg(o->fee)));
	put(j, "feeCcy", o->fee_asset[0] ? o->fee_asset : s ? s->quote : "");
	put(j, "fillPx", avg);
	put(j, "fillSz", sim_ex_dec(c, o->executed));
	put(j, "fillTime", fill_time);
	put(j, "instId", s ? inst_id(c, s) : o->symbol);
	put(j, "instType", "SPOT");
	put(j, "isTpLimit", "false");
	put(j, "lever", "");
	json_object_set_new(j, "linkedAlgoOrd", json_pack("{s:s}", "algoId", ""));
	put(j, "ordId", o->order_id);
	put(j, "ordType", o->type == SIM_MARKET ? "market" : tif[o->tif]);
	put(j, "pnl", "0");
	put(j, "posSide", "net");
	put(j, "px", o->type == SIM_LIMIT ? sim_ex_dec(c, o->price) : "");
	put(j, "pxType", "");
	put(j, "pxUsd", "");
	put(j, "pxVol", "");
	put(j, "quickMgnType", "");
	put(j, "rebate", "0");
	put(j, "rebateCcy", s ? s->quote : "");
	put(j, "reduceOnly", "false");
	put(j, "side", o->side == SIM_BUY ? "buy" : "sell");
	put(j, "slOrdPx", "");
	put(j, "slTriggerPx", "");
	put(j, "slTriggerPxType", "");
	put(j, "source", "");
	put(j, "state", state_of(o));
	put(j, "stpId", "");
	put(j, "stpMode", "cancel_maker");
	put(j, "sz", sim_ex_dec(c, by_quote ? o->quote_qty : o->qty));
	put(j, "tag", "");
	put(j, "tdMode", "cash");
	put(j, "tgtCcy", o->type == SIM_MARKET ? by_quote ? "quote_ccy" : "base_ccy" : "");
	put(j, "tpOrdPx", "");
	put(j, "tpTriggerPx", "");
	put(j, "tpTriggerPxType", "");
	put(j, "tradeId", trade_id);
	put(j, "uTime", ms_str(c, o->updated_ms));
	return j;
}

/* A POST body that is not JSON: OKX reads only application/json. 0 to go on. */
static int
need_json(struct sim_ex_call *c)
{
	if (sim_req_is(c->req, "application/json") && c->body)
		return 0;
	if (!sim_req_is(c->req, "application/json"))
		fail(c, 400, "50006",
		     "Invalid Content-Type, please use \"application/json\" format.");
	else
		fail(c, 400, "50002", "Json data format error.");
	return -1;
}

/* A refused placement as OKX answers it: the order's own faults in sCode, the rest whole. */
static int
place_refused(struct sim_ex_call *c, const struct sim_order_req *r, const struct sim_symbol *s,
              const char *cid, enum sim_ex_err e)
{
	const char *m;

	switch (e) {
	case SIM_EX_INSUFFICIENT:
		m = q_arena_printf(c->req->arena,
		                   "Order failed. Insufficient %s balance in account.",
		                   r->side == SIM_BUY ? s->quote : s->base);
		return item_fail(c, cid, "", "51008", m);
	case SIM_EX_FILTER_LOT:
		if (!q_dec_is_zero(r->quote_qty) || q_dec_cmp(r->qty, s->min_qty) < 0)
			return item_fail(
			        c, cid, "", "51020",
			        "Order amount should be greater than the min available amount.");
		if (!q_dec_is_multiple(r->qty, s->lot))
			return item_fail(c, cid, "", "51121",
			                 "Order quantity must be a multiple of the lot size.");
		m = q_arena_printf(c->req->arena, "Order amount exceeds the limit %s.",
		                   sim_ex_dec(c, s->max_qty));
		return item_fail(c, cid, "", r->type == SIM_MARKET ? "51202" : "51203", m);
	case SIM_EX_FILTER_PRICE:
		if (q_dec_cmp(r->price, s->tick) < 0) {
			m = q_arena_printf(c->req->arena,
			                   "Order price should be higher than the min price %s.",
			                   sim_ex_dec(c, s->tick));
			return item_fail(c, cid, "", "51122", m);
		}
		return item_fail(c, cid, "", "51000", "Parameter px error");
	case SIM_EX_FILTER_NOTIONAL:
		return item_fail(c, cid, "", "51020",
		                 "Order amount should be greater than the min available amount.");
	case SIM_EX_DUPLICATE:
		return item_fail(c, cid, "", "51016", "Client order ID already exists.");
	case SIM_EX_BAD_SYMBOL:
		return item_fail(c, cid, "", "51001", "Instrument ID doesn't exist.");
	default:
		okx_error(c, e, NULL);
		return 0;
	}
}

static int
r_place(struct sim_ex_call *c)
{
	const char *id = sim_ex_body_str(c, "instId"), *mode = sim_ex_body_str(c, "tdMode");
	const char *side = sim_ex_body_str(c, "side"), *type = sim_ex_body_str(c, "ordType");
	const char *sz = sim_ex_body_str(c, "sz"), *px = sim_ex_body_str(c, "px");
	const char *tgt = sim_ex_body_str(c, "tgtCcy"), *cid = sim_ex_body_str(c, "clOrdId");
	const char *missing = !id     ? "instId"
	                      : !mode ? "tdMode"
	                      : !side ? "side"
	                      : !type ? "ordType"
	                      : !sz   ? "sz"
	                              : NULL;
	struct sim_order_req r = {.client_id = cid};
	const struct sim_symbol *s;
	struct sim_order *o;
	struct q_dec amount;
	enum sim_ex_err e;

	if (need_json(c) < 0 || expired(c) < 0)
		return 0;
	if (missing)
		return fail(c, 400, "50014", "Parameter %s can not be empty.", missing);
	cid = cid ? cid : "";
	if (strlen(cid) > 32 ||
	    strspn(cid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") !=
	            strlen(cid))
		return fail(c, 400, "51000", "Parameter clOrdId error");
	if ((s = inst_symbol(id)) == NULL)
		return item_fail(c, cid, "", "51001", "Instrument ID doesn't exist.");
	if (strcmp(mode, "cash") != 0)
		return fail(c, 400, "51000", "Parameter tdMode error");
	r.symbol = s->symbol;
	r.side = !strcmp(side, "buy") ? SIM_BUY : !strcmp(side, "sell") ? SIM_SELL : 0;
	if (r.side == 0)
		return fail(c, 400, "51000", "Parameter side error");
	if (!strcmp(type, "market")) {
		r.type = SIM_MARKET;
	} else {
		static const char *const tifs[] = {"limit", "ioc", "fok"};

		for (int i = 0; i < 3; i++)
			if (!strcmp(type, tifs[i])) {
				r.type = SIM_LIMIT;
				r.tif = (enum sim_tif)i;
			}
		/* XXX post_only and the optimal_limit types are not simulated. */
		if (r.type == 0)
			return fail(c, 400, "51000", "Parameter ordType error");
		if (px == NULL || px[0] == '\0')
			return fail(c, 400, "50014", "Parameter px can not be empty.");
		if (sim_ex_parse_dec(px, &r.price) < 0)
			return fail(c, 400, "51000", "Parameter px error");
	}
	if (sim_ex_parse_dec(sz, &amount) < 0 || q_dec_sign(amount) <= 0)
		return fail(c, 400, "51000", "Parameter sz error");
	/* A market buy's sz is in the quote asset unless tgtCcy says base_ccy. */
	if (tgt && strcmp(tgt, "base_ccy") != 0 && strcmp(tgt, "quote_ccy") != 0)
		return fail(c, 400, "51000", "Parameter tgtCcy error");
	if (r.type == SIM_MARKET && (tgt ? !strcmp(tgt, "quote_ccy") : r.side == SIM_BUY)) {
		if (r.side != SIM_BUY)
			return fail(c, 400, "51000", "Parameter tgtCcy error");
		r.quote_qty = amount;
	} else {
		r.qty = amount;
	}
	e = sim_ex_place(c, &r, &o);
	if (e != SIM_EX_OK)
		return place_refused(c, &r, s, cid, e);
	return trade_reply(c, "0", "",
	                   json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "clOrdId", cid, "ordId",
	                             o->order_id, "tag", "", "ts", ms_str(c, c->now_ms), "sCode",
	                             "0", "sMsg", "Order placed"));
}

/* The order named by ordId (first) or clOrdId on instId, from the query or the body. */
static int
order_ref(struct sim_ex_call *c, const char *id, const char *oid, const char *cid,
          const struct sim_symbol **s)
{
	if (id == NULL || id[0] == '\0') {
		fail(c, 400, "50014", "Parameter instId can not be empty.");
		return -1;
	}
	if ((oid == NULL || oid[0] == '\0') && (cid == NULL || cid[0] == '\0')) {
		fail(c, 400, "50015", "Either parameter ordId or clOrdId is required.");
		return -1;
	}
	*s = inst_symbol(id);
	return 0;
}

static int
r_order(struct sim_ex_call *c)
{
	const char *oid = sim_ex_param(c, "ordId"), *cid = sim_ex_param(c, "clOrdId");
	const struct sim_symbol *s;
	struct sim_order *o;

	if (order_ref(c, sim_ex_param(c, "instId"), oid, cid, &s) < 0)
		return 0;
	if (s == NULL) {
		okx_error(c, SIM_EX_BAD_SYMBOL, NULL);
		return 0;
	}
	o = oid && oid[0] ? sim_ex_find(c, s->symbol, NULL, oid)
	                  : sim_ex_find(c, s->symbol, cid, NULL);
	if (o == NULL) {
		okx_error(c, SIM_EX_NO_ORDER, NULL);
		return 0;
	}
	return sim_ex_json(
	        c, 200,
	        json_pack("{s:s, s:s, s:[o]}", "code", "0", "msg", "", "data", order_json(c, o)));
}

static int
r_cancel(struct sim_ex_call *c)
{
	const char *oid = sim_ex_body_str(c, "ordId"), *cid = sim_ex_body_str(c, "clOrdId");
	const struct sim_symbol *s;
	struct sim_order *o;

	if (need_json(c) < 0 || expired(c) < 0 ||
	    order_ref(c, sim_ex_body_str(c, "instId"), oid, cid, &s) < 0)
		return 0;
	oid = oid ? oid : "";
	cid = cid ? cid : "";
	if (s == NULL)
		return item_fail(c, cid, oid, "51001", "Instrument ID doesn't exist.");
	o = oid[0] ? sim_ex_find(c, s->symbol, NULL, oid) : sim_ex_find(c, s->symbol, cid, NULL);
	if (o == NULL)
		return item_fail(c, cid, oid, "51400",
		                 "Cancellation failed as the order does not exist.");
	if (o->status == SIM_FILLED)
		return item_fail(c, o->client_id, o->order_id, "51402",
		                 "Cancellation failed as the order is already completed.");
	if (sim_ex_cancel(c, o) != SIM_EX_OK)
		return item_fail(c, o->client_id, o->order_id, "51401",
		                 "Cancellation failed as the order is already canceled.");
	return trade_reply(c, "0", "",
	                   json_pack("{s:s, s:s, s:s, s:s, s:s}", "clOrdId", o->client_id, "ordId",
	                             o->order_id, "ts", ms_str(c, c->now_ms), "sCode", "0", "sMsg",
	                             ""));
}

static int
r_pending(struct sim_ex_call *c)
{
	const char *type = sim_ex_param(c, "instType"), *id = sim_ex_param(c, "instId");
	const char *ord_type = sim_ex_param(c, "ordType"), *state = sim_ex_param(c, "state");
	const char *lim = sim_ex_param(c, "limit");
	const struct sim_symbol *s = NULL;
	struct sim_order **open;
	int64_t limit = MAX_PENDING;
	size_t n;
	json_t *a = json_array();

	if (lim && lim[0] && (parse_ms(lim, &limit) < 0 || limit < 1 || limit > MAX_PENDING)) {
		json_decref(a);
		return fail(c, 400, "51000", "Parameter limit error");
	}
	if (id && id[0] && (s = inst_symbol(id)) == NULL) {
		json_decref(a);
		okx_error(c, SIM_EX_BAD_SYMBOL, NULL);
		return 0;
	}
	/* Only spot is simulated: the other types have nothing pending. */
	if (type && type[0] && strcmp(type, "SPOT") != 0)
		n = 0;
	else
		n = sim_ex_open_orders(c, s ? s->symbol : NULL, &open);
	/* Newest first, as OKX lists them. */
	for (size_t i = n; i-- > 0 && json_array_size(a) < (size_t)limit;) {
		json_t *j = order_json(c, open[i]);

		if ((ord_type && ord_type[0] &&
		     strcmp(json_string_value(json_object_get(j, "ordType")), ord_type) != 0) ||
		    (state && state[0] && strcmp(state, "live") != 0)) {
			json_decref(j);
			continue;
		}
		json_array_append_new(a, j);
	}
	return sim_ex_json(c, 200, json_pack("{s:s, s:s, s:o}", "code", "0", "msg", "", "data", a));
}

static const struct sim_ex_route routes[] = {
        {"GET", "/api/v5/public/time", "time", 0, r_time},
        {"GET", "/api/v5/public/instruments", "rules", 0, r_instruments},
        {"GET", "/api/v5/market/candles", "klines", 0, r_candles},
        {"GET", "/api/v5/account/balance", "balances", 1, r_balance},
        {"GET", "/api/v5/account/config", "permissions", 1, r_config},
        {"POST", "/api/v5/trade/order", "place", 1, r_place},
        {"GET", "/api/v5/trade/order", "query", 1, r_order},
        {"POST", "/api/v5/trade/cancel-order", "cancel", 1, r_cancel},
        {"GET", "/api/v5/trade/orders-pending", "open_orders", 1, r_pending},
        {NULL, NULL, NULL, 0, NULL},
};

const struct sim_venue sim_venue_okx = {
        .name = "okx",
        .routes = routes,
        .auth = okx_auth,
        .error = okx_error,
        .usage = NULL,
};
