/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The part of the SX130x source's HAL adapter (sx130x-hal.h) that reads the
 * same against lora_gateway's and sx1302_hal's loragw_hal.h: start, stop and
 * the version, the IF chains, receive with the packet conversion, the TX
 * checks and conversion, send, and the TX status. Included once per program, by
 * sx130x-sx1301.c or sx130x-sx1302.c after its flavour's <loragw_hal.h>, so
 * it defines seam functions, not only static helpers. Where the two HALs
 * differ in a type or a spelling, the adapter defines one small static
 * function, declared here:
 *
 *   lora_dr()         a spreading factor as the HAL's LoRa datarate
 *                     (sx1302_hal: the SF itself; lora_gateway: a bit of a
 *                     mask), DR_UNDEFINED for an SF it cannot do
 *   lora_sf()         the other way; 0 for what is no SF
 *   fsk_bw()          an FSK receive bandwidth as the HAL's code, rounded up
 *                     (lora_gateway has narrower ones than sx1302_hal)
 *   rxif_setconf()    lgw_rxif_setconf() (sx1302_hal: by pointer; lora_gateway:
 *                     by value)
 *   packet_rssi()     a received packet's RSSI (sx1302_hal: the channel's,
 *                     rssic; lora_gateway: rssi)
 *   send_packet()     lgw_send() (sx1302_hal: by pointer; lora_gateway: by value)
 *   tx_status_code()  lgw_status(TX_STATUS) (sx1302_hal: of an RF chain;
 *                     lora_gateway: of its one TX modem)
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "source/sx130x-hal.h"

static uint32_t lora_dr(uint8_t sf);
static uint8_t lora_sf(uint32_t dr);
static uint8_t fsk_bw(uint32_t hz);
static int rxif_setconf(uint8_t if_chain, struct lgw_conf_rxif_s *conf);
static float packet_rssi(const struct lgw_pkt_rx_s *p);
static int send_packet(struct lgw_pkt_tx_s *pkt);
static int tx_status_code(uint8_t rf_chain, uint8_t *code);

const char *fg_sx130x_hal_version(void)
{
	return lgw_version_info();
}

int fg_sx130x_hal_start(void)
{
	return lgw_start() == LGW_HAL_SUCCESS ? 0 : -EIO;
}

int fg_sx130x_hal_stop(void)
{
	return lgw_stop() == LGW_HAL_SUCCESS ? 0 : -EIO;
}

/* A LoRa bandwidth as the HAL's code; BW_UNDEFINED for one LoRa does not have. */
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

/*
 * The plan's IF chains, the last part of fg_sx130x_hal_configure(): the 8
 * multi-SF channels (0..7), the LoRa service channel (8) and FSK (9).
 */
static int configure_if_chains(const struct fg_lw_channel_plan *p, char *why, size_t why_size)
{
	struct lgw_conf_rxif_s ifc;

	for (uint8_t i = 0; i < 8; i++) {
		ifc = (struct lgw_conf_rxif_s){
			.enable = p->multi[i].enable,
			.rf_chain = p->multi[i].radio,
			.freq_hz = p->multi[i].if_hz,
		};
		if (rxif_setconf(i, &ifc) != LGW_HAL_SUCCESS) {
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
	if (rxif_setconf(8, &ifc) != LGW_HAL_SUCCESS) {
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
	if (rxif_setconf(9, &ifc) != LGW_HAL_SUCCESS) {
		snprintf(why, why_size, "FSK channel (%u bps)", (unsigned) p->fsk.bps);
		return -EIO;
	}
	return 0;
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
		r->rssi = packet_rssi(p);
		r->snr = p->snr;
		r->count_us = p->count_us;
		r->size = p->size <= sizeof(r->payload) ? p->size : 0;
		memcpy(r->payload, p->payload, r->size);
	}
	return n;
}

/* tx as the HAL's packet, from rf_chain at rf_power dBm; -EINVAL for what it cannot send. */
static int tx_packet(const struct fg_lw_txpk *tx, uint8_t rf_chain, int8_t rf_power,
		     struct lgw_pkt_tx_s *ret)
{
	*ret = (struct lgw_pkt_tx_s){
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
	if (tx->len > sizeof(ret->payload) || tx->len > 255)
		return -EINVAL;
	if (tx->rate.fsk) {
		if (tx->rate.bps < DR_FSK_MIN || tx->rate.bps > DR_FSK_MAX)
			return -EINVAL;
		ret->modulation = MOD_FSK;
		ret->datarate = tx->rate.bps;
		/* kHz: 25 for 50 kbps, as LoRaWAN's DR7 */
		ret->f_dev = (uint8_t) (tx->rate.bps / 2000);
	} else {
		if (lora_dr(tx->rate.sf) == DR_UNDEFINED ||
		    lora_bw(tx->rate.bw_hz) == BW_UNDEFINED || tx->cr < 1 || tx->cr > 4)
			return -EINVAL;
		ret->modulation = MOD_LORA;
		ret->datarate = lora_dr(tx->rate.sf);
		ret->bandwidth = lora_bw(tx->rate.bw_hz);
		ret->coderate = (uint8_t) (CR_LORA_4_5 + tx->cr - 1);
	}
	ret->size = (uint16_t) tx->len;
	memcpy(ret->payload, tx->payload, tx->len);
	return 0;
}

int fg_sx130x_hal_check(const struct fg_lw_txpk *tx)
{
	struct lgw_pkt_tx_s pkt;

	return tx_packet(tx, 0, 0, &pkt);
}

int fg_sx130x_hal_send(const struct fg_lw_txpk *tx, uint8_t rf_chain, int8_t rf_power)
{
	struct lgw_pkt_tx_s pkt;
	int r;

	r = tx_packet(tx, rf_chain, rf_power, &pkt);
	if (r < 0)
		return r;
	return send_packet(&pkt) == LGW_HAL_SUCCESS ? 0 : -EIO;
}

int fg_sx130x_hal_tx_status(uint8_t rf_chain, enum fg_sx130x_tx_status *ret)
{
	uint8_t code;

	if (tx_status_code(rf_chain, &code) != LGW_HAL_SUCCESS)
		return -EIO;
	*ret = code == TX_OFF	      ? FG_SX130X_TX_OFF
	       : code == TX_FREE      ? FG_SX130X_TX_FREE
	       : code == TX_SCHEDULED ? FG_SX130X_TX_SCHEDULED
	       : code == TX_EMITTING  ? FG_SX130X_TX_EMITTING
				      : FG_SX130X_TX_UNKNOWN;
	return 0;
}
