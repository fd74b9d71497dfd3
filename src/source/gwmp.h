/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The Semtech UDP packet forwarder protocol (GWMP, version 2), as spoken by
 * lora_pkt_fwd: a UDP server that acks PUSH_DATA and PULL_DATA, accepts
 * TX_ACK, and hands over each `rxpk` (a received LoRa frame with its radio
 * metadata) and each `stat` (the forwarder's statistics).
 *
 * fg_gwmp_handle() is the whole protocol, pure (no I/O, no logging), so the
 * unit tests and the fuzz target drive it with bytes; fg_gwmp_new() puts it
 * on a UDP socket in the event loop. Everything in a datagram is hostile:
 * each refusal is reported once through handlers->refused with its reason
 * (counted per reason in the stats) and never stops the rest of the
 * datagram's good frames.
 *
 * Protocol reference: Semtech's PROTOCOL.TXT in Lora-net/packet_forwarder
 * (sections 3 to 5).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config/config.h"
#include "lora/downlink.h"
#include "lora/lorawan.h"

enum fg_gwmp_reason {
	FG_GWMP_OK = 0,
	FG_GWMP_TOO_SHORT,	  /* shorter than its packet type's header */
	FG_GWMP_BAD_VERSION,	  /* protocol version is not 2 (1 is accepted too) */
	FG_GWMP_UNKNOWN_TYPE,	  /* an identifier we do not take (or a downlink type) */
	FG_GWMP_UNKNOWN_GATEWAY,  /* EUI not in sources.gwmp.gateways */
	FG_GWMP_BAD_JSON,	  /* not JSON, not an object, wrong member types */
	FG_GWMP_BAD_RXPK,	  /* a required member missing or out of range */
	FG_GWMP_BAD_BASE64,
	FG_GWMP_SIZE_MISMATCH,	  /* "size" differs from the decoded data */
	FG_GWMP_CRC_ERROR,	  /* stat -1 */
	FG_GWMP_NO_CRC,		  /* stat 0 while accept_no_crc is off */
	FG_GWMP_NOT_LORA,	  /* modu FSK: not decoded */
	FG_GWMP_BAD_STAT,
	FG_GWMP_REASON__COUNT,
};

/* "too-short", "bad-json", ...: stable names for logs and counters. */
const char *fg_gwmp_reason_to_string(enum fg_gwmp_reason r);

/* One received frame. */
struct fg_gwmp_rxpk {
	uint64_t gateway;	/* the forwarder's EUI from the header */
	bool has_time;
	uint64_t time_ms;	/* "time", UTC, when the forwarder had GPS/NTP time */
	bool has_tmst;
	uint32_t tmst;		/* concentrator counter, usec */
	uint32_t freq_hz;
	int chan;		/* -1 when absent */
	int rfch;		/* -1 when absent */
	int stat;		/* 1 CRC ok, 0 no CRC (only when accepted) */
	unsigned sf;		/* from "datr" "SF7BW125" */
	uint32_t bw_hz;
	char codr[8];		/* "4/5", "" when absent */
	bool has_rssi;
	int rssi;		/* dBm */
	bool has_lsnr;
	float lsnr;		/* dB */
	uint8_t data[FG_LW_PHY_MAX];
	size_t len;
};

/* The forwarder's statistics: only the members it sent are set. */
struct fg_gwmp_stat {
	uint64_t gateway;
	bool has_position;
	double lat, lon;
	int alt;		/* m */
	bool has_rx;
	uint32_t rxnb, rxok, rxfw; /* received, with CRC ok, forwarded */
	bool has_ackr;
	double ackr;		/* % of upstream datagrams acknowledged */
	bool has_tx;
	uint32_t dwnb, txnb;	/* downlinks received, emitted */
};

/* A forwarder's verdict on a downlink (TX_ACK "txpk_ack.error", PROTOCOL.TXT 5.5). */
enum fg_gwmp_tx_error {
	FG_GWMP_TX_NONE = 0,	  /* accepted (no JSON, or "NONE") */
	FG_GWMP_TX_TOO_LATE,	  /* the time to send had passed */
	FG_GWMP_TX_TOO_EARLY,	  /* too far ahead for the forwarder's queue */
	FG_GWMP_TX_COLLISION_PACKET,
	FG_GWMP_TX_COLLISION_BEACON,
	FG_GWMP_TX_FREQ,	  /* frequency not supported by the radio */
	FG_GWMP_TX_POWER,	  /* power not supported */
	FG_GWMP_TX_GPS_UNLOCKED,
	FG_GWMP_TX_OTHER,	  /* an error name we do not know, or JSON we cannot read */
	FG_GWMP_TX__COUNT,
};

/* "none", "too-late", ...: stable names for logs and counters. */
const char *fg_gwmp_tx_error_to_string(enum fg_gwmp_tx_error e);

/* The verdict of a TX_ACK's body (the bytes after its 12-byte header; empty is NONE). */
enum fg_gwmp_tx_error fg_gwmp_tx_ack_parse(const uint8_t *body, size_t len);

/*
 * Build the PULL_RESP datagram that asks a forwarder to send tx: header
 * (version, token, 0x03) and {"txpk":{...}} with imme/tmst, freq (MHz),
 * rfch 0, powe, modu, datr, codr (LoRa) or fdev (FSK), ipol, prea, size,
 * data (base64) and ncrc. Returns the length, -EINVAL (empty or oversized
 * payload, a rate that is neither), -ENOBUFS.
 */
int fg_gwmp_pull_resp(const struct fg_lw_txpk *tx, uint8_t version, uint16_t token,
		      uint8_t *buf, size_t size);

struct fg_gwmp_handlers {
	void (*rxpk)(const struct fg_gwmp_rxpk *pk, void *userdata);
	void (*stat)(const struct fg_gwmp_stat *st, void *userdata);
	/*
	 * gateway is 0 when the datagram names none (too short, bad version,
	 * unknown type); detail is short printable ASCII ("rxpk[1]: no 'data'"),
	 * bytes the peer sent outside it replaced by '?', valid during the call
	 */
	void (*refused)(uint64_t gateway, enum fg_gwmp_reason why, const char *detail,
			void *userdata);
	/* A forwarder's TX_ACK for one of our PULL_RESPs (server only, not fg_gwmp_handle). */
	void (*tx_ack)(uint64_t gateway, uint16_t token, enum fg_gwmp_tx_error err,
		       void *userdata);
};

/*
 * Handle one datagram under cfg (gateway filter, accept_no_crc). The answer
 * the forwarder expects (PUSH_ACK or PULL_ACK, 4 bytes, same version and
 * token) is written into ack (ack_size >= 4); returns its length, 0 when none
 * is due (TX_ACK, refused datagrams). Handlers may be NULL; they are called
 * during the call, rxpk in array order, then stat.
 *
 * Every PUSH_DATA or PULL_DATA with a good header from an allowed gateway is
 * acked, also when its JSON is bad (BAD_JSON, reported): the forwarder does not
 * resend, and a missing ack would only count as a network loss. A gateway
 * not in cfg->gateways (when there are any) gets no ack (UNKNOWN_GATEWAY).
 * An rxpk without "stat" counts as stat 0 (no CRC). A frame with several
 * faults is reported once, for the first of: BAD_RXPK (types, missing
 * members), NOT_LORA, CRC_ERROR/NO_CRC, BAD_RXPK (datr, time), BAD_BASE64 or
 * BAD_RXPK (more than FG_LW_PHY_MAX bytes), SIZE_MISMATCH.
 */
size_t fg_gwmp_handle(const struct fg_gwmp_config *cfg, const uint8_t *dgram, size_t len,
		      const struct fg_gwmp_handlers *h, void *userdata, uint8_t *ack,
		      size_t ack_size);

/* Counters of a server; the per-type ones count headers that were accepted. */
struct fg_gwmp_stats {
	uint64_t datagrams;	/* received, whatever they held */
	uint64_t push_data;
	uint64_t pull_data;
	uint64_t tx_ack;
	uint64_t pull_resp;	/* downlinks sent to forwarders */
	uint64_t tx_errors[FG_GWMP_TX__COUNT]; /* TX_ACK verdicts, [0] the successes */
	uint64_t rxpk;		/* frames handed over */
	uint64_t stat;
	uint64_t refused[FG_GWMP_REASON__COUNT];
	/* datagrams the kernel dropped (receive buffer full), from SO_RXQ_OVFL */
	uint64_t kernel_drops;
	int receive_buffer; /* bytes the kernel granted for SO_RCVBUF */
};

struct fg_gwmp;

/*
 * Listen on cfg->listen (UDP, IPv4 or IPv6) in loop; cfg is copied (listen
 * is only read here). "HOST:PORT" or "[IPV6]:PORT", numeric only, port 0 for
 * any free one; an IPv6 socket takes IPv4 too. Returns 0, or a negative errno
 * (-EINVAL for a listen address that does not parse, -EADDRINUSE, ...) after
 * logging why, naming the address. Each datagram is acked before its frames
 * go to the handlers (PROTOCOL.TXT 3.1); nothing is logged per datagram.
 */
int fg_gwmp_new(const struct fg_gwmp_config *cfg, sd_event *loop,
		const struct fg_gwmp_handlers *h, void *userdata, struct fg_gwmp **ret);
void fg_gwmp_free(struct fg_gwmp *g);
void fg_gwmp_get_stats(const struct fg_gwmp *g, struct fg_gwmp_stats *ret);
/*
 * Ask gateway's forwarder to send tx: a PULL_RESP to the address its last
 * PULL_DATA came from (the forwarder keeps that path open through NAT with
 * PULL_DATA every few seconds). Returns the token (0..65535), -ENOTCONN when
 * the gateway has sent no PULL_DATA in the last FG_GWMP_PULL_STALE_S
 * seconds, or another negative errno. The forwarder's verdict comes later
 * through handlers->tx_ack.
 */
#define FG_GWMP_PULL_STALE_S 120
int fg_gwmp_send(struct fg_gwmp *g, uint64_t gateway, const struct fg_lw_txpk *tx);

/* The bound port (tests listen on port 0). */
uint16_t fg_gwmp_port(const struct fg_gwmp *g);
