/*
 * q_ledger: what a bot owns and what it made, in exact decimals (DESIGN.md section 5): fills,
 * the position (spot only: quantity and average entry), realized and unrealized profit and
 * loss per UTC day, and the equity curve. PAPER and LIVE fills go through the same code.
 *
 * A bot's equity is its notional (the quote amount it was given) + every realized P&L (fees
 * included, as losses) + the open position marked at the last close. Every function here runs
 * inside the caller's open transaction (q_db_tx), so a fill, its order and the position move
 * together or not at all.
 */
#ifndef Q_LEDGER_H
#define Q_LEDGER_H

#include <jansson.h>

#include "q_db.h"
#include "q_decimal.h"
#include "q_err.h"

struct q_position {
	struct q_dec qty;       /* base units, >= 0 */
	struct q_dec avg_entry; /* quote per base unit; 0 when flat */
	struct q_dec realized;  /* since the bot started, fees included */
};

struct q_fill {
	long long order_id; /* orders.id */
	long long bot_id;
	long long user_id;
	const char *trade_id; /* the venue's trade id, or a synthetic one for PAPER */
	int side;             /* +1 buy, -1 sell */
	struct q_dec qty;     /* base units, > 0 */
	struct q_dec price;   /* quote per base unit, > 0 */
	struct q_dec fee;     /* in the quote asset, >= 0 */
	const char *fee_asset;
	long long ts_us;
};

/*
 * The position math of one fill, in memory: a buy moves the average entry, a sell realizes
 * qty * (price - avg_entry); the fee is a realized loss. *pnl gets this fill's realized P&L.
 * A sell of more than p holds is Q_E_INTERNAL. 0 or -1 (p unchanged on -1).
 */
int q_ledger_apply(struct q_position *p, int side, struct q_dec qty, struct q_dec price,
                   struct q_dec fee, struct q_dec *pnl, struct q_err *err);

/* The bot's position (all zero when it never traded). 0 or -1. */
int q_ledger_position(struct q_db *db, long long bot_id, struct q_position *p, struct q_err *err);

/*
 * Record a fill: the fills row (unique on order and trade id: a fill already recorded changes
 * nothing and sets *dup), the position (a buy moves the average entry, a sell realizes
 * qty * (price - avg_entry)), the fee as a realized loss, today's realized P&L, and the order's
 * filled quantity, average price and fee. A sell of more than the position is Q_E_INTERNAL.
 * 0 or -1.
 */
int q_ledger_fill(struct q_db *db, const struct q_fill *f, int *dup, struct q_err *err);

/*
 * A bot's history as the API shows it, newest first, at most limit (1..1000) rows: its orders
 * ({"orders":[{"id","client_order_id","mode","side","type","qty","price","state","filled_qty",
 * "avg_price","fee","fee_asset","created_at"}]}), its fills ({"trades":[{"order_id","qty",
 * "price","fee","fee_asset","time"}]}) and its equity curve ({"equity":[{"time","equity"}]},
 * oldest first). Amounts are decimal strings. *out gets a new reference. -1 with Q_E_NOT_FOUND
 * when user_id has no such bot.
 */
int q_ledger_orders_json(struct q_db *db, long long user_id, long long bot_id, int limit,
                         json_t **out, struct q_err *err);
int q_ledger_trades_json(struct q_db *db, long long user_id, long long bot_id, int limit,
                         json_t **out, struct q_err *err);
int q_ledger_equity_json(struct q_db *db, long long user_id, long long bot_id, int limit,
                         json_t **out, struct q_err *err);

#endif
