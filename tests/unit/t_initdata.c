#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "q_buf.h"
#include "q_crypto.h"
#include "q_err.h"
#include "q_initdata.h"
#include "vectors.h"

/*
 * tests/vectors/telegram_initdata.txt: records separated by blank lines, one "name = value" per
 * line, '#' comments; a repeated name (data_check_string) is joined with "\n". The test binary
 * runs from the repository root; QUANTOR_SRC names another root.
 */
#define VECTORS "telegram_initdata.txt"
/* Any 64 hex digits: for inputs that must get past the hash check and fail later. */
#define H64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
/* Put into refused inputs: no error message may repeat it. */
#define MARK "ZQXMARK"

/* Every value named name, joined with "\n", into out (reset first). */
static void
rec_join(const struct record *r, const char *name, struct q_buf *out)
{
	int n = 0;

	q_buf_reset(out);
	for (int i = 0; i < r->n; i++) {
		if (strcmp(r->name[i], name) != 0)
			continue;
		if (n++ > 0)
			q_buf_addch(out, '\n');
		q_buf_adds(out, r->value[i]);
	}
	cr_assert_gt(n, 0, "vector record lacks '%s'", name);
}

/* The record whose name is name. */
static void
vec_find(struct record *r, const char *name)
{
	FILE *f = vec_open(VECTORS);

	while (rec_next(f, r))
		if (strcmp(rec_need(r, "name"), name) == 0)
			break;
	fclose(f);
	cr_assert_gt(r->n, 0, "no record \"%s\" in %s", name, VECTORS);
}

/* Bytes to lowercase hex, independent of q_hex_encode. */
static void
tohex(char *out, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
	out[2 * n] = '\0';
}

/* A malloc'd copy of s with its one occurrence of from replaced by to. */
static char *
replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
	char *out = malloc(n);

	cr_assert_not_null(at, "\"%s\" not found", from);
	cr_assert_null(strstr(at + 1, from), "\"%s\" found twice", from);
	snprintf(out, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
	return out;
}

/* A malloc'd copy of a followed by b. */
static char *
concat(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 1;
	char *out = malloc(n);

	snprintf(out, n, "%s%s", a, b);
	return out;
}

static int
parse(struct q_initdata *d, const char *s, struct q_err *err)
{
	q_err_clear(err);
	return q_initdata_parse(d, s, strlen(s), err);
}

/* Parse and validate against token, with no expiry check at the real time. */
static int
check(const char *s, const char *token, struct q_err *err)
{
	struct q_initdata d;
	int rc = parse(&d, s, err);

	if (rc == 0)
		rc = q_initdata_validate(&d, token, 0, (long long)time(NULL), err);
	q_initdata_release(&d);
	return rc;
}

/* s (len bytes) must be refused with a message holding want and not the input's MARK. */
static void
refused_len(const char *s, size_t len, const char *want)
{
	struct q_initdata d;
	struct q_err err = {0};
	static const struct q_initdata zero;

	memset(&d, 0x5a, sizeof(d));
	cr_assert_eq(q_initdata_parse(&d, s, len, &err), -1, "accepted \"%.80s\"", s);
	cr_expect_eq(err.code, Q_E_UNAUTHORIZED, "\"%.80s\": code %d", s, err.code);
	cr_expect_not_null(strstr(err.msg, want), "\"%.80s\": message \"%s\", want \"%s\"", s,
	                   err.msg, want);
	cr_expect_null(strstr(err.msg, MARK), "message echoes the input: %s", err.msg);
	cr_expect(memcmp(&d, &zero, sizeof(d)) == 0, "\"%.80s\": d not left empty", s);
	q_initdata_release(&d);
}

static void
refused(const char *s, const char *want)
{
	refused_len(s, strlen(s), want);
}

static void
setup(void)
{
	cr_assert_eq(q_crypto_init(), 0);
}

TestSuite(vectors, .init = setup);
TestSuite(validate, .init = setup);
TestSuite(signature, .init = setup);
TestSuite(parse, .init = setup);
TestSuite(sign, .init = setup);
TestSuite(bot_id, .init = setup);

Test(vectors, file_holds_vectors_1_3_4)
{
	static const char *const want[] = {"vector 1", "vector 3", "vector 4"};
	FILE *f = vec_open(VECTORS);
	struct record r = {0};
	int count = 0;

	while (rec_next(f, &r)) {
		cr_assert_lt(count, 3, "more than 3 records");
		cr_expect_str_eq(rec_need(&r, "name"), want[count]);
		rec_need(&r, "init_data");
		count++;
	}
	rec_release(&r);
	fclose(f);
	cr_assert_eq(count, 3, "expected vectors 1, 3 and 4, read %d", count);
}

Test(validate, vector1_and_its_intermediate_values)
{
	struct record r = {0};
	struct q_initdata d;
	struct q_err err = {0};
	struct q_buf want = Q_BUF_INIT, got = Q_BUF_INIT;
	uint8_t key[Q_HMAC_SHA256_LEN];
	char hex[2 * Q_HMAC_SHA256_LEN + 1];
	long long now = (long long)time(NULL);

	vec_find(&r, "vector 1");
	q_initdata_secret_key(key, rec_need(&r, "token"));
	tohex(hex, key, sizeof(key));
	cr_expect_str_eq(hex, rec_need(&r, "secret_key"));

	cr_assert_eq(parse(&d, rec_need(&r, "init_data"), &err), 0, "%s", err.msg);
	cr_expect_eq(d.nfields, 4);
	cr_expect_eq(d.auth_date, 1662771648);
	tohex(hex, d.hash, sizeof(d.hash));
	cr_expect_str_eq(hex, "c501b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2");
	rec_join(&r, "data_check_string", &want);
	q_initdata_check_string(&got, &d);
	cr_expect_eq(got.len, want.len);
	cr_expect_str_eq(got.data, want.data);

	cr_expect_eq(q_initdata_validate(&d, rec_need(&r, "token"), 0, now, &err), 0, "%s",
	             err.msg);
	/* A max_age that still covers auth_date passes too. */
	cr_expect_eq(
	        q_initdata_validate(&d, rec_need(&r, "token"), now - d.auth_date + 60, now, &err),
	        0, "%s", err.msg);
	q_initdata_release(&d);
	q_buf_release(&want);
	q_buf_release(&got);
	rec_release(&r);
}

Test(validate, vector1_plus_abc_fails)
{
	struct record r = {0};
	struct q_err err = {0};
	char *s;

	vec_find(&r, "vector 1");
	s = concat(rec_need(&r, "init_data"), "abc");
	cr_expect_eq(check(s, rec_need(&r, "token"), &err), -1);
	cr_expect_eq(err.code, Q_E_UNAUTHORIZED);
	cr_expect_str_eq(err.msg, "initData hash is not 64 hex digits");
	free(s);
	rec_release(&r);
}

Test(validate, tampered_vector1_fails_as_signature_invalid)
{
	static const char *const edits[][2] = {
	        {"auth_date=1662771648", "auth_date=1662771649"},
	        {"Vladislav", "Vladislaw"},
	        {"query_id=AAHdF6IQAAAAAN0XohDhrOrc", "query_id=AAHdF6IQAAAAAN0XohDhrOrd"},
	        {"e2b2", "e2b3"},                /* the last hex digit of the hash */
	        {"&auth_date", "&x=&auth_date"}, /* an extra, empty field */
	};
	struct record r = {0};

	vec_find(&r, "vector 1");
	cr_assert_eq(check(rec_need(&r, "init_data"), rec_need(&r, "token"), &(struct q_err){0}),
	             0);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char *s = replace(rec_need(&r, "init_data"), edits[i][0], edits[i][1]);
		struct q_err err = {0};

		cr_expect_eq(check(s, rec_need(&r, "token"), &err), -1, "edit %zu accepted", i);
		cr_expect_eq(err.code, Q_E_UNAUTHORIZED);
		cr_expect_str_eq(err.msg, "initData signature invalid", "edit %zu", i);
		free(s);
	}
	rec_release(&r);
}

Test(validate, no_hash_true_is_missing_hash)
{
	refused("no_hash=true", "initData hash missing");
}

Test(validate, hash_abc_auth_date_test_fails)
{
	refused("hash=abc&auth_date=test", "initData hash is not 64 hex digits");
	/* With a well-formed hash the bad auth_date is what fails. */
	refused("hash=" H64 "&auth_date=test", "initData auth_date is not a Unix time");
	refused("hash=" H64, "initData auth_date missing");
}

Test(validate, vector1_with_max_age_1_is_expired)
{
	struct record r = {0};
	struct q_initdata d;
	struct q_err err = {0};

	vec_find(&r, "vector 1");
	cr_assert_eq(parse(&d, rec_need(&r, "init_data"), &err), 0);
	cr_expect_eq(q_initdata_validate(&d, rec_need(&r, "token"), 1, (long long)time(NULL), &err),
	             -1);
	cr_expect_eq(err.code, Q_E_UNAUTHORIZED);
	cr_expect_str_eq(err.msg, "initData expired");
	q_initdata_release(&d);
	rec_release(&r);
}

Test(validate, age_and_skew_boundaries)
{
	struct q_initdata d = {.auth_date = 1000000};
	struct q_err err = {0};

	cr_expect_eq(q_initdata_check_age(&d, 100, 1000100, &err), 0, "exactly max_age old");
	cr_expect_eq(q_initdata_check_age(&d, 99, 1000100, &err), -1, "one second too old");
	cr_expect_str_eq(err.msg, "initData expired");
	q_err_clear(&err);
	cr_expect_eq(q_initdata_check_age(&d, 0, 9000000000LL, &err), 0, "max_age 0: no expiry");
	cr_expect_eq(q_initdata_check_age(&d, 100, 1000000 - Q_INITDATA_MAX_SKEW, &err), 0);
	cr_expect_eq(q_initdata_check_age(&d, 0, 1000000 - Q_INITDATA_MAX_SKEW - 1, &err), -1,
	             "past the skew, even without expiry");
	cr_expect_eq(err.code, Q_E_UNAUTHORIZED);
	cr_expect_str_eq(err.msg, "initData auth_date is in the future");
	q_err_clear(&err);
	/* Extreme clocks must not overflow into a pass. */
	cr_expect_eq(q_initdata_check_age(&d, 0, -9223372036854775807LL - 1, &err), -1);
	q_err_clear(&err);
	cr_expect_eq(q_initdata_check_age(&d, 1, 9223372036854775807LL, &err), -1);
	q_err_clear(&err);
	cr_expect_eq(q_initdata_check_age(&d, -1, 1000000, &err), -1);
	cr_expect_eq(err.code, Q_E_CONFIG);
}

Test(validate, vector3_validates_and_fails_with_another_token)
{
	struct record r = {0};
	struct q_err err = {0};
	char *token;

	vec_find(&r, "vector 3");
	cr_expect_eq(check(rec_need(&r, "init_data"), rec_need(&r, "token"), &err), 0, "%s",
	             err.msg);
	token = concat(rec_need(&r, "token"), "A");
	cr_expect_eq(check(rec_need(&r, "init_data"), token, &err), -1);
	cr_expect_eq(err.code, Q_E_UNAUTHORIZED);
	cr_expect_str_eq(err.msg, "initData signature invalid");
	free(token);
	rec_release(&r);
}

Test(validate, bad_configuration_is_not_the_users_fault)
{
	struct record r = {0};
	struct q_initdata d;
	struct q_err err = {0};

	vec_find(&r, "vector 1");
	cr_assert_eq(parse(&d, rec_need(&r, "init_data"), &err), 0);
	cr_expect_eq(q_initdata_validate(&d, "", 0, (long long)time(NULL), &err), -1);
	cr_expect_eq(err.code, Q_E_CONFIG);
	q_err_clear(&err);
	cr_expect_eq(q_initdata_validate(&d, NULL, 0, (long long)time(NULL), &err), -1);
	cr_expect_eq(err.code, Q_E_CONFIG);
	q_err_clear(&err);
	cr_expect_eq(
	        q_initdata_validate(&d, rec_need(&r, "token"), -1, (long long)time(NULL), &err),
	        -1);
	cr_expect_eq(err.code, Q_E_CONFIG);
	q_initdata_release(&d);
	rec_release(&r);
}

/* protocols.md 5.1: only hash leaves the HMAC check string; signature stays in it. */
Test(validate, signature_field_is_covered_by_the_hmac)
{
	static const char *const keys[] = {"auth_date", "signature", "user"};
	static const char *const values[] = {"1700000000", "c2lnbmF0dXJl", "{\"id\":7}"};
	struct q_buf s = Q_BUF_INIT, dcs = Q_BUF_INIT;
	struct q_initdata d;
	struct q_err err = {0};
	char *tampered;

	cr_assert_eq(q_initdata_sign(&s, "1:tok", keys, values, 3, &err), 0, "%s", err.msg);
	cr_assert_eq(parse(&d, s.data, &err), 0, "%s", err.msg);
	q_initdata_check_string(&dcs, &d);
	cr_expect_str_eq(dcs.data, "auth_date=1700000000\nsignature=c2lnbmF0dXJl\nuser={\"id\":7}");
	cr_expect_eq(q_initdata_validate(&d, "1:tok", 0, 1700000000, &err), 0, "%s", err.msg);
	q_initdata_release(&d);
	tampered = replace(s.data, "c2lnbmF0dXJl", "c2lnbmF0dXJm");
	cr_expect_eq(parse(&d, tampered, &err), 0, "%s", err.msg);
	cr_expect_eq(q_initdata_validate(&d, "1:tok", 0, 1700000000, &err), -1);
	cr_expect_str_eq(err.msg, "initData signature invalid");
	q_initdata_release(&d);
	free(tampered);
	q_buf_release(&s);
	q_buf_release(&dcs);
}

Test(signature, vector4_verifies_with_the_production_key)
{
	struct record r = {0};
	struct q_initdata d;
	struct q_err err = {0};
	struct q_buf want = Q_BUF_INIT, got = Q_BUF_INIT;
	char hex[2 * Q_ED25519_SIG_LEN + 1];
	long long bot_id;

	vec_find(&r, "vector 4");
	bot_id = strtoll(rec_need(&r, "bot_id"), NULL, 10);
	cr_assert_eq(bot_id, 7342037359LL);
	cr_assert_eq(parse(&d, rec_need(&r, "init_data"), &err), 0, "%s", err.msg);
	cr_assert_eq(d.has_signature, 1);
	tohex(hex, d.signature, sizeof(d.signature));
	cr_expect_str_eq(hex, rec_need(&r, "signature_hex"));
	rec_join(&r, "data_check_string", &want);
	q_initdata_third_party_check_string(&got, &d, bot_id);
	cr_expect_str_eq(got.data, want.data);
	cr_expect_eq(q_initdata_verify_signature(&d, bot_id, 0, &err), 0, "%s", err.msg);

	/* The test-environment key, another bot id: both fail. */
	cr_expect_eq(q_initdata_verify_signature(&d, bot_id, 1, &err), -1);
	cr_expect_eq(err.code, Q_E_UNAUTHORIZED);
	cr_expect_str_eq(err.msg, "initData Ed25519 signature invalid");
	q_err_clear(&err);
	cr_expect_eq(q_initdata_verify_signature(&d, bot_id + 1, 0, &err), -1);
	cr_expect_str_eq(err.msg, "initData Ed25519 signature invalid");
	q_err_clear(&err);
	cr_expect_eq(q_initdata_verify_signature(&d, 0, 0, &err), -1);
	cr_expect_eq(err.code, Q_E_CONFIG);
	q_initdata_release(&d);
	q_buf_release(&want);
	q_buf_release(&got);
	rec_release(&r);
}

Test(signature, vector4_with_a_appended_or_tampered_fails)
{
	struct record r = {0};
	struct q_initdata d;
	struct q_err err = {0};
	char *s;

	vec_find(&r, "vector 4");
	s = concat(rec_need(&r, "init_data"), "a");
	cr_assert_eq(parse(&d, s, &err), 0, "%s", err.msg);
	cr_expect_eq(q_initdata_verify_signature(&d, 7342037359LL, 0, &err), -1);
	cr_expect_eq(err.code, Q_E_UNAUTHORIZED);
	cr_expect_str_eq(err.msg, "initData signature malformed");
	q_initdata_release(&d);
	free(s);

	s = replace(rec_need(&r, "init_data"), "chat_type=private", "chat_type=group");
	q_err_clear(&err);
	cr_assert_eq(parse(&d, s, &err), 0, "%s", err.msg);
	cr_expect_eq(q_initdata_verify_signature(&d, 7342037359LL, 0, &err), -1);
	cr_expect_str_eq(err.msg, "initData Ed25519 signature invalid");
	q_initdata_release(&d);
	free(s);
	rec_release(&r);
}

Test(signature, padding_is_accepted_and_absence_reported)
{
	struct record r = {0};
	struct q_initdata d;
	struct q_err err = {0};
	char *s;

	vec_find(&r, "vector 4");
	s = concat(rec_need(&r, "init_data"), "==");
	cr_assert_eq(parse(&d, s, &err), 0, "%s", err.msg);
	cr_expect_eq(d.has_signature, 1);
	cr_expect_eq(q_initdata_verify_signature(&d, 7342037359LL, 0, &err), 0, "%s", err.msg);
	q_initdata_release(&d);
	free(s);
	/* One '=' is wrong padding for 64 bytes. */
	s = concat(rec_need(&r, "init_data"), "=");
	cr_assert_eq(parse(&d, s, &err), 0, "%s", err.msg);
	cr_expect_eq(d.has_signature, 0);
	q_initdata_release(&d);
	free(s);
	rec_release(&r);

	vec_find(&r, "vector 1");
	cr_assert_eq(parse(&d, rec_need(&r, "init_data"), &err), 0, "%s", err.msg);
	cr_expect_eq(q_initdata_verify_signature(&d, 5768337691LL, 0, &err), -1);
	cr_expect_str_eq(err.msg, "initData signature missing");
	q_initdata_release(&d);
	rec_release(&r);
}

Test(parse, refusals)
{
	char *big = malloc(Q_INITDATA_MAX_LEN + 2);

	refused_len("", 0, "initData is empty");
	memset(big, 'a', Q_INITDATA_MAX_LEN + 1);
	memcpy(big, "auth_date=1&hash=" H64 "&x=" MARK, strlen("auth_date=1&hash=" H64 "&x=" MARK));
	big[Q_INITDATA_MAX_LEN + 1] = '\0';
	refused(big, "initData is over 8192 bytes");
	free(big);

	refused("auth_date=1&hash=" H64 "&" MARK, "field without '='");
	refused("auth_date=1&hash=" H64 "&&x=" MARK, "field without '='");
	refused("auth_date=1&hash=" H64 "&x=" MARK "&", "field without '='");
	refused("&auth_date=1&hash=" H64 "&x=" MARK, "field without '='");
	refused("auth_date=1&hash=" H64 "&=" MARK, "field with no name");
	refused("auth_date=1&hash=" H64 "&x=%G1" MARK, "bad %-escape");
	refused("auth_date=1&hash=" H64 "&x=%1G" MARK, "bad %-escape");
	refused("auth_date=1&hash=" H64 "&x=" MARK "%4", "bad %-escape");
	refused("auth_date=1&hash=" H64 "&x=" MARK "%", "bad %-escape");
	refused("auth_date=1&hash=" H64 "&x%4=" MARK, "bad %-escape");
	refused("auth_date=1&hash=" H64 "&a%00b=" MARK, "NUL byte in a name");
	refused("auth_date=1&hash=" H64 "&x=1&x=" MARK, "field twice");
	refused("auth_date=1&hash=" H64 "&a+b=1&a%20b=" MARK, "field twice");
	refused("auth_date=1&hash=" H64 "&hash=" H64, "field twice");
	refused("auth_date=1&x=" MARK, "initData hash missing");
	refused("auth_date=1&hash=" MARK, "hash is not 64 hex digits");
	refused("auth_date=1&hash=0" H64, "hash is not 64 hex digits");
	refused("auth_date=1&hash=" H64 "0", "hash is not 64 hex digits");
	refused("auth_date=1&hash=g123456789abcdef00112233445566778899aabbccddeeff0011223344556677",
	        "hash is not 64 hex digits");
	refused("auth_date=" MARK "&hash=" H64, "auth_date is not a Unix time");
	refused("auth_date=&hash=" H64, "auth_date is not a Unix time");
	refused("auth_date=-1&hash=" H64, "auth_date is not a Unix time");
	refused("auth_date=1%00&hash=" H64, "auth_date is not a Unix time");
	refused("auth_date=1234567890123456&hash=" H64, "auth_date is not a Unix time");
	refused("hash=" H64 "&x=" MARK, "auth_date missing");
}

Test(parse, user_refusals)
{
	refused("auth_date=1&hash=" H64 "&user=" MARK, "user is not a JSON object");
	refused("auth_date=1&hash=" H64 "&user=%5B%5D", "user is not a JSON object");
	refused("auth_date=1&hash=" H64 "&user=%7B%22id%22:1,%22id%22:2%7D",
	        "user is not a JSON object");
	refused("auth_date=1&hash=" H64 "&user=%7B%22id%22:1%7Dx", "user is not a JSON object");
	refused("auth_date=1&hash=" H64 "&user=%7B%7D", "user has no positive integer id");
	refused("auth_date=1&hash=" H64 "&user=%7B%22id%22:%221%22%7D",
	        "user has no positive integer id");
	refused("auth_date=1&hash=" H64 "&user=%7B%22id%22:0%7D",
	        "user has no positive integer id");
	refused("auth_date=1&hash=" H64 "&user=%7B%22id%22:1,%22username%22:5%7D",
	        "user has a name that is not a string");
}

/* Builds "auth_date=1&hash=H64" and then fields k0=v ... until nfields in all. */
static char *
with_fields(size_t nfields)
{
	struct q_buf b = Q_BUF_INIT;

	q_buf_adds(&b, "auth_date=1&hash=" H64);
	for (size_t i = 2; i < nfields; i++)
		q_buf_printf(&b, "&k%zu=v", i);
	return q_buf_detach(&b, NULL);
}

Test(parse, limits_are_exact)
{
	struct q_initdata d;
	struct q_err err = {0};
	char *s = with_fields(Q_INITDATA_MAX_FIELDS), *big = malloc(Q_INITDATA_MAX_LEN + 1);
	size_t head = strlen("auth_date=1&hash=" H64 "&x=");

	cr_expect_eq(parse(&d, s, &err), 0, "%d fields: %s", Q_INITDATA_MAX_FIELDS, err.msg);
	cr_expect_eq(d.nfields, Q_INITDATA_MAX_FIELDS);
	q_initdata_release(&d);
	free(s);
	s = with_fields(Q_INITDATA_MAX_FIELDS + 1);
	refused(s, "initData has more than 64 fields");
	free(s);

	memset(big, 'a', Q_INITDATA_MAX_LEN);
	memcpy(big, "auth_date=1&hash=" H64 "&x=", head);
	big[Q_INITDATA_MAX_LEN] = '\0';
	cr_expect_eq(parse(&d, big, &err), 0, "%d bytes: %s", Q_INITDATA_MAX_LEN, err.msg);
	cr_expect_eq(q_initdata_get(&d, "x")->value_len, Q_INITDATA_MAX_LEN - head);
	q_initdata_release(&d);
	free(big);
}

Test(parse, decoding_is_byte_exact_and_fields_sorted)
{
	static const char s[] = "x=c+d%2B%25%26%3D%0A%00%C3%a9&auth_date=0042&a+b=&hash=" H64;
	static const char want[] = "c d+%&=\n\0\xc3\xa9";
	struct q_initdata d;
	struct q_err err = {0};
	const struct q_initdata_field *f;

	cr_assert_eq(parse(&d, s, &err), 0, "%s", err.msg);
	cr_assert_eq(d.nfields, 4);
	cr_expect_str_eq(d.fields[0].key, "a b");
	cr_expect_str_eq(d.fields[1].key, "auth_date");
	cr_expect_str_eq(d.fields[2].key, "hash");
	cr_expect_str_eq(d.fields[3].key, "x");
	cr_expect_eq(d.fields[0].value_len, 0);
	cr_expect_str_eq(d.fields[0].value, "");
	f = q_initdata_get(&d, "x");
	cr_assert_not_null(f);
	cr_expect_eq(f->value_len, sizeof(want) - 1);
	cr_expect(memcmp(f->value, want, sizeof(want)) == 0, "value not byte-exact");
	cr_expect_eq(d.auth_date, 42);
	cr_expect_eq(d.hash[0], 0x00);
	cr_expect_eq(d.hash[31], 0xff);
	cr_expect_null(q_initdata_get(&d, "a+b"));
	cr_expect_eq(d.has_signature, 0);
	cr_expect_null(d.user_json);
	cr_expect_eq(d.user_id, 0);
	cr_expect_null(d.username);
	q_initdata_release(&d);
	q_initdata_release(&d);
}

Test(parse, user_fields_of_vector1)
{
	static const char user[] = "{\"id\":279058397,\"first_name\":\"Vladislav\",\"last_name\":"
	                           "\"Kibenko\",\"username\":\"vdkfrost\",\"language_code\":\"ru\","
	                           "\"is_premium\":true}";
	struct record r = {0};
	struct q_initdata d;
	struct q_err err = {0};

	vec_find(&r, "vector 1");
	cr_assert_eq(parse(&d, rec_need(&r, "init_data"), &err), 0, "%s", err.msg);
	cr_expect_eq(d.user_id, 279058397);
	cr_expect_str_eq(d.username, "vdkfrost");
	cr_expect_str_eq(d.first_name, "Vladislav");
	cr_expect_str_eq(d.last_name, "Kibenko");
	cr_expect_str_eq(d.language_code, "ru");
	cr_assert_eq(d.user_json_len, strlen(user));
	cr_expect(memcmp(d.user_json, user, strlen(user)) == 0);
	cr_expect_str_eq(q_initdata_get(&d, "query_id")->value, "AAHdF6IQAAAAAN0XohDhrOrc");
	q_initdata_release(&d);
	rec_release(&r);
}

/* Vector 4: the raw user text keeps "\/" (it is what was signed); the names are JSON-decoded. */
Test(parse, user_json_stays_raw_names_decoded)
{
	struct record r = {0};
	struct q_initdata d;
	struct q_err err = {0};

	vec_find(&r, "vector 4");
	cr_assert_eq(parse(&d, rec_need(&r, "init_data"), &err), 0, "%s", err.msg);
	cr_expect_eq(d.user_id, 279058397);
	cr_expect_str_eq(d.first_name, "Vladislav + - ? /");
	cr_expect_not_null(strstr(d.user_json, "\"Vladislav + - ? \\/\""));
	cr_expect_not_null(strstr(d.user_json, "https:\\/\\/t.me"));
	q_initdata_release(&d);
	rec_release(&r);

	cr_assert_eq(parse(&d, "auth_date=1&hash=" H64 "&user=%7B%22id%22:5,%22username%22:null%7D",
	                   &err),
	             0, "%s", err.msg);
	cr_expect_eq(d.user_id, 5);
	cr_expect_null(d.username);
	cr_expect_null(d.first_name);
	q_initdata_release(&d);
}

/* "hash=..." moved to the end, where q_initdata_sign puts it. Malloc'd. */
static char *
hash_last(const char *s)
{
	const char *h = strncmp(s, "hash=", 5) == 0 ? s : strstr(s, "&hash=");
	const char *end;
	struct q_buf b = Q_BUF_INIT;

	cr_assert_not_null(h);
	if (*h == '&')
		h++;
	end = strchr(h, '&');
	if (end == NULL)
		return strdup(s);
	q_buf_add(&b, s, (size_t)(h - s));
	q_buf_adds(&b, end + 1);
	q_buf_addch(&b, '&');
	q_buf_add(&b, h, (size_t)(end - h));
	return q_buf_detach(&b, NULL);
}

/* Telegram's own encoding of vectors 1 and 3 is what q_initdata_sign produces, byte for byte. */
static void
sign_reproduces(const char *name)
{
	struct record r = {0};
	struct q_initdata d;
	struct q_err err = {0};
	struct q_buf out = Q_BUF_INIT;
	const char *keys[Q_INITDATA_MAX_FIELDS], *values[Q_INITDATA_MAX_FIELDS];
	char *copy, *save = NULL, *want;
	size_t n = 0;

	vec_find(&r, name);
	cr_assert_eq(parse(&d, rec_need(&r, "init_data"), &err), 0, "%s", err.msg);
	copy = strdup(rec_need(&r, "init_data"));
	for (char *tok = strtok_r(copy, "&", &save); tok; tok = strtok_r(NULL, "&", &save)) {
		const struct q_initdata_field *f;

		*strchr(tok, '=') = '\0';
		if (strcmp(tok, "hash") == 0)
			continue;
		f = q_initdata_get(&d, tok);
		cr_assert_not_null(f, "%s: %s", name, tok);
		keys[n] = f->key;
		values[n++] = f->value;
	}
	cr_assert_eq(q_initdata_sign(&out, rec_need(&r, "token"), keys, values, n, &err), 0, "%s",
	             err.msg);
	want = hash_last(rec_need(&r, "init_data"));
	cr_expect_str_eq(out.data, want, "%s", name);
	free(want);
	free(copy);
	q_buf_release(&out);
	q_initdata_release(&d);
	rec_release(&r);
}

Test(sign, reproduces_vectors_1_and_3)
{
	sign_reproduces("vector 1");
	sign_reproduces("vector 3");
}

Test(sign, round_trip_with_awkward_values)
{
	static const char *const keys[] = {"user", "start_param", "auth_date", "query id+&="};
	static const char *const values[] = {
	        "{\"id\":42,\"first_name\":\"A b+c&d=e%f\\n\",\"username\":\"\xd0\x9f\xd1\x80\"}",
	        "a b+c&d=e%20f%\nline2\r\n\xe2\x9c\x93 \xf0\x9f\x9a\x80", "1700000000", "x"};
	struct q_buf s = Q_BUF_INIT;
	struct q_initdata d;
	struct q_err err = {0};

	q_buf_adds(&s, "tma ");
	cr_assert_eq(q_initdata_sign(&s, "123:secret", keys, values, 4, &err), 0, "%s", err.msg);
	cr_expect_eq(strncmp(s.data, "tma user=%7B%22id%22%3A42%2C", 28), 0, "%s", s.data);
	cr_expect_null(strpbrk(s.data + 4, " +\n\r"), "raw space, '+' or newline in %s", s.data);
	cr_expect_not_null(strstr(s.data, "a%20b%2Bc%26d%3De%2520f%25%0Aline2%0D%0A%E2%9C%93"));
	cr_expect_not_null(strstr(s.data, "&query%20id%2B%26%3D=x&hash="));
	cr_expect_eq(strlen(strstr(s.data, "&hash=")), 6 + 64);

	cr_assert_eq(parse(&d, s.data + 4, &err), 0, "%s", err.msg);
	for (size_t i = 0; i < 4; i++) {
		const struct q_initdata_field *f = q_initdata_get(&d, keys[i]);

		cr_assert_not_null(f, "%s", keys[i]);
		cr_expect_eq(f->value_len, strlen(values[i]), "%s", keys[i]);
		cr_expect_str_eq(f->value, values[i]);
	}
	cr_expect_eq(d.user_id, 42);
	cr_expect_str_eq(d.first_name, "A b+c&d=e%f\n");
	cr_expect_str_eq(d.username, "\xd0\x9f\xd1\x80");
	cr_expect_eq(q_initdata_validate(&d, "123:secret", 60, 1700000030, &err), 0, "%s", err.msg);
	cr_expect_eq(q_initdata_validate(&d, "123:secreT", 60, 1700000030, &err), -1);
	cr_expect_str_eq(err.msg, "initData signature invalid");
	q_initdata_release(&d);
	q_buf_release(&s);
}

Test(sign, refusals_leave_out_unchanged)
{
	static const char *const dup[] = {"b", "a", "b"}, *const vals[] = {"1", "2", "3"};
	static const char *const empty[] = {"a", ""}, *const hash[] = {"hash"};
	const char *many[Q_INITDATA_MAX_FIELDS], *big[1];
	char names[Q_INITDATA_MAX_FIELDS][8];
	struct q_buf out = Q_BUF_INIT;
	struct q_err err = {0};
	char *huge = malloc(Q_INITDATA_MAX_LEN);

	q_buf_adds(&out, "keep");
	cr_expect_eq(q_initdata_sign(&out, "1:t", dup, vals, 0, &err), -1);
	cr_expect_eq(err.code, Q_E_BAD_REQUEST);
	q_err_clear(&err);
	cr_expect_eq(q_initdata_sign(&out, "1:t", dup, vals, 3, &err), -1);
	cr_expect_eq(err.code, Q_E_BAD_REQUEST);
	cr_expect_not_null(strstr(err.msg, "twice"), "%s", err.msg);
	q_err_clear(&err);
	cr_expect_eq(q_initdata_sign(&out, "1:t", empty, vals, 2, &err), -1);
	cr_expect_eq(err.code, Q_E_BAD_REQUEST);
	q_err_clear(&err);
	cr_expect_eq(q_initdata_sign(&out, "1:t", hash, vals, 1, &err), -1);
	cr_expect_eq(err.code, Q_E_BAD_REQUEST);
	q_err_clear(&err);
	cr_expect_eq(q_initdata_sign(&out, "", dup, vals, 2, &err), -1);
	cr_expect_eq(err.code, Q_E_CONFIG);
	q_err_clear(&err);
	for (size_t i = 0; i < Q_INITDATA_MAX_FIELDS; i++) {
		snprintf(names[i], sizeof(names[i]), "k%zu", i);
		many[i] = names[i];
	}
	/* 64 fields plus hash is one too many. */
	cr_expect_eq(q_initdata_sign(&out, "1:t", many, many, Q_INITDATA_MAX_FIELDS, &err), -1);
	cr_expect_eq(err.code, Q_E_BAD_REQUEST);
	cr_expect_str_eq(err.msg, "initData takes 1 to 63 fields besides hash");
	q_err_clear(&err);
	/* Each space becomes "%20": short input, long output. */
	memset(huge, ' ', Q_INITDATA_MAX_LEN / 3);
	huge[Q_INITDATA_MAX_LEN / 3] = '\0';
	big[0] = huge;
	cr_expect_eq(q_initdata_sign(&out, "1:t", empty, big, 1, &err), -1);
	cr_expect_not_null(strstr(err.msg, "exceed"), "%s", err.msg);
	cr_expect_str_eq(out.data, "keep");
	cr_expect_eq(out.len, 4);
	free(huge);
	q_buf_release(&out);
}

Test(sign, most_fields_parse_back)
{
	const char *keys[Q_INITDATA_MAX_FIELDS - 1], *values[Q_INITDATA_MAX_FIELDS - 1];
	char names[Q_INITDATA_MAX_FIELDS - 1][8];
	struct q_buf s = Q_BUF_INIT;
	struct q_initdata d;
	struct q_err err = {0};

	keys[0] = "auth_date";
	values[0] = "1700000000";
	for (size_t i = 1; i < Q_INITDATA_MAX_FIELDS - 1; i++) {
		snprintf(names[i], sizeof(names[i]), "k%zu", i);
		keys[i] = values[i] = names[i];
	}
	cr_assert_eq(q_initdata_sign(&s, "1:t", keys, values, Q_INITDATA_MAX_FIELDS - 1, &err), 0,
	             "%s", err.msg);
	cr_assert_eq(parse(&d, s.data, &err), 0, "%s", err.msg);
	cr_expect_eq(d.nfields, Q_INITDATA_MAX_FIELDS);
	cr_expect_eq(q_initdata_validate(&d, "1:t", 0, 1700000000, &err), 0, "%s", err.msg);
	q_initdata_release(&d);
	q_buf_release(&s);
}

Test(bot_id, digits_before_the_colon)
{
	static const struct {
		const char *token;
		long long id;
	} cases[] = {
	        {"5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8", 5768337691LL},
	        {"7342037359:x", 7342037359LL},
	        {"1:x", 1},
	        {"999999999999999999:x", 999999999999999999LL},
	        {"1000000000000000000:x", -1},
	        {"0:x", -1},
	        {":x", -1},
	        {"123", -1},
	        {"123:", -1},
	        {"12a:x", -1},
	        {"-5:x", -1},
	        {" 5:x", -1},
	        {"", -1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(q_initdata_bot_id(cases[i].token), cases[i].id, "\"%s\"",
		             cases[i].token);
	cr_expect_eq(q_initdata_bot_id(NULL), -1);
}
