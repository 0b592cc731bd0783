#include "q_plans.h"

#include <stdio.h>
#include <string.h>

#include "q_decimal.h"

/* The source of truth (DESIGN.md section 7). The order is the display order. */
static const struct q_plan plans[] = {
        {"FREE", "Free", "0", 1, 0, 0, 0, NULL, "1", 1},
        {"STARTER", "Starter", "19", 1, 1, 1, 0, "250", "2", 3},
        {"PRO", "Pro", "49", 1, 1, 0, 1, "5000", "5", 10},
        {"TEAMS", "Teams", "149", 1, 1, 0, 1, "25000", "10", 50},
};

#define NPLANS (sizeof(plans) / sizeof(plans[0]))

const struct q_plan *
q_plans_all(size_t *n)
{
	*n = NPLANS;
	return plans;
}

const struct q_plan *
q_plan_get(const char *id)
{
	for (size_t i = 0; id && i < NPLANS; i++)
		if (strcmp(plans[i].id, id) == 0)
			return &plans[i];
	return NULL;
}

int
q_plan_is_paid(const struct q_plan *p)
{
	struct q_dec price;

	return q_dec_parse_str(&price, p->price_usd, NULL) == 0 && q_dec_sign(price) > 0;
}

const char *
q_plan_live_strategies(const struct q_plan *p)
{
	return !p->live ? "none" : p->live_ema_only ? "EMA" : "all";
}

json_t *
q_plan_json(const struct q_plan *p)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:b, s:s, s:b, s:o, s:s, s:i}", "id", p->id, "name",
	                 p->name, "price_usd_month", p->price_usd, "paper", p->paper, "live",
	                 p->live, "live_strategies", q_plan_live_strategies(p), "advanced",
	                 p->advanced, "max_notional_usd",
	                 p->max_notional ? json_string(p->max_notional) : json_null(),
	                 "daily_loss_pct", p->daily_loss_pct, "max_bots", p->max_bots);
}

json_t *
q_plans_json(void)
{
	json_t *list = json_array();

	for (size_t i = 0; i < NPLANS; i++)
		json_array_append_new(list, q_plan_json(&plans[i]));
	return json_pack("{s:o}", "plans", list);
}

/* ---- the database copy ------------------------------------------------------------------- */

static const char sql_upsert[] =
        "INSERT INTO plans (id, position, name, price_usd_month, paper, live, live_strategies, "
        "advanced, max_notional_usd, daily_loss_pct, max_bots) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
        "position = VALUES(position), name = VALUES(name), "
        "price_usd_month = VALUES(price_usd_month), paper = VALUES(paper), live = VALUES(live), "
        "live_strategies = VALUES(live_strategies), advanced = VALUES(advanced), "
        "max_notional_usd = VALUES(max_notional_usd), daily_loss_pct = VALUES(daily_loss_pct), "
        "max_bots = VALUES(max_bots)";
static const char sql_ids[] = "SELECT id FROM plans ORDER BY id";
static const char sql_delete[] = "DELETE FROM plans WHERE id = ?";
/* Decimals come back as canonical text: trailing zeros and a bare '.' trimmed in SQL. */
static const char sql_read[] =
        "SELECT id, position, name, "
        "TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM price_usd_month)), paper, live, "
        "live_strategies, advanced, "
        "COALESCE(TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM max_notional_usd)), ''), "
        "TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM daily_loss_pct)), max_bots "
        "FROM plans ORDER BY position, id";

static int
seed_tx(struct q_db *db, void *arg, struct q_err *err)
{
	char stale[NPLANS + 16][24];
	size_t nstale = 0;
	struct q_stmt *st;
	int r, rc = -1;

	(void)arg;
	for (size_t i = 0; i < NPLANS; i++) {
		const struct q_plan *p = &plans[i];

		if (q_db_exec(db, err, sql_upsert, "sismiisimmi", p->id, (long long)i, p->name,
		              p->price_usd, (long long)p->paper, (long long)p->live,
		              q_plan_live_strategies(p), (long long)p->advanced, p->max_notional,
		              p->daily_loss_pct, (long long)p->max_bots) < 0)
			return -1;
	}
	st = q_db_prepare(db, sql_ids, err);
	if (st == NULL || q_stmt_exec(st, err) < 0)
		goto out;
	while ((r = q_stmt_fetch(st, err)) == 1) {
		size_t len;
		const char *id = q_stmt_col_text(st, 0, &len);

		if (id && q_plan_get(id) == NULL && nstale < sizeof(stale) / sizeof(stale[0]))
			snprintf(stale[nstale++], sizeof(stale[0]), "%s", id);
	}
	if (r < 0)
		goto out;
	q_stmt_done(st);
	st = NULL;
	for (size_t i = 0; i < nstale; i++)
		if (q_db_exec(db, err, sql_delete, "s", stale[i]) < 0)
			goto out;
	rc = 0;
out:
	q_stmt_done(st);
	return rc;
}

int
q_plans_seed(struct q_db *db, struct q_err *err)
{
	return q_db_tx(db, seed_tx, NULL, err);
}

/* Compare one text column of a stored plan with the catalog's value. */
static int
same(const char *plan, const char *col, const char *db_value, const char *code_value,
     struct q_err *err)
{
	if (strcmp(db_value ? db_value : "", code_value ? code_value : "") == 0)
		return 0;
	return q_err_set(err, Q_E_INTERNAL, "plan %s: %s is \"%s\" in the database, \"%s\" in code",
	                 plan, col, db_value ? db_value : "", code_value ? code_value : "");
}

static int
same_int(const char *plan, const char *col, long long db_value, long long code_value,
         struct q_err *err)
{
	if (db_value == code_value)
		return 0;
	return q_err_set(err, Q_E_INTERNAL, "plan %s: %s is %lld in the database, %lld in code",
	                 plan, col, db_value, code_value);
}

int
q_plans_check(struct q_db *db, struct q_err *err)
{
	struct q_stmt *st = q_db_prepare(db, sql_read, err);
	size_t n = 0;
	int r, rc = -1;

	if (st == NULL || q_stmt_exec(st, err) < 0)
		goto out;
	while ((r = q_stmt_fetch(st, err)) == 1) {
		const char *id = q_stmt_col_text(st, 0, NULL);
		const struct q_plan *p = q_plan_get(id);

		if (p == NULL) {
			q_err_set(err, Q_E_INTERNAL, "plan %s is in the database but not in code",
			          id ? id : "");
			goto out;
		}
		if (same_int(p->id, "position", q_stmt_col_int64(st, 1), p - plans, err) < 0 ||
		    same(p->id, "name", q_stmt_col_text(st, 2, NULL), p->name, err) < 0 ||
		    same(p->id, "price_usd_month", q_stmt_col_text(st, 3, NULL), p->price_usd,
		         err) < 0 ||
		    same_int(p->id, "paper", q_stmt_col_int64(st, 4), p->paper, err) < 0 ||
		    same_int(p->id, "live", q_stmt_col_int64(st, 5), p->live, err) < 0 ||
		    same(p->id, "live_strategies", q_stmt_col_text(st, 6, NULL),
		         q_plan_live_strategies(p), err) < 0 ||
		    same_int(p->id, "advanced", q_stmt_col_int64(st, 7), p->advanced, err) < 0 ||
		    same(p->id, "max_notional_usd", q_stmt_col_text(st, 8, NULL), p->max_notional,
		         err) < 0 ||
		    same(p->id, "daily_loss_pct", q_stmt_col_text(st, 9, NULL), p->daily_loss_pct,
		         err) < 0 ||
		    same_int(p->id, "max_bots", q_stmt_col_int64(st, 10), p->max_bots, err) < 0)
			goto out;
		n++;
	}
	if (r < 0)
		goto out;
	if (n != NPLANS) {
		q_err_set(err, Q_E_INTERNAL,
		          "the database has %zu plans, code %zu: run quantorctl migrate", n,
		          (size_t)NPLANS);
		goto out;
	}
	rc = 0;
out:
	q_stmt_done(st);
	return rc;
}
