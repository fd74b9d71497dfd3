/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/reading.h"
#include "util/json.h"

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

/* JSON has no NaN or infinity: those become null. */
static void put_double(struct fg_json *j, double v)
{
	if (!isfinite(v))
		fg_json_raw(j, "null", 4);
	else
		fg_json_printf(j, "%.10g", v);
}

int fg_reading_to_json(const struct fg_reading *r, char *buf, size_t size)
{
	struct fg_json o;

	if (size == 0)
		return -ENOBUFS;
	fg_json_init_fixed(&o, buf, size);
	fg_json_printf(&o, "{\"device\":");
	fg_json_string(&o, r->device_id);
	fg_json_printf(&o, ",\"name\":");
	fg_json_string(&o, r->device_name);
	fg_json_printf(&o, ",\"source\":");
	fg_json_string(&o, fg_source_kind_to_string(r->source));
	fg_json_printf(&o, ",\"quantity\":");
	fg_json_string(&o, r->quantity);
	fg_json_printf(&o, ",\"value\":");
	switch (r->kind) {
	case FG_VALUE_NUMBER:
		put_double(&o, r->number);
		break;
	case FG_VALUE_BOOL:
		fg_json_printf(&o, "%s", r->boolean ? "true" : "false");
		break;
	case FG_VALUE_STRING:
	default:
		fg_json_string(&o, r->text ? r->text : "");
		break;
	}
	if (r->unit[0]) {
		fg_json_printf(&o, ",\"unit\":");
		fg_json_string(&o, r->unit);
	}
	if (r->time_ms)
		fg_json_printf(&o, ",\"time\":%llu", (unsigned long long)r->time_ms);
	else
		fg_json_printf(&o, ",\"time\":null");
	fg_json_printf(&o, ",\"mono_us\":%llu,\"boot_id\":", (unsigned long long)r->mono_usec);
	fg_json_string(&o, r->boot_id);
	fg_json_printf(&o, ",\"frame\":%llu", (unsigned long long)r->frame_id);
	if (r->radio.present) {
		fg_json_printf(&o, ",\"rssi\":%d,\"snr\":", r->radio.rssi);
		put_double(&o, r->radio.snr);
		fg_json_printf(&o, ",\"freq\":%lu", (unsigned long)r->radio.freq_hz);
		if (r->radio.sf)
			fg_json_printf(&o, ",\"sf\":%u,\"bw\":%lu", r->radio.sf,
				       (unsigned long)r->radio.bw_hz);
		if (r->radio.dr >= 0)
			fg_json_printf(&o, ",\"dr\":%d", r->radio.dr);
	}
	fg_json_printf(&o, "}");
	if (o.err) {
		buf[0] = '\0';
		return -ENOBUFS;
	}
	return (int)o.len;
}
