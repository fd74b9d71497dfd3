/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Logging: one module for the whole daemon.
 *
 * Under journald (JOURNAL_STREAM names our stderr's device:inode) each call
 * becomes one structured journal entry with PRIORITY, MESSAGE,
 * SYSLOG_IDENTIFIER, CODE_FILE, CODE_LINE, CODE_FUNC, FIELDGATE_MODULE,
 * FIELDGATE_GATEWAY (once the configuration is loaded) and, for per-device
 * lines, FIELDGATE_SOURCE and FIELDGATE_DEVICE; events an operator filters on
 * add a MESSAGE_ID (core/log-ids.h) and fields of their own. Otherwise it
 * writes one line per message to stderr: "<level> <module>: <text>".
 *
 * Levels are syslog's (LOG_ERR .. LOG_DEBUG). "%m" in a format expands to the
 * error passed to the _errno variants.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>
#include <syslog.h>

#include "core/log-ids.h"

enum fg_log_target {
	FG_LOG_TARGET_AUTO,    /* journal if stderr is connected to it, else stderr */
	FG_LOG_TARGET_STDERR,
	FG_LOG_TARGET_JOURNAL,
};

/* Choose where log lines go; AUTO checks JOURNAL_STREAM against stderr. */
void fg_log_open(enum fg_log_target target);
/* The target in use after fg_log_open(): STDERR or JOURNAL. */
enum fg_log_target fg_log_get_target(void);
/* Redirect the stderr target to another stream (tests); NULL restores stderr. */
void fg_log_set_stream(FILE *f);

/*
 * The gateway id every journal entry carries as FIELDGATE_GATEWAY= (copied;
 * NULL or "" leaves the field out). Set when a configuration is loaded.
 */
void fg_log_set_gateway(const char *id);
/* Where journal entries go: sd_journal_sendv() by default; NULL restores it (tests). */
void fg_log_set_journal_writer(int (*writer)(const struct iovec *iov, int n));

/* Messages above this level are dropped (LOG_ERR .. LOG_DEBUG). */
void fg_log_set_level(int level);
int fg_log_get_level(void);
/* Comma-separated module names whose debug lines pass whatever the level. */
int fg_log_set_debug_modules(const char *csv);
/* Whether a message of this level from this module would be written. */
bool fg_log_enabled(int level, const char *module);

/* Parse "error", "warning", "notice", "info", "debug" to a syslog level. */
int fg_log_level_from_string(const char *s);
/* The name of a syslog level, "info" for unknown values. */
const char *fg_log_level_to_string(int level);

/*
 * Write one message. Returns -abs(error) when error is non-zero, else 0, so a
 * caller can log and return in one statement. source/device may be NULL.
 */
int fg_log_full(int level, int error, const char *module, const char *source, const char *device,
		const char *file, int line, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 9, 10)));
int fg_log_fullv(int level, int error, const char *module, const char *source, const char *device,
		 const char *file, int line, const char *func, const char *fmt, va_list ap)
	__attribute__((format(printf, 9, 0)));

/*
 * A field of an event's journal entry: NAME (uppercase letters, digits, '_')
 * and its value; a NULL value leaves the field out. Build a list with
 * FG_LOG_FIELDS(FG_LOG_STR("FIELDGATE_BROKER", endpoint), FG_LOG_U64(...)).
 */
struct fg_log_field {
	const char *name;
	const char *value;
};
#define FG_LOG_FIELDS_MAX 8
/* Format v in decimal into buf (at least 21 bytes); returns buf. */
const char *fg_log_u64(char *buf, uint64_t v);
/* clang-format off */
#define FG_LOG_STR(n, v) { .name = (n), .value = (v) }
#define FG_LOG_U64(n, v) { .name = (n), .value = fg_log_u64((char[21]){ 0 }, (uint64_t)(v)) }
/* clang-format on */
#define FG_LOG_FIELDS(...) ((const struct fg_log_field[]){ __VA_ARGS__, { NULL, NULL } })

/*
 * Write one event an operator filters on: as fg_log_full(), plus MESSAGE_ID=
 * (core/log-ids.h; NULL for none) and the fields (NULL-name terminated, at
 * most FG_LOG_FIELDS_MAX) in the journal entry. The stderr line is the same
 * as fg_log_full() writes. Not rate-limited: callers log each event once.
 */
int fg_log_event_full(int level, int error, const char *message_id, const char *module,
		      const struct fg_log_field *fields, const char *file, int line,
		      const char *func, const char *fmt, ...)
	__attribute__((format(printf, 9, 10)));

/*
 * Rate-limited per-device message: at most `burst` lines per key (module +
 * source + device) per interval; when a window with suppressed lines closes,
 * one "suppressed N messages" line is written. Anything a radio or network
 * peer can trigger goes through this.
 */
void fg_log_limitedf(int level, const char *module, const char *source, const char *device,
		     const char *file, int line, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));
/* Configure the limiter (defaults: 5 lines per 10 s per key, 256 keys). */
int fg_log_ratelimit_setup(uint64_t interval_usec, unsigned burst, unsigned max_keys);
/* Report windows that closed with suppressed lines; call from a periodic timer. */
void fg_log_ratelimit_flush(void);
/* Free the limiter's memory (at exit). */
void fg_log_close(void);

#define fg_log(level, module, ...) \
	fg_log_full((level), 0, (module), NULL, NULL, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define fg_log_errno(error, module, ...) \
	fg_log_full(LOG_ERR, (error), (module), NULL, NULL, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define fg_log_level_errno(level, error, module, ...) \
	fg_log_full((level), (error), (module), NULL, NULL, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define fg_log_error(module, ...)   fg_log(LOG_ERR, module, __VA_ARGS__)
#define fg_log_warning(module, ...) fg_log(LOG_WARNING, module, __VA_ARGS__)
#define fg_log_notice(module, ...)  fg_log(LOG_NOTICE, module, __VA_ARGS__)
#define fg_log_info(module, ...)    fg_log(LOG_INFO, module, __VA_ARGS__)
#define fg_log_debug(module, ...)                                                             \
	do {                                                                                   \
		if (fg_log_enabled(LOG_DEBUG, (module)))                                       \
			fg_log(LOG_DEBUG, module, __VA_ARGS__);                                \
	} while (0)
/* An event: fg_log_event(LOG_WARNING, FG_MESSAGE_X, "mqtt", FG_LOG_FIELDS(...), "..."). */
#define fg_log_event(level, message_id, module, fields, ...)                                       \
	fg_log_event_full((level), 0, (message_id), (module), (fields), __FILE__, __LINE__,        \
			  __func__, __VA_ARGS__)
/* A per-device line, rate-limited: for anything the air or a peer triggers. */
#define fg_log_device(level, module, source, device, ...)                                   \
	fg_log_limitedf((level), (module), (source), (device), __FILE__, __LINE__, __func__,   \
			__VA_ARGS__)
