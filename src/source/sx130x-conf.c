/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The SX130x source's configuration, without the HAL: board presets, the
 * region's channel plan with the file's changes, and the checks that refuse
 * a configuration this binary cannot run (source/sx130x.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/sx130x.h"

#define MULTI_BW_HZ 125000 /* the multi-SF channels' bandwidth */

/*
 * Board facts. Lines are offsets on gpiochip0, which on a Raspberry Pi are
 * the BCM GPIO numbers (on a Pi 5 with a kernel before 6.6.45 the header's
 * GPIOs are gpiochip4: override reset_gpio/power_gpio as "gpiochip4:17").
 * All these boards reset their concentrator on a high level and run on low.
 *
 *  corecell  Semtech's SX1302 CoreCell reference design: reset GPIO23, power
 *            enable GPIO18 (SX1261 reset GPIO22, left alone: fieldgate uses
 *            neither listen-before-talk nor spectral scan): sx1302_hal
 *            tools/reset_lgw.sh. Clock from radio 0, SX1250 radios:
 *            packet_forwarder/global_conf.json.sx1250.EU868.
 *  wm1302    Seeed Studio WM1302 (SX1302): reset GPIO17, power enable GPIO18
 *            (SX1261 reset GPIO5): Seeed's wiki "WM1302 LoRaWAN Gateway
 *            Module", step 4 (its reset_lgw.sh changes). SX1250 radios.
 *  rak2287   RAK2287 (SX1302) and RAK5146 (SX1303) on RAK's Pi HAT: reset
 *  rak5146   GPIO17, no power line: RAKWireless/rak_common_for_gateway,
 *            lora/rak2287/reset_lgw.sh. SX1250 radios.
 *  rak2245   RAK2245 Pi HAT (SX1301): reset GPIO17, high to reset (RAK forum,
 *            "RAK2245 on RPi 4 with arm64 Buildroot"; rak_common_for_gateway
 *            lora/start.sh). Clock from radio 1, SX1257 radios, RSSI offset
 *            -166: lora/rak2245/global_conf/global_conf.eu_863_870.json.
 *  ic880a    IMST iC880A (SX1301): the reset line depends on the adapter
 *            board; GPIO25 on the common small adapter (ttn-zh/ic880a-gateway
 *            start.sh; its install.sh offers 17 for the ch2i adapter).
 *            Clock from radio 1, SX1257 radios (Lora-net/packet_forwarder
 *            global_conf.json.PCB_E336.EU868.basic).
 */
static const struct board {
	enum fg_sx130x_chip chip;
	const char *reset;
	const char *power;
	uint8_t clock_source;
	enum fg_sx130x_radio radio;
} boards[FG_SX130X_BOARD__COUNT] = {
	[FG_SX130X_BOARD_NONE] = { FG_SX130X_SX1302, NULL, NULL, 0, FG_SX130X_RADIO_SX1250 },
	[FG_SX130X_BOARD_RAK2245] = { FG_SX130X_SX1301, "gpiochip0:17", NULL, 1,
				      FG_SX130X_RADIO_SX1257 },
	[FG_SX130X_BOARD_RAK2287] = { FG_SX130X_SX1302, "gpiochip0:17", NULL, 0,
				      FG_SX130X_RADIO_SX1250 },
	[FG_SX130X_BOARD_RAK5146] = { FG_SX130X_SX1303, "gpiochip0:17", NULL, 0,
				      FG_SX130X_RADIO_SX1250 },
	[FG_SX130X_BOARD_WM1302] = { FG_SX130X_SX1302, "gpiochip0:17", "gpiochip0:18", 0,
				     FG_SX130X_RADIO_SX1250 },
	[FG_SX130X_BOARD_IC880A] = { FG_SX130X_SX1301, "gpiochip0:25", NULL, 1,
				     FG_SX130X_RADIO_SX1257 },
	[FG_SX130X_BOARD_CORECELL] = { FG_SX130X_SX1302, "gpiochip0:23", "gpiochip0:18", 0,
				       FG_SX130X_RADIO_SX1250 },
};

static const char *const board_names[FG_SX130X_BOARD__COUNT] = {
	[FG_SX130X_BOARD_NONE] = "none",	 [FG_SX130X_BOARD_RAK2245] = "rak2245",
	[FG_SX130X_BOARD_RAK2287] = "rak2287",	 [FG_SX130X_BOARD_RAK5146] = "rak5146",
	[FG_SX130X_BOARD_WM1302] = "wm1302",	 [FG_SX130X_BOARD_IC880A] = "ic880a",
	[FG_SX130X_BOARD_CORECELL] = "corecell",
};

const char *fg_sx130x_board_to_string(enum fg_sx130x_board b)
{
	return (unsigned) b < FG_SX130X_BOARD__COUNT ? board_names[b] : "unknown";
}

const char *fg_sx130x_chip_to_string(enum fg_sx130x_chip c)
{
	return c == FG_SX130X_SX1301   ? "sx1301"
	       : c == FG_SX130X_SX1302 ? "sx1302"
	       : c == FG_SX130X_SX1303 ? "sx1303"
				       : "unknown";
}

const char *fg_sx130x_radio_to_string(enum fg_sx130x_radio r)
{
	return r == FG_SX130X_RADIO_SX1250   ? "sx1250"
	       : r == FG_SX130X_RADIO_SX1255 ? "sx1255"
	       : r == FG_SX130X_RADIO_SX1257 ? "sx1257"
					     : "unknown";
}

const char *fg_sx130x_hal_to_string(enum fg_sx130x_hal h)
{
	return h == FG_SX130X_HAL_SX1301   ? "lora_gateway (SX1301)"
	       : h == FG_SX130X_HAL_SX1302 ? "sx1302_hal (SX1302/SX1303)"
					   : "none";
}

const char *fg_sx130x_state_to_string(enum fg_sx130x_state s)
{
	return s == FG_SX130X_RESETTING ? "resetting"
	       : s == FG_SX130X_RUNNING ? "running"
	       : s == FG_SX130X_WAITING ? "waiting"
					: "stopped";
}

/* The RSSI offset Semtech's reference configurations give each radio type. */
static float radio_rssi_offset(enum fg_sx130x_radio r)
{
	return r == FG_SX130X_RADIO_SX1250 ? -215.4f : -166.0f;
}

/* Add a finding about sources.sx130x (at the line of its enabled setting); counts errors. */
static void diag(struct fg_diags *d, const struct fg_config *cfg, int line, bool error,
		 const char *setting, size_t *errors, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
static void diag(struct fg_diags *d, const struct fg_config *cfg, int line, bool error,
		 const char *setting, size_t *errors, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void) fg_diags_add(d, error ? FG_DIAG_ERROR : FG_DIAG_WARNING,
			    cfg->path ? cfg->path : "(configuration)", line, setting, "%s", msg);
	if (error)
		(*errors)++;
}

/* The file's line, or the board's, or none. */
static int resolve_line(const char *given, const char *preset, struct fg_sx130x_line *ret)
{
	const char *spec = given ? given : preset;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!spec)
		return 0;
	r = fg_gpio_spec_parse(spec, ret->chip, sizeof(ret->chip), &ret->offset);
	if (r < 0)
		return r;
	ret->present = r == 0;
	return 0;
}

static const char *chain_name(unsigned chain, char *buf, size_t size)
{
	if (chain == FG_SX130X_CHAIN_LORA_STD)
		return "lora_std";
	if (chain == FG_SX130X_CHAIN_FSK)
		return "fsk";
	snprintf(buf, size, "%u", chain);
	return buf;
}

static struct fg_lw_channel *plan_chain(struct fg_lw_channel_plan *p, unsigned chain)
{
	return chain < 8			   ? &p->multi[chain]
	       : chain == FG_SX130X_CHAIN_LORA_STD ? &p->lora_std
						   : &p->fsk;
}

/*
 * The band around a radio's centre that a channel of bw_hz must lie in, as
 * each HAL's lgw_rxif_setconf() checks it (LGW_RF_RX_BANDWIDTH_*KHZ in its
 * loragw_hal.c): 1.6 MHz whatever the bandwidth with sx1302_hal; 925 kHz,
 * 1 MHz, 1.1 MHz for 125, 250, 500 kHz channels with lora_gateway.
 */
static uint32_t radio_span_hz(enum fg_sx130x_chip chip, uint32_t bw_hz)
{
	if (chip != FG_SX130X_SX1301)
		return 1600000;
	return bw_hz >= 500000 ? 1100000 : bw_hz >= 250000 ? 1000000 : 925000;
}

/* Apply sources.sx130x.channels and the radio frequencies, then check what the chips can do. */
static void apply_channels(const struct fg_config *cfg, struct fg_sx130x_setup *s,
			   struct fg_diags *d, size_t *errors)
{
	const struct fg_sx130x_config *x = &cfg->sources.sx130x;
	const char *path = "sources.sx130x.channels";
	uint32_t freq[2] = { x->radio_0_freq, x->radio_1_freq };
	char nb[8];

	for (int i = 0; i < 2; i++) {
		if (!freq[i])
			continue;
		if (freq[i] < 100000000)
			diag(d, cfg, x->line, true,
			     i ? "sources.sx130x.radio_1_freq" : "sources.sx130x.radio_0_freq",
			     errors, "expected 0 or a frequency of 100..1020 MHz in Hz, got %u",
			     (unsigned) freq[i]);
		s->plan.radio_hz[i] = freq[i];
		s->plan.radio_enable[i] = true;
	}
	for (size_t k = 0; k < x->n_channels; k++) {
		const struct fg_sx130x_channel *c = &x->channels[k];
		struct fg_lw_channel *ch = plan_chain(&s->plan, c->chain);

		if (c->has_enable)
			ch->enable = c->enable;
		if (c->has_radio)
			ch->radio = c->radio;
		if (c->has_if)
			ch->if_hz = c->if_hz;
		if (c->has_sf)
			ch->sf = c->sf;
		if (c->has_bandwidth)
			ch->bw_hz = c->bw_hz;
		if (c->has_datarate)
			ch->bps = c->bps;
	}
	for (unsigned chain = 0; chain < FG_SX130X_CHAINS; chain++) {
		const struct fg_lw_channel *ch = plan_chain(&s->plan, chain);
		uint32_t bw = chain < 8 ? MULTI_BW_HZ : ch->bw_hz;
		int line = x->line;
		int64_t edge;

		for (size_t k = 0; k < x->n_channels; k++)
			if (x->channels[k].chain == chain)
				line = x->channels[k].line;
		if (!ch->enable)
			continue;
		if (ch->radio > 1 || !s->plan.radio_enable[ch->radio]) {
			diag(d, cfg, line, true, path, errors,
			     "channel %s is on radio %u, which the "
			     "plan does not use; give the radio a frequency or move the channel",
			     chain_name(chain, nb, sizeof(nb)), ch->radio);
			continue;
		}
		edge = (ch->if_hz < 0 ? -(int64_t) ch->if_hz : ch->if_hz) + bw / 2;
		if (edge > radio_span_hz(s->chip, bw) / 2)
			diag(d, cfg, line, true, path, errors,
			     "channel %s: IF %+d Hz with %u kHz "
			     "bandwidth reaches outside the %u kHz an %s radio hears",
			     chain_name(chain, nb, sizeof(nb)), (int) ch->if_hz,
			     (unsigned) (bw / 1000), (unsigned) (radio_span_hz(s->chip, bw) / 1000),
			     fg_sx130x_chip_to_string(s->chip));
		if (chain == FG_SX130X_CHAIN_LORA_STD &&
		    ((ch->sf < 5 || ch->sf > 12) ||
		     (ch->bw_hz != 125000 && ch->bw_hz != 250000 && ch->bw_hz != 500000)))
			diag(d, cfg, line, true, path, errors,
			     "channel lora_std needs 'sf' 5..12 and "
			     "'bandwidth' 125000, 250000 or 500000");
		if (chain == FG_SX130X_CHAIN_FSK &&
		    (ch->bps < 500 || ch->bps > 250000 || !ch->bw_hz))
			diag(d, cfg, line, true, path, errors,
			     "channel fsk needs 'datarate' "
			     "500..250000 and a 'bandwidth'");
	}
}

int fg_sx130x_setup_resolve(const struct fg_config *cfg, struct fg_sx130x_setup *ret,
			    struct fg_diags *d)
{
	const struct fg_sx130x_config *x = &cfg->sources.sx130x;
	const struct board *b;
	struct fg_sx130x_setup s = { 0 };
	size_t errors = 0;
	bool family_1301;
	int r;

	if ((unsigned) x->board >= FG_SX130X_BOARD__COUNT)
		return -EINVAL;
	b = &boards[x->board];
	s.board = (enum fg_sx130x_board) x->board;
	s.chip = x->has_chip ? (enum fg_sx130x_chip) x->chip : b->chip;
	family_1301 = s.chip == FG_SX130X_SX1301;
	if (x->board != FG_SX130X_BOARD_NONE && x->has_chip &&
	    (b->chip == FG_SX130X_SX1301) != family_1301)
		diag(d, cfg, x->line, true, "sources.sx130x.chip", &errors,
		     "board %s carries an %s, not an %s; remove chip or change board",
		     board_names[x->board], fg_sx130x_chip_to_string(b->chip),
		     fg_sx130x_chip_to_string(s.chip));
	snprintf(s.spi, sizeof(s.spi), "%s", x->spi ? x->spi : "/dev/spidev0.0");
	if (resolve_line(x->reset_gpio, b->reset, &s.reset) < 0 ||
	    resolve_line(x->power_gpio, b->power, &s.power) < 0)
		return -EINVAL; /* the table checked them: not reached */
	if (s.reset.present && s.power.present && !strcmp(s.reset.chip, s.power.chip) &&
	    s.reset.offset == s.power.offset)
		diag(d, cfg, x->line, true, "sources.sx130x.power_gpio", &errors,
		     "is the same line as the reset (%s:%u)", s.reset.chip, s.reset.offset);
	s.clock_source = (uint8_t) (x->has_clock_source ? x->clock_source : b->clock_source);
	s.radio_type = x->has_radio_type ? (enum fg_sx130x_radio) x->radio_type
		       : x->board == FG_SX130X_BOARD_NONE && family_1301 ? FG_SX130X_RADIO_SX1257
									 : b->radio;
	if (family_1301 && s.radio_type == FG_SX130X_RADIO_SX1250)
		diag(d, cfg, x->line, true, "sources.sx130x.radio_type", &errors,
		     "an SX1301 works with SX1255 or SX1257 radios, not the SX1250");
	s.rssi_offset =
		x->has_rssi_offset ? (float) x->rssi_offset : radio_rssi_offset(s.radio_type);
	s.antenna_gain = (float) x->antenna_gain;
	s.region = (enum fg_lw_region) x->region;
	s.sub_band = s.region == FG_LW_US915 || s.region == FG_LW_AU915 ? x->sub_band : 0;
	if (x->has_sub_band && !s.sub_band)
		diag(d, cfg, x->line, false, "sources.sx130x.sub_band", &errors,
		     "only US915 and AU915 have sub-bands; ignored for %s",
		     fg_lw_region_to_string(s.region));
	r = fg_lw_region_channel_plan(s.region, s.sub_band, &s.plan);
	if (r < 0)
		diag(d, cfg, x->line, true, "sources.sx130x.region", &errors,
		     "no concentrator channel plan for %s%s", fg_lw_region_to_string(s.region),
		     s.sub_band ? " with this sub-band" : "");
	else
		apply_channels(cfg, &s, d, &errors);
	s.stat_interval_usec = (uint64_t) x->stat_interval_s * 1000000;
	snprintf(s.gateway_id, sizeof(s.gateway_id), "%s", cfg->gateway.id ? cfg->gateway.id : "");
	if (errors)
		return -EINVAL;
	*ret = s;
	return 0;
}

int fg_sx130x_check_config(const struct fg_config *cfg, enum fg_sx130x_hal built,
			   struct fg_diags *d)
{
	const struct fg_sx130x_config *x = &cfg->sources.sx130x;
	struct fg_sx130x_setup s;
	size_t errors = 0;
	int r;

	if (!x->enabled)
		return 0;
	if (built == FG_SX130X_HAL_NONE) {
		diag(d, cfg, x->line, true, "sources.sx130x.enabled", &errors,
		     "this fieldgated was built without concentrator support (libloragw): build "
		     "it with ./configure --with-loragw=DIR, DIR a built Semtech HAL (see "
		     "README, \"LoRa concentrator\"), or take frames from a packet forwarder "
		     "with sources.gwmp");
		return -EOPNOTSUPP;
	}
	r = fg_sx130x_setup_resolve(cfg, &s, d);
	if (r < 0)
		return r;
	if (built == FG_SX130X_HAL_SX1301 && s.chip != FG_SX130X_SX1301)
		diag(d, cfg, x->line, true, "sources.sx130x.chip", &errors,
		     "this fieldgated was built with lora_gateway, which drives only the SX1301, "
		     "not an %s: build it with --with-loragw pointing at a built sx1302_hal",
		     fg_sx130x_chip_to_string(s.chip));
	if (built == FG_SX130X_HAL_SX1302 && s.chip == FG_SX130X_SX1301)
		diag(d, cfg, x->line, true, "sources.sx130x.chip", &errors,
		     "this fieldgated was built with sx1302_hal, which drives the SX1302 and "
		     "SX1303, not an SX1301: build it with --with-loragw pointing at a built "
		     "lora_gateway");
	if (built == FG_SX130X_HAL_SX1301 && strcmp(s.spi, "/dev/spidev0.0") != 0)
		diag(d, cfg, x->line, true, "sources.sx130x.spi", &errors,
		     "lora_gateway always opens /dev/spidev0.0 (SPI_DEV_PATH in its "
		     "loragw_spi.native.c), not '%s'",
		     s.spi);
	return errors ? -EINVAL : 0;
}

static bool line_equal(const struct fg_sx130x_line *a, const struct fg_sx130x_line *b)
{
	return a->present == b->present && (!a->present || (!strcmp(a->chip, b->chip) &&
							    a->offset == b->offset));
}

static bool channel_equal(const struct fg_lw_channel *a, const struct fg_lw_channel *b)
{
	return a->enable == b->enable && a->radio == b->radio && a->if_hz == b->if_hz &&
	       a->sf == b->sf && a->bw_hz == b->bw_hz && a->bps == b->bps;
}

/* Field by field: the structs' padding is not known to be equal. */
bool fg_sx130x_setup_equal(const struct fg_sx130x_setup *a, const struct fg_sx130x_setup *b)
{
	if (a->board != b->board || a->chip != b->chip || strcmp(a->spi, b->spi) ||
	    !line_equal(&a->reset, &b->reset) || !line_equal(&a->power, &b->power) ||
	    a->clock_source != b->clock_source || a->radio_type != b->radio_type ||
	    a->rssi_offset != b->rssi_offset || a->antenna_gain != b->antenna_gain ||
	    a->region != b->region || a->sub_band != b->sub_band ||
	    a->stat_interval_usec != b->stat_interval_usec || strcmp(a->gateway_id, b->gateway_id))
		return false;
	for (int i = 0; i < 2; i++)
		if (a->plan.radio_hz[i] != b->plan.radio_hz[i] ||
		    a->plan.radio_enable[i] != b->plan.radio_enable[i])
			return false;
	for (int i = 0; i < 8; i++)
		if (!channel_equal(&a->plan.multi[i], &b->plan.multi[i]))
			return false;
	return channel_equal(&a->plan.lora_std, &b->plan.lora_std) &&
	       channel_equal(&a->plan.fsk, &b->plan.fsk);
}
