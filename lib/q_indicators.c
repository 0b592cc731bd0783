#include "q_indicators.h"

#include <math.h>

void
q_indicators_ema_fold(double *e, size_t seen, size_t p, double x)
{
	if (seen <= p) {
		*e += x;
		if (seen == p)
			*e /= (double)p;
		return;
	}
	*e += (x - *e) * (2.0 / ((double)p + 1.0));
}

void
q_indicators_rsi_fold(double *avg_gain, double *avg_loss, size_t seen, size_t p, double prev,
                      double close)
{
	double ch = close - prev, g = ch > 0 ? ch : 0, l = ch < 0 ? -ch : 0;
	size_t k = seen - 1; /* changes seen, this one included */

	if (seen < 2)
		return;
	if (k <= p) {
		*avg_gain += g;
		*avg_loss += l;
		if (k == p) {
			*avg_gain /= (double)p;
			*avg_loss /= (double)p;
		}
		return;
	}
	*avg_gain = (*avg_gain * (double)(p - 1) + g) / (double)p;
	*avg_loss = (*avg_loss * (double)(p - 1) + l) / (double)p;
}

double
q_indicators_rsi_value(double avg_gain, double avg_loss)
{
	double sum = avg_gain + avg_loss;

	return sum > 0 ? 100.0 * avg_gain / sum : 50.0;
}

void
q_indicators_atr_fold(double *atr, size_t seen, size_t p, const struct q_bar *prev,
                      const struct q_bar *cur)
{
	double tr, up, down;
	size_t k = seen - 1;

	if (seen < 2)
		return;
	tr = cur->high - cur->low;
	up = fabs(cur->high - prev->close);
	down = fabs(cur->low - prev->close);
	if (up > tr)
		tr = up;
	if (down > tr)
		tr = down;
	if (k <= p) {
		*atr += tr;
		if (k == p)
			*atr /= (double)p;
		return;
	}
	*atr = (*atr * (double)(p - 1) + tr) / (double)p;
}

size_t
q_indicators_ema_need(size_t p)
{
	return p;
}

size_t
q_indicators_rsi_need(size_t p)
{
	return p + 1;
}

size_t
q_indicators_atr_need(size_t p)
{
	return p + 1;
}

double
q_indicators_sma(const struct q_bar *bars, size_t n, size_t p)
{
	double sum = 0;

	for (size_t i = n - p; i < n; i++)
		sum += bars[i].close;
	return sum / (double)p;
}

double
q_indicators_highest(const struct q_bar *bars, size_t n, size_t p)
{
	double hi = bars[n - 1 - p].high;

	for (size_t i = n - p; i < n - 1; i++)
		if (bars[i].high > hi)
			hi = bars[i].high;
	return hi;
}

double
q_indicators_lowest(const struct q_bar *bars, size_t n, size_t p)
{
	double lo = bars[n - 1 - p].low;

	for (size_t i = n - p; i < n - 1; i++)
		if (bars[i].low < lo)
			lo = bars[i].low;
	return lo;
}

double
q_indicators_ret(const struct q_bar *bars, size_t n, size_t p)
{
	return bars[n - 1].close / bars[n - 1 - p].close - 1.0;
}

/* Welford's running mean and variance: one pass, no cancellation between two large sums. */
double
q_indicators_volatility(const struct q_bar *bars, size_t n, size_t p)
{
	double mean = 0, m2 = 0, interval;
	size_t k = 0;

	for (size_t i = n - p; i < n; i++) {
		double r = log(bars[i].close / bars[i - 1].close), d = r - mean;

		k++;
		mean += d / (double)k;
		m2 += d * (r - mean);
	}
	interval = (double)(bars[n - 1].open_ms - bars[n - 1 - p].open_ms) / (double)p;
	if (m2 <= 0 || interval <= 0)
		return 0;
	return sqrt(m2 / (double)(p - 1)) * sqrt(Q_INDICATORS_YEAR_MS / interval);
}
