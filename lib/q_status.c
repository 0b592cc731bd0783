#include "q_status.h"

#include <string.h>

static const char banner_off[] =
        "LIVE trading is paused for everyone. LIVE bots cancel their open orders and place no "
        "new ones until it is switched back on; paper trading carries on as usual.";

static const char sql_heartbeat[] = "SELECT MAX(at) FROM heartbeats WHERE service = ?";

int
q_status_read(struct q_db *db, const struct q_config *cfg, struct q_status *st, struct q_err *err)
{
	struct q_setting_meta meta;

	memset(st, 0, sizeof(*st));
	if (q_settings_live(db, &st->live_enabled, &meta, err) < 0 ||
	    q_regime_latest(db, q_config_get(cfg, "regime", "symbol", "BTCUSDT"), &st->regime,
	                    err) < 0 ||
	    q_db_row(db, err, sql_heartbeat, "s>t", Q_STATUS_WORKER, &st->heartbeat_us) < 0)
		return -1;
	st->live_since_us = meta.updated_at_us;
	st->banner = st->live_enabled ? NULL : banner_off;
	return 0;
}
