/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The regions we serve (LoRaWAN Regional Parameters RP002-1.0.x; EU863-870,
 * US902-928, AS923 group 1 (AS923-1), AU915-928): their data rates, the RX1
 * and RX2 transmissions that answer an uplink, the downlink power we ask
 * for, and the concentrator's receive plan.
 *
 * Not here: LR-FHSS data rates (EU868 DR8..11, US915 DR5..6, AU915 DR7),
 * which have no SF/BW and no RX1 mapping we could send; AS923 groups 2..4
 * (a frequency offset); AS923 with DownlinkDwellTime 1 (see as923_rx1_dr).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "lora/downlink.h"
#include "lora/lorawan.h"

#define DR_MAX 16

/* Which way a data rate may be used. */
enum { UP = 1, DOWN = 2, BOTH = UP | DOWN };

struct dr {
	uint8_t sf;	/* LoRa; 0 for FSK or an unused index */
	uint32_t bw_hz; /* LoRa */
	uint32_t bps;	/* FSK */
	uint8_t dir;	/* 0: the region has no such DR */
};

/* clang-format off */
#define LORA(s, b, d) { .sf = (s), .bw_hz = (b), .dir = (d) }
#define FSK(r, d)     { .bps = (r), .dir = (d) }

/* Index = DR. RP002 "EU863-870 data rate" table. */
static const struct dr eu868_dr[DR_MAX] = {
	LORA(12, 125000, BOTH), LORA(11, 125000, BOTH), LORA(10, 125000, BOTH),
	LORA(9, 125000, BOTH),  LORA(8, 125000, BOTH),  LORA(7, 125000, BOTH),
	LORA(7, 250000, BOTH),  FSK(50000, BOTH),
};

/* RP002 US902-928: DR0..4 uplink only, DR8..13 downlink only. */
static const struct dr us915_dr[DR_MAX] = {
	LORA(10, 125000, UP), LORA(9, 125000, UP), LORA(8, 125000, UP), LORA(7, 125000, UP),
	LORA(8, 500000, UP),
	[8] = LORA(12, 500000, DOWN), LORA(11, 500000, DOWN), LORA(10, 500000, DOWN),
	LORA(9, 500000, DOWN), LORA(8, 500000, DOWN), LORA(7, 500000, DOWN),
};

/* RP002 AS923: the EU868 rates, both ways. */
static const struct dr as923_dr[DR_MAX] = {
	LORA(12, 125000, BOTH), LORA(11, 125000, BOTH), LORA(10, 125000, BOTH),
	LORA(9, 125000, BOTH),  LORA(8, 125000, BOTH),  LORA(7, 125000, BOTH),
	LORA(7, 250000, BOTH),  FSK(50000, BOTH),
};

/* RP002 AU915-928 (RP 1.0.2revB on): DR0..6 uplink (DR6 SF8/500), DR8..13 downlink only. */
static const struct dr au915_dr[DR_MAX] = {
	LORA(12, 125000, UP), LORA(11, 125000, UP), LORA(10, 125000, UP), LORA(9, 125000, UP),
	LORA(8, 125000, UP), LORA(7, 125000, UP), LORA(8, 500000, UP),
	[8] = LORA(12, 500000, DOWN), LORA(11, 500000, DOWN), LORA(10, 500000, DOWN),
	LORA(9, 500000, DOWN), LORA(8, 500000, DOWN), LORA(7, 500000, DOWN),
};
/* clang-format on */

static const struct {
	const char *name;
	const struct dr *dr;
} regions[FG_LW_REGION__COUNT] = {
	[FG_LW_EU868] = { "EU868", eu868_dr },
	[FG_LW_US915] = { "US915", us915_dr },
	[FG_LW_AS923] = { "AS923", as923_dr },
	[FG_LW_AU915] = { "AU915", au915_dr },
};

const char *fg_lw_region_to_string(enum fg_lw_region r)
{
	if ((unsigned) r >= FG_LW_REGION__COUNT)
		return "unknown";
	return regions[r].name;
}

int fg_lw_region_from_string(const char *s)
{
	for (int i = 0; s && i < FG_LW_REGION__COUNT; i++)
		if (strcasecmp(s, regions[i].name) == 0)
			return i;
	return -EINVAL;
}

int fg_lw_region_dr(enum fg_lw_region r, unsigned sf, uint32_t bw_hz)
{
	if ((unsigned) r >= FG_LW_REGION__COUNT)
		return -1;
	for (int i = 0; i < DR_MAX; i++) {
		const struct dr *d = &regions[r].dr[i];

		if ((d->dir & UP) && d->sf != 0 && d->sf == sf && d->bw_hz == bw_hz)
			return i;
	}
	return -1;
}

int fg_lw_region_dr_params(enum fg_lw_region r, int dr, bool downlink, struct fg_lw_dr *ret)
{
	const struct dr *d;

	if ((unsigned) r >= FG_LW_REGION__COUNT || dr < 0 || dr >= DR_MAX || !ret)
		return -EINVAL;
	d = &regions[r].dr[dr];
	if (!(d->dir & (downlink ? DOWN : UP)))
		return -EINVAL;
	*ret = (struct fg_lw_dr){
		.fsk = d->bps != 0,
		.sf = d->sf,
		.bw_hz = d->bw_hz,
		.bps = d->bps,
	};
	return 0;
}

/*
 * The downlink power we ask for, EIRP in dBm: each region's default max EIRP
 * of RP002 (EU868 16, AS923 16, AU915 30; US915 30, which RP002 states as
 * conducted power and FCC part 15.247 allows with up to 6 dBi of antenna
 * gain), except EU868's 869.40-869.65 MHz sub-band (RX2), where ETSI EN 300
 * 220 allows 500 mW ERP (band "P" in The Things Stack's EU868 table, which
 * uses 27 dBm ERP + 2.15 = 29.15 dBm EIRP): we ask for 27, keeping the 2.15 dB
 * as margin. Elsewhere in EU868, 25 mW ERP is 16.15 dBm EIRP.
 */
static int8_t tx_power_dbm(enum fg_lw_region r, uint32_t freq_hz)
{
	switch (r) {
	case FG_LW_EU868:
		return freq_hz >= 869400000 && freq_hz < 869650000 ? 27 : 16;
	case FG_LW_US915:
	case FG_LW_AU915:
		return 30;
	case FG_LW_AS923:
	default:
		return 16;
	}
}

/* A LoRaWAN class A downlink at freq_hz, data rate dr of region r; -EINVAL for a DR it lacks. */
static int downlink_txpk(enum fg_lw_region r, uint32_t freq_hz, int dr, struct fg_lw_txpk *ret)
{
	struct fg_lw_dr rate;
	int e;

	e = fg_lw_region_dr_params(r, dr, true, &rate);
	if (e < 0)
		return e;
	memset(ret, 0, sizeof(*ret));
	ret->freq_hz = freq_hz;
	ret->dr = dr;
	ret->rate = rate;
	ret->cr = 1; /* 4/5, every LoRaWAN data rate */
	ret->power_dbm = tx_power_dbm(r, freq_hz);
	if (rate.fsk) {
		/*
		 * FSK (RP002 "FSK ... 50 kbps"): 5 preamble bytes, then the 3-byte sync
		 * word; the PHY CRC is on in both directions (LoRaMac-node turns it on
		 * for an FSK RX window); polarity does not apply.
		 */
		ret->preamble = 5;
	} else {
		/* Section 3 of the 1.0.x specification: 8 symbols, downlinks with I/Q
		 * inverted and without the payload CRC. */
		ret->preamble = 8;
		ret->invert_pol = true;
		ret->no_crc = true;
	}
	return 0;
}

/* EU868 (RP002 RX1 table): DR = max(up - offset, 0), offsets 0..5. */
static int eu868_rx1_dr(int up_dr, unsigned offset)
{
	if (offset > 5)
		return -EINVAL;
	return up_dr - (int) offset > 0 ? up_dr - (int) offset : 0;
}

/*
 * AS923 (RP002-1.0.x): offsets 0..7, where 6 and 7 raise the data rate by 1
 * and 2; RX1 DR = min(7, max(MinDR, up - effective offset)). MinDR is 0
 * because we assume DownlinkDwellTime 0: no 400 ms dwell limit on downlinks,
 * the default until a TxParamSetupReq says otherwise, and what The Things
 * Stack boots devices with. Where the local rules impose the limit (Japan,
 * e.g.), MinDR is 2: a setting for another day.
 */
static int as923_rx1_dr(int up_dr, unsigned offset)
{
	static const int effective[8] = { 0, 1, 2, 3, 4, 5, -1, -2 };
	int dr;

	if (offset > 7)
		return -EINVAL;
	dr = up_dr - effective[offset];
	if (dr < 0)
		dr = 0;
	return dr > 7 ? 7 : dr;
}

/* clang-format off */
/* US915 (RP 1.0.3revA table 17, RP002 the same for DR0..4): [up DR][offset], offsets 0..3. */
static const uint8_t us915_rx1[5][4] = {
	{ 10,  9,  8,  8 },
	{ 11, 10,  9,  8 },
	{ 12, 11, 10,  9 },
	{ 13, 12, 11, 10 },
	{ 13, 13, 12, 11 },
};

/* AU915 (RP002): [up DR][offset], offsets 0..5. */
static const uint8_t au915_rx1[7][6] = {
	{  8,  8,  8,  8,  8,  8 },
	{  9,  8,  8,  8,  8,  8 },
	{ 10,  9,  8,  8,  8,  8 },
	{ 11, 10,  9,  8,  8,  8 },
	{ 12, 11, 10,  9,  8,  8 },
	{ 13, 12, 11, 10,  9,  8 },
	{ 13, 13, 12, 11, 10,  9 },
};
/* clang-format on */

/*
 * The uplink channel number of a fixed-plan region (US915, AU915): 0..63 for
 * 125 kHz channels every 200 kHz from base125_hz, 64..71 for 500 kHz
 * channels every 1.6 MHz from base500_hz. -EINVAL off that grid.
 */
static int fixed_channel(uint32_t freq_hz, bool wide, uint32_t base125_hz, uint32_t base500_hz)
{
	uint32_t base = wide ? base500_hz : base125_hz, step = wide ? 1600000 : 200000;
	uint32_t n = wide ? 8 : 64;

	if (freq_hz < base || (freq_hz - base) % step != 0 || (freq_hz - base) / step >= n)
		return -EINVAL;
	return (int) ((freq_hz - base) / step + (wide ? 64 : 0));
}

int fg_lw_region_rx1(enum fg_lw_region r, uint32_t up_freq_hz, int up_dr, unsigned rx1_dr_offset,
		     struct fg_lw_txpk *ret)
{
	struct fg_lw_dr up;
	uint32_t freq = up_freq_hz;
	int dr, ch;

	if (!ret || fg_lw_region_dr_params(r, up_dr, false, &up) < 0)
		return -EINVAL;
	switch (r) {
	case FG_LW_EU868:
		/* RX1 on the uplink's channel, which must be in the 863-870 MHz band. */
		if (up_freq_hz < 863000000 || up_freq_hz > 870000000)
			return -EINVAL;
		dr = eu868_rx1_dr(up_dr, rx1_dr_offset);
		break;
	case FG_LW_AS923:
		/* RX1 on the uplink's channel; AS923's groups span 915-928 MHz. */
		if (up_freq_hz < 915000000 || up_freq_hz > 928000000)
			return -EINVAL;
		dr = as923_rx1_dr(up_dr, rx1_dr_offset);
		break;
	case FG_LW_US915:
	case FG_LW_AU915: {
		bool us = r == FG_LW_US915;

		/* 125 kHz channels from 902.3 (915.2) MHz, 500 kHz ones from 903.0 (915.9) MHz. */
		ch = us ? fixed_channel(up_freq_hz, up.bw_hz == 500000, 902300000, 903000000)
			: fixed_channel(up_freq_hz, up.bw_hz == 500000, 915200000, 915900000);
		if (ch < 0)
			return ch;
		/* RX1 channel = uplink channel mod 8; downlink channel k at 923.3 + 0.6 k MHz. */
		freq = 923300000 + 600000 * (uint32_t) (ch % 8);
		if (us)
			dr = rx1_dr_offset > 3 ? -EINVAL : us915_rx1[up_dr][rx1_dr_offset];
		else
			dr = rx1_dr_offset > 5 ? -EINVAL : au915_rx1[up_dr][rx1_dr_offset];
		break;
	}
	default:
		return -EINVAL;
	}
	if (dr < 0)
		return dr;
	return downlink_txpk(r, freq, dr, ret);
}

int fg_lw_region_rx2(enum fg_lw_region r, struct fg_lw_txpk *ret)
{
	/* RP002 default RX2 parameters; AS923 for group 1 (AS923_FREQ_OFFSET 0). */
	static const struct {
		uint32_t freq_hz;
		int dr;
	} rx2[FG_LW_REGION__COUNT] = {
		[FG_LW_EU868] = { 869525000, 0 },
		[FG_LW_US915] = { 923300000, 8 },
		[FG_LW_AS923] = { 923200000, 2 },
		[FG_LW_AU915] = { 923300000, 8 },
	};

	if ((unsigned) r >= FG_LW_REGION__COUNT || !ret)
		return -EINVAL;
	return downlink_txpk(r, rx2[r].freq_hz, rx2[r].dr, ret);
}

static struct fg_lw_channel multi(uint8_t radio, int32_t if_hz)
{
	return (struct fg_lw_channel){ .enable = true, .radio = radio, .if_hz = if_hz };
}

/*
 * US915 and AU915 sub-band n: the 8 125 kHz channels from first_hz (902.3 or
 * 915.2 MHz + 1.6 MHz * (n - 1)) and the 500 kHz channel 700 kHz above the
 * first, laid out as sx1302_hal's global_conf.json.sx1250.US915 does for
 * sub-band 2: radio 0 at first + 400 kHz with channels 0..3 at -400..+200 kHz
 * and the 500 kHz channel at +300 kHz, radio 1 at first + 1.1 MHz with
 * channels 4..7 at -300..+300 kHz. No FSK.
 */
static void fixed_plan(uint32_t first_hz, struct fg_lw_channel_plan *p)
{
	p->radio_hz[0] = first_hz + 400000;
	p->radio_hz[1] = first_hz + 1100000;
	p->radio_enable[0] = p->radio_enable[1] = true;
	for (int i = 0; i < 4; i++) {
		p->multi[i] = multi(0, -400000 + 200000 * i);
		p->multi[4 + i] = multi(1, -300000 + 200000 * i);
	}
	p->lora_std = (struct fg_lw_channel){
		.enable = true,
		.radio = 0,
		.if_hz = 300000,
		.sf = 8,
		.bw_hz = 500000,
	};
}

int fg_lw_region_channel_plan(enum fg_lw_region r, unsigned sub_band,
			      struct fg_lw_channel_plan *ret)
{
	struct fg_lw_channel_plan p = { 0 };

	if (!ret)
		return -EINVAL;
	switch (r) {
	case FG_LW_EU868:
		/*
		 * sx1302_hal global_conf.json.sx1250.EU868: radio 0 at 867.5 MHz, radio 1
		 * at 868.5 MHz; 868.1, 868.3, 868.5 MHz on radio 1, 867.1..867.9 MHz on
		 * radio 0; the service channel SF7/250 kHz at 868.3 MHz, FSK 50 kbps at
		 * 868.8 MHz.
		 */
		p.radio_hz[0] = 867500000;
		p.radio_hz[1] = 868500000;
		p.radio_enable[0] = p.radio_enable[1] = true;
		p.multi[0] = multi(1, -400000);
		p.multi[1] = multi(1, -200000);
		p.multi[2] = multi(1, 0);
		for (int i = 0; i < 5; i++)
			p.multi[3 + i] = multi(0, -400000 + 200000 * i);
		p.lora_std = (struct fg_lw_channel){
			.enable = true,
			.radio = 1,
			.if_hz = -200000,
			.sf = 7,
			.bw_hz = 250000,
		};
		p.fsk = (struct fg_lw_channel){
			.enable = true,
			.radio = 1,
			.if_hz = 300000,
			.bw_hz = 125000,
			.bps = 50000,
		};
		break;
	case FG_LW_US915:
	case FG_LW_AU915:
		if (sub_band < 1 || sub_band > 8)
			return -EINVAL;
		fixed_plan((r == FG_LW_US915 ? 902300000 : 915200000) + 1600000 * (sub_band - 1),
			   &p);
		break;
	case FG_LW_AS923:
		/*
		 * sx1302_hal global_conf.json.sx1250.AS923.USB: radio 0 at 922.3 MHz
		 * (922.0, 922.2, 922.4, 922.6 MHz), radio 1 at 923.1 MHz (922.8, 923.0,
		 * and the two default channels 923.2, 923.4 MHz). That file's service
		 * channel is SF8/500 kHz, which AS923 has no data rate for; ours is DR6,
		 * SF7/250 kHz, at 922.1 MHz as in The Things Network's AS_920_923 plan.
		 * FSK off, as in that file.
		 */
		p.radio_hz[0] = 922300000;
		p.radio_hz[1] = 923100000;
		p.radio_enable[0] = p.radio_enable[1] = true;
		for (int i = 0; i < 4; i++) {
			p.multi[i] = multi(0, -300000 + 200000 * i);
			p.multi[4 + i] = multi(1, -300000 + 200000 * i);
		}
		p.lora_std = (struct fg_lw_channel){
			.enable = true,
			.radio = 0,
			.if_hz = -200000,
			.sf = 7,
			.bw_hz = 250000,
		};
		break;
	default:
		return -EINVAL;
	}
	*ret = p;
	return 0;
}

/* ------------------------------------------------------------------ channel plans for devices */

/* The frequency of a receive channel of plan p (radio centre + IF offset). */
static uint32_t channel_hz(const struct fg_lw_channel_plan *p, const struct fg_lw_channel *c)
{
	return (uint32_t) ((int64_t) p->radio_hz[c->radio & 1] + c->if_hz);
}

/* Whether freq_hz is one of the default channels every device of region r knows from boot. */
static bool default_channel(enum fg_lw_region r, uint32_t freq_hz)
{
	switch (r) {
	case FG_LW_EU868: /* RP002 "EU863-870 default channels" */
		return freq_hz == 868100000 || freq_hz == 868300000 || freq_hz == 868500000;
	case FG_LW_AS923: /* RP002 "AS923 default channels", AS923-1 (no offset) */
		return freq_hz == 923200000 || freq_hz == 923400000;
	default:
		return false;
	}
}

/*
 * The 125 kHz multi-SF channels of a dynamic plan (EU868, AS923) beside
 * the default ones, ascending, at most FG_LW_CFLIST_FREQS; returns how many.
 * AS923's plan has six (922.0 .. 923.0 MHz) for a CFList of five: the lowest,
 * 922.0 MHz, is left out, as The Things Network's AS_920_923 plan leaves it
 * out of its CFList (922.2 .. 923.0 MHz). A device so told never uses it;
 * the concentrator keeps listening there for devices configured otherwise.
 */
#define FG_LW_CFLIST_FREQS 5
static size_t extra_channels(enum fg_lw_region r, uint32_t out[FG_LW_CFLIST_FREQS])
{
	struct fg_lw_channel_plan p;
	uint32_t f[8];
	size_t n = 0, skip;

	if (fg_lw_region_channel_plan(r, 0, &p) < 0)
		return 0;
	for (size_t i = 0; i < 8; i++) {
		uint32_t hz = channel_hz(&p, &p.multi[i]);
		size_t j;

		if (!p.multi[i].enable || default_channel(r, hz))
			continue;
		/* insertion sort: ascending */
		for (j = n; j > 0 && f[j - 1] > hz; j--)
			f[j] = f[j - 1];
		f[j] = hz;
		n++;
	}
	skip = n > FG_LW_CFLIST_FREQS ? n - FG_LW_CFLIST_FREQS : 0;
	for (size_t i = skip; i < n; i++)
		out[i - skip] = f[i];
	return n - skip;
}

/* The 72-channel mask of sub_band (US915, AU915: 0..63 at 125 kHz, 64..71 at 500 kHz), 5 words. */
static void fixed_mask(unsigned sub_band, uint16_t mask[5])
{
	unsigned first = 8 * (sub_band - 1); /* the sub-band's first 125 kHz channel */

	for (int i = 0; i < 5; i++)
		mask[i] = 0;
	mask[first / 16] = (uint16_t) (0xff << (first % 16));
	mask[4] = (uint16_t) (1u << (sub_band - 1)); /* its 500 kHz channel, 64 + sub_band - 1 */
}

static bool fixed_region(enum fg_lw_region r)
{
	return r == FG_LW_US915 || r == FG_LW_AU915;
}

/*
 * CFList (LoRaWAN 1.0.x section 6.2.5 and RP002 "CFList" of each region):
 * - type 0 (EU868, AS923): five frequencies, 24 bits each in 100 Hz units,
 *   little-endian, for channels 3..7 (RP002 "EU863-870 JoinAccept CFList",
 *   "AS923 JoinAccept CFList"); unused ones 0; then CFListType 0. The new
 *   channels take DR0..5, as RP002 says CFList channels do.
 * - type 1 (US915, AU915): ChMask0..ChMask4 (16 bits each, little-endian:
 *   channels 0..15, .., 48..63 and, in ChMask4, 64..71), 5 RFU bytes, then
 *   CFListType 1 (RP002 "US902-928 JoinAccept CFList", "AU915-928 JoinAccept
 *   CFList"; RP 1.0.3revA and later: a 1.0.2 device ignores it).
 */
int fg_lw_region_cflist(enum fg_lw_region r, unsigned sub_band, uint8_t cflist[16])
{
	if (!cflist || (unsigned) r >= FG_LW_REGION__COUNT)
		return -EINVAL;
	memset(cflist, 0, 16);
	if (fixed_region(r)) {
		uint16_t mask[5];

		if (sub_band < 1 || sub_band > 8)
			return -EINVAL;
		fixed_mask(sub_band, mask);
		for (int i = 0; i < 5; i++) {
			cflist[2 * i] = (uint8_t) mask[i];
			cflist[2 * i + 1] = (uint8_t) (mask[i] >> 8);
		}
		cflist[15] = 1;
		return 1;
	}
	if (r == FG_LW_EU868 || r == FG_LW_AS923) {
		uint32_t f[FG_LW_CFLIST_FREQS];
		size_t n = extra_channels(r, f);

		if (n == 0)
			return 0;
		for (size_t i = 0; i < n; i++) {
			uint32_t v = f[i] / 100;

			cflist[3 * i] = (uint8_t) v;
			cflist[3 * i + 1] = (uint8_t) (v >> 8);
			cflist[3 * i + 2] = (uint8_t) (v >> 16);
		}
		cflist[15] = 0;
		return 1;
	}
	return 0;
}

/* One LinkADRReq (1.0.x section 5.2, 1.0.4 5.3): CID, DataRate_TXPower, ChMask, Redundancy. */
static void link_adr_req(uint8_t *out, uint16_t ch_mask, unsigned ch_mask_cntl)
{
	out[0] = 0x03;
	out[1] = 0xff; /* DataRate 0xF, TXPower 0xF: keep the device's own */
	out[2] = (uint8_t) ch_mask;
	out[3] = (uint8_t) (ch_mask >> 8);
	out[4] = (uint8_t) ((ch_mask_cntl & 7) << 4); /* RFU bit 7 0; NbTrans 0: keep */
}

/*
 * Two LinkADRReq, sent together as a "contiguous block" that the device
 * applies as one (LoRaWAN 1.0.2 section 5.2, RP002 "US902-928 LinkAdrReq
 * command" and "AU915-928 LinkAdrReq command"), in this order:
 * 1. ChMaskCntl 7: all 125 kHz channels off; ChMask says which of the 500
 *    kHz channels 64..71 are on: the sub-band's (64 + sub_band - 1).
 * 2. ChMaskCntl 0..3: ChMask for the 16 channels 16*ChMaskCntl .. +15, with
 *    the sub-band's eight on (the lower or upper byte).
 * The device answers each with a LinkADRAns (the caller counts them).
 *
 * DataRate and TXPower are 0xF, NbTrans 0, in both. LoRaWAN 1.0.4 (section
 * 5.3) defines 0xF as "keep the current value" and NbTrans 0 as "keep". In
 * 1.0.2/1.0.3 (and their regional parameters) DR15 and TXPower 15 are RFU, so
 * a device built to those and not to 1.0.4 may answer with "data rate" and
 * "power" NACKed and, as 1.0.2 section 5.2 requires, keep its previous state,
 * channel mask included. We send 0xF all the same: this function does not
 * know the device's data rate or power, and naming others would move a
 * device off the data rate ADR (or its owner) chose; the NACK shows in the
 * counted LinkADRAns status, and such a device learns the sub-band from the
 * type-1 CFList instead when it implements RP 1.0.3revA or later. NbTrans 0
 * means "the default, 1" to a 1.0.2 device: harmless for one-gateway links.
 */
int fg_lw_region_link_adr_req(enum fg_lw_region r, unsigned sub_band, uint8_t *out, size_t size)
{
	unsigned first;

	if ((unsigned) r >= FG_LW_REGION__COUNT)
		return -EINVAL;
	if (!fixed_region(r))
		return 0;
	if (sub_band < 1 || sub_band > 8 || (size > 0 && !out))
		return -EINVAL;
	if (size < 10)
		return -ENOBUFS;
	first = 8 * (sub_band - 1);
	link_adr_req(out, (uint16_t) (1u << (sub_band - 1)), 7);
	link_adr_req(out + 5, (uint16_t) (0xff << (first % 16)), first / 16);
	return 10;
}

/*
 * The plan's uplink channels are the ones the concentrator listens on
 * (fg_lw_region_channel_plan): the eight multi-SF channels, the LoRa
 * service channel (US915/AU915: the sub-band's 500 kHz one) and the FSK
 * channel, where enabled. RX2 and other downlink-only frequencies are not.
 */
bool fg_lw_region_uplink_in_plan(enum fg_lw_region r, unsigned sub_band, uint32_t freq_hz)
{
	struct fg_lw_channel_plan p;

	if (fg_lw_region_channel_plan(r, fixed_region(r) ? sub_band : 0, &p) < 0)
		return false;
	for (int i = 0; i < 8; i++)
		if (p.multi[i].enable && p.radio_enable[p.multi[i].radio & 1] &&
		    channel_hz(&p, &p.multi[i]) == freq_hz)
			return true;
	if (p.lora_std.enable && channel_hz(&p, &p.lora_std) == freq_hz)
		return true;
	return p.fsk.enable && channel_hz(&p, &p.fsk) == freq_hz;
}

/*
 * M, the largest MACPayload, of the downlink data rates (RP002-1.0.x
 * "maximum payload size" tables, the columns for no repeater; AS923 with
 * DownlinkDwellTime 0, AU915 downlinks have no dwell limit): EU863-870,
 * AS923: DR0..7 59 59 59 123 250 250 250 250 (AS923 DR2 123); US902-928
 * and AU915-928: DR8..13 61 137 250 250 250 250. 0 for DRs a region does
 * not send downlinks at (US915/AU915 DR0..7).
 */
unsigned fg_lw_region_max_payload(enum fg_lw_region r, int dr)
{
	static const uint8_t m[FG_LW_REGION__COUNT][DR_MAX] = {
		[FG_LW_EU868] = { 59, 59, 59, 123, 250, 250, 250, 250 },
		[FG_LW_AS923] = { 59, 59, 123, 123, 250, 250, 250, 250 },
		[FG_LW_US915] = { [8] = 61, 137, 250, 250, 250, 250 },
		[FG_LW_AU915] = { [8] = 61, 137, 250, 250, 250, 250 },
	};

	if ((unsigned) r >= FG_LW_REGION__COUNT || dr < 0 || dr >= DR_MAX)
		return 0;
	return m[r][dr];
}
