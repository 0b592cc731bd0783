#include "q_initdata.h"
#include "q_crypto.h"
#include "q_http.h"
#include "q_mem.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Form-decode n bytes at s into out (room for n + 1): %XX, '+' as space, NUL-terminated. */
static int
form_decode(char *out, size_t *outlen, const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] != '%') {
			out[o++] = s[i];
		} else {
			if (n - i < 3 || (hi = hexval((unsigned char)s[i + 1])) < 0 ||
			    (lo = hexval((unsigned char)s[i + 2])) < 0)
				return -1;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		}
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

/* Keys hold no NUL, so strcmp is the byte order Telegram sorts by. */
static int
field_cmp(const void *a, const void *b)
{
	const struct q_initdata_field *x = a, *y = b;

	return strcmp(x->key, y->key);
}

static int
parse_time(long long *out, const char *s, size_t n)
{
	long long v = 0;

	if (n == 0 || n > 15)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
user_string(char **out, json_t *user, const char *key)
{
	json_t *v = json_object_get(user, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = q_strndup(json_string_value(v), json_string_length(v));
	return 0;
}

static int
parse_user(struct q_initdata *d, const struct q_initdata_field *f, struct q_err *err)
{
	json_error_t jerr;
	json_t *user = json_loadb(f->value, f->value_len, JSON_REJECT_DUPLICATES, &jerr), *id;
	int rc = -1;

	if (!json_is_object(user)) {
		q_err_set(err, Q_E_UNAUTHORIZED, "initData user is not a JSON object");
		goto out;
	}
	id = json_object_get(user, "id");
	if (!json_is_integer(id) || json_integer_value(id) <= 0) {
		q_err_set(err, Q_E_UNAUTHORIZED, "initData user has no positive integer id");
		goto out;
	}
	if (user_string(&d->first_name, user, "first_name") < 0 ||
	    user_string(&d->last_name, user, "last_name") < 0 ||
	    user_string(&d->username, user, "username") < 0 ||
	    user_string(&d->language_code, user, "language_code") < 0) {
		q_err_set(err, Q_E_UNAUTHORIZED, "initData user has a name that is not a string");
		goto out;
	}
	d->user_id = (long long)json_integer_value(id);
	d->user_json = f->value;
	d->user_json_len = f->value_len;
	rc = 0;
out:
	json_decref(user);
	return rc;
}

/* Telegram sends base64url without padding; accept the padded form too. */
static void
parse_signature(struct q_initdata *d, const struct q_initdata_field *f)
{
	struct q_buf sig = Q_BUF_INIT;
	size_t n = f->value_len;

	if (n % 4 == 0 && n > 0 && f->value[n - 1] == '=')
		n -= f->value[n - 2] == '=' ? 2 : 1;
	if (q_base64url_decode(&sig, f->value, n) == 0 && sig.len == Q_ED25519_SIG_LEN) {
		memcpy(d->signature, sig.data, Q_ED25519_SIG_LEN);
		d->has_signature = 1;
	}
	q_buf_release(&sig);
}

/* Split and decode s into d->fields, unsorted. */
static int
split_fields(struct q_initdata *d, const char *s, size_t len, struct q_err *err)
{
	const char *seg = s, *end = s + len;
	char *p = d->mem;

	for (;;) {
		const char *amp = memchr(seg, '&', (size_t)(end - seg));
		const char *se = amp ? amp : end;
		const char *eq = memchr(seg, '=', (size_t)(se - seg));
		struct q_initdata_field *f = &d->fields[d->nfields++];

		if (eq == NULL)
			return q_err_set(err, Q_E_UNAUTHORIZED, "initData has a field without '='");
		if (eq == seg)
			return q_err_set(err, Q_E_UNAUTHORIZED,
			                 "initData has a field with no name");
		f->key = p;
		if (form_decode(p, &f->key_len, seg, (size_t)(eq - seg)) < 0)
			return q_err_set(err, Q_E_UNAUTHORIZED, "initData has a bad %%-escape");
		if (memchr(f->key, '\0', f->key_len) != NULL)
			return q_err_set(err, Q_E_UNAUTHORIZED,
			                 "initData has a NUL byte in a name");
		p += f->key_len + 1;
		f->value = p;
		if (form_decode(p, &f->value_len, eq + 1, (size_t)(se - eq - 1)) < 0)
			return q_err_set(err, Q_E_UNAUTHORIZED, "initData has a bad %%-escape");
		p += f->value_len + 1;
		if (amp == NULL)
			return 0;
		seg = amp + 1;
	}
}

int
q_initdata_parse(struct q_initdata *d, const char *s, size_t len, struct q_err *err)
{
	const struct q_initdata_field *f;
	size_t nf = 1;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	if (len == 0)
		return q_err_set(err, Q_E_UNAUTHORIZED, "initData is empty");
	if (len > Q_INITDATA_MAX_LEN)
		return q_err_set(err, Q_E_UNAUTHORIZED, "initData is over %d bytes",
		                 Q_INITDATA_MAX_LEN);
	for (size_t i = 0; i < len; i++)
		nf += s[i] == '&';
	if (nf > Q_INITDATA_MAX_FIELDS)
		return q_err_set(err, Q_E_UNAUTHORIZED, "initData has more than %d fields",
		                 Q_INITDATA_MAX_FIELDS);
	/* Decoding never lengthens: the input's bytes plus a NUL after each key and value. */
	d->mem_len = len + 2 * nf;
	d->mem = q_malloc(d->mem_len);
	if (split_fields(d, s, len, err) < 0)
		goto out;
	qsort(d->fields, d->nfields, sizeof(d->fields[0]), field_cmp);
	for (size_t i = 1; i < d->nfields; i++) {
		if (strcmp(d->fields[i - 1].key, d->fields[i].key) == 0) {
			q_err_set(err, Q_E_UNAUTHORIZED, "initData has a field twice");
			goto out;
		}
	}
	f = q_initdata_get(d, "hash");
	if (f == NULL) {
		q_err_set(err, Q_E_UNAUTHORIZED, "initData hash missing");
		goto out;
	}
	if (f->value_len != 2 * sizeof(d->hash) ||
	    q_hex_decode(d->hash, sizeof(d->hash), f->value, f->value_len, NULL) < 0) {
		q_err_set(err, Q_E_UNAUTHORIZED, "initData hash is not 64 hex digits");
		goto out;
	}
	f = q_initdata_get(d, "auth_date");
	if (f == NULL) {
		q_err_set(err, Q_E_UNAUTHORIZED, "initData auth_date missing");
		goto out;
	}
	if (parse_time(&d->auth_date, f->value, f->value_len) < 0) {
		q_err_set(err, Q_E_UNAUTHORIZED, "initData auth_date is not a Unix time");
		goto out;
	}
	f = q_initdata_get(d, "user");
	if (f != NULL && parse_user(d, f, err) < 0)
		goto out;
	f = q_initdata_get(d, "signature");
	if (f != NULL)
		parse_signature(d, f);
	rc = 0;
out:
	if (rc < 0)
		q_initdata_release(d);
	return rc;
}

void
q_initdata_release(struct q_initdata *d)
{
	if (d == NULL)
		return;
	if (d->mem != NULL)
		q_wipe(d->mem, d->mem_len);
	free(d->mem);
	free(d->first_name);
	free(d->last_name);
	free(d->username);
	free(d->language_code);
	q_wipe(d, sizeof(*d));
}

const struct q_initdata_field *
q_initdata_get(const struct q_initdata *d, const char *key)
{
	for (size_t i = 0; i < d->nfields; i++)
		if (strcmp(d->fields[i].key, key) == 0)
			return &d->fields[i];
	return NULL;
}

void
q_initdata_secret_key(uint8_t out[Q_HMAC_SHA256_LEN], const char *bot_token)
{
	q_hmac_sha256(out, "WebAppData", strlen("WebAppData"), bot_token, strlen(bot_token));
}

static void
add_fields(struct q_buf *out, const struct q_initdata *d, int skip_signature)
{
	int first = 1;

	for (size_t i = 0; i < d->nfields; i++) {
		const struct q_initdata_field *f = &d->fields[i];

		if (strcmp(f->key, "hash") == 0 ||
		    (skip_signature && strcmp(f->key, "signature") == 0))
			continue;
		if (!first)
			q_buf_addch(out, '\n');
		q_buf_add(out, f->key, f->key_len);
		q_buf_addch(out, '=');
		q_buf_add(out, f->value, f->value_len);
		first = 0;
	}
}

void
q_initdata_check_string(struct q_buf *out, const struct q_initdata *d)
{
	add_fields(out, d, 0);
}

void
q_initdata_third_party_check_string(struct q_buf *out, const struct q_initdata *d, long long bot_id)
{
	q_buf_printf(out, "%lld:WebAppData\n", bot_id);
	add_fields(out, d, 1);
}

int
q_initdata_check_age(const struct q_initdata *d, long long max_age, long long now,
                     struct q_err *err)
{
	/* Differences in unsigned arithmetic: exact, since both lie within 2^64 of each other. */
	unsigned long long ad = (unsigned long long)d->auth_date, un = (unsigned long long)now;

	if (max_age < 0)
		return q_err_set(err, Q_E_CONFIG, "initData max_age %lld is negative", max_age);
	if (d->auth_date > now && ad - un > Q_INITDATA_MAX_SKEW)
		return q_err_set(err, Q_E_UNAUTHORIZED, "initData auth_date is in the future");
	if (max_age > 0 && now > d->auth_date && un - ad > (unsigned long long)max_age)
		return q_err_set(err, Q_E_UNAUTHORIZED, "initData expired");
	return 0;
}

int
q_initdata_validate(const struct q_initdata *d, const char *bot_token, long long max_age,
                    long long now, struct q_err *err)
{
	uint8_t key[Q_HMAC_SHA256_LEN], mac[Q_HMAC_SHA256_LEN];
	struct q_buf dcs = Q_BUF_INIT;
	int ok;

	if (bot_token == NULL || *bot_token == '\0')
		return q_err_set(err, Q_E_CONFIG, "telegram bot token is not set");
	if (max_age < 0)
		return q_err_set(err, Q_E_CONFIG, "initData max_age %lld is negative", max_age);
	q_initdata_secret_key(key, bot_token);
	q_initdata_check_string(&dcs, d);
	q_hmac_sha256(mac, key, sizeof(key), dcs.data, dcs.len);
	q_wipe(key, sizeof(key));
	q_buf_release_secret(&dcs);
	ok = q_ct_equal(mac, d->hash, sizeof(mac));
	q_wipe(mac, sizeof(mac));
	if (!ok)
		return q_err_set(err, Q_E_UNAUTHORIZED, "initData signature invalid");
	/* Only authenticated data reaches the age check: a forger learns nothing from it. */
	return q_initdata_check_age(d, max_age, now, err);
}

int
q_initdata_verify_signature(const struct q_initdata *d, long long bot_id, int test_env,
                            struct q_err *err)
{
	const char *hex = test_env ? Q_INITDATA_PK_TEST : Q_INITDATA_PK_PRODUCTION;
	uint8_t pk[Q_ED25519_PK_LEN];
	struct q_buf dcs = Q_BUF_INIT;
	int rc;

	if (bot_id <= 0)
		return q_err_set(err, Q_E_CONFIG, "telegram bot id %lld is not valid", bot_id);
	if (!d->has_signature)
		return q_err_set(err, Q_E_UNAUTHORIZED, "initData signature %s",
		                 q_initdata_get(d, "signature") ? "malformed" : "missing");
	if (q_hex_decode(pk, sizeof(pk), hex, strlen(hex), NULL) < 0)
		q_die("q_initdata: built-in Telegram public key is not hex");
	q_initdata_third_party_check_string(&dcs, d, bot_id);
	rc = q_ed25519_verify(d->signature, dcs.data, dcs.len, pk);
	q_buf_release_secret(&dcs);
	if (rc < 0)
		return q_err_set(err, Q_E_UNAUTHORIZED, "initData Ed25519 signature invalid");
	return 0;
}

long long
q_initdata_bot_id(const char *bot_token)
{
	const char *p = bot_token;
	long long id = 0;

	if (p == NULL)
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (p - bot_token >= 18)
			return -1;
		id = id * 10 + (*p - '0');
	}
	if (p == bot_token || *p != ':' || p[1] == '\0' || id == 0)
		return -1;
	return id;
}

int
q_initdata_sign(struct q_buf *out, const char *bot_token, const char *const *keys,
                const char *const *values, size_t n, struct q_err *err)
{
	size_t order[Q_INITDATA_MAX_FIELDS], start = out->len;
	uint8_t key[Q_HMAC_SHA256_LEN], mac[Q_HMAC_SHA256_LEN];
	char hex[2 * Q_HMAC_SHA256_LEN + 1];
	struct q_buf dcs = Q_BUF_INIT;

	if (bot_token == NULL || *bot_token == '\0')
		return q_err_set(err, Q_E_CONFIG, "telegram bot token is not set");
	if (n == 0 || n > Q_INITDATA_MAX_FIELDS - 1)
		return q_err_set(err, Q_E_BAD_REQUEST, "initData takes 1 to %d fields besides hash",
		                 Q_INITDATA_MAX_FIELDS - 1);
	/* Insertion sort of the indices: the check string wants key order, the output the given
	 * one. An equal neighbour after insertion is a duplicate. */
	for (size_t i = 0, j; i < n; i++) {
		if (keys[i][0] == '\0' || strcmp(keys[i], "hash") == 0)
			return q_err_set(err, Q_E_BAD_REQUEST,
			                 "initData field name empty or \"hash\"");
		for (j = i; j > 0 && strcmp(keys[order[j - 1]], keys[i]) > 0; j--)
			order[j] = order[j - 1];
		if (j > 0 && strcmp(keys[order[j - 1]], keys[i]) == 0)
			return q_err_set(err, Q_E_BAD_REQUEST, "initData field %s given twice",
			                 keys[i]);
		order[j] = i;
	}
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			q_buf_addch(&dcs, '\n');
		q_buf_printf(&dcs, "%s=%s", keys[order[i]], values[order[i]]);
	}
	q_initdata_secret_key(key, bot_token);
	q_hmac_sha256(mac, key, sizeof(key), dcs.data, dcs.len);
	q_wipe(key, sizeof(key));
	q_buf_release_secret(&dcs);
	q_hex_encode(hex, mac, sizeof(mac));
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			q_buf_addch(out, '&');
		q_http_urlencode(out, keys[i], strlen(keys[i]));
		q_buf_addch(out, '=');
		q_http_urlencode(out, values[i], strlen(values[i]));
	}
	q_buf_printf(out, "&hash=%s", hex);
	if (out->len - start > Q_INITDATA_MAX_LEN) {
		q_buf_truncate(out, start);
		return q_err_set(err, Q_E_BAD_REQUEST, "signed initData would exceed %d bytes",
		                 Q_INITDATA_MAX_LEN);
	}
	return 0;
}

int
q_initdata_issue_dev(struct q_buf *out, const char *bot_token, const json_t *user, long long now,
                     struct q_err *err)
{
	uint8_t rnd[12];
	char qid[sizeof(rnd) * 2 + 1], auth[24];
	char *user_json;
	json_int_t id;
	int rc;

	id = json_integer_value(json_object_get(user, "id"));
	if (!json_is_object(user) || id <= 0)
		return q_err_set_field(err, "id", Q_E_BAD_REQUEST,
		                       "user id must be a positive integer");
	q_random(rnd, sizeof(rnd));
	q_hex_encode(qid, rnd, sizeof(rnd));
	snprintf(auth, sizeof(auth), "%lld", now);
	user_json = json_dumps(user, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (user_json == NULL)
		return q_err_set(err, Q_E_INTERNAL, "user JSON could not be encoded");
	{
		const char *keys[] = {"query_id", "user", "auth_date"};
		const char *values[] = {qid, user_json, auth};

		rc = q_initdata_sign(out, bot_token, keys, values, 3, err);
	}
	free(user_json);
	return rc;
}
