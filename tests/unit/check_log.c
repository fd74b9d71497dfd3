/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "check-main.h"

static FILE *out;
static char text[8192];

static void setup(void)
{
	out = tmpfile();
	ck_assert_ptr_nonnull(out);
	fg_log_open(FG_LOG_TARGET_STDERR);
	fg_log_set_stream(out);
	fg_log_set_level(LOG_INFO);
	fg_log_set_debug_modules(NULL);
}

static void teardown(void)
{
	fg_log_set_stream(NULL);
	fg_log_close();
	fclose(out);
}

/* Everything logged so far, as one string. */
static const char *logged(void)
{
	size_t n;

	fflush(out);
	rewind(out);
	n = fread(text, 1, sizeof(text) - 1, out);
	text[n] = '\0';
	return text;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

START_TEST(log_stderr_line_has_level_module_and_text)
{
	fg_log_warning("mqtt", "connection to '%s' lost, retrying in %ds", "broker:8883", 8);
	ck_assert_str_eq(logged(), "warning mqtt: connection to 'broker:8883' lost, retrying in 8s\n");
}
END_TEST

START_TEST(log_drops_messages_above_level)
{
	fg_log_set_level(LOG_WARNING);
	fg_log_info("core", "hidden");
	fg_log_debug("core", "hidden too");
	fg_log_error("core", "shown");
	ck_assert_str_eq(logged(), "error core: shown\n");
}
END_TEST

START_TEST(log_errno_expands_percent_m_and_returns_negative_errno)
{
	int r = fg_log_errno(ENOENT, "store", "cannot open '%s': %m", "buffer.db");

	ck_assert_int_eq(r, -ENOENT);
	r = fg_log_errno(-EACCES, "store", "again: %m");
	ck_assert_int_eq(r, -EACCES);
	ck_assert_str_eq(logged(), "error store: cannot open 'buffer.db': No such file or directory\n"
				   "error store: again: Permission denied\n");
}
END_TEST

START_TEST(log_debug_modules_enable_debug_per_module)
{
	fg_log_set_debug_modules("store,mqtt");
	fg_log_debug("store", "store debug");
	fg_log_debug("sim", "sim debug");
	fg_log_debug("mqtt", "mqtt debug");
	ck_assert_str_eq(logged(), "debug store: store debug\ndebug mqtt: mqtt debug\n");
	ck_assert(fg_log_enabled(LOG_DEBUG, "store"));
	ck_assert(!fg_log_enabled(LOG_DEBUG, "stor"));
}
END_TEST

START_TEST(log_level_names_round_trip)
{
	ck_assert_int_eq(fg_log_level_from_string("error"), LOG_ERR);
	ck_assert_int_eq(fg_log_level_from_string("warning"), LOG_WARNING);
	ck_assert_int_eq(fg_log_level_from_string("notice"), LOG_NOTICE);
	ck_assert_int_eq(fg_log_level_from_string("info"), LOG_INFO);
	ck_assert_int_eq(fg_log_level_from_string("debug"), LOG_DEBUG);
	ck_assert_int_eq(fg_log_level_from_string("verbose"), -EINVAL);
	ck_assert_int_eq(fg_log_level_from_string(NULL), -EINVAL);
	ck_assert_str_eq(fg_log_level_to_string(LOG_NOTICE), "notice");
}
END_TEST

START_TEST(log_set_level_clamps)
{
	fg_log_set_level(LOG_DEBUG + 3);
	ck_assert_int_eq(fg_log_get_level(), LOG_DEBUG);
	fg_log_set_level(LOG_ERR - 5);
	ck_assert_int_eq(fg_log_get_level(), LOG_ERR);
}
END_TEST

START_TEST(log_device_lines_are_rate_limited_per_device)
{
	ck_assert_int_eq(fg_log_ratelimit_setup(3600 * UINT64_C(1000000), 2, 16), 0);
	for (int i = 0; i < 10; i++)
		fg_log_device(LOG_WARNING, "lora", "lora", "26011F2A", "bad MIC %d", i);
	fg_log_device(LOG_WARNING, "lora", "lora", "26011F2B", "bad MIC from other");
	ck_assert_str_eq(logged(), "warning lora: bad MIC 0\n"
				   "warning lora: bad MIC 1\n"
				   "warning lora: bad MIC from other\n");
}
END_TEST

START_TEST(log_reports_suppressed_count_after_window)
{
	struct timespec ts = { .tv_nsec = 60 * 1000 * 1000 };

	ck_assert_int_eq(fg_log_ratelimit_setup(20 * 1000, 1, 16), 0);
	for (int i = 0; i < 4; i++)
		fg_log_device(LOG_WARNING, "ble", "ble", "A4:C1:38:00:11:22", "unknown format");
	/* Sleep past the 20 ms window: a lower bound, so this cannot flake. */
	nanosleep(&ts, NULL);
	fg_log_ratelimit_flush();
	ck_assert_str_eq(logged(), "warning ble: unknown format\n"
				   "warning ble: suppressed 3 messages about 'A4:C1:38:00:11:22'\n");
}
END_TEST

START_TEST(log_auto_target_follows_journal_stream)
{
	struct stat st;
	char env[64];

	ck_assert_int_eq(fstat(STDERR_FILENO, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	fg_log_open(FG_LOG_TARGET_AUTO);
	ck_assert_int_eq(fg_log_get_target(), FG_LOG_TARGET_JOURNAL);

	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", env, 1);
	fg_log_open(FG_LOG_TARGET_AUTO);
	ck_assert_int_eq(fg_log_get_target(), FG_LOG_TARGET_STDERR);

	unsetenv("JOURNAL_STREAM");
	fg_log_open(FG_LOG_TARGET_AUTO);
	ck_assert_int_eq(fg_log_get_target(), FG_LOG_TARGET_STDERR);
}
END_TEST

/* Whether the journal datagram holds this exact FIELD=value line. */
static bool has_field(const char *dgram, size_t len, const char *field)
{
	size_t fl = strlen(field);

	for (const char *p = dgram; p < dgram + len;) {
		const char *nl = memchr(p, '\n', (size_t)(dgram + len - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(dgram + len - p);

		if (l == fl && memcmp(p, field, fl) == 0)
			return true;
		if (!nl)
			break;
		p = nl + 1;
	}
	return false;
}

/*
 * The journal target sends sd-journal's native datagrams to
 * /run/systemd/journal/socket. Where no journald runs (CI containers) and we
 * may create that socket, stand in for journald and read the fields.
 */
START_TEST(log_journal_entry_has_structured_fields)
{
	const char *path = "/run/systemd/journal/socket";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	char dgram[4096], func_field[128];
	ssize_t n;
	int fd;

	if (access(path, F_OK) == 0 || (mkdir("/run/systemd", 0755) < 0 && errno != EEXIST) ||
	    (mkdir("/run/systemd/journal", 0755) < 0 && errno != EEXIST)) {
		fprintf(stderr, "skipped: cannot stand in for journald here\n");
		return;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);

	fg_log_open(FG_LOG_TARGET_JOURNAL);
	fg_log_device(LOG_WARNING, "lora", "lora", "a840410000000001", "frame has bad MIC, dropping");
	n = recv(fd, dgram, sizeof(dgram), 0);
	unlink(path);
	close(fd);
	ck_assert_int_gt(n, 0);
	ck_assert(has_field(dgram, (size_t)n, "MESSAGE=lora: frame has bad MIC, dropping"));
	ck_assert(has_field(dgram, (size_t)n, "PRIORITY=4"));
	ck_assert(has_field(dgram, (size_t)n, "FIELDGATE_MODULE=lora"));
	ck_assert(has_field(dgram, (size_t)n, "FIELDGATE_SOURCE=lora"));
	ck_assert(has_field(dgram, (size_t)n, "FIELDGATE_DEVICE=a840410000000001"));
	ck_assert(has_field(dgram, (size_t)n, "CODE_FILE=" __FILE__));
	snprintf(func_field, sizeof(func_field), "CODE_FUNC=%s", __func__);
	ck_assert(has_field(dgram, (size_t)n, func_field));
	/* Nothing went to the stderr stream. */
	ck_assert_str_eq(logged(), "");
}
END_TEST

START_TEST(log_long_message_is_truncated_not_overflowed)
{
	char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fg_log_info("core", "%s", big);
	ck_assert_int_eq(count_lines(logged()), 1);
	ck_assert_int_lt(strlen(text), 2100);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("format");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, log_stderr_line_has_level_module_and_text);
	tcase_add_test(tc, log_drops_messages_above_level);
	tcase_add_test(tc, log_errno_expands_percent_m_and_returns_negative_errno);
	tcase_add_test(tc, log_debug_modules_enable_debug_per_module);
	tcase_add_test(tc, log_level_names_round_trip);
	tcase_add_test(tc, log_set_level_clamps);
	tcase_add_test(tc, log_long_message_is_truncated_not_overflowed);
	suite_add_tcase(s, tc);

	tc = tcase_create("ratelimit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, log_device_lines_are_rate_limited_per_device);
	tcase_add_test(tc, log_reports_suppressed_count_after_window);
	suite_add_tcase(s, tc);

	tc = tcase_create("journal");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, log_auto_target_follows_journal_stream);
	tcase_add_test(tc, log_journal_entry_has_structured_fields);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(log_suite());
}
