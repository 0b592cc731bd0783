#include "q_identity.h"
#include "q_audit.h"
#include "q_log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int
q_identity_conf_load(struct q_identity_conf *c, const struct q_config *cfg, struct q_err *err)
{
	const char *ids, *p;

	memset(c, 0, sizeof(*c));
	q_buf_init(&c->bot_token);
	if (q_config_secret(cfg, "telegram", "bot_token_file", &c->bot_token, err) < 0)
		goto fail;
	c->bot_id = q_initdata_bot_id(c->bot_token.data);
	if (c->bot_id <= 0) {
		q_err_set(err, Q_E_CONFIG,
		          "%s: [telegram] bot_token_file holds no bot token of the form "
		          "<bot id>:<secret>; paste the token @BotFather gave you",
		          q_config_path(cfg));
		goto fail;
	}
	if (q_config_get_int(cfg, "telegram", "init_data_max_age", 86400, 0, 315360000, &c->max_age,
	                     err) < 0 ||
	    q_config_get_bool(cfg, "telegram", "verify_signature", 0, &c->verify_signature, err) <
	            0 ||
	    q_config_get_bool(cfg, "telegram", "test_env", 0, &c->test_env, err) < 0)
		goto fail;
	ids = q_config_get(cfg, "telegram", "admin_ids", "");
	for (p = ids; *p;) {
		char *end;
		long long id;

		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		id = strtoll(p, &end, 10);
		if (end == p || id <= 0 || (*end && *end != ',' && *end != ' ')) {
			q_err_set(err, Q_E_CONFIG,
			          "%s: [telegram] admin_ids = %s: list Telegram user ids separated "
			          "by commas",
			          q_config_path(cfg), ids);
			goto fail;
		}
		if (c->nadmins == Q_IDENTITY_MAX_ADMINS) {
			q_err_set(err, Q_E_CONFIG, "%s: [telegram] admin_ids: at most %d admins",
			          q_config_path(cfg), Q_IDENTITY_MAX_ADMINS);
			goto fail;
		}
		c->admins[c->nadmins++] = id;
		p = end;
	}
	return 0;
fail:
	q_identity_conf_release(c);
	return -1;
}

void
q_identity_conf_release(struct q_identity_conf *c)
{
	q_buf_release_secret(&c->bot_token);
}

int
q_identity_is_admin(const struct q_identity_conf *c, long long telegram_id)
{
	for (size_t i = 0; i < c->nadmins; i++)
		if (c->admins[i] == telegram_id)
			return 1;
	return 0;
}

int
q_identity_check(const struct q_identity_conf *c, const char *authorization, long long now,
                 struct q_initdata *d, struct q_err *err)
{
	const char *s = authorization;

	memset(d, 0, sizeof(*d));
	if (s == NULL || *s == '\0')
		return q_err_set(err, Q_E_UNAUTHORIZED,
		                 "missing Authorization header: send \"tma <initData>\"");
	if (strncasecmp(s, "tma ", 4) != 0)
		return q_err_set(err, Q_E_UNAUTHORIZED,
		                 "Authorization must use the tma scheme: \"tma <initData>\"");
	s += 4;
	while (*s == ' ')
		s++;
	if (q_initdata_parse(d, s, strlen(s), err) < 0)
		return -1;
	if (q_initdata_validate(d, c->bot_token.data, c->max_age, now, err) < 0)
		goto fail;
	if (c->verify_signature && q_initdata_verify_signature(d, c->bot_id, c->test_env, err) < 0)
		goto fail;
	if (d->user_id <= 0) {
		q_err_set(err, Q_E_UNAUTHORIZED, "initData names no user");
		goto fail;
	}
	return 0;
fail:
	q_initdata_release(d);
	return -1;
}

/* Copy at most size-1 bytes of s, cut at a UTF-8 character boundary. */
static void
copy_utf8(char *dst, size_t size, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	if (n)
		memcpy(dst, s, n);
	dst[n] = '\0';
}

static const char sql_by_tg[] =
        "SELECT id, telegram_id, chat_id, username, first_name, last_name, language, plan, frozen "
        "FROM users WHERE telegram_id = ?";

int
q_identity_by_telegram_id(struct q_db *db, const struct q_identity_conf *c, long long telegram_id,
                          struct q_user *u, struct q_err *err)
{
	struct q_user t;
	long long frozen = 0;
	int rc;

	memset(&t, 0, sizeof(t));
	rc = q_db_row(db, err, sql_by_tg, "i>iiisssssi", telegram_id, &t.id, &t.telegram_id,
	              &t.chat_id, t.username, sizeof(t.username), t.first_name,
	              sizeof(t.first_name), t.last_name, sizeof(t.last_name), t.language,
	              sizeof(t.language), t.plan, sizeof(t.plan), &frozen);
	if (rc == 1) {
		t.frozen = frozen != 0;
		t.is_admin = q_identity_is_admin(c, t.telegram_id);
		*u = t;
	}
	return rc;
}

struct create {
	struct q_user *u;
};

static const char sql_insert[] =
        "INSERT INTO users (telegram_id, username, first_name, last_name, language) "
        "VALUES (?, ?, ?, ?, ?)";

/* One transaction: the row and its audit event commit together or not at all. */
static int
create_tx(struct q_db *db, void *arg, struct q_err *err)
{
	struct q_user *u = ((struct create *)arg)->u;
	char actor[64];
	json_t *data;
	int rc;

	if (q_db_exec(db, err, sql_insert, "issss", u->telegram_id,
	              u->username[0] ? u->username : NULL, u->first_name,
	              u->last_name[0] ? u->last_name : NULL,
	              u->language[0] ? u->language : NULL) < 0)
		return -1;
	u->id = (long long)q_db_insert_id(db);
	snprintf(actor, sizeof(actor), "user:%lld", u->id);
	data = json_pack("{s:I}", "telegram_id", (json_int_t)u->telegram_id);
	rc = q_audit_append_tx(db, actor, u->id, "user.created", data, NULL, err);
	json_decref(data);
	return rc;
}

static const char sql_refresh[] =
        "UPDATE users SET username = ?, first_name = ?, last_name = ?, language = ? WHERE id = ?";

int
q_identity_upsert(struct q_db *db, const struct q_identity_conf *c, long long telegram_id,
                  const char *username, const char *first_name, const char *last_name,
                  const char *language, struct q_user *u, struct q_err *err)
{
	struct q_user want;
	struct q_err e = {0};
	struct create cr = {&want};
	int rc;

	memset(&want, 0, sizeof(want));
	want.telegram_id = telegram_id;
	copy_utf8(want.username, sizeof(want.username), username);
	copy_utf8(want.first_name, sizeof(want.first_name), first_name);
	copy_utf8(want.last_name, sizeof(want.last_name), last_name);
	copy_utf8(want.language, sizeof(want.language), language);

	rc = q_identity_by_telegram_id(db, c, telegram_id, u, err);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		if (q_db_tx(db, create_tx, &cr, &e) == 0) {
			snprintf(want.plan, sizeof(want.plan), "FREE");
			want.is_admin = q_identity_is_admin(c, telegram_id);
			want.created = 1;
			*u = want;
			q_log(Q_LOG_INFO, "user.created", "user=%lld", want.id);
			return 0;
		}
		/* Another request created it first: the UNIQUE key on telegram_id says so. */
		if (e.code != Q_E_CONFLICT) {
			*err = e;
			return -1;
		}
		rc = q_identity_by_telegram_id(db, c, telegram_id, u, err);
		if (rc <= 0)
			return rc < 0 ? -1
			              : q_err_set(err, Q_E_INTERNAL,
			                          "user vanished after a conflict");
	}
	if (strcmp(u->username, want.username) == 0 &&
	    strcmp(u->first_name, want.first_name) == 0 &&
	    strcmp(u->last_name, want.last_name) == 0 && strcmp(u->language, want.language) == 0)
		return 0;
	if (q_db_exec(db, err, sql_refresh, "ssssi", want.username[0] ? want.username : NULL,
	              want.first_name, want.last_name[0] ? want.last_name : NULL,
	              want.language[0] ? want.language : NULL, u->id) < 0)
		return -1;
	memcpy(u->username, want.username, sizeof(u->username));
	memcpy(u->first_name, want.first_name, sizeof(u->first_name));
	memcpy(u->last_name, want.last_name, sizeof(u->last_name));
	memcpy(u->language, want.language, sizeof(u->language));
	return 0;
}

int
q_identity_login(struct q_db *db, const struct q_identity_conf *c, const struct q_initdata *d,
                 struct q_user *u, struct q_err *err)
{
	if (d->user_id <= 0)
		return q_err_set(err, Q_E_UNAUTHORIZED, "initData names no user");
	return q_identity_upsert(db, c, d->user_id, d->username, d->first_name ? d->first_name : "",
	                         d->last_name, d->language_code, u, err);
}

struct link {
	struct q_user *u;
	long long chat_id;
};

static int
link_tx(struct q_db *db, void *arg, struct q_err *err)
{
	struct link *l = arg;
	char actor[64];
	json_t *data;
	int rc;

	if (q_db_exec(db, err, "UPDATE users SET chat_id = ? WHERE id = ?", "ii", l->chat_id,
	              l->u->id) < 0)
		return -1;
	snprintf(actor, sizeof(actor), "user:%lld", l->u->id);
	data = json_pack("{s:I}", "chat_id", (json_int_t)l->chat_id);
	rc = q_audit_append_tx(db, actor, l->u->id, "telegram.linked", data, NULL, err);
	json_decref(data);
	return rc;
}

int
q_identity_link_chat(struct q_db *db, struct q_user *u, long long chat_id, struct q_err *err)
{
	struct link l = {u, chat_id};

	if (u->chat_id == chat_id)
		return 0;
	if (q_db_tx(db, link_tx, &l, err) < 0)
		return -1;
	u->chat_id = chat_id;
	return 0;
}

int
q_identity_subscription(struct q_db *db, long long user_id, struct q_subscription *s,
                        struct q_err *err)
{
	int r;

	memset(s, 0, sizeof(*s));
	r = q_db_row(db, err,
	             "SELECT plan, provider, status, COALESCE(current_period_end, 0) "
	             "FROM subscriptions WHERE user_id = ? ORDER BY id DESC LIMIT 1",
	             "i>ssst", user_id, s->plan, sizeof(s->plan), s->provider, sizeof(s->provider),
	             s->status, sizeof(s->status), &s->current_period_end_us);
	if (r < 0)
		return -1;
	s->found = r == 1;
	return 0;
}
