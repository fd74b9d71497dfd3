/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fieldgatectl decode: one LoRaWAN or BLE frame through the daemon's own decoders. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
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
		buf[i] = (uint8_t) v;
	}
	*ret_len = n / 2;
	return 0;
}

/* 32 hex digits into a key. */
static bool parse_key(const char *s, uint8_t key[FG_LW_KEY_LEN])
{
	size_t len;

	return strlen(s) == 32 && frame_bytes(s, key, FG_LW_KEY_LEN, &len) == 0 && len == 16;
}

/* Print decoded values, one per line; or, with --json, append them to arr as objects. */
static void print_values(const struct fg_codec_value *v, size_t n, json_t *arr)
{
	for (size_t i = 0; i < n; i++) {
		if (arr) {
			json_t *o = json_object();

			json_object_set_new(o, "quantity", json_string(v[i].quantity));
			if (v[i].kind == FG_VALUE_NUMBER)
				json_object_set_new(o, "value", json_real(v[i].number));
			else if (v[i].kind == FG_VALUE_BOOL)
				json_object_set_new(o, "value", json_boolean(v[i].boolean));
			else
				json_object_set_new(o, "value", json_string(v[i].text));
			json_object_set_new(o, "unit", json_string(v[i].unit));
			json_array_append_new(arr, o);
		} else if (v[i].kind == FG_VALUE_NUMBER) {
			printf("  %s = %.15g%s%s\n", v[i].quantity, v[i].number,
			       v[i].unit[0] ? " " : "", v[i].unit);
		} else if (v[i].kind == FG_VALUE_BOOL) {
			printf("  %s = %s\n", v[i].quantity, v[i].boolean ? "true" : "false");
		} else {
			printf("  %s = \"%s\"\n", v[i].quantity, v[i].text);
		}
	}
}

/* Bytes as lowercase hex into buf (2 n + 1 bytes). */
static const char *hex(const uint8_t *p, size_t n, char *buf)
{
	for (size_t i = 0; i < n; i++)
		sprintf(buf + 2 * i, "%02x", p[i]);
	buf[2 * n] = '\0';
	return buf;
}

/* A MIC as fg_lw_frame holds it, in the order of its bytes on air. */
static const char *mic_hex(uint32_t mic, char buf[9])
{
	snprintf(buf, 9, "%02x%02x%02x%02x", mic & 0xff, mic >> 8 & 0xff, mic >> 16 & 0xff,
		 mic >> 24);
	return buf;
}

/* --json: print the answer as one document on stdout and free it. */
static void print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
	fputc('\n', stdout);
	json_decref(j);
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
	*ret = (uint16_t) v;
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
		{ "json", no_argument, NULL, 'j' },
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
	bool have_data = false, json = false;
	size_t n = 0, len;
	unsigned a[6];
	json_t *j;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 's':
		case 'm':
			colon = strchr(optarg, ':');
			if (!colon || !parse_id16(optarg, (size_t) (colon - optarg), &data.id) ||
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
			if (sscanf(optarg, "%2x:%2x:%2x:%2x:%2x:%2x", &a[0], &a[1], &a[2], &a[3],
				   &a[4], &a[5]) != 6) {
				fprintf(stderr, "fieldgatectl: an address is A4:C1:38:00:11:22\n");
				return EXIT_USAGE;
			}
			for (int i = 0; i < 6; i++)
				keys.address[i] = (uint8_t) a[i];
			break;
		case 'c':
			format = fg_ble_format_from_string(optarg);
			if (format < 0) {
				fprintf(stderr, "fieldgatectl: unknown BLE format '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j':
			json = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (!have_data || optind != argc) {
		fprintf(stderr, "fieldgatectl: usage: decode ble --service-data UUID:HEX | "
				"--manufacturer-data ID:HEX [--bindkey K] [--address MAC] "
				"[--codec NAME] [--json]\n");
		return EXIT_USAGE;
	}
	/*
	 * --json: {"kind":"service"|"manufacturer","id":"fcd2","length":N,"format":NAME|null,
	 * "refused":WHY|null,"counter":N|null,"packet_id":N|null,"readings":[...]}.
	 */
	j = json ? json_object() : NULL;
	if (j) {
		char id[8];

		snprintf(id, sizeof(id), "%04x", data.id);
		json_object_set_new(j, "kind",
				    json_string(data.service ? "service" : "manufacturer"));
		json_object_set_new(j, "id", json_string(id));
		json_object_set_new(j, "length", json_integer((json_int_t) data.n));
	} else {
		printf("%s data: 0x%04x, %zu bytes\n", data.service ? "service" : "manufacturer",
		       data.id, data.n);
	}
	if (format < 0)
		format = fg_ble_detect(&data);
	r = format < 0 ? -EPROTO
		       : fg_ble_decode(format, &data, &keys, values, FG_CODEC_VALUES_MAX, &n, &res,
				       why, sizeof(why));
	explicit_bzero(key, sizeof(key));
	if (j) {
		json_object_set_new(j, "format",
				    format < 0 ? json_null()
					       : json_string(fg_ble_format_to_string(format)));
		json_object_set_new(j, "refused",
				    format < 0 ? json_string("format not recognised")
				    : r < 0    ? json_string(why[0] ? why : strerror(-r))
					       : json_null());
		json_object_set_new(j, "counter",
				    r == 0 && res.has_counter ? json_integer(res.counter)
							      : json_null());
		json_object_set_new(j, "packet_id",
				    r == 0 && res.has_packet_id ? json_integer(res.packet_id)
								: json_null());
		json_object_set_new(j, "readings", json_array());
		print_values(values, r == 0 ? n : 0, json_object_get(j, "readings"));
		print_json(j);
		return r < 0 ? EXIT_REFUSED : EXIT_SUCCESS;
	}
	if (format < 0) {
		printf("format: not recognised\n");
		return EXIT_REFUSED;
	}
	printf("format: %s\n", fg_ble_format_to_string(format));
	if (r < 0) {
		printf("refused: %s\n", why[0] ? why : strerror(-r));
		return EXIT_REFUSED;
	}
	if (res.has_counter)
		printf("counter: %u\n", res.counter);
	if (res.has_packet_id)
		printf("packet_id: %u\n", res.packet_id);
	printf("readings:\n");
	print_values(values, n, NULL);
	return EXIT_SUCCESS;
}

/*
 * One field of the answer: with --json (j) key and value v in j; else the
 * line fmt on stdout (v is dropped).
 */
static void field(json_t *j, const char *key, json_t *v, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void field(json_t *j, const char *key, json_t *v, const char *fmt, ...)
{
	va_list ap;

	if (j) {
		json_object_set_new(j, key, v ? v : json_null());
		return;
	}
	json_decref(v);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

/* Every key of a kind of frame in the answer, null where this frame has none: one shape each. */
static void fill_nulls(json_t *j, const char *const *keys)
{
	for (; j && *keys; keys++)
		if (!json_object_get(j, *keys))
			json_object_set_new(j, *keys, json_null());
}

static json_t *json_hex(const uint8_t *p, size_t n)
{
	char buf[2 * FG_LW_PHY_MAX + 1];

	return json_string(hex(p, n, buf));
}

static json_t *json_eui(uint64_t eui)
{
	char buf[20];

	snprintf(buf, sizeof(buf), "%016llx", (unsigned long long) eui);
	return json_string(buf);
}

static json_t *json_device(const struct fg_lorawan_device *dev)
{
	return dev ? json_pack("{s:s,s:o,s:s}", "name", dev->name, "dev_eui",
			       json_eui(dev->dev_eui), "codec", dev->codec)
		   : json_null();
}

/* The options of decode lorawan. */
struct lw_args {
	const char *config_path;
	uint8_t nwk[16], app[16], app_key[16];
	bool have_nwk, have_app, have_app_key, have_fcnt, have_dev_eui;
	unsigned long long fcnt;
	uint64_t dev_eui;
	const char *codec;
	json_t *j; /* --json: the answer being built */
};

/* The OTAA devices of the configuration, for an AppKey; NULL (said on stderr) if unreadable. */
static struct fg_config *join_config(const struct lw_args *a)
{
	if (a->have_app_key)
		return NULL;
	return fg_ctl_load_quietly(a->config_path);
}

/* decode lorawan on a JoinRequest: its fields, and its MIC with the device's AppKey. */
static int decode_join_request(struct lw_args *a, const struct fg_lw_frame *f)
{
	const struct fg_lorawan_device *dev = NULL;
	struct fg_config *cfg = join_config(a);
	const uint8_t *key = a->have_app_key ? a->app_key : NULL;
	char eui[20], mic[9];
	int r, status;

	for (size_t i = 0; cfg && !key && i < cfg->lorawan.n_devices; i++) {
		const struct fg_lorawan_device *d = &cfg->lorawan.devices[i];

		/* As the daemon matches: join_eui 0 in the configuration is any JoinEUI. */
		if (d->otaa && d->dev_eui == f->dev_eui &&
		    (!d->join_eui || d->join_eui == f->join_eui)) {
			dev = d;
			key = d->app_key;
		}
	}
	snprintf(eui, sizeof(eui), "%016llx", (unsigned long long) f->join_eui);
	field(a->j, "join_eui", json_string(eui), "join_eui: %s\n", eui);
	snprintf(eui, sizeof(eui), "%016llx", (unsigned long long) f->dev_eui);
	field(a->j, "dev_eui", json_string(eui), "dev_eui: %s\n", eui);
	field(a->j, "dev_nonce", json_integer(f->dev_nonce), "dev_nonce: %u (0x%04x)\n",
	      f->dev_nonce, f->dev_nonce);
	if (a->have_app_key)
		field(a->j, "device", NULL, "device: AppKey from the command line\n");
	else if (dev)
		field(a->j, "device", json_device(dev), "device: %s (codec %s)\n", dev->name,
		      dev->codec);
	else
		field(a->j, "device", NULL,
		      "device: no OTAA device with this DevEUI (and JoinEUI) in %s; give "
		      "--app-key\n",
		      a->config_path);
	mic_hex(f->mic, mic);
	field(a->j, "mic", json_string(mic), "%s", "");
	if (!key) {
		field(a->j, "mic_ok", NULL, "mic: %s (not checked: no AppKey)\n", mic);
		status = EXIT_REFUSED;
		goto out;
	}
	r = fg_lw_join_request_verify(key, f);
	field(a->j, "mic_ok", json_boolean(r == 0), "mic: %s %s\n", mic,
	      r == 0 ? "ok" : "BAD (not the MIC of this AppKey)");
	status = r == 0 ? EXIT_SUCCESS : EXIT_REFUSED;
out:
	fg_config_free(cfg);
	return status;
}

/*
 * decode lorawan on a JoinAccept: it is encrypted with the AppKey, so the key
 * (--app-key, the device's of --dev-eui, else each OTAA device's in turn) is
 * found by the MIC; then every field.
 */
static int decode_join_accept(struct lw_args *a, const uint8_t *phy, size_t len)
{
	const struct fg_lorawan_device *dev = NULL;
	struct fg_config *cfg = join_config(a);
	struct fg_lw_join_accept ja;
	bool tried = a->have_app_key;
	char net[8], addr[12], cf[33], mic[9];
	int r = a->have_app_key ? fg_lw_join_accept_open(a->app_key, phy, len, &ja) : -ENOKEY;

	for (size_t i = 0; cfg && !a->have_app_key && r != 0 && i < cfg->lorawan.n_devices; i++) {
		const struct fg_lorawan_device *d = &cfg->lorawan.devices[i];

		if (!d->otaa || (a->have_dev_eui && d->dev_eui != a->dev_eui))
			continue;
		tried = true;
		r = fg_lw_join_accept_open(d->app_key, phy, len, &ja);
		if (r == 0)
			dev = d;
	}
	if (a->have_app_key)
		field(a->j, "device", NULL, "device: AppKey from the command line\n");
	else if (dev)
		field(a->j, "device", json_device(dev), "device: %s (dev_eui %016llx, codec %s)\n",
		      dev->name, (unsigned long long) dev->dev_eui, dev->codec);
	else
		field(a->j, "device", NULL, "device: %s\n",
		      tried ? "none whose AppKey opens it"
			    : "no OTAA device to try; give --app-key");
	if (r != 0) {
		/* Encrypted with another key, the fields and the MIC are noise: none is shown. */
		fill_nulls(a->j, (const char *const[]){ "join_nonce", "net_id", "dev_addr",
							"rx1_dr_offset", "rx2_dr", "rx_delay",
							"cflist", "mic", NULL });
		field(a->j, "mic_ok", tried ? json_false() : NULL, "mic: %s\n",
		      !tried ? "not checked: no AppKey"
		      : r == -EBADMSG && len != 17 && len != 33
			      ? "BAD (a JoinAccept is 17 or 33 bytes)"
		      : r == -EBADMSG ? "BAD (no AppKey tried decrypts it to its MIC)"
				      : "cannot be checked");
		fg_config_free(cfg);
		return EXIT_REFUSED;
	}
	snprintf(net, sizeof(net), "%06x", ja.net_id);
	snprintf(addr, sizeof(addr), "%08x", ja.dev_addr);
	field(a->j, "join_nonce", json_integer(ja.app_nonce), "join_nonce: %u (0x%06x)\n",
	      ja.app_nonce, ja.app_nonce);
	field(a->j, "net_id", json_string(net), "net_id: %s\n", net);
	field(a->j, "dev_addr", json_string(addr), "dev_addr: %s\n", addr);
	field(a->j, "rx1_dr_offset", json_integer(ja.rx1_dr_offset),
	      "dl_settings: rx1_dr_offset %u, "
	      "rx2_dr %u\n",
	      ja.rx1_dr_offset, ja.rx2_dr);
	field(a->j, "rx2_dr", json_integer(ja.rx2_dr), "%s", "");
	field(a->j, "rx_delay", json_integer(ja.rx_delay), "rx_delay: %u (%u s)\n", ja.rx_delay,
	      ja.rx_delay ? ja.rx_delay : 1);
	field(a->j, "cflist", ja.has_cflist ? json_hex(ja.cflist, sizeof(ja.cflist)) : NULL,
	      "cflist: %s\n", ja.has_cflist ? hex(ja.cflist, sizeof(ja.cflist), cf) : "none");
	mic_hex(ja.mic, mic);
	field(a->j, "mic", json_string(mic), "%s", "");
	field(a->j, "mic_ok", json_true(), "mic: %s ok\n", mic);
	explicit_bzero(&ja, sizeof(ja));
	fg_config_free(cfg);
	return EXIT_SUCCESS;
}

/* decode lorawan on a data frame: every field, the MIC verdict, the payload and its readings. */
static int decode_data(struct lw_args *a, const uint8_t *phy, size_t len,
		       const struct fg_lw_frame *f)
{
	static struct fg_codec_value values[FG_CODEC_VALUES_MAX];
	uint8_t payload[FG_LW_FRM_MAX];
	struct fg_lorawan_device cli = { .name = (char *) "command-line", .codec = (char *) "raw" };
	const struct fg_lorawan_device *dev = NULL;
	struct fg_config *cfg = NULL;
	struct fg_lora *lora = NULL;
	char addr[12], mic[9], computed[9], whybuf[160], mac[512], hexbuf[2 * FG_LW_PHY_MAX + 1];
	uint32_t fcnt, m = 0;
	size_t n = 0;
	int r, status = EXIT_SUCCESS;

	if (a->codec)
		cli.codec = (char *) a->codec;
	/* Keys on the command line: the configuration is not needed (nor read). */
	if (!a->have_nwk || !a->have_app) {
		cfg = fg_ctl_load_quietly(a->config_path);
		if (!cfg)
			return EXIT_REFUSED;
	} else if (fg_config_new_default(&cfg) < 0) {
		return EXIT_REFUSED;
	}
	if (fg_lora_new(cfg, NULL, &lora) < 0) {
		fg_config_free(cfg);
		return EXIT_REFUSED;
	}
	snprintf(addr, sizeof(addr), "%08x", f->dev_addr);
	if (a->j)
		json_object_set_new(a->j, "dev_addr", json_string(addr));
	else
		printf("dev_addr: %08X\n", f->dev_addr);
	if (a->have_nwk && a->have_app) {
		dev = &cli;
		field(a->j, "device", NULL, "device: keys from the command line, codec %s\n",
		      cli.codec);
	} else {
		dev = fg_lora_device(lora, f->dev_addr);
		if (dev) {
			field(a->j, "device", json_device(dev),
			      "device: %s (dev_eui %016llx, codec "
			      "%s)\n",
			      dev->name, (unsigned long long) dev->dev_eui, dev->codec);
			if (!a->have_nwk)
				memcpy(a->nwk, dev->nwk_s_key, 16);
			if (!a->have_app)
				memcpy(a->app, dev->app_s_key, 16);
			a->have_nwk = a->have_app = true;
		} else {
			field(a->j, "device", NULL,
			      "device: not in %s; give --nwk-s-key and "
			      "--app-s-key\n",
			      a->config_path);
		}
	}
	if (a->j)
		json_object_set_new(a->j, "fctrl",
				    json_pack("{s:i,s:b,s:b,s:b,s:b,s:i}", "value", f->fctrl, "adr",
					      f->adr, "adr_ack_req", f->adr_ack_req, "ack", f->ack,
					      "class_b", f->class_b, "fopts_len", f->fopts_len));
	else
		printf("fctrl: 0x%02x (adr %d, adr_ack_req %d, ack %d, class_b %d, fopts_len %u)\n",
		       f->fctrl, f->adr, f->adr_ack_req, f->ack, f->class_b, f->fopts_len);
	fcnt = a->have_fcnt ? (uint32_t) ((a->fcnt & ~0xffffULL) | f->fcnt16)
			    : fg_lw_fcnt_expand(f->fcnt16, 0, false);
	field(a->j, "fcnt", json_integer(fcnt), "fcnt: %u (0x%04x on air)\n", fcnt, f->fcnt16);
	field(a->j, "fcnt16", json_integer(f->fcnt16), "%s", "");
	if (f->fopts_len)
		(void) fg_lw_mac_describe(f->fopts, f->fopts_len, mac, sizeof(mac));
	field(a->j, "fopts", f->fopts_len ? json_hex(f->fopts, f->fopts_len) : NULL, "%s%s%s",
	      f->fopts_len ? "fopts: " : "",
	      f->fopts_len ? hex(f->fopts, f->fopts_len, hexbuf) : "", f->fopts_len ? "\n" : "");
	if (a->j)
		json_object_set_new(a->j, "fport",
				    f->has_port ? json_integer(f->fport) : json_null());
	else if (f->has_port)
		printf("fport: %u\n", f->fport);
	field(a->j, "frm_payload", json_hex(f->frm, f->frm_len), "frm_payload (encrypted): %s\n",
	      hex(f->frm, f->frm_len, hexbuf));
	mic_hex(f->mic, mic);
	field(a->j, "mic", json_string(mic), "%s", "");
	if (!a->have_nwk || !a->have_app) {
		field(a->j, "mic_ok", NULL, "mic: %s (not checked: no keys)\n", mic);
		if (a->j)
			json_object_set_new(a->j, "mac_commands",
					    f->fopts_len ? json_string(mac) : json_null());
		else if (f->fopts_len)
			printf("mac_commands: %s\n", mac);
		status = EXIT_REFUSED;
		goto out;
	}
	r = fg_lw_data_mic(a->nwk, f->mtype % 2 == 1, f->dev_addr, fcnt, phy, len - 4, &m);
	/* As on air: the four bytes in the order they were sent. */
	mic_hex(m, computed);
	if (r < 0 || m != f->mic) {
		field(a->j, "mic_ok", json_false(),
		      "mic: %s BAD (computed %s with this NwkSKey and "
		      "counter %u)\n",
		      mic, computed, fcnt);
		status = EXIT_REFUSED;
	} else {
		field(a->j, "mic_ok", json_true(), "mic: %s ok\n", mic);
	}
	if (a->j && r == 0 && m != f->mic)
		json_object_set_new(a->j, "mic_computed", json_string(computed));
	if (f->fopts_len)
		field(a->j, "mac_commands", json_string(mac), "mac_commands: %s\n", mac);
	if (!f->has_port || f->frm_len == 0)
		goto out;
	r = fg_lw_crypt(f->fport == 0 ? a->nwk : a->app, f->mtype % 2 == 1 ? 1 : 0, f->dev_addr,
			fcnt, f->frm, f->frm_len, payload);
	if (r < 0)
		goto out;
	field(a->j, "payload", json_hex(payload, f->frm_len), "payload: %s\n",
	      hex(payload, f->frm_len, hexbuf));
	if (f->fport == 0) {
		(void) fg_lw_mac_describe(payload, f->frm_len, mac, sizeof(mac));
		field(a->j, "mac_commands", json_string(mac), "mac_commands: %s\n", mac);
		goto out;
	}
	field(a->j, "codec", json_string(dev->codec), "%s", "");
	r = fg_lora_decode(lora, dev, f->fport, payload, f->frm_len, values, FG_CODEC_VALUES_MAX,
			   &n, whybuf, sizeof(whybuf));
	if (r < 0) {
		field(a->j, "refused", json_string(whybuf), "codec %s: %s\n", dev->codec, whybuf);
		status = EXIT_REFUSED;
		goto out;
	}
	if (a->j) {
		json_object_set_new(a->j, "readings", json_array());
		print_values(values, n, json_object_get(a->j, "readings"));
	} else {
		printf("readings (codec %s):\n", dev->codec);
		print_values(values, n, NULL);
	}
out:
	fill_nulls(a->j, (const char *const[]){ "mic_ok", "mic_computed", "mac_commands", "payload",
						"codec", "refused", "readings", NULL });
	fg_lora_free(lora);
	fg_config_free(cfg);
	return status;
}

/* 16 hex digits into an EUI. */
static bool parse_eui(const char *s, uint64_t *ret)
{
	char *end;

	if (strlen(s) != 16 || strspn(s, "0123456789abcdefABCDEF") != 16)
		return false;
	*ret = strtoull(s, &end, 16);
	return true;
}

/* decode lorawan|ble ...: the options follow the kind of frame. */
int fg_ctl_decode(int argc, char **argv, const char *config_path)
{
	static const struct option options[] = {
		{ "nwk-s-key", required_argument, NULL, 'n' },
		{ "app-s-key", required_argument, NULL, 'a' },
		{ "app-key", required_argument, NULL, 'K' },
		{ "dev-eui", required_argument, NULL, 'e' },
		{ "fcnt", required_argument, NULL, 'f' },
		{ "codec", required_argument, NULL, 'k' },
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	uint8_t phy[FG_LW_PHY_MAX + 1];
	struct lw_args a = { .config_path = config_path };
	struct fg_lw_frame f;
	enum fg_lw_reason why;
	bool json = false;
	size_t len;
	int c, r;

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
			a.have_nwk = parse_key(optarg, a.nwk);
			if (!a.have_nwk)
				goto bad_key;
			break;
		case 'a':
			a.have_app = parse_key(optarg, a.app);
			if (!a.have_app)
				goto bad_key;
			break;
		case 'K':
			a.have_app_key = parse_key(optarg, a.app_key);
			if (!a.have_app_key)
				goto bad_key;
			break;
		case 'e':
			a.have_dev_eui = parse_eui(optarg, &a.dev_eui);
			if (!a.have_dev_eui) {
				fprintf(stderr, "fieldgatectl: a DevEUI is 16 hex digits\n");
				return EXIT_USAGE;
			}
			break;
		case 'f':
			a.fcnt = strtoull(optarg, NULL, 0);
			a.have_fcnt = true;
			break;
		case 'k':
			a.codec = optarg;
			break;
		case 'c':
			a.config_path = optarg;
			break;
		case 'j':
			json = true;
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
	a.j = json ? json_object() : NULL;
	field(a.j, "length", json_integer((json_int_t) len), "frame: %zu bytes\n", len);
	why = fg_lw_parse(phy, len, &f);
	if (a.j)
		json_object_set_new(a.j, "refused",
				    why == FG_LW_OK ? json_null()
						    : json_string(fg_lw_reason_to_string(why)));
	if (why != FG_LW_OK) {
		if (!a.j)
			printf("refused: %s\n", fg_lw_reason_to_string(why));
		fill_nulls(a.j, (const char *const[]){ "mtype", "major", "mic", "mic_ok", NULL });
		r = EXIT_REFUSED;
		goto out;
	}
	field(a.j, "mtype", json_string(fg_lw_mtype_to_string(f.mtype)), "mtype: %s (%d)\n",
	      fg_lw_mtype_to_string(f.mtype), f.mtype);
	field(a.j, "major", json_integer(f.major), "major: %u\n", f.major);
	if (f.mtype == FG_LW_JOIN_REQUEST) {
		r = decode_join_request(&a, &f);
	} else if (f.mtype == FG_LW_JOIN_ACCEPT) {
		r = decode_join_accept(&a, phy, len);
	} else if (f.mtype >= FG_LW_UNCONFIRMED_UP && f.mtype <= FG_LW_CONFIRMED_DOWN) {
		r = decode_data(&a, phy, len, &f);
	} else {
		char mic[9];

		mic_hex(f.mic, mic);
		field(a.j, "mic", json_string(mic),
		      "mic: %s (not checked: not a data frame or "
		      "a join)\n",
		      mic);
		field(a.j, "mic_ok", NULL, "%s", "");
		r = EXIT_SUCCESS;
	}
out:
	if (a.j)
		print_json(a.j);
	explicit_bzero(&a, sizeof(a));
	return r;
bad_key:
	fprintf(stderr, "fieldgatectl: a key is 32 hex digits\n");
	return EXIT_USAGE;
}
