/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <math.h>

#include "core/hist.h"

#define HIST_BASE_USEC 100.0

/* Bucket i holds [edge(i - 1), edge(i)); bucket 0 everything below 100 us. */
static double edge(unsigned i)
{
	return HIST_BASE_USEC * exp2((double)i / 4.0);
}

void fg_hist_add(struct fg_hist *h, uint64_t usec)
{
	unsigned i = 0;

	if ((double)usec >= HIST_BASE_USEC) {
		double b = floor(4.0 * log2((double)usec / HIST_BASE_USEC)) + 1.0;

		i = b >= FG_HIST_BUCKETS - 1 ? FG_HIST_BUCKETS - 1 : (unsigned)b;
		/* floating point near an edge: keep usec < edge(i) */
		while (i < FG_HIST_BUCKETS - 1 && (double)usec >= edge(i))
			i++;
		while (i > 0 && (double)usec < edge(i - 1))
			i--;
	}
	h->bucket[i]++;
	h->count++;
	if (usec > h->max_usec)
		h->max_usec = usec;
}

uint64_t fg_hist_percentile(const struct fg_hist *h, unsigned permille)
{
	uint64_t want, seen = 0;

	if (h->count == 0)
		return 0;
	if (permille > 1000)
		permille = 1000;
	/* the rank of the sample wanted, 1-based, rounded up */
	want = (h->count * permille + 999) / 1000;
	if (want == 0)
		want = 1;
	for (unsigned i = 0; i < FG_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= want) {
			uint64_t e = i == FG_HIST_BUCKETS - 1 ? h->max_usec : (uint64_t)edge(i);

			return e < h->max_usec ? e : h->max_usec;
		}
	}
	return h->max_usec;
}
