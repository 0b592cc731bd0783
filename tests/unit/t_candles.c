/*
 * Market data without a database: interval names and lengths, gap detection on candle series,
 * and the checks q_candles_store makes before it touches the table.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "q_candles.h"

#define M 60000LL
#define H 3600000LL
#define W 604800000LL
#define T0 1767225600000LL /* 2026-01-01T00:00:00Z, a Thursday */

Test(candles, interval_names_and_lengths)
{
	struct {
		const char *name;
		long long ms;
	} c[] = {{"1m", M},       {"3m", 3 * M},   {"5m", 5 * M},  {"15m", 15 * M},
	         {"30m", 30 * M}, {"1h", H},       {"2h", 2 * H},  {"4h", 4 * H},
	         {"6h", 6 * H},   {"12h", 12 * H}, {"1d", 24 * H}, {"1w", W}};
	size_t n = sizeof(c) / sizeof(c[0]);

	for (size_t i = 0; i < n; i++) {
		cr_expect_eq(q_candles_interval_ms(c[i].name), c[i].ms, "%s", c[i].name);
		cr_expect_str_eq(q_candles_interval_name(c[i].ms), c[i].name);
		cr_expect_str_eq(q_candles_interval_at(i), c[i].name);
	}
	cr_expect_null(q_candles_interval_at(n));
	/* Not canonical: venue spellings, other lengths, junk. */
	{
		const char *bad[] = {"1H", "60", "1M", "2m", "3d", "1mo", "", " 1h", "1h ", "h"};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			cr_expect_eq(q_candles_interval_ms(bad[i]), 0, "'%s'", bad[i]);
	}
	cr_expect_eq(q_candles_interval_ms(NULL), 0);
	cr_expect_null(q_candles_interval_name(0));
	cr_expect_null(q_candles_interval_name(2 * M));
	cr_expect_null(q_candles_interval_name(-H));
}

/* n hourly bars from T0, skipping the indexes in skip[] (-1 ends it). */
static size_t
series(struct q_bar *b, size_t n, long long iv, const int *skip)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		int skipped = 0;

		for (const int *s = skip; s && *s >= 0; s++)
			skipped |= (size_t)*s == i;
		if (skipped)
			continue;
		memset(&b[k], 0, sizeof(b[k]));
		b[k].open_ms = T0 + (long long)i * iv;
		b[k].close = 100;
		k++;
	}
	return k;
}

Test(candles, no_gaps_in_a_full_series)
{
	struct q_bar b[48];
	struct q_candles_gap g[4];
	size_t n = series(b, 48, H, NULL);

	cr_expect_eq(q_candles_gaps(g, 4, b, n, H, 0, 0), 0);
	cr_expect_eq(q_candles_gaps(g, 4, b, n, H, T0, T0 + 48 * H), 0);
	/* A range inside the series, and one ending mid-candle. */
	cr_expect_eq(q_candles_gaps(g, 4, b, n, H, T0 + 5 * H, T0 + 9 * H), 0);
	cr_expect_eq(q_candles_gaps(g, 4, b, n, H, T0 + 5 * H, T0 + 47 * H + 1), 0);
	cr_expect_eq(q_candles_missing(b, n, H, T0, T0 + 48 * H), 0);
	cr_expect_eq(q_candles_gaps(NULL, 0, b, 0, H, 0, 0), 0);
	cr_expect_eq(q_candles_gaps(g, 4, b, n, 0, T0, T0 + 48 * H), 0, "no interval, no gaps");
}

Test(candles, holes_inside)
{
	struct q_bar b[48];
	struct q_candles_gap g[4];
	const int skip[] = {3, 10, 11, 12, 40, -1};
	size_t n = series(b, 48, H, skip);

	cr_assert_eq(n, 43);
	cr_assert_eq(q_candles_gaps(g, 4, b, n, H, 0, 0), 3);
	cr_expect_eq(g[0].from_ms, T0 + 3 * H);
	cr_expect_eq(g[0].count, 1);
	cr_expect_eq(g[1].from_ms, T0 + 10 * H);
	cr_expect_eq(g[1].count, 3);
	cr_expect_eq(g[2].from_ms, T0 + 40 * H);
	cr_expect_eq(g[2].count, 1);
	cr_expect_eq(q_candles_missing(b, n, H, 0, 0), 5);
	/* Only the gaps inside the range count. */
	cr_expect_eq(q_candles_gaps(g, 4, b, n, H, T0 + 20 * H, T0 + 48 * H), 1);
	cr_expect_eq(g[0].from_ms, T0 + 40 * H);
	cr_expect_eq(q_candles_missing(b, n, H, T0, T0 + 12 * H), 3, "3, 10 and 11");
}

Test(candles, more_gaps_than_room)
{
	struct q_bar b[20];
	struct q_candles_gap g[2];
	const int skip[] = {1, 3, 5, 7, 9, -1};
	size_t n = series(b, 20, M, skip);

	cr_expect_eq(q_candles_gaps(g, 2, b, n, M, 0, 0), 5, "the count, as snprintf");
	cr_expect_eq(g[1].from_ms, T0 + 3 * M);
	cr_expect_eq(q_candles_gaps(NULL, 0, b, n, M, 0, 0), 5);
	cr_expect_eq(q_candles_missing(b, n, M, 0, 0), 5);
}

Test(candles, missing_at_both_ends_of_a_range)
{
	struct q_bar b[10];
	struct q_candles_gap g[4];
	size_t n = series(b, 10, H, NULL);

	/* The range asks for 5 hours before the series and 3 after it. */
	cr_assert_eq(q_candles_gaps(g, 4, b, n, H, T0 - 5 * H, T0 + 13 * H), 2);
	cr_expect_eq(g[0].from_ms, T0 - 5 * H);
	cr_expect_eq(g[0].count, 5);
	cr_expect_eq(g[1].from_ms, T0 + 10 * H);
	cr_expect_eq(g[1].count, 3);
	/* A range edge inside a candle: the grid candle opening after it is the first expected. */
	cr_assert_eq(q_candles_gaps(g, 4, b, n, H, T0 - 5 * H + 1, T0 + 10 * H + 1), 2);
	cr_expect_eq(g[0].from_ms, T0 - 4 * H);
	cr_expect_eq(g[0].count, 4);
	cr_expect_eq(g[1].count, 1);
	/* Nothing stored: the whole range is one gap, on the epoch's grid. */
	cr_assert_eq(q_candles_gaps(g, 4, b, 0, H, T0 + 30 * M, T0 + 5 * H), 1);
	cr_expect_eq(g[0].from_ms, T0 + H);
	cr_expect_eq(g[0].count, 4);
	cr_expect_eq(q_candles_missing(b, 0, H, T0, T0 + 24 * H), 24);
	cr_expect_eq(q_candles_missing(b, 0, H, T0, T0), 0);
}

/* Weekly candles that open on Mondays (Binance) are judged on their own grid. */
Test(candles, series_grid_not_the_epoch)
{
	struct q_bar b[8];
	struct q_candles_gap g[2];
	const int skip[] = {4, -1};
	long long monday = T0 + 4 * 24 * H;
	size_t n = series(b, 8, W, skip);

	for (size_t i = 0; i < n; i++)
		b[i].open_ms += 4 * 24 * H;
	cr_assert_eq(q_candles_gaps(g, 2, b, n, W, monday, monday + 8 * W), 1);
	cr_expect_eq(g[0].from_ms, monday + 4 * W);
	cr_expect_eq(g[0].count, 1);
}

/* Duplicates and candles off the grid are not gaps, and do not hide the next one. */
Test(candles, odd_series)
{
	struct q_bar b[6];
	struct q_candles_gap g[2];

	memset(b, 0, sizeof(b));
	b[0].open_ms = T0;
	b[1].open_ms = T0 + H;
	b[2].open_ms = T0 + H + 30 * M; /* off the grid */
	b[3].open_ms = T0 + 2 * H;
	b[4].open_ms = T0 + 5 * H; /* 3 and 4 missing */
	b[5].open_ms = T0 + 6 * H;
	cr_assert_eq(q_candles_gaps(g, 2, b, 6, H, 0, 0), 1);
	cr_expect_eq(g[0].from_ms, T0 + 3 * H);
	cr_expect_eq(g[0].count, 2);
	/* Without the candle at 2 h, the odd one does not stand in for it. */
	b[3] = b[2];
	b[2] = b[1];
	cr_assert_eq(q_candles_gaps(g, 2, b, 6, H, 0, 0), 1);
	cr_expect_eq(g[0].from_ms, T0 + 2 * H);
	cr_expect_eq(g[0].count, 3);
}

static struct q_exchange_kline
kline(long long open_ms, const char *o, const char *h, const char *l, const char *c, int closed)
{
	struct q_exchange_kline k;

	memset(&k, 0, sizeof(k));
	k.open_ms = open_ms;
	k.close_ms = open_ms + H - 1;
	cr_assert_eq(q_dec_parse_str(&k.open, o, NULL), 0);
	cr_assert_eq(q_dec_parse_str(&k.high, h, NULL), 0);
	cr_assert_eq(q_dec_parse_str(&k.low, l, NULL), 0);
	cr_assert_eq(q_dec_parse_str(&k.close, c, NULL), 0);
	cr_assert_eq(q_dec_parse_str(&k.volume, "1.5", NULL), 0);
	k.closed = closed;
	return k;
}

/* Everything below is refused before the database is touched (db is NULL here). */
Test(candles, store_refuses_bad_input_before_the_database)
{
	struct q_exchange_kline k[2] = {kline(T0, "100", "110", "90", "105", 1),
	                                kline(T0 + H, "105", "104", "100", "102", 1)};
	struct q_err err = {0};
	size_t stored = 99;

	cr_expect_eq(q_candles_store(NULL, "binance", "BTCUSDT", "1h", k, 2, &stored, &err), -1);
	cr_expect_eq(err.code, Q_E_BAD_REQUEST);
	cr_expect(strstr(err.msg, "inconsistent") != NULL, "%s", err.msg);
	cr_expect(strstr(err.msg, "high 104") != NULL, "%s", err.msg);
	cr_expect_eq(stored, 0);

	q_err_clear(&err);
	cr_expect_eq(q_candles_store(NULL, "kraken", "BTCUSDT", "1h", k, 1, NULL, &err), -1);
	cr_expect_str_eq(err.field, "exchange");
	q_err_clear(&err);
	cr_expect_eq(q_candles_store(NULL, "binance", "BTC-USDT", "1h", k, 1, NULL, &err), -1);
	cr_expect_str_eq(err.field, "symbol");
	q_err_clear(&err);
	cr_expect_eq(q_candles_store(NULL, "binance", "BTCUSDT", "1H", k, 1, NULL, &err), -1);
	cr_expect_str_eq(err.field, "interval");

	/* Zero low, negative volume, close_ms before open: each refused. */
	k[1] = kline(T0 + H, "105", "110", "0", "102", 1);
	q_err_clear(&err);
	cr_expect_eq(q_candles_store(NULL, "okx", "BTCUSDT", "1h", k, 2, NULL, &err), -1);
	k[1] = kline(T0 + H, "105", "110", "100", "102", 1);
	k[1].volume = q_dec_from_int(-1);
	q_err_clear(&err);
	cr_expect_eq(q_candles_store(NULL, "okx", "BTCUSDT", "1h", k, 2, NULL, &err), -1);
	k[1] = kline(T0 + H, "105", "110", "100", "102", 1);
	k[1].close_ms = k[1].open_ms;
	q_err_clear(&err);
	cr_expect_eq(q_candles_store(NULL, "okx", "BTCUSDT", "1h", k, 2, NULL, &err), -1);
	/* Beyond DECIMAL(36,18). */
	k[1] = kline(T0 + H, "105", "1000000000000000000", "100", "102", 1);
	q_err_clear(&err);
	cr_expect_eq(q_candles_store(NULL, "okx", "BTCUSDT", "1h", k, 2, NULL, &err), -1);
}

/* Open candles are never stored: a batch of only open ones is a no-op. */
Test(candles, open_candles_are_skipped)
{
	struct q_exchange_kline k[2] = {kline(T0, "100", "110", "90", "105", 0),
	                                kline(T0 + H, "105", "104", "100", "102", 0)};
	struct q_err err = {0};
	size_t stored = 99;

	/* The second is inconsistent, but open: it is not looked at. */
	cr_expect_eq(q_candles_store(NULL, "bybit", "ETHUSDT", "1h", k, 2, &stored, &err), 0, "%s",
	             err.msg);
	cr_expect_eq(stored, 0);
	cr_expect_eq(q_candles_store(NULL, "bitget", "ETHUSDT", "1h", k, 0, &stored, &err), 0);
}
