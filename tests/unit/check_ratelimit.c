/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ratelimit.h"
#include "check-main.h"

#define SEC UINT64_C(1000000)

START_TEST(ratelimit_allows_burst_then_suppresses)
{
	struct fg_ratelimit *rl = fg_ratelimit_new(10 * SEC, 3, 16);
	unsigned sup = 99;
	int allowed = 0;

	ck_assert_ptr_nonnull(rl);
	for (int i = 0; i < 10; i++)
		allowed += fg_ratelimit_allow(rl, "lora/dev1", 100 * SEC + (uint64_t)i, &sup);
	ck_assert_int_eq(allowed, 3);
	ck_assert_uint_eq(sup, 0);
	fg_ratelimit_free(rl);
}
END_TEST

START_TEST(ratelimit_reports_suppressed_count_when_window_closes)
{
	struct fg_ratelimit *rl = fg_ratelimit_new(10 * SEC, 2, 16);
	unsigned sup = 0;

	for (int i = 0; i < 7; i++)
		fg_ratelimit_allow(rl, "k", 5 * SEC, &sup);
	/* Still inside the window: nothing to report yet. */
	ck_assert(!fg_ratelimit_allow(rl, "k", 14 * SEC, &sup));
	ck_assert_uint_eq(sup, 0);
	/* The window opened at 5 s closes at 15 s; 6 were suppressed in it. */
	ck_assert(fg_ratelimit_allow(rl, "k", 15 * SEC, &sup));
	ck_assert_uint_eq(sup, 6);
	/* And the count is reported once. */
	ck_assert(fg_ratelimit_allow(rl, "k", 15 * SEC + 1, &sup));
	ck_assert_uint_eq(sup, 0);
	fg_ratelimit_free(rl);
}
END_TEST

START_TEST(ratelimit_keys_are_independent)
{
	struct fg_ratelimit *rl = fg_ratelimit_new(10 * SEC, 1, 16);

	ck_assert(fg_ratelimit_allow(rl, "a", 0, NULL));
	ck_assert(!fg_ratelimit_allow(rl, "a", 1, NULL));
	ck_assert(fg_ratelimit_allow(rl, "b", 2, NULL));
	ck_assert(!fg_ratelimit_allow(rl, "b", 3, NULL));
	ck_assert_uint_eq(fg_ratelimit_size(rl), 2);
	fg_ratelimit_free(rl);
}
END_TEST

START_TEST(ratelimit_table_is_bounded_and_evicts_least_recent)
{
	struct fg_ratelimit *rl = fg_ratelimit_new(10 * SEC, 1, 8);
	char key[32];

	for (unsigned i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "ble/%u", i);
		ck_assert(fg_ratelimit_allow(rl, key, i, NULL));
	}
	ck_assert_uint_eq(fg_ratelimit_size(rl), 8);
	/* The most recent key is still tracked: its second event is suppressed. */
	ck_assert(!fg_ratelimit_allow(rl, "ble/999", 1001, NULL));
	/* The oldest was evicted: it starts afresh. */
	ck_assert(fg_ratelimit_allow(rl, "ble/0", 1002, NULL));
	fg_ratelimit_free(rl);
}
END_TEST

struct reports {
	char keys[8][32];
	unsigned counts[8];
	int n;
};

static void collect(const char *key, unsigned suppressed, void *userdata)
{
	struct reports *r = userdata;

	ck_assert_int_lt(r->n, 8);
	snprintf(r->keys[r->n], sizeof(r->keys[r->n]), "%s", key);
	r->counts[r->n++] = suppressed;
}

START_TEST(ratelimit_flush_reports_closed_windows_only)
{
	struct fg_ratelimit *rl = fg_ratelimit_new(10 * SEC, 1, 16);
	struct reports rep = { .n = 0 };

	for (int i = 0; i < 4; i++)
		fg_ratelimit_allow(rl, "early", 0, NULL);
	for (int i = 0; i < 3; i++)
		fg_ratelimit_allow(rl, "late", 8 * SEC, NULL);
	fg_ratelimit_allow(rl, "quiet", 0, NULL);

	fg_ratelimit_flush(rl, 12 * SEC, collect, &rep);
	ck_assert_int_eq(rep.n, 1);
	ck_assert_str_eq(rep.keys[0], "early");
	ck_assert_uint_eq(rep.counts[0], 3);
	/* Closed windows are forgotten; the open one stays. */
	ck_assert_uint_eq(fg_ratelimit_size(rl), 1);

	fg_ratelimit_flush(rl, 20 * SEC, collect, &rep);
	ck_assert_int_eq(rep.n, 2);
	ck_assert_str_eq(rep.keys[1], "late");
	ck_assert_uint_eq(rep.counts[1], 2);
	ck_assert_uint_eq(fg_ratelimit_size(rl), 0);
	fg_ratelimit_free(rl);
}
END_TEST

START_TEST(ratelimit_refuses_zero_parameters)
{
	ck_assert_ptr_null(fg_ratelimit_new(0, 1, 1));
	ck_assert_ptr_null(fg_ratelimit_new(1, 0, 1));
	ck_assert_ptr_null(fg_ratelimit_new(1, 1, 0));
	fg_ratelimit_free(NULL);
}
END_TEST

static Suite *ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("window");

	tcase_add_test(tc, ratelimit_allows_burst_then_suppresses);
	tcase_add_test(tc, ratelimit_reports_suppressed_count_when_window_closes);
	tcase_add_test(tc, ratelimit_keys_are_independent);
	tcase_add_test(tc, ratelimit_flush_reports_closed_windows_only);
	suite_add_tcase(s, tc);
	tc = tcase_create("bounds");
	tcase_add_test(tc, ratelimit_table_is_bounded_and_evicts_least_recent);
	tcase_add_test(tc, ratelimit_refuses_zero_parameters);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(ratelimit_suite());
}
