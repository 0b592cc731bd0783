#include "itest.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "q_buf.h"
#include "q_ctx.h"
#include "q_initdata.h"

static char hdr_buf[1024];

const char *
it_env(const char *name)
{
	const char *v = getenv(name);

	cr_assert(v != NULL && *v, "%s is not set: run through scripts/test-integration.sh", name);
	return v;
}

const char *
it_build_dir(void)
{
	static char dir[4096];
	const char *b = getenv("QUANTOR_BUILD");

	if (b && *b)
		return b;
	snprintf(dir, sizeof(dir), "%s/build", it_env("QUANTOR_SRC"));
	return dir;
}

void
it_request(struct it_resp *r, const char *method, const char *path, const char *body,
           size_t body_len, const char *const *headers)
{
	struct q_http *h = q_http_new();
	struct q_err err = {0};
	struct q_buf url = Q_BUF_INIT;
	struct q_http_req req = {0};

	memset(r, 0, sizeof(*r));
	q_http_resp_init(&r->raw);
	q_buf_printf(&url, "%s%s", it_env("QUANTOR_URL"), path);
	req.method = method;
	req.url = url.data;
	req.headers = headers;
	req.body = body;
	req.body_len = body_len;
	req.timeout_ms = 15000;
	cr_assert_eq(q_http_do(h, &r->raw, &req, &err), 0, "%s %s: %s", method, path, err.msg);
	r->status = r->raw.status;
	r->json = json_loadb(r->raw.body.data, r->raw.body.len, 0, NULL);
	q_buf_release(&url);
	q_http_free(h);
}

void
it_release(struct it_resp *r)
{
	json_decref(r->json);
	q_http_resp_release(&r->raw);
	memset(r, 0, sizeof(*r));
}

const char *
it_header(struct it_resp *r, const char *name)
{
	return q_http_resp_header(&r->raw, name, hdr_buf, sizeof(hdr_buf));
}

const char *
it_assert_error(struct it_resp *r, long status, const char *code)
{
	json_t *e;
	const char *c, *m;

	cr_assert_eq(r->status, status, "status %ld, want %ld; body %s", r->status, status,
	             r->raw.body.data);
	cr_assert(r->json != NULL, "error body is not JSON: %s", r->raw.body.data);
	cr_assert_eq(json_object_size(r->json), 1, "error body has extra keys: %s",
	             r->raw.body.data);
	e = json_object_get(r->json, "error");
	cr_assert(json_is_object(e), "no error object: %s", r->raw.body.data);
	c = json_string_value(json_object_get(e, "code"));
	m = json_string_value(json_object_get(e, "message"));
	cr_assert(c && m && *m, "error without code or message: %s", r->raw.body.data);
	cr_assert_str_eq(c, code, "body %s", r->raw.body.data);
	return m;
}

int
it_sh(const char *fmt, ...)
{
	struct q_buf cmd = Q_BUF_INIT;
	va_list ap;
	int st;

	q_buf_printf(&cmd, "cd '%s' && ", it_env("QUANTOR_SRC"));
	va_start(ap, fmt);
	q_buf_vprintf(&cmd, fmt, ap);
	va_end(ap);
	st = system(cmd.data);
	q_buf_release(&cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void
it_init_data(struct q_buf *out, const char *token, long long id, const char *first, long long when)
{
	struct q_err err = {0};
	char user[256], auth[32];
	const char *keys[] = {"query_id", "user", "auth_date"};
	const char *vals[] = {"AAHdF6IQAAAAAN0XohDhrOrc", user, auth};

	snprintf(user, sizeof(user),
	         "{\"id\":%lld,\"first_name\":\"%s\",\"username\":\"u%lld\",\"language_code\":"
	         "\"en\"}",
	         id, first, id);
	snprintf(auth, sizeof(auth), "%lld", when);
	q_buf_reset(out);
	cr_assert_eq(q_initdata_sign(out, token, keys, vals, 3, &err), 0, "%s", err.msg);
}

void
it_as_user(struct it_resp *r, const char *method, const char *path, long long id, const char *body)
{
	struct q_buf init = Q_BUF_INIT, auth = Q_BUF_INIT;
	const char *h[3] = {NULL, "Content-Type: application/json", NULL};

	it_init_data(&init, it_env("QUANTOR_BOT_TOKEN"), id, "Ann", (long long)time(NULL));
	q_buf_printf(&auth, "Authorization: tma %s", init.data);
	h[0] = auth.data;
	it_request(r, method, path, body, body ? strlen(body) : 0, h);
	q_buf_release(&init);
	q_buf_release(&auth);
}

struct q_db *
it_db(void)
{
	static struct q_ctx ctx;
	struct q_err err = {0};
	struct q_db *d;

	if (ctx.cfg == NULL)
		cr_assert_eq(q_ctx_init(&ctx, "itest", it_env("QUANTOR_CONFIG"), &err), 0, "%s",
		             err.msg);
	d = q_ctx_db(&ctx, 0, &err);
	cr_assert(d != NULL, "%s", err.msg);
	return d;
}

long long
it_count(const char *sql, long long arg)
{
	struct q_err err = {0};
	long long n = -1;

	cr_assert_eq(q_db_row(it_db(), &err, sql, "i>i", arg, &n), 1, "%s: %s", sql, err.msg);
	return n;
}

long long
it_user_id(long long telegram_id)
{
	struct q_err err = {0};
	long long id = 0;

	cr_assert_eq(q_db_row(it_db(), &err, "SELECT id FROM users WHERE telegram_id = ?", "i>i",
	                      telegram_id, &id),
	             1, "no user for %lld", telegram_id);
	return id;
}

/* method path on the sim with an optional JSON body; the response in resp (initialised). */
static void
sim_do(struct q_http_resp *resp, const char *method, const char *path, const char *body)
{
	struct q_http *h = q_http_new();
	struct q_buf url = Q_BUF_INIT;
	const char *hdr[] = {"Content-Type: application/json", NULL};
	struct q_http_req req = {.method = method,
	                         .headers = body ? hdr : NULL,
	                         .body = body,
	                         .body_len = body ? strlen(body) : 0,
	                         .timeout_ms = 15000};
	struct q_err err = {0};

	q_buf_printf(&url, "%s%s", it_env("QUANTOR_SIM_URL"), path);
	req.url = url.data;
	cr_assert_eq(q_http_do(h, resp, &req, &err), 0, "%s %s: %s", method, path, err.msg);
	q_buf_release(&url);
	q_http_free(h);
}

void
it_sim_post(const char *path, const char *body)
{
	struct q_http_resp resp;

	q_http_resp_init(&resp);
	sim_do(&resp, "POST", path, body);
	cr_assert_eq(resp.status, 200, "%s: %s", path, resp.body.data);
	q_http_resp_release(&resp);
}

json_t *
it_sim_get(const char *path)
{
	struct q_http_resp resp;
	json_t *j;

	q_http_resp_init(&resp);
	sim_do(&resp, "GET", path, NULL);
	j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
	cr_assert(j != NULL, "%s: %s", path, resp.body.data);
	q_http_resp_release(&resp);
	return j;
}
