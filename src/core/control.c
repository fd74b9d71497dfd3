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
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/control.h"
#include "core/log.h"

#define ANSWER_MAX 65536 /* the status, or the devices of a few hundred */
#define COMMAND_MAX 64
#define REFUSAL	    "{\"error\":\"too many clients\"}\n"

struct client;

struct fg_control {
	char *path;
	int fd;
	sd_event_source *listen;
	sd_event_source *pause; /* off; after accept4 lacked descriptors: re-enables listen */
	fg_control_fn fn;
	void *userdata;
	struct client *clients; /* connected, waiting for their command line */
	struct fg_control_stats stats;
};

/* One connected client: read a command line, answer, close. */
struct client {
	struct fg_control *c;
	struct client *prev, *next;
	int fd;
	sd_event_source *io;
	sd_event_source *timer;
	char cmd[COMMAND_MAX];
	size_t len;
};

static void client_free(struct client *cl)
{
	struct fg_control *c = cl->c;

	if (cl->prev)
		cl->prev->next = cl->next;
	else
		c->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	c->stats.clients--;
	sd_event_source_disable_unref(cl->io);
	sd_event_source_disable_unref(cl->timer);
	close(cl->fd);
	free(cl);
}

/*
 * Answer the command and close. The socket is non-blocking and the answer at
 * most ANSWER_MAX, less than a Unix socket's send buffer: one send, and a
 * client that never reads holds nothing of ours (the kernel keeps the bytes
 * until it reads or closes).
 */
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

/* No complete command line within FG_CONTROL_TIMEOUT_MS of the connect: close, count. */
static int on_client_timeout(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct client *cl = userdata;

	(void) es;
	(void) usec;
	cl->c->stats.timeouts++;
	fg_log_device(LOG_WARNING, "control", NULL, "control-timeout",
		      "control client sent no command within %d ms, closing it",
		      FG_CONTROL_TIMEOUT_MS);
	client_free(cl);
	return 0;
}

/* The pause after accept4 ran out of descriptors is over: listen again. */
static int on_pause_end(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct fg_control *c = userdata;

	(void) es;
	(void) usec;
	(void) sd_event_source_set_enabled(c->listen, SD_EVENT_ON);
	return 0;
}

/*
 * accept4 failed for want of descriptors or memory. The pending connection
 * stays queued and the listener readable, so retrying at once would spin the
 * loop: stop listening for FG_CONTROL_PAUSE_MS, say so (rate-limited), count.
 * The pause timer was made with the socket, as nothing can be allocated now.
 */
static void accept_pause(struct fg_control *c, int error)
{
	c->stats.accept_failed++;
	fg_log_device(LOG_WARNING, "control", NULL, "control-accept",
		      "cannot accept a control client: %s, not listening for %d ms",
		      strerror(error), FG_CONTROL_PAUSE_MS);
	if (sd_event_source_set_time_relative(c->pause, (uint64_t) FG_CONTROL_PAUSE_MS *
								FG_USEC_PER_MSEC) < 0 ||
	    sd_event_source_set_enabled(c->pause, SD_EVENT_ONESHOT) < 0)
		return; /* keep listening: a busy loop is better than a deaf socket */
	(void) sd_event_source_set_enabled(c->listen, SD_EVENT_OFF);
}

/*
 * Past FG_CONTROL_CLIENTS_MAX: tell the client in one line, close, count.
 * Each kind of trouble has its own rate-limit key, so a flood of one does
 * not hide another.
 */
static void client_refuse(struct fg_control *c, int cfd)
{
	char cmd[COMMAND_MAX];

	c->stats.refused++;
	fg_log_device(LOG_WARNING, "control", NULL, "control-refused",
		      "too many control clients (%d), refusing one", FG_CONTROL_CLIENTS_MAX);
	/*
	 * Read what the client has sent already: closing a Unix socket with
	 * unread bytes resets the connection, and the client would see an
	 * error instead of the end of the refusal.
	 */
	(void) recv(cfd, cmd, sizeof(cmd), MSG_DONTWAIT);
	(void) send(cfd, REFUSAL, sizeof(REFUSAL) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(cfd);
}

static int on_accept(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
	struct fg_control *c = userdata;
	sd_event *loop = sd_event_source_get_event(es);
	struct client *cl;
	int cfd;

	(void) revents;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			accept_pause(c, errno);
		return 0; /* EAGAIN, EINTR, ECONNABORTED: nothing to do */
	}
	if (c->stats.clients >= FG_CONTROL_CLIENTS_MAX) {
		client_refuse(c, cfd);
		return 0;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		close(cfd);
		accept_pause(c, ENOMEM);
		return 0;
	}
	cl->c = c;
	cl->fd = cfd;
	cl->next = c->clients;
	if (c->clients)
		c->clients->prev = cl;
	c->clients = cl;
	c->stats.clients++;
	if (sd_event_add_io(loop, &cl->io, cfd, EPOLLIN, on_client_io, cl) < 0 ||
	    sd_event_add_time_relative(loop, &cl->timer, CLOCK_MONOTONIC,
				       (uint64_t) FG_CONTROL_TIMEOUT_MS * FG_USEC_PER_MSEC, 0,
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
	r = sd_event_add_time_relative(loop, &c->pause, CLOCK_MONOTONIC,
				       (uint64_t) FG_CONTROL_PAUSE_MS * FG_USEC_PER_MSEC,
				       10 * FG_USEC_PER_MSEC, on_pause_end, c);
	if (r >= 0)
		r = sd_event_source_set_enabled(c->pause, SD_EVENT_OFF);
	if (r < 0)
		goto fail;
	*ret = c;
	return 0;
fail:
	fg_control_free(c);
	return r;
}

/*
 * The group's id, looked up in a child: getgrnam() loads the NSS modules
 * (nss-systemd and what it links, a third of a megabyte resident) into the
 * process that calls it and never unloads them, for one lookup at start-up.
 * The child answers over a pipe with the id or a negative errno.
 */
int fg_control_lookup_group(const char *group, gid_t *ret)
{
	int fds[2], status;
	long long answer = -EIO;
	ssize_t n;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = -errno;

		close(fds[0]);
		close(fds[1]);
		return e;
	}
	if (pid == 0) {
		struct group *g;
		long long v;

		close(fds[0]);
		errno = 0;
		g = getgrnam(group);
		v = g ? (long long) g->gr_gid
		      : errno && errno != ENOENT && errno != ESRCH ? -errno : -ENOENT;
		_exit(write(fds[1], &v, sizeof(v)) == sizeof(v) ? 0 : 1);
	}
	close(fds[1]);
	do
		n = read(fds[0], &answer, sizeof(answer));
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t) sizeof(answer))
		return -EIO;
	if (answer < 0)
		return (int) answer;
	*ret = (gid_t) answer;
	return 0;
}

int fg_control_set_group(struct fg_control *c, const char *group)
{
	gid_t gid;
	int r = fg_control_lookup_group(group, &gid);

	if (r < 0)
		return r;
	if (fchownat(AT_FDCWD, c->path, (uid_t)-1, gid, 0) < 0)
		return -errno;
	return 0;
}

void fg_control_free(struct fg_control *c)
{
	if (!c)
		return;
	while (c->clients)
		client_free(c->clients);
	sd_event_source_disable_unref(c->pause);
	sd_event_source_disable_unref(c->listen);
	if (c->fd >= 0) {
		close(c->fd);
		if (c->path)
			(void) unlink(c->path);
	}
	free(c->path);
	free(c);
}

void fg_control_get_stats(const struct fg_control *c, struct fg_control_stats *ret)
{
	*ret = c->stats;
}

int fg_control_query(const char *path, const char *command, char *buf, size_t size)
{
	struct sockaddr_un sa;
	char line[256]; /* the daemon reads at most COMMAND_MAX of it */
	struct pollfd pfd;
	size_t len = 0;
	int fd, r, n;

	r = make_addr(path, &sa);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
		r = -errno;
		goto out;
	}
	/*
	 * A daemon with too many clients answers and closes before it reads:
	 * no SIGPIPE, and read what it said all the same.
	 */
	n = snprintf(line, sizeof(line), "%s\n", command);
	if (n < 0 || (size_t) n >= sizeof(line)) {
		r = -EINVAL;
		goto out;
	}
	if (send(fd, line, (size_t) n, MSG_NOSIGNAL) < 0 && errno != EPIPE && errno != ECONNRESET) {
		r = -errno;
		goto out;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (len + 1 < size) {
		ssize_t got;

		r = poll(&pfd, 1, 5000);
		if (r <= 0) {
			r = r == 0 ? -ETIMEDOUT : -errno;
			goto out;
		}
		got = read(fd, buf + len, size - 1 - len);
		/* A refusal ends with a reset when the daemon closed before it read. */
		if (got < 0 && errno == ECONNRESET && len > 0)
			break;
		if (got < 0) {
			r = -errno;
			goto out;
		}
		if (got == 0)
			break;
		len += (size_t) got;
	}
	buf[len] = '\0';
	r = (int)len;
out:
	close(fd);
	return r;
}
