#include "q_audit.h"
#include "q_crypto.h"
#include "q_json.h"
#include "q_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_DATA_DEPTH 32

static const char genesis[Q_AUDIT_HASH_HEX + 1] =
        "0000000000000000000000000000000000000000000000000000000000000000";

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- the formula ----------------------------------------------------------------------- */

static int
actor_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n]; n++)
		if (s[n] <= ' ' || s[n] > '~')
			return 0;
	return n > 0 && n <= Q_AUDIT_MAX_ACTOR;
}

static int
type_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '.' ||
		      s[n] == '_' || s[n] == '-'))
			return 0;
	return n > 0 && n <= Q_AUDIT_MAX_TYPE;
}

/* No real anywhere in j: "%.17g" would put a float's formatting into the hash. */
static int
no_reals(const json_t *j, int depth)
{
	if (depth > MAX_DATA_DEPTH || json_is_real(j))
		return 0;
	if (json_is_object(j)) {
		for (void *it = json_object_iter((json_t *)j); it != NULL;
		     it = json_object_iter_next((json_t *)j, it))
			if (!no_reals(json_object_iter_value(it), depth + 1))
				return 0;
	} else if (json_is_array(j)) {
		for (size_t i = 0; i < json_array_size(j); i++)
			if (!no_reals(json_array_get(j, i), depth + 1))
				return 0;
	}
	return 1;
}

static int
check_event(const char *actor, const char *type, const json_t *data, struct q_err *err)
{
	if (!actor_ok(actor))
		return q_err_set(err, Q_E_INTERNAL,
		                 "audit actor \"%.40s\" must be 1 to %d printable ASCII characters",
		                 actor ? actor : "", Q_AUDIT_MAX_ACTOR);
	if (!type_ok(type))
		return q_err_set(err, Q_E_INTERNAL,
		                 "audit type \"%.40s\" must be 1 to %d of [a-z0-9._-]",
		                 type ? type : "", Q_AUDIT_MAX_TYPE);
	if (data != NULL && !json_is_object(data))
		return q_err_set(err, Q_E_INTERNAL, "audit data of %s must be an object", type);
	if (data != NULL && !no_reals(data, 0))
		return q_err_set(err, Q_E_INTERNAL,
		                 "audit data of %s holds a real number or nests too deep; write "
		                 "amounts as strings",
		                 type);
	return 0;
}

int
q_audit_ts(char out[32], long long ts_us)
{
	long long secs = ts_us / 1000000, frac = ts_us % 1000000;
	char buf[96];
	time_t t;
	struct tm tm;

	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	t = (time_t)secs;
	out[0] = '\0';
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		return -1;
	/* 27 characters; the larger buffer only quiets the compiler's worst-case estimate. */
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
	memcpy(out, buf, 28);
	return 0;
}

int
q_audit_payload(struct q_buf *out, const char *actor, unsigned long long seq, long long ts_us,
                const char *type, const json_t *data, struct q_err *err)
{
	char ts[32];
	json_t *p;
	int rc;

	if (check_event(actor, type, data, err) < 0)
		return -1;
	if (seq == 0 || seq > (unsigned long long)INT64_MAX)
		return q_err_set(err, Q_E_INTERNAL, "audit seq %llu is out of range", seq);
	if (q_audit_ts(ts, ts_us) < 0)
		return q_err_set(err, Q_E_INTERNAL, "audit time %lld is out of range", ts_us);
	p = json_pack("{s:s, s:o, s:I, s:s, s:s}", "actor", actor, "data",
	              data ? json_incref((json_t *)data) : json_object(), "seq", (json_int_t)seq,
	              "ts", ts, "type", type);
	if (p == NULL)
		return q_err_set(err, Q_E_INTERNAL, "audit payload of %s could not be built", type);
	rc = q_json_canonical_buf(out, p);
	json_decref(p);
	if (rc < 0)
		return q_err_set(err, Q_E_INTERNAL, "audit payload of %s could not be encoded",
		                 type);
	return 0;
}

void
q_audit_hash(char out[Q_AUDIT_HASH_HEX + 1], const char *prev_hex, const void *payload, size_t len)
{
	struct q_sha256 h;
	uint8_t d[Q_SHA256_LEN];

	q_sha256_init(&h);
	q_sha256_update(&h, prev_hex, Q_AUDIT_HASH_HEX);
	q_sha256_update(&h, payload, len);
	q_sha256_final(&h, d);
	q_hex_encode(out, d, sizeof(d));
}

static int
hex64_ok(const char *s, size_t n)
{
	return n == Q_AUDIT_HASH_HEX && strspn(s, "0123456789abcdef") == Q_AUDIT_HASH_HEX;
}

/* ---- appends --------------------------------------------------------------------------- */

static const char sql_lock_head[] = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE";
static const char sql_insert[] =
        "INSERT INTO audit_log (seq, prev_hash, hash, ts, actor, type, user_id, payload)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_move_head[] =
        "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1 AND seq = ?";

/* The head, locked until the transaction ends. */
static int
lock_head(struct q_db *db, struct q_audit_entry *head, struct q_err *err)
{
	int r = q_db_row(db, err, sql_lock_head, ">us", &head->seq, head->hash, sizeof(head->hash));

	if (r < 0)
		return -1;
	if (r == 0)
		return q_err_set(err, Q_E_AUDIT_BROKEN,
		                 "audit_head has no row: run the migrations");
	if (!hex64_ok(head->hash, strlen(head->hash)) || head->seq >= (unsigned long long)INT64_MAX)
		return q_err_set(err, Q_E_AUDIT_BROKEN, "audit_head holds seq %llu, hash \"%.64s\"",
		                 head->seq, head->hash);
	return 0;
}

int
q_audit_append_tx(struct q_db *db, const char *actor, long long user_id, const char *type,
                  const json_t *data, struct q_audit_entry *out, struct q_err *err)
{
	struct q_buf payload = Q_BUF_INIT;
	struct q_audit_entry head;
	char hash[Q_AUDIT_HASH_HEX + 1];
	struct q_stmt *st = NULL;
	long long ts, n;
	int rc = -1;

	if (!q_db_in_tx(db))
		return q_err_set(err, Q_E_INTERNAL, "q_audit_append_tx needs an open transaction");
	if (user_id < 0)
		return q_err_set(err, Q_E_INTERNAL, "audit user id %lld is negative", user_id);
	if (check_event(actor, type, data, err) < 0 || lock_head(db, &head, err) < 0)
		return -1;
	/* Read the clock under the lock, so ts never goes back along the chain. */
	ts = now_us();
	if (q_audit_payload(&payload, actor, head.seq + 1, ts, type, data, err) < 0)
		goto out;
	q_audit_hash(hash, head.hash, payload.data, payload.len);
	st = q_db_prepare(db, sql_insert, err);
	if (st == NULL)
		goto out;
	q_stmt_bind_uint64(st, 0, head.seq + 1);
	q_stmt_bind_str(st, 1, head.hash);
	q_stmt_bind_str(st, 2, hash);
	q_stmt_bind_time_us(st, 3, ts);
	q_stmt_bind_str(st, 4, actor);
	q_stmt_bind_str(st, 5, type);
	if (user_id > 0)
		q_stmt_bind_int64(st, 6, user_id);
	else
		q_stmt_bind_null(st, 6);
	q_stmt_bind_text(st, 7, payload.data, payload.len);
	if (q_stmt_exec(st, err) < 0)
		goto out;
	n = q_db_exec(db, err, sql_move_head, "usu", head.seq + 1, hash, head.seq);
	if (n < 0)
		goto out;
	if (n != 1) {
		q_err_set(err, Q_E_AUDIT_BROKEN, "audit_head moved under its lock (seq %llu)",
		          head.seq);
		goto out;
	}
	if (out != NULL) {
		out->seq = head.seq + 1;
		memcpy(out->hash, hash, sizeof(out->hash));
	}
	rc = 0;
out:
	q_stmt_done(st);
	q_buf_release(&payload);
	return rc;
}

struct append_args {
	const char *actor;
	long long user_id;
	const char *type;
	const json_t *data;
	struct q_audit_entry *out;
};

static int
append_fn(struct q_db *db, void *arg, struct q_err *err)
{
	struct append_args *a = arg;

	return q_audit_append_tx(db, a->actor, a->user_id, a->type, a->data, a->out, err);
}

int
q_audit_append(struct q_db *db, const char *actor, long long user_id, const char *type,
               const json_t *data, struct q_audit_entry *out, struct q_err *err)
{
	struct append_args a = {actor, user_id, type, data, out};

	if (check_event(actor, type, data, err) < 0)
		return -1;
	return q_db_tx(db, append_fn, &a, err);
}

static const char sql_head[] = "SELECT seq, hash FROM audit_head WHERE id = 1";

int
q_audit_head(struct q_db *db, struct q_audit_entry *out, struct q_err *err)
{
	int r = q_db_row(db, err, sql_head, ">us", &out->seq, out->hash, sizeof(out->hash));

	if (r < 0)
		return -1;
	if (r == 0)
		return q_err_set(err, Q_E_AUDIT_BROKEN,
		                 "audit_head has no row: run the migrations");
	return 0;
}

/* ---- verification ---------------------------------------------------------------------- */

static const char sql_verify_lock[] =
        "SELECT GET_LOCK(CONCAT('quantor_audit_verify.', DATABASE()), 0)";
static const char sql_verify_unlock[] =
        "SELECT RELEASE_LOCK(CONCAT('quantor_audit_verify.', DATABASE()))";
static const char sql_chain[] = "SELECT seq, prev_hash, hash, payload FROM audit_log ORDER BY seq";

/*
 * The top-level "seq" member of a payload, without parsing it into a tree: walk the text once,
 * skipping strings, and read the number after the key "seq" at depth 1. Returns 0 with *seq
 * set, or -1 when the payload is not an object with such a member.
 */
static int
payload_seq(const char *p, size_t n, unsigned long long *seq)
{
	int depth = 0, key_next = 0;

	if (n < 2 || p[0] != '{' || p[n - 1] != '}')
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t start;

		switch (p[i]) {
		case '"':
			start = ++i;
			while (i < n && p[i] != '"')
				i += p[i] == '\\' ? 2 : 1;
			if (i >= n)
				return -1;
			if (depth == 1 && key_next && i - start == 3 &&
			    memcmp(p + start, "seq", 3) == 0 && i + 1 < n && p[i + 1] == ':') {
				unsigned long long v = 0;
				size_t j = i + 2, digits = 0;

				for (; j < n && p[j] >= '0' && p[j] <= '9' && digits < 19;
				     j++, digits++)
					v = v * 10 + (unsigned long long)(p[j] - '0');
				if (digits == 0 || j >= n || (p[j] != ',' && p[j] != '}'))
					return -1;
				*seq = v;
				return 0;
			}
			key_next = 0;
			break;
		case '{':
		case '[':
			depth++;
			key_next = p[i] == '{';
			break;
		case '}':
		case ']':
			depth--;
			key_next = 0;
			break;
		case ',':
			key_next = depth == 1;
			break;
		default:
			break;
		}
	}
	return -1;
}

static void bad(struct q_audit_verify_result *res, unsigned long long seq, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void
bad(struct q_audit_verify_result *res, unsigned long long seq, const char *fmt, ...)
{
	va_list ap;

	res->ok = 0;
	res->first_bad_seq = seq;
	res->head[0] = '\0';
	va_start(ap, fmt);
	(void)vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
}

/* Stream the chain and check every link; res->ok is 1 until the first bad entry. */
static int
walk_chain(struct q_db *db, const struct q_audit_entry *head, struct q_audit_verify_result *res,
           struct q_err *err)
{
	struct q_stmt *st = q_db_prepare(db, sql_chain, err);
	char prev[Q_AUDIT_HASH_HEX + 1], calc[Q_AUDIT_HASH_HEX + 1];
	unsigned long long expect = 1, pseq;
	int r = -1;

	if (st == NULL || q_stmt_exec_stream(st, err) < 0)
		goto out;
	memcpy(prev, genesis, sizeof(prev));
	while ((r = q_stmt_fetch(st, err)) == 1) {
		unsigned long long seq = q_stmt_col_uint64(st, 0);
		size_t phl, hl, pl;
		const char *ph = q_stmt_col_text(st, 1, &phl);
		const char *h = q_stmt_col_text(st, 2, &hl);
		const char *p = q_stmt_col_text(st, 3, &pl);

		if (seq != expect) {
			bad(res, expect, "entry %llu is missing (the next stored one is %llu)",
			    expect, seq);
			break;
		}
		if (seq > head->seq) {
			bad(res, seq, "entry %llu is beyond the head (seq %llu)", seq, head->seq);
			break;
		}
		if (ph == NULL || phl != Q_AUDIT_HASH_HEX ||
		    memcmp(ph, prev, Q_AUDIT_HASH_HEX) != 0) {
			bad(res, seq, "entry %llu: prev_hash is not the hash of entry %llu", seq,
			    seq - 1);
			break;
		}
		if (p == NULL || payload_seq(p, pl, &pseq) < 0 || pseq != seq) {
			bad(res, seq, "entry %llu: the payload does not hold \"seq\":%llu", seq,
			    seq);
			break;
		}
		q_audit_hash(calc, prev, p, pl);
		if (h == NULL || hl != Q_AUDIT_HASH_HEX || memcmp(h, calc, Q_AUDIT_HASH_HEX) != 0) {
			bad(res, seq, "entry %llu: hash is not SHA-256(prev_hash || payload)", seq);
			break;
		}
		memcpy(prev, h, Q_AUDIT_HASH_HEX);
		expect++;
	}
	if (r < 0)
		goto out;
	r = 0;
	if (!res->ok)
		goto out;
	res->seq = expect - 1;
	if (head->seq > res->seq)
		bad(res, expect, "entry %llu is missing (the head is at seq %llu)", expect,
		    head->seq);
	else if (strcmp(head->hash, prev) != 0)
		bad(res, head->seq ? head->seq : 1, "the head's hash is not the hash of entry %llu",
		    head->seq);
out:
	q_stmt_done(st); /* discards what is left of the stream after a bad entry */
	return r;
}

int
q_audit_verify(struct q_db *db, unsigned flags, struct q_audit_verify_result *res,
               struct q_err *err)
{
	struct q_audit_entry head;
	struct q_err ignored = {0};
	int own_tx = 0, locked = 0, rc = -1, r;
	long long got = 0;

	memset(res, 0, sizeof(*res));
	res->ok = 1;
	if (flags & Q_AUDIT_VERIFY_SINGLE) {
		if (q_db_row(db, err, sql_verify_lock, ">i", &got) < 0)
			return -1;
		if (got != 1)
			return q_err_set(
			        err, Q_E_RATE_LIMITED,
			        "another audit verification is running; retry in a second");
		locked = 1;
	}
	/* One snapshot for the head and every entry: appends committed meanwhile are not seen. */
	if (!q_db_in_tx(db)) {
		if (q_db_begin(db, err) < 0)
			goto out;
		own_tx = 1;
	}
	r = q_db_row(db, err, sql_head, ">us", &head.seq, head.hash, sizeof(head.hash));
	if (r < 0)
		goto out;
	if (r == 0) {
		bad(res, 1, "audit_head has no row");
	} else if (walk_chain(db, &head, res, err) < 0) {
		goto out;
	} else if (res->ok) {
		memcpy(res->head, head.hash, sizeof(res->head));
		res->seq = head.seq;
	}
	rc = 0;
out:
	if (own_tx)
		(void)q_db_rollback(db, &ignored);
	if (locked)
		(void)q_db_row(db, &ignored, sql_verify_unlock, ">i", &got);
	if (rc == 0 && !res->ok) {
		char k[24];

		(void)snprintf(k, sizeof(k), "%llu", res->first_bad_seq);
		q_logkv(Q_LOG_ERROR, "audit.chain_broken", "first_bad_seq", k, "reason",
		        res->reason, (char *)NULL);
	}
	return rc;
}

/* ---- events ---------------------------------------------------------------------------- */

static const char sql_events[] = "SELECT seq, prev_hash, hash, payload FROM audit_log"
                                 " WHERE user_id = ? AND seq > ? ORDER BY seq LIMIT ?";

int
q_audit_events_for_user(struct q_db *db, struct q_arena *a, long long user_id,
                        unsigned long long after_seq, unsigned limit, struct q_audit_event **out,
                        size_t *n, struct q_err *err)
{
	struct q_stmt *st;
	struct q_audit_event *ev;
	size_t got = 0;
	int r, rc = -1;

	*out = NULL;
	*n = 0;
	if (limit < 1 || limit > 1000 || user_id <= 0)
		return q_err_set(err, Q_E_INTERNAL, "events: bad limit %u or user id %lld", limit,
		                 user_id);
	st = q_db_prepare(db, sql_events, err);
	if (st == NULL)
		return -1;
	q_stmt_bind_int64(st, 0, user_id);
	q_stmt_bind_uint64(st, 1, after_seq);
	q_stmt_bind_int64(st, 2, (long long)limit);
	if (q_stmt_exec(st, err) < 0)
		goto out;
	ev = q_arena_zalloc(a, limit * sizeof(*ev));
	while ((r = q_stmt_fetch(st, err)) == 1 && got < limit) {
		struct q_audit_event *e = &ev[got];

		e->seq = q_stmt_col_uint64(st, 0);
		if (q_stmt_col_copy(st, 1, e->prev_hash, sizeof(e->prev_hash), err) < 0 ||
		    q_stmt_col_copy(st, 2, e->hash, sizeof(e->hash), err) < 0)
			goto out;
		e->payload = q_stmt_col_strdup(st, 3, a, &e->payload_len);
		if (e->payload == NULL)
			e->payload = "";
		got++;
	}
	if (r < 0)
		goto out;
	*out = ev;
	*n = got;
	rc = 0;
out:
	q_stmt_done(st);
	return rc;
}

/* ---- configuration --------------------------------------------------------------------- */

static int
decode_key_hex(uint8_t out[32], const char *s, size_t n)
{
	while (n > 0 &&
	       (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n != 64)
		return -1;
	return q_hex_decode(out, 32, s, n, NULL);
}

/* The public key file: not a secret, so no permission check; at most a line of hex. */
static int
read_pk_file(const struct q_config *cfg, const char *name, uint8_t pk[Q_ED25519_PK_LEN],
             struct q_err *err)
{
	const char *cp = q_config_path(cfg), *slash = strrchr(cp, '/');
	struct q_buf path = Q_BUF_INIT;
	char text[256];
	ssize_t got;
	int fd, rc = -1;

	if (name[0] == '/' || slash == NULL)
		q_buf_adds(&path, name);
	else
		q_buf_printf(&path, "%.*s/%s", (int)(slash - cp), cp, name);
	fd = open(path.data, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		q_err_set(err, Q_E_CONFIG, "%s: [audit] public_key_file %s: %s", cp, path.data,
		          strerror(errno));
		goto out;
	}
	got = read(fd, text, sizeof(text));
	close(fd);
	if (got < 0 || decode_key_hex(pk, text, (size_t)got) < 0) {
		q_err_set(
		        err, Q_E_CONFIG,
		        "%s: [audit] public_key_file %s must hold the public key as 64 hex digits",
		        cp, path.data);
		goto out;
	}
	rc = 0;
out:
	q_buf_release(&path);
	return rc;
}

int
q_audit_conf_load(struct q_audit_conf *c, const struct q_config *cfg, int with_secret,
                  struct q_err *err)
{
	const char *path = q_config_path(cfg);
	const char *origin = q_config_get(cfg, "audit", "origin", Q_AUDIT_DEFAULT_ORIGIN);
	const char *name = q_config_get(cfg, "audit", "key_name", origin);
	const char *pk_hex = q_config_get(cfg, "audit", "public_key", "");
	const char *pk_file = q_config_get(cfg, "audit", "public_key_file", "");
	uint8_t pk[Q_ED25519_PK_LEN] = {0}, pk2[Q_ED25519_PK_LEN], seed[Q_ED25519_SEED_LEN];
	struct q_buf secret = Q_BUF_INIT;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	if (!q_checkpoint_name_ok(origin) || !q_checkpoint_name_ok(name)) {
		q_err_set(err, Q_E_CONFIG,
		          "%s: [audit] origin and key_name must be 1 to %d printable ASCII "
		          "characters without space or '+'",
		          path, Q_CHECKPOINT_MAX_NAME);
		goto out;
	}
	memcpy(c->origin, origin, strlen(origin) + 1);
	if (q_config_get_int(cfg, "audit", "checkpoint_interval", 3600, 60, 604800,
	                     &c->checkpoint_interval, err) < 0)
		goto out;
	if (*pk_hex && *pk_file) {
		q_err_set(err, Q_E_CONFIG,
		          "%s: [audit] set public_key or public_key_file, not both", path);
		goto out;
	}
	if (*pk_hex) {
		if (decode_key_hex(pk, pk_hex, strlen(pk_hex)) < 0) {
			q_err_set(err, Q_E_CONFIG,
			          "%s: [audit] public_key must be the Ed25519 public key as 64 hex "
			          "digits",
			          path);
			goto out;
		}
		c->have_pk = 1;
	} else if (*pk_file) {
		if (read_pk_file(cfg, pk_file, pk, err) < 0)
			goto out;
		c->have_pk = 1;
	}
	if (with_secret) {
		if (q_config_secret(cfg, "audit", "checkpoint_key_file", &secret, err) < 0)
			goto out;
		if (decode_key_hex(seed, secret.data, secret.len) < 0) {
			q_err_set(
			        err, Q_E_CONFIG,
			        "%s: [audit] checkpoint_key_file must hold the Ed25519 seed as 64 "
			        "hex digits (quantorctl audit keygen writes one)",
			        path);
			goto out;
		}
		q_ed25519_seed_keypair(pk2, c->sk, seed);
		if (c->have_pk && memcmp(pk, pk2, sizeof(pk)) != 0) {
			q_err_set(
			        err, Q_E_CONFIG,
			        "%s: the key in [audit] checkpoint_key_file does not belong to the "
			        "configured public key",
			        path);
			goto out;
		}
		memcpy(pk, pk2, sizeof(pk));
		c->have_pk = 1;
		c->have_sk = 1;
	}
	if (q_checkpoint_key_init(&c->key, name, pk, err) < 0)
		goto out;
	rc = 0;
out:
	q_wipe(seed, sizeof(seed));
	q_buf_release_secret(&secret);
	if (rc < 0)
		q_audit_conf_release(c);
	return rc;
}

void
q_audit_conf_release(struct q_audit_conf *c)
{
	q_wipe(c->sk, sizeof(c->sk));
	c->have_sk = 0;
}

/* ---- checkpoints ----------------------------------------------------------------------- */

static const char sql_cp_insert[] =
        "INSERT INTO audit_checkpoints (size, hash, note, signed_at) VALUES (?, ?, ?, ?)";
static const char sql_cp_latest[] = "SELECT id, size, hash, note, signed_at FROM audit_checkpoints"
                                    " ORDER BY id DESC LIMIT 1";
static const char sql_cp_all[] =
        "SELECT id, size, hash, note, signed_at FROM audit_checkpoints ORDER BY id";
static const char sql_hash_at[] = "SELECT hash FROM audit_log WHERE seq = ?";

struct sign_args {
	const struct q_audit_conf *c;
	const char *actor;
	struct q_buf *note;
	size_t start;
	struct q_audit_checkpoint *out;
};

static int
sign_fn(struct q_db *db, void *arg, struct q_err *err)
{
	struct sign_args *a = arg;
	struct q_audit_entry head;
	uint8_t raw[Q_SHA256_LEN];
	char id_hex[2 * Q_CHECKPOINT_KEY_ID_LEN + 1];
	long long now = now_us();
	unsigned long long id;
	json_t *data = NULL;
	int rc = -1;

	q_buf_truncate(a->note, a->start);
	if (lock_head(db, &head, err) < 0)
		return -1;
	if (q_hex_decode(raw, sizeof(raw), head.hash, Q_AUDIT_HASH_HEX, NULL) < 0)
		return q_err_set(err, Q_E_AUDIT_BROKEN, "audit_head hash is not hex");
	if (q_checkpoint_sign(a->note, a->c->origin, head.seq, raw, a->c->key.name, a->c->sk, err) <
	    0)
		return -1;
	/* The note is the buffer's tail, so it is NUL-terminated. */
	if (q_db_exec(db, err, sql_cp_insert, "usst", head.seq, head.hash, a->note->data + a->start,
	              now) < 0)
		return -1;
	id = q_db_insert_id(db);
	q_hex_encode(id_hex, a->c->key.id, sizeof(a->c->key.id));
	data = json_pack("{s:I, s:s, s:s, s:s, s:I}", "checkpoint_id", (json_int_t)id, "hash",
	                 head.hash, "key_id", id_hex, "origin", a->c->origin, "size",
	                 (json_int_t)head.seq);
	if (data == NULL)
		return q_err_set(err, Q_E_INTERNAL, "checkpoint event could not be built");
	if (q_audit_append_tx(db, a->actor, 0, "audit.checkpoint_signed", data, NULL, err) < 0)
		goto out;
	if (a->out != NULL) {
		a->out->id = id;
		a->out->size = head.seq;
		memcpy(a->out->hash, head.hash, sizeof(a->out->hash));
		a->out->note = a->note->data + a->start;
		a->out->note_len = a->note->len - a->start;
		a->out->signed_at_us = now;
	}
	rc = 0;
out:
	json_decref(data);
	return rc;
}

int
q_audit_checkpoint_sign(struct q_db *db, const struct q_audit_conf *c, const char *actor,
                        struct q_buf *note, struct q_audit_checkpoint *out, struct q_err *err)
{
	struct sign_args a = {c, actor, note, note->len, out};

	if (!c->have_sk)
		return q_err_set(err, Q_E_CONFIG,
		                 "no checkpoint signing key: set [audit] checkpoint_key_file");
	if (check_event(actor, "audit.checkpoint_signed", NULL, err) < 0)
		return -1;
	if (q_db_tx(db, sign_fn, &a, err) < 0) {
		q_buf_truncate(note, a.start);
		return -1;
	}
	return 0;
}

static int
read_checkpoint(struct q_stmt *st, struct q_arena *a, struct q_audit_checkpoint *out,
                struct q_err *err)
{
	memset(out, 0, sizeof(*out));
	out->id = q_stmt_col_uint64(st, 0);
	out->size = q_stmt_col_uint64(st, 1);
	if (q_stmt_col_copy(st, 2, out->hash, sizeof(out->hash), err) < 0)
		return -1;
	out->note = q_stmt_col_strdup(st, 3, a, &out->note_len);
	if (out->note == NULL)
		out->note = q_arena_strdup(a, "");
	out->signed_at_us = q_stmt_col_time_us(st, 4);
	return 0;
}

int
q_audit_checkpoint_latest(struct q_db *db, struct q_arena *a, struct q_audit_checkpoint *out,
                          struct q_err *err)
{
	struct q_stmt *st = q_db_prepare(db, sql_cp_latest, err);
	int r = -1;

	if (st == NULL || q_stmt_exec(st, err) < 0)
		goto out;
	r = q_stmt_fetch(st, err);
	if (r == 1 && read_checkpoint(st, a, out, err) < 0)
		r = -1;
out:
	q_stmt_done(st);
	return r;
}

int
q_audit_checkpoint_check(struct q_db *db, const struct q_audit_conf *c, const char *note,
                         size_t len, struct q_checkpoint *cp, struct q_err *err)
{
	struct q_checkpoint local;
	struct q_audit_entry head;
	char want[Q_AUDIT_HASH_HEX + 1], have[Q_AUDIT_HASH_HEX + 1];
	int r;

	if (cp == NULL)
		cp = &local;
	if (!c->have_pk)
		return q_err_set(err, Q_E_CONFIG,
		                 "no checkpoint public key: set [audit] public_key or "
		                 "public_key_file");
	if (q_checkpoint_open(cp, note, len, &c->key, c->origin, err) < 0)
		return -1;
	q_hex_encode(want, cp->hash, sizeof(cp->hash));
	if (cp->size == 0) {
		memcpy(have, genesis, sizeof(have));
	} else {
		r = q_db_row(db, err, sql_hash_at, "u>s", cp->size, have, sizeof(have));
		if (r < 0)
			return -1;
		if (r == 0) {
			if (q_audit_head(db, &head, err) < 0)
				return -1;
			return q_err_set(err, Q_E_AUDIT_BROKEN,
			                 "the chain has %llu entries, the checkpoint covers %llu: "
			                 "entries were removed",
			                 head.seq, cp->size);
		}
	}
	if (strcmp(have, want) != 0)
		return q_err_set(err, Q_E_AUDIT_BROKEN,
		                 "no longer extended by the chain: entry %llu is %.16s..., the "
		                 "signed head was %.16s...; the chain was rewritten at or before "
		                 "seq %llu",
		                 cp->size, have, want, cp->size);
	return 0;
}

int
q_audit_checkpoint_check_stored(struct q_db *db, const struct q_audit_conf *c,
                                unsigned long long *checked, struct q_err *err)
{
	struct q_arena *a = q_arena_new();
	struct q_stmt *st = q_db_prepare(db, sql_cp_all, err);
	struct q_audit_checkpoint row;
	struct q_checkpoint cp = {0};
	unsigned long long n = 0;
	int r = -1, rc = -1;

	if (st == NULL || q_stmt_exec(st, err) < 0)
		goto out;
	/* The rows are buffered: checking each may run other statements meanwhile. */
	while ((r = q_stmt_fetch(st, err)) == 1) {
		struct q_err e = {0};
		char hex[Q_AUDIT_HASH_HEX + 1], when[32];

		if (read_checkpoint(st, a, &row, err) < 0)
			goto out;
		if (q_audit_checkpoint_check(db, c, row.note, row.note_len, &cp, &e) == 0) {
			q_hex_encode(hex, cp.hash, sizeof(cp.hash));
			if (cp.size != row.size || strcmp(hex, row.hash) != 0)
				q_err_set(&e, Q_E_AUDIT_BROKEN,
				          "its size or hash column differs from its signed note");
		}
		if (e.code != Q_OK) {
			q_audit_ts(when, row.signed_at_us);
			q_err_set(err, e.code, "checkpoint %llu (size %llu, signed %.19sZ): %s",
			          row.id, row.size, when, e.msg);
			goto out;
		}
		n++;
		q_arena_reset(a);
	}
	if (r < 0)
		goto out;
	rc = 0;
out:
	if (checked != NULL)
		*checked = n;
	q_stmt_done(st);
	q_arena_destroy(a);
	return rc;
}
