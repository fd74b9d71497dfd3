/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "store/tail.h"

void fg_tail_init(struct fg_tail *t)
{
	memset(t, 0, sizeof(*t));
	t->from = UINT64_MAX;
}

void fg_tail_free(struct fg_tail *t)
{
	free(t->buf);
	fg_tail_init(t);
}

void fg_tail_reset(struct fg_tail *t, uint64_t next_seq)
{
	t->head = t->n = t->wr = 0;
	t->from = next_seq;
}

static struct fg_tail_msg *entry(struct fg_tail *t, size_t i)
{
	return &t->m[(t->head + i) % FG_TAIL_MSGS];
}

/* The oldest entry goes: rows from its seq on may no longer all be here. */
static void drop_oldest(struct fg_tail *t)
{
	uint64_t next = t->m[t->head].seq + 1;

	if (next > t->from)
		t->from = next;
	t->head = (t->head + 1) % FG_TAIL_MSGS;
	t->n--;
}

/*
 * Room for len bytes: the live bytes run from the oldest entry's offset to
 * wr, wrapping at the end of buf; the oldest entries give way until there is
 * room after wr or, wrapping, before the oldest. Strict comparisons keep a
 * full ring from looking empty (oldest offset == wr).
 */
static uint32_t room(struct fg_tail *t, size_t len)
{
	for (;;) {
		const struct fg_tail_msg *h = &t->m[t->head];

		if (t->n == 0)
			return 0;
		if (h->off <= t->wr) {
			if (t->wr + len <= FG_TAIL_BYTES)
				return (uint32_t) t->wr;
			if (len < h->off)
				return 0;
		} else if (t->wr + len < h->off) {
			return (uint32_t) t->wr;
		}
		drop_oldest(t);
	}
}

void fg_tail_add(struct fg_tail *t, const struct fg_outbox_msg *m)
{
	size_t tlen = strlen(m->topic ? m->topic : "");
	size_t len = tlen + 1 + m->payload_len + m->correlation_len;
	struct fg_tail_msg *e;
	uint32_t off;

	if (t->n > 0 && m->seq <= entry(t, t->n - 1)->seq)
		fg_tail_reset(t, t->from); /* not newer than the newest: start again */
	if (len > FG_TAIL_BYTES / 4 || (!t->buf && !(t->buf = malloc(FG_TAIL_BYTES)))) {
		fg_tail_reset(t, m->seq + 1);
		return;
	}
	if (t->n == 0 && t->from > m->seq)
		t->from = m->seq; /* an empty tail holds all from here: nothing above exists */
	if (t->n == FG_TAIL_MSGS)
		drop_oldest(t);
	off = room(t, len);
	e = &t->m[(t->head + t->n) % FG_TAIL_MSGS];
	*e = (struct fg_tail_msg){
		.seq = m->seq,
		.created_ms = m->created_ms,
		.created_mono_usec = m->created_mono_usec,
		.off = off,
		.len = (uint32_t) len,
		.topic_len = (uint32_t) tlen,
		.payload_len = (uint32_t) m->payload_len,
		.correlation_len = (uint32_t) m->correlation_len,
		.qos = (uint8_t) m->qos,
		.retain = m->retain,
	};
	memcpy(t->buf + off, m->topic ? m->topic : "", tlen + 1);
	if (m->payload_len)
		memcpy(t->buf + off + tlen + 1, m->payload, m->payload_len);
	if (m->correlation_len)
		memcpy(t->buf + off + tlen + 1 + m->payload_len, m->correlation,
		       m->correlation_len);
	t->wr = off + len;
	t->n++;
}

void fg_tail_deleted(struct fg_tail *t, uint64_t seq, uint64_t next_seq)
{
	if (t->n == 0 || seq < t->m[t->head].seq) {
		if (seq >= t->from)
			fg_tail_reset(t, next_seq); /* cannot be: do not trust the tail */
		return;
	}
	if (seq == t->m[t->head].seq) {
		t->head = (t->head + 1) % FG_TAIL_MSGS;
		t->n--;
		return;
	}
	fg_tail_reset(t, next_seq); /* from the middle: rare (acks out of order) */
}

/* The index of the first entry with seq > after_seq (n if none). */
static size_t first_after(struct fg_tail *t, uint64_t after_seq)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (entry(t, mid)->seq <= after_seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int fg_tail_peek(struct fg_tail *t, uint64_t after_seq, size_t max,
		 bool (*skip)(const void *ctx, uint64_t seq), const void *ctx, fg_outbox_fn fn,
		 void *userdata)
{
	int given = 0;

	if (t->from == UINT64_MAX || after_seq + 1 < t->from)
		return -1;
	for (size_t i = first_after(t, after_seq), rows = 0; i < t->n && rows < max; i++, rows++) {
		const struct fg_tail_msg *e = entry(t, i);
		const char *b = t->buf + e->off;
		struct fg_outbox_msg m = {
			.seq = e->seq,
			.topic = b,
			.payload = b + e->topic_len + 1,
			.payload_len = e->payload_len,
			.qos = e->qos,
			.retain = e->retain,
			.created_ms = e->created_ms,
			.created_mono_usec = e->created_mono_usec,
			.correlation = e->correlation_len ? b + e->topic_len + 1 + e->payload_len
							  : NULL,
			.correlation_len = e->correlation_len,
		};

		if (skip && skip(ctx, m.seq))
			continue;
		if (fn(&m, userdata) < 0)
			break;
		given++;
	}
	t->served += (uint64_t) given;
	return given;
}
