/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Declarative layouts: each field names a fixed-offset integer or float in
 * the payload, optionally a bit field of it, and a linear map to the value.
 * The configuration writes them for devices that do not send Cayenne LPP,
 * e.g. a Dragino LHT65 (battery in bits 0..13 of a u16be, in mV).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec/codec.h"
#include "core/units.h"
#include "util/json-read.h"

static const struct {
	const char *name;
	uint8_t size;
	bool is_signed;
} type_info[FG_LAYOUT_TYPE__COUNT] = {
	[FG_LAYOUT_U8] = { "u8", 1, false },   [FG_LAYOUT_I8] = { "i8", 1, true },
	[FG_LAYOUT_U16] = { "u16", 2, false }, [FG_LAYOUT_I16] = { "i16", 2, true },
	[FG_LAYOUT_U24] = { "u24", 3, false }, [FG_LAYOUT_I24] = { "i24", 3, true },
	[FG_LAYOUT_U32] = { "u32", 4, false }, [FG_LAYOUT_I32] = { "i32", 4, true },
	[FG_LAYOUT_F32] = { "f32", 4, false },
};

int fg_layout_type_from_string(const char *s, enum fg_layout_type *ret_type, bool *ret_little)
{
	if (!s || !ret_type || !ret_little)
		return -EINVAL;
	for (int t = 0; t < FG_LAYOUT_TYPE__COUNT; t++) {
		size_t len = strlen(type_info[t].name);
		const char *rest = s + len;
		bool little;

		if (strncmp(s, type_info[t].name, len) != 0)
			continue;
		if (*rest == '\0' || strcmp(rest, "be") == 0)
			little = false;
		else if (strcmp(rest, "le") == 0)
			little = true;
		else
			continue;
		/* A single byte has no byte order: "u8be" is a typo, not a type. */
		if (type_info[t].size == 1 && *rest != '\0')
			return -EINVAL;
		*ret_type = (enum fg_layout_type) t;
		*ret_little = little;
		return 0;
	}
	return -EINVAL;
}

size_t fg_layout_type_size(enum fg_layout_type t)
{
	if ((unsigned) t >= FG_LAYOUT_TYPE__COUNT)
		return 0;
	return type_info[t].size;
}

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

/* Whether a fixed-size char array holds a string, i.e. has its NUL. */
static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* Whether the fields could both apply to one frame. */
static bool fports_overlap(int a, int b)
{
	return a == -1 || b == -1 || a == b;
}

/* Check one field on its own; the message says what is wrong, without the field's index. */
static int check_field(const struct fg_layout_field *f, char *why, size_t why_size)
{
	unsigned bits;

	if (!terminated(f->name, sizeof(f->name)) || !fg_reading_name_valid(f->name))
		return fail(-EINVAL, why, why_size, "name must be 1..%d of A-Z a-z 0-9 _ . : -",
			    FG_QUANTITY_MAX - 1);
	if (!terminated(f->unit, sizeof(f->unit)))
		return fail(-EINVAL, why, why_size, "unit longer than %d characters",
			    FG_UNIT_MAX - 1);
	for (const char *c = f->unit; *c; c++)
		if (*c <= ' ' || *c > '~' || *c == '"' || *c == '\\')
			return fail(-EINVAL, why, why_size,
				    "unit '%s': only printable ASCII, no space, quote or backslash",
				    f->unit);
	if (fg_unit_check(f->unit, why, why_size) < 0)
		return -EINVAL;
	if ((unsigned) f->type >= FG_LAYOUT_TYPE__COUNT)
		return fail(-EINVAL, why, why_size, "unknown type %d", (int) f->type);
	bits = 8u * type_info[f->type].size;
	if (f->type == FG_LAYOUT_F32 && (f->bit_offset || f->bit_count))
		return fail(-EINVAL, why, why_size,
			    "bits on a float: only integer types have bits");
	if (f->bit_count == 0 && f->bit_offset != 0)
		return fail(-EINVAL, why, why_size, "bit offset %u without a bit count",
			    f->bit_offset);
	if (f->bit_count > bits || f->bit_offset > bits - f->bit_count)
		return fail(-EINVAL, why, why_size,
			    "%u bits from bit %u do not fit in %s (%u bits)", f->bit_count,
			    f->bit_offset, type_info[f->type].name, bits);
	if (f->offset > UINT16_MAX)
		return fail(-EINVAL, why, why_size, "offset %u beyond any payload", f->offset);
	if (!isfinite(f->scale) || f->scale == 0)
		return fail(-EINVAL, why, why_size, "scale must be a finite nonzero number");
	if (!isfinite(f->add))
		return fail(-EINVAL, why, why_size, "add must be a finite number");
	if (f->fport != -1 && (f->fport < 0 || f->fport > 255))
		return fail(-EINVAL, why, why_size, "fport %d: expected 0..255 or -1 (any)",
			    f->fport);
	return 0;
}

int fg_layout_validate(const struct fg_layout *l, size_t *ret_field, char *why, size_t why_size)
{
	int r;

	if (!l || (!l->fields && l->n > 0))
		return fail(-EINVAL, why, why_size, "no layout");
	for (size_t i = 0; i < l->n; i++) {
		const struct fg_layout_field *f = &l->fields[i];

		r = check_field(f, why, why_size);
		if (r == 0) {
			/* One frame must not give two values of one name. */
			for (size_t j = 0; j < i; j++)
				if (strcmp(l->fields[j].name, f->name) == 0 &&
				    fports_overlap(l->fields[j].fport, f->fport)) {
					r = fail(-EINVAL, why, why_size,
						 "name '%s' already used by field %zu", f->name,
						 j + 1);
					break;
				}
		}
		if (r < 0) {
			if (ret_field)
				*ret_field = i;
			return r;
		}
	}
	return 0;
}

/* The field's integer, in the byte order it asks for (size bytes at p). */
static uint64_t get_uint(const uint8_t *p, unsigned size, bool little)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v = v << 8 | p[little ? size - 1 - i : i];
	return v;
}

/* Sign-extend the low `bits` bits of v. */
static int64_t sign_extend(uint64_t v, unsigned bits)
{
	uint64_t m = UINT64_C(1) << (bits - 1);

	v &= (m << 1) - 1;
	return (int64_t) (v ^ m) - (int64_t) m;
}

/* Decode one field whose bytes are known to be in the payload. */
static void decode_field(const struct fg_layout_field *f, const uint8_t *p,
			 struct fg_codec_value *v)
{
	unsigned size = type_info[f->type].size;
	uint64_t u = get_uint(p, size, f->little_endian);
	double x;

	memset(v, 0, sizeof(*v));
	memcpy(v->quantity, f->name, sizeof(v->quantity));
	memcpy(v->unit, f->unit, sizeof(v->unit));
	if (f->type == FG_LAYOUT_F32) {
		uint32_t w = (uint32_t) u;
		float fl;

		memcpy(&fl, &w, sizeof(fl));
		x = fl;
	} else {
		unsigned bits = f->bit_count ? f->bit_count : 8 * size;

		if (f->bit_count) {
			u >>= f->bit_offset;
			if (bits < 64)
				u &= (UINT64_C(1) << bits) - 1;
		}
		if (type_info[f->type].is_signed)
			x = (double) sign_extend(u, bits);
		else
			x = (double) u;
	}
	if (f->boolean) {
		v->kind = FG_VALUE_BOOL;
		v->boolean = x != 0;
	} else {
		v->kind = FG_VALUE_NUMBER;
		v->number = x * f->scale + f->add;
	}
}

int fg_layout_decode(const struct fg_layout *l, int fport, const uint8_t *p, size_t n,
		     struct fg_codec_value *out, size_t max, size_t *ret_n, char *why,
		     size_t why_size)
{
	size_t k = 0;

	if (!l || (!l->fields && l->n > 0) || (!p && n > 0) || (!out && max > 0) || !ret_n)
		return fail(-EINVAL, why, why_size, "invalid arguments");

	for (size_t i = 0; i < l->n; i++) {
		const struct fg_layout_field *f = &l->fields[i];
		size_t size;

		if (f->fport != -1 && f->fport != fport)
			continue;
		/* The layout was validated at load time; still never shift by a bad count. */
		if (check_field(f, NULL, 0) < 0)
			return fail(-EINVAL, why, why_size, "field %zu is invalid", i + 1);
		size = type_info[f->type].size;
		if (f->offset >= n || n - f->offset < size)
			return fail(-EBADMSG, why, why_size,
				    "field '%s': %s at offset %u needs %zu bytes, %zu left",
				    f->name, type_info[f->type].name, f->offset, size,
				    f->offset < n ? n - f->offset : 0);
		if (k == max)
			return fail(-ENOBUFS, why, why_size, "more than %zu values", max);
		decode_field(f, p + f->offset, &out[k++]);
	}
	*ret_n = k;
	return 0;
}

static void put_uint(uint8_t *p, unsigned size, bool little, uint64_t v)
{
	for (unsigned i = 0; i < size; i++)
		p[little ? i : size - 1 - i] = (uint8_t) (v >> (8 * i));
}

/* The bits a field occupies in its integer, and how many there are. */
static uint64_t field_mask(const struct fg_layout_field *f, unsigned *ret_bits)
{
	unsigned size = type_info[f->type].size;
	unsigned bits = f->bit_count ? f->bit_count : 8 * size;
	uint64_t m = bits < 64 ? (UINT64_C(1) << bits) - 1 : UINT64_MAX;

	*ret_bits = bits;
	return m << (f->bit_count ? f->bit_offset : 0);
}

/* The raw integer (or f32 bits) that decodes to v: the inverse of decode_field's map. */
static int encode_raw(const struct fg_layout_field *f, double v, uint64_t *ret, char *why,
		      size_t why_size)
{
	unsigned bits;
	double x;

	(void) field_mask(f, &bits);
	if (f->boolean) {
		*ret = v != 0;
		return 0;
	}
	x = (v - f->add) / f->scale;
	if (f->type == FG_LAYOUT_F32) {
		float fl = (float) x;
		uint32_t w;

		if (!isfinite(x) || !isfinite(fl))
			return fail(-EBADMSG, why, why_size, "'%s': %.9g does not fit a float",
				    f->name, v);
		memcpy(&w, &fl, sizeof(w));
		*ret = w;
		return 0;
	}
	/*
	 * The nearest step, judged by the value it decodes to rather than by x:
	 * 0.25 with scale 0.1 is x = 2.4999999999999996 in binary, but 0.2 and
	 * 0.3 are equally near, and a tie goes away from zero as in fg_cayenne_put.
	 */
	if (isfinite(x) && fabs(x) < 0x1p52) {
		double fl = floor(x);
		double d_lo = fabs(fl * f->scale + f->add - v);
		double d_hi = fabs((fl + 1) * f->scale + f->add - v);

		if (fabs(d_lo - d_hi) <= fabs(f->scale) * 1e-9)
			x = fl + 0.5 > 0 ? fl + 1 : fl;
		else
			x = d_lo < d_hi ? fl : fl + 1;
	} else {
		x = round(x);
	}
	double lo = type_info[f->type].is_signed ? -ldexp(1, (int) bits - 1) : 0;
	double hi = type_info[f->type].is_signed ? ldexp(1, (int) bits - 1) - 1
						 : ldexp(1, (int) bits) - 1;

	if (!(x >= lo && x <= hi))
		return fail(-EBADMSG, why, why_size, "'%s': %.9g is outside %.9g..%.9g", f->name, v,
			    lo * f->scale + f->add, hi * f->scale + f->add);
	*ret = (uint64_t) (int64_t) x & (bits < 64 ? (UINT64_C(1) << bits) - 1 : UINT64_MAX);
	return 0;
}

#define ENCODE_FIELDS_MAX FG_CODEC_VALUES_MAX

int fg_layout_encode(const struct fg_layout *l, int fport, const char *json_object, size_t len,
		     uint8_t *out, size_t size, size_t *ret_len, char *why, size_t why_size)
{
	const struct fg_layout_field *sel[ENCODE_FIELDS_MAX];
	uint64_t raw[ENCODE_FIELDS_MAX];
	bool given[ENCODE_FIELDS_MAX] = { false };
	char key[FG_QUANTITY_MAX];
	size_t ns = 0, end = 0, klen;
	struct fg_jr jr;
	int r;

	if (!l || (!l->fields && l->n > 0) || (!json_object && len > 0) || (!out && size > 0) ||
	    !ret_len)
		return fail(-EINVAL, why, why_size, "invalid arguments");
	for (size_t i = 0; i < l->n; i++) {
		const struct fg_layout_field *f = &l->fields[i];

		if (f->fport != -1 && f->fport != fport)
			continue;
		if (check_field(f, NULL, 0) < 0)
			return fail(-EINVAL, why, why_size, "field %zu is invalid", i + 1);
		if (ns == ENCODE_FIELDS_MAX)
			return fail(-EINVAL, why, why_size, "more than %d fields",
				    ENCODE_FIELDS_MAX);
		sel[ns++] = f;
		if (f->offset + type_info[f->type].size > end)
			end = f->offset + type_info[f->type].size;
	}
	if (ns == 0)
		return fail(-EBADMSG, why, why_size, "no field of the layout is for FPort %d",
			    fport);

	fg_jr_init(&jr, json_object, len);
	if (fg_jr_object_begin(&jr) < 0)
		return fail(-EBADMSG, why, why_size, "not a JSON object");
	while ((r = fg_jr_member(&jr, key, sizeof(key), &klen)) != 0) {
		size_t k;
		double v;
		bool b;

		if (r < 0 && r != -ENOBUFS)
			return fail(-EBADMSG, why, why_size, "not valid JSON at byte %zu", jr.pos);
		for (k = 0; r > 0 && k < ns; k++)
			if (strlen(sel[k]->name) == klen && memcmp(sel[k]->name, key, klen) == 0)
				break;
		if (r < 0 || k == ns)
			return fail(-EBADMSG, why, why_size, "'%s': no such field for FPort %d",
				    r > 0 && fg_reading_name_valid(key) ? key : "?", fport);
		if (given[k])
			return fail(-EBADMSG, why, why_size, "'%s' given twice", key);
		given[k] = true;
		if (sel[k]->boolean && fg_jr_peek(&jr) == FG_JR_BOOL) {
			(void) fg_jr_bool(&jr, &b);
			v = b;
		} else if (fg_jr_number(&jr, &v) < 0) {
			if (jr.err)
				return fail(-EBADMSG, why, why_size, "not valid JSON at byte %zu",
					    jr.pos);
			return fail(-EBADMSG, why, why_size, "'%s': expected %s", key,
				    sel[k]->boolean ? "true, false, 0 or 1" : "a number");
		}
		if (sel[k]->boolean && v != 0 && v != 1)
			return fail(-EBADMSG, why, why_size, "'%s': expected true, false, 0 or 1",
				    key);
		r = encode_raw(sel[k], v, &raw[k], why, why_size);
		if (r < 0)
			return r;
	}
	if (fg_jr_end(&jr) < 0)
		return fail(-EBADMSG, why, why_size, "not valid JSON at byte %zu", jr.pos);
	for (size_t k = 0; k < ns; k++)
		if (!given[k])
			return fail(-EBADMSG, why, why_size, "'%s' missing", sel[k]->name);
	if (end > size)
		return fail(-EMSGSIZE, why, why_size, "%zu bytes, room for %zu", end, size);

	memset(out, 0, end);
	for (size_t k = 0; k < ns; k++) {
		const struct fg_layout_field *f = sel[k];
		unsigned sz = type_info[f->type].size, bits;
		uint64_t m = field_mask(f, &bits);
		uint64_t u = get_uint(out + f->offset, sz, f->little_endian);
		unsigned shift = f->bit_count ? f->bit_offset : 0;

		u = (u & ~m) | ((raw[k] << shift) & m);
		put_uint(out + f->offset, sz, f->little_endian, u);
	}
	/* Fields that share bits must agree: read every one back. */
	for (size_t k = 0; k < ns; k++) {
		const struct fg_layout_field *f = sel[k];
		unsigned bits;
		uint64_t m = field_mask(f, &bits);
		uint64_t u = get_uint(out + f->offset, type_info[f->type].size, f->little_endian);
		unsigned shift = f->bit_count ? f->bit_offset : 0;
		uint64_t want = f->boolean ? raw[k] != 0 : raw[k];
		uint64_t got = (u & m) >> shift;

		if (f->boolean ? (got != 0) != (want != 0) : got != want)
			return fail(-EBADMSG, why, why_size,
				    "'%s' shares bits with another field and a different value",
				    f->name);
	}
	*ret_len = end;
	return 0;
}
