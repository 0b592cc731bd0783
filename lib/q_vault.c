#include "q_vault.h"
#include "q_crypto.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define MAGIC0 'Q'
#define MAGIC1 'V'
#define VERSION 1
#define SEALED_LEN (crypto_box_SEALBYTES + Q_VAULT_KEY_LEN)
#define HDR_LEN (4 + 8 + SEALED_LEN)
#define TAG_LEN 16
#define AD_DOMAIN "quantor-vault/1"

void
q_vault_plain_init(struct q_vault_plain *p)
{
	q_buf_init(&p->api_key);
	q_buf_init(&p->api_secret);
	q_buf_init(&p->passphrase);
}

void
q_vault_plain_release(struct q_vault_plain *p)
{
	q_buf_release_secret(&p->api_key);
	q_buf_release_secret(&p->api_secret);
	q_buf_release_secret(&p->passphrase);
}

void
q_vault_keygen(uint8_t pk[Q_VAULT_KEY_LEN], uint8_t sk[Q_VAULT_KEY_LEN])
{
	crypto_box_keypair(pk, sk);
}

void
q_vault_kek_id(char out[Q_VAULT_KEK_ID_HEX + 1], const uint8_t pk[Q_VAULT_KEY_LEN])
{
	uint8_t h[32];

	q_sha256(h, pk, Q_VAULT_KEY_LEN);
	q_hex_encode(out, h, Q_VAULT_KEK_ID_HEX / 2);
}

void
q_vault_release(struct q_vault *v)
{
	sodium_memzero(v, sizeof(*v));
}

static size_t
nonce_len(enum q_vault_cipher c)
{
	return c == Q_VAULT_AES256GCM ? crypto_aead_aes256gcm_NPUBBYTES
	                              : crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
}

/* 64 hex characters into a 32-byte key. */
static int
parse_key(uint8_t out[Q_VAULT_KEY_LEN], const char *hex, size_t len)
{
	size_t n = 0;

	while (len && (hex[len - 1] == '\n' || hex[len - 1] == '\r' || hex[len - 1] == ' '))
		len--;
	return len == (size_t)2 * Q_VAULT_KEY_LEN &&
	                       q_hex_decode(out, Q_VAULT_KEY_LEN, hex, len, &n) == 0 &&
	                       n == Q_VAULT_KEY_LEN
	               ? 0
	               : -1;
}

int
q_vault_load_public(struct q_vault *v, const struct q_config *cfg, struct q_err *err)
{
	const char *pk = q_config_get(cfg, "vault", "public_key", NULL);

	memset(v, 0, sizeof(*v));
	if (pk == NULL || parse_key(v->current.pk, pk, strlen(pk)) < 0)
		return q_err_set(err, Q_E_CONFIG,
		                 "%s: [vault] public_key must be the 64 hex characters that "
		                 "`quantorctl keys gen-master` printed",
		                 q_config_path(cfg));
	q_vault_kek_id(v->current.id, v->current.pk);
	/* AES-GCM needs AES-NI (libsodium refuses it otherwise); the blob says which was used. */
	v->cipher = crypto_aead_aes256gcm_is_available() ? Q_VAULT_AES256GCM
	                                                 : Q_VAULT_XCHACHA20POLY1305;
	return 0;
}

/* A private key from a secret file; its public key and id derived from it. */
static int
load_sk(struct q_vault_kek *k, const struct q_config *cfg, const char *key, struct q_err *err)
{
	struct q_buf hex = Q_BUF_INIT;
	int rc = -1;

	if (q_config_secret(cfg, "vault", key, &hex, err) < 0)
		return -1;
	if (parse_key(k->sk, hex.data, hex.len) < 0) {
		q_err_set(err, Q_E_CONFIG,
		          "%s: [vault] %s does not hold a vault key (64 hex characters); make one "
		          "with `quantorctl keys gen-master`",
		          q_config_path(cfg), key);
		goto out;
	}
	crypto_scalarmult_base(k->pk, k->sk);
	q_vault_kek_id(k->id, k->pk);
	k->have_sk = 1;
	rc = 0;
out:
	q_buf_release_secret(&hex);
	return rc;
}

int
q_vault_load_private(struct q_vault *v, const struct q_config *cfg, struct q_err *err)
{
	struct q_vault_kek k;

	if (q_vault_load_public(v, cfg, err) < 0)
		return -1;
	memset(&k, 0, sizeof(k));
	if (load_sk(&k, cfg, "private_key_file", err) < 0)
		goto fail;
	if (!q_ct_equal(k.pk, v->current.pk, Q_VAULT_KEY_LEN)) {
		q_err_set(err, Q_E_CONFIG,
		          "%s: [vault] private_key_file is not the private half of public_key "
		          "(key %s vs %s); set public_key to the key gen-master printed with it",
		          q_config_path(cfg), k.id, v->current.id);
		goto fail;
	}
	v->current = k;
	if (q_config_get(cfg, "vault", "previous_private_key_file", NULL) != NULL &&
	    load_sk(&v->previous, cfg, "previous_private_key_file", err) < 0)
		goto fail;
	sodium_memzero(&k, sizeof(k));
	return 0;
fail:
	sodium_memzero(&k, sizeof(k));
	q_vault_release(v);
	return -1;
}

/* AD = domain | alg | user id | exchange | record id: the row the ciphertext belongs to. */
static void
build_ad(struct q_buf *ad, enum q_vault_cipher c, const struct q_vault_ad *a)
{
	uint8_t n[8];
	const char *ex = a->exchange ? a->exchange : "";

	q_buf_add(ad, AD_DOMAIN, sizeof(AD_DOMAIN));
	q_buf_addch(ad, (char)c);
	for (int i = 0; i < 8; i++)
		n[i] = (uint8_t)((unsigned long long)a->user_id >> (56 - 8 * i));
	q_buf_add(ad, n, 8);
	q_buf_addch(ad, (char)strlen(ex));
	q_buf_adds(ad, ex);
	for (int i = 0; i < 8; i++)
		n[i] = (uint8_t)((unsigned long long)a->record_id >> (56 - 8 * i));
	q_buf_add(ad, n, 8);
}

static int
put_field(uint8_t *dst, size_t *off, const struct q_buf *f)
{
	dst[(*off)++] = (uint8_t)(f->len >> 8);
	dst[(*off)++] = (uint8_t)f->len;
	if (f->len)
		memcpy(dst + *off, f->data, f->len);
	*off += f->len;
	return 0;
}

int
q_vault_seal_cipher(const struct q_vault *v, enum q_vault_cipher cipher,
                    const struct q_vault_ad *ad, const struct q_vault_plain *p, struct q_buf *out,
                    struct q_err *err)
{
	uint8_t dk[Q_VAULT_KEY_LEN], hdr[HDR_LEN], nonce[24], kid[8];
	struct q_buf a = Q_BUF_INIT;
	uint8_t *pt = NULL, *ct = NULL;
	size_t ptlen, off = 0, nl = nonce_len(cipher), idlen;
	unsigned long long ctlen = 0;
	int rc = -1;

	if (p->api_key.len == 0 || p->api_key.len > Q_VAULT_MAX_FIELD || p->api_secret.len == 0 ||
	    p->api_secret.len > Q_VAULT_MAX_FIELD || p->passphrase.len > Q_VAULT_MAX_FIELD)
		return q_err_set(
		        err, Q_E_BAD_REQUEST,
		        "api_key and api_secret must be 1 to %d bytes, a passphrase at most "
		        "%d",
		        Q_VAULT_MAX_FIELD, Q_VAULT_MAX_FIELD);
	if (cipher == Q_VAULT_AES256GCM && !crypto_aead_aes256gcm_is_available())
		return q_err_set(err, Q_E_CRYPTO, "AES-256-GCM needs AES-NI, which this CPU lacks");
	ptlen = 6 + p->api_key.len + p->api_secret.len + p->passphrase.len;
	pt = sodium_malloc(ptlen);
	ct = sodium_malloc(ptlen + TAG_LEN);
	if (pt == NULL || ct == NULL) {
		q_err_set(err, Q_E_CRYPTO, "out of locked memory");
		goto out;
	}
	put_field(pt, &off, &p->api_key);
	put_field(pt, &off, &p->api_secret);
	put_field(pt, &off, &p->passphrase);

	crypto_aead_aes256gcm_keygen(dk);
	q_random(nonce, nl);
	hdr[0] = MAGIC0;
	hdr[1] = MAGIC1;
	hdr[2] = VERSION;
	hdr[3] = (uint8_t)cipher;
	if (q_hex_decode(kid, sizeof(kid), v->current.id, Q_VAULT_KEK_ID_HEX, &idlen) < 0) {
		q_err_set(err, Q_E_CRYPTO, "vault has no current key");
		goto out;
	}
	memcpy(hdr + 4, kid, 8);
	if (crypto_box_seal(hdr + 12, dk, sizeof(dk), v->current.pk) != 0) {
		q_err_set(err, Q_E_CRYPTO, "sealing the data key failed");
		goto out;
	}
	build_ad(&a, cipher, ad);
	if (cipher == Q_VAULT_AES256GCM)
		rc = crypto_aead_aes256gcm_encrypt(ct, &ctlen, pt, ptlen, (const uint8_t *)a.data,
		                                   a.len, NULL, nonce, dk);
	else
		rc = crypto_aead_xchacha20poly1305_ietf_encrypt(
		        ct, &ctlen, pt, ptlen, (const uint8_t *)a.data, a.len, NULL, nonce, dk);
	if (rc != 0) {
		rc = q_err_set(err, Q_E_CRYPTO, "encryption failed");
		goto out;
	}
	q_buf_add(out, hdr, sizeof(hdr));
	q_buf_add(out, nonce, nl);
	q_buf_add(out, ct, (size_t)ctlen);
	rc = 0;
out:
	sodium_memzero(dk, sizeof(dk));
	sodium_free(pt); /* sodium_free wipes */
	sodium_free(ct);
	q_buf_release(&a);
	return rc;
}

int
q_vault_seal(const struct q_vault *v, const struct q_vault_ad *ad, const struct q_vault_plain *p,
             struct q_buf *out, struct q_err *err)
{
	return q_vault_seal_cipher(v, v->cipher, ad, p, out, err);
}

/* Check the header; *cipher and the kek that can open it. */
/* The key-encryption key the blob is sealed to, or NULL with err set. */
static const struct q_vault_kek *
parse_header(const struct q_vault *v, const uint8_t *b, size_t len, enum q_vault_cipher *cipher,
             struct q_err *err)
{
	char id[Q_VAULT_KEK_ID_HEX + 1];

	if (len < HDR_LEN || b[0] != MAGIC0 || b[1] != MAGIC1 || b[2] != VERSION ||
	    (b[3] != Q_VAULT_AES256GCM && b[3] != Q_VAULT_XCHACHA20POLY1305)) {
		q_err_set(err, Q_E_CRYPTO, "not a vault blob of a known version");
		return NULL;
	}
	*cipher = (enum q_vault_cipher)b[3];
	if (len < HDR_LEN + nonce_len(*cipher) + TAG_LEN) {
		q_err_set(err, Q_E_CRYPTO, "vault blob is truncated");
		return NULL;
	}
	q_hex_encode(id, b + 4, 8);
	if (v->current.have_sk && strcmp(id, v->current.id) == 0)
		return &v->current;
	if (v->previous.have_sk && strcmp(id, v->previous.id) == 0)
		return &v->previous;
	q_err_set(err, Q_E_CRYPTO,
	          v->current.have_sk ? "vault blob is sealed to key %s, which this "
	                               "process does not hold"
	                             : "this process holds no vault private key (blob "
	                               "key %s)",
	          id);
	return NULL;
}

static int
get_field(struct q_buf *f, const uint8_t *pt, size_t len, size_t *off)
{
	size_t n;

	if (*off + 2 > len)
		return -1;
	n = (size_t)pt[*off] << 8 | pt[*off + 1];
	*off += 2;
	if (*off + n > len)
		return -1;
	q_buf_add(f, pt + *off, n);
	*off += n;
	return 0;
}

int
q_vault_open(const struct q_vault *v, const struct q_vault_ad *ad, const void *blob, size_t len,
             struct q_vault_plain *p, struct q_err *err)
{
	const uint8_t *b = blob;
	const struct q_vault_kek *kek;
	enum q_vault_cipher cipher;
	uint8_t dk[Q_VAULT_KEY_LEN], *pt = NULL;
	struct q_buf a = Q_BUF_INIT;
	unsigned long long ptlen = 0;
	size_t nl, ctlen, off = 0;
	int rc = -1;

	q_vault_plain_release(p);
	if ((kek = parse_header(v, b, len, &cipher, err)) == NULL)
		return -1;
	if (crypto_box_seal_open(dk, b + 12, SEALED_LEN, kek->pk, kek->sk) != 0)
		return q_err_set(err, Q_E_CRYPTO, "vault blob does not open: data key altered");
	nl = nonce_len(cipher);
	ctlen = len - HDR_LEN - nl;
	pt = sodium_malloc(ctlen);
	if (pt == NULL) {
		q_err_set(err, Q_E_CRYPTO, "out of locked memory");
		goto out;
	}
	build_ad(&a, cipher, ad);
	if (cipher == Q_VAULT_AES256GCM) {
		if (!crypto_aead_aes256gcm_is_available()) {
			q_err_set(err, Q_E_CRYPTO, "blob is AES-256-GCM but this CPU lacks AES-NI");
			goto out;
		}
		rc = crypto_aead_aes256gcm_decrypt(pt, &ptlen, NULL, b + HDR_LEN + nl, ctlen,
		                                   (const uint8_t *)a.data, a.len, b + HDR_LEN, dk);
	} else {
		rc = crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &ptlen, NULL, b + HDR_LEN + nl,
		                                                ctlen, (const uint8_t *)a.data,
		                                                a.len, b + HDR_LEN, dk);
	}
	if (rc != 0) {
		rc = q_err_set(err, Q_E_CRYPTO,
		               "vault blob does not open: altered, or it belongs to another row");
		goto out;
	}
	if (get_field(&p->api_key, pt, ptlen, &off) < 0 ||
	    get_field(&p->api_secret, pt, ptlen, &off) < 0 ||
	    get_field(&p->passphrase, pt, ptlen, &off) < 0 || off != ptlen) {
		q_vault_plain_release(p);
		rc = q_err_set(err, Q_E_CRYPTO, "vault plaintext is malformed");
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(dk, sizeof(dk));
	sodium_free(pt);
	q_buf_release(&a);
	return rc;
}

int
q_vault_blob_kek_id(const void *blob, size_t len, char out[Q_VAULT_KEK_ID_HEX + 1],
                    struct q_err *err)
{
	const uint8_t *b = blob;

	if (len < HDR_LEN || b[0] != MAGIC0 || b[1] != MAGIC1 || b[2] != VERSION)
		return q_err_set(err, Q_E_CRYPTO, "not a vault blob of a known version");
	q_hex_encode(out, b + 4, 8);
	return 0;
}

int
q_vault_rewrap(const struct q_vault *v, const void *blob, size_t len, struct q_buf *out,
               struct q_err *err)
{
	const uint8_t *b = blob;
	const struct q_vault_kek *kek;
	enum q_vault_cipher cipher;
	uint8_t dk[Q_VAULT_KEY_LEN], hdr[HDR_LEN], kid[8];
	size_t idlen;
	int rc = -1;

	if ((kek = parse_header(v, b, len, &cipher, err)) == NULL)
		return -1;
	if (kek == &v->current) {
		q_buf_add(out, blob, len);
		return 0;
	}
	if (crypto_box_seal_open(dk, b + 12, SEALED_LEN, kek->pk, kek->sk) != 0)
		return q_err_set(err, Q_E_CRYPTO, "vault blob does not open: data key altered");
	memcpy(hdr, b, 4);
	if (q_hex_decode(kid, sizeof(kid), v->current.id, Q_VAULT_KEK_ID_HEX, &idlen) < 0 ||
	    crypto_box_seal(hdr + 12, dk, sizeof(dk), v->current.pk) != 0) {
		q_err_set(err, Q_E_CRYPTO, "resealing the data key failed");
		goto out;
	}
	memcpy(hdr + 4, kid, 8);
	q_buf_add(out, hdr, sizeof(hdr));
	q_buf_add(out, b + HDR_LEN, len - HDR_LEN);
	rc = 0;
out:
	sodium_memzero(dk, sizeof(dk));
	return rc;
}
