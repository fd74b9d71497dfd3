/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sink/jsonl.h"

/* Write all of buf, retrying short writes and EINTR. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

int fg_jsonl_write(int fd, const struct fg_reading *r, size_t n, size_t *ret_written)
{
	char chunk[PIPE_BUF];
	size_t used = 0, pending = 0, written = 0;
	int rr = 0;

	for (size_t i = 0; i < n; i++) {
		char line[PIPE_BUF];
		int len = fg_reading_to_json(&r[i], line, sizeof(line) - 1);

		if (len < 0) {
			/* Only a text value of several KB gets here; say so in its place. */
			len = snprintf(line, sizeof(line) - 1, "{\"device\":\"%s\",\"error\":\"too long\"}",
				       r[i].device_id);
		}
		line[len++] = '\n';
		if (used + (size_t)len > sizeof(chunk)) {
			rr = write_all(fd, chunk, used);
			if (rr < 0)
				goto out;
			written += pending;
			used = pending = 0;
		}
		memcpy(chunk + used, line, (size_t)len);
		used += (size_t)len;
		pending++;
	}
	if (used > 0) {
		rr = write_all(fd, chunk, used);
		if (rr < 0)
			goto out;
		written += pending;
	}
out:
	*ret_written = written;
	return rr;
}

int fg_jsonl_prepare_fd(int fd)
{
	struct stat st;
	int flags;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode))
		return 0;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	return 1;
}
