/*
 * quantor-sim: the offline stand-in for the outside world (exchanges, Telegram's Bot API, billing
 * APIs). Quantor's programs reach it through their configured base URLs over the very same code
 * paths they use in production; tests and `make run` steer it through /_sim/ control endpoints.
 *
 * This header is the contract between the core (main.c, http.c) and the modules. A module is one
 * .c file exporting one struct sim_module and one line in main.c's table:
 *
 *   requests whose decoded path starts with module->prefix      -> module->handle
 *   requests under /_sim/<module->name>/                        -> module->control
 *
 * Handlers run on the server's worker threads, several at once: a module guards its own state
 * with its own mutex. Everything in a struct sim_req lives in its arena, which is destroyed once
 * the response is written out; a handler allocates per-request memory there too.
 */
#ifndef Q_SIM_H
#define Q_SIM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "q_arena.h"
#include "q_buf.h"
#include "q_config.h"
#include "q_err.h"

#define SIM_MAX_BODY ((size_t)1 << 20)  /* request body cap: above it, 413 */
#define SIM_MAX_HEAD ((size_t)16 << 10) /* request line + headers cap: above it, 431 */

struct sim_header {
	const char *name; /* as sent; look up with sim_req_header (case-insensitive) */
	const char *value;
};

struct sim_req {
	struct q_arena *arena;
	const char *method;   /* "GET", "POST", ... (any RFC 9110 token, case-sensitive) */
	const char *target;   /* the request-target exactly as received: raw path + "?" + query */
	const char *raw_path; /* target up to '?', not decoded: what exchanges sign */
	const char *path;     /* raw_path percent-decoded; never holds a NUL byte */
	const char *query;    /* after the first '?', not decoded; "" when none */
	const char *sub;      /* path after the module's prefix, or after "/_sim/<name>/" */
	const struct sim_header *headers;
	size_t nheaders;
	const char *body; /* NUL-terminated (a body may itself contain NULs); "" when none */
	size_t body_len;
	int64_t received_ms; /* sim clock when the request was complete */
};

struct sim_resp {
	int status;             /* 0 until set: a handler that sets nothing answers 500 */
	char content_type[128]; /* "" reads as application/json */
	struct q_buf headers;   /* extra "Name: value\r\n" lines: use sim_reply_header */
	struct q_buf body;
	long delay_ms; /* hold the finished response this long before writing it (no thread waits) */
	int close;     /* close the connection after this response */
	int drop;      /* close the connection without any response (after delay_ms) */
};

/* What every module's init sees. All borrowed, valid until the modules are released. */
struct sim_env {
	const struct q_config *cfg; /* $QUANTOR_CONFIG */
	const json_t *accounts;     /* the --accounts JSON array ([] when none was given) */
	const char *self_url;       /* "http://127.0.0.1:PORT" */
};

struct sim_module {
	const char *name; /* listed by GET /_sim/health; control endpoints under /_sim/<name>/ */
	const char
	        *prefix; /* "/telegram/": requests whose decoded path starts with it; NULL: none */
	/* Once at startup, before any request. -1 with err set stops the simulator. May be NULL. */
	int (*init)(const struct sim_env *env, struct q_err *err);
	/*
	 * Answer one request into resp (req->sub is the path after the prefix). Return 0; -1 with
	 * err set is a bug or an internal failure: the core logs err and answers 500 in Quantor's
	 * error shape. A module's own errors (Telegram's {"ok":false,...}, an exchange's error
	 * codes) are ordinary responses and return 0.
	 */
	int (*handle)(struct sim_req *req, struct sim_resp *resp, struct q_err *err);
	/* The same for /_sim/<name>/<sub>. May be NULL (404). */
	int (*control)(struct sim_req *req, struct sim_resp *resp, struct q_err *err);
	/* At shutdown, after the last request: free the module's state. May be NULL. */
	void (*release)(void);
};

extern const struct sim_module sim_telegram;

/* --- clock (main.c) ------------------------------------------------------------------------ */

/*
 * The simulated clock, in milliseconds since the Unix epoch: it starts at the real time when the
 * simulator starts and runs --speed times as fast as the real clock (default 1). Markets, Telegram
 * dates and recorded times all read it. Thread-safe.
 */
int64_t sim_clock_ms(void);
double sim_clock_speed(void);
/* Set the speed and the origin (real time now). Called once by main, before any thread. */
void sim_clock_init(double speed);
/* ms as "2026-11-21T14:00:00.123Z" into out. */
void sim_clock_rfc3339(char out[32], int64_t ms);

/* --- requests (http.c) --------------------------------------------------------------------- */

/* The value of header name (case-insensitive), the first one when repeated; NULL when absent. */
const char *sim_req_header(const struct sim_req *req, const char *name);

/* 1 when the Content-Type's media type is mime (case-insensitive, parameters ignored), else 0. */
int sim_req_is(const struct sim_req *req, const char *mime);

struct sim_param {
	const char *name; /* decoded, NUL-terminated (a decoded NUL byte makes the parse fail) */
	const char *value;
	size_t value_len;
};

/*
 * Parse an application/x-www-form-urlencoded string (a query string or a form body) of n bytes
 * into an arena array: '+' is a space, %XX a byte, empty pairs ("a=1&&b=2") are skipped and a
 * pair without '=' has the value "". Returns the number of pairs (in *out), or -1 on a malformed
 * %-escape or a decoded NUL byte.
 */
int sim_form_parse(struct q_arena *a, const char *s, size_t n, struct sim_param **out);

/* The value of the first parameter called name, or NULL. */
const char *sim_param_get(const struct sim_param *p, int n, const char *name);

/* --- responses (http.c) -------------------------------------------------------------------- */

/* status, content type (NULL: application/json) and a copy of the len bytes at body. */
void sim_reply(struct sim_resp *resp, int status, const char *content_type, const void *body,
               size_t len);

/*
 * status with j (stolen) as a compact JSON body. -1 with Q_E_INTERNAL when j is NULL (a failed
 * json_pack) or cannot be encoded; the response is then left unset.
 */
int sim_reply_json(struct sim_resp *resp, int status, json_t *j, struct q_err *err);

/*
 * Quantor's own error shape, for the core's and the control endpoints' refusals:
 * {"error":{"code":CODE,"message":MSG}}.
 */
void sim_reply_error(struct sim_resp *resp, int status, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* 405 with an Allow header listing the methods that path takes ("GET, DELETE"). */
void sim_reply_not_allowed(struct sim_resp *resp, const char *allow);

/* Add "name: value" to the response; a name or value holding CR or LF is dropped. */
void sim_reply_header(struct sim_resp *resp, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* 1 when the n bytes at s are valid UTF-8 (what JSON strings need), else 0. */
int sim_utf8_valid(const char *s, size_t n);

#endif
