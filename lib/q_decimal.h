/*
 * q_decimal: exact decimal numbers for prices, quantities and money (DESIGN.md section 5: orders
 * are formatted from the venue's tick and lot sizes, never from a %f).
 *
 * A struct q_dec is a signed 128-bit integer counting units of 10^-18: every value has exactly
 * Q_DEC_SCALE decimal places, so addition, subtraction and comparison are exact and an amount
 * never passes through a double. Limits: at most Q_DEC_INT_DIGITS digits before the point and
 * Q_DEC_SCALE after it, i.e. |value| <= 99999999999999999999.999999999999999999 (the mantissa
 * never exceeds Q_DEC_MANT_MAX = 10^38 - 1 in magnitude). Every operation whose exact result lies
 * outside that range fails cleanly instead of wrapping; multiplication and division round their
 * result to 18 places with the mode the caller chooses.
 *
 * Functions that can fail return 0, or -1 with err set (err may be NULL) and *out unchanged;
 * messages may quote the input (decimals are never secret).
 */
#ifndef Q_DECIMAL_H
#define Q_DECIMAL_H

#include <stddef.h>

#include "q_err.h"

#define Q_DEC_SCALE 18      /* decimal places carried by every value */
#define Q_DEC_INT_DIGITS 20 /* digits before the point, at most */
#define Q_DEC_STR_MAX 48    /* room for any formatted value: sign, 20 + 1 + 18 digits, NUL */
#define Q_DEC_PARSE_MAX 64  /* longest text q_dec_parse() reads */

struct q_dec {
	__int128 m; /* value * 10^18; |m| <= Q_DEC_MANT_MAX. Zero-initialised means 0. */
};

#define Q_DEC_MANT_MAX ((__int128)10000000000000000000ULL * (__int128)10000000000000000000ULL - 1)

enum q_dec_round {
	Q_DEC_DOWN,      /* toward zero (truncate): the lot-size floor of a positive quantity */
	Q_DEC_UP,        /* away from zero */
	Q_DEC_FLOOR,     /* toward minus infinity */
	Q_DEC_CEIL,      /* toward plus infinity */
	Q_DEC_HALF_UP,   /* to the nearest, a tie away from zero */
	Q_DEC_HALF_EVEN, /* to the nearest, a tie to the even neighbour */
};

/*
 * Parse len bytes at s (no terminator needed) as a plain decimal: an optional '-', one or more
 * digits, and optionally '.' followed by one or more digits. "12", "-1.5", "0.00000100" and
 * "007.50" are accepted; "-0" reads as 0. Refused with Q_E_BAD_REQUEST: an empty or longer than
 * Q_DEC_PARSE_MAX text, a '+', an exponent ("1e5"), a leading or trailing '.' (".5", "5."),
 * whitespace, any other byte (NUL included), more than Q_DEC_INT_DIGITS significant integer
 * digits, or a non-zero digit after the 18th decimal place (trailing zeros beyond it are exact
 * and accepted).
 */
int q_dec_parse(struct q_dec *out, const char *s, size_t len, struct q_err *err);

/* q_dec_parse() of a NUL-terminated string. */
int q_dec_parse_str(struct q_dec *out, const char *s, struct q_err *err);

/* The integer v. Every long long fits. */
struct q_dec q_dec_from_int(long long v);

/*
 * The canonical text of d into out: '-' for a negative value, the integer digits without
 * leading zeros ("0" when none), and the decimals without trailing zeros (no '.' for an
 * integer): "0", "-1.5", "0.000001", "120". It parses back to d. Returns its length.
 */
int q_dec_format(char out[Q_DEC_STR_MAX], struct q_dec d);

/*
 * d with exactly decimals places (0 to 18) into out: q_dec_format_fixed(.., 101.25, 8) is
 * "101.25000000", with 0 "101" only when d is an integer. Returns the length, or -1 with out = ""
 * when decimals is outside 0..18 or d has a non-zero digit beyond that place (quantize first:
 * this never rounds).
 */
int q_dec_format_fixed(char out[Q_DEC_STR_MAX], struct q_dec d, int decimals);

/* a + b and a - b, exact. -1 with Q_E_BAD_REQUEST "decimal overflow" outside the range. */
int q_dec_add(struct q_dec *out, struct q_dec a, struct q_dec b, struct q_err *err);
int q_dec_sub(struct q_dec *out, struct q_dec a, struct q_dec b, struct q_err *err);

/*
 * a * b rounded to 18 places with mode (exact whenever the two operands have 18 decimal places
 * between them, e.g. a quantity with 8 and a price with 8). The full 256-bit product is formed
 * first, so nothing is lost before the rounding. -1 with Q_E_BAD_REQUEST "decimal overflow"
 * when the rounded result is out of range.
 */
int q_dec_mul(struct q_dec *out, struct q_dec a, struct q_dec b, enum q_dec_round mode,
              struct q_err *err);

/*
 * a / b rounded to 18 places with mode. -1 with Q_E_BAD_REQUEST on a zero divisor ("division by
 * zero") or an out-of-range result ("decimal overflow").
 */
int q_dec_div(struct q_dec *out, struct q_dec a, struct q_dec b, enum q_dec_round mode,
              struct q_err *err);

/* -1, 0 or 1 as a <, ==, > b. */
int q_dec_cmp(struct q_dec a, struct q_dec b);
int q_dec_is_zero(struct q_dec a);
/* -1, 0 or 1: the sign of a. */
int q_dec_sign(struct q_dec a);
/* -a (the range is symmetric, so this never fails). */
struct q_dec q_dec_neg(struct q_dec a);

/*
 * v rounded to a whole multiple of step (step > 0) with mode: the tick size for a price, the lot
 * size for a quantity. Q_DEC_DOWN floors a quantity: 0.123456 with step 0.001 is 0.123, price
 * 101.27 with tick 0.05 is 101.25; a value already on a step is unchanged. Negative values round
 * by the same rule (Q_DEC_DOWN toward zero, Q_DEC_FLOOR toward minus infinity). -1 with
 * Q_E_BAD_REQUEST when step <= 0 or the result is out of range.
 */
int q_dec_quantize(struct q_dec *out, struct q_dec v, struct q_dec step, enum q_dec_round mode,
                   struct q_err *err);

/* 1 when v is a whole multiple of step (step > 0), else 0 (also for step <= 0). */
int q_dec_is_multiple(struct q_dec v, struct q_dec step);

/*
 * Decimal places of d's canonical form, 0 to 18: the places a step implies. "0.00100000" is 3,
 * "0.05" is 2, "1" and "10" are 0.
 */
int q_dec_decimals(struct q_dec d);

/*
 * The nearest double, for analytics only (indicators, volatility): never format an order or
 * compare money through it.
 */
double q_dec_to_double(struct q_dec d);

#endif
