/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The devices of every source, one JSON object each, as `fieldgatectl
 * devices --json` prints them: the daemon builds them from its running
 * sources, fieldgatectl from the configuration and the buffer file when no
 * daemon answers, so the two have one shape. Every object has every key:
 *
 *   source        "lora", "ble" or "sim"
 *   name, id      its name, and the device id its readings carry
 *   configured    in lorawan.devices / ble.devices / sources.sim (false: a BLE
 *                 advertiser decoded under ble.unknown = "decode")
 *   last_seen_ms  wall time of its last reading (null: none since start)
 *   readings      readings emitted since start
 *   refused       frames or advertisements of it refused since start
 *   rssi, snr     of its last frame (snr: LoRa only)
 *   dev_eui, activation, joined, dev_addr, fcnt_up, fcnt_down   LoRaWAN
 *   address, format                                             BLE
 *
 * A key that does not apply to the source, or that only a running source
 * knows (readings, refused, last_seen_ms, rssi, ...) when it is not running,
 * is null.
 */

#include <stdint.h>

#include <jansson.h>

#include "config/config.h"

struct fg_lora;
struct fg_ble_rx;
struct fg_sim;

/* The running sources, each NULL when it does not run. */
struct fg_devices_sources {
	const struct fg_lora *lora;
	const struct fg_ble_rx *ble_rx;
	const struct fg_sim *sim;
};

/* A device's kept integer state (key "fcnt_up"): 0 and *ret, or a negative errno. */
typedef int (*fg_devices_state_fn)(const char *device, const char *key, int64_t *ret,
				   void *userdata);

/* Called with each device; it takes the reference. Returning negative stops the walk. */
typedef int (*fg_devices_fn)(json_t *device, void *userdata);

/*
 * Walk the devices: LoRaWAN, then BLE, then simulated ones (sim devices only
 * with sources.sim.enabled). state may be NULL. Returns 0, or what fn
 * returned to stop, or -ENOMEM.
 */
int fg_devices_each(const struct fg_config *cfg, const struct fg_devices_sources *src,
		    fg_devices_state_fn state, void *state_userdata, fg_devices_fn fn,
		    void *userdata);
