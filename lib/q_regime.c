#include "q_regime.h"

#include <stdio.h>
#include <string.h>

static const char sql_latest[] =
        "SELECT symbol, regime, COALESCE(realized_vol, ''), COALESCE(drawdown, ''), computed_at, "
        "stale FROM regime_snapshots WHERE symbol = ? ORDER BY computed_at DESC, id DESC LIMIT 1";

int
q_regime_latest(struct q_db *db, const char *symbol, struct q_regime_snapshot *s, struct q_err *err)
{
	long long stale = 0;
	int r;

	memset(s, 0, sizeof(*s));
	snprintf(s->symbol, sizeof(s->symbol), "%s", symbol);
	snprintf(s->regime, sizeof(s->regime), "UNKNOWN");
	r = q_db_row(db, err, sql_latest, "s>ssssti", symbol, s->symbol, sizeof(s->symbol),
	             s->regime, sizeof(s->regime), s->realized_vol, sizeof(s->realized_vol),
	             s->drawdown, sizeof(s->drawdown), &s->computed_at_us, &stale);
	if (r < 0)
		return -1;
	s->found = r == 1;
	s->stale = stale != 0;
	if (s->stale)
		snprintf(s->regime, sizeof(s->regime), "UNKNOWN");
	return 0;
}
