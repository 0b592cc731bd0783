#include "api.h"
#include "q_strategy.h"

/* GET /api/v1/strategies: the catalog, {"strategies":[{"id","name","advanced","params"}...]}. */
int
h_strategies_get(struct q_req *r)
{
	json_t *list = json_array();
	const struct q_strategy *s;

	for (size_t i = 0; (s = q_strategy_at(i)) != NULL; i++)
		json_array_append_new(list, q_strategy_json(s));
	return q_reply(r, 200, json_pack("{s:o}", "strategies", list));
}
