/*
 * q_vault: envelope encryption of exchange API keys (DESIGN.md section 8).
 *
 * Each record gets a fresh 32-byte data key that encrypts the key, secret and passphrase with
 * AES-256-GCM, or XChaCha20-Poly1305 where the CPU lacks AES-NI; the associated data binds the
 * ciphertext to its user id, exchange and record id, so a blob moved to another row does not
 * open. The data key is sealed (crypto_box_seal) to the vault's X25519 public key: the master
 * key. Its private half is a file only the trader and quantorctl read; the internet-facing API
 * loads the public half alone and can seal but never open.
 *
 * Blob (version 1), all in enc_blob:
 *   "QV" | 0x01 | alg (1 AES-256-GCM, 2 XChaCha20-Poly1305) | kek id (8 bytes) |
 *   sealed data key (80 bytes) | nonce (12 or 24 bytes) | ciphertext | tag (16 bytes)
 * The kek id is the first 8 bytes of SHA-256 of the master public key (16 hex characters in
 * exchange_keys.kek_id). A rotation rewraps only the sealed data key.
 *
 * Config [vault]: public_key (64 hex characters), private_key_file (a secret file holding the
 * 64 hex characters of the X25519 private key), and during a rotation
 * previous_private_key_file (the old master key, still able to open what is not rewrapped).
 */
#ifndef Q_VAULT_H
#define Q_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "q_buf.h"
#include "q_config.h"
#include "q_err.h"

#define Q_VAULT_KEY_LEN 32
#define Q_VAULT_KEK_ID_HEX 16
#define Q_VAULT_MAX_FIELD 512 /* bytes of an api key, secret or passphrase */

enum q_vault_cipher {
	Q_VAULT_AES256GCM = 1,
	Q_VAULT_XCHACHA20POLY1305 = 2,
};

struct q_vault_kek {
	char id[Q_VAULT_KEK_ID_HEX + 1];
	uint8_t pk[Q_VAULT_KEY_LEN];
	uint8_t sk[Q_VAULT_KEY_LEN]; /* only when have_sk; wiped by q_vault_release */
	int have_sk;
};

struct q_vault {
	struct q_vault_kek current;  /* new records are sealed to current.pk */
	struct q_vault_kek previous; /* during a rotation: the old master key (have_sk) */
	enum q_vault_cipher cipher;  /* AES-256-GCM when the CPU has AES-NI */
};

/* What a record protects. Release with q_vault_plain_release, which wipes. */
struct q_vault_plain {
	struct q_buf api_key;
	struct q_buf api_secret;
	struct q_buf passphrase; /* empty when the venue has none */
};

/* What the ciphertext is bound to. */
struct q_vault_ad {
	long long user_id;
	const char *exchange;
	long long record_id;
};

void q_vault_plain_init(struct q_vault_plain *p);
void q_vault_plain_release(struct q_vault_plain *p);

/* The public half only: what the API process loads. 0, or -1 with Q_E_CONFIG. */
int q_vault_load_public(struct q_vault *v, const struct q_config *cfg, struct q_err *err);

/*
 * Public and private halves (and previous_private_key_file when set): the trader and
 * quantorctl. The private key file must be mode 600 or stricter (q_config_secret refuses it
 * otherwise) and must match public_key. 0, or -1 with Q_E_CONFIG.
 */
int q_vault_load_private(struct q_vault *v, const struct q_config *cfg, struct q_err *err);

/* Wipe the private keys. */
void q_vault_release(struct q_vault *v);

/* A new master key pair, and the kek id of a public key. */
void q_vault_keygen(uint8_t pk[Q_VAULT_KEY_LEN], uint8_t sk[Q_VAULT_KEY_LEN]);
void q_vault_kek_id(char out[Q_VAULT_KEK_ID_HEX + 1], const uint8_t pk[Q_VAULT_KEY_LEN]);

/*
 * Encrypt p for the row ad with the vault's cipher (q_vault_seal) or the given one, appending
 * the blob to out. api_key and api_secret must be 1..Q_VAULT_MAX_FIELD bytes, the passphrase
 * 0..Q_VAULT_MAX_FIELD. 0, or -1 (Q_E_BAD_REQUEST for the sizes, Q_E_CRYPTO).
 */
int q_vault_seal(const struct q_vault *v, const struct q_vault_ad *ad,
                 const struct q_vault_plain *p, struct q_buf *out, struct q_err *err);
int q_vault_seal_cipher(const struct q_vault *v, enum q_vault_cipher cipher,
                        const struct q_vault_ad *ad, const struct q_vault_plain *p,
                        struct q_buf *out, struct q_err *err);

/*
 * Decrypt a blob of the row ad into p (which must be initialised; its contents are replaced).
 * Needs the private key whose id the blob names (current or previous). -1 with Q_E_CRYPTO for
 * a vault without that private key, a blob of another row, or any altered byte; p is left
 * empty then.
 */
int q_vault_open(const struct q_vault *v, const struct q_vault_ad *ad, const void *blob, size_t len,
                 struct q_vault_plain *p, struct q_err *err);

/* The kek id a blob names (16 hex characters). 0, or -1 with Q_E_CRYPTO for a malformed blob. */
int q_vault_blob_kek_id(const void *blob, size_t len, char out[Q_VAULT_KEK_ID_HEX + 1],
                        struct q_err *err);

/*
 * Rewrap a blob to the current master key: unseal its data key with the private key it names
 * and seal it again to current.pk; the nonce and ciphertext stay as they are. A blob already
 * on the current key is copied unchanged. Appends to out. 0, or -1 with Q_E_CRYPTO.
 */
int q_vault_rewrap(const struct q_vault *v, const void *blob, size_t len, struct q_buf *out,
                   struct q_err *err);

#endif
