/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fieldgatectl buffer [--json]: what waits in the outbox, per topic; asked of
 * the daemon, else read from the buffer file (read-only), exit 3. Both give
 * {"topics":[{"topic":T,"messages":N,"first_seq":N,"last_seq":N},...],
 * "truncated":B}: the daemon's answer has room for so many topics, the file
 * is read whole.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "core/control.h"
#include "store/store.h"
#include "ctl.h"

#define ANSWER_MAX 65536

static int add_topic(const char *topic, uint64_t count, uint64_t first, uint64_t last, void *u)
{
	return json_array_append_new(u,
				     json_pack("{s:s,s:I,s:I,s:I}", "topic", topic, "messages",
					       (json_int_t) count, "first_seq", (json_int_t) first,
					       "last_seq", (json_int_t) last)) < 0
		       ? -ENOMEM
		       : 0;
}

/* The table of a {"topics":...} document. */
static void print_table(const json_t *root)
{
	const json_t *t;
	size_t i;

	printf("%10s  %10s  %10s  %s\n", "messages", "first seq", "last seq", "topic");
	json_array_foreach(json_object_get(root, "topics"), i, t)
	{
		const char *topic = json_string_value(json_object_get(t, "topic"));

		printf("%10lld  %10lld  %10lld  %s\n",
		       (long long) json_integer_value(json_object_get(t, "messages")),
		       (long long) json_integer_value(json_object_get(t, "first_seq")),
		       (long long) json_integer_value(json_object_get(t, "last_seq")),
		       topic ? topic : "-");
	}
	if (json_is_true(json_object_get(root, "truncated")))
		printf("(more topics than one answer holds)\n");
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

int fg_ctl_buffer_command(int argc, char **argv, const char *config_path, const char *socket_path)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	static char answer[ANSWER_MAX];
	struct fg_config *cfg = NULL;
	json_t *root, *topics;
	bool json = false;
	char sock[160];
	int c, r, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		if (c != 'j')
			goto usage;
		json = true;
	}
	if (optind != argc)
		goto usage;
	r = fg_ctl_socket(config_path, socket_path, &cfg, sock, sizeof(sock));
	if (r < 0) {
		fprintf(stderr, "fieldgatectl: control socket path too long\n");
		fg_config_free(cfg);
		return EXIT_USAGE;
	}
	r = fg_control_query(sock, "buffer", answer, sizeof(answer));
	if (r > 0) {
		fg_config_free(cfg);
		root = json_loads(answer, 0, NULL);
		if (!json_is_array(json_object_get(root, "topics"))) {
			const char *error = json_string_value(json_object_get(root, "error"));

			fprintf(stderr, "fieldgatectl: no buffer to show: %s%s",
				error ? error : answer, error ? "\n" : "");
			json_decref(root);
			return EXIT_REFUSED;
		}
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
	topics = json_array();
	r = fg_store_read_topics(cfg->buffer.path, add_topic, topics);
	if (r < 0) {
		fprintf(stderr, "fieldgatectl: cannot read buffer '%s': %s\n", cfg->buffer.path,
			strerror(-r));
		json_decref(topics);
		fg_config_free(cfg);
		return status == EXIT_NOT_RUNNING ? status : EXIT_REFUSED;
	}
	root = json_pack("{s:o,s:b}", "topics", topics, "truncated", 0);
	print_doc(root, json);
	json_decref(root);
	fg_config_free(cfg);
	return status;
usage:
	fprintf(stderr, "fieldgatectl: usage: buffer [--json]\n");
	return EXIT_USAGE;
}
