/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The rule engine, between the readings and the outbox (DESIGN invariant 3):
 * rules from the configuration (struct fg_rule_config, expressions compiled
 * at load) run in order over each reading of a frame. For each rule whose
 * match glob fits "source/device/quantity" (the device by configured name
 * or by id), in this order:
 *
 *   drop_if     the reading goes, later rules do not see it
 *   set, unit, quantity
 *               the reading is changed; later rules see the change
 *   deadband / heartbeat
 *               report by exception, per series (rule + source/device id/
 *               quantity): the reading goes on only if it moved at least
 *               deadband (absolute, or percent of the last value sent on)
 *               from the last one sent on, or heartbeat seconds have passed
 *               since then, or it is the series' first; else it goes
 *   window      tumbling windows aligned to wall time (start = t - t mod
 *               window): the reading is taken into its series' window and
 *               goes no further; when the window ends (a reading of a later
 *               window, or fg_rules_tick past its end) its aggregates
 *               (<quantity>_mean, _min, _max, _sum, _count, _last) are sent
 *               on as one frame, stamped with the window's start, through
 *               the rules after this one
 *   when / clear_when
 *               an alert with hysteresis per series: raised once when `when`
 *               becomes true, cleared once when `clear_when` does (default:
 *               when `when` is false again); the reading goes on
 *
 * The time of a reading is its wall time, or the injected clock's when the
 * reading has none (wall clock not yet known).
 *
 * State (last values, windows, alert states) is kept per series in memory
 * and written to the buffer (fg_store_state_put, owner "rule:NAME") by
 * fg_rules_save inside the commit that consumed the readings, so a crash or
 * restart loses nothing and counts nothing twice. fg_rules_new reads it back
 * for rules whose definition is unchanged (same fingerprint) and deletes
 * the rest, which is also how SIGHUP keeps the state of unchanged rules.
 * At most FG_RULES_SERIES_MAX series are tracked; readings of further series
 * pass the stateful actions untouched and are counted (untracked).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/reading.h"

struct fg_store;
struct fg_rules;

#define FG_RULES_SERIES_MAX 4096

/* Where the engine's results go; each callback's negative return aborts the call. */
struct fg_rules_sink {
	/*
	 * A frame to publish: what is left of an input frame, or a window's
	 * aggregates (source/device/name of the series, n = the emitted stats).
	 */
	int (*frame)(const struct fg_reading *r, size_t n, void *userdata);
	/* Rule cfg->rules[rule] raised (or cleared) its alert on reading r. */
	int (*alert)(size_t rule, bool raised, const struct fg_reading *r, void *userdata);
	void *userdata;
};

/* The wall clock the engine reads (ms since the epoch); tests inject their own. */
struct fg_rules_clock {
	uint64_t (*wall_ms)(void *userdata);
	void *userdata;
};

struct fg_rules_stats {
	unsigned long long evaluated;  /* readings run through the rules */
	unsigned long long dropped;    /* by drop_if */
	unsigned long long changed;    /* by set, unit or quantity */
	unsigned long long skipped;    /* an expression lacked a variable or was not finite */
	unsigned long long suppressed; /* held back by a deadband */
	unsigned long long aggregated; /* taken into a window */
	unsigned long long windows;    /* windows closed and sent on */
	unsigned long long raised;     /* alerts raised */
	unsigned long long cleared;    /* alerts cleared */
	unsigned long long untracked;  /* readings of series beyond FG_RULES_SERIES_MAX */
	unsigned long long bad_state;  /* stored state rows that did not parse (dropped) */
	size_t series;                 /* series tracked now */
};

/*
 * Rules of cfg (must outlive the object), with their state read from store
 * (NULL: no persistence, state starts empty; fieldgatectl's offline test
 * and unit tests). clock NULL: the system's. Returns 0, -ENOMEM, or a
 * store error.
 */
int fg_rules_new(const struct fg_config *cfg, struct fg_store *store,
		 const struct fg_rules_clock *clock, struct fg_rules **ret);
void fg_rules_free(struct fg_rules *x);

/*
 * Run one frame's n readings (same source, device, frame id) through the
 * rules. The sink gets, in this order: frames of windows this frame's
 * readings ended, alerts as they are raised or cleared, and the frame's
 * remaining readings (if any are left; text values stay borrowed from in).
 * Returns 0 or the sink's negative return.
 */
int fg_rules_frame(struct fg_rules *x, const struct fg_reading *in, size_t n,
		   const struct fg_rules_sink *sink);

/* Close every window that has ended by the clock's now, sending its aggregates on. */
int fg_rules_tick(struct fg_rules *x, const struct fg_rules_sink *sink);
/* The wall time (ms) the next open window ends, 0 if none is open. */
uint64_t fg_rules_next_deadline(const struct fg_rules *x);

/*
 * Write the series changed since the last save to store (inside its commit
 * transaction). Returns 0 or a negative errno (the commit then rolls back;
 * call fg_rules_reload).
 */
int fg_rules_save(struct fg_rules *x, struct fg_store *store);
/* Forget the in-memory state and read it again from store (after a rolled back commit). */
int fg_rules_reload(struct fg_rules *x, struct fg_store *store);

/* Whether any series of rule cfg->rules[rule] has its alert raised (its GPIO level). */
bool fg_rules_raised(const struct fg_rules *x, size_t rule);

/* A rule's fingerprint: equal for identical definitions (name, match, expressions, actions). */
uint64_t fg_rules_fingerprint(const struct fg_rule_config *r);

void fg_rules_get_stats(const struct fg_rules *x, struct fg_rules_stats *ret);
