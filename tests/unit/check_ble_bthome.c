/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * BTHome v2 (codec/ble-bthome.c). Vectors are cited where they come from:
 *   [F]   https://bthome.io/format/ (home-assistant/bthome.io src/format.html),
 *         the "Example" and "Result" columns of its tables
 *   [E]   https://bthome.io/encryption/ (src/encryption.html)
 *   [P]   github.com/Bluetooth-Devices/bthome-ble tests/test_parser_v2.py,
 *         named by test function
 *   [V]   the same repository, tests/test_v2_encryption.py
 * Payloads here start with the device information byte, as BlueZ hands the
 * service data over (the spec's examples show the UUID D2FC before it).
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "codec/ble.h"
#include "check-main.h"


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
static struct fg_ble_result res;
static char why[128];

/* The key and address of [E], [V] and most encrypted tests of [P]. */
static const char *const spec_key = "231d39c1d7cc1ab1aee224cd096db932";
static const char *const spec_mac = "5448E68F80A5";

/* Decode raw bytes with keys (may be NULL) into `out` and `res`. */
static int decode_bytes(const uint8_t *p, size_t len, const struct fg_ble_keys *keys, size_t max,
			size_t *n)
{
	struct fg_ble_data d = { .service = true, .id = 0xFCD2, .p = p, .n = len };

	why[0] = '\0';
	memset(&res, 0xAA, sizeof(res));
	return fg_ble_bthome_decode(&d, keys, out, max, n, &res, why, sizeof(why));
}

/* Decode hex without keys. */
static int decode(const char *hex, size_t max, size_t *n)
{
	uint8_t buf[300];

	return decode_bytes(buf, unhex(hex, buf, sizeof(buf)), NULL, max, n);
}

/* Keys from hex; key may be NULL. */
static void make_keys(struct fg_ble_keys *k, uint8_t keybuf[16], const char *key, const char *mac)
{
	memset(k, 0, sizeof(*k));
	if (key) {
		ck_assert_uint_eq(unhex(key, keybuf, 16), 16);
		k->bindkey = keybuf;
	}
	ck_assert_uint_eq(unhex(mac, k->address, 6), 6);
}

/* Decode hex with a bindkey and an address. */
static int decode_key(const char *hex, const char *key, const char *mac, size_t *n)
{
	struct fg_ble_keys k;
	uint8_t keybuf[16], buf[300];

	make_keys(&k, keybuf, key, mac);
	return decode_bytes(buf, unhex(hex, buf, sizeof(buf)), &k, FG_CODEC_VALUES_MAX, n);
}

static void assert_number(const struct fg_codec_value *v, const char *quantity, const char *unit,
			  double expected, double tol)
{
	ck_assert_str_eq(v->quantity, quantity);
	ck_assert_str_eq(v->unit, unit);
	ck_assert_int_eq(v->kind, FG_VALUE_NUMBER);
	ck_assert_msg(fabs(v->number - expected) <= tol, "%s: %.17g, expected %.17g", quantity,
		      v->number, expected);
}

static void assert_bool(const struct fg_codec_value *v, const char *quantity, bool expected)
{
	ck_assert_str_eq(v->quantity, quantity);
	ck_assert_str_eq(v->unit, "");
	ck_assert_int_eq(v->kind, FG_VALUE_BOOL);
	ck_assert_int_eq(v->boolean, expected);
}

static void assert_string(const struct fg_codec_value *v, const char *quantity,
			  const char *expected)
{
	ck_assert_str_eq(v->quantity, quantity);
	ck_assert_str_eq(v->unit, "");
	ck_assert_int_eq(v->kind, FG_VALUE_STRING);
	ck_assert_str_eq(v->text, expected);
}

static void assert_plain_result(bool has_packet_id, uint32_t packet_id)
{
	ck_assert(!res.has_counter);
	ck_assert_int_eq(res.has_packet_id, has_packet_id);
	if (has_packet_id)
		ck_assert_uint_eq(res.packet_id, packet_id);
}

/*
 * Encrypt as a BTHome v2 device does ([E]): AES-128-CCM, nonce = address,
 * D2 FC, info, counter (LE), MIC of 4 bytes. Writes info | ciphertext |
 * counter | MIC to buf and returns its length.
 */
static size_t bthome_encrypt(const char *key, const char *mac, uint8_t info, uint32_t counter,
			     const uint8_t *plain, size_t n, uint8_t *buf)
{
	uint8_t k[16], nonce[13], tag[4];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int outl = 0;

	ck_assert_ptr_nonnull(ctx);
	unhex(key, k, sizeof(k));
	unhex(mac, nonce, 6);
	nonce[6] = 0xD2;
	nonce[7] = 0xFC;
	nonce[8] = info;
	for (int i = 0; i < 4; i++)
		nonce[9 + i] = (uint8_t) (counter >> (8 * i));
	ck_assert_int_eq(EVP_EncryptInit_ex(ctx, EVP_aes_128_ccm(), NULL, NULL, NULL), 1);
	ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 13, NULL), 1);
	ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 4, NULL), 1);
	ck_assert_int_eq(EVP_EncryptInit_ex(ctx, NULL, NULL, k, nonce), 1);
	buf[0] = info;
	ck_assert_int_eq(EVP_EncryptUpdate(ctx, buf + 1, &outl, plain, (int) n), 1);
	ck_assert_int_eq(outl, (int) n);
	ck_assert_int_eq(EVP_EncryptFinal_ex(ctx, buf + 1 + n, &outl), 1);
	ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 4, tag), 1);
	EVP_CIPHER_CTX_free(ctx);
	memcpy(buf + 1 + n, nonce + 9, 4);
	memcpy(buf + 1 + n + 4, tag, 4);
	return 1 + n + 8;
}

/* ------------------------------------------------------------ spec examples */

/* [F] "BTHome Data format": D2FC 40 02C409 03BF13 is 25.00 C and 50.55 %. */
START_TEST(spec_format_example)
{
	size_t n = 0;

	ck_assert_int_eq(decode("40 02C409 03BF13", 8, &n), 0);
	ck_assert_uint_eq(n, 2);
	assert_number(&out[0], "temperature", "Cel", 25.00, 0);
	assert_number(&out[1], "humidity", "%RH", 50.55, 0);
	assert_plain_result(false, 0);
}
END_TEST

/* [P] test_bthome_packet_id_temperature_humidity_battery. */
START_TEST(packet_id_temperature_humidity_battery)
{
	size_t n = 0;

	ck_assert_int_eq(decode("40 0009 015d 025d09 03b718", 8, &n), 0);
	ck_assert_uint_eq(n, 3);
	assert_number(&out[0], "battery", "%EL", 93, 0);
	assert_number(&out[1], "temperature", "Cel", 23.97, 0);
	assert_number(&out[2], "humidity", "%RH", 63.27, 0);
	assert_plain_result(true, 9);
}
END_TEST

/* [P] test_bthome_test: packet id, voltage, binary power off. */
START_TEST(packet_id_voltage_power)
{
	size_t n = 0;

	ck_assert_int_eq(decode("40 00a7 0c780b 1000", 8, &n), 0);
	ck_assert_uint_eq(n, 2);
	assert_number(&out[0], "voltage", "V", 2.936, 0);
	assert_bool(&out[1], "power_on", false);
	assert_plain_result(true, 167);
}
END_TEST

/* [P] test_bthome_not_sending_object_ids_in_numerical_order: decoded anyway. */
START_TEST(objects_out_of_order)
{
	size_t n = 0;

	ck_assert_int_eq(decode("40 03bf13 02ca09", 8, &n), 0);
	ck_assert_uint_eq(n, 2);
	assert_number(&out[0], "humidity", "%RH", 50.55, 0);
	assert_number(&out[1], "temperature", "Cel", 25.06, 0);
}
END_TEST

/* [P] test_sleepy_device and test_bthome_timestamp: the trigger flag (bit 2) changes nothing. */
START_TEST(trigger_based_flag)
{
	size_t n = 0;

	ck_assert_int_eq(decode("44 04138a01", 8, &n), 0);
	ck_assert_uint_eq(n, 1);
	assert_number(&out[0], "pressure", "Pa", 100883, 0);
	ck_assert_int_eq(decode("44 505d396164", 8, &n), 0);
	ck_assert_uint_eq(n, 1);
	/* [F]: 2023-05-14 19:41:17 UTC */
	assert_number(&out[0], "timestamp", "s", 1684093277, 0);
}
END_TEST

/* [P] test_bthome_with_mac: bit 1 puts the address (LSB first) before the objects. */
START_TEST(mac_included_plain)
{
	size_t n = 0;

	ck_assert_int_eq(decode("42 b2188d38c1a4 04138a01", 8, &n), 0);
	ck_assert_uint_eq(n, 1);
	assert_number(&out[0], "pressure", "Pa", 100883, 0);
	ck_assert_int_eq(decode("42 b2188d38c1", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "MAC address flag set, 5 bytes left");
}
END_TEST

/* ------------------------------------------------------------ every object id */

/*
 * One object of every id, in a frame of its own ("40" + hex). The examples
 * are [F]'s own "Example" column unless marked; [P] marks bthome-ble tests.
 */
static const struct {
	const char *hex;
	const char *quantity;
	const char *unit;
	int kind;
	double value; /* numbers and booleans */
	double tol;
	const char *text; /* strings */
} every_id[] = {
	{ "0161", "battery", "%EL", FG_VALUE_NUMBER, 97, 0, NULL },
	{ "02CA09", "temperature", "Cel", FG_VALUE_NUMBER, 25.06, 0, NULL },
	{ "03BF13", "humidity", "%RH", FG_VALUE_NUMBER, 50.55, 0, NULL },
	/* 1008.83 hPa */
	{ "04138A01", "pressure", "Pa", FG_VALUE_NUMBER, 100883, 0, NULL },
	{ "05138A14", "illuminance", "lx", FG_VALUE_NUMBER, 13460.67, 0, NULL },
	{ "065E1F", "mass", "kg", FG_VALUE_NUMBER, 80.3, 0, NULL },
	/* 74.86 lb */
	{ "073E1D", "mass", "kg", FG_VALUE_NUMBER, 74.86 * 0.45359237, 1e-12, NULL },
	{ "08CA06", "dewpoint", "Cel", FG_VALUE_NUMBER, 17.38, 0, NULL },
	{ "0960", "count", "count", FG_VALUE_NUMBER, 96, 0, NULL },
	/* 1346.067 kWh */
	{ "0A138A14", "energy", "J", FG_VALUE_NUMBER, 1346067.0 * 3600, 0, NULL },
	{ "0B021B00", "power", "W", FG_VALUE_NUMBER, 69.14, 0, NULL },
	{ "0C020C", "voltage", "V", FG_VALUE_NUMBER, 3.074, 0, NULL },
	/* 3090 and 7170 ug/m3 */
	{ "0D120C", "pm25", "kg/m3", FG_VALUE_NUMBER, 3090e-9, 0, NULL },
	{ "0E021C", "pm10", "kg/m3", FG_VALUE_NUMBER, 7170e-9, 0, NULL },
	{ "0F01", "generic_boolean", "", FG_VALUE_BOOL, 1, 0, NULL },
	{ "1001", "power_on", "", FG_VALUE_BOOL, 1, 0, NULL },
	{ "1100", "opening", "", FG_VALUE_BOOL, 0, 0, NULL },
	/* 1250 ppm */
	{ "12E204", "co2", "/", FG_VALUE_NUMBER, 1250e-6, 0, NULL },
	/* 307 ug/m3 */
	{ "133301", "tvoc", "kg/m3", FG_VALUE_NUMBER, 307e-9, 0, NULL },
	/* 30.74 %: a ratio, RFC 8428's "%" is not a percentage */
	{ "14020C", "moisture", "/", FG_VALUE_NUMBER, 0.3074, 0, NULL },
	{ "1501", "battery_low", "", FG_VALUE_BOOL, 1, 0, NULL },
	{ "1601", "battery_charging", "", FG_VALUE_BOOL, 1, 0, NULL },
	{ "1700", "carbon_monoxide", "", FG_VALUE_BOOL, 0, 0, NULL },
	{ "1801", "cold", "", FG_VALUE_BOOL, 1, 0, NULL },
	{ "1900", "connectivity", "", FG_VALUE_BOOL, 0, 0, NULL },
	{ "1A00", "door", "", FG_VALUE_BOOL, 0, 0, NULL },
	{ "1B01", "garage_door", "", FG_VALUE_BOOL, 1, 0, NULL },
	{ "1C01", "gas_detected", "", FG_VALUE_BOOL, 1, 0, NULL },
	{ "1D00", "heat", "", FG_VALUE_BOOL, 0, 0, NULL },
	{ "1E01", "light", "", FG_VALUE_BOOL, 1, 0, NULL },
	{ "1F01", "lock", "", FG_VALUE_BOOL, 1, 0, NULL },
	{ "2001", "wet", "", FG_VALUE_BOOL, 1, 0, NULL },
	{ "2100", "motion", "", FG_VALUE_BOOL, 0, 0, NULL },
	{ "2201", "moving", "", FG_VALUE_BOOL, 1, 0, NULL },
	{ "2301", "occupancy", "", FG_VALUE_BOOL, 1, 0, NULL },
	{ "2400", "plug", "", FG_VALUE_BOOL, 0, 0, NULL },
	{ "2500", "presence", "", FG_VALUE_BOOL, 0, 0, NULL },
	{ "2601", "problem", "", FG_VALUE_BOOL, 1, 0, NULL },
	{ "2701", "running", "", FG_VALUE_BOOL, 1, 0, NULL },
	{ "2800", "safety", "", FG_VALUE_BOOL, 0, 0, NULL },
	{ "2901", "smoke", "", FG_VALUE_BOOL, 1, 0, NULL },
	{ "2A00", "sound", "", FG_VALUE_BOOL, 0, 0, NULL },
	{ "2B00", "tamper", "", FG_VALUE_BOOL, 0, 0, NULL },
	{ "2C01", "vibration", "", FG_VALUE_BOOL, 1, 0, NULL },
	{ "2D01", "window", "", FG_VALUE_BOOL, 1, 0, NULL },
	{ "2E23", "humidity", "%RH", FG_VALUE_NUMBER, 35, 0, NULL },
	{ "2F23", "moisture", "/", FG_VALUE_NUMBER, 0.35, 0, NULL },
	{ "3A01", "button", "", FG_VALUE_STRING, 0, 0, "press" },
	{ "3A02", "button", "", FG_VALUE_STRING, 0, 0, "double_press" },
	{ "3A03", "button", "", FG_VALUE_STRING, 0, 0, "triple_press" },
	{ "3A04", "button", "", FG_VALUE_STRING, 0, 0, "long_press" },
	{ "3A05", "button", "", FG_VALUE_STRING, 0, 0, "long_double_press" },
	{ "3A06", "button", "", FG_VALUE_STRING, 0, 0, "long_triple_press" },
	{ "3A80", "button", "", FG_VALUE_STRING, 0, 0, "hold_press" },
	{ "3B0000", "command", "", FG_VALUE_STRING, 0, 0, "off" },
	{ "3B0001", "command", "", FG_VALUE_STRING, 0, 0, "on" },
	{ "3B0002", "command", "", FG_VALUE_STRING, 0, 0, "toggle" },
	{ "3D0960", "count", "count", FG_VALUE_NUMBER, 24585, 0, NULL },
	{ "3E2A2C0960", "count", "count", FG_VALUE_NUMBER, 1611213866, 0, NULL },
	{ "3F020C", "rotation", "deg", FG_VALUE_NUMBER, 307.4, 0, NULL },
	/* 12 mm */
	{ "400C00", "distance", "m", FG_VALUE_NUMBER, 0.012, 0, NULL },
	{ "414E00", "distance", "m", FG_VALUE_NUMBER, 7.8, 0, NULL },
	{ "424E3400", "duration", "s", FG_VALUE_NUMBER, 13.390, 0, NULL },
	{ "434E34", "current", "A", FG_VALUE_NUMBER, 13.39, 0, NULL },
	{ "444E34", "speed", "m/s", FG_VALUE_NUMBER, 133.90, 0, NULL },
	{ "451101", "temperature", "Cel", FG_VALUE_NUMBER, 27.3, 0, NULL },
	{ "4632", "uv_index", "", FG_VALUE_NUMBER, 5.0, 0, NULL },
	/* 2215.1 L, 34780 mL, 34.780 m3/h */
	{ "478756", "volume", "m3", FG_VALUE_NUMBER, 2.2151, 0, NULL },
	{ "48DC87", "volume", "m3", FG_VALUE_NUMBER, 0.03478, 0, NULL },
	{ "49DC87", "volume_flow_rate", "m3/s", FG_VALUE_NUMBER, 34.780 / 3600, 1e-18, NULL },
	{ "4A020C", "voltage", "V", FG_VALUE_NUMBER, 307.4, 0, NULL },
	{ "4B138A14", "gas", "m3", FG_VALUE_NUMBER, 1346.067, 0, NULL },
	{ "4C41018A01", "gas", "m3", FG_VALUE_NUMBER, 25821.505, 0, NULL },
	/* 344593.170 kWh */
	{ "4d12138a14", "energy", "J", FG_VALUE_NUMBER, 344593170.0 * 3600, 0, NULL },
	/* 19551.879 L */
	{ "4E87562A01", "volume", "m3", FG_VALUE_NUMBER, 19.551879, 0, NULL },
	{ "4F87562A01", "water", "m3", FG_VALUE_NUMBER, 19.551879, 0, NULL },
	{ "505d396164", "timestamp", "s", FG_VALUE_NUMBER, 1684093277, 0, NULL },
	{ "518756", "acceleration", "m/s2", FG_VALUE_NUMBER, 22.151, 0, NULL },
	/* 22.151 deg/s: no angular velocity unit is registered, so it is in the name */
	{ "528756", "gyroscope_deg_per_s", "", FG_VALUE_NUMBER, 22.151, 0, NULL },
	{ "530C48656C6C6F20576F726C6421", "text", "", FG_VALUE_STRING, 0, 0, "Hello World!" },
	{ "540C48656C6C6F20576F726C6421", "raw", "", FG_VALUE_STRING, 0, 0,
	  "48656c6c6f20576f726c6421" },
	{ "5587562A01", "volume_storage", "m3", FG_VALUE_NUMBER, 19.551879, 0, NULL },
	/* 1000 uS/cm */
	{ "56E803", "conductivity", "S/m", FG_VALUE_NUMBER, 0.1, 0, NULL },
	{ "57EA", "temperature", "Cel", FG_VALUE_NUMBER, -22, 0, NULL },
	{ "58EA", "temperature", "Cel", FG_VALUE_NUMBER, -7.7, 0, NULL },
	{ "59EA", "count", "count", FG_VALUE_NUMBER, -22, 0, NULL },
	{ "5AEAEA", "count", "count", FG_VALUE_NUMBER, -5398, 0, NULL },
	{ "5BEA0234EA", "count", "count", FG_VALUE_NUMBER, -365690134, 0, NULL },
	{ "5C02FBFFFF", "power", "W", FG_VALUE_NUMBER, -12.78, 0, NULL },
	{ "5D02EA", "current", "A", FG_VALUE_NUMBER, -5.63, 0, NULL },
	{ "5E9F8C", "direction", "deg", FG_VALUE_NUMBER, 359.99, 0, NULL },
	/* 400.0 mm */
	{ "5FA00F", "precipitation", "m", FG_VALUE_NUMBER, 0.4, 0, NULL },
	{ "6001", "channel", "", FG_VALUE_NUMBER, 1, 0, NULL },
	/* 3500 rpm */
	{ "61AC0D", "rotational_speed", "1/s", FG_VALUE_NUMBER, 3500.0 / 60, 0, NULL },
	{ "624099DFFF", "speed", "m/s", FG_VALUE_NUMBER, -2.123456, 0, NULL },
	{ "630057D0FF", "acceleration", "m/s2", FG_VALUE_NUMBER, -3.123456, 0, NULL },
	{ "6402", "light_level", "", FG_VALUE_NUMBER, 2, 0, NULL },
	{ "6503", "settings_revision", "", FG_VALUE_NUMBER, 3, 0, NULL },
	{ "F00100", "device_type_id", "", FG_VALUE_NUMBER, 1, 0, NULL },
	{ "F100010204", "firmware_version", "", FG_VALUE_STRING, 0, 0, "4.2.1.0" },
	{ "F2000106", "firmware_version", "", FG_VALUE_STRING, 0, 0, "6.1.0" },
};

START_TEST(every_object_id)
{
	char hex[64];
	size_t n = 0;

	(void) snprintf(hex, sizeof(hex), "40%s", every_id[_i].hex);
	ck_assert_msg(decode(hex, 8, &n) == 0, "%s: %s", every_id[_i].hex, why);
	ck_assert_uint_eq(n, 1);
	switch (every_id[_i].kind) {
	case FG_VALUE_NUMBER:
		assert_number(&out[0], every_id[_i].quantity, every_id[_i].unit, every_id[_i].value,
			      every_id[_i].tol);
		break;
	case FG_VALUE_BOOL:
		assert_bool(&out[0], every_id[_i].quantity, every_id[_i].value != 0);
		break;
	default:
		assert_string(&out[0], every_id[_i].quantity, every_id[_i].text);
		break;
	}
	assert_plain_result(false, 0);
}
END_TEST

/* Every object id the spec defines is in the table above; 0x00 and 0x3C have tests of their own. */
START_TEST(every_spec_id_is_covered)
{
	static const uint8_t spec_ids[] = {
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E,
		0x0F, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C,
		0x1D, 0x1E, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A,
		0x2B, 0x2C, 0x2D, 0x2E, 0x2F, 0x3A, 0x3B, 0x3D, 0x3E, 0x3F, 0x40, 0x41, 0x42, 0x43,
		0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F, 0x50, 0x51,
		0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F,
		0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0xF0, 0xF1, 0xF2,
	};

	for (size_t i = 0; i < sizeof(spec_ids); i++) {
		bool found = false;

		for (size_t j = 0; j < sizeof(every_id) / sizeof(every_id[0]); j++) {
			unsigned id;

			ck_assert_int_eq(sscanf(every_id[j].hex, "%2x", &id), 1);
			found |= id == spec_ids[i];
		}
		ck_assert_msg(found, "object id 0x%02x has no test", spec_ids[i]);
	}
}
END_TEST

/* Binary sensors: any nonzero byte is true. */
START_TEST(binary_nonzero_is_true)
{
	size_t n = 0;

	ck_assert_int_eq(decode("40 2102 2DFF 2900", 8, &n), 0);
	ck_assert_uint_eq(n, 3);
	assert_bool(&out[0], "motion", true);
	assert_bool(&out[1], "window", true);
	assert_bool(&out[2], "smoke", false);
}
END_TEST

/* ------------------------------------------------------------ boundaries */

static const struct {
	const char *hex;
	const char *quantity;
	const char *unit;
	double value;
} bounds[] = {
	{ "020080", "temperature", "Cel", -327.68 }, /* sint16 min */
	{ "02FF7F", "temperature", "Cel", 327.67 },  /* sint16 max */
	{ "02FFFF", "temperature", "Cel", -0.01 },
	{ "030000", "humidity", "%RH", 0 },	 /* uint16 min */
	{ "03FFFF", "humidity", "%RH", 655.35 }, /* uint16 max */
	{ "01FF", "battery", "%EL", 255 },	 /* uint8 max */
	{ "0100", "battery", "%EL", 0 },
	{ "04FFFFFF", "pressure", "Pa", 16777215 },	  /* uint24 max */
	{ "3EFFFFFFFF", "count", "count", 4294967295.0 }, /* uint32 max */
	{ "5980", "count", "count", -128 },		  /* sint8 min */
	{ "597F", "count", "count", 127 },		  /* sint8 max */
	{ "5A0080", "count", "count", -32768 },
	{ "5B00000080", "count", "count", -2147483648.0 }, /* sint32 min */
	{ "5BFFFFFF7F", "count", "count", 2147483647 },	   /* sint32 max */
	{ "4DFFFFFFFF", "energy", "J", 4294967295.0 * 3600 },
	{ "5880", "temperature", "Cel", -44.8 }, /* -128 * 0.35 */
	{ "587F", "temperature", "Cel", 44.45 }, /* 127 * 0.35 */
};

START_TEST(boundary_values)
{
	char hex[64];
	size_t n = 0;

	(void) snprintf(hex, sizeof(hex), "40%s", bounds[_i].hex);
	ck_assert_int_eq(decode(hex, 8, &n), 0);
	ck_assert_uint_eq(n, 1);
	assert_number(&out[0], bounds[_i].quantity, bounds[_i].unit, bounds[_i].value, 0);
}
END_TEST

/* The largest raw object a service data element can carry: 253 bytes after 40 54 FD. */
START_TEST(raw_and_text_lengths)
{
	uint8_t buf[256];
	char expected[2 * 253 + 1];
	size_t n = 0;

	buf[0] = 0x40;
	buf[1] = 0x54;
	buf[2] = 253;
	for (int i = 0; i < 253; i++) {
		buf[3 + i] = (uint8_t) i;
		(void) snprintf(expected + 2 * i, 3, "%02x", i);
	}
	ck_assert_int_eq(decode_bytes(buf, 256, NULL, 8, &n), 0);
	ck_assert_uint_eq(n, 1);
	assert_string(&out[0], "raw", expected);

	/* Empty text and raw are empty strings. */
	ck_assert_int_eq(decode("40 5300 5400", 8, &n), 0);
	ck_assert_uint_eq(n, 2);
	assert_string(&out[0], "text", "");
	assert_string(&out[1], "raw", "");

	/* UTF-8 beyond ASCII: "Grüße" */
	ck_assert_int_eq(decode("40 53 07 4772C3BC C39F65", 8, &n), 0);
	ck_assert_uint_eq(n, 1);
	assert_string(&out[0], "text",
		      "Gr\xc3\xbc\xc3\x9f"
		      "e");
}
END_TEST

/* ------------------------------------------------------------ repeats, events */

/* [P] test_bthome_triple_temperature_double_humidity_battery. */
START_TEST(repeated_objects_get_suffixes)
{
	size_t n = 0;

	ck_assert_int_eq(decode("40 02ca09 02cf09 02cf08 03b718 03b717 015d", 8, &n), 0);
	ck_assert_uint_eq(n, 6);
	assert_number(&out[0], "temperature", "Cel", 25.06, 0);
	assert_number(&out[1], "temperature_2", "Cel", 25.11, 0);
	assert_number(&out[2], "temperature_3", "Cel", 22.55, 0);
	assert_number(&out[3], "humidity", "%RH", 63.27, 0);
	assert_number(&out[4], "humidity_2", "%RH", 60.71, 0);
	assert_number(&out[5], "battery", "%EL", 93, 0);
}
END_TEST

/* [P] test_bthome_double_voltage_different_object_id: suffixes go by name, not id. */
START_TEST(repeated_name_across_ids)
{
	size_t n = 0;

	ck_assert_int_eq(decode("40 0001 0b000000 4a0d09 0133 0ce90c", 8, &n), 0);
	ck_assert_uint_eq(n, 4);
	assert_number(&out[0], "power", "W", 0, 0);
	assert_number(&out[1], "voltage", "V", 231.7, 0);
	assert_number(&out[2], "battery", "%EL", 51, 0);
	assert_number(&out[3], "voltage_2", "V", 3.305, 0);
	assert_plain_result(true, 1);
}
END_TEST

/*
 * [P] test_bthome_event_triple_button_device and [F] "Multiple events of the
 * same type": event 0x00 gives nothing, but the next button is still the second.
 */
START_TEST(button_none_counts_for_suffix)
{
	size_t n = 0;

	ck_assert_int_eq(decode("40 3a00 3a01 3a03", 8, &n), 0);
	ck_assert_uint_eq(n, 2);
	assert_string(&out[0], "button_2", "press");
	assert_string(&out[1], "button_3", "triple_press");
}
END_TEST

/* [P] test_bthome_shelly_button and test_bthome_shelly_button_no_press. */
START_TEST(shelly_button_frames)
{
	size_t n = 0;

	ck_assert_int_eq(decode("40 0052 0164 3a01", 8, &n), 0);
	ck_assert_uint_eq(n, 2);
	assert_number(&out[0], "battery", "%EL", 100, 0);
	assert_string(&out[1], "button", "press");
	assert_plain_result(true, 82);

	ck_assert_int_eq(decode("44 0023 015e 3a00", 8, &n), 0);
	ck_assert_uint_eq(n, 1);
	assert_number(&out[0], "battery", "%EL", 94, 0);
	assert_plain_result(true, 35);
}
END_TEST

/* [P] test_bthome_invalid_button_event: an event id we do not know gives nothing. */
START_TEST(unknown_button_event)
{
	size_t n = 99;

	ck_assert_int_eq(decode("40 3afe", 8, &n), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

/* [P] test_bthome_event_dimmer_rotate_left_3_steps and [F]'s dimmer rows. */
START_TEST(dimmer_events)
{
	size_t n = 0;

	ck_assert_int_eq(decode("40 3c0103", 8, &n), 0);
	ck_assert_uint_eq(n, 2);
	assert_string(&out[0], "dimmer", "rotate_left");
	assert_number(&out[1], "dimmer_steps", "", 3, 0);

	ck_assert_int_eq(decode("40 3c0000 3c020a 3c02ff", 8, &n), 0);
	ck_assert_uint_eq(n, 4);
	assert_string(&out[0], "dimmer_2", "rotate_right");
	assert_number(&out[1], "dimmer_steps_2", "", 10, 0);
	assert_string(&out[2], "dimmer_3", "rotate_right");
	assert_number(&out[3], "dimmer_steps_3", "", 255, 0);
}
END_TEST

/* [F] "Commands": 3B010305 is step up 5 steps; the length byte's high 3 bits are reserved. */
START_TEST(command_objects)
{
	size_t n = 0;

	ck_assert_int_eq(decode("40 3B010305", 8, &n), 0);
	ck_assert_uint_eq(n, 2);
	assert_string(&out[0], "command", "step_up");
	assert_number(&out[1], "command_steps", "", 5, 0);

	ck_assert_int_eq(decode("40 3B010405 3B0201AABB 3BE000", 8, &n), 0);
	ck_assert_uint_eq(n, 5);
	assert_string(&out[0], "command", "step_down");
	assert_number(&out[1], "command_steps", "", 5, 0);
	assert_string(&out[2], "command_2", "on");
	assert_string(&out[3], "command_args_2", "aabb");
	assert_string(&out[4], "command_3", "off");

	/* An opcode we do not know gives nothing; its arguments are skipped. */
	ck_assert_int_eq(decode("40 3B0109FF 0161", 8, &n), 0);
	ck_assert_uint_eq(n, 1);
	assert_number(&out[0], "battery", "%EL", 97, 0);

	ck_assert_int_eq(decode("40 3B0203AA", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "object 0x3b (command) needs 4 bytes, 3 left");
}
END_TEST

/* ------------------------------------------------------------ refusals */

/* [P] test_bthome_invalid_object_payload_data_length, and other cut values. */
START_TEST(truncated_objects)
{
	size_t n = 77;

	ck_assert_int_eq(decode("40 02ca09 03bf", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "object 0x03 (humidity) needs 2 bytes, 1 left");
	ck_assert_uint_eq(n, 77);
	ck_assert_int_eq(decode("40 02", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "object 0x02 (temperature) needs 2 bytes, 0 left");
	ck_assert_int_eq(decode("40 3E010203", 8, &n), -EBADMSG);
	ck_assert_int_eq(decode("40 00", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "object 0x00 (packet_id) needs 1 bytes, 0 left");
	ck_assert_int_eq(decode("40 3c01", 8, &n), -EBADMSG);
	ck_assert_int_eq(decode("40 53", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "object 0x53 (text) needs 1 bytes, 0 left");
	ck_assert_int_eq(decode("40 530C48656C6C6F", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "object 0x53 (text) needs 13 bytes, 6 left");
	ck_assert_int_eq(decode("40 5402AA", 8, &n), -EBADMSG);
	ck_assert_int_eq(decode("40 F1000102", 8, &n), -EBADMSG);
	ck_assert_uint_eq(n, 77);
}
END_TEST

/* [P] test_bthome_wrong_object_id, test_bthome_battery_wrong_object_id_humidity. */
START_TEST(unknown_object_id)
{
	size_t n = 77;

	ck_assert_int_eq(decode("40 feca09", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "object id 0xfe unknown");
	/* bthome-ble keeps the battery before it; we cannot know where the frame resumes. */
	ck_assert_int_eq(decode("40 015d fe5d09 03b718", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "object id 0xfe unknown");
	ck_assert_int_eq(decode("40 30 00", 8, &n), -EBADMSG);
	ck_assert_int_eq(decode("40 66 00", 8, &n), -EBADMSG);
	ck_assert_int_eq(decode("40 F3 00", 8, &n), -EBADMSG);
	ck_assert_uint_eq(n, 77);
}
END_TEST

/* [P] test_bthome_text_invalid, and a NUL inside a text. */
START_TEST(text_not_utf8)
{
	size_t n = 0;

	ck_assert_int_eq(decode("44 530187", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "object 0x53: text is not UTF-8");
	ck_assert_int_eq(decode("40 5303410042", 8, &n), -EBADMSG);
	ck_assert_int_eq(decode("40 5302C0AF", 8, &n), -EBADMSG);     /* overlong "/" */
	ck_assert_int_eq(decode("40 5303EDA080", 8, &n), -EBADMSG);   /* a surrogate */
	ck_assert_int_eq(decode("40 5304F4908080", 8, &n), -EBADMSG); /* past U+10FFFF */
	ck_assert_int_eq(decode("40 5302E282", 8, &n), -EBADMSG);     /* cut sequence */
}
END_TEST

/* [P] test_has_incorrect_version (version 7), test_incorrect_bthome_version (0), v1. */
START_TEST(wrong_version)
{
	size_t n = 77;

	ck_assert_int_eq(decode("e1 02000c04 04138a01", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "BTHome version 7, not 2");
	ck_assert_int_eq(decode("00", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "BTHome version 0, not 2");
	ck_assert_int_eq(decode("20 02C409", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "BTHome version 1, not 2");
	ck_assert_int_eq(decode("", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "no device information byte");
	ck_assert_uint_eq(n, 77);
}
END_TEST

START_TEST(value_limits)
{
	struct fg_ble_data d = { .service = true, .id = 0xFCD2 };
	size_t n = 77;

	ck_assert_int_eq(decode("40 02C409 03BF13", 1, &n), -ENOBUFS);
	ck_assert_str_eq(why, "more than 1 values");
	ck_assert_uint_eq(n, 77);
	/* A dimmer's two values come together or not at all. */
	ck_assert_int_eq(decode("40 0161 3c0103", 2, &n), -ENOBUFS);
	ck_assert_int_eq(decode("40 0161 3c0103", 3, &n), 0);
	ck_assert_uint_eq(n, 3);
	/* Objects without values need no room. */
	ck_assert_int_eq(decode("40 0005 3a00", 0, &n), 0);
	ck_assert_uint_eq(n, 0);
	assert_plain_result(true, 5);
	ck_assert_int_eq(decode("40", 0, &n), 0);
	ck_assert_uint_eq(n, 0);
	assert_plain_result(false, 0);

	ck_assert_int_eq(fg_ble_bthome_decode(NULL, NULL, out, 8, &n, NULL, NULL, 0), -EINVAL);
	ck_assert_int_eq(fg_ble_bthome_decode(&d, NULL, out, 8, NULL, NULL, NULL, 0), -EINVAL);
	d.n = 3;
	ck_assert_int_eq(fg_ble_bthome_decode(&d, NULL, out, 8, &n, NULL, NULL, 0), -EINVAL);
	/* res and why may be NULL. */
	d.p = (const uint8_t *) "\x40\x01\x61";
	ck_assert_int_eq(fg_ble_bthome_decode(&d, NULL, out, 8, &n, NULL, NULL, 0), 0);
	ck_assert_uint_eq(n, 1);
	assert_number(&out[0], "battery", "%EL", 97, 0);
}
END_TEST

/* ------------------------------------------------------------ encryption */

/* [E] the worked example; also [P] test_same_service_data. */
START_TEST(spec_encryption_example)
{
	size_t n = 0;

	ck_assert_int_eq(decode_key("41 e445f3c9962b 33221100 6c7c4519", spec_key, spec_mac, &n),
			 0);
	ck_assert_uint_eq(n, 2);
	assert_number(&out[0], "temperature", "Cel", 25.06, 0);
	assert_number(&out[1], "humidity", "%RH", 50.55, 0);
	ck_assert(res.has_counter);
	ck_assert_uint_eq(res.counter, 1122867);
	ck_assert(!res.has_packet_id);
}
END_TEST

/* Our test encryptor gives [E]'s bytes, so the vectors it makes below are BTHome's. */
START_TEST(encryptor_matches_spec)
{
	uint8_t plain[6], buf[32], expected[32];
	size_t len;

	unhex("02CA0903BF13", plain, sizeof(plain));
	len = bthome_encrypt(spec_key, spec_mac, 0x41, 1122867, plain, 6, buf);
	ck_assert_uint_eq(len, 15);
	ck_assert_uint_eq(unhex("41 e445f3c9962b 33221100 6c7c4519", expected, sizeof(expected)),
			  15);
	ck_assert_mem_eq(buf, expected, 15);
}
END_TEST

/* [V] test_encryption_example_1 and _2 (also [P] test_bindkey_correct, test_bthome_motion). */
START_TEST(library_encryption_examples)
{
	size_t n = 0;

	ck_assert_int_eq(decode_key("41 a47266c95f73 00112233 78237214", spec_key, spec_mac, &n),
			 0);
	ck_assert_uint_eq(n, 2);
	assert_number(&out[0], "temperature", "Cel", 25.06, 0);
	assert_number(&out[1], "humidity", "%RH", 50.55, 0);
	ck_assert(res.has_counter);
	ck_assert_uint_eq(res.counter, 0x33221100);

	ck_assert_int_eq(decode_key("41 87b9 00112233 72b0231f", spec_key, spec_mac, &n), 0);
	ck_assert_uint_eq(n, 1);
	assert_bool(&out[0], "motion", true);
	ck_assert_uint_eq(res.counter, 0x33221100);
}
END_TEST

/*
 * [P] test_bthome_with_mac_encrypted: bit 1 set, the address in the frame is
 * the one in the nonce, whatever keys->address says.
 */
START_TEST(encrypted_with_mac_included)
{
	static const char *hex = "43 a5808fe64854 f196c06ffb49 00112233 f08ecbde";
	size_t n = 0;

	ck_assert_int_eq(decode_key(hex, spec_key, spec_mac, &n), 0);
	ck_assert_uint_eq(n, 2);
	assert_number(&out[0], "temperature", "Cel", 25.06, 0);
	assert_number(&out[1], "humidity", "%RH", 50.55, 0);
	ck_assert_int_eq(decode_key(hex, spec_key, "000000000000", &n), 0);
	ck_assert_uint_eq(n, 2);
}
END_TEST

/*
 * [P] test_encrypted_shelly_blu_button_event (a Shelly BLU Button, its own
 * key and address; the library test asserts only that the key verifies,
 * the values are what it decrypts to).
 */
START_TEST(encrypted_shelly_button)
{
	size_t n = 0;

	ck_assert_int_eq(decode_key("45 0aeb84467f85 ba010000 3188788c",
				    "90bffd73cb6b26ef58a7a8eba9232036", "B43522F53DA4", &n),
			 0);
	ck_assert_uint_eq(n, 2);
	assert_number(&out[0], "battery", "%EL", 100, 0);
	assert_string(&out[1], "button", "press");
	ck_assert(res.has_counter);
	ck_assert_uint_eq(res.counter, 442);
	ck_assert(res.has_packet_id);
	ck_assert_uint_eq(res.packet_id, 7);
}
END_TEST

/* [P] test_reset_encryption_counter: counters 0xFFFFFFFF and 0. */
START_TEST(counter_extremes)
{
	size_t n = 0;

	ck_assert_int_eq(decode_key("41 ba0db07aeef6 ffffffff 21fd4600", spec_key, spec_mac, &n),
			 0);
	ck_assert_uint_eq(n, 2);
	assert_number(&out[0], "temperature", "Cel", 25.07, 0);
	assert_number(&out[1], "humidity", "%RH", 50.55, 0);
	ck_assert_uint_eq(res.counter, 0xFFFFFFFFu);
	ck_assert_int_eq(decode_key("41 de40b50e6766 00000000 d7cb95de", spec_key, spec_mac, &n),
			 0);
	ck_assert_uint_eq(n, 2);
	ck_assert(res.has_counter);
	ck_assert_uint_eq(res.counter, 0);
}
END_TEST

/*
 * Replays: [P] test_same_encryption_counter (the [E] frame twice),
 * test_decreasing_encryption_counter (counter 0x112232 after 0x112233) and
 * test_increasing_encryption_counter (0x112234 after it).
 */
START_TEST(replay_is_stale)
{
	static const char *same = "41 e445f3c9962b 33221100 6c7c4519";
	static const char *lower = "41 723d3035fb88 32221100 9e7414c0";
	static const char *higher = "41 3e932cc7175f 34221100 553876af";
	struct fg_ble_keys k;
	uint8_t keybuf[16], buf[64];
	size_t n = 77;

	make_keys(&k, keybuf, spec_key, spec_mac);
	k.have_counter = true;
	k.last_counter = 1122867;
	ck_assert_int_eq(decode_bytes(buf, unhex(same, buf, sizeof(buf)), &k, 8, &n), -ESTALE);
	ck_assert_str_eq(why, "counter 1122867, last accepted 1122867");
	ck_assert_int_eq(decode_bytes(buf, unhex(lower, buf, sizeof(buf)), &k, 8, &n), -ESTALE);
	ck_assert_str_eq(why, "counter 1122866, last accepted 1122867");
	ck_assert_uint_eq(n, 77);
	ck_assert_int_eq(decode_bytes(buf, unhex(higher, buf, sizeof(buf)), &k, 8, &n), 0);
	ck_assert_uint_eq(n, 2);
	assert_number(&out[0], "temperature", "Cel", 25.06, 0);
	ck_assert_uint_eq(res.counter, 1122868);

	/* Without a last counter, any counter is accepted. */
	k.have_counter = false;
	ck_assert_int_eq(decode_bytes(buf, unhex(lower, buf, sizeof(buf)), &k, 8, &n), 0);
	ck_assert_uint_eq(res.counter, 1122866);

	/* The MIC is checked first: a forged frame is -EACCES, whatever its counter. */
	k.have_counter = true;
	k.last_counter = 0xFFFFFFFFu;
	unhex(same, buf, sizeof(buf));
	buf[14] ^= 1;
	ck_assert_int_eq(decode_bytes(buf, 15, &k, 8, &n), -EACCES);
}
END_TEST

/* [P] test_bindkey_wrong (its key), a wrong address, a flipped bit. */
START_TEST(wrong_key_is_refused)
{
	static const char *frame = "41 e445f3c9962b 33221100 6c7c4519";
	struct fg_ble_keys k;
	uint8_t keybuf[16], buf[64];
	size_t n = 77;

	ck_assert_int_eq(decode_key(frame, "814aac74c4f17b6c1581e1ab87816b99", spec_mac, &n),
			 -EACCES);
	ck_assert_str_eq(why, "bindkey does not authenticate it");
	ck_assert_int_eq(decode_key(frame, spec_key, "5448E68F80A6", &n), -EACCES);
	ck_assert_uint_eq(n, 77);

	make_keys(&k, keybuf, spec_key, spec_mac);
	for (size_t i = 1; i < 15; i++) {
		unhex(frame, buf, sizeof(buf));
		buf[i] ^= 0x80;
		ck_assert_int_eq(decode_bytes(buf, 15, &k, 8, &n), -EACCES);
	}
	/* The device information byte is in the nonce too: flip the trigger bit. */
	unhex(frame, buf, sizeof(buf));
	buf[0] ^= 0x04;
	ck_assert_int_eq(decode_bytes(buf, 15, &k, 8, &n), -EACCES);
	ck_assert_uint_eq(n, 77);
}
END_TEST

/* [P] test_encryption_key_needed: no keys, or keys without a bindkey. */
START_TEST(no_bindkey)
{
	size_t n = 77;

	ck_assert_int_eq(decode("41 d2fcefe52eb212d6 00112233 bc38c966", 8, &n), -EACCES);
	ck_assert_str_eq(why, "encrypted, no bindkey");
	ck_assert_int_eq(decode_key("41 e445f3c9962b 33221100 6c7c4519", NULL, spec_mac, &n),
			 -EACCES);
	ck_assert_str_eq(why, "encrypted, no bindkey");
	ck_assert_uint_eq(n, 77);
}
END_TEST

/* [P] test_encryption_downgrade_fails: a bindkey is set, the frame is plain. */
START_TEST(downgrade_is_refused)
{
	size_t n = 77;

	ck_assert_int_eq(
		decode_key("40 04138a01", "814aac74c4f17b6c1581e1ab87816b99", "A4C1388D18B2", &n),
		-EACCES);
	ck_assert_str_eq(why, "not encrypted, but a bindkey is set");
	ck_assert_uint_eq(n, 77);
	/* [P] test_encryption_no_key_needed: the same frame without a key. */
	ck_assert_int_eq(decode_key("40 04138a01", NULL, "A4C1388D18B2", &n), 0);
	ck_assert_uint_eq(n, 1);
	assert_number(&out[0], "pressure", "Pa", 100883, 0);
}
END_TEST

/* [P] test_too_short_encryption_advertisement, and the shortest encrypted frame. */
START_TEST(encrypted_lengths)
{
	uint8_t plain[260], buf[300];
	struct fg_ble_keys k;
	uint8_t keybuf[16];
	size_t n = 77, len;

	ck_assert_int_eq(decode_key("41 ba0db07aeef600", spec_key, spec_mac, &n), -EBADMSG);
	ck_assert_str_eq(why, "encrypted, 7 bytes after the header, counter and MIC need 8");
	ck_assert_int_eq(decode_key("43 a5808fe64854 00112233 f08ecb", spec_key, spec_mac, &n),
			 -EBADMSG);
	ck_assert_uint_eq(n, 77);

	/* No objects at all: authenticated, no values, the counter still counts. */
	make_keys(&k, keybuf, spec_key, spec_mac);
	len = bthome_encrypt(spec_key, spec_mac, 0x41, 7, plain, 0, buf);
	ck_assert_uint_eq(len, 9);
	ck_assert_int_eq(decode_bytes(buf, len, &k, 8, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert(res.has_counter);
	ck_assert_uint_eq(res.counter, 7);
	buf[5] ^= 1;
	ck_assert_int_eq(decode_bytes(buf, len, &k, 8, &n), -EACCES);

	/* The longest: 255 bytes of objects (a raw object of 253). */
	plain[0] = 0x54;
	plain[1] = 253;
	memset(plain + 2, 0xAB, 254);
	len = bthome_encrypt(spec_key, spec_mac, 0x45, 1000, plain, 255, buf);
	ck_assert_int_eq(decode_bytes(buf, len, &k, 8, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(strlen(out[0].text), 506);
	ck_assert_str_eq(out[0].quantity, "raw");
	/* One more does not fit what any advertisement can carry. */
	len = bthome_encrypt(spec_key, spec_mac, 0x41, 1001, plain, 256, buf);
	ck_assert_int_eq(decode_bytes(buf, len, &k, 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "encrypted, 256 bytes is too long");
}
END_TEST

/* Decrypted objects go through the same checks as plain ones. */
START_TEST(encrypted_bad_objects)
{
	uint8_t plain[8], buf[32];
	struct fg_ble_keys k;
	uint8_t keybuf[16];
	size_t n = 77, len;

	make_keys(&k, keybuf, spec_key, spec_mac);
	len = bthome_encrypt(spec_key, spec_mac, 0x41, 9, plain, unhex("02CA09 FE", plain, 8), buf);
	ck_assert_int_eq(decode_bytes(buf, len, &k, 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "object id 0xfe unknown");
	len = bthome_encrypt(spec_key, spec_mac, 0x41, 9, plain, unhex("0009 02CA", plain, 8), buf);
	ck_assert_int_eq(decode_bytes(buf, len, &k, 8, &n), -EBADMSG);
	len = bthome_encrypt(spec_key, spec_mac, 0x41, 9, plain, unhex("0009 02CA09", plain, 8),
			     buf);
	ck_assert_int_eq(decode_bytes(buf, len, &k, 0, &n), -ENOBUFS);
	ck_assert_uint_eq(n, 77);
	ck_assert_int_eq(decode_bytes(buf, len, &k, 1, &n), 0);
	ck_assert_uint_eq(n, 1);
	assert_number(&out[0], "temperature", "Cel", 25.06, 0);
	ck_assert(res.has_packet_id);
	ck_assert_uint_eq(res.packet_id, 9);
	ck_assert_uint_eq(res.counter, 9);
}
END_TEST

/* ------------------------------------------------------------ build, dispatch */

START_TEST(build_bytes_and_round_trip)
{
	uint8_t buf[32], expected[16];
	size_t len = 0, n = 0;

	ck_assert_int_eq(fg_ble_build_bthome(7, 21.37, 45.5, 88, buf, sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, 11);
	ck_assert_uint_eq(unhex("40 0007 0158 025908 03C611", expected, sizeof(expected)), 11);
	ck_assert_mem_eq(buf, expected, 11);

	ck_assert_int_eq(decode_bytes(buf, len, NULL, 8, &n), 0);
	ck_assert_uint_eq(n, 3);
	assert_number(&out[0], "battery", "%EL", 88, 0);
	assert_number(&out[1], "temperature", "Cel", 21.37, 0);
	assert_number(&out[2], "humidity", "%RH", 45.5, 0);
	assert_plain_result(true, 7);

	/* The extremes the objects can carry, rounded half away from zero. */
	ck_assert_int_eq(fg_ble_build_bthome(255, -327.68, 655.35, 255, buf, 11, &len), 0);
	ck_assert_int_eq(decode_bytes(buf, len, NULL, 8, &n), 0);
	assert_number(&out[0], "battery", "%EL", 255, 0);
	assert_number(&out[1], "temperature", "Cel", -327.68, 0);
	assert_number(&out[2], "humidity", "%RH", 655.35, 0);
	assert_plain_result(true, 255);
	ck_assert_int_eq(fg_ble_build_bthome(0, 327.67, 0, 0, buf, 11, &len), 0);
	ck_assert_int_eq(decode_bytes(buf, len, NULL, 8, &n), 0);
	assert_number(&out[1], "temperature", "Cel", 327.67, 0);
	ck_assert_int_eq(fg_ble_build_bthome(0, -0.004, 0.005, 99.5, buf, 11, &len), 0);
	ck_assert_int_eq(decode_bytes(buf, len, NULL, 8, &n), 0);
	assert_number(&out[0], "battery", "%EL", 100, 0);
	assert_number(&out[1], "temperature", "Cel", 0, 0);
	assert_number(&out[2], "humidity", "%RH", 0.01, 0);
}
END_TEST

START_TEST(build_refusals)
{
	uint8_t buf[16];
	size_t len = 77;

	ck_assert_int_eq(fg_ble_build_bthome(0, 327.68, 50, 50, buf, sizeof(buf), &len), -ERANGE);
	ck_assert_int_eq(fg_ble_build_bthome(0, -327.69, 50, 50, buf, sizeof(buf), &len), -ERANGE);
	ck_assert_int_eq(fg_ble_build_bthome(0, NAN, 50, 50, buf, sizeof(buf), &len), -ERANGE);
	ck_assert_int_eq(fg_ble_build_bthome(0, 20, -0.01, 50, buf, sizeof(buf), &len), -ERANGE);
	ck_assert_int_eq(fg_ble_build_bthome(0, 20, 655.36, 50, buf, sizeof(buf), &len), -ERANGE);
	ck_assert_int_eq(fg_ble_build_bthome(0, 20, 50, 255.5, buf, sizeof(buf), &len), -ERANGE);
	ck_assert_int_eq(fg_ble_build_bthome(0, 20, 50, -1, buf, sizeof(buf), &len), -ERANGE);
	ck_assert_int_eq(fg_ble_build_bthome(0, 20, 50, INFINITY, buf, sizeof(buf), &len), -ERANGE);
	ck_assert_int_eq(fg_ble_build_bthome(0, 20, 50, 50, buf, 10, &len), -EMSGSIZE);
	ck_assert_int_eq(fg_ble_build_bthome(0, 20, 50, 50, NULL, 16, &len), -EINVAL);
	ck_assert_int_eq(fg_ble_build_bthome(0, 20, 50, 50, buf, 16, NULL), -EINVAL);
	ck_assert_uint_eq(len, 77);
}
END_TEST

/* Through codec/ble.c: detection by UUID, the name, and the decoder behind the table. */
START_TEST(dispatch)
{
	uint8_t buf[16];
	struct fg_ble_data d = { .service = true, .id = 0xFCD2, .p = buf };
	struct fg_ble_keys k;
	uint8_t keybuf[16];
	size_t n = 0;

	d.n = unhex("40 02C409 03BF13", buf, sizeof(buf));
	ck_assert_int_eq(fg_ble_detect(&d), FG_BLE_BTHOME);
	ck_assert_str_eq(fg_ble_format_to_string(FG_BLE_BTHOME), "bthome");
	ck_assert_int_eq(fg_ble_format_from_string("bthome"), FG_BLE_BTHOME);
	ck_assert_int_eq(fg_ble_decode(FG_BLE_BTHOME, &d, NULL, out, 8, &n, &res, why, sizeof(why)),
			 0);
	ck_assert_uint_eq(n, 2);
	assert_number(&out[0], "temperature", "Cel", 25.00, 0);
	assert_number(&out[1], "humidity", "%RH", 50.55, 0);

	/* Manufacturer data with the same number is not BTHome. */
	d.service = false;
	ck_assert_int_eq(fg_ble_detect(&d), -ENOENT);
	d.service = true;

	d.n = unhex("41 e445f3c9962b 33221100 6c7c4519", buf, sizeof(buf));
	ck_assert_int_eq(fg_ble_detect(&d), FG_BLE_BTHOME);
	make_keys(&k, keybuf, spec_key, spec_mac);
	ck_assert_int_eq(fg_ble_decode(FG_BLE_BTHOME, &d, &k, out, 8, &n, &res, why, sizeof(why)),
			 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(res.counter, 1122867);
	ck_assert_int_eq(fg_ble_decode(FG_BLE_BTHOME, &d, NULL, out, 8, &n, &res, why, sizeof(why)),
			 -EACCES);
}
END_TEST

static Suite *ble_bthome_suite(void)
{
	Suite *s = suite_create("ble_bthome");
	TCase *tc;

	tc = tcase_create("plain");
	tcase_add_test(tc, spec_format_example);
	tcase_add_test(tc, packet_id_temperature_humidity_battery);
	tcase_add_test(tc, packet_id_voltage_power);
	tcase_add_test(tc, objects_out_of_order);
	tcase_add_test(tc, trigger_based_flag);
	tcase_add_test(tc, mac_included_plain);
	tcase_add_loop_test(tc, every_object_id, 0, sizeof(every_id) / sizeof(every_id[0]));
	tcase_add_test(tc, every_spec_id_is_covered);
	tcase_add_test(tc, binary_nonzero_is_true);
	tcase_add_loop_test(tc, boundary_values, 0, sizeof(bounds) / sizeof(bounds[0]));
	tcase_add_test(tc, raw_and_text_lengths);
	suite_add_tcase(s, tc);

	tc = tcase_create("repeats_and_events");
	tcase_add_test(tc, repeated_objects_get_suffixes);
	tcase_add_test(tc, repeated_name_across_ids);
	tcase_add_test(tc, button_none_counts_for_suffix);
	tcase_add_test(tc, shelly_button_frames);
	tcase_add_test(tc, unknown_button_event);
	tcase_add_test(tc, dimmer_events);
	tcase_add_test(tc, command_objects);
	suite_add_tcase(s, tc);

	tc = tcase_create("refusals");
	tcase_add_test(tc, truncated_objects);
	tcase_add_test(tc, unknown_object_id);
	tcase_add_test(tc, text_not_utf8);
	tcase_add_test(tc, wrong_version);
	tcase_add_test(tc, value_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("encryption");
	tcase_add_test(tc, spec_encryption_example);
	tcase_add_test(tc, encryptor_matches_spec);
	tcase_add_test(tc, library_encryption_examples);
	tcase_add_test(tc, encrypted_with_mac_included);
	tcase_add_test(tc, encrypted_shelly_button);
	tcase_add_test(tc, counter_extremes);
	tcase_add_test(tc, replay_is_stale);
	tcase_add_test(tc, wrong_key_is_refused);
	tcase_add_test(tc, no_bindkey);
	tcase_add_test(tc, downgrade_is_refused);
	tcase_add_test(tc, encrypted_lengths);
	tcase_add_test(tc, encrypted_bad_objects);
	suite_add_tcase(s, tc);

	tc = tcase_create("build_and_dispatch");
	tcase_add_test(tc, build_bytes_and_round_trip);
	tcase_add_test(tc, build_refusals);
	tcase_add_test(tc, dispatch);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(ble_bthome_suite());
}
