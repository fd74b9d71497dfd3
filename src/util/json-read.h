/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * A small, strict JSON reader (RFC 8259) for hostile input: a cursor over
 * bytes that need not be NUL-terminated, read one token at a time. Never
 * reads past len, never allocates, never logs; nesting is limited to
 * FG_JR_DEPTH_MAX levels. Strings must be valid UTF-8 without raw control
 * characters; \uXXXX escapes are decoded, surrogates only as a valid pair.
 * Numbers follow the grammar of RFC 8259 section 6 exactly ("01", "1.",
 * ".5", "+1", NaN are refused).
 *
 * Typical use, walking the members of one object:
 *
 *	fg_jr_init(&jr, text, len);
 *	r = fg_jr_object_begin(&jr);
 *	while ((r = fg_jr_member(&jr, key, sizeof(key), &key_len)) > 0)
 *		... read or skip the member's value ...
 *	r = fg_jr_end(&jr);		(only whitespace may follow)
 *
 * Errors: -EBADMSG malformed text (jr->pos says where), -ELOOP nested too
 * deeply, -EDOM the next value is not of the type asked for (nothing is
 * consumed, the caller may skip it), -ERANGE a number that does not fit,
 * -ENOBUFS a string longer than the caller's buffer (the string is still
 * consumed and checked, so reading can go on). After -EBADMSG or -ELOOP the
 * reader is stuck: every further call fails the same way.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FG_JR_DEPTH_MAX 32

enum fg_jr_type {
	FG_JR_NONE, /* end of input, or not the start of any value */
	FG_JR_OBJECT,
	FG_JR_ARRAY,
	FG_JR_STRING,
	FG_JR_NUMBER,
	FG_JR_BOOL,
	FG_JR_NULL,
};

struct fg_jr {
	const char *p;
	size_t len;
	size_t pos;	  /* next byte to read; where the error is after one */
	unsigned depth;	  /* objects open through fg_jr_object_begin */
	uint64_t members; /* bit d: the object at depth d has had a member */
	int err;	  /* sticky -EBADMSG / -ELOOP */
};

void fg_jr_init(struct fg_jr *jr, const void *p, size_t len);

/* The type of the next value (after whitespace), without consuming it. */
enum fg_jr_type fg_jr_peek(struct fg_jr *jr);

/* Enter the object that comes next: 0, -EDOM (not an object), -ELOOP, -EBADMSG. */
int fg_jr_object_begin(struct fg_jr *jr);

/*
 * The next member of the innermost object entered: 1 with its key in key
 * (NUL-terminated, *ret_key_len bytes, may contain a NUL from \u0000) and
 * the cursor at its value, which the caller must then read or skip; 0 at
 * the object's end (consumed, the object left); -ENOBUFS for a key longer
 * than key_size - 1 (truncated, cursor at the value); -EBADMSG.
 */
int fg_jr_member(struct fg_jr *jr, char *key, size_t key_size, size_t *ret_key_len);

/*
 * A string value, unescaped into buf (NUL-terminated; may hold a NUL from
 * \u0000, *ret_len says the length). -ENOBUFS when it needs more than
 * size - 1 bytes (buf then holds a truncated prefix; *ret_len the full length).
 */
int fg_jr_string(struct fg_jr *jr, char *buf, size_t size, size_t *ret_len);

/* A number as a double: -ERANGE when it overflows a double (or has more than 320 characters). */
int fg_jr_number(struct fg_jr *jr, double *ret);

/*
 * An integer written without fraction or exponent, min..max: -EDOM for any
 * other value (also 1.0 or 1e3), -ERANGE outside min..max (consumed).
 */
int fg_jr_int(struct fg_jr *jr, int64_t min, int64_t max, int64_t *ret);

int fg_jr_bool(struct fg_jr *jr, bool *ret);
int fg_jr_null(struct fg_jr *jr);

/*
 * Skip the next value, whatever it is, checking it all; its text (without
 * surrounding whitespace) in *ret_start / *ret_len (both may be NULL).
 */
int fg_jr_skip(struct fg_jr *jr, const char **ret_start, size_t *ret_len);

/* 0 when only whitespace is left and every object entered was left; else -EBADMSG. */
int fg_jr_end(struct fg_jr *jr);
