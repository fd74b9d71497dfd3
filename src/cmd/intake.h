/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Command intake: a message on a command topic to its one outcome. A wiring
 * module (it logs): it parses the message (cmd/command.h), names the
 * device it is for (the LoRa module), encodes an "object" with the
 * device's codec, puts a downlink in the durable queue (cmd/queue.h) and
 * tells the LoRa module (a class C device is sent to at once), or drives a
 * GPIO line declared in commands.gpio. A refused command gets its failed
 * outcome, a rate-limited log line naming the topic, and a count; nothing
 * from the network can stop the daemon.
 *
 * Everything is done before fg_cmd_intake_message returns, the buffer
 * written and synced: the sink acknowledges the message to the broker only
 * after that (sink/mqtt.h).
 *
 * GPIO lines of commands.gpio are requested at start, driven to their
 * initial level, and held; a reload keeps the level of a line it keeps
 * (same chip and line), so a valve a command opened stays open.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "cmd/queue.h"
#include "config/config.h"
#include "gpio/gpio.h"
#include "source/lora.h"

struct fg_cmd_intake;

struct fg_cmd_intake_stats {
	uint64_t ignored;	/* messages on topics outside commands.topic */
	uint64_t gpio_sets;	/* levels driven by commands */
	uint64_t gpio_failures; /* requests or sets that failed */
	uint64_t storage_failures; /* commands the buffer could not keep (no outcome possible) */
};

/*
 * Intake for cfg (which must outlive it) over queue q. gateway_id expands
 * {gateway} in commands.topic. ops NULL: fg_gpio_default_ops() (the "sim"
 * chip is always the simulated one). old (the intake of the previous
 * configuration, or NULL) hands over its GPIO lines and is freed. wrote is
 * called after anything was written to the outbox (the daemon kicks the
 * sink). Returns 0 or a negative errno (logged).
 */
int fg_cmd_intake_new(const struct fg_config *cfg, const char *gateway_id, sd_event *loop,
		      struct fg_cmdq *q, const struct fg_gpio_ops *ops, struct fg_cmd_intake *old,
		      void (*wrote)(void *userdata), void *userdata, struct fg_cmd_intake **ret);
void fg_cmd_intake_free(struct fg_cmd_intake *in);

/* The LoRa module of the current sources (NULL: none runs; downlinks fail unknown-device). */
void fg_cmd_intake_set_lora(struct fg_cmd_intake *in, struct fg_lora *lora);

/* The subscription filter: commands.topic expanded, plus "#". */
const char *fg_cmd_intake_filter(const struct fg_cmd_intake *in);

/*
 * One message from the broker. response_topic/correlation: MQTT 5
 * properties of the PUBLISH (NULL/0 when none or MQTT 3.1.1). Returns 0 when
 * the message is dealt with (done, queued, or refused with its outcome), or a
 * negative errno when the buffer could not keep it or its outcome: the sink
 * then withholds the PUBACK, and the broker sends it again.
 */
int fg_cmd_intake_message(struct fg_cmd_intake *in, const char *topic, const void *payload,
			  size_t len, const char *response_topic, const void *correlation,
			  size_t correlation_len);

void fg_cmd_intake_get_stats(const struct fg_cmd_intake *in, struct fg_cmd_intake_stats *ret);
