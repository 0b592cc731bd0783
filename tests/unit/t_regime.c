/*
 * The regime detector (DESIGN.md section 6) on constructed hourly series: each regime reached,
 * every threshold exactly at its boundary (figures are judged at 10 decimal places), stale data
 * and short or broken series failing closed as UNKNOWN, and the [regime] configuration.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "q_regime.h"

#define H Q_REGIME_INTERVAL_MS
#define N 720                       /* the default window: 720 closes */
#define T0 1767225600000LL          /* 2026-01-01T00:00:00Z: the first candle opens */
#define NOW (T0 + (long long)N * H) /* the newest candle has just closed */

static struct q_regime_cfg cfg;
static struct q_bar bars[N + 8];

static void
setup(void)
{
	q_regime_cfg_defaults(&cfg);
}

TestSuite(regime, .init = setup);

/* n flat hourly candles at price p from T0. */
static void
flat(size_t n, double p)
{
	for (size_t i = 0; i < n; i++) {
		bars[i].open_ms = T0 + (long long)i * H;
		bars[i].open = bars[i].high = bars[i].low = bars[i].close = p;
		bars[i].volume = 1;
	}
}

/*
 * N closes at 100 whose last 24 log returns alternate +r, -r (ending back at 100), with r
 * chosen so the annualised sample stdev is vol: 24 returns of +-r, mean 0, variance 24 r^2 / 23.
 */
static void
with_vol(double vol)
{
	double r = vol / sqrt(24.0 / 23.0 * 8760.0);

	flat(N, 100);
	for (size_t k = 1; k <= 24; k++)
		bars[N - 25 + k].close = k % 2 ? 100 * exp(r) : 100;
}

/* N closes: 100 for the first ten, then last (the fall happens long before the vol window). */
static void
with_drawdown_to(double last)
{
	flat(N, last);
	for (size_t i = 0; i < 10; i++)
		bars[i].close = 100;
}

static struct q_regime_result
run(size_t n, long long now)
{
	struct q_regime_result res;

	q_regime_compute(&res, &cfg, bars, n, now);
	return res;
}

static const char *
fig(struct q_dec d)
{
	static char s[4][Q_DEC_STR_MAX];
	static int i;

	i = (i + 1) % 4;
	q_dec_format(s[i], d);
	return s[i];
}

#define expect_regime(res, want)                                                                   \
	cr_expect_str_eq(q_regime_name((res).regime), want, "vol %s dd %s (%s)",                   \
	                 fig((res).realized_vol), fig((res).drawdown), (res).reason)

Test(regime, names_round_trip)
{
	const char *n[] = {"UNKNOWN", "CALM", "NORMAL", "VOLATILE", "DANGEROUS"};

	for (int i = 0; i < 5; i++) {
		cr_expect_str_eq(q_regime_name((enum q_regime)i), n[i]);
		cr_expect_eq(q_regime_from_name(n[i]), (enum q_regime)i);
	}
	cr_expect_str_eq(q_regime_name((enum q_regime)9), "UNKNOWN");
	cr_expect_eq(q_regime_from_name("calm"), Q_REGIME_UNKNOWN);
	cr_expect_eq(q_regime_from_name(NULL), Q_REGIME_UNKNOWN);
	cr_expect_eq(q_regime_bars_needed(&cfg), 720);
}

Test(regime, flat_market_is_calm)
{
	struct q_regime_result res;

	flat(N, 100);
	res = run(N, NOW);
	expect_regime(res, "CALM");
	cr_expect(res.has_vol && res.has_dd && !res.stale);
	cr_expect_str_eq(fig(res.realized_vol), "0");
	cr_expect_str_eq(fig(res.drawdown), "0");
	cr_expect_eq(res.last_close_ms, NOW);
	cr_expect_str_eq(res.reason, "");
}

Test(regime, each_regime_by_volatility)
{
	struct {
		double vol;
		const char *want;
	} c[] = {{0.10, "CALM"},
	         {0.60, "NORMAL"},
	         {1.00, "VOLATILE"},
	         {1.50, "DANGEROUS"},
	         {3.00, "DANGEROUS"}};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct q_regime_result res;
		char want[16];

		with_vol(c[i].vol);
		res = run(N, NOW);
		expect_regime(res, c[i].want);
		snprintf(want, sizeof(want), "%.2f", c[i].vol);
		cr_expect(fabs(q_dec_to_double(res.realized_vol) - c[i].vol) < 1e-9, "%s vs %s",
		          fig(res.realized_vol), want);
	}
}

Test(regime, each_regime_by_drawdown)
{
	struct {
		double last;
		const char *want, *dd;
	} c[] = {{95, "CALM", "0.05"},
	         {85, "NORMAL", "0.15"},
	         {75, "VOLATILE", "0.25"},
	         {60, "DANGEROUS", "0.4"}};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct q_regime_result res;

		with_drawdown_to(c[i].last);
		res = run(N, NOW);
		expect_regime(res, c[i].want);
		cr_expect_str_eq(fig(res.drawdown), c[i].dd);
		cr_expect_str_eq(fig(res.realized_vol), "0");
	}
}

/* Thresholds are inclusive for DANGEROUS and VOLATILE, exclusive for CALM. */
Test(regime, volatility_boundaries)
{
	struct {
		double vol;
		const char *want, *fig;
	} c[] = {
	        {1.20, "DANGEROUS", "1.2"},
	        {1.1999999999, "VOLATILE", "1.1999999999"},
	        {0.80, "VOLATILE", "0.8"},
	        {0.7999999999, "NORMAL", "0.7999999999"},
	        {0.40, "NORMAL", "0.4"},
	        {0.3999999999, "CALM", "0.3999999999"},
	        {1.2000000001, "DANGEROUS", "1.2000000001"},
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct q_regime_result res;

		with_vol(c[i].vol);
		res = run(N, NOW);
		cr_expect_str_eq(fig(res.realized_vol), c[i].fig);
		expect_regime(res, c[i].want);
	}
}

Test(regime, drawdown_boundaries)
{
	struct {
		double last;
		const char *want, *fig;
	} c[] = {
	        {70, "DANGEROUS", "0.3"}, {70.00000001, "VOLATILE", "0.2999999999"},
	        {80, "VOLATILE", "0.2"},  {80.00000001, "NORMAL", "0.1999999999"},
	        {90, "NORMAL", "0.1"},    {90.00000001, "CALM", "0.0999999999"},
	        {100, "CALM", "0"},
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct q_regime_result res;

		with_drawdown_to(c[i].last);
		res = run(N, NOW);
		cr_expect_str_eq(fig(res.drawdown), c[i].fig);
		expect_regime(res, c[i].want);
	}
}

/* The worse of the two figures wins; CALM needs both. */
Test(regime, both_figures_count)
{
	struct q_regime_result res;

	with_vol(0.10);
	for (size_t i = 0; i < 10; i++)
		bars[i].close = 200; /* and a 50 % drawdown */
	res = run(N, NOW);
	expect_regime(res, "DANGEROUS");
	with_vol(0.50);
	res = run(N, NOW);
	expect_regime(res, "NORMAL"); /* calm drawdown, normal volatility */
}

/* Only the newest window counts: a crash 721 hours ago has left it. */
Test(regime, windows_are_the_newest)
{
	struct q_regime_result res;

	flat(N + 1, 100);
	bars[0].close = 1000;
	res = run(N + 1, NOW + H);
	expect_regime(res, "CALM");
	res = run(N, NOW); /* with that candle inside the window */
	expect_regime(res, "DANGEROUS");
}

Test(regime, stale_data_is_unknown)
{
	struct q_regime_result res;

	flat(N, 100);
	/* The newest candle closed at NOW: exactly two intervals later is still fresh. */
	res = run(N, NOW + 2 * H);
	expect_regime(res, "CALM");
	cr_expect(!res.stale);
	res = run(N, NOW + 2 * H + 1);
	expect_regime(res, "UNKNOWN");
	cr_expect(res.stale);
	cr_expect(res.has_vol && res.has_dd, "the figures are still computed");
	cr_expect(strstr(res.reason, "stale") != NULL, "%s", res.reason);
	res = run(N, NOW + 30 * 24 * H);
	expect_regime(res, "UNKNOWN");
}

Test(regime, too_few_candles_is_unknown)
{
	struct q_regime_result res;

	flat(N, 100);
	/* Drop the oldest: 719 closes end at the same instant. */
	q_regime_compute(&res, &cfg, bars + 1, N - 1, NOW);
	expect_regime(res, "UNKNOWN");
	cr_expect(!res.stale);
	cr_expect(res.has_vol && !res.has_dd);
	cr_expect(strstr(res.reason, "too few") != NULL, "%s", res.reason);
	cr_expect(strstr(res.reason, "719 of 720") != NULL, "%s", res.reason);
	q_regime_compute(&res, &cfg, bars + N - 24, 24, NOW);
	expect_regime(res, "UNKNOWN");
	cr_expect(!res.has_vol && !res.has_dd);
	q_regime_compute(&res, &cfg, bars + N - 1, 1, NOW);
	expect_regime(res, "UNKNOWN");
	q_regime_compute(&res, &cfg, bars, 0, NOW);
	expect_regime(res, "UNKNOWN");
	cr_expect(res.stale);
	cr_expect_eq(res.last_close_ms, 0);
}

/* A missing hour splits the series: only the newest consecutive run counts. */
Test(regime, a_gap_shortens_the_series)
{
	struct q_regime_result res;

	flat(N + 1, 100);
	for (size_t i = 300; i < N + 1; i++)
		bars[i].open_ms += H; /* hour 300 is missing */
	q_regime_compute(&res, &cfg, bars, N + 1, NOW + 2 * H);
	expect_regime(res, "UNKNOWN");
	cr_expect(strstr(res.reason, "421 of 720") != NULL, "%s", res.reason);
	/* With a short drawdown window it is enough again. */
	cfg.dd_window_hours = 400;
	q_regime_compute(&res, &cfg, bars, N + 1, NOW + 2 * H);
	expect_regime(res, "CALM");
}

Test(regime, bad_closes_are_unknown)
{
	struct q_regime_result res;

	flat(N, 100);
	bars[N - 3].close = 0;
	res = run(N, NOW);
	expect_regime(res, "UNKNOWN");
	cr_expect(!res.has_vol && !res.has_dd);
	flat(N, 100);
	bars[5].close = NAN;
	res = run(N, NOW);
	expect_regime(res, "UNKNOWN");
	cr_expect(res.has_vol && !res.has_dd);
}

/* The sim-like check: the formula as DESIGN.md states it, on a noisy series. */
Test(regime, matches_the_plain_formula)
{
	double mean = 0, var = 0, high = 0, vol, dd, x = 0;
	struct q_regime_result res;

	flat(N, 100);
	for (size_t i = 0; i < N; i++) {
		x += 0.013 * sin((double)i * 1.7) + 0.004 * cos((double)i * 0.31);
		bars[i].close = 30000 * exp(x);
	}
	for (size_t k = N - 24; k < N; k++)
		mean += log(bars[k].close / bars[k - 1].close) / 24;
	for (size_t k = N - 24; k < N; k++) {
		double d = log(bars[k].close / bars[k - 1].close) - mean;

		var += d * d / 23;
	}
	vol = sqrt(var) * sqrt(8760.0);
	for (size_t k = 0; k < N; k++)
		high = bars[k].close > high ? bars[k].close : high;
	dd = 1 - bars[N - 1].close / high;
	res = run(N, NOW);
	cr_expect(fabs(q_dec_to_double(res.realized_vol) - vol) <= 0.51e-10, "%s vs %.12f",
	          fig(res.realized_vol), vol);
	cr_expect(fabs(q_dec_to_double(res.drawdown) - dd) <= 0.51e-10, "%s vs %.12f",
	          fig(res.drawdown), dd);
}

/* ---- configuration ------------------------------------------------------------------------ */

static int
load(const char *text, struct q_err *err)
{
	struct q_config *c = q_config_parse(text, strlen(text), "/etc/quantor/quantor.conf", err);
	int rc;

	cr_assert_not_null(c, "%s", err->msg);
	rc = q_regime_config(&cfg, c, err);
	q_config_free(c);
	return rc;
}

Test(regime, config_defaults)
{
	struct q_err err = {0};

	cr_assert_eq(load("[regime]\n", &err), 0, "%s", err.msg);
	cr_expect_str_eq(cfg.symbol, "BTCUSDT");
	cr_expect_str_eq(cfg.exchange, "binance");
	cr_expect_eq(cfg.vol_window_hours, 24);
	cr_expect_eq(cfg.dd_window_hours, 720);
	cr_expect_str_eq(fig(cfg.dangerous_vol), "1.2");
	cr_expect_str_eq(fig(cfg.dangerous_dd), "0.3");
	cr_expect_str_eq(fig(cfg.volatile_vol), "0.8");
	cr_expect_str_eq(fig(cfg.volatile_dd), "0.2");
	cr_expect_str_eq(fig(cfg.calm_vol), "0.4");
	cr_expect_str_eq(fig(cfg.calm_dd), "0.1");
	cr_expect_eq(q_regime_config(&cfg, NULL, &err), 0);
}

Test(regime, config_changes_the_verdict)
{
	struct q_err err = {0};
	struct q_regime_result res;

	cr_assert_eq(load("[regime]\nsymbol = ETHUSDT\nexchange = okx\nvol_window_hours = 48\n"
	                  "dd_window_hours = 100\ncalm_vol = 0.05\nvolatile_vol = 0.09\n"
	                  "dangerous_vol = 0.5\ndangerous_dd = 0.5\n",
	                  &err),
	             0, "%s", err.msg);
	cr_expect_str_eq(cfg.symbol, "ETHUSDT");
	cr_expect_str_eq(cfg.exchange, "okx");
	cr_expect_eq(q_regime_bars_needed(&cfg), 100);
	with_vol(0.10); /* 24 alternating returns inside a 48-return window: vol ~0.0707 */
	res = run(N, NOW);
	expect_regime(res, "NORMAL");
	with_drawdown_to(60); /* the 100 is older than the 100-hour window */
	res = run(N, NOW);
	expect_regime(res, "CALM");
}

Test(regime, config_errors_name_the_key)
{
	struct {
		const char *text, *key;
	} c[] = {
	        {"[regime]\ndangerous_vol = 1.2.0\n", "regime.dangerous_vol"},
	        {"[regime]\ndangerous_vol = 1e2\n", "regime.dangerous_vol"},
	        {"[regime]\ncalm_dd = 0\n", "regime.calm_dd"},
	        {"[regime]\ndangerous_dd = 1.5\n", "regime.dangerous_dd"},
	        {"[regime]\ncalm_vol = -0.4\n", "regime.calm_vol"},
	        {"[regime]\ncalm_vol = 0.9\n", "regime.calm_vol (0.9) must not exceed"},
	        {"[regime]\nvolatile_dd = 0.35\n", "regime.volatile_dd (0.35) must not exceed"},
	        {"[regime]\nvol_window_hours = 1\n", "regime.vol_window_hours"},
	        {"[regime]\ndd_window_hours = 9000\n", "regime.dd_window_hours"},
	        {"[regime]\nexchange = kraken\n", "regime.exchange"},
	        {"[regime]\nsymbol = btc-usdt\n", "regime.symbol"},
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct q_err err = {0};

		cr_expect_eq(load(c[i].text, &err), -1, "%s", c[i].text);
		cr_expect_eq(err.code, Q_E_CONFIG);
		cr_expect(strstr(err.msg, c[i].key) != NULL, "%s: %s", c[i].text, err.msg);
		/* A failed load leaves the defaults, not half a config. */
		cr_expect_eq(cfg.vol_window_hours, 24);
		cr_expect_str_eq(fig(cfg.calm_vol), "0.4");
	}
}

/* The example operators copy documents every [regime] key, with the defaults. */
Test(regime, the_shipped_example_loads)
{
	const char *src = getenv("QUANTOR_SRC");
	char path[4096];
	struct q_err err = {0};
	struct q_config *c;
	const char *keys[16];
	int n;

	snprintf(path, sizeof(path), "%s/etc/quantor.conf.example", src && *src ? src : ".");
	c = q_config_load(path, &err);
	cr_assert_not_null(c, "%s", err.msg);
	cr_expect_eq(q_regime_config(&cfg, c, &err), 0, "%s", err.msg);
	n = q_config_keys(c, "regime", keys, 16);
	cr_expect_eq(n, 10, "exchange, symbol, two windows, six thresholds");
	q_config_free(c);
	cr_expect_str_eq(cfg.symbol, "BTCUSDT");
	cr_expect_str_eq(fig(cfg.dangerous_vol), "1.2");
	cr_expect_str_eq(fig(cfg.calm_dd), "0.1");
}
