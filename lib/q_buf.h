/*
 * q_buf: a growable byte string, always NUL-terminated (like git's strbuf and redis's sds).
 *
 * struct q_buf b = Q_BUF_INIT; ... q_buf_release(&b);
 * b.data is never NULL after any append (an empty initialised buffer points at "").
 * Growth never fails (out of memory is fatal). Buffers holding secrets are wiped with
 * q_buf_release_secret().
 */
#ifndef Q_BUF_H
#define Q_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct q_buf {
	char *data;
	size_t len;
	size_t cap; /* 0 while data points at the shared empty string */
};

extern char q_buf_empty[];
#define Q_BUF_INIT                                                                                 \
	{                                                                                          \
		q_buf_empty, 0, 0                                                                  \
	}

void q_buf_init(struct q_buf *b);
/* Free the contents; the buffer is empty and reusable afterwards. */
void q_buf_release(struct q_buf *b);
/* Wipe (sodium_memzero) then free. */
void q_buf_release_secret(struct q_buf *b);
/* Hand the contents to the caller (free() them); the buffer is empty afterwards. */
char *q_buf_detach(struct q_buf *b, size_t *len);

/* Make room for at least extra more bytes (plus the NUL). */
void q_buf_grow(struct q_buf *b, size_t extra);
void q_buf_reset(struct q_buf *b); /* len = 0, keeps capacity */
void q_buf_truncate(struct q_buf *b, size_t len);

void q_buf_add(struct q_buf *b, const void *p, size_t n);
void q_buf_adds(struct q_buf *b, const char *s);
void q_buf_addch(struct q_buf *b, char c);
void q_buf_printf(struct q_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void q_buf_vprintf(struct q_buf *b, const char *fmt, va_list ap);

#endif
