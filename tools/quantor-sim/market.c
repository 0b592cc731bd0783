/*
 * The synthetic markets (market.h). Three layers, each computed once and cached:
 *
 *   hours   market-wide, from the epoch forward: phase, annualised BTC volatility and crash dip
 *           of every hour, generated one cycle at a time (a cycle is a pure function of
 *           (seed, cycle number), so only its start depends on the cycles before it);
 *   days    per symbol: the trend anchor (a mean-reverting random walk over whole days, cheap
 *           to walk from the epoch) and, once computed, the day's candle;
 *   blocks  per (symbol, day), least recently used out: the log-price at the start of each
 *           minute (a Brownian bridge between the anchors) and the day's 24 hourly candles.
 *
 * 1m candles are recomputed from a block on demand (60 seconds of a bridge between two minutes),
 * hourly and daily ones are read from the caches, and every larger candle is their aggregation,
 * so a candle never depends on how it was asked for. Prices are kept as integer ticks and
 * volumes as integer lots until they become struct q_dec.
 */
#include "market.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "q_mem.h"

#define MS_MIN 60000LL
#define MS_HOUR 3600000LL
#define MS_DAY 86400000LL
#define NDAYS ((int32_t)((SIM_MARKET_T_MAX_MS - SIM_MARKET_T_MIN_MS) / MS_DAY))
#define MIN_PER_DAY 1440
#define MIN_PER_YEAR 525600.0
#define HOURS_PER_YEAR 8760.0
#define MAX_TICKS 1e15 /* far above any price the model reaches: keeps llround defined */

#define TREND_REVERT (1.0 / 150.0) /* per day: a half-life of about 100 days */
#define TREND_VOL 0.20             /* cap on the day-to-day anchor volatility (annualised) */

#define GOLDEN 0x9e3779b97f4a7c15ULL
#define CYCLE_SALT 0x2545f4914f6cdd1dULL                     /* the market-wide schedule's stream */
enum salt { SALT_ANCHOR, SALT_MINUTE, SALT_SECOND, NSALTS }; /* per-symbol streams */

/* --- the listed symbols -------------------------------------------------------------------- */

static const struct sym_def {
	const char *symbol, *base;
	const char *tick, *lot, *max_qty;
	double price;      /* base level the trend reverts to */
	double per_minute; /* typical volume per minute, in base units */
	double beta;       /* volatility relative to BTC */
} sym_defs[] = {
        {"BTCUSDT", "BTC", "0.01", "0.00001", "9000", 95000, 12, 1.00},
        {"ETHUSDT", "ETH", "0.01", "0.0001", "9000", 3400, 200, 1.25},
        {"SOLUSDT", "SOL", "0.01", "0.001", "9000", 180, 2500, 1.60},
        {"BNBUSDT", "BNB", "0.01", "0.001", "9000", 650, 150, 1.00},
        {"XRPUSDT", "XRP", "0.0001", "0.1", "9222449", 2.2, 80000, 1.45},
        {"ADAUSDT", "ADA", "0.0001", "0.1", "900000", 0.75, 150000, 1.50},
        {"DOGEUSDT", "DOGE", "0.00001", "1", "9000000", 0.22, 800000, 1.70},
        {"LTCUSDT", "LTC", "0.01", "0.001", "90000", 95, 400, 1.30},
        {"DOTUSDT", "DOT", "0.001", "0.01", "900000", 5.5, 15000, 1.50},
        {"LINKUSDT", "LINK", "0.01", "0.01", "900000", 18, 4000, 1.50},
        {"AVAXUSDT", "AVAX", "0.01", "0.01", "900000", 28, 3000, 1.60},
        {"TRXUSDT", "TRX", "0.0001", "0.1", "9000000", 0.25, 300000, 0.80},
        {"POLUSDT", "POL", "0.0001", "0.1", "9000000", 0.40, 200000, 1.60},
        {"SHIBUSDT", "SHIB", "0.00000001", "1", "92233720368", 0.000018, 5e9, 1.70},
        {"ATOMUSDT", "ATOM", "0.001", "0.01", "900000", 6.0, 8000, 1.50},
        {"UNIUSDT", "UNI", "0.001", "0.01", "900000", 9.0, 5000, 1.55},
        {"BCHUSDT", "BCH", "0.1", "0.001", "9000", 450, 100, 1.35},
        {"NEARUSDT", "NEAR", "0.001", "0.1", "900000", 3.5, 20000, 1.65},
        {"APTUSDT", "APT", "0.001", "0.01", "900000", 7.0, 8000, 1.70},
        {"ARBUSDT", "ARB", "0.0001", "0.1", "9000000", 0.55, 100000, 1.75},
};

#define NSYMS (sizeof(sym_defs) / sizeof(sym_defs[0]))

/* --- state --------------------------------------------------------------------------------- */

struct agg {
	int64_t open, high, low, close; /* ticks */
	int64_t volume;                 /* lots */
	int n;                          /* 0: empty */
};

struct day {
	double anchor;  /* trend log-deviation from the base level at 00:00 UTC */
	struct agg sum; /* the day's candle, once sum.n */
	struct block *blk;
};

struct block {
	struct block *prev, *next; /* LRU list, most recent first */
	struct sym *sym;
	int32_t day;
	float x[MIN_PER_DAY + 1]; /* log-deviation from the base level at each minute's start */
	float sig[24];            /* per-minute stdev of each hour */
	unsigned char phase[24];
	struct agg hour[24];
};

struct sym {
	struct sim_symbol pub;
	const struct sym_def *def;
	double base_ticks;    /* base level in ticks */
	double lots;          /* typical volume per minute in lots */
	double crash_beta;    /* dip scale */
	uint64_t key[NSALTS]; /* one random stream per salt */
	struct day *days;     /* days[0 .. ndays), anchors valid below nanchor */
	int32_t ndays, nanchor;
};

static struct {
	pthread_mutex_t lock;
	int ready;
	uint64_t seed;
	struct sym syms[NSYMS];
	/* Market-wide schedule, hours [0, nhours) generated; dip[] holds one more (the next start). */
	unsigned char *phase;
	float *vol, *dip;
	double *var_day; /* sum over the day's hours of vol^2 / 8760, complete below nhours / 24 */
	int32_t nhours, cap_hours, ncycles;
	struct block *mru, *lru;
	size_t nblocks;
} mk = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* --- counter-based randomness -------------------------------------------------------------- */

static uint64_t
mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* splitmix64 */
static uint64_t
next(uint64_t *s)
{
	return mix(*s += GOLDEN);
}

static uint64_t
hash(uint64_t key, int64_t i)
{
	return mix(key ^ mix((uint64_t)i + GOLDEN));
}

/* In (0, 1), never 0 (a log follows). */
static double
unit(uint64_t r)
{
	return ((double)(r >> 11) + 0.5) * 0x1p-53;
}

/* Two independent standard normals from one counter (Box-Muller). */
static void
normals(double z[2], uint64_t r)
{
	double rad = sqrt(-2.0 * log(unit(r))), ang = 2.0 * M_PI * unit(mix(r + GOLDEN));

	z[0] = rad * cos(ang);
	z[1] = rad * sin(ang);
}

static double
uniform(uint64_t *s, double lo, double hi)
{
	return lo + (hi - lo) * unit(next(s));
}

/* --- the market-wide phase schedule -------------------------------------------------------- */

static void
grow_hours(void)
{
	size_t cap = mk.cap_hours ? 2 * (size_t)mk.cap_hours : (size_t)24 * 512;

	mk.phase = q_realloc(mk.phase, cap);
	mk.vol = q_realloc(mk.vol, cap * sizeof(*mk.vol));
	mk.dip = q_realloc(mk.dip, (cap + 1) * sizeof(*mk.dip));
	mk.var_day = q_realloc(mk.var_day, (cap / 24 + 1) * sizeof(*mk.var_day));
	mk.cap_hours = (int32_t)cap;
}

/*
 * One cycle: calm, normal, volatile, crash, volatile rebound, normal recovery. The dip is the
 * crash's log-fall for BTC, linear within each segment; it starts and ends each cycle at 0 so
 * that after the recovery the price is back on its trend (and the regime can be CALM again).
 */
static void
gen_cycle(void)
{
	uint64_t s = hash(mix(mk.seed ^ CYCLE_SALT), mk.ncycles);
	double fall = log(1.0 - uniform(&s, 0.30, 0.42)), kept = 1.0 - uniform(&s, 0.50, 0.70);
	const struct {
		enum sim_phase phase;
		double len_lo, len_hi, vol_lo, vol_hi, dip0, dip1;
	} seg[] = {
	        {SIM_CALM, 60, 150, 0.18, 0.30, 0, 0},
	        {SIM_NORMAL, 36, 120, 0.45, 0.65, 0, 0},
	        {SIM_VOLATILE, 24, 60, 0.88, 1.10, 0, 0},
	        {SIM_CRASH, 24, 72, 1.40, 2.00, 0, fall},
	        {SIM_VOLATILE, 24, 60, 0.85, 1.05, fall, fall * kept},
	        {SIM_NORMAL, 48, 120, 0.40, 0.60, fall * kept, 0},
	};

	for (size_t i = 0; i < sizeof(seg) / sizeof(seg[0]); i++) {
		int32_t len = (int32_t)uniform(&s, seg[i].len_lo, seg[i].len_hi + 1);
		double vol = uniform(&s, seg[i].vol_lo, seg[i].vol_hi);

		for (int32_t k = 0; k < len; k++, mk.nhours++) {
			int32_t h = mk.nhours;

			if (h >= mk.cap_hours)
				grow_hours();
			mk.phase[h] = (unsigned char)seg[i].phase;
			mk.vol[h] = (float)vol;
			mk.dip[h] = (float)(seg[i].dip0 + (seg[i].dip1 - seg[i].dip0) * k / len);
			if (h % 24 == 0)
				mk.var_day[h / 24] = 0;
			mk.var_day[h / 24] += vol * vol / HOURS_PER_YEAR;
		}
	}
	mk.dip[mk.nhours] = 0;
	mk.ncycles++;
}

/* Hours [0, n) generated, plus dip[n]. */
static void
need_hours(int32_t n)
{
	while (mk.nhours < n)
		gen_cycle();
}

/* --- trend anchors ------------------------------------------------------------------------- */

static void
need_days(struct sym *s, int32_t n)
{
	if (n <= s->ndays)
		return;
	s->days = q_realloc(s->days, (size_t)n * sizeof(*s->days));
	memset(s->days + s->ndays, 0, (size_t)(n - s->ndays) * sizeof(*s->days));
	s->ndays = n;
}

/* Anchors [0, n) walked. The day-to-day stdev follows the day's phases, capped at TREND_VOL:
 * the rest of a wild day's variance stays intraday (the bridge is pinned at both ends). */
static void
need_anchors(struct sym *s, int32_t n)
{
	double cap = TREND_VOL / sqrt(365.0);

	need_days(s, n);
	need_hours(24 * (n - 1));
	if (s->nanchor == 0) {
		s->days[0].anchor = 0;
		s->nanchor = 1;
	}
	for (int32_t d = s->nanchor; d < n; d++) {
		double z[2], prev = s->days[d - 1].anchor;

		normals(z, hash(s->key[SALT_ANCHOR], d - 1));
		s->days[d].anchor = (1.0 - TREND_REVERT) * prev +
		                    s->def->beta * fmin(sqrt(mk.var_day[d - 1]), cap) * z[0];
	}
	s->nanchor = n > s->nanchor ? n : s->nanchor;
}

/* --- prices -------------------------------------------------------------------------------- */

static int64_t
ticks(const struct sym *s, double x)
{
	double t = s->base_ticks * exp(x);

	if (!(t >= 1.0))
		return 1;
	return t > MAX_TICKS ? (int64_t)MAX_TICKS : (int64_t)llround(t);
}

static void
merge(struct agg *a, const struct agg *b)
{
	if (a->n == 0) {
		*a = *b;
		return;
	}
	if (b->high > a->high)
		a->high = b->high;
	if (b->low < a->low)
		a->low = b->low;
	a->close = b->close;
	a->volume += b->volume;
	a->n += b->n;
}

/*
 * The 1m candle of minute m of the block's day over its first nsec seconds (1..60). Seconds are
 * a Brownian bridge from x[m] to x[m + 1] (the next minute's open), and exp() is increasing, so
 * the extremes in ticks are the ticks of the extremes in log. z: the minute's two normals when
 * the caller has them, else NULL.
 */
static void
minute_candle(struct agg *out, const struct block *b, int m, int nsec, const double *z)
{
	const struct sym *s = b->sym;
	int64_t mi = (int64_t)b->day * MIN_PER_DAY + m;
	int hour = m / 60;
	double x0 = b->x[m], x1 = b->x[m + 1], sd = b->sig[hour] / sqrt(60.0);
	double u[61], hi, lo, x = x0, zz[2], lots;
	uint64_t st = hash(s->key[SALT_SECOND], mi);
	static const double phase_volume[] = {0.6, 1.0, 1.8, 3.0};

	u[0] = 0;
	for (int j = 0; j < 60; j++) {
		uint64_t r = next(&st);
		/* Four 16-bit uniforms, centred: variance 1/3, hence the sqrt(3). */
		double v = (double)((int64_t)(r & 0xffff) + (int64_t)(r >> 16 & 0xffff) -
		                    (int64_t)(r >> 32 & 0xffff) - (int64_t)(r >> 48));

		u[j + 1] = u[j] + v * (1.7320508075688772 / 65536.0);
	}
	hi = lo = x0;
	for (int j = 1; j < nsec; j++) {
		double f = j * (1.0 / 60.0);

		x = x0 + f * (x1 - x0) + sd * (u[j] - f * u[60]);
		hi = x > hi ? x : hi;
		lo = x < lo ? x : lo;
	}
	out->open = ticks(s, x0);
	out->high = ticks(s, hi);
	out->low = ticks(s, lo);
	out->close = ticks(s, x);
	out->n = 1;

	/* Volume: the phase's activity, busier when the minute moves and in the European and
	 * American afternoon; a partial minute has the share of its seconds, rounded up. */
	if (z == NULL) {
		normals(zz, hash(s->key[SALT_MINUTE], mi));
		z = zz;
	}
	lots = s->lots * phase_volume[b->phase[hour]] * exp(0.45 * z[1] - 0.1) *
	       (1.0 + 0.3 * fabs(z[0])) * (1.0 + 0.25 * cos(2.0 * M_PI * (hour - 15) / 24.0));
	out->volume = lots < 1.0 ? 1 : (int64_t)llround(lots < 1e15 ? lots : 1e15);
	out->volume = (out->volume * nsec + 59) / 60;
}

static void
block_unlink(struct block *b)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		mk.mru = b->next;
	if (b->next)
		b->next->prev = b->prev;
	else
		mk.lru = b->prev;
	b->prev = b->next = NULL;
}

static void
block_push(struct block *b)
{
	b->prev = NULL;
	b->next = mk.mru;
	if (mk.mru)
		mk.mru->prev = b;
	mk.mru = b;
	if (mk.lru == NULL)
		mk.lru = b;
}

static void
block_fill(struct block *b)
{
	struct sym *s = b->sym;
	struct day *dy;
	int32_t d = b->day, h0 = 24 * d;
	int64_t mi0 = (int64_t)d * MIN_PER_DAY;
	double w[MIN_PER_DAY + 1], v[MIN_PER_DAY + 1], z[MIN_PER_DAY][2], a0, a1, gap;
	double cb = s->crash_beta;

	need_anchors(s, d + 2);
	need_hours(h0 + 24);
	dy = &s->days[d];
	a0 = dy[0].anchor;
	a1 = dy[1].anchor;
	for (int h = 0; h < 24; h++) {
		b->sig[h] = (float)(s->def->beta * mk.vol[h0 + h] / sqrt(MIN_PER_YEAR));
		b->phase[h] = mk.phase[h0 + h];
	}
	/* Brownian bridge in variance time: the path's own end is moved onto the next anchor in
	 * proportion to the variance accumulated, so the day joins the next one exactly. */
	w[0] = v[0] = 0;
	for (int m = 0; m < MIN_PER_DAY; m++) {
		double sg = b->sig[m / 60];

		normals(z[m], hash(s->key[SALT_MINUTE], mi0 + m));
		w[m + 1] = w[m] + sg * z[m][0];
		v[m + 1] = v[m] + sg * sg;
	}
	gap = a1 - a0 - w[MIN_PER_DAY];
	/* The two ends by the same expression as the neighbouring days': they agree to the bit. */
	b->x[0] = (float)(a0 + cb * mk.dip[h0]);
	b->x[MIN_PER_DAY] = (float)(a1 + cb * mk.dip[h0 + 24]);
	for (int m = 1; m < MIN_PER_DAY; m++) {
		int h = m / 60;
		double dip =
		        mk.dip[h0 + h] + (m % 60) / 60.0 * (mk.dip[h0 + h + 1] - mk.dip[h0 + h]);

		b->x[m] = (float)(a0 + w[m] + v[m] / v[MIN_PER_DAY] * gap + cb * dip);
	}

	memset(b->hour, 0, sizeof(b->hour));
	for (int m = 0; m < MIN_PER_DAY; m++) {
		struct agg c;

		minute_candle(&c, b, m, 60, z[m]);
		merge(&b->hour[m / 60], &c);
	}
	memset(&dy->sum, 0, sizeof(dy->sum));
	for (int h = 0; h < 24; h++)
		merge(&dy->sum, &b->hour[h]);
}

/* The block of day d, computed if need be; valid until the next block_get(). */
static struct block *
block_get(struct sym *s, int32_t d)
{
	struct block *b;

	need_days(s, d + 2);
	b = s->days[d].blk;
	if (b) {
		block_unlink(b);
		block_push(b);
		return b;
	}
	if (mk.nblocks >= SIM_MARKET_MAX_DAYS) {
		b = mk.lru;
		block_unlink(b);
		b->sym->days[b->day].blk = NULL;
	} else {
		b = q_calloc(1, sizeof(*b));
		mk.nblocks++;
	}
	b->sym = s;
	b->day = d;
	block_fill(b);
	s->days[d].blk = b;
	block_push(b);
	return b;
}

/* The candle of minutes [m0, m1] (counted from the epoch), the last one over nsec seconds. */
static void
aggregate(struct agg *out, struct sym *s, int64_t m0, int64_t m1, int nsec)
{
	int64_t full = nsec == 60 ? m1 : m1 - 1; /* last minute fully covered */

	memset(out, 0, sizeof(*out));
	for (int64_t m = m0; m <= m1;) {
		int32_t d = (int32_t)(m / MIN_PER_DAY);
		int mm = (int)(m % MIN_PER_DAY);
		struct agg c;

		if (mm == 0 && m + MIN_PER_DAY - 1 <= full) {
			need_days(s, d + 2);
			if (s->days[d].sum.n == 0)
				block_get(s, d);
			merge(out, &s->days[d].sum);
			m += MIN_PER_DAY;
		} else if (mm % 60 == 0 && m + 59 <= full) {
			merge(out, &block_get(s, d)->hour[mm / 60]);
			m += 60;
		} else {
			minute_candle(&c, block_get(s, d), mm, m == m1 ? nsec : 60, NULL);
			merge(out, &c);
			m++;
		}
	}
}

/* --- API ----------------------------------------------------------------------------------- */

int
sim_market_init(uint64_t seed, struct q_err *err)
{
	uint64_t name;
	int rc = -1;

	pthread_mutex_lock(&mk.lock);
	if (mk.ready) {
		q_err_set(err, Q_E_INTERNAL, "sim market already initialised");
		goto out;
	}
	mk.seed = seed;
	for (size_t i = 0; i < NSYMS; i++) {
		const struct sym_def *def = &sym_defs[i];
		struct sym *s = &mk.syms[i];
		struct sim_symbol *p = &s->pub;

		memset(s, 0, sizeof(*s));
		s->def = def;
		snprintf(p->symbol, sizeof(p->symbol), "%s", def->symbol);
		snprintf(p->base, sizeof(p->base), "%s", def->base);
		snprintf(p->quote, sizeof(p->quote), "USDT");
		if (q_dec_parse_str(&p->tick, def->tick, err) < 0 ||
		    q_dec_parse_str(&p->lot, def->lot, err) < 0 ||
		    q_dec_parse_str(&p->max_qty, def->max_qty, err) < 0)
			goto out;
		p->min_qty = p->lot;
		p->min_notional = q_dec_from_int(5);
		p->price_decimals = q_dec_decimals(p->tick);
		p->qty_decimals = q_dec_decimals(p->lot);
		s->base_ticks = def->price / q_dec_to_double(p->tick);
		s->lots = def->per_minute / q_dec_to_double(p->lot);
		s->crash_beta = fmin(def->beta, 1.5);
		/* Keyed by the name (FNV-1a), not the position: reordering the table keeps prices. */
		name = 0xcbf29ce484222325ULL;
		for (const char *c = def->symbol; *c; c++)
			name = (name ^ (unsigned char)*c) * 0x100000001b3ULL;
		for (int k = 0; k < NSALTS; k++)
			s->key[k] = mix(mix(seed + (uint64_t)(k + 1) * GOLDEN) ^ name);
	}
	mk.ready = 1;
	rc = 0;
out:
	pthread_mutex_unlock(&mk.lock);
	return rc;
}

void
sim_market_release(void)
{
	pthread_mutex_lock(&mk.lock);
	while (mk.mru) {
		struct block *b = mk.mru;

		mk.mru = b->next;
		free(b);
	}
	for (size_t i = 0; i < NSYMS; i++)
		free(mk.syms[i].days);
	free(mk.phase);
	free(mk.vol);
	free(mk.dip);
	free(mk.var_day);
	memset(mk.syms, 0, sizeof(mk.syms));
	mk.phase = NULL;
	mk.vol = mk.dip = NULL;
	mk.var_day = NULL;
	mk.nhours = mk.cap_hours = mk.ncycles = 0;
	mk.mru = mk.lru = NULL;
	mk.nblocks = 0;
	mk.ready = 0;
	pthread_mutex_unlock(&mk.lock);
}

static struct sym *
find(const char *symbol)
{
	if (!mk.ready || symbol == NULL)
		return NULL;
	for (size_t i = 0; i < NSYMS; i++)
		if (strcmp(mk.syms[i].pub.symbol, symbol) == 0)
			return &mk.syms[i];
	return NULL;
}

const struct sim_symbol *
sim_market_symbol(const char *symbol)
{
	struct sym *s = find(symbol);

	return s ? &s->pub : NULL;
}

const struct sim_symbol *
sim_market_symbol_at(size_t i)
{
	return mk.ready && i < NSYMS ? &mk.syms[i].pub : NULL;
}

/*
 * n steps (n >= 0) as a decimal: an integer times the step's mantissa is exact, and far cheaper
 * than q_dec_mul's general 256-bit path (five per candle).
 */
static int
to_dec(struct q_dec *out, int64_t n, struct q_dec step, struct q_err *err)
{
	if (n < 0 || (n > 0 && step.m > Q_DEC_MANT_MAX / n))
		return q_err_set(err, Q_E_INTERNAL, "sim market value out of range");
	out->m = (__int128)n * step.m;
	return 0;
}

static struct sym *
lookup(const char *symbol, struct q_err *err)
{
	struct sym *s = find(symbol);

	if (s == NULL && !mk.ready)
		q_err_set(err, Q_E_INTERNAL, "sim market not initialised");
	else if (s == NULL)
		q_err_set(err, Q_E_NOT_FOUND, "unknown symbol %.32s", symbol ? symbol : "(null)");
	return s;
}

int
sim_market_price(struct q_dec *out, const char *symbol, int64_t t_ms, struct q_err *err)
{
	struct sym *s = lookup(symbol, err);
	struct agg c;
	int64_t rel = t_ms - SIM_MARKET_T_MIN_MS;
	int rc;

	if (s == NULL)
		return -1;
	if (t_ms < SIM_MARKET_T_MIN_MS || t_ms >= SIM_MARKET_T_MAX_MS)
		return q_err_set(err, Q_E_BAD_REQUEST, "time %lld outside the simulated range",
		                 (long long)t_ms);
	pthread_mutex_lock(&mk.lock);
	minute_candle(&c, block_get(s, (int32_t)(rel / MS_DAY)), (int)(rel % MS_DAY / MS_MIN),
	              (int)(rel % MS_MIN / 1000) + 1, NULL);
	pthread_mutex_unlock(&mk.lock);
	rc = to_dec(out, c.close, s->pub.tick, err);
	return rc;
}

int
sim_market_candles(struct sim_candle *out, size_t limit, const char *symbol, int64_t interval_ms,
                   int64_t end_ms, struct q_err *err)
{
	struct sym *s = lookup(symbol, err);
	int64_t newest, first, n;
	int rc = -1;

	if (s == NULL)
		return -1;
	if (interval_ms < MS_MIN || interval_ms > 7 * MS_DAY || interval_ms % MS_MIN != 0)
		return q_err_set(err, Q_E_BAD_REQUEST, "bad interval %lld ms",
		                 (long long)interval_ms);
	if (end_ms >= SIM_MARKET_T_MAX_MS)
		return q_err_set(err, Q_E_BAD_REQUEST, "time %lld outside the simulated range",
		                 (long long)end_ms);
	if (end_ms < SIM_MARKET_T_MIN_MS || limit == 0)
		return 0;
	newest = end_ms / interval_ms * interval_ms;
	first = (SIM_MARKET_T_MIN_MS + interval_ms - 1) / interval_ms * interval_ms;
	if (newest < first)
		return 0;
	n = (newest - first) / interval_ms + 1;
	if ((uint64_t)n > limit)
		n = (int64_t)limit;
	if (n > INT_MAX)
		n = INT_MAX;

	pthread_mutex_lock(&mk.lock);
	for (int64_t i = 0; i < n; i++) {
		int64_t open = newest - (n - 1 - i) * interval_ms;
		int64_t to = (i == n - 1 ? end_ms : open + interval_ms - 1) - SIM_MARKET_T_MIN_MS;
		struct sim_candle *c = &out[i];
		struct agg a;

		aggregate(&a, s, (open - SIM_MARKET_T_MIN_MS) / MS_MIN, to / MS_MIN,
		          (int)(to % MS_MIN / 1000) + 1);
		c->open_ms = open;
		if (to_dec(&c->open, a.open, s->pub.tick, err) < 0 ||
		    to_dec(&c->high, a.high, s->pub.tick, err) < 0 ||
		    to_dec(&c->low, a.low, s->pub.tick, err) < 0 ||
		    to_dec(&c->close, a.close, s->pub.tick, err) < 0 ||
		    to_dec(&c->volume, a.volume, s->pub.lot, err) < 0)
			goto out;
	}
	rc = (int)n;
out:
	pthread_mutex_unlock(&mk.lock);
	return rc;
}

enum sim_phase
sim_market_phase(const char *symbol, int64_t t_ms)
{
	int32_t h;
	enum sim_phase p;

	(void)symbol;
	if (!mk.ready)
		return SIM_NORMAL;
	if (t_ms < SIM_MARKET_T_MIN_MS)
		t_ms = SIM_MARKET_T_MIN_MS;
	if (t_ms >= SIM_MARKET_T_MAX_MS)
		t_ms = SIM_MARKET_T_MAX_MS - 1;
	h = (int32_t)((t_ms - SIM_MARKET_T_MIN_MS) / MS_HOUR);
	pthread_mutex_lock(&mk.lock);
	need_hours(h + 1);
	p = (enum sim_phase)mk.phase[h];
	pthread_mutex_unlock(&mk.lock);
	return p;
}

const char *
sim_market_phase_name(enum sim_phase p)
{
	static const char *const names[] = {"CALM", "NORMAL", "VOLATILE", "CRASH"};

	return (unsigned)p < sizeof(names) / sizeof(names[0]) ? names[p] : "UNKNOWN";
}

size_t
sim_market_memory(void)
{
	size_t n;

	pthread_mutex_lock(&mk.lock);
	n = mk.nblocks * sizeof(struct block) + (size_t)mk.cap_hours * (1 + 2 * sizeof(float)) +
	    ((size_t)mk.cap_hours / 24 + 1) * sizeof(double);
	for (size_t i = 0; i < NSYMS; i++)
		n += (size_t)mk.syms[i].ndays * sizeof(struct day);
	pthread_mutex_unlock(&mk.lock);
	return n;
}
