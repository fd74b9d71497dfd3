/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The rules' GPIO output lines (see rule-gpio.h). */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "rules/rule-gpio.h"
#include "gpio/gpio-sim.h"
#include "util/json.h"

#define CONSUMER "fieldgate"
#define SIM_CHIP "sim"

/* One rule's line; a rule without gpio has an unused one, so a rule's index is its line's. */
struct line_state {
	const struct fg_rule_config *rule; /* NULL: the rule has no gpio */
	/*
	 * "/dev/gpiochipN" or "sim": one spelling per chip, so a reload can
	 * match lines however the chip was written. "" when the name is
	 * neither (the loader refuses those) or the line was taken over.
	 * Offset and key are copies, so matching never reads the old config.
	 */
	char key[32];
	unsigned offset;
	struct fg_gpio_line *line; /* held from the first request on */
	int level;		   /* last driven to, or -1 */
	int off;		   /* the level it is left at when released */
	unsigned long long failures;
};

struct fg_rule_gpio {
	const struct fg_gpio_ops *ops;
	struct line_state *lines; /* one per cfg->rules[i] */
	size_t n;
	struct fg_rule_gpio_stats stats;
};

static bool is_sim(const struct line_state *l)
{
	return !strcmp(l->key, SIM_CHIP);
}

/* The ops that drive l: the simulated chip's for "sim", else the object's. */
static const struct fg_gpio_ops *ops_of(const struct fg_rule_gpio *g, const struct line_state *l)
{
	return is_sim(l) ? fg_gpio_sim_ops() : g->ops;
}

/* Describe rule's line, not requested yet. */
static void line_init(struct line_state *l, const struct fg_rule_config *rule)
{
	l->level = -1;
	if (!rule->has_gpio || !rule->gpio_chip)
		return;
	l->rule = rule;
	l->offset = rule->gpio_line;
	l->off = rule->gpio_off;
	if (!strcmp(rule->gpio_chip, SIM_CHIP))
		snprintf(l->key, sizeof(l->key), "%s", SIM_CHIP);
	else if (fg_gpio_chip_path(rule->gpio_chip, l->key, sizeof(l->key)) < 0)
		l->key[0] = '\0'; /* the request will fail and say why */
}

/* The line of g on the same chip and offset as want, not taken yet; NULL if none. */
static struct line_state *find_line(struct fg_rule_gpio *g, const struct line_state *want)
{
	if (!want->key[0])
		return NULL;
	for (size_t i = 0; i < g->n; i++) {
		struct line_state *l = &g->lines[i];

		if (!strcmp(l->key, want->key) && l->offset == want->offset)
			return l;
	}
	return NULL;
}

/*
 * Move what old holds to the lines of g on the same chip and offset: a
 * release and a new request would let a relay drop out for a moment. The
 * level moves too, so an unchanged state is not driven (or logged) again.
 */
static void take_over(struct fg_rule_gpio *g, struct fg_rule_gpio *old)
{
	/* A line must be set and released through the ops that requested it. */
	if (old->ops != g->ops)
		return;
	for (size_t i = 0; i < g->n; i++) {
		struct line_state *l = &g->lines[i];
		struct line_state *o = find_line(old, l);

		if (!o)
			continue;
		l->line = o->line;
		l->level = o->level;
		o->line = NULL;
		o->key[0] = '\0';
	}
}

int fg_rule_gpio_new(const struct fg_config *cfg, const struct fg_gpio_ops *ops,
		     struct fg_rule_gpio *old, struct fg_rule_gpio **ret)
{
	struct fg_rule_gpio *g;

	assert(cfg && ret);
	g = calloc(1, sizeof(*g));
	/* One more than needed: calloc(0) may return NULL. */
	if (g)
		g->lines = calloc(cfg->n_rules + 1, sizeof(*g->lines));
	if (!g || !g->lines) {
		fg_rule_gpio_free(g);
		fg_rule_gpio_free(old);
		return -ENOMEM;
	}
	g->ops = ops ? ops : fg_gpio_default_ops();
	g->n = cfg->n_rules;
	for (size_t i = 0; i < g->n; i++)
		line_init(&g->lines[i], &cfg->rules[i]);
	if (old)
		take_over(g, old);
	fg_rule_gpio_free(old);
	*ret = g;
	return 0;
}

void fg_rule_gpio_free(struct fg_rule_gpio *g)
{
	if (!g)
		return;
	/*
	 * A line is left at its rule's off level: a rule removed (or the daemon
	 * stopped) while its alert was raised must not leave a heater or a
	 * valve on with no one to turn it off.
	 */
	for (size_t i = 0; i < g->n; i++)
		if (g->lines[i].line) {
			(void) ops_of(g, &g->lines[i])->line_set(g->lines[i].line, g->lines[i].off);
			ops_of(g, &g->lines[i])->line_release(g->lines[i].line);
		}
	free(g->lines);
	free(g);
}

/* Drive a real line to value, requesting it at that value the first time. */
static int drive(struct fg_rule_gpio *g, struct line_state *l, int value)
{
	struct fg_gpio_line *line = NULL;
	int r;

	if (l->line)
		return ops_of(g, l)->line_set(l->line, value);
	r = ops_of(g, l)->line_request(l->rule->gpio_chip, l->offset, value, CONSUMER, &line);
	if (r < 0)
		return r;
	l->line = line;
	return 0;
}

/* What an operator should check after error r on line l, for the log line. */
static void hint(const struct line_state *l, int r, char *buf, size_t size)
{
	if (!l->key[0])
		snprintf(buf, size, "the chip must be gpiochipN, /dev/gpiochipN, N or sim");
	else if (r == -EBUSY)
		snprintf(buf, size, "is the line used by another program? see gpioinfo");
	else if (r == -EACCES || r == -EPERM)
		snprintf(buf, size,
			 "check the permissions of %s: is the service user in the gpio group?",
			 l->key);
	else if (r == -ENOENT || r == -ENODEV)
		snprintf(buf, size, "is there such a chip? see gpiodetect");
	else if (r == -EINVAL)
		snprintf(buf, size, "does the chip have line %u? see gpioinfo", l->offset);
	else
		snprintf(buf, size, "see gpioinfo and the kernel log");
}

/* Count and log a failed request or set; the line's level is unknown until the next one. */
static int fail(struct fg_rule_gpio *g, struct line_state *l, bool requesting, int r)
{
	char why[160];

	l->level = -1;
	l->failures++;
	g->stats.failures++;
	hint(l, r, why, sizeof(why));
	/* Keyed by rule: one flapping line does not silence the others. */
	fg_log_device(LOG_WARNING, "rules", NULL, l->rule->name,
		      "rule '%s': gpio: cannot %s line %u of %s: %s; %s; trying again at the "
		      "next change",
		      l->rule->name, requesting ? "request" : "set", l->offset, l->rule->gpio_chip,
		      strerror(-r), why);
	return r;
}

int fg_rule_gpio_set(struct fg_rule_gpio *g, size_t rule, bool raised)
{
	struct line_state *l;
	bool requesting;
	int want, r = 0;

	assert(g && rule < g->n);
	l = &g->lines[rule];
	if (!l->rule)
		return 0;
	want = raised ? l->rule->gpio_on : l->rule->gpio_off;
	if (l->level == want)
		return 0;
	requesting = !l->line;
	r = drive(g, l, want);
	if (r < 0)
		return fail(g, l, requesting, r);
	l->level = want;
	g->stats.changes++;
	/* The sim chip's log line is its output; a real line's is for debugging. */
	fg_log(is_sim(l) ? LOG_INFO : LOG_DEBUG, "rules",
	       "rule '%s': gpio %s line %u set to %d (%s)", l->rule->name, l->rule->gpio_chip,
	       l->offset, want, raised ? "raised" : "cleared");
	return 1;
}

int fg_rule_gpio_level(const struct fg_rule_gpio *g, size_t rule)
{
	assert(g);
	return rule < g->n ? g->lines[rule].level : -1;
}

void fg_rule_gpio_get_stats(const struct fg_rule_gpio *g, struct fg_rule_gpio_stats *ret)
{
	assert(g && ret);
	*ret = g->stats;
}

/* One rule's object of the status array. */
static void line_json(struct fg_json *j, const struct line_state *l)
{
	fg_json_printf(j, "{\"rule\":");
	fg_json_string(j, l->rule->name);
	fg_json_printf(j, ",\"chip\":");
	fg_json_string(j, l->rule->gpio_chip);
	fg_json_printf(j, ",\"line\":%u,\"level\":", l->offset);
	if (l->level < 0)
		fg_json_printf(j, "null");
	else
		fg_json_printf(j, "%d", l->level);
	fg_json_printf(j, ",\"failures\":%llu}", l->failures);
}

int fg_rule_gpio_status_json(const struct fg_rule_gpio *g, char *buf, size_t size)
{
	const char *sep = "";
	struct fg_json j;

	assert(g);
	if (size == 0)
		return -ENOBUFS;
	fg_json_init_fixed(&j, buf, size);
	fg_json_printf(&j, "[");
	for (size_t i = 0; i < g->n; i++) {
		if (!g->lines[i].rule)
			continue;
		fg_json_printf(&j, "%s", sep);
		line_json(&j, &g->lines[i]);
		sep = ",";
	}
	fg_json_printf(&j, "]");
	if (j.err) {
		buf[0] = '\0';
		return -ENOBUFS;
	}
	return (int) j.len;
}
