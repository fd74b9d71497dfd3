/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/format.h"
#include "check-main.h"
#include "json-valid.h"

/* The validator itself must refuse what it is there to catch. */
START_TEST(validator_refuses_invalid_json)
{
	static const char *const bad[] = {
		"",
		"[",
		"{}x",
		"{\"a\":1,}",
		"[1,]",
		"{\"a\" 1}",
		"01",
		"1.",
		".5",
		"-",
		"1e",
		"\"a\x01\"",
		"\"\\x\"",
		"\"\\u12\"",
		"\"\xc3\"",
		"\"\xc0\xaf\"",
		"\"\xed\xa0\x80\"",
		"\"\xff\"",
		"{\"a\":1,\"a\":2}",
		"NaN",
		"[inf]",
		"nul",
		"{\"a\":null",
		"[1 2]",
	};
	static const char *const good[] = {
		"[]",
		"{}",
		"0",
		"-0.5e+3",
		"\"\\u0000\\ufffd\\n\"",
		"\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
		"{\"a\":[true,false,null,{\"b\":\"c\"}],\"b\":1}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!json_valid(bad[i], strlen(bad[i])), "accepted %s", bad[i]);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(json_valid(good[i], strlen(good[i])), "refused %s", good[i]);
}
END_TEST

/* Format, check the result is valid JSON of the reported length, and keep it for asserts. */
static char *payload(enum fg_format f, const struct fg_reading *r, size_t n, uint64_t seq,
		     const char *gw)
{
	char *out = NULL;
	size_t len = 0;
	int e;

	e = fg_format_payload(f, r, n, seq, gw, &out, &len);
	ck_assert_msg(e == 0, "fg_format_payload: %d", e);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(len, strlen(out));
	ck_assert_msg(json_valid(out, len), "invalid JSON: %s", out);
	return out;
}

#define assert_payload(f, r, n, seq, gw, expected)                                                 \
	do {                                                                                       \
		char *p_ = payload((f), (r), (n), (seq), (gw));                                    \
		ck_assert_str_eq(p_, (expected));                                                  \
		free(p_);                                                                          \
	} while (0)

/* What the simulator emits for one device: three readings of one frame. */
static void sim_frame(struct fg_reading r[3], uint64_t time_ms)
{
	fg_reading_init(&r[0], FG_SOURCE_SIM, "sim-0001", "sim-0001", "temperature", "Cel");
	/* As sim.c quantizes: a product that is not exactly the double nearest 21.53. */
	fg_reading_set_number(&r[0], round(21.53 / 0.01) * 0.01);
	fg_reading_init(&r[1], FG_SOURCE_SIM, "sim-0001", "sim-0001", "humidity", "%RH");
	fg_reading_set_number(&r[1], round(43.5 / 0.1) * 0.1);
	fg_reading_init(&r[2], FG_SOURCE_SIM, "sim-0001", "sim-0001", "battery", "%EL");
	fg_reading_set_number(&r[2], round(87.2 / 0.1) * 0.1);
	for (int i = 0; i < 3; i++) {
		r[i].time_ms = time_ms;
		r[i].mono_usec = 123456789;
		r[i].frame_id = 9;
		strcpy(r[i].boot_id, "0123456789abcdef0123456789abcdef");
	}
}

START_TEST(senml_sim_frame)
{
	struct fg_reading r[3];

	sim_frame(r, 1764039446123ULL);
	assert_payload(
		FG_FORMAT_SENML, r, 3, 42, "gw-1",
		"[{\"bn\":\"urn:dev:org:32473-fieldgate.sim:sim-0001:\",\"bt\":1764039446.123,"
		"\"seq\":42,\"n\":\"temperature\",\"u\":\"Cel\",\"v\":21.53},"
		"{\"n\":\"humidity\",\"u\":\"%RH\",\"v\":43.5},"
		"{\"n\":\"battery\",\"u\":\"%EL\",\"v\":87.2}]");
}
END_TEST

START_TEST(json_sim_frame)
{
	struct fg_reading r[3];

	sim_frame(r, 1764039446123ULL);
	assert_payload(
		FG_FORMAT_JSON, r, 3, 42, "gw-1",
		"{\"gateway\":\"gw-1\",\"device\":\"sim-0001\",\"name\":\"sim-0001\","
		"\"source\":\"sim\",\"seq\":42,\"time\":1764039446123,\"temperature\":21.53,"
		"\"humidity\":43.5,\"battery\":87.2,"
		"\"units\":{\"temperature\":\"Cel\",\"humidity\":\"%RH\",\"battery\":\"%EL\"}}");
}
END_TEST

START_TEST(senml_base_time_trims_zeros)
{
	struct fg_reading r[3];

	sim_frame(r, 1764039446000ULL);
	assert_payload(FG_FORMAT_SENML, r, 1, 1, "gw",
		       "[{\"bn\":\"urn:dev:org:32473-fieldgate.sim:sim-0001:\",\"bt\":1764039446,"
		       "\"seq\":1,\"n\":\"temperature\",\"u\":\"Cel\",\"v\":21.53}]");
	sim_frame(r, 1764039446100ULL);
	assert_payload(FG_FORMAT_SENML, r, 1, 1, "gw",
		       "[{\"bn\":\"urn:dev:org:32473-fieldgate.sim:sim-0001:\",\"bt\":1764039446.1,"
		       "\"seq\":1,\"n\":\"temperature\",\"u\":\"Cel\",\"v\":21.53}]");
}
END_TEST

START_TEST(senml_relative_time_only_when_times_differ)
{
	struct fg_reading r[3];

	sim_frame(r, 1764039446123ULL);
	r[1].time_ms = 1764039446623ULL; /* half a second later */
	r[2].time_ms = 1764039445123ULL; /* a second earlier */
	assert_payload(
		FG_FORMAT_SENML, r, 3, 7, "gw",
		"[{\"bn\":\"urn:dev:org:32473-fieldgate.sim:sim-0001:\",\"bt\":1764039446.123,"
		"\"seq\":7,\"n\":\"temperature\",\"u\":\"Cel\",\"v\":21.53},"
		"{\"n\":\"humidity\",\"u\":\"%RH\",\"v\":43.5,\"t\":0.5},"
		"{\"n\":\"battery\",\"u\":\"%EL\",\"v\":87.2,\"t\":-1}]");
}
END_TEST

START_TEST(senml_base_name_is_device_urn)
{
	struct fg_reading r;
	char *p;

	fg_reading_init(&r, FG_SOURCE_BLE, "A4:C1:38:00:11:22", "kitchen", "temperature", "Cel");
	fg_reading_set_number(&r, 20.5);
	assert_payload(FG_FORMAT_SENML, &r, 1, 3, "gw",
		       "[{\"bn\":\"urn:dev:mac:a4c138001122:\",\"seq\":3,\"n\":\"temperature\","
		       "\"u\":\"Cel\",\"v\":20.5}]");

	fg_reading_init(&r, FG_SOURCE_LORA, "a840410000000001", "soil-1", "moisture", "%RH");
	p = payload(FG_FORMAT_SENML, &r, 1, 3, "gw");
	ck_assert_ptr_nonnull(strstr(p, "\"bn\":\"urn:dev:mac:a840410000000001:\""));
	free(p);

	fg_reading_init(&r, FG_SOURCE_LORA, "A8-40-41-00-00-00-00-01", NULL, "moisture", "%RH");
	p = payload(FG_FORMAT_SENML, &r, 1, 3, "gw");
	ck_assert_ptr_nonnull(strstr(p, "\"bn\":\"urn:dev:mac:a840410000000001:\""));
	free(p);

	/* An ABP DevAddr is no EUI: scoped by source. */
	fg_reading_init(&r, FG_SOURCE_LORA, "26011F2A", NULL, "moisture", "%RH");
	p = payload(FG_FORMAT_SENML, &r, 1, 3, "gw");
	ck_assert_ptr_nonnull(strstr(p, "\"bn\":\"urn:dev:org:32473-fieldgate.lora:26011F2A:\""));
	free(p);

	/* Mixed separators, or the wrong length, are not an EUI either. */
	fg_reading_init(&r, FG_SOURCE_BLE, "A4:C1-38:00:11:22", NULL, "t", "");
	p = payload(FG_FORMAT_SENML, &r, 1, 3, "gw");
	ck_assert_ptr_nonnull(
		strstr(p, "\"bn\":\"urn:dev:org:32473-fieldgate.ble:A4-C1-38-00-11-22:\""));
	free(p);
}
END_TEST

START_TEST(senml_unknown_time_has_no_base_time)
{
	struct fg_reading r[3];

	sim_frame(r, 0);
	r[1].time_ms = 0;
	assert_payload(FG_FORMAT_SENML, r, 2, 5, "gw",
		       "[{\"bn\":\"urn:dev:org:32473-fieldgate.sim:sim-0001:\",\"seq\":5,"
		       "\"n\":\"temperature\",\"u\":\"Cel\",\"v\":21.53},"
		       "{\"n\":\"humidity\",\"u\":\"%RH\",\"v\":43.5}]");
}
END_TEST

START_TEST(json_unknown_time_is_null)
{
	struct fg_reading r[3];

	sim_frame(r, 0);
	assert_payload(FG_FORMAT_JSON, r, 1, 5, "gw",
		       "{\"gateway\":\"gw\",\"device\":\"sim-0001\",\"name\":\"sim-0001\","
		       "\"source\":\"sim\",\"seq\":5,\"time\":null,\"temperature\":21.53,"
		       "\"units\":{\"temperature\":\"Cel\"}}");
}
END_TEST

/* Stamping a payload made without a time gives what formatting with the time gives. */
static void assert_stamp_matches(enum fg_format f, struct fg_reading *r, size_t n, uint64_t t)
{
	char *undated, *dated, *stamped = NULL;
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		r[i].time_ms = 0;
	undated = payload(f, r, n, 7, "gw");
	for (size_t i = 0; i < n; i++)
		r[i].time_ms = t;
	dated = payload(f, r, n, 7, "gw");
	ck_assert_int_eq(fg_format_stamp_time(undated, strlen(undated), t, &stamped, &len), 0);
	ck_assert_uint_eq(len, strlen(stamped));
	ck_assert_msg(json_valid(stamped, len), "invalid JSON: %s", stamped);
	ck_assert_str_eq(stamped, dated);
	free(stamped);
	/* Once is enough: a payload with a time keeps it. */
	stamped = NULL;
	ck_assert_int_eq(fg_format_stamp_time(dated, strlen(dated), t + 1, &stamped, &len), -EEXIST);
	ck_assert_ptr_null(stamped);
	free(undated);
	free(dated);
}

START_TEST(stamp_time_gives_the_payload_formatted_with_the_time)
{
	struct fg_reading r[3];

	sim_frame(r, 0);
	assert_stamp_matches(FG_FORMAT_SENML, r, 3, 1764039446123ULL);
	assert_stamp_matches(FG_FORMAT_JSON, r, 3, 1764039446000ULL);
	/* Names that try to look like the keys being patched. */
	for (int i = 0; i < 3; i++) {
		snprintf(r[i].device_id, sizeof(r[i].device_id), "x\",\"bt\":1,\"time\":null\\\"");
		snprintf(r[i].device_name, sizeof(r[i].device_name), ",\"time\":null");
	}
	assert_stamp_matches(FG_FORMAT_SENML, r, 3, 1764039446123ULL);
	assert_stamp_matches(FG_FORMAT_JSON, r, 3, 1764039446123ULL);
}
END_TEST

START_TEST(stamp_time_refuses_what_is_not_ours)
{
	static const char *const foreign[] = { "", "[", "[{\"bn\":", "[{\"bn\":\"unterminated",
					       "{\"gateway\"", "{\"alert\":1}", "[1,2]", "null" };
	char *out = NULL;
	size_t len = 0;

	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		ck_assert_int_eq(fg_format_stamp_time(foreign[i], strlen(foreign[i]), 1000, &out, &len),
				 -EPROTONOSUPPORT);
		ck_assert_ptr_null(out);
	}
	ck_assert_int_eq(fg_format_stamp_time("{\"gateway\":\"g\",\"time\":5}", 25, 1000, &out, &len),
			 -EEXIST);
	ck_assert_int_eq(fg_format_stamp_time("[{\"bn\":\"x\"}]", 12, 0, &out, &len), -EINVAL);
	ck_assert_int_eq(fg_format_stamp_time(NULL, 0, 1000, &out, &len), -EINVAL);
	ck_assert_ptr_null(out);
}
END_TEST

/* A bool, a string and a dimensionless number: vb, vs, no "u". */
static void mixed_frame(struct fg_reading r[3])
{
	fg_reading_init(&r[0], FG_SOURCE_BLE, "A4:C1:38:00:11:22", "door", "open", "");
	fg_reading_set_bool(&r[0], true);
	fg_reading_init(&r[1], FG_SOURCE_BLE, "A4:C1:38:00:11:22", "door", "state", "");
	fg_reading_set_text(&r[1], "ajar");
	fg_reading_init(&r[2], FG_SOURCE_BLE, "A4:C1:38:00:11:22", "door", "count", "");
	fg_reading_set_number(&r[2], 12345678901.0);
	for (int i = 0; i < 3; i++)
		r[i].time_ms = 1764039446123ULL;
}

START_TEST(senml_bool_and_string)
{
	struct fg_reading r[3];

	mixed_frame(r);
	assert_payload(FG_FORMAT_SENML, r, 3, 8, "gw",
		       "[{\"bn\":\"urn:dev:mac:a4c138001122:\",\"bt\":1764039446.123,\"seq\":8,"
		       "\"n\":\"open\",\"vb\":true},{\"n\":\"state\",\"vs\":\"ajar\"},"
		       "{\"n\":\"count\",\"v\":12345678901}]");
}
END_TEST

START_TEST(json_bool_and_string)
{
	struct fg_reading r[3];

	mixed_frame(r);
	r[0].boolean = false;
	assert_payload(FG_FORMAT_JSON, r, 3, 8, "gw",
		       "{\"gateway\":\"gw\",\"device\":\"A4:C1:38:00:11:22\",\"name\":\"door\","
		       "\"source\":\"ble\",\"seq\":8,\"time\":1764039446123,\"open\":false,"
		       "\"state\":\"ajar\",\"count\":12345678901}");
}
END_TEST

START_TEST(json_radio_metadata)
{
	struct fg_reading r[2];

	fg_reading_init(&r[0], FG_SOURCE_LORA, "a840410000000001", "soil-1", "temperature", "Cel");
	fg_reading_set_number(&r[0], 12.25);
	fg_reading_init(&r[1], FG_SOURCE_LORA, "a840410000000001", "soil-1", "battery", "V");
	fg_reading_set_number(&r[1], 3.3);
	for (int i = 0; i < 2; i++) {
		r[i].time_ms = 1764039446123ULL;
		r[i].radio = (struct fg_radio_meta){ .present = true,
						     .rssi = -97,
						     .snr = 7.3f,
						     .freq_hz = 868100000,
						     .sf = 7,
						     .bw_hz = 125000,
						     .dr = 5 };
	}
	assert_payload(
		FG_FORMAT_JSON, r, 2, 99, "gw-1",
		"{\"gateway\":\"gw-1\",\"device\":\"a840410000000001\",\"name\":\"soil-1\","
		"\"source\":\"lora\",\"seq\":99,\"time\":1764039446123,\"temperature\":12.25,"
		"\"battery\":3.3,\"units\":{\"temperature\":\"Cel\",\"battery\":\"V\"},"
		"\"rssi\":-97,\"snr\":7.3,\"freq\":868100000,\"sf\":7,\"bw\":125000,\"dr\":5}");

	/* BLE: RSSI only, no LoRa fields. */
	r[0].radio = (struct fg_radio_meta){ .present = true, .rssi = -60, .snr = NAN, .dr = -1 };
	r[1].radio.present = false;
	assert_payload(
		FG_FORMAT_JSON, r, 1, 99, "gw-1",
		"{\"gateway\":\"gw-1\",\"device\":\"a840410000000001\",\"name\":\"soil-1\","
		"\"source\":\"lora\",\"seq\":99,\"time\":1764039446123,\"temperature\":12.25,"
		"\"units\":{\"temperature\":\"Cel\"},\"rssi\":-60,\"freq\":0}");
}
END_TEST

START_TEST(nan_and_infinity_are_left_out)
{
	struct fg_reading r[3];
	char *out = (char *) 1;
	size_t len = 7;

	sim_frame(r, 1764039446123ULL);
	fg_reading_set_number(&r[0], NAN);
	fg_reading_set_number(&r[2], -INFINITY);
	/* The base fields move to the first record that is kept. */
	assert_payload(
		FG_FORMAT_SENML, r, 3, 4, "gw",
		"[{\"bn\":\"urn:dev:org:32473-fieldgate.sim:sim-0001:\",\"bt\":1764039446.123,"
		"\"seq\":4,\"n\":\"humidity\",\"u\":\"%RH\",\"v\":43.5}]");
	assert_payload(FG_FORMAT_JSON, r, 3, 4, "gw",
		       "{\"gateway\":\"gw\",\"device\":\"sim-0001\",\"name\":\"sim-0001\","
		       "\"source\":\"sim\",\"seq\":4,\"time\":1764039446123,\"humidity\":43.5,"
		       "\"units\":{\"humidity\":\"%RH\"}}");

	/* Nothing left: SenML has no valid pack to offer, the flat object still has its header. */
	fg_reading_set_number(&r[1], INFINITY);
	ck_assert_int_eq(fg_format_payload(FG_FORMAT_SENML, r, 3, 4, "gw", &out, &len), -ENODATA);
	ck_assert_ptr_eq(out, (char *) 1);
	ck_assert_uint_eq(len, 7);
	assert_payload(FG_FORMAT_JSON, r, 3, 4, "gw",
		       "{\"gateway\":\"gw\",\"device\":\"sim-0001\",\"name\":\"sim-0001\","
		       "\"source\":\"sim\",\"seq\":4,\"time\":1764039446123}");
}
END_TEST

START_TEST(json_duplicate_and_reserved_names_get_suffixes)
{
	struct fg_reading r[5];

	fg_reading_init(&r[0], FG_SOURCE_SIM, "d", NULL, "temperature", "Cel");
	fg_reading_set_number(&r[0], 1);
	fg_reading_init(&r[1], FG_SOURCE_SIM, "d", NULL, "temperature", "Cel");
	fg_reading_set_number(&r[1], 2);
	fg_reading_init(&r[2], FG_SOURCE_SIM, "d", NULL, "temperature_2", "");
	fg_reading_set_number(&r[2], 3);
	fg_reading_init(&r[3], FG_SOURCE_SIM, "d", NULL, "rssi", "dBm");
	fg_reading_set_number(&r[3], -80);
	fg_reading_init(&r[4], FG_SOURCE_SIM, "d", NULL, "time", "s");
	fg_reading_set_number(&r[4], 0.5);
	assert_payload(FG_FORMAT_JSON, r, 5, 1, "gw",
		       "{\"gateway\":\"gw\",\"device\":\"d\",\"name\":\"d\",\"source\":\"sim\","
		       "\"seq\":1,\"time\":null,\"temperature\":1,\"temperature_2\":2,"
		       "\"temperature_2_2\":3,\"rssi_2\":-80,\"time_2\":0.5,"
		       "\"units\":{\"temperature\":\"Cel\",\"temperature_2\":\"Cel\","
		       "\"rssi_2\":\"dBm\",\"time_2\":\"s\"}}");
}
END_TEST

START_TEST(json_names_that_escape_alike_get_suffixes)
{
	struct fg_reading r[2];

	fg_reading_init(&r[0], FG_SOURCE_SIM, "d", NULL, "t\xff", "");
	fg_reading_set_number(&r[0], 1);
	fg_reading_init(&r[1], FG_SOURCE_SIM, "d", NULL, "t\xfe", "");
	fg_reading_set_number(&r[1], 2);
	assert_payload(FG_FORMAT_JSON, r, 2, 1, "gw",
		       "{\"gateway\":\"gw\",\"device\":\"d\",\"name\":\"d\",\"source\":\"sim\","
		       "\"seq\":1,\"time\":null,\"t\\ufffd\":1,\"t\\ufffd_2\":2}");
}
END_TEST

START_TEST(odd_names_and_values_are_escaped)
{
	struct fg_reading r[2];

	/* Quote, backslash, newline, tab, DEL, valid UTF-8, and bytes that are not UTF-8. */
	fg_reading_init(&r[0], FG_SOURCE_BLE, "x\"y\\z", "caf\xc3\xa9 \"1\"\n\t\x7f\xff\xc3",
			"na me/\"q\"", "\"u");
	fg_reading_set_text(&r[0], "\xe2\x82\xac 5 \xed\xa0\x80 \xc0\xaf\\\x01");
	fg_reading_init(&r[1], FG_SOURCE_BLE, "x\"y\\z", NULL, "ok", "");
	fg_reading_set_number(&r[1], -0.001);
	assert_payload(
		FG_FORMAT_SENML, r, 2, 1, "gw",
		"[{\"bn\":\"urn:dev:org:32473-fieldgate.ble:x-y-z:\",\"seq\":1,"
		"\"n\":\"na_me/_q_\",\"u\":\"\\\"u\",\"vs\":\"\xe2\x82\xac 5 \\ufffd\\ufffd\\ufffd "
		"\\ufffd\\ufffd\\\\\\u0001\"},{\"n\":\"ok\",\"v\":-0.001}]");
	assert_payload(FG_FORMAT_JSON, r, 2, 1, "g\"w\x01",
		       "{\"gateway\":\"g\\\"w\\u0001\",\"device\":\"x\\\"y\\\\z\","
		       "\"name\":\"caf\xc3\xa9 \\\"1\\\"\\n\\u0009\\u007f\\ufffd\\ufffd\","
		       "\"source\":\"ble\",\"seq\":1,\"time\":null,"
		       "\"na me/\\\"q\\\"\":\"\xe2\x82\xac 5 \\ufffd\\ufffd\\ufffd "
		       "\\ufffd\\ufffd\\\\\\u0001\",\"ok\":-0.001,"
		       "\"units\":{\"na me/\\\"q\\\"\":\"\\\"u\"}}");
}
END_TEST

START_TEST(null_text_and_gateway_are_empty_strings)
{
	struct fg_reading r;

	fg_reading_init(&r, FG_SOURCE_GATEWAY, "", "", "note", "");
	fg_reading_set_text(&r, NULL);
	assert_payload(FG_FORMAT_JSON, &r, 1, 0, NULL,
		       "{\"gateway\":\"\",\"device\":\"\",\"name\":\"\",\"source\":\"gateway\","
		       "\"seq\":0,\"time\":null,\"note\":\"\"}");
	assert_payload(
		FG_FORMAT_SENML, &r, 1, 0, NULL,
		"[{\"bn\":\"urn:dev:org:32473-fieldgate.gateway:-:\",\"seq\":0,\"n\":\"note\","
		"\"vs\":\"\"}]");
}
END_TEST

START_TEST(numbers_keep_sensor_precision)
{
	static const double in[] = { 0.1 + 0.2, 1e-7, 1e21, -40, 1013.25, 0.0001 * 3 };
	static const char *const out[] = { "0.3", "1e-07", "1e+21", "-40", "1013.25", "0.0003" };
	struct fg_reading r;

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		char expected[256];

		fg_reading_init(&r, FG_SOURCE_SIM, "d", NULL, "q", "");
		fg_reading_set_number(&r, in[i]);
		snprintf(expected, sizeof(expected),
			 "[{\"bn\":\"urn:dev:org:32473-fieldgate.sim:d:\",\"seq\":1,\"n\":\"q\","
			 "\"v\":%s}]",
			 out[i]);
		assert_payload(FG_FORMAT_SENML, &r, 1, 1, "gw", expected);
	}
}
END_TEST

/* xorshift64: reproducible noise for the test below. */
static uint64_t noise(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Fill a fixed field with 0..size-1 random non-NUL bytes, biased towards the awkward ones. */
static void noise_field(uint64_t *s, char *dst, size_t size)
{
	static const char awkward[] = "\"\\/+#{} \t\n\x01\x7f\x80\xbf\xc0\xc3\xa9\xe2\x82\xac"
				      "\xed\xa0\xf0\x9f\xf4\x90\xff";
	size_t n = noise(s) % size;

	for (size_t i = 0; i < n; i++) {
		uint64_t x = noise(s);

		dst[i] = (x & 1) ? awkward[(x >> 1) % (sizeof(awkward) - 1)]
				 : (char) (1 + (x >> 8) % 255);
	}
	dst[n] = '\0';
}

START_TEST(random_bytes_always_give_valid_json)
{
	static const double numbers[] = { 0, -1.5, 1e300, -1e-300, NAN, INFINITY, 21.53, 4e9 };
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	struct fg_reading r[4];
	char text[4][64], gw[24];

	for (int iter = 0; iter < 3000; iter++) {
		size_t n = 1 + noise(&seed) % 4;

		for (size_t i = 0; i < n; i++) {
			memset(&r[i], 0, sizeof(r[i]));
			r[i].source = (enum fg_source_kind)(noise(&seed) % FG_SOURCE__COUNT);
			noise_field(&seed, r[i].device_id, sizeof(r[i].device_id));
			noise_field(&seed, r[i].device_name, sizeof(r[i].device_name));
			noise_field(&seed, r[i].quantity, sizeof(r[i].quantity));
			noise_field(&seed, r[i].unit, sizeof(r[i].unit));
			noise_field(&seed, text[i], sizeof(text[i]));
			r[i].kind = (enum fg_value_kind)(noise(&seed) % FG_VALUE__COUNT);
			r[i].number =
				numbers[noise(&seed) % (sizeof(numbers) / sizeof(numbers[0]))];
			r[i].boolean = noise(&seed) & 1;
			r[i].text = (noise(&seed) % 8) ? text[i] : NULL;
			r[i].time_ms = (noise(&seed) & 1) ? noise(&seed) % 4000000000000ULL : 0;
			r[i].radio.present = noise(&seed) & 1;
			r[i].radio.snr = (noise(&seed) & 1) ? NAN : -12.5f;
			r[i].radio.dr = (int8_t) (noise(&seed) % 8 - 1);
			r[i].radio.sf = (uint8_t) (noise(&seed) % 13);
		}
		noise_field(&seed, gw, sizeof(gw));
		for (int f = 0; f < FG_FORMAT__COUNT; f++) {
			char *out = NULL;
			size_t len = 0;
			int e = fg_format_payload(f, r, n, noise(&seed), gw, &out, &len);

			if (e == -ENODATA && f == FG_FORMAT_SENML)
				continue;
			ck_assert_int_eq(e, 0);
			ck_assert_msg(json_valid(out, len), "invalid JSON: %s", out);
			free(out);
		}
	}
}
END_TEST

START_TEST(payload_refuses_bad_arguments)
{
	struct fg_reading r[3];
	char *out = NULL;
	size_t len = 0;

	sim_frame(r, 1);
	ck_assert_int_eq(fg_format_payload(FG_FORMAT_SENML, r, 0, 1, "gw", &out, &len), -EINVAL);
	ck_assert_int_eq(fg_format_payload(FG_FORMAT_JSON, r, 0, 1, "gw", &out, &len), -EINVAL);
	ck_assert_int_eq(fg_format_payload(FG_FORMAT__COUNT, r, 3, 1, "gw", &out, &len), -EINVAL);
	ck_assert_int_eq(fg_format_payload(FG_FORMAT_SENML, NULL, 3, 1, "gw", &out, &len), -EINVAL);
	ck_assert_ptr_null(out);
}
END_TEST

START_TEST(names_round_trip)
{
	for (int f = 0; f < FG_FORMAT__COUNT; f++)
		ck_assert_int_eq(fg_format_from_string(fg_format_to_string(f)), f);
	ck_assert_str_eq(fg_format_to_string(FG_FORMAT_SENML), "senml");
	ck_assert_str_eq(fg_format_to_string(FG_FORMAT_JSON), "json");
	ck_assert_int_eq(fg_format_from_string("senml"), FG_FORMAT_SENML);
	ck_assert_int_eq(fg_format_from_string("SenML"), -EINVAL);
	ck_assert_int_eq(fg_format_from_string("xml"), -EINVAL);
	ck_assert_int_eq(fg_format_from_string(""), -EINVAL);
	ck_assert_int_eq(fg_format_from_string(NULL), -EINVAL);
	ck_assert_ptr_null(fg_format_to_string(FG_FORMAT__COUNT));
	ck_assert_str_eq(fg_format_content_type(FG_FORMAT_SENML), "application/senml+json");
	ck_assert_str_eq(fg_format_content_type(FG_FORMAT_JSON), "application/json");
	ck_assert_ptr_null(fg_format_content_type(FG_FORMAT__COUNT));
}
END_TEST

START_TEST(gateway_topics)
{
	char buf[32];

	ck_assert_int_eq(fg_format_gateway_topic("gw1", "status", buf, sizeof(buf)), 20);
	ck_assert_str_eq(buf, "fieldgate/gw1/status");
	ck_assert_int_eq(fg_format_gateway_topic("gw1", "stats", buf, sizeof(buf)), 19);
	ck_assert_str_eq(buf, "fieldgate/gw1/stats");
	ck_assert_int_eq(
		fg_format_gateway_topic("a-very-long-gateway-name", "status", buf, sizeof(buf)),
		-ENOBUFS);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(fg_format_gateway_topic(NULL, "status", buf, sizeof(buf)), -EINVAL);
}
END_TEST

START_TEST(topic_expands_every_placeholder)
{
	struct fg_reading r;
	char buf[256];

	fg_reading_init(&r, FG_SOURCE_LORA, "a840410000000001", "soil-1", "moisture", "%RH");
	ck_assert_int_eq(fg_format_topic("fieldgate/{gateway}/{source}/{device}", "gw-1", &r, buf,
					 sizeof(buf)),
			 (int) strlen("fieldgate/gw-1/lora/a840410000000001"));
	ck_assert_str_eq(buf, "fieldgate/gw-1/lora/a840410000000001");
	ck_assert_int_gt(
		fg_format_topic("{name}/{quantity}:{device}{device}", "gw", &r, buf, sizeof(buf)),
		0);
	ck_assert_str_eq(buf, "soil-1/moisture:a840410000000001a840410000000001");
	ck_assert_int_eq(fg_format_topic("plain/topic", "gw", &r, buf, sizeof(buf)), 11);
	ck_assert_str_eq(buf, "plain/topic");
	ck_assert_int_eq(fg_format_topic("", "gw", &r, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	/* A lone '}' is literal text. */
	ck_assert_int_gt(fg_format_topic("a}/{source}", "gw", &r, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "a}/lora");
}
END_TEST

START_TEST(topic_sanitizes_values)
{
	struct fg_reading r;
	char buf[256];

	fg_reading_init(&r, FG_SOURCE_BLE, "A4:C1:38:00:11:22", "living room/#1+\t\x01\xc3\xa9",
			"temp/+", "");
	ck_assert_int_gt(fg_format_topic("f/{gateway}/{source}/{device}/{name}/{quantity}",
					 "gw/+#x y", &r, buf, sizeof(buf)),
			 0);
	ck_assert_str_eq(buf, "f/gw___x_y/ble/A4:C1:38:00:11:22/living_room__1_____/temp__");
}
END_TEST

START_TEST(topic_reports_small_buffer)
{
	struct fg_reading r;
	char buf[32];

	fg_reading_init(&r, FG_SOURCE_SIM, "sim-0001", NULL, "temperature", "Cel");
	/* "fieldgate/gw/sim/sim-0001" is 25 bytes: 26 fit, 25 do not. */
	ck_assert_int_eq(
		fg_format_topic("fieldgate/{gateway}/{source}/{device}", "gw", &r, buf, 26), 25);
	ck_assert_int_eq(
		fg_format_topic("fieldgate/{gateway}/{source}/{device}", "gw", &r, buf, 25),
		-ENOBUFS);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(fg_format_topic("fieldgate/{gateway}", "gw", &r, buf, 0), -ENOBUFS);
	ck_assert_int_eq(fg_format_topic("fieldgate/{gateway}", "gw", &r, buf, 5), -ENOBUFS);
}
END_TEST

START_TEST(topic_refuses_bad_placeholders)
{
	struct fg_reading r;
	char buf[64];

	fg_reading_init(&r, FG_SOURCE_SIM, "sim-0001", NULL, "temperature", "Cel");
	ck_assert_int_eq(fg_format_topic("f/{gateway}/{bogus}", "gw", &r, buf, sizeof(buf)),
			 -EINVAL);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(fg_format_topic("f/{}", "gw", &r, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(fg_format_topic("f/{Device}", "gw", &r, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(fg_format_topic("f/{{device}}", "gw", &r, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(fg_format_topic("f/{device", "gw", &r, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(fg_format_topic("f/{", "gw", &r, buf, sizeof(buf)), -EINVAL);
	/* Unknown wins over a small buffer: the template is wrong whatever the size. */
	ck_assert_int_eq(fg_format_topic("fieldgate/{nope}", "gw", &r, buf, 4), -EINVAL);
	ck_assert_int_eq(fg_format_topic(NULL, "gw", &r, buf, sizeof(buf)), -EINVAL);
}
END_TEST

static Suite *format_suite(void)
{
	Suite *s = suite_create("format");
	TCase *tc;

	tc = tcase_create("validator");
	tcase_add_test(tc, validator_refuses_invalid_json);
	suite_add_tcase(s, tc);

	tc = tcase_create("senml");
	tcase_add_test(tc, senml_sim_frame);
	tcase_add_test(tc, senml_base_time_trims_zeros);
	tcase_add_test(tc, senml_relative_time_only_when_times_differ);
	tcase_add_test(tc, senml_base_name_is_device_urn);
	tcase_add_test(tc, senml_unknown_time_has_no_base_time);
	tcase_add_test(tc, senml_bool_and_string);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_test(tc, json_sim_frame);
	tcase_add_test(tc, json_unknown_time_is_null);
	tcase_add_test(tc, json_bool_and_string);
	tcase_add_test(tc, json_radio_metadata);
	tcase_add_test(tc, json_duplicate_and_reserved_names_get_suffixes);
	tcase_add_test(tc, json_names_that_escape_alike_get_suffixes);
	suite_add_tcase(s, tc);

	tc = tcase_create("payload");
	tcase_add_test(tc, nan_and_infinity_are_left_out);
	tcase_add_test(tc, odd_names_and_values_are_escaped);
	tcase_add_test(tc, null_text_and_gateway_are_empty_strings);
	tcase_add_test(tc, numbers_keep_sensor_precision);
	tcase_add_test(tc, random_bytes_always_give_valid_json);
	tcase_add_test(tc, payload_refuses_bad_arguments);
	tcase_add_test(tc, names_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("topic");
	tcase_add_test(tc, topic_expands_every_placeholder);
	tcase_add_test(tc, gateway_topics);
	tcase_add_test(tc, topic_sanitizes_values);
	tcase_add_test(tc, topic_reports_small_buffer);
	tcase_add_test(tc, topic_refuses_bad_placeholders);
	tcase_add_test(tc, stamp_time_gives_the_payload_formatted_with_the_time);
	tcase_add_test(tc, stamp_time_refuses_what_is_not_ours);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(format_suite());
}
