/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Home Assistant MQTT discovery (mqtt.homeassistant): one retained config
 * message per device and quantity, so sensors appear in Home Assistant by
 * themselves with the right device class, unit and state class. Pure: text
 * in, text out, no I/O, never logs.
 *
 *   topic    <prefix>/sensor/fieldgate_<gateway>_<device>/<quantity>/config
 *            (binary_sensor for boolean readings); the node and object ids
 *            sanitized to [A-Za-z0-9_-] (Home Assistant's rule for them)
 *   payload  JSON: name (the quantity), unique_id and object_id
 *            "fieldgate_<gateway>_<device>_<quantity>" sanitized to
 *            [A-Za-z0-9_], state_topic (the reading's topic as published),
 *            value_template picking the quantity out of the SenML pack
 *            ({{ (value_json | selectattr('n', 'eq', 'temperature') | first).v }},
 *            .vb for booleans, .vs for strings) or the flat object
 *            ({{ value_json['temperature'] }}, with fg_format_payload's "_2"
 *            for a quantity named like one of its fixed keys),
 *            unit_of_measurement in Home Assistant's spelling (Cel -> °C,
 *            %RH -> %, Pa -> Pa, ...), device_class where Home Assistant
 *            takes our unit as is, state_class ("measurement"; "total" for
 *            energy), expire_after, and a device object (identifiers
 *            ["fieldgate_<gateway>_<device>"], name the device name or id,
 *            model the source, manufacturer "fieldgate", via_device
 *            "fieldgate_<gateway>").
 *
 *   Booleans are binary_sensors with payload_on "true", payload_off "false"
 *   and a template printing those; strings are sensors with no unit, device
 *   class or state class. The unit/class table is in homeassistant.c.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/reading.h"
#include "sink/format.h"

/*
 * The Home Assistant device class for a quantity in a SenML unit, or NULL.
 * boolean: a binary_sensor class chosen by a word of the quantity ("door",
 * "motion", "water_leak" ...), the unit ignored. NULL arguments give NULL
 * (or, for a NULL quantity, the class the unit alone decides).
 */
const char *fg_ha_device_class(const char *quantity, const char *unit, bool boolean);
/*
 * Home Assistant's spelling of a SenML unit ("Cel" -> "°C"), or the unit
 * itself. "" where Home Assistant's unit is None ("/" and "pH"): then no
 * unit_of_measurement is published. NULL gives NULL. Static strings.
 */
const char *fg_ha_unit(const char *unit);

/*
 * Build the discovery config for reading r as published on state_topic in
 * format f. expire_after_s 0 leaves it out. Returns 0 with malloc'd topic
 * and payload (valid JSON, valid UTF-8), -EINVAL, -ENOMEM; ret_* are written
 * only on success.
 *
 * -EINVAL: NULL arguments; an empty prefix, one ending in '/' or holding
 * '+'/'#'; an empty gateway; an empty state topic or one holding '+'/'#'; an
 * unknown format, value kind or source; an empty or unterminated device id;
 * a quantity that fg_reading_name_valid refuses (it is spelled into a Jinja
 * string literal and must be its own SenML name and flat key).
 *
 * Not known from one reading: a frame with the same quantity twice, whose
 * second one fg_format_payload's flat object calls "<quantity>_2".
 */
int fg_ha_discovery(const char *prefix, const char *gateway, const struct fg_reading *r,
		    const char *state_topic, enum fg_format f, uint32_t expire_after_s,
		    char **ret_topic, char **ret_payload);
