/*
 * q_exchange without a network: the signing vectors of tests/vectors/exchange_signing.txt, client
 * order ids, the order and key checks, the rate-limit state, the request builders and the
 * response parsers of every venue (JSON shapes of protocols.md sections 1-4).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/venue.h"
#include "q_arena.h"
#include "q_buf.h"
#include "q_crypto.h"
#include "q_err.h"
#include "q_exchange.h"
#include "q_http.h"

static void
setup(void)
{
	cr_assert_eq(q_crypto_init(), 0);
}

/* -------- vector file -------- */

#include "vectors.h"

/* Every field name the header of the file defines: a new one must be checked here first. */
static void
rec_known_fields(const struct record *r)
{
	static const char *const known[] = {
	        "source",          "venue",      "alg",           "api_key",     "secret",
	        "payload",         "signature",  "signature_hex", "seed",        "public_key",
	        "method",          "path",       "query",         "body",        "timestamp_ms",
	        "recv_window",     "sent_url",   "timestamp",     "sign_header", "build_op",
	        "order_symbol",    "order_side", "order_type",    "order_price", "order_qty",
	        "order_client_id",
	};

	for (int i = 0; i < r->n; i++) {
		size_t k = 0;

		while (k < sizeof(known) / sizeof(known[0]) && strcmp(known[k], r->name[i]) != 0)
			k++;
		cr_assert_lt(k, sizeof(known) / sizeof(known[0]),
		             "record (%s): field '%s' is not checked by this test",
		             rec_get(r, "source"), r->name[i]);
	}
}

/* A PEM with "\n" written for its line breaks, as the file stores it. */
static char *
unescape_nl(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == 'n') {
			*o++ = '\n';
			s++;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

/* Lines of the file that open a record ("source = ..."), counted independently of rec_next. */
static int
count_sources(const char *file)
{
	FILE *f = vec_open(file);
	char line[4096];
	int n = 0;

	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "source =", 8) == 0)
			n++;
	fclose(f);
	return n;
}

static long long
ll(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	cr_assert(*s && *end == '\0', "not an integer: \"%s\"", s);
	return v;
}

static struct q_dec
dec(const char *s)
{
	struct q_dec d;

	cr_assert_eq(q_dec_parse_str(&d, s, NULL), 0, "not a decimal: %s", s);
	return d;
}

/* -------- group 1: signing vectors -------- */

TestSuite(vectors, .init = setup);

/* The names of each venue's key and timestamp headers (Binance puts both in the query). */
struct venue_headers {
	const char *venue, *key, *timestamp;
};

static const struct venue_headers venue_headers[] = {
        {"binance", "X-MBX-APIKEY", NULL},
        {"okx", "OK-ACCESS-KEY", "OK-ACCESS-TIMESTAMP"},
        {"bybit", "X-BAPI-API-KEY", "X-BAPI-TIMESTAMP"},
        {"bitget", "ACCESS-KEY", "ACCESS-TIMESTAMP"},
};

static const struct venue_headers *
headers_of(const char *venue)
{
	for (size_t i = 0; i < sizeof(venue_headers) / sizeof(venue_headers[0]); i++)
		if (strcmp(venue_headers[i].venue, venue) == 0)
			return &venue_headers[i];
	cr_assert_fail("no header names for venue %s", venue);
	return NULL;
}

/* alg over payload with the primitive of venue.h; the signature as the file writes it. */
static void
check_primitive(const struct record *r, const char *alg, const char *secret)
{
	const char *payload = rec_need(r, "payload"), *src = rec_get(r, "source");
	struct q_buf out = Q_BUF_INIT;

	if (strcmp(alg, "hmac-hex") == 0) {
		char hex[65];

		q_venue_hmac_hex(hex, secret, strlen(secret), payload, strlen(payload));
		cr_assert_str_eq(hex, rec_need(r, "signature"), "%s", src);
	} else if (strcmp(alg, "hmac-base64") == 0) {
		q_venue_hmac_base64(&out, secret, strlen(secret), payload, strlen(payload));
		cr_assert_str_eq(out.data, rec_need(r, "signature"), "%s", src);
	} else if (strcmp(alg, "ed25519-base64") == 0) {
		struct q_err err = {0};
		const char *want = rec_get(r, "signature");

		cr_assert(q_venue_is_pem(secret, strlen(secret)), "%s", src);
		cr_assert_eq(q_venue_ed25519_pem_sign(&out, secret, strlen(secret), payload,
		                                      strlen(payload), &err),
		             0, "%s: %s", src, err.msg);
		if (want) {
			cr_assert_str_eq(out.data, want, "%s", src);
		} else {
			struct q_buf raw = Q_BUF_INIT;
			char hex[2 * Q_ED25519_SIG_LEN + 1];

			cr_assert_eq(q_base64_decode(&raw, out.data, out.len), 0);
			cr_assert_eq(raw.len, (size_t)Q_ED25519_SIG_LEN, "%s", src);
			q_hex_encode(hex, (const uint8_t *)raw.data, raw.len);
			cr_assert_str_eq(hex, rec_need(r, "signature_hex"), "%s", src);
			q_buf_release(&raw);
		}
		/* The record's seed is the key inside the PEM. */
		if (rec_get(r, "seed") && rec_get(r, "public_key")) {
			uint8_t seed[Q_ED25519_SEED_LEN], pk[Q_ED25519_PK_LEN],
			        sk[Q_ED25519_SK_LEN];
			char hex[2 * Q_ED25519_PK_LEN + 1];
			size_t n = 0;

			cr_assert_eq(q_hex_decode(seed, sizeof(seed), rec_get(r, "seed"),
			                          strlen(rec_get(r, "seed")), &n),
			             0);
			cr_assert_eq(n, sizeof(seed));
			q_ed25519_seed_keypair(pk, sk, seed);
			q_hex_encode(hex, pk, sizeof(pk));
			cr_assert_str_eq(hex, rec_get(r, "public_key"), "%s", src);
		}
	} else {
		cr_assert_str_eq(alg, "prehash-only", "%s: unknown alg", src);
	}
	q_buf_release(&out);
}

/* Where the venue's signer put the signature, the timestamp and the key in a signed rq. */
static void
check_signed(const struct record *r, const struct q_exchange_ops *ops,
             const struct q_exchange_request *rq, const char *api_key)
{
	const struct venue_headers *vh = headers_of(ops->name);
	const char *src = rec_get(r, "source"), *sig = rec_get(r, "signature");
	const char *url = rec_get(r, "sent_url"), *ts = rec_get(r, "timestamp");

	cr_assert_eq(rq->prehash.len, strlen(rec_need(r, "payload")), "%s: prehash \"%s\"", src,
	             rq->prehash.data);
	cr_assert_str_eq(rq->prehash.data, rec_need(r, "payload"), "%s", src);
	cr_assert_str_eq(q_exchange_request_get_header(rq, vh->key), api_key, "%s", src);
	if (sig && strcmp(ops->name, "binance") == 0) {
		struct q_buf want = Q_BUF_INIT;
		size_t n;

		q_buf_adds(&want, "&signature=");
		q_http_urlencode(&want, sig, strlen(sig));
		n = want.len;
		cr_assert_geq(rq->query.len, n, "%s", src);
		cr_assert_str_eq(rq->query.data + rq->query.len - n, want.data, "%s: query %s", src,
		                 rq->query.data);
		q_buf_release(&want);
	} else if (sig) {
		cr_assert_str_eq(q_exchange_request_get_header(rq, rec_need(r, "sign_header")), sig,
		                 "%s", src);
	}
	if (url) {
		struct q_buf got = Q_BUF_INIT;

		q_buf_printf(&got, "%s%s%s%s", ops->base_url, rq->path, rq->query.len ? "?" : "",
		             rq->query.data);
		cr_assert_str_eq(got.data, url, "%s", src);
		q_buf_release(&got);
	}
	if (ts) {
		cr_assert_not_null(vh->timestamp, "%s: timestamp on a venue without the header",
		                   src);
		cr_assert_str_eq(q_exchange_request_get_header(rq, vh->timestamp), ts, "%s", src);
	}
}

/* The venue's own signer on a request made of the record's method, path, query and body. */
static void
check_signer(const struct record *r, const struct q_exchange_ops *ops, const char *secret)
{
	const char *api_key = rec_get(r, "api_key") ? rec_get(r, "api_key") : "test-key";
	const char *rw = rec_get(r, "recv_window");
	struct q_exchange_creds c = {api_key, secret, strlen(secret), "test-passphrase"};
	struct q_exchange_request rq;
	struct q_err err = {0};
	int rc;

	q_exchange_request_init(&rq);
	rq.method = rec_need(r, "method");
	rq.path = rec_need(r, "path");
	if (rec_get(r, "query"))
		q_buf_adds(&rq.query, rec_get(r, "query"));
	if (rec_get(r, "body"))
		q_buf_adds(&rq.body, rec_get(r, "body"));
	rc = ops->sign(&rq, &c, ll(rec_need(r, "timestamp_ms")), rw ? (long)ll(rw) : 5000L, &err);
	cr_assert_eq(rc, 0, "%s: %s", rec_get(r, "source"), err.msg);
	check_signed(r, ops, &rq, api_key);
	q_exchange_request_release(&rq);
}

static enum q_exchange_op
op_named(const struct q_exchange_ops *ops, const char *name)
{
	for (int i = 0; i < Q_EX_OP__COUNT; i++)
		if (strcmp(ops->op[i].name, name) == 0)
			return (enum q_exchange_op)i;
	cr_assert_fail("%s has no operation %s", ops->name, name);
	return Q_EX_OP__COUNT;
}

/* The operation's own builder must produce the record's request, then sign it the same way. */
static void
check_builder(const struct record *r, const struct q_exchange_ops *ops, const char *secret)
{
	const char *api_key = rec_get(r, "api_key") ? rec_get(r, "api_key") : "test-key";
	const char *rw = rec_get(r, "recv_window"), *src = rec_get(r, "source");
	struct q_exchange_creds c = {api_key, secret, strlen(secret), "test-passphrase"};
	enum q_exchange_op op = op_named(ops, rec_get(r, "build_op"));
	struct q_exchange_order_req o;
	struct q_exchange_args args = {0};
	struct q_exchange_request rq;
	struct q_err err = {0};

	memset(&o, 0, sizeof(o));
	if (op == Q_EX_OP_PLACE) {
		const char *side = rec_need(r, "order_side"), *type = rec_need(r, "order_type");

		snprintf(o.symbol, sizeof(o.symbol), "%s", rec_need(r, "order_symbol"));
		o.side = strcmp(side, "buy") == 0 ? Q_EX_BUY : Q_EX_SELL;
		o.type = strcmp(type, "limit") == 0 ? Q_EX_LIMIT : Q_EX_MARKET;
		o.tif = Q_EX_GTC;
		o.qty = dec(rec_need(r, "order_qty"));
		if (rec_get(r, "order_price"))
			o.price = dec(rec_get(r, "order_price"));
		snprintf(o.client_id, sizeof(o.client_id), "%s", rec_need(r, "order_client_id"));
		args.order = &o;
		args.symbol = o.symbol;
	}
	q_exchange_request_init(&rq);
	cr_assert_eq(q_exchange_build(&rq, ops, op, &args, &c, ll(rec_need(r, "timestamp_ms")),
	                              rw ? (long)ll(rw) : 5000L, &err),
	             0, "%s: %s", src, err.msg);
	cr_assert_str_eq(rq.method, rec_need(r, "method"), "%s", src);
	cr_assert_str_eq(rq.path, rec_need(r, "path"), "%s", src);
	cr_assert_str_eq(rq.body.data, rec_get(r, "body") ? rec_get(r, "body") : "", "%s", src);
	cr_assert_eq(rq.flags, ops->op[op].flags, "%s", src);
	check_signed(r, ops, &rq, api_key);
	q_exchange_request_release(&rq);
}

Test(vectors, every_signing_record)
{
	FILE *f = vec_open("exchange_signing.txt");
	struct record r = {0};
	int checked = 0, via_signer = 0, via_builder = 0, in_file;

	while (rec_next(f, &r)) {
		const char *alg = rec_need(&r, "alg");
		const struct q_exchange_ops *ops = q_exchange_lookup(rec_need(&r, "venue"));
		/* prehash-only records publish no secret: any secret yields the same prehash. */
		char *secret = unescape_nl(rec_get(&r, "secret") ? rec_get(&r, "secret")
		                                                 : "not-published");

		rec_known_fields(&r);
		cr_assert_not_null(ops, "unknown venue %s", rec_get(&r, "venue"));
		check_primitive(&r, alg, secret);
		if (strcmp(alg, "prehash-only") == 0)
			cr_assert_not_null(rec_get(&r, "method"),
			                   "%s: a prehash-only record needs method and path",
			                   rec_get(&r, "source"));
		if (rec_get(&r, "method")) {
			check_signer(&r, ops, secret);
			via_signer++;
		}
		if (rec_get(&r, "build_op")) {
			check_builder(&r, ops, secret);
			via_builder++;
		}
		free(secret);
		checked++;
	}
	rec_release(&r);
	fclose(f);
	in_file = count_sources("exchange_signing.txt");
	cr_assert_eq(checked, in_file, "checked %d records, the file has %d", checked, in_file);
	/* As of this test: 17 records, 12 through a signer, 4 through a builder. */
	cr_assert_geq(checked, 17);
	cr_assert_geq(via_signer, 12);
	cr_assert_geq(via_builder, 4);
}

/* -------- group 2: client order ids -------- */

TestSuite(client_id, .init = setup);

static size_t
venue_count(void)
{
	size_t n = 0;

	while (q_exchange_venue(n))
		n++;
	return n;
}

Test(client_id, known_ids_round_trip_and_are_valid_everywhere)
{
	static const struct {
		long long bot, seq;
		const char *id;
	} cases[] = {
	        {0, 0, "qt00000000000000000000000000"},
	        {35, 36, "qt000000000000z0000000000010"},
	        {123456789, 987654321, "qt000000021i3v90000000gc0uy9"},
	        {9223372036854775807LL, 9223372036854775807LL, "qt1y2p0ij32e8e71y2p0ij32e8e7"},
	};

	cr_assert_eq(venue_count(), 4);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char id[Q_EX_CLIENT_ID_LEN + 1];
		long long bot = -1, seq = -1;

		cr_assert_eq(q_exchange_client_order_id(id, cases[i].bot, cases[i].seq), 0);
		cr_assert_str_eq(id, cases[i].id);
		cr_assert_eq(strlen(id), 28);
		cr_assert_eq(q_exchange_client_order_id_parse(&bot, &seq, id), 0, "%s", id);
		cr_assert_eq(bot, cases[i].bot);
		cr_assert_eq(seq, cases[i].seq);
		cr_assert_eq(q_exchange_client_id_valid(id), 1, "%s", id);
		for (size_t v = 0; q_exchange_venue(v); v++)
			cr_assert_eq(q_exchange_client_id_valid_on(q_exchange_venue(v), id), 1,
			             "%s on %s", id, q_exchange_venue(v)->name);
	}
}

Test(client_id, many_ids_round_trip)
{
	for (long long bot = 0; bot < 5000; bot += 37)
		for (long long seq = 0; seq < 200000; seq += 9973) {
			char id[Q_EX_CLIENT_ID_LEN + 1];
			long long b, s;

			cr_assert_eq(q_exchange_client_order_id(id, bot, seq), 0);
			cr_assert_eq(strlen(id), 28);
			cr_assert_eq(q_exchange_client_order_id_parse(&b, &s, id), 0, "%s", id);
			cr_assert(b == bot && s == seq, "%s -> %lld %lld", id, b, s);
		}
}

Test(client_id, negative_ids_refused)
{
	char id[Q_EX_CLIENT_ID_LEN + 1] = "garbage";

	cr_assert_eq(q_exchange_client_order_id(id, -1, 5), -1);
	cr_assert_str_eq(id, "");
	memcpy(id, "garbage", 8);
	cr_assert_eq(q_exchange_client_order_id(id, 5, -1), -1);
	cr_assert_str_eq(id, "");
	cr_assert_eq(q_exchange_client_order_id(id, -9223372036854775807LL - 1, 0), -1);
	cr_assert_str_eq(id, "");
}

Test(client_id, parse_refuses_what_it_did_not_make)
{
	static const char *const bad[] = {
	        "",
	        "qt",
	        "qt0000000000000000000000000",   /* 27 */
	        "qt000000000000000000000000000", /* 29 */
	        "QT00000000000000000000000000",  /* prefix case */
	        "xt00000000000000000000000000",  /* prefix */
	        "qt000000000000Z0000000000010",  /* uppercase digit */
	        "qt000000000000-0000000000010",  /* not base 36 */
	        "qt1y2p0ij32e8e80000000000000",  /* bot LLONG_MAX + 1 */
	        "qt00000000000001y2p0ij32e8e8",  /* seq LLONG_MAX + 1 */
	        "qtzzzzzzzzzzzzz0000000000000",  /* 36^13 - 1 */
	        "qt0000000000000zzzzzzzzzzzzz",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long long b = 7, s = 8;

		cr_assert_eq(q_exchange_client_order_id_parse(&b, &s, bad[i]), -1, "\"%s\"",
		             bad[i]);
		cr_assert(b == 7 && s == 8, "\"%s\" wrote the outputs", bad[i]);
	}
}

Test(client_id, validity_rules)
{
	char id[64];

	/* 1 to 32 of [A-Za-z0-9] everywhere. */
	cr_assert_eq(q_exchange_client_id_valid("a"), 1);
	cr_assert_eq(q_exchange_client_id_valid("AZaz09"), 1);
	memset(id, 'A', 32);
	id[32] = '\0';
	cr_assert_eq(q_exchange_client_id_valid(id), 1);
	id[32] = 'A';
	id[33] = '\0';
	cr_assert_eq(q_exchange_client_id_valid(id), 0, "33 characters");
	/* 33 to 36: still Binance's and Bybit's rule, not OKX's nor Bitget's. */
	cr_assert_eq(q_exchange_client_id_valid_on(&q_exchange_binance, id), 1);
	cr_assert_eq(q_exchange_client_id_valid_on(&q_exchange_bybit, id), 1);
	cr_assert_eq(q_exchange_client_id_valid_on(&q_exchange_okx, id), 0);
	cr_assert_eq(q_exchange_client_id_valid_on(&q_exchange_bitget, id), 0);
	memset(id, 'A', 37);
	id[37] = '\0';
	for (size_t v = 0; q_exchange_venue(v); v++)
		cr_assert_eq(q_exchange_client_id_valid_on(q_exchange_venue(v), id), 0, "37 on %s",
		             q_exchange_venue(v)->name);
	cr_assert_eq(q_exchange_client_id_valid(id), 0);

	cr_assert_eq(q_exchange_client_id_valid(""), 0);
	cr_assert_eq(q_exchange_client_id_valid(NULL), 0);
	cr_assert_eq(q_exchange_client_id_valid("a-b"), 0);
	cr_assert_eq(q_exchange_client_id_valid("a_b"), 0);
	cr_assert_eq(q_exchange_client_id_valid("a.b"), 0);
	cr_assert_eq(q_exchange_client_id_valid("a b"), 0);
	cr_assert_eq(q_exchange_client_id_valid("-"), 0);
	/* '-' and '_' are Binance's, Bybit's and Bitget's, not OKX's; '.' is nobody's. */
	cr_assert_eq(q_exchange_client_id_valid_on(&q_exchange_binance, "a-b_c"), 1);
	cr_assert_eq(q_exchange_client_id_valid_on(&q_exchange_bybit, "a-b_c"), 1);
	cr_assert_eq(q_exchange_client_id_valid_on(&q_exchange_bitget, "a-b_c"), 1);
	cr_assert_eq(q_exchange_client_id_valid_on(&q_exchange_okx, "a-b_c"), 0);
	for (size_t v = 0; q_exchange_venue(v); v++) {
		cr_assert_eq(q_exchange_client_id_valid_on(q_exchange_venue(v), "a.b"), 0);
		cr_assert_eq(q_exchange_client_id_valid_on(q_exchange_venue(v), ""), 0);
		cr_assert_eq(q_exchange_client_id_valid_on(q_exchange_venue(v), NULL), 0);
	}
}

/* -------- group 3: order and key checks -------- */

TestSuite(order_check, .init = setup);

/* tick 0.01, lot 0.001, min qty 0.002, max qty 100, min notional 10, quote step 0.01. */
static struct q_exchange_rules
rules(void)
{
	struct q_exchange_rules r;

	memset(&r, 0, sizeof(r));
	snprintf(r.symbol, sizeof(r.symbol), "BTCUSDT");
	snprintf(r.base, sizeof(r.base), "BTC");
	snprintf(r.quote, sizeof(r.quote), "USDT");
	r.tick = dec("0.01");
	r.lot = dec("0.001");
	r.min_qty = dec("0.002");
	r.max_qty = dec("100");
	r.min_notional = dec("10");
	r.quote_step = dec("0.01");
	r.trading = 1;
	return r;
}

static struct q_exchange_order_req
limit(enum q_exchange_side side, const char *qty, const char *price)
{
	struct q_exchange_order_req o;

	memset(&o, 0, sizeof(o));
	snprintf(o.symbol, sizeof(o.symbol), "BTCUSDT");
	snprintf(o.client_id, sizeof(o.client_id), "qt00000000000010000000000001");
	o.side = side;
	o.type = Q_EX_LIMIT;
	o.tif = Q_EX_GTC;
	o.qty = dec(qty);
	o.price = dec(price);
	return o;
}

static struct q_exchange_order_req
market(enum q_exchange_side side, const char *qty, const char *quote_qty)
{
	struct q_exchange_order_req o = limit(side, "0", "0");

	o.type = Q_EX_MARKET;
	o.qty = dec(qty);
	o.quote_qty = dec(quote_qty);
	return o;
}

static void
dec_is(struct q_dec d, const char *want)
{
	char s[Q_DEC_STR_MAX];

	q_dec_format(s, d);
	cr_assert_str_eq(s, want);
}

/* o passes and comes out with this qty, price and quote_qty. */
static void
passes(struct q_exchange_order_req o, const char *qty, const char *price, const char *quote)
{
	struct q_exchange_rules r = rules();
	struct q_err err = {0};

	cr_assert_eq(q_exchange_order_check(&o, &r, &err), 0, "%s", err.msg);
	cr_assert_eq(err.code, Q_OK);
	dec_is(o.qty, qty);
	dec_is(o.price, price);
	dec_is(o.quote_qty, quote);
}

/* o fails with code (and a message holding what) and is left as it was. */
static void
fails(struct q_exchange_order_req o, const struct q_exchange_rules *r, enum q_code code,
      const char *what)
{
	struct q_exchange_order_req before = o;
	struct q_err err = {0};

	cr_assert_eq(q_exchange_order_check(&o, r, &err), -1);
	cr_assert_eq(err.code, code, "got %s (%s), want %s", q_err_name(err.code), err.msg,
	             q_err_name(code));
	cr_assert_eq(memcmp(&o, &before, sizeof(o)), 0, "request changed on failure");
	if (what)
		cr_assert_not_null(strstr(err.msg, what), "message \"%s\" lacks \"%s\"", err.msg,
		                   what);
}

Test(order_check, qty_floored_to_the_lot_price_to_the_tick_never_worse)
{
	passes(limit(Q_EX_BUY, "1.23456", "100.019"), "1.234", "100.01", "0");
	passes(limit(Q_EX_SELL, "1.23456", "100.011"), "1.234", "100.02", "0");
	/* Already on a step: unchanged. */
	passes(limit(Q_EX_BUY, "0.5", "100.01"), "0.5", "100.01", "0");
	passes(limit(Q_EX_SELL, "0.5", "100.01"), "0.5", "100.01", "0");
	/* Under one tick (no notional rule): a SELL rounds up to the tick, a BUY to 0 and fails. */
	{
		struct q_exchange_rules r = rules();
		struct q_exchange_order_req o = limit(Q_EX_SELL, "50", "0.004");
		struct q_err err = {0};

		r.min_notional = dec("0");
		cr_assert_eq(q_exchange_order_check(&o, &r, &err), 0, "%s", err.msg);
		dec_is(o.price, "0.01");
		fails(limit(Q_EX_BUY, "50", "0.004"), &r, Q_E_EX_FILTER, "tick");
	}
	/* A market order keeps its reference price as given. */
	passes(market(Q_EX_SELL, "0.1234", "0"), "0.123", "0", "0");
}

Test(order_check, min_qty_after_rounding)
{
	struct q_exchange_rules r = rules();

	passes(limit(Q_EX_BUY, "0.0029", "10000"), "0.002", "10000", "0");
	fails(limit(Q_EX_BUY, "0.0019", "10000"), &r, Q_E_EX_FILTER, "0.002");
	fails(limit(Q_EX_SELL, "0.0009", "10000"), &r, Q_E_EX_FILTER, "below the minimum");
	/* No stated minimum: one lot is the floor. */
	r.min_qty = dec("0");
	{
		struct q_exchange_order_req o = limit(Q_EX_BUY, "0.0019", "10000");
		struct q_err err = {0};

		cr_assert_eq(q_exchange_order_check(&o, &r, &err), 0, "%s", err.msg);
		dec_is(o.qty, "0.001");
	}
	fails(limit(Q_EX_BUY, "0.0009", "100000"), &r, Q_E_EX_FILTER, "0.001");
}

Test(order_check, min_notional_edge)
{
	struct q_exchange_rules r = rules();

	/* 0.1 * 100 = 10 exactly passes; one lot less (0.099 -> 9.9) fails. */
	passes(limit(Q_EX_BUY, "0.1", "100"), "0.1", "100", "0");
	passes(limit(Q_EX_BUY, "0.1009", "100"), "0.1", "100", "0");
	fails(limit(Q_EX_BUY, "0.099", "100"), &r, Q_E_EX_FILTER, "notional");
	fails(limit(Q_EX_BUY, "0.0999", "100"), &r, Q_E_EX_FILTER, "notional");
	/* The notional uses the rounded price: 0.1 * 99.999 BUY -> 99.99 -> 9.999. */
	passes(limit(Q_EX_BUY, "0.1", "100.009"), "0.1", "100", "0");
	fails(limit(Q_EX_BUY, "0.1", "99.999"), &r, Q_E_EX_FILTER, "notional");
	passes(limit(Q_EX_SELL, "0.1", "99.991"), "0.1", "100", "0");
	/* A MARKET order with a reference price is checked too; without one it cannot be. */
	{
		struct q_exchange_order_req o = market(Q_EX_SELL, "0.05", "0");

		o.price = dec("100");
		fails(o, &r, Q_E_EX_FILTER, "notional");
	}
	passes(market(Q_EX_SELL, "0.05", "0"), "0.05", "0", "0");
}

Test(order_check, max_qty)
{
	struct q_exchange_rules r = rules();

	passes(limit(Q_EX_SELL, "100", "1"), "100", "1", "0");
	/* 100.0009 floors to 100: still allowed. */
	passes(limit(Q_EX_SELL, "100.0009", "1"), "100", "1", "0");
	fails(limit(Q_EX_SELL, "100.001", "1"), &r, Q_E_EX_FILTER, "maximum");
	/* No stated maximum. */
	r.max_qty = dec("0");
	{
		struct q_exchange_order_req o = limit(Q_EX_SELL, "5000", "1");
		struct q_err err = {0};

		cr_assert_eq(q_exchange_order_check(&o, &r, &err), 0, "%s", err.msg);
	}
}

Test(order_check, quote_qty_for_market_buy_only)
{
	struct q_exchange_rules r = rules();

	/* Floored to the quote step, then held to the minimum notional. */
	passes(market(Q_EX_BUY, "0", "10.009"), "0", "0", "10");
	passes(market(Q_EX_BUY, "0", "25.5"), "0", "0", "25.5");
	fails(market(Q_EX_BUY, "0", "9.999"), &r, Q_E_EX_FILTER, "notional");
	fails(market(Q_EX_BUY, "0", "0.001"), &r, Q_E_EX_FILTER, NULL);
	/* Not for a SELL, a LIMIT, or together with qty; never negative. */
	fails(market(Q_EX_SELL, "0", "20"), &r, Q_E_BAD_REQUEST, NULL);
	fails(market(Q_EX_BUY, "0.5", "20"), &r, Q_E_BAD_REQUEST, NULL);
	fails(market(Q_EX_BUY, "0", "-20"), &r, Q_E_BAD_REQUEST, NULL);
	{
		struct q_exchange_order_req o = limit(Q_EX_BUY, "0", "100");

		o.quote_qty = dec("20");
		fails(o, &r, Q_E_BAD_REQUEST, NULL);
	}
	/* Without a quote step the amount is kept as given. */
	r.quote_step = dec("0");
	{
		struct q_exchange_order_req o = market(Q_EX_BUY, "0", "10.0001");
		struct q_err err = {0};

		cr_assert_eq(q_exchange_order_check(&o, &r, &err), 0, "%s", err.msg);
		dec_is(o.quote_qty, "10.0001");
	}
}

Test(order_check, malformed_requests_and_rules)
{
	struct q_exchange_rules r = rules(), norules = rules();
	struct q_exchange_order_req o;

	o = limit(Q_EX_BUY, "1", "100");
	o.side = 0;
	fails(o, &r, Q_E_BAD_REQUEST, NULL);
	o = limit(Q_EX_BUY, "1", "100");
	o.type = 0;
	fails(o, &r, Q_E_BAD_REQUEST, NULL);
	o = limit(Q_EX_BUY, "1", "100");
	o.tif = (enum q_exchange_tif)7;
	fails(o, &r, Q_E_BAD_REQUEST, NULL);
	fails(limit(Q_EX_BUY, "1", "0"), &r, Q_E_BAD_REQUEST, "price");
	fails(limit(Q_EX_BUY, "1", "-100"), &r, Q_E_BAD_REQUEST, "price");
	fails(limit(Q_EX_BUY, "0", "100"), &r, Q_E_BAD_REQUEST, "quantity");
	fails(limit(Q_EX_BUY, "-1", "100"), &r, Q_E_BAD_REQUEST, "quantity");
	fails(market(Q_EX_SELL, "0", "0"), &r, Q_E_BAD_REQUEST, NULL);
	o = limit(Q_EX_BUY, "1", "100");
	snprintf(o.client_id, sizeof(o.client_id), "a-b");
	fails(o, &r, Q_E_BAD_REQUEST, "client order id");
	o.client_id[0] = '\0';
	fails(o, &r, Q_E_BAD_REQUEST, "client order id");
	norules.tick = dec("0");
	fails(limit(Q_EX_BUY, "1", "100"), &norules, Q_E_BAD_REQUEST, "tick");
	norules = rules();
	norules.lot = dec("0");
	fails(limit(Q_EX_BUY, "1", "100"), &norules, Q_E_BAD_REQUEST, "lot");
}

Test(order_check, key_permissions)
{
	struct q_exchange_perms p;
	struct q_err err = {0};

	memset(&p, 0, sizeof(p));
	p.can_read = 1;
	p.can_trade = 1;
	cr_assert_eq(q_exchange_perms_check(&p, &err), 0, "%s", err.msg);
	cr_assert_eq(err.code, Q_OK);

	p.can_withdraw = 1;
	cr_assert_eq(q_exchange_perms_check(&p, &err), -1);
	cr_assert_eq(err.code, Q_E_KEY_CAN_WITHDRAW);
	cr_assert_not_null(strstr(err.msg, "withdraw"), "%s", err.msg);

	q_err_clear(&err);
	p.can_withdraw = 0;
	p.can_transfer = 1;
	cr_assert_eq(q_exchange_perms_check(&p, &err), -1);
	cr_assert_eq(err.code, Q_E_KEY_CAN_WITHDRAW);
	cr_assert_not_null(strstr(err.msg, "transfer"), "%s", err.msg);

	/* Withdrawing is the worse fault: reported before the missing trade right. */
	q_err_clear(&err);
	p.can_transfer = 0;
	p.can_withdraw = 1;
	p.can_trade = 0;
	cr_assert_eq(q_exchange_perms_check(&p, &err), -1);
	cr_assert_eq(err.code, Q_E_KEY_CAN_WITHDRAW);

	q_err_clear(&err);
	p.can_withdraw = 0;
	cr_assert_eq(q_exchange_perms_check(&p, &err), -1);
	cr_assert_eq(err.code, Q_E_KEY_CANNOT_TRADE);
}

/* -------- group 4: rate-limit state -------- */

TestSuite(limits, .init = setup);

#define T0 1700000012345LL /* a local instant 32.345 s into a minute */

/* A response as q_http_do leaves it: the raw header block with its status line. hdrs holds
 * "Name: value\r\n" lines (or is ""). */
static void
resp_make(struct q_http_resp *resp, long status, const char *hdrs, const char *body)
{
	q_http_resp_init(resp);
	resp->status = status;
	resp->sent = 1;
	q_buf_printf(&resp->headers, "HTTP/1.1 %ld X\r\n%s\r\n", status, hdrs);
	q_buf_adds(&resp->body, body);
}

static void
observe(struct q_exchange_limits *l, const struct q_exchange_ops *ops, long status,
        const char *hdrs, long long now, long long offset)
{
	struct q_http_resp resp;

	resp_make(&resp, status, hdrs, "");
	q_exchange_limits_observe(l, ops, &resp, now, offset);
	q_http_resp_release(&resp);
}

/* admit at now: 0, or -1 with code and "N s" in the message. */
static void
admit_is(const struct q_exchange_limits *l, long long now, enum q_code code, int secs)
{
	struct q_err err = {0};
	char want[32];

	if (code == Q_OK) {
		cr_assert_eq(q_exchange_limits_admit(l, now, &err), 0, "at %+lld ms: %s", now - T0,
		             err.msg);
		return;
	}
	cr_assert_eq(q_exchange_limits_admit(l, now, &err), -1, "admitted at %+lld ms", now - T0);
	cr_assert_eq(err.code, code, "at %+lld ms: %s", now - T0, err.msg);
	snprintf(want, sizeof(want), "another %d s", secs);
	cr_assert_not_null(strstr(err.msg, want), "\"%s\" lacks \"%s\"", err.msg, want);
}

Test(limits, fresh_state_admits)
{
	struct q_exchange_limits l;

	q_exchange_limits_init(&l, 5400);
	cr_assert_eq(l.weight_limit, 5400);
	cr_assert_eq(l.used_weight, -1);
	cr_assert_eq(l.remaining, -1);
	cr_assert_eq(l.not_before_ms, 0);
	cr_assert_eq(l.banned_until_ms, 0);
	admit_is(&l, T0, Q_OK, 0);
	/* A plain 200 teaches nothing. */
	observe(&l, &q_exchange_binance, 200, "Content-Type: application/json\r\n", T0, 0);
	admit_is(&l, T0, Q_OK, 0);
	cr_assert_eq(l.used_weight, -1);
}

Test(limits, http_429_retry_after_3)
{
	struct q_exchange_limits l;

	q_exchange_limits_init(&l, 0);
	observe(&l, &q_exchange_binance, 429, "Retry-After: 3\r\n", T0, 0);
	cr_assert_eq(l.not_before_ms, T0 + 3000);
	cr_assert_eq(l.retry_after_s, 3);
	cr_assert_eq(l.banned_until_ms, 0);
	admit_is(&l, T0, Q_E_EX_RATE_LIMITED, 3);
	admit_is(&l, T0 + 1, Q_E_EX_RATE_LIMITED, 3);
	admit_is(&l, T0 + 2000, Q_E_EX_RATE_LIMITED, 1);
	admit_is(&l, T0 + 2999, Q_E_EX_RATE_LIMITED, 1);
	admit_is(&l, T0 + 3000, Q_OK, 0);
	admit_is(&l, T0 + 60000, Q_OK, 0);
}

Test(limits, http_429_without_a_time_waits_the_default)
{
	struct q_exchange_limits l;

	q_exchange_limits_init(&l, 0);
	/* An HTTP-date Retry-After is not a number of seconds: the default applies. */
	observe(&l, &q_exchange_okx, 429, "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n", T0, 0);
	cr_assert_eq(l.not_before_ms, T0 + Q_EX_RETRY_DEFAULT_S * 1000LL);
	admit_is(&l, T0 + Q_EX_RETRY_DEFAULT_S * 1000LL - 1, Q_E_EX_RATE_LIMITED, 1);
	admit_is(&l, T0 + Q_EX_RETRY_DEFAULT_S * 1000LL, Q_OK, 0);
}

Test(limits, http_418_bans)
{
	struct q_exchange_limits l;

	q_exchange_limits_init(&l, 0);
	observe(&l, &q_exchange_binance, 418, "Retry-After: 7200\r\n", T0, 0);
	cr_assert_eq(l.banned_until_ms, T0 + 7200000LL);
	cr_assert_eq(l.retry_after_s, 7200);
	admit_is(&l, T0, Q_E_EX_BANNED, 7200);
	admit_is(&l, T0 + 7200000LL - 1, Q_E_EX_BANNED, 1);
	admit_is(&l, T0 + 7200000LL, Q_OK, 0);

	/* No Retry-After: Binance's shortest ban. */
	q_exchange_limits_init(&l, 0);
	observe(&l, &q_exchange_binance, 418, "", T0, 0);
	cr_assert_eq(l.banned_until_ms, T0 + Q_EX_BAN_DEFAULT_S * 1000LL);
	admit_is(&l, T0 + 1000, Q_E_EX_BANNED, Q_EX_BAN_DEFAULT_S - 1);
}

Test(limits, ban_wins_over_rate_limit)
{
	struct q_exchange_limits l;

	q_exchange_limits_init(&l, 0);
	observe(&l, &q_exchange_binance, 429, "Retry-After: 600\r\n", T0, 0);
	observe(&l, &q_exchange_binance, 418, "Retry-After: 120\r\n", T0, 0);
	admit_is(&l, T0, Q_E_EX_BANNED, 120);
	admit_is(&l, T0 + 120000, Q_E_EX_RATE_LIMITED, 480);
	admit_is(&l, T0 + 600000, Q_OK, 0);
}

Test(limits, http_403_is_a_ban_only_on_bybit)
{
	struct q_exchange_limits l;

	q_exchange_limits_init(&l, 0);
	observe(&l, &q_exchange_bybit, 403, "", T0, 0);
	cr_assert_eq(l.banned_until_ms, T0 + 600000LL);
	admit_is(&l, T0 + 599999, Q_E_EX_BANNED, 1);
	admit_is(&l, T0 + 600000, Q_OK, 0);

	q_exchange_limits_init(&l, 0);
	observe(&l, &q_exchange_binance, 403, "", T0, 0);
	cr_assert_eq(l.banned_until_ms, 0);
	cr_assert_eq(l.not_before_ms, 0);
	admit_is(&l, T0, Q_OK, 0);
}

Test(limits, binance_used_weight_at_the_limit_waits_for_the_next_minute)
{
	const long long next = T0 + 27655; /* the next whole minute */
	struct q_exchange_limits l;

	q_exchange_limits_init(&l, q_exchange_binance.weight_limit);
	cr_assert_eq(l.weight_limit, 5400);
	observe(&l, &q_exchange_binance, 200, "X-MBX-USED-WEIGHT-1M: 5399\r\n", T0, 0);
	cr_assert_eq(l.used_weight, 5399);
	admit_is(&l, T0, Q_OK, 0);

	observe(&l, &q_exchange_binance, 200, "x-mbx-used-weight-1m: 5400\r\n", T0, 0);
	cr_assert_eq(l.used_weight, 5400);
	cr_assert_eq(l.not_before_ms, next);
	cr_assert_eq(next % 60000, 0);
	cr_assert_eq(l.retry_after_s, 28);
	admit_is(&l, T0, Q_E_EX_RATE_LIMITED, 28);
	admit_is(&l, next - 1, Q_E_EX_RATE_LIMITED, 1);
	admit_is(&l, next, Q_OK, 0);

	/* The minute is the venue's: 20 s ahead of the local clock, it turns 20 s earlier. */
	q_exchange_limits_init(&l, 5400);
	observe(&l, &q_exchange_binance, 200, "X-MBX-USED-WEIGHT-1M: 6000\r\n", T0, 20000);
	cr_assert_eq(l.not_before_ms, next - 20000);
	admit_is(&l, next - 20001, Q_E_EX_RATE_LIMITED, 1);
	admit_is(&l, next - 20000, Q_OK, 0);

	/* weight_limit 0 turns the check off. */
	q_exchange_limits_init(&l, 0);
	observe(&l, &q_exchange_binance, 200, "X-MBX-USED-WEIGHT-1M: 6000\r\n", T0, 0);
	cr_assert_eq(l.used_weight, 6000);
	admit_is(&l, T0, Q_OK, 0);
}

Test(limits, bybit_remaining_zero_waits_for_the_reset)
{
	struct q_exchange_limits l;
	char hdrs[128];

	q_exchange_limits_init(&l, 0);
	snprintf(hdrs, sizeof(hdrs),
	         "X-Bapi-Limit: 20\r\nX-Bapi-Limit-Status: 3\r\n"
	         "X-Bapi-Limit-Reset-Timestamp: %lld\r\n",
	         T0 + 2500);
	observe(&l, &q_exchange_bybit, 200, hdrs, T0, 0);
	cr_assert_eq(l.remaining, 3);
	admit_is(&l, T0, Q_OK, 0);

	snprintf(hdrs, sizeof(hdrs),
	         "X-Bapi-Limit: 20\r\nX-Bapi-Limit-Status: 0\r\n"
	         "X-Bapi-Limit-Reset-Timestamp: %lld\r\n",
	         T0 + 2500);
	observe(&l, &q_exchange_bybit, 200, hdrs, T0, 0);
	cr_assert_eq(l.remaining, 0);
	cr_assert_eq(l.not_before_ms, T0 + 2500);
	cr_assert_eq(l.retry_after_s, 3);
	admit_is(&l, T0, Q_E_EX_RATE_LIMITED, 3);
	admit_is(&l, T0 + 2499, Q_E_EX_RATE_LIMITED, 1);
	admit_is(&l, T0 + 2500, Q_OK, 0);

	/* The reset is venue time: 1 s ahead of us, it comes 1 s earlier on our clock. */
	q_exchange_limits_init(&l, 0);
	observe(&l, &q_exchange_bybit, 200, hdrs, T0, 1000);
	cr_assert_eq(l.not_before_ms, T0 + 1500);

	/* A reset already past, or none: nothing to wait for. */
	q_exchange_limits_init(&l, 0);
	observe(&l, &q_exchange_bybit, 200, hdrs, T0 + 5000, 0);
	cr_assert_eq(l.not_before_ms, 0);
	observe(&l, &q_exchange_bybit, 200, "X-Bapi-Limit-Status: 0\r\n", T0, 0);
	cr_assert_eq(l.not_before_ms, 0);
	cr_assert_eq(l.remaining, 0);
}

Test(limits, waits_are_never_shortened)
{
	struct q_exchange_limits l;
	struct q_exchange_venue_err ve;
	char hdrs[128];

	q_exchange_limits_init(&l, 5400);
	observe(&l, &q_exchange_binance, 429, "Retry-After: 30\r\n", T0, 0);
	observe(&l, &q_exchange_binance, 429, "Retry-After: 3\r\n", T0 + 1000, 0);
	cr_assert_eq(l.not_before_ms, T0 + 30000);
	admit_is(&l, T0 + 5000, Q_E_EX_RATE_LIMITED, 25);
	/* The weight's minute turns sooner than that (T0 + 27.655 s). */
	observe(&l, &q_exchange_binance, 200, "X-MBX-USED-WEIGHT-1M: 5400\r\n", T0, 0);
	cr_assert_eq(l.not_before_ms, T0 + 30000);

	memset(&ve, 0, sizeof(ve));
	ve.retry_after_s = 1;
	q_exchange_limits_penalize(&l, Q_E_EX_RATE_LIMITED, &ve, T0, 0);
	cr_assert_eq(l.not_before_ms, T0 + 30000);
	cr_assert_eq(l.retry_after_s, 30);

	observe(&l, &q_exchange_binance, 418, "Retry-After: 600\r\n", T0, 0);
	observe(&l, &q_exchange_binance, 418, "Retry-After: 5\r\n", T0, 0);
	cr_assert_eq(l.banned_until_ms, T0 + 600000);
	ve.retry_after_s = 5;
	q_exchange_limits_penalize(&l, Q_E_EX_BANNED, &ve, T0, 0);
	cr_assert_eq(l.banned_until_ms, T0 + 600000);
	ve.until_ms = T0 + 1000;
	q_exchange_limits_penalize(&l, Q_E_EX_BANNED, &ve, T0, 0);
	cr_assert_eq(l.banned_until_ms, T0 + 600000);

	q_exchange_limits_init(&l, 0);
	snprintf(hdrs, sizeof(hdrs),
	         "X-Bapi-Limit-Status: 0\r\nX-Bapi-Limit-Reset-Timestamp: %lld\r\n", T0 + 9000);
	observe(&l, &q_exchange_bybit, 200, hdrs, T0, 0);
	snprintf(hdrs, sizeof(hdrs),
	         "X-Bapi-Limit-Status: 0\r\nX-Bapi-Limit-Reset-Timestamp: %lld\r\n", T0 + 2000);
	observe(&l, &q_exchange_bybit, 200, hdrs, T0, 0);
	cr_assert_eq(l.not_before_ms, T0 + 9000);
}

Test(limits, penalize_after_a_venue_code)
{
	struct q_exchange_limits l;
	struct q_exchange_venue_err ve;

	/* A rate-limit code with a stated wait. */
	q_exchange_limits_init(&l, 0);
	memset(&ve, 0, sizeof(ve));
	ve.retry_after_s = 7;
	q_exchange_limits_penalize(&l, Q_E_EX_RATE_LIMITED, &ve, T0, 0);
	cr_assert_eq(l.not_before_ms, T0 + 7000);
	cr_assert_eq(l.retry_after_s, 7);
	admit_is(&l, T0 + 6999, Q_E_EX_RATE_LIMITED, 1);
	admit_is(&l, T0 + 7000, Q_OK, 0);

	/* Without one: the default, unless the headers already set a wait. */
	q_exchange_limits_init(&l, 0);
	ve.retry_after_s = 0;
	q_exchange_limits_penalize(&l, Q_E_EX_RATE_LIMITED, &ve, T0, 0);
	cr_assert_eq(l.not_before_ms, T0 + Q_EX_RETRY_DEFAULT_S * 1000LL);
	q_exchange_limits_init(&l, 0);
	l.not_before_ms = T0 + 2000;
	q_exchange_limits_penalize(&l, Q_E_EX_RATE_LIMITED, &ve, T0, 0);
	cr_assert_eq(l.not_before_ms, T0 + 2000);
	cr_assert_eq(l.retry_after_s, 2);

	/* A ban with its end in venue time (Binance's "IP banned until"). */
	q_exchange_limits_init(&l, 0);
	ve.until_ms = T0 + 300000;
	q_exchange_limits_penalize(&l, Q_E_EX_BANNED, &ve, T0, 60000);
	cr_assert_eq(l.banned_until_ms, T0 + 240000);
	cr_assert_eq(l.retry_after_s, 240);
	admit_is(&l, T0, Q_E_EX_BANNED, 240);

	/* A ban naming no end. */
	q_exchange_limits_init(&l, 0);
	ve.until_ms = 0;
	q_exchange_limits_penalize(&l, Q_E_EX_BANNED, &ve, T0, 0);
	cr_assert_eq(l.banned_until_ms, T0 + Q_EX_BAN_DEFAULT_S * 1000LL);

	/* Any other code changes nothing. */
	q_exchange_limits_init(&l, 0);
	ve.retry_after_s = 9;
	q_exchange_limits_penalize(&l, Q_E_EX_AUTH, &ve, T0, 0);
	cr_assert_eq(l.not_before_ms, 0);
	cr_assert_eq(l.banned_until_ms, 0);
}

/* -------- group 5: request builders -------- */

TestSuite(build, .init = setup);

#define TS 1700000000000LL
#define CID "qt00000000000010000000000001"

static const struct q_exchange_creds creds = {"test-key", "test-secret", 11, "test-pass"};

static struct q_exchange_order_req
order(enum q_exchange_type type, enum q_exchange_side side, enum q_exchange_tif tif,
      const char *qty, const char *price, const char *quote)
{
	struct q_exchange_order_req o;

	memset(&o, 0, sizeof(o));
	snprintf(o.symbol, sizeof(o.symbol), "BTCUSDT");
	snprintf(o.client_id, sizeof(o.client_id), CID);
	o.type = type;
	o.side = side;
	o.tif = tif;
	o.qty = dec(qty);
	o.price = dec(price);
	o.quote_qty = dec(quote);
	return o;
}

/*
 * op built and signed with creds at TS: method, path, body and the query as the builder made it
 * (for Binance's signed calls followed by recvWindow, timestamp and the signature over them).
 */
static void
built(const struct q_exchange_ops *ops, enum q_exchange_op op, const struct q_exchange_args *args,
      const char *method, const char *path, const char *query, const char *body)
{
	const char *what = ops->op[op].name;
	struct q_exchange_request rq;
	struct q_err err = {0};

	q_exchange_request_init(&rq);
	cr_assert_eq(q_exchange_build(&rq, ops, op, args, &creds, TS, 5000, &err), 0, "%s %s: %s",
	             ops->name, what, err.msg);
	cr_assert_str_eq(rq.method, method, "%s %s", ops->name, what);
	cr_assert_str_eq(rq.path, path, "%s %s", ops->name, what);
	cr_assert_str_eq(rq.body.data, body, "%s %s", ops->name, what);
	cr_assert_eq(rq.body.len, strlen(body));
	cr_assert_eq(rq.flags, ops->op[op].flags, "%s %s", ops->name, what);
	if (!(rq.flags & Q_EX_SIGNED)) {
		cr_assert_str_eq(rq.query.data, query, "%s %s", ops->name, what);
		cr_assert_eq(rq.nheaders, 0, "%s %s: headers on a public call", ops->name, what);
		cr_assert_eq(rq.prehash.len, 0);
	} else if (ops == &q_exchange_binance) {
		struct q_buf full = Q_BUF_INIT;
		char hex[65];

		q_buf_printf(&full, "%s%srecvWindow=5000&timestamp=%lld", query, *query ? "&" : "",
		             TS);
		cr_assert_str_eq(rq.prehash.data, full.data, "binance %s", what);
		q_venue_hmac_hex(hex, creds.secret, creds.secret_len, full.data, full.len);
		q_buf_printf(&full, "&signature=%s", hex);
		cr_assert_str_eq(rq.query.data, full.data, "binance %s", what);
		cr_assert_str_eq(q_exchange_request_get_header(&rq, "X-MBX-APIKEY"), "test-key");
		q_buf_release(&full);
	} else {
		cr_assert_str_eq(rq.query.data, query, "%s %s", ops->name, what);
		cr_assert_geq(rq.prehash.len, strlen(path) + strlen(body));
		cr_assert_str_eq(rq.prehash.data + rq.prehash.len - strlen(body), body);
		cr_assert_geq(rq.nheaders, 4, "%s %s: key, signature, timestamp headers", ops->name,
		              what);
	}
	q_exchange_request_release(&rq);
}

/* op refused with code before anything is built into a request that could be sent. */
static void
refused(const struct q_exchange_ops *ops, enum q_exchange_op op, const struct q_exchange_args *args,
        const struct q_exchange_creds *c, enum q_code code, const char *what)
{
	struct q_exchange_request rq;
	struct q_err err = {0};

	q_exchange_request_init(&rq);
	cr_assert_eq(q_exchange_build(&rq, ops, op, args, c, TS, 5000, &err), -1, "%s %d: %s",
	             ops->name, (int)op, what);
	cr_assert_eq(err.code, code, "%s %d (%s): %s %s", ops->name, (int)op, what,
	             q_err_name(err.code), err.msg);
	cr_assert(err.msg[0] != '\0');
	cr_assert_eq(rq.nheaders, 0, "%s: signed although refused", what);
	q_exchange_request_release(&rq);
}

Test(build, binance)
{
	const struct q_exchange_ops *b = &q_exchange_binance;
	struct q_exchange_order_req o;
	struct q_exchange_args a = {0};

	built(b, Q_EX_OP_TIME, &a, "GET", "/api/v3/time", "", "");
	a.symbol = "BTCUSDT";
	built(b, Q_EX_OP_RULES, &a, "GET", "/api/v3/exchangeInfo", "symbol=BTCUSDT", "");
	a.interval = "1h";
	a.limit = 500;
	built(b, Q_EX_OP_KLINES, &a, "GET", "/api/v3/klines",
	      "symbol=BTCUSDT&interval=1h&limit=500", "");
	a.interval = "1w";
	a.end_ms = TS;
	a.limit = 5000;
	built(b, Q_EX_OP_KLINES, &a, "GET", "/api/v3/klines",
	      "symbol=BTCUSDT&interval=1w&endTime=1700000000000&limit=1000", "");
	memset(&a, 0, sizeof(a));
	built(b, Q_EX_OP_BALANCES, &a, "GET", "/api/v3/account", "omitZeroBalances=true", "");
	built(b, Q_EX_OP_PERMISSIONS, &a, "GET", "/sapi/v1/account/apiRestrictions", "", "");

	o = order(Q_EX_LIMIT, Q_EX_BUY, Q_EX_GTC, "0.5", "30000.1", "0");
	a.order = &o;
	built(b, Q_EX_OP_PLACE, &a, "POST", "/api/v3/order",
	      "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.5&price=30000.1"
	      "&newClientOrderId=" CID "&newOrderRespType=FULL",
	      "");
	o = order(Q_EX_LIMIT, Q_EX_SELL, Q_EX_IOC, "0.50000000", "30000.10", "0");
	built(b, Q_EX_OP_PLACE, &a, "POST", "/api/v3/order",
	      "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=IOC&quantity=0.5&price=30000.1"
	      "&newClientOrderId=" CID "&newOrderRespType=FULL",
	      "");
	o = order(Q_EX_MARKET, Q_EX_SELL, Q_EX_GTC, "0.25", "0", "0");
	built(b, Q_EX_OP_PLACE, &a, "POST", "/api/v3/order",
	      "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.25&newClientOrderId=" CID
	      "&newOrderRespType=FULL",
	      "");
	/* A MARKET order's reference price is never sent. */
	o = order(Q_EX_MARKET, Q_EX_BUY, Q_EX_GTC, "0", "29000", "100");
	built(b, Q_EX_OP_PLACE, &a, "POST", "/api/v3/order",
	      "symbol=BTCUSDT&side=BUY&type=MARKET&quoteOrderQty=100&newClientOrderId=" CID
	      "&newOrderRespType=FULL",
	      "");

	memset(&a, 0, sizeof(a));
	a.symbol = "BTCUSDT";
	a.client_id = CID;
	built(b, Q_EX_OP_QUERY, &a, "GET", "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=" CID,
	      "");
	built(b, Q_EX_OP_CANCEL, &a, "DELETE", "/api/v3/order",
	      "symbol=BTCUSDT&origClientOrderId=" CID, "");
	a.client_id = NULL;
	a.order_id = "28";
	built(b, Q_EX_OP_CANCEL, &a, "DELETE", "/api/v3/order", "symbol=BTCUSDT&orderId=28", "");
	built(b, Q_EX_OP_CANCEL_ALL, &a, "DELETE", "/api/v3/openOrders", "symbol=BTCUSDT", "");
	built(b, Q_EX_OP_OPEN_ORDERS, &a, "GET", "/api/v3/openOrders", "symbol=BTCUSDT", "");
}

Test(build, okx)
{
	const struct q_exchange_ops *x = &q_exchange_okx;
	struct q_exchange_order_req o;
	struct q_exchange_args a = {0};
	struct q_exchange_request rq;
	struct q_err err = {0};

	built(x, Q_EX_OP_TIME, &a, "GET", "/api/v5/public/time", "", "");
	a.symbol = "BTCUSDT";
	built(x, Q_EX_OP_RULES, &a, "GET", "/api/v5/public/instruments",
	      "instType=SPOT&instId=BTC-USDT", "");
	a.symbol = "ETHBTC";
	built(x, Q_EX_OP_RULES, &a, "GET", "/api/v5/public/instruments",
	      "instType=SPOT&instId=ETH-BTC", "");
	a.symbol = "BTCUSDT";
	a.interval = "1h";
	a.limit = 500;
	built(x, Q_EX_OP_KLINES, &a, "GET", "/api/v5/market/candles",
	      "instId=BTC-USDT&bar=1H&limit=300", "");
	/* "after" is exclusive: one past end_ms keeps the candle that opens at end_ms. */
	a.interval = "1d";
	a.end_ms = TS;
	a.limit = 100;
	built(x, Q_EX_OP_KLINES, &a, "GET", "/api/v5/market/candles",
	      "instId=BTC-USDT&bar=1Dutc&after=1700000000001&limit=100", "");
	memset(&a, 0, sizeof(a));
	built(x, Q_EX_OP_BALANCES, &a, "GET", "/api/v5/account/balance", "", "");
	built(x, Q_EX_OP_PERMISSIONS, &a, "GET", "/api/v5/account/config", "", "");

	o = order(Q_EX_LIMIT, Q_EX_BUY, Q_EX_GTC, "0.5", "30000.1", "0");
	a.order = &o;
	built(x, Q_EX_OP_PLACE, &a, "POST", "/api/v5/trade/order", "",
	      "{\"instId\":\"BTC-USDT\",\"tdMode\":\"cash\",\"clOrdId\":\"" CID
	      "\",\"side\":\"buy\","
	      "\"ordType\":\"limit\",\"px\":\"30000.1\",\"sz\":\"0.5\"}");
	o = order(Q_EX_LIMIT, Q_EX_SELL, Q_EX_FOK, "0.5", "30000.1", "0");
	built(x, Q_EX_OP_PLACE, &a, "POST", "/api/v5/trade/order", "",
	      "{\"instId\":\"BTC-USDT\",\"tdMode\":\"cash\",\"clOrdId\":\"" CID
	      "\",\"side\":\"sell\","
	      "\"ordType\":\"fok\",\"px\":\"30000.1\",\"sz\":\"0.5\"}");
	o = order(Q_EX_MARKET, Q_EX_SELL, Q_EX_GTC, "0.25", "0", "0");
	built(x, Q_EX_OP_PLACE, &a, "POST", "/api/v5/trade/order", "",
	      "{\"instId\":\"BTC-USDT\",\"tdMode\":\"cash\",\"clOrdId\":\"" CID
	      "\",\"side\":\"sell\","
	      "\"ordType\":\"market\",\"sz\":\"0.25\",\"tgtCcy\":\"base_ccy\"}");
	o = order(Q_EX_MARKET, Q_EX_BUY, Q_EX_GTC, "0.25", "0", "0");
	built(x, Q_EX_OP_PLACE, &a, "POST", "/api/v5/trade/order", "",
	      "{\"instId\":\"BTC-USDT\",\"tdMode\":\"cash\",\"clOrdId\":\"" CID
	      "\",\"side\":\"buy\","
	      "\"ordType\":\"market\",\"sz\":\"0.25\",\"tgtCcy\":\"base_ccy\"}");
	o = order(Q_EX_MARKET, Q_EX_BUY, Q_EX_GTC, "0", "0", "100");
	built(x, Q_EX_OP_PLACE, &a, "POST", "/api/v5/trade/order", "",
	      "{\"instId\":\"BTC-USDT\",\"tdMode\":\"cash\",\"clOrdId\":\"" CID
	      "\",\"side\":\"buy\","
	      "\"ordType\":\"market\",\"sz\":\"100\",\"tgtCcy\":\"quote_ccy\"}");
	/* An order carries expTime = timestamp + recvWindow; a read does not. */
	q_exchange_request_init(&rq);
	cr_assert_eq(q_exchange_build(&rq, x, Q_EX_OP_PLACE, &a, &creds, TS, 5000, &err), 0);
	cr_assert_str_eq(q_exchange_request_get_header(&rq, "expTime"), "1700000005000");
	cr_assert_str_eq(q_exchange_request_get_header(&rq, "OK-ACCESS-PASSPHRASE"), "test-pass");
	cr_assert_str_eq(q_exchange_request_get_header(&rq, "Content-Type"), "application/json");
	q_exchange_request_release(&rq);
	q_exchange_request_init(&rq);
	cr_assert_eq(q_exchange_build(&rq, x, Q_EX_OP_BALANCES, &a, &creds, TS, 5000, &err), 0);
	cr_assert_null(q_exchange_request_get_header(&rq, "expTime"));
	q_exchange_request_release(&rq);

	memset(&a, 0, sizeof(a));
	a.symbol = "BTCUSDT";
	a.client_id = CID;
	built(x, Q_EX_OP_QUERY, &a, "GET", "/api/v5/trade/order", "instId=BTC-USDT&clOrdId=" CID,
	      "");
	built(x, Q_EX_OP_CANCEL, &a, "POST", "/api/v5/trade/cancel-order", "",
	      "{\"instId\":\"BTC-USDT\",\"clOrdId\":\"" CID "\"}");
	a.client_id = NULL;
	a.order_id = "312269865356374016";
	built(x, Q_EX_OP_CANCEL, &a, "POST", "/api/v5/trade/cancel-order", "",
	      "{\"instId\":\"BTC-USDT\",\"ordId\":\"312269865356374016\"}");
	built(x, Q_EX_OP_OPEN_ORDERS, &a, "GET", "/api/v5/trade/orders-pending",
	      "instType=SPOT&instId=BTC-USDT", "");
	/* Cancel-all is several requests: no single one to build. */
	refused(x, Q_EX_OP_CANCEL_ALL, &a, &creds, Q_E_BAD_REQUEST, "okx cancel_all");
	/* No known quote asset to split the symbol at. */
	a.symbol = "FOOBAR";
	refused(x, Q_EX_OP_RULES, &a, &creds, Q_E_BAD_REQUEST, "okx FOOBAR");
	a.symbol = "USDT";
	refused(x, Q_EX_OP_OPEN_ORDERS, &a, &creds, Q_E_BAD_REQUEST, "okx bare quote");
}

Test(build, bybit)
{
	const struct q_exchange_ops *y = &q_exchange_bybit;
	struct q_exchange_order_req o;
	struct q_exchange_args a = {0};
	struct q_exchange_request rq;
	struct q_err err = {0};

	built(y, Q_EX_OP_TIME, &a, "GET", "/v5/market/time", "", "");
	a.symbol = "BTCUSDT";
	built(y, Q_EX_OP_RULES, &a, "GET", "/v5/market/instruments-info",
	      "category=spot&symbol=BTCUSDT", "");
	a.interval = "1h";
	a.limit = 200;
	built(y, Q_EX_OP_KLINES, &a, "GET", "/v5/market/kline",
	      "category=spot&symbol=BTCUSDT&interval=60&limit=200", "");
	a.interval = "1w";
	a.end_ms = TS;
	a.limit = 5000;
	built(y, Q_EX_OP_KLINES, &a, "GET", "/v5/market/kline",
	      "category=spot&symbol=BTCUSDT&interval=W&end=1700000000000&limit=1000", "");
	memset(&a, 0, sizeof(a));
	built(y, Q_EX_OP_BALANCES, &a, "GET", "/v5/account/wallet-balance", "accountType=UNIFIED",
	      "");
	built(y, Q_EX_OP_PERMISSIONS, &a, "GET", "/v5/user/query-api", "", "");

	o = order(Q_EX_LIMIT, Q_EX_BUY, Q_EX_GTC, "0.5", "30000.1", "0");
	a.order = &o;
	built(y, Q_EX_OP_PLACE, &a, "POST", "/v5/order/create", "",
	      "{\"category\":\"spot\",\"symbol\":\"BTCUSDT\",\"side\":\"Buy\",\"orderType\":\"Limit\","
	      "\"qty\":\"0.5\",\"price\":\"30000.1\",\"timeInForce\":\"GTC\",\"orderLinkId\":\"" CID
	      "\"}");
	o = order(Q_EX_LIMIT, Q_EX_SELL, Q_EX_IOC, "0.5", "30000.1", "0");
	built(y, Q_EX_OP_PLACE, &a, "POST", "/v5/order/create", "",
	      "{\"category\":\"spot\",\"symbol\":\"BTCUSDT\",\"side\":\"Sell\",\"orderType\":\"Limit\","
	      "\"qty\":\"0.5\",\"price\":\"30000.1\",\"timeInForce\":\"IOC\",\"orderLinkId\":\"" CID
	      "\"}");
	o = order(Q_EX_MARKET, Q_EX_SELL, Q_EX_GTC, "0.25", "0", "0");
	built(y, Q_EX_OP_PLACE, &a, "POST", "/v5/order/create", "",
	      "{\"category\":\"spot\",\"symbol\":\"BTCUSDT\",\"side\":\"Sell\",\"orderType\":"
	      "\"Market\",\"qty\":\"0.25\",\"marketUnit\":\"baseCoin\",\"orderLinkId\":\"" CID
	      "\"}");
	o = order(Q_EX_MARKET, Q_EX_BUY, Q_EX_GTC, "0", "0", "100");
	built(y, Q_EX_OP_PLACE, &a, "POST", "/v5/order/create", "",
	      "{\"category\":\"spot\",\"symbol\":\"BTCUSDT\",\"side\":\"Buy\",\"orderType\":"
	      "\"Market\",\"qty\":\"100\",\"marketUnit\":\"quoteCoin\",\"orderLinkId\":\"" CID
	      "\"}");
	/* A POST signs its body, with the key and the recv window in front. */
	q_exchange_request_init(&rq);
	cr_assert_eq(q_exchange_build(&rq, y, Q_EX_OP_PLACE, &a, &creds, TS, 5000, &err), 0);
	cr_assert_eq(strncmp(rq.prehash.data, "1700000000000test-key5000{\"category\"", 36), 0,
	             "%s", rq.prehash.data);
	cr_assert_str_eq(q_exchange_request_get_header(&rq, "X-BAPI-RECV-WINDOW"), "5000");
	cr_assert_str_eq(q_exchange_request_get_header(&rq, "X-BAPI-SIGN-TYPE"), "2");
	q_exchange_request_release(&rq);

	memset(&a, 0, sizeof(a));
	a.symbol = "BTCUSDT";
	a.client_id = CID;
	/* The first request of the query (run() falls back to the history). */
	built(y, Q_EX_OP_QUERY, &a, "GET", "/v5/order/realtime",
	      "category=spot&symbol=BTCUSDT&orderLinkId=" CID, "");
	built(y, Q_EX_OP_CANCEL, &a, "POST", "/v5/order/cancel", "",
	      "{\"category\":\"spot\",\"symbol\":\"BTCUSDT\",\"orderLinkId\":\"" CID "\"}");
	a.client_id = NULL;
	a.order_id = "1321003749386327552";
	built(y, Q_EX_OP_CANCEL, &a, "POST", "/v5/order/cancel", "",
	      "{\"category\":\"spot\",\"symbol\":\"BTCUSDT\",\"orderId\":\"1321003749386327552\"}");
	built(y, Q_EX_OP_CANCEL_ALL, &a, "POST", "/v5/order/cancel-all", "",
	      "{\"category\":\"spot\",\"symbol\":\"BTCUSDT\"}");
	built(y, Q_EX_OP_OPEN_ORDERS, &a, "GET", "/v5/order/realtime",
	      "category=spot&symbol=BTCUSDT&limit=50", "");
}

Test(build, bitget)
{
	const struct q_exchange_ops *g = &q_exchange_bitget;
	struct q_exchange_order_req o;
	struct q_exchange_args a = {0};

	built(g, Q_EX_OP_TIME, &a, "GET", "/api/v2/public/time", "", "");
	a.symbol = "BTCUSDT";
	built(g, Q_EX_OP_RULES, &a, "GET", "/api/v2/spot/public/symbols", "symbol=BTCUSDT", "");
	/* Query keys in ascending order. */
	a.interval = "1h";
	a.limit = 100;
	a.end_ms = TS;
	built(g, Q_EX_OP_KLINES, &a, "GET", "/api/v2/spot/market/candles",
	      "endTime=1700000000000&granularity=1h&limit=100&symbol=BTCUSDT", "");
	a.interval = "1d";
	a.end_ms = 0;
	a.limit = 1001;
	built(g, Q_EX_OP_KLINES, &a, "GET", "/api/v2/spot/market/candles",
	      "granularity=1Dutc&limit=1000&symbol=BTCUSDT", "");
	memset(&a, 0, sizeof(a));
	built(g, Q_EX_OP_BALANCES, &a, "GET", "/api/v2/spot/account/assets", "", "");
	built(g, Q_EX_OP_PERMISSIONS, &a, "GET", "/api/v2/spot/account/info", "", "");

	o = order(Q_EX_LIMIT, Q_EX_BUY, Q_EX_GTC, "0.5", "30000.1", "0");
	a.order = &o;
	built(g, Q_EX_OP_PLACE, &a, "POST", "/api/v2/spot/trade/place-order", "",
	      "{\"symbol\":\"BTCUSDT\",\"side\":\"buy\",\"orderType\":\"limit\",\"force\":\"gtc\","
	      "\"price\":\"30000.1\",\"size\":\"0.5\",\"clientOid\":\"" CID "\"}");
	o = order(Q_EX_LIMIT, Q_EX_SELL, Q_EX_FOK, "0.5", "30000.1", "0");
	built(g, Q_EX_OP_PLACE, &a, "POST", "/api/v2/spot/trade/place-order", "",
	      "{\"symbol\":\"BTCUSDT\",\"side\":\"sell\",\"orderType\":\"limit\",\"force\":\"fok\","
	      "\"price\":\"30000.1\",\"size\":\"0.5\",\"clientOid\":\"" CID "\"}");
	o = order(Q_EX_MARKET, Q_EX_SELL, Q_EX_GTC, "0.25", "0", "0");
	built(g, Q_EX_OP_PLACE, &a, "POST", "/api/v2/spot/trade/place-order", "",
	      "{\"symbol\":\"BTCUSDT\",\"side\":\"sell\",\"orderType\":\"market\",\"size\":\"0.25\","
	      "\"clientOid\":\"" CID "\"}");
	o = order(Q_EX_MARKET, Q_EX_BUY, Q_EX_GTC, "0", "0", "100");
	built(g, Q_EX_OP_PLACE, &a, "POST", "/api/v2/spot/trade/place-order", "",
	      "{\"symbol\":\"BTCUSDT\",\"side\":\"buy\",\"orderType\":\"market\",\"size\":\"100\","
	      "\"clientOid\":\"" CID "\"}");
	/* Bitget sizes a market buy in the quote asset only. */
	o = order(Q_EX_MARKET, Q_EX_BUY, Q_EX_GTC, "0.25", "0", "0");
	refused(g, Q_EX_OP_PLACE, &a, &creds, Q_E_BAD_REQUEST, "bitget market buy by base qty");

	memset(&a, 0, sizeof(a));
	a.symbol = "BTCUSDT";
	a.client_id = CID;
	built(g, Q_EX_OP_QUERY, &a, "GET", "/api/v2/spot/trade/orderInfo", "clientOid=" CID, "");
	built(g, Q_EX_OP_CANCEL, &a, "POST", "/api/v2/spot/trade/cancel-order", "",
	      "{\"symbol\":\"BTCUSDT\",\"clientOid\":\"" CID "\"}");
	a.client_id = NULL;
	a.order_id = "1001";
	built(g, Q_EX_OP_CANCEL, &a, "POST", "/api/v2/spot/trade/cancel-order", "",
	      "{\"symbol\":\"BTCUSDT\",\"orderId\":\"1001\"}");
	built(g, Q_EX_OP_CANCEL_ALL, &a, "POST", "/api/v2/spot/trade/cancel-symbol-order", "",
	      "{\"symbol\":\"BTCUSDT\"}");
	built(g, Q_EX_OP_OPEN_ORDERS, &a, "GET", "/api/v2/spot/trade/unfilled-orders",
	      "symbol=BTCUSDT", "");
	/* No 2h candles on Bitget. */
	a.interval = "2h";
	a.limit = 10;
	refused(g, Q_EX_OP_KLINES, &a, &creds, Q_E_BAD_REQUEST, "bitget 2h");
}

Test(build, invalid_arguments_refused_on_every_venue)
{
	static const char *const bad_symbols[] = {
	        "",         "btcusdt",   "BTC-USDT",
	        "BTC USDT", "BTCUSDT\n", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	};
	static const char *const bad_ids[] = {
	        "", "a.b", "a b", "a/b", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* 37 */
	};

	for (size_t v = 0; q_exchange_venue(v); v++) {
		const struct q_exchange_ops *ops = q_exchange_venue(v);
		struct q_exchange_order_req o, good;
		struct q_exchange_args a = {0};
		struct q_exchange_creds c;
		struct q_exchange_request rq;
		struct q_err err = {0};

		q_exchange_request_init(&rq);
		cr_assert_eq(q_exchange_build(&rq, ops, Q_EX_OP__COUNT, &a, &creds, TS, 5000, &err),
		             -1);
		cr_assert_eq(err.code, Q_E_BAD_REQUEST);
		q_exchange_request_release(&rq);

		refused(ops, Q_EX_OP_RULES, &a, &creds, Q_E_BAD_REQUEST, "no symbol");
		for (size_t i = 0; i < sizeof(bad_symbols) / sizeof(bad_symbols[0]); i++) {
			a.symbol = bad_symbols[i];
			refused(ops, Q_EX_OP_RULES, &a, &creds, Q_E_BAD_REQUEST, bad_symbols[i]);
			refused(ops, Q_EX_OP_OPEN_ORDERS, &a, &creds, Q_E_BAD_REQUEST,
			        bad_symbols[i]);
		}

		a.symbol = "BTCUSDT";
		a.limit = 10;
		refused(ops, Q_EX_OP_KLINES, &a, &creds, Q_E_BAD_REQUEST, "no interval");
		a.interval = "2d";
		refused(ops, Q_EX_OP_KLINES, &a, &creds, Q_E_BAD_REQUEST, "interval 2d");
		a.interval = "1H"; /* a venue spelling, not a canonical name */
		refused(ops, Q_EX_OP_KLINES, &a, &creds, Q_E_BAD_REQUEST, "interval 1H");
		a.interval = "1h";
		a.limit = 0;
		refused(ops, Q_EX_OP_KLINES, &a, &creds, Q_E_BAD_REQUEST, "limit 0");
		a.limit = -5;
		refused(ops, Q_EX_OP_KLINES, &a, &creds, Q_E_BAD_REQUEST, "limit -5");

		memset(&a, 0, sizeof(a));
		a.symbol = "BTCUSDT";
		refused(ops, Q_EX_OP_QUERY, &a, &creds, Q_E_BAD_REQUEST, "query without id");
		refused(ops, Q_EX_OP_CANCEL, &a, &creds, Q_E_BAD_REQUEST, "cancel without id");
		for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
			a.client_id = bad_ids[i];
			a.order_id = "123"; /* a client id, when given, is the reference */
			refused(ops, Q_EX_OP_QUERY, &a, &creds, Q_E_BAD_REQUEST, bad_ids[i]);
			refused(ops, Q_EX_OP_CANCEL, &a, &creds, Q_E_BAD_REQUEST, bad_ids[i]);
		}
		a.client_id = NULL;
		a.order_id = "12 3";
		refused(ops, Q_EX_OP_CANCEL, &a, &creds, Q_E_BAD_REQUEST, "order id 12 3");
		a.order_id = "";
		refused(ops, Q_EX_OP_CANCEL, &a, &creds, Q_E_BAD_REQUEST, "empty order id");
		a.client_id = CID;
		a.symbol = "btcusdt";
		refused(ops, Q_EX_OP_QUERY, &a, &creds, Q_E_BAD_REQUEST, "query lowercase symbol");

		memset(&a, 0, sizeof(a));
		refused(ops, Q_EX_OP_PLACE, &a, &creds, Q_E_BAD_REQUEST, "no order");
		good = order(Q_EX_LIMIT, Q_EX_BUY, Q_EX_GTC, "0.5", "30000", "0");
		a.order = &o;
		o = good;
		o.side = 0;
		refused(ops, Q_EX_OP_PLACE, &a, &creds, Q_E_BAD_REQUEST, "no side");
		o = good;
		o.type = 0;
		refused(ops, Q_EX_OP_PLACE, &a, &creds, Q_E_BAD_REQUEST, "no type");
		o = good;
		o.tif = (enum q_exchange_tif)3;
		refused(ops, Q_EX_OP_PLACE, &a, &creds, Q_E_BAD_REQUEST, "tif 3");
		o = order(Q_EX_LIMIT, Q_EX_BUY, Q_EX_GTC, "0.5", "0", "0");
		refused(ops, Q_EX_OP_PLACE, &a, &creds, Q_E_BAD_REQUEST, "limit without price");
		o = order(Q_EX_LIMIT, Q_EX_BUY, Q_EX_GTC, "0", "30000", "0");
		refused(ops, Q_EX_OP_PLACE, &a, &creds, Q_E_BAD_REQUEST, "limit without qty");
		o = order(Q_EX_LIMIT, Q_EX_BUY, Q_EX_GTC, "0.5", "30000", "100");
		refused(ops, Q_EX_OP_PLACE, &a, &creds, Q_E_BAD_REQUEST, "limit with quote");
		o = order(Q_EX_MARKET, Q_EX_SELL, Q_EX_GTC, "0", "0", "0");
		refused(ops, Q_EX_OP_PLACE, &a, &creds, Q_E_BAD_REQUEST, "market without size");
		o = order(Q_EX_MARKET, Q_EX_BUY, Q_EX_GTC, "0.5", "0", "100");
		refused(ops, Q_EX_OP_PLACE, &a, &creds, Q_E_BAD_REQUEST, "market qty and quote");
		o = order(Q_EX_MARKET, Q_EX_SELL, Q_EX_GTC, "0", "0", "100");
		refused(ops, Q_EX_OP_PLACE, &a, &creds, Q_E_BAD_REQUEST, "market sell by quote");
		o = order(Q_EX_MARKET, Q_EX_SELL, Q_EX_GTC, "-1", "0", "0");
		refused(ops, Q_EX_OP_PLACE, &a, &creds, Q_E_BAD_REQUEST, "negative qty");
		o = good;
		snprintf(o.symbol, sizeof(o.symbol), "btcusdt");
		refused(ops, Q_EX_OP_PLACE, &a, &creds, Q_E_BAD_REQUEST, "order symbol");
		o = good;
		snprintf(o.client_id, sizeof(o.client_id), "a.b");
		refused(ops, Q_EX_OP_PLACE, &a, &creds, Q_E_BAD_REQUEST, "order client id");
		o = good;
		o.client_id[0] = '\0';
		refused(ops, Q_EX_OP_PLACE, &a, &creds, Q_E_BAD_REQUEST, "no client id");

		/* A signed call without the key: EX_AUTH, and nothing signed. */
		o = good;
		refused(ops, Q_EX_OP_PLACE, &a, NULL, Q_E_EX_AUTH, "no creds");
		c = creds;
		c.api_key = "";
		refused(ops, Q_EX_OP_PLACE, &a, &c, Q_E_EX_AUTH, "empty key");
		c = creds;
		c.secret_len = 0;
		refused(ops, Q_EX_OP_BALANCES, &a, &c, Q_E_EX_AUTH, "empty secret");
		c = creds;
		c.passphrase = "";
		q_err_clear(&err);
		if (ops->needs_passphrase) {
			refused(ops, Q_EX_OP_BALANCES, &a, &c, Q_E_EX_AUTH, "no passphrase");
		} else {
			q_exchange_request_init(&rq);
			cr_assert_eq(q_exchange_build(&rq, ops, Q_EX_OP_BALANCES, &a, &c, TS, 5000,
			                              &err),
			             0, "%s: %s", ops->name, err.msg);
			q_exchange_request_release(&rq);
		}
		/* A public call needs none. */
		q_err_clear(&err);
		q_exchange_request_init(&rq);
		cr_assert_eq(q_exchange_build(&rq, ops, Q_EX_OP_TIME, &a, NULL, TS, 5000, &err), 0);
		cr_assert_eq(rq.nheaders, 0);
		q_exchange_request_release(&rq);
	}
}

/* -------- group 6: response parsing and error mapping -------- */

TestSuite(parse, .init = setup);

/*
 * q_exchange_parse of a hand-made response to op on ops: status, extra header lines and body.
 * Returns its result; *err (cleared first) and *ve as it left them.
 */
static int
parse(struct q_exchange_result *res, struct q_exchange_venue_err *ve, struct q_err *err,
      struct q_arena *a, const struct q_exchange_ops *ops, enum q_exchange_op op,
      const struct q_exchange_args *args, long status, const char *hdrs, const char *body)
{
	struct q_http_resp resp;
	int rc;

	q_err_clear(err);
	resp_make(&resp, status, hdrs, body);
	rc = q_exchange_parse(res, ve, ops, &ops->op[op], args, &resp, a, err);
	q_http_resp_release(&resp);
	return rc;
}

/* The permissions of a 200 answer with body. */
static struct q_exchange_perms
perms_of(const struct q_exchange_ops *ops, const char *body)
{
	struct q_exchange_args args = {0};
	struct q_exchange_result res;
	struct q_exchange_venue_err ve;
	struct q_err err = {0};
	struct q_arena *a = q_arena_new();

	cr_assert_eq(parse(&res, &ve, &err, a, ops, Q_EX_OP_PERMISSIONS, &args, 200, "", body), 0,
	             "%s: %s", ops->name, err.msg);
	q_arena_destroy(a);
	return res.perms;
}

static void
perms_are(const struct q_exchange_perms *p, int read, int trade, int withdraw, int transfer, int ip,
          enum q_code check)
{
	struct q_err err = {0};

	cr_assert_eq(p->can_read, read, "can_read (raw %s)", p->raw);
	cr_assert_eq(p->can_trade, trade, "can_trade (raw %s)", p->raw);
	cr_assert_eq(p->can_withdraw, withdraw, "can_withdraw (raw %s)", p->raw);
	cr_assert_eq(p->can_transfer, transfer, "can_transfer (raw %s)", p->raw);
	cr_assert_eq(p->ip_restricted, ip, "ip_restricted (raw %s)", p->raw);
	q_exchange_perms_check(p, &err);
	cr_assert_eq(err.code, check, "perms_check: %s", q_err_name(err.code));
}

Test(parse, binance_permissions)
{
	struct q_exchange_perms p;

	/* protocols.md 1.8's example with withdrawals and spot trading on. */
	p = perms_of(&q_exchange_binance,
	             "{\"ipRestrict\":false,\"createTime\":1698645219000,\"enableReading\":true,"
	             "\"enableWithdrawals\":true,\"enableInternalTransfer\":false,"
	             "\"enableMargin\":false,\"enableFutures\":false,"
	             "\"permitsUniversalTransfer\":false,\"enableVanillaOptions\":false,"
	             "\"enableFixApiTrade\":false,\"enableFixReadOnly\":true,"
	             "\"enableSpotAndMarginTrading\":true,\"enablePortfolioMarginTrading\":true}");
	perms_are(&p, 1, 1, 1, 0, 0, Q_E_KEY_CAN_WITHDRAW);
	cr_assert_str_eq(p.raw, "enableReading,enableSpotAndMarginTrading,enableWithdrawals,"
	                        "enablePortfolioMarginTrading,enableFixReadOnly");
	/* Read-only, IP restricted. */
	p = perms_of(&q_exchange_binance,
	             "{\"ipRestrict\":true,\"enableReading\":true,\"enableWithdrawals\":false,"
	             "\"enableInternalTransfer\":false,\"enableSpotAndMarginTrading\":false}");
	perms_are(&p, 1, 0, 0, 0, 1, Q_E_KEY_CANNOT_TRADE);
	cr_assert_str_eq(p.raw, "enableReading,ipRestrict");
	/* What the bot wants. */
	p = perms_of(&q_exchange_binance,
	             "{\"ipRestrict\":true,\"enableReading\":true,\"enableWithdrawals\":false,"
	             "\"enableInternalTransfer\":false,\"enableSpotAndMarginTrading\":true,"
	             "\"tradingAuthorityExpirationTime\":1700000000000}");
	perms_are(&p, 1, 1, 0, 0, 1, Q_OK);
	/* Internal transfer is refused like a withdrawal. */
	p = perms_of(&q_exchange_binance,
	             "{\"ipRestrict\":true,\"enableReading\":true,\"enableWithdrawals\":false,"
	             "\"enableInternalTransfer\":true,\"enableSpotAndMarginTrading\":true}");
	perms_are(&p, 1, 1, 0, 1, 1, Q_E_KEY_CAN_WITHDRAW);
	/* Flags left out read as unsafe. */
	p = perms_of(&q_exchange_binance, "{\"enableReading\":true}");
	perms_are(&p, 1, 0, 1, 1, 0, Q_E_KEY_CAN_WITHDRAW);
}

Test(parse, okx_permissions)
{
	struct q_exchange_perms p;

	/* protocols.md 2.2's example: withdraw among the rights, no IP bound. */
	p = perms_of(
	        &q_exchange_okx,
	        "{\"code\":\"0\",\"data\":[{\"acctLv\":\"2\",\"ip\":\"\",\"label\":\"v5 test\","
	        "\"mainUid\":\"44705892343619584\",\"perm\":\"read_only,withdraw,trade\","
	        "\"uid\":\"44705892343619584\"}],\"msg\":\"\"}");
	perms_are(&p, 1, 1, 1, 0, 0, Q_E_KEY_CAN_WITHDRAW);
	cr_assert_str_eq(p.raw, "read_only,withdraw,trade");
	p = perms_of(&q_exchange_okx, "{\"code\":\"0\",\"data\":[{\"ip\":\"117.37.203.58\","
	                              "\"perm\":\"read_only\"}],\"msg\":\"\"}");
	perms_are(&p, 1, 0, 0, 0, 1, Q_E_KEY_CANNOT_TRADE);
	p = perms_of(&q_exchange_okx,
	             "{\"code\":\"0\",\"data\":[{\"ip\":\"117.37.203.58,117.37.203.57\","
	             "\"perm\":\"trade,read_only\"}],\"msg\":\"\"}");
	perms_are(&p, 1, 1, 0, 0, 1, Q_OK);
}

Test(parse, bybit_permissions)
{
	struct q_exchange_perms p;

	/* protocols.md 3.2's example (read only, three IPs bound). */
	p = perms_of(&q_exchange_bybit,
	             "{\"retCode\":0,\"retMsg\":\"\",\"result\":{\"id\":\"2208369\",\"note\":"
	             "\"testnet\",\"apiKey\":\"XXXXXXXX\",\"readOnly\":1,\"secret\":\"\","
	             "\"permissions\":{\"ContractTrade\":[\"Order\",\"Position\"],\"Spot\":"
	             "[\"SpotTrade\"],\"Wallet\":[\"AccountTransfer\",\"SubMemberTransfer\"],"
	             "\"Options\":[],\"Derivatives\":[\"DerivativesTrade\"],\"NFT\":[]},"
	             "\"ips\":[\"18.181.170.164\",\"13.212.45.47\",\"13.212.45.48\"],\"type\":1},"
	             "\"retExtInfo\":{},\"time\":1776149990532}");
	perms_are(&p, 1, 0, 0, 0, 1, Q_E_KEY_CANNOT_TRADE);
	cr_assert_str_eq(p.raw,
	                 "ContractTrade=Order,Position;Spot=SpotTrade;"
	                 "Wallet=AccountTransfer,SubMemberTransfer;Derivatives=DerivativesTrade");
	/* Read-write with Withdraw in Wallet, no IP bound. */
	p = perms_of(&q_exchange_bybit,
	             "{\"retCode\":0,\"retMsg\":\"\",\"result\":{\"readOnly\":0,\"permissions\":"
	             "{\"Spot\":[\"SpotTrade\"],\"Wallet\":[\"AccountTransfer\",\"Withdraw\"]},"
	             "\"ips\":[\"*\"]},\"retExtInfo\":{},\"time\":1}");
	perms_are(&p, 1, 1, 1, 0, 0, Q_E_KEY_CAN_WITHDRAW);
	/* Spot trading, bound to one IP. */
	p = perms_of(&q_exchange_bybit,
	             "{\"retCode\":0,\"retMsg\":\"\",\"result\":{\"readOnly\":0,\"permissions\":"
	             "{\"Spot\":[\"SpotTrade\"],\"Wallet\":[]},\"ips\":[\"1.2.3.4\"]},"
	             "\"retExtInfo\":{},\"time\":1}");
	perms_are(&p, 1, 1, 0, 0, 1, Q_OK);
	cr_assert_str_eq(p.raw, "Spot=SpotTrade");
}

Test(parse, bitget_permissions)
{
	struct q_exchange_perms p;

	p = perms_of(&q_exchange_bitget,
	             "{\"code\":\"00000\",\"msg\":\"success\",\"requestTime\":1695808949356,"
	             "\"data\":{\"userId\":\"1\",\"inviterId\":\"2\",\"ips\":\"\",\"authorities\":"
	             "[\"stor\",\"stow\",\"wwow\"],\"parentId\":1,\"traderType\":\"trader\"}}");
	perms_are(&p, 1, 1, 1, 0, 0, Q_E_KEY_CAN_WITHDRAW);
	cr_assert_str_eq(p.raw, "stor,stow,wwow");
	/* protocols.md 4.2's example words. */
	p = perms_of(&q_exchange_bitget,
	             "{\"code\":\"00000\",\"msg\":\"success\",\"requestTime\":1695808949356,"
	             "\"data\":{\"userId\":\"1\",\"ips\":\"127.0.0.1\",\"authorities\":"
	             "[\"trade\",\"readonly\"],\"parentId\":1}}");
	perms_are(&p, 1, 1, 0, 0, 1, Q_OK);
	/* Read only: spot read and futures read. */
	p = perms_of(&q_exchange_bitget,
	             "{\"code\":\"00000\",\"msg\":\"success\",\"requestTime\":1,"
	             "\"data\":{\"ips\":\"127.0.0.1\",\"authorities\":[\"stor\",\"coor\"]}}");
	perms_are(&p, 1, 0, 0, 0, 1, Q_E_KEY_CANNOT_TRADE);
}

/* A 200 answer to op parsed into *res (arrays in a). */
static void
parsed(struct q_exchange_result *res, struct q_arena *a, const struct q_exchange_ops *ops,
       enum q_exchange_op op, const struct q_exchange_args *args, const char *body)
{
	struct q_exchange_venue_err ve;
	struct q_err err = {0};

	cr_assert_eq(parse(res, &ve, &err, a, ops, op, args, 200, "", body), 0, "%s %s: %s",
	             ops->name, ops->op[op].name, err.msg);
	cr_assert_eq(ve.http_status, 200);
}

static void
kline_is(const struct q_exchange_kline *k, long long open_ms, long long close_ms, const char *o,
         const char *h, const char *l, const char *c, const char *v, int closed)
{
	cr_assert_eq(k->open_ms, open_ms);
	cr_assert_eq(k->close_ms, close_ms);
	dec_is(k->open, o);
	dec_is(k->high, h);
	dec_is(k->low, l);
	dec_is(k->close, c);
	dec_is(k->volume, v);
	cr_assert_eq(k->closed, closed, "candle at %lld: closed %d", open_ms, k->closed);
}

Test(parse, klines_oldest_first_on_every_venue)
{
	struct q_exchange_args args = {.symbol = "BTCUSDT", .interval = "1m", .limit = 3};
	struct q_arena *a = q_arena_new();
	struct q_exchange_result res;

	/* Binance: oldest first already, times as numbers; the last one still open. */
	args.now_ms = 1499040090000;
	parsed(&res, a, &q_exchange_binance, Q_EX_OP_KLINES, &args,
	       "[[1499040000000,\"0.01634790\",\"0.80000000\",\"0.01575800\",\"0.01577100\","
	       "\"148976.11427815\",1499040059999,\"2434.19055334\",308,\"1756.87402397\","
	       "\"28.46694368\",\"0\"],"
	       "[1499040060000,\"0.01577100\",\"0.9\",\"0.015\",\"0.02\",\"10\",1499040119999,"
	       "\"1\",3,\"1\",\"1\",\"0\"]]");
	cr_assert_eq(res.nklines, 2);
	kline_is(&res.klines[0], 1499040000000, 1499040059999, "0.0163479", "0.8", "0.015758",
	         "0.015771", "148976.11427815", 1);
	kline_is(&res.klines[1], 1499040060000, 1499040119999, "0.015771", "0.9", "0.015", "0.02",
	         "10", 0);

	/* OKX: newest first, "confirm" says whether it is closed. */
	args.now_ms = 0;
	parsed(&res, a, &q_exchange_okx, Q_EX_OP_KLINES, &args,
	       "{\"code\":\"0\",\"msg\":\"\",\"data\":["
	       "[\"1597026443085\",\"3.708\",\"3.8\",\"3.7\",\"3.75\",\"100\",\"1\",\"1\",\"0\"],"
	       "[\"1597026383085\",\"3.721\",\"3.743\",\"3.677\",\"3.708\",\"8422410\","
	       "\"22698348.04828491\",\"12698348.04828491\",\"1\"]]}");
	cr_assert_eq(res.nklines, 2);
	kline_is(&res.klines[0], 1597026383085, 1597026443084, "3.721", "3.743", "3.677", "3.708",
	         "8422410", 1);
	kline_is(&res.klines[1], 1597026443085, 1597026503084, "3.708", "3.8", "3.7", "3.75", "100",
	         0);

	/* Bybit: result.list newest first. */
	args.now_ms = 1670608860000 + 60000;
	parsed(&res, a, &q_exchange_bybit, Q_EX_OP_KLINES, &args,
	       "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"symbol\":\"BTCUSDT\",\"category\":"
	       "\"spot\",\"list\":["
	       "[\"1670608920000\",\"17055.5\",\"17060\",\"17050\",\"17058\",\"5\",\"1\"],"
	       "[\"1670608860000\",\"17060\",\"17070\",\"17040\",\"17055.5\",\"7\",\"1\"],"
	       "[\"1670608800000\",\"17071\",\"17073\",\"17027\",\"17055.5\",\"268611\","
	       "\"15.74462667\"]]},\"retExtInfo\":{},\"time\":1672025956592}");
	cr_assert_eq(res.nklines, 3);
	kline_is(&res.klines[0], 1670608800000, 1670608859999, "17071", "17073", "17027", "17055.5",
	         "268611", 1);
	kline_is(&res.klines[1], 1670608860000, 1670608919999, "17060", "17070", "17040", "17055.5",
	         "7", 1);
	kline_is(&res.klines[2], 1670608920000, 1670608979999, "17055.5", "17060", "17050", "17058",
	         "5", 0);

	/* Bitget: rows of strings, sorted whatever order they come in. */
	args.interval = "1d";
	args.now_ms = 1656604800000 + 86400000 * 2LL;
	parsed(&res, a, &q_exchange_bitget, Q_EX_OP_KLINES, &args,
	       "{\"code\":\"00000\",\"msg\":\"success\",\"requestTime\":1,\"data\":["
	       "[\"1656691200000\",\"37773.5\",\"38000\",\"37000\",\"37900\",\"1\",\"1\",\"1\"],"
	       "[\"1656604800000\",\"37834.5\",\"37849.5\",\"37773.5\",\"37773.5\",\"428.3462\","
	       "\"16198849.1079\",\"16198849.1079\"]]}");
	cr_assert_eq(res.nklines, 2);
	kline_is(&res.klines[0], 1656604800000, 1656691199999, "37834.5", "37849.5", "37773.5",
	         "37773.5", "428.3462", 1);
	kline_is(&res.klines[1], 1656691200000, 1656777599999, "37773.5", "38000", "37000", "37900",
	         "1", 1);

	/* An empty answer is no candles, not an error. */
	parsed(&res, a, &q_exchange_binance, Q_EX_OP_KLINES, &args, "[]");
	cr_assert_eq(res.nklines, 0);
	q_arena_destroy(a);
}

static void
balance_is(const struct q_exchange_balance *b, const char *asset, const char *free_,
           const char *locked)
{
	cr_assert_str_eq(b->asset, asset);
	dec_is(b->free, free_);
	dec_is(b->locked, locked);
}

Test(parse, balances_non_zero_only)
{
	struct q_exchange_args args = {0};
	struct q_arena *a = q_arena_new();
	struct q_exchange_result res;

	parsed(&res, a, &q_exchange_binance, Q_EX_OP_BALANCES, &args,
	       "{\"makerCommission\":15,\"canTrade\":true,\"accountType\":\"SPOT\",\"balances\":["
	       "{\"asset\":\"BTC\",\"free\":\"4723846.89208129\",\"locked\":\"0.00000000\"},"
	       "{\"asset\":\"LTC\",\"free\":\"0.00000000\",\"locked\":\"0.00000000\"},"
	       "{\"asset\":\"ETH\",\"free\":\"0.00000000\",\"locked\":\"1.50000000\"}],"
	       "\"permissions\":[\"SPOT\"],\"uid\":354937868}");
	cr_assert_eq(res.nbalances, 2);
	balance_is(&res.balances[0], "BTC", "4723846.89208129", "0");
	balance_is(&res.balances[1], "ETH", "0", "1.5");

	parsed(&res, a, &q_exchange_okx, Q_EX_OP_BALANCES, &args,
	       "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"totalEq\":\"1\",\"details\":["
	       "{\"ccy\":\"USDT\",\"availBal\":\"100.5\",\"frozenBal\":\"0\"},"
	       "{\"ccy\":\"BTC\",\"availBal\":\"0\",\"frozenBal\":\"0\"},"
	       "{\"ccy\":\"ETH\",\"availBal\":\"\",\"frozenBal\":\"2\"}]}]}");
	cr_assert_eq(res.nbalances, 2);
	balance_is(&res.balances[0], "USDT", "100.5", "0");
	balance_is(&res.balances[1], "ETH", "0", "2");

	parsed(&res, a, &q_exchange_bybit, Q_EX_OP_BALANCES, &args,
	       "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"list\":[{\"accountType\":"
	       "\"UNIFIED\",\"coin\":["
	       "{\"coin\":\"USDT\",\"walletBalance\":\"100\",\"locked\":\"20\"},"
	       "{\"coin\":\"BTC\",\"walletBalance\":\"0\",\"locked\":\"0\"},"
	       "{\"coin\":\"ETH\",\"walletBalance\":\"0.5\",\"locked\":\"\"}]}]},"
	       "\"retExtInfo\":{},\"time\":1}");
	cr_assert_eq(res.nbalances, 2);
	balance_is(&res.balances[0], "USDT", "80", "20");
	balance_is(&res.balances[1], "ETH", "0.5", "0");

	parsed(&res, a, &q_exchange_bitget, Q_EX_OP_BALANCES, &args,
	       "{\"code\":\"00000\",\"msg\":\"success\",\"requestTime\":1,\"data\":["
	       "{\"coin\":\"USDT\",\"available\":\"50\",\"frozen\":\"1\",\"locked\":\"2\"},"
	       "{\"coin\":\"BTC\",\"available\":\"0\",\"frozen\":\"0\",\"locked\":\"0\"}]}");
	cr_assert_eq(res.nbalances, 1);
	balance_is(&res.balances[0], "USDT", "50", "3");
	q_arena_destroy(a);
}

Test(parse, orders)
{
	struct q_exchange_order_req req =
	        order(Q_EX_LIMIT, Q_EX_BUY, Q_EX_GTC, "0.5", "30000.1", "0");
	struct q_exchange_args args = {.symbol = "BTCUSDT", .client_id = CID, .order = &req};
	struct q_arena *a = q_arena_new();
	struct q_exchange_result res;
	const struct q_exchange_order *o = &res.order;

	/* Binance FULL: two fills in one fee asset. */
	parsed(&res, a, &q_exchange_binance, Q_EX_OP_PLACE, &args,
	       "{\"symbol\":\"BTCUSDT\",\"orderId\":28,\"orderListId\":-1,\"clientOrderId\":\"" CID
	       "\",\"transactTime\":1507725176595,\"price\":\"0.00000000\",\"origQty\":"
	       "\"6.00000000\",\"executedQty\":\"6.00000000\",\"origQuoteOrderQty\":\"0.000000\","
	       "\"cummulativeQuoteQty\":\"23995.00000000\",\"status\":\"FILLED\",\"timeInForce\":"
	       "\"GTC\",\"type\":\"MARKET\",\"side\":\"SELL\",\"workingTime\":1507725176595,"
	       "\"fills\":[{\"price\":\"4000.00000000\",\"qty\":\"1.00000000\",\"commission\":"
	       "\"4.00000000\",\"commissionAsset\":\"USDT\",\"tradeId\":56},{\"price\":"
	       "\"3999.00000000\",\"qty\":\"5.00000000\",\"commission\":\"19.99500000\","
	       "\"commissionAsset\":\"USDT\",\"tradeId\":57}]}");
	cr_assert_str_eq(o->order_id, "28");
	cr_assert_str_eq(o->client_id, CID);
	cr_assert_str_eq(o->symbol, "BTCUSDT");
	cr_assert_eq(o->side, Q_EX_SELL);
	cr_assert_eq(o->type, Q_EX_MARKET);
	cr_assert_eq(o->status, Q_EX_FILLED);
	dec_is(o->qty, "6");
	dec_is(o->executed_qty, "6");
	dec_is(o->cum_quote, "23995");
	dec_is(o->avg_price, "3999.166666666666666667");
	cr_assert_eq(o->has_fee, 1);
	dec_is(o->fee, "23.995");
	cr_assert_str_eq(o->fee_asset, "USDT");
	cr_assert_eq(o->ack_only, 0);
	cr_assert_eq(o->update_ms, 1507725176595);

	/* OKX: the placement is only acknowledged; a query gives the state. */
	parsed(&res, a, &q_exchange_okx, Q_EX_OP_PLACE, &args,
	       "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"clOrdId\":\"" CID
	       "\",\"ordId\":\"312269865356374016\",\"tag\":\"\",\"ts\":\"1695190491421\","
	       "\"sCode\":\"0\",\"sMsg\":\"\",\"subCode\":\"\"}],\"inTime\":\"1695190491421339\","
	       "\"outTime\":\"1695190491423240\"}");
	cr_assert_str_eq(o->order_id, "312269865356374016");
	cr_assert_str_eq(o->client_id, CID);
	cr_assert_eq(o->ack_only, 1);
	cr_assert_eq(o->status, Q_EX_OPEN);
	cr_assert_eq(o->side, Q_EX_BUY);
	cr_assert_eq(o->type, Q_EX_LIMIT);
	dec_is(o->qty, "0.5");
	dec_is(o->price, "30000.1");
	parsed(&res, a, &q_exchange_okx, Q_EX_OP_QUERY, &args,
	       "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"instId\":\"BTC-USDT\",\"ordId\":"
	       "\"312269865356374016\",\"clOrdId\":\"" CID "\",\"px\":\"30000.1\",\"sz\":\"0.5\","
	       "\"ordType\":\"limit\",\"side\":\"buy\",\"accFillSz\":\"0.2\",\"avgPx\":\"30000\","
	       "\"state\":\"partially_filled\",\"fee\":\"-0.0002\",\"feeCcy\":\"BTC\",\"tgtCcy\":"
	       "\"\",\"uTime\":\"1597026383085\"}]}");
	cr_assert_str_eq(o->symbol, "BTCUSDT");
	cr_assert_eq(o->status, Q_EX_PARTIALLY_FILLED);
	cr_assert_eq(o->type, Q_EX_LIMIT);
	dec_is(o->executed_qty, "0.2");
	dec_is(o->cum_quote, "6000");
	dec_is(o->avg_price, "30000");
	dec_is(o->fee, "0.0002");
	cr_assert_str_eq(o->fee_asset, "BTC");
	cr_assert_eq(o->ack_only, 0);
	cr_assert_eq(o->update_ms, 1597026383085);

	/* Bybit: a market buy by quote amount, filled. */
	parsed(&res, a, &q_exchange_bybit, Q_EX_OP_PLACE, &args,
	       "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"orderId\":\"1321003749386327552\","
	       "\"orderLinkId\":\"" CID "\"},\"retExtInfo\":{},\"time\":1672211918471}");
	cr_assert_str_eq(o->order_id, "1321003749386327552");
	cr_assert_eq(o->ack_only, 1);
	cr_assert_eq(o->status, Q_EX_OPEN);
	parsed(&res, a, &q_exchange_bybit, Q_EX_OP_QUERY, &args,
	       "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"list\":[{\"orderId\":\"7\","
	       "\"orderLinkId\":\"" CID "\",\"symbol\":\"BTCUSDT\",\"price\":\"0\",\"qty\":\"100\","
	       "\"side\":\"Buy\",\"orderType\":\"Market\",\"marketUnit\":\"quoteCoin\","
	       "\"cumExecQty\":\"0.002\",\"cumExecValue\":\"99.8\",\"cumExecFee\":\"0.000002\","
	       "\"orderStatus\":\"Filled\",\"updatedTime\":\"1672211918471\"}],"
	       "\"nextPageCursor\":\"\",\"category\":\"spot\"},\"retExtInfo\":{},\"time\":1}");
	cr_assert_str_eq(o->order_id, "7");
	cr_assert_eq(o->status, Q_EX_FILLED);
	cr_assert_eq(o->type, Q_EX_MARKET);
	cr_assert_eq(o->side, Q_EX_BUY);
	dec_is(o->qty, "0");
	dec_is(o->executed_qty, "0.002");
	dec_is(o->cum_quote, "99.8");
	dec_is(o->avg_price, "49900");
	cr_assert_eq(o->has_fee, 1);
	dec_is(o->fee, "0.000002");

	/* Bitget orderInfo. */
	parsed(&res, a, &q_exchange_bitget, Q_EX_OP_QUERY, &args,
	       "{\"code\":\"00000\",\"msg\":\"success\",\"requestTime\":1,\"data\":[{\"userId\":"
	       "\"1\",\"symbol\":\"BTCUSDT\",\"orderId\":\"1001\",\"clientOid\":\"" CID
	       "\",\"price\":\"23222.5\",\"size\":\"1\",\"orderType\":\"limit\",\"side\":\"buy\","
	       "\"status\":\"filled\",\"priceAvg\":\"23222.5\",\"baseVolume\":\"1\","
	       "\"quoteVolume\":\"23222.5\",\"enterPointSource\":\"API\",\"cTime\":"
	       "\"1695808949356\",\"uTime\":\"1695808949356\"}]}");
	cr_assert_str_eq(o->order_id, "1001");
	cr_assert_str_eq(o->client_id, CID);
	cr_assert_eq(o->status, Q_EX_FILLED);
	cr_assert_eq(o->side, Q_EX_BUY);
	dec_is(o->price, "23222.5");
	dec_is(o->avg_price, "23222.5");
	cr_assert_eq(o->has_fee, 0);
	cr_assert_eq(o->update_ms, 1695808949356);
	q_arena_destroy(a);
}

/* op on ops refused with code; the message names the venue and holds quote (when given). */
static void
maps(const struct q_exchange_ops *ops, enum q_exchange_op op, long status, const char *hdrs,
     const char *body, enum q_code code, const char *quote)
{
	struct q_exchange_order_req req =
	        order(Q_EX_LIMIT, Q_EX_BUY, Q_EX_GTC, "0.5", "30000", "0");
	struct q_exchange_args args = {.symbol = "BTCUSDT", .client_id = CID, .order = &req};
	struct q_arena *a = q_arena_new();
	struct q_exchange_result res;
	struct q_exchange_venue_err ve;
	struct q_err err = {0};

	args.interval = "1m";
	cr_assert_eq(parse(&res, &ve, &err, a, ops, op, &args, status, hdrs, body), -1,
	             "%s %s: HTTP %ld %s parsed", ops->name, ops->op[op].name, status, body);
	cr_assert_eq(err.code, code, "%s %s: HTTP %ld %s: got %s (%s), want %s", ops->name,
	             ops->op[op].name, status, body, q_err_name(err.code), err.msg,
	             q_err_name(code));
	cr_assert_eq(ve.http_status, status);
	cr_assert_eq(strncmp(err.msg, ops->name, strlen(ops->name)), 0, "%s", err.msg);
	if (quote)
		cr_assert_not_null(strstr(err.msg, quote), "\"%s\" lacks \"%s\"", err.msg, quote);
	q_arena_destroy(a);
}

Test(parse, auth_failures)
{
	maps(&q_exchange_binance, Q_EX_OP_BALANCES, 401, "",
	     "{\"code\":-2015,\"msg\":\"Invalid API-key, IP, or permissions for action.\"}",
	     Q_E_EX_AUTH, "-2015 Invalid API-key");
	maps(&q_exchange_binance, Q_EX_OP_PLACE, 400, "",
	     "{\"code\":-1022,\"msg\":\"Signature for this request is not valid.\"}", Q_E_EX_AUTH,
	     "-1022");
	maps(&q_exchange_okx, Q_EX_OP_BALANCES, 401, "",
	     "{\"code\":\"50113\",\"msg\":\"Invalid signature.\",\"data\":[]}", Q_E_EX_AUTH,
	     "50113");
	maps(&q_exchange_okx, Q_EX_OP_PLACE, 200, "",
	     "{\"code\":\"50120\",\"msg\":\"This API key doesn't have permission to use this "
	     "function\",\"data\":[]}",
	     Q_E_EX_AUTH, "50120");
	maps(&q_exchange_bybit, Q_EX_OP_BALANCES, 200, "",
	     "{\"retCode\":10004,\"retMsg\":\"Error sign, please check your signature generation "
	     "algorithm.\",\"result\":{},\"retExtInfo\":{},\"time\":1}",
	     Q_E_EX_AUTH, "10004");
	maps(&q_exchange_bybit, Q_EX_OP_PLACE, 200, "",
	     "{\"retCode\":10010,\"retMsg\":\"Unmatched IP, please check your API key's bound IP "
	     "addresses.\",\"result\":{},\"retExtInfo\":{},\"time\":1}",
	     Q_E_EX_AUTH, "10010");
	maps(&q_exchange_bitget, Q_EX_OP_BALANCES, 400, "",
	     "{\"code\":\"40009\",\"msg\":\"sign signature error\",\"requestTime\":1,\"data\":null}",
	     Q_E_EX_AUTH, "40009");
	/* A 401 with a code no row maps, or with no venue body at all. */
	maps(&q_exchange_okx, Q_EX_OP_BALANCES, 401, "",
	     "{\"code\":\"50999\",\"msg\":\"new\",\"data\":[]}", Q_E_EX_AUTH, "50999");
	maps(&q_exchange_bybit, Q_EX_OP_BALANCES, 401, "", "<html>401</html>", Q_E_EX_AUTH, NULL);
}

Test(parse, insufficient_balance_filter_and_duplicates)
{
	maps(&q_exchange_binance, Q_EX_OP_PLACE, 400, "",
	     "{\"code\":-2010,\"msg\":\"Account has insufficient balance for requested action.\"}",
	     Q_E_EX_INSUFFICIENT, "-2010 Account has insufficient balance");
	maps(&q_exchange_binance, Q_EX_OP_PLACE, 400, "",
	     "{\"code\":-2010,\"msg\":\"Filter failure: LOT_SIZE\"}", Q_E_EX_FILTER, "LOT_SIZE");
	maps(&q_exchange_binance, Q_EX_OP_PLACE, 400, "",
	     "{\"code\":-1013,\"msg\":\"Filter failure: NOTIONAL\"}", Q_E_EX_FILTER, "NOTIONAL");
	maps(&q_exchange_binance, Q_EX_OP_PLACE, 400, "",
	     "{\"code\":-2010,\"msg\":\"Duplicate order sent.\"}", Q_E_CONFLICT, NULL);
	maps(&q_exchange_binance, Q_EX_OP_QUERY, 400, "",
	     "{\"code\":-2013,\"msg\":\"Order does not exist.\"}", Q_E_NOT_FOUND, NULL);
	maps(&q_exchange_binance, Q_EX_OP_CANCEL, 400, "",
	     "{\"code\":-2011,\"msg\":\"Unknown order sent.\"}", Q_E_NOT_FOUND, NULL);
	/* An unlisted -2010 message is still a refusal, not an outage. */
	maps(&q_exchange_binance, Q_EX_OP_PLACE, 400, "",
	     "{\"code\":-2010,\"msg\":\"Market is closed.\"}", Q_E_BAD_REQUEST, "Market is closed");

	/* OKX fails an order per item: code "1" with data[0].sCode. */
	maps(&q_exchange_okx, Q_EX_OP_PLACE, 200, "",
	     "{\"code\":\"1\",\"msg\":\"All operations failed\",\"data\":[{\"clOrdId\":\"" CID
	     "\",\"ordId\":\"\",\"tag\":\"\",\"sCode\":\"51008\",\"sMsg\":\"Order failed. "
	     "Insufficient USDT balance in account\"}]}",
	     Q_E_EX_INSUFFICIENT, "51008");
	maps(&q_exchange_okx, Q_EX_OP_PLACE, 200, "",
	     "{\"code\":\"1\",\"msg\":\"\",\"data\":[{\"sCode\":\"51020\",\"sMsg\":\"Order amount "
	     "should be greater than the min available amount.\"}]}",
	     Q_E_EX_FILTER, "51020");
	maps(&q_exchange_okx, Q_EX_OP_PLACE, 200, "",
	     "{\"code\":\"1\",\"msg\":\"\",\"data\":[{\"sCode\":\"51016\",\"sMsg\":\"Client order "
	     "ID already exists.\"}]}",
	     Q_E_CONFLICT, NULL);
	maps(&q_exchange_okx, Q_EX_OP_QUERY, 200, "", "{\"code\":\"0\",\"msg\":\"\",\"data\":[]}",
	     Q_E_NOT_FOUND, NULL);

	maps(&q_exchange_bybit, Q_EX_OP_PLACE, 200, "",
	     "{\"retCode\":170131,\"retMsg\":\"Insufficient balance.\",\"result\":{},"
	     "\"retExtInfo\":{},\"time\":1}",
	     Q_E_EX_INSUFFICIENT, "170131");
	maps(&q_exchange_bybit, Q_EX_OP_PLACE, 200, "",
	     "{\"retCode\":170136,\"retMsg\":\"Order quantity lower than the minimum.\","
	     "\"result\":{},\"retExtInfo\":{},\"time\":1}",
	     Q_E_EX_FILTER, "170136");
	maps(&q_exchange_bybit, Q_EX_OP_PLACE, 200, "",
	     "{\"retCode\":110072,\"retMsg\":\"OrderLinkedID is duplicate\",\"result\":{},"
	     "\"retExtInfo\":{},\"time\":1}",
	     Q_E_CONFLICT, NULL);
	maps(&q_exchange_bybit, Q_EX_OP_QUERY, 200, "",
	     "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"list\":[]},\"retExtInfo\":{},"
	     "\"time\":1}",
	     Q_E_NOT_FOUND, NULL);

	maps(&q_exchange_bitget, Q_EX_OP_PLACE, 400, "",
	     "{\"code\":\"43012\",\"msg\":\"Insufficient balance\",\"requestTime\":1,"
	     "\"data\":null}",
	     Q_E_EX_INSUFFICIENT, "43012");
	maps(&q_exchange_bitget, Q_EX_OP_PLACE, 400, "",
	     "{\"code\":\"45110\",\"msg\":\"less than the minimum order quantity\","
	     "\"requestTime\":1,\"data\":null}",
	     Q_E_EX_FILTER, "45110");
	maps(&q_exchange_bitget, Q_EX_OP_QUERY, 200, "",
	     "{\"code\":\"00000\",\"msg\":\"success\",\"requestTime\":1,\"data\":[]}",
	     Q_E_NOT_FOUND, NULL);
}

Test(parse, rate_limits_and_bans)
{
	struct q_exchange_args args = {.symbol = "BTCUSDT"};
	struct q_arena *a = q_arena_new();
	struct q_exchange_result res;
	struct q_exchange_venue_err ve;
	struct q_err err = {0};

	/* HTTP 429 on every venue, whatever the body. */
	maps(&q_exchange_binance, Q_EX_OP_RULES, 429, "Retry-After: 3\r\n",
	     "{\"code\":-1003,\"msg\":\"Too much request weight used; current limit is 6000 request "
	     "weight per 1 MINUTE.\"}",
	     Q_E_EX_RATE_LIMITED, "-1003");
	maps(&q_exchange_okx, Q_EX_OP_PLACE, 429, "",
	     "{\"code\":\"50011\",\"msg\":\"Rate limit reached.\",\"data\":[]}",
	     Q_E_EX_RATE_LIMITED, "50011");
	maps(&q_exchange_bybit, Q_EX_OP_RULES, 429, "", "", Q_E_EX_RATE_LIMITED, NULL);
	maps(&q_exchange_bitget, Q_EX_OP_PLACE, 429, "",
	     "{\"code\":\"429\",\"msg\":\"Too Many Requests\",\"requestTime\":1,\"data\":null}",
	     Q_E_EX_RATE_LIMITED, NULL);
	/* The venue's rate-limit code at HTTP 200. */
	maps(&q_exchange_bybit, Q_EX_OP_PLACE, 200, "",
	     "{\"retCode\":10006,\"retMsg\":\"Too many visits!\",\"result\":{},\"retExtInfo\":{},"
	     "\"time\":1}",
	     Q_E_EX_RATE_LIMITED, "10006");
	maps(&q_exchange_okx, Q_EX_OP_KLINES, 200, "",
	     "{\"code\":\"50011\",\"msg\":\"Rate limit reached.\",\"data\":[]}",
	     Q_E_EX_RATE_LIMITED, NULL);

	/* Retry-After reaches ve. */
	parse(&res, &ve, &err, a, &q_exchange_binance, Q_EX_OP_RULES, &args, 429,
	      "Retry-After: 3\r\n", "{\"code\":-1003,\"msg\":\"Too much request weight used\"}");
	cr_assert_eq(ve.retry_after_s, 3);
	cr_assert_str_eq(ve.code, "-1003");
	cr_assert_str_eq(ve.msg, "Too much request weight used");
	cr_assert_eq(ve.until_ms, 0);

	/* 418, and Binance's "IP banned until" whatever the status, are bans. */
	maps(&q_exchange_binance, Q_EX_OP_RULES, 418, "Retry-After: 120\r\n", "", Q_E_EX_BANNED,
	     NULL);
	maps(&q_exchange_okx, Q_EX_OP_RULES, 418, "", "", Q_E_EX_BANNED, NULL);
	parse(&res, &ve, &err, a, &q_exchange_binance, Q_EX_OP_PLACE, &args, 418,
	      "Retry-After: 7200\r\n",
	      "{\"code\":-1003,\"msg\":\"Way too much request weight used; IP banned until "
	      "1580000000000. Please use WebSocket Streams for live updates to avoid bans.\"}");
	cr_assert_eq(err.code, Q_E_EX_BANNED, "%s", err.msg);
	cr_assert_eq(ve.until_ms, 1580000000000LL);
	cr_assert_eq(ve.retry_after_s, 7200);
	maps(&q_exchange_binance, Q_EX_OP_PLACE, 429, "",
	     "{\"code\":-1003,\"msg\":\"Way too much request weight used; IP banned until "
	     "1580000000000.\"}",
	     Q_E_EX_BANNED, "banned until");
	maps(&q_exchange_binance, Q_EX_OP_PLACE, 400, "",
	     "{\"code\":-1003,\"msg\":\"Way too much request weight used; IP banned until "
	     "1580000000000.\"}",
	     Q_E_EX_BANNED, NULL);
	/* Bybit's 403 is its IP ban: 10 minutes; elsewhere a 403 is not a ban. */
	parse(&res, &ve, &err, a, &q_exchange_bybit, Q_EX_OP_RULES, &args, 403, "",
	      "<html>403 Forbidden</html>");
	cr_assert_eq(err.code, Q_E_EX_BANNED, "%s", err.msg);
	cr_assert_eq(ve.retry_after_s, 600);
	maps(&q_exchange_binance, Q_EX_OP_RULES, 403, "", "<html>WAF</html>",
	     Q_E_EXCHANGE_UNAVAILABLE, NULL);
	q_arena_destroy(a);
}

Test(parse, server_errors_unknown_outcome_only_when_mutating)
{
	static const char *const bodies[] = {"", "<html>502 Bad Gateway</html>",
	                                     "{\"code\":-1001,\"msg\":\"Internal error\"}"};

	for (size_t v = 0; q_exchange_venue(v); v++) {
		const struct q_exchange_ops *ops = q_exchange_venue(v);

		for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
			maps(ops, Q_EX_OP_PLACE, 502, "", bodies[i], Q_E_EX_UNKNOWN_OUTCOME,
			     "query it");
			maps(ops, Q_EX_OP_CANCEL, 500, "", bodies[i], Q_E_EX_UNKNOWN_OUTCOME,
			     "query it");
			maps(ops, Q_EX_OP_QUERY, 503, "", bodies[i], Q_E_EXCHANGE_UNAVAILABLE,
			     NULL);
			maps(ops, Q_EX_OP_BALANCES, 504, "", bodies[i], Q_E_EXCHANGE_UNAVAILABLE,
			     NULL);
			maps(ops, Q_EX_OP_KLINES, 500, "", bodies[i], Q_E_EXCHANGE_UNAVAILABLE,
			     NULL);
		}
		if (ops->op[Q_EX_OP_CANCEL_ALL].build)
			maps(ops, Q_EX_OP_CANCEL_ALL, 503, "", "", Q_E_EX_UNKNOWN_OUTCOME, NULL);
	}
	/* The venue's own "status unknown" codes, at any status. */
	maps(&q_exchange_binance, Q_EX_OP_PLACE, 400, "",
	     "{\"code\":-1007,\"msg\":\"Timeout waiting for response from backend server. Send "
	     "status unknown; execution status unknown.\"}",
	     Q_E_EX_UNKNOWN_OUTCOME, "-1007");
	maps(&q_exchange_okx, Q_EX_OP_PLACE, 200, "",
	     "{\"code\":\"50004\",\"msg\":\"Endpoint request timeout.\",\"data\":[]}",
	     Q_E_EX_UNKNOWN_OUTCOME, "50004");
	maps(&q_exchange_okx, Q_EX_OP_BALANCES, 200, "",
	     "{\"code\":\"50004\",\"msg\":\"Endpoint request timeout.\",\"data\":[]}",
	     Q_E_EXCHANGE_UNAVAILABLE, "50004");
}

Test(parse, unreadable_2xx_answers)
{
	static const char *const junk[] = {"", "<html>ok</html>", "{\"symbol\":\"BTC", "null"};

	for (size_t v = 0; q_exchange_venue(v); v++) {
		const struct q_exchange_ops *ops = q_exchange_venue(v);

		for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
			maps(ops, Q_EX_OP_PLACE, 200, "", junk[i], Q_E_EX_UNKNOWN_OUTCOME,
			     "query it");
			maps(ops, Q_EX_OP_CANCEL, 200, "", junk[i], Q_E_EX_UNKNOWN_OUTCOME, NULL);
			maps(ops, Q_EX_OP_BALANCES, 200, "", junk[i], Q_E_EXCHANGE_UNAVAILABLE,
			     NULL);
			maps(ops, Q_EX_OP_QUERY, 200, "", junk[i], Q_E_EXCHANGE_UNAVAILABLE, NULL);
		}
	}
	/* Well-formed JSON in the envelope but not the answer expected. */
	maps(&q_exchange_binance, Q_EX_OP_PLACE, 200, "", "{\"symbol\":\"BTCUSDT\"}",
	     Q_E_EX_UNKNOWN_OUTCOME, "query it");
	maps(&q_exchange_okx, Q_EX_OP_PLACE, 200, "", "{\"code\":\"0\",\"msg\":\"\",\"data\":[]}",
	     Q_E_EX_UNKNOWN_OUTCOME, NULL);
	maps(&q_exchange_bybit, Q_EX_OP_PLACE, 200, "",
	     "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{},\"retExtInfo\":{},\"time\":1}",
	     Q_E_EX_UNKNOWN_OUTCOME, NULL);
	maps(&q_exchange_bitget, Q_EX_OP_PLACE, 200, "",
	     "{\"code\":\"00000\",\"msg\":\"success\",\"requestTime\":1,\"data\":{\"orderId\":\"\"}}",
	     Q_E_EX_UNKNOWN_OUTCOME, NULL);
	maps(&q_exchange_bybit, Q_EX_OP_BALANCES, 200, "", "{\"result\":{}}",
	     Q_E_EXCHANGE_UNAVAILABLE, NULL);
	/* A 4xx without the venue's error body (a proxy): unavailable, even for an order. */
	maps(&q_exchange_okx, Q_EX_OP_PLACE, 404, "", "<html>not found</html>",
	     Q_E_EXCHANGE_UNAVAILABLE, NULL);
	maps(&q_exchange_bitget, Q_EX_OP_BALANCES, 400, "", "{}", Q_E_EXCHANGE_UNAVAILABLE, NULL);
}

Test(parse, timestamp_refusals_are_clock_skew)
{
	maps(&q_exchange_binance, Q_EX_OP_PLACE, 400, "",
	     "{\"code\":-1021,\"msg\":\"Timestamp for this request is outside of the "
	     "recvWindow.\"}",
	     Q_E_EX_CLOCK_SKEW, "-1021");
	maps(&q_exchange_binance, Q_EX_OP_BALANCES, 400, "",
	     "{\"code\":-1021,\"msg\":\"Timestamp for this request was 1000ms ahead of the "
	     "server's time.\"}",
	     Q_E_EX_CLOCK_SKEW, "-1021");
	maps(&q_exchange_okx, Q_EX_OP_PLACE, 401, "",
	     "{\"code\":\"50102\",\"msg\":\"Timestamp request expired.\",\"data\":[]}",
	     Q_E_EX_CLOCK_SKEW, "50102");
	maps(&q_exchange_okx, Q_EX_OP_BALANCES, 401, "",
	     "{\"code\":\"50112\",\"msg\":\"Invalid OK-ACCESS-TIMESTAMP.\",\"data\":[]}",
	     Q_E_EX_CLOCK_SKEW, "50112");
	maps(&q_exchange_bybit, Q_EX_OP_PLACE, 200, "",
	     "{\"retCode\":10002,\"retMsg\":\"The request time exceeds the time window range.\","
	     "\"result\":{},\"retExtInfo\":{},\"time\":1}",
	     Q_E_EX_CLOCK_SKEW, "10002");
	maps(&q_exchange_bitget, Q_EX_OP_PLACE, 400, "",
	     "{\"code\":\"40008\",\"msg\":\"Request timestamp expired\",\"requestTime\":1,"
	     "\"data\":null}",
	     Q_E_EX_CLOCK_SKEW, "40008");
	maps(&q_exchange_bitget, Q_EX_OP_BALANCES, 400, "",
	     "{\"code\":\"40004\",\"msg\":\"ACCESS_TIMESTAMP is invalid\",\"requestTime\":1,"
	     "\"data\":null}",
	     Q_E_EX_CLOCK_SKEW, "40004");
}

Test(parse, server_time_on_every_venue)
{
	struct q_exchange_args args = {0};
	struct q_exchange_result res;

	parsed(&res, NULL, &q_exchange_binance, Q_EX_OP_TIME, &args,
	       "{\"serverTime\":1499827319559}");
	cr_assert_eq(res.server_ms, 1499827319559LL);
	parsed(&res, NULL, &q_exchange_okx, Q_EX_OP_TIME, &args,
	       "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"ts\":\"1597026383085\"}]}");
	cr_assert_eq(res.server_ms, 1597026383085LL);
	parsed(&res, NULL, &q_exchange_bybit, Q_EX_OP_TIME, &args,
	       "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"timeSecond\":\"1688639403\","
	       "\"timeNano\":\"1688639403423213947\"},\"retExtInfo\":{},\"time\":1688639403423}");
	cr_assert_eq(res.server_ms, 1688639403423LL);
	parsed(&res, NULL, &q_exchange_bitget, Q_EX_OP_TIME, &args,
	       "{\"code\":\"00000\",\"msg\":\"success\",\"requestTime\":1688008631614,"
	       "\"data\":{\"serverTime\":\"1688008631614\"}}");
	cr_assert_eq(res.server_ms, 1688008631614LL);
}

static void
rules_are(const struct q_exchange_rules *r, const char *base, const char *quote, const char *tick,
          const char *lot, const char *min_qty, const char *max_qty, const char *min_notional,
          const char *quote_step)
{
	cr_assert_str_eq(r->symbol, "BTCUSDT");
	cr_assert_str_eq(r->base, base);
	cr_assert_str_eq(r->quote, quote);
	dec_is(r->tick, tick);
	dec_is(r->lot, lot);
	dec_is(r->min_qty, min_qty);
	dec_is(r->max_qty, max_qty);
	dec_is(r->min_notional, min_notional);
	dec_is(r->quote_step, quote_step);
	cr_assert_eq(r->trading, 1);
}

Test(parse, symbol_rules_on_every_venue)
{
	struct q_exchange_args args = {.symbol = "BTCUSDT"};
	struct q_exchange_result res;

	parsed(&res, NULL, &q_exchange_binance, Q_EX_OP_RULES, &args,
	       "{\"timezone\":\"UTC\",\"serverTime\":1,\"symbols\":[{\"symbol\":\"BTCUSDT\","
	       "\"status\":\"TRADING\",\"baseAsset\":\"BTC\",\"quoteAsset\":\"USDT\","
	       "\"quoteAssetPrecision\":8,\"filters\":[{\"filterType\":\"PRICE_FILTER\","
	       "\"minPrice\":\"0.01000000\",\"maxPrice\":\"1000000.00000000\",\"tickSize\":"
	       "\"0.01000000\"},{\"filterType\":\"LOT_SIZE\",\"minQty\":\"0.00001000\",\"maxQty\":"
	       "\"9000.00000000\",\"stepSize\":\"0.00001000\"},{\"filterType\":\"NOTIONAL\","
	       "\"minNotional\":\"5.00000000\",\"applyMinToMarket\":true,\"maxNotional\":"
	       "\"9000000.00000000\",\"applyMaxToMarket\":false,\"avgPriceMins\":5}]}]}");
	rules_are(&res.rules, "BTC", "USDT", "0.01", "0.00001", "0.00001", "9000", "5",
	          "0.00000001");
	parsed(&res, NULL, &q_exchange_okx, Q_EX_OP_RULES, &args,
	       "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"instType\":\"SPOT\",\"instId\":"
	       "\"BTC-USDT\",\"baseCcy\":\"BTC\",\"quoteCcy\":\"USDT\",\"tickSz\":\"0.1\","
	       "\"lotSz\":\"0.00000001\",\"minSz\":\"0.00001\",\"maxLmtSz\":\"9999999999\","
	       "\"state\":\"live\"}]}");
	rules_are(&res.rules, "BTC", "USDT", "0.1", "0.00000001", "0.00001", "9999999999", "0",
	          "0");
	parsed(&res, NULL, &q_exchange_bybit, Q_EX_OP_RULES, &args,
	       "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"category\":\"spot\",\"list\":[{"
	       "\"symbol\":\"BTCUSDT\",\"baseCoin\":\"BTC\",\"quoteCoin\":\"USDT\",\"status\":"
	       "\"Trading\",\"lotSizeFilter\":{\"basePrecision\":\"0.000001\",\"quotePrecision\":"
	       "\"0.00000001\",\"minOrderQty\":\"0.000048\",\"maxOrderQty\":\"71.73956243\","
	       "\"minOrderAmt\":\"1\",\"maxOrderAmt\":\"2000000\"},\"priceFilter\":{\"tickSize\":"
	       "\"0.01\"}}]},\"retExtInfo\":{},\"time\":1}");
	rules_are(&res.rules, "BTC", "USDT", "0.01", "0.000001", "0.000048", "71.73956243", "1",
	          "0.00000001");
	parsed(&res, NULL, &q_exchange_bitget, Q_EX_OP_RULES, &args,
	       "{\"code\":\"00000\",\"msg\":\"success\",\"requestTime\":1,\"data\":[{\"symbol\":"
	       "\"BTCUSDT\",\"baseCoin\":\"BTC\",\"quoteCoin\":\"USDT\",\"minTradeAmount\":\"0\","
	       "\"maxTradeAmount\":\"10000000000\",\"takerFeeRate\":\"0.002\",\"makerFeeRate\":"
	       "\"0.002\",\"pricePrecision\":\"2\",\"quantityPrecision\":\"4\",\"quotePrecision\":"
	       "\"6\",\"status\":\"online\",\"minTradeUSDT\":\"1\"}]}");
	rules_are(&res.rules, "BTC", "USDT", "0.01", "0.0001", "0", "10000000000", "1", "0.000001");
	/* Rules for another symbol are not these. */
	maps(&q_exchange_bitget, Q_EX_OP_RULES, 200, "",
	     "{\"code\":\"00000\",\"msg\":\"success\",\"requestTime\":1,\"data\":[{\"symbol\":"
	     "\"ETHUSDT\",\"baseCoin\":\"ETH\",\"quoteCoin\":\"USDT\",\"pricePrecision\":\"2\","
	     "\"quantityPrecision\":\"4\",\"status\":\"online\"}]}",
	     Q_E_EXCHANGE_UNAVAILABLE, "ETHUSDT");
}

Test(parse, open_orders_on_every_venue)
{
	struct q_exchange_args args = {.symbol = "BTCUSDT"};
	struct q_arena *a = q_arena_new();
	struct q_exchange_result res;

	/* Binance's cancel-all lists order-list reports too: skipped. */
	parsed(&res, a, &q_exchange_binance, Q_EX_OP_CANCEL_ALL, &args,
	       "[{\"symbol\":\"BTCUSDT\",\"origClientOrderId\":\"" CID "\",\"orderId\":11,"
	       "\"orderListId\":-1,\"clientOrderId\":\"cancel1\",\"price\":\"30000\",\"origQty\":"
	       "\"0.5\",\"executedQty\":\"0.1\",\"cummulativeQuoteQty\":\"3000\",\"status\":"
	       "\"CANCELED\",\"timeInForce\":\"GTC\",\"type\":\"LIMIT\",\"side\":\"BUY\"},"
	       "{\"orderListId\":1929,\"contingencyType\":\"OCO\",\"listStatusType\":\"ALL_DONE\","
	       "\"symbol\":\"BTCUSDT\",\"orders\":[]}]");
	cr_assert_eq(res.norders, 1);
	cr_assert_str_eq(res.orders[0].client_id, CID);
	cr_assert_eq(res.orders[0].status, Q_EX_CANCELLED);
	dec_is(res.orders[0].executed_qty, "0.1");
	dec_is(res.orders[0].avg_price, "30000");

	parsed(&res, a, &q_exchange_okx, Q_EX_OP_OPEN_ORDERS, &args,
	       "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"instId\":\"BTC-USDT\",\"ordId\":\"5\","
	       "\"clOrdId\":\"\",\"px\":\"31000\",\"sz\":\"0.3\",\"ordType\":\"post_only\","
	       "\"side\":\"sell\",\"accFillSz\":\"0\",\"avgPx\":\"\",\"state\":\"live\",\"fee\":"
	       "\"0\",\"feeCcy\":\"USDT\",\"uTime\":\"1\"}]}");
	cr_assert_eq(res.norders, 1);
	cr_assert_str_eq(res.orders[0].order_id, "5");
	cr_assert_str_eq(res.orders[0].client_id, "");
	cr_assert_eq(res.orders[0].type, Q_EX_LIMIT);
	cr_assert_eq(res.orders[0].status, Q_EX_OPEN);
	dec_is(res.orders[0].price, "31000");

	parsed(&res, a, &q_exchange_bybit, Q_EX_OP_OPEN_ORDERS, &args,
	       "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"list\":[{\"orderId\":\"8\","
	       "\"orderLinkId\":\"" CID "\",\"symbol\":\"BTCUSDT\",\"price\":\"29000\",\"qty\":"
	       "\"0.2\",\"side\":\"Buy\",\"orderType\":\"Limit\",\"cumExecQty\":\"0.05\","
	       "\"cumExecValue\":\"1450\",\"cumExecFee\":\"0.00005\",\"orderStatus\":"
	       "\"PartiallyFilled\",\"updatedTime\":\"2\"}],\"category\":\"spot\"},"
	       "\"retExtInfo\":{},\"time\":1}");
	cr_assert_eq(res.norders, 1);
	cr_assert_eq(res.orders[0].status, Q_EX_PARTIALLY_FILLED);
	dec_is(res.orders[0].avg_price, "29000");

	/* Bitget's unfilled-orders: lowercase symbol, the order price in priceAvg. */
	parsed(&res, a, &q_exchange_bitget, Q_EX_OP_OPEN_ORDERS, &args,
	       "{\"code\":\"00000\",\"msg\":\"success\",\"requestTime\":1,\"data\":[{\"userId\":"
	       "\"1\",\"symbol\":\"btcusdt\",\"orderId\":\"9\",\"clientOid\":\"" CID "\","
	       "\"priceAvg\":\"25000\",\"size\":\"0.1\",\"orderType\":\"limit\",\"side\":\"sell\","
	       "\"status\":\"live\",\"basePrice\":\"0\",\"baseVolume\":\"0\",\"quoteVolume\":\"0\","
	       "\"enterPointSource\":\"API\",\"cTime\":\"1\",\"uTime\":\"3\"}]}");
	cr_assert_eq(res.norders, 1);
	cr_assert_str_eq(res.orders[0].symbol, "BTCUSDT");
	dec_is(res.orders[0].price, "25000");
	cr_assert_eq(res.orders[0].side, Q_EX_SELL);
	cr_assert_eq(res.orders[0].status, Q_EX_OPEN);
	q_arena_destroy(a);
}
