/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The SX130x concentrator source (source/sx130x.h): the reset sequence on
 * GPIO lines, start-up with back-off, receive polling, the just-in-time
 * transmit queue and the gateway's own counters, on sd-event timers. The
 * HAL calls are behind sx130x-hal.h, one adapter per libloragw flavour.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "gpio/gpio-sim.h"
#include "source/sx130x-hal.h"
#include "source/sx130x.h"

#define MODULE "sx130x"
/* Semtech's reset_lgw.sh waits 100 ms after each change of a line (WAIT_GPIO). */
#define RESET_STEP_USEC	 (100 * FG_USEC_PER_MSEC)
#define BACKOFF_MIN_USEC (1 * FG_USEC_PER_SEC)
#define BACKOFF_MAX_USEC (300 * FG_USEC_PER_SEC)
/* The SX1301's receive FIFO holds 16 packets: poll often while they come. */
#define POLL_BUSY_USEC	   (10 * FG_USEC_PER_MSEC)
#define POLL_IDLE_USEC	   (100 * FG_USEC_PER_MSEC)
#define POLL_STEP_USEC	   (10 * FG_USEC_PER_MSEC)
#define POLL_ACCURACY_USEC (1 * FG_USEC_PER_MSEC)
#define RX_BATCH	   16
/* Failed lgw_receive() calls in a row before the concentrator is reset and started again. */
#define RECEIVE_ERRORS_MAX 5

/*
 * The transmit queue, after Semtech's lora_pkt_fwd (jitqueue.c and its
 * thread_jit): the TX modem holds one transmission at a time, so timestamped
 * ones wait here in the order of their time and each is handed to
 * lgw_send() TX_LEAD_USEC before it. Times are on the concentrator's 1 MHz
 * counter, which wraps at 2^32 (71 minutes): compared by counter_diff().
 */
#define TXQ_MAX 16
/* Handed to lgw_send() this long before its time (lora_pkt_fwd's TX_JIT_DELAY). */
#define TX_LEAD_USEC INT64_C(40000)
/* Queued nearer than this is too late: the loop needs the time to hand it over. */
#define TX_MIN_AHEAD_USEC INT64_C(30000)
/*
 * Nearer than this when its turn comes, it is dropped as late: the HAL starts
 * the TX 1.5 ms before its time (TX_START_DELAY) and moves the packet over SPI
 * first. A TX time already past would wait a wrap of the counter.
 */
#define TX_LAST_USEC INT64_C(5000)
/* Farther ahead is a wrong timestamp: class A answers come 1 to 7 s after the uplink. */
#define TX_MAX_AHEAD_USEC INT64_C(10000000)
/*
 * From the end of one transmission to the time of the next: the next is
 * handed over TX_LEAD_USEC before its time, with the TX modem free by then,
 * plus lora_pkt_fwd's TX_START_DELAY (1.5 ms) and TX_MARGIN_DELAY (1 ms).
 */
#define TX_GUARD_USEC (TX_LEAD_USEC + 2500)
/* The TX modem still emitting at a hand-over: look again this soon. */
#define TX_RETRY_USEC	 (2 * FG_USEC_PER_MSEC)
#define TX_ACCURACY_USEC (1 * FG_USEC_PER_MSEC)
/* Radio 0 transmits, in Semtech's reference configurations of every board. */
#define TX_RF_CHAIN 0

/* One transmission waiting for its time. */
struct txq_entry {
	struct fg_lw_txpk tx;
	int8_t rf_power; /* dBm at the connector */
	uint32_t airtime_us;
};

enum step {
	STEP_POWER, /* request the lines, power enable high */
	STEP_RESET_HIGH,
	STEP_RESET_LOW,
	STEP_START, /* configure and lgw_start() */
};

struct fg_sx130x {
	sd_event *loop;
	struct fg_sx130x_setup setup;
	const struct fg_gpio_ops *gpio; /* for real chips */
	struct fg_sx130x_handlers h;
	void *userdata;
	const struct fg_gpio_ops *reset_ops, *power_ops;
	struct fg_gpio_line *reset_line, *power_line;
	sd_event_source *step_timer;
	sd_event_source *poll_timer;
	sd_event_source *stat_timer;
	sd_event_source *tx_timer;
	struct txq_entry txq[TXQ_MAX]; /* by time, the next first */
	size_t txq_n;
	/* The last one handed to lgw_send(), until it is over (monotonic; 0: none). */
	uint64_t on_air_until;
	uint32_t on_air_us, on_air_airtime_us;
	enum step step;
	bool started;
	uint64_t backoff_usec;
	uint64_t poll_usec;
	unsigned receive_errors_in_row;
	struct fg_sx130x_stats st;
	struct fg_sx130x_stats at_last_stat;
	char device[65]; /* the EUI in hex, else gateway.id: names the gateway readings */
};

/* libloragw keeps one concentrator in global state: so may we have only one source. */
static bool instance_exists;

/*
 * Arm a one-shot timer usec from now, creating it on first use. Now is the
 * clock's, not the loop's idea of it (sd_event_now, the iteration's wake-up,
 * which the _relative calls count from): a reset step that took 30 ms would
 * otherwise leave the concentrator 30 ms less than its 100 ms.
 */
static int arm(struct fg_sx130x *s, sd_event_source **es, uint64_t usec, uint64_t accuracy,
	       sd_event_time_handler_t cb)
{
	uint64_t at = fg_clock_mono_usec() + usec;
	int r;

	if (!*es)
		return sd_event_add_time(s->loop, es, CLOCK_MONOTONIC, at, accuracy, cb, s);
	r = sd_event_source_set_time(*es, at);
	if (r >= 0)
		r = sd_event_source_set_enabled(*es, SD_EVENT_ONESHOT);
	return r;
}

/* A line as the settings write it: "gpiochip0:17", "sim:17" or "none". */
static void format_line(const struct fg_sx130x_line *l, char *buf, size_t size)
{
	if (l->present)
		snprintf(buf, size, "%s:%u", l->chip, l->offset);
	else
		snprintf(buf, size, "none");
}

static int on_step(sd_event_source *es, uint64_t usec, void *userdata);

/* Count a failed start, say what to check, and try again after the back-off. */
static void start_failed(struct fg_sx130x *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void start_failed(struct fg_sx130x *s, const char *fmt, ...)
{
	char what[768];
	va_list ap;
	int r;

	va_start(ap, fmt);
	(void) vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	s->st.start_failures++;
	s->st.state = FG_SX130X_WAITING;
	s->step = STEP_POWER;
	r = arm(s, &s->step_timer, s->backoff_usec, 10 * FG_USEC_PER_MSEC, on_step);
	if (r < 0) {
		s->st.state = FG_SX130X_STOPPED;
		fg_log_event_full(
			LOG_ERR, r, FG_MESSAGE_CONCENTRATOR_FAILED, MODULE,
			FG_LOG_FIELDS(FG_LOG_STR("FIELDGATE_CHIP",
						 fg_sx130x_chip_to_string(s->setup.chip)),
				      FG_LOG_STR("FIELDGATE_SPI", s->setup.spi),
				      FG_LOG_U64("FIELDGATE_ATTEMPT", s->st.start_failures)),
			__FILE__, __LINE__, __func__,
			"%s; cannot schedule another try: %m, concentrator stopped", what);
		return;
	}
	fg_log_event(
		LOG_ERR, FG_MESSAGE_CONCENTRATOR_FAILED, MODULE,
		FG_LOG_FIELDS(FG_LOG_STR("FIELDGATE_CHIP", fg_sx130x_chip_to_string(s->setup.chip)),
			      FG_LOG_STR("FIELDGATE_SPI", s->setup.spi),
			      FG_LOG_U64("FIELDGATE_ATTEMPT", s->st.start_failures),
			      FG_LOG_U64("FIELDGATE_RETRY_SEC", s->backoff_usec / FG_USEC_PER_SEC)),
		"%s; retrying in %llus (attempt %llu failed)", what,
		(unsigned long long) (s->backoff_usec / FG_USEC_PER_SEC),
		(unsigned long long) s->st.start_failures);
	s->backoff_usec *= 2;
	if (s->backoff_usec > BACKOFF_MAX_USEC)
		s->backoff_usec = BACKOFF_MAX_USEC;
}

/* Request a line once (its ops by chip: "sim" is the simulated chip) at an initial level. */
static int line_request(struct fg_sx130x *s, const struct fg_sx130x_line *l, int initial,
			const char *consumer, const struct fg_gpio_ops **ret_ops,
			struct fg_gpio_line **ret_line)
{
	const struct fg_gpio_ops *ops = strcmp(l->chip, "sim") ? s->gpio : fg_gpio_sim_ops();
	int r;

	if (!l->present || *ret_line)
		return 0;
	r = ops->line_request(l->chip, l->offset, initial, consumer, ret_line);
	if (r < 0)
		return r;
	*ret_ops = ops;
	return 0;
}

/* Drive a requested line; a board without that line has nothing to drive. */
static int line_set(const struct fg_gpio_ops *ops, struct fg_gpio_line *line, int value)
{
	return line ? ops->line_set(line, value) : 0;
}

/* What to check when a line cannot be driven. */
static const char *line_hint(int r)
{
	switch (r) {
	case -EBUSY:
		return "another program holds it (a packet forwarder, gpioset, a rule's gpio)";
	case -ENOENT:
		return "no such GPIO chip or line (on a Pi 5 with an older kernel the header is "
		       "gpiochip4)";
	case -EACCES:
	case -EPERM:
		return "the daemon may not open the GPIO chip (is the _fieldgate user in the "
		       "gpio group?)";
	default:
		return "check the chip and line";
	}
}

/* What to check when lgw_start() fails, from what we can see of the SPI device. */
static void start_hint(const struct fg_sx130x *s, char *buf, size_t size)
{
	char reset[48];

	format_line(&s->setup.reset, reset, sizeof(reset));
	if (access(s->setup.spi, F_OK) < 0)
		snprintf(buf, size,
			 "'%s' does not exist: enable SPI (raspi-config, Interface "
			 "Options, SPI, or dtparam=spi=on in config.txt) and reboot",
			 s->setup.spi);
	else if (access(s->setup.spi, R_OK | W_OK) < 0)
		snprintf(buf, size, "the daemon cannot open '%s': add its user to the spi group",
			 s->setup.spi);
	/* sx1302_hal fails lgw_start() without the board's temperature sensor on I2C. */
	else if (s->setup.chip != FG_SX130X_SX1301 && access("/dev/i2c-1", F_OK) < 0)
		snprintf(buf, size,
			 "'/dev/i2c-1' does not exist: sx1302_hal reads the board's "
			 "temperature sensor over I2C; enable I2C (raspi-config, Interface "
			 "Options, I2C) and reboot");
	else
		snprintf(buf, size,
			 "the concentrator does not answer on '%s': check the reset "
			 "line (%s, sources.sx130x.reset_gpio) and the power line, that the "
			 "board is seated, that an %s is what is fitted (libloragw's messages, "
			 "e.g. \"chip version is 0x00\", are on standard output)",
			 s->setup.spi, reset, fg_sx130x_chip_to_string(s->setup.chip));
}

static int on_poll(sd_event_source *es, uint64_t usec, void *userdata);
static int on_stat(sd_event_source *es, uint64_t usec, void *userdata);

/* Configure, start, read the EUI, and begin polling. */
static void start(struct fg_sx130x *s)
{
	const struct fg_lw_channel_plan *p = &s->setup.plan;
	char why[256] = "", hint[512], band[24] = "";
	unsigned chans = 0;
	uint64_t eui;
	int r;

	r = fg_sx130x_hal_configure(&s->setup, why, sizeof(why));
	if (r < 0) {
		start_failed(s, "the HAL refused the configuration: %s", why[0] ? why : "?");
		return;
	}
	r = fg_sx130x_hal_start();
	if (r < 0) {
		start_hint(s, hint, sizeof(hint));
		start_failed(s, "the concentrator did not start (lgw_start failed): %s", hint);
		return;
	}
	s->started = true;
	s->st.state = FG_SX130X_RUNNING;
	s->st.starts++;
	s->backoff_usec = BACKOFF_MIN_USEC;
	s->receive_errors_in_row = 0;
	for (int i = 0; i < 8; i++)
		chans += p->multi[i].enable;
	chans += p->lora_std.enable + p->fsk.enable;
	if (fg_sx130x_hal_eui(&eui) == 0) {
		s->st.eui = eui;
		snprintf(s->device, sizeof(s->device), "%016llx", (unsigned long long) eui);
	}
	if (s->setup.sub_band)
		snprintf(band, sizeof(band), " sub-band %u", s->setup.sub_band);
	fg_log_event(
		LOG_NOTICE, FG_MESSAGE_CONCENTRATOR_STARTED, MODULE,
		FG_LOG_FIELDS(
			FG_LOG_STR("FIELDGATE_CHIP", fg_sx130x_chip_to_string(s->setup.chip)),
			FG_LOG_STR("FIELDGATE_BOARD", fg_sx130x_board_to_string(s->setup.board)),
			FG_LOG_STR("FIELDGATE_SPI", s->setup.spi),
			FG_LOG_STR("FIELDGATE_EUI", s->st.eui ? s->device : NULL),
			FG_LOG_STR("FIELDGATE_REGION", fg_lw_region_to_string(s->setup.region)),
			FG_LOG_U64("FIELDGATE_STARTS", s->st.starts)),
		"concentrator started: %s on '%s' (board %s), EUI %s, region %s%s, "
		"radios %.1f/%.1f MHz, %u channels; %s",
		fg_sx130x_chip_to_string(s->setup.chip), s->setup.spi,
		fg_sx130x_board_to_string(s->setup.board),
		s->st.eui ? s->device : "none (SX1301): gateway readings go by gateway.id",
		fg_lw_region_to_string(s->setup.region), band, p->radio_hz[0] / 1e6,
		p->radio_hz[1] / 1e6, chans, fg_sx130x_hal_version());
	s->poll_usec = POLL_BUSY_USEC;
	r = arm(s, &s->poll_timer, s->poll_usec, POLL_ACCURACY_USEC, on_poll);
	if (r >= 0 && s->setup.stat_interval_usec)
		r = arm(s, &s->stat_timer, s->setup.stat_interval_usec, FG_USEC_PER_SEC, on_stat);
	if (r < 0)
		fg_log_errno(r, MODULE,
			     "cannot add the receive timer: %m; nothing will be received");
}

/* One step of the reset sequence, then the start; each step 100 ms after the last. */
static int on_step(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct fg_sx130x *s = userdata;
	char name[48];
	int r = 0;

	switch (s->step) {
	case STEP_POWER:
		s->st.state = FG_SX130X_RESETTING;
		r = line_request(s, &s->setup.power, 0, "fieldgate-sx130x-power", &s->power_ops,
				 &s->power_line);
		if (r >= 0)
			r = line_set(s->power_ops, s->power_line, 1);
		if (r < 0) {
			format_line(&s->setup.power, name, sizeof(name));
			start_failed(s, "cannot drive the power line %s: %s; %s", name,
				     strerror(-r), line_hint(r));
			return 0;
		}
		r = line_request(s, &s->setup.reset, 0, "fieldgate-sx130x-reset", &s->reset_ops,
				 &s->reset_line);
		break;
	case STEP_RESET_HIGH:
		r = line_set(s->reset_ops, s->reset_line, 1);
		break;
	case STEP_RESET_LOW:
		r = line_set(s->reset_ops, s->reset_line, 0);
		break;
	case STEP_START:
		start(s);
		return 0;
	}
	if (r < 0) {
		format_line(&s->setup.reset, name, sizeof(name));
		start_failed(s, "cannot drive the reset line %s: %s; %s", name, strerror(-r),
			     line_hint(r));
		return 0;
	}
	s->step++;
	r = arm(s, &s->step_timer, RESET_STEP_USEC, 5 * FG_USEC_PER_MSEC, on_step);
	if (r < 0)
		start_failed(s, "cannot schedule the reset sequence: %s", strerror(-r));
	return 0;
}

/* How far counter value a is after b, wrapping at 2^32: negative when a is before b. */
static int64_t counter_diff(uint32_t a, uint32_t b)
{
	uint32_t d = a - b;

	return d < UINT32_C(0x80000000) ? (int64_t) d : (int64_t) d - (INT64_C(1) << 32);
}

/* Whether transmissions at a and b, airtimes given, are too close for the one TX modem. */
static bool collide(uint32_t a, uint32_t a_airtime, uint32_t b, uint32_t b_airtime)
{
	int64_t d = counter_diff(b, a);

	return d >= 0 ? d < a_airtime + TX_GUARD_USEC : -d < b_airtime + TX_GUARD_USEC;
}

/* Whether a transmission at count_us is too close to one queued or on air. */
static bool txq_collides(const struct fg_sx130x *s, uint32_t count_us, uint32_t airtime_us)
{
	if (s->on_air_until > fg_clock_mono_usec() &&
	    collide(s->on_air_us, s->on_air_airtime_us, count_us, airtime_us))
		return true;
	for (size_t i = 0; i < s->txq_n; i++)
		if (collide(s->txq[i].tx.count_us, s->txq[i].airtime_us, count_us, airtime_us))
			return true;
	return false;
}

/* Hand e to lgw_send() now (ahead_us before its time), counted; remembered while on air. */
static int tx_hand_over(struct fg_sx130x *s, const struct txq_entry *e, uint32_t count_us,
			int64_t ahead_us)
{
	int r;

	r = fg_sx130x_hal_send(&e->tx, TX_RF_CHAIN, e->rf_power);
	if (r < 0) {
		s->st.tx_failed++;
		return r;
	}
	s->st.tx_sent++;
	s->on_air_us = count_us;
	s->on_air_airtime_us = e->airtime_us;
	s->on_air_until = fg_clock_mono_usec() + (uint64_t) ahead_us + e->airtime_us;
	return 0;
}

static void txq_pop(struct fg_sx130x *s)
{
	memmove(&s->txq[0], &s->txq[1], --s->txq_n * sizeof(s->txq[0]));
}

/* Drop what is queued (counted as lost) and forget what is on air: the counter starts over. */
static void txq_flush(struct fg_sx130x *s, const char *why)
{
	if (s->txq_n > 0)
		fg_log_warning(MODULE, "%s: %zu queued downlink%s dropped", why, s->txq_n,
			       s->txq_n == 1 ? "" : "s");
	s->st.tx_lost += s->txq_n;
	s->txq_n = 0;
	s->on_air_until = 0;
	if (s->tx_timer)
		(void) sd_event_source_set_enabled(s->tx_timer, SD_EVENT_OFF);
}

static int on_tx(sd_event_source *es, uint64_t usec, void *userdata);

/*
 * The queue's turn: drop the first transmission if it is late, hand it to
 * lgw_send() once it is TX_LEAD_USEC away and the TX modem is not emitting
 * (else look again shortly), and arm the timer for the next.
 */
static void txq_run(struct fg_sx130x *s)
{
	while (s->txq_n > 0) {
		const struct txq_entry *e = &s->txq[0];
		enum fg_sx130x_tx_status status;
		uint32_t now, at = e->tx.count_us;
		int64_t ahead;
		int r;

		r = fg_sx130x_hal_counter(&now);
		if (r < 0) {
			s->st.tx_failed++;
			txq_pop(s);
			fg_log_device(LOG_WARNING, MODULE, MODULE, s->device,
				      "cannot read the concentrator's counter: %s; downlink for "
				      "counter %" PRIu32 " dropped",
				      strerror(-r), at);
			continue;
		}
		ahead = counter_diff(at, now);
		if (ahead > TX_LEAD_USEC) {
			r = arm(s, &s->tx_timer, (uint64_t) (ahead - TX_LEAD_USEC),
				TX_ACCURACY_USEC, on_tx);
			if (r < 0) {
				txq_flush(s, "cannot arm the transmit timer");
				fg_log_errno(r, MODULE, "cannot arm the transmit timer: %m");
			}
			return;
		}
		if (ahead >= TX_LAST_USEC && fg_sx130x_hal_tx_status(TX_RF_CHAIN, &status) == 0 &&
		    status == FG_SX130X_TX_EMITTING) {
			r = arm(s, &s->tx_timer, TX_RETRY_USEC, TX_ACCURACY_USEC / 2, on_tx);
			if (r >= 0)
				return;
			ahead = 0; /* cannot wait: late */
		}
		if (ahead < TX_LAST_USEC) {
			s->st.tx_late++;
			txq_pop(s);
			fg_log_device(
				LOG_WARNING, MODULE, MODULE, s->device,
				"downlink for counter %" PRIu32 " dropped, too late: its turn "
				"came %.1f ms before its time (the TX modem busy, or the loop)",
				at, (double) ahead / 1000.0);
			continue;
		}
		/* One still scheduled is overwritten, as lora_pkt_fwd does: its time has passed. */
		r = tx_hand_over(s, e, at, ahead);
		if (r < 0)
			fg_log_device(LOG_WARNING, MODULE, MODULE, s->device,
				      "lgw_send refused the downlink for counter %" PRIu32
				      ": %s; dropped",
				      at, strerror(-r));
		else
			fg_log_debug(MODULE,
				     "downlink for counter %" PRIu32 " handed over %.1f ms "
				     "before its time",
				     at, (double) ahead / 1000.0);
		txq_pop(s);
	}
}

static int on_tx(sd_event_source *es, uint64_t usec, void *userdata)
{
	txq_run(userdata);
	return 0;
}

/* The concentrator stopped answering: stop it and go through reset and start again. */
static void restart(struct fg_sx130x *s)
{
	txq_flush(s, "the concentrator is reset");
	(void) fg_sx130x_hal_stop();
	s->started = false;
	if (s->poll_timer)
		(void) sd_event_source_set_enabled(s->poll_timer, SD_EVENT_OFF);
	if (s->stat_timer)
		(void) sd_event_source_set_enabled(s->stat_timer, SD_EVENT_OFF);
	start_failed(s,
		     "lgw_receive failed %u times in a row: the concentrator stopped answering, "
		     "resetting it",
		     s->receive_errors_in_row);
}

/* One packet: counted, and handed on when its CRC is good. */
static void handle(struct fg_sx130x *s, const struct fg_sx130x_rx *rx)
{
	struct fg_radio_meta radio = { .present = true, .dr = -1 };

	s->st.rx_packets++;
	switch (rx->crc) {
	case FG_SX130X_CRC_OK:
		s->st.rx_crc_ok++;
		break;
	case FG_SX130X_CRC_BAD:
		s->st.rx_crc_bad++;
		fg_log_debug(MODULE, "packet on %.3f MHz with a bad CRC, dropped",
			     rx->freq_hz / 1e6);
		return;
	case FG_SX130X_CRC_NONE:
		s->st.rx_no_crc++;
		fg_log_debug(MODULE, "packet on %.3f MHz without a CRC (a downlink?), dropped",
			     rx->freq_hz / 1e6);
		return;
	default:
		s->st.rx_dropped++;
		return;
	}
	if (rx->size == 0 || (rx->lora && (!rx->sf || !rx->bw_hz))) {
		s->st.rx_dropped++;
		return;
	}
	radio.rssi = (int16_t) lroundf(rx->rssi);
	radio.snr = rx->snr;
	radio.freq_hz = rx->freq_hz;
	radio.sf = rx->lora ? rx->sf : 0;
	radio.bw_hz = rx->lora ? rx->bw_hz : 0;
	radio.tmst = rx->count_us;
	s->st.frames++;
	s->h.frame(rx->payload, rx->size, &radio, s->userdata);
}

static int on_poll(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct fg_sx130x *s = userdata;
	struct fg_sx130x_rx rx[RX_BATCH];
	int n, r;

	if (!s->started)
		return 0;
	n = fg_sx130x_hal_receive(rx, RX_BATCH);
	if (n < 0) {
		s->st.receive_errors++;
		s->receive_errors_in_row++;
		fg_log_device(LOG_WARNING, MODULE, MODULE, s->device,
			      "lgw_receive failed (%u in a "
			      "row)",
			      s->receive_errors_in_row);
		if (s->receive_errors_in_row >= RECEIVE_ERRORS_MAX) {
			restart(s);
			return 0;
		}
		n = 0;
	} else {
		s->receive_errors_in_row = 0;
	}
	for (int i = 0; i < n && s->started; i++)
		handle(s, &rx[i]);
	if (n == RX_BATCH)
		s->poll_usec = POLL_ACCURACY_USEC; /* more are waiting */
	else if (n > 0)
		s->poll_usec = POLL_BUSY_USEC;
	else if (s->poll_usec < POLL_IDLE_USEC)
		s->poll_usec = s->poll_usec < POLL_BUSY_USEC ? POLL_BUSY_USEC
							     : s->poll_usec + POLL_STEP_USEC;
	r = arm(s, &s->poll_timer, s->poll_usec, POLL_ACCURACY_USEC, on_poll);
	if (r < 0)
		fg_log_errno(r, MODULE, "cannot re-arm the receive timer: %m; receiving stops");
	return 0;
}

/* The counters of the interval (and the chip's temperature) as the gateway's readings. */
static int on_stat(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct fg_sx130x *s = userdata;
	const struct fg_sx130x_stats *a = &s->st, *b = &s->at_last_stat;
	struct fg_sx130x_stat st = { .device = s->device };
	float t;

	if (!s->started)
		return 0;
	if (fg_sx130x_hal_temperature(&t) == 0) {
		s->st.has_temperature = true;
		s->st.temperature = t;
		st.has_temperature = true;
		st.temperature = t;
	}
	st.rx_received = (uint32_t) (a->rx_packets - b->rx_packets);
	st.rx_crc_ok = (uint32_t) (a->rx_crc_ok - b->rx_crc_ok);
	st.rx_crc_bad = (uint32_t) (a->rx_crc_bad - b->rx_crc_bad);
	st.rx_no_crc = (uint32_t) (a->rx_no_crc - b->rx_no_crc);
	st.rx_forwarded = (uint32_t) (a->frames - b->frames);
	st.tx_sent = (uint32_t) (a->tx_sent - b->tx_sent);
	s->at_last_stat = s->st;
	if (s->h.stat)
		s->h.stat(&st, s->userdata);
	(void) arm(s, &s->stat_timer, s->setup.stat_interval_usec, FG_USEC_PER_SEC, on_stat);
	return 0;
}

int fg_sx130x_new(const struct fg_config *cfg, sd_event *loop, const struct fg_gpio_ops *gpio,
		  const struct fg_sx130x_handlers *h, void *userdata, struct fg_sx130x **ret)
{
	struct fg_diags diags = { 0 };
	struct fg_sx130x *s;
	int r;

	assert(cfg && loop && h && h->frame && ret);
	if (instance_exists)
		return -EBUSY;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	r = fg_sx130x_setup_resolve(cfg, &s->setup, &diags);
	/* Warnings were reported with the configuration (fg_sx130x_check_config). */
	for (size_t i = 0; i < diags.n; i++) {
		char *line;

		if (diags.v[i].severity != FG_DIAG_ERROR)
			continue;
		line = fg_diag_format(&diags.v[i]);
		fg_log_error(MODULE, "%s", line ? line : diags.v[i].message);
		free(line);
	}
	fg_diags_clear(&diags);
	if (r < 0) {
		free(s);
		return r;
	}
	s->loop = sd_event_ref(loop);
	s->gpio = gpio ? gpio : fg_gpio_default_ops();
	s->h = *h;
	s->userdata = userdata;
	s->backoff_usec = BACKOFF_MIN_USEC;
	s->st.state = FG_SX130X_RESETTING;
	snprintf(s->device, sizeof(s->device), "%s", s->setup.gateway_id);
	instance_exists = true;
	s->step = STEP_POWER;
	r = arm(s, &s->step_timer, 0, 5 * FG_USEC_PER_MSEC, on_step);
	if (r < 0) {
		fg_sx130x_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void fg_sx130x_free(struct fg_sx130x *s)
{
	if (!s)
		return;
	s->step_timer = sd_event_source_disable_unref(s->step_timer);
	s->poll_timer = sd_event_source_disable_unref(s->poll_timer);
	s->stat_timer = sd_event_source_disable_unref(s->stat_timer);
	if (s->started)
		txq_flush(s, "the concentrator stops");
	s->tx_timer = sd_event_source_disable_unref(s->tx_timer);
	if (s->started) {
		int r = fg_sx130x_hal_stop();

		if (r < 0)
			fg_log_errno(r, MODULE, "lgw_stop failed: %m");
		else
			fg_log_info(MODULE, "concentrator stopped");
	}
	if (s->reset_line)
		s->reset_ops->line_release(s->reset_line);
	if (s->power_line)
		s->power_ops->line_release(s->power_line);
	sd_event_unref(s->loop);
	instance_exists = false;
	free(s);
}

/* An immediate transmission: now, unless the TX modem or the queue's next one is in the way. */
static int send_now(struct fg_sx130x *s, const struct txq_entry *e, uint32_t now)
{
	enum fg_sx130x_tx_status status;

	if (txq_collides(s, now, e->airtime_us) ||
	    (fg_sx130x_hal_tx_status(TX_RF_CHAIN, &status) == 0 &&
	     (status == FG_SX130X_TX_SCHEDULED || status == FG_SX130X_TX_EMITTING))) {
		s->st.tx_collided++;
		return -EEXIST;
	}
	return tx_hand_over(s, e, now, 0);
}

int fg_sx130x_send(struct fg_sx130x *s, const struct fg_lw_txpk *tx)
{
	struct txq_entry e = { .tx = *tx };
	uint32_t now;
	int64_t ahead;
	long power;
	size_t i;
	int r;

	assert(s && tx);
	if (!s->started)
		return -EAGAIN;
	power = lroundf((float) tx->power_dbm - s->setup.antenna_gain);
	if (power < -128 || power > 127 || fg_sx130x_hal_check(tx) < 0) {
		s->st.tx_failed++;
		return -EINVAL;
	}
	e.rf_power = (int8_t) power;
	e.airtime_us = fg_lw_txpk_airtime_us(tx);
	r = fg_sx130x_hal_counter(&now);
	if (r < 0) {
		s->st.tx_failed++;
		return r;
	}
	if (tx->immediate)
		return send_now(s, &e, now);
	ahead = counter_diff(tx->count_us, now);
	if (ahead < TX_MIN_AHEAD_USEC) {
		s->st.tx_late++;
		return -ETIME;
	}
	if (ahead > TX_MAX_AHEAD_USEC) {
		s->st.tx_too_far++;
		return -ERANGE;
	}
	if (txq_collides(s, tx->count_us, e.airtime_us)) {
		s->st.tx_collided++;
		return -EEXIST;
	}
	if (s->txq_n == TXQ_MAX) {
		s->st.tx_queue_full++;
		return -ENOBUFS;
	}
	/* Within 10 s of now, so within 2^31 of each other: counter_diff() orders them. */
	for (i = s->txq_n; i > 0 && counter_diff(s->txq[i - 1].tx.count_us, tx->count_us) > 0; i--)
		s->txq[i] = s->txq[i - 1];
	s->txq[i] = e;
	s->txq_n++;
	if (i == 0) {
		r = arm(s, &s->tx_timer,
			ahead > TX_LEAD_USEC ? (uint64_t) (ahead - TX_LEAD_USEC) : 0,
			TX_ACCURACY_USEC, on_tx);
		if (r < 0) {
			txq_pop(s);
			s->st.tx_failed++;
			return r;
		}
	}
	s->st.tx_queued++;
	return 0;
}

int fg_sx130x_counter(struct fg_sx130x *s, uint32_t *ret_us)
{
	if (!s->started)
		return -EAGAIN;
	return fg_sx130x_hal_counter(ret_us);
}

int fg_sx130x_eui(const struct fg_sx130x *s, uint64_t *ret)
{
	if (!s->st.eui)
		return -ENODATA;
	*ret = s->st.eui;
	return 0;
}

void fg_sx130x_get_stats(const struct fg_sx130x *s, struct fg_sx130x_stats *ret)
{
	*ret = s->st;
}
