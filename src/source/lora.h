/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * LoRa frames to readings, whatever radio heard them (the packet forwarder
 * over GWMP, the SX130x concentrator, the simulator): find the device's
 * session by DevAddr, check and open the frame (lora/lorawan.h), decode
 * the payload with the device's codec (codec/codec.h), and emit one batch
 * of readings carrying the radio metadata.
 *
 * Frame counters live in the buffer's device state (key "fcnt_up"), written
 * in the same transaction as the frame's readings, so a restart cannot
 * reopen a replay window: the caller passes the get/set pair.
 *
 * Refusals are counted per reason and logged here, rate-limited per device
 * (module "lora"): the radio is outside input.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/codec.h"
#include "config/config.h"
#include "core/reading.h"
#include "lora/lorawan.h"

struct fg_lora;

/* The device state where frame counters persist (the store, in the daemon). */
struct fg_lora_state_ops {
	/* 0 and *ret_last, -ENOENT for a device never heard, or another negative errno */
	int (*get_fcnt)(void *userdata, const char *device, uint32_t *ret_last);
	int (*set_fcnt)(void *userdata, const char *device, uint32_t fcnt);
	void *userdata;
};

struct fg_lora_stats {
	uint64_t frames;		    /* handed to fg_lora_handle */
	uint64_t accepted;		    /* opened and decoded (or kept raw) */
	uint64_t refused[FG_LW_REASON__COUNT];
	uint64_t codec_failed;		    /* accepted, but the codec refused the payload */
	uint64_t forwarded;		    /* unknown DevAddr, forwarded raw */
};

/*
 * Sessions and codecs from cfg (lorawan.devices, codecs, region,
 * max_fcnt_gap, unknown); cfg must outlive the object. Returns 0 or -ENOMEM.
 */
int fg_lora_new(const struct fg_config *cfg, const struct fg_lora_state_ops *ops,
		struct fg_lora **ret);
void fg_lora_free(struct fg_lora *l);

/*
 * One PHYPayload heard with `radio` (its dr is filled here from sf/bw).
 * Emits the readings of an accepted frame (or of a forwarded unknown one)
 * as one batch through emit. Returns the frame's reason: FG_LW_OK for an
 * accepted or forwarded frame.
 */
enum fg_lw_reason fg_lora_handle(struct fg_lora *l, const uint8_t *phy, size_t len,
				 const struct fg_radio_meta *radio, fg_reading_fn emit,
				 void *userdata);

void fg_lora_get_stats(const struct fg_lora *l, struct fg_lora_stats *ret);

/* The configured device for a DevAddr, or NULL. */
const struct fg_lorawan_device *fg_lora_device(const struct fg_lora *l, uint32_t dev_addr);

/*
 * Decode an opened payload with the device's codec (fieldgatectl decode uses
 * it too). Returns 0 and *ret_n values, or a negative errno with why.
 */
int fg_lora_decode(const struct fg_lora *l, const struct fg_lorawan_device *d, int fport,
		   const uint8_t *p, size_t n, struct fg_codec_value *out, size_t max,
		   size_t *ret_n, char *why, size_t why_size);
