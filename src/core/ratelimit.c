/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ratelimit.h"

#define KEY_MAX 96

struct bucket {
	char key[KEY_MAX];
	uint64_t window_start;
	uint64_t last_used;
	unsigned count;
	unsigned suppressed;
	bool used;
};

struct fg_ratelimit {
	uint64_t interval;
	unsigned burst;
	unsigned max_keys;
	struct bucket *b;
};

struct fg_ratelimit *fg_ratelimit_new(uint64_t interval_usec, unsigned burst, unsigned max_keys)
{
	struct fg_ratelimit *rl;

	if (interval_usec == 0 || burst == 0 || max_keys == 0)
		return NULL;
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return NULL;
	rl->b = calloc(max_keys, sizeof(*rl->b));
	if (!rl->b) {
		free(rl);
		return NULL;
	}
	rl->interval = interval_usec;
	rl->burst = burst;
	rl->max_keys = max_keys;
	return rl;
}

void fg_ratelimit_free(struct fg_ratelimit *rl)
{
	if (!rl)
		return;
	free(rl->b);
	free(rl);
}

/*
 * Find the key's bucket, or take a free one, or evict the least recently used.
 * A linear scan: the table is small (hundreds) and this runs only on the
 * warning path, never per reading.
 */
static struct bucket *lookup(struct fg_ratelimit *rl, const char *key, uint64_t now)
{
	struct bucket *free_b = NULL, *lru = NULL;

	for (unsigned i = 0; i < rl->max_keys; i++) {
		struct bucket *b = &rl->b[i];

		if (!b->used) {
			if (!free_b)
				free_b = b;
			continue;
		}
		if (strncmp(b->key, key, KEY_MAX - 1) == 0)
			return b;
		if (!lru || b->last_used < lru->last_used)
			lru = b;
	}
	if (!free_b)
		free_b = lru;
	memset(free_b, 0, sizeof(*free_b));
	free_b->used = true;
	snprintf(free_b->key, sizeof(free_b->key), "%s", key);
	free_b->window_start = now;
	return free_b;
}

bool fg_ratelimit_allow(struct fg_ratelimit *rl, const char *key, uint64_t now_usec,
			unsigned *ret_suppressed)
{
	struct bucket *b;
	unsigned suppressed = 0;

	b = lookup(rl, key, now_usec);
	b->last_used = now_usec;
	if (now_usec - b->window_start >= rl->interval) {
		suppressed = b->suppressed;
		b->window_start = now_usec;
		b->count = 0;
		b->suppressed = 0;
	}
	if (ret_suppressed)
		*ret_suppressed = suppressed;
	if (b->count < rl->burst) {
		b->count++;
		return true;
	}
	b->suppressed++;
	return false;
}

void fg_ratelimit_flush(struct fg_ratelimit *rl, uint64_t now_usec, fg_ratelimit_report_fn fn,
			void *userdata)
{
	for (unsigned i = 0; i < rl->max_keys; i++) {
		struct bucket *b = &rl->b[i];

		if (!b->used || now_usec - b->window_start < rl->interval)
			continue;
		if (b->suppressed > 0 && fn)
			fn(b->key, b->suppressed, userdata);
		/* A closed, quiet window holds nothing worth keeping. */
		b->used = false;
	}
}

size_t fg_ratelimit_size(const struct fg_ratelimit *rl)
{
	size_t n = 0;

	for (unsigned i = 0; i < rl->max_keys; i++)
		n += rl->b[i].used;
	return n;
}
