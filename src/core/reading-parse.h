/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Readings back from JSON: one line as fg_reading_to_json writes it (what
 * `fieldgated --dry-run` prints), for `fieldgatectl rules test`. The input
 * is a file an operator hands us: hostile until parsed.
 *
 * Required members: "device" (a device id fg_reading_name_valid accepts,
 * or a BLE address), "source" (sim, lora, ble, gateway), "quantity"
 * (fg_reading_name_valid), "value" (number, true/false, or a string).
 * Optional: "name" (default: the device id), "unit", "time" (ms since the
 * epoch, or null), "mono_us", "boot_id", "frame", and the radio metadata
 * "rssi", "snr", "freq", "sf", "bw", "dr" (any of them makes radio.present).
 * Unknown members are ignored (later versions may add some).
 */

#include <stddef.h>

#include "core/reading.h"

/*
 * Parse one line (len bytes, need not be NUL-terminated) into *r. A string
 * value is copied into text (text_size bytes) and r->text points there.
 * Returns 0, or -EINVAL with a one-line reason in err ("\"value\" is
 * missing", "\"time\": expected milliseconds since 1970 or null", ...),
 * -E2BIG for a line over 64 KiB or a string value that does not fit text.
 */
int fg_reading_from_json(const char *line, size_t len, struct fg_reading *r, char *text,
			 size_t text_size, char *err, size_t err_size);
