/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/reading.h"
#include "check-main.h"

START_TEST(reading_init_fills_identity_and_defaults)
{
	struct fg_reading r;

	ck_assert_int_eq(fg_reading_init(&r, FG_SOURCE_LORA, "a840410000000001", "soil-1",
					 "temperature", "Cel"), 0);
	ck_assert_str_eq(r.device_id, "a840410000000001");
	ck_assert_str_eq(r.device_name, "soil-1");
	ck_assert_str_eq(r.quantity, "temperature");
	ck_assert_str_eq(r.unit, "Cel");
	ck_assert_int_eq(r.source, FG_SOURCE_LORA);
	ck_assert_int_eq(r.kind, FG_VALUE_NUMBER);
	ck_assert_int_eq(r.radio.dr, -1);
	ck_assert(!r.radio.present);
	ck_assert_uint_eq(r.time_ms, 0);
}
END_TEST

START_TEST(reading_name_defaults_to_device_id)
{
	struct fg_reading r;

	ck_assert_int_eq(fg_reading_init(&r, FG_SOURCE_BLE, "A4:C1:38:00:11:22", NULL, "humidity",
					 "%RH"), 0);
	ck_assert_str_eq(r.device_name, "A4:C1:38:00:11:22");
}
END_TEST

START_TEST(reading_init_refuses_oversized_fields)
{
	struct fg_reading r;
	char long_q[FG_QUANTITY_MAX + 1];

	memset(long_q, 'q', sizeof(long_q) - 1);
	long_q[sizeof(long_q) - 1] = '\0';
	ck_assert_int_eq(fg_reading_init(&r, FG_SOURCE_SIM, "d", "d", long_q, ""), -ENAMETOOLONG);
	/* One shorter fits exactly. */
	long_q[FG_QUANTITY_MAX - 1] = '\0';
	ck_assert_int_eq(fg_reading_init(&r, FG_SOURCE_SIM, "d", "d", long_q, ""), 0);
}
END_TEST

START_TEST(reading_source_names_round_trip)
{
	for (int k = 0; k < FG_SOURCE__COUNT; k++)
		ck_assert_int_eq(fg_source_kind_from_string(fg_source_kind_to_string(k)), k);
	ck_assert_str_eq(fg_source_kind_to_string(FG_SOURCE_BLE), "ble");
	ck_assert_int_eq(fg_source_kind_from_string("zigbee"), -EINVAL);
	ck_assert_ptr_null(fg_source_kind_to_string(FG_SOURCE__COUNT));
	ck_assert_str_eq(fg_value_kind_to_string(FG_VALUE_BOOL), "bool");
}
END_TEST

START_TEST(reading_name_validation)
{
	ck_assert(fg_reading_name_valid("temperature"));
	ck_assert(fg_reading_name_valid("A4:C1:38:00:11:22"));
	ck_assert(fg_reading_name_valid("sim-0001"));
	ck_assert(!fg_reading_name_valid(""));
	ck_assert(!fg_reading_name_valid("a/b"));
	ck_assert(!fg_reading_name_valid("a+b"));
	ck_assert(!fg_reading_name_valid("a#"));
	ck_assert(!fg_reading_name_valid("with space"));
}
END_TEST

START_TEST(reading_json_number)
{
	struct fg_reading r;
	char buf[1024];
	int n;

	fg_reading_init(&r, FG_SOURCE_SIM, "sim-0001", "sim-0001", "temperature", "Cel");
	fg_reading_set_number(&r, 21.53);
	r.time_ms = 1764039446123ULL;
	r.mono_usec = 42;
	strcpy(r.boot_id, "0123456789abcdef0123456789abcdef");
	r.frame_id = 7;
	n = fg_reading_to_json(&r, buf, sizeof(buf));
	ck_assert_int_eq(n, (int)strlen(buf));
	ck_assert_str_eq(buf, "{\"device\":\"sim-0001\",\"name\":\"sim-0001\",\"source\":\"sim\","
			      "\"quantity\":\"temperature\",\"value\":21.53,\"unit\":\"Cel\","
			      "\"time\":1764039446123,\"mono_us\":42,"
			      "\"boot_id\":\"0123456789abcdef0123456789abcdef\",\"frame\":7}");
}
END_TEST

START_TEST(reading_json_unknown_time_is_null_and_radio_meta_included)
{
	struct fg_reading r;
	char buf[1024];

	fg_reading_init(&r, FG_SOURCE_LORA, "26011f2a", "soil", "open", "");
	fg_reading_set_bool(&r, true);
	r.radio = (struct fg_radio_meta){ .present = true, .rssi = -97, .snr = 7.5f,
					  .freq_hz = 868100000, .sf = 7, .bw_hz = 125000, .dr = 5 };
	ck_assert_int_gt(fg_reading_to_json(&r, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "{\"device\":\"26011f2a\",\"name\":\"soil\",\"source\":\"lora\","
			      "\"quantity\":\"open\",\"value\":true,\"time\":null,\"mono_us\":0,"
			      "\"boot_id\":\"\",\"frame\":0,\"rssi\":-97,\"snr\":7.5,"
			      "\"freq\":868100000,\"sf\":7,\"bw\":125000,\"dr\":5}");
}
END_TEST

START_TEST(reading_json_escapes_strings_and_nan)
{
	struct fg_reading r;
	char buf[1024];

	fg_reading_init(&r, FG_SOURCE_BLE, "x", "a \"quoted\"\\name\n", "note", "");
	fg_reading_set_text(&r, "tab\there\x01");
	ck_assert_int_gt(fg_reading_to_json(&r, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"name\":\"a \\\"quoted\\\"\\\\name\\n\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"value\":\"tab\\u0009here\\u0001\""));

	fg_reading_set_number(&r, NAN);
	ck_assert_int_gt(fg_reading_to_json(&r, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"value\":null"));
	fg_reading_set_number(&r, INFINITY);
	ck_assert_int_gt(fg_reading_to_json(&r, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"value\":null"));
}
END_TEST

START_TEST(reading_json_reports_small_buffer)
{
	struct fg_reading r;
	char buf[40];

	fg_reading_init(&r, FG_SOURCE_SIM, "sim-0001", NULL, "temperature", "Cel");
	ck_assert_int_eq(fg_reading_to_json(&r, buf, sizeof(buf)), -ENOBUFS);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(fg_reading_to_json(&r, buf, 0), -ENOBUFS);
}
END_TEST

static Suite *reading_suite(void)
{
	Suite *s = suite_create("reading");
	TCase *tc = tcase_create("model");

	tcase_add_test(tc, reading_init_fills_identity_and_defaults);
	tcase_add_test(tc, reading_name_defaults_to_device_id);
	tcase_add_test(tc, reading_init_refuses_oversized_fields);
	tcase_add_test(tc, reading_source_names_round_trip);
	tcase_add_test(tc, reading_name_validation);
	suite_add_tcase(s, tc);
	tc = tcase_create("json");
	tcase_add_test(tc, reading_json_number);
	tcase_add_test(tc, reading_json_unknown_time_is_null_and_radio_meta_included);
	tcase_add_test(tc, reading_json_escapes_strings_and_nan);
	tcase_add_test(tc, reading_json_reports_small_buffer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(reading_suite());
}
