/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/homeassistant.h"
#include "check-main.h"
#include "json-valid.h"

/* A reading as the sources make it. */
static struct fg_reading reading(enum fg_source_kind src, const char *id, const char *name,
				 const char *quantity, const char *unit)
{
	struct fg_reading r;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(fg_reading_init(&r, src, id, name, quantity, unit), 0);
	fg_reading_set_number(&r, 21.5);
	return r;
}

/* Run fg_ha_discovery, expect success and valid JSON; the caller frees both. */
static void discover(const char *gw, const struct fg_reading *r, const char *state_topic,
		     enum fg_format f, uint32_t expire, char **topic, char **payload)
{
	int e;

	*topic = NULL;
	*payload = NULL;
	char status[64];

	snprintf(status, sizeof(status), "fieldgate/%s/status", gw);
	e = fg_ha_discovery("homeassistant", gw, status, r, state_topic, f, expire, topic, payload);
	ck_assert_msg(e == 0, "fg_ha_discovery: %d", e);
	ck_assert_ptr_nonnull(*topic);
	ck_assert_ptr_nonnull(*payload);
	ck_assert_msg(json_valid(*payload, strlen(*payload)), "invalid JSON: %s", *payload);
}

START_TEST(senml_temperature_exact)
{
	struct fg_reading r = reading(FG_SOURCE_SIM, "sim-0001", "Kitchen", "temperature", "Cel");
	char *topic, *payload;

	discover("gw1", &r, "fieldgate/gw1/sim/sim-0001", FG_FORMAT_SENML, 0, &topic, &payload);
	ck_assert_str_eq(topic, "homeassistant/sensor/fieldgate_gw1_sim-0001/temperature/config");
	ck_assert_str_eq(
		payload,
		"{\"name\":\"temperature\","
		"\"unique_id\":\"fieldgate_gw1_sim_0001_temperature\","
		"\"default_entity_id\":\"sensor.kitchen_temperature\","
		"\"state_topic\":\"fieldgate/gw1/sim/sim-0001\","
		"\"value_template\":\"{% set r = value_json | selectattr('n', 'eq',"
		" 'temperature') | list %}{{ r[0].v if r and r[0].v is defined else '' }}\","
		"\"unit_of_measurement\":\"\xc2\xb0"
		"C\",\"device_class\":\"temperature\","
		"\"state_class\":\"measurement\","
		"\"availability\":[{\"topic\":\"fieldgate/gw1/status\","
		"\"value_template\":\"{{ value_json.state }}\","
		"\"payload_available\":\"online\","
		"\"payload_not_available\":\"offline\"}],"
		"\"device\":{\"identifiers\":[\"fieldgate_gw1_sim_0001\"],"
		"\"name\":\"Kitchen\",\"model\":\"sim\",\"manufacturer\":\"fieldgate\","
		"\"via_device\":\"fieldgate_gw1\"},\"origin\":{\"name\":\"fieldgate\","
		"\"sw_version\":\"" PACKAGE_VERSION "\"}}");
	free(topic);
	free(payload);
}
END_TEST

START_TEST(flat_humidity_exact)
{
	struct fg_reading r =
		reading(FG_SOURCE_BLE, "A4:C1:38:00:11:22", "Bedroom", "humidity", "%RH");
	char *topic, *payload;

	discover("gw1", &r, "fg/A4_C1", FG_FORMAT_JSON, 900, &topic, &payload);
	ck_assert_str_eq(topic,
			 "homeassistant/sensor/fieldgate_gw1_A4_C1_38_00_11_22/humidity/config");
	ck_assert_str_eq(payload,
			 "{\"name\":\"humidity\","
			 "\"unique_id\":\"fieldgate_gw1_A4_C1_38_00_11_22_humidity\","
			 "\"default_entity_id\":\"sensor.bedroom_humidity\","
			 "\"state_topic\":\"fg/A4_C1\","
			 "\"value_template\":\"{{ value_json['humidity'] if 'humidity' in "
			 "value_json else '' }}\","
			 "\"unit_of_measurement\":\"%\",\"device_class\":\"humidity\","
			 "\"state_class\":\"measurement\",\"expire_after\":900,"
			 "\"availability\":[{\"topic\":\"fieldgate/gw1/status\","
			 "\"value_template\":\"{{ value_json.state }}\","
			 "\"payload_available\":\"online\","
			 "\"payload_not_available\":\"offline\"}],"
			 "\"device\":{\"identifiers\":[\"fieldgate_gw1_A4_C1_38_00_11_22\"],"
			 "\"name\":\"Bedroom\",\"model\":\"ble\",\"manufacturer\":\"fieldgate\","
			 "\"via_device\":\"fieldgate_gw1\"},\"origin\":{\"name\":\"fieldgate\","
			 "\"sw_version\":\"" PACKAGE_VERSION "\"}}");
	free(topic);
	free(payload);
}
END_TEST

/* A flat key that fg_format_payload renames (a fixed key) is followed in the template. */
START_TEST(flat_reserved_key)
{
	struct fg_reading r = reading(FG_SOURCE_LORA, "0011223344556677", "n", "rssi", "dBm");
	char *topic, *payload, *fp = NULL;
	size_t len;

	discover("gw", &r, "t", FG_FORMAT_JSON, 0, &topic, &payload);
	ck_assert_ptr_nonnull(strstr(
		payload,
		"\"value_template\":\"{{ value_json['rssi_2'] if 'rssi_2' in value_json else "
		"'' }}\""));
	ck_assert_ptr_nonnull(strstr(payload, "\"device_class\":\"signal_strength\""));
	/* And the formatter really writes that key. */
	ck_assert_int_eq(fg_format_payload(FG_FORMAT_JSON, &r, 1, 1, "gw", &fp, &len), 0);
	ck_assert_ptr_nonnull(strstr(fp, "\"rssi_2\":21.5"));
	free(fp);
	free(topic);
	free(payload);
}
END_TEST

START_TEST(boolean_binary_sensor)
{
	struct fg_reading r = reading(FG_SOURCE_BLE, "dev1", "Hall", "door", "");
	char *topic, *payload;

	fg_reading_set_bool(&r, true);
	discover("gw", &r, "s/t", FG_FORMAT_SENML, 0, &topic, &payload);
	ck_assert_str_eq(topic, "homeassistant/binary_sensor/fieldgate_gw_dev1/door/config");
	ck_assert_str_eq(payload,
			 "{\"name\":\"door\",\"unique_id\":\"fieldgate_gw_dev1_door\","
			 "\"default_entity_id\":\"binary_sensor.hall_door\","
			 "\"state_topic\":\"s/t\","
			 "\"value_template\":\"{% set r = value_json | selectattr('n', 'eq',"
			 " 'door') | list %}{{ ('true' if r[0].vb else 'false') if r and r[0].vb "
			 "is defined else '' }}\","
			 "\"payload_on\":\"true\",\"payload_off\":\"false\","
			 "\"device_class\":\"door\","
			 "\"availability\":[{\"topic\":\"fieldgate/gw/status\","
			 "\"value_template\":\"{{ value_json.state }}\","
			 "\"payload_available\":\"online\","
			 "\"payload_not_available\":\"offline\"}],"
			 "\"device\":{\"identifiers\":[\"fieldgate_gw_dev1\"],\"name\":\"Hall\","
			 "\"model\":\"ble\",\"manufacturer\":\"fieldgate\","
			 "\"via_device\":\"fieldgate_gw\"},\"origin\":{\"name\":\"fieldgate\","
			 "\"sw_version\":\"" PACKAGE_VERSION "\"}}");
	free(topic);
	free(payload);

	/* Flat, and a quantity without a class: no device_class key at all. */
	r = reading(FG_SOURCE_BLE, "dev1", "Hall", "button_x", "");
	fg_reading_set_bool(&r, false);
	discover("gw", &r, "s/t", FG_FORMAT_JSON, 0, &topic, &payload);
	ck_assert_str_eq(topic, "homeassistant/binary_sensor/fieldgate_gw_dev1/button_x/config");
	ck_assert_ptr_nonnull(
		strstr(payload,
		       "\"value_template\":\"{{ ('true' if value_json['button_x'] else 'false') if "
		       "'button_x' in value_json else '' }}\""));
	ck_assert_ptr_null(strstr(payload, "device_class"));
	ck_assert_ptr_null(strstr(payload, "state_class"));
	ck_assert_ptr_null(strstr(payload, "unit_of_measurement"));
	free(topic);
	free(payload);
}
END_TEST

START_TEST(string_sensor)
{
	struct fg_reading r = reading(FG_SOURCE_BLE, "b1", "Beacon", "uuid", "Cel");
	char *topic, *payload;

	fg_reading_set_text(&r, "e2c56db5");
	discover("gw", &r, "s", FG_FORMAT_SENML, 60, &topic, &payload);
	ck_assert_str_eq(topic, "homeassistant/sensor/fieldgate_gw_b1/uuid/config");
	/* No unit, class or state class even with a unit set on the reading. */
	ck_assert_str_eq(
		payload,
		"{\"name\":\"uuid\",\"unique_id\":\"fieldgate_gw_b1_uuid\","
		"\"default_entity_id\":\"sensor.beacon_uuid\",\"state_topic\":\"s\","
		"\"value_template\":\"{% set r = value_json | selectattr('n', 'eq',"
		" 'uuid') | list %}{{ r[0].vs if r and r[0].vs is defined else this.state }}\","
		"\"expire_after\":60,"
		"\"availability\":[{\"topic\":\"fieldgate/gw/status\","
		"\"value_template\":\"{{ value_json.state }}\","
		"\"payload_available\":\"online\","
		"\"payload_not_available\":\"offline\"}],"
		"\"device\":{\"identifiers\":[\"fieldgate_gw_b1\"],\"name\":\"Beacon\","
		"\"model\":\"ble\",\"manufacturer\":\"fieldgate\","
		"\"via_device\":\"fieldgate_gw\"},\"origin\":{\"name\":\"fieldgate\","
		"\"sw_version\":\"" PACKAGE_VERSION "\"}}");
	free(topic);
	free(payload);
}
END_TEST

START_TEST(unit_table)
{
	static const struct {
		const char *senml, *ha;
	} rows[] = {
		{ "Cel", "\xc2\xb0\x43" },
		{ "%RH", "%" },
		{ "%EL", "%" },
		{ "%", "%" },
		{ "Pa", "Pa" },
		{ "hPa", "hPa" },
		{ "V", "V" },
		{ "A", "A" },
		{ "W", "W" },
		{ "J", "J" },
		{ "kWh", "kWh" },
		{ "lx", "lx" },
		{ "m", "m" },
		{ "s", "s" },
		{ "/", "%" },
		{ "dBW", "dBm" },
		{ "kg/m3", "kg/m3" },
		{ "S/m", "S/m" },
		{ "rad/s", "rad/s" },
		{ "m/s2", "m/s2" },
		{ "lat", "\xc2\xb0" },
		{ "lon", "\xc2\xb0" },
		{ "dBm", "dBm" },
		{ "ug/m3", "\xc2\xb5g/m\xc2\xb3" },
		{ "m3", "m\xc2\xb3" },
		{ "W/m2", "W/m\xc2\xb2" },
		{ "count", "count" },
		{ "pH", "" },
		{ "", "" },
		{ "furlong", "furlong" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		ck_assert_msg(strcmp(fg_ha_unit(rows[i].senml), rows[i].ha) == 0,
			      "%s -> %s, not %s", rows[i].senml, fg_ha_unit(rows[i].senml),
			      rows[i].ha);
	ck_assert_ptr_null(fg_ha_unit(NULL));
}
END_TEST

/* fg_ha_device_class gives expected (NULL: no class). */
static void assert_class(const char *q, const char *u, bool boolean, const char *expected)
{
	const char *c = fg_ha_device_class(q, u, boolean);

	ck_assert_msg(expected ? c && strcmp(c, expected) == 0 : c == NULL, "%s [%s]: %s, not %s",
		      q ? q : "(null)", u ? u : "(null)", c ? c : "none",
		      expected ? expected : "none");
}

START_TEST(device_classes)
{
	const char *none = NULL;

	assert_class("temperature", "Cel", false, "temperature");
	assert_class("dewpoint", "Cel", false, "temperature");
	assert_class("humidity", "%RH", false, "humidity");
	assert_class("battery", "%EL", false, "battery");
	assert_class("battery", "%", false, "battery");
	assert_class("moisture", "%", false, "moisture");
	assert_class("upstream_acked", "%", false, none);
	assert_class("pressure", "Pa", false, "pressure");
	assert_class("battery_voltage", "V", false, "voltage");
	assert_class("current", "A", false, "current");
	assert_class("power", "W", false, "power");
	assert_class("energy", "J", false, "energy");
	assert_class("illuminance", "lx", false, "illuminance");
	assert_class("altitude", "m", false, "distance");
	assert_class("uptime", "s", false, "duration");
	assert_class("tx_power", "dBm", false, "signal_strength");
	assert_class("rssi", "dB", false, "signal_strength");
	assert_class("level", "dB", false, none);
	assert_class("co2", "ppm", false, "carbon_dioxide");
	assert_class("co", "ppm", false, "carbon_monoxide");
	assert_class("count", "ppm", false, none); /* "co" is not a word of "count" */
	assert_class("pm25", "ug/m3", false, "pm25");
	assert_class("pm10", "ug/m3", false, "pm10");
	assert_class("wind_speed", "m/s", false, "wind_speed");
	assert_class("speed", "m/s", false, "speed");
	/* No class where HA would not take the unit as is. */
	assert_class("tx_power", "dBW", false, "signal_strength");
	/* A ratio: the gas classes in ppm, the percent classes in %. */
	assert_class("co2", "/", false, "carbon_dioxide");
	assert_class("moisture", "/", false, "moisture");
	assert_class("upstream_acked", "/", false, none);
	assert_class("pm25", "kg/m3", false, none);
	assert_class("conductivity", "S/m", false, none);
	assert_class("acceleration_x", "m/s2", false, none);
	assert_class("gyro", "rad/s", false, none);
	assert_class("latitude", "lat", false, none);
	assert_class("longitude", "lon", false, none);
	assert_class("power_factor", "/", false, "power_factor");
	assert_class("sum", "count", false, none);
	assert_class("temperature", "", false, none);
	assert_class("temperature", NULL, false, none);
	/* Booleans: binary_sensor classes by quantity word, unit ignored. */
	assert_class("door", "", true, "door");
	assert_class("garage_door", "", true, "garage_door");
	assert_class("front_door_open", "", true, "door");
	assert_class("motion", "", true, "motion");
	assert_class("water_leak", "", true, "moisture");
	assert_class("moisture", "", true, "moisture");
	assert_class("present", "", true, "presence");
	assert_class("window", "Cel", true, "window");
	assert_class("battery_low", "", true, "battery");
	assert_class("doorbell", "", true, none);
	assert_class("switch", "", true, none);
	assert_class(NULL, "", true, none);
}
END_TEST

/* Energy may not be "measurement" in HA: the state class follows the device class. */
START_TEST(energy_state_class)
{
	struct fg_reading r = reading(FG_SOURCE_LORA, "0011223344556677", "meter", "energy", "J");
	char *topic, *payload;

	discover("gw", &r, "t", FG_FORMAT_SENML, 0, &topic, &payload);
	ck_assert_ptr_nonnull(strstr(payload, "\"unit_of_measurement\":\"J\",\"device_class\":"
					      "\"energy\",\"state_class\":\"total\""));
	free(topic);
	free(payload);

	r = reading(FG_SOURCE_BLE, "b", "n", "conductivity", "S/m");
	discover("gw", &r, "t", FG_FORMAT_SENML, 0, &topic, &payload);
	ck_assert_ptr_nonnull(
		strstr(payload, "\"unit_of_measurement\":\"S/m\",\"state_class\":\"measurement\""));
	ck_assert_ptr_null(strstr(payload, "device_class"));
	free(topic);
	free(payload);

	r = reading(FG_SOURCE_BLE, "b", "n", "pH", "pH");
	discover("gw", &r, "t", FG_FORMAT_SENML, 0, &topic, &payload);
	ck_assert_ptr_null(strstr(payload, "unit_of_measurement"));
	ck_assert_ptr_nonnull(strstr(payload, "\"state_class\":\"measurement\""));
	free(topic);
	free(payload);
}
END_TEST

/*
 * A ratio (SenML "/", 0..1) is shown in % or ppm and dBW in dBm, the
 * template scaling the value; units HA takes as they are stay unscaled.
 */
START_TEST(scaled_units)
{
	static const struct {
		const char *quantity, *unit, *ha_unit, *device_class, *value;
		enum fg_format f;
	} rows[] = {
		{ "moisture", "/", "%", "moisture", "((value_json['moisture'] * 100) | round(6))",
		  FG_FORMAT_JSON },
		{ "co2", "/", "ppm", "carbon_dioxide", "((r[0].v * 1000000) | round(6))",
		  FG_FORMAT_SENML },
		{ "tx_power", "dBW", "dBm", "signal_strength", "((r[0].v * 1 + 30) | round(6))",
		  FG_FORMAT_SENML },
		{ "temperature", "Cel", "\xc2\xb0\x43", "temperature", "{{ r[0].v if", FG_FORMAT_SENML },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct fg_reading r = reading(FG_SOURCE_BLE, "b", "n", rows[i].quantity, rows[i].unit);
		char *topic, *payload, want[160];

		discover("gw", &r, "t", rows[i].f, 0, &topic, &payload);
		snprintf(want, sizeof(want), "\"unit_of_measurement\":\"%s\",\"device_class\":\"%s\"",
			 rows[i].ha_unit, rows[i].device_class);
		ck_assert_msg(strstr(payload, want), "%s: %s", want, payload);
		ck_assert_msg(strstr(payload, rows[i].value), "%s: %s", rows[i].value, payload);
		free(topic);
		free(payload);
	}
}
END_TEST

START_TEST(odd_names)
{
	static const char *const names[] = {
		"Say \"hi\" \\ back",
		"K\xc3\xbc\x63he \xe2\x98\x83 \xf0\x9f\x98\x80",
		"a/b/+/#",
		"bad \xff\xc3 utf8 \xed\xa0\x80",
		"tab\there\nnewline\x01",
		"",
	};
	static const char *const escaped[] = {
		"\"name\":\"Say \\\"hi\\\" \\\\ back\",",
		"\"name\":\"K\xc3\xbc\x63he \xe2\x98\x83 \xf0\x9f\x98\x80\",",
		"\"name\":\"a/b/+/#\",",
		"\"name\":\"bad \\ufffd\\ufffd utf8 \\ufffd\\ufffd\\ufffd\",",
		"\"name\":\"tab\\u0009here\\nnewline\\u0001\",",
		"\"name\":\"x/y:z\",", /* empty name: the device id stands in */
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct fg_reading r =
			reading(FG_SOURCE_SIM, "x/y:z", names[i], "temperature", "Cel");
		char *topic, *payload;

		discover("my gw/1", &r, "fg/\"q\"/x", FG_FORMAT_SENML, 0, &topic, &payload);
		ck_assert_str_eq(topic,
				 "homeassistant/sensor/fieldgate_my_gw_1_x_y_z/temperature/config");
		ck_assert_msg(strstr(payload, escaped[i]), "%zu: %s", i, payload);
		ck_assert_ptr_nonnull(
			strstr(payload, "\"unique_id\":\"fieldgate_my_gw_1_x_y_z_temperature\""));
		ck_assert_ptr_nonnull(
			strstr(payload, "\"identifiers\":[\"fieldgate_my_gw_1_x_y_z\"]"));
		ck_assert_ptr_nonnull(strstr(payload, "\"via_device\":\"fieldgate_my_gw_1\""));
		ck_assert_ptr_nonnull(strstr(payload, "\"state_topic\":\"fg/\\\"q\\\"/x\""));
		free(topic);
		free(payload);
	}
}
END_TEST

/* Dots, colons and dashes in a quantity: '-' stays in the topic, none stays in ids. */
START_TEST(quantity_sanitized)
{
	struct fg_reading r = reading(FG_SOURCE_LORA, "dev-1", "n", "temp.in:x-1", "Cel");
	char *topic, *payload;

	discover("gw-a", &r, "t", FG_FORMAT_SENML, 0, &topic, &payload);
	ck_assert_str_eq(topic, "homeassistant/sensor/fieldgate_gw-a_dev-1/temp_in_x-1/config");
	ck_assert_ptr_nonnull(
		strstr(payload, "\"unique_id\":\"fieldgate_gw_a_dev_1_temp_in_x_1\""));
	ck_assert_ptr_nonnull(strstr(payload, "selectattr('n', 'eq', 'temp.in:x-1')"));
	free(topic);
	free(payload);
}
END_TEST

START_TEST(expire_after)
{
	struct fg_reading r = reading(FG_SOURCE_SIM, "s", "n", "temperature", "Cel");
	char *topic, *payload;

	discover("gw", &r, "t", FG_FORMAT_SENML, 0, &topic, &payload);
	ck_assert_ptr_null(strstr(payload, "expire_after"));
	free(topic);
	free(payload);
	discover("gw", &r, "t", FG_FORMAT_SENML, 4294967295u, &topic, &payload);
	ck_assert_ptr_nonnull(
		strstr(payload, "\"state_class\":\"measurement\",\"expire_after\":4294967295,"));
	free(topic);
	free(payload);
}
END_TEST

START_TEST(invalid)
{
	struct fg_reading r = reading(FG_SOURCE_SIM, "s", "n", "temperature", "Cel"), bad;
	char *topic = (char *) "untouched", *payload = (char *) "untouched";

#define EINVAL_CASE(pre, gw, rr, st, f)                                                            \
	ck_assert_int_eq(                                                                          \
		fg_ha_discovery(pre, gw, "fieldgate/gw/status", rr, st, f, 0, &topic, &payload),   \
		-EINVAL)
	EINVAL_CASE(NULL, "gw", &r, "t", FG_FORMAT_SENML);
	EINVAL_CASE("", "gw", &r, "t", FG_FORMAT_SENML);
	EINVAL_CASE("home/", "gw", &r, "t", FG_FORMAT_SENML);
	EINVAL_CASE("home/+", "gw", &r, "t", FG_FORMAT_SENML);
	EINVAL_CASE("homeassistant", NULL, &r, "t", FG_FORMAT_SENML);
	EINVAL_CASE("homeassistant", "", &r, "t", FG_FORMAT_SENML);
	EINVAL_CASE("homeassistant", "gw", NULL, "t", FG_FORMAT_SENML);
	EINVAL_CASE("homeassistant", "gw", &r, NULL, FG_FORMAT_SENML);
	EINVAL_CASE("homeassistant", "gw", &r, "", FG_FORMAT_SENML);
	EINVAL_CASE("homeassistant", "gw", &r, "a/#", FG_FORMAT_SENML);
	EINVAL_CASE("homeassistant", "gw", &r, "t", FG_FORMAT__COUNT);
	EINVAL_CASE("homeassistant", "gw", &r, "t", (enum fg_format) - 1);
	bad = r;
	bad.kind = FG_VALUE__COUNT;
	EINVAL_CASE("homeassistant", "gw", &bad, "t", FG_FORMAT_SENML);
	bad = r;
	bad.source = FG_SOURCE__COUNT;
	EINVAL_CASE("homeassistant", "gw", &bad, "t", FG_FORMAT_SENML);
	bad = r;
	bad.device_id[0] = '\0';
	EINVAL_CASE("homeassistant", "gw", &bad, "t", FG_FORMAT_SENML);
	bad = r;
	memset(bad.device_id, 'a', sizeof(bad.device_id)); /* not NUL-terminated */
	EINVAL_CASE("homeassistant", "gw", &bad, "t", FG_FORMAT_SENML);
	bad = r;
	bad.quantity[0] = '\0';
	EINVAL_CASE("homeassistant", "gw", &bad, "t", FG_FORMAT_SENML);
	bad = r;
	strcpy(bad.quantity, "it's");
	EINVAL_CASE("homeassistant", "gw", &bad, "t", FG_FORMAT_SENML);
	bad = r;
	memset(bad.quantity, 'q', sizeof(bad.quantity));
	EINVAL_CASE("homeassistant", "gw", &bad, "t", FG_FORMAT_SENML);
#undef EINVAL_CASE
	ck_assert_int_eq(fg_ha_discovery("homeassistant", "gw", NULL, &r, "t", FG_FORMAT_SENML, 0,
					 &topic, &payload),
			 -EINVAL);
	ck_assert_int_eq(fg_ha_discovery("homeassistant", "gw", "a/+/status", &r, "t",
					 FG_FORMAT_SENML, 0, &topic, &payload),
			 -EINVAL);
	ck_assert_int_eq(fg_ha_discovery("homeassistant", "gw", "s", &r, "t", FG_FORMAT_SENML, 0,
					 NULL, &payload),
			 -EINVAL);
	ck_assert_int_eq(fg_ha_discovery("homeassistant", "gw", "s", &r, "t", FG_FORMAT_SENML, 0,
					 &topic, NULL),
			 -EINVAL);
	/* Outputs are written only on success. */
	ck_assert_str_eq(topic, "untouched");
	ck_assert_str_eq(payload, "untouched");
}
END_TEST

/* The rules every config follows, whatever the reading: Home Assistant's current schema. */
static void assert_schema(const char *payload, const char *gateway_identifier)
{
	char via[128];

	ck_assert_msg(!strstr(payload, "object_id"), "object_id in %s", payload);
	ck_assert_msg(strstr(payload, "\"default_entity_id\":\"sensor.") ||
			      strstr(payload, "\"default_entity_id\":\"binary_sensor."),
		      "no default_entity_id in %s", payload);
	ck_assert_msg(strstr(payload, "\"availability\":[{\"topic\":\"fieldgate/gw/status\","
				      "\"value_template\":\"{{ value_json.state }}\","
				      "\"payload_available\":\"online\","
				      "\"payload_not_available\":\"offline\"}]"),
		      "no availability in %s", payload);
	ck_assert_msg(strstr(payload,
			     "\"origin\":{\"name\":\"fieldgate\",\"sw_version\":\"" PACKAGE_VERSION
			     "\"}"),
		      "no origin in %s", payload);
	/* Every template tests for its key before it reads it. */
	ck_assert_msg(strstr(payload, " is defined else ") ||
			      strstr(payload, " in value_json else "),
		      "template not tolerant in %s", payload);
	if (gateway_identifier) {
		snprintf(via, sizeof(via), "\"via_device\":\"%s\"", gateway_identifier);
		ck_assert_msg(strstr(payload, via), "no %s in %s", via, payload);
	}
}

START_TEST(schema_rules)
{
	static const struct {
		enum fg_source_kind src;
		const char *id, *q, *u;
		int kind; /* 0 number, 1 bool, 2 string */
	} rows[] = {
		{ FG_SOURCE_SIM, "sim-0001", "temperature", "Cel", 0 },
		{ FG_SOURCE_LORA, "0011223344556677", "wind_direction", "deg", 0 },
		{ FG_SOURCE_BLE, "a4c138001122", "door", "", 1 },
		{ FG_SOURCE_BLE, "a4c138001122", "uuid", "", 2 },
		{ FG_SOURCE_GATEWAY, "0016c001ff10a235", "rx_received", "", 0 },
	};
	char *gw_topic = NULL, *gw_payload = NULL, ident[64] = "";
	const char *p;

	/* The gateway device that via_device names. */
	ck_assert_int_eq(fg_ha_gateway_discovery("homeassistant", "gw", "fieldgate/gw/status",
						 "fieldgate/gw/stats", NULL, 0, &gw_topic,
						 &gw_payload),
			 0);
	p = strstr(gw_payload, "\"device\":{\"identifiers\":[\"");
	ck_assert_ptr_nonnull(p);
	sscanf(p + strlen("\"device\":{\"identifiers\":[\""), "%63[^\"]", ident);
	ck_assert_str_eq(ident, "fieldgate_gw");
	for (int f = 0; f < FG_FORMAT__COUNT; f++)
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			struct fg_reading r =
				reading(rows[i].src, rows[i].id, "", rows[i].q, rows[i].u);
			char *topic, *payload;

			if (rows[i].kind == 1)
				fg_reading_set_bool(&r, true);
			if (rows[i].kind == 2)
				fg_reading_set_text(&r, "x");
			discover("gw", &r, "s/t", (enum fg_format) f, 0, &topic, &payload);
			assert_schema(payload, ident);
			free(topic);
			free(payload);
		}
	free(gw_topic);
	free(gw_payload);
}
END_TEST

/* Wind direction: Home Assistant takes state class measurement_angle only, in degrees. */
START_TEST(wind_direction_angle)
{
	struct fg_reading r =
		reading(FG_SOURCE_LORA, "0011223344556677", "anemo", "wind_direction", "deg");
	char *topic, *payload;

	discover("gw", &r, "s", FG_FORMAT_SENML, 0, &topic, &payload);
	ck_assert_ptr_nonnull(strstr(payload, "\"unit_of_measurement\":\"\xc2\xb0\","
					      "\"device_class\":\"wind_direction\","
					      "\"state_class\":\"measurement_angle\""));
	ck_assert_ptr_nonnull(
		strstr(payload, "\"default_entity_id\":\"sensor.anemo_wind_direction\""));
	ck_assert_ptr_nonnull(strstr(payload, "\"serial_number\":\"0011223344556677\""));
	free(topic);
	free(payload);
}
END_TEST

/* The gateway device: every key of the health record, diagnostic, one device. */
START_TEST(gateway_device)
{
	static const char *const keys[] = {
		"uptime_s", "buffer_depth",   "oldest_age_s",	    "disk_free",
		"db_bytes", "readings_per_s", "published_per_s",    "evicted",
		"dropped",  "broker",	      "clock_synchronized", "version"
	};
	size_t n = fg_ha_gateway_entities();
	char *topic = (char *) "untouched", *payload = (char *) "untouched";

	ck_assert_uint_eq(n, sizeof(keys) / sizeof(keys[0]));
	for (size_t i = 0; i < n; i++) {
		char want[160];

		ck_assert_int_eq(fg_ha_gateway_discovery("homeassistant", "gw",
							 "fieldgate/gw/status",
							 "fieldgate/gw/stats", "0016c001ff10a235",
							 i, &topic, &payload),
				 0);
		ck_assert_msg(json_valid(payload, strlen(payload)), "invalid JSON: %s", payload);
		snprintf(want, sizeof(want), "homeassistant/%s/fieldgate_gw/%s/config",
			 strcmp(keys[i], "clock_synchronized") ? "sensor" : "binary_sensor",
			 keys[i]);
		ck_assert_str_eq(topic, want);
		assert_schema(payload, NULL);
		ck_assert_ptr_nonnull(strstr(payload, "\"entity_category\":\"diagnostic\""));
		ck_assert_ptr_nonnull(strstr(payload, "\"state_topic\":\"fieldgate/gw/stats\""));
		snprintf(want, sizeof(want), "value_json.%s if value_json.%s is defined", keys[i],
			 keys[i]);
		if (strcmp(keys[i], "clock_synchronized") == 0)
			snprintf(want, sizeof(want), "'false') if value_json.%s is defined else ''",
				 keys[i]);
		ck_assert_msg(strstr(payload, want), "%s not in %s", want, payload);
		ck_assert_ptr_nonnull(strstr(
			payload, "\"device\":{\"identifiers\":[\"fieldgate_gw\"],"
				 "\"name\":\"gw\",\"model\":\"fieldgate gateway\","
				 "\"manufacturer\":\"fieldgate\",\"sw_version\":\"" PACKAGE_VERSION
				 "\",\"serial_number\":\"0016c001ff10a235\"}"));
		free(topic);
		free(payload);
	}
	topic = payload = (char *) "untouched";
	ck_assert_int_eq(fg_ha_gateway_discovery("homeassistant", "gw", "fieldgate/gw/status",
						 "fieldgate/gw/stats", NULL, n, &topic, &payload),
			 -ENOENT);
	ck_assert_int_eq(fg_ha_gateway_discovery("homeassistant", "gw", "fieldgate/gw/status",
						 "a/#", NULL, 0, &topic, &payload),
			 -EINVAL);
	ck_assert_int_eq(fg_ha_gateway_discovery("home/", "gw", "fieldgate/gw/status",
						 "fieldgate/gw/stats", NULL, 0, &topic, &payload),
			 -EINVAL);
	ck_assert_str_eq(topic, "untouched");
	/* No serial: no serial_number. */
	ck_assert_int_eq(fg_ha_gateway_discovery("homeassistant", "gw", "fieldgate/gw/status",
						 "fieldgate/gw/stats", "", 0, &topic, &payload),
			 0);
	ck_assert_ptr_null(strstr(payload, "serial_number"));
	free(topic);
	free(payload);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("homeassistant");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, senml_temperature_exact);
	tcase_add_test(tc, flat_humidity_exact);
	tcase_add_test(tc, flat_reserved_key);
	tcase_add_test(tc, boolean_binary_sensor);
	tcase_add_test(tc, string_sensor);
	tcase_add_test(tc, unit_table);
	tcase_add_test(tc, scaled_units);
	tcase_add_test(tc, device_classes);
	tcase_add_test(tc, energy_state_class);
	tcase_add_test(tc, odd_names);
	tcase_add_test(tc, quantity_sanitized);
	tcase_add_test(tc, expire_after);
	tcase_add_test(tc, invalid);
	tcase_add_test(tc, schema_rules);
	tcase_add_test(tc, wind_direction_angle);
	tcase_add_test(tc, gateway_device);
	suite_add_tcase(s, tc);
	return fg_check_main(s);
}
