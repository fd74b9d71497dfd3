/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Logging: one module for the whole daemon.
 *
 * Under journald (JOURNAL_STREAM names our stderr's device:inode) each call
 * becomes one structured journal entry with PRIORITY, MESSAGE, CODE_FILE,
 * CODE_LINE, CODE_FUNC, FIELDGATE_MODULE and, for per-device lines,
 * FIELDGATE_SOURCE and FIELDGATE_DEVICE. Otherwise it writes one line per
 * message to stderr: "<level> <module>: <text>".
 *
 * Levels are syslog's (LOG_ERR .. LOG_DEBUG). "%m" in a format expands to the
 * error passed to the _errno variants.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <syslog.h>

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
/* A per-device line, rate-limited: for anything the air or a peer triggers. */
#define fg_log_device(level, module, source, device, ...)                                   \
	fg_log_limitedf((level), (module), (source), (device), __FILE__, __LINE__, __func__,   \
			__VA_ARGS__)
