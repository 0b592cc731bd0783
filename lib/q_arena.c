#include "q_arena.h"
#include "q_mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 16
#define BLOCK_SIZE 8192

struct block {
	struct block *next;
	size_t size; /* usable bytes after the header */
	size_t used;
	_Alignas(ALIGN) unsigned char data[];
};

struct cleanup {
	struct cleanup *next;
	q_cleanup_fn fn;
	void *data;
};

struct q_arena {
	struct block *blocks; /* current block first */
	struct cleanup *cleanups;
	size_t total;
};

struct q_arena *
q_arena_new(void)
{
	return q_calloc(1, sizeof(struct q_arena));
}

static struct block *
block_new(size_t size)
{
	struct block *b = q_malloc(sizeof(*b) + size);

	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

void
q_arena_reset(struct q_arena *a)
{
	struct cleanup *c, *cn;
	struct block *b, *bn;

	if (a == NULL)
		return;
	/* Cleanups first: they may still read arena memory. A cleanup may register more. */
	while ((c = a->cleanups) != NULL) {
		a->cleanups = NULL;
		for (; c != NULL; c = cn) {
			cn = c->next;
			c->fn(c->data);
		}
	}
	for (b = a->blocks; b != NULL; b = bn) {
		bn = b->next;
		free(b);
	}
	a->blocks = NULL;
	a->total = 0;
}

void
q_arena_destroy(struct q_arena *a)
{
	if (a == NULL)
		return;
	q_arena_reset(a);
	free(a);
}

void *
q_arena_alloc(struct q_arena *a, size_t n)
{
	size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	struct block *b;

	if (need < n)
		q_die("arena allocation size overflow (%zu bytes)", n);
	if (need == 0)
		need = ALIGN;
	a->total += n;
#ifdef Q_SANITIZE
	/* One block per allocation, sized exactly, so ASan catches overflows at the edge. */
	b = block_new(n);
	b->used = n;
	b->next = a->blocks;
	a->blocks = b;
	return b->data;
#else
	b = a->blocks;
	if (b == NULL || b->size - b->used < need) {
		if (need > BLOCK_SIZE / 4) {
			/* Large: its own block, kept behind the current one so that the
			 * current block's free space is not wasted. */
			b = block_new(need);
			b->used = need;
			if (a->blocks) {
				b->next = a->blocks->next;
				a->blocks->next = b;
			} else {
				a->blocks = b;
			}
			return b->data;
		}
		b = block_new(BLOCK_SIZE);
		b->next = a->blocks;
		a->blocks = b;
	}
	b->used += need;
	return b->data + b->used - need;
#endif
}

void *
q_arena_zalloc(struct q_arena *a, size_t n)
{
	void *p = q_arena_alloc(a, n);

	memset(p, 0, n);
	return p;
}

void *
q_arena_memdup(struct q_arena *a, const void *p, size_t n)
{
	void *d = q_arena_alloc(a, n);

	if (n)
		memcpy(d, p, n);
	return d;
}

char *
q_arena_strndup(struct q_arena *a, const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = q_arena_alloc(a, len + 1);

	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

char *
q_arena_strdup(struct q_arena *a, const char *s)
{
	return q_arena_strndup(a, s, strlen(s));
}

char *
q_arena_vprintf(struct q_arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	char *d;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		q_die("q_arena_vprintf: bad format");
	d = q_arena_alloc(a, (size_t)n + 1);
	vsnprintf(d, (size_t)n + 1, fmt, ap);
	return d;
}

char *
q_arena_printf(struct q_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *d;

	va_start(ap, fmt);
	d = q_arena_vprintf(a, fmt, ap);
	va_end(ap);
	return d;
}

void
q_arena_cleanup_add(struct q_arena *a, q_cleanup_fn fn, void *data)
{
	struct cleanup *c = q_arena_alloc(a, sizeof(*c));

	c->fn = fn;
	c->data = data;
	c->next = a->cleanups;
	a->cleanups = c;
}

size_t
q_arena_used(const struct q_arena *a)
{
	return a->total;
}
