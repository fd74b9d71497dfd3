/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Payload formats and topic templates for the MQTT sink. Pure: bytes in,
 * bytes out, no I/O, never logs.
 *
 * A payload holds the readings of one device frame (same source, device and
 * frame_id) and the gateway-wide sequence number.
 */

#include <stddef.h>
#include <stdint.h>

#include "core/reading.h"

enum fg_format {
	FG_FORMAT_SENML, /* RFC 8428 SenML JSON pack, the default */
	FG_FORMAT_JSON,  /* one flat JSON object per frame */
	FG_FORMAT__COUNT,
};

const char *fg_format_to_string(enum fg_format f);
/* Returns the format, or -EINVAL for an unknown name. */
int fg_format_from_string(const char *s);
/* The MIME type for MQTT v5's content type: "application/senml+json" or "application/json". */
const char *fg_format_content_type(enum fg_format f);

/*
 * Build the payload for one frame's readings (n >= 1). gateway is the
 * gateway id. Returns 0 and a malloc'd, NUL-terminated payload with its
 * length, or a negative errno (-EINVAL for n == 0, -ENOMEM).
 */
int fg_format_payload(enum fg_format f, const struct fg_reading *r, size_t n, uint64_t seq,
		      const char *gateway, char **ret_payload, size_t *ret_len);

/*
 * Expand a topic template: {gateway}, {source}, {device} (device id),
 * {name} (device name) and {quantity} (the first reading's) are replaced;
 * characters that MQTT gives meaning to ('+', '#', '/' inside a value, NUL)
 * and anything outside printable ASCII are replaced by '_' in the values.
 * Returns the length, -ENOBUFS if it does not fit, -EINVAL for an unknown
 * placeholder.
 */
int fg_format_topic(const char *tmpl, const char *gateway, const struct fg_reading *r, char *buf,
		    size_t size);
