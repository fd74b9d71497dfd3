/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
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

#define JOURNAL_LOCK "/tmp/fieldgate-journal-socket.lock"

/* Remove a socket nothing listens on (a crashed test's); false if something answers. */
static bool unlink_stale(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool stale;

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	stale = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == ECONNREFUSED;
	close(fd);
	return stale && unlink(path) == 0;
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
	int fd, lock;

	/* One socket for the machine: tests/integration/test_journal.py binds it too. */
	lock = open(JOURNAL_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(lock, 0);
	/* That test holds it for its whole run: wait (the case's timeout allows for it). */
	ck_assert_int_eq(flock(lock, LOCK_EX), 0);
	if (access(path, F_OK) == 0 && !unlink_stale(path)) {
		fprintf(stderr, "skipped: something answers on %s (a journald?)\n", path);
		close(lock);
		return;
	}
	if ((mkdir("/run/systemd", 0755) < 0 && errno != EEXIST) ||
	    (mkdir("/run/systemd/journal", 0755) < 0 && errno != EEXIST)) {
		fprintf(stderr, "skipped: cannot stand in for journald here\n");
		close(lock);
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
	close(lock);
	ck_assert_int_gt(n, 0);
	ck_assert(has_field(dgram, (size_t)n, "MESSAGE=lora: frame has bad MIC, dropping"));
	ck_assert(has_field(dgram, (size_t)n, "PRIORITY=4"));
	ck_assert(has_field(dgram, (size_t)n, "FIELDGATE_MODULE=lora"));
	ck_assert(has_field(dgram, (size_t)n, "FIELDGATE_SOURCE=lora"));
	ck_assert(has_field(dgram, (size_t)n, "FIELDGATE_DEVICE=a840410000000001"));
	ck_assert(has_field(dgram, (size_t)n, "CODE_FILE=tests/unit/check_log.c"));
	ck_assert(has_field(dgram, (size_t)n, "SYSLOG_IDENTIFIER=fieldgated"));
	snprintf(func_field, sizeof(func_field), "CODE_FUNC=%s", __func__);
	ck_assert(has_field(dgram, (size_t)n, func_field));
	/* Nothing went to the stderr stream. */
	ck_assert_str_eq(logged(), "");
}
END_TEST

/* The last journal entry written, as "FIELD=value\n" lines, and its field count. */
static char entry[8192];
static int entry_fields;

static int capture(const struct iovec *iov, int n)
{
	size_t used = 0;

	for (int i = 0; i < n; i++) {
		ck_assert_uint_lt(used + iov[i].iov_len + 1, sizeof(entry));
		memcpy(entry + used, iov[i].iov_base, iov[i].iov_len);
		used += iov[i].iov_len;
		entry[used++] = '\n';
	}
	entry[used] = '\0';
	entry_fields = n;
	return 0;
}

static void capture_setup(void)
{
	setup();
	entry[0] = '\0';
	entry_fields = 0;
	fg_log_set_journal_writer(capture);
	fg_log_open(FG_LOG_TARGET_JOURNAL);
}

static void capture_teardown(void)
{
	fg_log_set_journal_writer(NULL);
	fg_log_set_gateway(NULL);
	teardown();
}

/* Whether the captured entry has this exact line. */
static bool entry_has(const char *field)
{
	return has_field(entry, strlen(entry), field);
}

/* Whether the captured entry has any line starting with this prefix. */
static bool entry_has_prefix(const char *prefix)
{
	for (const char *p = entry; *p;) {
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return true;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return false;
}

START_TEST(log_event_entry_has_message_id_gateway_and_its_fields)
{
	fg_log_set_gateway("gw-17");
	fg_log_event(LOG_WARNING, FG_MESSAGE_BROKER_LOST, "mqtt",
		     FG_LOG_FIELDS(FG_LOG_STR("FIELDGATE_BROKER", "broker.example:8883"),
				   FG_LOG_U64("FIELDGATE_RETRY_SEC", 8),
				   FG_LOG_STR("FIELDGATE_ABSENT", NULL),
				   FG_LOG_U64("FIELDGATE_BIG", UINT64_MAX)),
		     "connection to '%s' lost", "broker.example:8883");
	ck_assert(entry_has("MESSAGE=mqtt: connection to 'broker.example:8883' lost"));
	ck_assert(entry_has("MESSAGE_ID=" FG_MESSAGE_BROKER_LOST));
	ck_assert(entry_has("PRIORITY=4"));
	ck_assert(entry_has("SYSLOG_IDENTIFIER=fieldgated"));
	ck_assert(entry_has("FIELDGATE_GATEWAY=gw-17"));
	ck_assert(entry_has("FIELDGATE_MODULE=mqtt"));
	ck_assert(entry_has("FIELDGATE_BROKER=broker.example:8883"));
	ck_assert(entry_has("FIELDGATE_RETRY_SEC=8"));
	ck_assert(entry_has("FIELDGATE_BIG=18446744073709551615"));
	ck_assert(!entry_has_prefix("FIELDGATE_ABSENT"));
	/* An out-of-tree build compiles ../../tests/unit/check_log.c: the tree's name is kept. */
	ck_assert(entry_has("CODE_FILE=tests/unit/check_log.c"));
	ck_assert(entry_has_prefix("CODE_LINE="));
	ck_assert(entry_has_prefix("CODE_FUNC=log_event_entry_has_message_id"));
	ck_assert(!entry_has_prefix("FIELDGATE_DEVICE="));
	ck_assert(!entry_has_prefix("ERRNO="));
	/* MESSAGE PRIORITY SYSLOG_IDENTIFIER GATEWAY MESSAGE_ID MODULE CODE_x3, 3 of its own. */
	ck_assert_int_eq(entry_fields, 12);
	ck_assert_str_eq(logged(), "");
}
END_TEST

START_TEST(log_plain_lines_carry_gateway_and_identifier_but_no_message_id)
{
	fg_log_info("core", "before the configuration");
	ck_assert(entry_has("SYSLOG_IDENTIFIER=fieldgated"));
	ck_assert(!entry_has_prefix("FIELDGATE_GATEWAY="));
	ck_assert(!entry_has_prefix("MESSAGE_ID="));
	fg_log_set_gateway("gw-17");
	fg_log_device(LOG_WARNING, "lora", "lora", "a840410000000001", "bad MIC");
	ck_assert(entry_has("FIELDGATE_GATEWAY=gw-17"));
	ck_assert(entry_has("FIELDGATE_DEVICE=a840410000000001"));
	ck_assert(!entry_has_prefix("MESSAGE_ID="));
	fg_log_set_gateway("");
	fg_log_info("core", "no gateway");
	ck_assert(!entry_has_prefix("FIELDGATE_GATEWAY="));
}
END_TEST

START_TEST(log_event_errno_and_return)
{
	int r = fg_log_event_full(LOG_ERR, -EIO, FG_MESSAGE_CONCENTRATOR_FAILED, "sx130x",
				  FG_LOG_FIELDS(FG_LOG_U64("FIELDGATE_ATTEMPT", 3)), __FILE__, 42,
				  "start", "cannot schedule: %m");

	ck_assert_int_eq(r, -EIO);
	ck_assert(entry_has("MESSAGE=sx130x: cannot schedule: Input/output error"));
	ck_assert(entry_has("ERRNO=5"));
	ck_assert(entry_has("CODE_LINE=42"));
	ck_assert(entry_has("CODE_FUNC=start"));
	ck_assert(entry_has("FIELDGATE_ATTEMPT=3"));
}
END_TEST

START_TEST(log_event_fields_are_bounded)
{
	char big[1500];

	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* A value too big for the fields' buffer is left out whole; the rest stay. */
	fg_log_event(LOG_NOTICE, NULL, "store",
		     FG_LOG_FIELDS(FG_LOG_STR("FIELDGATE_HUGE", big), FG_LOG_STR("FIELDGATE_A", "a")),
		     "bounded");
	ck_assert(!entry_has_prefix("FIELDGATE_HUGE"));
	ck_assert(entry_has("FIELDGATE_A=a"));
	ck_assert(!entry_has_prefix("MESSAGE_ID="));
	/* At most FG_LOG_FIELDS_MAX of its own. */
	fg_log_event(LOG_NOTICE, FG_MESSAGE_DISK_LOW, "store",
		     FG_LOG_FIELDS(FG_LOG_U64("F_1", 1), FG_LOG_U64("F_2", 2), FG_LOG_U64("F_3", 3),
				   FG_LOG_U64("F_4", 4), FG_LOG_U64("F_5", 5), FG_LOG_U64("F_6", 6),
				   FG_LOG_U64("F_7", 7), FG_LOG_U64("F_8", 8), FG_LOG_U64("F_9", 9)),
		     "many");
	ck_assert(entry_has("F_8=8"));
	ck_assert(!entry_has_prefix("F_9="));
}
END_TEST

START_TEST(log_event_on_stderr_is_the_plain_line)
{
	fg_log_open(FG_LOG_TARGET_STDERR);
	fg_log_set_gateway("gw-17");
	fg_log_event(LOG_WARNING, FG_MESSAGE_DISK_LOW, "store",
		     FG_LOG_FIELDS(FG_LOG_U64("FIELDGATE_DISK_FREE", 1024)), "disk nearly full");
	ck_assert_str_eq(logged(), "warning store: disk nearly full\n");
	ck_assert_int_eq(entry_fields, 0);
}
END_TEST

START_TEST(log_message_ids_are_128_bit_hex)
{
	const char *ids[] = { FG_MESSAGE_BROKER_LOST,	     FG_MESSAGE_BROKER_RESTORED,
			      FG_MESSAGE_EVICTION_STARTED,   FG_MESSAGE_EVICTION_ENDED,
			      FG_MESSAGE_CONCENTRATOR_FAILED, FG_MESSAGE_CONCENTRATOR_STARTED,
			      FG_MESSAGE_DISK_LOW,	     FG_MESSAGE_DISK_RECOVERED,
			      FG_MESSAGE_CLOCK_SYNCHRONIZED };
	size_t n = sizeof(ids) / sizeof(ids[0]);

	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(strlen(ids[i]), 32);
		ck_assert_uint_eq(strspn(ids[i], "0123456789abcdef"), 32);
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(ids[i], ids[j]);
	}
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
	/* Waiting for test_journal.py to release the socket (tens of seconds under ASan). */
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);

	tc = tcase_create("event");
	tcase_add_checked_fixture(tc, capture_setup, capture_teardown);
	tcase_add_test(tc, log_event_entry_has_message_id_gateway_and_its_fields);
	tcase_add_test(tc, log_plain_lines_carry_gateway_and_identifier_but_no_message_id);
	tcase_add_test(tc, log_event_errno_and_return);
	tcase_add_test(tc, log_event_fields_are_bounded);
	tcase_add_test(tc, log_event_on_stderr_is_the_plain_line);
	tcase_add_test(tc, log_message_ids_are_128_bit_hex);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(log_suite());
}
