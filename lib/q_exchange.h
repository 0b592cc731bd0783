/*
 * q_exchange: one interface to the spot REST APIs of Binance, OKX, Bybit and Bitget
 * (protocols.md sections 1-4; DESIGN.md sections 8 and 12).
 *
 * Each venue is one const struct q_exchange_ops in lib/exchange/<venue>.c. For every operation
 * it gives a pure request builder (method, path, query, body, flags) and a pure response parser
 * (venue JSON -> the value types below); the table also holds the venue's signer, its response
 * envelope, its error table and its kline intervals. q_exchange.c runs an operation the same
 * way for every venue: build, sign with the clock-corrected time, check the rate-limit state,
 * send through q_http, learn the rate-limit headers, map the errors, parse. Venue-specific
 * operations that need several requests (OKX cancel-all, Bitget and Bybit lookups that fall back
 * to the order history) set op[].run instead and drive q_exchange_exec() themselves.
 *
 * Errors: every failure is one of these codes, whatever the venue said:
 *   Q_E_EX_AUTH             bad key, signature, passphrase, IP not allowed or missing permission
 *   Q_E_EX_INSUFFICIENT     not enough balance for the order
 *   Q_E_EX_FILTER           the order breaks a symbol rule (tick, lot, min qty, min notional)
 *   Q_E_EX_RATE_LIMITED     HTTP 429 or the venue's rate-limit code: retry after
 *                           ex->last.retry_after_s seconds (also in the message); until then
 *                           every call fails the same way without sending anything
 *   Q_E_EX_BANNED           HTTP 418, Binance's "IP banned until", Bybit's HTTP 403: nothing is
 *                           sent until ex->limits.banned_until_ms
 *   Q_E_EX_UNKNOWN_OUTCOME  a mutating call (place, cancel, cancel all) got a 5xx, a timeout or a
 *                           connection failure after the request was fully sent, the venue's own
 *                           "status unknown" or server-error code, or a 2xx answer that cannot be
 *                           read: the order may exist. Query it by client order id; never re-send
 *                           it blind. (The same causes on a read are Q_E_EXCHANGE_UNAVAILABLE.)
 *   Q_E_EX_CLOCK_SKEW       the venue refused the timestamp. A signed call resyncs the clock
 *                           (q_exchange_sync_time) and retries once by itself: the venue
 *                           rejected the request before acting on it.
 *   Q_E_NOT_FOUND           no order with that client order id (query, cancel)
 *   Q_E_CONFLICT            the client order id is already in use
 *   Q_E_BAD_REQUEST         an invalid argument, or a refusal by the venue (an error code in its
 *                           answer, whatever the HTTP status below 500) that no code above covers
 *   Q_E_EXCHANGE_UNAVAILABLE  network failure, 5xx or malformed answer on a read, maintenance, or
 *                           a 4xx without the venue's error body (a proxy, a firewall)
 * The venue's own HTTP status, code and message stay in ex->last for the log; err->msg names
 * the venue and quotes its code and message. Neither ever holds a key, a secret or a signature.
 *
 * Times are Unix milliseconds. Symbols are venue-independent "BTCUSDT" (base then quote, no
 * separator); OKX's "BTC-USDT" is derived by the OKX module. Kline intervals are the canonical
 * names 1m 3m 5m 15m 30m 1h 2h 4h 6h 12h 1d 1w (a venue without one refuses it).
 */
#ifndef Q_EXCHANGE_H
#define Q_EXCHANGE_H

#include <stddef.h>

#include <jansson.h>

#include "q_arena.h"
#include "q_buf.h"
#include "q_config.h"
#include "q_decimal.h"
#include "q_err.h"
#include "q_http.h"

#define Q_EX_SYMBOL_MAX 32     /* bytes, NUL included */
#define Q_EX_ASSET_MAX 24      /* bytes, NUL included */
#define Q_EX_ORDER_ID_MAX 72   /* bytes, NUL included: order ids and client order ids as seen */
#define Q_EX_CLIENT_ID_LEN 32  /* the longest client order id every venue accepts */
#define Q_EX_PERMS_RAW_MAX 512 /* bytes of the venue's own permission list kept */
#define Q_EX_MAX_HEADERS 8
#define Q_EX_RECV_WINDOW_MS 5000L /* default recvWindow / X-BAPI-RECV-WINDOW */
#define Q_EX_RETRY_DEFAULT_S 10   /* back-off after a rate limit that names no time */
#define Q_EX_BAN_DEFAULT_S 120    /* a ban that names no end (Binance: 2 min at least) */
#define Q_EX_URL_MAX 256

enum q_exchange_op {
	Q_EX_OP_TIME,        /* server time */
	Q_EX_OP_RULES,       /* symbol rules */
	Q_EX_OP_KLINES,      /* candles */
	Q_EX_OP_BALANCES,    /* account balances */
	Q_EX_OP_PERMISSIONS, /* what the API key may do */
	Q_EX_OP_PLACE,       /* place an order */
	Q_EX_OP_QUERY,       /* one order by client order id */
	Q_EX_OP_CANCEL,      /* cancel one order by client order id */
	Q_EX_OP_CANCEL_ALL,  /* cancel every open order on a symbol */
	Q_EX_OP_OPEN_ORDERS, /* the open orders on a symbol */
	Q_EX_OP__COUNT
};

/* The zero value of each enum is invalid, so an unset field is refused. */
enum q_exchange_side { Q_EX_BUY = 1, Q_EX_SELL };
enum q_exchange_type { Q_EX_MARKET = 1, Q_EX_LIMIT };
enum q_exchange_tif { Q_EX_GTC = 0, Q_EX_IOC, Q_EX_FOK }; /* LIMIT orders; GTC by default */
enum q_exchange_status {
	Q_EX_OPEN = 1,         /* accepted, nothing filled yet (or only acknowledged: ack_only) */
	Q_EX_PARTIALLY_FILLED, /* still working */
	Q_EX_FILLED,
	Q_EX_CANCELLED, /* final; executed_qty may be > 0 (partially filled, then cancelled/expired) */
	Q_EX_REJECTED,
};

struct q_exchange_rules {
	char symbol[Q_EX_SYMBOL_MAX]; /* canonical, "BTCUSDT" */
	char base[Q_EX_ASSET_MAX];
	char quote[Q_EX_ASSET_MAX];
	struct q_dec tick;         /* price step, > 0 */
	struct q_dec lot;          /* quantity step, > 0 */
	struct q_dec min_qty;      /* 0 when the venue states none */
	struct q_dec max_qty;      /* 0 when the venue states none */
	struct q_dec min_notional; /* qty * price floor in the quote asset; 0 when none (OKX) */
	struct q_dec quote_step;   /* step of a quote amount (MARKET BUY by quote); 0 when none */
	int trading;               /* 1 when the venue says the symbol trades now */
};

struct q_exchange_kline {
	long long open_ms;
	long long close_ms; /* open_ms + interval - 1, as Binance reports it */
	struct q_dec open, high, low, close, volume;
	int closed; /* 1 once the candle can no longer change */
};

struct q_exchange_balance {
	char asset[Q_EX_ASSET_MAX];
	struct q_dec free;   /* available for new orders */
	struct q_dec locked; /* held by open orders (and frozen) */
};

/*
 * What an API key may do (DESIGN.md section 8). can_withdraw: Binance enableWithdrawals, OKX perm
 * "withdraw", Bybit permissions.Wallet "Withdraw", Bitget authority "wwow". can_transfer: Binance
 * enableInternalTransfer, the one transfer right section 8 refuses like a withdrawal; the other
 * venues' transfer rights only show in raw. A flag the venue omits reads as the unsafe value
 * (can_withdraw 1, can_trade 0).
 */
struct q_exchange_perms {
	int can_read;
	int can_trade; /* spot trading */
	int can_withdraw;
	int can_transfer;
	int ip_restricted;
	char raw[Q_EX_PERMS_RAW_MAX]; /* the venue's own list as received, comma-separated */
};

struct q_exchange_order_req {
	char symbol[Q_EX_SYMBOL_MAX];
	enum q_exchange_side side;
	enum q_exchange_type type;
	enum q_exchange_tif tif;
	struct q_dec qty;       /* base quantity, > 0 (unless quote_qty is used) */
	struct q_dec quote_qty; /* MARKET BUY only: spend this much quote instead of qty; else 0 */
	struct q_dec price;     /* LIMIT: > 0. MARKET: 0, or a reference price (never sent) */
	char client_id[Q_EX_CLIENT_ID_LEN + 1]; /* q_exchange_client_id_valid() */
};

/* An order as the venue reports it. type is 0 for a kind that is neither (a stop order placed
 * elsewhere); fee_asset is "" when the venue does not name it. */
struct q_exchange_order {
	char order_id[Q_EX_ORDER_ID_MAX];  /* the venue's id */
	char client_id[Q_EX_ORDER_ID_MAX]; /* as the venue reports it */
	char symbol[Q_EX_SYMBOL_MAX];      /* canonical */
	enum q_exchange_side side;
	enum q_exchange_type type;
	enum q_exchange_status status;
	struct q_dec qty;          /* ordered base quantity (0 when ordered by quote amount) */
	struct q_dec price;        /* limit price, 0 for market */
	struct q_dec executed_qty; /* filled base quantity */
	struct q_dec cum_quote;    /* filled quote amount */
	struct q_dec avg_price;    /* cum_quote / executed_qty, 0 before any fill */
	struct q_dec fee;          /* positive = paid; valid when has_fee */
	char fee_asset[Q_EX_ASSET_MAX];
	int has_fee;
	/*
	 * 1 when the venue only acknowledged the order (ids, no state: OKX, Bybit, Bitget placements,
	 * cancellations): status is then OPEN / CANCELLED as requested, the amounts are those of the
	 * request or 0, and the truth comes from a query.
	 */
	int ack_only;
	long long update_ms; /* 0 when not reported */
};

/* What the venue said about the last request, for the log. Never holds a secret. */
struct q_exchange_venue_err {
	long http_status;  /* 0 when no response arrived */
	char code[32];     /* the venue's code as text ("-2010", "51008"), "" when none */
	char msg[256];     /* the venue's message, control characters replaced */
	int retry_after_s; /* seconds to wait, from Retry-After or the venue's reset time; 0 none */
	long long until_ms; /* server time a ban ends ("IP banned until ..."), 0 when not stated */
};

/* Rate-limit state (pure: see q_exchange_limits_*). Instants are local-clock milliseconds. */
struct q_exchange_limits {
	long long used_weight;  /* last used-weight header (Binance X-MBX-USED-WEIGHT-1M); -1 */
	long long weight_limit; /* stop sending at this used weight until the minute turns; 0 off */
	long long remaining;    /* last remaining-requests header (Bybit X-Bapi-Limit-Status); -1 */
	long long not_before_ms;   /* send nothing before this (429, rate-limit codes, weight) */
	long long banned_until_ms; /* send nothing before this (418, IP bans) */
	int retry_after_s;         /* the last back-off learned, in seconds */
};

/* Arguments of one operation: each uses the fields it needs. */
struct q_exchange_args {
	const char *symbol;    /* canonical */
	const char *interval;  /* KLINES: canonical interval */
	long long end_ms;      /* KLINES: newest candle opening at or before this; 0 = latest */
	int limit;             /* KLINES: 1 .. ops->max_klines (larger is clamped) */
	const char *client_id; /* QUERY, CANCEL */
	const char *order_id;  /* CANCEL: the venue's id, used when client_id is NULL */
	const struct q_exchange_order_req *order; /* PLACE */
	long long now_ms; /* the venue's current time (kline "closed"); set by q_exchange_exec */
};

/* The result of one operation: each fills the fields it produces. Arrays live in the arena. */
struct q_exchange_result {
	long long server_ms;
	struct q_exchange_rules rules;
	struct q_exchange_perms perms;
	struct q_exchange_order order;
	struct q_exchange_kline *klines; /* oldest first */
	size_t nklines;
	struct q_exchange_balance *balances; /* non-zero balances */
	size_t nbalances;
	struct q_exchange_order *orders;
	size_t norders;
};

/* A built request: exactly the bytes that are signed and sent. */
enum q_exchange_req_flags {
	Q_EX_SIGNED = 1 << 0,   /* needs the key: signed with the secret */
	Q_EX_MUTATING = 1 << 1, /* changes orders: an uncertain end is Q_E_EX_UNKNOWN_OUTCOME */
};

struct q_exchange_request {
	const char *method;   /* "GET", "POST", "DELETE" */
	const char *path;     /* "/api/v3/order"; static */
	struct q_buf query;   /* without '?'; as sent and signed */
	struct q_buf body;    /* as sent and signed; empty for GET and DELETE */
	struct q_buf prehash; /* after signing: the exact bytes the signature covers */
	char *headers[Q_EX_MAX_HEADERS + 1]; /* "Name: value", NULL-terminated, owned */
	int nheaders;
	unsigned flags; /* enum q_exchange_req_flags */
};

/* A view of the credentials for the signers. */
struct q_exchange_creds {
	const char *api_key;
	const char *secret;
	size_t secret_len;
	const char *passphrase; /* "" when the venue has none */
};

struct q_exchange;

struct q_exchange_opdef {
	const char *name; /* "place", for messages */
	unsigned flags;   /* enum q_exchange_req_flags */
	/* Fill rq->method, rq->path, rq->query and rq->body from args. Pure. */
	int (*build)(struct q_exchange_request *rq, const struct q_exchange_args *args,
	             struct q_err *err);
	/* Read data (the envelope's payload) into res; arrays in a. Pure. */
	int (*parse)(struct q_exchange_result *res, const struct q_exchange_args *args,
	             json_t *data, struct q_arena *a, struct q_err *err);
	/* For an operation made of several requests: run it whole (build and parse unused). */
	int (*run)(struct q_exchange *ex, const struct q_exchange_args *args,
	           struct q_exchange_result *res, struct q_arena *a, struct q_err *err);
};

/* One row of a venue's error table: code (and, when msg is set, a message substring) -> q. */
struct q_exchange_errmap {
	const char *code;
	const char *msg;
	enum q_code q;
};

struct q_exchange_interval {
	const char *name;  /* canonical, "1h" */
	const char *venue; /* the venue's own, "1H", "60", "1h" */
	long long ms;
};

struct q_exchange_ops {
	const char *name;     /* "binance": the registry key and [exchange.<name>] */
	const char *base_url; /* production default */
	int needs_passphrase;
	int max_klines;            /* most candles one request returns */
	long long weight_limit;    /* default limits.weight_limit (0: the venue has no weights) */
	const char *weight_header; /* response header with the used weight, or NULL */
	const char *remaining_header; /* response header with the requests left, or NULL */
	const char *reset_header;     /* with it: when the count resets (venue ms), or NULL */
	int ban_403_s;                /* an HTTP 403 is an IP ban of this many seconds (0: not) */
	/* The venue's client order id rule: 1 to client_id_max of the bytes in client_id_chars. */
	int client_id_max;
	const char *client_id_chars;
	const struct q_exchange_interval *intervals; /* terminated by name NULL */
	/*
	 * Sign rq for the time ts_ms (the venue's clock): add the timestamp and signature to the
	 * query or the headers, and the key headers; rq->prehash gets the signed bytes. Pure.
	 */
	int (*sign)(struct q_exchange_request *rq, const struct q_exchange_creds *c,
	            long long ts_ms, long recv_window_ms, struct q_err *err);
	/*
	 * Split a parsed response: 0 and *data (borrowed from root) on success, -1 with ve->code and
	 * ve->msg filled when the venue reports an error, -2 when root is not the venue's envelope
	 * at all (no code member): a malformed answer.
	 */
	int (*envelope)(json_t *root, json_t **data, struct q_exchange_venue_err *ve);
	const struct q_exchange_errmap *errors; /* terminated by code NULL; first match wins */
	struct q_exchange_opdef op[Q_EX_OP__COUNT];
};

typedef int (*q_exchange_transport_fn)(void *ud, struct q_http_resp *resp,
                                       const struct q_http_req *req, struct q_err *err);

/*
 * A client for one venue and one key. Fields are read-only for callers except where noted;
 * create with q_exchange_new(), free with q_exchange_free().
 */
struct q_exchange {
	const struct q_exchange_ops *ops;
	char base_url[Q_EX_URL_MAX]; /* no trailing '/' */
	struct q_buf api_key;        /* credentials: wiped on free */
	struct q_buf secret;
	struct q_buf passphrase;
	struct q_http *http;
	long recv_window_ms;
	long long clock_offset_ms; /* venue time - local time, from q_exchange_sync_time() */
	int clock_synced;
	struct q_exchange_limits limits;
	struct q_exchange_venue_err last; /* what the venue said to the last request */
	/* Local wall clock in ms; tests may replace it. */
	long long (*now_ms)(void);
	/* Sends a request (default: q_http_do on http); tests may replace it. */
	q_exchange_transport_fn transport;
	void *transport_ud;
};

/* The venues, by name ("binance", "okx", "bybit", "bitget"); NULL for an unknown name. */
const struct q_exchange_ops *q_exchange_lookup(const char *name);
/* The i-th registered venue (0, 1, ...), NULL past the last: for iterating. */
const struct q_exchange_ops *q_exchange_venue(size_t i);

extern const struct q_exchange_ops q_exchange_binance;
extern const struct q_exchange_ops q_exchange_okx;
extern const struct q_exchange_ops q_exchange_bybit;
extern const struct q_exchange_ops q_exchange_bitget;

/*
 * A client for the venue name, configured from [exchange.<name>] of cfg (cfg may be NULL for
 * the defaults): base_url (default ops->base_url; http or https, a trailing '/' is dropped),
 * recv_window_ms (1..60000, default 5000), weight_limit (0..1000000, default ops->weight_limit).
 * Returns NULL with err set: Q_E_BAD_REQUEST for an unknown venue, Q_E_CONFIG for a bad value.
 * No request is made; the clock offset is 0 until q_exchange_sync_time().
 */
struct q_exchange *q_exchange_new(const char *name, const struct q_config *cfg, struct q_err *err);

/* Wipe the credentials and free everything. NULL-safe. */
void q_exchange_free(struct q_exchange *ex);

/*
 * Copy the key, the secret (secret_len bytes: may hold anything) and the passphrase (NULL for
 * venues without one) into ex, replacing and wiping earlier ones. A Binance secret that is a
 * PKCS#8 PEM Ed25519 private key ("-----BEGIN PRIVATE KEY-----") signs with Ed25519, any other
 * with HMAC-SHA256. Returns 0, or -1 with Q_E_BAD_REQUEST when key or secret is empty or holds a
 * control character, or the venue needs a passphrase and none is given.
 */
int q_exchange_set_credentials(struct q_exchange *ex, const char *api_key, const char *secret,
                               size_t secret_len, const char *passphrase, struct q_err *err);

/* The venue's current time: local time + the learned offset. */
long long q_exchange_now_ms(const struct q_exchange *ex);

/*
 * Ask the venue for its time and set ex->clock_offset_ms = server - midpoint of the round trip.
 * Signed requests then carry the venue's time. Returns 0 or -1 as the TIME operation.
 */
int q_exchange_sync_time(struct q_exchange *ex, struct q_err *err);

/* The operations. Each returns 0, or -1 with err set as in the list at the top. */
int q_exchange_server_time(struct q_exchange *ex, long long *ms, struct q_err *err);
int q_exchange_symbol_rules(struct q_exchange *ex, struct q_exchange_rules *out, const char *symbol,
                            struct q_err *err);
/* *out (arena a) holds *n candles, oldest first; the newest may still be open (closed 0). */
int q_exchange_klines(struct q_exchange *ex, struct q_arena *a, struct q_exchange_kline **out,
                      size_t *n, const char *symbol, const char *interval, long long end_ms,
                      int limit, struct q_err *err);
/* Non-zero balances (free + locked > 0) into *out (arena a). Needs the key. */
int q_exchange_balances(struct q_exchange *ex, struct q_arena *a, struct q_exchange_balance **out,
                        size_t *n, struct q_err *err);
/* The key's own permissions (section 8's endpoints). Needs the key. */
int q_exchange_key_permissions(struct q_exchange *ex, struct q_exchange_perms *out,
                               struct q_err *err);
/*
 * Place req after q_exchange_order_check(). *out is the venue's view: complete on Binance,
 * ack_only elsewhere. On Q_E_EX_UNKNOWN_OUTCOME, query req->client_id before anything else.
 * Bitget sizes a market buy in the quote asset only: there a MARKET BUY needs quote_qty (a base
 * qty is refused with Q_E_BAD_REQUEST before anything is sent).
 */
int q_exchange_place_order(struct q_exchange *ex, struct q_exchange_order *out,
                           const struct q_exchange_order_req *req, struct q_err *err);
/* The order with this client order id, open or recently closed; Q_E_NOT_FOUND when none. */
int q_exchange_query_order(struct q_exchange *ex, struct q_exchange_order *out, const char *symbol,
                           const char *client_id, struct q_err *err);
/* Cancel one order by client order id; Q_E_NOT_FOUND when it is not open (filled or unknown). */
int q_exchange_cancel_order(struct q_exchange *ex, struct q_exchange_order *out, const char *symbol,
                            const char *client_id, struct q_err *err);
/* Cancel every open order on symbol (none open is success). */
int q_exchange_cancel_all(struct q_exchange *ex, const char *symbol, struct q_err *err);
int q_exchange_open_orders(struct q_exchange *ex, struct q_arena *a, struct q_exchange_order **out,
                           size_t *n, const char *symbol, struct q_err *err);

/*
 * Run one operation with opdef d (normally &ex->ops->op[op]): build, sign with
 * q_exchange_now_ms(), admit through the rate-limit state, send, observe the limits, parse with
 * q_exchange_parse(). A clock-skew refusal of a signed request resyncs and retries once. For the
 * run() of composite operations; the q_exchange_<operation> functions wrap it.
 */
int q_exchange_exec(struct q_exchange *ex, const struct q_exchange_opdef *d,
                    const struct q_exchange_args *args, struct q_exchange_result *res,
                    struct q_arena *a, struct q_err *err);

/* -------- pure building blocks (no network; what the unit tests and part B exercise) -------- */

/* An empty request / free everything it holds, wiping the headers (keys, signatures). */
void q_exchange_request_init(struct q_exchange_request *rq);
void q_exchange_request_release(struct q_exchange_request *rq);
/* Append "Name: value" (printf-style) to rq's headers; fatal past Q_EX_MAX_HEADERS. */
void q_exchange_request_header(struct q_exchange_request *rq, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* The value of header name (case-insensitive) in rq, or NULL. */
const char *q_exchange_request_get_header(const struct q_exchange_request *rq, const char *name);

/*
 * Build op for args with ops (rq initialised by the caller, flags set from the table) and, for
 * a signed operation, sign it with c at ts_ms. Returns 0, or -1 with err set (an invalid argument
 * is Q_E_BAD_REQUEST, no credentials for a signed operation Q_E_EX_AUTH). An operation without
 * a builder (OKX cancel-all) is -1 with Q_E_BAD_REQUEST; one with both a builder and run()
 * builds the first request run() sends.
 */
int q_exchange_build(struct q_exchange_request *rq, const struct q_exchange_ops *ops,
                     enum q_exchange_op op, const struct q_exchange_args *args,
                     const struct q_exchange_creds *c, long long ts_ms, long recv_window_ms,
                     struct q_err *err);

/*
 * Turn a complete response to a request built with opdef d into res or an error, as the list at
 * the top says: HTTP 418 / 429 / the venue's 403 ban, 5xx, the envelope and the error table,
 * then d->parse. ve gets the venue's status, code, message, retry-after and ban end (server
 * time). Pure; arrays go into a.
 */
int q_exchange_parse(struct q_exchange_result *res, struct q_exchange_venue_err *ve,
                     const struct q_exchange_ops *ops, const struct q_exchange_opdef *d,
                     const struct q_exchange_args *args, const struct q_http_resp *resp,
                     struct q_arena *a, struct q_err *err);

/* The code ops->errors maps (code, msg) to, or Q_OK when no row matches. */
enum q_code q_exchange_map_error(const struct q_exchange_ops *ops, const char *code,
                                 const char *msg);

/* The row of ops->intervals for a canonical name, or NULL. */
const struct q_exchange_interval *q_exchange_interval(const struct q_exchange_ops *ops,
                                                      const char *name);

/*
 * Rate-limit state. init: nothing known, weight_limit as given. admit: 0 when a request may be
 * sent at local time now_ms, else -1 with Q_E_EX_BANNED (before banned_until_ms) or
 * Q_E_EX_RATE_LIMITED (before not_before_ms), the message saying how many seconds remain.
 * observe: learn from a response at local time now_ms (offset_ms = venue - local clock): HTTP
 * 429 -> not_before = now + Retry-After (default Q_EX_RETRY_DEFAULT_S); 418 -> banned_until =
 * now + Retry-After (default Q_EX_BAN_DEFAULT_S); a 403 when ops->ban_403_s -> banned for that
 * long; the used-weight header at or above weight_limit -> not_before = the next minute of the
 * venue's clock; a remaining count of 0 with a reset timestamp -> not_before = that reset.
 * penalize: after a venue error code (code Q_E_EX_RATE_LIMITED or Q_E_EX_BANNED): not before
 * now + ve->retry_after_s (default as above), or banned until ve->until_ms (venue time) when
 * stated. Later instants always win over earlier ones; nothing ever shortens a wait.
 */
void q_exchange_limits_init(struct q_exchange_limits *l, long long weight_limit);
int q_exchange_limits_admit(const struct q_exchange_limits *l, long long now_ms, struct q_err *err);
void q_exchange_limits_observe(struct q_exchange_limits *l, const struct q_exchange_ops *ops,
                               const struct q_http_resp *resp, long long now_ms,
                               long long offset_ms);
void q_exchange_limits_penalize(struct q_exchange_limits *l, enum q_code code,
                                const struct q_exchange_venue_err *ve, long long now_ms,
                                long long offset_ms);

/*
 * Client order ids. q_exchange_client_order_id writes the deterministic id of order seq of bot
 * bot_id (both >= 0): "qt" + 13 base-36 digits of bot_id + 13 of seq, lowercase, 28 characters,
 * which every venue accepts (Binance and Bybit [A-Za-z0-9_-]{1,36}, OKX [A-Za-z0-9]{1,32},
 * Bitget [A-Za-z0-9_-]{1,32} as protocols.md 4.3 chooses). Returns 0, or -1 (out = "") for a
 * negative id. _parse reverses it: 0 with both ids, -1 for any string it did not make.
 * _valid_on: 1 when id follows ops's rule (ops->client_id_max, ops->client_id_chars), else 0.
 * _valid: 1 when id is valid on every registered venue (today 1 to 32 of [A-Za-z0-9]), else 0.
 */
int q_exchange_client_order_id(char out[Q_EX_CLIENT_ID_LEN + 1], long long bot_id, long long seq);
int q_exchange_client_order_id_parse(long long *bot_id, long long *seq, const char *id);
int q_exchange_client_id_valid_on(const struct q_exchange_ops *ops, const char *id);
int q_exchange_client_id_valid(const char *id);

/*
 * Apply the symbol rules to an order before it is placed, in exact decimals: qty rounded down to
 * the lot, a LIMIT price to the tick (down for a BUY, up for a SELL: never a worse price than
 * asked), a quote_qty down to quote_step (when stated), then checked: qty > 0 and >= min_qty,
 * qty <= max_qty (when stated), a LIMIT price still > 0, qty * price >= min_notional (LIMIT, or
 * MARKET with a reference price), quote_qty >= min_notional. Returns 0, or -1 with req unchanged
 * and Q_E_EX_FILTER saying which rule fails, Q_E_BAD_REQUEST for a malformed request or rules (no
 * side, qty <= 0, LIMIT without price, quote_qty on anything but a MARKET BUY, an invalid client
 * id, no tick or lot).
 */
int q_exchange_order_check(struct q_exchange_order_req *req, const struct q_exchange_rules *r,
                           struct q_err *err);

/*
 * DESIGN.md section 8 on a key: -1 with Q_E_KEY_CAN_WITHDRAW when it can withdraw or transfer,
 * Q_E_KEY_CANNOT_TRADE when it cannot trade spot; 0 otherwise.
 */
int q_exchange_perms_check(const struct q_exchange_perms *p, struct q_err *err);

/* "OPEN", "PARTIALLY_FILLED", ... for logs and the orders table. */
const char *q_exchange_status_name(enum q_exchange_status s);

#endif
