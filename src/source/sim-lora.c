/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "core/clock.h"
#include "core/log.h"
#include "lora/lorawan.h"
#include "source/sim-lora.h"

struct sim_dev {
	const struct fg_lorawan_device *d;
	uint32_t fcnt;
	uint32_t fcnt_down;	/* the last downlink's, once one came */
	bool have_down;
	bool ack;		/* a confirmed downlink came: the next uplink acknowledges it */
	double temp, hum, volt;
};

struct fg_sim_lora {
	sd_event_source *timer;
	fg_frame_fn frame;
	fg_frame_from_fn frame_from; /* NULL: frame */
	void *userdata;
	struct sim_dev *dev;
	size_t n;
	size_t next;	   /* the device whose turn it is */
	uint64_t step_usec; /* interval / devices: reports spread over the interval */
	uint64_t sent;
	uint64_t received;
	uint64_t rng;
};

/* xorshift64*: reproducible and good enough for made-up weather. */
static double uniform(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (double) ((*s * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* One device's uplink: Cayenne LPP on port 2, then radio metadata a gateway would report. */
static void send_one(struct fg_sim_lora *s, struct sim_dev *v)
{
	struct fg_lw_session ses = { .dev_addr = v->d->dev_addr, .dev_eui = v->d->dev_eui };
	uint8_t lpp[32], phy[FG_LW_PHY_MAX];
	struct fg_radio_meta radio = { .present = true };
	size_t len = 0;
	double t, h, b;
	int n;

	v->temp += 0.2 * (uniform(&s->rng) - 0.5);
	v->hum += 1.0 * (uniform(&s->rng) - 0.5);
	v->volt -= 0.0005;
	if (v->volt < 2.9)
		v->volt = 3.6;
	h = v->hum < 0 ? 0 : v->hum > 100 ? 100 : v->hum;
	t = v->temp, b = v->volt;
	/* Cayenne: temperature on channel 1, humidity on 2, battery voltage on 3. */
	if (fg_cayenne_put(lpp, sizeof(lpp), &len, 1, 103, &t) < 0 ||
	    fg_cayenne_put(lpp, sizeof(lpp), &len, 2, 104, &h) < 0 ||
	    fg_cayenne_put(lpp, sizeof(lpp), &len, 3, 116, &b) < 0)
		return;
	memcpy(ses.nwk_s_key, v->d->nwk_s_key, sizeof(ses.nwk_s_key));
	memcpy(ses.app_s_key, v->d->app_s_key, sizeof(ses.app_s_key));
	n = fg_lw_build_uplink(&ses, FG_LW_UNCONFIRMED_UP, v->ack ? 0x20 : 0, v->fcnt, NULL, 0, 2,
			       lpp, len, phy, sizeof(phy));
	explicit_bzero(&ses, sizeof(ses));
	if (n < 0) {
		fg_log_errno(n, "sim", "cannot build a frame for %s: %m", v->d->name);
		return;
	}
	v->fcnt++;
	v->ack = false;
	radio.rssi = (int16_t) (-60 - 50 * uniform(&s->rng));
	radio.snr = (float) (round((10 - 15 * uniform(&s->rng)) * 4) / 4);
	radio.freq_hz = 868100000 + 200000 * (uint32_t) (s->sent % 3);
	radio.sf = 7;
	radio.bw_hz = 125000;
	radio.dr = -1;
	radio.tmst = (uint32_t) fg_clock_mono_usec();
	s->sent++;
	if (s->frame_from)
		s->frame_from(phy, (size_t) n, &radio,
			      &(const struct fg_lora_origin){ FG_LORA_VIA_SIM, 0 }, s->userdata);
	else
		s->frame(phy, (size_t) n, &radio, s->userdata);
}

void fg_sim_lora_set_frame_from(struct fg_sim_lora *s, fg_frame_from_fn fn)
{
	if (s)
		s->frame_from = fn;
}

int fg_sim_lora_downlink(struct fg_sim_lora *s, const uint8_t *phy, size_t len)
{
	struct fg_lw_frame f;
	uint32_t fcnt, mic;

	if (!s)
		return -ENOENT;
	if (fg_lw_parse(phy, len, &f) != FG_LW_OK ||
	    (f.mtype != FG_LW_UNCONFIRMED_DOWN && f.mtype != FG_LW_CONFIRMED_DOWN))
		return -EBADMSG;
	for (size_t i = 0; i < s->n; i++) {
		struct sim_dev *v = &s->dev[i];

		if (v->d->dev_addr != f.dev_addr)
			continue;
		/* As a device: the counter from its 16 bits on air, the MIC with NwkSKey. */
		fcnt = fg_lw_fcnt_expand(f.fcnt16, v->fcnt_down, v->have_down);
		if (fg_lw_data_mic(v->d->nwk_s_key, 1, f.dev_addr, fcnt, phy, len - 4, &mic) < 0 ||
		    mic != f.mic)
			return -EBADMSG;
		v->fcnt_down = fcnt;
		v->have_down = true;
		if (f.mtype == FG_LW_CONFIRMED_DOWN)
			v->ack = true;
		s->received++;
		return 0;
	}
	return -ENOENT;
}

uint64_t fg_sim_lora_received(const struct fg_sim_lora *s)
{
	return s ? s->received : 0;
}

static int on_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct fg_sim_lora *s = userdata;

	send_one(s, &s->dev[s->next]);
	s->next = (s->next + 1) % s->n;
	(void) sd_event_source_set_time(es, usec + s->step_usec);
	return sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
}

uint64_t fg_sim_lora_sent(const struct fg_sim_lora *s)
{
	return s ? s->sent : 0;
}

int fg_sim_lora_new(const struct fg_config *cfg, sd_event *loop,
		    const struct fg_lora_state_ops *ops, fg_frame_fn frame, void *userdata,
		    struct fg_sim_lora **ret)
{
	const struct fg_lorawan_config *lw = &cfg->lorawan;
	struct fg_sim_lora *s;
	int r;

	*ret = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dev = calloc(lw->n_devices + 1, sizeof(*s->dev));
	if (!s->dev) {
		free(s);
		return -ENOMEM;
	}
	s->frame = frame;
	s->userdata = userdata;
	s->rng = cfg->sources.sim.seed ? cfg->sources.sim.seed : fg_clock_mono_usec() | 1;
	for (size_t i = 0; i < lw->n_devices; i++) {
		const struct fg_lorawan_device *d = &lw->devices[i];
		struct sim_dev *v = &s->dev[s->n];
		uint32_t last;

		if (strcmp(d->codec, "cayenne") && strcmp(d->codec, "raw"))
			continue;
		v->d = d;
		/* Go on above what the buffer accepted last, or the decoder calls it a replay. */
		v->fcnt = ops && ops->get_fcnt && ops->get_fcnt(ops->userdata, d->name, &last) == 0 ?
				  last + 1 :
				  0;
		v->temp = 15 + 10 * uniform(&s->rng);
		v->hum = 40 + 30 * uniform(&s->rng);
		v->volt = 3.0 + 0.6 * uniform(&s->rng);
		s->n++;
	}
	if (s->n == 0) {
		fg_sim_lora_free(s);
		return 0;
	}
	s->step_usec = (uint64_t) cfg->sources.sim.interval_ms * FG_USEC_PER_MSEC / s->n;
	if (s->step_usec == 0)
		s->step_usec = 1;
	r = sd_event_add_time(loop, &s->timer, CLOCK_MONOTONIC, fg_clock_mono_usec() + s->step_usec,
			      FG_USEC_PER_MSEC, on_timer, s);
	if (r < 0) {
		fg_sim_lora_free(s);
		return r;
	}
	(void) sd_event_source_set_description(s->timer, "sim-lora");
	*ret = s;
	return 0;
}

void fg_sim_lora_free(struct fg_sim_lora *s)
{
	if (!s)
		return;
	sd_event_source_disable_unref(s->timer);
	free(s->dev);
	free(s);
}
