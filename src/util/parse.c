/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "util/parse.h"

/* Leading decimal digits of s into *ret; *end after them. -EINVAL if none, -ERANGE on overflow. */
static int digits(const char *s, const char **end, uint64_t *ret)
{
	uint64_t v = 0;
	const char *p = s;

	if (!s || *p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*end = p;
	*ret = v;
	return 0;
}

int fg_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	const char *end;
	uint64_t v;
	int r;

	r = digits(s, &end, &v);
	if (r < 0)
		return r;
	if (*end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int fg_parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret)
{
	bool neg = false;
	const char *end;
	uint64_t mag;
	int64_t v;
	int r;

	if (s && (*s == '-' || *s == '+')) {
		neg = *s == '-';
		s++;
	}
	r = digits(s, &end, &mag);
	if (r < 0)
		return r;
	if (*end)
		return -EINVAL;
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			return -ERANGE;
		v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return -ERANGE;
		v = (int64_t)mag;
	}
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

struct unit {
	const char *name;
	uint64_t factor;
};

/* Digits followed by one unit from the table (or none: default_factor). */
static int with_unit(const char *s, const struct unit *units, uint64_t default_factor,
		     uint64_t *ret)
{
	const char *end;
	uint64_t v, f = 0;
	int r;

	r = digits(s, &end, &v);
	if (r < 0)
		return r;
	if (!*end) {
		f = default_factor;
	} else {
		for (const struct unit *u = units; u->name; u++)
			if (strcmp(end, u->name) == 0) {
				f = u->factor;
				break;
			}
		if (!f)
			return -EINVAL;
	}
	if (v != 0 && f > UINT64_MAX / v)
		return -ERANGE;
	*ret = v * f;
	return 0;
}

int fg_parse_duration_ms(const char *s, uint64_t *ret_ms)
{
	static const struct unit units[] = {
		{ "ms", 1 },
		{ "s", 1000 },
		{ "m", 60 * 1000 },
		{ "h", 3600 * 1000 },
		{ "d", UINT64_C(86400) * 1000 },
		{ NULL, 0 },
	};

	return with_unit(s, units, 1000, ret_ms);
}

int fg_parse_size(const char *s, uint64_t *ret_bytes)
{
	static const struct unit units[] = {
		{ "K", UINT64_C(1) << 10 },   { "k", UINT64_C(1) << 10 },
		{ "KiB", UINT64_C(1) << 10 }, { "M", UINT64_C(1) << 20 },
		{ "MiB", UINT64_C(1) << 20 }, { "G", UINT64_C(1) << 30 },
		{ "GiB", UINT64_C(1) << 30 }, { "T", UINT64_C(1) << 40 },
		{ "TiB", UINT64_C(1) << 40 }, { NULL, 0 },
	};

	return with_unit(s, units, 1, ret_bytes);
}
