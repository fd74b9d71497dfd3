/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Command intake: parse, resolve, encode, queue or drive; one outcome for
 * every command. See intake.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/intake.h"
#include "codec/codec.h"
#include "core/clock.h"
#include "core/log.h"
#include "gpio/gpio-sim.h"

#define CONSUMER "fieldgated-command"
#define SIM_CHIP "sim"

/* One line of commands.gpio while the daemon runs. */
struct cmd_line {
	const struct fg_command_gpio *cfg;
	const struct fg_gpio_ops *ops;
	struct fg_gpio_line *line;   /* NULL until requested (or after a failure) */
	int level;                   /* last driven, -1 unknown */
	sd_event_source *pulse;      /* drives 0 at the end of a pulse */
	struct fg_cmd_intake *in;
};

struct fg_cmd_intake {
	const struct fg_config *cfg;
	sd_event *loop;
	struct fg_cmdq *q;
	struct fg_lora *lora;
	const struct fg_gpio_ops *ops;
	struct cmd_line *lines;
	size_t n_lines;
	char prefix[512];  /* commands.topic, expanded */
	char filter[520];  /* prefix + "#" */
	void (*wrote)(void *userdata);
	void *userdata;
	struct fg_cmd_intake_stats stats;
};

/* Replace every {gateway} of tmpl by id; -ENOBUFS when it does not fit. */
static int expand(const char *tmpl, const char *id, char *buf, size_t size)
{
	static const char ph[] = "{gateway}";
	size_t n = 0, idlen = strlen(id);

	for (const char *p = tmpl; *p;) {
		if (strncmp(p, ph, sizeof(ph) - 1) == 0) {
			if (n + idlen >= size)
				return -ENOBUFS;
			memcpy(buf + n, id, idlen);
			n += idlen;
			p += sizeof(ph) - 1;
			continue;
		}
		if (n + 1 >= size)
			return -ENOBUFS;
		buf[n++] = *p++;
	}
	buf[n] = '\0';
	return 0;
}

static bool is_sim(const char *chip)
{
	return strcmp(chip, SIM_CHIP) == 0;
}

/* Drive l to value, requesting it first when needed; 0 or a negative errno (logged). */
static int line_drive(struct cmd_line *l, int value, const char *why)
{
	const struct fg_command_gpio *g = l->cfg;
	int r;

	if (!l->line) {
		r = l->ops->line_request(g->chip, g->line, value, CONSUMER, &l->line);
		if (r < 0) {
			l->line = NULL;
			l->level = -1;
			l->in->stats.gpio_failures++;
			fg_log_device(LOG_ERR, "cmd", "gpio", g->chip,
				      "cannot request gpio %s line %u%s%s%s: %s", g->chip, g->line,
				      g->name ? " (" : "", g->name ? g->name : "", g->name ? ")" : "",
				      strerror(-r));
			return r;
		}
	} else if (l->level != value) {
		r = l->ops->line_set(l->line, value);
		if (r < 0) {
			l->level = -1;
			l->in->stats.gpio_failures++;
			fg_log_device(LOG_ERR, "cmd", "gpio", g->chip,
				      "cannot drive gpio %s line %u to %d: %s", g->chip, g->line, value,
				      strerror(-r));
			return r;
		}
	}
	l->in->stats.gpio_sets++;
	l->level = value;
	/* The sim chip's log line is its output; a real line's is for debugging. */
	fg_log(is_sim(g->chip) ? LOG_INFO : LOG_DEBUG, "cmd", "gpio %s line %u set to %d (%s)",
	       g->chip, g->line, value, why);
	return 0;
}

static void line_release(struct cmd_line *l)
{
	sd_event_source_disable_unref(l->pulse);
	l->pulse = NULL;
	if (l->line)
		l->ops->line_release(l->line);
	l->line = NULL;
}

static int on_pulse_end(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct cmd_line *l = userdata;

	(void) usec;
	(void) line_drive(l, 0, "end of pulse");
	sd_event_source_disable_unref(es);
	l->pulse = NULL;
	return 0;
}

int fg_cmd_intake_new(const struct fg_config *cfg, const char *gateway_id, sd_event *loop,
		      struct fg_cmdq *q, const struct fg_gpio_ops *ops, struct fg_cmd_intake *old,
		      void (*wrote)(void *userdata), void *userdata, struct fg_cmd_intake **ret)
{
	const struct fg_commands_config *cc = &cfg->commands;
	struct fg_cmd_intake *in = calloc(1, sizeof(*in));
	int r;

	if (!in) {
		fg_cmd_intake_free(old);
		return -ENOMEM;
	}
	in->cfg = cfg;
	in->loop = loop;
	in->q = q;
	in->ops = ops ? ops : fg_gpio_default_ops();
	in->wrote = wrote;
	in->userdata = userdata;
	r = expand(cc->topic ? cc->topic : "fieldgate/{gateway}/command/", gateway_id, in->prefix,
		   sizeof(in->prefix));
	if (r == 0 && (size_t) snprintf(in->filter, sizeof(in->filter), "%s#", in->prefix) >=
			      sizeof(in->filter))
		r = -ENOBUFS;
	in->lines = calloc(cc->n_gpio + 1, sizeof(*in->lines));
	if (r < 0 || !in->lines) {
		fg_cmd_intake_free(old);
		fg_cmd_intake_free(in);
		return r < 0 ? r : -ENOMEM;
	}
	in->n_lines = cc->n_gpio;
	for (size_t i = 0; i < cc->n_gpio; i++) {
		struct cmd_line *l = &in->lines[i];

		l->cfg = &cc->gpio[i];
		l->ops = is_sim(l->cfg->chip) ? fg_gpio_sim_ops() : in->ops;
		l->level = -1;
		l->in = in;
		/* The same line in the old configuration: take it over, level and all. */
		for (size_t k = 0; old && k < old->n_lines; k++) {
			struct cmd_line *o = &old->lines[k];

			if (o->line && strcmp(o->cfg->chip, l->cfg->chip) == 0 &&
			    o->cfg->line == l->cfg->line) {
				l->line = o->line;
				l->level = o->level;
				o->line = NULL;
				break;
			}
		}
		if (!l->line)
			(void) line_drive(l, l->cfg->initial ? 1 : 0, "initial level");
	}
	fg_cmd_intake_free(old);
	*ret = in;
	return 0;
}

void fg_cmd_intake_free(struct fg_cmd_intake *in)
{
	if (!in)
		return;
	for (size_t i = 0; i < in->n_lines; i++)
		line_release(&in->lines[i]);
	free(in->lines);
	free(in);
}

void fg_cmd_intake_set_lora(struct fg_cmd_intake *in, struct fg_lora *lora)
{
	in->lora = lora;
}

const char *fg_cmd_intake_filter(const struct fg_cmd_intake *in)
{
	return in->filter;
}

void fg_cmd_intake_get_stats(const struct fg_cmd_intake *in, struct fg_cmd_intake_stats *ret)
{
	*ret = in->stats;
}

static void wrote(struct fg_cmd_intake *in)
{
	if (in->wrote)
		in->wrote(in->userdata);
}

/* The log's name for a command: its id, or the topic when it has none. */
static const char *who(const struct fg_command *c, const char *topic)
{
	return c->id[0] ? c->id : topic;
}

/* End c as failed for r (logged, rate-limited by topic, and counted by the queue). */
static int fail(struct fg_cmd_intake *in, const struct fg_command *c, const char *topic,
		enum fg_cmd_reason r, const char *detail)
{
	int e;

	fg_log_device(LOG_WARNING, "cmd", "mqtt", topic, "command %s on '%s' refused: %s%s%s",
		      who(c, topic), topic, fg_cmd_reason_to_string(r), detail && *detail ? ": " : "",
		      detail ? detail : "");
	e = fg_cmdq_finish_now(in->q, c, FG_CMD_FAILED, r, detail, fg_clock_wall_ms());
	if (e < 0) {
		in->stats.storage_failures++;
		fg_log_device(LOG_ERR, "cmd", "store", "outcome",
			      "cannot keep the outcome of command %s: %s", who(c, topic),
			      strerror(-e));
		return e;
	}
	if (e == 0)
		wrote(in);
	return 0;
}

/* Whether two spellings name one chip: "0", "gpiochip0" and "/dev/gpiochip0" do. */
static bool same_chip(const char *a, const char *b)
{
	char pa[64], pb[64];

	if (is_sim(a) || is_sim(b))
		return is_sim(a) && is_sim(b);
	return fg_gpio_chip_path(a, pa, sizeof(pa)) == 0 &&
	       fg_gpio_chip_path(b, pb, sizeof(pb)) == 0 && strcmp(pa, pb) == 0;
}

/* The line of commands.gpio a command names: by name, or by chip and line. */
static struct cmd_line *find_line(struct fg_cmd_intake *in, const struct fg_command *c)
{
	for (size_t i = 0; i < in->n_lines; i++) {
		const struct fg_command_gpio *g = in->lines[i].cfg;

		if (c->gpio_name[0]) {
			if (g->name && strcmp(c->gpio_name, g->name) == 0)
				return &in->lines[i];
		} else if (same_chip(c->chip, g->chip) && c->line == g->line)
			return &in->lines[i];
	}
	return NULL;
}

static int gpio_command(struct fg_cmd_intake *in, struct fg_command *c, const char *topic)
{
	struct cmd_line *l = find_line(in, c);
	char detail[160];
	int r;

	if (!l) {
		if (c->gpio_name[0])
			snprintf(detail, sizeof(detail), "no line named '%s' in commands.gpio",
				 c->gpio_name);
		else
			snprintf(detail, sizeof(detail), "%s line %u is not in commands.gpio",
				 c->chip, c->line);
		return fail(in, c, topic, FG_CMD_R_GPIO_UNDECLARED, detail);
	}
	if (c->pulse_ms > l->cfg->max_pulse_ms) {
		snprintf(detail, sizeof(detail), "pulse_ms %u is above the line's max_pulse_ms %u",
			 c->pulse_ms, l->cfg->max_pulse_ms);
		return fail(in, c, topic, FG_CMD_R_BAD_FIELD, detail);
	}
	r = fg_cmdq_seen(in->q, c->id);
	if (r < 0)
		return r; /* the buffer cannot tell: let the broker send it again */
	if (r == 1) {
		fg_log_debug("cmd", "command %s seen before: not done again", c->id);
		return 0;
	}
	sd_event_source_disable_unref(l->pulse);
	l->pulse = NULL;
	r = line_drive(l, c->pulse_ms ? 1 : c->value, c->id);
	if (r == 0 && c->pulse_ms) {
		r = sd_event_add_time_relative(in->loop, &l->pulse, CLOCK_MONOTONIC,
					       (uint64_t) c->pulse_ms * 1000, 1000, on_pulse_end, l);
		if (r < 0) {
			/* No timer to end the pulse: do not leave the line driven. */
			(void) line_drive(l, 0, "pulse cannot be timed");
			l->pulse = NULL;
		}
	}
	if (r < 0) {
		snprintf(detail, sizeof(detail), "%s line %u: %s", l->cfg->chip, l->cfg->line,
			 strerror(-r));
		return fail(in, c, topic, FG_CMD_R_GPIO_FAILED, detail);
	}
	r = fg_cmdq_finish_now(in->q, c, FG_CMD_SENT, FG_CMD_R_NONE, NULL, fg_clock_wall_ms());
	if (r < 0) {
		in->stats.storage_failures++;
		fg_log_device(LOG_ERR, "cmd", "store", "outcome",
			      "gpio command %s done, but its outcome cannot be kept: %s", c->id,
			      strerror(-r));
		return r;
	}
	wrote(in);
	return 0;
}

/* Encode c->object with device d's codec into c->data; FG_CMD_R_NONE or why not. */
static enum fg_cmd_reason encode_object(const struct fg_cmd_intake *in,
					const struct fg_lorawan_device *d, struct fg_command *c,
					char *detail, size_t size)
{
	size_t n = 0;
	int r = -ENOENT;

	if (strcmp(d->codec, "cayenne") == 0) {
		r = fg_cayenne_encode(c->object, c->object_len, c->data, sizeof(c->data), &n,
				      detail, size);
	} else if (strcmp(d->codec, "raw") == 0) {
		snprintf(detail, size, "device %s has the raw codec, which cannot encode an object; "
			 "send data or data_base64", d->name);
		return FG_CMD_R_CANNOT_ENCODE;
	} else {
		for (size_t i = 0; i < in->cfg->n_codecs; i++) {
			const struct fg_codec_config *cc = &in->cfg->codecs[i];

			if (strcmp(cc->name, d->codec) == 0) {
				r = fg_layout_encode(&(struct fg_layout){ cc->fields, cc->n_fields },
						     c->f_port, c->object, c->object_len, c->data,
						     sizeof(c->data), &n, detail, size);
				break;
			}
		}
		if (r == -ENOENT && !*detail)
			snprintf(detail, size, "no codec '%s'", d->codec);
	}
	if (r == -EMSGSIZE)
		return FG_CMD_R_TOO_LONG; /* encodes, but to more than a frame can carry */
	if (r < 0)
		return FG_CMD_R_CANNOT_ENCODE;
	c->data_len = n;
	c->object = NULL;
	c->object_len = 0;
	return FG_CMD_R_NONE;
}

static int downlink_command(struct fg_cmd_intake *in, struct fg_command *c, const char *topic)
{
	const struct fg_lorawan_device *d = in->lora ? fg_lora_find_device(in->lora, c->device)
						     : NULL;
	char detail[256] = "";
	enum fg_cmd_reason why;
	int r;

	if (!d) {
		snprintf(detail, sizeof(detail), "%s: %s", c->device,
			 in->lora ? "no such device in lorawan.devices (name, DevEUI or DevAddr)"
				  : "no LoRa source runs");
		return fail(in, c, topic, FG_CMD_R_UNKNOWN_DEVICE, detail);
	}
	snprintf(c->device_name, sizeof(c->device_name), "%s", d->name);
	if (c->object) {
		why = encode_object(in, d, c, detail, sizeof(detail));
		if (why != FG_CMD_R_NONE) {
			return fail(in, c, topic, why, detail);
		}
	}
	r = fg_lora_downlink_check(in->lora, d, c->data_len);
	if (r == -EMSGSIZE) {
		snprintf(detail, sizeof(detail), "%zu bytes on port %d do not fit the data rate of "
			 "%s's next downlink", c->data_len, c->f_port, d->name);
		return fail(in, c, topic, FG_CMD_R_TOO_LONG, detail);
	}
	if (r == -ENOTCONN) {
		/* No session: no FCntDown, no key to encrypt with, no idea when it joins. */
		snprintf(detail, sizeof(detail), "%s is an OTAA device that has not joined",
			 d->name);
		return fail(in, c, topic, FG_CMD_R_NOT_JOINED, detail);
	}
	r = fg_cmdq_accept(in->q, c, fg_clock_wall_ms());
	if (r < 0) {
		in->stats.storage_failures++;
		fg_log_device(LOG_ERR, "cmd", "store", "accept",
			      "cannot queue command %s for %s: %s; the broker is not told it "
			      "arrived, and sends it again", c->id, d->name, strerror(-r));
		return r;
	}
	if (r == 1) {
		fg_log_debug("cmd", "command %s seen before: not queued again", c->id);
		return 0;
	}
	wrote(in);
	if (r == 2) {
		fg_log_device(LOG_WARNING, "cmd", "mqtt", topic,
			      "command %s for %s refused: queue-full", c->id, d->name);
		return 0;
	}
	fg_log_info("cmd", "command %s queued for %s: %zu bytes on port %d%s", c->id, d->name,
		    c->data_len, c->f_port, c->confirmed ? ", confirmed" : "");
	fg_lora_downlink_queued(in->lora, d);
	return 0;
}

int fg_cmd_intake_message(struct fg_cmd_intake *in, const char *topic, const void *payload,
			  size_t len, const char *response_topic, const void *correlation,
			  size_t correlation_len)
{
	static struct fg_command c; /* 1.6 KB: off the stack of a loop callback */
	char detail[256] = "";
	enum fg_cmd_kind kind;
	enum fg_cmd_reason why;
	int r;

	r = fg_cmd_kind_from_topic(in->prefix, topic, &kind);
	if (r == -EINVAL) {
		/* Not ours (a subscription that outlived a reload): never acted on. */
		in->stats.ignored++;
		fg_log_debug("cmd", "message on '%s', outside '%s': ignored", topic, in->filter);
		return 0;
	}
	/* Parsed even when refused, for the id the failed outcome carries. */
	why = fg_command_parse(r == 0 ? kind : FG_CMD_DOWN_PUSH, payload, len, fg_clock_wall_ms(),
			       &c, detail, sizeof(detail));
	if (response_topic && *response_topic && strlen(response_topic) <= FG_CMD_TOPIC_MAX)
		snprintf(c.response_topic, sizeof(c.response_topic), "%s", response_topic);
	else
		c.response_topic[0] = '\0';
	c.correlation_len = 0;
	if (correlation && correlation_len <= sizeof(c.correlation)) {
		memcpy(c.correlation, correlation, correlation_len);
		c.correlation_len = correlation_len;
	}
	if (r == -ENOENT) {
		snprintf(detail, sizeof(detail), "'%.100s' is no command: down/push, down/replace "
			 "or gpio under the prefix", topic + strlen(in->prefix));
		return fail(in, &c, topic, FG_CMD_R_UNKNOWN_COMMAND, detail);
	}
	if (len > in->cfg->commands.max_size) {
		snprintf(detail, sizeof(detail), "%zu bytes, more than commands.max_size (%u)", len,
			 in->cfg->commands.max_size);
		return fail(in, &c, topic, FG_CMD_R_TOO_LARGE, detail);
	}
	if (why != FG_CMD_R_NONE) {
		return fail(in, &c, topic, why, detail);
	}
	if (kind == FG_CMD_GPIO)
		return gpio_command(in, &c, topic);
	return downlink_command(in, &c, topic);
}
