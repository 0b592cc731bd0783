/*
 * quantor-sim [--port N] [--accounts FILE] [--speed X] [--threads N]
 *
 * The offline outside world: one loopback HTTP server whose modules (one table below) each play
 * a service Quantor talks to, plus the /_sim/ control endpoints tests and `make run` use to look
 * inside and to inject faults. Reads $QUANTOR_CONFIG; stops cleanly on SIGTERM or SIGINT.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exchange.h"
#include "http.h"
#include "q_crypto.h"
#include "q_ctx.h"
#include "q_http.h"
#include "q_log.h"
#include "sim.h"

/* The modules. A new service is one file defining a struct sim_module and one line here. */
static const struct sim_module *const modules[] = {
        &sim_telegram, &sim_ex_control, &sim_ex_binance, &sim_ex_okx, &sim_ex_bybit, &sim_ex_bitget,
};

#define NMODULES (sizeof(modules) / sizeof(modules[0]))

static const char usage[] =
        "usage: quantor-sim [--port N] [--accounts FILE] [--speed X] [--threads N]\n"
        "  --port N        listen on 127.0.0.1:N (default [sim] port, else 8081)\n"
        "  --accounts FILE the exchange accounts, a JSON array (default [sim] accounts_file)\n"
        "  --speed X       the simulated clock runs X times as fast as the real one (default 1)\n"
        "  --threads N     worker threads (default 8)\n"
        "The config is read from $QUANTOR_CONFIG (default /etc/quantor/quantor.conf).\n";

/* --- the clock ----------------------------------------------------------------------------- */

static int64_t clock_origin;              /* real time at start, ms since the epoch */
static struct timespec clock_origin_mono; /* the same instant on the monotonic clock */
static double clock_speed = 1.0;

void
sim_clock_init(double speed)
{
	struct timespec rt;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &clock_origin_mono);
	clock_origin = (int64_t)rt.tv_sec * 1000 + rt.tv_nsec / 1000000;
	clock_speed = speed;
}

int64_t
sim_clock_ms(void)
{
	struct timespec now;
	double elapsed;

	clock_gettime(CLOCK_MONOTONIC, &now);
	elapsed = (double)(now.tv_sec - clock_origin_mono.tv_sec) * 1000.0 +
	          (double)(now.tv_nsec - clock_origin_mono.tv_nsec) / 1e6;
	return clock_origin + (int64_t)(elapsed * clock_speed);
}

double
sim_clock_speed(void)
{
	return clock_speed;
}

void
sim_clock_rfc3339(char out[32], int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[24];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%.20s.%03dZ", s, (int)(ms % 1000));
}

/* --- core control endpoints ---------------------------------------------------------------- */

static int
c_health(struct sim_req *req, struct sim_resp *resp, struct q_err *err)
{
	json_t *names = json_array();

	(void)req;
	for (size_t i = 0; i < NMODULES; i++)
		json_array_append_new(names, json_string(modules[i]->name));
	return sim_reply_json(resp, 200, json_pack("{s:b, s:o}", "ok", 1, "modules", names), err);
}

static int
c_time(struct sim_req *req, struct sim_resp *resp, struct q_err *err)
{
	int64_t ms = sim_clock_ms();
	char ts[32];

	(void)req;
	sim_clock_rfc3339(ts, ms);
	return sim_reply_json(resp, 200,
	                      json_pack("{s:I, s:s, s:f}", "ms", (json_int_t)ms, "time", ts,
	                                "speed", sim_clock_speed()),
	                      err);
}

/*
 * Everything about the request, as JSON: a webhook target for tests of deliveries. ?status=N
 * answers with that status instead of 200.
 */
static int
c_echo(struct sim_req *req, struct sim_resp *resp, struct q_err *err)
{
	struct sim_param *qp = NULL;
	int nq = sim_form_parse(req->arena, req->query, strlen(req->query), &qp);
	const char *st = nq > 0 ? sim_param_get(qp, nq, "status") : NULL;
	json_t *hs = json_object(), *j;
	long status = 200;

	if (st) {
		char *end;

		status = strtol(st, &end, 10);
		if (*end || status < 200 || status > 599) {
			sim_reply_error(resp, 400, "BAD_REQUEST", "status must be 200-599");
			json_decref(hs);
			return 0;
		}
	}
	for (size_t i = 0; i < req->nheaders; i++) {
		char name[128];
		size_t n = strlen(req->headers[i].name);

		if (n >= sizeof(name) ||
		    !sim_utf8_valid(req->headers[i].value, strlen(req->headers[i].value)))
			continue;
		for (size_t k = 0; k <= n; k++)
			name[k] = (char)tolower((unsigned char)req->headers[i].name[k]);
		json_object_set_new(hs, name, json_string(req->headers[i].value));
	}
	j = json_pack("{s:s, s:s, s:s, s:o}", "method", req->method, "path", req->raw_path, "query",
	              req->query, "headers", hs);
	if (j && sim_utf8_valid(req->body, req->body_len)) {
		json_object_set_new(j, "body", json_stringn(req->body, req->body_len));
	} else if (j) {
		struct q_buf b = Q_BUF_INIT;

		q_base64_encode(&b, req->body, req->body_len);
		json_object_set_new(j, "body_base64", json_stringn(b.data, b.len));
		q_buf_release(&b);
	}
	return sim_reply_json(resp, (int)status, j, err);
}

static const struct core_ep {
	const char *name;
	const char *method; /* NULL: any */
	int (*fn)(struct sim_req *, struct sim_resp *, struct q_err *);
} core_eps[] = {
        {"health", "GET", c_health},
        {"time", "GET", c_time},
        {"echo", NULL, c_echo},
        {"orders", "GET", sim_ex_orders},
};

static int
control(struct sim_req *req, struct sim_resp *resp, struct q_err *err)
{
	const char *rest = req->path + strlen("/_sim/");

	for (size_t i = 0; i < sizeof(core_eps) / sizeof(core_eps[0]); i++) {
		if (strcmp(rest, core_eps[i].name) != 0)
			continue;
		if (core_eps[i].method && strcmp(req->method, core_eps[i].method) != 0) {
			sim_reply_not_allowed(resp, core_eps[i].method);
			return 0;
		}
		return core_eps[i].fn(req, resp, err);
	}
	for (size_t i = 0; i < NMODULES; i++) {
		size_t n = strlen(modules[i]->name);

		if (modules[i]->control && strncmp(rest, modules[i]->name, n) == 0 &&
		    rest[n] == '/') {
			req->sub = rest + n + 1;
			return modules[i]->control(req, resp, err);
		}
	}
	sim_reply_error(resp, 404, "NOT_FOUND", "no control endpoint %s", req->path);
	return 0;
}

static int
route(struct sim_req *req, struct sim_resp *resp, struct q_err *err)
{
	if (strncmp(req->path, "/_sim/", 6) == 0)
		return control(req, resp, err);
	for (size_t i = 0; i < NMODULES; i++) {
		size_t n = modules[i]->prefix ? strlen(modules[i]->prefix) : 0;

		if (n > 0 && strncmp(req->path, modules[i]->prefix, n) == 0) {
			req->sub = req->path + n;
			return modules[i]->handle(req, resp, err);
		}
	}
	sim_reply_error(resp, 404, "NOT_FOUND", "quantor-sim simulates nothing at %s", req->path);
	return 0;
}

/* --- startup ------------------------------------------------------------------------------- */

struct opts {
	long port; /* -1: from the config */
	const char *accounts;
	double speed;
	long threads;
};

static int
parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	v = strtol(s, &end, 10);
	if (*end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage, stdout);
			exit(0);
		}
		if (v == NULL)
			goto bad;
		i++;
		if (strcmp(a, "--port") == 0) {
			if (parse_long(v, 0, 65535, &o->port) < 0)
				goto bad;
		} else if (strcmp(a, "--accounts") == 0) {
			o->accounts = v;
		} else if (strcmp(a, "--threads") == 0) {
			if (parse_long(v, 1, 64, &o->threads) < 0)
				goto bad;
		} else if (strcmp(a, "--speed") == 0) {
			char *end;

			o->speed = strtod(v, &end);
			if (*end || !isfinite(o->speed) || o->speed <= 0 || o->speed > 1e6)
				goto bad;
		} else {
			goto bad;
		}
	}
	return 0;
bad:
	fputs(usage, stderr);
	return -1;
}

/* The exchange accounts: a JSON array. Their secrets are registered so no log line shows them. */
static json_t *
load_accounts(const char *path, struct q_err *err)
{
	json_error_t je;
	json_t *a, *acct;
	size_t i;

	if (path == NULL || *path == '\0')
		return json_array();
	a = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (a == NULL) {
		q_err_set(err, Q_E_CONFIG, "%s:%d: %s", path, je.line, je.text);
		return NULL;
	}
	if (!json_is_array(a)) {
		q_err_set(err, Q_E_CONFIG, "%s: must be a JSON array of accounts", path);
		json_decref(a);
		return NULL;
	}
	json_array_foreach(a, i, acct)
	{
		q_log_secret(json_string_value(json_object_get(acct, "api_secret")));
		q_log_secret(json_string_value(json_object_get(acct, "passphrase")));
	}
	return a;
}

int
main(int argc, char **argv)
{
	struct opts o = {.port = -1, .speed = 1.0, .threads = 8};
	struct sim_http_opts ho = {0};
	struct q_err err = {0};
	struct sim_http *srv = NULL;
	struct sim_env env;
	struct q_ctx ctx;
	json_t *accounts = NULL;
	char self_url[64], names[256] = "";
	size_t ninit = 0;
	long long port;
	int rc = 1;

	if (parse_args(argc, argv, &o) < 0)
		return 2;
	if (q_ctx_init(&ctx, "quantor-sim", NULL, &err) < 0) {
		fprintf(stderr, "quantor-sim: %s\n", err.msg);
		return 1;
	}
	port = o.port;
	if (port < 0 && q_config_get_int(ctx.cfg, "sim", "port", 8081, 0, 65535, &port, &err) < 0)
		goto out;
	if (o.accounts == NULL)
		o.accounts = q_config_get(ctx.cfg, "sim", "accounts_file", NULL);
	accounts = load_accounts(o.accounts, &err);
	if (accounts == NULL)
		goto out;
	sim_clock_init(o.speed);
	q_http_global_init();
	json_object_seed(0);

	ho.port = (int)port;
	ho.threads = (int)o.threads;
	srv = sim_http_listen(&ho, route, &err);
	if (srv == NULL)
		goto out;
	snprintf(self_url, sizeof(self_url), "http://127.0.0.1:%d", sim_http_port(srv));
	env.cfg = ctx.cfg;
	env.accounts = accounts;
	env.self_url = self_url;
	for (; ninit < NMODULES; ninit++) {
		if (modules[ninit]->init && modules[ninit]->init(&env, &err) < 0)
			goto out;
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
		         ninit ? "," : "", modules[ninit]->name);
	}
	q_log_info("sim.start", "url=%s modules=%s speed=%g threads=%ld accounts=%zu", self_url,
	           names, o.speed, o.threads, json_array_size(accounts));
	if (sim_http_run(srv, &err) < 0)
		goto out;
	q_log_info("sim.stop", "url=%s", self_url);
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "quantor-sim: %s\n", err.msg);
	sim_http_free(srv);
	while (ninit > 0) {
		ninit--;
		if (modules[ninit]->release)
			modules[ninit]->release();
	}
	json_decref(accounts);
	q_ctx_release(&ctx);
	q_log_secrets_clear();
	return rc;
}
