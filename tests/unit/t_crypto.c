#include <criterion/criterion.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "q_buf.h"
#include "q_crypto.h"

#include "vectors.h"

/* Hex to bytes, independent of the q_hex_* code under test. Returns the byte count. */
static size_t
unhex(uint8_t *out, size_t max, const char *hex)
{
	size_t n = strlen(hex);

	cr_assert_eq(n % 2, 0, "odd hex in vector: %s", hex);
	cr_assert_leq(n / 2, max, "vector value too long: %s", hex);
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		cr_assert_eq(sscanf(hex + 2 * i, "%2x", &v), 1, "bad hex in vector: %s", hex);
		out[i] = (uint8_t)v;
	}
	return n / 2;
}

/* Bytes to lowercase hex, independent of q_hex_encode. */
static void
tohex(char *out, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
	out[2 * n] = '\0';
}

static void
setup(void)
{
	cr_assert_eq(q_crypto_init(), 0);
	cr_assert_eq(q_crypto_init(), 0, "q_crypto_init must be idempotent");
}

TestSuite(sha256, .init = setup);
TestSuite(hmac, .init = setup);
TestSuite(ed25519, .init = setup);
TestSuite(hex, .init = setup);
TestSuite(base64, .init = setup);
TestSuite(ct, .init = setup);
TestSuite(misc, .init = setup);

Test(sha256, fips180_vectors_one_shot_and_streaming)
{
	FILE *f = vec_open("fips180_sha256.txt");
	struct record r = {0};
	int count = 0;

	while (rec_next(f, &r)) {
		const char *text = rec_need(&r, "text"), *rep = rec_get(&r, "repeat");
		size_t tl = strlen(text), times = rep ? strtoul(rep, NULL, 10) : 1, n = tl * times;
		char *msg = malloc(n + 1), got[2 * Q_SHA256_LEN + 1];
		uint8_t d[Q_SHA256_LEN];
		struct q_sha256 s;

		for (size_t i = 0; i < times; i++)
			memcpy(msg + i * tl, text, tl);
		q_sha256(d, msg, n);
		tohex(got, d, sizeof(d));
		cr_expect_str_eq(got, rec_need(&r, "sha256"), "one-shot, record %d", count);

		/* Streaming in uneven pieces (1, 2, 3, ... bytes) must give the same digest. */
		q_sha256_init(&s);
		for (size_t off = 0, step = 1; off < n; off += step, step = step % 97 + 1)
			q_sha256_update(&s, msg + off, off + step > n ? n - off : step);
		q_sha256_final(&s, d);
		tohex(got, d, sizeof(d));
		cr_expect_str_eq(got, rec_need(&r, "sha256"), "streaming, record %d", count);
		free(msg);
		count++;
	}
	rec_release(&r);
	fclose(f);
	cr_assert_eq(count, 4, "expected 4 SHA-256 vectors, read %d", count);
}

static void
hmac_vectors(const char *field, size_t maclen)
{
	FILE *f = vec_open("rfc4231_hmac.txt");
	struct record r = {0};
	int count = 0;

	while (rec_next(f, &r)) {
		uint8_t key[256], data[256], mac[64];
		char got[129];
		const char *want = rec_need(&r, field), *trunc = rec_get(&r, "truncate");
		size_t kl = unhex(key, sizeof(key), rec_need(&r, "key"));
		size_t dl = unhex(data, sizeof(data), rec_need(&r, "data"));
		size_t cmp = trunc ? strtoul(trunc, NULL, 10) : maclen;

		if (maclen == Q_HMAC_SHA256_LEN)
			q_hmac_sha256(mac, key, kl, data, dl);
		else
			q_hmac_sha512(mac, key, kl, data, dl);
		cr_assert_eq(strlen(want), 2 * cmp, "case %s: vector length", rec_need(&r, "case"));
		tohex(got, mac, cmp);
		cr_expect_str_eq(got, want, "%s case %s", field, rec_need(&r, "case"));
		count++;
	}
	rec_release(&r);
	fclose(f);
	cr_assert_eq(count, 7, "expected RFC 4231 cases 1-7, read %d", count);
}

Test(hmac, rfc4231_sha256)
{
	hmac_vectors("sha256", Q_HMAC_SHA256_LEN);
}

Test(hmac, rfc4231_sha512)
{
	hmac_vectors("sha512", Q_HMAC_SHA512_LEN);
}

/* RFC 2104: a key longer than the block is replaced by its hash, so both must agree. */
Test(hmac, long_key_equals_its_hash_and_short_keys_differ)
{
	uint8_t key[200], hk[Q_SHA256_LEN], a[32], b[32], c[32], e[32];

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	q_sha256(hk, key, sizeof(key));
	q_hmac_sha256(a, key, sizeof(key), "msg", 3);
	q_hmac_sha256(b, hk, sizeof(hk), "msg", 3);
	cr_assert(memcmp(a, b, sizeof(a)) == 0);
	/* 64 and 65 bytes straddle the block size: different keys, different MACs. */
	q_hmac_sha256(a, key, 64, "msg", 3);
	q_hmac_sha256(b, key, 65, "msg", 3);
	cr_assert(memcmp(a, b, sizeof(a)) != 0);
	/* An empty key is legal. Keys are zero-padded to the block (RFC 2104), so a key of one
	 * zero byte gives the same MAC, and any other key a different one. */
	q_hmac_sha256(c, "", 0, "msg", 3);
	q_hmac_sha256(e, "\0", 1, "msg", 3);
	cr_assert(memcmp(c, e, sizeof(c)) == 0);
	q_hmac_sha256(e, "msg", 3, "msg", 3);
	cr_assert(memcmp(c, e, sizeof(c)) != 0);
}

Test(ed25519, rfc8032_vectors)
{
	FILE *f = vec_open("rfc8032_ed25519.txt");
	struct record r = {0};
	int count = 0;

	while (rec_next(f, &r)) {
		uint8_t seed[32], pk_want[32], pk[32], sk[64], sig_want[64], sig[64], msg[128];
		uint8_t longer[129];
		const char *name = rec_need(&r, "name");
		size_t ml;

		cr_assert_eq(unhex(seed, sizeof(seed), rec_need(&r, "secret")), 32, "%s", name);
		cr_assert_eq(unhex(pk_want, sizeof(pk_want), rec_need(&r, "public")), 32, "%s",
		             name);
		cr_assert_eq(unhex(sig_want, sizeof(sig_want), rec_need(&r, "signature")), 64, "%s",
		             name);
		ml = unhex(msg, sizeof(msg), rec_need(&r, "message"));

		q_ed25519_seed_keypair(pk, sk, seed);
		cr_expect(memcmp(pk, pk_want, 32) == 0, "%s: public key from secret", name);
		q_ed25519_sign(sig, msg, ml, sk);
		cr_expect(memcmp(sig, sig_want, 64) == 0, "%s: signature byte-exact", name);
		cr_expect_eq(q_ed25519_verify(sig_want, msg, ml, pk_want), 0, "%s: verify", name);

		/* Any flipped bit in the signature fails. */
		for (int bit = 0; bit < 512; bit += 37) {
			memcpy(sig, sig_want, 64);
			sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			cr_expect_eq(q_ed25519_verify(sig, msg, ml, pk_want), -1, "%s: bit %d",
			             name, bit);
		}
		/* A changed message fails: a flipped bit, or one more byte (TEST 1 is empty). */
		if (ml > 0) {
			msg[ml - 1] ^= 0x01;
			cr_expect_eq(q_ed25519_verify(sig_want, msg, ml, pk_want), -1, "%s", name);
			msg[ml - 1] ^= 0x01;
		}
		memcpy(longer, msg, ml);
		longer[ml] = 0;
		cr_expect_eq(q_ed25519_verify(sig_want, longer, ml + 1, pk_want), -1, "%s", name);
		/* Another key fails. */
		pk[0] ^= 0x40;
		cr_expect_eq(q_ed25519_verify(sig_want, msg, ml, pk), -1, "%s: wrong key", name);
		q_wipe(sk, sizeof(sk));
		count++;
	}
	rec_release(&r);
	fclose(f);
	cr_assert_eq(count, 4, "expected TEST 1, 2, 3 and SHA(abc), read %d", count);
}

Test(ed25519, fresh_keypair_signs_and_verifies)
{
	uint8_t pk[32], sk[64], pk2[32], sk2[64], sig[64];
	static const char msg[] = "{\"commit\":\"abc\",\"service\":\"api\"}";

	q_ed25519_keypair(pk, sk);
	q_ed25519_keypair(pk2, sk2);
	cr_assert(memcmp(pk, pk2, 32) != 0, "two fresh keypairs are equal");
	/* libsodium's secret key carries the public key in its second half. */
	cr_assert(memcmp(sk + 32, pk, 32) == 0);
	q_ed25519_sign(sig, msg, strlen(msg), sk);
	cr_assert_eq(q_ed25519_verify(sig, msg, strlen(msg), pk), 0);
	cr_assert_eq(q_ed25519_verify(sig, msg, strlen(msg), pk2), -1);
	cr_assert_eq(q_ed25519_verify(sig, msg, strlen(msg) - 1, pk), -1);
}

Test(hex, rfc4648_base16_vectors_both_cases)
{
	FILE *f = vec_open("rfc4648_base64.txt");
	struct record r = {0};
	int count = 0;

	while (rec_next(f, &r)) {
		const char *text = rec_need(&r, "text"), *b16 = rec_need(&r, "base16");
		char enc[64], lower[64];
		uint8_t dec[32];
		size_t n = strlen(text), got = 99;

		q_hex_encode(enc, (const uint8_t *)text, n);
		for (size_t i = 0; i <= strlen(b16); i++)
			lower[i] = (char)tolower((unsigned char)b16[i]);
		cr_expect_str_eq(enc, lower, "encode \"%s\"", text);
		cr_assert_eq(q_hex_decode(dec, sizeof(dec), b16, strlen(b16), &got), 0, "%s", b16);
		cr_expect_eq(got, n);
		cr_expect(memcmp(dec, text, n) == 0, "decode %s", b16);
		cr_assert_eq(q_hex_decode(dec, sizeof(dec), lower, strlen(lower), &got), 0);
		cr_expect(got == n && memcmp(dec, text, n) == 0, "decode %s", lower);
		count++;
	}
	rec_release(&r);
	fclose(f);
	cr_assert_eq(count, 7);
}

Test(hex, round_trip_all_byte_values)
{
	uint8_t in[256], out[256];
	char hex[513];
	size_t n = 0;

	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	q_hex_encode(hex, in, sizeof(in));
	cr_assert_eq(strlen(hex), 512);
	cr_assert(strncmp(hex, "000102", 6) == 0 && strcmp(hex + 506, "fdfeff") == 0, "%s", hex);
	cr_assert_eq(q_hex_decode(out, sizeof(out), hex, 512, &n), 0);
	cr_assert_eq(n, 256);
	cr_assert(memcmp(in, out, 256) == 0);
	/* Mixed case is accepted. */
	cr_assert_eq(q_hex_decode(out, sizeof(out), "aBcD", 4, &n), 0);
	cr_assert(n == 2 && out[0] == 0xab && out[1] == 0xcd);
	/* Only hexlen bytes are read: the rest of the string is not looked at. */
	cr_assert_eq(q_hex_decode(out, sizeof(out), "00ffzz", 4, &n), 0);
	cr_assert(n == 2 && out[1] == 0xff);
	cr_assert_eq(q_hex_decode(out, sizeof(out), "", 0, &n), 0);
	cr_assert_eq(n, 0);
}

Test(hex, rejects_odd_garbage_and_overflow)
{
	static const char *const bad[] = {"0",   "abc", "0g", "g0", "0x00",
	                                  " 00", "00 ", "0-", "+1", "\xff\xff"};
	uint8_t out[4];
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 99;
		cr_expect_eq(q_hex_decode(out, sizeof(out), bad[i], strlen(bad[i]), &n), -1,
		             "accepted \"%s\"", bad[i]);
		cr_expect_eq(n, 0, "outlen after rejecting \"%s\"", bad[i]);
	}
	cr_expect_eq(q_hex_decode(out, sizeof(out),
	                          "0011\0"
	                          "2233",
	                          10, NULL),
	             -1, "embedded NUL");
	cr_expect_eq(q_hex_decode(out, sizeof(out), "0011223344", 10, &n), -1, "5 bytes into 4");
	cr_expect_eq(q_hex_decode(out, sizeof(out), "00112233", 8, &n), 0, "exactly 4 bytes");
	cr_expect_eq(n, 4);
}

Test(base64, rfc4648_vectors)
{
	FILE *f = vec_open("rfc4648_base64.txt");
	struct record r = {0};
	int count = 0;

	while (rec_next(f, &r)) {
		const char *text = rec_need(&r, "text"), *want = rec_need(&r, "base64");
		struct q_buf enc = Q_BUF_INIT, dec = Q_BUF_INIT;

		q_base64_encode(&enc, text, strlen(text));
		cr_expect_str_eq(enc.data, want, "encode \"%s\"", text);
		cr_expect_eq(enc.len, strlen(want));
		cr_expect_eq(q_base64_decode(&dec, want, strlen(want)), 0, "decode %s", want);
		cr_expect_eq(dec.len, strlen(text));
		cr_expect_str_eq(dec.data, text);
		q_buf_release(&enc);
		q_buf_release(&dec);
		count++;
	}
	rec_release(&r);
	fclose(f);
	cr_assert_eq(count, 7);
}

Test(base64, url_alphabet_and_no_padding)
{
	static const uint8_t in[] = {0xfb, 0xff, 0xbf, 0xfb, 0xff};
	struct q_buf b = Q_BUF_INIT;

	q_base64_encode(&b, in, sizeof(in));
	cr_assert_str_eq(b.data, "+/+/+/8=");
	q_buf_reset(&b);
	q_base64url_encode(&b, in, sizeof(in));
	cr_assert_str_eq(b.data, "-_-_-_8");
	q_buf_reset(&b);
	cr_assert_eq(q_base64url_decode(&b, "-_-_-_8", 7), 0);
	cr_assert(b.len == sizeof(in) && memcmp(b.data, in, sizeof(in)) == 0);
	q_buf_release(&b);
}

Test(base64, round_trip_every_length_and_appends)
{
	uint8_t in[100];
	struct q_buf e = Q_BUF_INIT, d = Q_BUF_INIT;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 151 + 3);
	for (size_t n = 0; n <= sizeof(in); n++) {
		q_buf_reset(&e);
		q_buf_adds(&e, "x:");
		q_base64_encode(&e, in, n);
		cr_assert_eq(e.len, 2 + (n + 2) / 3 * 4);
		cr_assert_eq(e.len, strlen(e.data));
		q_buf_reset(&d);
		q_buf_adds(&d, "y");
		cr_assert_eq(q_base64_decode(&d, e.data + 2, e.len - 2), 0, "n=%zu %s", n, e.data);
		cr_assert(d.len == n + 1 && d.data[0] == 'y' && memcmp(d.data + 1, in, n) == 0);
		cr_assert_eq(d.data[d.len], '\0');

		q_buf_reset(&e);
		q_base64url_encode(&e, in, n);
		cr_assert_eq(e.len, (n * 4 + 2) / 3);
		cr_assert(strpbrk(e.data, "+/=") == NULL, "%s", e.data);
		q_buf_reset(&d);
		cr_assert_eq(q_base64url_decode(&d, e.data, e.len), 0, "n=%zu %s", n, e.data);
		cr_assert(d.len == n && memcmp(d.data, in, n) == 0);
	}
	q_buf_release(&e);
	q_buf_release(&d);
}

Test(base64, strict_decoding_rejects_garbage_and_leaves_buffer_alone)
{
	static const char *const bad_std[] = {
	        "Zg",       /* padding missing */
	        "Zg=",      /* padding short */
	        "Zg===",    /* padding long */
	        "Zh==",     /* leftover bits not zero */
	        "Zm9=",     /* leftover bits not zero */
	        "Z===",     /* a lone character */
	        "Zm9v\n",   /* whitespace */
	        " Zm9v",    /* whitespace */
	        "Zm 9v",    /* whitespace */
	        "Zm9v!",    /* outside the alphabet */
	        "Zm-_",     /* URL-safe alphabet */
	        "Zg==Zg==", /* data after padding */
	        "=",        /* padding only */
	};
	static const char *const bad_url[] = {"Zg==", "Zg=", "+/8", "Zh", "Z", "Zm9v.", "Zm\n9v"};
	struct q_buf b = Q_BUF_INIT;

	q_buf_adds(&b, "keep");
	for (size_t i = 0; i < sizeof(bad_std) / sizeof(bad_std[0]); i++) {
		cr_expect_eq(q_base64_decode(&b, bad_std[i], strlen(bad_std[i])), -1,
		             "accepted \"%s\"", bad_std[i]);
		cr_expect(b.len == 4 && strcmp(b.data, "keep") == 0, "buffer changed by \"%s\"",
		          bad_std[i]);
	}
	for (size_t i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++) {
		cr_expect_eq(q_base64url_decode(&b, bad_url[i], strlen(bad_url[i])), -1,
		             "url accepted \"%s\"", bad_url[i]);
		cr_expect(b.len == 4 && strcmp(b.data, "keep") == 0);
	}
	cr_expect_eq(q_base64_decode(&b, "Zm9v\0Zm9v", 9), -1, "embedded NUL");
	cr_expect_eq(b.len, 4);
	/* Empty input is the empty encoding, for both variants. */
	cr_expect_eq(q_base64_decode(&b, "", 0), 0);
	cr_expect_eq(q_base64url_decode(&b, "", 0), 0);
	cr_expect_eq(b.len, 4);
	q_buf_release(&b);
}

Test(ct, equal_and_streq)
{
	uint8_t a[64], b[64];

	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = b[i] = (uint8_t)i;
	cr_assert_eq(q_ct_equal(a, b, sizeof(a)), 1);
	b[63] ^= 0x80;
	cr_assert_eq(q_ct_equal(a, b, sizeof(a)), 0, "last byte differs");
	cr_assert_eq(q_ct_equal(a, b, 63), 1, "only the first 63 bytes are compared");
	b[63] = a[63];
	b[0] ^= 1;
	cr_assert_eq(q_ct_equal(a, b, sizeof(a)), 0, "first byte differs");
	cr_assert_eq(q_ct_equal(a, b, 0), 1, "zero bytes are always equal");

	cr_assert_eq(q_ct_streq("abc123", "abc123"), 1);
	cr_assert_eq(q_ct_streq("abc123", "abc124"), 0);
	cr_assert_eq(q_ct_streq("abc123", "Abc123"), 0);
	cr_assert_eq(q_ct_streq("abc", "abc123"), 0, "prefix is not equal");
	cr_assert_eq(q_ct_streq("abc123", "abc"), 0);
	cr_assert_eq(q_ct_streq("", ""), 1);
	cr_assert_eq(q_ct_streq("", "a"), 0);
}

Test(misc, random_fills_and_wipe_zeroes)
{
	uint8_t a[32] = {0}, b[32] = {0}, zero[32] = {0};

	q_random(a, sizeof(a));
	q_random(b, sizeof(b));
	cr_assert(memcmp(a, zero, 32) != 0, "q_random left the buffer zero");
	cr_assert(memcmp(a, b, 32) != 0, "two q_random calls gave the same 32 bytes");
	q_wipe(a, sizeof(a));
	cr_assert(memcmp(a, zero, 32) == 0);
}
