/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/format.h"
#include "util/json.h"

static const char *const format_names[FG_FORMAT__COUNT] = {
	[FG_FORMAT_SENML] = "senml",
	[FG_FORMAT_JSON] = "json",
};

static const char *const content_types[FG_FORMAT__COUNT] = {
	[FG_FORMAT_SENML] = "application/senml+json",
	[FG_FORMAT_JSON] = "application/json",
};

const char *fg_format_to_string(enum fg_format f)
{
	if ((unsigned) f >= FG_FORMAT__COUNT)
		return NULL;
	return format_names[f];
}

int fg_format_from_string(const char *s)
{
	for (int i = 0; s && i < FG_FORMAT__COUNT; i++)
		if (strcmp(s, format_names[i]) == 0)
			return i;
	return -EINVAL;
}

const char *fg_format_content_type(enum fg_format f)
{
	if ((unsigned) f >= FG_FORMAT__COUNT)
		return NULL;
	return content_types[f];
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 9039 "devunreserved": what an identifier of a device URN may hold. */
static bool is_urn_char(char c)
{
	return is_alnum(c) || c == '.' || c == '-';
}

/* RFC 8428 section 4.5.1: what a SenML name may hold. */
static bool is_senml_name_char(char c)
{
	return is_alnum(c) || c == '-' || c == ':' || c == '.' || c == '/' || c == '_';
}

/* MQTT gives '+', '#' and '/' meaning; space and non-ASCII make topics hard to handle. */
static bool is_topic_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '+' && c != '#' && c != '/';
}

static char to_lower_hex(char c)
{
	return (c >= 'A' && c <= 'F') ? (char) (c - 'A' + 'a') : c;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * Whether id is an EUI-48 or EUI-64 (BLE MAC, LoRaWAN DevEUI): 12 or 16 hex
 * digits, bare or as pairs split by one consistent ':' or '-'. On success hex
 * holds the digits in lowercase.
 */
static bool parse_eui(const char *id, char hex[static 17])
{
	size_t len = strnlen(id, FG_DEVICE_ID_MAX), n = 0;
	char sep = 0;

	if (len == 12 || len == 16) {
		for (size_t i = 0; i < len; i++)
			if (!is_hex(id[i]))
				return false;
	} else if (len == 17 || len == 23) {
		sep = id[2];
		if (sep != ':' && sep != '-')
			return false;
		for (size_t i = 0; i < len; i++)
			if (i % 3 == 2 ? id[i] != sep : !is_hex(id[i]))
				return false;
	} else {
		return false;
	}
	for (size_t i = 0; i < len; i++)
		if (id[i] != sep || !sep)
			hex[n++] = to_lower_hex(id[i]);
	hex[n] = '\0';
	return true;
}

/*
 * The SenML base name: an RFC 9039 device URN with a ':' appended so that the
 * record names read as "<urn>:temperature" (as in RFC 8428's own examples).
 *
 * EUI-48 and EUI-64 ids (BLE MACs, LoRaWAN DevEUIs) are hardware identifiers
 * and use the "mac" form: urn:dev:mac:<lowercase hex, no separators>.
 *
 * Other ids (simulator ids, ABP DevAddrs) are not globally unique hardware
 * addresses. RFC 9039 offers them only the organization forms, which need an
 * IANA Private Enterprise Number; fieldgate has none, so FG_FORMAT_URN_PEN
 * defaults to 32473, the PEN that RFC 5612 reserves for documentation (and
 * that RFC 9039's own examples use). The identifier is "fieldgate.<source>"
 * followed by ":<id>", because such ids are unique only within one source:
 * urn:dev:org:32473-fieldgate.sim:sim-0001. RFC 9039 allows only
 * [A-Za-z0-9.-] in an identifier, so any other byte of the id becomes '-'.
 */
static void put_base_name(struct fg_json *j, const struct fg_reading *r)
{
	char hex[17], id[FG_DEVICE_ID_MAX];
	const char *src = fg_source_kind_to_string(r->source);
	size_t len = strnlen(r->device_id, FG_DEVICE_ID_MAX);

	if (parse_eui(r->device_id, hex)) {
		fg_json_raw(j, "\"urn:dev:mac:", 13);
		fg_json_raw(j, hex, strlen(hex));
		fg_json_raw(j, ":\"", 2);
		return;
	}
	for (size_t i = 0; i < len; i++)
		id[i] = is_urn_char(r->device_id[i]) ? r->device_id[i] : '-';
	/* An empty identifier is not allowed either. */
	if (!src)
		src = "unknown";
	fg_json_raw(j, "\"urn:dev:org:", 13);
	fg_json_i64(j, FG_FORMAT_URN_PEN);
	fg_json_raw(j, "-fieldgate.", 11);
	fg_json_raw(j, src, strlen(src));
	fg_json_raw(j, ":", 1);
	fg_json_raw(j, len ? id : "-", len ? len : 1);
	fg_json_raw(j, ":\"", 2);
}

/*
 * A measured value: 15 significant digits give back any decimal of up to 15
 * digits that a sensor or codec produced (21.53, not 21.530000000000001, even
 * when the double is 21.53 times a scale step off by an ulp).
 * Callers skip non-finite values before getting here.
 */
static void put_number(struct fg_json *j, double v)
{
	fg_json_number(j, v, 15);
}

/* Whether the reading has a value JSON can carry: NaN and infinities have none. */
static bool has_value(const struct fg_reading *r)
{
	return r->kind != FG_VALUE_NUMBER || isfinite(r->number);
}

/* Append the record name: RFC 8428 names allow only [A-Za-z0-9-:./_]; others become '_'. */
static void put_senml_name(struct fg_json *j, const char *q)
{
	char name[FG_QUANTITY_MAX];
	size_t len = strnlen(q, FG_QUANTITY_MAX);

	for (size_t i = 0; i < len; i++)
		name[i] = is_senml_name_char(q[i]) ? q[i] : '_';
	fg_json_raw(j, "\"", 1);
	fg_json_raw(j, name, len);
	fg_json_raw(j, "\"", 1);
}

/* The value member of a reading. */
static void put_value(struct fg_json *j, const struct fg_reading *r, const char *num_key,
		      const char *str_key, const char *bool_key)
{
	switch (r->kind) {
	case FG_VALUE_NUMBER:
		fg_json_raw(j, num_key, strlen(num_key));
		put_number(j, r->number);
		break;
	case FG_VALUE_BOOL:
		fg_json_raw(j, bool_key, strlen(bool_key));
		if (r->boolean)
			fg_json_raw(j, "true", 4);
		else
			fg_json_raw(j, "false", 5);
		break;
	case FG_VALUE_STRING:
	default:
		fg_json_raw(j, str_key, strlen(str_key));
		fg_json_string(j, r->text);
		break;
	}
}

/*
 * RFC 8428 pack: the first record carries bn, bt (when the wall time is known)
 * and the extension field "seq" (RFC 8428 section 4.4: receivers ignore
 * unknown fields unless their name ends in '_', so "seq" is safe to add and
 * consumers that dedupe can read it). Records: n, u (if any), v/vs/vb, and t
 * relative to bt only for readings whose time differs from the first one's.
 * SenML has no null value: a NaN or infinite number drops its record; a frame
 * with nothing left returns -ENODATA.
 */
static void format_senml(struct fg_json *j, const struct fg_reading *r, size_t n, uint64_t seq,
			 size_t *ret_records)
{
	uint64_t base = r[0].time_ms;
	size_t records = 0;

	fg_json_raw(j, "[", 1);
	for (size_t i = 0; i < n; i++) {
		if (!has_value(&r[i]))
			continue;
		fg_json_raw(j, records ? ",{" : "{", records ? 2 : 1);
		if (records == 0) {
			fg_json_raw(j, "\"bn\":", 5);
			put_base_name(j, &r[0]);
			if (base) {
				fg_json_raw(j, ",\"bt\":", 6);
				fg_json_ms_seconds(j, (int64_t) base);
			}
			fg_json_raw(j, ",\"seq\":", 7);
			fg_json_u64(j, seq);
			fg_json_raw(j, ",", 1);
		}
		fg_json_raw(j, "\"n\":", 4);
		put_senml_name(j, r[i].quantity);
		if (r[i].unit[0]) {
			fg_json_raw(j, ",\"u\":", 5);
			fg_json_string_n(j, r[i].unit, FG_UNIT_MAX);
		}
		put_value(j, &r[i], ",\"v\":", ",\"vs\":", ",\"vb\":");
		if (base && r[i].time_ms && r[i].time_ms != base) {
			fg_json_raw(j, ",\"t\":", 5);
			fg_json_ms_seconds(j, (int64_t) (r[i].time_ms - base));
		}
		fg_json_raw(j, "}", 1);
		records++;
	}
	fg_json_raw(j, "]", 1);
	*ret_records = records;
}

/* Keys of the flat object that a quantity may not take: the header and the radio metadata. */
static const char *const flat_header_keys[] = { "gateway", "device", "name",  "source",
						"seq",	   "time",   "units", NULL };
static const char *const flat_radio_keys[] = { "rssi", "snr", "freq", "sf", "bw", "dr", NULL };

/*
 * A quantity's key in the flat object, as it is written: JSON-escaped, without
 * the quotes, with room for a "_<n>" suffix. Keys are compared in this form
 * because different bytes can escape alike (any two invalid UTF-8 bytes both
 * become \ufffd).
 */
#define FLAT_KEY_ESCAPED_SIZE (FG_QUANTITY_MAX * 6 + 3) /* \u00XX per byte, quotes, NUL */
struct flat_key {
	char s[FLAT_KEY_ESCAPED_SIZE + 11]; /* "_" and up to 10 digits */
};

/* Write q's escaped form, without quotes, into key. */
static void flat_key_escape(char *key, size_t size, const char *q)
{
	struct fg_json e;

	fg_json_init_fixed(&e, key, size);
	fg_json_string_n(&e, q, FG_QUANTITY_MAX);
	/* Fits by construction: at most 6 bytes per input byte, plus quotes. */
	memmove(key, key + 1, e.len - 2);
	key[e.len - 2] = '\0';
}

/* Whether key is reserved or already used by one of the first `used` quantities. */
static bool key_taken(const char *key, const struct flat_key *keys, size_t used)
{
	for (size_t i = 0; flat_header_keys[i]; i++)
		if (strcmp(key, flat_header_keys[i]) == 0)
			return true;
	for (size_t i = 0; flat_radio_keys[i]; i++)
		if (strcmp(key, flat_radio_keys[i]) == 0)
			return true;
	for (size_t i = 0; i < used; i++)
		if (strcmp(key, keys[i].s) == 0)
			return true;
	return false;
}

/*
 * One flat object per frame. Quantities become keys; JSON objects should not
 * repeat a key (RFC 8259 section 4), so a name that is already taken, by an
 * earlier reading or by one of the fixed keys (including the radio ones,
 * always), gets the first free suffix _2, _3, ... in frame order: two
 * "temperature" readings give "temperature" and "temperature_2". Units go in
 * "units" under the same keys. A NaN or infinite number is left out, key and
 * unit both. "time" is the first reading's (ms, null while unknown); radio
 * metadata comes from the first reading that has it.
 */
static int format_flat(struct fg_json *j, const struct fg_reading *r, size_t n, uint64_t seq,
		       const char *gateway)
{
	struct flat_key *keys;
	const struct fg_radio_meta *radio = NULL;
	size_t used = 0;
	bool any_unit = false;

	keys = calloc(n, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	fg_json_raw(j, "{\"gateway\":", 11);
	fg_json_string(j, gateway);
	fg_json_raw(j, ",\"device\":", 10);
	fg_json_string_n(j, r[0].device_id, FG_DEVICE_ID_MAX);
	fg_json_raw(j, ",\"name\":", 8);
	fg_json_string_n(j, r[0].device_name, FG_DEVICE_NAME_MAX);
	fg_json_raw(j, ",\"source\":", 10);
	fg_json_string(j, fg_source_kind_to_string(r[0].source));
	fg_json_raw(j, ",\"seq\":", 7);
	fg_json_u64(j, seq);
	if (r[0].time_ms) {
		fg_json_raw(j, ",\"time\":", 8);
		fg_json_u64(j, r[0].time_ms);
	} else
		fg_json_raw(j, ",\"time\":null", 12);
	for (size_t i = 0; i < n; i++) {
		char *key = keys[used].s, base[FLAT_KEY_ESCAPED_SIZE];

		if (!radio && r[i].radio.present)
			radio = &r[i].radio;
		if (!has_value(&r[i]))
			continue;
		flat_key_escape(base, sizeof(base), r[i].quantity);
		snprintf(key, sizeof(keys[0].s), "%s", base);
		for (unsigned k = 2; key_taken(key, keys, used); k++)
			snprintf(key, sizeof(keys[0].s), "%s_%u", base, k);
		fg_json_raw(j, ",\"", 2);
		fg_json_raw(j, key, strlen(key));
		fg_json_raw(j, "\"", 1);
		put_value(j, &r[i], ":", ":", ":");
		any_unit |= r[i].unit[0] != '\0';
		used++;
	}
	if (any_unit) {
		bool first = true;
		size_t k = 0;

		fg_json_raw(j, ",\"units\":{", 10);
		for (size_t i = 0; i < n; i++) {
			if (!has_value(&r[i]))
				continue;
			if (r[i].unit[0]) {
				fg_json_raw(j, first ? "" : ",", first ? 0 : 1);
				fg_json_printf(j, "\"%s\":", keys[k].s);
				fg_json_string_n(j, r[i].unit, FG_UNIT_MAX);
				first = false;
			}
			k++;
		}
		fg_json_raw(j, "}", 1);
	}
	if (radio) {
		fg_json_raw(j, ",\"rssi\":", 8);
		fg_json_i64(j, radio->rssi);
		if (isfinite(radio->snr)) {
			/* A float: 6 digits (FLT_DIG) show 7.3, not 7.30000019073486. */
			fg_json_raw(j, ",\"snr\":", 7);
			fg_json_number(j, (double) radio->snr, 6);
		}
		fg_json_raw(j, ",\"freq\":", 8);
		fg_json_u64(j, radio->freq_hz);
		if (radio->sf) {
			fg_json_raw(j, ",\"sf\":", 6);
			fg_json_u64(j, radio->sf);
			fg_json_raw(j, ",\"bw\":", 6);
			fg_json_u64(j, radio->bw_hz);
		}
		if (radio->dr >= 0) {
			fg_json_raw(j, ",\"dr\":", 6);
			fg_json_i64(j, radio->dr);
		}
	}
	fg_json_raw(j, "}", 1);
	free(keys);
	return 0;
}

int fg_format_payload(enum fg_format f, const struct fg_reading *r, size_t n, uint64_t seq,
		      const char *gateway, char **ret_payload, size_t *ret_len)
{
	struct fg_json j;
	size_t records = 0;
	int e = 0;

	if (!r || n == 0 || (unsigned) f >= FG_FORMAT__COUNT || !ret_payload || !ret_len)
		return -EINVAL;
	fg_json_init_dynamic(&j);
	if (f == FG_FORMAT_SENML) {
		format_senml(&j, r, n, seq, &records);
		if (records == 0)
			e = -ENODATA;
	} else {
		e = format_flat(&j, r, n, seq, gateway ? gateway : "");
	}
	if (e < 0) {
		fg_json_free(&j);
		return e;
	}
	return fg_json_steal(&j, ret_payload, ret_len);
}

/* The first occurrence of needle in the n bytes at p, or NULL. */
static const char *find_bytes(const char *p, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; k <= n && i <= n - k; i++)
		if (p[i] == needle[0] && memcmp(p + i, needle, k) == 0)
			return p + i;
	return NULL;
}

/*
 * Inside a JSON string a quote is always escaped, so an unescaped '"' in the
 * patterns below can only be the real key: a device name cannot fake it.
 */
int fg_format_stamp_time(const void *payload, size_t len, uint64_t time_ms, char **ret_payload,
			 size_t *ret_len)
{
	static const char senml_head[] = "[{\"bn\":", flat_head[] = "{\"gateway\":",
			  flat_null[] = ",\"time\":null";
	const char *p = payload;
	const char *at;
	struct fg_json j;

	if (!payload || !ret_payload || !ret_len || time_ms == 0)
		return -EINVAL;
	fg_json_init_dynamic(&j);
	if (len > strlen(senml_head) && memcmp(p, senml_head, strlen(senml_head)) == 0) {
		size_t i = strlen(senml_head);

		if (find_bytes(p, len, "\"bt\":"))
			goto exists;
		/* After the base name's string, where format_senml puts "bt". */
		if (i >= len || p[i] != '"')
			goto foreign;
		for (i++; i < len && p[i] != '"'; i++)
			if (p[i] == '\\')
				i++;
		if (i >= len)
			goto foreign;
		i++;
		fg_json_raw(&j, p, i);
		fg_json_raw(&j, ",\"bt\":", 6);
		fg_json_ms_seconds(&j, (int64_t) time_ms);
		fg_json_raw(&j, p + i, len - i);
	} else if (len > strlen(flat_head) && memcmp(p, flat_head, strlen(flat_head)) == 0) {
		/* The first "time" key is the header's: only its null is replaced. */
		at = find_bytes(p, len, ",\"time\":");
		if (!at || (size_t) (p + len - at) < strlen(flat_null) ||
		    memcmp(at, flat_null, strlen(flat_null)) != 0)
			goto exists;
		fg_json_raw(&j, p, (size_t) (at - p));
		fg_json_raw(&j, ",\"time\":", 8);
		fg_json_u64(&j, time_ms);
		at += strlen(flat_null);
		fg_json_raw(&j, at, len - (size_t) (at - p));
	} else {
		goto foreign;
	}
	return fg_json_steal(&j, ret_payload, ret_len);
foreign:
	fg_json_free(&j);
	return -EPROTONOSUPPORT;
exists:
	fg_json_free(&j);
	return -EEXIST;
}

/* Copy one placeholder's value, replacing what MQTT gives meaning to by '_'. */
static void put_topic_value(struct fg_json *j, const char *v, size_t maxlen)
{
	size_t len, run = 0;

	if (!v)
		return;
	len = strnlen(v, maxlen);
	/* Runs of plain characters are copied at once. */
	for (size_t i = 0; i < len; i++) {
		if (is_topic_char((unsigned char) v[i])) {
			run++;
			continue;
		}
		fg_json_raw(j, v + i - run, run);
		fg_json_raw(j, "_", 1);
		run = 0;
	}
	fg_json_raw(j, v + len - run, run);
}

int fg_format_topic(const char *tmpl, const char *gateway, const struct fg_reading *r, char *buf,
		    size_t size)
{
	struct fg_json j;
	const char *p;

	if (!tmpl || !r || !buf)
		return -EINVAL;
	/* fg_json's fixed buffer doubles as a bounded string builder here; nothing is escaped. */
	fg_json_init_fixed(&j, buf, size);
	for (p = tmpl; *p;) {
		const char *end;
		size_t len;

		if (*p != '{') {
			len = strcspn(p, "{");
			fg_json_raw(&j, p, len);
			p += len;
			continue;
		}
		end = strchr(p, '}');
		if (!end)
			goto invalid;
		len = (size_t) (end - p - 1);
		if (len == 7 && strncmp(p + 1, "gateway", len) == 0)
			put_topic_value(&j, gateway, SIZE_MAX);
		else if (len == 6 && strncmp(p + 1, "source", len) == 0)
			put_topic_value(&j, fg_source_kind_to_string(r->source), SIZE_MAX);
		else if (len == 6 && strncmp(p + 1, "device", len) == 0)
			put_topic_value(&j, r->device_id, FG_DEVICE_ID_MAX);
		else if (len == 4 && strncmp(p + 1, "name", len) == 0)
			put_topic_value(&j, r->device_name, FG_DEVICE_NAME_MAX);
		else if (len == 8 && strncmp(p + 1, "quantity", len) == 0)
			put_topic_value(&j, r->quantity, FG_QUANTITY_MAX);
		else
			goto invalid;
		p = end + 1;
	}
	if (j.err < 0) {
		if (size)
			buf[0] = '\0';
		return j.err;
	}
	return (int) j.len;
invalid:
	if (size)
		buf[0] = '\0';
	return -EINVAL;
}

int fg_format_gateway_topic(const char *gateway, const char *leaf, char *buf, size_t size)
{
	int n;

	if (!gateway || !leaf || !buf || size == 0)
		return -EINVAL;
	n = snprintf(buf, size, "fieldgate/%s/%s", gateway, leaf);
	if (n < 0 || (size_t) n >= size) {
		buf[0] = '\0';
		return -ENOBUFS;
	}
	return n;
}
