#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "q_buf.h"
#include "q_err.h"
#include "q_http.h"

/*
 * A tiny HTTP/1.1 server in a child process, one per test (Criterion runs each test in its
 * own process; .init starts the server, .fini kills and reaps it even after a failed assertion).
 * It serves one connection at a time, keep-alive included:
 *   /ok           200, X-Test: yes, X-Conn-Req: <requests so far on this connection>, "hello\n"
 *   /big          200 with a 5000-byte body and Content-Length
 *   /bigstream    200 with a 5000-byte body, no Content-Length (ends at close)
 *   /bighead      200 with a 3000-byte header
 *   /slow         reads the request, sleeps 3 s, then answers
 *   /status/N     status N, body "status N"
 *   /redirect     302 to /ok
 *   /interim      an unsolicited "100 Continue" before a 200 like /ok's
 *   /echo         the request body back, with X-Method, X-Target (request target as received),
 *                 X-Echo-Req (request header X-Req), X-Content-Type and X-Content-Length
 */
static pid_t srv_pid = -1;
static int srv_port;

struct conn {
	int fd;
	char *buf;
	size_t len, cap;
	int nreq;
};

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
conn_fill(struct conn *c)
{
	ssize_t r;

	if (c->len == c->cap) {
		c->cap *= 2;
		c->buf = realloc(c->buf, c->cap);
	}
	do
		r = read(c->fd, c->buf + c->len, c->cap - c->len);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return 0;
	c->len += (size_t)r;
	return 1;
}

/* Value of header name in the request head [head, end), or "" */
static void
req_header(const char *head, const char *end, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);

	out[0] = '\0';
	for (const char *p = head; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
			const char *v = p + nl + 1, *ve = eol;

			while (*v == ' ')
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
				ve--;
			snprintf(out, outlen, "%.*s", (int)(ve - v), v);
			return;
		}
		p = eol + 1;
	}
}

static void
respond(int fd, int status, const char *extra, const char *body, size_t blen, int with_len,
        int head_only)
{
	char h[8192];
	int n = snprintf(h, sizeof(h), "HTTP/1.1 %d X\r\n%s", status, extra);

	if (with_len)
		n += snprintf(h + n, sizeof(h) - (size_t)n, "Content-Length: %zu\r\n", blen);
	n += snprintf(h + n, sizeof(h) - (size_t)n, "\r\n");
	if (write_all(fd, h, (size_t)n) == 0 && !head_only)
		write_all(fd, body, blen);
}

/* Serve one request from c; 0 when the connection is to be closed. */
static int
serve_one(struct conn *c)
{
	char method[16], target[2048], path[2048], xreq[256], ctype[256], clen[32], extra[8192];
	char *hend, *body;
	size_t head_len, blen = 0;
	int head_only, keep = 1;

	while ((hend = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL)
		if (!conn_fill(c))
			return 0;
	head_len = (size_t)(hend - c->buf) + 4;
	if (sscanf(c->buf, "%15s %2047s", method, target) != 2)
		return 0;
	req_header(c->buf, hend, "Content-Length", clen, sizeof(clen));
	req_header(c->buf, hend, "X-Req", xreq, sizeof(xreq));
	req_header(c->buf, hend, "Content-Type", ctype, sizeof(ctype));
	if (clen[0])
		blen = strtoul(clen, NULL, 10);
	while (c->len < head_len + blen)
		if (!conn_fill(c))
			return 0;
	body = c->buf + head_len;
	c->nreq++;
	snprintf(path, sizeof(path), "%.*s", (int)strcspn(target, "?"), target);
	head_only = strcmp(method, "HEAD") == 0;

	if (strcmp(path, "/ok") == 0) {
		snprintf(extra, sizeof(extra),
		         "X-Test: yes\r\nContent-Type: text/plain\r\n"
		         "X-Conn-Req: %d\r\n",
		         c->nreq);
		respond(c->fd, 200, extra, "hello\n", 6, 1, head_only);
	} else if (strcmp(path, "/big") == 0 || strcmp(path, "/bigstream") == 0) {
		char big[5000];
		int stream = strcmp(path, "/bigstream") == 0;

		memset(big, 'x', sizeof(big));
		respond(c->fd, 200, stream ? "Connection: close\r\n" : "", big, sizeof(big),
		        !stream, head_only);
		keep = !stream;
	} else if (strcmp(path, "/bighead") == 0) {
		int n = snprintf(extra, sizeof(extra), "X-Huge: ");

		memset(extra + n, 'h', 3000);
		snprintf(extra + n + 3000, sizeof(extra) - (size_t)n - 3000, "\r\n");
		respond(c->fd, 200, extra, "small", 5, 1, head_only);
	} else if (strcmp(path, "/slow") == 0) {
		sleep(3);
		respond(c->fd, 200, "", "late", 4, 1, head_only);
	} else if (strncmp(path, "/status/", 8) == 0) {
		int st = atoi(path + 8);
		char b[32];
		int n = snprintf(b, sizeof(b), "status %d", st);

		respond(c->fd, st, st == 503 ? "Retry-After: 7\r\n" : "", b, (size_t)n, 1,
		        head_only);
	} else if (strcmp(path, "/interim") == 0) {
		static const char interim[] = "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n";

		write_all(c->fd, interim, sizeof(interim) - 1);
		respond(c->fd, 200, "X-Test: yes\r\n", "final", 5, 1, head_only);
	} else if (strcmp(path, "/redirect") == 0) {
		respond(c->fd, 302, "Location: /ok\r\n", "moved", 5, 1, head_only);
	} else if (strcmp(path, "/echo") == 0) {
		snprintf(extra, sizeof(extra),
		         "X-Method: %s\r\nX-Target: %s\r\nX-Echo-Req: %s\r\nX-Content-Type: %s\r\n"
		         "X-Content-Length: %s\r\n",
		         method, target, xreq, ctype[0] ? ctype : "none", clen[0] ? clen : "none");
		respond(c->fd, 200, extra, body, blen, 1, head_only);
	} else {
		respond(c->fd, 404, "", "nope", 4, 1, head_only);
	}
	memmove(c->buf, c->buf + head_len + blen, c->len - head_len - blen);
	c->len -= head_len + blen;
	return keep;
}

static void __attribute__((noreturn)) serve(int lfd)
{
	signal(SIGPIPE, SIG_IGN);
	alarm(60); /* a backstop: the test never needs the server this long */
	for (;;) {
		struct conn c = {.cap = 65536};

		c.fd = accept(lfd, NULL, NULL);
		if (c.fd < 0)
			continue;
		c.buf = malloc(c.cap);
		while (serve_one(&c))
			;
		free(c.buf);
		close(c.fd);
	}
}

/* A 127.0.0.1 TCP socket bound to a free port; *port receives the port. */
static int
bind_local(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static void
srv_start(void)
{
	pid_t parent = getpid();
	int p[2];

	cr_assert_eq(pipe(p), 0);
	srv_pid = fork();
	cr_assert_neq(srv_pid, -1, "fork: %s", strerror(errno));
	if (srv_pid == 0) {
		int port = 0, lfd;

		/* Die with the test process, even if it crashes before .fini. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		close(p[0]);
		lfd = bind_local(&port);
		if (lfd < 0 || listen(lfd, 16) != 0)
			port = 0;
		if (write_all(p[1], &port, sizeof(port)) != 0 || port == 0)
			_exit(1);
		close(p[1]);
		serve(lfd);
	}
	close(p[1]);
	srv_port = 0;
	cr_assert_eq(read(p[0], &srv_port, sizeof(srv_port)), (ssize_t)sizeof(srv_port));
	close(p[0]);
	cr_assert_gt(srv_port, 0, "test server failed to listen");
}

static void
srv_stop(void)
{
	if (srv_pid > 0) {
		kill(srv_pid, SIGKILL);
		waitpid(srv_pid, NULL, 0);
		srv_pid = -1;
	}
}

TestSuite(http, .init = srv_start, .fini = srv_stop);

static const char *
url(const char *path)
{
	static char u[512];

	snprintf(u, sizeof(u), "http://127.0.0.1:%d%s", srv_port, path);
	return u;
}

/* A port on 127.0.0.1 that nothing listens on. */
static int
closed_port(void)
{
	int port = 0, fd = bind_local(&port);

	cr_assert_geq(fd, 0);
	close(fd);
	return port;
}

Test(http, get_status_body_and_headers)
{
	struct q_http *h = q_http_new();
	struct q_http_resp r;
	struct q_err err = {0};
	struct q_http_req req = {.url = url("/ok")};
	char v[64];

	q_http_resp_init(&r);
	cr_assert_eq(q_http_do(h, &r, &req, &err), 0, "%s", err.msg);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.body.len, 6);
	cr_assert_str_eq(r.body.data, "hello\n");
	cr_assert_eq(r.sent, 1);
	cr_assert_gt(r.seconds, 0);
	cr_assert(strncmp(r.headers.data, "HTTP/1.1 200", 12) == 0, "%s", r.headers.data);
	cr_assert_str_eq(q_http_resp_header(&r, "X-Test", v, sizeof(v)), "yes");
	cr_assert_str_eq(q_http_resp_header(&r, "x-test", v, sizeof(v)), "yes");
	cr_assert_str_eq(q_http_resp_header(&r, "X-TEST", v, sizeof(v)), "yes");
	cr_assert_str_eq(q_http_resp_header(&r, "content-length", v, sizeof(v)), "6");
	cr_assert_null(q_http_resp_header(&r, "X-Missing", v, sizeof(v)));
	cr_assert_null(q_http_resp_header(&r, "X-Tes", v, sizeof(v)), "a prefix is not a match");
	cr_assert_null(q_http_resp_header(&r, "X-Test", v, 3), "\"yes\" needs 4 bytes");
	cr_assert_str_eq(v, "");
	cr_assert_eq(err.code, Q_OK);
	q_http_resp_release(&r);
	q_http_free(h);
}

Test(http, connection_is_reused_and_response_reset)
{
	struct q_http *h = q_http_new();
	struct q_http_resp r;
	struct q_err err = {0};
	struct q_http_req req = {.url = url("/ok")};
	char v[16];

	q_http_resp_init(&r);
	cr_assert_eq(q_http_do(h, &r, &req, &err), 0, "%s", err.msg);
	cr_assert_str_eq(q_http_resp_header(&r, "X-Conn-Req", v, sizeof(v)), "1");
	cr_assert_eq(q_http_do(h, &r, &req, &err), 0, "%s", err.msg);
	cr_assert_str_eq(q_http_resp_header(&r, "X-Conn-Req", v, sizeof(v)), "2",
	                 "second request did not reuse the connection");
	cr_assert_str_eq(r.body.data, "hello\n", "body not reset between requests");
	req.url = url("/status/404");
	cr_assert_eq(q_http_do(h, &r, &req, &err), 0, "%s", err.msg);
	cr_assert_str_eq(r.body.data, "status 404");
	cr_assert_null(q_http_resp_header(&r, "X-Test", v, sizeof(v)), "stale headers kept");
	q_http_resp_release(&r);
	q_http_free(h);
}

Test(http, post_body_round_trip_with_headers)
{
	static const char *const hdrs[] = {"X-Req: abc 123", "Content-Type: application/json",
	                                   NULL};
	static const char body[] = "{\"a\":1,\"b\":\"x\0y\"}";
	struct q_http *h = q_http_new();
	struct q_http_resp r;
	struct q_err err = {0};
	struct q_http_req req = {.method = "POST",
	                         .url = url("/echo"),
	                         .headers = hdrs,
	                         .body = body,
	                         .body_len = sizeof(body) - 1};
	char v[64];

	q_http_resp_init(&r);
	cr_assert_eq(q_http_do(h, &r, &req, &err), 0, "%s", err.msg);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.body.len, sizeof(body) - 1);
	cr_assert(memcmp(r.body.data, body, sizeof(body) - 1) == 0, "body changed on the way");
	cr_assert_str_eq(q_http_resp_header(&r, "X-Method", v, sizeof(v)), "POST");
	cr_assert_str_eq(q_http_resp_header(&r, "X-Echo-Req", v, sizeof(v)), "abc 123");
	cr_assert_str_eq(q_http_resp_header(&r, "X-Content-Type", v, sizeof(v)),
	                 "application/json");
	cr_assert_eq(r.sent, 1);
	q_http_resp_release(&r);
	q_http_free(h);
}

Test(http, large_body_and_other_methods)
{
	size_t n = 300 * 1000;
	char *body = malloc(n), v[64];
	struct q_http *h = q_http_new();
	struct q_http_resp r;
	struct q_err err = {0};
	struct q_http_req req = {.method = "PUT", .url = url("/echo"), .body = body, .body_len = n};

	for (size_t i = 0; i < n; i++)
		body[i] = (char)(i * 31 + 7);
	q_http_resp_init(&r);
	cr_assert_eq(q_http_do(h, &r, &req, &err), 0, "%s", err.msg);
	cr_assert_str_eq(q_http_resp_header(&r, "X-Method", v, sizeof(v)), "PUT");
	cr_assert_eq(r.body.len, n);
	cr_assert(memcmp(r.body.data, body, n) == 0);
	cr_assert_eq(r.sent, 1);

	/* A DELETE without a body sends no body headers at all. */
	req.method = "DELETE";
	req.body = NULL;
	req.body_len = 0;
	cr_assert_eq(q_http_do(h, &r, &req, &err), 0, "%s", err.msg);
	cr_assert_str_eq(q_http_resp_header(&r, "X-Method", v, sizeof(v)), "DELETE");
	cr_assert_str_eq(q_http_resp_header(&r, "X-Content-Length", v, sizeof(v)), "none");
	cr_assert_str_eq(q_http_resp_header(&r, "X-Content-Type", v, sizeof(v)), "none");

	/* An empty POST still says Content-Length: 0. */
	req.method = "POST";
	cr_assert_eq(q_http_do(h, &r, &req, &err), 0, "%s", err.msg);
	cr_assert_str_eq(q_http_resp_header(&r, "X-Content-Length", v, sizeof(v)), "0");

	req.method = "HEAD";
	req.url = url("/ok");
	cr_assert_eq(q_http_do(h, &r, &req, &err), 0, "%s", err.msg);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.body.len, 0);

	req.method = "GET\r\nX-Injected: 1";
	cr_assert_eq(q_http_do(h, &r, &req, &err), -1);
	cr_assert_eq(err.code, Q_E_HTTP);
	q_http_resp_release(&r);
	q_http_free(h);
	free(body);
}

Test(http, query_string_is_sent_exactly)
{
	static const char target[] = "/echo?symbol=BTCUSDT&side=BUY&quantity=0.0100&"
	                             "timestamp=1700000000000&signature=ab%2Fcd%20ef~_.-";
	struct q_http *h = q_http_new();
	struct q_http_resp r;
	struct q_err err = {0};
	struct q_http_req req = {.url = url(target)};
	char v[256];

	q_http_resp_init(&r);
	cr_assert_eq(q_http_do(h, &r, &req, &err), 0, "%s", err.msg);
	cr_assert_str_eq(q_http_resp_header(&r, "X-Target", v, sizeof(v)), target);
	q_http_resp_release(&r);
	q_http_free(h);
}

Test(http, non_2xx_statuses_are_not_errors)
{
	static const long statuses[] = {400, 401, 403, 404, 418, 429, 500, 503};
	struct q_http *h = q_http_new();
	struct q_http_resp r;
	struct q_err err = {0};
	char path[32], want[32], v[16];

	q_http_resp_init(&r);
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		struct q_http_req req = {0};

		snprintf(path, sizeof(path), "/status/%ld", statuses[i]);
		req.url = url(path);
		cr_assert_eq(q_http_do(h, &r, &req, &err), 0, "%ld: %s", statuses[i], err.msg);
		cr_assert_eq(r.status, statuses[i]);
		snprintf(want, sizeof(want), "status %ld", statuses[i]);
		cr_assert_str_eq(r.body.data, want);
	}
	cr_assert_str_eq(q_http_resp_header(&r, "retry-after", v, sizeof(v)), "7");
	cr_assert_eq(err.code, Q_OK);
	q_http_resp_release(&r);
	q_http_free(h);
}

Test(http, redirects_are_not_followed)
{
	struct q_http *h = q_http_new();
	struct q_http_resp r;
	struct q_err err = {0};
	struct q_http_req req = {.url = url("/redirect")};
	char v[64];

	q_http_resp_init(&r);
	cr_assert_eq(q_http_do(h, &r, &req, &err), 0, "%s", err.msg);
	cr_assert_eq(r.status, 302);
	cr_assert_str_eq(r.body.data, "moved");
	cr_assert_str_eq(q_http_resp_header(&r, "Location", v, sizeof(v)), "/ok");
	q_http_resp_release(&r);
	q_http_free(h);
}

Test(http, headers_are_the_final_responses)
{
	struct q_http *h = q_http_new();
	struct q_http_resp r;
	struct q_err err = {0};
	struct q_http_req req = {.url = url("/interim")};
	char v[64];

	q_http_resp_init(&r);
	cr_assert_eq(q_http_do(h, &r, &req, &err), 0, "%s", err.msg);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body.data, "final");
	cr_assert(strncmp(r.headers.data, "HTTP/1.1 200", 12) == 0, "%s", r.headers.data);
	cr_assert_null(q_http_resp_header(&r, "X-Interim", v, sizeof(v)), "%s", r.headers.data);
	cr_assert_str_eq(q_http_resp_header(&r, "X-Test", v, sizeof(v)), "yes");
	q_http_resp_release(&r);
	q_http_free(h);
}

/* A proxy named in the environment (a dead one here) is never used. */
Test(http, environment_proxy_is_ignored)
{
	struct q_http *h = q_http_new();
	struct q_http_resp r;
	struct q_err err = {0};
	struct q_http_req req = {.url = url("/ok")};
	char proxy[64];

	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", closed_port());
	setenv("http_proxy", proxy, 1);
	setenv("HTTPS_PROXY", proxy, 1);
	setenv("ALL_PROXY", proxy, 1);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	q_http_resp_init(&r);
	cr_assert_eq(q_http_do(h, &r, &req, &err), 0, "%s", err.msg);
	cr_assert_eq(r.status, 200);
	q_http_resp_release(&r);
	q_http_free(h);
}

Test(http, response_size_cap)
{
	static const char *const paths[] = {"/big", "/bigstream", "/bighead"};
	struct q_http *h = q_http_new();
	struct q_http_resp r;
	struct q_http_req req = {.max_response = 1000};

	q_http_resp_init(&r);
	for (size_t i = 0; i < 3; i++) {
		struct q_err err = {0};

		req.url = url(paths[i]);
		cr_assert_eq(q_http_do(h, &r, &req, &err), -1, "%s was accepted", paths[i]);
		cr_assert_eq(err.code, Q_E_HTTP, "%s: %s", paths[i], q_err_name(err.code));
		cr_assert(strstr(err.msg, "response exceeds 1000 bytes") != NULL, "%s", err.msg);
		cr_assert_eq(r.status, 0);
		cr_assert_leq(r.body.len, 1000);
	}
	/* The same responses fit under a larger cap. */
	req.max_response = 5000;
	for (size_t i = 0; i < 3; i++) {
		struct q_err err = {0};

		req.url = url(paths[i]);
		cr_assert_eq(q_http_do(h, &r, &req, &err), 0, "%s: %s", paths[i], err.msg);
		cr_assert_eq(r.status, 200);
	}
	q_http_resp_release(&r);
	q_http_free(h);
}

Test(http, timeout_after_sending_is_unknown_outcome)
{
	struct q_http *h = q_http_new();
	struct q_http_resp r;
	struct q_err err = {0};
	struct q_http_req req = {.method = "POST",
	                         .url = url("/slow?signature=SECRETSIG"),
	                         .body = "side=BUY",
	                         .body_len = 8,
	                         .timeout_ms = 300};

	q_http_resp_init(&r);
	cr_assert_eq(q_http_do(h, &r, &req, &err), -1);
	cr_assert_eq(err.code, Q_E_TIMEOUT, "%s: %s", q_err_name(err.code), err.msg);
	cr_assert_eq(r.sent, 1);
	cr_assert_eq(r.status, 0);
	cr_assert_geq(r.seconds, 0.25);
	cr_assert_lt(r.seconds, 2.5);
	cr_assert(strstr(err.msg, "SECRETSIG") == NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "/slow") != NULL, "%s", err.msg);
	q_http_resp_release(&r);
	q_http_free(h);
}

/* A listener whose accept queue is full drops new SYNs, so connecting times out. */
Test(http, connect_timeout_is_not_sent)
{
	int port = 0, lfd = bind_local(&port), fill[4];
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct q_http *h = q_http_new();
	struct q_http_resp r;
	struct q_err err = {0};
	char u[64];
	struct q_http_req req = {.url = u, .connect_timeout_ms = 300, .timeout_ms = 5000};

	cr_assert_geq(lfd, 0);
	cr_assert_eq(listen(lfd, 0), 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[i], (struct sockaddr *)&a, sizeof(a));
	}
	usleep(50 * 1000);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/ok", port);
	q_http_resp_init(&r);
	cr_assert_eq(q_http_do(h, &r, &req, &err), -1);
	cr_assert_eq(err.code, Q_E_TIMEOUT, "%s: %s", q_err_name(err.code), err.msg);
	cr_assert_eq(r.sent, 0);
	cr_assert_lt(r.seconds, 2.0);
	for (int i = 0; i < 4; i++)
		close(fill[i]);
	close(lfd);
	q_http_resp_release(&r);
	q_http_free(h);
}

Test(http, refused_connection_is_http_error_not_sent)
{
	struct q_http *h = q_http_new();
	struct q_http_resp r;
	struct q_err err = {0};
	char u[256];
	struct q_http_req req = {.url = u};
	int port = closed_port();

	snprintf(u, sizeof(u), "http://127.0.0.1:%d/ok", port);
	q_http_resp_init(&r);
	cr_assert_eq(q_http_do(h, &r, &req, &err), -1);
	cr_assert_eq(err.code, Q_E_HTTP, "%s: %s", q_err_name(err.code), err.msg);
	cr_assert_eq(r.sent, 0);
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(err.msg, "refused") != NULL, "%s", err.msg);
	q_http_resp_release(&r);
	q_http_free(h);
}

Test(http, error_messages_hide_query_userinfo_headers_and_bot_tokens)
{
	static const char *const hdrs[] = {"X-MBX-APIKEY: HDRSECRETKEY", NULL};
	struct q_http *h = q_http_new();
	struct q_http_resp r;
	struct q_err err = {0};
	char u[256], want[64];
	struct q_http_req req = {.url = u, .headers = hdrs};
	int port = closed_port();

	q_http_resp_init(&r);
	snprintf(u, sizeof(u),
	         "http://user:PASSWORD1@127.0.0.1:%d/ok?symbol=BTCUSDT&signature=SECRETSIG#FRAG",
	         port);
	cr_assert_eq(q_http_do(h, &r, &req, &err), -1);
	snprintf(want, sizeof(want), "GET http://127.0.0.1:%d/ok:", port);
	cr_assert(strncmp(err.msg, want, strlen(want)) == 0, "%s", err.msg);
	cr_assert(strstr(err.msg, "SECRETSIG") == NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "signature") == NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "BTCUSDT") == NULL, "%s", err.msg);
	cr_assert(strchr(err.msg, '?') == NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "PASSWORD1") == NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "FRAG") == NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "HDRSECRETKEY") == NULL, "%s", err.msg);

	q_err_clear(&err);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/bot123456:AAHsecretTOKEN/sendMessage", port);
	cr_assert_eq(q_http_do(h, &r, &req, &err), -1);
	cr_assert(strstr(err.msg, "AAHsecretTOKEN") == NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "/bot[redacted]/sendMessage") != NULL, "%s", err.msg);
	q_http_resp_release(&r);
	q_http_free(h);
}

Test(http, only_http_and_https)
{
	static const char *const bad[] = {
	        "file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/x",
	        "dict://127.0.0.1/x", "not a url",         "",
	        "//127.0.0.1/ok",     "127.0.0.1/ok"};
	static const char *const hdrs[] = {"X-Bad: a\r\nX-Injected: 1", NULL};
	struct q_http *h = q_http_new();
	struct q_http_resp r;

	q_http_resp_init(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct q_err err = {0};
		struct q_http_req req = {.url = bad[i]};

		cr_assert_eq(q_http_do(h, &r, &req, &err), -1, "%s accepted", bad[i]);
		cr_assert_eq(err.code, Q_E_HTTP, "%s: %s", bad[i], err.msg);
		cr_assert_eq(r.sent, 0);
	}
	{
		struct q_err err = {0};
		struct q_http_req req = {.url = url("/ok"), .headers = hdrs};

		cr_assert_eq(q_http_do(h, &r, &req, &err), -1, "header with CRLF accepted");
		cr_assert_eq(err.code, Q_E_HTTP);
	}
	q_http_resp_release(&r);
	q_http_free(h);
}

Test(http_headers, lookup_trims_and_skips_interim_text)
{
	struct q_http_resp r;
	char v[32];

	q_http_resp_init(&r);
	q_buf_adds(&r.headers, "HTTP/1.1 200 OK\r\nA: 1\r\nAB:2\r\nLong: \t spaced value \t\r\n"
	                       "Empty:\r\nDup: first\r\ndup: second\r\n\r\n");
	cr_assert_str_eq(q_http_resp_header(&r, "a", v, sizeof(v)), "1");
	cr_assert_str_eq(q_http_resp_header(&r, "ab", v, sizeof(v)), "2");
	cr_assert_str_eq(q_http_resp_header(&r, "LONG", v, sizeof(v)), "spaced value");
	cr_assert_str_eq(q_http_resp_header(&r, "Empty", v, sizeof(v)), "");
	cr_assert_str_eq(q_http_resp_header(&r, "DUP", v, sizeof(v)), "first");
	cr_assert_null(q_http_resp_header(&r, "HTTP/1.1 200 OK", v, sizeof(v)));
	cr_assert_null(q_http_resp_header(&r, "Long", v, 12), "12 bytes cannot hold 13");
	cr_assert_str_eq(q_http_resp_header(&r, "Long", v, 13), "spaced value");
	cr_assert_null(q_http_resp_header(&r, "A", v, 0));
	q_http_resp_release(&r);
	cr_assert_null(q_http_resp_header(&r, "A", v, sizeof(v)), "empty block");
}

Test(http_urlencode, exact_rfc3986)
{
	static const struct {
		const char *in;
		size_t n;
		const char *out;
	} cases[] = {
	        {"", 0, ""},
	        {"AZaz09-._~", 10, "AZaz09-._~"},
	        {" ", 1, "%20"},
	        {"a+b", 3, "a%2Bb"},
	        {"a=b&c=d", 7, "a%3Db%26c%3Dd"},
	        {"/?#[]@!$'()*,;:", 15, "%2F%3F%23%5B%5D%40%21%24%27%28%29%2A%2C%3B%3A"},
	        {"%", 1, "%25"},
	        {"\xc3\xa9", 2, "%C3%A9"},
	        {"a\0b", 3, "a%00b"},
	        {"\x7f\x80\xff", 3, "%7F%80%FF"},
	        {"{\"k\":1}", 7, "%7B%22k%22%3A1%7D"},
	};
	struct q_buf b = Q_BUF_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		q_buf_reset(&b);
		cr_assert_eq(q_http_urlencode(&b, cases[i].in, cases[i].n), 0);
		cr_assert_str_eq(b.data, cases[i].out, "case %zu", i);
		cr_assert_eq(b.len, strlen(cases[i].out));
	}
	q_buf_reset(&b);
	q_buf_adds(&b, "q=");
	q_http_urlencode(&b, "x y", 3);
	cr_assert_str_eq(b.data, "q=x%20y", "appends");
	q_buf_release(&b);
}

Test(http_urlencode, every_byte)
{
	struct q_buf b = Q_BUF_INIT;
	char all[256];
	size_t pos = 0;

	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	q_http_urlencode(&b, all, sizeof(all));
	for (int i = 0; i < 256; i++) {
		int keep = (i >= 'A' && i <= 'Z') || (i >= 'a' && i <= 'z') ||
		           (i >= '0' && i <= '9') || i == '-' || i == '.' || i == '_' || i == '~';
		char want[4];

		if (keep)
			snprintf(want, sizeof(want), "%c", i);
		else
			snprintf(want, sizeof(want), "%%%02X", i);
		cr_assert(strncmp(b.data + pos, want, strlen(want)) == 0, "byte %d", i);
		pos += strlen(want);
	}
	cr_assert_eq(pos, b.len);
	cr_assert_eq(b.len, 66 + 190 * 3);
	q_buf_release(&b);
}
