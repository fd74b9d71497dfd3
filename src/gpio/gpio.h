/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * GPIO output lines (concentrator reset and power, rule actions) behind one
 * small seam. configure picks the implementation: gpio-v1.c for libgpiod 1.6
 * (Debian 12) or gpio-v2.c for libgpiod 2.x (Raspberry Pi OS trixie). Tests
 * and callers that need to swap the hardware use the ops table.
 *
 * A chip is named as "gpiochip0", "/dev/gpiochip0" or "0". Functions return
 * 0 or a negative errno and never log: the caller knows which line is for
 * what and says so.
 */

#include <stddef.h>

struct fg_gpio_line;

struct fg_gpio_ops {
	/* Request one line as an output driven to initial_value (0/1). */
	int (*line_request)(const char *chip, unsigned offset, int initial_value,
			    const char *consumer, struct fg_gpio_line **ret_line);
	/* Drive the line to value (0/1). */
	int (*line_set)(struct fg_gpio_line *line, int value);
	/* Release the line and free it; NULL is fine. */
	void (*line_release)(struct fg_gpio_line *line);
};

/* The libgpiod implementation chosen at configure time. */
const struct fg_gpio_ops *fg_gpio_default_ops(void);
/* "libgpiod v1" or "libgpiod v2". */
const char *fg_gpio_api_name(void);

/*
 * Turn a chip name into a device path in buf: "gpiochip0", "/dev/gpiochip0"
 * and "0" all give "/dev/gpiochip0". -EINVAL for anything else.
 */
int fg_gpio_chip_path(const char *chip, char *buf, unsigned size);

/*
 * A line as a setting names it: "CHIP:LINE" (CHIP as fg_gpio_chip_path takes
 * it, or "sim"), "LINE" alone on gpiochip0, or "none". LINE is the chip's
 * line offset (the BCM number on a Raspberry Pi), 0..1023. Returns 0 and
 * fills chip (the chip as written, "gpiochip0" for a bare number) and
 * *ret_line, 1 for "none" (nothing filled), -EINVAL for anything else.
 */
int fg_gpio_spec_parse(const char *spec, char *chip, size_t chip_size, unsigned *ret_line);
