#include "q_keys.h"
#include "q_audit.h"
#include "q_log.h"
#include "q_outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* -------- saving and verifying -------- */

static int
printable(const char *s, size_t n, int allow_newlines)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && !(allow_newlines && (c == '\n' || c == '\r'))) || c == 0x7f)
			return 0;
	}
	return 1;
}

int
q_keys_validate(const struct q_key_input *in, struct q_err *err)
{
	const struct q_exchange_ops *ops = q_exchange_lookup(in->exchange);
	size_t klen = in->api_key ? strlen(in->api_key) : 0;
	size_t slen = in->api_secret ? strlen(in->api_secret) : 0;
	size_t plen = in->passphrase ? strlen(in->passphrase) : 0;

	if (ops == NULL)
		return q_err_set_field(err, "exchange", Q_E_BAD_REQUEST,
		                       "exchange must be binance, okx, bybit or bitget");
	if (in->label && (strlen(in->label) > 64 || !printable(in->label, strlen(in->label), 0)))
		return q_err_set_field(err, "label", Q_E_BAD_REQUEST,
		                       "label must be at most 64 bytes without control characters");
	if (klen == 0 || klen > 256 ||
	    strspn(in->api_key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
	                        "nopqrstuvwxyz0123456789-_.=+/") != klen)
		return q_err_set_field(err, "api_key", Q_E_BAD_REQUEST,
		                       "api_key must be 1 to 256 letters, digits or -_.=+/");
	if (slen == 0 || slen > Q_VAULT_MAX_FIELD ||
	    !printable(in->api_secret, slen, strcmp(ops->name, "binance") == 0))
		return q_err_set_field(
		        err, "api_secret", Q_E_BAD_REQUEST,
		        "api_secret must be 1 to %d bytes without control characters",
		        Q_VAULT_MAX_FIELD);
	if (ops->needs_passphrase && plen == 0)
		return q_err_set_field(err, "passphrase", Q_E_BAD_REQUEST,
		                       "%s keys need the passphrase set when the key was created",
		                       ops->name);
	if (!ops->needs_passphrase && plen > 0)
		return q_err_set_field(err, "passphrase", Q_E_BAD_REQUEST,
		                       "%s keys have no passphrase", ops->name);
	if (plen > Q_VAULT_MAX_FIELD || !printable(in->passphrase ? in->passphrase : "", plen, 0))
		return q_err_set_field(err, "passphrase", Q_E_BAD_REQUEST,
		                       "passphrase must be at most %d bytes without control "
		                       "characters",
		                       Q_VAULT_MAX_FIELD);
	return 0;
}

/* A venue's answer about a key into the user's terms. */
static int
refusal(const struct q_exchange *ex, const struct q_err *e, struct q_err *err)
{
	char said[300];

	if (ex->last.code[0])
		snprintf(said, sizeof(said), "%s %s", ex->last.code, ex->last.msg);
	else
		snprintf(said, sizeof(said), "HTTP %ld", ex->last.http_status);
	switch (e->code) {
	case Q_E_EX_AUTH:
	case Q_E_EX_CLOCK_SKEW:
	case Q_E_BAD_REQUEST:
		return q_err_set(err, Q_E_KEY_INVALID,
		                 "%s refused this key (%s): check the key, the secret%s and its IP "
		                 "whitelist",
		                 ex->ops->name, said,
		                 ex->ops->needs_passphrase ? ", the passphrase" : "");
	default:
		return q_err_set(err, Q_E_EXCHANGE_UNAVAILABLE,
		                 "%s could not be asked about this key (%s); try again later",
		                 ex->ops->name, said);
	}
}

int
q_keys_check(const struct q_config *cfg, const struct q_key_input *in,
             struct q_exchange_perms *perms, struct q_err *err)
{
	struct q_exchange *ex = NULL;
	struct q_arena *a = NULL;
	struct q_exchange_balance *bal;
	struct q_err e = {0};
	size_t n;
	int rc = -1;

	memset(perms, 0, sizeof(*perms));
	if (q_keys_validate(in, err) < 0)
		return -1;
	ex = q_exchange_new(in->exchange, cfg, err);
	if (ex == NULL)
		return -1;
	if (q_exchange_set_credentials(ex, in->api_key, in->api_secret, strlen(in->api_secret),
	                               in->passphrase && *in->passphrase ? in->passphrase : NULL,
	                               err) < 0)
		goto out;
	if (q_exchange_key_permissions(ex, perms, &e) < 0) {
		refusal(ex, &e, err);
		goto out;
	}
	if (q_exchange_perms_check(perms, err) < 0)
		goto out;
	a = q_arena_new();
	if (q_exchange_balances(ex, a, &bal, &n, &e) < 0) {
		refusal(ex, &e, err);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0 && e.code != Q_OK)
		q_log_info("key.check", "exchange=%s result=%s venue_status=%ld venue_code=%s",
		           in->exchange, q_err_name(err->code), ex ? ex->last.http_status : 0,
		           ex ? ex->last.code : "");
	q_arena_destroy(a);
	q_exchange_free(ex);
	return rc;
}

static void
last4_of(char out[5], const char *api_key)
{
	size_t n = strlen(api_key);

	snprintf(out, 5, "%s", n > 4 ? api_key + n - 4 : api_key);
}

/* The venue's permission list ("a,b,c") as a JSON array. */
static json_t *
perms_json(const struct q_exchange_perms *p)
{
	json_t *a = json_array();
	const char *s = p->raw;

	while (*s) {
		size_t n = strcspn(s, ",");

		if (n > 0)
			json_array_append_new(a, json_stringn(s, n));
		s += n + (s[n] == ',');
	}
	return a;
}

struct save {
	const struct q_vault *v;
	long long user_id;
	const char *actor;
	const struct q_key_input *in;
	const struct q_exchange_perms *perms;
	long long id;
	char last4[5];
};

static int
save_tx(struct q_db *db, void *arg, struct q_err *err)
{
	struct save *s = arg;
	struct q_vault_plain plain;
	struct q_vault_ad ad;
	struct q_buf blob = Q_BUF_INIT;
	json_t *perms = perms_json(s->perms), *data = NULL;
	char *ptext = json_dumps(perms, JSON_COMPACT);
	int rc = -1;

	q_vault_plain_init(&plain);
	if (q_db_exec(db, err,
	              "INSERT INTO exchange_keys (user_id, exchange, label, enc_blob, key_last4, "
	              "verified, verified_at, permissions, ip_restricted, kek_id) VALUES (?, ?, ?, "
	              "'', ?, 1, UTC_TIMESTAMP(6), ?, ?, ?)",
	              "issssis", s->user_id, s->in->exchange, s->in->label ? s->in->label : "",
	              s->last4, ptext, (long long)(s->perms->ip_restricted != 0),
	              s->v->current.id) < 0)
		goto out;
	s->id = (long long)q_db_insert_id(db);
	ad = (struct q_vault_ad){s->user_id, s->in->exchange, s->id};
	q_buf_adds(&plain.api_key, s->in->api_key);
	q_buf_adds(&plain.api_secret, s->in->api_secret);
	if (s->in->passphrase)
		q_buf_adds(&plain.passphrase, s->in->passphrase);
	if (q_vault_seal(s->v, &ad, &plain, &blob, err) < 0 ||
	    q_db_exec(db, err, "UPDATE exchange_keys SET enc_blob = ? WHERE id = ?", "bi",
	              blob.data, blob.len, s->id) < 0)
		goto out;
	data = json_pack("{s:I, s:s, s:s, s:s, s:O, s:b}", "key_id", (json_int_t)s->id, "exchange",
	                 s->in->exchange, "label", s->in->label ? s->in->label : "", "last4",
	                 s->last4, "permissions", perms, "ip_restricted",
	                 s->perms->ip_restricted != 0);
	rc = q_audit_append_tx(db, s->actor, s->user_id, "key.saved", data, NULL, err);
out:
	q_vault_plain_release(&plain);
	q_buf_release(&blob);
	json_decref(data);
	json_decref(perms);
	free(ptext);
	return rc;
}

static void
audit_rejected(struct q_db *db, const char *actor, long long user_id, const char *exchange,
               const char *last4, long long key_id, const struct q_err *why)
{
	struct q_err e = {0};
	json_t *data = json_pack("{s:s, s:s, s:s}", "exchange", exchange, "last4", last4, "reason",
	                         q_err_name(why->code));

	if (key_id > 0)
		json_object_set_new(data, "key_id", json_integer(key_id));
	if (q_audit_append(db, actor, user_id, "key.rejected", data, NULL, &e) < 0)
		q_log_error("key.rejected.audit", "user=%lld error=%s", user_id, e.msg);
	json_decref(data);
}

int
q_keys_save(struct q_db *db, const struct q_config *cfg, const struct q_vault *v, long long user_id,
            const char *actor, const struct q_key_input *in, struct q_key *out, struct q_err *err)
{
	struct q_exchange_perms perms;
	struct save s = {v, user_id, actor, in, &perms, 0, ""};

	memset(out, 0, sizeof(*out));
	if (q_keys_validate(in, err) < 0)
		return -1;
	last4_of(s.last4, in->api_key);
	if (q_keys_check(cfg, in, &perms, err) < 0) {
		/* An outage concludes nothing about the key: only real refusals are events. */
		if (err->code != Q_E_EXCHANGE_UNAVAILABLE)
			audit_rejected(db, actor, user_id, in->exchange, s.last4, 0, err);
		return -1;
	}
	if (q_db_tx(db, save_tx, &s, err) < 0)
		return -1;
	out->id = s.id;
	snprintf(out->exchange, sizeof(out->exchange), "%s", in->exchange);
	snprintf(out->label, sizeof(out->label), "%s", in->label ? in->label : "");
	snprintf(out->last4, sizeof(out->last4), "%s", s.last4);
	out->verified = 1;
	out->ip_restricted = perms.ip_restricted != 0;
	snprintf(out->kek_id, sizeof(out->kek_id), "%s", v->current.id);
	return 0;
}

struct vrow {
	struct q_key k;
	long long user_id;
	struct q_buf blob;
};

/* Up to max keys with id > after, blobs included. */
static int
load_batch(struct q_db *db, long long after, struct vrow *rows, int max, int *n, struct q_err *err)
{
	struct q_stmt *st = q_db_prepare(db,
	                                 "SELECT id, user_id, exchange, label, key_last4, enc_blob "
	                                 "FROM exchange_keys WHERE id > ? ORDER BY id LIMIT ?",
	                                 err);
	int r = 0, rc = -1;

	*n = 0;
	if (st == NULL)
		return -1;
	q_stmt_bind_int64(st, 0, after);
	q_stmt_bind_int64(st, 1, max);
	if (q_stmt_exec(st, err) < 0)
		goto out;
	while (*n < max && (r = q_stmt_fetch(st, err)) == 1) {
		struct vrow *v = &rows[*n];
		size_t len;
		const char *b;

		memset(v, 0, sizeof(*v));
		q_buf_init(&v->blob);
		v->k.id = q_stmt_col_int64(st, 0);
		v->user_id = q_stmt_col_int64(st, 1);
		(*n)++;
		if (q_stmt_col_copy(st, 2, v->k.exchange, sizeof(v->k.exchange), err) < 0 ||
		    q_stmt_col_copy(st, 3, v->k.label, sizeof(v->k.label), err) < 0 ||
		    q_stmt_col_copy(st, 4, v->k.last4, sizeof(v->k.last4), err) < 0)
			goto out;
		b = q_stmt_col_text(st, 5, &len);
		q_buf_add(&v->blob, b, len);
	}
	rc = r < 0 ? -1 : 0;
out:
	q_stmt_done(st);
	return rc;
}

struct outcome {
	const struct vrow *row;
	const struct q_exchange_perms *perms;
	const struct q_err *why; /* NULL: still trade-only */
	const char *actor;
	int halted;
};

static int
outcome_tx(struct q_db *db, void *arg, struct q_err *err)
{
	struct outcome *o = arg;
	const struct vrow *row = o->row;
	json_t *perms = perms_json(o->perms), *data;
	char *ptext = json_dumps(perms, JSON_COMPACT);
	long long bot_ids[64], chat = 0;
	int nb = 0, rc = -1;
	struct q_stmt *st = NULL;

	o->halted = 0;
	if (o->why == NULL) {
		if (q_db_exec(
		            db, err,
		            "UPDATE exchange_keys SET verified = 1, verified_at = UTC_TIMESTAMP(6), "
		            "permissions = ?, ip_restricted = ? WHERE id = ?",
		            "sii", ptext, (long long)(o->perms->ip_restricted != 0), row->k.id) < 0)
			goto out;
		data = json_pack("{s:I, s:s, s:O, s:b}", "key_id", (json_int_t)row->k.id,
		                 "exchange", row->k.exchange, "permissions", perms, "ip_restricted",
		                 o->perms->ip_restricted != 0);
		rc = q_audit_append_tx(db, o->actor, row->user_id, "key.verified", data, NULL, err);
		json_decref(data);
		goto out;
	}
	if (q_db_exec(db, err,
	              "UPDATE exchange_keys SET verified = 0, permissions = COALESCE(?, "
	              "permissions) WHERE id = ?",
	              "si", o->perms->raw[0] ? ptext : NULL, row->k.id) < 0)
		goto out;
	st = q_db_prepare(
	        db,
	        "SELECT id FROM bots WHERE exchange_key_id = ? AND status = 'running' AND "
	        "mode IN ('LIVE', 'LIVE_ADVANCED') AND deleted_at IS NULL ORDER BY id "
	        "LIMIT 64 FOR UPDATE",
	        err);
	if (st == NULL)
		goto out;
	q_stmt_bind_int64(st, 0, row->k.id);
	if (q_stmt_exec(st, err) < 0)
		goto out;
	for (int r; nb < 64 && (r = q_stmt_fetch(st, err)) != 0;) {
		if (r < 0)
			goto out;
		bot_ids[nb++] = q_stmt_col_int64(st, 0);
	}
	q_stmt_done(st);
	st = NULL;
	for (int i = 0; i < nb; i++) {
		if (q_db_exec(db, err,
		              "UPDATE bots SET status = 'halted', halt_reason = ? WHERE id = ?",
		              "si", q_err_name(o->why->code), bot_ids[i]) < 0)
			goto out;
		data = json_pack("{s:I, s:s, s:I}", "bot_id", (json_int_t)bot_ids[i], "reason",
		                 q_err_name(o->why->code), "key_id", (json_int_t)row->k.id);
		rc = q_audit_append_tx(db, o->actor, row->user_id, "bot.halted", data, NULL, err);
		json_decref(data);
		if (rc < 0)
			goto out;
		rc = -1;
	}
	data = json_pack("{s:I, s:s, s:s, s:s, s:i}", "key_id", (json_int_t)row->k.id, "exchange",
	                 row->k.exchange, "last4", row->k.last4, "reason", q_err_name(o->why->code),
	                 "halted_bots", nb);
	rc = q_audit_append_tx(db, o->actor, row->user_id, "key.rejected", data, NULL, err);
	json_decref(data);
	if (rc < 0)
		goto out;
	rc = -1;
	if (q_db_row(db, err, "SELECT COALESCE(chat_id, 0) FROM users WHERE id = ?", "i>i",
	             row->user_id, &chat) < 0)
		goto out;
	if (chat != 0) {
		char text[512], dedupe[64];
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		snprintf(text, sizeof(text),
		         "Your %s key ...%s failed its daily check: %s. Quantor no longer trades "
		         "with it%s. Create a trade-only key (no withdrawal, no transfer) and add "
		         "it again.",
		         row->k.exchange, row->k.last4,
		         o->why->code == Q_E_KEY_CAN_WITHDRAW   ? "it can now withdraw or transfer"
		         : o->why->code == Q_E_KEY_CANNOT_TRADE ? "it can no longer trade spot"
		                                                : "the exchange refuses it",
		         nb ? " and halted its LIVE bots" : "");
		snprintf(dedupe, sizeof(dedupe), "key-refused-%lld-%04d%02d%02d", row->k.id,
		         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
		if (q_outbox_queue(db, row->user_id, chat, text, NULL, dedupe, err) < 0)
			goto out;
	}
	o->halted = nb;
	rc = 0;
out:
	q_stmt_done(st);
	json_decref(perms);
	free(ptext);
	return rc;
}

int
q_keys_verify_all(struct q_db *db, const struct q_config *cfg, const struct q_vault *v,
                  const char *actor, struct q_keys_verify_stats *st,
                  void (*progress)(const struct q_key *k, const struct q_err *result, void *ud),
                  void *ud, struct q_err *err)
{
	struct vrow rows[32];
	long long after = 0;
	int n = 0, rc = -1;

	memset(st, 0, sizeof(*st));
	for (;;) {
		if (load_batch(db, after, rows, 32, &n, err) < 0)
			goto out;
		if (n == 0)
			break;
		for (int i = 0; i < n; i++) {
			struct q_vault_ad ad = {rows[i].user_id, rows[i].k.exchange, rows[i].k.id};
			struct q_vault_plain p;
			struct q_exchange_perms perms;
			struct q_key_input in;
			struct q_err e = {0};
			struct outcome o = {&rows[i], &perms, NULL, actor, 0};

			after = rows[i].k.id;
			q_vault_plain_init(&p);
			if (q_vault_open(v, &ad, rows[i].blob.data, rows[i].blob.len, &p, err) <
			    0) {
				q_log_error("key.verify", "key=%lld error=%s", rows[i].k.id,
				            err->msg);
				goto out;
			}
			in = (struct q_key_input){rows[i].k.exchange, rows[i].k.label,
			                          p.api_key.data, p.api_secret.data,
			                          p.passphrase.len ? p.passphrase.data : NULL};
			st->checked++;
			if (q_keys_check(cfg, &in, &perms, &e) == 0) {
				st->verified++;
			} else if (e.code == Q_E_EXCHANGE_UNAVAILABLE) {
				st->unreachable++;
				q_vault_plain_release(&p);
				if (progress)
					progress(&rows[i].k, &e, ud);
				continue;
			} else {
				st->refused++;
				o.why = &e;
			}
			q_vault_plain_release(&p);
			if (q_db_tx(db, outcome_tx, &o, err) < 0)
				goto out;
			st->halted_bots += o.halted;
			if (progress)
				progress(&rows[i].k, &e, ud);
		}
		for (int i = 0; i < n; i++)
			q_buf_release(&rows[i].blob);
		n = 0;
	}
	rc = 0;
out:
	for (int i = 0; i < n; i++)
		q_buf_release(&rows[i].blob);
	return rc;
}
