/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The machine's floor for a process that wakes HZ times a second: an
 * sd-event loop with one monotonic timer and nothing else to do. Prints the
 * CPU time (from /proc/self/schedstat, user and system together) per
 * wake-up, in microseconds. scripts/bench sets it beside the daemon's own
 * wake-ups per reading, so the CPU per reading can be read against what
 * waking alone costs on this machine.
 *
 *   wakefloor HZ SECONDS
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-event.h>

static uint64_t left, period_us;

static int cpu_ns(uint64_t *ret)
{
	FILE *f = fopen("/proc/self/schedstat", "re");
	unsigned long long v;
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%llu", &v) == 1;
	fclose(f);
	if (!ok)
		return -EIO;
	*ret = v;
	return 0;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void) userdata;
	if (--left == 0)
		return sd_event_exit(sd_event_source_get_event(s), 0);
	return sd_event_source_set_time(s, usec + period_us);
}

int main(int argc, char **argv)
{
	sd_event *loop = NULL;
	sd_event_source *t = NULL;
	uint64_t now, c0, c1, n;
	long hz, seconds;
	int r;

	if (argc != 3 || (hz = strtol(argv[1], NULL, 10)) <= 0 || hz > 100000 ||
	    (seconds = strtol(argv[2], NULL, 10)) <= 0 || seconds > 600) {
		fprintf(stderr, "usage: wakefloor HZ SECONDS\n");
		return 2;
	}
	n = left = (uint64_t) hz * (uint64_t) seconds;
	period_us = 1000000 / (uint64_t) hz;
	r = sd_event_new(&loop);
	if (r >= 0)
		r = sd_event_now(loop, CLOCK_MONOTONIC, &now);
	/* Accuracy 1 us: every wake-up its own, none coalesced. */
	if (r >= 0)
		r = sd_event_add_time(loop, &t, CLOCK_MONOTONIC, now + period_us, 1, on_tick, NULL);
	if (r >= 0)
		r = sd_event_source_set_enabled(t, SD_EVENT_ON);
	if (r >= 0)
		r = cpu_ns(&c0);
	if (r >= 0)
		r = sd_event_loop(loop);
	if (r >= 0)
		r = cpu_ns(&c1);
	sd_event_source_unref(t);
	sd_event_unref(loop);
	if (r < 0) {
		fprintf(stderr, "wakefloor: %s\n", strerror(-r));
		return 1;
	}
	printf("%.2f\n", (double) (c1 - c0) / 1000.0 / (double) n);
	return 0;
}
