/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/reading.h"

static const char *const source_names[FG_SOURCE__COUNT] = {
	[FG_SOURCE_SIM] = "sim",
	[FG_SOURCE_LORA] = "lora",
	[FG_SOURCE_BLE] = "ble",
	[FG_SOURCE_GATEWAY] = "gateway",
};

static const char *const value_names[FG_VALUE__COUNT] = {
	[FG_VALUE_NUMBER] = "number",
	[FG_VALUE_STRING] = "string",
	[FG_VALUE_BOOL] = "bool",
};

const char *fg_source_kind_to_string(enum fg_source_kind k)
{
	if ((unsigned)k >= FG_SOURCE__COUNT)
		return NULL;
	return source_names[k];
}

int fg_source_kind_from_string(const char *s)
{
	for (int i = 0; s && i < FG_SOURCE__COUNT; i++)
		if (strcmp(s, source_names[i]) == 0)
			return i;
	return -EINVAL;
}

const char *fg_value_kind_to_string(enum fg_value_kind k)
{
	if ((unsigned)k >= FG_VALUE__COUNT)
		return NULL;
	return value_names[k];
}

/* Copy src into a fixed field; -ENAMETOOLONG if it does not fit. */
static int copy_field(char *dst, size_t size, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
	return 0;
}

int fg_reading_init(struct fg_reading *r, enum fg_source_kind source, const char *device_id,
		    const char *device_name, const char *quantity, const char *unit)
{
	int e = 0;

	memset(r, 0, sizeof(*r));
	r->source = source;
	r->kind = FG_VALUE_NUMBER;
	r->radio.dr = -1;
	e |= copy_field(r->device_id, sizeof(r->device_id), device_id);
	e |= copy_field(r->device_name, sizeof(r->device_name), device_name ? device_name : device_id);
	e |= copy_field(r->quantity, sizeof(r->quantity), quantity);
	e |= copy_field(r->unit, sizeof(r->unit), unit);
	return e ? -ENAMETOOLONG : 0;
}

void fg_reading_set_number(struct fg_reading *r, double v)
{
	r->kind = FG_VALUE_NUMBER;
	r->number = v;
}

void fg_reading_set_bool(struct fg_reading *r, bool v)
{
	r->kind = FG_VALUE_BOOL;
	r->boolean = v;
}

void fg_reading_set_text(struct fg_reading *r, const char *text)
{
	r->kind = FG_VALUE_STRING;
	r->text = text;
}

bool fg_reading_name_valid(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == ':' || c == '-'))
			return false;
	}
	return true;
}

struct out {
	char *buf;
	size_t size;
	size_t len;
	bool overflow;
};

/* Append formatted text, remembering overflow instead of writing past the end. */
__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len) {
		o->overflow = true;
		return;
	}
	o->len += (size_t)n;
}

/* Append s as a JSON string literal, escaping quotes, backslashes and control bytes. */
static void put_string(struct out *o, const char *s)
{
	put(o, "\"");
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		if (*p == '"' || *p == '\\')
			put(o, "\\%c", *p);
		else if (*p == '\n')
			put(o, "\\n");
		else if (*p < 0x20 || *p == 0x7f)
			put(o, "\\u%04x", *p);
		else
			put(o, "%c", *p);
	}
	put(o, "\"");
}

/* JSON has no NaN or infinity: those become null. */
static void put_double(struct out *o, double v)
{
	if (!isfinite(v))
		put(o, "null");
	else
		put(o, "%.10g", v);
}

int fg_reading_to_json(const struct fg_reading *r, char *buf, size_t size)
{
	struct out o = { .buf = buf, .size = size };

	if (size == 0)
		return -ENOBUFS;
	buf[0] = '\0';
	put(&o, "{\"device\":");
	put_string(&o, r->device_id);
	put(&o, ",\"name\":");
	put_string(&o, r->device_name);
	put(&o, ",\"source\":");
	put_string(&o, fg_source_kind_to_string(r->source));
	put(&o, ",\"quantity\":");
	put_string(&o, r->quantity);
	put(&o, ",\"value\":");
	switch (r->kind) {
	case FG_VALUE_NUMBER:
		put_double(&o, r->number);
		break;
	case FG_VALUE_BOOL:
		put(&o, r->boolean ? "true" : "false");
		break;
	case FG_VALUE_STRING:
	default:
		put_string(&o, r->text ? r->text : "");
		break;
	}
	if (r->unit[0]) {
		put(&o, ",\"unit\":");
		put_string(&o, r->unit);
	}
	if (r->time_ms)
		put(&o, ",\"time\":%llu", (unsigned long long)r->time_ms);
	else
		put(&o, ",\"time\":null");
	put(&o, ",\"mono_us\":%llu,\"boot_id\":", (unsigned long long)r->mono_usec);
	put_string(&o, r->boot_id);
	put(&o, ",\"frame\":%llu", (unsigned long long)r->frame_id);
	if (r->radio.present) {
		put(&o, ",\"rssi\":%d,\"snr\":", r->radio.rssi);
		put_double(&o, r->radio.snr);
		put(&o, ",\"freq\":%lu", (unsigned long)r->radio.freq_hz);
		if (r->radio.sf)
			put(&o, ",\"sf\":%u,\"bw\":%lu", r->radio.sf, (unsigned long)r->radio.bw_hz);
		if (r->radio.dr >= 0)
			put(&o, ",\"dr\":%d", r->radio.dr);
	}
	put(&o, "}");
	if (o.overflow) {
		buf[0] = '\0';
		return -ENOBUFS;
	}
	return (int)o.len;
}
