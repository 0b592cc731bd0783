#include "q_settings.h"
#include "q_audit.h"
#include "q_buf.h"
#include "q_log.h"
#include "q_mem.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char sql_get[] = "SELECT value, COALESCE(updated_by, ''), COALESCE(reason, ''), "
                              "updated_at FROM settings WHERE name = ?";
static const char sql_get_locked[] = "SELECT value FROM settings WHERE name = ? FOR UPDATE";
static const char sql_set[] =
        "INSERT INTO settings (name, value, updated_by, reason) VALUES (?, ?, ?, ?) "
        "ON DUPLICATE KEY UPDATE value = VALUES(value), updated_by = VALUES(updated_by), "
        "reason = VALUES(reason)";

/* The row's value as text (q_buf) and who set it; 1 found, 0 none, -1 error. */
static int
get(struct q_db *db, const char *name, struct q_buf *value, struct q_setting_meta *meta,
    struct q_err *err)
{
	struct q_setting_meta m;
	struct q_buf by = Q_BUF_INIT, why = Q_BUF_INIT;
	int r;

	memset(&m, 0, sizeof(m));
	r = q_db_row(db, err, sql_get, "s>bbbt", name, value, &by, &why, &m.updated_at_us);
	if (r == 1) {
		/* Written by q_settings (bounded); a longer hand-written one is shown cut. */
		snprintf(m.updated_by, sizeof(m.updated_by), "%s", by.data ? by.data : "");
		snprintf(m.reason, sizeof(m.reason), "%s", why.data ? why.data : "");
	}
	q_buf_release(&by);
	q_buf_release(&why);
	if (meta)
		*meta = m;
	return r;
}

static int
check_reason(const char *reason, const char *what, struct q_err *err)
{
	if (reason == NULL || reason[strspn(reason, " \t\r\n")] == '\0')
		return q_err_set_field(err, "reason", Q_E_BAD_REQUEST,
		                       "say why: a change of %s needs a reason", what);
	if (strlen(reason) > Q_SETTINGS_REASON_MAX)
		return q_err_set_field(err, "reason", Q_E_BAD_REQUEST,
		                       "the reason is longer than %d bytes", Q_SETTINGS_REASON_MAX);
	return 0;
}

/* ---- the kill switch ---------------------------------------------------------------------- */

static int
is_true(const struct q_buf *v)
{
	json_t *j;
	int on;

	if (v->len == 0)
		return 0;
	j = json_loadb(v->data, v->len, JSON_DECODE_ANY, NULL);
	on = json_is_true(j);
	json_decref(j);
	return on;
}

int
q_settings_live(struct q_db *db, int *on, struct q_setting_meta *meta, struct q_err *err)
{
	struct q_buf v = Q_BUF_INIT;
	int r;

	*on = 0;
	r = get(db, Q_SETTING_LIVE, &v, meta, err);
	if (r == 1)
		*on = is_true(&v);
	q_buf_release(&v);
	return r < 0 ? -1 : 0;
}

int
q_settings_live_enabled(struct q_db *db, int *on, struct q_err *err)
{
	return q_settings_live(db, on, NULL, err);
}

struct live {
	int on;
	const char *actor, *reason;
};

static int
live_tx(struct q_db *db, void *arg, struct q_err *err)
{
	struct live *l = arg;
	struct q_buf v = Q_BUF_INIT;
	json_t *data;
	int r, rc = -1;

	r = q_db_row(db, err, sql_get_locked, "s>b", Q_SETTING_LIVE, &v);
	if (r < 0)
		goto out;
	if (q_db_exec(db, err, sql_set, "ssss", Q_SETTING_LIVE, l->on ? "true" : "false", l->actor,
	              l->reason) < 0)
		goto out;
	data = json_pack("{s:b, s:b, s:s}", "enabled", l->on, "previous", r == 1 && is_true(&v),
	                 "reason", l->reason);
	rc = q_audit_append_tx(db, l->actor, 0, "killswitch.flipped", data, NULL, err);
	json_decref(data);
out:
	q_buf_release(&v);
	return rc;
}

int
q_settings_set_live(struct q_db *db, int on, const char *actor, const char *reason,
                    struct q_err *err)
{
	struct live l = {on, actor, reason};

	if (check_reason(reason, "the kill switch", err) < 0)
		return -1;
	return q_db_tx(db, live_tx, &l, err);
}

/* ---- the allowlist ------------------------------------------------------------------------ */

/* A growable set of user ids, kept sorted and unique by ids_normalize. */
struct ids {
	long long *v;
	size_t n, cap;
};

static void
ids_push(struct ids *s, long long id)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = q_realloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = id;
}

static int
cmp_id(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static void
ids_normalize(struct ids *s)
{
	size_t w = 0;

	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp_id);
	for (size_t i = 0; i < s->n; i++)
		if (w == 0 || s->v[w - 1] != s->v[i])
			s->v[w++] = s->v[i];
	s->n = w;
}

static int
ids_has(const struct ids *s, long long id)
{
	return s->n && bsearch(&id, s->v, s->n, sizeof(*s->v), cmp_id) != NULL;
}

static json_t *
ids_json(const long long *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)v[i]));
	return a;
}

/* Parse a stored value: a JSON array of positive integers. 0, or -1 with Q_E_INTERNAL. */
static int
ids_parse(struct ids *s, const struct q_buf *v, struct q_err *err)
{
	json_t *j, *e;
	size_t i;
	int rc = -1;

	s->n = 0;
	if (v->len == 0)
		return 0;
	j = json_loadb(v->data, v->len, 0, NULL);
	if (!json_is_array(j))
		goto out;
	json_array_foreach(j, i, e)
	{
		if (!json_is_integer(e) || json_integer_value(e) <= 0)
			goto out;
		ids_push(s, (long long)json_integer_value(e));
	}
	ids_normalize(s);
	rc = 0;
out:
	json_decref(j);
	if (rc < 0)
		q_err_set(err, Q_E_INTERNAL,
		          "setting " Q_SETTING_ALLOWLIST " is not a JSON array of user ids");
	return rc;
}

static int
load_ids(struct q_db *db, struct ids *s, struct q_setting_meta *meta, struct q_err *err)
{
	struct q_buf v = Q_BUF_INIT;
	int r = get(db, Q_SETTING_ALLOWLIST, &v, meta, err);

	if (r == 1 && ids_parse(s, &v, err) < 0)
		r = -1;
	q_buf_release(&v);
	return r < 0 ? -1 : 0;
}

int
q_settings_allowlist(struct q_db *db, struct q_arena *a, long long **ids, size_t *n,
                     struct q_setting_meta *meta, struct q_err *err)
{
	struct ids s = {0};
	int rc = load_ids(db, &s, meta, err);

	*ids = NULL;
	*n = 0;
	if (rc == 0 && s.n > 0) {
		*ids = q_arena_alloc(a, s.n * sizeof(**ids));
		memcpy(*ids, s.v, s.n * sizeof(**ids));
		*n = s.n;
	}
	free(s.v);
	return rc;
}

int
q_settings_allowlisted(struct q_db *db, long long user_id, int *yes, struct q_err *err)
{
	struct q_buf v = Q_BUF_INIT;
	struct ids s = {0};
	struct q_err perr = {0};
	int r;

	*yes = 0;
	r = get(db, Q_SETTING_ALLOWLIST, &v, NULL, err);
	if (r == 1) {
		if (ids_parse(&s, &v, &perr) < 0)
			q_log(Q_LOG_ERROR, "settings.malformed", "name=%s", Q_SETTING_ALLOWLIST);
		else
			*yes = ids_has(&s, user_id);
	}
	free(s.v);
	q_buf_release(&v);
	return r < 0 ? -1 : 0;
}

struct change {
	enum q_allowlist_op op;
	const long long *ids;
	size_t n;
	const char *actor, *reason;
	size_t count;
};

static const char *const op_names[] = {"add", "remove", "set"};

static int
change_tx(struct q_db *db, void *arg, struct q_err *err)
{
	struct change *c = arg;
	struct ids cur = {0}, next = {0}, added = {0}, removed = {0};
	struct q_buf v = Q_BUF_INIT;
	json_t *data = NULL, *value = NULL;
	char *text = NULL;
	int r, rc = -1;

	r = q_db_row(db, err, sql_get_locked, "s>b", Q_SETTING_ALLOWLIST, &v);
	if (r < 0)
		goto out;
	/* A broken stored value blocks add and remove; set replaces it. */
	if (r == 1 && ids_parse(&cur, &v, c->op == Q_ALLOWLIST_SET ? NULL : err) < 0) {
		if (c->op != Q_ALLOWLIST_SET)
			goto out;
		cur.n = 0;
	}
	if (c->op != Q_ALLOWLIST_SET)
		for (size_t i = 0; i < cur.n; i++)
			ids_push(&next, cur.v[i]);
	for (size_t i = 0; i < c->n; i++) {
		long long exists = 0;

		if (c->op == Q_ALLOWLIST_REMOVE)
			continue;
		if (q_db_row(db, err, "SELECT COUNT(*) FROM users WHERE id = ?", "i>i", c->ids[i],
		             &exists) < 0)
			goto out;
		if (exists == 0) {
			q_err_set_field(err, "user_ids", Q_E_BAD_REQUEST, "there is no user %lld",
			                c->ids[i]);
			goto out;
		}
		ids_push(&next, c->ids[i]);
	}
	if (c->op == Q_ALLOWLIST_REMOVE) {
		struct ids gone = {0};
		size_t w = 0;

		for (size_t i = 0; i < c->n; i++)
			ids_push(&gone, c->ids[i]);
		ids_normalize(&gone);
		for (size_t i = 0; i < next.n; i++)
			if (!ids_has(&gone, next.v[i]))
				next.v[w++] = next.v[i];
		next.n = w;
		free(gone.v);
	}
	ids_normalize(&next);
	for (size_t i = 0; i < next.n; i++)
		if (!ids_has(&cur, next.v[i]))
			ids_push(&added, next.v[i]);
	for (size_t i = 0; i < cur.n; i++)
		if (!ids_has(&next, cur.v[i]))
			ids_push(&removed, cur.v[i]);
	if (next.n > Q_SETTINGS_ALLOWLIST_MAX) {
		q_err_set_field(err, "user_ids", Q_E_BAD_REQUEST,
		                "the allowlist holds at most %d users", Q_SETTINGS_ALLOWLIST_MAX);
		goto out;
	}
	value = ids_json(next.v, next.n);
	text = json_dumps(value, JSON_COMPACT);
	if (text == NULL)
		q_die("out of memory encoding the allowlist");
	if (q_db_exec(db, err, sql_set, "ssss", Q_SETTING_ALLOWLIST, text, c->actor, c->reason) < 0)
		goto out;
	data = json_pack("{s:s, s:o, s:o, s:o, s:I, s:s}", "action", op_names[c->op], "user_ids",
	                 ids_json(c->ids, c->n), "added", ids_json(added.v, added.n), "removed",
	                 ids_json(removed.v, removed.n), "count", (json_int_t)next.n, "reason",
	                 c->reason);
	if (q_audit_append_tx(db, c->actor, 0, "allowlist.changed", data, NULL, err) < 0)
		goto out;
	c->count = next.n;
	rc = 0;
out:
	json_decref(data);
	json_decref(value);
	free(text);
	free(cur.v);
	free(next.v);
	free(added.v);
	free(removed.v);
	q_buf_release(&v);
	return rc;
}

int
q_settings_allowlist_change(struct q_db *db, enum q_allowlist_op op, const long long *ids, size_t n,
                            const char *actor, const char *reason, size_t *count, struct q_err *err)
{
	struct change c = {op, ids, n, actor, reason, 0};

	if ((unsigned)op > Q_ALLOWLIST_SET)
		return q_err_set(err, Q_E_INTERNAL, "unknown allowlist operation %d", (int)op);
	if (check_reason(reason, "the LIVE allowlist", err) < 0)
		return -1;
	if (n > Q_SETTINGS_ALLOWLIST_MAX)
		return q_err_set_field(err, "user_ids", Q_E_BAD_REQUEST,
		                       "the allowlist holds at most %d users",
		                       Q_SETTINGS_ALLOWLIST_MAX);
	for (size_t i = 0; i < n; i++)
		if (ids[i] <= 0)
			return q_err_set_field(err, "user_ids", Q_E_BAD_REQUEST,
			                       "user ids are positive integers, not %lld", ids[i]);
	if (q_db_tx(db, change_tx, &c, err) < 0)
		return -1;
	if (count)
		*count = c.count;
	return 0;
}

int
q_settings_user_ids_of(struct q_db *db, const long long *telegram_ids, size_t n,
                       long long *user_ids, struct q_err *err)
{
	for (size_t i = 0; i < n; i++) {
		int r = q_db_row(db, err, "SELECT id FROM users WHERE telegram_id = ?", "i>i",
		                 telegram_ids[i], &user_ids[i]);

		if (r < 0)
			return -1;
		if (r == 0)
			return q_err_set_field(err, "telegram_ids", Q_E_BAD_REQUEST,
			                       "no Quantor user has Telegram id %lld (they sign in "
			                       "once first)",
			                       telegram_ids[i]);
	}
	return 0;
}
