/*
 * A batch's writes, a few statements for up to TR_BATCH bots instead of several per bot: what
 * keeps one tick of 10,000 bots within a couple of seconds. Every statement is prepared with ?
 * placeholders only; its text depends on nothing but the number of rows.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "q_log.h"
#include "trader.h"

/* head + n x row (comma-separated) + tail, in the tick's arena. */
static const char *
rows_sql(struct q_arena *a, const char *head, const char *row, const char *tail, size_t n)
{
	struct q_buf b = Q_BUF_INIT;
	char *s;

	q_buf_adds(&b, head);
	for (size_t i = 0; i < n; i++) {
		if (i)
			q_buf_addch(&b, ',');
		q_buf_adds(&b, row);
	}
	q_buf_adds(&b, tail);
	s = q_arena_strdup(a, b.data);
	q_buf_release(&b);
	return s;
}

static const char *
dec_text(struct q_arena *a, struct q_dec d)
{
	char s[Q_DEC_STR_MAX];

	q_dec_format(s, d);
	return q_arena_strdup(a, s);
}

static const char *
day_text(struct q_arena *a, long long us)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	char s[16];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%d", &tm);
	return q_arena_strdup(a, s);
}

static int
run(struct q_stmt *st, struct q_err *err)
{
	int rc = q_stmt_exec(st, err);

	q_stmt_done(st);
	return rc < 0 ? -1 : 0;
}

int
tr_batch_load(struct trader *t, struct tr_bot *bots, size_t n, struct q_err *err)
{
	struct q_stmt *st;
	int r, rc = -1;
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		memset(bots[i].slot, 0, sizeof(*bots[i].slot));
	if (n == 0)
		return 0;
	/* Claimed ids ascend: one range read, matched in order. */
	st = q_db_prepare(t->db,
	                  "SELECT bot_id, qty, avg_entry, realized_pnl FROM positions WHERE bot_id "
	                  "BETWEEN ? AND ? ORDER BY bot_id",
	                  err);
	if (st == NULL)
		return -1;
	q_stmt_bind_int64(st, 0, bots[0].id);
	q_stmt_bind_int64(st, 1, bots[n - 1].id);
	if (q_stmt_exec(st, err) < 0)
		goto out;
	while ((r = q_stmt_fetch(st, err)) == 1) {
		long long id = q_stmt_col_int64(st, 0);
		char q[64], a[64], re[64];

		while (k < n && bots[k].id < id)
			k++;
		if (k == n || bots[k].id != id)
			continue;
		if (q_stmt_col_copy(st, 1, q, sizeof(q), err) < 0 ||
		    q_stmt_col_copy(st, 2, a, sizeof(a), err) < 0 ||
		    q_stmt_col_copy(st, 3, re, sizeof(re), err) < 0 ||
		    q_dec_parse_str(&bots[k].slot->pos.qty, q, err) < 0 ||
		    q_dec_parse_str(&bots[k].slot->pos.avg_entry, a, err) < 0 ||
		    q_dec_parse_str(&bots[k].slot->pos.realized, re, err) < 0)
			goto out;
	}
	rc = r < 0 ? -1 : 0;
out:
	q_stmt_done(st);
	return rc;
}

static int
flush_positions(struct trader *t, struct tr_bot *bots, size_t n, struct q_err *err)
{
	size_t m = 0;
	struct q_stmt *st;
	unsigned p = 0;

	for (size_t i = 0; i < n; i++)
		m += bots[i].slot->pos_dirty != 0;
	if (m == 0)
		return 0;
	st = q_db_prepare(t->db,
	                  rows_sql(t->a,
	                           "INSERT INTO positions (bot_id, qty, avg_entry, realized_pnl) "
	                           "VALUES ",
	                           "(?, ?, ?, ?)",
	                           " ON DUPLICATE KEY UPDATE qty = VALUES(qty), avg_entry = "
	                           "VALUES(avg_entry), realized_pnl = VALUES(realized_pnl)",
	                           m),
	                  err);
	if (st == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct tr_slot *s = bots[i].slot;

		if (!s->pos_dirty)
			continue;
		q_stmt_bind_int64(st, p++, bots[i].id);
		q_stmt_bind_decimal(st, p++, dec_text(t->a, s->pos.qty));
		q_stmt_bind_decimal(st, p++, dec_text(t->a, s->pos.avg_entry));
		q_stmt_bind_decimal(st, p++, dec_text(t->a, s->pos.realized));
	}
	return run(st, err);
}

static int
flush_marks(struct trader *t, struct tr_bot *bots, size_t n, struct q_err *err)
{
	size_t m = 0;
	struct q_stmt *st;
	unsigned p = 0;

	for (size_t i = 0; i < n; i++)
		m += bots[i].slot->marked != 0;
	if (m == 0)
		return 0;
	/* Today's P&L: this tick's realized added, unrealized replaced, the day's first equity
	 * kept as its start. */
	st = q_db_prepare(
	        t->db,
	        rows_sql(t->a,
	                 "INSERT INTO daily_pnl (bot_id, day, user_id, realized, "
	                 "unrealized, equity_start) VALUES ",
	                 "(?, ?, ?, ?, ?, ?)",
	                 " ON DUPLICATE KEY UPDATE realized = realized + VALUES(realized), "
	                 "unrealized = VALUES(unrealized), equity_start = IF(equity_start "
	                 "= 0, VALUES(equity_start), equity_start)",
	                 m),
	        err);
	if (st == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct tr_slot *s = bots[i].slot;

		if (!s->marked)
			continue;
		q_stmt_bind_int64(st, p++, bots[i].id);
		q_stmt_bind_str(st, p++, day_text(t->a, s->mark_us));
		q_stmt_bind_int64(st, p++, bots[i].user_id);
		q_stmt_bind_decimal(st, p++, dec_text(t->a, s->realized_today));
		q_stmt_bind_decimal(st, p++, dec_text(t->a, s->unrealized));
		q_stmt_bind_decimal(st, p++, dec_text(t->a, s->equity));
	}
	if (run(st, err) < 0)
		return -1;
	p = 0;
	st = q_db_prepare(t->db,
	                  rows_sql(t->a, "INSERT INTO equity (bot_id, ts, equity) VALUES ",
	                           "(?, ?, ?)", " ON DUPLICATE KEY UPDATE equity = VALUES(equity)",
	                           m),
	                  err);
	if (st == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct tr_slot *s = bots[i].slot;

		if (!s->marked)
			continue;
		q_stmt_bind_int64(st, p++, bots[i].id);
		q_stmt_bind_time_us(st, p++, s->mark_us);
		q_stmt_bind_decimal(st, p++, dec_text(t->a, s->equity));
	}
	return run(st, err);
}

static int
flush_states(struct trader *t, struct tr_bot *bots, size_t n, struct q_err *err)
{
	size_t m = 0;
	struct q_stmt *st;
	struct q_buf sql = Q_BUF_INIT;
	unsigned p = 0;

	for (size_t i = 0; i < n; i++)
		m += bots[i].slot->stepped != 0;
	if (m == 0)
		return 0;
	/* One UPDATE: each stepped bot's state and the candle it decided on. */
	q_buf_adds(&sql, "UPDATE bots SET state = CASE id");
	for (size_t i = 0; i < m; i++)
		q_buf_adds(&sql, " WHEN ? THEN ?");
	q_buf_adds(&sql, " ELSE state END, last_candle_open_time = CASE id");
	for (size_t i = 0; i < m; i++)
		q_buf_adds(&sql, " WHEN ? THEN ?");
	q_buf_adds(&sql, " ELSE last_candle_open_time END WHERE id IN (");
	for (size_t i = 0; i < m; i++)
		q_buf_adds(&sql, i ? ", ?" : "?");
	q_buf_adds(&sql, ")");
	st = q_db_prepare(t->db, q_arena_strdup(t->a, sql.data), err);
	q_buf_release(&sql);
	if (st == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (bots[i].slot->stepped) {
			q_stmt_bind_int64(st, p++, bots[i].id);
			q_stmt_bind_str(st, p++, bots[i].slot->state);
		}
	for (size_t i = 0; i < n; i++)
		if (bots[i].slot->stepped) {
			q_stmt_bind_int64(st, p++, bots[i].id);
			q_stmt_bind_time_us(st, p++, bots[i].slot->newest_ms * 1000);
		}
	for (size_t i = 0; i < n; i++)
		if (bots[i].slot->stepped)
			q_stmt_bind_int64(st, p++, bots[i].id);
	return run(st, err);
}

/* The PAPER orders of the batch, filled, then their fills read back from them. */
static int
flush_orders(struct trader *t, struct tr_bot *bots, size_t n, struct q_err *err)
{
	size_t m = 0;
	struct q_stmt *st;
	unsigned p = 0;

	for (size_t i = 0; i < n; i++)
		m += bots[i].slot->ordered != 0;
	if (m == 0)
		return 0;
	st = q_db_prepare(
	        t->db,
	        rows_sql(t->a,
	                 "INSERT INTO orders (bot_id, user_id, client_order_id, exchange, "
	                 "mode, symbol, side, type, qty, state, filled_qty, avg_price, fee, "
	                 "fee_asset, created_at) VALUES ",
	                 "(?, ?, ?, ?, 'PAPER', ?, ?, 'MARKET', ?, 'filled', ?, ?, ?, ?, ?)", "",
	                 m),
	        err);
	if (st == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct tr_bot *b = &bots[i];
		const struct tr_slot *s = b->slot;
		const char *q;

		if (!s->ordered)
			continue;
		q = dec_text(t->a, s->qty);
		q_stmt_bind_int64(st, p++, b->id);
		q_stmt_bind_int64(st, p++, b->user_id);
		q_stmt_bind_str(st, p++, s->cid);
		q_stmt_bind_str(st, p++, b->exchange);
		q_stmt_bind_str(st, p++, b->symbol);
		q_stmt_bind_str(st, p++, s->side > 0 ? "BUY" : "SELL");
		q_stmt_bind_decimal(st, p++, q);
		q_stmt_bind_decimal(st, p++, q);
		q_stmt_bind_decimal(st, p++, dec_text(t->a, s->price));
		q_stmt_bind_decimal(st, p++, dec_text(t->a, s->fee));
		q_stmt_bind_str(st, p++, s->fee_asset);
		q_stmt_bind_time_us(st, p++, s->order_us);
	}
	if (run(st, err) < 0)
		return -1;
	t->st.paper_fills += (int)m;
	p = 0;
	st = q_db_prepare(
	        t->db,
	        rows_sql(t->a,
	                 "INSERT INTO fills (order_id, bot_id, trade_id, qty, price, fee, "
	                 "fee_asset, ts) SELECT id, bot_id, CONCAT('paper-', "
	                 "client_order_id), filled_qty, avg_price, fee, fee_asset, "
	                 "created_at FROM orders WHERE client_order_id IN (",
	                 "?", ")", m),
	        err);
	if (st == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (bots[i].slot->ordered)
			q_stmt_bind_str(st, p++, bots[i].slot->cid);
	return run(st, err);
}

int
tr_batch_flush(struct trader *t, struct tr_bot *bots, size_t n, struct q_err *err)
{
	return flush_orders(t, bots, n, err) < 0 || flush_positions(t, bots, n, err) < 0 ||
	                       flush_marks(t, bots, n, err) < 0 || flush_states(t, bots, n, err) < 0
	               ? -1
	               : 0;
}
