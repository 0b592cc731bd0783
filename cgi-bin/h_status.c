#include <time.h>

#include "api.h"
#include "q_json.h"
#include "q_status.h"

static json_t *
time_or_null(long long us)
{
	char t[32];

	if (us == 0 || q_json_time_rfc3339(t, (time_t)(us / 1000000)) < 0)
		return json_null();
	return json_string(t);
}

static json_t *
text_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

/* GET /api/v1/status: the kill switch and its banner, the regime, the worker's heartbeat. */
int
h_status_get(struct q_req *r)
{
	struct q_db *db = q_ctx_db(r->ctx, 0, &r->err);
	struct q_status st;
	json_t *hb = json_null();

	if (db == NULL || q_status_read(db, r->ctx->cfg, &st, &r->err) < 0)
		return -1;
	if (st.heartbeat_us) {
		long long age = (long long)time(NULL) - st.heartbeat_us / 1000000;

		hb = json_pack("{s:o, s:I}", "at", time_or_null(st.heartbeat_us), "age_seconds",
		               (json_int_t)(age < 0 ? 0 : age));
	}
	return q_reply(r, 200,
	               json_pack("{s:b, s:o, s:o, s:{s:s, s:s, s:o, s:o, s:o, s:b}, s:o}",
	                         "live_enabled", st.live_enabled, "live_since",
	                         time_or_null(st.live_since_us), "banner", text_or_null(st.banner),
	                         "regime", "symbol", st.regime.symbol, "regime", st.regime.regime,
	                         "realized_vol", text_or_null(st.regime.realized_vol), "drawdown",
	                         text_or_null(st.regime.drawdown), "computed_at",
	                         time_or_null(st.regime.found ? st.regime.computed_at_us : 0),
	                         "stale", st.regime.stale, "worker_heartbeat", hb));
}
