/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fieldgatectl metrics: the health record as Prometheus text, from the daemon or the buffer file.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/health.h"
#include "ctl.h"

int fg_ctl_metrics(int argc, char **argv, const char *config_path, const char *socket_path)
{
	static char answer[65536];
	char *file_record = NULL, *text = NULL;
	const char *why;
	int r;

	bool as_json = argc == 2 && strcmp(argv[1], "--json") == 0;

	if (argc > 1 && !as_json) {
		fprintf(stderr, "fieldgatectl: metrics takes only --json\n");
		return EXIT_USAGE;
	}
	/* --json: the record the metrics are made of, as status --json prints it. */
	r = fg_ctl_health(config_path, socket_path, as_json ? "status" : "metrics", answer,
			  sizeof(answer), &file_record, &why);
	if (r == EXIT_SUCCESS) {
		fputs(answer, stdout);
		return r;
	}
	if (!file_record)
		return r;
	if (as_json) {
		fputs(file_record, stdout);
		free(file_record);
		return r;
	}
	/* No daemon: the same text from what the file knows, fieldgate_up 0. */
	if (fg_health_metrics(file_record, &text) < 0) {
		fprintf(stderr, "fieldgatectl: cannot make the metrics\n");
		free(file_record);
		return EXIT_REFUSED;
	}
	fputs(text, stdout);
	free(text);
	free(file_record);
	return r;
}
