/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * BLE advertisements to readings: pick the advertiser's device (ble.devices,
 * or any advertiser in a known format with ble.unknown = "decode"), its
 * format (configured, or detected from the UUID/company id), decode, throttle
 * to one reading per device per min_interval, and emit one batch with the
 * RSSI. Encrypted formats' counters live in the buffer's device state (key
 * "ble_counter"), written with the readings. Refusals are counted and logged,
 * rate-limited per device (module "ble").
 */

#include <stdbool.h>
#include <stdint.h>

#include "codec/ble.h"
#include "config/config.h"
#include "core/reading.h"
#include "source/ble.h"

struct fg_ble_rx;

struct fg_ble_state_ops {
	/* 0 and *ret_last, -ENOENT when none, another negative errno on failure */
	int (*get_counter)(void *userdata, const char *device, uint32_t *ret_last);
	int (*set_counter)(void *userdata, const char *device, uint32_t counter);
	void *userdata;
};

struct fg_ble_rx_stats {
	uint64_t adverts;	/* handed to fg_ble_rx_handle */
	uint64_t ignored;	/* not ours (ble.unknown = ignore, or no known format) */
	uint64_t decoded;	/* turned into readings */
	uint64_t throttled;	/* decoded within min_interval of the last reading */
	uint64_t malformed;	/* -EBADMSG */
	uint64_t unauthenticated; /* -EACCES: no bindkey, or a wrong one */
	uint64_t replayed;	/* -ESTALE */
};

/* cfg must outlive the object. Returns 0 or -ENOMEM. */
int fg_ble_rx_new(const struct fg_config *cfg, const struct fg_ble_state_ops *ops,
		  struct fg_ble_rx **ret);
void fg_ble_rx_free(struct fg_ble_rx *x);
/* Decode one advertisement; emits at most one batch. */
void fg_ble_rx_handle(struct fg_ble_rx *x, const struct fg_ble_adv *adv, fg_reading_fn emit,
		      void *userdata);
/* Whether the source should keep this advertiser in bluetoothd. */
bool fg_ble_rx_wanted(struct fg_ble_rx *x, const char *address);
void fg_ble_rx_get_stats(const struct fg_ble_rx *x, struct fg_ble_rx_stats *ret);
