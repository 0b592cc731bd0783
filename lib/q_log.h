/*
 * q_log: one line per event on stderr, as key=value pairs:
 *   ts=2026-11-21T14:00:00Z level=info prog=quantor-api pid=42 event=http.request status=200
 *
 * Never prints secrets, by two independent mechanisms:
 *  - the value of any key whose name looks secret (token, secret, password, passphrase,
 *    authorization, signature, api_key, init_data, ...) is printed as [redacted];
 *  - every value registered with q_log_secret() (the config loader registers each secret it
 *    reads) is replaced by [redacted] wherever it appears in a line.
 * Control characters are escaped so that a hostile value cannot forge a second line.
 */
#ifndef Q_LOG_H
#define Q_LOG_H

#include <stdarg.h>

enum q_log_level { Q_LOG_DEBUG, Q_LOG_INFO, Q_LOG_WARN, Q_LOG_ERROR };

/* Program name for prog= and the threshold; QUANTOR_LOG_LEVEL (debug|info|warn|error) overrides. */
void q_log_init(const char *prog, enum q_log_level min);
void q_log_set_level(enum q_log_level min);
/* Parse "debug"/"info"/"warn"/"error"; -1 when unknown. */
int q_log_level_parse(const char *s);

/*
 * Scrub this exact value (at least 4 bytes; shorter ones are ignored as too generic) from
 * every later line. The value is copied. Call with every secret the process loads.
 */
void q_log_secret(const char *value);
/* Forget every registered secret (wiping the copies). */
void q_log_secrets_clear(void);

/*
 * Log event with fields given as a printf-style "key=value key2=value2" string. A value that
 * contains spaces, quotes or '=' should be formatted with %s through q_log_quote by the caller
 * or passed with the q_logkv form below.
 */
void q_log(enum q_log_level lvl, const char *event, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void q_logv(enum q_log_level lvl, const char *event, const char *fmt, va_list ap);

/* Log event with NULL-terminated key, value string pairs; values are quoted when needed. */
void q_logkv(enum q_log_level lvl, const char *event, ...) __attribute__((sentinel));

#define q_log_debug(ev, ...) q_log(Q_LOG_DEBUG, (ev), __VA_ARGS__)
#define q_log_info(ev, ...) q_log(Q_LOG_INFO, (ev), __VA_ARGS__)
#define q_log_warn(ev, ...) q_log(Q_LOG_WARN, (ev), __VA_ARGS__)
#define q_log_error(ev, ...) q_log(Q_LOG_ERROR, (ev), __VA_ARGS__)

/* Render the line that would be logged into out (for tests); returns its length. */
int q_log_format(char *out, int outlen, enum q_log_level lvl, const char *event,
                 const char *fields);

#endif
