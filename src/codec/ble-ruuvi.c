/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * RuuviTag manufacturer data (company 0x0499): data format 5 (RAWv2) and
 * data format 3 (RAWv1), as specified in github.com/ruuvi/ruuvi-sensor-protocols
 * dataformat_05.md and dataformat_03.md (the same text is on docs.ruuvi.com,
 * communication/bluetooth-advertisements/data-format-5-rawv2 and
 * data-format-3-rawv1). Every multi-byte field is big endian.
 *
 * Format 5, exactly 24 bytes:
 * off  field              raw                    value out                 quantity unit 0 format
 * 0x05 1    temperature        i16, 0.005 C           raw / 200                 temperature Cel 3
 * humidity           u16, 0.0025 %          raw / 400                 humidity              %RH 5
 * pressure           u16, Pa - 50000        raw + 50000               pressure              Pa 7
 * acceleration x/y/z 3 x i16, mG            raw * g0 / 1000           acceleration_x/_y/_z  m/s2 13
 * power info         u16, top 11 bits       (raw >> 5) + 1600 mV, V   battery_voltage       V low 5
 * bits             (raw & 31) * 2 - 70       tx_power              dBW 15   movement counter   u8
 * raw                       movement_counter      count 16   measurement seq.   u16 raw
 * measurement_sequence  "" 18   MAC                6 bytes                "cb:b8:33:4c:88:4f" mac
 * (string)          ""
 *
 * Format 5 marks a field "not available" with the largest value of an
 * unsigned field, the smallest of a signed one and all ones for the MAC:
 * temperature 0x8000, humidity and pressure 0xFFFF, acceleration 0x8000,
 * battery 2047, tx power 31, movement 255, sequence 0xFFFF, MAC FF:FF:...
 * Such a field is left out of the output, not published as a number (the
 * specification's "invalid values" vector therefore decodes to nothing).
 * The measurement sequence, when available, is also the packet id
 * (res->packet_id): a tag repeats one measurement in several adverts.
 *
 * Format 3, exactly 14 bytes:
 * off  field              raw                    value out                 quantity unit 0 format
 * 0x03 1    humidity           u8, 0.5 %              raw / 2                   humidity %RH 2
 * temperature        sign bit + 7 bit int   +-(int + frac / 100)      temperature           Cel 3
 * u8 fraction 0..99 4    pressure           u16, Pa - 50000        raw + 50000 pressure Pa 6
 * acceleration x/y/z 3 x i16, mG            raw * g0 / 1000           acceleration_x/_y/_z  m/s2 12
 * battery            u16, mV                raw / 1000                battery_voltage       V
 * Format 3 has no "not available" values (the specification suggests
 * sending 0), so every field is published; a temperature fraction above
 * 99 is not a valid encoding and rejects the frame.
 *
 * Units: acceleration comes in milli-g and goes out in m/s2, the SenML
 * unit, with standard gravity g0 = 9.80665 m/s2 (1 mG = 0.00980665 m/s2),
 * as the Cayenne codec does. The tag sends its tx power in dBm, which
 * is one of RFC 8798's secondary units and may not be used in "u"; the
 * registered power level is dBW, so "tx_power" goes out in "dBW", 30 less
 * (4 dBm is -26 dBW; RFC 8798: dBm = dBW with offset -30). The movement
 * counter is a "count", as BTHome's counts; the measurement sequence is an
 * identifier, not an amount, and has no unit.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec/ble-internal.h"

#define G0 9.80665 /* standard gravity, m/s2 per g */

#define RUUVI5_LEN 24
#define RUUVI3_LEN 14

static int16_t get_i16(const uint8_t *p)
{
	return (int16_t) get_u16(p);
}

/* The three acceleration axes, in mG on the air, in m/s2 out; skip_min leaves out 0x8000. */
static void add_acceleration(struct values *vs, const uint8_t *p, bool skip_min)
{
	static const char *const names[3] = { "acceleration_x", "acceleration_y",
					      "acceleration_z" };

	for (int i = 0; i < 3; i++) {
		int16_t raw = get_i16(p + 2 * i);

		if (skip_min && raw == INT16_MIN)
			continue;
		add_number(vs, names[i], "m/s2", (double) raw * G0 / 1000);
	}
}

/* Common argument checks of both decoders. */

int fg_ble_ruuvi5_decode(const struct fg_ble_data *d, const struct fg_ble_keys *keys,
			 struct fg_codec_value *out, size_t max, size_t *ret_n,
			 struct fg_ble_result *res, char *why, size_t why_size)
{
	struct values vs = { .v = out, .max = max };
	const uint8_t *p;
	int16_t temperature;
	uint16_t humidity, pressure, power, sequence;
	static const uint8_t no_mac[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
	int r;

	(void) keys;
	r = check_args(d, out, max, ret_n, why, why_size);
	if (r < 0)
		return r;
	if (d->n != RUUVI5_LEN)
		return fail(-EBADMSG, why, why_size, "ruuvi format 5: expected %d bytes, got %zu",
			    RUUVI5_LEN, d->n);
	p = d->p;
	if (p[0] != 0x05)
		return fail(-EBADMSG, why, why_size,
			    "ruuvi format 5: data format byte is 0x%02x, expected 0x05", p[0]);

	temperature = get_i16(p + 1);
	if (temperature != INT16_MIN)
		add_number(&vs, "temperature", "Cel", temperature / 200.0);
	humidity = get_u16(p + 3);
	if (humidity != 0xFFFF)
		add_number(&vs, "humidity", "%RH", humidity / 400.0);
	pressure = get_u16(p + 5);
	if (pressure != 0xFFFF)
		add_number(&vs, "pressure", "Pa", pressure + 50000.0);
	add_acceleration(&vs, p + 7, true);
	power = get_u16(p + 13);
	if (power >> 5 != 0x7FF)
		add_number(&vs, "battery_voltage", "V", ((power >> 5) + 1600) / 1000.0);
	if ((power & 0x1F) != 0x1F)
		add_number(&vs, "tx_power", "dBW", (power & 0x1F) * 2.0 - 40 - 30);
	if (p[15] != 0xFF)
		add_number(&vs, "movement_counter", "count", p[15]);
	sequence = get_u16(p + 16);
	if (sequence != 0xFFFF)
		add_number(&vs, "measurement_sequence", "", sequence);
	if (memcmp(p + 18, no_mac, sizeof(no_mac)) != 0) {
		char mac[18];

		(void) snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", p[18], p[19],
				p[20], p[21], p[22], p[23]);
		add_text(&vs, "mac", mac);
	}
	if (vs.overflow)
		return fail(-ENOBUFS, why, why_size, "more than %zu values", max);

	*ret_n = vs.n;
	if (res)
		*res = (struct fg_ble_result){
			.has_packet_id = sequence != 0xFFFF,
			.packet_id = sequence != 0xFFFF ? sequence : 0,
		};
	return 0;
}

int fg_ble_ruuvi3_decode(const struct fg_ble_data *d, const struct fg_ble_keys *keys,
			 struct fg_codec_value *out, size_t max, size_t *ret_n,
			 struct fg_ble_result *res, char *why, size_t why_size)
{
	struct values vs = { .v = out, .max = max };
	const uint8_t *p;
	int centi;
	int r;

	(void) keys;
	r = check_args(d, out, max, ret_n, why, why_size);
	if (r < 0)
		return r;
	if (d->n != RUUVI3_LEN)
		return fail(-EBADMSG, why, why_size, "ruuvi format 3: expected %d bytes, got %zu",
			    RUUVI3_LEN, d->n);
	p = d->p;
	if (p[0] != 0x03)
		return fail(-EBADMSG, why, why_size,
			    "ruuvi format 3: data format byte is 0x%02x, expected 0x03", p[0]);
	if (p[3] > 99)
		return fail(-EBADMSG, why, why_size,
			    "ruuvi format 3: temperature fraction %u above 99", p[3]);

	/* Sign and magnitude, not two's complement: 0x81 0x45 is -1.69 C. */
	centi = (p[2] & 0x7F) * 100 + p[3];
	if (p[2] & 0x80)
		centi = -centi;
	add_number(&vs, "temperature", "Cel", centi / 100.0);
	add_number(&vs, "humidity", "%RH", p[1] / 2.0);
	add_number(&vs, "pressure", "Pa", get_u16(p + 4) + 50000.0);
	add_acceleration(&vs, p + 6, false);
	add_number(&vs, "battery_voltage", "V", get_u16(p + 12) / 1000.0);
	if (vs.overflow)
		return fail(-ENOBUFS, why, why_size, "more than %zu values", max);

	*ret_n = vs.n;
	if (res)
		*res = (struct fg_ble_result){ .has_packet_id = false };
	return 0;
}

/*
 * Scale x to the field's resolution and round half away from zero; NaN is
 * "not available" (na), anything outside lo..hi (infinities too) -ERANGE.
 */
static int encode_field(double x, double scale, double offset, long lo, long hi, long na, long *ret)
{
	double r;

	if (isnan(x)) {
		*ret = na;
		return 0;
	}
	r = round(x * scale + offset);
	if (!(r >= lo && r <= hi))
		return -ERANGE;
	*ret = (long) r;
	return 0;
}

static void put_u16(uint8_t *p, long v)
{
	p[0] = (uint8_t) ((unsigned long) v >> 8);
	p[1] = (uint8_t) v;
}

/*
 * Format 5 encoder. Each double is rounded to the field's resolution (half
 * away from zero); NaN encodes the field's "not available" value. A NULL
 * mac is "not available" (all ones). tx_dbm must be even, -40..20;
 * movements 255 and sequence 65535 are sent as they are, i.e. as "not
 * available". The payload is built aside and copied out only on success.
 */
int fg_ble_build_ruuvi5(double temperature, double humidity, double pressure_pa, double ax,
			double ay, double az, double battery_v, int tx_dbm, uint8_t movements,
			uint16_t sequence, const uint8_t mac[6], uint8_t *buf, size_t size,
			size_t *ret_len)
{
	uint8_t p[RUUVI5_LEN];
	const double axes[3] = { ax, ay, az };
	long t, h, pr, a, b;
	int r;

	if (!buf || !ret_len)
		return -EINVAL;
	if (size < sizeof(p))
		return -EMSGSIZE;
	if (tx_dbm < -40 || tx_dbm > 20 || tx_dbm % 2 != 0)
		return -ERANGE;

	p[0] = 0x05;
	r = encode_field(temperature, 200, 0, -32767, 32767, -32768, &t);
	if (r < 0)
		return r;
	put_u16(p + 1, t);
	r = encode_field(humidity, 400, 0, 0, 65534, 65535, &h);
	if (r < 0)
		return r;
	put_u16(p + 3, h);
	r = encode_field(pressure_pa, 1, -50000, 0, 65534, 65535, &pr);
	if (r < 0)
		return r;
	put_u16(p + 5, pr);
	for (int i = 0; i < 3; i++) {
		r = encode_field(axes[i], 1000, 0, -32767, 32767, -32768, &a);
		if (r < 0)
			return r;
		put_u16(p + 7 + 2 * i, a);
	}
	r = encode_field(battery_v, 1000, -1600, 0, 2046, 2047, &b);
	if (r < 0)
		return r;
	put_u16(p + 13, b << 5 | (tx_dbm + 40) / 2);
	p[15] = movements;
	put_u16(p + 16, sequence);
	if (mac)
		memcpy(p + 18, mac, 6);
	else
		memset(p + 18, 0xFF, 6);

	memcpy(buf, p, sizeof(p));
	*ret_len = sizeof(p);
	return 0;
}
