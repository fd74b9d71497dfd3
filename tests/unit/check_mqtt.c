/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The MQTT sink against a real mosquitto broker started by the test on a
 * free loopback port, with an in-memory queue standing in for the store.
 * Every wait is bounded.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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
					   .payload_len = strlen(q->payload[seq - 1]), .qos = 1 };

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

static void on_msg(const char *topic, const void *payload, size_t len, void *userdata)
{
	struct got *g = userdata;

	snprintf(g->topic, sizeof(g->topic), "%s", topic);
	snprintf(g->payload, sizeof(g->payload), "%.*s", (int) len, (const char *) payload);
	g->n++;
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
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(mqtt_suite());
}
