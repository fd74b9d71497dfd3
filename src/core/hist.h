/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * A fixed-size latency histogram: log-spaced buckets, four per octave, from
 * 100 us up to about a day, so a percentile is known to within a bucket
 * (about 19%) whatever the count, in constant memory.
 */

#include <stdint.h>

#define FG_HIST_BUCKETS 120

struct fg_hist {
	uint64_t count;
	uint64_t max_usec;
	uint64_t bucket[FG_HIST_BUCKETS];
};

void fg_hist_add(struct fg_hist *h, uint64_t usec);
/* The value below which `permille` of the samples fall (bucket upper edge); 0 when empty. */
uint64_t fg_hist_percentile(const struct fg_hist *h, unsigned permille);
