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
