/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>

#include "sink/jsonl.h"

int fg_jsonl_write(FILE *f, const struct fg_reading *r, size_t n)
{
	char line[2048];
	size_t written = 0;

	for (size_t i = 0; i < n; i++) {
		int len = fg_reading_to_json(&r[i], line, sizeof(line));

		/* A reading too big for a line is a bug upstream, not a reason to stop. */
		if (len < 0)
			continue;
		line[len] = '\n';
		if (fwrite(line, 1, (size_t)len + 1, f) != (size_t)len + 1)
			return errno ? -errno : -EIO;
		written++;
	}
	if (fflush(f) != 0)
		return errno ? -errno : -EIO;
	return (int)written;
}
