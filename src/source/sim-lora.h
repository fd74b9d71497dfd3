/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Simulated LoRaWAN devices: every device of lorawan.devices whose codec is
 * cayenne or raw sends, every sources.sim.interval_ms, a real uplink (Cayenne
 * LPP temperature, humidity and battery voltage, encrypted and signed with its
 * keys, the frame counter going on from the last one the buffer accepted),
 * with made-up radio metadata, through the same path as frames from a radio.
 */

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config/config.h"
#include "core/reading.h"
#include "source/lora.h"

/* A frame as a radio would hand it over. */
typedef void (*fg_frame_fn)(const uint8_t *phy, size_t len, const struct fg_radio_meta *radio,
			    void *userdata);
/* The same, with the radio that heard it: the simulator's own (FG_LORA_VIA_SIM). */
typedef void (*fg_frame_from_fn)(const uint8_t *phy, size_t len,
				 const struct fg_radio_meta *radio,
				 const struct fg_lora_origin *origin, void *userdata);

struct fg_sim_lora;

/*
 * Start, or do nothing (*ret NULL, 0) when no device qualifies. ops gives the
 * last accepted counters. cfg must outlive the object. Returns 0 or a
 * negative errno.
 */
int fg_sim_lora_new(const struct fg_config *cfg, sd_event *loop,
		    const struct fg_lora_state_ops *ops, fg_frame_fn frame, void *userdata,
		    struct fg_sim_lora **ret);
void fg_sim_lora_free(struct fg_sim_lora *s);
/*
 * Hand frames to fn (with the same userdata), with origin FG_LORA_VIA_SIM,
 * instead of the frame callback of fg_sim_lora_new: downlinks then go back
 * to the simulator (fg_sim_lora_downlink). NULL: the frame callback again.
 */
void fg_sim_lora_set_frame_from(struct fg_sim_lora *s, fg_frame_from_fn fn);

/* Frames sent. */
uint64_t fg_sim_lora_sent(const struct fg_sim_lora *s);

/*
 * A downlink sent through FG_LORA_VIA_SIM, "received" by the simulated
 * device it is for (its DevAddr and a good MIC): a confirmed one gets the
 * ACK bit in that device's next uplink, as a real device sets it. Returns 0
 * taken, -ENOENT when it is for none of them (or s is NULL), -EBADMSG for a
 * frame that is not a good downlink.
 */
int fg_sim_lora_downlink(struct fg_sim_lora *s, const uint8_t *phy, size_t len);
/* Downlinks the simulated devices took. */
uint64_t fg_sim_lora_received(const struct fg_sim_lora *s);
