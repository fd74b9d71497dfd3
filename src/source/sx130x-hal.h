/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Private to the SX130x source: the seam between sx130x.c and Semtech's
 * libloragw. One adapter per HAL flavour, chosen by configure:
 * sx130x-sx1302.c for sx1302_hal (configuration by pointer, com_path,
 * rssic/rssis, lgw_get_eui, lgw_get_temperature) and sx130x-sx1301.c for
 * lora_gateway (configuration by value, SPI device fixed in the HAL, one
 * rssi, no EUI, no temperature sensor). HAL-neutral structs go in, HAL calls
 * come out. What reads the same against both HALs' headers (start, stop,
 * receive, send, the TX status) is written once, in sx130x-hal-common.h,
 * which each adapter includes. The HAL keeps one concentrator in global
 * state, so these are plain functions. They return 0 (or a count) or a
 * negative errno (-EIO for LGW_HAL_ERROR) and never log: libloragw prints
 * its own diagnostics.
 */

#include <stddef.h>
#include <stdint.h>

#include "lora/downlink.h"
#include "source/sx130x.h"

enum fg_sx130x_crc {
	FG_SX130X_CRC_OK,
	FG_SX130X_CRC_BAD,
	FG_SX130X_CRC_NONE,
	FG_SX130X_CRC_UNKNOWN,
};

/* One received packet, whatever the HAL. */
struct fg_sx130x_rx {
	uint32_t freq_hz; /* centre of the IF chain it came on */
	uint8_t if_chain;
	uint8_t rf_chain;
	enum fg_sx130x_crc crc;
	bool lora;	/* else FSK */
	uint8_t sf;	/* LoRa: 5..12; 0 when the HAL said something else */
	uint32_t bw_hz; /* LoRa: 125/250/500 kHz; 0 when unknown */
	uint32_t fsk_bps;
	uint8_t cr; /* LoRa: 1..4 for 4/5..4/8, 0 unknown */
	float rssi; /* dBm (sx1302_hal: the channel RSSI, rssic) */
	float snr;  /* dB */
	uint32_t count_us;
	uint16_t size;
	uint8_t payload[256];
};

/* Configure board, both radios (and TX gains) and the IF chains; why says what was refused. */
int fg_sx130x_hal_configure(const struct fg_sx130x_setup *s, char *why, size_t why_size);
int fg_sx130x_hal_start(void);
int fg_sx130x_hal_stop(void);
/* Up to max packets into rx; returns how many. */
int fg_sx130x_hal_receive(struct fg_sx130x_rx *rx, unsigned max);
/* 0 when this HAL can send tx (modulation, rate, bandwidth, coding rate, length), else -EINVAL. */
int fg_sx130x_hal_check(const struct fg_lw_txpk *tx);
/* One transmission on rf_chain at rf_power dBm (at the connector). -EINVAL for what cannot be sent.
 */
int fg_sx130x_hal_send(const struct fg_lw_txpk *tx, uint8_t rf_chain, int8_t rf_power);

/* What the TX modem is doing (lgw_status(TX_STATUS)): it holds one transmission at a time. */
enum fg_sx130x_tx_status {
	FG_SX130X_TX_UNKNOWN,
	FG_SX130X_TX_OFF,	/* not started */
	FG_SX130X_TX_FREE,	/* ready for lgw_send() */
	FG_SX130X_TX_SCHEDULED, /* holds a transmission waiting for its time */
	FG_SX130X_TX_EMITTING,
};
int fg_sx130x_hal_tx_status(uint8_t rf_chain, enum fg_sx130x_tx_status *ret);

/* -EOPNOTSUPP where the HAL has no such call (SX1301: EUI, temperature). */
int fg_sx130x_hal_eui(uint64_t *ret);
int fg_sx130x_hal_temperature(float *ret);
/* The concentrator's 1 MHz counter now (wraps at 2^32), as the TX timestamps count. */
int fg_sx130x_hal_counter(uint32_t *ret_us);
/* lgw_version_info(), for the log. */
const char *fg_sx130x_hal_version(void);
