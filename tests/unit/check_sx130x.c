/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The SX130x source: the setup a configuration resolves to (board presets,
 * the region plan and its changes, what a build refuses), and the source
 * itself on an sd-event loop against the libloragw test double
 * (tests/loragw), with a recording GPIO ops table standing in for libgpiod.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "core/clock.h"
#include "source/sx130x.h"
#include "check-main.h"

static struct fg_config *cfg;
static struct fg_diags diags;
static char dir[64];
static char record_path[96], script_path[96];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check-sx130x-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(record_path, sizeof(record_path), "%s/record", dir);
	snprintf(script_path, sizeof(script_path), "%s/script", dir);
	setenv("FG_LORAGW_RECORD", record_path, 1);
	setenv("FG_LORAGW_SCRIPT", script_path, 1);
	unsetenv("FG_LORAGW_EUI");
	cfg = NULL;
	memset(&diags, 0, sizeof(diags));
}

static void teardown(void)
{
	fg_config_free(cfg);
	fg_diags_clear(&diags);
	(void) unlink(record_path);
	(void) unlink(script_path);
	(void) rmdir(dir);
}

static int load(const char *text)
{
	return fg_config_load_string(text, "fieldgate.conf", &cfg, &diags);
}

static void assert_diag(size_t i, const char *expected)
{
	char *s;

	ck_assert_uint_gt(diags.n, i);
	s = fg_diag_format(&diags.v[i]);
	ck_assert_str_eq(s, expected);
	free(s);
}

/* ---------------------------------------------------------------- setup */

START_TEST(sx130x_board_preset_gives_lines_clock_radio_and_chip)
{
	struct fg_sx130x_setup s;

	ck_assert_int_eq(load("sources = { sx130x = { enabled = true; board = \"wm1302\"; }; };\n"),
			 0);
	ck_assert_int_eq(fg_sx130x_setup_resolve(cfg, &s, &diags), 0);
	ck_assert_uint_eq(diags.n, 0);
	ck_assert_int_eq(s.chip, FG_SX130X_SX1302);
	ck_assert(s.reset.present);
	ck_assert_str_eq(s.reset.chip, "gpiochip0");
	ck_assert_uint_eq(s.reset.offset, 17);
	ck_assert(s.power.present);
	ck_assert_str_eq(s.power.chip, "gpiochip0");
	ck_assert_uint_eq(s.power.offset, 18);
	ck_assert_uint_eq(s.clock_source, 0);
	ck_assert_int_eq(s.radio_type, FG_SX130X_RADIO_SX1250);
	ck_assert(fabsf(s.rssi_offset - -215.4f) < 1e-4);
	ck_assert_str_eq(s.spi, "/dev/spidev0.0");
	ck_assert_uint_eq(s.stat_interval_usec, 60 * FG_USEC_PER_SEC);
}
END_TEST

START_TEST(sx130x_every_board_has_its_facts)
{
	static const struct {
		const char *board;
		enum fg_sx130x_chip chip;
		unsigned reset, power; /* 0: none */
		unsigned clock;
		enum fg_sx130x_radio radio;
	} want[] = {
		{ "corecell", FG_SX130X_SX1302, 23, 18, 0, FG_SX130X_RADIO_SX1250 },
		{ "wm1302", FG_SX130X_SX1302, 17, 18, 0, FG_SX130X_RADIO_SX1250 },
		{ "rak2287", FG_SX130X_SX1302, 17, 0, 0, FG_SX130X_RADIO_SX1250 },
		{ "rak5146", FG_SX130X_SX1303, 17, 0, 0, FG_SX130X_RADIO_SX1250 },
		{ "rak2245", FG_SX130X_SX1301, 17, 0, 1, FG_SX130X_RADIO_SX1257 },
		{ "ic880a", FG_SX130X_SX1301, 25, 0, 1, FG_SX130X_RADIO_SX1257 },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char text[128];
		struct fg_sx130x_setup s;

		snprintf(text, sizeof(text), "sources = { sx130x = { board = \"%s\"; }; };\n",
			 want[i].board);
		ck_assert_int_eq(load(text), 0);
		ck_assert_int_eq(fg_sx130x_setup_resolve(cfg, &s, &diags), 0);
		ck_assert_msg(s.chip == want[i].chip, "%s: chip", want[i].board);
		ck_assert_msg(s.reset.present && s.reset.offset == want[i].reset, "%s: reset",
			      want[i].board);
		ck_assert_msg(s.power.present == (want[i].power != 0) &&
				      (!want[i].power || s.power.offset == want[i].power),
			      "%s: power", want[i].board);
		ck_assert_msg(s.clock_source == want[i].clock, "%s: clock", want[i].board);
		ck_assert_msg(s.radio_type == want[i].radio, "%s: radio", want[i].board);
		ck_assert_msg(fabsf(s.rssi_offset -
				    (want[i].radio == FG_SX130X_RADIO_SX1250 ? -215.4f : -166.0f)) <
				      1e-4,
			      "%s: rssi offset", want[i].board);
		fg_config_free(cfg);
		cfg = NULL;
	}
	ck_assert_uint_eq(diags.n, 0);
}
END_TEST

START_TEST(sx130x_file_settings_win_over_the_board)
{
	struct fg_sx130x_setup s;

	ck_assert_int_eq(
		load("sources = { sx130x = { board = \"rak2245\"; reset_gpio = \"sim:22\";\n"
		     "  power_gpio = \"4\"; clock_source = 0; radio_type = \"sx1255\";\n"
		     "  rssi_offset = -170.5; antenna_gain = 3; spi = \"/dev/spidev1.0\"; };\n"
		     "};\n"),
		0);
	ck_assert_int_eq(fg_sx130x_setup_resolve(cfg, &s, &diags), 0);
	ck_assert_str_eq(s.reset.chip, "sim");
	ck_assert_uint_eq(s.reset.offset, 22);
	ck_assert_str_eq(s.power.chip, "gpiochip0");
	ck_assert_uint_eq(s.power.offset, 4);
	ck_assert_uint_eq(s.clock_source, 0);
	ck_assert_int_eq(s.radio_type, FG_SX130X_RADIO_SX1255);
	ck_assert(s.rssi_offset == -170.5f);
	ck_assert(s.antenna_gain == 3.0f);
	ck_assert_str_eq(s.spi, "/dev/spidev1.0");
}
END_TEST

START_TEST(sx130x_none_drives_no_line)
{
	struct fg_sx130x_setup s;

	ck_assert_int_eq(
		load("sources = { sx130x = { board = \"corecell\"; power_gpio = \"none\"; };"
		     " };\n"),
		0);
	ck_assert_int_eq(fg_sx130x_setup_resolve(cfg, &s, &diags), 0);
	ck_assert(s.reset.present);
	ck_assert(!s.power.present);
	fg_config_free(cfg);
	cfg = NULL;
	ck_assert_int_eq(load("sources = { sx130x = { enabled = true; }; };\n"), 0);
	ck_assert_int_eq(fg_sx130x_setup_resolve(cfg, &s, &diags), 0);
	ck_assert(!s.reset.present && !s.power.present);
	ck_assert_int_eq(s.chip, FG_SX130X_SX1302);
}
END_TEST

START_TEST(sx130x_plan_is_the_regions_with_the_files_changes)
{
	struct fg_lw_channel_plan region;
	struct fg_sx130x_setup s;

	ck_assert_int_eq(load("lorawan = { region = \"US915\"; };\n"
			      "sources = { sx130x = { sub_band = 1; radio_1_freq = 905000000;\n"
			      "  channels = ( { channel = 7; enable = false; },\n"
			      "               { channel = 0; if = -300000; },\n"
			      "               { channel = \"fsk\"; enable = false; } ); }; };\n"),
			 0);
	ck_assert_int_eq(fg_lw_region_channel_plan(FG_LW_US915, 1, &region), 0);
	ck_assert_int_eq(fg_sx130x_setup_resolve(cfg, &s, &diags), 0);
	ck_assert_uint_eq(diags.n, 0);
	ck_assert_int_eq(s.region, FG_LW_US915);
	ck_assert_uint_eq(s.sub_band, 1);
	ck_assert_uint_eq(s.plan.radio_hz[0], region.radio_hz[0]);
	ck_assert_uint_eq(s.plan.radio_hz[1], 905000000);
	ck_assert(!s.plan.multi[7].enable);
	ck_assert_int_eq(s.plan.multi[0].if_hz, -300000);
	ck_assert_uint_eq(s.plan.multi[0].radio, region.multi[0].radio);
	ck_assert_int_eq(s.plan.multi[1].if_hz, region.multi[1].if_hz);
	ck_assert(!s.plan.fsk.enable);
	ck_assert(s.plan.lora_std.enable == region.lora_std.enable);
}
END_TEST

START_TEST(sx130x_sub_band_outside_us915_and_au915_is_a_warning)
{
	struct fg_sx130x_setup s;

	ck_assert_int_eq(load("sources = { sx130x = { enabled = true; sub_band = 3; }; };\n"), 0);
	ck_assert_int_eq(fg_sx130x_setup_resolve(cfg, &s, &diags), 0);
	ck_assert_uint_eq(s.sub_band, 0);
	assert_diag(0, "fieldgate.conf:1: warning: sources.sx130x.sub_band: only US915 and AU915 "
		       "have sub-bands; ignored for EU868");
}
END_TEST

START_TEST(sx130x_impossible_channels_and_boards_are_refused)
{
	struct fg_sx130x_setup s;

	ck_assert_int_eq(
		load("sources = { sx130x = {\n"
		     "  enabled = true; board = \"rak2287\"; chip = \"sx1301\";\n"
		     "  power_gpio = \"gpiochip0:17\";\n"
		     "  channels = ( { channel = 3; if = 450000; },\n"
		     "               { channel = \"lora_std\"; radio = 1; if = 400000; } );\n"
		     "}; };\n"),
		0);
	ck_assert_int_eq(fg_sx130x_setup_resolve(cfg, &s, &diags), -EINVAL);
	assert_diag(0,
		    "fieldgate.conf:2: sources.sx130x.chip: board rak2287 carries an sx1302, not "
		    "an sx1301; remove chip or change board");
	assert_diag(1, "fieldgate.conf:2: sources.sx130x.power_gpio: is the same line as the reset "
		       "(gpiochip0:17)");
	assert_diag(2,
		    "fieldgate.conf:2: sources.sx130x.radio_type: an SX1301 works with SX1255 or "
		    "SX1257 radios, not the SX1250");
	/* lora_gateway's limits, which are narrower than sx1302_hal's. */
	assert_diag(3, "fieldgate.conf:4: sources.sx130x.channels: channel 3: IF +450000 Hz with "
		       "125 kHz bandwidth reaches outside the 925 kHz an sx1301 radio hears");
	assert_diag(4, "fieldgate.conf:5: sources.sx130x.channels: channel lora_std: IF +400000 Hz "
		       "with 250 kHz bandwidth reaches outside the 1000 kHz an sx1301 radio hears");
	ck_assert_uint_eq(diags.n, 5);
	/* The same channel fits an SX1302's radio, which hears 1.6 MHz; 750 kHz off does not. */
	fg_config_free(cfg);
	cfg = NULL;
	fg_diags_clear(&diags);
	ck_assert_int_eq(load("sources = { sx130x = { board = \"rak2287\";\n"
			      "  channels = ( { channel = 3; if = 450000; },\n"
			      "               { channel = 4; if = -750000; } ); }; };\n"),
			 0);
	ck_assert_int_eq(fg_sx130x_setup_resolve(cfg, &s, &diags), -EINVAL);
	assert_diag(0, "fieldgate.conf:3: sources.sx130x.channels: channel 4: IF -750000 Hz with "
		       "125 kHz bandwidth reaches outside the 1600 kHz an sx1302 radio hears");
	ck_assert_uint_eq(diags.n, 1);
}
END_TEST

START_TEST(sx130x_a_build_without_a_hal_refuses_an_enabled_concentrator)
{
	ck_assert_int_eq(load("gateway = { id = \"g\"; };\n"
			      "sources = { sx130x = { board = \"rak2287\";\n"
			      "  enabled = true; }; };\n"),
			 0);
	ck_assert_int_eq(fg_sx130x_check_config(cfg, FG_SX130X_HAL_NONE, &diags), -EOPNOTSUPP);
	assert_diag(0,
		    "fieldgate.conf:3: sources.sx130x.enabled: this fieldgated was built without "
		    "concentrator support (libloragw): build it with ./configure "
		    "--with-loragw=DIR, DIR a built Semtech HAL (see README, \"LoRa "
		    "concentrator\"), or take frames from a packet forwarder with sources.gwmp");
	ck_assert_uint_eq(diags.n, 1);
	/* The same file passes where the HAL drives the board's chip. */
	fg_diags_clear(&diags);
	ck_assert_int_eq(fg_sx130x_check_config(cfg, FG_SX130X_HAL_SX1302, &diags), 0);
	ck_assert_uint_eq(diags.n, 0);
}
END_TEST

START_TEST(sx130x_a_disabled_concentrator_passes_any_build)
{
	ck_assert_int_eq(
		load("sources = { sx130x = { board = \"rak2245\"; spi = \"/dev/x\"; }; };\n"), 0);
	ck_assert_int_eq(fg_sx130x_check_config(cfg, FG_SX130X_HAL_NONE, &diags), 0);
	ck_assert_int_eq(fg_sx130x_check_config(cfg, FG_SX130X_HAL_SX1302, &diags), 0);
	ck_assert_uint_eq(diags.n, 0);
}
END_TEST

START_TEST(sx130x_the_wrong_hal_for_the_chip_is_refused)
{
	ck_assert_int_eq(load("sources = { sx130x = { enabled = true; board = \"rak2245\";\n"
			      "  spi = \"/dev/spidev1.0\"; }; };\n"),
			 0);
	ck_assert_int_eq(fg_sx130x_check_config(cfg, FG_SX130X_HAL_SX1302, &diags), -EINVAL);
	assert_diag(0, "fieldgate.conf:1: sources.sx130x.chip: this fieldgated was built with "
		       "sx1302_hal, which drives the SX1302 and SX1303, not an SX1301: build it "
		       "with --with-loragw pointing at a built lora_gateway");
	fg_diags_clear(&diags);
	ck_assert_int_eq(fg_sx130x_check_config(cfg, FG_SX130X_HAL_SX1301, &diags), -EINVAL);
	assert_diag(0, "fieldgate.conf:1: sources.sx130x.spi: lora_gateway always opens "
		       "/dev/spidev0.0 (SPI_DEV_PATH in its loragw_spi.native.c), not "
		       "'/dev/spidev1.0'");
	ck_assert_uint_eq(diags.n, 1);
}
END_TEST

/* ---------------------------------------------------------------- the source */

/* A GPIO chip that writes down what it is asked, with the monotonic time. */
#define EVENTS_MAX 32
static struct {
	char what[EVENTS_MAX][64];
	uint64_t usec[EVENTS_MAX];
	size_t n;
	int fail_request;    /* errno to fail line_request with, 0: succeed */
	unsigned request_ms; /* how long line_request takes, as on a loaded Pi Zero */
} gpio;

struct fg_gpio_line {
	unsigned offset;
};

static void event(const char *fmt, unsigned offset, int value)
{
	ck_assert_uint_lt(gpio.n, EVENTS_MAX);
	snprintf(gpio.what[gpio.n], sizeof(gpio.what[0]), fmt, offset, value);
	gpio.usec[gpio.n++] = fg_clock_mono_usec();
}

static int rec_request(const char *chip, unsigned offset, int initial, const char *consumer,
		       struct fg_gpio_line **ret)
{
	struct fg_gpio_line *l;

	ck_assert_str_eq(chip, "gpiochip0");
	if (gpio.fail_request)
		return -gpio.fail_request;
	if (gpio.request_ms) {
		struct timespec ts = { .tv_nsec = (long) gpio.request_ms * 1000000L };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	l = calloc(1, sizeof(*l));
	l->offset = offset;
	event("request %u = %d", offset, initial);
	*ret = l;
	return 0;
}

static int rec_set(struct fg_gpio_line *l, int value)
{
	event("set %u = %d", l->offset, value);
	return 0;
}

static void rec_release(struct fg_gpio_line *l)
{
	event("release %u%.0d", l->offset, 0);
	free(l);
}

static const struct fg_gpio_ops rec_ops = { rec_request, rec_set, rec_release };

/* What the frame and stat callbacks were given. */
#define FRAMES_MAX 8
static struct {
	uint8_t phy[FRAMES_MAX][64];
	size_t len[FRAMES_MAX];
	struct fg_radio_meta radio[FRAMES_MAX];
	size_t n;
	struct fg_sx130x_stat stat;
	char stat_device[32];
	size_t n_stat;
} got;

static void on_frame(const uint8_t *phy, size_t len, const struct fg_radio_meta *radio,
		     void *userdata)
{
	ck_assert_uint_lt(got.n, FRAMES_MAX);
	ck_assert_uint_le(len, sizeof(got.phy[0]));
	memcpy(got.phy[got.n], phy, len);
	got.len[got.n] = len;
	got.radio[got.n++] = *radio;
}

static void on_stat(const struct fg_sx130x_stat *st, void *userdata)
{
	got.stat = *st;
	snprintf(got.stat_device, sizeof(got.stat_device), "%s", st->device);
	got.n_stat++;
}

static const struct fg_sx130x_handlers handlers = { on_frame, on_stat };

static void write_script(const char *text)
{
	FILE *f = fopen(script_path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* The lines of the double's record file that start with prefix, joined by '|'. */
static char *recorded(const char *prefix)
{
	static char out[8192];
	char line[1024];
	FILE *f = fopen(record_path, "r");

	out[0] = '\0';
	if (!f)
		return out;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, prefix, strlen(prefix)) != 0)
			continue;
		if (out[0])
			strncat(out, "|", sizeof(out) - strlen(out) - 1);
		strncat(out, line, sizeof(out) - strlen(out) - 1);
	}
	fclose(f);
	return out;
}

static bool is_running(struct fg_sx130x *s)
{
	struct fg_sx130x_stats st;

	fg_sx130x_get_stats(s, &st);
	return st.state == FG_SX130X_RUNNING;
}

/* Run the loop until done(s) or timeout_usec passes; returns done(s). */
/*
 * Run the loop until done, or give up after timeout_usec times ten: the
 * bound is there to end a hung test, not to time the source, and a loaded
 * 2-core machine under qemu-user is many times slower than the figures.
 */
static bool run_until(sd_event *loop, struct fg_sx130x *s, bool (*done)(struct fg_sx130x *),
		      uint64_t timeout_usec)
{
	uint64_t end = fg_clock_mono_usec() + 10 * timeout_usec;

	while (!done(s) && fg_clock_mono_usec() < end)
		ck_assert_int_ge(sd_event_run(loop, 20 * FG_USEC_PER_MSEC), 0);
	return done(s);
}

/* Run the loop for usec, for what must not happen in that time. */
static void run_for(sd_event *loop, uint64_t usec)
{
	uint64_t end = fg_clock_mono_usec() + usec;

	while (fg_clock_mono_usec() < end)
		ck_assert_int_ge(sd_event_run(loop, 20 * FG_USEC_PER_MSEC), 0);
}

static bool has_two_frames(struct fg_sx130x *s)
{
	return got.n >= 2;
}

static bool has_stat(struct fg_sx130x *s)
{
	return got.n_stat >= 1;
}

static struct fg_sx130x *start_source(sd_event **ret_loop, const char *extra)
{
	char text[512];
	struct fg_sx130x *s = NULL;

	memset(&gpio, 0, sizeof(gpio));
	memset(&got, 0, sizeof(got));
	snprintf(text, sizeof(text),
		 "gateway = { id = \"gw-test\"; };\n"
		 "sources = { sx130x = { enabled = true; board = \"corecell\"; %s }; };\n",
		 extra);
	ck_assert_int_eq(load(text), 0);
	ck_assert_int_eq(sd_event_new(ret_loop), 0);
	ck_assert_int_eq(fg_sx130x_new(cfg, *ret_loop, &rec_ops, &handlers, NULL, &s), 0);
	return s;
}

START_TEST(sx130x_reset_sequence_powers_then_pulses_reset_before_the_start)
{
	sd_event *loop;
	struct fg_sx130x *s = start_source(&loop, "");

	write_script("");
	ck_assert(run_until(loop, s, is_running, 3 * FG_USEC_PER_SEC));
	/* CoreCell: power enable GPIO18, reset GPIO23, as Semtech's reset_lgw.sh drives them. */
	ck_assert_uint_eq(gpio.n, 5);
	ck_assert_str_eq(gpio.what[0], "request 18 = 0");
	ck_assert_str_eq(gpio.what[1], "set 18 = 1");
	ck_assert_str_eq(gpio.what[2], "request 23 = 0");
	ck_assert_str_eq(gpio.what[3], "set 23 = 1");
	ck_assert_str_eq(gpio.what[4], "set 23 = 0");
	/* 100 ms between the power and the reset pulse, 100 ms of pulse. */
	ck_assert_uint_ge(gpio.usec[3] - gpio.usec[1], 95 * FG_USEC_PER_MSEC);
	ck_assert_uint_ge(gpio.usec[4] - gpio.usec[3], 95 * FG_USEC_PER_MSEC);
	ck_assert_str_eq(recorded("lgw_start"), "lgw_start result=ok");
	ck_assert_str_eq(recorded("lgw_board"),
			 "lgw_board_setconf lorawan_public=1 clksrc=0 "
			 "full_duplex=0 com_type=spi com_path=/dev/spidev0.0");
	fg_sx130x_free(s);
	ck_assert_str_eq(recorded("lgw_stop"), "lgw_stop was_started=1");
	ck_assert_str_eq(gpio.what[gpio.n - 2], "release 23");
	ck_assert_str_eq(gpio.what[gpio.n - 1], "release 18");
	sd_event_unref(loop);
}
END_TEST

/*
 * The steps are 100 ms apart from the line change before them, however long
 * the step took: a GPIO request that takes 30 ms (a loaded Pi Zero, or qemu)
 * may not shorten the wait between power and reset. Timers armed from the
 * loop's wake-up, not from the change, did (seen under qemu-aarch64).
 */
START_TEST(sx130x_slow_gpio_requests_do_not_shorten_the_reset_steps)
{
	sd_event *loop;
	struct fg_sx130x *s = start_source(&loop, "");

	gpio.request_ms = 30;
	write_script("");
	ck_assert(run_until(loop, s, is_running, 3 * FG_USEC_PER_SEC));
	ck_assert_uint_eq(gpio.n, 5);
	ck_assert_str_eq(gpio.what[1], "set 18 = 1");
	ck_assert_str_eq(gpio.what[3], "set 23 = 1");
	ck_assert_str_eq(gpio.what[4], "set 23 = 0");
	ck_assert_uint_ge(gpio.usec[3] - gpio.usec[2], 95 * FG_USEC_PER_MSEC);
	ck_assert_uint_ge(gpio.usec[3] - gpio.usec[1], 95 * FG_USEC_PER_MSEC);
	ck_assert_uint_ge(gpio.usec[4] - gpio.usec[3], 95 * FG_USEC_PER_MSEC);
	fg_sx130x_free(s);
	sd_event_unref(loop);
}
END_TEST

START_TEST(sx130x_good_frames_are_handed_on_and_bad_ones_counted)
{
	sd_event *loop;
	struct fg_sx130x *s;
	struct fg_sx130x_stats st;
	uint64_t eui;

	write_script("temperature 41.25\n"
		     "rx freq=868100000 if=0 rf=1 sf=12 bw=125000 cr=4/5 rssi=-120.6 snr=-17.5 "
		     "crc=ok count_us=4294000000 payload=40da1b0126\n"
		     "rx freq=868300000 crc=bad payload=0102\n"
		     "rx freq=868300000 crc=none payload=60da1b01\n"
		     "rx freq=868800000 mod=fsk datarate=50000 crc=ok payload=4001020304\n");
	setenv("FG_LORAGW_EUI", "0016C001FF10A235", 1);
	s = start_source(&loop, "stat_interval = 1;");
	ck_assert(run_until(loop, s, has_two_frames, 3 * FG_USEC_PER_SEC));
	ck_assert_uint_eq(got.n, 2);
	ck_assert_uint_eq(got.len[0], 5);
	ck_assert_mem_eq(got.phy[0], "\x40\xda\x1b\x01\x26", 5);
	ck_assert(got.radio[0].present);
	ck_assert_int_eq(got.radio[0].rssi, -121);
	ck_assert(got.radio[0].snr == -17.5f);
	ck_assert_uint_eq(got.radio[0].freq_hz, 868100000);
	ck_assert_uint_eq(got.radio[0].sf, 12);
	ck_assert_uint_eq(got.radio[0].bw_hz, 125000);
	ck_assert_uint_eq(got.radio[0].tmst, 4294000000u);
	/* An FSK frame (EU868 DR7) goes on too, without SF or bandwidth. */
	ck_assert_uint_eq(got.radio[1].sf, 0);
	ck_assert_uint_eq(got.radio[1].freq_hz, 868800000);
	fg_sx130x_get_stats(s, &st);
	ck_assert_uint_eq(st.rx_packets, 4);
	ck_assert_uint_eq(st.rx_crc_ok, 2);
	ck_assert_uint_eq(st.rx_crc_bad, 1);
	ck_assert_uint_eq(st.rx_no_crc, 1);
	ck_assert_uint_eq(st.frames, 2);
	ck_assert_int_eq(fg_sx130x_eui(s, &eui), 0);
	ck_assert_uint_eq(eui, 0x0016C001FF10A235ULL);
	ck_assert(run_until(loop, s, has_stat, 3 * FG_USEC_PER_SEC));
	ck_assert_str_eq(got.stat_device, "0016c001ff10a235");
	ck_assert_uint_eq(got.stat.rx_received, 4);
	ck_assert_uint_eq(got.stat.rx_crc_bad, 1);
	ck_assert_uint_eq(got.stat.rx_forwarded, 2);
	ck_assert(got.stat.has_temperature && got.stat.temperature == 41.25f);
	fg_sx130x_free(s);
	sd_event_unref(loop);
}
END_TEST

/* ---------------------------------------------------------------- the transmit queue */

/*
 * How long before its time a queued transmission reaches lgw_send(): the
 * source hands it over 40 ms ahead, and drops it once under 5 ms.
 */
#define LEAD_MAX_USEC 40000
#define LEAD_MIN_USEC 4000

/* One lgw_send line of the double's record. */
struct sent {
	uint32_t count_us;
	uint32_t counter; /* the double's counter at the call */
	unsigned first;	  /* the payload's first byte: which one it was */
	char mode[16];
	char status[16]; /* the TX modem's when it was called */
};

static const char *field(const char *line, const char *key)
{
	char k[32];
	const char *p;

	snprintf(k, sizeof(k), " %s=", key);
	p = strstr(line, k);
	ck_assert_msg(p != NULL, "no %s in '%s'", key, line);
	return p + strlen(k);
}

/* The lgw_send calls recorded so far, up to max of them into out; returns how many there were. */
static size_t sends(struct sent *out, size_t max)
{
	char line[1024];
	size_t n = 0;
	FILE *f = fopen(record_path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "lgw_send ", 9) != 0)
			continue;
		if (n < max) {
			struct sent *x = &out[n];

			x->count_us = (uint32_t) strtoul(field(line, "count_us"), NULL, 10);
			x->counter = (uint32_t) strtoul(field(line, "counter"), NULL, 10);
			ck_assert_int_eq(sscanf(field(line, "payload"), "%2x", &x->first), 1);
			ck_assert_int_eq(sscanf(field(line, "tx_mode"), "%15s", x->mode), 1);
			ck_assert_int_eq(sscanf(field(line, "tx_status"), "%15s", x->status), 1);
		}
		n++;
	}
	fclose(f);
	return n;
}

/* How long before its time x was handed over, on the wrapping counter. */
static int64_t lead(const struct sent *x)
{
	return (int32_t) (x->count_us - x->counter);
}

/* x reached lgw_send() just in time: within 40 ms of its time, and not late. */
static void assert_in_time(const struct sent *x)
{
	ck_assert_int_le(lead(x), LEAD_MAX_USEC);
	ck_assert_int_ge(lead(x), LEAD_MIN_USEC);
}

static size_t want_sends;

static bool has_restarted(struct fg_sx130x *s);

static bool has_sends(struct fg_sx130x *s)
{
	return sends(NULL, 0) >= want_sends;
}

static bool has_late(struct fg_sx130x *s)
{
	struct fg_sx130x_stats st;

	fg_sx130x_get_stats(s, &st);
	return st.tx_late >= 1;
}

/* The concentrator's counter now. */
static uint32_t counter_now(struct fg_sx130x *s)
{
	uint32_t c;

	ck_assert_int_eq(fg_sx130x_counter(s, &c), 0);
	return c;
}

/* An EU868 RX1 answer at SF7 for count_us, its payload starting with mark. */
static struct fg_lw_txpk txpk(uint32_t count_us, uint8_t mark)
{
	return (struct fg_lw_txpk){
		.count_us = count_us,
		.freq_hz = 868100000,
		.dr = 5,
		.rate = { .sf = 7, .bw_hz = 125000 },
		.cr = 1,
		.power_dbm = 14,
		.preamble = 8,
		.invert_pol = true,
		.no_crc = true,
		.payload = { mark, 0xda, 0x1b, 0x01, 0x26 },
		.len = 5,
	};
}

/* A source started on the double, running. */
static struct fg_sx130x *running_source(sd_event **ret_loop, const char *script)
{
	struct fg_sx130x *s;

	write_script(script);
	s = start_source(ret_loop, "");
	ck_assert(run_until(*ret_loop, s, is_running, 3 * FG_USEC_PER_SEC));
	return s;
}

START_TEST(sx130x_send_hands_the_hal_a_timestamped_packet_just_in_time)
{
	sd_event *loop;
	struct fg_sx130x *s;
	struct fg_sx130x_stats st;
	struct sent x[2];
	char expected[512];
	struct fg_lw_txpk tx = txpk(0, 0x60);

	tx.power_dbm = 16;
	write_script("");
	s = start_source(&loop, "antenna_gain = 2;");
	ck_assert_int_eq(fg_sx130x_send(s, &tx), -EAGAIN); /* not started yet */
	ck_assert(run_until(loop, s, is_running, 3 * FG_USEC_PER_SEC));
	tx.count_us = counter_now(s) + 300000;
	ck_assert_int_eq(fg_sx130x_send(s, &tx), 0);
	/* Queued, not handed over 300 ms early. */
	ck_assert_str_eq(recorded("lgw_send"), "");
	want_sends = 1;
	ck_assert(run_until(loop, s, has_sends, 2 * FG_USEC_PER_SEC));
	snprintf(expected, sizeof(expected),
		 "lgw_send freq_hz=868100000 tx_mode=timestamped count_us=%u rf_chain=0 "
		 "rf_power=14 modulation=lora bandwidth=125000 datarate=7 coderate=4/5 "
		 "invert_pol=1 preamble=8 no_crc=1 no_header=0 size=5 payload=60da1b0126 counter=",
		 (unsigned) tx.count_us);
	ck_assert_int_eq(strncmp(recorded("lgw_send"), expected, strlen(expected)), 0);
	ck_assert_uint_eq(sends(x, 1), 1);
	assert_in_time(&x[0]);
	ck_assert_str_eq(x[0].status, "free");
	/* RX2 in EU868, 869.525 MHz SF12, sent immediately once the first is over. */
	run_for(loop, 150 * FG_USEC_PER_MSEC);
	tx.immediate = true;
	tx.freq_hz = 869525000;
	tx.rate.sf = 12;
	ck_assert_int_eq(fg_sx130x_send(s, &tx), 0);
	ck_assert_uint_eq(sends(x, 2), 2);
	ck_assert_str_eq(x[1].mode, "immediate");
	ck_assert_str_eq(x[1].status, "free");
	ck_assert_ptr_nonnull(strstr(recorded("lgw_send"), "|lgw_send freq_hz=869525000 "
							   "tx_mode=immediate"));
	tx.rate.sf = 4; /* no such spreading factor */
	ck_assert_int_eq(fg_sx130x_send(s, &tx), -EINVAL);
	fg_sx130x_get_stats(s, &st);
	ck_assert_uint_eq(st.tx_queued, 1);
	ck_assert_uint_eq(st.tx_sent, 2);
	ck_assert_uint_eq(st.tx_failed, 1);
	fg_sx130x_free(s);
	sd_event_unref(loop);
}
END_TEST

START_TEST(sx130x_queue_hands_over_in_time_order)
{
	sd_event *loop;
	struct fg_sx130x *s = running_source(&loop, "");
	struct fg_sx130x_stats st;
	struct sent x[3];
	uint32_t c = counter_now(s);
	struct fg_lw_txpk a = txpk(c + 700000, 0xa0), b = txpk(c + 300000, 0xb0),
			  d = txpk(c + 500000, 0xd0);

	ck_assert_int_eq(fg_sx130x_send(s, &a), 0);
	ck_assert_int_eq(fg_sx130x_send(s, &b), 0);
	ck_assert_int_eq(fg_sx130x_send(s, &d), 0);
	want_sends = 3;
	ck_assert(run_until(loop, s, has_sends, 3 * FG_USEC_PER_SEC));
	ck_assert_uint_eq(sends(x, 3), 3);
	ck_assert_uint_eq(x[0].first, 0xb0);
	ck_assert_uint_eq(x[1].first, 0xd0);
	ck_assert_uint_eq(x[2].first, 0xa0);
	for (int i = 0; i < 3; i++) {
		ck_assert_str_eq(x[i].mode, "timestamped");
		assert_in_time(&x[i]);
		/* The one before was over: the modem never had two at once. */
		ck_assert_str_eq(x[i].status, "free");
	}
	fg_sx130x_get_stats(s, &st);
	ck_assert_uint_eq(st.tx_queued, 3);
	ck_assert_uint_eq(st.tx_sent, 3);
	fg_sx130x_free(s);
	sd_event_unref(loop);
}
END_TEST

START_TEST(sx130x_queue_refuses_one_that_overlaps)
{
	sd_event *loop;
	struct fg_sx130x *s = running_source(&loop, "");
	struct fg_sx130x_stats st;
	uint32_t c = counter_now(s);
	struct fg_lw_txpk a = txpk(c + 400000, 0xa0), t;
	/* a on air, then 42.5 ms for the next to be handed over. */
	uint32_t busy = fg_lw_txpk_airtime_us(&a) + 42500;

	ck_assert_uint_gt(fg_lw_txpk_airtime_us(&a), 20000);
	ck_assert_int_eq(fg_sx130x_send(s, &a), 0);
	t = txpk(a.count_us + 50000, 0xb0); /* while a is on air */
	ck_assert_int_eq(fg_sx130x_send(s, &t), -EEXIST);
	t = txpk(a.count_us + busy - 1000, 0xb1); /* a is over, but no time to hand it over */
	ck_assert_int_eq(fg_sx130x_send(s, &t), -EEXIST);
	t = txpk(a.count_us - 50000, 0xb2); /* before a, still on air at a's turn */
	ck_assert_int_eq(fg_sx130x_send(s, &t), -EEXIST);
	t = txpk(a.count_us + busy + 1000, 0xc0);
	ck_assert_int_eq(fg_sx130x_send(s, &t), 0);
	want_sends = 1;
	ck_assert(run_until(loop, s, has_sends, 2 * FG_USEC_PER_SEC));
	/* a is with the modem: an immediate one now would cut it off. */
	t = txpk(0, 0xe0);
	t.immediate = true;
	ck_assert_int_eq(fg_sx130x_send(s, &t), -EEXIST);
	want_sends = 2;
	ck_assert(run_until(loop, s, has_sends, 2 * FG_USEC_PER_SEC));
	fg_sx130x_get_stats(s, &st);
	ck_assert_uint_eq(st.tx_collided, 4);
	ck_assert_uint_eq(st.tx_queued, 2);
	ck_assert_uint_eq(st.tx_sent, 2);
	ck_assert(strstr(recorded("lgw_send"), "payload=a0") &&
		  strstr(recorded("lgw_send"), "payload=c0"));
	ck_assert_ptr_null(strstr(recorded("lgw_send"), "payload=b"));
	ck_assert_ptr_null(strstr(recorded("lgw_send"), "payload=e0"));
	fg_sx130x_free(s);
	sd_event_unref(loop);
}
END_TEST

START_TEST(sx130x_queue_refuses_what_is_too_late)
{
	sd_event *loop;
	struct fg_sx130x *s = running_source(&loop, "");
	struct fg_sx130x_stats st;
	struct sent x;
	uint32_t c = counter_now(s);
	struct fg_lw_txpk t;

	t = txpk(c + 10000, 0xb0);
	ck_assert_int_eq(fg_sx130x_send(s, &t), -ETIME);
	t = txpk(c + 29000, 0xb1);
	ck_assert_int_eq(fg_sx130x_send(s, &t), -ETIME);
	t = txpk(c - 1000000, 0xb2); /* a second ago */
	ck_assert_int_eq(fg_sx130x_send(s, &t), -ETIME);
	/* 35 ms ahead: within the 40 ms lead, handed over at once. */
	t = txpk(counter_now(s) + 35000, 0xa0);
	ck_assert_int_eq(fg_sx130x_send(s, &t), 0);
	want_sends = 1;
	ck_assert(run_until(loop, s, has_sends, FG_USEC_PER_SEC));
	ck_assert_uint_eq(sends(&x, 1), 1);
	ck_assert_uint_eq(x.first, 0xa0);
	assert_in_time(&x);
	fg_sx130x_get_stats(s, &st);
	ck_assert_uint_eq(st.tx_late, 3);
	ck_assert_uint_eq(st.tx_sent, 1);
	fg_sx130x_free(s);
	sd_event_unref(loop);
}
END_TEST

START_TEST(sx130x_queue_waits_while_the_modem_is_emitting)
{
	sd_event *loop;
	/* The modem says it is emitting for the next 3 looks. */
	struct fg_sx130x *s = running_source(&loop, "tx_busy 3\n");
	struct fg_sx130x_stats st;
	struct sent x;
	struct fg_lw_txpk t = txpk(counter_now(s) + 200000, 0xa0);

	ck_assert_int_eq(fg_sx130x_send(s, &t), 0);
	want_sends = 1;
	ck_assert(run_until(loop, s, has_sends, 2 * FG_USEC_PER_SEC));
	ck_assert_uint_eq(sends(&x, 1), 1);
	/* Three looks 2 ms apart: at most 34 ms ahead, but still in time. */
	assert_in_time(&x);
	ck_assert_int_le(lead(&x), 34500);
	ck_assert_str_eq(x.status, "free");
	fg_sx130x_get_stats(s, &st);
	ck_assert_uint_eq(st.tx_sent, 1);
	ck_assert_uint_eq(st.tx_late, 0);
	fg_sx130x_free(s);
	sd_event_unref(loop);
}
END_TEST

START_TEST(sx130x_queue_drops_what_the_busy_modem_made_late)
{
	sd_event *loop;
	struct fg_sx130x *s = running_source(&loop, "tx_busy 1000\n");
	struct fg_sx130x_stats st;
	struct fg_lw_txpk t = txpk(counter_now(s) + 200000, 0xb0);

	ck_assert_int_eq(fg_sx130x_send(s, &t), 0);
	ck_assert(run_until(loop, s, has_late, 2 * FG_USEC_PER_SEC));
	fg_sx130x_get_stats(s, &st);
	ck_assert_uint_eq(st.tx_late, 1);
	ck_assert_uint_eq(st.tx_sent, 0);
	ck_assert_str_eq(recorded("lgw_send"), "");
	fg_sx130x_free(s);
	sd_event_unref(loop);
}
END_TEST

START_TEST(sx130x_queue_refuses_what_is_too_far_ahead)
{
	sd_event *loop;
	struct fg_sx130x *s = running_source(&loop, "");
	struct fg_sx130x_stats st;
	uint32_t c = counter_now(s);
	struct fg_lw_txpk t;

	t = txpk(c + 10500000, 0xb0);
	ck_assert_int_eq(fg_sx130x_send(s, &t), -ERANGE);
	t = txpk(c + 0x7fffffffu, 0xb1); /* the farthest ahead a wrapping counter says */
	ck_assert_int_eq(fg_sx130x_send(s, &t), -ERANGE);
	t = txpk(c + 0x80000000u + 1000000, 0xb2); /* by the wrapping counter: behind */
	ck_assert_int_eq(fg_sx130x_send(s, &t), -ETIME);
	t = txpk(c + 9500000, 0xa0);
	ck_assert_int_eq(fg_sx130x_send(s, &t), 0);
	fg_sx130x_get_stats(s, &st);
	ck_assert_uint_eq(st.tx_too_far, 2);
	ck_assert_uint_eq(st.tx_late, 1);
	ck_assert_uint_eq(st.tx_queued, 1);
	ck_assert_str_eq(recorded("lgw_send"), "");
	fg_sx130x_free(s);
	sd_event_unref(loop);
}
END_TEST

START_TEST(sx130x_queue_orders_and_collides_across_the_counter_wrap)
{
	sd_event *loop;
	/* The counter starts 500 ms before it wraps. */
	struct fg_sx130x *s = running_source(&loop, "counter_start 4294467296\n");
	struct fg_sx130x_stats st;
	struct sent x[2];
	struct fg_lw_txpk before = txpk(4294967296u - 30000, 0xa0), after = txpk(200000, 0xb0),
			  across = txpk(30000, 0xc0);

	ck_assert_uint_gt(counter_now(s), 4294467296u); /* not wrapped yet */
	ck_assert_int_eq(fg_sx130x_send(s, &after), 0);
	ck_assert_int_eq(fg_sx130x_send(s, &before), 0);
	/* 60 ms after `before`, on the other side of the wrap: while it is on air. */
	ck_assert_int_eq(fg_sx130x_send(s, &across), -EEXIST);
	want_sends = 2;
	ck_assert(run_until(loop, s, has_sends, 3 * FG_USEC_PER_SEC));
	ck_assert_uint_eq(sends(x, 2), 2);
	ck_assert_uint_eq(x[0].count_us, before.count_us);
	ck_assert_uint_eq(x[1].count_us, after.count_us);
	ck_assert_uint_lt(x[1].counter, 1000000); /* the counter had wrapped */
	assert_in_time(&x[0]);
	assert_in_time(&x[1]);
	fg_sx130x_get_stats(s, &st);
	ck_assert_uint_eq(st.tx_sent, 2);
	ck_assert_uint_eq(st.tx_collided, 1);
	fg_sx130x_free(s);
	sd_event_unref(loop);
}
END_TEST

START_TEST(sx130x_queue_holds_sixteen)
{
	sd_event *loop;
	struct fg_sx130x *s = running_source(&loop, "");
	struct fg_sx130x_stats st;
	uint32_t c = counter_now(s);
	struct fg_lw_txpk t;

	for (unsigned i = 0; i < 16; i++) {
		t = txpk(c + 200000 + i * 100000, (uint8_t) i);
		ck_assert_int_eq(fg_sx130x_send(s, &t), 0);
	}
	t = txpk(c + 200000 + 16 * 100000, 0x10);
	ck_assert_int_eq(fg_sx130x_send(s, &t), -ENOBUFS);
	fg_sx130x_get_stats(s, &st);
	ck_assert_uint_eq(st.tx_queued, 16);
	ck_assert_uint_eq(st.tx_queue_full, 1);
	/* One handed over makes room for one more. */
	want_sends = 1;
	ck_assert(run_until(loop, s, has_sends, 2 * FG_USEC_PER_SEC));
	ck_assert_int_eq(fg_sx130x_send(s, &t), 0);
	fg_sx130x_get_stats(s, &st);
	ck_assert_uint_eq(st.tx_queued, 17);
	fg_sx130x_free(s);
	sd_event_unref(loop);
}
END_TEST

START_TEST(sx130x_queue_is_dropped_when_the_concentrator_is_reset)
{
	sd_event *loop;
	struct fg_sx130x *s = running_source(&loop, "pause 100\nreceive_fail 5\n");
	struct fg_sx130x_stats st;
	uint32_t c = counter_now(s);
	struct fg_lw_txpk a = txpk(c + 2000000, 0xa0), b = txpk(c + 3000000, 0xb0);

	ck_assert_int_eq(fg_sx130x_send(s, &a), 0);
	ck_assert_int_eq(fg_sx130x_send(s, &b), 0);
	ck_assert(run_until(loop, s, has_restarted, 5 * FG_USEC_PER_SEC));
	fg_sx130x_get_stats(s, &st);
	ck_assert_uint_eq(st.tx_lost, 2);
	/* The counter started over: nothing queued for the old one is sent. */
	run_for(loop, 2500 * FG_USEC_PER_MSEC);
	ck_assert_str_eq(recorded("lgw_send"), "");
	fg_sx130x_free(s);
	sd_event_unref(loop);
}
END_TEST

static bool has_failed_once(struct fg_sx130x *s)
{
	struct fg_sx130x_stats st;

	fg_sx130x_get_stats(s, &st);
	return st.start_failures >= 1;
}

START_TEST(sx130x_a_failed_start_is_tried_again_after_a_second)
{
	sd_event *loop;
	struct fg_sx130x *s;
	struct fg_sx130x_stats st;
	uint64_t failed, started;

	write_script("start_fail 1\n");
	s = start_source(&loop, "");
	ck_assert(run_until(loop, s, has_failed_once, 3 * FG_USEC_PER_SEC));
	failed = fg_clock_mono_usec();
	fg_sx130x_get_stats(s, &st);
	ck_assert_int_eq(st.state, FG_SX130X_WAITING);
	ck_assert(run_until(loop, s, is_running, 5 * FG_USEC_PER_SEC));
	started = fg_clock_mono_usec();
	/* One second of back-off, then the 300 ms reset sequence again. */
	ck_assert_uint_ge(started - failed, 1300 * FG_USEC_PER_MSEC - 50 * FG_USEC_PER_MSEC);
	fg_sx130x_get_stats(s, &st);
	ck_assert_uint_eq(st.start_failures, 1);
	ck_assert_uint_eq(st.starts, 1);
	ck_assert_str_eq(recorded("lgw_start"), "lgw_start result=error|lgw_start result=ok");
	fg_sx130x_free(s);
	sd_event_unref(loop);
}
END_TEST

START_TEST(sx130x_a_busy_reset_line_is_a_failed_start_not_an_error)
{
	sd_event *loop;
	struct fg_sx130x *s;
	struct fg_sx130x_stats st;

	write_script("");
	s = start_source(&loop, "");
	gpio.fail_request = EBUSY;
	ck_assert(run_until(loop, s, has_failed_once, 3 * FG_USEC_PER_SEC));
	fg_sx130x_get_stats(s, &st);
	ck_assert_int_eq(st.state, FG_SX130X_WAITING);
	ck_assert_str_eq(recorded("lgw_"), ""); /* the HAL was not touched */
	gpio.fail_request = 0;
	ck_assert(run_until(loop, s, is_running, 5 * FG_USEC_PER_SEC));
	fg_sx130x_free(s);
	ck_assert_str_eq(recorded("lgw_stop"), "lgw_stop was_started=1");
	sd_event_unref(loop);
}
END_TEST

static bool has_restarted(struct fg_sx130x *s)
{
	struct fg_sx130x_stats st;

	fg_sx130x_get_stats(s, &st);
	return st.starts >= 2;
}

START_TEST(sx130x_a_concentrator_that_stops_answering_is_reset)
{
	sd_event *loop;
	struct fg_sx130x *s;
	struct fg_sx130x_stats st;

	write_script("receive_fail 5\n");
	s = start_source(&loop, "");
	ck_assert(run_until(loop, s, has_restarted, 5 * FG_USEC_PER_SEC));
	fg_sx130x_get_stats(s, &st);
	ck_assert_uint_eq(st.receive_errors, 5);
	ck_assert_str_eq(recorded("lgw_st"), "lgw_start result=ok|lgw_stop was_started=1|"
					     "lgw_start result=ok");
	fg_sx130x_free(s);
	sd_event_unref(loop);
}
END_TEST

START_TEST(sx130x_only_one_source_drives_the_hal)
{
	sd_event *loop;
	struct fg_sx130x *s, *other = NULL;

	write_script("");
	s = start_source(&loop, "");
	ck_assert_int_eq(fg_sx130x_new(cfg, loop, &rec_ops, &handlers, NULL, &other), -EBUSY);
	ck_assert_ptr_null(other);
	fg_sx130x_free(s);
	ck_assert_int_eq(fg_sx130x_new(cfg, loop, &rec_ops, &handlers, NULL, &other), 0);
	fg_sx130x_free(other);
	fg_sx130x_free(NULL);
	sd_event_unref(loop);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sx130x");
	TCase *tc;

	tc = tcase_create("setup");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, sx130x_board_preset_gives_lines_clock_radio_and_chip);
	tcase_add_test(tc, sx130x_every_board_has_its_facts);
	tcase_add_test(tc, sx130x_file_settings_win_over_the_board);
	tcase_add_test(tc, sx130x_none_drives_no_line);
	tcase_add_test(tc, sx130x_plan_is_the_regions_with_the_files_changes);
	tcase_add_test(tc, sx130x_sub_band_outside_us915_and_au915_is_a_warning);
	tcase_add_test(tc, sx130x_impossible_channels_and_boards_are_refused);
	tcase_add_test(tc, sx130x_a_build_without_a_hal_refuses_an_enabled_concentrator);
	tcase_add_test(tc, sx130x_a_disabled_concentrator_passes_any_build);
	tcase_add_test(tc, sx130x_the_wrong_hal_for_the_chip_is_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("source");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, sx130x_reset_sequence_powers_then_pulses_reset_before_the_start);
	tcase_add_test(tc, sx130x_slow_gpio_requests_do_not_shorten_the_reset_steps);
	tcase_add_test(tc, sx130x_good_frames_are_handed_on_and_bad_ones_counted);
	tcase_add_test(tc, sx130x_a_failed_start_is_tried_again_after_a_second);
	tcase_add_test(tc, sx130x_a_busy_reset_line_is_a_failed_start_not_an_error);
	tcase_add_test(tc, sx130x_a_concentrator_that_stops_answering_is_reset);
	tcase_add_test(tc, sx130x_only_one_source_drives_the_hal);
	suite_add_tcase(s, tc);

	tc = tcase_create("transmit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, sx130x_send_hands_the_hal_a_timestamped_packet_just_in_time);
	tcase_add_test(tc, sx130x_queue_hands_over_in_time_order);
	tcase_add_test(tc, sx130x_queue_refuses_one_that_overlaps);
	tcase_add_test(tc, sx130x_queue_refuses_what_is_too_late);
	tcase_add_test(tc, sx130x_queue_waits_while_the_modem_is_emitting);
	tcase_add_test(tc, sx130x_queue_drops_what_the_busy_modem_made_late);
	tcase_add_test(tc, sx130x_queue_refuses_what_is_too_far_ahead);
	tcase_add_test(tc, sx130x_queue_orders_and_collides_across_the_counter_wrap);
	tcase_add_test(tc, sx130x_queue_holds_sixteen);
	tcase_add_test(tc, sx130x_queue_is_dropped_when_the_concentrator_is_reset);
	suite_add_tcase(s, tc);
	return fg_check_main(s);
}
