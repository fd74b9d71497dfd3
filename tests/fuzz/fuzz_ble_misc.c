/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer target for the RuuviTag (5 and 3), Govee, iBeacon and
 * Eddystone TLM decoders. The first input byte picks the decoder (byte % 5)
 * and a small max (byte / 5 % 16, to reach -ENOBUFS); the rest is the
 * payload. Each input is decoded twice, with room for every value and with
 * the small max.
 *
 * Invariants: no read past the payload; a failure is one of the documented
 * errors, with a NUL-terminated, non-empty reason, and leaves *ret_n and
 * *res alone; a success returns at most max values whose names
 * fg_reading_name_valid accepts, whose units and texts are NUL-terminated,
 * whose numbers are finite, and of a kind the format code knows. A format 5
 * frame that decodes with its tx power present is built again by
 * fg_ble_build_ruuvi5 from the decoded values and must give the same bytes.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/ble.h"
#include "core/units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define G0 9.80665

static const fg_ble_decode_fn decoders[] = {
	fg_ble_ruuvi5_decode,  fg_ble_ruuvi3_decode,	    fg_ble_govee_decode,
	fg_ble_ibeacon_decode, fg_ble_eddystone_tlm_decode,
};

static struct fg_codec_value out[FG_CODEC_VALUES_MAX];

/* The number named quantity among the first n, or NaN (the builder's "not available"). */
static double number(const char *quantity, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(out[i].quantity, quantity))
			return out[i].number;
	return NAN;
}

/* Rebuild a decoded format 5 frame and compare it with the original. */
static void ruuvi5_round_trip(const uint8_t *p, size_t len, size_t n)
{
	double tx = number("tx_power", n), movements = number("movement_counter", n);
	double sequence = number("measurement_sequence", n);
	uint8_t mac[6], buf[24];
	const uint8_t *macp = NULL;
	size_t blen = 0;
	unsigned m[6];

	/* tx power is an int in the builder: "not available" cannot be built */
	if (isnan(tx))
		return;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(out[i].quantity, "mac") != 0)
			continue;
		if (sscanf(out[i].text, "%2x:%2x:%2x:%2x:%2x:%2x", &m[0], &m[1], &m[2], &m[3],
			   &m[4], &m[5]) != 6)
			abort();
		for (int k = 0; k < 6; k++)
			mac[k] = (uint8_t) m[k];
		macp = mac;
	}
	if (fg_ble_build_ruuvi5(number("temperature", n), number("humidity", n),
				number("pressure", n), number("acceleration_x", n) / G0,
				number("acceleration_y", n) / G0, number("acceleration_z", n) / G0,
				number("battery_voltage", n), (int) tx + 30, /* dBW out, dBm in */
				isnan(movements) ? 255 : (uint8_t) movements,
				isnan(sequence) ? 65535 : (uint16_t) sequence, macp, buf,
				sizeof(buf), &blen) != 0)
		abort();
	if (blen != len || memcmp(buf, p, len) != 0)
		abort();
}

static void check(unsigned which, const uint8_t *p, size_t len, size_t max)
{
	struct fg_ble_data d = { .p = p, .n = len };
	struct fg_ble_result res, poison;
	char why[96];
	size_t n = SIZE_MAX;
	int r;

	memset(why, 0x55, sizeof(why));
	memset(&res, 0xA5, sizeof(res));
	memcpy(&poison, &res, sizeof(res));
	r = decoders[which](&d, NULL, out, max, &n, &res, why, sizeof(why));
	if (r < 0) {
		if (r != -EBADMSG && r != -ENOBUFS && r != -EACCES)
			abort();
		if (n != SIZE_MAX || memcmp(&res, &poison, sizeof(res)) != 0)
			abort();
		if (!memchr(why, '\0', sizeof(why)) || why[0] == '\0')
			abort();
		return;
	}
	if (r != 0 || n > max || res.has_counter)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct fg_codec_value *v = &out[i];

		if (!memchr(v->quantity, '\0', sizeof(v->quantity)) ||
		    !fg_reading_name_valid(v->quantity) || !memchr(v->unit, '\0', sizeof(v->unit)) ||
		    (v->unit[0] && !fg_unit_registered(v->unit)))
			abort();
		switch (v->kind) {
		case FG_VALUE_NUMBER:
			if (!isfinite(v->number))
				abort();
			break;
		case FG_VALUE_STRING:
			if (!memchr(v->text, '\0', sizeof(v->text)))
				abort();
			break;
		case FG_VALUE_BOOL:
			break;
		default:
			abort();
		}
	}
	if (which == 0 && max == FG_CODEC_VALUES_MAX)
		ruuvi5_round_trip(p, len, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned which;

	if (size == 0)
		return 0;
	which = data[0] % 5;
	check(which, data + 1, size - 1, FG_CODEC_VALUES_MAX);
	check(which, data + 1, size - 1, (size_t) (data[0] / 5 % 16));
	return 0;
}
