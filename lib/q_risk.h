/*
 * q_risk: the chain of risk gates a bot start passes (DESIGN.md section 7), one ordered table
 * of gate functions, in exactly DESIGN's order:
 *
 *    1 SYMBOL_NOT_ALLOWED      symbol not in [trading] symbols            PAPER and LIVE
 *      PLAN_NO_PAPER           the plan has no paper trading              PAPER only
 *    2 REGIME_DANGEROUS        regime DANGEROUS or UNKNOWN (fail closed)  LIVE
 *    3 LIVE_DISABLED           the kill switch is off                     LIVE
 *    4 USER_NOT_ALLOWLISTED    user not on the LIVE allowlist             LIVE
 *    5 ZERO_NOTIONAL           notional <= 0                              LIVE
 *    6 SUBSCRIPTION_INACTIVE   paid plan without an active, current one   LIVE
 *    7 ACCOUNT_FROZEN          the account is frozen                      LIVE
 *      BOT_LIMIT_REACHED       bots running or halted at the plan's limit LIVE
 *    8 PLAN_NO_LIVE            no LIVE in the plan; STARTER with non-EMA  LIVE
 *    9 ADVANCED_NOT_ALLOWED    LIVE_ADVANCED or an advanced strategy      LIVE
 *                              without the plan feature
 *   10 TELEGRAM_NOT_LINKED     the bot chat was never started             LIVE
 *   11 STRATEGY_NOT_PERMITTED  an advanced strategy in plain LIVE mode    LIVE
 *   12 KEYS_NOT_VERIFIED       no key, not verified, or it can withdraw   LIVE
 *   13 MAX_NOTIONAL_EXCEEDED   notional above the plan's cap              LIVE
 *   14 DAILY_LOSS_LIMIT        today's loss at or above the plan's limit  LIVE
 *
 * (LIVE means LIVE and LIVE_ADVANCED.) The chain stops at the first refusal: a policy error
 * whose code carries its gate number (q_err_gate; PLAN_NO_PAPER has none) and whose message
 * is for people. The API serves it as 403
 *   {"error":{"code":"MAX_NOTIONAL_EXCEEDED","kind":"policy","gate":13,"message":"..."}}.
 *
 * The gates are pure: they judge a struct q_risk_input that the caller fills (q_bots_start
 * from the database, the trader from its own view before each LIVE order), so each gate and
 * its boundaries are tested without a database (tests/unit/t_risk.c).
 */
#ifndef Q_RISK_H
#define Q_RISK_H

#include <stddef.h>

#include "q_config.h"
#include "q_decimal.h"
#include "q_err.h"
#include "q_plans.h"

enum q_bot_mode { Q_MODE_PAPER, Q_MODE_LIVE, Q_MODE_LIVE_ADVANCED };

struct q_risk_input {
	/* The bot. */
	enum q_bot_mode mode;
	const char *symbol;
	const char *strategy;  /* strategy id, e.g. "EMA" */
	int strategy_advanced; /* from the strategy registry (q_strategy.h) */
	struct q_dec notional; /* USD the bot may commit */
	/* The market and the runtime switches. */
	const char *regime; /* CALM, NORMAL, VOLATILE, DANGEROUS or UNKNOWN; NULL: UNKNOWN */
	int live_enabled;   /* the kill switch */
	int allowlisted;    /* the user is on the LIVE allowlist */
	const char *const *symbols; /* [trading] symbols: the liquid pairs */
	size_t nsymbols;
	/* The user. */
	const struct q_plan *plan;       /* NULL reads as a plan without paper or LIVE */
	const char *subscription_status; /* NULL when none: "active", "on_trial", "past_due"... */
	long long subscription_end_us;   /* current_period_end, us since the epoch (UTC) */
	long long now_us;
	int frozen;
	long long running_bots; /* the user's bots running or halted, not counting this one */
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

/* The chain in order; *n gets its length (15: the fourteen and PLAN_NO_PAPER). */
const struct q_gate *q_risk_gates(size_t *n);

/*
 * Run the chain for in->mode. 0 when every gate passes, else -1 with the first refusal: its
 * policy code (q_err_gate() gives the gate number) and a message for the user.
 */
int q_risk_check(const struct q_risk_input *in, struct q_err *err);

/* The gates the trader re-checks before every LIVE order, in order: 2, 3, 13 and 14. */
int q_risk_check_order(const struct q_risk_input *in, struct q_err *err);

/* "PAPER", "LIVE", "LIVE_ADVANCED" <-> the enum; -1 for an unknown (or lower-case) name. */
int q_bot_mode_parse(const char *s);
const char *q_bot_mode_name(enum q_bot_mode m);

/* ---- [trading] symbols: what gate 1 allows ------------------------------------------------ */

#define Q_RISK_MAX_SYMBOLS 64
#define Q_RISK_SYMBOL_MAX 32
/* Without [trading] symbols only the two deepest markets trade. */
#define Q_RISK_DEFAULT_SYMBOLS "BTCUSDT, ETHUSDT"

struct q_risk_symbols {
	char buf[Q_RISK_MAX_SYMBOLS][Q_RISK_SYMBOL_MAX + 1];
	const char *v[Q_RISK_MAX_SYMBOLS]; /* into buf: in->symbols */
	size_t n;
};

/* 1 when s looks like a symbol: 2 to 32 characters of A-Z and 0-9 ("BTCUSDT"). */
int q_risk_symbol_valid(const char *s);

/*
 * Load [trading] symbols (separated by commas or spaces; default Q_RISK_DEFAULT_SYMBOLS) into
 * s. 0, or -1 with Q_E_CONFIG for an empty list, more than Q_RISK_MAX_SYMBOLS, or a name that
 * is not q_risk_symbol_valid.
 */
int q_risk_symbols_load(struct q_risk_symbols *s, const struct q_config *cfg, struct q_err *err);

/* 1 when symbol is in s (exact, case-sensitive), else 0. */
int q_risk_symbols_has(const struct q_risk_symbols *s, const char *symbol);

#endif
