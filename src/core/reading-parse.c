/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Readings back from the JSON lines fg_reading_to_json writes (see reading-parse.h). */
#include <assert.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/reading-parse.h"

#define LINE_MAX_BYTES (64 * 1024)
/* How much of an offending string an error message quotes. */
#define QUOTE_MAX 40

/* Write a one-line reason into err: control bytes (from the input) become '?'. */
__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t size, int code,
						      const char *fmt, ...)
{
	va_list ap;

	if (!err || size == 0)
		return code;
	va_start(ap, fmt);
	(void) vsnprintf(err, size, fmt, ap);
	va_end(ap);
	for (char *p = err; *p; p++)
		if ((unsigned char) *p < 0x20 || *p == 0x7f)
			*p = '?';
	return code;
}

/* A string member into a fixed field (size includes the NUL); absent: def (NULL: required). */
static int get_field(const json_t *o, const char *key, char *dst, size_t size, const char *def,
		     char *err, size_t err_size)
{
	const json_t *v = json_object_get(o, key);
	size_t len;

	if (!v) {
		if (!def)
			return fail(err, err_size, -EINVAL, "\"%s\" is missing", key);
		len = strlen(def);
		assert(len < size); /* "" or the device id, which fits any name field */
		memcpy(dst, def, len + 1);
		return 0;
	}
	if (!json_is_string(v))
		return fail(err, err_size, -EINVAL, "\"%s\": expected a string", key);
	len = json_string_length(v);
	/* jansson refuses \u0000 (no JSON_ALLOW_NUL): the length is the C string's. */
	if (len >= size)
		return fail(err, err_size, -EINVAL, "\"%s\": longer than %zu bytes", key, size - 1);
	memcpy(dst, json_string_value(v), len + 1);
	return 0;
}

/* A name field (device id, quantity) that must also pass fg_reading_name_valid. */
static int get_name(const json_t *o, const char *key, char *dst, size_t size, char *err,
		    size_t err_size)
{
	int r = get_field(o, key, dst, size, NULL, err, err_size);

	if (r < 0)
		return r;
	if (!fg_reading_name_valid(dst))
		return fail(err, err_size, -EINVAL,
			    "\"%s\": '%.*s' is not a valid %s (1..%zu of A-Z a-z 0-9 _ . : -)", key,
			    QUOTE_MAX, dst, strcmp(key, "device") ? "name" : "device id", size - 1);
	return 0;
}

/*
 * An integer member in min..max into *ret; absent: *present false and *ret
 * untouched. null is accepted only where null_ok (then *ret = 0). what
 * completes "expected ...".
 */
static int get_int(const json_t *o, const char *key, int64_t min, int64_t max, bool null_ok,
		   const char *what, int64_t *ret, bool *present, char *err, size_t err_size)
{
	const json_t *v = json_object_get(o, key);
	json_int_t i;

	if (present)
		*present = v != NULL;
	if (!v)
		return 0;
	if (null_ok && json_is_null(v)) {
		*ret = 0;
		return 0;
	}
	if (!json_is_integer(v))
		return fail(err, err_size, -EINVAL, "\"%s\": expected %s", key, what);
	i = json_integer_value(v);
	if (i < min || i > max)
		return fail(err, err_size, -EINVAL, "\"%s\": expected %s, got %" PRId64, key, what,
			    (int64_t) i);
	*ret = i;
	return 0;
}

/* "value": a finite number, true/false, or a string (r->text borrows it from the tree). */
static int get_value(const json_t *o, struct fg_reading *r, char *err, size_t err_size)
{
	const json_t *v = json_object_get(o, "value");

	if (!v)
		return fail(err, err_size, -EINVAL, "\"value\" is missing");
	if (json_is_number(v)) {
		double d = json_number_value(v);

		/* jansson already refuses a literal that overflows a double (1e999). */
		if (!isfinite(d))
			return fail(err, err_size, -EINVAL, "\"value\": not a finite number");
		fg_reading_set_number(r, d);
		return 0;
	}
	if (json_is_boolean(v)) {
		fg_reading_set_bool(r, json_is_true(v));
		return 0;
	}
	if (!json_is_string(v))
		return fail(err, err_size, -EINVAL,
			    "\"value\": expected a number, true, false or a string%s",
			    json_is_null(v) ? ", got null" : "");
	/* Copied into the caller's text by fg_reading_from_json, once all else has parsed. */
	fg_reading_set_text(r, json_string_value(v));
	return 0;
}

/* The radio metadata: any member present makes radio.present. */
static int get_radio(const json_t *o, struct fg_radio_meta *m, char *err, size_t err_size)
{
	const json_t *snr = json_object_get(o, "snr");
	bool have_rssi, have_freq, have_sf, have_bw, have_dr;
	int64_t v = 0;
	int r;

	r = get_int(o, "rssi", INT16_MIN, INT16_MAX, false, "an integer -32768..32767 (dBm)", &v,
		    &have_rssi, err, err_size);
	if (r < 0)
		return r;
	m->rssi = (int16_t) v;
	r = get_int(o, "freq", 0, UINT32_MAX, false, "an integer 0..4294967295 (Hz)", &v,
		    &have_freq, err, err_size);
	if (r < 0)
		return r;
	m->freq_hz = have_freq ? (uint32_t) v : 0;
	r = get_int(o, "sf", 0, UINT8_MAX, false, "an integer 0..255", &v, &have_sf, err, err_size);
	if (r < 0)
		return r;
	m->sf = have_sf ? (uint8_t) v : 0;
	r = get_int(o, "bw", 0, UINT32_MAX, false, "an integer 0..4294967295 (Hz)", &v, &have_bw,
		    err, err_size);
	if (r < 0)
		return r;
	m->bw_hz = have_bw ? (uint32_t) v : 0;
	v = -1;
	r = get_int(o, "dr", -1, INT8_MAX, false, "an integer -1..127", &v, &have_dr, err,
		    err_size);
	if (r < 0)
		return r;
	m->dr = (int8_t) v;
	if (snr) {
		/* fg_reading_to_json writes a non-finite SNR as null. */
		if (json_is_null(snr)) {
			m->snr = NAN;
		} else if (json_is_number(snr) && fabs(json_number_value(snr)) <= FLT_MAX) {
			m->snr = (float) json_number_value(snr);
		} else {
			return fail(err, err_size, -EINVAL,
				    "\"snr\": expected a number (dB) or null");
		}
	}
	m->present = have_rssi || snr || have_freq || have_sf || have_bw || have_dr;
	return 0;
}

/* Every member of an object already known to be one. */
static int parse_object(const json_t *o, struct fg_reading *r, char *err, size_t err_size)
{
	const json_t *src;
	int64_t v = 0;
	int k, e;

	memset(r, 0, sizeof(*r));
	r->radio.dr = -1;
	e = get_name(o, "device", r->device_id, sizeof(r->device_id), err, err_size);
	if (e < 0)
		return e;
	src = json_object_get(o, "source");
	if (!src)
		return fail(err, err_size, -EINVAL, "\"source\" is missing");
	if (!json_is_string(src))
		return fail(err, err_size, -EINVAL, "\"source\": expected a string");
	k = fg_source_kind_from_string(json_string_value(src));
	if (k < 0 || strlen(json_string_value(src)) != json_string_length(src))
		return fail(err, err_size, -EINVAL,
			    "\"source\": expected sim, lora, ble or gateway, got '%.*s'", QUOTE_MAX,
			    json_string_value(src));
	r->source = (enum fg_source_kind) k;
	e = get_name(o, "quantity", r->quantity, sizeof(r->quantity), err, err_size);
	if (e < 0)
		return e;
	e = get_value(o, r, err, err_size);
	if (e < 0)
		return e;
	e = get_field(o, "name", r->device_name, sizeof(r->device_name), r->device_id, err,
		      err_size);
	if (e < 0)
		return e;
	e = get_field(o, "unit", r->unit, sizeof(r->unit), "", err, err_size);
	if (e < 0)
		return e;
	e = get_int(o, "time", 0, INT64_MAX, true, "milliseconds since 1970 or null", &v, NULL, err,
		    err_size);
	if (e < 0)
		return e;
	r->time_ms = (uint64_t) v;
	v = 0;
	e = get_int(o, "mono_us", 0, INT64_MAX, false, "a non-negative integer (microseconds)", &v,
		    NULL, err, err_size);
	if (e < 0)
		return e;
	r->mono_usec = (uint64_t) v;
	e = get_field(o, "boot_id", r->boot_id, sizeof(r->boot_id), "", err, err_size);
	if (e < 0)
		return e;
	v = 0;
	e = get_int(o, "frame", 0, INT64_MAX, false, "a non-negative integer", &v, NULL, err,
		    err_size);
	if (e < 0)
		return e;
	r->frame_id = (uint64_t) v;
	return get_radio(o, &r->radio, err, err_size);
}

int fg_reading_from_json(const char *line, size_t len, struct fg_reading *r, char *text,
			 size_t text_size, char *err, size_t err_size)
{
	struct fg_reading tmp;
	json_error_t jerr;
	json_t *root;
	int e;

	assert(line || len == 0);
	if (len > LINE_MAX_BYTES)
		return fail(err, err_size, -E2BIG, "line longer than %d bytes", LINE_MAX_BYTES);
	/* Strict RFC 8259 (valid UTF-8, no NUL in strings) and no member given twice. */
	root = json_loadb(line ? line : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(err, err_size,
			    json_error_code(&jerr) == json_error_out_of_memory ? -ENOMEM : -EINVAL,
			    "not JSON: %s (column %d)", jerr.text, jerr.column);
	if (!json_is_object(root)) {
		json_decref(root);
		return fail(err, err_size, -EINVAL, "expected a JSON object");
	}
	e = parse_object(root, &tmp, err, err_size);
	if (e < 0)
		goto out;
	/* Last, so that a small text buffer refuses only lines that are otherwise fine. */
	if (tmp.kind == FG_VALUE_STRING) {
		size_t n = strlen(tmp.text); /* jansson refuses \u0000: the whole string */

		if (!text || n >= text_size) {
			e = fail(err, err_size, -E2BIG, "\"value\": a string longer than %zu bytes",
				 text && text_size ? text_size - 1 : 0);
			goto out;
		}
		memcpy(text, tmp.text, n + 1);
		tmp.text = text;
	}
	*r = tmp;
	if (err && err_size)
		err[0] = '\0';
out:
	json_decref(root);
	return e;
}
