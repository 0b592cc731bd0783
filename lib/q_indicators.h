/*
 * q_indicators: the technical indicators the strategies and CUSTOM rule sets are built from.
 *
 * Two kinds. Folded indicators (EMA, Wilder's RSI and ATR) carry a value from candle to candle:
 * the caller keeps it (a strategy keeps it in its saved state) and folds each new candle in, so a
 * step costs O(1) however long the history. Windowed indicators (SMA, Donchian, return,
 * volatility) read the last few candles of the array they are given.
 *
 * A fold takes seen, the 1-based position of the candle being folded in the series the value
 * started from. Until the indicator has seen enough candles its slots hold running sums (the
 * seed is the simple average of the first values, as Wilder and most charting tools do); the
 * value is meaningful once q_indicators_*_need() candles were folded. Every function is pure
 * and deterministic: the same inputs give bit-identical outputs.
 */
#ifndef Q_INDICATORS_H
#define Q_INDICATORS_H

#include <stddef.h>

#include "q_strategy.h"

/* Milliseconds in a (365-day) year: crypto markets never close. */
#define Q_INDICATORS_YEAR_MS 31536000000.0

/*
 * EMA of period p (alpha = 2 / (p + 1)) over x values: fold the seen-th value x into *e (start
 * *e at 0). Meaningful once seen >= p: the seed is the SMA of the first p values.
 */
void q_indicators_ema_fold(double *e, size_t seen, size_t p, double x);

/*
 * Wilder's RSI of period p over closes: fold the seen-th close (prev is the close before it,
 * ignored at seen 1) into the average gain and loss (start both at 0). Meaningful once
 * seen >= p + 1 (p changes): the seed averages the first p changes, then each change is folded
 * as avg = (avg * (p - 1) + change) / p.
 */
void q_indicators_rsi_fold(double *avg_gain, double *avg_loss, size_t seen, size_t p, double prev,
                           double close);
/* RSI from the averages: 100 * gain / (gain + loss); 50 when the price did not move at all. */
double q_indicators_rsi_value(double avg_gain, double avg_loss);

/*
 * Wilder's ATR of period p: fold candle cur (prev is the candle before it, ignored at seen 1)
 * into *atr (start at 0). The true range needs the previous close, so the first candle only
 * anchors; meaningful once seen >= p + 1, seeded with the mean of the first p true ranges.
 */
void q_indicators_atr_fold(double *atr, size_t seen, size_t p, const struct q_bar *prev,
                           const struct q_bar *cur);

/* Candles each indicator needs before its value is meaningful. */
size_t q_indicators_ema_need(size_t p);
size_t q_indicators_rsi_need(size_t p);
size_t q_indicators_atr_need(size_t p);

/*
 * Windowed indicators on the newest candle bars[n - 1]; the caller guarantees the window fits
 * (n >= the stated minimum) and the prices are positive.
 *   sma           mean close of the last p candles                            (n >= p)
 *   highest       highest high of the p candles before the newest one         (n >= p + 1)
 *   lowest        lowest low of the p candles before the newest one           (n >= p + 1)
 *   ret           close / close p candles earlier - 1                         (n >= p + 1)
 *   volatility    annualised sample standard deviation of the last p log      (n >= p + 1,
 *                 returns; the candle length is read from the open times       p >= 2)
 */
double q_indicators_sma(const struct q_bar *bars, size_t n, size_t p);
double q_indicators_highest(const struct q_bar *bars, size_t n, size_t p);
double q_indicators_lowest(const struct q_bar *bars, size_t n, size_t p);
double q_indicators_ret(const struct q_bar *bars, size_t n, size_t p);
double q_indicators_volatility(const struct q_bar *bars, size_t n, size_t p);

#endif
