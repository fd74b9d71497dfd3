/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "check-main.h"

#define G0	   9.80665

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

/* Decode hex as Cayenne into `out`, returning the result and the count in *n. */
static int cayenne(const char *hex, size_t max, size_t *n)
{
	uint8_t buf[256];
	size_t len = unhex(hex, buf, sizeof(buf));

	why[0] = '\0';
	return fg_cayenne_decode(buf, len, out, max, n, why, sizeof(why));
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

/* ------------------------------------------------------------------ cayenne */

/*
 * The three examples of the myDevices reference
 * (docs.mydevices.com/docs/lorawan/cayenne-lpp, "Examples"; also the
 * myDevicesIoT/CayenneLPP README): two temperature sensors, temperature and
 * accelerometer, GPS.
 */
START_TEST(cayenne_reference_two_temperatures)
{
	size_t n = 0;

	ck_assert_int_eq(cayenne("03 67 01 10 05 67 00 FF", 8, &n), 0);
	ck_assert_uint_eq(n, 2);
	assert_number(&out[0], "temperature_3", "Cel", 27.2, 0);
	assert_number(&out[1], "temperature_5", "Cel", 25.5, 0);
}
END_TEST

START_TEST(cayenne_reference_temperature_and_accelerometer)
{
	size_t n = 0;

	ck_assert_int_eq(cayenne("01 67 FF D7 06 71 04 D2 FB 2E 00 00", 8, &n), 0);
	ck_assert_uint_eq(n, 4);
	assert_number(&out[0], "temperature_1", "Cel", -4.1, 0);
	assert_number(&out[1], "accelerometer_x_6", "m/s2", 1.234 * G0, 1e-12);
	assert_number(&out[2], "accelerometer_y_6", "m/s2", -1.234 * G0, 1e-12);
	assert_number(&out[3], "accelerometer_z_6", "m/s2", 0, 0);
}
END_TEST

START_TEST(cayenne_reference_gps)
{
	size_t n = 0;

	ck_assert_int_eq(cayenne("01 88 06 76 5F F2 96 0A 00 03 E8", 8, &n), 0);
	ck_assert_uint_eq(n, 3);
	assert_number(&out[0], "gps_lat_1", "lat", 42.3519, 0);
	assert_number(&out[1], "gps_lon_1", "lon", -87.9094, 0);
	assert_number(&out[2], "gps_alt_1", "m", 10, 0);
}
END_TEST

/*
 * The Things Stack's CayenneLPP formatter documentation
 * (thethingsindustries.com/docs/integrations/payload-formatters/cayenne):
 * "AHMnvwBnAN4=" is barometric_pressure_0 1017.5 (hPa) and temperature_0 22.2.
 */
START_TEST(cayenne_tts_barometer_example)
{
	size_t n = 0;

	ck_assert_int_eq(cayenne("00 73 27 BF 00 67 00 DE", 8, &n), 0);
	ck_assert_uint_eq(n, 2);
	assert_number(&out[0], "barometer_0", "Pa", 101750, 1e-9);
	assert_number(&out[1], "temperature_0", "Cel", 22.2, 0);
}
END_TEST

/*
 * One record of every type. Byte strings marked [EC] are the encoder test
 * vectors of github.com/ElectronicCats/CayenneLPP test/aunit/main.cpp; the
 * others are worked out by hand from the type table.
 */
static const struct {
	const char *hex;
	const char *quantity;
	const char *unit;
	int kind; /* FG_VALUE_NUMBER or FG_VALUE_BOOL */
	double value;
	double tol;
} every_type[] = {
	{ "01 00 01", "digital_in_1", "", FG_VALUE_BOOL, 1, 0 },
	{ "02 01 00", "digital_out_2", "", FG_VALUE_BOOL, 0, 0 },
	{ "01 02 FF 9C", "analog_in_1", "", FG_VALUE_NUMBER, -1.0, 0 },
	{ "09 03 01 2D", "analog_out_9", "", FG_VALUE_NUMBER, 3.01, 0 },
	/* [EC] */ { "01 64 00 00 03 E6", "generic_1", "", FG_VALUE_NUMBER, 998, 0 },
	{ "01 65 01 F4", "illuminance_1", "lx", FG_VALUE_NUMBER, 500, 0 },
	{ "01 66 01", "presence_1", "", FG_VALUE_BOOL, 1, 0 },
	/* [EC] */ { "05 67 FF D1", "temperature_5", "Cel", FG_VALUE_NUMBER, -4.7, 0 },
	/* [EC] */ { "02 68 6C", "humidity_2", "%RH", FG_VALUE_NUMBER, 54, 0 },
	{ "04 73 27 BF", "barometer_4", "Pa", FG_VALUE_NUMBER, 101750, 1e-9 },
	/* [EC] */ { "03 74 57 B8", "voltage_3", "V", FG_VALUE_NUMBER, 224.56, 0 },
	/* [EC] */ { "01 75 00 ED", "current_1", "A", FG_VALUE_NUMBER, 0.237, 0 },
	/* [EC] */ { "01 76 33 BE 27 A0", "frequency_1", "Hz", FG_VALUE_NUMBER, 868100000, 0 },
	{ "01 78 64", "percentage_1", "/", FG_VALUE_NUMBER, 1, 0 },
	{ "01 78 39", "percentage_1", "/", FG_VALUE_NUMBER, 0.57, 0 }, /* one exact division */
	/* [EC] */ { "05 79 FF EF", "altitude_5", "m", FG_VALUE_NUMBER, -17, 0 },
	{ "04 7D 0F EF", "concentration_4", "/", FG_VALUE_NUMBER, 4079e-6, 1e-15 },
	/* [EC] */ { "05 80 0D 7A", "power_5", "W", FG_VALUE_NUMBER, 3450, 0 },
	/* [EC] */ { "01 80 FF FF", "power_1", "W", FG_VALUE_NUMBER, 65535, 0 },
	/* [EC] */ { "01 82 00 00 00 22", "distance_1", "m", FG_VALUE_NUMBER, 0.034, 0 },
	/* [EC] */ { "01 83 00 79 5B 30", "energy_1", "J", FG_VALUE_NUMBER, 7953.2 * 3.6e6, 1e-3 },
	/* [EC] */ { "01 84 01 00", "direction_1", "deg", FG_VALUE_NUMBER, 256, 0 },
	{ "01 85 65 5F 2A 00", "unixtime_1", "s", FG_VALUE_NUMBER, 1700735488, 0 },
	/* [EC] */ { "05 8E 01", "switch_5", "", FG_VALUE_BOOL, 1, 0 },
	{ "05 8E 00", "switch_5", "", FG_VALUE_BOOL, 0, 0 },
	{ "05 8E 02", "switch_5", "", FG_VALUE_BOOL, 1, 0 },
	{ "FF 67 7F FF", "temperature_255", "Cel", FG_VALUE_NUMBER, 3276.7, 0 },
	{ "00 67 80 00", "temperature_0", "Cel", FG_VALUE_NUMBER, -3276.8, 0 },
	{ "00 68 FF", "humidity_0", "%RH", FG_VALUE_NUMBER, 127.5, 0 },
	{ "00 64 FF FF FF FF", "generic_0", "", FG_VALUE_NUMBER, 4294967295.0, 0 },
};

START_TEST(cayenne_every_single_valued_type)
{
	size_t n = 0;

	ck_assert_int_eq(cayenne(every_type[_i].hex, 8, &n), 0);
	ck_assert_uint_eq(n, 1);
	if (every_type[_i].kind == FG_VALUE_BOOL)
		assert_bool(&out[0], every_type[_i].quantity, every_type[_i].value != 0);
	else
		assert_number(&out[0], every_type[_i].quantity, every_type[_i].unit,
			      every_type[_i].value, every_type[_i].tol);
}
END_TEST

START_TEST(cayenne_gyrometer_in_degrees_per_second_named)
{
	size_t n = 0;

	/* 1.00, -1.00 and 327.67 deg/s: no registered unit, so no "u" and the unit in the name */
	ck_assert_int_eq(cayenne("02 86 00 64 FF 9C 7F FF", 8, &n), 0);
	ck_assert_uint_eq(n, 3);
	assert_number(&out[0], "gyrometer_x_deg_per_s_2", "", 1, 0);
	assert_number(&out[1], "gyrometer_y_deg_per_s_2", "", -1, 0);
	assert_number(&out[2], "gyrometer_z_deg_per_s_2", "", 327.67, 0);
}
END_TEST

START_TEST(cayenne_colour_is_red_green_blue)
{
	size_t n = 0;

	/* The library writes r, g, b in that order (CayenneLPP.cpp, addColour). */
	ck_assert_int_eq(cayenne("07 87 18 EF 0F", 8, &n), 0);
	ck_assert_uint_eq(n, 3);
	assert_number(&out[0], "colour_r_7", "", 24, 0);
	assert_number(&out[1], "colour_g_7", "", 239, 0);
	assert_number(&out[2], "colour_b_7", "", 15, 0);
}
END_TEST

START_TEST(cayenne_gps_southern_western_below_sea)
{
	size_t n = 0;

	/* -33.8688, 151.2093 (Sydney) and -4.5 m: FA D5 00, 17 12 9D, FF FE 3E */
	ck_assert_int_eq(cayenne("03 88 FA D5 00 17 12 9D FF FE 3E", 8, &n), 0);
	ck_assert_uint_eq(n, 3);
	assert_number(&out[0], "gps_lat_3", "lat", -33.8688, 0);
	assert_number(&out[1], "gps_lon_3", "lon", 151.2093, 0);
	assert_number(&out[2], "gps_alt_3", "m", -4.5, 0);
}
END_TEST

START_TEST(cayenne_many_channels_in_one_frame)
{
	size_t n = 0;

	/* [EC] multichannel (temperature 3, humidity 2), then a switch, GPS and a voltage. */
	ck_assert_int_eq(cayenne("03 67 01 10 02 68 6C 05 8E 01"
				 " 01 88 06 76 5F F2 96 0A 00 03 E8 03 74 57 B8",
				 FG_CODEC_VALUES_MAX, &n),
			 0);
	ck_assert_uint_eq(n, 7);
	assert_number(&out[0], "temperature_3", "Cel", 27.2, 0);
	assert_number(&out[1], "humidity_2", "%RH", 54, 0);
	assert_bool(&out[2], "switch_5", true);
	assert_number(&out[3], "gps_lat_1", "lat", 42.3519, 0);
	assert_number(&out[4], "gps_lon_1", "lon", -87.9094, 0);
	assert_number(&out[5], "gps_alt_1", "m", 10, 0);
	assert_number(&out[6], "voltage_3", "V", 224.56, 0);
}
END_TEST

START_TEST(cayenne_empty_frame_has_no_values)
{
	size_t n = 99;

	ck_assert_int_eq(fg_cayenne_decode(NULL, 0, out, 8, &n, why, sizeof(why)), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(cayenne_truncated_value_is_refused)
{
	size_t n = 99;

	ck_assert_int_eq(cayenne("03 67 01", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "channel 3: temperature needs 2 bytes, 1 left");
	ck_assert_uint_eq(n, 99);

	ck_assert_int_eq(cayenne("03 67 01 10 01 88 06 76 5F F2 96 0A 00 03", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "channel 1: gps needs 9 bytes, 8 left");
	ck_assert_uint_eq(n, 99);

	ck_assert_int_eq(cayenne("06 71", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "channel 6: accelerometer needs 6 bytes, 0 left");
}
END_TEST

START_TEST(cayenne_channel_without_type_is_refused)
{
	size_t n = 99;

	ck_assert_int_eq(cayenne("03 67 01 10 05", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "channel 5: no type byte");
	ck_assert_uint_eq(n, 99);
}
END_TEST

START_TEST(cayenne_unknown_type_is_refused)
{
	size_t n = 99;

	ck_assert_int_eq(cayenne("03 67 01 10 04 99 01 10", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "channel 4: type 0x99 unknown");
	/* [EC] DecoderTest UnknownType */
	ck_assert_int_eq(cayenne("03 24 01 10", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "channel 3: type 0x24 unknown");
	/* The library's polyline (240) is not in the reference list. */
	ck_assert_int_eq(cayenne("01 F0 09 01 00 00 00 00 00 00 00", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "channel 1: type 0xf0 unknown");
	ck_assert_uint_eq(n, 99);
}
END_TEST

START_TEST(cayenne_more_values_than_room)
{
	size_t n = 99;

	ck_assert_int_eq(cayenne("03 67 01 10 05 67 00 FF", 1, &n), -ENOBUFS);
	ck_assert_uint_eq(n, 99);
	/* The accelerometer gives three values: two places are not enough, three are. */
	ck_assert_int_eq(cayenne("06 71 04 D2 FB 2E 00 00", 2, &n), -ENOBUFS);
	ck_assert_int_eq(cayenne("06 71 04 D2 FB 2E 00 00", 3, &n), 0);
	ck_assert_uint_eq(n, 3);
	/* 22 three-valued records make 66 values. */
	{
		uint8_t buf[22 * 8];
		size_t len = 0;
		const double v[3] = { 0, 0, 1 };

		for (int i = 0; i < 22; i++)
			ck_assert_int_eq(
				fg_cayenne_put(buf, sizeof(buf), &len, (uint8_t) i, 113, v), 0);
		ck_assert_int_eq(
			fg_cayenne_decode(buf, len, out, FG_CODEC_VALUES_MAX, &n, why, sizeof(why)),
			-ENOBUFS);
		ck_assert_int_eq(fg_cayenne_decode(buf, len - 8, out, FG_CODEC_VALUES_MAX, &n, why,
						   sizeof(why)),
				 0);
		ck_assert_uint_eq(n, 63);
		assert_number(&out[62], "accelerometer_z_20", "m/s2", G0, 1e-12);
	}
}
END_TEST

/* Every cut of a valid frame either ends on a record boundary or is refused; none reads on. */
START_TEST(cayenne_every_truncation_is_safe)
{
	uint8_t full[64];
	size_t len = unhex("03 67 01 10 06 71 04 D2 FB 2E 00 00 01 88 06 76 5F F2 96 0A 00 03 E8",
			   full, sizeof(full));
	const size_t boundaries[] = { 0, 4, 12, 23 };
	const size_t values[] = { 0, 1, 4, 7 };

	for (size_t cut = 0; cut <= len; cut++) {
		uint8_t *p = malloc(cut ? cut : 1);
		size_t n = 99;
		int r, expect = -EBADMSG;
		size_t expect_n = 99;

		ck_assert_ptr_nonnull(p);
		memcpy(p, full, cut);
		for (size_t b = 0; b < 4; b++)
			if (cut == boundaries[b]) {
				expect = 0;
				expect_n = values[b];
			}
		r = fg_cayenne_decode(p, cut, out, 8, &n, why, sizeof(why));
		ck_assert_msg(r == expect, "cut %zu: %d", cut, r);
		ck_assert_uint_eq(n, expect_n);
		free(p);
	}
}
END_TEST

START_TEST(cayenne_refuses_bad_arguments)
{
	uint8_t b[4] = { 3, 0x67, 1, 0x10 };
	size_t n = 0;

	ck_assert_int_eq(fg_cayenne_decode(NULL, 4, out, 8, &n, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(fg_cayenne_decode(b, 4, NULL, 8, &n, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(fg_cayenne_decode(b, 4, out, 8, NULL, why, sizeof(why)), -EINVAL);
	/* `why` is optional. */
	ck_assert_int_eq(fg_cayenne_decode(b, 3, out, 8, &n, NULL, 0), -EBADMSG);
	ck_assert_int_eq(fg_cayenne_decode(b, 4, out, 8, &n, NULL, 0), 0);
	ck_assert_uint_eq(n, 1);
}
END_TEST

/* fg_cayenne_put reproduces the reference examples byte for byte. */
START_TEST(cayenne_put_builds_the_reference_examples)
{
	uint8_t buf[32], want[32];
	size_t len = 0, wn;

	ck_assert_int_eq(fg_cayenne_put(buf, sizeof(buf), &len, 3, 103, (double[]){ 27.2 }), 0);
	ck_assert_int_eq(fg_cayenne_put(buf, sizeof(buf), &len, 5, 103, (double[]){ 25.5 }), 0);
	wn = unhex("03 67 01 10 05 67 00 FF", want, sizeof(want));
	ck_assert_uint_eq(len, wn);
	ck_assert_mem_eq(buf, want, wn);

	len = 0;
	ck_assert_int_eq(fg_cayenne_put(buf, sizeof(buf), &len, 1, 103, (double[]){ -4.1 }), 0);
	ck_assert_int_eq(
		fg_cayenne_put(buf, sizeof(buf), &len, 6, 113, (double[]){ 1.234, -1.234, 0 }), 0);
	wn = unhex("01 67 FF D7 06 71 04 D2 FB 2E 00 00", want, sizeof(want));
	ck_assert_uint_eq(len, wn);
	ck_assert_mem_eq(buf, want, wn);

	/* Rounded, not truncated: the float-truncating library writes ...5E here. */
	len = 0;
	ck_assert_int_eq(
		fg_cayenne_put(buf, sizeof(buf), &len, 1, 136, (double[]){ 42.3519, -87.9094, 10 }),
		0);
	wn = unhex("01 88 06 76 5F F2 96 0A 00 03 E8", want, sizeof(want));
	ck_assert_uint_eq(len, wn);
	ck_assert_mem_eq(buf, want, wn);
}
END_TEST

/* Values in LPP's units in, SenML's out, for every type. */
static const struct {
	uint8_t type;
	double v[3];
	const char *quantity[3];
	const char *unit;
	double senml[3];
} round_trip[] = {
	{ 0, { 1 }, { "digital_in_7" }, "", { 1 } },
	{ 1, { 0 }, { "digital_out_7" }, "", { 0 } },
	{ 2, { -327.68 }, { "analog_in_7" }, "", { -327.68 } },
	{ 3, { 12.346 }, { "analog_out_7" }, "", { 12.35 } },
	{ 100, { 123456789 }, { "generic_7" }, "", { 123456789 } },
	{ 101, { 65535 }, { "illuminance_7" }, "lx", { 65535 } },
	{ 102, { 1 }, { "presence_7" }, "", { 1 } },
	{ 103, { -40.04 }, { "temperature_7" }, "Cel", { -40.0 } },
	{ 104, { 54.3 }, { "humidity_7" }, "%RH", { 54.5 } },
	{ 113,
	  { -2, 0.5, 16 },
	  { "accelerometer_x_7", "accelerometer_y_7", "accelerometer_z_7" },
	  "m/s2",
	  { -2 * G0, 0.5 * G0, 16 * G0 } },
	{ 115, { 1013.25 }, { "barometer_7" }, "Pa", { 101330 } },
	{ 116, { 3.3 }, { "voltage_7" }, "V", { 3.3 } },
	{ 117, { 0.0125 }, { "current_7" }, "A", { 0.013 } },
	{ 118, { 4294967295.0 }, { "frequency_7" }, "Hz", { 4294967295.0 } },
	{ 120, { 87 }, { "percentage_7" }, "/", { 0.87 } },
	{ 121, { -412 }, { "altitude_7" }, "m", { -412 } },
	{ 125, { 415 }, { "concentration_7" }, "/", { 415e-6 } },
	{ 128, { 1500 }, { "power_7" }, "W", { 1500 } },
	{ 130, { 1234.5678 }, { "distance_7" }, "m", { 1234.568 } },
	{ 131, { 12.5 }, { "energy_7" }, "J", { 45e6 } },
	{ 132, { 359 }, { "direction_7" }, "deg", { 359 } },
	{ 133, { 1764039446 }, { "unixtime_7" }, "s", { 1764039446 } },
	{ 134,
	  { -250, 0, 90.5 },
	  { "gyrometer_x_deg_per_s_7", "gyrometer_y_deg_per_s_7", "gyrometer_z_deg_per_s_7" },
	  "",
	  { -250, 0, 90.5 } },
	{ 135, { 255, 128, 0 }, { "colour_r_7", "colour_g_7", "colour_b_7" }, "", { 255, 128, 0 } },
	{ 136,
	  { -89.9999, 179.9999, 83886.07 },
	  { "gps_lat_7", "gps_lon_7", "gps_alt_7" },
	  "",
	  { -89.9999, 179.9999, 83886.07 } },
	{ 142, { 1 }, { "switch_7" }, "", { 1 } },
};

START_TEST(cayenne_put_then_decode_every_type)
{
	static const char *gps_units[3] = { "lat", "lon", "m" };
	uint8_t buf[16];
	size_t len = 0, n = 0, count = round_trip[_i].quantity[1] ? 3 : 1;

	ck_assert_int_eq(
		fg_cayenne_put(buf, sizeof(buf), &len, 7, round_trip[_i].type, round_trip[_i].v),
		0);
	ck_assert_int_eq(buf[0], 7);
	ck_assert_int_eq(buf[1], round_trip[_i].type);
	ck_assert_int_eq(fg_cayenne_decode(buf, len, out, 8, &n, why, sizeof(why)), 0);
	ck_assert_uint_eq(n, count);
	for (size_t e = 0; e < count; e++) {
		const char *unit = round_trip[_i].type == 136 ? gps_units[e] : round_trip[_i].unit;
		double want = round_trip[_i].senml[e];

		if (out[e].kind == FG_VALUE_BOOL)
			assert_bool(&out[e], round_trip[_i].quantity[e], want != 0);
		else
			assert_number(&out[e], round_trip[_i].quantity[e], unit, want,
				      fabs(want) * 1e-12);
	}
}
END_TEST

START_TEST(cayenne_put_refuses_values_out_of_range)
{
	uint8_t buf[16];
	size_t len = 0;

	ck_assert_int_eq(fg_cayenne_put(buf, sizeof(buf), &len, 1, 103, (double[]){ 3276.7 }), 0);
	ck_assert_int_eq(fg_cayenne_put(buf, sizeof(buf), &len, 1, 103, (double[]){ 3276.8 }),
			 -ERANGE);
	ck_assert_int_eq(fg_cayenne_put(buf, sizeof(buf), &len, 1, 103, (double[]){ -3276.9 }),
			 -ERANGE);
	ck_assert_int_eq(fg_cayenne_put(buf, sizeof(buf), &len, 1, 104, (double[]){ -0.5 }),
			 -ERANGE);
	ck_assert_int_eq(fg_cayenne_put(buf, sizeof(buf), &len, 1, 104, (double[]){ 128 }),
			 -ERANGE);
	ck_assert_int_eq(fg_cayenne_put(buf, sizeof(buf), &len, 1, 103, (double[]){ NAN }),
			 -ERANGE);
	ck_assert_int_eq(fg_cayenne_put(buf, sizeof(buf), &len, 1, 100, (double[]){ INFINITY }),
			 -ERANGE);
	ck_assert_int_eq(fg_cayenne_put(buf, sizeof(buf), &len, 1, 102, (double[]){ 256 }),
			 -ERANGE);
	/* GPS latitude is 24-bit: 838.8607 fits, 838.8608 does not; one bad axis fails all. */
	ck_assert_int_eq(
		fg_cayenne_put(buf, sizeof(buf), &len, 1, 136, (double[]){ 10, 838.8608, 0 }),
		-ERANGE);
	/* Nothing was written after the first temperature. */
	ck_assert_uint_eq(len, 4);
	ck_assert_int_eq(buf[2], 0x7f);
	ck_assert_int_eq(buf[3], 0xff);
}
END_TEST

START_TEST(cayenne_put_refuses_a_full_buffer_and_bad_arguments)
{
	uint8_t buf[16];
	size_t len = 0;
	const double v[3] = { 1, 2, 3 };

	ck_assert_int_eq(fg_cayenne_put(buf, 3, &len, 1, 103, v), -EMSGSIZE);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(fg_cayenne_put(buf, 4, &len, 1, 103, v), 0);
	ck_assert_int_eq(fg_cayenne_put(buf, 4, &len, 1, 102, v), -EMSGSIZE);
	ck_assert_uint_eq(len, 4);
	ck_assert_int_eq(fg_cayenne_put(buf, 12, &len, 1, 136, v), -EMSGSIZE);
	ck_assert_int_eq(fg_cayenne_put(buf, 15, &len, 1, 136, v), 0);
	ck_assert_uint_eq(len, 15);
	len = 0;
	ck_assert_int_eq(fg_cayenne_put(buf, sizeof(buf), &len, 1, 0x99, v), -EINVAL);
	ck_assert_int_eq(fg_cayenne_put(buf, sizeof(buf), &len, 1, 240, v), -EINVAL);
	ck_assert_int_eq(fg_cayenne_put(NULL, sizeof(buf), &len, 1, 103, v), -EINVAL);
	ck_assert_int_eq(fg_cayenne_put(buf, sizeof(buf), NULL, 1, 103, v), -EINVAL);
	ck_assert_int_eq(fg_cayenne_put(buf, sizeof(buf), &len, 1, 103, NULL), -EINVAL);
	len = 17;
	ck_assert_int_eq(fg_cayenne_put(buf, sizeof(buf), &len, 1, 103, v), -EINVAL);
}
END_TEST

START_TEST(cayenne_put_rounds_half_away_from_zero)
{
	uint8_t buf[16];
	size_t len = 0;

	/* 27.25 C and -27.25 C are exact in binary: 272.5 rounds to 273, -272.5 to -273. */
	ck_assert_int_eq(fg_cayenne_put(buf, sizeof(buf), &len, 1, 103, (double[]){ 27.25 }), 0);
	ck_assert_int_eq(fg_cayenne_put(buf, sizeof(buf), &len, 1, 103, (double[]){ -27.25 }), 0);
	ck_assert_int_eq(buf[2] << 8 | buf[3], 273);
	ck_assert_int_eq(buf[6] << 8 | buf[7], 0x10000 - 273);
}
END_TEST

/* ------------------------------------------------------------------ layouts */

static struct fg_layout_field field(const char *name, const char *unit, unsigned offset,
				    const char *type, double scale, double add)
{
	struct fg_layout_field f = { .offset = offset, .scale = scale, .add = add, .fport = -1 };

	snprintf(f.name, sizeof(f.name), "%s", name);
	snprintf(f.unit, sizeof(f.unit), "%s", unit);
	ck_assert_int_eq(fg_layout_type_from_string(type, &f.type, &f.little_endian), 0);
	return f;
}

static struct fg_layout_field bits(struct fg_layout_field f, unsigned off, unsigned count)
{
	f.bit_offset = off;
	f.bit_count = count;
	return f;
}

/* Validate, then decode hex with the fields into `out`. */
static int layout(const struct fg_layout_field *f, size_t nf, int fport, const char *hex,
		  size_t max, size_t *n)
{
	struct fg_layout l = { f, nf };
	uint8_t buf[256];
	size_t len = unhex(hex, buf, sizeof(buf)), bad = 99;

	ck_assert_msg(fg_layout_validate(&l, &bad, why, sizeof(why)) == 0, "field %zu: %s", bad,
		      why);
	why[0] = '\0';
	return fg_layout_decode(&l, fport, buf, len, out, max, n, why, sizeof(why));
}

/*
 * Dragino LHT65 (user manual, "Decoder in TTN"): BatV = bits 0..13 of
 * u16be 0 in mV, its top two bits the battery status; SHT20 temperature
 * i16be 2 / 100; humidity u16be 4 / 10; external sensor type u8 6;
 * external DS18B20 temperature i16be 7 / 100. The manual's example uplink
 * CB F6 0B 0D 03 76 01 0A DD 7F FF is 3.062 V, 28.29 C, 88.6 %, 27.81 C.
 */
static struct fg_layout_field lht65[6];

static void lht65_setup(void)
{
	lht65[0] = bits(field("battery_voltage", "V", 0, "u16be", 0.001, 0), 0, 14);
	lht65[1] = bits(field("battery_status", "", 0, "u16be", 1, 0), 14, 2);
	lht65[2] = field("temperature", "Cel", 2, "i16be", 0.01, 0);
	lht65[3] = field("humidity", "%RH", 4, "u16be", 0.1, 0);
	lht65[4] = field("ext_type", "", 6, "u8", 1, 0);
	lht65[5] = field("ext_temperature", "Cel", 7, "i16be", 0.01, 0);
}

START_TEST(layout_dragino_lht65)
{
	size_t n = 0;

	lht65_setup();
	ck_assert_int_eq(layout(lht65, 6, 2, "CB F6 0B 0D 03 76 01 0A DD 7F FF", 8, &n), 0);
	ck_assert_uint_eq(n, 6);
	assert_number(&out[0], "battery_voltage", "V", 3.062, 1e-12);
	assert_number(&out[1], "battery_status", "", 3, 0);
	assert_number(&out[2], "temperature", "Cel", 28.29, 1e-12);
	assert_number(&out[3], "humidity", "%RH", 88.6, 1e-12);
	assert_number(&out[4], "ext_type", "", 1, 0);
	assert_number(&out[5], "ext_temperature", "Cel", 27.81, 1e-12);
}
END_TEST

START_TEST(layout_dragino_lht65_below_zero)
{
	size_t n = 0;

	/* Status 0 (ultra low) with 2.45 V, -5.00 C inside and -12.34 C outside (FB 2E). */
	lht65_setup();
	ck_assert_int_eq(layout(lht65, 6, 2, "09 92 FE 0C 01 F4 01 FB 2E 7F FF", 8, &n), 0);
	ck_assert_uint_eq(n, 6);
	assert_number(&out[0], "battery_voltage", "V", 2.45, 1e-12);
	assert_number(&out[1], "battery_status", "", 0, 0);
	assert_number(&out[2], "temperature", "Cel", -5.0, 1e-12);
	assert_number(&out[3], "humidity", "%RH", 50.0, 1e-12);
	assert_number(&out[5], "ext_temperature", "Cel", -12.34, 1e-12);
}
END_TEST

/*
 * Elsys ERS (Elsys payload document: TLV, 0x01 temperature i16 0.1 C,
 * 0x02 humidity u8 %, 0x04 light u16 lux, 0x05 motion u8 count, 0x07 VDD
 * u16 mV). A given ERS always sends the same types in the same order, so a
 * fixed layout reads it; the type bytes sit at offsets 0, 3, 5, 8, 10.
 */
START_TEST(layout_elsys_ers)
{
	struct fg_layout_field f[5];
	size_t n = 0;

	f[0] = field("temperature", "Cel", 1, "i16", 0.1, 0);
	f[1] = field("humidity", "%RH", 4, "u8", 1, 0);
	f[2] = field("illuminance", "lx", 6, "u16", 1, 0);
	f[3] = field("motion", "count", 9, "u8", 1, 0);
	f[4] = field("battery_voltage", "V", 11, "u16", 0.001, 0);
	ck_assert_int_eq(layout(f, 5, 5, "01 00 E2 02 29 04 00 27 05 05 07 0E 10", 8, &n), 0);
	ck_assert_uint_eq(n, 5);
	assert_number(&out[0], "temperature", "Cel", 22.6, 1e-12);
	assert_number(&out[1], "humidity", "%RH", 41, 0);
	assert_number(&out[2], "illuminance", "lx", 39, 0);
	assert_number(&out[3], "motion", "count", 5, 0);
	assert_number(&out[4], "battery_voltage", "V", 3.6, 1e-12);

	ck_assert_int_eq(layout(f, 5, 5, "01 FF 9C 02 64 04 FF FF 05 00 07 0B B8", 8, &n), 0);
	assert_number(&out[0], "temperature", "Cel", -10.0, 1e-12);
	assert_number(&out[1], "humidity", "%RH", 100, 0);
	assert_number(&out[2], "illuminance", "lx", 65535, 0);
	assert_number(&out[4], "battery_voltage", "V", 3.0, 1e-12);
}
END_TEST

START_TEST(layout_every_integer_width_and_order)
{
	struct fg_layout_field f[] = {
		field("u8", "", 0, "u8", 1, 0),	       field("i8", "", 1, "i8", 1, 0),
		field("u16be", "", 2, "u16be", 1, 0),  field("u16le", "", 2, "u16le", 1, 0),
		field("i16be", "", 4, "i16", 1, 0),    field("i16le", "", 4, "i16le", 1, 0),
		field("u24be", "", 6, "u24", 1, 0),    field("u24le", "", 6, "u24le", 1, 0),
		field("i24be", "", 9, "i24be", 1, 0),  field("i24le", "", 9, "i24le", 1, 0),
		field("u32be", "", 12, "u32be", 1, 0), field("u32le", "", 12, "u32le", 1, 0),
		field("i32be", "", 16, "i32", 1, 0),   field("i32le", "", 16, "i32le", 1, 0),
		field("i24min", "", 20, "i24", 1, 0),  field("i32min", "", 23, "i32be", 1, 0),
	};
	size_t n = 0;

	ck_assert_int_eq(layout(f, 16, 1,
				"FF 80 12 34 FC 18 12 34 56 FF FF FE"
				" FF FF FF FE 80 00 00 01 80 00 00 80 00 00 00",
				FG_CODEC_VALUES_MAX, &n),
			 0);
	ck_assert_uint_eq(n, 16);
	assert_number(&out[0], "u8", "", 255, 0);
	assert_number(&out[1], "i8", "", -128, 0);
	assert_number(&out[2], "u16be", "", 0x1234, 0);
	assert_number(&out[3], "u16le", "", 0x3412, 0);
	assert_number(&out[4], "i16be", "", -1000, 0);
	assert_number(&out[5], "i16le", "", 0x18fc, 0);
	assert_number(&out[6], "u24be", "", 0x123456, 0);
	assert_number(&out[7], "u24le", "", 0x563412, 0);
	assert_number(&out[8], "i24be", "", -2, 0);
	assert_number(&out[9], "i24le", "", -65537, 0); /* FE FF FF little = 0xFEFFFF */
	assert_number(&out[10], "u32be", "", 4294967294.0, 0);
	assert_number(&out[11], "u32le", "", 4278190079.0, 0); /* 0xFEFFFFFF */
	assert_number(&out[12], "i32be", "", -2147483647.0, 0);
	assert_number(&out[13], "i32le", "", 16777344, 0); /* 0x01000080 */
	assert_number(&out[14], "i24min", "", -8388608, 0);
	assert_number(&out[15], "i32min", "", -2147483648.0, 0);
}
END_TEST

START_TEST(layout_scale_and_add)
{
	struct fg_layout_field f[] = {
		field("t", "Cel", 0, "u8", 0.5, -40),
		field("k", "K", 0, "u8", 1, 273.15),
	};
	size_t n = 0;

	ck_assert_int_eq(layout(f, 2, 1, "64", 8, &n), 0);
	assert_number(&out[0], "t", "Cel", 10, 0);
	assert_number(&out[1], "k", "K", 373.15, 1e-12);
}
END_TEST

START_TEST(layout_float32_both_orders)
{
	struct fg_layout_field f[] = {
		field("be", "", 0, "f32be", 1, 0),
		field("le", "", 4, "f32le", 1, 0),
		field("pi", "", 8, "f32", 2, 1),
		field("tiny", "", 12, "f32be", 1, 0),
	};
	size_t n = 0;

	/* 25.0, 25.0, -pi as binary32 (0xC0490FDB) times 2 plus 1, the smallest subnormal */
	ck_assert_int_eq(layout(f, 4, 1, "41 C8 00 00 00 00 C8 41 C0 49 0F DB 00 00 00 01", 8, &n),
			 0);
	ck_assert_uint_eq(n, 4);
	assert_number(&out[0], "be", "", 25.0, 0);
	assert_number(&out[1], "le", "", 25.0, 0);
	assert_number(&out[2], "pi", "", -2 * (double) 3.14159274101257324f + 1, 0);
	assert_number(&out[3], "tiny", "", ldexp(1, -149), 0);
}
END_TEST

START_TEST(layout_bit_fields_unsigned_and_signed)
{
	struct fg_layout_field f[] = {
		bits(field("hi_u", "", 0, "u8", 1, 0), 4, 4),
		bits(field("hi_i", "", 0, "i8", 1, 0), 4, 4),
		bits(field("lo_i", "", 0, "i8", 1, 0), 0, 4),
		bits(field("b12_i", "", 1, "i16be", 1, 0), 0, 12),
		bits(field("b12_u", "", 1, "u16be", 1, 0), 0, 12),
		bits(field("mid_le", "", 3, "u16le", 1, 0), 4, 8),
		bits(field("top", "", 5, "u32be", 1, 0), 31, 1),
		bits(field("all_i", "", 5, "i32be", 1, 0), 0, 32),
		bits(field("t_i24", "", 9, "i24be", 0.1, 0), 8, 12),
	};
	size_t n = 0;

	/* A5 | 0F FF | 34 12 | 80 00 00 00 | 0F 9C 00 */
	ck_assert_int_eq(layout(f, 9, 1, "A5 0F FF 34 12 80 00 00 00 0F 9C 00", 16, &n), 0);
	ck_assert_uint_eq(n, 9);
	assert_number(&out[0], "hi_u", "", 10, 0);
	assert_number(&out[1], "hi_i", "", -6, 0);
	assert_number(&out[2], "lo_i", "", 5, 0);
	assert_number(&out[3], "b12_i", "", -1, 0);
	assert_number(&out[4], "b12_u", "", 4095, 0);
	assert_number(&out[5], "mid_le", "", 0x23, 0); /* 0x1234 >> 4 & 0xff */
	assert_number(&out[6], "top", "", 1, 0);
	assert_number(&out[7], "all_i", "", -2147483648.0, 0);
	assert_number(&out[8], "t_i24", "", -10.0,
		      1e-12); /* 0x0F9C00 >> 8 & 0xfff = 0xF9C: negative, though the i24 is not */
}
END_TEST

START_TEST(layout_booleans)
{
	struct fg_layout_field f[] = {
		bits(field("alarm", "", 0, "u8", 1, 0), 7, 1),
		bits(field("door", "", 0, "u8", 1, 0), 0, 1),
		field("any", "", 1, "u16le", 1, 0),
		field("flag_f", "", 3, "f32be", 1, 0),
	};
	size_t n = 0;

	f[0].boolean = f[1].boolean = f[2].boolean = f[3].boolean = true;
	ck_assert_int_eq(layout(f, 4, 1, "80 00 01 80 00 00 00", 8, &n), 0);
	ck_assert_uint_eq(n, 4);
	assert_bool(&out[0], "alarm", true);
	assert_bool(&out[1], "door", false);
	assert_bool(&out[2], "any", true);
	assert_bool(&out[3], "flag_f", false); /* -0.0 is zero */
	ck_assert_int_eq(layout(f, 4, 1, "7F 00 00 3F 80 00 00", 8, &n), 0);
	assert_bool(&out[0], "alarm", false);
	assert_bool(&out[1], "door", true);
	assert_bool(&out[2], "any", false);
	assert_bool(&out[3], "flag_f", true);
}
END_TEST

START_TEST(layout_selects_fields_by_fport)
{
	struct fg_layout_field f[] = {
		field("a", "", 0, "u8", 1, 0),
		field("b", "", 1, "u8", 1, 0),
		field("c", "", 0, "u16", 1, 0),
		field("a", "", 2, "u8", 1, 0),
	};
	size_t n = 0;

	f[0].fport = 2;
	f[1].fport = -1;
	f[2].fport = 3;
	f[3].fport = 3; /* the same name on another port is fine */
	ck_assert_int_eq(layout(f, 4, 2, "01 02 03", 8, &n), 0);
	ck_assert_uint_eq(n, 2);
	assert_number(&out[0], "a", "", 1, 0);
	assert_number(&out[1], "b", "", 2, 0);
	ck_assert_int_eq(layout(f, 4, 3, "01 02 03", 8, &n), 0);
	ck_assert_uint_eq(n, 3);
	assert_number(&out[0], "b", "", 2, 0);
	assert_number(&out[1], "c", "", 0x0102, 0);
	assert_number(&out[2], "a", "", 3, 0);
	ck_assert_int_eq(layout(f, 4, 9, "01 02 03", 8, &n), 0);
	ck_assert_uint_eq(n, 1);
	assert_number(&out[0], "b", "", 2, 0);
	/* No field for this port at all: no values, and no error. */
	f[1].fport = 2;
	ck_assert_int_eq(layout(f, 4, 9, "01 02 03", 8, &n), 0);
	ck_assert_uint_eq(n, 0);
	/* A field for another port may lie past this frame's end. */
	ck_assert_int_eq(layout(f, 4, 2, "01 02", 8, &n), 0);
	ck_assert_uint_eq(n, 2);
}
END_TEST

START_TEST(layout_field_past_the_end_is_refused)
{
	struct fg_layout_field f[] = {
		field("humidity", "%RH", 0, "u8", 1, 0),
		field("temperature", "Cel", 1, "i16", 0.1, 0),
		field("far", "", 200, "u8", 1, 0),
	};
	size_t n = 99;

	ck_assert_int_eq(layout(f, 2, 1, "01 02", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "field 'temperature': i16 at offset 1 needs 2 bytes, 1 left");
	ck_assert_uint_eq(n, 99);
	ck_assert_int_eq(layout(f, 2, 1, "01", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "field 'temperature': i16 at offset 1 needs 2 bytes, 0 left");
	ck_assert_int_eq(layout(f, 3, 1, "01 02 03", 8, &n), -EBADMSG);
	ck_assert_str_eq(why, "field 'far': u8 at offset 200 needs 1 bytes, 0 left");
	ck_assert_int_eq(layout(f, 1, 1, "", 8, &n), -EBADMSG);
	ck_assert_uint_eq(n, 99);
	ck_assert_int_eq(layout(f, 2, 1, "01 02 03 04", 8, &n), 0);
	ck_assert_uint_eq(n, 2);
}
END_TEST

START_TEST(layout_more_values_than_room)
{
	struct fg_layout_field f[] = {
		field("a", "", 0, "u8", 1, 0),
		field("b", "", 1, "u8", 1, 0),
		field("c", "", 2, "u8", 1, 0),
	};
	size_t n = 99;

	ck_assert_int_eq(layout(f, 3, 1, "01 02 03", 2, &n), -ENOBUFS);
	ck_assert_uint_eq(n, 99);
	ck_assert_int_eq(layout(f, 3, 1, "01 02 03", 3, &n), 0);
	ck_assert_uint_eq(n, 3);
}
END_TEST

/* One broken field at index 1 after a good one: the index and the reason come back. */
static void assert_refused(struct fg_layout_field bad, const char *reason)
{
	struct fg_layout_field f[2] = { field("ok", "", 0, "u8", 1, 0), bad };
	struct fg_layout l = { f, 2 };
	size_t at = 99;

	why[0] = '\0';
	ck_assert_int_eq(fg_layout_validate(&l, &at, why, sizeof(why)), -EINVAL);
	ck_assert_uint_eq(at, 1);
	ck_assert_str_eq(why, reason);
}

START_TEST(layout_validate_refuses_config_mistakes)
{
	struct fg_layout_field f;

	f = field("x", "", 0, "u8", 1, 0);
	strcpy(f.name, "bad name");
	assert_refused(f, "name must be 1..31 of A-Z a-z 0-9 _ . : -");
	f.name[0] = '\0';
	assert_refused(f, "name must be 1..31 of A-Z a-z 0-9 _ . : -");
	memset(f.name, 'a', sizeof(f.name));
	assert_refused(f, "name must be 1..31 of A-Z a-z 0-9 _ . : -");

	f = field("x", "", 0, "u8", 1, 0);
	memset(f.unit, 'm', sizeof(f.unit));
	assert_refused(f, "unit longer than 15 characters");
	strcpy(f.unit, "deg C");
	assert_refused(f, "unit 'deg C': only printable ASCII, no space, quote or backslash");

	assert_refused(bits(field("x", "", 0, "u8", 1, 0), 4, 5),
		       "5 bits from bit 4 do not fit in u8 (8 bits)");
	assert_refused(bits(field("x", "", 0, "u16le", 1, 0), 0, 17),
		       "17 bits from bit 0 do not fit in u16 (16 bits)");
	assert_refused(bits(field("x", "", 0, "i24", 1, 0), 24, 1),
		       "1 bits from bit 24 do not fit in i24 (24 bits)");
	assert_refused(bits(field("x", "", 0, "u32", 1, 0), 4294967295u, 2),
		       "2 bits from bit 4294967295 do not fit in u32 (32 bits)");
	assert_refused(bits(field("x", "", 0, "u16", 1, 0), 3, 0),
		       "bit offset 3 without a bit count");
	assert_refused(bits(field("x", "", 0, "f32", 1, 0), 0, 8),
		       "bits on a float: only integer types have bits");

	assert_refused(field("x", "", 0, "u8", 0, 0), "scale must be a finite nonzero number");
	assert_refused(field("x", "", 0, "u8", NAN, 0), "scale must be a finite nonzero number");
	assert_refused(field("x", "", 0, "u8", -INFINITY, 0),
		       "scale must be a finite nonzero number");
	assert_refused(field("x", "", 0, "u8", 1, NAN), "add must be a finite number");

	f = field("x", "", 0, "u8", 1, 0);
	f.type = (enum fg_layout_type) 99;
	assert_refused(f, "unknown type 99");
	f = field("x", "", 0, "u8", 1, 0);
	f.fport = 256;
	assert_refused(f, "fport 256: expected 0..255 or -1 (any)");
	f.fport = -2;
	assert_refused(f, "fport -2: expected 0..255 or -1 (any)");

	f = field("ok", "", 1, "u8", 1, 0);
	assert_refused(f, "name 'ok' already used by field 1");
	f.fport = 4; /* field 0 applies to every port */
	assert_refused(f, "name 'ok' already used by field 1");
}
END_TEST

START_TEST(layout_validate_accepts_good_layouts)
{
	struct fg_layout l = { lht65, 6 };
	struct fg_layout empty = { NULL, 0 };
	size_t at = 99;

	lht65_setup();
	ck_assert_int_eq(fg_layout_validate(&l, &at, why, sizeof(why)), 0);
	ck_assert_int_eq(fg_layout_validate(&l, NULL, NULL, 0), 0);
	ck_assert_int_eq(fg_layout_validate(&empty, &at, why, sizeof(why)), 0);
	ck_assert_uint_eq(at, 99);
	ck_assert_int_eq(fg_layout_validate(NULL, &at, why, sizeof(why)), -EINVAL);
	/* A bit field may fill its whole type. */
	lht65[0] = bits(field("x", "", 0, "i32le", 1, 0), 0, 32);
	ck_assert_int_eq(fg_layout_validate(&l, &at, why, sizeof(why)), 0);
}
END_TEST

START_TEST(layout_type_names)
{
	static const struct {
		const char *s;
		enum fg_layout_type t;
		bool little;
		size_t size;
	} ok[] = {
		{ "u8", FG_LAYOUT_U8, false, 1 },     { "i8", FG_LAYOUT_I8, false, 1 },
		{ "u16", FG_LAYOUT_U16, false, 2 },   { "u16be", FG_LAYOUT_U16, false, 2 },
		{ "u16le", FG_LAYOUT_U16, true, 2 },  { "i16be", FG_LAYOUT_I16, false, 2 },
		{ "i16le", FG_LAYOUT_I16, true, 2 },  { "u24", FG_LAYOUT_U24, false, 3 },
		{ "u24le", FG_LAYOUT_U24, true, 3 },  { "i24be", FG_LAYOUT_I24, false, 3 },
		{ "i24le", FG_LAYOUT_I24, true, 3 },  { "u32be", FG_LAYOUT_U32, false, 4 },
		{ "u32le", FG_LAYOUT_U32, true, 4 },  { "i32", FG_LAYOUT_I32, false, 4 },
		{ "i32le", FG_LAYOUT_I32, true, 4 },  { "f32", FG_LAYOUT_F32, false, 4 },
		{ "f32be", FG_LAYOUT_F32, false, 4 }, { "f32le", FG_LAYOUT_F32, true, 4 },
	};
	static const char *const bad[] = {
		"",	  "u",	  "u7",	 "u8le", "i8be", "u16LE", "U16",
		"u16lex", "u16 ", "f64", "f16",	 "u64",	 "s16",
	};
	enum fg_layout_type t = FG_LAYOUT_TYPE__COUNT;
	bool little = true;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_int_eq(fg_layout_type_from_string(ok[i].s, &t, &little), 0);
		ck_assert_int_eq(t, ok[i].t);
		ck_assert_int_eq(little, ok[i].little);
		ck_assert_uint_eq(fg_layout_type_size(t), ok[i].size);
	}
	t = FG_LAYOUT_TYPE__COUNT;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(fg_layout_type_from_string(bad[i], &t, &little) == -EINVAL,
			      "accepted '%s'", bad[i]);
	ck_assert_int_eq(t, FG_LAYOUT_TYPE__COUNT);
	ck_assert_int_eq(fg_layout_type_from_string(NULL, &t, &little), -EINVAL);
	ck_assert_uint_eq(fg_layout_type_size(FG_LAYOUT_TYPE__COUNT), 0);
}
END_TEST

START_TEST(layout_decode_refuses_bad_arguments)
{
	struct fg_layout_field f[] = { field("a", "", 0, "u8", 1, 0) };
	struct fg_layout l = { f, 1 };
	uint8_t b[1] = { 1 };
	size_t n = 0;

	ck_assert_int_eq(fg_layout_decode(NULL, 1, b, 1, out, 8, &n, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(fg_layout_decode(&l, 1, NULL, 1, out, 8, &n, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(fg_layout_decode(&l, 1, b, 1, NULL, 8, &n, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(fg_layout_decode(&l, 1, b, 1, out, 8, NULL, why, sizeof(why)), -EINVAL);
	/* An unvalidated bad field is refused, not shifted by. */
	f[0] = bits(f[0], 6, 9);
	ck_assert_int_eq(fg_layout_decode(&l, 1, b, 1, out, 8, &n, why, sizeof(why)), -EINVAL);
	f[0] = field("a", "", 0, "u8", 1, 0);
	ck_assert_int_eq(fg_layout_decode(&l, 1, b, 1, out, 8, &n, NULL, 0), 0);
	ck_assert_uint_eq(n, 1);
}
END_TEST

/* ------------------------------------------------------------------ raw */

START_TEST(raw_is_lowercase_hex)
{
	const uint8_t b[] = { 0x00, 0xab, 0xff, 0x10, 0x9C };
	size_t n = 0;

	ck_assert_int_eq(fg_raw_decode(b, sizeof(b), out, 8, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(out[0].quantity, "payload");
	ck_assert_str_eq(out[0].unit, "");
	ck_assert_int_eq(out[0].kind, FG_VALUE_STRING);
	ck_assert_str_eq(out[0].text, "00abff109c");
}
END_TEST

START_TEST(raw_empty_and_largest_payloads)
{
	uint8_t b[256];
	size_t n = 0;

	ck_assert_int_eq(fg_raw_decode(NULL, 0, out, 1, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(out[0].text, "");
	memset(b, 0xa5, sizeof(b));
	/* The largest PHYPayload: unknown devices' frames are forwarded whole. */
	ck_assert_int_eq(fg_raw_decode(b, 255, out, 1, &n), 0);
	ck_assert_uint_eq(strlen(out[0].text), 510);
	ck_assert_int_eq(strspn(out[0].text, "a5"), 510);
	n = 99;
	ck_assert_int_eq(fg_raw_decode(b, 256, out, 1, &n), -EMSGSIZE);
	ck_assert_int_eq(fg_raw_decode(b, 1, out, 0, &n), -ENOBUFS);
	ck_assert_int_eq(fg_raw_decode(NULL, 1, out, 1, &n), -EINVAL);
	ck_assert_int_eq(fg_raw_decode(b, 1, out, 1, NULL), -EINVAL);
	ck_assert_uint_eq(n, 99);
}
END_TEST

/* ------------------------------------------------------------ encoders */

/* The decoded values as the JSON object a downlink command would carry. */
static size_t values_json(const struct fg_codec_value *v, size_t n, char *buf, size_t size)
{
	size_t len = 0;

	len += (size_t) snprintf(buf + len, size - len, "{");
	for (size_t i = 0; i < n; i++) {
		if (v[i].kind == FG_VALUE_BOOL)
			len += (size_t) snprintf(buf + len, size - len, "%s\"%s\": %s",
						 i ? ", " : "", v[i].quantity,
						 v[i].boolean ? "true" : "false");
		else
			len += (size_t) snprintf(buf + len, size - len, "%s\"%s\": %.17g",
						 i ? ", " : "", v[i].quantity, v[i].number);
	}
	len += (size_t) snprintf(buf + len, size - len, "}");
	ck_assert_uint_lt(len, size);
	return len;
}

static int cayenne_enc(const char *json, uint8_t *buf, size_t size, size_t *len)
{
	why[0] = '\0';
	return fg_cayenne_encode(json, strlen(json), buf, size, len, why, sizeof(why));
}

START_TEST(cayenne_encode_round_trip_every_type)
{
	struct fg_codec_value first[3];
	uint8_t a[16], b[16];
	size_t alen = 0, blen = 99, n = 0, n2 = 0, jlen;
	char json[512];

	ck_assert_int_eq(
		fg_cayenne_put(a, sizeof(a), &alen, 7, round_trip[_i].type, round_trip[_i].v), 0);
	ck_assert_int_eq(fg_cayenne_decode(a, alen, out, 8, &n, why, sizeof(why)), 0);
	memcpy(first, out, n * sizeof(out[0]));
	jlen = values_json(out, n, json, sizeof(json));
	why[0] = '\0';
	ck_assert_msg(fg_cayenne_encode(json, jlen, b, sizeof(b), &blen, why, sizeof(why)) == 0,
		      "%s: %s", json, why);
	ck_assert_uint_eq(blen, alen);
	ck_assert_mem_eq(b, a, alen);
	ck_assert_int_eq(fg_cayenne_decode(b, blen, out, 8, &n2, why, sizeof(why)), 0);
	ck_assert_uint_eq(n2, n);
	for (size_t e = 0; e < n; e++) {
		ck_assert_str_eq(out[e].quantity, first[e].quantity);
		ck_assert_int_eq(out[e].kind, first[e].kind);
		ck_assert(out[e].number == first[e].number);
		ck_assert(out[e].boolean == first[e].boolean);
	}
}
END_TEST

START_TEST(cayenne_encode_documented_examples)
{
	uint8_t buf[64], want[64];
	size_t len = 0, wn;

	/* The downlink of SPEC/README: temperature 21.5 C on 1, digital output 3 on. */
	ck_assert_int_eq(cayenne_enc("{\"temperature_1\": 21.5, \"digital_out_3\": 1}", buf,
				     sizeof(buf), &len),
			 0);
	wn = unhex("01 67 00 D7 03 01 01", want, sizeof(want));
	ck_assert_uint_eq(len, wn);
	ck_assert_mem_eq(buf, want, wn);
	/* The CayenneLPP library's names and true/false say the same. */
	ck_assert_int_eq(cayenne_enc("{\"temperature_1\":21.5,\"digital_output_3\":true}", buf,
				     sizeof(buf), &len),
			 0);
	ck_assert_mem_eq(buf, want, wn);
	/* The reference list's examples, GPS and accelerometer elements in any order. */
	ck_assert_int_eq(cayenne_enc("{\"temperature_3\": 27.2, \"temperature_5\": 25.5}", buf,
				     sizeof(buf), &len),
			 0);
	wn = unhex("03 67 01 10 05 67 00 FF", want, sizeof(want));
	ck_assert_uint_eq(len, wn);
	ck_assert_mem_eq(buf, want, wn);
	ck_assert_int_eq(cayenne_enc("{\"gps_alt_1\": 10, \"gps_lon_1\": -87.9094, "
				     "\"gps_lat_1\": 42.3519}",
				     buf, sizeof(buf), &len),
			 0);
	wn = unhex("01 88 06 76 5F F2 96 0A 00 03 E8", want, sizeof(want));
	ck_assert_uint_eq(len, wn);
	ck_assert_mem_eq(buf, want, wn);
	/* SenML units in: 101325 Pa is 1013.3 hPa at LPP's resolution, 57 % is 0.57. */
	ck_assert_int_eq(cayenne_enc("{\"barometer_0\": 101325, \"percentage_255\": 0.57}", buf,
				     sizeof(buf), &len),
			 0);
	wn = unhex("00 73 27 95 FF 78 39", want, sizeof(want));
	ck_assert_uint_eq(len, wn);
	ck_assert_mem_eq(buf, want, wn);
	len = 99;
	ck_assert_int_eq(cayenne_enc(" { } ", buf, sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(cayenne_encode_refusals)
{
	static const struct {
		const char *json;
		const char *why;
	} cases[] = {
		{ "{\"temperature\": 1}", "'temperature': not a Cayenne LPP name" },
		{ "{\"temp_1\": 1}", "'temp_1': not a Cayenne LPP name" },
		{ "{\"temperature_01\": 1}", "'temperature_01': not a Cayenne LPP name" },
		{ "{\"temperature_256\": 1}", "'temperature_256': not a Cayenne LPP name" },
		{ "{\"accelerometer_1\": 1}", "'accelerometer_1': not a Cayenne LPP name" },
		{ "{\"t\\u00e9mperature_1\": 1}", "'?': not a Cayenne LPP name" },
		{ "{\"temperature_1\": \"21\"}", "'temperature_1': expected a number" },
		{ "{\"temperature_1\": true}", "'temperature_1': expected a number" },
		{ "{\"digital_out_1\": 2}", "'digital_out_1': expected true, false, 0 or 1" },
		{ "{\"digital_out_1\": null}", "'digital_out_1': expected true, false, 0 or 1" },
		{ "{\"temperature_1\": 3276.8}", "'temperature_1': out of range for temperature" },
		{ "{\"humidity_1\": -0.5}", "'humidity_1': out of range for humidity" },
		{ "{\"temperature_1\": 1, \"temperature_1\": 2}", "'temperature_1' given twice" },
		{ "{\"gps_lat_1\": 1, \"gps_alt_1\": 2}", "'gps_lon_1' missing" },
		{ "{\"gps_lat_1\": 1, \"gps_lon_2\": 2, \"gps_alt_1\": 3}", "'gps_lon_1' missing" },
		{ "[1]", "not a JSON object" },
		{ "{\"temperature_1\": 1} x", "not valid JSON at byte 21" },
		{ "{\"temperature_1\": 1,}", "not valid JSON at byte 20" },
	};
	uint8_t buf[64];
	size_t len = 99;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(cayenne_enc(cases[i].json, buf, sizeof(buf), &len) == -EBADMSG, "%s",
			      cases[i].json);
		ck_assert_str_eq(why, cases[i].why);
	}
	ck_assert_int_eq(cayenne_enc("{\"temperature_1\": 1, \"humidity_2\": 50}", buf, 6, &len),
			 -EMSGSIZE);
	ck_assert_str_eq(why, "more than 6 bytes");
	ck_assert_uint_eq(len, 99);
	ck_assert_int_eq(fg_cayenne_encode(NULL, 1, buf, sizeof(buf), &len, why, sizeof(why)),
			 -EINVAL);
	ck_assert_int_eq(fg_cayenne_encode("{}", 2, buf, sizeof(buf), NULL, NULL, 0), -EINVAL);
}
END_TEST

static int layout_enc(const struct fg_layout_field *f, size_t nf, int fport, const char *json,
		      uint8_t *buf, size_t size, size_t *len)
{
	struct fg_layout l = { f, nf };

	why[0] = '\0';
	return fg_layout_encode(&l, fport, json, strlen(json), buf, size, len, why, sizeof(why));
}

START_TEST(layout_encode_dragino_lht65_round_trip)
{
	uint8_t buf[32], want[32];
	char json[512];
	size_t len = 0, n = 0, wn;
	struct fg_layout l = { lht65, 6 };

	lht65_setup();
	ck_assert_int_eq(layout(lht65, 6, 2, "CB F6 0B 0D 03 76 01 0A DD 7F FF", 8, &n), 0);
	values_json(out, n, json, sizeof(json));
	ck_assert_msg(layout_enc(lht65, 6, 2, json, buf, sizeof(buf), &len) == 0, "%s: %s", json,
		      why);
	/* The fields reach byte 8; the two bytes after them are no field's. */
	wn = unhex("CB F6 0B 0D 03 76 01 0A DD", want, sizeof(want));
	ck_assert_uint_eq(len, wn);
	ck_assert_mem_eq(buf, want, wn);

	ck_assert_int_eq(layout_enc(lht65, 6, 2,
				    "{\"battery_voltage\": 2.45, \"battery_status\": 0, "
				    "\"temperature\": -5, \"humidity\": 50, \"ext_type\": 1, "
				    "\"ext_temperature\": -12.34}",
				    buf, sizeof(buf), &len),
			 0);
	wn = unhex("09 92 FE 0C 01 F4 01 FB 2E", want, sizeof(want));
	ck_assert_mem_eq(buf, want, wn);
	ck_assert_int_eq(fg_layout_decode(&l, 2, buf, len, out, 8, &n, why, sizeof(why)), 0);
	assert_number(&out[5], "ext_temperature", "Cel", -12.34, 1e-12);
}
END_TEST

START_TEST(layout_encode_every_type_round_trip)
{
	struct fg_layout_field f[10];
	uint8_t buf[64];
	char json[1024];
	size_t len = 0, n = 0, n2 = 0;
	struct fg_codec_value first[10];
	struct fg_layout l = { f, 10 };

	f[0] = field("a", "", 0, "u8", 1, 0);
	f[1] = field("b", "", 1, "i8", 0.5, -10);
	f[2] = field("c", "", 2, "u16le", 0.01, 0);
	f[3] = field("d", "Cel", 4, "i16be", 0.1, 0);
	f[4] = field("e", "", 6, "u24be", 1, 0);
	f[5] = field("g", "", 9, "i24le", 0.0001, 0);
	f[6] = field("h", "", 12, "u32be", 1, 0);
	f[7] = field("i", "", 16, "i32le", 1, -1000);
	f[8] = field("j", "", 20, "f32be", 1, 0);
	f[9] = field("k", "", 24, "f32le", 2, 1);
	ck_assert_int_eq(
		layout_enc(f, 10, 1,
			   "{\"a\":255,\"b\":-74,\"c\":655.35,\"d\":-3276.8,\"e\":16777215,"
			   "\"g\":-838.8608,\"h\":4294967295,\"i\":-2147484648,"
			   "\"j\":3.25,\"k\":-1e30}",
			   buf, sizeof(buf), &len),
		0);
	ck_assert_uint_eq(len, 28);
	ck_assert_int_eq(fg_layout_decode(&l, 1, buf, len, out, 16, &n, why, sizeof(why)), 0);
	ck_assert_uint_eq(n, 10);
	assert_number(&out[0], "a", "", 255, 0);
	assert_number(&out[1], "b", "", -74, 0);
	assert_number(&out[2], "c", "", 655.35, 1e-9);
	assert_number(&out[3], "d", "Cel", -3276.8, 1e-9);
	assert_number(&out[4], "e", "", 16777215, 0);
	assert_number(&out[5], "g", "", -838.8608, 1e-9);
	assert_number(&out[6], "h", "", 4294967295.0, 0);
	assert_number(&out[7], "i", "", -2147484648.0, 0);
	assert_number(&out[8], "j", "", 3.25, 0);
	assert_number(&out[9], "k", "", -1e30, 1e23);
	/* What decodes, encodes to the same bytes. */
	uint8_t again[64];
	size_t len2 = 0;

	memcpy(first, out, sizeof(first));
	values_json(first, n, json, sizeof(json));
	ck_assert_msg(layout_enc(f, 10, 1, json, again, sizeof(again), &len2) == 0, "%s", why);
	ck_assert_uint_eq(len2, len);
	ck_assert_mem_eq(again, buf, len);
	ck_assert_int_eq(fg_layout_decode(&l, 1, again, len2, out, 16, &n2, why, sizeof(why)), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert(out[i].number == first[i].number);
}
END_TEST

START_TEST(layout_encode_rounds_to_the_nearest_step)
{
	struct fg_layout_field f[1] = { field("t", "Cel", 0, "i16be", 0.1, 0) };
	uint8_t buf[4];
	size_t len;

	/* 0.25 is halfway between 0.2 and 0.3 (in decimal, not in binary): away from zero. */
	ck_assert_int_eq(layout_enc(f, 1, 1, "{\"t\": 0.25}", buf, sizeof(buf), &len), 0);
	ck_assert_int_eq(buf[0] << 8 | buf[1], 3);
	ck_assert_int_eq(layout_enc(f, 1, 1, "{\"t\": -0.25}", buf, sizeof(buf), &len), 0);
	ck_assert_int_eq(buf[0] << 8 | buf[1], 0x10000 - 3);
	ck_assert_int_eq(layout_enc(f, 1, 1, "{\"t\": 21.449}", buf, sizeof(buf), &len), 0);
	ck_assert_int_eq(buf[0] << 8 | buf[1], 214);
	ck_assert_int_eq(layout_enc(f, 1, 1, "{\"t\": 21.46}", buf, sizeof(buf), &len), 0);
	ck_assert_int_eq(buf[0] << 8 | buf[1], 215);
	/* Range: the type's, after the map. */
	ck_assert_int_eq(layout_enc(f, 1, 1, "{\"t\": 3276.7}", buf, sizeof(buf), &len), 0);
	ck_assert_int_eq(layout_enc(f, 1, 1, "{\"t\": 3276.8}", buf, sizeof(buf), &len), -EBADMSG);
	ck_assert_str_eq(why, "'t': 3276.8 is outside -3276.8..3276.7");
}
END_TEST

START_TEST(layout_encode_bit_fields_and_booleans)
{
	struct fg_layout_field f[4];
	uint8_t buf[4];
	size_t len, n;
	struct fg_layout l = { f, 4 };

	f[0] = bits(field("level", "", 0, "u8", 1, 0), 0, 3);
	f[1] = bits(field("delta", "", 0, "i8", 1, 0), 3, 4);
	f[2] = bits(field("alarm", "", 0, "u8", 1, 0), 7, 1);
	f[2].boolean = true;
	f[3] = field("on", "", 1, "u8", 1, 0);
	f[3].boolean = true;
	ck_assert_int_eq(layout_enc(f, 4, 1,
				    "{\"on\": true, \"alarm\": 1, \"delta\": -8, \"level\": 5}",
				    buf, sizeof(buf), &len),
			 0);
	ck_assert_uint_eq(len, 2);
	ck_assert_int_eq(buf[0], 0x80 | 0x40 | 5);
	ck_assert_int_eq(buf[1], 1);
	ck_assert_int_eq(fg_layout_decode(&l, 1, buf, len, out, 8, &n, why, sizeof(why)), 0);
	assert_number(&out[0], "level", "", 5, 0);
	assert_number(&out[1], "delta", "", -8, 0);
	assert_bool(&out[2], "alarm", true);
	assert_bool(&out[3], "on", true);
	ck_assert_int_eq(layout_enc(f, 4, 1,
				    "{\"on\": false, \"alarm\": false, \"delta\": 7, \"level\": 0}",
				    buf, sizeof(buf), &len),
			 0);
	ck_assert_int_eq(buf[0], 7 << 3);
	ck_assert_int_eq(buf[1], 0);
	ck_assert_int_eq(layout_enc(f, 4, 1,
				    "{\"on\": false, \"alarm\": false, \"delta\": 8, \"level\": 0}",
				    buf, sizeof(buf), &len),
			 -EBADMSG);
	ck_assert_str_eq(why, "'delta': 8 is outside -8..7");
	ck_assert_int_eq(layout_enc(f, 4, 1,
				    "{\"on\": false, \"alarm\": false, \"delta\": 0, \"level\": 8}",
				    buf, sizeof(buf), &len),
			 -EBADMSG);
	ck_assert_str_eq(why, "'level': 8 is outside 0..7");
	ck_assert_int_eq(layout_enc(f, 4, 1,
				    "{\"on\": 2, \"alarm\": false, \"delta\": 0, \"level\": 0}",
				    buf, sizeof(buf), &len),
			 -EBADMSG);
	ck_assert_str_eq(why, "'on': expected true, false, 0 or 1");
}
END_TEST

START_TEST(layout_encode_refusals)
{
	struct fg_layout_field f[3];
	uint8_t buf[8];
	size_t len = 99;

	f[0] = field("setpoint", "Cel", 0, "i16be", 0.5, 0);
	f[1] = field("mode", "", 2, "u8", 1, 0);
	f[1].fport = 5;
	f[2] = field("interval", "s", 3, "u16be", 60, 0);
	f[2].fport = 6;
	ck_assert_int_eq(layout_enc(f, 3, 5, "{\"setpoint\": 21}", buf, sizeof(buf), &len),
			 -EBADMSG);
	ck_assert_str_eq(why, "'mode' missing");
	ck_assert_int_eq(layout_enc(f, 3, 5, "{\"setpoint\": 21, \"mode\": 1, \"interval\": 60}",
				    buf, sizeof(buf), &len),
			 -EBADMSG);
	ck_assert_str_eq(why, "'interval': no such field for FPort 5");
	ck_assert_int_eq(layout_enc(f, 3, 5, "{\"setpoint\": 21, \"mode\": 1, \"mode\": 1}", buf,
				    sizeof(buf), &len),
			 -EBADMSG);
	ck_assert_str_eq(why, "'mode' given twice");
	ck_assert_int_eq(
		layout_enc(f, 3, 5, "{\"setpoint\": \"21\", \"mode\": 1}", buf, sizeof(buf), &len),
		-EBADMSG);
	ck_assert_str_eq(why, "'setpoint': expected a number");
	ck_assert_int_eq(
		layout_enc(f, 3, 5, "{\"setpoint\": 21, \"mode\": 256}", buf, sizeof(buf), &len),
		-EBADMSG);
	ck_assert_str_eq(why, "'mode': 256 is outside 0..255");
	ck_assert_int_eq(
		layout_enc(f, 3, 5, "{\"setpoint\": 21, \"mode\": 1", buf, sizeof(buf), &len),
		-EBADMSG);
	ck_assert_str_eq(why, "not valid JSON at byte 26");
	ck_assert_int_eq(layout_enc(f, 3, 5, "[]", buf, sizeof(buf), &len), -EBADMSG);
	ck_assert_str_eq(why, "not a JSON object");
	ck_assert_int_eq(layout_enc(f + 1, 2, 7, "{}", buf, sizeof(buf), &len), -EBADMSG);
	ck_assert_str_eq(why, "no field of the layout is for FPort 7");
	ck_assert_int_eq(layout_enc(f, 3, 6, "{\"setpoint\": 21, \"interval\": 600}", buf, 4, &len),
			 -EMSGSIZE);
	ck_assert_str_eq(why, "5 bytes, room for 4");
	ck_assert_uint_eq(len, 99);
	ck_assert_int_eq(layout_enc(f, 3, 6, "{\"setpoint\": 21, \"interval\": 600}", buf, 5, &len),
			 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(buf, "\x00\x2a\x00\x00\x0a", 5);

	struct fg_layout_field g[2] = { field("x", "", 0, "f32be", 1, 0),
					field("y", "", 0, "u16be", 1, 0) };

	ck_assert_int_eq(layout_enc(g, 1, 1, "{\"x\": 1e39}", buf, sizeof(buf), &len), -EBADMSG);
	ck_assert_str_eq(why, "'x': 1e+39 does not fit a float");
	/* Two fields over the same bytes must agree. */
	ck_assert_int_eq(layout_enc(g, 2, 1, "{\"x\": 1, \"y\": 0}", buf, sizeof(buf), &len),
			 -EBADMSG);
	ck_assert_str_eq(why, "'x' shares bits with another field and a different value");
	ck_assert_int_eq(layout_enc(g, 2, 1, "{\"x\": 1, \"y\": 16256}", buf, sizeof(buf), &len),
			 0);
	g[0].scale = 0;
	ck_assert_int_eq(layout_enc(g, 1, 1, "{\"x\": 1}", buf, sizeof(buf), &len), -EINVAL);
}
END_TEST

static Suite *codec_suite(void)
{
	Suite *s = suite_create("codec");
	TCase *tc;

	tc = tcase_create("cayenne");
	tcase_add_test(tc, cayenne_reference_two_temperatures);
	tcase_add_test(tc, cayenne_reference_temperature_and_accelerometer);
	tcase_add_test(tc, cayenne_reference_gps);
	tcase_add_test(tc, cayenne_tts_barometer_example);
	tcase_add_loop_test(tc, cayenne_every_single_valued_type, 0,
			    (int) (sizeof(every_type) / sizeof(every_type[0])));
	tcase_add_test(tc, cayenne_gyrometer_in_degrees_per_second_named);
	tcase_add_test(tc, cayenne_colour_is_red_green_blue);
	tcase_add_test(tc, cayenne_gps_southern_western_below_sea);
	tcase_add_test(tc, cayenne_many_channels_in_one_frame);
	tcase_add_test(tc, cayenne_empty_frame_has_no_values);
	tcase_add_test(tc, cayenne_truncated_value_is_refused);
	tcase_add_test(tc, cayenne_channel_without_type_is_refused);
	tcase_add_test(tc, cayenne_unknown_type_is_refused);
	tcase_add_test(tc, cayenne_more_values_than_room);
	tcase_add_test(tc, cayenne_every_truncation_is_safe);
	tcase_add_test(tc, cayenne_refuses_bad_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("cayenne_put");
	tcase_add_test(tc, cayenne_put_builds_the_reference_examples);
	tcase_add_loop_test(tc, cayenne_put_then_decode_every_type, 0,
			    (int) (sizeof(round_trip) / sizeof(round_trip[0])));
	tcase_add_test(tc, cayenne_put_refuses_values_out_of_range);
	tcase_add_test(tc, cayenne_put_refuses_a_full_buffer_and_bad_arguments);
	tcase_add_test(tc, cayenne_put_rounds_half_away_from_zero);
	suite_add_tcase(s, tc);

	tc = tcase_create("layout");
	tcase_add_test(tc, layout_dragino_lht65);
	tcase_add_test(tc, layout_dragino_lht65_below_zero);
	tcase_add_test(tc, layout_elsys_ers);
	tcase_add_test(tc, layout_every_integer_width_and_order);
	tcase_add_test(tc, layout_scale_and_add);
	tcase_add_test(tc, layout_float32_both_orders);
	tcase_add_test(tc, layout_bit_fields_unsigned_and_signed);
	tcase_add_test(tc, layout_booleans);
	tcase_add_test(tc, layout_selects_fields_by_fport);
	tcase_add_test(tc, layout_field_past_the_end_is_refused);
	tcase_add_test(tc, layout_more_values_than_room);
	tcase_add_test(tc, layout_validate_refuses_config_mistakes);
	tcase_add_test(tc, layout_validate_accepts_good_layouts);
	tcase_add_test(tc, layout_type_names);
	tcase_add_test(tc, layout_decode_refuses_bad_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("encode");
	tcase_add_loop_test(tc, cayenne_encode_round_trip_every_type, 0,
			    (int) (sizeof(round_trip) / sizeof(round_trip[0])));
	tcase_add_test(tc, cayenne_encode_documented_examples);
	tcase_add_test(tc, cayenne_encode_refusals);
	tcase_add_test(tc, layout_encode_dragino_lht65_round_trip);
	tcase_add_test(tc, layout_encode_every_type_round_trip);
	tcase_add_test(tc, layout_encode_rounds_to_the_nearest_step);
	tcase_add_test(tc, layout_encode_bit_fields_and_booleans);
	tcase_add_test(tc, layout_encode_refusals);
	suite_add_tcase(s, tc);

	tc = tcase_create("raw");
	tcase_add_test(tc, raw_is_lowercase_hex);
	tcase_add_test(tc, raw_empty_and_largest_payloads);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(codec_suite());
}
