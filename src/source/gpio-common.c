/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "source/gpio.h"
#include "util/parse.h"

int fg_gpio_chip_path(const char *chip, char *buf, unsigned size)
{
	const char *num = NULL;
	uint64_t n;
	int len;

	if (!chip)
		return -EINVAL;
	if (strncmp(chip, "/dev/gpiochip", 13) == 0)
		num = chip + 13;
	else if (strncmp(chip, "gpiochip", 8) == 0)
		num = chip + 8;
	else
		num = chip;
	/* Digits only: nothing a config file says can walk out of /dev. */
	if (fg_parse_u64(num, 0, 1023, &n) < 0)
		return -EINVAL;
	len = snprintf(buf, size, "/dev/gpiochip%u", (unsigned)n);
	if (len < 0 || (unsigned)len >= size)
		return -ENAMETOOLONG;
	return 0;
}
