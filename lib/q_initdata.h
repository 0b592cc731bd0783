/*
 * q_initdata: Telegram Mini App initData (the "Authorization: tma <initData>" header), parsed
 * strictly and checked as Telegram specifies (protocols.md sections 5.1 and 5.2).
 *
 * initData is a query string: fields "key=value" joined by '&', keys and values form-encoded
 * (%XX, and '+' for a space). q_initdata_parse() decodes it; q_initdata_validate() checks the
 * HMAC-SHA256 "hash" with the bot token and the age of auth_date; q_initdata_verify_signature()
 * checks the Ed25519 "signature" Telegram adds for third parties (bot id only, no token). Nothing
 * a parsed struct holds is authentic before one of those two returned 0.
 *
 * Every refusal of the input is Q_E_UNAUTHORIZED with a short fixed reason ("initData expired");
 * messages never quote the input, which is a bearer credential until auth_date + max_age.
 */
#ifndef Q_INITDATA_H
#define Q_INITDATA_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "q_buf.h"
#include "q_crypto.h"
#include "q_err.h"

#define Q_INITDATA_MAX_LEN 8192  /* bytes of encoded initData */
#define Q_INITDATA_MAX_FIELDS 64 /* fields, hash included */
#define Q_INITDATA_MAX_SKEW 300  /* seconds auth_date may lie ahead of now (clock drift) */

/* Telegram's Ed25519 keys for the third-party signature (webapps.html), hex. */
#define Q_INITDATA_PK_PRODUCTION "e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d"
#define Q_INITDATA_PK_TEST "40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec"

struct q_initdata_field {
	const char *key; /* decoded, NUL-terminated, never empty, holds no NUL byte */
	size_t key_len;
	const char *value; /* decoded and NUL-terminated, but may hold NUL bytes: use value_len */
	size_t value_len;
};

struct q_initdata {
	struct q_initdata_field fields[Q_INITDATA_MAX_FIELDS]; /* sorted by key (byte order) */
	size_t nfields;                                        /* hash and signature included */
	long long auth_date;                                   /* Unix seconds, >= 0 */
	uint8_t hash[Q_HMAC_SHA256_LEN];                       /* the "hash" field, from hex */
	int has_signature; /* 1 when "signature" is present and decodes to 64 bytes */
	uint8_t signature[Q_ED25519_SIG_LEN];
	/* From the "user" field; user_json is NULL, user_id 0 and the names NULL without it. */
	const char *user_json; /* the decoded value, byte-exact and NUL-terminated */
	size_t user_json_len;
	long long user_id; /* > 0 */
	char *first_name;  /* each NULL when absent or JSON null */
	char *last_name;
	char *username;
	char *language_code;
	char *mem; /* private: the decoded bytes the fields point into */
	size_t mem_len;
};

/*
 * Decode len bytes of initData at s (no terminator needed) into d, which need not be
 * initialised. Returns 0, or -1 with err set to Q_E_UNAUTHORIZED and d left empty, when s is
 * empty or longer than Q_INITDATA_MAX_LEN, has more than Q_INITDATA_MAX_FIELDS fields, a field
 * without '=' (an empty field too: "a=1&&b=2", a trailing '&'), an empty key, a bad %-escape
 * (%G1, a truncated %4), a NUL byte in a decoded key, a key given twice, no hash or one that is
 * not 64 hex digits, no auth_date or one that is not 1 to 15 decimal digits, or a "user" that
 * is not a JSON object with a positive integer "id" and string (or null) names. A "signature"
 * that is not base64url of 64 bytes (with or without '=' padding) is kept as a field but leaves
 * has_signature 0. The other fields are not interpreted. Release d with q_initdata_release()
 * (harmless after a failure).
 */
int q_initdata_parse(struct q_initdata *d, const char *s, size_t len, struct q_err *err);

/* Wipe and free what d holds; d is empty (all zero) afterwards. NULL-safe. */
void q_initdata_release(struct q_initdata *d);

/* The field named key, or NULL. Borrowed from d. */
const struct q_initdata_field *q_initdata_get(const struct q_initdata *d, const char *key);

/*
 * HMAC-SHA256 check per section 5.1, then q_initdata_check_age(). d comes from a successful
 * q_initdata_parse(). Returns 0, or -1 with err set:
 *   Q_E_UNAUTHORIZED  "initData signature invalid" (hash mismatch, compared in constant time),
 *                     or a refusal from q_initdata_check_age();
 *   Q_E_CONFIG        bot_token NULL or empty, max_age negative.
 */
int q_initdata_validate(const struct q_initdata *d, const char *bot_token, long long max_age,
                        long long now, struct q_err *err);

/*
 * Freshness of d->auth_date at time now (Unix seconds). Returns 0, or -1 with err set:
 *   Q_E_UNAUTHORIZED  "initData expired" when max_age > 0 and now - auth_date > max_age;
 *                     "initData auth_date is in the future" when auth_date - now exceeds
 *                     Q_INITDATA_MAX_SKEW (checked even when max_age is 0);
 *   Q_E_CONFIG        max_age negative.
 * max_age 0 disables the expiry check.
 */
int q_initdata_check_age(const struct q_initdata *d, long long max_age, long long now,
                         struct q_err *err);

/*
 * Ed25519 check of the "signature" field per section 5.2 with Telegram's production key, or its
 * test-environment key when test_env is non-zero. Does not look at auth_date: call
 * q_initdata_check_age() too. Returns 0, or -1 with err set:
 *   Q_E_UNAUTHORIZED  "initData signature missing", "initData signature malformed" (not
 *                     base64url of 64 bytes), "initData Ed25519 signature invalid";
 *   Q_E_CONFIG        bot_id <= 0.
 */
int q_initdata_verify_signature(const struct q_initdata *d, long long bot_id, int test_env,
                                struct q_err *err);

/*
 * The bot id of a Bot API token "<id>:<secret>": the 1 to 18 digits before ':'. -1 when token
 * is NULL, the digits are missing, too many or zero, or the ':' or the secret after it is.
 */
long long q_initdata_bot_id(const char *bot_token);

/*
 * The building blocks of the two checks, exposed for tests and the dev-mode endpoint.
 * secret_key: HMAC-SHA256(key = "WebAppData", msg = bot_token); wipe it after use.
 * check_string: append the fields except hash, in key order, as "key=value" joined by '\n'
 * (no trailing newline). signature stays in.
 * third_party_check_string: append "<bot_id>:WebAppData\n" and then the fields except hash and
 * signature the same way.
 */
void q_initdata_secret_key(uint8_t out[Q_HMAC_SHA256_LEN], const char *bot_token);
void q_initdata_check_string(struct q_buf *out, const struct q_initdata *d);
void q_initdata_third_party_check_string(struct q_buf *out, const struct q_initdata *d,
                                         long long bot_id);

/*
 * Sign n fields as Telegram would and append the initData to out: "k1=v1&k2=v2...&hash=<hex>",
 * fields in the given order, keys and values percent-encoded as q_http_urlencode() does (space
 * is %20), hash over the check string of the unencoded fields. keys and values are n C strings
 * each. The result parses and validates with the same token if it has a valid auth_date (and
 * user, when given). Returns 0, or -1 with out unchanged and err set:
 *   Q_E_BAD_REQUEST  n is 0 or over Q_INITDATA_MAX_FIELDS - 1, a key is empty, "hash" or given
 *                    twice, or the result would exceed Q_INITDATA_MAX_LEN bytes;
 *   Q_E_CONFIG       bot_token NULL or empty.
 */
int q_initdata_sign(struct q_buf *out, const char *bot_token, const char *const *keys,
                    const char *const *values, size_t n, struct q_err *err);

/*
 * Development only (the dev endpoint behind [general] dev = true): issue a fresh initData for
 * a made-up Telegram user, as the Mini App would receive it inside Telegram: query_id random,
 * auth_date = now, user = the compact JSON of user (an object with at least a positive integer
 * "id"; its member order is kept). Returns 0 and appends to out, or -1 as q_initdata_sign.
 */
int q_initdata_issue_dev(struct q_buf *out, const char *bot_token, const json_t *user,
                         long long now, struct q_err *err);

#endif
