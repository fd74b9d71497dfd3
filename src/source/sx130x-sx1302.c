/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The SX130x source's adapter to sx1302_hal (Lora-net/sx1302_hal, SX1302
 * and SX1303): configuration structs by pointer, the SPI device in the
 * board configuration, the channel RSSI (rssic) per packet, the EUI and the
 * board's temperature sensor. Facts from its libloragw/inc/loragw_hal.h and
 * the reference packet_forwarder/global_conf.json.sx1250.* files. What reads
 * the same in lora_gateway (start, stop, the IF chains, receive, send, the TX
 * status) is in sx130x-hal-common.h; here are this HAL's own spellings of it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <loragw_hal.h>

#include "source/sx130x-hal-common.h"
#include "source/sx130x-hal.h"

#ifndef FG_LORAGW_SX1302
#error "sx130x-sx1302.c is for sx1302_hal: configure defines FG_LORAGW_SX1302 for it"
#endif

enum fg_sx130x_hal fg_sx130x_hal(void)
{
	return FG_SX130X_HAL_SX1302;
}

static lgw_radio_type_t radio_type(enum fg_sx130x_radio r)
{
	return r == FG_SX130X_RADIO_SX1250   ? LGW_RADIO_TYPE_SX1250
	       : r == FG_SX130X_RADIO_SX1255 ? LGW_RADIO_TYPE_SX1255
					     : LGW_RADIO_TYPE_SX1257;
}

/* sx1302_hal's LoRa datarate is the spreading factor itself, SF5..SF12. */
static uint32_t lora_dr(uint8_t sf)
{
	return sf >= DR_LORA_SF5 && sf <= DR_LORA_SF12 ? sf : DR_UNDEFINED;
}

static uint8_t lora_sf(uint32_t dr)
{
	return dr >= DR_LORA_SF5 && dr <= DR_LORA_SF12 ? (uint8_t) dr : 0;
}

/* The channel RSSI (rssic), as lora_pkt_fwd reports it; rssis is the signal's. */
static float packet_rssi(const struct lgw_pkt_rx_s *p)
{
	return p->rssic;
}

static int rxif_setconf(uint8_t if_chain, struct lgw_conf_rxif_s *conf)
{
	return lgw_rxif_setconf(if_chain, conf);
}

static int send_packet(struct lgw_pkt_tx_s *pkt)
{
	return lgw_send(pkt);
}

static int tx_status_code(uint8_t rf_chain, uint8_t *code)
{
	return lgw_status(rf_chain, TX_STATUS, code);
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
	return configure_if_chains(p, why, why_size);
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
