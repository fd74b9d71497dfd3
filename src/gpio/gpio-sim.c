/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulated GPIO chip: each request and level is an info line in the log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "gpio/gpio-sim.h"

struct fg_gpio_line {
	unsigned offset;
	char consumer[48];
};

static int sim_request(const char *chip, unsigned offset, int initial_value, const char *consumer,
		       struct fg_gpio_line **ret_line)
{
	struct fg_gpio_line *l = calloc(1, sizeof(*l));

	(void) chip;
	if (!l)
		return -ENOMEM;
	l->offset = offset;
	snprintf(l->consumer, sizeof(l->consumer), "%s", consumer ? consumer : "?");
	fg_log_info("gpio", "sim line %u requested as output, set to %d (%s)", offset,
		    initial_value ? 1 : 0, l->consumer);
	*ret_line = l;
	return 0;
}

static int sim_set(struct fg_gpio_line *l, int value)
{
	fg_log_info("gpio", "sim line %u set to %d (%s)", l->offset, value ? 1 : 0, l->consumer);
	return 0;
}

static void sim_release(struct fg_gpio_line *l)
{
	if (!l)
		return;
	fg_log_info("gpio", "sim line %u released (%s)", l->offset, l->consumer);
	free(l);
}

static const struct fg_gpio_ops sim_ops = {
	.line_request = sim_request,
	.line_set = sim_set,
	.line_release = sim_release,
};

const struct fg_gpio_ops *fg_gpio_sim_ops(void)
{
	return &sim_ops;
}
