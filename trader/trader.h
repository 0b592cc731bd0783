/*
 * quantor-trader internals (DESIGN.md section 12). main.c parses the command line, takes the
 * host lock and runs ticks; tick.c is one tick, phase by phase; paper.c and live.c turn a bot's
 * target position into fills (simulated) or orders (on the venue); reconcile.c settles LIVE
 * orders whose outcome is not known yet.
 */
#ifndef Q_TRADER_H
#define Q_TRADER_H

#include <stddef.h>

#include "q_arena.h"
#include "q_audit.h"
#include "q_backtest.h"
#include "q_ctx.h"
#include "q_db.h"
#include "q_decimal.h"
#include "q_exchange.h"
#include "q_ledger.h"
#include "q_outbox.h"
#include "q_regime.h"
#include "q_strategy.h"
#include "q_vault.h"

#define TR_BATCH 200         /* bots claimed per transaction */
#define TR_MAX_MARKETS 256   /* distinct (exchange, symbol, interval) per tick */
#define TR_HISTORY 300       /* closed candles kept per market for the strategies */
#define TR_SETTLE_AFTER_S 30 /* a LIVE order in flight this long without an answer is queried */
#define TR_MAX_ATTEMPTS 5    /* sends of one intent before it is given up as rejected */

/* One (exchange, symbol, interval) the running bots trade, loaded once per tick. */
struct tr_market {
	char exchange[12];
	char symbol[33];
	char interval[9];
	long long interval_ms;
	struct q_bar *bars; /* closed candles, oldest first, in the tick's arena */
	size_t n;
	struct q_exchange_rules rules;
	int ok; /* 0: the data could not be loaded this tick; its bots wait */
};

struct tr_stats {
	int markets, bots_seen, bots_stepped, paper_fills, live_orders, live_settled, halted;
	int errors;
};

struct trader {
	struct q_ctx ctx;
	struct q_db *db;
	struct q_vault vault; /* the private half: LIVE keys are opened here */
	int have_vault;
	struct q_fill_model fill; /* PAPER's model: [trader] fee_bps, slippage_bps */
	char host[128];
	char digest[65]; /* SHA-256 of this binary, for the heartbeat and /api/v1/identity */
	struct q_exchange *pub[8]; /* one unauthenticated client per venue, kept across ticks */
	struct q_tg_api tg;
	int have_tg;
	struct q_audit_conf audit; /* with the checkpoint signing key, when configured */
	int have_audit;
	struct q_http *tg_http;
	/* Per tick. */
	struct q_arena *a;
	long long now_ms;
	int live_on;
	struct q_regime_snapshot regime;
	struct tr_market markets[TR_MAX_MARKETS];
	size_t nmarkets;
	struct tr_stats st;
};

/*
 * What a tick changes of one claimed bot, kept in memory and written for the whole batch at
 * once (tr_batch_flush): its position (PAPER fills), today's P&L, an equity point and its
 * strategy state. Rows of a claimed bot are only written under its lock, so the copy is exact.
 */
struct tr_slot {
	struct q_position pos; /* as loaded, then moved by PAPER fills */
	int pos_dirty;
	struct q_dec realized_today; /* realized by this tick's fills */
	int marked;
	struct q_dec unrealized, equity;
	long long mark_us;
	int stepped;
	char *state; /* the strategy's new state, JSON text in the tick's arena */
	long long newest_ms;
	/* A PAPER order filled this tick (ordered 1), written with the batch. */
	int ordered;
	int side;
	char cid[Q_EX_CLIENT_ID_LEN + 1];
	struct q_dec qty, price, fee;
	long long order_us; /* the candle's close: when the simulated order was placed and filled */
	const char *fee_asset;
};

/* A bot as a tick claims it. */
struct tr_bot {
	struct tr_slot *slot;
	long long id, user_id, key_id;
	char exchange[12], strategy[24], symbol[33], interval[9], mode[16];
	char notional[48];
	char *params, *state;   /* JSON text, arena */
	long long last_open_ms; /* 0: none processed yet */
};

int tr_init(struct trader *t, const char *config, struct q_err *err);
void tr_release(struct trader *t);

/* One tick. 0, or -1 when it could not run at all (the database is down). */
int tr_tick(struct trader *t, struct q_err *err);

/* The public client for a venue (created on first use). NULL with err for an unknown venue. */
struct q_exchange *tr_public(struct trader *t, const char *exchange, struct q_err *err);
struct tr_market *tr_market(struct trader *t, const char *exchange, const char *symbol,
                            const char *interval);

/* A decimal of at most 18 places nearest to the double v: for prices out of the strategies. */
struct q_dec tr_dec(double v, int places);

/*
 * The order that moves pos toward target at close: *side +1 buy / -1 sell with *qty, or 0 when
 * the change is under one lot or the minimum notional. Never buys with more than the cash left.
 */
int tr_size_order(const struct tr_market *m, struct q_dec notional, const struct q_position *pos,
                  double target, struct q_dec close, int *side, struct q_dec *qty,
                  struct q_err *err);
/* The newest close of m on its tick grid. */
struct q_dec tr_close(const struct tr_market *m);

/* PAPER: move the bot to target at the close of m's newest candle (in the open transaction). */
int tr_paper_step(struct trader *t, const struct tr_bot *b, const struct tr_market *m,
                  double target, struct q_err *err);

/*
 * LIVE: in the open transaction, decide the order that moves the bot toward target and write
 * it as an intent (committed before anything is sent). *order_id gets the intent's id, 0 when
 * there is nothing to do; *halt is set when the bot must halt with that reason.
 */
int tr_live_decide(struct trader *t, const struct tr_bot *b, const struct tr_market *m,
                   double target, long long *order_id, const char **halt, struct q_err *err);

/* LIVE: send the intents written this tick, then settle every order in flight. */
int tr_live_send(struct trader *t, const long long *ids, size_t n, struct q_err *err);
int tr_live_settle(struct trader *t, struct q_err *err);
/* LIVE: cancel the open orders of bots no longer running, and of every LIVE bot when LIVE is
 * off (those halt with LIVE_DISABLED). */
int tr_live_cancel(struct trader *t, struct q_err *err);

/* Load the claimed bots' positions into their slots (one query). */
int tr_batch_load(struct trader *t, struct tr_bot *bots, size_t n, struct q_err *err);
/* Mark b to market at the close of m in its slot (no database round trip). */
int tr_mark(const struct tr_bot *b, const struct tr_market *m, struct q_err *err);
/* Write every slot of the batch: positions, daily P&L, equity points, bot states. */
int tr_batch_flush(struct trader *t, struct tr_bot *bots, size_t n, struct q_err *err);

/*
 * Halt a bot with reason inside the open transaction: status halted, halt_reason, and
 * "bot.halted" in the audit chain.
 */
int tr_halt(struct trader *t, long long bot_id, long long user_id, const char *mode,
            const char *reason, struct q_err *err);

/* Daily key re-verification when it is due (once per UTC day). */
int tr_keys_daily(struct trader *t, struct q_err *err);

#endif
