/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The rule engine on rules loaded from configuration text: the stateless
 * actions, report by exception and heartbeat, windows, alerts, and state
 * kept in a real buffer file across a simulated restart and a reload. The
 * clock is injected.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "rules/rules.h"
#include "store/store.h"
#include "check-main.h"

#define T0 UINT64_C(1800000000000) /* a multiple of every window used here */

static struct fg_config *cfg;
static struct fg_rules *rules;
static struct fg_store *store;
static char dir[] = "/tmp/check-rules-XXXXXX";
static struct fg_reading in[4], out[16];
static uint64_t now_ms = T0;

/* What the sink was given: readings of every frame in order, and alerts. */
static size_t n_out, n_frames, n_alerts;
static char alerts[8][128];

static uint64_t test_clock(void *userdata)
{
	(void) userdata;
	return now_ms;
}

static const struct fg_rules_clock clock_ = { test_clock, NULL };

static int on_frame(const struct fg_reading *r, size_t n, void *userdata)
{
	(void) userdata;
	ck_assert_uint_le(n_out + n, sizeof(out) / sizeof(out[0]));
	memcpy(&out[n_out], r, n * sizeof(*r));
	n_out += n;
	n_frames++;
	return 0;
}

static int on_alert(size_t rule, bool raised, const struct fg_reading *r, void *userdata)
{
	(void) userdata;
	ck_assert_uint_lt(n_alerts, 8);
	snprintf(alerts[n_alerts++], sizeof(alerts[0]), "%s %s %s=%g", cfg->rules[rule].name,
		 raised ? "raised" : "cleared", r->quantity, r->number);
	return 0;
}

static const struct fg_rules_sink sink = { on_frame, on_alert, NULL };

/* Run the frame in[0..n) through the rules; returns the readings that came out. */
static size_t apply(size_t n)
{
	n_out = n_frames = 0;
	ck_assert_int_eq(fg_rules_frame(rules, in, n, &sink), 0);
	return n_out;
}

static void setup(void)
{
	struct fg_buffer_config bc = { .commit_interval_ms = 100, .commit_batch = 1000,
				       .max_rows = 100000, .max_bytes = 1 << 30 };
	char path[64];

	strcpy(dir, "/tmp/check-rules-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/buffer.db", dir);
	bc.path = path;
	ck_assert_int_eq(fg_store_open(&bc, NULL, NULL, &store, NULL), 0);
	now_ms = T0;
	n_alerts = 0;
}

static void teardown(void)
{
	char cmd[96];

	fg_rules_free(rules);
	rules = NULL;
	fg_config_free(cfg);
	cfg = NULL;
	fg_store_close(store);
	store = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Load rules from text, with their state from the buffer. */
static void load(const char *text)
{
	struct fg_diags diags = { 0 };

	fg_rules_free(rules);
	rules = NULL;
	fg_config_free(cfg);
	ck_assert_int_eq(fg_config_load_string(text, "rules.conf", &cfg, &diags), 0);
	fg_diags_clear(&diags);
	ck_assert_int_eq(fg_rules_new(cfg, store, &clock_, &rules), 0);
}

/* As after a restart: state saved to the buffer, the engine made again from the same text. */
static void restart(const char *text)
{
	ck_assert_int_eq(fg_rules_save(rules, store), 0);
	load(text);
}

/* One reading of quantity q at wall time t (0: none, the clock's is used). */
static void one(const char *dev, const char *q, double v, uint64_t t)
{
	memset(in, 0, sizeof(in));
	ck_assert_int_eq(fg_reading_init(&in[0], FG_SOURCE_SIM, dev, dev, q, "Cel"), 0);
	fg_reading_set_number(&in[0], v);
	in[0].time_ms = t;
}

/* A frame of device dev (name `name`): temperature t, humidity h, battery b. */
static void frame(enum fg_source_kind src, const char *dev, const char *name, double t, double h,
		  double b)
{
	static const char *const q[3] = { "temperature", "humidity", "battery" };
	static const char *const u[3] = { "Cel", "%RH", "%EL" };
	const double v[3] = { t, h, b };

	memset(in, 0, sizeof(in));
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(fg_reading_init(&in[i], src, dev, name, q[i], u[i]), 0);
		fg_reading_set_number(&in[i], v[i]);
	}
}

START_TEST(rules_drop_by_condition_and_keep_the_rest)
{
	load("rules = ( { name = \"plausible\"; match = \"*/temperature\";"
	     " drop_if = \"value < -40 || value > 85\"; } );");
	frame(FG_SOURCE_SIM, "sim-1", "sim-1", 90, 50, 80);
	ck_assert_uint_eq(apply(3), 2);
	ck_assert_str_eq(out[0].quantity, "humidity");
	ck_assert_str_eq(out[1].quantity, "battery");
	frame(FG_SOURCE_SIM, "sim-1", "sim-1", 21, 50, 80);
	ck_assert_uint_eq(apply(3), 3);
	ck_assert_double_eq(out[0].number, 21);
}
END_TEST

START_TEST(rules_set_unit_and_quantity_in_order)
{
	/* The second rule sees what the first made of the reading. */
	load("rules = (\n"
	     " { name = \"k\"; match = \"ble/porch/temperature\"; set = \"value + 273\";"
	     " unit = \"K\"; },\n"
	     " { name = \"hot\"; match = \"ble/porch/temperature\"; drop_if = \"value > 310\"; },\n"
	     " { name = \"rename\"; match = \"*/battery\"; quantity = \"battery_level\"; } );");
	frame(FG_SOURCE_BLE, "a4c138001122", "porch", 25, 40, 77);
	ck_assert_uint_eq(apply(3), 3);
	ck_assert_double_eq(out[0].number, 298);
	ck_assert_str_eq(out[0].unit, "K");
	ck_assert_str_eq(out[2].quantity, "battery_level");
	ck_assert_str_eq(out[2].unit, "%EL");
	/* 40 C is 313 K: dropped by the second rule, in kelvin. */
	frame(FG_SOURCE_BLE, "a4c138001122", "porch", 40, 40, 77);
	ck_assert_uint_eq(apply(3), 2);
	ck_assert_str_eq(out[0].quantity, "humidity");
}
END_TEST

START_TEST(rules_match_the_device_by_name_or_id)
{
	struct fg_rules_stats st;

	load("rules = ( { name = \"by-id\"; match = \"lora/70b3d57ed0000001/humidity\";"
	     " drop_if = \"value >= 0\"; },"
	     " { name = \"by-name\"; match = \"lora/soil-?/battery\"; drop_if = \"value >= 0\"; } );");
	frame(FG_SOURCE_LORA, "70b3d57ed0000001", "soil-1", 20, 40, 77);
	ck_assert_uint_eq(apply(3), 1);
	ck_assert_str_eq(out[0].quantity, "temperature");
	/* Another source does not match. */
	frame(FG_SOURCE_SIM, "70b3d57ed0000001", "soil-1", 20, 40, 77);
	ck_assert_uint_eq(apply(3), 3);
	fg_rules_get_stats(rules, &st);
	ck_assert_uint_eq(st.evaluated, 6);
	ck_assert_uint_eq(st.dropped, 2);
}
END_TEST

START_TEST(rules_read_the_frames_battery_and_skip_what_they_cannot_evaluate)
{
	struct fg_rules_stats st;
	load("rules = ( { name = \"low\"; match = \"*/temperature\"; drop_if = \"battery < 10\"; },"
	     " { name = \"radio\"; match = \"*/humidity\"; drop_if = \"rssi < -100\"; } );");
	frame(FG_SOURCE_SIM, "s", "s", 20, 40, 5);
	/* battery 5: temperature dropped; no radio: humidity's rule does not apply. */
	ck_assert_uint_eq(apply(3), 2);
	ck_assert_str_eq(out[0].quantity, "humidity");
	fg_rules_get_stats(rules, &st);
	ck_assert_uint_eq(st.skipped, 1);
}
END_TEST

#define QUIET "rules = ( { name = \"quiet\"; match = \"*/temperature\"; deadband = 0.5;" \
	      " heartbeat = 60; } );"

START_TEST(rules_deadband_holds_back_small_changes_until_the_heartbeat)
{
	struct fg_rules_stats st;

	load(QUIET);
	one("s1", "temperature", 20.0, 0);
	ck_assert_uint_eq(apply(1), 1); /* the first of a series goes on */
	now_ms += 10000;
	one("s1", "temperature", 20.4, 0);
	ck_assert_uint_eq(apply(1), 0); /* moved 0.4 < 0.5 */
	one("s1", "temperature", 20.5, 0);
	ck_assert_uint_eq(apply(1), 1); /* moved 0.5 from the last sent */
	ck_assert_double_eq(out[0].number, 20.5);
	now_ms += 59999;
	one("s1", "temperature", 20.6, 0);
	ck_assert_uint_eq(apply(1), 0);
	now_ms += 1;
	one("s1", "temperature", 20.6, 0);
	ck_assert_uint_eq(apply(1), 1); /* 60 s since 20.5 went on: the heartbeat */
	/* Another device is its own series; the reading's own time wins over the clock. */
	one("s2", "temperature", 20.6, now_ms + 5);
	ck_assert_uint_eq(apply(1), 1);
	one("s1", "humidity", 50, 0);
	ck_assert_uint_eq(apply(1), 1); /* not matched */
	fg_rules_get_stats(rules, &st);
	ck_assert_uint_eq(st.suppressed, 2);
	ck_assert_uint_eq(st.series, 2);
}
END_TEST

START_TEST(rules_deadband_in_percent_of_the_last_value)
{
	load("rules = ( { name = \"pct\"; match = \"*\"; deadband = \"10%\"; } );");
	one("s1", "pressure", 1000, 0);
	ck_assert_uint_eq(apply(1), 1);
	one("s1", "pressure", 1099, 0);
	ck_assert_uint_eq(apply(1), 0);
	one("s1", "pressure", 900, 0);
	ck_assert_uint_eq(apply(1), 1); /* 10% of 1000 */
	one("s1", "pressure", 991, 0);
	ck_assert_uint_eq(apply(1), 1); /* 10% of 900 is 90 */
}
END_TEST

#define AVG "rules = ( { name = \"avg\"; match = \"*/moisture\"; window = 300;" \
	    " emit = [ \"mean\", \"min\", \"max\", \"count\" ]; } );"

START_TEST(rules_windows_are_aligned_to_wall_time_and_end_on_the_next_reading)
{
	struct fg_rules_stats st;

	load(AVG);
	one("soil-1", "moisture", 30, T0 + 1000);
	ck_assert_uint_eq(apply(1), 0); /* taken into the window */
	one("soil-1", "moisture", 34, T0 + 299999);
	ck_assert_uint_eq(apply(1), 0);
	ck_assert_uint_eq(fg_rules_next_deadline(rules), T0 + 300000);
	/* The first reading of the next window ends this one. */
	one("soil-1", "moisture", 50, T0 + 300000);
	ck_assert_uint_eq(apply(1), 4);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_str_eq(out[0].quantity, "moisture_mean");
	ck_assert_double_eq(out[0].number, 32);
	ck_assert_str_eq(out[0].unit, "Cel");
	ck_assert_str_eq(out[1].quantity, "moisture_min");
	ck_assert_double_eq(out[1].number, 30);
	ck_assert_str_eq(out[2].quantity, "moisture_max");
	ck_assert_double_eq(out[2].number, 34);
	ck_assert_str_eq(out[3].quantity, "moisture_count");
	ck_assert_double_eq(out[3].number, 2);
	ck_assert_str_eq(out[3].unit, "");
	ck_assert_uint_eq(out[0].time_ms, T0); /* stamped with the window's start */
	ck_assert_str_eq(out[0].device_id, "soil-1");
	fg_rules_get_stats(rules, &st);
	ck_assert_uint_eq(st.aggregated, 3);
	ck_assert_uint_eq(st.windows, 1);
}
END_TEST

START_TEST(rules_windows_end_by_the_clock)
{
	load(AVG);
	one("soil-1", "moisture", 30, 0);
	ck_assert_uint_eq(apply(1), 0);
	n_out = 0;
	now_ms = T0 + 299999;
	ck_assert_int_eq(fg_rules_tick(rules, &sink), 0);
	ck_assert_uint_eq(n_out, 0);
	now_ms = T0 + 300000;
	ck_assert_int_eq(fg_rules_tick(rules, &sink), 0);
	ck_assert_uint_eq(n_out, 4);
	ck_assert_double_eq(out[0].number, 30);
	/* Readings without wall time give a window without one. */
	ck_assert_uint_eq(out[0].time_ms, 0);
	ck_assert_uint_eq(fg_rules_next_deadline(rules), 0);
	n_out = 0;
	ck_assert_int_eq(fg_rules_tick(rules, &sink), 0);
	ck_assert_uint_eq(n_out, 0); /* closed once */
}
END_TEST

START_TEST(rules_a_window_survives_a_restart_mid_window)
{
	load(AVG);
	one("soil-1", "moisture", 10, T0 + 1000);
	apply(1);
	one("soil-1", "moisture", 20, T0 + 2000);
	apply(1);
	restart(AVG);
	ck_assert_uint_eq(fg_rules_next_deadline(rules), T0 + 300000);
	one("soil-1", "moisture", 60, T0 + 3000);
	ck_assert_uint_eq(apply(1), 0);
	now_ms = T0 + 300000;
	n_out = 0;
	ck_assert_int_eq(fg_rules_tick(rules, &sink), 0);
	ck_assert_uint_eq(n_out, 4);
	ck_assert_double_eq(out[0].number, 30); /* (10 + 20 + 60) / 3 */
	ck_assert_double_eq(out[3].number, 3);
}
END_TEST

START_TEST(rules_state_not_saved_is_gone_after_reload_from_the_buffer)
{
	/* What a rolled back commit leaves: the engine reads the buffer again. */
	load(AVG);
	one("soil-1", "moisture", 10, T0 + 1000);
	apply(1);
	ck_assert_int_eq(fg_rules_save(rules, store), 0);
	one("soil-1", "moisture", 90, T0 + 2000);
	apply(1);
	ck_assert_int_eq(fg_rules_reload(rules, store), 0);
	now_ms = T0 + 300000;
	n_out = 0;
	ck_assert_int_eq(fg_rules_tick(rules, &sink), 0);
	ck_assert_uint_eq(n_out, 4);
	ck_assert_double_eq(out[0].number, 10);
	ck_assert_double_eq(out[3].number, 1);
}
END_TEST

#define FROST "rules = ( { name = \"frost\"; match = \"*/temperature\"; when = \"value < 0.5\";" \
	      " alert = { topic = \"a/{device}\"; clear_when = \"value > 1.5\"; }; } );"

START_TEST(rules_alerts_raise_once_and_clear_once_with_hysteresis)
{
	static const double seq[] = { 3, 0.4, 0.3, 1.0, 1.5, 1.6, 1.7, 0.2 };
	struct fg_rules_stats st;

	load(FROST);
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		one("s1", "temperature", seq[i], 0);
		ck_assert_uint_eq(apply(1), 1); /* the reading goes on either way */
		if (i == 1)
			ck_assert(fg_rules_raised(rules, 0));
	}
	ck_assert_uint_eq(n_alerts, 3);
	ck_assert_str_eq(alerts[0], "frost raised temperature=0.4");
	ck_assert_str_eq(alerts[1], "frost cleared temperature=1.6");
	ck_assert_str_eq(alerts[2], "frost raised temperature=0.2");
	ck_assert(fg_rules_raised(rules, 0));
	fg_rules_get_stats(rules, &st);
	ck_assert_uint_eq(st.raised, 2);
	ck_assert_uint_eq(st.cleared, 1);
}
END_TEST

START_TEST(rules_alerts_without_clear_when_clear_when_the_condition_ends)
{
	load("rules = ( { name = \"low\"; match = \"*/battery\"; when = \"value < 15\";"
	     " alert = { topic = \"b\"; }; } );");
	one("s1", "battery", 14, 0);
	apply(1);
	one("s1", "battery", 14.5, 0);
	apply(1);
	one("s1", "battery", 15, 0);
	apply(1);
	ck_assert_uint_eq(n_alerts, 2);
	ck_assert_str_eq(alerts[1], "low cleared battery=15");
	ck_assert(!fg_rules_raised(rules, 0));
}
END_TEST

START_TEST(rules_alert_state_survives_a_restart)
{
	load(FROST);
	one("s1", "temperature", 0.1, 0);
	apply(1);
	one("s2", "temperature", 5, 0);
	apply(1);
	restart(FROST);
	ck_assert(fg_rules_raised(rules, 0));
	n_alerts = 0;
	one("s1", "temperature", 0.0, 0);
	apply(1);
	ck_assert_uint_eq(n_alerts, 0); /* still raised: not again */
	one("s1", "temperature", 2.0, 0);
	apply(1);
	ck_assert_uint_eq(n_alerts, 1);
	ck_assert(!fg_rules_raised(rules, 0));
}
END_TEST

START_TEST(rules_reload_keeps_the_state_of_unchanged_rules_only)
{
	const char *before = "rules = ("
			     " { name = \"a\"; match = \"*/temperature\"; deadband = 1; },"
			     " { name = \"b\"; match = \"*/humidity\"; deadband = 1; } );";
	const char *after = "rules = ("
			    " { name = \"a\"; match = \"*/temperature\"; deadband = 1; },"
			    " { name = \"b\"; match = \"*/humidity\"; deadband = 2; } );";
	struct fg_rules_stats st;

	load(before);
	one("s1", "temperature", 20, 0);
	apply(1);
	one("s1", "humidity", 50, 0);
	apply(1);
	restart(after);
	fg_rules_get_stats(rules, &st);
	ck_assert_uint_eq(st.series, 1);
	one("s1", "temperature", 20.5, 0);
	ck_assert_uint_eq(apply(1), 0); /* a remembers 20 */
	one("s1", "humidity", 50.5, 0);
	ck_assert_uint_eq(apply(1), 1); /* b changed: starts afresh */
}
END_TEST

START_TEST(rules_window_aggregates_go_through_the_later_rules)
{
	load("rules = ( { name = \"avg\"; match = \"*/moisture\"; window = 60; emit = [ \"mean\" ]; },"
	     " { name = \"dry\"; match = \"*/moisture_mean\"; when = \"value < 20\";"
	     " alert = { topic = \"dry\"; }; },"
	     " { name = \"pct\"; match = \"*/moisture_mean\"; unit = \"%\"; } );");
	one("soil-1", "moisture", 10, T0);
	apply(1);
	one("soil-1", "moisture", 20, T0 + 60000);
	ck_assert_uint_eq(apply(1), 1);
	ck_assert_str_eq(out[0].quantity, "moisture_mean");
	ck_assert_str_eq(out[0].unit, "%");
	ck_assert_uint_eq(n_alerts, 1);
	ck_assert_str_eq(alerts[0], "dry raised moisture_mean=10");
}
END_TEST

START_TEST(rules_bad_state_rows_are_dropped_and_counted)
{
	struct fg_rules_stats st;

	ck_assert_int_eq(fg_store_state_put(store, "rule:quiet", "sim/s1/temperature", "junk", 4), 0);
	load(QUIET);
	fg_rules_get_stats(rules, &st);
	ck_assert_uint_eq(st.bad_state, 1);
	ck_assert_uint_eq(st.series, 0);
	one("s1", "temperature", 20, 0);
	ck_assert_uint_eq(apply(1), 1);
}
END_TEST

START_TEST(rules_track_a_bounded_number_of_series)
{
	struct fg_rules_stats st;
	char dev[16];

	load(QUIET);
	for (int i = 0; i < FG_RULES_SERIES_MAX + 10; i++) {
		snprintf(dev, sizeof(dev), "d%d", i);
		one(dev, "temperature", 1, 0);
		ck_assert_uint_eq(apply(1), 1);
	}
	fg_rules_get_stats(rules, &st);
	ck_assert_uint_eq(st.series, FG_RULES_SERIES_MAX);
	ck_assert_uint_eq(st.untracked, 10);
}
END_TEST

START_TEST(rules_an_alert_topic_is_checked_at_load)
{
	struct fg_diags diags = { 0 };
	struct fg_config *bad = NULL;
	char *msg;

	ck_assert_int_eq(fg_config_load_string("rules = ( { name = \"f\"; match = \"*\";"
					       " when = \"value < 0\"; alert = { topic ="
					       " \"a/{devcie}/#\"; }; } );",
					       "rules.conf", &bad, &diags),
			 -EINVAL);
	ck_assert_uint_eq(fg_diags_count(&diags, FG_DIAG_ERROR), 1);
	msg = fg_diag_format(&diags.v[0]);
	ck_assert_ptr_nonnull(strstr(msg, "rule 'f': alert: 'topic': "));
	free(msg);
	fg_diags_clear(&diags);
}
END_TEST

START_TEST(rules_values_that_are_not_numbers_are_missing_to_the_stateful_actions)
{
	load("rules = ( { name = \"q\"; match = \"*/temperature\"; deadband = 1; },"
	     " { name = \"avg\"; match = \"*/moisture\"; window = 60; emit = [ \"count\" ]; } );");
	one("s1", "temperature", NAN, 0);
	ck_assert_uint_eq(apply(1), 1); /* the first of its series */
	one("s1", "temperature", 20, 0);
	ck_assert_uint_eq(apply(1), 1); /* out of "no value": goes on */
	one("s1", "temperature", 20.5, 0);
	ck_assert_uint_eq(apply(1), 0);
	one("s1", "moisture", NAN, T0);
	ck_assert_uint_eq(apply(1), 0);
	one("s1", "moisture", 40, T0 + 1);
	apply(1);
	one("s1", "moisture", 41, T0 + 60000);
	ck_assert_uint_eq(apply(1), 1);
	ck_assert_double_eq(out[0].number, 1); /* the NaN was not counted */
}
END_TEST

START_TEST(rules_a_window_ends_when_the_clock_is_set_back)
{
	load(AVG);
	one("soil-1", "moisture", 30, T0 + 600000);
	apply(1);
	/* NTP sets the clock back an hour: the window would not end for an hour. */
	now_ms = T0 - 3600000;
	n_out = 0;
	ck_assert_int_eq(fg_rules_tick(rules, &sink), 0);
	ck_assert_uint_eq(n_out, 4);
	ck_assert_double_eq(out[3].number, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("stateless");
	TCase *ts = tcase_create("stateful");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, rules_drop_by_condition_and_keep_the_rest);
	tcase_add_test(tc, rules_set_unit_and_quantity_in_order);
	tcase_add_test(tc, rules_match_the_device_by_name_or_id);
	tcase_add_test(tc, rules_read_the_frames_battery_and_skip_what_they_cannot_evaluate);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(ts, setup, teardown);
	tcase_add_test(ts, rules_deadband_holds_back_small_changes_until_the_heartbeat);
	tcase_add_test(ts, rules_deadband_in_percent_of_the_last_value);
	tcase_add_test(ts, rules_windows_are_aligned_to_wall_time_and_end_on_the_next_reading);
	tcase_add_test(ts, rules_windows_end_by_the_clock);
	tcase_add_test(ts, rules_a_window_survives_a_restart_mid_window);
	tcase_add_test(ts, rules_state_not_saved_is_gone_after_reload_from_the_buffer);
	tcase_add_test(ts, rules_alerts_raise_once_and_clear_once_with_hysteresis);
	tcase_add_test(ts, rules_alerts_without_clear_when_clear_when_the_condition_ends);
	tcase_add_test(ts, rules_alert_state_survives_a_restart);
	tcase_add_test(ts, rules_reload_keeps_the_state_of_unchanged_rules_only);
	tcase_add_test(ts, rules_window_aggregates_go_through_the_later_rules);
	tcase_add_test(ts, rules_bad_state_rows_are_dropped_and_counted);
	tcase_add_test(ts, rules_track_a_bounded_number_of_series);
	tcase_add_test(ts, rules_an_alert_topic_is_checked_at_load);
	tcase_add_test(ts, rules_values_that_are_not_numbers_are_missing_to_the_stateful_actions);
	tcase_add_test(ts, rules_a_window_ends_when_the_clock_is_set_back);
	suite_add_tcase(s, ts);
	return fg_check_main(s);
}
