/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer target for the declarative layouts. The input's first bytes
 * build a small layout, the way a configuration would, and the rest is the
 * payload:
 *
 *   byte 0        fields (1 + b % 4), and max values (b >> 2 & 7; 7 = all)
 *   4 per field   type/order/bool, byte offset, bit offset/scale, bit count/fport/name
 *   1             the frame's FPort
 *   rest          the payload
 *
 * Field bytes can also make invalid fields (unknown type, bits outside the
 * type, scale 0 or NaN, fport 300, a repeated name). fg_layout_validate
 * must say which and why; a valid layout must decode any payload to at
 * most max values with usable names and units, or refuse it with a reason.
 * Invalid layouts are decoded too: decode must refuse them, not misbehave.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "core/units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fg_codec_value out[FG_CODEC_VALUES_MAX];

static const double scales[8] = { 1, 0.01, -2, 1e-3, 0, NAN, 1e308, 3.6e6 };
static const char *const units[4] = { "", "Cel", "%RH", "V" };

static void check_values(size_t n, size_t max)
{
	if (n > max)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct fg_codec_value *v = &out[i];

		if (!memchr(v->quantity, '\0', sizeof(v->quantity)) ||
		    !fg_reading_name_valid(v->quantity) || !memchr(v->unit, '\0', sizeof(v->unit)) ||
		    (v->unit[0] && !fg_unit_registered(v->unit)))
			abort();
		if (v->kind != FG_VALUE_NUMBER && v->kind != FG_VALUE_BOOL)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_layout_field f[4];
	struct fg_layout l = { f, 0 };
	size_t nf, max, n, bad = SIZE_MAX;
	char why[96];
	int fport, r, rv;

	if (size < 1)
		return 0;
	nf = 1 + data[0] % 4;
	max = (data[0] >> 2 & 7) == 7 ? FG_CODEC_VALUES_MAX : (data[0] >> 2 & 7);
	if (size < 2 + 4 * nf)
		return 0;
	for (size_t i = 0; i < nf; i++) {
		const uint8_t *b = data + 1 + 4 * i;

		f[i] = (struct fg_layout_field){
			.type = (enum fg_layout_type)(b[0] % 10),
			.little_endian = b[0] & 0x80,
			.boolean = b[0] & 0x40,
			.offset = b[1] % 32,
			.bit_offset = b[2] & 0x1f,
			.bit_count = b[3] % 34,
			.scale = scales[b[2] >> 5],
			.add = (b[0] & 0x20) ? -40 : 0,
			.fport = (int[]){ -1, 1, 2, 300 }[b[3] >> 6],
		};
		if (f[i].bit_count == 0 && (b[0] & 0x10))
			f[i].bit_offset = 0; /* mostly whole values, sometimes a stray offset */
		snprintf(f[i].name, sizeof(f[i].name), (b[3] & 0x20) ? "dup" : "field_%zu", i);
		snprintf(f[i].unit, sizeof(f[i].unit), "%s", units[(b[0] >> 4) & 3]);
	}
	l.n = nf;
	fport = data[1 + 4 * nf] % 4;
	data += 2 + 4 * nf;
	size -= 2 + 4 * nf;

	memset(why, 0x55, sizeof(why));
	rv = fg_layout_validate(&l, &bad, why, sizeof(why));
	if (rv < 0 && (rv != -EINVAL || bad >= nf || !memchr(why, '\0', sizeof(why)) || !why[0]))
		abort();
	if (rv == 0 && bad != SIZE_MAX)
		abort();

	n = SIZE_MAX;
	memset(why, 0x55, sizeof(why));
	r = fg_layout_decode(&l, fport, data, size, out, max, &n, why, sizeof(why));
	if (r == 0) {
		check_values(n, max);
		return 0;
	}
	if (n != SIZE_MAX || !memchr(why, '\0', sizeof(why)) || !why[0])
		abort();
	if (r != -EBADMSG && r != -ENOBUFS && !(rv < 0 && r == -EINVAL))
		abort();
	return 0;
}
