/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fieldgatectl metrics: the health record as Prometheus text, from the daemon or the buffer file.
 */
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

	(void) argv;
	if (argc > 1) {
		fprintf(stderr, "fieldgatectl: metrics takes no arguments\n");
		return EXIT_USAGE;
	}
	r = fg_ctl_health(config_path, socket_path, "metrics", answer, sizeof(answer), &file_record,
			  &why);
	if (r == EXIT_SUCCESS) {
		fputs(answer, stdout);
		return r;
	}
	if (!file_record)
		return r;
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
