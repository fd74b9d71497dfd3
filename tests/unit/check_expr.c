/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <check.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/expr.h"
#include "check-main.h"

#define ALL_VARS ((1u << FG_EXPR_VAR__COUNT) - 1)

/* The environment most tests evaluate in: every variable present. */
static const struct fg_expr_env full = {
	.vars = { [FG_EXPR_VALUE] = 10,
		  [FG_EXPR_RSSI] = -100,
		  [FG_EXPR_SNR] = 7.5,
		  [FG_EXPR_BATTERY] = 3.3,
		  [FG_EXPR_AGE] = 60 },
	.have = { true, true, true, true, true },
};
static const struct fg_expr_env empty;

static char err[160];
static size_t column;

static int compile(const char *text, enum fg_expr_type want, struct fg_expr **e)
{
	*e = NULL;
	column = 0;
	memset(err, 0x55, sizeof(err));
	err[sizeof(err) - 1] = '\0';
	return fg_expr_compile(text, want, e, &column, err, sizeof(err));
}

static struct fg_expr *compile_ok(const char *text, enum fg_expr_type want)
{
	struct fg_expr *e;
	int r = compile(text, want, &e);

	ck_assert_msg(r == 0, "'%s': %d at column %zu: %s", text, r, column, err);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(err, "");
	return e;
}

/* Compile text as `want`, evaluate it in env and return the result code; *ret gets the value. */
static int run(const char *text, enum fg_expr_type want, const struct fg_expr_env *env, double *ret)
{
	struct fg_expr *e = compile_ok(text, want);
	int r = fg_expr_eval(e, env, ret);

	fg_expr_free(e);
	return r;
}

static double value_of(const char *text, enum fg_expr_type want)
{
	double v = NAN;

	ck_assert_msg(run(text, want, &full, &v) == 0, "'%s' did not evaluate", text);
	return v;
}

/* Compile must fail with r, at column, with exactly message. */
static void assert_error(const char *text, enum fg_expr_type want, int r, size_t col,
			 const char *message)
{
	struct fg_expr *e;
	int got = compile(text, want, &e);

	ck_assert_msg(got == r, "'%s': %d, expected %d (%s)", text, got, r, err);
	ck_assert_ptr_null(e);
	ck_assert_msg(column == col, "'%s': column %zu, expected %zu (%s)", text, column, col, err);
	ck_assert_str_eq(err, message);
}

#define N_ (FG_EXPR_NUMBER)
#define C_ (FG_EXPR_CONDITION)

/* ------------------------------------------------------------ the table */

static const struct {
	const char *text;
	enum fg_expr_type type;
	double result;
} table[] = {
	/* precedence */
	{ "1 + 2 * 3", N_, 7 },
	{ "(1 + 2) * 3", N_, 9 },
	{ "2 * 3 + 4 * 5", N_, 26 },
	{ "10 - 6 / 2", N_, 7 },
	{ "1 + 7 % 4", N_, 4 },
	{ "-2 * 3", N_, -6 },
	{ "-2 + 3", N_, 1 },
	{ "- 7 % 3", N_, -1 },
	{ "2 * -3", N_, -6 },
	{ "1 - -1", N_, 2 },
	{ "--3", N_, 3 },
	{ "-(2 + 3)", N_, -5 },
	/* left associativity */
	{ "2 - 3 - 4", N_, -5 },
	{ "64 / 4 / 2", N_, 8 },
	{ "17 % 7 % 2", N_, 1 },
	{ "1 - 2 + 3", N_, 2 },
	{ "12 / 3 * 2", N_, 8 },
	/* numbers */
	{ "0", N_, 0 },
	{ "12", N_, 12 },
	{ "0.5", N_, 0.5 },
	{ ".25", N_, 0.25 },
	{ "1e3", N_, 1000 },
	{ "1E+2", N_, 100 },
	{ "2.5e-1", N_, 0.25 },
	{ "007.50", N_, 7.5 },
	{ "0.1 + 0.2", N_, 0.1 + 0.2 },
	{ "1e308", N_, 1e308 },
	{ "1e-400", N_, 0 },
	{ "\t1\t+ 2 ", N_, 3 },
	/* variables */
	{ "value", N_, 10 },
	{ "value * 2 + rssi", N_, -80 },
	{ "snr - battery", N_, 7.5 - 3.3 },
	{ "age / 60", N_, 1 },
	{ "-rssi", N_, 100 },
	/* % is fmod: the sign of the dividend */
	{ "7 % 3", N_, 1 },
	{ "-7 % 3", N_, -1 },
	{ "7 % -3", N_, 1 },
	{ "7.5 % 2", N_, 1.5 },
	/* functions */
	{ "abs(rssi)", N_, 100 },
	{ "abs(3)", N_, 3 },
	{ "min(value, snr)", N_, 7.5 },
	{ "max(1, 2)", N_, 2 },
	{ "max(min(value, 20), 15)", N_, 15 },
	{ "min(-1, -2)", N_, -2 },
	{ "round(2.5)", N_, 3 },
	{ "round(-2.5)", N_, -3 },
	{ "round(0.49)", N_, 0 },
	{ "round(value / 3, 3)", N_, 3.333 },
	{ "round(1234.5678, 2)", N_, 1234.57 },
	{ "round(1234.5678, 0)", N_, 1235 },
	{ "round(0.125, 2)", N_, 0.13 },
	{ "round(-0.125, 2)", N_, -0.13 },
	{ "round(battery, 10)", N_, 3.3 },
	{ "round(1e300, 10)", N_, 1e300 },
	{ "round(-1e300)", N_, -1e300 },
	/* 0.024999999999999998 * 100 rounds to 2.5; the exact product is below it */
	{ "round(0.024999999999999998, 2)", N_, 0.02 },
	{ "round(0.0249999999999999999999, 2)", N_, 0.03 },
	/* comparisons */
	{ "value > 5", C_, 1 },
	{ "value < 5", C_, 0 },
	{ "value >= 10", C_, 1 },
	{ "value <= 9.99", C_, 0 },
	{ "value == 10", C_, 1 },
	{ "value != 10", C_, 0 },
	{ "1e3 == 1000", C_, 1 },
	{ "-value < -5", C_, 1 },
	{ "value - 1 > 8", C_, 1 },
	{ "rssi + 100 == 0", C_, 1 },
	{ "0.1 + 0.2 == 0.3", C_, 0 },
	/* logic */
	{ "value > 5 && snr > 5", C_, 1 },
	{ "value > 5 && snr > 50", C_, 0 },
	{ "value > 50 || snr > 5", C_, 1 },
	{ "value > 50 || snr > 50", C_, 0 },
	{ "!(value > 5)", C_, 0 },
	{ "!!(value > 5)", C_, 1 },
	{ "!(1 > 2) && !(2 > 3)", C_, 1 },
	/* && binds tighter than ||: 1 || (0 && 0), not (1 || 0) && 0 */
	{ "1 < 2 || 1 > 2 && 1 > 2", C_, 1 },
	{ "1 > 2 && 1 > 2 || 1 < 2", C_, 1 },
	{ "(1 < 2 || 1 > 2) && 1 > 2", C_, 0 },
	{ "1 < 2 && 2 < 3 && 3 < 4 && 4 < 5", C_, 1 },
	{ "1 > 2 || 2 > 3 || 3 > 4 || 4 < 5", C_, 1 },
	{ "1 < 2 && 2 < 3 && 3 < 4 && 4 > 5", C_, 0 },
};

START_TEST(expr_table)
{
	double v = value_of(table[_i].text, table[_i].type);

	ck_assert_msg(v == table[_i].result, "'%s' = %.17g, expected %.17g", table[_i].text, v,
		      table[_i].result);
}
END_TEST

START_TEST(expr_conditions_are_zero_or_one)
{
	/* A number never leaks into a condition's result: comparisons give exactly 0 or 1. */
	ck_assert(value_of("value > 5 && snr > 5", C_) == 1.0);
	ck_assert(value_of("value > 5 && snr > 50", C_) == 0.0);
	ck_assert(value_of("!(value > 5) || rssi < 0", C_) == 1.0);
	ck_assert(value_of("!(value > 5) || rssi > 0", C_) == 0.0);
}
END_TEST

START_TEST(expr_no_negative_zero)
{
	double v;

	v = value_of("round(-0.4)", N_);
	ck_assert(v == 0 && !signbit(v));
	v = value_of("-0", N_);
	ck_assert(v == 0 && !signbit(v));
	v = value_of("0 * -1", N_);
	ck_assert(v == 0 && !signbit(v));
}
END_TEST

START_TEST(expr_numbers_ignore_the_locale)
{
	const char *names[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "C.UTF-8" };
	double v;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (setlocale(LC_NUMERIC, names[i]))
			break;
	v = value_of("0.5 + 1.25e1", N_);
	ck_assert(v == 13);
	(void) setlocale(LC_NUMERIC, "C");
}
END_TEST

/* ---------------------------------------------------------------- types */

START_TEST(expr_type_errors)
{
	assert_error("value + (value > 1)", N_, -EINVAL, 7,
		     "'+' needs numbers, got a condition on its right");
	assert_error("(value > 1) * 2", N_, -EINVAL, 13,
		     "'*' needs numbers, got a condition on its left");
	assert_error("value && 1", C_, -EINVAL, 7,
		     "'&&' needs conditions, got a number on its left");
	assert_error("value > 1 && 1", C_, -EINVAL, 11,
		     "'&&' needs conditions, got a number on its right");
	assert_error("value > 1 || snr", C_, -EINVAL, 11,
		     "'||' needs conditions, got a number on its right");
	assert_error("2 || value > 1", C_, -EINVAL, 3,
		     "'||' needs conditions, got a number on its left");
	assert_error("(value > 1) < 2", C_, -EINVAL, 13,
		     "'<' needs numbers, got a condition on its left");
	assert_error("1 == (2 > 1)", C_, -EINVAL, 3,
		     "'==' needs numbers, got a condition on its right");
	assert_error("-(value > 1)", N_, -EINVAL, 1, "'-' needs a number, got a condition");
	assert_error("!value", C_, -EINVAL, 1, "'!' needs a condition, got a number");
	assert_error("!value > 1", C_, -EINVAL, 1, "'!' needs a condition, got a number");
	assert_error("abs(value > 1)", N_, -EINVAL, 5,
		     "abs() needs numbers, got a condition as argument 1");
	assert_error("max(1, snr < 2)", N_, -EINVAL, 8,
		     "max() needs numbers, got a condition as argument 2");
	assert_error("2 % (1 < 2)", N_, -EINVAL, 3,
		     "'%' needs numbers, got a condition on its right");
}
END_TEST

START_TEST(expr_whole_expression_has_the_wanted_type)
{
	assert_error("value", C_, -EINVAL, 1, "expected a condition, got a number");
	assert_error("value * 2", C_, -EINVAL, 1, "expected a condition, got a number");
	assert_error("value > 1", N_, -EINVAL, 1, "expected a number, got a condition");
	assert_error("(value > 1 && snr > 2)", N_, -EINVAL, 1,
		     "expected a number, got a condition");
}
END_TEST

/* --------------------------------------------------------------- syntax */

START_TEST(expr_syntax_errors)
{
	static const char *operand = "a number, a variable, a function or '('";
	char msg[160];

	snprintf(msg, sizeof(msg), "unexpected end, expected %s", operand);
	assert_error("", N_, -EINVAL, 1, msg);
	assert_error("   ", N_, -EINVAL, 4, msg);
	assert_error("value +", N_, -EINVAL, 8, msg);
	assert_error("value + ", N_, -EINVAL, 9, msg);
	assert_error("value > 1 &&", C_, -EINVAL, 13, msg);
	assert_error("-", N_, -EINVAL, 2, msg);
	snprintf(msg, sizeof(msg), "unexpected ')', expected %s", operand);
	assert_error("()", N_, -EINVAL, 2, msg);
	assert_error("min(1,)", N_, -EINVAL, 7, msg);
	snprintf(msg, sizeof(msg), "unexpected '*', expected %s", operand);
	assert_error("* 2", N_, -EINVAL, 1, msg);
	assert_error("value + * 2", N_, -EINVAL, 9, msg);

	assert_error("(value", N_, -EINVAL, 7,
		     "unexpected end, expected ')' to close '(' at column 1");
	assert_error("2 * (value + (1)", N_, -EINVAL, 17,
		     "unexpected end, expected ')' to close '(' at column 5");
	assert_error("(value 1)", N_, -EINVAL, 8,
		     "unexpected number '1', expected ')' to close '(' at column 1");
	assert_error("value)", N_, -EINVAL, 6, "unexpected ')', expected an operator or the end");
	assert_error("(value))", N_, -EINVAL, 8, "unexpected ')', expected an operator or the end");
	assert_error("value snr", N_, -EINVAL, 7,
		     "unexpected name 'snr', expected an operator or the end");
	assert_error("value 2", N_, -EINVAL, 7,
		     "unexpected number '2', expected an operator or the end");
	assert_error("min(1, 2", N_, -EINVAL, 9,
		     "unexpected end, expected ',' or ')' to close '(' at column 4");
	assert_error("min(1 2)", N_, -EINVAL, 7,
		     "unexpected number '2', expected ',' or ')' to close '(' at column 4");

	/* Characters that are not part of the language. */
	assert_error("value = 1", C_, -EINVAL, 7, "unexpected '=', did you mean '=='?");
	assert_error("value > 1 & snr > 1", C_, -EINVAL, 11, "unexpected '&', did you mean '&&'?");
	assert_error("value > 1 | snr > 1", C_, -EINVAL, 11, "unexpected '|', did you mean '||'?");
	assert_error("value # 1", N_, -EINVAL, 7, "unexpected character '#'");
	assert_error("value ^ 2", N_, -EINVAL, 7, "unexpected character '^'");
	assert_error("value\n+ 1", N_, -EINVAL, 6, "unexpected byte 0x0a");
	assert_error("value\r", N_, -EINVAL, 6, "unexpected byte 0x0d");
	assert_error("\xc2\xb0", N_, -EINVAL, 1, "unexpected byte 0xc2");
	assert_error("value > 1 and snr > 1", C_, -EINVAL, 11, "unexpected 'and', write '&&'");
	assert_error("value > 1 or snr > 1", C_, -EINVAL, 11, "unexpected 'or', write '||'");
	assert_error("not value > 1", C_, -EINVAL, 1, "unexpected 'not', write '!'");
}
END_TEST

START_TEST(expr_comparisons_do_not_chain)
{
	assert_error("value < 1 < 2", C_, -EINVAL, 11,
		     "comparisons do not chain: '<' after '<', join two with '&&'");
	assert_error("1 <= value == 1", C_, -EINVAL, 12,
		     "comparisons do not chain: '==' after '<=', join two with '&&'");
	/* Parentheses make it a type error instead, as a condition is not a number. */
	assert_error("(1 < value) < 2", C_, -EINVAL, 13,
		     "'<' needs numbers, got a condition on its left");
	/* Two comparisons joined by && are what was meant. */
	ck_assert(value_of("1 < value && value < 20", C_) == 1);
}
END_TEST

START_TEST(expr_bad_numbers)
{
	assert_error("1.2.3", N_, -EINVAL, 1, "bad number '1.2.3'");
	assert_error("1e", N_, -EINVAL, 1, "bad number '1e': expected digits in the exponent");
	assert_error("1e+", N_, -EINVAL, 1, "bad number '1e+': expected digits in the exponent");
	assert_error("2 * 1E-", N_, -EINVAL, 5,
		     "bad number '1E-': expected digits in the exponent");
	assert_error(".", N_, -EINVAL, 1, "bad number '.': expected digits after '.'");
	assert_error("..", N_, -EINVAL, 1, "bad number '..': expected digits after '.'");
	assert_error("1.", N_, -EINVAL, 1, "bad number '1.': expected digits after '.'");
	assert_error("1..2", N_, -EINVAL, 1, "bad number '1..2': expected digits after '.'");
	assert_error("value + .e1", N_, -EINVAL, 9, "bad number '.e1': expected digits after '.'");
	assert_error("0x1f", N_, -EINVAL, 1, "bad number '0x1f': only decimal numbers");
	assert_error("0X10 + 1", N_, -EINVAL, 1, "bad number '0X10': only decimal numbers");
	assert_error("12abc", N_, -EINVAL, 1, "bad number '12abc'");
	assert_error("1e5x", N_, -EINVAL, 1, "bad number '1e5x'");
	assert_error("1_000", N_, -EINVAL, 1, "bad number '1_000'");
	assert_error("1e999", N_, -EINVAL, 1, "number '1e999' is too large");
	assert_error("value + 1e99999999999999999999", N_, -EINVAL, 9,
		     "number '1e99999999999999999999' is too large");
	assert_error("inf", N_, -EINVAL, 1, "'inf' is not allowed: only finite numbers");
	assert_error("-nan", N_, -EINVAL, 2, "'nan' is not allowed: only finite numbers");
	assert_error("value < infinity", C_, -EINVAL, 9,
		     "'infinity' is not allowed: only finite numbers");
	/* A very long number is shown shortened. */
	assert_error("1.2.3456789012345678901234567890123456789", N_, -EINVAL, 1,
		     "bad number '1.2.3456789012345678901234567890...'");
	/* Many digits are fine, and converted exactly. */
	ck_assert(value_of("0.10000000000000000000000000000000000000000000001", N_) == 0.1);
	ck_assert(value_of("100000000000000000000000000000e-29", N_) == 1);
}
END_TEST

START_TEST(expr_unknown_names)
{
	assert_error("vlaue > 1", C_, -EINVAL, 1,
		     "unknown variable 'vlaue', did you mean 'value'?");
	assert_error("value > 1 && rsi < -90", C_, -EINVAL, 14,
		     "unknown variable 'rsi', did you mean 'rssi'?");
	assert_error("batery", N_, -EINVAL, 1,
		     "unknown variable 'batery', did you mean 'battery'?");
	assert_error("Value", N_, -EINVAL, 1, "unknown variable 'Value', did you mean 'value'?");
	assert_error("ages", N_, -EINVAL, 1, "unknown variable 'ages', did you mean 'age'?");
	assert_error("temperature", N_, -EINVAL, 1, "unknown variable 'temperature'");
	assert_error("x", N_, -EINVAL, 1, "unknown variable 'x'");
	assert_error("rund(value)", N_, -EINVAL, 1,
		     "unknown function 'rund', did you mean 'round'?");
	assert_error("2 * ab (value)", N_, -EINVAL, 5,
		     "unknown function 'ab', did you mean 'abs'?");
	assert_error("sqrt(value)", N_, -EINVAL, 1, "unknown function 'sqrt'");
	assert_error("foo(1)", N_, -EINVAL, 1, "unknown function 'foo'");
	assert_error("value(1)", N_, -EINVAL, 1, "'value' is a variable, not a function");
	assert_error("abs", N_, -EINVAL, 1, "function 'abs' needs its arguments: abs(...)");
	assert_error("1 + round", N_, -EINVAL, 5,
		     "function 'round' needs its arguments: round(...)");
	assert_error("a_very_long_name_that_goes_on_and_on_and_on", N_, -EINVAL, 1,
		     "unknown variable 'a_very_long_name_that_goes_on_an...'");
}
END_TEST

START_TEST(expr_arity)
{
	assert_error("min(1)", N_, -EINVAL, 1, "min() takes 2 arguments, got 1");
	assert_error("max(1, 2, 3)", N_, -EINVAL, 1, "max() takes 2 arguments, got 3");
	assert_error("1 + abs(1, 2)", N_, -EINVAL, 5, "abs() takes 1 argument, got 2");
	assert_error("abs()", N_, -EINVAL, 1, "abs() takes 1 argument, got 0");
	assert_error("round()", N_, -EINVAL, 1, "round() takes 1 or 2 arguments, got 0");
	assert_error("round(1, 2, 3)", N_, -EINVAL, 1, "round() takes 1 or 2 arguments, got 3");
}
END_TEST

START_TEST(expr_round_digits_must_be_constant)
{
	const char *msg = "round()'s digits must be an integer constant 0..10";

	assert_error("round(value, 11)", N_, -EINVAL, 14, msg);
	assert_error("round(value, 1.5)", N_, -EINVAL, 14, msg);
	assert_error("round(value, -1)", N_, -EINVAL, 14, msg);
	assert_error("round(value,snr)", N_, -EINVAL, 13, msg);
	assert_error("round(value, 1 + 1)", N_, -EINVAL, 14, msg);
	assert_error("round(value, 1e300)", N_, -EINVAL, 14, msg);
	/* 10 and 2.0 are integers; parentheses around a constant are fine. */
	ck_assert(value_of("round(value / 3, 10)", N_) == 3.3333333333);
	ck_assert(value_of("round(value / 3, 2.0)", N_) == 3.33);
	ck_assert(value_of("round(value / 3, (1))", N_) == 3.3);
	ck_assert(value_of("round(-value / 3, 0)", N_) == -3);
	ck_assert(value_of("round(2.5, 0)", N_) == 3);
}
END_TEST

/* ----------------------------------------------------------- evaluation */

START_TEST(expr_missing_variables)
{
	struct fg_expr_env env = full;
	double v = 42;

	ck_assert_int_eq(run("value > 1", C_, &empty, &v), -ENODATA);
	ck_assert(v == 42); /* untouched */
	ck_assert_int_eq(run("1 + 2", N_, &empty, &v), 0);
	ck_assert(v == 3);

	env.have[FG_EXPR_VALUE] = false;
	v = 42;
	ck_assert_int_eq(run("value", N_, &env, &v), -ENODATA);
	ck_assert_int_eq(run("snr + value * 0", N_, &env, &v), -ENODATA);
	ck_assert_int_eq(run("min(snr, value)", N_, &env, &v), -ENODATA);
	ck_assert(v == 42);
	ck_assert_int_eq(run("snr + battery", N_, &env, &v), 0);
	ck_assert(v == 7.5 + 3.3);
}
END_TEST

START_TEST(expr_short_circuit)
{
	struct fg_expr_env env = full;
	double v = 42;

	env.have[FG_EXPR_VALUE] = false;
	/* The left side decides: value is not read. */
	ck_assert_int_eq(run("rssi > 0 && value > 1", C_, &env, &v), 0);
	ck_assert(v == 0);
	ck_assert_int_eq(run("rssi < 0 || value > 1", C_, &env, &v), 0);
	ck_assert(v == 1);
	ck_assert_int_eq(run("snr > 100 && value > 1 && value < 2", C_, &env, &v), 0);
	ck_assert(v == 0);
	ck_assert_int_eq(run("snr > 1 || value > 1 || value < 2", C_, &env, &v), 0);
	ck_assert(v == 1);
	ck_assert_int_eq(run("(snr > 1 || value > 1) && rssi < 0", C_, &env, &v), 0);
	ck_assert(v == 1);
	ck_assert_int_eq(run("snr > 1 && rssi > 0 && value > 1 || age > 1", C_, &env, &v), 0);
	ck_assert(v == 1);
	/* It does not: value is needed. */
	v = 42;
	ck_assert_int_eq(run("rssi < 0 && value > 1", C_, &env, &v), -ENODATA);
	ck_assert_int_eq(run("rssi > 0 || value > 1", C_, &env, &v), -ENODATA);
	ck_assert_int_eq(run("value > 1 || rssi < 0", C_, &env, &v), -ENODATA);
	ck_assert(v == 42);
	/* Nor is a division by zero on the side not taken an error. */
	ck_assert_int_eq(run("1 < 2 || 1 / 0 > 1", C_, &full, &v), 0);
	ck_assert(v == 1);
	ck_assert_int_eq(run("1 > 2 && 1 / 0 > 1", C_, &full, &v), 0);
	ck_assert(v == 0);
	/* A long chain, longer than the compiler's batch of pending jumps. */
	ck_assert_int_eq(run("snr > 100 && value > 1 && value > 2 && value > 3 && value > 4 && "
			     "value > 5 && value > 6 && value > 7 && value > 8 && value > 9 && "
			     "value > 10 && value > 11",
			     C_, &env, &v),
			 0);
	ck_assert(v == 0);
	ck_assert_int_eq(run("age > 100 || age > 99 || age > 98 || age > 97 || age > 96 || "
			     "age > 95 || age > 94 || age > 93 || age > 92 || age > 91 || "
			     "age > 1 || value > 1",
			     C_, &env, &v),
			 0);
	ck_assert(v == 1);
	ck_assert_int_eq(run("age > 100 || age > 99 || age > 98 || age > 97 || age > 96 || "
			     "age > 95 || age > 94 || age > 93 || age > 92 || age > 91 || "
			     "age > 90 || value > 1",
			     C_, &env, &v),
			 -ENODATA);
}
END_TEST

START_TEST(expr_not_finite)
{
	struct fg_expr_env env = full;
	double v = 42;

	ck_assert_int_eq(run("value / 0", N_, &full, &v), -EDOM);
	ck_assert_int_eq(run("0 / 0", N_, &full, &v), -EDOM);
	ck_assert_int_eq(run("value % 0", N_, &full, &v), -EDOM);
	ck_assert_int_eq(run("1e308 * 10", N_, &full, &v), -EDOM);
	ck_assert_int_eq(run("-1e308 - 1e308", N_, &full, &v), -EDOM);
	/* An intermediate, even when the result would be finite. */
	ck_assert_int_eq(run("1e308 * 10 > 0", C_, &full, &v), -EDOM);
	ck_assert_int_eq(run("min(1e308 * 10, 1)", N_, &full, &v), -EDOM);
	ck_assert_int_eq(run("1 / (value - 10) == 0", C_, &full, &v), -EDOM);
	ck_assert(v == 42);
	/* A variable that is not finite. */
	env.vars[FG_EXPR_SNR] = NAN;
	ck_assert_int_eq(run("snr > 1", C_, &env, &v), -EDOM);
	env.vars[FG_EXPR_SNR] = -INFINITY;
	ck_assert_int_eq(run("snr < 1", C_, &env, &v), -EDOM);
	ck_assert(v == 42);
	/* The largest finite values are fine. */
	ck_assert_int_eq(run("1e308 + 7e307", N_, &full, &v), 0);
	ck_assert(v == 1e308 + 7e307);
	ck_assert_int_eq(run("round(1.7976931348623157e308)", N_, &full, &v), 0);
	ck_assert(v == 1.7976931348623157e308);
}
END_TEST

START_TEST(expr_vars_mask)
{
	static const struct {
		const char *text;
		enum fg_expr_type type;
		unsigned vars;
	} cases[] = {
		{ "1 + 2", N_, 0 },
		{ "value", N_, 1u << FG_EXPR_VALUE },
		{ "rssi", N_, 1u << FG_EXPR_RSSI },
		{ "snr", N_, 1u << FG_EXPR_SNR },
		{ "battery + battery", N_, 1u << FG_EXPR_BATTERY },
		{ "age", N_, 1u << FG_EXPR_AGE },
		{ "value > 1 && (rssi < -90 || snr > 3)", C_,
		  1u << FG_EXPR_VALUE | 1u << FG_EXPR_RSSI | 1u << FG_EXPR_SNR },
		{ "round(value + rssi + snr + battery + age, 2)", N_, ALL_VARS },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fg_expr *e = compile_ok(cases[i].text, cases[i].type);

		ck_assert_uint_eq(fg_expr_vars(e), cases[i].vars);
		fg_expr_free(e);
	}
	ck_assert_uint_eq(fg_expr_vars(NULL), 0);
}
END_TEST

START_TEST(expr_program_size)
{
	static const struct {
		const char *text;
		enum fg_expr_type type;
		size_t size;
	} cases[] = {
		{ "1", N_, 1 },
		{ "-4", N_, 1 }, /* a negative constant */
		{ "-value", N_, 2 },
		{ "value + 1", N_, 3 },
		{ "round(value, 2)", N_, 2 }, /* the digits are in the instruction */
		{ "round(value)", N_, 2 },
		{ "min(value, 1)", N_, 3 },
		{ "value > 1 && snr > 2", C_, 7 }, /* 3 + the jump + 3 */
		{ "!(value > 1)", C_, 4 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fg_expr *e = compile_ok(cases[i].text, cases[i].type);

		ck_assert_msg(fg_expr_size(e) == cases[i].size, "'%s': %zu instructions",
			      cases[i].text, fg_expr_size(e));
		fg_expr_free(e);
	}
	ck_assert_uint_eq(fg_expr_size(NULL), 0);
}
END_TEST

/* --------------------------------------------------------------- limits */

/* "s" repeated n times, between head and tail; the caller frees it. */
static char *repeat(const char *head, const char *s, size_t n, const char *mid, const char *t,
		    size_t tn)
{
	size_t len = strlen(head) + n * strlen(s) + strlen(mid) + tn * strlen(t) + 1;
	char *buf = malloc(len);

	ck_assert_ptr_nonnull(buf);
	strcpy(buf, head);
	for (size_t i = 0; i < n; i++)
		strcat(buf, s);
	strcat(buf, mid);
	for (size_t i = 0; i < tn; i++)
		strcat(buf, t);
	return buf;
}

START_TEST(expr_length_limit)
{
	char *text = repeat("1", " ", 4095, "", "", 0);
	double v;

	ck_assert_uint_eq(strlen(text), 4096);
	ck_assert_int_eq(run(text, N_, &full, &v), 0);
	ck_assert(v == 1);
	free(text);

	text = repeat("1", " ", 4096, "", "", 0);
	assert_error(text, N_, -E2BIG, 4097, "expression longer than 4096 bytes");
	free(text);

	/* 4096 digits make one number. */
	text = repeat("", "0", 4095, "7", "", 0);
	ck_assert_int_eq(run(text, N_, &full, &v), 0);
	ck_assert(v == 7);
	free(text);
}
END_TEST

START_TEST(expr_nesting_limit)
{
	char *text;
	double v;

	text = repeat("", "(", 64, "value", ")", 64);
	ck_assert_int_eq(run(text, N_, &full, &v), 0);
	ck_assert(v == 10);
	free(text);
	text = repeat("", "(", 65, "value", ")", 65);
	assert_error(text, N_, -E2BIG, 65, "nested deeper than 64");
	free(text);

	text = repeat("", "-", 64, "value", "", 0);
	ck_assert_int_eq(run(text, N_, &full, &v), 0);
	ck_assert(v == 10);
	free(text);
	text = repeat("1 + ", "!", 65, "(value > 1)", "", 0);
	assert_error(text, C_, -E2BIG, 69, "nested deeper than 64");
	free(text);

	text = repeat("", "abs(", 65, "1", ")", 65);
	assert_error(text, N_, -E2BIG, 257, "nested deeper than 64");
	free(text);

	/* The deepest stack nesting allows: a sum, a product and a first argument per level. */
	text = repeat("", "1 + 1 * min(1, ", 64, "1", ")", 64);
	ck_assert_int_eq(run(text, N_, &full, &v), 0);
	ck_assert(v == 2);
	free(text);
	text = repeat("1 < ", "1 + 1 * min(1, ", 64, "1 + 1 * 1", ")", 64);
	ck_assert_int_eq(run(text, C_, &full, &v), 0);
	ck_assert(v == 1);
	free(text);
}
END_TEST

/* ------------------------------------------------------------ the API */

START_TEST(expr_api)
{
	struct fg_expr *e = NULL;
	char small[8];
	size_t col = 99;

	ck_assert_str_eq(fg_expr_var_to_string(FG_EXPR_VALUE), "value");
	ck_assert_str_eq(fg_expr_var_to_string(FG_EXPR_RSSI), "rssi");
	ck_assert_str_eq(fg_expr_var_to_string(FG_EXPR_SNR), "snr");
	ck_assert_str_eq(fg_expr_var_to_string(FG_EXPR_BATTERY), "battery");
	ck_assert_str_eq(fg_expr_var_to_string(FG_EXPR_AGE), "age");
	ck_assert_ptr_null(fg_expr_var_to_string(FG_EXPR_VAR__COUNT));

	/* The message is cut to fit, always terminated; err and the column may be NULL. */
	ck_assert_int_eq(fg_expr_compile("vlaue", N_, &e, &col, small, sizeof(small)), -EINVAL);
	ck_assert_str_eq(small, "unknown");
	ck_assert_uint_eq(col, 1);
	ck_assert_int_eq(fg_expr_compile("1 +", N_, &e, NULL, NULL, 0), -EINVAL);
	ck_assert_ptr_null(e);

	/* On success the column is not touched. */
	col = 99;
	ck_assert_int_eq(fg_expr_compile("1", N_, &e, &col, small, sizeof(small)), 0);
	ck_assert_uint_eq(col, 99);
	ck_assert_str_eq(small, "");
	fg_expr_free(e);

	ck_assert_int_eq(fg_expr_compile(NULL, N_, &e, &col, small, sizeof(small)), -EINVAL);
	ck_assert_int_eq(
		fg_expr_compile("1", (enum fg_expr_type) 7, &e, &col, small, sizeof(small)),
		-EINVAL);
	ck_assert_int_eq(fg_expr_eval(NULL, &full, &(double){ 0 }), -EINVAL);
	fg_expr_free(NULL);

	/* One program, evaluated many times with different readings. */
	e = compile_ok("value > 20 && battery < 3.5", C_);
	for (int i = 0; i < 40; i++) {
		struct fg_expr_env env = full;
		double v = -1;

		env.vars[FG_EXPR_VALUE] = i;
		ck_assert_int_eq(fg_expr_eval(e, &env, &v), 0);
		ck_assert(v == (i > 20));
	}
	fg_expr_free(e);
}
END_TEST

static Suite *expr_suite(void)
{
	Suite *s = suite_create("expr");
	TCase *tc;

	tc = tcase_create("values");
	tcase_add_loop_test(tc, expr_table, 0, (int) (sizeof(table) / sizeof(table[0])));
	tcase_add_test(tc, expr_conditions_are_zero_or_one);
	tcase_add_test(tc, expr_no_negative_zero);
	tcase_add_test(tc, expr_numbers_ignore_the_locale);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, expr_type_errors);
	tcase_add_test(tc, expr_whole_expression_has_the_wanted_type);
	tcase_add_test(tc, expr_syntax_errors);
	tcase_add_test(tc, expr_comparisons_do_not_chain);
	tcase_add_test(tc, expr_bad_numbers);
	tcase_add_test(tc, expr_unknown_names);
	tcase_add_test(tc, expr_arity);
	tcase_add_test(tc, expr_round_digits_must_be_constant);
	suite_add_tcase(s, tc);

	tc = tcase_create("eval");
	tcase_add_test(tc, expr_missing_variables);
	tcase_add_test(tc, expr_short_circuit);
	tcase_add_test(tc, expr_not_finite);
	tcase_add_test(tc, expr_vars_mask);
	tcase_add_test(tc, expr_program_size);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, expr_length_limit);
	tcase_add_test(tc, expr_nesting_limit);
	tcase_add_test(tc, expr_api);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(expr_suite());
}
