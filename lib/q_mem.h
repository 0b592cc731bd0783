/*
 * q_mem: allocation that never returns NULL, and q_die for broken invariants.
 * Out of memory is fatal (as in git's xmalloc and redis's zmalloc): callers never test.
 */
#ifndef Q_MEM_H
#define Q_MEM_H

#include <stddef.h>

/* Print "fatal: <message>" to stderr and exit(1). */
void q_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

void *q_malloc(size_t n);
void *q_calloc(size_t nmemb, size_t size); /* checks nmemb * size for overflow */
void *q_realloc(void *p, size_t n);
char *q_strdup(const char *s);
char *q_strndup(const char *s, size_t n);

#endif
