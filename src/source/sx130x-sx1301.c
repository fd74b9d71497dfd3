/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The SX130x source's adapter to lora_gateway (Lora-net/lora_gateway, the
 * SX1301 HAL): configuration structs and packets by value, lgw_status()
 * without an RF chain, one rssi per packet, data rates and bandwidths as
 * bit masks of its own, the SPI device fixed in the HAL (loragw_spi.native.c,
 * /dev/spidev0.0), and no EUI, temperature sensor or counter read-out.
 * Facts from its libloragw/inc/loragw_hal.h and Lora-net/packet_forwarder's
 * reference global_conf.json files.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <loragw_hal.h>

#include "source/sx130x-hal.h"

#ifndef FG_LORAGW_SX1301
#error "sx130x-sx1301.c is for lora_gateway: configure defines FG_LORAGW_SX1301 for it"
#endif

/* LGW_DEFAULT_NOTCH_FREQ of loragw_fpga.h: the TX notch filter of the radio that transmits. */
#define TX_NOTCH_HZ 129000u

enum fg_sx130x_hal fg_sx130x_hal(void)
{
	return FG_SX130X_HAL_SX1301;
}

const char *fg_sx130x_hal_version(void)
{
	return lgw_version_info();
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

/* The FSK receive bandwidth, rounded up as lora_pkt_fwd does. */
static uint8_t fsk_bw(uint32_t hz)
{
	return hz <= 7800     ? BW_7K8HZ
	       : hz <= 15600  ? BW_15K6HZ
	       : hz <= 31200  ? BW_31K2HZ
	       : hz <= 62500  ? BW_62K5HZ
	       : hz <= 125000 ? BW_125KHZ
	       : hz <= 250000 ? BW_250KHZ
	       : hz <= 500000 ? BW_500KHZ
			      : BW_UNDEFINED;
}

/* SF7..SF12 as this HAL's bit mask (DR_LORA_SF7 0x02 .. DR_LORA_SF12 0x40); 0 otherwise. */
static uint32_t lora_dr(uint8_t sf)
{
	return sf >= 7 && sf <= 12 ? (uint32_t) DR_LORA_SF7 << (sf - 7) : DR_UNDEFINED;
}

static uint8_t lora_sf(uint32_t dr)
{
	for (uint8_t sf = 7; sf <= 12; sf++)
		if (dr == lora_dr(sf))
			return sf;
	return 0;
}

int fg_sx130x_hal_configure(const struct fg_sx130x_setup *s, char *why, size_t why_size)
{
	const struct fg_lw_channel_plan *p = &s->plan;
	struct lgw_conf_board_s board = { .lorawan_public = true, .clksrc = s->clock_source };
	struct lgw_conf_rxif_s ifc;

	if (strcmp(s->spi, "/dev/spidev0.0") != 0) {
		snprintf(why, why_size, "lora_gateway always opens /dev/spidev0.0, not '%s'",
			 s->spi);
		return -EINVAL;
	}
	if (lgw_board_setconf(board) != LGW_HAL_SUCCESS) {
		snprintf(why, why_size, "board (clock source %u)", s->clock_source);
		return -EIO;
	}
	for (uint8_t i = 0; i < 2; i++) {
		struct lgw_conf_rxrf_s rf = {
			.enable = p->radio_enable[i],
			.freq_hz = p->radio_hz[i],
			.rssi_offset = s->rssi_offset,
			.type = s->radio_type == FG_SX130X_RADIO_SX1255 ? LGW_RADIO_TYPE_SX1255
									: LGW_RADIO_TYPE_SX1257,
			.tx_enable = i == 0,
			.tx_notch_freq = TX_NOTCH_HZ,
		};

		if (lgw_rxrf_setconf(i, rf) != LGW_HAL_SUCCESS) {
			snprintf(why, why_size, "radio %u (%s, %.3f MHz)", i,
				 fg_sx130x_radio_to_string(s->radio_type), p->radio_hz[i] / 1e6);
			return -EIO;
		}
	}
	for (uint8_t i = 0; i < 8; i++) {
		ifc = (struct lgw_conf_rxif_s){
			.enable = p->multi[i].enable,
			.rf_chain = p->multi[i].radio,
			.freq_hz = p->multi[i].if_hz,
		};
		if (lgw_rxif_setconf(i, ifc) != LGW_HAL_SUCCESS) {
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
		.datarate = lora_dr(p->lora_std.sf),
	};
	if (p->lora_std.enable && ifc.datarate == DR_UNDEFINED) {
		snprintf(why, why_size,
			 "the SX1301's LoRa service channel takes SF7..SF12, not SF%u",
			 p->lora_std.sf);
		return -EINVAL;
	}
	if (lgw_rxif_setconf(8, ifc) != LGW_HAL_SUCCESS) {
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
	if (lgw_rxif_setconf(9, ifc) != LGW_HAL_SUCCESS) {
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
			r->sf = lora_sf(p->datarate);
			r->bw_hz = lora_bw_hz(p->bandwidth);
			r->cr = p->coderate >= CR_LORA_4_5 && p->coderate <= CR_LORA_4_8
					? p->coderate
					: 0;
		} else if (p->modulation == MOD_FSK) {
			r->fsk_bps = p->datarate;
		} else {
			r->crc = FG_SX130X_CRC_UNKNOWN;
		}
		r->rssi = p->rssi;
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
		if (lora_dr(tx->rate.sf) == DR_UNDEFINED ||
		    lora_bw(tx->rate.bw_hz) == BW_UNDEFINED || tx->cr < 1 || tx->cr > 4)
			return -EINVAL;
		pkt.modulation = MOD_LORA;
		pkt.datarate = lora_dr(tx->rate.sf);
		pkt.bandwidth = lora_bw(tx->rate.bw_hz);
		pkt.coderate = (uint8_t) (CR_LORA_4_5 + tx->cr - 1);
	}
	pkt.size = (uint16_t) tx->len;
	memcpy(pkt.payload, tx->payload, tx->len);
	return lgw_send(pkt) == LGW_HAL_SUCCESS ? 0 : -EIO;
}

int fg_sx130x_hal_eui(uint64_t *ret)
{
	(void) ret;
	return -EOPNOTSUPP; /* the SX1301 has no EUI of its own */
}

int fg_sx130x_hal_temperature(float *ret)
{
	(void) ret;
	return -EOPNOTSUPP;
}

int fg_sx130x_hal_counter(uint32_t *ret_us)
{
	(void) ret_us;
	return -EOPNOTSUPP;
}
