/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Units a SenML consumer can trust: every unit any decoder emits is in the
 * SenML Units registry as tests/data/senml-units.txt transcribes it from RFC
 * 8428 and RFC 8798 (independently of src/core/units.c, which is checked
 * against the same file), and one quantity has one unit whichever decoder
 * produced it. Each decoder runs over inputs that make it emit every
 * quantity it has: BTHome and Cayenne LPP over every object id or type they
 * accept, the fixed formats over a frame with every field present.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-main.h"
#include "codec/ble.h"
#include "codec/codec.h"
#include "config/config.h"
#include "core/units.h"

#define REGISTRY_MAX 128
#define SEEN_MAX     1024

static char registry[REGISTRY_MAX][FG_UNIT_MAX];
static size_t n_registry;

/* What the decoders emitted: quantity (without channel or repeat suffix), unit, decoder. */
static struct {
	char quantity[FG_QUANTITY_MAX];
	char unit[FG_UNIT_MAX];
	const char *decoder;
} seen[SEEN_MAX];
static size_t n_seen;

/* Read the registry transcription: the first word of every line that is not blank or a comment. */
static void load_registry(void)
{
	const char *top = getenv("FG_SRCDIR");
	char path[4096], line[256];
	FILE *f;

	if (n_registry)
		return;
	snprintf(path, sizeof(path), "%s/tests/data/senml-units.txt", top && *top ? top : ".");
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s (set FG_SRCDIR)", path);
	while (fgets(line, sizeof(line), f)) {
		char unit[FG_UNIT_MAX];

		if (line[0] == '#' || line[0] == '\n')
			continue;
		ck_assert_int_eq(sscanf(line, "%15s", unit), 1);
		ck_assert_uint_lt(n_registry, REGISTRY_MAX);
		snprintf(registry[n_registry++], FG_UNIT_MAX, "%s", unit);
	}
	fclose(f);
	ck_assert_uint_eq(n_registry, 58 + 8); /* RFC 8428 Table 6, RFC 8798 Table 1 */
}

static bool in_registry(const char *u)
{
	for (size_t i = 0; i < n_registry; i++)
		if (strcmp(registry[i], u) == 0)
			return true;
	return false;
}

/* "temperature_2" (BTHome repeat) and "temperature_3" (Cayenne channel) are "temperature". */
static void base_name(char *dst, const char *q)
{
	size_t n = strlen(q), k = n;

	while (k > 0 && q[k - 1] >= '0' && q[k - 1] <= '9')
		k--;
	if (k < n && k > 1 && q[k - 1] == '_')
		n = k - 1;
	snprintf(dst, FG_QUANTITY_MAX, "%.*s", (int) n, q);
}

/* Check and remember the values one decoder returned. */
static void collect(const char *decoder, const struct fg_codec_value *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].unit[0])
			ck_assert_msg(in_registry(v[i].unit),
				      "%s: %s in '%s', which is not a registered SenML unit",
				      decoder, v[i].quantity, v[i].unit);
		else
			/* No "u": a number's unit, if it has one, is in its name (no "rad/s" in
			 * there). */
			ck_assert_msg(!strchr(v[i].quantity, '/'), "%s: %s", decoder,
				      v[i].quantity);
		ck_assert_uint_lt(n_seen, SEEN_MAX);
		base_name(seen[n_seen].quantity, v[i].quantity);
		snprintf(seen[n_seen].unit, FG_UNIT_MAX, "%s", v[i].unit);
		seen[n_seen].decoder = decoder;
		n_seen++;
	}
}

/* Decode one BLE payload and collect its values; returns the decoder's result. */
static int ble(enum fg_ble_format f, bool service, uint16_t id, const uint8_t *p, size_t n)
{
	struct fg_ble_data d = { .service = service, .id = id, .p = p, .n = n };
	struct fg_codec_value out[FG_CODEC_VALUES_MAX];
	size_t k = 0;
	int r;

	r = fg_ble_decode(f, &d, NULL, out, FG_CODEC_VALUES_MAX, &k, NULL, NULL, 0);
	if (r == 0)
		collect(fg_ble_format_to_string(f), out, k);
	return r;
}

/* Every decoder, over inputs that make it emit each of its quantities. */
static void run_all_decoders(void)
{
	static const uint8_t mac[6] = { 0xA4, 0xC1, 0x38, 0x01, 0x02, 0x03 };
	struct fg_codec_value out[FG_CODEC_VALUES_MAX];
	uint8_t buf[64];
	size_t len, k;
	unsigned bthome_ids = 0, lpp_types = 0;

	if (n_seen)
		return;
	load_registry();

	/*
	 * BTHome: every object id, with value bytes of every length up to 6 and
	 * two fills (0x03 makes the command a step, with its steps value).
	 */
	for (unsigned id = 0; id < 256; id++) {
		bool ok = false;

		for (size_t n = 1; n <= 6; n++)
			for (unsigned fill = 1; fill <= 3; fill += 2) {
				buf[0] = 0x40;
				buf[1] = (uint8_t) id;
				memset(buf + 2, (int) fill, n);
				if (ble(FG_BLE_BTHOME, true, 0xFCD2, buf, 2 + n) == 0)
					ok = true;
			}
		bthome_ids += ok;
	}
	ck_assert_uint_ge(bthome_ids, 90); /* the spec's objects, not a few by accident */

	/* Cayenne LPP: every type the encoder knows, on channel 5. */
	for (unsigned type = 0; type < 256; type++) {
		const double v[3] = { 1, 1, 1 };

		len = 0;
		if (fg_cayenne_put(buf, sizeof(buf), &len, 5, (uint8_t) type, v) < 0)
			continue;
		ck_assert_int_eq(fg_cayenne_decode(buf, len, out, FG_CODEC_VALUES_MAX, &k, NULL, 0),
				 0);
		collect("cayenne", out, k);
		lpp_types++;
	}
	ck_assert_uint_eq(lpp_types, 26); /* codec.h: the reference list */

	/* RuuviTag 5 with every field available, and 3. */
	ck_assert_int_eq(fg_ble_build_ruuvi5(21.5, 40, 100000, 0.1, 0.2, 1, 3.0, 4, 7, 9, mac, buf,
					     sizeof(buf), &len),
			 0);
	ck_assert_int_eq(ble(FG_BLE_RUUVI_V5, false, 0x0499, buf, len), 0);
	{
		static const uint8_t r3[14] = { 0x03, 0x29, 0x1A, 0x1E, 0xCE, 0x1E, 0xFC,
						0x18, 0xF9, 0x42, 0x02, 0xCA, 0x0B, 0x53 };
		ck_assert_int_eq(ble(FG_BLE_RUUVI_V3, false, 0x0499, r3, sizeof(r3)), 0);
	}

	/* The Xiaomi family. */
	ck_assert_int_eq(fg_ble_build_atc1441(mac, 21.5, 40, 90, 2900, 1, buf, sizeof(buf), &len),
			 0);
	ck_assert_int_eq(ble(FG_BLE_ATC1441, true, 0x181A, buf, len), 0);
	{
		static const uint8_t pvvx[15] = { 0x03, 0x02, 0x01, 0x38, 0xC1, 0xA4, 0x66, 0x08,
						  0x10, 0x0E, 0x54, 0x0B, 0x5A, 0x01, 0x00 };
		/* MiBeacon v2, plain, every object we decode. */
		static const uint8_t mi[] = {
			0x40, 0x20, 0x5B, 0x05, 0x01, /* frame control, product, counter */
			0x04, 0x10, 0x02, 0xD6, 0x00, /* temperature 21.4 */
			0x06, 0x10, 0x02, 0x90, 0x01, /* humidity 40.0 */
			0x0D, 0x10, 0x04, 0xD6, 0x00, 0x90, 0x01, /* both */
			0x0A, 0x10, 0x01, 0x5A,			  /* battery 90 */
			0x07, 0x10, 0x03, 0x10, 0x27, 0x00,	  /* illuminance 10000 */
			0x08, 0x10, 0x01, 0x2A,			  /* moisture 42 */
			0x09, 0x10, 0x02, 0xF4, 0x01,		  /* conductivity 500 uS/cm */
		};

		ck_assert_int_eq(ble(FG_BLE_PVVX, true, 0x181A, pvvx, sizeof(pvvx)), 0);
		ck_assert_int_eq(ble(FG_BLE_MIBEACON, true, 0xFE95, mi, sizeof(mi)), 0);
	}

	/* Govee, iBeacon, Eddystone TLM. */
	{
		static const uint8_t govee[6] = { 0x00, 0x03, 0x4D, 0xB2, 0x64, 0x00 };
		static const uint8_t ib[23] = { 0x02, 0x15, 0xFD, 0xA5, 0x06, 0x93, 0xA4, 0xE2,
						0x4F, 0xB1, 0xAF, 0xCF, 0xC6, 0xEB, 0x07, 0x64,
						0x78, 0x25, 0x27, 0x11, 0x00, 0x01, 0xC5 };
		static const uint8_t tlm[14] = { 0x20, 0x00, 0x0B, 0xB8, 0x18, 0x00, 0x00,
						 0x00, 0x10, 0x00, 0x00, 0x00, 0x30, 0x00 };

		ck_assert_int_eq(ble(FG_BLE_GOVEE, false, 0xEC88, govee, sizeof(govee)), 0);
		ck_assert_int_eq(ble(FG_BLE_IBEACON, false, 0x004C, ib, sizeof(ib)), 0);
		ck_assert_int_eq(ble(FG_BLE_EDDYSTONE_TLM, true, 0xFEAA, tlm, sizeof(tlm)), 0);
	}

	/* The layouts of the sample configuration, which users copy. */
	{
		const char *top = getenv("FG_SRCDIR");
		char path[4096], *text;
		struct fg_config *cfg = NULL;
		struct fg_diags diags = { 0 };
		FILE *f;
		long size;

		snprintf(path, sizeof(path), "%s/conf/fieldgate.conf", top && *top ? top : ".");
		f = fopen(path, "r");
		ck_assert_msg(f != NULL, "cannot open %s", path);
		ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
		size = ftell(f);
		rewind(f);
		text = calloc(1, (size_t) size + 1);
		ck_assert_ptr_nonnull(text);
		ck_assert_uint_eq(fread(text, 1, (size_t) size, f), (size_t) size);
		fclose(f);
		ck_assert_int_eq(fg_config_load_string(text, "fieldgate.conf", &cfg, &diags), 0);
		ck_assert_uint_gt(cfg->n_codecs, 0);
		for (size_t i = 0; i < cfg->n_codecs; i++)
			for (size_t j = 0; j < cfg->codecs[i].n_fields; j++) {
				struct fg_codec_value v = { 0 };

				snprintf(v.quantity, sizeof(v.quantity), "%s",
					 cfg->codecs[i].fields[j].name);
				snprintf(v.unit, sizeof(v.unit), "%s",
					 cfg->codecs[i].fields[j].unit);
				collect("conf/fieldgate.conf", &v, 1);
			}
		fg_config_free(cfg);
		fg_diags_clear(&diags);
		free(text);
	}

	/* The raw codec. */
	ck_assert_int_eq(fg_raw_decode(buf, 4, out, FG_CODEC_VALUES_MAX, &k), 0);
	collect("raw", out, k);
}

/* The unit a decoder gave quantity q, or NULL if it has none of that name. */
static const char *unit_of(const char *decoder, const char *q)
{
	for (size_t i = 0; i < n_seen; i++)
		if (strcmp(seen[i].decoder, decoder) == 0 && strcmp(seen[i].quantity, q) == 0)
			return seen[i].unit;
	return NULL;
}

START_TEST(code_table_matches_the_rfcs)
{
	size_t n = 0;

	load_registry();
	for (; fg_units_registered[n]; n++)
		ck_assert_msg(in_registry(fg_units_registered[n]),
			      "units.c has '%s', the RFCs do not", fg_units_registered[n]);
	ck_assert_uint_eq(n, n_registry);
	for (size_t i = 0; i < n_registry; i++)
		ck_assert_msg(fg_unit_registered(registry[i]), "units.c lacks '%s'", registry[i]);
	/* Secondary units and look-alikes are not registered. */
	ck_assert(!fg_unit_registered("dBm"));
	ck_assert(!fg_unit_registered("hPa"));
	ck_assert(!fg_unit_registered("rad/s"));
	ck_assert(!fg_unit_registered("cel"));
	ck_assert(!fg_unit_registered(""));
	ck_assert(!fg_unit_registered(NULL));
}
END_TEST

START_TEST(secondary_units_convert)
{
	const char *u;
	double scale, offset;

	ck_assert_int_eq(fg_unit_secondary("dBm", &u, &scale, &offset), 0);
	ck_assert_str_eq(u, "dBW");
	ck_assert(scale == 1 && offset == -30);
	ck_assert_int_eq(fg_unit_secondary("hPa", &u, &scale, &offset), 0);
	ck_assert_str_eq(u, "Pa");
	ck_assert(scale == 100 && offset == 0);
	ck_assert_int_eq(fg_unit_secondary("/100", &u, &scale, &offset), 0);
	ck_assert_str_eq(u, "/");
	ck_assert_int_eq(fg_unit_secondary("Pa", &u, &scale, &offset), -ENOENT);
	ck_assert_int_eq(fg_unit_secondary("rad/s", NULL, NULL, NULL), -ENOENT);
}
END_TEST

START_TEST(config_units_are_checked)
{
	char why[240];

	ck_assert_int_eq(fg_unit_check("", why, sizeof(why)), 0);
	ck_assert_int_eq(fg_unit_check("%EL", why, sizeof(why)), 0);
	ck_assert_int_eq(fg_unit_check("mV", why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, "unit = \"V\"") && strstr(why, "0.001"), "%s", why);
	ck_assert_int_eq(fg_unit_check("dBm", why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, "\"dBW\"") && strstr(why, "add -30 to add"), "%s", why);
	ck_assert_int_eq(fg_unit_check("rad/s", why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, "not a registered SenML unit"), "%s", why);
	ck_assert_int_eq(fg_unit_check("psi", NULL, 0), -EINVAL);
}
END_TEST

START_TEST(layout_refuses_unregistered_units)
{
	struct fg_layout_field f = {
		.name = "pressure", .unit = "hPa", .type = FG_LAYOUT_U16, .scale = 0.1, .fport = -1
	};
	struct fg_layout l = { &f, 1 };
	char why[240];

	ck_assert_int_eq(fg_layout_validate(&l, NULL, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, "'hPa'") && strstr(why, "\"Pa\""), "%s", why);
	snprintf(f.unit, sizeof(f.unit), "Pa");
	ck_assert_int_eq(fg_layout_validate(&l, NULL, why, sizeof(why)), 0);
	f.unit[0] = '\0';
	ck_assert_int_eq(fg_layout_validate(&l, NULL, why, sizeof(why)), 0);
}
END_TEST

START_TEST(every_decoder_emits_registered_units)
{
	run_all_decoders(); /* collect() asserts each unit */
	ck_assert_uint_ge(n_seen, 150);
}
END_TEST

START_TEST(one_quantity_one_unit)
{
	run_all_decoders();
	for (size_t i = 0; i < n_seen; i++)
		for (size_t j = i + 1; j < n_seen; j++)
			if (strcmp(seen[i].quantity, seen[j].quantity) == 0)
				ck_assert_msg(strcmp(seen[i].unit, seen[j].unit) == 0,
					      "%s is '%s' from %s but '%s' from %s",
					      seen[i].quantity, seen[i].unit, seen[i].decoder,
					      seen[j].unit, seen[j].decoder);
}
END_TEST

START_TEST(the_issue_cases)
{
	static const char *const battery_pct[] = { "bthome", "atc1441", "pvvx", "mibeacon",
						   "govee" };

	run_all_decoders();
	for (size_t i = 0; i < sizeof(battery_pct) / sizeof(battery_pct[0]); i++) {
		const char *u = unit_of(battery_pct[i], "battery");

		ck_assert_msg(u != NULL, "%s has no battery", battery_pct[i]);
		ck_assert_str_eq(u, "%EL");
	}
	ck_assert_str_eq(unit_of("ruuvi5", "tx_power"), "dBW");
	ck_assert_str_eq(unit_of("ibeacon", "tx_power"), "dBW");
	ck_assert_str_eq(unit_of("bthome", "gyroscope_deg_per_s"), "");
	ck_assert_str_eq(unit_of("cayenne", "gyrometer_x_deg_per_s"), "");
	ck_assert_str_eq(unit_of("cayenne", "barometer"), "Pa");
	ck_assert_str_eq(unit_of("bthome", "moisture"), "/");
	ck_assert_str_eq(unit_of("mibeacon", "moisture"), "/");
	ck_assert_str_eq(unit_of("cayenne", "percentage"), "/");
}
END_TEST

static Suite *units_suite(void)
{
	Suite *s = suite_create("units");
	TCase *tc = tcase_create("registry");

	tcase_add_test(tc, code_table_matches_the_rfcs);
	tcase_add_test(tc, secondary_units_convert);
	tcase_add_test(tc, config_units_are_checked);
	tcase_add_test(tc, layout_refuses_unregistered_units);
	tcase_add_test(tc, every_decoder_emits_registered_units);
	tcase_add_test(tc, one_quantity_one_unit);
	tcase_add_test(tc, the_issue_cases);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(units_suite());
}
