/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The control socket on a real loop and real Unix sockets: the cap on
 * clients, the idle timeout, and a process out of file descriptors.
 */
#include <check.h>
#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "core/control.h"
#include "check-main.h"

#define REFUSAL "{\"error\":\"too many clients\"}\n"

static char *dir, *path;
static sd_event *loop;
static struct fg_control *ctl;
static unsigned answered;

static int answer(const char *command, char *buf, size_t size, void *userdata)
{
	(void) userdata;
	answered++;
	return snprintf(buf, size, "{\"command\":\"%s\"}\n", command);
}

static void setup(void)
{
	const char *base = getenv("TMPDIR");

	ck_assert_int_ge(asprintf(&dir, "%s/check_control.XXXXXX", base ? base : P_tmpdir), 0);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_ge(asprintf(&path, "%s/control", dir), 0);
	ck_assert_int_ge(sd_event_new(&loop), 0);
	ck_assert_int_eq(fg_control_new(path, loop, answer, NULL, &ctl), 0);
	answered = 0;
}

static void teardown(void)
{
	fg_control_free(ctl);
	sd_event_unref(loop);
	(void) rmdir(dir);
	free(path);
	free(dir);
}

static unsigned clients(void)
{
	struct fg_control_stats st;

	fg_control_get_stats(ctl, &st);
	return st.clients;
}

/* A client connected to the socket (in its backlog until the loop accepts it). */
static int client(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	return fd;
}

/* A client the daemon side has accepted (a second at most). */
static int accepted_client(void)
{
	unsigned before = clients();
	int fd = client();

	for (int i = 0; i < 100 && clients() == before; i++)
		ck_assert_int_ge(sd_event_run(loop, 10 * 1000), 0);
	ck_assert_uint_eq(clients(), before + 1);
	return fd;
}

/* Run the loop until the daemon side closes fd (5 s at most); what it sent before. */
static size_t read_to_close(int fd, char *buf, size_t size)
{
	size_t len = 0;

	for (int i = 0; i < 500; i++) {
		ssize_t n = recv(fd, buf + len, size - 1 - len, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno == ECONNRESET))
			break;
		if (n > 0) {
			len += (size_t) n;
			continue;
		}
		ck_assert_int_eq(errno, EAGAIN);
		ck_assert_int_ge(sd_event_run(loop, 10 * 1000), 0);
	}
	buf[len] = '\0';
	return len;
}

START_TEST(control_answers_a_command)
{
	char buf[256];
	int fd = accepted_client();

	ck_assert_int_eq(send(fd, "status\n", 7, 0), 7);
	read_to_close(fd, buf, sizeof(buf));
	ck_assert_str_eq(buf, "{\"command\":\"status\"}\n");
	ck_assert_uint_eq(clients(), 0);
	close(fd);
}
END_TEST

START_TEST(control_refuses_a_client_past_the_cap)
{
	int idle[FG_CONTROL_CLIENTS_MAX], fd;
	struct fg_control_stats st;
	char buf[256];

	for (int i = 0; i < FG_CONTROL_CLIENTS_MAX; i++)
		idle[i] = accepted_client();
	fd = client();
	ck_assert_int_eq(send(fd, "status\n", 7, 0), 7);
	read_to_close(fd, buf, sizeof(buf));
	close(fd);
	ck_assert_str_eq(buf, REFUSAL);
	ck_assert_uint_eq(answered, 0);
	fg_control_get_stats(ctl, &st);
	ck_assert_uint_eq(st.refused, 1);
	ck_assert_uint_eq(st.clients, FG_CONTROL_CLIENTS_MAX);

	/* One idle client goes: the next one is served. */
	close(idle[0]);
	for (int i = 0; i < 100 && clients() == FG_CONTROL_CLIENTS_MAX; i++)
		ck_assert_int_ge(sd_event_run(loop, 10 * 1000), 0);
	fd = accepted_client();
	ck_assert_int_eq(send(fd, "status\n", 7, 0), 7);
	read_to_close(fd, buf, sizeof(buf));
	close(fd);
	ck_assert_str_eq(buf, "{\"command\":\"status\"}\n");
	for (int i = 1; i < FG_CONTROL_CLIENTS_MAX; i++)
		close(idle[i]);
}
END_TEST

START_TEST(control_closes_a_client_without_a_command_line)
{
	struct fg_control_stats st;
	char buf[256];
	int fd = accepted_client();

	ck_assert_int_eq(send(fd, "stat", 4, 0), 4); /* no newline: not a command yet */
	ck_assert_uint_eq(read_to_close(fd, buf, sizeof(buf)), 0);
	close(fd);
	fg_control_get_stats(ctl, &st);
	ck_assert_uint_eq(st.timeouts, 1);
	ck_assert_uint_eq(st.clients, 0);
	ck_assert_uint_eq(answered, 0);
}
END_TEST

START_TEST(control_pauses_instead_of_spinning_without_descriptors)
{
	struct rlimit saved, low;
	struct fg_control_stats st;
	int fd, lowest, busy = 0;
	char buf[256];

	fd = client(); /* waits in the backlog */
	/* No descriptor can be made from here: the lowest free one is the limit. */
	lowest = dup(0);
	ck_assert_int_ge(lowest, 0);
	close(lowest);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low = (struct rlimit){ .rlim_cur = (rlim_t) lowest, .rlim_max = saved.rlim_max };
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);

	/*
	 * The first iteration tries to accept and fails; after that the loop
	 * has nothing to do until the pause ends (a spinning listener would be
	 * dispatched on every iteration).
	 */
	for (int i = 0; i < 100; i++) {
		int r = sd_event_run(loop, 0);

		ck_assert_int_ge(r, 0);
		busy += r;
	}
	ck_assert_int_le(busy, 10);
	fg_control_get_stats(ctl, &st);
	ck_assert_uint_ge(st.accept_failed, 1);
	ck_assert_uint_eq(st.clients, 0);

	/* Descriptors again: the waiting client is served after the pause. */
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
	ck_assert_int_eq(send(fd, "status\n", 7, 0), 7);
	read_to_close(fd, buf, sizeof(buf));
	close(fd);
	ck_assert_str_eq(buf, "{\"command\":\"status\"}\n");
}
END_TEST

/* Whether a shared object whose name holds `part` is mapped into this process. */
static bool mapped(const char *part)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	bool found = false;

	ck_assert_ptr_nonnull(f);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, part) != NULL;
	fclose(f);
	return found;
}

/* Runs first in its own process (CK_FORK): nothing has asked NSS anything yet. */
START_TEST(control_looks_up_a_group_without_loading_nss_modules)
{
	struct group *g;
	gid_t gid = 12345;

	ck_assert(!mapped("libnss_"));
	ck_assert_int_eq(fg_control_lookup_group("root", &gid), 0);
	ck_assert_uint_eq(gid, 0);
	ck_assert_int_eq(fg_control_lookup_group("no-such-group-fieldgate", &gid), -ENOENT);
	ck_assert_uint_eq(gid, 0);
	ck_assert(!mapped("libnss_"));
	/* The answer is what getgrnam gives in this process too, for a group not 0. */
	g = getgrgid(getgid());
	if (g && g->gr_gid != 0) {
		char name[256];

		snprintf(name, sizeof(name), "%s", g->gr_name);
		ck_assert_int_eq(fg_control_lookup_group(name, &gid), 0);
		ck_assert_uint_eq(gid, getgid());
	}
}
END_TEST

static Suite *control_suite(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("clients");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, control_answers_a_command);
	tcase_add_test(tc, control_refuses_a_client_past_the_cap);
	tcase_add_test(tc, control_closes_a_client_without_a_command_line);
	tcase_add_test(tc, control_pauses_instead_of_spinning_without_descriptors);
	tcase_add_test(tc, control_looks_up_a_group_without_loading_nss_modules);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(control_suite());
}
