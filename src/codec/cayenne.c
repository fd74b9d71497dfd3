/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Cayenne Low Power Payload: a frame is a run of [channel][type][value]
 * records, values big endian, each type with a fixed size and resolution.
 *
 * The type table follows the myDevices reference table
 * (https://docs.mydevices.com/docs/lorawan/cayenne-lpp, the same table as
 * github.com/myDevicesIoT/CayenneLPP README.md) for the IPSO types, and
 * github.com/ElectronicCats/CayenneLPP src/CayenneLPP.h (LPP_*, *_SIZE,
 * *_MULT) plus decoders/decoder.js (sizes, divisors, signedness) for the
 * added types 100..142; type 240 (polyline) of that library is not in the
 * reference list and is refused as unknown.
 *
 * id   quantity            bytes   LPP resolution        value out         SenML unit
 * 0    digital_in          1       1                     vb = raw != 0     ""
 * 1    digital_out         1       1                     vb = raw != 0     ""
 * 2    analog_in           2 s     0.01                  raw / 100         "" (no unit in LPP)
 * 3    analog_out          2 s     0.01                  raw / 100         ""
 * 100  generic             4       1                     raw               ""
 * 101  illuminance         2       1 lx                  raw               lx
 * 102  presence            1       1                     vb = raw != 0     ""
 * 103  temperature         2 s     0.1 Cel               raw / 10          Cel
 * 104  humidity            1       0.5 %RH               raw / 2           %RH
 * 113  accelerometer_x/y/z 3 x 2 s 0.001 G               raw / 1000 * g0   m/s2 (g0 = 9.80665)
 * 115  barometer           2       0.1 hPa               raw * 10          Pa
 * 116  voltage             2       0.01 V                raw / 100         V
 * 117  current             2       0.001 A               raw / 1000        A
 * 118  frequency           4       1 Hz                  raw               Hz
 * 120  percentage          1       1 %                   raw / 100         "/" (ratio 0..1)
 * 121  altitude            2 s     1 m                   raw               m
 * 125  concentration       2       1 ppm                 raw / 1e6         "/" (ratio)
 * 128  power               2       1 W                   raw               W
 * 130  distance            4       0.001 m               raw / 1000        m
 * 131  energy              4       0.001 kWh             raw * 3600        J
 * 132  direction           2       1 deg                 raw               deg
 * 133  unixtime            4       1 s                   raw               s
 * 134  gyrometer_x/y/z_deg_per_s 3 x 2 s 0.01 deg/s      raw / 100         "" (see below)
 * 135  colour_r/g/b        3 x 1   1                     raw               ""
 * 136  gps_lat/lon/alt     3 x 3 s 0.0001 deg, 0.01 m    raw / 1e4, / 100  lat, lon, m
 * 142  switch              1       1                     vb = raw != 0     ""
 * ("s" = signed, two's complement; every value is big endian.)
 *
 * Units, by the rule of core/units.h (fieldgate.conf(5), Units). Only
 * registered SenML units go out: RFC 8428 section 12.1 and the primary
 * units RFC 8798 section 2 added (B, VA, var, J/m, kg/m3, deg, ...). RFC
 * 8798's "secondary units" (hPa, kWh, ppm, mV, ...) are linear
 * transformations of primary ones that SenML version 10 packs may not use
 * in "u", so the value is converted to the primary unit instead: hPa -> Pa,
 * kWh -> J, ppm -> "/" (a ratio, 1 ppm = 1e-6), percent -> "/" (1 % =
 * 0.01: RFC 8428's "%" is a NOT RECOMMENDED name of the ratio "/", not a
 * percentage), and G -> m/s2 (G is in neither registry). "deg" is
 * registered (RFC 8798, NOT RECOMMENDED next to rad) and kept, being
 * LPP's own unit. No angular-velocity unit is registered at all (neither
 * deg/s nor rad/s): the gyrometer keeps LPP's deg/s, has no "u", and says
 * its unit in its name, "gyrometer_x_deg_per_s_<channel>".
 * Booleans (digital in/out, presence, switch) are SenML vb values; LPP sends
 * a byte, and any nonzero byte is true.
 *
 * Signedness of voltage and current: the reference table and decoder.js say
 * unsigned; since 2025 the ElectronicCats library encodes them signed (its
 * PR #61). Decoded here as unsigned, as documented; a negative value from
 * that library reads as a large one (e.g. -1 V as 645.35 V).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec/codec.h"
#include "util/json-read.h"

#define G0 9.80665 /* standard gravity, m/s2 per G */

struct lpp_type {
	uint8_t id;
	uint8_t width; /* bytes per element */
	uint8_t count; /* elements: 1, or 3 (x y z, r g b, lat lon alt) */
	bool is_signed;
	bool boolean;
	const char *name; /* LPP name, quantity prefix */
	const char *suffix[3];
	double div[3]; /* LPP unit = raw / div */
	double mul;    /* SenML unit = LPP unit * mul / per */
	double per;    /* 0 means 1; a divisor keeps 57 % -> 0.57 one exact division */
	const char *unit[3];
};

#define ONE(i, w, s, b, n, d, m, u)                                                                \
	{                                                                                          \
		.id = (i), .width = (w), .count = 1, .is_signed = (s), .boolean = (b),             \
		.name = (n), .div = { (d) }, .mul = (m), .unit = { (u) },                          \
	}

static const struct lpp_type types[] = {
	ONE(0, 1, false, true, "digital_in", 1, 1, ""),
	ONE(1, 1, false, true, "digital_out", 1, 1, ""),
	ONE(2, 2, true, false, "analog_in", 100, 1, ""),
	ONE(3, 2, true, false, "analog_out", 100, 1, ""),
	ONE(100, 4, false, false, "generic", 1, 1, ""),
	ONE(101, 2, false, false, "illuminance", 1, 1, "lx"),
	ONE(102, 1, false, true, "presence", 1, 1, ""),
	ONE(103, 2, true, false, "temperature", 10, 1, "Cel"),
	ONE(104, 1, false, false, "humidity", 2, 1, "%RH"),
	{ .id = 113,
	  .width = 2,
	  .count = 3,
	  .is_signed = true,
	  .name = "accelerometer",
	  .suffix = { "x", "y", "z" },
	  .div = { 1000, 1000, 1000 },
	  .mul = G0,
	  .unit = { "m/s2", "m/s2", "m/s2" } },
	ONE(115, 2, false, false, "barometer", 10, 100, "Pa"),
	ONE(116, 2, false, false, "voltage", 100, 1, "V"),
	ONE(117, 2, false, false, "current", 1000, 1, "A"),
	ONE(118, 4, false, false, "frequency", 1, 1, "Hz"),
	{ .id = 120,
	  .width = 1,
	  .count = 1,
	  .name = "percentage",
	  .div = { 1 },
	  .mul = 1,
	  .per = 100,
	  .unit = { "/" } },
	ONE(121, 2, true, false, "altitude", 1, 1, "m"),
	ONE(125, 2, false, false, "concentration", 1, 1e-6, "/"),
	ONE(128, 2, false, false, "power", 1, 1, "W"),
	ONE(130, 4, false, false, "distance", 1000, 1, "m"),
	ONE(131, 4, false, false, "energy", 1000, 3.6e6, "J"),
	ONE(132, 2, false, false, "direction", 1, 1, "deg"),
	ONE(133, 4, false, false, "unixtime", 1, 1, "s"),
	{ .id = 134,
	  .width = 2,
	  .count = 3,
	  .is_signed = true,
	  .name = "gyrometer",
	  .suffix = { "x_deg_per_s", "y_deg_per_s", "z_deg_per_s" },
	  .div = { 100, 100, 100 },
	  .mul = 1,
	  .unit = { "", "", "" } },
	{ .id = 135,
	  .width = 1,
	  .count = 3,
	  .name = "colour",
	  .suffix = { "r", "g", "b" },
	  .div = { 1, 1, 1 },
	  .mul = 1,
	  .unit = { "", "", "" } },
	{ .id = 136,
	  .width = 3,
	  .count = 3,
	  .is_signed = true,
	  .name = "gps",
	  .suffix = { "lat", "lon", "alt" },
	  .div = { 10000, 10000, 100 },
	  .mul = 1,
	  .unit = { "lat", "lon", "m" } },
	ONE(142, 1, false, true, "switch", 1, 1, ""),
};

static const struct lpp_type *find_type(uint8_t id)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].id == id)
			return &types[i];
	return NULL;
}

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

/* A big-endian integer of 1..4 bytes, sign-extended when asked. */
static int64_t get_be(const uint8_t *p, unsigned width, bool is_signed)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < width; i++)
		v = v << 8 | p[i];
	if (is_signed && (v & (UINT64_C(1) << (8 * width - 1))))
		return (int64_t) v - (int64_t) (UINT64_C(1) << (8 * width));
	return (int64_t) v;
}

/* Fill one output value; the name always fits (longest: "gyrometer_x_deg_per_s_255"). */
static void put_value(struct fg_codec_value *v, const struct lpp_type *t, unsigned elem,
		      uint8_t channel, int64_t raw)
{
	memset(v, 0, sizeof(*v));
	if (t->count > 1)
		(void) snprintf(v->quantity, sizeof(v->quantity), "%s_%s_%u", t->name,
				t->suffix[elem], channel);
	else
		(void) snprintf(v->quantity, sizeof(v->quantity), "%s_%u", t->name, channel);
	(void) snprintf(v->unit, sizeof(v->unit), "%s", t->unit[elem]);
	if (t->boolean) {
		v->kind = FG_VALUE_BOOL;
		v->boolean = raw != 0;
	} else {
		v->kind = FG_VALUE_NUMBER;
		double d = t->div[elem] * (t->per ? t->per : 1);

		/* One division of exact integers when mul is 1: 272 / 10 is the double of 27.2. */
		if (t->mul == 1)
			v->number = (double) raw / d;
		else
			v->number = (double) raw * t->mul / d;
	}
}

int fg_cayenne_decode(const uint8_t *p, size_t n, struct fg_codec_value *out, size_t max,
		      size_t *ret_n, char *why, size_t why_size)
{
	size_t off = 0, k = 0;

	if ((!p && n > 0) || (!out && max > 0) || !ret_n)
		return fail(-EINVAL, why, why_size, "invalid arguments");

	while (off < n) {
		const struct lpp_type *t;
		uint8_t channel = p[off];
		size_t need;

		if (n - off < 2)
			return fail(-EBADMSG, why, why_size, "channel %u: no type byte", channel);
		t = find_type(p[off + 1]);
		if (!t)
			return fail(-EBADMSG, why, why_size, "channel %u: type 0x%02x unknown",
				    channel, p[off + 1]);
		off += 2;
		need = (size_t) t->width * t->count;
		if (n - off < need)
			return fail(-EBADMSG, why, why_size,
				    "channel %u: %s needs %zu bytes, %zu left", channel, t->name,
				    need, n - off);
		if (max - k < t->count)
			return fail(-ENOBUFS, why, why_size, "more than %zu values", max);
		for (unsigned e = 0; e < t->count; e++)
			put_value(&out[k++], t, e, channel,
				  get_be(p + off + (size_t) e * t->width, t->width, t->is_signed));
		off += need;
	}
	*ret_n = k;
	return 0;
}

int fg_cayenne_put(uint8_t *buf, size_t size, size_t *len, uint8_t channel, uint8_t type,
		   const double *v)
{
	const struct lpp_type *t = find_type(type);
	int64_t raw[3];
	size_t need, at;

	if (!buf || !len || !v || !t || *len > size)
		return -EINVAL;
	for (unsigned e = 0; e < t->count; e++) {
		double bits = 8.0 * t->width;
		double lo = t->is_signed ? -ldexp(1, (int) bits - 1) : 0;
		double hi = t->is_signed ? ldexp(1, (int) bits - 1) - 1 : ldexp(1, (int) bits) - 1;
		double r = round(v[e] * t->div[e]);

		/* Written so that NaN fails too. */
		if (!(r >= lo && r <= hi))
			return -ERANGE;
		raw[e] = (int64_t) r;
	}
	need = 2 + (size_t) t->width * t->count;
	if (size - *len < need)
		return -EMSGSIZE;
	at = *len;
	buf[at++] = channel;
	buf[at++] = type;
	for (unsigned e = 0; e < t->count; e++) {
		uint64_t u = (uint64_t) raw[e];

		for (unsigned i = t->width; i-- > 0;)
			buf[at++] = (uint8_t) (u >> (8 * i));
	}
	*len = at;
	return 0;
}

/* The decoder's quantity names, and the CayenneLPP library's spelling of the first four. */
static const struct {
	const char *alias;
	uint8_t id;
} aliases[] = {
	{ "digital_input", 0 },
	{ "digital_output", 1 },
	{ "analog_input", 2 },
	{ "analog_output", 3 },
};

/* One member of the object to encode. */
struct lpp_item {
	const struct lpp_type *t;
	unsigned elem;
	uint8_t channel;
	double v;
	bool used;
};

/* The type, element and channel a key names ("temperature_1", "gps_lat_2"); false if none. */
static bool parse_key(const char *key, size_t n, struct lpp_item *it)
{
	const char *us = NULL;
	unsigned ch = 0;
	size_t plen;

	if (memchr(key, '\0', n))
		return false;
	for (size_t i = 0; i < n; i++)
		if (key[i] == '_')
			us = key + i;
	if (!us || us[1] == '\0' || (us[1] == '0' && us[2] != '\0'))
		return false;
	for (const char *c = us + 1; *c; c++) {
		if (*c < '0' || *c > '9' || (ch = ch * 10 + (unsigned) (*c - '0')) > 255)
			return false;
	}
	it->channel = (uint8_t) ch;
	plen = (size_t) (us - key);
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strlen(aliases[i].alias) == plen && memcmp(key, aliases[i].alias, plen) == 0) {
			it->t = find_type(aliases[i].id);
			it->elem = 0;
			return true;
		}
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		const struct lpp_type *t = &types[i];
		size_t nl = strlen(t->name);

		if (plen < nl || memcmp(key, t->name, nl) != 0)
			continue;
		if (t->count == 1) {
			if (plen != nl)
				continue;
			it->t = t;
			it->elem = 0;
			return true;
		}
		for (unsigned e = 0; e < t->count; e++) {
			size_t sl = strlen(t->suffix[e]);

			if (plen == nl + 1 + sl && key[nl] == '_' &&
			    memcmp(key + nl + 1, t->suffix[e], sl) == 0) {
				it->t = t;
				it->elem = e;
				return true;
			}
		}
	}
	return false;
}

/* The name the decoder gives an element, for messages. */
static void item_name(const struct lpp_type *t, unsigned e, unsigned channel, char *buf,
		      size_t size)
{
	if (t->count > 1)
		(void) snprintf(buf, size, "%s_%s_%u", t->name, t->suffix[e], channel);
	else
		(void) snprintf(buf, size, "%s_%u", t->name, channel);
}

#define LPP_ITEMS_MAX 96 /* more than a 242-byte payload can hold (3 bytes a record) */

int fg_cayenne_encode(const char *json_object, size_t len, uint8_t *out, size_t size,
		      size_t *ret_len, char *why, size_t why_size)
{
	struct lpp_item items[LPP_ITEMS_MAX];
	char key[FG_QUANTITY_MAX], name[FG_QUANTITY_MAX];
	size_t n = 0, at = 0, klen;
	struct fg_jr jr;
	int r;

	if ((!json_object && len > 0) || (!out && size > 0) || !ret_len)
		return fail(-EINVAL, why, why_size, "invalid arguments");
	fg_jr_init(&jr, json_object, len);
	r = fg_jr_object_begin(&jr);
	if (r < 0)
		return fail(-EBADMSG, why, why_size, "not a JSON object");
	while ((r = fg_jr_member(&jr, key, sizeof(key), &klen)) != 0) {
		struct lpp_item it = { 0 };
		bool b;

		if (r < 0 && r != -ENOBUFS)
			return fail(-EBADMSG, why, why_size, "not valid JSON at byte %zu", jr.pos);
		if (r < 0 || !parse_key(key, klen, &it))
			return fail(-EBADMSG, why, why_size, "'%s': not a Cayenne LPP name",
				    r < 0 || !fg_reading_name_valid(key) ? "?" : key);
		item_name(it.t, it.elem, it.channel, name, sizeof(name));
		for (size_t i = 0; i < n; i++)
			if (items[i].t == it.t && items[i].elem == it.elem &&
			    items[i].channel == it.channel)
				return fail(-EBADMSG, why, why_size, "'%s' given twice", name);
		if (n == LPP_ITEMS_MAX)
			return fail(-EMSGSIZE, why, why_size, "more than %d values", LPP_ITEMS_MAX);
		if (it.t->boolean && fg_jr_peek(&jr) == FG_JR_BOOL) {
			(void) fg_jr_bool(&jr, &b);
			it.v = b;
		} else if (fg_jr_number(&jr, &it.v) < 0) {
			if (jr.err)
				return fail(-EBADMSG, why, why_size, "not valid JSON at byte %zu",
					    jr.pos);
			return fail(-EBADMSG, why, why_size, "'%s': expected %s", name,
				    it.t->boolean ? "true, false, 0 or 1" : "a number");
		}
		if (it.t->boolean && it.v != 0 && it.v != 1)
			return fail(-EBADMSG, why, why_size, "'%s': expected true, false, 0 or 1",
				    name);
		items[n++] = it;
	}
	if (fg_jr_end(&jr) < 0)
		return fail(-EBADMSG, why, why_size, "not valid JSON at byte %zu", jr.pos);

	for (size_t i = 0; i < n; i++) {
		const struct lpp_type *t = items[i].t;
		double lpp[3];

		if (items[i].used)
			continue;
		/* A record of three elements needs all three, found by type and channel. */
		for (unsigned e = 0; e < t->count; e++) {
			size_t j;

			for (j = i; j < n; j++)
				if (!items[j].used && items[j].t == t && items[j].elem == e &&
				    items[j].channel == items[i].channel)
					break;
			if (j == n) {
				item_name(t, e, items[i].channel, name, sizeof(name));
				return fail(-EBADMSG, why, why_size, "'%s' missing", name);
			}
			items[j].used = true;
			/* SenML units back to LPP's own: the decoder's mul / per inverted. */
			lpp[e] = items[j].v * (t->per ? t->per : 1) / t->mul;
		}
		r = fg_cayenne_put(out, size, &at, items[i].channel, t->id, lpp);
		if (r == -EMSGSIZE)
			return fail(-EMSGSIZE, why, why_size, "more than %zu bytes", size);
		if (r < 0) {
			item_name(t, items[i].elem, items[i].channel, name, sizeof(name));
			return fail(-EBADMSG, why, why_size, "'%s': out of range for %s", name,
				    t->name);
		}
	}
	*ret_len = at;
	return 0;
}
