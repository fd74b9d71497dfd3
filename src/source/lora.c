/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/clock.h"
#include "core/log.h"
#include "source/lora.h"

#define NONCE_BYTES 8192 /* one bit per DevNonce */
#define SESSION_VERSION 1
#define SESSION_LEN 45

/* A device's session: from the configuration (ABP) or from its last join (OTAA). */
struct session {
	uint32_t dev_addr;
	uint8_t nwk_s_key[FG_LW_KEY_LEN];
	uint8_t app_s_key[FG_LW_KEY_LEN];
	uint32_t fcnt_down;    /* the next downlink's */
	uint8_t rx1_dr_offset;
	uint8_t rx2_dr;
	uint8_t rx_delay;      /* seconds, 1..15 */
	bool fresh;            /* joined, no uplink yet: the stored FCntUp is the old session's */
};

/* What we know of one configured device while running. */
struct device {
	const struct fg_lorawan_device *d;
	bool have_session; /* ABP: always; OTAA: once joined */
	struct session s;
	bool heard;
	uint64_t last_ms;
	uint32_t fcnt_up;
	int rssi;
	float snr;
	uint64_t readings;	/* emitted since start */
	uint64_t refused;	/* its frames (and joins) refused since start */
	/* downlinks */
	bool have_via; /* the radio it was last heard by (class C sends through it) */
	struct fg_lora_origin via;
	bool have_up; /* its last uplink's channel, for the RX1 data rate */
	uint32_t up_freq_hz;
	int up_dr;
	bool budget_loaded;  /* the daily budget ("dlday:NAME") was read */
	uint32_t budget_day; /* UTC day (days since the epoch) budget_count counts */
	uint32_t budget_count;
	bool adr_needed;    /* US915/AU915: joined, LinkADRAns accepting the sub-band not seen */
	uint8_t adr_tries;  /* LinkADRReq sent in this session */
	uint8_t adr_wait;   /* uplinks without a LinkADRAns since the last one */
	uint64_t cc_at;	    /* class C: monotonic usec of its next try, 0 none */
	uint64_t cc_ack_by; /* class C: when an unacknowledged downlink is resent, 0 none */
};

struct fg_lora {
	const struct fg_config *cfg;
	struct fg_lora_state_ops ops;
	struct fg_lora_stats stats;
	uint64_t frame_ids; /* unknown devices: no counter of theirs to trust */
	struct device *devs;
	size_t n_devs;
	struct fg_lw_duty *duty;
	uint8_t *nonces; /* NONCE_BYTES, scratch */
	uint64_t (*clock)(void *userdata);
	void *clock_userdata;
	uint64_t (*wall_ms)(void *userdata);
	bool (*wall_known)(void *userdata);
	void *wall_userdata;
	struct fg_lora_downlink_ops dl;
	bool have_dl;
};

void fg_lora_set_clock(struct fg_lora *l, uint64_t (*mono_usec)(void *userdata), void *userdata)
{
	l->clock = mono_usec;
	l->clock_userdata = userdata;
}

void fg_lora_set_wall_clock(struct fg_lora *l, uint64_t (*wall_ms)(void *userdata),
			    bool (*known)(void *userdata), void *userdata)
{
	l->wall_ms = wall_ms;
	l->wall_known = known;
	l->wall_userdata = userdata;
}

static uint64_t mono_now(const struct fg_lora *l)
{
	return l->clock ? l->clock(l->clock_userdata) : fg_clock_mono_usec();
}

static uint64_t wall_now(const struct fg_lora *l)
{
	return l->wall_ms ? l->wall_ms(l->wall_userdata) : fg_clock_wall_ms();
}

static bool wall_synchronized(const struct fg_lora *l)
{
	return l->wall_known ? l->wall_known(l->wall_userdata)
			     : fg_clock_wall_known(l->cfg->gateway.trust_system_clock);
}

/* ------------------------------------------------------------------ saved state */

static void session_encode(const struct session *s, uint8_t out[SESSION_LEN])
{
	out[0] = SESSION_VERSION;
	memcpy(out + 1, &s->dev_addr, 4);
	memcpy(out + 5, s->nwk_s_key, 16);
	memcpy(out + 21, s->app_s_key, 16);
	memcpy(out + 37, &s->fcnt_down, 4);
	out[41] = s->rx1_dr_offset;
	out[42] = s->rx2_dr;
	out[43] = s->rx_delay;
	out[44] = s->fresh;
}

static bool session_decode(struct session *s, const uint8_t *in, size_t len)
{
	if (len != SESSION_LEN || in[0] != SESSION_VERSION || in[41] > 7 || in[42] > 15 ||
	    in[43] < 1 || in[43] > 15 || in[44] > 1)
		return false;
	memcpy(&s->dev_addr, in + 1, 4);
	memcpy(s->nwk_s_key, in + 5, 16);
	memcpy(s->app_s_key, in + 21, 16);
	memcpy(&s->fcnt_down, in + 37, 4);
	s->rx1_dr_offset = in[41];
	s->rx2_dr = in[42];
	s->rx_delay = in[43];
	s->fresh = in[44];
	return true;
}

/* Save dv's session (OTAA) or its FCntDown (ABP: the keys stay in the configuration). */
static int session_save(struct fg_lora *l, struct device *dv)
{
	uint8_t buf[SESSION_LEN];
	char key[96];

	if (!l->ops.save)
		return -ENOTSUP;
	if (!dv->d->otaa) {
		snprintf(key, sizeof(key), "fcnt_down:%s", dv->d->name);
		return l->ops.save(l->ops.userdata, key, &dv->s.fcnt_down, 4);
	}
	snprintf(key, sizeof(key), "session:%s", dv->d->name);
	session_encode(&dv->s, buf);
	return l->ops.save(l->ops.userdata, key, buf, sizeof(buf));
}

/* What was saved of dv: an OTAA session, or an ABP device's FCntDown. */
static void session_load(struct fg_lora *l, struct device *dv)
{
	uint8_t buf[SESSION_LEN + 1];
	size_t len = 0;
	char key[96];
	int r;

	if (!dv->d->otaa) {
		dv->have_session = true;
		dv->s.dev_addr = dv->d->dev_addr;
		memcpy(dv->s.nwk_s_key, dv->d->nwk_s_key, FG_LW_KEY_LEN);
		memcpy(dv->s.app_s_key, dv->d->app_s_key, FG_LW_KEY_LEN);
		dv->s.rx_delay = 1;
		snprintf(key, sizeof(key), "fcnt_down:%s", dv->d->name);
		if (l->ops.load && l->ops.load(l->ops.userdata, key, buf, sizeof(buf), &len) == 0 &&
		    len == 4)
			memcpy(&dv->s.fcnt_down, buf, 4);
		return;
	}
	if (!l->ops.load)
		return;
	snprintf(key, sizeof(key), "session:%s", dv->d->name);
	r = l->ops.load(l->ops.userdata, key, buf, sizeof(buf), &len);
	if (r == 0 && session_decode(&dv->s, buf, len))
		dv->have_session = true;
	else if (r != -ENOENT)
		fg_log_warning("lora", "%s: the saved session cannot be read (%s); the device "
			       "has to join again", dv->d->name, r < 0 ? strerror(-r) : "bad row");
	explicit_bzero(buf, sizeof(buf));
}

int fg_lora_new(const struct fg_config *cfg, const struct fg_lora_state_ops *ops,
		struct fg_lora **ret)
{
	struct fg_lora *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return -ENOMEM;
	l->cfg = cfg;
	if (ops)
		l->ops = *ops;
	l->n_devs = cfg->lorawan.n_devices;
	l->devs = calloc(l->n_devs + 1, sizeof(*l->devs));
	l->nonces = malloc(NONCE_BYTES);
	r = fg_lw_duty_new((enum fg_lw_region) cfg->lorawan.region, &l->duty);
	if (!l->devs || !l->nonces || r < 0) {
		fg_lora_free(l);
		return -ENOMEM;
	}
	for (size_t i = 0; i < l->n_devs; i++) {
		l->devs[i].d = &cfg->lorawan.devices[i];
		session_load(l, &l->devs[i]);
	}
	*ret = l;
	return 0;
}

void fg_lora_free(struct fg_lora *l)
{
	if (!l)
		return;
	if (l->devs)
		explicit_bzero(l->devs, l->n_devs * sizeof(*l->devs));
	free(l->devs);
	free(l->nonces);
	fg_lw_duty_free(l->duty);
	free(l);
}

int fg_lora_device_info(const struct fg_lora *l, size_t i, struct fg_lora_device_info *ret)
{
	const struct device *dv;

	if (i >= l->n_devs)
		return -ENOENT;
	dv = &l->devs[i];
	*ret = (struct fg_lora_device_info){
		.name = dv->d->name,
		.dev_eui = dv->d->dev_eui,
		.otaa = dv->d->otaa,
		.joined = dv->have_session,
		.dev_addr = dv->have_session ? dv->s.dev_addr : 0,
		.heard = dv->heard,
		.last_ms = dv->last_ms,
		.fcnt_up = dv->fcnt_up,
		.fcnt_down = dv->s.fcnt_down,
		.rssi = dv->rssi,
		.snr = dv->snr,
		.readings = dv->readings,
		.refused = dv->refused,
	};
	return 0;
}

void fg_lora_get_stats(const struct fg_lora *l, struct fg_lora_stats *ret)
{
	*ret = l->stats;
}

/* The device whose session has dev_addr, or NULL. */
static struct device *device_by_addr(const struct fg_lora *l, uint32_t dev_addr)
{
	/* A linear scan: a gateway has tens of devices, and frames come seconds apart. */
	for (size_t i = 0; i < l->n_devs; i++)
		if (l->devs[i].have_session && l->devs[i].s.dev_addr == dev_addr)
			return &l->devs[i];
	return NULL;
}

const struct fg_lorawan_device *fg_lora_device(const struct fg_lora *l, uint32_t dev_addr)
{
	const struct device *dv = device_by_addr(l, dev_addr);

	return dv ? dv->d : NULL;
}

int fg_lora_decode(const struct fg_lora *l, const struct fg_lorawan_device *d, int fport,
		   const uint8_t *p, size_t n, struct fg_codec_value *out, size_t max,
		   size_t *ret_n, char *why, size_t why_size)
{
	if (!strcmp(d->codec, "cayenne"))
		return fg_cayenne_decode(p, n, out, max, ret_n, why, why_size);
	if (!strcmp(d->codec, "raw"))
		return fg_raw_decode(p, n, out, max, ret_n);
	for (size_t i = 0; i < l->cfg->n_codecs; i++) {
		const struct fg_codec_config *c = &l->cfg->codecs[i];

		if (!strcmp(c->name, d->codec))
			return fg_layout_decode(&(struct fg_layout){ c->fields, c->n_fields }, fport,
						p, n, out, max, ret_n, why, why_size);
	}
	snprintf(why, why_size, "no codec '%s'", d->codec);
	return -ENOENT;
}

/* The identity and radio part every reading of one frame shares. */
static void frame_reading(struct fg_reading *r, const char *id, const char *name,
			  const char *quantity, const char *unit, const struct fg_radio_meta *radio,
			  uint64_t frame_id)
{
	memset(r, 0, sizeof(*r));
	(void) fg_reading_init(r, FG_SOURCE_LORA, id, name, quantity, unit);
	r->mono_usec = fg_clock_mono_usec();
	snprintf(r->boot_id, sizeof(r->boot_id), "%s", fg_clock_boot_id());
	r->frame_id = frame_id;
	if (radio)
		r->radio = *radio;
}

/* An unknown DevAddr in forward mode: the whole PHYPayload as hex, with its radio metadata. */
static void forward_unknown(struct fg_lora *l, const struct fg_lw_frame *f,
			    const struct fg_radio_meta *radio, fg_reading_fn emit, void *userdata)
{
	struct fg_codec_value v;
	struct fg_reading r;
	char id[16];
	size_t n;

	snprintf(id, sizeof(id), "%08x", f->dev_addr);
	frame_reading(&r, id, "unknown", "phy_payload", "", radio, ++l->frame_ids);
	if (fg_raw_decode(f->phy, f->phy_len, &v, 1, &n) < 0)
		return; /* cannot happen: FG_CODEC_TEXT_MAX holds any PHYPayload */
	fg_reading_set_text(&r, v.text);
	l->stats.forwarded++;
	emit(&r, 1, userdata);
}

/*
 * Emit the decoded values of an accepted frame; a payload the codec refuses
 * goes out raw. Returns the number of readings emitted.
 */
static size_t emit_frame(struct fg_lora *l, const struct fg_lorawan_device *d,
		       const struct fg_lw_uplink *up, const struct fg_radio_meta *radio,
		       fg_reading_fn emit, void *userdata)
{
	static struct fg_codec_value values[FG_CODEC_VALUES_MAX];
	struct fg_reading r[FG_CODEC_VALUES_MAX];
	char id[20], why[160] = "";
	size_t n = 0;
	int e = 0;

	snprintf(id, sizeof(id), "%016llx", (unsigned long long) d->dev_eui);
	if (up->f.has_port && up->f.fport > 0 && up->payload_len > 0)
		e = fg_lora_decode(l, d, up->f.fport, up->payload, up->payload_len, values,
				   FG_CODEC_VALUES_MAX, &n, why, sizeof(why));
	if (e < 0) {
		l->stats.codec_failed++;
		fg_log_device(LOG_WARNING, "lora", "lora", d->name,
			      "%s: codec '%s' refused the payload of frame %u on port %u: %s; "
			      "publishing it raw", d->name, d->codec, up->fcnt, up->f.fport, why);
		if (fg_raw_decode(up->payload, up->payload_len, values, 1, &n) < 0)
			n = 0;
	}
	for (size_t i = 0; i < n; i++) {
		frame_reading(&r[i], id, d->name, values[i].quantity, values[i].unit, radio,
			      up->fcnt);
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
	}
	if (n > 0)
		emit(r, n, userdata);
	return n;
}

/* ------------------------------------------------------------------ downlinks */

/*
 * Hand phy to the radio the uplink came through, for RX1 (delay_us after the
 * uplink's concentrator timestamp) or, when the duty-cycle budget forbids
 * RX1, RX2 a second later. Returns 0 or a negative errno.
 */
static int schedule(struct fg_lora *l, const struct device *dv, const struct fg_lora_origin *o,
		    const struct fg_radio_meta *radio, uint32_t delay_us, const uint8_t *phy,
		    size_t len, bool sized)
{
	enum fg_lw_region region = (enum fg_lw_region) l->cfg->lorawan.region;
	uint64_t now = mono_now(l);
	struct fg_lw_txpk tx[2];
	int r = -EBUSY, windows = 0;

	if (!o || o->via == FG_LORA_VIA_NONE || !l->ops.send || !radio || !radio->present)
		return -ENOTCONN;
	if (fg_lw_region_rx1(region, radio->freq_hz, radio->dr, dv->s.rx1_dr_offset, &tx[0]) == 0)
		tx[windows++].count_us = radio->tmst + delay_us;
	if (fg_lw_region_rx2(region, &tx[windows]) == 0)
		tx[windows++].count_us =
			radio->tmst + delay_us + FG_LW_RECEIVE_DELAY2_US - FG_LW_RECEIVE_DELAY1_US;
	/*
	 * RX1, else RX2 a second later: when the duty-cycle budget forbids a
	 * window, or the radio refuses it (its time already taken, too late).
	 * The budget is charged only for what the radio took.
	 */
	for (int w = 0; w < windows; w++) {
		uint32_t airtime;

		memcpy(tx[w].payload, phy, len);
		tx[w].len = len;
		/* A data downlink's MACPayload (all but MHDR and MIC) must fit the window's DR. */
		if (sized && len > 5 && len - 5 > fg_lw_region_max_payload(region, tx[w].dr)) {
			r = -EMSGSIZE;
			continue;
		}
		airtime = fg_lw_txpk_airtime_us(&tx[w]);
		r = fg_lw_duty_check(l->duty, tx[w].freq_hz, airtime, now, false, NULL);
		if (r != 1) {
			l->stats.duty_limited++;
			r = r < 0 ? r : -EBUSY;
			continue;
		}
		r = l->ops.send(l->ops.userdata, &tx[w], o);
		if (r == 0) {
			(void) fg_lw_duty_check(l->duty, tx[w].freq_hz, airtime, now, true, NULL);
			return 0;
		}
	}
	return r;
}

/* The DevAddr layout of a NetID type (LoRaWAN Backend Interfaces 1.0, table 3). */
static const struct {
	uint8_t id_bits, addr_bits;
} netid_types[8] = {
	{ 6, 25 }, { 6, 24 }, { 9, 20 }, { 11, 17 }, { 12, 15 }, { 13, 13 }, { 15, 10 }, { 17, 7 },
};

static bool addr_taken(const struct fg_lora *l, const struct device *self, uint32_t addr)
{
	for (size_t i = 0; i < l->n_devs; i++)
		if (&l->devs[i] != self && l->devs[i].have_session && l->devs[i].s.dev_addr == addr)
			return true;
	return false;
}

/* A DevAddr under lorawan.net_id that no other device has, the same for a device each time. */
static int dev_addr_for(const struct fg_lora *l, const struct device *dv, uint32_t *ret)
{
	uint32_t net_id = l->cfg->lorawan.net_id, type = net_id >> 21;
	uint32_t id_bits = netid_types[type].id_bits, addr_bits = netid_types[type].addr_bits;
	uint32_t prefix = ((1u << type) - 1) << 1; /* type ones, then a zero */
	uint32_t base = prefix << (31 - type) | (net_id & ((1u << id_bits) - 1)) << addr_bits;

	for (uint32_t attempt = 0; attempt < 64; attempt++) {
		uint64_t h = dv->d->dev_eui ^ (UINT64_C(0x9e3779b97f4a7c15) * (attempt + 1));
		uint32_t addr;

		h ^= h >> 29;
		h *= UINT64_C(0xbf58476d1ce4e5b9);
		h ^= h >> 32;
		addr = base | ((uint32_t) h & ((1u << addr_bits) - 1));
		if (!addr_taken(l, dv, addr)) {
			*ret = addr;
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}

static struct device *device_by_eui(const struct fg_lora *l, uint64_t dev_eui, uint64_t join_eui)
{
	for (size_t i = 0; i < l->n_devs; i++) {
		const struct fg_lorawan_device *d = l->devs[i].d;

		/* join_eui 0 in the configuration: any JoinEUI (many devices ship with zeros). */
		if (d->otaa && d->dev_eui == dev_eui && (!d->join_eui || d->join_eui == join_eui))
			return &l->devs[i];
	}
	return NULL;
}

/* Mark dv's DevNonce used, saved before anything answers it; -EEXIST when it was. */
static int use_dev_nonce(struct fg_lora *l, const struct device *dv, uint16_t nonce)
{
	char key[96];
	size_t len = 0;
	int r;

	snprintf(key, sizeof(key), "nonces:%s", dv->d->name);
	r = l->ops.load(l->ops.userdata, key, l->nonces, NONCE_BYTES, &len);
	if (r == -ENOENT || (r == 0 && len != NONCE_BYTES))
		memset(l->nonces, 0, NONCE_BYTES);
	else if (r < 0)
		return r;
	if (l->nonces[nonce / 8] & (1u << (nonce % 8)))
		return -EEXIST;
	l->nonces[nonce / 8] |= (uint8_t) (1u << (nonce % 8));
	return l->ops.save(l->ops.userdata, key, l->nonces, NONCE_BYTES);
}

/* A JoinRequest: a new session for a known OTAA device, and its JoinAccept on the way. */
static enum fg_lw_reason join(struct fg_lora *l, const struct fg_lw_frame *f,
			      const struct fg_radio_meta *radio, const struct fg_lora_origin *o)
{
	struct device *dv = device_by_eui(l, f->dev_eui, f->join_eui);
	struct fg_lw_join_accept ja = { .rx_delay = 1 };
	struct fg_lw_txpk rx2;
	struct session s = { .rx_delay = 1, .fresh = true };
	char eui[20];
	uint8_t phy[FG_LW_PHY_MAX];
	int r, n;

	snprintf(eui, sizeof(eui), "%016llx", (unsigned long long) f->dev_eui);
	if (!dv) {
		fg_log_device(LOG_INFO, "lora", "lora", eui,
			      "JoinRequest from DevEUI %s, not in lorawan.devices with an app_key: "
			      "ignored", eui);
		return FG_LW_UNKNOWN_DEVICE;
	}
	l->stats.join_requests++;
	if (fg_lw_join_request_verify(dv->d->app_key, f) != 0) {
		dv->refused++;
		return FG_LW_BAD_MIC;
	}
	if (!l->ops.load || !l->ops.save || !l->ops.send) {
		fg_log_device(LOG_WARNING, "lora", "lora", dv->d->name,
			      "%s: JoinRequest not answered: no radio to send through here",
			      dv->d->name);
		return FG_LW_UNSUPPORTED;
	}
	r = use_dev_nonce(l, dv, f->dev_nonce);
	if (r == -EEXIST) {
		dv->refused++;
		fg_log_device(LOG_WARNING, "lora", "lora", dv->d->name,
			      "%s: JoinRequest with DevNonce %u, used before: refused (a replayed "
			      "join, or a device that reuses nonces)", dv->d->name, f->dev_nonce);
		return FG_LW_DEVNONCE_REUSED;
	}
	if (r == 0 && (r = dev_addr_for(l, dv, &s.dev_addr)) == 0 &&
	    getrandom(&ja.app_nonce, 3, 0) != 3)
		r = -EIO;
	if (r == 0 && (r = fg_lw_region_rx2((enum fg_lw_region) l->cfg->lorawan.region, &rx2)) == 0)
		s.rx2_dr = (uint8_t) rx2.dr;
	ja.net_id = l->cfg->lorawan.net_id;
	ja.dev_addr = s.dev_addr;
	ja.rx2_dr = s.rx2_dr;
	/* The plan's channels (EU868/AS923) or the sub-band's mask (US915/AU915). */
	ja.has_cflist = fg_lw_region_cflist((enum fg_lw_region) l->cfg->lorawan.region,
					    l->cfg->lorawan.sub_band, ja.cflist) == 1;
	if (r == 0)
		r = fg_lw_join_derive_keys(dv->d->app_key, ja.app_nonce, ja.net_id, f->dev_nonce,
					   s.nwk_s_key, s.app_s_key);
	n = r == 0 ? fg_lw_join_accept_build(dv->d->app_key, &ja, phy, sizeof(phy)) : r;
	if (n > 0) {
		struct session old = dv->s;
		bool had = dv->have_session;

		dv->s = s;
		dv->have_session = true;
		r = session_save(l, dv);
		if (r < 0) {
			dv->s = old;
			dv->have_session = had;
		}
	}
	if (n > 0 && r == 0)
		r = schedule(l, dv, o, radio, FG_LW_JOIN_ACCEPT_DELAY1_US, phy, (size_t) n, false);
	explicit_bzero(&s, sizeof(s));
	if (n < 0 || r < 0) {
		l->stats.downlink_failed++;
		r = n < 0 ? n : r;
		fg_log_device(LOG_WARNING, "lora", "lora", dv->d->name,
			      "%s: cannot answer the JoinRequest: %s", dv->d->name,
			      r == -EBUSY ? "the duty-cycle budget of both receive windows is spent"
					  : strerror(-r));
		return FG_LW_OK;
	}
	l->stats.joins++;
	fg_log_device(LOG_NOTICE, "lora", "lora", dv->d->name,
		      "%s: joined as DevAddr %08X (DevNonce %u)", dv->d->name, ja.dev_addr,
		      f->dev_nonce);
	return FG_LW_OK;
}

/* ------------------------------------------------------------------ application downlinks */

#define FOPTS_MAX	    15 /* FOpts bytes a frame carries (FCtrl's FOptsLen) */
#define MAC_OVERHEAD	    7  /* FHDR without FOpts: DevAddr, FCtrl, FCnt */
#define LINK_ADR_TRIES	    3  /* LinkADRReq sent at most this often per session */
#define LINK_ADR_WAIT	    2  /* uplinks without its answer before it is sent again */
#define CLASS_C_ACK_US	    (30 * FG_USEC_PER_SEC)   /* class C: a confirmed one.s ACK, at most */
#define CLASS_C_GAP_US	    (100 * FG_USEC_PER_MSEC) /* class C: between two sends, after airtime */
#define CLASS_C_AFTER_UP_US (3 * FG_USEC_PER_SEC)    /* class C after an uplink: past its RX2 */
#define CLASS_C_RADIO_US    (10 * FG_USEC_PER_SEC)   /* class C: again after the radio refused */
#define DAY_MS		    UINT64_C(86400000)

void fg_lora_set_downlinks(struct fg_lora *l, const struct fg_lora_downlink_ops *ops)
{
	l->have_dl = ops && ops->next && ops->pending && ops->sent && ops->finish;
	if (l->have_dl)
		l->dl = *ops;
}

static struct device *device_of(const struct fg_lora *l, const struct fg_lorawan_device *d)
{
	for (size_t i = 0; i < l->n_devs; i++)
		if (l->devs[i].d == d)
			return &l->devs[i];
	return NULL;
}

/* "0x" or not, exactly digits hex digits: 0 and *ret, else -EINVAL. */
static int parse_hex(const char *s, size_t digits, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		int c = s[i];

		if (i >= digits)
			return -EINVAL;
		if (c >= '0' && c <= '9')
			c -= '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			c = (c | 0x20) - 'a' + 10;
		else
			return -EINVAL;
		v = v << 4 | (uint64_t) c;
	}
	if (i != digits)
		return -EINVAL;
	*ret = v;
	return 0;
}

const struct fg_lorawan_device *fg_lora_find_device(const struct fg_lora *l, const char *what)
{
	uint64_t v;

	if (!what)
		return NULL;
	/* The name first: a name may look like hex, and the configuration said it. */
	for (size_t i = 0; i < l->n_devs; i++)
		if (!strcmp(l->devs[i].d->name, what))
			return l->devs[i].d;
	if (parse_hex(what, 16, &v) == 0) {
		for (size_t i = 0; i < l->n_devs; i++)
			if (l->devs[i].d->dev_eui == v)
				return l->devs[i].d;
		return NULL;
	}
	if (parse_hex(what, 8, &v) == 0)
		return fg_lora_device(l, (uint32_t) v);
	return NULL;
}

/* The DR of the window dv's next downlink would use: RX2 for class C, else RX1 of its uplink. */
static int next_dr(const struct fg_lora *l, const struct device *dv)
{
	enum fg_lw_region region = (enum fg_lw_region) l->cfg->lorawan.region;
	struct fg_lw_txpk tx;

	if (!dv->d->class_c && dv->have_up &&
	    fg_lw_region_rx1(region, dv->up_freq_hz, dv->up_dr, dv->s.rx1_dr_offset, &tx) == 0)
		return tx.dr;
	return fg_lw_region_rx2(region, &tx) == 0 ? tx.dr : -1;
}

/* Whether len bytes of FRMPayload (with an FPort, fopts_len bytes of FOpts) fit at dr. */
static bool fits(const struct fg_lora *l, int dr, size_t fopts_len, size_t len)
{
	unsigned max = fg_lw_region_max_payload((enum fg_lw_region) l->cfg->lorawan.region, dr);

	/* A DR the table does not know (0) is not ours to refuse: the radio would say. */
	return max == 0 || MAC_OVERHEAD + fopts_len + 1 + len <= max;
}

int fg_lora_downlink_check(const struct fg_lora *l, const struct fg_lorawan_device *d, size_t len)
{
	const struct device *dv = device_of(l, d);

	if (!dv)
		return -ENOENT;
	if (!dv->have_session)
		return -ENOTCONN;
	return fits(l, next_dr(l, dv), 0, len) ? 0 : -EMSGSIZE;
}

/* dv's daily budget as saved: UTC day and count (8 bytes, host order as fcnt_down). */
static void budget_load(struct fg_lora *l, struct device *dv)
{
	uint8_t buf[9];
	size_t len = 0;
	char key[96];

	if (dv->budget_loaded)
		return;
	dv->budget_loaded = true;
	snprintf(key, sizeof(key), "dlday:%s", dv->d->name);
	if (l->ops.load && l->ops.load(l->ops.userdata, key, buf, sizeof(buf), &len) == 0 &&
	    len == 8) {
		memcpy(&dv->budget_day, buf, 4);
		memcpy(&dv->budget_count, buf + 4, 4);
	}
}

/* Whether dv may have one more application downlink today. */
static bool budget_ok(struct fg_lora *l, struct device *dv)
{
	uint32_t max = dv->d->max_downlinks_per_day;

	if (max == 0)
		return true;
	budget_load(l, dv);
	return dv->budget_day != (uint32_t) (wall_now(l) / DAY_MS) || dv->budget_count < max;
}

/* One application downlink of dv went out: counted against today's budget, saved. */
static void budget_spend(struct fg_lora *l, struct device *dv)
{
	uint32_t today = (uint32_t) (wall_now(l) / DAY_MS);
	uint8_t buf[8];
	char key[96];

	if (dv->d->max_downlinks_per_day == 0)
		return;
	budget_load(l, dv);
	if (dv->budget_day != today) {
		dv->budget_day = today;
		dv->budget_count = 0;
	}
	dv->budget_count++;
	memcpy(buf, &dv->budget_day, 4);
	memcpy(buf + 4, &dv->budget_count, 4);
	snprintf(key, sizeof(key), "dlday:%s", dv->d->name);
	if (!l->ops.save || l->ops.save(l->ops.userdata, key, buf, sizeof(buf)) < 0)
		fg_log_device(LOG_WARNING, "lora", "lora", dv->d->name,
			      "%s: cannot save today's downlink count; a restart forgets it",
			      dv->d->name);
}

static void finish(struct fg_lora *l, struct device *dv, const struct fg_command *c,
		   enum fg_cmd_outcome o, enum fg_cmd_reason why, const char *detail)
{
	int r = l->dl.finish(l->dl.userdata, c->id, o, why, detail);

	if (r < 0)
		fg_log_device(LOG_WARNING, "lora", "lora", dv->d->name,
			      "%s: cannot end downlink %s: %s", dv->d->name, c->id, strerror(-r));
}

enum pick {
	PICK_NONE, /* nothing to send */
	PICK_SEND, /* *c, new or resent */
	PICK_WAIT, /* a confirmed one awaits its ACK: nothing else goes before it */
};

/*
 * The command dv's next downlink carries, at data rate dr with fopts_len
 * bytes of FOpts: the one awaiting its ACK is resolved first (acked: the
 * uplink's ACK bit; else resent while tries remain, when may_resend, or
 * nack), then the next pending one, ended as failed when today's budget is
 * spent or it cannot fit. *resend says it was sent before.
 */
static enum pick pick(struct fg_lora *l, struct device *dv, bool acked, bool may_resend, int dr,
		      size_t fopts_len, struct fg_command *c, bool *resend)
{
	char detail[96];

	*resend = false;
	/* Bounded: each turn ends one command; a queue that does not is not followed forever. */
	for (int turn = 0; turn < 64; turn++) {
		int r = l->dl.next(l->dl.userdata, dv->d->name, c);

		if (r == -ENOENT)
			return PICK_NONE;
		if (r < 0) {
			fg_log_device(LOG_WARNING, "lora", "lora", dv->d->name,
				      "%s: cannot read the downlink queue: %s", dv->d->name,
				      strerror(-r));
			return PICK_NONE;
		}
		if (c->awaiting_ack) {
			if (acked) {
				acked = false; /* one ACK acknowledges one downlink */
				dv->cc_ack_by = 0;
				l->stats.app_acks++;
				finish(l, dv, c, FG_CMD_ACK, FG_CMD_R_NONE, NULL);
				continue;
			}
			if (!may_resend)
				return PICK_WAIT;
			if (c->tries > l->cfg->lorawan.confirmed_retries) {
				dv->cc_ack_by = 0;
				snprintf(detail, sizeof(detail), "no ACK after %u sends", c->tries);
				finish(l, dv, c, FG_CMD_NACK, FG_CMD_R_NONE, detail);
				continue;
			}
			*resend = true;
		}
		if (!budget_ok(l, dv)) {
			snprintf(detail, sizeof(detail), "%u downlinks today (UTC)",
				 dv->d->max_downlinks_per_day);
			finish(l, dv, c, FG_CMD_FAILED, FG_CMD_R_DAILY_BUDGET, detail);
			continue;
		}
		if (!fits(l, dr, fopts_len, c->data_len)) {
			snprintf(detail, sizeof(detail), "%zu bytes do not fit DR%d (at most %u)",
				 c->data_len, dr,
				 fg_lw_region_max_payload(
					 (enum fg_lw_region) l->cfg->lorawan.region, dr) -
					 MAC_OVERHEAD - 1 - (unsigned) fopts_len);
			finish(l, dv, c, FG_CMD_FAILED, FG_CMD_R_TOO_LONG, detail);
			continue;
		}
		return PICK_SEND;
	}
	return PICK_NONE;
}

/* What one downlink carries. */
struct dl_plan {
	bool ack;		    /* of a confirmed uplink */
	uint8_t answers[FOPTS_MAX]; /* MAC answers */
	size_t n_answers_len;
	unsigned n_answers;
	uint8_t link_adr[FOPTS_MAX]; /* LinkADRReq of the sub-band */
	size_t link_adr_len;
	bool have_cmd;
	bool resend;
	bool fpending;
	struct fg_command c;
};

/*
 * Build dv's downlink of plan p with its next FCntDown, saved before it can
 * be sent. Returns the PHYPayload's length, or a negative errno.
 */
static int build(struct fg_lora *l, struct device *dv, const struct dl_plan *p, uint32_t *ret_fcnt,
		 uint8_t *phy, size_t size)
{
	struct fg_lw_session s = { .dev_addr = dv->s.dev_addr, .dev_eui = dv->d->dev_eui };
	uint8_t fopts[2 * FOPTS_MAX];
	size_t nf = 0;
	int n, r;

	memcpy(fopts, p->answers, p->n_answers_len);
	nf = p->n_answers_len;
	memcpy(fopts + nf, p->link_adr, p->link_adr_len);
	nf += p->link_adr_len;
	memcpy(s.nwk_s_key, dv->s.nwk_s_key, FG_LW_KEY_LEN);
	memcpy(s.app_s_key, dv->s.app_s_key, FG_LW_KEY_LEN);
	n = fg_lw_build_downlink(&s, p->have_cmd && p->c.confirmed,
				 (uint8_t) ((p->ack ? 0x20 : 0) | (p->fpending ? 0x10 : 0)),
				 dv->s.fcnt_down, fopts, nf, p->have_cmd ? p->c.f_port : -1,
				 p->have_cmd ? p->c.data : NULL, p->have_cmd ? p->c.data_len : 0,
				 phy, size);
	explicit_bzero(&s, sizeof(s));
	if (n < 0)
		return n;
	*ret_fcnt = dv->s.fcnt_down++;
	r = session_save(l, dv);
	return r < 0 ? r : n;
}

/* The radio took dv's downlink of plan p (FCntDown fcnt): count it, tell the queue. */
static void taken(struct fg_lora *l, struct device *dv, const struct dl_plan *p, uint32_t fcnt)
{
	int r;

	if (p->ack)
		l->stats.acks++;
	l->stats.mac_answers += p->n_answers;
	if (p->link_adr_len) {
		l->stats.link_adr_sent++;
		dv->adr_tries++;
		dv->adr_wait = 0;
	}
	if (!p->have_cmd)
		return;
	l->stats.app_downlinks++;
	if (p->resend)
		l->stats.app_retries++;
	budget_spend(l, dv);
	r = l->dl.sent(l->dl.userdata, p->c.id, fcnt, p->c.confirmed);
	if (r < 0)
		fg_log_device(LOG_WARNING, "lora", "lora", dv->d->name,
			      "%s: cannot record downlink %s as sent: %s", dv->d->name, p->c.id,
			      strerror(-r));
	if (!p->c.confirmed)
		finish(l, dv, &p->c, FG_CMD_SENT, FG_CMD_R_NONE, NULL);
	else if (dv->d->class_c)
		dv->cc_ack_by = mono_now(l) + CLASS_C_ACK_US;
	fg_log_device(LOG_INFO, "lora", "lora", dv->d->name,
		      "%s: downlink %s (%zu bytes on port %d%s) sent with FCntDown %u%s",
		      dv->d->name, p->c.id, p->c.data_len, p->c.f_port,
		      p->c.confirmed ? ", confirmed" : "", fcnt, p->resend ? ", again" : "");
}

/*
 * After an accepted uplink up of dv (radio: its metadata, dr filled): the
 * one downlink it gets, in RX1 or RX2, carrying what is owed: the ACK of a
 * confirmed uplink, MAC answers, a LinkADRReq after a join (US915/AU915),
 * and the next queued command.
 */
static void answer_uplink(struct fg_lora *l, struct device *dv, const struct fg_lw_uplink *up,
			  const struct fg_radio_meta *radio, const struct fg_lora_origin *o)
{
	enum fg_lw_region region = (enum fg_lw_region) l->cfg->lorawan.region;
	struct fg_lw_mac_seen seen = { .link_adr_ans = -1 };
	const uint8_t *cmds = NULL;
	struct dl_plan p = { .ack = up->f.mtype == FG_LW_CONFIRMED_UP };
	size_t cmds_len = 0, nf;
	uint8_t phy[FG_LW_PHY_MAX];
	uint32_t fcnt = 0;
	enum pick got = PICK_NONE;
	int n, r, dr;

	if (up->f.fopts_len) {
		cmds = up->f.fopts;
		cmds_len = up->f.fopts_len;
	} else if (up->f.has_port && up->f.fport == 0) {
		cmds = up->payload;
		cmds_len = up->payload_len;
	}
	if (cmds_len) {
		struct fg_lw_mac_ctx ctx = {
			.region = region,
			.dr = radio ? radio->dr : -1,
			.snr = radio ? radio->snr : 0,
			.time_known = wall_synchronized(l),
			.uplink_unix_ms = wall_now(l),
		};

		n = fg_lw_mac_answers(cmds, cmds_len, &ctx, p.answers, sizeof(p.answers), &seen);
		if (n > 0) {
			p.n_answers_len = (size_t) n;
			p.n_answers =
				seen.link_check_req + (seen.device_time_req && ctx.time_known);
		}
	}
	if (seen.link_adr_ans >= 0) {
		/* Status bits: channel mask, data rate, power ACK (LoRaWAN 1.0.x, 5.3). */
		if ((seen.link_adr_ans & 0x07) == 0x07) {
			l->stats.link_adr_ok++;
			dv->adr_needed = false;
		} else {
			l->stats.link_adr_refused++;
			fg_log_device(LOG_WARNING, "lora", "lora", dv->d->name,
				      "%s: LinkADRAns refuses the channel mask of sub-band %u "
				      "(status 0x%02x)",
				      dv->d->name, l->cfg->lorawan.sub_band,
				      (unsigned) seen.link_adr_ans);
		}
	} else if (dv->adr_needed && dv->adr_tries > 0 && dv->adr_wait < UINT8_MAX) {
		dv->adr_wait++;
	}
	if (dv->adr_needed && dv->adr_tries < LINK_ADR_TRIES &&
	    (dv->adr_tries == 0 || seen.link_adr_ans >= 0 || dv->adr_wait >= LINK_ADR_WAIT)) {
		n = fg_lw_region_link_adr_req(region, l->cfg->lorawan.sub_band, p.link_adr,
					      sizeof(p.link_adr));
		/* Answers the device waits for go first; the request waits for room. */
		if (n > 0 && p.n_answers_len + (size_t) n <= FOPTS_MAX)
			p.link_adr_len = (size_t) n;
		else if (n <= 0)
			dv->adr_needed = false;
	}
	nf = p.n_answers_len + p.link_adr_len;
	dr = next_dr(l, dv);
	if (l->have_dl) {
		got = pick(l, dv, up->f.ack, true, dr, 0, &p.c, &p.resend);
		if (got == PICK_SEND) {
			p.have_cmd = true;
			/* The command first; then the request, then the answers, if room. */
			if (!fits(l, dr, nf, p.c.data_len)) {
				p.link_adr_len = 0;
				nf = p.n_answers_len;
			}
			if (!fits(l, dr, nf, p.c.data_len)) {
				p.n_answers_len = 0;
				p.n_answers = 0;
			}
			p.fpending = l->dl.pending(l->dl.userdata, dv->d->name) > 1;
		}
	}
	if (!p.ack && !p.n_answers_len && !p.link_adr_len && !p.have_cmd)
		return;
	n = build(l, dv, &p, &fcnt, phy, sizeof(phy));
	r = n < 0 ? n : schedule(l, dv, o, radio, dv->s.rx_delay * 1000000u, phy, (size_t) n, true);
	if (r < 0) {
		l->stats.downlink_failed++;
		fg_log_device(LOG_WARNING, "lora", "lora", dv->d->name, "%s: cannot send %s: %s",
			      dv->d->name,
			      p.have_cmd ? "its downlink (it stays queued)"
					 : "the answer to its uplink",
			      r == -EBUSY ? "the duty-cycle budget of both receive windows is spent"
					  : strerror(-r));
		return;
	}
	taken(l, dv, &p, fcnt);
}

/*
 * Class C: dv's next queued downlink at once, on RX2 parameters through the
 * radio it was last heard by, when the duty cycle allows; else dv->cc_at
 * says when to try again.
 */
static void class_c_send(struct fg_lora *l, struct device *dv, uint64_t now)
{
	enum fg_lw_region region = (enum fg_lw_region) l->cfg->lorawan.region;
	struct dl_plan p = { 0 };
	struct fg_lw_txpk tx;
	uint64_t wait = 0;
	uint32_t fcnt = 0, airtime;
	enum pick got;
	int n, r;

	dv->cc_at = 0;
	if (!l->have_dl || !dv->d->class_c || !dv->have_session || !l->ops.send)
		return;
	if (!dv->have_via || dv->via.via == FG_LORA_VIA_NONE)
		return; /* no radio heard it: its next uplink tells one */
	if (fg_lw_region_rx2(region, &tx) < 0)
		return;
	got = pick(l, dv, false, dv->cc_ack_by && now >= dv->cc_ack_by, tx.dr, 0, &p.c, &p.resend);
	if (got == PICK_WAIT) {
		/* After a restart the time it was sent is not known: it gets a whole wait. */
		if (!dv->cc_ack_by)
			dv->cc_ack_by = now + CLASS_C_ACK_US;
		dv->cc_at = dv->cc_ack_by;
		return;
	}
	if (got != PICK_SEND)
		return;
	p.have_cmd = true;
	p.fpending = l->dl.pending(l->dl.userdata, dv->d->name) > 1;
	/* MHDR, FHDR, FPort, payload, MIC: the airtime is known before FCntDown is spent. */
	tx.len = 1 + MAC_OVERHEAD + 1 + p.c.data_len + 4;
	tx.immediate = true;
	airtime = fg_lw_txpk_airtime_us(&tx);
	r = fg_lw_duty_check(l->duty, tx.freq_hz, airtime, now, false, &wait);
	if (r != 1) {
		l->stats.duty_limited++;
		dv->cc_at = now + (r == 0 && wait ? wait : CLASS_C_RADIO_US);
		return;
	}
	n = build(l, dv, &p, &fcnt, tx.payload, sizeof(tx.payload));
	if (n < 0) {
		l->stats.downlink_failed++;
		fg_log_device(LOG_WARNING, "lora", "lora", dv->d->name,
			      "%s: cannot build downlink %s: %s", dv->d->name, p.c.id,
			      strerror(-n));
		dv->cc_at = now + CLASS_C_RADIO_US;
		return;
	}
	tx.len = (size_t) n;
	r = l->ops.send(l->ops.userdata, &tx, &dv->via);
	if (r < 0) {
		l->stats.downlink_failed++;
		fg_log_device(LOG_WARNING, "lora", "lora", dv->d->name,
			      "%s: the radio refused class C downlink %s: %s; it stays queued",
			      dv->d->name, p.c.id, strerror(-r));
		if (r == -ENOTCONN)
			dv->have_via = false; /* that radio is gone: wait for an uplink */
		else
			dv->cc_at = now + CLASS_C_RADIO_US;
		return;
	}
	(void) fg_lw_duty_check(l->duty, tx.freq_hz, airtime, now, true, NULL);
	taken(l, dv, &p, fcnt);
	if (p.c.confirmed)
		dv->cc_at = dv->cc_ack_by;
	else if (p.fpending)
		dv->cc_at = now + airtime + CLASS_C_GAP_US;
}

void fg_lora_downlink_queued(struct fg_lora *l, const struct fg_lorawan_device *d)
{
	struct device *dv = device_of(l, d);
	uint64_t now = mono_now(l);

	/* A try already planned (the RX windows of an uplink, the duty cycle, an ACK): tick's. */
	if (dv && d->class_c && !(dv->cc_at > now))
		class_c_send(l, dv, now);
}

uint64_t fg_lora_tick(struct fg_lora *l)
{
	uint64_t now = mono_now(l), next = UINT64_MAX;

	for (size_t i = 0; i < l->n_devs; i++) {
		struct device *dv = &l->devs[i];

		if (!dv->d->class_c || !dv->cc_at)
			continue;
		if (now >= dv->cc_at)
			class_c_send(l, dv, now);
		if (dv->cc_at && (dv->cc_at > now ? dv->cc_at - now : 0) < next)
			next = dv->cc_at > now ? dv->cc_at - now : 0;
	}
	return next;
}

/* ------------------------------------------------------------------ uplinks */

enum fg_lw_reason fg_lora_handle(struct fg_lora *l, const uint8_t *phy, size_t len,
				 const struct fg_radio_meta *radio, fg_reading_fn emit,
				 void *userdata)
{
	return fg_lora_handle_from(l, phy, len, radio, NULL, emit, userdata);
}

/* Count and log a refusal. */
static enum fg_lw_reason refused(struct fg_lora *l, enum fg_lw_reason why, struct device *dv,
				 const struct fg_lw_frame *f, uint32_t last)
{
	const char *who = dv->d->name;

	l->stats.refused[why]++;
	dv->refused++;
	if (why == FG_LW_REPLAY || why == FG_LW_FCNT_GAP)
		fg_log_device(LOG_WARNING, "lora", "lora", who,
			      "%s: frame with counter %u on air refused: %s (last accepted %u)", who,
			      f->fcnt16, fg_lw_reason_to_string(why), last);
	else if (why != FG_LW_DEVNONCE_REUSED && why != FG_LW_UNKNOWN_DEVICE)
		fg_log_device(LOG_WARNING, "lora", "lora", who,
			      "%s: frame with counter %u on air refused: %s", who, f->fcnt16,
			      fg_lw_reason_to_string(why));
	return why;
}

/*
 * Whether a real radio (a packet forwarder, the concentrator) heard the frame
 * outside the channel plan (lorawan.sub_band for US915/AU915): counted and
 * logged if so. The simulator's frames and those without radio metadata or
 * without a radio to answer through are not checked.
 */
static bool off_plan(struct fg_lora *l, const struct fg_radio_meta *radio,
		     const struct fg_lora_origin *origin)
{
	enum fg_lw_region region = (enum fg_lw_region) l->cfg->lorawan.region;
	unsigned sub_band = l->cfg->lorawan.sub_band;
	char band[24] = "";

	if (!radio || !radio->present || radio->freq_hz == 0 || !origin ||
	    (origin->via != FG_LORA_VIA_GWMP && origin->via != FG_LORA_VIA_SX130X) ||
	    fg_lw_region_uplink_in_plan(region, sub_band, radio->freq_hz))
		return false;
	if (region == FG_LW_US915 || region == FG_LW_AU915)
		snprintf(band, sizeof(band), " sub-band %u", sub_band);
	l->stats.refused[FG_LW_OFF_PLAN]++;
	fg_log_device(LOG_WARNING, "lora", "lora", "off-plan",
		      "frame heard on %u.%06u MHz, outside the %s%s channel plan: refused (%s)",
		      radio->freq_hz / 1000000, radio->freq_hz % 1000000,
		      fg_lw_region_to_string(region), band, fg_lw_reason_to_string(FG_LW_OFF_PLAN));
	return true;
}

enum fg_lw_reason fg_lora_handle_from(struct fg_lora *l, const uint8_t *phy, size_t len,
				      const struct fg_radio_meta *radio_in,
				      const struct fg_lora_origin *origin, fg_reading_fn emit,
				      void *userdata)
{
	struct device *dv;
	struct fg_radio_meta radio = { 0 };
	struct fg_lw_session s = { 0 };
	struct fg_lw_frame f;
	struct fg_lw_uplink up;
	enum fg_lw_reason why;
	uint32_t last = 0;
	bool have_last;
	char addr[12];
	int r;

	l->stats.frames++;
	if (radio_in) {
		radio = *radio_in;
		radio.dr = (int8_t) fg_lw_region_dr(l->cfg->lorawan.region, radio.sf, radio.bw_hz);
	}
	if (off_plan(l, radio_in, origin))
		return FG_LW_OFF_PLAN;
	why = fg_lw_parse(phy, len, &f);
	if (why == FG_LW_OK && f.mtype == FG_LW_JOIN_REQUEST) {
		why = join(l, &f, radio_in ? &radio : NULL, origin);
		if (why != FG_LW_OK)
			l->stats.refused[why]++;
		if (why == FG_LW_BAD_MIC)
			fg_log_device(LOG_WARNING, "lora", "lora", "join",
				      "JoinRequest of DevEUI %016llx refused: bad-mic",
				      (unsigned long long) f.dev_eui);
		return why;
	}
	if (why == FG_LW_OK && f.mtype != FG_LW_UNCONFIRMED_UP && f.mtype != FG_LW_CONFIRMED_UP)
		why = f.mtype == FG_LW_UNCONFIRMED_DOWN || f.mtype == FG_LW_CONFIRMED_DOWN ?
			      FG_LW_DOWNLINK :
			      FG_LW_UNSUPPORTED;
	if (why != FG_LW_OK) {
		l->stats.refused[why]++;
		fg_log_device(LOG_WARNING, "lora", "lora", "frame",
			      "refused a %zu-byte frame: %s", len, fg_lw_reason_to_string(why));
		return why;
	}
	snprintf(addr, sizeof(addr), "%08X", f.dev_addr);
	dv = device_by_addr(l, f.dev_addr);
	if (!dv) {
		if (l->cfg->lorawan.unknown == FG_LORAWAN_UNKNOWN_FORWARD) {
			forward_unknown(l, &f, radio_in ? &radio : NULL, emit, userdata);
			return FG_LW_OK;
		}
		l->stats.refused[FG_LW_UNKNOWN_DEVICE]++;
		fg_log_device(LOG_INFO, "lora", "lora", addr,
			      "frame from unknown DevAddr %s dropped (lorawan.unknown = \"drop\")",
			      addr);
		return FG_LW_UNKNOWN_DEVICE;
	}
	s.dev_addr = dv->s.dev_addr;
	s.dev_eui = dv->d->dev_eui;
	memcpy(s.nwk_s_key, dv->s.nwk_s_key, sizeof(s.nwk_s_key));
	memcpy(s.app_s_key, dv->s.app_s_key, sizeof(s.app_s_key));
	r = l->ops.get_fcnt ? l->ops.get_fcnt(l->ops.userdata, dv->d->name, &last) : -ENOENT;
	/* A new session starts its counter afresh, whatever the old one reached. */
	have_last = r == 0 && !dv->s.fresh;
	if (r < 0 && r != -ENOENT) {
		/* Without the last counter a replay cannot be told: refuse, and say so. */
		fg_log_device(LOG_ERR, "lora", "lora", dv->d->name,
			      "%s: cannot read the frame counter: %s; frame dropped", dv->d->name,
			      strerror(-r));
		l->stats.refused[FG_LW_REPLAY]++;
		dv->refused++;
		return FG_LW_REPLAY;
	}
	why = fg_lw_uplink_open(&s, &f, last, have_last, l->cfg->lorawan.max_fcnt_gap, &up);
	explicit_bzero(&s, sizeof(s));
	if (why != FG_LW_OK)
		return refused(l, why, dv, &f, last);
	if (f.fopts_len || (up.f.has_port && up.f.fport == 0)) {
		char mac[256];

		if (f.fopts_len)
			(void) fg_lw_mac_describe(f.fopts, f.fopts_len, mac, sizeof(mac));
		else
			(void) fg_lw_mac_describe(up.payload, up.payload_len, mac, sizeof(mac));
		fg_log_debug("lora", "%s: MAC commands: %s", dv->d->name, mac);
	}
	if (l->ops.set_fcnt) {
		r = l->ops.set_fcnt(l->ops.userdata, dv->d->name, up.fcnt);
		if (r < 0) {
			fg_log_device(LOG_ERR, "lora", "lora", dv->d->name,
				      "%s: cannot keep the frame counter: %s; frame dropped",
				      dv->d->name, strerror(-r));
			l->stats.refused[FG_LW_REPLAY]++;
			dv->refused++;
			return FG_LW_REPLAY;
		}
	}
	if (dv->s.fresh) {
		enum fg_lw_region region = (enum fg_lw_region) l->cfg->lorawan.region;

		/* The first uplink of a session: a US915/AU915 device learns its sub-band. */
		dv->adr_needed = dv->d->otaa && (region == FG_LW_US915 || region == FG_LW_AU915);
		dv->adr_tries = dv->adr_wait = 0;
		dv->s.fresh = false;
		if (session_save(l, dv) < 0)
			fg_log_device(LOG_WARNING, "lora", "lora", dv->d->name,
				      "%s: cannot save the session after its first uplink",
				      dv->d->name);
	}
	l->stats.accepted++;
	dv->heard = true;
	dv->last_ms = fg_clock_wall_ms();
	dv->fcnt_up = up.fcnt;
	dv->rssi = radio.rssi;
	dv->snr = radio.snr;
	if (origin) {
		dv->have_via = true;
		dv->via = *origin;
	}
	dv->have_up = radio_in && radio.dr >= 0;
	dv->up_freq_hz = radio.freq_hz;
	dv->up_dr = radio.dr;
	answer_uplink(l, dv, &up, radio_in ? &radio : NULL, origin);
	if (dv->d->class_c && l->have_dl)
		dv->cc_at = mono_now(l) + CLASS_C_AFTER_UP_US;
	dv->readings += emit_frame(l, dv->d, &up, radio_in ? &radio : NULL, emit, userdata);
	return FG_LW_OK;
}
