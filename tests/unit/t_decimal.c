#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "q_decimal.h"
#include "q_err.h"

#define MAX_TEXT "99999999999999999999.999999999999999999"
#define TINY_TEXT "0.000000000000000001"

/* Parse s, which the test expects to be valid. */
static struct q_dec
D(const char *s) {
	struct q_err err = {0};
	struct q_dec d = {0};

	cr_assert_eq(q_dec_parse_str(&d, s, &err), 0, "parse \"%s\": %s", s, err.msg);
	return d;
}

/* Canonical text of d, in one of a few rotating buffers so several fit in one assertion. */
static const char *
S(struct q_dec d)
{
	static char buf[4][Q_DEC_STR_MAX];
	static int i;
	char *out = buf[i++ % 4];

	q_dec_format(out, d);
	return out;
}

static void
expect_dec(struct q_dec got, const char *want, const char *what)
{
	cr_expect_str_eq(S(got), want, "%s", what);
}

TestSuite(parse);
TestSuite(format);
TestSuite(arith);
TestSuite(quantize);

Test(parse, accepts_plain_decimals_and_canonicalises)
{
	static const struct {
		const char *in, *canon;
	} ok[] = {
	        {"0.00000100", "0.000001"},
	        {"-1.5", "-1.5"},
	        {"12", "12"},
	        {"0", "0"},
	        {"-0", "0"},
	        {"-0.000", "0"},
	        {"007.50", "7.5"},
	        {"10", "10"},
	        {"101.27", "101.27"},
	        {TINY_TEXT, TINY_TEXT},
	        {"-" TINY_TEXT, "-" TINY_TEXT},
	        {"1.000000000000000000000000", "1"}, /* zeros past the 18th place are exact */
	        {"0.1000000000000000000", "0.1"},
	        {MAX_TEXT, MAX_TEXT},
	        {"-" MAX_TEXT, "-" MAX_TEXT},
	        {"00000000000000000000000000000000000000000000000000000000000001", "1"},
	        {"10.0000000000000000", "10"}, /* Bitget's 16-place amounts */
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect_dec(D(ok[i].in), ok[i].canon, ok[i].in);
}

Test(parse, refuses_garbage_exponents_and_too_many_digits)
{
	static const char *const bad[] = {
	        "",
	        "-",
	        "+1",
	        "1e5",
	        "1E5",
	        "1.5e-3",
	        ".5",
	        "5.",
	        "-.5",
	        " 1",
	        "1 ",
	        "1,5",
	        "0x10",
	        "1.2.3",
	        "--1",
	        "1-",
	        "NaN",
	        "inf",
	        "\xef\xbc\x91",           /* fullwidth digit one */
	        "100000000000000000000",  /* 21 integer digits */
	        "-100000000000000000000", /* and negative */
	        "0.0000000000000000001",  /* a 19th decimal place */
	        "1.0000000000000000005",
	        /* 65 characters: longer than Q_DEC_PARSE_MAX even though all zeros */
	        "00000000000000000000000000000000000000000000000000000000000000001",
	};
	struct q_dec keep = {.m = 42};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct q_err err = {0};
		struct q_dec d = keep;

		cr_expect_eq(q_dec_parse_str(&d, bad[i], &err), -1, "accepted \"%s\"", bad[i]);
		cr_expect_eq(err.code, Q_E_BAD_REQUEST, "\"%s\"", bad[i]);
		cr_expect_eq(d.m, keep.m, "output changed by \"%s\"", bad[i]);
	}
}

Test(parse, length_is_honoured_and_nul_refused)
{
	struct q_err err = {0};
	struct q_dec d;

	cr_assert_eq(q_dec_parse(&d, "12.5xyz", 4, &err), 0, "only len bytes are read");
	expect_dec(d, "12.5", "prefix");
	cr_expect_eq(q_dec_parse(&d, "1\0002", 3, &err), -1, "embedded NUL");
	cr_expect_eq(q_dec_parse(&d, "1", 0, NULL), -1, "empty, NULL err");
}

Test(format, round_trip_parse_format_and_fixed)
{
	static const char *const vals[] = {"0",    "1",   "-1",       "0.5",  "123.456", TINY_TEXT,
	                                   "0.05", "120", "-0.00001", "9.99", MAX_TEXT};
	unsigned long long x = 88172645463325252ULL;

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		struct q_dec a, b;
		char fixed[Q_DEC_STR_MAX];

		a = D(vals[i]);
		b = D(S(a));
		cr_expect_eq(q_dec_cmp(a, b), 0, "round trip of %s", S(a));
		cr_assert_gt(q_dec_format_fixed(fixed, a, q_dec_decimals(a)), 0);
		cr_expect_str_eq(fixed, S(a), "fixed with its own decimals is canonical");
	}
	/* Pseudo-random mantissas across the whole range (xorshift, fixed seed). */
	for (int i = 0; i < 20000; i++) {
		struct q_dec a, b;
		unsigned __int128 m;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		m = ((unsigned __int128)x << 64 | (x * 2654435761u)) %
		    (unsigned __int128)Q_DEC_MANT_MAX;
		m >>= (x % 120); /* small values too */
		a.m = (x & 1) ? -(__int128)m : (__int128)m;
		b = D(S(a));
		cr_assert_eq(q_dec_cmp(a, b), 0, "round trip of %s", S(a));
	}
}

Test(format, fixed_decimals)
{
	char out[Q_DEC_STR_MAX];

	cr_expect_eq(q_dec_format_fixed(out, D("101.25"), 8), 12);
	cr_expect_str_eq(out, "101.25000000");
	cr_expect_eq(q_dec_format_fixed(out, D("101.25"), 2), 6);
	cr_expect_str_eq(out, "101.25");
	cr_expect_eq(q_dec_format_fixed(out, D("-0.5"), 3), 6);
	cr_expect_str_eq(out, "-0.500");
	cr_expect_eq(q_dec_format_fixed(out, D("120"), 0), 3);
	cr_expect_str_eq(out, "120");
	cr_expect_eq(q_dec_format_fixed(out, D("0"), 18), 20);
	cr_expect_str_eq(out, "0.000000000000000000");
	/* Never rounds: a digit beyond the places asked for is refused. */
	cr_expect_eq(q_dec_format_fixed(out, D("101.25"), 1), -1);
	cr_expect_str_eq(out, "");
	cr_expect_eq(q_dec_format_fixed(out, D("0.000000000000000001"), 17), -1);
	cr_expect_eq(q_dec_format_fixed(out, D("1"), 19), -1);
	cr_expect_eq(q_dec_format_fixed(out, D("1"), -1), -1);
}

Test(format, extremes_and_integers)
{
	char out[Q_DEC_STR_MAX];
	struct q_dec max = D(MAX_TEXT);

	cr_expect_eq(q_dec_format(out, max), 39);
	cr_expect_str_eq(out, MAX_TEXT);
	cr_expect_eq(q_dec_format(out, q_dec_neg(max)), 40);
	cr_expect_eq(max.m, Q_DEC_MANT_MAX);
	expect_dec(q_dec_from_int(LLONG_MIN), "-9223372036854775808", "LLONG_MIN");
	expect_dec(q_dec_from_int(LLONG_MAX), "9223372036854775807", "LLONG_MAX");
	expect_dec(q_dec_from_int(0), "0", "zero");
	expect_dec(q_dec_from_int(-7), "-7", "-7");
	cr_expect_eq(q_dec_decimals(D("0.00100000")), 3);
	cr_expect_eq(q_dec_decimals(D("0.05")), 2);
	cr_expect_eq(q_dec_decimals(D("1")), 0);
	cr_expect_eq(q_dec_decimals(D("10")), 0);
	cr_expect_eq(q_dec_decimals(D("0.00000001")), 8);
	cr_expect_eq(q_dec_decimals(D(TINY_TEXT)), 18);
	cr_expect_eq(q_dec_decimals(D("-0.5")), 1);
	cr_expect_eq(q_dec_decimals(D("0")), 0);
}

Test(arith, add_sub_exact_and_overflow_refused)
{
	struct q_dec r = {0}, max = D(MAX_TEXT), tiny = D(TINY_TEXT);
	struct q_err err = {0};

	cr_assert_eq(q_dec_add(&r, D("0.1"), D("0.2"), NULL), 0);
	expect_dec(r, "0.3", "0.1 + 0.2 is exactly 0.3");
	cr_assert_eq(q_dec_sub(&r, D("1"), D("0.000000000000000001"), NULL), 0);
	expect_dec(r, "0.999999999999999999", "1 - 1e-18");
	cr_assert_eq(q_dec_sub(&r, D("-5"), D("-7.25"), NULL), 0);
	expect_dec(r, "2.25", "-5 - -7.25");
	cr_assert_eq(q_dec_add(&r, max, q_dec_neg(max), NULL), 0);
	expect_dec(r, "0", "max - max");
	cr_assert_eq(q_dec_sub(&r, max, tiny, NULL), 0);
	cr_assert_eq(q_dec_add(&r, r, tiny, NULL), 0);
	expect_dec(r, MAX_TEXT, "max - tiny + tiny");

	r = D("3");
	cr_expect_eq(q_dec_add(&r, max, tiny, &err), -1, "max + 1e-18");
	cr_expect_eq(err.code, Q_E_BAD_REQUEST);
	cr_expect(strstr(err.msg, "overflow") != NULL, "%s", err.msg);
	expect_dec(r, "3", "output unchanged on overflow");
	cr_expect_eq(q_dec_sub(&r, q_dec_neg(max), tiny, NULL), -1, "-max - 1e-18");
	/* max + max passes the 128-bit range itself: still a clean refusal. */
	cr_expect_eq(q_dec_add(&r, max, max, NULL), -1, "max + max");
	cr_expect_eq(q_dec_sub(&r, q_dec_neg(max), max, NULL), -1, "-max - max");
}

Test(arith, mul_exact_rounding_modes_and_overflow)
{
	struct q_dec r = {0}, max = D(MAX_TEXT), half = D("0.5"), tiny = D(TINY_TEXT);
	static const struct {
		enum q_dec_round mode;
		const char *pos, *neg, *three; /* 1e-18 * 0.5, -1e-18 * 0.5, 3e-18 * 0.5 */
	} modes[] = {
	        {Q_DEC_DOWN, "0", "0", "0.000000000000000001"},
	        {Q_DEC_UP, TINY_TEXT, "-" TINY_TEXT, "0.000000000000000002"},
	        {Q_DEC_FLOOR, "0", "-" TINY_TEXT, "0.000000000000000001"},
	        {Q_DEC_CEIL, TINY_TEXT, "0", "0.000000000000000002"},
	        {Q_DEC_HALF_UP, TINY_TEXT, "-" TINY_TEXT, "0.000000000000000002"},
	        {Q_DEC_HALF_EVEN, "0", "0", "0.000000000000000002"},
	};

	cr_assert_eq(q_dec_mul(&r, D("0.1"), D("0.2"), Q_DEC_DOWN, NULL), 0);
	expect_dec(r, "0.02", "0.1 * 0.2");
	cr_assert_eq(q_dec_mul(&r, D("0.00012345"), D("64123.45678901"), Q_DEC_DOWN, NULL), 0);
	expect_dec(r, "7.9160407406032845", "8 + 8 places are exact");
	cr_assert_eq(q_dec_mul(&r, D("-3"), D("2.5"), Q_DEC_DOWN, NULL), 0);
	expect_dec(r, "-7.5", "sign");
	cr_assert_eq(q_dec_mul(&r, max, D("1"), Q_DEC_DOWN, NULL), 0);
	expect_dec(r, MAX_TEXT, "max * 1");
	cr_assert_eq(q_dec_mul(&r, D("9999999999.9999999999"), D("10000000000"), Q_DEC_DOWN, NULL),
	             0);
	expect_dec(r, "99999999999999999999", "just inside the range");
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		cr_assert_eq(q_dec_mul(&r, tiny, half, modes[i].mode, NULL), 0);
		expect_dec(r, modes[i].pos, "1e-18 * 0.5");
		cr_assert_eq(q_dec_mul(&r, q_dec_neg(tiny), half, modes[i].mode, NULL), 0);
		expect_dec(r, modes[i].neg, "-1e-18 * 0.5");
		cr_assert_eq(q_dec_mul(&r, D("0.000000000000000003"), half, modes[i].mode, NULL),
		             0);
		expect_dec(r, modes[i].three, "3e-18 * 0.5");
	}

	r = D("3");
	cr_expect_eq(q_dec_mul(&r, D("10000000000"), D("10000000000"), Q_DEC_DOWN, NULL), -1,
	             "1e20 is out of range");
	cr_expect_eq(q_dec_mul(&r, max, D("1.000000000000000001"), Q_DEC_DOWN, NULL), -1);
	cr_expect_eq(q_dec_mul(&r, max, max, Q_DEC_DOWN, NULL), -1, "256-bit product");
	cr_expect_eq(q_dec_mul(&r, q_dec_neg(max), max, Q_DEC_DOWN, NULL), -1);
	/* 8.5 * b is 99999999999999999999.9999999999999999995: down fits, up passes the maximum. */
	cr_expect_eq(q_dec_mul(&r, D("8.5"), D("11764705882352941176.470588235294117647"),
	                       Q_DEC_DOWN, NULL),
	             0);
	expect_dec(r, MAX_TEXT, "rounded down to the maximum");
	r = D("3");
	cr_expect_eq(q_dec_mul(&r, D("8.5"), D("11764705882352941176.470588235294117647"), Q_DEC_UP,
	                       NULL),
	             -1, "rounding up past the maximum");
	cr_expect_eq(q_dec_mul(&r, D("8.5"), D("11764705882352941176.470588235294117647"),
	                       Q_DEC_HALF_EVEN, NULL),
	             -1, "a tie next to an odd maximum rounds up, past it");
	expect_dec(r, "3", "unchanged after refusals");
}

Test(arith, div_rounding_and_refusals)
{
	struct q_dec r = {0};
	struct q_err err = {0};

	cr_assert_eq(q_dec_div(&r, D("1"), D("3"), Q_DEC_DOWN, NULL), 0);
	expect_dec(r, "0.333333333333333333", "1/3 down");
	cr_assert_eq(q_dec_div(&r, D("1"), D("3"), Q_DEC_UP, NULL), 0);
	expect_dec(r, "0.333333333333333334", "1/3 up");
	cr_assert_eq(q_dec_div(&r, D("2"), D("3"), Q_DEC_HALF_UP, NULL), 0);
	expect_dec(r, "0.666666666666666667", "2/3 half up");
	cr_assert_eq(q_dec_div(&r, D("-1"), D("3"), Q_DEC_FLOOR, NULL), 0);
	expect_dec(r, "-0.333333333333333334", "-1/3 floor");
	cr_assert_eq(q_dec_div(&r, D("-1"), D("3"), Q_DEC_CEIL, NULL), 0);
	expect_dec(r, "-0.333333333333333333", "-1/3 ceil");
	cr_assert_eq(q_dec_div(&r, D("1"), D("8"), Q_DEC_DOWN, NULL), 0);
	expect_dec(r, "0.125", "exact");
	cr_assert_eq(q_dec_div(&r, D("1"), D(TINY_TEXT), Q_DEC_DOWN, NULL), 0);
	expect_dec(r, "1000000000000000000", "1 / 1e-18");
	cr_assert_eq(q_dec_div(&r, D("9.1"), D("0.0007"), Q_DEC_HALF_EVEN, NULL), 0);
	expect_dec(r, "13000", "Bitget's quoteVolume / baseVolume");
	cr_assert_eq(q_dec_div(&r, D("0.000000000000000001"), D("2"), Q_DEC_HALF_EVEN, NULL), 0);
	expect_dec(r, "0", "tie to even (0)");
	cr_assert_eq(q_dec_div(&r, D("0.000000000000000003"), D("2"), Q_DEC_HALF_EVEN, NULL), 0);
	expect_dec(r, "0.000000000000000002", "tie to even (2)");

	r = D("3");
	cr_expect_eq(q_dec_div(&r, D("1"), D("0"), Q_DEC_DOWN, &err), -1);
	cr_expect(strstr(err.msg, "zero") != NULL, "%s", err.msg);
	cr_expect_eq(q_dec_div(&r, D(MAX_TEXT), D("0.1"), Q_DEC_DOWN, NULL), -1, "overflow");
	cr_expect_eq(q_dec_div(&r, D("100"), D(TINY_TEXT), Q_DEC_DOWN, NULL), -1, "1e20");
	expect_dec(r, "3", "unchanged after refusals");
}

Test(arith, compare_sign_zero_multiple_double)
{
	cr_expect_eq(q_dec_cmp(D("1.5"), D("1.50")), 0);
	cr_expect_eq(q_dec_cmp(D("1.5"), D("1.500000000000000001")), -1);
	cr_expect_eq(q_dec_cmp(D("-1"), D("-2")), 1);
	cr_expect_eq(q_dec_cmp(D(MAX_TEXT), q_dec_neg(D(MAX_TEXT))), 1);
	cr_expect_eq(q_dec_sign(D("-0.1")), -1);
	cr_expect_eq(q_dec_sign(D("0")), 0);
	cr_expect_eq(q_dec_sign(D(TINY_TEXT)), 1);
	cr_expect(q_dec_is_zero(D("-0")));
	cr_expect(!q_dec_is_zero(D(TINY_TEXT)));
	cr_expect(q_dec_is_multiple(D("101.25"), D("0.05")));
	cr_expect(!q_dec_is_multiple(D("101.27"), D("0.05")));
	cr_expect(q_dec_is_multiple(D("-30"), D("10")));
	cr_expect(q_dec_is_multiple(D("0"), D("0.001")));
	cr_expect(!q_dec_is_multiple(D("1"), D("0")), "zero step");
	cr_expect(!q_dec_is_multiple(D("1"), D("-1")), "negative step");
	cr_expect_float_eq(q_dec_to_double(D("-101.25")), -101.25, 1e-12);
	cr_expect_float_eq(q_dec_to_double(D("0.000001")), 1e-6, 1e-18);
}

/* (value, step) -> DOWN, UP, FLOOR, CEIL, HALF_UP */
static const struct {
	const char *v, *step, *down, *up, *floor, *ceil, *half;
} qcases[] = {
        /* the examples */
        {"0.123456", "0.001", "0.123", "0.124", "0.123", "0.124", "0.123"},
        {"101.27", "0.05", "101.25", "101.3", "101.25", "101.3", "101.25"},
        /* step 1 */
        {"7", "1", "7", "7", "7", "7", "7"},
        {"6.999999999999999999", "1", "6", "7", "6", "7", "7"},
        {"7.000000000000000001", "1", "7", "8", "7", "8", "7"},
        {"0.5", "1", "0", "1", "0", "1", "1"},
        /* step 0.1 */
        {"2.3", "0.1", "2.3", "2.3", "2.3", "2.3", "2.3"},
        {"2.299999999999999999", "0.1", "2.2", "2.3", "2.2", "2.3", "2.3"},
        {"2.25", "0.1", "2.2", "2.3", "2.2", "2.3", "2.3"},
        /* step 0.00000001 (one satoshi) */
        {"0.00012345", "0.00000001", "0.00012345", "0.00012345", "0.00012345", "0.00012345",
         "0.00012345"},
        {"0.000123449999999999", "0.00000001", "0.00012344", "0.00012345", "0.00012344",
         "0.00012345", "0.00012345"},
        {"0.000000009", "0.00000001", "0", "0.00000001", "0", "0.00000001", "0.00000001"},
        /* step 10 */
        {"120", "10", "120", "120", "120", "120", "120"},
        {"119.999999999999999999", "10", "110", "120", "110", "120", "120"},
        {"9.99", "10", "0", "10", "0", "10", "10"},
        {"15", "10", "10", "20", "10", "20", "20"},
        /* negative and zero */
        {"-0.123456", "0.001", "-0.123", "-0.124", "-0.124", "-0.123", "-0.123"},
        {"-15", "10", "-10", "-20", "-20", "-10", "-20"},
        {"0", "0.001", "0", "0", "0", "0", "0"},
        /* the smallest step and the extremes */
        {MAX_TEXT, TINY_TEXT, MAX_TEXT, MAX_TEXT, MAX_TEXT, MAX_TEXT, MAX_TEXT},
        {MAX_TEXT, "1", "99999999999999999999", NULL, "99999999999999999999", NULL, NULL},
        {"-" MAX_TEXT, "1", "-99999999999999999999", NULL, NULL, "-99999999999999999999", NULL},
};

Test(quantize, steps_at_the_edges_in_every_mode)
{
	static const enum q_dec_round mode[] = {Q_DEC_DOWN, Q_DEC_UP, Q_DEC_FLOOR, Q_DEC_CEIL,
	                                        Q_DEC_HALF_UP};

	for (size_t i = 0; i < sizeof(qcases) / sizeof(qcases[0]); i++) {
		const char *want[] = {qcases[i].down, qcases[i].up, qcases[i].floor, qcases[i].ceil,
		                      qcases[i].half};

		for (size_t m = 0; m < 5; m++) {
			struct q_dec r = {.m = 77};
			struct q_err err = {0};
			int rc = q_dec_quantize(&r, D(qcases[i].v), D(qcases[i].step), mode[m],
			                        &err);

			if (want[m] == NULL) {
				cr_expect_eq(rc, -1, "%s step %s mode %zu: expected overflow",
				             qcases[i].v, qcases[i].step, m);
				cr_expect_eq(r.m, 77, "output unchanged");
				continue;
			}
			cr_assert_eq(rc, 0, "%s step %s mode %zu: %s", qcases[i].v, qcases[i].step,
			             m, err.msg);
			cr_expect_str_eq(S(r), want[m], "%s step %s mode %zu", qcases[i].v,
			                 qcases[i].step, m);
			cr_expect(q_dec_is_multiple(r, D(qcases[i].step)), "result on the step");
		}
	}
}

Test(quantize, half_even_and_bad_steps)
{
	struct q_dec r = {0};
	struct q_err err = {0};

	cr_assert_eq(q_dec_quantize(&r, D("0.25"), D("0.1"), Q_DEC_HALF_EVEN, NULL), 0);
	expect_dec(r, "0.2", "tie to even");
	cr_assert_eq(q_dec_quantize(&r, D("0.35"), D("0.1"), Q_DEC_HALF_EVEN, NULL), 0);
	expect_dec(r, "0.4", "tie to even");
	cr_expect_eq(q_dec_quantize(&r, D("1"), D("0"), Q_DEC_DOWN, &err), -1);
	cr_expect_eq(err.code, Q_E_BAD_REQUEST);
	cr_expect_eq(q_dec_quantize(&r, D("1"), D("-0.1"), Q_DEC_DOWN, NULL), -1);
}

/* qty * price >= min_notional exactly at the boundary, with the lot applied first. */
Test(quantize, min_notional_boundary_is_exact)
{
	struct q_dec lot = D("0.00001"), price = D("10000"), min = D("10"), qty, notional;

	cr_assert_eq(q_dec_quantize(&qty, D("0.0010004"), lot, Q_DEC_DOWN, NULL), 0);
	expect_dec(qty, "0.001", "floored to the lot");
	cr_assert_eq(q_dec_mul(&notional, qty, price, Q_DEC_DOWN, NULL), 0);
	expect_dec(notional, "10", "notional");
	cr_expect_eq(q_dec_cmp(notional, min), 0, "exactly the minimum passes (>=)");

	cr_assert_eq(q_dec_quantize(&qty, D("0.00099999"), lot, Q_DEC_DOWN, NULL), 0);
	expect_dec(qty, "0.00099", "one lot below");
	cr_assert_eq(q_dec_mul(&notional, qty, price, Q_DEC_DOWN, NULL), 0);
	cr_expect_lt(q_dec_cmp(notional, min), 0, "one lot below the minimum fails");

	/* One unit of 1e-18 below the boundary is still below: no float slack. */
	cr_assert_eq(q_dec_mul(&notional, D("0.000999999999999999"), D("10000.000000000000001"),
	                       Q_DEC_DOWN, NULL),
	             0);
	cr_expect_lt(q_dec_cmp(notional, min), 0, "%s", S(notional));
	cr_assert_eq(q_dec_mul(&notional, D("0.1"), D("100"), Q_DEC_DOWN, NULL), 0);
	cr_expect_eq(q_dec_cmp(notional, min), 0, "0.1 * 100 == 10 exactly");
}
