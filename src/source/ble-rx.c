/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/log.h"
#include "source/ble-rx.h"

#define STRANGERS_MAX 256 /* unknown advertisers remembered for throttling */

/* What `fieldgatectl devices` shows of one advertiser. */
struct heard {
	uint64_t last_ms;	/* wall time of the last advertisement decoded, 0 never */
	uint64_t readings, refused;
	int rssi;
	bool has_rssi;
	int format;		/* of the last one decoded or refused, -1 none */
};

struct stranger {
	char address[18];
	uint64_t last_usec;
	struct heard heard;
};

struct fg_ble_rx {
	const struct fg_config *cfg;
	struct fg_ble_state_ops ops;
	struct fg_ble_rx_stats stats;
	uint64_t *last_usec; /* per configured device: the last reading, monotonic */
	struct heard *heard; /* per configured device */
	struct stranger strangers[STRANGERS_MAX];
	size_t next_stranger;
	uint64_t frame_ids;
};

int fg_ble_rx_new(const struct fg_config *cfg, const struct fg_ble_state_ops *ops,
		  struct fg_ble_rx **ret)
{
	struct fg_ble_rx *x = calloc(1, sizeof(*x));

	if (!x)
		return -ENOMEM;
	x->last_usec = calloc(cfg->ble.n_devices + 1, sizeof(*x->last_usec));
	x->heard = calloc(cfg->ble.n_devices + 1, sizeof(*x->heard));
	if (!x->last_usec || !x->heard) {
		fg_ble_rx_free(x);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cfg->ble.n_devices; i++)
		x->heard[i].format = -1;
	x->cfg = cfg;
	if (ops)
		x->ops = *ops;
	*ret = x;
	return 0;
}

void fg_ble_rx_free(struct fg_ble_rx *x)
{
	if (!x)
		return;
	free(x->last_usec);
	free(x->heard);
	free(x);
}

void fg_ble_rx_get_stats(const struct fg_ble_rx *x, struct fg_ble_rx_stats *ret)
{
	*ret = x->stats;
}

static const struct fg_ble_device *find_device(const struct fg_ble_rx *x, const char *address)
{
	for (size_t i = 0; i < x->cfg->ble.n_devices; i++)
		if (!strcasecmp(x->cfg->ble.devices[i].address_text, address))
			return &x->cfg->ble.devices[i];
	return NULL;
}

bool fg_ble_rx_wanted(struct fg_ble_rx *x, const char *address)
{
	return find_device(x, address) || x->cfg->ble.unknown == FG_BLE_UNKNOWN_DECODE;
}

/*
 * The throttle slot and counters of an advertiser: configured devices have
 * one each, strangers share a ring (the oldest is forgotten).
 */
static uint64_t *last_slot(struct fg_ble_rx *x, const struct fg_ble_device *d, const char *address,
			   struct heard **ret_heard)
{
	struct stranger *s;

	if (d) {
		*ret_heard = &x->heard[d - x->cfg->ble.devices];
		return &x->last_usec[d - x->cfg->ble.devices];
	}
	for (size_t i = 0; i < STRANGERS_MAX; i++)
		if (!strcasecmp(x->strangers[i].address, address)) {
			*ret_heard = &x->strangers[i].heard;
			return &x->strangers[i].last_usec;
		}
	s = &x->strangers[x->next_stranger];
	x->next_stranger = (x->next_stranger + 1) % STRANGERS_MAX;
	snprintf(s->address, sizeof(s->address), "%s", address);
	s->last_usec = 0;
	s->heard = (struct heard){ .format = -1 };
	*ret_heard = &s->heard;
	return &s->last_usec;
}

int fg_ble_rx_device_info(const struct fg_ble_rx *x, size_t i, struct fg_ble_rx_device_info *ret)
{
	const struct heard *h;
	size_t n = x->cfg->ble.n_devices;

	if (i < n) {
		h = &x->heard[i];
		*ret = (struct fg_ble_rx_device_info){ .name = x->cfg->ble.devices[i].name,
						      .address = x->cfg->ble.devices[i].address_text,
						      .configured = true };
	} else {
		/* Strangers in the order they were first heard: the ring from its oldest slot. */
		const struct stranger *s = NULL;
		size_t k = i - n, seen = 0;

		for (size_t j = 0; j < STRANGERS_MAX && !s; j++) {
			const struct stranger *t = &x->strangers[(x->next_stranger + j) % STRANGERS_MAX];

			if (t->address[0] && seen++ == k)
				s = t;
		}
		if (!s)
			return -ENOENT;
		h = &s->heard;
		*ret = (struct fg_ble_rx_device_info){ .name = s->address, .address = s->address };
	}
	ret->last_ms = h->last_ms;
	ret->readings = h->readings;
	ret->refused = h->refused;
	ret->has_rssi = h->has_rssi;
	ret->rssi = h->rssi;
	ret->format = h->format;
	return 0;
}

static bool parse_address(const char *s, uint8_t out[6])
{
	unsigned b[6];

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		out[i] = (uint8_t)b[i];
	return true;
}

void fg_ble_rx_handle(struct fg_ble_rx *x, const struct fg_ble_adv *adv, fg_reading_fn emit,
		      void *userdata)
{
	static struct fg_codec_value values[FG_CODEC_VALUES_MAX];
	struct fg_reading r[FG_CODEC_VALUES_MAX];
	const struct fg_ble_device *d = find_device(x, adv->address);
	const struct fg_ble_data *data = NULL;
	struct fg_ble_keys keys = { 0 };
	struct fg_ble_result res = { 0 };
	uint32_t interval_s;
	uint64_t now = fg_clock_mono_usec(), *last;
	struct heard *h;
	char id[16], why[160] = "";
	const char *name;
	size_t n = 0;
	int format = -1, e;

	x->stats.adverts++;
	if (!d && x->cfg->ble.unknown != FG_BLE_UNKNOWN_DECODE) {
		x->stats.ignored++;
		return;
	}
	/* The first element in the device's format (or in any format we know). */
	for (size_t i = 0; i < adv->n_data && !data; i++) {
		int f = fg_ble_detect(&adv->data[i]);

		if (f >= 0 && (!d || d->codec < 0 || d->codec == f)) {
			data = &adv->data[i];
			format = f;
		}
	}
	if (!data) {
		x->stats.ignored++;
		return;
	}
	name = d ? d->name : adv->address;
	if (!parse_address(adv->address, keys.address)) {
		x->stats.ignored++;
		return;
	}
	if (d && d->has_bindkey)
		keys.bindkey = d->bindkey;
	/* Only encrypted advertisements carry a counter, and they need a bindkey: no lookup else. */
	if (keys.bindkey && x->ops.get_counter &&
	    x->ops.get_counter(x->ops.userdata, name, &keys.last_counter) == 0)
		keys.have_counter = true;
	e = fg_ble_decode(format, data, &keys, values, FG_CODEC_VALUES_MAX, &n, &res, why,
			  sizeof(why));
	if (e < 0) {
		(void)last_slot(x, d, adv->address, &h);
		h->refused++;
		h->format = format;
		if (e == -EACCES)
			x->stats.unauthenticated++;
		else if (e == -ESTALE)
			x->stats.replayed++;
		else
			x->stats.malformed++;
		fg_log_device(LOG_WARNING, "ble", "ble", adv->address, "%s: %s advertisement refused: %s",
			      name, fg_ble_format_to_string(format),
			      e == -EACCES ? (why[0] ? why : "cannot authenticate it (bindkey?)") :
			      e == -ESTALE ? "replayed counter" :
					     (why[0] ? why : strerror(-e)));
		return;
	}
	if (res.has_counter && x->ops.set_counter)
		(void)x->ops.set_counter(x->ops.userdata, name, res.counter);
	interval_s = d && d->min_interval_s ? d->min_interval_s : x->cfg->ble.min_interval_s;
	last = last_slot(x, d, adv->address, &h);
	h->format = format;
	if (*last && now - *last < (uint64_t)interval_s * FG_USEC_PER_SEC) {
		x->stats.throttled++;
		return;
	}
	*last = now;
	x->stats.decoded++;
	h->last_ms = fg_clock_wall_ms();
	h->readings += n;
	h->has_rssi = adv->has_rssi;
	h->rssi = adv->rssi;
	snprintf(id, sizeof(id), "%02x%02x%02x%02x%02x%02x", keys.address[0], keys.address[1],
		 keys.address[2], keys.address[3], keys.address[4], keys.address[5]);
	x->frame_ids++;
	for (size_t i = 0; i < n; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		(void)fg_reading_init(&r[i], FG_SOURCE_BLE, id, name, values[i].quantity,
				      values[i].unit);
		switch (values[i].kind) {
		case FG_VALUE_NUMBER:
			fg_reading_set_number(&r[i], values[i].number);
			break;
		case FG_VALUE_BOOL:
			fg_reading_set_bool(&r[i], values[i].boolean);
			break;
		default:
			fg_reading_set_text(&r[i], values[i].text);
			break;
		}
		r[i].mono_usec = now;
		snprintf(r[i].boot_id, sizeof(r[i].boot_id), "%s", fg_clock_boot_id());
		r[i].frame_id = x->frame_ids;
		r[i].radio.present = adv->has_rssi;
		r[i].radio.rssi = adv->rssi;
		r[i].radio.dr = -1;
	}
	if (n > 0)
		emit(r, n, userdata);
}
