/*
 * libFuzzer target for the CUSTOM rule-set compiler: hostile bytes, parsed as JSON the way a
 * request body is, handed to q_strategy_config_init() as a bot's params. Built apart from the
 * Makefile:
 *   clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Ilib \
 *     tests/fuzz/fuzz_custom.c lib/q_strategy.c lib/strategy/[a-z]*.c lib/q_indicators.c \
 *     lib/q_err.c lib/q_mem.c $(pkg-config --cflags --libs jansson) -lm -o build/fuzz_custom
 * Bytes that are not JSON are skipped. Besides memory errors and leaks it checks the contract:
 * a refusal is Q_E_BAD_REQUEST naming a field and leaves nothing compiled; a rule set that
 * compiles steps over a fixed candle series with targets in [0, 1] only, one step over the whole
 * series gives the same state and target as stepping it candle by candle, and stepping the same
 * candle again gives the stored target back. q_strategy_config_release() frees everything.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "q_strategy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NBARS 80
#define HOUR_MS 3600000LL

static struct q_bar bars[NBARS];

/* Hourly candles that rise, swing and fall, so rules can both enter and exit. */
static void
make_bars(void)
{
	double prev = 100;

	for (int i = 0; i < NBARS; i++) {
		struct q_bar *b = &bars[i];
		double close = 100 + (i < 40 ? i : 80 - i) + (double)((i * 7) % 11) - 5;

		b->open_ms = 1700000000000LL + i * HOUR_MS;
		b->open = prev;
		b->close = close;
		b->high = (close > prev ? close : prev) + 1.5;
		b->low = (close < prev ? close : prev) - 1.5;
		b->volume = 10 + i % 5;
		prev = close;
	}
}

static void
check_target(double t)
{
	if (!(t >= 0 && t <= 1))
		abort();
}

/* One step over the whole series, then candle by candle from a fresh state: they must agree. */
static void
run(const struct q_strategy_config *cfg)
{
	json_t *whole = json_object(), *inc = json_object();
	struct q_err err = {0};
	double tw, ti = 0, again;

	if (cfg->s->step(cfg, bars, NBARS, whole, &tw, &err) < 0)
		abort(); /* the candles are good: a compiled rule set has no reason to refuse */
	check_target(tw);
	for (size_t n = 1; n <= NBARS; n++) {
		if (cfg->s->step(cfg, bars, n, inc, &ti, &err) < 0)
			abort();
		check_target(ti);
	}
	if (ti != tw || !json_equal(whole, inc))
		abort();
	if (cfg->s->step(cfg, bars, NBARS, inc, &again, &err) < 0 || again != tw)
		abort();
	json_decref(whole);
	json_decref(inc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct q_strategy_config cfg;
	struct q_err err = {0};
	json_t *params, *normalized = NULL;
	int rc;

	if (!ready) {
		make_bars();
		ready = 1;
	}
	params = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	                    NULL);
	if (params == NULL)
		return 0;
	rc = q_strategy_config_init(&cfg, &q_strategy_custom, params, &normalized, &err);
	if (rc < 0) {
		if (err.code != Q_E_BAD_REQUEST || err.field[0] == '\0' || cfg.compiled != NULL ||
		    normalized != NULL)
			abort();
	} else {
		if (err.code != Q_OK || cfg.compiled == NULL || !json_equal(normalized, params))
			abort();
		run(&cfg);
	}
	q_strategy_config_release(&cfg);
	if (cfg.compiled != NULL)
		abort();
	json_decref(normalized);
	json_decref(params);
	return 0;
}
