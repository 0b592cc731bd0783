/*
 * q_regime: the market regime guard (DESIGN.md section 6). A detector reads the reference
 * symbol's hourly closes (config [regime], default BTCUSDT on binance) and classifies the
 * market:
 *
 *   realized vol = sample standard deviation of the last vol_window_hours hourly log returns,
 *                  annualised (x sqrt(8760)): 1.0 = 100 %
 *   drawdown     = 1 - last close / highest close of the last dd_window_hours closes
 *   DANGEROUS    vol >= dangerous_vol (1.20) or drawdown >= dangerous_dd (0.30)
 *   VOLATILE     vol >= volatile_vol (0.80)  or drawdown >= volatile_dd (0.20)
 *   CALM         vol <  calm_vol (0.40)      and drawdown < calm_dd (0.10)
 *   NORMAL       anything else
 *   UNKNOWN      no candles, too few consecutive ones, or the newest closed more than two
 *                intervals (2 h) ago: stale
 *
 * Both figures are rounded to 10 decimal places (half away from zero) before they are
 * compared, stored (DECIMAL(20,10)) or shown, so a value is judged exactly as it reads: vol
 * "1.2" is DANGEROUS, "1.1999999999" is not. The thresholds are exact decimals from the config.
 *
 * The trader computes and stores a snapshot every tick (q_regime_update); the bot chat, the API
 * and the risk gates read the newest one (q_regime_latest). No snapshot, or a stale one, reads
 * as UNKNOWN, which LIVE trading treats as DANGEROUS (fail closed).
 */
#ifndef Q_REGIME_H
#define Q_REGIME_H

#include <stddef.h>

#include "q_config.h"
#include "q_db.h"
#include "q_decimal.h"
#include "q_err.h"
#include "q_strategy.h"

#define Q_REGIME_INTERVAL "1h"         /* the detector's candles */
#define Q_REGIME_INTERVAL_MS 3600000LL /* their length */
#define Q_REGIME_STALE_INTERVALS 2     /* older than this many intervals: UNKNOWN */
#define Q_REGIME_PERIODS_PER_YEAR 8760 /* hourly returns in a year, for annualising */
#define Q_REGIME_ACTOR "system:regime" /* who the audit chain says changed the regime */

enum q_regime {
	Q_REGIME_UNKNOWN = 0,
	Q_REGIME_CALM,
	Q_REGIME_NORMAL,
	Q_REGIME_VOLATILE,
	Q_REGIME_DANGEROUS,
};

/* "UNKNOWN", "CALM", "NORMAL", "VOLATILE", "DANGEROUS" (UNKNOWN for a value out of range). */
const char *q_regime_name(enum q_regime r);

/* The regime with that name (exact, upper case), or Q_REGIME_UNKNOWN for any other text. */
enum q_regime q_regime_from_name(const char *name);

/* The detector's settings: the [regime] section. */
struct q_regime_cfg {
	char exchange[16];    /* exchange = binance: where the reference candles come from */
	char symbol[33];      /* symbol = BTCUSDT */
	int vol_window_hours; /* vol_window_hours = 24: log returns in the volatility window */
	int dd_window_hours;  /* dd_window_hours = 720: closes in the drawdown window (30 days) */
	struct q_dec dangerous_vol, dangerous_dd; /* 1.20, 0.30 */
	struct q_dec volatile_vol, volatile_dd;   /* 0.80, 0.20 */
	struct q_dec calm_vol, calm_dd;           /* 0.40, 0.10 */
};

/* The defaults above. */
void q_regime_cfg_defaults(struct q_regime_cfg *cfg);

/*
 * Load cfg from the [regime] section of c (NULL: the defaults): symbol, exchange,
 * vol_window_hours (2 .. 8760), dd_window_hours (1 .. 8760) and the six thresholds, plain
 * decimals > 0 ("1.20"), drawdowns at most 1, with calm <= volatile <= dangerous for each
 * figure. Returns 0, or -1 with Q_E_CONFIG naming regime.<key>, the value and the rule (cfg
 * then holds the defaults).
 */
int q_regime_config(struct q_regime_cfg *cfg, const struct q_config *c, struct q_err *err);

/*
 * How many hourly candles the detector looks at: max(vol_window_hours + 1, dd_window_hours),
 * 720 by default. Ask q_candles_sync for this many.
 */
size_t q_regime_bars_needed(const struct q_regime_cfg *cfg);

/* What the detector makes of a candle series. */
struct q_regime_result {
	enum q_regime regime;
	int stale;                 /* no candles, or the newest closed > 2 intervals before now */
	int has_vol, has_dd;       /* enough consecutive candles for each figure */
	struct q_dec realized_vol; /* rounded to 10 places; 0 unless has_vol */
	struct q_dec drawdown;     /* rounded to 10 places; 0 unless has_dd */
	long long last_close_ms;   /* when the newest candle closed; 0 without candles */
	char reason[128];          /* why UNKNOWN, for logs and messages; "" otherwise */
};

/*
 * Classify bars (hourly candles of the reference symbol, oldest first, as q_candles_sync
 * returns them) at the instant now_ms. Only the newest run of consecutive candles (open times
 * one hour apart) counts. vol and drawdown are computed whenever the run is long enough, even
 * when the data is stale (the regime is UNKNOWN then). A close <= 0 or not finite in a window
 * makes that figure unavailable. Pure; never fails.
 */
void q_regime_compute(struct q_regime_result *out, const struct q_regime_cfg *cfg,
                      const struct q_bar *bars, size_t n, long long now_ms);

/* A stored snapshot, as readers see it. */
struct q_regime_snapshot {
	int found; /* 0: no snapshot stored yet */
	char symbol[33];
	char regime[12];       /* CALM, NORMAL, VOLATILE, DANGEROUS or UNKNOWN */
	char realized_vol[32]; /* canonical decimal ("0.4512"), "" when unknown */
	char drawdown[32];     /* canonical decimal ("0.05"), "" when unknown */
	long long computed_at_us;
	int stale; /* stored stale, or computed more than 2 intervals ago: regime reads UNKNOWN */
	/* Set by q_regime_update only. */
	char previous[12]; /* the regime of the snapshot before, "UNKNOWN" when there was none */
	int changed;       /* the regime differs from previous: "regime.changed" was audited */
	int stored;        /* a new row was written (see q_regime_update) */
};

/*
 * The newest snapshot for symbol, judged at now_ms (_latest: the current time): s->found = 0,
 * regime "UNKNOWN" and stale = 1 when there is none; a snapshot stored as stale or computed more
 * than Q_REGIME_STALE_INTERVALS intervals before now_ms reads stale = 1, regime "UNKNOWN" (its
 * figures are kept). Returns 0, or -1 with a q_db error.
 */
int q_regime_latest(struct q_db *db, const char *symbol, struct q_regime_snapshot *s,
                    struct q_err *err);
int q_regime_latest_at(struct q_db *db, const char *symbol, long long now_ms,
                       struct q_regime_snapshot *s, struct q_err *err);

/*
 * The trader's regime step: q_regime_compute(bars, n, now_ms), then, in one transaction,
 * store the result as a snapshot of cfg->symbol computed at now_ms and, when its regime differs
 * from the previous snapshot's (none counts as UNKNOWN), append "regime.changed" by
 * Q_REGIME_ACTOR to the audit chain with data {"symbol","from","to","realized_vol","drawdown"}
 * (the figures as decimal strings, null when unknown). Concurrent updates of one symbol (several
 * trader hosts) are serialised by a named database lock, so a change is audited once.
 *
 * To keep the table small, a result identical to the previous snapshot (regime, stale flag and
 * both figures) is not stored again until that snapshot is an interval (1 h) old: readers still
 * see a snapshot younger than the 2 h staleness limit as long as the trader runs.
 *
 * out (optional) gets the snapshot as q_regime_latest_at(now_ms) would then read it, plus
 * previous, changed and stored. Returns 0, or -1 with Q_E_DB_CONFLICT (the lock was held for
 * over 10 s), a q_db error or a q_audit_append_tx error; nothing is stored then.
 */
int q_regime_update(struct q_db *db, const struct q_regime_cfg *cfg, const struct q_bar *bars,
                    size_t n, long long now_ms, struct q_regime_snapshot *out, struct q_err *err);

#endif
