/*
 * q_plans: the plan catalog, defined here once (DESIGN.md section 7). The database copy and
 * GET /api/v1/plans are derived from this table; the risk gates read their limits from it.
 */
#ifndef Q_PLANS_H
#define Q_PLANS_H

#include <jansson.h>
#include <stddef.h>

struct q_plan {
	const char *id;             /* "FREE", "STARTER", "PRO", "TEAMS" */
	const char *name;           /* for people */
	int price_usd;              /* per month, whole dollars */
	int paper;                  /* PAPER bots allowed */
	int live;                   /* LIVE bots allowed */
	int live_ema_only;          /* LIVE only with the EMA strategy (STARTER) */
	int advanced;               /* advanced strategies and LIVE_ADVANCED mode */
	const char *max_notional;   /* USD per bot, exact decimal string; NULL when no LIVE */
	const char *daily_loss_pct; /* daily loss limit, percent of the day's starting equity */
	int max_bots;               /* running bots at once */
};

/* The catalog in display order; *n gets its length. */
const struct q_plan *q_plans_all(size_t *n);

/* The plan with this id, or NULL. */
const struct q_plan *q_plan_get(const char *id);

/* The plan as the API shows it: {"id","name","price_usd_month","paper","live",...}. New ref. */
json_t *q_plan_json(const struct q_plan *p);

#endif
