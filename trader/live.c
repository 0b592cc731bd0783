/*
 * LIVE: real orders, never one twice (DESIGN.md section 12).
 *
 * An order is born as an intent row with a deterministic client order id, committed with the
 * bot's decision before anything is sent. Sending is claimed by moving the row from intent to
 * sent in one UPDATE (several traders may see it; one wins). An answer that never came leaves
 * the row sent or unknown; once it has waited longer than any request can take, it is queried
 * by its client order id: found, it is settled from the venue's view; not found, the venue
 * never took it, and only then is it sent again (bounded). Fills move the ledger exactly once
 * (fills are unique on order and trade id).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "q_audit.h"
#include "q_bots.h"
#include "q_keys.h"
#include "q_ledger.h"
#include "q_log.h"
#include "q_outbox.h"
#include "q_plans.h"
#include "q_settings.h"
#include "trader.h"

/* A client for one stored key, opened with the vault's private key; cached for the tick. */
struct keyclient {
	long long key_id;
	struct q_exchange *ex;
};

static struct keyclient kc[64];
static size_t nkc;

static void
keys_forget(void)
{
	for (size_t i = 0; i < nkc; i++)
		q_exchange_free(kc[i].ex);
	nkc = 0;
}

static struct q_exchange *
key_client(struct trader *t, long long key_id, struct q_err *err)
{
	struct q_buf blob = Q_BUF_INIT;
	struct q_vault_plain p;
	struct q_vault_ad ad;
	struct q_exchange *ex = NULL;
	char exchange[12] = "";
	long long user_id = 0, verified = 0;
	int r;

	for (size_t i = 0; i < nkc; i++)
		if (kc[i].key_id == key_id)
			return kc[i].ex;
	if (!t->have_vault) {
		q_err_set(err, Q_E_CONFIG, "the vault's private key is not loaded");
		return NULL;
	}
	r = q_db_row(t->db, err,
	             "SELECT user_id, exchange, verified, enc_blob FROM exchange_keys WHERE id = ?",
	             "i>isib", key_id, &user_id, exchange, sizeof(exchange), &verified, &blob);
	if (r <= 0) {
		if (r == 0)
			q_err_set(err, Q_E_NOT_FOUND, "exchange key %lld is gone", key_id);
		q_buf_release(&blob);
		return NULL;
	}
	ad = (struct q_vault_ad){user_id, exchange, key_id};
	q_vault_plain_init(&p);
	if (q_vault_open(&t->vault, &ad, blob.data, blob.len, &p, err) == 0 &&
	    (ex = q_exchange_new(exchange, t->ctx.cfg, err)) != NULL &&
	    q_exchange_set_credentials(ex, p.api_key.data, p.api_secret.data, p.api_secret.len,
	                               p.passphrase.len ? p.passphrase.data : NULL, err) < 0) {
		q_exchange_free(ex);
		ex = NULL;
	}
	q_vault_plain_release(&p);
	q_buf_release(&blob);
	if (ex && nkc < sizeof(kc) / sizeof(kc[0]))
		kc[nkc++] = (struct keyclient){key_id, ex};
	return ex;
}

/* --- deciding ------------------------------------------------------------------------------ */

static int
dangerous(const struct trader *t)
{
	const char *r = t->regime.regime;

	return r[0] == '\0' || strcmp(r, "DANGEROUS") == 0 || strcmp(r, "UNKNOWN") == 0;
}

/* Gate 14 again: today's loss of the user's bots against the plan's limit. 1 when breached. */
static int
loss_breached(struct trader *t, long long user_id, const struct q_plan *p, struct q_err *err)
{
	char pnl[48], eq[48];
	struct q_dec dp, de, pct, limit;

	if (q_bots_pnl_today(t->db, user_id, pnl, eq, err) < 0)
		return -1;
	if (q_dec_parse_str(&dp, pnl, err) < 0 || q_dec_parse_str(&de, eq, err) < 0 ||
	    q_dec_parse_str(&pct, p->daily_loss_pct, err) < 0)
		return -1;
	if (q_dec_sign(dp) >= 0 || q_dec_sign(de) <= 0)
		return 0;
	if (q_dec_mul(&limit, de, pct, Q_DEC_DOWN, err) < 0 ||
	    q_dec_div(&limit, limit, q_dec_from_int(100), Q_DEC_DOWN, err) < 0)
		return -1;
	return q_dec_cmp(q_dec_neg(dp), limit) >= 0;
}

static int
notify(struct trader *t, long long user_id, const char *text, const char *dedupe, struct q_err *err)
{
	long long chat = 0;

	if (q_db_row(t->db, err, "SELECT COALESCE(chat_id, 0) FROM users WHERE id = ?", "i>i",
	             user_id, &chat) < 0)
		return -1;
	return chat ? q_outbox_queue(t->db, user_id, chat, text, NULL, dedupe, err) : 0;
}

int
tr_live_decide(struct trader *t, const struct tr_bot *b, const struct tr_market *m, double target,
               long long *order_id, const char **halt, struct q_err *err)
{
	char plan[16] = "", cid[Q_EX_CLIENT_ID_LEN + 1], sq[Q_DEC_STR_MAX];
	const struct q_plan *p;
	struct q_dec notional, cap, close = tr_close(m), qty;
	long long inflight = 0, verified = 0, keys = 0;
	int side, r;

	*order_id = 0;
	*halt = NULL;
	if (!t->live_on) {
		*halt = "LIVE_DISABLED";
		return 0;
	}
	if (b->key_id > 0 &&
	    q_db_row(t->db, err,
	             "SELECT COUNT(*), COALESCE(MAX(verified), 0) FROM exchange_keys "
	             "WHERE id = ? AND user_id = ?",
	             "ii>ii", b->key_id, b->user_id, &keys, &verified) < 0)
		return -1;
	if (keys == 0 || !verified || !t->have_vault) {
		*halt = "KEYS_NOT_VERIFIED";
		return 0;
	}
	if (q_db_row(t->db, err, "SELECT plan FROM users WHERE id = ?", "i>s", b->user_id, plan,
	             sizeof(plan)) < 0)
		return -1;
	p = q_plan_get(plan);
	if (p == NULL || !p->live || p->max_notional == NULL) {
		*halt = "PLAN_NO_LIVE";
		return 0;
	}
	if ((r = loss_breached(t, b->user_id, p, err)) < 0)
		return -1;
	if (r) {
		char text[256], dedupe[64];

		snprintf(text, sizeof(text),
		         "Bot %lld stopped trading for today: your losses today reached the %s %% "
		         "daily limit of your plan. It trades again from midnight UTC.",
		         b->id, p->daily_loss_pct);
		snprintf(dedupe, sizeof(dedupe), "loss-%lld-%lld", b->id, t->now_ms / 86400000);
		*halt = "DAILY_LOSS_LIMIT";
		return notify(t, b->user_id, text, dedupe, err) < 0 ||
		                       q_db_exec(
		                               t->db, err,
		                               "UPDATE bots SET halted_until = DATE_ADD(UTC_DATE(), "
		                               "INTERVAL 1 DAY) WHERE id = ?",
		                               "i", b->id) < 0
		               ? -1
		               : 0;
	}
	/* One order in flight at a time: the next candle decides again once it is settled. */
	if (q_db_row(t->db, err,
	             "SELECT COUNT(*) FROM orders WHERE bot_id = ? AND state IN ('intent', 'sent', "
	             "'unknown', 'open')",
	             "i>i", b->id, &inflight) < 0)
		return -1;
	if (inflight > 0)
		return 0;
	/* Gate 13 again: never more than the plan's cap, whatever the bot was created with. */
	if (q_dec_parse_str(&notional, b->notional, err) < 0 ||
	    q_dec_parse_str(&cap, p->max_notional, err) < 0)
		return -1;
	if (q_dec_cmp(notional, cap) > 0)
		notional = cap;
	if (tr_size_order(m, notional, &b->slot->pos, target, close, &side, &qty, err) < 0)
		return -1;
	/* DANGEROUS or UNKNOWN: exits only. */
	if (side == 0 || (side > 0 && dangerous(t)))
		return 0;
	q_exchange_client_order_id(cid, b->id, m->bars[m->n - 1].open_ms / 60000);
	q_dec_format(sq, qty);
	if (q_db_exec(
	            t->db, err,
	            "INSERT INTO orders (bot_id, user_id, client_order_id, exchange, mode, symbol, "
	            "side, type, qty, state) VALUES (?, ?, ?, ?, ?, ?, ?, 'MARKET', ?, 'intent')",
	            "iisssssm", b->id, b->user_id, cid, b->exchange, b->mode, b->symbol,
	            side > 0 ? "BUY" : "SELL", sq) < 0)
		return -1;
	*order_id = (long long)q_db_insert_id(t->db);
	return 0;
}

/* --- sending and settling ------------------------------------------------------------------ */

struct live_order {
	long long id, bot_id, user_id, key_id, attempts;
	char cid[Q_EX_CLIENT_ID_LEN + 1], exchange[12], symbol[Q_EX_SYMBOL_MAX], side[8];
	char state[12], qty[48];
};

static int
load_order(struct trader *t, long long id, struct live_order *o, struct q_err *err)
{
	int r;

	memset(o, 0, sizeof(*o));
	o->id = id;
	r = q_db_row(
	        t->db, err,
	        "SELECT o.bot_id, o.user_id, COALESCE(b.exchange_key_id, 0), o.attempts, "
	        "o.client_order_id, o.exchange, o.symbol, o.side, o.state, o.qty FROM orders o "
	        "JOIN bots b ON b.id = o.bot_id WHERE o.id = ?",
	        "i>iiiissssss", id, &o->bot_id, &o->user_id, &o->key_id, &o->attempts, o->cid,
	        sizeof(o->cid), o->exchange, sizeof(o->exchange), o->symbol, sizeof(o->symbol),
	        o->side, sizeof(o->side), o->state, sizeof(o->state), o->qty, sizeof(o->qty));
	if (r == 0)
		q_err_set(err, Q_E_NOT_FOUND, "order %lld is gone", id);
	return r == 1 ? 0 : -1;
}

/* Move the row from state from (with attempts seen) on: 1 when this trader won, 0 when not. */
static int
transition(struct trader *t, const struct live_order *o, const char *to, int count_attempt,
           struct q_err *err)
{
	long long n =
	        q_db_exec(t->db, err,
	                  "UPDATE orders SET state = ?, attempts = attempts + ? WHERE id = ? "
	                  "AND state = ? AND attempts = ?",
	                  "siisi", to, (long long)count_attempt, o->id, o->state, o->attempts);

	return n < 0 ? -1 : n > 0;
}

struct settle {
	struct trader *t;
	const struct live_order *o;
	const struct q_exchange_order *v;
	const struct q_exchange_rules *rules;
	int filled;
};

/* The venue's view of the order into the row, and its fill into the ledger, in one transaction. */
static int
settle_tx(struct q_db *db, void *arg, struct q_err *err)
{
	struct settle *s = arg;
	const struct q_exchange_order *v = s->v;
	const char *state;
	struct q_dec qty = v->executed_qty, fee = v->fee, price;
	int dup = 0;

	(void)db;
	s->filled = 0;
	switch (v->status) {
	case Q_EX_FILLED:
		state = "filled";
		break;
	case Q_EX_CANCELLED:
		state = "cancelled";
		break;
	case Q_EX_REJECTED:
		state = "rejected";
		break;
	default:
		state = "open";
		break;
	}
	if (q_db_exec(
	            s->t->db, err,
	            "UPDATE orders SET state = ?, exchange_order_id = ? WHERE id = ? AND state <> "
	            "'filled'",
	            "ssi", state, v->order_id, s->o->id) < 0)
		return -1;
	if ((v->status != Q_EX_FILLED && v->status != Q_EX_CANCELLED) ||
	    q_dec_sign(v->executed_qty) <= 0)
		return 0;
	if (q_dec_div(&price, v->cum_quote, v->executed_qty, Q_DEC_HALF_EVEN, err) < 0)
		return -1;
	/* A fee taken in the base asset shrinks what was bought; the ledger counts fees in quote. */
	if (v->has_fee && strcmp(v->fee_asset, s->rules->base) == 0) {
		if (q_dec_sub(&qty, qty, v->fee, err) < 0 ||
		    q_dec_mul(&fee, v->fee, price, Q_DEC_UP, err) < 0)
			return -1;
	} else if (!v->has_fee) {
		fee = (struct q_dec){0};
	}
	{
		struct q_fill f = {s->o->id,
		                   s->o->bot_id,
		                   s->o->user_id,
		                   v->order_id[0] ? v->order_id : s->o->cid,
		                   strcmp(s->o->side, "BUY") == 0 ? 1 : -1,
		                   qty,
		                   price,
		                   fee,
		                   s->rules->quote,
		                   (v->update_ms ? v->update_ms : s->t->now_ms) * 1000};
		json_t *data;
		int rc;

		if (q_ledger_fill(s->t->db, &f, &dup, err) < 0)
			return -1;
		if (dup)
			return 0;
		data = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s}", "order_id", (json_int_t)s->o->id,
		                 "bot_id", (json_int_t)s->o->bot_id, "client_order_id", s->o->cid,
		                 "exchange", s->o->exchange, "side", s->o->side, "status", state);
		{
			char q[Q_DEC_STR_MAX], p[Q_DEC_STR_MAX];

			q_dec_format(q, qty);
			q_dec_format(p, price);
			json_object_set_new(data, "qty", json_string(q));
			json_object_set_new(data, "price", json_string(p));
		}
		rc = q_audit_append_tx(s->t->db, "system:trader", s->o->user_id, "order.filled",
		                       data, NULL, err);
		json_decref(data);
		if (rc < 0)
			return -1;
		s->filled = 1;
	}
	return 0;
}

static int
apply(struct trader *t, const struct live_order *o, const struct q_exchange_order *v,
      struct q_exchange *ex, struct q_err *err)
{
	struct q_exchange_rules rules;
	const struct tr_market *m = NULL;
	struct settle s = {t, o, v, &rules, 0};

	for (size_t i = 0; i < t->nmarkets && m == NULL; i++)
		if (!strcmp(t->markets[i].exchange, o->exchange) &&
		    !strcmp(t->markets[i].symbol, o->symbol) && t->markets[i].ok)
			m = &t->markets[i];
	if (m)
		rules = m->rules;
	else if (q_exchange_symbol_rules(ex, &rules, o->symbol, err) < 0)
		return -1;
	if (q_db_tx(t->db, settle_tx, &s, err) < 0)
		return -1;
	t->st.live_settled++;
	return 0;
}

/* Record what a send or a query left undecided, and why. */
static int
mark(struct trader *t, const struct live_order *o, const char *state, const struct q_err *why,
     struct q_err *err)
{
	return q_db_exec(t->db, err, "UPDATE orders SET state = ?, error = ? WHERE id = ?", "ssi",
	                 state, why ? why->msg : NULL, o->id) < 0
	               ? -1
	               : 0;
}

/*
 * Send o (this trader owns it: its row was just moved to sent). Answers settle it; an answer
 * that cannot be trusted leaves it unknown, to be queried; a refusal before sending puts it
 * back to intent; a definite refusal rejects it.
 */
static int
send_one(struct trader *t, struct live_order *o, struct q_exchange *ex, struct q_err *err)
{
	struct q_exchange_order_req req;
	struct q_exchange_rules rules;
	struct q_exchange_order v;
	struct q_err e = {0};
	json_t *data;
	int on = 0;

	/* The kill switch, once more, right before the order leaves. */
	if (q_settings_live_enabled(t->db, &on, err) < 0)
		return -1;
	if (!on)
		return mark(t, o, "cancelled", NULL, err);
	memset(&req, 0, sizeof(req));
	snprintf(req.symbol, sizeof(req.symbol), "%s", o->symbol);
	snprintf(req.client_id, sizeof(req.client_id), "%s", o->cid);
	req.type = Q_EX_MARKET;
	req.side = strcmp(o->side, "BUY") == 0 ? Q_EX_BUY : Q_EX_SELL;
	if (q_dec_parse_str(&req.qty, o->qty, err) < 0)
		return -1;
	if (q_exchange_symbol_rules(ex, &rules, o->symbol, &e) < 0)
		goto unsent;
	if (req.side == Q_EX_BUY) {
		/* A market buy is sized in the quote asset: the only form every venue takes. */
		const struct tr_market *m = NULL;

		for (size_t i = 0; i < t->nmarkets && m == NULL; i++)
			if (!strcmp(t->markets[i].exchange, o->exchange) &&
			    !strcmp(t->markets[i].symbol, o->symbol) && t->markets[i].ok)
				m = &t->markets[i];
		if (m == NULL) {
			q_err_set(&e, Q_E_EXCHANGE_UNAVAILABLE, "no price for %s", o->symbol);
			goto unsent;
		}
		if (q_dec_mul(&req.quote_qty, req.qty, tr_close(m), Q_DEC_DOWN, err) < 0)
			return -1;
		req.qty = (struct q_dec){0};
	}
	if (q_exchange_order_check(&req, &rules, &e) < 0)
		return mark(t, o, "rejected", &e, err);
	data = json_pack("{s:I, s:I, s:s, s:s, s:s, s:I}", "order_id", (json_int_t)o->id, "bot_id",
	                 (json_int_t)o->bot_id, "client_order_id", o->cid, "exchange", o->exchange,
	                 "side", o->side, "attempt", (json_int_t)o->attempts);
	q_audit_append(t->db, "system:trader", o->user_id, "order.sent", data, NULL, &e);
	json_decref(data);
	q_err_clear(&e);
	t->st.live_orders++;
	if (q_exchange_place_order(ex, &v, &req, &e) == 0) {
		/* Most venues only acknowledge: the query tells what happened. */
		if (v.ack_only && q_exchange_query_order(ex, &v, o->symbol, o->cid, &e) < 0)
			return mark(t, o, "unknown", &e, err);
		return apply(t, o, &v, ex, err);
	}
	switch (e.code) {
	case Q_E_EX_UNKNOWN_OUTCOME:
	case Q_E_CONFLICT: /* the id is taken: the order exists, settle it by query */
		return mark(t, o, "unknown", &e, err);
	case Q_E_EX_RATE_LIMITED:
	case Q_E_EX_BANNED:
	case Q_E_EXCHANGE_UNAVAILABLE:
	case Q_E_EX_CLOCK_SKEW:
		goto unsent;
	default:
		q_log_warn("live.rejected", "order=%lld bot=%lld error=%s", o->id, o->bot_id,
		           e.msg);
		return mark(t, o, "rejected", &e, err);
	}
unsent:
	/* Nothing reached the venue: the intent waits for the next tick. */
	q_log_warn("live.unsent", "order=%lld bot=%lld error=%s", o->id, o->bot_id, e.msg);
	return mark(t, o, "intent", &e, err);
}

int
tr_live_send(struct trader *t, const long long *ids, size_t n, struct q_err *err)
{
	for (size_t i = 0; i < n; i++) {
		struct live_order o;
		struct q_exchange *ex;
		struct q_err e = {0};
		int won;

		if (load_order(t, ids[i], &o, err) < 0)
			return -1;
		if ((won = transition(t, &o, "sent", 1, err)) < 0)
			return -1;
		if (!won)
			continue;
		o.attempts++;
		snprintf(o.state, sizeof(o.state), "sent");
		if ((ex = key_client(t, o.key_id, &e)) == NULL) {
			if (mark(t, &o, "rejected", &e, err) < 0)
				return -1;
			continue;
		}
		if (send_one(t, &o, ex, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * Every LIVE order not settled: open ones are checked every tick; sent and unknown ones once no
 * request can still be on its way; intents left by a trader that died are sent.
 */
int
tr_live_settle(struct trader *t, struct q_err *err)
{
	static const char sql[] =
	        "SELECT id FROM orders WHERE mode <> 'PAPER' AND (state IN ('open', 'intent') OR "
	        "(state IN ('sent', 'unknown') AND updated_at < UTC_TIMESTAMP(6) - INTERVAL ? "
	        "SECOND)) ORDER BY id LIMIT 500";
	struct q_stmt *st;
	long long ids[500], settle_after;
	size_t n = 0;
	int r = 0;

	keys_forget();
	if (q_config_get_int(t->ctx.cfg, "trader", "settle_after_s", TR_SETTLE_AFTER_S, 1, 3600,
	                     &settle_after, err) < 0 ||
	    (st = q_db_prepare(t->db, sql, err)) == NULL)
		return -1;
	q_stmt_bind_int64(st, 0, settle_after);
	if (q_stmt_exec(st, err) < 0) {
		q_stmt_done(st);
		return -1;
	}
	while (n < 500 && (r = q_stmt_fetch(st, err)) == 1)
		ids[n++] = q_stmt_col_int64(st, 0);
	q_stmt_done(st);
	if (r < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct live_order o;
		struct q_exchange *ex;
		struct q_exchange_order v;
		struct q_err e = {0};
		int won;

		if (load_order(t, ids[i], &o, err) < 0)
			return -1;
		if ((ex = key_client(t, o.key_id, &e)) == NULL) {
			q_log_warn("live.settle", "order=%lld error=%s", o.id, e.msg);
			continue;
		}
		/* An intent was never sent: sending is claimed by the move to sent, which a trader
		 * that died before it never made. */
		if (strcmp(o.state, "intent") != 0) {
			if (q_exchange_query_order(ex, &v, o.symbol, o.cid, &e) == 0) {
				if (apply(t, &o, &v, ex, err) < 0)
					return -1;
				continue;
			}
			if (e.code != Q_E_NOT_FOUND) {
				q_log_warn("live.settle", "order=%lld error=%s", o.id, e.msg);
				continue;
			}
			if (strcmp(o.state, "open") == 0) {
				/* An open order the venue no longer knows ended without a fill we saw. */
				if (mark(t, &o, "cancelled", &e, err) < 0)
					return -1;
				continue;
			}
			/* The venue never took it: now, and only now, it may be sent again. */
			if (o.attempts >= TR_MAX_ATTEMPTS) {
				if (mark(t, &o, "rejected", &e, err) < 0)
					return -1;
				continue;
			}
		}
		/* Claimed against the state and attempt count seen: one trader sends it. */
		if ((won = transition(t, &o, "sent", 1, err)) < 0)
			return -1;
		if (!won)
			continue;
		o.attempts++;
		snprintf(o.state, sizeof(o.state), "sent");
		if (send_one(t, &o, ex, err) < 0)
			return -1;
	}
	return 0;
}

/* Cancel o on the venue; settle it from the answer. */
static int
cancel_one(struct trader *t, struct live_order *o, struct q_err *err)
{
	struct q_exchange *ex;
	struct q_exchange_order v;
	struct q_err e = {0};

	if ((ex = key_client(t, o->key_id, &e)) == NULL)
		return 0;
	if (q_exchange_cancel_order(ex, &v, o->symbol, o->cid, &e) < 0 && e.code != Q_E_NOT_FOUND) {
		q_log_warn("live.cancel", "order=%lld error=%s", o->id, e.msg);
		return 0;
	}
	q_err_clear(&e);
	if (q_exchange_query_order(ex, &v, o->symbol, o->cid, &e) == 0)
		return apply(t, o, &v, ex, err);
	return 0;
}

/* Every running LIVE bot halts, each with its own bot.halted, in one transaction. */
struct halt_live {
	struct trader *t;
	size_t n; /* halted by the last run: 500 means there may be more */
};

static int
halt_live_tx(struct q_db *db, void *arg, struct q_err *err)
{
	struct halt_live *h = arg;
	struct trader *t = h->t;
	struct q_stmt *st =
	        q_db_prepare(db,
	                     "SELECT id, user_id, mode FROM bots WHERE status = 'running' "
	                     "AND mode <> 'PAPER' AND deleted_at IS NULL ORDER BY id "
	                     "LIMIT 500 FOR UPDATE",
	                     err);
	struct {
		long long id, user_id;
		char mode[16];
	} bots[500];
	size_t n = 0;
	int r = 0;

	if (st == NULL)
		return -1;
	if (q_stmt_exec(st, err) < 0) {
		q_stmt_done(st);
		return -1;
	}
	while (n < 500 && (r = q_stmt_fetch(st, err)) == 1) {
		bots[n].id = q_stmt_col_int64(st, 0);
		bots[n].user_id = q_stmt_col_int64(st, 1);
		if (q_stmt_col_copy(st, 2, bots[n].mode, sizeof(bots[n].mode), err) < 0)
			r = -1;
		n++;
	}
	q_stmt_done(st);
	if (r < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (tr_halt(t, bots[i].id, bots[i].user_id, bots[i].mode, "LIVE_DISABLED", err) < 0)
			return -1;
	h->n = n;
	return 0;
}

int
tr_live_cancel(struct trader *t, struct q_err *err)
{
	/* Open orders of bots that stopped or halted, and of every LIVE bot while LIVE is off. */
	static const char sql[] =
	        "SELECT o.id FROM orders o JOIN bots b ON b.id = o.bot_id WHERE o.mode <> 'PAPER' "
	        "AND o.state = 'open' AND (b.status <> 'running' OR ? = 0) ORDER BY o.id LIMIT 500";
	struct q_stmt *st;
	long long ids[500];
	size_t n = 0;
	int r = 0;

	/* Read again: a switch flipped while this tick ran still halts LIVE within it. */
	if (q_settings_live_enabled(t->db, &t->live_on, err) < 0 ||
	    (st = q_db_prepare(t->db, sql, err)) == NULL)
		return -1;
	q_stmt_bind_int64(st, 0, t->live_on);
	if (q_stmt_exec(st, err) < 0) {
		q_stmt_done(st);
		return -1;
	}
	while (n < 500 && (r = q_stmt_fetch(st, err)) == 1)
		ids[n++] = q_stmt_col_int64(st, 0);
	q_stmt_done(st);
	if (r < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct live_order o;

		if (load_order(t, ids[i], &o, err) < 0 || cancel_one(t, &o, err) < 0)
			return -1;
	}
	/* Within the same tick: every running LIVE bot halts with LIVE_DISABLED. */
	if (!t->live_on) {
		struct halt_live h = {t, 500};

		while (h.n == 500)
			if (q_db_tx(t->db, halt_live_tx, &h, err) < 0)
				return -1;
	}
	return 0;
	return 0;
}

/*
 * Once per UTC day, every stored key is asked again. The day is claimed in the settings table
 * with one conditional UPDATE, so one trader does it even when several share the database and
 * whether the trader runs as a loop or from cron.
 */
int
tr_keys_daily(struct trader *t, struct q_err *err)
{
	static const char name[] = "quantor.trader.keys_verified_day";
	struct q_keys_verify_stats st;
	long long day = t->now_ms / 86400000, won;
	char v[24];

	if (!t->have_vault)
		return 0;
	snprintf(v, sizeof(v), "%lld", day);
	if (q_db_exec(t->db, err, "INSERT IGNORE INTO settings (name, value) VALUES (?, '0')", "s",
	              name) < 0)
		return -1;
	won = q_db_exec(t->db, err,
	                "UPDATE settings SET value = ?, updated_by = 'system:trader', reason = "
	                "'daily key check' WHERE name = ? AND CAST(value AS SIGNED) < ?",
	                "ssi", v, name, day);
	if (won <= 0)
		return won < 0 ? -1 : 0;
	if (q_keys_verify_all(t->db, t->ctx.cfg, &t->vault, "system:trader", &st, NULL, NULL, err) <
	    0)
		return -1;
	q_log_info("keys.verified", "checked=%d verified=%d refused=%d unreachable=%d halted=%d",
	           st.checked, st.verified, st.refused, st.unreachable, st.halted_bots);
	return 0;
}
