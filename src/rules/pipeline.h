/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * What the store's commit does with each frame (DESIGN invariant 3): the
 * rule engine, then the formatting of what it sends on, into the outbox of
 * the same transaction:
 *
 *   readings  one message per frame left by the rules (and per closed
 *             window), in mqtt.format on the mqtt.topic template, QoS
 *             mqtt.qos, not retained
 *   alerts    one retained JSON message on the rule's alert topic when it is
 *             raised or cleared:
 *             {"alert":"frost","state":"raised","severity":"warning",
 *              "gateway":"gw1","source":"ble","device":"a4:c1:38:00:00:01",
 *              "name":"porch","quantity":"temperature","value":0.2,
 *              "unit":"Cel","time":1764072000000,"seq":42}
 *             ("time" null while the wall clock is unknown; "value" the
 *             reading's number, boolean or string)
 *   discovery with mqtt.homeassistant, a retained Home Assistant discovery
 *             config (sink/homeassistant.h) before the first message of each
 *             device/quantity in this run of the daemon; each config is kept
 *             in the buffer's state (owner "homeassistant", key its topic) in
 *             the same transaction
 *   gateway   with fg_pipeline_announce_gateway (the daemon only), in the
 *             first commit of the pipeline: the gateway device's configs,
 *             then an empty retained config (Home Assistant removes the
 *             entity) for every kept config the configuration no longer
 *             makes (device removed, source off, another gateway id or
 *             prefix, discovery off), its row deleted
 *
 * Used by fieldgated (the store's transform) and by `fieldgatectl rules
 * test` (the same pipeline on a scratch buffer), so what the test prints is
 * what the daemon would publish.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/reading.h"
#include "rules/rules.h"

struct fg_store;
struct fg_pipeline;

struct fg_pipeline_stats {
	unsigned long long unformattable; /* frames that could not be formatted (dropped) */
	unsigned long long alerts;        /* alert messages queued */
	unsigned long long discovery;     /* discovery messages queued */
	unsigned long long discovery_removed; /* empty configs queued for devices removed */
};

/*
 * The pipeline of cfg (must outlive it), rule state read from store (NULL:
 * none kept). clock NULL: the system's. Returns 0, -ENOMEM or a store error.
 */
int fg_pipeline_new(const struct fg_config *cfg, struct fg_store *store,
		    const struct fg_rules_clock *clock, struct fg_pipeline **ret);
void fg_pipeline_free(struct fg_pipeline *p);

/* The store's transform for one frame: returns the messages emitted or a negative errno. */
int fg_pipeline_frame(struct fg_pipeline *p, struct fg_store *s, const struct fg_reading *r,
		      size_t n);
/* The store's end hook: close windows due, write rule state. */
int fg_pipeline_end(struct fg_pipeline *p, struct fg_store *s);
/* The store's rolled_back hook: read rule state again. */
void fg_pipeline_rolled_back(struct fg_pipeline *p, struct fg_store *s);

/*
 * Announce the gateway as a Home Assistant device and clear removed devices'
 * configs in the next commit (see above). serial: the gateway device's
 * serial number (the concentrator's EUI), NULL or "" unknown.
 */
void fg_pipeline_announce_gateway(struct fg_pipeline *p, const char *serial);

/*
 * Call fn for every Home Assistant config kept in the buffer (topic and
 * payload, NUL-terminated), to announce them all again when Home Assistant
 * says it is back (its birth message). Outside a commit. Returns how many,
 * or a negative errno (fn's negative return stops it and is returned).
 */
typedef int (*fg_pipeline_config_fn)(const char *topic, const char *payload, void *userdata);
int fg_pipeline_configs_each(struct fg_store *s, fg_pipeline_config_fn fn, void *userdata);

/* The wall time (ms) the next window ends, 0 if none is open. */
uint64_t fg_pipeline_next_deadline(const struct fg_pipeline *p);

/* The rule engine (for GPIO levels and statistics). */
struct fg_rules *fg_pipeline_rules(const struct fg_pipeline *p);
void fg_pipeline_get_stats(const struct fg_pipeline *p, struct fg_pipeline_stats *ret);
