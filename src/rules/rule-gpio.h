/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The rules' local actions on GPIO lines (rules.N.gpio): each rule with a
 * gpio group drives one output line, `on` while its alert is raised (for any
 * series the rule tracks) and `off` otherwise. Lines are requested as
 * outputs and held while the daemon runs, through the seam of
 * gpio/gpio.h, so tests swap the hardware for a recording ops table.
 *
 * The chip name "sim" is the simulated chip of gpio/gpio-sim.h, the one
 * the concentrator's lines use too: no hardware; each change is logged at
 * info level ("rule 'frost': gpio sim line 27 set to 1
 * (raised)") and kept in the status, so an operator can try a rule on a
 * machine without GPIO and the integration tests can watch it.
 *
 * A line that cannot be requested or driven is logged (rate-limited, naming
 * the rule, chip and line, with what to check) and counted; the next change
 * of that rule tries again. It never stops the daemon.
 */

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "gpio/gpio.h"

struct fg_rule_gpio;

struct fg_rule_gpio_stats {
	unsigned long long changes;  /* levels driven (real or sim) */
	unsigned long long failures; /* requests or sets that failed */
};

/*
 * The lines of cfg's rules that have a gpio group (cfg must outlive the
 * object). ops NULL: fg_gpio_default_ops(). Nothing is requested yet: lines
 * are requested on their first fg_rule_gpio_set. With old (the object of the
 * previous configuration, after SIGHUP) non-NULL, lines of the same chip and
 * offset are taken over without being released (no glitch on a relay) and
 * old is freed, releasing the rest. Returns 0 or -ENOMEM (old is then freed
 * too).
 */
int fg_rule_gpio_new(const struct fg_config *cfg, const struct fg_gpio_ops *ops,
		     struct fg_rule_gpio *old, struct fg_rule_gpio **ret);

/* Release every line and free. NULL is fine. */
void fg_rule_gpio_free(struct fg_rule_gpio *g);

/*
 * Drive rule cfg->rules[rule]'s line to its on (raised) or off level,
 * requesting it first if needed (at that level). A no-op for a rule without
 * gpio and for a line already at that level. Returns 0, 1 when the line
 * changed, or a negative errno (logged and counted here).
 */
int fg_rule_gpio_set(struct fg_rule_gpio *g, size_t rule, bool raised);

/* The level a rule's line was last driven to: 0/1, or -1 (no gpio, never driven or failed). */
int fg_rule_gpio_level(const struct fg_rule_gpio *g, size_t rule);

void fg_rule_gpio_get_stats(const struct fg_rule_gpio *g, struct fg_rule_gpio_stats *ret);

/*
 * For the status (control socket): a JSON array, one object per gpio rule:
 * {"rule":"frost","chip":"gpiochip0","line":27,"level":1,"failures":0}
 * ("level": null before the first set or after a failure). Returns the
 * length or -ENOBUFS.
 */
int fg_rule_gpio_status_json(const struct fg_rule_gpio *g, char *buf, size_t size);
