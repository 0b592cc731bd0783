/*
 * q_audit: the tamper-evident audit chain (DESIGN.md section 9). Every part of Quantor records
 * a sensitive event through q_audit_append (or q_audit_append_tx inside its own transaction),
 * and through nothing else.
 *
 * Entry seq (1, 2, 3, ...) is stored in audit_log as
 *   payload   = the canonical JSON {"actor":A,"data":{...},"seq":N,"ts":T,"type":Y}: keys sorted,
 *               no spaces (Jansson JSON_SORT_KEYS | JSON_COMPACT), UTF-8 as is, "/" unescaped;
 *               T is RFC 3339 UTC with microseconds, "2026-11-21T14:00:00.000000Z"
 *   prev_hash = the hash of entry seq - 1, 64 lowercase hex digits; 64 "0"s for seq 1
 *   hash      = lowercase hex of SHA-256(prev_hash || payload), over exactly the stored bytes
 * so `printf '%s%s' "$prev_hash" "$payload" | sha256sum` recomputes any entry. The columns ts,
 * actor, type and user_id repeat what the payload says, for queries; the payload is what the
 * hash covers. Amounts in data are strings: a JSON real is refused, so no float formatting
 * ever enters a hash. seq and prev_hash are UNIQUE in the table, so a fork cannot be stored,
 * and the application's database user may only INSERT and SELECT audit_log.
 *
 * Event types are "<domain>.<what happened>" in [a-z0-9._-] ("bot.started", "key.rejected",
 * "audit.checkpoint_signed"); actors are "<kind>:<id>" ("user:123", "admin:456",
 * "system:trader", "operator:quantorctl").
 */
#ifndef Q_AUDIT_H
#define Q_AUDIT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "q_arena.h"
#include "q_buf.h"
#include "q_checkpoint.h"
#include "q_config.h"
#include "q_db.h"
#include "q_err.h"

#define Q_AUDIT_HASH_HEX 64 /* characters of a hash in hex */
#define Q_AUDIT_MAX_ACTOR 128
#define Q_AUDIT_MAX_TYPE 64
#define Q_AUDIT_DEFAULT_ORIGIN "quantor.local/audit"

/* An entry's place in the chain. */
struct q_audit_entry {
	unsigned long long seq; /* 0 for the empty chain */
	char hash[Q_AUDIT_HASH_HEX + 1];
};

/* ---- the formula (pure) ---------------------------------------------------------------- */

/*
 * Append to out the canonical payload of an entry. data (borrowed) must be an object, or NULL
 * for {}. ts_us is microseconds since the Unix epoch (UTC). Returns 0, or -1 with Q_E_INTERNAL
 * (a programming error, out unchanged): an actor or type that is empty, too long or holds
 * other characters than the header allows, data that is not an object or holds a real number
 * anywhere (amounts are strings) or nests deeper than 32, or seq 0 or above 2^63 - 1.
 */
int q_audit_payload(struct q_buf *out, const char *actor, unsigned long long seq, long long ts_us,
                    const char *type, const json_t *data, struct q_err *err);

/* hash = lowercase hex SHA-256(prev_hex || payload); prev_hex is 64 characters. */
void q_audit_hash(char out[Q_AUDIT_HASH_HEX + 1], const char *prev_hex, const void *payload,
                  size_t len);

/* ts_us as "2026-11-21T14:00:00.000000Z". Returns 0, or -1 (out = "") outside years 0-9999. */
int q_audit_ts(char out[32], long long ts_us);

/* ---- the chain ------------------------------------------------------------------------- */

/*
 * Append one event in its own transaction (q_db_tx): lock the head row (SELECT ... FOR UPDATE,
 * autocommit off), insert entry head.seq + 1 chained on head.hash, move the head, commit. A
 * deadlock, snapshot conflict or lock wait timeout (q_db_err_retryable) rolls back and runs the
 * transaction again, up to Q_DB_TX_ATTEMPTS times, after a short random pause. Called inside
 * an open transaction it joins it, exactly as q_audit_append_tx. user_id is the user the event
 * is about (the events endpoint shows it to them), 0 for none. data is borrowed. out
 * (optional) receives the new entry's seq and hash. Returns 0, or -1 with the q_audit_payload
 * errors, Q_E_DB_CONFLICT after the last run, Q_E_AUDIT_BROKEN when the head row is missing,
 * or another q_db error (a lost connection is not retried: the commit may have happened).
 */
int q_audit_append(struct q_db *db, const char *actor, long long user_id, const char *type,
                   const json_t *data, struct q_audit_entry *out, struct q_err *err);

/*
 * The same inside the caller's open transaction (Q_E_INTERNAL when there is none), so a
 * domain change and its audit event commit or roll back together. Nothing is retried here: on
 * -1 the caller rolls back, and runs its whole transaction again when q_db_err_retryable(err).
 * The head row stays locked until the caller's transaction ends: append late in it.
 */
int q_audit_append_tx(struct q_db *db, const char *actor, long long user_id, const char *type,
                      const json_t *data, struct q_audit_entry *out, struct q_err *err);

/* The head: the last entry's seq and hash (0 and 64 "0"s for an empty chain). 0 or -1. */
int q_audit_head(struct q_db *db, struct q_audit_entry *out, struct q_err *err);

struct q_audit_verify_result {
	int ok;
	unsigned long long seq;           /* entries verified: the head seq when ok */
	char head[Q_AUDIT_HASH_HEX + 1];  /* the head hash when ok, "" otherwise */
	unsigned long long first_bad_seq; /* 0 when ok */
	char reason[192];                 /* what is wrong at first_bad_seq, "" when ok */
};

enum q_audit_verify_flags {
	/*
	 * At most one such verification at a time on the whole database (a named lock): when
	 * another is running, fail at once with Q_E_RATE_LIMITED. For the public endpoint.
	 */
	Q_AUDIT_VERIFY_SINGLE = 1 << 0,
};

/*
 * Recompute the whole chain from genesis in one consistent snapshot, streaming audit_log in
 * seq order in constant memory (one row at a time, no allocation per row). Entry seq is good
 * when it is present, its prev_hash column is the hash of entry seq - 1, its payload's
 * top-level "seq" is seq, and SHA-256(prev_hash || payload) is its hash column; and the head
 * row must name the last entry. res->first_bad_seq is the first seq that is not good: a
 * missing entry reports its own seq, entries beyond the head report head.seq + 1, a head
 * beyond the entries reports the first missing one.
 * Opens (and ends) its own read transaction unless db is in one. Returns 0 when the chain was
 * read (res->ok says whether it holds), -1 with a q_db error, or Q_E_RATE_LIMITED (see flags).
 */
int q_audit_verify(struct q_db *db, unsigned flags, struct q_audit_verify_result *res,
                   struct q_err *err);

/* One stored entry, as the events endpoint shows it. */
struct q_audit_event {
	unsigned long long seq;
	char prev_hash[Q_AUDIT_HASH_HEX + 1];
	char hash[Q_AUDIT_HASH_HEX + 1];
	const char *payload; /* the exact canonical bytes (arena-owned, NUL-terminated) */
	size_t payload_len;
};

/*
 * The events about user_id with seq > after_seq, oldest first, at most limit (1 to 1000) of
 * them, into an arena-owned array *out of *n entries. Returns 0, or -1 with Q_E_INTERNAL for
 * a bad limit or user id, or a q_db error.
 */
int q_audit_events_for_user(struct q_db *db, struct q_arena *a, long long user_id,
                            unsigned long long after_seq, unsigned limit,
                            struct q_audit_event **out, size_t *n, struct q_err *err);

/* ---- checkpoints ----------------------------------------------------------------------- */

/*
 * The [audit] section:
 *   origin              = quantor.local/audit   the log's name, first line of every checkpoint
 *   key_name            = <origin>              the signing key's name in signature lines
 *   public_key          = <64 hex>              or public_key_file = FILE holding that hex
 *   checkpoint_key_file = FILE                  secret: the Ed25519 seed as 64 hex characters
 *   checkpoint_interval = 3600                  seconds between the trader's checkpoints
 */
struct q_audit_conf {
	char origin[Q_CHECKPOINT_MAX_NAME + 1];
	struct q_checkpoint_key key; /* name always; pk and id when have_pk */
	int have_pk;
	int have_sk;
	uint8_t sk[Q_ED25519_SK_LEN]; /* when have_sk; wiped by q_audit_conf_release */
	long long checkpoint_interval;
};

/*
 * Load c from cfg's [audit] section. The public key comes from public_key or public_key_file
 * (a relative name is relative to the config file's directory); with with_secret, the signing
 * key is read from checkpoint_key_file through q_config_secret (which refuses a group- or
 * world-readable file) and the public key is derived from it when none is configured. A
 * configured public key that does not belong to the signing key is an error. Returns 0, or -1
 * with Q_E_CONFIG naming the setting (c is then released).
 */
int q_audit_conf_load(struct q_audit_conf *c, const struct q_config *cfg, int with_secret,
                      struct q_err *err);

/* Wipe the signing key. */
void q_audit_conf_release(struct q_audit_conf *c);

/* A stored checkpoint. */
struct q_audit_checkpoint {
	unsigned long long id;
	unsigned long long size;
	char hash[Q_AUDIT_HASH_HEX + 1];
	char *note; /* the signed note (arena-owned or the caller's buffer, see below) */
	size_t note_len;
	long long signed_at_us;
};

/*
 * Sign the current head with c's signing key (Q_E_CONFIG without one) and store the note in
 * audit_checkpoints, then append the event "audit.checkpoint_signed" by actor, whose data names
 * the checkpoint (id, origin, key_id, size, hash): all in one transaction, retried as
 * q_audit_append is. So the signed head is the one just before that event, and the next
 * checkpoint covers the event. The note is appended to note; out (optional) gets the rest,
 * with out->note pointing into note. Returns 0 or -1 (q_db and q_audit_append errors).
 */
int q_audit_checkpoint_sign(struct q_db *db, const struct q_audit_conf *c, const char *actor,
                            struct q_buf *note, struct q_audit_checkpoint *out, struct q_err *err);

/* The latest stored checkpoint, its note in arena a. Returns 1, 0 when there is none, or -1. */
int q_audit_checkpoint_latest(struct q_db *db, struct q_arena *a, struct q_audit_checkpoint *out,
                              struct q_err *err);

/*
 * Check a note against the chain: it opens (q_checkpoint_open) with c's public key and origin,
 * and the stored entry at the checkpoint's size has exactly its hash (size 0: the genesis
 * hash). Run q_audit_verify first: the stored hash equals the recomputed one only on a chain
 * that verifies. cp (optional) receives the parsed note. Returns 0, or -1 with
 * Q_E_BAD_REQUEST (malformed note), Q_E_UNAUTHORIZED (signature, origin), Q_E_CONFIG (no public
 * key configured), Q_E_AUDIT_BROKEN (the chain no longer extends it: the message names the seq
 * and both hashes, or says the chain is shorter than the checkpoint) or a q_db error.
 */
int q_audit_checkpoint_check(struct q_db *db, const struct q_audit_conf *c, const char *note,
                             size_t len, struct q_checkpoint *cp, struct q_err *err);

/*
 * q_audit_checkpoint_check on every stored checkpoint, oldest first; *checked (optional) counts
 * those that passed. Returns 0, or -1 at the first that fails, the message prefixed with
 * "checkpoint ID (size N, signed T): ".
 */
int q_audit_checkpoint_check_stored(struct q_db *db, const struct q_audit_conf *c,
                                    unsigned long long *checked, struct q_err *err);

#endif
