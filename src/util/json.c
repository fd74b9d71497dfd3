/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/numfmt.h"

void fg_json_init_fixed(struct fg_json *j, char *buf, size_t size)
{
	*j = (struct fg_json){ .buf = buf, .size = size, .fixed = true };
	if (size == 0)
		j->err = -ENOBUFS;
	else
		buf[0] = '\0';
}

void fg_json_init_dynamic(struct fg_json *j)
{
	*j = (struct fg_json){ .fixed = false };
}

void fg_json_free(struct fg_json *j)
{
	if (!j->fixed)
		free(j->buf);
	j->buf = NULL;
	j->size = 0;
	j->len = 0;
}

int fg_json_steal(struct fg_json *j, char **ret_buf, size_t *ret_len)
{
	int r = j->err;

	if (r == 0 && !j->buf)
		fg_json_raw(j, "", 0); /* an empty result still gets its NUL */
	r = j->err;
	if (r < 0 || j->fixed) {
		fg_json_free(j);
		return r < 0 ? r : -EINVAL;
	}
	*ret_buf = j->buf;
	*ret_len = j->len;
	j->buf = NULL;
	j->size = 0;
	j->len = 0;
	return 0;
}

/* Make room for n more bytes plus the NUL; false (and err set) if there is none. */
static bool reserve(struct fg_json *j, size_t n)
{
	size_t need, size;
	char *p;

	if (j->err)
		return false;
	if (n > SIZE_MAX - j->len - 1) {
		j->err = j->fixed ? -ENOBUFS : -ENOMEM;
		return false;
	}
	need = j->len + n + 1;
	if (need <= j->size)
		return true;
	if (j->fixed) {
		j->err = -ENOBUFS;
		return false;
	}
	/* 512: a frame's SenML message (three readings, 300 to 400 bytes) in one allocation. */
	size = j->size ? j->size : 512;
	while (size < need)
		size = size > SIZE_MAX / 2 ? need : size * 2;
	p = realloc(j->buf, size);
	if (!p) {
		j->err = -ENOMEM;
		return false;
	}
	j->buf = p;
	j->size = size;
	return true;
}

void fg_json_raw_grow(struct fg_json *j, const char *s, size_t n)
{
	if (!reserve(j, n))
		return;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

void fg_json_printf(struct fg_json *j, const char *fmt, ...)
{
	char small[64];
	va_list ap;
	int n;

	if (j->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		j->err = -EINVAL;
		return;
	}
	if ((size_t) n < sizeof(small)) {
		fg_json_raw(j, small, (size_t) n);
		return;
	}
	if (!reserve(j, (size_t) n))
		return;
	va_start(ap, fmt);
	(void) vsnprintf(j->buf + j->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	j->len += (size_t) n;
}

void fg_json_number(struct fg_json *j, double v, int prec)
{
	char b[FG_NUMFMT_MAX];

	fg_json_raw(j, b, fg_numfmt_g(b, v, prec));
}

void fg_json_u64(struct fg_json *j, uint64_t v)
{
	char b[FG_NUMFMT_MAX];

	fg_json_raw(j, b, fg_numfmt_u64(b, v));
}

void fg_json_i64(struct fg_json *j, int64_t v)
{
	char b[FG_NUMFMT_MAX];

	fg_json_raw(j, b, fg_numfmt_i64(b, v));
}

void fg_json_ms_seconds(struct fg_json *j, int64_t ms)
{
	char b[FG_NUMFMT_MAX];

	fg_json_raw(j, b, fg_numfmt_ms_seconds(b, ms));
}

size_t fg_utf8_seq_len(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return avail ? 1 : 0;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0; /* continuation byte, C0/C1 overlong lead, or F5..FF */
	/* The second byte's range excludes overlongs, surrogates and > U+10FFFF (RFC 3629). */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (avail < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

void fg_json_string_n(struct fg_json *j, const char *s, size_t maxlen)
{
	const unsigned char *p = (const unsigned char *) (s ? s : "");
	size_t len = s ? strnlen(s, maxlen) : 0;
	size_t i = 0, run = 0;

	fg_json_raw(j, "\"", 1);
	while (i < len) {
		unsigned char c = p[i];
		size_t k;

		/* Printable ASCII, the usual case, without the UTF-8 check's call. */
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			i++;
			run++;
			continue;
		}
		k = fg_utf8_seq_len(p + i, len - i);
		if (k > 0 && c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) {
			/* Plain text: copy runs at once. */
			i += k;
			run += k;
			continue;
		}
		fg_json_raw(j, (const char *) p + i - run, run);
		run = 0;
		if (k == 0)
			fg_json_raw(j, "\\ufffd", 6);
		else if (c == '"' || c == '\\')
			fg_json_printf(j, "\\%c", c);
		else if (c == '\n')
			fg_json_raw(j, "\\n", 2);
		else
			fg_json_printf(j, "\\u%04x", c);
		i++;
	}
	fg_json_raw(j, (const char *) p + i - run, run);
	fg_json_raw(j, "\"", 1);
}

void fg_json_string(struct fg_json *j, const char *s)
{
	fg_json_string_n(j, s, SIZE_MAX);
}
