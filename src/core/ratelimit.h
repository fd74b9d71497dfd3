/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * A keyed rate limiter: at most `burst` events per key per `interval`.
 * Keys are strings (module + device); the table holds at most `max_keys`
 * and evicts the least recently used key when full, so a street full of
 * random BLE addresses cannot grow it. Time is passed in (usec, monotonic)
 * so tests can drive it. Pure data structure: it never logs.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fg_ratelimit;

/* Returns NULL on allocation failure or zero interval/burst/max_keys. */
struct fg_ratelimit *fg_ratelimit_new(uint64_t interval_usec, unsigned burst, unsigned max_keys);
void fg_ratelimit_free(struct fg_ratelimit *rl);

/*
 * Account one event for key at now. Returns true if it may be reported.
 * If the key's previous window closed with suppressed events, their count is
 * written to *ret_suppressed (else 0) so the caller can say so first.
 */
bool fg_ratelimit_allow(struct fg_ratelimit *rl, const char *key, uint64_t now_usec,
			unsigned *ret_suppressed);

/* Called for each key whose window has closed with suppressed events. */
typedef void (*fg_ratelimit_report_fn)(const char *key, unsigned suppressed, void *userdata);

/* Report and reset every key whose window closed before now with suppressed events. */
void fg_ratelimit_flush(struct fg_ratelimit *rl, uint64_t now_usec, fg_ratelimit_report_fn fn,
			void *userdata);

/* Number of keys tracked (for tests and bounds). */
size_t fg_ratelimit_size(const struct fg_ratelimit *rl);
