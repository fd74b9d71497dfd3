/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Private to src/config/: the settings table and the helpers the loader
 * shares with it. Nothing outside this directory includes this header.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "config/config.h"

/* The longest secret read from a value, a file or a credential. */
#define FG_CONFIG_SECRET_MAX 4096

enum fg_config_type {
	FG_CT_BOOL,
	FG_CT_INT,		 /* libconfig int or int64, min..max */
	FG_CT_ENUM,		 /* one of .names */
	FG_CT_DURATION,		 /* integer seconds or "250ms", "90s", "15m", "12h", "7d" */
	FG_CT_SIZE,		 /* integer bytes or "64K", "256M", "1G", "1T" */
	FG_CT_STRING,		 /* length min..max, then .check */
	FG_CT_REAL,		 /* an integer or a decimal number, rmin..rmax, stored as double */
	FG_CT_SECRET_FILE,	 /* NAME_file: the secret of .secret_of, read from a file */
	FG_CT_SECRET_CREDENTIAL, /* NAME_credential: ... from $CREDENTIALS_DIRECTORY/NAME */
};

#define FG_CONFIG_REQUIRED (1u << 0) /* an error when absent */
#define FG_CONFIG_SECRET   (1u << 1) /* never echoed; also NAME_file and NAME_credential */

/* One setting. Where a default depends on other settings, def_str is NULL and config.c derives it.
 */
struct fg_config_row {
	const char *path; /* dotted: "mqtt.port" */
	enum fg_config_type type;
	unsigned flags;
	size_t offset;		  /* into struct fg_config */
	size_t size;		  /* of the member: 1, 2, 4 or 8 for numbers */
	uint64_t min, max;	  /* INT; DURATION in ms; SIZE in bytes; STRING: length in bytes */
	uint64_t def;		  /* BOOL, INT, ENUM (stored value), DURATION (ms), SIZE */
	const char *def_str;	  /* STRING */
	uint32_t unit_ms;	  /* DURATION: milliseconds per stored unit */
	double rmin, rmax, rdef;  /* REAL */
	const char *const *names; /* ENUM: canonical names, NULL-terminated */
	int (*from_string)(const char *s); /* ENUM: name to stored value; NULL: index in names */
	const char *expect; /* STRING and secret sources: what a good value looks like */
	/* STRING: extra validation; on failure may say why in detail. */
	bool (*check)(const char *s, char *detail, size_t len);
	const char *secret_of; /* SECRET_FILE, SECRET_CREDENTIAL: the row this fills */
	const char *help;
};

extern const struct fg_config_row fg_config_table[];
extern const size_t fg_config_table_size;

/* The row for a dotted path, or NULL. */
const struct fg_config_row *fg_config_row_find(const char *path);

/* Append a finding with a va_list message. Returns 0 or -ENOMEM. */
int fg_diags_addv(struct fg_diags *d, enum fg_diag_severity sev, const char *file, int line,
		  const char *setting, const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));

/*
 * Read a secret from a regular file: at most FG_CONFIG_SECRET_MAX bytes, one
 * trailing newline dropped, not empty, no NUL. Returns 0 with a malloc'd
 * string and whether others may read the file, or a negative errno with a
 * message naming the path in err.
 */
int fg_config_read_secret(const char *path, char **ret_secret, bool *ret_world_readable, char *err,
			  size_t errlen);

/*
 * libconfig 1.5 silently truncates integer literals that do not fit its type
 * (2147483648 becomes -2147483648, 99999999999 becomes 1215752191). We scan
 * the text ourselves and remember what each literal really said.
 */
struct fg_int_literal {
	unsigned line;
	bool neg;
	bool overflow; /* beyond 64 bits: mag is meaningless */
	uint64_t mag;
	char text[32]; /* as written, shortened for messages */
};

struct fg_int_literals {
	struct fg_int_literal *v;
	size_t n;
	size_t cap;
};

/* Collect the integer literals of libconfig text in order. Returns 0 or -ENOMEM. */
int fg_config_scan_literals(const char *text, struct fg_int_literals *ret);
void fg_config_literals_free(struct fg_int_literals *l);

/* Format a duration in ms (largest whole unit, "30d", "250ms") or a size ("256M"). */
void fg_config_format_duration(uint64_t ms, char *buf, size_t len);
void fg_config_format_size(uint64_t bytes, char *buf, size_t len);

/* Where a setting's value came from, per row; for a secret, which of x, x_file, x_credential. */
struct seen {
	const config_setting_t *setting;
	const struct fg_config_row *via;
};

/* State of one load: what is being read, what was seen, what went wrong. */
struct loader {
	const char *name;	 /* file name for messages, as the caller gave it */
	const struct stat *st;	 /* of the main file; NULL for text in memory */
	const char *include_dir; /* where libconfig looks for @include files */
	struct fg_diags *diags;
	struct fg_config *cfg;
	struct seen *seen; /* one per row of fg_config_table */
	size_t errors;	   /* errors added by this load */
	bool oom;
};

/* Add a finding about setting s (its file and line) and count errors. */
void fg_config_report(struct loader *ld, enum fg_diag_severity sev, const config_setting_t *s,
		      const char *setting, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * The settings that are lists or named groups rather than table rows
 * (config-lists.c): sources.gwmp.gateways, lorawan.devices, codecs. Returns
 * true when path is one of them (loaded, or reported).
 */
bool fg_config_load_list(struct loader *ld, const config_setting_t *s, const char *path);
/* Check what the lists refer to (a device's codec) once everything is loaded. */
void fg_config_check_lists(struct loader *ld);
/* Free what the list loaders allocated in cfg (keys are wiped). */
void fg_config_lists_free(struct fg_config *cfg);

/* A publish topic template (mqtt.topic, a rule's alert.topic): known {placeholders}, no wildcards. */
bool fg_config_check_topic(const char *s, char *detail, size_t len);
