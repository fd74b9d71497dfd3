/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Payload codecs: decrypted application bytes in, named values with SenML
 * units out (registered ones only, converted where the device's unit is not
 * one: the rule is in core/units.h). Pure: no I/O, no logging, no
 * allocation. A codec that cannot decode a frame returns -EBADMSG and says why in `why` (one short phrase,
 * e.g. "channel 3: temperature needs 2 bytes, 1 left"); the caller logs it
 * with the device and counts it. `why` may be NULL (why_size 0); *ret_n is
 * written only on success, and out[] holds nothing meaningful after an error.
 *
 *   cayenne  Cayenne LPP (every type of the reference list), one value per
 *            measured quantity, named "<quantity>_<channel>"
 *   layout   a declarative byte layout from the configuration
 *   raw      the bytes as lowercase hex, one string value "payload"
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/reading.h"

#define FG_CODEC_VALUES_MAX 64
#define FG_CODEC_TEXT_MAX (2 * 255 + 1) /* hex of the largest PHYPayload (forwarded raw) */

/* One decoded value; quantity matches fg_reading_name_valid(). */
struct fg_codec_value {
	char quantity[FG_QUANTITY_MAX];
	char unit[FG_UNIT_MAX];	      /* a registered SenML unit (core/units.h), or "" */
	enum fg_value_kind kind;
	double number;
	bool boolean;
	char text[FG_CODEC_TEXT_MAX]; /* FG_VALUE_STRING */
};

/*
 * Cayenne LPP. Values are converted to SenML base units where LPP's unit is
 * not one (hPa to Pa, G to m/s2, ...; the table is in cayenne.c). Returns 0
 * and *ret_n values (at most max; 0 for an empty payload), -EBADMSG (unknown
 * type, truncated value; nothing is returned then), -ENOBUFS when more than
 * max values, -EINVAL for NULL arguments.
 */
int fg_cayenne_decode(const uint8_t *p, size_t n, struct fg_codec_value *out, size_t max,
		      size_t *ret_n, char *why, size_t why_size);

/*
 * Build Cayenne LPP (tests, the sim source): append one value of LPP type
 * `type` on `channel` to buf at *len. Multi-valued types (accelerometer,
 * gyrometer, GPS, colour) take v[0..2]. v is in LPP's own units (C, hPa,
 * G, kWh, ppm, deg/s; booleans 0/1), as the CayenneLPP library's add*()
 * functions take them, not in the SenML units fg_cayenne_decode returns.
 * Values are rounded to the type's resolution, half away from zero. On
 * success *len grows by the record's size; on failure nothing is written.
 * Returns 0, -EMSGSIZE (no room), -ERANGE (does not fit the type, or NaN)
 * or -EINVAL (NULL argument, unknown type, *len > size).
 */
int fg_cayenne_put(uint8_t *buf, size_t size, size_t *len, uint8_t channel, uint8_t type,
		   const double *v);

/*
 * Cayenne LPP the other way, for downlinks: a JSON object (len bytes, not
 * NUL-terminated) whose members are named as fg_cayenne_decode names its
 * values ("temperature_1", "digital_out_3", "gps_lat_2"; the CayenneLPP
 * library's "digital_output"/"analog_output"/..._input names are taken
 * too), in the units it returns them (SenML: Pa, J, m/s2, a ratio for
 * percentage), booleans as true/false or 0/1. A three-element type needs
 * all three members of its channel. Records are written in the order of
 * their first member, each value rounded to its type's resolution (half
 * away from zero) and range-checked, so that fg_cayenne_decode of the
 * result gives the values back. Returns 0 and *ret_len, -EBADMSG (not an
 * object, unknown name, wrong type, out of range, a name twice, an element
 * missing), -EMSGSIZE (more than size bytes), -EINVAL; why says which.
 */
int fg_cayenne_encode(const char *json_object, size_t len, uint8_t *out, size_t size,
		      size_t *ret_len, char *why, size_t why_size);

/*
 * The raw codec: one string value "payload" (unit "") holding p as
 * lowercase hex. Returns 0 with *ret_n = 1, -EMSGSIZE when n > 242 (the hex
 * would not fit FG_CODEC_TEXT_MAX), -ENOBUFS when max is 0, -EINVAL.
 */
int fg_raw_decode(const uint8_t *p, size_t n, struct fg_codec_value *out, size_t max,
		  size_t *ret_n);

/* Declarative layouts. */
enum fg_layout_type {
	FG_LAYOUT_U8,
	FG_LAYOUT_I8,
	FG_LAYOUT_U16,
	FG_LAYOUT_I16,
	FG_LAYOUT_U24,
	FG_LAYOUT_I24,
	FG_LAYOUT_U32,
	FG_LAYOUT_I32,
	FG_LAYOUT_F32,
	FG_LAYOUT_TYPE__COUNT,
};

/*
 * The type names of the configuration: "u8", "i8", "u16be", "u16le",
 * "i16be", ..., "u32le", "i32be", "f32be", "f32le"; "u16" etc. mean big
 * endian (network order, as most sensors send). Returns 0 or -EINVAL.
 */
int fg_layout_type_from_string(const char *s, enum fg_layout_type *ret_type, bool *ret_little);
/* Bytes a type takes. */
size_t fg_layout_type_size(enum fg_layout_type t);

struct fg_layout_field {
	char name[FG_QUANTITY_MAX];
	char unit[FG_UNIT_MAX];
	unsigned offset;	/* byte offset in the payload */
	enum fg_layout_type type;
	bool little_endian;
	unsigned bit_offset;	/* with bit_count: bits [bit_offset, bit_offset+bit_count) */
	unsigned bit_count;	/* of the integer read, counted from its least significant bit; */
				/* 0 = the whole value; signed types sign-extend the field */
	bool boolean;		/* publish as vb: the (bit) value is nonzero */
	double scale;		/* value = raw * scale + add */
	double add;
	int fport;		/* decode only frames on this FPort; -1 any */
};

struct fg_layout {
	const struct fg_layout_field *fields;
	size_t n;
};

/*
 * Check a layout once, at configuration time: names valid, bit fields
 * inside their type, float fields without bits, scale finite and nonzero,
 * add finite, unit NUL-terminated printable ASCII without space, quote or
 * backslash, fport -1 or 0..255, no name twice among fields that can apply
 * to one FPort. Returns 0, or -EINVAL with the field's index in *ret_field
 * (may be NULL) and why; why does not name the field, the caller does.
 */
int fg_layout_validate(const struct fg_layout *l, size_t *ret_field, char *why, size_t why_size);

/*
 * Decode the fields whose fport matches (or is -1), in order. A field that
 * runs past the payload is -EBADMSG for the frame. Boolean fields give
 * FG_VALUE_BOOL (raw != 0, scale and add unused); f32 values are passed on
 * as read, NaN and infinities included. Returns 0 and *ret_n (possibly 0
 * when no field applies to this FPort), -EBADMSG, -ENOBUFS, or -EINVAL for
 * NULL arguments or a selected field fg_layout_validate would refuse.
 */
int fg_layout_decode(const struct fg_layout *l, int fport, const uint8_t *p, size_t n,
		     struct fg_codec_value *out, size_t max, size_t *ret_n, char *why,
		     size_t why_size);

/*
 * A layout the other way, for downlinks: every field that applies to fport
 * must be a member of the JSON object (len bytes, not NUL-terminated), and
 * no other member may be; a boolean field takes true/false or 0/1 and is
 * written as 1 or 0. A number becomes raw = (value - add) / scale, rounded
 * half away from zero and checked against the field's type or bit count
 * (f32: stored as the nearest float). The payload is as long as the
 * furthest field reaches; bytes no field covers are 0. Fields that share
 * bits must come out the same, else -EBADMSG. fg_layout_decode of the
 * result gives the values back to the fields' resolution. Returns 0 and
 * *ret_len, -EBADMSG (why says which member), -EMSGSIZE (more than size
 * bytes), -EINVAL (bad arguments, a field fg_layout_validate would refuse).
 * The "raw" codec has no encoder: its payloads are sent as "data".
 */
int fg_layout_encode(const struct fg_layout *l, int fport, const char *json_object, size_t len,
		     uint8_t *out, size_t size, size_t *ret_len, char *why, size_t why_size);
