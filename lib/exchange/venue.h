/*
 * venue: the kit the venue modules (lib/exchange/<venue>.c) share: query strings and JSON bodies
 * built byte-exactly, the signature primitives each venue combines, strict readers for the
 * venue JSON and the little conversions every venue needs. Not an interface for other callers:
 * they use q_exchange.h.
 *
 * Readers report a missing or mistyped field as Q_E_EXCHANGE_UNAVAILABLE "<venue answer>
 * malformed: ..." (q_exchange_parse() turns it into Q_E_EX_UNKNOWN_OUTCOME for a mutating call).
 */
#ifndef Q_VENUE_H
#define Q_VENUE_H

#include <stddef.h>

#include <jansson.h>

#include "q_arena.h"
#include "q_buf.h"
#include "q_decimal.h"
#include "q_err.h"
#include "q_exchange.h"

/* "key=value" appended to a query, '&' first unless q is empty; value percent-encoded as
 * q_http_urlencode() does (RFC 3986 unreserved kept), which leaves every value we send as is. */
void q_venue_param(struct q_buf *q, const char *key, const char *value);
void q_venue_param_dec(struct q_buf *q, const char *key, struct q_dec d);
void q_venue_param_ll(struct q_buf *q, const char *key, long long v);

/* Members of a JSON body, in insertion order (bodies are dumped with JSON_PRESERVE_ORDER). */
void q_venue_jset(json_t *obj, const char *key, const char *value);
void q_venue_jset_dec(json_t *obj, const char *key, struct q_dec d);
/* Dump obj compactly, in insertion order, into body (the exact bytes signed and sent) and
 * release obj. */
void q_venue_body(struct q_buf *body, json_t *obj);

/* Lowercase hex HMAC-SHA256 of msg under key into out[65]. */
void q_venue_hmac_hex(char out[65], const void *key, size_t keylen, const void *msg, size_t len);
/* Standard base64 (padded) HMAC-SHA256 of msg under key, appended to out. */
void q_venue_hmac_base64(struct q_buf *out, const void *key, size_t keylen, const void *msg,
                         size_t len);
/* 1 when secret looks like a PEM private key ("-----BEGIN PRIVATE KEY-----"). */
int q_venue_is_pem(const char *secret, size_t len);
/*
 * Ed25519 signature of msg with the PKCS#8 PEM Ed25519 private key pem, standard base64,
 * appended to out. -1 with Q_E_EX_AUTH when pem is not such a key.
 */
int q_venue_ed25519_pem_sign(struct q_buf *out, const char *pem, size_t pemlen, const void *msg,
                             size_t len, struct q_err *err);
/* ms as "2020-12-08T09:08:57.715Z" (UTC, milliseconds), OKX's OK-ACCESS-TIMESTAMP. */
void q_venue_iso8601_ms(char out[32], long long ms);

/* The malformed-answer error: Q_E_EXCHANGE_UNAVAILABLE "<what> malformed: <why>". */
int q_venue_malformed(struct q_err *err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* A venue's message into dst (n bytes), cut to fit, control characters replaced by '?'. */
void q_venue_copy_msg(char *dst, size_t n, const char *msg);
/* The string member key of obj, or NULL when absent or not a string. */
const char *q_venue_str(json_t *obj, const char *key);
/* Copy the string member key into dst (n bytes); malformed when absent, not a string or too long.
 * _opt: "" when absent or null. */
int q_venue_copy(char *dst, size_t n, json_t *obj, const char *key, struct q_err *err);
int q_venue_copy_opt(char *dst, size_t n, json_t *obj, const char *key, struct q_err *err);
/* A decimal from a JSON string (or integer). Malformed when absent or invalid.
 * _opt: 0 when absent, null or "". */
int q_venue_dec(struct q_dec *out, json_t *obj, const char *key, struct q_err *err);
int q_venue_dec_opt(struct q_dec *out, json_t *obj, const char *key, struct q_err *err);
/* A decimal from a JSON value v (string or integer). */
int q_venue_dec_value(struct q_dec *out, json_t *v, const char *what, struct q_err *err);
/* Milliseconds from a non-negative JSON integer or a string of 1 to 18 digits. */
int q_venue_ms(long long *out, json_t *v, const char *what, struct q_err *err);
/* A boolean member; absent reads as def. Malformed when present and not a boolean. */
int q_venue_bool(int *out, json_t *obj, const char *key, int def, struct q_err *err);
/* The step 10^-n of a precision n (0 to 18) given as a JSON integer or a string of one or two
 * digits: 2 or "2" -> 0.01, 0 -> 1. Malformed otherwise. */
int q_venue_precision_step(struct q_dec *out, json_t *obj, const char *key, struct q_err *err);

/* The canonical symbol of a venue symbol: "BTC-USDT" -> "BTCUSDT", "btcusdt" -> "BTCUSDT" (drops
 * '-', '_', '/', upper-cases ASCII letters). */
void q_venue_canonical_symbol(char out[Q_EX_SYMBOL_MAX], const char *venue_symbol);

/* A venue status string -> a status; the table ends with name NULL. -1 when unknown. */
struct q_venue_status {
	const char *name;
	enum q_exchange_status status;
};
int q_venue_status(enum q_exchange_status *out, const struct q_venue_status *map, const char *s);

/* avg_price = cum_quote / executed_qty (half-even at 18 places), 0 when nothing is filled. */
void q_venue_order_avg(struct q_exchange_order *o);
/* An acknowledged order: ids from the venue, the rest from the request, status as given. */
void q_venue_order_ack(struct q_exchange_order *o, const struct q_exchange_order_req *req,
                       enum q_exchange_status status);

/*
 * Room for n candles (n may be 0) in res, from a. Then q_venue_klines_finish(): sort them
 * oldest first (venues send newest first too), set close_ms = open_ms + interval - 1 and, unless
 * keep_closed, closed = close_ms < now_ms.
 */
struct q_exchange_kline *q_venue_klines_alloc(struct q_exchange_result *res, struct q_arena *a,
                                              size_t n);
void q_venue_klines_finish(struct q_exchange_result *res, long long interval_ms, long long now_ms,
                           int keep_closed);
/* Room for n balances / orders in res, from a. */
struct q_exchange_balance *q_venue_balances_alloc(struct q_exchange_result *res, struct q_arena *a,
                                                  size_t n);
struct q_exchange_order *q_venue_orders_alloc(struct q_exchange_result *res, struct q_arena *a,
                                              size_t n);

/* The venue interval for a canonical one; -1 with Q_E_BAD_REQUEST when the venue has none. */
int q_venue_interval(const struct q_exchange_interval **out, const struct q_exchange_ops *ops,
                     const char *name, struct q_err *err);
/* args->limit clamped to 1 .. max; -1 with Q_E_BAD_REQUEST when it is < 1. */
int q_venue_limit(int *out, const struct q_exchange_args *args, int max, struct q_err *err);
/* args->symbol present, at most Q_EX_SYMBOL_MAX - 1 characters of [A-Z0-9]; else -1
 * Q_E_BAD_REQUEST. */
int q_venue_need_symbol(const struct q_exchange_args *args, struct q_err *err);
/* args->client_id valid on ops's venue (q_exchange_client_id_valid_on); else -1 BAD_REQUEST. */
int q_venue_need_client_id(const struct q_exchange_ops *ops, const struct q_exchange_args *args,
                           struct q_err *err);
/* CANCEL's reference: a valid client_id, or (client_id NULL) an order_id of 1 to 64 characters
 * of [A-Za-z0-9_-]. Returns 1 for the client id, 0 for the order id, -1 Q_E_BAD_REQUEST. */
int q_venue_need_order_ref(const struct q_exchange_ops *ops, const struct q_exchange_args *args,
                           struct q_err *err);
/*
 * PLACE's request: args->order present with a valid symbol, side, type, time in force and client
 * id (ops's rule); a LIMIT with price > 0 and qty > 0; a MARKET with qty > 0, or a BUY with
 * quote_qty > 0 and qty 0. Else -1 Q_E_BAD_REQUEST. args->symbol is ignored (the order names its
 * symbol).
 */
int q_venue_need_order(const struct q_exchange_ops *ops, const struct q_exchange_args *args,
                       struct q_err *err);

#endif
