#include <time.h>

#include "api.h"
#include "q_egress.h"

/* GET /api/v1/egress-ips: {"current":[...],"previous":[...],"previous_valid_until":...}. */
int
h_egress_get(struct q_req *r)
{
	json_t *e;

	if (q_egress_load(&e, r->ctx->cfg, time(NULL), &r->err) < 0)
		return -1;
	return q_reply(r, 200, e);
}

/* GET /.well-known/egress-ips: every CIDR to pin a key to right now, as a JSON array. */
int
h_egress_wellknown_get(struct q_req *r)
{
	json_t *e, *all;

	if (q_egress_load(&e, r->ctx->cfg, time(NULL), &r->err) < 0)
		return -1;
	all = q_egress_all(e);
	json_decref(e);
	return q_reply(r, 200, all);
}
