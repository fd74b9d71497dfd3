/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "codec/ble.h"
#include "source/ble-rx.h"
#include "source/devices.h"
#include "source/lora.h"
#include "source/sim.h"

/* A device with every key null but its identity. */
static json_t *device_new(const char *source, const char *name, const char *id, bool configured)
{
	return json_pack("{s:s,s:s,s:s,s:b,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n}",
			 "source", source, "name", name, "id", id, "configured", configured,
			 "last_seen_ms", "readings", "refused", "rssi", "snr", "dev_eui",
			 "activation", "joined", "dev_addr", "fcnt_up", "fcnt_down", "address",
			 "format");
}

static void set_hex(json_t *o, const char *key, const char *fmt, unsigned long long v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), fmt, v);
	json_object_set_new(o, key, json_string(buf));
}

static void set_uint(json_t *o, const char *key, uint64_t v)
{
	json_object_set_new(o, key, json_integer((json_int_t) v));
}

static int lora_devices(const struct fg_config *cfg, const struct fg_lora *lora,
			fg_devices_state_fn state, void *su, fg_devices_fn fn, void *userdata)
{
	for (size_t i = 0; i < cfg->lorawan.n_devices; i++) {
		const struct fg_lorawan_device *d = &cfg->lorawan.devices[i];
		struct fg_lora_device_info info = { 0 };
		bool running = lora && fg_lora_device_info(lora, i, &info) == 0;
		char id[20];
		int64_t v;
		json_t *o;
		int r;

		snprintf(id, sizeof(id), "%016llx", (unsigned long long) d->dev_eui);
		o = device_new("lora", d->name, id, true);
		if (!o)
			return -ENOMEM;
		json_object_set_new(o, "dev_eui", json_string(id));
		json_object_set_new(o, "activation", json_string(d->otaa ? "otaa" : "abp"));
		if (running) {
			if (info.heard && info.last_ms)
				set_uint(o, "last_seen_ms", info.last_ms);
			set_uint(o, "readings", info.readings);
			set_uint(o, "refused", info.refused);
			if (info.heard) {
				json_object_set_new(o, "rssi", json_integer(info.rssi));
				json_object_set_new(o, "snr", json_real((double) info.snr));
			}
			json_object_set_new(o, "joined", json_boolean(info.joined));
			if (info.joined)
				set_hex(o, "dev_addr", "%08llx", info.dev_addr);
			set_uint(o, "fcnt_down", info.fcnt_down);
		} else if (!d->otaa) {
			/* ABP: the session is the configuration's. OTAA: unknown without the
			 * daemon. */
			json_object_set_new(o, "joined", json_true());
			set_hex(o, "dev_addr", "%08llx", d->dev_addr);
		}
		/* Not heard since start: the counter the buffer kept. */
		if (running && info.heard)
			set_uint(o, "fcnt_up", info.fcnt_up);
		else if (state && state(d->name, "fcnt_up", &v, su) == 0)
			set_uint(o, "fcnt_up", (uint64_t) v);
		else if (running)
			set_uint(o, "fcnt_up", info.fcnt_up);
		r = fn(o, userdata);
		if (r < 0)
			return r;
	}
	return 0;
}

static int ble_devices(const struct fg_config *cfg, const struct fg_ble_rx *rx, fg_devices_fn fn,
		       void *userdata)
{
	struct fg_ble_rx_device_info info;

	for (size_t i = 0;; i++) {
		char id[16];
		unsigned b[6] = { 0 };
		json_t *o;
		int r;

		if (rx) {
			if (fg_ble_rx_device_info(rx, i, &info) < 0)
				return 0;
		} else if (i < cfg->ble.n_devices) {
			info = (struct fg_ble_rx_device_info){
				.name = cfg->ble.devices[i].name,
				.address = cfg->ble.devices[i].address_text,
				.configured = true,
				.format = -1,
			};
		} else {
			return 0;
		}
		/* The device id of its readings: the address as 12 hex digits. */
		(void) sscanf(info.address, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3],
			      &b[4], &b[5]);
		snprintf(id, sizeof(id), "%02x%02x%02x%02x%02x%02x", b[0] & 0xff, b[1] & 0xff,
			 b[2] & 0xff, b[3] & 0xff, b[4] & 0xff, b[5] & 0xff);
		o = device_new("ble", info.name, id, info.configured);
		if (!o)
			return -ENOMEM;
		json_object_set_new(o, "address", json_string(info.address));
		if (info.configured && cfg->ble.devices[i].codec >= 0)
			json_object_set_new(
				o, "format",
				json_string(fg_ble_format_to_string(cfg->ble.devices[i].codec)));
		if (rx) {
			if (info.last_ms)
				set_uint(o, "last_seen_ms", info.last_ms);
			set_uint(o, "readings", info.readings);
			set_uint(o, "refused", info.refused);
			if (info.has_rssi && info.last_ms)
				json_object_set_new(o, "rssi", json_integer(info.rssi));
			if (info.format >= 0)
				json_object_set_new(
					o, "format",
					json_string(fg_ble_format_to_string(info.format)));
		}
		r = fn(o, userdata);
		if (r < 0)
			return r;
	}
}

static int sim_devices(const struct fg_config *cfg, const struct fg_sim *sim, fg_devices_fn fn,
		       void *userdata)
{
	const struct fg_sim_config *sc = &cfg->sources.sim;

	if (!sc->enabled)
		return 0;
	for (uint32_t i = 0; i < sc->devices; i++) {
		struct fg_sim_device_info info = { 0 };
		char name[FG_DEVICE_ID_MAX];
		json_t *o;
		int r;

		if (sim && fg_sim_device_info(sim, i, &info) < 0)
			return 0;
		/* As sim.c names them. */
		snprintf(name, sizeof(name), "%s%04u", sc->name_prefix ? sc->name_prefix : "sim-",
			 i + 1);
		o = device_new("sim", sim ? info.name : name, sim ? info.name : name, true);
		if (!o)
			return -ENOMEM;
		if (sim) {
			if (info.last_ms)
				set_uint(o, "last_seen_ms", info.last_ms);
			set_uint(o, "readings", info.readings);
			set_uint(o, "refused", 0);
		}
		r = fn(o, userdata);
		if (r < 0)
			return r;
	}
	return 0;
}

int fg_devices_each(const struct fg_config *cfg, const struct fg_devices_sources *src,
		    fg_devices_state_fn state, void *state_userdata, fg_devices_fn fn,
		    void *userdata)
{
	int r;

	r = lora_devices(cfg, src->lora, state, state_userdata, fn, userdata);
	if (r >= 0)
		r = ble_devices(cfg, src->ble_rx, fn, userdata);
	if (r >= 0)
		r = sim_devices(cfg, src->sim, fn, userdata);
	return r < 0 ? r : 0;
}
