/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fieldgatectl: inspect and control fieldgated. */
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


static void usage(FILE *f)
{
	fprintf(f,
		"Usage: fieldgatectl [-c FILE] [-s SOCKET] [--help] [--version] COMMAND [ARGS]\n"
		"\n"
		"  -c, --config FILE     the daemon's configuration (default %s)\n"
		"  -s, --socket SOCKET   the daemon's control socket (default: in the\n"
		"                        configuration's runtime_dir, else %s/control)\n"
		"\n"
		"Commands (--json: one JSON document on stdout; SCRIPTING in fieldgatectl(1)):\n"
		"  check-config [--json] [FILE]\n"
		"                        validate a configuration file\n"
		"  status [--json]       the daemon's health, or the buffer's when it is not running\n"
		"  metrics [--json]      the same counters in the Prometheus text format\n"
		"  buffer [--json]       messages waiting in the buffer, per topic\n"
		"  devices [--json]      every source's devices: last seen, readings, refused, RSSI\n"
		"  queue [DEVICE] [--json]\n"
		"                        downlinks waiting for their devices, and their state\n"
		"  decode lorawan [--json] [--config FILE] [--nwk-s-key HEX --app-s-key HEX]\n"
		"                 [--app-key HEX] [--dev-eui EUI] [--fcnt N] [--codec NAME] FRAME\n"
		"                        decode one PHYPayload (hex or base64) with the configured\n"
		"                        keys: data frames, JoinRequests and JoinAccepts\n"
		"  decode ble [--json] --service-data UUID:HEX | --manufacturer-data ID:HEX\n"
		"             [--bindkey K] [--address MAC] [--codec NAME]\n"
		"                        decode one advertisement element\n"
		"  rules test [--json] [--config FILE] READINGS.jsonl|-\n"
		"                        run readings (JSON lines) through the configured rules offline\n"
		"\n"
		"Exit status: 0 answered, 1 error (a bad MIC too), 2 usage, 3 no daemon answered\n"
		"(buffer, devices and queue then print what the files hold).\n"
		"\n"
		"See fieldgatectl(1).\n",
		FG_CONFIG_DEFAULT_PATH, FG_CTL_RUNTIME_DIR);
}

/* The findings as --json gives them: [{"file","line","setting","message","severity"},...]. */
static json_t *diags_json(const struct fg_diags *diags)
{
	json_t *a = json_array();

	for (size_t i = 0; i < diags->n; i++) {
		const struct fg_diag *d = &diags->v[i];

		json_array_append_new(a, json_pack("{s:s?,s:o,s:s?,s:s?,s:s}", "file", d->file,
						   "line", d->line > 0 ? json_integer(d->line)
								       : json_null(),
						   "setting", d->setting, "message", d->message,
						   "severity", d->severity == FG_DIAG_ERROR ? "error"
											    : "warning"));
	}
	return a;
}

/*
 * check-config [--json] [FILE]: the daemon's own loader, findings on stderr;
 * with --json {"file":F,"ok":B,"findings":[...]} on stdout instead.
 */
static int cmd_check_config(int argc, char **argv, const char *path)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	struct fg_diags diags = { 0 };
	struct fg_config *cfg = NULL;
	bool json = false;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'j') {
			fprintf(stderr, "fieldgatectl: usage: check-config [--json] [FILE]\n");
			return EXIT_USAGE;
		}
		json = true;
	}
	if (argc - optind > 1) {
		fprintf(stderr, "fieldgatectl: check-config takes at most one file\n");
		return EXIT_USAGE;
	}
	if (argc - optind == 1)
		path = argv[optind];
	r = fg_config_load(path, &cfg, &diags);
	/* What this build's fieldgated would refuse too: a concentrator it cannot drive. */
	if (r >= 0)
		r = fg_sx130x_check_config(cfg, fg_sx130x_hal(), &diags);
	/* TLS files the MQTT sink cannot use; as root, also those the daemon's user cannot read. */
	if (r >= 0)
		r = fg_mqtt_check_tls(cfg, FG_DAEMON_USER, &diags);
	if (json) {
		json_t *o = json_pack("{s:s,s:b,s:o}", "file", path, "ok", r >= 0, "findings",
				      diags_json(&diags));

		json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
	} else {
		fg_diags_print(&diags, stderr);
	}
	fg_diags_clear(&diags);
	fg_config_free(cfg);
	if (r < 0)
		return EXIT_REFUSED;
	if (!json)
		printf("configuration OK\n");
	return EXIT_SUCCESS;
}

/* Load the configuration quietly, for the paths in it; findings go to stderr. */
struct fg_config *fg_ctl_load_quietly(const char *path)
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

int fg_ctl_refused(const char *answer, const char *sock)
{
	static const char prefix[] = "{\"error\":";

	if (strncmp(answer, prefix, sizeof(prefix) - 1) != 0)
		return 0;
	fprintf(stderr, "fieldgatectl: the daemon on '%s' refused: %s", sock, answer);
	if (answer[0] && answer[strlen(answer) - 1] != '\n')
		fputc('\n', stderr);
	return 1;
}

int fg_ctl_not_answering(int r, const char *sock)
{
	int e = r < 0 ? -r : ENODATA;

	fprintf(stderr, "fieldgatectl: the daemon is not answering on '%s' (%s)\n", sock,
		strerror(e));
	return e == ENOENT || e == ECONNREFUSED ? EXIT_NOT_RUNNING : EXIT_REFUSED;
}

int fg_ctl_socket(const char *config_path, const char *socket_path, struct fg_config **ret_cfg,
		  char *buf, size_t size)
{
	struct fg_diags diags = { 0 };
	struct fg_config *cfg = NULL;
	const char *dir = FG_CTL_RUNTIME_DIR;
	int r, k;

	r = fg_config_load(config_path ? config_path : FG_CONFIG_DEFAULT_PATH, &cfg, &diags);
	/* Unreadable by design for an operator: the socket is all it needs. Other findings show. */
	if (r < 0 && r != -EACCES) {
		fg_diags_print(&diags, stderr);
		fprintf(stderr, "fieldgatectl: cannot use configuration '%s'\n",
			config_path ? config_path : FG_CONFIG_DEFAULT_PATH);
	}
	fg_diags_clear(&diags);
	if (cfg)
		dir = cfg->gateway.runtime_dir;
	k = socket_path ? snprintf(buf, size, "%s", socket_path)
			: snprintf(buf, size, "%s/control", dir);
	*ret_cfg = cfg;
	return k < 0 || (size_t)k >= size ? -ENAMETOOLONG : 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *config_path = FG_CONFIG_DEFAULT_PATH;
	const char *socket_path = NULL;
	int c;

	/* "+": stop at the command so its own arguments are left alone. */
	while ((c = getopt_long(argc, argv, "+c:s:Vh", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 's':
			socket_path = optarg;
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
	if (strcmp(argv[optind], "status") == 0)
		return fg_ctl_status(argc - optind, argv + optind, config_path, socket_path);
	if (strcmp(argv[optind], "metrics") == 0)
		return fg_ctl_metrics(argc - optind, argv + optind, config_path, socket_path);
	if (strcmp(argv[optind], "buffer") == 0)
		return fg_ctl_buffer_command(argc - optind, argv + optind, config_path, socket_path);
	if (strcmp(argv[optind], "decode") == 0)
		return fg_ctl_decode(argc - optind, argv + optind, config_path);
	if (strcmp(argv[optind], "devices") == 0)
		return fg_ctl_devices(argc - optind, argv + optind, config_path, socket_path);
	if (strcmp(argv[optind], "queue") == 0)
		return fg_ctl_queue(argc - optind, argv + optind, config_path, socket_path);
	if (strcmp(argv[optind], "rules") == 0)
		return fg_ctl_rules(argc - optind, argv + optind, config_path);
	fprintf(stderr, "fieldgatectl: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return EXIT_USAGE;
}
