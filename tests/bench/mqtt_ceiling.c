/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The broker's own ceiling: a minimal single-threaded libmosquitto QoS 1
 * publisher with the same inflight window as fieldgated, driven by its own
 * poll loop. Prints messages per second until every PUBACK is in.
 *
 *   mqtt_ceiling PORT COUNT WINDOW
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>

static long acked, sent, total, window;
static int connected;

static void on_connect(struct mosquitto *m, void *u, int rc)
{
	(void) m;
	(void) u;
	connected = rc == 0 ? 1 : -1;
}

static void on_publish(struct mosquitto *m, void *u, int mid)
{
	(void) m;
	(void) u;
	(void) mid;
	acked++;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char payload[] = "[{\"bn\":\"urn:dev:org:32473-fieldgate.sim:sim-0001:\",\"bt\":1795581005.192,"
			       "\"seq\":1,\"n\":\"temperature\",\"u\":\"Cel\",\"v\":18.39},{\"n\":\"humidity\","
			       "\"u\":\"%RH\",\"v\":65.8},{\"n\":\"battery\",\"u\":\"%EL\",\"v\":62.1}]";
	struct mosquitto *m;
	double t0, deadline;

	if (argc != 4)
		return 2;
	total = atol(argv[2]);
	window = atol(argv[3]);
	mosquitto_lib_init();
	m = mosquitto_new("fieldgate-bench-ceiling", true, NULL);
	mosquitto_connect_callback_set(m, on_connect);
	mosquitto_publish_callback_set(m, on_publish);
	mosquitto_max_inflight_messages_set(m, (unsigned)window);
	if (mosquitto_connect(m, "127.0.0.1", atoi(argv[1]), 60) != MOSQ_ERR_SUCCESS)
		return 1;
	deadline = now() + 120;
	t0 = now();
	while (acked < total && now() < deadline) {
		struct pollfd p = { .fd = mosquitto_socket(m), .events = POLLIN };

		while (connected == 1 && sent < total && sent - acked < window) {
			mosquitto_publish(m, NULL, "fieldgate/bench/ceiling", (int)strlen(payload), payload,
					  1, false);
			sent++;
		}
		if (mosquitto_want_write(m))
			p.events |= POLLOUT;
		if (poll(&p, 1, 100) > 0) {
			if (p.revents & POLLIN)
				mosquitto_loop_read(m, 1);
			if (p.revents & POLLOUT)
				mosquitto_loop_write(m, 1);
		}
		mosquitto_loop_misc(m);
		if (connected < 0)
			return 1;
	}
	printf("%.0f\n", (double)acked / (now() - t0));
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	return acked == total ? 0 : 1;
}
