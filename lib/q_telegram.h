/*
 * q_telegram: the bot chat, the second control channel beside the Mini App. Telegram POSTs
 * each update to the webhook; q_telegram_handle_update records its update_id and acts on it in
 * one transaction (a redelivered update is recognised and acts once), and every answer goes
 * through the outbox, so the webhook answers Telegram quickly and nothing is sent twice.
 */
#ifndef Q_TELEGRAM_H
#define Q_TELEGRAM_H

#include <jansson.h>

#include "q_buf.h"
#include "q_config.h"
#include "q_db.h"
#include "q_err.h"
#include "q_identity.h"

struct q_telegram_conf {
	struct q_buf webhook_secret; /* [telegram] webhook_secret_file; wiped on release */
	char app_url[512];           /* the Mini App: [http] public_url + "/app/" */
	char regime_symbol[33];      /* [regime] symbol, default BTCUSDT */
};

int q_telegram_conf_load(struct q_telegram_conf *c, const struct q_config *cfg, struct q_err *err);
void q_telegram_conf_release(struct q_telegram_conf *c);

/*
 * Check the X-Telegram-Bot-Api-Secret-Token header against the configured secret in constant
 * time. 0, or -1 with Q_E_UNAUTHORIZED (missing or wrong).
 */
int q_telegram_check_secret(const struct q_telegram_conf *c, const char *header, struct q_err *err);

/*
 * Act on one update (borrowed): commands in private chats (/start, /help, /status, /bots,
 * /stop <id>, /stopall, /regime, /app; for admins /live on|off <reason> and /pulse), with
 * every reply queued in the outbox. *duplicate is 1 when this update_id was already handled
 * (nothing is done again). -1 with Q_E_BAD_REQUEST for an update without an update_id, or a
 * database error (the whole update is rolled back, so Telegram's redelivery retries it).
 */
int q_telegram_handle_update(struct q_db *db, const struct q_identity_conf *idc,
                             const struct q_telegram_conf *tc, const json_t *update, int *duplicate,
                             struct q_err *err);

#endif
