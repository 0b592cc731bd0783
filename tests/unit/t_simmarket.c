/*
 * quantor-sim's synthetic markets (tools/quantor-sim/market.h): reproducibility whatever the
 * order of calls, exact aggregation, the partial newest candle, the tick and lot grids, errors,
 * thread safety, the memory bound, and that BTCUSDT's hourly closes drive the regime detector
 * (DESIGN.md section 6) through CALM, VOLATILE and DANGEROUS within 60 days.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../tools/quantor-sim/market.h"

#define SEED 42
#define MIN_MS 60000LL
#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL
#define T_2026_11_30 1795996800000LL /* 2026-11-30T00:00:00Z */
#define T_2026_06_15 1781481600000LL /* 2026-06-15T00:00:00Z */
#define T_2025_03_10 1741564800000LL /* 2025-03-10T00:00:00Z */
#define ODD_MS 1234567LL             /* 20 min 34.567 s: inside a minute, a second */

static const char *
S(struct q_dec d)
{
	static char buf[8][Q_DEC_STR_MAX];
	static int i;
	char *out = buf[i++ % 8];

	q_dec_format(out, d);
	return out;
}

static void
setup(void)
{
	struct q_err err = {0};

	cr_assert_eq(sim_market_init(SEED, &err), 0, "init: %s", err.msg);
}

static void
teardown(void)
{
	sim_market_release();
}

static int
fetch(struct sim_candle *out, size_t limit, const char *sym, int64_t iv, int64_t end)
{
	struct q_err err = {0};
	int n = sim_market_candles(out, limit, sym, iv, end, &err);

	cr_assert_geq(n, 0, "candles %s %lld @%lld: %s", sym, (long long)iv, (long long)end,
	              err.msg);
	return n;
}

static struct q_dec
price(const char *sym, int64_t t)
{
	struct q_err err = {0};
	struct q_dec p = {0};

	cr_assert_eq(sim_market_price(&p, sym, t, &err), 0, "price %s @%lld: %s", sym, (long long)t,
	             err.msg);
	return p;
}

static int
same(const struct sim_candle *a, const struct sim_candle *b)
{
	return a->open_ms == b->open_ms && q_dec_cmp(a->open, b->open) == 0 &&
	       q_dec_cmp(a->high, b->high) == 0 && q_dec_cmp(a->low, b->low) == 0 &&
	       q_dec_cmp(a->close, b->close) == 0 && q_dec_cmp(a->volume, b->volume) == 0;
}

static void
expect_same(const struct sim_candle *got, const struct sim_candle *want, const char *what)
{
	cr_expect(same(got, want),
	          "%s: got %lld o=%s h=%s l=%s c=%s v=%s, want %lld o=%s h=%s l=%s c=%s v=%s", what,
	          (long long)got->open_ms, S(got->open), S(got->high), S(got->low), S(got->close),
	          S(got->volume), (long long)want->open_ms, S(want->open), S(want->high),
	          S(want->low), S(want->close), S(want->volume));
}

/* The aggregation of n candles as market.h defines it. */
static struct sim_candle
aggregate(const struct sim_candle *c, int n, int64_t open_ms)
{
	struct sim_candle a = c[0];
	struct q_err err = {0};

	a.open_ms = open_ms;
	for (int i = 1; i < n; i++) {
		if (q_dec_cmp(c[i].high, a.high) > 0)
			a.high = c[i].high;
		if (q_dec_cmp(c[i].low, a.low) < 0)
			a.low = c[i].low;
		a.close = c[i].close;
		cr_assert_eq(q_dec_add(&a.volume, a.volume, c[i].volume, &err), 0);
	}
	return a;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *
when(int64_t ms)
{
	static char buf[4][24];
	static int i;
	char *out = buf[i++ % 4];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 24, "%Y-%m-%d %H:%M", &tm);
	return out;
}

TestSuite(market, .init = setup, .fini = teardown);

Test(market, lists_twenty_usdt_pairs_with_their_filters)
{
	static const char *const must[] = {"BTCUSDT", "ETHUSDT", "SOLUSDT",  "BNBUSDT",
	                                   "XRPUSDT", "ADAUSDT", "DOGEUSDT", "LTCUSDT"};
	const struct sim_symbol *btc = sim_market_symbol("BTCUSDT");
	size_t n = 0;

	while (sim_market_symbol_at(n))
		n++;
	cr_expect_eq(n, 20);
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
		cr_expect_not_null(sim_market_symbol(must[i]), "%s", must[i]);
	cr_expect_null(sim_market_symbol("btcusdt"));
	cr_expect_null(sim_market_symbol("FOOUSDT"));
	cr_expect_null(sim_market_symbol(NULL));
	cr_assert_not_null(btc);
	cr_expect_str_eq(S(btc->tick), "0.01");
	cr_expect_str_eq(S(btc->lot), "0.00001");
	cr_expect_eq(btc->price_decimals, 2);
	cr_expect_eq(btc->qty_decimals, 5);
	for (size_t i = 0; i < n; i++) {
		const struct sim_symbol *s = sim_market_symbol_at(i);
		char name[32];

		snprintf(name, sizeof(name), "%s%s", s->base, s->quote);
		cr_expect_str_eq(s->symbol, name);
		cr_expect_str_eq(s->quote, "USDT");
		cr_expect_eq(sim_market_symbol(s->symbol), s, "%s by name", s->symbol);
		cr_expect_eq(q_dec_sign(s->tick), 1, "%s tick", s->symbol);
		cr_expect_eq(q_dec_sign(s->lot), 1, "%s lot", s->symbol);
		cr_expect(q_dec_is_multiple(s->min_qty, s->lot), "%s min_qty", s->symbol);
		cr_expect(q_dec_is_multiple(s->max_qty, s->lot), "%s max_qty", s->symbol);
		cr_expect_gt(q_dec_cmp(s->max_qty, s->min_qty), 0, "%s", s->symbol);
		cr_expect_str_eq(S(s->min_notional), "5", "%s", s->symbol);
		cr_expect_eq(s->price_decimals, q_dec_decimals(s->tick), "%s", s->symbol);
		cr_expect_eq(s->qty_decimals, q_dec_decimals(s->lot), "%s", s->symbol);
	}
}

/* What the reproducibility tests compare: a few candle series and prices at odd instants. */
struct sample {
	struct sim_candle m1[300], h1[200], d1[40];
	struct q_dec px[6];
};

static const int64_t px_at[6] = {
        T_2026_11_30 + ODD_MS,     T_2026_06_15 + 59999, T_2025_03_10,
        T_2026_11_30 - 3 * DAY_MS, T_2026_06_15 + 1,     T_2025_03_10 + 7 * HOUR_MS + 999,
};

static void
take(struct sample *s, int reverse)
{
	for (int k = 0; k < 4; k++) {
		switch (reverse ? 3 - k : k) {
		case 0:
			cr_assert_eq(fetch(s->m1, 300, "ETHUSDT", MIN_MS, T_2026_11_30 + ODD_MS),
			             300);
			break;
		case 1:
			cr_assert_eq(fetch(s->h1, 200, "BTCUSDT", HOUR_MS, T_2026_06_15 + ODD_MS),
			             200);
			break;
		case 2:
			cr_assert_eq(fetch(s->d1, 40, "SOLUSDT", DAY_MS, T_2025_03_10 + ODD_MS),
			             40);
			break;
		default:
			for (int i = 0; i < 6; i++)
				s->px[reverse ? 5 - i : i] =
				        price("BTCUSDT", px_at[reverse ? 5 - i : i]);
		}
	}
}

static void
expect_same_sample(const struct sample *a, const struct sample *b)
{
	for (int i = 0; i < 300; i++)
		expect_same(&a->m1[i], &b->m1[i], "1m");
	for (int i = 0; i < 200; i++)
		expect_same(&a->h1[i], &b->h1[i], "1h");
	for (int i = 0; i < 40; i++)
		expect_same(&a->d1[i], &b->d1[i], "1d");
	for (int i = 0; i < 6; i++)
		cr_expect_eq(q_dec_cmp(a->px[i], b->px[i]), 0, "price %d: %s vs %s", i, S(a->px[i]),
		             S(b->px[i]));
}

Test(market, same_seed_same_prices_whatever_the_order_of_calls)
{
	static struct sample a, b;
	static struct sim_candle warm[500];
	struct q_err err = {0};

	take(&a, 0);
	sim_market_release();
	cr_assert_eq(sim_market_init(SEED, &err), 0, "%s", err.msg);
	/* Other days first, other symbols, and the series backwards. */
	fetch(warm, 500, "BTCUSDT", 4 * HOUR_MS, T_2026_11_30 + 40 * DAY_MS);
	fetch(warm, 500, "ETHUSDT", 15 * MIN_MS, T_2026_11_30 + 2 * DAY_MS);
	take(&b, 1);
	expect_same_sample(&a, &b);
}

Test(market, another_seed_gives_other_prices)
{
	struct q_err err = {0};
	struct q_dec a[6], b[6];
	int differ = 0;

	for (int i = 0; i < 6; i++)
		a[i] = price("BTCUSDT", px_at[i]);
	sim_market_release();
	cr_assert_eq(sim_market_init(SEED + 1, &err), 0, "%s", err.msg);
	for (int i = 0; i < 6; i++) {
		b[i] = price("BTCUSDT", px_at[i]);
		differ += q_dec_cmp(a[i], b[i]) != 0;
	}
	cr_expect_eq(differ, 6, "%d of 6 prices differ (e.g. %s vs %s)", differ, S(a[0]), S(b[0]));
}

Test(market, larger_candles_are_exactly_the_aggregation_of_smaller_ones)
{
	static struct sim_candle m1[24 * 60], h1[24 * 7], big[4];
	struct sim_candle fullday;
	/* A whole day, ending at the last millisecond of 2026-06-14. */
	int64_t end = T_2026_06_15 - 1, day = T_2026_06_15 - DAY_MS;
	static const int64_t ivs[] = {5 * MIN_MS, 15 * MIN_MS, 90 * MIN_MS, 4 * HOUR_MS};

	cr_assert_eq(fetch(m1, 1440, "BTCUSDT", MIN_MS, end), 1440);
	cr_assert_eq(fetch(h1, 24, "BTCUSDT", HOUR_MS, end), 24);
	cr_assert_eq(m1[0].open_ms, day);
	cr_assert_eq(h1[0].open_ms, day);
	for (int h = 0; h < 24; h++) {
		struct sim_candle want = aggregate(&m1[60 * h], 60, day + h * HOUR_MS);

		expect_same(&h1[h], &want, "1h = 60 x 1m");
	}
	cr_assert_eq(fetch(big, 1, "BTCUSDT", DAY_MS, end), 1);
	{
		struct sim_candle want = aggregate(h1, 24, day);

		expect_same(&big[0], &want, "1d = 24 x 1h");
	}
	fullday = big[0];
	/* The same day seen at 23:59:30.500: its last hour and minute partial. */
	cr_assert_eq(fetch(h1, 24, "BTCUSDT", HOUR_MS, end - 29499), 24);
	cr_assert_eq(fetch(big, 1, "BTCUSDT", DAY_MS, end - 29499), 1);
	{
		struct sim_candle want = aggregate(h1, 24, day);

		expect_same(&big[0], &want, "partial 1d = 24 x 1h, the last partial");
		cr_expect_lt(q_dec_cmp(big[0].volume, fullday.volume), 0, "less volume so far");
	}
	for (size_t k = 0; k < sizeof(ivs) / sizeof(ivs[0]); k++) {
		int per = (int)(ivs[k] / MIN_MS);
		/* The candle that opens on the multiple of the interval nearest the day's middle. */
		int64_t open = (day + 12 * HOUR_MS) / ivs[k] * ivs[k];
		int at = (int)((open - day) / MIN_MS);
		struct sim_candle want = aggregate(&m1[at], per, open);

		cr_assert_eq(fetch(big, 1, "BTCUSDT", ivs[k], open + ivs[k] - 1), 1);
		expect_same(&big[0], &want, "interval of whole minutes");
	}
	/* A week of days (1w opens on Thursdays: multiples of 7 days since the Unix epoch). */
	cr_assert_eq(fetch(h1, 7, "BTCUSDT", DAY_MS, T_2026_06_15 - 4 * DAY_MS - 1), 7);
	cr_assert_eq(h1[0].open_ms % (7 * DAY_MS), 0);
	cr_assert_eq(fetch(big, 1, "BTCUSDT", 7 * DAY_MS, h1[0].open_ms + 7 * DAY_MS - 1), 1);
	{
		struct sim_candle want = aggregate(h1, 7, h1[0].open_ms);

		expect_same(&big[0], &want, "1w = 7 x 1d");
	}
}

Test(market, the_newest_candle_is_partial_up_to_end)
{
	static struct sim_candle m1[60], h1[4];
	int64_t open = T_2026_11_30 + 5 * HOUR_MS;
	struct sim_candle prev = {0};

	/* Within the first second, minute, the middle, and the last minute (at a second's
	 * middle, its start and the hour's very last millisecond). */
	static const int64_t offs[] = {0,      1,       999,     1000,    59999,   60000,
	                               433001, 1234567, 3540000, 3570500, 3599000, 3599999};

	for (size_t k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
		int64_t off = offs[k], end = open + off;
		int nm = fetch(m1, 60, "DOGEUSDT", MIN_MS, end);
		struct sim_candle want;

		cr_assert_eq(fetch(h1, 2, "DOGEUSDT", HOUR_MS, end), 2);
		cr_assert_eq(h1[1].open_ms, open);
		cr_expect_eq(q_dec_cmp(h1[1].close, price("DOGEUSDT", end)), 0,
		             "close %s at %lld is the price", S(h1[1].close), (long long)off);
		cr_expect_eq(q_dec_cmp(h1[1].open, price("DOGEUSDT", open)), 0);
		/* The partial hour aggregates the minutes so far, the last one partial itself. */
		cr_assert_eq(m1[nm - 1].open_ms, end / MIN_MS * MIN_MS);
		want = aggregate(&m1[nm - 1 - (int)(off / MIN_MS)], (int)(off / MIN_MS) + 1, open);
		expect_same(&h1[1], &want, "partial 1h = 1m so far");
		/* It only grows: highs up, lows down, volume up. */
		if (k > 0) {
			cr_expect_geq(q_dec_cmp(h1[1].high, prev.high), 0);
			cr_expect_leq(q_dec_cmp(h1[1].low, prev.low), 0);
			cr_expect_geq(q_dec_cmp(h1[1].volume, prev.volume), 0);
		}
		prev = h1[1];
	}
	/* At its last millisecond it is the full candle seen later. */
	cr_assert_eq(fetch(h1, 1, "DOGEUSDT", HOUR_MS, open + HOUR_MS - 1), 1);
	cr_assert_eq(fetch(m1, 4, "DOGEUSDT", HOUR_MS, open + 3 * HOUR_MS), 4);
	expect_same(&h1[0], &m1[0], "hour at its last ms = the same hour later");
	/* The price is constant over a second and moves between seconds at some point. */
	cr_expect_eq(q_dec_cmp(price("BTCUSDT", open + 5000), price("BTCUSDT", open + 5999)), 0);
	{
		int moved = 0;

		for (int s = 1; s < 60; s++)
			moved += q_dec_cmp(price("BTCUSDT", open + s * 1000),
			                   price("BTCUSDT", open + (s - 1) * 1000)) != 0;
		cr_expect_gt(moved, 10, "the price moved %d times in a minute", moved);
	}
}

static void
check_grid(const struct sim_candle *c, int n, const struct sim_symbol *s, int64_t iv)
{
	for (int i = 0; i < n; i++) {
		const char *what = s->symbol;

		cr_assert_eq(c[i].open_ms % iv, 0, "%s open_ms", what);
		if (i > 0)
			cr_assert_eq(c[i].open_ms, c[i - 1].open_ms + iv, "%s consecutive", what);
		cr_assert_geq(q_dec_cmp(c[i].high, c[i].open), 0, "%s high >= open", what);
		cr_assert_geq(q_dec_cmp(c[i].high, c[i].close), 0, "%s high >= close", what);
		cr_assert_leq(q_dec_cmp(c[i].low, c[i].open), 0, "%s low <= open", what);
		cr_assert_leq(q_dec_cmp(c[i].low, c[i].close), 0, "%s low <= close", what);
		cr_assert_eq(q_dec_sign(c[i].low), 1, "%s low > 0", what);
		cr_assert_eq(q_dec_sign(c[i].volume), 1, "%s volume > 0", what);
		cr_assert(q_dec_is_multiple(c[i].open, s->tick), "%s open %s", what, S(c[i].open));
		cr_assert(q_dec_is_multiple(c[i].high, s->tick), "%s high %s", what, S(c[i].high));
		cr_assert(q_dec_is_multiple(c[i].low, s->tick), "%s low %s", what, S(c[i].low));
		cr_assert(q_dec_is_multiple(c[i].close, s->tick), "%s close", what);
		cr_assert(q_dec_is_multiple(c[i].volume, s->lot), "%s volume %s", what,
		          S(c[i].volume));
	}
}

Test(market, candles_keep_the_invariants_on_every_symbol)
{
	static struct sim_candle c[2000];

	for (size_t k = 0; sim_market_symbol_at(k); k++) {
		const struct sim_symbol *s = sim_market_symbol_at(k);

		cr_assert_eq(fetch(c, 2000, s->symbol, MIN_MS, T_2026_11_30 + ODD_MS), 2000);
		check_grid(c, 2000, s, MIN_MS);
		cr_assert_eq(fetch(c, 1000, s->symbol, HOUR_MS, T_2026_11_30 + ODD_MS), 1000);
		check_grid(c, 1000, s, HOUR_MS);
	}
	/* A long BTC history through many crashes. */
	cr_assert_eq(fetch(c, 2000, "BTCUSDT", 4 * HOUR_MS, T_2026_11_30), 2000);
	check_grid(c, 2000, sim_market_symbol("BTCUSDT"), 4 * HOUR_MS);
}

Test(market, refuses_unknown_symbols_and_bad_intervals)
{
	static const int64_t bad[] = {
	        0, -MIN_MS, 59999, 61000, 90000, 8 * DAY_MS, 7 * DAY_MS + MIN_MS};
	struct sim_candle c[8];
	struct q_dec p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct q_err err = {0};

		cr_expect_eq(sim_market_candles(c, 8, "BTCUSDT", bad[i], T_2026_11_30, &err), -1,
		             "interval %lld", (long long)bad[i]);
		cr_expect_eq(err.code, Q_E_BAD_REQUEST, "interval %lld", (long long)bad[i]);
	}
	{
		struct q_err err = {0};

		cr_expect_eq(sim_market_candles(c, 8, "FOOUSDT", MIN_MS, T_2026_11_30, &err), -1);
		cr_expect_eq(err.code, Q_E_NOT_FOUND);
	}
	{
		struct q_err err = {0};

		cr_expect_eq(sim_market_price(&p, "btcusdt", T_2026_11_30, &err), -1);
		cr_expect_eq(err.code, Q_E_NOT_FOUND);
	}
	{
		struct q_err err = {0};

		cr_expect_eq(sim_market_price(&p, "BTCUSDT", SIM_MARKET_T_MAX_MS, &err), -1);
		cr_expect_eq(err.code, Q_E_BAD_REQUEST);
	}
	{
		struct q_err err = {0};

		cr_expect_eq(sim_market_price(&p, "BTCUSDT", SIM_MARKET_T_MIN_MS - 1, &err), -1);
		cr_expect_eq(err.code, Q_E_BAD_REQUEST);
	}
	{
		struct q_err err = {0};

		cr_expect_eq(sim_market_candles(c, 8, "BTCUSDT", MIN_MS, SIM_MARKET_T_MAX_MS, &err),
		             -1);
		cr_expect_eq(err.code, Q_E_BAD_REQUEST);
	}
	/* Nothing before the model's epoch: fewer candles, or none. */
	cr_expect_eq(fetch(c, 8, "BTCUSDT", MIN_MS, SIM_MARKET_T_MIN_MS + 5 * MIN_MS), 6);
	cr_expect_eq(c[0].open_ms, SIM_MARKET_T_MIN_MS);
	cr_expect_eq(fetch(c, 8, "BTCUSDT", MIN_MS, SIM_MARKET_T_MIN_MS - 1), 0);
	cr_expect_eq(fetch(c, 0, "BTCUSDT", MIN_MS, T_2026_11_30), 0);
}

Test(market, refuses_everything_before_init)
{
	struct q_err err = {0};
	struct sim_candle c[1];
	struct q_dec p;

	sim_market_release();
	cr_expect_null(sim_market_symbol("BTCUSDT"));
	cr_expect_null(sim_market_symbol_at(0));
	cr_expect_eq(sim_market_price(&p, "BTCUSDT", T_2026_11_30, &err), -1);
	cr_expect_eq(sim_market_candles(c, 1, "BTCUSDT", MIN_MS, T_2026_11_30, &err), -1);
	cr_expect_eq(err.code, Q_E_INTERNAL);
	setup();
	cr_expect_eq(sim_market_init(SEED, &err), -1, "a second init is refused");
}

Test(market, phases_cover_all_four_and_have_names)
{
	int seen[4] = {0};

	for (int64_t t = T_2026_11_30 - 60 * DAY_MS; t < T_2026_11_30; t += HOUR_MS) {
		enum sim_phase p = sim_market_phase("BTCUSDT", t);

		cr_assert_leq((unsigned)p, (unsigned)SIM_CRASH);
		cr_assert_eq(p, sim_market_phase("ETHUSDT", t + HOUR_MS - 1), "one market phase");
		seen[p]++;
	}
	for (int p = 0; p < 4; p++)
		cr_expect_gt(seen[p], 0, "%s seen", sim_market_phase_name((enum sim_phase)p));
	cr_expect_str_eq(sim_market_phase_name(SIM_CALM), "CALM");
	cr_expect_str_eq(sim_market_phase_name(SIM_NORMAL), "NORMAL");
	cr_expect_str_eq(sim_market_phase_name(SIM_VOLATILE), "VOLATILE");
	cr_expect_str_eq(sim_market_phase_name(SIM_CRASH), "CRASH");
	cr_expect_str_eq(sim_market_phase_name((enum sim_phase)7), "UNKNOWN");
}

/* DESIGN.md section 6, written out plainly: the detector the model must exercise. */
enum regime { CALM, NORMAL, VOLATILE, DANGEROUS };
static const char *const regime_names[] = {"CALM", "NORMAL", "VOLATILE", "DANGEROUS"};

static enum regime
regime_at(const double *close, int i, double *vol_out, double *dd_out)
{
	double r[24], mean = 0, var = 0, high = 0, vol, dd;

	for (int k = 0; k < 24; k++) {
		r[k] = log(close[i - 23 + k] / close[i - 24 + k]);
		mean += r[k] / 24;
	}
	for (int k = 0; k < 24; k++)
		var += (r[k] - mean) * (r[k] - mean) / 23;
	vol = sqrt(var) * sqrt(8760.0);
	for (int k = i - 719; k <= i; k++)
		high = close[k] > high ? close[k] : high;
	dd = 1.0 - close[i] / high;
	*vol_out = vol;
	*dd_out = dd;
	if (vol >= 1.20 || dd >= 0.30)
		return DANGEROUS;
	if (vol >= 0.80 || dd >= 0.20)
		return VOLATILE;
	if (vol < 0.40 && dd < 0.10)
		return CALM;
	return NORMAL;
}

Test(market, btc_meets_every_regime_within_60_days)
{
	/* 90 days of hourly closes: the first 30 fill the drawdown window. */
	static struct sim_candle c[90 * 24];
	static double close[90 * 24];
	static enum regime reg[90 * 24];
	int hours[4] = {0}, n = fetch(c, 90 * 24, "BTCUSDT", HOUR_MS, T_2026_11_30 - 1);
	char runs[4][1024] = {"", "", "", ""};

	cr_assert_eq(n, 90 * 24);
	cr_assert_eq(c[n - 1].open_ms, T_2026_11_30 - HOUR_MS);
	for (int i = 0; i < n; i++)
		close[i] = q_dec_to_double(c[i].close);
	for (int i = 30 * 24; i < n; i++) {
		double vol, dd;

		reg[i] = regime_at(close, i, &vol, &dd);
		hours[reg[i]]++;
	}
	/* Each run of one regime, from the close that started it to the last close in it. */
	for (int i = 30 * 24, j; i < n; i = j) {
		size_t len = strlen(runs[reg[i]]);

		for (j = i; j < n && reg[j] == reg[i]; j++)
			;
		snprintf(runs[reg[i]] + len, sizeof(runs[reg[i]]) - len, "%s%s..%s",
		         len ? ", " : "", when(c[i].open_ms + HOUR_MS),
		         when(c[j - 1].open_ms + HOUR_MS));
	}
	fprintf(stderr, "BTCUSDT regimes, seed %d, hourly closes %s..%s:\n", SEED,
	        when(c[30 * 24].open_ms + HOUR_MS), when(T_2026_11_30));
	for (int r = 0; r < 4; r++)
		fprintf(stderr, "  %-9s %4d h: %s\n", regime_names[r], hours[r], runs[r]);
	cr_expect_gt(hours[CALM], 0, "CALM met");
	cr_expect_gt(hours[VOLATILE], 0, "VOLATILE met");
	cr_expect_gt(hours[DANGEROUS], 0, "DANGEROUS met");
}

struct worker {
	const char *symbol;
	int64_t end;
	struct sim_candle c[300];
	int n;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct q_err err = {0};

	w->n = sim_market_candles(w->c, 300, w->symbol, HOUR_MS, w->end, &err);
	return NULL;
}

Test(market, threads_see_the_same_candles)
{
	static struct worker w[6];
	static struct sim_candle want[300];
	static const char *const syms[] = {"BTCUSDT", "ETHUSDT", "BTCUSDT"};
	pthread_t tid[6];

	for (int i = 0; i < 6; i++) {
		w[i].symbol = syms[i % 3];
		w[i].end = T_2026_11_30 - (i % 2) * 3 * DAY_MS + ODD_MS;
		cr_assert_eq(pthread_create(&tid[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 6; i++)
		pthread_join(tid[i], NULL);
	sim_market_release();
	setup();
	for (int i = 0; i < 6; i++) {
		cr_assert_eq(w[i].n, 300, "thread %d", i);
		cr_assert_eq(fetch(want, 300, w[i].symbol, HOUR_MS, w[i].end), 300);
		for (int k = 0; k < 300; k++)
			expect_same(&w[i].c[k], &want[k], "threaded vs alone");
	}
}

Test(market, memory_stays_bounded_and_evicted_days_come_back_identical)
{
	static struct sim_candle first[24 * 75], again[24 * 75];
	size_t n = 0, mem;

	cr_assert_eq(fetch(first, 24 * 75, "BTCUSDT", HOUR_MS, T_2026_11_30 - 1), 24 * 75);
	/* 20 symbols x 75 days: more than the cache holds, so BTC's days are evicted. */
	for (size_t k = 1; sim_market_symbol_at(k); k++, n++)
		fetch(again, 24 * 75, sim_market_symbol_at(k)->symbol, HOUR_MS, T_2026_11_30 - 1);
	mem = sim_market_memory();
	fprintf(stderr, "memory after 20 symbols x 75 days of 1h candles: %.1f MB\n",
	        (double)mem / 1e6);
	cr_expect_lt(mem, (size_t)20 << 20, "%zu bytes", mem);
	cr_assert_eq(fetch(again, 24 * 75, "BTCUSDT", HOUR_MS, T_2026_11_30 - 1), 24 * 75);
	for (int i = 0; i < 24 * 75; i++)
		expect_same(&again[i], &first[i], "recomputed after eviction");
	cr_expect_eq(n, 19);
}

Test(market, timing)
{
	static struct sim_candle c[1000];
	double t0, t1, t2, t3, t4;

	t0 = now_s();
	cr_assert_eq(fetch(c, 1000, "BTCUSDT", MIN_MS, T_2026_11_30 + ODD_MS), 1000);
	t1 = now_s();
	cr_assert_eq(fetch(c, 1000, "BTCUSDT", HOUR_MS, T_2026_11_30 + ODD_MS), 1000);
	t2 = now_s();
	cr_assert_eq(fetch(c, 1000, "BTCUSDT", MIN_MS, T_2026_11_30 + ODD_MS), 1000);
	t3 = now_s();
	cr_assert_eq(fetch(c, 1000, "BTCUSDT", HOUR_MS, T_2026_11_30 + ODD_MS), 1000);
	t4 = now_s();
	fprintf(stderr,
	        "1000 x 1m: %.2f ms cold, %.2f ms warm; 1000 x 1h: %.2f ms cold, %.2f ms warm\n",
	        (t1 - t0) * 1e3, (t3 - t2) * 1e3, (t2 - t1) * 1e3, (t4 - t3) * 1e3);
}
