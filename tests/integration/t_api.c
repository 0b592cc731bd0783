/* The API skeleton through the real stack: nginx -> spawn-fcgi responders -> MariaDB. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"
#include "q_initdata.h"

Test(api, health_ok)
{
	struct it_resp r;

	it_request(&r, "GET", "/api/v1/health", NULL, 0, NULL);
	cr_assert_eq(r.status, 200, "body %s", r.raw.body.data);
	cr_assert_str_eq(json_string_value(json_object_get(r.json, "status")), "ok");
	cr_assert_str_eq(json_string_value(json_object_get(r.json, "db")), "ok");
	cr_assert(strncmp(it_header(&r, "Content-Type"), "application/json", 16) == 0);
	cr_assert_str_eq(it_header(&r, "Cache-Control"), "no-store");
	cr_assert_str_eq(it_header(&r, "X-Content-Type-Options"), "nosniff");
	it_release(&r);
}

Test(api, unknown_path_is_404_in_the_error_shape)
{
	struct it_resp r;

	it_request(&r, "GET", "/api/v1/no-such-thing", NULL, 0, NULL);
	it_assert_error(&r, 404, "NOT_FOUND");
	it_release(&r);
	/* A prefix of a real route is not that route. */
	it_request(&r, "GET", "/api/v1/healthz", NULL, 0, NULL);
	it_assert_error(&r, 404, "NOT_FOUND");
	it_release(&r);
}

Test(api, known_path_with_other_method_is_405_with_allow)
{
	struct it_resp r;

	it_request(&r, "DELETE", "/api/v1/health", NULL, 0, NULL);
	it_assert_error(&r, 405, "METHOD_NOT_ALLOWED");
	cr_assert_str_eq(it_header(&r, "Allow"), "GET");
	it_release(&r);
}

Test(api, oversized_body_is_413_json)
{
	struct it_resp r;
	size_t n = 200 * 1024;
	char *big = malloc(n);

	memset(big, 'x', n);
	it_request(&r, "POST", "/api/v1/health", big, n, NULL);
	it_assert_error(&r, 413, "PAYLOAD_TOO_LARGE");
	it_release(&r);
	free(big);
}

Test(api, body_on_a_route_that_takes_none_is_400)
{
	struct it_resp r;
	const char *h[] = {"Content-Type: application/json", NULL};

	/* GET with a body: nginx passes it on; the responder refuses it. */
	it_request(&r, "GET", "/api/v1/health", "{}", 2, h);
	it_assert_error(&r, 400, "BAD_REQUEST");
	it_release(&r);
}

Test(api, static_site_and_mini_app_are_served)
{
	struct it_resp r;

	it_request(&r, "GET", "/", NULL, 0, NULL);
	cr_assert_eq(r.status, 200);
	cr_assert(strstr(r.raw.body.data, "<title>Quantor") != NULL);
	cr_assert(strstr(it_header(&r, "Content-Security-Policy"), "frame-ancestors 'none'"));
	it_release(&r);
	it_request(&r, "GET", "/app/", NULL, 0, NULL);
	cr_assert_eq(r.status, 200);
	/* The Mini App is framed by Telegram's web clients, so it must allow them. */
	cr_assert(strstr(it_header(&r, "Content-Security-Policy"), "web.telegram.org"));
	it_release(&r);
}

static int
wait_health(long want, int tenths)
{
	for (int i = 0; i < tenths; i++) {
		struct it_resp r;
		long got;

		it_request(&r, "GET", "/api/v1/health", NULL, 0, NULL);
		got = r.status;
		it_release(&r);
		if (got == want)
			return 1;
		usleep(100000);
	}
	return 0;
}

static void
restart_db(void)
{
	/* Whatever the test did, leave the database running for the suites after it. */
	it_sh("./scripts/db.sh start '%s' >/dev/null 2>&1", it_env("QUANTOR_DB_DIR"));
}

Test(dbdown, health_503_while_down_and_200_after, .fini = restart_db)
{
	struct it_resp r;
	const char *msg;

	cr_assert_eq(it_sh("./scripts/db.sh stop '%s'", it_env("QUANTOR_DB_DIR")), 0);
	/* Every worker notices on its own: ask several times so each one is exercised. */
	for (int i = 0; i < 6; i++) {
		it_request(&r, "GET", "/api/v1/health", NULL, 0, NULL);
		cr_assert_eq(r.status, 503, "attempt %d: body %s", i, r.raw.body.data);
		cr_assert_str_eq(json_string_value(json_object_get(r.json, "db")), "down");
		msg = json_string_value(json_object_get(json_object_get(r.json, "error"), "code"));
		cr_assert_str_eq(msg, "DB_UNAVAILABLE");
		/* 5xx details stay in the log. */
		cr_assert(strstr(r.raw.body.data, "mysql") == NULL, "%s", r.raw.body.data);
		it_release(&r);
	}
	cr_assert_eq(it_sh("./scripts/db.sh start '%s'", it_env("QUANTOR_DB_DIR")), 0);
	cr_assert(wait_health(200, 100), "health did not recover within 10 s of the restart");
	for (int i = 0; i < 6; i++)
		cr_assert(wait_health(200, 1), "a worker still reports the database down");
}

static const char *const json_ct[] = {"Content-Type: application/json", NULL};

static void
post_dev(struct it_resp *r, const char *body, const char *const *headers)
{
	it_request(r, "POST", "/api/v1/dev/init-data", body, strlen(body), headers);
}

Test(body, malformed_json_is_400)
{
	struct it_resp r;
	const char *bad[] = {"{\"id\": 1,", "[1,2]", "not json", "{\"id\":1}{}", ""};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		post_dev(&r, bad[i], json_ct);
		it_assert_error(&r, 400, "BAD_REQUEST");
		it_release(&r);
	}
}

Test(body, unknown_field_is_400_naming_it)
{
	struct it_resp r;

	post_dev(&r, "{\"id\":5,\"first_name\":\"Ann\",\"is_admin\":true}", json_ct);
	cr_assert_eq(r.status, 400, "%s", r.raw.body.data);
	cr_assert_str_eq(
	        json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
	        "is_admin", "%s", r.raw.body.data);
	it_release(&r);
}

Test(body, wrong_type_and_missing_field_are_400_naming_them)
{
	struct it_resp r;

	post_dev(&r, "{\"id\":\"5\",\"first_name\":\"Ann\"}", json_ct);
	cr_assert_eq(r.status, 400);
	cr_assert_str_eq(
	        json_string_value(json_object_get(json_object_get(r.json, "error"), "field")), "id",
	        "%s", r.raw.body.data);
	it_release(&r);
	post_dev(&r, "{\"id\":5}", json_ct);
	cr_assert_eq(r.status, 400);
	cr_assert_str_eq(
	        json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
	        "first_name", "%s", r.raw.body.data);
	it_release(&r);
	/* A duplicate key is ambiguous: refused, not last-one-wins. */
	post_dev(&r, "{\"id\":5,\"first_name\":\"A\",\"id\":6}", json_ct);
	cr_assert_eq(r.status, 400, "%s", r.raw.body.data);
	it_release(&r);
}

Test(body, non_json_content_type_is_415)
{
	struct it_resp r;
	const char *h[] = {"Content-Type: text/plain", NULL};

	post_dev(&r, "{\"id\":5,\"first_name\":\"Ann\"}", h);
	it_assert_error(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
	it_release(&r);
}

Test(body, dev_init_data_is_valid_for_this_bot)
{
	struct it_resp r;
	struct q_initdata d;
	struct q_err err = {0};
	const char *init;

	post_dev(&r, "{\"id\":777001,\"first_name\":\"Dev\",\"username\":\"dev_user\"}", json_ct);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	init = json_string_value(json_object_get(r.json, "init_data"));
	cr_assert(init != NULL);
	cr_assert_eq(q_initdata_parse(&d, init, strlen(init), &err), 0, "%s", err.msg);
	cr_assert_eq(q_initdata_validate(&d, it_env("QUANTOR_BOT_TOKEN"), 60, (long long)time(NULL),
	                                 &err),
	             0, "%s", err.msg);
	cr_assert_eq(d.user_id, 777001);
	q_initdata_release(&d);
	/* Signed with this bot's token, not any other. */
	cr_assert_eq(q_initdata_parse(&d, init, strlen(init), &err), 0);
	cr_assert_eq(q_initdata_validate(&d, "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 0,
	                                 (long long)time(NULL), &err),
	             -1);
	q_initdata_release(&d);
	it_release(&r);
}

/* Run program with QUANTOR_CONFIG=conf and no FastCGI socket; its stderr into out. */
static int
run_with_config(const char *program, const char *conf, char *out, size_t outlen)
{
	char cmd[8192];
	FILE *p;
	size_t n;
	int st;

	snprintf(cmd, sizeof(cmd), "QUANTOR_CONFIG='%s' '%s/%s' </dev/null 2>&1", conf,
	         it_build_dir(), program);
	p = popen(cmd, "r");
	cr_assert(p != NULL);
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char tmpdir[] = "/tmp/quantor-startup-XXXXXX";

static void
mk_tmpdir(void)
{
	cr_assert(mkdtemp(tmpdir) != NULL);
}

static void
rm_tmpdir(void)
{
	it_sh("rm -rf '%s'", tmpdir);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	cr_assert(f != NULL, "%s", path);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(chmod(path, mode), 0);
}

Test(startup, broken_config_line_stops_the_api_naming_file_line_and_fix, .init = mk_tmpdir,
     .fini = rm_tmpdir)
{
	char conf[512], out[4096], where[600];

	snprintf(conf, sizeof(conf), "%s/quantor.conf", tmpdir);
	write_file(conf, "[general]\ndev = true\nthis line is broken\n", 0644);
	cr_assert_eq(run_with_config("quantor-api", conf, out, sizeof(out)), 1, "%s", out);
	snprintf(where, sizeof(where), "%s:3", conf);
	cr_assert(strstr(out, where) != NULL, "no file:line in: %s", out);
	cr_assert(strstr(out, "fix") != NULL, "no fix in: %s", out);
}

Test(startup, readable_secret_file_stops_the_api_naming_it, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	char conf[512], secret[512], text[1024], out[4096];

	snprintf(conf, sizeof(conf), "%s/quantor.conf", tmpdir);
	snprintf(secret, sizeof(secret), "%s/db_password", tmpdir);
	write_file(secret, "s3cret-db-password\n", 0644);
	snprintf(text, sizeof(text), "%s/bot_token", tmpdir);
	write_file(text, "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", 0600);
	snprintf(text, sizeof(text), "%s/hook", tmpdir);
	write_file(text, "hook-secret\n", 0600);
	snprintf(text, sizeof(text),
	         "[db]\nsocket = %s/none.sock\nuser = quantor\npassword_file = %s\n"
	         "[telegram]\nbot_token_file = %s/bot_token\nwebhook_secret_file = %s/hook\n"
	         "[vault]\npublic_key = %064d\n",
	         tmpdir, secret, tmpdir, tmpdir, 7);
	write_file(conf, text, 0644);
	cr_assert_eq(run_with_config("quantor-api", conf, out, sizeof(out)), 1, "%s", out);
	cr_assert(strstr(out, secret) != NULL, "the file is not named: %s", out);
	cr_assert(strstr(out, "chmod 600") != NULL, "no fix in: %s", out);
	cr_assert(strstr(out, "s3cret") == NULL, "the secret leaked: %s", out);
	/* The same file, once private, is accepted: the API then stops only for want of a socket. */
	cr_assert_eq(chmod(secret, 0600), 0);
	cr_assert_eq(run_with_config("quantor-api", conf, out, sizeof(out)), 2, "%s", out);
	cr_assert(strstr(out, "spawn-fcgi") != NULL, "%s", out);
}

Test(egress, published_in_both_shapes)
{
	struct it_resp r;
	json_t *cur;

	it_request(&r, "GET", "/.well-known/egress-ips", NULL, 0, NULL);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	cr_assert(json_is_array(r.json), "%s", r.raw.body.data);
	cr_assert_str_eq(json_string_value(json_array_get(r.json, 0)), "127.0.0.1/32");
	cr_assert_str_eq(json_string_value(json_array_get(r.json, 1)), "::1/128");
	it_release(&r);
	it_request(&r, "GET", "/api/v1/egress-ips", NULL, 0, NULL);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	cur = json_object_get(r.json, "current");
	cr_assert_eq(json_array_size(cur), 2);
	cr_assert(json_is_array(json_object_get(r.json, "previous")));
	cr_assert(json_is_null(json_object_get(r.json, "previous_valid_until")));
	it_release(&r);
}
