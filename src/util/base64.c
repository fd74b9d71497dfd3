/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdbool.h>

#include "util/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The 6-bit value of a character of the standard alphabet, or -1. */
static int sextet(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int fg_base64_decode(const char *s, size_t len, uint8_t *out, size_t size, size_t *ret_len)
{
	size_t data = len, tail, n;
	uint32_t acc = 0;

	/* Padding, when present, completes the last group of four: "xx==" or "xxx=". */
	if (len > 0 && len % 4 == 0 && s[len - 1] == '=')
		data = s[len - 2] == '=' ? len - 2 : len - 1;
	tail = data % 4;
	if (tail == 1)
		return -EBADMSG;
	/* Every character before the padding must be in the alphabet ('=' included: misplaced). */
	for (size_t i = 0; i < data; i++)
		if (sextet(s[i]) < 0)
			return -EBADMSG;
	/*
	 * RFC 4648 section 3.5: the bits of the last character that do not make
	 * a whole byte must be zero, or two encodings would decode alike.
	 */
	if (tail == 2 && (sextet(s[data - 1]) & 0x0f) != 0)
		return -EBADMSG;
	if (tail == 3 && (sextet(s[data - 1]) & 0x03) != 0)
		return -EBADMSG;
	n = data / 4 * 3 + (tail ? tail - 1 : 0);
	if (n > size)
		return -ENOBUFS;

	n = 0;
	for (size_t i = 0; i < data; i++) {
		acc = acc << 6 | (uint32_t) sextet(s[i]);
		if (i % 4 == 3) {
			out[n++] = (uint8_t) (acc >> 16);
			out[n++] = (uint8_t) (acc >> 8);
			out[n++] = (uint8_t) acc;
			acc = 0;
		}
	}
	if (tail == 2) {
		out[n++] = (uint8_t) (acc >> 4);
	} else if (tail == 3) {
		out[n++] = (uint8_t) (acc >> 10);
		out[n++] = (uint8_t) (acc >> 2);
	}
	*ret_len = n;
	return 0;
}

size_t fg_base64_encode(const uint8_t *p, size_t n, char *out, size_t size)
{
	size_t o = 0;

	if (size == 0)
		return 0;
	if (n > (SIZE_MAX - 1) / 4 * 3 - 2 || size < 4 * ((n + 2) / 3) + 1) {
		out[0] = '\0';
		return 0;
	}
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t) p[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (uint32_t) p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		out[o++] = alphabet[v >> 18 & 0x3f];
		out[o++] = alphabet[v >> 12 & 0x3f];
		out[o++] = left > 1 ? alphabet[v >> 6 & 0x3f] : '=';
		out[o++] = left > 2 ? alphabet[v & 0x3f] : '=';
	}
	out[o] = '\0';
	return o;
}
