/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <check.h>
#include <string.h>

#include "core/hist.h"
#include "check-main.h"

START_TEST(hist_empty_is_zero)
{
	struct fg_hist h;

	memset(&h, 0, sizeof(h));
	ck_assert_uint_eq(fg_hist_percentile(&h, 500), 0);
	ck_assert_uint_eq(fg_hist_percentile(&h, 990), 0);
}
END_TEST

/* 1..1000 ms uniformly: p50 near 500 ms, p99 near 990 ms, each within one bucket (19%). */
START_TEST(hist_percentiles_within_one_bucket)
{
	struct fg_hist h;
	uint64_t p50, p99, p100;

	memset(&h, 0, sizeof(h));
	for (uint64_t ms = 1; ms <= 1000; ms++)
		fg_hist_add(&h, ms * 1000);
	ck_assert_uint_eq(h.count, 1000);
	p50 = fg_hist_percentile(&h, 500);
	p99 = fg_hist_percentile(&h, 990);
	p100 = fg_hist_percentile(&h, 1000);
	ck_assert_uint_ge(p50, 500000);
	ck_assert_uint_le(p50, 500000 * 120 / 100);
	ck_assert_uint_ge(p99, 990000);
	ck_assert_uint_le(p99, 1000000);
	ck_assert_uint_eq(p100, 1000000);
}
END_TEST

/* One slow sample among many fast ones shows at p100, not at p99. */
START_TEST(hist_tail_is_kept_apart)
{
	struct fg_hist h;

	memset(&h, 0, sizeof(h));
	for (int i = 0; i < 999; i++)
		fg_hist_add(&h, 2000);
	fg_hist_add(&h, 30 * 1000000ULL);
	ck_assert_uint_le(fg_hist_percentile(&h, 990), 2400);
	ck_assert_uint_ge(fg_hist_percentile(&h, 990), 2000);
	ck_assert_uint_eq(fg_hist_percentile(&h, 1000), 30 * 1000000ULL);
	ck_assert_uint_eq(h.max_usec, 30 * 1000000ULL);
}
END_TEST

/* Below the first edge and far beyond the last bucket: counted, never out of range. */
START_TEST(hist_extremes_are_counted)
{
	struct fg_hist h;
	uint64_t sum = 0;

	memset(&h, 0, sizeof(h));
	fg_hist_add(&h, 0);
	fg_hist_add(&h, 99);
	fg_hist_add(&h, UINT64_MAX / 2);
	for (int i = 0; i < FG_HIST_BUCKETS; i++)
		sum += h.bucket[i];
	ck_assert_uint_eq(sum, 3);
	ck_assert_uint_eq(h.bucket[0], 2);
	ck_assert_uint_eq(h.bucket[FG_HIST_BUCKETS - 1], 1);
	ck_assert_uint_le(fg_hist_percentile(&h, 500), 100);
}
END_TEST

/* Every value lands in the bucket whose edges hold it. */
START_TEST(hist_bucket_edges_hold_their_values)
{
	for (uint64_t v = 100; v < 100000000; v = v * 3 / 2 + 1) {
		struct fg_hist h;
		uint64_t p;

		memset(&h, 0, sizeof(h));
		fg_hist_add(&h, v);
		fg_hist_add(&h, v);
		/* the upper edge, capped at the max, is v itself */
		p = fg_hist_percentile(&h, 500);
		ck_assert_uint_eq(p, v);
		h.max_usec = UINT64_MAX;
		p = fg_hist_percentile(&h, 500);
		ck_assert_uint_gt(p, v);
		ck_assert_uint_le(p, v * 120 / 100 + 1);
	}
}
END_TEST

static Suite *hist_suite(void)
{
	Suite *s = suite_create("hist");
	TCase *tc = tcase_create("percentiles");

	tcase_add_test(tc, hist_empty_is_zero);
	tcase_add_test(tc, hist_percentiles_within_one_bucket);
	tcase_add_test(tc, hist_tail_is_kept_apart);
	tcase_add_test(tc, hist_extremes_are_counted);
	tcase_add_test(tc, hist_bucket_edges_hold_their_values);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(hist_suite());
}
