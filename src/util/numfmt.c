/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/numfmt.h"

/* Powers of ten that are exact doubles (up to 10^22) and exact uint64_t (up to 10^19). */
static const double pow10_d[] = { 1e0,  1e1,  1e2,  1e3,  1e4,	1e5,  1e6,  1e7,
				  1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
				  1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
static const uint64_t pow10_u[] = { 1ULL,
				    10ULL,
				    100ULL,
				    1000ULL,
				    10000ULL,
				    100000ULL,
				    1000000ULL,
				    10000000ULL,
				    100000000ULL,
				    1000000000ULL,
				    10000000000ULL,
				    100000000000ULL,
				    1000000000000ULL,
				    10000000000000ULL,
				    100000000000000ULL,
				    1000000000000000ULL,
				    10000000000000000ULL,
				    100000000000000000ULL,
				    1000000000000000000ULL,
				    10000000000000000000ULL };

/* The decimal digits of v, most significant first, into buf (20 bytes); returns their count. */
static size_t digits_u64(char *buf, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = (char) ('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

size_t fg_numfmt_u64(char *buf, uint64_t v)
{
	size_t n = digits_u64(buf, v);

	buf[n] = '\0';
	return n;
}

size_t fg_numfmt_i64(char *buf, int64_t v)
{
	if (v >= 0)
		return fg_numfmt_u64(buf, (uint64_t) v);
	buf[0] = '-';
	return 1 + fg_numfmt_u64(buf + 1, (uint64_t) 0 - (uint64_t) v);
}

size_t fg_numfmt_ms_seconds(char *buf, int64_t ms)
{
	uint64_t a = ms < 0 ? (uint64_t) 0 - (uint64_t) ms : (uint64_t) ms;
	unsigned frac = (unsigned) (a % 1000);
	size_t n = 0;

	if (ms < 0)
		buf[n++] = '-';
	n += digits_u64(buf + n, a / 1000);
	if (frac) {
		buf[n++] = '.';
		buf[n++] = (char) ('0' + frac / 100);
		frac %= 100;
		if (frac) {
			buf[n++] = (char) ('0' + frac / 10);
			frac %= 10;
			if (frac)
				buf[n++] = (char) ('0' + frac);
		}
	}
	buf[n] = '\0';
	return n;
}

/* The fixed-notation text of m / 10^k without trailing zeros, after an optional '-'. */
static size_t put_fixed(char *buf, bool neg, uint64_t m, unsigned k)
{
	char d[20];
	size_t nd, n = 0;

	/* Trailing zeros of the fraction say nothing: drop them (and the point if nothing is left). */
	while (k > 0 && m % 10 == 0) {
		m /= 10;
		k--;
	}
	nd = digits_u64(d, m);
	if (neg)
		buf[n++] = '-';
	if (nd <= k) {
		/* 0.000ddd */
		buf[n++] = '0';
		buf[n++] = '.';
		memset(buf + n, '0', k - nd);
		n += k - nd;
		memcpy(buf + n, d, nd);
		n += nd;
	} else {
		memcpy(buf + n, d, nd - k);
		n += nd - k;
		if (k) {
			buf[n++] = '.';
			memcpy(buf + n, d + nd - k, k);
			n += k;
		}
	}
	buf[n] = '\0';
	return n;
}

size_t fg_numfmt_g(char *buf, double v, int prec)
{
	double a = fabs(v), limit;
	int r;

	/* Where double arithmetic is done wider (x87), the round-trip check below would lie. */
	if (FLT_EVAL_METHOD == 0 && prec >= 1 && prec <= 15 && a < (limit = pow10_d[prec])) {
		bool neg = signbit(v);

		if (a == 0.0) {
			/* %g of zero: "0", and "-0" for negative zero. */
			if (neg)
				*buf++ = '-';
			buf[0] = '0';
			buf[1] = '\0';
			return neg ? 2 : 1;
		}
		/*
		 * The fewest decimals k whose m = round(a * 10^k) reads back to a: m
		 * and 10^k are exact doubles (m < 10^15 < 2^53, k <= 22), so m / 10^k
		 * is the double nearest the decimal, rounded once. Stop where m would
		 * need more than prec digits.
		 */
		for (unsigned k = 0; k < sizeof(pow10_u) / sizeof(pow10_u[0]); k++) {
			double x = a * pow10_d[k], m;

			if (x >= limit)
				break;
			m = nearbyint(x);
			if (m >= limit || m / pow10_d[k] != a)
				continue;
			/* %g writes fixed notation for 1e-4 and above only: m >= 10^(k-4). */
			if (k >= 4 && (uint64_t) m < pow10_u[k - 4])
				break;
			return put_fixed(buf, neg, (uint64_t) m, k);
		}
	}
	r = snprintf(buf, FG_NUMFMT_MAX, "%.*g", prec, v);
	return r < 0 ? 0 : (size_t) r;
}
