/*
 * q_risk: the chain of risk gates a bot start passes (DESIGN.md section 7), one ordered table
 * of gate functions. PAPER runs gate 1 and PLAN_NO_PAPER only; LIVE and LIVE_ADVANCED run all
 * fourteen, in order, and stop at the first refusal, which is a policy error carrying the risk
 * code, the gate number and a message for people (served as 403).
 *
 * The gates are pure: they judge a struct q_risk_input that the caller fills (from the
 * database for a start, from the trader's own view before each LIVE order), so every gate and
 * its boundaries are tested without a database.
 */
#ifndef Q_RISK_H
#define Q_RISK_H

#include <stddef.h>

#include "q_decimal.h"
#include "q_err.h"
#include "q_plans.h"

enum q_bot_mode { Q_MODE_PAPER, Q_MODE_LIVE, Q_MODE_LIVE_ADVANCED };

struct q_risk_input {
	/* The bot. */
	enum q_bot_mode mode;
	const char *symbol;
	const char *strategy;  /* strategy id, e.g. "EMA" */
	int strategy_advanced; /* from the strategy registry */
	struct q_dec notional; /* USD the bot may commit */
	/* The market and the runtime switches. */
	const char *regime;         /* CALM, NORMAL, VOLATILE, DANGEROUS or UNKNOWN */
	int live_enabled;           /* the kill switch */
	int allowlisted;            /* the user is in the LIVE allowlist */
	const char *const *symbols; /* trading.symbols: the liquid pairs */
	size_t nsymbols;
	/* The user. */
	const struct q_plan *plan;
	const char *subscription_status; /* NULL when none: "active", "on_trial", "past_due"... */
	long long subscription_end_us;   /* current_period_end */
	long long now_us;
	int frozen;
	long long running_bots; /* the user's running bots, not counting this one */
	int telegram_linked;
	/* The exchange key the bot trades with. */
	int key_present;
	int key_verified;
	int key_can_withdraw;
	/* Today (UTC). */
	struct q_dec loss_today;   /* realized + unrealized loss so far, positive; 0 when up */
	struct q_dec equity_start; /* the equity the day started with */
};

typedef int (*q_gate_fn)(const struct q_risk_input *in, struct q_err *err);

struct q_gate {
	int number; /* 1..14; 0 for PLAN_NO_PAPER, which only PAPER runs */
	const char *name;
	q_gate_fn fn;
	unsigned modes; /* 1 << enum q_bot_mode for each mode that runs it */
};

/* The chain in order. */
const struct q_gate *q_risk_gates(size_t *n);

/*
 * Run the chain for in->mode. 0 when every gate passes, else -1 with the first refusal: its
 * policy code (q_err_gate() gives the gate number) and a message.
 */
int q_risk_check(const struct q_risk_input *in, struct q_err *err);

/* The gates the trader re-checks before every LIVE order: 2, 3, 13 and 14. */
int q_risk_check_order(const struct q_risk_input *in, struct q_err *err);

/* "PAPER", "LIVE", "LIVE_ADVANCED" <-> the enum; -1 for an unknown name. */
int q_bot_mode_parse(const char *s);
const char *q_bot_mode_name(enum q_bot_mode m);

#endif
