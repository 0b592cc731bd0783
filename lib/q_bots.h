/*
 * q_bots: a user's bots as the bot chat and the API see them. Stopping is always allowed and
 * is recorded in the audit chain; LIVE open orders of a stopped bot are cancelled by the
 * trader on its next tick.
 */
#ifndef Q_BOTS_H
#define Q_BOTS_H

#include <stddef.h>

#include "q_arena.h"
#include "q_db.h"
#include "q_err.h"

struct q_bot {
	long long id;
	char exchange[12];
	char strategy[24];
	char symbol[33];
	char interval[9];
	char mode[16];
	char status[12];
	char notional[48]; /* exact decimal, as stored */
	char halt_reason[65];
};

/* The user's bots (not deleted), newest first, at most max. 0 or -1. */
int q_bots_list(struct q_db *db, struct q_arena *a, long long user_id, size_t max,
                struct q_bot **out, size_t *n, struct q_err *err);

/*
 * Stop the user's bot bot_id (running or halted -> stopped), appending "bot.stopped" with
 * actor and via ("telegram", "api") to the audit chain in the same transaction. *was_active
 * is 0 when it was already stopped (nothing changes). -1 with Q_E_NOT_FOUND when the user has
 * no such bot.
 */
int q_bots_stop(struct q_db *db, long long user_id, long long bot_id, const char *actor,
                const char *via, int *was_active, struct q_err *err);

/* Stop every running or halted bot of the user, each audited; *stopped counts them. */
int q_bots_stop_all(struct q_db *db, long long user_id, const char *actor, const char *via,
                    int *stopped, struct q_err *err);

/* Running bots of the user. 0 or -1. */
int q_bots_count_running(struct q_db *db, long long user_id, long long *n, struct q_err *err);

/*
 * Today's (UTC) profit and loss of the user's bots, realized + unrealized, and the equity they
 * started the day with, as exact decimal strings ("0" when nothing traded). 0 or -1.
 */
int q_bots_pnl_today(struct q_db *db, long long user_id, char pnl[48], char equity_start[48],
                     struct q_err *err);

#endif
