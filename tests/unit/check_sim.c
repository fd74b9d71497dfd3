/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/clock.h"
#include "lora/downlink.h"
#include "source/sim-lora.h"
#include "source/sim.h"
#include "check-main.h"

#define MAX_SEEN 4096

struct seen {
	struct fg_reading r[MAX_SEEN];
	size_t n;
	size_t calls;
};

static void collect(const struct fg_reading *r, size_t n, void *userdata)
{
	struct seen *s = userdata;

	s->calls++;
	for (size_t i = 0; i < n && s->n < MAX_SEEN; i++)
		s->r[s->n++] = r[i];
}

static struct fg_sim_config cfg(uint32_t devices, uint32_t interval_ms, uint64_t seed)
{
	return (struct fg_sim_config){ .enabled = true, .devices = devices,
				       .interval_ms = interval_ms, .seed = seed,
				       .name_prefix = "sim-" };
}

START_TEST(sim_first_report_has_three_quantities_with_units)
{
	struct fg_sim_config c = cfg(4, 1000, 1);
	static struct seen seen;
	struct fg_sim *s;
	uint64_t t;

	seen.n = 0;
	ck_assert_int_eq(fg_sim_new(&c, NULL, collect, &seen, &s), 0);
	t = fg_sim_next_due(s);
	ck_assert_int_eq(fg_sim_tick(s, t), 3);
	ck_assert_uint_eq(seen.n, 3);
	ck_assert_str_eq(seen.r[0].device_id, "sim-0001");
	ck_assert_str_eq(seen.r[0].quantity, "temperature");
	ck_assert_str_eq(seen.r[0].unit, "Cel");
	ck_assert_str_eq(seen.r[1].quantity, "humidity");
	ck_assert_str_eq(seen.r[1].unit, "%RH");
	ck_assert_str_eq(seen.r[2].quantity, "battery");
	ck_assert_str_eq(seen.r[2].unit, "%EL");
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(seen.r[i].source, FG_SOURCE_SIM);
		ck_assert_int_eq(seen.r[i].kind, FG_VALUE_NUMBER);
		ck_assert_uint_eq(seen.r[i].mono_usec, t);
		ck_assert_uint_eq(seen.r[i].frame_id, seen.r[0].frame_id);
		ck_assert_str_eq(seen.r[i].boot_id, fg_clock_boot_id());
	}
	/* Nothing else is due at the same instant. */
	ck_assert_int_eq(fg_sim_tick(s, t), 0);
	fg_sim_free(s);
}
END_TEST

START_TEST(sim_each_device_reports_once_per_interval)
{
	struct fg_sim_config c = cfg(5, 1000, 7);
	static struct seen seen;
	struct fg_sim *s;
	int per_device[5] = { 0 };

	seen.n = 0;
	ck_assert_int_eq(fg_sim_new(&c, NULL, collect, &seen, &s), 0);
	/* Three whole intervals, one tick per due report. */
	for (int i = 0; i < 15; i++)
		ck_assert_int_eq(fg_sim_tick(s, fg_sim_next_due(s)), 3);
	ck_assert_uint_eq(seen.n, 45);
	for (size_t i = 0; i < seen.n; i += 3) {
		unsigned idx;

		ck_assert_int_eq(sscanf(seen.r[i].device_id, "sim-%u", &idx), 1);
		ck_assert(idx >= 1 && idx <= 5);
		per_device[idx - 1]++;
	}
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(per_device[i], 3);
	/* Reports are spread over the interval: 200 ms apart. */
	ck_assert_uint_eq(seen.r[3].mono_usec - seen.r[0].mono_usec, 200 * 1000);
	ck_assert_uint_eq(fg_sim_skipped(s), 0);
	fg_sim_free(s);
}
END_TEST

START_TEST(sim_same_seed_gives_same_values)
{
	struct fg_sim_config c = cfg(3, 100, 42);
	static struct seen a, b;
	struct fg_sim *sa, *sb;
	uint64_t t;

	a.n = b.n = 0;
	ck_assert_int_eq(fg_sim_new(&c, NULL, collect, &a, &sa), 0);
	ck_assert_int_eq(fg_sim_new(&c, NULL, collect, &b, &sb), 0);
	for (int i = 0; i < 30; i++) {
		t = fg_sim_next_due(sa);
		fg_sim_tick(sa, t);
		t = fg_sim_next_due(sb);
		fg_sim_tick(sb, t);
	}
	ck_assert_uint_eq(a.n, 90);
	ck_assert_uint_eq(b.n, 90);
	for (size_t i = 0; i < a.n; i++)
		ck_assert(a.r[i].number == b.r[i].number);
	fg_sim_free(sa);
	fg_sim_free(sb);
}
END_TEST

START_TEST(sim_values_are_realistic_and_drift_smoothly)
{
	struct fg_sim_config c = cfg(1, 60000, 3);
	static struct seen seen;
	double prev_t = NAN, min_t = 1e9, max_t = -1e9;
	struct fg_sim *s;

	ck_assert_int_eq(fg_sim_new(&c, NULL, collect, &seen, &s), 0);
	/* A day of one-minute reports, in chunks that fit the collector. */
	for (int day_chunk = 0; day_chunk < 1440 / 480; day_chunk++) {
		seen.n = 0;
		for (int i = 0; i < 480; i++)
			fg_sim_tick(s, fg_sim_next_due(s));
		ck_assert_uint_eq(seen.n, 1440);
		for (size_t i = 0; i < seen.n; i += 3) {
			double temp = seen.r[i].number, hum = seen.r[i + 1].number;
			double bat = seen.r[i + 2].number;

			ck_assert(temp > 5.0 && temp < 40.0);
			ck_assert(hum >= 0.0 && hum <= 100.0);
			ck_assert(bat > 0.0 && bat <= 100.0);
			if (!isnan(prev_t))
				ck_assert_msg(fabs(temp - prev_t) < 2.0, "jump %f -> %f", prev_t, temp);
			prev_t = temp;
			min_t = fmin(min_t, temp);
			max_t = fmax(max_t, temp);
		}
	}
	/* Over a day the room warms and cools by a few degrees. */
	ck_assert_msg(max_t - min_t > 2.0, "range %f..%f", min_t, max_t);
	fg_sim_free(s);
}
END_TEST

START_TEST(sim_falling_behind_skips_instead_of_bursting)
{
	struct fg_sim_config c = cfg(10, 1000, 5);
	static struct seen seen;
	struct fg_sim *s;
	int n;

	seen.n = 0;
	ck_assert_int_eq(fg_sim_new(&c, NULL, collect, &seen, &s), 0);
	n = fg_sim_tick(s, fg_sim_next_due(s) + 10 * 1000 * 1000);
	ck_assert_int_le(n, 2 * 3);
	ck_assert_int_ge(n, 3);
	ck_assert_uint_ge(fg_sim_skipped(s), 90);
	fg_sim_free(s);
}
END_TEST

START_TEST(sim_tick_is_bounded)
{
	struct fg_sim_config c = cfg(1000, 1, 5);
	static struct seen seen;
	struct fg_sim *s;

	seen.n = 0;
	ck_assert_int_eq(fg_sim_new(&c, NULL, collect, &seen, &s), 0);
	/* 501 reports are due; one tick emits at most FG_SIM_MAX_PER_TICK of them. */
	ck_assert_int_eq(fg_sim_tick(s, fg_sim_next_due(s) + 500),
			 FG_SIM_MAX_PER_TICK * FG_SIM_QUANTITIES);
	ck_assert_uint_eq(seen.calls, 1);
	fg_sim_free(s);
}
END_TEST

START_TEST(sim_uses_name_prefix)
{
	struct fg_sim_config c = cfg(2, 1000, 9);
	static struct seen seen;
	struct fg_sim *s;

	seen.n = 0;
	c.name_prefix = "room-";
	ck_assert_int_eq(fg_sim_new(&c, NULL, collect, &seen, &s), 0);
	fg_sim_tick(s, fg_sim_next_due(s));
	fg_sim_tick(s, fg_sim_next_due(s));
	ck_assert_str_eq(seen.r[0].device_id, "room-0001");
	ck_assert_str_eq(seen.r[3].device_id, "room-0002");
	ck_assert_str_eq(seen.r[3].device_name, "room-0002");
	fg_sim_free(s);
}
END_TEST

START_TEST(sim_device_info_counts_each_devices_readings)
{
	struct fg_sim_config c = cfg(3, 1000, 9);
	struct fg_sim_device_info info;
	static struct seen seen;
	struct fg_sim *s;

	seen.n = 0;
	ck_assert_int_eq(fg_sim_new(&c, NULL, collect, &seen, &s), 0);
	ck_assert_int_eq(fg_sim_device_info(s, 0, &info), 0);
	ck_assert_str_eq(info.name, "sim-0001");
	ck_assert_uint_eq(info.readings, 0);
	ck_assert_uint_eq(info.last_ms, 0);
	/* Four reports: the first device twice, the others once. */
	for (int i = 0; i < 4; i++)
		fg_sim_tick(s, fg_sim_next_due(s));
	ck_assert_int_eq(fg_sim_device_info(s, 0, &info), 0);
	ck_assert_uint_eq(info.readings, 2 * FG_SIM_QUANTITIES);
	ck_assert_uint_gt(info.last_ms, 0);
	ck_assert_int_eq(fg_sim_device_info(s, 2, &info), 0);
	ck_assert_str_eq(info.name, "sim-0003");
	ck_assert_uint_eq(info.readings, FG_SIM_QUANTITIES);
	ck_assert_int_eq(fg_sim_device_info(s, 3, &info), -ENOENT);
	fg_sim_free(s);
}
END_TEST

START_TEST(sim_refuses_empty_config)
{
	struct fg_sim_config c = cfg(0, 1000, 1);
	struct fg_sim *s = NULL;

	ck_assert_int_eq(fg_sim_new(&c, NULL, collect, NULL, &s), -EINVAL);
	ck_assert_ptr_null(s);
	c = cfg(1, 0, 1);
	ck_assert_int_eq(fg_sim_new(&c, NULL, collect, NULL, &s), -EINVAL);
	fg_sim_free(NULL);
}
END_TEST

START_TEST(sim_on_event_loop_emits_by_itself)
{
	struct fg_sim_config c = cfg(2, 20, 11);
	static struct seen seen;
	struct fg_sim *s;
	sd_event *loop;
	uint64_t deadline;

	seen.n = 0;
	ck_assert_int_eq(sd_event_new(&loop), 0);
	ck_assert_int_eq(fg_sim_new(&c, loop, collect, &seen, &s), 0);
	/* Bounded: stop at 12 readings (two rounds of both devices) or after 5 s. */
	deadline = fg_clock_mono_usec() + 5 * FG_USEC_PER_SEC;
	while (seen.n < 12 && fg_clock_mono_usec() < deadline)
		ck_assert_int_ge(sd_event_run(loop, 100 * 1000), 0);
	ck_assert_uint_ge(seen.n, 12);
	fg_sim_free(s);
	sd_event_unref(loop);
}
END_TEST

/* The simulated LoRaWAN device: heard via FG_LORA_VIA_SIM; it acknowledges confirmed downlinks. */
static struct {
	uint8_t phy[FG_LW_PHY_MAX];
	size_t len;
	struct fg_lora_origin origin;
	size_t n;
} heard;

static void frame_without_origin(const uint8_t *phy, size_t len, const struct fg_radio_meta *radio,
				 void *userdata)
{
	(void) phy;
	(void) len;
	(void) radio;
	(void) userdata;
	ck_abort_msg("frames go to the frame_from callback");
}

static void frame_from(const uint8_t *phy, size_t len, const struct fg_radio_meta *radio,
		       const struct fg_lora_origin *origin, void *userdata)
{
	(void) userdata;
	ck_assert(radio->present);
	ck_assert_uint_le(len, sizeof(heard.phy));
	memcpy(heard.phy, phy, len);
	heard.len = len;
	heard.origin = *origin;
	heard.n++;
}

/* The next uplink of the simulated device: whether it carries the ACK bit. */
static bool next_uplink_acks(sd_event *loop)
{
	size_t n = heard.n;
	uint64_t deadline = fg_clock_mono_usec() + 5 * FG_USEC_PER_SEC;
	struct fg_lw_frame f;

	while (heard.n == n && fg_clock_mono_usec() < deadline)
		ck_assert_int_ge(sd_event_run(loop, 100 * 1000), 0);
	ck_assert_uint_gt(heard.n, n);
	ck_assert_int_eq(heard.origin.via, FG_LORA_VIA_SIM);
	ck_assert_int_eq(fg_lw_parse(heard.phy, heard.len, &f), FG_LW_OK);
	ck_assert_int_eq(f.mtype, FG_LW_UNCONFIRMED_UP);
	ck_assert_uint_eq(f.dev_addr, 0x26011BDA);
	return f.ack;
}

START_TEST(sim_lora_device_acknowledges_a_confirmed_downlink)
{
	static const char *const conf =
		"sources = { sim = { enabled = true; interval_ms = 20; seed = 3; }; };\n"
		"lorawan = { devices = ( { name = \"abp-1\"; dev_eui = \"70B3D57ED0000001\";\n"
		"  dev_addr = \"26011BDA\"; nwk_s_key = \"9A2F3C4D5E6F708192A3B4C5D6E7F801\";\n"
		"  app_s_key = \"1F2E3D4C5B6A79880796A5B4C3D2E1F0\";\n"
		"  codec = \"cayenne\"; } ); };\n";
	struct fg_diags diags = { 0 };
	struct fg_config *c;
	struct fg_sim_lora *s;
	struct fg_lw_session ses = { .dev_addr = 0x26011BDA };
	uint8_t phy[64];
	sd_event *loop;
	int n;

	heard.n = 0;
	ck_assert_int_eq(fg_config_load_string(conf, "sim.conf", &c, &diags), 0);
	fg_diags_clear(&diags);
	memcpy(ses.nwk_s_key, c->lorawan.devices[0].nwk_s_key, 16);
	memcpy(ses.app_s_key, c->lorawan.devices[0].app_s_key, 16);
	ck_assert_int_eq(sd_event_new(&loop), 0);
	ck_assert_int_eq(fg_sim_lora_new(c, loop, NULL, frame_without_origin, NULL, &s), 0);
	ck_assert_ptr_nonnull(s);
	fg_sim_lora_set_frame_from(s, frame_from);
	ck_assert(!next_uplink_acks(loop));
	/* An unconfirmed downlink asks for nothing. */
	n = fg_lw_build_downlink(&ses, false, 0, 0, NULL, 0, 1, (const uint8_t *) "a", 1, phy,
				 sizeof(phy));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(fg_sim_lora_downlink(s, phy, (size_t) n), 0);
	ck_assert(!next_uplink_acks(loop));
	/* A confirmed one: the next uplink (only) has the ACK bit. */
	n = fg_lw_build_downlink(&ses, true, 0, 1, NULL, 0, 1, (const uint8_t *) "b", 1, phy,
				 sizeof(phy));
	ck_assert_int_eq(fg_sim_lora_downlink(s, phy, (size_t) n), 0);
	ck_assert(next_uplink_acks(loop));
	ck_assert(!next_uplink_acks(loop));
	ck_assert_uint_eq(fg_sim_lora_received(s), 2);
	/* Not a good downlink of ours: a bad MIC, another DevAddr, an uplink. */
	phy[n - 1] ^= 1;
	ck_assert_int_eq(fg_sim_lora_downlink(s, phy, (size_t) n), -EBADMSG);
	ses.dev_addr = 0x26011BDB;
	n = fg_lw_build_downlink(&ses, true, 0, 2, NULL, 0, 1, (const uint8_t *) "b", 1, phy,
				 sizeof(phy));
	ck_assert_int_eq(fg_sim_lora_downlink(s, phy, (size_t) n), -ENOENT);
	ck_assert_int_eq(fg_sim_lora_downlink(s, heard.phy, heard.len), -EBADMSG);
	ck_assert_int_eq(fg_sim_lora_downlink(NULL, heard.phy, heard.len), -ENOENT);
	ck_assert_uint_eq(fg_sim_lora_received(s), 2);
	fg_sim_lora_free(s);
	sd_event_unref(loop);
	fg_config_free(c);
}
END_TEST

static Suite *sim_suite(void)
{
	Suite *s = suite_create("sim");
	TCase *tc = tcase_create("reports");

	tcase_add_test(tc, sim_first_report_has_three_quantities_with_units);
	tcase_add_test(tc, sim_lora_device_acknowledges_a_confirmed_downlink);
	tcase_add_test(tc, sim_each_device_reports_once_per_interval);
	tcase_add_test(tc, sim_same_seed_gives_same_values);
	tcase_add_test(tc, sim_values_are_realistic_and_drift_smoothly);
	tcase_add_test(tc, sim_uses_name_prefix);
	tcase_add_test(tc, sim_device_info_counts_each_devices_readings);
	suite_add_tcase(s, tc);
	tc = tcase_create("bounds");
	tcase_add_test(tc, sim_falling_behind_skips_instead_of_bursting);
	tcase_add_test(tc, sim_tick_is_bounded);
	tcase_add_test(tc, sim_refuses_empty_config);
	suite_add_tcase(s, tc);
	tc = tcase_create("loop");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, sim_on_event_loop_emits_by_itself);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(sim_suite());
}
