/*
 * The pure parts of the audit chain: the canonical payload, the hash formula and signed
 * checkpoints. Expected values were computed outside this code:
 *   hashes:       printf '%s%s' "$prev_hash" "$payload" | sha256sum
 *   key id, note: Python's hashlib and the cryptography package's Ed25519 (RFC 8032 test 1 key)
 *   signed note:  the example of golang.org/x/mod/sumdb/note (note_test.go, key PeterNeumann)
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "q_audit.h"
#include "q_buf.h"
#include "q_checkpoint.h"
#include "q_crypto.h"
#include "q_err.h"

#define ZERO64 "0000000000000000000000000000000000000000000000000000000000000000"

/* 2026-01-01T00:00:00.123456Z */
#define TS1 1767225600123456LL

static const char payload1[] =
        "{\"actor\":\"user:42\",\"data\":{\"exchange\":\"binance\",\"label\":\"main\",\"last4\":"
        "\"a1b2\"},\"seq\":1,\"ts\":\"2026-01-01T00:00:00.123456Z\",\"type\":\"key.saved\"}";
static const char hash1[] = "0b1a96b8bb03f25ac2fc00392fcbb7ebb83d955809412632bea3e78576cfac09";
static const char payload2[] =
        "{\"actor\":\"system:trader\",\"data\":{\"notional\":\"250.00\",\"reason\":\"regime "
        "DANGEROUS\"},\"seq\":2,\"ts\":\"2026-01-01T00:00:01.000000Z\",\"type\":\"bot.halted\"}";
static const char hash2[] = "5457564d1549f6869c2b9315ee99b5065933d5c43ad61bd0657c1a9a55f6c217";

static void
setup(void)
{
	q_crypto_init();
}

TestSuite(audit_formula, .init = setup);
TestSuite(checkpoint, .init = setup);

Test(audit_formula, canonical_payload_bytes)
{
	struct q_buf b = Q_BUF_INIT;
	struct q_err err = {0};
	/* Keys in any order: the payload sorts them. */
	json_t *data = json_pack("{s:s, s:s, s:s}", "last4", "a1b2", "label", "main", "exchange",
	                         "binance");

	cr_assert_eq(q_audit_payload(&b, "user:42", 1, TS1, "key.saved", data, &err), 0, "%s",
	             err.msg);
	cr_assert_str_eq(b.data, payload1);
	cr_assert_eq(b.len, strlen(payload1));
	json_decref(data);

	q_buf_reset(&b);
	data = json_pack("{s:s, s:s}", "reason", "regime DANGEROUS", "notional", "250.00");
	cr_assert_eq(q_audit_payload(&b, "system:trader", 2, TS1 - 123456 + 1000000, "bot.halted",
	                             data, &err),
	             0, "%s", err.msg);
	cr_assert_str_eq(b.data, payload2);
	json_decref(data);

	/* No data is an empty object; UTF-8 stays as is and "/" is not escaped. */
	q_buf_reset(&b);
	cr_assert_eq(q_audit_payload(&b, "operator:quantorctl", 7, 0, "audit.test", NULL, &err), 0);
	cr_assert_str_eq(b.data, "{\"actor\":\"operator:quantorctl\",\"data\":{},\"seq\":7,\"ts\":"
	                         "\"1970-01-01T00:00:00.000000Z\",\"type\":\"audit.test\"}");
	q_buf_reset(&b);
	data = json_pack("{s:s}", "note", "caf\xc3\xa9 a/b \"q\"");
	cr_assert_eq(q_audit_payload(&b, "user:1", 3, 0, "x.y", data, &err), 0);
	cr_assert(strstr(b.data, "\"note\":\"caf\xc3\xa9 a/b \\\"q\\\"\"") != NULL, "%s", b.data);
	json_decref(data);
	q_buf_release(&b);
}

Test(audit_formula, payload_refusals)
{
	struct q_buf b = Q_BUF_INIT;
	struct q_err err = {0};
	json_t *real = json_pack("{s:{s:[i, f]}}", "order", "qty", 1, 0.5);
	json_t *arr = json_pack("[s]", "x");
	json_t *deep = json_object(), *cur = deep;

	for (int i = 0; i < 40; i++) {
		json_t *n = json_object();

		json_object_set_new(cur, "d", n);
		cur = n;
	}
	cr_assert_eq(q_audit_payload(&b, "user:1", 1, 0, "x.y", real, &err), -1);
	cr_assert_eq(err.code, Q_E_INTERNAL);
	cr_assert(strstr(err.msg, "amounts as strings") != NULL, "%s", err.msg);
	q_err_clear(&err);
	cr_assert_eq(q_audit_payload(&b, "user:1", 1, 0, "x.y", arr, &err), -1);
	q_err_clear(&err);
	cr_assert_eq(q_audit_payload(&b, "user:1", 1, 0, "x.y", deep, &err), -1);
	q_err_clear(&err);
	cr_assert_eq(q_audit_payload(&b, "", 1, 0, "x.y", NULL, &err), -1);
	q_err_clear(&err);
	cr_assert_eq(q_audit_payload(&b, "user 1", 1, 0, "x.y", NULL, &err), -1);
	q_err_clear(&err);
	cr_assert_eq(q_audit_payload(&b, "user:1", 1, 0, "Bot.Started", NULL, &err), -1);
	q_err_clear(&err);
	cr_assert_eq(q_audit_payload(&b, "user:1", 0, 0, "x.y", NULL, &err), -1);
	q_err_clear(&err);
	cr_assert_eq(b.len, 0u, "a refused payload left bytes behind");
	json_decref(real);
	json_decref(arr);
	json_decref(deep);
	q_buf_release(&b);
}

Test(audit_formula, hash_chain_matches_sha256sum)
{
	char h[Q_AUDIT_HASH_HEX + 1];

	q_audit_hash(h, ZERO64, payload1, strlen(payload1));
	cr_assert_str_eq(h, hash1);
	q_audit_hash(h, hash1, payload2, strlen(payload2));
	cr_assert_str_eq(h, hash2);
	/* One byte changed anywhere changes the hash. */
	q_audit_hash(h, ZERO64, payload1, strlen(payload1) - 1);
	cr_assert_str_neq(h, hash1);
}

Test(audit_formula, timestamps)
{
	char ts[32];

	cr_assert_eq(q_audit_ts(ts, TS1), 0);
	cr_assert_str_eq(ts, "2026-01-01T00:00:00.123456Z");
	cr_assert_eq(q_audit_ts(ts, -1), 0);
	cr_assert_str_eq(ts, "1969-12-31T23:59:59.999999Z");
	cr_assert_eq(q_audit_ts(ts, 253402300800LL * 1000000), -1); /* year 10000 */
	cr_assert_str_eq(ts, "");
}

/* RFC 8032 section 7.1 test 1. */
static const char seed1[] = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char pk1[] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
static const char note1[] =
        "quantor.local/audit\n2\nVFdWTRVJ9oacK5MV7pm1Blkz1cQ61hvQZXwamlX2whc=\n\n"
        "\xe2\x80\x94 quantor.local/audit "
        "r43LKYre5rAdEmQhQ813tFm+V00XY1TyKjb6njGmxFuQq9eQOIt7uWBi7EfYiLwn7YvQU3r0bgYqIMqYFRGwhVdxUgc="
        "\n";

static void
keys(uint8_t pk[32], uint8_t sk[64], struct q_checkpoint_key *k)
{
	uint8_t seed[32];
	struct q_err err = {0};

	cr_assert_eq(q_hex_decode(seed, sizeof(seed), seed1, 64, NULL), 0);
	q_ed25519_seed_keypair(pk, sk, seed);
	cr_assert_eq(q_checkpoint_key_init(k, "quantor.local/audit", pk, &err), 0, "%s", err.msg);
}

Test(checkpoint, key_id)
{
	uint8_t pk[32], id[4], vk[64];
	struct q_buf raw = Q_BUF_INIT;

	cr_assert_eq(q_hex_decode(pk, sizeof(pk), pk1, 64, NULL), 0);
	q_checkpoint_key_id(id, "quantor.local/audit", pk);
	cr_assert_eq(memcmp(id, "\xaf\x8d\xcb\x29", 4), 0);
	/* The signed-note example key: "PeterNeumann+c74f20a3+ARpc2QcU...": 0x01 || pk. */
	cr_assert_eq(q_base64_decode(&raw, "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", 44), 0);
	cr_assert_eq(raw.len, 33u);
	memcpy(vk, raw.data + 1, 32);
	q_checkpoint_key_id(id, "PeterNeumann", vk);
	cr_assert_eq(memcmp(id, "\xc7\x4f\x20\xa3", 4), 0);
	q_buf_release(&raw);
}

Test(checkpoint, signature_line_matches_the_signed_note_example)
{
	/* golang.org/x/mod/sumdb/note: the same key signs this text into this line. */
	static const char text[] = "If you think cryptography is the answer to your problem,\n"
	                           "then you don't know what your problem is.\n";
	static const char want[] =
	        "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKv"
	        "qfqdngotpRZb6KE6RyyBwJnAM=";
	struct q_buf raw = Q_BUF_INIT, out = Q_BUF_INIT;
	uint8_t pk[32], sk[64], blob[68];

	cr_assert_eq(q_base64_decode(&raw, "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", 44), 0);
	q_ed25519_seed_keypair(pk, sk, (const uint8_t *)raw.data + 1);
	q_checkpoint_key_id(blob, "PeterNeumann", pk);
	q_ed25519_sign(blob + 4, text, strlen(text), sk);
	q_base64_encode(&out, blob, sizeof(blob));
	cr_assert_str_eq(out.data, want);
	q_buf_release(&raw);
	q_buf_release(&out);
}

Test(checkpoint, sign_formats_the_note_exactly)
{
	uint8_t pk[32], sk[64], h[32];
	struct q_checkpoint_key k;
	struct q_buf note = Q_BUF_INIT;
	struct q_err err = {0};

	keys(pk, sk, &k);
	cr_assert_eq(q_hex_decode(h, sizeof(h), hash2, 64, NULL), 0);
	q_buf_adds(&note, "kept:");
	cr_assert_eq(q_checkpoint_sign(&note, "quantor.local/audit", 2, h, "quantor.local/audit",
	                               sk, &err),
	             0, "%s", err.msg);
	cr_assert_str_eq(note.data + 5, note1);
	cr_assert_eq(strncmp(note.data, "kept:", 5), 0);
	/* Names with a space or '+' cannot be written. */
	q_buf_reset(&note);
	cr_assert_eq(q_checkpoint_sign(&note, "a b", 2, h, "k", sk, &err), -1);
	q_err_clear(&err);
	cr_assert_eq(q_checkpoint_sign(&note, "o", 2, h, "k+1", sk, &err), -1);
	cr_assert_eq(note.len, 0u);
	q_buf_release(&note);
}

Test(checkpoint, parse_and_verify)
{
	uint8_t pk[32], sk[64], h[32];
	struct q_checkpoint_key k;
	struct q_checkpoint cp;
	struct q_err err = {0};

	keys(pk, sk, &k);
	cr_assert_eq(q_checkpoint_parse(&cp, note1, strlen(note1), &err), 0, "%s", err.msg);
	cr_assert_str_eq(cp.origin, "quantor.local/audit");
	cr_assert_eq(cp.size, 2u);
	cr_assert_eq(q_hex_decode(h, sizeof(h), hash2, 64, NULL), 0);
	cr_assert_eq(memcmp(cp.hash, h, 32), 0);
	cr_assert_eq(cp.nsigs, 1u);
	cr_assert_eq(cp.body_len, strlen("quantor.local/audit\n2\n") + 45);
	cr_assert_eq(q_checkpoint_verify(&cp, note1, &k, &err), 0, "%s", err.msg);
	cr_assert_eq(q_checkpoint_open(&cp, note1, strlen(note1), &k, "quantor.local/audit", &err),
	             0, "%s", err.msg);
}

/* Append "— name base64(key id || signature of body)\n" to note. */
static void
add_sig(struct q_buf *note, const struct q_buf *body, const char *name, const uint8_t pk[32],
        const uint8_t sk[64])
{
	uint8_t blob[68];

	q_checkpoint_key_id(blob, name, pk);
	q_ed25519_sign(blob + 4, body->data, body->len, sk);
	q_buf_printf(note, "\xe2\x80\x94 %s ", name);
	q_base64_encode(note, blob, sizeof(blob));
	q_buf_addch(note, '\n');
}

Test(checkpoint, extra_signatures_and_extension_lines_are_accepted)
{
	uint8_t pk[32], sk[64], other_sk[64], other_pk[32], h[32] = {1};
	struct q_checkpoint_key k;
	struct q_checkpoint cp;
	struct q_buf body = Q_BUF_INIT, note = Q_BUF_INIT;
	struct q_err err = {0};

	keys(pk, sk, &k);
	q_ed25519_keypair(other_pk, other_sk);
	/* A body with an extension line, signed by a witness first, then by our key. */
	q_buf_adds(&body, "quantor.local/audit\n9\n");
	q_base64_encode(&body, h, 32);
	q_buf_adds(&body, "\nextension line\n");
	q_buf_add(&note, body.data, body.len);
	q_buf_addch(&note, '\n');
	add_sig(&note, &body, "witness.example", other_pk, other_sk);
	add_sig(&note, &body, "quantor.local/audit", pk, sk);
	cr_assert_eq(q_checkpoint_open(&cp, note.data, note.len, &k, "quantor.local/audit", &err),
	             0, "%s", err.msg);
	cr_assert_eq(cp.nsigs, 2u);
	cr_assert_eq(cp.size, 9u);
	cr_assert_eq(cp.body_len, body.len);
	/* Signed only by the witness: refused. */
	q_buf_truncate(&note, body.len + 1);
	add_sig(&note, &body, "witness.example", other_pk, other_sk);
	cr_assert_eq(q_checkpoint_open(&cp, note.data, note.len, &k, "quantor.local/audit", &err),
	             -1);
	cr_assert_eq(err.code, Q_E_UNAUTHORIZED);
	q_buf_release(&body);
	q_buf_release(&note);
}

/* Expect q_checkpoint_open of note to fail with code, its message containing what. */
static void
refused(const char *note, size_t len, enum q_code code, const char *what)
{
	uint8_t pk[32], sk[64];
	struct q_checkpoint_key k;
	struct q_checkpoint cp;
	struct q_err err = {0};

	keys(pk, sk, &k);
	cr_assert_eq(q_checkpoint_open(&cp, note, len, &k, "quantor.local/audit", &err), -1,
	             "accepted: %.*s", (int)len, note);
	cr_assert_eq(err.code, code, "%s", err.msg);
	cr_assert(strstr(err.msg, what) != NULL, "message \"%s\" lacks \"%s\"", err.msg, what);
}

/* note1 with the first occurrence of from replaced by to. */
static char *
edit(const char *from, const char *to)
{
	static char buf[1024];
	const char *p = strstr(note1, from);

	cr_assert_not_null(p, "%s", from);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - note1), note1, to, p + strlen(from));
	return buf;
}

Test(checkpoint, refusals)
{
	char *n;

	/* Signature problems. */
	n = edit("\n2\n", "\n3\n");
	refused(n, strlen(n), Q_E_UNAUTHORIZED, "does not verify");
	n = edit("\xe2\x80\x94 quantor.local/audit", "\xe2\x80\x94 other.name");
	refused(n, strlen(n), Q_E_UNAUTHORIZED, "no signature by key quantor.local/audit");
	n = edit("r43LKYre", "s43LKYre");
	refused(n, strlen(n), Q_E_UNAUTHORIZED, "no signature"); /* the key id changed */
	n = edit("5rAdEmQh", "5rAdEmQi");
	refused(n, strlen(n), Q_E_UNAUTHORIZED, "does not verify");
	/* Another log's checkpoint, validly signed, is still refused. */
	{
		uint8_t pk[32], sk[64], h[32] = {0};
		struct q_checkpoint_key k;
		struct q_buf other = Q_BUF_INIT;

		keys(pk, sk, &k);
		cr_assert_eq(q_checkpoint_sign(&other, "other.log", 1, h, "quantor.local/audit", sk,
		                               NULL),
		             0);
		refused(other.data, other.len, Q_E_UNAUTHORIZED, "is for log \"other.log\"");
		q_buf_release(&other);
	}

	/* Malformed notes. */
	refused(note1, strlen(note1) - 1, Q_E_BAD_REQUEST, "newline");
	refused("", 0, Q_E_BAD_REQUEST, "newline");
	refused(note1, 21, Q_E_BAD_REQUEST, "newline");
	n = edit("\n\n", "\n");
	refused(n, strlen(n), Q_E_BAD_REQUEST, "blank line");
	n = edit("\xe2\x80\x94 ", "- ");
	refused(n, strlen(n), Q_E_BAD_REQUEST, "signature line");
	n = edit("\xe2\x80\x94 quantor.local/audit ", "\xe2\x80\x94 quantor.local/audit  ");
	refused(n, strlen(n), Q_E_BAD_REQUEST, "signature line");
	n = edit("Ugc=\n", "Ugc=\n\n");
	refused(n, strlen(n), Q_E_BAD_REQUEST, "no signature line");
	n = edit("\n2\n", "\n02\n");
	refused(n, strlen(n), Q_E_BAD_REQUEST, "size line");
	n = edit("\n2\n", "\n-2\n");
	refused(n, strlen(n), Q_E_BAD_REQUEST, "size line");
	n = edit("\n2\n", "\n99999999999999999999\n");
	refused(n, strlen(n), Q_E_BAD_REQUEST, "size line");
	n = edit("VFdWTRVJ", "VFdWTRV ");
	refused(n, strlen(n), Q_E_BAD_REQUEST, "hash line");
	n = edit("whc=\n", "wh==\n");
	refused(n, strlen(n), Q_E_BAD_REQUEST, "hash line");
	n = edit("quantor.local/audit\n2", "quantor local\n2");
	refused(n, strlen(n), Q_E_BAD_REQUEST, "origin line");
	n = edit("\n2\n", "\n2\n\n");
	refused(n, strlen(n), Q_E_BAD_REQUEST, "empty line");
	n = edit("\n2\nVFdWTRVJ9oacK5MV7pm1Blkz1cQ61hvQZXwamlX2whc=\n", "\n2\n");
	refused(n, strlen(n), Q_E_BAD_REQUEST, "origin, a size and a hash");
	n = edit("audit\n2", "audit\r\n2");
	refused(n, strlen(n), Q_E_BAD_REQUEST, "control characters");
	n = edit("audit\n2", "audit\xff\n2");
	refused(n, strlen(n), Q_E_BAD_REQUEST, "UTF-8");
	{
		char nul[sizeof(note1)];

		memcpy(nul, note1, sizeof(note1));
		nul[3] = '\0';
		refused(nul, sizeof(note1) - 1, Q_E_BAD_REQUEST, "control characters");
	}
	{
		static char big[Q_CHECKPOINT_MAX_NOTE + 2];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 2] = '\n';
		refused(big, sizeof(big) - 1, Q_E_BAD_REQUEST, "longer than");
	}
	{
		struct q_buf many = Q_BUF_INIT;
		const char *sigs = strstr(note1, "\n\n") + 2;

		q_buf_add(&many, note1, (size_t)(sigs - note1));
		for (int i = 0; i < Q_CHECKPOINT_MAX_SIGS + 1; i++)
			q_buf_adds(&many, sigs);
		refused(many.data, many.len, Q_E_BAD_REQUEST, "more than 16");
		q_buf_release(&many);
	}
}

Test(checkpoint, key_names)
{
	uint8_t pk[32] = {0};
	struct q_checkpoint_key k;
	struct q_err err = {0};
	char longname[Q_CHECKPOINT_MAX_NAME + 2];

	cr_assert(q_checkpoint_name_ok("quantor.example.com/audit"));
	cr_assert(!q_checkpoint_name_ok(""));
	cr_assert(!q_checkpoint_name_ok("a b"));
	cr_assert(!q_checkpoint_name_ok("a+b"));
	cr_assert(!q_checkpoint_name_ok("caf\xc3\xa9"));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_assert(!q_checkpoint_name_ok(longname));
	longname[Q_CHECKPOINT_MAX_NAME] = '\0';
	cr_assert(q_checkpoint_name_ok(longname));
	cr_assert_eq(q_checkpoint_key_init(&k, "bad name", pk, &err), -1);
	cr_assert_eq(err.code, Q_E_CONFIG);
}

Test(audit_formula, config)
{
	static const char text[] =
	        "[audit]\norigin = example.org/log\npublic_key = "
	        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\n";
	struct q_err err = {0};
	struct q_config *cfg = q_config_parse(text, strlen(text), "/nonexistent/q.conf", &err);
	struct q_audit_conf c;

	cr_assert_not_null(cfg, "%s", err.msg);
	cr_assert_eq(q_audit_conf_load(&c, cfg, 0, &err), 0, "%s", err.msg);
	cr_assert_str_eq(c.origin, "example.org/log");
	cr_assert_str_eq(c.key.name, "example.org/log");
	cr_assert(c.have_pk && !c.have_sk);
	cr_assert_eq(c.checkpoint_interval, 3600);
	q_audit_conf_release(&c);
	/* Signing needs the secret file, which this config does not name. */
	cr_assert_eq(q_audit_conf_load(&c, cfg, 1, &err), -1);
	cr_assert_eq(err.code, Q_E_CONFIG);
	q_config_free(cfg);

	q_err_clear(&err);
	cfg = q_config_parse("[audit]\npublic_key = abc\n", strlen("[audit]\npublic_key = abc\n"),
	                     "q.conf", &err);
	cr_assert_not_null(cfg);
	cr_assert_eq(q_audit_conf_load(&c, cfg, 0, &err), -1);
	cr_assert(strstr(err.msg, "public_key") != NULL, "%s", err.msg);
	q_config_free(cfg);
	/* Defaults: the origin, no public key. */
	q_err_clear(&err);
	cfg = q_config_parse("", 0, "q.conf", &err);
	cr_assert_eq(q_audit_conf_load(&c, cfg, 0, &err), 0, "%s", err.msg);
	cr_assert_str_eq(c.origin, Q_AUDIT_DEFAULT_ORIGIN);
	cr_assert(!c.have_pk);
	q_config_free(cfg);
}
