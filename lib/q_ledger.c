#include "q_ledger.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* The UTC day of ts_us as "YYYY-MM-DD". */
static void
day_of(char out[16], long long ts_us)
{
	time_t t = (time_t)(ts_us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

static int
dec(struct q_dec *out, const char *s, struct q_err *err)
{
	return q_dec_parse_str(out, s[0] ? s : "0", err);
}

int
q_ledger_position(struct q_db *db, long long bot_id, struct q_position *p, struct q_err *err)
{
	char qty[64] = "", avg[64] = "", real[64] = "";
	int r;

	memset(p, 0, sizeof(*p));
	r = q_db_row(db, err, "SELECT qty, avg_entry, realized_pnl FROM positions WHERE bot_id = ?",
	             "i>sss", bot_id, qty, sizeof(qty), avg, sizeof(avg), real, sizeof(real));
	if (r <= 0)
		return r;
	return dec(&p->qty, qty, err) < 0 || dec(&p->avg_entry, avg, err) < 0 ||
	                       dec(&p->realized, real, err) < 0
	               ? -1
	               : 0;
}

int
q_ledger_apply(struct q_position *p, int side, struct q_dec qty, struct q_dec price,
               struct q_dec fee, struct q_dec *pnl, struct q_err *err)
{
	struct q_position n = *p;
	struct q_dec quote, cost, newqty, r = {0};

	if (q_dec_mul(&quote, qty, price, Q_DEC_HALF_EVEN, err) < 0)
		return -1;
	if (side > 0) {
		/* New average entry: (qty * avg + quote) / (qty + fill qty). */
		if (q_dec_mul(&cost, n.qty, n.avg_entry, Q_DEC_HALF_EVEN, err) < 0 ||
		    q_dec_add(&cost, cost, quote, err) < 0 ||
		    q_dec_add(&newqty, n.qty, qty, err) < 0 ||
		    q_dec_div(&n.avg_entry, cost, newqty, Q_DEC_HALF_EVEN, err) < 0)
			return -1;
		n.qty = newqty;
	} else {
		if (q_dec_cmp(qty, n.qty) > 0)
			return q_err_set(err, Q_E_INTERNAL, "a sell of more than the position");
		if (q_dec_sub(&r, price, n.avg_entry, err) < 0 ||
		    q_dec_mul(&r, r, qty, Q_DEC_HALF_EVEN, err) < 0 ||
		    q_dec_sub(&n.qty, n.qty, qty, err) < 0)
			return -1;
		if (q_dec_is_zero(n.qty))
			n.avg_entry = (struct q_dec){0};
	}
	if (q_dec_sub(&r, r, fee, err) < 0 || q_dec_add(&n.realized, n.realized, r, err) < 0)
		return -1;
	*p = n;
	*pnl = r;
	return 0;
}

int
q_ledger_fill(struct q_db *db, const struct q_fill *f, int *dup, struct q_err *err)
{
	struct q_position p;
	struct q_dec quote, pnl = {0};
	char sq[Q_DEC_STR_MAX], sp[Q_DEC_STR_MAX], sf[Q_DEC_STR_MAX], sa[Q_DEC_STR_MAX],
	        sr[Q_DEC_STR_MAX], spnl[Q_DEC_STR_MAX], day[16];
	long long n;

	*dup = 0;
	if (q_dec_sign(f->qty) <= 0 || q_dec_sign(f->price) <= 0 || q_dec_sign(f->fee) < 0 ||
	    (f->side != 1 && f->side != -1))
		return q_err_set(err, Q_E_INTERNAL, "bot %lld: a fill needs qty and price > 0",
		                 f->bot_id);
	q_dec_format(sq, f->qty);
	q_dec_format(sp, f->price);
	q_dec_format(sf, f->fee);
	n = q_db_exec(db, err,
	              "INSERT IGNORE INTO fills (order_id, bot_id, trade_id, qty, price, fee, "
	              "fee_asset, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	              "iismmmst", f->order_id, f->bot_id, f->trade_id, sq, sp, sf, f->fee_asset,
	              f->ts_us);
	if (n < 0)
		return -1;
	if (n == 0) {
		*dup = 1;
		return 0;
	}
	/* Lock the position row (created at zero on the first fill). */
	if (q_db_exec(db, err, "INSERT IGNORE INTO positions (bot_id) VALUES (?)", "i", f->bot_id) <
	            0 ||
	    q_db_row(db, err, "SELECT bot_id FROM positions WHERE bot_id = ? FOR UPDATE", "i>i",
	             f->bot_id, &n) < 0 ||
	    q_ledger_position(db, f->bot_id, &p, err) < 0)
		return -1;
	if (q_dec_mul(&quote, f->qty, f->price, Q_DEC_HALF_EVEN, err) < 0 ||
	    q_ledger_apply(&p, f->side, f->qty, f->price, f->fee, &pnl, err) < 0)
		return -1;
	q_dec_format(sq, p.qty);
	q_dec_format(sa, p.avg_entry);
	q_dec_format(sr, p.realized);
	q_dec_format(spnl, pnl);
	day_of(day, f->ts_us);
	if (q_db_exec(
	            db, err,
	            "UPDATE positions SET qty = ?, avg_entry = ?, realized_pnl = ? WHERE bot_id = ?",
	            "mmmi", sq, sa, sr, f->bot_id) < 0 ||
	    q_db_exec(db, err,
	              "INSERT INTO daily_pnl (bot_id, day, user_id, realized) VALUES (?, ?, ?, ?) "
	              "ON DUPLICATE KEY UPDATE realized = realized + VALUES(realized)",
	              "isim", f->bot_id, day, f->user_id, spnl) < 0)
		return -1;
	/* The order's totals: filled quantity, volume-weighted average price, fees. */
	q_dec_format(sq, f->qty);
	q_dec_format(sp, quote);
	q_dec_format(sf, f->fee);
	return q_db_exec(
	               db, err,
	               "UPDATE orders SET avg_price = (COALESCE(avg_price, 0) * filled_qty + ?) / "
	               "(filled_qty + ?), filled_qty = filled_qty + ?, fee = fee + ?, fee_asset = "
	               "? WHERE id = ?",
	               "mmmmsi", sp, sq, sq, sf, f->fee_asset, f->order_id) < 0
	               ? -1
	               : 0;
}

/* --- history for the API ------------------------------------------------------------------- */

struct col {
	const char *name;
	char type; /* i integer, s text, d decimal (canonical text), t time (RFC 3339) */
};

static json_t *
col_json(const struct q_stmt *st, unsigned i, char type)
{
	const char *s;
	size_t len;

	if (q_stmt_col_null(st, i))
		return json_null();
	switch (type) {
	case 'i':
		return json_integer(q_stmt_col_int64(st, i));
	case 't': {
		long long us = q_stmt_col_time_us(st, i);
		char ts[40];
		time_t sec = (time_t)(us / 1000000);
		struct tm tm;

		gmtime_r(&sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%06lldZ", us % 1000000);
		return json_string(ts);
	}
	case 'd': {
		struct q_dec d;
		char out[Q_DEC_STR_MAX], buf[64];

		s = q_stmt_col_text(st, i, &len);
		if (len >= sizeof(buf))
			return json_null();
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (q_dec_parse_str(&d, buf, NULL) < 0)
			return json_string(buf);
		q_dec_format(out, d);
		return json_string(out);
	}
	default:
		s = q_stmt_col_text(st, i, &len);
		return json_stringn(s, len);
	}
}

/* Rows of sql (parameters: bot id, user id, limit) as an array of objects shaped by cols. */
static int
history(struct q_db *db, long long user_id, long long bot_id, int limit, const char *key,
        const char *sql, const struct col *cols, size_t ncols, json_t **out, struct q_err *err)
{
	long long owner = 0;
	struct q_stmt *st;
	json_t *rows;
	int r, rc = -1;

	*out = NULL;
	if (limit < 1 || limit > 1000)
		return q_err_set_field(err, "limit", Q_E_BAD_REQUEST, "limit must be 1 to 1000");
	r = q_db_row(db, err, "SELECT user_id FROM bots WHERE id = ? AND deleted_at IS NULL", "i>i",
	             bot_id, &owner);
	if (r < 0)
		return -1;
	if (r == 0 || owner != user_id)
		return q_err_set(err, Q_E_NOT_FOUND, "bot %lld not found", bot_id);
	if ((st = q_db_prepare(db, sql, err)) == NULL)
		return -1;
	q_stmt_bind_int64(st, 0, bot_id);
	q_stmt_bind_int64(st, 1, limit);
	rows = json_array();
	if (q_stmt_exec(st, err) < 0)
		goto out;
	while ((r = q_stmt_fetch(st, err)) == 1) {
		json_t *o = json_object();

		for (size_t i = 0; i < ncols; i++)
			json_object_set_new(o, cols[i].name,
			                    col_json(st, (unsigned)i, cols[i].type));
		json_array_append_new(rows, o);
	}
	if (r < 0)
		goto out;
	*out = json_pack("{s:I, s:o}", "bot_id", (json_int_t)bot_id, key, rows);
	rows = NULL;
	rc = 0;
out:
	json_decref(rows);
	q_stmt_done(st);
	return rc;
}

int
q_ledger_orders_json(struct q_db *db, long long user_id, long long bot_id, int limit, json_t **out,
                     struct q_err *err)
{
	static const struct col cols[] = {
	        {"id", 'i'},
	        {"client_order_id", 's'},
	        {"mode", 's'},
	        {"side", 's'},
	        {"type", 's'},
	        {"qty", 'd'},
	        {"price", 'd'},
	        {"state", 's'},
	        {"filled_qty", 'd'},
	        {"avg_price", 'd'},
	        {"fee", 'd'},
	        {"fee_asset", 's'},
	        {"exchange_order_id", 's'},
	        {"created_at", 't'},
	};

	return history(
	        db, user_id, bot_id, limit, "orders",
	        "SELECT id, client_order_id, mode, side, type, qty, price, state, filled_qty, "
	        "avg_price, fee, fee_asset, exchange_order_id, created_at FROM orders WHERE "
	        "bot_id = ? ORDER BY id DESC LIMIT ?",
	        cols, sizeof(cols) / sizeof(cols[0]), out, err);
}

int
q_ledger_trades_json(struct q_db *db, long long user_id, long long bot_id, int limit, json_t **out,
                     struct q_err *err)
{
	static const struct col cols[] = {
	        {"order_id", 'i'}, {"side", 's'},      {"qty", 'd'},  {"price", 'd'},
	        {"fee", 'd'},      {"fee_asset", 's'}, {"time", 't'},
	};

	return history(
	        db, user_id, bot_id, limit, "trades",
	        "SELECT f.order_id, o.side, f.qty, f.price, f.fee, f.fee_asset, f.ts FROM "
	        "fills f JOIN orders o ON o.id = f.order_id WHERE f.bot_id = ? ORDER BY f.ts "
	        "DESC, f.id DESC LIMIT ?",
	        cols, sizeof(cols) / sizeof(cols[0]), out, err);
}

int
q_ledger_equity_json(struct q_db *db, long long user_id, long long bot_id, int limit, json_t **out,
                     struct q_err *err)
{
	static const struct col cols[] = {{"time", 't'}, {"equity", 'd'}};

	return history(db, user_id, bot_id, limit, "equity",
	               "SELECT ts, equity FROM (SELECT ts, equity FROM equity WHERE bot_id = ? "
	               "ORDER BY ts DESC LIMIT ?) e ORDER BY ts",
	               cols, sizeof(cols) / sizeof(cols[0]), out, err);
}
