/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The durable buffer: one SQLite file in WAL mode.
 *
 *   sources --append--> [staged, in RAM, at most commit_batch]
 *           --commit--> readings table --(transform, same txn)--> outbox table
 *   sink    --peek----> outbox rows in sequence order --ack--> deleted (batched)
 *
 * fg_store_commit() runs one transaction that inserts the staged readings,
 * then moves every reading from the readings table to the outbox through the
 * transform callback (the rule engine's slot) and deletes them from readings, so a reading is never processed twice
 * nor skipped, even across crashes (DESIGN invariant 3). Each outbox row gets
 * the next gateway-wide sequence number (persisted in the same transaction),
 * which the transform writes into the payload (invariant 2).
 * As the insert and the move commit or roll back together, staged readings
 * are handed to the transform straight from memory inside that transaction
 * (one WAL page less per commit); the readings table holds only readings
 * left by a store opened without a transform, and those go first.
 *
 * Bounds (max_rows, max_bytes with the WAL counted, free space on the
 * filesystem, max_age_s) are enforced at commit: rows are evicted
 * oldest-first (drop_oldest) or incoming rows are refused (drop_newest), and
 * counted by cause. Free space: deleted rows go to SQLite's free list and the
 * file does not shrink, but later inserts reuse those pages; so when the
 * filesystem has less than min_free (at least FG_STORE_DISK_RESERVE) left,
 * the buffer stops growing its file and makes room inside it by policy. A
 * full disk (SQLITE_FULL) all the same: the acks are then written apart, in
 * small transactions with a checkpoint between, since deleting rows needs no
 * new space and a small transaction fits in the WAL's existing room; room is
 * made by policy and the commit retried; readings that still do not fit are
 * counted as evicted for the disk. Nothing needs a restart: once acks or the
 * filesystem give room back, readings flow again.
 *
 * Memory is bounded whatever the backlog (invariant 4): the backlog lives on
 * disk; peek returns at most `max` rows.
 *
 * The store never logs above debug; it returns negative errno and keeps
 * counters; the caller logs.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/outbox.h"
#include "core/reading.h"

struct fg_store;

/*
 * The transform (the rule engine's slot): turn the readings of one frame
 * (same source, device and frame_id, in arrival order) into outbox messages
 * with fg_store_emit, any number of them (none: the frame is filtered).
 * Returns the number emitted, or a negative errno to abort the commit
 * (rolled back; the readings stay staged). It runs inside the commit's
 * transaction, so what it writes with fg_store_state_put commits or rolls
 * back with the messages.
 */
typedef int (*fg_store_transform_fn)(struct fg_store *s, const struct fg_reading *r, size_t n,
				     void *userdata);

/* A message for fg_store_emit; everything is copied. */
struct fg_store_msg {
	const char *topic;
	const void *payload;
	size_t payload_len;
	int qos;
	bool retain;
	const char *device;         /* device id it is about ("" for the gateway) */
	uint64_t created_ms;        /* wall ms of the oldest reading in it, 0 if unknown */
	uint64_t created_mono_usec; /* CLOCK_MONOTONIC of the same */
	const char *boot_id;        /* the boot the monotonic stamp belongs to, "" unknown */
	const void *correlation;    /* MQTT 5 correlation data, sent with the message; NULL: none */
	size_t correlation_len;
};

/* Fill m's device, created_ms (the oldest known wall time), mono stamp and boot from a frame. */
void fg_store_msg_from_frame(struct fg_store_msg *m, const struct fg_reading *r, size_t n);

/*
 * Append a message to the outbox with the next sequence number
 * (fg_store_next_seq, which the payload may carry). Only inside a commit
 * (from the transform or the end hook) or inside the store's own
 * transaction (fg_store_begin); -EPERM elsewhere. Returns 0 or a negative
 * errno (which the caller returns, aborting the commit or its transaction).
 */
int fg_store_emit(struct fg_store *s, const struct fg_store_msg *m);
/* The sequence number the next fg_store_emit gets. */
uint64_t fg_store_next_seq(const struct fg_store *s);

/*
 * The store's own transaction, for writers other than the commit (the
 * command queue): fg_store_begin starts it (BEGIN IMMEDIATE); inside it
 * fg_store_emit appends outbox messages with the next seq and the
 * fg_store_cmd_* writes join it; fg_store_end(s, true) commits it, synced
 * (synchronous=FULL) before it returns, fg_store_end(s, false) rolls it
 * back. Staged readings, waiting acks and device state are not touched:
 * they go with the next commit. A failed or rolled-back transaction leaves
 * nothing behind, in the file or in memory (next_seq, counters).
 * fg_store_begin returns -EBUSY inside a commit (the transform or its hooks)
 * or inside another such transaction; fg_store_end's commit returns a
 * negative errno (-ENOSPC for a full disk) after rolling back. While one is
 * open, fg_store_commit returns -EBUSY.
 */
int fg_store_begin(struct fg_store *s);
int fg_store_end(struct fg_store *s, bool commit);

/*
 * Command rows (cmd/queue.c keeps the command queue in them). The store
 * knows their columns, not what they mean: body is the owner's blob
 * (fg_command_pack), kept while the row is not finished. A finished row
 * keeps only its id, device, kind and finished_ms, for deduplication, until
 * fg_store_cmd_forget. Each write outside fg_store_begin/end is its own
 * transaction.
 */
enum fg_store_cmd_state {
	FG_STORE_CMD_PENDING = 0,
	FG_STORE_CMD_AWAITING = 1, /* sent, waiting for its acknowledgement: sent first */
	FG_STORE_CMD_FINISHED = 2,
};

struct fg_store_cmd {
	const char *id;		/* unique */
	const char *device;	/* "" none */
	int kind;
	enum fg_store_cmd_state state;
	int priority;		/* higher first */
	uint64_t expires_ms;	/* 0 never */
	uint64_t accepted_ms;
	uint64_t finished_ms;	/* FINISHED rows */
	uint64_t order;		/* arrival order, set by insert (the row's rowid) */
	const void *body;	/* NULL for a finished row */
	size_t body_len;
};

/* Insert a row (c->order is ignored): 0, -EEXIST for an id already there, or an error. */
int fg_store_cmd_insert(struct fg_store *s, const struct fg_store_cmd *c);
/*
 * Set the state, finished_ms and body of row c->id (a FINISHED row drops its
 * body whatever c->body says): 0, -ENOENT when there is no such row.
 */
int fg_store_cmd_update(struct fg_store *s, const struct fg_store_cmd *c);
/* The state of row id (>= 0), -ENOENT when there is none, or an error. */
int fg_store_cmd_state(struct fg_store *s, const char *id);

/* Called per row; the row is valid during the call; a negative return stops the walk. */
typedef int (*fg_store_cmd_fn)(const struct fg_store_cmd *c, void *userdata);
/* Call fn for row id: 0, -ENOENT, or fn's negative return or an error. */
int fg_store_cmd_get(struct fg_store *s, const char *id, fg_store_cmd_fn fn, void *userdata);
/*
 * Call fn for up to max rows not finished (max 0: all), of device (NULL:
 * all), by device, then state descending (awaiting before pending),
 * priority descending, arrival. state >= 0 takes only rows in that state;
 * expires_by > 0 only rows with 0 < expires_ms <= expires_by. Returns the
 * number of rows, or fn's negative return or an error. fn must not write
 * command rows (copy what to change, then change it).
 */
int fg_store_cmd_each(struct fg_store *s, const char *device, int state, uint64_t expires_by,
		      size_t max, fg_store_cmd_fn fn, void *userdata);
/* Rows not finished, of device (NULL: all), or an error. */
int fg_store_cmd_count(struct fg_store *s, const char *device);
/* Delete up to max finished rows with finished_ms < before, oldest first: how many, or an error. */
int fg_store_cmd_forget(struct fg_store *s, uint64_t before, size_t max);
/*
 * fg_store_cmd_each over a buffer file opened read-only (the daemon may be
 * running): 0 rows from a buffer older than the command table.
 */
int fg_store_read_cmds(const char *path, const char *device, fg_store_cmd_fn fn, void *userdata);

/*
 * Hooks around the transform, for a transform with state of its own (the
 * rule engine). `end` runs in every commit's transaction after the last
 * frame (it may emit, and write its state); its negative return aborts the
 * commit. `rolled_back` is told when a commit rolled back after the
 * transform ran, so the owner can drop what it remembers of that
 * transaction and read its state again. Either may be NULL.
 */
struct fg_store_hooks {
	int (*end)(struct fg_store *s, void *userdata);
	void (*rolled_back)(void *userdata);
};
void fg_store_set_hooks(struct fg_store *s, const struct fg_store_hooks *h);

/* Make the next fg_store_commit run its transaction (and the end hook) even with nothing staged. */
void fg_store_want_commit(struct fg_store *s);

/*
 * When the buffer wants its next commit (CLOCK_MONOTONIC usec): soon for
 * staged readings, pending state, fg_store_want_commit or readings left to
 * transform; for acks alone, when the oldest has waited its time (or soon if
 * there are many); for commits not yet synced, when the oldest is
 * sync_interval_ms old (fg_store_commit syncs it then, with or without work
 * of its own); 0 when nothing waits. The daemon arms its commit timer by
 * it, so that an idle buffer does not wake the loop ten times a second.
 */
uint64_t fg_store_commit_due(const struct fg_store *s, uint64_t soon);

/*
 * Opaque state of the transform (rule state): a blob per (owner, key),
 * e.g. ("rule:frost", "ble/a4c1.../temperature"). Written at once: inside a
 * commit it commits or rolls back with it, outside one it is its own
 * transaction. fg_store_state_delete with key NULL deletes every key of
 * owner. fg_store_state_each calls fn for every row and returns how many
 * (a negative return of fn stops it and is returned); owner NULL: all
 * owners.
 */
int fg_store_state_put(struct fg_store *s, const char *owner, const char *key, const void *blob,
		       size_t len);
int fg_store_state_delete(struct fg_store *s, const char *owner, const char *key);
/* Read one row into buf: 0 and *ret_len, -ENOENT, -ENOBUFS (bigger than size), or an error. */
int fg_store_state_get(struct fg_store *s, const char *owner, const char *key, void *buf,
		       size_t size, size_t *ret_len);
typedef int (*fg_store_state_fn)(const char *owner, const char *key, const void *blob,
				 size_t len, void *userdata);
int fg_store_state_each(struct fg_store *s, const char *owner, fg_store_state_fn fn,
			void *userdata);

struct fg_store_stats {
	uint64_t readings_appended;   /* handed to fg_store_append */
	uint64_t readings_committed;  /* written to the readings table */
	uint64_t messages_queued;     /* written to the outbox */
	uint64_t messages_acked;      /* deleted after the sink's ack */
	uint64_t evicted;             /* outbox rows or readings dropped by a bound or a full disk */
	uint64_t evicted_rows;        /* of which for max_rows */
	uint64_t evicted_bytes;       /* for max_bytes */
	uint64_t evicted_disk;        /* for min_free or a full disk */
	uint64_t evicted_age;         /* for max_age */
	uint64_t evict_episodes;      /* eviction episodes begun (see fg_store_evicting) */
	uint64_t disk_free;           /* bytes available on the buffer's filesystem, last commit */
	uint64_t wal_bytes;           /* size of the WAL file, last commit */
	uint64_t commits;
	uint64_t outbox_rows;         /* current depth */
	uint64_t readings_rows;       /* not yet transformed (normally 0 after a commit) */
	uint64_t oldest_ms;           /* created_ms of the oldest outbox row, 0 if none/unknown */
	uint64_t db_bytes;            /* pages in use * page_size, plus the WAL (what max_bytes bounds) */
	uint64_t stamped;             /* messages given their wall time late (fg_store_stamp_times) */
	uint64_t wal_syncs;           /* syncs of the WAL by sync_interval_ms (not SQLite's own) */
	uint64_t sync_errors;         /* of which failed (the commits stay unsynced, tried again) */
	uint64_t synced_seq;          /* the newest seq committed before the last sync: on the card */
	uint64_t committed_seq;       /* the newest seq given to a message (fg_store_get_stats) */
	bool recovered_corrupt;       /* the file was moved aside at open */
};

/*
 * For a process that uses SQLite from one thread only (fieldgated): turn off
 * SQLite's mutexes and its memory statistics, which take a global mutex for
 * every allocation (together 0.5k instructions per reading at 1,000
 * readings/s). Call before anything else touches SQLite; later it does
 * nothing. Returns 0 or a negative errno.
 */
int fg_store_single_thread(void);

/*
 * Open (create, migrate) the buffer at cfg->path. cfg is copied. A file that is not a
 * database or fails the integrity check is renamed to PATH.corrupt-YYYYmmddTHHMMSSZ
 * and a fresh buffer is created; *ret_moved_to (if not NULL) gets that name
 * (malloc'd) or NULL. Returns 0 or a negative errno naming the real cause
 * (-ENOENT when the directory is missing: it is not created here; -EACCES,
 * -EROFS for a directory that cannot be written). With transform NULL, commits
 * keep readings in the readings table for a later store that has one.
 * The file is made mode 0600 whatever the umask (it holds OTAA session keys),
 * and SQLite gives its -wal and -shm files the same mode.
 */
int fg_store_open(const struct fg_buffer_config *cfg, fg_store_transform_fn transform,
		  void *userdata, struct fg_store **ret_store, char **ret_moved_to);
/* Commit what is staged and close. NULL is fine. */
void fg_store_close(struct fg_store *s);

/* Stage readings (copied, text values too). -ENOBUFS when commit_batch rows are already staged. */
int fg_store_append(struct fg_store *s, const struct fg_reading *r, size_t n);
/* Readings staged and not yet committed. */
size_t fg_store_staged(const struct fg_store *s);

/*
 * One transaction: insert staged readings, transform readings to outbox rows,
 * apply acked deletions, enforce bounds. Returns the number of outbox rows
 * added or a negative errno (the staged readings stay staged on -EBUSY).
 * Acks alone make a commit only when 4096 wait or the oldest is 1 s old;
 * until then they ride along with the readings' commits (SD-card wear).
 */
int fg_store_commit(struct fg_store *s);
/* The same, and write waiting acks now (shutdown, tests). */
int fg_store_flush(struct fg_store *s);

/*
 * Read up to max outbox rows with seq > after_seq, in order; call fn for
 * each (the message is valid during the call). Returns the number read.
 */
int fg_store_peek(struct fg_store *s, uint64_t after_seq, size_t max, fg_outbox_fn fn,
		  void *userdata);

/*
 * Wall time for messages made before the wall clock was known (the Pi has no
 * RTC; until NTP has synchronized, readings carry only the monotonic clock).
 * Rewrite a payload to carry time_ms: a malloc'd *ret and its length, or a
 * negative errno to leave the payload as it is.
 */
typedef int (*fg_store_stamp_fn)(const void *payload, size_t len, uint64_t time_ms, char **ret,
				 size_t *ret_len, void *userdata);
/*
 * Once the wall clock is known: give up to 256 messages made in this boot
 * without a wall time their time, now_wall_ms less their age on the
 * monotonic clock, in one transaction: the created time (max_age, the oldest
 * age) and the payload through fn. Messages of an earlier boot cannot be
 * dated and keep none. Returns the number stamped (0 once none is left, and
 * then at no cost: the store knows when it has made such messages) or a
 * negative errno.
 */
int fg_store_stamp_times(struct fg_store *s, uint64_t now_wall_ms, uint64_t now_mono_usec,
			 fg_store_stamp_fn fn, void *userdata);

/* The sink has the message (PUBACK): delete it at the next commit. */
int fg_store_ack(struct fg_store *s, uint64_t seq);

void fg_store_get_stats(const struct fg_store *s, struct fg_store_stats *ret);

/*
 * Whether the buffer is in an eviction episode: the last commit that wrote
 * evicted rows (or refused readings). An episode begins at the first such
 * commit (stats.evict_episodes is incremented) and ends at the first commit
 * that writes without evicting. The caller logs once when it sees the
 * episode count grow, and once with the evicted total when this turns false.
 */
bool fg_store_evicting(const struct fg_store *s);

/* Free space the buffer always leaves on its filesystem, whatever min_free: room for the WAL. */
#define FG_STORE_DISK_RESERVE (1024 * 1024)

/*
 * Whether the buffer's filesystem is nearly full, measured at each commit: it
 * went below twice the free space the buffer keeps (min_free, at least
 * FG_STORE_DISK_RESERVE) and has not since come back above two and a half
 * times it. ret_mark (may be NULL) gets the threshold, twice that space. The
 * caller logs once when this turns true and once when it turns false.
 */
bool fg_store_disk_low(const struct fg_store *s, uint64_t *ret_mark);

/* What made the current (or last) eviction episode begin. */
enum fg_store_evict_cause {
	FG_EVICT_NONE,
	FG_EVICT_MAX_ROWS,
	FG_EVICT_MAX_BYTES,
	FG_EVICT_MIN_FREE,  /* the filesystem has less than min_free (or the reserve) left */
	FG_EVICT_DISK_FULL, /* SQLITE_FULL: the filesystem ran out */
};
const char *fg_store_evict_cause_to_string(enum fg_store_evict_cause c);

/*
 * The current eviction episode (or the last one, once fg_store_evicting turns
 * false): its cause and how many rows it has evicted or refused. An episode
 * begins at the first eviction by max_rows, max_bytes or the disk (max_age
 * sweeps are counted but make no episode) and ends at a commit that evicts
 * nothing once the backlog has moved by a quarter since the last eviction
 * (drained by acks, or grown because there is room again), so a buffer that
 * sheds a little every few commits is one episode, not many.
 */
struct fg_store_episode {
	enum fg_store_evict_cause cause;
	uint64_t evicted;
};
void fg_store_get_episode(const struct fg_store *s, struct fg_store_episode *ret);

/*
 * Tests: measure free space with fn instead of statvfs(2) on the buffer's
 * directory (f_bavail * f_frsize). fn returns 0 and *ret_bytes, or a negative
 * errno (then the free-space bound is not applied). NULL restores statvfs.
 */
typedef int (*fg_store_free_space_fn)(const char *dir, uint64_t *ret_bytes, void *userdata);
void fg_store_set_free_space_fn(struct fg_store *s, fg_store_free_space_fn fn, void *userdata);

/* SQLite's message for the last failure, "" if none. */
const char *fg_store_last_error(const struct fg_store *s);

/* Per-device state for later sources (frame counters, last values): a small key/value per device. */
int fg_store_device_state_get(struct fg_store *s, const char *device, const char *key,
			      int64_t *ret_value);
/* Written in the next commit's transaction. */
int fg_store_device_state_set(struct fg_store *s, const char *device, const char *key,
			      int64_t value);

/* What `fieldgatectl status` shows of a buffer file, read without the daemon. */
struct fg_store_summary {
	uint64_t outbox_rows;
	uint64_t readings_rows;
	uint64_t next_seq;
	uint64_t oldest_ms;   /* created_ms of the oldest message, 0 if none/unknown */
	uint64_t db_bytes;
};

/* Read a buffer file read-only (the daemon may be running). Returns 0 or a negative errno. */
int fg_store_read_summary(const char *path, struct fg_store_summary *ret);

/* Per topic: messages waiting, first and last sequence number. */
typedef int (*fg_store_topic_fn)(const char *topic, uint64_t count, uint64_t first_seq,
				 uint64_t last_seq, void *userdata);
/* Call fn for each topic in the outbox, read-only. Returns the number of topics or a negative errno. */
int fg_store_read_topics(const char *path, fg_store_topic_fn fn, void *userdata);

/* Each row of the per-device state (fieldgatectl devices without a daemon). */
typedef int (*fg_store_device_state_fn)(const char *device, const char *key, int64_t value,
					void *userdata);
/* Call fn for each device state row, read-only. Returns the number of rows or a negative errno. */
int fg_store_read_device_state(const char *path, fg_store_device_state_fn fn, void *userdata);
