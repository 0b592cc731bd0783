#include "q_log.h"
#include "q_buf.h"
#include "q_mem.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"debug", "info", "warn", "error"};
static const char *const secret_words[] = {
        "token",     "secret",  "password", "passwd",     "passphrase", "authorization",
        "signature", "api_key", "apikey",   "init_data",  "initdata",   "private",
        "cookie",    "dsn",     "master",   "credential",
};

static char prog_name[64] = "quantor";
static enum q_log_level threshold = Q_LOG_INFO;
static char **secrets;
static size_t nsecrets;

int
q_log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

void
q_log_init(const char *prog, enum q_log_level min)
{
	const char *env = getenv("QUANTOR_LOG_LEVEL");
	int lvl;

	snprintf(prog_name, sizeof(prog_name), "%s", prog);
	threshold = min;
	if (env && (lvl = q_log_level_parse(env)) >= 0)
		threshold = (enum q_log_level)lvl;
}

void
q_log_set_level(enum q_log_level min)
{
	threshold = min;
}

void
q_log_secret(const char *value)
{
	if (value == NULL || strlen(value) < 4)
		return;
	for (size_t i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], value) == 0)
			return;
	secrets = q_realloc(secrets, (nsecrets + 1) * sizeof(*secrets));
	secrets[nsecrets++] = q_strdup(value);
}

void
q_log_secrets_clear(void)
{
	for (size_t i = 0; i < nsecrets; i++) {
		sodium_memzero(secrets[i], strlen(secrets[i]));
		free(secrets[i]);
	}
	free(secrets);
	secrets = NULL;
	nsecrets = 0;
}

static int
key_is_secret(const char *key, size_t len)
{
	char k[64];

	if (len >= sizeof(k))
		len = sizeof(k) - 1;
	for (size_t i = 0; i < len; i++)
		k[i] = (char)tolower((unsigned char)key[i]);
	k[len] = '\0';
	for (size_t i = 0; i < sizeof(secret_words) / sizeof(secret_words[0]); i++)
		if (strstr(k, secret_words[i]))
			return 1;
	return 0;
}

/* Append s, escaping control characters so one event is always one line. */
static void
add_escaped(struct q_buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			q_buf_adds(out, "\\n");
		else if (c == '\r')
			q_buf_adds(out, "\\r");
		else if (c == '\t')
			q_buf_adds(out, "\\t");
		else if (c < 0x20 || c == 0x7f)
			q_buf_printf(out, "\\x%02x", c);
		else
			q_buf_addch(out, (char)c);
	}
}

/*
 * Redact values of secret-looking keys in a "k=v k2=v2" string. A value runs to the next
 * space, or is a double-quoted string (with \" escapes).
 */
static void
redact_fields(struct q_buf *out, const char *f)
{
	while (*f) {
		const char *tok = f, *eq = NULL, *end;

		while (*f == ' ')
			q_buf_addch(out, *f++);
		tok = f;
		while (*f && *f != ' ' && *f != '=')
			f++;
		if (*f != '=') {
			add_escaped(out, tok, (size_t)(f - tok));
			continue;
		}
		eq = f++;
		if (*f == '"') {
			end = f + 1;
			while (*end && *end != '"')
				end += (*end == '\\' && end[1]) ? 2 : 1;
			if (*end == '"')
				end++;
		} else {
			end = f;
			while (*end && *end != ' ')
				end++;
		}
		add_escaped(out, tok, (size_t)(eq - tok) + 1);
		if (key_is_secret(tok, (size_t)(eq - tok)) && end > f)
			q_buf_adds(out, "[redacted]");
		else
			add_escaped(out, f, (size_t)(end - f));
		f = end;
	}
}

static void
scrub_secrets(struct q_buf *line)
{
	for (size_t i = 0; i < nsecrets; i++) {
		size_t sl = strlen(secrets[i]);
		char *p;

		while ((p = strstr(line->data, secrets[i])) != NULL) {
			struct q_buf nb = Q_BUF_INIT;
			size_t off = (size_t)(p - line->data);

			q_buf_add(&nb, line->data, off);
			q_buf_adds(&nb, "[redacted]");
			q_buf_adds(&nb, p + sl);
			q_buf_release_secret(line);
			*line = nb;
		}
	}
}

static void
render(struct q_buf *line, enum q_log_level lvl, const char *event, const char *fields)
{
	char ts[32];
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	q_buf_printf(line, "ts=%s.%03ldZ level=%s prog=%s pid=%ld event=", ts,
	             now.tv_nsec / 1000000, level_names[lvl], prog_name, (long)getpid());
	add_escaped(line, event, strlen(event));
	if (fields && *fields) {
		q_buf_addch(line, ' ');
		redact_fields(line, fields);
	}
	scrub_secrets(line);
}

int
q_log_format(char *out, int outlen, enum q_log_level lvl, const char *event, const char *fields)
{
	struct q_buf line = Q_BUF_INIT;
	int n;

	render(&line, lvl, event, fields);
	n = snprintf(out, (size_t)outlen, "%s", line.data);
	q_buf_release_secret(&line);
	return n;
}

static void
emit(enum q_log_level lvl, const char *event, const char *fields)
{
	struct q_buf line = Q_BUF_INIT;

	render(&line, lvl, event, fields);
	q_buf_addch(&line, '\n');
	/* One write per line so lines from prefork workers sharing stderr do not interleave. */
	if (write(STDERR_FILENO, line.data, line.len) < 0) {
		/* Nowhere left to report a failed log write. */
	}
	q_buf_release_secret(&line);
}

void
q_logv(enum q_log_level lvl, const char *event, const char *fmt, va_list ap)
{
	struct q_buf fields = Q_BUF_INIT;

	if (lvl < threshold || lvl > Q_LOG_ERROR)
		return;
	q_buf_vprintf(&fields, fmt, ap);
	emit(lvl, event, fields.data);
	q_buf_release_secret(&fields);
}

void
q_log(enum q_log_level lvl, const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	q_logv(lvl, event, fmt, ap);
	va_end(ap);
}

static int
needs_quotes(const char *v)
{
	if (*v == '\0')
		return 1;
	for (; *v; v++)
		if (*v == ' ' || *v == '"' || *v == '=' || (unsigned char)*v < 0x20)
			return 1;
	return 0;
}

void
q_logkv(enum q_log_level lvl, const char *event, ...)
{
	struct q_buf fields = Q_BUF_INIT;
	const char *k, *v;
	va_list ap;

	if (lvl < threshold || lvl > Q_LOG_ERROR)
		return;
	va_start(ap, event);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (v == NULL)
			v = "";
		if (fields.len)
			q_buf_addch(&fields, ' ');
		q_buf_printf(&fields, "%s=", k);
		if (needs_quotes(v)) {
			q_buf_addch(&fields, '"');
			for (; *v; v++) {
				if (*v == '"' || *v == '\\')
					q_buf_addch(&fields, '\\');
				q_buf_addch(&fields, *v);
			}
			q_buf_addch(&fields, '"');
		} else {
			q_buf_adds(&fields, v);
		}
	}
	va_end(ap);
	emit(lvl, event, fields.data);
	q_buf_release_secret(&fields);
}
