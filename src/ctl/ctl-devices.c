/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fieldgatectl devices [--json]: the devices of every source (LoRaWAN, BLE,
 * simulated) as the daemon knows them, asked of its control socket; when no
 * daemon answers, what the configuration and the buffer file know, in the
 * same shape (source/devices.h), and exit 3.
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
#include "source/devices.h"
#include "store/store.h"
#include "ctl.h"

#define ANSWER_MAX 65536

/* "12 s ago", "3 min ago", "-": how long since a wall time in ms. */
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

/* An integer, or "-" for null. */
static const char *num(const json_t *o, const char *key, char *buf, size_t size)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return "-";
	snprintf(buf, size, "%lld", (long long) json_integer_value(v));
	return buf;
}

/* What the table says of a device beyond the common columns. */
static void detail(const json_t *dev, char *buf, size_t size)
{
	const char *source = str(dev, "source");
	char up[24], down[24];

	if (!strcmp(source, "lora")) {
		const json_t *joined = json_object_get(dev, "joined");

		snprintf(buf, size, "%s %s fcnt %s/%s", str(dev, "activation"),
			 json_is_true(joined)	 ? str(dev, "dev_addr")
			 : json_is_false(joined) ? "not joined"
						 : "joined?",
			 num(dev, "fcnt_up", up, sizeof(up)),
			 num(dev, "fcnt_down", down, sizeof(down)));
	} else if (!strcmp(source, "ble")) {
		snprintf(buf, size, "%s %s%s", str(dev, "address"), str(dev, "format"),
			 json_is_false(json_object_get(dev, "configured")) ? " (unknown)" : "");
	} else {
		snprintf(buf, size, "-");
	}
}

/* One line per device. */
static int print_table(const json_t *root)
{
	const json_t *devices = json_object_get(root, "devices"), *dev;
	size_t i;

	printf("%-6s %-20s %-16s %-34s %-12s %8s %7s %5s\n", "SOURCE", "NAME", "ID", "STATE",
	       "LAST SEEN", "READINGS", "REFUSED", "RSSI");
	json_array_foreach(devices, i, dev)
	{
		char last[24], more[96], n1[24], n2[24], n3[24];

		ago(json_object_get(dev, "last_seen_ms"), last, sizeof(last));
		detail(dev, more, sizeof(more));
		printf("%-6s %-20s %-16s %-34s %-12s %8s %7s %5s\n", str(dev, "source"),
		       str(dev, "name"), str(dev, "id"), more, last,
		       num(dev, "readings", n1, sizeof(n1)), num(dev, "refused", n2, sizeof(n2)),
		       num(dev, "rssi", n3, sizeof(n3)));
	}
	if (json_is_true(json_object_get(root, "truncated")))
		printf("(more devices than one answer holds: see --json's truncated)\n");
	return EXIT_SUCCESS;
}

static int keep_fcnt(const char *device, const char *key, int64_t value, void *userdata)
{
	if (!strcmp(key, "fcnt_up"))
		json_object_set_new(userdata, device, json_integer(value));
	return 0;
}

static int file_state(const char *device, const char *key, int64_t *ret, void *userdata)
{
	const json_t *v = json_object_get(userdata, device);

	if (strcmp(key, "fcnt_up") || !json_is_integer(v))
		return -ENOENT;
	*ret = json_integer_value(v);
	return 0;
}

static int append(json_t *dev, void *userdata)
{
	return json_array_append_new(userdata, dev) < 0 ? -ENOMEM : 0;
}

/* Without a daemon: the configuration's devices, the counters the buffer file kept. */
static json_t *devices_from_files(const struct fg_config *cfg)
{
	const struct fg_devices_sources none = { 0 };
	json_t *state = json_object(), *devices = json_array();
	int r;

	r = fg_store_read_device_state(cfg->buffer.path, keep_fcnt, state);
	if (r < 0 && r != -ENOENT)
		fprintf(stderr,
			"fieldgatectl: cannot read buffer '%s': %s; its frame counters "
			"are not shown\n",
			cfg->buffer.path, strerror(-r));
	r = fg_devices_each(cfg, &none, file_state, state, append, devices);
	json_decref(state);
	if (r < 0) {
		json_decref(devices);
		return NULL;
	}
	return json_pack("{s:o,s:b}", "devices", devices, "truncated", 0);
}

int fg_ctl_devices(int argc, char **argv, const char *config_path, const char *socket_path)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	static char answer[ANSWER_MAX];
	struct fg_config *cfg = NULL;
	bool json = false;
	json_t *root;
	char sock[160];
	int c, r, status = EXIT_SUCCESS;

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
	if (r < 0) {
		fprintf(stderr, "fieldgatectl: control socket path too long\n");
		fg_config_free(cfg);
		return EXIT_USAGE;
	}
	r = fg_control_query(sock, "devices", answer, sizeof(answer));
	if (r > 0) {
		fg_config_free(cfg);
		if (fg_ctl_refused(answer, sock))
			return EXIT_REFUSED;
		root = json_loads(answer, 0, NULL);
		if (!json_is_array(json_object_get(root, "devices"))) {
			fprintf(stderr,
				"fieldgatectl: the daemon's answer is not a device list: %s",
				answer);
			json_decref(root);
			return EXIT_REFUSED;
		}
		if (json)
			fputs(answer, stdout);
		else
			print_table(root);
		json_decref(root);
		return EXIT_SUCCESS;
	}
	status = fg_ctl_not_answering(r, sock);
	if (!cfg) {
		fprintf(stderr,
			"fieldgatectl: without the configuration '%s' the devices are "
			"unknown\n",
			config_path);
		return status;
	}
	root = devices_from_files(cfg);
	fg_config_free(cfg);
	if (!root) {
		fprintf(stderr, "fieldgatectl: %s\n", strerror(ENOMEM));
		return EXIT_REFUSED;
	}
	if (json) {
		json_dumpf(root, stdout,
			   JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
		fputc('\n', stdout);
	} else {
		print_table(root);
	}
	json_decref(root);
	return status;
}
