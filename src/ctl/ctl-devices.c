/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fieldgatectl devices [--json]: the LoRaWAN devices the daemon knows, from
 * its control socket: activation, join state, DevAddr, when last heard,
 * frame counters and the last frame's RSSI/SNR.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/control.h"
#include "ctl.h"


#define ANSWER_MAX 65536

/* "12 s ago", "3 min ago", "never": how long since a wall time in ms. */
static void ago(const json_t *ms, char *buf, size_t size)
{
	uint64_t now = fg_clock_wall_ms(), t;

	if (!json_is_integer(ms)) {
		snprintf(buf, size, "-");
		return;
	}
	t = (uint64_t) json_integer_value(ms);
	if (now < t)
		snprintf(buf, size, "just now");
	else if (now - t < 120000)
		snprintf(buf, size, "%llu s ago", (unsigned long long) ((now - t) / 1000));
	else if (now - t < 7200000)
		snprintf(buf, size, "%llu min ago", (unsigned long long) ((now - t) / 60000));
	else
		snprintf(buf, size, "%llu h ago", (unsigned long long) ((now - t) / 3600000));
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

/* One line per device. */
static int print_table(const char *answer)
{
	json_t *root = json_loads(answer, 0, NULL);
	size_t i;
	json_t *dev;

	if (!json_is_array(root)) {
		fprintf(stderr, "fieldgatectl: the daemon's answer is not a device list: %s", answer);
		json_decref(root);
		return EXIT_REFUSED;
	}
	printf("%-20s %-16s %-4s %-10s %-8s %-12s %8s %8s %6s %6s\n", "NAME", "DEVEUI", "MODE",
	       "STATE", "DEVADDR", "LAST SEEN", "FCNT UP", "FCNT DN", "RSSI", "SNR");
	json_array_foreach(root, i, dev) {
		char last[24], rssi[16] = "-", snr[16] = "-";
		const json_t *r = json_object_get(dev, "rssi"), *s = json_object_get(dev, "snr");

		ago(json_object_get(dev, "last_seen_ms"), last, sizeof(last));
		if (json_is_integer(r))
			snprintf(rssi, sizeof(rssi), "%lld", (long long) json_integer_value(r));
		if (json_is_number(s))
			snprintf(snr, sizeof(snr), "%.1f", json_number_value(s));
		printf("%-20s %-16s %-4s %-10s %-8s %-12s %8lld %8lld %6s %6s\n", str(dev, "name"),
		       str(dev, "dev_eui"), str(dev, "activation"),
		       json_is_true(json_object_get(dev, "joined")) ? "joined" : "not joined",
		       str(dev, "dev_addr"), last,
		       (long long) json_integer_value(json_object_get(dev, "fcnt_up")),
		       (long long) json_integer_value(json_object_get(dev, "fcnt_down")), rssi, snr);
	}
	json_decref(root);
	return EXIT_SUCCESS;
}

int fg_ctl_devices(int argc, char **argv, const char *config_path, const char *socket_path)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	static char answer[ANSWER_MAX];
	struct fg_config *cfg = NULL;
	bool json = false;
	char sock[160];
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		if (c != 'j') {
			fprintf(stderr, "fieldgatectl: usage: devices [--json]\n");
			return EXIT_USAGE;
		}
		json = true;
	}
	if (optind != argc) {
		fprintf(stderr, "fieldgatectl: usage: devices [--json]\n");
		return EXIT_USAGE;
	}
	/* The socket is all this needs: an operator may not read the configuration. */
	r = fg_ctl_socket(config_path, socket_path, &cfg, sock, sizeof(sock));
	fg_config_free(cfg);
	if (r < 0) {
		fprintf(stderr, "fieldgatectl: control socket path too long\n");
		return EXIT_USAGE;
	}
	r = fg_control_query(sock, "devices", answer, sizeof(answer));
	if (r <= 0) {
		fprintf(stderr, "fieldgatectl: the daemon is not answering on '%s' (%s)\n", sock,
			strerror(r < 0 ? -r : ENODATA));
		return EXIT_REFUSED;
	}
	if (fg_ctl_refused(answer, sock))
		return EXIT_REFUSED;
	if (json) {
		fputs(answer, stdout);
		return EXIT_SUCCESS;
	}
	return print_table(answer);
}
