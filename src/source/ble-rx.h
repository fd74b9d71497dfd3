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

/* One advertiser as `fieldgatectl devices` shows it. Strings belong to x (or the config). */
struct fg_ble_rx_device_info {
	const char *name;	/* its name in ble.devices; a stranger's is its address */
	const char *address;	/* "A4:C1:38:00:11:22" */
	bool configured;	/* in ble.devices (else heard with ble.unknown = "decode") */
	uint64_t last_ms;	/* wall time of the last reading, 0 none since start */
	uint64_t readings;	/* emitted since start */
	uint64_t refused;	/* advertisements refused (malformed, unauthenticated, replayed) */
	bool has_rssi;
	int rssi;		/* of the last reading's advertisement */
	int format;		/* enum fg_ble_format of the last one decoded or refused, -1 none */
};
/*
 * Advertiser i (0.. while it returns 0): the configured devices in their
 * order, then the strangers decoded or refused lately (at most 256, oldest
 * first); -ENOENT past the last.
 */
int fg_ble_rx_device_info(const struct fg_ble_rx *x, size_t i, struct fg_ble_rx_device_info *ret);
