/* SPDX-License-Identifier: GPL-3.0-or-later */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/ratelimit.h"

#define MSG_MAX 2048
#define DEBUG_MODULES_MAX 256
#define FIELDS_BYTES	  1024 /* all of one event's own fields */
/* Only the daemon logs to the journal (the test double of it too): `journalctl -t fieldgated`. */
#define LOG_IDENTIFIER "fieldgated"

/* The only mutable globals outside main(): where log lines go and which pass. */
static enum fg_log_target log_target = FG_LOG_TARGET_STDERR;
static FILE *log_stream;
static int log_level = LOG_INFO;
static char debug_modules[DEBUG_MODULES_MAX]; /* ",a,b," for cheap lookup */
static struct fg_ratelimit *log_limiter;
static uint64_t limit_interval = 10 * FG_USEC_PER_SEC;
static unsigned limit_burst = 5;
static unsigned limit_keys = 256;
static char log_gateway[128];
static int (*journal_writer)(const struct iovec *iov, int n) = sd_journal_sendv;

static const char *const level_names[] = {
	[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit",
	[LOG_ERR] = "error",   [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

/* Whether stderr is the stream journald gave us (JOURNAL_STREAM is "dev:ino"). */
static bool stderr_is_journal(void)
{
	const char *e = secure_getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void fg_log_open(enum fg_log_target target)
{
	if (target == FG_LOG_TARGET_AUTO)
		target = stderr_is_journal() ? FG_LOG_TARGET_JOURNAL : FG_LOG_TARGET_STDERR;
	log_target = target;
}

enum fg_log_target fg_log_get_target(void)
{
	return log_target;
}

void fg_log_set_stream(FILE *f)
{
	log_stream = f;
}

void fg_log_set_level(int level)
{
	if (level < LOG_ERR)
		level = LOG_ERR;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	log_level = level;
}

int fg_log_get_level(void)
{
	return log_level;
}

int fg_log_set_debug_modules(const char *csv)
{
	size_t n;

	if (!csv || !*csv) {
		debug_modules[0] = '\0';
		return 0;
	}
	n = strlen(csv);
	if (n + 2 >= sizeof(debug_modules))
		return -ENAMETOOLONG;
	debug_modules[0] = ',';
	memcpy(debug_modules + 1, csv, n);
	debug_modules[n + 1] = ',';
	debug_modules[n + 2] = '\0';
	return 0;
}

/* Whether module is in the -D list (or the list says "all"). */
static bool debug_module_on(const char *module)
{
	char needle[64];

	if (!debug_modules[0] || !module)
		return false;
	if (strstr(debug_modules, ",all,"))
		return true;
	if (snprintf(needle, sizeof(needle), ",%s,", module) >= (int)sizeof(needle))
		return false;
	return strstr(debug_modules, needle) != NULL;
}

bool fg_log_enabled(int level, const char *module)
{
	if (level <= log_level)
		return true;
	return level == LOG_DEBUG && debug_module_on(module);
}

int fg_log_level_from_string(const char *s)
{
	if (!s)
		return -EINVAL;
	for (int i = LOG_ERR; i <= LOG_DEBUG; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	if (strcmp(s, "err") == 0)
		return LOG_ERR;
	if (strcmp(s, "warn") == 0)
		return LOG_WARNING;
	return -EINVAL;
}

const char *fg_log_level_to_string(int level)
{
	if (level < LOG_EMERG || level > LOG_DEBUG)
		return "info";
	return level_names[level];
}

const char *fg_log_u64(char *buf, uint64_t v)
{
	snprintf(buf, 21, "%llu", (unsigned long long) v);
	return buf;
}

void fg_log_set_gateway(const char *id)
{
	snprintf(log_gateway, sizeof(log_gateway), "%s", id ? id : "");
}

void fg_log_set_journal_writer(int (*writer)(const struct iovec *iov, int n))
{
	journal_writer = writer ? writer : sd_journal_sendv;
}

/*
 * The source file as the tree names it: a build compiles "../../src/x.c"
 * (configure run by a relative path) or "/abs/tree/src/x.c" (by an absolute
 * one), and CODE_FILE should say "src/x.c" whatever the build.
 */
static const char *tree_path(const char *file)
{
#ifdef FG_ABS_TOP_SRCDIR
	size_t n = strlen(FG_ABS_TOP_SRCDIR);

	if (strncmp(file, FG_ABS_TOP_SRCDIR, n) == 0)
		return file + n;
#endif
	while (strncmp(file, "../", 3) == 0 || strncmp(file, "./", 2) == 0)
		file += file[1] == '.' ? 3 : 2;
	return file;
}

/* Send one entry to journald with our structured fields and the event's own. */
static void write_journal(int level, int error, const char *message_id, const char *module,
			  const char *source, const char *device, const struct fg_log_field *fields,
			  const char *file, int line, const char *func, const char *msg)
{
	char f_msg[MSG_MAX + 16], f_prio[16], f_ident[64], f_gateway[160], f_id[48], f_module[80],
		f_source[80], f_device[128], f_file[256], f_line[32], f_func[128], f_errno[32];
	char extra[FIELDS_BYTES];
	struct iovec iov[12 + FG_LOG_FIELDS_MAX];
	size_t used = 0;
	int n = 0;

#define ADD(buf, ...)                                                                   \
	do {                                                                            \
		int _l = snprintf(buf, sizeof(buf), __VA_ARGS__);                       \
		if (_l >= (int)sizeof(buf))                                             \
			_l = sizeof(buf) - 1;                                           \
		iov[n++] = (struct iovec){ .iov_base = buf, .iov_len = (size_t)_l };    \
	} while (0)

	ADD(f_msg, "MESSAGE=%s: %s", module, msg);
	ADD(f_prio, "PRIORITY=%d", level);
	ADD(f_ident, "SYSLOG_IDENTIFIER=%s", LOG_IDENTIFIER);
	if (log_gateway[0])
		ADD(f_gateway, "FIELDGATE_GATEWAY=%s", log_gateway);
	if (message_id)
		ADD(f_id, "MESSAGE_ID=%s", message_id);
	ADD(f_module, "FIELDGATE_MODULE=%s", module);
	if (source)
		ADD(f_source, "FIELDGATE_SOURCE=%s", source);
	if (device)
		ADD(f_device, "FIELDGATE_DEVICE=%s", device);
	ADD(f_file, "CODE_FILE=%s", tree_path(file));
	ADD(f_line, "CODE_LINE=%d", line);
	ADD(f_func, "CODE_FUNC=%s", func);
	if (error)
		ADD(f_errno, "ERRNO=%d", error);
#undef ADD
	/* The event's fields share one buffer; one that does not fit is left out whole. */
	for (size_t i = 0; fields && fields[i].name && i < FG_LOG_FIELDS_MAX; i++) {
		int l;

		if (!fields[i].value)
			continue;
		l = snprintf(extra + used, sizeof(extra) - used, "%s=%s", fields[i].name,
			     fields[i].value);
		if (l < 0 || (size_t) l >= sizeof(extra) - used)
			continue;
		iov[n++] = (struct iovec){ .iov_base = extra + used, .iov_len = (size_t) l };
		used += (size_t) l;
	}
	(void) journal_writer(iov, n);
}

/* Format the message and write it to the target in use. */
static int log_writev(int level, int error, const char *message_id, const char *module,
		      const char *source, const char *device, const struct fg_log_field *fields,
		      const char *file, int line, const char *func, const char *fmt, va_list ap)
{
	char msg[MSG_MAX];
	int saved_errno = errno;

	error = abs(error);
	if (!fg_log_enabled(level, module))
		goto out;

	/* glibc's printf expands %m from errno: hand it the caller's error. */
	errno = error;
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		snprintf(msg, sizeof(msg), "(unformattable message)");

	if (log_target == FG_LOG_TARGET_JOURNAL) {
		write_journal(level, error, message_id, module, source, device, fields, file, line,
			      func, msg);
	} else {
		FILE *f = log_stream ? log_stream : stderr;

		fprintf(f, "%s %s: %s\n", fg_log_level_to_string(level), module, msg);
		fflush(f);
	}
out:
	errno = saved_errno;
	return -error;
}

int fg_log_fullv(int level, int error, const char *module, const char *source, const char *device,
		 const char *file, int line, const char *func, const char *fmt, va_list ap)
{
	return log_writev(level, error, NULL, module, source, device, NULL, file, line, func, fmt,
			  ap);
}

int fg_log_event_full(int level, int error, const char *message_id, const char *module,
		      const struct fg_log_field *fields, const char *file, int line,
		      const char *func, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = log_writev(level, error, message_id, module, NULL, NULL, fields, file, line, func, fmt,
		       ap);
	va_end(ap);
	return r;
}

int fg_log_full(int level, int error, const char *module, const char *source, const char *device,
		const char *file, int line, const char *func, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = fg_log_fullv(level, error, module, source, device, file, line, func, fmt, ap);
	va_end(ap);
	return r;
}

int fg_log_ratelimit_setup(uint64_t interval_usec, unsigned burst, unsigned max_keys)
{
	struct fg_ratelimit *rl = fg_ratelimit_new(interval_usec, burst, max_keys);

	if (!rl)
		return -EINVAL;
	fg_ratelimit_free(log_limiter);
	log_limiter = rl;
	limit_interval = interval_usec;
	limit_burst = burst;
	limit_keys = max_keys;
	return 0;
}

/* Split a limiter key "module\x1fsource\x1fdevice" back into its parts (in place). */
static void split_key(char *key, const char **module, const char **source, const char **device)
{
	char *p;

	*module = key;
	*source = NULL;
	*device = NULL;
	p = strchr(key, '\x1f');
	if (!p)
		return;
	*p++ = '\0';
	*source = *p ? p : NULL;
	p = strchr(p, '\x1f');
	if (!p)
		return;
	*p++ = '\0';
	*device = *p ? p : NULL;
	if (*source && !**source)
		*source = NULL;
}

/* Say how many lines one key lost when its window closed. */
static void report_suppressed(const char *key, unsigned suppressed, void *userdata)
{
	const char *module, *source, *device;
	char k[128];

	(void) userdata;
	snprintf(k, sizeof(k), "%s", key);
	split_key(k, &module, &source, &device);
	fg_log_full(LOG_WARNING, 0, module, source, device, __FILE__, __LINE__, __func__,
		    "suppressed %u messages about '%s'", suppressed, device ? device : "(none)");
}

void fg_log_limitedf(int level, const char *module, const char *source, const char *device,
		     const char *file, int line, const char *func, const char *fmt, ...)
{
	unsigned suppressed = 0;
	char key[128];
	va_list ap;

	if (!fg_log_enabled(level, module))
		return;
	if (!log_limiter) {
		log_limiter = fg_ratelimit_new(limit_interval, limit_burst, limit_keys);
		if (!log_limiter)
			return;
	}
	snprintf(key, sizeof(key), "%s\x1f%s\x1f%s", module, source ? source : "",
		 device ? device : "");
	if (!fg_ratelimit_allow(log_limiter, key, fg_clock_mono_usec(), &suppressed))
		return;
	if (suppressed > 0)
		report_suppressed(key, suppressed, NULL);
	va_start(ap, fmt);
	fg_log_fullv(level, 0, module, source, device, file, line, func, fmt, ap);
	va_end(ap);
}

void fg_log_ratelimit_flush(void)
{
	if (log_limiter)
		fg_ratelimit_flush(log_limiter, fg_clock_mono_usec(), report_suppressed, NULL);
}

void fg_log_close(void)
{
	fg_ratelimit_free(log_limiter);
	log_limiter = NULL;
}
