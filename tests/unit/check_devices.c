/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The device list of `fieldgatectl devices` (source/devices.c) and the
 * per-device counters it reads from ble-rx.c: one shape with or without
 * running sources, every key in every object.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "config/config.h"
#include "source/ble-rx.h"
#include "source/devices.h"
#include "source/sim.h"
#include "check-main.h"

static const char *const keys[] = { "source",	    "name",	"id",	      "configured",
				    "last_seen_ms", "readings", "refused",    "rssi",
				    "snr",	    "dev_eui",	"activation", "joined",
				    "dev_addr",	    "fcnt_up",	"fcnt_down",  "address",
				    "format",	    NULL };

static const char conf[] =
	"sources = { sim = { enabled = true; devices = 2; name_prefix = \"room-\"; }; };\n"
	"ble = { unknown = \"decode\"; min_interval = 0; devices = (\n"
	"  { name = \"porch\"; address = \"A4:C1:38:00:11:22\"; codec = \"bthome\"; } ); };\n"
	"lorawan = { devices = (\n"
	"  { name = \"soil\"; dev_eui = \"70B3D57ED0000042\"; dev_addr = \"26011BDA\";\n"
	"    nwk_s_key = \"9A2F3C4D5E6F708192A3B4C5D6E7F801\";\n"
	"    app_s_key = \"1F2E3D4C5B6A79880796A5B4C3D2E1F0\"; },\n"
	"  { name = \"door\"; dev_eui = \"0004A30B001C0530\";\n"
	"    app_key = \"000102030405060708090A0B0C0D0E0F\"; } ); };\n";

static struct fg_config *cfg;

static void setup(void)
{
	struct fg_diags diags = { 0 };

	ck_assert_int_eq(fg_config_load_string(conf, "devices.conf", &cfg, &diags), 0);
	fg_diags_clear(&diags);
}

static void teardown(void)
{
	fg_config_free(cfg);
	cfg = NULL;
}

static int append(json_t *dev, void *userdata)
{
	return json_array_append_new(userdata, dev);
}

static int fcnt_41(const char *device, const char *key, int64_t *ret, void *userdata)
{
	(void) userdata;
	if (strcmp(device, "soil") || strcmp(key, "fcnt_up"))
		return -ENOENT;
	*ret = 41;
	return 0;
}

static json_t *walk(const struct fg_devices_sources *src, fg_devices_state_fn state)
{
	json_t *a = json_array(), *d;
	size_t i;

	ck_assert_int_eq(fg_devices_each(cfg, src, state, NULL, append, a), 0);
	json_array_foreach(a, i, d)
	{
		const char *k;
		json_t *v;
		size_t j = 0;

		/* Every key, in one order, and nothing else. */
		json_object_foreach(d, k, v)
		{
			ck_assert_ptr_nonnull(keys[j]);
			ck_assert_str_eq(k, keys[j]);
			j++;
		}
		ck_assert_ptr_null(keys[j]);
	}
	return a;
}

static void noop(const struct fg_reading *r, size_t n, void *userdata)
{
	(void) r;
	(void) n;
	(void) userdata;
}

static const char *s(const json_t *a, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_array_get(a, i), key));
}

static json_t *v(const json_t *a, size_t i, const char *key)
{
	return json_object_get(json_array_get(a, i), key);
}

START_TEST(devices_without_sources_list_the_configuration)
{
	const struct fg_devices_sources none = { 0 };
	json_t *a = walk(&none, fcnt_41);

	ck_assert_uint_eq(json_array_size(a), 5);
	ck_assert_str_eq(s(a, 0, "source"), "lora");
	ck_assert_str_eq(s(a, 0, "name"), "soil");
	ck_assert_str_eq(s(a, 0, "id"), "70b3d57ed0000042");
	ck_assert_str_eq(s(a, 0, "dev_addr"), "26011bda");
	ck_assert(json_is_true(v(a, 0, "joined")));
	ck_assert_int_eq(json_integer_value(v(a, 0, "fcnt_up")), 41);
	/* An OTAA device's session is the daemon's to know. */
	ck_assert(json_is_null(v(a, 1, "joined")));
	ck_assert(json_is_null(v(a, 1, "fcnt_up")));
	ck_assert_str_eq(s(a, 2, "source"), "ble");
	ck_assert_str_eq(s(a, 2, "id"), "a4c138001122");
	ck_assert_str_eq(s(a, 2, "format"), "bthome");
	ck_assert_str_eq(s(a, 3, "name"), "room-0001");
	ck_assert_str_eq(s(a, 4, "id"), "room-0002");
	for (size_t i = 0; i < 5; i++) {
		ck_assert(json_is_null(v(a, i, "readings")));
		ck_assert(json_is_null(v(a, i, "refused")));
		ck_assert(json_is_null(v(a, i, "last_seen_ms")));
		ck_assert(json_is_null(v(a, i, "rssi")));
	}
	json_decref(a);
}
END_TEST

START_TEST(devices_of_running_ble_and_sim_have_their_counters)
{
	static const uint8_t bthome[] = { 0x40, 0x02, 0xc4, 0x09, 0x03, 0xbf, 0x13 };
	static const uint8_t garbage[] = { 0x40, 0x02 };
	struct fg_ble_data data = {
		.service = true, .id = 0xfcd2, .p = bthome, .n = sizeof(bthome)
	};
	struct fg_ble_data bad = {
		.service = true, .id = 0xfcd2, .p = garbage, .n = sizeof(garbage)
	};
	struct fg_ble_adv porch = { .address = "A4:C1:38:00:11:22",
				    .has_rssi = true,
				    .rssi = -61,
				    .data = &data,
				    .n_data = 1 };
	struct fg_ble_adv stranger = { .address = "11:22:33:44:55:66",
				       .has_rssi = true,
				       .rssi = -70,
				       .data = &data,
				       .n_data = 1 };
	struct fg_ble_rx_device_info info;
	struct fg_devices_sources src = { 0 };
	struct fg_ble_rx *rx;
	struct fg_sim *sim;
	json_t *a;

	ck_assert_int_eq(fg_ble_rx_new(cfg, NULL, &rx), 0);
	ck_assert_int_eq(fg_sim_new(&cfg->sources.sim, NULL, noop, NULL, &sim), 0);
	fg_ble_rx_handle(rx, &porch, noop, NULL);
	porch.data = &bad;
	fg_ble_rx_handle(rx, &porch, noop, NULL);
	fg_ble_rx_handle(rx, &stranger, noop, NULL);
	fg_sim_tick(sim, fg_sim_next_due(sim));
	ck_assert_int_eq(fg_ble_rx_device_info(rx, 0, &info), 0);
	ck_assert(info.configured);
	ck_assert_uint_eq(info.readings, 2);
	ck_assert_uint_eq(info.refused, 1);
	ck_assert_int_eq(fg_ble_rx_device_info(rx, 1, &info), 0);
	ck_assert(!info.configured);
	ck_assert_str_eq(info.name, "11:22:33:44:55:66");
	ck_assert_int_eq(fg_ble_rx_device_info(rx, 2, &info), -ENOENT);

	src.ble_rx = rx;
	src.sim = sim;
	a = walk(&src, NULL);
	ck_assert_uint_eq(json_array_size(a), 6);
	/* LoRaWAN not running: its devices with what is known without it. */
	ck_assert(json_is_null(v(a, 0, "readings")));
	ck_assert_str_eq(s(a, 2, "name"), "porch");
	ck_assert_int_eq(json_integer_value(v(a, 2, "readings")), 2);
	ck_assert_int_eq(json_integer_value(v(a, 2, "refused")), 1);
	ck_assert_int_eq(json_integer_value(v(a, 2, "rssi")), -61);
	ck_assert(json_integer_value(v(a, 2, "last_seen_ms")) > 0);
	ck_assert_str_eq(s(a, 3, "name"), "11:22:33:44:55:66");
	ck_assert_str_eq(s(a, 3, "id"), "112233445566");
	ck_assert(json_is_false(v(a, 3, "configured")));
	ck_assert_str_eq(s(a, 3, "format"), "bthome");
	ck_assert_int_eq(json_integer_value(v(a, 3, "rssi")), -70);
	ck_assert_str_eq(s(a, 4, "name"), "room-0001");
	ck_assert_int_eq(json_integer_value(v(a, 4, "readings")), FG_SIM_QUANTITIES);
	ck_assert_int_eq(json_integer_value(v(a, 5, "readings")), 0);
	ck_assert(json_is_null(v(a, 5, "last_seen_ms")));
	json_decref(a);
	fg_sim_free(sim);
	fg_ble_rx_free(rx);
}
END_TEST

static int stop_at_two(json_t *dev, void *userdata)
{
	size_t *n = userdata;

	json_decref(dev);
	return ++*n == 2 ? -ENOBUFS : 0;
}

START_TEST(devices_walk_stops_when_asked)
{
	const struct fg_devices_sources none = { 0 };
	size_t n = 0;

	ck_assert_int_eq(fg_devices_each(cfg, &none, NULL, NULL, stop_at_two, &n), -ENOBUFS);
	ck_assert_uint_eq(n, 2);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("devices");
	TCase *tc = tcase_create("devices");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, devices_without_sources_list_the_configuration);
	tcase_add_test(tc, devices_of_running_ble_and_sim_have_their_counters);
	tcase_add_test(tc, devices_walk_stops_when_asked);
	suite_add_tcase(suite, tc);
	return fg_check_main(suite);
}
