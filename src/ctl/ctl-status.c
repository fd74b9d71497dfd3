/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fieldgatectl status and buffer: asked of the daemon, else read from the buffer file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>

#include <jansson.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/control.h"
#include "codec/ble.h"
#include "lora/lorawan.h"
#include "sink/health.h"
#include "sink/mqtt.h"
#include "source/lora.h"
#include "source/sx130x.h"
#include "store/store.h"
#include "util/base64.h"
#include "ctl.h"


/* Free space on the filesystem of path's directory; false when it cannot be asked. */
static bool disk_free_of(const char *path, uint64_t *ret)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct statvfs st;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	if (statvfs(dir[0] ? dir : "/", &st) < 0)
		return false;
	*ret = (uint64_t)st.f_bavail * st.f_frsize;
	return true;
}

int fg_ctl_health(const char *config_path, const char *socket_path, const char *command,
		  char *answer, size_t size, char **ret_file_record, const char **ret_why)
{
	struct fg_config *cfg = NULL;
	struct fg_store_summary sum;
	char sock[160];
	uint64_t free_bytes = 0;
	bool have_free;
	int r;

	*ret_file_record = NULL;
	*ret_why = NULL;
	r = fg_ctl_socket(config_path, socket_path, &cfg, sock, sizeof(sock));
	if (r < 0) {
		fprintf(stderr, "fieldgatectl: control socket path too long\n");
		fg_config_free(cfg);
		return EXIT_USAGE;
	}
	r = fg_control_query(sock, command, answer, size);
	if (r > 0) {
		fg_config_free(cfg);
		return fg_ctl_refused(answer, sock) ? EXIT_REFUSED : EXIT_SUCCESS;
	}
	/* Not allowed to ask: the daemon may well run, and the file would mislead. */
	if (r == -EACCES || r == -EPERM) {
		fprintf(stderr, "fieldgatectl: cannot ask the daemon on '%s': %s\n", sock,
			strerror(-r));
		fg_config_free(cfg);
		return EXIT_REFUSED;
	}
	fprintf(stderr, "fieldgatectl: the daemon is not answering on '%s' (%s)%s\n", sock,
		strerror(r < 0 ? -r : ENODATA), cfg ? "; reading the buffer file" : "");
	if (!cfg) {
		fprintf(stderr, "fieldgatectl: without the configuration '%s' the buffer file is "
				"unknown\n", config_path);
		return EXIT_NOT_RUNNING;
	}
	r = fg_store_read_summary(cfg->buffer.path, &sum);
	if (r < 0) {
		fprintf(stderr, "fieldgatectl: cannot read buffer '%s': %s\n", cfg->buffer.path,
			strerror(-r));
		*ret_why = "unreadable";
	}
	have_free = disk_free_of(cfg->buffer.path, &free_bytes);
	*ret_file_record = fg_health_file_json(cfg->gateway.id, r < 0 ? NULL : &sum, free_bytes,
					       have_free,
					       fg_clock_wall_known(cfg->gateway.trust_system_clock));
	fg_config_free(cfg);
	if (!*ret_file_record) {
		fprintf(stderr, "fieldgatectl: out of memory\n");
		return EXIT_REFUSED;
	}
	return EXIT_NOT_RUNNING;
}

/* A number of the record, or "-" when it is null or absent. */
static const char *num(json_t *rec, const char *key, char *buf, size_t size)
{
	json_t *v = json_object_get(rec, key);

	if (json_is_integer(v))
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, size, "%.1f", json_real_value(v));
	else
		snprintf(buf, size, "-");
	return buf;
}

static const char *str(json_t *rec, const char *key)
{
	const char *s = json_string_value(json_object_get(rec, key));

	return s ? s : "-";
}

/* The health record for a person: a few lines of what matters most. */
static void print_human(json_t *rec)
{
	char a[32], b[32], c[32], e[32];
	json_t *src = json_object_get(rec, "sources"), *v;
	bool running = !json_is_false(json_object_get(rec, "running"));
	const char *key;

	printf("gateway: %s\n", str(rec, "gateway"));
	if (running)
		printf("daemon: running, version %s, up %s s, %s\n", str(rec, "version"),
		       num(rec, "uptime_s", a, sizeof(a)), str(rec, "mode"));
	else
		printf("daemon: not running (from the buffer file)\n");
	printf("clock: %s\n", json_is_true(json_object_get(rec, "clock_synchronized")) ?
				      "synchronized" : "not synchronized");
	if (running) {
		printf("broker: %s, %s connects, %s reconnects", str(rec, "broker"),
		       num(rec, "connects", a, sizeof(a)), num(rec, "reconnects", b, sizeof(b)));
		if (*str(rec, "broker_error") && strcmp(str(rec, "broker_error"), "-") != 0)
			printf(" (last error: %s)", str(rec, "broker_error"));
		printf("\n");
	}
	printf("buffer: %s messages waiting, oldest %s s, %s bytes, %s bytes free\n",
	       num(rec, "buffer_depth", a, sizeof(a)), num(rec, "oldest_age_s", b, sizeof(b)),
	       num(rec, "db_bytes", c, sizeof(c)), num(rec, "disk_free", e, sizeof(e)));
	if (!running) {
		printf("messages waiting: %s\n", num(rec, "buffer_depth", a, sizeof(a)));
		printf("next sequence number: %s\n", num(rec, "next_seq", a, sizeof(a)));
		return;
	}
	printf("readings in: %s (%s/s), published: %s (%s/s)\n", num(rec, "readings_in", a, sizeof(a)),
	       num(rec, "readings_per_s", b, sizeof(b)), num(rec, "published", c, sizeof(c)),
	       num(rec, "published_per_s", e, sizeof(e)));
	printf("evicted: %s, dropped: %s\n", num(rec, "evicted", a, sizeof(a)),
	       num(rec, "dropped", b, sizeof(b)));
	json_object_foreach(src, key, v) {
		json_t *refused = json_object_get(v, "refused"), *n;
		const char *reason;
		long long total = 0;

		json_object_foreach(refused, reason, n)
			total += json_integer_value(n);
		printf("source %s: %s, received %s, refused %lld\n", key, str(v, "state"),
		       num(v, "received", a, sizeof(a)), total);
	}
}

/* status [--json]: ask the daemon; when none answers, what the buffer file tells (exit 3). */
int fg_ctl_status(int argc, char **argv, const char *config_path, const char *socket_path)
{
	static char answer[65536];
	char *file_record = NULL;
	const char *why;
	bool as_json = false;
	json_t *rec;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			as_json = true;
			continue;
		}
		fprintf(stderr, "fieldgatectl: status takes only --json\n");
		return EXIT_USAGE;
	}
	r = fg_ctl_health(config_path, socket_path, "status", answer, sizeof(answer), &file_record,
			  &why);
	if (r != EXIT_SUCCESS && !file_record)
		return r;
	if (as_json) {
		fputs(file_record ? file_record : answer, stdout);
		free(file_record);
		return r;
	}
	rec = json_loads(file_record ? file_record : answer, 0, NULL);
	free(file_record);
	if (!json_is_object(rec)) {
		fprintf(stderr, "fieldgatectl: the daemon's answer is not a health record\n");
		json_decref(rec);
		return EXIT_REFUSED;
	}
	print_human(rec);
	json_decref(rec);
	return r;
}
