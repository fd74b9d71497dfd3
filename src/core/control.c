/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/control.h"

#define ANSWER_MAX 65536 /* the status, or the devices of a few hundred */
#define COMMAND_MAX 64
#define CLIENT_TIMEOUT_USEC (2 * FG_USEC_PER_SEC)

struct fg_control {
	char *path;
	int fd;
	sd_event_source *listen;
	fg_control_fn fn;
	void *userdata;
};

/* One connected client: read a command line, answer, close. */
struct client {
	struct fg_control *c;
	int fd;
	sd_event_source *io;
	sd_event_source *timer;
	char cmd[COMMAND_MAX];
	size_t len;
};

static void client_free(struct client *cl)
{
	sd_event_source_disable_unref(cl->io);
	sd_event_source_disable_unref(cl->timer);
	close(cl->fd);
	free(cl);
}

/* Answer the command; the socket is non-blocking and the answer small, so one send. */
static void client_answer(struct client *cl)
{
	static char answer[ANSWER_MAX]; /* one thread, one answer at a time */
	int n;

	cl->cmd[cl->len] = '\0';
	cl->cmd[strcspn(cl->cmd, "\r\n")] = '\0';
	n = cl->c->fn(cl->cmd, answer, sizeof(answer) - 1, cl->c->userdata);
	if (n < 0)
		n = snprintf(answer, sizeof(answer), "{\"error\":\"%s\"}\n", strerror(-n));
	(void) send(cl->fd, answer, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	client_free(cl);
}

static int on_client_io(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
	struct client *cl = userdata;
	ssize_t n;

	(void) es;
	(void) revents;
	n = recv(fd, cl->cmd + cl->len, sizeof(cl->cmd) - 1 - cl->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		client_free(cl);
		return 0;
	}
	cl->len += (size_t)n;
	if (memchr(cl->cmd, '\n', cl->len) || cl->len == sizeof(cl->cmd) - 1)
		client_answer(cl);
	return 0;
}

static int on_client_timeout(sd_event_source *es, uint64_t usec, void *userdata)
{
	(void) es;
	(void) usec;
	client_free(userdata);
	return 0;
}

static int on_accept(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
	struct fg_control *c = userdata;
	sd_event *loop = sd_event_source_get_event(es);
	struct client *cl;
	int cfd;

	(void) revents;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return 0;
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		close(cfd);
		return 0;
	}
	cl->c = c;
	cl->fd = cfd;
	if (sd_event_add_io(loop, &cl->io, cfd, EPOLLIN, on_client_io, cl) < 0 ||
	    sd_event_add_time_relative(loop, &cl->timer, CLOCK_MONOTONIC, CLIENT_TIMEOUT_USEC, 0,
				       on_client_timeout, cl) < 0)
		client_free(cl);
	return 0;
}

/* Fill a sockaddr_un; -ENAMETOOLONG if the path does not fit. */
static int make_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

int fg_control_new(const char *path, sd_event *loop, fg_control_fn fn, void *userdata,
		   struct fg_control **ret)
{
	struct sockaddr_un sa;
	struct fg_control *c;
	int r;

	r = make_addr(path, &sa);
	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fn = fn;
	c->userdata = userdata;
	c->path = strdup(path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (!c->path || c->fd < 0) {
		r = c->path ? -errno : -ENOMEM;
		goto fail;
	}
	(void) unlink(path);
	if (bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0660) < 0 ||
	    listen(c->fd, 8) < 0) {
		r = -errno;
		goto fail;
	}
	r = sd_event_add_io(loop, &c->listen, c->fd, EPOLLIN, on_accept, c);
	if (r < 0)
		goto fail;
	*ret = c;
	return 0;
fail:
	fg_control_free(c);
	return r;
}

int fg_control_set_group(struct fg_control *c, const char *group)
{
	struct group *g;

	errno = 0;
	g = getgrnam(group);
	if (!g)
		return errno && errno != ENOENT && errno != ESRCH ? -errno : -ENOENT;
	if (fchownat(AT_FDCWD, c->path, (uid_t)-1, g->gr_gid, 0) < 0)
		return -errno;
	return 0;
}

void fg_control_free(struct fg_control *c)
{
	if (!c)
		return;
	sd_event_source_disable_unref(c->listen);
	if (c->fd >= 0) {
		close(c->fd);
		if (c->path)
			(void) unlink(c->path);
	}
	free(c->path);
	free(c);
}

int fg_control_query(const char *path, const char *command, char *buf, size_t size)
{
	struct sockaddr_un sa;
	struct pollfd pfd;
	size_t len = 0;
	int fd, r;

	r = make_addr(path, &sa);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    dprintf(fd, "%s\n", command) < 0) {
		r = -errno;
		goto out;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (len + 1 < size) {
		ssize_t n;

		r = poll(&pfd, 1, 5000);
		if (r <= 0) {
			r = r == 0 ? -ETIMEDOUT : -errno;
			goto out;
		}
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	r = (int)len;
out:
	close(fd);
	return r;
}
