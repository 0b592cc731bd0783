#include <time.h>

#include "api.h"
#include "q_bots.h"
#include "q_json.h"
#include "q_plans.h"

static json_t *
nullable(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

/* GET /api/v1/me: who the caller is, their plan and limits, and where today stands. */
int
h_me_get(struct q_req *r)
{
	const struct q_user *u = &r->user;
	const struct q_plan *p = q_plan_get(u->plan);
	struct q_subscription sub;
	struct q_db *db = q_ctx_db(r->ctx, 0, &r->err);
	char pnl[48], eq[48], until[32];
	long long running = 0;
	json_t *jsub = json_null();

	if (p == NULL)
		return q_err_set(&r->err, Q_E_INTERNAL, "user %lld has unknown plan %s", u->id,
		                 u->plan);
	if (db == NULL || q_identity_subscription(db, u->id, &sub, &r->err) < 0 ||
	    q_bots_count_running(db, u->id, &running, &r->err) < 0 ||
	    q_bots_pnl_today(db, u->id, pnl, eq, &r->err) < 0)
		return -1;
	if (sub.found) {
		q_json_time_rfc3339(until, (time_t)(sub.current_period_end_us / 1000000));
		jsub = json_pack("{s:s, s:s, s:s, s:o}", "plan", sub.plan, "provider", sub.provider,
		                 "status", sub.status, "current_period_end",
		                 sub.current_period_end_us ? json_string(until) : json_null());
	}
	return q_reply(
	        r, 200,
	        json_pack(
	                "{s:{s:I, s:I, s:o, s:s, s:o, s:o, s:b}, s:o, s:o, s:b, s:{s:i, s:I, s:o, "
	                "s:s}, s:{s:s, s:s, s:s}}",
	                "user", "id", (json_int_t)u->id, "telegram_id", (json_int_t)u->telegram_id,
	                "username", nullable(u->username), "first_name", u->first_name, "last_name",
	                nullable(u->last_name), "language", nullable(u->language), "is_admin",
	                u->is_admin, "plan", q_plan_json(p), "subscription", jsub,
	                "telegram_linked", u->chat_id != 0, "limits", "max_bots", p->max_bots,
	                "running_bots", (json_int_t)running, "max_notional_usd",
	                nullable(p->max_notional), "daily_loss_pct", p->daily_loss_pct, "today",
	                "pnl", pnl, "equity_start", eq, "daily_loss_limit_pct", p->daily_loss_pct));
}
