/*
 * q_candles: market data kept in the candles table (DESIGN.md sections 5, 6 and 12).
 *
 * A candle is stored once it is closed (a venue that revises one overwrites it), keyed by
 * (exchange, symbol, interval, open time). Prices and volumes go in exactly as the venue sent
 * them: the struct q_dec values are bound as DECIMAL text, never through a double. Readers get
 * struct q_bar (q_strategy.h): doubles, for analytics only.
 *
 * Intervals are the canonical names the exchange layer uses: 1m 3m 5m 15m 30m 1h 2h 4h 6h 12h
 * 1d 1w. Times are Unix milliseconds; a candle's open time is the key, and it closes at
 * open + interval (the venue reports close_ms = open + interval - 1).
 *
 * q_candles_sync is what the trader runs once per (exchange, symbol, interval) and tick, and
 * what `quantorctl backtest` builds on: it asks the venue only for what the table lacks.
 */
#ifndef Q_CANDLES_H
#define Q_CANDLES_H

#include <stddef.h>

#include "q_arena.h"
#include "q_db.h"
#include "q_err.h"
#include "q_exchange.h"
#include "q_strategy.h"

#define Q_CANDLES_INTERVAL_MAX 8  /* bytes of an interval name, NUL included */
#define Q_CANDLES_MAX_WANT 100000 /* most candles one call reads or syncs */

/* ---- intervals (pure) --------------------------------------------------------------------- */

/* The length of a canonical interval ("1h" -> 3600000), 0 for any other text or NULL. */
long long q_candles_interval_ms(const char *name);

/* The canonical name of an interval length (3600000 -> "1h"), NULL when none has it. */
const char *q_candles_interval_name(long long ms);

/* The i-th canonical interval, shortest first (0 -> "1m"), NULL past the last ("1w"). */
const char *q_candles_interval_at(size_t i);

/* ---- gaps (pure) -------------------------------------------------------------------------- */

/* count candles are missing, opening at from_ms, from_ms + interval, ... */
struct q_candles_gap {
	long long from_ms;
	long long count;
};

/*
 * The missing open times of a series. bars (n of them, oldest first, open times strictly
 * increasing) should hold every candle of interval_ms opening in [from_ms, to_ms); from_ms and
 * to_ms may be 0 to mean "from the first bar" / "through the last bar". The expected open times
 * are those of the series' own grid (bars[0].open_ms + k * interval_ms; with no bars, multiples
 * of interval_ms from the Unix epoch), so a venue whose weekly candles open on Mondays is judged
 * on its own grid. Two bars closer than interval_ms, or off the grid, are not a gap. The first
 * max gaps go into out (which may be NULL when max is 0). Returns the number of gaps, which may
 * exceed max, as snprintf does; 0 when nothing is missing (and for interval_ms <= 0).
 */
size_t q_candles_gaps(struct q_candles_gap *out, size_t max, const struct q_bar *bars, size_t n,
                      long long interval_ms, long long from_ms, long long to_ms);

/* The candles that q_candles_gaps would report, summed (0 when none). */
long long q_candles_missing(const struct q_bar *bars, size_t n, long long interval_ms,
                            long long from_ms, long long to_ms);

/* ---- storage ------------------------------------------------------------------------------ */

/*
 * Upsert the closed candles of k[0..n) (k[i].closed != 0; open ones are skipped) for exchange
 * (a registered venue name), symbol and interval (canonical), in one transaction retried on
 * conflicts (q_db_tx). A candle already stored is overwritten with the venue's latest word.
 * *stored (optional) gets the number of closed candles written. Returns 0, or -1 with
 * Q_E_BAD_REQUEST for an unknown exchange or interval, an empty or overlong symbol, or a closed
 * candle that breaks the table's rules (0 < low <= open, close <= high; volume >= 0; open time
 * > 0 and before close_ms; every value below 10^18): nothing is stored then. Or a q_db error.
 */
int q_candles_store(struct q_db *db, const char *exchange, const char *symbol, const char *interval,
                    const struct q_exchange_kline *k, size_t n, size_t *stored, struct q_err *err);

/*
 * The stored candles opening in [from_ms, to_ms), oldest first, at most Q_CANDLES_MAX_WANT of
 * them (the oldest), into an array in arena a: *out (NULL when none) and *n. Returns 0, or -1
 * with Q_E_BAD_REQUEST (unknown exchange or interval, from_ms >= to_ms) or a q_db error.
 */
int q_candles_range(struct q_db *db, struct q_arena *a, struct q_bar **out, size_t *n,
                    const char *exchange, const char *symbol, const char *interval,
                    long long from_ms, long long to_ms, struct q_err *err);

/*
 * The newest limit (1 .. Q_CANDLES_MAX_WANT) stored candles, oldest first, into arena a: *out
 * (NULL when none) and *n <= limit. Gaps are not filled: see q_candles_gaps. Returns 0, or -1
 * as q_candles_range.
 */
int q_candles_latest(struct q_db *db, struct q_arena *a, struct q_bar **out, size_t *n,
                     const char *exchange, const char *symbol, const char *interval, size_t limit,
                     struct q_err *err);

/* ---- from the venue ----------------------------------------------------------------------- */

/*
 * Fetch from the venue and store the closed candles of interval opening in [from_ms, to_ms)
 * that the table does not hold yet (only the missing stretches are asked for, paging backwards
 * by ex->ops->max_klines). progress (may be NULL) is called after each page with the candles
 * stored so far and the number that were missing. *fetched (optional) gets the candles stored.
 * Candles the venue does not have (before a listing, inside its own outages, not yet closed)
 * stay missing: read back with q_candles_range and check with q_candles_gaps. The venue is ex's
 * (ex->ops->name in the table). Returns 0, or -1 with Q_E_BAD_REQUEST (bad symbol or interval,
 * from_ms <= 0, from_ms >= to_ms, a range of more than Q_CANDLES_MAX_WANT candles), a q_db error,
 * or the venue's (q_exchange_klines); what was stored before an error stays stored.
 */
int q_candles_fill(struct q_db *db, struct q_exchange *ex, const char *symbol, const char *interval,
                   long long from_ms, long long to_ms,
                   void (*progress)(long long done, long long total, void *ud), void *ud,
                   long long *fetched, struct q_err *err);

/*
 * The trader's market data step: make the table hold the newest want (1 .. Q_CANDLES_MAX_WANT)
 * closed candles of (exchange, symbol, interval) and return them.
 *
 * Cheap by construction: it reads the newest want stored candles first, and when they run
 * without a gap up to the newest candle that can have closed by the venue's clock
 * (q_exchange_now_ms), it makes no request at all. Otherwise it asks only for what is missing:
 * the candles after the last stored open time (one request while fewer than ex->ops->max_klines
 * closed since), then, when the stored run is shorter than want or has holes, the older
 * stretch, paging backwards. A venue that cannot fill a hole (a recent listing, its own outage)
 * is asked again on the next call: one small request.
 *
 * exchange must be ex's venue (ex->ops->name; NULL means that). *out (arena a) gets the newest
 * run of consecutive stored candles, at most want, oldest first, and *n its length: it ends at
 * the newest stored closed candle, which is not necessarily current when the venue could not be
 * reached for a while (compare its open time with the clock, as the regime detector does).
 * Returns 0, or -1 with Q_E_BAD_REQUEST (bad arguments), a venue error (Q_E_EXCHANGE_UNAVAILABLE,
 * Q_E_EX_RATE_LIMITED, ...) or a q_db error; candles stored before the error stay stored.
 */
int q_candles_sync(struct q_db *db, struct q_exchange *ex, const char *exchange, const char *symbol,
                   const char *interval, size_t want, struct q_arena *a, struct q_bar **out,
                   size_t *n, struct q_err *err);

#endif
