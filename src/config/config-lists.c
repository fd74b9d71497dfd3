/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The settings that are lists or named groups rather than rows of the table:
 *
 *   sources.gwmp.gateways = [ "AA555A0000000000", ... ];
 *   lorawan.devices = ( { name = "soil-1"; dev_eui = "..."; dev_addr = "...";
 *                         nwk_s_key = "..."; app_s_key = "..."; codec = "cayenne"; }, ... );
 *   codecs = { lht65 = { fields = ( { name = "..."; offset = 0; type = "u16be"; ... }, ... ); }; };
 *   sources.sx130x.channels = ( { channel = 0; enable = false; }, { channel = "fsk"; ... } );
 *
 * Keys are secrets: each is given as 32 hex digits, or with _file or
 * _credential as the other secrets are.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "codec/ble.h"
#include "config/config-internal.h"
#include "core/reading.h"
#include "core/units.h"
#include "rules/expr.h"
#include "gpio/gpio.h"

#define report fg_config_report

#define DEVICES_MAX 10000
#define CODECS_MAX 256
#define FIELDS_MAX FG_CODEC_VALUES_MAX
#define PATH_BUF 256

/* A hex string of exactly 2 * n digits into n bytes; false when it is not one. */
static bool parse_hex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return false;
	for (size_t i = 0; i < 2 * n; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 :
					       -1;

		if (d < 0)
			return false;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t) (d << 4);
		else
			out[i / 2] |= (uint8_t) d;
	}
	return true;
}

/* A hex EUI or address of n bytes as a number (most significant first, as written). */
static bool parse_hex_number(const char *s, size_t n, uint64_t *ret)
{
	uint8_t b[8];
	uint64_t v = 0;

	if (n > sizeof(b) || !parse_hex(s, b, n))
		return false;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | b[i];
	*ret = v;
	return true;
}

static void wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

/* sources.gwmp.gateways: an array of 16-hex-digit EUIs. */
static void load_gateways(struct loader *ld, const config_setting_t *s, const char *path)
{
	struct fg_gwmp_config *g = &ld->cfg->sources.gwmp;
	int n;

	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		report(ld, FG_DIAG_ERROR, s, path,
		       "expected an array of gateway EUIs, [ \"AA555A0000000000\", ... ]");
		return;
	}
	n = config_setting_length(s);
	if (n > FG_GWMP_GATEWAYS_MAX) {
		report(ld, FG_DIAG_ERROR, s, path, "at most %d gateways, got %d",
		       FG_GWMP_GATEWAYS_MAX, n);
		return;
	}
	g->n_gateways = 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
		const char *v = config_setting_get_string(e);
		uint64_t eui;

		if (!v || !parse_hex_number(v, 8, &eui)) {
			report(ld, FG_DIAG_ERROR, e, path,
			       "element %d: expected a gateway EUI of 16 hex digits", i + 1);
			continue;
		}
		g->gateways[g->n_gateways++] = eui;
	}
}

/* A string member of a list element; NULL (and reported when required) otherwise. */
static const char *member_string(struct loader *ld, const config_setting_t *elem,
				 const char *path, const char *name, bool required)
{
	const config_setting_t *m = config_setting_get_member(elem, name);
	const char *v;

	if (!m) {
		if (required)
			report(ld, FG_DIAG_ERROR, elem, path, "'%s' is missing", name);
		return NULL;
	}
	v = config_setting_get_string(m);
	if (!v)
		report(ld, FG_DIAG_ERROR, m, path, "'%s': expected a string", name);
	return v;
}

/* A key given one of three ways: NAME, NAME_file or NAME_credential. */
static void load_key(struct loader *ld, const config_setting_t *elem, const char *path,
		     const char *name, uint8_t key[16])
{
	static const char *const ways[] = { "", "_file", "_credential" };
	const config_setting_t *given = NULL;
	const char *how = NULL;
	char member[48], err[512], *path_buf = NULL, *secret = NULL;
	const char *v, *dir;
	bool world = false;
	int r;

	for (size_t i = 0; i < 3; i++) {
		const config_setting_t *m;

		snprintf(member, sizeof(member), "%s%s", name, ways[i]);
		m = config_setting_get_member(elem, member);
		if (!m)
			continue;
		if (given) {
			report(ld, FG_DIAG_ERROR, m, path,
			       "'%s' and '%s%s' both given; give the key one way only", member,
			       name, how);
			return;
		}
		given = m;
		how = ways[i];
	}
	if (!given) {
		report(ld, FG_DIAG_ERROR, elem, path, "'%s' is missing (32 hex digits, or %s_file "
		       "or %s_credential)", name, name, name);
		return;
	}
	v = config_setting_get_string(given);
	if (!v) {
		report(ld, FG_DIAG_ERROR, given, path, "'%s%s': expected a string", name, how);
		return;
	}
	if (!*how) {
		if (!parse_hex(v, key, 16))
			report(ld, FG_DIAG_ERROR, given, path,
			       "'%s': expected 32 hex digits (an AES-128 key)", name);
		else if (ld->st && (ld->st->st_mode & 0004))
			report(ld, FG_DIAG_WARNING, given, path,
			       "'%s' is a key in a file other users can read; chmod o-r, or use "
			       "%s_file", name, name);
		return;
	}
	if (!strcmp(how, "_credential")) {
		dir = secure_getenv("CREDENTIALS_DIRECTORY");
		if (!dir || !*dir) {
			report(ld, FG_DIAG_ERROR, given, path,
			       "'%s_credential': $CREDENTIALS_DIRECTORY is not set; credentials come "
			       "from systemd (LoadCredential= in the unit)", name);
			return;
		}
		if (asprintf(&path_buf, "%s/%s", dir, v) < 0) {
			ld->oom = true;
			return;
		}
	}
	r = fg_config_read_secret(path_buf ? path_buf : v, &secret, &world, err, sizeof(err));
	if (r == -ENOMEM)
		ld->oom = true;
	else if (r < 0)
		report(ld, FG_DIAG_ERROR, given, path, "'%s%s': %s", name, how, err);
	else if (!parse_hex(secret, key, 16))
		report(ld, FG_DIAG_ERROR, given, path,
		       "'%s%s': '%s' does not hold 32 hex digits (an AES-128 key)", name, how,
		       path_buf ? path_buf : v);
	else if (world && !path_buf)
		report(ld, FG_DIAG_WARNING, given, path, "'%s' is readable by other users; chmod o-r",
		       v);
	if (secret) {
		wipe(secret, strlen(secret));
		free(secret);
	}
	free(path_buf);
}

static const char *const device_members[] = {
	"name",		 "dev_eui",	   "dev_addr",		  "nwk_s_key",
	"nwk_s_key_file", "nwk_s_key_credential", "app_s_key", "app_s_key_file",
	"app_s_key_credential", "codec", "join_eui", "app_key", "app_key_file",
	"app_key_credential", "class", "max_downlinks_per_day", NULL,
};

/* Whether a key is given in any of its three ways. */
static bool key_given(const config_setting_t *e, const char *name)
{
	static const char *const ways[] = { "", "_file", "_credential" };
	char member[48];

	for (size_t i = 0; i < 3; i++) {
		snprintf(member, sizeof(member), "%s%s", name, ways[i]);
		if (config_setting_get_member(e, member))
			return true;
	}
	return false;
}

/* The session of an ABP device, or the root key of an OTAA one; not both. */
static void load_device_keys(struct loader *ld, const config_setting_t *e, const char *path,
			     struct fg_lorawan_device *d)
{
	bool abp = config_setting_get_member(e, "dev_addr") || key_given(e, "nwk_s_key") ||
		   key_given(e, "app_s_key");
	uint64_t num;
	const char *v;

	d->otaa = key_given(e, "app_key") || config_setting_get_member(e, "join_eui");
	if (d->otaa && abp) {
		report(ld, FG_DIAG_ERROR, e, path, "a device joins (app_key, join_eui) or has a "
		       "session (dev_addr, nwk_s_key, app_s_key), not both");
		return;
	}
	if (d->otaa) {
		v = member_string(ld, e, path, "join_eui", false);
		if (v && !parse_hex_number(v, 8, &d->join_eui))
			report(ld, FG_DIAG_ERROR, e, path, "'join_eui': expected 16 hex digits");
		load_key(ld, e, path, "app_key", d->app_key);
		return;
	}
	v = member_string(ld, e, path, "dev_addr", true);
	if (v && !parse_hex_number(v, 4, &num))
		report(ld, FG_DIAG_ERROR, e, path, "'dev_addr': expected 8 hex digits");
	else if (v)
		d->dev_addr = (uint32_t) num;
	load_key(ld, e, path, "nwk_s_key", d->nwk_s_key);
	load_key(ld, e, path, "app_s_key", d->app_s_key);
}

/*
 * What a device takes downlinks as: class "A" (after each uplink, the
 * default) or "C" (at once, on RX2 parameters), either case, for OTAA and
 * ABP devices alike; and its daily budget of application downlinks.
 */
static void load_device_downlinks(struct loader *ld, const config_setting_t *e, const char *path,
				  struct fg_lorawan_device *d)
{
	const config_setting_t *m;
	const char *v;

	v = member_string(ld, e, path, "class", false);
	if (v && (!strcasecmp(v, "A") || !strcasecmp(v, "C")))
		d->class_c = !strcasecmp(v, "C");
	else if (v)
		report(ld, FG_DIAG_ERROR, config_setting_get_member(e, "class"), path,
		       "'class': expected \"A\" or \"C\" (class B is not supported)");
	m = config_setting_get_member(e, "max_downlinks_per_day");
	if (!m)
		return;
	if ((config_setting_type(m) != CONFIG_TYPE_INT &&
	     config_setting_type(m) != CONFIG_TYPE_INT64) ||
	    config_setting_get_int64(m) < 0 || config_setting_get_int64(m) > 10000)
		report(ld, FG_DIAG_ERROR, m, path,
		       "'max_downlinks_per_day': expected an integer 0..10000 (0: no limit)");
	else
		d->max_downlinks_per_day = (uint32_t) config_setting_get_int64(m);
}

/* Report members that are not in `known`. */
static void unknown_members(struct loader *ld, const config_setting_t *elem, const char *path,
			    const char *const *known)
{
	int n = config_setting_length(elem);

	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(elem, (unsigned) i);
		const char *name = config_setting_name(m);
		size_t k;

		for (k = 0; known[k] && strcmp(known[k], name ? name : ""); k++)
			;
		if (!known[k])
			report(ld, FG_DIAG_ERROR, m, path, "unknown member '%s'", name ? name : "?");
	}
}

/*
 * The start every list loader shares: s must be a list (a group when
 * `group`) of at most max elements. Returns a zeroed array of n + 1
 * elements of elem_size with n in *ret_n, or NULL (reported, or out of
 * memory).
 */
static void *list_begin(struct loader *ld, const config_setting_t *s, const char *path,
			bool group, int max, const char *what, const char *expect,
			size_t elem_size, int *ret_n)
{
	void *a;
	int n;

	if (group ? !config_setting_is_group(s) : !config_setting_is_list(s)) {
		report(ld, FG_DIAG_ERROR, s, path, "expected %s", expect);
		return NULL;
	}
	n = config_setting_length(s);
	if (n > max) {
		report(ld, FG_DIAG_ERROR, s, path, "at most %d %s, got %d", max, what, n);
		return NULL;
	}
	a = calloc((size_t) n + 1, elem_size);
	if (!a)
		ld->oom = true;
	*ret_n = n;
	return a;
}

/* lorawan.devices: a list of groups, one per device (ABP or OTAA). */
static void load_devices(struct loader *ld, const config_setting_t *s, const char *path)
{
	struct fg_lorawan_config *lw = &ld->cfg->lorawan;
	int n;

	lw->devices = list_begin(ld, s, path, false, DEVICES_MAX, "devices",
			"a list of devices, ( { name = ...; dev_addr = ...; ... }, ... )",
			sizeof(*lw->devices), &n);
	if (!lw->devices)
		return;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
		struct fg_lorawan_device *d = &lw->devices[lw->n_devices];
		size_t errors = ld->errors;
		const char *v;

		if (!config_setting_is_group(e)) {
			report(ld, FG_DIAG_ERROR, e, path, "device %d: expected a group { ... }", i + 1);
			continue;
		}
		unknown_members(ld, e, path, device_members);
		d->line = (int) config_setting_source_line(e);
		v = member_string(ld, e, path, "name", true);
		if (v && (strlen(v) >= FG_DEVICE_NAME_MAX || !fg_reading_name_valid(v) ||
			  strchr(v, ':')))
			report(ld, FG_DIAG_ERROR, e, path,
			       "'name': expected 1..%d characters from A-Z a-z 0-9 _ . -",
			       FG_DEVICE_NAME_MAX - 1);
		else if (v && !(d->name = strdup(v)))
			ld->oom = true;
		v = member_string(ld, e, path, "dev_eui", true);
		if (v && !parse_hex_number(v, 8, &d->dev_eui))
			report(ld, FG_DIAG_ERROR, e, path, "'dev_eui': expected 16 hex digits");
		load_device_keys(ld, e, path, d);
		v = member_string(ld, e, path, "codec", false);
		if (!(d->codec = strdup(v ? v : "raw")))
			ld->oom = true;
		load_device_downlinks(ld, e, path, d);
		for (size_t k = 0; k < lw->n_devices && d->name; k++) {
			if (lw->devices[k].name && !strcmp(lw->devices[k].name, d->name))
				report(ld, FG_DIAG_ERROR, e, path,
				       "device name '%s' is used twice (line %d)", d->name,
				       lw->devices[k].line);
			if (!d->otaa && !lw->devices[k].otaa &&
			    lw->devices[k].dev_addr == d->dev_addr)
				report(ld, FG_DIAG_ERROR, e, path,
				       "dev_addr %08X is used twice (line %d)", d->dev_addr,
				       lw->devices[k].line);
			if (d->otaa && lw->devices[k].otaa && lw->devices[k].dev_eui == d->dev_eui)
				report(ld, FG_DIAG_ERROR, e, path,
				       "dev_eui %016llX joins twice (line %d)",
				       (unsigned long long) d->dev_eui, lw->devices[k].line);
		}
		if (ld->errors != errors) {
			free(d->name);
			free(d->codec);
			wipe(d, sizeof(*d));
			continue;
		}
		lw->n_devices++;
	}
}

static const char *const ble_device_members[] = {
	"name", "address", "codec", "bindkey", "bindkey_file", "bindkey_credential", "min_interval",
	NULL,
};

/* "A4:C1:38:00:11:22" (either case) into six bytes. */
static bool parse_mac(const char *s, uint8_t out[6])
{
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		char pair[3] = { s[3 * i], s[3 * i + 1], 0 };

		if ((i < 5 && s[3 * i + 2] != ':') || !parse_hex(pair, &out[i], 1))
			return false;
	}
	return true;
}

/* ble.devices: a list of groups, one per BLE sensor. */
static void load_ble_devices(struct loader *ld, const config_setting_t *s, const char *path)
{
	struct fg_ble_config *ble = &ld->cfg->ble;
	int n;

	ble->devices = list_begin(ld, s, path, false, DEVICES_MAX, "devices",
			"a list of devices, ( { name = ...; address = ...; }, ... )",
			sizeof(*ble->devices), &n);
	if (!ble->devices)
		return;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
		const config_setting_t *m;
		struct fg_ble_device *d = &ble->devices[ble->n_devices];
		size_t errors = ld->errors;
		const char *v;

		if (!config_setting_is_group(e)) {
			report(ld, FG_DIAG_ERROR, e, path, "device %d: expected a group { ... }", i + 1);
			continue;
		}
		unknown_members(ld, e, path, ble_device_members);
		d->line = (int) config_setting_source_line(e);
		d->codec = -1;
		v = member_string(ld, e, path, "name", true);
		if (v && (strlen(v) >= FG_DEVICE_NAME_MAX || !fg_reading_name_valid(v) ||
			  strchr(v, ':')))
			report(ld, FG_DIAG_ERROR, e, path,
			       "'name': expected 1..%d characters from A-Z a-z 0-9 _ . -",
			       FG_DEVICE_NAME_MAX - 1);
		else if (v && !(d->name = strdup(v)))
			ld->oom = true;
		v = member_string(ld, e, path, "address", true);
		if (v && !parse_mac(v, d->address))
			report(ld, FG_DIAG_ERROR, e, path,
			       "'address': expected a Bluetooth address, \"A4:C1:38:00:11:22\"");
		else if (v)
			snprintf(d->address_text, sizeof(d->address_text),
				 "%02X:%02X:%02X:%02X:%02X:%02X", d->address[0], d->address[1],
				 d->address[2], d->address[3], d->address[4], d->address[5]);
		v = member_string(ld, e, path, "codec", false);
		if (v && strcmp(v, "auto") && (d->codec = fg_ble_format_from_string(v)) < 0)
			report(ld, FG_DIAG_ERROR, e, path,
			       "'codec': unknown '%s' (auto, bthome, ruuvi5, ruuvi3, atc1441, pvvx, "
			       "mibeacon, govee, ibeacon, eddystone-tlm)", v);
		if (config_setting_get_member(e, "bindkey") ||
		    config_setting_get_member(e, "bindkey_file") ||
		    config_setting_get_member(e, "bindkey_credential")) {
			load_key(ld, e, path, "bindkey", d->bindkey);
			d->has_bindkey = true;
		}
		m = config_setting_get_member(e, "min_interval");
		if (m && (config_setting_type(m) != CONFIG_TYPE_INT ||
			  config_setting_get_int(m) < 0 || config_setting_get_int(m) > 86400))
			report(ld, FG_DIAG_ERROR, m, path,
			       "'min_interval': expected seconds, 0..86400");
		else if (m)
			d->min_interval_s = (uint32_t) config_setting_get_int(m);
		for (size_t k = 0; k < ble->n_devices && d->name; k++) {
			if (ble->devices[k].name && !strcmp(ble->devices[k].name, d->name))
				report(ld, FG_DIAG_ERROR, e, path,
				       "device name '%s' is used twice (line %d)", d->name,
				       ble->devices[k].line);
			if (!memcmp(ble->devices[k].address, d->address, 6))
				report(ld, FG_DIAG_ERROR, e, path,
				       "address %s is used twice (line %d)", d->address_text,
				       ble->devices[k].line);
		}
		if (ld->errors != errors) {
			free(d->name);
			wipe(d, sizeof(*d));
			continue;
		}
		ble->n_devices++;
	}
}

static const char *const field_members[] = {
	"name", "unit", "offset", "type", "bits", "bool", "scale", "add", "fport", NULL,
};

/* A number member (int or float) of a field; def when absent. */
static bool member_number(struct loader *ld, const config_setting_t *f, const char *path,
			  const char *name, double def, double *ret)
{
	const config_setting_t *m = config_setting_get_member(f, name);
	int t;

	*ret = def;
	if (!m)
		return true;
	t = config_setting_type(m);
	if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 || t == CONFIG_TYPE_FLOAT) {
		*ret = config_setting_get_float(m);
		if (t != CONFIG_TYPE_FLOAT)
			*ret = (double) config_setting_get_int64(m);
		return true;
	}
	report(ld, FG_DIAG_ERROR, m, path, "'%s': expected a number", name);
	return false;
}

/* codecs.NAME.fields: one declarative layout. */
static void load_layout(struct loader *ld, const config_setting_t *g, const char *path,
			struct fg_codec_config *c)
{
	const config_setting_t *fields = config_setting_get_member(g, "fields");
	char why[240];
	size_t bad;
	int n;

	for (int i = 0; i < config_setting_length(g); i++) {
		const char *name = config_setting_name(config_setting_get_elem(g, (unsigned) i));

		if (name && strcmp(name, "fields"))
			report(ld, FG_DIAG_ERROR, config_setting_get_elem(g, (unsigned) i), path,
			       "unknown member '%s' (a codec has only 'fields')", name);
	}
	if (!fields || !config_setting_is_list(fields)) {
		report(ld, FG_DIAG_ERROR, fields ? fields : g, path,
		       "expected fields = ( { name = ...; offset = ...; type = ...; }, ... )");
		return;
	}
	n = config_setting_length(fields);
	if (n < 1 || n > FIELDS_MAX) {
		report(ld, FG_DIAG_ERROR, fields, path, "1..%d fields, got %d", FIELDS_MAX, n);
		return;
	}
	c->fields = calloc((size_t) n, sizeof(*c->fields));
	if (!c->fields) {
		ld->oom = true;
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *f = config_setting_get_elem(fields, (unsigned) i);
		const config_setting_t *bits;
		struct fg_layout_field *lf = &c->fields[c->n_fields];
		const char *v;
		double num;

		if (!config_setting_is_group(f)) {
			report(ld, FG_DIAG_ERROR, f, path, "field %d: expected a group { ... }", i + 1);
			continue;
		}
		unknown_members(ld, f, path, field_members);
		v = member_string(ld, f, path, "name", true);
		if (v && strlen(v) >= sizeof(lf->name))
			report(ld, FG_DIAG_ERROR, f, path, "field %d: 'name': at most %zu characters",
			       i + 1, sizeof(lf->name) - 1);
		else if (v)
			snprintf(lf->name, sizeof(lf->name), "%s", v);
		v = member_string(ld, f, path, "unit", false);
		if (v && strlen(v) >= sizeof(lf->unit))
			report(ld, FG_DIAG_ERROR, f, path, "field %d: 'unit': at most %zu characters",
			       i + 1, sizeof(lf->unit) - 1);
		else if (v)
			snprintf(lf->unit, sizeof(lf->unit), "%s", v);
		v = member_string(ld, f, path, "type", true);
		if (v && fg_layout_type_from_string(v, &lf->type, &lf->little_endian) < 0)
			report(ld, FG_DIAG_ERROR, f, path,
			       "field %d: unknown type '%s' (u8 i8 u16be u16le i16be i16le u24be "
			       "u24le i24be i24le u32be u32le i32be i32le f32be f32le)", i + 1, v);
		if (member_number(ld, f, path, "offset", -1, &num) &&
		    (num < 0 || num > 241 || num != floor(num)))
			report(ld, FG_DIAG_ERROR, f, path,
			       "field %d: 'offset': expected a byte offset 0..241", i + 1);
		else
			lf->offset = (unsigned) num;
		member_number(ld, f, path, "scale", 1, &lf->scale);
		member_number(ld, f, path, "add", 0, &lf->add);
		if (member_number(ld, f, path, "fport", -1, &num) && num != -1 &&
		    (num < 1 || num > 223 || num != floor(num)))
			report(ld, FG_DIAG_ERROR, f, path, "field %d: 'fport': expected 1..223", i + 1);
		else
			lf->fport = (int) num;
		if (config_setting_get_member(f, "bool")) {
			int b = config_setting_get_bool(config_setting_get_member(f, "bool"));

			if (config_setting_type(config_setting_get_member(f, "bool")) !=
			    CONFIG_TYPE_BOOL)
				report(ld, FG_DIAG_ERROR, f, path, "field %d: 'bool': expected true "
				       "or false", i + 1);
			lf->boolean = b != 0;
		}
		bits = config_setting_get_member(f, "bits");
		if (bits) {
			if (!config_setting_is_array(bits) || config_setting_length(bits) != 2 ||
			    config_setting_get_int_elem(bits, 0) < 0 ||
			    config_setting_get_int_elem(bits, 1) < 1)
				report(ld, FG_DIAG_ERROR, bits, path,
				       "field %d: 'bits': expected [first bit, count], e.g. [0, 14]",
				       i + 1);
			else {
				lf->bit_offset = (unsigned) config_setting_get_int_elem(bits, 0);
				lf->bit_count = (unsigned) config_setting_get_int_elem(bits, 1);
			}
		}
		c->n_fields++;
	}
	if (c->n_fields == (size_t) n &&
	    fg_layout_validate(&(struct fg_layout){ c->fields, c->n_fields }, &bad, why,
			       sizeof(why)) < 0)
		report(ld, FG_DIAG_ERROR, config_setting_get_elem(fields, (unsigned) bad), path,
		       "field %zu: %s", bad + 1, why);
}

/* codecs: a group of named layouts. */
static void load_codecs(struct loader *ld, const config_setting_t *s, const char *path)
{
	struct fg_config *cfg = ld->cfg;
	int n;

	cfg->codecs = list_begin(ld, s, path, true, CODECS_MAX, "codecs",
			"a group of named codecs, { name = { fields = ( ... ); }; }",
			sizeof(*cfg->codecs), &n);
	if (!cfg->codecs)
		return;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned) i);
		const char *name = config_setting_name(g);
		struct fg_codec_config *c = &cfg->codecs[cfg->n_codecs];
		char sub[PATH_BUF];

		snprintf(sub, sizeof(sub), "%s.%s", path, name ? name : "?");
		if (!name || !config_setting_is_group(g)) {
			report(ld, FG_DIAG_ERROR, g, sub, "expected a group { fields = ( ... ); }");
			continue;
		}
		if (!strcmp(name, "cayenne") || !strcmp(name, "raw")) {
			report(ld, FG_DIAG_ERROR, g, sub, "'%s' is a built-in codec's name", name);
			continue;
		}
		c->name = strdup(name);
		if (!c->name) {
			ld->oom = true;
			return;
		}
		cfg->n_codecs++;
		load_layout(ld, g, sub, c);
	}
}

#define RULES_MAX 256

static const char *const rule_members[] = {
	"name", "match", "drop_if", "set", "unit", "quantity", "deadband", "heartbeat", "window",
	"emit", "when", "alert", "gpio", NULL,
};
static const char *const alert_members[] = { "topic", "clear_when", "severity", NULL };
static const char *const gpio_members[] = { "chip", "line", "on", "off", NULL };
static const char *const emit_names[] = { "mean", "min", "max", "sum", "count", "last", NULL };

/* Compile one expression member of a rule, reporting errors with the rule and column. */
static struct fg_expr *rule_expr(struct loader *ld, const config_setting_t *g, const char *path,
				 const char *rule, const char *member, enum fg_expr_type want)
{
	const config_setting_t *m = config_setting_get_member(g, member);
	struct fg_expr *e = NULL;
	char err[160];
	size_t col = 0;
	const char *text;
	int r;

	if (!m)
		return NULL;
	text = config_setting_get_string(m);
	if (!text) {
		report(ld, FG_DIAG_ERROR, m, path, "rule '%s': '%s': expected an expression in quotes",
		       rule, member);
		return NULL;
	}
	r = fg_expr_compile(text, want, &e, &col, err, sizeof(err));
	if (r == -ENOMEM)
		ld->oom = true;
	else if (r < 0)
		report(ld, FG_DIAG_ERROR, m, path, "rule '%s': %s, column %zu: %s", rule, member, col,
		       err);
	return r < 0 ? NULL : e;
}

/* An integer member of a list entry in lo..hi, def when absent; who names the entry. */
static bool entry_int(struct loader *ld, const config_setting_t *g, const char *path,
		      const char *who, const char *member, long long lo, long long hi,
		      long long def, long long *ret)
{
	const config_setting_t *m = config_setting_get_member(g, member);

	*ret = def;
	if (!m)
		return true;
	if ((config_setting_type(m) != CONFIG_TYPE_INT &&
	     config_setting_type(m) != CONFIG_TYPE_INT64) ||
	    config_setting_get_int64(m) < lo || config_setting_get_int64(m) > hi) {
		report(ld, FG_DIAG_ERROR, m, path, "%s: '%s': expected an integer %lld..%lld", who,
		       member, lo, hi);
		return false;
	}
	*ret = config_setting_get_int64(m);
	return true;
}

/* A small integer member of a rule; def when absent. */
static bool member_int(struct loader *ld, const config_setting_t *g, const char *path,
		       const char *rule, const char *member, long long lo, long long hi,
		       long long def, long long *ret)
{
	char who[160];

	snprintf(who, sizeof(who), "rule '%s'", rule);
	return entry_int(ld, g, path, who, member, lo, hi, def, ret);
}

static char *dup_member(struct loader *ld, const config_setting_t *g, const char *path,
			const char *rule, const char *member, size_t max)
{
	const config_setting_t *m = config_setting_get_member(g, member);
	const char *v;
	char *d;

	if (!m)
		return NULL;
	v = config_setting_get_string(m);
	if (!v || !*v || strlen(v) > max) {
		report(ld, FG_DIAG_ERROR, m, path, "rule '%s': '%s': expected a string of 1..%zu "
		       "characters", rule, member, max);
		return NULL;
	}
	d = strdup(v);
	if (!d)
		ld->oom = true;
	return d;
}

/*
 * A rule's gpio chip in one spelling, so that two spellings of one chip
 * compare equal: "gpiochip0" for "0", "gpiochip0" and "/dev/gpiochip0", and
 * "sim" (the simulated chip). -EINVAL for anything else.
 */
static int gpio_chip_name(const char *chip, char *buf, size_t size)
{
	char dev[PATH_BUF];
	int r;

	if (!strcmp(chip, "sim")) {
		snprintf(buf, size, "sim");
		return 0;
	}
	r = fg_gpio_chip_path(chip, dev, sizeof(dev));
	if (r < 0)
		return r;
	snprintf(buf, size, "%s", dev + strlen("/dev/"));
	return 0;
}

/* A rule's gpio group: the one output line it drives. */
static void load_rule_gpio(struct loader *ld, const config_setting_t *m, const char *path,
			   const char *rule, struct fg_rule_config *r)
{
	char chip[PATH_BUF];
	long long v;

	if (!config_setting_is_group(m)) {
		report(ld, FG_DIAG_ERROR, m, path, "rule '%s': 'gpio': expected a group "
		       "{ chip = ...; line = ...; }", rule);
		return;
	}
	unknown_members(ld, m, path, gpio_members);
	r->has_gpio = true;
	r->gpio_chip = dup_member(ld, m, path, rule, "chip", 64);
	if (!r->gpio_chip && !config_setting_get_member(m, "chip"))
		report(ld, FG_DIAG_ERROR, m, path, "rule '%s': gpio: 'chip' is missing", rule);
	else if (r->gpio_chip && gpio_chip_name(r->gpio_chip, chip, sizeof(chip)) < 0)
		report(ld, FG_DIAG_ERROR, config_setting_get_member(m, "chip"), path,
		       "rule '%s': gpio: 'chip': expected gpiochipN, /dev/gpiochipN, N (0..1023) "
		       "or \"sim\", got '%s'", rule, r->gpio_chip);
	if (member_int(ld, m, path, rule, "line", 0, 1023, -1, &v) && v < 0)
		report(ld, FG_DIAG_ERROR, m, path, "rule '%s': gpio: 'line' is missing", rule);
	r->gpio_line = (unsigned) (v < 0 ? 0 : v);
	if (member_int(ld, m, path, rule, "on", 0, 1, 1, &v))
		r->gpio_on = (int) v;
	if (member_int(ld, m, path, rule, "off", 0, 1, 0, &v))
		r->gpio_off = (int) v;
}

/*
 * Two rules driving one line would fight over it (and the second request
 * fails with EBUSY at run time): refuse r if a rule loaded before drives
 * the same chip, however spelled, and line.
 */
static void check_gpio_unique(struct loader *ld, const config_setting_t *g, const char *path,
			      const struct fg_rule_config *r)
{
	const struct fg_config *cfg = ld->cfg;
	char chip[PATH_BUF], other[PATH_BUF];

	if (!r->has_gpio || !r->gpio_chip || gpio_chip_name(r->gpio_chip, chip, sizeof(chip)) < 0)
		return;
	for (size_t k = 0; k < cfg->n_rules; k++) {
		const struct fg_rule_config *o = &cfg->rules[k];

		if (!o->has_gpio || !o->gpio_chip || o->gpio_line != r->gpio_line ||
		    gpio_chip_name(o->gpio_chip, other, sizeof(other)) < 0 || strcmp(chip, other))
			continue;
		report(ld, FG_DIAG_ERROR, config_setting_get_member(g, "gpio"), path,
		       "rule '%s': gpio: line %u of %s is already driven by rule '%s'",
		       r->name ? r->name : "?", r->gpio_line, chip, o->name);
		return;
	}
}

/* One rule group. */
static void load_rule(struct loader *ld, const config_setting_t *g, const char *path,
		      struct fg_rule_config *r, int index)
{
	const config_setting_t *m;
	char rule[64], why[200];
	long long v;

	unknown_members(ld, g, path, rule_members);
	r->line = (int) config_setting_source_line(g);
	r->name = dup_member(ld, g, path, "?", "name", 63);
	snprintf(rule, sizeof(rule), "%s", r->name ? r->name : "");
	if (!r->name) {
		snprintf(rule, sizeof(rule), "#%d", index + 1);
		if (!config_setting_get_member(g, "name"))
			report(ld, FG_DIAG_ERROR, g, path, "rule %d: 'name' is missing", index + 1);
	}
	r->match = dup_member(ld, g, path, rule, "match", 200);
	if (!r->match && !config_setting_get_member(g, "match"))
		report(ld, FG_DIAG_ERROR, g, path, "rule '%s': 'match' is missing (a glob on "
		       "source/device/quantity, e.g. \"*/temperature\")", rule);
	r->drop_if = rule_expr(ld, g, path, rule, "drop_if", FG_EXPR_CONDITION);
	r->set = rule_expr(ld, g, path, rule, "set", FG_EXPR_NUMBER);
	r->when = rule_expr(ld, g, path, rule, "when", FG_EXPR_CONDITION);
	/* unit = "" takes the unit away: a value in an unregistered unit says it in its name. */
	m = config_setting_get_member(g, "unit");
	if (m) {
		const char *u = config_setting_get_string(m);

		if (!u || strlen(u) > FG_UNIT_MAX - 1)
			report(ld, FG_DIAG_ERROR, m, path, "rule '%s': 'unit': expected a string of "
			       "0..%d characters (\"\": no unit)", rule, FG_UNIT_MAX - 1);
		else if (fg_unit_check(u, why, sizeof(why)) < 0)
			report(ld, FG_DIAG_ERROR, m, path, "rule '%s': %s", rule, why);
		else if (!(r->unit = strdup(u)))
			ld->oom = true;
	}
	r->quantity = dup_member(ld, g, path, rule, "quantity", FG_QUANTITY_MAX - 1);
	if (r->quantity && !fg_reading_name_valid(r->quantity))
		report(ld, FG_DIAG_ERROR, g, path, "rule '%s': 'quantity': expected A-Z a-z 0-9 _ . : -",
		       rule);
	m = config_setting_get_member(g, "deadband");
	if (m) {
		int t = config_setting_type(m);
		const char *str = config_setting_get_string(m);
		char *end = NULL;

		if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
			r->deadband = (double) config_setting_get_int64(m);
		else if (t == CONFIG_TYPE_FLOAT)
			r->deadband = config_setting_get_float(m);
		else if (str) {
			r->deadband = strtod(str, &end);
			r->deadband_percent = end && *end == '%' && !end[1];
		}
		if (!(r->deadband > 0) || r->deadband > 1e12 || (str && !r->deadband_percent))
			report(ld, FG_DIAG_ERROR, m, path, "rule '%s': 'deadband': expected a positive "
			       "number, or a percentage such as \"5%%\"", rule);
	}
	if (member_int(ld, g, path, rule, "heartbeat", 1, 7 * 86400, 0, &v))
		r->heartbeat_s = (uint32_t) v;
	if (member_int(ld, g, path, rule, "window", 1, 7 * 86400, 0, &v))
		r->window_s = (uint32_t) v;
	m = config_setting_get_member(g, "emit");
	if (m) {
		int n = config_setting_length(m);

		if (!config_setting_is_array(m) && !config_setting_is_list(m))
			n = -1;
		for (int i = 0; i < n; i++) {
			const char *e = config_setting_get_string_elem(m, (unsigned) i);
			int k;

			for (k = 0; e && emit_names[k] && strcmp(emit_names[k], e); k++)
				;
			if (!e || !emit_names[k])
				n = -1;
			else
				r->emit |= 1u << k;
		}
		if (n < 1)
			report(ld, FG_DIAG_ERROR, m, path, "rule '%s': 'emit': expected a list of mean, "
			       "min, max, sum, count, last", rule);
		else if (!r->window_s)
			report(ld, FG_DIAG_ERROR, m, path, "rule '%s': 'emit' needs a 'window'", rule);
	}
	if (r->window_s && !r->emit)
		r->emit = FG_RULE_EMIT_MEAN;
	m = config_setting_get_member(g, "alert");
	if (m) {
		if (!config_setting_is_group(m)) {
			report(ld, FG_DIAG_ERROR, m, path, "rule '%s': 'alert': expected a group "
			       "{ topic = ...; }", rule);
		} else {
			unknown_members(ld, m, path, alert_members);
			char detail[160] = "";

			r->alert_topic = dup_member(ld, m, path, rule, "topic", 255);
			if (!r->alert_topic)
				report(ld, FG_DIAG_ERROR, m, path, "rule '%s': alert: 'topic' is missing",
				       rule);
			else if (!fg_config_check_topic(r->alert_topic, detail, sizeof(detail)))
				report(ld, FG_DIAG_ERROR, m, path, "rule '%s': alert: 'topic': %s", rule,
				       detail);
			r->severity = dup_member(ld, m, path, rule, "severity", 16);
			r->clear_when = rule_expr(ld, m, path, rule, "clear_when", FG_EXPR_CONDITION);
		}
	}
	m = config_setting_get_member(g, "gpio");
	if (m)
		load_rule_gpio(ld, m, path, rule, r);
	if ((r->alert_topic || r->has_gpio) && !r->when)
		report(ld, FG_DIAG_ERROR, g, path, "rule '%s': 'alert' and 'gpio' need a 'when' "
		       "condition", rule);
	if (r->when && !r->alert_topic && !r->has_gpio)
		report(ld, FG_DIAG_ERROR, g, path, "rule '%s': 'when' needs an 'alert' or a 'gpio' "
		       "to act on", rule);
}

static void free_rule(struct fg_rule_config *r)
{
	free(r->name);
	free(r->match);
	fg_expr_free(r->drop_if);
	fg_expr_free(r->set);
	fg_expr_free(r->when);
	fg_expr_free(r->clear_when);
	free(r->unit);
	free(r->quantity);
	free(r->alert_topic);
	free(r->severity);
	free(r->gpio_chip);
	memset(r, 0, sizeof(*r));
}

/* rules: a list of groups, evaluated in order for each reading. */
static void load_rules(struct loader *ld, const config_setting_t *s, const char *path)
{
	struct fg_config *cfg = ld->cfg;
	int n;

	cfg->rules = list_begin(ld, s, path, false, RULES_MAX, "rules",
			"a list of rules, ( { name = ...; match = ...; ... }, ... )",
			sizeof(*cfg->rules), &n);
	if (!cfg->rules)
		return;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned) i);
		struct fg_rule_config *r = &cfg->rules[cfg->n_rules];
		size_t errors = ld->errors;

		if (!config_setting_is_group(g)) {
			report(ld, FG_DIAG_ERROR, g, path, "rule %d: expected a group { ... }", i + 1);
			continue;
		}
		load_rule(ld, g, path, r, i);
		for (size_t k = 0; k < cfg->n_rules && r->name; k++)
			if (!strcmp(cfg->rules[k].name, r->name))
				report(ld, FG_DIAG_ERROR, g, path,
				       "rule name '%s' is used twice (line %d)", r->name,
				       cfg->rules[k].line);
		check_gpio_unique(ld, g, path, r);
		if (ld->errors != errors) {
			free_rule(r);
			continue;
		}
		cfg->n_rules++;
	}
}

#define COMMAND_GPIO_MAX  64
#define COMMAND_GPIO_NAME 32 /* a command names the line in its "name" (cmd/command.h) */

static const char *const command_gpio_members[] = {
	"name", "chip", "line", "initial", "max_pulse_ms", NULL,
};

/* An integer member of a commands.gpio entry in lo..hi; def when absent, false when bad. */
static bool command_gpio_int(struct loader *ld, const config_setting_t *g, const char *path,
			     const char *label, const char *member, long long lo, long long hi,
			     long long def, long long *ret)
{
	char who[160];

	snprintf(who, sizeof(who), "gpio %s", label);
	return entry_int(ld, g, path, who, member, lo, hi, def, ret);
}

/* One line of commands.gpio; the chip is kept in one spelling (gpio_chip_name). */
static void load_command_gpio(struct loader *ld, const config_setting_t *g, const char *path,
			      int index, struct fg_command_gpio *c)
{
	const struct fg_commands_config *cc = &ld->cfg->commands;
	char label[COMMAND_GPIO_NAME + 8], chip[PATH_BUF];
	const char *v;
	long long x;

	unknown_members(ld, g, path, command_gpio_members);
	c->line_no = (int) config_setting_source_line(g);
	snprintf(label, sizeof(label), "#%d", index + 1);
	v = member_string(ld, g, path, "name", false);
	if (v &&
	    (!*v || strlen(v) > COMMAND_GPIO_NAME ||
	     v[strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")]))
		report(ld, FG_DIAG_ERROR, config_setting_get_member(g, "name"), path,
		       "gpio %s: 'name': expected 1..%d characters from A-Z a-z 0-9 _ . -", label,
		       COMMAND_GPIO_NAME);
	else if (v && !(c->name = strdup(v)))
		ld->oom = true;
	if (c->name)
		snprintf(label, sizeof(label), "'%s'", c->name);
	v = member_string(ld, g, path, "chip", false);
	if (!v && !config_setting_get_member(g, "chip"))
		report(ld, FG_DIAG_ERROR, g, path, "gpio %s: 'chip' is missing", label);
	else if (v && gpio_chip_name(v, chip, sizeof(chip)) < 0)
		report(ld, FG_DIAG_ERROR, config_setting_get_member(g, "chip"), path,
		       "gpio %s: 'chip': expected gpiochipN, /dev/gpiochipN, N (0..1023) or "
		       "\"sim\"",
		       label);
	else if (v && !(c->chip = strdup(chip)))
		ld->oom = true;
	if (command_gpio_int(ld, g, path, label, "line", 0, 1023, -1, &x) && x < 0)
		report(ld, FG_DIAG_ERROR, g, path, "gpio %s: 'line' is missing", label);
	c->line = (unsigned) (x < 0 ? 0 : x);
	if (command_gpio_int(ld, g, path, label, "initial", 0, 1, 0, &x))
		c->initial = (int) x;
	if (command_gpio_int(ld, g, path, label, "max_pulse_ms", 1, 3600000, 60000, &x))
		c->max_pulse_ms = (uint32_t) x;
	for (size_t k = 0; k < cc->n_gpio; k++) {
		const struct fg_command_gpio *o = &cc->gpio[k];

		if (c->name && o->name && !strcmp(c->name, o->name))
			report(ld, FG_DIAG_ERROR, g, path, "gpio name '%s' is used twice (line %d)",
			       c->name, o->line_no);
		if (c->chip && o->chip && !strcmp(c->chip, o->chip) && c->line == o->line)
			report(ld, FG_DIAG_ERROR, g, path,
			       "gpio %s: line %u of %s is declared twice (line %d)", label, c->line,
			       c->chip, o->line_no);
	}
}

static void free_command_gpio(struct fg_command_gpio *c)
{
	free(c->name);
	free(c->chip);
	memset(c, 0, sizeof(*c));
}

/* commands.gpio: the output lines commands may drive, one group each. */
static void load_command_gpios(struct loader *ld, const config_setting_t *s, const char *path)
{
	struct fg_commands_config *cc = &ld->cfg->commands;
	int n;

	cc->gpio = list_begin(ld, s, path, false, COMMAND_GPIO_MAX, "lines",
			      "a list of lines, ( { name = ...; chip = ...; line = ...; }, ... )",
			      sizeof(*cc->gpio), &n);
	if (!cc->gpio)
		return;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned) i);
		struct fg_command_gpio *c = &cc->gpio[cc->n_gpio];
		size_t errors = ld->errors;

		if (!config_setting_is_group(g)) {
			report(ld, FG_DIAG_ERROR, g, path, "gpio %d: expected a group { ... }",
			       i + 1);
			continue;
		}
		load_command_gpio(ld, g, path, i, c);
		if (ld->errors != errors) {
			free_command_gpio(c);
			continue;
		}
		cc->n_gpio++;
	}
}

/* Add an error about commands.gpio at the line of an entry (the list is loaded by now). */
static void command_gpio_error(struct loader *ld, const struct fg_command_gpio *c, const char *fmt,
			       ...) __attribute__((format(printf, 3, 4)));
static void command_gpio_error(struct loader *ld, const struct fg_command_gpio *c, const char *fmt,
			       ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (fg_diags_add(ld->diags, FG_DIAG_ERROR, ld->name, c->line_no, "commands.gpio", "%s",
			 msg) < 0)
		ld->oom = true;
	ld->errors++;
}

/* Whether a concentrator line setting ("CHIP:LINE", "LINE", "none") names chip and line. */
static bool spec_is_line(const char *spec, const char *chip, unsigned line)
{
	char given[PATH_BUF], name[PATH_BUF];
	unsigned offset;

	return spec && fg_gpio_spec_parse(spec, given, sizeof(given), &offset) == 0 &&
	       offset == line && gpio_chip_name(given, name, sizeof(name)) == 0 &&
	       !strcmp(name, chip);
}

/*
 * A line the cloud drives must be nobody else's: a rule's action would
 * undo a command (and the second request of the line fails with EBUSY),
 * and a command on the concentrator's reset or power line would stop the
 * radio. The board presets' lines are the sx130x source's to check
 * (source/sx130x.h); here, the lines the file names.
 */
static void check_command_gpio_owners(struct loader *ld)
{
	const struct fg_config *cfg = ld->cfg;
	const struct fg_sx130x_config *x = &cfg->sources.sx130x;
	char chip[PATH_BUF];

	for (size_t i = 0; i < cfg->commands.n_gpio; i++) {
		const struct fg_command_gpio *c = &cfg->commands.gpio[i];
		char label[COMMAND_GPIO_NAME + 8];

		if (c->name)
			snprintf(label, sizeof(label), "'%s'", c->name);
		else
			snprintf(label, sizeof(label), "#%zu", i + 1);
		for (size_t k = 0; k < cfg->n_rules; k++) {
			const struct fg_rule_config *r = &cfg->rules[k];

			if (!r->has_gpio || !r->gpio_chip || r->gpio_line != c->line ||
			    gpio_chip_name(r->gpio_chip, chip, sizeof(chip)) < 0 ||
			    strcmp(chip, c->chip))
				continue;
			command_gpio_error(
				ld, c,
				"gpio %s: line %u of %s is driven by rule '%s' (line %d); "
				"a line is either a rule's or the commands'",
				label, c->line, c->chip, r->name, r->line);
		}
		if (!x->enabled)
			continue;
		if (spec_is_line(x->reset_gpio, c->chip, c->line))
			command_gpio_error(ld, c,
					   "gpio %s: line %u of %s is the concentrator's reset "
					   "(sources.sx130x.reset_gpio)",
					   label, c->line, c->chip);
		if (spec_is_line(x->power_gpio, c->chip, c->line))
			command_gpio_error(ld, c,
					   "gpio %s: line %u of %s is the concentrator's power "
					   "(sources.sx130x.power_gpio)",
					   label, c->line, c->chip);
	}
}

static const char *const sx130x_channel_members[] = {
	"channel", "enable", "radio", "if", "sf", "bandwidth", "datarate", NULL,
};

/* An integer member of a channel entry in lo..hi; false (reported) when it is not one. */
static bool channel_int(struct loader *ld, const config_setting_t *m, const char *path,
			const char *chan, long long lo, long long hi, long long *ret)
{
	int t = config_setting_type(m);

	if ((t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) || config_setting_get_int64(m) < lo ||
	    config_setting_get_int64(m) > hi) {
		report(ld, FG_DIAG_ERROR, m, path, "channel %s: '%s': expected an integer %lld..%lld",
		       chan, config_setting_name(m), lo, hi);
		return false;
	}
	*ret = config_setting_get_int64(m);
	return true;
}

/* Which IF chain an entry's 'channel' names: 0..7, "lora_std" or "fsk"; -1 (reported) otherwise. */
static int channel_chain(struct loader *ld, const config_setting_t *g, const char *path, int index)
{
	const config_setting_t *m = config_setting_get_member(g, "channel");
	const char *str;
	int t;

	if (!m) {
		report(ld, FG_DIAG_ERROR, g, path, "entry %d: 'channel' is missing (0..7, \"lora_std\" "
		       "or \"fsk\")", index + 1);
		return -1;
	}
	t = config_setting_type(m);
	str = config_setting_get_string(m);
	if ((t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) && config_setting_get_int64(m) >= 0 &&
	    config_setting_get_int64(m) <= 7)
		return (int) config_setting_get_int64(m);
	if (str && !strcmp(str, "lora_std"))
		return FG_SX130X_CHAIN_LORA_STD;
	if (str && !strcmp(str, "fsk"))
		return FG_SX130X_CHAIN_FSK;
	report(ld, FG_DIAG_ERROR, m, path, "entry %d: 'channel': expected 0..7 (the multi-SF "
	       "channels), \"lora_std\" or \"fsk\"", index + 1);
	return -1;
}

/*
 * sources.sx130x.channels: changes to the region's channel plan, one entry
 * per IF chain: { channel = 0..7 | "lora_std" | "fsk"; enable; radio; if;
 * sf (lora_std); bandwidth (lora_std, fsk); datarate (fsk); }.
 */
static void load_sx130x_channels(struct loader *ld, const config_setting_t *s, const char *path)
{
	struct fg_sx130x_config *x = &ld->cfg->sources.sx130x;
	int n;

	if (!config_setting_is_list(s)) {
		report(ld, FG_DIAG_ERROR, s, path, "expected a list of channels, ( { channel = 0; "
		       "enable = false; }, ... )");
		return;
	}
	n = config_setting_length(s);
	x->n_channels = 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned) i), *m;
		struct fg_sx130x_channel c = { 0 };
		size_t errors = ld->errors;
		char chan[16];
		long long v;
		int chain;

		if (!config_setting_is_group(g)) {
			report(ld, FG_DIAG_ERROR, g, path, "entry %d: expected a group { channel = ...; }",
			       i + 1);
			continue;
		}
		unknown_members(ld, g, path, sx130x_channel_members);
		chain = channel_chain(ld, g, path, i);
		if (chain < 0)
			continue;
		c.chain = (unsigned) chain;
		c.line = (int) config_setting_source_line(g);
		snprintf(chan, sizeof(chan), "%s", chain == FG_SX130X_CHAIN_LORA_STD ? "lora_std" :
						   chain == FG_SX130X_CHAIN_FSK	     ? "fsk" :
											"");
		if (!chan[0])
			snprintf(chan, sizeof(chan), "%d", chain);
		for (size_t k = 0; k < x->n_channels; k++)
			if (x->channels[k].chain == c.chain)
				report(ld, FG_DIAG_ERROR, g, path, "channel %s is set twice (line %d)",
				       chan, x->channels[k].line);
		if ((m = config_setting_get_member(g, "enable"))) {
			if (config_setting_type(m) != CONFIG_TYPE_BOOL)
				report(ld, FG_DIAG_ERROR, m, path, "channel %s: 'enable': expected "
				       "true or false", chan);
			c.has_enable = true;
			c.enable = config_setting_get_bool(m);
		}
		if ((m = config_setting_get_member(g, "radio")) &&
		    channel_int(ld, m, path, chan, 0, 1, &v)) {
			c.has_radio = true;
			c.radio = (uint8_t) v;
		}
		/* A radio hears at most 1.6 MHz around its centre (the HAL checks the rest). */
		if ((m = config_setting_get_member(g, "if")) &&
		    channel_int(ld, m, path, chan, -800000, 800000, &v)) {
			c.has_if = true;
			c.if_hz = (int32_t) v;
		}
		if ((m = config_setting_get_member(g, "sf"))) {
			if (chain != FG_SX130X_CHAIN_LORA_STD)
				report(ld, FG_DIAG_ERROR, m, path, "channel %s: 'sf' is only for "
				       "\"lora_std\" (the multi-SF channels hear SF5..SF12)", chan);
			else if (channel_int(ld, m, path, chan, 5, 12, &v)) {
				c.has_sf = true;
				c.sf = (uint8_t) v;
			}
		}
		if ((m = config_setting_get_member(g, "bandwidth"))) {
			if (chain < FG_SX130X_CHAIN_LORA_STD)
				report(ld, FG_DIAG_ERROR, m, path, "channel %s: 'bandwidth' is only for "
				       "\"lora_std\" and \"fsk\" (multi-SF channels are 125 kHz)", chan);
			else if (channel_int(ld, m, path, chan, 7800, 500000, &v)) {
				if (chain == FG_SX130X_CHAIN_LORA_STD && v != 125000 && v != 250000 &&
				    v != 500000)
					report(ld, FG_DIAG_ERROR, m, path, "channel lora_std: 'bandwidth': "
					       "expected 125000, 250000 or 500000");
				c.has_bandwidth = true;
				c.bw_hz = (uint32_t) v;
			}
		}
		if ((m = config_setting_get_member(g, "datarate"))) {
			if (chain != FG_SX130X_CHAIN_FSK)
				report(ld, FG_DIAG_ERROR, m, path, "channel %s: 'datarate' is only for "
				       "\"fsk\"", chan);
			else if (channel_int(ld, m, path, chan, 500, 250000, &v)) {
				c.has_datarate = true;
				c.bps = (uint32_t) v;
			}
		}
		if (ld->errors == errors && x->n_channels < FG_SX130X_CHAINS)
			x->channels[x->n_channels++] = c;
	}
}

bool fg_config_load_list(struct loader *ld, const config_setting_t *s, const char *path)
{
	if (!strcmp(path, "sources.gwmp.gateways"))
		load_gateways(ld, s, path);
	else if (!strcmp(path, "lorawan.devices"))
		load_devices(ld, s, path);
	else if (!strcmp(path, "codecs"))
		load_codecs(ld, s, path);
	else if (!strcmp(path, "ble.devices"))
		load_ble_devices(ld, s, path);
	else if (!strcmp(path, "rules"))
		load_rules(ld, s, path);
	else if (!strcmp(path, "sources.sx130x.channels"))
		load_sx130x_channels(ld, s, path);
	else if (!strcmp(path, "commands.gpio"))
		load_command_gpios(ld, s, path);
	else
		return false;
	return true;
}

void fg_config_check_lists(struct loader *ld)
{
	struct fg_lorawan_config *lw = &ld->cfg->lorawan;

	for (size_t i = 0; i < lw->n_devices; i++) {
		const char *codec = lw->devices[i].codec;
		bool found = !strcmp(codec, "cayenne") || !strcmp(codec, "raw");

		for (size_t k = 0; !found && k < ld->cfg->n_codecs; k++)
			found = !strcmp(ld->cfg->codecs[k].name, codec);
		if (!found) {
			char path[PATH_BUF];

			snprintf(path, sizeof(path), "lorawan.devices");
			fg_diags_add(ld->diags, FG_DIAG_ERROR, ld->name, lw->devices[i].line, path,
				     "device '%s': unknown codec '%s' (cayenne, raw, or a name "
				     "under codecs)", lw->devices[i].name, codec);
			ld->errors++;
		}
	}
	check_command_gpio_owners(ld);
}

void fg_config_lists_free(struct fg_config *cfg)
{
	for (size_t i = 0; i < cfg->lorawan.n_devices; i++) {
		free(cfg->lorawan.devices[i].name);
		free(cfg->lorawan.devices[i].codec);
		wipe(&cfg->lorawan.devices[i], sizeof(cfg->lorawan.devices[i]));
	}
	free(cfg->lorawan.devices);
	cfg->lorawan.devices = NULL;
	cfg->lorawan.n_devices = 0;
	for (size_t i = 0; i < cfg->n_codecs; i++) {
		free(cfg->codecs[i].name);
		free(cfg->codecs[i].fields);
	}
	free(cfg->codecs);
	cfg->codecs = NULL;
	cfg->n_codecs = 0;
	for (size_t i = 0; i < cfg->ble.n_devices; i++) {
		free(cfg->ble.devices[i].name);
		wipe(&cfg->ble.devices[i], sizeof(cfg->ble.devices[i]));
	}
	free(cfg->ble.devices);
	cfg->ble.devices = NULL;
	cfg->ble.n_devices = 0;
	for (size_t i = 0; i < cfg->n_rules; i++)
		free_rule(&cfg->rules[i]);
	free(cfg->rules);
	cfg->rules = NULL;
	cfg->n_rules = 0;
	for (size_t i = 0; i < cfg->commands.n_gpio; i++)
		free_command_gpio(&cfg->commands.gpio[i]);
	free(cfg->commands.gpio);
	cfg->commands.gpio = NULL;
	cfg->commands.n_gpio = 0;
}
