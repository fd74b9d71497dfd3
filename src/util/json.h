/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * A small JSON writer: an output buffer that is either the caller's fixed
 * memory or a malloc'd, growing one, and a string escaper whose output is
 * always valid JSON and valid UTF-8 whatever bytes it is given. Never logs.
 *
 * Writes after the first error are ignored; check `err` once at the end.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct fg_json {
	char *buf;   /* always NUL-terminated while err == 0 and buf != NULL */
	size_t size; /* bytes allocated (or given) */
	size_t len;  /* bytes written, without the NUL */
	bool fixed;  /* caller's memory: never grown, never freed */
	int err;     /* first error: -ENOBUFS (fixed) or -ENOMEM (growing) */
};

/* Write into buf (size > 0); a write that does not fit sets err = -ENOBUFS. */
void fg_json_init_fixed(struct fg_json *j, char *buf, size_t size);
/* Write into a growing malloc'd buffer; fg_json_free releases it, fg_json_steal hands it out. */
void fg_json_init_dynamic(struct fg_json *j);
/* Free a growing buffer (no-op for a fixed one); safe to call twice. */
void fg_json_free(struct fg_json *j);
/*
 * Hand out a growing buffer: returns err (and frees) on failure, else 0 with
 * *ret_buf (NUL-terminated, caller frees) and *ret_len.
 */
int fg_json_steal(struct fg_json *j, char **ret_buf, size_t *ret_len);

/* fg_json_raw's way when the bytes do not fit what is allocated (or nothing is). */
void fg_json_raw_grow(struct fg_json *j, const char *s, size_t n);
/*
 * Append n raw bytes (the caller vouches they are JSON). Inline: the payload
 * writer appends a few bytes at a time, most of them constant.
 */
static inline void fg_json_raw(struct fg_json *j, const char *s, size_t n)
{
	if (j->err == 0 && j->buf && n < j->size - j->len) {
		memcpy(j->buf + j->len, s, n);
		j->len += n;
		j->buf[j->len] = '\0';
		return;
	}
	fg_json_raw_grow(j, s, n);
}
/* Append formatted raw text. */
__attribute__((format(printf, 2, 3))) void fg_json_printf(struct fg_json *j, const char *fmt, ...);
/* Append v as "%.*g" with precision prec would (util/numfmt.h); callers keep NaN and infinities out. */
void fg_json_number(struct fg_json *j, double v, int prec);
/* Append v in decimal. */
void fg_json_u64(struct fg_json *j, uint64_t v);
void fg_json_i64(struct fg_json *j, int64_t v);
/* Append signed milliseconds as exact seconds (fg_numfmt_ms_seconds). */
void fg_json_ms_seconds(struct fg_json *j, int64_t ms);

/*
 * Append at most maxlen bytes of s (stopping at a NUL) as a quoted JSON
 * string. '"' and '\\' are backslash-escaped, '\n' becomes \n, other control
 * bytes and DEL become \u00XX, well-formed UTF-8 is copied, and every byte
 * that is not part of a well-formed UTF-8 sequence (overlong forms,
 * surrogates, above U+10FFFF, truncated) becomes \ufffd. NULL writes "".
 */
void fg_json_string_n(struct fg_json *j, const char *s, size_t maxlen);
/* fg_json_string_n without a length bound. */
void fg_json_string(struct fg_json *j, const char *s);

/* Length of the well-formed UTF-8 sequence at p (avail bytes left), 0 if it is not one. */
size_t fg_utf8_seq_len(const unsigned char *p, size_t avail);
