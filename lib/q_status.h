/*
 * q_status: what GET /api/v1/status tells anyone, signed in or not: whether LIVE trading is
 * on (with a banner for people while it is off), the market regime guard's latest reading and
 * when the trader ("worker") last reported alive. Read fresh on every call: a kill switch flip
 * shows on the very next request.
 */
#ifndef Q_STATUS_H
#define Q_STATUS_H

#include "q_config.h"
#include "q_db.h"
#include "q_err.h"
#include "q_regime.h"
#include "q_settings.h"

#define Q_STATUS_WORKER "worker" /* heartbeats.service of quantor-trader */

struct q_status {
	int live_enabled;
	long long live_since_us;         /* when the switch was last set, 0 when never */
	const char *banner;              /* static text while LIVE is off, NULL while it is on */
	struct q_regime_snapshot regime; /* of [regime] symbol (default BTCUSDT) */
	long long heartbeat_us;          /* newest worker heartbeat, 0 when none */
};

/* Fill st from the database. 0, or -1 with a q_db error. */
int q_status_read(struct q_db *db, const struct q_config *cfg, struct q_status *st,
                  struct q_err *err);

#endif
