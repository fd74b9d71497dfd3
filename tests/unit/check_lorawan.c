/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lora/lorawan.h"
#include "check-main.h"

/*
 * Published vectors, each cited where it is used. Sources:
 *  [LP]  anthonykirby/lora-packet, test/test_parse.js, test/test_mic.js,
 *        test/test_decrypt.js, test/test_fopts.js (and demo/demo1.js);
 *  [BR]  brocaar/lorawan, phypayload_test.go (TestPHYPayloadData,
 *        TestPHYPayloadJoinRequest, ExampleNewPHYPayload,
 *        ExampleNewPHYPayload_joinRequest, ExampleNewPHYPayload_joinAcceptSend);
 *  [RFC] RFC 4493, section 4 "Test Vectors" (also NIST SP 800-38B, D.1).
 * Facts only: frames, keys and expected results.
 */

/* Hex to bytes; the test's own helper. Returns the byte count. */
static size_t unhex(const char *s, uint8_t *out, size_t size)
{
	size_t n = 0;

	for (; s[0] && s[1]; s += 2) {
		unsigned v = 0;

		for (int i = 0; i < 2; i++) {
			char c = s[i];

			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned) (c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned) (c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v |= (unsigned) (c - 'A' + 10);
			else
				ck_abort_msg("bad hex '%s'", s);
		}
		ck_assert_uint_lt(n, size);
		out[n++] = (uint8_t) v;
	}
	ck_assert_msg(s[0] == '\0', "odd hex length");
	return n;
}

static void key(const char *hex, uint8_t k[FG_LW_KEY_LEN])
{
	ck_assert_uint_eq(unhex(hex, k, FG_LW_KEY_LEN), FG_LW_KEY_LEN);
}

/* [LP] test_parse.js, test_mic.js, test_decrypt.js: DevAddr 49be7df1 and its two keys. */
#define LP_NWKSKEY "44024241ed4ce9a68c6a8bc055233fd3"
#define LP_APPSKEY "ec925802ae430ca77fd3dd73cb2cc588"
/* LP_FRAME: FCnt 2, FPort 1, "test"; LP_EMPTY: FCnt 3, FPort 1, no payload; LP_LARGE: FCnt 4,
 * 44 bytes; LP_ACK: unconfirmed down, ACK; LP_FOPTS: FOpts 091103. */
#define LP_FRAME "40F17DBE4900020001954378762B11FF0D"
#define LP_EMPTY "40F17DBE49000300012A3518AF"
#define LP_LARGE                                                                                   \
	"40f17dbe490004000155332de41a11adc072553544429ce7787707d1c316e027e7e5e334263376affb8a"     \
	"a17ad30075293f28dea8a20af3c5e7"
#define LP_ACK	   "60f17dbe4920020001f9d65d27"
#define LP_FOPTS   "4084412505A3010009110308B33750F504D4B86A"
#define LP_JOINREQ "0039363463336913AA05693574323831330489C65B1304"
#define LP_JOINACC "20386337CCBBAAE7CD2C010000D9D0A6E7"

static struct fg_lw_session lp_session(void)
{
	struct fg_lw_session s = { .dev_addr = 0x49be7df1 };

	key(LP_NWKSKEY, s.nwk_s_key);
	key(LP_APPSKEY, s.app_s_key);
	return s;
}

static struct fg_lw_session test_session(uint32_t dev_addr)
{
	struct fg_lw_session s = { .dev_addr = dev_addr };

	for (int i = 0; i < FG_LW_KEY_LEN; i++) {
		s.nwk_s_key[i] = (uint8_t) (0xa0 + i);
		s.app_s_key[i] = (uint8_t) (0x50 + 3 * i);
	}
	return s;
}

/* ------------------------------------------------------------------ parse */

START_TEST(parse_data_uplink_fields)
{
	uint8_t b[FG_LW_PHY_MAX];
	size_t n = unhex(LP_FRAME, b, sizeof(b));
	struct fg_lw_frame f;

	/* [LP] test_parse.js "should parse packet": DevAddr 49be7df1, FCtrl 00, FCnt 2,
	 * FPort 01, FRMPayload 95437876, MIC 2b11ff0d. */
	ck_assert_int_eq(fg_lw_parse(b, n, &f), FG_LW_OK);
	ck_assert_int_eq(f.mtype, FG_LW_UNCONFIRMED_UP);
	ck_assert_uint_eq(f.mhdr, 0x40);
	ck_assert_uint_eq(f.major, 0);
	ck_assert_uint_eq(f.dev_addr, 0x49be7df1);
	ck_assert_uint_eq(f.fctrl, 0);
	ck_assert(!f.adr && !f.adr_ack_req && !f.ack && !f.class_b);
	ck_assert_uint_eq(f.fopts_len, 0);
	ck_assert_ptr_eq(f.fopts, b + 8);
	ck_assert_uint_eq(f.fcnt16, 2);
	ck_assert(f.has_port);
	ck_assert_uint_eq(f.fport, 1);
	ck_assert_ptr_eq(f.frm, b + 9);
	ck_assert_uint_eq(f.frm_len, 4);
	ck_assert_mem_eq(f.frm, "\x95\x43\x78\x76", 4);
	ck_assert_uint_eq(f.mic, 0x0dff112b); /* 2b 11 ff 0d on air */
	ck_assert_ptr_eq(f.phy, b);
	ck_assert_uint_eq(f.phy_len, 17);
}
END_TEST

START_TEST(parse_data_uplink_with_port_and_empty_payload)
{
	uint8_t b[FG_LW_PHY_MAX];
	size_t n = unhex(LP_EMPTY, b, sizeof(b));
	struct fg_lw_frame f;

	/* [LP] test_parse.js "should parse packet with empty payload": FCnt 3, FPort 01,
	 * FRMPayload empty, MIC 2a3518af. */
	ck_assert_int_eq(fg_lw_parse(b, n, &f), FG_LW_OK);
	ck_assert_uint_eq(f.fcnt16, 3);
	ck_assert(f.has_port);
	ck_assert_uint_eq(f.fport, 1);
	ck_assert_uint_eq(f.frm_len, 0);
	ck_assert_ptr_eq(f.frm, b + 9);
	ck_assert_uint_eq(f.mic, 0xaf18352a);
}
END_TEST

START_TEST(parse_data_uplink_without_port)
{
	/* MHDR 80, DevAddr 04030201, FCtrl 00, FCnt 0700, MIC: 12 bytes, the data minimum. */
	const uint8_t b[] = { 0x80, 4, 3, 2, 1, 0x00, 0x07, 0x00, 0xde, 0xad, 0xbe, 0xef };
	struct fg_lw_frame f;

	ck_assert_int_eq(fg_lw_parse(b, sizeof(b), &f), FG_LW_OK);
	ck_assert_int_eq(f.mtype, FG_LW_CONFIRMED_UP);
	ck_assert_uint_eq(f.dev_addr, 0x01020304);
	ck_assert_uint_eq(f.fcnt16, 7);
	ck_assert(!f.has_port);
	ck_assert_uint_eq(f.frm_len, 0);
	ck_assert_ptr_eq(f.frm, b + 8);
	ck_assert_uint_eq(f.mic, 0xefbeadde);
}
END_TEST

START_TEST(parse_fopts_and_fctrl_bits)
{
	uint8_t b[FG_LW_PHY_MAX];
	size_t n = unhex(LP_FOPTS, b, sizeof(b));
	struct fg_lw_frame f;

	/* [LP] test_fopts.js (github issue #18): FOpts are 091103. FCtrl a3 = ADR, ACK,
	 * FOptsLen 3; then FCnt 0001, FPort 08, FRMPayload b33750f5, MIC 04d4b86a. */
	ck_assert_int_eq(fg_lw_parse(b, n, &f), FG_LW_OK);
	ck_assert_uint_eq(f.dev_addr, 0x05254184);
	ck_assert_uint_eq(f.fctrl, 0xa3);
	ck_assert(f.adr);
	ck_assert(!f.adr_ack_req);
	ck_assert(f.ack);
	ck_assert(!f.class_b);
	ck_assert_uint_eq(f.fopts_len, 3);
	ck_assert_mem_eq(f.fopts, "\x09\x11\x03", 3);
	ck_assert_uint_eq(f.fcnt16, 1);
	ck_assert_uint_eq(f.fport, 8);
	ck_assert_uint_eq(f.frm_len, 4);
	ck_assert_ptr_eq(f.frm, b + 12);
	ck_assert_uint_eq(f.mic, 0x6ab8d404);
}
END_TEST

START_TEST(parse_fctrl_adr_ack_req_and_class_b)
{
	/* FCtrl 0x50: ADRACKReq and ClassB on an uplink; on a downlink bit 6 is RFU. */
	uint8_t b[] = { 0x40, 1, 0, 0, 0, 0x50, 0, 0, 1, 2, 3, 4 };
	struct fg_lw_frame f;

	ck_assert_int_eq(fg_lw_parse(b, sizeof(b), &f), FG_LW_OK);
	ck_assert(f.adr_ack_req);
	ck_assert(f.class_b);
	ck_assert(!f.adr && !f.ack);
	b[0] = 0x60;
	ck_assert_int_eq(fg_lw_parse(b, sizeof(b), &f), FG_LW_OK);
	ck_assert(!f.adr_ack_req);
	ck_assert(f.class_b); /* FPending on a downlink */
}
END_TEST

START_TEST(parse_fopts_filling_the_frame_has_no_port)
{
	/* FOptsLen 15 and exactly 15 bytes of FOpts before the MIC: 27 bytes, no FPort. */
	uint8_t b[27] = { 0x40, 1, 2, 3, 4, 0x0f, 9, 0 };
	struct fg_lw_frame f;

	ck_assert_int_eq(fg_lw_parse(b, sizeof(b), &f), FG_LW_OK);
	ck_assert_uint_eq(f.fopts_len, 15);
	ck_assert(!f.has_port);
	ck_assert_uint_eq(f.frm_len, 0);
	ck_assert_ptr_eq(f.frm, b + 23);
}
END_TEST

START_TEST(parse_downlinks_are_parsed)
{
	uint8_t b[FG_LW_PHY_MAX];
	size_t n = unhex(LP_ACK, b, sizeof(b));
	struct fg_lw_frame f;

	/* [LP] test_parse.js "should parse ack": Unconfirmed Data Down, FCtrl 20 (ACK),
	 * FCnt 2, FPort 01, empty payload. */
	ck_assert_int_eq(fg_lw_parse(b, n, &f), FG_LW_OK);
	ck_assert_int_eq(f.mtype, FG_LW_UNCONFIRMED_DOWN);
	ck_assert(f.ack);
	ck_assert(!f.adr);
	ck_assert_uint_eq(f.fcnt16, 2);
	ck_assert_uint_eq(f.fport, 1);
	ck_assert_uint_eq(f.frm_len, 0);
	b[0] = 0xa0; /* confirmed down */
	ck_assert_int_eq(fg_lw_parse(b, n, &f), FG_LW_OK);
	ck_assert_int_eq(f.mtype, FG_LW_CONFIRMED_DOWN);
}
END_TEST

START_TEST(parse_confirmed_up)
{
	uint8_t b[FG_LW_PHY_MAX];
	size_t n = unhex("80040302010000000ae264d4f7b56a0e75", b, sizeof(b));
	struct fg_lw_frame f;

	/* [BR] ExampleNewPHYPayload output: ConfirmedDataUp, DevAddr 01020304, FCnt 0,
	 * FPort 10, 4 bytes of payload. */
	ck_assert_int_eq(fg_lw_parse(b, n, &f), FG_LW_OK);
	ck_assert_int_eq(f.mtype, FG_LW_CONFIRMED_UP);
	ck_assert_uint_eq(f.dev_addr, 0x01020304);
	ck_assert_uint_eq(f.fcnt16, 0);
	ck_assert_uint_eq(f.fport, 10);
	ck_assert_uint_eq(f.frm_len, 4);
	ck_assert_uint_eq(f.mic, 0x750e6ab5);
}
END_TEST

START_TEST(parse_join_request)
{
	uint8_t b[FG_LW_PHY_MAX];
	size_t n;
	struct fg_lw_frame f;

	/* [BR] TestPHYPayloadJoinRequest: base64 AAQDAgEEAwIBBQQDAgUEAwItEGqZDhI=, AppEUI
	 * 0102030401020304, DevEUI 0203040502030405, DevNonce {16, 45} (big-endian). */
	n = unhex("00040302010403020105040302050403022d106a990e12", b, sizeof(b));
	ck_assert_int_eq(fg_lw_parse(b, n, &f), FG_LW_OK);
	ck_assert_int_eq(f.mtype, FG_LW_JOIN_REQUEST);
	ck_assert_uint_eq(f.join_eui, UINT64_C(0x0102030401020304));
	ck_assert_uint_eq(f.dev_eui, UINT64_C(0x0203040502030405));
	ck_assert_uint_eq(f.dev_nonce, 0x102d);
	ck_assert_uint_eq(f.mic, 0x120e996a);
	ck_assert_uint_eq(f.frm_len, 0);
	ck_assert(!f.has_port);

	/* [BR] ExampleNewPHYPayload_joinRequest: AppEUI 01.., DevEUI 02.., DevNonce 0303. */
	n = unhex("0001010101010101010202020202020202030309b97b32", b, sizeof(b));
	ck_assert_int_eq(fg_lw_parse(b, n, &f), FG_LW_OK);
	ck_assert_uint_eq(f.join_eui, UINT64_C(0x0101010101010101));
	ck_assert_uint_eq(f.dev_eui, UINT64_C(0x0202020202020202));
	ck_assert_uint_eq(f.dev_nonce, 0x0303);
	ck_assert_uint_eq(f.mic, 0x327bb909);

	/* [LP] test_mic.js join request: the bytes on air, reversed into numbers. */
	n = unhex(LP_JOINREQ, b, sizeof(b));
	ck_assert_int_eq(fg_lw_parse(b, n, &f), FG_LW_OK);
	ck_assert_uint_eq(f.join_eui, UINT64_C(0xaa13693363343639));
	ck_assert_uint_eq(f.dev_eui, UINT64_C(0x3331383274356905));
	ck_assert_uint_eq(f.dev_nonce, 0x8904);
	ck_assert_uint_eq(f.mic, 0x04135bc6);
}
END_TEST

START_TEST(parse_join_accept_both_lengths)
{
	uint8_t b[33] = { 0x20 };
	size_t n;
	struct fg_lw_frame f;

	/* [LP] test_mic.js join accept (17 bytes, MIC d9d0a6e7); [BR] an encrypted one. */
	n = unhex(LP_JOINACC, b, sizeof(b));
	ck_assert_int_eq(fg_lw_parse(b, n, &f), FG_LW_OK);
	ck_assert_int_eq(f.mtype, FG_LW_JOIN_ACCEPT);
	ck_assert_uint_eq(f.mic, 0xe7a6d0d9);
	n = unhex("2023cf335489aae3183c0be0baa8dee5f3", b, sizeof(b));
	ck_assert_int_eq(fg_lw_parse(b, n, &f), FG_LW_OK);
	ck_assert_uint_eq(f.mic, 0xf3e5dea8);
	/* With a CFList: 33 bytes. */
	memset(b, 0, sizeof(b));
	b[0] = 0x20;
	b[29] = 0x11;
	b[32] = 0x44;
	ck_assert_int_eq(fg_lw_parse(b, 33, &f), FG_LW_OK);
	ck_assert_uint_eq(f.phy_len, 33);
	ck_assert_uint_eq(f.mic, 0x44000011);
}
END_TEST

START_TEST(parse_rejoin_and_proprietary_mhdr_and_mic)
{
	const uint8_t rejoin[] = { 0xc0, 0x01, 0x02, 0xaa, 0xbb, 0xcc, 0xdd };
	const uint8_t prop[] = { 0xe0, 0x11, 0x22, 0x33, 0x44 };
	struct fg_lw_frame f;

	ck_assert_int_eq(fg_lw_parse(rejoin, sizeof(rejoin), &f), FG_LW_OK);
	ck_assert_int_eq(f.mtype, FG_LW_REJOIN_REQUEST);
	ck_assert_uint_eq(f.mic, 0xddccbbaa);
	ck_assert_uint_eq(f.dev_addr, 0);
	ck_assert_int_eq(fg_lw_parse(prop, sizeof(prop), &f), FG_LW_OK);
	ck_assert_int_eq(f.mtype, FG_LW_PROPRIETARY);
	ck_assert_uint_eq(f.mhdr, 0xe0);
	ck_assert_uint_eq(f.mic, 0x44332211);
}
END_TEST

START_TEST(parse_refuses_too_short)
{
	uint8_t b[FG_LW_PHY_MAX] = { 0 };
	struct fg_lw_frame f;

	ck_assert_int_eq(fg_lw_parse(b, 0, &f), FG_LW_TOO_SHORT);
	ck_assert_int_eq(fg_lw_parse(NULL, 0, &f), FG_LW_TOO_SHORT);
	b[0] = 0x40; /* data: 12 is the minimum */
	ck_assert_int_eq(fg_lw_parse(b, 11, &f), FG_LW_TOO_SHORT);
	ck_assert_int_eq(fg_lw_parse(b, 1, &f), FG_LW_TOO_SHORT);
	b[0] = 0x60;
	ck_assert_int_eq(fg_lw_parse(b, 11, &f), FG_LW_TOO_SHORT);
	b[0] = 0x00; /* join request: exactly 23 */
	ck_assert_int_eq(fg_lw_parse(b, 22, &f), FG_LW_TOO_SHORT);
	b[0] = 0x20; /* join accept: 17 or 33 */
	ck_assert_int_eq(fg_lw_parse(b, 16, &f), FG_LW_TOO_SHORT);
	b[0] = 0xe0; /* proprietary: MHDR and MIC */
	ck_assert_int_eq(fg_lw_parse(b, 4, &f), FG_LW_TOO_SHORT);
	b[0] = 0xc0;
	ck_assert_int_eq(fg_lw_parse(b, 4, &f), FG_LW_TOO_SHORT);
}
END_TEST

START_TEST(parse_refuses_too_long)
{
	uint8_t b[FG_LW_PHY_MAX + 1] = { 0x40 };
	struct fg_lw_frame f;

	ck_assert_int_eq(fg_lw_parse(b, FG_LW_PHY_MAX, &f), FG_LW_OK);
	ck_assert_uint_eq(f.frm_len, FG_LW_FRM_MAX);
	ck_assert_int_eq(fg_lw_parse(b, FG_LW_PHY_MAX + 1, &f), FG_LW_TOO_LONG);
	b[0] = 0xe0;
	ck_assert_int_eq(fg_lw_parse(b, FG_LW_PHY_MAX + 1, &f), FG_LW_TOO_LONG);
	b[0] = 0x00; /* join request with a trailing byte */
	ck_assert_int_eq(fg_lw_parse(b, 24, &f), FG_LW_TOO_LONG);
	b[0] = 0x20; /* join accept of neither length */
	ck_assert_int_eq(fg_lw_parse(b, 18, &f), FG_LW_TOO_LONG);
	ck_assert_int_eq(fg_lw_parse(b, 32, &f), FG_LW_TOO_LONG);
	ck_assert_int_eq(fg_lw_parse(b, 34, &f), FG_LW_TOO_LONG);
}
END_TEST

START_TEST(parse_refuses_bad_major)
{
	uint8_t b[FG_LW_PHY_MAX];
	size_t n = unhex(LP_FRAME, b, sizeof(b));
	struct fg_lw_frame f;

	for (uint8_t major = 1; major < 4; major++) {
		b[0] = (uint8_t) (0x40 | major);
		ck_assert_int_eq(fg_lw_parse(b, n, &f), FG_LW_BAD_MAJOR);
	}
	b[0] = 0x01; /* a join request too */
	ck_assert_int_eq(fg_lw_parse(b, 23, &f), FG_LW_BAD_MAJOR);
}
END_TEST

START_TEST(parse_refuses_fopts_overrun)
{
	/* FOptsLen 5 but only 4 bytes between FHDR and MIC. */
	uint8_t b[16] = { 0x40, 1, 2, 3, 4, 0x05, 1, 0 };
	struct fg_lw_frame f;

	ck_assert_int_eq(fg_lw_parse(b, sizeof(b), &f), FG_LW_FOPTS_OVERRUN);
	b[5] = 0x0f;
	ck_assert_int_eq(fg_lw_parse(b, 12, &f), FG_LW_FOPTS_OVERRUN);
	b[5] = 0x04; /* fits exactly */
	ck_assert_int_eq(fg_lw_parse(b, sizeof(b), &f), FG_LW_OK);
}
END_TEST

START_TEST(parse_refuses_fopts_with_port0)
{
	/* FOptsLen 1 (LinkCheckReq), then FPort 0 with a payload. */
	uint8_t b[] = { 0x40, 1, 2, 3, 4, 0x01, 1, 0, 0x02, 0x00, 0x55, 9, 9, 9, 9 };
	struct fg_lw_frame f;

	ck_assert_int_eq(fg_lw_parse(b, sizeof(b), &f), FG_LW_FOPTS_WITH_PORT0);
	b[9] = 1; /* FPort 1 is fine */
	ck_assert_int_eq(fg_lw_parse(b, sizeof(b), &f), FG_LW_OK);
	/* FPort 0 without FOpts is fine: MAC commands in the payload. */
	b[5] = 0x00;
	b[8] = 0x00;
	ck_assert_int_eq(fg_lw_parse(b, sizeof(b), &f), FG_LW_OK);
	ck_assert(f.has_port);
	ck_assert_uint_eq(f.fport, 0);
	ck_assert_uint_eq(f.frm_len, 2);
}
END_TEST

START_TEST(reason_and_mtype_names)
{
	ck_assert_str_eq(fg_lw_reason_to_string(FG_LW_OK), "ok");
	ck_assert_str_eq(fg_lw_reason_to_string(FG_LW_TOO_SHORT), "too-short");
	ck_assert_str_eq(fg_lw_reason_to_string(FG_LW_TOO_LONG), "too-long");
	ck_assert_str_eq(fg_lw_reason_to_string(FG_LW_BAD_MAJOR), "bad-major");
	ck_assert_str_eq(fg_lw_reason_to_string(FG_LW_FOPTS_OVERRUN), "fopts-overrun");
	ck_assert_str_eq(fg_lw_reason_to_string(FG_LW_FOPTS_WITH_PORT0), "fopts-with-port0");
	ck_assert_str_eq(fg_lw_reason_to_string(FG_LW_UNKNOWN_DEVICE), "unknown-device");
	ck_assert_str_eq(fg_lw_reason_to_string(FG_LW_BAD_MIC), "bad-mic");
	ck_assert_str_eq(fg_lw_reason_to_string(FG_LW_REPLAY), "replay");
	ck_assert_str_eq(fg_lw_reason_to_string(FG_LW_FCNT_GAP), "fcnt-gap");
	ck_assert_str_eq(fg_lw_reason_to_string(FG_LW_DOWNLINK), "downlink");
	ck_assert_str_eq(fg_lw_reason_to_string(FG_LW_UNSUPPORTED), "unsupported");
	ck_assert_str_eq(fg_lw_reason_to_string(FG_LW_DEVNONCE_REUSED), "devnonce-reused");
	ck_assert_str_eq(fg_lw_reason_to_string(FG_LW_OFF_PLAN), "off-plan");
	ck_assert_str_eq(fg_lw_reason_to_string(FG_LW_REASON__COUNT), "unknown");
	/* every reason has a name of its own (counters and logs are keyed by it) */
	for (int i = 0; i < FG_LW_REASON__COUNT; i++)
		for (int j = i + 1; j < FG_LW_REASON__COUNT; j++)
			ck_assert_str_ne(fg_lw_reason_to_string((enum fg_lw_reason) i),
					 fg_lw_reason_to_string((enum fg_lw_reason) j));
	ck_assert_str_eq(fg_lw_mtype_to_string(FG_LW_JOIN_REQUEST), "join-request");
	ck_assert_str_eq(fg_lw_mtype_to_string(FG_LW_JOIN_ACCEPT), "join-accept");
	ck_assert_str_eq(fg_lw_mtype_to_string(FG_LW_UNCONFIRMED_UP), "unconfirmed-up");
	ck_assert_str_eq(fg_lw_mtype_to_string(FG_LW_UNCONFIRMED_DOWN), "unconfirmed-down");
	ck_assert_str_eq(fg_lw_mtype_to_string(FG_LW_CONFIRMED_UP), "confirmed-up");
	ck_assert_str_eq(fg_lw_mtype_to_string(FG_LW_CONFIRMED_DOWN), "confirmed-down");
	ck_assert_str_eq(fg_lw_mtype_to_string(FG_LW_REJOIN_REQUEST), "rejoin-request");
	ck_assert_str_eq(fg_lw_mtype_to_string(FG_LW_PROPRIETARY), "proprietary");
	ck_assert_str_eq(fg_lw_mtype_to_string((enum fg_lw_mtype) 8), "unknown");
}
END_TEST

/* ------------------------------------------------------------------ crypto */

START_TEST(cmac_rfc4493_vectors)
{
	/* [RFC] RFC 4493 section 4, K = 2b7e1516 28aed2a6 abf71588 09cf4f3c, Examples 1-4. */
	static const struct {
		const char *m, *t;
	} v[] = {
		{ "", "bb1d6929e95937287fa37d129b756746" },
		{ "6bc1bee22e409f96e93d7e117393172a", "070a16b46b4d4144f79bdd9dd04a287c" },
		{ "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c"
		  "9eb76fac45af8e5130c81c46a35ce411",
		  "dfa66747de9ae63030ca32611497c827" },
		{ "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
		  "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
		  "51f0bebf7e3b9d92fc49741779363cfe" },
	};
	uint8_t k[16], m[64], t[16], mac[16];

	key("2b7e151628aed2a6abf7158809cf4f3c", k);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = unhex(v[i].m, m, sizeof(m));

		ck_assert_uint_eq(unhex(v[i].t, t, sizeof(t)), 16);
		ck_assert_int_eq(fg_lw_aes_cmac(k, m, n, mac), 0);
		ck_assert_mem_eq(mac, t, 16);
	}
}
END_TEST

START_TEST(data_mic_lora_packet_vectors)
{
	uint8_t b[FG_LW_PHY_MAX], k[16];
	uint32_t mic = 0;
	size_t n;

	key(LP_NWKSKEY, k);
	/* [LP] test_mic.js: calculateMIC = 2b11ff0d for LP_FRAME (FCnt 2). */
	n = unhex(LP_FRAME, b, sizeof(b));
	ck_assert_int_eq(fg_lw_data_mic(k, 0, 0x49be7df1, 2, b, n - 4, &mic), 0);
	ck_assert_uint_eq(mic, 0x0dff112b);
	/* [LP] test_mic.js: 2a3518af for LP_EMPTY (FCnt 3). */
	n = unhex(LP_EMPTY, b, sizeof(b));
	ck_assert_int_eq(fg_lw_data_mic(k, 0, 0x49be7df1, 3, b, n - 4, &mic), 0);
	ck_assert_uint_eq(mic, 0xaf18352a);
	/* [LP] test_mic.js "MIC for ACK": a downlink (Dir 1), f9d65d27. */
	n = unhex(LP_ACK, b, sizeof(b));
	ck_assert_int_eq(fg_lw_data_mic(k, 1, 0x49be7df1, 2, b, n - 4, &mic), 0);
	ck_assert_uint_eq(mic, 0x275dd6f9);
	/* The same bytes as an uplink do not give it. */
	ck_assert_int_eq(fg_lw_data_mic(k, 0, 0x49be7df1, 2, b, n - 4, &mic), 0);
	ck_assert_uint_ne(mic, 0x275dd6f9);
}
END_TEST

START_TEST(data_mic_brocaar_vector)
{
	uint8_t b[FG_LW_PHY_MAX], k[16];
	uint32_t mic = 0;
	size_t n;

	/* [BR] TestPHYPayloadData: QAQDAgGAAQABppRkJhXWw7WC, NwkSKey 16 x 0x02, MIC valid. */
	memset(k, 0x02, sizeof(k));
	n = unhex("400403020180010001a694642615d6c3b582", b, sizeof(b));
	ck_assert_int_eq(fg_lw_data_mic(k, 0, 0x01020304, 1, b, n - 4, &mic), 0);
	ck_assert_uint_eq(mic, 0x82b5c3d6);
}
END_TEST

START_TEST(data_mic_refuses_bad_arguments)
{
	uint8_t k[16] = { 0 }, b[FG_LW_PHY_MAX + 1] = { 0 };
	uint32_t mic = 0x12345678;

	ck_assert_int_eq(fg_lw_data_mic(k, 2, 0, 0, b, 10, &mic), -EINVAL);
	ck_assert_int_eq(fg_lw_data_mic(k, 0, 0, 0, b, FG_LW_PHY_MAX + 1, &mic), -EINVAL);
	ck_assert_uint_eq(mic, 0x12345678);
}
END_TEST

START_TEST(crypt_lora_packet_vectors)
{
	uint8_t b[FG_LW_PHY_MAX], k[16], out[FG_LW_FRM_MAX];
	size_t n;

	key(LP_APPSKEY, k);
	/* [LP] test_decrypt.js "should decrypt test payload": "test". */
	n = unhex(LP_FRAME, b, sizeof(b));
	ck_assert_int_eq(fg_lw_crypt(k, 0, 0x49be7df1, 2, b + 9, n - 13, out), 0);
	ck_assert_mem_eq(out, "test", 4);
	/* [LP] "should decrypt large payload": 44 bytes, three key-stream blocks. */
	n = unhex(LP_LARGE, b, sizeof(b));
	ck_assert_uint_eq(n - 13, 44);
	ck_assert_int_eq(fg_lw_crypt(k, 0, 0x49be7df1, 4, b + 9, n - 13, out), 0);
	ck_assert_mem_eq(out, "The quick brown fox jumps over the lazy dog.", 44);
	/* [LP] "bad data lightly scrambles payload": 95 43 -> 95 44 gives "tbst". */
	n = unhex("40F17DBE4900020001954478762B11FF0D", b, sizeof(b));
	ck_assert_int_eq(fg_lw_crypt(k, 0, 0x49be7df1, 2, b + 9, 4, out), 0);
	ck_assert_mem_eq(out, "tbst", 4);
	/* [LP] "bad key scrambles payload": AppSKey ...c580 gives 5999fc3f. */
	key("ec925802ae430ca77fd3dd73cb2cc580", k);
	n = unhex(LP_FRAME, b, sizeof(b));
	ck_assert_int_eq(fg_lw_crypt(k, 0, 0x49be7df1, 2, b + 9, 4, out), 0);
	ck_assert_mem_eq(out, "\x59\x99\xfc\x3f", 4);
}
END_TEST

START_TEST(crypt_brocaar_vector_in_place)
{
	uint8_t b[FG_LW_PHY_MAX], k[16];

	/* [BR] TestPHYPayloadData: AppSKey 16 x 0x01, FCnt 1, FRMPayload decrypts to "hello". */
	memset(k, 0x01, sizeof(k));
	unhex("400403020180010001a694642615d6c3b582", b, sizeof(b));
	ck_assert_int_eq(fg_lw_crypt(k, 0, 0x01020304, 1, b + 9, 5, b + 9), 0);
	ck_assert_mem_eq(b + 9, "hello", 5);
	/* And back: the same operation encrypts. */
	ck_assert_int_eq(fg_lw_crypt(k, 0, 0x01020304, 1, b + 9, 5, b + 9), 0);
	ck_assert_mem_eq(b + 9, "\xa6\x94\x64\x26\x15", 5);
}
END_TEST

START_TEST(crypt_refuses_bad_arguments)
{
	uint8_t k[16] = { 0 }, in[4] = { 1, 2, 3, 4 }, out[4] = { 0 };

	ck_assert_int_eq(fg_lw_crypt(k, -1, 0, 0, in, 4, out), -EINVAL);
	ck_assert_int_eq(fg_lw_crypt(k, 0, 0, 0, in, 255 * 16 + 1, out), -EINVAL);
	ck_assert_int_eq(fg_lw_crypt(k, 0, 0, 0, in, 0, out), 0);
	ck_assert_mem_eq(out, "\0\0\0\0", 4);
}
END_TEST

/* ------------------------------------------------------------------ fcnt */

START_TEST(fcnt_expand_without_last_is_16_bits)
{
	ck_assert_uint_eq(fg_lw_fcnt_expand(0, 0x12345678, false), 0);
	ck_assert_uint_eq(fg_lw_fcnt_expand(0xffff, 0x12345678, false), 0xffff);
	ck_assert_uint_eq(fg_lw_fcnt_expand(7, 0, false), 7);
}
END_TEST

START_TEST(fcnt_expand_rolls_over)
{
	ck_assert_uint_eq(fg_lw_fcnt_expand(0x0000, 0xffff, true), 0x10000);
	ck_assert_uint_eq(fg_lw_fcnt_expand(0x0000, 0x1ffff, true), 0x20000);
	ck_assert_uint_eq(fg_lw_fcnt_expand(0x0001, 0x1ffff, true), 0x20001);
	ck_assert_uint_eq(fg_lw_fcnt_expand(0x0005, 0xfff0, true), 0x10005);
}
END_TEST

START_TEST(fcnt_expand_stays_in_epoch)
{
	ck_assert_uint_eq(fg_lw_fcnt_expand(11, 10, true), 11);
	ck_assert_uint_eq(fg_lw_fcnt_expand(10, 10, true), 10); /* at: a replay */
	ck_assert_uint_eq(fg_lw_fcnt_expand(0xffff, 0x1fff0, true), 0x1ffff);
	ck_assert_uint_eq(fg_lw_fcnt_expand(0x8000, 0x30001, true), 0x38000);
	/* Below last in the same epoch: the next epoch (then a gap). */
	ck_assert_uint_eq(fg_lw_fcnt_expand(3, 5, true), 0x10003);
	/* No next epoch in 32 bits: the value below last. */
	ck_assert_uint_eq(fg_lw_fcnt_expand(3, 0xffff0005, true), 0xffff0003);
	ck_assert_uint_eq(fg_lw_fcnt_expand(0xffff, 0xffff0005, true), 0xffffffff);
}
END_TEST

/* ------------------------------------------------------------------ uplink */

static enum fg_lw_reason open_hex(const struct fg_lw_session *s, const char *hex, uint32_t last,
				  bool have_last, uint32_t max_gap, struct fg_lw_uplink *up)
{
	static uint8_t b[FG_LW_PHY_MAX];
	struct fg_lw_frame f;
	size_t n = unhex(hex, b, sizeof(b));

	ck_assert_int_eq(fg_lw_parse(b, n, &f), FG_LW_OK);
	return fg_lw_uplink_open(s, &f, last, have_last, max_gap, up);
}

START_TEST(uplink_opens_lora_packet_frames)
{
	struct fg_lw_session s = lp_session();
	struct fg_lw_uplink up;

	/* [LP] test_mic.js + test_decrypt.js: MIC holds under NwkSKey, "test" under AppSKey. */
	ck_assert_int_eq(open_hex(&s, LP_FRAME, 0, false, 16384, &up), FG_LW_OK);
	ck_assert_uint_eq(up.fcnt, 2);
	ck_assert_uint_eq(up.payload_len, 4);
	ck_assert_mem_eq(up.payload, "test", 4);
	ck_assert_uint_eq(up.f.dev_addr, 0x49be7df1);
	ck_assert_uint_eq(up.f.fport, 1);
	ck_assert_int_eq(open_hex(&s, LP_FRAME, 1, true, 16384, &up), FG_LW_OK);
	ck_assert_uint_eq(up.fcnt, 2);

	/* [LP] test_decrypt.js large payload (its MIC 0af3c5e7 also holds under NwkSKey). */
	ck_assert_int_eq(open_hex(&s, LP_LARGE, 2, true, 16384, &up), FG_LW_OK);
	ck_assert_uint_eq(up.fcnt, 4);
	ck_assert_uint_eq(up.payload_len, 44);
	ck_assert_mem_eq(up.payload, "The quick brown fox jumps over the lazy dog.", 44);

	/* [LP] test_mic.js, an empty payload. */
	ck_assert_int_eq(open_hex(&s, LP_EMPTY, 2, true, 16384, &up), FG_LW_OK);
	ck_assert_uint_eq(up.fcnt, 3);
	ck_assert_uint_eq(up.payload_len, 0);
}
END_TEST

START_TEST(uplink_opens_brocaar_frame)
{
	struct fg_lw_session s = { .dev_addr = 0x01020304 };
	struct fg_lw_uplink up;

	/* [BR] TestPHYPayloadData: NwkSKey 16 x 2, AppSKey 16 x 1, FCnt 1, ADR, "hello". */
	memset(s.nwk_s_key, 2, sizeof(s.nwk_s_key));
	memset(s.app_s_key, 1, sizeof(s.app_s_key));
	ck_assert_int_eq(open_hex(&s, "400403020180010001a694642615d6c3b582", 0, false, 100, &up),
			 FG_LW_OK);
	ck_assert_uint_eq(up.fcnt, 1);
	ck_assert(up.f.adr);
	ck_assert_uint_eq(up.payload_len, 5);
	ck_assert_mem_eq(up.payload, "hello", 5);
}
END_TEST

START_TEST(uplink_refuses_bad_mic)
{
	struct fg_lw_session s = lp_session();
	struct fg_lw_uplink up;

	/* [LP] test_mic.js "should detect incorrect data packet MIC": ...aa not ...af. */
	ck_assert_int_eq(open_hex(&s, "40F17DBE49000300012A3518AA", 0, false, 16384, &up),
			 FG_LW_BAD_MIC);
	/* [LP] test_decrypt.js "bad data": one payload bit changed. */
	ck_assert_int_eq(open_hex(&s, "40F17DBE4900020001954478762B11FF0D", 0, false, 16384, &up),
			 FG_LW_BAD_MIC);
	/* The wrong NwkSKey. */
	s.nwk_s_key[15] ^= 1;
	ck_assert_int_eq(open_hex(&s, LP_FRAME, 0, false, 16384, &up), FG_LW_BAD_MIC);
}
END_TEST

START_TEST(uplink_refused_leaves_ret_alone)
{
	struct fg_lw_session s = lp_session();
	struct fg_lw_uplink up, before;

	memset(&up, 0xa5, sizeof(up));
	before = up;
	ck_assert_int_eq(open_hex(&s, "40F17DBE49000300012A3518AA", 0, false, 16384, &up),
			 FG_LW_BAD_MIC);
	ck_assert_mem_eq(&up, &before, sizeof(up));
	ck_assert_int_eq(open_hex(&s, LP_FRAME, 2, true, 16384, &up), FG_LW_REPLAY);
	ck_assert_mem_eq(&up, &before, sizeof(up));
}
END_TEST

START_TEST(uplink_refuses_replay)
{
	struct fg_lw_session s = test_session(0x26011f2a);
	struct fg_lw_uplink up;
	struct fg_lw_frame f;
	uint8_t b[FG_LW_PHY_MAX];
	int n;

	n = fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_UP, 0, 10, NULL, 0, 2, (const uint8_t *) "ab",
			       2, b, sizeof(b));
	ck_assert_int_eq(n, 15);
	ck_assert_int_eq(fg_lw_parse(b, (size_t) n, &f), FG_LW_OK);
	ck_assert_int_eq(fg_lw_uplink_open(&s, &f, 10, true, 16384, &up), FG_LW_REPLAY);
	ck_assert_int_eq(fg_lw_uplink_open(&s, &f, 9, true, 16384, &up), FG_LW_OK);
	ck_assert_uint_eq(up.fcnt, 10);
	ck_assert_mem_eq(up.payload, "ab", 2);
	/* Never heard: any 16-bit counter goes. */
	ck_assert_int_eq(fg_lw_uplink_open(&s, &f, 0, false, 16384, &up), FG_LW_OK);
	ck_assert_uint_eq(up.fcnt, 10);
	/*
	 * An old frame after the counter moved on is expanded into the next epoch, where its MIC
	 * fails; its MIC holds at its own place below last, so it is a replay, not a forgery.
	 */
	ck_assert_int_eq(fg_lw_uplink_open(&s, &f, 11, true, 0xffffffff, &up), FG_LW_REPLAY);
}
END_TEST

START_TEST(uplink_checks_mic_before_replay_and_gap)
{
	struct fg_lw_session s = test_session(0x26011f2a);
	struct fg_lw_uplink up;
	struct fg_lw_frame f;
	uint8_t b[FG_LW_PHY_MAX];
	int n;

	n = fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_UP, 0, 10, NULL, 0, 2, (const uint8_t *) "ab",
			       2, b, sizeof(b));
	ck_assert_int_gt(n, 0);
	b[n - 1] ^= 0x80; /* forged */
	ck_assert_int_eq(fg_lw_parse(b, (size_t) n, &f), FG_LW_OK);
	ck_assert_int_eq(fg_lw_uplink_open(&s, &f, 10, true, 16384, &up), FG_LW_BAD_MIC);
	ck_assert_int_eq(fg_lw_uplink_open(&s, &f, 50, true, 16384, &up), FG_LW_BAD_MIC);
	ck_assert_int_eq(fg_lw_uplink_open(&s, &f, 0, true, 2, &up), FG_LW_BAD_MIC);
}
END_TEST

START_TEST(uplink_refuses_gap)
{
	struct fg_lw_session s = test_session(0x26011f2a);
	struct fg_lw_uplink up;
	struct fg_lw_frame f;
	uint8_t b[FG_LW_PHY_MAX];
	int n;

	n = fg_lw_build_uplink(&s, FG_LW_CONFIRMED_UP, 0, 1000, NULL, 0, 1, (const uint8_t *) "x",
			       1, b, sizeof(b));
	ck_assert_int_eq(fg_lw_parse(b, (size_t) n, &f), FG_LW_OK);
	ck_assert_int_eq(fg_lw_uplink_open(&s, &f, 899, true, 100, &up), FG_LW_FCNT_GAP);
	ck_assert_int_eq(fg_lw_uplink_open(&s, &f, 900, true, 100, &up), FG_LW_OK);
	ck_assert_uint_eq(up.fcnt, 1000);
	/* No last: no gap to measure. */
	ck_assert_int_eq(fg_lw_uplink_open(&s, &f, 0, false, 100, &up), FG_LW_OK);
}
END_TEST

START_TEST(uplink_accepts_counter_rollover)
{
	struct fg_lw_session s = test_session(0x26011f2a);
	struct fg_lw_uplink up;
	struct fg_lw_frame f;
	uint8_t b[FG_LW_PHY_MAX];
	int n;

	n = fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_UP, 0, 0x10000, NULL, 0, 5,
			       (const uint8_t *) "roll", 4, b, sizeof(b));
	ck_assert_int_eq(fg_lw_parse(b, (size_t) n, &f), FG_LW_OK);
	ck_assert_uint_eq(f.fcnt16, 0);
	ck_assert_int_eq(fg_lw_uplink_open(&s, &f, 0xffff, true, 16384, &up), FG_LW_OK);
	ck_assert_uint_eq(up.fcnt, 0x10000);
	ck_assert_mem_eq(up.payload, "roll", 4);
	/* Without a last one the counter would be 0, with another MIC. */
	ck_assert_int_eq(fg_lw_uplink_open(&s, &f, 0, false, 16384, &up), FG_LW_BAD_MIC);

	n = fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_UP, 0, 0x20000, NULL, 0, 5,
			       (const uint8_t *) "next", 4, b, sizeof(b));
	ck_assert_int_eq(fg_lw_parse(b, (size_t) n, &f), FG_LW_OK);
	ck_assert_int_eq(fg_lw_uplink_open(&s, &f, 0x1ffff, true, 16384, &up), FG_LW_OK);
	ck_assert_uint_eq(up.fcnt, 0x20000);
	ck_assert_mem_eq(up.payload, "next", 4);
}
END_TEST

START_TEST(uplink_refuses_wrong_session_and_mtypes)
{
	struct fg_lw_session s = lp_session();
	struct fg_lw_uplink up;
	struct fg_lw_frame f;
	uint8_t b[FG_LW_PHY_MAX];
	size_t n;

	ck_assert_int_eq(open_hex(NULL, LP_FRAME, 0, false, 16384, &up), FG_LW_UNKNOWN_DEVICE);
	s.dev_addr = 0x49be7df2;
	ck_assert_int_eq(open_hex(&s, LP_FRAME, 0, false, 16384, &up), FG_LW_UNKNOWN_DEVICE);
	s = lp_session();
	ck_assert_int_eq(open_hex(&s, LP_ACK, 0, false, 16384, &up), FG_LW_DOWNLINK);
	n = unhex(LP_ACK, b, sizeof(b));
	b[0] = 0xa0;
	ck_assert_int_eq(fg_lw_parse(b, n, &f), FG_LW_OK);
	ck_assert_int_eq(fg_lw_uplink_open(&s, &f, 0, false, 16384, &up), FG_LW_DOWNLINK);
	ck_assert_int_eq(open_hex(&s, LP_JOINREQ, 0, false, 16384, &up), FG_LW_UNSUPPORTED);
	ck_assert_int_eq(open_hex(&s, LP_JOINACC, 0, false, 16384, &up), FG_LW_UNSUPPORTED);
	ck_assert_int_eq(open_hex(&s, "c00102aabbccdd", 0, false, 16384, &up), FG_LW_UNSUPPORTED);
	ck_assert_int_eq(open_hex(&s, "e011223344", 0, false, 16384, &up), FG_LW_UNSUPPORTED);
}
END_TEST

START_TEST(uplink_port0_decrypts_with_nwkskey)
{
	struct fg_lw_session s = test_session(0x01abcdef);
	const uint8_t cmds[] = { 0x02, 0x06, 0xfe, 0x07 };
	struct fg_lw_uplink up;
	struct fg_lw_frame f;
	uint8_t b[FG_LW_PHY_MAX], plain[4];
	int n;

	n = fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_UP, 0, 3, NULL, 0, 0, cmds, sizeof(cmds), b,
			       sizeof(b));
	ck_assert_int_eq(n, 17);
	ck_assert_int_eq(fg_lw_parse(b, (size_t) n, &f), FG_LW_OK);
	/* On air it is NwkSKey-encrypted, not AppSKey-encrypted. */
	ck_assert_int_eq(fg_lw_crypt(s.nwk_s_key, 0, s.dev_addr, 3, f.frm, 4, plain), 0);
	ck_assert_mem_eq(plain, cmds, 4);
	ck_assert_int_eq(fg_lw_uplink_open(&s, &f, 0, false, 16384, &up), FG_LW_OK);
	ck_assert_uint_eq(up.f.fport, 0);
	ck_assert_uint_eq(up.payload_len, 4);
	ck_assert_mem_eq(up.payload, cmds, 4);
}
END_TEST

/* ------------------------------------------------------------------ build */

START_TEST(build_reproduces_published_frames)
{
	uint8_t want[FG_LW_PHY_MAX], b[FG_LW_PHY_MAX];
	struct fg_lw_session s = lp_session();
	size_t n;
	int r;

	/* [LP] the frame of test_parse.js, decrypted to "test" in test_decrypt.js. */
	n = unhex(LP_FRAME, want, sizeof(want));
	r = fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_UP, 0, 2, NULL, 0, 1, (const uint8_t *) "test",
			       4, b, sizeof(b));
	ck_assert_int_eq(r, (int) n);
	ck_assert_mem_eq(b, want, n);

	/* [BR] ExampleNewPHYPayload: ConfirmedDataUp, NwkSKey 01..10, AppSKey 10..01,
	 * DevAddr 01020304, FCnt 0, FPort 10, payload 01020304 ->
	 * [128 4 3 2 1 0 0 0 10 226 100 212 247 181 106 14 117]. */
	s.dev_addr = 0x01020304;
	for (int i = 0; i < 16; i++) {
		s.nwk_s_key[i] = (uint8_t) (i + 1);
		s.app_s_key[i] = (uint8_t) (16 - i);
	}
	n = unhex("80040302010000000ae264d4f7b56a0e75", want, sizeof(want));
	r = fg_lw_build_uplink(&s, FG_LW_CONFIRMED_UP, 0, 0, NULL, 0, 10,
			       (const uint8_t *) "\x01\x02\x03\x04", 4, b, sizeof(b));
	ck_assert_int_eq(r, (int) n);
	ck_assert_mem_eq(b, want, n);
}
END_TEST

START_TEST(build_round_trips_with_fopts_and_flags)
{
	struct fg_lw_session s = test_session(0x260b1234);
	const uint8_t fopts[] = { 0x03, 0x07, 0x06, 0xff, 0x3b };
	const char *msg = "temperature=21.5";
	struct fg_lw_uplink up;
	struct fg_lw_frame f;
	uint8_t b[FG_LW_PHY_MAX];
	int n;

	/* FCtrl ADR|ADRACKReq|ACK with a stray low nibble: it is replaced by FOptsLen. */
	n = fg_lw_build_uplink(&s, FG_LW_CONFIRMED_UP, 0xe9, 0x0003abcd, fopts, sizeof(fopts), 42,
			       (const uint8_t *) msg, strlen(msg), b, sizeof(b));
	ck_assert_int_eq(n, 8 + 5 + 1 + 16 + 4);
	ck_assert_uint_eq(b[0], 0x80);
	ck_assert_uint_eq(b[5], 0xe5);
	ck_assert_int_eq(fg_lw_parse(b, (size_t) n, &f), FG_LW_OK);
	ck_assert_int_eq(f.mtype, FG_LW_CONFIRMED_UP);
	ck_assert_uint_eq(f.dev_addr, 0x260b1234);
	ck_assert(f.adr && f.adr_ack_req && f.ack && !f.class_b);
	ck_assert_uint_eq(f.fopts_len, 5);
	ck_assert_mem_eq(f.fopts, fopts, 5);
	ck_assert_uint_eq(f.fcnt16, 0xabcd);
	ck_assert_uint_eq(f.fport, 42);
	ck_assert_uint_eq(f.frm_len, 16);
	ck_assert_int_eq(fg_lw_uplink_open(&s, &f, 0x0003ab00, true, 16384, &up), FG_LW_OK);
	ck_assert_uint_eq(up.fcnt, 0x0003abcd);
	ck_assert_uint_eq(up.payload_len, 16);
	ck_assert_mem_eq(up.payload, msg, 16);

	/* No FPort at all: only FOpts. */
	n = fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_UP, 0, 7, fopts, 1, -1, NULL, 0, b, sizeof(b));
	ck_assert_int_eq(n, 13);
	ck_assert_int_eq(fg_lw_parse(b, (size_t) n, &f), FG_LW_OK);
	ck_assert(!f.has_port);
	ck_assert_int_eq(fg_lw_uplink_open(&s, &f, 0, false, 16384, &up), FG_LW_OK);
	ck_assert_uint_eq(up.payload_len, 0);
}
END_TEST

START_TEST(build_largest_payload)
{
	struct fg_lw_session s = test_session(0x11223344);
	uint8_t p[FG_LW_FRM_MAX + 1], b[FG_LW_PHY_MAX + 8];
	struct fg_lw_uplink up;
	struct fg_lw_frame f;
	int n;

	for (size_t i = 0; i < sizeof(p); i++)
		p[i] = (uint8_t) (i * 7);
	n = fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_UP, 0, 99, NULL, 0, 1, p, FG_LW_FRM_MAX, b,
			       FG_LW_PHY_MAX);
	ck_assert_int_eq(n, FG_LW_PHY_MAX);
	ck_assert_int_eq(fg_lw_parse(b, (size_t) n, &f), FG_LW_OK);
	ck_assert_int_eq(fg_lw_uplink_open(&s, &f, 98, true, 1, &up), FG_LW_OK);
	ck_assert_uint_eq(up.payload_len, FG_LW_FRM_MAX);
	ck_assert_mem_eq(up.payload, p, FG_LW_FRM_MAX);
	ck_assert_int_eq(fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_UP, 0, 99, NULL, 0, 1, p,
					    FG_LW_FRM_MAX + 1, b, sizeof(b)),
			 -EMSGSIZE);
}
END_TEST

START_TEST(build_refuses_bad_arguments)
{
	struct fg_lw_session s = test_session(1);
	const uint8_t o[16] = { 2 };
	uint8_t b[FG_LW_PHY_MAX];

	ck_assert_int_eq(fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_DOWN, 0, 0, NULL, 0, 1, o, 1, b,
					    sizeof(b)),
			 -EINVAL);
	ck_assert_int_eq(
		fg_lw_build_uplink(&s, FG_LW_JOIN_REQUEST, 0, 0, NULL, 0, 1, o, 1, b, sizeof(b)),
		-EINVAL);
	ck_assert_int_eq(fg_lw_build_uplink(NULL, FG_LW_UNCONFIRMED_UP, 0, 0, NULL, 0, 1, o, 1, b,
					    sizeof(b)),
			 -EINVAL);
	ck_assert_int_eq(
		fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_UP, 0, 0, o, 16, 1, o, 1, b, sizeof(b)),
		-EINVAL);
	ck_assert_int_eq(
		fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_UP, 0, 0, o, 1, 0, o, 1, b, sizeof(b)),
		-EINVAL);
	ck_assert_int_eq(
		fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_UP, 0, 0, NULL, 0, -1, o, 1, b, sizeof(b)),
		-EINVAL);
	ck_assert_int_eq(fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_UP, 0, 0, NULL, 0, 256, o, 1, b,
					    sizeof(b)),
			 -EINVAL);
	ck_assert_int_eq(fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_UP, 0, 0, NULL, 0, -2, NULL, 0, b,
					    sizeof(b)),
			 -EINVAL);
	/* 8 + 1 + 1 + 4 = 14 bytes do not fit in 13. */
	ck_assert_int_eq(
		fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_UP, 0, 0, NULL, 0, 1, o, 1, b, 13),
		-EMSGSIZE);
	ck_assert_int_eq(
		fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_UP, 0, 0, NULL, 0, 1, o, 1, b, 14), 14);
}
END_TEST

/* ------------------------------------------------------------------ mac */

static void assert_describe(const uint8_t *c, size_t n, int want_r, const char *want)
{
	char buf[256];

	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(fg_lw_mac_describe(c, n, buf, sizeof(buf)), want_r);
	ck_assert_str_eq(buf, want);
}

START_TEST(mac_describes_each_uplink_command)
{
	assert_describe((const uint8_t *) "\x02", 1, 1, "LinkCheckReq");
	assert_describe((const uint8_t *) "\x03\x07", 2, 1,
			"LinkADRAns power=ack dr=ack chmask=ack");
	assert_describe((const uint8_t *) "\x03\x06", 2, 1,
			"LinkADRAns power=ack dr=ack chmask=nack");
	assert_describe((const uint8_t *) "\x03\x01", 2, 1,
			"LinkADRAns power=nack dr=nack chmask=ack");
	assert_describe((const uint8_t *) "\x04", 1, 1, "DutyCycleAns");
	assert_describe((const uint8_t *) "\x05\x03", 2, 1,
			"RXParamSetupAns rx1-dr-offset=nack rx2-dr=ack channel=ack");
	assert_describe((const uint8_t *) "\x05\x04", 2, 1,
			"RXParamSetupAns rx1-dr-offset=ack rx2-dr=nack channel=nack");
	assert_describe((const uint8_t *) "\x06\xfe\x07", 3, 1,
			"DevStatusAns battery=254 margin=7");
	assert_describe((const uint8_t *) "\x06\x00\x3b", 3, 1,
			"DevStatusAns battery=external margin=-5");
	assert_describe((const uint8_t *) "\x06\xff\xe0", 3, 1,
			"DevStatusAns battery=unknown margin=-32");
	assert_describe((const uint8_t *) "\x06\x01\x1f", 3, 1, "DevStatusAns battery=1 margin=31");
	assert_describe((const uint8_t *) "\x07\x02", 2, 1, "NewChannelAns dr-range=ack freq=nack");
	assert_describe((const uint8_t *) "\x08", 1, 1, "RXTimingSetupAns");
	assert_describe((const uint8_t *) "\x09", 1, 1, "TxParamSetupAns");
	assert_describe((const uint8_t *) "\x0a\x01", 2, 1,
			"DlChannelAns uplink-freq=nack freq=ack");
	assert_describe((const uint8_t *) "\x0d", 1, 1, "DeviceTimeReq");
}
END_TEST

START_TEST(mac_describes_a_sequence)
{
	const uint8_t c[] = { 0x02, 0x06, 0xfe, 0x07, 0x03, 0x07, 0x0d, 0x08 };

	assert_describe(c, 1, 1, "LinkCheckReq");
	assert_describe(c, 4, 2, "LinkCheckReq; DevStatusAns battery=254 margin=7");
	assert_describe(c, sizeof(c), 5,
			"LinkCheckReq; DevStatusAns battery=254 margin=7; "
			"LinkADRAns power=ack dr=ack chmask=ack; DeviceTimeReq; RXTimingSetupAns");
	assert_describe(c, 0, 0, "");
}
END_TEST

START_TEST(mac_refuses_truncated_and_unknown)
{
	uint8_t b[FG_LW_PHY_MAX];
	struct fg_lw_frame f;
	size_t n;

	/* DevStatusAns needs two bytes. */
	assert_describe((const uint8_t *) "\x02\x06\xfe", 3, -EBADMSG, "LinkCheckReq");
	assert_describe((const uint8_t *) "\x03", 1, -EBADMSG, "");
	/* Downlink-only, 1.1 and proprietary CIDs are unknown on an uplink here. */
	assert_describe((const uint8_t *) "\x00", 1, -EBADMSG, "");
	assert_describe((const uint8_t *) "\x01", 1, -EBADMSG, "");
	assert_describe((const uint8_t *) "\x0b", 1, -EBADMSG, "");
	assert_describe((const uint8_t *) "\x0c", 1, -EBADMSG, "");
	assert_describe((const uint8_t *) "\x04\x80", 2, -EBADMSG, "DutyCycleAns");
	assert_describe((const uint8_t *) "\x02\xff", 2, -EBADMSG, "LinkCheckReq");

	/* [LP] test_fopts.js: the FOpts 091103 of a frame from the field: TxParamSetupAns,
	 * then CID 0x11, which 1.0.x does not define. */
	n = unhex(LP_FOPTS, b, sizeof(b));
	ck_assert_int_eq(fg_lw_parse(b, n, &f), FG_LW_OK);
	assert_describe(f.fopts, f.fopts_len, -EBADMSG, "TxParamSetupAns");
}
END_TEST

START_TEST(mac_describe_truncates_text)
{
	const uint8_t c[] = { 0x02, 0x06, 0xfe, 0x07 };
	char buf[16];

	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(fg_lw_mac_describe(c, sizeof(c), buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "LinkCheckReq; D");
	ck_assert_int_eq(fg_lw_mac_describe(c, sizeof(c), buf, 1), 2);
	ck_assert_str_eq(buf, "");
	buf[0] = 'x';
	ck_assert_int_eq(fg_lw_mac_describe(c, sizeof(c), buf, 0), 2);
	ck_assert_int_eq(buf[0], 'x');
}
END_TEST

/* ------------------------------------------------------------------ region */

START_TEST(region_eu868_data_rates)
{
	for (unsigned sf = 12; sf >= 7; sf--)
		ck_assert_int_eq(fg_lw_region_dr(FG_LW_EU868, sf, 125000), (int) (12 - sf));
	ck_assert_int_eq(fg_lw_region_dr(FG_LW_EU868, 7, 250000), 6);
	ck_assert_int_eq(fg_lw_region_dr(FG_LW_EU868, 8, 250000), -1);
	ck_assert_int_eq(fg_lw_region_dr(FG_LW_EU868, 7, 500000), -1);
	ck_assert_int_eq(fg_lw_region_dr(FG_LW_EU868, 6, 125000), -1);
	ck_assert_int_eq(fg_lw_region_dr(FG_LW_EU868, 13, 125000), -1);
	ck_assert_int_eq(fg_lw_region_dr(FG_LW_EU868, 0, 0), -1);
}
END_TEST

START_TEST(region_us915_data_rates)
{
	ck_assert_int_eq(fg_lw_region_dr(FG_LW_US915, 10, 125000), 0);
	ck_assert_int_eq(fg_lw_region_dr(FG_LW_US915, 9, 125000), 1);
	ck_assert_int_eq(fg_lw_region_dr(FG_LW_US915, 8, 125000), 2);
	ck_assert_int_eq(fg_lw_region_dr(FG_LW_US915, 7, 125000), 3);
	ck_assert_int_eq(fg_lw_region_dr(FG_LW_US915, 8, 500000), 4);
	ck_assert_int_eq(fg_lw_region_dr(FG_LW_US915, 12, 125000), -1);
	ck_assert_int_eq(fg_lw_region_dr(FG_LW_US915, 11, 125000), -1);
	ck_assert_int_eq(fg_lw_region_dr(FG_LW_US915, 7, 500000), -1); /* downlink DR13 */
	ck_assert_int_eq(fg_lw_region_dr(FG_LW_US915, 7, 250000), -1);
	ck_assert_int_eq(fg_lw_region_dr(FG_LW_REGION__COUNT, 7, 125000), -1);
}
END_TEST

START_TEST(region_names)
{
	ck_assert_str_eq(fg_lw_region_to_string(FG_LW_EU868), "EU868");
	ck_assert_str_eq(fg_lw_region_to_string(FG_LW_US915), "US915");
	ck_assert_str_eq(fg_lw_region_to_string(FG_LW_REGION__COUNT), "unknown");
	ck_assert_int_eq(fg_lw_region_from_string("EU868"), FG_LW_EU868);
	ck_assert_int_eq(fg_lw_region_from_string("eu868"), FG_LW_EU868);
	ck_assert_int_eq(fg_lw_region_from_string("Us915"), FG_LW_US915);
	ck_assert_int_eq(fg_lw_region_from_string("AS923"), FG_LW_AS923);
	ck_assert_int_eq(fg_lw_region_from_string("au915"), FG_LW_AU915);
	ck_assert_int_eq(fg_lw_region_from_string("CN470"), -EINVAL);
	ck_assert_int_eq(fg_lw_region_from_string("EU86"), -EINVAL);
	ck_assert_int_eq(fg_lw_region_from_string(""), -EINVAL);
	ck_assert_int_eq(fg_lw_region_from_string(NULL), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lorawan");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, parse_data_uplink_fields);
	tcase_add_test(tc, parse_data_uplink_with_port_and_empty_payload);
	tcase_add_test(tc, parse_data_uplink_without_port);
	tcase_add_test(tc, parse_fopts_and_fctrl_bits);
	tcase_add_test(tc, parse_fctrl_adr_ack_req_and_class_b);
	tcase_add_test(tc, parse_fopts_filling_the_frame_has_no_port);
	tcase_add_test(tc, parse_downlinks_are_parsed);
	tcase_add_test(tc, parse_confirmed_up);
	tcase_add_test(tc, parse_join_request);
	tcase_add_test(tc, parse_join_accept_both_lengths);
	tcase_add_test(tc, parse_rejoin_and_proprietary_mhdr_and_mic);
	tcase_add_test(tc, parse_refuses_too_short);
	tcase_add_test(tc, parse_refuses_too_long);
	tcase_add_test(tc, parse_refuses_bad_major);
	tcase_add_test(tc, parse_refuses_fopts_overrun);
	tcase_add_test(tc, parse_refuses_fopts_with_port0);
	tcase_add_test(tc, reason_and_mtype_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("crypto");
	tcase_add_test(tc, cmac_rfc4493_vectors);
	tcase_add_test(tc, data_mic_lora_packet_vectors);
	tcase_add_test(tc, data_mic_brocaar_vector);
	tcase_add_test(tc, data_mic_refuses_bad_arguments);
	tcase_add_test(tc, crypt_lora_packet_vectors);
	tcase_add_test(tc, crypt_brocaar_vector_in_place);
	tcase_add_test(tc, crypt_refuses_bad_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("fcnt");
	tcase_add_test(tc, fcnt_expand_without_last_is_16_bits);
	tcase_add_test(tc, fcnt_expand_rolls_over);
	tcase_add_test(tc, fcnt_expand_stays_in_epoch);
	suite_add_tcase(s, tc);

	tc = tcase_create("uplink");
	tcase_add_test(tc, uplink_opens_lora_packet_frames);
	tcase_add_test(tc, uplink_opens_brocaar_frame);
	tcase_add_test(tc, uplink_refuses_bad_mic);
	tcase_add_test(tc, uplink_refused_leaves_ret_alone);
	tcase_add_test(tc, uplink_refuses_replay);
	tcase_add_test(tc, uplink_checks_mic_before_replay_and_gap);
	tcase_add_test(tc, uplink_refuses_gap);
	tcase_add_test(tc, uplink_accepts_counter_rollover);
	tcase_add_test(tc, uplink_refuses_wrong_session_and_mtypes);
	tcase_add_test(tc, uplink_port0_decrypts_with_nwkskey);
	suite_add_tcase(s, tc);

	tc = tcase_create("build");
	tcase_add_test(tc, build_reproduces_published_frames);
	tcase_add_test(tc, build_round_trips_with_fopts_and_flags);
	tcase_add_test(tc, build_largest_payload);
	tcase_add_test(tc, build_refuses_bad_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("mac");
	tcase_add_test(tc, mac_describes_each_uplink_command);
	tcase_add_test(tc, mac_describes_a_sequence);
	tcase_add_test(tc, mac_refuses_truncated_and_unknown);
	tcase_add_test(tc, mac_describe_truncates_text);
	suite_add_tcase(s, tc);

	tc = tcase_create("region");
	tcase_add_test(tc, region_eu868_data_rates);
	tcase_add_test(tc, region_us915_data_rates);
	tcase_add_test(tc, region_names);
	suite_add_tcase(s, tc);

	return fg_check_main(s);
}
