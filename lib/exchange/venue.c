#include "exchange/venue.h"
#include "q_crypto.h"
#include "q_http.h"
#include "q_mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void
q_venue_param(struct q_buf *q, const char *key, const char *value)
{
	if (q->len)
		q_buf_addch(q, '&');
	q_buf_adds(q, key);
	q_buf_addch(q, '=');
	q_http_urlencode(q, value, strlen(value));
}

void
q_venue_param_dec(struct q_buf *q, const char *key, struct q_dec d)
{
	char s[Q_DEC_STR_MAX];

	q_dec_format(s, d);
	q_venue_param(q, key, s);
}

void
q_venue_param_ll(struct q_buf *q, const char *key, long long v)
{
	char s[24];

	snprintf(s, sizeof(s), "%lld", v);
	q_venue_param(q, key, s);
}

void
q_venue_jset(json_t *obj, const char *key, const char *value)
{
	json_object_set_new(obj, key, json_string(value));
}

void
q_venue_jset_dec(json_t *obj, const char *key, struct q_dec d)
{
	char s[Q_DEC_STR_MAX];

	q_dec_format(s, d);
	q_venue_jset(obj, key, s);
}

void
q_venue_body(struct q_buf *body, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s == NULL)
		q_die("json_dumps: out of memory");
	q_buf_adds(body, s);
	free(s);
	json_decref(obj);
}

void
q_venue_hmac_hex(char out[65], const void *key, size_t keylen, const void *msg, size_t len)
{
	uint8_t mac[Q_HMAC_SHA256_LEN];

	q_hmac_sha256(mac, key, keylen, msg, len);
	q_hex_encode(out, mac, sizeof(mac));
	q_wipe(mac, sizeof(mac));
}

void
q_venue_hmac_base64(struct q_buf *out, const void *key, size_t keylen, const void *msg, size_t len)
{
	uint8_t mac[Q_HMAC_SHA256_LEN];

	q_hmac_sha256(mac, key, keylen, msg, len);
	q_base64_encode(out, mac, sizeof(mac));
	q_wipe(mac, sizeof(mac));
}

#define PEM_BEGIN "-----BEGIN PRIVATE KEY-----"
#define PEM_END "-----END PRIVATE KEY-----"

int
q_venue_is_pem(const char *secret, size_t len)
{
	return len >= strlen(PEM_BEGIN) && memcmp(secret, PEM_BEGIN, strlen(PEM_BEGIN)) == 0;
}

/*
 * RFC 8410: an Ed25519 PKCS#8 key is this fixed 16-byte DER prefix and the 32-byte seed
 * (OneAsymmetricKey v0 without the optional public key, which is what openssl writes).
 */
static const uint8_t pkcs8_ed25519[16] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                          0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};

int
q_venue_ed25519_pem_sign(struct q_buf *out, const char *pem, size_t pemlen, const void *msg,
                         size_t len, struct q_err *err)
{
	struct q_buf b64 = Q_BUF_INIT, der = Q_BUF_INIT;
	uint8_t pk[Q_ED25519_PK_LEN], sk[Q_ED25519_SK_LEN], sig[Q_ED25519_SIG_LEN];
	const char *p = pem + strlen(PEM_BEGIN), *end = pem + pemlen, *stop;
	int rc = -1;

	if (!q_venue_is_pem(pem, pemlen)) {
		q_err_set(err, Q_E_EX_AUTH, "secret is not a PEM private key");
		goto out;
	}
	stop = memmem(p, (size_t)(end - p), PEM_END, strlen(PEM_END));
	if (stop == NULL) {
		q_err_set(err, Q_E_EX_AUTH, "PEM private key has no end line");
		goto out;
	}
	for (; p < stop; p++)
		if (*p != '\n' && *p != '\r' && *p != ' ' && *p != '\t')
			q_buf_addch(&b64, *p);
	if (q_base64_decode(&der, b64.data, b64.len) < 0 || der.len != 48 ||
	    memcmp(der.data, pkcs8_ed25519, sizeof(pkcs8_ed25519)) != 0) {
		q_err_set(err, Q_E_EX_AUTH, "PEM private key is not a PKCS#8 Ed25519 key");
		goto out;
	}
	q_ed25519_seed_keypair(pk, sk, (const uint8_t *)der.data + 16);
	q_ed25519_sign(sig, msg, len, sk);
	q_base64_encode(out, sig, sizeof(sig));
	rc = 0;
out:
	q_wipe(sk, sizeof(sk));
	q_buf_release_secret(&b64);
	q_buf_release_secret(&der);
	return rc;
}

void
q_venue_iso8601_ms(char out[32], long long ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	out[0] = '\0';
	if (ms < 0 || gmtime_r(&s, &tm) == NULL)
		return;
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

int
q_venue_malformed(struct q_err *err, const char *fmt, ...)
{
	char why[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return q_err_set(err, Q_E_EXCHANGE_UNAVAILABLE, "venue answer malformed: %s", why);
}

void
q_venue_copy_msg(char *dst, size_t n, const char *msg)
{
	size_t i = 0;

	for (; msg[i] && i + 1 < n; i++)
		dst[i] = (unsigned char)msg[i] < 0x20 || msg[i] == 0x7f ? '?' : msg[i];
	dst[i] = '\0';
}

const char *
q_venue_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

int
q_venue_copy(char *dst, size_t n, json_t *obj, const char *key, struct q_err *err)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return q_venue_malformed(err, "\"%s\" missing or not a string", key);
	if (json_string_length(v) >= n || strlen(json_string_value(v)) != json_string_length(v))
		return q_venue_malformed(err, "\"%s\" too long", key);
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int
q_venue_copy_opt(char *dst, size_t n, json_t *obj, const char *key, struct q_err *err)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v)) {
		dst[0] = '\0';
		return 0;
	}
	return q_venue_copy(dst, n, obj, key, err);
}

int
q_venue_dec_value(struct q_dec *out, json_t *v, const char *what, struct q_err *err)
{
	if (json_is_integer(v)) {
		*out = q_dec_from_int(json_integer_value(v));
		return 0;
	}
	/* A JSON real would have passed through a double: amounts must come as strings. */
	if (!json_is_string(v) ||
	    q_dec_parse(out, json_string_value(v), json_string_length(v), NULL) < 0)
		return q_venue_malformed(err, "\"%s\" is not a decimal string", what);
	return 0;
}

int
q_venue_dec(struct q_dec *out, json_t *obj, const char *key, struct q_err *err)
{
	return q_venue_dec_value(out, json_object_get(obj, key), key, err);
}

int
q_venue_dec_opt(struct q_dec *out, json_t *obj, const char *key, struct q_err *err)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
		out->m = 0;
		return 0;
	}
	return q_venue_dec_value(out, v, key, err);
}

int
q_venue_ms(long long *out, json_t *v, const char *what, struct q_err *err)
{
	const char *s;
	long long n = 0;
	size_t len;

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = json_integer_value(v);
		return 0;
	}
	s = json_string_value(v);
	len = s ? json_string_length(v) : 0;
	if (len == 0 || len > 18)
		return q_venue_malformed(err, "\"%s\" is not a time in ms", what);
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return q_venue_malformed(err, "\"%s\" is not a time in ms", what);
		n = n * 10 + (s[i] - '0');
	}
	*out = n;
	return 0;
}

int
q_venue_bool(int *out, json_t *obj, const char *key, int def, struct q_err *err)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_is_boolean(v))
		return q_venue_malformed(err, "\"%s\" is not a boolean", key);
	*out = json_is_true(v);
	return 0;
}

int
q_venue_precision_step(struct q_dec *out, json_t *obj, const char *key, struct q_err *err)
{
	json_t *v = json_object_get(obj, key);
	const char *s = json_string_value(v);
	char text[Q_DEC_SCALE + 3] = "1";
	int n = -1;

	if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 99)
		n = (int)json_integer_value(v);
	else if (s && s[0] >= '0' && s[0] <= '9' && s[1] == '\0')
		n = s[0] - '0';
	else if (s && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] == '\0')
		n = (s[0] - '0') * 10 + (s[1] - '0');
	if (n < 0 || n > Q_DEC_SCALE)
		return q_venue_malformed(err, "\"%s\" is not a precision of 0 to 18", key);
	/* "0.001" for 3: a '0', the point, n - 1 zeros and the '1'. */
	if (n > 0) {
		memset(text, '0', (size_t)n + 1);
		text[1] = '.';
		text[n + 1] = '1';
		text[n + 2] = '\0';
	}
	return q_dec_parse_str(out, text, err);
}

void
q_venue_canonical_symbol(char out[Q_EX_SYMBOL_MAX], const char *venue_symbol)
{
	size_t n = 0;

	for (const char *p = venue_symbol; *p && n < Q_EX_SYMBOL_MAX - 1; p++)
		if (*p != '-' && *p != '_' && *p != '/')
			out[n++] = *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
	out[n] = '\0';
}

int
q_venue_status(enum q_exchange_status *out, const struct q_venue_status *map, const char *s)
{
	for (; s && map->name; map++) {
		if (strcmp(map->name, s) == 0) {
			*out = map->status;
			return 0;
		}
	}
	return -1;
}

void
q_venue_order_avg(struct q_exchange_order *o)
{
	o->avg_price.m = 0;
	if (q_dec_sign(o->executed_qty) > 0)
		q_dec_div(&o->avg_price, o->cum_quote, o->executed_qty, Q_DEC_HALF_EVEN, NULL);
}

void
q_venue_order_ack(struct q_exchange_order *o, const struct q_exchange_order_req *req,
                  enum q_exchange_status status)
{
	snprintf(o->symbol, sizeof(o->symbol), "%s", req->symbol);
	o->side = req->side;
	o->type = req->type;
	o->status = status;
	o->qty = req->qty;
	o->price = req->type == Q_EX_LIMIT ? req->price : (struct q_dec){0};
	o->ack_only = 1;
}

struct q_exchange_kline *
q_venue_klines_alloc(struct q_exchange_result *res, struct q_arena *a, size_t n)
{
	res->klines = q_arena_zalloc(a, n * sizeof(*res->klines));
	res->nklines = n;
	return res->klines;
}

static int
kline_cmp(const void *x, const void *y)
{
	const struct q_exchange_kline *a = x, *b = y;

	return (a->open_ms > b->open_ms) - (a->open_ms < b->open_ms);
}

void
q_venue_klines_finish(struct q_exchange_result *res, long long interval_ms, long long now_ms,
                      int keep_closed)
{
	if (res->nklines > 1)
		qsort(res->klines, res->nklines, sizeof(*res->klines), kline_cmp);
	for (size_t i = 0; i < res->nklines; i++) {
		struct q_exchange_kline *k = &res->klines[i];

		k->close_ms = k->open_ms + interval_ms - 1;
		if (!keep_closed)
			k->closed = k->close_ms < now_ms;
	}
}

struct q_exchange_balance *
q_venue_balances_alloc(struct q_exchange_result *res, struct q_arena *a, size_t n)
{
	res->balances = q_arena_zalloc(a, n * sizeof(*res->balances));
	res->nbalances = 0;
	return res->balances;
}

struct q_exchange_order *
q_venue_orders_alloc(struct q_exchange_result *res, struct q_arena *a, size_t n)
{
	res->orders = q_arena_zalloc(a, n * sizeof(*res->orders));
	res->norders = 0;
	return res->orders;
}

int
q_venue_interval(const struct q_exchange_interval **out, const struct q_exchange_ops *ops,
                 const char *name, struct q_err *err)
{
	*out = name ? q_exchange_interval(ops, name) : NULL;
	if (*out == NULL)
		return q_err_set(err, Q_E_BAD_REQUEST, "%s has no kline interval \"%.16s\"",
		                 ops->name, name ? name : "");
	return 0;
}

int
q_venue_limit(int *out, const struct q_exchange_args *args, int max, struct q_err *err)
{
	if (args->limit < 1)
		return q_err_set(err, Q_E_BAD_REQUEST, "kline limit must be at least 1");
	*out = args->limit > max ? max : args->limit;
	return 0;
}

int
q_venue_need_symbol(const struct q_exchange_args *args, struct q_err *err)
{
	const char *s = args->symbol;
	size_t n = s ? strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") : 0;

	if (n == 0 || s[n] != '\0' || n >= Q_EX_SYMBOL_MAX)
		return q_err_set_field(err, "symbol", Q_E_BAD_REQUEST,
		                       "symbol must be 1 to %d of A-Z 0-9 (\"BTCUSDT\")",
		                       Q_EX_SYMBOL_MAX - 1);
	return 0;
}

int
q_venue_need_client_id(const struct q_exchange_ops *ops, const struct q_exchange_args *args,
                       struct q_err *err)
{
	if (!q_exchange_client_id_valid_on(ops, args->client_id))
		return q_err_set_field(err, "client_id", Q_E_BAD_REQUEST,
		                       "%s: a client order id is 1 to %d of \"%s\"", ops->name,
		                       ops->client_id_max, ops->client_id_chars);
	return 0;
}

int
q_venue_need_order_ref(const struct q_exchange_ops *ops, const struct q_exchange_args *args,
                       struct q_err *err)
{
	const char *id = args->order_id;
	size_t n = id ? strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                           "0123456789_-")
	              : 0;

	if (args->client_id)
		return q_venue_need_client_id(ops, args, err) < 0 ? -1 : 1;
	if (n == 0 || n > 64 || id[n] != '\0')
		return q_err_set_field(err, "order_id", Q_E_BAD_REQUEST,
		                       "an order needs a client order id or a venue order id");
	return 0;
}

int
q_venue_need_order(const struct q_exchange_ops *ops, const struct q_exchange_args *args,
                   struct q_err *err)
{
	const struct q_exchange_order_req *o = args->order;
	struct q_exchange_args sym = {0};

	if (o == NULL)
		return q_err_set(err, Q_E_BAD_REQUEST, "no order given");
	sym.symbol = o->symbol;
	sym.client_id = o->client_id;
	if (q_venue_need_symbol(&sym, err) < 0 || q_venue_need_client_id(ops, &sym, err) < 0)
		return -1;
	if ((o->side != Q_EX_BUY && o->side != Q_EX_SELL) ||
	    (o->type != Q_EX_MARKET && o->type != Q_EX_LIMIT) || o->tif < Q_EX_GTC ||
	    o->tif > Q_EX_FOK)
		return q_err_set(err, Q_E_BAD_REQUEST,
		                 "order needs a side, a type and a valid time in force");
	if (o->type == Q_EX_LIMIT && (q_dec_sign(o->price) <= 0 || q_dec_sign(o->qty) <= 0))
		return q_err_set(err, Q_E_BAD_REQUEST, "a LIMIT order needs qty > 0 and price > 0");
	if (o->type == Q_EX_LIMIT && !q_dec_is_zero(o->quote_qty))
		return q_err_set(err, Q_E_BAD_REQUEST, "a LIMIT order has no quote amount");
	if (o->type == Q_EX_MARKET && !(q_dec_sign(o->qty) > 0 && q_dec_is_zero(o->quote_qty)) &&
	    !(o->side == Q_EX_BUY && q_dec_sign(o->quote_qty) > 0 && q_dec_is_zero(o->qty)))
		return q_err_set(
		        err, Q_E_BAD_REQUEST,
		        "a MARKET order needs qty > 0, or a BUY quote_qty > 0 without qty");
	return 0;
}
