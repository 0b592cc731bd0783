#include "q_keys.h"
#include "q_audit.h"

#include <stdio.h>
#include <string.h>

static const char sql_list[] =
        "SELECT id, exchange, label, key_last4, verified, COALESCE(verified_at, 0), "
        "COALESCE(permissions, '[]'), ip_restricted, kek_id, created_at FROM exchange_keys "
        "WHERE user_id = ? ORDER BY id";

int
q_keys_list(struct q_db *db, struct q_arena *a, long long user_id, struct q_key **out, size_t *n,
            struct q_err *err)
{
	struct q_stmt *st = q_db_prepare(db, sql_list, err);
	struct q_key *keys = NULL;
	size_t cap = 0;
	int r, rc = -1;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	q_stmt_bind_int64(st, 0, user_id);
	if (q_stmt_exec(st, err) < 0)
		goto out;
	while ((r = q_stmt_fetch(st, err)) == 1) {
		struct q_key *k;

		if (*n == cap) {
			struct q_key *nk = q_arena_zalloc(a, (cap ? cap * 2 : 8) * sizeof(*nk));

			if (*n)
				memcpy(nk, keys, *n * sizeof(*nk));
			keys = nk;
			cap = cap ? cap * 2 : 8;
		}
		k = &keys[(*n)++];
		k->id = q_stmt_col_int64(st, 0);
		if (q_stmt_col_copy(st, 1, k->exchange, sizeof(k->exchange), err) < 0 ||
		    q_stmt_col_copy(st, 2, k->label, sizeof(k->label), err) < 0 ||
		    q_stmt_col_copy(st, 3, k->last4, sizeof(k->last4), err) < 0 ||
		    q_stmt_col_copy(st, 8, k->kek_id, sizeof(k->kek_id), err) < 0)
			goto out;
		k->verified = q_stmt_col_int64(st, 4) != 0;
		k->verified_at_us = q_stmt_col_null(st, 5) ? 0 : q_stmt_col_time_us(st, 5);
		k->permissions = q_stmt_col_strdup(st, 6, a, NULL);
		k->ip_restricted = q_stmt_col_int64(st, 7) != 0;
		k->created_us = q_stmt_col_time_us(st, 9);
	}
	if (r < 0)
		goto out;
	*out = keys;
	rc = 0;
out:
	q_stmt_done(st);
	return rc;
}

struct del {
	long long user_id, key_id;
	const char *actor;
	int found, in_use;
};

static int
delete_tx(struct q_db *db, void *arg, struct q_err *err)
{
	struct del *d = arg;
	char ex[12] = "";
	long long live = 0;
	json_t *data;
	int r;

	d->found = d->in_use = 0;
	r = q_db_row(db, err,
	             "SELECT exchange FROM exchange_keys WHERE id = ? AND user_id = ? FOR UPDATE",
	             "ii>s", d->key_id, d->user_id, ex, sizeof(ex));
	if (r <= 0)
		return r;
	d->found = 1;
	if (q_db_row(db, err,
	             "SELECT COUNT(*) FROM bots WHERE exchange_key_id = ? AND status = 'running' "
	             "AND mode IN ('LIVE', 'LIVE_ADVANCED') AND deleted_at IS NULL",
	             "i>i", d->key_id, &live) < 0)
		return -1;
	if (live > 0) {
		d->in_use = 1;
		return 0;
	}
	if (q_db_exec(db, err, "DELETE FROM exchange_keys WHERE id = ?", "i", d->key_id) < 0)
		return -1;
	data = json_pack("{s:I, s:s}", "key_id", (json_int_t)d->key_id, "exchange", ex);
	r = q_audit_append_tx(db, d->actor, d->user_id, "key.deleted", data, NULL, err);
	json_decref(data);
	return r;
}

int
q_keys_delete(struct q_db *db, long long user_id, long long key_id, const char *actor,
              struct q_err *err)
{
	struct del d = {user_id, key_id, actor, 0, 0};

	if (q_db_tx(db, delete_tx, &d, err) < 0)
		return -1;
	if (!d.found)
		return q_err_set(err, Q_E_NOT_FOUND, "exchange key %lld not found", key_id);
	if (d.in_use)
		return q_err_set(
		        err, Q_E_CONFLICT,
		        "exchange key %lld is used by a running LIVE bot; stop the bot first",
		        key_id);
	return 0;
}

int
q_keys_count_stale(struct q_db *db, const struct q_vault *v, long long *n, struct q_err *err)
{
	*n = 0;
	return q_db_row(db, err, "SELECT COUNT(*) FROM exchange_keys WHERE kek_id <> ?", "s>i",
	                v->current.id, n) < 0
	               ? -1
	               : 0;
}

struct rot {
	const struct q_vault *v;
	int batch, done;
};

static int
rotate_tx(struct q_db *db, void *arg, struct q_err *err)
{
	struct rot *r = arg;
	struct q_stmt *st;
	long long ids[256];
	struct q_buf blobs[256];
	int n = 0, f = 0, rc = -1;

	r->done = 0;
	st = q_db_prepare(db,
	                  "SELECT id, enc_blob FROM exchange_keys WHERE kek_id <> ? ORDER BY id "
	                  "LIMIT ? FOR UPDATE",
	                  err);
	if (st == NULL)
		return -1;
	q_stmt_bind_str(st, 0, r->v->current.id);
	q_stmt_bind_int64(st, 1, r->batch);
	if (q_stmt_exec(st, err) < 0)
		goto out;
	while (n < r->batch && (f = q_stmt_fetch(st, err)) == 1) {
		size_t len;
		const char *b = q_stmt_col_text(st, 1, &len);

		ids[n] = q_stmt_col_int64(st, 0);
		q_buf_init(&blobs[n]);
		if (q_vault_rewrap(r->v, b, len, &blobs[n], err) < 0) {
			q_buf_release(&blobs[n]);
			goto out;
		}
		n++;
	}
	if (f < 0)
		goto out;
	q_stmt_done(st);
	st = NULL;
	for (int i = 0; i < n; i++)
		if (q_db_exec(db, err,
		              "UPDATE exchange_keys SET enc_blob = ?, kek_id = ? WHERE id = ?",
		              "bsi", blobs[i].data, blobs[i].len, r->v->current.id, ids[i]) < 0)
			goto out;
	r->done = n;
	rc = 0;
out:
	for (int i = 0; i < n; i++)
		q_buf_release(&blobs[i]);
	q_stmt_done(st);
	return rc;
}

int
q_keys_rotate_batch(struct q_db *db, const struct q_vault *v, int batch, int *done,
                    struct q_err *err)
{
	struct rot r = {v, batch < 1 ? 1 : batch > 256 ? 256 : batch, 0};

	*done = 0;
	if (q_db_tx(db, rotate_tx, &r, err) < 0)
		return -1;
	*done = r.done;
	return 0;
}
