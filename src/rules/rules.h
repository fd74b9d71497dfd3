/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The rule engine, between the readings and the outbox (DESIGN invariant 3):
 * rules from the configuration (struct fg_rule_config, expressions compiled
 * at load) run in order over each reading of a frame.
 *
 * This release applies the stateless actions: match (a glob on
 * "source/device/quantity", the device by configured name or by id),
 * drop_if, set (the value), unit and quantity. The stateful ones (deadband
 * and heartbeat, windows, alerts, GPIO) are parsed and checked but not yet
 * applied; fg_rules_new says which rules have them.
 */

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "core/reading.h"

struct fg_rules;

struct fg_rules_stats {
	unsigned long long evaluated; /* readings run through the rules */
	unsigned long long dropped;   /* by drop_if */
	unsigned long long changed;   /* by set, unit or quantity */
	unsigned long long skipped;   /* an expression lacked a variable or was not finite */
};

/* Rules of cfg (must outlive the object). Returns 0 or -ENOMEM. */
int fg_rules_new(const struct fg_config *cfg, struct fg_rules **ret);
void fg_rules_free(struct fg_rules *x);
/* Whether any rule has actions this release does not apply yet; *ret_name the first such. */
bool fg_rules_pending_actions(const struct fg_rules *x, const char **ret_name);

/*
 * Run the rules over one frame's n readings, writing what remains (at most
 * n, in order) to out. Text values stay borrowed from in. Returns the count.
 */
size_t fg_rules_apply(struct fg_rules *x, const struct fg_reading *in, size_t n,
		      struct fg_reading *out);

void fg_rules_get_stats(const struct fg_rules *x, struct fg_rules_stats *ret);
