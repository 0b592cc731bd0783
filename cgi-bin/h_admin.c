#include <stdio.h>
#include <time.h>

#include "api.h"
#include "q_json.h"
#include "q_log.h"
#include "q_settings.h"

static void
admin_actor(const struct q_req *r, char actor[64])
{
	snprintf(actor, 64, "admin:%lld", r->user.telegram_id);
}

/* POST /api/v1/admin/live {"enabled":bool,"reason":"..."}: the LIVE kill switch. */
int
h_admin_live_post(struct q_req *r)
{
	int enabled = 0;
	const char *reason = NULL;
	char actor[64];
	struct q_db *db;

	if (q_json_unpack(r->json, &r->err, "{s:b, s:s}", "enabled", &enabled, "reason", &reason) <
	    0)
		return -1;
	db = q_ctx_db(r->ctx, 0, &r->err);
	admin_actor(r, actor);
	if (db == NULL || q_settings_set_live(db, enabled, actor, reason, &r->err) < 0)
		return -1;
	q_log(Q_LOG_WARN, "killswitch.flipped", "enabled=%d actor=%s", enabled, actor);
	return q_reply(
	        r, 200,
	        json_pack("{s:b, s:s, s:s}", "enabled", enabled, "reason", reason, "by", actor));
}

/* The allowlist as both routes answer it. */
static int
reply_allowlist(struct q_req *r, struct q_db *db)
{
	struct q_setting_meta meta;
	long long *ids;
	size_t n;
	json_t *list;
	char at[32] = "";

	if (q_settings_allowlist(db, r->arena, &ids, &n, &meta, &r->err) < 0)
		return -1;
	list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_integer((json_int_t)ids[i]));
	if (meta.updated_at_us)
		q_json_time_rfc3339(at, (time_t)(meta.updated_at_us / 1000000));
	return q_reply(r, 200,
	               json_pack("{s:o, s:o, s:o, s:o}", "user_ids", list, "updated_by",
	                         meta.updated_by[0] ? json_string(meta.updated_by) : json_null(),
	                         "reason", meta.reason[0] ? json_string(meta.reason) : json_null(),
	                         "updated_at", at[0] ? json_string(at) : json_null()));
}

/* GET /api/v1/admin/allowlist: the Quantor user ids LIVE trading is open to. */
int
h_admin_allowlist_get(struct q_req *r)
{
	struct q_db *db = q_ctx_db(r->ctx, 0, &r->err);

	return db ? reply_allowlist(r, db) : -1;
}

/* The ids of a JSON array of positive integers into arena memory; BAD_REQUEST naming field. */
static int
id_array(struct q_req *r, const json_t *a, const char *field, long long **out, size_t *n)
{
	json_t *v;
	size_t i;

	*out = NULL;
	*n = 0;
	if (a == NULL)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > Q_SETTINGS_ALLOWLIST_MAX)
		return q_err_set_field(&r->err, field, Q_E_BAD_REQUEST,
		                       "%s is an array of at most %d ids", field,
		                       Q_SETTINGS_ALLOWLIST_MAX);
	*out = q_arena_alloc(r->arena, (json_array_size(a) + 1) * sizeof(**out));
	json_array_foreach(a, i, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) <= 0)
			return q_err_set_field(&r->err, field, Q_E_BAD_REQUEST,
			                       "%s[%zu] is not a positive integer", field, i);
		(*out)[(*n)++] = (long long)json_integer_value(v);
	}
	return 0;
}

/*
 * PUT /api/v1/admin/allowlist {"user_ids":[...], "telegram_ids":[...], "reason":"..."}: replace
 * the allowlist with these users (Telegram ids are translated to user ids; either may be
 * omitted, both empty clears it).
 */
int
h_admin_allowlist_put(struct q_req *r)
{
	json_t *users = NULL, *tgs = NULL;
	const char *reason = NULL;
	long long *uids, *tids, *all;
	size_t nu, nt;
	char actor[64];
	struct q_db *db;

	if (q_json_unpack(r->json, &r->err, "{s?o, s?o, s:s}", "user_ids", &users, "telegram_ids",
	                  &tgs, "reason", &reason) < 0 ||
	    id_array(r, users, "user_ids", &uids, &nu) < 0 ||
	    id_array(r, tgs, "telegram_ids", &tids, &nt) < 0)
		return -1;
	if (nu + nt > Q_SETTINGS_ALLOWLIST_MAX)
		return q_err_set_field(&r->err, "user_ids", Q_E_BAD_REQUEST,
		                       "the allowlist holds at most %d users",
		                       Q_SETTINGS_ALLOWLIST_MAX);
	db = q_ctx_db(r->ctx, 0, &r->err);
	if (db == NULL)
		return -1;
	all = q_arena_alloc(r->arena, (nu + nt + 1) * sizeof(*all));
	for (size_t i = 0; i < nu; i++)
		all[i] = uids[i];
	if (nt && q_settings_user_ids_of(db, tids, nt, all + nu, &r->err) < 0)
		return -1;
	admin_actor(r, actor);
	if (q_settings_allowlist_change(db, Q_ALLOWLIST_SET, all, nu + nt, actor, reason, NULL,
	                                &r->err) < 0)
		return -1;
	q_log(Q_LOG_WARN, "allowlist.changed", "count=%zu actor=%s", nu + nt, actor);
	return reply_allowlist(r, db);
}
