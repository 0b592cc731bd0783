/*
 * PAPER: the bot's target becomes a simulated fill at the close of the deciding candle, moved
 * against the bot by the slippage and charged the venue's fee (the same model as a backtest).
 * Sizes come from the bot's notional and the symbol's lot and minimum notional, in exact
 * decimals; the bot never spends more than it has.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "q_ledger.h"
#include "q_log.h"
#include "trader.h"

struct q_dec
tr_close(const struct tr_market *m)
{
	double tick = q_dec_to_double(m->rules.tick), close = m->bars[m->n - 1].close;
	struct q_dec d = {0};

	if (tick > 0)
		q_dec_mul(&d, q_dec_from_int(llround(close / tick)), m->rules.tick, Q_DEC_DOWN,
		          NULL);
	return d;
}

int
tr_size_order(const struct tr_market *m, struct q_dec notional, const struct q_position *pos,
              double target, struct q_dec close, int *side, struct q_dec *qty, struct q_err *err)
{
	struct q_dec want, delta, cash, cost, value;

	*side = 0;
	*qty = (struct q_dec){0};
	if (q_dec_sign(close) <= 0)
		return 0;
	/* target * notional / close, floored to the lot. */
	if (q_dec_mul(&want, tr_dec(target, 6), notional, Q_DEC_DOWN, err) < 0 ||
	    q_dec_div(&want, want, close, Q_DEC_DOWN, err) < 0 ||
	    q_dec_quantize(&want, want, m->rules.lot, Q_DEC_DOWN, err) < 0 ||
	    q_dec_sub(&delta, want, pos->qty, err) < 0)
		return -1;
	if (q_dec_sign(delta) > 0) {
		/* Never more than the cash left: notional + realized - cost of what is held. */
		if (q_dec_mul(&cost, pos->qty, pos->avg_entry, Q_DEC_UP, err) < 0 ||
		    q_dec_add(&cash, notional, pos->realized, err) < 0 ||
		    q_dec_sub(&cash, cash, cost, err) < 0)
			return -1;
		if (q_dec_mul(&value, delta, close, Q_DEC_UP, err) < 0)
			return -1;
		if (q_dec_cmp(value, cash) > 0) {
			if (q_dec_sign(cash) <= 0)
				return 0;
			if (q_dec_div(&delta, cash, close, Q_DEC_DOWN, err) < 0 ||
			    q_dec_quantize(&delta, delta, m->rules.lot, Q_DEC_DOWN, err) < 0)
				return -1;
		}
		*side = 1;
	} else if (q_dec_sign(delta) < 0) {
		delta = q_dec_neg(delta);
		/* Going flat sells everything held, dust included. */
		if (target <= 0)
			delta = pos->qty;
		*side = -1;
	} else {
		return 0;
	}
	if (q_dec_mul(&value, delta, close, Q_DEC_DOWN, err) < 0)
		return -1;
	if (q_dec_is_zero(delta) || q_dec_cmp(delta, m->rules.min_qty) < 0 ||
	    q_dec_cmp(value, m->rules.min_notional) < 0) {
		*side = 0;
		return 0;
	}
	*qty = delta;
	return 0;
}

int
tr_mark(const struct tr_bot *b, const struct tr_market *m, struct q_err *err)
{
	struct tr_slot *sl = b->slot;
	struct q_dec notional, close = tr_close(m);

	if (q_dec_parse_str(&notional, b->notional, err) < 0 ||
	    q_dec_sub(&sl->unrealized, close, sl->pos.avg_entry, err) < 0 ||
	    q_dec_mul(&sl->unrealized, sl->unrealized, sl->pos.qty, Q_DEC_HALF_EVEN, err) < 0 ||
	    q_dec_add(&sl->equity, notional, sl->pos.realized, err) < 0 ||
	    q_dec_add(&sl->equity, sl->equity, sl->unrealized, err) < 0)
		return -1;
	if (q_dec_sign(sl->equity) < 0)
		sl->equity = (struct q_dec){0};
	sl->marked = 1;
	sl->mark_us = (m->bars[m->n - 1].open_ms + m->interval_ms) * 1000;
	return 0;
}

int
tr_paper_step(struct trader *t, const struct tr_bot *b, const struct tr_market *m, double target,
              struct q_err *err)
{
	const struct q_bar *last = &m->bars[m->n - 1];
	long long ts_us = (last->open_ms + m->interval_ms) * 1000;
	struct tr_slot *sl = b->slot;
	struct q_dec notional, close = tr_close(m), qty, price, fee, quote, pnl;
	int side;

	if (q_dec_parse_str(&notional, b->notional, err) < 0 ||
	    tr_size_order(m, notional, &sl->pos, target, close, &side, &qty, err) < 0)
		return -1;
	if (side != 0) {
		price = tr_dec(q_fill_price(&t->fill, side, q_dec_to_double(close)), 8);
		if (q_dec_sign(price) <= 0 || q_dec_mul(&quote, qty, price, Q_DEC_UP, err) < 0)
			return -1;
		fee = tr_dec(q_fill_fee(&t->fill, q_dec_to_double(quote)), 8);
		if (q_ledger_apply(&sl->pos, side, qty, price, fee, &pnl, err) < 0 ||
		    q_dec_add(&sl->realized_today, sl->realized_today, pnl, err) < 0)
			return -1;
		sl->pos_dirty = 1;
		/* One decision per candle: the candle names the order. A simulated order fills whole
		 * at once; it is written, filled, with its one fill, by tr_batch_flush. */
		q_exchange_client_order_id(sl->cid, b->id, last->open_ms / 60000);
		sl->ordered = 1;
		sl->side = side;
		sl->qty = qty;
		sl->price = price;
		sl->fee = fee;
		sl->order_us = ts_us;
		sl->fee_asset = m->rules.quote;
	}
	return tr_mark(b, m, err);
}
