/*
 * quantor-sim through the live test stack (QUANTOR_SIM_URL): the Telegram Bot API stub in
 * Telegram's own shapes, the recording and fault-injection control endpoints, webhook delivery,
 * and the HTTP server against hostile clients. Other suites share the simulator, so every test
 * clears the recorded calls and the faults first.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"
#include "q_buf.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static const char *const json_ct[] = {"Content-Type: application/json", NULL};
static const char *const form_ct[] = {"Content-Type: application/x-www-form-urlencoded", NULL};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* method path on the simulator, through a client the caller may keep (keep-alive) or not. */
static int
sim_do(struct q_http *h, struct it_resp *r, const char *method, const char *path, const char *body,
       const char *const *headers, long timeout_ms, struct q_err *err)
{
	struct q_buf url = Q_BUF_INIT;
	struct q_http_req req = {0};
	int rc;

	memset(r, 0, sizeof(*r));
	q_http_resp_init(&r->raw);
	q_buf_printf(&url, "%s%s", it_env("QUANTOR_SIM_URL"), path);
	req.method = method;
	req.url = url.data;
	req.headers = headers;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.timeout_ms = timeout_ms ? timeout_ms : 15000;
	rc = q_http_do(h, &r->raw, &req, err);
	r->status = r->raw.status;
	r->json = json_loadb(r->raw.body.data, r->raw.body.len, 0, NULL);
	q_buf_release(&url);
	return rc;
}

static void
sim(struct it_resp *r, const char *method, const char *path, const char *body,
    const char *const *headers)
{
	struct q_http *h = q_http_new();
	struct q_err err = {0};

	cr_assert_eq(sim_do(h, r, method, path, body, headers, 0, &err), 0, "%s %s: %s", method,
	             path, err.msg);
	q_http_free(h);
}

/* "/telegram/bot<token>/<method><rest>" */
static const char *
bot(const char *method, const char *rest)
{
	static char path[1024];

	snprintf(path, sizeof(path), "/telegram/bot%s/%s%s", it_env("QUANTOR_BOT_TOKEN"), method,
	         rest ? rest : "");
	return path;
}

/* Call a Bot API method with a JSON body; the parsed answer must be there. */
static void
tg(struct it_resp *r, const char *method, const char *json_body)
{
	sim(r, "POST", bot(method, NULL), json_body, json_ct);
	cr_assert(r->json != NULL, "%s: answer is not JSON: %s", method, r->raw.body.data);
}

static void
assert_tg_ok(struct it_resp *r)
{
	cr_assert_eq(r->status, 200, "status %ld: %s", r->status, r->raw.body.data);
	cr_assert(json_is_true(json_object_get(r->json, "ok")), "%s", r->raw.body.data);
	cr_assert(json_object_get(r->json, "result") != NULL, "%s", r->raw.body.data);
}

/* Telegram's error shape, exactly: {"ok":false,"error_code":N,"description":D[,"parameters"]}. */
static void
assert_tg_error(struct it_resp *r, long status, const char *desc)
{
	const char *d = json_string_value(json_object_get(r->json, "description"));

	cr_assert_eq(r->status, status, "status %ld, want %ld: %s", r->status, status,
	             r->raw.body.data);
	cr_assert(json_is_false(json_object_get(r->json, "ok")), "%s", r->raw.body.data);
	cr_assert_eq(json_integer_value(json_object_get(r->json, "error_code")), status, "%s",
	             r->raw.body.data);
	cr_assert(d != NULL, "%s", r->raw.body.data);
	cr_assert_str_eq(d, desc, "%s", r->raw.body.data);
	cr_assert_null(json_object_get(r->json, "result"), "%s", r->raw.body.data);
}

/* The recorded calls for a query such as "?method=sendMessage" (a new reference). */
static json_t *
calls(const char *query)
{
	struct it_resp r;
	char path[256];
	json_t *c;

	snprintf(path, sizeof(path), "/_sim/telegram/messages%s", query ? query : "");
	sim(&r, "GET", path, NULL, NULL);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	c = json_incref(json_object_get(r.json, "calls"));
	cr_assert(json_is_array(c), "%s", r.raw.body.data);
	it_release(&r);
	return c;
}

static void
post_fault(const char *json_body)
{
	struct it_resp r;

	sim(&r, "POST", "/_sim/telegram/faults", json_body, json_ct);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	it_release(&r);
}

/*
 * Before each test: the simulator is up (the stack starts it without waiting for it), and no
 * calls or faults are left by an earlier test.
 */
static void
reset(void)
{
	struct q_http *h = q_http_new();
	struct q_err err = {0};
	struct it_resp r;
	int up = 0;

	for (int i = 0; i < 100 && !up; i++) {
		up = sim_do(h, &r, "GET", "/_sim/health", NULL, NULL, 1000, &err) == 0 &&
		     r.status == 200;
		it_release(&r);
		if (!up)
			usleep(100000);
	}
	q_http_free(h);
	cr_assert(up, "quantor-sim is not answering at %s; see var/test/log/sim.log",
	          it_env("QUANTOR_SIM_URL"));
	sim(&r, "DELETE", "/_sim/telegram/messages", NULL, NULL);
	cr_assert_eq(r.status, 200);
	it_release(&r);
	sim(&r, "DELETE", "/_sim/telegram/faults", NULL, NULL);
	cr_assert_eq(r.status, 200);
	it_release(&r);
}

static void
drop_webhook(void)
{
	struct it_resp r;

	sim(&r, "POST", bot("deleteWebhook", NULL), "{}", json_ct);
	it_release(&r);
}

TestSuite(sim, .init = reset);

/* ---- raw sockets, for what no well-behaved client sends ---------------------------------- */

static int
sim_port(void)
{
	const char *u = it_env("QUANTOR_SIM_URL"), *colon = strrchr(u, ':');

	cr_assert(colon != NULL, "QUANTOR_SIM_URL %s has no port", u);
	return atoi(colon + 1);
}

static int
raw_connect(void)
{
	struct sockaddr_in sa;
	struct timeval tv = {5, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)sim_port());
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect to the sim");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void
raw_send(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t k = send(fd, c, n, MSG_NOSIGNAL);

		if (k <= 0)
			return; /* the server may close early on a refusal: its answer still counts */
		c += k;
		n -= (size_t)k;
	}
}

/* Read until the server closes (or 5 s pass) into out. */
static void
raw_read_all(int fd, struct q_buf *out)
{
	char buf[8192];
	ssize_t k;

	while ((k = recv(fd, buf, sizeof(buf), 0)) > 0)
		q_buf_add(out, buf, (size_t)k);
}

/* Send n bytes on a fresh connection, close our side, return everything the server said. */
static void
raw_exchange(const void *p, size_t n, struct q_buf *out)
{
	int fd = raw_connect();

	raw_send(fd, p, n);
	shutdown(fd, SHUT_WR);
	raw_read_all(fd, out);
	close(fd);
}

/* The status of the first response in s, 0 when there is none. */
static int
status_of(const char *s)
{
	int st = 0;

	if (sscanf(s, "HTTP/1.1 %d ", &st) != 1)
		return 0;
	return st;
}

static void
assert_raw_refused(const char *request, size_t n, int status, const char *code)
{
	struct q_buf out = Q_BUF_INIT;
	char want[64];

	raw_exchange(request, n, &out);
	cr_assert_eq(status_of(out.data), status, "want %d for %.60s..., got: %.300s", status,
	             request, out.data);
	snprintf(want, sizeof(want), "\"code\":\"%s\"", code);
	cr_assert(strstr(out.data, want) != NULL, "no %s in %.300s", want, out.data);
	cr_assert(strstr(out.data, "Connection: close") != NULL, "%.300s", out.data);
	q_buf_release(&out);
}

static void
assert_refused(const char *request, int status, const char *code)
{
	assert_raw_refused(request, strlen(request), status, code);
}

/* ---- core --------------------------------------------------------------------------------- */

Test(sim, health_lists_the_modules)
{
	struct it_resp r;
	json_t *mods;

	sim(&r, "GET", "/_sim/health", NULL, NULL);
	cr_assert_eq(r.status, 200);
	cr_assert(json_is_true(json_object_get(r.json, "ok")), "%s", r.raw.body.data);
	mods = json_object_get(r.json, "modules");
	cr_assert(json_is_array(mods) && json_array_size(mods) >= 1, "%s", r.raw.body.data);
	cr_assert_str_eq(json_string_value(json_array_get(mods, 0)), "telegram");
	cr_assert(strncmp(it_header(&r, "Content-Type"), "application/json", 16) == 0);
	it_release(&r);
	/* Another method on a control endpoint is a 405 naming the allowed one. */
	sim(&r, "POST", "/_sim/health", "{}", json_ct);
	cr_assert_eq(r.status, 405);
	cr_assert_str_eq(it_header(&r, "Allow"), "GET");
	it_release(&r);
	sim(&r, "GET", "/nowhere", NULL, NULL);
	cr_assert_eq(r.status, 404);
	cr_assert_str_eq(
	        json_string_value(json_object_get(json_object_get(r.json, "error"), "code")),
	        "NOT_FOUND");
	it_release(&r);
}

Test(sim, clock_is_close_to_real_time_at_speed_one)
{
	struct it_resp r;
	double ms;

	sim(&r, "GET", "/_sim/time", NULL, NULL);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	ms = (double)json_integer_value(json_object_get(r.json, "ms"));
	cr_assert(fabs(ms / 1000.0 - (double)time(NULL)) < 5, "%s", r.raw.body.data);
	cr_assert_float_eq(json_real_value(json_object_get(r.json, "speed")), 1.0, 1e-9);
	it_release(&r);
}

/* ---- Bot API: authentication, methods --------------------------------------------------------- */

Test(sim, wrong_token_is_401_unauthorized_and_never_logged)
{
	static const char fake[] = "999999:NotTheRealSecretTokenXYZ";
	struct it_resp r;
	struct q_buf path = Q_BUF_INIT, log = Q_BUF_INIT;
	char file[4096], buf[8192];
	const char *token = it_env("QUANTOR_BOT_TOKEN");
	json_t *c;
	FILE *f;
	size_t n;

	cr_assert(strchr(token, ':') != NULL, "QUANTOR_BOT_TOKEN is not <id>:<secret>");
	q_buf_printf(&path, "/telegram/bot%s/sendMessage", fake);
	sim(&r, "POST", path.data, "{\"chat_id\":1,\"text\":\"x\"}", json_ct);
	assert_tg_error(&r, 401, "Unauthorized");
	it_release(&r);
	/* A missing token, too. */
	sim(&r, "GET", "/telegram/bot/getMe", NULL, NULL);
	assert_tg_error(&r, 401, "Unauthorized");
	it_release(&r);
	c = calls("?method=sendMessage");
	cr_assert_eq(json_array_size(c), 1);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(c, 0), "error_code")), 401);
	json_decref(c);

	/* The request log names the path with the token redacted, real or not. */
	snprintf(file, sizeof(file), "%s/log/sim.log", it_env("QUANTOR_VAR"));
	f = fopen(file, "r");
	cr_assert(f != NULL, "cannot read %s", file);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		q_buf_add(&log, buf, n);
	fclose(f);
	cr_assert(strstr(log.data, "/telegram/bot[redacted]/sendMessage") != NULL);
	cr_assert(strstr(log.data, "NotTheRealSecretTokenXYZ") == NULL, "a token reached the log");
	cr_assert(strstr(log.data, strchr(token, ':') + 1) == NULL,
	          "the bot token reached the log");
	q_buf_release(&log);
	q_buf_release(&path);
}

Test(sim, get_me_returns_the_bot)
{
	struct it_resp r;
	json_t *u;

	sim(&r, "GET", bot("getMe", NULL), NULL, NULL);
	assert_tg_ok(&r);
	u = json_object_get(r.json, "result");
	cr_assert(json_is_true(json_object_get(u, "is_bot")));
	cr_assert_eq(json_integer_value(json_object_get(u, "id")),
	             strtoll(it_env("QUANTOR_BOT_TOKEN"), NULL, 10));
	cr_assert(json_string_value(json_object_get(u, "username")) != NULL);
	it_release(&r);
}

Test(sim, unknown_method_is_404_method_not_found)
{
	struct it_resp r;
	json_t *c;

	tg(&r, "sendCarrierPigeon", "{\"chat_id\":1}");
	assert_tg_error(&r, 404, "Not Found: method not found");
	it_release(&r);
	c = calls("?method=sendCarrierPigeon");
	cr_assert_eq(json_array_size(c), 1, "unknown methods are recorded too");
	json_decref(c);
	/* Method names are case-insensitive, as in Telegram; the record spells them right. */
	tg(&r, "SENDMESSAGE", "{\"chat_id\":7,\"text\":\"case\"}");
	assert_tg_ok(&r);
	it_release(&r);
	c = calls("?method=sendMessage");
	cr_assert_eq(json_array_size(c), 1);
	json_decref(c);
}

static void
assert_recorded_message(const char *encoding, long long chat, const char *text)
{
	json_t *c = calls("?method=sendMessage"), *rec, *p, *id;
	char chat_text[32];

	cr_assert_eq(json_array_size(c), 1, "want one call, got %zu", json_array_size(c));
	rec = json_array_get(c, 0);
	p = json_object_get(rec, "params");
	cr_assert_str_eq(json_string_value(json_object_get(rec, "encoding")), encoding);
	cr_assert(json_is_true(json_object_get(rec, "ok")));
	cr_assert_eq(json_integer_value(json_object_get(rec, "status")), 200);
	cr_assert(json_string_value(json_object_get(rec, "received")) != NULL);
	cr_assert_str_eq(json_string_value(json_object_get(p, "text")), text);
	/* JSON keeps the integer; form and query parameters are text, as they arrived. */
	id = json_object_get(p, "chat_id");
	snprintf(chat_text, sizeof(chat_text), "%lld", chat);
	if (json_is_integer(id))
		cr_assert_eq(json_integer_value(id), chat);
	else
		cr_assert_str_eq(json_string_value(id), chat_text);
	cr_assert_str_eq(json_string_value(json_object_get(
	                         json_object_get(json_object_get(rec, "result"), "chat"), "type")),
	                 "private");
	json_decref(c);
}

Test(sim, send_message_with_a_json_body)
{
	struct it_resp r;
	json_t *m;

	tg(&r, "sendMessage",
	   "{\"chat_id\":4242,\"text\":\"héllo \\u263a\",\"parse_mode\":\"HTML\"}");
	assert_tg_ok(&r);
	m = json_object_get(r.json, "result");
	cr_assert(json_integer_value(json_object_get(m, "message_id")) > 0);
	cr_assert(labs((long)json_integer_value(json_object_get(m, "date")) - (long)time(NULL)) <
	          5);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(m, "chat"), "id")), 4242);
	cr_assert_str_eq(json_string_value(json_object_get(m, "text")), "héllo ☺");
	it_release(&r);
	assert_recorded_message("json", 4242, "héllo ☺");
}

Test(sim, send_message_with_a_form_body)
{
	struct it_resp r;

	sim(&r, "POST", bot("sendMessage", NULL), "chat_id=4343&text=h%C3%A9llo+form%26co",
	    form_ct);
	assert_tg_ok(&r);
	it_release(&r);
	assert_recorded_message("form", 4343, "héllo form&co");
}

Test(sim, send_message_with_a_query_string)
{
	struct it_resp r;

	sim(&r, "GET", bot("sendMessage", "?chat_id=4444&text=via%20query"), NULL, NULL);
	assert_tg_ok(&r);
	it_release(&r);
	assert_recorded_message("query", 4444, "via query");
}

Test(sim, send_message_validation_in_telegrams_words)
{
	static const struct {
		const char *body, *desc;
	} cases[] = {
	        {"{\"text\":\"no chat\"}", "Bad Request: chat_id is empty"},
	        {"{\"chat_id\":\"\",\"text\":\"x\"}", "Bad Request: chat_id is empty"},
	        {"{\"chat_id\":\"not-a-chat\",\"text\":\"x\"}", "Bad Request: chat not found"},
	        {"{\"chat_id\":0,\"text\":\"x\"}", "Bad Request: chat not found"},
	        {"{\"chat_id\":5}", "Bad Request: message text is empty"},
	        {"{\"chat_id\":5,\"text\":\"\"}", "Bad Request: message text is empty"},
	        {"{\"chat_id\":5,\"text\":\" \\n \"}", "Bad Request: message text is empty"},
	        {"{\"chat_id\":5,\"text\":\"x\",\"parse_mode\":\"Latex\"}",
	         "Bad Request: unsupported parse_mode"},
	        {"{\"chat_id\":5,\"text\":\"x\",\"reply_markup\":\"{nope\"}",
	         "Bad Request: can't parse reply keyboard markup JSON object"},
	        {"{\"chat_id\":5,\"text\":", "Bad Request: can't parse JSON object"},
	};
	struct it_resp r;
	struct q_buf big = Q_BUF_INIT;
	json_t *c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tg(&r, "sendMessage", cases[i].body);
		assert_tg_error(&r, 400, cases[i].desc);
		it_release(&r);
	}
	/* 4096 characters pass, 4097 do not; Telegram counts UTF-16 units, so 2048 emoji fill it. */
	q_buf_adds(&big, "{\"chat_id\":5,\"text\":\"");
	for (int i = 0; i < 4096; i++)
		q_buf_addch(&big, 'a');
	q_buf_adds(&big, "\"}");
	tg(&r, "sendMessage", big.data);
	assert_tg_ok(&r);
	it_release(&r);
	q_buf_truncate(&big, big.len - 2);
	q_buf_adds(&big, "a\"}");
	tg(&r, "sendMessage", big.data);
	assert_tg_error(&r, 400, "Bad Request: message is too long");
	it_release(&r);
	q_buf_reset(&big);
	q_buf_adds(&big, "{\"chat_id\":5,\"text\":\"");
	for (int i = 0; i < 2049; i++)
		q_buf_adds(&big, "\xf0\x9f\x98\x80");
	q_buf_adds(&big, "\"}");
	tg(&r, "sendMessage", big.data);
	assert_tg_error(&r, 400, "Bad Request: message is too long");
	it_release(&r);
	q_buf_release(&big);
	/* Invalid UTF-8 in a form body. */
	sim(&r, "POST", bot("sendMessage", NULL), "chat_id=5&text=%FF%FE", form_ct);
	assert_tg_error(&r, 400, "Bad Request: strings must be encoded in UTF-8");
	it_release(&r);
	/* Refused calls are recorded with their error. */
	c = calls("?method=sendMessage");
	cr_assert_eq(json_array_size(c), sizeof(cases) / sizeof(cases[0]) + 4);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(c, 0), "error_code")), 400);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(c, 0), "description")),
	                 cases[0].desc);
	json_decref(c);
}

Test(sim, send_message_to_a_channel_username_and_a_group)
{
	struct it_resp r;
	json_t *chat;

	tg(&r, "sendMessage", "{\"chat_id\":\"@quantor_ops\",\"text\":\"checkpoint\"}");
	assert_tg_ok(&r);
	chat = json_object_get(json_object_get(r.json, "result"), "chat");
	cr_assert_str_eq(json_string_value(json_object_get(chat, "type")), "channel");
	cr_assert(json_integer_value(json_object_get(chat, "id")) < 0);
	it_release(&r);
	tg(&r, "sendMessage", "{\"chat_id\":\"-1001234567890\",\"text\":\"x\"}");
	assert_tg_ok(&r);
	chat = json_object_get(json_object_get(r.json, "result"), "chat");
	cr_assert_str_eq(json_string_value(json_object_get(chat, "type")), "supergroup");
	it_release(&r);
}

Test(sim, set_webhook_then_get_webhook_info, .fini = drop_webhook)
{
	struct it_resp r;
	struct q_buf body = Q_BUF_INIT;
	json_t *info;

	tg(&r, "setWebhook",
	   "{\"url\":\"https://quantor.example/api/v1/hooks/telegram\","
	   "\"secret_token\":\"has space\"}");
	assert_tg_error(&r, 400, "Bad Request: secret token contains unallowed characters");
	it_release(&r);
	q_buf_adds(&body, "{\"url\":\"https://q.example/h\",\"secret_token\":\"");
	for (int i = 0; i < 257; i++)
		q_buf_addch(&body, 'a');
	q_buf_adds(&body, "\"}");
	tg(&r, "setWebhook", body.data);
	assert_tg_error(&r, 400, "Bad Request: secret token is too long");
	it_release(&r);
	q_buf_release(&body);
	tg(&r, "setWebhook", "{\"url\":\"ftp://q.example/h\"}");
	assert_tg_error(&r, 400,
	                "Bad Request: bad webhook: An HTTPS URL must be provided for webhook");
	it_release(&r);

	tg(&r, "setWebhook",
	   "{\"url\":\"https://quantor.example/api/v1/hooks/telegram\","
	   "\"secret_token\":\"Abc_123-xyz\",\"max_connections\":10,"
	   "\"allowed_updates\":[\"message\",\"pre_checkout_query\"]}");
	assert_tg_ok(&r);
	cr_assert(json_is_true(json_object_get(r.json, "result")));
	cr_assert_str_eq(json_string_value(json_object_get(r.json, "description")),
	                 "Webhook was set");
	it_release(&r);
	tg(&r, "getWebhookInfo", "{}");
	assert_tg_ok(&r);
	info = json_object_get(r.json, "result");
	cr_assert_str_eq(json_string_value(json_object_get(info, "url")),
	                 "https://quantor.example/api/v1/hooks/telegram");
	cr_assert_eq(json_integer_value(json_object_get(info, "max_connections")), 10);
	cr_assert_eq(json_integer_value(json_object_get(info, "pending_update_count")), 0);
	cr_assert_str_eq(
	        json_string_value(json_array_get(json_object_get(info, "allowed_updates"), 1)),
	        "pre_checkout_query");
	/* The secret is never given back. */
	cr_assert(strstr(r.raw.body.data, "Abc_123-xyz") == NULL, "%s", r.raw.body.data);
	it_release(&r);

	tg(&r, "deleteWebhook", "{}");
	assert_tg_ok(&r);
	cr_assert_str_eq(json_string_value(json_object_get(r.json, "description")),
	                 "Webhook was deleted");
	it_release(&r);
	tg(&r, "getWebhookInfo", "{}");
	cr_assert_str_eq(
	        json_string_value(json_object_get(json_object_get(r.json, "result"), "url")), "");
	it_release(&r);
}

Test(sim, create_invoice_link_validation)
{
	static const struct {
		const char *body, *desc;
	} cases[] = {
	        {"{\"title\":\"\",\"description\":\"d\",\"payload\":\"p\",\"currency\":\"XTR\","
	         "\"prices\":[{\"label\":\"PRO\",\"amount\":250}]}",
	         "Bad Request: invoice title must be 1-32 characters long"},
	        {"{\"title\":\"123456789012345678901234567890123\",\"description\":\"d\","
	         "\"payload\":\"p\",\"currency\":\"XTR\",\"prices\":[{\"label\":\"PRO\",\"amount\":1}]}",
	         "Bad Request: invoice title must be 1-32 characters long"},
	        {"{\"title\":\"PRO\",\"payload\":\"p\",\"currency\":\"XTR\","
	         "\"prices\":[{\"label\":\"PRO\",\"amount\":1}]}",
	         "Bad Request: invoice description must be 1-255 characters long"},
	        {"{\"title\":\"PRO\",\"description\":\"d\",\"payload\":\"\",\"currency\":\"XTR\","
	         "\"prices\":[{\"label\":\"PRO\",\"amount\":1}]}",
	         "Bad Request: INVOICE_PAYLOAD_INVALID"},
	        {"{\"title\":\"PRO\",\"description\":\"d\",\"payload\":\"p\",\"currency\":\"XTR\","
	         "\"prices\":[{\"label\":\"PRO\",\"amount\":1},{\"label\":\"tax\",\"amount\":1}]}",
	         "Bad Request: PRICES_TOO_MANY"},
	        {"{\"title\":\"PRO\",\"description\":\"d\",\"payload\":\"p\",\"currency\":\"XTR\","
	         "\"prices\":[]}",
	         "Bad Request: prices must be non-empty"},
	        {"{\"title\":\"PRO\",\"description\":\"d\",\"payload\":\"p\",\"currency\":\"XTR\","
	         "\"prices\":\"[{oops\"}",
	         "Bad Request: can't parse prices JSON object"},
	        {"{\"title\":\"PRO\",\"description\":\"d\",\"payload\":\"p\",\"currency\":\"XTR\","
	         "\"prices\":[{\"label\":\"PRO\",\"amount\":0}]}",
	         "Bad Request: CURRENCY_TOTAL_AMOUNT_INVALID"},
	        {"{\"title\":\"PRO\",\"description\":\"d\",\"payload\":\"p\",\"currency\":\"USD\","
	         "\"prices\":[{\"label\":\"PRO\",\"amount\":4900}]}",
	         "Bad Request: provider_token is empty"},
	        {"{\"title\":\"PRO\",\"description\":\"d\",\"payload\":\"p\",\"currency\":\"XTR\","
	         "\"prices\":[{\"label\":\"PRO\",\"amount\":250}],\"subscription_period\":86400}",
	         "Bad Request: SUBSCRIPTION_PERIOD_INVALID"},
	        {"{\"title\":\"PRO\",\"description\":\"d\",\"payload\":\"p\",\"currency\":\"XTR\","
	         "\"prices\":[{\"label\":\"PRO\",\"amount\":20000}],\"subscription_period\":2592000}",
	         "Bad Request: STARS_SUBSCRIPTION_PRICE_INVALID"},
	};
	struct it_resp r;
	struct q_buf body = Q_BUF_INIT;
	const char *link;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tg(&r, "createInvoiceLink", cases[i].body);
		assert_tg_error(&r, 400, cases[i].desc);
		it_release(&r);
	}
	/* The payload limit is 128 bytes, not characters. */
	q_buf_adds(&body, "{\"title\":\"PRO\",\"description\":\"d\",\"currency\":\"XTR\","
	                  "\"prices\":[{\"label\":\"PRO\",\"amount\":1}],\"payload\":\"");
	for (int i = 0; i < 65; i++)
		q_buf_adds(&body, "é");
	q_buf_adds(&body, "\"}");
	tg(&r, "createInvoiceLink", body.data);
	assert_tg_error(&r, 400, "Bad Request: INVOICE_PAYLOAD_INVALID");
	it_release(&r);
	q_buf_release(&body);

	tg(&r, "createInvoiceLink",
	   "{\"title\":\"Quantor PRO\",\"description\":\"30 days of PRO\",\"payload\":\"plan:PRO:u:7\","
	   "\"provider_token\":\"\",\"currency\":\"XTR\",\"prices\":[{\"label\":\"PRO\","
	   "\"amount\":2500}],\"subscription_period\":2592000}");
	assert_tg_ok(&r);
	link = json_string_value(json_object_get(r.json, "result"));
	cr_assert(link && strncmp(link, "https://t.me/$sim_invoice/", 26) == 0, "%s",
	          r.raw.body.data);
	it_release(&r);
	/* The form way: prices as JSON-serialized text. */
	sim(&r, "POST", bot("createInvoiceLink", NULL),
	    "title=PRO&description=d&payload=p&currency=XTR&prices=%5B%7B%22label%22%3A%22PRO%22%2C"
	    "%22amount%22%3A5%7D%5D",
	    form_ct);
	assert_tg_ok(&r);
	it_release(&r);
}

/* ---- webhook delivery ----------------------------------------------------------------------- */

/* Point the webhook at the simulator's own /_sim/echo, which answers with what it received. */
static void
webhook_to_echo(const char *query, const char *secret)
{
	struct it_resp r;
	struct q_buf b = Q_BUF_INIT;

	q_buf_printf(&b, "{\"url\":\"%s/_sim/echo%s\",\"secret_token\":\"%s\"}",
	             it_env("QUANTOR_SIM_URL"), query, secret);
	tg(&r, "setWebhook", b.data);
	assert_tg_ok(&r);
	it_release(&r);
	q_buf_release(&b);
}

Test(sim, deliver_posts_the_update_with_the_secret_header, .fini = drop_webhook)
{
	struct it_resp r;
	json_t *echo, *sent;

	drop_webhook();
	sim(&r, "POST", "/_sim/telegram/deliver", "{\"update_id\":1}", json_ct);
	cr_assert_eq(r.status, 409, "no webhook: %s", r.raw.body.data);
	it_release(&r);

	webhook_to_echo("", "sEcret_42-x");
	sim(&r, "POST", "/_sim/telegram/deliver",
	    "{\"update_id\":9001,\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":77,"
	    "\"type\":\"private\"},\"from\":{\"id\":77,\"is_bot\":false,\"first_name\":\"A\"},"
	    "\"text\":\"/start\"}}",
	    json_ct);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	cr_assert_eq(json_integer_value(json_object_get(r.json, "status")), 200, "%s",
	             r.raw.body.data);
	echo = json_object_get(r.json, "body");
	cr_assert_str_eq(json_string_value(json_object_get(echo, "method")), "POST");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(echo, "headers"),
	                                                   "x-telegram-bot-api-secret-token")),
	                 "sEcret_42-x");
	cr_assert(strncmp(json_string_value(json_object_get(json_object_get(echo, "headers"),
	                                                    "content-type")),
	                  "application/json", 16) == 0);
	sent = json_loads(json_string_value(json_object_get(echo, "body")), 0, NULL);
	cr_assert(sent != NULL, "%s", r.raw.body.data);
	cr_assert_eq(json_integer_value(json_object_get(sent, "update_id")), 9001);
	cr_assert_str_eq(
	        json_string_value(json_object_get(json_object_get(sent, "message"), "text")),
	        "/start");
	json_decref(sent);
	it_release(&r);

	/* An update without an id gets the next one. */
	sim(&r, "POST", "/_sim/telegram/deliver", "{\"message\":{\"text\":\"hi\"}}", json_ct);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	cr_assert(json_integer_value(
	                  json_object_get(json_object_get(r.json, "update"), "update_id")) > 9001,
	          "%s", r.raw.body.data);
	it_release(&r);

	/* A failing webhook: its status comes back, and getWebhookInfo shows the error. */
	webhook_to_echo("?status=500", "s");
	sim(&r, "POST", "/_sim/telegram/deliver", "{\"update_id\":9003}", json_ct);
	cr_assert_eq(json_integer_value(json_object_get(r.json, "status")), 500, "%s",
	             r.raw.body.data);
	it_release(&r);
	tg(&r, "getWebhookInfo", "{}");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "result"),
	                                                   "last_error_message")),
	                 "Wrong response from the webhook: 500");
	it_release(&r);
}

Test(sim, answer_pre_checkout_query, .fini = drop_webhook)
{
	static const char invalid[] =
	        "Bad Request: query is too old and response timeout expired or query id is invalid";
	struct it_resp r;
	char id[64], body[512];

	tg(&r, "answerPreCheckoutQuery", "{\"pre_checkout_query_id\":\"q1\",\"ok\":false}");
	assert_tg_error(&r, 400, "Bad Request: error_message is required when ok is False");
	it_release(&r);
	tg(&r, "answerPreCheckoutQuery", "{\"ok\":true}");
	assert_tg_error(&r, 400, invalid);
	it_release(&r);
	tg(&r, "answerPreCheckoutQuery",
	   "{\"pre_checkout_query_id\":\"q1\",\"ok\":false,\"error_message\":\"Sold out\"}");
	assert_tg_ok(&r);
	it_release(&r);

	/* A query the simulator delivered can be answered once. */
	webhook_to_echo("", "s");
	snprintf(id, sizeof(id), "pcq-%ld-%ld", (long)getpid(), (long)time(NULL));
	snprintf(body, sizeof(body),
	         "{\"pre_checkout_query\":{\"id\":\"%s\",\"from\":{\"id\":7,\"is_bot\":false,"
	         "\"first_name\":\"A\"},\"currency\":\"XTR\",\"total_amount\":2500,"
	         "\"invoice_payload\":\"plan:PRO:u:7\"}}",
	         id);
	sim(&r, "POST", "/_sim/telegram/deliver", body, json_ct);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	it_release(&r);
	snprintf(body, sizeof(body), "pre_checkout_query_id=%s&ok=true", id);
	sim(&r, "POST", bot("answerPreCheckoutQuery", NULL), body, form_ct);
	assert_tg_ok(&r);
	it_release(&r);
	snprintf(body, sizeof(body), "{\"pre_checkout_query_id\":\"%s\",\"ok\":true}", id);
	tg(&r, "answerPreCheckoutQuery", body);
	assert_tg_error(&r, 400, invalid);
	it_release(&r);
}

/* ---- recording and faults --------------------------------------------------------------------- */

Test(sim, messages_listing_filters_by_method_chat_and_index)
{
	struct it_resp r;
	json_t *c;
	long long next;

	tg(&r, "sendMessage", "{\"chat_id\":101,\"text\":\"a\"}");
	it_release(&r);
	tg(&r, "sendMessage", "{\"chat_id\":\"102\",\"text\":\"b\"}");
	it_release(&r);
	tg(&r, "getMe", "{}");
	it_release(&r);
	tg(&r, "sendMessage", "{\"chat_id\":101,\"text\":\"c\"}");
	it_release(&r);

	c = calls(NULL);
	cr_assert_eq(json_array_size(c), 4);
	json_decref(c);
	c = calls("?method=sendMessage");
	cr_assert_eq(json_array_size(c), 3);
	json_decref(c);
	c = calls("?method=getMe");
	cr_assert_eq(json_array_size(c), 1);
	json_decref(c);
	c = calls("?chat_id=101");
	cr_assert_eq(json_array_size(c), 2);
	cr_assert_str_eq(json_string_value(json_object_get(
	                         json_object_get(json_array_get(c, 1), "params"), "text")),
	                 "c");
	json_decref(c);
	c = calls("?chat_id=102&method=sendMessage");
	cr_assert_eq(json_array_size(c), 1);
	json_decref(c);

	/* Indexes keep growing across clears; since=I lists from index I on. */
	sim(&r, "GET", "/_sim/telegram/messages", NULL, NULL);
	next = json_integer_value(json_object_get(r.json, "next"));
	cr_assert_eq(json_integer_value(json_object_get(
	                     json_array_get(json_object_get(r.json, "calls"), 3), "index")),
	             next - 1);
	it_release(&r);
	{
		char q[64];

		snprintf(q, sizeof(q), "?since=%lld", next - 2);
		c = calls(q);
		cr_assert_eq(json_array_size(c), 2);
		cr_assert_str_eq(json_string_value(json_object_get(json_array_get(c, 0), "method")),
		                 "getMe");
		json_decref(c);
		snprintf(q, sizeof(q), "?since=%lld", next);
		c = calls(q);
		cr_assert_eq(json_array_size(c), 0);
		json_decref(c);
	}
	sim(&r, "GET", "/_sim/telegram/messages?since=-1", NULL, NULL);
	cr_assert_eq(r.status, 400);
	it_release(&r);
	sim(&r, "DELETE", "/_sim/telegram/messages", NULL, NULL);
	cr_assert_eq(json_integer_value(json_object_get(r.json, "cleared")), 4);
	it_release(&r);
	c = calls(NULL);
	cr_assert_eq(json_array_size(c), 0);
	json_decref(c);
}

Test(sim, fault_429_with_retry_after_then_success)
{
	struct it_resp r;
	json_t *c;

	post_fault("{\"method\":\"sendMessage\",\"status\":429,\"retry_after\":2,\"count\":3}");
	for (int i = 0; i < 3; i++) {
		tg(&r, "sendMessage", "{\"chat_id\":55,\"text\":\"flood\"}");
		assert_tg_error(&r, 429, "Too Many Requests: retry after 2");
		cr_assert_eq(json_integer_value(json_object_get(
		                     json_object_get(r.json, "parameters"), "retry_after")),
		             2, "%s", r.raw.body.data);
		cr_assert_str_eq(it_header(&r, "Retry-After"), "2");
		it_release(&r);
	}
	/* Other methods are untouched by a sendMessage fault. */
	tg(&r, "getMe", "{}");
	assert_tg_ok(&r);
	it_release(&r);
	tg(&r, "sendMessage", "{\"chat_id\":55,\"text\":\"flood\"}");
	assert_tg_ok(&r);
	it_release(&r);

	c = calls("?method=sendMessage");
	cr_assert_eq(json_array_size(c), 4);
	for (size_t i = 0; i < 3; i++) {
		json_t *rec = json_array_get(c, i);

		cr_assert_eq(json_integer_value(json_object_get(rec, "status")), 429);
		cr_assert(json_is_true(json_object_get(rec, "fault")));
		cr_assert(json_is_false(json_object_get(rec, "ok")));
	}
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(c, 3), "status")), 200);
	json_decref(c);
	sim(&r, "GET", "/_sim/telegram/faults", NULL, NULL);
	cr_assert_eq(json_array_size(json_object_get(r.json, "faults")), 0, "%s", r.raw.body.data);
	it_release(&r);
}

Test(sim, fault_5xx_and_any_method)
{
	struct it_resp r;

	post_fault("{\"method\":\"*\",\"status\":502,\"count\":2}");
	tg(&r, "getMe", "{}");
	assert_tg_error(&r, 502, "Bad Gateway");
	it_release(&r);
	tg(&r, "sendMessage", "{\"chat_id\":1,\"text\":\"x\"}");
	assert_tg_error(&r, 502, "Bad Gateway");
	it_release(&r);
	tg(&r, "getMe", "{}");
	assert_tg_ok(&r);
	it_release(&r);

	post_fault("{\"method\":\"sendMessage\",\"status\":403,"
	           "\"description\":\"Forbidden: bot was blocked by the user\"}");
	tg(&r, "sendMessage", "{\"chat_id\":1,\"text\":\"x\"}");
	assert_tg_error(&r, 403, "Forbidden: bot was blocked by the user");
	it_release(&r);

	/* DELETE drops pending faults. */
	post_fault("{\"method\":\"getMe\",\"status\":500,\"count\":10}");
	sim(&r, "DELETE", "/_sim/telegram/faults", NULL, NULL);
	it_release(&r);
	tg(&r, "getMe", "{}");
	assert_tg_ok(&r);
	it_release(&r);
}

Test(sim, fault_requests_are_validated)
{
	static const char *const bad[] = {
	        "{\"status\":429}",
	        "{\"method\":\"sendMessage\",\"status\":200}",
	        "{\"method\":\"sendMessage\"}",
	        "{\"method\":\"sendMessage\",\"status\":429,\"count\":0}",
	        "{\"method\":\"sendMessage\",\"status\":429,\"surprise\":1}",
	        "{\"method\":\"send message\",\"status\":429}",
	        "not json",
	};
	struct it_resp r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sim(&r, "POST", "/_sim/telegram/faults", bad[i], json_ct);
		cr_assert_eq(r.status, 400, "%s -> %ld %s", bad[i], r.status, r.raw.body.data);
		cr_assert_str_eq(json_string_value(
		                         json_object_get(json_object_get(r.json, "error"), "code")),
		                 "BAD_REQUEST");
		it_release(&r);
	}
}

struct delayed {
	char path[1024];
	double seconds;
	long status;
};

static void *
delayed_call(void *arg)
{
	struct delayed *d = arg;
	struct q_http *h = q_http_new();
	struct q_err err = {0};
	struct it_resp r;
	double t0 = now_s();

	sim_do(h, &r, "POST", d->path, "{}", json_ct, 0, &err);
	d->seconds = now_s() - t0;
	d->status = r.status;
	it_release(&r);
	q_http_free(h);
	return NULL;
}

Test(sim, fault_timeout_delays_the_answer_without_stalling_others)
{
	struct q_http *h = q_http_new();
	struct q_err err = {0};
	struct delayed d = {0};
	struct it_resp r;
	pthread_t t;
	double t0;

	post_fault("{\"method\":\"getMe\",\"timeout_ms\":1500}");
	snprintf(d.path, sizeof(d.path), "%s", bot("getMe", NULL));
	cr_assert_eq(pthread_create(&t, NULL, delayed_call, &d), 0);
	usleep(200000);
	/* While that answer is held, the simulator serves everyone else at once. */
	t0 = now_s();
	for (int i = 0; i < 5; i++) {
		sim(&r, "GET", "/_sim/health", NULL, NULL);
		cr_assert_eq(r.status, 200);
		it_release(&r);
	}
	cr_assert(now_s() - t0 < 1.0, "other requests waited %.2f s", now_s() - t0);
	pthread_join(t, NULL);
	cr_assert_eq(d.status, 200);
	cr_assert(d.seconds >= 1.4, "the delayed answer came after %.2f s", d.seconds);

	/* A client with a shorter timeout gives up: the Bot API "timed out". */
	post_fault("{\"method\":\"sendMessage\",\"status\":500,\"timeout_ms\":2000}");
	cr_assert_eq(sim_do(h, &r, "POST", bot("sendMessage", NULL),
	                    "{\"chat_id\":1,\"text\":\"x\"}", json_ct, 300, &err),
	             -1);
	cr_assert_eq(err.code, Q_E_TIMEOUT, "%s", err.msg);
	it_release(&r);
	q_http_free(h);
}

/* ---- the HTTP server against hostile clients -------------------------------------------------- */

Test(sim, malformed_requests_are_400_and_closed)
{
	static const char *const bad[] = {
	        "GARBAGE\r\n\r\n",
	        "GET /_sim/health\r\n\r\n",
	        "GET  /_sim/health HTTP/1.1\r\nHost: x\r\n\r\n",
	        "GET _sim/health HTTP/1.1\r\nHost: x\r\n\r\n",
	        "GET /_sim/health HTTP/1.1\r\n\r\n",
	        "GET /_sim/health HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
	        "GET /_sim/health HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n",
	        "GET /_sim/health HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
	        "GET /_sim/health HTTP/1.1\r\nHost: x\r\n folded: 1\r\n\r\n",
	        "GET /_sim/health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
	        "GET /_sim/health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	        "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
	        "GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n",
	        "GET /_sim/health HTTP/1.1\r\nHost: x\rX: y\r\n\r\n",
	        "GET /_sim/health HTTP/x.y\r\nHost: x\r\n\r\n",
	};
	const char nul[] = "GET /_sim/health HTTP/1.1\r\nHost: \0x\r\n\r\n";

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_refused(bad[i], 400, "BAD_REQUEST");
	assert_raw_refused(nul, sizeof(nul) - 1, 400, "BAD_REQUEST");
	assert_refused("GET /_sim/health HTTP/2.0\r\nHost: x\r\n\r\n", 505,
	               "HTTP_VERSION_NOT_SUPPORTED");
	assert_refused("POST /_sim/echo HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n", 417,
	               "EXPECTATION_FAILED");
}

Test(sim, oversized_heads_and_bodies_are_refused)
{
	struct q_buf req = Q_BUF_INIT;
	struct q_http *h = q_http_new();
	struct q_err err = {0};
	struct it_resp r;
	char *big;
	size_t n = 2u << 20;

	/* One huge header: 431. */
	q_buf_adds(&req, "GET /_sim/health HTTP/1.1\r\nHost: x\r\nX-Big: ");
	for (int i = 0; i < 20000; i++)
		q_buf_addch(&req, 'a');
	q_buf_adds(&req, "\r\n\r\n");
	assert_raw_refused(req.data, req.len, 431, "HEADERS_TOO_LARGE");
	/* Many small ones: 431 too. */
	q_buf_reset(&req);
	q_buf_adds(&req, "GET /_sim/health HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < 150; i++)
		q_buf_printf(&req, "X-%d: 1\r\n", i);
	q_buf_adds(&req, "\r\n");
	assert_raw_refused(req.data, req.len, 431, "HEADERS_TOO_LARGE");
	/* A request line over 8 KiB: 414. */
	q_buf_reset(&req);
	q_buf_adds(&req, "GET /");
	for (int i = 0; i < 9000; i++)
		q_buf_addch(&req, 'a');
	q_buf_adds(&req, " HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_raw_refused(req.data, req.len, 414, "URI_TOO_LONG");
	/* A body over 1 MiB is refused on its Content-Length, before it is read. */
	assert_refused("POST /_sim/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n",
	               413, "PAYLOAD_TOO_LARGE");
	q_buf_release(&req);

	/* And a real client sending 2 MiB reads the 413, not a reset. */
	big = malloc(n + 1);
	memset(big, 'x', n);
	big[n] = '\0';
	cr_assert_eq(sim_do(h, &r, "POST", "/_sim/echo", big, NULL, 0, &err), 0, "%s", err.msg);
	cr_assert_eq(r.status, 413, "%s", r.raw.body.data);
	it_release(&r);
	/* Exactly 1 MiB is fine. */
	big[1u << 20] = '\0';
	cr_assert_eq(sim_do(h, &r, "POST", "/_sim/echo", big, NULL, 0, &err), 0, "%s", err.msg);
	cr_assert_eq(r.status, 200, "%ld", r.status);
	cr_assert_eq(json_string_length(json_object_get(r.json, "body")), 1u << 20);
	it_release(&r);
	free(big);
	q_http_free(h);
}

Test(sim, chunked_uploads_are_refused_with_411)
{
	static const char chunked[] = "POST /_sim/echo HTTP/1.1\r\nHost: x\r\n"
	                              "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
	static const char both[] = "POST /_sim/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	                           "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";

	assert_raw_refused(chunked, sizeof(chunked) - 1, 411, "LENGTH_REQUIRED");
	/* Both framings at once is how requests get smuggled: 400. */
	assert_raw_refused(both, sizeof(both) - 1, 400, "BAD_REQUEST");
}

Test(sim, keep_alive_pipelining_http10_head_and_100_continue)
{
	static const char two[] = "GET /_sim/health HTTP/1.1\r\nHost: x\r\n\r\n"
	                          "POST /_sim/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
	                          "Connection: close\r\n\r\nabc";
	static const char head[] = "HEAD /_sim/echo HTTP/1.0\r\n\r\n";
	static const char expect[] = "POST /_sim/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	                             "Expect: 100-continue\r\nConnection: close\r\n\r\n";
	struct q_buf out = Q_BUF_INIT;
	const char *second, *end;
	int fd;

	/* Two pipelined requests in one write: two answers, in order, then the close asked for. */
	raw_exchange(two, sizeof(two) - 1, &out);
	cr_assert_eq(status_of(out.data), 200, "%s", out.data);
	cr_assert(strstr(out.data, "Connection: keep-alive") != NULL, "%s", out.data);
	second = strstr(out.data + 1, "HTTP/1.1 ");
	cr_assert(second != NULL, "one answer only: %s", out.data);
	cr_assert_eq(status_of(second), 200, "%s", second);
	cr_assert(strstr(second, "\"body\":\"abc\"") != NULL, "%s", second);
	cr_assert(strstr(second, "Connection: close") != NULL, "%s", second);
	q_buf_reset(&out);

	/* HTTP/1.0 closes unless asked otherwise; HEAD has no body. */
	raw_exchange(head, strlen(head), &out);
	cr_assert_eq(status_of(out.data), 200, "%s", out.data);
	cr_assert(strstr(out.data, "Connection: close") != NULL, "%s", out.data);
	end = strstr(out.data, "\r\n\r\n");
	cr_assert(end != NULL && end[4] == '\0', "HEAD answered with a body: %s", out.data);
	q_buf_reset(&out);

	/* Expect: 100-continue gets the interim answer before the body is sent. */
	fd = raw_connect();
	raw_send(fd, expect, strlen(expect));
	{
		char buf[64] = {0};
		ssize_t k = recv(fd, buf, sizeof(buf) - 1, 0);

		cr_assert(k > 0 && strncmp(buf, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0, "%s",
		          buf);
	}
	raw_send(fd, "hello", 5);
	raw_read_all(fd, &out);
	close(fd);
	cr_assert_eq(status_of(out.data), 200, "%s", out.data);
	cr_assert(strstr(out.data, "\"body\":\"hello\"") != NULL, "%s", out.data);
	q_buf_release(&out);
}

Test(sim, silent_and_half_sent_clients_do_not_block_others)
{
	static const char half[] = "POST /_sim/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
	                           "\r\nab";
	struct q_http *h = q_http_new();
	struct q_err err = {0};
	struct it_resp r;
	int silent[4], partial;

	for (int i = 0; i < 4; i++)
		silent[i] = raw_connect();
	partial = raw_connect();
	raw_send(partial, half, strlen(half));
	for (int i = 0; i < 20; i++) {
		double t0 = now_s();

		cr_assert_eq(sim_do(h, &r, "GET", "/_sim/health", NULL, NULL, 2000, &err), 0,
		             "request %d: %s", i, err.msg);
		cr_assert_eq(r.status, 200);
		cr_assert(now_s() - t0 < 1.0, "request %d took %.2f s", i, now_s() - t0);
		it_release(&r);
	}
	for (int i = 0; i < 4; i++)
		close(silent[i]);
	close(partial);
	q_http_free(h);
}

Test(sim, random_garbage_never_brings_it_down)
{
	struct q_buf in = Q_BUF_INIT, out = Q_BUF_INIT;
	struct it_resp r;
	unsigned seed = 20261121;

	for (int i = 0; i < 300; i++) {
		int n = rand_r(&seed) % 400;

		q_buf_reset(&in);
		q_buf_reset(&out);
		if (i % 2)
			q_buf_adds(&in, i % 4 == 1 ? "GET /" : "POST /_sim/echo HTTP/1.1\r\n");
		for (int k = 0; k < n; k++)
			q_buf_addch(&in, (char)(rand_r(&seed) % 256));
		if (i % 3 == 0)
			q_buf_adds(&in, "\r\n\r\n");
		raw_exchange(in.data, in.len, &out);
		/* Whatever came back is one HTTP answer or nothing at all. */
		cr_assert(out.len == 0 || strncmp(out.data, "HTTP/1.1 ", 9) == 0, "input %d: %.80s",
		          i, out.data);
	}
	q_buf_release(&in);
	q_buf_release(&out);
	sim(&r, "GET", "/_sim/health", NULL, NULL);
	cr_assert_eq(r.status, 200);
	it_release(&r);
}

#define CLIENTS 8
#define PER_CLIENT 200

struct client {
	char path[1024];
	int id;
	int ok;
	char error[256];
};

/* PER_CLIENT sendMessage calls on one keep-alive connection (one q_http handle). */
static void *
client_run(void *arg)
{
	struct client *c = arg;
	struct q_http *h = q_http_new();
	struct q_err err = {0};
	struct it_resp r;
	char body[128];

	for (int i = 0; i < PER_CLIENT; i++) {
		snprintf(body, sizeof(body), "{\"chat_id\":%d,\"text\":\"m%d\"}", 900000 + c->id,
		         i);
		if (sim_do(h, &r, "POST", c->path, body, json_ct, 0, &err) < 0) {
			snprintf(c->error, sizeof(c->error), "call %d: %.200s", i, err.msg);
			it_release(&r);
			break;
		}
		if (r.status == 200 && json_is_true(json_object_get(r.json, "ok")))
			c->ok++;
		else if (!c->error[0])
			snprintf(c->error, sizeof(c->error), "call %d: %ld %s", i, r.status,
			         r.raw.body.data);
		it_release(&r);
	}
	q_http_free(h);
	return NULL;
}

Test(sim, many_concurrent_keep_alive_clients_are_all_answered, .timeout = 120)
{
	struct client cl[CLIENTS];
	pthread_t t[CLIENTS];
	json_t *c, *rec, *seen = json_object();
	size_t i;

	for (int k = 0; k < CLIENTS; k++) {
		memset(&cl[k], 0, sizeof(cl[k]));
		cl[k].id = k;
		snprintf(cl[k].path, sizeof(cl[k].path), "%s", bot("sendMessage", NULL));
		cr_assert_eq(pthread_create(&t[k], NULL, client_run, &cl[k]), 0);
	}
	for (int k = 0; k < CLIENTS; k++)
		pthread_join(t[k], NULL);
	for (int k = 0; k < CLIENTS; k++)
		cr_assert_eq(cl[k].ok, PER_CLIENT, "client %d: %d answered; %s", k, cl[k].ok,
		             cl[k].error);
	/* Every call was recorded once, and message ids never repeat. */
	c = calls("?method=sendMessage");
	cr_assert_eq(json_array_size(c), (size_t)CLIENTS * PER_CLIENT);
	json_array_foreach(c, i, rec)
	{
		char id[32];

		snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT,
		         json_integer_value(
		                 json_object_get(json_object_get(rec, "result"), "message_id")));
		cr_assert_null(json_object_get(seen, id), "message_id %s twice", id);
		json_object_set_new(seen, id, json_true());
	}
	json_decref(c);
	json_decref(seen);
	c = calls("?chat_id=900003");
	cr_assert_eq(json_array_size(c), PER_CLIENT);
	json_decref(c);
}
