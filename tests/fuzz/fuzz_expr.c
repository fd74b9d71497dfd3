/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer target for the rule expression language. The input is the
 * expression text (cut at its first NUL, as a configuration string would
 * be). It is compiled as a number and as a condition: at most one can
 * succeed, a failure has a documented code, a message and a column within
 * the text (or just past it). What compiles is evaluated in a few
 * environments, which must give a documented code and, for a condition,
 * exactly 0 or 1; a number is always finite.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TEXT_MAX 4096

static struct fg_expr_env envs[5];

static void make_envs(void)
{
	static const double values[] = { 0, -1, 1e308 };

	/* envs[0]: none present. */
	for (int v = 0; v < FG_EXPR_VAR__COUNT; v++) {
		envs[1].vars[v] = 12.5 - 7 * v; /* all present, all different */
		envs[1].have[v] = true;
		for (int i = 0; i < 3; i++) {
			envs[2 + i].vars[v] = values[i];
			envs[2 + i].have[v] = true;
		}
	}
}

static void check_eval(const struct fg_expr *e, enum fg_expr_type type)
{
	unsigned vars = fg_expr_vars(e);
	double first = 0;
	int first_r = 1;

	if (vars & ~((1u << FG_EXPR_VAR__COUNT) - 1) || fg_expr_size(e) == 0 ||
	    fg_expr_size(e) > TEXT_MAX)
		abort();
	for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
		double v = -12345.0;
		int r = fg_expr_eval(e, &envs[i], &v);

		if (r == 0) {
			if (!isfinite(v) || (type == FG_EXPR_CONDITION && v != 0 && v != 1))
				abort();
		} else if (r != -ENODATA && r != -EDOM) {
			abort();
		} else if (v != -12345.0) {
			abort(); /* written only on success */
		}
		/* With every variable present nothing is missing; with none, nothing read is. */
		if (r == -ENODATA && (i > 0 || vars == 0))
			abort();
		/* An expression that reads no variable does not depend on them. */
		if (vars == 0 && i > 0 && (r != first_r || (r == 0 && v != first)))
			abort();
		if (i == 0) {
			first = v;
			first_r = r;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum fg_expr_type types[2] = { FG_EXPR_NUMBER, FG_EXPR_CONDITION };
	static bool ready;
	char text[TEXT_MAX + 64];
	int compiled = 0;
	size_t len;

	if (!ready) {
		make_envs();
		ready = true;
	}
	/* Bounded, but a little over the limit so -E2BIG is reached too. */
	len = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	memcpy(text, data, len);
	text[len] = '\0';
	len = strlen(text);

	for (int t = 0; t < 2; t++) {
		struct fg_expr *e = (struct fg_expr *) 1;
		size_t column = 0;
		char err[128];
		int r;

		memset(err, 0x55, sizeof(err));
		r = fg_expr_compile(text, types[t], &e, &column, err, sizeof(err));
		if (r == 0) {
			if (!e || err[0] != '\0')
				abort();
			compiled++;
			check_eval(e, types[t]);
			fg_expr_free(e);
			continue;
		}
		if (r != -EINVAL && r != -E2BIG && r != -ENOMEM)
			abort();
		if (e != (struct fg_expr *) 1)
			abort(); /* written only on success */
		if (!memchr(err, '\0', sizeof(err)) || !err[0])
			abort();
		if (r != -ENOMEM && (column < 1 || column > len + 1))
			abort();
		if (r == -E2BIG) {
			if (len <= TEXT_MAX && !strstr(err, "nested"))
				abort();
		} else if (len > TEXT_MAX) {
			abort();
		}
	}
	/* An expression has one type: never both. */
	if (compiled > 1)
		abort();
	return 0;
}
