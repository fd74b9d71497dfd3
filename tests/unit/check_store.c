/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The SQLite buffer, on real files in a fresh temporary directory per test. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/clock.h"
#include "store/store.h"
#include "check-main.h"
#include "cutvfs.h"

static char dir[256];
static char path[300];
static int transform_calls;
static int transform_result;	 /* 1 keep, 0 drop, <0 fail */
static char transform_seen[256]; /* "q1,q2,...;" per call, in call order */

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/fieldgate-store-XXXXXX", tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/buffer.db", dir);
	transform_calls = 0;
	transform_result = 1;
	transform_seen[0] = '\0';
}

/* Set when a test mounted a tmpfs on dir (teardown unmounts it). */
static bool mounted;

static void teardown(void)
{
	char cmd[400];

	if (mounted)
		(void) umount2(dir, MNT_DETACH);
	mounted = false;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Payload "seq:N n:COUNT device:ID q:FIRST_QUANTITY"; transform_result messages per frame. */
static int transform(struct fg_store *s, const struct fg_reading *r, size_t n, void *userdata)
{
	(void) userdata;
	transform_calls++;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(transform_seen);

		snprintf(transform_seen + len, sizeof(transform_seen) - len, "%s%s", r[i].quantity,
			 i + 1 < n ? "," : ";");
	}
	if (transform_result <= 0)
		return transform_result;
	for (int k = 0; k < transform_result; k++) {
		struct fg_store_msg m = { .qos = 1 };
		char *topic = NULL, *payload = NULL;
		int e;

		fg_store_msg_from_frame(&m, r, n);
		ck_assert_int_ge(asprintf(&topic, "t/%s", r[0].device_id), 0);
		ck_assert_int_ge(asprintf(&payload, "seq:%llu n:%zu device:%s q:%s%s%s",
					  (unsigned long long) fg_store_next_seq(s), n,
					  r[0].device_id, r[0].quantity,
					  r[0].kind == FG_VALUE_STRING ? " text:" : "",
					  r[0].kind == FG_VALUE_STRING ? r[0].text : ""),
				 0);
		m.topic = topic;
		m.payload = payload;
		m.payload_len = strlen(payload);
		e = fg_store_emit(s, &m);
		free(topic);
		free(payload);
		if (e < 0)
			return e;
	}
	return transform_result;
}

static struct fg_buffer_config cfg(void)
{
	return (struct fg_buffer_config){ .path = path,
					  .commit_interval_ms = 100,
					  .commit_batch = 1000,
					  .max_rows = 1000000,
					  .max_bytes = UINT64_C(1) << 30,
					  .max_age_s = 0,
					  .overflow = FG_OVERFLOW_DROP_OLDEST };
}

/* A frame of three readings for device dev with frame id f. */
static void frame(struct fg_reading r[3], const char *dev, uint64_t f)
{
	static const char *const q[3] = { "temperature", "humidity", "battery" };

	for (int i = 0; i < 3; i++) {
		fg_reading_init(&r[i], FG_SOURCE_SIM, dev, dev, q[i], "Cel");
		fg_reading_set_number(&r[i], 20.0 + i);
		r[i].frame_id = f;
		r[i].time_ms = 1700000000000ULL + f;
	}
}

static struct fg_store *open_store(const struct fg_buffer_config *c)
{
	struct fg_store *s = NULL;
	char *moved = NULL;

	ck_assert_int_eq(fg_store_open(c, transform, NULL, &s, &moved), 0);
	ck_assert_ptr_null(moved);
	return s;
}

struct seen {
	uint64_t seq[64];
	char payload[64][128];
	size_t n;
};

static int collect(const struct fg_outbox_msg *m, void *userdata)
{
	struct seen *s = userdata;

	ck_assert_uint_lt(s->n, 64);
	s->seq[s->n] = m->seq;
	snprintf(s->payload[s->n], sizeof(s->payload[0]), "%.*s", (int) m->payload_len,
		 (const char *) m->payload);
	s->n++;
	return 0;
}

static void add_frames(struct fg_store *s, int count, uint64_t first)
{
	struct fg_reading r[3];

	for (int i = 0; i < count; i++) {
		frame(r, i % 2 ? "dev-b" : "dev-a", first + (uint64_t) i);
		ck_assert_int_eq(fg_store_append(s, r, 3), 0);
	}
}

START_TEST(store_sets_schema_version_once)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	sqlite3 *db;
	sqlite3_stmt *st;

	fg_store_close(s);
	s = open_store(&c);
	fg_store_close(s);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 4);
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *) sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
}
END_TEST

START_TEST(store_commit_groups_frames_into_messages_with_consecutive_seqs)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	struct fg_store_stats st;
	struct seen seen = { .n = 0 };

	add_frames(s, 4, 1);
	ck_assert_uint_eq(fg_store_staged(s), 12);
	ck_assert_int_eq(fg_store_commit(s), 4);
	ck_assert_uint_eq(fg_store_staged(s), 0);
	ck_assert_int_eq(transform_calls, 4);
	ck_assert_int_eq(fg_store_peek(s, 0, 10, collect, &seen), 4);
	for (size_t i = 0; i < 4; i++)
		ck_assert_uint_eq(seen.seq[i], i + 1);
	ck_assert_str_eq(seen.payload[0], "seq:1 n:3 device:dev-a q:temperature");
	ck_assert_str_eq(seen.payload[1], "seq:2 n:3 device:dev-b q:temperature");
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.outbox_rows, 4);
	ck_assert_uint_eq(st.readings_committed, 12);
	ck_assert_uint_eq(st.messages_queued, 4);
	ck_assert_uint_eq(st.readings_rows, 0);
	ck_assert_uint_eq(st.oldest_ms, 1700000000001ULL);
	fg_store_close(s);
}
END_TEST

START_TEST(store_peek_is_ordered_and_bounded)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	struct seen seen = { .n = 0 };

	add_frames(s, 10, 1);
	ck_assert_int_eq(fg_store_commit(s), 10);
	ck_assert_int_eq(fg_store_peek(s, 3, 4, collect, &seen), 4);
	ck_assert_uint_eq(seen.seq[0], 4);
	ck_assert_uint_eq(seen.seq[3], 7);
	fg_store_close(s);
}
END_TEST

START_TEST(store_ack_deletes_at_next_commit)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	struct fg_store_stats st;
	struct seen seen = { .n = 0 };

	add_frames(s, 3, 1);
	ck_assert_int_eq(fg_store_commit(s), 3);
	ck_assert_int_eq(fg_store_ack(s, 1), 0);
	ck_assert_int_eq(fg_store_ack(s, 3), 0);
	/* Acked rows are not handed out again, even before the delete. */
	ck_assert_int_eq(fg_store_peek(s, 0, 10, collect, &seen), 1);
	ck_assert_uint_eq(seen.seq[0], 2);
	/* Acks alone wait for a commit with readings (or 1 s, or a flush). */
	ck_assert_int_eq(fg_store_commit(s), 0);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.outbox_rows, 3);
	ck_assert_uint_eq(st.commits, 1);
	ck_assert_int_eq(fg_store_flush(s), 0);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.outbox_rows, 1);
	ck_assert_uint_eq(st.messages_acked, 2);
	ck_assert_uint_eq(st.commits, 2);
	fg_store_close(s);
	s = open_store(&c);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.outbox_rows, 1);
	fg_store_close(s);
}
END_TEST

START_TEST(store_never_reuses_a_sequence_number)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	struct seen seen = { .n = 0 };

	add_frames(s, 2, 1);
	ck_assert_int_eq(fg_store_commit(s), 2);
	fg_store_ack(s, 1);
	fg_store_ack(s, 2);
	ck_assert_int_eq(fg_store_flush(s), 0);
	fg_store_close(s);
	s = open_store(&c);
	add_frames(s, 1, 10);
	ck_assert_int_eq(fg_store_commit(s), 1);
	ck_assert_int_eq(fg_store_peek(s, 0, 10, collect, &seen), 1);
	ck_assert_uint_eq(seen.seq[0], 3);
	fg_store_close(s);
}
END_TEST

/* The meta row as written on disk (another connection, read-only). */
static int64_t disk_meta_next_seq(void)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'next_seq'", -1,
					    &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/*
 * In steady flow a commit adds newer messages than it deletes: the counter
 * row is not rewritten (one WAL page less per commit), and a reopened store
 * still goes on after the newest message in the outbox.
 */
START_TEST(store_sequence_counter_is_written_only_when_the_outbox_loses_its_newest)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	struct seen seen = { .n = 0 };

	add_frames(s, 3, 1);
	ck_assert_int_eq(fg_store_commit(s), 3);
	ck_assert_int_eq(fg_store_ack(s, 1), 0);
	add_frames(s, 2, 10);
	ck_assert_int_eq(fg_store_commit(s), 2); /* seq 4, 5 in; ack of 1 rides along */
	ck_assert_int_eq(disk_meta_next_seq(), 1);
	fg_store_close(s); /* no ack of 5 waiting: the outbox still shows it */
	ck_assert_int_eq(disk_meta_next_seq(), 1);
	s = open_store(&c);
	add_frames(s, 1, 20);
	ck_assert_int_eq(fg_store_commit(s), 1);
	ck_assert_int_eq(fg_store_peek(s, 4, 10, collect, &seen), 2);
	ck_assert_uint_eq(seen.seq[0], 5);
	ck_assert_uint_eq(seen.seq[1], 6);
	/* The newest (6) acked: now the counter must be written, or 6 would come back. */
	for (uint64_t q = 2; q <= 6; q++)
		ck_assert_int_eq(fg_store_ack(s, q), 0);
	ck_assert_int_eq(fg_store_flush(s), 0);
	ck_assert_int_eq(disk_meta_next_seq(), 7);
	fg_store_close(s);
	s = open_store(&c);
	add_frames(s, 1, 30);
	ck_assert_int_eq(fg_store_commit(s), 1);
	seen.n = 0;
	ck_assert_int_eq(fg_store_peek(s, 0, 10, collect, &seen), 1);
	ck_assert_uint_eq(seen.seq[0], 7);
	fg_store_close(s);
}
END_TEST

/* Acks out of order are still skipped by peek until their delete is written. */
START_TEST(store_peek_skips_unordered_pending_acks)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	struct seen seen = { .n = 0 };

	add_frames(s, 6, 1);
	ck_assert_int_eq(fg_store_commit(s), 6);
	ck_assert_int_eq(fg_store_ack(s, 5), 0);
	ck_assert_int_eq(fg_store_ack(s, 2), 0);
	ck_assert_int_eq(fg_store_ack(s, 3), 0);
	ck_assert_int_eq(fg_store_peek(s, 0, 10, collect, &seen), 3);
	ck_assert_uint_eq(seen.seq[0], 1);
	ck_assert_uint_eq(seen.seq[1], 4);
	ck_assert_uint_eq(seen.seq[2], 6);
	ck_assert_int_eq(fg_store_flush(s), 0);
	seen.n = 0;
	ck_assert_int_eq(fg_store_ack(s, 4), 0);
	ck_assert_int_eq(fg_store_ack(s, 6), 0);
	ck_assert_int_eq(fg_store_peek(s, 0, 10, collect, &seen), 1);
	ck_assert_uint_eq(seen.seq[0], 1);
	fg_store_close(s);
}
END_TEST

START_TEST(store_deletes_exactly_the_acked_runs_in_any_order)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	struct seen seen = { .n = 0 };
	struct fg_store_stats st;
	/* runs 2-4 and 7-9 and the lone 12, out of order, one ack twice */
	static const uint64_t acks[] = { 8, 2, 3, 12, 9, 4, 7, 3 };

	add_frames(s, 12, 1);
	ck_assert_int_eq(fg_store_commit(s), 12);
	for (size_t i = 0; i < sizeof(acks) / sizeof(acks[0]); i++)
		ck_assert_int_eq(fg_store_ack(s, acks[i]), 0);
	ck_assert_int_eq(fg_store_flush(s), 0);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.messages_acked, 7);
	ck_assert_uint_eq(st.outbox_rows, 5);
	ck_assert_int_eq(fg_store_peek(s, 0, 20, collect, &seen), 5);
	ck_assert_uint_eq(seen.seq[0], 1);
	ck_assert_uint_eq(seen.seq[1], 5);
	ck_assert_uint_eq(seen.seq[2], 6);
	ck_assert_uint_eq(seen.seq[3], 10);
	ck_assert_uint_eq(seen.seq[4], 11);
	fg_store_close(s);
}
END_TEST

/* The seqs and payloads of the first max outbox rows after after_seq, read by a second connection. */
static size_t table_peek(uint64_t after_seq, int max, struct seen *out)
{
	sqlite3 *db;
	sqlite3_stmt *st;

	out->n = 0;
	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT seq, payload FROM outbox WHERE seq > ? "
						"ORDER BY seq LIMIT ?", -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(st, 1, (sqlite3_int64) after_seq);
	sqlite3_bind_int(st, 2, max);
	while (sqlite3_step(st) == SQLITE_ROW) {
		out->seq[out->n] = (uint64_t) sqlite3_column_int64(st, 0);
		snprintf(out->payload[out->n], sizeof(out->payload[0]), "%.*s",
			 sqlite3_column_bytes(st, 1), (const char *) sqlite3_column_blob(st, 1));
		out->n++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out->n;
}

/*
 * Peek answers from the in-memory tail after a commit; whatever happened to
 * the rows (acks in and out of order, evictions by max_rows, a failed commit
 * rolled back, a reopen), it answers what the table holds.
 */
START_TEST(store_peek_answers_what_the_table_holds_through_acks_evictions_and_rollbacks)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s;
	unsigned seed = 7;
	uint64_t frame_id = 1;

	c.max_rows = 40;
	s = open_store(&c);
	for (int round = 0; round < 300; round++) {
		int op = rand_r(&seed) % 10;

		if (op < 5) {
			int n = 1 + rand_r(&seed) % 12;

			transform_result = rand_r(&seed) % 15 == 0 ? -EIO : 1;
			add_frames(s, n, frame_id);
			frame_id += (uint64_t) n;
			(void) fg_store_commit(s);
			transform_result = 1;
			if (fg_store_staged(s))
				ck_assert_int_ge(fg_store_commit(s), 0);
		} else if (op < 8) {
			struct seen rows;
			int k = rand_r(&seed) % 10;

			table_peek(0, 60, &rows);
			for (size_t i = 0; i < rows.n && k > 0; i++, k--)
				if (rand_r(&seed) % 6) /* now and then one is left unacked */
					ck_assert_int_eq(fg_store_ack(s, rows.seq[i]), 0);
			ck_assert_int_eq(fg_store_flush(s), 0);
		} else if (op == 8 && round % 50 == 8) {
			fg_store_close(s);
			s = open_store(&c);
		} else {
			struct seen got = { .n = 0 }, want;
			uint64_t next = fg_store_next_seq(s);
			uint64_t after = next - 1 - (uint64_t) (rand_r(&seed) % 50 % (int) next);
			int max = 1 + rand_r(&seed) % 60;

			ck_assert_int_eq(fg_store_flush(s), 0); /* no acks pending: both see the same */
			table_peek(after, max, &want);
			ck_assert_int_eq(fg_store_peek(s, after, (size_t) max, collect, &got),
					 (int) want.n);
			for (size_t i = 0; i < want.n; i++) {
				ck_assert_uint_eq(got.seq[i], want.seq[i]);
				ck_assert_str_eq(got.payload[i], want.payload[i]);
			}
		}
	}
	fg_store_close(s);
}
END_TEST

START_TEST(store_keeps_staged_readings_when_transform_fails)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	struct fg_store_stats st;

	add_frames(s, 2, 1);
	transform_result = -EIO;
	ck_assert_int_eq(fg_store_commit(s), -EIO);
	ck_assert_uint_eq(fg_store_staged(s), 6);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.outbox_rows, 0);
	transform_result = 1;
	ck_assert_int_eq(fg_store_commit(s), 2);
	ck_assert_uint_eq(fg_store_staged(s), 0);
	fg_store_close(s);
}
END_TEST

START_TEST(store_transform_can_drop_a_frame_without_spending_a_seq)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	struct seen seen = { .n = 0 };

	add_frames(s, 2, 1);
	transform_result = 0;
	ck_assert_int_eq(fg_store_commit(s), 0);
	ck_assert_int_eq(transform_calls, 2);
	ck_assert_uint_eq(fg_store_staged(s), 0);
	transform_result = 1;
	add_frames(s, 1, 5);
	ck_assert_int_eq(fg_store_commit(s), 1);
	ck_assert_int_eq(fg_store_peek(s, 0, 10, collect, &seen), 1);
	ck_assert_uint_eq(seen.seq[0], 1);
	fg_store_close(s);
}
END_TEST

START_TEST(store_append_is_capped_by_commit_batch)
{
	struct fg_buffer_config c = cfg();
	struct fg_reading r[3];
	struct fg_store *s;

	c.commit_batch = 5;
	s = open_store(&c);
	frame(r, "d", 1);
	ck_assert_int_eq(fg_store_append(s, r, 3), 0);
	ck_assert_int_eq(fg_store_append(s, r, 3), -ENOBUFS);
	ck_assert_uint_eq(fg_store_staged(s), 3);
	fg_store_close(s);
}
END_TEST

START_TEST(store_max_rows_drop_oldest_evicts_exactly_the_oldest)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s;
	struct fg_store_stats st;
	struct seen seen = { .n = 0 };

	c.max_rows = 5;
	s = open_store(&c);
	add_frames(s, 8, 1);
	ck_assert_int_eq(fg_store_commit(s), 8);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.outbox_rows, 5);
	ck_assert_uint_eq(st.evicted, 3);
	ck_assert_int_eq(fg_store_peek(s, 0, 10, collect, &seen), 5);
	ck_assert_uint_eq(seen.seq[0], 4);
	ck_assert_uint_eq(seen.seq[4], 8);
	fg_store_close(s);
}
END_TEST

START_TEST(store_max_rows_drop_newest_refuses_new_readings)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s;
	struct fg_store_stats st;
	struct seen seen = { .n = 0 };

	c.max_rows = 3;
	c.overflow = FG_OVERFLOW_DROP_NEWEST;
	s = open_store(&c);
	add_frames(s, 3, 1);
	ck_assert_int_eq(fg_store_commit(s), 3);
	add_frames(s, 2, 10);
	ck_assert_int_eq(fg_store_commit(s), 0);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.outbox_rows, 3);
	ck_assert_uint_eq(st.evicted, 6); /* the six readings of the two refused frames */
	ck_assert_int_eq(fg_store_peek(s, 0, 10, collect, &seen), 3);
	ck_assert_uint_eq(seen.seq[2], 3);
	fg_store_close(s);
}
END_TEST

START_TEST(store_max_age_evicts_old_messages)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s;
	struct fg_store_stats st;

	c.max_age_s = 3600; /* the test frames are from 2023 */
	s = open_store(&c);
	add_frames(s, 4, 1);
	ck_assert_int_eq(fg_store_commit(s), 4);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.outbox_rows, 0);
	ck_assert_uint_eq(st.evicted, 4);
	fg_store_close(s);
}
END_TEST

/* Whether name ends in ".corrupt-YYYYmmddTHHMMSSZ". */
static bool name_is_timestamped(const char *name)
{
	const char *p = strstr(name, ".corrupt-");
	static const char shape[] = "DDDDDDDDTDDDDDDZ";

	if (!p)
		return false;
	p += strlen(".corrupt-");
	if (strlen(p) != strlen(shape))
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'D' ? (p[i] < '0' || p[i] > '9') : p[i] != shape[i])
			return false;
	return true;
}

START_TEST(store_moves_garbage_file_aside_and_starts_fresh)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = NULL;
	struct fg_store_stats st;
	char *moved = NULL;
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 200; i++)
		fputs("this is not a database at all ", f);
	fclose(f);
	ck_assert_int_eq(fg_store_open(&c, transform, NULL, &s, &moved), 0);
	ck_assert_ptr_nonnull(moved);
	ck_assert_ptr_nonnull(strstr(moved, "/buffer.db.corrupt-"));
	ck_assert_int_eq(access(moved, F_OK), 0);
	ck_assert(name_is_timestamped(moved));
	fg_store_get_stats(s, &st);
	ck_assert(st.recovered_corrupt);
	add_frames(s, 1, 1);
	ck_assert_int_eq(fg_store_commit(s), 1);
	free(moved);
	fg_store_close(s);
}
END_TEST

START_TEST(store_moves_database_with_corrupt_pages_aside)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	struct fg_store_stats st;
	char junk[4096], *moved = NULL;
	int fd;

	add_frames(s, 200, 1);
	ck_assert_int_eq(fg_store_commit(s), 200);
	fg_store_close(s);
	memset(junk, 0xa5, sizeof(junk));
	fd = open(path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, junk, sizeof(junk), 4096), (ssize_t) sizeof(junk));
	ck_assert_int_eq(pwrite(fd, junk, sizeof(junk), 8192), (ssize_t) sizeof(junk));
	close(fd);
	ck_assert_int_eq(fg_store_open(&c, transform, NULL, &s, &moved), 0);
	ck_assert_ptr_nonnull(moved);
	ck_assert(name_is_timestamped(moved));
	ck_assert_int_eq(access(moved, F_OK), 0);
	fg_store_get_stats(s, &st);
	ck_assert(st.recovered_corrupt);
	ck_assert_uint_eq(st.outbox_rows, 0);
	add_frames(s, 1, 1);
	ck_assert_int_eq(fg_store_commit(s), 1);
	free(moved);
	fg_store_close(s);
}
END_TEST

START_TEST(store_committed_readings_survive_a_crash)
{
	struct fg_buffer_config c = cfg();
	struct fg_store_stats st;
	struct fg_store *s;
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		s = open_store(&c);
		add_frames(s, 5, 1);
		if (fg_store_commit(s) != 5)
			_exit(1);
		add_frames(s, 5, 100); /* staged, never committed: lost with the process */
		_exit(0);	       /* no close, no checkpoint */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	s = open_store(&c);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.outbox_rows, 5);
	fg_store_close(s);
}
END_TEST

START_TEST(store_device_state_reads_own_writes_and_persists)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	int64_t v = 0;

	ck_assert_int_eq(fg_store_device_state_get(s, "26011f2a", "fcnt_up", &v), -ENOENT);
	ck_assert_int_eq(fg_store_device_state_set(s, "26011f2a", "fcnt_up", 41), 0);
	ck_assert_int_eq(fg_store_device_state_set(s, "26011f2a", "fcnt_up", 42), 0);
	ck_assert_int_eq(fg_store_device_state_get(s, "26011f2a", "fcnt_up", &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(fg_store_commit(s), 0);
	fg_store_close(s);
	s = open_store(&c);
	v = 0;
	ck_assert_int_eq(fg_store_device_state_get(s, "26011f2a", "fcnt_up", &v), 0);
	ck_assert_int_eq(v, 42);
	fg_store_close(s);
}
END_TEST

START_TEST(store_copies_text_values)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	struct seen seen = { .n = 0 };
	struct fg_reading r;
	char text[16] = "hello";

	fg_reading_init(&r, FG_SOURCE_BLE, "aa", "aa", "note", "");
	fg_reading_set_text(&r, text);
	ck_assert_int_eq(fg_store_append(s, &r, 1), 0);
	strcpy(text, "XXXXX");
	ck_assert_int_eq(fg_store_commit(s), 1);
	ck_assert_int_eq(fg_store_peek(s, 0, 10, collect, &seen), 1);
	ck_assert_str_eq(seen.payload[0], "seq:1 n:1 device:aa q:note text:hello");
	fg_store_close(s);
}
END_TEST

START_TEST(store_open_fails_cleanly_without_directory)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = NULL;

	snprintf(path, sizeof(path), "%s/missing/buffer.db", dir);
	ck_assert_int_eq(fg_store_open(&c, transform, NULL, &s, NULL), -ENOENT);
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(store_transform_sees_frame_readings_in_arrival_order)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	struct fg_reading r[3];

	frame(r, "dev-a", 7);
	ck_assert_int_eq(fg_store_append(s, r, 3), 0);
	frame(r, "dev-a", 8);
	ck_assert_int_eq(fg_store_append(s, &r[2], 1), 0);
	ck_assert_int_eq(fg_store_append(s, r, 2), 0);
	ck_assert_int_eq(fg_store_commit(s), 2);
	ck_assert_str_eq(transform_seen,
			 "temperature,humidity,battery;battery,temperature,humidity;");
	fg_store_close(s);
}
END_TEST

START_TEST(store_transforms_readings_left_in_the_table_at_next_commit)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = NULL;
	struct fg_store_stats st;
	struct seen seen = { .n = 0 };

	/* A store without a transform keeps committed readings in the readings table. */
	ck_assert_int_eq(fg_store_open(&c, NULL, NULL, &s, NULL), 0);
	add_frames(s, 2, 1);
	ck_assert_int_eq(fg_store_commit(s), 0);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.readings_rows, 6);
	ck_assert_uint_eq(st.outbox_rows, 0);
	fg_store_close(s);
	s = open_store(&c);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.readings_rows, 6);
	add_frames(s, 1, 9);
	ck_assert_int_eq(fg_store_commit(s), 3);
	ck_assert_int_eq(fg_store_peek(s, 0, 10, collect, &seen), 3);
	ck_assert_str_eq(seen.payload[0], "seq:1 n:3 device:dev-a q:temperature");
	ck_assert_str_eq(seen.payload[1], "seq:2 n:3 device:dev-b q:temperature");
	ck_assert_str_eq(seen.payload[2], "seq:3 n:3 device:dev-a q:temperature");
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.readings_rows, 0);
	fg_store_close(s);
}
END_TEST

START_TEST(store_counts_in_stats)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	struct fg_store_stats st;

	add_frames(s, 3, 1);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.readings_appended, 9);
	ck_assert_uint_eq(st.readings_committed, 0);
	ck_assert_int_eq(fg_store_commit(s), 3);
	ck_assert_int_eq(fg_store_ack(s, 2), 0);
	ck_assert_int_eq(fg_store_flush(s), 0);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.readings_appended, 9);
	ck_assert_uint_eq(st.readings_committed, 9);
	ck_assert_uint_eq(st.messages_queued, 3);
	ck_assert_uint_eq(st.messages_acked, 1);
	ck_assert_uint_eq(st.evicted, 0);
	ck_assert_uint_eq(st.evict_episodes, 0);
	ck_assert_uint_eq(st.commits, 2);
	ck_assert_uint_eq(st.outbox_rows, 2);
	ck_assert_uint_eq(st.readings_rows, 0);
	ck_assert_uint_eq(st.oldest_ms, 1700000000001ULL);
	ck_assert_uint_gt(st.db_bytes, 0);
	ck_assert(!st.recovered_corrupt);
	ck_assert_str_eq(fg_store_last_error(s), "");
	fg_store_close(s);
}
END_TEST

START_TEST(store_outbox_rows_record_device_and_size)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	sqlite3 *db;
	sqlite3_stmt *st;

	add_frames(s, 2, 1);
	ck_assert_int_eq(fg_store_commit(s), 2);
	fg_store_close(s);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db,
					    "SELECT seq, topic, device, bytes, length(payload) "
					    "FROM outbox ORDER BY seq",
					    -1, &st, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 1);
	ck_assert_str_eq((const char *) sqlite3_column_text(st, 1), "t/dev-a");
	ck_assert_str_eq((const char *) sqlite3_column_text(st, 2), "dev-a");
	ck_assert_int_eq(sqlite3_column_int(st, 3), sqlite3_column_int(st, 4));
	ck_assert_int_eq(sqlite3_column_int(st, 3),
			 (int) strlen("seq:1 n:3 device:dev-a q:temperature"));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *) sqlite3_column_text(st, 2), "dev-b");
	ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}
END_TEST

START_TEST(store_eviction_episode_begins_once_and_ends_on_a_clean_commit)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s;
	struct fg_store_stats st;

	c.max_rows = 2;
	s = open_store(&c);
	ck_assert(!fg_store_evicting(s));
	add_frames(s, 3, 1);
	ck_assert_int_eq(fg_store_commit(s), 3); /* seq 1 evicted */
	ck_assert(fg_store_evicting(s));
	add_frames(s, 1, 10);
	ck_assert_int_eq(fg_store_commit(s), 1); /* seq 2 evicted, same episode */
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.evicted, 2);
	ck_assert_uint_eq(st.evict_episodes, 1);
	ck_assert_int_eq(fg_store_ack(s, 3), 0);
	ck_assert_int_eq(fg_store_flush(s), 0); /* writes, evicts nothing: episode over */
	ck_assert(!fg_store_evicting(s));
	add_frames(s, 2, 20);
	ck_assert_int_eq(fg_store_commit(s), 2); /* seq 4 evicted: a new episode */
	ck_assert(fg_store_evicting(s));
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.evicted, 3);
	ck_assert_uint_eq(st.evict_episodes, 2);
	ck_assert_uint_eq(st.outbox_rows, 2);
	fg_store_close(s);
}
END_TEST

START_TEST(store_max_bytes_drop_oldest_gets_under_the_bound)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s;
	struct fg_store_stats st;
	struct seen seen = { .n = 0 };
	struct fg_reading r;
	char text[2000];

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	c.max_bytes = 256 * 1024;
	s = open_store(&c);
	for (uint64_t i = 1; i <= 400; i++) {
		fg_reading_init(&r, FG_SOURCE_BLE, "aa", "aa", "note", "");
		fg_reading_set_text(&r, text);
		r.frame_id = i;
		ck_assert_int_eq(fg_store_append(s, &r, 1), 0);
		if (i % 50 == 0)
			ck_assert_int_eq(fg_store_commit(s), 50);
	}
	fg_store_get_stats(s, &st);
	ck_assert_uint_le(st.db_bytes, c.max_bytes);
	ck_assert_uint_gt(st.evicted, 0);
	ck_assert_uint_eq(st.outbox_rows + st.evicted, 400);
	/* What remains is the newest rows, contiguous up to the last seq. */
	ck_assert_int_eq(fg_store_peek(s, 0, 1, collect, &seen), 1);
	ck_assert_uint_eq(seen.seq[0], st.evicted + 1);
	fg_store_close(s);
}
END_TEST

/* Make every new connection's database "full" at 96 pages, as a full disk would. */
static int cap_pages(sqlite3 *db, const char **err, const struct sqlite3_api_routines *api)
{
	(void) err;
	(void) api;
	return sqlite3_exec(db, "PRAGMA max_page_count = 96", NULL, NULL, NULL);
}

/* Commit `rounds` batches of five 2 KiB readings. */
static void fill_past_full(struct fg_store *s, int rounds)
{
	struct fg_reading r;
	static char text[2000];

	memset(text, 'x', sizeof(text) - 1);
	for (int i = 0; i < rounds; i++) {
		for (int k = 0; k < 5; k++) {
			fg_reading_init(&r, FG_SOURCE_BLE, "aa", "aa", "note", "");
			fg_reading_set_text(&r, text);
			r.frame_id = (uint64_t) (i * 5 + k);
			ck_assert_int_eq(fg_store_append(s, &r, 1), 0);
		}
		ck_assert_int_ge(fg_store_commit(s), 0);
	}
}

/* Stage five 2 KiB readings (frames round*5..round*5+4) without committing. */
static void fill_past_full_once(struct fg_store *s, int round)
{
	struct fg_reading r;
	static char text[2000];

	memset(text, 'x', sizeof(text) - 1);
	for (int k = 0; k < 5; k++) {
		fg_reading_init(&r, FG_SOURCE_BLE, "aa", "aa", "note", "");
		fg_reading_set_text(&r, text);
		r.frame_id = (uint64_t) (round * 5 + k);
		ck_assert_int_eq(fg_store_append(s, &r, 1), 0);
	}
}

START_TEST(store_full_disk_drop_oldest_evicts_and_keeps_the_new)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s;
	struct fg_store_stats st;
	struct seen seen = { .n = 0 };

	ck_assert_int_eq(sqlite3_auto_extension((void (*)(void)) cap_pages), SQLITE_OK);
	s = open_store(&c);
	fill_past_full(s, 40);
	ck_assert_str_eq(
		fg_store_last_error(s),
		"database or disk is full"); /* 200 messages of 2 KiB do not fit in 96 KiB */
	fg_store_get_stats(s, &st);
	ck_assert_uint_gt(st.evicted, 0);
	ck_assert_uint_eq(st.messages_queued, 200);
	ck_assert_uint_eq(st.outbox_rows + st.evicted, 200);
	ck_assert_uint_eq(fg_store_staged(s), 0);
	/* The newest message is there; what went was the oldest. */
	ck_assert_int_eq(fg_store_peek(s, 199, 10, collect, &seen), 1);
	ck_assert_uint_eq(seen.seq[0], 200);
	seen.n = 0;
	ck_assert_int_eq(fg_store_peek(s, 0, 1, collect, &seen), 1);
	ck_assert_uint_eq(seen.seq[0], st.evicted + 1);
	fg_store_close(s);
	sqlite3_cancel_auto_extension((void (*)(void)) cap_pages);
}
END_TEST

START_TEST(store_full_disk_drop_newest_refuses_the_staged)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s;
	struct fg_store_stats st;
	struct seen seen = { .n = 0 };

	c.overflow = FG_OVERFLOW_DROP_NEWEST;
	ck_assert_int_eq(sqlite3_auto_extension((void (*)(void)) cap_pages), SQLITE_OK);
	s = open_store(&c);
	fill_past_full(s, 40);
	ck_assert_str_eq(fg_store_last_error(s), "database or disk is full");
	fg_store_get_stats(s, &st);
	ck_assert_uint_gt(st.evicted, 0);
	ck_assert_uint_eq(st.evicted % 5, 0); /* whole commits refused */
	ck_assert_uint_eq(st.outbox_rows + st.evicted, 200);
	ck_assert_uint_eq(st.messages_queued, st.outbox_rows);
	/* The oldest messages stay, seqs without gaps. */
	ck_assert_int_eq(fg_store_peek(s, 0, 1, collect, &seen), 1);
	ck_assert_uint_eq(seen.seq[0], 1);
	fg_store_close(s);
	sqlite3_cancel_auto_extension((void (*)(void)) cap_pages);
}
END_TEST

/* Stamp callback: "T<time_ms> " before the old payload; counts its calls. */
static int stamp_calls;

static int stamp(const void *payload, size_t len, uint64_t time_ms, char **ret, size_t *ret_len,
		 void *userdata)
{
	(void) userdata;
	stamp_calls++;
	ck_assert_int_ge(asprintf(ret, "T%llu %.*s", (unsigned long long) time_ms, (int) len,
				  (const char *) payload),
			 0);
	*ret_len = strlen(*ret);
	return 0;
}

/* A frame for dev made at monotonic `mono` in boot `boot`, with no wall time. */
static void undated_frame(struct fg_reading r[3], const char *dev, uint64_t f, uint64_t mono,
			  const char *boot)
{
	frame(r, dev, f);
	for (int i = 0; i < 3; i++) {
		r[i].time_ms = 0;
		r[i].mono_usec = mono;
		snprintf(r[i].boot_id, sizeof(r[i].boot_id), "%s", boot);
	}
}

START_TEST(store_stamps_this_boots_undated_messages_once_the_clock_is_known)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	const char *boot = fg_clock_boot_id();
	uint64_t now = 100 * FG_USEC_PER_SEC, wall = UINT64_C(1800000000000);
	struct fg_store_stats st;
	struct fg_reading r[3];
	struct seen seen = { 0 };

	ck_assert_uint_eq(strlen(boot), 32);
	undated_frame(r, "dev-a", 1, now - 5 * FG_USEC_PER_SEC, boot);
	ck_assert_int_eq(fg_store_append(s, r, 3), 0);
	frame(r, "dev-b", 2); /* dated */
	snprintf(r[0].boot_id, sizeof(r[0].boot_id), "%s", boot);
	ck_assert_int_eq(fg_store_append(s, r, 3), 0);
	/* Another boot's monotonic stamp dates nothing. */
	undated_frame(r, "dev-c", 3, now - FG_USEC_PER_SEC, "0123456789abcdef0123456789abcdef");
	ck_assert_int_eq(fg_store_append(s, r, 3), 0);
	ck_assert_int_eq(fg_store_commit(s), 3);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.oldest_ms, 0);

	stamp_calls = 0;
	ck_assert_int_eq(fg_store_stamp_times(s, wall, now, stamp, NULL), 1);
	ck_assert_int_eq(stamp_calls, 1);
	ck_assert_int_eq(fg_store_stamp_times(s, wall, now, stamp, NULL), 0);
	ck_assert_int_eq(stamp_calls, 1);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.stamped, 1);
	ck_assert_uint_eq(st.oldest_ms, wall - 5000);

	ck_assert_int_eq(fg_store_peek(s, 0, 10, collect, &seen), 3);
	ck_assert_str_eq(seen.payload[0], "T1799999995000 seq:1 n:3 device:dev-a q:temperature");
	ck_assert_str_eq(seen.payload[1], "seq:2 n:3 device:dev-b q:temperature");
	ck_assert_str_eq(seen.payload[2], "seq:3 n:3 device:dev-c q:temperature");
	fg_store_close(s);

	/* Nothing of this boot is left undated: a new run finds nothing to do. */
	s = open_store(&c);
	ck_assert_int_eq(fg_store_stamp_times(s, wall, now, stamp, NULL), 0);
	ck_assert_int_eq(stamp_calls, 1);
	fg_store_close(s);
}
END_TEST

START_TEST(store_stamps_in_batches_and_finds_undated_messages_left_by_an_earlier_run)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	const char *boot = fg_clock_boot_id();
	uint64_t now = 1000 * FG_USEC_PER_SEC;
	struct fg_reading r[3];

	for (uint64_t f = 1; f <= 300; f++) {
		undated_frame(r, "dev-a", f, now - f * FG_USEC_PER_MSEC, boot);
		ck_assert_int_eq(fg_store_append(s, r, 3), 0);
	}
	ck_assert_int_eq(fg_store_commit(s), 300);
	fg_store_close(s);

	s = open_store(&c);
	stamp_calls = 0;
	ck_assert_int_eq(fg_store_stamp_times(s, UINT64_C(1800000000000), now, stamp, NULL), 256);
	ck_assert_int_eq(fg_store_stamp_times(s, UINT64_C(1800000000000), now, stamp, NULL), 44);
	ck_assert_int_eq(fg_store_stamp_times(s, UINT64_C(1800000000000), now, stamp, NULL), 0);
	ck_assert_int_eq(stamp_calls, 300);
	fg_store_close(s);
}
END_TEST

/* The last message's monotonic stamp as peek hands it to the sink. */
static int last_mono(const struct fg_outbox_msg *m, void *userdata)
{
	*(uint64_t *) userdata = m->created_mono_usec;
	return 0;
}

START_TEST(store_migrates_a_version_1_buffer_keeping_its_messages)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	struct fg_reading r[3];
	uint64_t mono = 1;
	sqlite3 *db;

	frame(r, "dev-a", 1);
	r[0].mono_usec = 42;
	ck_assert_int_eq(fg_store_append(s, r, 3), 0);
	ck_assert_int_eq(fg_store_commit(s), 1);
	fg_store_close(s);
	/* Back to what version 1 wrote. */
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db,
				      "DROP INDEX outbox_unstamped; ALTER TABLE outbox DROP COLUMN "
				      "boot; DROP TABLE state; ALTER TABLE outbox DROP COLUMN "
				      "correlation; DROP TABLE command; PRAGMA user_version = 1;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);

	s = open_store(&c);
	ck_assert_int_eq(fg_store_peek(s, 0, 10, last_mono, &mono), 1);
	/* The boot it was made in is unknown: its monotonic stamp is not used. */
	ck_assert_uint_eq(mono, 0);
	fg_store_close(s);
}
END_TEST

START_TEST(store_a_frame_may_make_several_messages)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	struct seen seen = { .n = 0 };

	transform_result = 2;
	add_frames(s, 2, 1);
	ck_assert_int_eq(fg_store_commit(s), 4);
	ck_assert_int_eq(fg_store_peek(s, 0, 10, collect, &seen), 4);
	/* Each message carries its own sequence number, no gaps. */
	ck_assert_str_eq(seen.payload[0], "seq:1 n:3 device:dev-a q:temperature");
	ck_assert_str_eq(seen.payload[1], "seq:2 n:3 device:dev-a q:temperature");
	ck_assert_str_eq(seen.payload[2], "seq:3 n:3 device:dev-b q:temperature");
	ck_assert_str_eq(seen.payload[3], "seq:4 n:3 device:dev-b q:temperature");
	fg_store_close(s);
}
END_TEST

static int hook_result, rolled_back_calls;

/* The end hook: one message of its own and a state row, in the commit's transaction. */
static int end_hook(struct fg_store *s, void *userdata)
{
	struct fg_store_msg m = { .topic = "t/end", .payload = "end", .payload_len = 3, .qos = 1 };
	int e;

	(void) userdata;
	e = fg_store_state_put(s, "rule:x", "k", "v1", 2);
	if (e >= 0)
		e = fg_store_emit(s, &m);
	return e < 0 ? e : hook_result;
}

static void rolled_back_hook(void *userdata)
{
	(void) userdata;
	rolled_back_calls++;
}

static int count_state(const char *owner, const char *key, const void *blob, size_t len,
		       void *userdata)
{
	ck_assert_str_eq(owner, "rule:x");
	ck_assert_str_eq(key, "k");
	ck_assert_mem_eq(blob, "v1", len);
	(*(int *) userdata)++;
	return 0;
}

START_TEST(store_the_end_hook_emits_and_keeps_state_in_the_commit)
{
	static const struct fg_store_hooks hooks = { end_hook, rolled_back_hook };
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	struct fg_store_msg m = { .topic = "t", .payload = "x", .payload_len = 1 };
	struct seen seen = { .n = 0 };
	int rows = 0;

	fg_store_set_hooks(s, &hooks);
	hook_result = 0;
	/* Nothing staged: no commit, unless one is wanted (a window ends by the clock). */
	ck_assert_int_eq(fg_store_commit(s), 0);
	fg_store_want_commit(s);
	ck_assert_int_eq(fg_store_commit(s), 1);
	ck_assert_int_eq(fg_store_peek(s, 0, 10, collect, &seen), 1);
	ck_assert_str_eq(seen.payload[0], "end");
	ck_assert_int_eq(fg_store_state_each(s, NULL, count_state, &rows), 1);
	ck_assert_int_eq(rows, 1);
	/* Outside a commit nothing may be emitted. */
	ck_assert_int_eq(fg_store_emit(s, &m), -EPERM);
	ck_assert_int_eq(fg_store_state_delete(s, "rule:x", NULL), 0);
	rows = 0;
	ck_assert_int_eq(fg_store_state_each(s, "rule:x", count_state, &rows), 0);
	ck_assert_int_eq(rows, 0);
	fg_store_close(s);
}
END_TEST

START_TEST(store_a_rolled_back_commit_keeps_neither_messages_nor_state)
{
	static const struct fg_store_hooks hooks = { end_hook, rolled_back_hook };
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	struct seen seen = { .n = 0 };
	int rows = 0;

	fg_store_set_hooks(s, &hooks);
	hook_result = -EIO;
	rolled_back_calls = 0;
	add_frames(s, 2, 1);
	ck_assert_int_eq(fg_store_commit(s), -EIO);
	ck_assert_int_eq(rolled_back_calls, 1);
	ck_assert_uint_eq(fg_store_staged(s), 6); /* the readings wait for the next commit */
	ck_assert_int_eq(fg_store_peek(s, 0, 10, collect, &seen), 0);
	ck_assert_int_eq(fg_store_state_each(s, NULL, count_state, &rows), 0);
	ck_assert_int_eq(rows, 0);
	hook_result = 0;
	ck_assert_int_eq(fg_store_commit(s), 3);
	ck_assert_int_eq(fg_store_peek(s, 0, 10, collect, &seen), 3);
	ck_assert_str_eq(seen.payload[0], "seq:1 n:3 device:dev-a q:temperature");
	fg_store_close(s);
}
END_TEST

/* The free space the store sees, set by the test. */
static uint64_t fake_free;

static int fake_free_space(const char *d, uint64_t *ret_bytes, void *userdata)
{
	(void) userdata;
	ck_assert_str_eq(d, dir);
	*ret_bytes = fake_free;
	return 0;
}

/* Commit `count` frames (one message each) in one commit. */
static void commit_frames(struct fg_store *s, int count, uint64_t first)
{
	add_frames(s, count, first);
	ck_assert_int_eq(fg_store_commit(s), count);
}

START_TEST(store_min_free_evicts_oldest_and_stops_the_file_growing)
{
	struct fg_buffer_config c = cfg();
	struct fg_store_episode ep;
	struct fg_store_stats st;
	struct seen seen = { .n = 0 };
	struct fg_store *s;
	uint64_t pages_before, pages_after;

	c.min_free = 4 * 1024 * 1024;
	s = open_store(&c);
	fg_store_set_free_space_fn(s, fake_free_space, NULL);
	fake_free = 64 * 1024 * 1024;
	for (int i = 0; i < 100; i++)
		commit_frames(s, 50, (uint64_t) i * 50 + 1);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.evicted, 0);
	ck_assert_uint_eq(st.disk_free, fake_free);
	ck_assert(!fg_store_evicting(s));
	/* Checkpointed (at close): the file holds every page, none waits in the WAL. */
	fg_store_close(s);
	s = open_store(&c);
	fg_store_set_free_space_fn(s, fake_free_space, NULL);
	/* The filesystem drops under min_free: the oldest go, counted for the disk. */
	fake_free = c.min_free - 8 * 1024;
	commit_frames(s, 50, 6000);
	fg_store_get_stats(s, &st);
	ck_assert_uint_gt(st.evicted_disk, 0);
	ck_assert_uint_eq(st.evicted, st.evicted_disk);
	ck_assert_uint_eq(st.outbox_rows + st.evicted, 5050);
	ck_assert_uint_gt(st.outbox_rows, 2500); /* what the next commits need, not all */
	ck_assert_uint_eq(st.disk_free, fake_free);
	ck_assert(fg_store_evicting(s));
	fg_store_get_episode(s, &ep);
	ck_assert_int_eq(ep.cause, FG_EVICT_MIN_FREE);
	ck_assert_uint_eq(ep.evicted, st.evicted);
	ck_assert_str_eq(fg_store_evict_cause_to_string(ep.cause), "min_free");
	ck_assert_int_eq(fg_store_peek(s, 0, 1, collect, &seen), 1);
	ck_assert_uint_eq(seen.seq[0], st.evicted + 1);
	/* From now on the freed pages take the new rows: the file does not grow. */
	{
		sqlite3 *db;
		sqlite3_stmt *q;

		ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
		ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &q, NULL),
				 SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
		pages_before = (uint64_t) sqlite3_column_int64(q, 0);
		for (int i = 0; i < 10; i++)
			commit_frames(s, 50, 7000 + (uint64_t) i * 50);
		sqlite3_reset(q);
		ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
		pages_after = (uint64_t) sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
		sqlite3_close(db);
	}
	ck_assert_uint_eq(pages_after, pages_before);
	fg_store_get_stats(s, &st);
	ck_assert_uint_gt(st.evicted_disk, 0);
	ck_assert_uint_eq(st.evict_episodes, 1); /* shedding a little now and then: one episode */
	fg_store_close(s);
}
END_TEST

/* Nearly full below twice min_free; room again only at two and a half times it. */
START_TEST(store_disk_low_has_hysteresis)
{
	const uint64_t mib = 1024 * 1024;
	struct fg_buffer_config c = cfg();
	struct fg_store *s;
	uint64_t mark = 0;

	c.min_free = 4 * mib;
	s = open_store(&c);
	fg_store_set_free_space_fn(s, fake_free_space, NULL);
	fake_free = 64 * mib;
	commit_frames(s, 1, 1);
	ck_assert(!fg_store_disk_low(s, &mark));
	ck_assert_uint_eq(mark, 8 * mib);
	fake_free = 8 * mib;
	commit_frames(s, 1, 2);
	ck_assert(!fg_store_disk_low(s, NULL)); /* at the mark is not below it */
	fake_free = 8 * mib - 1;
	commit_frames(s, 1, 3);
	ck_assert(fg_store_disk_low(s, NULL));
	fake_free = 9 * mib; /* above the mark, not yet 2.5 x min_free */
	commit_frames(s, 1, 4);
	ck_assert(fg_store_disk_low(s, NULL));
	fake_free = 10 * mib;
	commit_frames(s, 1, 5);
	ck_assert(!fg_store_disk_low(s, NULL));
	fg_store_close(s);

	/* A min_free under the WAL's reserve counts as the reserve. */
	c.min_free = 0;
	s = open_store(&c);
	ck_assert(!fg_store_disk_low(s, &mark));
	ck_assert_uint_eq(mark, 2 * FG_STORE_DISK_RESERVE);
	fg_store_close(s);
}
END_TEST

START_TEST(store_min_free_drop_newest_refuses_new_readings)
{
	struct fg_buffer_config c = cfg();
	struct fg_store_stats st;
	struct fg_store *s;

	c.min_free = 4 * 1024 * 1024;
	c.overflow = FG_OVERFLOW_DROP_NEWEST;
	s = open_store(&c);
	fg_store_set_free_space_fn(s, fake_free_space, NULL);
	fake_free = 64 * 1024 * 1024;
	commit_frames(s, 10, 1);
	fake_free = 1024 * 1024;
	add_frames(s, 10, 100);
	ck_assert_int_eq(fg_store_commit(s), 0);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.evicted_disk, 30); /* the readings of the ten refused frames */
	ck_assert_uint_eq(st.outbox_rows, 10);	/* the oldest stay */
	ck_assert(fg_store_evicting(s));
	/* Room again (acks, or the filesystem): readings are taken again and the episode ends. */
	fake_free = 64 * 1024 * 1024;
	for (uint64_t q = 1; q <= 5; q++)
		ck_assert_int_eq(fg_store_ack(s, q), 0);
	add_frames(s, 2, 200);
	ck_assert_int_eq(fg_store_flush(s), 2);
	ck_assert(!fg_store_evicting(s));
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.outbox_rows, 7);
	fg_store_close(s);
}
END_TEST

START_TEST(store_max_bytes_counts_the_wal)
{
	struct fg_buffer_config c = cfg();
	struct fg_store_stats st;
	struct fg_store *s;
	struct stat wal;
	char wal_path[320];

	s = open_store(&c);
	commit_frames(s, 200, 1);
	fg_store_get_stats(s, &st);
	snprintf(wal_path, sizeof(wal_path), "%s-wal", path);
	ck_assert_int_eq(stat(wal_path, &wal), 0);
	ck_assert_uint_gt(wal.st_size, 0);
	ck_assert_uint_eq(st.wal_bytes, (uint64_t) wal.st_size);
	ck_assert_uint_ge(st.db_bytes, st.wal_bytes);
	fg_store_close(s);
}
END_TEST

START_TEST(store_files_are_private_under_umask_022)
{
	struct fg_buffer_config c = cfg();
	static const char *const sfx[] = { "", "-wal", "-shm" };
	struct fg_store *s;
	mode_t old = umask(022);

	s = open_store(&c);
	umask(old);
	commit_frames(s, 2, 1);
	for (size_t i = 0; i < 3; i++) {
		char p[320];
		struct stat st;

		snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
		ck_assert_int_eq(stat(p, &st), 0);
		ck_assert_msg((st.st_mode & 0777) == 0600, "%s is %o", p, st.st_mode & 0777);
	}
	fg_store_close(s);
}
END_TEST

START_TEST(store_files_left_readable_by_others_are_made_private)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s;
	struct stat st;
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, 0644), 0);
	close(fd);
	s = open_store(&c);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	fg_store_close(s);
}
END_TEST

START_TEST(store_open_names_the_real_cause)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = NULL;
	char file[280];
	int fd;

	/* A state_dir that is a file, not "No such file or directory". */
	snprintf(file, sizeof(file) - 16, "%s/plain", dir);
	fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/buffer.db", file);
	ck_assert_int_eq(fg_store_open(&c, transform, NULL, &s, NULL), -ENOTDIR);
	ck_assert_ptr_null(s);
}
END_TEST

/*
 * A real filesystem full to the last byte: a 3 MiB tmpfs on the test's
 * directory (root only; CI runs as root), filled by the buffer with the broker
 * "away" and then by another file. Acks must still delete their rows, and the
 * room they free must take new readings.
 */
START_TEST(store_acks_are_applied_on_a_disk_full_to_the_last_byte)
{
	struct fg_buffer_config c = cfg();
	struct fg_store_stats st;
	struct seen seen = { .n = 0 };
	struct fg_store *s;
	char filler[300];
	static char zero[4096];
	uint64_t rows, first, acked, next_first, queued, queued_after;
	int fd, r = 0;

	if (geteuid() != 0 || mount("fieldgate-test", dir, "tmpfs", 0, "size=3m,mode=0700") < 0) {
		fprintf(stderr, "store_acks_are_applied_on_a_disk_full_to_the_last_byte: "
				"skipped, cannot mount a tmpfs here\n");
		return;
	}
	mounted = true;
	/*
	 * Nothing asserted until the tmpfs is unmounted: a failed assertion ends
	 * the test's process without the teardown, which would leave it mounted.
	 */
	r = fg_store_open(&c, transform, NULL, &s, NULL);
	for (int i = 0; r >= 0 && i < 2000; i++) {
		fg_store_get_stats(s, &st);
		if (st.evicted > 0)
			break;
		fill_past_full_once(s, i);
		r = fg_store_commit(s);
	}
	snprintf(filler, sizeof(filler) - 16, "%s/filler", dir);
	fd = open(filler, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	while (fd >= 0 && write(fd, zero, sizeof(zero)) > 0)
		;
	if (fd >= 0)
		close(fd);
	fg_store_get_stats(s, &st);
	rows = st.outbox_rows;
	queued = st.messages_queued;
	first = fg_store_peek(s, 0, 1, collect, &seen) == 1 ? seen.seq[0] : 0;
	for (uint64_t q = first; q < first + 100; q++)
		(void) fg_store_ack(s, q);
	(void) fg_store_flush(s);
	fg_store_get_stats(s, &st);
	acked = st.messages_acked;
	seen.n = 0;
	next_first = fg_store_peek(s, 0, 1, collect, &seen) == 1 ? seen.seq[0] : 0;
	/* The freed rows take new readings. */
	fill_past_full_once(s, 5000);
	(void) fg_store_commit(s);
	fg_store_get_stats(s, &st);
	queued_after = st.messages_queued;
	fg_store_close(s);
	(void) umount2(dir, MNT_DETACH);
	mounted = false;
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_gt(rows, 100);
	ck_assert_uint_gt(first, 0);
	ck_assert_uint_eq(acked, 100);
	ck_assert_uint_eq(next_first, first + 100);
	ck_assert_uint_eq(queued_after, queued + 5);
}
END_TEST

/* The schema of version 3, as that fieldgate created it (migrations 1 to 3). */
static const char v3_schema[] =
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE readings (id INTEGER PRIMARY KEY, source INTEGER NOT NULL,"
	" device_id TEXT NOT NULL, device_name TEXT NOT NULL, quantity TEXT NOT NULL,"
	" kind INTEGER NOT NULL, number REAL, text TEXT, unit TEXT NOT NULL,"
	" time_ms INTEGER NOT NULL, mono_usec INTEGER NOT NULL, boot_id TEXT NOT NULL,"
	" frame_id INTEGER NOT NULL, radio_present INTEGER NOT NULL, rssi INTEGER, snr REAL,"
	" freq_hz INTEGER, sf INTEGER, bw_hz INTEGER, dr INTEGER, tmst INTEGER);"
	"CREATE TABLE outbox (seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL,"
	" qos INTEGER NOT NULL, retain INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
	" created_mono_usec INTEGER NOT NULL, device TEXT NOT NULL, bytes INTEGER NOT NULL);"
	"CREATE TABLE device_state (device TEXT NOT NULL, key TEXT NOT NULL,"
	" value INTEGER NOT NULL, PRIMARY KEY (device, key)) WITHOUT ROWID;"
	"ALTER TABLE outbox ADD COLUMN boot INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX outbox_unstamped ON outbox (seq) WHERE created_ms = 0;"
	"CREATE TABLE state (owner TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
	" PRIMARY KEY (owner, key)) WITHOUT ROWID;"
	"PRAGMA user_version = 3;";

/* What a peek saw, with topics and correlation data. */
struct seen_full {
	uint64_t seq[16];
	char topic[16][64];
	char payload[16][64];
	uint8_t corr[16][16];
	size_t corr_len[16];
	size_t n;
};

static int collect_full(const struct fg_outbox_msg *m, void *userdata)
{
	struct seen_full *s = userdata;

	ck_assert_uint_lt(s->n, 16);
	s->seq[s->n] = m->seq;
	snprintf(s->topic[s->n], sizeof(s->topic[0]), "%s", m->topic);
	snprintf(s->payload[s->n], sizeof(s->payload[0]), "%.*s", (int) m->payload_len,
		 (const char *) m->payload);
	ck_assert_uint_le(m->correlation_len, sizeof(s->corr[0]));
	ck_assert(m->correlation_len == 0 || m->correlation != NULL);
	memcpy(s->corr[s->n], m->correlation ? m->correlation : "", m->correlation_len);
	s->corr_len[s->n] = m->correlation_len;
	s->n++;
	return 0;
}

START_TEST(store_migrates_a_version_3_buffer_keeping_every_row_and_the_sequence)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s;
	struct fg_store_stats st;
	struct seen_full seen = { .n = 0 };
	struct fg_store_msg m = { .topic = "t/new", .payload = "new", .payload_len = 3, .qos = 1 };
	struct fg_store_cmd row = { .id = "c1", .device = "d", .state = FG_STORE_CMD_PENDING,
				    .body = "b", .body_len = 1 };
	sqlite3 *db;
	sqlite3_stmt *q;
	char blob[8];
	size_t len = 0;
	int64_t v = 0;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, v3_schema, NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(
		sqlite3_exec(db,
			     "INSERT INTO meta VALUES ('next_seq', 12);"
			     "INSERT INTO outbox VALUES (5, 't/a', 'five', 1, 0, 1700000000005, 0, "
			     "'dev-a', 4, 0);"
			     "INSERT INTO outbox VALUES (6, 't/b', 'six', 0, 1, 1700000000006, 0, "
			     "'dev-b', 3, 0);"
			     "INSERT INTO outbox VALUES (9, 't/a', 'nine', 1, 0, 1700000000009, 0, "
			     "'dev-a', 4, 0);"
			     "INSERT INTO device_state VALUES ('26011f2a', 'fcnt_up', 77);"
			     "INSERT INTO state VALUES ('rule:x', 'k', x'7631');"
			     "INSERT INTO readings (source, device_id, device_name, quantity, kind, "
			     "number, unit, time_ms, mono_usec, boot_id, frame_id, radio_present) "
			     "VALUES (0, 'dev-c', 'dev-c', 'temperature', 1, 21.5, 'Cel', "
			     "1700000000010, 0, '', 1, 0);",
			     NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);

	s = open_store(&c);
	ck_assert_int_eq(fg_store_peek(s, 0, 16, collect_full, &seen), 3);
	ck_assert_uint_eq(seen.seq[0], 5);
	ck_assert_uint_eq(seen.seq[1], 6);
	ck_assert_uint_eq(seen.seq[2], 9);
	ck_assert_str_eq(seen.payload[0], "five");
	ck_assert_str_eq(seen.topic[1], "t/b");
	ck_assert_str_eq(seen.payload[2], "nine");
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(seen.corr_len[i], 0);
	/* The counter went on past what was acked: 12, not 10. */
	ck_assert_uint_eq(fg_store_next_seq(s), 12);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.outbox_rows, 3);
	ck_assert_uint_eq(st.readings_rows, 1);
	ck_assert_int_eq(fg_store_device_state_get(s, "26011f2a", "fcnt_up", &v), 0);
	ck_assert_int_eq(v, 77);
	ck_assert_int_eq(fg_store_state_get(s, "rule:x", "k", blob, sizeof(blob), &len), 0);
	ck_assert_uint_eq(len, 2);
	/* And the new parts work on it. */
	ck_assert_int_eq(fg_store_cmd_insert(s, &row), 0);
	ck_assert_int_eq(fg_store_begin(s), 0);
	ck_assert_int_eq(fg_store_emit(s, &m), 0);
	ck_assert_int_eq(fg_store_end(s, true), 0);
	seen.n = 0;
	ck_assert_int_eq(fg_store_peek(s, 9, 16, collect_full, &seen), 1);
	ck_assert_uint_eq(seen.seq[0], 12);
	fg_store_close(s);

	/* The readings table is there too (a store with a transform takes it at its next commit). */
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT (SELECT COUNT(*) FROM readings), "
						"(SELECT user_version FROM pragma_user_version), "
						"(SELECT COUNT(*) FROM command)",
					    -1, &q, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(q, 0), 1);
	ck_assert_int_eq(sqlite3_column_int(q, 1), 4);
	ck_assert_int_eq(sqlite3_column_int(q, 2), 1);
	sqlite3_finalize(q);
	sqlite3_close(db);
}
END_TEST

static int begin_result;

/* A transform that tries to open the store's own transaction from inside the commit. */
static int nesting_transform(struct fg_store *s, const struct fg_reading *r, size_t n, void *u)
{
	(void) r;
	(void) n;
	(void) u;
	begin_result = fg_store_begin(s);
	return 0;
}

START_TEST(store_own_transaction_emits_with_the_next_seq_and_leaves_the_commit_alone)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	struct fg_store *t;
	struct seen_full seen = { .n = 0 };
	struct fg_store_stats st;
	static const uint8_t corr[] = { 0x00, 0xfe, 0x01 };
	struct fg_store_msg m = { .topic = "t/own", .payload = "own", .payload_len = 3, .qos = 1,
				  .device = "dev-x", .created_ms = 1700000000000,
				  .correlation = corr, .correlation_len = sizeof(corr) };
	struct fg_reading r[3];

	/* One message committed, one acked and waiting to be deleted, readings staged. */
	add_frames(s, 2, 1);
	ck_assert_int_eq(fg_store_commit(s), 2);
	ck_assert_int_eq(fg_store_ack(s, 1), 0);
	add_frames(s, 1, 3);
	ck_assert_int_eq(fg_store_emit(s, &m), -EPERM);
	ck_assert_int_eq(fg_store_begin(s), 0);
	ck_assert_int_eq(fg_store_begin(s), -EBUSY);
	/* The commit waits: it would take the staged readings into this transaction. */
	ck_assert_int_eq(fg_store_commit(s), -EBUSY);
	ck_assert_uint_eq(fg_store_next_seq(s), 3);
	ck_assert_int_eq(fg_store_emit(s, &m), 0);
	m.correlation = NULL;
	m.correlation_len = 0;
	ck_assert_int_eq(fg_store_emit(s, &m), 0);
	ck_assert_int_eq(fg_store_end(s, true), 0);
	ck_assert_int_eq(fg_store_end(s, true), -EINVAL);
	ck_assert_uint_eq(fg_store_staged(s), 3);
	/* The acked message is still skipped; the new ones follow with their correlation data. */
	ck_assert_int_eq(fg_store_peek(s, 0, 16, collect_full, &seen), 3);
	ck_assert_uint_eq(seen.seq[0], 2);
	ck_assert_uint_eq(seen.seq[1], 3);
	ck_assert_str_eq(seen.topic[1], "t/own");
	ck_assert_uint_eq(seen.corr_len[1], sizeof(corr));
	ck_assert_mem_eq(seen.corr[1], corr, sizeof(corr));
	ck_assert_uint_eq(seen.seq[2], 4);
	ck_assert_uint_eq(seen.corr_len[2], 0);
	/* The next commit: the staged readings get the next seq, the ack is applied. */
	ck_assert_int_eq(fg_store_flush(s), 1);
	seen.n = 0;
	ck_assert_int_eq(fg_store_peek(s, 0, 16, collect_full, &seen), 4);
	ck_assert_uint_eq(seen.seq[0], 2);
	ck_assert_uint_eq(seen.seq[3], 5);
	ck_assert_str_eq(seen.payload[3], "seq:5 n:3 device:dev-a q:temperature");
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.outbox_rows, 4);
	ck_assert_uint_eq(st.messages_queued, 5);

	/* A rolled back one leaves nothing: no row, no seq, no counter. */
	ck_assert_int_eq(fg_store_begin(s), 0);
	ck_assert_int_eq(fg_store_emit(s, &m), 0);
	ck_assert_int_eq(fg_store_end(s, false), 0);
	ck_assert_uint_eq(fg_store_next_seq(s), 6);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.outbox_rows, 4);
	ck_assert_uint_eq(st.messages_queued, 5);
	seen.n = 0;
	ck_assert_int_eq(fg_store_peek(s, 5, 16, collect_full, &seen), 0);
	fg_store_close(s);

	/* Correlation data survive the file; a commit's transform cannot nest a transaction. */
	ck_assert_int_eq(fg_store_open(&c, nesting_transform, NULL, &t, NULL), 0);
	seen.n = 0;
	ck_assert_int_eq(fg_store_peek(t, 2, 1, collect_full, &seen), 1);
	ck_assert_uint_eq(seen.corr_len[0], sizeof(corr));
	ck_assert_mem_eq(seen.corr[0], corr, sizeof(corr));
	frame(r, "dev-a", 9);
	ck_assert_int_eq(fg_store_append(t, r, 3), 0);
	begin_result = 1;
	ck_assert_int_eq(fg_store_commit(t), 0);
	ck_assert_int_eq(begin_result, -EBUSY);
	ck_assert_int_eq(fg_store_begin(t), 0);
	ck_assert_int_eq(fg_store_end(t, true), 0);
	fg_store_close(t);
}
END_TEST

/* "id:state:priority," per row, in the order fg_store_cmd_each gives them. */
static int cmd_row(const struct fg_store_cmd *c, void *userdata)
{
	size_t len = strlen(userdata);

	snprintf((char *) userdata + len, 256 - len, "%s:%d:%d%s,", c->id, (int) c->state,
		 c->priority, c->body ? "" : ":nobody");
	return 0;
}

START_TEST(store_command_rows_keep_order_state_and_forget_finished_ids)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s = open_store(&c);
	struct fg_store_cmd row = { .device = "dev", .kind = 0, .body = "B", .body_len = 1 };
	char out[256] = "";
	static const struct {
		const char *id, *device;
		int priority;
		uint64_t expires_ms;
	} rows[] = {
		{ "a", "dev", 3, 0 }, { "b", "dev", 5, 100 }, { "c", "dev", 3, 200 },
		{ "d", "dev2", 6, 50 }, { "e", "dev", 5, 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		row.id = rows[i].id;
		row.device = rows[i].device;
		row.priority = rows[i].priority;
		row.expires_ms = rows[i].expires_ms;
		ck_assert_int_eq(fg_store_cmd_insert(s, &row), 0);
	}
	ck_assert_int_eq(fg_store_cmd_insert(s, &row), -EEXIST);
	ck_assert_int_eq(fg_store_cmd_count(s, NULL), 5);
	ck_assert_int_eq(fg_store_cmd_count(s, "dev"), 4);
	ck_assert_int_eq(fg_store_cmd_each(s, "dev", -1, 0, 0, cmd_row, out), 4);
	ck_assert_str_eq(out, "b:0:5,e:0:5,a:0:3,c:0:3,");
	/* Awaiting its acknowledgement: first. */
	row = (struct fg_store_cmd){ .id = "c", .state = FG_STORE_CMD_AWAITING, .body = "C",
				     .body_len = 1 };
	ck_assert_int_eq(fg_store_cmd_update(s, &row), 0);
	out[0] = '\0';
	ck_assert_int_eq(fg_store_cmd_each(s, "dev", -1, 0, 2, cmd_row, out), 2);
	ck_assert_str_eq(out, "c:1:3,b:0:5,");
	out[0] = '\0';
	ck_assert_int_eq(fg_store_cmd_each(s, NULL, FG_STORE_CMD_PENDING, 0, 0, cmd_row, out), 4);
	ck_assert_str_eq(out, "b:0:5,e:0:5,a:0:3,d:0:6,");
	/* Expiring by 150: pending rows only, soonest first (c waits for its ACK). */
	out[0] = '\0';
	ck_assert_int_eq(fg_store_cmd_each(s, NULL, FG_STORE_CMD_PENDING, 150, 0, cmd_row, out),
			 2);
	ck_assert_str_eq(out, "d:0:6,b:0:5,");
	out[0] = '\0';
	ck_assert_int_eq(fg_store_cmd_each(s, "dev", -1, 250, 0, cmd_row, out), 2);
	ck_assert_str_eq(out, "c:1:3,b:0:5,");
	/* Finished: out of the queue, its body gone, its id kept. */
	row = (struct fg_store_cmd){ .id = "b", .state = FG_STORE_CMD_FINISHED, .finished_ms = 1000,
				     .body = "ignored", .body_len = 7 };
	ck_assert_int_eq(fg_store_cmd_update(s, &row), 0);
	row.id = "e";
	row.finished_ms = 2000;
	ck_assert_int_eq(fg_store_cmd_update(s, &row), 0);
	row.id = "nobody";
	ck_assert_int_eq(fg_store_cmd_update(s, &row), -ENOENT);
	ck_assert_int_eq(fg_store_cmd_state(s, "b"), FG_STORE_CMD_FINISHED);
	ck_assert_int_eq(fg_store_cmd_state(s, "c"), FG_STORE_CMD_AWAITING);
	ck_assert_int_eq(fg_store_cmd_state(s, "nobody"), -ENOENT);
	out[0] = '\0';
	ck_assert_int_eq(fg_store_cmd_get(s, "b", cmd_row, out), 0);
	ck_assert_str_eq(out, "b:2:5:nobody,");
	ck_assert_int_eq(fg_store_cmd_get(s, "nobody", cmd_row, out), -ENOENT);
	ck_assert_int_eq(fg_store_cmd_count(s, "dev"), 2);
	/* Forgotten oldest first, at most max, never an unfinished row. */
	ck_assert_int_eq(fg_store_cmd_forget(s, 5000, 1), 1);
	ck_assert_int_eq(fg_store_cmd_state(s, "b"), -ENOENT);
	ck_assert_int_eq(fg_store_cmd_state(s, "e"), FG_STORE_CMD_FINISHED);
	ck_assert_int_eq(fg_store_cmd_forget(s, 2000, 0), 0);
	ck_assert_int_eq(fg_store_cmd_forget(s, UINT64_C(1) << 62, 0), 1);
	ck_assert_int_eq(fg_store_cmd_count(s, NULL), 3);
	fg_store_close(s);
	/* Read-only, from the file: the same rows. */
	out[0] = '\0';
	ck_assert_int_eq(fg_store_read_cmds(path, NULL, cmd_row, out), 3);
	ck_assert_str_eq(out, "c:1:3,a:0:3,d:0:6,");
}
END_TEST

/* ---------------------------------------------------------------- sync: two loss windows */

/* PRAGMA integrity_check of the file as it is on disk now, from a connection of our own. */
static void assert_sound(void)
{
	sqlite3 *db;
	sqlite3_stmt *st;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *) sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* The seqs in the outbox, "1,2,3," */
static void outbox_seqs(struct fg_store *s, char *out, size_t size)
{
	struct seen seen = { .n = 0 };
	size_t len = 0;

	out[0] = '\0';
	ck_assert_int_ge(fg_store_peek(s, 0, 64, collect, &seen), 0);
	for (size_t i = 0; i < seen.n; i++)
		len += (size_t) snprintf(out + len, size - len, "%llu,",
					 (unsigned long long) seen.seq[i]);
}

/*
 * Run work in a child process over the power-cut VFS, cut the power (only
 * what was synced stays) and leave without closing. work returns 0 or a
 * line number that failed (ck_assert in the child would not reach us).
 */
static void run_and_cut(int (*work)(struct fg_buffer_config *c), struct fg_buffer_config *c)
{
	char failed[320];
	int status;
	pid_t pid;

	snprintf(failed, sizeof(failed), "%s/child-failed", dir);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int line;

		if (cutvfs_install() != SQLITE_OK)
			_exit(2);
		line = work(c);
		if (cutvfs_cut(path) != 0)
			_exit(3);
		if (line) {
			FILE *f = fopen(failed, "w");

			if (f) {
				fprintf(f, "%d", line);
				fclose(f);
			}
		}
		_exit(line ? 1 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 1) {
		FILE *f = fopen(failed, "r");
		int line = 0;

		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(fscanf(f, "%d", &line), 1);
		fclose(f);
		ck_abort_msg("the child's check at " __FILE__ ":%d failed", line);
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed: status %d",
		      WEXITSTATUS(status));
}

#define TRY(cond)                \
	do {                     \
		if (!(cond))     \
			return __LINE__; \
	} while (0)

static int stage_frames(struct fg_store *s, int count, uint64_t first)
{
	struct fg_reading r[3];

	for (int i = 0; i < count; i++) {
		frame(r, i % 2 ? "dev-b" : "dev-a", first + (uint64_t) i);
		if (fg_store_append(s, r, 3) != 0)
			return -1;
	}
	return 0;
}

static int synced_then_unsynced(struct fg_buffer_config *c)
{
	struct fg_store *s = NULL;
	struct fg_store_stats st;
	unsigned long syncs;
	char wal[320];

	snprintf(wal, sizeof(wal), "%s-wal", path);
	TRY(fg_store_open(c, transform, NULL, &s, NULL) == 0);
	TRY(stage_frames(s, 5, 1) == 0 && fg_store_commit(s) == 5);
	fg_store_get_stats(s, &st);
	/* The first commit reserves sequence numbers, and that is synced at once. */
	TRY(st.wal_syncs == 1 && st.synced_seq == 5);
	syncs = cutvfs_syncs(wal); /* SQLite also syncs the WAL's header when it starts one */
	TRY(syncs >= 1);
	TRY(stage_frames(s, 5, 10) == 0 && fg_store_commit(s) == 5);
	TRY(stage_frames(s, 5, 20) == 0 && fg_store_commit(s) == 5);
	fg_store_get_stats(s, &st);
	/* Neither SQLite nor the store synced these: they wait for sync_interval_ms. */
	TRY(st.wal_syncs == 1 && st.synced_seq == 5 && cutvfs_syncs(wal) == syncs);
	TRY(fg_store_commit_due(s, 1) > fg_clock_mono_usec());
	TRY(fg_store_flush(s) == 0);
	fg_store_get_stats(s, &st);
	TRY(st.wal_syncs == 2 && st.synced_seq == 15 && cutvfs_syncs(wal) == syncs + 1);
	TRY(stage_frames(s, 5, 30) == 0 && fg_store_commit(s) == 5); /* 16..20: lost in the cut */
	return 0;
}

START_TEST(store_power_cut_keeps_every_synced_commit_and_never_reuses_a_published_seq)
{
	struct fg_buffer_config c = cfg();
	struct fg_store_stats st;
	struct fg_store *s;
	char seqs[400];

	c.sync_interval_ms = 60000;
	run_and_cut(synced_then_unsynced, &c);
	assert_sound();
	s = open_store(&c);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.outbox_rows, 15);
	outbox_seqs(s, seqs, sizeof(seqs));
	ck_assert_str_eq(seqs, "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,");
	fg_store_close(s);
}
END_TEST

/* This process's boot id from now on (read once, at the first open). */
static void write_boot_id(const char *id)
{
	char file[320];
	FILE *f;

	snprintf(file, sizeof(file), "%s/boot_id", dir);
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fputs(id, f);
	fclose(f);
	setenv("FIELDGATE_BOOT_ID_FILE", file, 1);
}

START_TEST(store_after_a_power_cut_in_another_boot_seqs_go_on_past_the_reservation)
{
	struct fg_buffer_config c = cfg();
	struct fg_store *s;
	char seqs[400];

	c.sync_interval_ms = 60000;
	run_and_cut(synced_then_unsynced, &c);
	/* 16..20 may have reached the broker before the cut: a new boot must not reuse them. */
	write_boot_id("0123456789abcdef0123456789abcdef\n");
	s = open_store(&c);
	add_frames(s, 1, 40);
	ck_assert_int_eq(fg_store_commit(s), 1);
	outbox_seqs(s, seqs, sizeof(seqs));
	ck_assert_str_eq(seqs, "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,65542,");
	fg_store_close(s);
	/* Closed cleanly: the next run goes on without a gap. */
	s = open_store(&c);
	add_frames(s, 1, 50);
	ck_assert_int_eq(fg_store_commit(s), 1);
	outbox_seqs(s, seqs, sizeof(seqs));
	ck_assert_str_eq(seqs, "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,65542,65543,");
	fg_store_close(s);
}
END_TEST

static int every_commit(struct fg_buffer_config *c)
{
	struct fg_store *s = NULL;
	struct fg_store_stats st;

	TRY(fg_store_open(c, transform, NULL, &s, NULL) == 0);
	TRY(stage_frames(s, 5, 1) == 0 && fg_store_commit(s) == 5);
	TRY(stage_frames(s, 5, 10) == 0 && fg_store_commit(s) == 5);
	fg_store_get_stats(s, &st);
	/* SQLite synced each commit itself (synchronous=FULL); the store did none. */
	TRY(st.wal_syncs == 0 && st.synced_seq == 10);
	return 0;
}

START_TEST(store_power_cut_with_sync_interval_0_keeps_every_commit)
{
	struct fg_buffer_config c = cfg();
	struct fg_store_stats st;
	struct fg_store *s;

	c.sync_interval_ms = 0;
	run_and_cut(every_commit, &c);
	assert_sound();
	s = open_store(&c);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.outbox_rows, 10);
	fg_store_close(s);
}
END_TEST

static int by_time(struct fg_buffer_config *c)
{
	struct fg_store *s = NULL;
	struct fg_store_stats st;

	TRY(fg_store_open(c, transform, NULL, &s, NULL) == 0);
	TRY(stage_frames(s, 5, 1) == 0 && fg_store_commit(s) == 5);
	TRY(stage_frames(s, 5, 10) == 0 && fg_store_commit(s) == 5);
	fg_store_get_stats(s, &st);
	TRY(st.synced_seq == 5);
	/* Past the interval, a commit with nothing to do syncs (the daemon's idle timer). */
	TRY(fg_store_commit_due(s, 0) != 0);
	usleep(30 * 1000);
	TRY(fg_store_commit_due(s, 0) <= fg_clock_mono_usec());
	TRY(fg_store_commit(s) == 0);
	fg_store_get_stats(s, &st);
	TRY(st.synced_seq == 10 && fg_store_commit_due(s, 0) == 0);
	return 0;
}

START_TEST(store_syncs_the_wal_once_the_oldest_unsynced_commit_is_sync_interval_old)
{
	struct fg_buffer_config c = cfg();
	struct fg_store_stats st;
	struct fg_store *s;

	c.sync_interval_ms = 20;
	run_and_cut(by_time, &c);
	s = open_store(&c);
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.outbox_rows, 10);
	fg_store_close(s);
}
END_TEST

static int promise; /* which promise promised() makes before the cut */

static int promised(struct fg_buffer_config *c)
{
	struct fg_store *s = NULL;
	struct fg_store_cmd row = { .id = "cmd-1", .device = "dev", .body = "B", .body_len = 1 };

	TRY(fg_store_open(c, transform, NULL, &s, NULL) == 0);
	TRY(stage_frames(s, 2, 1) == 0 && fg_store_commit(s) == 2); /* reserved: synced */
	TRY(stage_frames(s, 2, 10) == 0 && fg_store_commit(s) == 2); /* not yet */
	switch (promise) {
	case 0: /* a command accepted in a transaction of its own */
		TRY(fg_store_begin(s) == 0);
		TRY(fg_store_cmd_insert(s, &row) == 0);
		TRY(fg_store_end(s, true) == 0);
		break;
	case 1: /* a command row written alone */
		TRY(fg_store_cmd_insert(s, &row) == 0);
		break;
	case 2: /* a LoRaWAN session */
		TRY(fg_store_state_put(s, "lorawan", "session:dev", "K", 1) == 0);
		break;
	}
	return 0;
}

START_TEST(store_what_is_promised_to_others_is_synced_at_once)
{
	struct fg_buffer_config c = cfg();
	struct fg_store_stats st;
	struct fg_store *s;
	char blob[8];
	size_t len = 0;

	c.sync_interval_ms = 60000;
	promise = _i;
	run_and_cut(promised, &c);
	assert_sound();
	s = open_store(&c);
	if (_i == 2) {
		ck_assert_int_eq(fg_store_state_get(s, "lorawan", "session:dev", blob, sizeof(blob),
						&len), 0);
		ck_assert_uint_eq(len, 1);
	} else {
		ck_assert_int_eq(fg_store_cmd_state(s, "cmd-1"), 0);
	}
	/* Whatever was committed before the promise went to the card with it. */
	fg_store_get_stats(s, &st);
	ck_assert_uint_eq(st.outbox_rows, 4);
	fg_store_close(s);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("flow");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, store_sets_schema_version_once);
	tcase_add_test(tc, store_commit_groups_frames_into_messages_with_consecutive_seqs);
	tcase_add_test(tc, store_peek_is_ordered_and_bounded);
	tcase_add_test(tc, store_ack_deletes_at_next_commit);
	tcase_add_test(tc, store_never_reuses_a_sequence_number);
	tcase_add_test(tc, store_sequence_counter_is_written_only_when_the_outbox_loses_its_newest);
	tcase_add_test(tc, store_peek_skips_unordered_pending_acks);
	tcase_add_test(tc, store_deletes_exactly_the_acked_runs_in_any_order);
	tcase_add_test(tc, store_peek_answers_what_the_table_holds_through_acks_evictions_and_rollbacks);
	tcase_add_test(tc, store_keeps_staged_readings_when_transform_fails);
	tcase_add_test(tc, store_transform_can_drop_a_frame_without_spending_a_seq);
	tcase_add_test(tc, store_append_is_capped_by_commit_batch);
	tcase_add_test(tc, store_device_state_reads_own_writes_and_persists);
	tcase_add_test(tc, store_copies_text_values);
	tcase_add_test(tc, store_transform_sees_frame_readings_in_arrival_order);
	tcase_add_test(tc, store_transforms_readings_left_in_the_table_at_next_commit);
	tcase_add_test(tc, store_counts_in_stats);
	tcase_add_test(tc, store_outbox_rows_record_device_and_size);
	tcase_add_test(tc, store_stamps_this_boots_undated_messages_once_the_clock_is_known);
	tcase_add_test(tc, store_stamps_in_batches_and_finds_undated_messages_left_by_an_earlier_run);
	tcase_add_test(tc, store_migrates_a_version_1_buffer_keeping_its_messages);
	tcase_add_test(tc, store_a_frame_may_make_several_messages);
	tcase_add_test(tc, store_the_end_hook_emits_and_keeps_state_in_the_commit);
	tcase_add_test(tc, store_a_rolled_back_commit_keeps_neither_messages_nor_state);
	tcase_add_test(tc, store_migrates_a_version_3_buffer_keeping_every_row_and_the_sequence);
	tcase_add_test(tc, store_own_transaction_emits_with_the_next_seq_and_leaves_the_commit_alone);
	tcase_add_test(tc, store_command_rows_keep_order_state_and_forget_finished_ids);
	suite_add_tcase(s, tc);
	tc = tcase_create("bounds");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, store_max_rows_drop_oldest_evicts_exactly_the_oldest);
	tcase_add_test(tc, store_max_rows_drop_newest_refuses_new_readings);
	tcase_add_test(tc, store_max_age_evicts_old_messages);
	tcase_add_test(tc, store_max_bytes_drop_oldest_gets_under_the_bound);
	tcase_add_test(tc, store_eviction_episode_begins_once_and_ends_on_a_clean_commit);
	tcase_add_test(tc, store_full_disk_drop_oldest_evicts_and_keeps_the_new);
	tcase_add_test(tc, store_full_disk_drop_newest_refuses_the_staged);
	tcase_add_test(tc, store_min_free_evicts_oldest_and_stops_the_file_growing);
	tcase_add_test(tc, store_min_free_drop_newest_refuses_new_readings);
	tcase_add_test(tc, store_disk_low_has_hysteresis);
	tcase_add_test(tc, store_max_bytes_counts_the_wal);
	tcase_add_test(tc, store_acks_are_applied_on_a_disk_full_to_the_last_byte);
	suite_add_tcase(s, tc);
	tc = tcase_create("recovery");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, store_moves_garbage_file_aside_and_starts_fresh);
	tcase_add_test(tc, store_moves_database_with_corrupt_pages_aside);
	tcase_add_test(tc, store_committed_readings_survive_a_crash);
	tcase_add_test(tc, store_open_fails_cleanly_without_directory);
	tcase_add_test(tc, store_open_names_the_real_cause);
	tcase_add_test(tc, store_files_are_private_under_umask_022);
	tcase_add_test(tc, store_files_left_readable_by_others_are_made_private);
	suite_add_tcase(s, tc);

	tc = tcase_create("sync");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, store_power_cut_keeps_every_synced_commit_and_never_reuses_a_published_seq);
	tcase_add_test(tc, store_after_a_power_cut_in_another_boot_seqs_go_on_past_the_reservation);
	tcase_add_test(tc, store_power_cut_with_sync_interval_0_keeps_every_commit);
	tcase_add_test(tc, store_syncs_the_wal_once_the_oldest_unsynced_commit_is_sync_interval_old);
	tcase_add_loop_test(tc, store_what_is_promised_to_others_is_synced_at_once, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(store_suite());
}
