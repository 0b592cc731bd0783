/*
 * exchange: quantor-sim's spot exchanges. The core (exchange.c) holds what every venue shares:
 * the accounts and their API keys, balances, the order book of accepted orders and its matching
 * against the synthetic markets (market.h), the injected faults, rate limits and bans, and the
 * venue clocks (skew). A venue front-end (ex_<venue>.c) speaks one venue's REST dialect on top:
 * its paths, parameter names, signature check and JSON shapes, and renders the core's errors the
 * way that venue does.
 *
 * A request goes: route lookup (404 in the venue's shape) -> ban / rate-limit window / injected
 * fault -> authentication (signed routes: key, passphrase, timestamp within the receive window of
 * the venue's clock, signature) -> the handler, with the core lock held for signed routes ->
 * the venue's usage headers. Faults that act ("timeout_after_accept", "malformed") run the
 * handler first and then spoil its answer, so the order exists although the client never learns
 * of it.
 *
 * Control endpoints (exchange.c, under /_sim/exchange/, and GET /_sim/orders): see sim_ex_control.
 */
#ifndef Q_SIM_EXCHANGE_H
#define Q_SIM_EXCHANGE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "market.h"
#include "q_decimal.h"
#include "sim.h"

#define SIM_EX_MAX_ASSETS 32
#define SIM_EX_FEE_BPS 10 /* taker and maker fee, in basis points of the quote amount */

/* The core's errors; each venue renders them as its own status, code and message. */
enum sim_ex_err {
	SIM_EX_OK = 0,
	SIM_EX_BAD_PARAM,       /* a missing or malformed parameter */
	SIM_EX_BAD_SYMBOL,      /* no such symbol */
	SIM_EX_BAD_KEY,         /* unknown API key */
	SIM_EX_BAD_SIGN,        /* the signature does not match */
	SIM_EX_BAD_PASS,        /* wrong passphrase */
	SIM_EX_NO_PERM,         /* the key lacks the permission (trading with a read-only key) */
	SIM_EX_TIMESTAMP,       /* outside the receive window of the venue's clock */
	SIM_EX_INSUFFICIENT,    /* not enough free balance */
	SIM_EX_FILTER_LOT,      /* quantity not on the lot grid, below min or above max */
	SIM_EX_FILTER_PRICE,    /* price not on the tick grid */
	SIM_EX_FILTER_NOTIONAL, /* qty * price below the minimum notional */
	SIM_EX_DUPLICATE,       /* the client order id is already taken */
	SIM_EX_NO_ORDER,        /* no such order, or not open (cancel) */
	SIM_EX_RATE_LIMITED,    /* 429: wait Retry-After */
	SIM_EX_BANNED,          /* 418 and the like: banned until the ban ends */
	SIM_EX_INTERNAL,        /* a 5xx */
	SIM_EX_NOT_FOUND,       /* no such endpoint */
	SIM_EX__COUNT
};

enum sim_perm {
	SIM_PERM_READ = 1 << 0,
	SIM_PERM_TRADE = 1 << 1,    /* spot trading */
	SIM_PERM_WITHDRAW = 1 << 2, /* the permission Quantor must refuse */
	SIM_PERM_TRANSFER = 1 << 3, /* internal / universal transfer */
	SIM_PERM_IP = 1 << 4,       /* bound to an IP list (127.0.0.1) */
};

struct sim_balance {
	char asset[12];
	struct q_dec free, locked;
};

struct sim_account {
	char venue[12];
	char name[64];
	char api_key[128];
	char secret[256];
	size_t secret_len;
	char passphrase[128];
	unsigned perms;          /* enum sim_perm */
	unsigned perms_at_start; /* from the accounts file: what a reset restores */
	struct sim_balance bal[SIM_EX_MAX_ASSETS];
	int nbal;
};

enum sim_side { SIM_BUY = 1, SIM_SELL };
enum sim_type { SIM_MARKET = 1, SIM_LIMIT };
enum sim_tif { SIM_GTC = 0, SIM_IOC, SIM_FOK };
enum sim_status { SIM_NEW = 1, SIM_FILLED, SIM_CANCELED, SIM_EXPIRED };

struct sim_order {
	long long seq; /* 1, 2, ... in the order the core accepted them, over all venues */
	char venue[12];
	struct sim_account *acct;
	char order_id[24]; /* decimal digits */
	char client_id[64];
	char symbol[16];
	enum sim_side side;
	enum sim_type type;
	enum sim_tif tif;
	struct q_dec qty; /* base quantity; for a MARKET BUY by quote amount, the filled qty */
	struct q_dec quote_qty; /* MARKET BUY by quote: the amount asked; else 0 */
	struct q_dec price;     /* LIMIT price; 0 for MARKET */
	struct q_dec executed;  /* filled base quantity */
	struct q_dec cum_quote; /* filled quote amount */
	struct q_dec fee;       /* in fee_asset */
	char fee_asset[8];
	enum sim_status status;
	int64_t created_ms, updated_ms; /* venue clock */
};

/* What a front-end asks to place. */
struct sim_order_req {
	const char *symbol; /* canonical "BTCUSDT" */
	enum sim_side side;
	enum sim_type type;
	enum sim_tif tif;
	struct q_dec qty;       /* base quantity (0 when quote_qty is used) */
	struct q_dec quote_qty; /* MARKET BUY by quote amount */
	struct q_dec price;     /* LIMIT */
	const char *client_id;  /* "" or NULL: the core makes one */
};

struct sim_ex_call;

/* One route of a venue: method and exact path (after the venue's prefix, with its leading '/'). */
struct sim_ex_route {
	const char *method;
	const char *path;
	const char *op; /* "time", "rules", "klines", "balances", "permissions", "place", "query",
	                 * "cancel", "cancel_all", "open_orders": what faults match */
	int sign;       /* 1: authenticated; the handler runs with the core lock held */
	int (*fn)(struct sim_ex_call *c);
};

struct sim_venue {
	const char *name; /* "binance": [exchange.<name>], the accounts' "exchange", the prefix */
	const struct sim_ex_route *routes; /* ends with method NULL */
	/*
	 * Authenticate c (its params, body and headers are read): find the account by key, check the
	 * passphrase, the timestamp against c->now_ms and the signature. SIM_EX_OK with c->acct set,
	 * else the error to render.
	 */
	enum sim_ex_err (*auth)(struct sim_ex_call *c);
	/* Render err as this venue's answer (status, body), detail (may be NULL) in the message. */
	void (*error)(struct sim_ex_call *c, enum sim_ex_err err, const char *detail);
	/* Add the venue's usage headers to a response (may be NULL). */
	void (*usage)(struct sim_ex_call *c);
};

/* One request to a venue as a front-end sees it. */
struct sim_ex_call {
	struct sim_req *req;
	struct sim_resp *resp;
	const struct sim_venue *venue;
	const struct sim_ex_route *route;
	struct sim_param *params; /* the query string's parameters, then a form body's */
	int nparams;
	json_t *body; /* a JSON body (POST), or NULL; freed with the request */
	struct sim_account *acct;
	int64_t now_ms;        /* the venue's clock: the sim clock + the venue's skew */
	long long ban_until;   /* set when err is SIM_EX_BANNED: venue ms the ban ends */
	int retry_after_s;     /* set for SIM_EX_RATE_LIMITED and SIM_EX_BANNED */
	long long used_weight; /* requests this minute, for the usage headers */
};

extern const struct sim_venue sim_venue_binance;
extern const struct sim_venue sim_venue_okx;
extern const struct sim_venue sim_venue_bybit;
extern const struct sim_venue sim_venue_bitget;

/* The modules main.c lists: one per venue (prefix "/<venue>/") and "exchange" for control. */
extern const struct sim_module sim_ex_binance, sim_ex_okx, sim_ex_bybit, sim_ex_bitget;
extern const struct sim_module sim_ex_control;

/* GET /_sim/orders: every order the venues accepted, oldest first ([?venue=..&client_id=..]). */
int sim_ex_orders(struct sim_req *req, struct sim_resp *resp, struct q_err *err);

/* --- for the front-ends -------------------------------------------------------------------- */

/* The value of parameter name (query, then form body), or NULL. */
const char *sim_ex_param(const struct sim_ex_call *c, const char *name);
/* A string member of the JSON body, or NULL. */
const char *sim_ex_body_str(const struct sim_ex_call *c, const char *name);

/* The account with this venue and key, or NULL. Holds no lock: accounts never change. */
struct sim_account *sim_ex_account(const char *venue, const char *api_key);

/* Constant-time comparison of two strings (lengths differing are unequal). 1 when equal. */
int sim_ex_streq(const char *a, const char *b);

/* The symbol, or NULL. Front-ends turn their own spelling ("BTC-USDT") into "BTCUSDT" first. */
const struct sim_symbol *sim_ex_symbol(const char *symbol);

/* A balance of the account (created at 0 when absent). */
struct sim_balance *sim_ex_balance(struct sim_account *a, const char *asset);

/*
 * Place r for c->acct at c->now_ms: checks the symbol, the filters (lot grid, min and max qty,
 * tick grid, min notional), the client id (unique among the account's orders on this venue),
 * and the free balance; a MARKET order fills at once at the market price, a LIMIT one that
 * crosses the price fills at once at the market price, else it rests (its funds locked) until
 * the price reaches it or it is cancelled; IOC / FOK LIMITs that do not cross expire. Fees:
 * SIM_EX_FEE_BPS of the quote amount, in the quote asset. SIM_EX_OK with *out, or the error.
 */
enum sim_ex_err sim_ex_place(struct sim_ex_call *c, const struct sim_order_req *r,
                             struct sim_order **out);

/* The account's order by client id or (client_id NULL) by order id, on symbol when not NULL. */
struct sim_order *sim_ex_find(struct sim_ex_call *c, const char *symbol, const char *client_id,
                              const char *order_id);

/* Cancel an open order: SIM_EX_OK, or SIM_EX_NO_ORDER when it is no longer open. */
enum sim_ex_err sim_ex_cancel(struct sim_ex_call *c, struct sim_order *o);

/* The account's open orders on symbol (NULL: all), oldest first, in an arena array. */
size_t sim_ex_open_orders(struct sim_ex_call *c, const char *symbol, struct sim_order ***out);

/*
 * Up to limit (1..1000) candles of interval_ms of symbol into *out (arena), oldest first, the
 * newest opening at or before end_ms (0 or later than now: now, since no venue shows the
 * future), whole when it has closed. The newest may be the one still open. Returns the count, or -1 for an unknown symbol
 * or a bad interval.
 */
int sim_ex_candles(struct sim_ex_call *c, const char *symbol, int64_t interval_ms, int64_t end_ms,
                   size_t limit, struct sim_candle **out);

/* The market price of symbol now (c->now_ms). */
int sim_ex_price(struct sim_ex_call *c, const char *symbol, struct q_dec *out);

/* Text of a decimal: canonical ("0.001") / fixed places ("0.00100000"), in the call's arena. */
const char *sim_ex_dec(struct sim_ex_call *c, struct q_dec d);
const char *sim_ex_dec_fixed(struct sim_ex_call *c, struct q_dec d, int places);

/* Parse a decimal parameter: 0, or -1 when absent or malformed (a BAD_PARAM for the caller). */
int sim_ex_parse_dec(const char *s, struct q_dec *out);

/* Answer j (stolen) with status; a NULL j (a failed json_pack) answers 500. Returns 0. */
int sim_ex_json(struct sim_ex_call *c, int status, json_t *j);

/* HMAC-SHA256 of msg under the account's secret, as lowercase hex (65) or base64 (45). */
void sim_ex_hmac_hex(char out[65], const struct sim_account *a, const void *msg, size_t len);
void sim_ex_hmac_b64(char out[64], const struct sim_account *a, const void *msg, size_t len);

/* The canonical name of an order status for /_sim/orders. */
const char *sim_ex_status_name(enum sim_status s);

#endif
