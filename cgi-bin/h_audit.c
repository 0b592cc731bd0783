/* /api/v1/audit/...: the chain's head, its verification, the latest checkpoint, a user's events. */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "q_audit.h"
#include "q_checkpoint.h"
#include "q_db.h"
#include "q_json.h"

#define EVENTS_DEFAULT 50
#define EVENTS_MAX 200

int
h_audit_head_get(struct q_req *r)
{
	struct q_db *db = q_ctx_db(r->ctx, 0, &r->err);
	struct q_audit_entry head;

	if (db == NULL || q_audit_head(db, &head, &r->err) < 0)
		return -1;
	return q_reply(r, 200,
	               json_pack("{s:I, s:s}", "seq", (json_int_t)head.seq, "hash", head.hash));
}

/*
 * No result cache: a cached "ok" would hide tampering done since it was computed, which is
 * what this endpoint exists to reveal, and caching on the full row-set identity costs as much
 * as verifying. Instead the work is bounded: one verification at a time on the database (a
 * named lock; a second caller meanwhile gets 429 RATE_LIMITED at once), each streaming the
 * table in constant memory (100,000 entries take well under a second, see make bench), behind
 * nginx's per-client limit_req on /api/.
 */
int
h_audit_verify_get(struct q_req *r)
{
	struct q_db *db = q_ctx_db(r->ctx, 0, &r->err);
	struct q_audit_verify_result res;

	if (db == NULL || q_audit_verify(db, Q_AUDIT_VERIFY_SINGLE, &res, &r->err) < 0)
		return -1;
	if (!res.ok)
		return q_reply(r, 200,
		               json_pack("{s:b, s:I}", "ok", 0, "first_bad_seq",
		                         (json_int_t)res.first_bad_seq));
	return q_reply(r, 200,
	               json_pack("{s:b, s:I, s:s}", "ok", 1, "seq", (json_int_t)res.seq, "head",
	                         res.head));
}

int
h_audit_checkpoint_get(struct q_req *r)
{
	struct q_db *db = q_ctx_db(r->ctx, 0, &r->err);
	struct q_audit_checkpoint cp;
	struct q_audit_conf conf;
	struct q_checkpoint parsed;
	char when[32], pk[2 * Q_ED25519_PK_LEN + 1];
	json_t *out;
	int found;

	if (db == NULL || q_audit_conf_load(&conf, r->ctx->cfg, 0, &r->err) < 0)
		return -1;
	found = q_audit_checkpoint_latest(db, r->arena, &cp, &r->err);
	if (found < 0)
		return -1;
	if (found == 0)
		return q_err_set(&r->err, Q_E_NOT_FOUND, "no audit checkpoint has been signed yet");
	q_json_time_rfc3339(when, (time_t)(cp.signed_at_us / 1000000));
	out = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "size", (json_int_t)cp.size, "hash",
	                cp.hash, "note", cp.note, "signed_at", when, "origin", conf.origin,
	                "key_name", conf.key.name);
	if (out != NULL && conf.have_pk) {
		/* Say whether the stored note still verifies, so a client need not trust it. */
		int valid = q_checkpoint_open(&parsed, cp.note, cp.note_len, &conf.key, conf.origin,
		                              NULL) == 0 &&
		            parsed.size == cp.size;

		q_hex_encode(pk, conf.key.pk, sizeof(conf.key.pk));
		json_object_set_new(out, "public_key", json_string(pk));
		json_object_set_new(out, "signature_valid", json_boolean(valid));
	}
	return q_reply(r, 200, out);
}

/* One decimal query parameter in [0, max]; BAD_REQUEST naming it otherwise. */
static int
query_number(struct q_req *r, const char *name, const char *v, size_t n, unsigned long long max,
             unsigned long long *out)
{
	unsigned long long x = 0;

	if (n == 0 || n > 19)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			goto bad;
		x = x * 10 + (unsigned long long)(v[i] - '0');
	}
	if (x > max)
		goto bad;
	*out = x;
	return 0;
bad:
	return q_err_set_field(&r->err, name, Q_E_BAD_REQUEST, "%s must be a number from 0 to %llu",
	                       name, max);
}

/* ?after=SEQ&limit=N, both optional; anything else is a 400. */
static int
events_query(struct q_req *r, unsigned long long *after, unsigned long long *limit)
{
	const char *p = r->query;
	int seen_after = 0, seen_limit = 0;

	while (*p) {
		size_t len = strcspn(p, "&"), klen = strcspn(p, "=");
		const char *v = p + klen + 1;

		if (klen >= len)
			return q_err_set(&r->err, Q_E_BAD_REQUEST,
			                 "query parameters are name=value");
		if (klen == 5 && strncmp(p, "after", 5) == 0 && !seen_after++) {
			if (query_number(r, "after", v, len - klen - 1,
			                 (unsigned long long)INT64_MAX, after) < 0)
				return -1;
		} else if (klen == 5 && strncmp(p, "limit", 5) == 0 && !seen_limit++) {
			if (query_number(r, "limit", v, len - klen - 1, EVENTS_MAX, limit) < 0)
				return -1;
			if (*limit == 0)
				return q_err_set_field(&r->err, "limit", Q_E_BAD_REQUEST,
				                       "limit must be from 1 to %d", EVENTS_MAX);
		} else {
			return q_err_set_field(&r->err, "query", Q_E_BAD_REQUEST,
			                       "unknown or repeated query parameter \"%.*s\"",
			                       (int)(klen < 32 ? klen : 32), p);
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return 0;
}

int
h_audit_events_get(struct q_req *r)
{
	struct q_db *db;
	struct q_audit_event *ev;
	unsigned long long after = 0, limit = EVENTS_DEFAULT;
	size_t n;
	json_t *list;

	/* The dispatcher has authenticated the caller (Q_ROUTE_AUTH); this is a second lock. */
	if (r->user_id <= 0)
		return q_err_set(&r->err, Q_E_UNAUTHORIZED, "sign in to see your audit events");
	if (events_query(r, &after, &limit) < 0)
		return -1;
	db = q_ctx_db(r->ctx, 0, &r->err);
	if (db == NULL || q_audit_events_for_user(db, r->arena, r->user_id, after, (unsigned)limit,
	                                          &ev, &n, &r->err) < 0)
		return -1;
	list = json_array();
	q_json_arena_own(r->arena, list);
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_pack("{s:I, s:s, s:s, s:s%}", "seq", (json_int_t)ev[i].seq,
		                      "prev_hash", ev[i].prev_hash, "hash", ev[i].hash, "payload",
		                      ev[i].payload, ev[i].payload_len);

		if (e == NULL || json_array_append_new(list, e) < 0)
			return q_err_set(&r->err, Q_E_INTERNAL, "audit event %llu cannot be shown",
			                 ev[i].seq);
	}
	return q_reply(r, 200, json_pack("{s:O}", "events", list));
}
