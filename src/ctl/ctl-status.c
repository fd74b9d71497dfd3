/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fieldgatectl status and buffer: asked of the daemon, else read from the buffer file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/control.h"
#include "codec/ble.h"
#include "lora/lorawan.h"
#include "sink/mqtt.h"
#include "source/lora.h"
#include "source/sx130x.h"
#include "store/store.h"
#include "util/base64.h"
#include "ctl.h"


/* status: ask the daemon; when none answers, read the buffer file (if the configuration says where). */
int fg_ctl_status(const char *config_path, const char *socket_path)
{
	struct fg_config *cfg = NULL;
	struct fg_store_summary sum;
	char sock[160], answer[8192];
	int r;

	r = fg_ctl_socket(config_path, socket_path, &cfg, sock, sizeof(sock));
	if (r < 0) {
		fprintf(stderr, "fieldgatectl: control socket path too long\n");
		fg_config_free(cfg);
		return EXIT_USAGE;
	}
	r = fg_control_query(sock, "status", answer, sizeof(answer));
	if (r > 0) {
		fg_config_free(cfg);
		if (fg_ctl_refused(answer, sock))
			return EXIT_REFUSED;
		fputs(answer, stdout);
		return EXIT_SUCCESS;
	}
	printf("daemon: not answering on '%s' (%s)\n", sock, strerror(r < 0 ? -r : ENODATA));
	if (!cfg) {
		fprintf(stderr, "fieldgatectl: without the configuration '%s' the buffer file is "
				"unknown\n", config_path);
		return EXIT_REFUSED;
	}
	r = fg_store_read_summary(cfg->buffer.path, &sum);
	if (r < 0) {
		fprintf(stderr, "fieldgatectl: cannot read buffer '%s': %s\n", cfg->buffer.path,
			strerror(-r));
		fg_config_free(cfg);
		return EXIT_REFUSED;
	}
	printf("buffer: %s\n", cfg->buffer.path);
	printf("messages waiting: %llu\n", (unsigned long long)sum.outbox_rows);
	printf("readings not yet transformed: %llu\n", (unsigned long long)sum.readings_rows);
	if (sum.oldest_ms && fg_clock_wall_ms() > sum.oldest_ms)
		printf("oldest message: %llu s old\n",
		       (unsigned long long)((fg_clock_wall_ms() - sum.oldest_ms) / 1000));
	printf("next sequence number: %llu\n", (unsigned long long)sum.next_seq);
	printf("database size: %llu bytes\n", (unsigned long long)sum.db_bytes);
	fg_config_free(cfg);
	return EXIT_SUCCESS;
}

static int print_topic(const char *topic, uint64_t count, uint64_t first, uint64_t last, void *u)
{
	(void) u;
	printf("%10llu  %10llu  %10llu  %s\n", (unsigned long long)count, (unsigned long long)first,
	       (unsigned long long)last, topic);
	return 0;
}

/* The daemon's answer to "buffer" as the table; 1 when it is not one. */
static int print_topics_answer(const char *answer)
{
	json_t *root = json_loads(answer, 0, NULL), *topics = json_object_get(root, "topics"), *t;
	const char *error = json_string_value(json_object_get(root, "error"));
	size_t i;

	if (!json_is_array(topics)) {
		fprintf(stderr, "fieldgatectl: no buffer to show: %s\n",
			error ? error : answer);
		json_decref(root);
		return EXIT_REFUSED;
	}
	printf("%10s  %10s  %10s  %s\n", "messages", "first seq", "last seq", "topic");
	json_array_foreach(topics, i, t) {
		const char *topic = json_string_value(json_object_get(t, "topic"));

		print_topic(topic ? topic : "-",
			    (uint64_t)json_integer_value(json_object_get(t, "messages")),
			    (uint64_t)json_integer_value(json_object_get(t, "first_seq")),
			    (uint64_t)json_integer_value(json_object_get(t, "last_seq")), NULL);
	}
	if (json_is_true(json_object_get(root, "truncated")))
		printf("(more topics than one answer holds)\n");
	json_decref(root);
	return EXIT_SUCCESS;
}

/* buffer: what waits, per topic: asked of the daemon, else read-only from the file. */
int fg_ctl_buffer(const char *config_path, const char *socket_path)
{
	static char answer[65536];
	struct fg_config *cfg = NULL;
	char sock[160];
	int r;

	r = fg_ctl_socket(config_path, socket_path, &cfg, sock, sizeof(sock));
	if (r < 0) {
		fprintf(stderr, "fieldgatectl: control socket path too long\n");
		fg_config_free(cfg);
		return EXIT_USAGE;
	}
	r = fg_control_query(sock, "buffer", answer, sizeof(answer));
	if (r > 0) {
		fg_config_free(cfg);
		return print_topics_answer(answer);
	}
	if (!cfg) {
		fprintf(stderr, "fieldgatectl: the daemon is not answering on '%s' (%s), and "
				"without the configuration '%s' the buffer file is unknown\n", sock,
			strerror(r < 0 ? -r : ENODATA), config_path);
		return EXIT_REFUSED;
	}
	printf("%10s  %10s  %10s  %s\n", "messages", "first seq", "last seq", "topic");
	r = fg_store_read_topics(cfg->buffer.path, print_topic, NULL);
	if (r < 0)
		fprintf(stderr, "fieldgatectl: cannot read buffer '%s': %s\n", cfg->buffer.path,
			strerror(-r));
	fg_config_free(cfg);
	return r < 0 ? EXIT_REFUSED : EXIT_SUCCESS;
}
