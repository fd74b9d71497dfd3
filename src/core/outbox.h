/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * An outbox message: what the store hands the sink. The sink sees these,
 * never readings; the store never sees MQTT. Both include this header.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One message for the sink. Strings and payload are valid during the callback only. */
struct fg_outbox_msg {
	uint64_t seq;            /* gateway-wide, strictly increasing */
	const char *topic;
	const void *payload;
	size_t payload_len;
	int qos;
	bool retain;
	uint64_t created_ms;     /* wall ms of the oldest reading in it, 0 if unknown */
	uint64_t created_mono_usec;
	const void *correlation; /* MQTT 5 correlation data (a command's outcome on its response topic) */
	size_t correlation_len;  /* 0: none */
};

/* Called per message by a peek; a negative return stops the peek. */
typedef int (*fg_outbox_fn)(const struct fg_outbox_msg *m, void *userdata);
