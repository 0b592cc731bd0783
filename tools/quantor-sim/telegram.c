/*
 * The Telegram Bot API, as far as Quantor uses it: /telegram/bot<token>/<method>, GET or POST,
 * parameters in a JSON body, a form body or the query string. Answers in Telegram's own shapes
 * and wording ({"ok":false,"error_code":400,"description":"Bad Request: ..."}), records every
 * call in order, injects faults on request, and delivers updates to the webhook set with
 * setWebhook the way Telegram does. All state is behind one mutex.
 *
 * Control endpoints, under /_sim/telegram/:
 *   GET    messages[?method=M][&chat_id=N][&since=I]  {"calls":[...],"next":I}
 *   DELETE messages
 *   GET    faults                                     the pending faults
 *   POST   faults  {"method","status","retry_after","count","timeout_ms","description"}
 *   DELETE faults
 *   POST   deliver <Update>                           {"status":N,"body":...} from the webhook
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "q_crypto.h"
#include "q_http.h"
#include "q_json.h"
#include "q_mem.h"
#include "sim.h"

#define MAX_CALLS 10000 /* recorded calls kept; the oldest go first */
#define MAX_FAULTS 32
#define MAX_QUERIES 256          /* delivered pre-checkout queries remembered */
#define QUERY_TTL_MS 10000       /* "an answer within 10 seconds" */
#define DELIVER_TIMEOUT_MS 8000L /* below the stack's 10 s stop timeout */
#define MAX_TEXT 4096            /* sendMessage text, in UTF-16 code units as Telegram counts */
#define SUBSCRIPTION_PERIOD 2592000

struct fault {
	char method[64]; /* as the method table spells it, or "*" for every method */
	char description[256];
	int status; /* 0: answer normally, after timeout_ms */
	long retry_after;
	long timeout_ms;
	long long count; /* calls left */
};

struct query {
	char id[128];
	int64_t sent_ms;
	int answered;
};

static struct {
	pthread_mutex_t lock;
	struct q_buf token;
	long long bot_id;
	json_t *calls;   /* the recorded calls, oldest first */
	long long first; /* index of calls[0] */
	long long next_message_id, next_invoice, next_update_id;
	struct fault faults[MAX_FAULTS];
	int nfaults;
	char *hook_url;    /* NULL: no webhook */
	char *hook_secret; /* NULL: none */
	json_t *hook_allowed;
	long long hook_max_conn;
	long long hook_error_date;
	char hook_error[256];
	struct query queries[MAX_QUERIES];
	int next_query;
} tg = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* One Bot API call: what came in, and the answer. */
struct call {
	struct sim_req *req;
	json_t *params;       /* the parameters as received (strings for form and query) */
	const char *encoding; /* "json", "form", "query" or "none" */
	char method[64];      /* the method as the table spells it, else as called */
	int status;           /* 200, or the error code */
	char desc[256];       /* the error's description, or a success description */
	json_t *result;
	long retry_after;
	long delay_ms;
	int fault;
};

static int
fail(struct call *c, int status, const char *desc)
{
	c->status = status;
	snprintf(c->desc, sizeof(c->desc), "%s", desc);
	return -1;
}

/* --- parameters ---------------------------------------------------------------------------- */

/* A string parameter; a number stands for its decimal text (as Telegram takes it). NULL when
 * absent or of another type. */
static const char *
p_str(struct call *c, const char *name, size_t *len)
{
	json_t *v = json_object_get(c->params, name);
	const char *s = NULL;

	if (json_is_string(v))
		s = json_string_value(v);
	else if (json_is_integer(v))
		s = q_arena_printf(c->req->arena, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (s && len)
		*len = json_is_string(v) ? json_string_length(v) : strlen(s);
	return s;
}

/* 1 and *out for an integer (a JSON integer or decimal text), 0 when absent, -1 otherwise. */
static int
p_int(struct call *c, const char *name, long long *out)
{
	json_t *v = json_object_get(c->params, name);
	const char *s;
	char *end;

	if (v == NULL)
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 1;
	}
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	if (*s == '\0' || strlen(s) > 19)
		return -1;
	*out = strtoll(s, &end, 10);
	return *end == '\0' && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) ? 1 : -1;
}

/* Telegram's reading of a Boolean: true, 1, "true" or "1" (any case) are true, the rest false. */
static int
p_true(struct call *c, const char *name)
{
	json_t *v = json_object_get(c->params, name);
	const char *s = json_string_value(v);

	if (json_is_true(v))
		return 1;
	if (json_is_integer(v))
		return json_integer_value(v) == 1;
	return s && (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0);
}

/* A JSON-serialized parameter: a JSON value, or text holding one (the form and query way).
 * Borrowed (owned by the call's arena when parsed here); NULL when absent or unparsable, with
 * *bad set for the latter. */
static json_t *
p_json(struct call *c, const char *name, int *bad)
{
	json_t *v = json_object_get(c->params, name), *j;

	*bad = 0;
	if (!json_is_string(v))
		return v;
	j = json_loads(json_string_value(v), JSON_DECODE_ANY, NULL);
	if (j == NULL) {
		*bad = 1;
		return NULL;
	}
	q_json_arena_own(c->req->arena, j);
	return j;
}

static int
add_form(struct call *c, const char *s, size_t n)
{
	struct sim_param *p;
	int np = sim_form_parse(c->req->arena, s, n, &p);

	if (np < 0)
		return fail(c, 400, "Bad Request: can't parse parameters");
	for (int i = 0; i < np; i++) {
		if (!sim_utf8_valid(p[i].name, strlen(p[i].name)) ||
		    !sim_utf8_valid(p[i].value, p[i].value_len))
			return fail(c, 400, "Bad Request: strings must be encoded in UTF-8");
		/* The body wins over the query string, and the first of a repeated name wins. */
		if (json_object_get(c->params, p[i].name) == NULL)
			json_object_set_new(c->params, p[i].name,
			                    json_stringn(p[i].value, p[i].value_len));
	}
	return 0;
}

static int
read_params(struct call *c)
{
	struct sim_req *req = c->req;

	c->params = json_object();
	c->encoding = "none";
	if (req->body_len > 0) {
		if (sim_req_is(req, "application/json")) {
			json_t *b = json_loadb(req->body, req->body_len, 0, NULL);

			if (!json_is_object(b)) {
				json_decref(b);
				return fail(c, 400, "Bad Request: can't parse JSON object");
			}
			json_object_update(c->params, b);
			json_decref(b);
			c->encoding = "json";
		} else if (sim_req_is(req, "multipart/form-data")) {
			return fail(c, 400, "Bad Request: multipart/form-data is not simulated");
		} else {
			if (add_form(c, req->body, req->body_len) < 0)
				return -1;
			c->encoding = "form";
		}
	}
	if (*req->query) {
		if (add_form(c, req->query, strlen(req->query)) < 0)
			return -1;
		if (strcmp(c->encoding, "none") == 0)
			c->encoding = "query";
	}
	return 0;
}

/* --- the methods (called with tg.lock held) ------------------------------------------------ */

static json_t *
bot_user(void)
{
	return json_pack("{s:I, s:b, s:s, s:s}", "id", (json_int_t)tg.bot_id, "is_bot", 1,
	                 "first_name", "Quantor (sim)", "username", "quantor_sim_bot");
}

static int
m_get_me(struct call *c)
{
	c->result = bot_user();
	json_object_set_new(c->result, "can_join_groups", json_true());
	json_object_set_new(c->result, "can_read_all_group_messages", json_false());
	json_object_set_new(c->result, "supports_inline_queries", json_false());
	return 0;
}

static int
valid_username(const char *s)
{
	size_t n = strlen(s);

	return n >= 4 && n <= 32 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
}

/* The Chat for chat_id (a new reference), or NULL with the error set. */
static json_t *
chat_of(struct call *c)
{
	json_t *v = json_object_get(c->params, "chat_id");
	long long id;
	int r;

	if (v == NULL || (json_is_string(v) && json_string_length(v) == 0)) {
		fail(c, 400, "Bad Request: chat_id is empty");
		return NULL;
	}
	if (json_is_string(v) && json_string_value(v)[0] == '@') {
		const char *name = json_string_value(v) + 1;
		unsigned long long h = 1469598103934665603ULL;

		if (!valid_username(name)) {
			fail(c, 400, "Bad Request: chat not found");
			return NULL;
		}
		for (const char *p = name; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		return json_pack("{s:I, s:s, s:s, s:s}", "id",
		                 (json_int_t)(-1000000000000LL - (long long)(h % 1000000000ULL)),
		                 "title", name, "username", name, "type", "channel");
	}
	r = p_int(c, "chat_id", &id);
	if (r <= 0 || id == 0) {
		fail(c, 400, "Bad Request: chat not found");
		return NULL;
	}
	if (id > 0)
		return json_pack("{s:I, s:s}", "id", (json_int_t)id, "type", "private");
	return json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "title", "Simulated group",
	                 "type", id < -1000000000000LL ? "supergroup" : "group");
}

/* Length as Telegram counts it: UTF-16 code units of valid UTF-8. */
static size_t
utf16_len(const char *s, size_t n)
{
	size_t units = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)s[i];

		if ((b & 0xc0) != 0x80)
			units += (b & 0xf8) == 0xf0 ? 2 : 1;
	}
	return units;
}

static int
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return 0;
	return 1;
}

static int
m_send_message(struct call *c)
{
	static const char *const modes[] = {"HTML", "Markdown", "MarkdownV2"};
	const char *text, *mode;
	json_t *chat, *markup;
	size_t len = 0;
	int bad, ok_mode = 0;

	chat = chat_of(c);
	if (chat == NULL)
		return -1;
	text = p_str(c, "text", &len);
	if (text == NULL || blank(text, len)) {
		json_decref(chat);
		return fail(c, 400, "Bad Request: message text is empty");
	}
	if (utf16_len(text, len) > MAX_TEXT) {
		json_decref(chat);
		return fail(c, 400, "Bad Request: message is too long");
	}
	mode = p_str(c, "parse_mode", NULL);
	for (size_t i = 0; mode && *mode && i < sizeof(modes) / sizeof(modes[0]); i++)
		ok_mode |= strcasecmp(mode, modes[i]) == 0;
	if (mode && *mode && !ok_mode) {
		json_decref(chat);
		return fail(c, 400, "Bad Request: unsupported parse_mode");
	}
	markup = p_json(c, "reply_markup", &bad);
	if (bad || (markup && !json_is_object(markup))) {
		json_decref(chat);
		return fail(c, 400, "Bad Request: can't parse reply keyboard markup JSON object");
	}
	c->result = json_pack("{s:I, s:o, s:o, s:I, s:s%}", "message_id",
	                      (json_int_t)tg.next_message_id++, "from", bot_user(), "chat", chat,
	                      "date", (json_int_t)(sim_clock_ms() / 1000), "text", text, len);
	if (c->result && json_object_get(markup, "inline_keyboard"))
		json_object_set(c->result, "reply_markup", markup);
	return 0;
}

static void
webhook_clear(void)
{
	free(tg.hook_url);
	free(tg.hook_secret);
	json_decref(tg.hook_allowed);
	tg.hook_url = tg.hook_secret = NULL;
	tg.hook_allowed = NULL;
	tg.hook_error_date = 0;
	tg.hook_error[0] = '\0';
}

static int
m_delete_webhook(struct call *c)
{
	snprintf(c->desc, sizeof(c->desc), "%s",
	         tg.hook_url ? "Webhook was deleted" : "Webhook is already deleted");
	webhook_clear();
	c->result = json_true();
	return 0;
}

static int
m_set_webhook(struct call *c)
{
	const char *url = p_str(c, "url", NULL), *secret;
	size_t slen = 0;
	long long maxc = 40;
	json_t *allowed;
	int bad;

	/* "Use an empty string to remove webhook integration." */
	if (url == NULL || *url == '\0')
		return m_delete_webhook(c);
	/* Telegram wants https; the simulator also takes http, for the loopback stack. */
	if ((strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) ||
	    strlen(url) > 2048 || strpbrk(url, " \t\r\n"))
		return fail(c, 400,
		            "Bad Request: bad webhook: An HTTPS URL must be provided for "
		            "webhook");
	secret = p_str(c, "secret_token", &slen);
	if (secret && slen > 256)
		return fail(c, 400, "Bad Request: secret token is too long");
	if (secret && strspn(secret, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                             "0123456789_-") != slen)
		return fail(c, 400, "Bad Request: secret token contains unallowed characters");
	if (p_int(c, "max_connections", &maxc) < 0 || maxc < 1 || maxc > 100)
		maxc = 40;
	allowed = p_json(c, "allowed_updates", &bad);
	if (bad || (allowed && !json_is_array(allowed)))
		return fail(c, 400, "Bad Request: can't parse allowed updates JSON object");
	webhook_clear();
	tg.hook_url = q_strdup(url);
	tg.hook_secret = secret && slen ? q_strdup(secret) : NULL;
	tg.hook_allowed = json_incref(allowed);
	tg.hook_max_conn = maxc;
	snprintf(c->desc, sizeof(c->desc), "Webhook was set");
	c->result = json_true();
	return 0;
}

static int
m_get_webhook_info(struct call *c)
{
	c->result = json_pack("{s:s, s:b, s:i}", "url", tg.hook_url ? tg.hook_url : "",
	                      "has_custom_certificate", 0, "pending_update_count", 0);
	if (c->result == NULL || tg.hook_url == NULL)
		return 0;
	json_object_set_new(c->result, "ip_address", json_string("127.0.0.1"));
	json_object_set_new(c->result, "max_connections", json_integer(tg.hook_max_conn));
	if (tg.hook_allowed)
		json_object_set(c->result, "allowed_updates", tg.hook_allowed);
	if (tg.hook_error_date) {
		json_object_set_new(c->result, "last_error_date", json_integer(tg.hook_error_date));
		json_object_set_new(c->result, "last_error_message", json_string(tg.hook_error));
	}
	return 0;
}

static struct query *
query_find(const char *id)
{
	for (int i = 0; i < MAX_QUERIES; i++)
		if (tg.queries[i].id[0] && strcmp(tg.queries[i].id, id) == 0)
			return &tg.queries[i];
	return NULL;
}

static int
m_answer_pre_checkout_query(struct call *c)
{
	static const char invalid[] =
	        "Bad Request: query is too old and response timeout expired or query id is invalid";
	const char *id = p_str(c, "pre_checkout_query_id", NULL), *msg;
	size_t mlen = 0;
	struct query *q;

	if (id == NULL || *id == '\0')
		return fail(c, 400, invalid);
	if (!p_true(c, "ok")) {
		msg = p_str(c, "error_message", &mlen);
		if (msg == NULL || blank(msg, mlen))
			return fail(c, 400,
			            "Bad Request: error_message is required when ok is False");
	}
	/* A query this simulator delivered is answerable once, within 10 s. Ids it never
	 * delivered are taken as they are: tests may post updates straight to the webhook. */
	q = query_find(id);
	if (q && (q->answered || c->req->received_ms - q->sent_ms > QUERY_TTL_MS))
		return fail(c, 400, invalid);
	if (q)
		q->answered = 1;
	c->result = json_true();
	return 0;
}

/* prices: exactly what Telegram takes, a non-empty array of {label, amount}. Sum into *total. */
static int
check_prices(struct call *c, const char *currency, long long *total)
{
	json_t *prices, *item;
	size_t i;
	int bad;

	prices = p_json(c, "prices", &bad);
	if (prices == NULL && !bad)
		return fail(c, 400, "Bad Request: prices must be non-empty");
	if (bad || !json_is_array(prices))
		return fail(c, 400, "Bad Request: can't parse prices JSON object");
	if (json_array_size(prices) == 0)
		return fail(c, 400, "Bad Request: prices must be non-empty");
	*total = 0;
	json_array_foreach(prices, i, item)
	{
		json_t *amount = json_object_get(item, "amount");

		if (!json_is_string(json_object_get(item, "label")) || !json_is_integer(amount))
			return fail(c, 400, "Bad Request: can't parse prices JSON object");
		*total += json_integer_value(amount);
	}
	if (strcmp(currency, "XTR") == 0 && json_array_size(prices) != 1)
		return fail(c, 400, "Bad Request: PRICES_TOO_MANY");
	if (*total <= 0)
		return fail(c, 400, "Bad Request: CURRENCY_TOTAL_AMOUNT_INVALID");
	return 0;
}

static int
m_create_invoice_link(struct call *c)
{
	const char *title, *desc, *payload, *currency, *provider;
	size_t tl = 0, dl = 0, pl = 0;
	long long period = 0, total = 0;
	int has_period;

	title = p_str(c, "title", &tl);
	if (title == NULL || tl == 0 || utf16_len(title, tl) > 32)
		return fail(c, 400, "Bad Request: invoice title must be 1-32 characters long");
	desc = p_str(c, "description", &dl);
	if (desc == NULL || dl == 0 || utf16_len(desc, dl) > 255)
		return fail(c, 400,
		            "Bad Request: invoice description must be 1-255 characters long");
	payload = p_str(c, "payload", &pl);
	if (payload == NULL || pl == 0 || pl > 128)
		return fail(c, 400, "Bad Request: INVOICE_PAYLOAD_INVALID");
	currency = p_str(c, "currency", NULL);
	if (currency == NULL || strlen(currency) != 3 ||
	    strspn(currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)
		return fail(c, 400, "Bad Request: CURRENCY_INVALID");
	provider = p_str(c, "provider_token", NULL);
	if (strcmp(currency, "XTR") != 0 && (provider == NULL || *provider == '\0'))
		return fail(c, 400, "Bad Request: provider_token is empty");
	if (check_prices(c, currency, &total) < 0)
		return -1;
	has_period = p_int(c, "subscription_period", &period);
	if (has_period < 0)
		return fail(c, 400, "Bad Request: SUBSCRIPTION_PERIOD_INVALID");
	if (has_period && strcmp(currency, "XTR") != 0)
		return fail(c, 400, "Bad Request: SUBSCRIPTION_CURRENCY_INVALID");
	if (has_period && period != SUBSCRIPTION_PERIOD)
		return fail(c, 400, "Bad Request: SUBSCRIPTION_PERIOD_INVALID");
	if (has_period && total > 10000)
		return fail(c, 400, "Bad Request: STARS_SUBSCRIPTION_PRICE_INVALID");
	c->result = json_sprintf("https://t.me/$sim_invoice/%lld", tg.next_invoice++);
	return 0;
}

static const struct method {
	const char *name;
	int (*fn)(struct call *c);
} methods[] = {
        {"getMe", m_get_me},
        {"sendMessage", m_send_message},
        {"setWebhook", m_set_webhook},
        {"getWebhookInfo", m_get_webhook_info},
        {"deleteWebhook", m_delete_webhook},
        {"answerPreCheckoutQuery", m_answer_pre_checkout_query},
        {"createInvoiceLink", m_create_invoice_link},
};

/* Bot API method names are case-insensitive. */
static const struct method *
method_find(const char *name)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcasecmp(methods[i].name, name) == 0)
			return &methods[i];
	return NULL;
}

/* --- faults -------------------------------------------------------------------------------- */

static const char *
status_text(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 409:
		return "Conflict";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Error";
	}
}

/* The next fault for this method, consumed. NULL when none applies. */
static int
fault_take(const char *method, struct fault *out)
{
	for (int i = 0; i < tg.nfaults; i++) {
		struct fault *f = &tg.faults[i];

		if (strcmp(f->method, "*") != 0 && strcasecmp(f->method, method) != 0)
			continue;
		*out = *f;
		if (--f->count == 0) {
			memmove(f, f + 1, (size_t)(tg.nfaults - i - 1) * sizeof(*f));
			tg.nfaults--;
		}
		return 1;
	}
	return 0;
}

static json_t *
faults_json(void)
{
	json_t *a = json_array();

	for (int i = 0; i < tg.nfaults; i++) {
		const struct fault *f = &tg.faults[i];

		json_array_append_new(
		        a, json_pack("{s:s, s:i, s:I, s:I, s:I, s:s}", "method", f->method,
		                     "status", f->status, "retry_after", (json_int_t)f->retry_after,
		                     "count", (json_int_t)f->count, "timeout_ms",
		                     (json_int_t)f->timeout_ms, "description", f->description));
	}
	return a;
}

/* --- recording and answering --------------------------------------------------------------- */

static void
record(const struct call *c)
{
	char ts[32];
	json_t *rec;

	sim_clock_rfc3339(ts, c->req->received_ms);
	rec = json_pack("{s:I, s:s, s:O, s:s, s:s, s:I, s:i, s:b}", "index",
	                (json_int_t)(tg.first + (long long)json_array_size(tg.calls)), "method",
	                c->method, "params", c->params, "encoding", c->encoding, "received", ts,
	                "received_ms", (json_int_t)c->req->received_ms, "status", c->status, "ok",
	                c->status == 200);
	if (rec == NULL)
		return;
	if (c->status == 200) {
		json_object_set(rec, "result", c->result);
	} else {
		json_object_set_new(rec, "error_code", json_integer(c->status));
		json_object_set_new(rec, "description", json_string(c->desc));
	}
	if (c->fault)
		json_object_set_new(rec, "fault", json_true());
	json_array_append_new(tg.calls, rec);
	if (json_array_size(tg.calls) > MAX_CALLS) {
		json_array_remove(tg.calls, 0);
		tg.first++;
	}
}

static json_t *
answer(const struct call *c)
{
	json_t *j;

	if (c->status == 200) {
		j = json_pack("{s:b, s:O}", "ok", 1, "result", c->result);
		if (j && c->desc[0])
			json_object_set_new(j, "description", json_string(c->desc));
		return j;
	}
	j = json_pack("{s:b, s:i, s:s}", "ok", 0, "error_code", c->status, "description", c->desc);
	if (j && c->retry_after)
		json_object_set_new(j, "parameters",
		                    json_pack("{s:I}", "retry_after", (json_int_t)c->retry_after));
	return j;
}

/* The token and the method from "bot<token>/<method>". */
static int
split_path(struct call *c, const char **token, const char **method)
{
	const char *sub = c->req->sub, *slash;

	if (strncmp(sub, "bot", 3) != 0)
		return -1;
	slash = strchr(sub + 3, '/');
	*token = q_arena_strndup(c->req->arena, sub + 3,
	                         slash ? (size_t)(slash - sub - 3) : strlen(sub + 3));
	*method = slash ? slash + 1 : "";
	return 0;
}

static void
run_call(struct call *c, const char *token, const char *method, int params_ok)
{
	const struct method *m = method_find(method);
	struct fault f;

	if (m)
		snprintf(c->method, sizeof(c->method), "%s", m->name);
	else if (sim_utf8_valid(method, strlen(method)))
		snprintf(c->method, sizeof(c->method), "%.63s", method);
	if (!sim_utf8_valid(c->method, strlen(c->method)))
		snprintf(c->method, sizeof(c->method), "?");
	if (!q_ct_streq(token, tg.token.data)) {
		fail(c, 401, "Unauthorized");
		return;
	}
	if (fault_take(c->method, &f)) {
		c->delay_ms = f.timeout_ms;
		if (f.status) {
			c->fault = 1;
			if (f.status == 429) {
				c->retry_after = f.retry_after;
				snprintf(c->desc, sizeof(c->desc),
				         "Too Many Requests: retry after %ld", f.retry_after);
			} else {
				snprintf(c->desc, sizeof(c->desc), "%s", status_text(f.status));
			}
			if (f.description[0])
				snprintf(c->desc, sizeof(c->desc), "%s", f.description);
			c->status = f.status;
			return;
		}
	}
	if (!params_ok)
		return;
	if (m == NULL) {
		fail(c, 404, "Not Found: method not found");
		return;
	}
	c->status = 200;
	if (m->fn(c) == 0 && c->result == NULL)
		fail(c, 500, "Internal Server Error");
}

static int
tg_handle(struct sim_req *req, struct sim_resp *resp, struct q_err *err)
{
	struct call c;
	const char *token, *method;
	json_t *ans;
	char *body;
	int params_ok;

	memset(&c, 0, sizeof(c));
	c.req = req;
	c.encoding = "none";
	if (split_path(&c, &token, &method) < 0)
		return sim_reply_json(resp, 404,
		                      json_pack("{s:b, s:i, s:s}", "ok", 0, "error_code", 404,
		                                "description", "Not Found"),
		                      err);
	params_ok = read_params(&c) == 0;

	/* The recorded call shares params and result: they are only touched under the lock. */
	pthread_mutex_lock(&tg.lock);
	run_call(&c, token, method, params_ok);
	record(&c);
	ans = answer(&c);
	body = ans ? json_dumps(ans, JSON_COMPACT) : NULL;
	json_decref(ans);
	json_decref(c.result);
	json_decref(c.params);
	pthread_mutex_unlock(&tg.lock);

	if (body == NULL)
		return q_err_set(err, Q_E_INTERNAL, "Bot API answer could not be encoded");
	sim_reply(resp, c.status, "application/json", body, strlen(body));
	free(body);
	if (c.retry_after)
		sim_reply_header(resp, "Retry-After", "%ld", c.retry_after);
	resp->delay_ms = c.delay_ms;
	return 0;
}

/* --- control endpoints --------------------------------------------------------------------- */

/* chat_id of a recorded call as text, for the chat_id filter. */
static int
chat_matches(const json_t *rec, const char *want)
{
	const json_t *v = json_object_get(json_object_get(rec, "params"), "chat_id");
	char buf[32];

	if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return strcmp(buf, want) == 0;
	}
	return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

static int
ctl_messages(struct sim_req *req, struct sim_resp *resp, struct q_err *err)
{
	struct sim_param *qp = NULL;
	const char *method, *chat, *since;
	long long from = 0;
	json_t *out, *rec;
	size_t i, cleared;
	int nq;

	if (strcmp(req->method, "DELETE") == 0) {
		pthread_mutex_lock(&tg.lock);
		cleared = json_array_size(tg.calls);
		tg.first += (long long)cleared;
		json_array_clear(tg.calls);
		pthread_mutex_unlock(&tg.lock);
		return sim_reply_json(
		        resp, 200, json_pack("{s:b, s:I}", "ok", 1, "cleared", (json_int_t)cleared),
		        err);
	}
	if (strcmp(req->method, "GET") != 0) {
		sim_reply_not_allowed(resp, "GET, DELETE");
		return 0;
	}
	nq = sim_form_parse(req->arena, req->query, strlen(req->query), &qp);
	if (nq < 0) {
		sim_reply_error(resp, 400, "BAD_REQUEST", "malformed query string");
		return 0;
	}
	method = sim_param_get(qp, nq, "method");
	chat = sim_param_get(qp, nq, "chat_id");
	since = sim_param_get(qp, nq, "since");
	if (since) {
		char *end;

		from = strtoll(since, &end, 10);
		if (*since == '\0' || *end || from < 0) {
			sim_reply_error(resp, 400, "BAD_REQUEST",
			                "since must be a call index >= 0");
			return 0;
		}
	}
	out = json_array();
	pthread_mutex_lock(&tg.lock);
	json_array_foreach(tg.calls, i, rec)
	{
		if (tg.first + (long long)i < from)
			continue;
		if (method &&
		    strcasecmp(json_string_value(json_object_get(rec, "method")), method) != 0)
			continue;
		if (chat && !chat_matches(rec, chat))
			continue;
		json_array_append(out, rec);
	}
	out = json_pack("{s:o, s:I}", "calls", out, "next",
	                (json_int_t)(tg.first + (long long)json_array_size(tg.calls)));
	/* Encoded under the lock: the records are shared with later calls. */
	{
		char *body = out ? json_dumps(out, JSON_COMPACT) : NULL;

		json_decref(out);
		pthread_mutex_unlock(&tg.lock);
		if (body == NULL)
			return q_err_set(err, Q_E_INTERNAL, "calls could not be encoded");
		sim_reply(resp, 200, "application/json", body, strlen(body));
		free(body);
	}
	return 0;
}

static int
ctl_faults(struct sim_req *req, struct sim_resp *resp, struct q_err *err)
{
	const char *method = NULL, *desc = "";
	json_int_t ra = 1, count = 1, tmo = 0, status = 0;
	struct q_err e = {0};
	struct fault f;
	json_t *body, *list;

	if (strcmp(req->method, "DELETE") == 0) {
		pthread_mutex_lock(&tg.lock);
		tg.nfaults = 0;
		pthread_mutex_unlock(&tg.lock);
		return sim_reply_json(resp, 200, json_pack("{s:b}", "ok", 1), err);
	}
	if (strcmp(req->method, "GET") == 0) {
		pthread_mutex_lock(&tg.lock);
		list = faults_json();
		pthread_mutex_unlock(&tg.lock);
		return sim_reply_json(resp, 200, json_pack("{s:o}", "faults", list), err);
	}
	if (strcmp(req->method, "POST") != 0) {
		sim_reply_not_allowed(resp, "GET, POST, DELETE");
		return 0;
	}
	body = q_json_parse_body(req->body, req->body_len, SIM_MAX_BODY, &e);
	if (body == NULL || q_json_unpack(body, &e, "{s:s, s?I, s?I, s?I, s?I, s?s}", "method",
	                                  &method, "status", &status, "retry_after", &ra, "count",
	                                  &count, "timeout_ms", &tmo, "description", &desc) < 0) {
		sim_reply_error(resp, 400, "BAD_REQUEST", "%s", e.msg);
		json_decref(body);
		return 0;
	}
	memset(&f, 0, sizeof(f));
	if (*method == '\0' || strlen(method) >= sizeof(f.method) ||
	    strspn(method, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_*") !=
	            strlen(method))
		sim_reply_error(resp, 400, "BAD_REQUEST", "method: a Bot API method name, or *");
	else if (status != 0 && (status < 400 || status > 599))
		sim_reply_error(resp, 400, "BAD_REQUEST",
		                "status: 400-599, or 0 for a delay alone");
	else if (status == 0 && tmo == 0)
		sim_reply_error(resp, 400, "BAD_REQUEST", "a fault needs a status or a timeout_ms");
	else if (count < 1 || count > 1000000)
		sim_reply_error(resp, 400, "BAD_REQUEST", "count: 1-1000000");
	else if (ra < 1 || ra > 86400)
		sim_reply_error(resp, 400, "BAD_REQUEST", "retry_after: 1-86400 seconds");
	else if (tmo < 0 || tmo > 600000)
		sim_reply_error(resp, 400, "BAD_REQUEST", "timeout_ms: 0-600000");
	else if (strlen(desc) >= sizeof(f.description))
		sim_reply_error(resp, 400, "BAD_REQUEST", "description: at most 255 bytes");
	if (resp->status) {
		json_decref(body);
		return 0;
	}
	{
		const struct method *m = method_find(method);

		snprintf(f.method, sizeof(f.method), "%s", m ? m->name : method);
	}
	snprintf(f.description, sizeof(f.description), "%s", desc);
	f.status = (int)status;
	f.retry_after = (long)ra;
	f.count = count;
	f.timeout_ms = (long)tmo;
	json_decref(body);
	pthread_mutex_lock(&tg.lock);
	if (tg.nfaults == MAX_FAULTS) {
		pthread_mutex_unlock(&tg.lock);
		sim_reply_error(resp, 409, "CONFLICT", "at most %d faults at a time", MAX_FAULTS);
		return 0;
	}
	tg.faults[tg.nfaults++] = f;
	list = faults_json();
	pthread_mutex_unlock(&tg.lock);
	return sim_reply_json(resp, 200, json_pack("{s:b, s:o}", "ok", 1, "faults", list), err);
}

/* Remember a pre-checkout query being delivered, so its answer can be checked. */
static void
query_note(const json_t *update, int64_t now)
{
	const char *id = json_string_value(
	        json_object_get(json_object_get(update, "pre_checkout_query"), "id"));
	struct query *q;

	if (id == NULL || strlen(id) >= sizeof(q->id))
		return;
	q = &tg.queries[tg.next_query];
	tg.next_query = (tg.next_query + 1) % MAX_QUERIES;
	snprintf(q->id, sizeof(q->id), "%s", id);
	q->sent_ms = now;
	q->answered = 0;
}

static int
ctl_deliver(struct sim_req *req, struct sim_resp *resp, struct q_err *err)
{
	struct q_err e = {0};
	struct q_http_req hr = {0};
	struct q_http_resp hres;
	struct q_http *http = NULL;
	struct q_buf secret_hdr = Q_BUF_INIT;
	const char *headers[3];
	char *url = NULL, *payload = NULL;
	json_t *update, *id, *wbody;
	int rc = 0;

	if (strcmp(req->method, "POST") != 0) {
		sim_reply_not_allowed(resp, "POST");
		return 0;
	}
	update = q_json_parse_body(req->body, req->body_len, SIM_MAX_BODY, &e);
	if (update == NULL) {
		sim_reply_error(resp, 400, "BAD_REQUEST", "%s", e.msg);
		return 0;
	}
	q_http_resp_init(&hres);
	pthread_mutex_lock(&tg.lock);
	if (tg.hook_url) {
		url = q_strdup(tg.hook_url);
		if (tg.hook_secret)
			q_buf_printf(&secret_hdr, "X-Telegram-Bot-Api-Secret-Token: %s",
			             tg.hook_secret);
		/* Every update has an id; one the test left out is numbered here. */
		id = json_object_get(update, "update_id");
		if (!json_is_integer(id))
			json_object_set_new(update, "update_id", json_integer(tg.next_update_id));
		else if (json_integer_value(id) >= tg.next_update_id)
			tg.next_update_id = json_integer_value(id);
		tg.next_update_id++;
		query_note(update, req->received_ms);
	}
	pthread_mutex_unlock(&tg.lock);
	if (url == NULL) {
		sim_reply_error(resp, 409, "CONFLICT", "no webhook is set: call setWebhook first");
		goto out;
	}
	payload = json_dumps(update, JSON_COMPACT);
	if (payload == NULL) {
		rc = q_err_set(err, Q_E_INTERNAL, "update could not be encoded");
		goto out;
	}
	headers[0] = "Content-Type: application/json";
	headers[1] = secret_hdr.len ? secret_hdr.data : NULL;
	headers[2] = NULL;
	hr.method = "POST";
	hr.url = url;
	hr.headers = headers;
	hr.body = payload;
	hr.body_len = strlen(payload);
	hr.timeout_ms = DELIVER_TIMEOUT_MS;
	http = q_http_new();
	if (q_http_do(http, &hres, &hr, &e) < 0) {
		pthread_mutex_lock(&tg.lock);
		tg.hook_error_date = sim_clock_ms() / 1000;
		snprintf(tg.hook_error, sizeof(tg.hook_error), "%s",
		         e.code == Q_E_TIMEOUT ? "Read timeout expired" : "Connection refused");
		pthread_mutex_unlock(&tg.lock);
		sim_reply_error(resp, 502, "UPSTREAM_HTTP", "webhook delivery failed: %s", e.msg);
		goto out;
	}
	if (hres.status < 200 || hres.status > 299) {
		pthread_mutex_lock(&tg.lock);
		tg.hook_error_date = sim_clock_ms() / 1000;
		snprintf(tg.hook_error, sizeof(tg.hook_error),
		         "Wrong response from the webhook: %ld", hres.status);
		pthread_mutex_unlock(&tg.lock);
	}
	wbody = json_loadb(hres.body.data, hres.body.len, JSON_DECODE_ANY, NULL);
	if (wbody == NULL && sim_utf8_valid(hres.body.data, hres.body.len))
		wbody = json_stringn(hres.body.data, hres.body.len);
	rc = sim_reply_json(resp, 200,
	                    json_pack("{s:I, s:o, s:O}", "status", (json_int_t)hres.status, "body",
	                              wbody ? wbody : json_null(), "update", update),
	                    err);
out:
	q_http_free(http);
	q_http_resp_release(&hres);
	q_buf_release_secret(&secret_hdr);
	free(url);
	free(payload);
	json_decref(update);
	return rc;
}

static int
tg_control(struct sim_req *req, struct sim_resp *resp, struct q_err *err)
{
	if (strcmp(req->sub, "messages") == 0)
		return ctl_messages(req, resp, err);
	if (strcmp(req->sub, "faults") == 0)
		return ctl_faults(req, resp, err);
	if (strcmp(req->sub, "deliver") == 0)
		return ctl_deliver(req, resp, err);
	sim_reply_error(resp, 404, "NOT_FOUND", "no Telegram control endpoint %s", req->path);
	return 0;
}

/* --- lifecycle ----------------------------------------------------------------------------- */

static int
tg_init(const struct sim_env *env, struct q_err *err)
{
	if (q_config_secret(env->cfg, "telegram", "bot_token_file", &tg.token, err) < 0)
		return -1;
	/* A token is "<bot id>:<secret>"; getMe reports that id. */
	tg.bot_id = strtoll(tg.token.data, NULL, 10);
	if (tg.bot_id <= 0)
		tg.bot_id = 100000001;
	tg.calls = json_array();
	tg.next_message_id = 1;
	tg.next_invoice = 1;
	tg.next_update_id = 1;
	return 0;
}

static void
tg_release(void)
{
	pthread_mutex_lock(&tg.lock);
	webhook_clear();
	json_decref(tg.calls);
	tg.calls = NULL;
	tg.nfaults = 0;
	q_buf_release_secret(&tg.token);
	pthread_mutex_unlock(&tg.lock);
}

const struct sim_module sim_telegram = {
        .name = "telegram",
        .prefix = "/telegram/",
        .init = tg_init,
        .handle = tg_handle,
        .control = tg_control,
        .release = tg_release,
};
