/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * LoRa frames to readings, whatever radio heard them (the packet forwarder
 * over GWMP, the SX130x concentrator, the simulator): find the device's
 * session by DevAddr, check and open the frame (lora/lorawan.h), decode
 * the payload with the device's codec (codec/codec.h), and emit one batch
 * of readings carrying the radio metadata.
 *
 * Frame counters live in the buffer's device state (key "fcnt_up"), written
 * in the same transaction as the frame's readings, so a restart cannot
 * reopen a replay window: the caller passes the get/set pair.
 *
 * OTAA devices (lorawan.devices with app_key) join: a JoinRequest with a
 * good MIC and a DevNonce the device has not used before gets a DevAddr
 * under lorawan.net_id, session keys, and a JoinAccept scheduled for RX1
 * (JOIN_ACCEPT_DELAY1 after the request's concentrator timestamp) or, when
 * the duty-cycle budget forbids RX1, RX2. The session and the used
 * DevNonces are saved at once through ops->save (the buffer's state table),
 * before the JoinAccept goes out, so a reboot neither forces a rejoin nor
 * reopens a used DevNonce. Each accepted uplink gets at most one downlink
 * in RX1 (or RX2), carrying all that is owed: the ACK of a confirmed
 * uplink, MAC answers in FOpts (LinkCheckAns, DeviceTimeAns), after a join
 * of a US915/AU915 device a LinkADRReq of lorawan.sub_band, and the next
 * application downlink of the queue (fg_lora_set_downlinks), with the
 * device's FCntDown saved before it is sent. Downlinks go back the way the
 * uplink came (ops->send with its origin).
 *
 * Refusals are counted per reason and logged here, rate-limited per device
 * (module "lora"): the radio is outside input.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/command.h"
#include "codec/codec.h"
#include "config/config.h"
#include "core/reading.h"
#include "lora/downlink.h"
#include "lora/lorawan.h"

struct fg_lora;

/* Which radio heard a frame, so a downlink can go back the same way. */
enum fg_lora_via {
	FG_LORA_VIA_NONE,   /* the simulator, a test: no way back */
	FG_LORA_VIA_GWMP,   /* a packet forwarder: gateway is its EUI */
	FG_LORA_VIA_SX130X, /* the concentrator on our SPI bus */
	FG_LORA_VIA_SIM,    /* the simulator's radio: takes downlinks, logs them */
};

struct fg_lora_origin {
	enum fg_lora_via via;
	uint64_t gateway;
};

/* The device state where frame counters persist (the store, in the daemon). */
struct fg_lora_state_ops {
	/* 0 and *ret_last, -ENOENT for a device never heard, or another negative errno */
	int (*get_fcnt)(void *userdata, const char *device, uint32_t *ret_last);
	int (*set_fcnt)(void *userdata, const char *device, uint32_t fcnt);
	void *userdata;
	/*
	 * Sessions of joined devices, DevNonces used and FCntDown, by key
	 * ("session:NAME", "nonces:NAME"), written at once (durable on return).
	 * load: 0 and *ret_len, -ENOENT, or another negative errno. NULL: joins
	 * and downlinks are not possible.
	 */
	int (*load)(void *userdata, const char *key, void *buf, size_t size, size_t *ret_len);
	int (*save)(void *userdata, const char *key, const void *buf, size_t len);
	/* Hand a downlink to the radio the uplink came through; 0 or a negative errno. */
	int (*send)(void *userdata, const struct fg_lw_txpk *tx, const struct fg_lora_origin *via);
};

struct fg_lora_stats {
	uint64_t frames;		    /* handed to fg_lora_handle */
	uint64_t accepted;		    /* opened and decoded (or kept raw) */
	uint64_t refused[FG_LW_REASON__COUNT];
	uint64_t codec_failed;		    /* accepted, but the codec refused the payload */
	uint64_t forwarded;		    /* unknown DevAddr, forwarded raw */
	uint64_t join_requests;		    /* JoinRequests of configured OTAA devices */
	uint64_t joins;			    /* JoinAccepts sent */
	uint64_t acks;			    /* ACKs of confirmed uplinks sent */
	uint64_t downlink_failed;	    /* downlinks the radio refused or we could not save */
	uint64_t duty_limited;		    /* downlinks moved to RX2 or dropped by the duty cycle */
	uint64_t app_downlinks;		    /* application downlinks handed to a radio */
	uint64_t app_acks;		    /* confirmed application downlinks acknowledged */
	uint64_t app_retries;		    /* confirmed application downlinks sent again */
	uint64_t mac_answers;		    /* LinkCheckAns and DeviceTimeAns sent */
	uint64_t link_adr_sent;		    /* LinkADRReq sent (channel mask of the sub-band) */
	uint64_t link_adr_ok;		    /* LinkADRAns accepting all three */
	uint64_t link_adr_refused;	    /* LinkADRAns refusing any */
};

/*
 * Sessions and codecs from cfg (lorawan.devices, codecs, region,
 * max_fcnt_gap, unknown); cfg must outlive the object. Returns 0 or -ENOMEM.
 */
int fg_lora_new(const struct fg_config *cfg, const struct fg_lora_state_ops *ops,
		struct fg_lora **ret);
void fg_lora_free(struct fg_lora *l);

/*
 * One PHYPayload heard with `radio` (its dr is filled here from sf/bw).
 * Emits the readings of an accepted frame (or of a forwarded unknown one)
 * as one batch through emit. Returns the frame's reason: FG_LW_OK for an
 * accepted or forwarded frame.
 */
enum fg_lw_reason fg_lora_handle(struct fg_lora *l, const uint8_t *phy, size_t len,
				 const struct fg_radio_meta *radio, fg_reading_fn emit,
				 void *userdata);
/* The same, for a frame heard by `origin` (downlinks answer through it; NULL: none). */
enum fg_lw_reason fg_lora_handle_from(struct fg_lora *l, const uint8_t *phy, size_t len,
				      const struct fg_radio_meta *radio,
				      const struct fg_lora_origin *origin, fg_reading_fn emit,
				      void *userdata);

/*
 * Application downlinks from the cloud (cmd/queue.h, through the daemon).
 * The lora module asks for the next one of a device when it may send (after
 * each accepted uplink, class A and C; for class C also from
 * fg_lora_downlink_queued and fg_lora_tick), and reports each send and each
 * end. Any member NULL: no application downlinks. The calls, by device
 * name (lorawan.devices[].name), from inside fg_lora_handle_from,
 * fg_lora_downlink_queued and fg_lora_tick only:
 *
 * - next: the command to resolve or send now, as fg_cmdq_next gives it: one
 *   awaiting its ACK first (awaiting_ack, tries, f_cnt_down as sent() left
 *   them, also after a restart), else the highest priority, never an
 *   expired one. May be called again within one decision after finish()
 *   ended the one it returned (bounded).
 * - pending: how many the device has pending, the one being sent included
 *   (FPending is set when more than one).
 * - sent: the radio took command id with FCntDown f_cnt_down (tries + 1);
 *   awaiting_ack for a confirmed one (it stays pending until finish).
 * - finish: the end of id: SENT right after sent() for an unconfirmed one;
 *   ACK (the device's uplink had the ACK bit); NACK (no ACK after
 *   lorawan.confirmed_retries resends); FAILED with FG_CMD_R_DAILY_BUDGET or
 *   FG_CMD_R_TOO_LONG (detail says the figures). A command both radio
 *   windows refused gets no call: it stays as it was.
 */
struct fg_lora_downlink_ops {
	/* 0 and *ret, -ENOENT for none, or a negative errno (see fg_cmdq_next) */
	int (*next)(void *userdata, const char *device, struct fg_command *ret);
	/* how many are pending for device (FPending) */
	int (*pending)(void *userdata, const char *device);
	int (*sent)(void *userdata, const char *id, uint32_t f_cnt_down, bool awaiting_ack);
	int (*finish)(void *userdata, const char *id, enum fg_cmd_outcome o, enum fg_cmd_reason r,
		      const char *detail);
	void *userdata;
};
void fg_lora_set_downlinks(struct fg_lora *l, const struct fg_lora_downlink_ops *ops);

/*
 * The configured device a command names: its name, its DevEUI (16 hex
 * digits, any case) or its DevAddr (8 hex digits). NULL when none.
 */
const struct fg_lorawan_device *fg_lora_find_device(const struct fg_lora *l, const char *what);

/*
 * Whether a downlink of len bytes on f_port fits what device d can receive
 * at the data rate its next downlink would use (RX1 of its last uplink, or
 * RX2): 0, -EMSGSIZE (payload-too-long), -ENOTCONN (an OTAA device that has
 * not joined).
 */
int fg_lora_downlink_check(const struct fg_lora *l, const struct fg_lorawan_device *d,
			   size_t len);

/*
 * A downlink was queued for device d: a class C device is sent to now (RX2
 * parameters, immediate, through the radio it was last heard by) when the
 * duty cycle allows, else at a later fg_lora_tick; not heard through a
 * radio since start (or via FG_LORA_VIA_NONE): at its next uplink. A
 * confirmed class C downlink without an ACK is resent after 30 s (a try).
 * Class A: nothing now. Call fg_lora_tick afterwards (and after each
 * fg_lora_handle_from) to learn when it wants to be called.
 */
void fg_lora_downlink_queued(struct fg_lora *l, const struct fg_lorawan_device *d);

/*
 * Time-driven work: class C downlinks waiting for the duty cycle or a
 * retry. Returns the microseconds until it wants to be called again
 * (UINT64_MAX: nothing waits).
 */
uint64_t fg_lora_tick(struct fg_lora *l);

/* The monotonic clock the duty cycle is counted on (tests); NULL: the system's. */
void fg_lora_set_clock(struct fg_lora *l, uint64_t (*mono_usec)(void *userdata), void *userdata);
/*
 * The wall clock (the daily downlink budget's UTC day, DeviceTimeAns) and
 * whether it is synchronized (tests); NULL: fg_clock_wall_ms and
 * fg_clock_wall_known(gateway.trust_system_clock).
 */
void fg_lora_set_wall_clock(struct fg_lora *l, uint64_t (*wall_ms)(void *userdata),
			    bool (*known)(void *userdata), void *userdata);

/* One known device as `fieldgatectl devices` shows it. */
struct fg_lora_device_info {
	const char *name;
	uint64_t dev_eui;
	bool otaa;
	bool joined;		/* OTAA with a session (ABP: always) */
	uint32_t dev_addr;
	bool heard;		/* a frame accepted since start */
	uint64_t last_ms;	/* wall time of the last accepted frame, 0 unknown */
	uint32_t fcnt_up, fcnt_down;
	int rssi;
	float snr;
	uint64_t readings;	/* readings emitted since start */
	uint64_t refused;	/* frames and JoinRequests of it refused since start */
};
/* Device i (0.. while it returns 0); -ENOENT past the last. */
int fg_lora_device_info(const struct fg_lora *l, size_t i, struct fg_lora_device_info *ret);

void fg_lora_get_stats(const struct fg_lora *l, struct fg_lora_stats *ret);

/* The configured device for a DevAddr, or NULL. */
const struct fg_lorawan_device *fg_lora_device(const struct fg_lora *l, uint32_t dev_addr);

/*
 * Decode an opened payload with the device's codec (fieldgatectl decode uses
 * it too). Returns 0 and *ret_n values, or a negative errno with why.
 */
int fg_lora_decode(const struct fg_lora *l, const struct fg_lorawan_device *d, int fport,
		   const uint8_t *p, size_t n, struct fg_codec_value *out, size_t max,
		   size_t *ret_n, char *why, size_t why_size);
