/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * LoRaWAN 1.0.x class A downlinks: OTAA joins (section 6.2), downlink data
 * frames, the RX1/RX2 windows and channel plans of the regions we serve
 * (LoRaWAN Regional Parameters RP002), LoRa time on air (Semtech's formula,
 * SX127x/SX126x datasheets and AN1200.13) and the EU868 duty-cycle budget
 * per sub-band (ETSI EN 300 220). Pure: bytes and numbers in, bytes and
 * numbers out, no I/O, no logging; only fg_lw_duty_new allocates.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lora/lorawan.h"

/* ------------------------------------------------------------------ joins */

#define FG_LW_JOIN_ACCEPT_DELAY1_US 5000000u /* RX1 of a JoinAccept after the JoinRequest */
#define FG_LW_JOIN_ACCEPT_DELAY2_US 6000000u
#define FG_LW_RECEIVE_DELAY1_US 1000000u     /* RX1 of a data downlink after the uplink */
#define FG_LW_RECEIVE_DELAY2_US 2000000u

/*
 * Check a parsed JoinRequest's MIC (AES-CMAC over MHDR | JoinEUI | DevEUI |
 * DevNonce with AppKey). Returns 0, -EBADMSG for a wrong MIC, -EINVAL when f
 * is not a JoinRequest, -EIO when OpenSSL fails.
 */
int fg_lw_join_request_verify(const uint8_t app_key[FG_LW_KEY_LEN], const struct fg_lw_frame *f);

/*
 * Build a JoinRequest PHYPayload (tests, the simulator, the test packet
 * forwarder). Returns its length (23) or a negative errno.
 */
int fg_lw_join_request_build(const uint8_t app_key[FG_LW_KEY_LEN], uint64_t join_eui,
			     uint64_t dev_eui, uint16_t dev_nonce, uint8_t *buf, size_t size);

/* What a JoinAccept carries (1.0.x). */
struct fg_lw_join_accept {
	uint32_t app_nonce;     /* JoinNonce, 24 bits */
	uint32_t net_id;        /* 24 bits */
	uint32_t dev_addr;
	uint8_t rx1_dr_offset;  /* DLSettings bits 6..4 */
	uint8_t rx2_dr;         /* DLSettings bits 3..0 */
	uint8_t rx_delay;       /* RxDelay, seconds (0 means 1) */
	bool has_cflist;
	uint8_t cflist[16];
	uint32_t mic;           /* fg_lw_join_accept_open: the MIC, as fg_lw_frame holds one */
};

/*
 * Build the encrypted JoinAccept PHYPayload: MHDR | AES-decrypt(AppKey,
 * payload | MIC) as section 6.2.5 prescribes (the device encrypts to read
 * it). Returns its length (17, or 33 with a CFList) or a negative errno.
 */
int fg_lw_join_accept_build(const uint8_t app_key[FG_LW_KEY_LEN],
			    const struct fg_lw_join_accept *ja, uint8_t *buf, size_t size);

/*
 * Read a JoinAccept as a device would: decrypt, check its MIC, parse. For
 * the tests and the test packet forwarder. Returns 0, -EBADMSG (MIC or
 * length), -EINVAL, -EIO.
 */
int fg_lw_join_accept_open(const uint8_t app_key[FG_LW_KEY_LEN], const uint8_t *phy, size_t len,
			   struct fg_lw_join_accept *ret);

/*
 * The session keys of a join (1.0.x, section 6.2.5):
 * NwkSKey = aes128_encrypt(AppKey, 0x01 | AppNonce | NetID | DevNonce | pad16)
 * AppSKey = aes128_encrypt(AppKey, 0x02 | AppNonce | NetID | DevNonce | pad16)
 * Returns 0, -EINVAL (app_nonce or net_id wider than 24 bits) or -EIO; the
 * keys are written only on success.
 */
int fg_lw_join_derive_keys(const uint8_t app_key[FG_LW_KEY_LEN], uint32_t app_nonce,
			   uint32_t net_id, uint16_t dev_nonce, uint8_t nwk_s_key[FG_LW_KEY_LEN],
			   uint8_t app_s_key[FG_LW_KEY_LEN]);

/* ------------------------------------------------------------------ data downlinks */

/*
 * Build a downlink data PHYPayload for session s: MType 3 (unconfirmed) or
 * 5 (confirmed), FCtrl (ACK bit 0x20, FPending 0x10, ADR 0x80; the low
 * nibble is replaced by fopts_len; bit 0x40, RFU on downlinks, is sent as 0),
 * the low 16 bits of fcnt_down, FOpts, FPort (-1: none) and the payload
 * encrypted, MIC with dir = 1. Returns the length or -EINVAL/-EMSGSIZE/-EIO
 * (the rules of fg_lw_build_uplink).
 */
int fg_lw_build_downlink(const struct fg_lw_session *s, bool confirmed, uint8_t fctrl,
			 uint32_t fcnt_down, const uint8_t *fopts, size_t fopts_len, int fport,
			 const uint8_t *payload, size_t len, uint8_t *buf, size_t size);

/* ------------------------------------------------------------------ radio parameters */

/* A data rate: LoRa SF/BW, or FSK (fsk true, bit rate in bps). */
struct fg_lw_dr {
	bool fsk;
	uint8_t sf;
	uint32_t bw_hz;
	uint32_t bps;
};

/*
 * The parameters of data rate dr in region r, for an uplink (downlink
 * false) or a downlink (US915/AU915 DR8..13 are downlink-only). Returns 0,
 * or -EINVAL for a DR the region does not have in that direction.
 */
int fg_lw_region_dr_params(enum fg_lw_region r, int dr, bool downlink, struct fg_lw_dr *ret);

/* A transmission the concentrator (or packet forwarder) is asked to make. */
struct fg_lw_txpk {
	uint32_t count_us;  /* concentrator counter to send at (tmst); ignored when immediate */
	bool immediate;
	uint32_t freq_hz;
	int dr;             /* region DR index, for logs */
	struct fg_lw_dr rate;
	uint8_t cr;         /* coding rate 4/(4+cr): 1..4 */
	int8_t power_dbm;   /* EIRP wanted, before antenna gain */
	uint16_t preamble;  /* LoRa: symbols, 8 for LoRaWAN; FSK: bytes, 5 */
	bool invert_pol;    /* true for LoRaWAN downlinks (LoRa) */
	bool no_crc;        /* true for LoRaWAN downlinks (LoRa; FSK keeps its CRC) */
	uint8_t payload[FG_LW_PHY_MAX];
	size_t len;
};

/*
 * The RX1 transmission for an uplink heard on up_freq_hz at data rate up_dr
 * in region r, with the device's RX1DROffset: frequency (EU868/AS923: the
 * uplink's; US915: 923.3 MHz + 600 kHz * (channel mod 8); AU915: 923.3 MHz +
 * 600 kHz * (channel mod 8)), DR by the region's RX1 table, the region's
 * default downlink power, preamble 8, CR 4/5, inverted polarity, no CRC.
 * count_us is left 0. Returns 0 or -EINVAL (unknown region, an uplink DR the
 * region lacks, a frequency off its band or channel grid, an RX1DROffset
 * beyond the region's range: EU868 and AU915 0..5, US915 0..3, AS923 0..7).
 * AS923 assumes DownlinkDwellTime 0 (no 400 ms limit on downlinks).
 */
int fg_lw_region_rx1(enum fg_lw_region r, uint32_t up_freq_hz, int up_dr, unsigned rx1_dr_offset,
		     struct fg_lw_txpk *ret);
/* The default RX2 transmission of region r (EU868 869.525 MHz DR0, US915 923.3 MHz DR8, ...). */
int fg_lw_region_rx2(enum fg_lw_region r, struct fg_lw_txpk *ret);

/*
 * The concentrator's receive plan for a region: two radios' centre
 * frequencies and the IF offsets of the 8 multi-SF channels, the LoRa
 * service channel (single SF/BW) and the FSK channel, as the Semtech
 * reference configurations (global_conf.json of sx1302_hal and
 * lora_gateway) set them (AS923's service channel excepted, see region.c).
 * sub_band 1..8 picks the 8 (+1 500 kHz) channels of
 * US915/AU915; it is ignored for EU868 and AS923 (pass 0). Returns 0 or
 * -EINVAL (unknown region, sub-band out of range).
 */
struct fg_lw_channel {
	bool enable;
	uint8_t radio;     /* 0 or 1 */
	int32_t if_hz;     /* offset from the radio's centre */
	uint8_t sf;        /* service channel only */
	uint32_t bw_hz;    /* service and FSK channels */
	uint32_t bps;      /* FSK channel only */
};
struct fg_lw_channel_plan {
	uint32_t radio_hz[2];
	bool radio_enable[2];
	struct fg_lw_channel multi[8];
	struct fg_lw_channel lora_std;
	struct fg_lw_channel fsk;
};
int fg_lw_region_channel_plan(enum fg_lw_region r, unsigned sub_band,
			      struct fg_lw_channel_plan *ret);

/* ------------------------------------------------------------------ time on air */

/*
 * LoRa time on air in microseconds (Semtech's formula: preamble of n + 4.25
 * symbols, payload symbols 8 + max(ceil((8PL - 4SF + 28 + 16CRC - 20IH) /
 * (4(SF - 2DE))) (CR + 4), 0), DE = 1 when a symbol lasts 16 ms or more;
 * for SF5 and SF6 the SX126x/SX1302 variant: n + 6.25 and 20 for 28).
 * cr 1..4 (4/5..4/8). 0 for impossible parameters (sf outside 5..12, bw 0,
 * cr outside 1..4, len over 255).
 */
uint32_t fg_lw_airtime_us(unsigned sf, uint32_t bw_hz, unsigned cr, unsigned preamble,
			  bool explicit_header, bool crc, size_t len);
/* The time on air of a txpk (LoRa by the formula above, FSK at its bit rate). */
uint32_t fg_lw_txpk_airtime_us(const struct fg_lw_txpk *tx);

/* ------------------------------------------------------------------ duty cycle */

/*
 * The downlink duty-cycle budget of a region: EU868's sub-bands (ETSI EN
 * 300 220: 863-865 MHz 0.1%, 865-868 1%, 868.0-868.6 1%, 868.7-869.2 0.1%,
 * 869.4-869.65 10%, 869.7-870 1%), counted as the off-time each transmission owes
 * (airtime * (1 / duty - 1)), per sub-band. Regions without a duty-cycle
 * rule (US915, AU915, AS923 in most countries) allow everything.
 */
struct fg_lw_duty;
int fg_lw_duty_new(enum fg_lw_region r, struct fg_lw_duty **ret);
void fg_lw_duty_free(struct fg_lw_duty *d);
/*
 * Whether a transmission of airtime_us on freq_hz may start at now_us
 * (any monotonic clock in microseconds); if it may and spend is true, the
 * off-time is charged. Returns 1 allowed, 0 refused (*ret_wait_us, if not
 * NULL, says how long until it would be; 0 when allowed), -EINVAL for a
 * frequency outside the region's bands (EU868 only: the other regions allow
 * every frequency).
 */
int fg_lw_duty_check(struct fg_lw_duty *d, uint32_t freq_hz, uint32_t airtime_us,
		     uint64_t now_us, bool spend, uint64_t *ret_wait_us);

/* ------------------------------------------------------------------ MAC answers and channel plans */

/* GPS epoch (1980-01-06T00:00:00Z) in Unix ms, and the leap seconds GPS time is ahead of UTC. */
#define FG_LW_GPS_EPOCH_UNIX_MS 315964800000ull
#define FG_LW_GPS_LEAP_SECONDS	18

/* What an uplink's MAC commands asked for, and what the network should answer. */
struct fg_lw_mac_ctx {
	enum fg_lw_region region;
	int dr;			/* the uplink's data rate index */
	float snr;		/* the uplink's SNR, dB */
	bool time_known;	/* the wall clock is synchronized */
	uint64_t uplink_unix_ms; /* wall time at the end of the uplink (DeviceTimeAns) */
};
struct fg_lw_mac_seen {
	bool link_check_req;
	bool device_time_req;
	int link_adr_ans;	/* -1: none; else the Status byte of the (last) LinkADRAns */
	unsigned unknown;	/* commands we could not read (the rest of the list is skipped) */
};

/*
 * Read an uplink's MAC commands (FOpts, or an FPort 0 payload) and write the
 * answers the network owes into out (at most size bytes): LinkCheckAns
 * (margin = SNR above the demodulation floor of the uplink's SF, the SX127x/
 * SX126x datasheets' required SNR per SF, whole dB rounded down, 0..254;
 * gateway count 1) and DeviceTimeAns (GPS seconds and 1/256 s of
 * uplink_unix_ms, only when time_known), each once, in the order asked.
 * Other known commands (LinkADRAns, ...) are read over; an unknown or
 * truncated one ends the reading (counted in seen->unknown). Returns the
 * number of bytes written, -ENOBUFS when the answers do not fit (what fits
 * is written), -EINVAL (ctx NULL); *seen (may be NULL) says what came, also
 * with -ENOBUFS.
 */
int fg_lw_mac_answers(const uint8_t *cmds, size_t len, const struct fg_lw_mac_ctx *ctx,
		      uint8_t *out, size_t size, struct fg_lw_mac_seen *seen);

/*
 * The CFList of a JoinAccept for region r's plan (RP002): EU868 and AS923,
 * type 0, the extra frequencies of the plan (EU868: 867.1 .. 867.9 MHz);
 * US915 and AU915, type 1, the channel mask of sub_band (1..8). Returns 1
 * and fills cflist, 0 when the region has none, -EINVAL.
 */
int fg_lw_region_cflist(enum fg_lw_region r, unsigned sub_band, uint8_t cflist[16]);

/*
 * The LinkADRReq block that restricts a US915/AU915 device to sub_band: for
 * 1.0.x devices that ignore a type-1 CFList (RP002: ChMaskCntl 7 turning all
 * 125 kHz channels off with the 500 kHz one of the sub-band on, then
 * ChMaskCntl 0..3 for the 16-channel block of the sub-band; DataRate and
 * TXPower 0xF and NbTrans 0, "keep the current" in 1.0.4: see region.c for
 * what 1.0.2/1.0.3 devices make of it). Returns the bytes written (10), 0
 * for regions that need none, -ENOBUFS (size < 10), -EINVAL.
 */
int fg_lw_region_link_adr_req(enum fg_lw_region r, unsigned sub_band, uint8_t *out, size_t size);

/* Whether an uplink on freq_hz is one of region r's plan channels (sub_band for US915/AU915). */
bool fg_lw_region_uplink_in_plan(enum fg_lw_region r, unsigned sub_band, uint32_t freq_hz);

/* The largest MACPayload (FHDR + FPort + FRMPayload) region r allows at downlink dr, or 0. */
unsigned fg_lw_region_max_payload(enum fg_lw_region r, int dr);
