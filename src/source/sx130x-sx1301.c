/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The SX130x source's adapter to lora_gateway (Lora-net/lora_gateway, the
 * SX1301 HAL): configuration structs and packets by value, lgw_status()
 * without an RF chain, one rssi per packet, data rates and bandwidths as
 * bit masks of its own, the SPI device fixed in the HAL (loragw_spi.native.c,
 * /dev/spidev0.0), no EUI or temperature sensor, and the counter read
 * through the GPS trigger register. Facts from its libloragw/inc/loragw_hal.h
 * and Lora-net/packet_forwarder's reference global_conf.json files. What
 * reads the same in sx1302_hal (start, stop, the IF chains, receive, send,
 * the TX status) is in sx130x-hal-common.h; here are this HAL's own
 * spellings of it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <loragw_hal.h>
#include <loragw_reg.h>

#include "source/sx130x-hal-common.h"
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

static float packet_rssi(const struct lgw_pkt_rx_s *p)
{
	return p->rssi;
}

static int rxif_setconf(uint8_t if_chain, struct lgw_conf_rxif_s *conf)
{
	return lgw_rxif_setconf(if_chain, *conf);
}

static int send_packet(struct lgw_pkt_tx_s *pkt)
{
	return lgw_send(*pkt);
}

/* The SX1301 has one TX modem, whatever the RF chain. */
static int tx_status_code(uint8_t rf_chain, uint8_t *code)
{
	(void) rf_chain;
	return lgw_status(TX_STATUS, code);
}

int fg_sx130x_hal_configure(const struct fg_sx130x_setup *s, char *why, size_t why_size)
{
	const struct fg_lw_channel_plan *p = &s->plan;
	struct lgw_conf_board_s board = { .lorawan_public = true, .clksrc = s->clock_source };

	if (strcmp(s->spi, "/dev/spidev0.0") != 0) {
		snprintf(why, why_size, "lora_gateway always opens /dev/spidev0.0, not '%s'",
			 s->spi);
		return -EINVAL;
	}
	if (p->lora_std.enable && lora_dr(p->lora_std.sf) == DR_UNDEFINED) {
		snprintf(why, why_size,
			 "the SX1301's LoRa service channel takes SF7..SF12, not SF%u",
			 p->lora_std.sf);
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
	return configure_if_chains(p, why, why_size);
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

/*
 * lora_gateway has no call for the counter now: lgw_get_trigcnt() reads the
 * register that holds it as latched on the GPS PPS while LGW_GPS_EN is set,
 * and the counter itself while it is clear. Semtech's util_tx_test reads the
 * time now that way (GPS_EN 0, lgw_get_trigcnt(), GPS_EN 1), as we do.
 */
int fg_sx130x_hal_counter(uint32_t *ret_us)
{
	uint32_t c;
	int r;

	if (lgw_reg_w(LGW_GPS_EN, 0) != LGW_REG_SUCCESS)
		return -EIO;
	r = lgw_get_trigcnt(&c);
	if (lgw_reg_w(LGW_GPS_EN, 1) != LGW_REG_SUCCESS || r != LGW_HAL_SUCCESS)
		return -EIO;
	*ret_us = c;
	return 0;
}
