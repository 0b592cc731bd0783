#include "q_mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
q_die(const char *fmt, ...)
{
	va_list ap;

	fputs("fatal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void *
q_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		q_die("out of memory allocating %zu bytes", n);
	return p;
}

void *
q_calloc(size_t nmemb, size_t size)
{
	void *p;

	if (size && nmemb > (size_t)-1 / size)
		q_die("allocation size overflow (%zu x %zu)", nmemb, size);
	p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (p == NULL)
		q_die("out of memory allocating %zu x %zu bytes", nmemb, size);
	return p;
}

void *
q_realloc(void *p, size_t n)
{
	void *np = realloc(p, n ? n : 1);

	if (np == NULL)
		q_die("out of memory reallocating %zu bytes", n);
	return np;
}

char *
q_strdup(const char *s)
{
	return q_strndup(s, strlen(s));
}

char *
q_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = q_malloc(len + 1);

	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}
