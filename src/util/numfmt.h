/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Number text without printf: the output is byte for byte what snprintf
 * would write for the same format, only cheaper for the values sensors
 * produce. Each writes into buf (at least FG_NUMFMT_MAX bytes), NUL-terminates
 * it and returns the length. Never fails, never logs.
 */

#include <stddef.h>
#include <stdint.h>

/* Enough for any of them: "%.15g" of a double is at most 22 bytes, an int64_t 20, plus the NUL. */
#define FG_NUMFMT_MAX 32

/*
 * "%.*g" with precision prec (1..17) for a finite or non-finite double.
 *
 * The fast path: when some decimal m / 10^k with at most prec significant
 * digits (m < 10^prec), at least 1e-4 and below 10^prec, reads back (as the
 * nearest double) to exactly v, it is written in fixed notation without
 * trailing zeros. That is %g's text: v lies within half an ulp (2^-53
 * relative) of that decimal, while decimals of prec <= 15 digits lie at
 * least 10^-15 relative apart, so rounding v's exact value to prec digits
 * gives that decimal, and %g picks fixed notation for exponents -4..prec-1.
 * Everything else (more digits, tiny or huge values, prec 16 and 17, NaN,
 * infinities) goes to snprintf.
 */
size_t fg_numfmt_g(char *buf, double v, int prec);
/* "%" PRIu64 */
size_t fg_numfmt_u64(char *buf, uint64_t v);
/* "%" PRId64 */
size_t fg_numfmt_i64(char *buf, int64_t v);
/*
 * Seconds from signed milliseconds, exact: the integer part, then '.' and
 * the milliseconds without trailing zeros when there are any ("-1.5", "12",
 * "0.001").
 */
size_t fg_numfmt_ms_seconds(char *buf, int64_t ms);
