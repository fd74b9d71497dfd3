/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/numfmt.h"

/* Powers of ten that are exact doubles: up to 10^22. */
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
/* The doubles nearest 10^x for x = -4..15, at [x + 4]: the decimal exponent's estimate. */
static const double tens[] = { 1e-4, 1e-3, 1e-2, 1e-1, 1e0,  1e1,  1e2,	1e3,  1e4,  1e5,
			       1e6,  1e7,  1e8,	 1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };

/* How many decimal digits v has (1 for 0). */
static size_t count_digits(uint64_t v)
{
	size_t n = 1;

	while (n < 20 && v >= pow10_u[n])
		n++;
	return n;
}

/*
 * Write v's n lowest decimal digits backwards, ending just before end;
 * returns where they start. In 32 bits once v fits: 64-bit division is a
 * library call on 32-bit ARM.
 */
static char *put_digits_rev(char *end, uint64_t v, size_t n)
{
	while (n && v > UINT32_MAX) {
		*--end = (char) ('0' + v % 10);
		v /= 10;
		n--;
	}
	for (uint32_t w = (uint32_t) v; n; n--) {
		*--end = (char) ('0' + w % 10);
		w /= 10;
	}
	return end;
}

/* The decimal digits of v, most significant first, into buf; returns their count. */
static size_t digits_u64(char *buf, uint64_t v)
{
	size_t n = count_digits(v);

	put_digits_rev(buf + n, v, n);
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
	/*
	 * Trailing zeros of the fraction say nothing: drop them (and the point if
	 * nothing is left), eight, four, two and one at a time.
	 */
	static const uint32_t step[] = { 100000000, 10000, 100, 10 };
	static const unsigned width[] = { 8, 4, 2, 1 };
	size_t nd, len;
	char *p;

	for (size_t i = 0; i < 4 && k > 0 && m; i++)
		while (k >= width[i] && m % step[i] == 0) {
			m /= step[i];
			k -= width[i];
		}
	nd = count_digits(m);
	/* [-] then "0.000ddd" when all digits are decimals, else "ddd.ddd" (or "ddd"). */
	len = (neg ? 1 : 0) + (nd <= k ? 2 + k : nd + (k ? 1 : 0));
	buf[len] = '\0';
	if (nd <= k) {
		p = put_digits_rev(buf + len, m, k);
		*--p = '.';
		*--p = '0';
	} else if (k) {
		p = put_digits_rev(buf + len, m % pow10_u[k], k);
		*--p = '.';
		p = put_digits_rev(p, m / pow10_u[k], nd - k);
	} else {
		p = put_digits_rev(buf + len, m, nd);
	}
	if (neg)
		*--p = '-';
	return len;
}

/*
 * The exact product a * b as hi + lo (hi the rounded product): with a fused
 * multiply-add where the hardware has one, else Dekker's product of split
 * halves (exact without overflow or underflow, and without contraction into
 * FMAs, which only hardware that has them does).
 */
static void exact_product(double a, double b, double *hi, double *lo)
{
	double p = a * b;
#ifdef FP_FAST_FMA
	*lo = fma(a, b, -p);
#else
	const double split = 134217729.0; /* 2^27 + 1 */
	double c = split * a, ah = c - (c - a), al = a - ah;
	double d = split * b, bh = d - (d - b), bl = b - bh;

	*lo = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
#endif
	*hi = p;
}

size_t fg_numfmt_g_fast(char *buf, double v, int prec)
{
	double a = fabs(v);

	/*
	 * Where double arithmetic is done wider (x87) the exact product below is
	 * not; %g switches to exponents outside 1e-4 .. 10^prec.
	 */
	if (FLT_EVAL_METHOD == 0 && prec >= 1 && prec <= 15 && a >= 1e-4 && a < pow10_d[prec]) {
		bool neg = signbit(v);
		const double lo_m = pow10_d[prec - 1], hi_m = pow10_d[prec];
		uint64_t bits;
		int x, s;

		/*
		 * x: the decimal exponent, estimated from the binary one (floor of
		 * e2 * log10(2), 78913 / 2^18 of it) and moved to the doubles nearest
		 * the powers of ten.
		 */
		memcpy(&bits, &a, sizeof(bits));
		x = (((int) (bits >> 52) - 1023) * 78913) >> 18;
		if (x < -4)
			x = -4;
		while (x < prec - 1 && a >= tens[x + 5])
			x++;
		while (x > -4 && a < tens[x + 4])
			x--;
		s = prec - 1 - x;
		/*
		 * m: a * 10^s rounded to an integer, from its exact value (hi + lo):
		 * %g's prec significant digits when m lies in [10^(prec-1), 10^prec].
		 * A wrong estimate of x is off by one and moves s once; an exact tie
		 * (round half to even on the exact value) goes to snprintf.
		 */
		for (int tries = 0; tries < 3 && s >= 0 && s <= prec + 4; tries++) {
			double p, e, m, f;

			exact_product(a, pow10_d[s], &p, &e);
			m = nearbyint(p);
			f = (p - m) + e; /* the exact value less m, to within 1e-16 */
			if (fabs(fabs(f) - 0.5) < 1e-9)
				break;
			if (f > 0.5) {
				m += 1;
				f -= 1;
			} else if (f < -0.5) {
				m -= 1;
				f += 1;
			}
			/* Now the exact value is m + f, |f| < 0.5, and f's sign is exact. */
			if (m < lo_m || (m == lo_m && f < 0)) {
				s++; /* below 10^(prec-1): x was one too high */
				continue;
			}
			if (m > hi_m || (m == hi_m && f >= 0)) {
				s--; /* 10^prec or more: x was one too low */
				continue;
			}
			/* Rounding up to 10^prec adds a digit to the exponent: fixed notation needs it < prec, >= -4. */
			if (m == hi_m ? (s < 1 || s > prec + 4) : (s > prec + 3))
				break;
			return put_fixed(buf, neg, (uint64_t) m, (unsigned) s);
		}
	} else if (prec >= 1 && prec <= 17 && a == 0.0) {
		/* %g of zero: "0", and "-0" for negative zero. */
		size_t n = 0;

		if (signbit(v))
			buf[n++] = '-';
		buf[n++] = '0';
		buf[n] = '\0';
		return n;
	}
	return 0;
}

size_t fg_numfmt_g(char *buf, double v, int prec)
{
	size_t n = fg_numfmt_g_fast(buf, v, prec);
	int r;

	if (n)
		return n;
	r = snprintf(buf, FG_NUMFMT_MAX, "%.*g", prec, v);
	return r < 0 ? 0 : (size_t) r;
}
