/*
 * q_arena: a per-request memory pool with cleanup callbacks, like nginx's request pool.
 *
 * Created after FCGX_Accept_r, destroyed after FCGX_Finish_r: one q_arena_destroy()
 * frees every allocation and runs every registered cleanup (statements, json_t, curl
 * handles) in reverse order of registration. Allocations are 16-byte aligned and never
 * fail (out of memory is fatal). Under SANITIZE builds each allocation is its own malloc
 * block so AddressSanitizer sees every overflow.
 */
#ifndef Q_ARENA_H
#define Q_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct q_arena;

typedef void (*q_cleanup_fn)(void *data);

/* A new, empty arena. Never NULL. */
struct q_arena *q_arena_new(void);

/* Run the cleanups (last registered first), free all memory and the arena itself. NULL-safe. */
void q_arena_destroy(struct q_arena *a);

/* Run the cleanups and free all memory, keeping the arena for reuse. */
void q_arena_reset(struct q_arena *a);

/* n bytes, uninitialised / zeroed. n == 0 returns a valid unique pointer. */
void *q_arena_alloc(struct q_arena *a, size_t n);
void *q_arena_zalloc(struct q_arena *a, size_t n);

/* Copies into the arena; always NUL-terminated. */
char *q_arena_strdup(struct q_arena *a, const char *s);
char *q_arena_strndup(struct q_arena *a, const char *s, size_t n);
void *q_arena_memdup(struct q_arena *a, const void *p, size_t n);
char *q_arena_printf(struct q_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *q_arena_vprintf(struct q_arena *a, const char *fmt, va_list ap);

/* Register fn(data) to run when the arena is reset or destroyed. */
void q_arena_cleanup_add(struct q_arena *a, q_cleanup_fn fn, void *data);

/* Bytes handed out since creation or the last reset (for tests and limits). */
size_t q_arena_used(const struct q_arena *a);

#endif
