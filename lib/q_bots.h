/*
 * q_bots: a user's bots as the API and the bot chat see them: create, list, show, start (the
 * risk gates), stop and delete. A bot belongs to one user; another user's bot reads as
 * Q_E_NOT_FOUND everywhere, exactly as a bot that does not exist.
 *
 * Lifecycle (bots.status):
 *   stopped --start (every gate passes)--> running --stop--> stopped
 *   running --the trader (daily loss, LIVE_DISABLED, key)--> halted --stop--> stopped
 *   halted --start (every gate passes again)--> running
 * Only a stopped bot can be deleted (Q_E_CONFLICT otherwise). A deleted bot keeps its row
 * (bots.deleted_at) because its orders, fills and daily P&L are history.
 *
 * Stopping is always allowed, by the user through the API (POST /bots/{id}/stop) or the bot
 * chat (/stop, /stopall), and takes effect at once: the status is 'stopped' when the call
 * returns, so the trader claims the bot no more (it only steps running bots) and sends no new
 * order for it. Open LIVE orders are not cancelled here (the API cannot open the exchange key);
 * the trader cancels the open orders of every bot whose status is no longer 'running' on its
 * next tick (tr_live_cancel). The status is the flag: there is no other.
 *
 * Every change appends to the audit chain in the same transaction: "bot.created",
 * "bot.started", "bot.refused" {code, gate}, "bot.stopped", "bot.deleted"; actor as in
 * q_audit.h ("user:<id>" for the API).
 */
#ifndef Q_BOTS_H
#define Q_BOTS_H

#include <jansson.h>
#include <stddef.h>

#include "q_arena.h"
#include "q_config.h"
#include "q_db.h"
#include "q_err.h"
#include "q_risk.h"

#define Q_BOTS_MAX_LIST 1000 /* bots a list returns at most */

struct q_bot {
	long long id;
	long long user_id;
	long long exchange_key_id; /* 0 when none (PAPER, or the key was deleted) */
	char exchange[12];
	char strategy[24];
	char symbol[33];
	char interval[9];
	char mode[16];
	char status[12];
	char notional[48]; /* exact decimal, canonical ("100", "0.5") */
	char halt_reason[65];
	const char *params;        /* JSON object text as stored, arena-owned; NULL from q_bots_list
	                         * without an arena */
	long long halted_until_us; /* 0 when none */
	long long started_us;      /* last start, 0 when never */
	long long created_us;
};

/* The candle intervals a bot may run on: 1m, 5m, 15m, 1h, 4h, 1d. 1 when s is one. */
int q_bots_interval_valid(const char *s);

/* What a user asks for when creating a bot (POST /api/v1/bots). */
struct q_bot_spec {
	const char *strategy;      /* a strategy id (q_strategy_lookup) */
	const json_t *params;      /* a JSON object, or NULL for the strategy's defaults */
	const char *symbol;        /* in [trading] symbols */
	const char *interval;      /* q_bots_interval_valid */
	const char *mode;          /* "PAPER" (NULL reads as it), "LIVE", "LIVE_ADVANCED" */
	const char *notional;      /* exact decimal string > 0, at most 18 integer digits */
	const char *exchange;      /* binance, okx, bybit, bitget; NULL: the key's, or binance */
	long long exchange_key_id; /* the user's key; 0 for none (required for LIVE modes) */
};

/*
 * Create a stopped bot for user_id after checking spec: every field's shape (Q_E_BAD_REQUEST
 * naming it: "strategy", "params.<name>" as q_strategy_config_init reports it, "params",
 * "interval", "mode", "notional", "exchange", "exchange_key_id"), the symbol against
 * [trading] symbols of cfg (Q_E_SYMBOL_NOT_ALLOWED: gate 1 refuses it now rather than at every
 * start; a malformed symbol is Q_E_BAD_REQUEST "symbol"), and the key: it must be the user's,
 * on the bot's exchange (exchange defaults to the key's), and is required for LIVE and
 * LIVE_ADVANCED. The parameters are stored normalized (defaults filled in). Appends
 * "bot.created" in the same transaction. *out gets the stored bot (params in arena a).
 * 0 or -1 (also Q_E_CONFLICT when the user already has Q_BOTS_MAX_LIST bots, Q_E_CONFIG for a
 * broken [trading] symbols, or a q_db error).
 */
int q_bots_create(struct q_db *db, const struct q_config *cfg, struct q_arena *a, long long user_id,
                  const char *actor, const struct q_bot_spec *spec, struct q_bot *out,
                  struct q_err *err);

/* The user's bot bot_id (not deleted) into *out, params in arena a. -1 with Q_E_NOT_FOUND. */
int q_bots_get(struct q_db *db, struct q_arena *a, long long user_id, long long bot_id,
               struct q_bot *out, struct q_err *err);

/*
 * The user's bots (not deleted), newest first, at most max, into an arena-owned array. Each
 * bot's params is set too. 0 or -1.
 */
int q_bots_list(struct q_db *db, struct q_arena *a, long long user_id, size_t max,
                struct q_bot **out, size_t *n, struct q_err *err);

/*
 * Start the user's bot bot_id: in one transaction that locks the user's row (so two starts
 * cannot both take the last slot under the bot limit) and the bot's, read everything the
 * gates judge (q_bots_risk_input) and run the chain for the bot's mode (q_risk_check). When
 * every gate passes the bot becomes running (started_at now, any halt cleared) and
 * "bot.started" {bot_id, mode, strategy, symbol, notional} is appended; when one refuses,
 * "bot.refused" {bot_id, mode, code, gate} is appended and committed, and -1 is returned with
 * that policy error (its code, gate and message). Other errors: Q_E_NOT_FOUND, Q_E_CONFLICT
 * (already running), Q_E_CONFIG ([trading] symbols), q_db errors.
 */
int q_bots_start(struct q_db *db, const struct q_config *cfg, long long user_id, long long bot_id,
                 const char *actor, struct q_err *err);

/*
 * Everything the risk gates judge about one bot, read from the database: the storage behind
 * in's pointers. bot must be a row of user_id just read (q_bots_get). The regime is that of
 * [regime] symbol (default BTCUSDT) through q_regime_latest; the kill switch and the allowlist
 * come from q_settings; the subscription is the newest one for the user's current plan; the
 * running bots are the user's running or halted bots other than this one; the key is the bot's
 * (verified, and able to withdraw when the permissions the venue last reported mention
 * withdrawal in any venue's spelling); today's loss is minus today's P&L of all the user's bots
 * when it is negative (q_bots_pnl_today). now_us is the local clock. 0 or -1.
 */
struct q_risk_facts {
	struct q_risk_input in;
	struct q_risk_symbols symbols;
	char regime[12];
	char subscription_status[16];
	char plan[16];
};
int q_bots_risk_input(struct q_db *db, const struct q_config *cfg, long long user_id,
                      const struct q_bot *bot, struct q_risk_facts *f, struct q_err *err);

/*
 * Stop the user's bot bot_id (running or halted -> stopped), appending "bot.stopped" with
 * actor and via ("telegram", "api") to the audit chain in the same transaction. *was_active
 * (optional) is 0 when it was already stopped (nothing changes, nothing is appended). -1 with
 * Q_E_NOT_FOUND when the user has no such bot. See the header comment for open LIVE orders.
 */
int q_bots_stop(struct q_db *db, long long user_id, long long bot_id, const char *actor,
                const char *via, int *was_active, struct q_err *err);

/* Stop every running or halted bot of the user, each audited; *stopped counts them. */
int q_bots_stop_all(struct q_db *db, long long user_id, const char *actor, const char *via,
                    int *stopped, struct q_err *err);

/*
 * Delete the user's stopped bot bot_id (bots.deleted_at; the row and its history stay),
 * appending "bot.deleted". -1 with Q_E_NOT_FOUND, or Q_E_CONFLICT when it is running or halted
 * (stop it first).
 */
int q_bots_delete(struct q_db *db, long long user_id, long long bot_id, const char *actor,
                  struct q_err *err);

/* Running bots of the user (status 'running'). 0 or -1. */
int q_bots_count_running(struct q_db *db, long long user_id, long long *n, struct q_err *err);

/*
 * Today's (UTC) profit and loss of the user's bots, realized + unrealized, and the equity they
 * started the day with, as exact decimal strings ("0" when nothing traded). 0 or -1.
 */
int q_bots_pnl_today(struct q_db *db, long long user_id, char pnl[48], char equity_start[48],
                     struct q_err *err);

#endif
