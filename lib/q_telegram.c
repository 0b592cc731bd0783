#include "q_telegram.h"
#include "q_bots.h"
#include "q_crypto.h"
#include "q_log.h"
#include "q_outbox.h"
#include "q_plans.h"
#include "q_regime.h"
#include "q_settings.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
q_telegram_conf_load(struct q_telegram_conf *c, const struct q_config *cfg, struct q_err *err)
{
	const char *url = q_config_get(cfg, "http", "public_url", "http://127.0.0.1:8080");
	size_t n = strlen(url);

	memset(c, 0, sizeof(*c));
	q_buf_init(&c->webhook_secret);
	while (n && url[n - 1] == '/')
		n--;
	if (n == 0 || n + 6 >= sizeof(c->app_url))
		return q_err_set(err, Q_E_CONFIG, "%s: [http] public_url = %s: give the site's URL",
		                 q_config_path(cfg), url);
	snprintf(c->app_url, sizeof(c->app_url), "%.*s/app/", (int)n, url);
	snprintf(c->regime_symbol, sizeof(c->regime_symbol), "%s",
	         q_config_get(cfg, "regime", "symbol", "BTCUSDT"));
	return q_config_secret(cfg, "telegram", "webhook_secret_file", &c->webhook_secret, err);
}

void
q_telegram_conf_release(struct q_telegram_conf *c)
{
	q_buf_release_secret(&c->webhook_secret);
}

int
q_telegram_check_secret(const struct q_telegram_conf *c, const char *header, struct q_err *err)
{
	if (header == NULL || *header == '\0' || c->webhook_secret.len == 0 ||
	    !q_ct_streq(header, c->webhook_secret.data))
		return q_err_set(err, Q_E_UNAUTHORIZED, "webhook secret token missing or wrong");
	return 0;
}

/* ---- commands ------------------------------------------------------------------------- */

struct chat {
	struct q_db *db;
	const struct q_identity_conf *idc;
	const struct q_telegram_conf *tc;
	long long update_id;
	long long chat_id;
	struct q_user user;
	const char *args; /* text after the command, spaces trimmed */
	char actor[64];
	int replies;
};

/* Queue a reply; idempotent per update (the dedupe key holds the update id). */
static int
reply(struct chat *c, const char *text, const json_t *markup, struct q_err *err)
{
	char key[64];

	snprintf(key, sizeof(key), "tg:%lld:%d", c->update_id, c->replies++);
	return q_outbox_queue(c->db, c->user.id, c->chat_id, text, markup, key, err);
}

static json_t *
app_button(const struct chat *c)
{
	return json_pack("{s:[[{s:s, s:{s:s}}]]}", "inline_keyboard", "text", "Open Quantor",
	                 "web_app", "url", c->tc->app_url);
}

static int
cmd_start(struct chat *c, struct q_err *err)
{
	json_t *kb;
	int rc;

	if (q_identity_link_chat(c->db, &c->user, c->chat_id, err) < 0)
		return -1;
	kb = app_button(c);
	rc = reply(c,
	           "Welcome to Quantor. Your bots trade on your own exchange account with a key "
	           "that can trade but never withdraw.\n\n"
	           "Open the app to try a strategy on paper. This chat is your second control "
	           "channel: /status shows where you stand and /stopall stops every bot at once, "
	           "even when the app is out of reach. /help lists the rest.",
	           kb, err);
	json_decref(kb);
	return rc;
}

static int
cmd_help(struct chat *c, struct q_err *err)
{
	const char *admin = c->user.is_admin ? "\n\nAdmin:\n/live on|off <reason> - the LIVE kill "
	                                       "switch\n/pulse - run the health probes"
	                                     : "";
	char text[1024];

	snprintf(text, sizeof(text),
	         "/status - plan, running bots, today's P&L, market regime, LIVE on or off\n"
	         "/bots - your bots\n/stop <id> - stop one bot\n/stopall - stop all your bots\n"
	         "/regime - the market regime guard\n/app - open the Mini App%s",
	         admin);
	return reply(c, text, NULL, err);
}

static int
cmd_status(struct chat *c, struct q_err *err)
{
	const struct q_plan *p = q_plan_get(c->user.plan);
	struct q_regime_snapshot rs;
	char pnl[48], eq[48], text[1024];
	long long running = 0;
	int live = 0;

	if (q_bots_count_running(c->db, c->user.id, &running, err) < 0 ||
	    q_bots_pnl_today(c->db, c->user.id, pnl, eq, err) < 0 ||
	    q_regime_latest(c->db, c->tc->regime_symbol, &rs, err) < 0 ||
	    q_settings_live_enabled(c->db, &live, err) < 0)
		return -1;
	snprintf(
	        text, sizeof(text),
	        "Plan: %s\nRunning bots: %lld of %d\nToday's P&L: %s USDT (daily loss limit %s %%)\n"
	        "Market regime (%s): %s%s\nLIVE trading: %s",
	        p ? p->name : c->user.plan, running, p ? p->max_bots : 0, pnl,
	        p ? p->daily_loss_pct : "?", rs.symbol, rs.regime,
	        rs.found ? "" : " (no market data yet)",
	        live ? "on" : "off (the kill switch is off: LIVE bots do not trade)");
	return reply(c, text, NULL, err);
}

static int
cmd_bots(struct chat *c, struct q_err *err)
{
	struct q_arena *a = q_arena_new();
	struct q_bot *bots;
	struct q_buf text = Q_BUF_INIT;
	size_t n;
	int rc = -1;

	if (q_bots_list(c->db, a, c->user.id, 20, &bots, &n, err) < 0)
		goto out;
	if (n == 0)
		q_buf_adds(&text, "You have no bots yet. Create one in the app: /app");
	for (size_t i = 0; i < n; i++)
		q_buf_printf(&text, "#%lld %s %s %s %s on %s: %s%s%s\n", bots[i].id,
		             bots[i].strategy, bots[i].symbol, bots[i].interval, bots[i].mode,
		             bots[i].exchange, bots[i].status, bots[i].halt_reason[0] ? " - " : "",
		             bots[i].halt_reason);
	rc = reply(c, text.data, NULL, err);
out:
	q_buf_release(&text);
	q_arena_destroy(a);
	return rc;
}

static int
cmd_stop(struct chat *c, struct q_err *err)
{
	struct q_err e = {0};
	char *end, text[160];
	long long id;
	int was = 0;

	id = strtoll(c->args, &end, 10);
	while (*end == ' ')
		end++;
	if (c->args[0] == '#')
		id = strtoll(c->args + 1, &end, 10);
	if (id <= 0 || *end != '\0')
		return reply(c, "Say which bot: /stop <id>. /bots lists their ids.", NULL, err);
	if (q_bots_stop(c->db, c->user.id, id, c->actor, "telegram", &was, &e) < 0) {
		if (e.code != Q_E_NOT_FOUND) {
			*err = e;
			return -1;
		}
		snprintf(text, sizeof(text), "You have no bot #%lld. /bots lists yours.", id);
		return reply(c, text, NULL, err);
	}
	snprintf(text, sizeof(text),
	         was ? "Bot #%lld stopped. Any open LIVE orders are cancelled on the next tick."
	             : "Bot #%lld was already stopped.",
	         id);
	return reply(c, text, NULL, err);
}

static int
cmd_stopall(struct chat *c, struct q_err *err)
{
	char text[200];
	int n = 0;

	if (q_bots_stop_all(c->db, c->user.id, c->actor, "telegram", &n, err) < 0)
		return -1;
	if (n == 0)
		snprintf(text, sizeof(text), "None of your bots was running.");
	else
		snprintf(text, sizeof(text),
		         "Stopped %d bot%s. Any open LIVE orders are cancelled on the next tick.",
		         n, n == 1 ? "" : "s");
	return reply(c, text, NULL, err);
}

static int
cmd_regime(struct chat *c, struct q_err *err)
{
	struct q_regime_snapshot rs;
	char text[512];

	if (q_regime_latest(c->db, c->tc->regime_symbol, &rs, err) < 0)
		return -1;
	if (!rs.found)
		snprintf(
		        text, sizeof(text),
		        "Market regime (%s): UNKNOWN. No market data has been analysed yet, so LIVE "
		        "bots open no new positions (fail closed).",
		        rs.symbol);
	else
		snprintf(text, sizeof(text),
		         "Market regime (%s): %s\nRealized volatility: %s\nDrawdown: %s%s",
		         rs.symbol, rs.regime, rs.realized_vol[0] ? rs.realized_vol : "n/a",
		         rs.drawdown[0] ? rs.drawdown : "n/a",
		         rs.stale ? "\nThe data is stale: LIVE bots open no new positions." : "");
	return reply(c, text, NULL, err);
}

static int
cmd_app(struct chat *c, struct q_err *err)
{
	json_t *kb = app_button(c);
	int rc = reply(c, "Your bots, keys and history:", kb, err);

	json_decref(kb);
	return rc;
}

static int
cmd_live(struct chat *c, struct q_err *err)
{
	struct q_err e = {0};
	const char *reason;
	char text[600];
	int on;

	if (strncmp(c->args, "on", 2) == 0 && (c->args[2] == ' ' || c->args[2] == '\0'))
		on = 1;
	else if (strncmp(c->args, "off", 3) == 0 && (c->args[3] == ' ' || c->args[3] == '\0'))
		on = 0;
	else
		return reply(c, "Usage: /live on <reason> or /live off <reason>", NULL, err);
	reason = c->args + (on ? 2 : 3);
	while (*reason == ' ')
		reason++;
	if (q_settings_set_live(c->db, on, c->actor, reason, &e) < 0) {
		if (e.code != Q_E_BAD_REQUEST) {
			*err = e;
			return -1;
		}
		return reply(c, "Say why: /live on|off <reason>. The reason is recorded.", NULL,
		             err);
	}
	q_log(Q_LOG_WARN, "killswitch.flipped", "enabled=%d actor=%s", on, c->actor);
	snprintf(text, sizeof(text), "LIVE trading is now %s. Recorded with your reason: %s",
	         on ? "ON" : "OFF", reason);
	return reply(c, text, NULL, err);
}

static int
cmd_pulse(struct chat *c, struct q_err *err)
{
	return reply(c,
	             "Pulse, the health probes, is not built on this server yet. "
	             "GET /api/v1/health answers for the API and the database meanwhile.",
	             NULL, err);
}

enum { ADMIN_ONLY = 1 };

static const struct command {
	const char *name;
	int (*fn)(struct chat *c, struct q_err *err);
	int flags;
} commands[] = {
        {"start", cmd_start, 0},        {"help", cmd_help, 0},
        {"status", cmd_status, 0},      {"bots", cmd_bots, 0},
        {"stop", cmd_stop, 0},          {"stopall", cmd_stopall, 0},
        {"regime", cmd_regime, 0},      {"app", cmd_app, 0},
        {"live", cmd_live, ADMIN_ONLY}, {"pulse", cmd_pulse, ADMIN_ONLY},
};

/* "/stop@QuantorBot 12" -> name "stop", args "12". 0 when text is not a command. */
static int
parse_command(const char *text, char *name, size_t namelen, const char **args)
{
	size_t n = 0;
	const char *p = text + 1;

	if (text[0] != '/')
		return 0;
	while (*p && *p != ' ' && *p != '@' && *p != '\n') {
		if (n + 1 >= namelen)
			return 0;
		name[n++] = (char)tolower((unsigned char)*p++);
	}
	name[n] = '\0';
	while (*p && *p != ' ' && *p != '\n')
		p++; /* the @botname suffix */
	while (*p == ' ' || *p == '\n')
		p++;
	*args = p;
	return n > 0;
}

struct upd {
	const struct q_identity_conf *idc;
	const struct q_telegram_conf *tc;
	const json_t *update;
	long long update_id;
	int duplicate;
};

static int
update_tx(struct q_db *db, void *arg, struct q_err *err)
{
	struct upd *u = arg;
	struct chat c;
	struct q_err e = {0};
	const json_t *msg, *from, *chat;
	const char *text, *chat_type;
	char name[32], trimmed[512];
	size_t len;

	u->duplicate = 0;
	if (q_db_exec(db, &e, "INSERT INTO telegram_updates (update_id) VALUES (?)", "i",
	              u->update_id) < 0) {
		if (e.code == Q_E_CONFLICT) {
			u->duplicate = 1;
			return 0;
		}
		*err = e;
		return -1;
	}
	msg = json_object_get(u->update, "message");
	from = json_object_get(msg, "from");
	chat = json_object_get(msg, "chat");
	text = json_string_value(json_object_get(msg, "text"));
	chat_type = json_string_value(json_object_get(chat, "type"));
	/* Only private chats with a person: a group cannot be anyone's second control channel. */
	if (!json_is_object(msg) || text == NULL || chat_type == NULL ||
	    strcmp(chat_type, "private") != 0 ||
	    json_integer_value(json_object_get(from, "id")) <= 0 ||
	    json_is_true(json_object_get(from, "is_bot")))
		return 0;
	memset(&c, 0, sizeof(c));
	c.db = db;
	c.idc = u->idc;
	c.tc = u->tc;
	c.update_id = u->update_id;
	c.chat_id = json_integer_value(json_object_get(chat, "id"));
	if (q_identity_upsert(db, u->idc, json_integer_value(json_object_get(from, "id")),
	                      json_string_value(json_object_get(from, "username")),
	                      json_string_value(json_object_get(from, "first_name"))
	                              ? json_string_value(json_object_get(from, "first_name"))
	                              : "",
	                      json_string_value(json_object_get(from, "last_name")),
	                      json_string_value(json_object_get(from, "language_code")), &c.user,
	                      err) < 0)
		return -1;
	snprintf(c.actor, sizeof(c.actor), "%s:%lld", c.user.is_admin ? "admin" : "user",
	         c.user.is_admin ? c.user.telegram_id : c.user.id);
	if (!parse_command(text, name, sizeof(name), &c.args))
		return reply(&c, "Send /help to see what I understand.", NULL, err);
	/* Arguments without trailing spaces, bounded: no command takes more than a reason. */
	len = strlen(c.args);
	while (len && (c.args[len - 1] == ' ' || c.args[len - 1] == '\n'))
		len--;
	snprintf(trimmed, sizeof(trimmed), "%.*s", (int)len, c.args);
	c.args = trimmed;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name) != 0)
			continue;
		if ((commands[i].flags & ADMIN_ONLY) && !c.user.is_admin)
			return reply(&c, "That command is for Quantor's admins.", NULL, err);
		return commands[i].fn(&c, err);
	}
	return reply(&c, "I don't know that command. /help lists what I understand.", NULL, err);
}

int
q_telegram_handle_update(struct q_db *db, const struct q_identity_conf *idc,
                         const struct q_telegram_conf *tc, const json_t *update, int *duplicate,
                         struct q_err *err)
{
	struct upd u = {idc, tc, update, 0, 0};
	json_t *id = json_object_get(update, "update_id");

	*duplicate = 0;
	if (!json_is_integer(id) || json_integer_value(id) < 0)
		return q_err_set_field(err, "update_id", Q_E_BAD_REQUEST,
		                       "an update needs a non-negative integer update_id");
	u.update_id = json_integer_value(id);
	if (q_db_tx(db, update_tx, &u, err) < 0)
		return -1;
	*duplicate = u.duplicate;
	return 0;
}
