/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_mac: an uplink's MAC commands (FOpts or an FPort 0 payload, from the
 * air) through fg_lw_mac_answers, the reader that answers LinkCheckReq and
 * DeviceTimeReq and reads LinkADRAns. The first input byte picks the
 * region, the data rate, whether the clock is known and the output room;
 * the rest is the command list. The answers must fit the room given, and
 * the reader must agree with fg_lw_mac_describe on a list it fully reads.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lora/downlink.h"
#include "lora/lorawan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_lw_mac_ctx ctx = { 0 };
	struct fg_lw_mac_seen seen;
	uint8_t out[64];
	char words[512];
	size_t room;
	int n, d;

	if (size < 1)
		return 0;
	ctx.region = (enum fg_lw_region) (data[0] % FG_LW_REGION__COUNT);
	ctx.dr = (data[0] >> 2) % 16 - 1;
	ctx.snr = (float) ((int) (data[0] >> 1) - 64) / 4.0f;
	ctx.time_known = data[0] & 0x80;
	ctx.uplink_unix_ms = FG_LW_GPS_EPOCH_UNIX_MS + (uint64_t) data[0] * 1000003u;
	room = (size_t) (data[0] % 17); /* FOpts hold at most 15 bytes */
	memset(out, 0xa5, sizeof(out));
	n = fg_lw_mac_answers(data + 1, size - 1, &ctx, out, room, &seen);
	if (n > (int) room || (n < 0 && n != -ENOBUFS))
		abort();
	/* Nothing written past the room given. */
	for (size_t i = room; i < sizeof(out); i++)
		if (out[i] != 0xa5)
			abort();
	d = fg_lw_mac_describe(data + 1, size - 1, words, sizeof(words));
	if (d >= 0 && seen.unknown)
		abort(); /* describe read every command, the answerer found one it could not */
	return 0;
}
