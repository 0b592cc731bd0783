#include "api.h"
#include "q_plans.h"

/* GET /api/v1/plans: the catalog, straight from code (it answers while the database is down). */
int
h_plans_get(struct q_req *r)
{
	return q_reply(r, 200, q_plans_json());
}
