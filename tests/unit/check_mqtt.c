/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The MQTT sink against a real mosquitto broker started by the test on a
 * free loopback port, with an in-memory queue standing in for the store.
 * Every wait is bounded.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "core/clock.h"
#include "core/log.h"
#include "sink/mqtt.h"
#include "check-main.h"

#define NMSG 500

struct queue {
	char topic[64];
	char payload[NMSG][32];
	unsigned acked[NMSG + 1];
	uint64_t ack_order[NMSG * 2];
	size_t nacks;
	size_t total;
	const char *correlation; /* given to every message; NULL: none */
};

static char dir[256];
static pid_t broker = -1;
static int port;

static int q_peek(void *userdata, uint64_t after, size_t max, fg_outbox_fn fn, void *fud)
{
	struct queue *q = userdata;
	int n = 0;

	for (uint64_t seq = after + 1; seq <= q->total && (size_t)n < max; seq++) {
		struct fg_outbox_msg m = { .seq = seq, .topic = q->topic,
					   .payload = q->payload[seq - 1],
					   .payload_len = strlen(q->payload[seq - 1]), .qos = 1,
					   .correlation = q->correlation,
					   .correlation_len = q->correlation ? strlen(q->correlation)
									     : 0 };

		if (q->acked[seq])
			continue;
		if (fn(&m, fud) < 0)
			break;
		n++;
	}
	return n;
}

static int q_ack(void *userdata, uint64_t seq)
{
	struct queue *q = userdata;

	ck_assert(seq >= 1 && seq <= q->total);
	q->acked[seq]++;
	if (q->nacks < sizeof(q->ack_order) / sizeof(q->ack_order[0]))
		q->ack_order[q->nacks++] = seq;
	return 0;
}

/* A free TCP port on 127.0.0.1 (the kernel's choice, then released). */
static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), p;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	p = ntohs(sa.sin_port);
	close(fd);
	return p;
}

/* Whether something accepts connections on the port. */
static bool port_open(int p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)p),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;

	close(fd);
	return ok;
}

static void broker_start(void)
{
	char conf[512];
	FILE *f;
	uint64_t deadline;

	snprintf(conf, sizeof(conf), "%s/mosquitto.conf", dir);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n"
		   "log_dest none\n%s", port, getuid() == 0 ? "user root\n" : "");
	fclose(f);
	broker = fork();
	ck_assert_int_ge(broker, 0);
	if (broker == 0) {
		execlp("mosquitto", "mosquitto", "-c", conf, (char *)NULL);
		_exit(127);
	}
	deadline = fg_clock_mono_usec() + 10 * FG_USEC_PER_SEC;
	while (!port_open(port) && fg_clock_mono_usec() < deadline)
		usleep(20000);
	ck_assert_msg(port_open(port), "mosquitto did not start on port %d", port);
}

static void broker_stop(void)
{
	if (broker > 0) {
		kill(broker, SIGTERM);
		waitpid(broker, NULL, 0);
		broker = -1;
	}
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/fieldgate-mqtt-XXXXXX", tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	port = free_port();
	ck_assert_int_eq(fg_mqtt_lib_init(), 0);
	fg_log_set_level(LOG_WARNING);
}

static void teardown(void)
{
	char cmd[600];

	broker_stop();
	fg_mqtt_lib_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct fg_mqtt_config plain_config(void)
{
	return (struct fg_mqtt_config){ .host = "127.0.0.1", .port = (uint16_t)port,
					.client_id = "fieldgate-test", .keepalive_s = 10,
					.qos = 1, .max_inflight = 20 };
}

static size_t acked_count(const struct queue *q)
{
	size_t n = 0;

	for (size_t i = 1; i <= q->total; i++)
		n += q->acked[i] > 0;
	return n;
}

/* Run the loop until every message is acked or the time is up. */
static void run_until_acked(sd_event *loop, struct fg_mqtt *m, struct queue *q, uint64_t usec)
{
	uint64_t deadline = fg_clock_mono_usec() + usec;

	while (acked_count(q) < q->total && fg_clock_mono_usec() < deadline) {
		fg_mqtt_kick(m);
		ck_assert_int_ge(sd_event_run(loop, 50 * 1000), 0);
	}
}

static struct queue *queue_new(size_t total)
{
	struct queue *q = calloc(1, sizeof(*q));

	ck_assert_ptr_nonnull(q);
	q->total = total;
	snprintf(q->topic, sizeof(q->topic), "fieldgate/test/sim/dev");
	for (size_t i = 0; i < total; i++)
		snprintf(q->payload[i], sizeof(q->payload[i]), "{\"seq\":%zu}", i + 1);
	return q;
}

START_TEST(mqtt_delivers_every_message_once_with_window)
{
	struct fg_mqtt_config c = plain_config();
	struct queue *q = queue_new(NMSG);
	struct fg_mqtt_queue ops = { .peek = q_peek, .ack = q_ack, .userdata = q };
	struct fg_mqtt_stats st;
	struct fg_mqtt *m;
	sd_event *loop;

	broker_start();
	ck_assert_int_eq(sd_event_new(&loop), 0);
	ck_assert_int_eq(fg_mqtt_new(&c, "test", NULL, loop, &ops, &m), 0);
	run_until_acked(loop, m, q, 20 * FG_USEC_PER_SEC);
	fg_mqtt_get_stats(m, &st);
	ck_assert_uint_eq(acked_count(q), NMSG);
	for (size_t i = 1; i <= NMSG; i++)
		ck_assert_uint_eq(q->acked[i], 1);
	ck_assert_int_eq(st.state, FG_MQTT_CONNECTED);
	ck_assert_uint_eq(st.published, NMSG);
	ck_assert_uint_eq(st.acked, NMSG);
	ck_assert_uint_eq(st.inflight, 0);
	ck_assert_uint_eq(st.connects, 1);
	ck_assert_uint_eq(st.last_acked_seq, NMSG);
	fg_mqtt_free(m);
	sd_event_unref(loop);
	free(q);
}
END_TEST

struct got {
	char topic[64];
	char payload[64];
	int n;
};

static int on_msg(const char *topic, const void *payload, size_t len,
		  const struct fg_mqtt_msg_info *info, void *userdata)
{
	struct got *g = userdata;

	(void) info;
	snprintf(g->topic, sizeof(g->topic), "%s", topic);
	snprintf(g->payload, sizeof(g->payload), "%.*s", (int) len, (const char *) payload);
	g->n++;
	return 0;
}

/* Subscriptions: made at connect, messages to the filter that matches, a filter twice is one. */
START_TEST(mqtt_subscribes_at_connect_and_delivers)
{
	struct fg_mqtt_config c = plain_config();
	struct queue *q = queue_new(0);
	struct fg_mqtt_queue ops = { .peek = q_peek, .ack = q_ack, .userdata = q };
	struct got a = { 0 }, b = { 0 };
	struct fg_mqtt_stats st;
	struct fg_mqtt *m;
	sd_event *loop;
	uint64_t deadline;

	broker_start();
	ck_assert_int_eq(sd_event_new(&loop), 0);
	ck_assert_int_eq(fg_mqtt_new(&c, "test", NULL, loop, &ops, &m), 0);
	ck_assert_int_eq(fg_mqtt_subscribe(m, "ha/status", 1, on_msg, &b), 0);
	ck_assert_int_eq(fg_mqtt_subscribe(m, "ha/status", 1, on_msg, &a), 0); /* replaces */
	ck_assert_int_eq(fg_mqtt_subscribe(m, "other/#", 0, on_msg, &b), 0);
	ck_assert_int_eq(fg_mqtt_subscribe(m, "a/#/b", 1, on_msg, &b), -EINVAL);
	ck_assert_int_eq(fg_mqtt_subscribe(m, "x", 3, on_msg, &b), -EINVAL);
	ck_assert_int_eq(fg_mqtt_subscribe(m, "x", 1, NULL, &b), -EINVAL);
	ck_assert_int_eq(fg_mqtt_subscribe(m, "x/1", 1, on_msg, &b), 0);
	ck_assert_int_eq(fg_mqtt_subscribe(m, "x/2", 1, on_msg, &b), 0);
	ck_assert_int_eq(fg_mqtt_subscribe(m, "x/3", 1, on_msg, &b), -ENOSPC);
	/* Our own message comes back through the broker once we are subscribed. */
	deadline = fg_clock_mono_usec() + 10 * FG_USEC_PER_SEC;
	while (a.n == 0 && fg_clock_mono_usec() < deadline) {
		fg_mqtt_get_stats(m, &st);
		if (st.state == FG_MQTT_CONNECTED)
			(void) fg_mqtt_publish_direct(m, "ha/status", "online", 1, false);
		ck_assert_int_ge(sd_event_run(loop, 100 * 1000), 0);
	}
	ck_assert_int_ge(a.n, 1);
	ck_assert_str_eq(a.topic, "ha/status");
	ck_assert_str_eq(a.payload, "online");
	ck_assert_int_eq(b.n, 0);
	fg_mqtt_free(m);
	sd_event_unref(loop);
	free(q);
}
END_TEST

START_TEST(mqtt_without_broker_waits_and_says_why)
{
	struct fg_mqtt_config c = plain_config();
	struct queue *q = queue_new(10);
	struct fg_mqtt_queue ops = { .peek = q_peek, .ack = q_ack, .userdata = q };
	struct fg_mqtt_stats st;
	struct fg_mqtt *m;
	sd_event *loop;

	ck_assert_int_eq(sd_event_new(&loop), 0);
	ck_assert_int_eq(fg_mqtt_new(&c, "test", NULL, loop, &ops, &m), 0);
	run_until_acked(loop, m, q, 500 * 1000);
	fg_mqtt_get_stats(m, &st);
	ck_assert_int_eq(st.state, FG_MQTT_WAITING);
	ck_assert_uint_ge(st.failures, 1);
	ck_assert_msg(strstr(st.last_error, "refused") || strstr(st.last_error, "Connection"),
		      "last error '%s'", st.last_error);
	ck_assert_uint_eq(acked_count(q), 0);
	ck_assert_uint_eq(st.published, 0);
	fg_mqtt_free(m);
	sd_event_unref(loop);
	free(q);
}
END_TEST

START_TEST(mqtt_reconnects_after_broker_restart_and_loses_nothing)
{
	struct fg_mqtt_config c = plain_config();
	struct queue *q = queue_new(NMSG);
	struct fg_mqtt_queue ops = { .peek = q_peek, .ack = q_ack, .userdata = q };
	struct fg_mqtt_stats st;
	struct fg_mqtt *m;
	sd_event *loop;

	broker_start();
	ck_assert_int_eq(sd_event_new(&loop), 0);
	q->total = 100;
	ck_assert_int_eq(fg_mqtt_new(&c, "test", NULL, loop, &ops, &m), 0);
	run_until_acked(loop, m, q, 10 * FG_USEC_PER_SEC);
	ck_assert_uint_eq(acked_count(q), 100);
	broker_stop();
	/* More arrive while the broker is down. */
	q->total = NMSG;
	run_until_acked(loop, m, q, 1500 * 1000);
	fg_mqtt_get_stats(m, &st);
	ck_assert_int_ne(st.state, FG_MQTT_CONNECTED);
	broker_start();
	run_until_acked(loop, m, q, 30 * FG_USEC_PER_SEC);
	fg_mqtt_get_stats(m, &st);
	ck_assert_uint_eq(acked_count(q), NMSG);
	ck_assert_uint_ge(st.connects, 2);
	ck_assert_int_eq(st.state, FG_MQTT_CONNECTED);
	fg_mqtt_free(m);
	sd_event_unref(loop);
	free(q);
}
END_TEST

START_TEST(mqtt_v5_delivers)
{
	struct fg_mqtt_config c = plain_config();
	struct queue *q = queue_new(50);
	struct fg_mqtt_queue ops = { .peek = q_peek, .ack = q_ack, .userdata = q };
	struct fg_mqtt *m;
	sd_event *loop;

	c.protocol = FG_MQTT_V5;
	c.message_expiry_s = 3600;
	broker_start();
	ck_assert_int_eq(sd_event_new(&loop), 0);
	ck_assert_int_eq(fg_mqtt_new(&c, "test", "application/senml+json", loop, &ops, &m), 0);
	run_until_acked(loop, m, q, 10 * FG_USEC_PER_SEC);
	ck_assert_uint_eq(acked_count(q), 50);
	fg_mqtt_free(m);
	sd_event_unref(loop);
	free(q);
}
END_TEST

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* What a reload compares: every setting the connection uses, and the TLS files themselves. */
START_TEST(mqtt_same_setup_notices_each_change_and_a_renewed_file)
{
	struct fg_mqtt_config c = plain_config(), x;
	struct queue *q = queue_new(1);
	struct fg_mqtt_queue ops = { .peek = q_peek, .ack = q_ack, .userdata = q };
	char ca[300];
	struct fg_mqtt *m;
	sd_event *loop;

	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	write_file(ca, "not a certificate yet\n");
	c.tls = true;
	c.ca_file = ca;
	c.topic = "fieldgate/{gateway}/{source}/{device}";
	ck_assert_int_eq(sd_event_new(&loop), 0);
	/* No broker listens: the sink waits to reconnect, which is all this test needs. */
	ck_assert_int_eq(fg_mqtt_new(&c, "test", "application/senml+json", loop, &ops, &m), 0);

	ck_assert(fg_mqtt_same_setup(m, &c, "test", "application/senml+json"));
	/* The topic template and the stats interval are not the connection's. */
	x = c;
	x.topic = "other/{device}";
	x.stats_interval_s = 5;
	ck_assert(fg_mqtt_same_setup(m, &x, "test", "application/senml+json"));

	ck_assert(!fg_mqtt_same_setup(m, &c, "other", "application/senml+json"));
	ck_assert(!fg_mqtt_same_setup(m, &c, "test", "application/json"));
	ck_assert(!fg_mqtt_same_setup(m, &c, "test", NULL));
	x = c;
	x.host = "localhost";
	ck_assert(!fg_mqtt_same_setup(m, &x, "test", "application/senml+json"));
	x = c;
	x.port++;
	ck_assert(!fg_mqtt_same_setup(m, &x, "test", "application/senml+json"));
	x = c;
	x.client_id = "fieldgate-other";
	ck_assert(!fg_mqtt_same_setup(m, &x, "test", "application/senml+json"));
	x = c;
	x.keepalive_s = 30;
	ck_assert(!fg_mqtt_same_setup(m, &x, "test", "application/senml+json"));
	x = c;
	x.password = "secret";
	ck_assert(!fg_mqtt_same_setup(m, &x, "test", "application/senml+json"));
	x = c;
	x.max_inflight = 10;
	ck_assert(!fg_mqtt_same_setup(m, &x, "test", "application/senml+json"));
	x = c;
	x.protocol = FG_MQTT_V5;
	ck_assert(!fg_mqtt_same_setup(m, &x, "test", "application/senml+json"));
	x = c;
	x.ca_file = NULL;
	ck_assert(!fg_mqtt_same_setup(m, &x, "test", "application/senml+json"));

	/* The same name, a renewed file: a change. */
	write_file(ca, "a renewed certificate, of another size\n");
	ck_assert(!fg_mqtt_same_setup(m, &c, "test", "application/senml+json"));
	fg_mqtt_free(m);
	sd_event_unref(loop);
	free(q);
}
END_TEST

START_TEST(mqtt_backoff_state_names)
{
	ck_assert_str_eq(fg_mqtt_state_to_string(FG_MQTT_CONNECTED), "connected");
	ck_assert_str_eq(fg_mqtt_state_to_string(FG_MQTT_STATE__COUNT), "unknown");
}
END_TEST

/*
 * A tiny MQTT 3.1.1 server of the test's own, in the test process: one
 * listening socket on 127.0.0.1, one connection at a time, every byte the
 * sink writes seen in order. It runs in the same thread as the sink's loop,
 * so each wait below runs the loop while it polls its socket.
 */
struct srv {
	int lfd, fd;
	uint8_t buf[8192];
	size_t len;
};

static void srv_listen(struct srv *s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	*s = (struct srv){ .fd = -1 };
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(s->lfd, 0);
	ck_assert_int_eq(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(s->lfd, 4), 0);
	ck_assert_int_eq(getsockname(s->lfd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
}

static void srv_close(struct srv *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->lfd >= 0)
		close(s->lfd);
	s->fd = s->lfd = -1;
}

/* Run the loop until the sink connects (again). */
static void srv_accept(struct srv *s, sd_event *loop, uint64_t usec)
{
	uint64_t deadline = fg_clock_mono_usec() + usec;

	if (s->fd >= 0)
		close(s->fd);
	s->len = 0;
	s->fd = -1;
	while (s->fd < 0 && fg_clock_mono_usec() < deadline) {
		s->fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK);
		if (s->fd < 0)
			ck_assert_int_ge(sd_event_run(loop, 10 * 1000), 0);
	}
	ck_assert_msg(s->fd >= 0, "the sink did not connect");
}

/* Read what has arrived, without waiting: bytes read, 0 if none, -1 when the sink closed. */
static int srv_fill(struct srv *s)
{
	ssize_t n = recv(s->fd, s->buf + s->len, sizeof(s->buf) - s->len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n <= 0)
		return -1;
	s->len += (size_t)n;
	return (int)n;
}

/* The whole packet at off in what arrived: its size (header included), body and length; 0 if cut. */
static size_t srv_packet_at(const struct srv *s, size_t off, const uint8_t **body, size_t *len)
{
	size_t rl = 0, i = off + 1;

	for (unsigned shift = 0;; shift += 7) {
		uint8_t b;

		ck_assert_uint_lt(shift, 28);
		if (i >= s->len)
			return 0;
		b = s->buf[i++];
		rl |= (size_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
	}
	if (s->len - i < rl)
		return 0;
	*body = s->buf + i;
	*len = rl;
	return i - off + rl;
}

/* Whether a packet of this type (first byte, flags masked) has arrived and is not taken yet. */
static bool srv_has(const struct srv *s, uint8_t type)
{
	const uint8_t *body;
	size_t len, n;

	for (size_t off = 0; off < s->len; off += n) {
		n = srv_packet_at(s, off, &body, &len);
		if (n == 0)
			break;
		if ((s->buf[off] & 0xf0) == type)
			return true;
	}
	return false;
}

static void srv_send(struct srv *s, const void *p, size_t n)
{
	ck_assert_int_eq(send(s->fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/*
 * Run the loop until a packet from the sink is whole; its first byte, with
 * its body copied to body (up to 4096 bytes), -1 when the sink closed the
 * connection, 0 at the time out.
 */
static int srv_next(struct srv *s, sd_event *loop, uint8_t *body, size_t *len, uint64_t usec)
{
	uint64_t deadline = fg_clock_mono_usec() + usec;

	for (;;) {
		const uint8_t *b;
		size_t n = srv_packet_at(s, 0, &b, len);
		int first, r;

		if (n > 0) {
			first = s->buf[0];
			ck_assert_uint_le(*len, 4096);
			memcpy(body, b, *len);
			memmove(s->buf, s->buf + n, s->len - n);
			s->len -= n;
			return first;
		}
		r = srv_fill(s);
		if (r < 0)
			return -1;
		if (fg_clock_mono_usec() >= deadline)
			return 0;
		if (r == 0)
			ck_assert_int_ge(sd_event_run(loop, 10 * 1000), 0);
	}
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * Run the loop until a packet of type arrives and return its first byte;
 * PUBLISHes on the way (the status) are answered with a PUBACK, PINGREQs
 * with a PINGRESP, anything else before it fails the test.
 */
static int srv_expect(struct srv *s, sd_event *loop, uint8_t type, uint8_t *body, size_t *len,
		      uint64_t usec)
{
	uint64_t deadline = fg_clock_mono_usec() + usec;

	for (;;) {
		uint64_t now = fg_clock_mono_usec();
		int first = srv_next(s, loop, body, len, now < deadline ? deadline - now : 0);

		ck_assert_msg(first > 0, "waiting for packet 0x%02x: %s", type,
			      first < 0 ? "the sink closed the connection" : "time out");
		if ((first & 0xf0) == type)
			return first;
		if ((first & 0xf0) == 0x30 && (first & 0x06) == 0x02) {
			uint8_t ack[4] = { 0x40, 2 };

			memcpy(ack + 2, body + 2 + be16(body), 2);
			srv_send(s, ack, sizeof(ack));
		} else if (first == 0xc0) {
			srv_send(s, (uint8_t[]){ 0xd0, 0 }, 2);
		} else {
			ck_abort_msg("packet 0x%02x while waiting for 0x%02x", first, type);
		}
	}
}

/* A PUBLISH from the server: QoS 1 with mid, dup as given. */
static void srv_publish(struct srv *s, const char *topic, const char *payload, uint16_t mid,
			bool dup)
{
	uint8_t p[512];
	size_t tl = strlen(topic), pl = strlen(payload), rl = 2 + tl + 2 + pl, n = 0;

	ck_assert_uint_lt(rl, 128);
	p[n++] = (uint8_t)(0x32 | (dup ? 0x08 : 0));
	p[n++] = (uint8_t)rl;
	p[n++] = (uint8_t)(tl >> 8);
	p[n++] = (uint8_t)tl;
	memcpy(p + n, topic, tl);
	n += tl;
	p[n++] = (uint8_t)(mid >> 8);
	p[n++] = (uint8_t)mid;
	memcpy(p + n, payload, pl);
	n += pl;
	srv_send(s, p, n);
}

/*
 * Accept the sink, read its CONNECT (3.1.1, clean session off), answer
 * CONNACK (session_present as given), then answer its nsubs SUBSCRIBEs.
 */
static void srv_handshake(struct srv *s, sd_event *loop, bool session_present, int nsubs)
{
	uint8_t body[4096];
	size_t len;

	srv_accept(s, loop, 10 * FG_USEC_PER_SEC);
	ck_assert_int_eq(srv_next(s, loop, body, &len, 5 * FG_USEC_PER_SEC), 0x10);
	ck_assert_uint_ge(len, 10);
	ck_assert_int_eq(memcmp(body, "\0\4MQTT\4", 7), 0);
	ck_assert_int_eq(body[7] & 0x02, 0); /* clean session off */
	srv_send(s, (uint8_t[]){ 0x20, 2, session_present, 0 }, 4);
	for (int i = 0; i < nsubs; i++) {
		uint8_t ack[5] = { 0x90, 3 };

		ck_assert_int_eq(srv_expect(s, loop, 0x80, body, &len, 5 * FG_USEC_PER_SEC), 0x82);
		memcpy(ack + 2, body, 2);
		ack[4] = body[len - 1]; /* the QoS asked for */
		srv_send(s, ack, sizeof(ack));
	}
}

/* What a command callback saw. */
struct seen {
	struct srv *srv;     /* the server to look at during the callback; NULL: none */
	int ret;             /* what the callback returns */
	int n;
	bool puback_early;   /* a PUBACK had reached the server when the callback ran */
	int qos;
	bool retain;
	char topic[64];
	char payload[256];
	size_t len;
	char response_topic[64];
	char correlation[64];
	size_t correlation_len;
};

static int on_cmd(const char *topic, const void *payload, size_t len,
		  const struct fg_mqtt_msg_info *info, void *userdata)
{
	struct seen *c = userdata;

	if (c->srv) {
		struct pollfd p = { .fd = c->srv->fd, .events = POLLIN };

		/*
		 * Give a PUBACK written before this call 100 ms to arrive: on
		 * loopback it is in the server's socket before write() returns.
		 */
		if (poll(&p, 1, 100) > 0)
			(void) srv_fill(c->srv);
		c->puback_early |= srv_has(c->srv, 0x40);
	}
	c->n++;
	c->qos = info->qos;
	c->retain = info->retain;
	c->len = len;
	snprintf(c->topic, sizeof(c->topic), "%s", topic);
	snprintf(c->payload, sizeof(c->payload), "%.*s", (int)(len < 255 ? len : 255),
		 (const char *)payload);
	snprintf(c->response_topic, sizeof(c->response_topic), "%s",
		 info->response_topic ? info->response_topic : "");
	c->correlation_len = info->correlation_len;
	ck_assert_uint_lt(info->correlation_len, sizeof(c->correlation));
	if (info->correlation_len)
		memcpy(c->correlation, info->correlation, info->correlation_len);
	ck_assert(info->correlation || !info->correlation_len);
	return c->ret;
}

/* Run the loop for usec. */
static void run_for(sd_event *loop, uint64_t usec)
{
	uint64_t deadline = fg_clock_mono_usec() + usec;

	while (fg_clock_mono_usec() < deadline)
		ck_assert_int_ge(sd_event_run(loop, 10 * 1000), 0);
}

static void run_until_seen(sd_event *loop, const struct seen *c, int n, uint64_t usec)
{
	uint64_t deadline = fg_clock_mono_usec() + usec;

	while (c->n < n && fg_clock_mono_usec() < deadline)
		ck_assert_int_ge(sd_event_run(loop, 10 * 1000), 0);
	ck_assert_int_ge(c->n, n);
}

/*
 * Durable before PUBACK: libmosquitto queues the PUBACK of a QoS 1 message
 * before it calls on_message; in threaded mode it must not leave before our
 * callback returned. Without mosquitto_threaded_set the PUBACK is on the
 * server's socket while the callback still runs, and this fails.
 */
START_TEST(mqtt_puback_leaves_only_after_the_message_callback)
{
	struct fg_mqtt_config c = plain_config();
	struct queue *q = queue_new(0);
	struct fg_mqtt_queue ops = { .peek = q_peek, .ack = q_ack, .userdata = q };
	struct srv s;
	struct seen cmd = { .srv = &s };
	uint8_t body[4096];
	size_t len;
	struct fg_mqtt *m;
	sd_event *loop;

	srv_listen(&s);
	c.port = (uint16_t)port;
	ck_assert_int_eq(sd_event_new(&loop), 0);
	ck_assert_int_eq(fg_mqtt_new(&c, "test", NULL, loop, &ops, &m), 0);
	ck_assert_int_eq(fg_mqtt_subscribe(m, "cmd/#", 1, on_cmd, &cmd), 0);
	srv_handshake(&s, loop, false, 1);

	srv_publish(&s, "cmd/down/push", "{\"id\":\"a\"}", 7, false);
	run_until_seen(loop, &cmd, 1, 5 * FG_USEC_PER_SEC);
	ck_assert_msg(!cmd.puback_early, "the PUBACK left before the message callback returned");
	ck_assert_str_eq(cmd.topic, "cmd/down/push");
	ck_assert_str_eq(cmd.payload, "{\"id\":\"a\"}");
	ck_assert_int_eq(cmd.qos, 1);
	ck_assert(!cmd.retain);
	ck_assert_str_eq(cmd.response_topic, "");
	ck_assert_uint_eq(cmd.correlation_len, 0);
	/* Once it returned and the loop ran: the PUBACK, for that message. */
	ck_assert_int_eq(srv_expect(&s, loop, 0x40, body, &len, 5 * FG_USEC_PER_SEC), 0x40);
	ck_assert_uint_eq(len, 2);
	ck_assert_uint_eq(be16(body), 7);

	/* A filter given up: what the broker still sends on it is acked, never given out. */
	ck_assert_int_eq(fg_mqtt_unsubscribe(m, "cmd/#"), 0);
	ck_assert_int_eq(fg_mqtt_unsubscribe(m, "cmd/#"), -ENOENT);
	ck_assert_int_eq(srv_expect(&s, loop, 0xa0, body, &len, 5 * FG_USEC_PER_SEC), 0xa2);
	ck_assert_uint_eq(len, 2 + 2 + 5);
	ck_assert_int_eq(memcmp(body + 2, "\0\5cmd/#", 7), 0);
	srv_publish(&s, "cmd/gpio", "{\"id\":\"b\"}", 8, false);
	ck_assert_int_eq(srv_expect(&s, loop, 0x40, body, &len, 5 * FG_USEC_PER_SEC), 0x40);
	ck_assert_uint_eq(be16(body), 8);
	ck_assert_int_eq(cmd.n, 1);
	/* Subscribed again, it is given out again. */
	ck_assert_int_eq(fg_mqtt_subscribe(m, "cmd/#", 1, on_cmd, &cmd), 0);
	srv_publish(&s, "cmd/gpio", "{\"id\":\"c\"}", 9, false);
	run_until_seen(loop, &cmd, 2, 5 * FG_USEC_PER_SEC);
	ck_assert(!cmd.puback_early);
	ck_assert_str_eq(cmd.payload, "{\"id\":\"c\"}");

	fg_mqtt_free(m);
	sd_event_unref(loop);
	srv_close(&s);
	free(q);
}
END_TEST

/*
 * A message the callback could not keep: no PUBACK at all, the connection
 * closed, and after the reconnect the server's redelivery (DUP) is given out
 * again and acknowledged then.
 */
START_TEST(mqtt_message_not_kept_is_not_acked_and_comes_again)
{
	struct fg_mqtt_config c = plain_config();
	struct queue *q = queue_new(0);
	struct fg_mqtt_queue ops = { .peek = q_peek, .ack = q_ack, .userdata = q };
	struct srv s;
	struct seen cmd = { .srv = &s, .ret = -EIO };
	struct fg_mqtt_stats st;
	uint8_t body[4096];
	size_t len;
	struct fg_mqtt *m;
	sd_event *loop;
	int first;

	srv_listen(&s);
	c.port = (uint16_t)port;
	ck_assert_int_eq(sd_event_new(&loop), 0);
	ck_assert_int_eq(fg_mqtt_new(&c, "test", NULL, loop, &ops, &m), 0);
	ck_assert_int_eq(fg_mqtt_subscribe(m, "cmd/#", 1, on_cmd, &cmd), 0);
	srv_handshake(&s, loop, false, 1);

	srv_publish(&s, "cmd/down/push", "{\"id\":\"a\"}", 21, false);
	run_until_seen(loop, &cmd, 1, 5 * FG_USEC_PER_SEC);
	/* Everything up to the end of the connection: never the PUBACK. */
	do {
		first = srv_next(&s, loop, body, &len, 5 * FG_USEC_PER_SEC);
		ck_assert_int_ne(first, 0);
		ck_assert_int_ne(first & 0xf0, 0x40);
	} while (first > 0);
	fg_mqtt_get_stats(m, &st);
	ck_assert_int_ne(st.state, FG_MQTT_CONNECTED);
	ck_assert_uint_eq(st.failures, 1);
	ck_assert_msg(strstr(st.last_error, "could not be kept"), "last error '%s'", st.last_error);

	/* Back after the backoff (about 1 s): the server, holding the session, sends it again. */
	cmd.ret = 0;
	srv_handshake(&s, loop, true, 1);
	srv_publish(&s, "cmd/down/push", "{\"id\":\"a\"}", 21, true);
	run_until_seen(loop, &cmd, 2, 5 * FG_USEC_PER_SEC);
	ck_assert(!cmd.puback_early);
	ck_assert_int_eq(srv_expect(&s, loop, 0x40, body, &len, 5 * FG_USEC_PER_SEC), 0x40);
	ck_assert_uint_eq(be16(body), 21);
	fg_mqtt_get_stats(m, &st);
	ck_assert_int_eq(st.state, FG_MQTT_CONNECTED);
	ck_assert_uint_eq(st.connects, 2);
	fg_mqtt_free(m);
	sd_event_unref(loop);
	srv_close(&s);
	free(q);
}
END_TEST

struct later {
	struct fg_mqtt *m;
	struct queue *q;
	int fired;
};

/* From a timer, outside any of the sink's callbacks: a direct publish and new outbox messages. */
static int on_later(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct later *l = userdata;

	(void) es;
	(void) usec;
	l->fired++;
	ck_assert_int_eq(fg_mqtt_publish_direct(l->m, "t/direct", "x", 1, false), 0);
	l->q->total = 3;
	fg_mqtt_kick(l->m);
	return 0;
}

/*
 * In threaded mode nothing is written inline any more: what was written
 * from inside a call must still leave, from the EPOLLOUT handler. A publish
 * from a timer, the outbox's window, the keepalive's PINGREQ (from
 * mosquitto_loop_misc), and at the end the "offline" status and DISCONNECT
 * that fg_mqtt_free flushes itself.
 */
START_TEST(mqtt_threaded_mode_still_writes_everything)
{
	struct fg_mqtt_config c = plain_config();
	struct queue *q = queue_new(3);
	struct fg_mqtt_queue ops = { .peek = q_peek, .ack = q_ack, .userdata = q };
	struct later l = { .q = q };
	struct srv s;
	sd_event_source *timer;
	uint8_t body[4096];
	size_t len;
	struct fg_mqtt *m;
	sd_event *loop;
	uint64_t t0;
	int first;

	q->total = 0; /* until the timer */
	srv_listen(&s);
	c.port = (uint16_t)port;
	c.keepalive_s = 5; /* libmosquitto's least */
	ck_assert_int_eq(sd_event_new(&loop), 0);
	ck_assert_int_eq(fg_mqtt_new(&c, "test", NULL, loop, &ops, &m), 0);
	l.m = m;
	srv_handshake(&s, loop, false, 0);
	/* The status, at once after the CONNACK. */
	ck_assert_int_eq(srv_expect(&s, loop, 0x30, body, &len, 5 * FG_USEC_PER_SEC), 0x33);
	ck_assert_int_eq(memcmp(body + 2, "fieldgate/test/status", 21), 0);
	ck_assert_ptr_nonnull(memmem(body, len, "\"online\"", 8));
	srv_send(&s, (uint8_t[]){ 0x40, 2, body[2 + be16(body)], body[3 + be16(body)] }, 4);

	ck_assert_int_eq(sd_event_add_time_relative(loop, &timer, CLOCK_MONOTONIC,
						    200 * FG_USEC_PER_MSEC, 1, on_later, &l),
			 0);
	t0 = fg_clock_mono_usec();
	ck_assert_int_eq(srv_expect(&s, loop, 0x30, body, &len, 2 * FG_USEC_PER_SEC), 0x32);
	ck_assert_int_eq(l.fired, 1);
	ck_assert_int_eq(memcmp(body, "\0\10t/direct", 10), 0);
	/* Well before the misc timer's next second: the loop woke for the queued packet itself. */
	ck_assert_uint_lt(fg_clock_mono_usec() - t0, 900 * FG_USEC_PER_MSEC);
	for (int i = 1; i <= 3; i++) {
		char want[32];

		ck_assert_int_eq(srv_expect(&s, loop, 0x30, body, &len, 2 * FG_USEC_PER_SEC), 0x32);
		ck_assert_int_eq(memcmp(body + 2, "fieldgate/test/sim/dev", 22), 0);
		snprintf(want, sizeof(want), "{\"seq\":%d}", i);
		ck_assert_ptr_nonnull(memmem(body, len, want, strlen(want)));
		srv_send(&s, (uint8_t[]){ 0x40, 2, body[24], body[25] }, 4);
	}
	run_until_acked(loop, m, q, 2 * FG_USEC_PER_SEC);
	ck_assert_uint_eq(acked_count(q), 3);

	/* Idle now: the keepalive's PINGREQ comes within the keepalive (and a second). */
	t0 = fg_clock_mono_usec();
	ck_assert_int_eq(srv_next(&s, loop, body, &len, 8 * FG_USEC_PER_SEC), 0xc0);
	ck_assert_uint_le(fg_clock_mono_usec() - t0, 7 * FG_USEC_PER_SEC);
	srv_send(&s, (uint8_t[]){ 0xd0, 0 }, 2);
	/*
	 * Let the sink read it: a socket closed with unread bytes resets the
	 * connection, and the server would lose what was still in flight.
	 */
	run_for(loop, 200 * FG_USEC_PER_MSEC);

	/* The goodbye: "offline" (retained, QoS 1), DISCONNECT, then the end. */
	fg_mqtt_free(m);
	first = srv_next(&s, loop, body, &len, 2 * FG_USEC_PER_SEC);
	ck_assert_int_eq(first, 0x33);
	ck_assert_int_eq(memcmp(body + 2, "fieldgate/test/status", 21), 0);
	ck_assert_ptr_nonnull(memmem(body, len, "\"offline\"", 9));
	ck_assert_int_eq(srv_next(&s, loop, body, &len, 2 * FG_USEC_PER_SEC), 0xe0);
	ck_assert_int_eq(srv_next(&s, loop, body, &len, 2 * FG_USEC_PER_SEC), -1);
	sd_event_source_unref(timer);
	sd_event_unref(loop);
	srv_close(&s);
	free(q);
}
END_TEST

/* Run the loop until m is connected. */
static void run_until_connected(sd_event *loop, struct fg_mqtt *m, uint64_t usec)
{
	uint64_t deadline = fg_clock_mono_usec() + usec;
	struct fg_mqtt_stats st;

	for (;;) {
		fg_mqtt_get_stats(m, &st);
		if (st.state == FG_MQTT_CONNECTED || fg_clock_mono_usec() >= deadline)
			break;
		ck_assert_int_ge(sd_event_run(loop, 10 * 1000), 0);
	}
	ck_assert_int_eq(st.state, FG_MQTT_CONNECTED);
}

/* A plain libmosquitto client of the test's, blocking: what the cloud side would run. */
static struct mosquitto *cloud_connect(int protocol)
{
	struct mosquitto *c = mosquitto_new("cloud", true, NULL);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(mosquitto_int_option(c, MOSQ_OPT_PROTOCOL_VERSION, protocol), 0);
	ck_assert_int_eq(mosquitto_connect(c, "127.0.0.1", port, 10), MOSQ_ERR_SUCCESS);
	for (int i = 0; i < 10; i++)
		(void) mosquitto_loop(c, 20, 1);
	return c;
}

/* Publish at QoS 1 and run the client long enough for the broker's PUBACK. */
static void cloud_publish(struct mosquitto *c, const char *topic, const void *payload, int len,
			  const mosquitto_property *props)
{
	ck_assert_int_eq(mosquitto_publish_v5(c, NULL, topic, len, payload, 1, false, props),
			 MOSQ_ERR_SUCCESS);
	for (int i = 0; i < 15; i++)
		(void) mosquitto_loop(c, 20, 1);
}

static void cloud_free(struct mosquitto *c)
{
	(void) mosquitto_disconnect(c);
	(void) mosquitto_loop(c, 20, 1);
	mosquitto_destroy(c);
}

/*
 * Persistent session: a QoS 1 command published while the gateway was away
 * arrives once it is back (3.1.1: clean session off; 5: a session expiry),
 * even before its SUBSCRIBE of the new connection, from the session.
 */
static void offline_message_arrives(enum fg_mqtt_protocol protocol)
{
	struct fg_mqtt_config c = plain_config();
	struct queue *q = queue_new(0);
	struct fg_mqtt_queue ops = { .peek = q_peek, .ack = q_ack, .userdata = q };
	struct seen cmd = { 0 };
	struct fg_mqtt_stats st;
	struct mosquitto *cloud;
	struct fg_mqtt *m;
	sd_event *loop;
	uint64_t deadline;

	c.protocol = protocol;
	c.session_expiry_s = 3600;
	broker_start();
	cloud = cloud_connect(protocol == FG_MQTT_V5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	ck_assert_int_eq(sd_event_new(&loop), 0);
	ck_assert_int_eq(fg_mqtt_new(&c, "test", NULL, loop, &ops, &m), 0);
	ck_assert_int_eq(fg_mqtt_subscribe(m, "cmd/#", 1, on_cmd, &cmd), 0);
	run_until_connected(loop, m, 10 * FG_USEC_PER_SEC);
	/* Subscribed once a probe comes through. */
	deadline = fg_clock_mono_usec() + 10 * FG_USEC_PER_SEC;
	while (cmd.n == 0 && fg_clock_mono_usec() < deadline) {
		cloud_publish(cloud, "cmd/probe", "p", 1, NULL);
		run_for(loop, 100 * FG_USEC_PER_MSEC);
	}
	ck_assert_int_ge(cmd.n, 1);
	fg_mqtt_free(m); /* a clean goodbye: the broker keeps the session */

	cmd = (struct seen){ 0 };
	cloud_publish(cloud, "cmd/down/push", "{\"id\":\"while-away\"}", 19, NULL);
	ck_assert_int_eq(fg_mqtt_new(&c, "test", NULL, loop, &ops, &m), 0);
	ck_assert_int_eq(fg_mqtt_subscribe(m, "cmd/#", 1, on_cmd, &cmd), 0);
	run_until_seen(loop, &cmd, 1, 10 * FG_USEC_PER_SEC);
	ck_assert_str_eq(cmd.topic, "cmd/down/push");
	ck_assert_str_eq(cmd.payload, "{\"id\":\"while-away\"}");
	ck_assert_int_eq(cmd.qos, 1);
	fg_mqtt_get_stats(m, &st);
	ck_assert(st.session_present);
	/* Acked: a third connection gets nothing again. */
	run_for(loop, 300 * FG_USEC_PER_MSEC);
	fg_mqtt_free(m);
	cmd = (struct seen){ 0 };
	ck_assert_int_eq(fg_mqtt_new(&c, "test", NULL, loop, &ops, &m), 0);
	ck_assert_int_eq(fg_mqtt_subscribe(m, "cmd/#", 1, on_cmd, &cmd), 0);
	run_until_connected(loop, m, 10 * FG_USEC_PER_SEC);
	run_for(loop, 500 * FG_USEC_PER_MSEC);
	ck_assert_int_eq(cmd.n, 0);
	fg_mqtt_free(m);
	cloud_free(cloud);
	sd_event_unref(loop);
	free(q);
}

START_TEST(mqtt_command_sent_while_away_arrives_v311)
{
	offline_message_arrives(FG_MQTT_V311);
}
END_TEST

START_TEST(mqtt_command_sent_while_away_arrives_v5)
{
	offline_message_arrives(FG_MQTT_V5);
}
END_TEST

/*
 * MQTT 5 request/response through a real broker: the sink's callback gets
 * the command's response topic and correlation data, and an outbox message
 * with correlation data reaches a v5 subscriber with the property. Over
 * 3.1.1 the same outbox message still goes out, without it.
 */
START_TEST(mqtt_v5_response_topic_and_correlation_data)
{
	struct fg_mqtt_config c = plain_config(), cs = plain_config();
	struct queue *q = queue_new(2), *none = queue_new(0);
	struct fg_mqtt_queue ops = { .peek = q_peek, .ack = q_ack, .userdata = q };
	struct fg_mqtt_queue nops = { .peek = q_peek, .ack = q_ack, .userdata = none };
	struct seen cmd = { 0 }, out = { 0 };
	mosquitto_property *props = NULL;
	struct mosquitto *cloud;
	struct fg_mqtt *m, *sub;
	sd_event *loop;
	uint64_t deadline;
	static const char corr[] = { 'r', 'e', 'q', 0, 1, '\xff' }; /* binary, NUL inside */

	q->total = 0; /* until the commands are in */
	c.protocol = FG_MQTT_V5;
	cs.protocol = FG_MQTT_V5;
	cs.client_id = "cloud-subscriber";
	broker_start();
	cloud = cloud_connect(MQTT_PROTOCOL_V5);
	ck_assert_int_eq(sd_event_new(&loop), 0);
	ck_assert_int_eq(fg_mqtt_new(&c, "test", NULL, loop, &ops, &m), 0);
	ck_assert_int_eq(fg_mqtt_subscribe(m, "cmd/#", 1, on_cmd, &cmd), 0);
	/* The cloud's side of the outcomes: another sink, its own queue empty. */
	ck_assert_int_eq(fg_mqtt_new(&cs, "cloud", NULL, loop, &nops, &sub), 0);
	ck_assert_int_eq(fg_mqtt_subscribe(sub, "fieldgate/test/sim/#", 1, on_cmd, &out), 0);
	run_until_connected(loop, m, 10 * FG_USEC_PER_SEC);
	run_until_connected(loop, sub, 10 * FG_USEC_PER_SEC);

	ck_assert_int_eq(mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC,
						       "cloud/replies/7"),
			 MOSQ_ERR_SUCCESS);
	ck_assert_int_eq(mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, corr,
						       sizeof(corr)),
			 MOSQ_ERR_SUCCESS);
	deadline = fg_clock_mono_usec() + 10 * FG_USEC_PER_SEC;
	while (cmd.n == 0 && fg_clock_mono_usec() < deadline) {
		cloud_publish(cloud, "cmd/gpio", "{\"id\":\"r\"}", 10, props);
		run_for(loop, 100 * FG_USEC_PER_MSEC);
	}
	mosquitto_property_free_all(&props);
	ck_assert_int_ge(cmd.n, 1);
	ck_assert_str_eq(cmd.response_topic, "cloud/replies/7");
	ck_assert_uint_eq(cmd.correlation_len, sizeof(corr));
	ck_assert_int_eq(memcmp(cmd.correlation, corr, sizeof(corr)), 0);
	/* Without properties: none reported. */
	run_for(loop, 200 * FG_USEC_PER_MSEC);
	cmd = (struct seen){ 0 };
	cloud_publish(cloud, "cmd/gpio", "{\"id\":\"s\"}", 10, NULL);
	run_until_seen(loop, &cmd, 1, 5 * FG_USEC_PER_SEC);
	ck_assert_str_eq(cmd.response_topic, "");
	ck_assert_uint_eq(cmd.correlation_len, 0);

	/* An outcome with correlation data, through the outbox, as the subscriber sees it. */
	deadline = fg_clock_mono_usec() + 10 * FG_USEC_PER_SEC;
	q->correlation = "outcome-corr";
	q->total = 1;
	while (out.n == 0 && fg_clock_mono_usec() < deadline) {
		fg_mqtt_kick(m);
		ck_assert_int_ge(sd_event_run(loop, 10 * 1000), 0);
	}
	ck_assert_int_ge(out.n, 1);
	ck_assert_str_eq(out.payload, "{\"seq\":1}");
	ck_assert_uint_eq(out.correlation_len, strlen("outcome-corr"));
	ck_assert_int_eq(memcmp(out.correlation, "outcome-corr", out.correlation_len), 0);
	run_until_acked(loop, m, q, 5 * FG_USEC_PER_SEC);
	ck_assert_uint_eq(acked_count(q), 1);
	fg_mqtt_free(m);

	/* 3.1.1: no properties to carry it; the message goes all the same. */
	c.protocol = FG_MQTT_V311;
	c.client_id = "fieldgate-v311";
	q->total = 2;
	out = (struct seen){ 0 };
	ck_assert_int_eq(fg_mqtt_new(&c, "test", NULL, loop, &ops, &m), 0);
	run_until_acked(loop, m, q, 10 * FG_USEC_PER_SEC);
	ck_assert_uint_eq(acked_count(q), 2);
	run_until_seen(loop, &out, 1, 5 * FG_USEC_PER_SEC);
	ck_assert_str_eq(out.payload, "{\"seq\":2}");
	ck_assert_uint_eq(out.correlation_len, 0);
	fg_mqtt_free(m);
	fg_mqtt_free(sub);
	cloud_free(cloud);
	sd_event_unref(loop);
	free(q);
	free(none);
}
END_TEST

/*
 * The maximum packet size a v5 sink announces: the broker drops a message
 * larger than FG_MQTT_MAX_PACKET_IN instead of sending it, and the next one
 * still comes; one below it comes whole.
 */
START_TEST(mqtt_v5_broker_keeps_packets_over_our_maximum)
{
	struct fg_mqtt_config c = plain_config();
	struct queue *q = queue_new(0);
	struct fg_mqtt_queue ops = { .peek = q_peek, .ack = q_ack, .userdata = q };
	struct seen cmd = { 0 };
	struct mosquitto *cloud;
	size_t big = FG_MQTT_MAX_PACKET_IN + 1, fits = FG_MQTT_MAX_PACKET_IN - 256;
	char *payload = malloc(big);
	struct fg_mqtt *m;
	sd_event *loop;
	uint64_t deadline;

	ck_assert_ptr_nonnull(payload);
	memset(payload, 'x', big);
	c.protocol = FG_MQTT_V5;
	broker_start();
	cloud = cloud_connect(MQTT_PROTOCOL_V5);
	ck_assert_int_eq(sd_event_new(&loop), 0);
	ck_assert_int_eq(fg_mqtt_new(&c, "test", NULL, loop, &ops, &m), 0);
	ck_assert_int_eq(fg_mqtt_subscribe(m, "cmd/#", 1, on_cmd, &cmd), 0);
	run_until_connected(loop, m, 10 * FG_USEC_PER_SEC);
	deadline = fg_clock_mono_usec() + 10 * FG_USEC_PER_SEC;
	while (cmd.n == 0 && fg_clock_mono_usec() < deadline) {
		cloud_publish(cloud, "cmd/probe", "p", 1, NULL);
		run_for(loop, 100 * FG_USEC_PER_MSEC);
	}
	ck_assert_int_ge(cmd.n, 1);
	run_for(loop, 200 * FG_USEC_PER_MSEC);
	cmd = (struct seen){ 0 };
	cloud_publish(cloud, "cmd/big", payload, (int)big, NULL);
	cloud_publish(cloud, "cmd/fits", payload, (int)fits, NULL);
	cloud_publish(cloud, "cmd/small", "s", 1, NULL);
	run_until_seen(loop, &cmd, 2, 10 * FG_USEC_PER_SEC);
	run_for(loop, 200 * FG_USEC_PER_MSEC);
	ck_assert_int_eq(cmd.n, 2);
	ck_assert_str_eq(cmd.topic, "cmd/small");
	fg_mqtt_free(m);
	cloud_free(cloud);
	sd_event_unref(loop);
	free(payload);
	free(q);
}
END_TEST

static Suite *mqtt_suite(void)
{
	Suite *s = suite_create("mqtt");
	TCase *tc = tcase_create("broker");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, mqtt_delivers_every_message_once_with_window);
	tcase_add_test(tc, mqtt_subscribes_at_connect_and_delivers);
	tcase_add_test(tc, mqtt_without_broker_waits_and_says_why);
	tcase_add_test(tc, mqtt_reconnects_after_broker_restart_and_loses_nothing);
	tcase_add_test(tc, mqtt_v5_delivers);
	tcase_add_test(tc, mqtt_same_setup_notices_each_change_and_a_renewed_file);
	tcase_add_test(tc, mqtt_backoff_state_names);
	tcase_add_test(tc, mqtt_puback_leaves_only_after_the_message_callback);
	tcase_add_test(tc, mqtt_message_not_kept_is_not_acked_and_comes_again);
	tcase_add_test(tc, mqtt_threaded_mode_still_writes_everything);
	tcase_add_test(tc, mqtt_command_sent_while_away_arrives_v311);
	tcase_add_test(tc, mqtt_command_sent_while_away_arrives_v5);
	tcase_add_test(tc, mqtt_v5_response_topic_and_correlation_data);
	tcase_add_test(tc, mqtt_v5_broker_keeps_packets_over_our_maximum);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(mqtt_suite());
}
