/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer target for fg_cayenne_decode: any bytes as an uplink payload.
 * It must not read past the input, and what it returns must be usable as
 * is: at most max values, names that fg_reading_name_valid accepts, units
 * and reasons NUL-terminated, a value kind the format code knows. The
 * first byte also picks a small max, to reach -ENOBUFS.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "core/units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fg_codec_value out[FG_CODEC_VALUES_MAX];

static void check(const uint8_t *data, size_t size, size_t max)
{
	char why[96];
	size_t n = SIZE_MAX;
	int r;

	memset(why, 0x55, sizeof(why));
	r = fg_cayenne_decode(data, size, out, max, &n, why, sizeof(why));
	if (r < 0) {
		if ((r != -EBADMSG && r != -ENOBUFS) || n != SIZE_MAX)
			abort();
		if (!memchr(why, '\0', sizeof(why)) || why[0] == '\0')
			abort();
		return;
	}
	if (r != 0 || n > max)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct fg_codec_value *v = &out[i];

		if (!memchr(v->quantity, '\0', sizeof(v->quantity)) ||
		    !fg_reading_name_valid(v->quantity) || !memchr(v->unit, '\0', sizeof(v->unit)) ||
		    (v->unit[0] && !fg_unit_registered(v->unit)))
			abort();
		if (v->kind != FG_VALUE_NUMBER && v->kind != FG_VALUE_BOOL)
			abort();
		/* Every LPP value is a bounded integer times a finite factor. */
		if (v->kind == FG_VALUE_NUMBER && !isfinite(v->number))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(data, size, FG_CODEC_VALUES_MAX);
	if (size > 0)
		check(data, size, data[0] % 8);
	return 0;
}
