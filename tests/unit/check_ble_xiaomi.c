/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * ATC1441, pvvx custom and MiBeacon decoders (codec/ble-xiaomi.c).
 *
 * Published frames come from:
 *  [BM-ATC]  github.com/custom-components/ble_monitor,
 *            custom_components/ble_monitor/test/test_atc_parser.py (HCI
 *            dumps; the service data is the part after "161a18")
 *  [XB]      github.com/Bluetooth-Devices/xiaomi-ble, tests/test_parser.py
 *            (service data of UUID 0xFE95, with the address and bindkey of
 *            each test)
 * Frames marked "synthetic" were made for these tests; the encrypted one
 * with Python's cryptography AESCCM (tag_length=4, associated data 0x11,
 * nonce as xiaomi-ble builds it), independently of the code under test.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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
static uint8_t key[16];
static struct fg_ble_keys keys;

/* Keys for an advertiser "AA:BB:..." with an optional bindkey in hex. */
static struct fg_ble_keys *keys_for(const char *address, const char *bindkey)
{
	unsigned a[6];

	memset(&keys, 0, sizeof(keys));
	ck_assert_int_eq(
		sscanf(address, "%x:%x:%x:%x:%x:%x", &a[0], &a[1], &a[2], &a[3], &a[4], &a[5]), 6);
	for (int i = 0; i < 6; i++)
		keys.address[i] = (uint8_t) a[i];
	if (bindkey) {
		ck_assert_uint_eq(unhex(bindkey, key, sizeof(key)), 16);
		keys.bindkey = key;
	}
	return &keys;
}

/*
 * Decode hex with fn into out and res. On failure, check that neither *n nor
 * res was written, as the contract says.
 */
static int decode(fg_ble_decode_fn fn, const char *hex, const struct fg_ble_keys *k, size_t max,
		  size_t *n)
{
	uint8_t buf[256];
	struct fg_ble_data d = { .service = true };
	int r;

	d.n = unhex(hex, buf, sizeof(buf));
	d.p = buf;
	why[0] = '\0';
	*n = 999;
	memset(&res, 0xA5, sizeof(res));
	r = fn(&d, k, out, max, n, &res, why, sizeof(why));
	if (r < 0) {
		struct fg_ble_result untouched;

		memset(&untouched, 0xA5, sizeof(untouched));
		ck_assert_uint_eq(*n, 999);
		ck_assert_mem_eq(&res, &untouched, sizeof(res));
		ck_assert_str_ne(why, "");
	}
	return r;
}

static void assert_number(const struct fg_codec_value *v, const char *quantity, const char *unit,
			  double expected)
{
	ck_assert_str_eq(v->quantity, quantity);
	ck_assert_str_eq(v->unit, unit);
	ck_assert_int_eq(v->kind, FG_VALUE_NUMBER);
	ck_assert_msg(v->number == expected, "%s: %.17g, expected %.17g", quantity, v->number,
		      expected);
}

static void assert_packet_only(uint32_t packet_id)
{
	ck_assert(res.has_packet_id);
	ck_assert_uint_eq(res.packet_id, packet_id);
	ck_assert(!res.has_counter);
}

static void assert_counter(uint32_t packet_id, uint32_t counter)
{
	ck_assert(res.has_packet_id);
	ck_assert_uint_eq(res.packet_id, packet_id);
	ck_assert(res.has_counter);
	ck_assert_uint_eq(res.counter, counter);
}

/* ------------------------------------------------------------------ atc1441 */

/* [BM-ATC] test_atc_atc1441: A4:C1:38:02:83:F4, 16.2 C, 47 %, 95 %, 3064 mV, packet 25. */
#define ATC_EXAMPLE "a4c1380283f4 00a2 2f 5f 0bf8 19"

START_TEST(atc1441_decodes_ble_monitor_example)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_atc1441_decode, ATC_EXAMPLE,
				keys_for("A4:C1:38:02:83:F4", NULL), 8, &n),
			 0);
	ck_assert_uint_eq(n, 4);
	assert_number(&out[0], "temperature", "Cel", 16.2);
	assert_number(&out[1], "humidity", "%RH", 47);
	assert_number(&out[2], "battery", "%EL", 95);
	assert_number(&out[3], "battery_voltage", "V", 3.064);
	assert_packet_only(25);
}
END_TEST

/* [BM-ATC] test_atc_atc1441_ext: 25.8 C, 40 %, 79 %, 2919 mV, packet 32; no keys: no MAC check. */
START_TEST(atc1441_decodes_extended_example_without_keys)
{
	size_t n;

	ck_assert_int_eq(
		decode(fg_ble_atc1441_decode, "A4C138BC7C4E 0102 28 4F 0B67 20", NULL, 8, &n), 0);
	ck_assert_uint_eq(n, 4);
	assert_number(&out[0], "temperature", "Cel", 25.8);
	assert_number(&out[1], "humidity", "%RH", 40);
	assert_number(&out[2], "battery", "%EL", 79);
	assert_number(&out[3], "battery_voltage", "V", 2.919);
	assert_packet_only(32);
}
END_TEST

START_TEST(atc1441_negative_temperatures)
{
	size_t n;

	ck_assert_int_eq(
		decode(fg_ble_atc1441_decode, "a4c1380283f4 ff9c 64 00 0000 00", NULL, 8, &n), 0);
	assert_number(&out[0], "temperature", "Cel", -10.0);
	assert_number(&out[1], "humidity", "%RH", 100);
	assert_number(&out[2], "battery", "%EL", 0);
	assert_number(&out[3], "battery_voltage", "V", 0);
	ck_assert_int_eq(
		decode(fg_ble_atc1441_decode, "a4c1380283f4 ffff ff ff ffff ff", NULL, 8, &n), 0);
	assert_number(&out[0], "temperature", "Cel", -0.1);
	assert_number(&out[1], "humidity", "%RH", 255);
	assert_number(&out[3], "battery_voltage", "V", 65.535);
	assert_packet_only(255);
	ck_assert_int_eq(
		decode(fg_ble_atc1441_decode, "a4c1380283f4 8000 00 00 0000 00", NULL, 8, &n), 0);
	assert_number(&out[0], "temperature", "Cel", -3276.8);
}
END_TEST

START_TEST(atc1441_rejects_wrong_lengths)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_atc1441_decode, "a4c1380283f4 00a2 2f 5f 0bf8", NULL, 8, &n),
			 -EBADMSG);
	ck_assert_str_eq(why, "atc1441 needs 13 bytes, got 12");
	ck_assert_int_eq(decode(fg_ble_atc1441_decode, ATC_EXAMPLE " 00", NULL, 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "atc1441 needs 13 bytes, got 14");
	ck_assert_int_eq(decode(fg_ble_atc1441_decode, "", NULL, 8, &n), -EBADMSG);
}
END_TEST

START_TEST(atc1441_rejects_mac_of_another_device)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_atc1441_decode, ATC_EXAMPLE,
				keys_for("A4:C1:38:02:83:F5", NULL), 8, &n),
			 -EBADMSG);
	ck_assert_str_eq(why, "MAC in payload differs from the advertiser");
	/* The MAC is most significant byte first: the reversed address is another device. */
	ck_assert_int_eq(decode(fg_ble_atc1441_decode, ATC_EXAMPLE,
				keys_for("F4:83:02:38:C1:A4", NULL), 8, &n),
			 -EBADMSG);
}
END_TEST

START_TEST(atc1441_reports_full_output)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_atc1441_decode, ATC_EXAMPLE, NULL, 3, &n), -ENOBUFS);
	ck_assert_str_eq(why, "more than 3 values");
}
END_TEST

START_TEST(atc1441_build_gives_published_frame)
{
	static const uint8_t mac[6] = { 0xA4, 0xC1, 0x38, 0x02, 0x83, 0xF4 };
	uint8_t buf[16], want[13];
	size_t len = 0;

	ck_assert_uint_eq(unhex(ATC_EXAMPLE, want, sizeof(want)), 13);
	ck_assert_int_eq(fg_ble_build_atc1441(mac, 16.2, 47, 95, 3064, 25, buf, sizeof(buf), &len),
			 0);
	ck_assert_uint_eq(len, 13);
	ck_assert_mem_eq(buf, want, 13);
}
END_TEST

START_TEST(atc1441_build_decode_round_trip)
{
	static const uint8_t mac[6] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 };
	struct fg_ble_data d = { .service = true, .id = 0x181A };
	uint8_t buf[13];
	size_t len = 0, n = 0;

	/* Rounded to the format's resolution, half away from zero. */
	ck_assert_int_eq(
		fg_ble_build_atc1441(mac, -5.25, 55.5, 88, 2950, 7, buf, sizeof(buf), &len), 0);
	d.p = buf;
	d.n = len;
	ck_assert_int_eq(fg_ble_detect(&d), FG_BLE_ATC1441);
	ck_assert_int_eq(fg_ble_decode(FG_BLE_ATC1441, &d, keys_for("11:22:33:44:55:66", NULL), out,
				       8, &n, &res, why, sizeof(why)),
			 0);
	ck_assert_uint_eq(n, 4);
	assert_number(&out[0], "temperature", "Cel", -5.3);
	assert_number(&out[1], "humidity", "%RH", 56);
	assert_number(&out[2], "battery", "%EL", 88);
	assert_number(&out[3], "battery_voltage", "V", 2.95);
	assert_packet_only(7);
}
END_TEST

START_TEST(atc1441_build_refuses_what_it_cannot_carry)
{
	static const uint8_t mac[6] = { 0 };
	uint8_t buf[13];
	size_t len = 77;

	memset(buf, 0x5A, sizeof(buf));
	ck_assert_int_eq(fg_ble_build_atc1441(mac, NAN, 50, 1, 1, 1, buf, 13, &len), -ERANGE);
	ck_assert_int_eq(fg_ble_build_atc1441(mac, 3276.8, 50, 1, 1, 1, buf, 13, &len), -ERANGE);
	ck_assert_int_eq(fg_ble_build_atc1441(mac, -3276.9, 50, 1, 1, 1, buf, 13, &len), -ERANGE);
	ck_assert_int_eq(fg_ble_build_atc1441(mac, 20, 255.6, 1, 1, 1, buf, 13, &len), -ERANGE);
	ck_assert_int_eq(fg_ble_build_atc1441(mac, 20, -0.6, 1, 1, 1, buf, 13, &len), -ERANGE);
	ck_assert_int_eq(fg_ble_build_atc1441(mac, 20, NAN, 1, 1, 1, buf, 13, &len), -ERANGE);
	ck_assert_int_eq(fg_ble_build_atc1441(mac, 20, 50, 1, 1, 1, buf, 12, &len), -EMSGSIZE);
	ck_assert_int_eq(fg_ble_build_atc1441(NULL, 20, 50, 1, 1, 1, buf, 13, &len), -EINVAL);
	ck_assert_int_eq(fg_ble_build_atc1441(mac, 20, 50, 1, 1, 1, NULL, 13, &len), -EINVAL);
	ck_assert_int_eq(fg_ble_build_atc1441(mac, 20, 50, 1, 1, 1, buf, 13, NULL), -EINVAL);
	ck_assert_uint_eq(len, 77);
	for (size_t i = 0; i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], 0x5A);
	/* The extremes do fit. */
	ck_assert_int_eq(fg_ble_build_atc1441(mac, -3276.8, 0, 0, 0, 0, buf, 13, &len), 0);
	ck_assert_uint_eq(buf[6], 0x80);
	ck_assert_uint_eq(buf[7], 0x00);
	ck_assert_int_eq(fg_ble_build_atc1441(mac, 3276.7, 255, 255, 65535, 255, buf, 13, &len), 0);
	ck_assert_uint_eq(buf[6], 0x7F);
	ck_assert_uint_eq(buf[7], 0xFF);
	ck_assert_uint_eq(buf[8], 255);
}
END_TEST

/* --------------------------------------------------------------------- pvvx */

/*
 * [BM-ATC] test_atc_custom, test_atc_custom_v2_9, test_atc_custom_ext: the
 * pvvx custom format, MAC least significant byte first.
 */
static const struct {
	const char *hex, *address;
	double temperature, humidity, battery, volts;
	unsigned packet;
} pvvx_examples[] = {
	{ "f4830238c1a4 a906 6911 b60b 58 f7 0d", "A4:C1:38:02:83:F4", 17.05, 44.57, 88, 2.998,
	  247 },
	{ "B2188D38C1A4 2B08 9011 F70A 43 20 0F", "A4:C1:38:8D:18:B2", 20.91, 44.96, 67, 2.807,
	  32 },
	{ "8B376338C1A4 CE09 1310 7F0B 52 12 04", "A4:C1:38:63:37:8B", 25.1, 41.15, 82, 2.943, 18 },
};

START_TEST(pvvx_decodes_ble_monitor_examples)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_pvvx_decode, pvvx_examples[_i].hex,
				keys_for(pvvx_examples[_i].address, NULL), 8, &n),
			 0);
	ck_assert_uint_eq(n, 4);
	assert_number(&out[0], "temperature", "Cel", pvvx_examples[_i].temperature);
	assert_number(&out[1], "humidity", "%RH", pvvx_examples[_i].humidity);
	assert_number(&out[2], "battery", "%EL", pvvx_examples[_i].battery);
	assert_number(&out[3], "battery_voltage", "V", pvvx_examples[_i].volts);
	assert_packet_only(pvvx_examples[_i].packet);
}
END_TEST

START_TEST(pvvx_negative_temperatures)
{
	size_t n;

	/* -20.00 C (0xF830), 0 %, 1800 mV: synthetic */
	ck_assert_int_eq(
		decode(fg_ble_pvvx_decode, "f4830238c1a4 30f8 0000 0807 05 01 00", NULL, 8, &n), 0);
	assert_number(&out[0], "temperature", "Cel", -20.0);
	assert_number(&out[1], "humidity", "%RH", 0);
	assert_number(&out[2], "battery", "%EL", 5);
	assert_number(&out[3], "battery_voltage", "V", 1.8);
	ck_assert_int_eq(
		decode(fg_ble_pvvx_decode, "f4830238c1a4 ffff 1027 0807 05 01 00", NULL, 8, &n), 0);
	assert_number(&out[0], "temperature", "Cel", -0.01);
	assert_number(&out[1], "humidity", "%RH", 100);
	ck_assert_int_eq(
		decode(fg_ble_pvvx_decode, "f4830238c1a4 0080 ffff 0807 05 01 00", NULL, 8, &n), 0);
	assert_number(&out[0], "temperature", "Cel", -327.68);
	assert_number(&out[1], "humidity", "%RH", 655.35);
}
END_TEST

START_TEST(pvvx_rejects_wrong_lengths)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_pvvx_decode, ATC_EXAMPLE, NULL, 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "pvvx needs 15 bytes, got 13");
	ck_assert_int_eq(
		decode(fg_ble_pvvx_decode, "f4830238c1a4 a906 6911 b60b 58 f7 0d 00", NULL, 8, &n),
		-EBADMSG);
	ck_assert_str_eq(why, "pvvx needs 15 bytes, got 16");
}
END_TEST

START_TEST(pvvx_rejects_mac_of_another_device)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_pvvx_decode, pvvx_examples[0].hex,
				keys_for("A4:C1:38:02:83:F3", NULL), 8, &n),
			 -EBADMSG);
	ck_assert_str_eq(why, "MAC in payload differs from the advertiser");
	/* Read as the big-endian MAC of atc1441 it would be this one: wrong here. */
	ck_assert_int_eq(decode(fg_ble_pvvx_decode, pvvx_examples[0].hex,
				keys_for("F4:83:02:38:C1:A4", NULL), 8, &n),
			 -EBADMSG);
}
END_TEST

START_TEST(pvvx_is_detected_and_dispatched)
{
	uint8_t buf[15];
	struct fg_ble_data d = { .service = true, .id = 0x181A, .p = buf };
	size_t n = 0;

	d.n = unhex(pvvx_examples[1].hex, buf, sizeof(buf));
	ck_assert_int_eq(fg_ble_detect(&d), FG_BLE_PVVX);
	ck_assert_int_eq(fg_ble_decode(FG_BLE_PVVX, &d, NULL, out, 8, &n, NULL, NULL, 0), 0);
	ck_assert_uint_eq(n, 4);
	assert_number(&out[0], "temperature", "Cel", 20.91);
}
END_TEST

/* ----------------------------------------------------------------- mibeacon */

/* [XB] test_Xiaomi_LYWSDCGQ: v2, MAC, objects 0x100D (18.0 C, 66.1 %) and 0x100A (59 %). */
#define LYWSDCGQ "5020 aa01 a3 bf2e3b342d58 0d1004b4009502 0a10013b"

START_TEST(mibeacon_plain_v2_temperature_humidity_battery)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, LYWSDCGQ,
				keys_for("58:2D:34:3B:2E:BF", NULL), 8, &n),
			 0);
	ck_assert_uint_eq(n, 3);
	assert_number(&out[0], "temperature", "Cel", 18.0);
	assert_number(&out[1], "humidity", "%RH", 66.1);
	assert_number(&out[2], "battery", "%EL", 59);
	assert_packet_only(0xa3);
	/* No keys: no MAC check, same values. */
	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, LYWSDCGQ, NULL, 8, &n), 0);
	ck_assert_uint_eq(n, 3);
}
END_TEST

/* [XB] test_Xiaomi_LYWSD03MMC: v3, 0x100D, 27.2 C and 49.0 %. */
START_TEST(mibeacon_plain_v3_lywsd03mmc)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_mibeacon_decode,
				"5030 5b05 03 4c94b438c1a4 0d1004 1001 ea01",
				keys_for("A4:C1:38:B4:94:4C", NULL), 8, &n),
			 0);
	ck_assert_uint_eq(n, 2);
	assert_number(&out[0], "temperature", "Cel", 27.2);
	assert_number(&out[1], "humidity", "%RH", 49.0);
	assert_packet_only(3);
}
END_TEST

/*
 * [XB] test_Xiaomi_HHCCJCY01 and test_Xiaomi_HHCCJCY01_all_values (plant
 * sensor, capability byte 0x0D): one object per frame. xiaomi-ble gives
 * conductivity 599 (uS/cm); here 0.0599 S/m.
 */
static const struct {
	const char *hex, *quantity, *unit;
	double value;
} hhcc[] = {
	{ "7120 9800 12 f34f6b8d7cc4 0d 041002c400", "temperature", "Cel", 19.6 },
	{ "7120 9800 66 7a3e6a8d7cc4 0d 071003000000", "illuminance", "lx", 0 },
	{ "7120 9800 68 7a3e6a8d7cc4 0d 0910025702", "conductivity", "S/m", 0.0599 },
	{ "7120 9800 47 7a3e6a8d7cc4 0d 08100140", "moisture", "/", 0.64 },
	{ "7120 9800 69 7a3e6a8d7cc4 0d 041002f400", "temperature", "Cel", 24.4 },
};

START_TEST(mibeacon_plain_plant_sensor)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, hhcc[_i].hex, NULL, 8, &n), 0);
	ck_assert_uint_eq(n, 1);
	assert_number(&out[0], hhcc[_i].quantity, hhcc[_i].unit, hhcc[_i].value);
}
END_TEST

START_TEST(mibeacon_illuminance_is_24_bit)
{
	size_t n;

	/* synthetic: v5, no MAC, 0x1007 = 0x0186A0 = 100000 lx */
	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, "4050 9800 01 071003a08601", NULL, 8, &n),
			 0);
	ck_assert_uint_eq(n, 1);
	assert_number(&out[0], "illuminance", "lx", 100000);
}
END_TEST

/* [XB] test_blank_advertisements_then_encrypted, first frame: MAC and capability, no objects. */
START_TEST(mibeacon_frame_without_objects_gives_no_values)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, "3058 5b05 02 483cd438c1a4 08",
				keys_for("A4:C1:38:D4:3C:48", NULL), 8, &n),
			 0);
	ck_assert_uint_eq(n, 0);
	ck_assert(!res.has_packet_id);
	ck_assert(!res.has_counter);
}
END_TEST

/* The I/O capability is two bytes (MiBeacon v5 specification); synthetic. */
START_TEST(mibeacon_skips_two_io_capability_bytes)
{
	size_t n;

	ck_assert_int_eq(
		decode(fg_ble_mibeacon_decode, "6050 5b05 04 28 0000 0a100150", NULL, 8, &n), 0);
	ck_assert_uint_eq(n, 1);
	assert_number(&out[0], "battery", "%EL", 80);
}
END_TEST

/*
 * Unknown object ids are skipped by their length byte, zero-length ones
 * too; known ones around them still count. Synthetic.
 */
START_TEST(mibeacon_skips_unknown_objects)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_mibeacon_decode,
				"4050 5b05 09 341202abcd 0410029cff 991000 0a100164", NULL, 8, &n),
			 0);
	ck_assert_uint_eq(n, 2);
	assert_number(&out[0], "temperature", "Cel", -10.0);
	assert_number(&out[1], "battery", "%EL", 100);
	assert_packet_only(9);
}
END_TEST

START_TEST(mibeacon_rejects_bad_objects)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, "4050 5b05 09 04100300ff00", NULL, 8, &n),
			 -EBADMSG);
	ck_assert_str_eq(why, "object 0x1004 has 3 bytes, not 2");
	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, "4050 5b05 09 0d100400ff00", NULL, 8, &n),
			 -EBADMSG);
	ck_assert_str_eq(why, "object 0x100d needs 4 bytes, 3 left");
	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, "4050 5b05 09 0a100150 0a10", NULL, 8, &n),
			 -EBADMSG);
	ck_assert_str_eq(why, "object header needs 3 bytes, 2 left");
}
END_TEST

START_TEST(mibeacon_rejects_bad_headers)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, "5020 aa01", NULL, 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "MiBeacon needs 5 bytes, got 4");
	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, "5020 aa01 a3 bf2e3b", NULL, 8, &n),
			 -EBADMSG);
	ck_assert_str_eq(why, "MAC needs 6 bytes, 3 left");
	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, "6050 5b05 04", NULL, 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "capability byte missing");
	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, "6050 5b05 04 28 00", NULL, 8, &n),
			 -EBADMSG);
	ck_assert_str_eq(why, "I/O capability needs 2 bytes, 1 left");
	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, "c050 5b05 04 0a100150", NULL, 8, &n),
			 -EBADMSG);
	ck_assert_str_eq(why, "mesh MiBeacon not supported");
	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, "4010 5b05 04 0a100150", NULL, 8, &n),
			 -EBADMSG);
	ck_assert_str_eq(why, "MiBeacon version 1 not supported");
}
END_TEST

START_TEST(mibeacon_rejects_mac_of_another_device)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, LYWSDCGQ,
				keys_for("58:2D:34:3B:2E:BE", NULL), 8, &n),
			 -EBADMSG);
	ck_assert_str_eq(why, "MAC in payload differs from the advertiser");
}
END_TEST

START_TEST(mibeacon_reports_full_output)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, LYWSDCGQ, NULL, 2, &n), -ENOBUFS);
	ck_assert_str_eq(why, "more than 2 values");
	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, LYWSDCGQ, NULL, 0, &n), -ENOBUFS);
}
END_TEST

/* [XB] test_encryption_needs_v2: v3 encrypted, no MIC to check a bindkey with. */
START_TEST(mibeacon_refuses_legacy_encryption)
{
	size_t n;

	ck_assert_int_eq(
		decode(fg_ble_mibeacon_decode, "5830 b603 d2 8b98c54124f8 c34914 7675 7e 000000 99",
		       keys_for("F8:24:41:C5:98:8B", "00112233445566778899aabbccddeeff"), 8, &n),
		-EBADMSG);
	ck_assert_str_eq(why, "MiBeacon v3 (legacy) encryption not supported");
}
END_TEST

/* ------------------------------------------------------- mibeacon encrypted */

/* [XB] test_Xiaomi_CGG1: v5, MAC; 0x1006 59.6 %; ext counter 00 0e 00. */
#define CGG1	 "5858 480b 68 5f12342d585a 0b1841e2aa 000e00 a4964fb5"
#define CGG1_MAC "5A:58:2D:34:12:5F"
#define CGG1_KEY "814aac74c4f17b6c1581e1ab87816b99"
/* [XB] test_Xiaomi_CGDK2: v5, MAC; 0x1004 22.6 C; ext counter 02 00 00. */
#define CGDK2	  "5858 6f06 07 892012342d58 5f176dd54f 020000 2fa453fa"
#define CGDK2_MAC "58:2D:34:12:20:89"
#define CGDK2_KEY "a3bfe9853dd85a620debe3620caaa351"

START_TEST(mibeacon_v5_cgg1_humidity)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, CGG1, keys_for(CGG1_MAC, CGG1_KEY), 8, &n),
			 0);
	ck_assert_uint_eq(n, 1);
	assert_number(&out[0], "humidity", "%RH", 59.6);
	/* Frame counter 0x68 is the low byte, the extended counter the upper three. */
	assert_counter(0x68, 0x000E0068);
}
END_TEST

START_TEST(mibeacon_v5_cgdk2_temperature)
{
	size_t n;

	ck_assert_int_eq(
		decode(fg_ble_mibeacon_decode, CGDK2, keys_for(CGDK2_MAC, CGDK2_KEY), 8, &n), 0);
	ck_assert_uint_eq(n, 1);
	assert_number(&out[0], "temperature", "Cel", 22.6);
	assert_counter(7, 0x207);
}
END_TEST

/*
 * [XB] test_Xiaomi_LYWSD03MMC_encrypted: 0x1006 = 467. xiaomi-ble shows 46
 * because it truncates this product's humidity; the frame says 46.7.
 */
START_TEST(mibeacon_v5_lywsd03mmc_humidity)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_mibeacon_decode,
				"5858 5b05 50 f4830238c1a4 95ef58763c 260000 97e2abb5",
				keys_for("A4:C1:38:02:83:F4", "e9ea895fac7cca6d30532432a516f3a8"),
				8, &n),
			 0);
	ck_assert_uint_eq(n, 1);
	assert_number(&out[0], "humidity", "%RH", 46.7);
	assert_counter(0x50, 0x26 << 8 | 0x50);
}
END_TEST

/*
 * [XB] test_Xiaomi_CGDK3: v5 without a MAC in the frame, so the nonce takes
 * the advertiser's; its one object is 0x4801 (a float temperature property,
 * 23.8 C in xiaomi-ble), not one of ours: authenticated, skipped, 0 values.
 */
START_TEST(mibeacon_v5_without_mac_uses_advertiser_and_skips_unknown)
{
	size_t n;

	ck_assert_int_eq(
		decode(fg_ble_mibeacon_decode, "4858 594f ef 546f0e745072 93 210100 38d74333",
		       keys_for("58:2D:34:87:94:0C", "872ea1bb02ba9713e885cb054c537368"), 8, &n),
		0);
	ck_assert_uint_eq(n, 0);
	assert_counter(0xef, 0x000121EF);
	/* Another advertiser address makes another nonce. */
	ck_assert_int_eq(
		decode(fg_ble_mibeacon_decode, "4858 594f ef 546f0e745072 93 210100 38d74333",
		       keys_for("58:2D:34:87:94:0D", "872ea1bb02ba9713e885cb054c537368"), 8, &n),
		-EACCES);
}
END_TEST

/*
 * v4: no published encrypted v4 frame was found. The frame control is not
 * authenticated (associated data is the constant 0x11, the nonce holds
 * product id and counters only), so [XB]'s CGDK2 frame with the version
 * nibble set to 4 (0x4858) is a valid v4 frame of the same content.
 */
START_TEST(mibeacon_v4_from_published_v5)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_mibeacon_decode,
				"5848 6f06 07 892012342d58 5f176dd54f 020000 2fa453fa",
				keys_for(CGDK2_MAC, CGDK2_KEY), 8, &n),
			 0);
	ck_assert_uint_eq(n, 1);
	assert_number(&out[0], "temperature", "Cel", 22.6);
	assert_counter(7, 0x207);
}
END_TEST

/*
 * v4 synthetic (Python cryptography AESCCM), no MAC: bindkey and address of
 * [XB]'s sjws02lm_encrypted_service_info helper (00112233...eeff,
 * 12:34:56:78:9A:BC), product 0x055B, frame counter 0x2A, extended counter
 * 01 02 03; objects 0x100D (-12.5 C, 87.3 %) and 0x100A (77 %).
 */
#define V4_SYNTH     "4848 5b05 2a 5d5d67804e647d3e858d41 010203 8f80db61"
#define V4_SYNTH_MAC "12:34:56:78:9A:BC"
#define V4_SYNTH_KEY "00112233445566778899aabbccddeeff"

START_TEST(mibeacon_v4_synthetic_negative_temperature)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, V4_SYNTH,
				keys_for(V4_SYNTH_MAC, V4_SYNTH_KEY), 8, &n),
			 0);
	ck_assert_uint_eq(n, 3);
	assert_number(&out[0], "temperature", "Cel", -12.5);
	assert_number(&out[1], "humidity", "%RH", 87.3);
	assert_number(&out[2], "battery", "%EL", 77);
	assert_counter(0x2A, 0x0302012A);
}
END_TEST

START_TEST(mibeacon_encrypted_without_bindkey_is_refused)
{
	size_t n;

	/* [XB] test_blank_advertisements_then_encrypted, second frame. */
	ck_assert_int_eq(decode(fg_ble_mibeacon_decode,
				"5858 5b05 01 483cd438c1a4 9cf255cfdd 000000 2fae2ff2",
				keys_for("A4:C1:38:D4:3C:48", NULL), 8, &n),
			 -EACCES);
	ck_assert_str_eq(why, "encrypted and no bindkey");
	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, CGG1, NULL, 8, &n), -EACCES);
}
END_TEST

START_TEST(mibeacon_wrong_bindkey_is_refused)
{
	size_t n;

	/* [XB] test_bindkey_wrong: RTCGQ02LM with a key that is not its own. */
	ck_assert_int_eq(decode(fg_ble_mibeacon_decode,
				"5859 8d0a 17 0fc4e044ef54 7cc27a5c03a1 000000 790df258",
				keys_for("54:EF:44:E0:C4:0F", "814aac74c4f17b6c1581e1ab87816b99"),
				8, &n),
			 -EACCES);
	ck_assert_str_eq(why, "bindkey does not authenticate the frame");
	/* One device's key on another's frame, then the right key in the same process. */
	ck_assert_int_eq(
		decode(fg_ble_mibeacon_decode, CGDK2, keys_for(CGDK2_MAC, CGG1_KEY), 8, &n),
		-EACCES);
	ck_assert_int_eq(
		decode(fg_ble_mibeacon_decode, CGDK2, keys_for(CGDK2_MAC, CGDK2_KEY), 8, &n), 0);
	assert_number(&out[0], "temperature", "Cel", 22.6);
}
END_TEST

START_TEST(mibeacon_tampered_frame_is_refused)
{
	size_t n;

	/* One bit of ciphertext, extended counter, MIC, product id. */
	static const char *tampered[] = {
		"5858 6f06 07 892012342d58 5f176dd54e 020000 2fa453fa",
		"5858 6f06 07 892012342d58 5f176dd54f 030000 2fa453fa",
		"5858 6f06 07 892012342d58 5f176dd54f 020000 2fa453fb",
		"5858 6f07 07 892012342d58 5f176dd54f 020000 2fa453fa",
		"5858 6f06 06 892012342d58 5f176dd54f 020000 2fa453fa",
	};

	for (size_t i = 0; i < sizeof(tampered) / sizeof(tampered[0]); i++)
		ck_assert_int_eq(decode(fg_ble_mibeacon_decode, tampered[i],
					keys_for(CGDK2_MAC, CGDK2_KEY), 8, &n),
				 -EACCES);
}
END_TEST

START_TEST(mibeacon_replay_is_refused_after_the_mic)
{
	struct fg_ble_keys *k;
	size_t n;

	k = keys_for(CGG1_MAC, CGG1_KEY);
	k->have_counter = true;
	k->last_counter = 0x000E0068; /* this very frame */
	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, CGG1, k, 8, &n), -ESTALE);
	ck_assert_str_eq(why, "counter 917608 not above 917608 (replay)");
	k->last_counter = 0xFFFFFFFF;
	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, CGG1, k, 8, &n), -ESTALE);
	/* One below: accepted. The frame counter alone (0x68) would be below 0xFF. */
	k->last_counter = 0x000E0067;
	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, CGG1, k, 8, &n), 0);
	assert_counter(0x68, 0x000E0068);
	k->last_counter = 0xFF;
	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, CGG1, k, 8, &n), 0);
	/* Without have_counter, last_counter means nothing. */
	k->have_counter = false;
	k->last_counter = 0xFFFFFFFF;
	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, CGG1, k, 8, &n), 0);
	/* A wrong key is a wrong key, whatever the counter. */
	k = keys_for(CGG1_MAC, CGDK2_KEY);
	k->have_counter = true;
	k->last_counter = 0xFFFFFFFF;
	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, CGG1, k, 8, &n), -EACCES);
}
END_TEST

/* With a bindkey, plain objects are not trusted; plain frames without objects still pass. */
START_TEST(mibeacon_plain_objects_refused_when_bindkey_known)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, LYWSDCGQ,
				keys_for("58:2D:34:3B:2E:BF", CGG1_KEY), 8, &n),
			 -EACCES);
	ck_assert_str_eq(why, "unencrypted objects from a device with a bindkey");
	ck_assert_int_eq(decode(fg_ble_mibeacon_decode, "3058 5b05 02 483cd438c1a4 08",
				keys_for("A4:C1:38:D4:3C:48", CGG1_KEY), 8, &n),
			 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(mibeacon_encrypted_too_short)
{
	size_t n;

	ck_assert_int_eq(decode(fg_ble_mibeacon_decode,
				"5858 6f06 07 892012342d58 5f17 020000 2fa453fa",
				keys_for(CGDK2_MAC, CGDK2_KEY), 8, &n),
			 -EBADMSG);
	ck_assert_str_eq(why, "encrypted objects need 10 bytes, 9 left");
}
END_TEST

/* ------------------------------------------------------------------- common */

START_TEST(decoders_refuse_null_arguments)
{
	static const fg_ble_decode_fn fns[] = { fg_ble_atc1441_decode, fg_ble_pvvx_decode,
						fg_ble_mibeacon_decode };
	uint8_t buf[13] = { 0 };
	struct fg_ble_data d = { .service = true, .p = buf, .n = sizeof(buf) };
	struct fg_ble_data no_bytes = { .service = true, .p = NULL, .n = 3 };
	size_t n = 5;

	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(fns[i](NULL, NULL, out, 8, &n, NULL, NULL, 0), -EINVAL);
		ck_assert_int_eq(fns[i](&no_bytes, NULL, out, 8, &n, NULL, NULL, 0), -EINVAL);
		ck_assert_int_eq(fns[i](&d, NULL, NULL, 8, &n, NULL, NULL, 0), -EINVAL);
		ck_assert_int_eq(fns[i](&d, NULL, out, 8, NULL, NULL, NULL, 0), -EINVAL);
	}
	ck_assert_uint_eq(n, 5);
}
END_TEST

static Suite *ble_xiaomi_suite(void)
{
	Suite *s = suite_create("ble_xiaomi");
	TCase *tc;

	tc = tcase_create("atc1441");
	tcase_add_test(tc, atc1441_decodes_ble_monitor_example);
	tcase_add_test(tc, atc1441_decodes_extended_example_without_keys);
	tcase_add_test(tc, atc1441_negative_temperatures);
	tcase_add_test(tc, atc1441_rejects_wrong_lengths);
	tcase_add_test(tc, atc1441_rejects_mac_of_another_device);
	tcase_add_test(tc, atc1441_reports_full_output);
	tcase_add_test(tc, atc1441_build_gives_published_frame);
	tcase_add_test(tc, atc1441_build_decode_round_trip);
	tcase_add_test(tc, atc1441_build_refuses_what_it_cannot_carry);
	suite_add_tcase(s, tc);

	tc = tcase_create("pvvx");
	tcase_add_loop_test(tc, pvvx_decodes_ble_monitor_examples, 0,
			    sizeof(pvvx_examples) / sizeof(pvvx_examples[0]));
	tcase_add_test(tc, pvvx_negative_temperatures);
	tcase_add_test(tc, pvvx_rejects_wrong_lengths);
	tcase_add_test(tc, pvvx_rejects_mac_of_another_device);
	tcase_add_test(tc, pvvx_is_detected_and_dispatched);
	suite_add_tcase(s, tc);

	tc = tcase_create("mibeacon");
	tcase_add_test(tc, mibeacon_plain_v2_temperature_humidity_battery);
	tcase_add_test(tc, mibeacon_plain_v3_lywsd03mmc);
	tcase_add_loop_test(tc, mibeacon_plain_plant_sensor, 0, sizeof(hhcc) / sizeof(hhcc[0]));
	tcase_add_test(tc, mibeacon_illuminance_is_24_bit);
	tcase_add_test(tc, mibeacon_frame_without_objects_gives_no_values);
	tcase_add_test(tc, mibeacon_skips_two_io_capability_bytes);
	tcase_add_test(tc, mibeacon_skips_unknown_objects);
	tcase_add_test(tc, mibeacon_rejects_bad_objects);
	tcase_add_test(tc, mibeacon_rejects_bad_headers);
	tcase_add_test(tc, mibeacon_rejects_mac_of_another_device);
	tcase_add_test(tc, mibeacon_reports_full_output);
	tcase_add_test(tc, mibeacon_refuses_legacy_encryption);
	suite_add_tcase(s, tc);

	tc = tcase_create("mibeacon_encrypted");
	tcase_add_test(tc, mibeacon_v5_cgg1_humidity);
	tcase_add_test(tc, mibeacon_v5_cgdk2_temperature);
	tcase_add_test(tc, mibeacon_v5_lywsd03mmc_humidity);
	tcase_add_test(tc, mibeacon_v5_without_mac_uses_advertiser_and_skips_unknown);
	tcase_add_test(tc, mibeacon_v4_from_published_v5);
	tcase_add_test(tc, mibeacon_v4_synthetic_negative_temperature);
	tcase_add_test(tc, mibeacon_encrypted_without_bindkey_is_refused);
	tcase_add_test(tc, mibeacon_wrong_bindkey_is_refused);
	tcase_add_test(tc, mibeacon_tampered_frame_is_refused);
	tcase_add_test(tc, mibeacon_replay_is_refused_after_the_mic);
	tcase_add_test(tc, mibeacon_plain_objects_refused_when_bindkey_known);
	tcase_add_test(tc, mibeacon_encrypted_too_short);
	suite_add_tcase(s, tc);

	tc = tcase_create("common");
	tcase_add_test(tc, decoders_refuse_null_arguments);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(ble_xiaomi_suite());
}
