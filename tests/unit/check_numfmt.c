/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * util/numfmt.h against glibc's printf, which is the specification: every
 * value must come out byte for byte as snprintf writes it. The values are
 * the ones sensors and codecs produce (decimals, raw counts times a scale
 * step, with the step's rounding error), the edges of the fast path, and
 * random bit patterns.
 */
#include <check.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/numfmt.h"
#include "check-main.h"

/* One comparison; the failing value is named with all its bits. */
static void same_g(double v, int prec);

/* The values sensors produce must take the fast path (and be right there too). */
static void fast_g(double v, int prec)
{
	char got[FG_NUMFMT_MAX];

	if (fg_numfmt_g_fast(got, v, prec) == 0)
		ck_abort_msg("%%.%dg of %a (%.17g): not on the fast path", prec, v, v);
	same_g(v, prec);
}

static void same_g(double v, int prec)
{
	char want[64], got[FG_NUMFMT_MAX + 8];
	size_t n;

	snprintf(want, sizeof(want), "%.*g", prec, v);
	memset(got, 'x', sizeof(got));
	n = fg_numfmt_g(got, v, prec);
	if (n != strlen(want) || strcmp(got, want) != 0)
		ck_abort_msg("%%.%dg of %a: want \"%s\", got \"%s\" (%zu)", prec, v, want, got, n);
	/* And the fast path alone, where it answers. */
	memset(got, 'x', sizeof(got));
	n = fg_numfmt_g_fast(got, v, prec);
	if (n && (n != strlen(want) || strcmp(got, want) != 0))
		ck_abort_msg("fast %%.%dg of %a: want \"%s\", got \"%s\" (%zu)", prec, v, want,
			     got, n);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

START_TEST(edges_as_printf)
{
	static const double v[] = {
		0.0, -0.0, 1.0, -1.0, 0.5, 0.1, 0.2, 0.3, 0.1 + 0.2, 1.0 / 3.0, 2.0 / 3.0,
		21.53, -21.53, 1013.25, 100.0, 1e14, 1e15, 1e16, 1e15 - 1, 1e15 - 0.5,
		999999999999999.4, 999999999999999.6, 99999999999999.95, 123456789012345.0,
		1234567890123456.0, 0.0001, 0.00012, 0.0001 - 1e-20, 9.99999999999999e-5,
		9.999999999999995e-5, 0.00009999999999999999, 1e-5, 1.5e-5, 0.001, 0.000123456789012345,
		0.1234567890123456, 1.0000000000000002, 0.9999999999999999, 4503599627370495.5,
		9007199254740992.0, 9007199254740993.0, DBL_MAX, -DBL_MAX, DBL_MIN, DBL_TRUE_MIN,
		-DBL_TRUE_MIN, 5e-324, 1e308, 1e-308, 123.456e10, 65535.0, 4294967295.0,
		-273.15, 3.14159265358979, 2.718281828459045, 1e22, 1e23, 0.3e-4, 7.3f, -12.25,
		(double) 7.3f, (double) FLT_MAX, (double) FLT_MIN, 0.05, 0.95, 9.5, 99.5, 999.5,
		0.00015, 0.00095, 1e-4 * 3, 1e7 + 0.1,
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		for (int p = 1; p <= 17; p++) {
			same_g(v[i], p);
			same_g(-v[i], p);
		}
	for (int p = 1; p <= 17; p++) {
		same_g(NAN, p);
		same_g(-NAN, p);
		same_g(INFINITY, p);
		same_g(-INFINITY, p);
	}
}
END_TEST

/* Every decimal a sensor reports: n / 10^k for n up to 2 million and 0..6 decimals. */
START_TEST(decimals_as_printf)
{
	static const double div[] = { 1, 10, 100, 1000, 1e4, 1e5, 1e6 };

	for (size_t k = 0; k < sizeof(div) / sizeof(div[0]); k++)
		for (int64_t n = -200000; n <= 200000; n += (k < 3 ? 1 : 3)) {
			double v = (double) n / div[k];

			if (fabs(v) >= 1e-4)
				fast_g(v, 15);
			else
				same_g(v, 15);
			if (n % 7 == 0)
				same_g(v, 6);
		}
	/* Large values with few decimals, across the 15-digit boundary. */
	for (uint64_t n = 999999999999000ULL; n <= 1000000000001000ULL; n += 7) {
		same_g((double) n, 15);
		same_g((double) n / 10.0, 15);
		same_g((double) n / 1e10, 15);
	}
}
END_TEST

/* What codecs compute: a raw count times a scale step (0.1, 0.01, 0.005, ...), with its error. */
START_TEST(scaled_counts_as_printf)
{
	static const double step[] = { 0.1, 0.01, 0.001, 0.005, 0.0625, 0.25, 0.5, 1.0 / 256,
				       0.00390625, 1e-4, 1e-5, 0.2, 0.3, 0.7, 1.8, 0.035 };

	for (size_t s = 0; s < sizeof(step) / sizeof(step[0]); s++)
		for (int32_t raw = -32768; raw <= 65535; raw++) {
			double v = raw * step[s];

			if (fabs(v) >= 1e-4)
				fast_g(v, 15);
			else
				same_g(v, 15);
			/* Celsius to Fahrenheit, hPa from Pa: a second operation's error on top. */
			if (raw % 5 == 0)
				fast_g(v * 1.8 + 32, 15);
		}
	/* LoRa SNR: a float in quarter dB steps, written with 6 digits. */
	for (int32_t raw = -8192; raw <= 8191; raw++)
		if (raw)
			fast_g((double) (float) (raw * 0.25f), 6);
}
END_TEST

/* Random doubles: every exponent, and random values near the ones sensors produce. */
START_TEST(random_as_printf)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	for (int i = 0; i < 300000; i++) {
		uint64_t bits = xorshift(&seed);
		double v;

		memcpy(&v, &bits, sizeof(v));
		same_g(v, 15);
		if (i % 3 == 0)
			same_g(v, (int) (bits % 17) + 1);
		/* In the fast path's range, with a random number of digits. */
		v = (double) (int64_t) (xorshift(&seed) % 2000000000000000ULL) - 1e15;
		same_g(v / (double) (1ULL << (bits % 40)), 15);
		same_g(v / pow(10, (double) (bits % 22)), 15);
	}
}
END_TEST

START_TEST(integers_as_printf)
{
	static const uint64_t u[] = { 0, 1, 9, 10, 99, 100, 4294967295ULL, 4294967296ULL,
				      9999999999999999999ULL, 10000000000000000000ULL, UINT64_MAX };
	static const int64_t s[] = { 0, -1, 1, -9, -10, INT32_MIN, INT32_MAX, INT64_MAX, INT64_MIN,
				     INT64_MIN + 1 };
	uint64_t seed = 42;
	char want[32], got[FG_NUMFMT_MAX];

	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		snprintf(want, sizeof(want), "%" PRIu64, u[i]);
		ck_assert_uint_eq(fg_numfmt_u64(got, u[i]), strlen(want));
		ck_assert_str_eq(got, want);
	}
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		snprintf(want, sizeof(want), "%" PRId64, s[i]);
		ck_assert_uint_eq(fg_numfmt_i64(got, s[i]), strlen(want));
		ck_assert_str_eq(got, want);
	}
	for (int i = 0; i < 200000; i++) {
		uint64_t v = xorshift(&seed) >> (i % 64);

		snprintf(want, sizeof(want), "%" PRIu64, v);
		ck_assert_uint_eq(fg_numfmt_u64(got, v), strlen(want));
		ck_assert_str_eq(got, want);
		snprintf(want, sizeof(want), "%" PRId64, (int64_t) v);
		ck_assert_uint_eq(fg_numfmt_i64(got, (int64_t) v), strlen(want));
		ck_assert_str_eq(got, want);
	}
}
END_TEST

/* Seconds from ms as the SenML bt/t need them: exact, no trailing zeros. */
START_TEST(ms_seconds)
{
	static const struct {
		int64_t ms;
		const char *s;
	} cases[] = {
		{ 0, "0" },
		{ 1, "0.001" },
		{ 10, "0.01" },
		{ 100, "0.1" },
		{ 120, "0.12" },
		{ 1000, "1" },
		{ -1500, "-1.5" },
		{ -1, "-0.001" },
		{ 1764039446123, "1764039446.123" },
		{ 1764039446000, "1764039446" },
		{ INT64_MAX, "9223372036854775.807" },
		{ INT64_MIN, "-9223372036854775.808" },
	};
	char got[FG_NUMFMT_MAX], want[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_uint_eq(fg_numfmt_ms_seconds(got, cases[i].ms), strlen(cases[i].s));
		ck_assert_str_eq(got, cases[i].s);
	}
	/* Every millisecond of a few seconds either side of zero, against printf's %.3f trimmed. */
	for (int64_t ms = -5000; ms <= 5000; ms++) {
		size_t n;

		n = (size_t) snprintf(want, sizeof(want), "%s%" PRId64 ".%03" PRId64,
				      ms < 0 ? "-" : "", (ms < 0 ? -ms : ms) / 1000,
				      (ms < 0 ? -ms : ms) % 1000);
		while (want[n - 1] == '0')
			want[--n] = '\0';
		if (want[n - 1] == '.')
			want[--n] = '\0';
		ck_assert_uint_eq(fg_numfmt_ms_seconds(got, ms), n);
		ck_assert_str_eq(got, want);
	}
}
END_TEST

static Suite *numfmt_suite(void)
{
	Suite *s = suite_create("numfmt");
	TCase *tc = tcase_create("printf");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, edges_as_printf);
	tcase_add_test(tc, decimals_as_printf);
	tcase_add_test(tc, scaled_counts_as_printf);
	tcase_add_test(tc, random_as_printf);
	tcase_add_test(tc, integers_as_printf);
	tcase_add_test(tc, ms_seconds);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(numfmt_suite());
}
