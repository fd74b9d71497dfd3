/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fieldgatectl queue [DEVICE] [--json]: the downlinks waiting for their
 * devices, asked of the daemon (control command "queue [DEVICE]"), else read
 * from the buffer file (read-only), exit 3. Both give the shape of
 * cmd/queue.h's fg_cmdq_json_*: {"commands":[...],"count":N,"truncated":B}.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmd/queue.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/control.h"
#include "util/json.h"
#include "ctl.h"

#define ANSWER_MAX	 65536
#define CONTROL_LINE_MAX 64 /* core/control.c's COMMAND_MAX, with its NUL */

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

static long long num(const json_t *o, const char *key)
{
	return (long long) json_integer_value(json_object_get(o, key));
}

/* "in 5 min", "past", "never": when a command expires. */
static void expires(const json_t *ms, char *buf, size_t size)
{
	uint64_t now = fg_clock_wall_ms(), t;

	if (!json_is_integer(ms)) {
		snprintf(buf, size, "never");
		return;
	}
	t = (uint64_t) json_integer_value(ms);
	if (t <= now)
		snprintf(buf, size, "past");
	else if (t - now < 120000)
		snprintf(buf, size, "in %llu s", (unsigned long long) ((t - now) / 1000));
	else if (t - now < 7200000)
		snprintf(buf, size, "in %llu min", (unsigned long long) ((t - now) / 60000));
	else if (t - now < 172800000)
		snprintf(buf, size, "in %llu h", (unsigned long long) ((t - now) / 3600000));
	else
		snprintf(buf, size, "in %llu d", (unsigned long long) ((t - now) / 86400000));
}

/* The table of a {"commands":...} document. */
static void print_table(const json_t *root)
{
	const json_t *c;
	size_t i;

	printf("%-24s %-16s %-12s %6s %5s %9s %8s %-12s %5s %s\n", "ID", "DEVICE", "KIND", "F_PORT",
	       "BYTES", "CONFIRMED", "PRIORITY", "STATE", "TRIES", "EXPIRES");
	json_array_foreach(json_object_get(root, "commands"), i, c)
	{
		char exp[24];

		expires(json_object_get(c, "expires_ms"), exp, sizeof(exp));
		printf("%-24s %-16s %-12s %6lld %5lld %9s %8lld %-12s %5lld %s\n", str(c, "id"),
		       str(c, "device"), str(c, "kind"), num(c, "f_port"), num(c, "size"),
		       json_is_true(json_object_get(c, "confirmed")) ? "yes" : "no",
		       num(c, "priority"), str(c, "state"), num(c, "tries"), exp);
	}
	if (json_is_true(json_object_get(root, "truncated")))
		printf("(more commands than one answer holds: %lld in all)\n", num(root, "count"));
}

static void print_doc(const json_t *root, bool json)
{
	if (json) {
		json_dumpf(root, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	} else {
		print_table(root);
	}
}

/* Keep only the commands of device (the answer of a "queue" for all). */
static void keep_device(json_t *root, const char *device)
{
	json_t *list = json_object_get(root, "commands");
	size_t i = 0;

	while (i < json_array_size(list)) {
		if (strcmp(str(json_array_get(list, i), "device"), device) != 0)
			json_array_remove(list, i);
		else
			i++;
	}
	if (!json_is_true(json_object_get(root, "truncated")))
		json_object_set_new(root, "count",
				    json_integer((json_int_t) json_array_size(list)));
}

struct file_list {
	struct fg_json j;
	size_t count;
};

static int add_command(const struct fg_command *c, void *userdata)
{
	struct file_list *l = userdata;

	fg_cmdq_json_command(&l->j, c);
	l->count++;
	return l->j.err;
}

/* Without a daemon: the buffer file's pending commands, in the daemon's shape. */
static json_t *from_file(const char *path, const char *device, int *ret_err)
{
	struct file_list l = { .count = 0 };
	json_t *root = NULL;
	char *text = NULL;
	size_t len;
	int r;

	fg_json_init_dynamic(&l.j);
	fg_cmdq_json_begin(&l.j);
	r = fg_cmdq_read_file(path, device, add_command, &l);
	if (r < 0) {
		fg_json_free(&l.j);
		*ret_err = r;
		return NULL;
	}
	fg_cmdq_json_end(&l.j, l.count, false);
	r = fg_json_steal(&l.j, &text, &len);
	if (r >= 0)
		root = json_loadb(text, len, 0, NULL);
	free(text);
	*ret_err = r < 0 ? r : root ? 0 : -EBADMSG;
	return root;
}

int fg_ctl_queue(int argc, char **argv, const char *config_path, const char *socket_path)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	static char answer[ANSWER_MAX];
	struct fg_config *cfg = NULL;
	const char *device = NULL;
	char sock[160], command[CONTROL_LINE_MAX];
	bool json = false;
	json_t *root;
	int c, r, status;

	/*
	 * 0, not 1: glibc then starts over, in permuting order, so that "queue
	 * DEVICE --json" works (fieldgatectl's own options stop at the command).
	 */
	optind = 0;
	while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		if (c != 'j')
			goto usage;
		json = true;
	}
	if (argc - optind > 1)
		goto usage;
	if (optind < argc) {
		device = argv[optind];
		/* One word on the control socket's line; a device name has no spaces. */
		if (!device[0] || strlen(device) > FG_CMD_DEVICE_MAX ||
		    strpbrk(device, " \t\r\n")) {
			fprintf(stderr, "fieldgatectl: '%s' is not a device name\n", device);
			return EXIT_USAGE;
		}
	}
	/*
	 * The daemon reads a command line of CONTROL_LINE_MAX bytes at most: a
	 * longer device name is asked as the whole queue, then picked here.
	 */
	if (device && strlen("queue ") + strlen(device) < CONTROL_LINE_MAX)
		snprintf(command, sizeof(command), "queue %s", device);
	else
		snprintf(command, sizeof(command), "queue");
	r = fg_ctl_socket(config_path, socket_path, &cfg, sock, sizeof(sock));
	if (r < 0) {
		fprintf(stderr, "fieldgatectl: control socket path too long\n");
		fg_config_free(cfg);
		return EXIT_USAGE;
	}
	r = fg_control_query(sock, command, answer, sizeof(answer));
	if (r > 0) {
		fg_config_free(cfg);
		if (fg_ctl_refused(answer, sock))
			return EXIT_REFUSED;
		root = json_loads(answer, 0, NULL);
		if (!json_is_array(json_object_get(root, "commands"))) {
			fprintf(stderr,
				"fieldgatectl: the daemon's answer is not a command queue: %s",
				answer);
			json_decref(root);
			return EXIT_REFUSED;
		}
		if (device)
			keep_device(root, device);
		print_doc(root, json);
		json_decref(root);
		return EXIT_SUCCESS;
	}
	status = fg_ctl_not_answering(r, sock);
	if (!cfg) {
		fprintf(stderr,
			"fieldgatectl: without the configuration '%s' the buffer file is "
			"unknown\n",
			config_path);
		return status;
	}
	root = from_file(cfg->buffer.path, device, &r);
	if (!root) {
		fprintf(stderr, "fieldgatectl: cannot read buffer '%s': %s\n", cfg->buffer.path,
			strerror(-r));
		fg_config_free(cfg);
		return status == EXIT_NOT_RUNNING ? status : EXIT_REFUSED;
	}
	print_doc(root, json);
	json_decref(root);
	fg_config_free(cfg);
	return status;
usage:
	fprintf(stderr, "fieldgatectl: usage: queue [DEVICE] [--json]\n");
	return EXIT_USAGE;
}
