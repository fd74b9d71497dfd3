/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The simulated source: N devices, each reporting temperature (Cel),
 * humidity (%RH) and battery (%EL) once per sources.sim.interval_ms, with
 * the devices' reports spread evenly over the interval. Values drift like
 * real rooms do (a slow daily swing, mean-reverting noise, a draining
 * battery), reproducibly for a given seed.
 */

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config/config.h"
#include "core/reading.h"

struct fg_sim;

/*
 * Create the source. With a loop, it adds a timer and emits on its own; with
 * loop NULL it does nothing until fg_sim_tick() is called (tests). cfg is
 * copied. Returns 0 or a negative errno.
 */
int fg_sim_new(const struct fg_sim_config *cfg, sd_event *loop, fg_reading_fn emit,
	       void *userdata, struct fg_sim **ret_sim);
void fg_sim_free(struct fg_sim *s);

/*
 * Emit every report due at now_usec (monotonic), in batches. Returns the
 * number of readings emitted. At most FG_SIM_MAX_PER_TICK devices report per
 * call (the timer comes back at once while reports are due); if the source
 * fell further behind than one whole interval (and at least a second), the
 * missed reports are skipped (and counted) rather than replayed in a burst.
 */
int fg_sim_tick(struct fg_sim *s, uint64_t now_usec);

/* Monotonic time (usec) of the next report. */
uint64_t fg_sim_next_due(const struct fg_sim *s);

/* Reports skipped because the loop could not keep up. */
uint64_t fg_sim_skipped(const struct fg_sim *s);

/* One simulated device as `fieldgatectl devices` shows it. */
struct fg_sim_device_info {
	const char *name;	/* also its device id: "sim-0001" (owned by s) */
	uint64_t readings;	/* emitted since start */
	uint64_t last_ms;	/* wall time of its last report, 0 none yet */
};
/* Device i (0.. while it returns 0); -ENOENT past the last. */
int fg_sim_device_info(const struct fg_sim *s, size_t i, struct fg_sim_device_info *ret);
/* Readings handed to the emit callback since creation. */
uint64_t fg_sim_emitted(const struct fg_sim *s);

#define FG_SIM_MAX_PER_TICK 128
#define FG_SIM_QUANTITIES 3
