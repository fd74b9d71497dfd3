/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fieldgatectl: inspect and control fieldgated. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2 };

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: fieldgatectl [--help] [--version] COMMAND [ARGS]\n"
		"\n"
		"Commands:\n"
		"  check-config [FILE]   validate a configuration file (default %s)\n"
		"\n"
		"See fieldgatectl(1).\n",
		FG_CONFIG_DEFAULT_PATH);
}

/* check-config [FILE]: the daemon's own loader, findings on stderr. */
static int cmd_check_config(int argc, char **argv)
{
	const char *path = FG_CONFIG_DEFAULT_PATH;
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

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	/* "+": stop at the command so its own arguments are left alone. */
	while ((c = getopt_long(argc, argv, "+Vh", options, NULL)) != -1) {
		switch (c) {
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
		return cmd_check_config(argc - optind, argv + optind);
	fprintf(stderr, "fieldgatectl: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return EXIT_USAGE;
}
