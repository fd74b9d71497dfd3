/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Govee H5072/H5075 thermo-hygrometers (and the H5129 that shares the
 * format): manufacturer data with company id 0xEC88, exactly 6 bytes after
 * the company id. Govee publishes no specification; the layout is the one
 * the public decoders agree on (github.com/Bluetooth-Devices/govee-ble
 * src/govee_ble/parser.py, decode_temp_humid and
 * decode_temp_humid_battery_error; github.com/Thrilleratplay/GoveeWatcher
 * README.md; github.com/wcbonner/GoveeBTTempLogger):
 *
 * off  field
 * 0    0x00 (not checked: no decoder does, and its meaning is unknown)
 * 1    u24 big endian: bit 23 is the sign of the temperature, the low 23
 *      bits are |temperature| in 0.1 C times 1000 plus humidity in 0.1 %
 *      (21.6 C and 49.8 % is 216498, 0x034DB2)
 * 4    bit 7: sensor error; bits 0..6: battery %
 * 5    0x00 (not checked)
 *
 * quantity     value                                   unit
 * temperature  +-(low23 / 1000) / 10, integer division Cel
 * humidity     (low23 % 1000) / 10                     %RH
 * battery      byte 4 & 0x7F                           %EL
 *
 * The temperature is the integer quotient: dividing the whole number by
 * 10000, as GoveeWatcher's README does (20.5149 C for 0x03215D), lets the
 * humidity digits leak into the temperature; GoveeBTTempLogger changed to
 * the quotient ("issue #49 fix") and govee-ble has always used it. Like
 * govee-ble, a frame with the error bit set or a temperature outside
 * -40..100 C (what a stuck or absent sensor sends) carries no temperature
 * and humidity: both are left out and only the battery is published.
 * The battery percentage goes out as "%EL", SenML's unit for a remaining
 * battery level, as from every other decoder ("%" would be a ratio 0..1).
 *
 * Exact length: company 0xEC88 is also used by the H5074 (7 bytes) and
 * the H5051 (9 bytes) with other layouts, and some non-BlueZ stacks glue
 * the following iBeacon element onto this one (31 bytes, the "extended"
 * vectors of the public decoders); all of these are -EBADMSG here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec/ble.h"

#define GOVEE_LEN      6
#define GOVEE_MIN_TEMP -40.0 /* govee-ble's plausibility window */
#define GOVEE_MAX_TEMP 100.0

/* Say why into the caller's buffer, if it gave one, and return err. */
__attribute__((format(printf, 4, 5))) static int fail(int err, char *why, size_t why_size,
						      const char *fmt, ...)
{
	va_list ap;

	if (why && why_size > 0) {
		va_start(ap, fmt);
		(void) vsnprintf(why, why_size, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* Fill one numeric value. */
static void set_number(struct fg_codec_value *v, const char *quantity, const char *unit, double x)
{
	memset(v, 0, sizeof(*v));
	(void) snprintf(v->quantity, sizeof(v->quantity), "%s", quantity);
	(void) snprintf(v->unit, sizeof(v->unit), "%s", unit);
	v->kind = FG_VALUE_NUMBER;
	v->number = x;
}

int fg_ble_govee_decode(const struct fg_ble_data *d, const struct fg_ble_keys *keys,
			struct fg_codec_value *out, size_t max, size_t *ret_n,
			struct fg_ble_result *res, char *why, size_t why_size)
{
	const uint8_t *p;
	uint32_t packed, magnitude;
	double temperature, humidity;
	bool valid;
	size_t n;

	(void) keys;
	if (!d || (!d->p && d->n) || (!out && max > 0) || !ret_n)
		return fail(-EINVAL, why, why_size, "invalid arguments");
	if (d->n != GOVEE_LEN)
		return fail(-EBADMSG, why, why_size, "govee: expected %d bytes, got %zu", GOVEE_LEN,
			    d->n);
	p = d->p;

	packed = (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
	magnitude = packed & 0x7FFFFF;
	/* Integer quotient first, then one exact division: 216 / 10.0 is the double of 21.6. */
	temperature = (double) (magnitude / 1000) / 10.0;
	if ((packed & 0x800000) && magnitude / 1000 != 0) /* no -0 for -0.0x C */
		temperature = -temperature;
	humidity = (double) (magnitude % 1000) / 10.0;
	valid = !(p[4] & 0x80) && temperature >= GOVEE_MIN_TEMP && temperature <= GOVEE_MAX_TEMP;

	n = valid ? 3 : 1;
	if (n > max)
		return fail(-ENOBUFS, why, why_size, "more than %zu values", max);
	if (valid) {
		set_number(&out[0], "temperature", "Cel", temperature);
		set_number(&out[1], "humidity", "%RH", humidity);
	}
	set_number(&out[n - 1], "battery", "%EL", p[4] & 0x7F);

	*ret_n = n;
	if (res)
		*res = (struct fg_ble_result){ .has_packet_id = false };
	return 0;
}
