#include "q_buf.h"
#include "q_mem.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char q_buf_empty[1];

void
q_buf_init(struct q_buf *b)
{
	b->data = q_buf_empty;
	b->len = 0;
	b->cap = 0;
}

void
q_buf_release(struct q_buf *b)
{
	if (b->cap)
		free(b->data);
	q_buf_init(b);
}

void
q_buf_release_secret(struct q_buf *b)
{
	if (b->cap)
		sodium_memzero(b->data, b->cap);
	q_buf_release(b);
}

char *
q_buf_detach(struct q_buf *b, size_t *len)
{
	char *d;

	if (b->cap == 0)
		q_buf_grow(b, 0);
	d = b->data;
	if (len)
		*len = b->len;
	q_buf_init(b);
	return d;
}

void
q_buf_grow(struct q_buf *b, size_t extra)
{
	size_t want = b->len + extra + 1, ncap;

	if (want < b->len)
		q_die("q_buf size overflow");
	if (want <= b->cap)
		return;
	ncap = b->cap ? b->cap : 64;
	while (ncap < want)
		ncap = ncap * 2 > ncap ? ncap * 2 : want;
	if (b->cap == 0) {
		b->data = q_malloc(ncap);
		b->data[0] = '\0';
	} else {
		b->data = q_realloc(b->data, ncap);
	}
	b->cap = ncap;
}

void
q_buf_reset(struct q_buf *b)
{
	q_buf_truncate(b, 0);
}

void
q_buf_truncate(struct q_buf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	b->data[len] = '\0';
}

void
q_buf_add(struct q_buf *b, const void *p, size_t n)
{
	q_buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
q_buf_adds(struct q_buf *b, const char *s)
{
	q_buf_add(b, s, strlen(s));
}

void
q_buf_addch(struct q_buf *b, char c)
{
	q_buf_add(b, &c, 1);
}

void
q_buf_vprintf(struct q_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		q_die("q_buf_vprintf: bad format");
	q_buf_grow(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
q_buf_printf(struct q_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	q_buf_vprintf(b, fmt, ap);
	va_end(ap);
}
