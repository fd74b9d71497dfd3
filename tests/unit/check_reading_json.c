/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Readings back from JSON (core/reading-parse.h): fg_reading_to_json's inverse, hostile lines. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/reading-parse.h"
#include "check-main.h"

/* The required members, for lines that vary only the optional ones. */
#define REQ "\"device\":\"sim-1\",\"source\":\"sim\",\"quantity\":\"temperature\",\"value\":21.5"

static struct fg_reading r;
static char text[256], err[256];

/* Parse a NUL-terminated line into r/text/err, after filling them with a pattern. */
static int parse(const char *line)
{
	memset(&r, 0x55, sizeof(r));
	memset(text, 0x55, sizeof(text));
	memset(err, 0x55, sizeof(err));
	return fg_reading_from_json(line, strlen(line), &r, text, sizeof(text), err, sizeof(err));
}

/* A line must be refused with code and exactly this message, leaving r and text alone. */
static void refused(const char *line, int code, const char *message)
{
	unsigned char pattern[sizeof(r)];

	memset(pattern, 0x55, sizeof(pattern));
	ck_assert_msg(parse(line) == code, "%s: expected %d, got err '%s'", line, code, err);
	ck_assert_str_eq(err, message);
	ck_assert_msg(memcmp(&r, pattern, sizeof(r)) == 0, "%s: output written on failure", line);
	ck_assert_int_eq((unsigned char) text[0], 0x55);
}

/* Refused as not JSON at all: jansson's reason, which must contain `why`. */
static void not_json(const char *line, size_t len, const char *why)
{
	memset(err, 0x55, sizeof(err));
	ck_assert_int_eq(fg_reading_from_json(line, len, &r, text, sizeof(text), err, sizeof(err)),
			 -EINVAL);
	ck_assert_msg(strncmp(err, "not JSON: ", 10) == 0 && strstr(err, why), "%s", err);
	ck_assert_ptr_null(strchr(err, '\n'));
}

#define NOT_JSON(line, why) not_json(line, strlen(line), why)

/* Write a reading, read it back, and check the line it makes again is the same. */
static void round_trip(const struct fg_reading *in, struct fg_reading *out)
{
	char first[1024], second[1024];
	int n;

	n = fg_reading_to_json(in, first, sizeof(first));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(
		fg_reading_from_json(first, (size_t) n, out, text, sizeof(text), err, sizeof(err)),
		0);
	ck_assert_str_eq(err, "");
	ck_assert_int_gt(fg_reading_to_json(out, second, sizeof(second)), 0);
	ck_assert_str_eq(second, first);
}

/* Every field the JSON carries (text compared by content; tmst is not written). */
static void assert_same(const struct fg_reading *a, const struct fg_reading *b)
{
	ck_assert_str_eq(a->device_id, b->device_id);
	ck_assert_str_eq(a->device_name, b->device_name);
	ck_assert_int_eq(a->source, b->source);
	ck_assert_str_eq(a->quantity, b->quantity);
	ck_assert_int_eq(a->kind, b->kind);
	if (a->kind == FG_VALUE_NUMBER)
		ck_assert_double_eq(a->number, b->number);
	else if (a->kind == FG_VALUE_BOOL)
		ck_assert_int_eq(a->boolean, b->boolean);
	else
		ck_assert_str_eq(a->text, b->text);
	ck_assert_str_eq(a->unit, b->unit);
	ck_assert_uint_eq(a->time_ms, b->time_ms);
	ck_assert_uint_eq(a->mono_usec, b->mono_usec);
	ck_assert_str_eq(a->boot_id, b->boot_id);
	ck_assert_uint_eq(a->frame_id, b->frame_id);
	ck_assert_int_eq(a->radio.present, b->radio.present);
	ck_assert_int_eq(a->radio.rssi, b->radio.rssi);
	if (isnan(a->radio.snr))
		ck_assert(isnan(b->radio.snr));
	else
		ck_assert_float_eq(a->radio.snr, b->radio.snr);
	ck_assert_uint_eq(a->radio.freq_hz, b->radio.freq_hz);
	ck_assert_uint_eq(a->radio.sf, b->radio.sf);
	ck_assert_uint_eq(a->radio.bw_hz, b->radio.bw_hz);
	ck_assert_int_eq(a->radio.dr, b->radio.dr);
}

START_TEST(reading_json_round_trips_numbers)
{
	static const double values[] = { 21.53, -40, 0, 1e-300, 1.5e300, 123456789, -0.000123 };
	struct fg_reading in, out;

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		ck_assert_int_eq(fg_reading_init(&in, FG_SOURCE_SIM, "sim-0001", "garden",
						 "temperature", "Cel"),
				 0);
		fg_reading_set_number(&in, values[i]);
		in.time_ms = 1764039446123ULL;
		in.mono_usec = 42 + i;
		strcpy(in.boot_id, "0123456789abcdef0123456789abcdef");
		in.frame_id = 7 + i;
		round_trip(&in, &out);
		assert_same(&in, &out);
	}
}
END_TEST

START_TEST(reading_json_round_trips_booleans_and_unknown_time)
{
	struct fg_reading in, out;

	for (int b = 0; b < 2; b++) {
		ck_assert_int_eq(
			fg_reading_init(&in, FG_SOURCE_GATEWAY, "gw", NULL, "door.open", ""), 0);
		fg_reading_set_bool(&in, b);
		round_trip(&in, &out);
		assert_same(&in, &out);
		ck_assert_uint_eq(out.time_ms, 0);
		ck_assert_str_eq(out.unit, "");
	}
}
END_TEST

START_TEST(reading_json_round_trips_strings_into_the_text_buffer)
{
	static const char *const values[] = { "", "plain", "tab\there\x01 \"quoted\" \\ back\nline",
					      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8c\xa1" };
	struct fg_reading in, out;

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		ck_assert_int_eq(fg_reading_init(&in, FG_SOURCE_BLE, "A4:C1:38:00:11:22",
						 "a \"porch\"\\\n", "status", ""),
				 0);
		fg_reading_set_text(&in, values[i]);
		round_trip(&in, &out);
		assert_same(&in, &out);
		ck_assert_ptr_eq(out.text, text);
	}
}
END_TEST

START_TEST(reading_json_round_trips_radio_meta)
{
	struct fg_reading in, out;

	/* LoRa: everything, dr included. */
	ck_assert_int_eq(fg_reading_init(&in, FG_SOURCE_LORA, "a840410000000001", "soil-1",
					 "humidity", "%RH"),
			 0);
	fg_reading_set_number(&in, 40.5);
	in.radio = (struct fg_radio_meta){ .present = true,
					   .rssi = -97,
					   .snr = -7.25f,
					   .freq_hz = 868100000,
					   .sf = 12,
					   .bw_hz = 125000,
					   .dr = 0 };
	round_trip(&in, &out);
	assert_same(&in, &out);

	/* BLE: no spreading factor, no data rate; an SNR that is not finite is null. */
	ck_assert_int_eq(
		fg_reading_init(&in, FG_SOURCE_BLE, "A4:C1:38:00:11:22", "porch", "battery", "%EL"),
		0);
	fg_reading_set_number(&in, 77);
	in.radio = (struct fg_radio_meta){
		.present = true, .rssi = -32768, .snr = NAN, .freq_hz = 2402000000u, .dr = -1
	};
	round_trip(&in, &out);
	assert_same(&in, &out);

	/* An SNR that needs every digit of a float. */
	in.radio.snr = 0.1f;
	round_trip(&in, &out);
	ck_assert(out.radio.snr == 0.1f);
}
END_TEST

START_TEST(reading_json_fills_defaults_for_absent_members)
{
	ck_assert_int_eq(parse("  {" REQ ",\"some_later_member\":{\"x\":[1,2]}}\n"), 0);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(r.device_id, "sim-1");
	ck_assert_str_eq(r.device_name, "sim-1"); /* the device id */
	ck_assert_int_eq(r.source, FG_SOURCE_SIM);
	ck_assert_str_eq(r.quantity, "temperature");
	ck_assert_int_eq(r.kind, FG_VALUE_NUMBER);
	ck_assert_double_eq(r.number, 21.5);
	ck_assert_str_eq(r.unit, "");
	ck_assert_uint_eq(r.time_ms, 0);
	ck_assert_uint_eq(r.mono_usec, 0);
	ck_assert_str_eq(r.boot_id, "");
	ck_assert_uint_eq(r.frame_id, 0);
	ck_assert(!r.radio.present);
	ck_assert_int_eq(r.radio.rssi, 0);
	ck_assert_int_eq(r.radio.dr, -1);
	ck_assert_int_eq((unsigned char) text[0], 0x55); /* no string value: text untouched */
}
END_TEST

START_TEST(reading_json_any_radio_member_makes_radio_present)
{
	ck_assert_int_eq(parse("{" REQ ",\"dr\":3}"), 0);
	ck_assert(r.radio.present);
	ck_assert_int_eq(r.radio.dr, 3);
	ck_assert_int_eq(r.radio.rssi, 0);
	ck_assert_uint_eq(r.radio.sf, 0);
	ck_assert_int_eq(parse("{" REQ ",\"snr\":null}"), 0);
	ck_assert(r.radio.present);
	ck_assert(isnan(r.radio.snr));
	ck_assert_int_eq(r.radio.dr, -1);
	ck_assert_int_eq(parse("{" REQ ",\"time\":null,\"frame\":9223372036854775807}"), 0);
	ck_assert(!r.radio.present);
	ck_assert_uint_eq(r.frame_id, 9223372036854775807ULL);
}
END_TEST

START_TEST(reading_json_reads_only_len_bytes)
{
	/* The line is not NUL-terminated: what follows len must not be read. */
	static const char buf[] = "{" REQ ",\"unit\":\"Cel\"}GARBAGE";
	size_t len = strlen(buf) - strlen("GARBAGE");

	ck_assert_int_eq(fg_reading_from_json(buf, len, &r, text, sizeof(text), err, sizeof(err)),
			 0);
	ck_assert_str_eq(r.unit, "Cel");
	not_json(buf, strlen(buf), "end of file expected");
	not_json(buf, 0, "expected near end of file");
	not_json(NULL, 0, "expected near end of file");
}
END_TEST

START_TEST(reading_json_names_missing_members)
{
	refused("{\"source\":\"sim\",\"quantity\":\"t\",\"value\":1}", -EINVAL,
		"\"device\" is missing");
	refused("{\"device\":\"d\",\"quantity\":\"t\",\"value\":1}", -EINVAL,
		"\"source\" is missing");
	refused("{\"device\":\"d\",\"source\":\"sim\",\"value\":1}", -EINVAL,
		"\"quantity\" is missing");
	refused("{\"device\":\"d\",\"source\":\"sim\",\"quantity\":\"t\"}", -EINVAL,
		"\"value\" is missing");
	refused("{}", -EINVAL, "\"device\" is missing");
}
END_TEST

START_TEST(reading_json_names_members_of_the_wrong_type)
{
	refused("{\"device\":7,\"source\":\"sim\",\"quantity\":\"t\",\"value\":1}", -EINVAL,
		"\"device\": expected a string");
	refused("{\"device\":\"d\",\"source\":[],\"quantity\":\"t\",\"value\":1}", -EINVAL,
		"\"source\": expected a string");
	refused("{\"device\":\"d\",\"source\":\"sim\",\"quantity\":null,\"value\":1}", -EINVAL,
		"\"quantity\": expected a string");
	refused("{\"device\":\"d\",\"source\":\"sim\",\"quantity\":\"t\",\"value\":[1]}", -EINVAL,
		"\"value\": expected a number, true, false or a string");
	refused("{\"device\":\"d\",\"source\":\"sim\",\"quantity\":\"t\",\"value\":{}}", -EINVAL,
		"\"value\": expected a number, true, false or a string");
	refused("{" REQ ",\"name\":1}", -EINVAL, "\"name\": expected a string");
	refused("{" REQ ",\"unit\":null}", -EINVAL, "\"unit\": expected a string");
	refused("{" REQ ",\"boot_id\":false}", -EINVAL, "\"boot_id\": expected a string");
	refused("{" REQ ",\"time\":\"2025-11-25\"}", -EINVAL,
		"\"time\": expected milliseconds since 1970 or null");
	refused("{" REQ ",\"time\":1764039446123.5}", -EINVAL,
		"\"time\": expected milliseconds since 1970 or null");
	refused("{" REQ ",\"mono_us\":null}", -EINVAL,
		"\"mono_us\": expected a non-negative integer (microseconds)");
	refused("{" REQ ",\"frame\":\"7\"}", -EINVAL, "\"frame\": expected a non-negative integer");
	refused("{" REQ ",\"rssi\":-97.5}", -EINVAL,
		"\"rssi\": expected an integer -32768..32767 (dBm)");
	refused("{" REQ ",\"snr\":\"7\"}", -EINVAL, "\"snr\": expected a number (dB) or null");
	refused("{" REQ ",\"sf\":true}", -EINVAL, "\"sf\": expected an integer 0..255");
	refused("[{" REQ "}]", -EINVAL, "expected a JSON object");
	NOT_JSON("\"a string\"", "'[' or '{' expected near '\"a string\"'");
}
END_TEST

START_TEST(reading_json_refuses_values_out_of_range)
{
	refused("{" REQ ",\"time\":-1}", -EINVAL,
		"\"time\": expected milliseconds since 1970 or null, got -1");
	refused("{" REQ ",\"mono_us\":-5}", -EINVAL,
		"\"mono_us\": expected a non-negative integer (microseconds), got -5");
	refused("{" REQ ",\"frame\":-1}", -EINVAL,
		"\"frame\": expected a non-negative integer, got -1");
	refused("{" REQ ",\"rssi\":32768}", -EINVAL,
		"\"rssi\": expected an integer -32768..32767 (dBm), got 32768");
	refused("{" REQ ",\"freq\":4294967296}", -EINVAL,
		"\"freq\": expected an integer 0..4294967295 (Hz), got 4294967296");
	refused("{" REQ ",\"bw\":-1}", -EINVAL,
		"\"bw\": expected an integer 0..4294967295 (Hz), got -1");
	refused("{" REQ ",\"sf\":256}", -EINVAL, "\"sf\": expected an integer 0..255, got 256");
	refused("{" REQ ",\"dr\":-2}", -EINVAL, "\"dr\": expected an integer -1..127, got -2");
	refused("{" REQ ",\"dr\":128}", -EINVAL, "\"dr\": expected an integer -1..127, got 128");
	refused("{" REQ ",\"snr\":1e39}", -EINVAL, "\"snr\": expected a number (dB) or null");
	/* The bounds themselves are fine. */
	ck_assert_int_eq(parse("{" REQ ",\"rssi\":-32768,\"freq\":4294967295,\"sf\":255,\"dr\":127,"
			       "\"snr\":-3.4e38}"),
			 0);
	ck_assert_int_eq(r.radio.rssi, -32768);
	ck_assert_uint_eq(r.radio.freq_hz, 4294967295u);
	ck_assert_uint_eq(r.radio.sf, 255);
	ck_assert_int_eq(r.radio.dr, 127);
}
END_TEST

START_TEST(reading_json_refuses_bad_device_ids_sources_and_quantities)
{
	refused("{\"device\":\"\",\"source\":\"sim\",\"quantity\":\"t\",\"value\":1}", -EINVAL,
		"\"device\": '' is not a valid device id (1..39 of A-Z a-z 0-9 _ . : -)");
	refused("{\"device\":\"a/b\",\"source\":\"sim\",\"quantity\":\"t\",\"value\":1}", -EINVAL,
		"\"device\": 'a/b' is not a valid device id (1..39 of A-Z a-z 0-9 _ . : -)");
	refused("{\"device\":\"sensor #1\",\"source\":\"sim\",\"quantity\":\"t\",\"value\":1}",
		-EINVAL,
		"\"device\": 'sensor #1' is not a valid device id (1..39 of A-Z a-z 0-9 _ . : -)");
	/* A control character in the message is shown as '?', keeping it one line. */
	refused("{\"device\":\"a\\nb\",\"source\":\"sim\",\"quantity\":\"t\",\"value\":1}", -EINVAL,
		"\"device\": 'a?b' is not a valid device id (1..39 of A-Z a-z 0-9 _ . : -)");
	refused("{\"device\":\"d\",\"source\":\"mqtt\",\"quantity\":\"t\",\"value\":1}", -EINVAL,
		"\"source\": expected sim, lora, ble or gateway, got 'mqtt'");
	refused("{\"device\":\"d\",\"source\":\"SIM\",\"quantity\":\"t\",\"value\":1}", -EINVAL,
		"\"source\": expected sim, lora, ble or gateway, got 'SIM'");
	refused("{\"device\":\"d\",\"source\":\"sim\",\"quantity\":\"temp+rh\",\"value\":1}",
		-EINVAL,
		"\"quantity\": 'temp+rh' is not a valid name (1..31 of A-Z a-z 0-9 _ . : -)");
	refused("{\"device\":\"d\",\"source\":\"sim\",\"quantity\":\"\",\"value\":1}", -EINVAL,
		"\"quantity\": '' is not a valid name (1..31 of A-Z a-z 0-9 _ . : -)");
	/* A long offending value is quoted in part only. */
	refused("{\"device\":\"d\",\"source\":\"0123456789012345678901234567890123456789xyz\","
		"\"quantity\":\"t\",\"value\":1}",
		-EINVAL,
		"\"source\": expected sim, lora, ble or gateway, got "
		"'0123456789012345678901234567890123456789'");
}
END_TEST

/* A line with the string member key (a required one or an optional one) n bytes long. */
static const char *with_string(char *buf, size_t size, const char *key, size_t n)
{
	bool required = !strcmp(key, "device") || !strcmp(key, "quantity") || !strcmp(key, "value");
	char x[300];
	int len;

	ck_assert_uint_lt(n, sizeof(x));
	memset(x, 'x', n);
	x[n] = '\0';
	len = snprintf(buf, size,
		       "{\"device\":\"%s\",\"source\":\"sim\",\"quantity\":\"%s\",\"value\":%s%s%s",
		       strcmp(key, "device") ? "d" : x, strcmp(key, "quantity") ? "t" : x,
		       strcmp(key, "value") ? "" : "\"", strcmp(key, "value") ? "1" : x,
		       strcmp(key, "value") ? "" : "\"");
	ck_assert(len > 0 && (size_t) len < size);
	if (required)
		len += snprintf(buf + len, size - (size_t) len, "}");
	else
		len += snprintf(buf + len, size - (size_t) len, ",\"%s\":\"%s\"}", key, x);
	ck_assert((size_t) len < size);
	return buf;
}

START_TEST(reading_json_checks_the_size_of_every_string)
{
	static const struct {
		const char *key;
		size_t max;
		const char *message;
	} fields[] = {
		{ "device", FG_DEVICE_ID_MAX - 1, "\"device\": longer than 39 bytes" },
		{ "name", FG_DEVICE_NAME_MAX - 1, "\"name\": longer than 63 bytes" },
		{ "quantity", FG_QUANTITY_MAX - 1, "\"quantity\": longer than 31 bytes" },
		{ "unit", FG_UNIT_MAX - 1, "\"unit\": longer than 15 bytes" },
		{ "boot_id", FG_BOOT_ID_MAX - 1, "\"boot_id\": longer than 32 bytes" },
	};
	char buf[512];

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		ck_assert_msg(parse(with_string(buf, sizeof(buf), fields[i].key, fields[i].max)) ==
				      0,
			      "%s: %s", buf, err);
		refused(with_string(buf, sizeof(buf), fields[i].key, fields[i].max + 1), -EINVAL,
			fields[i].message);
	}
}
END_TEST

START_TEST(reading_json_refuses_a_string_value_larger_than_text)
{
	static const char empty[] = "{\"device\":\"d\",\"source\":\"sim\",\"quantity\":\"t\","
				    "\"value\":\"\"}";
	static const char bad_frame[] = "{\"device\":\"d\",\"source\":\"sim\",\"quantity\":\"t\","
					"\"value\":\"\",\"frame\":-1}";
	char buf[512];

	ck_assert_int_eq(parse(with_string(buf, sizeof(buf), "value", sizeof(text) - 1)), 0);
	ck_assert_int_eq(r.kind, FG_VALUE_STRING);
	ck_assert_uint_eq(strlen(r.text), sizeof(text) - 1);
	refused(with_string(buf, sizeof(buf), "value", sizeof(text)), -E2BIG,
		"\"value\": a string longer than 255 bytes");
	/* No text buffer at all: any string value is too large. */
	ck_assert_int_eq(fg_reading_from_json("{" REQ "}", strlen("{" REQ "}"), &r, NULL, 0, err,
					      sizeof(err)),
			 0);
	ck_assert_int_eq(fg_reading_from_json(empty, strlen(empty), &r, NULL, 0, err, sizeof(err)),
			 -E2BIG);
	ck_assert_str_eq(err, "\"value\": a string longer than 0 bytes");
	/* Any other mistake in the line is what is reported. */
	ck_assert_int_eq(
		fg_reading_from_json(bad_frame, strlen(bad_frame), &r, NULL, 0, err, sizeof(err)),
		-EINVAL);
	ck_assert_str_eq(err, "\"frame\": expected a non-negative integer, got -1");
}
END_TEST

START_TEST(reading_json_refuses_lines_over_64_kib)
{
	size_t max = 64 * 1024;
	char *buf = malloc(max + 2);
	size_t head = strlen("{" REQ "}");

	ck_assert_ptr_nonnull(buf);
	/* Exactly 64 KiB (padded with white space) is a line. */
	memcpy(buf, "{" REQ "}", head);
	memset(buf + head, ' ', max + 1 - head);
	ck_assert_int_eq(fg_reading_from_json(buf, max, &r, text, sizeof(text), err, sizeof(err)),
			 0);
	ck_assert_int_eq(
		fg_reading_from_json(buf, max + 1, &r, text, sizeof(text), err, sizeof(err)),
		-E2BIG);
	ck_assert_str_eq(err, "line longer than 65536 bytes");
	ck_assert_int_eq(
		fg_reading_from_json(buf, SIZE_MAX, &r, text, sizeof(text), err, sizeof(err)),
		-E2BIG);
	free(buf);
}
END_TEST

START_TEST(reading_json_refuses_non_finite_numbers)
{
	/* JSON has no NaN or infinity: fg_reading_to_json writes null, which is not a value. */
	refused("{\"device\":\"d\",\"source\":\"sim\",\"quantity\":\"t\",\"value\":null}", -EINVAL,
		"\"value\": expected a number, true, false or a string, got null");
	NOT_JSON("{\"device\":\"d\",\"source\":\"sim\",\"quantity\":\"t\",\"value\":1e999}",
		 "real number overflow near '1e999'");
	NOT_JSON("{\"device\":\"d\",\"source\":\"sim\",\"quantity\":\"t\",\"value\":NaN}",
		 "invalid token near 'NaN'");
	NOT_JSON("{\"device\":\"d\",\"source\":\"sim\",\"quantity\":\"t\",\"value\":-Infinity}",
		 "invalid token near '-'");
	NOT_JSON("{" REQ ",\"time\":18446744073709551616}", "too big integer");
}
END_TEST

START_TEST(reading_json_refuses_what_is_not_strict_json)
{
	static const char dup[] = "{" REQ ",\"value\":22}";
	static const char nul[] = "{" REQ ",\"name\":\"a\\u0000b\"}";
	static const char raw_nul[] = "{" REQ ",\"name\":\"a\0b\"}";
	static const char bad_utf8[] = "{" REQ ",\"name\":\"caf\xe9\"}";
	static const char trailing[] = "{" REQ "} {" REQ "}";
	static const char comment[] = "{" REQ "} // a comment";
	static const char single[] = "{'device':'d'}";

	not_json(dup, strlen(dup), "duplicate object key near '\"value\"'");
	not_json(nul, strlen(nul), "\\u0000 is not allowed");
	not_json(raw_nul, sizeof(raw_nul) - 1, "control character 0x0 near");
	not_json(bad_utf8, strlen(bad_utf8), "unable to decode byte 0xe9");
	not_json(trailing, strlen(trailing), "end of file expected");
	not_json(comment, strlen(comment), "end of file expected");
	not_json(single, strlen(single), "string or '}' expected");
	not_json("{\"device\":\"d\",", 14, "near end of file");
	not_json("", 0, "near end of file");
	not_json("\n", 1, "near end of file");
}
END_TEST

START_TEST(reading_json_survives_deep_nesting_in_an_ignored_member)
{
	size_t depth = 30000;
	size_t head = strlen("{" REQ ",\"x\":");
	char *buf = malloc(head + 2 * depth + 2);

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, "{" REQ ",\"x\":", head);
	memset(buf + head, '[', depth);
	memset(buf + head + depth, ']', depth);
	memcpy(buf + head + 2 * depth, "}", 2);
	not_json(buf, strlen(buf), "maximum parsing depth reached");
	free(buf);
}
END_TEST

START_TEST(reading_json_err_is_optional_and_truncated_safely)
{
	char small[12];

	ck_assert_int_eq(fg_reading_from_json("{}", 2, &r, text, sizeof(text), NULL, 0), -EINVAL);
	memset(small, 0x55, sizeof(small));
	ck_assert_int_eq(
		fg_reading_from_json("{}", 2, &r, text, sizeof(text), small, sizeof(small)),
		-EINVAL);
	ck_assert_str_eq(small, "\"device\" is");
	ck_assert_int_eq(fg_reading_from_json("{" REQ "}", strlen("{" REQ "}"), &r, text,
					      sizeof(text), NULL, 0),
			 0);
	ck_assert_double_eq(r.number, 21.5);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reading_json");
	TCase *tc;

	tc = tcase_create("round_trip");
	tcase_add_test(tc, reading_json_round_trips_numbers);
	tcase_add_test(tc, reading_json_round_trips_booleans_and_unknown_time);
	tcase_add_test(tc, reading_json_round_trips_strings_into_the_text_buffer);
	tcase_add_test(tc, reading_json_round_trips_radio_meta);
	tcase_add_test(tc, reading_json_fills_defaults_for_absent_members);
	tcase_add_test(tc, reading_json_any_radio_member_makes_radio_present);
	tcase_add_test(tc, reading_json_reads_only_len_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, reading_json_names_missing_members);
	tcase_add_test(tc, reading_json_names_members_of_the_wrong_type);
	tcase_add_test(tc, reading_json_refuses_values_out_of_range);
	tcase_add_test(tc, reading_json_refuses_bad_device_ids_sources_and_quantities);
	tcase_add_test(tc, reading_json_checks_the_size_of_every_string);
	tcase_add_test(tc, reading_json_refuses_a_string_value_larger_than_text);
	tcase_add_test(tc, reading_json_refuses_lines_over_64_kib);
	tcase_add_test(tc, reading_json_refuses_non_finite_numbers);
	tcase_add_test(tc, reading_json_refuses_what_is_not_strict_json);
	tcase_add_test(tc, reading_json_survives_deep_nesting_in_an_ignored_member);
	tcase_add_test(tc, reading_json_err_is_optional_and_truncated_safely);
	suite_add_tcase(s, tc);
	return fg_check_main(s);
}
