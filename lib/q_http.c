#include "q_http.h"
#include "q_mem.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct q_http {
	CURL *curl;
};

/* State of one q_http_do(), shared with the curl callbacks. */
struct xfer {
	struct q_http_resp *resp;
	size_t max;
	size_t req_body_len;
	size_t req_body_out; /* request body bytes curl has written to the connection */
	int req_head_out;    /* some of the request head has been written */
	int too_big;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void
global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int
q_http_global_init(void)
{
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		q_die("curl_global_init: %s", curl_easy_strerror(global_rc));
	return 0;
}

struct q_http *
q_http_new(void)
{
	struct q_http *h;

	q_http_global_init();
	h = q_calloc(1, sizeof(*h));
	h->curl = curl_easy_init();
	if (h->curl == NULL)
		q_die("curl_easy_init failed");
	return h;
}

void
q_http_free(struct q_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h);
}

void
q_http_resp_init(struct q_http_resp *r)
{
	memset(r, 0, sizeof(*r));
	q_buf_init(&r->body);
	q_buf_init(&r->headers);
}

void
q_http_resp_release(struct q_http_resp *r)
{
	q_buf_release(&r->body);
	q_buf_release(&r->headers);
	q_http_resp_init(r);
}

static size_t
on_body(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n; /* size is always 1 */

	/* Returning less than len makes curl abort with CURLE_WRITE_ERROR. */
	if (len > x->max - x->resp->body.len) {
		x->too_big = 1;
		return 0;
	}
	q_buf_add(&x->resp->body, p, len);
	return len;
}

static size_t
on_header(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n; /* size is always 1 */

	/* A status line starts a response; interim ones (100 Continue) come first. Keep the last. */
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0)
		q_buf_reset(&x->resp->headers);
	if (len > x->max - x->resp->headers.len) {
		x->too_big = 1;
		return 0;
	}
	q_buf_add(&x->resp->headers, p, len);
	return len;
}

/*
 * curl reports here what it has written to the connection, which is how we know whether the
 * request went out in full. Only the byte counts are used: the head holds keys and signatures.
 * Any doubt reads as sent (a head cut short, a retry on a fresh connection): a request wrongly
 * taken as unsent could be sent twice.
 */
static int
on_debug(CURL *c, curl_infotype type, char *data, size_t size, void *ud)
{
	struct xfer *x = ud;

	(void)c;
	(void)data;
	if (type == CURLINFO_HEADER_OUT)
		x->req_head_out = 1;
	else if (type == CURLINFO_DATA_OUT)
		x->req_body_out += size;
	return 0;
}

/* A path segment "bot<digits>:<secret>" is a Telegram bot token. */
static int
is_bot_token(const char *seg, size_t n)
{
	size_t i = 3;

	if (n < 5 || strncmp(seg, "bot", 3) != 0)
		return 0;
	while (i < n && seg[i] >= '0' && seg[i] <= '9')
		i++;
	return i > 3 && i < n && seg[i] == ':';
}

static void
add_safe_path(struct q_buf *out, const char *path)
{
	while (*path) {
		size_t n = strcspn(path + 1, "/") + 1;

		if (*path == '/' && is_bot_token(path + 1, n - 1))
			q_buf_adds(out, "/bot[redacted]");
		else
			q_buf_add(out, path, n);
		path += n;
	}
}

/* "scheme://host:port/path" of a parsed URL, for messages: no user info, query or fragment. */
static void
describe_url(struct q_buf *out, CURLU *u)
{
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;

	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	q_buf_printf(out, "%s://%s:%s", scheme ? scheme : "?", host ? host : "?",
	             port ? port : "?");
	add_safe_path(out, path ? path : "/");
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
}

static int
valid_method(const char *m)
{
	size_t n = strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");

	return n > 0 && n <= 16 && m[n] == '\0';
}

static int
set_method(CURL *c, const char *m, const struct q_http_req *req)
{
	CURLcode rc = CURLE_OK;

	if (strcmp(m, "HEAD") == 0)
		return curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (strcmp(m, "GET") == 0 && req->body_len == 0)
		return curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	if (strcmp(m, "POST") != 0)
		rc = curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
	/* POST always carries a body (Content-Length: 0 when empty); other methods only when
	 * given one, so a bare DELETE gets no Content-Type. */
	if (rc == CURLE_OK && (req->body_len > 0 || strcmp(m, "POST") == 0)) {
		rc = curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(c, CURLOPT_POSTFIELDS,
			                      req->body_len ? (const char *)req->body : "");
	}
	return rc;
}

static CURLcode
set_options(CURL *c, CURLU *u, struct curl_slist *hdrs, struct xfer *x, const char *method,
            const struct q_http_req *req)
{
	long conn_ms = req->connect_timeout_ms, total_ms = req->timeout_ms;
	CURLcode rc = CURLE_OK;

	if (conn_ms <= 0)
		conn_ms = Q_HTTP_CONNECT_TIMEOUT_MS;
	if (total_ms <= 0)
		total_ms = Q_HTTP_TIMEOUT_MS;
#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (rc == CURLE_OK)                                                                \
			rc = curl_easy_setopt(c, opt, val);                                        \
	} while (0)
	SET(CURLOPT_CURLU, u);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_USERAGENT, "quantor");
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_CONNECTTIMEOUT_MS, conn_ms);
	SET(CURLOPT_TIMEOUT_MS, total_ms);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max);
	SET(CURLOPT_FRESH_CONNECT, req->once ? 1L : 0L);
	SET(CURLOPT_FORBID_REUSE, req->once ? 1L : 0L);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, x);
	/* VERBOSE only routes curl's trace to on_debug; nothing reaches stderr. */
	SET(CURLOPT_DEBUGFUNCTION, on_debug);
	SET(CURLOPT_DEBUGDATA, x);
	SET(CURLOPT_VERBOSE, 1L);
#undef SET
	if (rc == CURLE_OK)
		rc = (CURLcode)set_method(c, method, req);
	return rc;
}

static int
fail(struct q_err *err, CURL *c, CURLcode rc, const struct xfer *x, const char *method,
     const char *where)
{
	long oserr = 0;
	char eb[128];

	if (x->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		return q_err_set(err, Q_E_HTTP, "%s %s: response exceeds %zu bytes", method, where,
		                 x->max);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return q_err_set(err, Q_E_TIMEOUT, "%s %s: timed out after %.0f ms (%s)", method,
		                 where, x->resp->seconds * 1000,
		                 x->resp->sent ? "request sent, outcome unknown"
		                               : "request not sent");
	/* curl_easy_strerror() is a fixed text per code; curl's error buffer is not used because it
	 * may quote parts of the request. */
	curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
	if (oserr != 0)
		return q_err_set(err, Q_E_HTTP, "%s %s: %s (%s)", method, where,
		                 curl_easy_strerror(rc), strerror_r((int)oserr, eb, sizeof(eb)));
	return q_err_set(err, Q_E_HTTP, "%s %s: %s", method, where, curl_easy_strerror(rc));
}

int
q_http_do(struct q_http *h, struct q_http_resp *resp, const struct q_http_req *req,
          struct q_err *err)
{
	const char *method = req->method ? req->method : "GET";
	struct xfer x = {0};
	struct curl_slist *hdrs = NULL;
	struct q_buf where = Q_BUF_INIT;
	char *scheme = NULL;
	curl_off_t usec = 0;
	CURLU *u = NULL;
	CURLcode rc;
	int ret = -1;

	q_buf_reset(&resp->body);
	q_buf_reset(&resp->headers);
	resp->status = 0;
	resp->sent = 0;
	resp->seconds = 0;
	x.resp = resp;
	x.max = req->max_response ? req->max_response : Q_HTTP_MAX_RESPONSE;
	x.req_body_len = req->body_len;

	if (!valid_method(method)) {
		q_err_set(err, Q_E_HTTP, "invalid HTTP method");
		goto out;
	}
	u = curl_url();
	if (u == NULL)
		q_die("curl_url: out of memory");
	if (req->url == NULL || curl_url_set(u, CURLUPART_URL, req->url, 0) != CURLUE_OK) {
		q_err_set(err, Q_E_HTTP, "%s: malformed URL", method);
		goto out;
	}
	describe_url(&where, u);
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		q_err_set(err, Q_E_HTTP, "%s %s: only http and https are allowed", method,
		          where.data);
		goto out;
	}
	for (size_t i = 0; req->headers && req->headers[i]; i++) {
		if (strpbrk(req->headers[i], "\r\n")) {
			q_err_set(err, Q_E_HTTP, "%s %s: header %zu contains a line break", method,
			          where.data, i);
			goto out;
		}
		hdrs = curl_slist_append(hdrs, req->headers[i]);
		if (hdrs == NULL)
			q_die("curl_slist_append: out of memory");
	}
	/* No "Expect: 100-continue" round trip before large bodies. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (hdrs == NULL)
		q_die("curl_slist_append: out of memory");

	curl_easy_reset(h->curl); /* keeps the connection cache, so connections are reused */
	rc = set_options(h->curl, u, hdrs, &x, method, req);
	if (rc != CURLE_OK) {
		q_err_set(err, Q_E_HTTP, "%s %s: %s", method, where.data, curl_easy_strerror(rc));
		goto out;
	}
	rc = curl_easy_perform(h->curl);
	resp->sent = x.req_head_out && x.req_body_out >= x.req_body_len;
	if (curl_easy_getinfo(h->curl, CURLINFO_TOTAL_TIME_T, &usec) == CURLE_OK)
		resp->seconds = (double)usec / 1e6;
	if (rc != CURLE_OK) {
		fail(err, h->curl, rc, &x, method, where.data);
		goto out;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	ret = 0;
out:
	/* The handle must not keep pointers to the URL, headers or callbacks' state. */
	if (u)
		curl_easy_reset(h->curl);
	curl_slist_free_all(hdrs);
	curl_free(scheme);
	curl_url_cleanup(u);
	q_buf_release(&where);
	return ret;
}

const char *
q_http_resp_header(const struct q_http_resp *r, const char *name, char *out, size_t outlen)
{
	const char *p = r->headers.data, *end = p + r->headers.len;
	size_t nl = strlen(name);

	if (outlen == 0)
		return NULL;
	out[0] = '\0';
	/* Skip the status line. */
	p = memchr(p, '\n', (size_t)(end - p));
	while (p && ++p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *v, *ve;

		ve = eol ? eol : end;
		if ((size_t)(ve - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
			v = p + nl + 1;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if ((size_t)(ve - v) >= outlen)
				return NULL;
			memcpy(out, v, (size_t)(ve - v));
			out[ve - v] = '\0';
			return out;
		}
		p = eol;
	}
	return NULL;
}

int
q_http_urlencode(struct q_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	q_buf_grow(out, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			q_buf_addch(out, (char)c);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};

			q_buf_add(out, e, 3);
		}
	}
	return 0;
}
