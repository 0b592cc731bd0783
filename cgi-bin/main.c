/*
 * quantor-api: the FastCGI responder. spawn-fcgi hands it the listening socket as fd 0; this
 * master forks N prefork workers that accept on it, restarts a worker that dies, and on
 * SIGTERM lets every worker finish its request and exit. Each worker holds one database
 * connection and serves one request at a time, each with its own arena.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "q_buf.h"
#include "q_db.h"
#include "q_egress.h"
#include "q_json.h"
#include "q_log.h"
#include "q_mem.h"

#define MAX_WORKERS 256

static volatile sig_atomic_t stopping;
static struct q_api_conf api_conf; /* loaded before the fork, read-only afterwards */

static void release(struct q_ctx *ctx);

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

static void
handle_signals(void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a blocked accept() returns so the loop can end */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static const char *
reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Unknown";
	}
}

const char *
q_req_param(const struct q_req *r, const char *name)
{
	return FCGX_GetParam(name, r->fcgx->envp);
}

int
q_reply(struct q_req *r, int status, json_t *body)
{
	if (body == NULL)
		return q_err_set(&r->err, Q_E_INTERNAL, "response body could not be built");
	q_json_arena_own(r->arena, body);
	r->status = status;
	r->out = body;
	return 0;
}

/* Read the body into the arena; 413 above the limit, 400 when it ends early. */
static int
read_body(struct q_req *r, size_t max)
{
	const char *cl = q_req_param(r, "CONTENT_LENGTH");
	char *end, *buf;
	unsigned long long n;
	size_t got = 0;

	if (cl == NULL || *cl == '\0')
		return 0;
	errno = 0;
	n = strtoull(cl, &end, 10);
	if (errno || *end || cl[0] == '-')
		return q_err_set(&r->err, Q_E_BAD_REQUEST, "invalid Content-Length");
	if (n > max)
		return q_err_set(&r->err, Q_E_PAYLOAD_TOO_LARGE,
		                 "request body of %llu bytes exceeds the limit of %zu bytes", n,
		                 max);
	if (n == 0)
		return 0;
	buf = q_arena_alloc(r->arena, (size_t)n + 1);
	while (got < n) {
		int k = FCGX_GetStr(buf + got, (int)(n - got), r->fcgx->in);

		if (k <= 0)
			break;
		got += (size_t)k;
	}
	if (got != n)
		return q_err_set(&r->err, Q_E_BAD_REQUEST,
		                 "request body ended after %zu of %llu bytes", got, n);
	buf[n] = '\0';
	r->body = buf;
	r->body_len = (size_t)n;
	return 0;
}

static int
json_content_type(const char *ct)
{
	static const char want[] = "application/json";

	if (ct == NULL || strncasecmp(ct, want, sizeof(want) - 1) != 0)
		return 0;
	ct += sizeof(want) - 1;
	return *ct == '\0' || *ct == ';' || *ct == ' ';
}

/*
 * "Authorization: tma <initData>": validated before anything touches the database, so forged,
 * expired or foreign initData costs no query; then the user is found or created.
 */
static int
authenticate(struct q_req *r, unsigned flags)
{
	struct q_initdata d;
	struct q_db *db;
	int rc;

	if (q_identity_check(&r->conf->id, q_req_param(r, "HTTP_AUTHORIZATION"),
	                     (long long)time(NULL), &d, &r->err) < 0)
		return -1;
	db = q_ctx_db(r->ctx, 0, &r->err);
	rc = db ? q_identity_login(db, &r->conf->id, &d, &r->user, &r->err) : -1;
	q_initdata_release(&d);
	if (rc < 0)
		return -1;
	r->user_id = r->user.id;
	if ((flags & Q_ROUTE_ADMIN) && !r->user.is_admin)
		return q_err_set(&r->err, Q_E_FORBIDDEN, "this route is for Quantor's admins");
	return 0;
}

/* Everything between accept and the response: route, auth, body, handler. */
static int
dispatch(struct q_req *r, size_t max_body, char *allow, size_t allowlen)
{
	const struct q_route *rt;
	int status = 0;

	rt = q_route_lookup(r, &status, allow, allowlen);
	if (rt == NULL) {
		if (status == 405)
			return q_err_set(&r->err, Q_E_METHOD_NOT_ALLOWED, "%s is not allowed on %s",
			                 r->method, r->path);
		return q_err_set(&r->err, Q_E_NOT_FOUND, "no route for %s", r->path);
	}
	if ((rt->flags & (Q_ROUTE_AUTH | Q_ROUTE_ADMIN)) && authenticate(r, rt->flags) < 0)
		return -1;
	if (read_body(r, max_body) < 0)
		return -1;
	if (rt->flags & Q_ROUTE_JSON) {
		if (!json_content_type(q_req_param(r, "CONTENT_TYPE")))
			return q_err_set(&r->err, Q_E_UNSUPPORTED_MEDIA,
			                 "send the body as Content-Type: application/json");
		r->json = q_json_parse_body(r->body ? r->body : "", r->body_len, max_body, &r->err);
		if (r->json == NULL)
			return -1;
		q_json_arena_own(r->arena, r->json);
	} else if (r->body_len) {
		return q_err_set(&r->err, Q_E_BAD_REQUEST, "%s %s takes no request body", r->method,
		                 r->path);
	}
	return rt->fn(r);
}

static void
respond(struct q_req *r, const char *allow)
{
	FCGX_Stream *out = r->fcgx->out;
	struct q_buf head = Q_BUF_INIT;
	char *body;

	if (r->err.code != Q_OK || r->out == NULL) {
		if (r->err.code == Q_OK)
			q_err_set(&r->err, Q_E_INTERNAL, "handler returned no response");
		r->status = q_err_http_status(r->err.code);
		r->out = q_json_error_body(&r->err);
		q_json_arena_own(r->arena, r->out);
		if (r->status >= 500) {
			char where[256];

			q_err_where(&r->err, where, sizeof(where));
			q_logkv(Q_LOG_ERROR, "http.error", "method", r->method, "path", r->path,
			        "code", q_err_name(r->err.code), "where", where, "detail",
			        r->err.msg, (char *)NULL);
		}
	}
	/*
	 * 15 significant digits: any decimal that short comes back out of a double unchanged, so
	 * 0.6 reads 0.6, not 0.59999999999999998. Responses only: stored and canonical (audit)
	 * JSON keep Jansson's 17.
	 */
	body = q_json_arena_dumps(r->arena, r->out, JSON_COMPACT | JSON_REAL_PRECISION(15));
	/* libfcgi's own printf knows no %zu: format with libc, write with PutStr. */
	q_buf_printf(&head, "Status: %d %s\r\n", r->status, reason(r->status));
	q_buf_adds(&head, "Content-Type: application/json; charset=utf-8\r\n");
	q_buf_adds(&head, "Cache-Control: no-store\r\n");
	if (r->status == 405 && allow[0])
		q_buf_printf(&head, "Allow: %s\r\n", allow);
	q_buf_printf(&head, "Content-Length: %zu\r\n\r\n%s\n", strlen(body) + 1, body);
	if (FCGX_PutStr(head.data, (int)head.len, out) != (int)head.len)
		q_log(Q_LOG_WARN, "http.write_failed", "path=%s", r->path);
	q_buf_release(&head);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
serve_one(struct q_ctx *ctx, FCGX_Request *fr, size_t max_body)
{
	struct q_req r;
	char allow[64] = "";
	double t0 = now_ms();
	const char *m, *p, *q;

	memset(&r, 0, sizeof(r));
	r.fcgx = fr;
	r.ctx = ctx;
	r.conf = &api_conf;
	r.arena = q_arena_new();
	r.status = 200;
	m = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	p = FCGX_GetParam("DOCUMENT_URI", fr->envp);
	if (p == NULL)
		p = FCGX_GetParam("SCRIPT_NAME", fr->envp);
	q = FCGX_GetParam("QUERY_STRING", fr->envp);
	r.method = m ? m : "GET";
	r.path = p ? p : "/";
	r.query = q ? q : "";
	dispatch(&r, max_body, allow, sizeof(allow));
	respond(&r, allow);
	q_log(Q_LOG_INFO, "http.request", "method=%s path=%s status=%d ms=%.1f", r.method, r.path,
	      r.status, now_ms() - t0);
	q_arena_destroy(r.arena);
}

static int
worker(struct q_ctx *ctx, size_t max_body)
{
	FCGX_Request fr;

	handle_signals(on_stop);
	if (FCGX_Init() != 0)
		q_die("FCGX_Init failed");
	if (FCGX_InitRequest(&fr, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
		q_die("FCGX_InitRequest failed");
	{
		/* Connect now so the first request is fast; a database that is down is not
		 * fatal: /api/v1/health reports it and the next request tries again. */
		struct q_err e = {0};

		if (q_db_ping(ctx->db, &e) < 0)
			q_logkv(Q_LOG_WARN, "db.unavailable", "detail", e.msg, (char *)NULL);
	}
	while (!stopping && FCGX_Accept_r(&fr) >= 0) {
		serve_one(ctx, &fr, max_body);
		FCGX_Finish_r(&fr);
	}
	FCGX_Free(&fr, 1);
	release(ctx);
	return 0;
}

static pid_t
spawn(struct q_ctx *ctx, size_t max_body)
{
	pid_t pid = fork();

	if (pid < 0) {
		q_log(Q_LOG_ERROR, "worker.fork_failed", "errno=%d", errno);
		return -1;
	}
	if (pid == 0)
		exit(worker(ctx, max_body));
	return pid;
}

static void
usage(void)
{
	fputs("usage: quantor-api [--workers N] [--log FILE]\n"
	      "Runs under spawn-fcgi, which passes the listening socket as fd 0:\n"
	      "  spawn-fcgi -s /run/quantor/api.sock -- quantor-api --workers 4\n"
	      "The config is read from $QUANTOR_CONFIG (default /etc/quantor/quantor.conf).\n",
	      stderr);
	exit(2);
}

static void
release(struct q_ctx *ctx)
{
	q_identity_conf_release(&api_conf.id);
	q_telegram_conf_release(&api_conf.tg);
	q_vault_release(&api_conf.vault);
	q_ctx_release(ctx);
}

/*
 * Everything that can be wrong with the setup, checked before any worker starts: the config's
 * numbers, and every secret file (read now, so one that others can read stops the program here
 * with the file and the fix). No database connection is opened before the fork.
 */
static int
startup(struct q_ctx *ctx, long long *workers, long long *max_body, struct q_err *err)
{
	json_t *egress;

	if (*workers == 0 &&
	    q_config_get_int(ctx->cfg, "http", "workers", 4, 1, MAX_WORKERS, workers, err) < 0)
		return -1;
	if (q_config_get_int(ctx->cfg, "http", "max_body", 65536, 1024, 16 << 20, max_body, err) <
	    0)
		return -1;
	if (q_ctx_db(ctx, 0, err) == NULL)
		return -1;
	if (q_identity_conf_load(&api_conf.id, ctx->cfg, err) < 0 ||
	    q_telegram_conf_load(&api_conf.tg, ctx->cfg, err) < 0)
		return -1;
	/* The vault's public half (the API never loads the private key) and the egress list:
	 * checked here so that a broken [vault] or [egress] stops the program. */
	if (q_vault_load_public(&api_conf.vault, ctx->cfg, err) < 0 ||
	    q_egress_load(&egress, ctx->cfg, time(NULL), err) < 0)
		return -1;
	json_decref(egress);
	return 0;
}

int
main(int argc, char **argv)
{
	struct q_ctx ctx;
	struct q_err err = {0};
	long long workers = 0, max_body = 0;
	pid_t pids[MAX_WORKERS] = {0};
	int type;
	socklen_t tl = sizeof(type);

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
			workers = strtoll(argv[++i], NULL, 10);
			if (workers < 1 || workers > MAX_WORKERS)
				q_die("--workers takes 1 to %d", MAX_WORKERS);
		} else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) {
			int fd = open(argv[++i], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

			if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
				q_die("cannot open log file %s: %s", argv[i], strerror(errno));
			close(fd);
		} else {
			usage();
		}
	}
	if (q_ctx_init(&ctx, "quantor-api", NULL, &err) < 0) {
		fprintf(stderr, "quantor-api: %s\n", err.msg);
		return 1;
	}
	if (startup(&ctx, &workers, &max_body, &err) < 0) {
		fprintf(stderr, "quantor-api: %s\n", err.msg);
		release(&ctx);
		return 1;
	}
	if (getsockopt(STDIN_FILENO, SOL_SOCKET, SO_TYPE, &type, &tl) < 0) {
		fputs("quantor-api: fd 0 is not a listening socket; start it under spawn-fcgi\n"
		      "  spawn-fcgi -s /run/quantor/api.sock -- quantor-api --workers 4\n",
		      stderr);
		release(&ctx);
		return 2;
	}

	handle_signals(on_stop);
	q_log(Q_LOG_INFO, "api.start", "workers=%lld max_body=%lld dev=%d", workers, max_body,
	      ctx.dev);
	for (int i = 0; i < workers; i++)
		pids[i] = spawn(&ctx, (size_t)max_body);

	while (!stopping) {
		int st;
		pid_t pid = waitpid(-1, &st, 0);

		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < workers; i++) {
			if (pids[i] != pid)
				continue;
			if (stopping)
				break;
			q_log(Q_LOG_ERROR, "worker.exited", "pid=%ld status=%d signal=%d",
			      (long)pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1,
			      WIFSIGNALED(st) ? WTERMSIG(st) : 0);
			sleep(1); /* a worker that dies at once must not turn into a fork storm */
			pids[i] = spawn(&ctx, (size_t)max_body);
		}
	}

	for (int i = 0; i < workers; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	for (int waited = 0; waited < 100; waited++) {
		int left = 0;

		for (int i = 0; i < workers; i++) {
			if (pids[i] > 0 && waitpid(pids[i], NULL, WNOHANG) == 0)
				left++;
			else
				pids[i] = 0;
		}
		if (left == 0)
			break;
		usleep(50000);
	}
	for (int i = 0; i < workers; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	q_log(Q_LOG_INFO, "api.stop", "workers=%lld", workers);
	release(&ctx);
	return 0;
}
