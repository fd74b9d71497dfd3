/* SPDX-License-Identifier: GPL-3.0-or-later */
/* GPIO output lines through libgpiod 1.6 (Debian 12). */
#include <errno.h>
#include <stdlib.h>

#include <gpiod.h>

#include "gpio/gpio.h"

struct fg_gpio_line {
	struct gpiod_chip *chip;
	struct gpiod_line *line;
};

static void v1_release(struct fg_gpio_line *l)
{
	if (!l)
		return;
	if (l->line)
		gpiod_line_release(l->line);
	if (l->chip)
		gpiod_chip_close(l->chip);
	free(l);
}

static int v1_request(const char *chip, unsigned offset, int initial_value, const char *consumer,
		      struct fg_gpio_line **ret_line)
{
	struct fg_gpio_line *l;
	char path[64];
	int r;

	r = fg_gpio_chip_path(chip, path, sizeof(path));
	if (r < 0)
		return r;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->chip = gpiod_chip_open(path);
	if (!l->chip)
		goto fail;
	l->line = gpiod_chip_get_line(l->chip, offset);
	if (!l->line)
		goto fail;
	if (gpiod_line_request_output(l->line, consumer, initial_value ? 1 : 0) < 0) {
		/* Not requested: do not release it in the unwind. */
		r = -errno;
		l->line = NULL;
		v1_release(l);
		return r;
	}
	*ret_line = l;
	return 0;
fail:
	r = errno ? -errno : -EIO;
	v1_release(l);
	return r;
}

static int v1_set(struct fg_gpio_line *l, int value)
{
	if (gpiod_line_set_value(l->line, value ? 1 : 0) < 0)
		return errno ? -errno : -EIO;
	return 0;
}

static const struct fg_gpio_ops v1_ops = {
	.line_request = v1_request,
	.line_set = v1_set,
	.line_release = v1_release,
};

const struct fg_gpio_ops *fg_gpio_default_ops(void)
{
	return &v1_ops;
}

const char *fg_gpio_api_name(void)
{
	return "libgpiod v1";
}
