#include "q_json.h"
#include "q_mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *
type_name(const json_t *j)
{
	static const char *const names[] = {"object", "array", "string", "integer",
	                                    "real",   "true",  "false",  "null"};
	unsigned t = (unsigned)json_typeof(j);

	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "value";
}

/* Jansson quotes the offending token: "duplicate object key near '"side"'". */
static void
duplicate_key(const char *text, char *out, size_t outlen)
{
	const char *s = strstr(text, "near '\"");
	size_t n;

	out[0] = '\0';
	if (s == NULL)
		return;
	s += strlen("near '\"");
	n = strlen(s);
	if (n >= 2 && strcmp(s + n - 2, "\"'") == 0)
		snprintf(out, outlen, "%.*s", (int)(n - 2), s);
}

json_t *
q_json_parse_body(const char *body, size_t len, size_t max_len, struct q_err *err)
{
	json_error_t jerr;
	json_t *root;

	if (len > max_len) {
		q_err_set(err, Q_E_PAYLOAD_TOO_LARGE,
		          "request body is %zu bytes; the limit is %zu bytes", len, max_len);
		return NULL;
	}
	if (len == 0) {
		q_err_set(err, Q_E_BAD_REQUEST, "empty request body; send a JSON object");
		return NULL;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		char key[64];

		if (json_error_code(&jerr) == json_error_duplicate_key)
			duplicate_key(jerr.text, key, sizeof(key));
		else
			key[0] = '\0';
		q_err_set_field(err, key, Q_E_BAD_REQUEST, "invalid JSON at line %d, column %d: %s",
		                jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		q_err_set(err, Q_E_BAD_REQUEST, "request body must be a JSON object, not %s",
		          type_name(root));
		json_decref(root);
		return NULL;
	}
	return root;
}

/*
 * Finding the field behind an unpack error. Jansson reports where in the FORMAT string it
 * stopped (json_error_t.position) but names the key only for a missing or unknown item, so we
 * walk fmt the way Jansson's scanner does, consuming the same arguments, and keep the path of
 * keys down to the token at that position.
 */
struct walk {
	const char *fmt;
	size_t i;      /* index of the next character to scan */
	size_t target; /* Jansson's 1-based position of the failing token */
	char path[64];
};

/* The next token, skipping what Jansson ignores; *pos is its 1-based position, 0 at the end. */
static char
next_tok(struct walk *w, size_t *pos)
{
	while (w->fmt[w->i] && strchr(" \t\n,:", w->fmt[w->i]))
		w->i++;
	if (w->fmt[w->i] == '\0') {
		*pos = 0;
		return '\0';
	}
	*pos = w->i + 1;
	return w->fmt[w->i++];
}

static char
peek_tok(struct walk *w)
{
	size_t save = w->i, pos;
	char t = next_tok(w, &pos);

	w->i = save;
	return t;
}

static int walk_value(struct walk *w, va_list *ap, char t, size_t pos);

/* Returns 1 when the target token was reached (w->path is its path), 0 to go on, -1 on a bad
 * format. */
static int
walk_object(struct walk *w, va_list *ap)
{
	size_t pos, plen = strlen(w->path);
	int rc;

	for (;;) {
		char t = next_tok(w, &pos);
		const char *key;

		if (pos == w->target)
			return 1;
		if (t == '}')
			return 0;
		if (t == '!' || t == '*')
			continue;
		if (t != 's')
			return -1;
		key = va_arg(*ap, const char *);
		t = next_tok(w, &pos);
		if (t == '?')
			t = next_tok(w, &pos);
		snprintf(w->path + plen, sizeof(w->path) - plen, "%s%s", plen ? "." : "",
		         key ? key : "");
		rc = walk_value(w, ap, t, pos);
		if (rc)
			return rc;
		w->path[plen] = '\0';
	}
}

static int
walk_array(struct walk *w, va_list *ap)
{
	size_t pos, plen = strlen(w->path);
	int rc;

	for (int idx = 0;;) {
		char t = next_tok(w, &pos);

		if (t == ']')
			return pos == w->target;
		if (t == '!' || t == '*')
			continue;
		snprintf(w->path + plen, sizeof(w->path) - plen, "[%d]", idx++);
		rc = walk_value(w, ap, t, pos);
		if (rc)
			return rc;
		w->path[plen] = '\0';
	}
}

static int
walk_value(struct walk *w, va_list *ap, char t, size_t pos)
{
	size_t dummy;

	if (pos == w->target)
		return 1;
	/* The branches differ only in the va_arg type, which is the point of them. */
	/* NOLINTBEGIN(bugprone-branch-clone) */
	switch (t) {
	case '{':
		return walk_object(w, ap);
	case '[':
		return walk_array(w, ap);
	case 's':
		(void)va_arg(*ap, const char **);
		if (peek_tok(w) == '%') {
			next_tok(w, &dummy);
			(void)va_arg(*ap, size_t *);
		}
		return 0;
	case 'i':
	case 'b':
		(void)va_arg(*ap, int *);
		return 0;
	case 'I':
		(void)va_arg(*ap, json_int_t *);
		return 0;
	case 'f':
	case 'F':
		(void)va_arg(*ap, double *);
		return 0;
	case 'o':
	case 'O':
		(void)va_arg(*ap, json_t **);
		return 0;
	case 'n':
		return 0;
	default:
		return -1;
	}
	/* NOLINTEND(bugprone-branch-clone) */
}

static void
failing_field(const char *fmt, va_list *ap, const json_error_t *jerr, char *out, size_t outlen)
{
	static const char left[] = "object item(s) left unpacked: ";
	struct walk w = {.fmt = fmt, .target = (size_t)jerr->position};
	const char *unknown = strstr(jerr->text, left);
	struct q_buf b = Q_BUF_INIT;
	size_t pos;
	char t;
	int found;

	out[0] = '\0';
	t = next_tok(&w, &pos);
	found = walk_value(&w, ap, t, pos);
	if (found != 1)
		return;
	q_buf_adds(&b, w.path);
	if (unknown) {
		/* The object's path, then the first key Jansson lists. */
		unknown += strlen(left);
		if (b.len)
			q_buf_addch(&b, '.');
		q_buf_add(&b, unknown, strcspn(unknown, ","));
	}
	snprintf(out, outlen, "%s", b.data);
	q_buf_release(&b);
}

int
q_json_unpack(json_t *root, struct q_err *err, const char *fmt, ...)
{
	json_error_t jerr;
	char field[64];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = json_vunpack_ex(root, &jerr, JSON_STRICT, fmt, ap);
	va_end(ap);
	if (rc == 0)
		return 0;
	if (strcmp(jerr.source, "<validation>") != 0)
		return q_err_set(err, Q_E_INTERNAL,
		                 "json unpack \"%s\" at format position %d: %s (%s)",
		                 fmt ? fmt : "(null)", jerr.position, jerr.text, jerr.source);
	/* A second pass over the same arguments, from the start. */
	va_start(ap, fmt);
	failing_field(fmt, &ap, &jerr, field, sizeof(field));
	va_end(ap);
	/* Jansson names the key only for a missing or an unknown item: say it for the rest. */
	if (field[0] && strncmp(jerr.text, "Object item not found: ", 23) != 0 &&
	    strstr(jerr.text, "object item(s) left unpacked: ") == NULL)
		return q_err_set_field(err, field, Q_E_BAD_REQUEST, "%s: %s", field, jerr.text);
	return q_err_set_field(err, field, Q_E_BAD_REQUEST, "%s", jerr.text);
}

static int
buf_dump_cb(const char *buffer, size_t size, void *data)
{
	q_buf_add(data, buffer, size);
	return 0;
}

int
q_json_canonical_buf(struct q_buf *out, const json_t *j)
{
	size_t start = out->len;

	if (j == NULL || json_dump_callback(j, buf_dump_cb, out, Q_JSON_CANONICAL) != 0) {
		q_buf_truncate(out, start);
		return -1;
	}
	return 0;
}

char *
q_json_dumps_canonical(const json_t *j)
{
	return j ? json_dumps(j, Q_JSON_CANONICAL) : NULL;
}

static void
decref_cleanup(void *data)
{
	json_decref(data);
}

void
q_json_arena_own(struct q_arena *a, json_t *j)
{
	if (j)
		q_arena_cleanup_add(a, decref_cleanup, j);
}

char *
q_json_arena_dumps(struct q_arena *a, const json_t *j, size_t flags)
{
	struct q_buf b = Q_BUF_INIT;
	char *s = NULL;

	if (j == NULL || json_dump_callback(j, buf_dump_cb, &b, flags) != 0)
		goto out;
	s = q_arena_strndup(a, b.data, b.len);
out:
	q_buf_release(&b);
	return s;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when it is not one. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static json_t *
utf8_string(const char *s)
{
	struct q_buf b = Q_BUF_INIT;
	size_t n = strlen(s);
	json_t *j;

	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq((const unsigned char *)s + i, n - i);

		if (l == 0) {
			q_buf_adds(&b, "\xef\xbf\xbd");
			i++;
		} else {
			q_buf_add(&b, s + i, l);
			i += l;
		}
	}
	j = json_stringn(b.data, b.len);
	q_buf_release(&b);
	if (j == NULL)
		q_die("out of memory building a JSON string");
	return j;
}

/* What a client may learn about a 5xx: the code's meaning, never the detail. */
static const char *
public_message(enum q_code code)
{
	switch (code) {
	case Q_E_DB_UNAVAILABLE:
		return "database unavailable";
	case Q_E_EXCHANGE_UNAVAILABLE:
	case Q_E_EX_BANNED:
		return "exchange unavailable";
	case Q_E_EX_AUTH:
		return "the exchange refused the API key";
	case Q_E_EX_UNKNOWN_OUTCOME:
		return "the exchange did not confirm the order; its outcome is being checked";
	case Q_E_EX_CLOCK_SKEW:
		return "clock out of sync with the exchange";
	case Q_E_HTTP:
		return "upstream service error";
	case Q_E_TIMEOUT:
		return "upstream service timed out";
	default:
		return "internal error";
	}
}

json_t *
q_json_error_body(const struct q_err *err)
{
	enum q_code code = err->code;
	json_t *e, *body;
	int gate;

	if (code == Q_OK || (unsigned)code >= Q_ERR__COUNT)
		code = Q_E_INTERNAL;
	e = json_object();
	body = json_object();
	if (e == NULL || body == NULL)
		q_die("out of memory building an error body");
	/* Members in the order DESIGN.md shows them: code, kind, gate, message, field. */
	json_object_set_new(e, "code", json_string(q_err_name(code)));
	gate = q_err_gate(code);
	if (gate > 0) {
		json_object_set_new(e, "kind", json_string("policy"));
		json_object_set_new(e, "gate", json_integer(gate));
	}
	if (q_err_http_status(code) >= 500) {
		json_object_set_new(e, "message", json_string(public_message(code)));
	} else {
		json_object_set_new(e, "message",
		                    utf8_string(err->msg[0] ? err->msg : q_err_name(code)));
		if (err->field[0])
			json_object_set_new(e, "field", utf8_string(err->field));
	}
	json_object_set_new(body, "error", e);
	return body;
}

int
q_json_time_rfc3339(char out[32], time_t t)
{
	struct tm tm;

	out[0] = '\0';
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		return -1;
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return 0;
}
