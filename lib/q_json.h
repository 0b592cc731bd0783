/*
 * q_json: the Jansson helpers every handler uses: request bodies in, canonical bytes and the one
 * error shape out.
 *
 * Bodies are parsed strictly (duplicate keys refused) and unpacked with JSON_STRICT, so an
 * unknown field, a missing one or a wrong type is a 400 whose message is Jansson's own text and
 * whose err->field names the offending field. Errors leave as
 *   {"error":{"code":"NOT_FOUND","message":"bot 12 not found"}}
 * with "field" for a bad request and "kind":"policy","gate":N for a risk-gate refusal; a 5xx
 * carries a fixed message, its detail stays in the log (DESIGN.md section 4).
 */
#ifndef Q_JSON_H
#define Q_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "q_arena.h"
#include "q_buf.h"
#include "q_err.h"

/* JSON_SORT_KEYS | JSON_COMPACT, plus JSON_ENCODE_ANY so a bare scalar dumps too. */
#define Q_JSON_CANONICAL (JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY)

/*
 * Parse a request body that must be one JSON object (len bytes, no terminator needed). Returns
 * a new reference, or NULL with err set:
 *   Q_E_PAYLOAD_TOO_LARGE  len > max_len (checked before anything is parsed);
 *   Q_E_BAD_REQUEST        empty body, invalid JSON (Jansson's text with line and column),
 *                          a duplicate key (err->field names it), or a value that is not an
 *                          object.
 */
json_t *q_json_parse_body(const char *body, size_t len, size_t max_len, struct q_err *err);

/*
 * json_unpack_ex(root, ..., JSON_STRICT, fmt, ...) that reports in err. Returns 0, or -1 with:
 *   Q_E_BAD_REQUEST  the body does not match fmt. The message is Jansson's text, prefixed with
 *                    the field unless Jansson names it ("qty: Expected integer, got string",
 *                    "Object item not found: qty", "1 object item(s) left unpacked: foo");
 *                    err->field is the field's path ("qty", "limits.max", "tags[1]"): for an
 *                    unknown field the first one Jansson lists, for a missing or mistyped one
 *                    the key fmt expects there, "" when the root itself is not an object.
 *   Q_E_INTERNAL     fmt or its arguments are wrong (a bug, not the client's fault).
 * Borrowed values ("s", "o") live as long as root.
 */
int q_json_unpack(json_t *root, struct q_err *err, const char *fmt, ...);

/*
 * The canonical bytes of j (Q_JSON_CANONICAL: keys sorted, no spaces, UTF-8 as is, "/" not
 * escaped, reals as Jansson's "%.17g" so amounts belong in strings). The audit chain hashes
 * exactly these bytes. Returns a malloc'd string the caller free()s, or NULL when j is NULL or
 * cannot be encoded.
 */
char *q_json_dumps_canonical(const json_t *j);

/* Append the canonical bytes of j to out. Returns 0, or -1 (out unchanged) as above. */
int q_json_canonical_buf(struct q_buf *out, const json_t *j);

/* Hand j's reference to the arena: json_decref(j) runs when the arena is reset or destroyed. */
void q_json_arena_own(struct q_arena *a, json_t *j);

/* json_dumps(j, flags) into arena memory; NULL when j is NULL or cannot be encoded. */
char *q_json_arena_dumps(struct q_arena *a, const json_t *j, size_t flags);

/*
 * The body for err, as a new reference (never NULL):
 *   {"error":{"code":NAME,"message":MSG[,"field":F][,"kind":"policy","gate":N]}}
 * For a 5xx code MSG is a fixed text per code ("internal error", "database unavailable", ...)
 * and no field is shown: err->msg goes to the log only. Invalid UTF-8 in err->msg (a message
 * cut at 255 bytes, say) is replaced by U+FFFD. Q_OK reads as INTERNAL.
 */
json_t *q_json_error_body(const struct q_err *err);

/* t as "2026-11-21T14:00:00Z" (UTC, RFC 3339). Returns 0, or -1 with out = "" when t is outside
 * the years 0000-9999. */
int q_json_time_rfc3339(char out[32], time_t t);

#endif
