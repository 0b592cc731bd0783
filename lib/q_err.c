#include "q_err.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int status;
	int gate;
} table[] = {
#define Q_ERR_ROW(c, s, n, g) [c] = {n, s, g},
        Q_ERR_TABLE(Q_ERR_ROW)
#undef Q_ERR_ROW
};

void
q_err_clear(struct q_err *err)
{
	memset(err, 0, sizeof(*err));
}

static int
set_v(struct q_err *err, const char *fld, enum q_code code, const char *file, const char *func,
      int line, const char *fmt, va_list ap)
{
	if (err == NULL || err->code != Q_OK)
		return -1;
	err->code = code;
	err->file = file;
	err->func = func;
	err->line = line;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	snprintf(err->field, sizeof(err->field), "%s", fld ? fld : "");
	return -1;
}

int
q_err_set_at(struct q_err *err, enum q_code code, const char *file, const char *func, int line,
             const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_v(err, NULL, code, file, func, line, fmt, ap);
	va_end(ap);
	return -1;
}

int
q_err_set_field_at(struct q_err *err, const char *fld, enum q_code code, const char *file,
                   const char *func, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_v(err, fld, code, file, func, line, fmt, ap);
	va_end(ap);
	return -1;
}

static enum q_code
valid(enum q_code code)
{
	return (unsigned)code < Q_ERR__COUNT ? code : Q_E_INTERNAL;
}

int
q_err_http_status(enum q_code code)
{
	return table[valid(code)].status;
}

const char *
q_err_name(enum q_code code)
{
	return table[valid(code)].name;
}

int
q_err_gate(enum q_code code)
{
	return table[valid(code)].gate;
}

int
q_err_from_name(const char *name)
{
	for (int i = 0; i < Q_ERR__COUNT; i++)
		if (strcmp(table[i].name, name) == 0)
			return i;
	return -1;
}

void
q_err_where(const struct q_err *err, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s:%s:%d", err->file ? err->file : "?", err->func ? err->func : "?",
	         err->line);
}
