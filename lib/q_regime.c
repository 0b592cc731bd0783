#include "q_regime.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "q_audit.h"
#include "q_exchange.h"

static const char *const names[] = {"UNKNOWN", "CALM", "NORMAL", "VOLATILE", "DANGEROUS"};

#define NNAMES (sizeof(names) / sizeof(names[0]))

/* Figures are kept to 10 decimal places: DECIMAL(20,10) in regime_snapshots. */
#define PLACES 10
#define PLACES_SCALE 1e10
#define FIGURE_MAX 1e9 /* below DECIMAL(20,10)'s 10^10 */

const char *
q_regime_name(enum q_regime r)
{
	return (unsigned)r < NNAMES ? names[r] : names[0];
}

enum q_regime
q_regime_from_name(const char *name)
{
	for (size_t i = 0; name && i < NNAMES; i++)
		if (strcmp(names[i], name) == 0)
			return (enum q_regime)i;
	return Q_REGIME_UNKNOWN;
}

/* ---- configuration ------------------------------------------------------------------------ */

static struct q_dec
dec_places(long long units, int places)
{
	struct q_dec d = q_dec_from_int(units);

	for (int i = 0; i < places; i++)
		d.m /= 10;
	return d;
}

void
q_regime_cfg_defaults(struct q_regime_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->exchange, sizeof(cfg->exchange), "binance");
	snprintf(cfg->symbol, sizeof(cfg->symbol), "BTCUSDT");
	cfg->vol_window_hours = 24;
	cfg->dd_window_hours = 720;
	cfg->dangerous_vol = dec_places(120, 2);
	cfg->dangerous_dd = dec_places(30, 2);
	cfg->volatile_vol = dec_places(80, 2);
	cfg->volatile_dd = dec_places(20, 2);
	cfg->calm_vol = dec_places(40, 2);
	cfg->calm_dd = dec_places(10, 2);
}

static const struct threshold {
	const char *key;
	size_t off;
	int is_dd;
} thresholds[] = {
        {"calm_vol", offsetof(struct q_regime_cfg, calm_vol), 0},
        {"volatile_vol", offsetof(struct q_regime_cfg, volatile_vol), 0},
        {"dangerous_vol", offsetof(struct q_regime_cfg, dangerous_vol), 0},
        {"calm_dd", offsetof(struct q_regime_cfg, calm_dd), 1},
        {"volatile_dd", offsetof(struct q_regime_cfg, volatile_dd), 1},
        {"dangerous_dd", offsetof(struct q_regime_cfg, dangerous_dd), 1},
};

#define NTHRESHOLDS (sizeof(thresholds) / sizeof(thresholds[0]))

static struct q_dec *
threshold_at(struct q_regime_cfg *cfg, size_t i)
{
	return (struct q_dec *)((char *)cfg + thresholds[i].off);
}

static int
load(struct q_regime_cfg *cfg, const struct q_config *c, struct q_err *err)
{
	const char *path = q_config_path(c);
	const char *ex = q_config_get(c, "regime", "exchange", "binance");
	const char *sym = q_config_get(c, "regime", "symbol", "BTCUSDT");
	size_t symlen = strspn(sym, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
	long long v;

	if (q_exchange_lookup(ex) == NULL)
		return q_err_set(
		        err, Q_E_CONFIG,
		        "%s: regime.exchange = '%s' is not a venue: binance, okx, bybit or "
		        "bitget",
		        path, ex);
	snprintf(cfg->exchange, sizeof(cfg->exchange), "%s", ex);
	if (symlen == 0 || sym[symlen] != '\0' || symlen >= sizeof(cfg->symbol))
		return q_err_set(
		        err, Q_E_CONFIG,
		        "%s: regime.symbol = '%s' must be 1 to %zu of A-Z 0-9, like BTCUSDT", path,
		        sym, sizeof(cfg->symbol) - 1);
	snprintf(cfg->symbol, sizeof(cfg->symbol), "%s", sym);
	if (q_config_get_int(c, "regime", "vol_window_hours", 24, 2, 8760, &v, err) < 0)
		return -1;
	cfg->vol_window_hours = (int)v;
	if (q_config_get_int(c, "regime", "dd_window_hours", 720, 1, 8760, &v, err) < 0)
		return -1;
	cfg->dd_window_hours = (int)v;
	for (size_t i = 0; i < NTHRESHOLDS; i++) {
		const char *s = q_config_get(c, "regime", thresholds[i].key, NULL);
		struct q_dec d;

		if (s == NULL)
			continue;
		if (q_dec_parse_str(&d, s, NULL) < 0 || q_dec_sign(d) <= 0 ||
		    (thresholds[i].is_dd && q_dec_cmp(d, q_dec_from_int(1)) > 0) ||
		    q_dec_cmp(d, q_dec_from_int(1000)) >= 0)
			return q_err_set(
			        err, Q_E_CONFIG,
			        "%s: regime.%s = '%s' must be a plain decimal above 0 (like "
			        "%s)%s",
			        path, thresholds[i].key, s, thresholds[i].is_dd ? "0.30" : "1.20",
			        thresholds[i].is_dd ? ", at most 1" : ", below 1000");
		*threshold_at(cfg, i) = d;
	}
	/* calm <= volatile <= dangerous, for each figure: rows 0-2 are vol, 3-5 drawdown. */
	for (size_t i = 0; i < NTHRESHOLDS; i++) {
		char a[Q_DEC_STR_MAX], b[Q_DEC_STR_MAX];

		if (i % 3 == 2 || q_dec_cmp(*threshold_at(cfg, i), *threshold_at(cfg, i + 1)) <= 0)
			continue;
		q_dec_format(a, *threshold_at(cfg, i));
		q_dec_format(b, *threshold_at(cfg, i + 1));
		return q_err_set(
		        err, Q_E_CONFIG,
		        "%s: regime.%s (%s) must not exceed regime.%s (%s): calm <= volatile "
		        "<= dangerous",
		        path, thresholds[i].key, a, thresholds[i + 1].key, b);
	}
	return 0;
}

int
q_regime_config(struct q_regime_cfg *cfg, const struct q_config *c, struct q_err *err)
{
	q_regime_cfg_defaults(cfg);
	if (c == NULL)
		return 0;
	if (load(cfg, c, err) < 0) {
		q_regime_cfg_defaults(cfg);
		return -1;
	}
	return 0;
}

size_t
q_regime_bars_needed(const struct q_regime_cfg *cfg)
{
	size_t v = (size_t)cfg->vol_window_hours + 1, d = (size_t)cfg->dd_window_hours;

	return v > d ? v : d;
}

/* ---- the detector ------------------------------------------------------------------------- */

/* x rounded to PLACES decimal places (half away from zero) as an exact decimal. */
static struct q_dec
figure(double x)
{
	struct q_dec d;

	if (x > FIGURE_MAX)
		x = FIGURE_MAX;
	d.m = (__int128)llround(x * PLACES_SCALE);
	for (int i = PLACES; i < Q_DEC_SCALE; i++)
		d.m *= 10;
	return d;
}

static int
good_close(double c)
{
	return isfinite(c) && c > 0;
}

/* Annualised sample stdev of the last w log returns of bars[0..n) (n >= w + 1). */
static int
realized_vol(double *out, const struct q_bar *bars, size_t n, int w)
{
	const struct q_bar *b = bars + (n - (size_t)w - 1);
	double mean = 0, var = 0;

	for (int i = 0; i <= w; i++)
		if (!good_close(b[i].close))
			return -1;
	for (int i = 1; i <= w; i++)
		mean += log(b[i].close / b[i - 1].close);
	mean /= w;
	for (int i = 1; i <= w; i++) {
		double d = log(b[i].close / b[i - 1].close) - mean;

		var += d * d;
	}
	var /= w - 1;
	*out = sqrt(var) * sqrt((double)Q_REGIME_PERIODS_PER_YEAR);
	return isfinite(*out) ? 0 : -1;
}

/* 1 - last close / the highest of the last w closes of bars[0..n) (n >= w). */
static int
drawdown(double *out, const struct q_bar *bars, size_t n, int w)
{
	double high = 0, last = bars[n - 1].close;

	for (size_t i = n - (size_t)w; i < n; i++) {
		if (!good_close(bars[i].close))
			return -1;
		if (bars[i].close > high)
			high = bars[i].close;
	}
	*out = 1.0 - last / high;
	if (*out < 0)
		*out = 0;
	return 0;
}

void
q_regime_compute(struct q_regime_result *out, const struct q_regime_cfg *cfg,
                 const struct q_bar *bars, size_t n, long long now_ms)
{
	const long long iv = Q_REGIME_INTERVAL_MS;
	size_t run = n, need = q_regime_bars_needed(cfg);
	double vol, dd;

	memset(out, 0, sizeof(*out));
	out->regime = Q_REGIME_UNKNOWN;
	if (n == 0) {
		out->stale = 1;
		snprintf(out->reason, sizeof(out->reason), "no %s candles of %s", Q_REGIME_INTERVAL,
		         cfg->symbol);
		return;
	}
	/* The newest run of consecutive candles: bars[first .. n). */
	while (run > 1 && bars[run - 1].open_ms - bars[run - 2].open_ms == iv)
		run--;
	run = n - (run - 1);
	bars += n - run;
	out->last_close_ms = bars[run - 1].open_ms + iv;
	out->stale = now_ms - out->last_close_ms > Q_REGIME_STALE_INTERVALS * iv;
	if (run >= (size_t)cfg->vol_window_hours + 1 &&
	    realized_vol(&vol, bars, run, cfg->vol_window_hours) == 0) {
		out->has_vol = 1;
		out->realized_vol = figure(vol);
	}
	if (run >= (size_t)cfg->dd_window_hours &&
	    drawdown(&dd, bars, run, cfg->dd_window_hours) == 0) {
		out->has_dd = 1;
		out->drawdown = figure(dd);
	}
	if (out->stale) {
		snprintf(out->reason, sizeof(out->reason),
		         "stale: the newest %s candle of %s closed %lld min ago", Q_REGIME_INTERVAL,
		         cfg->symbol, (now_ms - out->last_close_ms) / 60000);
		return;
	}
	if (!out->has_vol || !out->has_dd) {
		snprintf(out->reason, sizeof(out->reason),
		         run < need ? "too few consecutive %s candles of %s: %zu of %zu"
		                    : "bad closes among the %s candles of %s (%zu of %zu)",
		         Q_REGIME_INTERVAL, cfg->symbol, run, need);
		return;
	}
	if (q_dec_cmp(out->realized_vol, cfg->dangerous_vol) >= 0 ||
	    q_dec_cmp(out->drawdown, cfg->dangerous_dd) >= 0)
		out->regime = Q_REGIME_DANGEROUS;
	else if (q_dec_cmp(out->realized_vol, cfg->volatile_vol) >= 0 ||
	         q_dec_cmp(out->drawdown, cfg->volatile_dd) >= 0)
		out->regime = Q_REGIME_VOLATILE;
	else if (q_dec_cmp(out->realized_vol, cfg->calm_vol) < 0 &&
	         q_dec_cmp(out->drawdown, cfg->calm_dd) < 0)
		out->regime = Q_REGIME_CALM;
	else
		out->regime = Q_REGIME_NORMAL;
}

/* ---- snapshots ---------------------------------------------------------------------------- */

static const char sql_latest[] =
        "SELECT symbol, regime, COALESCE(realized_vol, ''), COALESCE(drawdown, ''), computed_at, "
        "stale FROM regime_snapshots WHERE symbol = ? ORDER BY computed_at DESC, id DESC LIMIT 1";

/* A stored DECIMAL's text in its canonical form, in place ("0.4500000000" -> "0.45"). */
static void
canonical(char *s, size_t size)
{
	struct q_dec d;
	char c[Q_DEC_STR_MAX];

	if (s[0] == '\0' || q_dec_parse_str(&d, s, NULL) < 0)
		return;
	if ((size_t)q_dec_format(c, d) < size)
		memcpy(s, c, strlen(c) + 1);
}

int
q_regime_latest_at(struct q_db *db, const char *symbol, long long now_ms,
                   struct q_regime_snapshot *s, struct q_err *err)
{
	long long stale = 0;
	int r;

	memset(s, 0, sizeof(*s));
	snprintf(s->symbol, sizeof(s->symbol), "%s", symbol);
	snprintf(s->regime, sizeof(s->regime), "UNKNOWN");
	snprintf(s->previous, sizeof(s->previous), "UNKNOWN");
	r = q_db_row(db, err, sql_latest, "s>ssssti", symbol, s->symbol, sizeof(s->symbol),
	             s->regime, sizeof(s->regime), s->realized_vol, sizeof(s->realized_vol),
	             s->drawdown, sizeof(s->drawdown), &s->computed_at_us, &stale);
	if (r < 0)
		return -1;
	s->found = r == 1;
	canonical(s->realized_vol, sizeof(s->realized_vol));
	canonical(s->drawdown, sizeof(s->drawdown));
	s->stale = !s->found || stale != 0 ||
	           now_ms * 1000 - s->computed_at_us >
	                   Q_REGIME_STALE_INTERVALS * Q_REGIME_INTERVAL_MS * 1000;
	if (s->stale)
		snprintf(s->regime, sizeof(s->regime), "UNKNOWN");
	return 0;
}

int
q_regime_latest(struct q_db *db, const char *symbol, struct q_regime_snapshot *s, struct q_err *err)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return q_regime_latest_at(db, symbol, (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, s,
	                          err);
}

static const char sql_lock[] = "SELECT GET_LOCK(CONCAT('quantor_regime.', DATABASE(), '.', ?), 10)";
static const char sql_unlock[] =
        "SELECT RELEASE_LOCK(CONCAT('quantor_regime.', DATABASE(), '.', ?))";
static const char sql_insert[] =
        "INSERT INTO regime_snapshots (symbol, regime, realized_vol, drawdown, computed_at, "
        "stale) VALUES (?, ?, ?, ?, ?, ?)";

struct update {
	const struct q_regime_cfg *cfg;
	const struct q_regime_result *res;
	long long now_ms;
	const char *vol, *dd; /* canonical text, NULL when unknown */
	char previous[12];
	long long previous_at_us; /* computed_at of the previous snapshot */
	int changed, stored;
};

/* The stored figure text equals ours (both unknown, or the same decimal). */
static int
same_figure(const char *stored, const char *ours)
{
	struct q_dec a, b;

	if (stored[0] == '\0' || ours == NULL)
		return stored[0] == '\0' && ours == NULL;
	return q_dec_parse_str(&a, stored, NULL) == 0 && q_dec_parse_str(&b, ours, NULL) == 0 &&
	       q_dec_cmp(a, b) == 0;
}

static int
update_tx(struct q_db *db, void *arg, struct q_err *err)
{
	struct update *u = arg;
	const char *to = q_regime_name(u->res->regime);
	char vol[32] = "", dd[32] = "";
	long long at_us = 0, stale = 0;
	json_t *data;
	int r;

	u->changed = u->stored = 0;
	snprintf(u->previous, sizeof(u->previous), "UNKNOWN");
	r = q_db_row(db, err,
	             "SELECT regime, COALESCE(realized_vol, ''), COALESCE(drawdown, ''), "
	             "computed_at, stale FROM regime_snapshots WHERE symbol = ? "
	             "ORDER BY computed_at DESC, id DESC LIMIT 1",
	             "s>sssti", u->cfg->symbol, u->previous, sizeof(u->previous), vol, sizeof(vol),
	             dd, sizeof(dd), &at_us, &stale);
	if (r < 0)
		return -1;
	u->previous_at_us = at_us;
	if (r == 0 || strcmp(u->previous, to) != 0 || (stale != 0) != (u->res->stale != 0) ||
	    !same_figure(vol, u->vol) || !same_figure(dd, u->dd) ||
	    u->now_ms * 1000 - at_us >= Q_REGIME_INTERVAL_MS * 1000) {
		if (q_db_exec(db, err, sql_insert, "ssmmti", u->cfg->symbol, to, u->vol, u->dd,
		              u->now_ms * 1000, (long long)(u->res->stale != 0)) < 0)
			return -1;
		u->stored = 1;
	}
	if (strcmp(u->previous, to) == 0)
		return 0;
	data = json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "symbol", u->cfg->symbol, "from",
	                 u->previous, "to", to, "realized_vol", u->vol, "drawdown", u->dd);
	r = q_audit_append_tx(db, Q_REGIME_ACTOR, 0, "regime.changed", data, NULL, err);
	json_decref(data);
	if (r < 0)
		return -1;
	u->changed = 1;
	return 0;
}

int
q_regime_update(struct q_db *db, const struct q_regime_cfg *cfg, const struct q_bar *bars, size_t n,
                long long now_ms, struct q_regime_snapshot *out, struct q_err *err)
{
	struct q_regime_result res;
	struct update u = {.cfg = cfg, .res = &res, .now_ms = now_ms};
	char vol[Q_DEC_STR_MAX], dd[Q_DEC_STR_MAX];
	long long got = 0, ignored;
	int rc;

	q_regime_compute(&res, cfg, bars, n, now_ms);
	if (res.has_vol) {
		q_dec_format(vol, res.realized_vol);
		u.vol = vol;
	}
	if (res.has_dd) {
		q_dec_format(dd, res.drawdown);
		u.dd = dd;
	}
	if (q_db_row(db, err, sql_lock, "s>i", cfg->symbol, &got) < 0)
		return -1;
	if (got != 1)
		return q_err_set(err, Q_E_DB_CONFLICT,
		                 "another regime update of %s held its lock for over 10 s",
		                 cfg->symbol);
	rc = q_db_tx(db, update_tx, &u, err);
	/* A lost connection released the lock already; nothing to report from here. */
	(void)q_db_row(db, NULL, sql_unlock, "s>i", cfg->symbol, &ignored);
	if (rc < 0)
		return -1;
	if (out) {
		memset(out, 0, sizeof(*out));
		out->found = 1;
		snprintf(out->symbol, sizeof(out->symbol), "%s", cfg->symbol);
		snprintf(out->regime, sizeof(out->regime), "%s",
		         res.stale ? "UNKNOWN" : q_regime_name(res.regime));
		/* Figures stay below 10^9 with 10 places: they fit. */
		if (u.vol && strlen(u.vol) < sizeof(out->realized_vol))
			memcpy(out->realized_vol, u.vol, strlen(u.vol) + 1);
		if (u.dd && strlen(u.dd) < sizeof(out->drawdown))
			memcpy(out->drawdown, u.dd, strlen(u.dd) + 1);
		out->computed_at_us = u.stored ? now_ms * 1000 : u.previous_at_us;
		out->stale = res.stale;
		snprintf(out->previous, sizeof(out->previous), "%s", u.previous);
		out->changed = u.changed;
		out->stored = u.stored;
	}
	return 0;
}
