#include "q_decimal.h"

#include <stdint.h>
#include <string.h>

typedef unsigned __int128 u128;

#define ONE ((u128)1000000000000000000ULL) /* 10^18: the value 1 */
#define MANT_MAX ((u128)Q_DEC_MANT_MAX)

/* A 256-bit unsigned integer as two halves. */
struct u256 {
	u128 hi, lo;
};

static u128
mag(struct q_dec d)
{
	return d.m < 0 ? -(u128)d.m : (u128)d.m;
}

/* |value| <= MANT_MAX, so the negation cannot overflow. */
static struct q_dec
make(u128 m, int neg)
{
	struct q_dec d;

	d.m = neg ? -(__int128)m : (__int128)m;
	return d;
}

static struct u256
mul_128(u128 a, u128 b)
{
	u128 a0 = (uint64_t)a, a1 = a >> 64, b0 = (uint64_t)b, b1 = b >> 64;
	u128 p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
	u128 mid = (p00 >> 64) + (uint64_t)p01 + (uint64_t)p10;
	struct u256 r;

	r.lo = (u128)(uint64_t)p00 | mid << 64;
	r.hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
	return r;
}

/*
 * n / d by shift and subtract, d < 2^127 so the running remainder never needs a 129th bit.
 * Returns -1 when the quotient does not fit in 128 bits (n.hi >= d).
 */
static int
div_256(u128 *q, u128 *r, struct u256 n, u128 d)
{
	u128 rem = 0, quo = 0;

	if (n.hi >= d)
		return -1;
	rem = n.hi;
	for (int i = 127; i >= 0; i--) {
		rem = rem << 1 | ((n.lo >> i) & 1);
		quo <<= 1;
		if (rem >= d) {
			rem -= d;
			quo |= 1;
		}
	}
	*q = quo;
	*r = rem;
	return 0;
}

/*
 * Whether the truncated magnitude q (remainder r of a division by d, r < d) must go up by one
 * for mode; neg is the sign of the exact result. r >= d - r is 2r >= d without overflow.
 */
static int
round_away(u128 q, u128 r, u128 d, int neg, enum q_dec_round mode)
{
	if (r == 0)
		return 0;
	switch (mode) {
	case Q_DEC_DOWN:
		return 0;
	case Q_DEC_UP:
		return 1;
	case Q_DEC_FLOOR:
		return neg;
	case Q_DEC_CEIL:
		return !neg;
	case Q_DEC_HALF_UP:
		return r >= d - r;
	case Q_DEC_HALF_EVEN:
		return r > d - r || (r == d - r && (q & 1));
	}
	return 0;
}

static int
overflow(struct q_err *err)
{
	return q_err_set(err, Q_E_BAD_REQUEST, "decimal overflow");
}

static int
refuse(struct q_err *err, const char *s, size_t len, const char *why)
{
	int n = len > 40 ? 40 : (int)len;

	return q_err_set(err, Q_E_BAD_REQUEST, "invalid decimal \"%.*s%s\": %s", n, s,
	                 len > 40 ? "..." : "", why);
}

int
q_dec_parse(struct q_dec *out, const char *s, size_t len, struct q_err *err)
{
	size_t i = 0, intdig = 0, fracdig = 0;
	u128 m = 0;
	int neg = 0;

	if (len == 0 || len > Q_DEC_PARSE_MAX)
		return refuse(err, s, len, len ? "too long" : "empty");
	if (s[0] == '-') {
		neg = 1;
		i++;
	}
	if (i == len || s[i] < '0' || s[i] > '9')
		return refuse(err, s, len, "expected a digit");
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (intdig == 0 && s[i] == '0')
			continue; /* leading zero */
		if (++intdig > Q_DEC_INT_DIGITS)
			return refuse(err, s, len, "more than 20 integer digits");
		m = m * 10 + (u128)(s[i] - '0');
	}
	m *= ONE;
	if (i < len && s[i] == '.') {
		u128 place = ONE;

		if (++i == len)
			return refuse(err, s, len, "no digit after the point");
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, fracdig++) {
			if (fracdig < Q_DEC_SCALE) {
				place /= 10;
				m += place * (u128)(s[i] - '0');
			} else if (s[i] != '0') {
				return refuse(err, s, len, "more than 18 decimal places");
			}
		}
		if (fracdig == 0)
			return refuse(err, s, len, "no digit after the point");
	}
	if (i != len)
		return refuse(err, s, len, "not a plain decimal number");
	*out = make(m, neg);
	return 0;
}

int
q_dec_parse_str(struct q_dec *out, const char *s, struct q_err *err)
{
	return q_dec_parse(out, s, strlen(s), err);
}

struct q_dec
q_dec_from_int(long long v)
{
	/* Negated as unsigned, so |LLONG_MIN| = 2^63 is fine too. */
	u128 m = v < 0 ? -(u128)v : (u128)v;

	return make(m * ONE, v < 0);
}

/* Decimal digits of v (v < 10^20 here) into out, most significant first; returns the count. */
static int
put_int(char *out, u128 v)
{
	char tmp[40];
	int n = 0, k = 0;

	do {
		tmp[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v);
	while (n)
		out[k++] = tmp[--n];
	return k;
}

/* The 18 decimals of a magnitude as text, into out[18]. */
static void
put_frac(char out[Q_DEC_SCALE], u128 frac)
{
	for (int i = Q_DEC_SCALE - 1; i >= 0; i--) {
		out[i] = (char)('0' + (int)(frac % 10));
		frac /= 10;
	}
}

int
q_dec_format(char out[Q_DEC_STR_MAX], struct q_dec d)
{
	u128 m = mag(d), frac = m % ONE;
	int n = 0, places = Q_DEC_SCALE;

	if (d.m < 0)
		out[n++] = '-';
	n += put_int(out + n, m / ONE);
	if (frac) {
		out[n++] = '.';
		put_frac(out + n, frac);
		while (out[n + places - 1] == '0')
			places--;
		n += places;
	}
	out[n] = '\0';
	return n;
}

int
q_dec_format_fixed(char out[Q_DEC_STR_MAX], struct q_dec d, int decimals)
{
	u128 m = mag(d), frac = m % ONE;
	char digits[Q_DEC_SCALE];
	int n = 0;

	out[0] = '\0';
	if (decimals < 0 || decimals > Q_DEC_SCALE)
		return -1;
	put_frac(digits, frac);
	for (int i = decimals; i < Q_DEC_SCALE; i++)
		if (digits[i] != '0')
			return -1;
	if (d.m < 0)
		out[n++] = '-';
	n += put_int(out + n, m / ONE);
	if (decimals > 0) {
		out[n++] = '.';
		memcpy(out + n, digits, (size_t)decimals);
		n += decimals;
	}
	out[n] = '\0';
	return n;
}

int
q_dec_add(struct q_dec *out, struct q_dec a, struct q_dec b, struct q_err *err)
{
	__int128 r;

	/* Two in-range values can still sum past the 128-bit range (2 * 10^38 > 2^127). */
	if (__builtin_add_overflow(a.m, b.m, &r) || r > Q_DEC_MANT_MAX || r < -Q_DEC_MANT_MAX)
		return overflow(err);
	out->m = r;
	return 0;
}

int
q_dec_sub(struct q_dec *out, struct q_dec a, struct q_dec b, struct q_err *err)
{
	return q_dec_add(out, a, q_dec_neg(b), err);
}

int
q_dec_mul(struct q_dec *out, struct q_dec a, struct q_dec b, enum q_dec_round mode,
          struct q_err *err)
{
	int neg = (a.m < 0) != (b.m < 0);
	u128 q, r;

	if (div_256(&q, &r, mul_128(mag(a), mag(b)), ONE) < 0)
		return overflow(err);
	q += (u128)round_away(q, r, ONE, neg, mode);
	if (q > MANT_MAX)
		return overflow(err);
	*out = make(q, neg && q != 0);
	return 0;
}

int
q_dec_div(struct q_dec *out, struct q_dec a, struct q_dec b, enum q_dec_round mode,
          struct q_err *err)
{
	int neg = (a.m < 0) != (b.m < 0);
	u128 q, r, d = mag(b);

	if (d == 0)
		return q_err_set(err, Q_E_BAD_REQUEST, "division by zero");
	if (div_256(&q, &r, mul_128(mag(a), ONE), d) < 0)
		return overflow(err);
	q += (u128)round_away(q, r, d, neg, mode);
	if (q > MANT_MAX)
		return overflow(err);
	*out = make(q, neg && q != 0);
	return 0;
}

int
q_dec_cmp(struct q_dec a, struct q_dec b)
{
	return (a.m > b.m) - (a.m < b.m);
}

int
q_dec_is_zero(struct q_dec a)
{
	return a.m == 0;
}

int
q_dec_sign(struct q_dec a)
{
	return (a.m > 0) - (a.m < 0);
}

struct q_dec
q_dec_neg(struct q_dec a)
{
	a.m = -a.m;
	return a;
}

int
q_dec_quantize(struct q_dec *out, struct q_dec v, struct q_dec step, enum q_dec_round mode,
               struct q_err *err)
{
	u128 s = (u128)step.m, k, r;
	int neg = v.m < 0;

	if (step.m <= 0)
		return q_err_set(err, Q_E_BAD_REQUEST, "step must be positive");
	k = mag(v) / s;
	r = mag(v) % s;
	k += (u128)round_away(k, r, s, neg, mode);
	/* k * s <= MANT_MAX, asked without forming a product that could wrap. */
	if (k > MANT_MAX / s)
		return overflow(err);
	*out = make(k * s, neg && k != 0);
	return 0;
}

int
q_dec_is_multiple(struct q_dec v, struct q_dec step)
{
	return step.m > 0 && mag(v) % (u128)step.m == 0;
}

int
q_dec_decimals(struct q_dec d)
{
	u128 frac = mag(d) % ONE;
	int places = Q_DEC_SCALE;

	if (frac == 0)
		return 0;
	while (frac % 10 == 0) {
		frac /= 10;
		places--;
	}
	return places;
}

double
q_dec_to_double(struct q_dec d)
{
	u128 m = mag(d), ip = m / ONE, fp = m % ONE;
	double v = (double)ip + (double)fp / 1e18;

	return d.m < 0 ? -v : v;
}
