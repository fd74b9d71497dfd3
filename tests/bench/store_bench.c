/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Bytes written per reading by the store, from /proc/self/io.
 *
 *   store_bench DIR READINGS PER_COMMIT PAGE_SIZE AUTOCHECKPOINT
 *
 * Appends READINGS readings (three per frame, like a typical sensor) in
 * commits of PER_COMMIT readings, and after each commit acks every message
 * it queued, so the outbox drains at the pace it fills, as with a live
 * broker. Commits run back to back: the bytes written per commit do not
 * depend on the 100 ms interval between them. PAGE_SIZE is set by creating
 * the file first (the store keeps an existing page size); AUTOCHECKPOINT is
 * set on the store's own connection after it opened. Prints one line:
 * per-reading write_bytes (block layer) and wchar (write(2) bytes).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"

static sqlite3 *last_db; /* the newest connection opened in this process */

/* Remember each connection as it opens, to reach the store's own. */
static int grab_db(sqlite3 *db, const char **err, const struct sqlite3_api_routines *api)
{
	(void) err;
	(void) api;
	last_db = db;
	return SQLITE_OK;
}

/* Read one counter of /proc/self/io. */
static uint64_t proc_io(const char *name)
{
	char line[128];
	size_t len = strlen(name);
	uint64_t v = 0;
	FILE *f = fopen("/proc/self/io", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ':')
			v = strtoull(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

/* A fixed-size SenML-like payload, as the formatter would produce. */
static int transform(struct fg_store *s, const struct fg_reading *r, size_t n, void *userdata)
{
	struct fg_store_msg m = { .qos = 1 };
	char buf[512], topic[128];
	int len = snprintf(buf, sizeof(buf),
			   "[{\"bn\":\"urn:dev:sim:%s:\",\"bt\":%" PRIu64 ",\"seq\":%" PRIu64 "}",
			   r[0].device_id, r[0].time_ms, fg_store_next_seq(s));
	int e;

	(void) userdata;
	for (size_t i = 0; i < n && len < 400; i++)
		len += snprintf(buf + len, sizeof(buf) - (size_t) len,
				",{\"n\":\"%s\",\"u\":\"%s\",\"v\":%.2f}", r[i].quantity, r[i].unit,
				r[i].number);
	len += snprintf(buf + len, sizeof(buf) - (size_t) len, "]");
	snprintf(topic, sizeof(topic), "fieldgate/gw/sim/%s", r[0].device_id);
	fg_store_msg_from_frame(&m, r, n);
	m.topic = topic;
	m.payload = buf;
	m.payload_len = (size_t) len;
	e = fg_store_emit(s, &m);
	return e < 0 ? e : 1;
}

struct acker {
	struct fg_store *s;
	uint64_t last;
};

/* Ack every message handed out, as PUBACKs would. */
static int ack(const struct fg_outbox_msg *m, void *userdata)
{
	struct acker *a = userdata;

	a->last = m->seq;
	return fg_store_ack(a->s, m->seq);
}

int main(int argc, char **argv)
{
	static const char *const q[3] = { "temperature", "humidity", "battery" };
	struct fg_buffer_config cfg = {
		.commit_interval_ms = 100,
		.commit_batch = 1000,
		.max_rows = 100000000,
		.max_bytes = UINT64_C(1) << 40,
		.overflow = FG_OVERFLOW_DROP_OLDEST,
	};
	uint64_t wb0, wc0, wb, wc;
	struct acker a = { .last = 0 };
	char path[512], sql[128];
	long total, per, page, ckpt;
	struct fg_store *s;
	sqlite3 *db;
	int r;

	if (argc != 6) {
		fprintf(stderr, "usage: %s DIR READINGS PER_COMMIT PAGE_SIZE AUTOCHECKPOINT\n",
			argv[0]);
		return 2;
	}
	total = atol(argv[2]);
	per = atol(argv[3]);
	page = atol(argv[4]);
	ckpt = atol(argv[5]);
	snprintf(path, sizeof(path), "%s/bench-%ld-%ld-%ld.db", argv[1], per, page, ckpt);
	(void) unlink(path);
	cfg.path = path;

	snprintf(sql, sizeof(sql), "PRAGMA page_size = %ld; CREATE TABLE bench (x);", page);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "cannot create %s\n", path);
		return 1;
	}
	sqlite3_close(db);

	sqlite3_auto_extension((void (*)(void)) grab_db);
	r = fg_store_open(&cfg, transform, NULL, &s, NULL);
	if (r < 0) {
		fprintf(stderr, "open: %s\n", strerror(-r));
		return 1;
	}
	sqlite3_wal_autocheckpoint(last_db, (int) ckpt);
	a.s = s;

	wb0 = proc_io("write_bytes");
	wc0 = proc_io("wchar");
	for (long done = 0, frame = 1; done < total; frame++) {
		struct fg_reading rd[100];
		long n = per < 100 ? per : 100;

		for (long i = 0; i < per; i += n) {
			for (long k = 0; k < n; k++) {
				long idx = done + i + k;

				fg_reading_init(&rd[k], FG_SOURCE_SIM,
						idx % 6 < 3 ? "dev-a" : "dev-b", "sensor",
						q[idx % 3], "Cel");
				fg_reading_set_number(&rd[k], 20.0 + (double) (idx % 10));
				rd[k].time_ms = UINT64_C(1760000000000) + (uint64_t) idx;
				rd[k].frame_id = (uint64_t) (idx / 3);
			}
			if (fg_store_append(s, rd, (size_t) n) < 0)
				return 1;
		}
		r = fg_store_commit(s);
		if (r < 0) {
			fprintf(stderr, "commit: %s (%s)\n", strerror(-r), fg_store_last_error(s));
			return 1;
		}
		/* The sink's side: everything just queued is published and acked. */
		if (fg_store_peek(s, a.last, 1000, ack, &a) < 0)
			return 1;
		done += per;
	}
	/* The acks of the last round reach the disk with the next commit. */
	(void) fg_store_commit(s);
	wb = proc_io("write_bytes") - wb0;
	wc = proc_io("wchar") - wc0;
	printf("%6ld/commit page %5ld ckpt %6ld: write_bytes %8.0f B/reading, wchar %8.0f "
	       "B/reading\n",
	       per, page, ckpt, (double) wb / (double) total, (double) wc / (double) total);
	fg_store_close(s);
	(void) unlink(path);
	return 0;
}
