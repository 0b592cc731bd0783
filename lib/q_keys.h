/*
 * q_keys: the users' exchange API keys as stored: encrypted by q_vault, never readable by the
 * API (it holds the vault's public half only). Listing shows last4 and flags, never a secret.
 * Deleting a key a running LIVE bot uses is refused. Rotation rewraps every data key to the
 * vault's current master key in small batches: resumable, and the stack keeps working because
 * the blobs name their key and both keys open until it is done.
 */
#ifndef Q_KEYS_H
#define Q_KEYS_H

#include <stddef.h>

#include "q_arena.h"
#include "q_config.h"
#include "q_db.h"
#include "q_err.h"
#include "q_exchange.h"
#include "q_vault.h"

struct q_key {
	long long id;
	char exchange[12];
	char label[65];
	char last4[5];
	int verified;
	long long verified_at_us; /* 0 when never */
	const char *permissions;  /* JSON array text as last seen by the venue, arena-owned */
	int ip_restricted;
	char kek_id[Q_VAULT_KEK_ID_HEX + 1];
	long long created_us;
};

/* A key as the user submits it. passphrase is NULL or "" for venues without one. */
struct q_key_input {
	const char *exchange;
	const char *label; /* NULL or "" for none */
	const char *api_key;
	const char *api_secret;
	const char *passphrase;
};

/*
 * The shape of in, before anything is sent anywhere: a known exchange, a label of at most 64
 * bytes without control characters, an api_key of 1 to 256 printable ASCII characters, an
 * api_secret of 1 to Q_VAULT_MAX_FIELD bytes without control characters (a Binance Ed25519 PEM
 * may hold line breaks), a passphrase exactly when the venue has one. -1 with Q_E_BAD_REQUEST
 * naming the field; the message never quotes a secret.
 */
int q_keys_validate(const struct q_key_input *in, struct q_err *err);

/*
 * Ask the venue (base URL from [exchange.<name>] of cfg) what the key may do, then make a
 * read-only balance call with it (DESIGN.md section 8). 0 with *perms when it is a trade-only
 * key; -1 with Q_E_KEY_CAN_WITHDRAW (it can withdraw or transfer), Q_E_KEY_CANNOT_TRADE (no spot
 * trading), Q_E_KEY_INVALID (the venue refused the key, its signature or its passphrase), or
 * Q_E_EXCHANGE_UNAVAILABLE (the venue could not be asked: nothing is concluded). *perms is
 * filled whenever the permission call answered.
 */
int q_keys_check(const struct q_config *cfg, const struct q_key_input *in,
                 struct q_exchange_perms *perms, struct q_err *err);

/*
 * Save a key for user_id: q_keys_validate, q_keys_check, then in one transaction insert the row
 * (last4, verified, permissions seen, IP restriction, kek id), seal the key to the vault's
 * public key bound to (user, exchange, row id), and append "key.saved" to the audit chain. A
 * key the venue refuses or that can withdraw stores nothing and appends "key.rejected" with the
 * reason (its own error is returned even if that append fails). *out describes the stored key.
 */
int q_keys_save(struct q_db *db, const struct q_config *cfg, const struct q_vault *v,
                long long user_id, const char *actor, const struct q_key_input *in,
                struct q_key *out, struct q_err *err);

struct q_keys_verify_stats {
	int checked;
	int verified;    /* still trade-only */
	int refused;     /* now invalid, able to withdraw, or unable to trade: marked unverified */
	int unreachable; /* the venue could not be asked: left as they were */
	int halted_bots; /* LIVE bots halted because their key was refused */
};

/*
 * Re-run q_keys_check on every stored key (the trader daily, `quantorctl keys verify`): v must
 * hold the private key. A key still trade-only gets verified_at and permissions refreshed and
 * "key.verified"; a refused one is marked unverified, its running LIVE bots halt with its
 * reason, the user is told through the outbox, and "key.rejected" is appended. A venue that
 * cannot be asked changes nothing. progress (may be NULL) is called after each key. 0, or -1
 * on a database or vault failure.
 */
int q_keys_verify_all(struct q_db *db, const struct q_config *cfg, const struct q_vault *v,
                      const char *actor, struct q_keys_verify_stats *st,
                      void (*progress)(const struct q_key *k, const struct q_err *result, void *ud),
                      void *ud, struct q_err *err);

/* The user's keys, oldest first. 0 or -1. */
int q_keys_list(struct q_db *db, struct q_arena *a, long long user_id, struct q_key **out,
                size_t *n, struct q_err *err);

/*
 * Delete the user's key, with "key.deleted" in the audit chain. -1 with Q_E_NOT_FOUND (not the
 * user's), or Q_E_CONFLICT while a running LIVE bot uses it (stop the bot first).
 */
int q_keys_delete(struct q_db *db, long long user_id, long long key_id, const char *actor,
                  struct q_err *err);

/* Keys not yet on the vault's current master key. 0 or -1. */
int q_keys_count_stale(struct q_db *db, const struct q_vault *v, long long *n, struct q_err *err);

/*
 * Rewrap up to batch keys that are not on the vault's current master key (one transaction).
 * *done gets how many were rewrapped (0 when none is left). v needs the private key each blob
 * names: the current one, or previous_private_key_file. 0 or -1.
 */
int q_keys_rotate_batch(struct q_db *db, const struct q_vault *v, int batch, int *done,
                        struct q_err *err);

#endif
