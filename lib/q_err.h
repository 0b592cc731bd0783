/*
 * q_err: the one catalogue of error codes, and the error value every library call fills.
 *
 * Each code has an HTTP status and a stable machine name that clients see in
 * {"error":{"code":NAME,...}}. Policy (risk gate) codes also carry their gate number.
 * Library functions return -1 (or NULL) and describe the failure in a caller-owned
 * struct q_err through q_err_set(), which keeps the FIRST error set and records the
 * file, function and line where it was set (Pulse reports them).
 */
#ifndef Q_ERR_H
#define Q_ERR_H

#include <stdarg.h>
#include <stddef.h>

/* X(code, http status, name, gate): gate is the risk-gate number, 0 for non-policy codes. */
#define Q_ERR_TABLE(X)                                                                             \
	X(Q_OK, 200, "OK", 0)                                                                      \
	X(Q_E_BAD_REQUEST, 400, "BAD_REQUEST", 0)                                                  \
	X(Q_E_UNAUTHORIZED, 401, "UNAUTHORIZED", 0)                                                \
	X(Q_E_FORBIDDEN, 403, "FORBIDDEN", 0)                                                      \
	X(Q_E_NOT_FOUND, 404, "NOT_FOUND", 0)                                                      \
	X(Q_E_METHOD_NOT_ALLOWED, 405, "METHOD_NOT_ALLOWED", 0)                                    \
	X(Q_E_CONFLICT, 409, "CONFLICT", 0)                                                        \
	X(Q_E_PAYLOAD_TOO_LARGE, 413, "PAYLOAD_TOO_LARGE", 0)                                      \
	X(Q_E_UNSUPPORTED_MEDIA, 415, "UNSUPPORTED_MEDIA_TYPE", 0)                                 \
	X(Q_E_RATE_LIMITED, 429, "RATE_LIMITED", 0)                                                \
	X(Q_E_INTERNAL, 500, "INTERNAL", 0)                                                        \
	X(Q_E_DB_UNAVAILABLE, 503, "DB_UNAVAILABLE", 0)                                            \
	X(Q_E_EXCHANGE_UNAVAILABLE, 503, "EXCHANGE_UNAVAILABLE", 0)                                \
	X(Q_E_CONFIG, 500, "CONFIG", 0)                                                            \
	X(Q_E_IO, 500, "IO", 0)                                                                    \
	X(Q_E_CRYPTO, 500, "CRYPTO", 0)                                                            \
	X(Q_E_HTTP, 502, "UPSTREAM_HTTP", 0)                                                       \
	X(Q_E_TIMEOUT, 504, "UPSTREAM_TIMEOUT", 0)                                                 \
	X(Q_E_DB_CONFLICT, 409, "DB_CONFLICT", 0)                                                  \
	X(Q_E_AUDIT_BROKEN, 500, "AUDIT_CHAIN_BROKEN", 0)                                          \
	X(Q_E_KEY_CAN_WITHDRAW, 422, "KEY_CAN_WITHDRAW", 0)                                        \
	X(Q_E_KEY_CANNOT_TRADE, 422, "KEY_CANNOT_TRADE", 0)                                        \
	X(Q_E_KEY_INVALID, 422, "KEY_INVALID", 0)                                                  \
	X(Q_E_EX_AUTH, 502, "EXCHANGE_AUTH_FAILED", 0)                                             \
	X(Q_E_EX_INSUFFICIENT, 422, "EXCHANGE_INSUFFICIENT_BALANCE", 0)                            \
	X(Q_E_EX_FILTER, 422, "EXCHANGE_FILTER_FAILURE", 0)                                        \
	X(Q_E_EX_RATE_LIMITED, 429, "EXCHANGE_RATE_LIMITED", 0)                                    \
	X(Q_E_EX_BANNED, 503, "EXCHANGE_BANNED", 0)                                                \
	X(Q_E_EX_UNKNOWN_OUTCOME, 504, "EXCHANGE_OUTCOME_UNKNOWN", 0)                              \
	X(Q_E_EX_CLOCK_SKEW, 502, "EXCHANGE_CLOCK_SKEW", 0)                                        \
	X(Q_E_SYMBOL_NOT_ALLOWED, 403, "SYMBOL_NOT_ALLOWED", 1)                                    \
	X(Q_E_REGIME_DANGEROUS, 403, "REGIME_DANGEROUS", 2)                                        \
	X(Q_E_LIVE_DISABLED, 403, "LIVE_DISABLED", 3)                                              \
	X(Q_E_USER_NOT_ALLOWLISTED, 403, "USER_NOT_ALLOWLISTED", 4)                                \
	X(Q_E_ZERO_NOTIONAL, 403, "ZERO_NOTIONAL", 5)                                              \
	X(Q_E_SUBSCRIPTION_INACTIVE, 403, "SUBSCRIPTION_INACTIVE", 6)                              \
	X(Q_E_ACCOUNT_FROZEN, 403, "ACCOUNT_FROZEN", 7)                                            \
	X(Q_E_BOT_LIMIT_REACHED, 403, "BOT_LIMIT_REACHED", 7)                                      \
	X(Q_E_PLAN_NO_LIVE, 403, "PLAN_NO_LIVE", 8)                                                \
	X(Q_E_ADVANCED_NOT_ALLOWED, 403, "ADVANCED_NOT_ALLOWED", 9)                                \
	X(Q_E_TELEGRAM_NOT_LINKED, 403, "TELEGRAM_NOT_LINKED", 10)                                 \
	X(Q_E_STRATEGY_NOT_PERMITTED, 403, "STRATEGY_NOT_PERMITTED", 11)                           \
	X(Q_E_KEYS_NOT_VERIFIED, 403, "KEYS_NOT_VERIFIED", 12)                                     \
	X(Q_E_MAX_NOTIONAL_EXCEEDED, 403, "MAX_NOTIONAL_EXCEEDED", 13)                             \
	X(Q_E_DAILY_LOSS_LIMIT, 403, "DAILY_LOSS_LIMIT", 14)                                       \
	X(Q_E_PLAN_NO_PAPER, 403, "PLAN_NO_PAPER", 0)

enum q_code {
#define Q_ERR_ENUM(c, s, n, g) c,
	Q_ERR_TABLE(Q_ERR_ENUM)
#undef Q_ERR_ENUM
	        Q_ERR__COUNT
};

struct q_err {
	enum q_code code; /* Q_OK when nothing was set */
	char msg[256];    /* human message; safe to show a client for 4xx, never holds a secret */
	char field[128];  /* for BAD_REQUEST: the offending field, "" when none */
	const char *file; /* where q_err_set was called */
	const char *func;
	int line;
};

/* Reset to Q_OK. A zero-initialised struct q_err is already reset. */
void q_err_clear(struct q_err *err);

/*
 * Record an error unless one is already recorded (the first error wins: it is the cause).
 * Always returns -1 so callers can write `return q_err_set(err, Q_E_NOT_FOUND, "...", ...)`.
 * err may be NULL (the error is then dropped).
 */
#define q_err_set(err, code, ...)                                                                  \
	q_err_set_at((err), (code), __FILE__, __func__, __LINE__, __VA_ARGS__)
/* The same, naming the request field that caused it (BAD_REQUEST). */
#define q_err_set_field(err, fld, code, ...)                                                       \
	q_err_set_field_at((err), (fld), (code), __FILE__, __func__, __LINE__, __VA_ARGS__)

int q_err_set_at(struct q_err *err, enum q_code code, const char *file, const char *func, int line,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));
int q_err_set_field_at(struct q_err *err, const char *fld, enum q_code code, const char *file,
                       const char *func, int line, const char *fmt, ...)
        __attribute__((format(printf, 7, 8)));

/* The table's columns for a code; an out-of-range code reads as Q_E_INTERNAL. */
int q_err_http_status(enum q_code code);
const char *q_err_name(enum q_code code);
int q_err_gate(enum q_code code); /* 1..14 for a policy code, 0 otherwise */

/* Code for a name from the table ("NOT_FOUND" -> Q_E_NOT_FOUND); -1 when unknown. */
int q_err_from_name(const char *name);

/* "file:func:line" of where the error was set, into out (always NUL-terminated). */
void q_err_where(const struct q_err *err, char *out, size_t outlen);

#endif
