/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fieldgated: options, wiring, and the loop.
 *
 *   sources --on_readings--> store (staged; committed every commit interval:
 *   readings -> transform (topic + payload) -> outbox, one transaction)
 *   --peek/ack--> MQTT sink
 *
 * With --dry-run the store and the sink are left out and readings go to
 * standard output as JSON lines.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "cmd/intake.h"
#include "cmd/queue.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/control.h"
#include "core/log.h"
#include "core/reading.h"
#include "rules/pipeline.h"
#include "rules/rule-gpio.h"
#include "rules/rules.h"
#include "sink/format.h"
#include "sink/health.h"
#include "sink/jsonl.h"
#include "sink/mqtt.h"
#include "store/store.h"
#include "util/json.h"
#include "source/ble-rx.h"
#include "source/ble.h"
#include "source/devices.h"
#include "source/gwmp.h"
#include "source/lora.h"
#include "source/sim-ble.h"
#include "source/sim-lora.h"
#include "source/sim.h"
#include "source/sx130x.h"

#define STATUS_PERIOD_USEC (5 * FG_USEC_PER_SEC)
#define RATE_SAMPLES 13 /* 12 status periods: rates over the last minute */
#define HOUSEKEEPING_PERIOD_USEC (10 * FG_USEC_PER_SEC)

enum { EXIT_CONFIG = 1, EXIT_USAGE = 2 };

struct daemon {
	sd_event *loop;
	struct fg_config *cfg;
	const char *config_path;
	bool dry_run;
	int verbosity;           /* -v minus -q */
	const char *debug_modules;
	struct fg_sim *sim;
	struct fg_sim_lora *sim_lora;
	struct fg_sim_ble *sim_ble;
	struct fg_lora *lora;
	struct fg_gwmp *gwmp;
	struct fg_sx130x *sx130x;
	uint64_t concentrator_eui; /* as kept in the buffer, 0 none */
	struct fg_ble *ble;
	struct fg_ble_rx *ble_rx;
	struct fg_store *store;
	struct fg_pipeline *pipeline;
	struct fg_rule_gpio *rule_gpio;
	sd_event_source *window_timer;
	struct fg_mqtt *mqtt;
	struct fg_cmdq *cmdq;            /* commands.enabled: the durable command queue */
	uint64_t sync_errors;            /* the store's failed syncs, as last reported */
	struct fg_cmd_intake *intake;
	sd_event_source *command_timer;
	unsigned command_ticks;
	char command_filter[520];        /* the filter subscribed to, "" none */
	struct fg_control *control;
	uint64_t start_usec;
	sd_event_source *commit_timer;
	uint64_t commit_at;	      /* when the commit timer fires next */
	sd_event_source *stats_timer;
	bool evicting;             /* an eviction episode is going on */
	bool disk_low;		   /* the buffer's filesystem is nearly full (said once) */
	bool clock_known;	   /* the wall clock is known (said once each time it becomes so) */
	uint64_t transform_dropped;
	uint64_t gateway_frames;   /* frame ids for the gateway's own readings */
	uint64_t stamped_episode;  /* messages dated late since the clock became known */
	sd_event_source *status_timer;
	sd_event_source *housekeeping_timer;
	uint64_t readings_in;
	uint64_t readings_out;
	uint64_t readings_dropped;
	uint64_t textfile_due;    /* monotonic usec of the next metrics textfile */
	uint64_t textfile_writes, textfile_failures;
	int sink_error;          /* last sink error, 0 when healthy */
	bool stopping;
	/* counters every status period, for the rates over the last minute */
	struct rate_sample {
		uint64_t usec, in, out;
	} rates[RATE_SAMPLES];
	size_t rates_n, rates_next;
};

/* Remember the counters now; the oldest sample is about a minute old. */
static void rate_sample(struct daemon *d, uint64_t out)
{
	d->rates[d->rates_next] = (struct rate_sample){ fg_clock_mono_usec(), d->readings_in, out };
	d->rates_next = (d->rates_next + 1) % RATE_SAMPLES;
	if (d->rates_n < RATE_SAMPLES)
		d->rates_n++;
}

/* Readings in and messages out per second since the oldest sample (0 before the first). */
static void rates(const struct daemon *d, uint64_t out, double *ret_in, double *ret_out)
{
	const struct rate_sample start = { d->start_usec, 0, 0 };
	const struct rate_sample *o = &start;
	uint64_t dt;

	*ret_in = *ret_out = 0;
	if (d->rates_n > 0)
		o = &d->rates[d->rates_n < RATE_SAMPLES ? 0 : d->rates_next];
	dt = fg_clock_mono_usec() - o->usec;
	/* A reload starts the sink's counters again: no rate until the window has moved on. */
	if (dt < FG_USEC_PER_SEC || out < o->out || d->readings_in < o->in)
		return;
	*ret_in = (double)(d->readings_in - o->in) * FG_USEC_PER_SEC / (double)dt;
	*ret_out = (double)(out - o->out) * FG_USEC_PER_SEC / (double)dt;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: fieldgated [-nqtv] [-c FILE] [-D MODULES]\n"
		"       fieldgated --version | --help\n"
		"\n"
		"LoRa and BLE sensor gateway daemon. Runs in the foreground.\n"
		"\n"
		"  -c, --config FILE     configuration file (default %s)\n"
		"  -t, --check-config    validate the configuration and exit\n"
		"  -n, --dry-run         write readings to standard output as JSON lines\n"
		"  -v, --verbose         log more (repeatable)\n"
		"  -q, --quiet           log less (repeatable)\n"
		"  -D, --debug MODULES   debug logging for these modules (comma-separated, or all)\n"
		"  -V, --version         print the version and exit\n"
		"  -h, --help            print this help and exit\n"
		"\n"
		"See fieldgated(8) and fieldgate.conf(5).\n",
		FG_CONFIG_DEFAULT_PATH);
}

/*
 * Load a configuration and refuse what this binary cannot run: a
 * concentrator (sources.sx130x) in a build without libloragw, or one its HAL
 * does not drive; TLS files the MQTT sink cannot use. Findings go to diags.
 */
static int config_load(const char *path, struct fg_config **ret, struct fg_diags *diags)
{
	struct fg_config *cfg = NULL;
	int r = fg_config_load(path, &cfg, diags);

	if (r >= 0)
		r = fg_sx130x_check_config(cfg, fg_sx130x_hal(), diags);
	if (r >= 0)
		r = fg_mqtt_check_tls(cfg, NULL, diags);
	if (r < 0) {
		fg_config_free(cfg);
		return r;
	}
	*ret = cfg;
	return 0;
}

/* Log every finding of a configuration load, errors at error level. */
static void log_diags(const struct fg_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		char *line = fg_diag_format(&d->v[i]);

		fg_log(d->v[i].severity == FG_DIAG_ERROR ? LOG_ERR : LOG_WARNING, "config", "%s",
		       line ? line : d->v[i].message);
		free(line);
	}
}

/* The level in force: the configuration's, moved by -v/-q. */
static void apply_log_level(struct daemon *d)
{
	fg_log_set_level(d->cfg->gateway.log_level + d->verbosity);
	fg_log_set_gateway(d->cfg->gateway.id);
}

/* The one-line summary systemctl status shows. */
static void update_status(struct daemon *d)
{
	struct fg_store_stats ss;
	struct fg_mqtt_stats ms;

	if (d->dry_run) {
		(void) sd_notifyf(0,
				  "STATUS=readings in %llu, out %llu, dropped %llu; buffered 0; "
				  "broker: none (%s)",
				  (unsigned long long)d->readings_in,
				  (unsigned long long)d->readings_out,
				  (unsigned long long)d->readings_dropped,
				  d->sink_error ? "dry run, stdout failing" : "dry run");
		return;
	}
	fg_store_get_stats(d->store, &ss);
	fg_mqtt_get_stats(d->mqtt, &ms);
	(void) sd_notifyf(0,
			  "STATUS=readings in %llu, published %llu, evicted %llu; buffered %llu; "
			  "broker: %s",
			  (unsigned long long)d->readings_in, (unsigned long long)ms.acked,
			  (unsigned long long)ss.evicted,
			  (unsigned long long)(ss.outbox_rows + ss.readings_rows + fg_store_staged(d->store)),
			  fg_mqtt_state_to_string(ms.state));
}

/* Dry run: write a batch to standard output, never blocking the loop. */
static void dryrun_write(struct daemon *d, const struct fg_reading *r, size_t n)
{
	size_t written;
	int w;

	w = fg_jsonl_write(STDOUT_FILENO, r, n, &written);
	d->readings_out += written;
	d->readings_dropped += n - written;
	if (w == -EAGAIN) {
		fg_log_device(LOG_WARNING, "sink", NULL, "stdout",
			      "standard output is not keeping up, dropped %zu readings", n - written);
	} else if (w < 0) {
		if (!d->sink_error)
			fg_log_errno(w, "sink", "cannot write readings to standard output: %m, "
				     "dropping them until it works again");
		d->sink_error = w;
	} else if (d->sink_error) {
		fg_log_notice("sink", "standard output works again");
		d->sink_error = 0;
	}
}

/* Log evictions once per episode: when it begins, with its cause, and its count when it ends. */
static void report_evictions(struct daemon *d)
{
	const struct fg_buffer_config *b = &d->cfg->buffer;
	bool evicting = fg_store_evicting(d->store);
	struct fg_store_episode ep;
	const char *policy = b->overflow == FG_OVERFLOW_DROP_OLDEST ? "drop_oldest" : "drop_newest";
	struct fg_store_stats ss;
	char why[600];

	if (evicting == d->evicting)
		return;
	fg_store_get_stats(d->store, &ss);
	fg_store_get_episode(d->store, &ep);
	switch (ep.cause) {
	case FG_EVICT_MAX_ROWS:
		snprintf(why, sizeof(why), "max_rows %llu reached", (unsigned long long)b->max_rows);
		break;
	case FG_EVICT_MAX_BYTES:
		snprintf(why, sizeof(why), "max_bytes %llu reached, WAL included",
			 (unsigned long long)b->max_bytes);
		break;
	case FG_EVICT_MIN_FREE:
		snprintf(why, sizeof(why), "%llu bytes free on the filesystem of '%s', "
			 "buffer.min_free keeps %llu", (unsigned long long)ss.disk_free, b->path,
			 (unsigned long long)(b->min_free > FG_STORE_DISK_RESERVE ?
					      b->min_free : FG_STORE_DISK_RESERVE));
		break;
	default:
		snprintf(why, sizeof(why), "disk full writing '%s'", b->path);
		break;
	}
	if (evicting)
		fg_log_event(LOG_WARNING, FG_MESSAGE_EVICTION_STARTED, "store",
			     FG_LOG_FIELDS(FG_LOG_STR("FIELDGATE_EVICT_CAUSE",
						      fg_store_evict_cause_to_string(ep.cause)),
					   FG_LOG_STR("FIELDGATE_POLICY", policy)),
			     "buffer full (%s): %s until there is room, policy %s", why,
			     b->overflow == FG_OVERFLOW_DROP_OLDEST ? "evicting oldest messages"
								    : "refusing new readings",
			     policy);
	else
		fg_log_event(LOG_NOTICE, FG_MESSAGE_EVICTION_ENDED, "store",
			     FG_LOG_FIELDS(FG_LOG_STR("FIELDGATE_EVICT_CAUSE",
						      fg_store_evict_cause_to_string(ep.cause)),
					   FG_LOG_U64("FIELDGATE_EVICTED", ep.evicted),
					   FG_LOG_U64("FIELDGATE_EVICTED_TOTAL", ss.evicted)),
			     "buffer full (%s) ended: %llu evicted in this episode, %llu in all",
			     fg_store_evict_cause_to_string(ep.cause),
			     (unsigned long long) ep.evicted, (unsigned long long) ss.evicted);
	d->evicting = evicting;
}

static int stamp_payload(const void *payload, size_t len, uint64_t time_ms, char **ret,
			 size_t *ret_len, void *userdata)
{
	(void) userdata;
	return fg_format_stamp_time(payload, len, time_ms, ret, ret_len);
}

/* Say once when the buffer's filesystem becomes nearly full, and once when it has room again. */
static void report_disk(struct daemon *d)
{
	bool low = fg_store_disk_low(d->store, NULL);
	struct fg_store_stats ss;
	uint64_t mark;

	if (low == d->disk_low)
		return;
	d->disk_low = low;
	fg_store_get_stats(d->store, &ss);
	(void) fg_store_disk_low(d->store, &mark);
	if (low)
		fg_log_event(LOG_WARNING, FG_MESSAGE_DISK_LOW, "store",
			     FG_LOG_FIELDS(FG_LOG_U64("FIELDGATE_DISK_FREE", ss.disk_free),
					   FG_LOG_U64("FIELDGATE_DISK_LOW_MARK", mark),
					   FG_LOG_STR("FIELDGATE_BUFFER", d->cfg->buffer.path)),
			     "disk nearly full: %llu bytes free on the filesystem of '%s', below "
			     "%llu (twice buffer.min_free); the buffer evicts below half that",
			     (unsigned long long) ss.disk_free, d->cfg->buffer.path,
			     (unsigned long long) mark);
	else
		fg_log_event(LOG_NOTICE, FG_MESSAGE_DISK_RECOVERED, "store",
			     FG_LOG_FIELDS(FG_LOG_U64("FIELDGATE_DISK_FREE", ss.disk_free),
					   FG_LOG_U64("FIELDGATE_DISK_LOW_MARK", mark),
					   FG_LOG_STR("FIELDGATE_BUFFER", d->cfg->buffer.path)),
			     "disk has room again: %llu bytes free on the filesystem of '%s'",
			     (unsigned long long) ss.disk_free, d->cfg->buffer.path);
}

/* Say once when the wall clock becomes known (at start, or when NTP has set it). */
static void watch_clock(struct daemon *d)
{
	bool known = fg_clock_wall_known(d->cfg->gateway.trust_system_clock);
	uint64_t waited;

	if (known == d->clock_known)
		return;
	d->clock_known = known;
	if (!known)
		return;
	waited = (fg_clock_mono_usec() - d->start_usec) / FG_USEC_PER_SEC;
	fg_log_event(LOG_INFO, FG_MESSAGE_CLOCK_SYNCHRONIZED, "core",
		     FG_LOG_FIELDS(FG_LOG_U64("FIELDGATE_CLOCK_WAIT_SEC", waited),
				   FG_LOG_STR("FIELDGATE_CLOCK_TRUSTED",
					      d->cfg->gateway.trust_system_clock ? "yes" : "no")),
		     "the wall clock is %s, %llus after the start",
		     d->cfg->gateway.trust_system_clock ? "trusted (gateway.trust_system_clock)"
							: "synchronized",
		     (unsigned long long) waited);
}

/*
 * Messages made in this boot before the wall clock was known get their time
 * once it is, a batch per commit; said once when the last batch is done.
 */
static void stamp_times(struct daemon *d)
{
	int r;

	if (!fg_clock_wall_known(d->cfg->gateway.trust_system_clock))
		return;
	r = fg_store_stamp_times(d->store, fg_clock_wall_ms(), fg_clock_mono_usec(), stamp_payload,
				 d);
	if (r < 0) {
		fg_log_device(LOG_ERR, "store", NULL, "stamp",
			      "cannot date messages made before the clock was set: %s; retrying",
			      fg_store_last_error(d->store));
		return;
	}
	d->stamped_episode += (uint64_t)r;
	if (r == 0 && d->stamped_episode) {
		fg_log_info("store", "the wall clock is set: %llu buffered messages made before it "
			    "was now carry their time", (unsigned long long)d->stamped_episode);
		d->stamped_episode = 0;
	}
}

/* Drive each rule's GPIO line to its alert state (after the commit that changed it). */
static void gpio_sync(struct daemon *d)
{
	if (!d->rule_gpio)
		return;
	for (size_t k = 0; k < d->cfg->n_rules; k++)
		if (d->cfg->rules[k].has_gpio)
			(void) fg_rule_gpio_set(d->rule_gpio, k,
						fg_rules_raised(fg_pipeline_rules(d->pipeline), k));
}

/* One commit: staged readings to the outbox, acks applied; then wake the sink. */
/* A failed sync of the buffer (an SD card going bad): said, rate-limited; it is retried. */
static void report_sync(struct daemon *d)
{
	struct fg_store_stats ss;

	fg_store_get_stats(d->store, &ss);
	if (ss.sync_errors == d->sync_errors)
		return;
	d->sync_errors = ss.sync_errors;
	fg_log_device(LOG_ERR, "store", NULL, "sync",
		      "%s of '%s' (%llu failures so far); a power cut now may lose more than "
		      "buffer.sync_interval_ms; retrying",
		      fg_store_last_error(d->store), d->cfg->buffer.path,
		      (unsigned long long) ss.sync_errors);
}

static void store_commit(struct daemon *d)
{
	int r = fg_store_commit(d->store);

	report_sync(d);
	if (r < 0) {
		fg_log_device(LOG_ERR, "store", NULL, "commit",
			      "commit failed: %s; keeping the readings staged and retrying",
			      fg_store_last_error(d->store));
		return;
	}
	report_evictions(d);
	report_disk(d);
	watch_clock(d);
	stamp_times(d);
	gpio_sync(d);
	if (r > 0)
		fg_mqtt_kick(d->mqtt);
}

/* Stage a batch in the store; a full stage is committed first. */
static void store_append(struct daemon *d, const struct fg_reading *r, size_t n)
{
	int e = fg_store_append(d->store, r, n);

	if (e == -ENOBUFS) {
		store_commit(d);
		e = fg_store_append(d->store, r, n);
	}
	if (e < 0) {
		/* Still full (the disk refuses commits): these readings are lost, and counted. */
		d->readings_dropped += n;
		fg_log_device(LOG_ERR, "store", NULL, "append",
			      "cannot stage %zu readings: %s, dropping them", n, strerror(-e));
	}
}

/* The store's transform: the rule engine and the formatting (rules/pipeline.h). */
static int transform(struct fg_store *s, const struct fg_reading *r, size_t n, void *userdata)
{
	struct daemon *d = userdata;

	/* No rules (they failed to start): keep the readings staged rather than skip them. */
	return d->pipeline ? fg_pipeline_frame(d->pipeline, s, r, n) : -ENOTCONN;
}

static int transform_end(struct fg_store *s, void *userdata)
{
	struct daemon *d = userdata;

	return d->pipeline ? fg_pipeline_end(d->pipeline, s) : 0;
}

static void transform_rolled_back(void *userdata)
{
	struct daemon *d = userdata;

	if (d->pipeline)
		fg_pipeline_rolled_back(d->pipeline, d->store);
}

/* Frames dropped because they could not be formatted, over every pipeline of this run. */
static uint64_t transform_dropped(const struct daemon *d)
{
	struct fg_pipeline_stats ps = { 0 };

	if (d->pipeline)
		fg_pipeline_get_stats(d->pipeline, &ps);
	return d->transform_dropped + ps.unformattable;
}

static void pipeline_free(struct daemon *d)
{
	struct fg_pipeline_stats ps = { 0 };

	if (d->pipeline)
		fg_pipeline_get_stats(d->pipeline, &ps);
	d->transform_dropped += ps.unformattable;
	fg_pipeline_free(d->pipeline);
	d->pipeline = NULL;
}

static int queue_peek(void *userdata, uint64_t after_seq, size_t max, fg_outbox_fn fn,
		      void *fn_userdata)
{
	struct daemon *d = userdata;

	return fg_store_peek(d->store, after_seq, max, fn, fn_userdata);
}

static int queue_ack(void *userdata, uint64_t seq)
{
	struct daemon *d = userdata;

	d->readings_out++;
	return fg_store_ack(d->store, seq);
}

/*
 * The commit timer fires when the buffer has work (fg_store_commit_due):
 * commit_interval_ms after readings are staged, at the ack flush deadline for
 * acks alone. With nothing to do it looks once a second (the clock, the age
 * sweep, the disk), where it used to wake ten times a second. Before every
 * turn of the loop (the timer's prepare callback: no extra turn, as a post
 * source would cost) on_commit_prepare pulls the timer in when work has
 * come; the readings staged at t are committed by t + commit_interval_ms
 * (plus the timer's 10 ms accuracy), as before. (Set earlier with more
 * accuracy, to ride along with other wake-ups, it made more commits and each
 * commit's PUBACK wakes the loop anyway: measured, it cost more.)
 */
#define COMMIT_IDLE_USEC FG_USEC_PER_SEC

static uint64_t commit_interval_usec(const struct daemon *d)
{
	return (uint64_t)d->cfg->buffer.commit_interval_ms * FG_USEC_PER_MSEC;
}

static void commit_timer_at(struct daemon *d, uint64_t at)
{
	d->commit_at = at;
	(void) sd_event_source_set_time(d->commit_timer, at);
}

static int on_commit_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	(void) es;
	store_commit(d);
	commit_timer_at(d, usec + COMMIT_IDLE_USEC);
	return 0;
}

static int on_commit_prepare(sd_event_source *es, void *userdata)
{
	struct daemon *d = userdata;
	uint64_t due;

	(void) es;
	if (!d->store || !d->commit_timer)
		return 0;
	due = fg_store_commit_due(d->store,
				  fg_clock_mono_usec() + commit_interval_usec(d));
	if (due && due < d->commit_at)
		commit_timer_at(d, due);
	return 0;
}

static int health_record(struct daemon *d, char *buf, size_t size);

/* The health record, retained at QoS 1 on mqtt.stats_topic: a new subscriber gets the last one. */
static int on_stats_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	static char payload[32768];
	char topic[1024];
	const struct fg_reading none = { 0 };
	int n = health_record(d, payload, sizeof(payload));

	if (n > 0 && fg_format_topic(d->cfg->mqtt.stats_topic, d->cfg->gateway.id, &none, topic,
				     sizeof(topic)) > 0) {
		payload[n - 1] = '\0'; /* the answer's line end is no part of the message */
		(void) fg_mqtt_publish_direct(d->mqtt, topic, payload, 1, true);
	}
	(void) sd_event_source_set_time(es, usec + (uint64_t)d->cfg->mqtt.stats_interval_s *
							 FG_USEC_PER_SEC);
	return 0;
}

static int republish_config(const char *topic, const char *payload, void *userdata)
{
	struct daemon *d = userdata;

	return fg_mqtt_publish_direct(d->mqtt, topic, payload, 1, true);
}

/*
 * Home Assistant's birth message (<prefix>/status "online"): it has just
 * started, perhaps on a broker that lost the retained configs. Announce
 * every config kept in the buffer again, at once rather than behind a
 * backlog in the outbox.
 */
static int on_ha_status(const char *topic, const void *payload, size_t len,
			const struct fg_mqtt_msg_info *info, void *userdata)
{
	struct daemon *d = userdata;
	const char *prefix = d->cfg->mqtt.homeassistant_prefix;
	size_t plen = strlen(prefix);
	int n;

	(void) info;
	/* A subscription of an earlier prefix outlives a reload that kept the sink. */
	if (!d->cfg->mqtt.homeassistant || strncmp(topic, prefix, plen) != 0 ||
	    strcmp(topic + plen, "/status") != 0 || len != 6 || memcmp(payload, "online", 6) != 0 ||
	    !d->store)
		return 0;
	n = fg_pipeline_configs_each(d->store, republish_config, d);
	if (n < 0)
		fg_log_errno(n, "mqtt", "Home Assistant is online; cannot announce the configs "
			     "again: %m");
	else
		fg_log_info("mqtt", "Home Assistant is online: %d discovery configs announced again",
			    n);
	return 0; /* announced or not, the birth message is not wanted again */
}

/* With mqtt.homeassistant, listen for Home Assistant's birth message. */
static void ha_subscribe(struct daemon *d)
{
	char topic[512];
	int r;

	if (!d->mqtt || !d->cfg->mqtt.homeassistant)
		return;
	snprintf(topic, sizeof(topic), "%s/status", d->cfg->mqtt.homeassistant_prefix);
	r = fg_mqtt_subscribe(d->mqtt, topic, 1, on_ha_status, d);
	if (r < 0)
		fg_log_errno(r, "mqtt", "cannot subscribe to '%s': %m", topic);
}

/* ------------------------------------------------------------------ commands from the cloud */

/* Something was written to the outbox outside a commit (an outcome): publish it. */
static void command_wrote(void *userdata)
{
	struct daemon *d = userdata;

	fg_mqtt_kick(d->mqtt);
}

static int on_command(const char *topic, const void *payload, size_t len,
		      const struct fg_mqtt_msg_info *info, void *userdata)
{
	struct daemon *d = userdata;

	if (!d->intake)
		return 0; /* commands were disabled by a reload */
	return fg_cmd_intake_message(d->intake, topic, payload, len, info->response_topic,
				     info->correlation, info->correlation_len);
}

/* The LoRa module's application downlinks, from and to the command queue. */
static int downlink_next(void *userdata, const char *device, struct fg_command *ret)
{
	struct daemon *d = userdata;

	return d->cmdq ? fg_cmdq_next(d->cmdq, device, fg_clock_wall_ms(), ret) : -ENOENT;
}

static int downlink_pending(void *userdata, const char *device)
{
	struct daemon *d = userdata;

	return d->cmdq ? fg_cmdq_pending(d->cmdq, device) : 0;
}

static int downlink_sent(void *userdata, const char *id, uint32_t f_cnt_down, bool awaiting_ack)
{
	struct daemon *d = userdata;

	return d->cmdq ? fg_cmdq_sent(d->cmdq, id, f_cnt_down, awaiting_ack) : -ENOENT;
}

static int downlink_finish(void *userdata, const char *id, enum fg_cmd_outcome o,
			   enum fg_cmd_reason r, const char *detail)
{
	struct daemon *d = userdata;
	int e;

	if (!d->cmdq)
		return -ENOENT;
	e = fg_cmdq_finish(d->cmdq, id, o, r, detail, fg_clock_wall_ms());
	if (e >= 0)
		fg_mqtt_kick(d->mqtt);
	return e;
}

/* Connect the LoRa module of the current sources to the command queue. */
static void commands_attach_lora(struct daemon *d)
{
	const struct fg_lora_downlink_ops ops = { downlink_next, downlink_pending, downlink_sent,
						  downlink_finish, d };

	if (d->intake)
		fg_cmd_intake_set_lora(d->intake, d->lora);
	if (d->lora && d->cmdq)
		fg_lora_set_downlinks(d->lora, &ops);
}

/* Every second: class C downlinks that waited; every 10 s, expiries and old ids. */
static int on_command_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	if (d->lora && d->cmdq)
		(void) fg_lora_tick(d->lora);
	if (d->cmdq && d->command_ticks++ % 10 == 0) {
		uint64_t now = fg_clock_wall_ms();
		int n = fg_cmdq_expire(d->cmdq, now);

		if (n > 0) {
			fg_log_info("cmd", "%d queued commands expired", n);
			fg_mqtt_kick(d->mqtt);
		} else if (n < 0) {
			fg_log_errno(n, "cmd", "cannot expire queued commands: %m");
		}
		(void) fg_cmdq_forget(d->cmdq, now);
	}
	return sd_event_source_set_time(es, usec + FG_USEC_PER_SEC);
}

static void commands_stop(struct daemon *d)
{
	d->command_timer = sd_event_source_disable_unref(d->command_timer);
	fg_cmd_intake_free(d->intake);
	d->intake = NULL;
	fg_cmdq_free(d->cmdq);
	d->cmdq = NULL;
	if (d->lora)
		fg_lora_set_downlinks(d->lora, NULL);
}

/*
 * With commands.enabled, the queue over the buffer, the intake and its GPIO
 * lines (taken over from the previous configuration's), the subscription and
 * the timer. Without, none of them; commands already queued stay in the
 * buffer for a configuration that enables them again.
 */
static int commands_start(struct daemon *d)
{
	const struct fg_commands_config *cc = &d->cfg->commands;
	struct fg_cmd_intake *old = d->intake;
	char topic[1024];
	const struct fg_reading none = { 0 };
	int r;

	d->intake = NULL;
	fg_cmdq_free(d->cmdq);
	d->cmdq = NULL;
	if (!cc->enabled || d->dry_run || !d->store) {
		fg_cmd_intake_free(old);
		commands_stop(d);
		/* Disabled by a reload: the broker stops keeping commands for us. */
		if (d->mqtt && d->command_filter[0])
			(void) fg_mqtt_unsubscribe(d->mqtt, d->command_filter);
		d->command_filter[0] = '\0';
		return 0;
	}
	if (fg_format_topic(cc->event_topic, d->cfg->gateway.id, &none, topic, sizeof(topic)) <= 0)
		r = -ENOBUFS;
	else
		r = fg_cmdq_new(d->store, cc, topic, &d->cmdq);
	if (r < 0) {
		fg_cmd_intake_free(old);
		return fg_log_errno(r, "cmd", "cannot set up the command queue: %m");
	}
	r = fg_cmd_intake_new(d->cfg, d->cfg->gateway.id, d->loop, d->cmdq, NULL, old,
			      command_wrote, d, &d->intake);
	if (r < 0) {
		commands_stop(d);
		return fg_log_errno(r, "cmd", "cannot set up the command intake: %m");
	}
	if (d->mqtt && d->command_filter[0] &&
	    strcmp(d->command_filter, fg_cmd_intake_filter(d->intake)) != 0)
		(void) fg_mqtt_unsubscribe(d->mqtt, d->command_filter);
	snprintf(d->command_filter, sizeof(d->command_filter), "%s",
		 fg_cmd_intake_filter(d->intake));
	if (d->mqtt) {
		r = fg_mqtt_subscribe(d->mqtt, d->command_filter, 1, on_command, d);
		if (r < 0)
			fg_log_errno(r, "mqtt", "cannot subscribe to '%s': %m", d->command_filter);
	}
	if (!d->command_timer) {
		r = sd_event_add_time_relative(d->loop, &d->command_timer, CLOCK_MONOTONIC,
					       FG_USEC_PER_SEC, 100 * FG_USEC_PER_MSEC,
					       on_command_timer, d);
		if (r >= 0)
			r = sd_event_source_set_enabled(d->command_timer, SD_EVENT_ON);
		if (r < 0)
			return fg_log_errno(r, "cmd", "cannot add the command timer: %m");
	}
	r = fg_cmdq_pending(d->cmdq, NULL);
	fg_log_info("cmd", "commands from '%s' taken, outcomes on '%s'; %d downlinks queued",
		    fg_cmd_intake_filter(d->intake), topic, r < 0 ? 0 : r);
	return 0;
}

struct queue_answer {
	struct fg_json *j;
	size_t count, room; /* listed; bytes the list may take, the rest is for the end */
};

static int queue_one(const struct fg_command *c, void *userdata)
{
	struct queue_answer *a = userdata;

	if (a->j->len >= a->room)
		return -ENOBUFS;
	fg_cmdq_json_command(a->j, c);
	a->count++;
	return 0;
}

/* The control command "queue [DEVICE]": the pending downlinks, as fieldgatectl queue shows them. */
static int queue_json(struct daemon *d, const char *device, char *buf, size_t size)
{
	struct fg_json j;
	struct queue_answer a = { .j = &j, .room = size > 4096 ? size - 4096 : 0 };
	const char *dev = device && *device ? device : NULL;
	int r, total;

	if (!d->cmdq)
		return snprintf(buf, size, "{\"error\":\"commands are not enabled\"}\n");
	fg_json_init_fixed(&j, buf, size);
	fg_cmdq_json_begin(&j);
	r = fg_cmdq_each(d->cmdq, dev, queue_one, &a);
	total = fg_cmdq_pending(d->cmdq, dev);
	if (total < 0 || (size_t)total < a.count)
		total = (int)a.count;
	/* count: all pending; the list stops where the answer is full. */
	fg_cmdq_json_end(&j, (size_t)total, a.count < (size_t)total);
	fg_json_raw(&j, "\n", 1);
	if (r < 0 && r != -ENOBUFS)
		return snprintf(buf, size, "{\"error\":\"%s\"}\n", strerror(-r));
	return j.err ? j.err : (int)j.len;
}

/* Start the MQTT sink on the current configuration. */
static int sink_start(struct daemon *d)
{
	const struct fg_mqtt_queue q = { .peek = queue_peek, .ack = queue_ack, .userdata = d };
	int r;

	r = fg_mqtt_new(&d->cfg->mqtt, d->cfg->gateway.id,
			fg_format_content_type((enum fg_format)d->cfg->mqtt.format), d->loop, &q,
			&d->mqtt);
	if (r < 0)
		return fg_log_errno(r, "mqtt", "cannot start the MQTT sink: %m");
	ha_subscribe(d);
	return 0;
}

/* Open the buffer and start the sink, with their timers. */
/* Close the rules' windows on time, though no reading comes to end them. */
static int on_window_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	uint64_t due = d->pipeline ? fg_pipeline_next_deadline(d->pipeline) : 0;

	if (due && due <= fg_clock_wall_ms()) {
		fg_store_want_commit(d->store);
		store_commit(d);
	}
	return sd_event_source_set_time(es, usec + FG_USEC_PER_SEC);
}

/*
 * The rules of the current configuration (again after a reload, when the
 * state of unchanged rules is read back from the buffer), and their GPIO
 * lines, driven to the state read back.
 */
static int rules_start(struct daemon *d)
{
	static const struct fg_store_hooks hooks = { transform_end, transform_rolled_back };
	struct fg_rules_stats st;
	char serial[20];
	bool windows = false;
	int r;

	pipeline_free(d);
	r = fg_pipeline_new(d->cfg, d->store, NULL, &d->pipeline);
	if (r < 0)
		return fg_log_errno(r, "rules", "cannot set up the rules: %m");
	/* The gateway device and the removal of devices gone, in the next commit. */
	snprintf(serial, sizeof(serial), "%016llx", (unsigned long long)d->concentrator_eui);
	fg_pipeline_announce_gateway(d->pipeline, d->concentrator_eui ? serial : NULL);
	fg_store_want_commit(d->store);
	fg_store_set_hooks(d->store, &hooks);
	r = fg_rule_gpio_new(d->cfg, NULL, d->rule_gpio, &d->rule_gpio);
	if (r < 0) {
		d->rule_gpio = NULL;
		return fg_log_errno(r, "rules", "cannot set up the rules' GPIO lines: %m");
	}
	gpio_sync(d);
	fg_rules_get_stats(fg_pipeline_rules(d->pipeline), &st);
	if (d->cfg->n_rules)
		fg_log_info("rules", "%zu rules, state of %zu series kept", d->cfg->n_rules,
			    st.series);
	for (size_t k = 0; k < d->cfg->n_rules; k++)
		windows |= d->cfg->rules[k].window_s > 0;
	d->window_timer = sd_event_source_disable_unref(d->window_timer);
	if (!windows)
		return 0;
	r = sd_event_add_time_relative(d->loop, &d->window_timer, CLOCK_MONOTONIC, FG_USEC_PER_SEC,
				       100 * FG_USEC_PER_MSEC, on_window_timer, d);
	if (r >= 0)
		r = sd_event_source_set_enabled(d->window_timer, SD_EVENT_ON);
	return r < 0 ? fg_log_errno(r, "rules", "cannot add the window timer: %m") : 0;
}

/*
 * Without gateway.id, a gateway with a concentrator is named by its EUI. The
 * EUI is read only once the concentrator has started (after a reset sequence,
 * perhaps retried for minutes), and topics cannot wait for it: it is kept in
 * the buffer, and names the gateway from the next start on. cfg is the
 * configuration about to be used (at start or reload).
 */
static void name_by_concentrator(struct daemon *d, struct fg_config *cfg)
{
	char id[20], *client = NULL;
	uint64_t eui = 0;
	size_t len = 0;

	if (!d->store || fg_store_state_get(d->store, "sx130x", "eui", &eui, sizeof(eui), &len) < 0 ||
	    len != sizeof(eui))
		return;
	d->concentrator_eui = eui;
	if (!cfg->gateway.id_default || !cfg->sources.sx130x.enabled || !eui)
		return;
	snprintf(id, sizeof(id), "%016llx", (unsigned long long)eui);
	if (cfg->mqtt.client_id_default && asprintf(&client, "fieldgate-%s", id) < 0)
		return;
	free(cfg->gateway.id);
	cfg->gateway.id = strdup(id);
	fg_log_set_gateway(cfg->gateway.id);
	if (client) {
		free(cfg->mqtt.client_id);
		cfg->mqtt.client_id = client;
	}
	fg_log_info("core", "gateway id %s: the concentrator's EUI (gateway.id is not set)", id);
}

static int pipeline_start(struct daemon *d)
{
	char *moved = NULL;
	uint64_t now = fg_clock_mono_usec();
	struct fg_store_stats ss;
	int r;

	r = fg_store_open(&d->cfg->buffer, transform, d, &d->store, &moved);
	if (r < 0)
		return fg_log_errno(r, "store", "cannot open the buffer '%s': %m", d->cfg->buffer.path);
	name_by_concentrator(d, d->cfg);
	r = rules_start(d);
	if (r < 0)
		return r;
	if (moved) {
		fg_log_error("store", "buffer '%s' was corrupt: moved aside to '%s', started a fresh one",
			     d->cfg->buffer.path, moved);
		free(moved);
	}
	fg_store_get_stats(d->store, &ss);
	fg_log_info("store", "buffer '%s' open, %llu messages waiting", d->cfg->buffer.path,
		    (unsigned long long)(ss.outbox_rows + ss.readings_rows));
	d->commit_at = now + commit_interval_usec(d);
	r = sd_event_add_time(d->loop, &d->commit_timer, CLOCK_MONOTONIC, d->commit_at,
			      10 * FG_USEC_PER_MSEC, on_commit_timer, d);
	if (r >= 0)
		r = sd_event_source_set_enabled(d->commit_timer, SD_EVENT_ON);
	if (r >= 0)
		r = sd_event_source_set_prepare(d->commit_timer, on_commit_prepare);
	if (r >= 0 && d->cfg->mqtt.stats_interval_s) {
		r = sd_event_add_time(d->loop, &d->stats_timer, CLOCK_MONOTONIC,
				      now + (uint64_t)d->cfg->mqtt.stats_interval_s * FG_USEC_PER_SEC,
				      FG_USEC_PER_SEC, on_stats_timer, d);
		if (r >= 0)
			r = sd_event_source_set_enabled(d->stats_timer, SD_EVENT_ON);
	}
	if (r < 0)
		return fg_log_errno(r, "core", "cannot add the commit timer: %m");
	/* Commit what a crash left in the readings table before the sink starts peeking. */
	store_commit(d);
	r = sink_start(d);
	if (r < 0)
		return r;
	/* A command queue that cannot start leaves the readings flowing: logged, run on. */
	(void) commands_start(d);
	return 0;
}

/* Stop the sink (saying offline) and close the buffer after a last commit. */
static void pipeline_stop(struct daemon *d)
{
	d->commit_timer = sd_event_source_disable_unref(d->commit_timer);
	d->stats_timer = sd_event_source_disable_unref(d->stats_timer);
	commands_stop(d);
	if (d->store)
		store_commit(d);
	fg_mqtt_free(d->mqtt);
	d->mqtt = NULL;
	if (d->store)
		(void) fg_store_flush(d->store); /* acks that arrived during the goodbye */
	fg_store_close(d->store);
	d->store = NULL;
	pipeline_free(d);
	d->window_timer = sd_event_source_disable_unref(d->window_timer);
	fg_rule_gpio_free(d->rule_gpio);
	d->rule_gpio = NULL;
}

/* The control socket's answer to "status": one JSON object. */
/* Append to the JSON answer being built in buf (n bytes so far); -ENOBUFS when it is full. */
#define PUT(...)                                                                            \
	do {                                                                                \
		k = snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__);                \
		if (k < 0 || n + (size_t)k >= size)                                         \
			return -ENOBUFS;                                                    \
		n += (size_t)k;                                                             \
	} while (0)

/* The health record (sink/health.h): the status answer and the stats message, one builder. */
static int health_record(struct daemon *d, char *buf, size_t size)
{
	struct fg_health_parts p = {
		.gateway = d->cfg->gateway.id,
		.dry_run = d->dry_run,
		.clock_synchronized = fg_clock_wall_known(d->cfg->gateway.trust_system_clock),
		.uptime_s = (fg_clock_mono_usec() - d->start_usec) / FG_USEC_PER_SEC,
		.readings_in = d->readings_in,
		.dropped_store = d->readings_dropped,
		.dropped_unformattable = transform_dropped(d),
		.sx130x = { .state = FG_SX130X_STOPPED },
		.sx130x_hal = fg_sx130x_hal_to_string(fg_sx130x_hal()),
		.textfile_writes = d->textfile_writes,
		.textfile_failures = d->textfile_failures,
	};
	char gpio[8192];

	if (p.clock_synchronized)
		p.time_ms = fg_clock_wall_ms();
	if (d->store)
		fg_store_get_stats(d->store, &p.store);
	if ((p.have_mqtt = d->mqtt != NULL))
		fg_mqtt_get_stats(d->mqtt, &p.mqtt);
	p.published = d->dry_run ? d->readings_out : p.mqtt.acked;
	rates(d, p.published, &p.readings_per_s, &p.published_per_s);
	if (d->lora)
		fg_lora_get_stats(d->lora, &p.lora);
	if ((p.have_gwmp = d->gwmp != NULL))
		fg_gwmp_get_stats(d->gwmp, &p.gwmp);
	if (d->control)
		fg_control_get_stats(d->control, &p.control);
	if ((p.have_sx130x = d->sx130x != NULL))
		fg_sx130x_get_stats(d->sx130x, &p.sx130x);
	if ((p.have_ble = d->ble != NULL))
		fg_ble_get_stats(d->ble, &p.ble);
	if (d->ble_rx)
		fg_ble_rx_get_stats(d->ble_rx, &p.ble_rx);
	if ((p.have_sim = d->sim != NULL)) {
		p.sim_emitted = fg_sim_emitted(d->sim);
		p.sim_skipped = fg_sim_skipped(d->sim);
	}
	if (d->pipeline) {
		fg_rules_get_stats(fg_pipeline_rules(d->pipeline), &p.rules);
		fg_pipeline_get_stats(d->pipeline, &p.pipeline);
	}
	if (d->rule_gpio && fg_rule_gpio_status_json(d->rule_gpio, gpio, sizeof(gpio)) > 0)
		p.gpio_json = gpio;
	if ((p.have_commands = d->cmdq != NULL))
		fg_cmdq_get_stats(d->cmdq, &p.commands);
	if (d->intake)
		fg_cmd_intake_get_stats(d->intake, &p.intake);
	return fg_health_json(&p, buf, size);
}

/* The health record as Prometheus text (sink/health.h), malloc'd into *ret. */
static int health_metrics(struct daemon *d, char **ret)
{
	static char record[32768];
	int r = health_record(d, record, sizeof(record));

	return r < 0 ? r : fg_health_metrics(record, ret);
}

/* metrics.textfile: the metrics for node_exporter's textfile collector, every metrics.interval. */
static void write_textfile(struct daemon *d)
{
	uint64_t now = fg_clock_mono_usec();
	char *text = NULL;
	int r;

	if (!d->cfg->metrics.textfile || now < d->textfile_due)
		return;
	d->textfile_due = now + (uint64_t)d->cfg->metrics.interval_s * FG_USEC_PER_SEC;
	r = health_metrics(d, &text);
	if (r >= 0)
		r = fg_health_write_file(d->cfg->metrics.textfile, text);
	free(text);
	if (r >= 0) {
		d->textfile_writes++;
		return;
	}
	d->textfile_failures++;
	fg_log_device(LOG_WARNING, "core", NULL, "textfile",
		      "cannot write the metrics to '%s': %s; trying again in %us",
		      d->cfg->metrics.textfile, strerror(-r), d->cfg->metrics.interval_s);
}

/* The device list being built for "devices", each device appended while there is room. */
struct devices_answer {
	char *buf;
	size_t size;
	size_t n;
	size_t devices;
	bool truncated;
};

static int device_state(const char *device, const char *key, int64_t *ret, void *userdata)
{
	struct daemon *d = userdata;

	return d->store ? fg_store_device_state_get(d->store, device, key, ret) : -ENOENT;
}

/* Append one device; stop when the answer is full, keeping room for its end. */
static int device_json(json_t *dev, void *userdata)
{
	struct devices_answer *a = userdata;
	size_t k, room = a->size - a->n;

	if (a->devices && room > 1) {
		a->buf[a->n] = ',';
		room--;
	}
	k = json_dumpb(dev, a->buf + a->n + (a->devices ? 1 : 0), room,
		       JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(dev);
	/* Room kept for the closing "],\"truncated\":true}\n". */
	if (k == 0 || k + 32 >= room) {
		a->truncated = true;
		return -ENOBUFS;
	}
	a->n += k + (a->devices ? 1 : 0);
	a->devices++;
	return 0;
}

/*
 * The control socket's answer to "devices": every source's devices (see
 * source/devices.h), {"devices":[...],"truncated":false}; truncated when
 * more than one answer holds.
 */
static int devices_json(struct daemon *d, char *buf, size_t size)
{
	const struct fg_devices_sources src = { d->lora, d->ble_rx, d->sim };
	struct devices_answer a = { .buf = buf, .size = size };
	int r, k;

	a.n = (size_t)snprintf(buf, size, "{\"devices\":[");
	r = fg_devices_each(d->cfg, &src, device_state, d, device_json, &a);
	if (r < 0 && !a.truncated)
		return r;
	k = snprintf(buf + a.n, size - a.n, "],\"truncated\":%s}\n", a.truncated ? "true" : "false");
	if (k < 0 || a.n + (size_t)k >= size)
		return -ENOBUFS;
	return (int)(a.n + (size_t)k);
}

/* The answer to "buffer" being built: per topic, what waits in the outbox. */
struct topics_answer {
	char *buf;
	size_t size;
	size_t n;
	size_t topics;
	bool truncated;
};

/* Append one topic (a JSON-escaped string: {device} may come from the air); stop when full. */
static int topic_json(const char *topic, uint64_t count, uint64_t first, uint64_t last, void *u)
{
	struct topics_answer *a = u;
	char esc[2 * 256 + 1];
	size_t j = 0;
	int k;

	for (const char *p = topic; *p && j + 7 < sizeof(esc); p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '"' || ch == '\\') {
			esc[j++] = '\\';
			esc[j++] = (char)ch;
		} else if (ch < 0x20) {
			j += (size_t)snprintf(esc + j, sizeof(esc) - j, "\\u%04x", ch);
		} else {
			esc[j++] = (char)ch;
		}
	}
	esc[j] = '\0';
	/* Room kept for the closing "],\"truncated\":true}". */
	k = snprintf(a->buf + a->n, a->size - a->n, "%s{\"topic\":\"%s\",\"messages\":%llu,"
		     "\"first_seq\":%llu,\"last_seq\":%llu}", a->topics ? "," : "", esc,
		     (unsigned long long)count, (unsigned long long)first, (unsigned long long)last);
	if (k < 0 || a->n + (size_t)k + 32 >= a->size) {
		a->truncated = true;
		return -ENOBUFS;
	}
	a->n += (size_t)k;
	a->topics++;
	return 0;
}

/* The control socket's answer to "buffer": messages waiting per topic, so that fieldgatectl
 * need not read the buffer file (it holds device session keys). */
static int buffer_json(struct daemon *d, char *buf, size_t size)
{
	struct topics_answer a = { .buf = buf, .size = size };
	int r, k;

	if (!d->store)
		return snprintf(buf, size, "{\"error\":\"the daemon runs with --dry-run\"}\n");
	/* What is committed: the file as fieldgatectl would read it. */
	a.n = (size_t)snprintf(buf, size, "{\"topics\":[");
	r = fg_store_read_topics(d->cfg->buffer.path, topic_json, &a);
	if (r < 0 && !a.truncated)
		return r;
	k = snprintf(buf + a.n, size - a.n, "],\"truncated\":%s}\n", a.truncated ? "true" : "false");
	if (k < 0 || a.n + (size_t)k >= size)
		return -ENOBUFS;
	return (int)(a.n + (size_t)k);
}

static int control_answer(const char *command, char *buf, size_t size, void *userdata)
{
	struct daemon *d = userdata;

	if (strcmp(command, "devices") == 0)
		return devices_json(d, buf, size);
	if (strcmp(command, "buffer") == 0)
		return buffer_json(d, buf, size);
	if (strcmp(command, "queue") == 0 || strncmp(command, "queue ", 6) == 0)
		return queue_json(d, command[5] ? command + 6 : NULL, buf, size);
	if (strcmp(command, "metrics") == 0) {
		char *text = NULL;
		int n = health_metrics(d, &text);

		if (n >= 0)
			n = snprintf(buf, size, "%s", text);
		free(text);
		return n < 0 || (size_t)n >= size ? -ENOBUFS : n;
	}
	if (strcmp(command, "status") != 0)
		return snprintf(buf, size, "{\"error\":\"unknown command\"}\n");
	return health_record(d, buf, size);
}

/* Listen on RUNTIME_DIR/control; without it the daemon runs on, and says so. */
static void control_start(struct daemon *d)
{
	char path[128];
	int r;

	snprintf(path, sizeof(path), "%s/control", d->cfg->gateway.runtime_dir);
	r = fg_control_new(path, d->loop, control_answer, d, &d->control);
	if (r < 0) {
		fg_log_level_errno(LOG_WARNING, r, "core", "no control socket at '%s': %m; "
				   "fieldgatectl status will read the buffer file instead", path);
		return;
	}
	/* Operators in the group ask the daemon; they need not read the configuration. */
	r = fg_control_set_group(d->control, FG_CONTROL_GROUP);
	if (r == -ENOENT)
		fg_log_debug("core", "no group '%s': the control socket stays the daemon's",
			     FG_CONTROL_GROUP);
	else if (r < 0)
		fg_log_level_errno(LOG_WARNING, r, "core", "cannot give the control socket to "
				   "group '%s': %m; only the daemon's own group can ask it",
				   FG_CONTROL_GROUP);
}

/* Every source's readings arrive here. */
static void on_readings(const struct fg_reading *r, size_t n, void *userdata)
{
	struct daemon *d = userdata;
	struct fg_reading stamped[FG_SIM_MAX_PER_TICK * FG_SIM_QUANTITIES];
	bool wall_known = fg_clock_wall_known(d->cfg->gateway.trust_system_clock);
	uint64_t wall = wall_known ? fg_clock_wall_ms() : 0;
	size_t done = 0;

	d->readings_in += n;
	if (n > 0)
		fg_log_debug("core", "%zu readings from %s", n, r[0].device_id);
	while (done < n) {
		size_t chunk = n - done;

		if (chunk > sizeof(stamped) / sizeof(stamped[0]))
			chunk = sizeof(stamped) / sizeof(stamped[0]);
		memcpy(stamped, r + done, chunk * sizeof(*r));
		for (size_t i = 0; i < chunk; i++)
			if (!stamped[i].time_ms)
				stamped[i].time_ms = wall;
		if (d->dry_run)
			dryrun_write(d, stamped, chunk);
		else
			store_append(d, stamped, chunk);
		done += chunk;
	}
}

/* Frame counters in the buffer's device state, written with the frame's readings. */
static int get_fcnt(void *userdata, const char *device, uint32_t *ret_last)
{
	struct daemon *d = userdata;
	int64_t v;
	int r;

	if (!d->store)
		return -ENOENT; /* dry run: no buffer, no memory of counters */
	r = fg_store_device_state_get(d->store, device, "fcnt_up", &v);
	if (r < 0)
		return r;
	*ret_last = (uint32_t)v;
	return 0;
}

static int set_fcnt(void *userdata, const char *device, uint32_t fcnt)
{
	struct daemon *d = userdata;

	return d->store ? fg_store_device_state_set(d->store, device, "fcnt_up", fcnt) : 0;
}

/* Joined devices' sessions, DevNonces and FCntDown: the buffer's state table, written at once. */
static int lora_load(void *userdata, const char *key, void *buf, size_t size, size_t *ret_len)
{
	struct daemon *d = userdata;

	return d->store ? fg_store_state_get(d->store, "lorawan", key, buf, size, ret_len)
			: -ENOENT;
}

static int lora_save(void *userdata, const char *key, const void *buf, size_t len)
{
	struct daemon *d = userdata;

	/* A dry run keeps nothing: joins are not answered there. */
	return d->store ? fg_store_state_put(d->store, "lorawan", key, buf, len) : -ENOTSUP;
}

/* The device a data downlink is for (by its DevAddr), or NULL (a JoinAccept, say). */
static const struct fg_lorawan_device *downlink_device(struct daemon *d,
						       const struct fg_lw_txpk *tx)
{
	struct fg_lw_frame f;

	if (!d->lora || fg_lw_parse(tx->payload, tx->len, &f) != FG_LW_OK ||
	    (f.mtype != FG_LW_UNCONFIRMED_DOWN && f.mtype != FG_LW_CONFIRMED_DOWN))
		return NULL;
	return fg_lora_device(d->lora, f.dev_addr);
}

/* A downlink back through the radio that heard the uplink. */
static int lora_send(void *userdata, const struct fg_lw_txpk *tx, const struct fg_lora_origin *via)
{
	struct daemon *d = userdata;
	int r = -ENOTCONN;

	if (via->via == FG_LORA_VIA_GWMP && d->gwmp)
		r = fg_gwmp_send(d->gwmp, via->gateway, tx);
	else if (via->via == FG_LORA_VIA_SX130X && d->sx130x)
		r = fg_sx130x_send(d->sx130x, tx);
	else if (via->via == FG_LORA_VIA_SIM && d->sim_lora) {
		/* The simulator's radio: what a real one would send, said, and its device told. */
		const struct fg_lorawan_device *dev = downlink_device(d, tx);

		fg_log_info("sim", "sim radio: downlink for %s, %zu bytes %s at %u.%06u MHz, DR%d",
			    dev ? dev->name : "an unknown device", tx->len,
			    tx->immediate ? "now" : "in its receive window", tx->freq_hz / 1000000,
			    tx->freq_hz % 1000000, tx->dr);
		r = fg_sim_lora_downlink(d->sim_lora, tx->payload, tx->len);
		if (r == -ENOENT)
			r = 0; /* for a device the simulator does not play: sent into the air */
	}
	fg_log_debug("lora", "downlink of %zu bytes at %u.%06u MHz, DR%d, counter %u: %s", tx->len,
		     tx->freq_hz / 1000000, tx->freq_hz % 1000000, tx->dr, tx->count_us,
		     r < 0 ? strerror(-r) : "queued for the radio");
	return r < 0 ? r : 0;
}

/* A LoRa frame from a radio that cannot send (the simulator). */
static void on_frame(const uint8_t *phy, size_t len, const struct fg_radio_meta *radio,
		     void *userdata)
{
	struct daemon *d = userdata;

	(void)fg_lora_handle(d->lora, phy, len, radio, on_readings, d);
}

/* A LoRa frame of the simulator's devices: answers go back to the simulator. */
static void on_sim_frame(const uint8_t *phy, size_t len, const struct fg_radio_meta *radio,
			 const struct fg_lora_origin *origin, void *userdata)
{
	struct daemon *d = userdata;

	if (d->lora)
		(void)fg_lora_handle_from(d->lora, phy, len, radio, origin, on_readings, d);
}

/* A LoRa frame the concentrator heard: answers go back through it. */
static void on_sx130x_frame(const uint8_t *phy, size_t len, const struct fg_radio_meta *radio,
			    void *userdata)
{
	static const struct fg_lora_origin via = { FG_LORA_VIA_SX130X, 0 };
	struct daemon *d = userdata;

	if (!d->lora)
		return; /* the LoRa decoder failed to start after a reload */
	(void)fg_lora_handle_from(d->lora, phy, len, radio, &via, on_readings, d);
}

/* A packet forwarder's verdict on a downlink: counted by the source, logged here. */
static void on_gwmp_tx_ack(uint64_t gateway, uint16_t token, enum fg_gwmp_tx_error err,
			   void *userdata)
{
	char gw[20];

	(void)userdata;
	if (err == FG_GWMP_TX_NONE)
		return;
	snprintf(gw, sizeof(gw), "%016llx", (unsigned long long)gateway);
	fg_log_device(LOG_WARNING, "gwmp", "gwmp", gw,
		      "packet forwarder %s did not send downlink %u: %s", gw, token,
		      fg_gwmp_tx_error_to_string(err));
}

static void on_rxpk(const struct fg_gwmp_rxpk *pk, void *userdata)
{
	struct fg_radio_meta radio = {
		.present = true,
		.rssi = (int16_t)(pk->has_rssi ? pk->rssi : 0),
		.snr = pk->has_lsnr ? pk->lsnr : 0,
		.freq_hz = pk->freq_hz,
		.sf = (uint8_t)pk->sf,
		.bw_hz = pk->bw_hz,
		.dr = -1,
		.tmst = pk->has_tmst ? pk->tmst : 0,
	};
	const struct fg_lora_origin via = { FG_LORA_VIA_GWMP, pk->gateway };
	struct daemon *d = userdata;

	/* Without a timestamp no receive window can be aimed at: no answer. */
	(void)fg_lora_handle_from(d->lora, pk->data, pk->len, &radio,
				  pk->has_tmst ? &via : NULL, on_readings, d);
}

/* Readings of the gateway itself: one frame, stamped now. */
static void gateway_readings(struct daemon *d, struct fg_reading *r, size_t n)
{
	uint64_t frame = ++d->gateway_frames;

	for (size_t i = 0; i < n; i++) {
		r[i].mono_usec = fg_clock_mono_usec();
		r[i].frame_id = frame;
		snprintf(r[i].boot_id, sizeof(r[i].boot_id), "%s", fg_clock_boot_id());
	}
	if (n > 0)
		on_readings(r, n, d);
}

/* The packet forwarder's statistics, as readings of the gateway itself. */
static void on_gwmp_stat(const struct fg_gwmp_stat *st, void *userdata)
{
	struct daemon *d = userdata;
	struct fg_reading r[10];
	char id[20];
	size_t n = 0;

	snprintf(id, sizeof(id), "%016llx", (unsigned long long)st->gateway);
#define STAT(q, u, v)                                                                       \
	do {                                                                                \
		fg_reading_init(&r[n], FG_SOURCE_GATEWAY, id, "packet-forwarder", q, u);    \
		fg_reading_set_number(&r[n], (double)(v));                                  \
		n++;                                                                        \
	} while (0)
	memset(r, 0, sizeof(r));
	if (st->has_rx) {
		STAT("rx_received", "", st->rxnb);
		STAT("rx_crc_ok", "", st->rxok);
		STAT("rx_forwarded", "", st->rxfw);
	}
	/* ackr is a percentage; SenML's "%" is not one but a ratio, as "/" (RFC 8428 Note 2). */
	if (st->has_ackr)
		STAT("upstream_acked", "/", st->ackr / 100);
	if (st->has_tx) {
		STAT("downlinks_received", "", st->dwnb);
		STAT("downlinks_sent", "", st->txnb);
	}
	if (st->has_position) {
		STAT("latitude", "lat", st->lat);
		STAT("longitude", "lon", st->lon);
		STAT("altitude", "m", st->alt);
	}
#undef STAT
	gateway_readings(d, r, n);
}

/* The concentrator's counters of a stat interval, as readings of the gateway itself. */
static void on_sx130x_stat(const struct fg_sx130x_stat *st, void *userdata)
{
	struct daemon *d = userdata;
	struct fg_reading r[7];
	size_t n = 0;

#define STAT(q, u, v)                                                                       \
	do {                                                                                \
		fg_reading_init(&r[n], FG_SOURCE_GATEWAY, st->device, "concentrator", q, u);\
		fg_reading_set_number(&r[n], (double)(v));                                  \
		n++;                                                                        \
	} while (0)
	memset(r, 0, sizeof(r));
	STAT("rx_received", "", st->rx_received);
	STAT("rx_crc_ok", "", st->rx_crc_ok);
	STAT("rx_crc_bad", "", st->rx_crc_bad);
	STAT("rx_no_crc", "", st->rx_no_crc);
	STAT("rx_forwarded", "", st->rx_forwarded);
	STAT("downlinks_sent", "", st->tx_sent);
	if (st->has_temperature)
		STAT("temperature", "Cel", st->temperature);
#undef STAT
	gateway_readings(d, r, n);
}

static void on_gwmp_refused(uint64_t gateway, enum fg_gwmp_reason why, const char *detail,
			    void *userdata)
{
	char id[20];

	(void)userdata;
	snprintf(id, sizeof(id), "%016llx", (unsigned long long)gateway);
	fg_log_device(LOG_WARNING, "gwmp", "gwmp", id, "packet forwarder %s: %s%s%s", id,
		      fg_gwmp_reason_to_string(why), detail && *detail ? ": " : "",
		      detail ? detail : "");
}

static int get_ble_counter(void *userdata, const char *device, uint32_t *ret_last)
{
	struct daemon *d = userdata;
	int64_t v;
	int r;

	if (!d->store)
		return -ENOENT;
	r = fg_store_device_state_get(d->store, device, "ble_counter", &v);
	if (r < 0)
		return r;
	*ret_last = (uint32_t)v;
	return 0;
}

static int set_ble_counter(void *userdata, const char *device, uint32_t counter)
{
	struct daemon *d = userdata;

	return d->store ? fg_store_device_state_set(d->store, device, "ble_counter", counter) : 0;
}

static void on_advert(const struct fg_ble_adv *adv, void *userdata)
{
	struct daemon *d = userdata;

	fg_ble_rx_handle(d->ble_rx, adv, on_readings, d);
}

static bool ble_wanted(const char *address, void *userdata)
{
	struct daemon *d = userdata;

	return fg_ble_rx_wanted(d->ble_rx, address);
}

/* Stop and free every source. */
static void sources_stop(struct daemon *d)
{
	fg_ble_free(d->ble);
	d->ble = NULL;
	fg_ble_rx_free(d->ble_rx);
	d->ble_rx = NULL;
	fg_sim_free(d->sim);
	d->sim = NULL;
	fg_sim_lora_free(d->sim_lora);
	d->sim_lora = NULL;
	fg_sim_ble_free(d->sim_ble);
	d->sim_ble = NULL;
	fg_gwmp_free(d->gwmp);
	d->gwmp = NULL;
	fg_sx130x_free(d->sx130x);
	d->sx130x = NULL;
	if (d->intake)
		fg_cmd_intake_set_lora(d->intake, NULL);
	fg_lora_free(d->lora);
	d->lora = NULL;
}

/* Start the sources the configuration enables. */
static int sources_start(struct daemon *d)
{
	const struct fg_sim_config *sim = &d->cfg->sources.sim;
	int r;

	const struct fg_gwmp_config *gwmp = &d->cfg->sources.gwmp;
	const struct fg_lora_state_ops ops = { get_fcnt, set_fcnt, d, lora_load, lora_save,
					       lora_send };
	static const struct fg_gwmp_handlers handlers = { on_rxpk, on_gwmp_stat, on_gwmp_refused,
							  on_gwmp_tx_ack };

	if (sim->enabled) {
		r = fg_sim_new(sim, d->loop, on_readings, d, &d->sim);
		if (r < 0)
			return fg_log_errno(r, "sim", "cannot start the simulated source: %m");
		fg_log_info("sim", "simulating %u devices, one report each every %u ms",
			    sim->devices, sim->interval_ms);
	}
	if (gwmp->enabled || d->cfg->sources.sx130x.enabled || (sim->enabled && sim->lorawan)) {
		r = fg_lora_new(d->cfg, &ops, &d->lora);
		if (r < 0)
			return fg_log_errno(r, "lora", "cannot set up the LoRaWAN sessions: %m");
		fg_log_info("lora", "%zu LoRaWAN devices, region %s, unknown DevAddrs %s",
			    d->cfg->lorawan.n_devices,
			    fg_lw_region_to_string(d->cfg->lorawan.region),
			    d->cfg->lorawan.unknown == FG_LORAWAN_UNKNOWN_FORWARD ? "forwarded"
										 : "dropped");
	}
	if (gwmp->enabled) {
		r = fg_gwmp_new(gwmp, d->loop, &handlers, d, &d->gwmp);
		if (r < 0)
			return r; /* fg_gwmp_new said why */
		fg_log_info("gwmp", "listening for a packet forwarder on %s (UDP port %u)",
			    gwmp->listen, fg_gwmp_port(d->gwmp));
	}
	if (d->cfg->sources.sx130x.enabled && !d->sx130x) {
		static const struct fg_sx130x_handlers sxh = { on_sx130x_frame, on_sx130x_stat };

		/* Starting takes a reset sequence and may be retried: it goes on in the loop. */
		r = fg_sx130x_new(d->cfg, d->loop, NULL, &sxh, d, &d->sx130x);
		if (r < 0)
			fg_log_error("sx130x", "no concentrator source: %s; the other sources run on",
				     strerror(-r));
	}
	if (sim->enabled && sim->lorawan) {
		r = fg_sim_lora_new(d->cfg, d->loop, &ops, on_frame, d, &d->sim_lora);
		if (r < 0)
			return fg_log_errno(r, "sim", "cannot start the simulated LoRaWAN devices: %m");
		fg_sim_lora_set_frame_from(d->sim_lora, on_sim_frame);
		if (!d->sim_lora)
			fg_log_warning("sim", "sources.sim.lorawan is set but no device of "
				       "lorawan.devices has the cayenne or raw codec");
	}
	if (d->cfg->sources.ble.enabled || (sim->enabled && sim->ble)) {
		const struct fg_ble_state_ops bops = { get_ble_counter, set_ble_counter, d };

		r = fg_ble_rx_new(d->cfg, &bops, &d->ble_rx);
		if (r < 0)
			return fg_log_errno(r, "ble", "cannot set up the BLE devices: %m");
	}
	if (d->cfg->sources.ble.enabled) {
		r = fg_ble_new(&d->cfg->sources.ble, d->cfg->ble.forget_after_s, d->loop, on_advert,
			       ble_wanted, d, &d->ble);
		if (r < 0)
			fg_log_error("ble", "no BLE source: %s; the other sources run on",
				     strerror(-r));
		else
			fg_log_info("ble", "%zu BLE devices configured, unknown advertisers %s",
				    d->cfg->ble.n_devices,
				    d->cfg->ble.unknown == FG_BLE_UNKNOWN_DECODE ? "decoded"
										: "ignored");
	}
	if (sim->enabled && sim->ble) {
		r = fg_sim_ble_new(d->cfg, d->loop, on_advert, d, &d->sim_ble);
		if (r < 0)
			return fg_log_errno(r, "sim", "cannot start the simulated BLE devices: %m");
		if (!d->sim_ble)
			fg_log_warning("sim", "sources.sim.ble is set but no device of ble.devices "
				       "has the bthome, ruuvi5, atc1441 or auto codec");
	}
	/* As installed: nothing arrives, nothing is buffered. Say what to configure, once. */
	if (!d->sim && !d->gwmp && !d->ble && !d->sx130x) {
		bool no_broker = !d->dry_run && strcmp(d->cfg->mqtt.host, "localhost") == 0;

		fg_log_warning("core", "no source is enabled: set sources.gwmp, sources.sx130x or "
			       "sources.ble in '%s'%s, then systemctl reload fieldgate",
			       d->config_path, no_broker ? " and mqtt.host (now 'localhost')" : "");
	}
	return 0;
}

/* Keep the concentrator's EUI once it is read; say what it will name. */
static void keep_concentrator_eui(struct daemon *d)
{
	uint64_t eui;
	char id[20];

	if (!d->sx130x || !d->store || fg_sx130x_eui(d->sx130x, &eui) < 0 ||
	    eui == d->concentrator_eui)
		return;
	if (fg_store_state_put(d->store, "sx130x", "eui", &eui, sizeof(eui)) < 0)
		return;
	d->concentrator_eui = eui;
	snprintf(id, sizeof(id), "%016llx", (unsigned long long)eui);
	if (d->cfg->gateway.id_default && strcmp(d->cfg->gateway.id, id))
		fg_log_notice("core", "gateway.id is not set: from the next start this gateway is "
			      "named %s, its concentrator's EUI (now '%s')", id, d->cfg->gateway.id);
}

static int on_status_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	struct fg_mqtt_stats ms = { 0 };

	keep_concentrator_eui(d);

	if (d->mqtt)
		fg_mqtt_get_stats(d->mqtt, &ms);
	rate_sample(d, d->dry_run ? d->readings_out : ms.acked);
	update_status(d);
	write_textfile(d);
	(void) sd_event_source_set_time(es, usec + STATUS_PERIOD_USEC);
	return 0;
}

static int on_housekeeping_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
	(void) userdata;
	fg_log_ratelimit_flush();
	(void) sd_event_source_set_time(es, usec + HOUSEKEEPING_PERIOD_USEC);
	return 0;
}

/* SIGTERM, SIGINT: stop sources, flush, and leave the loop. */
static int on_stop_signal(sd_event_source *es, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;

	(void) es;
	if (d->stopping)
		return 0;
	d->stopping = true;
	(void) sd_notify(0, "STOPPING=1");
	fg_log_info("core", "received %s, stopping", strsignal((int)si->ssi_signo));
	sources_stop(d);
	update_status(d);
	if (!d->dry_run)
		pipeline_stop(d);
	return sd_event_exit(d->loop, 0);
}

/* Whether the concentrator runs the same under cfg as under the running configuration. */
static bool sx130x_unchanged(const struct daemon *d, const struct fg_config *cfg)
{
	struct fg_sx130x_setup a, b;
	struct fg_diags diags = { 0 };
	bool same;

	if (!d->sx130x || !cfg->sources.sx130x.enabled)
		return false;
	same = fg_sx130x_setup_resolve(d->cfg, &a, &diags) == 0 &&
	       fg_sx130x_setup_resolve(cfg, &b, &diags) == 0 && fg_sx130x_setup_equal(&a, &b);
	fg_diags_clear(&diags);
	return same;
}

/* SIGHUP: load the file again; on any error keep running on the old configuration. */
static int on_reload_signal(sd_event_source *es, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;
	struct fg_diags diags = { 0 };
	struct fg_config *cfg = NULL, *old;
	struct fg_sx130x *kept = NULL;
	int r;

	(void) es;
	(void) si;
	(void) sd_notify(0, "RELOADING=1");
	fg_log_info("config", "reloading '%s'", d->config_path);
	r = config_load(d->config_path, &cfg, &diags);
	log_diags(&diags);
	fg_diags_clear(&diags);
	if (r < 0) {
		fg_log_error("config", "reload of '%s' refused, keeping the running configuration",
			     d->config_path);
		goto done;
	}
	/* A concentrator whose settings did not change keeps running: no reset, no lost frames. */
	if (sx130x_unchanged(d, cfg)) {
		kept = d->sx130x;
		d->sx130x = NULL;
		fg_log_info("sx130x", "concentrator settings unchanged: it keeps running");
	}
	sources_stop(d);
	if (strcmp(cfg->buffer.path, d->cfg->buffer.path) != 0)
		fg_log_notice("config", "buffer.path changed: the new buffer is used after a restart");
	if (!d->dry_run) {
		/* What the old rules hold goes to the buffer; the new ones read back what is theirs. */
		store_commit(d);
		pipeline_free(d);
	}
	if (!d->dry_run)
		name_by_concentrator(d, cfg);
	old = d->cfg;
	d->cfg = cfg;
	if (!d->dry_run && rules_start(d) < 0)
		fg_log_error("rules", "no rules after reload: readings stay in the buffer until "
			     "a configuration whose rules start");
	apply_log_level(d);
	if (!d->dry_run && d->mqtt &&
	    fg_mqtt_same_setup(d->mqtt, &d->cfg->mqtt, d->cfg->gateway.id,
			       fg_format_content_type((enum fg_format)d->cfg->mqtt.format))) {
		/* Nothing the sink uses changed: no reconnect, the window and counters stay. */
		fg_log_info("mqtt", "broker settings unchanged: the connection to '%s:%u' is kept",
			    d->cfg->mqtt.host, d->cfg->mqtt.port);
		ha_subscribe(d);
		fg_mqtt_kick(d->mqtt);
	} else if (!d->dry_run) {
		/* Reconnect with the new broker settings; what is in flight is peeked again. */
		if (d->mqtt)
			fg_log_info("mqtt", "broker settings changed: reconnecting");
		fg_mqtt_free(d->mqtt);
		d->mqtt = NULL;
		if (sink_start(d) < 0)
			fg_log_error("mqtt", "no MQTT sink after reload: readings stay buffered");
	}
	d->sx130x = kept;
	if (!d->dry_run)
		(void) commands_start(d);
	r = sources_start(d);
	commands_attach_lora(d);
	if (r < 0)
		fg_log_error("core", "sources failed to start after reload; running without them");
	else
		fg_log_info("config", "reloaded '%s'", d->config_path);
	fg_config_free(old);
done:
	update_status(d);
	(void) sd_notify(0, "READY=1");
	return 0;
}

/* Build the loop: signals, watchdog, timers, sources. */
static int daemon_setup(struct daemon *d)
{
	uint64_t now;
	sigset_t mask;
	int r;

	/* Signals must be blocked before sd_event_add_signal, or it fails with -EBUSY. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return fg_log_errno(-errno, "core", "cannot block signals: %m");
	/* A vanished reader of stdout must not kill us: EPIPE is handled where it happens. */
	signal(SIGPIPE, SIG_IGN);

	r = sd_event_default(&d->loop);
	if (r < 0)
		return fg_log_errno(r, "core", "cannot create the event loop: %m");
	r = sd_event_add_signal(d->loop, NULL, SIGTERM, on_stop_signal, d);
	if (r >= 0)
		r = sd_event_add_signal(d->loop, NULL, SIGINT, on_stop_signal, d);
	if (r >= 0)
		r = sd_event_add_signal(d->loop, NULL, SIGHUP, on_reload_signal, d);
	if (r < 0)
		return fg_log_errno(r, "core", "cannot watch signals: %m");
	/* Sends WATCHDOG=1 at half of WATCHDOG_USEC when systemd asks for it. */
	r = sd_event_set_watchdog(d->loop, true);
	if (r < 0)
		return fg_log_errno(r, "core", "cannot set up the watchdog: %m");
	if (r > 0)
		fg_log_debug("core", "systemd watchdog enabled");

	now = fg_clock_mono_usec();
	r = sd_event_add_time(d->loop, &d->status_timer, CLOCK_MONOTONIC, now + STATUS_PERIOD_USEC,
			      FG_USEC_PER_SEC, on_status_timer, d);
	if (r >= 0)
		r = sd_event_source_set_enabled(d->status_timer, SD_EVENT_ON);
	if (r >= 0)
		r = sd_event_add_time(d->loop, &d->housekeeping_timer, CLOCK_MONOTONIC,
				      now + HOUSEKEEPING_PERIOD_USEC, FG_USEC_PER_SEC,
				      on_housekeeping_timer, d);
	if (r >= 0)
		r = sd_event_source_set_enabled(d->housekeeping_timer, SD_EVENT_ON);
	if (r < 0)
		return fg_log_errno(r, "core", "cannot add timers: %m");
	d->start_usec = now;
	if (!d->dry_run) {
		r = pipeline_start(d);
		if (r < 0)
			return r;
	}
	control_start(d);
	r = sources_start(d);
	commands_attach_lora(d);
	return r;
}

static void daemon_free(struct daemon *d)
{
	fg_control_free(d->control);
	sources_stop(d);
	pipeline_stop(d);
	sd_event_source_disable_unref(d->status_timer);
	sd_event_source_disable_unref(d->housekeeping_timer);
	sd_event_unref(d->loop);
	fg_config_free(d->cfg);
}

/* Load the configuration, reporting findings on stderr (check mode) or the log. */
static int load_config(struct daemon *d, bool check_only)
{
	struct fg_diags diags = { 0 };
	int r;

	r = config_load(d->config_path, &d->cfg, &diags);
	/* Run as root, the check also names the TLS files the daemon's user cannot read. */
	if (r >= 0 && check_only)
		r = fg_mqtt_check_tls(d->cfg, FG_DAEMON_USER, &diags);
	if (check_only)
		fg_diags_print(&diags, stderr);
	else
		log_diags(&diags);
	fg_diags_clear(&diags);
	if (r < 0 && !check_only)
		fg_log_error("config", "configuration '%s' refused", d->config_path);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "debug", required_argument, NULL, 'D' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct daemon d = { .config_path = FG_CONFIG_DEFAULT_PATH };
	bool check_only = false;
	int c, r;

	/* One thread uses SQLite: no mutexes there (before any other SQLite call). */
	(void) fg_store_single_thread();

	while ((c = getopt_long(argc, argv, "c:tnvqD:Vh", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			d.config_path = optarg;
			break;
		case 't':
			check_only = true;
			break;
		case 'n':
			d.dry_run = true;
			break;
		case 'v':
			d.verbosity++;
			break;
		case 'q':
			d.verbosity--;
			break;
		case 'D':
			d.debug_modules = optarg;
			break;
		case 'V':
			printf("fieldgated %s\n", PACKAGE_VERSION);
			return EXIT_SUCCESS;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fieldgated: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}

	fg_log_open(FG_LOG_TARGET_AUTO);
	if (d.debug_modules && fg_log_set_debug_modules(d.debug_modules) < 0) {
		fprintf(stderr, "fieldgated: -D list too long\n");
		return EXIT_USAGE;
	}

	r = load_config(&d, check_only);
	if (check_only) {
		if (r < 0)
			return EXIT_CONFIG;
		printf("configuration OK\n");
		fg_config_free(d.cfg);
		return EXIT_SUCCESS;
	}
	if (r < 0)
		return EXIT_CONFIG;
	apply_log_level(&d);

	if (d.dry_run) {
		r = fg_jsonl_prepare_fd(STDOUT_FILENO);
		if (r < 0)
			fg_log_errno(r, "sink", "cannot make standard output non-blocking: %m");
	} else if (fg_mqtt_lib_init() < 0) {
		fg_log_error("mqtt", "cannot initialise libmosquitto");
		fg_config_free(d.cfg);
		return EXIT_FAILURE;
	}
	r = daemon_setup(&d);
	if (r < 0)
		goto out;
	fg_log_info("core", "fieldgated %s started as gateway '%s', configuration '%s'",
		    PACKAGE_VERSION, d.cfg->gateway.id, d.config_path);
	update_status(&d);
	(void) sd_notify(0, "READY=1");

	r = sd_event_loop(d.loop);
	if (r < 0)
		fg_log_errno(r, "core", "event loop failed: %m");
	else
		fg_log_info("core", "stopped after %llu readings in, %llu %s out",
			    (unsigned long long)d.readings_in, (unsigned long long)d.readings_out,
			    d.dry_run ? "readings" : "messages");
out:
	daemon_free(&d);
	if (!d.dry_run)
		fg_mqtt_lib_cleanup();
	fg_log_close();
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
