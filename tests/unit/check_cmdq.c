/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The durable command queue, over a real SQLite buffer in a fresh temporary directory per test. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "cmd/queue.h"
#include "store/store.h"
#include "util/json.h"
#include "check-main.h"

#define EVENT_TOPIC "fieldgate/gw1/event/command"
#define NOW	    UINT64_C(1760000000000)

static char dir[256];
static char path[300];

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/fieldgate-cmdq-XXXXXX", tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/buffer.db", dir);
}

static void teardown(void)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct fg_buffer_config buffer_cfg(void)
{
	return (struct fg_buffer_config){ .path = path,
					  .commit_interval_ms = 100,
					  .commit_batch = 1000,
					  .max_rows = 1000000,
					  .max_bytes = UINT64_C(1) << 30,
					  .overflow = FG_OVERFLOW_DROP_OLDEST };
}

static struct fg_commands_config cmd_cfg(void)
{
	return (struct fg_commands_config){ .max_size = 4096,
					    .max_queue_per_device = 16,
					    .max_queued = 1024,
					    .keep_ids_s = 604800 };
}

static struct fg_store *s;
static struct fg_cmdq *q;

static void open_both(const struct fg_commands_config *cc)
{
	struct fg_buffer_config bc = buffer_cfg();

	ck_assert_int_eq(fg_store_open(&bc, NULL, NULL, &s, NULL), 0);
	ck_assert_int_eq(fg_cmdq_new(s, cc, EVENT_TOPIC, &q), 0);
}

static void close_both(void)
{
	fg_cmdq_free(q);
	fg_store_close(s);
	q = NULL;
	s = NULL;
}

/* A downlink push for device (configured name "name-" + device), priority prio. */
static struct fg_command mk(const char *id, const char *device, int prio, uint64_t expires_ms)
{
	struct fg_command c;

	memset(&c, 0, sizeof(c));
	c.kind = FG_CMD_DOWN_PUSH;
	snprintf(c.id, sizeof(c.id), "%s", id);
	snprintf(c.device, sizeof(c.device), "%s", device);
	snprintf(c.device_name, sizeof(c.device_name), "name-%s", device);
	c.f_port = 10;
	c.data[0] = 0xde;
	c.data[1] = 0xad;
	c.data_len = 2;
	c.priority = prio;
	c.expires_ms = expires_ms;
	c.value = -1;
	return c;
}

static void accept_ok(const char *id, const char *device, int prio, uint64_t expires_ms)
{
	struct fg_command c = mk(id, device, prio, expires_ms);

	ck_assert_int_eq(fg_cmdq_accept(q, &c, NOW), 0);
}

/* The outbox, copied. */
struct msg {
	uint64_t seq;
	char topic[128];
	char payload[1024];
	int qos;
	bool retain;
	uint64_t created_ms;
	uint8_t corr[64];
	size_t corr_len;
};

struct outbox {
	struct msg m[64];
	size_t n;
};

static int collect(const struct fg_outbox_msg *m, void *userdata)
{
	struct outbox *o = userdata;
	struct msg *x;

	ck_assert_uint_lt(o->n, 64);
	x = &o->m[o->n++];
	x->seq = m->seq;
	snprintf(x->topic, sizeof(x->topic), "%s", m->topic);
	ck_assert_uint_lt(m->payload_len, sizeof(x->payload));
	memcpy(x->payload, m->payload, m->payload_len);
	x->payload[m->payload_len] = '\0';
	x->qos = m->qos;
	x->retain = m->retain;
	x->created_ms = m->created_ms;
	ck_assert_uint_le(m->correlation_len, sizeof(x->corr));
	if (m->correlation_len)
		memcpy(x->corr, m->correlation, m->correlation_len);
	x->corr_len = m->correlation_len;
	return 0;
}

static struct outbox *peek_all(void)
{
	static struct outbox o;

	memset(&o, 0, sizeof(o));
	ck_assert_int_ge(fg_store_peek(s, 0, 64, collect, &o), 0);
	return &o;
}

/* Message i's JSON: its outcome and id, checked against its own seq. */
static json_t *event(const struct msg *m)
{
	json_t *j = json_loads(m->payload, 0, NULL);

	ck_assert_msg(j != NULL, "not JSON: %s", m->payload);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "seq")), (json_int_t) m->seq);
	return j;
}

/* That message m is outcome (and reason) of id. */
static void assert_event(const struct msg *m, const char *id, const char *outcome,
			 const char *reason)
{
	json_t *j = event(m);

	ck_assert_str_eq(m->topic, EVENT_TOPIC);
	ck_assert_int_eq(m->qos, 1);
	ck_assert(!m->retain);
	ck_assert_str_eq(json_string_value(json_object_get(j, "id")), id);
	ck_assert_str_eq(json_string_value(json_object_get(j, "outcome")), outcome);
	if (reason)
		ck_assert_str_eq(json_string_value(json_object_get(j, "reason")), reason);
	else
		ck_assert_ptr_null(json_object_get(j, "reason"));
	json_decref(j);
}

START_TEST(cmdq_accept_writes_the_row_and_its_queued_outcome)
{
	struct fg_commands_config cc = cmd_cfg();
	struct fg_cmdq_stats st;
	struct outbox *o;
	json_t *j;

	open_both(&cc);
	accept_ok("c-1", "70b3d57ed0000001", 3, 0);
	o = peek_all();
	ck_assert_uint_eq(o->n, 1);
	ck_assert_uint_eq(o->m[0].seq, 1);
	ck_assert_uint_eq(o->m[0].created_ms, NOW);
	ck_assert_uint_eq(o->m[0].corr_len, 0);
	assert_event(&o->m[0], "c-1", "queued", NULL);
	j = event(&o->m[0]);
	ck_assert_str_eq(json_string_value(json_object_get(j, "device")), "70b3d57ed0000001");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "time_ms")), (json_int_t) NOW);
	json_decref(j);
	ck_assert_int_eq(fg_cmdq_pending(q, "name-70b3d57ed0000001"), 1);
	ck_assert_int_eq(fg_cmdq_pending(q, NULL), 1);
	ck_assert_int_eq(fg_cmdq_seen(q, "c-1"), 1);
	ck_assert_int_eq(fg_cmdq_seen(q, "c-2"), 0);
	fg_cmdq_get_stats(q, &st);
	ck_assert_uint_eq(st.received, 1);
	ck_assert_uint_eq(st.outcomes[FG_CMD_QUEUED], 1);
	ck_assert_uint_eq(st.pending, 1);
	/* The next outbox message (a reading's, an outcome's) continues the sequence. */
	accept_ok("c-2", "70b3d57ed0000001", 3, 0);
	o = peek_all();
	ck_assert_uint_eq(o->n, 2);
	ck_assert_uint_eq(o->m[1].seq, 2);
	assert_event(&o->m[1], "c-2", "queued", NULL);
	close_both();
}
END_TEST

START_TEST(cmdq_a_duplicate_id_is_done_once_pending_or_finished)
{
	struct fg_commands_config cc = cmd_cfg();
	struct fg_command c = mk("dup", "dev", 3, 0), g;
	struct fg_cmdq_stats st;

	open_both(&cc);
	ck_assert_int_eq(fg_cmdq_accept(q, &c, NOW), 0);
	ck_assert_int_eq(fg_cmdq_accept(q, &c, NOW + 1), 1);
	ck_assert_uint_eq(peek_all()->n, 1);
	ck_assert_int_eq(fg_cmdq_finish(q, "dup", FG_CMD_SENT, FG_CMD_R_NONE, NULL, NOW + 2), 0);
	ck_assert_uint_eq(peek_all()->n, 2);
	/* Finished: still remembered. */
	ck_assert_int_eq(fg_cmdq_accept(q, &c, NOW + 3), 1);
	c.kind = FG_CMD_DOWN_REPLACE;
	ck_assert_int_eq(fg_cmdq_accept(q, &c, NOW + 3), 1);
	ck_assert_int_eq(fg_cmdq_finish_now(q, &c, FG_CMD_FAILED, FG_CMD_R_BAD_FIELD, "x", NOW + 4),
			 1);
	ck_assert_uint_eq(peek_all()->n, 2);
	ck_assert_int_eq(fg_cmdq_pending(q, NULL), 0);
	/* A GPIO command's id is remembered as well. */
	memset(&g, 0, sizeof(g));
	g.kind = FG_CMD_GPIO;
	snprintf(g.id, sizeof(g.id), "gpio-1");
	ck_assert_int_eq(fg_cmdq_finish_now(q, &g, FG_CMD_SENT, FG_CMD_R_NONE, NULL, NOW), 0);
	ck_assert_int_eq(fg_cmdq_finish_now(q, &g, FG_CMD_SENT, FG_CMD_R_NONE, NULL, NOW), 1);
	ck_assert_uint_eq(peek_all()->n, 3);
	assert_event(&peek_all()->m[2], "gpio-1", "sent", NULL);
	fg_cmdq_get_stats(q, &st);
	ck_assert_uint_eq(st.received, 7);
	ck_assert_uint_eq(st.duplicates, 5);
	ck_assert_uint_eq(st.outcomes[FG_CMD_QUEUED], 1);
	ck_assert_uint_eq(st.outcomes[FG_CMD_SENT], 2);
	ck_assert_uint_eq(st.outcomes[FG_CMD_FAILED], 0);
	close_both();
}
END_TEST

START_TEST(cmdq_a_command_without_an_id_gets_its_outcome_and_is_not_remembered)
{
	struct fg_commands_config cc = cmd_cfg();
	struct fg_command c;
	struct fg_cmdq_stats st;
	struct outbox *o;
	json_t *j;

	open_both(&cc);
	memset(&c, 0, sizeof(c));
	c.kind = FG_CMD_DOWN_PUSH;
	ck_assert_int_eq(
		fg_cmdq_finish_now(q, &c, FG_CMD_FAILED, FG_CMD_R_BAD_ID, "id: missing", NOW), 0);
	ck_assert_int_eq(fg_cmdq_finish_now(q, &c, FG_CMD_FAILED, FG_CMD_R_MALFORMED, NULL, NOW),
			 0);
	/* Not an end: refused. */
	ck_assert_int_eq(fg_cmdq_finish_now(q, &c, FG_CMD_QUEUED, FG_CMD_R_NONE, NULL, NOW),
			 -EINVAL);
	o = peek_all();
	ck_assert_uint_eq(o->n, 2);
	j = event(&o->m[0]);
	ck_assert(json_is_null(json_object_get(j, "id")));
	ck_assert_str_eq(json_string_value(json_object_get(j, "reason")), "bad-id");
	ck_assert_str_eq(json_string_value(json_object_get(j, "detail")), "id: missing");
	json_decref(j);
	fg_cmdq_get_stats(q, &st);
	ck_assert_uint_eq(st.failed[FG_CMD_R_BAD_ID], 1);
	ck_assert_uint_eq(st.failed[FG_CMD_R_MALFORMED], 1);
	ck_assert_uint_eq(st.outcomes[FG_CMD_FAILED], 2);
	close_both();
}
END_TEST

START_TEST(cmdq_replace_ends_each_waiting_command_of_the_device_as_replaced)
{
	struct fg_commands_config cc = cmd_cfg();
	struct fg_command r = mk("r-1", "dev", 3, 0), n;
	struct fg_cmdq_stats st;
	struct outbox *o;

	open_both(&cc);
	accept_ok("a-1", "dev", 3, 0);
	accept_ok("a-2", "dev", 5, 0);
	accept_ok("a-3", "dev", 3, 0);
	accept_ok("b-1", "other", 3, 0);
	/* a-2 is on the air, waiting for its ACK: the device decides its end. */
	ck_assert_int_eq(fg_cmdq_sent(q, "a-2", 7, true), 0);
	r.kind = FG_CMD_DOWN_REPLACE;
	ck_assert_int_eq(fg_cmdq_accept(q, &r, NOW), 0);
	o = peek_all();
	ck_assert_uint_eq(o->n, 7);
	assert_event(&o->m[4], "a-1", "failed", "replaced");
	assert_event(&o->m[5], "a-3", "failed", "replaced");
	assert_event(&o->m[6], "r-1", "queued", NULL);
	ck_assert_int_eq(fg_cmdq_pending(q, "name-dev"), 2);
	ck_assert_int_eq(fg_cmdq_pending(q, "name-other"), 1);
	ck_assert_int_eq(fg_cmdq_next(q, "name-dev", NOW, &n), 0);
	ck_assert_str_eq(n.id, "a-2");
	ck_assert_int_eq(fg_cmdq_finish(q, "a-1", FG_CMD_SENT, FG_CMD_R_NONE, NULL, NOW), -ENOENT);
	fg_cmdq_get_stats(q, &st);
	ck_assert_uint_eq(st.failed[FG_CMD_R_REPLACED], 2);
	ck_assert_uint_eq(st.pending, 3);
	close_both();
}
END_TEST

START_TEST(cmdq_bounds_per_device_and_in_all_refuse_with_queue_full)
{
	struct fg_commands_config cc = cmd_cfg();
	struct fg_command c;
	struct fg_cmdq_stats st;
	struct outbox *o;

	cc.max_queue_per_device = 2;
	cc.max_queued = 3;
	open_both(&cc);
	accept_ok("d1-1", "d1", 3, 0);
	accept_ok("d1-2", "d1", 3, 0);
	c = mk("d1-3", "d1", 3, 0);
	ck_assert_int_eq(fg_cmdq_accept(q, &c, NOW), 2);
	/* Its one outcome is out: the same id again is a duplicate. */
	ck_assert_int_eq(fg_cmdq_accept(q, &c, NOW), 1);
	accept_ok("d2-1", "d2", 3, 0);
	c = mk("d3-1", "d3", 3, 0);
	ck_assert_int_eq(fg_cmdq_accept(q, &c, NOW), 2);
	o = peek_all();
	ck_assert_uint_eq(o->n, 5);
	assert_event(&o->m[2], "d1-3", "failed", "queue-full");
	assert_event(&o->m[4], "d3-1", "failed", "queue-full");
	ck_assert_int_eq(fg_cmdq_pending(q, NULL), 3);
	/* Room again once one ends; a replace makes its own room. */
	ck_assert_int_eq(fg_cmdq_finish(q, "d2-1", FG_CMD_SENT, FG_CMD_R_NONE, NULL, NOW), 0);
	accept_ok("d3-2", "d3", 3, 0);
	c = mk("d1-4", "d1", 3, 0);
	c.kind = FG_CMD_DOWN_REPLACE;
	ck_assert_int_eq(fg_cmdq_accept(q, &c, NOW), 0);
	ck_assert_int_eq(fg_cmdq_pending(q, "name-d1"), 1);
	fg_cmdq_get_stats(q, &st);
	ck_assert_uint_eq(st.failed[FG_CMD_R_QUEUE_FULL], 2);
	ck_assert_uint_eq(st.failed[FG_CMD_R_REPLACED], 2);
	ck_assert_uint_eq(st.pending, 2);
	ck_assert_uint_eq(st.duplicates, 1);
	close_both();
}
END_TEST

static int ids(const struct fg_command *c, void *userdata)
{
	size_t len = strlen(userdata);

	snprintf((char *) userdata + len, 256 - len, "%s%s", len ? "," : "", c->id);
	return 0;
}

START_TEST(cmdq_next_is_highest_priority_then_arrival_and_awaiting_ack_first)
{
	struct fg_commands_config cc = cmd_cfg();
	struct fg_command n;
	char order[256] = "";
	const char *want[] = { "p5-a", "p5-b", "p3-a", "p3-b", "p0" };

	open_both(&cc);
	accept_ok("p3-a", "dev", 3, 0);
	accept_ok("p5-a", "dev", 5, 0);
	accept_ok("p0", "dev", 0, 0);
	accept_ok("other", "dev2", 6, 0);
	accept_ok("p3-b", "dev", 3, 0);
	accept_ok("p5-b", "dev", 5, 0);
	ck_assert_int_eq(fg_cmdq_each(q, "name-dev", ids, order), 5);
	ck_assert_str_eq(order, "p5-a,p5-b,p3-a,p3-b,p0");
	order[0] = '\0';
	ck_assert_int_eq(fg_cmdq_each(q, NULL, ids, order), 6);
	ck_assert_str_eq(order, "p5-a,p5-b,p3-a,p3-b,p0,other");
	for (size_t i = 0; i < 5; i++) {
		ck_assert_int_eq(fg_cmdq_next(q, "name-dev", NOW, &n), 0);
		ck_assert_str_eq(n.id, want[i]);
		ck_assert_int_eq(fg_cmdq_finish(q, n.id, FG_CMD_SENT, FG_CMD_R_NONE, NULL, NOW), 0);
	}
	ck_assert_int_eq(fg_cmdq_next(q, "name-dev", NOW, &n), -ENOENT);

	/* A confirmed downlink on the air comes back before anything of higher priority. */
	accept_ok("low", "dev", 0, 0);
	accept_ok("high", "dev", 6, 0);
	ck_assert_int_eq(fg_cmdq_sent(q, "low", 41, true), 0);
	ck_assert_int_eq(fg_cmdq_next(q, "name-dev", NOW, &n), 0);
	ck_assert_str_eq(n.id, "low");
	ck_assert(n.awaiting_ack);
	ck_assert_uint_eq(n.tries, 1);
	ck_assert_uint_eq(n.f_cnt_down, 41);
	ck_assert_uint_eq(n.data_len, 2);
	ck_assert_uint_eq(n.data[0], 0xde);
	ck_assert_int_eq(n.f_port, 10);
	ck_assert_str_eq(n.device, "dev");
	ck_assert_str_eq(n.device_name, "name-dev");
	ck_assert_uint_eq(n.accepted_ms, NOW);
	ck_assert_int_eq(fg_cmdq_sent(q, "low", 42, true), 0);
	ck_assert_int_eq(fg_cmdq_next(q, "name-dev", NOW, &n), 0);
	ck_assert_uint_eq(n.tries, 2);
	ck_assert_uint_eq(n.f_cnt_down, 42);
	ck_assert_int_eq(fg_cmdq_finish(q, "low", FG_CMD_ACK, FG_CMD_R_NONE, NULL, NOW), 0);
	ck_assert_int_eq(fg_cmdq_next(q, "name-dev", NOW, &n), 0);
	ck_assert_str_eq(n.id, "high");
	ck_assert(!n.awaiting_ack);
	ck_assert_uint_eq(n.tries, 0);
	close_both();
}
END_TEST

START_TEST(cmdq_expired_commands_end_at_next_and_at_expire)
{
	struct fg_commands_config cc = cmd_cfg();
	struct fg_command n;
	struct fg_cmdq_stats st;
	struct outbox *o;

	open_both(&cc);
	accept_ok("soon", "dev", 6, NOW + 1000);
	accept_ok("never", "dev", 3, 0);
	accept_ok("later", "dev", 3, NOW + 100000);
	/* Not yet. */
	ck_assert_int_eq(fg_cmdq_next(q, "name-dev", NOW + 999, &n), 0);
	ck_assert_str_eq(n.id, "soon");
	ck_assert_int_eq(fg_cmdq_next(q, "name-dev", NOW + 2000, &n), 0);
	ck_assert_str_eq(n.id, "never");
	o = peek_all();
	ck_assert_uint_eq(o->n, 4);
	assert_event(&o->m[3], "soon", "expired", NULL);
	ck_assert_int_eq(fg_cmdq_finish(q, "soon", FG_CMD_SENT, FG_CMD_R_NONE, NULL, NOW), -ENOENT);

	/* expire() across devices; an awaiting-ACK command was sent and does not expire. */
	accept_ok("x1", "dev2", 3, NOW + 500);
	accept_ok("x2", "dev3", 3, NOW + 600);
	accept_ok("air", "dev3", 3, NOW + 500);
	ck_assert_int_eq(fg_cmdq_sent(q, "air", 1, true), 0);
	ck_assert_int_eq(fg_cmdq_expire(q, NOW + 550), 1);
	ck_assert_int_eq(fg_cmdq_expire(q, NOW + 3000), 1);
	ck_assert_int_eq(fg_cmdq_expire(q, NOW + 3000), 0);
	o = peek_all();
	ck_assert_uint_eq(o->n, 9);
	assert_event(&o->m[7], "x1", "expired", NULL);
	assert_event(&o->m[8], "x2", "expired", NULL);
	ck_assert_int_eq(fg_cmdq_pending(q, NULL), 3); /* never, later, air */
	fg_cmdq_get_stats(q, &st);
	ck_assert_uint_eq(st.outcomes[FG_CMD_EXPIRED], 3);
	ck_assert_uint_eq(st.pending, 3);
	close_both();
}
END_TEST

START_TEST(cmdq_expire_ends_more_than_one_batch)
{
	struct fg_commands_config cc = cmd_cfg();
	char id[16];

	cc.max_queue_per_device = 1000;
	cc.max_queued = 1000;
	open_both(&cc);
	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "e%d", i);
		accept_ok(id, i % 2 ? "a" : "b", 3, NOW + 10);
	}
	ck_assert_int_eq(fg_cmdq_expire(q, NOW + 10), 300);
	ck_assert_int_eq(fg_cmdq_pending(q, NULL), 0);
	close_both();
}
END_TEST

START_TEST(cmdq_finish_is_exactly_once)
{
	struct fg_commands_config cc = cmd_cfg();
	struct fg_cmdq_stats st;
	struct outbox *o;
	json_t *j;

	open_both(&cc);
	accept_ok("once", "dev", 3, 0);
	ck_assert_int_eq(fg_cmdq_sent(q, "once", 99, false), 0);
	ck_assert_int_eq(fg_cmdq_finish(q, "once", FG_CMD_SENT, FG_CMD_R_NONE, NULL, NOW + 5), 0);
	ck_assert_int_eq(fg_cmdq_finish(q, "once", FG_CMD_SENT, FG_CMD_R_NONE, NULL, NOW + 6),
			 -ENOENT);
	ck_assert_int_eq(fg_cmdq_finish(q, "once", FG_CMD_FAILED, FG_CMD_R_RADIO, NULL, NOW + 6),
			 -ENOENT);
	ck_assert_int_eq(fg_cmdq_sent(q, "once", 100, false), -ENOENT);
	ck_assert_int_eq(fg_cmdq_finish(q, "nobody", FG_CMD_ACK, FG_CMD_R_NONE, NULL, NOW),
			 -ENOENT);
	ck_assert_int_eq(fg_cmdq_finish(q, "once", FG_CMD_QUEUED, FG_CMD_R_NONE, NULL, NOW),
			 -EINVAL);
	o = peek_all();
	ck_assert_uint_eq(o->n, 2);
	assert_event(&o->m[1], "once", "sent", NULL);
	j = event(&o->m[1]);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "f_cnt_down")), 99);
	json_decref(j);
	fg_cmdq_get_stats(q, &st);
	ck_assert_uint_eq(st.outcomes[FG_CMD_SENT], 1);
	ck_assert_uint_eq(st.pending, 0);
	/* A nack carries its reason-less outcome; a failed one its reason and detail. */
	accept_ok("conf", "dev", 3, 0);
	ck_assert_int_eq(fg_cmdq_sent(q, "conf", 5, true), 0);
	ck_assert_int_eq(fg_cmdq_finish(q, "conf", FG_CMD_NACK, FG_CMD_R_NONE, NULL, NOW), 0);
	accept_ok("bad", "dev", 3, 0);
	ck_assert_int_eq(
		fg_cmdq_finish(q, "bad", FG_CMD_FAILED, FG_CMD_R_TOO_LONG, "51 bytes at DR0", NOW),
		0);
	o = peek_all();
	ck_assert_uint_eq(o->n, 6);
	assert_event(&o->m[3], "conf", "nack", NULL);
	assert_event(&o->m[5], "bad", "failed", "payload-too-long");
	j = event(&o->m[5]);
	ck_assert_str_eq(json_string_value(json_object_get(j, "detail")), "51 bytes at DR0");
	ck_assert_ptr_null(json_object_get(j, "f_cnt_down"));
	json_decref(j);
	close_both();
}
END_TEST

START_TEST(cmdq_forgets_finished_ids_after_keep_ids_s)
{
	struct fg_commands_config cc = cmd_cfg();

	cc.keep_ids_s = 60;
	open_both(&cc);
	accept_ok("f", "dev", 3, 0);
	accept_ok("p", "dev", 3, 0);
	ck_assert_int_eq(fg_cmdq_finish(q, "f", FG_CMD_SENT, FG_CMD_R_NONE, NULL, NOW), 0);
	ck_assert_int_eq(fg_cmdq_forget(q, NOW + 59000), 0);
	ck_assert_int_eq(fg_cmdq_seen(q, "f"), 1);
	ck_assert_int_eq(fg_cmdq_forget(q, NOW + 61000), 1);
	ck_assert_int_eq(fg_cmdq_seen(q, "f"), 0);
	/* A pending command is never forgotten, however old. */
	ck_assert_int_eq(fg_cmdq_forget(q, NOW + 1000000000), 0);
	ck_assert_int_eq(fg_cmdq_seen(q, "p"), 1);
	/* Forgotten: the same id is a new command. */
	accept_ok("f", "dev", 3, 0);
	ck_assert_int_eq(fg_cmdq_pending(q, NULL), 2);
	close_both();
}
END_TEST

START_TEST(cmdq_outcomes_go_to_the_response_topic_with_the_correlation_data)
{
	struct fg_commands_config cc = cmd_cfg();
	struct fg_command c = mk("rt", "dev", 3, 0);
	static const uint8_t corr[] = { 0x01, 0x00, 0xff, 0x7f };
	struct outbox *o;
	json_t *j;

	open_both(&cc);
	snprintf(c.response_topic, sizeof(c.response_topic), "cloud/replies/42");
	memcpy(c.correlation, corr, sizeof(corr));
	c.correlation_len = sizeof(corr);
	ck_assert_int_eq(fg_cmdq_accept(q, &c, NOW), 0);
	/* Kept with the command: its end goes there too. */
	ck_assert_int_eq(fg_cmdq_finish(q, "rt", FG_CMD_SENT, FG_CMD_R_NONE, NULL, NOW), 0);
	o = peek_all();
	ck_assert_uint_eq(o->n, 4);
	for (size_t i = 0; i < 4; i += 2) {
		ck_assert_str_eq(o->m[i].topic, EVENT_TOPIC);
		ck_assert_uint_eq(o->m[i].corr_len, 0);
		ck_assert_str_eq(o->m[i + 1].topic, "cloud/replies/42");
		ck_assert_int_eq(o->m[i + 1].qos, 1);
		ck_assert_uint_eq(o->m[i + 1].corr_len, sizeof(corr));
		ck_assert_mem_eq(o->m[i + 1].corr, corr, sizeof(corr));
		ck_assert_uint_eq(o->m[i + 1].seq, o->m[i].seq + 1);
		j = event(&o->m[i + 1]);
		ck_assert_str_eq(json_string_value(json_object_get(j, "outcome")),
				 i ? "sent" : "queued");
		json_decref(j);
	}
	/* Across a restart as well (the record keeps them). */
	accept_ok("plain", "dev", 3, 0);
	close_both();
	open_both(&cc);
	ck_assert_int_eq(fg_cmdq_finish(q, "plain", FG_CMD_SENT, FG_CMD_R_NONE, NULL, NOW), 0);
	ck_assert_uint_eq(peek_all()->n, 6);
	close_both();
}
END_TEST

START_TEST(cmdq_an_accepted_command_survives_a_crash)
{
	struct fg_commands_config cc = cmd_cfg();
	struct fg_command n;
	struct fg_cmdq_stats st;
	struct outbox *o;
	pid_t pid;
	int status;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* Accepted, then the power goes: no close, no flush. */
		struct fg_buffer_config bc = buffer_cfg();
		struct fg_command c = mk("kept", "dev", 3, 0);

		if (fg_store_open(&bc, NULL, NULL, &s, NULL) < 0 ||
		    fg_cmdq_new(s, &cc, EVENT_TOPIC, &q) < 0 || fg_cmdq_accept(q, &c, NOW) != 0)
			_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	open_both(&cc);
	fg_cmdq_get_stats(q, &st);
	ck_assert_uint_eq(st.pending, 1);
	ck_assert_int_eq(fg_cmdq_next(q, "name-dev", NOW, &n), 0);
	ck_assert_str_eq(n.id, "kept");
	ck_assert_uint_eq(n.data_len, 2);
	o = peek_all();
	ck_assert_uint_eq(o->n, 1);
	assert_event(&o->m[0], "kept", "queued", NULL);
	/* It still ends in its outcome, with the next seq. */
	ck_assert_int_eq(fg_cmdq_finish(q, "kept", FG_CMD_SENT, FG_CMD_R_NONE, NULL, NOW), 0);
	o = peek_all();
	ck_assert_uint_eq(o->n, 2);
	ck_assert_uint_eq(o->m[1].seq, 2);
	close_both();
}
END_TEST

/* Make every new connection's database "full" at 64 pages, as a full disk would. */
static int cap_pages(sqlite3 *db, const char **err, const struct sqlite3_api_routines *api)
{
	(void) err;
	(void) api;
	return sqlite3_exec(db, "PRAGMA max_page_count = 64", NULL, NULL, NULL);
}

static int count_rows(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int n;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

START_TEST(cmdq_a_full_disk_refuses_the_command_and_writes_nothing)
{
	struct fg_commands_config cc = cmd_cfg();
	struct fg_command c;
	struct fg_cmdq_stats st;
	char id[48];
	int i, r = 0, ok = 0;

	cc.max_queue_per_device = 1000;
	cc.max_queued = 100000;
	ck_assert_int_eq(sqlite3_auto_extension((void (*)(void)) cap_pages), SQLITE_OK);
	open_both(&cc);
	for (i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "full-%04d-with-a-longer-id", i);
		c = mk(id, "dev", 3, 0);
		snprintf(c.response_topic, sizeof(c.response_topic), "reply/%d", i);
		r = fg_cmdq_accept(q, &c, NOW);
		if (r != 0)
			break;
		ok++;
	}
	ck_assert_int_eq(r, -ENOSPC);
	ck_assert_int_gt(ok, 10);
	ck_assert_str_eq(fg_store_last_error(s), "database or disk is full");
	/* Nothing of the refused one: no row, no outcome, no seq spent, no counter. */
	ck_assert_int_eq(fg_cmdq_seen(q, id), 0);
	ck_assert_int_eq(fg_cmdq_pending(q, NULL), ok);
	fg_cmdq_get_stats(q, &st);
	ck_assert_uint_eq(st.pending, (uint64_t) ok);
	ck_assert_uint_eq(st.outcomes[FG_CMD_QUEUED], (uint64_t) ok);
	ck_assert_uint_eq(fg_store_next_seq(s), (uint64_t) (2 * ok + 1));
	/* The queue goes on working where no space is needed. */
	ck_assert_int_eq(fg_cmdq_seen(q, "full-0000-with-a-longer-id"), 1);
	close_both();
	sqlite3_cancel_auto_extension((void (*)(void)) cap_pages);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM command"), ok);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM outbox"), 2 * ok);
	ck_assert_int_eq(count_rows("SELECT MAX(seq) FROM outbox"), 2 * ok);
}
END_TEST

START_TEST(cmdq_refuses_inside_a_commit)
{
	struct fg_commands_config cc = cmd_cfg();
	struct fg_command c = mk("busy", "dev", 3, 0);

	open_both(&cc);
	ck_assert_int_eq(fg_store_begin(s), 0);
	/* Another transaction of the store is open: the queue does not nest into it. */
	ck_assert_int_eq(fg_cmdq_accept(q, &c, NOW), -EBUSY);
	ck_assert_int_eq(fg_cmdq_finish_now(q, &c, FG_CMD_SENT, FG_CMD_R_NONE, NULL, NOW), -EBUSY);
	ck_assert_int_eq(fg_store_end(s, false), 0);
	ck_assert_int_eq(fg_cmdq_seen(q, "busy"), 0);
	ck_assert_int_eq(fg_cmdq_accept(q, &c, NOW), 0);
	close_both();
}
END_TEST

/* The ctl shape, built from fg_cmdq_each or fg_cmdq_read_file. */
struct list {
	struct fg_json j;
	size_t n;
};

static int add(const struct fg_command *c, void *userdata)
{
	struct list *l = userdata;

	fg_cmdq_json_command(&l->j, c);
	l->n++;
	return 0;
}

static json_t *list_json(bool from_file, const char *device)
{
	struct list l = { .n = 0 };
	char *text;
	size_t len;
	json_t *root;

	fg_json_init_dynamic(&l.j);
	fg_cmdq_json_begin(&l.j);
	if (from_file)
		ck_assert_int_ge(fg_cmdq_read_file(path, device, add, &l), 0);
	else
		ck_assert_int_ge(fg_cmdq_each(q, device, add, &l), 0);
	fg_cmdq_json_end(&l.j, l.n, false);
	ck_assert_int_eq(fg_json_steal(&l.j, &text, &len), 0);
	root = json_loadb(text, len, 0, NULL);
	ck_assert_msg(root != NULL, "not JSON: %s", text);
	free(text);
	return root;
}

START_TEST(cmdq_lists_in_the_ctl_shape_from_the_queue_and_the_file)
{
	struct fg_commands_config cc = cmd_cfg();
	struct fg_command c = mk("conf", "dev", 6, NOW + 60000);
	json_t *root, *file, *a, *b;
	char *text;

	open_both(&cc);
	c.confirmed = true;
	ck_assert_int_eq(fg_cmdq_accept(q, &c, NOW), 0);
	ck_assert_int_eq(fg_cmdq_sent(q, "conf", 17, true), 0);
	accept_ok("plain", "dev", 3, 0);
	accept_ok("elsewhere", "dev2", 3, 0);
	ck_assert_int_eq(fg_cmdq_finish(q, "elsewhere", FG_CMD_SENT, FG_CMD_R_NONE, NULL, NOW), 0);
	root = list_json(false, NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(root, "count")), 2);
	ck_assert(json_is_false(json_object_get(root, "truncated")));
	ck_assert_uint_eq(json_array_size(json_object_get(root, "commands")), 2);
	a = json_array_get(json_object_get(root, "commands"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(a, "id")), "conf");
	ck_assert_str_eq(json_string_value(json_object_get(a, "device")), "name-dev");
	ck_assert_str_eq(json_string_value(json_object_get(a, "kind")), "down/push");
	ck_assert_int_eq(json_integer_value(json_object_get(a, "f_port")), 10);
	ck_assert_int_eq(json_integer_value(json_object_get(a, "size")), 2);
	ck_assert(json_is_true(json_object_get(a, "confirmed")));
	ck_assert_int_eq(json_integer_value(json_object_get(a, "priority")), 6);
	ck_assert_str_eq(json_string_value(json_object_get(a, "state")), "awaiting-ack");
	ck_assert_int_eq(json_integer_value(json_object_get(a, "tries")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(a, "f_cnt_down")), 17);
	ck_assert_int_eq(json_integer_value(json_object_get(a, "accepted_ms")), (json_int_t) NOW);
	ck_assert_int_eq(json_integer_value(json_object_get(a, "expires_ms")),
			 (json_int_t) (NOW + 60000));
	b = json_array_get(json_object_get(root, "commands"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(b, "state")), "queued");
	ck_assert(json_is_false(json_object_get(b, "confirmed")));
	ck_assert_ptr_null(json_object_get(b, "f_cnt_down"));
	ck_assert_ptr_null(json_object_get(b, "expires_ms"));
	/* The file, read-only while the queue has it open, says the same. */
	file = list_json(true, NULL);
	ck_assert(json_equal(root, file));
	json_decref(file);
	json_decref(root);
	root = list_json(true, "name-dev2");
	ck_assert_int_eq(json_integer_value(json_object_get(root, "count")), 0);
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ck_assert_str_eq(text, "{\"commands\":[],\"count\":0,\"truncated\":false}");
	free(text);
	json_decref(root);
	close_both();
	ck_assert_int_eq(fg_cmdq_read_file("/nonexistent/buffer.db", NULL, add, NULL), -ENOENT);
}
END_TEST

START_TEST(cmdq_reads_a_buffer_older_than_the_command_table_as_empty)
{
	sqlite3 *db;
	struct list l = { .n = 0 };

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db,
				      "CREATE TABLE outbox (seq INTEGER PRIMARY KEY);"
				      "PRAGMA user_version = 3;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	fg_json_init_dynamic(&l.j);
	ck_assert_int_eq(fg_cmdq_read_file(path, NULL, add, &l), 0);
	ck_assert_uint_eq(l.n, 0);
	fg_json_free(&l.j);
}
END_TEST

START_TEST(cmdq_a_record_that_cannot_be_read_ends_failed_storage)
{
	struct fg_commands_config cc = cmd_cfg();
	struct fg_command n;
	struct fg_cmdq_stats st;
	struct outbox *o;
	sqlite3 *db;

	open_both(&cc);
	accept_ok("torn", "dev", 6, 0);
	accept_ok("fine", "dev", 3, 0);
	close_both();
	/* A record of a future version, or a torn one: not a reason to stop the queue. */
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "UPDATE command SET body = x'ff00' WHERE id = 'torn'",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	open_both(&cc);
	ck_assert_int_eq(fg_cmdq_next(q, "name-dev", NOW, &n), 0);
	ck_assert_str_eq(n.id, "fine");
	o = peek_all();
	ck_assert_uint_eq(o->n, 3);
	assert_event(&o->m[2], "torn", "failed", "storage");
	ck_assert_int_eq(fg_cmdq_seen(q, "torn"), 1);
	fg_cmdq_get_stats(q, &st);
	ck_assert_uint_eq(st.failed[FG_CMD_R_STORAGE], 1);
	ck_assert_uint_eq(st.pending, 1);
	close_both();
}
END_TEST

static Suite *cmdq_suite(void)
{
	Suite *su = suite_create("cmdq");
	TCase *tc = tcase_create("queue");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, cmdq_accept_writes_the_row_and_its_queued_outcome);
	tcase_add_test(tc, cmdq_a_duplicate_id_is_done_once_pending_or_finished);
	tcase_add_test(tc, cmdq_a_command_without_an_id_gets_its_outcome_and_is_not_remembered);
	tcase_add_test(tc, cmdq_replace_ends_each_waiting_command_of_the_device_as_replaced);
	tcase_add_test(tc, cmdq_bounds_per_device_and_in_all_refuse_with_queue_full);
	tcase_add_test(tc, cmdq_next_is_highest_priority_then_arrival_and_awaiting_ack_first);
	tcase_add_test(tc, cmdq_expired_commands_end_at_next_and_at_expire);
	tcase_add_test(tc, cmdq_expire_ends_more_than_one_batch);
	tcase_add_test(tc, cmdq_finish_is_exactly_once);
	tcase_add_test(tc, cmdq_forgets_finished_ids_after_keep_ids_s);
	tcase_add_test(tc, cmdq_outcomes_go_to_the_response_topic_with_the_correlation_data);
	tcase_add_test(tc, cmdq_an_accepted_command_survives_a_crash);
	tcase_add_test(tc, cmdq_a_full_disk_refuses_the_command_and_writes_nothing);
	tcase_add_test(tc, cmdq_refuses_inside_a_commit);
	tcase_add_test(tc, cmdq_lists_in_the_ctl_shape_from_the_queue_and_the_file);
	tcase_add_test(tc, cmdq_reads_a_buffer_older_than_the_command_table_as_empty);
	tcase_add_test(tc, cmdq_a_record_that_cannot_be_read_ends_failed_storage);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return fg_check_main(cmdq_suite());
}
