/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * ble_bench: BLE advertisement decode throughput on one core through the
 * daemon's own path (fg_ble_rx_handle: device lookup, detection, decoding,
 * readings), for BTHome, RuuviTag 5 and ATC1441 advertisements in turn.
 * Prints advertisements per second.
 *
 *   ble_bench SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>

#include "config/config.h"
#include "core/log.h"
#include "source/ble-rx.h"

static uint64_t readings;

static void emit(const struct fg_reading *r, size_t n, void *u)
{
	(void)r;
	(void)u;
	readings += n;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const char conf[] =
		"ble = { unknown = \"decode\"; min_interval = 0; devices = (\n"
		" { name = \"a\"; address = \"A4:C1:38:00:00:01\"; codec = \"bthome\"; },\n"
		" { name = \"b\"; address = \"A4:C1:38:00:00:02\"; codec = \"ruuvi5\"; },\n"
		" { name = \"c\"; address = \"A4:C1:38:00:00:03\"; codec = \"atc1441\"; } ); };";
	static const char *const address[3] = { "A4:C1:38:00:00:01", "A4:C1:38:00:00:02",
						 "A4:C1:38:00:00:03" };
	uint8_t buf[3][32];
	size_t len[3];
	struct fg_ble_data data[3];
	struct fg_diags diags = { 0 };
	struct fg_config *cfg = NULL;
	struct fg_ble_rx *x = NULL;
	struct fg_ble_rx_stats st;
	double seconds = argc > 1 ? atof(argv[1]) : 3, t0, t;
	uint64_t done = 0;

	fg_log_set_level(LOG_ERR);
	if (fg_config_load_string(conf, "bench.conf", &cfg, &diags) < 0 ||
	    fg_ble_rx_new(cfg, NULL, &x) < 0)
		return 1;
	if (fg_ble_build_bthome(1, 21.5, 45.2, 87, buf[0], sizeof(buf[0]), &len[0]) < 0 ||
	    fg_ble_build_ruuvi5(21.5, 45.2, 101325, 0, 0, 1, 2.95, 4, 0, 1,
				cfg->ble.devices[1].address, buf[1], sizeof(buf[1]), &len[1]) < 0 ||
	    fg_ble_build_atc1441(cfg->ble.devices[2].address, 21.5, 45, 87, 2950, 1, buf[2],
				 sizeof(buf[2]), &len[2]) < 0)
		return 1;
	data[0] = (struct fg_ble_data){ true, 0xFCD2, buf[0], len[0] };
	data[1] = (struct fg_ble_data){ false, 0x0499, buf[1], len[1] };
	data[2] = (struct fg_ble_data){ true, 0x181A, buf[2], len[2] };
	t0 = now();
	do {
		for (int i = 0; i < 3000; i++, done++) {
			struct fg_ble_adv adv = { .address = address[i % 3], .has_rssi = true,
						  .rssi = -70, .data = &data[i % 3], .n_data = 1 };

			fg_ble_rx_handle(x, &adv, emit, NULL);
		}
		t = now() - t0;
	} while (t < seconds);
	fg_ble_rx_get_stats(x, &st);
	printf("%.0f %llu %llu %llu\n", (double)done / t, (unsigned long long)done,
	       (unsigned long long)(st.malformed + st.ignored), (unsigned long long)readings);
	fg_ble_rx_free(x);
	fg_config_free(cfg);
	fg_diags_clear(&diags);
	return st.decoded == done ? 0 : 1;
}
