/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config/config-internal.h"
#include "codec/ble.h"
#include "config/config.h"
#include "lora/lorawan.h"
#include "check-main.h"

/* Per test (Check forks each one): a scratch directory, the findings, the result. */
static char *tmpdir;
static struct fg_diags diags;
static struct fg_config *cfg;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void) st;
	(void) flag;
	(void) ftw;
	return remove(path);
}

static void setup(void)
{
	const char *base = getenv("TMPDIR");

	ck_assert_int_ge(asprintf(&tmpdir, "%s/check_config.XXXXXX", base ? base : P_tmpdir), 0);
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	diags = (struct fg_diags){ 0 };
	cfg = NULL;
	ck_assert_int_eq(unsetenv("CREDENTIALS_DIRECTORY"), 0);
}

static void teardown(void)
{
	fg_config_free(cfg);
	fg_diags_clear(&diags);
	(void) nftw(tmpdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(tmpdir);
}

/* A path in the scratch directory; the strings live until the test's process ends. */
static char *tmp_path(const char *name)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/%s", tmpdir, name), 0);
	return p;
}

/* Write a file in the scratch directory with the given mode; returns its path. */
static char *write_file(const char *name, const char *text, mode_t mode)
{
	char *p = tmp_path(name);
	FILE *f = fopen(p, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(p, mode), 0);
	return p;
}

/* A whole file of the source tree (FG_SRCDIR, else the current directory). */
static char *read_source_file(const char *rel)
{
	const char *top = getenv("FG_SRCDIR");
	char *path, *text;
	FILE *f;
	long n;

	ck_assert_int_ge(asprintf(&path, "%s/%s", top && *top ? top : ".", rel), 0);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s (set FG_SRCDIR)", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	text = calloc(1, (size_t) n + 1);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(fread(text, 1, (size_t) n, f), (size_t) n);
	fclose(f);
	free(path);
	return text;
}


/* Load text as if it were a file called fieldgate.conf. */
static int load(const char *text)
{
	return fg_config_load_string(text, "fieldgate.conf", &cfg, &diags);
}

/* Finding i, formatted as the daemon prints it. */
static void assert_diag(size_t i, const char *expected)
{
	char *s;

	ck_assert_uint_gt(diags.n, i);
	s = fg_diag_format(&diags.v[i]);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, expected);
	free(s);
}

/* Exactly one error, with this text; the load refused. */
static void assert_only_error(int r, const char *expected)
{
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(diags.n, 1);
	ck_assert_int_eq(diags.v[0].severity, FG_DIAG_ERROR);
	assert_diag(0, expected);
}

/* ---------------------------------------------------------------- defaults */

START_TEST(config_fills_every_default_for_empty_file)
{
	char *client_id;

	ck_assert_int_eq(load(""), 0);
	ck_assert_uint_eq(diags.n, 0);
	ck_assert_str_eq(cfg->path, "fieldgate.conf");
	ck_assert_str_eq(cfg->gateway.state_dir, LOCALSTATEDIR "/lib/fieldgate");
	ck_assert_int_eq(cfg->gateway.log_level, LOG_INFO);
	ck_assert(!cfg->gateway.trust_system_clock);
	ck_assert_str_eq(cfg->buffer.path, LOCALSTATEDIR "/lib/fieldgate/buffer.db");
	ck_assert_uint_eq(cfg->buffer.commit_interval_ms, 100);
	ck_assert_uint_eq(cfg->buffer.sync_interval_ms, 1000);
	ck_assert_uint_eq(cfg->buffer.commit_batch, 1000);
	ck_assert_uint_eq(cfg->buffer.max_rows, 1000000);
	ck_assert_uint_eq(cfg->buffer.max_bytes, 256ULL << 20);
	ck_assert_uint_eq(cfg->buffer.max_age_s, 30ULL * 86400);
	ck_assert_int_eq(cfg->buffer.overflow, FG_OVERFLOW_DROP_OLDEST);
	ck_assert_str_eq(cfg->mqtt.host, "localhost");
	ck_assert_uint_eq(cfg->mqtt.port, 1883);
	ck_assert_int_ge(asprintf(&client_id, "fieldgate-%s", cfg->gateway.id), 0);
	ck_assert_str_eq(cfg->mqtt.client_id, client_id);
	free(client_id);
	ck_assert_int_eq(cfg->mqtt.protocol, FG_MQTT_V311);
	ck_assert_uint_eq(cfg->mqtt.keepalive_s, 60);
	ck_assert_uint_eq(cfg->mqtt.session_expiry_s, 86400);
	ck_assert_ptr_null(cfg->mqtt.username);
	ck_assert_ptr_null(cfg->mqtt.password);
	ck_assert_int_eq(cfg->mqtt.qos, 1);
	ck_assert_uint_eq(cfg->mqtt.max_inflight, 100);
	ck_assert_str_eq(cfg->mqtt.topic, "fieldgate/{gateway}/{source}/{device}");
	ck_assert_uint_eq(cfg->mqtt.message_expiry_s, 0);
	ck_assert(!cfg->mqtt.tls);
	ck_assert_ptr_null(cfg->mqtt.ca_file);
	ck_assert_ptr_null(cfg->mqtt.ca_path);
	ck_assert_ptr_null(cfg->mqtt.cert_file);
	ck_assert_ptr_null(cfg->mqtt.key_file);
	ck_assert_ptr_null(cfg->mqtt.alpn);
	ck_assert(!cfg->mqtt.tls_insecure);
	ck_assert(!cfg->sources.sim.enabled);
	ck_assert_uint_eq(cfg->sources.sim.devices, 3);
	ck_assert_uint_eq(cfg->sources.sim.interval_ms, 10000);
	ck_assert_uint_eq(cfg->sources.sim.seed, 0);
	ck_assert_str_eq(cfg->sources.sim.name_prefix, "sim-");
}
END_TEST

START_TEST(config_new_default_matches_empty_file)
{
	struct fg_config *def = NULL;

	ck_assert_int_eq(fg_config_new_default(&def), 0);
	ck_assert_int_eq(load("# nothing\n"), 0);
	ck_assert_ptr_null(def->path);
	ck_assert_str_eq(def->gateway.id, cfg->gateway.id);
	ck_assert_str_eq(def->buffer.path, cfg->buffer.path);
	ck_assert_str_eq(def->mqtt.client_id, cfg->mqtt.client_id);
	ck_assert_uint_eq(def->mqtt.port, cfg->mqtt.port);
	ck_assert_uint_eq(def->buffer.max_age_s, cfg->buffer.max_age_s);
	ck_assert_uint_eq(def->mqtt.keepalive_s, cfg->mqtt.keepalive_s);
	ck_assert_str_eq(def->sources.sim.name_prefix, cfg->sources.sim.name_prefix);
	fg_config_free(def);
}
END_TEST

START_TEST(config_gateway_id_defaults_to_host_name)
{
	char host[256] = "";

	ck_assert_int_eq(gethostname(host, sizeof(host) - 1), 0);
	host[64] = '\0';
	for (char *p = host; *p; p++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-",
			    *p))
			*p = '-';
	ck_assert_int_eq(load(""), 0);
	ck_assert_str_eq(cfg->gateway.id, host[0] ? host : "fieldgate");
}
END_TEST

START_TEST(config_client_id_defaults_from_gateway_id)
{
	ck_assert_int_eq(load("gateway = { id = \"barn-3\"; };\n"), 0);
	ck_assert_str_eq(cfg->gateway.id, "barn-3");
	ck_assert_str_eq(cfg->mqtt.client_id, "fieldgate-barn-3");
}
END_TEST

START_TEST(config_buffer_path_defaults_under_state_dir)
{
	ck_assert_int_eq(load("gateway = { state_dir = \"/srv/fieldgate/\"; };\n"), 0);
	ck_assert_str_eq(cfg->buffer.path, "/srv/fieldgate/buffer.db");
}
END_TEST

START_TEST(config_free_accepts_null)
{
	fg_config_free(NULL);
	fg_diags_clear(NULL);
}
END_TEST

/* ---------------------------------------------------------------- lists: gateways, devices, codecs */

#define DEVICE(extra)                                                                              \
	"lorawan = { devices = ( { name = \"soil-1\"; dev_eui = \"70B3D57ED0000001\";\n"          \
	"  dev_addr = \"26011bda\"; nwk_s_key = \"000102030405060708090A0B0C0D0E0F\";\n"          \
	"  app_s_key = \"F0E0D0C0B0A090807060504030201000\"; " extra " } ); };\n"

START_TEST(config_loads_a_lorawan_device)
{
	ck_assert_int_eq(load(DEVICE("codec = \"cayenne\";")), 0);
	ck_assert_uint_eq(diags.n, 0);
	ck_assert_uint_eq(cfg->lorawan.n_devices, 1);
	ck_assert_str_eq(cfg->lorawan.devices[0].name, "soil-1");
	ck_assert_uint_eq(cfg->lorawan.devices[0].dev_eui, UINT64_C(0x70B3D57ED0000001));
	ck_assert_uint_eq(cfg->lorawan.devices[0].dev_addr, 0x26011BDA);
	ck_assert_uint_eq(cfg->lorawan.devices[0].nwk_s_key[15], 0x0F);
	ck_assert_uint_eq(cfg->lorawan.devices[0].app_s_key[0], 0xF0);
	ck_assert_str_eq(cfg->lorawan.devices[0].codec, "cayenne");
	ck_assert_uint_eq(cfg->lorawan.max_fcnt_gap, 16384);
	ck_assert_int_eq(cfg->lorawan.unknown, FG_LORAWAN_UNKNOWN_DROP);
}
END_TEST

START_TEST(config_device_defaults_to_the_raw_codec_and_refuses_unknown_ones)
{
	ck_assert_int_eq(load(DEVICE("")), 0);
	ck_assert_str_eq(cfg->lorawan.devices[0].codec, "raw");
	fg_config_free(cfg);
	cfg = NULL;
	assert_only_error(load(DEVICE("codec = \"lht65\";")),
			  "fieldgate.conf:1: lorawan.devices: device 'soil-1': unknown codec "
			  "'lht65' (cayenne, raw, or a name under codecs)");
}
END_TEST

START_TEST(config_device_key_from_a_file_and_not_twice)
{
	char *key = write_file("nwk.key", "000102030405060708090a0b0c0d0e0f\n", 0600);
	char *text;

	ck_assert_int_ge(asprintf(&text,
				  "lorawan = { devices = ( { name = \"a\"; dev_eui = "
				  "\"70B3D57ED0000001\"; dev_addr = \"26011BDA\"; nwk_s_key_file = "
				  "\"%s\"; app_s_key = \"F0E0D0C0B0A090807060504030201000\"; } ); };",
				  key),
			 0);
	ck_assert_int_eq(load(text), 0);
	ck_assert_uint_eq(cfg->lorawan.devices[0].nwk_s_key[1], 0x01);
	free(text);
	fg_config_free(cfg);
	cfg = NULL;
	assert_only_error(load(DEVICE("nwk_s_key_file = \"/nonexistent\";")),
			  "fieldgate.conf:3: lorawan.devices: 'nwk_s_key_file' and 'nwk_s_key' "
			  "both given; give the key one way only");
	free(key);
}
END_TEST

START_TEST(config_device_mistakes_are_named)
{
	ck_assert_int_eq(load("lorawan = { devices = ( { name = \"bad name\"; dev_eui = \"70B3\";\n"
			      "  dev_addr = \"26011BDA\"; nwk_s_key = \"0011\";\n"
			      "  app_s_key = \"F0E0D0C0B0A090807060504030201000\"; colour = 1; } ); };"),
			 -EINVAL);
	ck_assert_uint_eq(fg_diags_count(&diags, FG_DIAG_ERROR), 4);
	assert_diag(0, "fieldgate.conf:3: lorawan.devices: unknown member 'colour'");
	assert_diag(1, "fieldgate.conf:1: lorawan.devices: 'name': expected 1..63 characters "
		       "from A-Z a-z 0-9 _ . -");
	assert_diag(2, "fieldgate.conf:1: lorawan.devices: 'dev_eui': expected 16 hex digits");
	assert_diag(3, "fieldgate.conf:2: lorawan.devices: 'nwk_s_key': expected 32 hex digits "
		       "(an AES-128 key)");
}
END_TEST

START_TEST(config_two_devices_cannot_share_a_dev_addr)
{
	ck_assert_int_eq(
		load("lorawan = { devices = (\n"
		     " { name = \"a\"; dev_eui = \"70B3D57ED0000001\"; dev_addr = \"26011BDA\";\n"
		     "   nwk_s_key = \"000102030405060708090A0B0C0D0E0F\";\n"
		     "   app_s_key = \"000102030405060708090A0B0C0D0E0F\"; },\n"
		     " { name = \"b\"; dev_eui = \"70B3D57ED0000002\"; dev_addr = \"26011BDA\";\n"
		     "   nwk_s_key = \"000102030405060708090A0B0C0D0E0F\";\n"
		     "   app_s_key = \"000102030405060708090A0B0C0D0E0F\"; } ); };"),
		-EINVAL);
	assert_diag(0, "fieldgate.conf:5: lorawan.devices: dev_addr 26011BDA is used twice (line 2)");
}
END_TEST

START_TEST(config_loads_gateways_and_a_layout)
{
	ck_assert_int_eq(load("sources = { gwmp = { enabled = true; listen = \"[::1]:1700\";\n"
			      "  gateways = [ \"AA555A0000000001\" ]; }; };\n"
			      "codecs = { lht65 = { fields = (\n"
			      "  { name = \"battery\"; offset = 0; type = \"u16be\"; bits = [0, 14];\n"
			      "    scale = 0.001; unit = \"V\"; fport = 2; },\n"
			      "  { name = \"temperature\"; offset = 2; type = \"i16le\"; scale = 0.01;\n"
			      "    unit = \"Cel\"; } ); }; };\n"),
			 0);
	ck_assert_uint_eq(diags.n, 0);
	ck_assert_str_eq(cfg->sources.gwmp.listen, "[::1]:1700");
	ck_assert_uint_eq(cfg->sources.gwmp.n_gateways, 1);
	ck_assert_uint_eq(cfg->sources.gwmp.gateways[0], UINT64_C(0xAA555A0000000001));
	ck_assert_uint_eq(cfg->n_codecs, 1);
	ck_assert_str_eq(cfg->codecs[0].name, "lht65");
	ck_assert_uint_eq(cfg->codecs[0].n_fields, 2);
	ck_assert_uint_eq(cfg->codecs[0].fields[0].bit_count, 14);
	ck_assert_int_eq(cfg->codecs[0].fields[0].fport, 2);
	ck_assert_int_eq(cfg->codecs[0].fields[1].type, FG_LAYOUT_I16);
	ck_assert(cfg->codecs[0].fields[1].little_endian);
	ck_assert_int_eq(cfg->codecs[0].fields[1].fport, -1);
}
END_TEST

START_TEST(config_units_must_be_registered_senml_units)
{
	/* fieldgate.conf(5), Units: only registered units go out; a secondary one says how to convert. */
	ck_assert_int_eq(load("codecs = { x = { fields = (\n"
			      "  { name = \"pressure\"; offset = 0; type = \"u16\"; unit = \"hPa\"; },\n"
			      "  { name = \"tx\"; offset = 2; type = \"i8\"; unit = \"dBm\"; },\n"
			      "  { name = \"gyro\"; offset = 3; type = \"i8\"; unit = \"rad/s\"; } ); }; };\n"
			      "rules = ( { name = \"f\"; match = \"*/temperature\"; unit = \"Fel\"; } );\n"),
			 -EINVAL);
	ck_assert_uint_eq(fg_diags_count(&diags, FG_DIAG_ERROR), 2);
	assert_diag(0, "fieldgate.conf:2: codecs.x: field 1: unit 'hPa' is not a SenML unit (RFC 8798 "
		       "secondary unit): write unit = \"Pa\" and multiply scale and add by 100");
	assert_diag(1, "fieldgate.conf:5: rules: rule 'f': unit 'Fel' is not a registered SenML "
		       "unit (RFC 8428, RFC 8798): give one, or no unit and the unit in the name "
		       "(fieldgate.conf(5), Units)");
	fg_diags_clear(&diags);
	ck_assert_int_eq(load("codecs = { x = { fields = (\n"
			      "  { name = \"tx\"; offset = 2; type = \"i8\"; unit = \"dBm\"; } ); }; };\n"),
			 -EINVAL);
	assert_diag(0, "fieldgate.conf:2: codecs.x: field 1: unit 'dBm' is not a SenML unit (RFC 8798 "
		       "secondary unit): write unit = \"dBW\" and multiply scale and add by 1, then "
		       "add -30 to add");
	fg_diags_clear(&diags);
	/* A rule may take the unit away, for a value whose unit is in its new name. */
	ck_assert_int_eq(load("rules = ( { name = \"f\"; match = \"*/temperature\";"
			      " set = \"value * 9 / 5 + 32\"; quantity = \"temperature_degF\";"
			      " unit = \"\"; } );\n"),
			 0);
	ck_assert_uint_eq(diags.n, 0);
	ck_assert_str_eq(cfg->rules[0].unit, "");
}
END_TEST

START_TEST(config_layout_and_listen_mistakes_are_named)
{
	ck_assert_int_eq(load("sources = { gwmp = { listen = \"localhost:1700\";\n"
			      "  gateways = [ \"AA55\" ]; }; };\n"
			      "codecs = { x = { fields = (\n"
			      "  { name = \"t\"; offset = 0; type = \"u17\"; } ); }; };\n"),
			 -EINVAL);
	ck_assert_uint_eq(fg_diags_count(&diags, FG_DIAG_ERROR), 3);
	assert_diag(0, "fieldgate.conf:1: sources.gwmp.listen: expected a numeric address and port, "
		       "\"127.0.0.1:1700\" or \"[::1]:1700\", got 'localhost:1700'");
	assert_diag(1, "fieldgate.conf:2: sources.gwmp.gateways: element 1: expected a gateway EUI "
		       "of 16 hex digits");
	assert_diag(2, "fieldgate.conf:4: codecs.x: field 1: unknown type 'u17' (u8 i8 u16be u16le "
		       "i16be i16le u24be u24le i24be i24le u32be u32le i32be i32le f32be f32le)");
}
END_TEST

START_TEST(config_loads_ble_devices)
{
	ck_assert_int_eq(load("sources = { ble = { enabled = true; mode = \"passive\"; }; };\n"
			      "ble = { unknown = \"decode\"; min_interval = \"30s\"; devices = (\n"
			      "  { name = \"porch\"; address = \"a4:c1:38:00:11:22\"; codec = \"atc1441\"; },\n"
			      "  { name = \"cellar\"; address = \"A4:C1:38:00:11:33\";\n"
			      "    bindkey = \"000102030405060708090A0B0C0D0E0F\"; min_interval = 5; } ); };\n"),
			 0);
	ck_assert_uint_eq(diags.n, 0);
	ck_assert(cfg->sources.ble.enabled);
	ck_assert_int_eq(cfg->sources.ble.mode, FG_BLE_MODE_PASSIVE);
	ck_assert_str_eq(cfg->sources.ble.adapter, "hci0");
	ck_assert_int_eq(cfg->ble.unknown, FG_BLE_UNKNOWN_DECODE);
	ck_assert_uint_eq(cfg->ble.min_interval_s, 30);
	ck_assert_uint_eq(cfg->ble.forget_after_s, 600);
	ck_assert_uint_eq(cfg->ble.n_devices, 2);
	ck_assert_str_eq(cfg->ble.devices[0].address_text, "A4:C1:38:00:11:22");
	ck_assert_uint_eq(cfg->ble.devices[0].address[5], 0x22);
	ck_assert_int_eq(cfg->ble.devices[0].codec, FG_BLE_ATC1441);
	ck_assert(!cfg->ble.devices[0].has_bindkey);
	ck_assert_int_eq(cfg->ble.devices[1].codec, -1);
	ck_assert(cfg->ble.devices[1].has_bindkey);
	ck_assert_uint_eq(cfg->ble.devices[1].bindkey[15], 0x0F);
	ck_assert_uint_eq(cfg->ble.devices[1].min_interval_s, 5);
}
END_TEST

START_TEST(config_ble_device_mistakes_are_named)
{
	ck_assert_int_eq(load("ble = { devices = (\n"
			      "  { name = \"porch\"; address = \"A4-C1-38-00-11-22\"; codec = \"xiaomi\"; }\n"
			      "); };\n"),
			 -EINVAL);
	ck_assert_uint_eq(fg_diags_count(&diags, FG_DIAG_ERROR), 2);
	assert_diag(0, "fieldgate.conf:2: ble.devices: 'address': expected a Bluetooth address, "
		       "\"A4:C1:38:00:11:22\"");
	assert_diag(1, "fieldgate.conf:2: ble.devices: 'codec': unknown 'xiaomi' (auto, bthome, "
		       "ruuvi5, ruuvi3, atc1441, pvvx, mibeacon, govee, ibeacon, eddystone-tlm)");
}
END_TEST

/* ---------------------------------------------------------------- sample file and docs */

START_TEST(config_sample_file_loads_without_findings)
{
	/* As the package installs it: 0640, since it holds the demo device's keys. */
	char *text = read_source_file("conf/fieldgate.conf");
	char *path = write_file("fieldgate.conf", text, 0640);
	int r = fg_config_load(path, &cfg, &diags);

	free(text);
	fg_diags_print(&diags, stderr);
	ck_assert_int_eq(r, 0);
	ck_assert_uint_eq(diags.n, 0);
	/* A fresh install starts no source: no simulated readings toward a real broker. */
	ck_assert(!cfg->sources.sim.enabled);
	ck_assert(!cfg->sources.gwmp.enabled);
	ck_assert(!cfg->sources.sx130x.enabled);
	ck_assert(!cfg->sources.ble.enabled);
	ck_assert_uint_eq(cfg->mqtt.port, 1883);
	ck_assert_uint_eq(cfg->lorawan.n_devices, 1);
	ck_assert_str_eq(cfg->lorawan.devices[0].name, "soil-1");
	ck_assert_uint_eq(cfg->lorawan.devices[0].dev_addr, 0x26011BDA);
	ck_assert_uint_eq(cfg->n_codecs, 1);
	ck_assert_uint_eq(cfg->codecs[0].n_fields, 3);
	free(path);
}
END_TEST

/*
 * Whether a sample file shows a dotted setting, set or commented out: lines
 * "name = {" open a group, "};" closes it, "[#]name = ..." is a setting.
 */
static bool sample_shows(const char *text, const char *dotted)
{
	char stack[8][64];
	int depth = 0;

	for (const char *line = text; *line; line += strcspn(line, "\n"), line += *line == '\n') {
		const char *p = line + strspn(line, " \t");
		char name[64], path[256] = "";
		size_t n;

		if (*p == '}') {
			if (depth > 0)
				depth--;
			continue;
		}
		if (*p == '#')
			p++;
		n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
		if (n == 0 || n >= sizeof(name))
			continue;
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		p += strspn(p, " \t");
		if (*p != '=')
			continue;
		p++;
		p += strspn(p, " \t");
		if (*p == '{' && line[strspn(line, " \t")] != '#') {
			if (depth < 8)
				memcpy(stack[depth++], name, sizeof(name));
			continue;
		}
		for (int i = 0; i < depth; i++) {
			strcat(path, stack[i]);
			strcat(path, ".");
		}
		strcat(path, name);
		if (strcmp(path, dotted) == 0)
			return true;
	}
	return false;
}

START_TEST(config_every_setting_is_in_sample_file)
{
	char *text = read_source_file("conf/fieldgate.conf");
	const char *const *names = fg_config_setting_names();

	for (size_t i = 0; names[i]; i++)
		ck_assert_msg(sample_shows(text, names[i]), "conf/fieldgate.conf lacks %s",
			      names[i]);
	ck_assert(!sample_shows(text, "mqtt.no_such_setting"));
	free(text);
}
END_TEST

START_TEST(config_every_setting_is_in_man_page)
{
	char *text = read_source_file("man/fieldgate.conf.5.in");
	const char *const *names = fg_config_setting_names();

	for (size_t i = 0; names[i]; i++) {
		char *tag;
		const char *at;

		ck_assert_int_ge(asprintf(&tag, "\n.It Cm %s ", names[i]), 0);
		at = strstr(text, tag);
		ck_assert_msg(at != NULL, "man/fieldgate.conf.5.in has no '.It Cm %s'", names[i]);
		free(tag);
	}
	free(text);
}
END_TEST

START_TEST(config_setting_names_list_every_row_and_secret_variant)
{
	const char *const *names = fg_config_setting_names();
	size_t n = 0;

	for (; names[n]; n++) {
		ck_assert_uint_lt(n, fg_config_table_size);
		ck_assert_str_eq(names[n], fg_config_table[n].path);
	}
	ck_assert_uint_eq(n, fg_config_table_size);
	ck_assert_ptr_nonnull(fg_config_row_find("mqtt.password_file"));
	ck_assert_ptr_nonnull(fg_config_row_find("mqtt.password_credential"));
}
END_TEST

START_TEST(config_table_defaults_fit_their_rows)
{
	for (size_t i = 0; i < fg_config_table_size; i++) {
		const struct fg_config_row *row = &fg_config_table[i];
		char detail[160];

		switch (row->type) {
		case FG_CT_INT:
			ck_assert_msg(row->size == 8 || row->max < 1ULL << (8 * row->size),
				      "%s: max does not fit", row->path);
			/* fallthrough */
		case FG_CT_SIZE:
		case FG_CT_DURATION:
			ck_assert_msg(row->def >= row->min && row->def <= row->max,
				      "%s: default out of range", row->path);
			break;
		case FG_CT_STRING:
			if (row->def_str) {
				ck_assert_uint_ge(strlen(row->def_str), row->min);
				ck_assert_uint_le(strlen(row->def_str), row->max);
				ck_assert(!row->check ||
					  row->check(row->def_str, detail, sizeof(detail)));
			}
			break;
		case FG_CT_SECRET_FILE:
		case FG_CT_SECRET_CREDENTIAL:
			ck_assert_ptr_nonnull(fg_config_row_find(row->secret_of));
			break;
		case FG_CT_REAL:
			ck_assert_msg(row->size == sizeof(double), "%s: not a double", row->path);
			ck_assert_msg(row->rdef >= row->rmin && row->rdef <= row->rmax,
				      "%s: default out of range", row->path);
			break;
		default:
			break;
		}
		ck_assert_ptr_nonnull(row->help);
	}
}
END_TEST

/* ---------------------------------------------------------------- errors */

START_TEST(config_rejects_unknown_key_with_suggestion)
{
	int r = load("mqtt = {\n"
		     "\tport = 1883;\n"
		     "\thots = \"broker.example\";\n"
		     "};\n");

	assert_only_error(
		r, "fieldgate.conf:3: mqtt.hots: unknown setting, did you mean 'mqtt.host'?");
}
END_TEST

START_TEST(config_suggests_group_for_unknown_group)
{
	assert_only_error(load("mqqt = { host = \"x\"; };\n"),
			  "fieldgate.conf:1: mqqt: unknown setting, did you mean 'mqtt'?");
}
END_TEST

START_TEST(config_suggests_setting_of_another_group)
{
	assert_only_error(
		load("\ngateway = { port = 1884; };\n"),
		"fieldgate.conf:2: gateway.port: unknown setting, did you mean 'mqtt.port'?");
}
END_TEST

START_TEST(config_rejects_unknown_key_without_close_name)
{
	assert_only_error(load("sources = { sim = { xyzzy = 1; }; };\n"),
			  "fieldgate.conf:1: sources.sim.xyzzy: unknown setting");
}
END_TEST

START_TEST(config_rejects_int_out_of_range)
{
	assert_only_error(load("mqtt = {\n\tport = 70000;\n};\n"),
			  "fieldgate.conf:2: mqtt.port: expected an integer 1..65535, got 70000");
}
END_TEST

START_TEST(config_rejects_string_where_integer_expected)
{
	assert_only_error(
		load("mqtt = {\n\tport = \"1883\";\n};\n"),
		"fieldgate.conf:2: mqtt.port: expected an integer 1..65535, got a string '1883'");
}
END_TEST

START_TEST(config_rejects_integer_where_boolean_expected)
{
	assert_only_error(load("sources = { sim = { enabled = 1; }; };\n"),
			  "fieldgate.conf:1: sources.sim.enabled: expected true or false, got an "
			  "integer 1");
}
END_TEST

START_TEST(config_rejects_unknown_enum_value)
{
	assert_only_error(load("gateway = {\n\tid = \"gw\";\n\tlog_level = \"verbose\";\n};\n"),
			  "fieldgate.conf:3: gateway.log_level: expected one of error, warning, "
			  "notice, info, debug, got 'verbose'");
}
END_TEST

START_TEST(config_rejects_bad_duration)
{
	assert_only_error(load("mqtt = {\n\n\n\n\n\n\n\n\n\n\tkeepalive = \"soon\";\n};\n"),
			  "fieldgate.conf:11: mqtt.keepalive: expected a duration such as 30s, 5m, "
			  "1h, got 'soon'");
}
END_TEST

START_TEST(config_rejects_duration_out_of_range)
{
	assert_only_error(load("mqtt = { keepalive = \"2h\"; };\n"),
			  "fieldgate.conf:1: mqtt.keepalive: expected a duration 5s..1h, got '2h'");
}
END_TEST

START_TEST(config_rejects_sub_second_duration_for_seconds_setting)
{
	assert_only_error(load("mqtt = { keepalive = \"5500ms\"; };\n"),
			  "fieldgate.conf:1: mqtt.keepalive: expected a whole number of seconds, "
			  "got '5500ms'");
}
END_TEST

START_TEST(config_rejects_size_out_of_range)
{
	assert_only_error(load("buffer = { max_bytes = \"512K\"; };\n"),
			  "fieldgate.conf:1: buffer.max_bytes: expected a size 1M..1T, got '512K'");
}
END_TEST

START_TEST(config_rejects_bad_size)
{
	assert_only_error(load("buffer = { max_bytes = \"lots\"; };\n"),
			  "fieldgate.conf:1: buffer.max_bytes: expected a size such as 64K, 256M, "
			  "1G, got 'lots'");
}
END_TEST

START_TEST(config_rejects_scalar_where_group_expected)
{
	assert_only_error(load("mqtt = 5;\n"),
			  "fieldgate.conf:1: mqtt: expected a group of settings { ... }, got an "
			  "integer 5");
}
END_TEST

START_TEST(config_rejects_bad_gateway_id)
{
	assert_only_error(
		load("gateway = { id = \"barn 3\"; };\n"),
		"fieldgate.conf:1: gateway.id: expected 1..64 characters from A-Z a-z 0-9 "
		"_ . -, got 'barn 3'");
}
END_TEST

START_TEST(config_rejects_relative_state_dir)
{
	assert_only_error(load("gateway = { state_dir = \"var/lib\"; };\n"),
			  "fieldgate.conf:1: gateway.state_dir: expected an absolute path, got "
			  "'var/lib'");
}
END_TEST

START_TEST(config_reports_every_error_not_just_the_first)
{
	int r = load("gateway = {\n"
		     "\tlog_level = \"loud\";\n" /* 2 */
		     "};\n"
		     "buffer = {\n"
		     "\tcommit_batch = 0;\n"	    /* 5 */
		     "\toverflow = \"drop_all\";\n" /* 6 */
		     "};\n"
		     "mqtt = {\n"
		     "\tqos = 3;\n" /* 9 */
		     "\thost = \"ok.example\";\n"
		     "\tprot = 1;\n" /* 11 */
		     "};\n");

	ck_assert_int_eq(r, -EINVAL);
	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(fg_diags_count(&diags, FG_DIAG_ERROR), 5);
	ck_assert_uint_eq(fg_diags_count(&diags, FG_DIAG_WARNING), 0);
	ck_assert_int_eq(diags.v[0].line, 2);
	ck_assert_int_eq(diags.v[1].line, 5);
	ck_assert_int_eq(diags.v[2].line, 6);
	ck_assert_int_eq(diags.v[3].line, 9);
	assert_diag(4, "fieldgate.conf:11: mqtt.prot: unknown setting, did you mean 'mqtt.port'?");
}
END_TEST

START_TEST(config_syntax_error_names_the_line)
{
	assert_only_error(load("mqtt = {\n\tport = 1883;\n\thost = ;\n};\n"),
			  "fieldgate.conf:3: syntax error");
	ck_assert_ptr_null(diags.v[0].setting);
}
END_TEST

START_TEST(config_load_of_missing_file_returns_enoent)
{
	char *path = tmp_path("absent.conf");
	char *expected;

	ck_assert_int_eq(fg_config_load(path, &cfg, &diags), -ENOENT);
	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(diags.n, 1);
	ck_assert_int_ge(asprintf(&expected, "%s: cannot read: %s", path, strerror(ENOENT)), 0);
	assert_diag(0, expected);
	free(expected);
	free(path);
}
END_TEST

START_TEST(config_diagnostics_name_the_file_as_given)
{
	char *path = write_file("fg.conf", "mqtt = {\n\tqos = 9;\n};\n", 0600);
	char *expected;

	ck_assert_int_eq(fg_config_load(path, &cfg, &diags), -EINVAL);
	ck_assert_int_ge(
		asprintf(&expected, "%s:2: mqtt.qos: expected an integer 0..2, got 9", path), 0);
	ck_assert_uint_eq(diags.n, 1);
	assert_diag(0, expected);
	free(expected);
	free(path);
}
END_TEST

START_TEST(config_keeps_findings_already_in_the_list)
{
	ck_assert_int_eq(fg_diags_add(&diags, FG_DIAG_WARNING, "other.conf", 1, NULL, "earlier"),
			 0);
	ck_assert_int_eq(load("mqtt = { qos = 9; };\n"), -EINVAL);
	ck_assert_uint_eq(diags.n, 2);
	assert_diag(0, "other.conf:1: warning: earlier");
}
END_TEST

START_TEST(config_reports_every_mistake_of_errors_fixture)
{
	static const char *const expected[] = {
		"errors.conf:4: gateway.id: expected 1..64 characters from A-Z a-z 0-9 _ . -, got "
		"'barn 3'",
		"errors.conf:5: gateway.log_level: expected one of error, warning, notice, info, "
		"debug, got 'verbose'",
		"errors.conf:6: gateway.trust_system_clock: expected true or false, got a string "
		"'yes'",
		"errors.conf:8: bufer: unknown setting, did you mean 'buffer'?",
		"errors.conf:12: buffer.max_rows: expected an integer 1000..100000000, got 10",
		"errors.conf:13: buffer.max_bytes: expected a size such as 64K, 256M, 1G, got "
		"'lots'",
		"errors.conf:14: buffer.max_age: expected a duration such as 30s, 5m, 1h, got "
		"'soon'",
		"errors.conf:15: buffer.overflow: expected one of drop_oldest, drop_newest, got "
		"'drop_all'",
		"errors.conf:18: mqtt.hots: unknown setting, did you mean 'mqtt.host'?",
		"errors.conf:19: mqtt.port: expected an integer 1..65535, got 70000",
		"errors.conf:20: mqtt.keepalive: expected a duration 5s..1h, got '2h'",
		"errors.conf:21: mqtt.topic: expected a topic such as "
		"'fieldgate/{gateway}/{source}/{device}', got 'farm/{site}/{device}' (unknown "
		"placeholder '{site}'; use {gateway}, {source}, {device}, {name} or {quantity})",
		"errors.conf:23: mqtt.qos: expected an integer 0..2, got a string '1'",
		"errors.conf:27: sources.sim.devices: expected an integer 1..10000, got 0",
		"errors.conf:28: sources.sim.name_prefix: expected 0..32 characters from A-Z a-z "
		"0-9 "
		"_ . -, got 'sim/'",
		/* Cross-field checks run after the walk over the table. */
		"errors.conf:22: mqtt.cert_file: is set without mqtt.key_file; a client "
		"certificate "
		"needs its private key",
	};
	char *text = read_source_file("tests/data/config/errors.conf");
	size_t n = sizeof(expected) / sizeof(expected[0]);

	ck_assert_int_eq(fg_config_load_string(text, "errors.conf", &cfg, &diags), -EINVAL);
	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(diags.n, n);
	ck_assert_uint_eq(fg_diags_count(&diags, FG_DIAG_ERROR), n);
	for (size_t i = 0; i < n; i++)
		assert_diag(i, expected[i]);
	free(text);
}
END_TEST

/* ---------------------------------------------------------------- values */

START_TEST(config_accepts_duration_units_and_plain_seconds)
{
	ck_assert_int_eq(
		load("buffer = { max_age = \"7d\"; };\n"
		     "mqtt = { protocol = \"v5\"; keepalive = \"15m\"; session_expiry = 90;\n"
		     "\tmessage_expiry = \"12h\"; };\n"),
		0);
	ck_assert_uint_eq(diags.n, 0);
	ck_assert_uint_eq(cfg->buffer.max_age_s, 7 * 86400);
	ck_assert_uint_eq(cfg->mqtt.keepalive_s, 900);
	ck_assert_uint_eq(cfg->mqtt.session_expiry_s, 90);
	ck_assert_uint_eq(cfg->mqtt.message_expiry_s, 12 * 3600);
	ck_assert_int_eq(cfg->mqtt.protocol, FG_MQTT_V5);
}
END_TEST

START_TEST(config_loads_every_setting_of_full_fixture)
{
	char *text = read_source_file("tests/data/config/full.conf");

	ck_assert_int_eq(fg_config_load_string(text, "full.conf", &cfg, &diags), 0);
	ck_assert_uint_eq(diags.n, 0);
	ck_assert_str_eq(cfg->gateway.id, "barn-3.west_1");
	ck_assert_str_eq(cfg->gateway.state_dir, "/srv/fieldgate");
	ck_assert_int_eq(cfg->gateway.log_level, LOG_DEBUG);
	ck_assert(cfg->gateway.trust_system_clock);
	ck_assert_str_eq(cfg->buffer.path, "/srv/fieldgate/readings.db");
	ck_assert_uint_eq(cfg->buffer.commit_interval_ms, 250);
	ck_assert_uint_eq(cfg->buffer.sync_interval_ms, 5000);
	ck_assert_uint_eq(cfg->buffer.commit_batch, 500);
	ck_assert_uint_eq(cfg->buffer.max_rows, 5000000);
	ck_assert_uint_eq(cfg->buffer.max_bytes, 2ULL << 30);
	ck_assert_uint_eq(cfg->buffer.max_age_s, 7 * 86400);
	ck_assert_int_eq(cfg->buffer.overflow, FG_OVERFLOW_DROP_NEWEST);
	ck_assert_str_eq(cfg->mqtt.host, "broker.example.net");
	ck_assert_uint_eq(cfg->mqtt.port, 8884);
	ck_assert_str_eq(cfg->mqtt.client_id, "barn-3");
	ck_assert_int_eq(cfg->mqtt.protocol, FG_MQTT_V5);
	ck_assert_uint_eq(cfg->mqtt.keepalive_s, 120);
	ck_assert_uint_eq(cfg->mqtt.session_expiry_s, 12 * 3600);
	ck_assert_str_eq(cfg->mqtt.username, "barn-3");
	ck_assert_str_eq(cfg->mqtt.password, "not-a-real-secret");
	ck_assert_int_eq(cfg->mqtt.qos, 2);
	ck_assert_uint_eq(cfg->mqtt.max_inflight, 20);
	ck_assert_str_eq(cfg->mqtt.topic, "farm/{gateway}/{source}/{device}/{quantity}");
	ck_assert_uint_eq(cfg->mqtt.message_expiry_s, 3600);
	ck_assert(cfg->mqtt.tls);
	ck_assert_str_eq(cfg->mqtt.ca_file, "/etc/ssl/certs/ca-certificates.crt");
	ck_assert_str_eq(cfg->mqtt.ca_path, "/etc/ssl/certs");
	ck_assert_str_eq(cfg->mqtt.cert_file, "/etc/fieldgate/client.crt");
	ck_assert_str_eq(cfg->mqtt.key_file, "/etc/fieldgate/client.key");
	ck_assert_str_eq(cfg->mqtt.alpn, "mqtt");
	ck_assert(!cfg->mqtt.tls_insecure);
	ck_assert(cfg->sources.sim.enabled);
	ck_assert_uint_eq(cfg->sources.sim.devices, 12);
	ck_assert_uint_eq(cfg->sources.sim.interval_ms, 500);
	ck_assert_uint_eq(cfg->sources.sim.seed, 42);
	ck_assert_str_eq(cfg->sources.sim.name_prefix, "test-");
	ck_assert_uint_eq(cfg->lorawan.sub_band, 4);
	ck_assert_uint_eq(cfg->sources.sx130x.sub_band, 4);
	ck_assert_uint_eq(cfg->lorawan.confirmed_retries, 0);
	ck_assert(cfg->commands.enabled);
	ck_assert_str_eq(cfg->commands.topic, "farm/{gateway}/do/");
	ck_assert_str_eq(cfg->commands.event_topic, "farm/{gateway}/done");
	ck_assert(!cfg->commands.allow_insecure);
	ck_assert_uint_eq(cfg->commands.max_size, 8192);
	ck_assert_uint_eq(cfg->commands.max_queue_per_device, 4);
	ck_assert_uint_eq(cfg->commands.max_queued, 64);
	ck_assert_uint_eq(cfg->commands.keep_ids_s, 3600);
	ck_assert_uint_eq(cfg->commands.n_gpio, 1);
	ck_assert_str_eq(cfg->commands.gpio[0].name, "gate");
	ck_assert_uint_eq(cfg->commands.gpio[0].line, 22);
	ck_assert_int_eq(cfg->commands.gpio[0].initial, 1);
	ck_assert_uint_eq(cfg->commands.gpio[0].max_pulse_ms, 2000);
	free(text);
}
END_TEST

START_TEST(config_accepts_zero_max_age_as_unlimited)
{
	ck_assert_int_eq(load("buffer = { max_age = 0; };\n"), 0);
	ck_assert_uint_eq(cfg->buffer.max_age_s, 0);
}
END_TEST

START_TEST(config_accepts_size_units)
{
	ck_assert_int_eq(load("buffer = { max_bytes = \"1G\"; };\n"), 0);
	ck_assert_uint_eq(cfg->buffer.max_bytes, 1ULL << 30);
}
END_TEST

START_TEST(config_accepts_int64_literals)
{
	ck_assert_int_eq(load("buffer = { max_rows = 5000000L; max_bytes = 3221225472L; };\n"), 0);
	ck_assert_uint_eq(cfg->buffer.max_rows, 5000000);
	ck_assert_uint_eq(cfg->buffer.max_bytes, 3ULL << 30);
}
END_TEST

START_TEST(config_reads_large_integers_as_written)
{
	/* libconfig 1.5 would silently turn these into 2^31 wrapped values. */
	ck_assert_int_eq(load("buffer = { max_bytes = 2147483648; };\n"
			      "sources = { sim = { seed = 18446744073709551615; }; };\n"),
			 0);
	ck_assert_uint_eq(cfg->buffer.max_bytes, 2ULL << 30);
	ck_assert_uint_eq(cfg->sources.sim.seed, UINT64_MAX);
}
END_TEST

START_TEST(config_rejects_wrapped_integer_with_its_written_value)
{
	/* 4294968179 wraps to 883 in libconfig 1.5, a valid port. */
	assert_only_error(
		load("mqtt = { port = 4294968179; };\n"),
		"fieldgate.conf:1: mqtt.port: expected an integer 1..65535, got 4294968179");
}
END_TEST

START_TEST(config_rejects_negative_integer)
{
	assert_only_error(
		load("mqtt = { max_inflight = -1; };\n"),
		"fieldgate.conf:1: mqtt.max_inflight: expected an integer 1..65535, got -1");
}
END_TEST

START_TEST(config_accepts_log_level_names)
{
	ck_assert_int_eq(load("gateway = { log_level = \"debug\"; };\n"), 0);
	ck_assert_int_eq(cfg->gateway.log_level, LOG_DEBUG);
}
END_TEST

START_TEST(config_reads_included_file_next_to_the_config)
{
	char *path;

	free(write_file("extra.conf", "mqtt = { host = \"included.example\"; };\n", 0600));
	path = write_file("main.conf", "@include \"extra.conf\"\n", 0600);
	ck_assert_int_eq(fg_config_load(path, &cfg, &diags), 0);
	ck_assert_str_eq(cfg->mqtt.host, "included.example");
	free(path);
}
END_TEST

/* ---------------------------------------------------------------- mqtt cross-checks */

START_TEST(config_port_defaults_to_8883_with_tls)
{
	ck_assert_int_eq(load("mqtt = { ca_file = \"/etc/ssl/certs/ca-certificates.crt\"; };\n"),
			 0);
	ck_assert(cfg->mqtt.tls);
	ck_assert_uint_eq(cfg->mqtt.port, 8883);
}
END_TEST

START_TEST(config_explicit_port_stays_with_tls)
{
	ck_assert_int_eq(load("mqtt = { tls = true; port = 443; alpn = \"mqtt\"; };\n"), 0);
	ck_assert(cfg->mqtt.tls);
	ck_assert_uint_eq(cfg->mqtt.port, 443);
}
END_TEST

START_TEST(config_rejects_cert_file_without_key_file)
{
	assert_only_error(
		load("mqtt = {\n\tcert_file = \"/etc/fieldgate/client.crt\";\n};\n"),
		"fieldgate.conf:2: mqtt.cert_file: is set without mqtt.key_file; a client "
		"certificate needs its private key");
}
END_TEST

START_TEST(config_accepts_cert_file_with_key_file)
{
	ck_assert_int_eq(load("mqtt = { cert_file = \"/etc/fieldgate/client.crt\";\n"
			      "\tkey_file = \"/etc/fieldgate/client.key\"; };\n"),
			 0);
	ck_assert(cfg->mqtt.tls);
	ck_assert_str_eq(cfg->mqtt.key_file, "/etc/fieldgate/client.key");
}
END_TEST

START_TEST(config_rejects_tls_off_with_tls_settings)
{
	assert_only_error(
		load("mqtt = {\n\ttls = false;\n\tca_path = \"/etc/ssl/certs\";\n};\n"),
		"fieldgate.conf:2: mqtt.tls: is false, but mqtt.ca_path is set; remove one "
		"of them");
}
END_TEST

START_TEST(config_rejects_topic_with_unknown_placeholder)
{
	assert_only_error(load("mqtt = { topic = \"site/{gateway}/{sensor}\"; };\n"),
			  "fieldgate.conf:1: mqtt.topic: expected a topic such as "
			  "'fieldgate/{gateway}/{source}/{device}', got 'site/{gateway}/{sensor}' "
			  "(unknown placeholder '{sensor}'; use {gateway}, {source}, {device}, "
			  "{name} or {quantity})");
}
END_TEST

START_TEST(config_rejects_topic_with_wildcard)
{
	assert_only_error(
		load("mqtt = { topic = \"site/+/{device}\"; };\n"),
		"fieldgate.conf:1: mqtt.topic: expected a topic such as "
		"'fieldgate/{gateway}/{source}/{device}', got 'site/+/{device}' (the MQTT "
		"wildcard '+' is not allowed)");
}
END_TEST

START_TEST(config_accepts_topic_with_every_placeholder)
{
	ck_assert_int_eq(
		load("mqtt = { topic = \"a/{gateway}/{source}/{device}/{name}/{quantity}\"; "
		     "};\n"),
		0);
	ck_assert_str_eq(cfg->mqtt.topic, "a/{gateway}/{source}/{device}/{name}/{quantity}");
}
END_TEST

START_TEST(config_rejects_password_without_username_on_v311)
{
	assert_only_error(
		load("mqtt = {\n\tpassword = \"pw\";\n};\n"),
		"fieldgate.conf:2: mqtt.password: is set without mqtt.username; MQTT 3.1.1 "
		"sends a password only with a user name");
}
END_TEST

START_TEST(config_warns_about_v5_settings_with_v311)
{
	ck_assert_int_eq(load("mqtt = {\n\tmessage_expiry = \"1h\";\n};\n"), 0);
	ck_assert_uint_eq(diags.n, 1);
	assert_diag(0,
		    "fieldgate.conf:2: warning: mqtt.message_expiry: only used with mqtt.protocol "
		    "\"v5\"; ignored with v311");
}
END_TEST

START_TEST(config_warns_about_tls_insecure)
{
	ck_assert_int_eq(load("mqtt = { tls_insecure = true; };\n"), 0);
	ck_assert(cfg->mqtt.tls);
	ck_assert_uint_eq(fg_diags_count(&diags, FG_DIAG_WARNING), 1);
}
END_TEST

/* ---------------------------------------------------------------- secrets */

START_TEST(config_reads_password_file_without_trailing_newline)
{
	char *pw = write_file("mqtt.password", "s3cret\n", 0600);
	char *text;

	ck_assert_int_ge(
		asprintf(&text, "mqtt = { username = \"gw\"; password_file = \"%s\"; };\n", pw), 0);
	ck_assert_int_eq(load(text), 0);
	ck_assert_uint_eq(diags.n, 0);
	ck_assert_str_eq(cfg->mqtt.password, "s3cret");
	free(text);
	free(pw);
}
END_TEST

START_TEST(config_drops_only_one_trailing_newline_of_secret)
{
	char *pw = write_file("mqtt.password", "two\n\n", 0600);
	char *text;

	ck_assert_int_ge(
		asprintf(&text, "mqtt = { username = \"gw\"; password_file = \"%s\"; };\n", pw), 0);
	ck_assert_int_eq(load(text), 0);
	ck_assert_str_eq(cfg->mqtt.password, "two\n");
	free(text);
	free(pw);
}
END_TEST

START_TEST(config_reads_password_from_credential)
{
	free(write_file("mqtt-password", "from-systemd\n", 0600));
	ck_assert_int_eq(setenv("CREDENTIALS_DIRECTORY", tmpdir, 1), 0);
	ck_assert_int_eq(
		load("mqtt = { username = \"gw\"; password_credential = \"mqtt-password\"; "
		     "};\n"),
		0);
	ck_assert_uint_eq(diags.n, 0);
	ck_assert_str_eq(cfg->mqtt.password, "from-systemd");
}
END_TEST

START_TEST(config_rejects_credential_without_credentials_directory)
{
	assert_only_error(
		load("mqtt = {\n\tusername = \"gw\";\n"
		     "\tpassword_credential = \"mqtt-password\";\n};\n"),
		"fieldgate.conf:3: mqtt.password_credential: $CREDENTIALS_DIRECTORY is not "
		"set; credentials come from systemd (LoadCredential= or SetCredential= in "
		"the unit)");
}
END_TEST

START_TEST(config_rejects_credential_name_with_slash)
{
	ck_assert_int_eq(setenv("CREDENTIALS_DIRECTORY", tmpdir, 1), 0);
	assert_only_error(load("mqtt = { username = \"gw\"; password_credential = \"../x\"; };\n"),
			  "fieldgate.conf:1: mqtt.password_credential: expected a credential name "
			  "without '/', got '../x'");
}
END_TEST

START_TEST(config_rejects_password_given_twice)
{
	char *pw = write_file("mqtt.password", "s3cret\n", 0600);
	char *text;

	ck_assert_int_ge(asprintf(&text,
				  "mqtt = {\n\tusername = \"gw\";\n\tpassword = \"inline\";\n"
				  "\tpassword_file = \"%s\";\n};\n",
				  pw),
			 0);
	assert_only_error(load(text),
			  "fieldgate.conf:4: mqtt.password_file: cannot be combined with "
			  "mqtt.password (line 3); give the secret one way only");
	free(text);
	free(pw);
}
END_TEST

START_TEST(config_warns_about_literal_password_in_world_readable_file)
{
	char *path = write_file(
		"fg.conf", "mqtt = {\n\tusername = \"gw\";\n\tpassword = \"inline\";\n};\n", 0644);
	char *expected;

	ck_assert_int_eq(fg_config_load(path, &cfg, &diags), 0);
	ck_assert_str_eq(cfg->mqtt.password, "inline");
	ck_assert_uint_eq(diags.n, 1);
	ck_assert_int_ge(
		asprintf(&expected,
			 "%s:3: warning: mqtt.password: file is readable by other users; move "
			 "the secret to mqtt.password_file or a systemd credential, or chmod o-r",
			 path),
		0);
	assert_diag(0, expected);
	free(expected);
	free(path);
}
END_TEST

START_TEST(config_accepts_literal_password_in_private_file)
{
	char *path = write_file("fg.conf",
				"mqtt = { username = \"gw\"; password = \"inline\"; };\n", 0640);

	ck_assert_int_eq(fg_config_load(path, &cfg, &diags), 0);
	ck_assert_uint_eq(diags.n, 0);
	free(path);
}
END_TEST

START_TEST(config_rejects_missing_secret_file_naming_path)
{
	char *pw = tmp_path("absent.password");
	char *text, *expected;

	ck_assert_int_ge(asprintf(&text,
				  "mqtt = {\n\tusername = \"gw\";\n\tpassword_file = \"%s\";\n};\n",
				  pw),
			 0);
	ck_assert_int_ge(asprintf(&expected,
				  "fieldgate.conf:3: mqtt.password_file: cannot read '%s': %s", pw,
				  strerror(ENOENT)),
			 0);
	assert_only_error(load(text), expected);
	free(expected);
	free(text);
	free(pw);
}
END_TEST

START_TEST(config_rejects_oversized_secret_file)
{
	char big[FG_CONFIG_SECRET_MAX + 2];
	char *pw, *text, *expected;

	memset(big, 'x', FG_CONFIG_SECRET_MAX + 1);
	big[FG_CONFIG_SECRET_MAX + 1] = '\0';
	pw = write_file("big.password", big, 0600);
	ck_assert_int_ge(
		asprintf(&text, "mqtt = { username = \"gw\"; password_file = \"%s\"; };\n", pw), 0);
	ck_assert_int_ge(
		asprintf(&expected,
			 "fieldgate.conf:1: mqtt.password_file: '%s' is longer than 4096 bytes",
			 pw),
		0);
	assert_only_error(load(text), expected);
	free(expected);
	free(text);
	free(pw);
}
END_TEST

START_TEST(config_never_echoes_a_secret)
{
	assert_only_error(load("mqtt = { username = \"gw\"; password = 271828; };\n"),
			  "fieldgate.conf:1: mqtt.password: expected a non-empty secret of at most "
			  "4096 bytes, got an integer");
}
END_TEST

/* ---------------------------------------------------------------- diagnostics */

START_TEST(diag_format_leaves_out_what_is_missing)
{
	struct fg_diags d = { 0 };
	const char *expected[] = {
		"a.conf:7: mqtt.port: m1",	     "a.conf: m2", "a.conf:3: m3",
		"a.conf:4: warning: gateway.id: m4", "m5",
	};

	ck_assert_int_eq(fg_diags_add(&d, FG_DIAG_ERROR, "a.conf", 7, "mqtt.port", "m%d", 1), 0);
	ck_assert_int_eq(fg_diags_add(&d, FG_DIAG_ERROR, "a.conf", 0, NULL, "m%d", 2), 0);
	ck_assert_int_eq(fg_diags_add(&d, FG_DIAG_ERROR, "a.conf", 3, NULL, "m%d", 3), 0);
	ck_assert_int_eq(fg_diags_add(&d, FG_DIAG_WARNING, "a.conf", 4, "gateway.id", "m%d", 4), 0);
	ck_assert_int_eq(fg_diags_add(&d, FG_DIAG_ERROR, NULL, 0, NULL, "m%d", 5), 0);
	ck_assert_uint_eq(d.n, 5);
	for (size_t i = 0; i < d.n; i++) {
		char *s = fg_diag_format(&d.v[i]);

		ck_assert_str_eq(s, expected[i]);
		free(s);
	}
	ck_assert_uint_eq(fg_diags_count(&d, FG_DIAG_ERROR), 4);
	ck_assert_uint_eq(fg_diags_count(&d, FG_DIAG_WARNING), 1);
	fg_diags_clear(&d);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_ptr_null(d.v);
}
END_TEST

START_TEST(diags_print_writes_one_line_each)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(load("mqtt = { qos = 7; prot = 1; };\n"), -EINVAL);
	fg_diags_print(&diags, f);
	fclose(f);
	ck_assert_str_eq(
		buf, "fieldgate.conf:1: mqtt.qos: expected an integer 0..2, got 7\n"
		     "fieldgate.conf:1: mqtt.prot: unknown setting, did you mean 'mqtt.port'?\n");
	free(buf);
}
END_TEST

/* ---------------------------------------------------------------- sources.sx130x */

START_TEST(config_sx130x_defaults_leave_the_rest_to_the_board)
{
	const struct fg_sx130x_config *x;

	ck_assert_int_eq(load("lorawan = { region = \"US915\"; };\n"), 0);
	x = &cfg->sources.sx130x;
	ck_assert(!x->enabled);
	ck_assert_str_eq(x->spi, "/dev/spidev0.0");
	ck_assert_int_eq(x->board, FG_SX130X_BOARD_NONE);
	ck_assert_ptr_null(x->reset_gpio);
	ck_assert_ptr_null(x->power_gpio);
	ck_assert_uint_eq(x->sub_band, 2);
	ck_assert_uint_eq(x->stat_interval_s, 60);
	ck_assert(fabs(x->rssi_offset - -215.4) < 1e-9);
	ck_assert(x->antenna_gain == 0);
	ck_assert_uint_eq(x->n_channels, 0);
	ck_assert(!x->has_chip && !x->has_clock_source && !x->has_radio_type && !x->has_region &&
		  !x->has_sub_band && !x->has_rssi_offset);
	/* Not given: the concentrator's region is lorawan.region. */
	ck_assert_int_eq(x->region, FG_LW_US915);
	ck_assert_int_eq(x->line, 0);
}
END_TEST

START_TEST(config_sx130x_loads_settings_and_channels)
{
	const struct fg_sx130x_config *x;

	ck_assert_int_eq(load("sources = { sx130x = {\n"
			      "  enabled = true; board = \"rak2245\"; chip = \"sx1301\";\n"
			      "  reset_gpio = \"gpiochip4:22\"; power_gpio = \"none\";\n"
			      "  clock_source = 0; radio_type = \"sx1255\"; region = \"AU915\";\n"
			      "  sub_band = 3; radio_0_freq = 916800000; rssi_offset = -166;\n"
			      "  antenna_gain = 2.5; stat_interval = \"5m\";\n"
			      "  channels = ( { channel = 3; enable = false; },\n"
			      "               { channel = \"lora_std\"; sf = 8; bandwidth = 500000;\n"
			      "                 radio = 1; if = -300000; },\n"
			      "               { channel = \"fsk\"; datarate = 50000; bandwidth = 125000; } );\n"
			      "}; };\n"),
			 0);
	ck_assert_uint_eq(diags.n, 0);
	x = &cfg->sources.sx130x;
	ck_assert(x->enabled);
	ck_assert_int_eq(x->line, 2);
	ck_assert_int_eq(x->board, FG_SX130X_BOARD_RAK2245);
	ck_assert(x->has_chip);
	ck_assert_int_eq(x->chip, FG_SX130X_SX1301);
	ck_assert_str_eq(x->reset_gpio, "gpiochip4:22");
	ck_assert_str_eq(x->power_gpio, "none");
	ck_assert(x->has_clock_source && x->clock_source == 0);
	ck_assert(x->has_radio_type && x->radio_type == FG_SX130X_RADIO_SX1255);
	ck_assert(x->has_region && x->region == FG_LW_AU915);
	ck_assert(x->has_sub_band && x->sub_band == 3);
	ck_assert_uint_eq(x->radio_0_freq, 916800000);
	ck_assert(x->has_rssi_offset && x->rssi_offset == -166);
	ck_assert(x->antenna_gain == 2.5);
	ck_assert_uint_eq(x->stat_interval_s, 300);
	ck_assert_uint_eq(x->n_channels, 3);
	ck_assert_uint_eq(x->channels[0].chain, 3);
	ck_assert(x->channels[0].has_enable && !x->channels[0].enable);
	ck_assert(!x->channels[0].has_radio && !x->channels[0].has_if);
	ck_assert_uint_eq(x->channels[1].chain, FG_SX130X_CHAIN_LORA_STD);
	ck_assert(x->channels[1].has_sf && x->channels[1].sf == 8);
	ck_assert(x->channels[1].has_bandwidth && x->channels[1].bw_hz == 500000);
	ck_assert(x->channels[1].has_radio && x->channels[1].radio == 1);
	ck_assert(x->channels[1].has_if && x->channels[1].if_hz == -300000);
	ck_assert_uint_eq(x->channels[2].chain, FG_SX130X_CHAIN_FSK);
	ck_assert(x->channels[2].has_datarate && x->channels[2].bps == 50000);
	ck_assert_int_eq(x->channels[2].line, 10);
}
END_TEST

START_TEST(config_sx130x_mistakes_are_named)
{
	ck_assert_int_eq(load("sources = { sx130x = {\n"
			      "  reset_gpio = \"gpiochip0:17:3\";\n"
			      "  power_gpio = \"../x:1\";\n"
			      "  rssi_offset = \"-215\";\n"
			      "  antenna_gain = 31.5;\n"
			      "  board = \"rak2288\";\n"
			      "  channels = ( { channel = 8; }, { channel = 1; sf = 7; if = 900000; },\n"
			      "               { channel = 2; enable = false; }, { channel = 2; },\n"
			      "               { enable = true; colour = 1; } );\n"
			      "}; };\n"),
			 -EINVAL);
	assert_diag(0, "fieldgate.conf:2: sources.sx130x.reset_gpio: expected \"CHIP:LINE\" "
		       "(e.g. \"gpiochip0:17\"), a line number on gpiochip0, or \"none\", got "
		       "'gpiochip0:17:3'");
	assert_diag(1, "fieldgate.conf:3: sources.sx130x.power_gpio: expected \"CHIP:LINE\" "
		       "(e.g. \"gpiochip0:18\"), a line number on gpiochip0, or \"none\", got "
		       "'../x:1'");
	assert_diag(2, "fieldgate.conf:4: sources.sx130x.rssi_offset: expected a number "
		       "-300..300, got a string '-215'");
	assert_diag(3, "fieldgate.conf:5: sources.sx130x.antenna_gain: expected a number -20..30, "
		       "got 31.5");
	assert_diag(4, "fieldgate.conf:6: sources.sx130x.board: expected one of none, rak2245, "
		       "rak2287, rak5146, wm1302, ic880a, corecell, got 'rak2288'");
	assert_diag(5, "fieldgate.conf:7: sources.sx130x.channels: entry 1: 'channel': expected "
		       "0..7 (the multi-SF channels), \"lora_std\" or \"fsk\"");
	assert_diag(6, "fieldgate.conf:7: sources.sx130x.channels: channel 1: 'if': expected an "
		       "integer -800000..800000");
	assert_diag(7, "fieldgate.conf:7: sources.sx130x.channels: channel 1: 'sf' is only for "
		       "\"lora_std\" (the multi-SF channels hear SF5..SF12)");
	assert_diag(8, "fieldgate.conf:8: sources.sx130x.channels: channel 2 is set twice (line 8)");
	assert_diag(9, "fieldgate.conf:9: sources.sx130x.channels: unknown member 'colour'");
	assert_diag(10, "fieldgate.conf:9: sources.sx130x.channels: entry 5: 'channel' is missing "
			"(0..7, \"lora_std\" or \"fsk\")");
	ck_assert_uint_eq(diags.n, 11);
}
END_TEST

/* ---------------------------------------------------------------- commands */

/* An MQTT connection commands are allowed over: TLS and a password. */
#define SECURE_MQTT "mqtt = { tls = true; username = \"gw\"; password = \"pw\"; };\n"

START_TEST(config_commands_defaults)
{
	struct fg_config *def = NULL;

	ck_assert_int_eq(load(""), 0);
	ck_assert_uint_eq(diags.n, 0);
	ck_assert(!cfg->commands.enabled);
	ck_assert_str_eq(cfg->commands.topic, "fieldgate/{gateway}/command/");
	ck_assert_str_eq(cfg->commands.event_topic, "fieldgate/{gateway}/event/command");
	ck_assert(!cfg->commands.allow_insecure);
	ck_assert_uint_eq(cfg->commands.max_size, 4096);
	ck_assert_uint_eq(cfg->commands.max_queue_per_device, 16);
	ck_assert_uint_eq(cfg->commands.max_queued, 1024);
	ck_assert_uint_eq(cfg->commands.keep_ids_s, 604800);
	ck_assert_ptr_null(cfg->commands.gpio);
	ck_assert_uint_eq(cfg->commands.n_gpio, 0);
	ck_assert_int_eq(cfg->commands.line, 0);
	ck_assert_uint_eq(cfg->lorawan.sub_band, 2);
	ck_assert_uint_eq(cfg->lorawan.confirmed_retries, 3);
	ck_assert_uint_eq(cfg->sources.sx130x.sub_band, 2);
	ck_assert(!cfg->sources.sx130x.has_sub_band);

	ck_assert_int_eq(fg_config_new_default(&def), 0);
	ck_assert(!def->commands.enabled);
	ck_assert_str_eq(def->commands.topic, cfg->commands.topic);
	ck_assert_str_eq(def->commands.event_topic, cfg->commands.event_topic);
	ck_assert_uint_eq(def->commands.max_size, 4096);
	ck_assert_uint_eq(def->commands.keep_ids_s, 604800);
	ck_assert_uint_eq(def->lorawan.sub_band, 2);
	ck_assert_uint_eq(def->lorawan.confirmed_retries, 3);
	ck_assert_uint_eq(def->sources.sx130x.sub_band, 2);
	fg_config_free(def);
}
END_TEST

START_TEST(config_commands_loads_every_setting)
{
	ck_assert_int_eq(load(SECURE_MQTT
			      "commands = {\n"
			      "  enabled = true;\n"
			      "  topic = \"site/{gateway}/cmd/\";\n"
			      "  event_topic = \"site/{gateway}/outcomes\";\n"
			      "  allow_insecure = false;\n"
			      "  max_size = \"64K\";\n"
			      "  max_queue_per_device = 1000;\n"
			      "  max_queued = 100000;\n"
			      "  keep_ids_s = 60;\n"
			      "  gpio = ( { name = \"valve\"; chip = \"/dev/gpiochip0\"; line = 17;\n"
			      "             initial = 1; max_pulse_ms = 3600000; },\n"
			      "           { chip = \"sim\"; line = 0; },\n"
			      "           { chip = \"2\"; line = 1023; max_pulse_ms = 1; } );\n"
			      "};\n"
			      "lorawan = { sub_band = 8; confirmed_retries = 15; };\n"),
			 0);
	fg_diags_print(&diags, stderr);
	ck_assert_uint_eq(diags.n, 0);
	ck_assert(cfg->commands.enabled);
	ck_assert_int_eq(cfg->commands.line, 3);
	ck_assert_str_eq(cfg->commands.topic, "site/{gateway}/cmd/");
	ck_assert_str_eq(cfg->commands.event_topic, "site/{gateway}/outcomes");
	ck_assert_uint_eq(cfg->commands.max_size, 65536);
	ck_assert_uint_eq(cfg->commands.max_queue_per_device, 1000);
	ck_assert_uint_eq(cfg->commands.max_queued, 100000);
	ck_assert_uint_eq(cfg->commands.keep_ids_s, 60);
	ck_assert_uint_eq(cfg->commands.n_gpio, 3);
	/* Chips are kept in one spelling, so a command's "gpiochip0" finds "/dev/gpiochip0". */
	ck_assert_str_eq(cfg->commands.gpio[0].name, "valve");
	ck_assert_str_eq(cfg->commands.gpio[0].chip, "gpiochip0");
	ck_assert_uint_eq(cfg->commands.gpio[0].line, 17);
	ck_assert_int_eq(cfg->commands.gpio[0].initial, 1);
	ck_assert_uint_eq(cfg->commands.gpio[0].max_pulse_ms, 3600000);
	ck_assert_int_eq(cfg->commands.gpio[0].line_no, 11);
	ck_assert_ptr_null(cfg->commands.gpio[1].name);
	ck_assert_str_eq(cfg->commands.gpio[1].chip, "sim");
	ck_assert_uint_eq(cfg->commands.gpio[1].line, 0);
	ck_assert_int_eq(cfg->commands.gpio[1].initial, 0);
	ck_assert_uint_eq(cfg->commands.gpio[1].max_pulse_ms, 60000);
	ck_assert_str_eq(cfg->commands.gpio[2].chip, "gpiochip2");
	ck_assert_uint_eq(cfg->commands.gpio[2].line, 1023);
	ck_assert_uint_eq(cfg->commands.gpio[2].max_pulse_ms, 1);
	ck_assert_uint_eq(cfg->lorawan.sub_band, 8);
	ck_assert_uint_eq(cfg->lorawan.confirmed_retries, 15);
}
END_TEST

START_TEST(config_commands_ranges_are_checked)
{
	ck_assert_int_eq(load("commands = {\n"
			      "  max_size = 255;\n"
			      "  max_queue_per_device = 0;\n"
			      "  max_queued = 100001;\n"
			      "  keep_ids_s = 59;\n"
			      "};\n"
			      "lorawan = { sub_band = 9; confirmed_retries = 16; };\n"),
			 -EINVAL);
	fg_diags_print(&diags, stderr);
	assert_diag(0, "fieldgate.conf:2: commands.max_size: expected a size 256..64K, got 255 "
		       "bytes");
	assert_diag(1, "fieldgate.conf:3: commands.max_queue_per_device: expected an integer "
		       "1..1000, got 0");
	assert_diag(2, "fieldgate.conf:4: commands.max_queued: expected an integer 1..100000, got "
		       "100001");
	assert_diag(3, "fieldgate.conf:5: commands.keep_ids_s: expected an integer 60..31536000, "
		       "got 59");
	assert_diag(4, "fieldgate.conf:7: lorawan.sub_band: expected an integer 1..8, got 9");
	assert_diag(5, "fieldgate.conf:7: lorawan.confirmed_retries: expected an integer 0..15, "
		       "got 16");
	ck_assert_uint_eq(diags.n, 6);
	ck_assert_ptr_null(cfg);
}
END_TEST

START_TEST(config_commands_upper_bounds_are_checked)
{
	ck_assert_int_eq(load("commands = {\n"
			      "  max_size = 65537;\n"
			      "  max_queue_per_device = 1001;\n"
			      "  max_queued = 0;\n"
			      "  keep_ids_s = 31536001;\n"
			      "};\n"
			      "lorawan = { sub_band = 0; confirmed_retries = -1; };\n"),
			 -EINVAL);
	assert_diag(0, "fieldgate.conf:2: commands.max_size: expected a size 256..64K, got 65537 "
		       "bytes");
	assert_diag(1, "fieldgate.conf:3: commands.max_queue_per_device: expected an integer "
		       "1..1000, got 1001");
	assert_diag(2, "fieldgate.conf:4: commands.max_queued: expected an integer 1..100000, got "
		       "0");
	assert_diag(3, "fieldgate.conf:5: commands.keep_ids_s: expected an integer 60..31536000, "
		       "got 31536001");
	assert_diag(4, "fieldgate.conf:7: lorawan.sub_band: expected an integer 1..8, got 0");
	assert_diag(5, "fieldgate.conf:7: lorawan.confirmed_retries: expected an integer 0..15, "
		       "got -1");
	ck_assert_uint_eq(diags.n, 6);
}
END_TEST

START_TEST(config_commands_refused_without_tls_or_credentials)
{
	/* Neither: the default connection to localhost:1883. */
	assert_only_error(load("commands = { enabled = true; };\n"),
			  "fieldgate.conf:1: commands.enabled: the MQTT connection has neither TLS "
			  "(mqtt.tls) nor credentials (mqtt.password or mqtt.cert_file): anyone "
			  "who can publish on the command topics could actuate devices; configure "
			  "TLS and a password or client certificate, or set "
			  "commands.allow_insecure = true");
	fg_diags_clear(&diags);

	/* A password in the clear. */
	assert_only_error(load("mqtt = { username = \"gw\"; password = \"pw\"; };\n"
			       "commands = { enabled = true; };\n"),
			  "fieldgate.conf:2: commands.enabled: the MQTT connection has no TLS "
			  "(mqtt.tls): anyone who can publish on the command topics could actuate "
			  "devices; configure TLS and a password or client certificate, or set "
			  "commands.allow_insecure = true");
	fg_diags_clear(&diags);

	/* TLS, but anyone may log in. A user name alone is no credential. */
	assert_only_error(load("mqtt = { tls = true; username = \"gw\"; };\n"
			       "commands = { enabled = true; };\n"),
			  "fieldgate.conf:2: commands.enabled: the MQTT connection has no "
			  "credentials (mqtt.password or mqtt.cert_file): anyone who can publish "
			  "on the command topics could actuate devices; configure TLS and a "
			  "password or client certificate, or set commands.allow_insecure = true");
	fg_diags_clear(&diags);

	/* TLS, but the CA file alone: still no credentials. */
	ck_assert_int_eq(load("mqtt = { ca_file = \"/etc/ssl/certs/ca.pem\"; };\n"
			      "commands = { enabled = true; };\n"),
			 -EINVAL);
	ck_assert_uint_eq(diags.n, 1);
}
END_TEST

START_TEST(config_commands_allow_insecure_turns_the_refusal_into_a_warning)
{
	ck_assert_int_eq(load("commands = { enabled = true; allow_insecure = true; };\n"), 0);
	ck_assert_uint_eq(diags.n, 1);
	ck_assert_int_eq(diags.v[0].severity, FG_DIAG_WARNING);
	assert_diag(0, "fieldgate.conf:1: warning: commands.enabled: the MQTT connection has "
		       "neither TLS (mqtt.tls) nor credentials (mqtt.password or mqtt.cert_file), "
		       "and commands.allow_insecure is true: anyone who can publish on the command "
		       "topics can actuate devices");
	ck_assert(cfg->commands.enabled);
	ck_assert(cfg->commands.allow_insecure);
}
END_TEST

START_TEST(config_commands_accepted_with_tls_and_credentials)
{
	/* TLS and a password. */
	ck_assert_int_eq(load(SECURE_MQTT "commands = { enabled = true; };\n"), 0);
	ck_assert_uint_eq(diags.n, 0);
	ck_assert(cfg->commands.enabled);
	fg_config_free(cfg);
	cfg = NULL;

	/* TLS and a client certificate (which turns TLS on by itself). */
	ck_assert_int_eq(load("mqtt = { cert_file = \"/etc/fieldgate/client.crt\";\n"
			      "         key_file = \"/etc/fieldgate/client.key\"; };\n"
			      "commands = { enabled = true; };\n"),
			 0);
	ck_assert_uint_eq(diags.n, 0);
	ck_assert(cfg->mqtt.tls);
	fg_config_free(cfg);
	cfg = NULL;

	/* A password from a file counts as one. */
	free(write_file("pw", "secret\n", 0600));
	{
		char *text;

		ck_assert_int_ge(asprintf(&text,
					  "mqtt = { tls = true; username = \"gw\"; "
					  "password_file = \"%s/pw\"; };\n"
					  "commands = { enabled = true; };\n",
					  tmpdir),
				 0);
		ck_assert_int_eq(load(text), 0);
		free(text);
	}
	ck_assert_uint_eq(diags.n, 0);

	/* Disabled commands need nothing. */
	fg_config_free(cfg);
	cfg = NULL;
	ck_assert_int_eq(load("commands = { enabled = false; };\n"), 0);
	ck_assert_uint_eq(diags.n, 0);
}
END_TEST

START_TEST(config_commands_topics_are_checked)
{
	ck_assert_int_eq(load("commands = {\n"
			      "  topic = \"fieldgate/{gateway}/command\";\n"
			      "  event_topic = \"fieldgate/{device}/event\";\n"
			      "};\n"),
			 -EINVAL);
	assert_diag(0, "fieldgate.conf:2: commands.topic: expected a topic prefix ending in '/' "
		       "such as 'fieldgate/{gateway}/command/', got 'fieldgate/{gateway}/command' "
		       "(it must end in '/')");
	assert_diag(1, "fieldgate.conf:3: commands.event_topic: expected a topic such as "
		       "'fieldgate/{gateway}/event/command', got 'fieldgate/{device}/event' (only "
		       "{gateway} may be used in the event topic)");
	fg_diags_clear(&diags);

	assert_only_error(load("commands = { topic = \"fieldgate/+/command/\"; };\n"),
			  "fieldgate.conf:1: commands.topic: expected a topic prefix ending in '/' "
			  "such as 'fieldgate/{gateway}/command/', got 'fieldgate/+/command/' (the "
			  "MQTT wildcard '+' is not allowed)");
	fg_diags_clear(&diags);
	assert_only_error(load("commands = { topic = \"fieldgate/{gateway}/#/\"; };\n"),
			  "fieldgate.conf:1: commands.topic: expected a topic prefix ending in '/' "
			  "such as 'fieldgate/{gateway}/command/', got 'fieldgate/{gateway}/#/' (the "
			  "MQTT wildcard '#' is not allowed)");
	fg_diags_clear(&diags);
	assert_only_error(load("commands = { topic = \"f/{device}/\"; };\n"),
			  "fieldgate.conf:1: commands.topic: expected a topic prefix ending in '/' "
			  "such as 'fieldgate/{gateway}/command/', got 'f/{device}/' (only {gateway} "
			  "may be used in the command topic)");
	fg_diags_clear(&diags);
	assert_only_error(load("commands = { event_topic = \"f/{gateway}/events/#\"; };\n"),
			  "fieldgate.conf:1: commands.event_topic: expected a topic such as "
			  "'fieldgate/{gateway}/event/command', got 'f/{gateway}/events/#' (the "
			  "MQTT wildcard '#' is not allowed)");
	fg_diags_clear(&diags);
	assert_only_error(load("commands = { event_topic = \"f/+/events\"; };\n"),
			  "fieldgate.conf:1: commands.event_topic: expected a topic such as "
			  "'fieldgate/{gateway}/event/command', got 'f/+/events' (the MQTT wildcard "
			  "'+' is not allowed)");
	fg_diags_clear(&diags);
	assert_only_error(load("commands = { topic = \"f/{gateway\"; };\n"),
			  "fieldgate.conf:1: commands.topic: expected a topic prefix ending in '/' "
			  "such as 'fieldgate/{gateway}/command/', got 'f/{gateway' ('{' without "
			  "'}')");
}
END_TEST

START_TEST(config_commands_event_topic_must_not_lie_under_topic)
{
	assert_only_error(load("gateway = { id = \"gw1\"; };\n"
			       "commands = { event_topic = \"fieldgate/{gateway}/command/outcome\"; "
			       "};\n"),
			  "fieldgate.conf:2: commands.event_topic: 'fieldgate/{gateway}/command/"
			  "outcome' lies under commands.topic 'fieldgate/{gateway}/command/': the "
			  "gateway would take its own outcomes for commands");
	fg_diags_clear(&diags);
	/* "p/#" matches "p" itself too. */
	ck_assert_int_eq(load("commands = { topic = \"a/{gateway}/\";\n"
			      "  event_topic = \"a/{gateway}\"; };\n"),
			 -EINVAL);
	ck_assert_uint_eq(diags.n, 1);
	ck_assert_str_eq(diags.v[0].setting, "commands.event_topic");
	ck_assert_int_eq(diags.v[0].line, 2);
	fg_diags_clear(&diags);
	/* The same after the gateway id is filled in. */
	ck_assert_int_eq(load("gateway = { id = \"gw1\"; };\n"
			      "commands = { topic = \"a/gw1/\";\n"
			      "  event_topic = \"a/{gateway}/x\"; };\n"),
			 -EINVAL);
	ck_assert_uint_eq(diags.n, 1);
	fg_diags_clear(&diags);
	/* Next to it is fine: "a/gw1/cmdx" is not under "a/gw1/cmd/". */
	ck_assert_int_eq(load("commands = { topic = \"a/{gateway}/cmd/\";\n"
			      "  event_topic = \"a/{gateway}/cmdx\"; };\n"),
			 0);
	ck_assert_uint_eq(diags.n, 0);
}
END_TEST

START_TEST(config_commands_own_publications_must_not_lie_under_topic)
{
	ck_assert_int_eq(load("mqtt = { tls = true; username = \"gw\"; password = \"pw\";\n"
			      "  stats_topic = \"fieldgate/{gateway}/command/stats\"; };\n"
			      "commands = { enabled = true; };\n"),
			 -EINVAL);
	ck_assert_uint_eq(diags.n, 1);
	assert_diag(0, "fieldgate.conf:2: mqtt.stats_topic: 'fieldgate/{gateway}/command/stats' "
		       "lies under commands.topic 'fieldgate/{gateway}/command/': the gateway "
		       "would take its health record for a command");
	fg_config_free(cfg);
	cfg = NULL;
	fg_diags_clear(&diags);
	/*
	 * A prefix above everything the gateway publishes: the outcomes, the
	 * health record, and the readings (their fixed part, before {source}).
	 */
	ck_assert_int_eq(load(SECURE_MQTT "commands = { enabled = true; topic = \"fieldgate/{gateway}/\"; };\n"),
			 -EINVAL);
	ck_assert_uint_eq(diags.n, 3);
	ck_assert_str_eq(diags.v[0].setting, "commands.event_topic");
	ck_assert_str_eq(diags.v[1].setting, "mqtt.stats_topic");
	ck_assert_str_eq(diags.v[2].setting, "mqtt.topic");
	ck_assert_int_eq(diags.v[2].line, 2); /* not in the file: where commands.topic is */
	fg_diags_clear(&diags);
	/* Commands off: nothing subscribes, nothing to refuse. */
	ck_assert_int_eq(load("mqtt = { stats_topic = \"fieldgate/{gateway}/command/stats\"; };\n"),
			 0);
	ck_assert_uint_eq(diags.n, 0);
}
END_TEST

START_TEST(config_commands_gpio_mistakes_are_named)
{
	ck_assert_int_eq(load("commands = { gpio = (\n"
			      "  { name = \"valve\"; line = 1; },\n"
			      "  { chip = \"/dev/sda\"; line = 1024; initial = 2; },\n"
			      "  { chip = \"sim\"; max_pulse_ms = 0; colour = 1; },\n"
			      "  { name = \"no spaces\"; chip = \"sim\"; line = 3; max_pulse_ms = 3600001; },\n"
			      "  7\n"
			      "); };\n"),
			 -EINVAL);
	fg_diags_print(&diags, stderr);
	assert_diag(0, "fieldgate.conf:2: commands.gpio: gpio 'valve': 'chip' is missing");
	assert_diag(1, "fieldgate.conf:3: commands.gpio: gpio #2: 'chip': expected gpiochipN, "
		       "/dev/gpiochipN, N (0..1023) or \"sim\"");
	assert_diag(2, "fieldgate.conf:3: commands.gpio: gpio #2: 'line': expected an integer "
		       "0..1023");
	assert_diag(3, "fieldgate.conf:3: commands.gpio: gpio #2: 'initial': expected an integer "
		       "0..1");
	assert_diag(4, "fieldgate.conf:4: commands.gpio: unknown member 'colour'");
	assert_diag(5, "fieldgate.conf:4: commands.gpio: gpio #3: 'line' is missing");
	assert_diag(6, "fieldgate.conf:4: commands.gpio: gpio #3: 'max_pulse_ms': expected an "
		       "integer 1..3600000");
	assert_diag(7, "fieldgate.conf:5: commands.gpio: gpio #4: 'name': expected 1..32 "
		       "characters from A-Z a-z 0-9 _ . -");
	assert_diag(8, "fieldgate.conf:5: commands.gpio: gpio #4: 'max_pulse_ms': expected an "
		       "integer 1..3600000");
	assert_diag(9, "fieldgate.conf:6: commands.gpio: gpio 5: expected a group { ... }");
	ck_assert_uint_eq(diags.n, 10);
	fg_diags_clear(&diags);
	assert_only_error(load("commands = { gpio = { chip = \"sim\"; line = 1; }; };\n"),
			  "fieldgate.conf:1: commands.gpio: expected a list of lines, ( { name = "
			  "...; chip = ...; line = ...; }, ... )");
}
END_TEST

START_TEST(config_commands_gpio_line_and_name_once)
{
	ck_assert_int_eq(load("commands = { gpio = (\n"
			      "  { name = \"valve\"; chip = \"gpiochip0\"; line = 17; },\n"
			      "  { name = \"pump\"; chip = \"/dev/gpiochip0\"; line = 17; },\n"
			      "  { name = \"valve\"; chip = \"sim\"; line = 17; },\n"
			      "  { chip = \"sim\"; line = 18; }\n"
			      "); };\n"),
			 -EINVAL);
	assert_diag(0, "fieldgate.conf:3: commands.gpio: gpio 'pump': line 17 of gpiochip0 is "
		       "declared twice (line 2)");
	assert_diag(1, "fieldgate.conf:4: commands.gpio: gpio name 'valve' is used twice (line 2)");
	ck_assert_uint_eq(diags.n, 2);
}
END_TEST

START_TEST(config_commands_gpio_line_of_a_rule_is_refused)
{
	/* The rule after the commands in the file, the chip spelt another way. */
	ck_assert_int_eq(load("commands = { gpio = ( { name = \"valve\"; chip = \"gpiochip0\";\n"
			      "  line = 27; }, { chip = \"sim\"; line = 27; } ); };\n"
			      "rules = ( { name = \"frost\"; match = \"*/temperature\";\n"
			      "  when = \"value < 0.5\"; gpio = { chip = \"0\"; line = 27; }; } );\n"),
			 -EINVAL);
	ck_assert_uint_eq(diags.n, 1);
	assert_diag(0, "fieldgate.conf:1: commands.gpio: gpio 'valve': line 27 of gpiochip0 is "
		       "driven by rule 'frost' (line 3); a line is either a rule's or the "
		       "commands'");
	fg_diags_clear(&diags);
	/* Another line of the same chip, or the same line of another chip, is fine. */
	ck_assert_int_eq(load("commands = { gpio = ( { chip = \"gpiochip0\"; line = 26; },\n"
			      "  { chip = \"gpiochip1\"; line = 27; } ); };\n"
			      "rules = ( { name = \"frost\"; match = \"*/temperature\";\n"
			      "  when = \"value < 0.5\"; gpio = { chip = \"0\"; line = 27; }; } );\n"),
			 0);
	ck_assert_uint_eq(diags.n, 0);
	fg_config_free(cfg);
	cfg = NULL;
	/* The sim chip too. */
	ck_assert_int_eq(load("rules = ( { name = \"r\"; match = \"*\"; when = \"value > 1\";\n"
			      "  gpio = { chip = \"sim\"; line = 4; }; } );\n"
			      "commands = { gpio = ( { chip = \"sim\"; line = 4; } ); };\n"),
			 -EINVAL);
	assert_diag(0, "fieldgate.conf:3: commands.gpio: gpio #1: line 4 of sim is driven by rule "
		       "'r' (line 1); a line is either a rule's or the commands'");
}
END_TEST

START_TEST(config_commands_gpio_line_of_the_concentrator_is_refused)
{
	ck_assert_int_eq(load("sources = { sx130x = { enabled = true; reset_gpio = \"gpiochip0:17\";\n"
			      "  power_gpio = \"18\"; }; };\n"
			      "commands = { gpio = ( { name = \"a\"; chip = \"/dev/gpiochip0\"; line = 17; },\n"
			      "  { name = \"b\"; chip = \"0\"; line = 18; },\n"
			      "  { name = \"c\"; chip = \"gpiochip0\"; line = 19; } ); };\n"),
			 -EINVAL);
	assert_diag(0, "fieldgate.conf:3: commands.gpio: gpio 'a': line 17 of gpiochip0 is the "
		       "concentrator's reset (sources.sx130x.reset_gpio)");
	assert_diag(1, "fieldgate.conf:4: commands.gpio: gpio 'b': line 18 of gpiochip0 is the "
		       "concentrator's power (sources.sx130x.power_gpio)");
	ck_assert_uint_eq(diags.n, 2);
	fg_diags_clear(&diags);
	/* A simulated concentrator line, too. */
	ck_assert_int_eq(load("sources = { sx130x = { enabled = true; reset_gpio = \"sim:5\"; }; };\n"
			      "commands = { gpio = ( { chip = \"sim\"; line = 5; } ); };\n"),
			 -EINVAL);
	ck_assert_uint_eq(diags.n, 1);
	ck_assert_str_eq(diags.v[0].setting, "commands.gpio");
	fg_diags_clear(&diags);
	/* "none" drives nothing; a disabled concentrator drives nothing. */
	ck_assert_int_eq(load("sources = { sx130x = { enabled = true; reset_gpio = \"none\"; }; };\n"
			      "commands = { gpio = ( { chip = \"gpiochip0\"; line = 17; } ); };\n"),
			 0);
	ck_assert_uint_eq(diags.n, 0);
	fg_config_free(cfg);
	cfg = NULL;
	ck_assert_int_eq(load("sources = { sx130x = { reset_gpio = \"17\"; }; };\n"
			      "commands = { gpio = ( { chip = \"gpiochip0\"; line = 17; } ); };\n"),
			 0);
	ck_assert_uint_eq(diags.n, 0);
}
END_TEST

START_TEST(config_device_class_and_downlink_budget)
{
	ck_assert_int_eq(load(DEVICE("class = \"c\"; max_downlinks_per_day = 10;")), 0);
	ck_assert_uint_eq(diags.n, 0);
	ck_assert(cfg->lorawan.devices[0].class_c);
	ck_assert_uint_eq(cfg->lorawan.devices[0].max_downlinks_per_day, 10);
	fg_config_free(cfg);
	cfg = NULL;
	ck_assert_int_eq(load(DEVICE("class = \"A\"; max_downlinks_per_day = 10000;")), 0);
	ck_assert(!cfg->lorawan.devices[0].class_c);
	ck_assert_uint_eq(cfg->lorawan.devices[0].max_downlinks_per_day, 10000);
	fg_config_free(cfg);
	cfg = NULL;
	ck_assert_int_eq(load(DEVICE("class = \"a\";")), 0);
	ck_assert(!cfg->lorawan.devices[0].class_c);
	fg_config_free(cfg);
	cfg = NULL;
	/* The defaults: class A, no budget. */
	ck_assert_int_eq(load(DEVICE("")), 0);
	ck_assert(!cfg->lorawan.devices[0].class_c);
	ck_assert_uint_eq(cfg->lorawan.devices[0].max_downlinks_per_day, 0);
	fg_config_free(cfg);
	cfg = NULL;
	/* OTAA devices can be class C too. */
	ck_assert_int_eq(load("lorawan = { devices = ( { name = \"door\"; dev_eui = "
			      "\"70B3D57ED0000042\";\n"
			      "  app_key = \"000102030405060708090A0B0C0D0E0F\"; class = \"C\"; } "
			      "); };\n"),
			 0);
	ck_assert_uint_eq(diags.n, 0);
	ck_assert(cfg->lorawan.devices[0].otaa);
	ck_assert(cfg->lorawan.devices[0].class_c);
	fg_config_free(cfg);
	cfg = NULL;

	ck_assert_int_eq(load(DEVICE("class = \"B\"; max_downlinks_per_day = 10001;")), -EINVAL);
	assert_diag(0, "fieldgate.conf:3: lorawan.devices: 'class': expected \"A\" or \"C\" (class "
		       "B is not supported)");
	assert_diag(1, "fieldgate.conf:3: lorawan.devices: 'max_downlinks_per_day': expected an "
		       "integer 0..10000 (0: no limit)");
	ck_assert_uint_eq(diags.n, 2);
	fg_diags_clear(&diags);
	ck_assert_int_eq(load(DEVICE("class = 3; max_downlinks_per_day = -1;")), -EINVAL);
	assert_diag(0, "fieldgate.conf:3: lorawan.devices: 'class': expected a string");
	assert_diag(1, "fieldgate.conf:3: lorawan.devices: 'max_downlinks_per_day': expected an "
		       "integer 0..10000 (0: no limit)");
	ck_assert_uint_eq(diags.n, 2);
	fg_diags_clear(&diags);
	assert_only_error(load(DEVICE("class = \"CC\";")),
			  "fieldgate.conf:3: lorawan.devices: 'class': expected \"A\" or \"C\" "
			  "(class B is not supported)");
}
END_TEST

START_TEST(config_sx130x_sub_band_follows_lorawan_sub_band)
{
	ck_assert_int_eq(load("lorawan = { region = \"US915\"; sub_band = 5; };\n"), 0);
	ck_assert_uint_eq(cfg->lorawan.sub_band, 5);
	ck_assert_uint_eq(cfg->sources.sx130x.sub_band, 5);
	ck_assert(!cfg->sources.sx130x.has_sub_band);
	fg_config_free(cfg);
	cfg = NULL;
	/* Given, it stands: a concentrator may listen apart from what devices are told. */
	ck_assert_int_eq(load("lorawan = { region = \"US915\"; sub_band = 5; };\n"
			      "sources = { sx130x = { sub_band = 3; }; };\n"),
			 0);
	ck_assert_uint_eq(cfg->lorawan.sub_band, 5);
	ck_assert_uint_eq(cfg->sources.sx130x.sub_band, 3);
	ck_assert(cfg->sources.sx130x.has_sub_band);
	fg_config_free(cfg);
	cfg = NULL;
	/* Given as the default value, it is still given. */
	ck_assert_int_eq(load("sources = { sx130x = { sub_band = 2; }; };\n"
			      "lorawan = { sub_band = 7; };\n"),
			 0);
	ck_assert_uint_eq(cfg->sources.sx130x.sub_band, 2);
	ck_assert(cfg->sources.sx130x.has_sub_band);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("defaults");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, config_fills_every_default_for_empty_file);
	tcase_add_test(tc, config_new_default_matches_empty_file);
	tcase_add_test(tc, config_gateway_id_defaults_to_host_name);
	tcase_add_test(tc, config_client_id_defaults_from_gateway_id);
	tcase_add_test(tc, config_buffer_path_defaults_under_state_dir);
	tcase_add_test(tc, config_free_accepts_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("docs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, config_sample_file_loads_without_findings);
	tcase_add_test(tc, config_loads_a_lorawan_device);
	tcase_add_test(tc, config_device_defaults_to_the_raw_codec_and_refuses_unknown_ones);
	tcase_add_test(tc, config_device_key_from_a_file_and_not_twice);
	tcase_add_test(tc, config_device_mistakes_are_named);
	tcase_add_test(tc, config_two_devices_cannot_share_a_dev_addr);
	tcase_add_test(tc, config_loads_gateways_and_a_layout);
	tcase_add_test(tc, config_layout_and_listen_mistakes_are_named);
	tcase_add_test(tc, config_units_must_be_registered_senml_units);
	tcase_add_test(tc, config_loads_ble_devices);
	tcase_add_test(tc, config_ble_device_mistakes_are_named);
	tcase_add_test(tc, config_every_setting_is_in_sample_file);
	tcase_add_test(tc, config_every_setting_is_in_man_page);
	tcase_add_test(tc, config_setting_names_list_every_row_and_secret_variant);
	tcase_add_test(tc, config_table_defaults_fit_their_rows);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, config_rejects_unknown_key_with_suggestion);
	tcase_add_test(tc, config_suggests_group_for_unknown_group);
	tcase_add_test(tc, config_suggests_setting_of_another_group);
	tcase_add_test(tc, config_rejects_unknown_key_without_close_name);
	tcase_add_test(tc, config_rejects_int_out_of_range);
	tcase_add_test(tc, config_rejects_string_where_integer_expected);
	tcase_add_test(tc, config_rejects_integer_where_boolean_expected);
	tcase_add_test(tc, config_rejects_unknown_enum_value);
	tcase_add_test(tc, config_rejects_bad_duration);
	tcase_add_test(tc, config_rejects_duration_out_of_range);
	tcase_add_test(tc, config_rejects_sub_second_duration_for_seconds_setting);
	tcase_add_test(tc, config_rejects_size_out_of_range);
	tcase_add_test(tc, config_rejects_bad_size);
	tcase_add_test(tc, config_rejects_scalar_where_group_expected);
	tcase_add_test(tc, config_rejects_bad_gateway_id);
	tcase_add_test(tc, config_rejects_relative_state_dir);
	tcase_add_test(tc, config_reports_every_error_not_just_the_first);
	tcase_add_test(tc, config_syntax_error_names_the_line);
	tcase_add_test(tc, config_load_of_missing_file_returns_enoent);
	tcase_add_test(tc, config_diagnostics_name_the_file_as_given);
	tcase_add_test(tc, config_keeps_findings_already_in_the_list);
	tcase_add_test(tc, config_reports_every_mistake_of_errors_fixture);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, config_loads_every_setting_of_full_fixture);
	tcase_add_test(tc, config_accepts_duration_units_and_plain_seconds);
	tcase_add_test(tc, config_accepts_zero_max_age_as_unlimited);
	tcase_add_test(tc, config_accepts_size_units);
	tcase_add_test(tc, config_accepts_int64_literals);
	tcase_add_test(tc, config_reads_large_integers_as_written);
	tcase_add_test(tc, config_rejects_wrapped_integer_with_its_written_value);
	tcase_add_test(tc, config_rejects_negative_integer);
	tcase_add_test(tc, config_accepts_log_level_names);
	tcase_add_test(tc, config_reads_included_file_next_to_the_config);
	suite_add_tcase(s, tc);

	tc = tcase_create("sx130x");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, config_sx130x_defaults_leave_the_rest_to_the_board);
	tcase_add_test(tc, config_sx130x_loads_settings_and_channels);
	tcase_add_test(tc, config_sx130x_mistakes_are_named);
	suite_add_tcase(s, tc);

	tc = tcase_create("commands");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, config_commands_defaults);
	tcase_add_test(tc, config_commands_loads_every_setting);
	tcase_add_test(tc, config_commands_ranges_are_checked);
	tcase_add_test(tc, config_commands_upper_bounds_are_checked);
	tcase_add_test(tc, config_commands_refused_without_tls_or_credentials);
	tcase_add_test(tc, config_commands_allow_insecure_turns_the_refusal_into_a_warning);
	tcase_add_test(tc, config_commands_accepted_with_tls_and_credentials);
	tcase_add_test(tc, config_commands_topics_are_checked);
	tcase_add_test(tc, config_commands_event_topic_must_not_lie_under_topic);
	tcase_add_test(tc, config_commands_own_publications_must_not_lie_under_topic);
	tcase_add_test(tc, config_commands_gpio_mistakes_are_named);
	tcase_add_test(tc, config_commands_gpio_line_and_name_once);
	tcase_add_test(tc, config_commands_gpio_line_of_a_rule_is_refused);
	tcase_add_test(tc, config_commands_gpio_line_of_the_concentrator_is_refused);
	tcase_add_test(tc, config_device_class_and_downlink_budget);
	tcase_add_test(tc, config_sx130x_sub_band_follows_lorawan_sub_band);
	suite_add_tcase(s, tc);

	tc = tcase_create("mqtt");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, config_port_defaults_to_8883_with_tls);
	tcase_add_test(tc, config_explicit_port_stays_with_tls);
	tcase_add_test(tc, config_rejects_cert_file_without_key_file);
	tcase_add_test(tc, config_accepts_cert_file_with_key_file);
	tcase_add_test(tc, config_rejects_tls_off_with_tls_settings);
	tcase_add_test(tc, config_rejects_topic_with_unknown_placeholder);
	tcase_add_test(tc, config_rejects_topic_with_wildcard);
	tcase_add_test(tc, config_accepts_topic_with_every_placeholder);
	tcase_add_test(tc, config_rejects_password_without_username_on_v311);
	tcase_add_test(tc, config_warns_about_v5_settings_with_v311);
	tcase_add_test(tc, config_warns_about_tls_insecure);
	suite_add_tcase(s, tc);

	tc = tcase_create("secrets");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, config_reads_password_file_without_trailing_newline);
	tcase_add_test(tc, config_drops_only_one_trailing_newline_of_secret);
	tcase_add_test(tc, config_reads_password_from_credential);
	tcase_add_test(tc, config_rejects_credential_without_credentials_directory);
	tcase_add_test(tc, config_rejects_credential_name_with_slash);
	tcase_add_test(tc, config_rejects_password_given_twice);
	tcase_add_test(tc, config_warns_about_literal_password_in_world_readable_file);
	tcase_add_test(tc, config_accepts_literal_password_in_private_file);
	tcase_add_test(tc, config_rejects_missing_secret_file_naming_path);
	tcase_add_test(tc, config_rejects_oversized_secret_file);
	tcase_add_test(tc, config_never_echoes_a_secret);
	suite_add_tcase(s, tc);

	tc = tcase_create("diagnostics");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, diag_format_leaves_out_what_is_missing);
	tcase_add_test(tc, diags_print_writes_one_line_each);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return fg_check_main(config_suite());
}
