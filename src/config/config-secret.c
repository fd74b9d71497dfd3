/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config-internal.h"

/* Read up to len bytes, retrying on EINTR and short reads; returns the count or -errno. */
static ssize_t read_full(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t) n;
	}
	return (ssize_t) got;
}

int fg_config_read_secret(const char *path, char **ret_secret, bool *ret_world_readable, char *err,
			  size_t errlen)
{
	/* Room for the longest secret, its newline, one byte more to see "too long", and a NUL. */
	char buf[FG_CONFIG_SECRET_MAX + 3];
	struct stat st;
	ssize_t n;
	char *s;
	int fd, r;

	/* O_NONBLOCK: a FIFO in place of the file must not hang the daemon. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		(void) snprintf(err, errlen, "cannot read '%s': %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		(void) snprintf(err, errlen, "cannot read '%s': %s", path, strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		(void) snprintf(err, errlen, "'%s' is not a regular file", path);
		goto out;
	}
	n = read_full(fd, buf, FG_CONFIG_SECRET_MAX + 2);
	if (n < 0) {
		r = (int) n;
		(void) snprintf(err, errlen, "cannot read '%s': %s", path, strerror(-r));
		goto out;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > FG_CONFIG_SECRET_MAX) {
		r = -EFBIG;
		(void) snprintf(err, errlen, "'%s' is longer than %d bytes", path,
				FG_CONFIG_SECRET_MAX);
		goto out;
	}
	buf[n] = '\0';
	if (n == 0) {
		r = -EINVAL;
		(void) snprintf(err, errlen, "'%s' is empty", path);
		goto out;
	}
	if (memchr(buf, '\0', (size_t) n)) {
		r = -EINVAL;
		(void) snprintf(err, errlen, "'%s' contains a NUL byte", path);
		goto out;
	}
	s = strdup(buf);
	if (!s) {
		r = -ENOMEM;
		(void) snprintf(err, errlen, "out of memory");
		goto out;
	}
	*ret_secret = s;
	*ret_world_readable = st.st_mode & S_IROTH;
	r = 0;
out:
	explicit_bzero(buf, sizeof(buf));
	(void) close(fd);
	return r;
}
