/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fieldgatectl: inspect and control fieldgated. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/control.h"
#include "store/store.h"

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2 };

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: fieldgatectl [-c FILE] [--help] [--version] COMMAND [ARGS]\n"
		"\n"
		"  -c, --config FILE     the daemon's configuration (default %s)\n"
		"\n"
		"Commands:\n"
		"  check-config [FILE]   validate a configuration file\n"
		"  status                the daemon's state, or the buffer's when it is not running\n"
		"  buffer                messages waiting in the buffer, per topic\n"
		"\n"
		"See fieldgatectl(1).\n",
		FG_CONFIG_DEFAULT_PATH);
}

/* check-config [FILE]: the daemon's own loader, findings on stderr. */
static int cmd_check_config(int argc, char **argv, const char *path)
{
	struct fg_diags diags = { 0 };
	struct fg_config *cfg = NULL;
	int r;

	if (argc > 2) {
		fprintf(stderr, "fieldgatectl: check-config takes at most one file\n");
		return EXIT_USAGE;
	}
	if (argc == 2)
		path = argv[1];
	r = fg_config_load(path, &cfg, &diags);
	fg_diags_print(&diags, stderr);
	fg_diags_clear(&diags);
	fg_config_free(cfg);
	if (r < 0)
		return EXIT_REFUSED;
	printf("configuration OK\n");
	return EXIT_SUCCESS;
}

/* Load the configuration quietly, for the paths in it; findings go to stderr. */
static struct fg_config *load_quietly(const char *path)
{
	struct fg_diags diags = { 0 };
	struct fg_config *cfg = NULL;

	if (fg_config_load(path, &cfg, &diags) < 0) {
		fg_diags_print(&diags, stderr);
		fprintf(stderr, "fieldgatectl: cannot use configuration '%s'\n", path);
	}
	fg_diags_clear(&diags);
	return cfg;
}

/* status: ask the daemon; when none answers, read the buffer file. */
static int cmd_status(const char *config_path)
{
	struct fg_config *cfg = load_quietly(config_path);
	struct fg_store_summary sum;
	char sock[160], answer[8192];
	int r;

	if (!cfg)
		return EXIT_REFUSED;
	snprintf(sock, sizeof(sock), "%s/control", cfg->gateway.runtime_dir);
	r = fg_control_query(sock, "status", answer, sizeof(answer));
	if (r > 0) {
		fputs(answer, stdout);
		fg_config_free(cfg);
		return EXIT_SUCCESS;
	}
	printf("daemon: not answering on '%s' (%s)\n", sock, strerror(-r));
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

/* buffer: what waits, per topic, read-only from the file. */
static int cmd_buffer(const char *config_path)
{
	struct fg_config *cfg = load_quietly(config_path);
	int r;

	if (!cfg)
		return EXIT_REFUSED;
	printf("%10s  %10s  %10s  %s\n", "messages", "first seq", "last seq", "topic");
	r = fg_store_read_topics(cfg->buffer.path, print_topic, NULL);
	if (r < 0)
		fprintf(stderr, "fieldgatectl: cannot read buffer '%s': %s\n", cfg->buffer.path,
			strerror(-r));
	fg_config_free(cfg);
	return r < 0 ? EXIT_REFUSED : EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *config_path = FG_CONFIG_DEFAULT_PATH;
	int c;

	/* "+": stop at the command so its own arguments are left alone. */
	while ((c = getopt_long(argc, argv, "+c:Vh", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'V':
			printf("fieldgatectl %s\n", PACKAGE_VERSION);
			return EXIT_SUCCESS;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[optind], "check-config") == 0)
		return cmd_check_config(argc - optind, argv + optind, config_path);
	if (strcmp(argv[optind], "status") == 0 && argc - optind == 1)
		return cmd_status(config_path);
	if (strcmp(argv[optind], "buffer") == 0 && argc - optind == 1)
		return cmd_buffer(config_path);
	fprintf(stderr, "fieldgatectl: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return EXIT_USAGE;
}
