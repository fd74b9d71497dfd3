/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * A simulated GPIO chip, named "sim" in settings ("sim:17"): no hardware,
 * no state kept beyond the line number. Requests and every level driven are
 * logged at info level (module "gpio"), "sim line 17 set to 1 (sx130x
 * reset)", so tests and a demo without a Raspberry Pi can watch a reset
 * sequence. It always succeeds.
 */

#include "gpio/gpio.h"

const struct fg_gpio_ops *fg_gpio_sim_ops(void);
