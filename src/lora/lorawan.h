/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * LoRaWAN 1.0.x (1.0.2 to 1.0.4) uplinks: parse a PHYPayload, check its MIC,
 * rebuild the 32-bit frame counter, decrypt FRMPayload. Pure: bytes in,
 * structs out, no I/O, no logging, no allocation.
 *
 * Every way a frame can be refused has its own reason (enum fg_lw_reason),
 * so the caller counts them per reason and logs the reason's name.
 *
 * The AES functions share one CMAC and one AES-ECB context per process,
 * made on first use and re-keyed on every call (no allocation per frame once
 * warm): they are not thread-safe. The daemon has one thread.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FG_LW_KEY_LEN 16
#define FG_LW_PHY_MAX 255	  /* the largest PHYPayload the radio can carry */
#define FG_LW_FRM_MAX 242	  /* the largest FRMPayload (PHY - MHDR, FHDR, FPort, MIC) */

enum fg_lw_mtype {
	FG_LW_JOIN_REQUEST = 0,
	FG_LW_JOIN_ACCEPT = 1,
	FG_LW_UNCONFIRMED_UP = 2,
	FG_LW_UNCONFIRMED_DOWN = 3,
	FG_LW_CONFIRMED_UP = 4,
	FG_LW_CONFIRMED_DOWN = 5,
	FG_LW_REJOIN_REQUEST = 6,
	FG_LW_PROPRIETARY = 7,
};

/* Why a frame was refused; FG_LW_OK is not a refusal. */
enum fg_lw_reason {
	FG_LW_OK = 0,
	FG_LW_TOO_SHORT,	 /* shorter than its MType's minimum */
	FG_LW_TOO_LONG,		 /* longer than FG_LW_PHY_MAX, or a join with trailing bytes */
	FG_LW_BAD_MAJOR,	 /* MHDR Major is not LoRaWAN R1 (0) */
	FG_LW_FOPTS_OVERRUN,	 /* FOptsLen runs into the MIC */
	FG_LW_FOPTS_WITH_PORT0,	 /* MAC commands both in FOpts and in an FPort 0 payload */
	FG_LW_UNKNOWN_DEVICE,	 /* no session for the DevAddr */
	FG_LW_BAD_MIC,
	FG_LW_REPLAY,		 /* FCnt not above the last accepted one */
	FG_LW_FCNT_GAP,		 /* FCnt jumped further than max_fcnt_gap */
	FG_LW_DOWNLINK,		 /* a downlink MType heard on the uplink path */
	FG_LW_UNSUPPORTED,	 /* join request/accept, rejoin, proprietary: not decoded here */
	FG_LW_DEVNONCE_REUSED,	 /* a JoinRequest with a DevNonce the device used before */
	FG_LW_OFF_PLAN,		 /* heard on a frequency outside the channel plan (lorawan.sub_band) */
	FG_LW_REASON__COUNT,
};

/* "too-short", "bad-mic", ...: stable names for logs and counters; "unknown" out of range. */
const char *fg_lw_reason_to_string(enum fg_lw_reason r);
const char *fg_lw_mtype_to_string(enum fg_lw_mtype t);

/* A parsed PHYPayload. Pointers point into the caller's buffer. */
struct fg_lw_frame {
	uint8_t mhdr;
	enum fg_lw_mtype mtype;
	uint8_t major;
	/* data frames (MType 2..5) */
	uint32_t dev_addr;
	uint8_t fctrl;
	bool adr;
	bool adr_ack_req;	/* uplink; RFU on downlinks */
	bool ack;
	bool class_b;		/* uplink bit 4 (ClassB, FPending on downlinks) */
	uint8_t fopts_len;
	uint16_t fcnt16;	/* the 16 bits on air */
	const uint8_t *fopts;	/* fopts_len bytes */
	bool has_port;
	uint8_t fport;
	const uint8_t *frm;	/* FRMPayload, still encrypted */
	size_t frm_len;
	/* join request (MType 0) */
	uint64_t join_eui;	/* AppEUI in 1.0.x, as a number (sent little-endian) */
	uint64_t dev_eui;
	uint16_t dev_nonce;
	/* every frame */
	uint32_t mic;		/* the last four bytes, little-endian as on air */
	const uint8_t *phy;
	size_t phy_len;
};

/*
 * Parse a PHYPayload of any MType. Only structure is checked (lengths,
 * Major, FOpts vs FPort 0): no keys needed. Returns FG_LW_OK and fills *ret,
 * or a reason (and *ret is left unspecified).
 */
enum fg_lw_reason fg_lw_parse(const uint8_t *phy, size_t len, struct fg_lw_frame *ret);

/*
 * The MIC of a data frame: AES-128-CMAC over B0 | MHDR..FRMPayload with
 * NwkSKey (LoRaWAN 1.0.x section 4.4). dir 0 uplink, 1 downlink. Returns 0
 * and *ret_mic (as fg_lw_frame.mic holds it), or -EIO when OpenSSL fails
 * (-EINVAL for a dir other than 0/1 or len > FG_LW_PHY_MAX, which B0 cannot hold).
 */
int fg_lw_data_mic(const uint8_t nwk_s_key[FG_LW_KEY_LEN], int dir, uint32_t dev_addr,
		   uint32_t fcnt, const uint8_t *msg, size_t len, uint32_t *ret_mic);

/*
 * Encrypt or decrypt (the same operation) FRMPayload: AES-128 in the
 * counter-like mode of section 4.3.3, with AppSKey (FPort 1..255) or
 * NwkSKey (FPort 0). out may equal in. Returns 0 or -EIO (-EINVAL for a
 * dir other than 0/1 or len > 255 blocks, where the block counter would wrap).
 */
int fg_lw_crypt(const uint8_t key[FG_LW_KEY_LEN], int dir, uint32_t dev_addr, uint32_t fcnt,
		const uint8_t *in, size_t len, uint8_t *out);

/*
 * The 32-bit FCnt a 16-bit one on air stands for, given the last accepted
 * one: the nearest value at or above it with those low 16 bits (so 0x0001
 * after 0x1FFFF is 0x20001). Without a last one, the upper bits are 0.
 * When no such value fits in 32 bits, the one below last (a replay).
 */
uint32_t fg_lw_fcnt_expand(uint16_t fcnt16, uint32_t last, bool have_last);

/* An ABP (or, later, joined OTAA) session. */
struct fg_lw_session {
	uint32_t dev_addr;
	uint64_t dev_eui;
	uint8_t nwk_s_key[FG_LW_KEY_LEN];
	uint8_t app_s_key[FG_LW_KEY_LEN];
};

/* An accepted uplink: the frame, its full counter and its decrypted payload. */
struct fg_lw_uplink {
	struct fg_lw_frame f;
	uint32_t fcnt;
	uint8_t payload[FG_LW_FRM_MAX];
	size_t payload_len;
};

/*
 * Accept a parsed data uplink for session s: rebuild FCnt from the last
 * accepted one (have_last false for a device never heard), verify the MIC,
 * refuse replays (fcnt <= last) and jumps beyond max_gap, decrypt. Returns
 * FG_LW_OK and fills *ret (the caller then stores ret->fcnt as the new last),
 * or a reason. A refused frame leaves no trace in the session, nor in *ret.
 * The MIC is checked first, so a forged frame is FG_LW_BAD_MIC whatever its
 * counter. s NULL or for another DevAddr: FG_LW_UNKNOWN_DEVICE. MType 3/5:
 * FG_LW_DOWNLINK; 0, 1, 6, 7: FG_LW_UNSUPPORTED. Should OpenSSL fail, the
 * frame cannot be authenticated: FG_LW_BAD_MIC.
 */
enum fg_lw_reason fg_lw_uplink_open(const struct fg_lw_session *s, const struct fg_lw_frame *f,
				    uint32_t last, bool have_last, uint32_t max_gap,
				    struct fg_lw_uplink *ret);

/*
 * Build an uplink PHYPayload (the sim source and tests): MHDR for mtype
 * (2 or 4), FHDR with the given FCtrl bits and FOpts, FPort, the payload
 * encrypted, and the MIC. Returns the length written into buf (size at
 * least FG_LW_PHY_MAX is always enough), or -EINVAL/-EMSGSIZE/-EIO.
 * fctrl's low nibble is replaced by fopts_len; fport -1 means no FPort (and
 * no payload); FPort 0 with FOpts is -EINVAL; the FCnt field carries the low
 * 16 bits of fcnt, the MIC and the encryption all 32.
 */
int fg_lw_build_uplink(const struct fg_lw_session *s, enum fg_lw_mtype mtype, uint8_t fctrl,
		       uint32_t fcnt, const uint8_t *fopts, size_t fopts_len, int fport,
		       const uint8_t *payload, size_t len, uint8_t *buf, size_t size);

/*
 * Describe the MAC commands in an uplink's FOpts (or an FPort 0 payload),
 * e.g. "LinkCheckReq; DevStatusAns battery=254 margin=7" into buf (always
 * NUL-terminated, cut short when small). Returns the number of commands, or
 * -EBADMSG when one is truncated or unknown (what came before it is described).
 */
int fg_lw_mac_describe(const uint8_t *cmds, size_t len, char *buf, size_t size);

/* Regions, for the data-rate index of a frame's SF/BW. */
enum fg_lw_region {
	FG_LW_EU868,
	FG_LW_US915,
	FG_LW_AS923,
	FG_LW_AU915,
	FG_LW_REGION__COUNT,
};
/* "EU868", "US915", "AS923", "AU915"; "unknown" out of range. */
const char *fg_lw_region_to_string(enum fg_lw_region r);
/* Returns the region, or -EINVAL. "EU868", "US915", ..., case-insensitive. */
int fg_lw_region_from_string(const char *s);
/* The uplink DR index of sf/bw_hz in region r, or -1 when it has none. */
int fg_lw_region_dr(enum fg_lw_region r, unsigned sf, uint32_t bw_hz);

/*
 * AES-128-CMAC (RFC 4493) of msg, the whole 16-byte tag: the primitive under
 * fg_lw_data_mic, public so the tests can hold it to the RFC's vectors.
 * Returns 0 or -EIO.
 */
int fg_lw_aes_cmac(const uint8_t key[FG_LW_KEY_LEN], const uint8_t *msg, size_t len,
		   uint8_t ret_mac[16]);
