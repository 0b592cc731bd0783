#include "q_outbox.h"
#include "q_json.h"
#include "q_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
q_tg_api_load(struct q_tg_api *api, const struct q_config *cfg, struct q_err *err)
{
	const char *base = q_config_get(cfg, "telegram", "api_base", "https://api.telegram.org");
	size_t n = strlen(base);

	memset(api, 0, sizeof(api->base));
	q_buf_init(&api->token);
	while (n && base[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof(api->base) ||
	    (strncmp(base, "https://", 8) != 0 && strncmp(base, "http://", 7) != 0))
		return q_err_set(err, Q_E_CONFIG,
		                 "%s: [telegram] api_base = %s: give an http(s) URL such as "
		                 "https://api.telegram.org",
		                 q_config_path(cfg), base);
	memcpy(api->base, base, n);
	api->base[n] = '\0';
	return q_config_secret(cfg, "telegram", "bot_token_file", &api->token, err);
}

void
q_tg_api_release(struct q_tg_api *api)
{
	q_buf_release_secret(&api->token);
}

int
q_tg_call(struct q_http *http, const struct q_tg_api *api, const char *method, const json_t *params,
          json_t **result, long *retry_after, struct q_err *err)
{
	static const char *const headers[] = {"Content-Type: application/json", NULL};
	struct q_http_req req = {0};
	struct q_http_resp resp;
	struct q_buf url = Q_BUF_INIT;
	json_t *body = NULL;
	char *payload;
	const char *desc;
	int rc = -1;

	if (result)
		*result = NULL;
	if (retry_after)
		*retry_after = 0;
	payload = json_dumps(params, JSON_COMPACT);
	if (payload == NULL)
		return q_err_set(err, Q_E_INTERNAL, "Bot API %s: parameters not encodable", method);
	q_http_resp_init(&resp);
	q_buf_printf(&url, "%s/bot%s/%s", api->base, api->token.data, method);
	req.method = "POST";
	req.url = url.data;
	req.headers = headers;
	req.body = payload;
	req.body_len = strlen(payload);
	req.timeout_ms = 10000;
	if (q_http_do(http, &resp, &req, err) < 0)
		goto out;
	body = json_loadb(resp.body.data, resp.body.len, 0, NULL);
	if (resp.status == 200 && json_is_true(json_object_get(body, "ok"))) {
		if (result)
			*result = json_incref(json_object_get(body, "result"));
		rc = 0;
		goto out;
	}
	desc = json_string_value(json_object_get(body, "description"));
	if (desc == NULL)
		desc = "no description";
	if (resp.status == 429) {
		json_int_t ra = json_integer_value(
		        json_object_get(json_object_get(body, "parameters"), "retry_after"));

		if (retry_after)
			*retry_after = ra > 0 ? (long)ra : 1;
		q_err_set(err, Q_E_RATE_LIMITED, "Bot API %s: %s", method, desc);
	} else if (resp.status == 400 || resp.status == 403 || resp.status == 404) {
		q_err_set(err, Q_E_BAD_REQUEST, "Bot API %s: %ld %s", method, resp.status, desc);
	} else {
		q_err_set(err, Q_E_HTTP, "Bot API %s: HTTP %ld %s", method, resp.status, desc);
	}
out:
	json_decref(body);
	free(payload);
	q_buf_release_secret(&url);
	q_http_resp_release(&resp);
	return rc;
}

/* Text cut to Telegram's limit in characters (UTF-8), with an ellipsis when cut. */
static void
clip_text(struct q_buf *out, const char *text)
{
	size_t chars = 0, i;

	for (i = 0; text[i]; i++) {
		if (((unsigned char)text[i] & 0xC0) != 0x80 && ++chars > Q_OUTBOX_MAX_TEXT - 1)
			break;
	}
	q_buf_add(out, text, i);
	if (text[i])
		q_buf_adds(out, "\xe2\x80\xa6");
}

static const char sql_queue[] =
        "INSERT IGNORE INTO outbox (user_id, chat_id, text, reply_markup, dedupe_key) "
        "VALUES (?, ?, ?, ?, ?)";

int
q_outbox_queue(struct q_db *db, long long user_id, long long chat_id, const char *text,
               const json_t *reply_markup, const char *dedupe_key, struct q_err *err)
{
	struct q_buf t = Q_BUF_INIT;
	char *markup = NULL;
	int rc = -1;

	if (text == NULL || *text == '\0')
		return q_err_set(err, Q_E_INTERNAL, "outbox: empty message");
	clip_text(&t, text);
	if (reply_markup && (markup = json_dumps(reply_markup, JSON_COMPACT)) == NULL) {
		q_err_set(err, Q_E_INTERNAL, "outbox: reply_markup not encodable");
		goto out;
	}
	if (user_id > 0)
		rc = q_db_exec(db, err, sql_queue, "iisss", user_id, chat_id, t.data, markup,
		               dedupe_key) < 0
		             ? -1
		             : 0;
	else
		rc = q_db_exec(db, err, sql_queue, "nisss", chat_id, t.data, markup, dedupe_key) < 0
		             ? -1
		             : 0;
out:
	free(markup);
	q_buf_release(&t);
	return rc;
}

static const char sql_due[] = "SELECT id, chat_id, text, reply_markup, attempts FROM outbox "
                              "WHERE state = 'pending' AND next_attempt_at <= UTC_TIMESTAMP(6) "
                              "ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED";
static const char sql_sent[] =
        "UPDATE outbox SET state = 'sent', sent_at = UTC_TIMESTAMP(6), attempts = attempts + 1, "
        "last_error = NULL WHERE id = ?";
static const char sql_retry[] =
        "UPDATE outbox SET attempts = attempts + ?, last_error = ?, "
        "next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND WHERE id = ?";
static const char sql_failed[] =
        "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?";

struct one {
	struct q_http *http;
	const struct q_tg_api *api;
	struct q_outbox_stats *st;
	int found;
};

/*
 * Claim the oldest due message, send it, record the outcome: one transaction per message, so
 * the row lock that keeps other senders away is held only while this one is in flight.
 */
static int
send_one(struct q_db *db, void *arg, struct q_err *err)
{
	struct one *o = arg;
	long long id = 0, chat = 0, attempts = 0, wait;
	long retry_after = 0;
	char ids[24], n[24];
	struct q_buf text = Q_BUF_INIT, markup = Q_BUF_INIT;
	json_t *params = NULL;
	struct q_err e = {0};
	int rc = -1, r;

	o->found = 0;
	r = q_db_row(db, err, sql_due, ">iibbi", &id, &chat, &text, &markup, &attempts);
	if (r <= 0) {
		rc = r;
		goto out;
	}
	o->found = 1;
	params = json_pack("{s:I, s:s}", "chat_id", (json_int_t)chat, "text", text.data);
	if (markup.len) {
		json_t *m = json_loadb(markup.data, markup.len, 0, NULL);

		if (m)
			json_object_set_new(params, "reply_markup", m);
	}
	if (q_tg_call(o->http, o->api, "sendMessage", params, NULL, &retry_after, &e) == 0) {
		rc = q_db_exec(db, err, sql_sent, "i", id) < 0 ? -1 : 0;
		o->st->sent++;
		goto out;
	}
	if (e.code == Q_E_BAD_REQUEST || attempts + 1 >= Q_OUTBOX_MAX_ATTEMPTS) {
		snprintf(ids, sizeof(ids), "%lld", id);
		snprintf(n, sizeof(n), "%lld", attempts + 1);
		q_logkv(Q_LOG_WARN, "outbox.gave_up", "id", ids, "attempts", n, "reason", e.msg,
		        (char *)NULL);
		rc = q_db_exec(db, err, sql_failed, "si", e.msg, id) < 0 ? -1 : 0;
		o->st->failed++;
		goto out;
	}
	/* Telegram's flood control says how long to wait, and waiting is not a failed attempt of
	 * ours; anything else backs off 2, 4, 8... seconds. */
	wait = e.code == Q_E_RATE_LIMITED ? (long long)retry_after : 2LL << attempts;
	rc = q_db_exec(db, err, sql_retry, "isii", e.code == Q_E_RATE_LIMITED ? 0LL : 1LL, e.msg,
	               wait, id) < 0
	             ? -1
	             : 0;
	snprintf(ids, sizeof(ids), "%lld", id);
	snprintf(n, sizeof(n), "%lld", wait);
	q_logkv(Q_LOG_INFO, "outbox.retry", "id", ids, "wait_s", n, "reason", e.msg, (char *)NULL);
	o->st->retried++;
out:
	json_decref(params);
	q_buf_release(&text);
	q_buf_release(&markup);
	return rc;
}

int
q_outbox_drain(struct q_db *db, struct q_http *http, const struct q_tg_api *api, int max,
               struct q_outbox_stats *st, struct q_err *err)
{
	struct one o = {http, api, st, 0};

	memset(st, 0, sizeof(*st));
	for (int i = 0; i < max; i++) {
		if (q_db_tx(db, send_one, &o, err) < 0)
			return -1;
		if (!o.found)
			break;
	}
	return 0;
}
