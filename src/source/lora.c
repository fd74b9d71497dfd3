/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "source/lora.h"

struct fg_lora {
	const struct fg_config *cfg;
	struct fg_lora_state_ops ops;
	struct fg_lora_stats stats;
	uint64_t frame_ids; /* unknown devices: no counter of theirs to trust */
};

int fg_lora_new(const struct fg_config *cfg, const struct fg_lora_state_ops *ops,
		struct fg_lora **ret)
{
	struct fg_lora *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->cfg = cfg;
	if (ops)
		l->ops = *ops;
	*ret = l;
	return 0;
}

void fg_lora_free(struct fg_lora *l)
{
	free(l);
}

void fg_lora_get_stats(const struct fg_lora *l, struct fg_lora_stats *ret)
{
	*ret = l->stats;
}

const struct fg_lorawan_device *fg_lora_device(const struct fg_lora *l, uint32_t dev_addr)
{
	/* A linear scan: a gateway has tens of devices, and frames come seconds apart. */
	for (size_t i = 0; i < l->cfg->lorawan.n_devices; i++)
		if (l->cfg->lorawan.devices[i].dev_addr == dev_addr)
			return &l->cfg->lorawan.devices[i];
	return NULL;
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

/* Emit the decoded values of an accepted frame; a payload the codec refuses goes out raw. */
static void emit_frame(struct fg_lora *l, const struct fg_lorawan_device *d,
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
}

enum fg_lw_reason fg_lora_handle(struct fg_lora *l, const uint8_t *phy, size_t len,
				 const struct fg_radio_meta *radio_in, fg_reading_fn emit,
				 void *userdata)
{
	const struct fg_lorawan_device *d;
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
	why = fg_lw_parse(phy, len, &f);
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
	d = fg_lora_device(l, f.dev_addr);
	if (!d) {
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
	s.dev_addr = d->dev_addr;
	s.dev_eui = d->dev_eui;
	memcpy(s.nwk_s_key, d->nwk_s_key, sizeof(s.nwk_s_key));
	memcpy(s.app_s_key, d->app_s_key, sizeof(s.app_s_key));
	r = l->ops.get_fcnt ? l->ops.get_fcnt(l->ops.userdata, d->name, &last) : -ENOENT;
	have_last = r == 0;
	if (r < 0 && r != -ENOENT) {
		/* Without the last counter a replay cannot be told: refuse, and say so. */
		fg_log_device(LOG_ERR, "lora", "lora", d->name,
			      "%s: cannot read the frame counter: %s; frame dropped", d->name,
			      strerror(-r));
		l->stats.refused[FG_LW_REPLAY]++;
		return FG_LW_REPLAY;
	}
	why = fg_lw_uplink_open(&s, &f, last, have_last, l->cfg->lorawan.max_fcnt_gap, &up);
	explicit_bzero(&s, sizeof(s));
	if (why != FG_LW_OK) {
		l->stats.refused[why]++;
		if (why == FG_LW_REPLAY || why == FG_LW_FCNT_GAP)
			fg_log_device(LOG_WARNING, "lora", "lora", d->name,
				      "%s: frame with counter %u on air refused: %s (last accepted "
				      "%u)", d->name, f.fcnt16, fg_lw_reason_to_string(why), last);
		else
			fg_log_device(LOG_WARNING, "lora", "lora", d->name,
				      "%s: frame with counter %u on air refused: %s", d->name,
				      f.fcnt16, fg_lw_reason_to_string(why));
		return why;
	}
	if (f.fopts_len || (up.f.has_port && up.f.fport == 0)) {
		char mac[256];

		if (f.fopts_len)
			(void) fg_lw_mac_describe(f.fopts, f.fopts_len, mac, sizeof(mac));
		else
			(void) fg_lw_mac_describe(up.payload, up.payload_len, mac, sizeof(mac));
		fg_log_debug("lora", "%s: MAC commands: %s", d->name, mac);
	}
	if (l->ops.set_fcnt) {
		r = l->ops.set_fcnt(l->ops.userdata, d->name, up.fcnt);
		if (r < 0) {
			fg_log_device(LOG_ERR, "lora", "lora", d->name,
				      "%s: cannot keep the frame counter: %s; frame dropped", d->name,
				      strerror(-r));
			l->stats.refused[FG_LW_REPLAY]++;
			return FG_LW_REPLAY;
		}
	}
	l->stats.accepted++;
	emit_frame(l, d, &up, radio_in ? &radio : NULL, emit, userdata);
	return FG_LW_OK;
}
