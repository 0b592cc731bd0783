#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "q_crypto.h"
#include "q_vault.h"

static char dir[] = "/tmp/quantor-vault-XXXXXX";

static void
setup(void)
{
	q_crypto_init();
	cr_assert(mkdtemp(dir) != NULL);
}

static void
teardown(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

/* Write a new master key to dir/name (mode) and return its public key in hex. */
static void
new_key(const char *name, mode_t mode, char pkhex[65])
{
	uint8_t pk[32], sk[32];
	char skhex[65], path[512];
	FILE *f;

	q_vault_keygen(pk, sk);
	q_hex_encode(skhex, sk, 32);
	q_hex_encode(pkhex, pk, 32);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert(f != NULL);
	fprintf(f, "%s\n", skhex);
	fclose(f);
	cr_assert_eq(chmod(path, mode), 0);
}

/* A vault from a config naming dir's files. */
static int
load(struct q_vault *v, const char *pk, const char *priv, const char *prev, struct q_err *err)
{
	struct q_buf text = Q_BUF_INIT;
	struct q_config *cfg;
	int rc;

	q_buf_printf(&text, "[vault]\npublic_key = %s\n", pk);
	if (priv)
		q_buf_printf(&text, "private_key_file = %s/%s\n", dir, priv);
	if (prev)
		q_buf_printf(&text, "previous_private_key_file = %s/%s\n", dir, prev);
	cfg = q_config_parse(text.data, text.len, "test.conf", err);
	cr_assert(cfg != NULL, "%s", err->msg);
	rc = priv ? q_vault_load_private(v, cfg, err) : q_vault_load_public(v, cfg, err);
	q_config_free(cfg);
	q_buf_release(&text);
	return rc;
}

static void
plain(struct q_vault_plain *p, const char *k, const char *s, const char *pass)
{
	q_vault_plain_init(p);
	q_buf_adds(&p->api_key, k);
	q_buf_adds(&p->api_secret, s);
	q_buf_adds(&p->passphrase, pass);
}

static const struct q_vault_ad row = {42, "okx", 7};

static void
round_trip(enum q_vault_cipher c)
{
	struct q_vault v;
	struct q_vault_plain in, back;
	struct q_buf blob = Q_BUF_INIT;
	struct q_err err = {0};
	char pk[65];

	new_key("master.key", 0600, pk);
	cr_assert_eq(load(&v, pk, "master.key", NULL, &err), 0, "%s", err.msg);
	plain(&in, "AKEY-1234", "s3cr3t/with+chars==", "pass phrase");
	cr_assert_eq(q_vault_seal_cipher(&v, c, &row, &in, &blob, &err), 0, "%s", err.msg);
	cr_assert_eq((unsigned char)blob.data[3], c, "the header names the cipher");
	cr_assert(memmem(blob.data, blob.len, "s3cr3t", 6) == NULL, "plaintext in the blob");
	q_vault_plain_init(&back);
	cr_assert_eq(q_vault_open(&v, &row, blob.data, blob.len, &back, &err), 0, "%s", err.msg);
	cr_assert_str_eq(back.api_key.data, "AKEY-1234");
	cr_assert_str_eq(back.api_secret.data, "s3cr3t/with+chars==");
	cr_assert_str_eq(back.passphrase.data, "pass phrase");
	q_vault_plain_release(&in);
	q_vault_plain_release(&back);
	q_buf_release(&blob);
	q_vault_release(&v);
}

Test(vault, round_trip_aes256gcm, .init = setup, .fini = teardown)
{
	/* This test machine has AES-NI; a CPU without it uses the other cipher, tested below. */
	cr_assert(crypto_aead_aes256gcm_is_available());
	round_trip(Q_VAULT_AES256GCM);
}

Test(vault, round_trip_xchacha20poly1305, .init = setup, .fini = teardown)
{
	round_trip(Q_VAULT_XCHACHA20POLY1305);
}

Test(vault, a_blob_moved_to_another_row_does_not_open, .init = setup, .fini = teardown)
{
	struct q_vault v;
	struct q_vault_plain in, back;
	struct q_buf blob = Q_BUF_INIT;
	struct q_err err = {0};
	const struct q_vault_ad others[] = {{43, "okx", 7}, {42, "okx", 8}, {42, "bybit", 7}};
	char pk[65];

	new_key("master.key", 0600, pk);
	cr_assert_eq(load(&v, pk, "master.key", NULL, &err), 0, "%s", err.msg);
	plain(&in, "k", "s", "");
	for (int c = Q_VAULT_AES256GCM; c <= Q_VAULT_XCHACHA20POLY1305; c++) {
		q_buf_reset(&blob);
		cr_assert_eq(
		        q_vault_seal_cipher(&v, (enum q_vault_cipher)c, &row, &in, &blob, &err), 0);
		for (size_t i = 0; i < 3; i++) {
			q_err_clear(&err);
			q_vault_plain_init(&back);
			cr_assert_eq(q_vault_open(&v, &others[i], blob.data, blob.len, &back, &err),
			             -1, "opened for row %zu", i);
			cr_assert_eq(err.code, Q_E_CRYPTO);
			cr_assert_eq(back.api_key.len, 0);
		}
	}
	q_vault_plain_release(&in);
	q_buf_release(&blob);
	q_vault_release(&v);
}

Test(vault, any_flipped_byte_fails, .init = setup, .fini = teardown)
{
	struct q_vault v;
	struct q_vault_plain in, back;
	struct q_buf blob = Q_BUF_INIT;
	struct q_err err = {0};
	char pk[65];

	new_key("master.key", 0600, pk);
	cr_assert_eq(load(&v, pk, "master.key", NULL, &err), 0, "%s", err.msg);
	plain(&in, "key", "secret", "");
	cr_assert_eq(q_vault_seal(&v, &row, &in, &blob, &err), 0);
	q_vault_plain_init(&back);
	/* Every byte of header, sealed key, nonce, ciphertext and tag. */
	for (size_t i = 0; i < blob.len; i++) {
		blob.data[i] ^= 0x01;
		q_err_clear(&err);
		cr_assert_eq(q_vault_open(&v, &row, blob.data, blob.len, &back, &err), -1,
		             "opened with byte %zu flipped", i);
		blob.data[i] ^= 0x01;
	}
	/* Truncated and extended blobs fail too; the original still opens. */
	cr_assert_eq(q_vault_open(&v, &row, blob.data, blob.len - 1, &back, &err), -1);
	cr_assert_eq(q_vault_open(&v, &row, blob.data, blob.len, &back, &err), 0, "%s", err.msg);
	q_vault_plain_release(&in);
	q_vault_plain_release(&back);
	q_buf_release(&blob);
	q_vault_release(&v);
}

Test(vault, the_public_half_seals_but_cannot_open, .init = setup, .fini = teardown)
{
	struct q_vault api, trader;
	struct q_vault_plain in, back;
	struct q_buf blob = Q_BUF_INIT;
	struct q_err err = {0};
	char pk[65];

	new_key("master.key", 0600, pk);
	cr_assert_eq(load(&api, pk, NULL, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(api.current.have_sk, 0);
	plain(&in, "key", "secret", "");
	cr_assert_eq(q_vault_seal(&api, &row, &in, &blob, &err), 0, "%s", err.msg);
	q_vault_plain_init(&back);
	cr_assert_eq(q_vault_open(&api, &row, blob.data, blob.len, &back, &err), -1);
	cr_assert(strstr(err.msg, "no vault private key") != NULL, "%s", err.msg);
	/* The trader, with the private half, opens what the API sealed. */
	q_err_clear(&err);
	cr_assert_eq(load(&trader, pk, "master.key", NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(q_vault_open(&trader, &row, blob.data, blob.len, &back, &err), 0, "%s",
	             err.msg);
	cr_assert_str_eq(back.api_secret.data, "secret");
	q_vault_plain_release(&in);
	q_vault_plain_release(&back);
	q_buf_release(&blob);
	q_vault_release(&api);
	q_vault_release(&trader);
}

Test(vault, key_files_are_checked, .init = setup, .fini = teardown)
{
	struct q_vault v;
	struct q_err err = {0};
	char pk[65], other[65];

	new_key("loose.key", 0644, pk);
	cr_assert_eq(load(&v, pk, "loose.key", NULL, &err), -1);
	cr_assert(strstr(err.msg, "chmod 600") != NULL, "%s", err.msg);
	/* A private key that is not the half of public_key is refused. */
	new_key("a.key", 0600, pk);
	new_key("b.key", 0600, other);
	q_err_clear(&err);
	cr_assert_eq(load(&v, pk, "b.key", NULL, &err), -1);
	cr_assert(strstr(err.msg, "not the private half") != NULL, "%s", err.msg);
	q_err_clear(&err);
	cr_assert_eq(load(&v, "abcd", NULL, NULL, &err), -1);
	cr_assert_eq(err.code, Q_E_CONFIG);
}

Test(vault, rotation_rewraps_and_both_keys_open_meanwhile, .init = setup, .fini = teardown)
{
	struct q_vault old, mid, done;
	struct q_vault_plain in, back;
	struct q_buf blob = Q_BUF_INIT, re = Q_BUF_INIT, again = Q_BUF_INIT;
	struct q_err err = {0};
	char pk1[65], pk2[65], id[17];

	new_key("old.key", 0600, pk1);
	new_key("new.key", 0600, pk2);
	cr_assert_eq(load(&old, pk1, "old.key", NULL, &err), 0, "%s", err.msg);
	plain(&in, "key", "secret", "pw");
	cr_assert_eq(q_vault_seal(&old, &row, &in, &blob, &err), 0);
	/* During the rotation: new key current, old one previous; both blobs open. */
	cr_assert_eq(load(&mid, pk2, "new.key", "old.key", &err), 0, "%s", err.msg);
	q_vault_plain_init(&back);
	cr_assert_eq(q_vault_open(&mid, &row, blob.data, blob.len, &back, &err), 0, "%s", err.msg);
	cr_assert_eq(q_vault_rewrap(&mid, blob.data, blob.len, &re, &err), 0, "%s", err.msg);
	cr_assert_eq(q_vault_blob_kek_id(re.data, re.len, id, &err), 0);
	cr_assert_str_eq(id, mid.current.id);
	cr_assert_eq(q_vault_open(&mid, &row, re.data, re.len, &back, &err), 0, "%s", err.msg);
	cr_assert_str_eq(back.passphrase.data, "pw");
	/* Rewrapping a rewrapped blob changes nothing (a resumed rotation is harmless). */
	cr_assert_eq(q_vault_rewrap(&mid, re.data, re.len, &again, &err), 0);
	cr_assert_eq(again.len, re.len);
	cr_assert(memcmp(again.data, re.data, re.len) == 0);
	/* After the rotation the old key is gone: the rewrapped blob opens, the old one not. */
	cr_assert_eq(load(&done, pk2, "new.key", NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(q_vault_open(&done, &row, re.data, re.len, &back, &err), 0, "%s", err.msg);
	cr_assert_eq(q_vault_open(&done, &row, blob.data, blob.len, &back, &err), -1);
	q_vault_plain_release(&in);
	q_vault_plain_release(&back);
	q_buf_release(&blob);
	q_buf_release(&re);
	q_buf_release(&again);
	q_vault_release(&old);
	q_vault_release(&mid);
	q_vault_release(&done);
}

Test(vault, sizes_are_bounded)
{
	struct q_vault v;
	struct q_vault_plain in;
	struct q_buf blob = Q_BUF_INIT;
	struct q_err err = {0};
	uint8_t sk[32];

	q_crypto_init();
	memset(&v, 0, sizeof(v));
	q_vault_keygen(v.current.pk, sk);
	q_vault_kek_id(v.current.id, v.current.pk);
	plain(&in, "", "secret", "");
	cr_assert_eq(q_vault_seal_cipher(&v, Q_VAULT_XCHACHA20POLY1305, &row, &in, &blob, &err),
	             -1);
	cr_assert_eq(err.code, Q_E_BAD_REQUEST);
	q_vault_plain_release(&in);
	plain(&in, "k", "s", "");
	for (int i = 0; i < Q_VAULT_MAX_FIELD; i++)
		q_buf_addch(&in.api_secret, 'x');
	q_err_clear(&err);
	cr_assert_eq(q_vault_seal_cipher(&v, Q_VAULT_XCHACHA20POLY1305, &row, &in, &blob, &err),
	             -1);
	cr_assert_eq(blob.len, 0, "nothing written on failure");
	q_vault_plain_release(&in);
}

#include <time.h>

#include "q_egress.h"

Test(egress, cidrs_are_checked)
{
	const char *good[] = {"203.0.113.7/32", "10.0.0.0/8", "2001:db8::7/128", "::1/128"};
	const char *bad[] = {"203.0.113.7", "203.0.113.7/33", "203.0.113.256/32", "2001:db8::/129",
	                     "1.2.3.4/ 32", "1.2.3.4/x",      "2001:DB8::7/128",  "01.2.3.4/32",
	                     "/32",         "1.2.3.4/"};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert(q_egress_cidr_ok(good[i]), "%s refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(!q_egress_cidr_ok(bad[i]), "%s accepted", bad[i]);
}

static json_t *
egress_at(const char *text, time_t now, struct q_err *err)
{
	struct q_config *cfg = q_config_parse(text, strlen(text), "e.conf", err);
	json_t *e = NULL;

	cr_assert(cfg != NULL, "%s", err->msg);
	if (q_egress_load(&e, cfg, now, err) < 0)
		e = NULL;
	q_config_free(cfg);
	return e;
}

Test(egress, previous_stays_valid_until_its_date)
{
	const char *conf = "[egress]\ncurrent = 203.0.113.10/32\nprevious = 203.0.113.9/32\n"
	                   "previous_valid_until = 2026-12-31T00:00:00Z\n";
	struct q_err err = {0};
	json_t *e, *all;

	e = egress_at(conf, 1798675199 /* 2026-12-30T23:59:59Z */, &err);
	cr_assert(e != NULL, "%s", err.msg);
	all = q_egress_all(e);
	cr_assert_eq(json_array_size(all), 2);
	cr_assert_str_eq(json_string_value(json_object_get(e, "previous_valid_until")),
	                 "2026-12-31T00:00:00Z");
	json_decref(all);
	json_decref(e);
	e = egress_at(conf, 1798675200 /* the date itself: the old list is gone */, &err);
	all = q_egress_all(e);
	cr_assert_eq(json_array_size(all), 1);
	cr_assert(json_is_null(json_object_get(e, "previous_valid_until")));
	json_decref(all);
	json_decref(e);
	/* A previous list without a date, or a bad entry, is a config error naming it. */
	cr_assert(egress_at("[egress]\ncurrent = 1.2.3.4/32\nprevious = 1.2.3.5/32\n", 0, &err) ==
	          NULL);
	cr_assert(strstr(err.msg, "previous_valid_until") != NULL, "%s", err.msg);
	q_err_clear(&err);
	cr_assert(egress_at("[egress]\ncurrent = 1.2.3.4\n", 0, &err) == NULL);
	cr_assert(strstr(err.msg, "\"1.2.3.4\"") != NULL, "%s", err.msg);
}
