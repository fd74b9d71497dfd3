/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The SX130x concentrator source (source/sx130x.h): the reset sequence on
 * GPIO lines, start-up with back-off, receive polling and the gateway's own
 * counters, on sd-event timers. The HAL calls are behind sx130x-hal.h, one
 * adapter per libloragw flavour.
 */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "source/gpio-sim.h"
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

/* Arm a one-shot timer usec from now, creating it on first use. */
static int arm(struct fg_sx130x *s, sd_event_source **es, uint64_t usec, uint64_t accuracy,
	       sd_event_time_handler_t cb)
{
	int r;

	if (!*es)
		return sd_event_add_time_relative(s->loop, es, CLOCK_MONOTONIC, usec, accuracy, cb,
						  s);
	r = sd_event_source_set_time_relative(*es, usec);
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
		fg_log_errno(r, MODULE, "%s; cannot schedule another try: %m, concentrator stopped",
			     what);
		return;
	}
	fg_log_error(MODULE, "%s; retrying in %llus (attempt %llu failed)", what,
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
	fg_log_info(MODULE,
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

/* The concentrator stopped answering: stop it and go through reset and start again. */
static void restart(struct fg_sx130x *s)
{
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

int fg_sx130x_send(struct fg_sx130x *s, const struct fg_lw_txpk *tx)
{
	long power;
	int r;

	assert(s && tx);
	if (!s->started)
		return -EAGAIN;
	power = lroundf((float) tx->power_dbm - s->setup.antenna_gain);
	if (power < -128 || power > 127)
		return -EINVAL;
	/* Radio 0 transmits, in Semtech's reference configurations of every board. */
	r = fg_sx130x_hal_send(tx, 0, (int8_t) power);
	if (r < 0)
		s->st.tx_failed++;
	else
		s->st.tx_sent++;
	return r;
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
