/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The health record (JSON) and the same counters as Prometheus text. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/clock.h"
#include "cmd/command.h"
#include "lora/lorawan.h"
#include "sink/health.h"

#define ULL(x) ((unsigned long long) (x))

/* Append to the JSON being built in buf (n bytes so far); -ENOBUFS when it is full. */
#define PUT(...)                                                                                   \
	do {                                                                                       \
		k = snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__);                       \
		if (k < 0 || n + (size_t) k >= size)                                               \
			return -ENOBUFS;                                                           \
		n += (size_t) k;                                                                   \
	} while (0)

/* Gateway, time, buffer, broker: the record's first keys. */
static int put_core(const struct fg_health_parts *p, char *buf, size_t size, size_t n)
{
	const struct fg_store_stats *ss = &p->store;
	const struct fg_mqtt_stats *ms = &p->mqtt;
	uint64_t now = p->time_ms;
	char time_ms[24] = "null", first_ack[24] = "null", last_ack[24] = "null";
	int k;

	if (p->time_ms)
		snprintf(time_ms, sizeof(time_ms), "%llu", ULL(p->time_ms));
	if (ms->first_ack_mono_usec)
		snprintf(first_ack, sizeof(first_ack), "%llu", ULL(ms->first_ack_mono_usec / 1000));
	if (ms->last_ack_mono_usec)
		snprintf(last_ack, sizeof(last_ack), "%llu", ULL(ms->last_ack_mono_usec / 1000));
	PUT("{\"schema\":%d,\"running\":true,\"gateway\":\"%s\",\"version\":\"%s\","
	    "\"boot_id\":\"%s\",\"time_ms\":%s,\"clock_synchronized\":%s,"
	    "\"uptime_s\":%llu,\"mode\":\"%s\",",
	    FG_HEALTH_SCHEMA, p->gateway, PACKAGE_VERSION, fg_clock_boot_id(), time_ms,
	    p->clock_synchronized ? "true" : "false", ULL(p->uptime_s),
	    p->dry_run ? "dry-run" : "buffered");
	PUT("\"readings_in\":%llu,\"published\":%llu,\"evicted\":%llu,\"dropped\":%llu,"
	    "\"readings_per_s\":%.1f,\"published_per_s\":%.1f,"
	    "\"buffer_depth\":%llu,\"oldest_age_s\":%llu,\"db_bytes\":%llu,"
	    "\"evicted_rows\":%llu,\"evicted_bytes\":%llu,\"evicted_disk\":%llu,"
	    "\"evicted_age\":%llu,\"disk_free\":%llu,\"wal_bytes\":%llu,"
	    "\"wal_syncs\":%llu,\"sync_errors\":%llu,\"committed_seq\":%llu,\"synced_seq\":%llu,",
	    ULL(p->readings_in), ULL(p->published), ULL(ss->evicted),
	    ULL(p->dropped_store + p->dropped_unformattable), p->readings_per_s, p->published_per_s,
	    ULL(ss->outbox_rows + ss->readings_rows),
	    ULL(ss->oldest_ms && now > ss->oldest_ms ? (now - ss->oldest_ms) / 1000 : 0),
	    ULL(ss->db_bytes), ULL(ss->evicted_rows), ULL(ss->evicted_bytes), ULL(ss->evicted_disk),
	    ULL(ss->evicted_age), ULL(ss->disk_free), ULL(ss->wal_bytes), ULL(ss->wal_syncs),
	    ULL(ss->sync_errors), ULL(ss->committed_seq), ULL(ss->synced_seq));
	PUT("\"evictions\":{\"max_rows\":%llu,\"max_bytes\":%llu,\"disk\":%llu,\"max_age\":%llu},"
	    "\"drops\":{\"store\":%llu,\"unformattable\":%llu},",
	    ULL(ss->evicted_rows), ULL(ss->evicted_bytes), ULL(ss->evicted_disk),
	    ULL(ss->evicted_age), ULL(p->dropped_store), ULL(p->dropped_unformattable));
	PUT("\"broker\":\"%s\",\"inflight\":%llu,\"connects\":%llu,\"reconnects\":%llu,"
	    "\"broker_failures\":%llu,\"last_acked_seq\":%llu,"
	    "\"first_ack_mono_ms\":%s,\"last_ack_mono_ms\":%s,\"session_present\":%s,"
	    "\"latency_count\":%llu,\"latency_p50_ms\":%.1f,\"latency_p99_ms\":%.1f,"
	    "\"latency_max_ms\":%.1f,",
	    p->dry_run ? "none" : fg_mqtt_state_to_string(p->have_mqtt ? ms->state : FG_MQTT_IDLE),
	    ULL(ms->inflight), ULL(ms->connects), ULL(ms->connects > 1 ? ms->connects - 1 : 0),
	    ULL(ms->failures), ULL(ms->last_acked_seq), first_ack, last_ack,
	    ms->session_present ? "true" : "false", ULL(ms->latency_count),
	    (double) ms->latency_p50_usec / 1000.0, (double) ms->latency_p99_usec / 1000.0,
	    (double) ms->latency_max_usec / 1000.0);
	PUT("\"metrics_textfile_writes\":%llu,\"metrics_textfile_failures\":%llu,",
	    ULL(p->textfile_writes), ULL(p->textfile_failures));
	return (int) n;
}

/* The per-source block: received, refused by reason, state, for each source. */
static int put_sources(const struct fg_health_parts *p, char *buf, size_t size, size_t n)
{
	const struct fg_gwmp_stats *gs = &p->gwmp;
	const struct fg_sx130x_stats *xs = &p->sx130x;
	const struct fg_ble_rx_stats *bs = &p->ble_rx;
	int k;

	PUT("\"sources\":{\"gwmp\":{\"state\":\"%s\",\"received\":%llu,\"refused\":{",
	    p->have_gwmp ? "listening" : "off", ULL(gs->rxpk));
	for (int i = 1; i < FG_GWMP_REASON__COUNT; i++)
		PUT("%s\"%s\":%llu", i > 1 ? "," : "", fg_gwmp_reason_to_string(i),
		    ULL(gs->refused[i]));
	PUT("}},\"sx130x\":{\"state\":\"%s\",\"received\":%llu,\"refused\":{\"crc_bad\":%llu,"
	    "\"no_crc\":%llu,\"dropped\":%llu}},",
	    p->have_sx130x ? fg_sx130x_state_to_string(xs->state) : "off", ULL(xs->rx_packets),
	    ULL(xs->rx_crc_bad), ULL(xs->rx_no_crc), ULL(xs->rx_dropped));
	PUT("\"ble\":{\"state\":\"%s\",\"received\":%llu,\"refused\":{\"ignored\":%llu,"
	    "\"throttled\":%llu,\"malformed\":%llu,\"unauthenticated\":%llu,\"replayed\":%llu}},",
	    !p->have_ble	      ? "off"
	    : !p->ble.adapter_present ? "no-adapter"
	    : !p->ble.scanning	      ? "idle"
	    : p->ble.passive	      ? "passive"
				      : "active",
	    ULL(bs->adverts), ULL(bs->ignored), ULL(bs->throttled), ULL(bs->malformed),
	    ULL(bs->unauthenticated), ULL(bs->replayed));
	PUT("\"sim\":{\"state\":\"%s\",\"received\":%llu,\"refused\":{},\"skipped\":%llu}},",
	    p->have_sim ? "running" : "off", ULL(p->sim_emitted), ULL(p->sim_skipped));
	PUT("\"lorawan\":{\"frames\":%llu,\"accepted\":%llu,\"refused\":{", ULL(p->lora.frames),
	    ULL(p->lora.accepted));
	for (int i = 1; i < FG_LW_REASON__COUNT; i++)
		PUT("%s\"%s\":%llu", i > 1 ? "," : "", fg_lw_reason_to_string(i),
		    ULL(p->lora.refused[i]));
	PUT("},\"downlinks\":%llu,\"downlink_acks\":%llu,\"downlink_retries\":%llu,"
	    "\"mac_answers\":%llu,\"link_adr_sent\":%llu,\"link_adr_ok\":%llu,"
	    "\"link_adr_refused\":%llu},",
	    ULL(p->lora.app_downlinks), ULL(p->lora.app_acks), ULL(p->lora.app_retries),
	    ULL(p->lora.mac_answers), ULL(p->lora.link_adr_sent), ULL(p->lora.link_adr_ok),
	    ULL(p->lora.link_adr_refused));
	return (int) n;
}

/* Commands from the cloud: what came, what became of it. */
static int put_commands(const struct fg_health_parts *p, char *buf, size_t size, size_t n)
{
	const struct fg_cmdq_stats *cs = &p->commands;
	const struct fg_cmd_intake_stats *is = &p->intake;
	int k;

	PUT("\"commands\":{\"enabled\":%s,\"received\":%llu,\"duplicates\":%llu,"
	    "\"pending\":%llu,\"ignored\":%llu,\"gpio_sets\":%llu,\"gpio_failures\":%llu,"
	    "\"storage_failures\":%llu,\"outcomes\":{",
	    p->have_commands ? "true" : "false", ULL(cs->received), ULL(cs->duplicates),
	    ULL(cs->pending), ULL(is->ignored), ULL(is->gpio_sets), ULL(is->gpio_failures),
	    ULL(is->storage_failures));
	for (int i = 0; i < FG_CMD_OUTCOME__COUNT; i++)
		PUT("%s\"%s\":%llu", i > 0 ? "," : "", fg_cmd_outcome_to_string(i),
		    ULL(cs->outcomes[i]));
	PUT("},\"failed\":{");
	for (int i = 1; i < FG_CMD_REASON__COUNT; i++)
		PUT("%s\"%s\":%llu", i > 1 ? "," : "", fg_cmd_reason_to_string(i),
		    ULL(cs->failed[i]));
	PUT("}},");
	return (int) n;
}

/* The flat counters of each module (the status answer's keys before schema 1). */
static int put_flat(const struct fg_health_parts *p, char *buf, size_t size, size_t n)
{
	const struct fg_lora_stats *ls = &p->lora;
	const struct fg_gwmp_stats *gs = &p->gwmp;
	const struct fg_control_stats *cs = &p->control;
	const struct fg_sx130x_stats *xs = &p->sx130x;
	const struct fg_ble_rx_stats *bs = &p->ble_rx;
	const struct fg_ble_stats *src = &p->ble;
	const struct fg_rules_stats *rs = &p->rules;
	const struct fg_pipeline_stats *ps = &p->pipeline;
	char eui[24] = "null", temp[24] = "null";
	int k;

	PUT("\"lora_frames\":%llu,\"lora_accepted\":%llu,\"lora_codec_failed\":%llu,"
	    "\"lora_forwarded\":%llu,\"lora_refused\":{",
	    ULL(ls->frames), ULL(ls->accepted), ULL(ls->codec_failed), ULL(ls->forwarded));
	for (int i = 1; i < FG_LW_REASON__COUNT; i++)
		PUT("%s\"%s\":%llu", i > 1 ? "," : "", fg_lw_reason_to_string(i),
		    ULL(ls->refused[i]));
	PUT("},\"lora_join_requests\":%llu,\"lora_joins\":%llu,\"lora_acks\":%llu,"
	    "\"lora_downlink_failed\":%llu,\"lora_duty_limited\":%llu,",
	    ULL(ls->join_requests), ULL(ls->joins), ULL(ls->acks), ULL(ls->downlink_failed),
	    ULL(ls->duty_limited));
	PUT("\"lora_app_downlinks\":%llu,\"commands_received\":%llu,\"commands_pending\":%llu,",
	    ULL(ls->app_downlinks), ULL(p->commands.received), ULL(p->commands.pending));
	PUT("\"gwmp_datagrams\":%llu,\"gwmp_frames\":%llu,\"gwmp_stats\":%llu,"
	    "\"gwmp_pull_resp\":%llu,\"gwmp_refused\":{",
	    ULL(gs->datagrams), ULL(gs->rxpk), ULL(gs->stat), ULL(gs->pull_resp));
	for (int i = 1; i < FG_GWMP_REASON__COUNT; i++)
		PUT("%s\"%s\":%llu", i > 1 ? "," : "", fg_gwmp_reason_to_string(i),
		    ULL(gs->refused[i]));
	PUT("},\"gwmp_tx_errors\":{");
	for (int i = 0; i < FG_GWMP_TX__COUNT; i++)
		PUT("%s\"%s\":%llu", i > 0 ? "," : "", fg_gwmp_tx_error_to_string(i),
		    ULL(gs->tx_errors[i]));
	PUT("},\"gwmp_kernel_drops\":%llu,\"gwmp_receive_buffer\":%d,", ULL(gs->kernel_drops),
	    gs->receive_buffer);
	PUT("\"control_clients\":%u,\"control_refused\":%llu,\"control_timeouts\":%llu,"
	    "\"control_accept_failed\":%llu,",
	    cs->clients, cs->refused, cs->timeouts, cs->accept_failed);
	if (xs->eui)
		snprintf(eui, sizeof(eui), "\"%016llx\"", ULL(xs->eui));
	if (xs->has_temperature)
		snprintf(temp, sizeof(temp), "%.1f", (double) xs->temperature);
	PUT("\"sx130x_hal\":\"%s\",\"sx130x_state\":\"%s\",\"sx130x_eui\":%s,"
	    "\"sx130x_starts\":%llu,\"sx130x_start_failures\":%llu,"
	    "\"sx130x_receive_errors\":%llu,\"sx130x_rx_packets\":%llu,"
	    "\"sx130x_rx_crc_ok\":%llu,\"sx130x_rx_crc_bad\":%llu,\"sx130x_rx_no_crc\":%llu,"
	    "\"sx130x_rx_dropped\":%llu,\"sx130x_frames\":%llu,\"sx130x_tx_sent\":%llu,"
	    "\"sx130x_tx_failed\":%llu,\"sx130x_tx_queued\":%llu,\"sx130x_tx_late\":%llu,"
	    "\"sx130x_tx_collided\":%llu,\"sx130x_tx_too_far\":%llu,"
	    "\"sx130x_tx_queue_full\":%llu,\"sx130x_tx_lost\":%llu,"
	    "\"sx130x_temperature\":%s,",
	    p->sx130x_hal ? p->sx130x_hal : "none",
	    p->have_sx130x ? fg_sx130x_state_to_string(xs->state) : "off", eui, ULL(xs->starts),
	    ULL(xs->start_failures), ULL(xs->receive_errors), ULL(xs->rx_packets),
	    ULL(xs->rx_crc_ok), ULL(xs->rx_crc_bad), ULL(xs->rx_no_crc), ULL(xs->rx_dropped),
	    ULL(xs->frames), ULL(xs->tx_sent), ULL(xs->tx_failed), ULL(xs->tx_queued),
	    ULL(xs->tx_late), ULL(xs->tx_collided), ULL(xs->tx_too_far), ULL(xs->tx_queue_full),
	    ULL(xs->tx_lost), temp);
	PUT("\"ble_adverts\":%llu,\"ble_decoded\":%llu,\"ble_throttled\":%llu,"
	    "\"ble_ignored\":%llu,\"ble_malformed\":%llu,\"ble_unauthenticated\":%llu,"
	    "\"ble_replayed\":%llu,\"ble_adapter\":%s,\"ble_scanning\":\"%s\","
	    "\"ble_bluez_restarts\":%llu,\"ble_devices_removed\":%llu,",
	    ULL(bs->adverts), ULL(bs->decoded), ULL(bs->throttled), ULL(bs->ignored),
	    ULL(bs->malformed), ULL(bs->unauthenticated), ULL(bs->replayed),
	    src->adapter_present ? "true" : "false",
	    !src->scanning ? "no"
	    : src->passive ? "passive"
			   : "active",
	    ULL(src->bluez_restarts), ULL(src->devices_removed));
	PUT("\"rules_evaluated\":%llu,\"rules_dropped\":%llu,\"rules_changed\":%llu,"
	    "\"rules_skipped\":%llu,\"rules_suppressed\":%llu,\"rules_aggregated\":%llu,"
	    "\"rules_windows\":%llu,\"rules_raised\":%llu,\"rules_cleared\":%llu,"
	    "\"rules_untracked\":%llu,\"rules_series\":%zu,\"alerts_queued\":%llu,"
	    "\"discovery_queued\":%llu,\"gpio\":%s,",
	    rs->evaluated, rs->dropped, rs->changed, rs->skipped, rs->suppressed, rs->aggregated,
	    rs->windows, rs->raised, rs->cleared, rs->untracked, rs->series, ps->alerts,
	    ps->discovery, p->gpio_json ? p->gpio_json : "[]");
	return (int) n;
}

int fg_health_json(const struct fg_health_parts *p, char *buf, size_t size)
{
	int n, k;

	n = put_core(p, buf, size, 0);
	if (n >= 0)
		n = put_sources(p, buf, size, (size_t) n);
	if (n >= 0)
		n = put_commands(p, buf, size, (size_t) n);
	if (n >= 0)
		n = put_flat(p, buf, size, (size_t) n);
	if (n < 0 || (size_t) n + 20 >= size)
		return -ENOBUFS;
	k = snprintf(buf + n, size - (size_t) n, "\"broker_error\":\"");
	n += k;
	/* The error text comes from libraries and peers: keep it JSON-safe. */
	for (const char *c = p->mqtt.last_error; *c && (size_t) n + 8 < size; c++)
		buf[n++] = (*c == '"' || *c == '\\' || (unsigned char) *c < 0x20) ? '\'' : *c;
	n += snprintf(buf + n, size - (size_t) n, "\"}\n");
	return (size_t) n < size ? n : -ENOBUFS;
}

/* Every number and boolean in v becomes null, except what keep lists (top level only). */
static void nullify(json_t *v, bool top)
{
	static const char *const keep[] = {
		"schema",	"gateway",	"boot_id",  "time_ms",	 "clock_synchronized",
		"buffer_depth", "oldest_age_s", "db_bytes", "disk_free", NULL
	};
	const char *key;
	json_t *x;

	json_object_foreach(v, key, x)
	{
		bool kept = false;

		for (size_t i = 0; top && keep[i]; i++)
			kept |= strcmp(key, keep[i]) == 0;
		if (kept)
			continue;
		if (json_is_object(x))
			nullify(x, false);
		else
			json_object_set_new(v, key, json_null());
	}
}

char *fg_health_file_json(const char *gateway, const struct fg_store_summary *sum,
			  uint64_t disk_free, bool have_disk_free, bool clock_synchronized)
{
	static char buf[32768];
	struct fg_health_parts p = { .gateway = gateway, .clock_synchronized = clock_synchronized };
	uint64_t now = fg_clock_wall_ms();
	json_t *rec;
	char *out;

	if (clock_synchronized)
		p.time_ms = now;
	if (fg_health_json(&p, buf, sizeof(buf)) < 0)
		return NULL;
	rec = json_loads(buf, 0, NULL);
	if (!rec)
		return NULL;
	nullify(rec, true);
	json_object_set_new(rec, "running", json_false());
	json_object_set_new(rec, "uptime_s", json_null());
	if (sum) {
		json_object_set_new(
			rec, "buffer_depth",
			json_integer((json_int_t) (sum->outbox_rows + sum->readings_rows)));
		json_object_set_new(
			rec, "oldest_age_s",
			json_integer(sum->oldest_ms && now > sum->oldest_ms
					     ? (json_int_t) ((now - sum->oldest_ms) / 1000)
					     : 0));
		json_object_set_new(rec, "db_bytes", json_integer((json_int_t) sum->db_bytes));
		json_object_set_new(rec, "next_seq", json_integer((json_int_t) sum->next_seq));
	} else {
		json_object_set_new(rec, "buffer_depth", json_null());
		json_object_set_new(rec, "oldest_age_s", json_null());
		json_object_set_new(rec, "db_bytes", json_null());
	}
	json_object_set_new(rec, "disk_free",
			    have_disk_free ? json_integer((json_int_t) disk_free) : json_null());
	json_object_set_new(rec, "broker", json_null());
	json_object_set_new(rec, "mode", json_null());
	json_object_set_new(rec, "version", json_null());
	json_object_set_new(rec, "sx130x_hal", json_null());
	json_object_set_new(rec, "sx130x_state", json_null());
	json_object_set_new(rec, "ble_scanning", json_null());
	json_object_set_new(rec, "broker_error", json_null());
	json_object_set_new(rec, "gpio", json_null());
	out = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(rec);
	if (out) {
		char *line = NULL;

		if (asprintf(&line, "%s\n", out) < 0)
			line = NULL;
		free(out);
		out = line;
	}
	return out;
}

/* ---------------------------------------------------------------- metrics */

enum mtype { GAUGE, COUNTER };

/* A top-level number (or boolean) of the record as one metric without labels. */
struct metric {
	const char *name; /* without the prefix; counters with their _total */
	enum mtype type;
	const char *key;
	double scale; /* 0: 1 */
	const char *help;
};

static const struct metric plain[] = {
	{ "uptime_seconds", GAUGE, "uptime_s", 0, "seconds since the daemon started" },
	{ "clock_synchronized", GAUGE, "clock_synchronized", 0,
	  "1 when the wall clock is synchronized" },
	{ "readings_total", COUNTER, "readings_in", 0, "readings handed over by the sources" },
	{ "published_total", COUNTER, "published", 0, "messages the broker acknowledged" },
	{ "readings_per_second", GAUGE, "readings_per_s", 0, "readings in, over the last minute" },
	{ "published_per_second", GAUGE, "published_per_s", 0,
	  "messages acknowledged, over the last minute" },
	{ "buffer_messages", GAUGE, "buffer_depth", 0, "messages and readings in the buffer" },
	{ "buffer_bytes", GAUGE, "db_bytes", 0, "bytes of the buffer file, WAL included" },
	{ "buffer_wal_bytes", GAUGE, "wal_bytes", 0, "bytes of the buffer's WAL" },
	{ "buffer_wal_syncs_total", COUNTER, "wal_syncs", 0,
	  "syncs of the buffer's WAL by buffer.sync_interval_ms" },
	{ "buffer_sync_errors_total", COUNTER, "sync_errors", 0,
	  "syncs of the buffer's WAL that failed" },
	{ "buffer_oldest_age_seconds", GAUGE, "oldest_age_s", 0,
	  "age of the oldest message waiting" },
	{ "buffer_disk_free_bytes", GAUGE, "disk_free", 0,
	  "bytes available on the buffer's filesystem" },
	{ "broker_inflight_messages", GAUGE, "inflight", 0, "messages published, not yet acked" },
	{ "broker_connects_total", COUNTER, "connects", 0, "successful connections to the broker" },
	{ "broker_reconnects_total", COUNTER, "reconnects", 0,
	  "connections to the broker after the first" },
	{ "broker_failures_total", COUNTER, "broker_failures", 0,
	  "failed connection attempts and lost connections" },
	{ "latency_p99_seconds", GAUGE, "latency_p99_ms", 0.001,
	  "99th percentile of reading to PUBACK since start" },
	{ "lorawan_frames_total", COUNTER, "lora_frames", 0, "LoRaWAN frames decoded or refused" },
	{ "lorawan_accepted_total", COUNTER, "lora_accepted", 0, "LoRaWAN frames accepted" },
	{ "lorawan_downlinks_total", COUNTER, "lora_app_downlinks", 0,
	  "application downlinks handed to a radio" },
	{ "commands_received_total", COUNTER, "commands_received", 0,
	  "command messages from the cloud" },
	{ "commands_pending", GAUGE, "commands_pending", 0, "downlinks queued, not yet ended" },
	{ "metrics_textfile_failures_total", COUNTER, "metrics_textfile_failures", 0,
	  "failed writes of the metrics textfile" },
};

/* A Prometheus label value: backslash, double quote and newline escaped. */
static void put_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void put_head(FILE *f, const char *name, enum mtype type, const char *help)
{
	fprintf(f, "# HELP fieldgate_%s %s\n# TYPE fieldgate_%s %s\n", name, help, name,
		type == COUNTER ? "counter" : "gauge");
}

/* A JSON number or boolean as a sample value; false for null and the rest. */
static bool value_of(const json_t *v, double scale, char *out, size_t size)
{
	if (json_is_integer(v) && scale == 0)
		snprintf(out, size, "%lld", (long long) json_integer_value(v));
	else if (json_is_number(v))
		snprintf(out, size, "%.6g", json_number_value(v) * (scale ? scale : 1));
	else if (json_is_boolean(v))
		snprintf(out, size, "%d", json_is_true(v) ? 1 : 0);
	else
		return false;
	return true;
}

/* One labelled family from an object of numbers: {label="key"} value, per key. */
static void put_map(FILE *f, const char *name, const char *help, const char *label,
		    const json_t *obj)
{
	const char *key;
	json_t *v;
	char val[64];

	put_head(f, name, COUNTER, help);
	json_object_foreach((json_t *) obj, key, v)
	{
		if (!value_of(v, 0, val, sizeof(val)))
			continue;
		fprintf(f, "fieldgate_%s{%s=\"", name, label);
		put_label(f, key);
		fprintf(f, "\"} %s\n", val);
	}
}

int fg_health_metrics(const char *record, char **ret_text)
{
	json_t *rec = json_loads(record, 0, NULL), *v, *src;
	const char *key, *s;
	char *text = NULL, val[64];
	size_t len = 0;
	bool running;
	FILE *f;

	if (!json_is_object(rec)) {
		json_decref(rec);
		return -EINVAL;
	}
	f = open_memstream(&text, &len);
	if (!f) {
		json_decref(rec);
		return -ENOMEM;
	}
	v = json_object_get(rec, "running");
	running = !json_is_false(v);
	put_head(f, "up", GAUGE, "1 when the daemon answered, 0 when read from the buffer file");
	fprintf(f, "fieldgate_up %d\n", running ? 1 : 0);
	put_head(f, "info", GAUGE, "the daemon's version, gateway id and boot id");
	fprintf(f, "fieldgate_info{version=\"");
	put_label(f, (s = json_string_value(json_object_get(rec, "version"))) ? s : "");
	fprintf(f, "\",gateway=\"");
	put_label(f, (s = json_string_value(json_object_get(rec, "gateway"))) ? s : "");
	fprintf(f, "\",boot_id=\"");
	put_label(f, (s = json_string_value(json_object_get(rec, "boot_id"))) ? s : "");
	fprintf(f, "\"} 1\n");
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		if (!value_of(json_object_get(rec, plain[i].key), plain[i].scale, val, sizeof(val)))
			continue;
		put_head(f, plain[i].name, plain[i].type, plain[i].help);
		fprintf(f, "fieldgate_%s %s\n", plain[i].name, val);
	}
	s = json_string_value(json_object_get(rec, "broker"));
	if (s) {
		put_head(f, "broker_connected", GAUGE, "1 when connected to the broker");
		fprintf(f, "fieldgate_broker_connected %d\n", strcmp(s, "connected") == 0);
	}
	if (json_is_object(v = json_object_get(rec, "evictions")))
		put_map(f, "evicted_total", "messages evicted from the buffer, by cause", "cause",
			v);
	if (json_is_object(v = json_object_get(rec, "drops")))
		put_map(f, "dropped_total", "readings or frames dropped, by cause", "cause", v);
	if (json_is_object(v = json_object_get(json_object_get(rec, "lorawan"), "refused")))
		put_map(f, "lorawan_refused_total", "LoRaWAN frames refused, by reason", "reason",
			v);
	if (json_is_object(v = json_object_get(json_object_get(rec, "commands"), "outcomes")))
		put_map(f, "command_outcomes_total", "outcomes of commands from the cloud",
			"outcome", v);
	if (json_is_object(v = json_object_get(json_object_get(rec, "commands"), "failed")))
		put_map(f, "command_failed_total", "commands from the cloud that failed, by reason",
			"reason", v);
	src = json_object_get(rec, "sources");
	if (json_is_object(src)) {
		put_head(f, "source_received_total", COUNTER,
			 "frames, packets, advertisements or readings a source received");
		json_object_foreach(src, key, v)
		{
			if (!value_of(json_object_get(v, "received"), 0, val, sizeof(val)))
				continue;
			fprintf(f, "fieldgate_source_received_total{source=\"");
			put_label(f, key);
			fprintf(f, "\"} %s\n", val);
		}
		put_head(f, "source_refused_total", COUNTER, "what a source refused, by reason");
		json_object_foreach(src, key, v)
		{
			const char *reason;
			json_t *n;

			json_object_foreach(json_object_get(v, "refused"), reason, n)
			{
				if (!value_of(n, 0, val, sizeof(val)))
					continue;
				fprintf(f, "fieldgate_source_refused_total{source=\"");
				put_label(f, key);
				fprintf(f, "\",reason=\"");
				put_label(f, reason);
				fprintf(f, "\"} %s\n", val);
			}
		}
		put_head(f, "source_state", GAUGE, "1 for the state each source is in");
		json_object_foreach(src, key, v)
		{
			s = json_string_value(json_object_get(v, "state"));
			if (!s)
				continue;
			fprintf(f, "fieldgate_source_state{source=\"");
			put_label(f, key);
			fprintf(f, "\",state=\"");
			put_label(f, s);
			fprintf(f, "\"} 1\n");
		}
	}
	json_decref(rec);
	if (fclose(f) != 0 || !text) {
		free(text);
		return -ENOMEM;
	}
	*ret_text = text;
	return 0;
}

int fg_health_write_file(const char *path, const char *text)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	size_t len = strlen(text), done = 0;
	const char *slash;
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int) sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = -errno;
			break;
		}
		done += (size_t) w;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		(void) unlink(tmp);
		return r;
	}
	slash = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int) (slash - path) : 1, slash ? path : ".");
	fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void) fsync(fd); /* the rename is durable; a failure here loses nothing */
		close(fd);
	}
	return 0;
}
