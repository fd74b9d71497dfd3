/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer target for util/numfmt.h: the numbers in a published payload come
 * from the air (decoded values, radio metadata), so any double must come out
 * exactly as snprintf writes it. The input is read two ways: its first eight
 * bytes as a double's bits (the ninth picks the precision), and the whole of
 * it as decimal text through strtod, the shape sensor values have.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/numfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_g(double v, int prec)
{
	char want[64], got[FG_NUMFMT_MAX];
	size_t n;

	snprintf(want, sizeof(want), "%.*g", prec, v);
	n = fg_numfmt_g(got, v, prec);
	if (n != strlen(want) || strcmp(got, want) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[64], want[32], got[FG_NUMFMT_MAX];
	double v;
	uint64_t u;

	if (size >= 8) {
		memcpy(&v, data, sizeof(v));
		memcpy(&u, data, sizeof(u));
		check_g(v, 15);
		check_g(v, 6);
		check_g(v, size >= 9 ? data[8] % 17 + 1 : 17);
		snprintf(want, sizeof(want), "%" PRIu64, u);
		if (fg_numfmt_u64(got, u) != strlen(want) || strcmp(got, want) != 0)
			abort();
		snprintf(want, sizeof(want), "%" PRId64, (int64_t) u);
		if (fg_numfmt_i64(got, (int64_t) u) != strlen(want) || strcmp(got, want) != 0)
			abort();
	}
	if (size < sizeof(text)) {
		memcpy(text, data, size);
		text[size] = '\0';
		v = strtod(text, NULL);
		check_g(v, 15);
		check_g(v, 6);
	}
	return 0;
}
