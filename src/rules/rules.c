/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "core/clock.h"
#include "rules/expr.h"
#include "rules/rules.h"
#include "store/store.h"

#define MATCH_SLOTS 8192  /* match cache: open addressing by identity hash */
#define MATCH_MAX 6144	  /* identities cached before the cache starts over */
#define SERIES_SLOTS 8192 /* open addressing, twice FG_RULES_SERIES_MAX */
#define FRAME_MAX 64	  /* readings handled at once (the store's frame group) */
#define STATE_VERSION 1
#define OWNER_PREFIX "rule:"

/*
 * Which rules match one identity (source, device id, device name,
 * quantity). Globs cost two formatted paths and two fnmatch calls per rule,
 * so the answer is cached per identity: the rule bits followed by the
 * identity itself ("S\0id\0name\0quantity\0", compared in full) in one
 * allocation. The cache starts over when MATCH_MAX identities are in it (a
 * street of random BLE addresses cannot grow it).
 */
struct match_entry {
	uint64_t hash;
	size_t key_len;
	uint64_t bits[]; /* rule_words words, then the key */
};

/* The state of one series (rule + source/device/quantity). */
struct series {
	uint64_t hash;
	uint32_t rule;
	enum fg_source_kind source;
	char id[FG_DEVICE_ID_MAX];
	char quantity[FG_QUANTITY_MAX];
	char name[FG_DEVICE_NAME_MAX]; /* for the window's frame */
	char unit[FG_UNIT_MAX];
	bool dirty;
	/* report by exception */
	bool have_last;
	double last;
	uint64_t last_hash; /* of a string value */
	uint64_t last_ms;
	/* tumbling window */
	bool win_open;
	bool win_timed; /* a reading in it had a wall time */
	uint64_t win_start;
	uint32_t count;
	double sum, min, max, lastv;
	/* alert */
	bool raised;
};

struct rule_rt {
	uint64_t fp;
	char owner[sizeof(OWNER_PREFIX) + 64];
	unsigned raised; /* series with the alert raised */
	bool stateful;
};

struct fg_rules {
	const struct fg_config *cfg;
	struct fg_rules_clock clock;
	struct rule_rt *rt;
	struct match_entry **cache;
	size_t n_cached;
	size_t rule_words; /* 64-bit words of rule bits per entry */
	struct series **slots;
	struct series **dirty;
	size_t n_series, n_dirty;
	size_t n_open; /* series with an open window: ticks cost nothing without */
	uint64_t now_ms; /* the clock, read once per frame */
	struct fg_rules_stats stats;
};

/* ------------------------------------------------------------------ hashing */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * UINT64_C(0x100000001b3);
	return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
	return fnv(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

#define FNV_SEED UINT64_C(0xcbf29ce484222325)

/*
 * The in-memory tables' hash (match cache, series): eight bytes a step
 * (FNV-1a's byte a step was 5% of the instructions per reading end to end),
 * a multiply and a fold of the high half into the low bits the slots use.
 * Never stored: byte order may make it differ between machines.
 */
static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t w;

	for (; n >= 8; c += 8, n -= 8) {
		memcpy(&w, c, 8);
		h = (h ^ w) * UINT64_C(0x9e3779b97f4a7c15);
		h ^= h >> 32;
	}
	if (n) {
		w = 0;
		memcpy(&w, c, n);
		h = (h ^ w ^ ((uint64_t) n << 56)) * UINT64_C(0x9e3779b97f4a7c15);
		h ^= h >> 32;
	}
	return h;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	return hash_bytes(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

uint64_t fg_rules_fingerprint(const struct fg_rule_config *r)
{
	const struct fg_expr *e[] = { r->drop_if, r->set, r->when, r->clear_when };
	int ints[] = { (int) r->deadband_percent, (int) r->heartbeat_s, (int) r->window_s,
		       (int) r->emit, r->has_gpio, (int) r->gpio_line, r->gpio_on, r->gpio_off };
	uint64_t h = FNV_SEED;

	h = fnv_str(h, r->name);
	h = fnv_str(h, r->match);
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++)
		h = fnv_str(h, e[i] ? fg_expr_text(e[i]) : NULL);
	h = fnv_str(h, r->unit);
	h = fnv_str(h, r->quantity);
	h = fnv_str(h, r->alert_topic);
	h = fnv_str(h, r->severity);
	h = fnv_str(h, r->gpio_chip);
	h = fnv(h, &r->deadband, sizeof(r->deadband));
	return fnv(h, ints, sizeof(ints));
}

/* ------------------------------------------------------------------ matching */

static bool glob_matches(const struct fg_rule_config *r, const struct fg_reading *rd)
{
	const char *src = fg_source_kind_to_string(rd->source);
	char path[FG_DEVICE_NAME_MAX + FG_DEVICE_ID_MAX + FG_QUANTITY_MAX + 16];

	snprintf(path, sizeof(path), "%s/%s/%s", src, rd->device_name, rd->quantity);
	if (fnmatch(r->match, path, 0) == 0)
		return true;
	if (!strcmp(rd->device_name, rd->device_id))
		return false;
	snprintf(path, sizeof(path), "%s/%s/%s", src, rd->device_id, rd->quantity);
	return fnmatch(r->match, path, 0) == 0;
}

/* The cache key of rd's identity in buf; returns its length. */
static size_t identity_key(const struct fg_reading *rd, char *buf)
{
	size_t n = 0;
	const char *parts[] = { rd->device_id, rd->device_name, rd->quantity };
	const size_t max[] = { sizeof(rd->device_id), sizeof(rd->device_name),
			       sizeof(rd->quantity) };

	buf[n++] = (char) ('0' + rd->source);
	buf[n++] = '\0';
	for (size_t i = 0; i < 3; i++) {
		size_t len = strnlen(parts[i], max[i] - 1);

		memcpy(buf + n, parts[i], len);
		n += len;
		buf[n++] = '\0';
	}
	return n;
}

static void match_clear(struct fg_rules *x)
{
	for (size_t i = 0; i < MATCH_SLOTS; i++) {
		free(x->cache[i]);
		x->cache[i] = NULL;
	}
	x->n_cached = 0;
}

/* The rules matching rd's identity, from the cache or computed into it; NULL without memory. */
static const uint64_t *match_bits(struct fg_rules *x, const struct fg_reading *rd)
{
	char key[FG_DEVICE_ID_MAX + FG_DEVICE_NAME_MAX + FG_QUANTITY_MAX + 8];
	size_t len = identity_key(rd, key), words = x->rule_words, i;
	uint64_t h = hash_bytes(FNV_SEED, key, len);
	struct match_entry *m;

	for (i = h % MATCH_SLOTS; x->cache[i]; i = (i + 1) % MATCH_SLOTS) {
		m = x->cache[i];
		if (m->hash == h && m->key_len == len &&
		    !memcmp((const char *) (m->bits + words), key, len))
			return m->bits;
	}
	if (x->n_cached >= MATCH_MAX) {
		match_clear(x);
		i = h % MATCH_SLOTS;
	}
	m = calloc(1, sizeof(*m) + words * sizeof(uint64_t) + len);
	if (!m)
		return NULL;
	m->hash = h;
	m->key_len = len;
	memcpy((char *) (m->bits + words), key, len);
	for (size_t k = 0; k < x->cfg->n_rules; k++)
		if (glob_matches(&x->cfg->rules[k], rd))
			m->bits[k / 64] |= UINT64_C(1) << (k % 64);
	x->cache[i] = m;
	x->n_cached++;
	return m->bits;
}

/* ------------------------------------------------------------------ series */

static uint64_t series_hash(uint32_t rule, const struct fg_reading *rd)
{
	uint64_t h = hash_bytes(FNV_SEED, &rule, sizeof(rule));

	h = hash_bytes(h, &rd->source, sizeof(rd->source));
	return hash_str(hash_str(h, rd->device_id), rd->quantity);
}

static bool series_is(const struct series *s, uint64_t h, uint32_t rule,
		      const struct fg_reading *rd)
{
	return s->hash == h && s->rule == rule && s->source == rd->source &&
	       !strcmp(s->id, rd->device_id) && !strcmp(s->quantity, rd->quantity);
}

/* The slot for (rule, rd): the series' own or the empty one where it would go. */
static struct series **series_slot(struct fg_rules *x, uint64_t h, uint32_t rule,
				   const struct fg_reading *rd)
{
	for (size_t i = h % SERIES_SLOTS;; i = (i + 1) % SERIES_SLOTS)
		if (!x->slots[i] || series_is(x->slots[i], h, rule, rd))
			return &x->slots[i];
}

static void mark_dirty(struct fg_rules *x, struct series *s)
{
	if (!s->dirty && x->dirty) {
		s->dirty = true;
		x->dirty[x->n_dirty++] = s;
	}
}

/* rd's series of rule, created if new; NULL when FG_RULES_SERIES_MAX are tracked (or no memory). */
static struct series *series_get(struct fg_rules *x, uint32_t rule, const struct fg_reading *rd)
{
	uint64_t h = series_hash(rule, rd);
	struct series **slot = series_slot(x, h, rule, rd), *s;

	if (*slot)
		return *slot;
	if (x->n_series >= FG_RULES_SERIES_MAX)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->hash = h;
	s->rule = rule;
	s->source = rd->source;
	memcpy(s->id, rd->device_id, sizeof(s->id));
	memcpy(s->quantity, rd->quantity, sizeof(s->quantity));
	*slot = s;
	x->n_series++;
	return s;
}

static void series_clear_all(struct fg_rules *x)
{
	for (size_t i = 0; i < SERIES_SLOTS; i++) {
		free(x->slots[i]);
		x->slots[i] = NULL;
	}
	x->n_series = 0;
	x->n_dirty = 0;
	x->n_open = 0;
	for (size_t k = 0; k < x->cfg->n_rules; k++)
		x->rt[k].raised = 0;
}

/* ------------------------------------------------------------------ state rows */

struct writer {
	unsigned char *p;
	size_t len, size;
};

static void put(struct writer *w, const void *v, size_t n)
{
	if (w->len + n <= w->size)
		memcpy(w->p + w->len, v, n);
	w->len += n;
}

static void put_str(struct writer *w, const char *s)
{
	unsigned char n = (unsigned char) strlen(s);

	put(w, &n, 1);
	put(w, s, n);
}

/* The row of a series (host byte order: the buffer stays on its gateway). Returns its length. */
static size_t series_encode(const struct fg_rules *x, const struct series *s, unsigned char *buf,
			    size_t size)
{
	struct writer w = { buf, 0, size };
	unsigned char v = STATE_VERSION, src = (unsigned char) s->source;
	unsigned char flags = (unsigned char) (s->have_last | s->raised << 1 | s->win_open << 2 |
					       s->win_timed << 3);

	put(&w, &v, 1);
	put(&w, &x->rt[s->rule].fp, 8);
	put(&w, &flags, 1);
	put(&w, &src, 1);
	put(&w, &s->last, 8);
	put(&w, &s->last_hash, 8);
	put(&w, &s->last_ms, 8);
	put(&w, &s->win_start, 8);
	put(&w, &s->count, 4);
	put(&w, &s->sum, 8);
	put(&w, &s->min, 8);
	put(&w, &s->max, 8);
	put(&w, &s->lastv, 8);
	put_str(&w, s->id);
	put_str(&w, s->quantity);
	put_str(&w, s->name);
	put_str(&w, s->unit);
	return w.len;
}

struct reader {
	const unsigned char *p;
	size_t len, off;
	bool bad;
};

static void get(struct reader *r, void *v, size_t n)
{
	if (r->off + n > r->len) {
		r->bad = true;
		memset(v, 0, n);
		return;
	}
	memcpy(v, r->p + r->off, n);
	r->off += n;
}

static void get_str(struct reader *r, char *dst, size_t size)
{
	unsigned char n = 0;

	get(r, &n, 1);
	if (n >= size || r->off + n > r->len) {
		r->bad = true;
		dst[0] = '\0';
		return;
	}
	memcpy(dst, r->p + r->off, n);
	dst[n] = '\0';
	r->off += n;
}

/* Parse a row into s; false for a row that is not ours, of another version or truncated. */
static bool series_decode(struct series *s, const void *blob, size_t len, uint64_t *ret_fp)
{
	struct reader r = { blob, len, 0, false };
	unsigned char v = 0, flags = 0, src = 0;

	get(&r, &v, 1);
	get(&r, ret_fp, 8);
	get(&r, &flags, 1);
	get(&r, &src, 1);
	get(&r, &s->last, 8);
	get(&r, &s->last_hash, 8);
	get(&r, &s->last_ms, 8);
	get(&r, &s->win_start, 8);
	get(&r, &s->count, 4);
	get(&r, &s->sum, 8);
	get(&r, &s->min, 8);
	get(&r, &s->max, 8);
	get(&r, &s->lastv, 8);
	get_str(&r, s->id, sizeof(s->id));
	get_str(&r, s->quantity, sizeof(s->quantity));
	get_str(&r, s->name, sizeof(s->name));
	get_str(&r, s->unit, sizeof(s->unit));
	if (r.bad || r.off != len || v != STATE_VERSION || src >= FG_SOURCE__COUNT || !s->id[0] ||
	    !s->quantity[0])
		return false;
	s->source = (enum fg_source_kind) src;
	s->have_last = flags & 1;
	s->raised = flags & 2;
	s->win_open = flags & 4;
	s->win_timed = flags & 8;
	return true;
}

/* Owners whose rows are dropped after a load (rules removed or changed). */
struct load {
	struct fg_rules *x;
	char (*drop)[sizeof(((struct rule_rt *) 0)->owner)];
	size_t n_drop, cap_drop;
	int err;
};

static int load_drop(struct load *ld, const char *owner)
{
	for (size_t i = 0; i < ld->n_drop; i++)
		if (!strcmp(ld->drop[i], owner))
			return 0;
	if (ld->n_drop == ld->cap_drop) {
		size_t cap = ld->cap_drop ? ld->cap_drop * 2 : 8;
		void *p = realloc(ld->drop, cap * sizeof(ld->drop[0]));

		if (!p)
			return -ENOMEM;
		ld->drop = p;
		ld->cap_drop = cap;
	}
	snprintf(ld->drop[ld->n_drop++], sizeof(ld->drop[0]), "%s", owner);
	return 0;
}

static ssize_t rule_by_owner(const struct fg_rules *x, const char *owner)
{
	for (size_t k = 0; k < x->cfg->n_rules; k++)
		if (!strcmp(x->rt[k].owner, owner))
			return (ssize_t) k;
	return -1;
}

static int load_row(const char *owner, const char *key, const void *blob, size_t len,
		    void *userdata)
{
	struct load *ld = userdata;
	struct fg_rules *x = ld->x;
	struct series tmp = { 0 }, *s;
	struct fg_reading id;
	ssize_t k;
	uint64_t fp;

	(void) key;
	if (strncmp(owner, OWNER_PREFIX, strlen(OWNER_PREFIX)))
		return 0; /* not the rules' */
	k = rule_by_owner(x, owner);
	if (k < 0)
		return load_drop(ld, owner); /* the rule is gone */
	if (!series_decode(&tmp, blob, len, &fp)) {
		x->stats.bad_state++;
		return load_drop(ld, owner);
	}
	if (fp != x->rt[k].fp)
		return load_drop(ld, owner); /* the rule changed: start it afresh */
	memset(&id, 0, sizeof(id));
	id.source = tmp.source;
	memcpy(id.device_id, tmp.id, sizeof(id.device_id));
	memcpy(id.quantity, tmp.quantity, sizeof(id.quantity));
	s = series_get(x, (uint32_t) k, &id);
	if (!s) {
		x->stats.untracked++;
		return 0;
	}
	tmp.hash = s->hash;
	tmp.rule = s->rule;
	*s = tmp;
	if (s->raised)
		x->rt[k].raised++;
	x->n_open += s->win_open;
	return 0;
}

int fg_rules_reload(struct fg_rules *x, struct fg_store *store)
{
	struct load ld = { .x = x };
	int r = 0;

	series_clear_all(x);
	if (!store)
		return 0;
	r = fg_store_state_each(store, NULL, load_row, &ld);
	for (size_t i = 0; r >= 0 && i < ld.n_drop; i++)
		r = fg_store_state_delete(store, ld.drop[i], NULL);
	free(ld.drop);
	return r < 0 ? r : 0;
}

int fg_rules_save(struct fg_rules *x, struct fg_store *store)
{
	unsigned char buf[512];
	char key[FG_DEVICE_ID_MAX + FG_QUANTITY_MAX + 16];
	int r = 0;

	for (size_t i = 0; i < x->n_dirty; i++) {
		struct series *s = x->dirty[i];
		size_t len = series_encode(x, s, buf, sizeof(buf));

		s->dirty = false;
		if (r < 0 || !store)
			continue;
		snprintf(key, sizeof(key), "%s/%s/%s", fg_source_kind_to_string(s->source), s->id,
			 s->quantity);
		r = fg_store_state_put(store, x->rt[s->rule].owner, key, buf, len);
	}
	x->n_dirty = 0;
	return r;
}

/* ------------------------------------------------------------------ life */

static uint64_t system_wall_ms(void *userdata)
{
	(void) userdata;
	return fg_clock_wall_ms();
}

void fg_rules_free(struct fg_rules *x)
{
	if (!x)
		return;
	if (x->slots)
		series_clear_all(x);
	if (x->cache)
		match_clear(x);
	free(x->slots);
	free(x->dirty);
	free(x->cache);
	free(x->rt);
	free(x);
}

int fg_rules_new(const struct fg_config *cfg, struct fg_store *store,
		 const struct fg_rules_clock *clock, struct fg_rules **ret)
{
	struct fg_rules *x = calloc(1, sizeof(*x));
	int r;

	if (!x)
		return -ENOMEM;
	x->cfg = cfg;
	x->clock = clock ? *clock : (struct fg_rules_clock){ system_wall_ms, NULL };
	x->rt = calloc(cfg->n_rules ? cfg->n_rules : 1, sizeof(*x->rt));
	x->cache = calloc(MATCH_SLOTS, sizeof(*x->cache));
	x->slots = calloc(SERIES_SLOTS, sizeof(*x->slots));
	x->dirty = calloc(FG_RULES_SERIES_MAX, sizeof(*x->dirty));
	if (!x->rt || !x->cache || !x->slots || !x->dirty) {
		fg_rules_free(x);
		return -ENOMEM;
	}
	x->rule_words = (cfg->n_rules + 63) / 64;
	for (size_t k = 0; k < cfg->n_rules; k++) {
		const struct fg_rule_config *rc = &cfg->rules[k];

		x->rt[k].fp = fg_rules_fingerprint(rc);
		snprintf(x->rt[k].owner, sizeof(x->rt[k].owner), OWNER_PREFIX "%s", rc->name);
		x->rt[k].stateful = rc->deadband > 0 || rc->heartbeat_s || rc->window_s || rc->when;
	}
	r = fg_rules_reload(x, store);
	if (r < 0) {
		fg_rules_free(x);
		return r;
	}
	*ret = x;
	return 0;
}

void fg_rules_get_stats(const struct fg_rules *x, struct fg_rules_stats *ret)
{
	*ret = x->stats;
	ret->series = x->n_series;
}

bool fg_rules_raised(const struct fg_rules *x, size_t rule)
{
	return rule < x->cfg->n_rules && x->rt[rule].raised > 0;
}

/* ------------------------------------------------------------------ evaluation */

/* What one reading is evaluated against: its frame (for battery) and the frame's clocks. */
struct ctx {
	struct fg_rules *x;
	const struct fg_reading *frame;
	size_t n;
	const struct fg_rules_sink *sink;
	uint64_t mono_now;
	bool have_battery; /* the frame's battery reading, for the variable */
	double battery;
};

static bool is_battery(const char *q)
{
	return !strncmp(q, "battery", 7) && (q[7] == '\0' || q[7] == '_');
}

/* The frame's battery reading (the `battery` variable), found once per frame. */
static void frame_battery(struct ctx *c)
{
	c->have_battery = false;
	for (size_t k = 0; k < c->n; k++)
		if (c->frame[k].kind == FG_VALUE_NUMBER && is_battery(c->frame[k].quantity)) {
			c->have_battery = true;
			c->battery = c->frame[k].number;
			return;
		}
}

static void environment(const struct ctx *c, const struct fg_reading *r, struct fg_expr_env *env)
{
	/* A value that is not a finite number is missing: no rule compares or averages a NaN. */
	env->have[FG_EXPR_VALUE] = r->kind == FG_VALUE_BOOL ||
				   (r->kind == FG_VALUE_NUMBER && isfinite(r->number));
	env->vars[FG_EXPR_VALUE] = r->kind == FG_VALUE_BOOL ? (r->boolean ? 1 : 0) : r->number;
	env->have[FG_EXPR_RSSI] = r->radio.present;
	env->vars[FG_EXPR_RSSI] = r->radio.rssi;
	env->have[FG_EXPR_SNR] = r->radio.present && r->radio.sf;
	env->vars[FG_EXPR_SNR] = r->radio.snr;
	env->have[FG_EXPR_BATTERY] = c->have_battery;
	env->vars[FG_EXPR_BATTERY] = c->battery;
	env->have[FG_EXPR_AGE] = r->mono_usec && r->mono_usec <= c->mono_now;
	env->vars[FG_EXPR_AGE] = (double) (c->mono_now - r->mono_usec) / 1e6;
}

/* Evaluate e; -1 when it cannot be (a variable missing, not finite): counted, the action skipped. */
static int eval(struct fg_rules *x, const struct fg_expr *e, const struct fg_expr_env *env,
		double *ret)
{
	if (fg_expr_eval(e, env, ret) < 0) {
		x->stats.skipped++;
		return -1;
	}
	return 0;
}

static uint64_t text_hash(const struct fg_reading *r)
{
	return fnv_str(FNV_SEED, r->text);
}

/* Report by exception: whether r goes on, remembering it if it does. */
static bool report(struct fg_rules *x, const struct fg_rule_config *rule, struct series *s,
		   const struct fg_reading *r, uint64_t t)
{
	bool pass = !s->have_last;
	double v = r->kind == FG_VALUE_BOOL ? r->boolean : r->number;

	if (!pass && rule->heartbeat_s && (t < s->last_ms || t - s->last_ms >= rule->heartbeat_s * 1000ull))
		pass = true;
	if (!pass && r->kind == FG_VALUE_STRING)
		pass = text_hash(r) != s->last_hash;
	else if (!pass && r->kind == FG_VALUE_BOOL)
		pass = v != s->last;
	else if (!pass && (!isfinite(v) || !isfinite(s->last)))
		pass = isfinite(v) != isfinite(s->last); /* into or out of "no value" */
	else if (!pass) {
		double limit = rule->deadband_percent ? fabs(s->last) * rule->deadband / 100
						      : rule->deadband;

		/* deadband 0 (heartbeat alone): any change goes on */
		pass = limit > 0 ? fabs(v - s->last) >= limit : v != s->last;
	}
	if (!pass)
		return false;
	s->have_last = true;
	s->last = v;
	s->last_hash = r->kind == FG_VALUE_STRING ? text_hash(r) : 0;
	s->last_ms = t;
	mark_dirty(x, s);
	return true;
}

static int run_chain(struct ctx *c, struct fg_reading *r, size_t start);

static const char *const stat_names[] = { "mean", "min", "max", "sum", "count", "last" };

/* The aggregates of s's window as readings; returns how many. */
static size_t window_readings(const struct ctx *c, const struct series *s, unsigned emit,
			      struct fg_reading *out)
{
	double v[] = { s->sum / s->count, s->min, s->max, s->sum, s->count, s->lastv };
	const char *boot = fg_clock_boot_id();
	size_t n = 0;

	for (size_t k = 0; k < sizeof(stat_names) / sizeof(stat_names[0]); k++) {
		struct fg_reading *r = &out[n];
		size_t room = FG_QUANTITY_MAX - 2 - strlen(stat_names[k]);

		if (!(emit & (1u << k)))
			continue;
		memset(r, 0, sizeof(*r));
		r->source = s->source;
		memcpy(r->device_id, s->id, sizeof(r->device_id));
		memcpy(r->device_name, s->name, sizeof(r->device_name));
		/* A quantity too long for the suffix is cut, keeping the name within its limit. */
		snprintf(r->quantity, sizeof(r->quantity), "%.*s_%s", (int) room, s->quantity,
			 stat_names[k]);
		if (k != 4) /* a count has no unit */
			memcpy(r->unit, s->unit, sizeof(r->unit));
		r->kind = FG_VALUE_NUMBER;
		r->number = v[k];
		r->time_ms = s->win_timed ? s->win_start : 0;
		r->mono_usec = c->mono_now;
		snprintf(r->boot_id, sizeof(r->boot_id), "%s", boot);
		r->frame_id = s->win_start;
		r->radio.dr = -1;
		n++;
	}
	return n;
}

/* End s's window: its aggregates go through the rules after s's own, then to the sink. */
static int window_close(struct ctx *c, struct series *s)
{
	const struct fg_rule_config *rule = &c->x->cfg->rules[s->rule];
	struct fg_reading agg[6], kept[6];
	struct ctx sub = *c;
	size_t n = window_readings(c, s, rule->emit, agg), k = 0;
	int r;

	s->win_open = false;
	c->x->n_open--;
	mark_dirty(c->x, s);
	c->x->stats.windows++;
	sub.frame = agg;
	sub.n = n;
	frame_battery(&sub);
	for (size_t i = 0; i < n; i++) {
		struct fg_reading cur = agg[i];

		r = run_chain(&sub, &cur, s->rule + 1);
		if (r < 0)
			return r;
		if (r > 0)
			kept[k++] = cur;
	}
	return k ? c->sink->frame(kept, k, c->sink->userdata) : 0;
}

/* Take r into its window, closing the previous one first if r belongs to a later one. */
static int window_add(struct ctx *c, const struct fg_rule_config *rule, struct series *s,
		      const struct fg_reading *r, uint64_t t)
{
	uint64_t w = rule->window_s * 1000ull, start = t - t % w;
	double v = r->kind == FG_VALUE_BOOL ? r->boolean : r->number;
	int e;

	if (!isfinite(v))
		return 0; /* nothing to aggregate; the reading goes no further, like the others */
	/* A later window, or the clock set back by more than a window: this one is over. */
	if (s->win_open && (start > s->win_start || start + w < s->win_start)) {
		e = window_close(c, s);
		if (e < 0)
			return e;
	}
	if (!s->win_open) {
		c->x->n_open++;
		s->win_open = true;
		s->win_timed = false;
		s->win_start = start;
		s->count = 0;
		s->sum = 0;
		s->min = s->max = v;
	}
	/* A late reading (of a window already closed) counts in the open one. */
	s->count++;
	s->sum += v;
	s->min = v < s->min ? v : s->min;
	s->max = v > s->max ? v : s->max;
	s->lastv = v;
	s->win_timed |= r->time_ms != 0;
	memcpy(s->name, r->device_name, sizeof(s->name));
	memcpy(s->unit, r->unit, sizeof(s->unit));
	c->x->stats.aggregated++;
	mark_dirty(c->x, s);
	return 0;
}

/* Raise or clear the alert of s on r. */
static int alert(struct ctx *c, const struct fg_rule_config *rule, struct series *s,
		 const struct fg_reading *r, const struct fg_expr_env *env)
{
	struct fg_rules *x = c->x;
	double on, off;
	bool change;

	if (eval(x, rule->when, env, &on) < 0)
		return 0;
	if (!s->raised) {
		change = on != 0;
	} else if (rule->clear_when) {
		if (eval(x, rule->clear_when, env, &off) < 0)
			return 0;
		change = off != 0;
	} else {
		change = on == 0;
	}
	if (!change)
		return 0;
	s->raised = !s->raised;
	if (s->raised) {
		x->rt[s->rule].raised++;
		x->stats.raised++;
	} else {
		x->rt[s->rule].raised--;
		x->stats.cleared++;
	}
	memcpy(s->name, r->device_name, sizeof(s->name));
	mark_dirty(x, s);
	return c->sink->alert ? c->sink->alert(s->rule, s->raised, r, c->sink->userdata) : 0;
}

/* The stateful actions of rule k on r: 1 it goes on, 0 it stays here, or an error. */
static int stateful(struct ctx *c, size_t k, struct fg_reading *r, const struct fg_expr_env *env)
{
	struct fg_rules *x = c->x;
	const struct fg_rule_config *rule = &x->cfg->rules[k];
	struct series *s = series_get(x, (uint32_t) k, r);
	uint64_t t = r->time_ms ? r->time_ms : x->now_ms;
	int e;

	if (!s) {
		x->stats.untracked++;
		return 1;
	}
	if ((rule->deadband > 0 || rule->heartbeat_s) && !report(x, rule, s, r, t)) {
		x->stats.suppressed++;
		return 0;
	}
	if (rule->when) {
		e = alert(c, rule, s, r, env);
		if (e < 0)
			return e;
	}
	if (rule->window_s && r->kind != FG_VALUE_STRING) {
		e = window_add(c, rule, s, r, t);
		return e < 0 ? e : 0;
	}
	return 1;
}

/* Copy a configured name (checked at load to fit) into a reading's field. */
static void set_name(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Rules start.. over r: 1 it goes on, 0 it went (dropped, held back, aggregated), or an error. */
static int run_chain(struct ctx *c, struct fg_reading *r, size_t start)
{
	struct fg_rules *x = c->x;
	const uint64_t *bits;
	struct fg_expr_env env;
	bool changed = false, have_env = false;
	int e = 1;

	if (start >= x->cfg->n_rules)
		return 1;
	bits = match_bits(x, r);
	if (!bits)
		return -ENOMEM;
	for (size_t k = start; k < x->cfg->n_rules; k++) {
		const struct fg_rule_config *rule = &x->cfg->rules[k];
		double v;

		if (!(bits[k / 64] & (UINT64_C(1) << (k % 64))))
			continue;
		if (!have_env) {
			environment(c, r, &env);
			have_env = true;
		}
		if (rule->drop_if && eval(x, rule->drop_if, &env, &v) == 0 && v != 0) {
			x->stats.dropped++;
			e = 0;
			break;
		}
		if (rule->set && r->kind == FG_VALUE_NUMBER && eval(x, rule->set, &env, &v) == 0) {
			r->number = v;
			environment(c, r, &env);
			changed = true;
		}
		if (rule->unit) {
			set_name(r->unit, sizeof(r->unit), rule->unit);
			changed = true;
		}
		if (rule->quantity) {
			set_name(r->quantity, sizeof(r->quantity), rule->quantity);
			changed = true;
			bits = match_bits(x, r); /* later rules match the new name */
			if (!bits)
				return -ENOMEM;
		}
		if (x->rt[k].stateful) {
			e = stateful(c, k, r, &env);
			if (e <= 0)
				break;
		}
	}
	x->stats.changed += changed;
	return e;
}

int fg_rules_frame(struct fg_rules *x, const struct fg_reading *in, size_t n,
		   const struct fg_rules_sink *sink)
{
	struct fg_reading kept[FRAME_MAX];
	struct ctx c = { .x = x, .sink = sink, .mono_now = fg_clock_mono_usec() };
	int e;

	x->now_ms = x->clock.wall_ms(x->clock.userdata);
	for (size_t off = 0; off < n; off += FRAME_MAX) {
		size_t m = n - off < FRAME_MAX ? n - off : FRAME_MAX, k = 0;

		c.frame = in + off;
		c.n = m;
		frame_battery(&c);
		for (size_t i = 0; i < m; i++) {
			kept[k] = in[off + i];
			x->stats.evaluated++;
			e = run_chain(&c, &kept[k], 0);
			if (e < 0)
				return e;
			k += (size_t) e;
		}
		if (k) {
			e = sink->frame(kept, k, sink->userdata);
			if (e < 0)
				return e;
		}
	}
	return 0;
}

int fg_rules_tick(struct fg_rules *x, const struct fg_rules_sink *sink)
{
	struct ctx c = { .x = x, .sink = sink, .mono_now = fg_clock_mono_usec() };
	int e;

	if (!x->n_open)
		return 0;
	x->now_ms = x->clock.wall_ms(x->clock.userdata);
	for (size_t i = 0; i < SERIES_SLOTS && x->n_open; i++) {
		struct series *s = x->slots[i];
		uint64_t w;

		if (!s || !s->win_open)
			continue;
		w = x->cfg->rules[s->rule].window_s * 1000ull;
		/* Ended, or the clock was set back by more than a window (it would never end). */
		if (x->now_ms < s->win_start + w && x->now_ms + w >= s->win_start)
			continue;
		e = window_close(&c, s);
		if (e < 0)
			return e;
	}
	return 0;
}

uint64_t fg_rules_next_deadline(const struct fg_rules *x)
{
	uint64_t next = 0;

	if (!x->n_open)
		return 0;
	for (size_t i = 0; i < SERIES_SLOTS; i++) {
		const struct series *s = x->slots[i];
		uint64_t end;

		if (!s || !s->win_open)
			continue;
		end = s->win_start + x->cfg->rules[s->rule].window_s * 1000ull;
		if (!next || end < next)
			next = end;
	}
	return next;
}
