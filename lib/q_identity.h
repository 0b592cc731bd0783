/*
 * q_identity: who a request comes from. Users have no password: they are who Telegram says.
 *
 * A Mini App call carries "Authorization: tma <initData>". q_identity_check validates it
 * without touching the database (a forged or expired one is a 401 before any query), and
 * q_identity_login then finds the user by Telegram id, or creates it (appending "user.created"
 * to the audit chain in the same transaction), refreshing names that changed.
 */
#ifndef Q_IDENTITY_H
#define Q_IDENTITY_H

#include <stddef.h>

#include "q_buf.h"
#include "q_config.h"
#include "q_db.h"
#include "q_err.h"
#include "q_initdata.h"

#define Q_IDENTITY_MAX_ADMINS 64

struct q_identity_conf {
	struct q_buf bot_token; /* wiped by q_identity_conf_release */
	long long bot_id;       /* the number before ':' in the token */
	long long max_age;      /* telegram.init_data_max_age, seconds; 0: no age check */
	int verify_signature;   /* telegram.verify_signature: check the Ed25519 signature too */
	int test_env;           /* telegram.test_env: Telegram's test environment key */
	long long admins[Q_IDENTITY_MAX_ADMINS]; /* telegram.admin_ids */
	size_t nadmins;
};

struct q_user {
	long long id;
	long long telegram_id;
	long long chat_id; /* 0 until the user starts the bot chat ("telegram linked") */
	char username[65];
	char first_name[256];
	char last_name[256];
	char language[17];
	char plan[16];
	int frozen;
	int is_admin;
	int created; /* 1 when this call created the user */
};

/*
 * Load [telegram] bot_token_file (a secret file), init_data_max_age (default 86400),
 * verify_signature, test_env and admin_ids (comma-separated Telegram ids). 0, or -1 with
 * Q_E_CONFIG naming the key and the fix.
 */
int q_identity_conf_load(struct q_identity_conf *c, const struct q_config *cfg, struct q_err *err);
void q_identity_conf_release(struct q_identity_conf *c);

/* 1 when telegram_id is in telegram.admin_ids. */
int q_identity_is_admin(const struct q_identity_conf *c, long long telegram_id);

/*
 * Validate an Authorization header value ("tma <initData>") at time now, without the
 * database: the HMAC with this bot's token, the age, and when configured the Ed25519
 * signature. On success d holds the parsed initData (release with q_initdata_release) and it
 * names a user. -1 with Q_E_UNAUTHORIZED (d released) for anything missing, forged, expired,
 * for another bot, or without a user.
 */
int q_identity_check(const struct q_identity_conf *c, const char *authorization, long long now,
                     struct q_initdata *d, struct q_err *err);

/*
 * The user for the Telegram user d names, created on first sight (one row per Telegram id,
 * even when several first requests race) with "user.created" appended to the audit chain in
 * the same transaction; names and language are refreshed when they changed. 0 or -1.
 */
int q_identity_login(struct q_db *db, const struct q_identity_conf *c, const struct q_initdata *d,
                     struct q_user *u, struct q_err *err);

/*
 * The same for a Telegram user known from a bot update (from.id and names), used by the bot
 * chat: find or create. first_name may not be NULL; the others may.
 */
int q_identity_upsert(struct q_db *db, const struct q_identity_conf *c, long long telegram_id,
                      const char *username, const char *first_name, const char *last_name,
                      const char *language, struct q_user *u, struct q_err *err);

/* The user with this Telegram id: 1 found, 0 none, -1 error. */
int q_identity_by_telegram_id(struct q_db *db, const struct q_identity_conf *c,
                              long long telegram_id, struct q_user *u, struct q_err *err);

/*
 * Store chat_id for the user: the bot chat is started, the user is "telegram linked".
 * Appends "telegram.linked" to the audit chain when it changed. 0 or -1.
 */
int q_identity_link_chat(struct q_db *db, struct q_user *u, long long chat_id, struct q_err *err);

struct q_subscription {
	int found;
	char plan[16];
	char provider[24];
	char status[16];
	long long current_period_end_us; /* 0 when none */
};

/* The user's newest subscription (s->found = 0 when none). 0 or -1. */
int q_identity_subscription(struct q_db *db, long long user_id, struct q_subscription *s,
                            struct q_err *err);

#endif
