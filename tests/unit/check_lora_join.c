/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * OTAA joins and class A downlinks through the LoRa source (source/lora.c):
 * JoinRequests built by the test as a device would, JoinAccepts read back
 * as a device would (lora/downlink.h), the session used for uplinks, saved
 * state surviving a new object (a restart), DevNonce reuse, ACKs of
 * confirmed uplinks, and the duty cycle moving downlinks to RX2. The saved
 * state and the radio are recorded in memory.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "lora/downlink.h"
#include "source/lora.h"
#include "check-main.h"

#define APP_KEY "2b7e151628aed2a6abf7158809cf4f3c"
#define DEV_EUI UINT64_C(0x70b3d57ed0000042)
#define JOIN_EUI UINT64_C(0x70b3d57ed0000000)
#define TMST 1000000u

static const char *const CONFIG =
	"lorawan = { region = \"EU868\"; net_id = 0x000013;\n"
	"  devices = ( { name = \"otaa-1\"; dev_eui = \"70B3D57ED0000042\";\n"
	"                join_eui = \"70B3D57ED0000000\"; app_key = \"" APP_KEY "\";\n"
	"                codec = \"cayenne\"; },\n"
	"              { name = \"abp-1\"; dev_eui = \"70B3D57ED0000001\"; dev_addr = \"26011BDA\";\n"
	"                nwk_s_key = \"9A2F3C4D5E6F708192A3B4C5D6E7F801\";\n"
	"                app_s_key = \"1F2E3D4C5B6A79880796A5B4C3D2E1F0\"; } ); };\n";

/* The buffer's state table and the radio, in memory. */
static struct {
	char key[64];
	uint8_t value[8192];
	size_t len;
} kv[8];
static size_t n_kv;
static struct fg_lw_txpk sent[64];
static size_t n_sent;
static int send_result;
static int refuse_next; /* sends refused with -EEXIST before send_result applies */
static size_t n_readings;

static uint64_t now_usec = 1000000000;

static uint64_t test_clock(void *userdata)
{
	(void) userdata;
	return now_usec;
}

/* An hour later: every duty-cycle budget is whole again. */
static void an_hour_later(void)
{
	now_usec += UINT64_C(3600) * 1000000;
}

static struct fg_config *cfg;
static struct fg_lora *lora;
static uint8_t app_key[16];

static int load(void *userdata, const char *key, void *buf, size_t size, size_t *ret_len)
{
	(void) userdata;
	for (size_t i = 0; i < n_kv; i++)
		if (!strcmp(kv[i].key, key)) {
			ck_assert_uint_le(kv[i].len, size);
			memcpy(buf, kv[i].value, kv[i].len);
			*ret_len = kv[i].len;
			return 0;
		}
	return -ENOENT;
}

static int save(void *userdata, const char *key, const void *buf, size_t len)
{
	size_t i;

	(void) userdata;
	for (i = 0; i < n_kv && strcmp(kv[i].key, key); i++)
		;
	ck_assert_uint_lt(i, 8);
	ck_assert_uint_le(len, sizeof(kv[i].value));
	snprintf(kv[i].key, sizeof(kv[i].key), "%s", key);
	memcpy(kv[i].value, buf, len);
	kv[i].len = len;
	n_kv += i == n_kv;
	return 0;
}

static int send(void *userdata, const struct fg_lw_txpk *tx, const struct fg_lora_origin *via)
{
	(void) userdata;
	ck_assert_int_eq(via->via, FG_LORA_VIA_GWMP);
	ck_assert_uint_eq(via->gateway, 0xaa555a0000000001);
	if (refuse_next > 0) {
		refuse_next--;
		return -EEXIST;
	}
	if (send_result < 0)
		return send_result;
	ck_assert_uint_lt(n_sent, 64);
	sent[n_sent++] = *tx;
	return 0;
}

static void emit(const struct fg_reading *r, size_t n, void *userdata)
{
	(void) r;
	(void) userdata;
	n_readings += n;
}

static const struct fg_lora_origin via = { FG_LORA_VIA_GWMP, 0xaa555a0000000001 };

static struct fg_radio_meta radio(uint32_t freq_hz, unsigned sf)
{
	return (struct fg_radio_meta){ .present = true, .rssi = -80, .snr = 7.5,
				       .freq_hz = freq_hz, .sf = (uint8_t) sf, .bw_hz = 125000,
				       .tmst = TMST };
}

static void unhex(const char *hex, uint8_t *out)
{
	for (size_t i = 0; hex[2 * i]; i++)
		ck_assert_int_eq(sscanf(hex + 2 * i, "%2hhx", &out[i]), 1);
}

static void start(void)
{
	const struct fg_lora_state_ops ops = { .load = load, .save = save, .send = send };

	ck_assert_int_eq(fg_lora_new(cfg, &ops, &lora), 0);
	fg_lora_set_clock(lora, test_clock, NULL);
}

static void setup(void)
{
	struct fg_diags diags = { 0 };

	ck_assert_int_eq(fg_config_load_string(CONFIG, "lora.conf", &cfg, &diags), 0);
	fg_diags_clear(&diags);
	unhex(APP_KEY, app_key);
	n_kv = n_sent = n_readings = 0;
	send_result = 0;
	refuse_next = 0;
	start();
}

static void teardown(void)
{
	fg_lora_free(lora);
	lora = NULL;
	fg_config_free(cfg);
	cfg = NULL;
}

/* The device's side: a JoinRequest with nonce, heard on freq at SF sf. */
static enum fg_lw_reason join_request(uint16_t nonce, uint32_t freq, unsigned sf)
{
	struct fg_radio_meta r = radio(freq, sf);
	uint8_t phy[64];
	int n = fg_lw_join_request_build(app_key, JOIN_EUI, DEV_EUI, nonce, phy, sizeof(phy));

	ck_assert_int_eq(n, 23);
	return fg_lora_handle_from(lora, phy, (size_t) n, &r, &via, emit, NULL);
}

/* Read the last JoinAccept sent as the device would, and derive its session. */
static void device_session(uint16_t nonce, struct fg_lw_session *s)
{
	struct fg_lw_join_accept ja;

	ck_assert_uint_ge(n_sent, 1);
	ck_assert_int_eq(fg_lw_join_accept_open(app_key, sent[n_sent - 1].payload,
						sent[n_sent - 1].len, &ja),
			 0);
	memset(s, 0, sizeof(*s));
	s->dev_addr = ja.dev_addr;
	s->dev_eui = DEV_EUI;
	ck_assert_int_eq(fg_lw_join_derive_keys(app_key, ja.app_nonce, ja.net_id, nonce,
						s->nwk_s_key, s->app_s_key),
			 0);
}

static enum fg_lw_reason uplink(const struct fg_lw_session *s, enum fg_lw_mtype mtype,
				uint32_t fcnt)
{
	static const uint8_t cayenne[] = { 0x01, 0x67, 0x01, 0x10 }; /* 27.2 C */
	struct fg_radio_meta r = radio(868300000, 9);
	uint8_t phy[64];
	int n = fg_lw_build_uplink(s, mtype, 0, fcnt, NULL, 0, 2, cayenne, sizeof(cayenne), phy,
				   sizeof(phy));

	ck_assert_int_gt(n, 0);
	return fg_lora_handle_from(lora, phy, (size_t) n, &r, &via, emit, NULL);
}

START_TEST(a_join_request_gets_a_join_accept_in_rx1_and_a_session)
{
	struct fg_lora_device_info info;
	struct fg_lora_stats st;
	struct fg_lw_session s;

	ck_assert_int_eq(join_request(0x1234, 868100000, 7), FG_LW_OK);
	ck_assert_uint_eq(n_sent, 1);
	/* RX1: JOIN_ACCEPT_DELAY1 after the request, its frequency, EU868 DR5 (SF7) again. */
	ck_assert_uint_eq(sent[0].count_us, TMST + 5000000u);
	ck_assert_uint_eq(sent[0].freq_hz, 868100000);
	ck_assert_uint_eq(sent[0].rate.sf, 7);
	ck_assert(sent[0].invert_pol);
	/*
	 * 33 bytes: MHDR, 12 of fields, the CFList, MIC. The CFList (type 0) gives the
	 * plan's other five channels, 867.1 .. 867.9 MHz in 100 Hz units, 24 bits LE:
	 * 8671000 = 0x844F18, 8673000 = 0x8456E8, ... 8679000 = 0x846E58.
	 */
	ck_assert_uint_eq(sent[0].len, 33);
	{
		static const uint8_t want[16] = { 0x18, 0x4f, 0x84, 0xe8, 0x56, 0x84, 0xb8, 0x5e,
						  0x84, 0x88, 0x66, 0x84, 0x58, 0x6e, 0x84, 0x00 };
		struct fg_lw_join_accept ja;

		ck_assert_int_eq(fg_lw_join_accept_open(app_key, sent[0].payload, sent[0].len, &ja),
				 0);
		ck_assert(ja.has_cflist);
		ck_assert_mem_eq(ja.cflist, want, 16);
	}
	device_session(0x1234, &s);
	/* NetID 0x13 is type 0: DevAddr = 0 | NwkID (6 bits, 0x13) | 25 bits. */
	ck_assert_uint_eq(s.dev_addr >> 25, 0x13);
	ck_assert_int_eq(uplink(&s, FG_LW_UNCONFIRMED_UP, 0), FG_LW_OK);
	ck_assert_uint_eq(n_readings, 1);
	ck_assert_int_eq(fg_lora_device_info(lora, 0, &info), 0);
	ck_assert_str_eq(info.name, "otaa-1");
	ck_assert(info.otaa && info.joined && info.heard);
	ck_assert_uint_eq(info.dev_addr, s.dev_addr);
	ck_assert_int_eq(info.rssi, -80);
	ck_assert_uint_eq(info.readings, 1);
	ck_assert_uint_eq(info.refused, 0);
	ck_assert_int_eq(fg_lora_device_info(lora, 2, &info), -ENOENT);
	fg_lora_get_stats(lora, &st);
	ck_assert_uint_eq(st.join_requests, 1);
	ck_assert_uint_eq(st.joins, 1);
	ck_assert_uint_eq(st.accepted, 1);
}
END_TEST

START_TEST(a_dev_nonce_is_used_once_even_across_a_restart)
{
	struct fg_lora_stats st;
	struct fg_lw_session s;

	ck_assert_int_eq(join_request(7, 868100000, 7), FG_LW_OK);
	device_session(7, &s);
	ck_assert_int_eq(join_request(7, 868100000, 7), FG_LW_DEVNONCE_REUSED);
	ck_assert_uint_eq(n_sent, 1);
	/* fieldgatectl devices counts the refusal against the device. */
	{
		struct fg_lora_device_info info;

		ck_assert_int_eq(fg_lora_device_info(lora, 0, &info), 0);
		ck_assert_str_eq(info.name, "otaa-1");
		ck_assert_uint_eq(info.refused, 1);
	}
	/* A restart: the session and the nonces come back from the saved state. */
	fg_lora_free(lora);
	start();
	ck_assert_int_eq(join_request(7, 868100000, 7), FG_LW_DEVNONCE_REUSED);
	ck_assert_int_eq(uplink(&s, FG_LW_UNCONFIRMED_UP, 1), FG_LW_OK);
	ck_assert_int_eq(join_request(8, 868100000, 7), FG_LW_OK);
	fg_lora_get_stats(lora, &st);
	ck_assert_uint_eq(st.refused[FG_LW_DEVNONCE_REUSED], 1);
	/* The new session replaces the old one (same DevAddr, new keys): its frames no longer open. */
	ck_assert_int_eq(uplink(&s, FG_LW_UNCONFIRMED_UP, 2), FG_LW_BAD_MIC);
	{
		struct fg_lora_device_info info;

		/* Since this start: the reused nonce and the frame of the old session. */
		ck_assert_int_eq(fg_lora_device_info(lora, 0, &info), 0);
		ck_assert_uint_eq(info.refused, 2);
		ck_assert_uint_eq(info.readings, 1);
	}
}
END_TEST

START_TEST(a_join_request_with_a_bad_mic_or_unknown_eui_is_refused)
{
	uint8_t phy[64], other[16] = { 1 };
	struct fg_radio_meta r = radio(868100000, 7);
	int n = fg_lw_join_request_build(other, JOIN_EUI, DEV_EUI, 1, phy, sizeof(phy));

	ck_assert_int_eq(fg_lora_handle_from(lora, phy, (size_t) n, &r, &via, emit, NULL),
			 FG_LW_BAD_MIC);
	n = fg_lw_join_request_build(app_key, JOIN_EUI, DEV_EUI + 1, 1, phy, sizeof(phy));
	ck_assert_int_eq(fg_lora_handle_from(lora, phy, (size_t) n, &r, &via, emit, NULL),
			 FG_LW_UNKNOWN_DEVICE);
	/* The wrong JoinEUI for a device configured with one. */
	n = fg_lw_join_request_build(app_key, JOIN_EUI + 1, DEV_EUI, 1, phy, sizeof(phy));
	ck_assert_int_eq(fg_lora_handle_from(lora, phy, (size_t) n, &r, &via, emit, NULL),
			 FG_LW_UNKNOWN_DEVICE);
	ck_assert_uint_eq(n_sent, 0);
}
END_TEST

START_TEST(a_confirmed_uplink_is_acknowledged_in_rx1)
{
	struct fg_lw_session s;
	struct fg_lw_frame f;

	ck_assert_int_eq(join_request(9, 868100000, 7), FG_LW_OK);
	device_session(9, &s);
	an_hour_later();
	ck_assert_int_eq(uplink(&s, FG_LW_CONFIRMED_UP, 0), FG_LW_OK);
	an_hour_later();
	ck_assert_int_eq(uplink(&s, FG_LW_CONFIRMED_UP, 1), FG_LW_OK);
	ck_assert_uint_eq(n_sent, 3);
	for (size_t i = 1; i < 3; i++) {
		uint32_t mic;

		/* RECEIVE_DELAY1 after the uplink, on its frequency, SF9 (DR3) again. */
		ck_assert_uint_eq(sent[i].count_us, TMST + 1000000u);
		ck_assert_uint_eq(sent[i].freq_hz, 868300000);
		ck_assert_uint_eq(sent[i].rate.sf, 9);
		ck_assert_int_eq(fg_lw_parse(sent[i].payload, sent[i].len, &f), FG_LW_OK);
		ck_assert_int_eq(f.mtype, FG_LW_UNCONFIRMED_DOWN);
		ck_assert(f.ack);
		ck_assert_uint_eq(f.dev_addr, s.dev_addr);
		ck_assert_uint_eq(f.fcnt16, i - 1); /* FCntDown counts up from 0 */
		ck_assert_int_eq(fg_lw_data_mic(s.nwk_s_key, 1, s.dev_addr, (uint32_t) (i - 1),
						sent[i].payload, sent[i].len - 4, &mic),
				 0);
		ck_assert_uint_eq(mic, f.mic);
	}
	/* FCntDown survives a restart. */
	fg_lora_free(lora);
	start();
	an_hour_later();
	ck_assert_int_eq(uplink(&s, FG_LW_CONFIRMED_UP, 2), FG_LW_OK);
	ck_assert_int_eq(fg_lw_parse(sent[3].payload, sent[3].len, &f), FG_LW_OK);
	ck_assert_uint_eq(f.fcnt16, 2);
}
END_TEST

START_TEST(abp_devices_are_acknowledged_too)
{
	struct fg_lw_session s = { .dev_addr = 0x26011BDA, .dev_eui = UINT64_C(0x70b3d57ed0000001) };

	unhex("9A2F3C4D5E6F708192A3B4C5D6E7F801", s.nwk_s_key);
	unhex("1F2E3D4C5B6A79880796A5B4C3D2E1F0", s.app_s_key);
	ck_assert_int_eq(uplink(&s, FG_LW_CONFIRMED_UP, 10), FG_LW_OK);
	ck_assert_uint_eq(n_sent, 1);
	ck_assert_uint_eq(n_kv, 1);
	ck_assert_str_eq(kv[0].key, "fcnt_down:abp-1");
}
END_TEST

START_TEST(the_duty_cycle_moves_downlinks_to_rx2_then_stops_them)
{
	struct fg_lora_stats st;
	struct fg_lw_session s;
	size_t rx1 = 0, rx2 = 0;

	ck_assert_int_eq(join_request(11, 868100000, 12), FG_LW_OK);
	device_session(11, &s);
	an_hour_later();
	/* SF12 ACKs on 868.1 MHz (1% band): a few fit, then RX2 (869.525 MHz, 10%) takes over. */
	for (uint32_t i = 0; i < 40; i++) {
		struct fg_radio_meta r = radio(868100000, 12);
		uint8_t phy[64];
		int n = fg_lw_build_uplink(&s, FG_LW_CONFIRMED_UP, 0, i, NULL, 0, -1, NULL, 0, phy,
					   sizeof(phy));

		ck_assert_int_eq(fg_lora_handle_from(lora, phy, (size_t) n, &r, &via, emit, NULL),
				 FG_LW_OK);
	}
	for (size_t i = 1; i < n_sent; i++) {
		if (sent[i].freq_hz == 868100000)
			rx1++;
		else if (sent[i].freq_hz == 869525000 && sent[i].count_us == TMST + 2000000u)
			rx2++;
	}
	fg_lora_get_stats(lora, &st);
	ck_assert_uint_ge(rx1, 1);
	ck_assert_uint_ge(rx2, 1);
	ck_assert_uint_eq(rx1 + rx2 + 1, n_sent);
	ck_assert_uint_ge(st.duty_limited, rx2);
	/* What neither window could take was dropped and counted, not sent. */
	ck_assert_uint_eq(st.acks + st.downlink_failed, 40);
	ck_assert_uint_eq(st.acks, rx1 + rx2);
}
END_TEST

START_TEST(a_radio_that_refuses_is_counted_and_the_join_is_kept)
{
	struct fg_lora_stats st;
	struct fg_lora_device_info info;

	send_result = -ENOTCONN;
	ck_assert_int_eq(join_request(5, 868100000, 7), FG_LW_OK);
	fg_lora_get_stats(lora, &st);
	ck_assert_uint_eq(st.downlink_failed, 1);
	ck_assert_uint_eq(st.joins, 0);
	/* Without an origin (the simulator) nothing can be sent either. */
	send_result = 0;
	{
		struct fg_radio_meta r = radio(868100000, 7);
		uint8_t phy[64];
		int n = fg_lw_join_request_build(app_key, JOIN_EUI, DEV_EUI, 6, phy, sizeof(phy));

		ck_assert_int_eq(fg_lora_handle(lora, phy, (size_t) n, &r, emit, NULL), FG_LW_OK);
	}
	ck_assert_uint_eq(n_sent, 0);
	ck_assert_int_eq(fg_lora_device_info(lora, 0, &info), 0);
	ck_assert(info.joined); /* the device may still have heard an earlier accept */
}
END_TEST

START_TEST(a_window_the_radio_refuses_falls_back_to_rx2)
{
	struct fg_lora_stats st;

	/* RX1's time is taken (another downlink there): RX2, a second later, 869.525 MHz. */
	refuse_next = 1;
	ck_assert_int_eq(join_request(21, 868100000, 7), FG_LW_OK);
	ck_assert_uint_eq(n_sent, 1);
	ck_assert_uint_eq(sent[0].count_us, TMST + 6000000u);
	ck_assert_uint_eq(sent[0].freq_hz, 869525000);
	ck_assert_uint_eq(sent[0].rate.sf, 12);
	/* Both refused: nothing sent, counted. */
	an_hour_later();
	refuse_next = 2;
	ck_assert_int_eq(join_request(22, 868100000, 7), FG_LW_OK);
	ck_assert_uint_eq(n_sent, 1);
	fg_lora_get_stats(lora, &st);
	ck_assert_uint_eq(st.joins, 1);
	ck_assert_uint_eq(st.downlink_failed, 1);
}
END_TEST

START_TEST(uplinks_outside_the_plan_are_refused)
{
	static const uint8_t cayenne[] = { 0x01, 0x67, 0x01, 0x10 };
	struct fg_radio_meta r = radio(869525000, 9); /* EU868's RX2: no device sends there */
	struct fg_lora_device_info info;
	struct fg_lora_stats st;
	struct fg_lw_session s;
	uint8_t phy[64];
	int n;

	ck_assert_int_eq(join_request(0x77, 868100000, 7), FG_LW_OK);
	device_session(0x77, &s);
	n = fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_UP, 0, 0, NULL, 0, 2, cayenne, sizeof(cayenne),
			       phy, sizeof(phy));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(fg_lora_handle_from(lora, phy, (size_t) n, &r, &via, emit, NULL),
			 FG_LW_OFF_PLAN);
	r.freq_hz = 867000000; /* 100 kHz below the plan's lowest channel */
	ck_assert_int_eq(fg_lora_handle_from(lora, phy, (size_t) n, &r, &via, emit, NULL),
			 FG_LW_OFF_PLAN);
	ck_assert_uint_eq(n_readings, 0);
	fg_lora_get_stats(lora, &st);
	ck_assert_uint_eq(st.refused[FG_LW_OFF_PLAN], 2);
	ck_assert_uint_eq(st.accepted, 0);
	ck_assert_int_eq(fg_lora_device_info(lora, 0, &info), 0);
	ck_assert(!info.heard);
	/* The same frame on one of the CFList's channels: accepted, its counter unspent. */
	r.freq_hz = 867900000;
	ck_assert_int_eq(fg_lora_handle_from(lora, phy, (size_t) n, &r, &via, emit, NULL),
			 FG_LW_OK);
	ck_assert_uint_eq(n_readings, 1);
	/* A JoinRequest off the plan gets no JoinAccept. */
	{
		struct fg_radio_meta jr = radio(869525000, 7);
		uint8_t j[64];
		int m = fg_lw_join_request_build(app_key, JOIN_EUI, DEV_EUI, 0x78, j, sizeof(j));

		ck_assert_int_eq(fg_lora_handle_from(lora, j, (size_t) m, &jr, &via, emit, NULL),
				 FG_LW_OFF_PLAN);
		ck_assert_uint_eq(n_sent, 1);
	}
	/* Without radio metadata, or without a real radio (the simulator, tests), no check. */
	n = fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_UP, 0, 1, NULL, 0, 2, cayenne, sizeof(cayenne),
			       phy, sizeof(phy));
	r.freq_hz = 869525000;
	r.present = false;
	ck_assert_int_eq(fg_lora_handle_from(lora, phy, (size_t) n, &r, &via, emit, NULL),
			 FG_LW_OK);
	n = fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_UP, 0, 2, NULL, 0, 2, cayenne, sizeof(cayenne),
			       phy, sizeof(phy));
	r.present = true;
	ck_assert_int_eq(fg_lora_handle(lora, phy, (size_t) n, &r, emit, NULL), FG_LW_OK);
	fg_lora_get_stats(lora, &st);
	ck_assert_uint_eq(st.refused[FG_LW_OFF_PLAN], 3);
	ck_assert_uint_eq(st.accepted, 3);
}
END_TEST

START_TEST(us915_joins_get_the_sub_band_mask_and_other_sub_bands_are_refused)
{
	static const char *const us915 =
		"lorawan = { region = \"US915\"; net_id = 0x000013;\n"
		"  devices = ( { name = \"otaa-1\"; dev_eui = \"70B3D57ED0000042\";\n"
		"                join_eui = \"70B3D57ED0000000\";\n"
		"                app_key = \"" APP_KEY "\"; } ); };\n";
	/* CFList type 1, sub-band 2: ChMask0 0xFF00 (channels 8..15), ChMask4 0x0002 (65). */
	static const uint8_t want[16] = { 0x00, 0xff, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 1 };
	struct fg_diags diags = { 0 };
	struct fg_lw_join_accept ja;
	struct fg_lora_stats st;

	teardown();
	ck_assert_int_eq(fg_config_load_string(us915, "us915.conf", &cfg, &diags), 0);
	fg_diags_clear(&diags);
	/* set here rather than in the text, which the settings table may not know yet */
	cfg->lorawan.sub_band = 2;
	start();
	/* 902.3 MHz is channel 0, sub-band 1: the concentrator is not on it. */
	ck_assert_int_eq(join_request(5, 902300000, 10), FG_LW_OFF_PLAN);
	ck_assert_uint_eq(n_sent, 0);
	/* 903.9 MHz is channel 8, the first of sub-band 2; SF10/125 kHz is US915 DR0. */
	ck_assert_int_eq(join_request(6, 903900000, 10), FG_LW_OK);
	ck_assert_uint_eq(n_sent, 1);
	ck_assert_uint_eq(sent[0].len, 33);
	ck_assert_int_eq(fg_lw_join_accept_open(app_key, sent[0].payload, sent[0].len, &ja), 0);
	ck_assert(ja.has_cflist);
	ck_assert_mem_eq(ja.cflist, want, 16);
	/* RX1 of channel 8: 923.3 + 0.6 * (8 mod 8) MHz */
	ck_assert_uint_eq(sent[0].freq_hz, 923300000);
	fg_lora_get_stats(lora, &st);
	ck_assert_uint_eq(st.refused[FG_LW_OFF_PLAN], 1);
	ck_assert_uint_eq(st.joins, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lora_join");
	TCase *tc = tcase_create("otaa");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_join_request_gets_a_join_accept_in_rx1_and_a_session);
	tcase_add_test(tc, a_dev_nonce_is_used_once_even_across_a_restart);
	tcase_add_test(tc, a_join_request_with_a_bad_mic_or_unknown_eui_is_refused);
	tcase_add_test(tc, a_confirmed_uplink_is_acknowledged_in_rx1);
	tcase_add_test(tc, abp_devices_are_acknowledged_too);
	tcase_add_test(tc, the_duty_cycle_moves_downlinks_to_rx2_then_stops_them);
	tcase_add_test(tc, a_radio_that_refuses_is_counted_and_the_join_is_kept);
	tcase_add_test(tc, a_window_the_radio_refuses_falls_back_to_rx2);
	tcase_add_test(tc, uplinks_outside_the_plan_are_refused);
	tcase_add_test(tc, us915_joins_get_the_sub_band_mask_and_other_sub_bands_are_refused);
	suite_add_tcase(s, tc);
	return fg_check_main(s);
}
