/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * lora_bench: LoRaWAN decode throughput on one core, through the daemon's own
 * path (fg_lora_handle: parse, MIC, counter, decrypt, Cayenne LPP, readings),
 * with frame counters kept in memory. Prints frames per second.
 *
 *   lora_bench SECONDS
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "config/config.h"
#include "core/log.h"
#include "source/lora.h"

#define FRAMES 4096

static uint32_t last_fcnt;
static bool have_last;
static uint64_t readings;

static int get_fcnt(void *u, const char *device, uint32_t *ret)
{
	(void)u;
	(void)device;
	if (!have_last)
		return -ENOENT;
	*ret = last_fcnt;
	return 0;
}

static int set_fcnt(void *u, const char *device, uint32_t fcnt)
{
	(void)u;
	(void)device;
	last_fcnt = fcnt;
	have_last = true;
	return 0;
}

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
		"lorawan = { devices = ( { name = \"bench-1\"; dev_eui = \"70B3D57ED0000001\"; "
		"dev_addr = \"26011BDA\"; nwk_s_key = \"9A2F3C4D5E6F708192A3B4C5D6E7F801\"; "
		"app_s_key = \"1F2E3D4C5B6A79880796A5B4C3D2E1F0\"; codec = \"cayenne\"; } ); };";
	static uint8_t frames[FRAMES][FG_LW_PHY_MAX];
	static size_t lens[FRAMES];
	const struct fg_lora_state_ops ops = { get_fcnt, set_fcnt, NULL };
	struct fg_radio_meta radio = { .present = true, .rssi = -80, .snr = 7, .freq_hz = 868100000,
				       .sf = 7, .bw_hz = 125000 };
	struct fg_diags diags = { 0 };
	struct fg_config *cfg = NULL;
	struct fg_lw_session s = { .dev_addr = 0x26011BDA };
	struct fg_lora *l = NULL;
	double seconds = argc > 1 ? atof(argv[1]) : 3, t0, t;
	uint64_t done = 0, refused = 0;

	fg_log_set_level(LOG_ERR);
	if (fg_config_load_string(conf, "bench.conf", &cfg, &diags) < 0 ||
	    fg_lora_new(cfg, &ops, &l) < 0)
		return 1;
	memcpy(s.nwk_s_key, cfg->lorawan.devices[0].nwk_s_key, 16);
	memcpy(s.app_s_key, cfg->lorawan.devices[0].app_s_key, 16);
	/* A Cayenne frame: temperature, humidity, voltage; counters 0..FRAMES-1, sent in turn. */
	for (uint32_t i = 0; i < FRAMES; i++) {
		static const uint8_t lpp[] = { 0x01, 0x67, 0x00, 0xd7, 0x02, 0x68, 0x50,
					       0x03, 0x02, 0x01, 0x68 };
		int n = fg_lw_build_uplink(&s, FG_LW_UNCONFIRMED_UP, 0, i, NULL, 0, 2, lpp,
					   sizeof(lpp), frames[i], FG_LW_PHY_MAX);

		if (n < 0)
			return 1;
		lens[i] = (size_t)n;
	}
	t0 = now();
	do {
		/* Counters must rise: after a pass, start over as a device that was never heard. */
		have_last = false;
		for (uint32_t i = 0; i < FRAMES; i++, done++)
			if (fg_lora_handle(l, frames[i], lens[i], &radio, emit, NULL) != FG_LW_OK)
				refused++;
		t = now() - t0;
	} while (t < seconds);
	printf("%.0f %llu %llu %llu\n", (double)done / t, (unsigned long long)done,
	       (unsigned long long)refused, (unsigned long long)readings);
	fg_lora_free(l);
	fg_config_free(cfg);
	fg_diags_clear(&diags);
	return refused ? 1 : 0;
}
