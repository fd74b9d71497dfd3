/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The raw codec: the payload as lowercase hex, for devices nobody has described yet. */
#include <errno.h>
#include <string.h>

#include "codec/codec.h"

int fg_raw_decode(const uint8_t *p, size_t n, struct fg_codec_value *out, size_t max, size_t *ret_n)
{
	static const char hex[] = "0123456789abcdef";
	struct fg_codec_value *v = out;

	if ((!p && n > 0) || (!out && max > 0) || !ret_n)
		return -EINVAL;
	if (n > (FG_CODEC_TEXT_MAX - 1) / 2)
		return -EMSGSIZE;
	if (max < 1)
		return -ENOBUFS;
	memset(v, 0, sizeof(*v));
	memcpy(v->quantity, "payload", sizeof("payload"));
	v->kind = FG_VALUE_STRING;
	for (size_t i = 0; i < n; i++) {
		v->text[2 * i] = hex[p[i] >> 4];
		v->text[2 * i + 1] = hex[p[i] & 0x0f];
	}
	v->text[2 * n] = '\0';
	*ret_n = 1;
	return 0;
}
