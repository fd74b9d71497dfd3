/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fieldgatectl decode: one LoRaWAN or BLE frame through the daemon's own decoders. */
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
int fg_ctl_decode(int argc, char **argv, const char *config_path)
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
		cfg = fg_ctl_load_quietly(config_path);
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
