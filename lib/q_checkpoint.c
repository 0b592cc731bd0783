#include "q_checkpoint.h"

#include <stdio.h>
#include <string.h>

/* U+2014 EM DASH, then a space: how every signature line starts. */
static const char sig_prefix[] = "\xe2\x80\x94 ";
#define SIG_PREFIX_LEN (sizeof(sig_prefix) - 1)
#define SIG_TYPE_ED25519 0x01
#define MAX_SIG_BYTES 1024 /* decoded bytes of one signature line we accept */
#define MAX_SIG_B64 ((size_t)(MAX_SIG_BYTES + 2) / 3 * 4)

int
q_checkpoint_name_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n]; n++)
		if (s[n] <= ' ' || s[n] > '~' || s[n] == '+')
			return 0;
	return n > 0 && n <= Q_CHECKPOINT_MAX_NAME;
}

static int
name_ok_n(const char *s, size_t n)
{
	if (n == 0 || n > Q_CHECKPOINT_MAX_NAME)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '+')
			return 0;
	return 1;
}

void
q_checkpoint_key_id(uint8_t id[Q_CHECKPOINT_KEY_ID_LEN], const char *name,
                    const uint8_t pk[Q_ED25519_PK_LEN])
{
	static const uint8_t sep[2] = {'\n', SIG_TYPE_ED25519};
	struct q_sha256 h;
	uint8_t d[Q_SHA256_LEN];

	q_sha256_init(&h);
	q_sha256_update(&h, name, strlen(name));
	q_sha256_update(&h, sep, sizeof(sep));
	q_sha256_update(&h, pk, Q_ED25519_PK_LEN);
	q_sha256_final(&h, d);
	memcpy(id, d, Q_CHECKPOINT_KEY_ID_LEN);
}

int
q_checkpoint_key_init(struct q_checkpoint_key *k, const char *name,
                      const uint8_t pk[Q_ED25519_PK_LEN], struct q_err *err)
{
	memset(k, 0, sizeof(*k));
	if (!q_checkpoint_name_ok(name))
		return q_err_set(err, Q_E_CONFIG,
		                 "checkpoint key name \"%.64s\" must be 1 to %d printable ASCII "
		                 "characters without space or '+'",
		                 name ? name : "", Q_CHECKPOINT_MAX_NAME);
	memcpy(k->name, name, strlen(name) + 1);
	memcpy(k->pk, pk, Q_ED25519_PK_LEN);
	q_checkpoint_key_id(k->id, name, pk);
	return 0;
}

int
q_checkpoint_sign(struct q_buf *out, const char *origin, unsigned long long size,
                  const uint8_t hash[Q_SHA256_LEN], const char *name,
                  const uint8_t sk[Q_ED25519_SK_LEN], struct q_err *err)
{
	uint8_t pk[Q_ED25519_PK_LEN], blob[Q_CHECKPOINT_KEY_ID_LEN + Q_ED25519_SIG_LEN];
	size_t start = out->len, body;

	if (!q_checkpoint_name_ok(origin))
		return q_err_set(err, Q_E_BAD_REQUEST, "checkpoint origin \"%.64s\" is not valid",
		                 origin ? origin : "");
	if (!q_checkpoint_name_ok(name))
		return q_err_set(err, Q_E_BAD_REQUEST, "checkpoint key name \"%.64s\" is not valid",
		                 name ? name : "");
	if (size > (unsigned long long)INT64_MAX)
		return q_err_set(err, Q_E_BAD_REQUEST, "checkpoint size %llu is too large", size);
	q_buf_printf(out, "%s\n%llu\n", origin, size);
	q_base64_encode(out, hash, Q_SHA256_LEN);
	q_buf_addch(out, '\n');
	body = out->len - start;
	/* libsodium's secret key ends with the public key: the key id needs it. */
	memcpy(pk, sk + Q_ED25519_SEED_LEN, sizeof(pk));
	q_checkpoint_key_id(blob, name, pk);
	q_ed25519_sign(blob + Q_CHECKPOINT_KEY_ID_LEN, out->data + start, body, sk);
	q_buf_printf(out, "\n%s%s ", sig_prefix, name);
	q_base64_encode(out, blob, sizeof(blob));
	q_buf_addch(out, '\n');
	return 0;
}

/* Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF) without control
 * characters other than "\n". */
static int
text_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t k;
		unsigned cp;

		if (c < 0x80) {
			if ((c < 0x20 && c != '\n') || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i <= k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		/* C1 controls are control characters too. */
		if (cp >= 0x80 && cp <= 0x9f)
			return 0;
		i += k + 1;
	}
	return 1;
}

static int
malformed(struct q_checkpoint *cp, struct q_err *err, const char *what)
{
	memset(cp, 0, sizeof(*cp));
	return q_err_set(err, Q_E_BAD_REQUEST, "malformed checkpoint: %s", what);
}

/* Decimal without sign or leading zeros, at most 2^63 - 1. */
static int
parse_size(const char *s, size_t n, unsigned long long *out)
{
	unsigned long long v = 0;

	if (n == 0 || n > 19 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	if (v > (unsigned long long)INT64_MAX)
		return -1;
	*out = v;
	return 0;
}

/* One "— NAME BASE64" line (without its "\n") into sig. */
static int
parse_sig_line(struct q_checkpoint_sig *sig, const char *s, size_t n)
{
	struct q_buf raw = Q_BUF_INIT;
	const char *name, *sp, *b64;
	size_t b64_len;
	int rc = -1;

	if (n < SIG_PREFIX_LEN || memcmp(s, sig_prefix, SIG_PREFIX_LEN) != 0)
		return -1;
	name = s + SIG_PREFIX_LEN;
	sp = memchr(name, ' ', n - SIG_PREFIX_LEN);
	if (sp == NULL || !name_ok_n(name, (size_t)(sp - name)))
		return -1;
	b64 = sp + 1;
	b64_len = n - (size_t)(b64 - s);
	if (b64_len > MAX_SIG_B64 || q_base64_decode(&raw, b64, b64_len) < 0)
		goto out;
	if (raw.len < Q_CHECKPOINT_KEY_ID_LEN + 1)
		goto out;
	memset(sig, 0, sizeof(*sig));
	sig->name = name;
	sig->name_len = (size_t)(sp - name);
	memcpy(sig->id, raw.data, Q_CHECKPOINT_KEY_ID_LEN);
	if (raw.len == Q_CHECKPOINT_KEY_ID_LEN + Q_ED25519_SIG_LEN) {
		sig->ed25519 = 1;
		memcpy(sig->sig, raw.data + Q_CHECKPOINT_KEY_ID_LEN, Q_ED25519_SIG_LEN);
	}
	rc = 0;
out:
	q_buf_release(&raw);
	return rc;
}

/* The body: origin, size, hash, then extension lines; every line non-empty. */
static int
parse_body(struct q_checkpoint *cp, const char *s, size_t n, struct q_err *err)
{
	struct q_buf raw = Q_BUF_INIT;
	const char *line = s, *end = s + n, *nl;
	int idx = 0, rc = -1;

	for (; line < end; line = nl + 1, idx++) {
		size_t len;

		nl = memchr(line, '\n', (size_t)(end - line));
		if (nl == NULL) /* the body always ends with "\n": cannot happen */
			return malformed(cp, err, "body does not end with a newline");
		len = (size_t)(nl - line);
		if (len == 0) {
			malformed(cp, err, "empty line in the body");
			goto out;
		}
		if (idx == 0) {
			if (!name_ok_n(line, len)) {
				malformed(cp, err,
				          "origin line must be printable ASCII without "
				          "space or '+'");
				goto out;
			}
			memcpy(cp->origin, line, len);
			cp->origin[len] = '\0';
		} else if (idx == 1) {
			if (parse_size(line, len, &cp->size) < 0) {
				malformed(cp, err,
				          "size line must be a decimal number without "
				          "leading zeros");
				goto out;
			}
		} else if (idx == 2) {
			if (q_base64_decode(&raw, line, len) < 0 || raw.len != Q_SHA256_LEN) {
				malformed(cp, err, "hash line must be the base64 of 32 bytes");
				goto out;
			}
			memcpy(cp->hash, raw.data, Q_SHA256_LEN);
		}
	}
	if (idx < 3) {
		malformed(cp, err, "body needs an origin, a size and a hash line");
		goto out;
	}
	rc = 0;
out:
	q_buf_release(&raw);
	return rc;
}

int
q_checkpoint_parse(struct q_checkpoint *cp, const char *note, size_t len, struct q_err *err)
{
	const char *sigs = NULL, *line, *end = note + len, *nl;

	memset(cp, 0, sizeof(*cp));
	if (len > Q_CHECKPOINT_MAX_NOTE)
		return malformed(cp, err, "longer than 8192 bytes");
	if (len == 0 || note[len - 1] != '\n')
		return malformed(cp, err, "does not end with a newline");
	if (!text_ok((const unsigned char *)note, len))
		return malformed(cp, err, "not UTF-8 text without control characters");
	/* The signatures follow the last blank line. */
	for (size_t i = len - 1; i > 0; i--)
		if (note[i - 1] == '\n' && note[i] == '\n') {
			sigs = note + i + 1;
			cp->body_len = i;
			break;
		}
	if (sigs == NULL || cp->body_len == 0)
		return malformed(cp, err, "no blank line before the signatures");
	if (sigs == end)
		return malformed(cp, err, "no signature line");
	for (line = sigs; line < end; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (cp->nsigs == Q_CHECKPOINT_MAX_SIGS)
			return malformed(cp, err, "more than 16 signature lines");
		if (parse_sig_line(&cp->sigs[cp->nsigs], line, (size_t)(nl - line)) < 0)
			return malformed(cp, err,
			                 "signature line is not \"\xe2\x80\x94 NAME BASE64\"");
		cp->nsigs++;
	}
	return parse_body(cp, note, cp->body_len, err);
}

int
q_checkpoint_verify(const struct q_checkpoint *cp, const char *note,
                    const struct q_checkpoint_key *key, struct q_err *err)
{
	size_t name_len = strlen(key->name);

	for (size_t i = 0; i < cp->nsigs; i++) {
		const struct q_checkpoint_sig *s = &cp->sigs[i];

		if (s->name_len != name_len || memcmp(s->name, key->name, name_len) != 0 ||
		    memcmp(s->id, key->id, Q_CHECKPOINT_KEY_ID_LEN) != 0 || !s->ed25519)
			continue;
		if (q_ed25519_verify(s->sig, note, cp->body_len, key->pk) == 0)
			return 0;
		return q_err_set(err, Q_E_UNAUTHORIZED,
		                 "checkpoint signature by %s does not verify: the note was altered "
		                 "or signed with another key",
		                 key->name);
	}
	return q_err_set(err, Q_E_UNAUTHORIZED,
	                 "checkpoint carries no signature by key %s (key id %02x%02x%02x%02x)",
	                 key->name, key->id[0], key->id[1], key->id[2], key->id[3]);
}

int
q_checkpoint_open(struct q_checkpoint *cp, const char *note, size_t len,
                  const struct q_checkpoint_key *key, const char *origin, struct q_err *err)
{
	if (q_checkpoint_parse(cp, note, len, err) < 0 ||
	    q_checkpoint_verify(cp, note, key, err) < 0)
		return -1;
	if (strcmp(cp->origin, origin) != 0)
		return q_err_set(err, Q_E_UNAUTHORIZED, "checkpoint is for log \"%s\", not \"%s\"",
		                 cp->origin, origin);
	return 0;
}
