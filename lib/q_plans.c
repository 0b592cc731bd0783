#include "q_plans.h"

#include <string.h>

static const struct q_plan plans[] = {
        {"FREE", "Free", 0, 1, 0, 0, 0, NULL, "1", 1},
        {"STARTER", "Starter", 19, 1, 1, 1, 0, "250", "2", 3},
        {"PRO", "Pro", 49, 1, 1, 0, 1, "5000", "5", 10},
        {"TEAMS", "Teams", 149, 1, 1, 0, 1, "25000", "10", 50},
};

const struct q_plan *
q_plans_all(size_t *n)
{
	*n = sizeof(plans) / sizeof(plans[0]);
	return plans;
}

const struct q_plan *
q_plan_get(const char *id)
{
	for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++)
		if (id && strcmp(plans[i].id, id) == 0)
			return &plans[i];
	return NULL;
}

json_t *
q_plan_json(const struct q_plan *p)
{
	return json_pack("{s:s, s:s, s:i, s:b, s:b, s:s, s:b, s:o, s:s, s:i}", "id", p->id, "name",
	                 p->name, "price_usd_month", p->price_usd, "paper", p->paper, "live",
	                 p->live, "live_strategies",
	                 !p->live           ? "none"
	                 : p->live_ema_only ? "EMA"
	                                    : "all",
	                 "advanced", p->advanced, "max_notional_usd",
	                 p->max_notional ? json_string(p->max_notional) : json_null(),
	                 "daily_loss_pct", p->daily_loss_pct, "max_bots", p->max_bots);
}
