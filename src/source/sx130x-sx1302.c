/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The SX130x source's adapter to sx1302_hal (Lora-net/sx1302_hal, SX1302
 * and SX1303): configuration structs by pointer, the SPI device in the
 * board configuration, the channel RSSI (rssic) per packet, the EUI and the
 * board's temperature sensor. Facts from its libloragw/inc/loragw_hal.h and
 * the reference packet_forwarder/global_conf.json.sx1250.* files.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <loragw_hal.h>

#include "source/sx130x-hal.h"

#ifndef FG_LORAGW_SX1302
#error "sx130x-sx1302.c is for sx1302_hal: configure defines FG_LORAGW_SX1302 for it"
#endif

enum fg_sx130x_hal fg_sx130x_hal(void)
{
	return FG_SX130X_HAL_SX1302;
}

const char *fg_sx130x_hal_version(void)
{
	return lgw_version_info();
}

static lgw_radio_type_t radio_type(enum fg_sx130x_radio r)
{
	return r == FG_SX130X_RADIO_SX1250   ? LGW_RADIO_TYPE_SX1250
	       : r == FG_SX130X_RADIO_SX1255 ? LGW_RADIO_TYPE_SX1255
					     : LGW_RADIO_TYPE_SX1257;
}

static uint8_t lora_bw(uint32_t hz)
{
	return hz == 125000   ? BW_125KHZ
	       : hz == 250000 ? BW_250KHZ
	       : hz == 500000 ? BW_500KHZ
			      : BW_UNDEFINED;
}

static uint32_t lora_bw_hz(uint8_t code)
{
	return code == BW_125KHZ   ? 125000
	       : code == BW_250KHZ ? 250000
	       : code == BW_500KHZ ? 500000
				   : 0;
}

/* The FSK receive bandwidth as the packet forwarder rounds it up (125 kHz at least). */
static uint8_t fsk_bw(uint32_t hz)
{
	return hz <= 125000   ? BW_125KHZ
	       : hz <= 250000 ? BW_250KHZ
	       : hz <= 500000 ? BW_500KHZ
			      : BW_UNDEFINED;
}

/*
 * The TX gains of Semtech's SX1250 reference design (CoreCell; the same in
 * the RAK2287 and WM1302 configurations): power at the connector, PA on/off
 * and the SX1250's power index, from global_conf.json.sx1250.EU868.
 */
static const struct {
	int8_t rf_power;
	uint8_t pa_gain, pwr_idx;
} sx1250_lut[] = {
	{ 12, 0, 15 }, { 13, 0, 16 }, { 14, 0, 17 }, { 15, 0, 19 }, { 16, 0, 20 }, { 17, 0, 22 },
	{ 18, 1, 1 },  { 19, 1, 2 },  { 20, 1, 3 },  { 21, 1, 4 },  { 22, 1, 5 },  { 23, 1, 6 },
	{ 24, 1, 7 },  { 25, 1, 9 },  { 26, 1, 11 }, { 27, 1, 14 },
};

int fg_sx130x_hal_configure(const struct fg_sx130x_setup *s, char *why, size_t why_size)
{
	const struct fg_lw_channel_plan *p = &s->plan;
	struct lgw_conf_board_s board = {
		.lorawan_public = true,
		.clksrc = s->clock_source,
		.full_duplex = false,
		.com_type = LGW_COM_SPI,
	};
	struct lgw_conf_rxif_s ifc;

	snprintf(board.com_path, sizeof(board.com_path), "%s", s->spi);
	if (lgw_board_setconf(&board) != LGW_HAL_SUCCESS) {
		snprintf(why, why_size, "board (clock source %u, '%s')", s->clock_source, s->spi);
		return -EIO;
	}
	for (uint8_t i = 0; i < 2; i++) {
		struct lgw_conf_rxrf_s rf = {
			.enable = p->radio_enable[i],
			.freq_hz = p->radio_hz[i],
			.rssi_offset = s->rssi_offset,
			.type = radio_type(s->radio_type),
			.tx_enable = i == 0,
		};

		/* The SX1250 reference design's temperature compensation of the RSSI. */
		if (s->radio_type == FG_SX130X_RADIO_SX1250)
			rf.rssi_tcomp = (struct lgw_rssi_tcomp_s){ 0, 0, 20.41f, 2162.56f, 0 };
		if (lgw_rxrf_setconf(i, &rf) != LGW_HAL_SUCCESS) {
			snprintf(why, why_size, "radio %u (%s, %.3f MHz)", i,
				 fg_sx130x_radio_to_string(s->radio_type), p->radio_hz[i] / 1e6);
			return -EIO;
		}
	}
	if (s->radio_type == FG_SX130X_RADIO_SX1250) {
		struct lgw_tx_gain_lut_s lut = { .size = sizeof(sx1250_lut) /
							 sizeof(sx1250_lut[0]) };

		for (size_t i = 0; i < lut.size; i++) {
			lut.lut[i].rf_power = sx1250_lut[i].rf_power;
			lut.lut[i].pa_gain = sx1250_lut[i].pa_gain;
			lut.lut[i].pwr_idx = sx1250_lut[i].pwr_idx;
			/*
			 * Not used by the SX1250, but lgw_txgain_setconf() checks it is
			 * 5..15: lora_pkt_fwd sets 5 for SX1250 tables too.
			 */
			lut.lut[i].mix_gain = 5;
		}
		if (lgw_txgain_setconf(0, &lut) != LGW_HAL_SUCCESS) {
			snprintf(why, why_size, "TX gain table of radio 0");
			return -EIO;
		}
	}
	for (uint8_t i = 0; i < 8; i++) {
		ifc = (struct lgw_conf_rxif_s){
			.enable = p->multi[i].enable,
			.rf_chain = p->multi[i].radio,
			.freq_hz = p->multi[i].if_hz,
		};
		if (lgw_rxif_setconf(i, &ifc) != LGW_HAL_SUCCESS) {
			snprintf(why, why_size, "multi-SF channel %u (radio %u, IF %+d Hz)", i,
				 p->multi[i].radio, (int) p->multi[i].if_hz);
			return -EIO;
		}
	}
	ifc = (struct lgw_conf_rxif_s){
		.enable = p->lora_std.enable,
		.rf_chain = p->lora_std.radio,
		.freq_hz = p->lora_std.if_hz,
		.bandwidth = lora_bw(p->lora_std.bw_hz),
		.datarate = p->lora_std.sf,
	};
	if (lgw_rxif_setconf(8, &ifc) != LGW_HAL_SUCCESS) {
		snprintf(why, why_size, "LoRa service channel (SF%u, %u kHz)", p->lora_std.sf,
			 (unsigned) (p->lora_std.bw_hz / 1000));
		return -EIO;
	}
	ifc = (struct lgw_conf_rxif_s){
		.enable = p->fsk.enable,
		.rf_chain = p->fsk.radio,
		.freq_hz = p->fsk.if_hz,
		.bandwidth = fsk_bw(p->fsk.bw_hz),
		.datarate = p->fsk.bps,
	};
	if (lgw_rxif_setconf(9, &ifc) != LGW_HAL_SUCCESS) {
		snprintf(why, why_size, "FSK channel (%u bps)", (unsigned) p->fsk.bps);
		return -EIO;
	}
	return 0;
}

int fg_sx130x_hal_start(void)
{
	return lgw_start() == LGW_HAL_SUCCESS ? 0 : -EIO;
}

int fg_sx130x_hal_stop(void)
{
	return lgw_stop() == LGW_HAL_SUCCESS ? 0 : -EIO;
}

int fg_sx130x_hal_receive(struct fg_sx130x_rx *rx, unsigned max)
{
	struct lgw_pkt_rx_s pkt[16];
	int n;

	if (max > sizeof(pkt) / sizeof(pkt[0]))
		max = sizeof(pkt) / sizeof(pkt[0]);
	n = lgw_receive((uint8_t) max, pkt);
	if (n < 0 || (unsigned) n > max)
		return -EIO;
	for (int i = 0; i < n; i++) {
		const struct lgw_pkt_rx_s *p = &pkt[i];
		struct fg_sx130x_rx *r = &rx[i];

		memset(r, 0, sizeof(*r));
		r->freq_hz = p->freq_hz;
		r->if_chain = p->if_chain;
		r->rf_chain = p->rf_chain;
		r->crc = p->status == STAT_CRC_OK    ? FG_SX130X_CRC_OK
			 : p->status == STAT_CRC_BAD ? FG_SX130X_CRC_BAD
			 : p->status == STAT_NO_CRC  ? FG_SX130X_CRC_NONE
						     : FG_SX130X_CRC_UNKNOWN;
		r->lora = p->modulation == MOD_LORA;
		if (r->lora) {
			r->sf = p->datarate >= DR_LORA_SF5 && p->datarate <= DR_LORA_SF12
					? (uint8_t) p->datarate
					: 0;
			r->bw_hz = lora_bw_hz(p->bandwidth);
			r->cr = p->coderate >= CR_LORA_4_5 && p->coderate <= CR_LORA_4_8
					? p->coderate
					: 0;
		} else if (p->modulation == MOD_FSK) {
			r->fsk_bps = p->datarate;
		} else {
			r->crc = FG_SX130X_CRC_UNKNOWN;
		}
		r->rssi = p->rssic;
		r->snr = p->snr;
		r->count_us = p->count_us;
		r->size = p->size <= sizeof(r->payload) ? p->size : 0;
		memcpy(r->payload, p->payload, r->size);
	}
	return n;
}

int fg_sx130x_hal_send(const struct fg_lw_txpk *tx, uint8_t rf_chain, int8_t rf_power)
{
	struct lgw_pkt_tx_s pkt = {
		.freq_hz = tx->freq_hz,
		.tx_mode = tx->immediate ? IMMEDIATE : TIMESTAMPED,
		.count_us = tx->count_us,
		.rf_chain = rf_chain,
		.rf_power = rf_power,
		.invert_pol = tx->invert_pol,
		.preamble = tx->preamble,
		.no_crc = tx->no_crc,
		.no_header = false,
	};

	if (tx->len > sizeof(pkt.payload) || tx->len > 255)
		return -EINVAL;
	if (tx->rate.fsk) {
		if (tx->rate.bps < DR_FSK_MIN || tx->rate.bps > DR_FSK_MAX)
			return -EINVAL;
		pkt.modulation = MOD_FSK;
		pkt.datarate = tx->rate.bps;
		pkt.f_dev =
			(uint8_t) (tx->rate.bps / 2000); /* kHz: 25 for 50 kbps, as LoRaWAN's DR7 */
	} else {
		if (tx->rate.sf < DR_LORA_SF5 || tx->rate.sf > DR_LORA_SF12 ||
		    lora_bw(tx->rate.bw_hz) == BW_UNDEFINED || tx->cr < 1 || tx->cr > 4)
			return -EINVAL;
		pkt.modulation = MOD_LORA;
		pkt.datarate = tx->rate.sf;
		pkt.bandwidth = lora_bw(tx->rate.bw_hz);
		pkt.coderate = (uint8_t) (CR_LORA_4_5 + tx->cr - 1);
	}
	pkt.size = (uint16_t) tx->len;
	memcpy(pkt.payload, tx->payload, tx->len);
	return lgw_send(&pkt) == LGW_HAL_SUCCESS ? 0 : -EIO;
}

int fg_sx130x_hal_eui(uint64_t *ret)
{
	uint64_t eui;

	if (lgw_get_eui(&eui) != LGW_HAL_SUCCESS)
		return -EIO;
	*ret = eui;
	return 0;
}

int fg_sx130x_hal_temperature(float *ret)
{
	float t;

	if (lgw_get_temperature(&t) != LGW_HAL_SUCCESS)
		return -EIO;
	*ret = t;
	return 0;
}

int fg_sx130x_hal_counter(uint32_t *ret_us)
{
	uint32_t c;

	if (lgw_get_instcnt(&c) != LGW_HAL_SUCCESS)
		return -EIO;
	*ret_us = c;
	return 0;
}
