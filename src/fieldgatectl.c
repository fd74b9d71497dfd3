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

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2 };

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: fieldgatectl [-c FILE] [-s SOCKET] [--help] [--version] COMMAND [ARGS]\n"
		"\n"
		"  -c, --config FILE     the daemon's configuration (default %s)\n"
		"  -s, --socket SOCKET   the daemon's control socket (default: in the\n"
		"                        configuration's runtime_dir, else %s/control)\n"
		"\n"
		"Commands:\n"
		"  check-config [FILE]   validate a configuration file\n"
		"  status                the daemon's state, or the buffer's when it is not running\n"
		"  buffer                messages waiting in the buffer, per topic\n"
		"  devices [--json]      the LoRaWAN devices: join state, last frame, counters\n"
		"  decode lorawan [--config FILE] [--nwk-s-key HEX --app-s-key HEX] [--fcnt N]\n"
		"                 [--codec NAME] FRAME\n"
		"  decode ble --service-data UUID:HEX | --manufacturer-data ID:HEX [--bindkey K]\n"
		"             [--address MAC] [--codec NAME]\n"
		"                        decode one PHYPayload (hex or base64) with the configured keys\n"
		"  rules test [--config FILE] READINGS.jsonl|-\n"
		"                        run readings (JSON lines) through the configured rules offline\n"
		"\n"
		"See fieldgatectl(1).\n",
		FG_CONFIG_DEFAULT_PATH, FG_CTL_RUNTIME_DIR);
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
	/* What this build's fieldgated would refuse too: a concentrator it cannot drive. */
	if (r >= 0)
		r = fg_sx130x_check_config(cfg, fg_sx130x_hal(), &diags);
	/* TLS files the MQTT sink cannot use; as root, also those the daemon's user cannot read. */
	if (r >= 0)
		r = fg_mqtt_check_tls(cfg, FG_DAEMON_USER, &diags);
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

/* status: ask the daemon; when none answers, read the buffer file (if the configuration says where). */
static int cmd_status(const char *config_path, const char *socket_path)
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
static int cmd_buffer(const char *config_path, const char *socket_path)
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

/* HEX (an even number of hex digits) or base64 into buf. */
static int frame_bytes(const char *s, uint8_t *buf, size_t size, size_t *ret_len)
{
	size_t n = strlen(s);
	bool hex = n % 2 == 0 && n > 0 && strspn(s, "0123456789abcdefABCDEF") == n;

	if (!hex)
		return fg_base64_decode(s, n, buf, size, ret_len);
	if (n / 2 > size)
		return -ENOBUFS;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EBADMSG;
		buf[i] = (uint8_t)v;
	}
	*ret_len = n / 2;
	return 0;
}

static void print_hex(const char *label, const uint8_t *p, size_t n)
{
	printf("%s: ", label);
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

/* 32 hex digits into a key. */
static bool parse_key(const char *s, uint8_t key[FG_LW_KEY_LEN])
{
	size_t len;

	return strlen(s) == 32 && frame_bytes(s, key, FG_LW_KEY_LEN, &len) == 0 && len == 16;
}

/* Print decoded values, one per line. */
static void print_values(const struct fg_codec_value *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].kind == FG_VALUE_NUMBER)
			printf("  %s = %.15g%s%s\n", v[i].quantity, v[i].number,
			       v[i].unit[0] ? " " : "", v[i].unit);
		else if (v[i].kind == FG_VALUE_BOOL)
			printf("  %s = %s\n", v[i].quantity, v[i].boolean ? "true" : "false");
		else
			printf("  %s = \"%s\"\n", v[i].quantity, v[i].text);
	}
}

/* "fcd2", "0xFCD2" or "0000fcd2-0000-1000-8000-00805f9b34fb" to a 16-bit id. */
static bool parse_id16(const char *s, size_t n, uint16_t *ret)
{
	static const char base[] = "-0000-1000-8000-00805f9b34fb";
	char buf[40];
	char *end;
	unsigned long v;

	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (n == 36 && !strncmp(buf, "0000", 4) && !strcasecmp(buf + 8, base)) {
		buf[8] = '\0';
		memmove(buf, buf + 4, 5);
	}
	v = strtoul(buf, &end, 16);
	if (!buf[0] || *end || v > 0xffff)
		return false;
	*ret = (uint16_t)v;
	return true;
}

/* decode ble: the recognised format and the readings of one advertisement element. */
static int cmd_decode_ble(int argc, char **argv)
{
	static const struct option options[] = {
		{ "service-data", required_argument, NULL, 's' },
		{ "manufacturer-data", required_argument, NULL, 'm' },
		{ "bindkey", required_argument, NULL, 'k' },
		{ "address", required_argument, NULL, 'a' },
		{ "codec", required_argument, NULL, 'c' },
		{ 0 },
	};
	static struct fg_codec_value values[FG_CODEC_VALUES_MAX];
	uint8_t bytes[256], key[16];
	struct fg_ble_data data = { 0 };
	struct fg_ble_keys keys = { 0 };
	struct fg_ble_result res = { 0 };
	const char *colon;
	char why[160] = "";
	int c, format = -1, r;
	bool have_data = false;
	size_t n = 0, len;
	unsigned a[6];

	optind = 1;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 's':
		case 'm':
			colon = strchr(optarg, ':');
			if (!colon || !parse_id16(optarg, (size_t)(colon - optarg), &data.id) ||
			    frame_bytes(colon + 1, bytes, sizeof(bytes), &len) < 0) {
				fprintf(stderr, "fieldgatectl: --%s takes %s:HEX\n",
					c == 's' ? "service-data" : "manufacturer-data",
					c == 's' ? "UUID" : "COMPANY_ID");
				return EXIT_USAGE;
			}
			data.service = c == 's';
			data.p = bytes;
			data.n = len;
			have_data = true;
			break;
		case 'k':
			if (!parse_key(optarg, key)) {
				fprintf(stderr, "fieldgatectl: a bindkey is 32 hex digits\n");
				return EXIT_USAGE;
			}
			keys.bindkey = key;
			break;
		case 'a':
			if (sscanf(optarg, "%2x:%2x:%2x:%2x:%2x:%2x", &a[0], &a[1], &a[2], &a[3], &a[4],
				   &a[5]) != 6) {
				fprintf(stderr, "fieldgatectl: an address is A4:C1:38:00:11:22\n");
				return EXIT_USAGE;
			}
			for (int i = 0; i < 6; i++)
				keys.address[i] = (uint8_t)a[i];
			break;
		case 'c':
			format = fg_ble_format_from_string(optarg);
			if (format < 0) {
				fprintf(stderr, "fieldgatectl: unknown BLE format '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (!have_data || optind != argc) {
		fprintf(stderr, "fieldgatectl: usage: decode ble --service-data UUID:HEX | "
				"--manufacturer-data ID:HEX [--bindkey K] [--address MAC] "
				"[--codec NAME]\n");
		return EXIT_USAGE;
	}
	printf("%s data: 0x%04x, %zu bytes\n", data.service ? "service" : "manufacturer", data.id,
	       data.n);
	if (format < 0)
		format = fg_ble_detect(&data);
	if (format < 0) {
		printf("format: not recognised\n");
		return EXIT_REFUSED;
	}
	printf("format: %s\n", fg_ble_format_to_string(format));
	r = fg_ble_decode(format, &data, &keys, values, FG_CODEC_VALUES_MAX, &n, &res, why,
			  sizeof(why));
	explicit_bzero(key, sizeof(key));
	if (r < 0) {
		printf("refused: %s\n", why[0] ? why : strerror(-r));
		return EXIT_REFUSED;
	}
	if (res.has_counter)
		printf("counter: %u\n", res.counter);
	if (res.has_packet_id)
		printf("packet_id: %u\n", res.packet_id);
	printf("readings:\n");
	print_values(values, n);
	return EXIT_SUCCESS;
}

/* decode lorawan: every field, the MIC verdict, the payload and its readings. */
static int cmd_decode(int argc, char **argv, const char *config_path)
{
	static const struct option options[] = {
		{ "nwk-s-key", required_argument, NULL, 'n' },
		{ "app-s-key", required_argument, NULL, 'a' },
		{ "fcnt", required_argument, NULL, 'f' },
		{ "codec", required_argument, NULL, 'k' },
		{ "config", required_argument, NULL, 'c' },
		{ 0 },
	};
	uint8_t phy[FG_LW_PHY_MAX + 1], payload[FG_LW_FRM_MAX], nwk[16], app[16];
	static struct fg_codec_value values[FG_CODEC_VALUES_MAX];
	bool have_nwk = false, have_app = false, have_fcnt = false;
	const struct fg_lorawan_device *dev = NULL;
	struct fg_lorawan_device cli = { .name = (char *)"command-line", .codec = (char *)"raw" };
	struct fg_config *cfg = NULL;
	struct fg_lora *lora = NULL;
	struct fg_lw_frame f;
	enum fg_lw_reason why;
	unsigned long long fcnt_arg = 0;
	uint32_t fcnt, mic;
	size_t len, n = 0;
	char whybuf[160];
	int c, r, status = EXIT_SUCCESS;

	/* decode lorawan|ble [OPTIONS] ...: the options follow the kind of frame. */
	if (argc >= 2 && strcmp(argv[1], "ble") == 0)
		return cmd_decode_ble(argc - 1, argv + 1);
	if (argc < 2 || strcmp(argv[1], "lorawan") != 0) {
		fprintf(stderr, "fieldgatectl: usage: decode lorawan|ble [OPTIONS] ...\n");
		return EXIT_USAGE;
	}
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'n':
			have_nwk = parse_key(optarg, nwk);
			if (!have_nwk)
				goto bad_key;
			break;
		case 'a':
			have_app = parse_key(optarg, app);
			if (!have_app)
				goto bad_key;
			break;
		case 'f':
			fcnt_arg = strtoull(optarg, NULL, 0);
			have_fcnt = true;
			break;
		case 'k':
			cli.codec = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "fieldgatectl: usage: decode lorawan [OPTIONS] FRAME\n");
		return EXIT_USAGE;
	}
	r = frame_bytes(argv[optind], phy, sizeof(phy), &len);
	if (r < 0) {
		fprintf(stderr, "fieldgatectl: the frame is neither hex nor base64: %s\n",
			strerror(-r));
		return EXIT_REFUSED;
	}
	printf("frame: %zu bytes\n", len);
	why = fg_lw_parse(phy, len, &f);
	if (why != FG_LW_OK) {
		printf("refused: %s\n", fg_lw_reason_to_string(why));
		return EXIT_REFUSED;
	}
	printf("mtype: %s (%d)\nmajor: %u\n", fg_lw_mtype_to_string(f.mtype), f.mtype, f.major);
	if (f.mtype < FG_LW_UNCONFIRMED_UP || f.mtype > FG_LW_CONFIRMED_DOWN) {
		printf("mic: %02x%02x%02x%02x (not checked: not a data frame)\n", f.mic & 0xff,
		       f.mic >> 8 & 0xff, f.mic >> 16 & 0xff, f.mic >> 24);
		return EXIT_SUCCESS;
	}
	/* Keys on the command line: the configuration is not needed (nor read). */
	if (!have_nwk || !have_app) {
		cfg = load_quietly(config_path);
		if (!cfg)
			return EXIT_REFUSED;
	} else if (fg_config_new_default(&cfg) < 0) {
		return EXIT_REFUSED;
	}
	if (fg_lora_new(cfg, NULL, &lora) < 0) {
		fg_config_free(cfg);
		return EXIT_REFUSED;
	}
	printf("dev_addr: %08X\n", f.dev_addr);
	if (have_nwk && have_app) {
		dev = &cli;
		printf("device: keys from the command line, codec %s\n", cli.codec);
	} else {
		dev = fg_lora_device(lora, f.dev_addr);
		if (dev) {
			printf("device: %s (dev_eui %016llx, codec %s)\n", dev->name,
			       (unsigned long long)dev->dev_eui, dev->codec);
			if (!have_nwk)
				memcpy(nwk, dev->nwk_s_key, 16);
			if (!have_app)
				memcpy(app, dev->app_s_key, 16);
			have_nwk = have_app = true;
		} else {
			printf("device: not in %s; give --nwk-s-key and --app-s-key\n",
			       config_path);
		}
	}
	printf("fctrl: 0x%02x (adr %d, adr_ack_req %d, ack %d, class_b %d, fopts_len %u)\n",
	       f.fctrl, f.adr, f.adr_ack_req, f.ack, f.class_b, f.fopts_len);
	fcnt = have_fcnt ? (uint32_t)((fcnt_arg & ~0xffffULL) | f.fcnt16)
			 : fg_lw_fcnt_expand(f.fcnt16, 0, false);
	printf("fcnt: %u (0x%04x on air)\n", fcnt, f.fcnt16);
	if (f.fopts_len) {
		char mac[512];

		print_hex("fopts", f.fopts, f.fopts_len);
		(void)fg_lw_mac_describe(f.fopts, f.fopts_len, mac, sizeof(mac));
		printf("mac_commands: %s\n", mac);
	}
	if (f.has_port)
		printf("fport: %u\n", f.fport);
	print_hex("frm_payload (encrypted)", f.frm, f.frm_len);
	if (!have_nwk || !have_app) {
		printf("mic: %02x%02x%02x%02x (not checked: no keys)\n", f.mic & 0xff,
		       f.mic >> 8 & 0xff, f.mic >> 16 & 0xff, f.mic >> 24);
		status = EXIT_REFUSED;
		goto out;
	}
	r = fg_lw_data_mic(nwk, f.mtype % 2 == 1, f.dev_addr, fcnt, phy, len - 4, &mic);
	/* As on air: the four bytes in the order they were sent. */
	if (r < 0 || mic != f.mic) {
		printf("mic: %02x%02x%02x%02x BAD (computed %02x%02x%02x%02x with this NwkSKey and "
		       "counter %u)\n", f.mic & 0xff, f.mic >> 8 & 0xff, f.mic >> 16 & 0xff,
		       f.mic >> 24, mic & 0xff, mic >> 8 & 0xff, mic >> 16 & 0xff, mic >> 24, fcnt);
		status = EXIT_REFUSED;
	} else {
		printf("mic: %02x%02x%02x%02x ok\n", f.mic & 0xff, f.mic >> 8 & 0xff,
		       f.mic >> 16 & 0xff, f.mic >> 24);
	}
	if (!f.has_port || f.frm_len == 0)
		goto out;
	r = fg_lw_crypt(f.fport == 0 ? nwk : app, f.mtype % 2 == 1 ? 1 : 0, f.dev_addr, fcnt,
			f.frm, f.frm_len, payload);
	if (r < 0)
		goto out;
	print_hex("payload", payload, f.frm_len);
	if (f.fport == 0) {
		char mac[512];

		(void)fg_lw_mac_describe(payload, f.frm_len, mac, sizeof(mac));
		printf("mac_commands: %s\n", mac);
		goto out;
	}
	r = fg_lora_decode(lora, dev, f.fport, payload, f.frm_len, values, FG_CODEC_VALUES_MAX, &n,
			   whybuf, sizeof(whybuf));
	if (r < 0) {
		printf("codec %s: %s\n", dev->codec, whybuf);
		status = EXIT_REFUSED;
		goto out;
	}
	printf("readings (codec %s):\n", dev->codec);
	print_values(values, n);
out:
	explicit_bzero(nwk, sizeof(nwk));
	explicit_bzero(app, sizeof(app));
	fg_lora_free(lora);
	fg_config_free(cfg);
	return status;
bad_key:
	fprintf(stderr, "fieldgatectl: a key is 32 hex digits\n");
	return EXIT_USAGE;
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
	if (strcmp(argv[optind], "status") == 0 && argc - optind == 1)
		return cmd_status(config_path, socket_path);
	if (strcmp(argv[optind], "buffer") == 0 && argc - optind == 1)
		return cmd_buffer(config_path, socket_path);
	if (strcmp(argv[optind], "decode") == 0)
		return cmd_decode(argc - optind, argv + optind, config_path);
	if (strcmp(argv[optind], "devices") == 0)
		return fg_ctl_devices(argc - optind, argv + optind, config_path, socket_path);
	if (strcmp(argv[optind], "rules") == 0)
		return fg_ctl_rules(argc - optind, argv + optind, config_path);
	fprintf(stderr, "fieldgatectl: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return EXIT_USAGE;
}
