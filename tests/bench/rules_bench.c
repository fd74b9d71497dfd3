/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * rules_bench: the rule engine's cost per reading on one core, through
 * fg_rules_frame with an operator's kind of rule set (plausibility drops,
 * a rename, a calibration, alerts with hysteresis, deadbands with
 * heartbeats, a window, a unit conversion; most rules match only some
 * readings) and no persistence. Frames of three readings (temperature,
 * humidity, battery) from DEVICES simulated devices in turn, values moving,
 * wall times rising so that windows close; all built before the clock
 * starts. The sink only counts. 0 rules measures the loop and the sink.
 *
 *   rules_bench N_RULES SECONDS     run for SECONDS, print one line:
 *       ns/reading readings/s readings frames-out readings-out dropped
 *       suppressed alerts windows
 *   rules_bench N_RULES --count C   exactly C frames, same line (for callgrind)
 *   rules_bench N_RULES --print     the rules section used (for scripts/bench)
 *
 * N_RULES is 0, 1, 10 or 50: 1 is a plausibility drop_if on every
 * temperature; 10 the set described above; 50 adds per-device calibrations
 * and stuck-sensor drops for 40 devices.
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "config/config.h"
#include "core/log.h"
#include "core/reading.h"
#include "rules/rules.h"
#include "util/parse.h"

#define DEVICES	  200
#define ROUNDS	  20 /* frames built: every device ROUNDS times */
#define FRAMES	  (DEVICES * ROUNDS)
#define PER_FRAME 3
#define STEP_MS	  50 /* wall time between frames: a device reports every 10 s */
#define T0_MS	  UINT64_C(1764072000000)

struct counts {
	unsigned long long frames, readings, alerts;
};

static int count_frame(const struct fg_reading *r, size_t n, void *userdata)
{
	struct counts *c = userdata;

	(void) r;
	c->frames++;
	c->readings += n;
	return 0;
}

static int count_alert(size_t rule, bool raised, const struct fg_reading *r, void *userdata)
{
	struct counts *c = userdata;

	(void) rule;
	(void) raised;
	(void) r;
	c->alerts++;
	return 0;
}

/* The ten rules of a small site, in the order an operator would write them. */
static const char rules_head[] =
	"  # Sensor glitches: implausible values never leave the gateway.\n"
	"  { name = \"plausible-temperature\"; match = \"*/temperature\";\n"
	"    drop_if = \"value < -40 || value > 85\"; },\n"
	"  { name = \"plausible-humidity\"; match = \"*/humidity\";\n"
	"    drop_if = \"value < 0 || value > 100 || battery < 5\"; },\n";
static const char rules_tail[] =
	"  # The dashboard calls it battery_level.\n"
	"  { name = \"battery-level\"; match = \"sim/*/battery\";\n"
	"    quantity = \"battery_level\"; },\n"
	"  # This one reads 3 % high.\n"
	"  { name = \"calibrate-0007\"; match = \"sim/sim-0007/humidity\";\n"
	"    set = \"round(value * 0.97, 1)\"; },\n"
	"  # Alerts with hysteresis, on every reading.\n"
	"  { name = \"too-warm\"; match = \"*/temperature\"; when = \"value > 26\";\n"
	"    alert = { topic = \"site/alerts/too-warm\"; clear_when = \"value < 25\"; }; },\n"
	"  { name = \"battery-low\"; match = \"*/battery_level\"; when = \"value < 20\";\n"
	"    alert = { topic = \"site/alerts/battery\"; clear_when = \"value > 30\";\n"
	"              severity = \"critical\"; }; },\n"
	"  # Report by exception.\n"
	"  { name = \"temperature-deadband\"; match = \"*/temperature\"; deadband = 0.2;\n"
	"    heartbeat = 300; },\n"
	"  { name = \"battery-deadband\"; match = \"*/battery_level\"; deadband = \"2%\";\n"
	"    heartbeat = 3600; },\n"
	"  # Greenhouse row 1: minute statistics of the humidity.\n"
	"  { name = \"greenhouse-humidity\"; match = \"sim/sim-00[01]?/humidity\"; window = 60;\n"
	"    emit = [ \"mean\", \"min\", \"max\" ]; },\n"
	"  # The second site's dashboard reads Fahrenheit.\n"
	"  { name = \"fahrenheit\"; match = \"sim/sim-01[0-4]?/temperature\";\n"
	"    set = \"round(value * 9 / 5 + 32, 1)\"; unit = \"degF\"; }\n";

/* Per-device rules: a calibration offset, a stuck humidity sensor. */
#define OFFSET_RULE                                                                                \
	"  { name = \"offset-%04u\"; match = \"sim/sim-%04u/temperature\";\n"                      \
	"    set = \"value + %.1f\"; },\n"
#define STUCK_RULE                                                                                 \
	"  { name = \"stuck-%04u\"; match = \"sim/sim-%04u/humidity\";\n"                          \
	"    drop_if = \"value == 0\"; },\n"

/* The rules section for n rules (0, 1, 10 or 50) on f. */
static int print_rules(FILE *f, unsigned n)
{
	switch (n) {
	case 0:
		return 0;
	case 1:
		fputs("rules = (\n  { name = \"plausible\"; match = \"*/temperature\";\n"
		      "    drop_if = \"value < -40 || value > 85\"; }\n);\n",
		      f);
		return 0;
	case 10:
	case 50:
		break;
	default:
		return -EINVAL;
	}
	fputs("rules = (\n", f);
	fputs(rules_head, f);
	if (n == 50) {
		fputs("  # Per-device: calibration offsets, and stuck humidity sensors.\n", f);
		for (unsigned i = 1; i <= 40; i++) {
			if (i % 2)
				fprintf(f, OFFSET_RULE, i, i, (double) (i % 7) / 10 - 0.3);
			else
				fprintf(f, STUCK_RULE, i, i);
		}
	}
	fputs(rules_tail, f);
	fputs(");\n", f);
	return 0;
}

/* xorshift64*: reproducible values. */
static double uniform(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return (double) ((x * UINT64_C(2685821657736338717)) >> 11) / 9007199254740992.0;
}

/*
 * Every device ROUNDS times, in turn: temperature swinging around the
 * device's own mean (now and then a glitch far out of range), humidity
 * following it the other way, battery running down (some below 20 %).
 */
static int build_frames(struct fg_reading *frames)
{
	static const char *const quantity[PER_FRAME] = { "temperature", "humidity", "battery" };
	static const char *const unit[PER_FRAME] = { "Cel", "%RH", "%EL" };
	double base[DEVICES], battery[DEVICES], phase[DEVICES];
	uint64_t rng = 1;

	for (size_t d = 0; d < DEVICES; d++) {
		base[d] = 18 + 7 * uniform(&rng);
		battery[d] = 15 + 85 * uniform(&rng);
		phase[d] = 2 * M_PI * uniform(&rng);
	}
	for (size_t f = 0; f < FRAMES; f++) {
		size_t d = f % DEVICES, lap = f / DEVICES;
		struct fg_reading *r = &frames[f * PER_FRAME];
		char id[FG_DEVICE_ID_MAX];
		double temp = base[d] + 2.5 * sin(2 * M_PI * (double) lap / ROUNDS + phase[d]) +
			      0.4 * (uniform(&rng) - 0.5);
		double v[PER_FRAME];

		if (uniform(&rng) < 0.002)
			temp = 327.67; /* a sensor's error value */
		v[0] = round(temp * 100) / 100;
		v[1] = round((95 - 2 * temp + 6 * uniform(&rng)) * 10) / 10;
		battery[d] -= 0.2 * uniform(&rng);
		v[2] = round(battery[d] * 10) / 10;
		snprintf(id, sizeof(id), "sim-%04zu", d + 1);
		for (size_t q = 0; q < PER_FRAME; q++) {
			if (fg_reading_init(&r[q], FG_SOURCE_SIM, id, id, quantity[q], unit[q]) < 0)
				return -ENAMETOOLONG;
			fg_reading_set_number(&r[q], v[q]);
			r[q].time_ms = T0_MS + f * STEP_MS;
			r[q].frame_id = f + 1;
			snprintf(r[q].boot_id, sizeof(r[q].boot_id), "bench");
		}
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Stay on the CPU we started on, so the run is not spread over cores; false if we could not. */
static bool pin(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	if (cpu < 0)
		return false;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: rules_bench 0|1|10|50 SECONDS|--count COUNT|--print\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct fg_reading frames[FRAMES * PER_FRAME];
	struct counts counts = { 0 };
	const struct fg_rules_sink sink = { count_frame, count_alert, &counts };
	struct fg_diags diags = { 0 };
	struct fg_config *cfg = NULL;
	struct fg_rules *rules = NULL;
	struct fg_rules_stats st;
	char *text = NULL;
	size_t text_len = 0;
	uint64_t n_rules, seconds = 0, count = 0, done = 0;
	double t0, t;
	FILE *f;
	int rc = 1;

	if (argc < 3 || fg_parse_u64(argv[1], 0, 50, &n_rules) < 0)
		return usage();
	if (!strcmp(argv[2], "--print")) {
		if (print_rules(stdout, (unsigned) n_rules) < 0)
			return usage();
		return 0;
	}
	if (!strcmp(argv[2], "--count")) {
		if (argc != 4 || fg_parse_u64(argv[3], 1, UINT64_MAX / FRAMES, &count) < 0)
			return usage();
	} else if (argc != 3 || fg_parse_u64(argv[2], 1, 3600, &seconds) < 0) {
		return usage();
	}

	fg_log_set_level(LOG_ERR);
	f = open_memstream(&text, &text_len);
	if (!f)
		return 1;
	if (print_rules(f, (unsigned) n_rules) < 0) {
		(void) fclose(f);
		free(text);
		return usage();
	}
	if (fclose(f) != 0)
		goto out;
	if (fg_config_load_string(text, "bench.conf", &cfg, &diags) < 0) {
		fg_diags_print(&diags, stderr);
		goto out;
	}
	if (cfg->n_rules != n_rules) {
		fprintf(stderr, "rules_bench: %zu rules loaded, wanted %llu\n", cfg->n_rules,
			(unsigned long long) n_rules);
		goto out;
	}
	if (fg_rules_new(cfg, NULL, NULL, &rules) < 0 || build_frames(frames) < 0)
		goto out;
	if (!pin())
		fprintf(stderr, "rules_bench: not pinned to a CPU: %m\n");

	t0 = now();
	for (;;) {
		size_t i;

		for (i = 0; i < FRAMES && (!count || done < count); i++, done++)
			if (fg_rules_frame(rules, &frames[i * PER_FRAME], PER_FRAME, &sink) < 0)
				goto out;
		t = now() - t0;
		if (count ? done >= count : t >= seconds)
			break;
		/* Next pass: the same values, later, so deadbands and windows see time go on. */
		for (i = 0; i < FRAMES * PER_FRAME; i++)
			frames[i].time_ms += (uint64_t) FRAMES * STEP_MS;
	}

	fg_rules_get_stats(rules, &st);
	printf("%.1f %.0f %llu %llu %llu %llu %llu %llu %llu\n",
	       t * 1e9 / (double) (done * PER_FRAME), (double) (done * PER_FRAME) / t,
	       (unsigned long long) (done * PER_FRAME), counts.frames, counts.readings, st.dropped,
	       st.suppressed, counts.alerts, st.windows);
	rc = st.evaluated == done * PER_FRAME ? 0 : 1;
out:
	fg_rules_free(rules);
	fg_config_free(cfg);
	fg_diags_clear(&diags);
	free(text);
	return rc;
}
