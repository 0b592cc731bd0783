#include <time.h>

#include "api.h"
#include "q_db.h"
#include "q_json.h"
#include "q_regime.h"

/*
 * GET /api/v1/market/regime: the regime guard's newest snapshot of the reference symbol,
 * {"symbol","regime","realized_vol","drawdown","computed_at","stale"}. No snapshot yet is
 * UNKNOWN with nulls; a stale one (stored stale, or computed over 2 h ago) is UNKNOWN with its
 * figures. Figures are decimal strings ("0.4512" = 45.12 %).
 */
int
h_market_regime_get(struct q_req *r)
{
	struct q_regime_cfg cfg;
	struct q_regime_snapshot s;
	struct q_db *db;
	char at[32];

	if (q_regime_config(&cfg, r->ctx->cfg, &r->err) < 0 ||
	    (db = q_ctx_db(r->ctx, 0, &r->err)) == NULL ||
	    q_regime_latest(db, cfg.symbol, &s, &r->err) < 0)
		return -1;
	if (s.found && q_json_time_rfc3339(at, (time_t)(s.computed_at_us / 1000000)) < 0)
		s.found = 0;
	return q_reply(r, 200,
	               json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:b}", "symbol", s.symbol, "regime",
	                         s.regime, "realized_vol",
	                         s.realized_vol[0] ? s.realized_vol : NULL, "drawdown",
	                         s.drawdown[0] ? s.drawdown : NULL, "computed_at",
	                         s.found ? at : NULL, "stale", s.stale));
}
