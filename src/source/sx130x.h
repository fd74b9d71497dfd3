/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The LoRa concentrator on SPI: an SX1301 through Semtech's lora_gateway
 * HAL, an SX1302 or SX1303 through sx1302_hal (libloragw, linked from a
 * built HAL tree: ./configure --with-loragw=DIR).
 *
 * configure picks the files: sx130x.c (the source) with sx130x-sx1302.c or
 * sx130x-sx1301.c (the adapter to that HAL's API, sx130x-hal.h), or
 * sx130x-disabled.c, whose fg_sx130x_new() fails and whose
 * fg_sx130x_hal() says FG_SX130X_HAL_NONE, so that a configuration enabling
 * sources.sx130x is refused (fg_sx130x_check_config) before anything starts.
 * sx130x-conf.c (board presets, the channel plan, the checks) is in
 * libfieldgate.a and needs no HAL.
 *
 * Start-up (on sd-event timers; the loop only waits inside lgw_start(),
 * which libloragw runs to the end: firmware load and radio calibration):
 * drive the power enable line high and pulse the reset line (high, then
 * low, 100 ms each, as Semtech's reset_lgw.sh does), configure board, radios
 * and IF chains, lgw_start(), read the concentrator's EUI. A failure is logged with what
 * to check and retried with a doubling back-off (1 s to 5 min) while the
 * rest of the daemon runs on. Receive: lgw_receive() from a timer, every
 * 10 ms while packets flow, backing off to 100 ms when idle. Packets with a
 * bad CRC or none (LoRaWAN uplinks carry one; downlinks of other gateways
 * do not) are counted, not handed on. Transmit: a just-in-time queue hands
 * each downlink to lgw_send() shortly before its time (fg_sx130x_send).
 *
 * The HAL holds one concentrator in global state and is not thread-safe:
 * at most one fg_sx130x exists at a time (a reload frees the old one first).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config/config.h"
#include "core/reading.h"
#include "lora/downlink.h"
#include "gpio/gpio.h"

/* The HAL this binary was built with. */
enum fg_sx130x_hal {
	FG_SX130X_HAL_NONE,   /* built without --with-loragw */
	FG_SX130X_HAL_SX1301, /* Lora-net/lora_gateway */
	FG_SX130X_HAL_SX1302, /* Lora-net/sx1302_hal: SX1302 and SX1303 */
};

/* The choice of file made at configure time (sx130x-sx130N.c or sx130x-disabled.c). */
enum fg_sx130x_hal fg_sx130x_hal(void);
/* "none", "lora_gateway (SX1301)", "sx1302_hal (SX1302/SX1303)". */
const char *fg_sx130x_hal_to_string(enum fg_sx130x_hal h);
/* "sx1301", ...; "rak2287", ...; "sx1250", ...: the configuration's names. */
const char *fg_sx130x_chip_to_string(enum fg_sx130x_chip c);
const char *fg_sx130x_board_to_string(enum fg_sx130x_board b);
const char *fg_sx130x_radio_to_string(enum fg_sx130x_radio r);

/* A GPIO line the source drives; present false: none. */
struct fg_sx130x_line {
	bool present;
	char chip[32]; /* as gpio.h takes it, or "sim" */
	unsigned offset;
};

/* What the source runs on: the configuration with the board preset and the region plan applied. */
struct fg_sx130x_setup {
	enum fg_sx130x_board board;
	enum fg_sx130x_chip chip;
	char spi[64];
	struct fg_sx130x_line reset;
	struct fg_sx130x_line power;
	uint8_t clock_source;
	enum fg_sx130x_radio radio_type;
	float rssi_offset;
	float antenna_gain;
	enum fg_lw_region region;
	unsigned sub_band;
	struct fg_lw_channel_plan plan; /* the region's, with sources.sx130x.channels applied */
	uint64_t stat_interval_usec;	/* 0: no gateway readings */
	char gateway_id[65];		/* gateway.id, for the readings until the EUI is known */
};

/*
 * Resolve cfg's sources.sx130x into *ret: the board preset fills what the
 * file did not give, fg_lw_region_channel_plan() gives the channels, and
 * the file's radio frequencies and channel entries change them. Every
 * problem is added to diags (file cfg->path, the setting's line); returns 0
 * (warnings only), -EINVAL when there were errors, -ENOMEM. Never logs.
 */
int fg_sx130x_setup_resolve(const struct fg_config *cfg, struct fg_sx130x_setup *ret,
			    struct fg_diags *diags);

/* Whether two setups drive the concentrator the same way (a reload need not restart it). */
bool fg_sx130x_setup_equal(const struct fg_sx130x_setup *a, const struct fg_sx130x_setup *b);

/*
 * The checks the daemon and fieldgatectl run after fg_config_load(): with
 * sources.sx130x.enabled, the binary must have a HAL (built is
 * fg_sx130x_hal()) that drives the chip, an SX1301 HAL only opens
 * /dev/spidev0.0, and the setup must resolve. Returns 0 (also when the
 * source is disabled), or a negative errno after adding diagnostics naming
 * the file, line and setting and saying what to do.
 */
int fg_sx130x_check_config(const struct fg_config *cfg, enum fg_sx130x_hal built,
			   struct fg_diags *diags);

enum fg_sx130x_state {
	FG_SX130X_RESETTING, /* driving the reset sequence */
	FG_SX130X_RUNNING,   /* started, receiving */
	FG_SX130X_WAITING,   /* a start failed: waiting to try again */
	FG_SX130X_STOPPED,
};
/* "resetting", "running", "waiting", "stopped". */
const char *fg_sx130x_state_to_string(enum fg_sx130x_state s);

/* Counters since fg_sx130x_new(). */
struct fg_sx130x_stats {
	enum fg_sx130x_state state;
	uint64_t starts;	 /* successful lgw_start() */
	uint64_t start_failures; /* failed start attempts (lines, configuration, lgw_start) */
	uint64_t receive_errors; /* lgw_receive() failures */
	uint64_t rx_packets;	 /* every packet the concentrator reported */
	uint64_t rx_crc_ok;
	uint64_t rx_crc_bad; /* counted, dropped */
	uint64_t rx_no_crc;  /* counted, dropped: LoRaWAN uplinks carry a CRC */
	uint64_t rx_dropped; /* unknown status, modulation or bandwidth, empty payload */
	uint64_t frames;     /* handed to the frame callback */
	/*
	 * Downlinks (fg_sx130x_send while running): each is counted once in
	 * one of tx_sent to tx_lost when it is done with; tx_queued counts
	 * those that waited in the transmit queue on the way.
	 */
	uint64_t tx_queued;	/* timestamped ones taken into the queue */
	uint64_t tx_sent;	/* lgw_send() accepted */
	uint64_t tx_failed;	/* not sendable, or lgw_send() or the counter failed */
	uint64_t tx_late;	/* under 30 ms ahead, or under 5 ms when their turn came */
	uint64_t tx_collided;	/* refused: too close to one queued or on air */
	uint64_t tx_too_far;	/* refused: more than 10 s ahead (a wrong timestamp) */
	uint64_t tx_queue_full; /* refused: 16 were waiting */
	uint64_t tx_lost;	/* queued, then dropped as the concentrator restarted or stopped */
	uint64_t eui;		/* 0 until read (never on the SX1301) */
	bool has_temperature;
	float temperature; /* degrees Celsius, the last reading (SX1302/SX1303 boards) */
};

/* The gateway readings of one stat interval (counts over the interval, as a packet forwarder's). */
struct fg_sx130x_stat {
	const char *device; /* the EUI as 16 hex digits, else gateway.id */
	uint32_t rx_received, rx_crc_ok, rx_crc_bad, rx_no_crc, rx_forwarded;
	uint32_t tx_sent;
	bool has_temperature;
	float temperature;
};

struct fg_sx130x_handlers {
	/* One received frame (CRC good) with its radio metadata; borrowed for the call. */
	void (*frame)(const uint8_t *phy, size_t len, const struct fg_radio_meta *radio,
		      void *userdata);
	/* Every stat interval while running; may be NULL. */
	void (*stat)(const struct fg_sx130x_stat *st, void *userdata);
};

struct fg_sx130x;

/*
 * Resolve cfg (see fg_sx130x_setup_resolve; cfg is not kept) and begin the
 * start-up sequence in loop. gpio drives the lines on real chips (NULL:
 * fg_gpio_default_ops()); a line on the chip "sim" goes to the simulated
 * chip (gpio-sim.h) whatever gpio is. Returns 0; -EINVAL when the setup does
 * not resolve (its errors logged; its warnings are fg_sx130x_check_config's
 * to report), -EOPNOTSUPP in a build without a HAL, -EBUSY when another
 * fg_sx130x exists, -ENOMEM. A concentrator that does not start is not an
 * error here: it is logged and retried.
 */
int fg_sx130x_new(const struct fg_config *cfg, sd_event *loop, const struct fg_gpio_ops *gpio,
		  const struct fg_sx130x_handlers *h, void *userdata, struct fg_sx130x **ret);
/* lgw_stop() if started, release the lines, drop the timers. NULL is fine. */
void fg_sx130x_free(struct fg_sx130x *s);

/*
 * Send one transmission from the radio that transmits (radio 0) at
 * tx->power_dbm less the antenna gain. The concentrator holds one
 * transmission at a time, so a timestamped one (tx->count_us on the
 * concentrator's counter, which wraps at 2^32) waits in a just-in-time
 * queue, as in Semtech's packet forwarder, and is handed to lgw_send() 40 ms
 * before its time, once the TX modem is free; an immediate one goes to
 * lgw_send() at once. tx is copied. Returns 0 when queued or sent; -EAGAIN
 * while not running; -EINVAL for parameters the concentrator cannot send;
 * -ETIME when count_us is less than 30 ms ahead of the counter (or past);
 * -ERANGE when it is more than 10 s ahead; -EEXIST when it would be on air
 * with (or too close after) one queued or sent, the margin being what it
 * takes to hand the next one over; -ENOBUFS when 16 wait already; -EIO when
 * the counter cannot be read or lgw_send() refuses an immediate one. Each
 * outcome is counted in fg_sx130x_stats. Does not log; what happens later to
 * a queued one (sent, late, refused) is counted and logged by the source.
 */
int fg_sx130x_send(struct fg_sx130x *s, const struct fg_lw_txpk *tx);

/* The concentrator's counter now (microseconds, wraps at 2^32): 0, -EAGAIN, -EOPNOTSUPP, -EIO. */
int fg_sx130x_counter(struct fg_sx130x *s, uint32_t *ret_us);

/* The concentrator's EUI: 0, or -ENODATA before it is read or on an SX1301. */
int fg_sx130x_eui(const struct fg_sx130x *s, uint64_t *ret);

void fg_sx130x_get_stats(const struct fg_sx130x *s, struct fg_sx130x_stats *ret);
