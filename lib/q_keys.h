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
#include "q_db.h"
#include "q_err.h"
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
