/*
 * q_settings: runtime flags kept in the settings table, read on every use so that a change
 * takes effect on the next request or tick without a restart. Every change records who and
 * why, in the row (updated_by, reason) and in the audit chain, in one transaction.
 *
 *   quantor.trading.live.enabled         the kill switch: JSON true or false. A missing row
 *                                        reads as false: LIVE is off until an admin says why
 *                                        it should be on (fail closed).
 *   quantor.trading.live.allowedUserIds  the LIVE allowlist: a JSON array of Quantor user ids
 *                                        (users.id, not Telegram ids), sorted, no duplicates.
 *                                        Missing reads as empty. quantorctl and the admin API
 *                                        also take Telegram ids and translate them, but what
 *                                        is stored and judged is the user id: it names an
 *                                        account that exists, and outlives a username.
 *
 * Actors are "admin:<telegram id>" (the admin API, the bot chat) or "operator:<login>"
 * (quantorctl). Reasons are 1 to Q_SETTINGS_REASON_MAX bytes.
 */
#ifndef Q_SETTINGS_H
#define Q_SETTINGS_H

#include <stddef.h>

#include "q_arena.h"
#include "q_db.h"
#include "q_err.h"

#define Q_SETTING_LIVE "quantor.trading.live.enabled"
#define Q_SETTING_ALLOWLIST "quantor.trading.live.allowedUserIds"
#define Q_SETTINGS_REASON_MAX 500
#define Q_SETTINGS_ALLOWLIST_MAX 10000 /* user ids on the allowlist at most */

/* Who changed a setting last, and why ("" and 0 when it was never set). */
struct q_setting_meta {
	char updated_by[129];
	char reason[513];
	long long updated_at_us;
};

/*
 * The kill switch: *on is 1 when LIVE trading is enabled. A missing row, or one holding
 * anything but JSON true, reads as off (fail closed). meta (optional) gets who set it and why.
 * -1 only when the database fails.
 */
int q_settings_live_enabled(struct q_db *db, int *on, struct q_err *err);
int q_settings_live(struct q_db *db, int *on, struct q_setting_meta *meta, struct q_err *err);

/*
 * Flip the kill switch, recording actor and a non-empty reason, with "killswitch.flipped"
 * {"enabled","previous","reason"} appended to the audit chain in the same transaction (also
 * when the switch already was in that position: the decision is what is recorded). 0 or -1
 * (Q_E_BAD_REQUEST with field "reason" for an empty or too long reason).
 */
int q_settings_set_live(struct q_db *db, int on, const char *actor, const char *reason,
                        struct q_err *err);

/*
 * The allowlist: the user ids in ascending order into an arena-owned array (*ids NULL when
 * empty); meta optional. -1 with Q_E_INTERNAL when the stored value is not an array of
 * positive integers, or a q_db error.
 */
int q_settings_allowlist(struct q_db *db, struct q_arena *a, long long **ids, size_t *n,
                         struct q_setting_meta *meta, struct q_err *err);

/* *yes = 1 when user_id is on the allowlist. A malformed stored value reads as empty. 0 or -1. */
int q_settings_allowlisted(struct q_db *db, long long user_id, int *yes, struct q_err *err);

enum q_allowlist_op {
	Q_ALLOWLIST_ADD,    /* add ids that are not there yet */
	Q_ALLOWLIST_REMOVE, /* remove ids that are there */
	Q_ALLOWLIST_SET,    /* replace the whole list */
};

/*
 * Change the allowlist in one transaction (the row locked while it is read and written): every
 * id added must be an existing user (Q_E_BAD_REQUEST, field "user_ids", naming the first that
 * is not); removing an id that is not there changes nothing. Appends "allowlist.changed"
 * {"action","user_ids" (as given),"added","removed","count","reason"} by actor, with the row's
 * updated_by and reason, even when nothing changed. *count (optional) gets the list's new
 * length. 0, or -1 with Q_E_BAD_REQUEST (empty or long reason, more than
 * Q_SETTINGS_ALLOWLIST_MAX ids, an id <= 0, an unknown user) or a q_db error.
 */
int q_settings_allowlist_change(struct q_db *db, enum q_allowlist_op op, const long long *ids,
                                size_t n, const char *actor, const char *reason, size_t *count,
                                struct q_err *err);

/*
 * The user ids of these Telegram ids, in the same order, for callers that know people by
 * Telegram id. -1 with Q_E_BAD_REQUEST (field "telegram_ids") naming the first Telegram id
 * without a Quantor user, or a q_db error.
 */
int q_settings_user_ids_of(struct q_db *db, const long long *telegram_ids, size_t n,
                           long long *user_ids, struct q_err *err);

#endif
