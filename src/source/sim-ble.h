/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Simulated BLE sensors: every device of ble.devices whose codec is bthome,
 * ruuvi5, atc1441 or auto (sent as BTHome) advertises, every
 * sources.sim.interval_ms, real advertisement bytes built by the format's
 * encoder, handed over as BlueZ would (struct fg_ble_adv) so the real
 * decoders read them.
 */

#include <systemd/sd-event.h>

#include "config/config.h"
#include "source/ble.h"

struct fg_sim_ble;

/* Start, or do nothing (*ret NULL, 0) when no device qualifies. cfg must outlive it. */
int fg_sim_ble_new(const struct fg_config *cfg, sd_event *loop, fg_ble_adv_fn fn, void *userdata,
		   struct fg_sim_ble **ret);
void fg_sim_ble_free(struct fg_sim_ble *s);
