/*
 * q_crypto: the primitives Quantor signs, verifies and hashes with, all on libsodium.
 *
 * SHA-256 (audit chain, build identity), HMAC-SHA256/512 (exchange request signing, Telegram
 * initData, webhook signatures), hex and base64, constant-time comparison and Ed25519
 * (build identity, audit checkpoints, Telegram's initData signature).
 * Call q_crypto_init() once at startup, before any other function here. Nothing in this
 * module allocates except the base64 functions, which append to a caller-owned q_buf.
 */
#ifndef Q_CRYPTO_H
#define Q_CRYPTO_H

#include "q_buf.h"

#include <sodium/crypto_hash_sha256.h>
#include <stddef.h>
#include <stdint.h>

#define Q_SHA256_LEN 32
#define Q_HMAC_SHA256_LEN 32
#define Q_HMAC_SHA512_LEN 64
#define Q_ED25519_PK_LEN 32
#define Q_ED25519_SK_LEN 64 /* libsodium layout: seed (32) then public key (32) */
#define Q_ED25519_SEED_LEN 32
#define Q_ED25519_SIG_LEN 64

/*
 * sodium_init(); safe to call more than once and from several threads. Returns 0; a library
 * that cannot initialise (no entropy source) is fatal (q_die).
 */
int q_crypto_init(void);

/* SHA-256 of n bytes at p into out. */
void q_sha256(uint8_t out[Q_SHA256_LEN], const void *p, size_t n);

/* Streaming SHA-256: init, any number of updates, then final (which also wipes the state). */
struct q_sha256 {
	crypto_hash_sha256_state st;
};
void q_sha256_init(struct q_sha256 *s);
void q_sha256_update(struct q_sha256 *s, const void *p, size_t n);
void q_sha256_final(struct q_sha256 *s, uint8_t out[Q_SHA256_LEN]);

/*
 * HMAC (RFC 2104) with a key of any length, including 0 and longer than the block (such a
 * key is hashed first, as the RFC says). Output is the full, untruncated MAC.
 */
void q_hmac_sha256(uint8_t out[Q_HMAC_SHA256_LEN], const void *key, size_t keylen, const void *msg,
                   size_t msglen);
void q_hmac_sha512(uint8_t out[Q_HMAC_SHA512_LEN], const void *key, size_t keylen, const void *msg,
                   size_t msglen);

/* Lowercase hex of n bytes into out, which must hold 2 * n + 1 chars (NUL-terminated). */
void q_hex_encode(char *out, const uint8_t *in, size_t n);

/*
 * Decode hexlen hex digits (upper or lower case, nothing else: no spaces, no "0x") into out.
 * Returns 0 and sets *outlen (when outlen is not NULL) to hexlen / 2; -1 on an odd length, a
 * non-hex character, or more than outmax bytes of output. On -1, *outlen is 0 and the contents
 * of out are unspecified.
 */
int q_hex_decode(uint8_t *out, size_t outmax, const char *hex, size_t hexlen, size_t *outlen);

/*
 * Base64. q_base64_* is the standard alphabet with '=' padding (RFC 4648 section 4);
 * q_base64url_* the URL-safe alphabet without padding (section 5, as JWT and Telegram use).
 * Encoding appends to out. Decoding appends the bytes to out and returns 0, or returns -1 and
 * leaves out unchanged when the input is not exactly one canonical encoding: a character
 * outside the alphabet (whitespace included), missing or extra padding, or leftover bits that
 * are not zero.
 */
void q_base64_encode(struct q_buf *out, const void *in, size_t n);
void q_base64url_encode(struct q_buf *out, const void *in, size_t n);
int q_base64_decode(struct q_buf *out, const char *s, size_t n);
int q_base64url_decode(struct q_buf *out, const char *s, size_t n);

/* 1 when the n bytes at a and b are equal, else 0; the time taken depends only on n. */
int q_ct_equal(const void *a, const void *b, size_t n);

/*
 * 1 when the strings are equal, else 0. Strings of different lengths are unequal at once (a
 * length is not secret); equal lengths are compared in constant time.
 */
int q_ct_streq(const char *a, const char *b);

/*
 * Ed25519 (RFC 8032, pure, no context). Secret keys use libsodium's 64-byte layout (seed then
 * public key); RFC 8032's 32-byte "secret key" is the seed. Wipe secret keys with q_wipe.
 */
void q_ed25519_keypair(uint8_t pk[Q_ED25519_PK_LEN], uint8_t sk[Q_ED25519_SK_LEN]);
void q_ed25519_seed_keypair(uint8_t pk[Q_ED25519_PK_LEN], uint8_t sk[Q_ED25519_SK_LEN],
                            const uint8_t seed[Q_ED25519_SEED_LEN]);
/* Detached signature of msglen bytes at msg. Deterministic: same key and message, same sig. */
void q_ed25519_sign(uint8_t sig[Q_ED25519_SIG_LEN], const void *msg, size_t msglen,
                    const uint8_t sk[Q_ED25519_SK_LEN]);
/* 0 when sig is a valid signature of msg by pk; -1 otherwise (also for a malformed key). */
int q_ed25519_verify(const uint8_t sig[Q_ED25519_SIG_LEN], const void *msg, size_t msglen,
                     const uint8_t pk[Q_ED25519_PK_LEN]);

/* n bytes from the system CSPRNG (never fails). */
void q_random(void *buf, size_t n);
/* Zero n bytes in a way the compiler cannot optimise away (sodium_memzero). */
void q_wipe(void *p, size_t n);

#endif
