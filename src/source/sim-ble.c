/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "source/sim-ble.h"

struct sim_dev {
	const struct fg_ble_device *d;
	int format;
	double temp, hum;
	uint8_t count;
};

struct fg_sim_ble {
	sd_event_source *timer;
	fg_ble_adv_fn fn;
	void *userdata;
	struct sim_dev *dev;
	size_t n, next;
	uint64_t step_usec;
	uint64_t rng;
};

static double uniform(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (double)((*s * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* One advertisement in the device's format. */
static void advertise(struct fg_sim_ble *s, struct sim_dev *v)
{
	uint8_t buf[32];
	size_t len = 0;
	struct fg_ble_data data = { 0 };
	struct fg_ble_adv adv = { .address = v->d->address_text, .has_rssi = true,
				  .data = &data, .n_data = 1 };
	double h;
	int r;

	v->temp += 0.2 * (uniform(&s->rng) - 0.5);
	v->hum += 1.0 * (uniform(&s->rng) - 0.5);
	h = v->hum < 0 ? 0 : v->hum > 100 ? 100 : v->hum;
	v->count++;
	switch (v->format) {
	case FG_BLE_RUUVI_V5:
		r = fg_ble_build_ruuvi5(v->temp, h, 101325 + 300 * (uniform(&s->rng) - 0.5), 0.0,
					0.0, 1.0, 2.95, 4, 0, v->count, v->d->address, buf,
					sizeof(buf), &len);
		data = (struct fg_ble_data){ false, 0x0499, buf, len };
		break;
	case FG_BLE_ATC1441:
		r = fg_ble_build_atc1441(v->d->address, v->temp, h, 87, 2950, v->count, buf,
					 sizeof(buf), &len);
		data = (struct fg_ble_data){ true, 0x181A, buf, len };
		break;
	default:
		r = fg_ble_build_bthome(v->count, v->temp, h, 87, buf, sizeof(buf), &len);
		data = (struct fg_ble_data){ true, 0xFCD2, buf, len };
		break;
	}
	if (r < 0) {
		fg_log_errno(r, "sim", "cannot build an advertisement for %s: %m", v->d->name);
		return;
	}
	data.p = buf;
	data.n = len;
	adv.rssi = (int16_t)(-50 - 40 * uniform(&s->rng));
	s->fn(&adv, s->userdata);
}

static int on_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct fg_sim_ble *s = userdata;

	advertise(s, &s->dev[s->next]);
	s->next = (s->next + 1) % s->n;
	(void)sd_event_source_set_time(es, usec + s->step_usec);
	return sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
}

int fg_sim_ble_new(const struct fg_config *cfg, sd_event *loop, fg_ble_adv_fn fn, void *userdata,
		   struct fg_sim_ble **ret)
{
	struct fg_sim_ble *s;
	int r;

	*ret = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dev = calloc(cfg->ble.n_devices + 1, sizeof(*s->dev));
	if (!s->dev) {
		free(s);
		return -ENOMEM;
	}
	s->fn = fn;
	s->userdata = userdata;
	s->rng = cfg->sources.sim.seed ? cfg->sources.sim.seed : fg_clock_mono_usec() | 1;
	for (size_t i = 0; i < cfg->ble.n_devices; i++) {
		const struct fg_ble_device *d = &cfg->ble.devices[i];
		struct sim_dev *v = &s->dev[s->n];

		if (d->codec >= 0 && d->codec != FG_BLE_BTHOME && d->codec != FG_BLE_RUUVI_V5 &&
		    d->codec != FG_BLE_ATC1441)
			continue;
		if (d->has_bindkey)
			continue; /* the simulator sends plain advertisements only */
		v->d = d;
		v->format = d->codec < 0 ? FG_BLE_BTHOME : d->codec;
		v->temp = 18 + 6 * uniform(&s->rng);
		v->hum = 40 + 20 * uniform(&s->rng);
		s->n++;
	}
	if (s->n == 0) {
		fg_sim_ble_free(s);
		return 0;
	}
	s->step_usec = (uint64_t)cfg->sources.sim.interval_ms * FG_USEC_PER_MSEC / s->n;
	if (s->step_usec == 0)
		s->step_usec = 1;
	r = sd_event_add_time(loop, &s->timer, CLOCK_MONOTONIC, fg_clock_mono_usec() + s->step_usec,
			      FG_USEC_PER_MSEC, on_timer, s);
	if (r < 0) {
		fg_sim_ble_free(s);
		return r;
	}
	(void)sd_event_source_set_description(s->timer, "sim-ble");
	*ret = s;
	return 0;
}

void fg_sim_ble_free(struct fg_sim_ble *s)
{
	if (!s)
		return;
	sd_event_source_disable_unref(s->timer);
	free(s->dev);
	free(s);
}
