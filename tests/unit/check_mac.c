/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * MAC answers (LinkCheckAns, DeviceTimeAns) and the channel plans given to
 * devices (CFList, LinkADRReq, the uplink channels, the largest downlink).
 * Expected bytes are worked out by hand in the comments from LoRaWAN 1.0.x
 * and RP002-1.0.x, not taken from the code under test; where a test can,
 * it also plays the device's side (a LinkADRReq block or a CFList applied to
 * a 72-channel mask) and compares with the concentrator's plan.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lora/downlink.h"
#include "lora/lorawan.h"
#include "check-main.h"

#define assert_bytes(got, want, n)                                                                 \
	do {                                                                                       \
		for (size_t i_ = 0; i_ < (n); i_++)                                                \
			ck_assert_msg((got)[i_] == (want)[i_], "byte %zu: got %02x, want %02x",    \
				      i_, (unsigned) (got)[i_], (unsigned) (want)[i_]);            \
	} while (0)

/* ------------------------------------------------------------------ LinkCheckAns */

/* The Margin byte of a LinkCheckAns for one LinkCheckReq heard at dr/snr in region r. */
static int margin(enum fg_lw_region r, int dr, float snr)
{
	struct fg_lw_mac_ctx ctx = { .region = r, .dr = dr, .snr = snr };
	struct fg_lw_mac_seen seen;
	uint8_t out[16];

	memset(out, 0xaa, sizeof(out));
	ck_assert_int_eq(
		fg_lw_mac_answers((const uint8_t *) "\x02", 1, &ctx, out, sizeof(out), &seen), 3);
	ck_assert(seen.link_check_req);
	ck_assert(!seen.device_time_req);
	ck_assert_int_eq(seen.link_adr_ans, -1);
	ck_assert_uint_eq(seen.unknown, 0);
	ck_assert_uint_eq(out[0], 0x02); /* CID LinkCheckAns */
	ck_assert_uint_eq(out[2], 1);	 /* GwCnt: this gateway */
	ck_assert_uint_eq(out[3], 0xaa); /* nothing beyond */
	return out[1];
}

START_TEST(link_check_margin_per_sf)
{
	/*
	 * Demodulation floors (SX1276 datasheet, SF7..SF12): -7.5 -10 -12.5 -15
	 * -17.5 -20 dB. EU868 DR5..DR0 are SF7..SF12 at 125 kHz. At SNR 0 the
	 * margins are 7.5 10 12.5 15 17.5 20, whole dB down: 7 10 12 15 17 20.
	 */
	static const int want[6] = { 20, 17, 15, 12, 10, 7 };

	for (int dr = 0; dr <= 5; dr++)
		ck_assert_int_eq(margin(FG_LW_EU868, dr, 0.0f), want[dr]);
	/* SF7 at +5 dB: 12.5 -> 12; SF12 at -10 dB: 10; SF9 at -12.5: exactly the floor, 0 */
	ck_assert_int_eq(margin(FG_LW_EU868, 5, 5.0f), 12);
	ck_assert_int_eq(margin(FG_LW_EU868, 0, -10.0f), 10);
	ck_assert_int_eq(margin(FG_LW_EU868, 3, -12.5f), 0);
	/* EU868 DR6 is SF7 at 250 kHz: the floor is the SF's, -7.5 dB; +2.75 dB -> 10 */
	ck_assert_int_eq(margin(FG_LW_EU868, 6, 2.75f), 10);
	/* US915 DR0 is SF10 (floor -15): SNR -3 -> 12; DR4 is SF8/500 kHz: SNR 0 -> 10 */
	ck_assert_int_eq(margin(FG_LW_US915, 0, -3.0f), 12);
	ck_assert_int_eq(margin(FG_LW_US915, 3, 0.0f), 7);
	ck_assert_int_eq(margin(FG_LW_US915, 4, 0.0f), 10);
	/* AU915 DR2 is SF10: SNR 1.25 -> 16.25 -> 16; AS923 DR2 the same rate */
	ck_assert_int_eq(margin(FG_LW_AU915, 2, 1.25f), 16);
	ck_assert_int_eq(margin(FG_LW_AS923, 2, 1.25f), 16);
}
END_TEST

START_TEST(link_check_margin_clamped)
{
	/* below the floor: 0, never a wrapped byte */
	ck_assert_int_eq(margin(FG_LW_EU868, 5, -8.0f), 0);
	ck_assert_int_eq(margin(FG_LW_EU868, 0, -25.0f), 0);
	ck_assert_int_eq(margin(FG_LW_EU868, 0, -19.9f), 0); /* 0.1 dB -> 0 */
	/* 255 is RFU: at most 254 */
	ck_assert_int_eq(margin(FG_LW_EU868, 5, 246.5f), 254);
	ck_assert_int_eq(margin(FG_LW_EU868, 5, 1000.0f), 254);
	ck_assert_int_eq(margin(FG_LW_EU868, 5, 246.0f), 253);
	/* no SNR to speak of: FSK (DR7), an unknown DR, NaN */
	ck_assert_int_eq(margin(FG_LW_EU868, 7, 10.0f), 0);
	ck_assert_int_eq(margin(FG_LW_EU868, -1, 10.0f), 0);
	ck_assert_int_eq(margin(FG_LW_EU868, 15, 10.0f), 0);
	ck_assert_int_eq(margin(FG_LW_EU868, 5, NAN), 0);
}
END_TEST

/* ------------------------------------------------------------------ DeviceTimeAns */

static int device_time_answer(uint64_t unix_ms, bool known, uint8_t out[16])
{
	struct fg_lw_mac_ctx ctx = {
		.region = FG_LW_EU868,
		.dr = 5,
		.time_known = known,
		.uplink_unix_ms = unix_ms,
	};
	struct fg_lw_mac_seen seen;
	int n;

	memset(out, 0xaa, 16);
	n = fg_lw_mac_answers((const uint8_t *) "\x0d", 1, &ctx, out, 16, &seen);
	ck_assert(seen.device_time_req);
	ck_assert(!seen.link_check_req);
	return n;
}

START_TEST(device_time_known_instants)
{
	uint8_t out[16];

	/*
	 * 2024-01-01T00:00:00.500Z: Unix 1704067200 s. GPS epoch 1980-01-06 is
	 * Unix 315964800 (3657 days * 86400). GPS = 1704067200 - 315964800 + 18
	 * leap seconds = 1388102418 = 0x52BCC312, little-endian 12 C3 BC 52;
	 * 500 ms = 128/256 s = 0x80.
	 */
	ck_assert_int_eq(device_time_answer(1704067200500ull, true, out), 6);
	assert_bytes(out, ((const uint8_t[]){ 0x0d, 0x12, 0xc3, 0xbc, 0x52, 0x80, 0xaa }), 7);
	/* The GPS epoch itself, in UTC: 18 s of GPS time (the leap seconds since), 0 fraction. */
	ck_assert_int_eq(device_time_answer(315964800000ull, true, out), 6);
	assert_bytes(out, ((const uint8_t[]){ 0x0d, 18, 0, 0, 0, 0 }), 6);
	/* 999 ms is 255.7/256 s: 255, rounded down like the seconds */
	ck_assert_int_eq(device_time_answer(315964800999ull, true, out), 6);
	assert_bytes(out, ((const uint8_t[]){ 0x0d, 18, 0, 0, 0, 255 }), 6);
	/* 4 ms is 1.02/256 s: 1; 3 ms is 0.77: 0 */
	ck_assert_int_eq(device_time_answer(315964800004ull, true, out), 6);
	ck_assert_uint_eq(out[5], 1);
	ck_assert_uint_eq(device_time_answer(315964800003ull, true, out), 6);
	ck_assert_uint_eq(out[5], 0);
	/* 256 s later: the second byte of the seconds counts */
	ck_assert_int_eq(device_time_answer(315964800000ull + 256000, true, out), 6);
	assert_bytes(out, ((const uint8_t[]){ 0x0d, 18, 1, 0, 0, 0 }), 6);
}
END_TEST

START_TEST(device_time_not_answered_without_a_clock)
{
	uint8_t out[16];

	/* Not synchronized: the request is seen, nothing is answered. */
	ck_assert_int_eq(device_time_answer(1704067200500ull, false, out), 0);
	ck_assert_uint_eq(out[0], 0xaa);
	/* "Synchronized" but before the GPS epoch: a clock that was never set. */
	ck_assert_int_eq(device_time_answer(1000, true, out), 0);
	ck_assert_uint_eq(out[0], 0xaa);
}
END_TEST

/* ------------------------------------------------------------------ the list of commands */

static const struct fg_lw_mac_ctx ctx_sf7 = {
	.region = FG_LW_EU868,
	.dr = 5,
	.snr = 2.5f, /* margin 10 */
	.time_known = true,
	.uplink_unix_ms = 315964800000ull, /* GPS 18 s */
};

START_TEST(answers_in_the_order_asked)
{
	struct fg_lw_mac_seen seen;
	uint8_t out[16];

	ck_assert_int_eq(fg_lw_mac_answers((const uint8_t *) "\x02\x0d", 2, &ctx_sf7, out,
					   sizeof(out), &seen),
			 9);
	assert_bytes(out, ((const uint8_t[]){ 0x02, 10, 1, 0x0d, 18, 0, 0, 0, 0 }), 9);
	ck_assert(seen.link_check_req && seen.device_time_req);
	ck_assert_int_eq(fg_lw_mac_answers((const uint8_t *) "\x0d\x02", 2, &ctx_sf7, out,
					   sizeof(out), &seen),
			 9);
	assert_bytes(out, ((const uint8_t[]){ 0x0d, 18, 0, 0, 0, 0, 0x02, 10, 1 }), 9);
	/* Asked twice: answered once. */
	ck_assert_int_eq(fg_lw_mac_answers((const uint8_t *) "\x02\x02\x0d\x0d", 4, &ctx_sf7, out,
					   sizeof(out), &seen),
			 9);
}
END_TEST

START_TEST(answers_read_over_other_commands)
{
	/*
	 * DevStatusAns (06 battery margin), LinkADRAns (03 status) twice, RXTimingSetupAns
	 * (08), LinkCheckReq (02): only the last is answered; the last LinkADRAns status seen.
	 */
	const uint8_t c[] = { 0x06, 0xfe, 0x07, 0x03, 0x07, 0x08, 0x03, 0x06, 0x02 };
	struct fg_lw_mac_seen seen;
	uint8_t out[16];

	ck_assert_int_eq(fg_lw_mac_answers(c, sizeof(c), &ctx_sf7, out, sizeof(out), &seen), 3);
	assert_bytes(out, ((const uint8_t[]){ 0x02, 10, 1 }), 3);
	ck_assert_int_eq(seen.link_adr_ans, 6);
	ck_assert_uint_eq(seen.unknown, 0);
	ck_assert(seen.link_check_req && !seen.device_time_req);
	/* Only answers to our own requests: nothing owed. A LinkADRAns status of 0 is kept. */
	ck_assert_int_eq(fg_lw_mac_answers((const uint8_t *) "\x03\x00\x04", 3, &ctx_sf7, out,
					   sizeof(out), &seen),
			 0);
	ck_assert_int_eq(seen.link_adr_ans, 0);
	/* Nothing at all. */
	ck_assert_int_eq(fg_lw_mac_answers(NULL, 0, &ctx_sf7, out, sizeof(out), &seen), 0);
	ck_assert_int_eq(seen.link_adr_ans, -1);
	ck_assert(!seen.link_check_req && !seen.device_time_req && seen.unknown == 0);
	/* seen may be NULL */
	ck_assert_int_eq(
		fg_lw_mac_answers((const uint8_t *) "\x02", 1, &ctx_sf7, out, sizeof(out), NULL),
		3);
}
END_TEST

START_TEST(answers_stop_at_unknown_or_truncated)
{
	struct fg_lw_mac_seen seen;
	uint8_t out[16];

	/* 0x0B (RekeyInd, 1.1 only) has no length we know: DeviceTimeReq after it is unseen. */
	ck_assert_int_eq(fg_lw_mac_answers((const uint8_t *) "\x02\x0b\x0d", 3, &ctx_sf7, out,
					   sizeof(out), &seen),
			 3);
	ck_assert_uint_eq(out[0], 0x02);
	ck_assert_uint_eq(seen.unknown, 1);
	ck_assert(!seen.device_time_req);
	/* Proprietary 0x80 first: nothing read. */
	ck_assert_int_eq(fg_lw_mac_answers((const uint8_t *) "\x80\x02", 2, &ctx_sf7, out,
					   sizeof(out), &seen),
			 0);
	ck_assert_uint_eq(seen.unknown, 1);
	ck_assert(!seen.link_check_req);
	/* DevStatusAns needs 2 bytes, has 1: the LinkCheckReq before it still answered. */
	ck_assert_int_eq(fg_lw_mac_answers((const uint8_t *) "\x02\x06\xfe", 3, &ctx_sf7, out,
					   sizeof(out), &seen),
			 3);
	ck_assert_uint_eq(seen.unknown, 1);
	/* A LinkADRAns without its status byte. */
	ck_assert_int_eq(
		fg_lw_mac_answers((const uint8_t *) "\x03", 1, &ctx_sf7, out, sizeof(out), &seen),
		0);
	ck_assert_int_eq(seen.link_adr_ans, -1);
	ck_assert_uint_eq(seen.unknown, 1);
	/* Downlink-only CIDs on an uplink (LinkCheckAns 0x02 is a request up; 0x01 ResetInd 1.1).
	 */
	ck_assert_int_eq(
		fg_lw_mac_answers((const uint8_t *) "\x01", 1, &ctx_sf7, out, sizeof(out), &seen),
		0);
	ck_assert_uint_eq(seen.unknown, 1);
}
END_TEST

START_TEST(answers_that_do_not_fit)
{
	struct fg_lw_mac_seen seen;
	uint8_t out[16];

	memset(out, 0xaa, sizeof(out));
	ck_assert_int_eq(fg_lw_mac_answers((const uint8_t *) "\x02", 1, &ctx_sf7, out, 2, &seen),
			 -ENOBUFS);
	ck_assert(seen.link_check_req);
	ck_assert_uint_eq(out[0], 0xaa); /* no half answer */
	ck_assert_int_eq(fg_lw_mac_answers((const uint8_t *) "\x02", 1, &ctx_sf7, NULL, 0, &seen),
			 -ENOBUFS);
	/* 3 + 6 bytes owed, 8 room: the first fits and is written, the call says -ENOBUFS */
	ck_assert_int_eq(
		fg_lw_mac_answers((const uint8_t *) "\x02\x0d", 2, &ctx_sf7, out, 8, &seen),
		-ENOBUFS);
	assert_bytes(out, ((const uint8_t[]){ 0x02, 10, 1, 0xaa }), 4);
	ck_assert(seen.device_time_req);
	/* exactly enough */
	ck_assert_int_eq(
		fg_lw_mac_answers((const uint8_t *) "\x02\x0d", 2, &ctx_sf7, out, 9, &seen), 9);
	/* nothing owed needs no room */
	ck_assert_int_eq(
		fg_lw_mac_answers((const uint8_t *) "\x03\x07", 2, &ctx_sf7, NULL, 0, &seen), 0);
	ck_assert_int_eq(fg_lw_mac_answers((const uint8_t *) "\x02", 1, NULL, out, 16, &seen),
			 -EINVAL);
}
END_TEST

/* ------------------------------------------------------------------ a device's channel mask */

/* The frequency of uplink channel ch (0..71) of US915 (AU915: au). */
static uint32_t fixed_channel_hz(bool au, unsigned ch)
{
	if (ch < 64)
		return (au ? 915200000u : 902300000u) + 200000u * ch;
	return (au ? 915900000u : 903000000u) + 1600000u * (ch - 64);
}

/* Apply a LinkADRReq block as RP002 says a US915/AU915 device does. */
static void apply_link_adr(const uint8_t *b, size_t n, bool on[72])
{
	ck_assert_uint_eq(n % 5, 0);
	for (size_t i = 0; i < n; i += 5) {
		unsigned mask = b[i + 2] | (unsigned) b[i + 3] << 8, cntl = (b[i + 4] >> 4) & 7;

		ck_assert_uint_eq(b[i], 0x03);
		ck_assert_uint_eq(b[i + 1], 0xff);     /* DataRate, TXPower: keep */
		ck_assert_uint_eq(b[i + 4] & 0x8f, 0); /* RFU, NbTrans 0: keep */
		if (cntl <= 3) {
			for (unsigned k = 0; k < 16; k++)
				on[16 * cntl + k] = mask & (1u << k);
		} else if (cntl == 4) {
			for (unsigned k = 0; k < 8; k++)
				on[64 + k] = mask & (1u << k);
		} else if (cntl == 6 || cntl == 7) {
			for (unsigned k = 0; k < 64; k++)
				on[k] = cntl == 6;
			for (unsigned k = 0; k < 8; k++)
				on[64 + k] = mask & (1u << k);
		} else {
			ck_abort_msg("ChMaskCntl %u", cntl);
		}
	}
}

/* The channels a device has on equal the ones the concentrator hears for that sub-band. */
static void assert_mask_is_plan(enum fg_lw_region r, unsigned sb, const bool on[72])
{
	unsigned count = 0;

	for (unsigned ch = 0; ch < 72; ch++) {
		bool in =
			fg_lw_region_uplink_in_plan(r, sb, fixed_channel_hz(r == FG_LW_AU915, ch));

		ck_assert_msg(on[ch] == in, "region %d sub-band %u channel %u: on %d, in plan %d",
			      r, sb, ch, on[ch], in);
		count += on[ch];
	}
	ck_assert_uint_eq(count, 9);
}

START_TEST(link_adr_req_us915_sub_band_2_bytes)
{
	uint8_t b[16];

	/*
	 * Sub-band 2 = channels 8..15 and 500 kHz channel 65.
	 * 1: 03 | FF | ChMask 0x0002 LE 02 00 | ChMaskCntl 7 << 4 = 70
	 * 2: 03 | FF | ChMask 0xFF00 LE 00 FF | ChMaskCntl 0 = 00
	 */
	memset(b, 0xaa, sizeof(b));
	ck_assert_int_eq(fg_lw_region_link_adr_req(FG_LW_US915, 2, b, sizeof(b)), 10);
	assert_bytes(b,
		     ((const uint8_t[]){ 0x03, 0xff, 0x02, 0x00, 0x70, 0x03, 0xff, 0x00, 0xff, 0x00,
					 0xaa }),
		     11);
	/* Sub-band 8 = channels 56..63 (block 3, upper byte), 500 kHz 71 (bit 7). */
	ck_assert_int_eq(fg_lw_region_link_adr_req(FG_LW_US915, 8, b, 10), 10);
	assert_bytes(
		b,
		((const uint8_t[]){ 0x03, 0xff, 0x80, 0x00, 0x70, 0x03, 0xff, 0x00, 0xff, 0x30 }),
		10);
	/* Sub-band 1 = channels 0..7, 500 kHz 64; AU915 sub-band 3 = 16..23 (block 1), 66. */
	ck_assert_int_eq(fg_lw_region_link_adr_req(FG_LW_US915, 1, b, 10), 10);
	assert_bytes(
		b,
		((const uint8_t[]){ 0x03, 0xff, 0x01, 0x00, 0x70, 0x03, 0xff, 0xff, 0x00, 0x00 }),
		10);
	ck_assert_int_eq(fg_lw_region_link_adr_req(FG_LW_AU915, 3, b, 10), 10);
	assert_bytes(
		b,
		((const uint8_t[]){ 0x03, 0xff, 0x04, 0x00, 0x70, 0x03, 0xff, 0xff, 0x00, 0x10 }),
		10);
}
END_TEST

START_TEST(link_adr_req_every_sub_band_matches_the_plan)
{
	static const enum fg_lw_region rs[] = { FG_LW_US915, FG_LW_AU915 };

	for (size_t i = 0; i < 2; i++)
		for (unsigned sb = 1; sb <= 8; sb++) {
			bool on[72];
			uint8_t b[10];

			/* a device fresh from the join hops over all 72 */
			for (unsigned k = 0; k < 72; k++)
				on[k] = true;
			ck_assert_int_eq(fg_lw_region_link_adr_req(rs[i], sb, b, sizeof(b)), 10);
			apply_link_adr(b, sizeof(b), on);
			assert_mask_is_plan(rs[i], sb, on);
		}
}
END_TEST

START_TEST(link_adr_req_none_or_refused)
{
	uint8_t b[16];

	memset(b, 0xaa, sizeof(b));
	/* Dynamic plans learn their channels from the CFList: nothing to send. */
	ck_assert_int_eq(fg_lw_region_link_adr_req(FG_LW_EU868, 0, b, sizeof(b)), 0);
	ck_assert_int_eq(fg_lw_region_link_adr_req(FG_LW_AS923, 2, b, sizeof(b)), 0);
	ck_assert_uint_eq(b[0], 0xaa);
	ck_assert_int_eq(fg_lw_region_link_adr_req(FG_LW_US915, 2, b, 9), -ENOBUFS);
	ck_assert_int_eq(fg_lw_region_link_adr_req(FG_LW_US915, 2, NULL, 0), -ENOBUFS);
	ck_assert_int_eq(fg_lw_region_link_adr_req(FG_LW_US915, 0, b, sizeof(b)), -EINVAL);
	ck_assert_int_eq(fg_lw_region_link_adr_req(FG_LW_AU915, 9, b, sizeof(b)), -EINVAL);
	ck_assert_int_eq(fg_lw_region_link_adr_req(FG_LW_REGION__COUNT, 2, b, sizeof(b)), -EINVAL);
	ck_assert_uint_eq(b[0], 0xaa);
}
END_TEST

/* ------------------------------------------------------------------ CFList */

START_TEST(cflist_eu868_and_as923)
{
	uint8_t c[16];

	/*
	 * EU868: 867.1, 867.3, 867.5, 867.7, 867.9 MHz in 100 Hz units = 8671000
	 * (0x844F18), 8673000 (0x8456E8), 8675000 (0x845EB8), 8677000 (0x846688),
	 * 8679000 (0x846E58), 24 bits little-endian each; CFListType 0.
	 */
	static const uint8_t eu[16] = { 0x18, 0x4f, 0x84, 0xe8, 0x56, 0x84, 0xb8, 0x5e,
					0x84, 0x88, 0x66, 0x84, 0x58, 0x6e, 0x84, 0x00 };
	/*
	 * AS923-1: beside 923.2 and 923.4 (default), 922.2 .. 923.0 MHz: 9222000
	 * (0x8CB770), 9224000 (0x8CBF40), 9226000 (0x8CC710), 9228000 (0x8CCEE0),
	 * 9230000 (0x8CD6B0).
	 */
	static const uint8_t as[16] = { 0x70, 0xb7, 0x8c, 0x40, 0xbf, 0x8c, 0x10, 0xc7,
					0x8c, 0xe0, 0xce, 0x8c, 0xb0, 0xd6, 0x8c, 0x00 };

	memset(c, 0xaa, sizeof(c));
	ck_assert_int_eq(fg_lw_region_cflist(FG_LW_EU868, 0, c), 1);
	assert_bytes(c, eu, 16);
	/* the sub-band means nothing here */
	ck_assert_int_eq(fg_lw_region_cflist(FG_LW_EU868, 5, c), 1);
	assert_bytes(c, eu, 16);
	memset(c, 0xaa, sizeof(c));
	ck_assert_int_eq(fg_lw_region_cflist(FG_LW_AS923, 0, c), 1);
	assert_bytes(c, as, 16);
}
END_TEST

START_TEST(cflist_channels_are_heard)
{
	static const enum fg_lw_region rs[] = { FG_LW_EU868, FG_LW_AS923 };

	/* Every frequency a type-0 CFList gives is one the concentrator listens on. */
	for (size_t i = 0; i < 2; i++) {
		uint8_t c[16];

		ck_assert_int_eq(fg_lw_region_cflist(rs[i], 0, c), 1);
		for (int k = 0; k < 5; k++) {
			uint32_t f = (c[3 * k] | (uint32_t) c[3 * k + 1] << 8 |
				      (uint32_t) c[3 * k + 2] << 16) *
				     100u;

			ck_assert_msg(fg_lw_region_uplink_in_plan(rs[i], 0, f),
				      "region %d: CFList frequency %u not in the plan", rs[i], f);
		}
	}
}
END_TEST

START_TEST(cflist_us915_and_au915)
{
	uint8_t c[16];
	/* ChMask0..4 LE, 5 RFU bytes, CFListType 1. Sub-band 1: 0..7 + 64. */
	static const uint8_t sb1[16] = { 0xff, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 1 };
	/* Sub-band 2: 8..15 (ChMask0 0xFF00) + 65 (ChMask4 0x0002). */
	static const uint8_t sb2[16] = { 0, 0xff, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 1 };
	/* Sub-band 8: 56..63 (ChMask3 0xFF00) + 71 (ChMask4 0x0080). */
	static const uint8_t sb8[16] = { 0, 0, 0, 0, 0, 0, 0, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1 };

	ck_assert_int_eq(fg_lw_region_cflist(FG_LW_US915, 1, c), 1);
	assert_bytes(c, sb1, 16);
	ck_assert_int_eq(fg_lw_region_cflist(FG_LW_US915, 2, c), 1);
	assert_bytes(c, sb2, 16);
	ck_assert_int_eq(fg_lw_region_cflist(FG_LW_US915, 8, c), 1);
	assert_bytes(c, sb8, 16);
	/* AU915 numbers its channels the same way */
	ck_assert_int_eq(fg_lw_region_cflist(FG_LW_AU915, 2, c), 1);
	assert_bytes(c, sb2, 16);
	/* and the mask, applied, is the plan, for every sub-band */
	for (int au = 0; au < 2; au++)
		for (unsigned sb = 1; sb <= 8; sb++) {
			enum fg_lw_region r = au ? FG_LW_AU915 : FG_LW_US915;
			bool on[72];

			ck_assert_int_eq(fg_lw_region_cflist(r, sb, c), 1);
			ck_assert_uint_eq(c[15], 1);
			for (unsigned ch = 0; ch < 72; ch++)
				on[ch] = c[2 * (ch / 16) + (ch % 16) / 8] & (1u << (ch % 8));
			for (int k = 10; k < 15; k++)
				ck_assert_uint_eq(c[k], 0);
			assert_mask_is_plan(r, sb, on);
		}
}
END_TEST

START_TEST(cflist_refused)
{
	uint8_t c[16];

	ck_assert_int_eq(fg_lw_region_cflist(FG_LW_US915, 0, c), -EINVAL);
	ck_assert_int_eq(fg_lw_region_cflist(FG_LW_AU915, 9, c), -EINVAL);
	ck_assert_int_eq(fg_lw_region_cflist(FG_LW_REGION__COUNT, 2, c), -EINVAL);
	ck_assert_int_eq(fg_lw_region_cflist(FG_LW_EU868, 0, NULL), -EINVAL);
}
END_TEST

/* ------------------------------------------------------------------ uplink channels */

START_TEST(in_plan_eu868)
{
	static const uint32_t in[] = { 868100000, 868300000, 868500000, 867100000, 867300000,
				       867500000, 867700000, 867900000, 868800000 /* FSK */ };
	static const uint32_t out[] = { 869525000 /* RX2 only */,
					868000000,
					867000000,
					868700000,
					868100001,
					868099999,
					0,
					923300000 };

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		ck_assert_msg(fg_lw_region_uplink_in_plan(FG_LW_EU868, 0, in[i]), "%u", in[i]);
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++)
		ck_assert_msg(!fg_lw_region_uplink_in_plan(FG_LW_EU868, 0, out[i]), "%u", out[i]);
}
END_TEST

START_TEST(in_plan_us915_and_au915)
{
	/* US915 sub-band 2: 903.9 .. 905.3 MHz every 200 kHz, 904.6 MHz (500 kHz) */
	for (uint32_t f = 903900000; f <= 905300000; f += 200000)
		ck_assert_msg(fg_lw_region_uplink_in_plan(FG_LW_US915, 2, f), "%u", f);
	ck_assert(fg_lw_region_uplink_in_plan(FG_LW_US915, 2, 904600000));
	ck_assert(!fg_lw_region_uplink_in_plan(FG_LW_US915, 2, 902300000)); /* sub-band 1 */
	ck_assert(!fg_lw_region_uplink_in_plan(FG_LW_US915, 2, 903700000));
	ck_assert(!fg_lw_region_uplink_in_plan(FG_LW_US915, 2, 905500000)); /* sub-band 3 */
	ck_assert(!fg_lw_region_uplink_in_plan(FG_LW_US915, 2, 903000000)); /* 500 kHz ch 64 */
	ck_assert(!fg_lw_region_uplink_in_plan(FG_LW_US915, 2, 923300000)); /* downlink */
	ck_assert(fg_lw_region_uplink_in_plan(FG_LW_US915, 1, 902300000));
	/* sub-band 8: 913.5 .. 914.9, 914.2 */
	ck_assert(fg_lw_region_uplink_in_plan(FG_LW_US915, 8, 913500000));
	ck_assert(fg_lw_region_uplink_in_plan(FG_LW_US915, 8, 914900000));
	ck_assert(fg_lw_region_uplink_in_plan(FG_LW_US915, 8, 914200000));
	ck_assert(!fg_lw_region_uplink_in_plan(FG_LW_US915, 8, 904600000));
	/* AU915 sub-band 2: 916.8 .. 918.2, 917.5 (TTN's AU_915_928_FSB_2) */
	for (uint32_t f = 916800000; f <= 918200000; f += 200000)
		ck_assert_msg(fg_lw_region_uplink_in_plan(FG_LW_AU915, 2, f), "%u", f);
	ck_assert(fg_lw_region_uplink_in_plan(FG_LW_AU915, 2, 917500000));
	ck_assert(!fg_lw_region_uplink_in_plan(FG_LW_AU915, 2, 915200000));
	ck_assert(!fg_lw_region_uplink_in_plan(FG_LW_AU915, 2, 904600000));
	/* no such sub-band: nothing is in it */
	ck_assert(!fg_lw_region_uplink_in_plan(FG_LW_US915, 0, 902300000));
	ck_assert(!fg_lw_region_uplink_in_plan(FG_LW_US915, 9, 902300000));
}
END_TEST

START_TEST(in_plan_as923)
{
	/* 922.0 .. 923.4 MHz, and the SF7/250 kHz service channel at 922.1 */
	for (uint32_t f = 922000000; f <= 923400000; f += 200000)
		ck_assert_msg(fg_lw_region_uplink_in_plan(FG_LW_AS923, 0, f), "%u", f);
	ck_assert(fg_lw_region_uplink_in_plan(FG_LW_AS923, 0, 922100000));
	ck_assert(!fg_lw_region_uplink_in_plan(FG_LW_AS923, 0, 923600000));
	ck_assert(!fg_lw_region_uplink_in_plan(FG_LW_AS923, 0, 921800000)); /* FSK is off */
	ck_assert(!fg_lw_region_uplink_in_plan(FG_LW_AS923, 0, 868100000));
	ck_assert(!fg_lw_region_uplink_in_plan(FG_LW_REGION__COUNT, 0, 868100000));
}
END_TEST

/* ------------------------------------------------------------------ largest downlink */

START_TEST(max_payload_per_dr)
{
	/* RP002-1.0.x M (MACPayload) columns, no repeater */
	static const unsigned eu[8] = { 59, 59, 59, 123, 250, 250, 250, 250 };
	static const unsigned as[8] = { 59, 59, 123, 123, 250, 250, 250, 250 };
	static const unsigned us[6] = { 61, 137, 250, 250, 250, 250 }; /* DR8..13 */

	for (int dr = 0; dr < 8; dr++) {
		ck_assert_uint_eq(fg_lw_region_max_payload(FG_LW_EU868, dr), eu[dr]);
		ck_assert_uint_eq(fg_lw_region_max_payload(FG_LW_AS923, dr), as[dr]);
		/* US915/AU915 DR0..7 are not downlink rates */
		ck_assert_uint_eq(fg_lw_region_max_payload(FG_LW_US915, dr), 0);
		ck_assert_uint_eq(fg_lw_region_max_payload(FG_LW_AU915, dr), 0);
	}
	for (int dr = 8; dr <= 13; dr++) {
		ck_assert_uint_eq(fg_lw_region_max_payload(FG_LW_US915, dr), us[dr - 8]);
		ck_assert_uint_eq(fg_lw_region_max_payload(FG_LW_AU915, dr), us[dr - 8]);
		ck_assert_uint_eq(fg_lw_region_max_payload(FG_LW_EU868, dr), 0);
	}
	ck_assert_uint_eq(fg_lw_region_max_payload(FG_LW_US915, 14), 0);
	ck_assert_uint_eq(fg_lw_region_max_payload(FG_LW_EU868, -1), 0);
	ck_assert_uint_eq(fg_lw_region_max_payload(FG_LW_EU868, 16), 0);
	ck_assert_uint_eq(fg_lw_region_max_payload(FG_LW_REGION__COUNT, 5), 0);
}
END_TEST

START_TEST(max_payload_matches_the_downlink_rates)
{
	/* A size exactly where the region sends downlinks; MHDR + M + MIC fits the radio. */
	for (int r = 0; r < FG_LW_REGION__COUNT; r++)
		for (int dr = 0; dr < 16; dr++) {
			struct fg_lw_dr rate;
			bool down =
				fg_lw_region_dr_params((enum fg_lw_region) r, dr, true, &rate) == 0;
			unsigned m = fg_lw_region_max_payload((enum fg_lw_region) r, dr);

			ck_assert_msg(down == (m > 0), "region %d DR%d", r, dr);
			ck_assert_uint_le(1 + m + 4, FG_LW_PHY_MAX);
		}
}
END_TEST

static Suite *mac_suite(void)
{
	Suite *s = suite_create("mac");
	TCase *tc;

	tc = tcase_create("answers");
	tcase_add_test(tc, link_check_margin_per_sf);
	tcase_add_test(tc, link_check_margin_clamped);
	tcase_add_test(tc, device_time_known_instants);
	tcase_add_test(tc, device_time_not_answered_without_a_clock);
	tcase_add_test(tc, answers_in_the_order_asked);
	tcase_add_test(tc, answers_read_over_other_commands);
	tcase_add_test(tc, answers_stop_at_unknown_or_truncated);
	tcase_add_test(tc, answers_that_do_not_fit);
	suite_add_tcase(s, tc);

	tc = tcase_create("link_adr_req");
	tcase_add_test(tc, link_adr_req_us915_sub_band_2_bytes);
	tcase_add_test(tc, link_adr_req_every_sub_band_matches_the_plan);
	tcase_add_test(tc, link_adr_req_none_or_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("cflist");
	tcase_add_test(tc, cflist_eu868_and_as923);
	tcase_add_test(tc, cflist_channels_are_heard);
	tcase_add_test(tc, cflist_us915_and_au915);
	tcase_add_test(tc, cflist_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("plan");
	tcase_add_test(tc, in_plan_eu868);
	tcase_add_test(tc, in_plan_us915_and_au915);
	tcase_add_test(tc, in_plan_as923);
	tcase_add_test(tc, max_payload_per_dr);
	tcase_add_test(tc, max_payload_matches_the_downlink_rates);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(mac_suite());
}
