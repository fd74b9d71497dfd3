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
 * Give a payload made while the wall clock was unknown its time (ms since
 * the epoch): a SenML pack gets "bt" in its first record, a flat object its
 * "time" in place of null. The format is told by the payload itself, as the
 * buffer may hold messages made under another configuration. Returns 0 and
 * a malloc'd, NUL-terminated payload, -EEXIST when it already has a time,
 * -EPROTONOSUPPORT when it is neither of our formats, -EINVAL, -ENOMEM.
 */
int fg_format_stamp_time(const void *payload, size_t len, uint64_t time_ms, char **ret_payload,
			 size_t *ret_len);

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

/*
 * The gateway's own topics, one place for all who publish or name them:
 * "fieldgate/<gateway>/<leaf>" for leaf "status" (the retained online/offline
 * state and its Last Will) and "stats" (the health record's default; it is
 * mqtt.stats_topic, expanded with fg_format_topic). Returns the
 * length, -ENOBUFS if it does not fit (buf holds ""), -EINVAL for NULLs.
 */
int fg_format_gateway_topic(const char *gateway, const char *leaf, char *buf, size_t size);

/*
 * Additions to the contract above:
 *
 * fg_format_payload also returns -EINVAL for an unknown format or NULL
 * arguments, and -ENODATA for a SenML frame whose every reading is a NaN or
 * infinite number (SenML has no null value, so such records are left out).
 * The flat format leaves such quantities out too. Payloads are always valid
 * JSON and valid UTF-8: bytes of device names or string values that are not
 * well-formed UTF-8 become U+FFFD.
 *
 * fg_format_topic also returns -EINVAL for a '{' without its '}' and for NULL
 * arguments; space is replaced like the other non-printable bytes. buf holds
 * "" after any error.
 */

/*
 * The IANA Private Enterprise Number in SenML base names of devices whose id is
 * not an EUI-48/EUI-64 (urn:dev:org:<PEN>-fieldgate.<source>:<id>:). fieldgate
 * has none; 32473 is the documentation PEN of RFC 5612. An organisation with
 * its own PEN builds with -DFG_FORMAT_URN_PEN=<n>.
 */
#ifndef FG_FORMAT_URN_PEN
#define FG_FORMAT_URN_PEN 32473
#endif
