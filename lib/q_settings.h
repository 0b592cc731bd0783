/*
 * q_settings: runtime flags kept in the settings table, read on every use so that a change
 * takes effect on the next request or tick without a restart. Every change records who and
 * why, in the row and in the audit chain.
 */
#ifndef Q_SETTINGS_H
#define Q_SETTINGS_H

#include "q_db.h"
#include "q_err.h"

#define Q_SETTING_LIVE "quantor.trading.live.enabled"
#define Q_SETTING_ALLOWLIST "quantor.trading.live.allowedUserIds"

/*
 * The kill switch: *on is 1 when LIVE trading is enabled. A missing or unreadable row reads
 * as off (fail closed). -1 only when the database fails.
 */
int q_settings_live_enabled(struct q_db *db, int *on, struct q_err *err);

/*
 * Flip the kill switch, recording actor ("admin:<telegram id>", "operator:quantorctl") and a
 * non-empty reason, with "killswitch.flipped" appended to the audit chain in the same
 * transaction. 0 or -1 (Q_E_BAD_REQUEST for an empty reason).
 */
int q_settings_set_live(struct q_db *db, int on, const char *actor, const char *reason,
                        struct q_err *err);

#endif
