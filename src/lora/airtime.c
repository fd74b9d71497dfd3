/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Time on air of a LoRa or FSK transmission, and the EU868 duty-cycle
 * budget, counted with the off-time method: after a transmission of T on a
 * sub-band with duty cycle d, that sub-band stays silent for T * (1/d - 1).
 */
#include <errno.h>
#include <stdlib.h>

#include "lora/downlink.h"

/*
 * LoRa time on air (Semtech AN1200.13, SX1276 datasheet 4.1.1.7, SX1261/2
 * datasheet 6.1.4; lgw_time_on_air of sx1302_hal computes the same):
 *   Tsym = 2^SF / BW
 *   SF 7..12: symbols = preamble + 4.25 + 8 + max(ceil((8PL - 4SF + 28 +
 *             16CRC - 20IH) / (4(SF - 2DE))), 0) * (CR + 4)
 *   SF 5..6:  symbols = preamble + 6.25 + 8 + max(ceil((8PL - 4SF + 20 +
 *             16CRC - 20IH) / (4SF)), 0) * (CR + 4)   (SX126x, SX1302)
 * DE (low data rate optimisation) is on when a symbol lasts 16 ms or more
 * (SF11 and SF12 at 125 kHz, SF12 at 250 kHz), as LoRaWAN devices set it.
 * Counted in quarter symbols, so the result is exact for the usual
 * bandwidths; rounded up to the next microsecond otherwise.
 */
uint32_t fg_lw_airtime_us(unsigned sf, uint32_t bw_hz, unsigned cr, unsigned preamble,
			  bool explicit_header, bool crc, size_t len)
{
	uint64_t quarters, us;
	int64_t num, den, blocks;
	bool de;

	if (sf < 5 || sf > 12 || bw_hz == 0 || cr < 1 || cr > 4 || len > 255)
		return 0;
	/* 2^SF / BW >= 16 ms  <=>  2^SF * 1000 >= 16 * BW */
	de = ((uint64_t) 1 << sf) * 1000 >= (uint64_t) 16 * bw_hz;
	num = 8 * (int64_t) len - 4 * (int64_t) sf + (sf >= 7 ? 28 : 20) + (crc ? 16 : 0) -
	      (explicit_header ? 0 : 20);
	den = 4 * ((int64_t) sf - (de ? 2 : 0));
	blocks = num > 0 ? (num + den - 1) / den : 0;
	quarters = 4 * (uint64_t) preamble + (sf >= 7 ? 17 : 25) + 4 * 8 +
		   4 * (uint64_t) blocks * (cr + 4);
	/* quarters / 4 * 2^SF / BW seconds, in microseconds, rounded up. */
	us = (quarters * ((uint64_t) 1 << sf) * 1000000 + 4 * (uint64_t) bw_hz - 1) /
	     (4 * (uint64_t) bw_hz);
	return us > UINT32_MAX ? UINT32_MAX : (uint32_t) us;
}

/*
 * FSK: preamble bytes, the 3-byte sync word, the length byte, the payload and
 * (unless off) the 2-byte CRC, at the bit rate; rounded up.
 */
static uint32_t fsk_airtime_us(uint32_t bps, unsigned preamble, bool crc, size_t len)
{
	uint64_t bits = 8 * ((uint64_t) preamble + 3 + 1 + len + (crc ? 2 : 0));
	uint64_t us;

	if (bps == 0)
		return 0;
	us = (bits * 1000000 + bps - 1) / bps;
	return us > UINT32_MAX ? UINT32_MAX : (uint32_t) us;
}

uint32_t fg_lw_txpk_airtime_us(const struct fg_lw_txpk *tx)
{
	if (!tx)
		return 0;
	if (tx->rate.fsk)
		return fsk_airtime_us(tx->rate.bps, tx->preamble, !tx->no_crc, tx->len);
	/* LoRaWAN frames always carry the explicit PHY header. */
	return fg_lw_airtime_us(tx->rate.sf, tx->rate.bw_hz, tx->cr, tx->preamble, true,
				!tx->no_crc, tx->len);
}

/*
 * EU868 sub-bands (ETSI EN 300 220-2 and ERC/REC 70-03 annex 1, as The Things
 * Stack lists them): [min, max) by centre frequency, duty cycle as 1/divisor.
 * 868.6-868.7, 869.2-869.4 and 869.65-869.7 MHz are not LoRaWAN's.
 */
static const struct sub_band {
	uint32_t min_hz, max_hz;
	uint32_t divisor;
} eu868_bands[] = {
	{ 863000000, 865000000, 1000 }, /* 0.1% */
	{ 865000000, 868000000, 100 },	/* 1% */
	{ 868000000, 868600000, 100 },	/* 1% (the default channels) */
	{ 868700000, 869200000, 1000 }, /* 0.1% */
	{ 869400000, 869650000, 10 },	/* 10% (RX2) */
	{ 869700000, 870000000, 100 },	/* 1% */
};

#define EU868_BANDS (sizeof(eu868_bands) / sizeof(eu868_bands[0]))

struct fg_lw_duty {
	enum fg_lw_region region;
	/* When each EU868 sub-band may carry the next transmission (monotonic us). */
	uint64_t free_at_us[EU868_BANDS];
};

int fg_lw_duty_new(enum fg_lw_region r, struct fg_lw_duty **ret)
{
	struct fg_lw_duty *d;

	if ((unsigned) r >= FG_LW_REGION__COUNT || !ret)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->region = r;
	*ret = d;
	return 0;
}

void fg_lw_duty_free(struct fg_lw_duty *d)
{
	free(d);
}

int fg_lw_duty_check(struct fg_lw_duty *d, uint32_t freq_hz, uint32_t airtime_us, uint64_t now_us,
		     bool spend, uint64_t *ret_wait_us)
{
	size_t i;

	if (!d)
		return -EINVAL;
	if (d->region != FG_LW_EU868) {
		if (ret_wait_us)
			*ret_wait_us = 0;
		return 1;
	}
	for (i = 0; i < EU868_BANDS; i++)
		if (freq_hz >= eu868_bands[i].min_hz && freq_hz < eu868_bands[i].max_hz)
			break;
	if (i == EU868_BANDS)
		return -EINVAL;
	if (now_us < d->free_at_us[i]) {
		if (ret_wait_us)
			*ret_wait_us = d->free_at_us[i] - now_us;
		return 0;
	}
	/* The transmission itself, then its off-time T * (divisor - 1): T * divisor in all. */
	if (spend)
		d->free_at_us[i] = now_us + (uint64_t) airtime_us * eu868_bands[i].divisor;
	if (ret_wait_us)
		*ret_wait_us = 0;
	return 1;
}
