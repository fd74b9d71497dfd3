/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer target for fg_ble_bthome_decode: any bytes as BTHome service
 * data, decoded without keys, with keys but no bindkey, and with the
 * bindkey and address of the bthome.io encryption example (so the seeds
 * taken from it decrypt and mutations reach the object parser through the
 * MIC check only when they keep it valid; plain frames reach it without a
 * key). What comes back must be usable as is: at most max values, names
 * fg_reading_name_valid accepts, units, texts and reasons NUL-terminated,
 * an errno the contract names, and nothing written on failure. The first
 * byte also picks a small max, to reach -ENOBUFS.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/ble.h"
#include "core/units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fg_codec_value out[FG_CODEC_VALUES_MAX];

/* bthome.io/encryption: key 231d39c1d7cc1ab1aee224cd096db932, MAC 54:48:E6:8F:80:A5. */
static const uint8_t bindkey[16] = { 0x23, 0x1d, 0x39, 0xc1, 0xd7, 0xcc, 0x1a, 0xb1,
				     0xae, 0xe2, 0x24, 0xcd, 0x09, 0x6d, 0xb9, 0x32 };

static void check(const uint8_t *data, size_t size, const struct fg_ble_keys *keys, size_t max)
{
	struct fg_ble_data d = { .service = true, .id = 0xFCD2, .p = data, .n = size };
	struct fg_ble_result res, untouched;
	char why[96];
	size_t n = SIZE_MAX;
	int r;

	memset(why, 0x55, sizeof(why));
	memset(&res, 0x5A, sizeof(res));
	memcpy(&untouched, &res, sizeof(res));
	r = fg_ble_bthome_decode(&d, keys, out, max, &n, &res, why, sizeof(why));
	if (r < 0) {
		if (r != -EBADMSG && r != -ENOBUFS && r != -EACCES && r != -ESTALE)
			abort();
		if (n != SIZE_MAX || memcmp(&res, &untouched, sizeof(res)))
			abort();
		if (!memchr(why, '\0', sizeof(why)) || why[0] == '\0')
			abort();
		/* Only an encrypted frame can be stale, and only with a key. */
		if (r == -ESTALE && (!keys || !keys->bindkey || size < 1 || !(data[0] & 1)))
			abort();
		return;
	}
	if (r != 0 || n > max)
		abort();
	if (size < 1 || (data[0] >> 5) != 2)
		abort();
	/* Encrypted frames say their counter, plain ones do not. */
	if (res.has_counter != (bool) (data[0] & 1))
		abort();
	if (keys && keys->have_counter && res.has_counter && res.counter <= keys->last_counter)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct fg_codec_value *v = &out[i];

		if (!memchr(v->quantity, '\0', sizeof(v->quantity)) ||
		    !fg_reading_name_valid(v->quantity) || !memchr(v->unit, '\0', sizeof(v->unit)) ||
		    (v->unit[0] && !fg_unit_registered(v->unit)))
			abort();
		switch (v->kind) {
		case FG_VALUE_NUMBER:
			/* Every BTHome value is a bounded integer times a finite factor. */
			if (!isfinite(v->number))
				abort();
			break;
		case FG_VALUE_BOOL:
			break;
		case FG_VALUE_STRING:
			if (!memchr(v->text, '\0', sizeof(v->text)))
				abort();
			break;
		default:
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_ble_keys nokey = { .address = { 0x54, 0x48, 0xE6, 0x8F, 0x80, 0xA5 } };
	struct fg_ble_keys key = nokey;

	key.bindkey = bindkey;
	check(data, size, NULL, FG_CODEC_VALUES_MAX);
	check(data, size, &nokey, FG_CODEC_VALUES_MAX);
	check(data, size, &key, FG_CODEC_VALUES_MAX);
	/* A last counter in the middle of the range: both sides get reached. */
	key.have_counter = true;
	key.last_counter = 0x00112233;
	check(data, size, &key, FG_CODEC_VALUES_MAX);
	if (size > 0) {
		check(data, size, NULL, data[0] % 8);
		check(data, size, &key, data[size - 1] % 8);
	}
	return 0;
}
