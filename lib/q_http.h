/*
 * q_http: the outbound HTTP client (libcurl) for exchanges, Telegram's Bot API and billing APIs.
 *
 * One struct q_http holds one curl easy handle, so consecutive requests to the same host reuse
 * the connection (and the TLS session). A client is not thread-safe; use one per thread.
 * Every request: http and https only, redirects never followed, no proxy (environment variables
 * are ignored), peers and host names verified for https, no signals (CURLOPT_NOSIGNAL).
 *
 * URLs and headers carry API keys and signatures. Nothing here logs, and error messages name
 * only the method and scheme://host:port/path: never the query string, the fragment, user
 * info or a header value. A Telegram token in the path ("/bot<id>:<secret>/...") is shown as
 * "/bot[redacted]/...".
 */
#ifndef Q_HTTP_H
#define Q_HTTP_H

#include "q_buf.h"
#include "q_err.h"

#include <stddef.h>

#define Q_HTTP_CONNECT_TIMEOUT_MS 3000L
#define Q_HTTP_TIMEOUT_MS 10000L
#define Q_HTTP_MAX_RESPONSE ((size_t)4 << 20)

struct q_http;

struct q_http_req {
	const char *method;         /* "GET", "POST", "PUT", "DELETE", ...; NULL means GET */
	const char *url;            /* http:// or https://, query string included */
	const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
	const void *body;           /* sent when body_len > 0; a POST always sends one */
	size_t body_len;
	long connect_timeout_ms; /* 0: Q_HTTP_CONNECT_TIMEOUT_MS */
	long timeout_ms;         /* the whole request; 0: Q_HTTP_TIMEOUT_MS */
	size_t max_response;     /* cap on the body, and on the headers; 0: Q_HTTP_MAX_RESPONSE */
	/*
	 * 1 for a request that must never reach the server twice (an order): it goes on a fresh
	 * connection that is closed afterwards. libcurl silently re-sends a request whose reused
	 * keep-alive connection closes before any answer; on a fresh one it never does.
	 */
	int once;
};

struct q_http_resp {
	long status;          /* of the final response; 0 when q_http_do failed */
	struct q_buf body;    /* NUL-terminated, and may contain NULs */
	struct q_buf headers; /* raw header block of the final response, status line included */
	/*
	 * 1 once the whole request was written to the connection. After a failure with sent == 1
	 * (a timeout, or a connection reset before the response was complete) the server may have
	 * acted on the request: the outcome is unknown, so never re-send an order blind.
	 */
	int sent;
	double seconds; /* wall time of the request */
};

/*
 * curl_global_init(), once per process; safe to call again and from several threads. Returns 0;
 * a failure is fatal (q_die). q_http_new() calls it.
 */
int q_http_global_init(void);

/* A new client. Never NULL (failure to create a curl handle is fatal). */
struct q_http *q_http_new(void);
/* Close its connections and free it. NULL-safe. */
void q_http_free(struct q_http *h);

/* An empty response; q_http_do() may then be called with it any number of times. */
void q_http_resp_init(struct q_http_resp *r);
/* Free the buffers; the response is empty and reusable afterwards. */
void q_http_resp_release(struct q_http_resp *r);

/*
 * Perform req. resp (initialised) is reset first: its body and headers then hold the final
 * response. Returns 0 when a complete response arrived, whatever its status (the caller maps
 * statuses: a 418 or a 503 is still 0). Returns -1 and sets err:
 *  - Q_E_TIMEOUT: the connect or the whole-request timeout expired. resp->sent tells whether
 *    the request had been fully written; when it had, the outcome is unknown.
 *  - Q_E_HTTP: DNS failure, connection refused or reset, TLS failure, malformed or disallowed
 *    URL, protocol error, a body or header block larger than max_response ("response exceeds
 *    N bytes"), a method that is not an uppercase token, or a header line holding CR or LF.
 * On -1, resp->status is 0 and body and headers hold whatever arrived before the failure.
 * Defaults the caller's headers override: User-Agent "quantor" and, with a body, curl's
 * Content-Type application/x-www-form-urlencoded. "Expect: 100-continue" is never sent.
 * The process should ignore SIGPIPE (the FastCGI programs do): with CURLOPT_NOSIGNAL, libcurl
 * leaves that to the application.
 */
int q_http_do(struct q_http *h, struct q_http_resp *resp, const struct q_http_req *req,
              struct q_err *err);

/*
 * Value of header name (matched case-insensitively) in the final response, with surrounding
 * blanks trimmed, copied NUL-terminated into out. Returns out, or NULL when the header is
 * absent or its value does not fit in outlen bytes (out is then ""). The first occurrence wins.
 */
const char *q_http_resp_header(const struct q_http_resp *r, const char *name, char *out,
                               size_t outlen);

/*
 * Append the n bytes at s to out percent-encoded as RFC 3986 section 2: the unreserved
 * characters A-Z a-z 0-9 - . _ ~ are kept, every other byte becomes %XX with uppercase hex
 * digits (space is "%20", never "+"). This is the exact form exchanges sign. Returns 0.
 */
int q_http_urlencode(struct q_buf *out, const char *s, size_t n);

#endif
