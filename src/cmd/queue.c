/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The durable command queue over the store's command rows. Each call that
 * changes anything is one transaction of the store (fg_store_begin/end):
 * the rows and the outcome messages it writes commit together, synced, or
 * not at all; the counters move only once it has committed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/queue.h"
#include "util/json.h"

#define EVENT_MAX    2048 /* an outcome's JSON: id, device, detail and numbers */
#define DETAIL_MAX   256  /* of a failed outcome's detail */
#define EXPIRE_BATCH 256  /* expired commands ended in one transaction */

struct fg_cmdq {
	struct fg_store *s;
	uint32_t max_queue_per_device;
	uint32_t max_queued;
	uint32_t keep_ids_s;
	char *event_topic;
	struct fg_cmdq_stats stats;
};

/* What a transaction adds to the counters, applied once it has committed. */
struct delta {
	uint64_t outcomes[FG_CMD_OUTCOME__COUNT];
	uint64_t failed[FG_CMD_REASON__COUNT];
	int64_t pending;
};

/* End the transaction: committed when r (the work's result) is not an error; the first error. */
static int end_txn(struct fg_cmdq *q, int r)
{
	int e = fg_store_end(q->s, r >= 0);

	return r < 0 ? r : e < 0 ? e : r;
}

static void apply(struct fg_cmdq *q, const struct delta *d)
{
	for (int i = 0; i < FG_CMD_OUTCOME__COUNT; i++)
		q->stats.outcomes[i] += d->outcomes[i];
	for (int i = 0; i < FG_CMD_REASON__COUNT; i++)
		q->stats.failed[i] += d->failed[i];
	if (d->pending < 0 && (uint64_t) -d->pending > q->stats.pending)
		q->stats.pending = 0;
	else
		q->stats.pending = (uint64_t) ((int64_t) q->stats.pending + d->pending);
}

int fg_cmdq_new(struct fg_store *s, const struct fg_commands_config *cfg, const char *event_topic,
		struct fg_cmdq **ret)
{
	struct fg_cmdq *q;
	int n;

	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->s = s;
	q->max_queue_per_device = cfg->max_queue_per_device;
	q->max_queued = cfg->max_queued;
	q->keep_ids_s = cfg->keep_ids_s;
	q->event_topic = strdup(event_topic ? event_topic : "");
	if (!q->event_topic) {
		free(q);
		return -ENOMEM;
	}
	/* Commands queued before a restart are still pending. */
	n = fg_store_cmd_count(s, NULL);
	if (n < 0) {
		fg_cmdq_free(q);
		return n;
	}
	q->stats.pending = (uint64_t) n;
	*ret = q;
	return 0;
}

void fg_cmdq_free(struct fg_cmdq *q)
{
	if (!q)
		return;
	free(q->event_topic);
	free(q);
}

/* One outcome message on topic, its JSON carrying the seq it gets. */
static int emit_one(struct fg_cmdq *q, const char *topic, const struct fg_command *c,
		    const struct fg_cmd_event *e, uint64_t now_ms, bool with_correlation)
{
	char json[EVENT_MAX];
	struct fg_store_msg m = {
		.topic = topic,
		.payload = json,
		.qos = 1,
		.retain = false,
		.device = c->device_name,
		.created_ms = now_ms,
	};
	int n;

	n = fg_cmd_event_json(e, fg_store_next_seq(q->s), json, sizeof(json));
	if (n < 0)
		return n;
	m.payload_len = (size_t) n;
	if (with_correlation && c->correlation_len) {
		m.correlation = c->correlation;
		m.correlation_len = c->correlation_len;
	}
	return fg_store_emit(q->s, &m);
}

/*
 * The outcome o of c: on the event topic, and on the command's MQTT 5
 * response topic (with its correlation data) when it has one.
 */
static int emit_outcome(struct fg_cmdq *q, const struct fg_command *c, enum fg_cmd_outcome o,
			enum fg_cmd_reason r, const char *detail, uint64_t now_ms, struct delta *d)
{
	char cut[DETAIL_MAX];
	struct fg_cmd_event e = {
		.id = c->id,
		.outcome = o,
		.reason = o == FG_CMD_FAILED ? r : FG_CMD_R_NONE,
		.device = c->device[0] ? c->device : NULL,
		.has_f_cnt_down = c->tries > 0 && c->kind != FG_CMD_GPIO &&
				  (o == FG_CMD_SENT || o == FG_CMD_ACK || o == FG_CMD_NACK),
		.f_cnt_down = c->f_cnt_down,
		.time_ms = now_ms,
	};
	int ret;

	if (detail && detail[0]) {
		snprintf(cut, sizeof(cut), "%s", detail);
		e.detail = cut;
	}
	ret = emit_one(q, q->event_topic, c, &e, now_ms, false);
	if (ret >= 0 && c->response_topic[0])
		ret = emit_one(q, c->response_topic, c, &e, now_ms, true);
	if (ret < 0)
		return ret;
	d->outcomes[o]++;
	if (o == FG_CMD_FAILED)
		d->failed[e.reason]++;
	return 0;
}

/* The row of a command as the store keeps it; body: fg_command_pack's bytes. */
static struct fg_store_cmd row_of(const struct fg_command *c, enum fg_store_cmd_state state,
				  const uint8_t *body, size_t body_len)
{
	return (struct fg_store_cmd){
		.id = c->id,
		.device = c->device_name,
		.kind = (int) c->kind,
		.state = state,
		.priority = c->priority,
		.expires_ms = c->expires_ms,
		.accepted_ms = c->accepted_ms,
		.body = body,
		.body_len = body_len,
	};
}

/* Rewrite the row of c (not finished) with its state and body. */
static int write_row(struct fg_cmdq *q, const struct fg_command *c)
{
	uint8_t body[FG_COMMAND_PACK_MAX];
	struct fg_store_cmd row;
	int n;

	n = fg_command_pack(c, body, sizeof(body));
	if (n < 0)
		return n;
	row = row_of(c, c->awaiting_ack ? FG_STORE_CMD_AWAITING : FG_STORE_CMD_PENDING, body,
		     (size_t) n);
	return fg_store_cmd_update(q->s, &row);
}

/* Finish a pending command inside an open transaction: its row, its outcome. */
static int finish_in(struct fg_cmdq *q, const struct fg_command *c, enum fg_cmd_outcome o,
		     enum fg_cmd_reason r, const char *detail, uint64_t now_ms, struct delta *d)
{
	struct fg_store_cmd row = row_of(c, FG_STORE_CMD_FINISHED, NULL, 0);
	int ret;

	row.finished_ms = now_ms;
	ret = fg_store_cmd_update(q->s, &row);
	if (ret >= 0)
		ret = emit_outcome(q, c, o, r, detail, now_ms, d);
	if (ret >= 0)
		d->pending--;
	return ret;
}

/* A command read back from its row, or why not. */
struct loaded {
	struct fg_command c;
	enum fg_store_cmd_state state;
	uint64_t order;
	int err; /* -EBADMSG: the body could not be read */
	char id[FG_CMD_ID_MAX + 1];
	char device[FG_CMD_DEVICE_MAX + 1];
};

/* Read a row into a command: the body, and the row's columns where they are the truth. */
static void load_row(const struct fg_store_cmd *row, struct loaded *l)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->id, sizeof(l->id), "%s", row->id);
	snprintf(l->device, sizeof(l->device), "%s", row->device);
	l->state = row->state;
	l->order = row->order;
	l->err = row->body ? fg_command_unpack(row->body, row->body_len, &l->c) : -EBADMSG;
	if (l->err < 0) {
		/* Enough of it to end it with an outcome. */
		memset(&l->c, 0, sizeof(l->c));
		snprintf(l->c.id, sizeof(l->c.id), "%s", row->id);
		snprintf(l->c.device_name, sizeof(l->c.device_name), "%s", row->device);
		l->c.kind = (enum fg_cmd_kind) row->kind;
		l->c.priority = row->priority;
		l->c.expires_ms = row->expires_ms;
		l->c.accepted_ms = row->accepted_ms;
	}
	l->c.awaiting_ack = row->state == FG_STORE_CMD_AWAITING;
}

static int load_one(const struct fg_store_cmd *row, void *userdata)
{
	load_row(row, userdata);
	return 0;
}

/* Pending rows copied out of a walk (the walk must not write), at most EXPIRE_BATCH. */
struct batch {
	struct loaded *l;
	size_t n;
};

static int add_to_batch(const struct fg_store_cmd *row, void *userdata)
{
	struct batch *b = userdata;

	if (b->n == EXPIRE_BATCH)
		return -ENOBUFS;
	load_row(row, &b->l[b->n++]);
	return 0;
}

/* End every pending command of device as failed "replaced", inside the transaction. */
static int clear_device(struct fg_cmdq *q, const char *device, uint64_t now_ms, struct delta *d)
{
	struct batch b = { .n = 0 };
	int r;

	b.l = calloc(EXPIRE_BATCH, sizeof(*b.l));
	if (!b.l)
		return -ENOMEM;
	do {
		b.n = 0;
		/*
		 * Only what waits to be sent: a confirmed downlink already on the
		 * air ends in its ack or nack, which the device decides, not us.
		 */
		r = fg_store_cmd_each(q->s, device, FG_STORE_CMD_PENDING, 0, EXPIRE_BATCH,
				      add_to_batch, &b);
		for (size_t i = 0; r >= 0 && i < b.n; i++)
			r = finish_in(q, &b.l[i].c, FG_CMD_FAILED, FG_CMD_R_REPLACED, NULL, now_ms,
				      d);
	} while (r >= 0 && b.n == EXPIRE_BATCH);
	free(b.l);
	return r < 0 ? r : 0;
}

/* Remember the id of a command that ends without being queued. */
static int remember(struct fg_cmdq *q, const struct fg_command *c, uint64_t now_ms)
{
	struct fg_store_cmd row = row_of(c, FG_STORE_CMD_FINISHED, NULL, 0);

	row.finished_ms = now_ms;
	return fg_store_cmd_insert(q->s, &row);
}

/* Whether id is known inside the transaction: 1, 0, or an error. */
static int known(struct fg_cmdq *q, const char *id)
{
	int r = fg_store_cmd_state(q->s, id);

	return r == -ENOENT ? 0 : r < 0 ? r : 1;
}

int fg_cmdq_accept(struct fg_cmdq *q, const struct fg_command *c, uint64_t now_ms)
{
	uint8_t body[FG_COMMAND_PACK_MAX];
	struct fg_command k = *c;
	struct delta d = { .pending = 0 };
	struct fg_store_cmd row;
	int r, n, ret = 0;

	if ((c->kind != FG_CMD_DOWN_PUSH && c->kind != FG_CMD_DOWN_REPLACE) || !c->id[0] ||
	    !c->device_name[0])
		return -EINVAL;
	k.accepted_ms = now_ms;
	k.tries = 0;
	k.f_cnt_down = 0;
	k.awaiting_ack = false;
	k.object = NULL;
	k.object_len = 0;
	n = fg_command_pack(&k, body, sizeof(body));
	if (n < 0)
		return n;
	q->stats.received++;
	r = fg_store_begin(q->s);
	if (r < 0)
		return r;
	r = known(q, k.id);
	if (r > 0) {
		(void) fg_store_end(q->s, false);
		q->stats.duplicates++;
		return 1;
	}
	if (r >= 0 && k.kind == FG_CMD_DOWN_REPLACE)
		r = clear_device(q, k.device_name, now_ms, &d);
	if (r >= 0) {
		/*
		 * The total from the counter (kept from the rows at open and by
		 * every committed change): counting up to max_queued rows at
		 * every accept would cost what the bound is there to limit.
		 */
		int dev = fg_store_cmd_count(q->s, k.device_name);
		int64_t all = (int64_t) q->stats.pending + d.pending;

		r = dev;
		if (r >= 0 &&
		    ((uint32_t) dev >= q->max_queue_per_device || all >= (int64_t) q->max_queued)) {
			char detail[96];

			snprintf(detail, sizeof(detail), "%s",
				 (uint32_t) dev >= q->max_queue_per_device
					 ? "commands.max_queue_per_device reached"
					 : "commands.max_queued reached");
			r = remember(q, &k, now_ms);
			if (r >= 0)
				r = emit_outcome(q, &k, FG_CMD_FAILED, FG_CMD_R_QUEUE_FULL, detail,
						 now_ms, &d);
			ret = 2;
		} else if (r >= 0) {
			row = row_of(&k, FG_STORE_CMD_PENDING, body, (size_t) n);
			r = fg_store_cmd_insert(q->s, &row);
			if (r >= 0)
				r = emit_outcome(q, &k, FG_CMD_QUEUED, FG_CMD_R_NONE, NULL, now_ms,
						 &d);
			if (r >= 0)
				d.pending++;
		}
	}
	r = end_txn(q, r);
	if (r < 0)
		return r;
	apply(q, &d);
	return ret;
}

int fg_cmdq_finish_now(struct fg_cmdq *q, const struct fg_command *c, enum fg_cmd_outcome o,
		       enum fg_cmd_reason r, const char *detail, uint64_t now_ms)
{
	struct delta d = { .pending = 0 };
	int e;

	if (o == FG_CMD_QUEUED || (unsigned) o >= FG_CMD_OUTCOME__COUNT ||
	    (unsigned) r >= FG_CMD_REASON__COUNT)
		return -EINVAL;
	q->stats.received++;
	e = fg_store_begin(q->s);
	if (e < 0)
		return e;
	if (c->id[0]) {
		e = known(q, c->id);
		if (e > 0) {
			(void) fg_store_end(q->s, false);
			q->stats.duplicates++;
			return 1;
		}
		if (e >= 0)
			e = remember(q, c, now_ms);
	}
	if (e >= 0)
		e = emit_outcome(q, c, o, r, detail, now_ms, &d);
	e = end_txn(q, e);
	if (e < 0)
		return e;
	apply(q, &d);
	return 0;
}

int fg_cmdq_seen(struct fg_cmdq *q, const char *id)
{
	return known(q, id);
}

int fg_cmdq_next(struct fg_cmdq *q, const char *device, uint64_t now_ms, struct fg_command *ret)
{
	struct delta d = { .pending = 0 };
	struct loaded *l;
	int r, n;

	l = malloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (;;) {
		n = fg_store_cmd_each(q->s, device, -1, 0, 1, load_one, l);
		if (n <= 0) {
			r = n < 0 ? n : -ENOENT;
			break;
		}
		if (l->err >= 0 && l->state == FG_STORE_CMD_AWAITING)
			goto found;
		if (l->err >= 0 && !(l->c.expires_ms && l->c.expires_ms <= now_ms))
			goto found;
		/* Expired before it could be sent, or a record we cannot read: it ends here. */
		r = fg_store_begin(q->s);
		if (r < 0)
			break;
		memset(&d, 0, sizeof(d));
		if (l->err < 0)
			r = finish_in(q, &l->c, FG_CMD_FAILED, FG_CMD_R_STORAGE,
				      "the queued record cannot be read", now_ms, &d);
		else
			r = finish_in(q, &l->c, FG_CMD_EXPIRED, FG_CMD_R_NONE, NULL, now_ms, &d);
		r = end_txn(q, r);
		if (r < 0)
			break;
		apply(q, &d);
	}
	free(l);
	return r;
found:
	*ret = l->c;
	free(l);
	return 0;
}

int fg_cmdq_pending(struct fg_cmdq *q, const char *device)
{
	return fg_store_cmd_count(q->s, device);
}

/* Load pending command id: 0, -ENOENT when it is not pending, or an error. */
static int load_pending(struct fg_cmdq *q, const char *id, struct loaded *l)
{
	int r = fg_store_cmd_get(q->s, id, load_one, l);

	if (r < 0)
		return r;
	return l->state == FG_STORE_CMD_FINISHED ? -ENOENT : 0;
}

int fg_cmdq_sent(struct fg_cmdq *q, const char *id, uint32_t f_cnt_down, bool awaiting_ack)
{
	struct loaded *l;
	int r;

	l = malloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	r = fg_store_begin(q->s);
	if (r < 0) {
		free(l);
		return r;
	}
	r = load_pending(q, id, l);
	if (r >= 0 && l->err < 0)
		r = l->err;
	if (r >= 0) {
		l->c.tries++;
		l->c.f_cnt_down = f_cnt_down;
		l->c.awaiting_ack = awaiting_ack;
		r = write_row(q, &l->c);
	}
	r = end_txn(q, r);
	free(l);
	return r < 0 ? r : 0;
}

int fg_cmdq_finish(struct fg_cmdq *q, const char *id, enum fg_cmd_outcome o, enum fg_cmd_reason r,
		   const char *detail, uint64_t now_ms)
{
	struct delta d = { .pending = 0 };
	struct loaded *l;
	int e;

	if (o == FG_CMD_QUEUED || (unsigned) o >= FG_CMD_OUTCOME__COUNT ||
	    (unsigned) r >= FG_CMD_REASON__COUNT)
		return -EINVAL;
	l = malloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	e = fg_store_begin(q->s);
	if (e < 0) {
		free(l);
		return e;
	}
	e = load_pending(q, id, l);
	if (e >= 0)
		e = finish_in(q, &l->c, o, r, detail, now_ms, &d);
	e = end_txn(q, e);
	free(l);
	if (e < 0)
		return e;
	apply(q, &d);
	return 0;
}

int fg_cmdq_expire(struct fg_cmdq *q, uint64_t now_ms)
{
	struct batch b = { .n = 0 };
	int r = 0, total = 0;

	b.l = calloc(EXPIRE_BATCH, sizeof(*b.l));
	if (!b.l)
		return -ENOMEM;
	do {
		struct delta d = { .pending = 0 };

		b.n = 0;
		r = fg_store_cmd_each(q->s, NULL, FG_STORE_CMD_PENDING, now_ms, EXPIRE_BATCH,
				      add_to_batch, &b);
		if (r <= 0)
			break;
		r = fg_store_begin(q->s);
		for (size_t i = 0; r >= 0 && i < b.n; i++)
			r = finish_in(q, &b.l[i].c, FG_CMD_EXPIRED, FG_CMD_R_NONE, NULL, now_ms,
				      &d);
		r = end_txn(q, r);
		if (r < 0)
			break;
		apply(q, &d);
		total += (int) b.n;
	} while (b.n == EXPIRE_BATCH);
	free(b.l);
	return r < 0 ? r : total;
}

int fg_cmdq_forget(struct fg_cmdq *q, uint64_t now_ms)
{
	uint64_t keep = (uint64_t) q->keep_ids_s * 1000;
	int r, n;

	if (now_ms <= keep)
		return 0;
	r = fg_store_begin(q->s);
	if (r < 0)
		return r;
	n = fg_store_cmd_forget(q->s, now_ms - keep, 1000);
	return end_txn(q, n);
}

struct each_ctx {
	fg_cmdq_fn fn;
	void *userdata;
};

static int each_one(const struct fg_store_cmd *row, void *userdata)
{
	struct each_ctx *e = userdata;
	struct loaded l;

	load_row(row, &l);
	/* A record this version cannot read is shown by what its row says. */
	return e->fn(&l.c, e->userdata);
}

int fg_cmdq_each(struct fg_cmdq *q, const char *device, fg_cmdq_fn fn, void *userdata)
{
	struct each_ctx e = { .fn = fn, .userdata = userdata };

	return fg_store_cmd_each(q->s, device, -1, 0, 0, each_one, &e);
}

void fg_cmdq_get_stats(const struct fg_cmdq *q, struct fg_cmdq_stats *ret)
{
	*ret = q->stats;
}

int fg_cmdq_read_file(const char *path, const char *device, fg_cmdq_fn fn, void *userdata)
{
	struct each_ctx e = { .fn = fn, .userdata = userdata };

	return fg_store_read_cmds(path, device, each_one, &e);
}

/* ---------------------------------------------------------------- JSON */

void fg_cmdq_json_begin(struct fg_json *j)
{
	fg_json_raw(j, "{\"commands\":[", 13);
}

void fg_cmdq_json_command(struct fg_json *j, const struct fg_command *c)
{
	if (!j->err && j->buf && j->len && j->buf[j->len - 1] != '[')
		fg_json_raw(j, ",", 1);
	fg_json_raw(j, "{\"id\":", 6);
	fg_json_string_n(j, c->id, FG_CMD_ID_MAX);
	fg_json_raw(j, ",\"device\":", 10);
	fg_json_string_n(j, c->device_name[0] ? c->device_name : c->device, FG_CMD_DEVICE_MAX);
	fg_json_raw(j, ",\"kind\":", 8);
	fg_json_string(j, fg_cmd_kind_to_string(c->kind));
	fg_json_printf(j, ",\"f_port\":%d,\"size\":%zu,\"confirmed\":%s,\"priority\":%d", c->f_port,
		       c->data_len, c->confirmed ? "true" : "false", c->priority);
	fg_json_printf(j, ",\"state\":\"%s\",\"tries\":%u",
		       c->awaiting_ack ? "awaiting-ack" : "queued", c->tries);
	if (c->tries)
		fg_json_printf(j, ",\"f_cnt_down\":%" PRIu32, c->f_cnt_down);
	fg_json_printf(j, ",\"accepted_ms\":%" PRIu64, c->accepted_ms);
	if (c->expires_ms)
		fg_json_printf(j, ",\"expires_ms\":%" PRIu64, c->expires_ms);
	fg_json_raw(j, "}", 1);
}

void fg_cmdq_json_end(struct fg_json *j, size_t count, bool truncated)
{
	fg_json_printf(j, "],\"count\":%zu,\"truncated\":%s}", count, truncated ? "true" : "false");
}
