/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gpio/gpio.h"
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

int fg_gpio_spec_parse(const char *spec, char *chip, size_t chip_size, unsigned *ret_line)
{
	const char *colon, *num;
	char path[64], name[64];
	uint64_t n;
	size_t len;

	if (!spec)
		return -EINVAL;
	if (!strcmp(spec, "none"))
		return 1;
	colon = strrchr(spec, ':');
	if (colon) {
		len = (size_t)(colon - spec);
		if (len == 0 || len >= sizeof(name))
			return -EINVAL;
		memcpy(name, spec, len);
		name[len] = '\0';
		if (strcmp(name, "sim") != 0 && fg_gpio_chip_path(name, path, sizeof(path)) < 0)
			return -EINVAL;
		num = colon + 1;
	} else {
		snprintf(name, sizeof(name), "gpiochip0");
		num = spec;
	}
	if (fg_parse_u64(num, 0, 1023, &n) < 0)
		return -EINVAL;
	if (strlen(name) >= chip_size)
		return -ENAMETOOLONG;
	memcpy(chip, name, strlen(name) + 1);
	*ret_line = (unsigned)n;
	return 0;
}
