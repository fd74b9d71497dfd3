/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Strict base64 (RFC 4648 section 4, standard alphabet). */

#include <stddef.h>
#include <stdint.h>

/*
 * Decode len characters of s into out (size bytes). Padding is optional
 * but, when present, must be correct; any other character, including
 * whitespace, a misplaced '=', a length of 4k+1 or nonzero unused bits in
 * the last character, is -EBADMSG. -ENOBUFS when out is too small. Returns 0
 * and the decoded length in *ret_len.
 */
int fg_base64_decode(const char *s, size_t len, uint8_t *out, size_t size, size_t *ret_len);

/*
 * Encode n bytes with padding into out (size >= 4 * ((n + 2) / 3) + 1), NUL
 * terminated. Returns the length; 0 (and "" when size > 0) when out is too small.
 */
size_t fg_base64_encode(const uint8_t *p, size_t n, char *out, size_t size);
