/*
 * Development-only routes: they exist only while [general] dev = true (set by make run and the
 * test stack, never by an install), so a person can try the Mini App in an ordinary browser.
 */
#include <time.h>

#include "api.h"
#include "q_buf.h"
#include "q_initdata.h"
#include "q_json.h"

/*
 * POST /api/v1/dev/init-data {"id":N,"first_name":"...","last_name"?,"username"?,
 * "language_code"?} -> {"init_data":"...","user":{...}}: an initData signed with this
 * server's bot token, exactly what Telegram would hand the Mini App for that user.
 */
int
h_dev_init_data(struct q_req *r)
{
	json_int_t id = 0;
	const char *first = NULL, *last = NULL, *username = NULL, *lang = NULL;
	struct q_buf token = Q_BUF_INIT, out = Q_BUF_INIT;
	json_t *user;
	int rc = -1;

	if (q_json_unpack(r->json, &r->err, "{s:I, s:s, s?:s, s?:s, s?:s}", "id", &id, "first_name",
	                  &first, "last_name", &last, "username", &username, "language_code",
	                  &lang) < 0)
		return -1;
	if (id <= 0 || id > (1LL << 52))
		return q_err_set_field(&r->err, "id", Q_E_BAD_REQUEST,
		                       "id must be a positive Telegram user id");
	if (*first == '\0')
		return q_err_set_field(&r->err, "first_name", Q_E_BAD_REQUEST,
		                       "first_name must not be empty");
	user = json_pack("{s:I, s:s}", "id", id, "first_name", first);
	q_json_arena_own(r->arena, user);
	if (last)
		json_object_set_new(user, "last_name", json_string(last));
	if (username)
		json_object_set_new(user, "username", json_string(username));
	if (lang)
		json_object_set_new(user, "language_code", json_string(lang));
	if (q_config_secret(r->ctx->cfg, "telegram", "bot_token_file", &token, &r->err) < 0)
		goto out;
	if (q_initdata_issue_dev(&out, token.data, user, (long long)time(NULL), &r->err) < 0)
		goto out;
	rc = q_reply(r, 200, json_pack("{s:s, s:O}", "init_data", out.data, "user", user));
out:
	q_buf_release_secret(&token);
	q_buf_release(&out);
	return rc;
}
