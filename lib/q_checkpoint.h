/*
 * q_checkpoint: signed checkpoints of the audit chain, as C2SP signed notes in the
 * tlog-checkpoint form (https://c2sp.org/signed-note, https://c2sp.org/tlog-checkpoint):
 *
 *   quantor.local/audit\n                          origin
 *   4217\n                                         size: entries the checkpoint covers
 *   3q2+7w...base64 of 32 bytes...=\n              the hash of entry <size> (standard base64)
 *   \n
 *   — quantor.local/audit AAAAB...base64...\n     U+2014, space, key name, space,
 *                                                  base64(key id (4) || Ed25519 signature (64))
 *
 * The signature covers the body: every byte before the blank line, its last "\n" included.
 * The key id is the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || 32-byte public key),
 * 0x01 being the signed-note type byte of Ed25519. The "root hash" of this log is the chain
 * head (the hash of entry <size>; 32 zero bytes for size 0, the genesis), not a Merkle root:
 * the chain is linear, so the head commits to every entry before it.
 *
 * Nothing here touches the database; q_audit stores, serves and checks checkpoints.
 */
#ifndef Q_CHECKPOINT_H
#define Q_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "q_buf.h"
#include "q_crypto.h"
#include "q_err.h"

#define Q_CHECKPOINT_MAX_NOTE 8192 /* bytes of a note, signatures included */
#define Q_CHECKPOINT_MAX_NAME 255  /* bytes of an origin or a key name */
#define Q_CHECKPOINT_MAX_SIGS 16   /* signature lines of a note */
#define Q_CHECKPOINT_KEY_ID_LEN 4

/* A verifier's key: its name, public key and the key id derived from both. */
struct q_checkpoint_key {
	char name[Q_CHECKPOINT_MAX_NAME + 1];
	uint8_t pk[Q_ED25519_PK_LEN];
	uint8_t id[Q_CHECKPOINT_KEY_ID_LEN];
};

/* One signature line of a parsed note. */
struct q_checkpoint_sig {
	const char *name; /* points into the note: not NUL-terminated */
	size_t name_len;
	uint8_t id[Q_CHECKPOINT_KEY_ID_LEN];
	int ed25519; /* 1 when the signature has Ed25519's length; sig is then set */
	uint8_t sig[Q_ED25519_SIG_LEN];
};

/* A parsed note. Signature names point into the note text, which must outlive the struct. */
struct q_checkpoint {
	char origin[Q_CHECKPOINT_MAX_NAME + 1];
	unsigned long long size;
	uint8_t hash[Q_SHA256_LEN];
	size_t body_len; /* the signed text is note[0, body_len) */
	struct q_checkpoint_sig sigs[Q_CHECKPOINT_MAX_SIGS];
	size_t nsigs;
};

/*
 * 1 when s is acceptable as an origin or key name: 1 to Q_CHECKPOINT_MAX_NAME bytes of
 * printable ASCII without space or '+' (signed-note forbids spaces and '+' in key names; this
 * module also keeps origins to that set). 0 otherwise.
 */
int q_checkpoint_name_ok(const char *s);

/* The key id of (name, pk). */
void q_checkpoint_key_id(uint8_t id[Q_CHECKPOINT_KEY_ID_LEN], const char *name,
                         const uint8_t pk[Q_ED25519_PK_LEN]);

/* Fill k from name and pk. Returns 0, or -1 with Q_E_CONFIG for a name q_checkpoint_name_ok
 * refuses. */
int q_checkpoint_key_init(struct q_checkpoint_key *k, const char *name,
                          const uint8_t pk[Q_ED25519_PK_LEN], struct q_err *err);

/*
 * Append to out the note for (origin, size, hash) signed with sk (libsodium's 64-byte secret
 * key) under key name name. Returns 0, or -1 with Q_E_BAD_REQUEST for an origin or name that
 * q_checkpoint_name_ok refuses (out is then unchanged).
 */
int q_checkpoint_sign(struct q_buf *out, const char *origin, unsigned long long size,
                      const uint8_t hash[Q_SHA256_LEN], const char *name,
                      const uint8_t sk[Q_ED25519_SK_LEN], struct q_err *err);

/*
 * Parse len bytes of note (no terminator needed) into cp, without checking any signature.
 * The note must be at most Q_CHECKPOINT_MAX_NOTE bytes of UTF-8 without control characters
 * other than "\n", end with "\n", and hold: a body of non-empty lines (origin accepted by
 * q_checkpoint_name_ok; size in decimal without leading zeros, at most 2^63 - 1; the standard
 * base64 of exactly 32 bytes; then any extension lines), one blank line, and 1 to
 * Q_CHECKPOINT_MAX_SIGS lines "— NAME BASE64" whose base64 holds at least 5 bytes.
 * Returns 0, or -1 with Q_E_BAD_REQUEST saying what is malformed (cp is then zeroed).
 */
int q_checkpoint_parse(struct q_checkpoint *cp, const char *note, size_t len, struct q_err *err);

/*
 * Check that the parsed note carries a valid signature by key: a signature line with key's
 * name and key id whose Ed25519 signature verifies over the body. Other signature lines (other
 * keys, witnesses) are ignored. note is the text cp was parsed from. Returns 0, or -1 with
 * Q_E_UNAUTHORIZED: no signature by that key, or one that does not verify.
 */
int q_checkpoint_verify(const struct q_checkpoint *cp, const char *note,
                        const struct q_checkpoint_key *key, struct q_err *err);

/*
 * q_checkpoint_parse, then q_checkpoint_verify, then a check that the origin is origin
 * (Q_E_UNAUTHORIZED when it is another log's). Returns 0 or -1 as those do.
 */
int q_checkpoint_open(struct q_checkpoint *cp, const char *note, size_t len,
                      const struct q_checkpoint_key *key, const char *origin, struct q_err *err);

#endif
