/*
 * q_outbox: Telegram messages to users, queued in the database and sent later.
 *
 * Anything that wants to tell a user something queues a message (inside its own transaction
 * when it has one, so the notice exists exactly when the change does). A sender (the trader
 * every tick, `quantorctl outbox drain`) drains the queue through the Bot API's sendMessage:
 * each message is marked sent once Telegram accepted it; a 429 waits the retry_after Telegram
 * asks for; other transient failures back off; a message is given up after
 * Q_OUTBOX_MAX_ATTEMPTS attempts, or at once when Telegram refuses it for good (the user
 * blocked the bot, the chat is gone), with a log line either way.
 */
#ifndef Q_OUTBOX_H
#define Q_OUTBOX_H

#include <jansson.h>

#include "q_buf.h"
#include "q_config.h"
#include "q_db.h"
#include "q_err.h"
#include "q_http.h"

#define Q_OUTBOX_MAX_ATTEMPTS 5
#define Q_OUTBOX_MAX_TEXT 4096 /* Telegram's limit on a message, in characters */

/* The Bot API endpoint: [telegram] api_base (default https://api.telegram.org) + the token. */
struct q_tg_api {
	char base[512];
	struct q_buf token; /* wiped by q_tg_api_release */
};

int q_tg_api_load(struct q_tg_api *api, const struct q_config *cfg, struct q_err *err);
void q_tg_api_release(struct q_tg_api *api);

/*
 * Call Bot API method with a JSON object of parameters; on {"ok":true} *result gets a new
 * reference to "result" (may be NULL when not wanted). Telegram's refusals are -1 with:
 * Q_E_RATE_LIMITED (429; *retry_after set from parameters.retry_after), Q_E_BAD_REQUEST
 * (400/403/404: the request can never succeed), Q_E_HTTP / Q_E_TIMEOUT (transient).
 */
int q_tg_call(struct q_http *http, const struct q_tg_api *api, const char *method,
              const json_t *params, json_t **result, long *retry_after, struct q_err *err);

/*
 * Queue text for a chat. user_id 0 when the message is for nobody in users (an operator
 * channel); reply_markup may be NULL (borrowed). dedupe_key non-NULL makes it idempotent: a
 * second queue with the same key is a no-op. Works inside or outside a transaction. Text
 * longer than Q_OUTBOX_MAX_TEXT characters is cut with an ellipsis. 0 or -1.
 */
int q_outbox_queue(struct q_db *db, long long user_id, long long chat_id, const char *text,
                   const json_t *reply_markup, const char *dedupe_key, struct q_err *err);

struct q_outbox_stats {
	int sent;
	int retried; /* failed this time, will be tried again */
	int failed;  /* given up */
};

/*
 * Send up to max due messages (oldest first). Rows are claimed with FOR UPDATE SKIP LOCKED,
 * so several senders never send one message twice at the same time. -1 only when the
 * database fails; Telegram's failures are counted in st.
 */
int q_outbox_drain(struct q_db *db, struct q_http *http, const struct q_tg_api *api, int max,
                   struct q_outbox_stats *st, struct q_err *err);

#endif
