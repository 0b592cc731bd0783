/*
 * libFuzzer target for q_initdata_parse, q_initdata_validate and q_initdata_verify_signature.
 * Built apart from the Makefile:
 *   clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Ilib \
 *     $(pkg-config --cflags jansson libsodium libcurl) tests/fuzz/fuzz_initdata.c \
 *     lib/q_initdata.c lib/q_crypto.c lib/q_http.c lib/q_buf.c lib/q_err.c lib/q_mem.c \
 *     $(pkg-config --libs jansson libsodium libcurl) -o build/fuzz_initdata
 * Besides memory errors it checks the contract: a refusal is Q_E_UNAUTHORIZED and leaves the
 * struct empty; parsed fields are sorted, unique and NUL-terminated; and whatever parses,
 * re-signed with q_initdata_sign, parses back to the same fields and validates.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "q_buf.h"
#include "q_crypto.h"
#include "q_err.h"
#include "q_initdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TOKEN "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8"

static void
check_fields(const struct q_initdata *d)
{
	if (d->nfields < 2 || d->nfields > Q_INITDATA_MAX_FIELDS || d->auth_date < 0)
		abort();
	for (size_t i = 0; i < d->nfields; i++) {
		const struct q_initdata_field *f = &d->fields[i];

		if (f->key_len == 0 || strlen(f->key) != f->key_len ||
		    f->value[f->value_len] != '\0')
			abort();
		if (i > 0 && strcmp(d->fields[i - 1].key, f->key) >= 0)
			abort();
	}
	if (q_initdata_get(d, "hash") == NULL || q_initdata_get(d, "auth_date") == NULL)
		abort();
	if ((d->user_json != NULL) != (d->user_id > 0))
		abort();
}

/* Sign d's fields again with TOKEN: the result must parse to the same fields and validate. */
static void
round_trip(const struct q_initdata *d)
{
	const char *keys[Q_INITDATA_MAX_FIELDS], *values[Q_INITDATA_MAX_FIELDS];
	struct q_initdata back;
	struct q_buf s = Q_BUF_INIT;
	struct q_err err = {0};
	size_t n = 0;

	for (size_t i = 0; i < d->nfields; i++) {
		const struct q_initdata_field *f = &d->fields[i];

		if (strlen(f->value) != f->value_len)
			return; /* a NUL byte: C strings cannot carry it into q_initdata_sign */
		if (strcmp(f->key, "hash") == 0)
			continue;
		keys[n] = f->key;
		values[n++] = f->value;
	}
	if (q_initdata_sign(&s, TOKEN, keys, values, n, &err) < 0) {
		/* Percent-encoding may grow the text past the limit; nothing else may fail. */
		if (err.code != Q_E_BAD_REQUEST || strstr(err.msg, "exceed") == NULL)
			abort();
		q_buf_release(&s);
		return;
	}
	if (q_initdata_parse(&back, s.data, s.len, &err) < 0 || back.nfields != d->nfields)
		abort();
	for (size_t i = 0; i < d->nfields; i++) {
		const struct q_initdata_field *a = &d->fields[i], *b = &back.fields[i];

		if (strcmp(a->key, b->key) != 0)
			abort();
		if (strcmp(a->key, "hash") != 0 &&
		    (a->value_len != b->value_len || memcmp(a->value, b->value, a->value_len) != 0))
			abort();
	}
	if (back.auth_date != d->auth_date || back.user_id != d->user_id ||
	    back.has_signature != d->has_signature)
		abort();
	if (q_initdata_validate(&back, TOKEN, 60, back.auth_date, &err) < 0)
		abort();
	q_initdata_release(&back);
	q_buf_release(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct q_initdata zero;
	struct q_initdata d;
	struct q_err err = {0};

	q_crypto_init();
	if (q_initdata_parse(&d, (const char *)data, size, &err) < 0) {
		if (err.code != Q_E_UNAUTHORIZED || memcmp(&d, &zero, sizeof(d)) != 0)
			abort();
		return 0;
	}
	check_fields(&d);
	q_err_clear(&err);
	if (q_initdata_validate(&d, TOKEN, 86400, 1700000000, &err) < 0 &&
	    err.code != Q_E_UNAUTHORIZED)
		abort();
	q_err_clear(&err);
	if (q_initdata_verify_signature(&d, 7342037359LL, 0, &err) < 0 &&
	    err.code != Q_E_UNAUTHORIZED)
		abort();
	round_trip(&d);
	q_initdata_release(&d);
	return 0;
}
