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
 * The fast path (precisions 1..15, 1e-4 <= |v| < 10^prec, where %g writes
 * fixed notation): the exact value of |v| * 10^s (an exact two-double
 * product) rounded to an integer m of prec digits, written with s decimals
 * and without trailing zeros. That is %g's rounding of v's exact binary
 * value, so 2153 * 0.01 (21.530000000000001 to 17 digits) comes out "21.53"
 * as printf has it. Exact ties (printf rounds them half to even), zero's
 * sign, NaN, infinities, other ranges and precisions, and machines that
 * compute doubles wider (x87) go to snprintf.
 */
size_t fg_numfmt_g(char *buf, double v, int prec);
/* Its fast path alone: the same text, or 0 (buf untouched) where fg_numfmt_g would use snprintf. */
size_t fg_numfmt_g_fast(char *buf, double v, int prec);
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
