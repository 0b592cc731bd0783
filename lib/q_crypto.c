#include "q_crypto.h"
#include "q_mem.h"

#include <sodium.h>
#include <string.h>

int
q_crypto_init(void)
{
	if (sodium_init() < 0)
		q_die("libsodium failed to initialise");
	return 0;
}

void
q_sha256(uint8_t out[Q_SHA256_LEN], const void *p, size_t n)
{
	crypto_hash_sha256(out, p, n);
}

void
q_sha256_init(struct q_sha256 *s)
{
	crypto_hash_sha256_init(&s->st);
}

void
q_sha256_update(struct q_sha256 *s, const void *p, size_t n)
{
	crypto_hash_sha256_update(&s->st, p, n);
}

void
q_sha256_final(struct q_sha256 *s, uint8_t out[Q_SHA256_LEN])
{
	crypto_hash_sha256_final(&s->st, out);
	sodium_memzero(s, sizeof(*s));
}

/*
 * The _init/_update/_final forms, not crypto_auth_hmacsha256(): the one-shot functions take a
 * fixed 32-byte key, while exchange secrets and Telegram's "WebAppData" key are any length.
 */
void
q_hmac_sha256(uint8_t out[Q_HMAC_SHA256_LEN], const void *key, size_t keylen, const void *msg,
              size_t msglen)
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, msg, msglen);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

void
q_hmac_sha512(uint8_t out[Q_HMAC_SHA512_LEN], const void *key, size_t keylen, const void *msg,
              size_t msglen)
{
	crypto_auth_hmacsha512_state st;

	crypto_auth_hmacsha512_init(&st, key, keylen);
	crypto_auth_hmacsha512_update(&st, msg, msglen);
	crypto_auth_hmacsha512_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

void
q_hex_encode(char *out, const uint8_t *in, size_t n)
{
	sodium_bin2hex(out, 2 * n + 1, in, n);
}

int
q_hex_decode(uint8_t *out, size_t outmax, const char *hex, size_t hexlen, size_t *outlen)
{
	size_t got = 0;
	int rc = -1;

	if (hexlen % 2 != 0 || hexlen / 2 > outmax)
		goto out;
	/* No ignore set and no end pointer: any non-hex character fails the whole decode. */
	if (sodium_hex2bin(out, outmax, hex, hexlen, NULL, &got, NULL) != 0 || got != hexlen / 2)
		goto out;
	rc = 0;
out:
	if (outlen)
		*outlen = rc == 0 ? got : 0;
	return rc;
}

static void
b64_encode(struct q_buf *out, const void *in, size_t n, int variant)
{
	size_t cap = sodium_base64_encoded_len(n, variant);

	q_buf_grow(out, cap);
	sodium_bin2base64(out->data + out->len, cap, in, n, variant);
	out->len += cap - 1;
}

static int
b64_decode(struct q_buf *out, const char *s, size_t n, int variant)
{
	size_t max = n / 4 * 3 + 3, got = 0;

	q_buf_grow(out, max);
	/* No ignore set and no end pointer: libsodium then refuses anything but one exact encoding
	 * (alphabet, padding as the variant requires, zero leftover bits, nothing trailing). */
	if (sodium_base642bin((unsigned char *)out->data + out->len, max, s, n, NULL, &got, NULL,
	                      variant) != 0) {
		/* The scratch bytes past len may hold part of a secret: do not leave them. */
		sodium_memzero(out->data + out->len, max);
		return -1;
	}
	out->len += got;
	out->data[out->len] = '\0';
	return 0;
}

void
q_base64_encode(struct q_buf *out, const void *in, size_t n)
{
	b64_encode(out, in, n, sodium_base64_VARIANT_ORIGINAL);
}

void
q_base64url_encode(struct q_buf *out, const void *in, size_t n)
{
	b64_encode(out, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int
q_base64_decode(struct q_buf *out, const char *s, size_t n)
{
	return b64_decode(out, s, n, sodium_base64_VARIANT_ORIGINAL);
}

int
q_base64url_decode(struct q_buf *out, const char *s, size_t n)
{
	return b64_decode(out, s, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int
q_ct_equal(const void *a, const void *b, size_t n)
{
	return sodium_memcmp(a, b, n) == 0;
}

int
q_ct_streq(const char *a, const char *b)
{
	size_t n = strlen(a);

	if (strlen(b) != n)
		return 0;
	return sodium_memcmp(a, b, n) == 0;
}

void
q_ed25519_keypair(uint8_t pk[Q_ED25519_PK_LEN], uint8_t sk[Q_ED25519_SK_LEN])
{
	crypto_sign_ed25519_keypair(pk, sk);
}

void
q_ed25519_seed_keypair(uint8_t pk[Q_ED25519_PK_LEN], uint8_t sk[Q_ED25519_SK_LEN],
                       const uint8_t seed[Q_ED25519_SEED_LEN])
{
	crypto_sign_ed25519_seed_keypair(pk, sk, seed);
}

void
q_ed25519_sign(uint8_t sig[Q_ED25519_SIG_LEN], const void *msg, size_t msglen,
               const uint8_t sk[Q_ED25519_SK_LEN])
{
	crypto_sign_ed25519_detached(sig, NULL, msg, msglen, sk);
}

int
q_ed25519_verify(const uint8_t sig[Q_ED25519_SIG_LEN], const void *msg, size_t msglen,
                 const uint8_t pk[Q_ED25519_PK_LEN])
{
	return crypto_sign_ed25519_verify_detached(sig, msg, msglen, pk) == 0 ? 0 : -1;
}

void
q_random(void *buf, size_t n)
{
	randombytes_buf(buf, n);
}

void
q_wipe(void *p, size_t n)
{
	sodium_memzero(p, n);
}
