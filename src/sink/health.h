/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The gateway's health record: one JSON object (schema in
 * man/fieldgate-health.schema.json, fieldgated(8) HEALTH RECORD), published
 * retained on the stats topic and answered to "status" on the control socket;
 * and the same counters as Prometheus text, made from that record so the two
 * cannot drift. Pure formatting: the daemon gathers the counters, these
 * functions write text. Never log.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/intake.h"
#include "cmd/queue.h"
#include "core/control.h"
#include "rules/pipeline.h"
#include "rules/rules.h"
#include "sink/mqtt.h"
#include "source/ble-rx.h"
#include "source/ble.h"
#include "source/gwmp.h"
#include "source/lora.h"
#include "source/sx130x.h"
#include "store/store.h"

/* The version of the record's layout, its "schema" key. */
#define FG_HEALTH_SCHEMA 1

/* Everything the record says, gathered by the daemon; absent parts stay zero. */
struct fg_health_parts {
	const char *gateway;
	bool dry_run;
	bool clock_synchronized;
	uint64_t uptime_s;
	uint64_t time_ms; /* wall clock now; 0 when not synchronized */
	uint64_t readings_in;
	uint64_t published;		/* acked by the broker (dry run: written to stdout) */
	uint64_t dropped_store;		/* readings the store could not stage */
	uint64_t dropped_unformattable; /* frames the pipeline could not format */
	double readings_per_s, published_per_s;
	struct fg_store_stats store;
	bool have_mqtt;
	struct fg_mqtt_stats mqtt;
	struct fg_lora_stats lora;
	bool have_gwmp;
	struct fg_gwmp_stats gwmp;
	struct fg_control_stats control;
	const char *sx130x_hal; /* which HAL this build drives; NULL: "none" */
	bool have_sx130x;
	struct fg_sx130x_stats sx130x;
	bool have_ble;
	struct fg_ble_stats ble;
	struct fg_ble_rx_stats ble_rx;
	bool have_sim;
	uint64_t sim_emitted, sim_skipped;
	struct fg_rules_stats rules;
	struct fg_pipeline_stats pipeline;
	const char *gpio_json; /* the rules' GPIO lines, a JSON array; NULL: [] */
	uint64_t textfile_writes, textfile_failures;
	bool have_commands;		/* commands.enabled and the queue runs */
	struct fg_cmdq_stats commands;
	struct fg_cmd_intake_stats intake;
};

/*
 * Write the health record (one line of JSON and "\n") into buf. Returns its
 * length, or -ENOBUFS when size is too small.
 */
int fg_health_json(const struct fg_health_parts *p, char *buf, size_t size);

/*
 * The record as the buffer file alone tells it (no daemon runs): the same
 * keys, "running" false, what the file cannot know null. sum may be NULL (the
 * file cannot be read). Returns a malloc'd line of JSON, or NULL (-ENOMEM).
 */
char *fg_health_file_json(const char *gateway, const struct fg_store_summary *sum,
			  uint64_t disk_free, bool have_disk_free, bool clock_synchronized);

/*
 * The record (JSON text) as Prometheus text exposition format 0.0.4: HELP and
 * TYPE lines, names with the fieldgate_ prefix, counters ending _total,
 * labels for source, reason and cause; null values are left out;
 * fieldgate_up is 1 when the record says "running" (absent: true). Returns
 * a malloc'd string in *ret_text, or -EINVAL (not a record) or -ENOMEM.
 */
int fg_health_metrics(const char *record, char **ret_text);

/*
 * Replace path with text atomically: a temporary file in the same directory,
 * written, fsync'd, renamed over path (and the directory fsync'd), so a
 * reader (node_exporter's textfile collector) sees the old file or the new
 * one, never half of one. Returns 0 or a negative errno.
 */
int fg_health_write_file(const char *path, const char *text);
