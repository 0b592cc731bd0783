/*
 * q_plans: the plan catalog, defined here once (DESIGN.md section 7). The plans table and
 * GET /api/v1/plans are derived from this table; the risk gates read their limits from it.
 *
 *   plan     price/mo  paper  live  live strategies  advanced  max notional  daily loss  bots
 *   FREE     $0        yes    no    none             no        -             1 %         1
 *   STARTER  $19       yes    yes   EMA              no        $250          2 %         3
 *   PRO      $49       yes    yes   all              yes       $5,000        5 %         10
 *   TEAMS    $149      yes    yes   all              yes       $25,000       10 %        50
 *
 * Amounts are exact decimal strings (USD); the daily loss limit is a percentage of the equity
 * the user's bots started the UTC day with.
 */
#ifndef Q_PLANS_H
#define Q_PLANS_H

#include <jansson.h>
#include <stddef.h>

#include "q_db.h"
#include "q_err.h"

struct q_plan {
	const char *id;             /* "FREE", "STARTER", "PRO", "TEAMS" */
	const char *name;           /* for people */
	const char *price_usd;      /* per month, exact decimal string */
	int paper;                  /* PAPER bots allowed */
	int live;                   /* LIVE bots allowed */
	int live_ema_only;          /* LIVE only with the EMA strategy (STARTER) */
	int advanced;               /* advanced strategies and LIVE_ADVANCED mode */
	const char *max_notional;   /* USD per LIVE bot, exact decimal string; NULL when no LIVE */
	const char *daily_loss_pct; /* daily loss limit, percent of the day's starting equity */
	int max_bots;               /* bots running (or halted) at once */
};

/* The catalog in display order; *n gets its length. Never fails. */
const struct q_plan *q_plans_all(size_t *n);

/* The plan with this id (exact, upper case), or NULL (also for a NULL id). */
const struct q_plan *q_plan_get(const char *id);

/* 1 for a plan with a price above zero (it needs an active subscription), else 0. */
int q_plan_is_paid(const struct q_plan *p);

/* "none", "EMA" or "all": the strategies the plan may run LIVE. */
const char *q_plan_live_strategies(const struct q_plan *p);

/*
 * The plan as the API shows it, a new reference:
 *   {"id","name","price_usd_month":"19","paper","live","live_strategies":"EMA","advanced",
 *    "max_notional_usd":"250"|null,"daily_loss_pct":"2","max_bots":3}
 */
json_t *q_plan_json(const struct q_plan *p);

/* {"plans":[q_plan_json, ...]} in catalog order, a new reference. */
json_t *q_plans_json(void);

/*
 * Make the plans table equal to the catalog in one transaction: every plan inserted or updated,
 * rows for plans no longer in the catalog deleted. Idempotent (`quantorctl migrate` runs it on
 * every run). db must be allowed to write plans (the migration owner). 0, or -1 with a q_db
 * error.
 */
int q_plans_seed(struct q_db *db, struct q_err *err);

/*
 * Check that the plans table equals the catalog (Pulse's plan.catalog). 0 when it does, -1 with
 * Q_E_INTERNAL naming the first plan and column that differ (or the missing / extra row), or a
 * q_db error.
 */
int q_plans_check(struct q_db *db, struct q_err *err);

#endif
