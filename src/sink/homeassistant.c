/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Home Assistant MQTT discovery configs (see homeassistant.h).
 *
 * Sources: Home Assistant's MQTT discovery and MQTT sensor pages
 * (https://www.home-assistant.io/integrations/mqtt/, .../sensor.mqtt/,
 * .../binary_sensor.mqtt/), and home-assistant/core
 * homeassistant/components/sensor/const.py (DEVICE_CLASS_UNITS and
 * DEVICE_CLASS_STATE_CLASSES) for which units and state classes each device
 * class accepts. Full key names are used, not the abbreviations (dev, uniq_id,
 * stat_t, ...), which Home Assistant accepts alike; these messages are
 * retained and rare, so readability wins over bytes.
 *
 * A device class is only given where Home Assistant accepts our unit for it
 * as is: a class with a unit it does not list makes it log a warning and drop
 * statistics. Values are never converted (the sensor shows what the gateway
 * publishes), so a unit Home Assistant has no spelling for goes out unchanged
 * and without a class.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/homeassistant.h"
#include "util/json.h"

/* A device class chosen by a word of the quantity ("battery" in "battery_low"). */
struct word_class {
	const char *word;
	const char *device_class;
};

/*
 * SenML unit (RFC 8428 section 12.1, RFC 8798 secondary units) -> Home
 * Assistant. device_class is used whatever the quantity; when it is NULL,
 * hints pick one by a word of the quantity, and no hint matching means no
 * class. ha_unit "" means Home Assistant's unit None (no unit_of_measurement).
 *
 *   SenML   HA unit  device class                 why
 *   Cel     °C       temperature
 *   K       K        temperature
 *   %RH     %        humidity
 *   %EL     %        battery                      RFC 8428: remaining battery energy level
 *   %       %        battery / humidity / moisture / power_factor by quantity word, else none
 *   Pa      Pa       pressure
 *   hPa     hPa      pressure
 *   V       V        voltage
 *   mV      mV       voltage
 *   A       A        current
 *   mA      mA       current
 *   W       W        power
 *   kW      kW       power
 *   VA      VA       apparent_power
 *   var     var      reactive_power
 *   J       J        energy (state_class total)   HA lists J among the energy units
 *   Wh      Wh       energy (state_class total)
 *   kWh     kWh      energy (state_class total)
 *   Hz      Hz       frequency
 *   lx      lx       illuminance
 *   W/m2    W/m²     irradiance
 *   m       m        distance
 *   mm, cm, km       distance
 *   s       s        duration
 *   ms, min, h       duration
 *   m/s     m/s      wind_speed if "wind", else speed
 *   km/h    km/h     wind_speed if "wind", else speed
 *   kg      kg       weight
 *   g       g        weight
 *   dBm     dBm      signal_strength
 *   dB      dB       signal_strength if "rssi"/"snr"/"signal", sound_pressure if
 *                    "sound"/"noise", else none
 *   ppm     ppm      carbon_dioxide ("co2"), carbon_monoxide ("co"),
 *                    volatile_organic_compounds_parts ("voc"/"tvoc"), else none
 *   ug/m3   µg/m³    pm1/pm25/pm10, volatile_organic_compounds, nitrogen_dioxide,
 *                    ozone, sulphur_dioxide by quantity word, else none
 *   /       %, ppm   a ratio (0..1) scaled: ppm for co2/co/voc (their classes), else % with
 *                    battery / humidity / moisture / power_factor by quantity word
 *   dBW     dBm      signal_strength, +30         HA's signal_strength takes dB and dBm only
 *   pH      (none)   ph                           HA's ph class takes no unit
 *   lat     °        none                         degrees; HA has no position class
 *   lon     °        none
 *   deg     °        wind_direction if "wind", else none
 *   m3      m³       none   gas, water and volume need total; a tank needs volume_storage
 *   l       L        none   same
 *   kg/m3   kg/m3    none   HA has no density class (pm in kg/m3 would need scaling)
 *   S/m     S/m      none   HA conductivity is S/cm, mS/cm, µS/cm only
 *   rad/s   rad/s    none   no HA class
 *   m/s2    m/s2     none   no HA class
 *   count   count    none   no HA unit; published as is
 *   other   as is    none
 */
struct unit_map {
	const char *senml;
	const char *ha_unit;
	const char *device_class;
	const struct word_class *hints;
	double offset; /* HA value = SenML value + offset (dBW -> dBm) */
};

/*
 * A ratio ("/", 0..1: SenML registers neither percent nor ppm) as Home
 * Assistant's classes take it, by a word of the quantity: the gas classes
 * in ppm, every other in %. The value_template scales it; first match wins.
 */
struct ratio_view {
	const char *word;
	const char *ha_unit;
	const char *device_class;
	double scale;
};

static const struct ratio_view ratio_views[] = {
	{ "co2", "ppm", "carbon_dioxide", 1e6 },
	{ "carbon_dioxide", "ppm", "carbon_dioxide", 1e6 },
	{ "co", "ppm", "carbon_monoxide", 1e6 },
	{ "carbon_monoxide", "ppm", "carbon_monoxide", 1e6 },
	{ "voc", "ppm", "volatile_organic_compounds_parts", 1e6 },
	{ "tvoc", "ppm", "volatile_organic_compounds_parts", 1e6 },
	{ "battery", "%", "battery", 100 },
	{ "humidity", "%", "humidity", 100 },
	{ "moisture", "%", "moisture", 100 },
	{ "power_factor", "%", "power_factor", 100 },
	{ "", "%", NULL, 100 }, /* "" matches any quantity */
};

static const struct word_class percent_hints[] = {
	{ "battery", "battery" },
	{ "humidity", "humidity" },
	{ "moisture", "moisture" },
	{ "power_factor", "power_factor" },
	{ NULL, NULL },
};
static const struct word_class speed_hints[] = {
	{ "wind", "wind_speed" },
	{ "", "speed" }, /* "" matches any quantity */
	{ NULL, NULL },
};
static const struct word_class db_hints[] = {
	{ "rssi", "signal_strength" },	 { "snr", "signal_strength" },
	{ "signal", "signal_strength" }, { "sound", "sound_pressure" },
	{ "noise", "sound_pressure" },	 { NULL, NULL },
};
static const struct word_class ppm_hints[] = {
	{ "co2", "carbon_dioxide" },
	{ "carbon_dioxide", "carbon_dioxide" },
	{ "co", "carbon_monoxide" },
	{ "carbon_monoxide", "carbon_monoxide" },
	{ "voc", "volatile_organic_compounds_parts" },
	{ "tvoc", "volatile_organic_compounds_parts" },
	{ NULL, NULL },
};
static const struct word_class ugm3_hints[] = {
	{ "pm1", "pm1" },
	{ "pm25", "pm25" },
	{ "pm2_5", "pm25" },
	{ "pm10", "pm10" },
	{ "voc", "volatile_organic_compounds" },
	{ "tvoc", "volatile_organic_compounds" },
	{ "no2", "nitrogen_dioxide" },
	{ "o3", "ozone" },
	{ "ozone", "ozone" },
	{ "so2", "sulphur_dioxide" },
	{ NULL, NULL },
};
static const struct word_class degree_hints[] = {
	{ "wind", "wind_direction" },
	{ NULL, NULL },
};

static const struct unit_map units[] = {
	{ "Cel", "°C", "temperature", NULL },
	{ "K", "K", "temperature", NULL },
	{ "%RH", "%", "humidity", NULL },
	{ "%EL", "%", "battery", NULL },
	{ "%", "%", NULL, percent_hints },
	{ "Pa", "Pa", "pressure", NULL },
	{ "hPa", "hPa", "pressure", NULL },
	{ "V", "V", "voltage", NULL },
	{ "mV", "mV", "voltage", NULL },
	{ "A", "A", "current", NULL },
	{ "mA", "mA", "current", NULL },
	{ "W", "W", "power", NULL },
	{ "kW", "kW", "power", NULL },
	{ "VA", "VA", "apparent_power", NULL },
	{ "var", "var", "reactive_power", NULL },
	{ "J", "J", "energy", NULL },
	{ "Wh", "Wh", "energy", NULL },
	{ "kWh", "kWh", "energy", NULL },
	{ "Hz", "Hz", "frequency", NULL },
	{ "lx", "lx", "illuminance", NULL },
	{ "W/m2", "W/m²", "irradiance", NULL },
	{ "m", "m", "distance", NULL },
	{ "mm", "mm", "distance", NULL },
	{ "cm", "cm", "distance", NULL },
	{ "km", "km", "distance", NULL },
	{ "s", "s", "duration", NULL },
	{ "ms", "ms", "duration", NULL },
	{ "min", "min", "duration", NULL },
	{ "h", "h", "duration", NULL },
	{ "m/s", "m/s", NULL, speed_hints },
	{ "km/h", "km/h", NULL, speed_hints },
	{ "kg", "kg", "weight", NULL },
	{ "g", "g", "weight", NULL },
	{ "dBm", "dBm", "signal_strength", NULL },
	{ "dB", "dB", NULL, db_hints },
	{ "ppm", "ppm", NULL, ppm_hints },
	{ "ug/m3", "µg/m³", NULL, ugm3_hints },
	{ "/", "%", NULL, NULL },
	{ "dBW", "dBm", "signal_strength", NULL, 30 },
	{ "pH", "", "ph", NULL },
	{ "lat", "°", NULL, NULL },
	{ "lon", "°", NULL, NULL },
	{ "deg", "°", NULL, degree_hints },
	{ "m3", "m³", NULL, NULL },
	{ "l", "L", NULL, NULL },
};

/*
 * Boolean readings: binary_sensor device classes by a word of the quantity,
 * first match wins (so "garage_door" comes before "door").
 */
static const struct word_class binary_classes[] = {
	{ "garage_door", "garage_door" },
	{ "door", "door" },
	{ "window", "window" },
	{ "motion", "motion" },
	{ "occupancy", "occupancy" },
	{ "presence", "presence" },
	{ "present", "presence" },
	{ "moisture", "moisture" },
	{ "leak", "moisture" },
	{ "water_leak", "moisture" },
	{ "smoke", "smoke" },
	{ "carbon_monoxide", "carbon_monoxide" },
	{ "co", "carbon_monoxide" },
	{ "gas", "gas" },
	{ "vibration", "vibration" },
	{ "tamper", "tamper" },
	{ "charging", "battery_charging" },
	{ "battery_low", "battery" },
	{ "battery", "battery" },
	{ "opening", "opening" },
	{ "contact", "opening" },
	{ "open", "opening" },
	{ "lock", "lock" },
	{ "light", "light" },
	{ "sound", "sound" },
	{ "heat", "heat" },
	{ "cold", "cold" },
	{ "moving", "moving" },
	{ "running", "running" },
	{ "plug", "plug" },
	{ "power", "power" },
	{ "connectivity", "connectivity" },
	{ "connected", "connectivity" },
	{ "problem", "problem" },
	{ "safety", "safety" },
	{ NULL, NULL },
};

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/*
 * Whether word occurs in q as whole words: bounded by the ends or by a byte
 * that is not a letter or digit ("co" is in "co" and "air_co" but not in
 * "co2" or "count"). Case matters, as it does in quantity names. "" matches.
 */
static bool has_word(const char *q, const char *word)
{
	size_t n = strlen(word);

	if (n == 0)
		return true;
	for (const char *p = q; (p = strstr(p, word)); p++)
		if ((p == q || !is_alnum(p[-1])) && !is_alnum(p[n]))
			return true;
	return false;
}

static const char *word_lookup(const struct word_class *t, const char *quantity)
{
	for (; t && t->word; t++)
		if (has_word(quantity, t->word))
			return t->device_class;
	return NULL;
}

static const struct unit_map *unit_lookup(const char *unit)
{
	for (size_t i = 0; unit && i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(unit, units[i].senml) == 0)
			return &units[i];
	return NULL;
}

void fg_ha_view(const char *quantity, const char *unit, bool boolean, struct fg_ha_view *ret)
{
	const struct unit_map *m = boolean ? NULL : unit_lookup(unit);

	if (!quantity)
		quantity = "";
	*ret = (struct fg_ha_view){ .unit = boolean ? NULL : unit, .scale = 1 };
	if (boolean) {
		ret->device_class = word_lookup(binary_classes, quantity);
		return;
	}
	if (!m)
		return;
	ret->unit = m->ha_unit;
	ret->device_class = m->device_class ? m->device_class : word_lookup(m->hints, quantity);
	ret->offset = m->offset;
	if (strcmp(m->senml, "/") == 0)
		for (size_t i = 0; i < sizeof(ratio_views) / sizeof(ratio_views[0]); i++)
			if (has_word(quantity, ratio_views[i].word)) {
				ret->unit = ratio_views[i].ha_unit;
				ret->device_class = ratio_views[i].device_class;
				ret->scale = ratio_views[i].scale;
				break;
			}
}

const char *fg_ha_device_class(const char *quantity, const char *unit, bool boolean)
{
	struct fg_ha_view v;

	fg_ha_view(quantity, unit, boolean, &v);
	return v.device_class;
}

const char *fg_ha_unit(const char *unit)
{
	struct fg_ha_view v;

	fg_ha_view(NULL, unit, false, &v);
	return v.unit;
}

/*
 * Home Assistant refuses "measurement" for energy: a meter's count is a total.
 * Wind direction takes "measurement_angle" only (HA 2025.4): its statistics
 * are circular means, not arithmetic ones.
 */
static const char *state_class_for(const char *device_class)
{
	if (device_class && strcmp(device_class, "energy") == 0)
		return "total";
	if (device_class && strcmp(device_class, "wind_direction") == 0)
		return "measurement_angle";
	return "measurement";
}

/* Append s (at most max bytes) with every byte outside [A-Za-z0-9_] (plus '-' if dash) as '_'. */
static void put_sanitized(struct fg_json *j, const char *s, size_t max, bool dash)
{
	size_t len = strnlen(s, max);

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!is_alnum(c) && c != '_' && !(dash && c == '-'))
			c = '_';
		fg_json_raw(j, &c, 1);
	}
}

/*
 * Append s (at most max bytes) as Home Assistant's slugify would make an
 * entity id of it: lowercase [a-z0-9], every other run of bytes one '_',
 * none leading or trailing. sep: a '_' goes before it when anything does.
 */
static void put_slug(struct fg_json *j, const char *s, size_t max, bool sep)
{
	size_t len = strnlen(s, max);
	bool gap = false, any = false;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!is_alnum(c)) {
			gap = any;
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			c = (char) (c - 'A' + 'a');
		if ((gap || (!any && sep)))
			fg_json_raw(j, "_", 1);
		fg_json_raw(j, &c, 1);
		gap = false;
		any = true;
	}
}

/* Whether id is n hex digits (a DevEUI's 16, a BLE address's 12). */
static bool is_hex_id(const char *id, size_t n)
{
	if (strnlen(id, FG_DEVICE_ID_MAX) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", id[i]))
			return false;
	return true;
}

/* A topic we publish to (or name as state topic) must not hold wildcards. */
static bool topic_ok(const char *t)
{
	return t && *t && !strpbrk(t, "+#");
}

/* Keys of the flat object that fg_format_payload never gives to a quantity (format.c). */
static const char *const flat_reserved[] = { "gateway", "device", "name", "source", "seq",
					     "time",	"units",  "rssi", "snr",    "freq",
					     "sf",	"bw",	  "dr",	  NULL };

/*
 * The value_template. A message need not hold every quantity of its device
 * (a deadband rule leaves out the ones that did not move), so each template
 * tests for its quantity first, and renders what keeps the entity's state
 * when it is absent: "" for a numeric sensor and a binary_sensor (Home
 * Assistant ignores an empty rendering of those: "Ignore empty state",
 * "Empty template output"), the current state (`this.state`) for a string
 * sensor, whose state "" would be a value. Never an undefined value: that
 * is a template error on every message without the quantity.
 *
 * SenML: the record named after the quantity (a valid quantity is its own
 * SenML name, and Home Assistant sees records without the base name
 * applied). Flat: the quantity's key, which fg_format_payload suffixes with
 * "_2" when the name is one of its fixed keys. Booleans give the strings
 * "true"/"false", as Jinja would print True/False.
 */
static void put_value_template(struct fg_json *j, const struct fg_reading *r, enum fg_format f,
			       const struct fg_ha_view *view)
{
	char tmpl[800], key[FG_QUANTITY_MAX + 2], set[200], val[256], have[160];
	const char *field = r->kind == FG_VALUE_BOOL	 ? "vb"
			    : r->kind == FG_VALUE_STRING ? "vs"
							 : "v";
	const char *absent = r->kind == FG_VALUE_STRING ? "this.state" : "''";
	bool reserved = false;

	for (size_t i = 0; flat_reserved[i]; i++)
		reserved |= strcmp(r->quantity, flat_reserved[i]) == 0;
	snprintf(key, sizeof(key), "%s%s", r->quantity, reserved ? "_2" : "");
	if (f == FG_FORMAT_SENML) {
		snprintf(set, sizeof(set),
			 "{%% set r = value_json | selectattr('n', 'eq', '%s') | list %%}",
			 r->quantity);
		snprintf(val, sizeof(val), "r[0].%s", field);
		snprintf(have, sizeof(have), "r and r[0].%s is defined", field);
	} else {
		set[0] = '\0';
		snprintf(val, sizeof(val), "value_json['%s']", key);
		snprintf(have, sizeof(have), "'%s' in value_json", key);
	}
	/* Home Assistant's unit of it (a ratio in %, dBW in dBm); round away the binary fraction. */
	if (r->kind == FG_VALUE_NUMBER && (view->scale != 1 || view->offset != 0)) {
		char v[sizeof(val)];

		memcpy(v, val, sizeof(v));
		if (view->offset == 0)
			snprintf(val, sizeof(val), "((%.150s * %.10g) | round(6))", v, view->scale);
		else
			snprintf(val, sizeof(val), "((%.150s * %.10g + %.10g) | round(6))", v,
				 view->scale, view->offset);
	}
	if (r->kind == FG_VALUE_BOOL)
		snprintf(tmpl, sizeof(tmpl), "%s{{ ('true' if %s else 'false') if %s else %s }}",
			 set, val, have, absent);
	else
		snprintf(tmpl, sizeof(tmpl), "%s{{ %s if %s else %s }}", set, val, have, absent);
	fg_json_string(j, tmpl);
}

/*
 * An id out of "fieldgate_<gateway>_<device>" and, when given, "_<quantity>",
 * every byte outside [A-Za-z0-9_] (and '-' when dash) made '_'. Returns 0 and
 * a malloc'd string, or -ENOMEM.
 */
static int make_id(const char *gateway, const struct fg_reading *r, const char *quantity, bool dash,
		   char **ret_id)
{
	struct fg_json j;
	size_t len;

	fg_json_init_dynamic(&j);
	fg_json_raw(&j, "fieldgate_", 10);
	put_sanitized(&j, gateway, SIZE_MAX, dash);
	if (r) {
		fg_json_raw(&j, "_", 1);
		put_sanitized(&j, r->device_id, FG_DEVICE_ID_MAX, dash);
	}
	if (quantity) {
		fg_json_raw(&j, "_", 1);
		put_sanitized(&j, quantity, FG_QUANTITY_MAX, dash);
	}
	return fg_json_steal(&j, ret_id, &len);
}

/*
 * "origin": who published the config (Home Assistant's MQTT info shows it).
 * No support_url: the package names none (AC_INIT has no URL).
 */
static void put_origin(struct fg_json *j)
{
	fg_json_printf(j, ",\"origin\":{\"name\":\"fieldgate\",\"sw_version\":");
	fg_json_string(j, PACKAGE_VERSION);
	fg_json_raw(j, "}", 1);
}

/*
 * "availability": the gateway's retained status, {"state":"online",...} at
 * connect and {"state":"offline",...} as its Last Will, so every entity of
 * the gateway goes unavailable when the gateway dies or loses the broker.
 */
static void put_availability(struct fg_json *j, const char *status_topic)
{
	fg_json_printf(j, ",\"availability\":[{\"topic\":");
	fg_json_string(j, status_topic);
	fg_json_printf(j,
		       ",\"value_template\":\"{{ value_json.state }}\","
		       "\"payload_available\":\"online\",\"payload_not_available\":\"offline\"}]");
}

/* The payload: one JSON object, every string through the escaper. */
static int put_config(struct fg_json *j, const char *gateway, const char *status_topic,
		      const struct fg_reading *r, const char *state_topic, enum fg_format f,
		      uint32_t expire_after_s)
{
	char unit[FG_UNIT_MAX], *entity_id = NULL, *device_id = NULL, *gateway_id = NULL;
	const char *ha_unit = NULL, *device_class = NULL;
	struct fg_ha_view view = { .scale = 1 };
	int e;

	e = make_id(gateway, r, r->quantity, false, &entity_id);
	if (e == 0)
		e = make_id(gateway, r, NULL, false, &device_id);
	if (e == 0)
		e = make_id(gateway, NULL, NULL, false, &gateway_id);
	if (e < 0)
		goto out;

	snprintf(unit, sizeof(unit), "%.*s", (int) strnlen(r->unit, FG_UNIT_MAX - 1), r->unit);
	if (r->kind == FG_VALUE_NUMBER || r->kind == FG_VALUE_BOOL) {
		fg_ha_view(r->quantity, unit, r->kind == FG_VALUE_BOOL, &view);
		ha_unit = view.unit;
		device_class = view.device_class;
	}

	fg_json_raw(j, "{\"name\":", 8);
	fg_json_string(j, r->quantity);
	fg_json_raw(j, ",\"unique_id\":", 13);
	fg_json_string(j, entity_id);
	/* object_id's successor (HA 2025.10): the entity id to create, domain included. */
	fg_json_printf(j, ",\"default_entity_id\":\"%s.",
		       r->kind == FG_VALUE_BOOL ? "binary_sensor" : "sensor");
	put_slug(j, r->device_name[0] ? r->device_name : r->device_id,
		 r->device_name[0] ? FG_DEVICE_NAME_MAX : FG_DEVICE_ID_MAX, false);
	put_slug(j, r->quantity, FG_QUANTITY_MAX, true);
	fg_json_raw(j, "\"", 1);
	fg_json_raw(j, ",\"state_topic\":", 15);
	fg_json_string(j, state_topic);
	fg_json_raw(j, ",\"value_template\":", 18);
	put_value_template(j, r, f, &view);
	if (r->kind == FG_VALUE_BOOL)
		fg_json_printf(j, ",\"payload_on\":\"true\",\"payload_off\":\"false\"");
	if (ha_unit && *ha_unit) {
		fg_json_raw(j, ",\"unit_of_measurement\":", 23);
		fg_json_string(j, ha_unit);
	}
	if (device_class) {
		fg_json_raw(j, ",\"device_class\":", 16);
		fg_json_string(j, device_class);
	}
	if (r->kind == FG_VALUE_NUMBER) {
		fg_json_raw(j, ",\"state_class\":", 15);
		fg_json_string(j, state_class_for(device_class));
	}
	if (expire_after_s)
		fg_json_printf(j, ",\"expire_after\":%" PRIu32, expire_after_s);
	put_availability(j, status_topic);
	fg_json_printf(j, ",\"device\":{\"identifiers\":[");
	fg_json_string(j, device_id);
	fg_json_printf(j, "],\"name\":");
	if (r->device_name[0])
		fg_json_string_n(j, r->device_name, FG_DEVICE_NAME_MAX);
	else
		fg_json_string_n(j, r->device_id, FG_DEVICE_ID_MAX);
	fg_json_printf(j, ",\"model\":");
	fg_json_string(j, fg_source_kind_to_string(r->source));
	fg_json_printf(j, ",\"manufacturer\":\"fieldgate\"");
	/* The radio identity where it is one: a LoRaWAN DevEUI, a BLE address (hex digits). */
	if ((r->source == FG_SOURCE_LORA && is_hex_id(r->device_id, 16)) ||
	    (r->source == FG_SOURCE_BLE && is_hex_id(r->device_id, 12))) {
		fg_json_printf(j, ",\"serial_number\":");
		fg_json_string_n(j, r->device_id, FG_DEVICE_ID_MAX);
	}
	fg_json_printf(j, ",\"via_device\":");
	fg_json_string(j, gateway_id);
	fg_json_raw(j, "}", 1);
	put_origin(j);
	fg_json_raw(j, "}", 1);
out:
	free(entity_id);
	free(device_id);
	free(gateway_id);
	return e;
}

int fg_ha_discovery(const char *prefix, const char *gateway, const char *status_topic,
		    const struct fg_reading *r, const char *state_topic, enum fg_format f,
		    uint32_t expire_after_s, char **ret_topic, char **ret_payload)
{
	struct fg_json t, p;
	char *node_id, *topic, *payload;
	size_t len;
	int e;

	if (!topic_ok(prefix) || prefix[strlen(prefix) - 1] == '/' || !gateway || !*gateway || !r ||
	    !topic_ok(state_topic) || !topic_ok(status_topic) || (unsigned) f >= FG_FORMAT__COUNT ||
	    (unsigned) r->kind >= FG_VALUE__COUNT || !fg_source_kind_to_string(r->source) ||
	    !ret_topic || !ret_payload)
		return -EINVAL;
	if (strnlen(r->device_id, FG_DEVICE_ID_MAX) == 0 ||
	    strnlen(r->device_id, FG_DEVICE_ID_MAX) == FG_DEVICE_ID_MAX ||
	    strnlen(r->quantity, FG_QUANTITY_MAX) == FG_QUANTITY_MAX ||
	    !fg_reading_name_valid(r->quantity))
		return -EINVAL;

	e = make_id(gateway, r, NULL, true, &node_id);
	if (e < 0)
		return e;
	fg_json_init_dynamic(&t);
	fg_json_printf(&t, "%s/%s/%s/", prefix,
		       r->kind == FG_VALUE_BOOL ? "binary_sensor" : "sensor", node_id);
	put_sanitized(&t, r->quantity, FG_QUANTITY_MAX, true);
	fg_json_raw(&t, "/config", 7);
	free(node_id);
	e = fg_json_steal(&t, &topic, &len);
	if (e < 0)
		return e;

	fg_json_init_dynamic(&p);
	e = put_config(&p, gateway, status_topic, r, state_topic, f, expire_after_s);
	if (e < 0)
		fg_json_free(&p);
	else
		e = fg_json_steal(&p, &payload, &len);
	if (e < 0) {
		free(topic);
		return e;
	}
	*ret_topic = topic;
	*ret_payload = payload;
	return 0;
}

/*
 * The gateway's own entities: its health record on the stats topic, one
 * diagnostic entity per top-level key. Units are Home Assistant's; a count
 * that only grows is total_increasing, a gauge measurement.
 */
struct gateway_entity {
	const char *key;
	const char *name;
	const char *unit;	  /* NULL: none */
	const char *device_class; /* NULL: none */
	const char *state_class;  /* NULL: a string or binary entity */
	bool binary;
};

static const struct gateway_entity gateway_entities[] = {
	{ "uptime_s", "uptime", "s", "duration", "measurement", false },
	{ "buffer_depth", "buffer depth", "messages", NULL, "measurement", false },
	{ "oldest_age_s", "oldest buffered", "s", "duration", "measurement", false },
	{ "disk_free", "disk free", "B", "data_size", "measurement", false },
	{ "db_bytes", "buffer size", "B", "data_size", "measurement", false },
	{ "readings_per_s", "readings rate", "readings/s", NULL, "measurement", false },
	{ "published_per_s", "publish rate", "messages/s", NULL, "measurement", false },
	{ "evicted", "evicted", "readings", NULL, "total_increasing", false },
	{ "dropped", "dropped", "readings", NULL, "total_increasing", false },
	{ "broker", "broker", NULL, NULL, NULL, false },
	{ "clock_synchronized", "clock synchronized", NULL, NULL, NULL, true },
	{ "version", "version", NULL, NULL, NULL, false },
};

size_t fg_ha_gateway_entities(void)
{
	return sizeof(gateway_entities) / sizeof(gateway_entities[0]);
}

/* The gateway's device object, which every device's via_device names. */
static void put_gateway_device(struct fg_json *j, const char *gateway_id, const char *gateway,
			       const char *serial)
{
	fg_json_printf(j, ",\"device\":{\"identifiers\":[");
	fg_json_string(j, gateway_id);
	fg_json_printf(j, "],\"name\":");
	fg_json_string(j, gateway);
	fg_json_printf(j, ",\"model\":\"fieldgate gateway\",\"manufacturer\":\"fieldgate\","
			  "\"sw_version\":");
	fg_json_string(j, PACKAGE_VERSION);
	if (serial && *serial) {
		fg_json_printf(j, ",\"serial_number\":");
		fg_json_string(j, serial);
	}
	fg_json_raw(j, "}", 1);
}

int fg_ha_gateway_discovery(const char *prefix, const char *gateway, const char *status_topic,
			    const char *stats_topic, const char *serial, size_t i, char **ret_topic,
			    char **ret_payload)
{
	const struct gateway_entity *g;
	char *gateway_id = NULL, *topic = NULL, *payload = NULL;
	struct fg_json t, p;
	size_t len;
	int e;

	if (!topic_ok(prefix) || prefix[strlen(prefix) - 1] == '/' || !gateway || !*gateway ||
	    !topic_ok(status_topic) || !topic_ok(stats_topic) || !ret_topic || !ret_payload)
		return -EINVAL;
	if (i >= fg_ha_gateway_entities())
		return -ENOENT;
	g = &gateway_entities[i];
	e = make_id(gateway, NULL, NULL, true, &gateway_id);
	if (e < 0)
		return e;
	fg_json_init_dynamic(&t);
	fg_json_printf(&t, "%s/%s/%s/%s/config", prefix, g->binary ? "binary_sensor" : "sensor",
		       gateway_id, g->key);
	free(gateway_id);
	e = fg_json_steal(&t, &topic, &len);
	if (e < 0)
		return e;
	e = make_id(gateway, NULL, NULL, false, &gateway_id);
	if (e < 0) {
		free(topic);
		return e;
	}

	fg_json_init_dynamic(&p);
	fg_json_printf(&p, "{\"name\":\"%s\",\"unique_id\":\"%s_%s\",\"default_entity_id\":\"%s.",
		       g->name, gateway_id, g->key, g->binary ? "binary_sensor" : "sensor");
	put_slug(&p, gateway_id, SIZE_MAX, false);
	put_slug(&p, g->key, SIZE_MAX, true);
	fg_json_printf(&p, "\",\"state_topic\":");
	fg_json_string(&p, stats_topic);
	/* A record without the key (an older daemon's) keeps the entity's state. */
	if (g->binary)
		fg_json_printf(&p,
			       ",\"value_template\":\"{{ ('true' if value_json.%s else "
			       "'false') if value_json.%s is defined else '' }}\","
			       "\"payload_on\":\"true\",\"payload_off\":\"false\"",
			       g->key, g->key);
	else
		fg_json_printf(&p,
			       ",\"value_template\":\"{{ value_json.%s if value_json.%s is "
			       "defined else %s }}\"",
			       g->key, g->key, g->state_class ? "''" : "this.state");
	if (g->unit)
		fg_json_printf(&p, ",\"unit_of_measurement\":\"%s\"", g->unit);
	if (g->device_class)
		fg_json_printf(&p, ",\"device_class\":\"%s\"", g->device_class);
	if (g->state_class)
		fg_json_printf(&p, ",\"state_class\":\"%s\"", g->state_class);
	fg_json_printf(&p, ",\"entity_category\":\"diagnostic\"");
	put_availability(&p, status_topic);
	put_gateway_device(&p, gateway_id, gateway, serial);
	put_origin(&p);
	fg_json_raw(&p, "}", 1);
	free(gateway_id);
	e = fg_json_steal(&p, &payload, &len);
	if (e < 0) {
		free(topic);
		return e;
	}
	*ret_topic = topic;
	*ret_payload = payload;
	return 0;
}
