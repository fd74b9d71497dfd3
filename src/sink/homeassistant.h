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
 *   payload  JSON: name (the quantity), unique_id
 *            "fieldgate_<gateway>_<device>_<quantity>" sanitized to
 *            [A-Za-z0-9_], default_entity_id (object_id's successor since
 *            Home Assistant 2025.10, which ignores object_id from 2026.4)
 *            "sensor.<device name or id>_<quantity>" slugified as Home
 *            Assistant does, state_topic (the reading's topic as published),
 *            value_template picking the quantity out of the SenML pack
 *            ({% set r = value_json | selectattr('n', 'eq', 'temperature') |
 *            list %}{{ r[0].v if r and r[0].v is defined else '' }}, .vb for
 *            booleans, .vs for strings) or the flat object
 *            ({{ value_json['temperature'] if 'temperature' in value_json
 *            else '' }}, with fg_format_payload's "_2" for a quantity named
 *            like one of its fixed keys), unit_of_measurement in Home
 *            Assistant's spelling (Cel -> °C, %RH -> %, Pa -> Pa, ...),
 *            device_class where Home Assistant takes our unit as is,
 *            state_class ("measurement"; "total" for energy,
 *            "measurement_angle" for wind direction), expire_after,
 *            availability (the gateway's status topic: value_template
 *            {{ value_json.state }}, "online"/"offline", its Last Will
 *            "offline"), a device object (identifiers
 *            ["fieldgate_<gateway>_<device>"], name the device name or id,
 *            model the source, manufacturer "fieldgate", serial_number the
 *            DevEUI or BLE address, via_device "fieldgate_<gateway>", the
 *            gateway device of fg_ha_gateway_discovery) and origin (name
 *            "fieldgate", sw_version).
 *
 *   A message without the quantity (a deadband rule leaves out what did not
 *   move) renders '' (numeric and binary: Home Assistant keeps the state)
 *   or this.state (strings): never an undefined value, which Home
 *   Assistant reports as a template error.
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
 * Home Assistant's spelling of a SenML unit ("Cel" -> "°C", "/" -> "%"), or
 * the unit itself. "" where Home Assistant's unit is None ("pH"): then no
 * unit_of_measurement is published. NULL gives NULL. Static strings.
 */
const char *fg_ha_unit(const char *unit);

/*
 * How Home Assistant shows a quantity in a SenML unit: its unit, device
 * class (NULL: none), and HA value = SenML value * scale + offset (a ratio
 * "/" in % or, for gases, ppm; dBW in dBm). boolean: a binary_sensor's class.
 */
struct fg_ha_view {
	const char *unit;
	const char *device_class;
	double scale;
	double offset;
};
void fg_ha_view(const char *quantity, const char *unit, bool boolean, struct fg_ha_view *ret);

/*
 * Build the discovery config for reading r as published on state_topic in
 * format f. expire_after_s 0 leaves it out. Returns 0 with malloc'd topic
 * and payload (valid JSON, valid UTF-8), -EINVAL, -ENOMEM; ret_* are written
 * only on success.
 *
 * -EINVAL: NULL arguments; an empty prefix, one ending in '/' or holding
 * '+'/'#'; an empty gateway; an empty state or status topic or one holding '+'/'#'; an
 * unknown format, value kind or source; an empty or unterminated device id;
 * a quantity that fg_reading_name_valid refuses (it is spelled into a Jinja
 * string literal and must be its own SenML name and flat key).
 *
 * Not known from one reading: a frame with the same quantity twice, whose
 * second one fg_format_payload's flat object calls "<quantity>_2".
 */
int fg_ha_discovery(const char *prefix, const char *gateway, const char *status_topic,
		    const struct fg_reading *r, const char *state_topic, enum fg_format f,
		    uint32_t expire_after_s, char **ret_topic, char **ret_payload);

/*
 * The gateway itself as a Home Assistant device ("fieldgate_<gateway>", the
 * via_device of every device's sensors): entity i (0 to
 * fg_ha_gateway_entities() - 1) of its health record, the JSON object
 * published on stats_topic, as a diagnostic sensor (entity_category
 * "diagnostic"): uptime_s, buffer_depth, oldest_age_s, disk_free, db_bytes,
 * readings_per_s, published_per_s, evicted, dropped, broker, version, and
 * clock_synchronized as a binary_sensor. Topic
 * <prefix>/<sensor|binary_sensor>/fieldgate_<gateway>/<key>/config; the
 * device has sw_version and, when serial is not NULL or "", serial_number
 * (the concentrator's EUI). Same availability and origin as above. Returns
 * 0 with malloc'd topic and payload, -ENOENT for i out of range, -EINVAL
 * (arguments as for fg_ha_discovery), -ENOMEM.
 */
size_t fg_ha_gateway_entities(void);
int fg_ha_gateway_discovery(const char *prefix, const char *gateway, const char *status_topic,
			    const char *stats_topic, const char *serial, size_t i, char **ret_topic,
			    char **ret_payload);
