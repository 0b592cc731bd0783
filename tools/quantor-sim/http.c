#include "http.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "q_log.h"
#include "q_mem.h"

#define MAX_LINE 8192         /* request line: above it, 414 */
#define MAX_HEADERS 100       /* header fields: above it, 431 */
#define REQUEST_TIMEOUT 30000 /* ms to receive a whole request once it has started */
#define IDLE_TIMEOUT 75000    /* ms an idle keep-alive connection is kept */
#define LINGER_TIME 2000      /* ms to drain a refused request before closing */
#define LINGER_MAX (8u << 20) /* bytes drained at most */
#define SHUTDOWN_GRACE 2000   /* ms for answers in flight at SIGTERM */
#define READ_CHUNK 65536
#define MAX_DELAY 600000L

enum conn_state {
	C_READ,   /* reading a request (or idle between requests) */
	C_BUSY,   /* a worker has the request */
	C_DELAY,  /* the answer is ready and held until t_due */
	C_WRITE,  /* writing the answer */
	C_LINGER, /* answered a refusal; draining input until EOF or t_due, then closing */
};

struct conn;

/* One request from parse to answer. The worker owns it between submit and done. */
struct job {
	struct job *next;
	struct conn *c;
	struct sim_req req; /* in req.arena, destroyed by the worker after the answer is built */
	struct q_buf out;   /* the serialized answer */
	size_t head_len;
	size_t body_len;
	long delay_ms;
	int keep_alive;
	int head_only;
	int expect_continue;
	int close; /* close after this answer */
	int drop;  /* close without answering */
};

struct conn {
	int fd;
	enum conn_state state;
	int dead; /* closed; swept at the end of the loop iteration */
	int close_after;
	int drop;
	int continue_sent;
	struct q_buf in;
	struct q_buf out;
	size_t out_off;
	struct job *job; /* head parsed, body still arriving */
	size_t need;     /* bytes of in that job takes */
	size_t drained;
	int64_t t_active; /* last progress */
	int64_t t_start;  /* first byte of the request being read; 0 when none */
	int64_t t_due;    /* C_DELAY: write from then; C_LINGER: close then */
};

struct sim_http {
	int lfd;
	int efd; /* eventfd: workers wake the I/O thread */
	int port;
	int nthreads;
	int max_conns;
	int nconns;
	sim_handler_fn fn;
	struct conn **conns;
	struct pollfd *pfds;
	pthread_t *tids;
	int nstarted;
	int64_t accept_pause; /* out of file descriptors: no accept() before then */
	pthread_mutex_t mu;   /* guards the two queues and quit */
	pthread_cond_t cv;
	struct job *q_head, *q_tail; /* waiting for a worker */
	struct job *d_head, *d_tail; /* answered, waiting for the I/O thread */
	int quit;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double
now_precise_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* --- helpers for handlers ------------------------------------------------------------------ */

const char *
sim_req_header(const struct sim_req *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

int
sim_req_is(const struct sim_req *req, const char *mime)
{
	const char *ct = sim_req_header(req, "Content-Type");
	size_t n = strlen(mime);

	if (ct == NULL || strncasecmp(ct, mime, n) != 0)
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %XX-decode n bytes (plus '+' as a space when form is set) into the arena. NULL on a malformed
 * escape or a NUL byte, encoded or not. */
static char *
pct_decode(struct q_arena *a, const char *s, size_t n, int form, size_t *outlen)
{
	char *o = q_arena_alloc(a, n + 1);
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return NULL;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return NULL;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && form) {
			c = ' ';
		}
		if (c == '\0')
			return NULL;
		o[k++] = c;
	}
	o[k] = '\0';
	if (outlen)
		*outlen = k;
	return o;
}

int
sim_form_parse(struct q_arena *a, const char *s, size_t n, struct sim_param **out)
{
	struct sim_param *p;
	size_t max = 1;
	int count = 0;

	for (size_t i = 0; i < n; i++)
		max += s[i] == '&';
	p = q_arena_zalloc(a, max * sizeof(*p));
	for (size_t i = 0; i < n;) {
		const char *seg = s + i, *amp = memchr(seg, '&', n - i), *eq;
		size_t len = amp ? (size_t)(amp - seg) : n - i;

		i += len + 1;
		if (len == 0)
			continue;
		eq = memchr(seg, '=', len);
		p[count].name = pct_decode(a, seg, eq ? (size_t)(eq - seg) : len, 1, NULL);
		if (eq)
			p[count].value = pct_decode(a, eq + 1, len - (size_t)(eq - seg) - 1, 1,
			                            &p[count].value_len);
		else
			p[count].value = "";
		if (p[count].name == NULL || p[count].value == NULL)
			return -1;
		count++;
	}
	*out = p;
	return count;
}

const char *
sim_param_get(const struct sim_param *p, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(p[i].name, name) == 0)
			return p[i].value;
	return NULL;
}

void
sim_reply(struct sim_resp *resp, int status, const char *content_type, const void *body, size_t len)
{
	resp->status = status;
	snprintf(resp->content_type, sizeof(resp->content_type), "%s",
	         content_type ? content_type : "application/json");
	q_buf_reset(&resp->body);
	q_buf_add(&resp->body, body, len);
}

int
sim_reply_json(struct sim_resp *resp, int status, json_t *j, struct q_err *err)
{
	char *s;

	if (j == NULL)
		return q_err_set(err, Q_E_INTERNAL, "response body could not be built");
	s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	if (s == NULL)
		return q_err_set(err, Q_E_INTERNAL, "response body could not be encoded");
	sim_reply(resp, status, "application/json", s, strlen(s));
	free(s);
	return 0;
}

void
sim_reply_error(struct sim_resp *resp, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	json_t *j;
	char *s;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Messages may quote what the client sent: keep them printable ASCII, hence valid JSON. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	j = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (s == NULL)
		q_die("out of memory building an error body");
	sim_reply(resp, status, "application/json", s, strlen(s));
	free(s);
}

void
sim_reply_not_allowed(struct sim_resp *resp, const char *allow)
{
	sim_reply_error(resp, 405, "METHOD_NOT_ALLOWED", "this path takes %s", allow);
	sim_reply_header(resp, "Allow", "%s", allow);
}

void
sim_reply_header(struct sim_resp *resp, const char *name, const char *fmt, ...)
{
	char value[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	if (strpbrk(name, "\r\n: ") || *name == '\0' || strpbrk(value, "\r\n"))
		return;
	q_buf_printf(&resp->headers, "%s: %s\r\n", name, value);
}

int
sim_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned c = *p;
		size_t k;
		unsigned cp, min;

		if (c < 0x80) {
			p++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			k = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if ((size_t)(end - p) <= k)
			return 0;
		for (size_t i = 1; i <= k; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += k + 1;
	}
	return 1;
}

void
sim_http_log_path(char *out, size_t outlen, const char *raw_path)
{
	struct q_buf b = Q_BUF_INIT;
	const char *p = raw_path;
	int after_telegram = 0;

	while (*p && *p != '?') {
		const char *seg;
		size_t n;

		if (*p != '/') {
			q_buf_addch(&b, *p++);
			continue;
		}
		seg = p + 1;
		n = strcspn(seg, "/?");
		if (n >= 3 && strncmp(seg, "bot", 3) == 0 &&
		    (after_telegram || memchr(seg, ':', n) != NULL)) {
			q_buf_adds(&b, "/bot[redacted]");
		} else {
			q_buf_addch(&b, '/');
			q_buf_add(&b, seg, n);
		}
		after_telegram = n == 8 && strncmp(seg, "telegram", 8) == 0;
		p = seg + n;
	}
	snprintf(out, outlen, "%.200s", b.data);
	q_buf_release(&b);
}

/* --- parsing ------------------------------------------------------------------------------- */

static int
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
is_token(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_tchar((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Cut the line at *cur off (in place) and advance past it; strips the CR of a CRLF. NULL when a
 * stray CR is left inside. */
static char *
next_line(char **cur)
{
	char *line = *cur, *nl = strchr(line, '\n');
	size_t n;

	*nl = '\0';
	*cur = nl + 1;
	n = (size_t)(nl - line);
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	return memchr(line, '\r', n) ? NULL : line;
}

struct head_info {
	size_t len;
	size_t body_len;
	int keep_alive;
	int expect_continue;
	int head_only;
};

/* Length of the head at buf (blank line included), 0 when not all there yet. */
static size_t
head_end(const char *buf, size_t scan)
{
	const char *end = buf + scan, *q = memchr(buf, '\n', scan);

	while (q) {
		const char *n = q + 1;

		if (n < end && *n == '\n')
			return (size_t)(n + 1 - buf);
		if (n + 1 < end && n[0] == '\r' && n[1] == '\n')
			return (size_t)(n + 2 - buf);
		q = n < end ? memchr(n, '\n', (size_t)(end - n)) : NULL;
	}
	return 0;
}

static int
parse_request_line(char *line, struct sim_req *req, int *minor, const char **why)
{
	char *sp1 = strchr(line, ' '), *sp2, *version, *target;
	size_t tlen;

	if (sp1 == NULL || (sp2 = strchr(sp1 + 1, ' ')) == NULL) {
		*why = "malformed request line";
		return 400;
	}
	*sp1 = *sp2 = '\0';
	target = sp1 + 1;
	version = sp2 + 1;
	if (!is_token(line, (size_t)(sp1 - line)) || sp1 - line > 32) {
		*why = "malformed request method";
		return 400;
	}
	tlen = strlen(target);
	if (tlen == 0 || target[0] != '/') {
		*why = "the request target must be a path starting with /";
		return 400;
	}
	for (size_t i = 0; i < tlen; i++) {
		unsigned char c = (unsigned char)target[i];

		if (c <= 0x20 || c >= 0x7f || c == '#') {
			*why = "invalid character in the request target";
			return 400;
		}
	}
	if (strcmp(version, "HTTP/1.1") == 0) {
		*minor = 1;
	} else if (strcmp(version, "HTTP/1.0") == 0) {
		*minor = 0;
	} else if (strlen(version) == 8 && strncmp(version, "HTTP/", 5) == 0 && version[5] >= '0' &&
	           version[5] <= '9' && version[6] == '.' && version[7] >= '0' &&
	           version[7] <= '9') {
		*why = "only HTTP/1.0 and HTTP/1.1 are supported";
		return 505;
	} else {
		*why = "malformed HTTP version";
		return 400;
	}
	req->method = line;
	req->target = target;
	return 0;
}

/* Content-Length: 1*DIGIT, at most 18 of them. -1 when malformed. */
static long long
parse_length(const char *v)
{
	long long n = 0;
	size_t len = strlen(v);

	if (len == 0 || len > 18 || strspn(v, "0123456789") != len)
		return -1;
	for (size_t i = 0; i < len; i++)
		n = n * 10 + (v[i] - '0');
	return n;
}

/* "close" / "keep-alive" among the comma-separated Connection options. */
static void
connection_options(const char *v, int *close, int *keep)
{
	while (*v) {
		size_t n;

		v += strspn(v, " \t,");
		n = strcspn(v, ",");
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n == 5 && strncasecmp(v, "close", 5) == 0)
			*close = 1;
		else if (n == 10 && strncasecmp(v, "keep-alive", 10) == 0)
			*keep = 1;
		v += strcspn(v, ",");
	}
}

static int
parse_headers(char *cur, struct sim_req *req, struct sim_header *hs, int minor, struct head_info *h,
              const char **why)
{
	int hosts = 0, te = 0, close = 0, keep = 0;
	long long cl = -1;
	char *line;

	req->headers = hs;
	req->nheaders = 0;
	while ((line = next_line(&cur)) != NULL && *line) {
		char *colon = strchr(line, ':'), *v, *ve;

		if (*line == ' ' || *line == '\t') {
			*why = "obsolete header line folding";
			return 400;
		}
		if (colon == NULL || !is_token(line, (size_t)(colon - line))) {
			*why = "malformed header field";
			return 400;
		}
		if (req->nheaders == MAX_HEADERS) {
			*why = "more than 100 header fields";
			return 431;
		}
		*colon = '\0';
		v = colon + 1;
		v += strspn(v, " \t");
		ve = v + strlen(v);
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			*--ve = '\0';
		for (const char *p = v; *p; p++) {
			unsigned char c = (unsigned char)*p;

			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				*why = "control character in a header value";
				return 400;
			}
		}
		hs[req->nheaders].name = line;
		hs[req->nheaders].value = v;
		req->nheaders++;
		if (strcasecmp(line, "Host") == 0) {
			hosts++;
		} else if (strcasecmp(line, "Content-Length") == 0) {
			long long n = parse_length(v);

			if (n < 0 || (cl >= 0 && n != cl)) {
				*why = "invalid Content-Length";
				return 400;
			}
			cl = n;
		} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
			te = 1;
		} else if (strcasecmp(line, "Connection") == 0) {
			connection_options(v, &close, &keep);
		} else if (strcasecmp(line, "Expect") == 0) {
			if (strcasecmp(v, "100-continue") != 0) {
				*why = "only Expect: 100-continue is supported";
				return 417;
			}
			h->expect_continue = 1;
		}
	}
	if (line == NULL) {
		*why = "stray CR in the request head";
		return 400;
	}
	if ((minor == 1 && hosts != 1) || hosts > 1) {
		*why = hosts ? "more than one Host header" : "missing Host header";
		return 400;
	}
	if (te) {
		*why = cl >= 0 ? "both Transfer-Encoding and Content-Length"
		               : "chunked request bodies are not supported: send Content-Length";
		return cl >= 0 ? 400 : 411;
	}
	if (cl > (long long)SIM_MAX_BODY) {
		*why = "request body larger than 1 MiB";
		return 413;
	}
	h->body_len = cl > 0 ? (size_t)cl : 0;
	h->keep_alive = minor == 1 ? !close : keep && !close;
	return 0;
}

/*
 * Parse the request head at the start of buf (len bytes) into req, in req->arena. Returns 0 when
 * a complete head was parsed, 1 when more bytes are needed, or the HTTP status to refuse the
 * request with (*why says why).
 */
static int
parse_head(const char *buf, size_t len, struct sim_req *req, struct head_info *h, const char **why)
{
	size_t scan = len < SIM_MAX_HEAD ? len : SIM_MAX_HEAD, n;
	char *copy, *cur, *line, *q;
	struct sim_header *hs;
	int minor = 1, rc;

	memset(h, 0, sizeof(*h));
	if (memchr(buf, '\n', scan < MAX_LINE ? scan : MAX_LINE) == NULL) {
		if (len <= MAX_LINE)
			return 1;
		*why = "request line longer than 8 KiB";
		return 414;
	}
	n = head_end(buf, scan);
	if (n == 0) {
		if (len < SIM_MAX_HEAD)
			return 1;
		*why = "request head larger than 16 KiB";
		return 431;
	}
	if (memchr(buf, '\0', n) != NULL) {
		*why = "NUL byte in the request head";
		return 400;
	}
	h->len = n;
	copy = q_arena_alloc(req->arena, n + 1);
	memcpy(copy, buf, n);
	copy[n] = '\0';
	cur = copy;
	line = next_line(&cur);
	if (line == NULL) {
		*why = "stray CR in the request line";
		return 400;
	}
	if ((rc = parse_request_line(line, req, &minor, why)) != 0)
		return rc;
	hs = q_arena_alloc(req->arena, MAX_HEADERS * sizeof(*hs));
	if ((rc = parse_headers(cur, req, hs, minor, h, why)) != 0)
		return rc;
	h->head_only = strcmp(req->method, "HEAD") == 0;
	q = strchr(req->target, '?');
	req->raw_path = q_arena_strndup(req->arena, req->target,
	                                q ? (size_t)(q - req->target) : strlen(req->target));
	req->query = q ? q + 1 : "";
	req->path = pct_decode(req->arena, req->raw_path, strlen(req->raw_path), 0, NULL);
	if (req->path == NULL) {
		*why = "malformed percent-encoding in the path";
		return 400;
	}
	req->sub = req->path;
	req->body = "";
	return 0;
}

/* --- responses ----------------------------------------------------------------------------- */

static const char *
reason(int status)
{
	static const struct {
		int status;
		const char *text;
	} reasons[] = {
	        {100, "Continue"},
	        {200, "OK"},
	        {201, "Created"},
	        {202, "Accepted"},
	        {204, "No Content"},
	        {400, "Bad Request"},
	        {401, "Unauthorized"},
	        {403, "Forbidden"},
	        {404, "Not Found"},
	        {405, "Method Not Allowed"},
	        {408, "Request Timeout"},
	        {409, "Conflict"},
	        {411, "Length Required"},
	        {413, "Content Too Large"},
	        {414, "URI Too Long"},
	        {415, "Unsupported Media Type"},
	        {417, "Expectation Failed"},
	        {418, "I'm a teapot"},
	        {422, "Unprocessable Content"},
	        {429, "Too Many Requests"},
	        {431, "Request Header Fields Too Large"},
	        {500, "Internal Server Error"},
	        {501, "Not Implemented"},
	        {502, "Bad Gateway"},
	        {503, "Service Unavailable"},
	        {504, "Gateway Timeout"},
	        {505, "HTTP Version Not Supported"},
	};

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].text;
	return "Status";
}

/* Machine code for the core's own refusals. */
static const char *
status_code_name(int status)
{
	switch (status) {
	case 408:
		return "REQUEST_TIMEOUT";
	case 411:
		return "LENGTH_REQUIRED";
	case 413:
		return "PAYLOAD_TOO_LARGE";
	case 414:
		return "URI_TOO_LONG";
	case 417:
		return "EXPECTATION_FAILED";
	case 431:
		return "HEADERS_TOO_LARGE";
	case 505:
		return "HTTP_VERSION_NOT_SUPPORTED";
	default:
		return "BAD_REQUEST";
	}
}

static void
resp_init(struct sim_resp *r)
{
	memset(r, 0, sizeof(*r));
	q_buf_init(&r->headers);
	q_buf_init(&r->body);
}

static void
resp_release(struct sim_resp *r)
{
	q_buf_release(&r->headers);
	q_buf_release(&r->body);
}

static void
serialize(struct q_buf *out, const struct sim_resp *r, int keep_alive, int head_only)
{
	int bodyless = r->status == 204 || r->status == 304;

	q_buf_printf(out, "HTTP/1.1 %d %s\r\nServer: quantor-sim\r\n", r->status,
	             reason(r->status));
	if (!bodyless)
		q_buf_printf(out, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		             r->content_type[0] ? r->content_type : "application/json",
		             r->body.len);
	q_buf_printf(out, "Cache-Control: no-store\r\nConnection: %s\r\n",
	             keep_alive ? "keep-alive" : "close");
	q_buf_add(out, r->headers.data, r->headers.len);
	q_buf_adds(out, "\r\n");
	if (!head_only && !bodyless)
		q_buf_add(out, r->body.data, r->body.len);
}

/* --- the worker pool ----------------------------------------------------------------------- */

static struct job *
job_new(struct conn *c)
{
	struct job *j = q_calloc(1, sizeof(*j));

	j->c = c;
	j->req.arena = q_arena_new();
	q_buf_init(&j->out);
	return j;
}

static void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	q_arena_destroy(j->req.arena);
	q_buf_release(&j->out);
	free(j);
}

static void
log_request(const struct job *j, int status, size_t bytes, double ms)
{
	char path[256], st[16], nb[32], t[32], d[32];

	sim_http_log_path(path, sizeof(path), j->req.raw_path);
	snprintf(st, sizeof(st), "%d", status);
	snprintf(nb, sizeof(nb), "%zu", bytes);
	snprintf(t, sizeof(t), "%.1f", ms);
	snprintf(d, sizeof(d), "%ld", j->delay_ms);
	if (j->drop)
		q_logkv(Q_LOG_INFO, "sim.request", "method", j->req.method, "path", path, "status",
		        st, "ms", t, "delay_ms", d, "dropped", "1", (char *)NULL);
	else if (j->delay_ms)
		q_logkv(Q_LOG_INFO, "sim.request", "method", j->req.method, "path", path, "status",
		        st, "bytes", nb, "ms", t, "delay_ms", d, (char *)NULL);
	else
		q_logkv(Q_LOG_INFO, "sim.request", "method", j->req.method, "path", path, "status",
		        st, "bytes", nb, "ms", t, (char *)NULL);
}

static void
run_job(struct sim_http *s, struct job *j)
{
	struct sim_resp resp;
	struct q_err err = {0};
	double t0 = now_precise_ms();
	int rc;

	resp_init(&resp);
	rc = s->fn(&j->req, &resp, &err);
	if (rc < 0 || resp.status < 100 || resp.status > 599) {
		char where[256], path[256];

		if (err.code == Q_OK)
			q_err_set(&err, Q_E_INTERNAL, "the handler set no response status");
		q_err_where(&err, where, sizeof(where));
		sim_http_log_path(path, sizeof(path), j->req.raw_path);
		q_logkv(Q_LOG_ERROR, "sim.handler_failed", "path", path, "where", where, "error",
		        err.msg, (char *)NULL);
		resp_release(&resp);
		resp_init(&resp);
		sim_reply_error(&resp, 500, "INTERNAL", "internal error; see the simulator's log");
	}
	j->delay_ms = resp.delay_ms < 0 ? 0 : resp.delay_ms > MAX_DELAY ? MAX_DELAY : resp.delay_ms;
	j->drop = resp.drop;
	j->close = !j->keep_alive || resp.close;
	if (!j->drop)
		serialize(&j->out, &resp, !j->close, j->head_only);
	log_request(j, resp.status, resp.body.len, now_precise_ms() - t0);
	resp_release(&resp);
	q_arena_destroy(j->req.arena);
	j->req.arena = NULL;
}

static void *
worker(void *arg)
{
	struct sim_http *s = arg;
	const uint64_t one = 1;

	for (;;) {
		struct job *j;

		pthread_mutex_lock(&s->mu);
		while (!s->quit && s->q_head == NULL)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->quit) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		j = s->q_head;
		s->q_head = j->next;
		if (s->q_head == NULL)
			s->q_tail = NULL;
		pthread_mutex_unlock(&s->mu);

		run_job(s, j);

		pthread_mutex_lock(&s->mu);
		j->next = NULL;
		if (s->d_tail)
			s->d_tail->next = j;
		else
			s->d_head = j;
		s->d_tail = j;
		pthread_mutex_unlock(&s->mu);
		/* An eventfd write only fails when the counter would overflow, and then the
		 * I/O thread is already woken. */
		if (write(s->efd, &one, sizeof(one)) < 0) {
		}
	}
	return NULL;
}

static void
submit(struct sim_http *s, struct job *j)
{
	pthread_mutex_lock(&s->mu);
	j->next = NULL;
	if (s->q_tail)
		s->q_tail->next = j;
	else
		s->q_head = j;
	s->q_tail = j;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* --- connections --------------------------------------------------------------------------- */

static void
conn_kill(struct conn *c)
{
	if (c->dead)
		return;
	c->dead = 1;
	close(c->fd);
	c->fd = -1;
}

static void
conn_free(struct conn *c)
{
	conn_kill(c);
	job_free(c->job);
	q_buf_release(&c->in);
	q_buf_release(&c->out);
	free(c);
}

/* Answer with a refusal of the core's own and close once it is written. */
static void
refuse(struct conn *c, int status, const char *why)
{
	struct sim_resp resp;
	char st[16];

	resp_init(&resp);
	sim_reply_error(&resp, status, status_code_name(status), "%s", why);
	serialize(&c->out, &resp, 0, 0);
	resp_release(&resp);
	job_free(c->job);
	c->job = NULL;
	q_buf_reset(&c->in);
	c->close_after = 1;
	c->state = C_WRITE;
	snprintf(st, sizeof(st), "%d", status);
	q_logkv(Q_LOG_INFO, "sim.request", "method", "-", "path", "-", "status", st, "refused", why,
	        (char *)NULL);
}

static void
consume(struct q_buf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	q_buf_truncate(b, b->len - n);
}

/* Parse what has arrived; hand a complete request to the pool. */
static void
conn_input(struct sim_http *s, struct conn *c, int64_t now)
{
	while (c->state == C_READ) {
		struct head_info h;
		const char *why = NULL;
		struct job *j;
		int rc;

		if (c->job == NULL) {
			size_t skip = strspn(c->in.data, "\r\n");

			/* Empty lines before a request line are ignored (RFC 9112 section 2.2). */
			if (skip > c->in.len)
				skip = c->in.len;
			consume(&c->in, skip);
			if (c->in.len == 0) {
				c->t_start = 0;
				return;
			}
			if (c->t_start == 0)
				c->t_start = now;
			j = job_new(c);
			rc = parse_head(c->in.data, c->in.len, &j->req, &h, &why);
			if (rc == 1) {
				job_free(j);
				return;
			}
			if (rc != 0) {
				job_free(j);
				refuse(c, rc, why);
				return;
			}
			j->head_len = h.len;
			j->body_len = h.body_len;
			j->keep_alive = h.keep_alive;
			j->head_only = h.head_only;
			j->expect_continue = h.expect_continue;
			c->job = j;
			c->need = h.len + h.body_len;
			c->continue_sent = 0;
		}
		j = c->job;
		if (c->in.len < c->need) {
			if (j->expect_continue && !c->continue_sent) {
				q_buf_adds(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
				c->continue_sent = 1;
			}
			return;
		}
		if (j->body_len) {
			char *body = q_arena_alloc(j->req.arena, j->body_len + 1);

			memcpy(body, c->in.data + j->head_len, j->body_len);
			body[j->body_len] = '\0';
			j->req.body = body;
			j->req.body_len = j->body_len;
		}
		j->req.received_ms = sim_clock_ms();
		consume(&c->in, c->need);
		c->job = NULL;
		c->need = 0;
		c->t_start = 0;
		c->state = C_BUSY;
		submit(s, j);
	}
}

/* Returns -1 when the connection is to be closed. */
static int
conn_read(struct sim_http *s, struct conn *c, int64_t now)
{
	while (c->state == C_READ) {
		ssize_t n;

		q_buf_grow(&c->in, READ_CHUNK);
		n = recv(c->fd, c->in.data + c->in.len, READ_CHUNK, 0);
		if (n == 0)
			return -1;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		}
		c->in.len += (size_t)n;
		c->in.data[c->in.len] = '\0';
		c->t_active = now;
		conn_input(s, c, now);
	}
	return 0;
}

static int
conn_linger(struct conn *c)
{
	char buf[16384];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

		if (n == 0)
			return -1;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		}
		c->drained += (size_t)n;
		if (c->drained > LINGER_MAX)
			return -1;
	}
}

static int
conn_write(struct sim_http *s, struct conn *c, int64_t now)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
		                 MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		}
		c->out_off += (size_t)n;
		c->t_active = now;
	}
	q_buf_reset(&c->out);
	c->out_off = 0;
	if (c->state != C_WRITE)
		return 0;
	if (c->close_after) {
		/* Lingering close: the client reads our answer instead of a reset caused by the
		 * unread rest of its request. */
		shutdown(c->fd, SHUT_WR);
		c->state = C_LINGER;
		c->t_due = now + LINGER_TIME;
		return 0;
	}
	c->state = C_READ;
	c->t_active = now;
	conn_input(s, c, now); /* a pipelined request may be waiting */
	return 0;
}

static void
sweep(struct sim_http *s)
{
	for (int i = 0; i < s->nconns;) {
		if (s->conns[i]->dead && s->conns[i]->state != C_BUSY) {
			conn_free(s->conns[i]);
			s->conns[i] = s->conns[--s->nconns];
		} else {
			i++;
		}
	}
}

/* Close the idle connection that waited longest, to make room. -1 when none is idle. */
static int
evict_idle(struct sim_http *s)
{
	struct conn *victim = NULL;

	for (int i = 0; i < s->nconns; i++) {
		struct conn *c = s->conns[i];

		if (c->dead || c->state != C_READ || c->in.len || c->job)
			continue;
		if (victim == NULL || c->t_active < victim->t_active)
			victim = c;
	}
	if (victim == NULL)
		return -1;
	conn_kill(victim);
	return 0;
}

static void
accept_all(struct sim_http *s, int64_t now)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
		struct conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				if (evict_idle(s) == 0) {
					sweep(s);
					continue;
				}
				q_log_warn("sim.accept", "error=out_of_descriptors");
				s->accept_pause = now + 100;
			}
			return;
		}
		if (s->nconns >= s->max_conns) {
			if (evict_idle(s) < 0) {
				close(fd);
				continue;
			}
			sweep(s);
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = q_calloc(1, sizeof(*c));
		c->fd = fd;
		c->state = C_READ;
		c->t_active = now;
		q_buf_init(&c->in);
		q_buf_init(&c->out);
		s->conns[s->nconns++] = c;
	}
}

/* Move answered jobs to their connections. */
static void
collect(struct sim_http *s, int64_t now)
{
	struct job *j, *next;
	uint64_t v;

	if (read(s->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing was signalled, the queue may still hold work. */
	}
	pthread_mutex_lock(&s->mu);
	j = s->d_head;
	s->d_head = s->d_tail = NULL;
	pthread_mutex_unlock(&s->mu);
	for (; j; j = next) {
		struct conn *c = j->c;

		next = j->next;
		q_buf_add(&c->out, j->out.data, j->out.len);
		c->close_after = j->close;
		c->drop = j->drop;
		c->t_active = now;
		c->state = C_WRITE;
		if (j->delay_ms > 0) {
			c->state = C_DELAY;
			c->t_due = now + j->delay_ms;
		} else if (c->drop || conn_write(s, c, now) < 0) {
			conn_kill(c);
		}
		job_free(j);
	}
}

static void
timers(struct sim_http *s, int64_t now)
{
	for (int i = 0; i < s->nconns; i++) {
		struct conn *c = s->conns[i];

		if (c->dead)
			continue;
		switch (c->state) {
		case C_DELAY:
			if (now < c->t_due)
				break;
			if (c->drop) {
				conn_kill(c);
				break;
			}
			c->state = C_WRITE;
			if (conn_write(s, c, now) < 0)
				conn_kill(c);
			break;
		case C_LINGER:
			if (now >= c->t_due)
				conn_kill(c);
			break;
		case C_READ:
			if (c->t_start && now - c->t_start > REQUEST_TIMEOUT)
				refuse(c, 408, "request not received in full within 30 s");
			else if (!c->t_start && now - c->t_active > IDLE_TIMEOUT)
				conn_kill(c);
			break;
		default:
			break;
		}
	}
}

static int
poll_timeout(const struct sim_http *s, int64_t now)
{
	int64_t t = 1000; /* the coarse timeouts are checked at least once a second */

	for (int i = 0; i < s->nconns; i++)
		if (s->conns[i]->state == C_DELAY && s->conns[i]->t_due - now < t)
			t = s->conns[i]->t_due - now;
	return t < 0 ? 0 : (int)t;
}

/* --- the server ---------------------------------------------------------------------------- */

struct sim_http *
sim_http_listen(const struct sim_http_opts *o, sim_handler_fn fn, struct q_err *err)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct sim_http *s;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		q_err_set(err, Q_E_IO, "socket: %s", strerror(errno));
		return NULL;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)o->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 512) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		q_err_set(err, Q_E_IO, "listen on 127.0.0.1:%d: %s", o->port, strerror(errno));
		close(fd);
		return NULL;
	}
	s = q_calloc(1, sizeof(*s));
	s->lfd = fd;
	s->port = ntohs(sa.sin_port);
	s->fn = fn;
	s->nthreads = o->threads > 0 ? o->threads : 8;
	s->max_conns = o->max_conns > 0 ? o->max_conns : 512;
	s->conns = q_calloc((size_t)s->max_conns, sizeof(struct conn *));
	s->pfds = q_calloc((size_t)s->max_conns + 3, sizeof(*s->pfds));
	s->tids = q_calloc((size_t)s->nthreads, sizeof(*s->tids));
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->efd < 0)
		q_die("eventfd: %s", strerror(errno));
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	return s;
}

int
sim_http_port(const struct sim_http *s)
{
	return s->port;
}

static short
events_for(const struct conn *c)
{
	switch (c->state) {
	case C_READ:
		return (short)(POLLIN | (c->out.len > c->out_off ? POLLOUT : 0));
	case C_WRITE:
		return POLLOUT;
	case C_LINGER:
		return POLLIN;
	default:
		return 0;
	}
}

static void
handle_events(struct sim_http *s, int i, short re, int64_t now)
{
	struct conn *c = s->conns[i];

	if (c->dead || re == 0)
		return;
	/* POLLHUP: both directions are closed, so nothing can be written any more. */
	if ((re & (POLLERR | POLLNVAL)) ||
	    ((re & POLLHUP) && c->state != C_READ && c->state != C_LINGER)) {
		conn_kill(c);
		return;
	}
	if ((re & (POLLIN | POLLHUP)) && c->state == C_LINGER) {
		if (conn_linger(c) < 0)
			conn_kill(c);
		return;
	}
	if ((re & POLLOUT) && (c->state == C_WRITE || c->state == C_READ) &&
	    conn_write(s, c, now) < 0) {
		conn_kill(c);
		return;
	}
	if ((re & (POLLIN | POLLHUP)) && c->state == C_READ && conn_read(s, c, now) < 0)
		conn_kill(c);
}

/* After SIGTERM: close what holds no answer; 1 once nothing is left in flight. */
static int
drained(struct sim_http *s)
{
	int busy = 0;

	for (int i = 0; i < s->nconns; i++) {
		struct conn *c = s->conns[i];

		if (c->dead)
			continue;
		if (c->state == C_BUSY || c->state == C_WRITE)
			busy = 1;
		else
			conn_kill(c);
	}
	return !busy;
}

static void
stop_workers(struct sim_http *s)
{
	struct job *j, *next;

	pthread_mutex_lock(&s->mu);
	s->quit = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; i < s->nstarted; i++)
		pthread_join(s->tids[i], NULL);
	s->nstarted = 0;
	/* Nothing runs any more: what is left in the queues is freed with its connection. */
	for (j = s->q_head; j; j = next) {
		next = j->next;
		j->c->state = C_READ;
		job_free(j);
	}
	for (j = s->d_head; j; j = next) {
		next = j->next;
		j->c->state = C_READ;
		job_free(j);
	}
	s->q_head = s->q_tail = s->d_head = s->d_tail = NULL;
	for (int i = 0; i < s->nconns; i++)
		conn_free(s->conns[i]);
	s->nconns = 0;
}

int
sim_http_run(struct sim_http *s, struct q_err *err)
{
	sigset_t set, old;
	int sfd, stopping = 0, rc = 0;
	int64_t deadline = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return q_err_set(err, Q_E_IO, "signalfd: %s", strerror(errno));
	}
	for (int i = 0; i < s->nthreads; i++) {
		if (pthread_create(&s->tids[i], NULL, worker, s) != 0)
			q_die("pthread_create: cannot start worker %d", i);
		s->nstarted++;
	}
	for (;;) {
		int64_t now = now_ms();
		int npoll, n;

		if (stopping && (drained(s) || now >= deadline))
			break;
		s->pfds[0] = (struct pollfd){.fd = s->efd, .events = POLLIN};
		s->pfds[1] = (struct pollfd){.fd = sfd, .events = POLLIN};
		s->pfds[2] = (struct pollfd){
		        .fd = !stopping && now >= s->accept_pause ? s->lfd : -1, .events = POLLIN};
		npoll = s->nconns;
		for (int i = 0; i < npoll; i++) {
			short ev = s->conns[i]->dead ? 0 : events_for(s->conns[i]);

			s->pfds[3 + i] =
			        (struct pollfd){.fd = ev ? s->conns[i]->fd : -1, .events = ev};
		}
		n = poll(s->pfds, (nfds_t)npoll + 3, poll_timeout(s, now));
		if (n < 0 && errno != EINTR) {
			rc = q_err_set(err, Q_E_IO, "poll: %s", strerror(errno));
			break;
		}
		now = now_ms();
		if (n > 0 && (s->pfds[1].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si) && !stopping) {
				q_log_info("sim.stopping", "signal=%u", si.ssi_signo);
				stopping = 1;
				deadline = now + SHUTDOWN_GRACE;
			}
		}
		if (n > 0) {
			for (int i = 0; i < npoll; i++)
				handle_events(s, i, s->pfds[3 + i].revents, now);
			if (s->pfds[2].revents & POLLIN)
				accept_all(s, now);
		}
		collect(s, now);
		timers(s, now);
		sweep(s);
	}
	stop_workers(s);
	close(sfd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

void
sim_http_free(struct sim_http *s)
{
	if (s == NULL)
		return;
	if (s->nstarted)
		stop_workers(s);
	for (int i = 0; i < s->nconns; i++)
		conn_free(s->conns[i]);
	close(s->lfd);
	close(s->efd);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->conns);
	free(s->pfds);
	free(s->tids);
	free(s);
}
