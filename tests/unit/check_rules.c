/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The rule engine's stateless actions, on rules loaded from configuration text. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "rules/rules.h"
#include "check-main.h"

static struct fg_config *cfg;
static struct fg_rules *rules;
static struct fg_reading in[4], out[4];

static void load(const char *text)
{
	struct fg_diags diags = { 0 };

	ck_assert_int_eq(fg_config_load_string(text, "rules.conf", &cfg, &diags), 0);
	fg_diags_clear(&diags);
	ck_assert_int_eq(fg_rules_new(cfg, &rules), 0);
}

static void teardown(void)
{
	fg_rules_free(rules);
	rules = NULL;
	fg_config_free(cfg);
	cfg = NULL;
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
	ck_assert_uint_eq(fg_rules_apply(rules, in, 3, out), 2);
	ck_assert_str_eq(out[0].quantity, "humidity");
	ck_assert_str_eq(out[1].quantity, "battery");
	frame(FG_SOURCE_SIM, "sim-1", "sim-1", 21, 50, 80);
	ck_assert_uint_eq(fg_rules_apply(rules, in, 3, out), 3);
	ck_assert_double_eq(out[0].number, 21);
}
END_TEST

START_TEST(rules_set_unit_and_quantity_in_order)
{
	/* The second rule sees what the first made of the reading. */
	load("rules = (\n"
	     " { name = \"f\"; match = \"ble/porch/temperature\"; set = \"value * 9 / 5 + 32\";"
	     " unit = \"Fel\"; },\n"
	     " { name = \"hot\"; match = \"ble/porch/temperature\"; drop_if = \"value > 100\"; },\n"
	     " { name = \"rename\"; match = \"*/battery\"; quantity = \"battery_level\"; } );");
	frame(FG_SOURCE_BLE, "a4c138001122", "porch", 25, 40, 77);
	ck_assert_uint_eq(fg_rules_apply(rules, in, 3, out), 3);
	ck_assert_double_eq(out[0].number, 77);
	ck_assert_str_eq(out[0].unit, "Fel");
	ck_assert_str_eq(out[2].quantity, "battery_level");
	ck_assert_str_eq(out[2].unit, "%EL");
	/* 40 C is 104 F: dropped by the second rule, in Fahrenheit. */
	frame(FG_SOURCE_BLE, "a4c138001122", "porch", 40, 40, 77);
	ck_assert_uint_eq(fg_rules_apply(rules, in, 3, out), 2);
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
	ck_assert_uint_eq(fg_rules_apply(rules, in, 3, out), 1);
	ck_assert_str_eq(out[0].quantity, "temperature");
	/* Another source does not match. */
	frame(FG_SOURCE_SIM, "70b3d57ed0000001", "soil-1", 20, 40, 77);
	ck_assert_uint_eq(fg_rules_apply(rules, in, 3, out), 3);
	fg_rules_get_stats(rules, &st);
	ck_assert_uint_eq(st.evaluated, 6);
	ck_assert_uint_eq(st.dropped, 2);
}
END_TEST

START_TEST(rules_read_the_frames_battery_and_skip_what_they_cannot_evaluate)
{
	struct fg_rules_stats st;
	const char *pending = NULL;

	load("rules = ( { name = \"low\"; match = \"*/temperature\"; drop_if = \"battery < 10\"; },"
	     " { name = \"radio\"; match = \"*/humidity\"; drop_if = \"rssi < -100\"; } );");
	frame(FG_SOURCE_SIM, "s", "s", 20, 40, 5);
	/* battery 5: temperature dropped; no radio: humidity's rule does not apply. */
	ck_assert_uint_eq(fg_rules_apply(rules, in, 3, out), 2);
	ck_assert_str_eq(out[0].quantity, "humidity");
	fg_rules_get_stats(rules, &st);
	ck_assert_uint_eq(st.skipped, 1);
	ck_assert(!fg_rules_pending_actions(rules, &pending));
}
END_TEST

START_TEST(rules_say_which_actions_are_not_applied_yet)
{
	const char *pending = NULL;

	load("rules = ( { name = \"plain\"; match = \"*\"; unit = \"x\"; },"
	     " { name = \"quiet\"; match = \"*/temperature\"; deadband = 0.3; heartbeat = 900; } );");
	ck_assert(fg_rules_pending_actions(rules, &pending));
	ck_assert_str_eq(pending, "quiet");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("stateless");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, rules_drop_by_condition_and_keep_the_rest);
	tcase_add_test(tc, rules_set_unit_and_quantity_in_order);
	tcase_add_test(tc, rules_match_the_device_by_name_or_id);
	tcase_add_test(tc, rules_read_the_frames_battery_and_skip_what_they_cannot_evaluate);
	tcase_add_test(tc, rules_say_which_actions_are_not_applied_yet);
	suite_add_tcase(s, tc);
	return fg_check_main(s);
}
