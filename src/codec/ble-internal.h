/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Helpers the BLE decoders share (ble-ruuvi.c, ble-beacon.c): collecting
 * values up to the caller's max, saying why, big-endian reads, argument
 * checks. Private to src/codec.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "codec/ble.h"

/* Where decoded values go; a value past max is counted, not written. */
struct values {
	struct fg_codec_value *v;
	size_t max;
	size_t n;
	bool overflow;
};

/* Say why into the caller's buffer, if it gave one, and return err. */
__attribute__((format(printf, 4, 5))) static inline int fail(int err, char *why, size_t why_size,
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

/* Claim the next output slot, cleared and named; NULL once max is reached. */
static inline struct fg_codec_value *next_value(struct values *vs, const char *quantity, const char *unit)
{
	struct fg_codec_value *v;

	if (vs->n >= vs->max) {
		vs->overflow = true;
		return NULL;
	}
	v = &vs->v[vs->n++];
	memset(v, 0, sizeof(*v));
	(void) snprintf(v->quantity, sizeof(v->quantity), "%s", quantity);
	(void) snprintf(v->unit, sizeof(v->unit), "%s", unit);
	return v;
}

static inline void add_number(struct values *vs, const char *quantity, const char *unit, double x)
{
	struct fg_codec_value *v = next_value(vs, quantity, unit);

	if (v) {
		v->kind = FG_VALUE_NUMBER;
		v->number = x;
	}
}

static inline void add_text(struct values *vs, const char *quantity, const char *text)
{
	struct fg_codec_value *v = next_value(vs, quantity, "");

	if (v) {
		v->kind = FG_VALUE_STRING;
		(void) snprintf(v->text, sizeof(v->text), "%s", text);
	}
}

static inline uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t) (p[0] << 8 | p[1]);
}

static inline uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

/* Argument checks shared by every decoder. */
static inline int check_args(const struct fg_ble_data *d, struct fg_codec_value *out, size_t max,
		      size_t *ret_n, char *why, size_t why_size)
{
	if (!d || (!d->p && d->n) || (!out && max > 0) || !ret_n)
		return fail(-EINVAL, why, why_size, "invalid arguments");
	return 0;
}
