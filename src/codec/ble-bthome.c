/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * BTHome v2: service data 0xFCD2. The payload (as handed to us, after the
 * UUID) is a device information byte followed by objects, each an object id
 * and a value of a length fixed by the id (text, raw and command objects say
 * their length in their second byte). Values are little endian.
 *
 * Sources: the format page https://bthome.io/format/ and the encryption page
 * https://bthome.io/encryption/ (home-assistant/bthome.io src/format.html and
 * src/encryption.html, April 2026), and the reference parser
 * github.com/Bluetooth-Devices/bthome-ble src/bthome_ble/const.py, parser.py
 * and event.py (February 2026) where the page is silent.
 *
 * Device information byte: bit 0 encrypted, bit 1 "MAC included" (the page
 * calls it reserved; bthome-ble reads 6 bytes of the advertiser's address,
 * least significant first, before the objects, and uses it in the nonce; so
 * do we), bit 2 trigger based (informational, ignored), bits 5-7 version,
 * which must be 2. Version 1 used other UUIDs and another object encoding.
 *
 * id    quantity             bytes  spec factor, unit     value out             SenML unit
 * 0x00  (packet id)          1      1                     res->packet_id        -
 * 0x01  battery              1      1 %                   raw                   %EL
 * 0x02  temperature          2 s    0.01 C                raw / 100             Cel
 * 0x03  humidity             2      0.01 %                raw / 100             %RH
 * 0x04  pressure             3      0.01 hPa              raw                   Pa
 * 0x05  illuminance          3      0.01 lx               raw / 100             lx
 * 0x06  mass                 2      0.01 kg               raw / 100             kg
 * 0x07  mass                 2      0.01 lb               raw * 0.45359237/100  kg
 * 0x08  dewpoint             2 s    0.01 C                raw / 100             Cel
 * 0x09  count                1      1                     raw                   count
 * 0x0A  energy               3      0.001 kWh             raw * 3600            J
 * 0x0B  power                3      0.01 W                raw / 100             W
 * 0x0C  voltage              2      0.001 V               raw / 1000            V
 * 0x0D  pm25                 2      1 ug/m3               raw / 1e9             kg/m3
 * 0x0E  pm10                 2      1 ug/m3               raw / 1e9             kg/m3
 * 0x12  co2                  2      1 ppm                 raw / 1e6             /
 * 0x13  tvoc                 2      1 ug/m3               raw / 1e9             kg/m3
 * 0x14  moisture             2      0.01 %                raw / 1e4             /
 * 0x2E  humidity             1      1 %                   raw                   %RH
 * 0x2F  moisture             1      1 %                   raw / 100             /
 * 0x3D  count                2      1                     raw                   count
 * 0x3E  count                4      1                     raw                   count
 * 0x3F  rotation             2 s    0.1 deg               raw / 10              deg
 * 0x40  distance             2      1 mm                  raw / 1000            m
 * 0x41  distance             2      0.1 m                 raw / 10              m
 * 0x42  duration             3      0.001 s               raw / 1000            s
 * 0x43  current              2      0.001 A               raw / 1000            A
 * 0x44  speed                2      0.01 m/s              raw / 100             m/s
 * 0x45  temperature          2 s    0.1 C                 raw / 10              Cel
 * 0x46  uv_index             1      0.1                   raw / 10              ""
 * 0x47  volume               2      0.1 L                 raw / 1e4             m3
 * 0x48  volume               2      1 mL                  raw / 1e6             m3
 * 0x49  volume_flow_rate     2      0.001 m3/h            raw / 3.6e6           m3/s
 * 0x4A  voltage              2      0.1 V                 raw / 10              V
 * 0x4B  gas                  3      0.001 m3              raw / 1000            m3
 * 0x4C  gas                  4      0.001 m3              raw / 1000            m3
 * 0x4D  energy               4      0.001 kWh             raw * 3600            J
 * 0x4E  volume               4      0.001 L               raw / 1e6             m3
 * 0x4F  water                4      0.001 L               raw / 1e6             m3
 * 0x50  timestamp            4      1 s since 1970 UTC    raw                   s
 * 0x51  acceleration         2      0.001 m/s2            raw / 1000            m/s2
 * 0x52  gyroscope_deg_per_s  2      0.001 deg/s           raw / 1000            "" (see Units)
 * 0x53  text                 1+len  UTF-8                 vs (string)           ""
 * 0x54  raw                  1+len  bytes                 vs, lowercase hex     ""
 * 0x55  volume_storage       4      0.001 L               raw / 1e6             m3
 * 0x56  conductivity         2      1 uS/cm               raw / 1e4             S/m
 * 0x57  temperature          1 s    1 C                   raw                   Cel
 * 0x58  temperature          1 s    0.35 C                raw * 35 / 100        Cel
 * 0x59  count                1 s    1                     raw                   count
 * 0x5A  count                2 s    1                     raw                   count
 * 0x5B  count                4 s    1                     raw                   count
 * 0x5C  power                4 s    0.01 W                raw / 100             W
 * 0x5D  current              2 s    0.001 A               raw / 1000            A
 * 0x5E  direction            2      0.01 deg              raw / 100             deg
 * 0x5F  precipitation        2      0.1 mm                raw / 1e4             m
 * 0x60  channel              1      1                     raw                   ""
 * 0x61  rotational_speed     2      1 rpm                 raw / 60              1/s
 * 0x62  speed                4 s    0.000001 m/s          raw / 1e6             m/s
 * 0x63  acceleration         4 s    0.000001 m/s2         raw / 1e6             m/s2
 * 0x64  light_level          1      0 dark, 1 twilight, 2 bright                ""
 * 0x65  settings_revision    1      1                     raw                   ""
 * 0xF0  device_type_id       2      1                     raw                   ""
 * 0xF1  firmware_version     4      bytes msb first       vs "4.2.1.0"          ""
 * 0xF2  firmware_version     3      bytes msb first       vs "6.1.0"            ""
 * ("s" = signed, two's complement.)
 *
 * Binary sensors, one byte each, vb = byte != 0 (the spec: 1 on, 0 off):
 * 0x0F generic_boolean, 0x10 power_on, 0x11 opening, 0x15 battery_low,
 * 0x16 battery_charging, 0x17 carbon_monoxide, 0x18 cold, 0x19 connectivity,
 * 0x1A door, 0x1B garage_door, 0x1C gas_detected, 0x1D heat, 0x1E light,
 * 0x1F lock (true = unlocked, as the spec has it), 0x20 wet, 0x21 motion,
 * 0x22 moving, 0x23 occupancy, 0x24 plug, 0x25 presence, 0x26 problem,
 * 0x27 running, 0x28 safety (true = safe), 0x29 smoke, 0x2A sound,
 * 0x2B tamper, 0x2C vibration, 0x2D window. The spec's names are kept but
 * for the four that would collide with a sensor of the same name (battery,
 * gas, moisture, power) and the generic one.
 *
 * Events, vs values:
 * 0x3A  button   1 byte: "press", "double_press", "triple_press", "long_press",
 *                "long_double_press", "long_triple_press", "hold_press" (0x80)
 * 0x3C  dimmer   2 bytes: "rotate_left" / "rotate_right", and dimmer_steps
 *                (the second byte, unsigned; bthome-ble reads it signed, but
 *                the direction is the event's, and the page says "# steps")
 * 0x3B  command  a length byte (low 5 bits: argument bytes), an opcode and
 *                the arguments: "off", "on", "toggle", "step_up", "step_down";
 *                one argument byte of a step is command_steps, any other
 *                arguments are command_args as lowercase hex
 * Event 0x00 ("None", used to report only the second of two buttons) and
 * event ids this table does not know give no value, as in bthome-ble, but
 * still count for the suffix of the next object of that name.
 *
 * Repeated quantities: the first keeps its name, the second is "<name>_2",
 * the third "<name>_3", by name rather than by object id (0x0C and 0x4A are
 * both voltage). bthome-ble names them "_1", "_2", ... once any repeats;
 * keeping the first unsuffixed keeps its name stable across frames.
 *
 * Units, by the rule of core/units.h (fieldgate.conf(5), Units): only
 * registered SenML units go out (RFC 8428 section 12.1, RFC 8798 section
 * 2), converted where BTHome's unit is not one: hPa -> Pa, kWh -> J, lb ->
 * kg, mm -> m, ug/m3 -> kg/m3, ppm -> "/" (1e-6), uS/cm -> S/m, L and mL ->
 * m3, m3/h -> m3/s, rpm -> 1/s (RFC 8798's own conversion of rpm), and the
 * percentages of moisture -> "/" (0..1). RFC 8428's "%" is not a percentage
 * but a NOT RECOMMENDED synonym of "/", so 35 % goes out as 0.35 "/". The
 * battery level is "%EL", the registered unit for exactly that (0..100).
 * "deg" is registered (RFC 8798) and kept. No unit of angular velocity is
 * registered (neither deg/s nor rad/s), so the gyroscope has no "u" and
 * says its unit in its name: "gyroscope_deg_per_s", in BTHome's deg/s.
 * The counts use "count".
 * Values are one division of exact integers (raw / div, or raw * mul / div
 * with raw * mul exact), so 0xC409 is the double nearest 25.00.
 *
 * Encryption (bit 0): AES-128-CCM, no associated data, 4-byte MIC; the
 * objects are the ciphertext, followed by a 4-byte counter (little endian)
 * and the MIC. Nonce (13 bytes): advertiser address most significant byte
 * first, 0xD2 0xFC (the UUID as sent), the device information byte, the
 * counter as sent. The counter must grow (the page: "must increase compared
 * against last time"); bthome-ble also lets it restart below 100, we do not:
 * a device that restarts its counter needs its stored counter reset.
 * When a bindkey is configured, an unencrypted frame is refused with
 * -EACCES, as bthome-ble does ("encryption downgrade"): otherwise anyone can
 * send plain values with the device's address.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "codec/ble.h"

#define INFO_ENCRYPTED	  0x01
#define INFO_MAC_INCLUDED 0x02
#define INFO_VERSION(b)	  ((unsigned) (b) >> 5)
#define KEY_LEN		  16
#define NONCE_LEN	  13
#define COUNTER_LEN	  4
#define MIC_LEN		  4
#define PLAIN_MAX	  255 /* an AD structure's length byte bounds any service data */

enum obj_kind {
	OBJ_NUMBER,
	OBJ_BOOL,
	OBJ_PACKET_ID,
	OBJ_BUTTON,
	OBJ_DIMMER,
	OBJ_COMMAND,
	OBJ_TEXT,
	OBJ_RAW,
	OBJ_FIRMWARE,
};

struct obj_type {
	const char *name; /* NULL: not an object id of the spec */
	enum obj_kind kind;
	uint8_t len; /* value bytes after the id; text, raw, command: the minimum */
	bool is_signed;
	double mul; /* SenML value = raw * mul / div */
	double div;
	const char *unit;
};

#define NUM(i, l, s, n, m, d, u)                                                                   \
	[i] = { .name = (n),                                                                       \
		.kind = OBJ_NUMBER,                                                                \
		.len = (l),                                                                        \
		.is_signed = (s),                                                                  \
		.mul = (m),                                                                        \
		.div = (d),                                                                        \
		.unit = (u) }
#define BIN(i, n)	  [i] = { .name = (n), .kind = OBJ_BOOL, .len = 1, .unit = "" }
#define OTHER(i, k, l, n) [i] = { .name = (n), .kind = (k), .len = (l), .unit = "" }

static const struct obj_type objects[256] = {
	OTHER(0x00, OBJ_PACKET_ID, 1, "packet_id"),
	NUM(0x01, 1, false, "battery", 1, 1, "%EL"),
	NUM(0x02, 2, true, "temperature", 1, 100, "Cel"),
	NUM(0x03, 2, false, "humidity", 1, 100, "%RH"),
	NUM(0x04, 3, false, "pressure", 1, 1, "Pa"),
	NUM(0x05, 3, false, "illuminance", 1, 100, "lx"),
	NUM(0x06, 2, false, "mass", 1, 100, "kg"),
	NUM(0x07, 2, false, "mass", 45359237, 1e10, "kg"),
	NUM(0x08, 2, true, "dewpoint", 1, 100, "Cel"),
	NUM(0x09, 1, false, "count", 1, 1, "count"),
	NUM(0x0A, 3, false, "energy", 3600, 1, "J"),
	NUM(0x0B, 3, false, "power", 1, 100, "W"),
	NUM(0x0C, 2, false, "voltage", 1, 1000, "V"),
	NUM(0x0D, 2, false, "pm25", 1, 1e9, "kg/m3"),
	NUM(0x0E, 2, false, "pm10", 1, 1e9, "kg/m3"),
	BIN(0x0F, "generic_boolean"),
	BIN(0x10, "power_on"),
	BIN(0x11, "opening"),
	NUM(0x12, 2, false, "co2", 1, 1e6, "/"),
	NUM(0x13, 2, false, "tvoc", 1, 1e9, "kg/m3"),
	NUM(0x14, 2, false, "moisture", 1, 1e4, "/"),
	BIN(0x15, "battery_low"),
	BIN(0x16, "battery_charging"),
	BIN(0x17, "carbon_monoxide"),
	BIN(0x18, "cold"),
	BIN(0x19, "connectivity"),
	BIN(0x1A, "door"),
	BIN(0x1B, "garage_door"),
	BIN(0x1C, "gas_detected"),
	BIN(0x1D, "heat"),
	BIN(0x1E, "light"),
	BIN(0x1F, "lock"),
	BIN(0x20, "wet"),
	BIN(0x21, "motion"),
	BIN(0x22, "moving"),
	BIN(0x23, "occupancy"),
	BIN(0x24, "plug"),
	BIN(0x25, "presence"),
	BIN(0x26, "problem"),
	BIN(0x27, "running"),
	BIN(0x28, "safety"),
	BIN(0x29, "smoke"),
	BIN(0x2A, "sound"),
	BIN(0x2B, "tamper"),
	BIN(0x2C, "vibration"),
	BIN(0x2D, "window"),
	NUM(0x2E, 1, false, "humidity", 1, 1, "%RH"),
	NUM(0x2F, 1, false, "moisture", 1, 100, "/"),
	OTHER(0x3A, OBJ_BUTTON, 1, "button"),
	OTHER(0x3B, OBJ_COMMAND, 2, "command"),
	OTHER(0x3C, OBJ_DIMMER, 2, "dimmer"),
	NUM(0x3D, 2, false, "count", 1, 1, "count"),
	NUM(0x3E, 4, false, "count", 1, 1, "count"),
	NUM(0x3F, 2, true, "rotation", 1, 10, "deg"),
	NUM(0x40, 2, false, "distance", 1, 1000, "m"),
	NUM(0x41, 2, false, "distance", 1, 10, "m"),
	NUM(0x42, 3, false, "duration", 1, 1000, "s"),
	NUM(0x43, 2, false, "current", 1, 1000, "A"),
	NUM(0x44, 2, false, "speed", 1, 100, "m/s"),
	NUM(0x45, 2, true, "temperature", 1, 10, "Cel"),
	NUM(0x46, 1, false, "uv_index", 1, 10, ""),
	NUM(0x47, 2, false, "volume", 1, 1e4, "m3"),
	NUM(0x48, 2, false, "volume", 1, 1e6, "m3"),
	NUM(0x49, 2, false, "volume_flow_rate", 1, 3.6e6, "m3/s"),
	NUM(0x4A, 2, false, "voltage", 1, 10, "V"),
	NUM(0x4B, 3, false, "gas", 1, 1000, "m3"),
	NUM(0x4C, 4, false, "gas", 1, 1000, "m3"),
	NUM(0x4D, 4, false, "energy", 3600, 1, "J"),
	NUM(0x4E, 4, false, "volume", 1, 1e6, "m3"),
	NUM(0x4F, 4, false, "water", 1, 1e6, "m3"),
	NUM(0x50, 4, false, "timestamp", 1, 1, "s"),
	NUM(0x51, 2, false, "acceleration", 1, 1000, "m/s2"),
	NUM(0x52, 2, false, "gyroscope_deg_per_s", 1, 1000, ""),
	OTHER(0x53, OBJ_TEXT, 1, "text"),
	OTHER(0x54, OBJ_RAW, 1, "raw"),
	NUM(0x55, 4, false, "volume_storage", 1, 1e6, "m3"),
	NUM(0x56, 2, false, "conductivity", 1, 1e4, "S/m"),
	NUM(0x57, 1, true, "temperature", 1, 1, "Cel"),
	NUM(0x58, 1, true, "temperature", 35, 100, "Cel"),
	NUM(0x59, 1, true, "count", 1, 1, "count"),
	NUM(0x5A, 2, true, "count", 1, 1, "count"),
	NUM(0x5B, 4, true, "count", 1, 1, "count"),
	NUM(0x5C, 4, true, "power", 1, 100, "W"),
	NUM(0x5D, 2, true, "current", 1, 1000, "A"),
	NUM(0x5E, 2, false, "direction", 1, 100, "deg"),
	NUM(0x5F, 2, false, "precipitation", 1, 1e4, "m"),
	NUM(0x60, 1, false, "channel", 1, 1, ""),
	NUM(0x61, 2, false, "rotational_speed", 1, 60, "1/s"),
	NUM(0x62, 4, true, "speed", 1, 1e6, "m/s"),
	NUM(0x63, 4, true, "acceleration", 1, 1e6, "m/s2"),
	NUM(0x64, 1, false, "light_level", 1, 1, ""),
	NUM(0x65, 1, false, "settings_revision", 1, 1, ""),
	NUM(0xF0, 2, false, "device_type_id", 1, 1, ""),
	OTHER(0xF1, OBJ_FIRMWARE, 4, "firmware_version"),
	OTHER(0xF2, OBJ_FIRMWARE, 3, "firmware_version"),
};

static const char *const button_events[256] = {
	[0x01] = "press",      [0x02] = "double_press",	     [0x03] = "triple_press",
	[0x04] = "long_press", [0x05] = "long_double_press", [0x06] = "long_triple_press",
	[0x80] = "hold_press",
};

static const char *const dimmer_events[256] = {
	[0x01] = "rotate_left",
	[0x02] = "rotate_right",
};

static const char *const command_opcodes[256] = {
	[0x00] = "off", [0x01] = "on", [0x02] = "toggle", [0x03] = "step_up", [0x04] = "step_down",
};

/* Say why into the caller's buffer, if it gave one, and return err. */
__attribute__((format(printf, 4, 5))) static int fail(int err, char *why, size_t why_size,
						      const char *fmt, ...)
{
	va_list ap;

	if (why && why_size > 0) {
		va_start(ap, fmt);
		(void) vsnprintf(why, why_size, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* A little-endian integer of 1..4 bytes, sign-extended when asked. */
static int64_t get_le(const uint8_t *p, unsigned width, bool is_signed)
{
	uint64_t v = 0;

	for (unsigned i = width; i-- > 0;)
		v = v << 8 | p[i];
	if (is_signed && (v & (UINT64_C(1) << (8 * width - 1))))
		return (int64_t) v - (int64_t) (UINT64_C(1) << (8 * width));
	return (int64_t) v;
}

/* Whether p[0..n) is UTF-8 without NUL, overlong forms, surrogates or code points past U+10FFFF. */
static bool utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = p[i];
		unsigned more;
		uint32_t cp, min;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0) {
			more = 1, cp = c & 0x1F, min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			more = 2, cp = c & 0x0F, min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			more = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i - 1 < more)
			return false;
		for (unsigned k = 1; k <= more; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += 1 + more;
	}
	return true;
}

/* Lowercase hex of p[0..n) into s, which holds at least 2n + 1 bytes. */
static void to_hex(char *s, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 0x0F];
	}
	s[2 * n] = '\0';
}

/* What decoding the objects has found so far. */
struct parse {
	struct fg_codec_value *out;
	size_t max, n;
	bool has_packet_id;
	uint8_t packet_id;
	const char *seen[256]; /* base names met in this frame, and how often */
	unsigned times[256];
	size_t nseen;
	char suffix[8]; /* "" or "_<k>" for the object being decoded */
};

/* Count one more object named name and set the suffix its values get. */
static void next_suffix(struct parse *ps, const char *name)
{
	size_t i;

	for (i = 0; i < ps->nseen; i++)
		if (!strcmp(ps->seen[i], name))
			break;
	if (i == ps->nseen) {
		/* Fewer distinct names than ids, so this never runs out. */
		ps->seen[ps->nseen++] = name;
		ps->times[i] = 0;
	}
	ps->times[i]++;
	if (ps->times[i] == 1)
		ps->suffix[0] = '\0';
	else
		(void) snprintf(ps->suffix, sizeof(ps->suffix), "_%u", ps->times[i]);
}

/* The next output value named base + suffix (the caller has checked there is room). */
static struct fg_codec_value *put(struct parse *ps, const char *base, const char *unit,
				  enum fg_value_kind kind)
{
	struct fg_codec_value *v = &ps->out[ps->n++];

	memset(v, 0, sizeof(*v));
	/* The longest, "settings_revision_255" or "command_steps_255", fits. */
	(void) snprintf(v->quantity, sizeof(v->quantity), "%s%s", base, ps->suffix);
	(void) snprintf(v->unit, sizeof(v->unit), "%s", unit);
	v->kind = kind;
	return v;
}

/* Decode one object whose bytes (after the id) are p[0..len); returns 0 or -ENOBUFS. */
static int put_object(struct parse *ps, uint8_t id, const struct obj_type *t, const uint8_t *p,
		      size_t len, char *why, size_t why_size)
{
	struct fg_codec_value *v;
	const char *event = NULL;
	unsigned want = 1;

	/* Room first: an object's values are returned together or not at all. */
	switch (t->kind) {
	case OBJ_PACKET_ID:
		want = 0;
		break;
	case OBJ_BUTTON:
		event = button_events[p[0]];
		want = event ? 1 : 0;
		break;
	case OBJ_DIMMER:
		event = dimmer_events[p[0]];
		want = event ? 2 : 0;
		break;
	case OBJ_COMMAND:
		event = command_opcodes[p[1]];
		want = event ? (len > 2 ? 2 : 1) : 0;
		break;
	default:
		break;
	}
	if (ps->max - ps->n < want)
		return fail(-ENOBUFS, why, why_size, "more than %zu values", ps->max);

	if (t->kind == OBJ_PACKET_ID) {
		/* A second packet id is odd but harmless; the first one counts. */
		if (!ps->has_packet_id) {
			ps->has_packet_id = true;
			ps->packet_id = p[0];
		}
		return 0;
	}
	next_suffix(ps, t->name);

	switch (t->kind) {
	case OBJ_NUMBER: {
		int64_t raw = get_le(p, t->len, t->is_signed);

		v = put(ps, t->name, t->unit, FG_VALUE_NUMBER);
		if (t->mul == 1)
			v->number = (double) raw / t->div;
		else
			v->number = (double) raw * t->mul / t->div;
		break;
	}
	case OBJ_BOOL:
		v = put(ps, t->name, t->unit, FG_VALUE_BOOL);
		v->boolean = p[0] != 0;
		break;
	case OBJ_BUTTON:
		if (event)
			(void) snprintf(put(ps, t->name, "", FG_VALUE_STRING)->text,
					FG_CODEC_TEXT_MAX, "%s", event);
		break;
	case OBJ_DIMMER:
		if (event) {
			(void) snprintf(put(ps, t->name, "", FG_VALUE_STRING)->text,
					FG_CODEC_TEXT_MAX, "%s", event);
			put(ps, "dimmer_steps", "", FG_VALUE_NUMBER)->number = p[1];
		}
		break;
	case OBJ_COMMAND:
		if (event) {
			(void) snprintf(put(ps, t->name, "", FG_VALUE_STRING)->text,
					FG_CODEC_TEXT_MAX, "%s", event);
			if (len == 3 && (p[1] == 0x03 || p[1] == 0x04))
				put(ps, "command_steps", "", FG_VALUE_NUMBER)->number = p[2];
			else if (len > 2)
				to_hex(put(ps, "command_args", "", FG_VALUE_STRING)->text, p + 2,
				       len - 2);
		}
		break;
	case OBJ_TEXT:
		if (!utf8_valid(p + 1, len - 1))
			return fail(-EBADMSG, why, why_size, "object 0x%02x: text is not UTF-8",
				    id);
		v = put(ps, t->name, "", FG_VALUE_STRING);
		memcpy(v->text, p + 1, len - 1);
		v->text[len - 1] = '\0';
		break;
	case OBJ_RAW:
		to_hex(put(ps, t->name, "", FG_VALUE_STRING)->text, p + 1, len - 1);
		break;
	case OBJ_FIRMWARE:
		v = put(ps, t->name, "", FG_VALUE_STRING);
		if (t->len == 4)
			(void) snprintf(v->text, FG_CODEC_TEXT_MAX, "%u.%u.%u.%u", p[3], p[2], p[1],
					p[0]);
		else
			(void) snprintf(v->text, FG_CODEC_TEXT_MAX, "%u.%u.%u", p[2], p[1], p[0]);
		break;
	case OBJ_PACKET_ID:
		break;
	}
	return 0;
}

/* Decode the objects in p[0..n) into ps. */
static int parse_objects(struct parse *ps, const uint8_t *p, size_t n, char *why, size_t why_size)
{
	size_t off = 0;
	int r;

	while (off < n) {
		uint8_t id = p[off];
		const struct obj_type *t = &objects[id];
		size_t len;

		/* An unknown id ends the frame: the length of its value is not known. */
		if (!t->name)
			return fail(-EBADMSG, why, why_size, "object id 0x%02x unknown", id);
		off++;
		if (n - off < t->len)
			return fail(-EBADMSG, why, why_size,
				    "object 0x%02x (%s) needs %u bytes, %zu left", id, t->name,
				    (unsigned) t->len, n - off);
		len = t->len;
		if (t->kind == OBJ_TEXT || t->kind == OBJ_RAW)
			len = 1 + (size_t) p[off];
		else if (t->kind == OBJ_COMMAND)
			len = 2 + (size_t) (p[off] & 0x1F); /* the high 3 bits are reserved */
		if (n - off < len)
			return fail(-EBADMSG, why, why_size,
				    "object 0x%02x (%s) needs %zu bytes, %zu left", id, t->name,
				    len, n - off);
		r = put_object(ps, id, t, p + off, len, why, why_size);
		if (r < 0)
			return r;
		off += len;
	}
	return 0;
}

/*
 * One AES-128-CCM context for the process, made on first use and kept until
 * exit, as lorawan.c does with its contexts: no allocation per frame once
 * warm. Not thread-safe; the daemon runs one thread.
 */
static EVP_CIPHER_CTX *ccm_ctx;

/* Decrypt and authenticate n bytes of ct into plain: 0, -EACCES (MIC) or -EIO (OpenSSL). */
static int ccm_decrypt(const uint8_t key[KEY_LEN], const uint8_t nonce[NONCE_LEN],
		       const uint8_t *ct, size_t n, const uint8_t mic[MIC_LEN], uint8_t *plain)
{
	uint8_t tag[MIC_LEN];
	int outl = 0;

	if (!ccm_ctx) {
		ccm_ctx = EVP_CIPHER_CTX_new();
		if (!ccm_ctx)
			return -EIO;
	}
	memcpy(tag, mic, MIC_LEN);
	/* Setting the cipher again resets whatever the previous frame left. */
	if (!EVP_DecryptInit_ex(ccm_ctx, EVP_aes_128_ccm(), NULL, NULL, NULL) ||
	    !EVP_CIPHER_CTX_ctrl(ccm_ctx, EVP_CTRL_AEAD_SET_IVLEN, NONCE_LEN, NULL) ||
	    !EVP_CIPHER_CTX_ctrl(ccm_ctx, EVP_CTRL_AEAD_SET_TAG, MIC_LEN, tag) ||
	    !EVP_DecryptInit_ex(ccm_ctx, NULL, NULL, key, nonce))
		return -EIO;
	/* In CCM mode the one update call also checks the tag. */
	if (EVP_DecryptUpdate(ccm_ctx, plain, &outl, ct, (int) n) <= 0 || (size_t) outl != n)
		return -EACCES;
	return 0;
}

int fg_ble_bthome_decode(const struct fg_ble_data *d, const struct fg_ble_keys *keys,
			 struct fg_codec_value *out, size_t max, size_t *ret_n,
			 struct fg_ble_result *res, char *why, size_t why_size)
{
	uint8_t plain[PLAIN_MAX];
	struct parse ps;
	const uint8_t *p, *objs;
	size_t n, nobjs, off;
	uint8_t info;
	bool encrypted;
	uint32_t counter = 0;
	int r;

	if (!d || (!d->p && d->n > 0) || (!out && max > 0) || !ret_n)
		return fail(-EINVAL, why, why_size, "invalid arguments");
	p = d->p;
	n = d->n;
	if (n < 1)
		return fail(-EBADMSG, why, why_size, "no device information byte");
	info = p[0];
	if (INFO_VERSION(info) != 2)
		return fail(-EBADMSG, why, why_size, "BTHome version %u, not 2",
			    INFO_VERSION(info));
	encrypted = info & INFO_ENCRYPTED;
	off = 1;
	if (info & INFO_MAC_INCLUDED) {
		if (n - off < 6)
			return fail(-EBADMSG, why, why_size, "MAC address flag set, %zu bytes left",
				    n - off);
		off += 6;
	}

	if (encrypted) {
		uint8_t nonce[NONCE_LEN];
		size_t ct_len;

		if (n - off < COUNTER_LEN + MIC_LEN)
			return fail(-EBADMSG, why, why_size,
				    "encrypted, %zu bytes after the header, counter and MIC need 8",
				    n - off);
		ct_len = n - off - COUNTER_LEN - MIC_LEN;
		if (ct_len > sizeof(plain))
			return fail(-EBADMSG, why, why_size, "encrypted, %zu bytes is too long",
				    ct_len);
		if (!keys || !keys->bindkey)
			return fail(-EACCES, why, why_size, "encrypted, no bindkey");
		/* The address, most significant byte first: from the frame if it has it. */
		if (info & INFO_MAC_INCLUDED)
			for (unsigned i = 0; i < 6; i++)
				nonce[i] = p[6 - i];
		else
			memcpy(nonce, keys->address, 6);
		nonce[6] = 0xD2;
		nonce[7] = 0xFC;
		nonce[8] = info;
		memcpy(nonce + 9, p + n - COUNTER_LEN - MIC_LEN, COUNTER_LEN);
		counter = (uint32_t) get_le(p + n - COUNTER_LEN - MIC_LEN, COUNTER_LEN, false);

		r = ccm_decrypt(keys->bindkey, nonce, p + off, ct_len, p + n - MIC_LEN, plain);
		if (r == -EACCES)
			return fail(r, why, why_size, "bindkey does not authenticate it");
		if (r < 0)
			return fail(r, why, why_size, "AES-CCM unavailable");
		/* Only now: an unauthenticated counter says nothing. */
		if (keys->have_counter && counter <= keys->last_counter)
			return fail(-ESTALE, why, why_size, "counter %u, last accepted %u", counter,
				    keys->last_counter);
		objs = plain;
		nobjs = ct_len;
	} else {
		if (keys && keys->bindkey)
			return fail(-EACCES, why, why_size, "not encrypted, but a bindkey is set");
		objs = p + off;
		nobjs = n - off;
	}

	memset(&ps, 0, sizeof(ps));
	ps.out = out;
	ps.max = max;
	r = parse_objects(&ps, objs, nobjs, why, why_size);
	if (r < 0)
		return r;

	*ret_n = ps.n;
	if (res) {
		memset(res, 0, sizeof(*res));
		res->has_counter = encrypted;
		res->counter = counter;
		res->has_packet_id = ps.has_packet_id;
		res->packet_id = ps.packet_id;
	}
	return 0;
}

int fg_ble_build_bthome(uint8_t packet_id, double temperature, double humidity, double battery,
			uint8_t *buf, size_t size, size_t *ret_len)
{
	double t = round(temperature * 100), h = round(humidity * 100), b = round(battery);
	uint16_t traw, hraw;
	size_t len = 0;

	if (!buf || !ret_len)
		return -EINVAL;
	/* Written so that NaN fails too. */
	if (!(t >= INT16_MIN && t <= INT16_MAX) || !(h >= 0 && h <= UINT16_MAX) ||
	    !(b >= 0 && b <= UINT8_MAX))
		return -ERANGE;
	if (size < 11)
		return -EMSGSIZE;
	traw = (uint16_t) (int16_t) t;
	hraw = (uint16_t) h;
	/* Object ids in numerical order, as the format page asks. */
	buf[len++] = 0x40; /* version 2, not encrypted, regular updates */
	buf[len++] = 0x00;
	buf[len++] = packet_id;
	buf[len++] = 0x01;
	buf[len++] = (uint8_t) b;
	buf[len++] = 0x02;
	buf[len++] = (uint8_t) traw;
	buf[len++] = (uint8_t) (traw >> 8);
	buf[len++] = 0x03;
	buf[len++] = (uint8_t) hraw;
	buf[len++] = (uint8_t) (hraw >> 8);
	*ret_len = len;
	return 0;
}
