/*
 * q_regime: the market regime guard's stored snapshots (DESIGN.md section 6). The detector
 * that computes them arrives with the market data work; this is the reading side shared by
 * the bot chat, the API and the risk gates. No snapshot, or a stale one, reads as UNKNOWN,
 * which LIVE trading treats as DANGEROUS (fail closed).
 */
#ifndef Q_REGIME_H
#define Q_REGIME_H

#include "q_db.h"
#include "q_err.h"

struct q_regime_snapshot {
	int found; /* 0: no snapshot stored yet */
	char symbol[33];
	char regime[12]; /* CALM, NORMAL, VOLATILE, DANGEROUS or UNKNOWN */
	char realized_vol[32];
	char drawdown[32];
	long long computed_at_us;
	int stale;
};

/* The newest snapshot for symbol; s->found = 0 and regime "UNKNOWN" when none. 0 or -1. */
int q_regime_latest(struct q_db *db, const char *symbol, struct q_regime_snapshot *s,
                    struct q_err *err);

#endif
