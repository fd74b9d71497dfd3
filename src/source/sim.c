/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "source/sim.h"

struct sim_device {
	char id[FG_DEVICE_ID_MAX];
	double base_temp;   /* Cel, the room's mean */
	double temp_noise;  /* mean-reverting deviation */
	double base_hum;    /* %RH */
	double hum_noise;
	double battery;     /* %EL */
	double phase;       /* offset of the daily swing, radians */
	uint64_t readings;  /* emitted since start */
	uint64_t last_ms;   /* wall time of the last report, 0 none */
};

struct fg_sim {
	struct fg_sim_config cfg;
	sd_event_source *timer;
	fg_reading_fn emit;
	void *userdata;
	uint64_t rng;
	uint64_t step_usec;     /* interval / devices */
	uint64_t start;         /* monotonic usec at creation */
	uint64_t next_due;      /* monotonic usec of the next report */
	uint32_t next_device;
	uint64_t frame;
	uint64_t skipped;
	uint64_t emitted;       /* readings handed to emit */
	struct sim_device *dev;
	struct fg_reading *batch; /* FG_SIM_MAX_PER_TICK * FG_SIM_QUANTITIES */
	/* What every device's readings share (quantity, unit, boot), made at the first report. */
	struct fg_reading tmpl[FG_SIM_QUANTITIES];
	bool tmpl_ready;
};

/* xorshift64*: small, fast, and reproducible from a seed. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(2685821657736338717);
}

/* Uniform in [0, 1). */
static double rng_uniform(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* Standard normal by Box-Muller. */
static double rng_gauss(uint64_t *s)
{
	double u1 = rng_uniform(s), u2 = rng_uniform(s);

	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* Round to a sensor's resolution. */
static double quantize(double v, double step)
{
	return round(v / step) * step;
}

/* Produce one device's three readings at now. */
static void device_report(struct fg_sim *s, uint32_t i, uint64_t now, struct fg_reading *out)
{
	struct sim_device *d = &s->dev[i];
	/* Time since start, not since boot: the same seed gives the same series. */
	double day = 2.0 * M_PI * (double)((now - s->start) / FG_USEC_PER_SEC % 86400) / 86400.0;
	double temp, hum;

	/* Ornstein-Uhlenbeck steps: noise that wanders but comes back. */
	d->temp_noise += -0.1 * d->temp_noise + 0.15 * rng_gauss(&s->rng);
	d->hum_noise += -0.1 * d->hum_noise + 0.6 * rng_gauss(&s->rng);
	temp = d->base_temp + 2.5 * sin(day + d->phase) + d->temp_noise;
	/* Warmer air holds more water: relative humidity falls as it warms. */
	hum = d->base_hum - 1.5 * (temp - d->base_temp) + d->hum_noise;
	if (hum < 0)
		hum = 0;
	if (hum > 100)
		hum = 100;
	d->battery -= 0.0005 + 0.0002 * rng_uniform(&s->rng);
	if (d->battery < 5.0)
		d->battery = 100.0; /* someone changed the battery */

	s->frame++;
	d->readings += FG_SIM_QUANTITIES;
	d->last_ms = fg_clock_wall_ms();
	/*
	 * A copy of the shared part and the id, not fg_reading_init for each
	 * reading: that cleared and filled 280 bytes field by field, 230
	 * instructions per reading.
	 */
	if (!s->tmpl_ready) {
		static const char *const q[][2] = {
			{ "temperature", "Cel" }, { "humidity", "%RH" }, { "battery", "%EL" }
		};
		const char *boot = fg_clock_boot_id();
		size_t boot_len = strnlen(boot, sizeof(s->tmpl[0].boot_id) - 1);

		for (int k = 0; k < FG_SIM_QUANTITIES; k++) {
			(void) fg_reading_init(&s->tmpl[k], FG_SOURCE_SIM, "", "", q[k][0], q[k][1]);
			memcpy(s->tmpl[k].boot_id, boot, boot_len);
			s->tmpl[k].boot_id[boot_len] = '\0';
		}
		s->tmpl_ready = true;
	}
	/* The ids are made by us and fit both fields. */
	_Static_assert(FG_DEVICE_ID_MAX <= FG_DEVICE_NAME_MAX, "a sim id fits the name field");
	size_t id_len = strnlen(d->id, sizeof(d->id) - 1) + 1;

	for (int k = 0; k < FG_SIM_QUANTITIES; k++) {
		out[k] = s->tmpl[k];
		memcpy(out[k].device_id, d->id, id_len);
		memcpy(out[k].device_name, d->id, id_len);
		out[k].mono_usec = now;
		out[k].frame_id = s->frame;
	}
	fg_reading_set_number(&out[0], quantize(temp, 0.01));
	fg_reading_set_number(&out[1], quantize(hum, 0.1));
	fg_reading_set_number(&out[2], quantize(d->battery, 0.1));
}

int fg_sim_tick(struct fg_sim *s, uint64_t now_usec)
{
	uint64_t interval = (uint64_t)s->cfg.interval_ms * FG_USEC_PER_MSEC;
	size_t n = 0;

	/*
	 * Fell behind by more than an interval (and more than a second, so the
	 * timer's slack and a busy loop are caught up in bounded ticks rather
	 * than lost): skip, do not burst.
	 */
	if (interval < FG_USEC_PER_SEC)
		interval = FG_USEC_PER_SEC;
	if (now_usec > s->next_due + interval) {
		uint64_t missed = (now_usec - s->next_due) / s->step_usec;

		s->skipped += missed;
		s->next_device = (uint32_t)((s->next_device + missed) % s->cfg.devices);
		s->next_due += missed * s->step_usec;
	}
	while (s->next_due <= now_usec && n < FG_SIM_MAX_PER_TICK) {
		device_report(s, s->next_device, now_usec, &s->batch[n * FG_SIM_QUANTITIES]);
		n++;
		s->next_device = (s->next_device + 1) % s->cfg.devices;
		s->next_due += s->step_usec;
	}
	if (n > 0 && s->emit) {
		s->emitted += n * FG_SIM_QUANTITIES;
		s->emit(s->batch, n * FG_SIM_QUANTITIES, s->userdata);
	}
	return (int)(n * FG_SIM_QUANTITIES);
}

/* Timer: emit what is due, then sleep until the next report. */
static int on_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct fg_sim *s = userdata;
	uint64_t now = fg_clock_mono_usec();
	int r;

	(void) usec;
	fg_sim_tick(s, now);
	/* Still behind after a full tick: go on at the next loop iteration. */
	r = sd_event_source_set_time(es, s->next_due > now ? s->next_due : now);
	if (r < 0)
		return fg_log_errno(r, "sim", "cannot re-arm timer: %m");
	return sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
}

uint64_t fg_sim_next_due(const struct fg_sim *s)
{
	return s->next_due;
}

uint64_t fg_sim_skipped(const struct fg_sim *s)
{
	return s->skipped;
}

int fg_sim_device_info(const struct fg_sim *s, size_t i, struct fg_sim_device_info *ret)
{
	if (i >= s->cfg.devices)
		return -ENOENT;
	*ret = (struct fg_sim_device_info){
		.name = s->dev[i].id,
		.readings = s->dev[i].readings,
		.last_ms = s->dev[i].last_ms,
	};
	return 0;
}

uint64_t fg_sim_emitted(const struct fg_sim *s)
{
	return s->emitted;
}

int fg_sim_new(const struct fg_sim_config *cfg, sd_event *loop, fg_reading_fn emit,
	       void *userdata, struct fg_sim **ret_sim)
{
	struct fg_sim *s;
	uint64_t now = fg_clock_mono_usec();
	const char *prefix = cfg->name_prefix ? cfg->name_prefix : "sim-";
	int r;

	if (cfg->devices == 0 || cfg->interval_ms == 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->cfg.name_prefix = NULL; /* not owned; only used here */
	s->emit = emit;
	s->userdata = userdata;
	s->rng = cfg->seed ? cfg->seed : (now ^ (uint64_t)getpid() << 32) | 1;
	s->step_usec = (uint64_t)cfg->interval_ms * FG_USEC_PER_MSEC / cfg->devices;
	if (s->step_usec == 0)
		s->step_usec = 1;
	s->start = now;
	s->next_due = now;
	s->dev = calloc(cfg->devices, sizeof(*s->dev));
	s->batch = calloc(FG_SIM_MAX_PER_TICK * FG_SIM_QUANTITIES, sizeof(*s->batch));
	if (!s->dev || !s->batch) {
		r = -ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < cfg->devices; i++) {
		struct sim_device *d = &s->dev[i];

		if (snprintf(d->id, sizeof(d->id), "%s%04u", prefix, i + 1) >= (int)sizeof(d->id)) {
			r = -ENAMETOOLONG;
			goto fail;
		}
		d->base_temp = 18.0 + 6.0 * rng_uniform(&s->rng);
		d->base_hum = 40.0 + 25.0 * rng_uniform(&s->rng);
		d->battery = 60.0 + 40.0 * rng_uniform(&s->rng);
		d->phase = 2.0 * M_PI * rng_uniform(&s->rng);
	}
	if (loop) {
		r = sd_event_add_time(loop, &s->timer, CLOCK_MONOTONIC, now, 10 * FG_USEC_PER_MSEC,
				      on_timer, s);
		if (r < 0)
			goto fail;
		(void) sd_event_source_set_description(s->timer, "sim");
	}
	*ret_sim = s;
	return 0;
fail:
	fg_sim_free(s);
	return r;
}

void fg_sim_free(struct fg_sim *s)
{
	if (!s)
		return;
	sd_event_source_disable_unref(s->timer);
	free(s->dev);
	free(s->batch);
	free(s);
}
