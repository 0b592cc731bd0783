/*
 * The simulated markets behind quantor-sim's exchanges: 20 USDT pairs whose prices, candles and
 * volumes are a pure function of (seed, symbol, instant). Nothing here knows about HTTP.
 *
 * Model. The log-price of a symbol is its base level + a slow trend + a deterministic crash dip +
 * intraday noise. The trend is one value per UTC day (an anchor) counted from SIM_MARKET_T_MIN_MS,
 * a random walk that reverts gently to the base level; within a day, minutes follow a Brownian
 * bridge between the day's anchor and the next day's, and seconds a Brownian bridge between the
 * minutes. Every random draw is a hash of the seed, the symbol's name and a counter (day, minute,
 * second: splitmix64, Box-Muller), so a value depends on nothing but (seed, symbol, instant): not
 * on the calls made before it, nor on when the simulator started.
 *
 * Phases. One market-wide schedule (a crash hits every symbol, alts harder) made of cycles of 9
 * to 24 days: CALM, NORMAL, VOLATILE, CRASH (down 30-42 % over 1-3 days at 140-200 % annualised
 * volatility for BTC), then a VOLATILE rebound and a NORMAL recovery back to the trend. Phases
 * change on whole UTC hours. BTCUSDT's hourly closes thus take the regime detector (DESIGN.md
 * section 6) through CALM, VOLATILE and DANGEROUS in 99 % of 30-day windows (VOLATILE and
 * DANGEROUS in all of them; CALM is missed when the trend has fallen 10 % below the month's high).
 *
 * Prices. The last trade price is constant over each second: the price at t is the path at the
 * start of t's second. A 1m candle's open is the price at its first second, its close the price
 * at its last, its high and low the extremes over its seconds; larger candles aggregate 1m ones
 * exactly. Prices are whole numbers of ticks (>= 1 tick), volumes whole numbers of lots (>= 1).
 *
 * Supported instants: SIM_MARKET_T_MIN_MS <= t < SIM_MARKET_T_MAX_MS. Memory (sim_market_memory):
 * at most SIM_MARKET_MAX_DAYS computed symbol-days (~7 KB each, least recently used out), plus
 * 64 bytes per symbol and 9 bytes per hour (the schedule) from the epoch to the latest day asked.
 * Every function is thread-safe after sim_market_init() (one mutex; the symbol table is
 * immutable and read without it).
 */
#ifndef Q_SIM_MARKET_H
#define Q_SIM_MARKET_H

#include <stddef.h>
#include <stdint.h>

#include "q_decimal.h"
#include "q_err.h"

#define SIM_MARKET_T_MIN_MS 1577836800000LL /* 2020-01-01T00:00:00Z: the model's epoch */
#define SIM_MARKET_T_MAX_MS 2208988800000LL /* 2040-01-01T00:00:00Z, excluded */
#define SIM_MARKET_MAX_DAYS 1440            /* symbol-days kept computed (~7 KB each) */

struct sim_symbol {
	char symbol[16];        /* "BTCUSDT" */
	char base[8], quote[8]; /* "BTC", "USDT" */
	struct q_dec tick;      /* price step, e.g. 0.01 */
	struct q_dec lot;       /* quantity step, e.g. 0.00001 */
	struct q_dec min_qty;   /* one lot */
	struct q_dec max_qty;
	struct q_dec min_notional;        /* in quote: 5 */
	int price_decimals, qty_decimals; /* decimals of tick and lot */
};

struct sim_candle {
	int64_t open_ms; /* multiple of the interval (UTC-aligned) */
	/* Prices on the tick grid, the volume (in base units) on the lot grid. */
	struct q_dec open, high, low, close, volume;
};

enum sim_phase { SIM_CALM, SIM_NORMAL, SIM_VOLATILE, SIM_CRASH };

/*
 * Set up the markets: seed makes everything reproducible (same seed -> same prices at the same
 * instants, whatever the order of calls or the start time). Call once before any other call, and
 * again only after sim_market_release(). 0, or -1 with err (Q_E_INTERNAL: already initialised).
 */
int sim_market_init(uint64_t seed, struct q_err *err);

/* Free every cache. The symbol pointers handed out become invalid. */
void sim_market_release(void);

/*
 * The listed symbols: BTCUSDT, ETHUSDT, SOLUSDT, BNBUSDT, XRPUSDT, ADAUSDT, DOGEUSDT, LTCUSDT and
 * 12 more USDT pairs, 20 in all, by name (exact, case-sensitive) or by index 0..19 (in that
 * order). NULL for an unknown name, past the end, or before sim_market_init(). Borrowed until
 * sim_market_release().
 */
const struct sim_symbol *sim_market_symbol(const char *symbol);
const struct sim_symbol *sim_market_symbol_at(size_t i);

/*
 * The last trade price at instant t_ms into *out: on the tick grid, > 0. -1 with err:
 * Q_E_NOT_FOUND for an unknown symbol, Q_E_BAD_REQUEST for t_ms outside the supported range.
 */
int sim_market_price(struct q_dec *out, const char *symbol, int64_t t_ms, struct q_err *err);

/*
 * Up to limit candles of interval_ms (60000 .. 86400000*7, a whole number of minutes) into out,
 * oldest first, the newest being the one that opens at or before end_ms; candles opening before
 * SIM_MARKET_T_MIN_MS are left out (none at all when end_ms is before it). Returns the number
 * written, or -1 with err: Q_E_NOT_FOUND for an unknown symbol, Q_E_BAD_REQUEST for a bad
 * interval or end_ms >= SIM_MARKET_T_MAX_MS. The candle containing end_ms is partial: its close is
 * the price at end_ms and its high, low and volume cover only up to end_ms (the volume grows
 * with the seconds elapsed). Candles of a larger interval are exactly the aggregation of the 1m
 * candles they span (open of first, close of last, max high, min low, sum of volumes).
 * open_ms is a multiple of interval_ms counted from the Unix epoch (so 1w candles open on
 * Thursdays 00:00 UTC).
 */
int sim_market_candles(struct sim_candle *out, size_t limit, const char *symbol,
                       int64_t interval_ms, int64_t end_ms, struct q_err *err);

/*
 * The phase in force at t (for tests and /_sim/ introspection). The schedule is market-wide:
 * the same for every symbol, including an unknown one. t is clamped to the supported range.
 * SIM_NORMAL before sim_market_init().
 */
enum sim_phase sim_market_phase(const char *symbol, int64_t t_ms);

/* "CALM", "NORMAL", "VOLATILE", "CRASH"; "UNKNOWN" for a value outside the enum. */
const char *sim_market_phase_name(enum sim_phase p);

/* Bytes the caches hold right now (symbol-days computed, per-symbol day records). */
size_t sim_market_memory(void);

#endif
