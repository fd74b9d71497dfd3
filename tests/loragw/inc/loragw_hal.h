/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FG_TEST_LORAGW_HAL_H
#define FG_TEST_LORAGW_HAL_H

/*
 * Test double of libloragw's public header, SX1302 flavour (Lora-net/
 * sx1302_hal V2.1.0, libloragw/inc/loragw_hal.h): the types, constants and
 * functions fieldgate's SX130x source uses, with the HAL's names, values
 * and signatures (pointers to configuration structs, lgw_status with an RF
 * chain, lgw_get_eui, rssic/rssis per packet), so that
 * src/source/sx130x-sx1302.c compiles unchanged against either. The
 * implementation is tests/loragw/loragw-double.c. Written for fieldgate's
 * tests from the HAL's documented interface; not Semtech's file.
 */

#include <stdbool.h>
#include <stdint.h>

#include "loragw_com.h"

/* return status */
#define LGW_HAL_SUCCESS 0
#define LGW_HAL_ERROR	-1

#define LGW_RF_CHAIN_NB	     2
#define LGW_IF_CHAIN_NB	     10 /* 8 multi-SF, 1 LoRa service, 1 FSK */
#define LGW_MULTI_NB	     8
#define TX_GAIN_LUT_SIZE_MAX 16

/* modulation */
#define MOD_UNDEFINED 0
#define MOD_CW	      0x08
#define MOD_LORA      0x10
#define MOD_FSK	      0x20

/* bandwidth (LoRa and FSK) */
#define BW_UNDEFINED 0
#define BW_500KHZ    0x06
#define BW_250KHZ    0x05
#define BW_125KHZ    0x04

/* data rate: the spreading factor itself for LoRa, bits per second for FSK */
#define DR_UNDEFINED 0
#define DR_LORA_SF5  5
#define DR_LORA_SF6  6
#define DR_LORA_SF7  7
#define DR_LORA_SF8  8
#define DR_LORA_SF9  9
#define DR_LORA_SF10 10
#define DR_LORA_SF11 11
#define DR_LORA_SF12 12
#define DR_FSK_MIN   500
#define DR_FSK_MAX   250000

/* coding rate */
#define CR_UNDEFINED 0
#define CR_LORA_4_5  0x01
#define CR_LORA_4_6  0x02
#define CR_LORA_4_7  0x03
#define CR_LORA_4_8  0x04

/* received packet status */
#define STAT_UNDEFINED 0x00
#define STAT_NO_CRC    0x01
#define STAT_CRC_BAD   0x11
#define STAT_CRC_OK    0x10

/* tx_mode */
#define IMMEDIATE   0
#define TIMESTAMPED 1
#define ON_GPS	    2

/* lgw_status select and TX status codes */
#define TX_STATUS	  1
#define RX_STATUS	  2
#define TX_STATUS_UNKNOWN 0
#define TX_OFF		  1
#define TX_FREE		  2
#define TX_SCHEDULED	  3
#define TX_EMITTING	  4

typedef enum {
	LGW_RADIO_TYPE_NONE,
	LGW_RADIO_TYPE_SX1255,
	LGW_RADIO_TYPE_SX1257,
	LGW_RADIO_TYPE_SX1272,
	LGW_RADIO_TYPE_SX1276,
	LGW_RADIO_TYPE_SX1250
} lgw_radio_type_t;

struct lgw_conf_board_s {
	bool lorawan_public;
	uint8_t clksrc; /* RF chain that clocks the concentrator */
	bool full_duplex;
	lgw_com_type_t com_type;
	char com_path[64]; /* the SPI device */
};

struct lgw_rssi_tcomp_s {
	float coeff_a;
	float coeff_b;
	float coeff_c;
	float coeff_d;
	float coeff_e;
};

struct lgw_conf_rxrf_s {
	bool enable;
	uint32_t freq_hz; /* centre frequency */
	float rssi_offset;
	struct lgw_rssi_tcomp_s rssi_tcomp;
	lgw_radio_type_t type;
	bool tx_enable;
	bool single_input_mode;
};

struct lgw_conf_rxif_s {
	bool enable;
	uint8_t rf_chain;
	int32_t freq_hz; /* offset from the RF chain's centre */
	uint8_t bandwidth;
	uint32_t datarate;
	uint8_t sync_word_size;
	uint64_t sync_word;
	bool implicit_hdr;
	uint8_t implicit_payload_length;
	bool implicit_crc_en;
	uint8_t implicit_coderate;
};

struct lgw_pkt_rx_s {
	uint32_t freq_hz;
	int32_t freq_offset;
	uint8_t if_chain;
	uint8_t status;
	uint32_t count_us;
	uint8_t rf_chain;
	uint8_t modem_id;
	uint8_t modulation;
	uint8_t bandwidth;
	uint32_t datarate;
	uint8_t coderate;
	float rssic; /* channel RSSI */
	float rssis; /* signal RSSI */
	float snr;
	float snr_min;
	float snr_max;
	uint16_t crc;
	uint16_t size;
	uint8_t payload[256];
	bool ftime_received;
	uint32_t ftime;
};

struct lgw_pkt_tx_s {
	uint32_t freq_hz;
	uint8_t tx_mode;
	uint32_t count_us;
	uint8_t rf_chain;
	int8_t rf_power;
	uint8_t modulation;
	int8_t freq_offset;
	uint8_t bandwidth;
	uint32_t datarate;
	uint8_t coderate;
	bool invert_pol;
	uint8_t f_dev;
	uint16_t preamble;
	bool no_crc;
	bool no_header;
	uint16_t size;
	uint8_t payload[256];
};

struct lgw_tx_gain_s {
	int8_t rf_power;
	uint8_t dig_gain;
	uint8_t pa_gain;
	uint8_t dac_gain;
	uint8_t mix_gain;
	int8_t offset_i;
	int8_t offset_q;
	uint8_t pwr_idx;
};

struct lgw_tx_gain_lut_s {
	struct lgw_tx_gain_s lut[TX_GAIN_LUT_SIZE_MAX];
	uint8_t size;
};

int lgw_board_setconf(struct lgw_conf_board_s *conf);
int lgw_rxrf_setconf(uint8_t rf_chain, struct lgw_conf_rxrf_s *conf);
int lgw_rxif_setconf(uint8_t if_chain, struct lgw_conf_rxif_s *conf);
int lgw_txgain_setconf(uint8_t rf_chain, struct lgw_tx_gain_lut_s *conf);
int lgw_start(void);
int lgw_stop(void);
int lgw_receive(uint8_t max_pkt, struct lgw_pkt_rx_s *pkt_data);
int lgw_send(struct lgw_pkt_tx_s *pkt_data);
int lgw_status(uint8_t rf_chain, uint8_t select, uint8_t *code);
int lgw_get_instcnt(uint32_t *inst_cnt_us);
int lgw_get_trigcnt(uint32_t *trig_cnt_us);
int lgw_get_eui(uint64_t *eui);
int lgw_get_temperature(float *temperature);
const char *lgw_version_info(void);

#endif
