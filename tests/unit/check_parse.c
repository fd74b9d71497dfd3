/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "util/parse.h"
#include "check-main.h"

START_TEST(parse_u64_accepts_range_and_rejects_junk)
{
	uint64_t v = 7;

	ck_assert_int_eq(fg_parse_u64("0", 0, 10, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(fg_parse_u64("10", 0, 10, &v), 0);
	ck_assert_uint_eq(v, 10);
	ck_assert_int_eq(fg_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	v = 7;
	ck_assert_int_eq(fg_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	ck_assert_int_eq(fg_parse_u64("11", 0, 10, &v), -ERANGE);
	ck_assert_int_eq(fg_parse_u64("4", 5, 10, &v), -ERANGE);
	ck_assert_int_eq(fg_parse_u64("", 0, 10, &v), -EINVAL);
	ck_assert_int_eq(fg_parse_u64(" 1", 0, 10, &v), -EINVAL);
	ck_assert_int_eq(fg_parse_u64("1 ", 0, 10, &v), -EINVAL);
	ck_assert_int_eq(fg_parse_u64("-1", 0, 10, &v), -EINVAL);
	ck_assert_int_eq(fg_parse_u64("+1", 0, 10, &v), -EINVAL);
	ck_assert_int_eq(fg_parse_u64("0x10", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(fg_parse_u64(NULL, 0, 10, &v), -EINVAL);
	/* Written only on success. */
	ck_assert_uint_eq(v, 7);
}
END_TEST

START_TEST(parse_i64_handles_signs_and_limits)
{
	int64_t v = 0;

	ck_assert_int_eq(fg_parse_i64("-40", -100, 100, &v), 0);
	ck_assert_int_eq(v, -40);
	ck_assert_int_eq(fg_parse_i64("+5", -100, 100, &v), 0);
	ck_assert_int_eq(v, 5);
	ck_assert_int_eq(fg_parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
	ck_assert(v == INT64_MIN);
	ck_assert_int_eq(fg_parse_i64("9223372036854775807", INT64_MIN, INT64_MAX, &v), 0);
	ck_assert(v == INT64_MAX);
	ck_assert_int_eq(fg_parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &v), -ERANGE);
	ck_assert_int_eq(fg_parse_i64("-9223372036854775809", INT64_MIN, INT64_MAX, &v), -ERANGE);
	ck_assert_int_eq(fg_parse_i64("-101", -100, 100, &v), -ERANGE);
	ck_assert_int_eq(fg_parse_i64("-", -100, 100, &v), -EINVAL);
	ck_assert_int_eq(fg_parse_i64("1.5", -100, 100, &v), -EINVAL);
}
END_TEST

START_TEST(parse_duration_units)
{
	uint64_t ms = 1;

	ck_assert_int_eq(fg_parse_duration_ms("0", &ms), 0);
	ck_assert_uint_eq(ms, 0);
	ck_assert_int_eq(fg_parse_duration_ms("30", &ms), 0);
	ck_assert_uint_eq(ms, 30000);
	ck_assert_int_eq(fg_parse_duration_ms("250ms", &ms), 0);
	ck_assert_uint_eq(ms, 250);
	ck_assert_int_eq(fg_parse_duration_ms("90s", &ms), 0);
	ck_assert_uint_eq(ms, 90000);
	ck_assert_int_eq(fg_parse_duration_ms("15m", &ms), 0);
	ck_assert_uint_eq(ms, 900000);
	ck_assert_int_eq(fg_parse_duration_ms("12h", &ms), 0);
	ck_assert_uint_eq(ms, 43200000);
	ck_assert_int_eq(fg_parse_duration_ms("7d", &ms), 0);
	ck_assert_uint_eq(ms, UINT64_C(604800000));
}
END_TEST

START_TEST(parse_duration_rejects_malformed)
{
	static const char *const bad[] = { "", "m", "5 m", "-1s", "1.5h", "5x", "5sec", "s5",
					   "10mm", NULL };
	uint64_t ms = 3;

	for (int i = 0; bad[i]; i++)
		ck_assert_msg(fg_parse_duration_ms(bad[i], &ms) == -EINVAL, "accepted '%s'", bad[i]);
	ck_assert_int_eq(fg_parse_duration_ms("99999999999999999d", &ms), -ERANGE);
	ck_assert_uint_eq(ms, 3);
}
END_TEST

START_TEST(parse_size_units)
{
	uint64_t b = 0;

	ck_assert_int_eq(fg_parse_size("512", &b), 0);
	ck_assert_uint_eq(b, 512);
	ck_assert_int_eq(fg_parse_size("64K", &b), 0);
	ck_assert_uint_eq(b, 65536);
	ck_assert_int_eq(fg_parse_size("64k", &b), 0);
	ck_assert_uint_eq(b, 65536);
	ck_assert_int_eq(fg_parse_size("256M", &b), 0);
	ck_assert_uint_eq(b, UINT64_C(268435456));
	ck_assert_int_eq(fg_parse_size("1GiB", &b), 0);
	ck_assert_uint_eq(b, UINT64_C(1073741824));
	ck_assert_int_eq(fg_parse_size("2T", &b), 0);
	ck_assert_uint_eq(b, UINT64_C(2) << 40);
	ck_assert_int_eq(fg_parse_size("16777216T", &b), -ERANGE);
	ck_assert_int_eq(fg_parse_size("1MB", &b), -EINVAL);
	ck_assert_int_eq(fg_parse_size("M", &b), -EINVAL);
	ck_assert_int_eq(fg_parse_size("1.5G", &b), -EINVAL);
}
END_TEST

static Suite *parse_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("integers");

	tcase_add_test(tc, parse_u64_accepts_range_and_rejects_junk);
	tcase_add_test(tc, parse_i64_handles_signs_and_limits);
	suite_add_tcase(s, tc);
	tc = tcase_create("units");
	tcase_add_test(tc, parse_duration_units);
	tcase_add_test(tc, parse_duration_rejects_malformed);
	tcase_add_test(tc, parse_size_units);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(parse_suite());
}
