/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "rules/expr.h"
#include "rules/rules.h"

struct fg_rules {
	const struct fg_config *cfg;
	struct fg_rules_stats stats;
};

int fg_rules_new(const struct fg_config *cfg, struct fg_rules **ret)
{
	struct fg_rules *x = calloc(1, sizeof(*x));

	if (!x)
		return -ENOMEM;
	x->cfg = cfg;
	*ret = x;
	return 0;
}

void fg_rules_free(struct fg_rules *x)
{
	free(x);
}

void fg_rules_get_stats(const struct fg_rules *x, struct fg_rules_stats *ret)
{
	*ret = x->stats;
}

bool fg_rules_pending_actions(const struct fg_rules *x, const char **ret_name)
{
	for (size_t i = 0; i < x->cfg->n_rules; i++) {
		const struct fg_rule_config *r = &x->cfg->rules[i];

		if (r->deadband > 0 || r->heartbeat_s || r->window_s || r->when) {
			*ret_name = r->name;
			return true;
		}
	}
	return false;
}

/* Whether rule r's glob matches the reading, by device name or by device id. */
static bool matches(const struct fg_rule_config *r, const struct fg_reading *rd)
{
	const char *src = fg_source_kind_to_string(rd->source);
	char path[FG_DEVICE_NAME_MAX + FG_DEVICE_ID_MAX + FG_QUANTITY_MAX + 16];

	snprintf(path, sizeof(path), "%s/%s/%s", src, rd->device_name, rd->quantity);
	if (fnmatch(r->match, path, 0) == 0)
		return true;
	snprintf(path, sizeof(path), "%s/%s/%s", src, rd->device_id, rd->quantity);
	return fnmatch(r->match, path, 0) == 0;
}

/* The expression variables of reading i of the frame: value, rssi, snr, battery, age. */
static void environment(const struct fg_reading *in, size_t n, size_t i, struct fg_expr_env *env)
{
	const struct fg_reading *r = &in[i];
	uint64_t now = fg_clock_mono_usec();

	memset(env, 0, sizeof(*env));
	env->have[FG_EXPR_VALUE] = r->kind == FG_VALUE_NUMBER || r->kind == FG_VALUE_BOOL;
	env->vars[FG_EXPR_VALUE] = r->kind == FG_VALUE_BOOL ? (r->boolean ? 1 : 0) : r->number;
	env->have[FG_EXPR_RSSI] = r->radio.present;
	env->vars[FG_EXPR_RSSI] = r->radio.rssi;
	env->have[FG_EXPR_SNR] = r->radio.present && r->radio.sf;
	env->vars[FG_EXPR_SNR] = r->radio.snr;
	for (size_t k = 0; k < n; k++)
		if (in[k].kind == FG_VALUE_NUMBER && !strncmp(in[k].quantity, "battery", 7) &&
		    (in[k].quantity[7] == '\0' || in[k].quantity[7] == '_')) {
			env->have[FG_EXPR_BATTERY] = true;
			env->vars[FG_EXPR_BATTERY] = in[k].number;
			break;
		}
	env->have[FG_EXPR_AGE] = r->mono_usec && r->mono_usec <= now;
	env->vars[FG_EXPR_AGE] = (double)(now - r->mono_usec) / 1e6;
}

size_t fg_rules_apply(struct fg_rules *x, const struct fg_reading *in, size_t n,
		      struct fg_reading *out)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		struct fg_reading r = in[i];
		bool drop = false, changed = false;

		x->stats.evaluated++;
		for (size_t k = 0; k < x->cfg->n_rules && !drop; k++) {
			const struct fg_rule_config *rule = &x->cfg->rules[k];
			struct fg_expr_env env;
			double v;

			if (!matches(rule, &r))
				continue;
			/* Later rules see what earlier ones made of the reading. */
			environment(in, n, i, &env);
			env.have[FG_EXPR_VALUE] = r.kind == FG_VALUE_NUMBER || r.kind == FG_VALUE_BOOL;
			env.vars[FG_EXPR_VALUE] = r.kind == FG_VALUE_BOOL ? r.boolean : r.number;
			if (rule->drop_if) {
				int e = fg_expr_eval(rule->drop_if, &env, &v);

				if (e < 0)
					x->stats.skipped++;
				else if (v != 0)
					drop = true;
			}
			if (!drop && rule->set && r.kind == FG_VALUE_NUMBER) {
				if (fg_expr_eval(rule->set, &env, &v) < 0) {
					x->stats.skipped++;
				} else {
					r.number = v;
					changed = true;
				}
			}
			if (!drop && rule->unit) {
				snprintf(r.unit, sizeof(r.unit), "%s", rule->unit);
				changed = true;
			}
			if (!drop && rule->quantity) {
				snprintf(r.quantity, sizeof(r.quantity), "%s", rule->quantity);
				changed = true;
			}
		}
		if (drop) {
			x->stats.dropped++;
			continue;
		}
		if (changed)
			x->stats.changed++;
		out[kept++] = r;
	}
	return kept;
}
