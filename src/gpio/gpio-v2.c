/* SPDX-License-Identifier: GPL-3.0-or-later */
/* GPIO output lines through libgpiod 2.x (Raspberry Pi OS trixie). */
#include <errno.h>
#include <stdlib.h>

#include <gpiod.h>

#include "gpio/gpio.h"

struct fg_gpio_line {
	struct gpiod_line_request *req;
	unsigned offset;
};

static void v2_release(struct fg_gpio_line *l)
{
	if (!l)
		return;
	if (l->req)
		gpiod_line_request_release(l->req);
	free(l);
}

static int v2_request(const char *chip_name, unsigned offset, int initial_value,
		      const char *consumer, struct fg_gpio_line **ret_line)
{
	struct gpiod_line_settings *settings = NULL;
	struct gpiod_request_config *req_cfg = NULL;
	struct gpiod_line_config *line_cfg = NULL;
	struct gpiod_chip *chip = NULL;
	struct fg_gpio_line *l = NULL;
	char path[64];
	int r;

	r = fg_gpio_chip_path(chip_name, path, sizeof(path));
	if (r < 0)
		return r;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->offset = offset;
	r = -EIO;
	chip = gpiod_chip_open(path);
	if (!chip)
		goto errno_out;
	settings = gpiod_line_settings_new();
	line_cfg = gpiod_line_config_new();
	req_cfg = gpiod_request_config_new();
	if (!settings || !line_cfg || !req_cfg) {
		errno = ENOMEM;
		goto errno_out;
	}
	if (gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_OUTPUT) < 0 ||
	    gpiod_line_settings_set_output_value(settings, initial_value ? GPIOD_LINE_VALUE_ACTIVE
									  : GPIOD_LINE_VALUE_INACTIVE) < 0 ||
	    gpiod_line_config_add_line_settings(line_cfg, &offset, 1, settings) < 0)
		goto errno_out;
	gpiod_request_config_set_consumer(req_cfg, consumer);
	/* The request holds its own fd: the chip can be closed once it is made. */
	l->req = gpiod_chip_request_lines(chip, req_cfg, line_cfg);
	if (!l->req)
		goto errno_out;
	*ret_line = l;
	l = NULL;
	r = 0;
	goto out;
errno_out:
	if (errno)
		r = -errno;
out:
	gpiod_request_config_free(req_cfg);
	gpiod_line_config_free(line_cfg);
	gpiod_line_settings_free(settings);
	if (chip)
		gpiod_chip_close(chip);
	v2_release(l);
	return r;
}

static int v2_set(struct fg_gpio_line *l, int value)
{
	if (gpiod_line_request_set_value(l->req, l->offset,
					 value ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE) < 0)
		return errno ? -errno : -EIO;
	return 0;
}

static const struct fg_gpio_ops v2_ops = {
	.line_request = v2_request,
	.line_set = v2_set,
	.line_release = v2_release,
};

const struct fg_gpio_ops *fg_gpio_default_ops(void)
{
	return &v2_ops;
}

const char *fg_gpio_api_name(void)
{
	return "libgpiod v2";
}
