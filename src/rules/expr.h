/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The rule engine's expression language, compiled once at configuration
 * load into a compact postfix program that evaluates without parsing or
 * allocating:
 *
 *   numbers       12, 0.5, 1e3, -4 (unary minus)
 *   variables     value, rssi, snr, battery (of the same frame), age (seconds
 *                 since the reading was made)
 *   arithmetic    + - * / %      (numbers)
 *   comparisons   < <= > >= == !=  (numbers -> condition)
 *   logic         && || !        (conditions -> condition)
 *   grouping      ( )
 *   functions     abs(x) min(x, y) max(x, y) round(x) round(x, digits)
 *
 * Two types, number and condition, checked at compile time: `value + (value
 * > 1)` and `value && 1` are type errors, and the whole expression must have
 * the type the caller asks for (a condition for when/drop_if/clear_when, a
 * number for set). Errors give the 1-based column and a short message
 * ("expected ')' to close '(' at column 3", "unknown variable 'vlaue', did
 * you mean 'value'?", "'&&' needs conditions, got a number on its left").
 * Pure: no I/O, no logging; only compile allocates.
 */

#include <stdbool.h>
#include <stddef.h>

enum fg_expr_type {
	FG_EXPR_NUMBER,
	FG_EXPR_CONDITION,
};

enum fg_expr_var {
	FG_EXPR_VALUE,
	FG_EXPR_RSSI,
	FG_EXPR_SNR,
	FG_EXPR_BATTERY,
	FG_EXPR_AGE,
	FG_EXPR_VAR__COUNT,
};

/* "value", "rssi", ... */
const char *fg_expr_var_to_string(enum fg_expr_var v);

/* The variables one evaluation sees; have[v] false: the reading lacks it. */
struct fg_expr_env {
	double vars[FG_EXPR_VAR__COUNT];
	bool have[FG_EXPR_VAR__COUNT];
};

struct fg_expr;

/*
 * Compile text as an expression of type `want`. Returns 0 and *ret, or
 * -EINVAL with *ret_column (1-based; the end of the text + 1 for "unexpected
 * end") and a message in err, -E2BIG for an expression over 4096 bytes or
 * nested deeper than 64, -ENOMEM.
 */
int fg_expr_compile(const char *text, enum fg_expr_type want, struct fg_expr **ret,
		    size_t *ret_column, char *err, size_t err_size);
void fg_expr_free(struct fg_expr *e);
/* The text it was compiled from. */
const char *fg_expr_text(const struct fg_expr *e);

/*
 * Evaluate. A condition gives 1 or 0. Returns 0 and *ret, or -ENODATA when a
 * variable the expression reads is missing from env (the rule then does not
 * apply), -EDOM when the result is not finite (division by zero, ...).
 * && and || short-circuit: a missing variable on the side not evaluated is
 * not an error.
 */
int fg_expr_eval(const struct fg_expr *e, const struct fg_expr_env *env, double *ret);

/* Bit (1 << v) for each variable the expression reads. */
unsigned fg_expr_vars(const struct fg_expr *e);
/* The program's length in instructions (for tests and the bench). */
size_t fg_expr_size(const struct fg_expr *e);
