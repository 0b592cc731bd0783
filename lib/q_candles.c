#include "q_candles.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	long long ms;
} intervals[] = {
        {"1m", 60000LL},    {"3m", 180000LL},    {"5m", 300000LL},   {"15m", 900000LL},
        {"30m", 1800000LL}, {"1h", 3600000LL},   {"2h", 7200000LL},  {"4h", 14400000LL},
        {"6h", 21600000LL}, {"12h", 43200000LL}, {"1d", 86400000LL}, {"1w", 604800000LL},
};

#define NINTERVALS (sizeof(intervals) / sizeof(intervals[0]))

/* 10^18: DECIMAL(36,18) holds 18 digits before the point. */
#define DEC_LIMIT 1000000000000000000LL

long long
q_candles_interval_ms(const char *name)
{
	if (name == NULL)
		return 0;
	for (size_t i = 0; i < NINTERVALS; i++)
		if (strcmp(intervals[i].name, name) == 0)
			return intervals[i].ms;
	return 0;
}

const char *
q_candles_interval_name(long long ms)
{
	for (size_t i = 0; i < NINTERVALS; i++)
		if (intervals[i].ms == ms)
			return intervals[i].name;
	return NULL;
}

const char *
q_candles_interval_at(size_t i)
{
	return i < NINTERVALS ? intervals[i].name : NULL;
}

/* ---- gaps --------------------------------------------------------------------------------- */

/* The first open time >= t on the grid through anchor. */
static long long
grid_ceil(long long t, long long anchor, long long iv)
{
	long long d = t - anchor, k = d / iv; /* C truncates: a ceiling for d < 0 */

	if (d > 0 && d % iv != 0)
		k++;
	return anchor + k * iv;
}

/* Record a gap of count candles from from_ms; returns the new number of gaps. */
static size_t
add_gap(struct q_candles_gap *out, size_t max, size_t ngaps, long long from_ms, long long count)
{
	if (count <= 0)
		return ngaps;
	if (ngaps < max) {
		out[ngaps].from_ms = from_ms;
		out[ngaps].count = count;
	}
	return ngaps + 1;
}

/* Candles of the grid in [a, b): a is on the grid. */
static long long
span(long long a, long long b, long long iv)
{
	return b > a ? (b - a + iv - 1) / iv : 0;
}

/* The gaps of q_candles_gaps, the first max into out; *total (optional) sums them. */
static size_t
gaps_walk(struct q_candles_gap *out, size_t max, const struct q_bar *bars, size_t n, long long iv,
          long long from_ms, long long to_ms, long long *total)
{
	long long anchor = n ? bars[0].open_ms : 0, next, sum = 0;
	size_t ngaps = 0;

	if (iv <= 0)
		goto out;
	if (n == 0) {
		if (from_ms <= 0 || to_ms <= from_ms)
			goto out;
		next = grid_ceil(from_ms, anchor, iv);
		sum = span(next, to_ms, iv);
		ngaps = add_gap(out, max, 0, next, sum);
		goto out;
	}
	next = from_ms > 0 ? grid_ceil(from_ms, anchor, iv) : bars[0].open_ms;
	for (size_t i = 0; i < n; i++) {
		long long t = bars[i].open_ms, after;

		if (to_ms > 0 && t >= to_ms)
			break;
		if (t > next) {
			ngaps = add_gap(out, max, ngaps, next, span(next, t, iv));
			sum += span(next, t, iv);
		}
		/* The grid candle after this one (an off-grid bar moves nothing past the next). */
		after = grid_ceil(t + 1, anchor, iv);
		if (after > next)
			next = after;
	}
	if (to_ms > 0 && to_ms > next) {
		ngaps = add_gap(out, max, ngaps, next, span(next, to_ms, iv));
		sum += span(next, to_ms, iv);
	}
out:
	if (total)
		*total = sum;
	return ngaps;
}

size_t
q_candles_gaps(struct q_candles_gap *out, size_t max, const struct q_bar *bars, size_t n,
               long long interval_ms, long long from_ms, long long to_ms)
{
	return gaps_walk(out, max, bars, n, interval_ms, from_ms, to_ms, NULL);
}

long long
q_candles_missing(const struct q_bar *bars, size_t n, long long interval_ms, long long from_ms,
                  long long to_ms)
{
	long long total;

	gaps_walk(NULL, 0, bars, n, interval_ms, from_ms, to_ms, &total);
	return total;
}

/* ---- arguments ---------------------------------------------------------------------------- */

static int
check_key(const char *exchange, const char *symbol, const char *interval, long long *iv,
          struct q_err *err)
{
	size_t n = symbol ? strspn(symbol, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") : 0;

	*iv = 0;
	if (exchange == NULL || q_exchange_lookup(exchange) == NULL) {
		q_err_set_field(err, "exchange", Q_E_BAD_REQUEST, "unknown exchange '%s'",
		                exchange ? exchange : "");
		return -1;
	}
	if (n == 0 || symbol[n] != '\0' || n >= Q_EX_SYMBOL_MAX) {
		q_err_set_field(err, "symbol", Q_E_BAD_REQUEST,
		                "symbol must be 1 to %d of A-Z 0-9, like BTCUSDT",
		                Q_EX_SYMBOL_MAX - 1);
		return -1;
	}
	*iv = q_candles_interval_ms(interval);
	if (*iv <= 0) {
		q_err_set_field(
		        err, "interval", Q_E_BAD_REQUEST,
		        "unknown interval '%s': one of 1m 3m 5m 15m 30m 1h 2h 4h 6h 12h 1d 1w",
		        interval ? interval : "");
		return -1;
	}
	return 0;
}

/* ---- storage ------------------------------------------------------------------------------ */

static const char sql_upsert[] =
        "INSERT INTO candles (exchange, symbol, candle_interval, open_time, close_time, open, "
        "high, low, close, volume) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
        "close_time = VALUES(close_time), open = VALUES(open), high = VALUES(high), "
        "low = VALUES(low), close = VALUES(close), volume = VALUES(volume)";

struct store {
	const char *exchange, *symbol, *interval;
	const struct q_exchange_kline *k;
	size_t n, stored;
};

static int
kline_valid(const struct q_exchange_kline *k)
{
	struct q_dec lim = q_dec_from_int(DEC_LIMIT);
	const struct q_dec *v[] = {&k->open, &k->high, &k->low, &k->close, &k->volume};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (q_dec_cmp(*v[i], lim) >= 0)
			return 0;
	return k->open_ms > 0 && k->close_ms > k->open_ms && q_dec_sign(k->low) > 0 &&
	       q_dec_cmp(k->low, k->open) <= 0 && q_dec_cmp(k->low, k->close) <= 0 &&
	       q_dec_cmp(k->high, k->open) >= 0 && q_dec_cmp(k->high, k->close) >= 0 &&
	       q_dec_sign(k->volume) >= 0;
}

static int
store_tx(struct q_db *db, void *arg, struct q_err *err)
{
	struct store *s = arg;
	struct q_stmt *st = q_db_prepare(db, sql_upsert, err);
	char o[Q_DEC_STR_MAX], h[Q_DEC_STR_MAX], l[Q_DEC_STR_MAX], c[Q_DEC_STR_MAX],
	        v[Q_DEC_STR_MAX];
	int rc = -1;

	s->stored = 0;
	if (st == NULL)
		return -1;
	q_stmt_bind_str(st, 0, s->exchange);
	q_stmt_bind_str(st, 1, s->symbol);
	q_stmt_bind_str(st, 2, s->interval);
	for (size_t i = 0; i < s->n; i++) {
		const struct q_exchange_kline *k = &s->k[i];

		if (!k->closed)
			continue;
		q_dec_format(o, k->open);
		q_dec_format(h, k->high);
		q_dec_format(l, k->low);
		q_dec_format(c, k->close);
		q_dec_format(v, k->volume);
		q_stmt_bind_time_us(st, 3, k->open_ms * 1000);
		q_stmt_bind_time_us(st, 4, k->close_ms * 1000);
		q_stmt_bind_decimal(st, 5, o);
		q_stmt_bind_decimal(st, 6, h);
		q_stmt_bind_decimal(st, 7, l);
		q_stmt_bind_decimal(st, 8, c);
		q_stmt_bind_decimal(st, 9, v);
		if (q_stmt_exec(st, err) < 0)
			goto out;
		s->stored++;
	}
	rc = 0;
out:
	q_stmt_done(st);
	return rc;
}

int
q_candles_store(struct q_db *db, const char *exchange, const char *symbol, const char *interval,
                const struct q_exchange_kline *k, size_t n, size_t *stored, struct q_err *err)
{
	struct store s = {exchange, symbol, interval, k, n, 0};
	long long iv;
	size_t closed = 0;

	if (stored)
		*stored = 0;
	if (check_key(exchange, symbol, interval, &iv, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!k[i].closed)
			continue;
		if (!kline_valid(&k[i])) {
			char o[Q_DEC_STR_MAX], h[Q_DEC_STR_MAX], l[Q_DEC_STR_MAX], c[Q_DEC_STR_MAX];

			q_dec_format(o, k[i].open);
			q_dec_format(h, k[i].high);
			q_dec_format(l, k[i].low);
			q_dec_format(c, k[i].close);
			return q_err_set(
			        err, Q_E_BAD_REQUEST,
			        "%s %s %s candle opening at %lld ms is inconsistent (open %s, "
			        "high %s, low %s, close %s): nothing stored",
			        exchange, symbol, interval, k[i].open_ms, o, h, l, c);
		}
		closed++;
	}
	if (closed == 0)
		return 0;
	if (q_db_tx(db, store_tx, &s, err) < 0)
		return -1;
	if (stored)
		*stored = s.stored;
	return 0;
}

/* Append the current row of st to the growing array *bars. */
static void
push_bar(struct q_arena *a, struct q_bar **bars, size_t *n, size_t *cap, const struct q_stmt *st)
{
	struct q_bar *b;

	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		struct q_bar *nb = q_arena_alloc(a, ncap * sizeof(*nb));

		if (*n)
			memcpy(nb, *bars, *n * sizeof(*nb));
		*bars = nb;
		*cap = ncap;
	}
	b = &(*bars)[(*n)++];
	b->open_ms = q_stmt_col_time_us(st, 0) / 1000;
	b->open = q_stmt_col_double(st, 1);
	b->high = q_stmt_col_double(st, 2);
	b->low = q_stmt_col_double(st, 3);
	b->close = q_stmt_col_double(st, 4);
	b->volume = q_stmt_col_double(st, 5);
}

static const char sql_range[] =
        "SELECT open_time, open, high, low, close, volume FROM candles WHERE exchange = ? AND "
        "symbol = ? AND candle_interval = ? AND open_time >= ? AND open_time < ? "
        "ORDER BY open_time LIMIT ?";

int
q_candles_range(struct q_db *db, struct q_arena *a, struct q_bar **out, size_t *n,
                const char *exchange, const char *symbol, const char *interval, long long from_ms,
                long long to_ms, struct q_err *err)
{
	struct q_stmt *st;
	size_t cap = 0;
	long long iv;
	int r, rc = -1;

	*out = NULL;
	*n = 0;
	if (check_key(exchange, symbol, interval, &iv, err) < 0)
		return -1;
	if (from_ms < 0 || from_ms >= to_ms)
		return q_err_set(err, Q_E_BAD_REQUEST, "the range must start before it ends");
	st = q_db_prepare(db, sql_range, err);
	if (st == NULL)
		return -1;
	q_stmt_bind_str(st, 0, exchange);
	q_stmt_bind_str(st, 1, symbol);
	q_stmt_bind_str(st, 2, interval);
	q_stmt_bind_time_us(st, 3, from_ms * 1000);
	q_stmt_bind_time_us(st, 4, to_ms * 1000);
	q_stmt_bind_int64(st, 5, Q_CANDLES_MAX_WANT);
	if (q_stmt_exec(st, err) < 0)
		goto out;
	while ((r = q_stmt_fetch(st, err)) == 1)
		push_bar(a, out, n, &cap, st);
	if (r < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0) {
		*out = NULL;
		*n = 0;
	}
	q_stmt_done(st);
	return rc;
}

static const char sql_latest[] =
        "SELECT open_time, open, high, low, close, volume FROM candles WHERE exchange = ? AND "
        "symbol = ? AND candle_interval = ? ORDER BY open_time DESC LIMIT ?";

int
q_candles_latest(struct q_db *db, struct q_arena *a, struct q_bar **out, size_t *n,
                 const char *exchange, const char *symbol, const char *interval, size_t limit,
                 struct q_err *err)
{
	struct q_stmt *st;
	size_t cap = 0;
	long long iv;
	int r, rc = -1;

	*out = NULL;
	*n = 0;
	if (check_key(exchange, symbol, interval, &iv, err) < 0)
		return -1;
	if (limit < 1 || limit > Q_CANDLES_MAX_WANT)
		return q_err_set(err, Q_E_BAD_REQUEST, "between 1 and %d candles, not %zu",
		                 Q_CANDLES_MAX_WANT, limit);
	st = q_db_prepare(db, sql_latest, err);
	if (st == NULL)
		return -1;
	q_stmt_bind_str(st, 0, exchange);
	q_stmt_bind_str(st, 1, symbol);
	q_stmt_bind_str(st, 2, interval);
	q_stmt_bind_int64(st, 3, (long long)limit);
	if (q_stmt_exec(st, err) < 0)
		goto out;
	while ((r = q_stmt_fetch(st, err)) == 1)
		push_bar(a, out, n, &cap, st);
	if (r < 0)
		goto out;
	/* Newest first from the index; callers want oldest first. */
	for (size_t i = 0, j = *n; i + 1 < j; i++, j--) {
		struct q_bar t = (*out)[i];

		(*out)[i] = (*out)[j - 1];
		(*out)[j - 1] = t;
	}
	rc = 0;
out:
	if (rc < 0) {
		*out = NULL;
		*n = 0;
	}
	q_stmt_done(st);
	return rc;
}

/* ---- from the venue ----------------------------------------------------------------------- */

/*
 * Page backwards from end_ms (0: the newest) and store the closed candles opening in [lo, hi)
 * (hi 0: no upper bound) until one opening at or before lo was seen, need of them were stored,
 * or the venue has no older ones. *got counts the candles stored.
 */
struct page_walk {
	struct q_db *db;
	struct q_exchange *ex;
	const char *symbol, *interval;
	long long lo, hi, need;
	long long *got;
	/* progress over a whole fill: done before this walk, and the total */
	void (*progress)(long long done, long long total, void *ud);
	void *ud;
	long long done_before, total;
};

static int
walk_back(const struct page_walk *w, long long end_ms, struct q_err *err)
{
	struct q_arena *a = q_arena_new();
	long long prev_oldest = 0;
	int max = w->ex->ops->max_klines > 0 ? w->ex->ops->max_klines : 100, rc = -1;

	for (;;) {
		struct q_exchange_kline *k;
		size_t m, keep = 0, stored = 0;
		long long left = w->need - *w->got, oldest;
		int limit = left + 1 < (long long)max ? (int)(left + 1) : max;

		q_arena_reset(a);
		if (q_exchange_klines(w->ex, a, &k, &m, w->symbol, w->interval, end_ms, limit,
		                      err) < 0)
			goto out;
		if (m == 0)
			break; /* nothing older: the venue's history starts later */
		oldest = k[0].open_ms;
		/* Keep what lies in [lo, hi); the page is oldest first. */
		for (size_t i = 0; i < m; i++)
			if (k[i].open_ms >= w->lo && (w->hi <= 0 || k[i].open_ms < w->hi))
				k[keep++] = k[i];
		if (q_candles_store(w->db, w->ex->ops->name, w->symbol, w->interval, k, keep,
		                    &stored, err) < 0)
			goto out;
		*w->got += (long long)stored;
		if (w->progress)
			w->progress(w->done_before + *w->got, w->total, w->ud);
		if (oldest <= w->lo || *w->got >= w->need)
			break;
		if (prev_oldest != 0 && oldest >= prev_oldest)
			break; /* the venue ignored the end time: no progress */
		prev_oldest = oldest;
		end_ms = oldest - 1;
	}
	rc = 0;
out:
	q_arena_destroy(a);
	return rc;
}

int
q_candles_fill(struct q_db *db, struct q_exchange *ex, const char *symbol, const char *interval,
               long long from_ms, long long to_ms,
               void (*progress)(long long done, long long total, void *ud), void *ud,
               long long *fetched, struct q_err *err)
{
	struct q_arena *a = q_arena_new();
	struct q_candles_gap *gaps = NULL;
	struct q_bar *bars;
	size_t n, ngaps;
	long long iv, total = 0, got = 0;
	int rc = -1;

	if (fetched)
		*fetched = 0;
	if (check_key(ex->ops->name, symbol, interval, &iv, err) < 0)
		goto out;
	if (from_ms <= 0 || from_ms >= to_ms) {
		q_err_set(err, Q_E_BAD_REQUEST, "the range must start before it ends");
		goto out;
	}
	if ((to_ms - from_ms) / iv > Q_CANDLES_MAX_WANT) {
		q_err_set(
		        err, Q_E_BAD_REQUEST,
		        "%lld candles of %s is too many at once: at most %d (a shorter range or a "
		        "longer interval)",
		        (to_ms - from_ms) / iv, interval, Q_CANDLES_MAX_WANT);
		goto out;
	}
	if (q_candles_range(db, a, &bars, &n, ex->ops->name, symbol, interval, from_ms, to_ms,
	                    err) < 0)
		goto out;
	ngaps = q_candles_gaps(NULL, 0, bars, n, iv, from_ms, to_ms);
	if (ngaps == 0) {
		rc = 0;
		goto out;
	}
	gaps = q_arena_alloc(a, ngaps * sizeof(*gaps));
	q_candles_gaps(gaps, ngaps, bars, n, iv, from_ms, to_ms);
	for (size_t i = 0; i < ngaps; i++)
		total += gaps[i].count;
	/* Newest stretch first: the venue pages backwards from an end time. */
	for (size_t i = ngaps; i-- > 0;) {
		long long end = gaps[i].from_ms + gaps[i].count * iv, before = got, here = 0;
		struct page_walk w = {.db = db,
		                      .ex = ex,
		                      .symbol = symbol,
		                      .interval = interval,
		                      .lo = gaps[i].from_ms,
		                      .hi = end,
		                      .need = gaps[i].count,
		                      .got = &here,
		                      .progress = progress,
		                      .ud = ud,
		                      .done_before = before,
		                      .total = total};

		if (walk_back(&w, end - 1, err) < 0)
			goto out;
		got += here;
	}
	rc = 0;
out:
	if (fetched)
		*fetched = got;
	q_arena_destroy(a);
	return rc;
}

/* The length of the newest run of consecutive bars at the end of bars[0..n). */
static size_t
newest_run(const struct q_bar *bars, size_t n, long long iv)
{
	size_t i = n;

	if (n == 0)
		return 0;
	while (i > 1 && bars[i - 1].open_ms - bars[i - 2].open_ms == iv)
		i--;
	return n - (i - 1);
}

int
q_candles_sync(struct q_db *db, struct q_exchange *ex, const char *exchange, const char *symbol,
               const char *interval, size_t want, struct q_arena *a, struct q_bar **out, size_t *n,
               struct q_err *err)
{
	struct page_walk w = {.db = db, .ex = ex, .symbol = symbol, .interval = interval};
	struct q_bar *bars;
	size_t nb, run;
	long long iv, now, got = 0;

	*out = NULL;
	*n = 0;
	if (exchange == NULL)
		exchange = ex->ops->name;
	if (strcmp(exchange, ex->ops->name) != 0)
		return q_err_set(err, Q_E_BAD_REQUEST, "exchange '%s' is not the client's venue %s",
		                 exchange, ex->ops->name);
	if (check_key(exchange, symbol, interval, &iv, err) < 0)
		return -1;
	if (want < 1 || want > Q_CANDLES_MAX_WANT)
		return q_err_set(err, Q_E_BAD_REQUEST, "between 1 and %d candles, not %zu",
		                 Q_CANDLES_MAX_WANT, want);
	w.got = &got;
	if (q_candles_latest(db, a, &bars, &nb, exchange, symbol, interval, want, err) < 0)
		return -1;
	now = q_exchange_now_ms(ex);
	/* Nothing stored: the newest want closed candles (and the open one, skipped). */
	w.lo = now - ((long long)want + 1) * iv;
	w.need = (long long)want;
	if (nb > 0) {
		long long last = bars[nb - 1].open_ms;
		/* The candles after last that have closed by now: last + k * iv + iv <= now. */
		long long head = now - last >= 2 * iv ? (now - last) / iv - 1 : 0;

		if (head == 0 && newest_run(bars, nb, iv) >= want) {
			*out = bars;
			*n = nb;
			return 0;
		}
		/* Only the newest want matter: a longer outage leaves an older hole behind. */
		if (head <= (long long)want) {
			w.lo = last + iv;
			w.need = head;
		}
	}
	if (w.need > 0 && walk_back(&w, 0, err) < 0)
		return -1;
	if (got > 0 &&
	    q_candles_latest(db, a, &bars, &nb, exchange, symbol, interval, want, err) < 0)
		return -1;
	run = newest_run(bars, nb, iv);
	if (nb > 0 && run < want) {
		/* Holes or a short history: the stretch before the newest run. */
		long long first = bars[nb - run].open_ms;

		got = 0;
		w.need = (long long)(want - run);
		w.lo = first - w.need * iv;
		w.hi = first;
		if (walk_back(&w, first - 1, err) < 0)
			return -1;
		if (got > 0 &&
		    q_candles_latest(db, a, &bars, &nb, exchange, symbol, interval, want, err) < 0)
			return -1;
		run = newest_run(bars, nb, iv);
	}
	*out = nb ? bars + (nb - run) : NULL;
	*n = run;
	return 0;
}
