/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/config-internal.h"

/*
 * A small scanner that follows libconfig's lexical rules only as far as
 * needed to find integer literals: comments (#, //, block comments), strings
 * with backslash escapes, names ([A-Za-z*][-A-Za-z0-9_*]*, which may hold
 * digits), floats (skipped) and integers, decimal or hex, with an optional L
 * or LL. If it ever disagrees with libconfig, the loader notices that the
 * counts differ and falls back to libconfig's values.
 */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hex_value(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Skip an exponent ([eE][-+]?digits) if one is there, as libconfig's float pattern does. */
static const char *skip_exponent(const char *p)
{
	const char *q = p;

	if (*q != 'e' && *q != 'E')
		return p;
	q++;
	if (*q == '-' || *q == '+')
		q++;
	if (!is_digit(*q))
		return p;
	while (is_digit(*q))
		q++;
	return q;
}

/* Skip the rest of a float from its '.': digits, then an optional exponent. */
static const char *skip_fraction(const char *p)
{
	for (p++; is_digit(*p); p++)
		;
	return skip_exponent(p);
}

/* Append one literal; returns 0 or -ENOMEM. */
static int push(struct fg_int_literals *l, const struct fg_int_literal *lit)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct fg_int_literal *v = reallocarray(l->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *lit;
	return 0;
}

/* Scan a number at p; records integers in l. Returns the first character after it. */
static const char *scan_number(const char *p, unsigned line, struct fg_int_literals *l, int *r)
{
	struct fg_int_literal lit = { .line = line };
	const char *start = p;

	if (*p == '-' || *p == '+')
		lit.neg = *p++ == '-';
	/* Hex takes no sign: "+0x1" is the integer +0 and the name "x1". */
	if (p == start && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && hex_value(p[2]) >= 0) {
		for (p += 2; hex_value(*p) >= 0; p++) {
			if (lit.mag >> 60)
				lit.overflow = true;
			lit.mag = lit.mag << 4 | (uint64_t) hex_value(*p);
		}
	} else {
		for (; is_digit(*p); p++) {
			uint64_t d = (uint64_t) (*p - '0');

			if (lit.mag > (UINT64_MAX - d) / 10)
				lit.overflow = true;
			lit.mag = lit.mag * 10 + d;
		}
		/* A float: skip it whole, it is no integer. */
		if (*p == '.')
			return skip_fraction(p);
		if (skip_exponent(p) != p)
			return skip_exponent(p);
	}
	if (*p == 'L') {
		p++;
		if (*p == 'L')
			p++;
	}
	if ((size_t) (p - start) < sizeof(lit.text)) {
		memcpy(lit.text, start, (size_t) (p - start));
		lit.text[p - start] = '\0';
	} else {
		memcpy(lit.text, start, sizeof(lit.text) - 4);
		memcpy(lit.text + sizeof(lit.text) - 4, "...", 4);
	}
	*r = push(l, &lit);
	return p;
}

int fg_config_scan_literals(const char *text, struct fg_int_literals *ret)
{
	struct fg_int_literals l = { 0 };
	unsigned line = 1;
	const char *p = text;
	int r = 0;

	while (*p && r == 0) {
		if (*p == '\n') {
			line++;
			p++;
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*p && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
				if (*p == '\n')
					line++;
			if (*p)
				p += 2;
		} else if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				if (*p == '\n')
					line++;
			}
			if (*p)
				p++;
		} else if (is_alpha(*p) || *p == '*' || *p == '@') {
			for (p++;
			     is_alpha(*p) || is_digit(*p) || *p == '-' || *p == '_' || *p == '*';
			     p++)
				;
		} else if (is_digit(*p) || ((*p == '-' || *p == '+') && is_digit(p[1]))) {
			p = scan_number(p, line, &l, &r);
		} else if (*p == '.') {
			/* libconfig reads even "." and ".E+2" as floats. */
			p = skip_fraction(p);
		} else {
			p++;
		}
	}
	if (r < 0) {
		fg_config_literals_free(&l);
		return r;
	}
	*ret = l;
	return 0;
}

void fg_config_literals_free(struct fg_int_literals *l)
{
	if (!l)
		return;
	free(l->v);
	*l = (struct fg_int_literals){ 0 };
}
