/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "core/log.h"
#include "rules/pipeline.h"
#include "sink/format.h"
#include "sink/homeassistant.h"
#include "store/store.h"
#include "util/json.h"

#define ANNOUNCED_SLOTS (2 * FG_RULES_SERIES_MAX) /* discovery sent, by identity hash */
#define TOPIC_MAX 1024
#define HA_OWNER	"homeassistant" /* the store's state rows of announced configs */

struct fg_pipeline {
	const struct fg_config *cfg;
	struct fg_rules *rules;
	struct fg_store *store; /* of the commit in progress */
	uint64_t *announced;    /* open addressing, 0 = empty */
	size_t n_announced;
	bool own_gateway;  /* the daemon's: announce the gateway, clear removed devices */
	bool sync_pending; /* do that in the next commit */
	char serial[24];   /* the gateway device's serial number, "" unknown */
	struct fg_pipeline_stats stats;
};

/* ------------------------------------------------------------------ emitting */

static int emit(struct fg_pipeline *p, const char *topic, const char *payload, size_t len,
		bool retain, const struct fg_reading *r, size_t n)
{
	struct fg_store_msg m = {
		.topic = topic,
		.payload = payload,
		.payload_len = len,
		.qos = p->cfg->mqtt.qos,
		.retain = retain,
	};

	fg_store_msg_from_frame(&m, r, n);
	return fg_store_emit(p->store, &m);
}

/* A message about no device (the gateway's configs, removals): no frame to date it by. */
static int emit_plain(struct fg_pipeline *p, const char *topic, const char *payload, bool retain)
{
	struct fg_store_msg m = {
		.topic = topic,
		.payload = payload,
		.payload_len = strlen(payload),
		.qos = p->cfg->mqtt.qos,
		.retain = retain,
		.device = "",
		.boot_id = "",
	};

	return fg_store_emit(p->store, &m);
}

/*
 * Remember a config in the buffer, in the transaction that queues it: the
 * row (key the config topic) holds "<gateway>\t<source>\t<device>\n<payload>"
 * (source and device "" for the gateway's own), so that a birth message of
 * Home Assistant can have them all again and a later start can clear the
 * configs of devices no longer configured.
 */
static int ha_record(struct fg_pipeline *p, const char *topic, const char *payload,
		     const struct fg_reading *r)
{
	struct fg_json j;
	char *blob;
	size_t len;
	int e;

	fg_json_init_dynamic(&j);
	fg_json_printf(&j, "%s\t%s\t%s\n%s", p->cfg->gateway.id,
		       r ? fg_source_kind_to_string(r->source) : "", r ? r->device_id : "",
		       payload);
	e = fg_json_steal(&j, &blob, &len);
	if (e < 0)
		return e;
	e = fg_store_state_put(p->store, HA_OWNER, topic, blob, len);
	free(blob);
	return e;
}

static uint64_t identity_hash(const struct fg_reading *r)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325) ^ (uint64_t) r->source;
	const char *parts[] = { r->device_id, "/", r->quantity, r->kind == FG_VALUE_BOOL ? "b" : "" };

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		for (const unsigned char *c = (const unsigned char *) parts[i]; *c; c++)
			h = (h ^ *c) * UINT64_C(0x100000001b3);
	return h ? h : 1;
}

/* Whether r's sensor was announced in this run; marks it when not (false when the set is full). */
static bool announce_once(struct fg_pipeline *p, const struct fg_reading *r, bool *ret_full)
{
	uint64_t h = identity_hash(r);
	size_t i = h % ANNOUNCED_SLOTS;

	*ret_full = false;
	while (p->announced[i]) {
		if (p->announced[i] == h)
			return true;
		i = (i + 1) % ANNOUNCED_SLOTS;
	}
	if (p->n_announced >= FG_RULES_SERIES_MAX) {
		*ret_full = true;
		return true;
	}
	p->announced[i] = h;
	p->n_announced++;
	return false;
}

/* Home Assistant discovery for the readings of a frame not announced yet. */
static int discovery(struct fg_pipeline *p, const struct fg_reading *r, size_t n,
		     const char *state_topic)
{
	for (size_t i = 0; i < n; i++) {
		char *topic = NULL, *payload = NULL, status[TOPIC_MAX];
		bool full;
		int e;

		if (announce_once(p, &r[i], &full))
			continue;
		e = fg_format_gateway_topic(p->cfg->gateway.id, "status", status, sizeof(status));
		if (e >= 0)
			e = fg_ha_discovery(p->cfg->mqtt.homeassistant_prefix, p->cfg->gateway.id,
					    status, &r[i], state_topic,
					    (enum fg_format) p->cfg->mqtt.format, 0, &topic,
					    &payload);
		if (e == -ENOMEM)
			return e;
		if (e < 0) {
			fg_log_device(LOG_WARNING, "rules", fg_source_kind_to_string(r[i].source),
				      r[i].device_id, "no Home Assistant discovery for '%s' of '%s': %s",
				      r[i].quantity, r[i].device_id, strerror(-e));
			continue;
		}
		e = emit(p, topic, payload, strlen(payload), true, &r[i], 1);
		if (e >= 0)
			e = ha_record(p, topic, payload, &r[i]);
		free(topic);
		free(payload);
		if (e < 0)
			return e;
		p->stats.discovery++;
	}
	return 0;
}

/* The rules' frame callback: one message in the configured format on the readings' topic. */
static int on_frame(const struct fg_reading *r, size_t n, void *userdata)
{
	struct fg_pipeline *p = userdata;
	char topic[TOPIC_MAX], *payload = NULL;
	size_t len = 0;
	int e;

	e = fg_format_topic(p->cfg->mqtt.topic, p->cfg->gateway.id, &r[0], topic, sizeof(topic));
	if (e >= 0)
		e = fg_format_payload((enum fg_format) p->cfg->mqtt.format, r, n,
				      fg_store_next_seq(p->store), p->cfg->gateway.id, &payload,
				      &len);
	if (e == -ENOMEM)
		return e;
	if (e < 0) {
		/* A frame we cannot format is dropped and counted, never allowed to wedge the commit. */
		p->stats.unformattable++;
		fg_log_device(LOG_WARNING, "core", fg_source_kind_to_string(r[0].source),
			      r[0].device_id, "cannot format a frame of '%s': %s, dropping it",
			      r[0].device_id, strerror(-e));
		return 0;
	}
	if (p->cfg->mqtt.homeassistant) {
		/* The discovery config takes the sequence number before the payload's: format again. */
		uint64_t seq = fg_store_next_seq(p->store);

		e = discovery(p, r, n, topic);
		if (e >= 0 && fg_store_next_seq(p->store) != seq) {
			free(payload);
			payload = NULL;
			e = fg_format_payload((enum fg_format) p->cfg->mqtt.format, r, n,
					      fg_store_next_seq(p->store), p->cfg->gateway.id,
					      &payload, &len);
		}
		if (e < 0) {
			free(payload);
			return e;
		}
	}
	e = emit(p, topic, payload, len, false, r, n);
	free(payload);
	return e;
}

static void put_value(struct fg_json *j, const struct fg_reading *r)
{
	switch (r->kind) {
	case FG_VALUE_NUMBER:
		if (isfinite(r->number))
			fg_json_printf(j, "%.10g", r->number);
		else
			fg_json_printf(j, "null");
		break;
	case FG_VALUE_BOOL:
		fg_json_printf(j, "%s", r->boolean ? "true" : "false");
		break;
	default:
		fg_json_string(j, r->text ? r->text : "");
		break;
	}
}

/* The alert message of rule k on reading r (see pipeline.h). */
static int build_alert(const struct fg_pipeline *p, const struct fg_rule_config *rule, bool raised,
		       const struct fg_reading *r, char **ret, size_t *ret_len)
{
	struct fg_json j;

	fg_json_init_dynamic(&j);
	fg_json_printf(&j, "{\"alert\":");
	fg_json_string(&j, rule->name);
	fg_json_printf(&j, ",\"state\":\"%s\",\"severity\":", raised ? "raised" : "cleared");
	fg_json_string(&j, rule->severity ? rule->severity : "warning");
	fg_json_printf(&j, ",\"gateway\":");
	fg_json_string(&j, p->cfg->gateway.id);
	fg_json_printf(&j, ",\"source\":");
	fg_json_string(&j, fg_source_kind_to_string(r->source));
	fg_json_printf(&j, ",\"device\":");
	fg_json_string(&j, r->device_id);
	fg_json_printf(&j, ",\"name\":");
	fg_json_string(&j, r->device_name);
	fg_json_printf(&j, ",\"quantity\":");
	fg_json_string(&j, r->quantity);
	fg_json_printf(&j, ",\"value\":");
	put_value(&j, r);
	fg_json_printf(&j, ",\"unit\":");
	fg_json_string(&j, r->unit);
	if (r->time_ms)
		fg_json_printf(&j, ",\"time\":%llu", (unsigned long long) r->time_ms);
	else
		fg_json_printf(&j, ",\"time\":null");
	fg_json_printf(&j, ",\"seq\":%llu}", (unsigned long long) fg_store_next_seq(p->store));
	return fg_json_steal(&j, ret, ret_len);
}

static int on_alert(size_t k, bool raised, const struct fg_reading *r, void *userdata)
{
	struct fg_pipeline *p = userdata;
	const struct fg_rule_config *rule = &p->cfg->rules[k];
	char topic[TOPIC_MAX], *payload = NULL;
	size_t len = 0;
	int e;

	fg_log_device(LOG_NOTICE, "rules", fg_source_kind_to_string(r->source), r->device_id,
		      "rule '%s': alert %s by %s of '%s'", rule->name,
		      raised ? "raised" : "cleared", r->quantity, r->device_name);
	if (!rule->alert_topic)
		return 0;
	e = fg_format_topic(rule->alert_topic, p->cfg->gateway.id, r, topic, sizeof(topic));
	if (e < 0) {
		p->stats.unformattable++;
		fg_log_device(LOG_WARNING, "rules", fg_source_kind_to_string(r->source),
			      r->device_id, "rule '%s': cannot make the alert topic: %s", rule->name,
			      strerror(-e));
		return 0;
	}
	e = build_alert(p, rule, raised, r, &payload, &len);
	if (e < 0)
		return e;
	e = emit(p, topic, payload, len, true, r, 1);
	free(payload);
	if (e >= 0)
		p->stats.alerts++;
	return e;
}

/* ------------------------------------------------------------------ Home Assistant registry */

/* Whether a device of source (its name) with this id is still one the configuration makes. */
static bool device_configured(const struct fg_config *cfg, const char *source, const char *id)
{
	const char *prefix = cfg->sources.sim.name_prefix ? cfg->sources.sim.name_prefix : "sim-";
	char buf[24];

	switch (fg_source_kind_from_string(source)) {
	case FG_SOURCE_SIM: {
		size_t n = strlen(prefix);
		char *end;
		unsigned long k;

		if (!cfg->sources.sim.enabled || strncmp(id, prefix, n) != 0 || !id[n])
			return false;
		k = strtoul(id + n, &end, 10);
		return !*end && k >= 1 && k <= cfg->sources.sim.devices;
	}
	case FG_SOURCE_LORA:
		if (!cfg->sources.gwmp.enabled && !cfg->sources.sx130x.enabled &&
		    !(cfg->sources.sim.enabled && cfg->sources.sim.lorawan))
			return false;
		/* Unknown DevAddrs are forwarded under their DevAddr: any such may come again. */
		if (cfg->lorawan.unknown == FG_LORAWAN_UNKNOWN_FORWARD && strlen(id) == 8)
			return true;
		for (size_t i = 0; i < cfg->lorawan.n_devices; i++) {
			snprintf(buf, sizeof(buf), "%016llx",
				 (unsigned long long) cfg->lorawan.devices[i].dev_eui);
			if (strcmp(buf, id) == 0)
				return true;
		}
		return false;
	case FG_SOURCE_BLE:
		if (!cfg->sources.ble.enabled &&
		    !(cfg->sources.sim.enabled && cfg->sources.sim.ble))
			return false;
		if (cfg->ble.unknown == FG_BLE_UNKNOWN_DECODE)
			return true;
		for (size_t i = 0; i < cfg->ble.n_devices; i++) {
			const uint8_t *a = cfg->ble.devices[i].address;

			snprintf(buf, sizeof(buf), "%02x%02x%02x%02x%02x%02x", a[0], a[1], a[2],
				 a[3], a[4], a[5]);
			if (strcmp(buf, id) == 0)
				return true;
		}
		return false;
	case FG_SOURCE_GATEWAY:
		/* The packet forwarder's and the concentrator's statistics. */
		return cfg->sources.gwmp.enabled || cfg->sources.sx130x.enabled;
	default:
		return false;
	}
}

struct ha_sweep {
	const struct fg_config *cfg;
	char **stale; /* topics to clear */
	size_t n, cap;
	int error;
};

/* One announced config: stale when the configuration would not announce it any more. */
static int ha_sweep_row(const char *owner, const char *key, const void *blob, size_t len,
			void *userdata)
{
	struct ha_sweep *w = userdata;
	const struct fg_config *cfg = w->cfg;
	const char *prefix = cfg->mqtt.homeassistant_prefix;
	char head[FG_DEVICE_ID_MAX + 256], *gateway, *source, *device, *nl, *t1, *t2;
	size_t plen = strlen(prefix), hlen;
	bool keep;

	(void) owner;
	nl = memchr(blob, '\n', len);
	hlen = nl ? (size_t) (nl - (const char *) blob) : 0;
	keep = nl && hlen < sizeof(head);
	if (keep) {
		memcpy(head, blob, hlen);
		head[hlen] = '\0';
		gateway = head;
		t1 = strchr(gateway, '\t');
		t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		keep = t2 != NULL;
		if (keep) {
			*t1 = *t2 = '\0';
			source = t1 + 1;
			device = t2 + 1;
			keep = cfg->mqtt.homeassistant && strcmp(gateway, cfg->gateway.id) == 0 &&
			       strncmp(key, prefix, plen) == 0 && key[plen] == '/' &&
			       (!*source || device_configured(cfg, source, device));
		}
	}
	if (keep)
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 16;
		char **n = realloc(w->stale, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		w->stale = n;
		w->cap = cap;
	}
	w->stale[w->n] = strdup(key);
	if (!w->stale[w->n])
		return -ENOMEM;
	w->n++;
	return 0;
}

/*
 * Once per pipeline (start, reload, after a rolled back commit), in a commit:
 * announce the gateway device, then clear (an empty retained config, which
 * makes Home Assistant remove the entity) every config announced before that
 * the configuration no longer makes: a device removed, its source turned
 * off, another gateway id or discovery prefix, discovery turned off.
 */
static int ha_sync(struct fg_pipeline *p)
{
	struct ha_sweep w = { .cfg = p->cfg };
	char status[TOPIC_MAX], stats[TOPIC_MAX];
	int e = 0;

	if (p->cfg->mqtt.homeassistant) {
		e = fg_format_gateway_topic(p->cfg->gateway.id, "status", status, sizeof(status));
		/* The health record's topic (mqtt.stats_topic), as the daemon publishes it. */
		if (e >= 0) {
			const struct fg_reading none = { 0 };

			e = fg_format_topic(p->cfg->mqtt.stats_topic, p->cfg->gateway.id, &none, stats,
					    sizeof(stats));
		}
		for (size_t i = 0; e >= 0 && i < fg_ha_gateway_entities(); i++) {
			char *topic = NULL, *payload = NULL;

			e = fg_ha_gateway_discovery(p->cfg->mqtt.homeassistant_prefix,
						    p->cfg->gateway.id, status, stats, p->serial, i,
						    &topic, &payload);
			if (e >= 0)
				e = emit_plain(p, topic, payload, true);
			if (e >= 0)
				e = ha_record(p, topic, payload, NULL);
			if (e >= 0)
				p->stats.discovery++;
			free(topic);
			free(payload);
		}
		if (e == -EINVAL || e == -ENOBUFS) {
			fg_log_warning("rules", "no Home Assistant discovery for the gateway: %s",
				       strerror(-e));
			e = 0;
		}
	}
	if (e >= 0)
		e = fg_store_state_each(p->store, HA_OWNER, ha_sweep_row, &w);
	for (size_t i = 0; e >= 0 && i < w.n; i++) {
		e = emit_plain(p, w.stale[i], "", true);
		if (e >= 0)
			e = fg_store_state_delete(p->store, HA_OWNER, w.stale[i]);
		if (e >= 0)
			p->stats.discovery_removed++;
	}
	if (e >= 0 && w.n)
		fg_log_info("rules",
			    "Home Assistant: %zu configs of devices no longer configured "
			    "cleared",
			    w.n);
	for (size_t i = 0; i < w.n; i++)
		free(w.stale[i]);
	free(w.stale);
	return e < 0 ? e : 0;
}

void fg_pipeline_announce_gateway(struct fg_pipeline *p, const char *serial)
{
	p->own_gateway = true;
	p->sync_pending = true;
	snprintf(p->serial, sizeof(p->serial), "%s", serial ? serial : "");
}

struct ha_each {
	fg_pipeline_config_fn fn;
	void *userdata;
	int count;
};

static int ha_each_row(const char *owner, const char *key, const void *blob, size_t len,
		       void *userdata)
{
	struct ha_each *h = userdata;
	const char *nl = memchr(blob, '\n', len);
	size_t plen;
	char *payload;
	int e;

	(void) owner;
	if (!nl)
		return 0;
	plen = len - (size_t) (nl + 1 - (const char *) blob);
	payload = malloc(plen + 1);
	if (!payload)
		return -ENOMEM;
	memcpy(payload, nl + 1, plen);
	payload[plen] = '\0';
	e = h->fn(key, payload, h->userdata);
	free(payload);
	if (e >= 0)
		h->count++;
	return e < 0 ? e : 0;
}

int fg_pipeline_configs_each(struct fg_store *s, fg_pipeline_config_fn fn, void *userdata)
{
	struct ha_each h = { fn, userdata, 0 };
	int e = fg_store_state_each(s, HA_OWNER, ha_each_row, &h);

	return e < 0 ? e : h.count;
}

/* ------------------------------------------------------------------ the store's slots */

static const struct fg_rules_sink *sink_of(struct fg_pipeline *p, struct fg_rules_sink *sink)
{
	*sink = (struct fg_rules_sink){ .frame = on_frame, .alert = on_alert, .userdata = p };
	return sink;
}

int fg_pipeline_frame(struct fg_pipeline *p, struct fg_store *s, const struct fg_reading *r,
		      size_t n)
{
	struct fg_rules_sink sink;
	uint64_t before = fg_store_next_seq(s);
	int e;

	p->store = s;
	/* The gateway device first: a device's via_device must name one Home Assistant knows. */
	if (p->own_gateway && p->sync_pending) {
		e = ha_sync(p);
		if (e < 0)
			return e;
		p->sync_pending = false;
	}
	e = fg_rules_frame(p->rules, r, n, sink_of(p, &sink));
	return e < 0 ? e : (int) (fg_store_next_seq(s) - before);
}

int fg_pipeline_end(struct fg_pipeline *p, struct fg_store *s)
{
	struct fg_rules_sink sink;
	int e;

	p->store = s;
	if (p->own_gateway && p->sync_pending) {
		e = ha_sync(p);
		if (e < 0)
			return e;
		p->sync_pending = false;
	}
	e = fg_rules_tick(p->rules, sink_of(p, &sink));
	return e < 0 ? e : fg_rules_save(p->rules, s);
}

void fg_pipeline_rolled_back(struct fg_pipeline *p, struct fg_store *s)
{
	int e = fg_rules_reload(p->rules, s);

	/* Discovery queued in the rolled back transaction is gone: announce again. */
	memset(p->announced, 0, ANNOUNCED_SLOTS * sizeof(*p->announced));
	p->n_announced = 0;
	p->sync_pending = p->own_gateway;
	if (e < 0)
		fg_log_errno(e, "rules", "cannot read the rule state again after a rolled back "
			     "commit: %m; rules start from empty state");
}

/* ------------------------------------------------------------------ life */

int fg_pipeline_new(const struct fg_config *cfg, struct fg_store *store,
		    const struct fg_rules_clock *clock, struct fg_pipeline **ret)
{
	struct fg_pipeline *p = calloc(1, sizeof(*p));
	int e;

	if (!p)
		return -ENOMEM;
	p->cfg = cfg;
	p->announced = calloc(ANNOUNCED_SLOTS, sizeof(*p->announced));
	if (!p->announced) {
		free(p);
		return -ENOMEM;
	}
	e = fg_rules_new(cfg, store, clock, &p->rules);
	if (e < 0) {
		fg_pipeline_free(p);
		return e;
	}
	*ret = p;
	return 0;
}

void fg_pipeline_free(struct fg_pipeline *p)
{
	if (!p)
		return;
	fg_rules_free(p->rules);
	free(p->announced);
	free(p);
}

uint64_t fg_pipeline_next_deadline(const struct fg_pipeline *p)
{
	return fg_rules_next_deadline(p->rules);
}

struct fg_rules *fg_pipeline_rules(const struct fg_pipeline *p)
{
	return p->rules;
}

void fg_pipeline_get_stats(const struct fg_pipeline *p, struct fg_pipeline_stats *ret)
{
	*ret = p->stats;
}
