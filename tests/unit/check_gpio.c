/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * GPIO through libgpiod. There is no GPIO chip on CI machines (and no
 * gpio-sim), so these tests cover what runs anywhere: chip name handling,
 * the error path of a real libgpiod call, and the API the build chose.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpio/gpio.h"
#include "check-main.h"

START_TEST(gpio_chip_names_map_to_dev_paths)
{
	char buf[64];

	ck_assert_int_eq(fg_gpio_chip_path("gpiochip0", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/dev/gpiochip0");
	ck_assert_int_eq(fg_gpio_chip_path("/dev/gpiochip4", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/dev/gpiochip4");
	ck_assert_int_eq(fg_gpio_chip_path("12", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/dev/gpiochip12");
}
END_TEST

START_TEST(gpio_chip_name_with_junk_is_refused)
{
	static const char *const bad[] = { "", "gpiochip", "/dev/gpiochip", "../../etc/passwd",
					   "gpiochip0/../x", "-1", "gpiochip 0", "/dev/sda",
					   "99999", NULL };
	char buf[64];

	for (int i = 0; bad[i]; i++)
		ck_assert_msg(fg_gpio_chip_path(bad[i], buf, sizeof(buf)) == -EINVAL, "accepted '%s'",
			      bad[i]);
	ck_assert_int_eq(fg_gpio_chip_path(NULL, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(fg_gpio_chip_path("0", buf, 8), -ENAMETOOLONG);
}
END_TEST

START_TEST(gpio_request_on_missing_chip_fails_with_enoent)
{
	const struct fg_gpio_ops *ops = fg_gpio_default_ops();
	struct fg_gpio_line *line = NULL;

	if (access("/dev/gpiochip99", F_OK) == 0)
		return; /* a machine with 100 GPIO chips: nothing to prove here */
	ck_assert_int_eq(ops->line_request("gpiochip99", 17, 0, "fieldgate-test", &line), -ENOENT);
	ck_assert_ptr_null(line);
	ck_assert_int_eq(ops->line_request("/dev/gpiochip99", 17, 1, "fieldgate-test", &line),
			 -ENOENT);
	ck_assert_int_eq(ops->line_request("99", 17, 1, "fieldgate-test", &line), -ENOENT);
	ck_assert_int_eq(ops->line_request("../x", 17, 1, "fieldgate-test", &line), -EINVAL);
	ck_assert_ptr_null(line);
}
END_TEST

START_TEST(gpio_release_null_is_safe)
{
	fg_gpio_default_ops()->line_release(NULL);
}
END_TEST

START_TEST(gpio_api_matches_configure)
{
#if FG_GPIOD_API == 2
	ck_assert_str_eq(fg_gpio_api_name(), "libgpiod v2");
#else
	ck_assert_str_eq(fg_gpio_api_name(), "libgpiod v1");
#endif
}
END_TEST

static Suite *gpio_suite(void)
{
	Suite *s = suite_create("gpio");
	TCase *tc = tcase_create("chip");

	tcase_add_test(tc, gpio_chip_names_map_to_dev_paths);
	tcase_add_test(tc, gpio_chip_name_with_junk_is_refused);
	tcase_add_test(tc, gpio_request_on_missing_chip_fails_with_enoent);
	tcase_add_test(tc, gpio_release_null_is_safe);
	tcase_add_test(tc, gpio_api_matches_configure);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(gpio_suite());
}
