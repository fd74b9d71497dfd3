/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The outbox's newest messages, kept in memory as they are written, so that
 * the publisher's peek right after a commit reads them from here instead of
 * from SQLite (a SELECT step and its columns cost about 3,000 instructions
 * a message). A copy, never the truth: the store tells the tail about every
 * row change (SQLite's update and rollback hooks), and whenever the tail
 * cannot be sure it holds what the table holds, it forgets and the peek goes
 * to the table. Bounded: FG_TAIL_MSGS messages and FG_TAIL_BYTES bytes; the
 * oldest give way.
 *
 * The invariant: every outbox row whose seq is >= from is in the tail.
 * Entries below from may be there too; they are rows as well.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/outbox.h"

#define FG_TAIL_MSGS  256
#define FG_TAIL_BYTES (64 * 1024)

struct fg_tail_msg {
	uint64_t seq;
	uint64_t created_ms;
	uint64_t created_mono_usec;
	uint32_t off;	      /* topic '\0' payload correlation, in buf */
	uint32_t len;
	uint32_t topic_len;
	uint32_t payload_len;
	uint32_t correlation_len;
	uint8_t qos;
	bool retain;
};

struct fg_tail {
	struct fg_tail_msg m[FG_TAIL_MSGS];
	size_t head, n;	 /* the entries, oldest first, in a ring */
	size_t wr;	 /* where the next entry's bytes go in buf */
	uint64_t from;	 /* every outbox row with seq >= from is an entry */
	char *buf;	 /* FG_TAIL_BYTES, allocated on the first add */
	uint64_t served; /* messages peeks got from here (for tests and metrics) */
};

/* An empty tail that knows nothing (from = UINT64_MAX): peeks go to the table. */
void fg_tail_init(struct fg_tail *t);
void fg_tail_free(struct fg_tail *t);

/* Forget every entry; no outbox row has a seq >= next_seq. */
void fg_tail_reset(struct fg_tail *t, uint64_t next_seq);

/*
 * The row seq was just inserted with this content (seq above every entry).
 * A message too big for the tail makes it forget (from = seq + 1).
 */
void fg_tail_add(struct fg_tail *t, const struct fg_outbox_msg *m);

/* Row seq was deleted (next_seq: the store's next seq, for a reset). */
void fg_tail_deleted(struct fg_tail *t, uint64_t seq, uint64_t next_seq);

/*
 * Peek as the table would: the first max rows with seq > after_seq, in seq
 * order, less those skip(seq) says are acked; fn per message, stopping at a
 * negative return. Returns the number given to fn, or -1 when the tail cannot
 * answer (after_seq + 1 < from): then ask the table.
 */
int fg_tail_peek(struct fg_tail *t, uint64_t after_seq, size_t max,
		 bool (*skip)(const void *ctx, uint64_t seq), const void *ctx, fg_outbox_fn fn,
		 void *userdata);
