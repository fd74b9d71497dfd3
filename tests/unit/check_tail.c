/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The outbox tail (store/tail.c) against a model: every row the table would hold. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/tail.h"
#include "check-main.h"

#define ROWS 4096

/* The model: rows by seq, present or not, with their payload size. */
static struct {
	bool present;
	size_t len;
} table[ROWS];
static uint64_t next_seq;

struct got {
	uint64_t seq[512];
	size_t n;
	bool bad;
};

static void fill(char *buf, uint64_t seq, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char) ('a' + (seq + i) % 26);
}

static int collect(const struct fg_outbox_msg *m, void *userdata)
{
	struct got *g = userdata;
	char want[FG_TAIL_BYTES];
	char topic[32];

	snprintf(topic, sizeof(topic), "t/%llu", (unsigned long long) m->seq);
	fill(want, m->seq, m->payload_len);
	if (m->seq >= ROWS || m->payload_len != table[m->seq].len ||
	    memcmp(m->payload, want, m->payload_len) != 0 || strcmp(m->topic, topic) != 0 ||
	    m->created_ms != m->seq * 10 || m->qos != 1 || m->correlation_len != (m->seq % 3 == 0 ? 4 : 0))
		g->bad = true;
	ck_assert_uint_lt(g->n, 512);
	g->seq[g->n++] = m->seq;
	return 0;
}

static void add(struct fg_tail *t, size_t len)
{
	static char payload[FG_TAIL_BYTES];
	char topic[32];
	uint64_t seq = next_seq++;

	ck_assert_uint_lt(seq, ROWS);
	snprintf(topic, sizeof(topic), "t/%llu", (unsigned long long) seq);
	fill(payload, seq, len);
	table[seq].present = true;
	table[seq].len = len;
	fg_tail_add(t, &(struct fg_outbox_msg){ .seq = seq, .topic = topic, .payload = payload,
						.payload_len = len, .qos = 1, .created_ms = seq * 10,
						.correlation = seq % 3 == 0 ? "corr" : NULL,
						.correlation_len = seq % 3 == 0 ? 4 : 0 });
}

static void delete(struct fg_tail *t, uint64_t seq)
{
	if (seq < ROWS && table[seq].present) {
		table[seq].present = false;
		fg_tail_deleted(t, seq, next_seq);
	}
}

static bool acked_odd(const void *ctx, uint64_t seq)
{
	(void) ctx;
	return seq % 7 == 3;
}

/* What the table answers: the first max present rows after after_seq, less the skipped. */
static size_t model_peek(uint64_t after_seq, size_t max, bool skip, uint64_t *out)
{
	size_t n = 0, rows = 0;

	for (uint64_t q = after_seq + 1; q < next_seq && rows < max; q++) {
		if (!table[q].present)
			continue;
		rows++;
		if (skip && acked_odd(NULL, q))
			continue;
		out[n++] = q;
	}
	return n;
}

static void reset_model(void)
{
	memset(table, 0, sizeof(table));
	next_seq = 1;
}

START_TEST(tail_serves_the_newest_rows_as_the_table_would)
{
	struct fg_tail t;
	struct got g = { .n = 0 };

	reset_model();
	fg_tail_init(&t);
	ck_assert_int_eq(fg_tail_peek(&t, 0, 10, NULL, NULL, collect, &g), -1);
	fg_tail_reset(&t, next_seq);
	for (int i = 0; i < 10; i++)
		add(&t, 100);
	ck_assert_int_eq(fg_tail_peek(&t, 3, 100, NULL, NULL, collect, &g), 7);
	ck_assert(!g.bad);
	for (size_t i = 0; i < 7; i++)
		ck_assert_uint_eq(g.seq[i], 4 + i);
	/* the acked oldest go, in order: the tail keeps answering */
	delete(&t, 1);
	delete(&t, 2);
	g.n = 0;
	ck_assert_int_eq(fg_tail_peek(&t, 0, 3, NULL, NULL, collect, &g), 3);
	ck_assert_uint_eq(g.seq[0], 3);
	/* a delete from the middle: it forgets, and says so */
	delete(&t, 6);
	ck_assert_int_eq(fg_tail_peek(&t, 0, 3, NULL, NULL, collect, &g), -1);
	g.n = 0;
	ck_assert_int_eq(fg_tail_peek(&t, 10, 3, NULL, NULL, collect, &g), 0);
	add(&t, 50);
	ck_assert_int_eq(fg_tail_peek(&t, 10, 3, NULL, NULL, collect, &g), 1);
	ck_assert_uint_eq(g.seq[0], 11);
	fg_tail_free(&t);
}
END_TEST

START_TEST(tail_gives_way_to_size_and_count_and_never_answers_wrong)
{
	struct fg_tail t;
	unsigned seed = 12345;
	size_t answered = 0, asked = 0;

	reset_model();
	fg_tail_init(&t);
	fg_tail_reset(&t, next_seq);
	while (next_seq < ROWS - 1) {
		int op = rand_r(&seed) % 100;

		if (op < 55) {
			/* mostly small, sometimes big, now and then too big to keep */
			size_t len = (size_t) rand_r(&seed) % 400;

			if (op % 11 == 0)
				len = (size_t) rand_r(&seed) % (FG_TAIL_BYTES / 3);
			add(&t, len);
		} else if (op < 80) {
			/* acks of the oldest present rows, in order */
			for (uint64_t q = 1, k = (uint64_t) (rand_r(&seed) % 8); q < next_seq && k; q++)
				if (table[q].present) {
					delete(&t, q);
					k--;
				}
		} else if (op < 83) {
			delete(&t, (uint64_t) rand_r(&seed) % next_seq); /* an eviction, a stray */
		} else if (op < 84) {
			fg_tail_reset(&t, next_seq); /* a rollback, an update */
		} else {
			uint64_t want[512];
			struct got g = { .n = 0 };
			uint64_t back = (uint64_t) rand_r(&seed) % 60; /* the publisher peeks near the newest */
			uint64_t after = next_seq - 1 > back ? next_seq - 1 - back : 0;
			size_t max = 1 + (size_t) rand_r(&seed) % 200;
			bool skip = rand_r(&seed) % 2;
			int r = fg_tail_peek(&t, after, max, skip ? acked_odd : NULL, NULL, collect, &g);
			size_t n = model_peek(after, max, skip, want);

			asked++;
			if (r < 0)
				continue;
			answered++;
			ck_assert(!g.bad);
			ck_assert_uint_eq((size_t) r, n);
			ck_assert_uint_eq(g.n, n);
			for (size_t i = 0; i < n; i++)
				ck_assert_uint_eq(g.seq[i], want[i]);
		}
		ck_assert_uint_le(t.n, FG_TAIL_MSGS);
	}
	/* it must have been asked often and have answered a good part of the time */
	ck_assert_uint_gt(asked, 200);
	ck_assert_uint_gt(answered, asked / 4);
	fg_tail_free(&t);
}
END_TEST

static Suite *tail_suite(void)
{
	Suite *s = suite_create("tail");
	TCase *tc = tcase_create("tail");

	tcase_add_test(tc, tail_serves_the_newest_rows_as_the_table_would);
	tcase_add_test(tc, tail_gives_way_to_size_and_count_and_never_answers_wrong);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(tail_suite());
}
