/*
 * Notifications end to end: queued in the outbox, drained by `quantorctl outbox drain`
 * through the Bot API client, received by quantor-sim's Bot API stub.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "itest.h"
#include "q_buf.h"
#include "q_ctx.h"
#include "q_db.h"
#include "q_outbox.h"

static struct q_ctx ctx;

static struct q_db *
db(void)
{
	struct q_err err = {0};
	struct q_db *d;

	if (ctx.cfg == NULL)
		cr_assert_eq(q_ctx_init(&ctx, "t_outbox", it_env("QUANTOR_CONFIG"), &err), 0, "%s",
		             err.msg);
	d = q_ctx_db(&ctx, 0, &err);
	cr_assert(d != NULL, "%s", err.msg);
	return d;
}

/* A request to quantor-sim (not through nginx). */
static void
sim(struct it_resp *r, const char *method, const char *path, const char *body)
{
	struct q_http *h = q_http_new();
	struct q_err err = {0};
	struct q_buf url = Q_BUF_INIT;
	struct q_http_req req = {0};
	const char *hdr[] = {"Content-Type: application/json", NULL};

	memset(r, 0, sizeof(*r));
	q_http_resp_init(&r->raw);
	q_buf_printf(&url, "%s%s", it_env("QUANTOR_SIM_URL"), path);
	req.method = method;
	req.url = url.data;
	req.headers = hdr;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	cr_assert_eq(q_http_do(h, &r->raw, &req, &err), 0, "quantor-sim %s %s: %s", method, path,
	             err.msg);
	r->status = r->raw.status;
	r->json = json_loadb(r->raw.body.data, r->raw.body.len, 0, NULL);
	q_buf_release(&url);
	q_http_free(h);
}

/* Run `quantorctl outbox drain`; its output into out. Returns the exit status. */
static int
drain(char *out, size_t outlen)
{
	char cmd[4096];
	FILE *p;
	size_t n;
	int st;

	snprintf(cmd, sizeof(cmd),
	         "QUANTOR_CONFIG='%s' '%s/quantorctl' outbox drain --max 1000 2>&1",
	         it_env("QUANTOR_CONFIG"), it_build_dir());
	p = popen(cmd, "r");
	cr_assert(p != NULL);
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
queue(long long chat, const char *text)
{
	struct q_err err = {0};

	cr_assert_eq(q_outbox_queue(db(), 0, chat, text, NULL, NULL, &err), 0, "%s", err.msg);
}

/* Sent messages the stub recorded for chat, with status 200. */
static size_t
delivered(long long chat, const char *text)
{
	struct it_resp r;
	char path[128];
	size_t n = 0, i;
	json_t *call;

	snprintf(path, sizeof(path), "/_sim/telegram/messages?method=sendMessage&chat_id=%lld",
	         chat);
	sim(&r, "GET", path, NULL);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	json_array_foreach(json_object_get(r.json, "calls"), i, call)
	{
		const char *t =
		        json_string_value(json_object_get(json_object_get(call, "params"), "text"));

		if (json_is_true(json_object_get(call, "ok")) && t && strstr(t, text))
			n++;
	}
	it_release(&r);
	return n;
}

static const char *
state_of(long long chat, char *out, size_t outlen)
{
	struct q_err err = {0};

	cr_assert_eq(q_db_row(db(), &err,
	                      "SELECT state FROM outbox WHERE chat_id = ? ORDER BY id DESC LIMIT 1",
	                      "i>s", chat, out, outlen),
	             1, "%s", err.msg);
	return out;
}

static void
clear_faults(void)
{
	struct it_resp r;

	sim(&r, "DELETE", "/_sim/telegram/faults", NULL);
	it_release(&r);
}

Test(outbox, a_queued_notification_arrives_at_the_bot_api, .fini = clear_faults)
{
	char out[1024], st[16];

	clear_faults();
	queue(5300001, "Your bot #1 halted: daily loss limit reached");
	cr_assert_eq(drain(out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(delivered(5300001, "daily loss limit reached"), 1);
	cr_assert_str_eq(state_of(5300001, st, sizeof(st)), "sent");
	/* Draining again sends nothing twice. */
	cr_assert_eq(drain(out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(delivered(5300001, "daily loss limit reached"), 1);
}

Test(outbox, retry_after_is_honoured, .fini = clear_faults)
{
	struct it_resp r;
	char out[1024], st[16];

	clear_faults();
	cr_assert_eq(drain(out, sizeof(out)), 0, "%s", out); /* nothing else is due */
	sim(&r, "POST", "/_sim/telegram/faults",
	    "{\"method\":\"sendMessage\",\"status\":429,\"retry_after\":2,\"count\":1}");
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	it_release(&r);
	queue(5300002, "flood control test");
	cr_assert_eq(drain(out, sizeof(out)), 0, "%s", out);
	cr_assert(strstr(out, "1 to retry") != NULL, "%s", out);
	cr_assert_str_eq(state_of(5300002, st, sizeof(st)), "pending");
	/* Before retry_after has passed, the message is not due: nothing is sent. */
	cr_assert_eq(drain(out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(delivered(5300002, "flood control test"), 0);
	sleep(3);
	cr_assert_eq(drain(out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(delivered(5300002, "flood control test"), 1, "%s", out);
	cr_assert_str_eq(state_of(5300002, st, sizeof(st)), "sent");
}

Test(outbox, a_refused_chat_is_given_up_at_once, .fini = clear_faults)
{
	struct it_resp r;
	char out[1024], st[16];

	clear_faults();
	sim(&r, "POST", "/_sim/telegram/faults",
	    "{\"method\":\"sendMessage\",\"status\":403,\"count\":1}");
	it_release(&r);
	queue(5300003, "to a chat that blocked the bot");
	cr_assert_eq(drain(out, sizeof(out)), 0, "%s", out);
	cr_assert(strstr(out, "1 given up") != NULL, "%s", out);
	cr_assert_str_eq(state_of(5300003, st, sizeof(st)), "failed");
}

Test(outbox, transient_failures_are_bounded, .fini = clear_faults)
{
	struct it_resp r;
	struct q_err err = {0};
	char out[1024], st[16];
	long long attempts = 0;

	clear_faults();
	sim(&r, "POST", "/_sim/telegram/faults",
	    "{\"method\":\"sendMessage\",\"status\":502,\"count\":100}");
	it_release(&r);
	queue(5300004, "into a broken Bot API");
	for (int i = 0; i < Q_OUTBOX_MAX_ATTEMPTS + 2; i++) {
		cr_assert_eq(drain(out, sizeof(out)), 0, "%s", out);
		/* Skip the back-off instead of waiting for it. */
		cr_assert(q_db_exec(db(), &err,
		                    "UPDATE outbox SET next_attempt_at = UTC_TIMESTAMP(6) WHERE "
		                    "chat_id = ? AND state = 'pending'",
		                    "i", 5300004LL) >= 0,
		          "%s", err.msg);
	}
	cr_assert_str_eq(state_of(5300004, st, sizeof(st)), "failed");
	cr_assert_eq(
	        q_db_row(db(), &err,
	                 "SELECT attempts FROM outbox WHERE chat_id = ? ORDER BY id DESC LIMIT 1",
	                 "i>i", 5300004LL, &attempts),
	        1);
	cr_assert_eq(attempts, Q_OUTBOX_MAX_ATTEMPTS);
}

/*
 * The whole Telegram loop: quantorctl points the webhook at this server with the secret token;
 * the sim then delivers an update the way Telegram does, and the reply comes back through the
 * outbox to the sim's Bot API.
 */
Test(outbox, set_webhook_then_telegram_delivers_and_the_reply_arrives)
{
	struct it_resp r;
	char cmd[4096], out[1024];
	FILE *p;
	size_t n;
	json_t *info;

	snprintf(cmd, sizeof(cmd), "QUANTOR_CONFIG='%s' '%s/quantorctl' telegram set-webhook 2>&1",
	         it_env("QUANTOR_CONFIG"), it_build_dir());
	p = popen(cmd, "r");
	cr_assert(p != NULL);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	cr_assert_eq(pclose(p), 0, "%s", out);
	cr_assert(strstr(out, "/api/v1/hooks/telegram") != NULL, "%s", out);

	sim(&r, "POST", "/_sim/telegram/deliver",
	    "{\"update_id\":5300100001,\"message\":{\"message_id\":7,\"date\":1,"
	    "\"from\":{\"id\":5300100,\"is_bot\":false,\"first_name\":\"Tia\"},"
	    "\"chat\":{\"id\":5300100,\"type\":\"private\"},\"text\":\"/start\"}}");
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	cr_assert_eq(json_integer_value(json_object_get(r.json, "status")), 200, "%s",
	             r.raw.body.data);
	it_release(&r);
	cr_assert_eq(drain(out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(delivered(5300100, "Welcome"), 1);

	/* Telegram was told the secret it must send back with every update. */
	sim(&r, "GET", "/_sim/telegram/messages?method=setWebhook", NULL);
	info = json_array_get(json_object_get(r.json, "calls"), 0);
	cr_assert(info != NULL, "setWebhook was not called: %s", r.raw.body.data);
	cr_assert_str_eq(
	        json_string_value(json_object_get(json_object_get(info, "params"), "secret_token")),
	        it_env("QUANTOR_TG_WEBHOOK_SECRET"));
	it_release(&r);
}
