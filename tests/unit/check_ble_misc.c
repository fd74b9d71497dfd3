/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The RuuviTag, Govee, iBeacon and Eddystone TLM decoders (codec/ble-ruuvi.c,
 * ble-govee.c, ble-beacon.c). Each published vector names its source; the
 * other frames are built by hand from the specification quoted in the
 * decoder's file.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/ble.h"
#include "check-main.h"

#define G0 9.80665

/* Bytes from hex text; spaces are ignored. Returns the count. */
static size_t unhex(const char *s, uint8_t *buf, size_t size)
{
	size_t n = 0;

	while (*s) {
		unsigned b;

		if (*s == ' ') {
			s++;
			continue;
		}
		ck_assert_int_eq(sscanf(s, "%2x", &b), 1);
		ck_assert_uint_lt(n, size);
		buf[n++] = (uint8_t) b;
		s += 2;
	}
	return n;
}

static struct fg_codec_value out[FG_CODEC_VALUES_MAX];
static char why[128];
static struct fg_ble_result res;

/* The pattern res holds before each call, to see that a failure leaves it alone. */
static void poison_result(void)
{
	memset(&res, 0xA5, sizeof(res));
}

static bool result_untouched(void)
{
	struct fg_ble_result poison;

	memset(&poison, 0xA5, sizeof(poison));
	return memcmp(&res, &poison, sizeof(res)) == 0;
}

/* Decode hex with fn into `out`; *n is left at 4242 unless the decoder writes it. */
static int decode(fg_ble_decode_fn fn, const char *hex, size_t max, size_t *n)
{
	uint8_t buf[64];
	struct fg_ble_data d = { .p = buf };

	d.n = unhex(hex, buf, sizeof(buf));
	why[0] = '\0';
	*n = 4242;
	poison_result();
	return fn(&d, NULL, out, max, n, &res, why, sizeof(why));
}

/* Expect fn to refuse hex with err and exactly this reason, touching neither *n nor res. */
static void assert_refused(fg_ble_decode_fn fn, const char *hex, int err, const char *reason)
{
	size_t n;

	ck_assert_int_eq(decode(fn, hex, FG_CODEC_VALUES_MAX, &n), err);
	ck_assert_str_eq(why, reason);
	ck_assert_uint_eq(n, 4242);
	ck_assert(result_untouched());
}

static void assert_number(const struct fg_codec_value *v, const char *quantity, const char *unit,
			  double expected, double tol)
{
	ck_assert_str_eq(v->quantity, quantity);
	ck_assert_str_eq(v->unit, unit);
	ck_assert_int_eq(v->kind, FG_VALUE_NUMBER);
	ck_assert_msg(fabs(v->number - expected) <= tol, "%s: %.17g, expected %.17g", quantity,
		      v->number, expected);
	ck_assert(!signbit(v->number) || expected < 0);
}

static void assert_text(const struct fg_codec_value *v, const char *quantity, const char *text)
{
	ck_assert_str_eq(v->quantity, quantity);
	ck_assert_str_eq(v->unit, "");
	ck_assert_int_eq(v->kind, FG_VALUE_STRING);
	ck_assert_str_eq(v->text, text);
}

/* The value named quantity among the first n, or NULL. */
static const struct fg_codec_value *find(const char *quantity, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(out[i].quantity, quantity))
			return &out[i];
	return NULL;
}

/* ------------------------------------------------------------------ ruuvi 5 */

/*
 * The four test vectors of the specification: github.com/ruuvi/
 * ruuvi-sensor-protocols dataformat_05.md, "Test vectors" (also
 * docs.ruuvi.com/communication/bluetooth-advertisements/data-format-5-rawv2).
 * Acceleration there is in G; we publish m/s2.
 */
#define RUUVI5_VALID   "0512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F"
#define RUUVI5_MAXIMUM "057FFFFFFEFFFE7FFF7FFF7FFFFFDEFEFFFECBB8334C884F"
#define RUUVI5_MINIMUM "058001000000008001800180010000000000CBB8334C884F"
#define RUUVI5_INVALID "058000FFFFFFFF800080008000FFFFFFFFFFFFFFFFFFFFFF"

START_TEST(ruuvi5_spec_valid_data)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_ruuvi5_decode, RUUVI5_VALID, FG_CODEC_VALUES_MAX, &n), 0);
	ck_assert_uint_eq(n, 11);
	assert_number(&out[0], "temperature", "Cel", 24.3, 0);
	assert_number(&out[1], "humidity", "%RH", 53.49, 0);
	assert_number(&out[2], "pressure", "Pa", 100044, 0);
	assert_number(&out[3], "acceleration_x", "m/s2", 0.004 * G0, 1e-12);
	assert_number(&out[4], "acceleration_y", "m/s2", -0.004 * G0, 1e-12);
	assert_number(&out[5], "acceleration_z", "m/s2", 1.036 * G0, 1e-12);
	assert_number(&out[6], "battery_voltage", "V", 2.977, 0);
	assert_number(&out[7], "tx_power", "dBW", -26, 0); /* 4 dBm, RFC 8798: dBW = dBm - 30 */
	assert_number(&out[8], "movement_counter", "count", 66, 0);
	assert_number(&out[9], "measurement_sequence", "", 205, 0);
	assert_text(&out[10], "mac", "cb:b8:33:4c:88:4f");
	ck_assert(res.has_packet_id);
	ck_assert_uint_eq(res.packet_id, 205);
	ck_assert(!res.has_counter);
}
END_TEST

START_TEST(ruuvi5_spec_maximum_values)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_ruuvi5_decode, RUUVI5_MAXIMUM, FG_CODEC_VALUES_MAX, &n), 0);
	ck_assert_uint_eq(n, 11);
	assert_number(&out[0], "temperature", "Cel", 163.835, 0);
	assert_number(&out[1], "humidity", "%RH", 163.835, 0);
	assert_number(&out[2], "pressure", "Pa", 115534, 0);
	assert_number(&out[3], "acceleration_x", "m/s2", 32.767 * G0, 1e-9);
	assert_number(&out[4], "acceleration_y", "m/s2", 32.767 * G0, 1e-9);
	assert_number(&out[5], "acceleration_z", "m/s2", 32.767 * G0, 1e-9);
	assert_number(&out[6], "battery_voltage", "V", 3.646, 0);
	assert_number(&out[7], "tx_power", "dBW", -10, 0);
	assert_number(&out[8], "movement_counter", "count", 254, 0);
	assert_number(&out[9], "measurement_sequence", "", 65534, 0);
	assert_text(&out[10], "mac", "cb:b8:33:4c:88:4f");
	ck_assert(res.has_packet_id);
	ck_assert_uint_eq(res.packet_id, 65534);
}
END_TEST

START_TEST(ruuvi5_spec_minimum_values)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_ruuvi5_decode, RUUVI5_MINIMUM, FG_CODEC_VALUES_MAX, &n), 0);
	ck_assert_uint_eq(n, 11);
	assert_number(&out[0], "temperature", "Cel", -163.835, 0);
	assert_number(&out[1], "humidity", "%RH", 0, 0);
	assert_number(&out[2], "pressure", "Pa", 50000, 0);
	assert_number(&out[3], "acceleration_x", "m/s2", -32.767 * G0, 1e-9);
	assert_number(&out[4], "acceleration_y", "m/s2", -32.767 * G0, 1e-9);
	assert_number(&out[5], "acceleration_z", "m/s2", -32.767 * G0, 1e-9);
	assert_number(&out[6], "battery_voltage", "V", 1.6, 0);
	assert_number(&out[7], "tx_power", "dBW", -70, 0);
	assert_number(&out[8], "movement_counter", "count", 0, 0);
	assert_number(&out[9], "measurement_sequence", "", 0, 0);
	assert_text(&out[10], "mac", "cb:b8:33:4c:88:4f");
	ck_assert(res.has_packet_id);
	ck_assert_uint_eq(res.packet_id, 0);
}
END_TEST

/* The specification's "invalid values" vector: every field "not available", so nothing. */
START_TEST(ruuvi5_spec_invalid_values_publish_nothing)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_ruuvi5_decode, RUUVI5_INVALID, FG_CODEC_VALUES_MAX, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert(!res.has_packet_id);
	ck_assert(!res.has_counter);
}
END_TEST

/*
 * One "not available" field at a time in the valid vector: only that
 * quantity goes. Battery and tx power share two bytes, so each sentinel
 * is tried with the other half valid.
 */
static const struct {
	unsigned offset;
	const char *bytes;
	const char *missing;
} sentinel[] = {
	{ 1, "8000", "temperature" },	   { 3, "FFFF", "humidity" },
	{ 5, "FFFF", "pressure" },	   { 7, "8000", "acceleration_x" },
	{ 9, "8000", "acceleration_y" },   { 11, "8000", "acceleration_z" },
	{ 13, "FFF6", "battery_voltage" }, /* 2047 << 5 | 22 */
	{ 13, "AC3F", "tx_power" },	   /* 1377 << 5 | 31 */
	{ 15, "FF", "movement_counter" },  { 16, "FFFF", "measurement_sequence" },
	{ 18, "FFFFFFFFFFFF", "mac" },
};

START_TEST(ruuvi5_each_sentinel_leaves_out_its_field)
{
	char hex[sizeof(RUUVI5_VALID)];
	size_t n;

	memcpy(hex, RUUVI5_VALID, sizeof(hex));
	memcpy(hex + 2 * sentinel[_i].offset, sentinel[_i].bytes, strlen(sentinel[_i].bytes));
	ck_assert_int_eq(decode(fg_ble_ruuvi5_decode, hex, FG_CODEC_VALUES_MAX, &n), 0);
	ck_assert_uint_eq(n, 10);
	ck_assert_ptr_null(find(sentinel[_i].missing, n));
	if (strcmp(sentinel[_i].missing, "battery_voltage") != 0)
		assert_number(find("battery_voltage", n), "battery_voltage", "V", 2.977, 0);
	if (strcmp(sentinel[_i].missing, "tx_power") != 0)
		assert_number(find("tx_power", n), "tx_power", "dBW", -26, 0);
	ck_assert_int_eq(res.has_packet_id,
			 strcmp(sentinel[_i].missing, "measurement_sequence") != 0);
}
END_TEST

/* The example tables of each field in dataformat_05.md. */
START_TEST(ruuvi5_spec_field_examples)
{
	size_t n;

	/* temperature 0x01C3, humidity 10010, pressure 51325, battery 1400 and tx 22 */
	ck_assert_int_eq(decode(fg_ble_ruuvi5_decode,
				"05 01C3 271A C87D 03E8 FC18 0000 AF16 64 03E8 CBB8334C884F",
				FG_CODEC_VALUES_MAX, &n),
			 0);
	ck_assert_uint_eq(n, 11);
	assert_number(&out[0], "temperature", "Cel", 2.255, 0);
	assert_number(&out[1], "humidity", "%RH", 25.025, 0);
	assert_number(&out[2], "pressure", "Pa", 101325, 0);
	assert_number(&out[3], "acceleration_x", "m/s2", 1000 * G0 / 1000, 1e-12);
	assert_number(&out[4], "acceleration_y", "m/s2", -1000 * G0 / 1000, 1e-12);
	assert_number(&out[5], "acceleration_z", "m/s2", 0, 0);
	assert_number(&out[6], "battery_voltage", "V", 3.0, 0);
	assert_number(&out[7], "tx_power", "dBW", -26, 0);
	assert_number(&out[8], "movement_counter", "count", 100, 0);
	assert_number(&out[9], "measurement_sequence", "", 1000, 0);

	/* temperature 0xFE3D */
	ck_assert_int_eq(decode(fg_ble_ruuvi5_decode,
				"05 FE3D FFFF FFFF 8000 8000 8000 FFFF FF FFFF FFFFFFFFFFFF",
				FG_CODEC_VALUES_MAX, &n),
			 0);
	ck_assert_uint_eq(n, 1);
	assert_number(&out[0], "temperature", "Cel", -2.255, 0);
}
END_TEST

START_TEST(ruuvi5_refuses_wrong_length_and_format)
{
	assert_refused(fg_ble_ruuvi5_decode, "0512FC5394C37C0004FFFC040CAC364200CDCBB8334C88",
		       -EBADMSG, "ruuvi format 5: expected 24 bytes, got 23");
	assert_refused(fg_ble_ruuvi5_decode, RUUVI5_VALID "00", -EBADMSG,
		       "ruuvi format 5: expected 24 bytes, got 25");
	assert_refused(fg_ble_ruuvi5_decode, "", -EBADMSG,
		       "ruuvi format 5: expected 24 bytes, got 0");
	/* a format 3 frame handed to the format 5 decoder */
	assert_refused(fg_ble_ruuvi5_decode, "03291A1ECE1EFC18F94202CA0B53", -EBADMSG,
		       "ruuvi format 5: expected 24 bytes, got 14");
	assert_refused(fg_ble_ruuvi5_decode, "0612FC5394C37C0004FFFC040CAC364200CDCBB8334C884F",
		       -EBADMSG, "ruuvi format 5: data format byte is 0x06, expected 0x05");
}
END_TEST

START_TEST(ruuvi5_more_values_than_room)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_ruuvi5_decode, RUUVI5_VALID, 10, &n), -ENOBUFS);
	ck_assert_str_eq(why, "more than 10 values");
	ck_assert_uint_eq(n, 4242);
	ck_assert(result_untouched());
	ck_assert_int_eq(decode(fg_ble_ruuvi5_decode, RUUVI5_VALID, 11, &n), 0);
	ck_assert_uint_eq(n, 11);
	/* nothing to publish fits in nothing */
	ck_assert_int_eq(decode(fg_ble_ruuvi5_decode, RUUVI5_INVALID, 0, &n), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(ruuvi5_refuses_bad_arguments)
{
	struct fg_ble_data d = { .p = NULL, .n = 24 };
	size_t n = 4242;

	ck_assert_int_eq(fg_ble_ruuvi5_decode(NULL, NULL, out, 8, &n, NULL, NULL, 0), -EINVAL);
	ck_assert_int_eq(fg_ble_ruuvi5_decode(&d, NULL, out, 8, &n, NULL, NULL, 0), -EINVAL);
	ck_assert_uint_eq(n, 4242);
}
END_TEST

/* ------------------------------------------------------------ ruuvi 5 build */

static const uint8_t spec_mac[6] = { 0xCB, 0xB8, 0x33, 0x4C, 0x88, 0x4F };

static void assert_bytes(const uint8_t *p, size_t n, const char *hex)
{
	uint8_t want[64];
	size_t len = unhex(hex, want, sizeof(want));

	ck_assert_uint_eq(n, len);
	ck_assert_mem_eq(p, want, len);
}

/* The specification's vectors are bidirectional: its values encode to its bytes. */
START_TEST(ruuvi5_build_gives_the_spec_vectors)
{
	uint8_t buf[24];
	size_t len = 0;

	ck_assert_int_eq(fg_ble_build_ruuvi5(24.3, 53.49, 100044, 0.004, -0.004, 1.036, 2.977, 4,
					     66, 205, spec_mac, buf, sizeof(buf), &len),
			 0);
	assert_bytes(buf, len, RUUVI5_VALID);
	ck_assert_int_eq(fg_ble_build_ruuvi5(163.835, 163.835, 115534, 32.767, 32.767, 32.767,
					     3.646, 20, 254, 65534, spec_mac, buf, sizeof(buf),
					     &len),
			 0);
	assert_bytes(buf, len, RUUVI5_MAXIMUM);
	ck_assert_int_eq(fg_ble_build_ruuvi5(-163.835, 0, 50000, -32.767, -32.767, -32.767, 1.6,
					     -40, 0, 0, spec_mac, buf, sizeof(buf), &len),
			 0);
	assert_bytes(buf, len, RUUVI5_MINIMUM);
}
END_TEST

/* NaN and a NULL mac build "not available"; only tx power has no way to say so. */
START_TEST(ruuvi5_build_nan_is_not_available)
{
	uint8_t buf[24];
	size_t len = 0, n;
	struct fg_ble_data d = { .p = buf };

	ck_assert_int_eq(fg_ble_build_ruuvi5(NAN, NAN, NAN, NAN, NAN, NAN, NAN, -40, 255, 65535,
					     NULL, buf, sizeof(buf), &len),
			 0);
	assert_bytes(buf, len, "058000FFFFFFFF800080008000FFE0FFFFFFFFFFFFFFFFFF");
	d.n = len;
	ck_assert_int_eq(fg_ble_ruuvi5_decode(&d, NULL, out, 8, &n, &res, why, sizeof(why)), 0);
	ck_assert_uint_eq(n, 1);
	assert_number(&out[0], "tx_power", "dBW", -70, 0);
	ck_assert(!res.has_packet_id);
}
END_TEST

START_TEST(ruuvi5_build_then_decode)
{
	static const uint8_t mac[6] = { 0xF4, 0x1C, 0x02, 0x00, 0xAB, 0x7E };
	uint8_t buf[32];
	size_t len = 0, n;
	struct fg_ble_data d = { .p = buf };

	ck_assert_int_eq(fg_ble_build_ruuvi5(-12.3449, 99.9976, 98765.4, -1.5, 0.0004, 2.0006,
					     3.1004, -2, 17, 4711, mac, buf, sizeof(buf), &len),
			 0);
	ck_assert_uint_eq(len, 24);
	d.n = len;
	poison_result();
	ck_assert_int_eq(fg_ble_ruuvi5_decode(&d, NULL, out, FG_CODEC_VALUES_MAX, &n, &res, why,
					      sizeof(why)),
			 0);
	ck_assert_uint_eq(n, 11);
	/* each value comes back rounded to its resolution, half away from zero */
	assert_number(&out[0], "temperature", "Cel", -12.345, 1e-12);
	assert_number(&out[1], "humidity", "%RH", 99.9975, 1e-12);
	assert_number(&out[2], "pressure", "Pa", 98765, 0);
	assert_number(&out[3], "acceleration_x", "m/s2", -1.5 * G0, 1e-12);
	assert_number(&out[4], "acceleration_y", "m/s2", 0, 0);
	assert_number(&out[5], "acceleration_z", "m/s2", 2.001 * G0, 1e-12);
	assert_number(&out[6], "battery_voltage", "V", 3.1, 1e-12);
	assert_number(&out[7], "tx_power", "dBW", -32, 0);
	assert_number(&out[8], "movement_counter", "count", 17, 0);
	assert_number(&out[9], "measurement_sequence", "", 4711, 0);
	assert_text(&out[10], "mac", "f4:1c:02:00:ab:7e");
	ck_assert(res.has_packet_id);
	ck_assert_uint_eq(res.packet_id, 4711);
}
END_TEST

START_TEST(ruuvi5_build_refuses_what_the_format_cannot_carry)
{
	uint8_t buf[24], before[24];
	size_t len = 4242;

	memset(buf, 0x5A, sizeof(buf));
	memcpy(before, buf, sizeof(buf));
#define BUILD(t, h, p, x, b, tx)                                                                   \
	fg_ble_build_ruuvi5(t, h, p, x, 0, 0, b, tx, 0, 0, spec_mac, buf, sizeof(buf), &len)
	ck_assert_int_eq(BUILD(163.84, 50, 1e5, 0, 3, 0), -ERANGE);
	ck_assert_int_eq(BUILD(-163.838, 50, 1e5, 0, 3, 0), -ERANGE); /* rounds to the sentinel */
	ck_assert_int_eq(BUILD(INFINITY, 50, 1e5, 0, 3, 0), -ERANGE);
	ck_assert_int_eq(BUILD(20, -0.002, 1e5, 0, 3, 0), -ERANGE);
	ck_assert_int_eq(BUILD(20, 163.837, 1e5, 0, 3, 0), -ERANGE);
	ck_assert_int_eq(BUILD(20, 50, 49999, 0, 3, 0), -ERANGE);
	ck_assert_int_eq(BUILD(20, 50, 115535, 0, 3, 0), -ERANGE);
	ck_assert_int_eq(BUILD(20, 50, 1e5, 32.768, 3, 0), -ERANGE);
	ck_assert_int_eq(BUILD(20, 50, 1e5, -32.768, 3, 0), -ERANGE);
	ck_assert_int_eq(BUILD(20, 50, 1e5, 0, 1.599, 0), -ERANGE);
	ck_assert_int_eq(BUILD(20, 50, 1e5, 0, 3.647, 0), -ERANGE);
	ck_assert_int_eq(BUILD(20, 50, 1e5, 0, 3, -42), -ERANGE);
	ck_assert_int_eq(BUILD(20, 50, 1e5, 0, 3, 22), -ERANGE); /* the sentinel 31 */
	ck_assert_int_eq(BUILD(20, 50, 1e5, 0, 3, 3), -ERANGE);	 /* 2 dBm steps */
#undef BUILD
	ck_assert_mem_eq(buf, before, sizeof(buf));
	ck_assert_uint_eq(len, 4242);

	ck_assert_int_eq(
		fg_ble_build_ruuvi5(20, 50, 1e5, 0, 0, 0, 3, 0, 0, 0, spec_mac, buf, 23, &len),
		-EMSGSIZE);
	ck_assert_int_eq(
		fg_ble_build_ruuvi5(20, 50, 1e5, 0, 0, 0, 3, 0, 0, 0, spec_mac, NULL, 24, &len),
		-EINVAL);
	ck_assert_int_eq(
		fg_ble_build_ruuvi5(20, 50, 1e5, 0, 0, 0, 3, 0, 0, 0, spec_mac, buf, 24, NULL),
		-EINVAL);
	ck_assert_mem_eq(buf, before, sizeof(buf));
	ck_assert_uint_eq(len, 4242);
}
END_TEST

/* ------------------------------------------------------------------ ruuvi 3 */

/*
 * The three test vectors of github.com/ruuvi/ruuvi-sensor-protocols
 * dataformat_03.md, "Test vectors" (acceleration in G there).
 */
START_TEST(ruuvi3_spec_valid_data)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_ruuvi3_decode, "03291A1ECE1EFC18F94202CA0B53",
				FG_CODEC_VALUES_MAX, &n),
			 0);
	ck_assert_uint_eq(n, 7);
	assert_number(&out[0], "temperature", "Cel", 26.3, 0);
	assert_number(&out[1], "humidity", "%RH", 20.5, 0);
	assert_number(&out[2], "pressure", "Pa", 102766, 0);
	assert_number(&out[3], "acceleration_x", "m/s2", -1.000 * G0, 1e-12);
	assert_number(&out[4], "acceleration_y", "m/s2", -1.726 * G0, 1e-12);
	assert_number(&out[5], "acceleration_z", "m/s2", 0.714 * G0, 1e-12);
	assert_number(&out[6], "battery_voltage", "V", 2.899, 0);
	ck_assert(!res.has_packet_id);
	ck_assert(!res.has_counter);
}
END_TEST

START_TEST(ruuvi3_spec_maximum_values)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_ruuvi3_decode, "03FF7F63FFFF7FFF7FFF7FFFFFFF",
				FG_CODEC_VALUES_MAX, &n),
			 0);
	ck_assert_uint_eq(n, 7);
	assert_number(&out[0], "temperature", "Cel", 127.99, 0);
	assert_number(&out[1], "humidity", "%RH", 127.5, 0);
	assert_number(&out[2], "pressure", "Pa", 115535, 0);
	assert_number(&out[3], "acceleration_x", "m/s2", 32.767 * G0, 1e-9);
	assert_number(&out[4], "acceleration_y", "m/s2", 32.767 * G0, 1e-9);
	assert_number(&out[5], "acceleration_z", "m/s2", 32.767 * G0, 1e-9);
	assert_number(&out[6], "battery_voltage", "V", 65.535, 0);
}
END_TEST

START_TEST(ruuvi3_spec_minimum_values)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_ruuvi3_decode, "0300FF6300008001800180010000",
				FG_CODEC_VALUES_MAX, &n),
			 0);
	ck_assert_uint_eq(n, 7);
	assert_number(&out[0], "temperature", "Cel", -127.99, 0);
	assert_number(&out[1], "humidity", "%RH", 0, 0);
	assert_number(&out[2], "pressure", "Pa", 50000, 0);
	assert_number(&out[3], "acceleration_x", "m/s2", -32.767 * G0, 1e-9);
	assert_number(&out[4], "acceleration_y", "m/s2", -32.767 * G0, 1e-9);
	assert_number(&out[5], "acceleration_z", "m/s2", -32.767 * G0, 1e-9);
	assert_number(&out[6], "battery_voltage", "V", 0, 0);
}
END_TEST

/*
 * The crate documentation's example (docs.rs/ruuvi-sensor-protocol/0.4.1,
 * crate root): humidity 115000 ppm, 1690 millicelsius, 63656 Pa,
 * acceleration (1000, 1255, 1510) mG, 2182 mV.
 */
START_TEST(ruuvi3_rust_crate_example)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_ruuvi3_decode, "03 17 01 45 35 58 03 E8 04 E7 05 E6 08 86",
				FG_CODEC_VALUES_MAX, &n),
			 0);
	ck_assert_uint_eq(n, 7);
	assert_number(&out[0], "temperature", "Cel", 1.69, 0);
	assert_number(&out[1], "humidity", "%RH", 11.5, 0);
	assert_number(&out[2], "pressure", "Pa", 63656, 0);
	assert_number(&out[3], "acceleration_x", "m/s2", 1.000 * G0, 1e-12);
	assert_number(&out[4], "acceleration_y", "m/s2", 1.255 * G0, 1e-12);
	assert_number(&out[5], "acceleration_z", "m/s2", 1.510 * G0, 1e-12);
	assert_number(&out[6], "battery_voltage", "V", 2.182, 0);
}
END_TEST

/* Sign and magnitude: the specification's 0x8145 is -1.69 C; 0x80 0x00 is 0, not -0. */
START_TEST(ruuvi3_temperature_is_sign_and_magnitude)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_ruuvi3_decode, "03 00 81 45 0000 0000 0000 0000 0BB8",
				FG_CODEC_VALUES_MAX, &n),
			 0);
	assert_number(&out[0], "temperature", "Cel", -1.69, 0);
	ck_assert_int_eq(decode(fg_ble_ruuvi3_decode, "03 00 80 00 0000 0000 0000 0000 0BB8",
				FG_CODEC_VALUES_MAX, &n),
			 0);
	assert_number(&out[0], "temperature", "Cel", 0, 0);
	ck_assert(!signbit(out[0].number));
	ck_assert_int_eq(decode(fg_ble_ruuvi3_decode, "03 00 80 01 0000 0000 0000 0000 0BB8",
				FG_CODEC_VALUES_MAX, &n),
			 0);
	assert_number(&out[0], "temperature", "Cel", -0.01, 0);
}
END_TEST

START_TEST(ruuvi3_refuses_bad_frames)
{
	assert_refused(fg_ble_ruuvi3_decode, "03291A1ECE1EFC18F94202CA0B", -EBADMSG,
		       "ruuvi format 3: expected 14 bytes, got 13");
	assert_refused(fg_ble_ruuvi3_decode, "03291A1ECE1EFC18F94202CA0B5300", -EBADMSG,
		       "ruuvi format 3: expected 14 bytes, got 15");
	assert_refused(fg_ble_ruuvi3_decode, "05291A1ECE1EFC18F94202CA0B53", -EBADMSG,
		       "ruuvi format 3: data format byte is 0x05, expected 0x03");
	assert_refused(fg_ble_ruuvi3_decode, "03291A64CE1EFC18F94202CA0B53", -EBADMSG,
		       "ruuvi format 3: temperature fraction 100 above 99");
}
END_TEST

START_TEST(ruuvi3_more_values_than_room)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_ruuvi3_decode, "03291A1ECE1EFC18F94202CA0B53", 6, &n),
			 -ENOBUFS);
	ck_assert_str_eq(why, "more than 6 values");
	ck_assert_uint_eq(n, 4242);
	ck_assert(result_untouched());
}
END_TEST

/* -------------------------------------------------------------------- govee */

static void assert_govee(const char *hex, double temperature, double humidity, double battery)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_govee_decode, hex, FG_CODEC_VALUES_MAX, &n), 0);
	ck_assert_uint_eq(n, 3);
	assert_number(&out[0], "temperature", "Cel", temperature, 0);
	assert_number(&out[1], "humidity", "%RH", humidity, 0);
	assert_number(&out[2], "battery", "%EL", battery, 0);
	ck_assert(!res.has_packet_id);
}

static void assert_govee_battery_only(const char *hex, double battery)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_govee_decode, hex, FG_CODEC_VALUES_MAX, &n), 0);
	ck_assert_uint_eq(n, 1);
	assert_number(&out[0], "battery", "%EL", battery, 0);
}

/*
 * github.com/Bluetooth-Devices/govee-ble tests/test_parser.py:
 * GVH5075_SERVICE_INFO (the first 6 bytes; the rest is an iBeacon glued on
 * by the test's platform), GVH5075_SERVICE_INFO_2 (also GVH5072, GVH5129
 * and the generic 0xEC88 cases) and GVH5075_SERVICE_INFO_OTHER_VALUES.
 */
START_TEST(govee_ble_test_vectors)
{
	assert_govee("00 03 41 C2 64 00", 21.3, 44.2, 100);
	assert_govee("00 03 4D B2 64 00", 21.6, 49.8, 100);
	assert_govee("00 03 0F C9 35 00", 20.0, 64.9, 53);
}
END_TEST

/*
 * github.com/theengs/decoder tests/BLE/test_ble.cpp, H5075/H5072 inputs
 * "88ec000418ee6400" and "88ec0004344b6400" (company id first there).
 */
START_TEST(govee_theengs_test_vectors)
{
	assert_govee("00 04 18 EE 64 00", 26.8, 52.6, 100);
	assert_govee("00 04 34 4B 64 00", 27.5, 53.1, 100);
}
END_TEST

/*
 * The example in wcbonner/GoveeBTTempLogger's decoder comment (taken from
 * Thrilleratplay/GoveeWatcher): "88ec00 03519e 64 00" is 21.7 C and 50.2 %
 * "without any rounding"; GoveeWatcher's README divides by 10000 instead
 * and would say 21.7502 C.
 */
START_TEST(govee_temperature_is_the_integer_quotient)
{
	assert_govee("00 03 51 9E 64 00", 21.7, 50.2, 100);
}
END_TEST

/*
 * theengs/decoder tests/BLE/test_ble.cpp, H5075 input "88ec00811f096400":
 * sign bit set, 0x011F09 = 73481, so -7.3 C and 48.1 %. (That test expects
 * -7.3481 C and 8.9 %: it divides by 10000 and takes the humidity before
 * masking the sign bit; govee-ble's decode_temp_humid masks first, as here.)
 */
START_TEST(govee_negative_temperature)
{
	assert_govee("00 81 1F 09 64 00", -7.3, 48.1, 100);
	/* -0.0 C with 40 % is published as 0, not -0 */
	assert_govee("00 80 01 90 50 00", 0, 40.0, 80);
}
END_TEST

/* govee-ble's plausibility window -40..100 C, both ends included. */
START_TEST(govee_temperature_window_boundaries)
{
	assert_govee("00 86 1A 80 64 00", -40.0, 0, 100); /* 400000 | sign */
	assert_govee("00 0F 42 40 64 00", 100.0, 0, 100); /* 1000000 */
}
END_TEST

/*
 * Out of the window, or the error bit set: battery only. The first two
 * are govee-ble's GVH5075_SERVICE_INFO_NEGATIVE_VALUES (-393.2 C, battery
 * 62) and GVH5075_SERVICE_INFO_OVERSIZED_VALUES (484.9 C, battery 59).
 */
START_TEST(govee_implausible_or_error_gives_battery_only)
{
	assert_govee_battery_only("00 BC 00 04 3E 27", 62);
	assert_govee_battery_only("00 4A 00 28 3B 00", 59);
	assert_govee_battery_only("00 0F 46 28 64 00", 100); /* 100.1 C */
	assert_govee_battery_only("00 86 1E 68 64 00", 100); /* -40.1 C */
	assert_govee_battery_only("00 03 4D B2 E4 00", 100); /* error bit, 100 % */
}
END_TEST

START_TEST(govee_refuses_wrong_length)
{
	assert_refused(fg_ble_govee_decode, "00 03 4D B2 64", -EBADMSG,
		       "govee: expected 6 bytes, got 5");
	/* an H5074 frame (theengs test_ble.cpp "88ec00c408231d6402") */
	assert_refused(fg_ble_govee_decode, "00 C4 08 23 1D 64 02", -EBADMSG,
		       "govee: expected 6 bytes, got 7");
	/* theengs test_ble.cpp "H5075 extended": an iBeacon glued on */
	assert_refused(fg_ble_govee_decode,
		       "000384e45c004c000215494e54454c4c495f524f434b535f48575075f2ffc2", -EBADMSG,
		       "govee: expected 6 bytes, got 31");
}
END_TEST

START_TEST(govee_more_values_than_room)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_govee_decode, "00 03 4D B2 64 00", 2, &n), -ENOBUFS);
	ck_assert_str_eq(why, "more than 2 values");
	ck_assert_uint_eq(n, 4242);
	ck_assert(result_untouched());
	/* the battery alone fits in one */
	ck_assert_int_eq(decode(fg_ble_govee_decode, "00 BC 00 04 3E 27", 1, &n), 0);
	ck_assert_uint_eq(n, 1);
}
END_TEST

/* ------------------------------------------------------------------ ibeacon */

/*
 * theengs/decoder tests/BLE/test_ble.cpp, iBeacon "BlueCharm_135727":
 * "4c000215426c7565436861726d426561636f6e730efe1355c5" (company id first),
 * expected uuid 426c7565436861726d426561636f6e73, major 3838, minor 4949,
 * txpower -59.
 */
START_TEST(ibeacon_bluecharm_vector)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_ibeacon_decode,
				"0215426c7565436861726d426561636f6e730efe1355c5",
				FG_CODEC_VALUES_MAX, &n),
			 0);
	ck_assert_uint_eq(n, 5);
	assert_text(&out[0], "uuid", "426c7565-4368-6172-6d42-6561636f6e73");
	assert_number(&out[1], "major", "", 3838, 0);
	assert_number(&out[2], "minor", "", 4949, 0);
	assert_number(&out[3], "tx_power", "dBW", -89, 0); /* -59 dBm */
	ck_assert_str_eq(out[4].quantity, "present");
	ck_assert_str_eq(out[4].unit, "");
	ck_assert_int_eq(out[4].kind, FG_VALUE_BOOL);
	ck_assert(out[4].boolean);
	ck_assert(!res.has_packet_id);
}
END_TEST

/* theengs test_ble.cpp, iBeacon "NRF51822" (given in capitals here, published in lowercase). */
START_TEST(ibeacon_nrf51822_vector)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_ibeacon_decode,
				"0215FDA50693A4E24FB1AFCFC6EB07647825000100021a",
				FG_CODEC_VALUES_MAX, &n),
			 0);
	ck_assert_uint_eq(n, 5);
	assert_text(&out[0], "uuid", "fda50693-a4e2-4fb1-afcf-c6eb07647825");
	assert_number(&out[1], "major", "", 1, 0);
	assert_number(&out[2], "minor", "", 2, 0);
	assert_number(&out[3], "tx_power", "dBW", -4, 0);
}
END_TEST

START_TEST(ibeacon_field_boundaries)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_ibeacon_decode,
				"0215 00000000000000000000000000000000 FFFF 0000 80",
				FG_CODEC_VALUES_MAX, &n),
			 0);
	assert_text(&out[0], "uuid", "00000000-0000-0000-0000-000000000000");
	assert_number(&out[1], "major", "", 65535, 0);
	assert_number(&out[2], "minor", "", 0, 0);
	assert_number(&out[3], "tx_power", "dBW", -158, 0);
	ck_assert_int_eq(decode(fg_ble_ibeacon_decode,
				"0215 FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF 0000 FFFF 7F",
				FG_CODEC_VALUES_MAX, &n),
			 0);
	assert_text(&out[0], "uuid", "ffffffff-ffff-ffff-ffff-ffffffffffff");
	assert_number(&out[2], "minor", "", 65535, 0);
	assert_number(&out[3], "tx_power", "dBW", 97, 0);
}
END_TEST

START_TEST(ibeacon_refuses_bad_frames)
{
	assert_refused(fg_ble_ibeacon_decode, "0215426c7565436861726d426561636f6e730efe1355",
		       -EBADMSG, "ibeacon: expected 23 bytes, got 22");
	assert_refused(fg_ble_ibeacon_decode, "0215426c7565436861726d426561636f6e730efe1355c500",
		       -EBADMSG, "ibeacon: expected 23 bytes, got 24");
	assert_refused(fg_ble_ibeacon_decode, "0216426c7565436861726d426561636f6e730efe1355c5",
		       -EBADMSG, "ibeacon: header is 0x02 0x16, expected 0x02 0x15");
	assert_refused(fg_ble_ibeacon_decode, "1015426c7565436861726d426561636f6e730efe1355c5",
		       -EBADMSG, "ibeacon: header is 0x10 0x15, expected 0x02 0x15");
}
END_TEST

START_TEST(ibeacon_more_values_than_room)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_ibeacon_decode,
				"0215426c7565436861726d426561636f6e730efe1355c5", 4, &n),
			 -ENOBUFS);
	ck_assert_str_eq(why, "more than 4 values");
	ck_assert_uint_eq(n, 4242);
}
END_TEST

/* ------------------------------------------------------------ eddystone tlm */

/*
 * github.com/TakahikoKawasaki/nv-bluetooth src/test/java/com/neovisionaries/
 * bluetooth/ble/advertising/EddystoneTLMTest.java: battery 0x1234 mV,
 * temperature 0x1480 = 20.5 C, count 0x12345678, elapsed 0x98765432 x 0.1 s.
 */
START_TEST(tlm_nv_bluetooth_vector)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_eddystone_tlm_decode, "20 00 1234 1480 12345678 98765432",
				FG_CODEC_VALUES_MAX, &n),
			 0);
	ck_assert_uint_eq(n, 4);
	assert_number(&out[0], "battery_voltage", "V", 4.66, 0);
	assert_number(&out[1], "temperature", "Cel", 20.5, 0);
	assert_number(&out[2], "adv_count", "count", 0x12345678, 0);
	assert_number(&out[3], "uptime", "s", 255789163.4, 1e-6);
	ck_assert(!res.has_packet_id);
}
END_TEST

/* tlm-plain.md: battery 0 and temperature 0x8000 mean "not supported". */
START_TEST(tlm_unsupported_fields_are_left_out)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_eddystone_tlm_decode, "20 00 0000 8000 00000000 00000000",
				FG_CODEC_VALUES_MAX, &n),
			 0);
	ck_assert_uint_eq(n, 2);
	assert_number(&out[0], "adv_count", "count", 0, 0);
	assert_number(&out[1], "uptime", "s", 0, 0);
}
END_TEST

START_TEST(tlm_field_boundaries)
{
	size_t n;

	/* 8.8 signed: 0xFF80 is -0.5 C, 0x8001 the lowest, 0x7FFF the highest */
	ck_assert_int_eq(decode(fg_ble_eddystone_tlm_decode, "20 00 0001 FF80 FFFFFFFF FFFFFFFF",
				FG_CODEC_VALUES_MAX, &n),
			 0);
	ck_assert_uint_eq(n, 4);
	assert_number(&out[0], "battery_voltage", "V", 0.001, 0);
	assert_number(&out[1], "temperature", "Cel", -0.5, 0);
	assert_number(&out[2], "adv_count", "count", 4294967295.0, 0);
	assert_number(&out[3], "uptime", "s", 429496729.5, 0);
	ck_assert_int_eq(decode(fg_ble_eddystone_tlm_decode, "20 00 FFFF 8001 00000001 00000001",
				FG_CODEC_VALUES_MAX, &n),
			 0);
	assert_number(&out[0], "battery_voltage", "V", 65.535, 0);
	assert_number(&out[1], "temperature", "Cel", -32767 / 256.0, 0);
	assert_number(&out[3], "uptime", "s", 0.1, 0);
	ck_assert_int_eq(decode(fg_ble_eddystone_tlm_decode, "20 00 0BB8 7FFF 00000001 00000001",
				FG_CODEC_VALUES_MAX, &n),
			 0);
	assert_number(&out[1], "temperature", "Cel", 32767 / 256.0, 0);
}
END_TEST

/* tlm-encrypted.md: version 0x01, 12 bytes ETLM, salt, MIC. */
START_TEST(tlm_encrypted_is_not_supported)
{
	assert_refused(fg_ble_eddystone_tlm_decode, "20 01 00112233445566778899AABB 1234 5678",
		       -EACCES, "encrypted TLM not supported");
	assert_refused(fg_ble_eddystone_tlm_decode, "20 01 00112233445566778899AABB 1234", -EBADMSG,
		       "eddystone tlm: encrypted frame: expected 18 bytes, got 16");
}
END_TEST

START_TEST(tlm_refuses_bad_frames)
{
	assert_refused(fg_ble_eddystone_tlm_decode, "20 00 1234 1480 12345678 987654", -EBADMSG,
		       "eddystone tlm: expected 14 bytes, got 13");
	assert_refused(fg_ble_eddystone_tlm_decode, "20 00 1234 1480 12345678 9876543200", -EBADMSG,
		       "eddystone tlm: expected 14 bytes, got 15");
	assert_refused(fg_ble_eddystone_tlm_decode, "20", -EBADMSG,
		       "eddystone tlm: expected 14 bytes, got 1");
	assert_refused(fg_ble_eddystone_tlm_decode, "20 02 1234 1480 12345678 98765432", -EBADMSG,
		       "eddystone tlm: version 0x02 unknown");
	/* an Eddystone-URL frame */
	assert_refused(fg_ble_eddystone_tlm_decode, "10 F6 03 6D616B65636F6465 00", -EBADMSG,
		       "eddystone tlm: frame type 0x10, expected 0x20");
}
END_TEST

START_TEST(tlm_more_values_than_room)
{
	size_t n;

	ck_assert_int_eq(
		decode(fg_ble_eddystone_tlm_decode, "20 00 1234 1480 12345678 98765432", 3, &n),
		-ENOBUFS);
	ck_assert_str_eq(why, "more than 3 values");
	ck_assert_uint_eq(n, 4242);
	ck_assert_int_eq(
		decode(fg_ble_eddystone_tlm_decode, "20 00 0000 8000 00000000 00000000", 2, &n), 0);
	ck_assert_uint_eq(n, 2);
}
END_TEST

/* ------------------------------------------------------- detect and dispatch */

static const struct {
	bool service;
	uint16_t id;
	const char *hex;
	int format;
	const char *name;
	size_t n;	      /* values */
	const char *quantity; /* the first one */
	double first;
} detected[] = {
	{ false, 0x0499, RUUVI5_VALID, FG_BLE_RUUVI_V5, "ruuvi5", 11, "temperature", 24.3 },
	{ false, 0x0499, "03291A1ECE1EFC18F94202CA0B53", FG_BLE_RUUVI_V3, "ruuvi3", 7,
	  "temperature", 26.3 },
	{ false, 0xEC88, "00034DB26400", FG_BLE_GOVEE, "govee", 3, "temperature", 21.6 },
	{ false, 0x004C, "0215426c7565436861726d426561636f6e730efe1355c5", FG_BLE_IBEACON,
	  "ibeacon", 5, "uuid", 0 },
	{ true, 0xFEAA, "20001234148012345678 98765432", FG_BLE_EDDYSTONE_TLM, "eddystone-tlm", 4,
	  "battery_voltage", 4.66 },
};

START_TEST(detect_then_decode_each_format)
{
	uint8_t buf[64];
	struct fg_ble_data d = { .service = detected[_i].service, .id = detected[_i].id, .p = buf };
	size_t n = 0;
	int f;

	d.n = unhex(detected[_i].hex, buf, sizeof(buf));
	f = fg_ble_detect(&d);
	ck_assert_int_eq(f, detected[_i].format);
	ck_assert_str_eq(fg_ble_format_to_string(f), detected[_i].name);
	ck_assert_int_eq(fg_ble_format_from_string(detected[_i].name), f);
	ck_assert_int_eq(
		fg_ble_decode(f, &d, NULL, out, FG_CODEC_VALUES_MAX, &n, &res, why, sizeof(why)),
		0);
	ck_assert_uint_eq(n, detected[_i].n);
	ck_assert_str_eq(out[0].quantity, detected[_i].quantity);
	if (out[0].kind == FG_VALUE_NUMBER)
		ck_assert_double_eq(out[0].number, detected[_i].first);
	else
		ck_assert_str_eq(out[0].text, "426c7565-4368-6172-6d42-6561636f6e73");
}
END_TEST

/* Neighbours of ours that are not ours: Ruuvi format 4 (URL), Apple's other types, Eddystone-URL.
 */
START_TEST(detect_leaves_other_frames_alone)
{
	static const uint8_t ruuvi4[] = { 0x04, 0x17, 0x01 };
	static const uint8_t apple_nearby[] = { 0x10, 0x05, 0x01, 0x18, 0x00, 0x00, 0x00 };
	static const uint8_t eddystone_url[] = { 0x10, 0xF6, 0x03, 'f', 'g', 0x00 };
	struct fg_ble_data d = { .id = 0x0499, .p = ruuvi4, .n = sizeof(ruuvi4) };

	ck_assert_int_eq(fg_ble_detect(&d), -ENOENT);
	d = (struct fg_ble_data){ .id = 0x004C, .p = apple_nearby, .n = sizeof(apple_nearby) };
	ck_assert_int_eq(fg_ble_detect(&d), -ENOENT);
	d = (struct fg_ble_data){
		.service = true, .id = 0xFEAA, .p = eddystone_url, .n = sizeof(eddystone_url)
	};
	ck_assert_int_eq(fg_ble_detect(&d), -ENOENT);
}
END_TEST

/*
 * Other Govee models share the company id with another layout: detection
 * leaves them alone, and the Govee decoder, asked anyway, refuses them.
 */
START_TEST(detect_then_decode_refuses_wrong_length)
{
	static const uint8_t h5074[] = { 0x00, 0xC4, 0x08, 0x23, 0x1D, 0x64, 0x02 };
	struct fg_ble_data d = { .id = 0xEC88, .p = h5074, .n = sizeof(h5074) };
	size_t n = 4242;
	int f = FG_BLE_GOVEE;

	ck_assert_int_eq(fg_ble_detect(&d), -ENOENT);
	ck_assert_int_eq(
		fg_ble_decode(f, &d, NULL, out, FG_CODEC_VALUES_MAX, &n, NULL, why, sizeof(why)),
		-EBADMSG);
	ck_assert_str_eq(why, "govee: expected 6 bytes, got 7");
	ck_assert_uint_eq(n, 4242);
}
END_TEST

/* Every quantity of every decoder is a valid reading name with a NUL-terminated unit. */
START_TEST(every_quantity_is_a_valid_name)
{
	uint8_t buf[64];
	struct fg_ble_data d = { .service = detected[_i].service, .id = detected[_i].id, .p = buf };
	size_t n = 0;

	d.n = unhex(detected[_i].hex, buf, sizeof(buf));
	ck_assert_int_eq(fg_ble_decode(detected[_i].format, &d, NULL, out, FG_CODEC_VALUES_MAX, &n,
				       NULL, NULL, 0),
			 0);
	for (size_t i = 0; i < n; i++) {
		ck_assert(fg_reading_name_valid(out[i].quantity));
		ck_assert_ptr_nonnull(memchr(out[i].unit, '\0', sizeof(out[i].unit)));
	}
}
END_TEST

static Suite *ble_misc_suite(void)
{
	Suite *s = suite_create("ble_misc");
	TCase *tc;
	int n_detected = (int) (sizeof(detected) / sizeof(detected[0]));

	tc = tcase_create("ruuvi5");
	tcase_add_test(tc, ruuvi5_spec_valid_data);
	tcase_add_test(tc, ruuvi5_spec_maximum_values);
	tcase_add_test(tc, ruuvi5_spec_minimum_values);
	tcase_add_test(tc, ruuvi5_spec_invalid_values_publish_nothing);
	tcase_add_loop_test(tc, ruuvi5_each_sentinel_leaves_out_its_field, 0,
			    (int) (sizeof(sentinel) / sizeof(sentinel[0])));
	tcase_add_test(tc, ruuvi5_spec_field_examples);
	tcase_add_test(tc, ruuvi5_refuses_wrong_length_and_format);
	tcase_add_test(tc, ruuvi5_more_values_than_room);
	tcase_add_test(tc, ruuvi5_refuses_bad_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("ruuvi5_build");
	tcase_add_test(tc, ruuvi5_build_gives_the_spec_vectors);
	tcase_add_test(tc, ruuvi5_build_nan_is_not_available);
	tcase_add_test(tc, ruuvi5_build_then_decode);
	tcase_add_test(tc, ruuvi5_build_refuses_what_the_format_cannot_carry);
	suite_add_tcase(s, tc);

	tc = tcase_create("ruuvi3");
	tcase_add_test(tc, ruuvi3_spec_valid_data);
	tcase_add_test(tc, ruuvi3_spec_maximum_values);
	tcase_add_test(tc, ruuvi3_spec_minimum_values);
	tcase_add_test(tc, ruuvi3_rust_crate_example);
	tcase_add_test(tc, ruuvi3_temperature_is_sign_and_magnitude);
	tcase_add_test(tc, ruuvi3_refuses_bad_frames);
	tcase_add_test(tc, ruuvi3_more_values_than_room);
	suite_add_tcase(s, tc);

	tc = tcase_create("govee");
	tcase_add_test(tc, govee_ble_test_vectors);
	tcase_add_test(tc, govee_theengs_test_vectors);
	tcase_add_test(tc, govee_temperature_is_the_integer_quotient);
	tcase_add_test(tc, govee_negative_temperature);
	tcase_add_test(tc, govee_temperature_window_boundaries);
	tcase_add_test(tc, govee_implausible_or_error_gives_battery_only);
	tcase_add_test(tc, govee_refuses_wrong_length);
	tcase_add_test(tc, govee_more_values_than_room);
	suite_add_tcase(s, tc);

	tc = tcase_create("ibeacon");
	tcase_add_test(tc, ibeacon_bluecharm_vector);
	tcase_add_test(tc, ibeacon_nrf51822_vector);
	tcase_add_test(tc, ibeacon_field_boundaries);
	tcase_add_test(tc, ibeacon_refuses_bad_frames);
	tcase_add_test(tc, ibeacon_more_values_than_room);
	suite_add_tcase(s, tc);

	tc = tcase_create("eddystone_tlm");
	tcase_add_test(tc, tlm_nv_bluetooth_vector);
	tcase_add_test(tc, tlm_unsupported_fields_are_left_out);
	tcase_add_test(tc, tlm_field_boundaries);
	tcase_add_test(tc, tlm_encrypted_is_not_supported);
	tcase_add_test(tc, tlm_refuses_bad_frames);
	tcase_add_test(tc, tlm_more_values_than_room);
	suite_add_tcase(s, tc);

	tc = tcase_create("detect");
	tcase_add_loop_test(tc, detect_then_decode_each_format, 0, n_detected);
	tcase_add_test(tc, detect_leaves_other_frames_alone);
	tcase_add_test(tc, detect_then_decode_refuses_wrong_length);
	tcase_add_loop_test(tc, every_quantity_is_a_valid_name, 0, n_detected);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(ble_misc_suite());
}
