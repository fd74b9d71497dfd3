/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer target for fg_format_stamp_time: any bytes as a buffered
 * payload (the buffer file is outside input once a card is corrupted or
 * tampered with). A payload it stamps must come out with the time and be
 * refused a second time; nothing it refuses may be allocated.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sink/format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL, *again = NULL;
	size_t len = 0, len2 = 0;
	int r;

	r = fg_format_stamp_time(data, size, UINT64_C(1764039446123), &out, &len);
	if (r < 0) {
		if (out || (r != -EEXIST && r != -EPROTONOSUPPORT && r != -EINVAL))
			abort();
		return 0;
	}
	/* The time went in: a SenML bt of 1764039446.123 or a flat time in ms. */
	if (!out || out[len] != '\0' || len <= size ||
	    (!memmem(out, len, "\"bt\":1764039446.123", 19) &&
	     !memmem(out, len, "\"time\":1764039446123", 20)))
		abort();
	if (fg_format_stamp_time(out, len, 1, &again, &len2) != -EEXIST || again)
		abort();
	free(out);
	return 0;
}
