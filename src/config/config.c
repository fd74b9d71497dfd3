/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "config/config-internal.h"
#include "config/config.h"
#include "util/parse.h"

#define CONFIG_FILE_MAX (1024 * 1024) /* far above any sane configuration */
#define PATH_BUF	256	      /* dotted paths; longer ones are unknown anyway */
#define SUGGEST_MAX	64	      /* names compared for "did you mean" */
#define NEST_MAX	32	      /* how deep the literal pairing follows groups */
#define GOT_BUF		128	      /* "got ..." part of a message */

/* An integer setting as written, not as libconfig 1.5 may have truncated it. */
struct intval {
	bool neg;
	bool overflow;
	uint64_t mag;
	char text[32];
};

static size_t row_index(const struct fg_config_row *row)
{
	return (size_t) (row - fg_config_table);
}

static void *member(struct fg_config *cfg, const struct fg_config_row *row)
{
	return (char *) cfg + row->offset;
}

/* Store a number in a member of 1, 2, 4 or 8 bytes: bool, uint16_t, int, enum, uint32_t, uint64_t.
 */
static void store_num(struct fg_config *cfg, const struct fg_config_row *row, uint64_t v)
{
	void *p = member(cfg, row);

	switch (row->size) {
	case 1: {
		uint8_t x = (uint8_t) v;
		memcpy(p, &x, sizeof(x));
		break;
	}
	case 2: {
		uint16_t x = (uint16_t) v;
		memcpy(p, &x, sizeof(x));
		break;
	}
	case 4: {
		uint32_t x = (uint32_t) v;
		memcpy(p, &x, sizeof(x));
		break;
	}
	case 8:
		memcpy(p, &v, sizeof(v));
		break;
	default:
		assert(!"config table row with a member of unexpected size");
	}
}

/* Free a string member, wiping it first when it holds a secret. */
static void free_str(char *s, bool secret)
{
	if (s && secret)
		explicit_bzero(s, strlen(s));
	free(s);
}

/* Replace a string member; takes ownership of s. */
static void store_str(struct fg_config *cfg, const struct fg_config_row *row, char *s)
{
	char **p = member(cfg, row);

	free_str(*p, (row->flags & FG_CONFIG_SECRET) || row->secret_of);
	*p = s;
}

/*
 * The path of a file libconfig read for an @include: it names the file as
 * written in the directive and opened it below the include directory.
 */
static const char *include_path(const char *include_dir, const char *file, char *buf, size_t len)
{
	int n;

	if (!include_dir || file[0] == '/')
		return file;
	n = snprintf(buf, len, "%s/%s", include_dir, file);
	return n > 0 && (size_t) n < len ? buf : file;
}

/* Append a finding tied to a setting (or to nothing when s is NULL). */
void fg_config_report(struct loader *ld, enum fg_diag_severity sev, const config_setting_t *s,
		      const char *setting, const char *fmt, ...)
{
	const char *src = s ? config_setting_source_file(s) : NULL;
	int line = s ? (int) config_setting_source_line(s) : 0;
	char buf[PATH_MAX];
	const char *file = src ? include_path(ld->include_dir, src, buf, sizeof(buf)) : ld->name;
	va_list ap;

	va_start(ap, fmt);
	if (fg_diags_addv(ld->diags, sev, file, line, setting, fmt, ap) < 0)
		ld->oom = true;
	va_end(ap);
	if (sev == FG_DIAG_ERROR)
		ld->errors++;
}

#define report fg_config_report

/* Quote a user string for a message: single quotes, odd bytes escaped, long ones shortened. */
static void quote(const char *s, char *buf, size_t len)
{
	size_t o = 0, shown = 0;

	assert(len >= 16);
	buf[o++] = '\'';
	for (; *s; s++, shown++) {
		unsigned char c = (unsigned char) *s;
		bool plain = c >= 0x20 && c < 0x7f && c != '\\' && c != '\'';

		/* Room for this character, "..." and the closing quote. */
		if (shown == 48 || o + (plain ? 1 : 4) + 5 > len) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (plain)
			buf[o++] = (char) c;
		else
			o += (size_t) snprintf(buf + o, len - o, "\\x%02x", c);
	}
	buf[o++] = '\'';
	buf[o] = '\0';
}

/* Read an integer setting as written; false when it is not an integer. */
static bool get_int(const config_setting_t *s, struct intval *v)
{
	const struct fg_int_literal *lit;
	long long x;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return false;
	lit = config_setting_get_hook(s);
	if (lit) {
		*v = (struct intval){ .neg = lit->neg, .overflow = lit->overflow, .mag = lit->mag };
		memcpy(v->text, lit->text, sizeof(v->text));
		return true;
	}
	x = config_setting_get_int64(s);
	*v = (struct intval){ .neg = x < 0,
			      .mag = x < 0 ? (uint64_t) (-(x + 1)) + 1 : (uint64_t) x };
	(void) snprintf(v->text, sizeof(v->text), "%lld", x);
	return true;
}

/* Whether an integer as written lies in min..max. */
static bool int_in_range(const struct intval *v, uint64_t min, uint64_t max)
{
	if (v->overflow)
		return false;
	if (v->neg)
		return v->mag == 0 && min == 0;
	return v->mag >= min && v->mag <= max;
}

/* Say what a setting holds, for the "got ..." of a message; values of secrets stay hidden. */
static void describe(const config_setting_t *s, bool secret, char *buf, size_t len)
{
	char q[GOT_BUF - 16];
	struct intval v;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		(void) get_int(s, &v);
		(void) snprintf(buf, len, "an integer%s%s", secret ? "" : " ",
				secret ? "" : v.text);
		break;
	case CONFIG_TYPE_FLOAT:
		if (secret)
			(void) snprintf(buf, len, "a float");
		else
			(void) snprintf(buf, len, "a float %g", config_setting_get_float(s));
		break;
	case CONFIG_TYPE_STRING:
		quote(config_setting_get_string(s), q, sizeof(q));
		(void) snprintf(buf, len, "a string%s%s", secret ? "" : " ", secret ? "" : q);
		break;
	case CONFIG_TYPE_BOOL:
		(void) snprintf(buf, len, "%s", config_setting_get_bool(s) ? "true" : "false");
		break;
	case CONFIG_TYPE_GROUP:
		(void) snprintf(buf, len, "a group");
		break;
	case CONFIG_TYPE_ARRAY:
		(void) snprintf(buf, len, "an array");
		break;
	case CONFIG_TYPE_LIST:
		(void) snprintf(buf, len, "a list");
		break;
	default:
		(void) snprintf(buf, len, "nothing");
		break;
	}
}

/* Report a value of the wrong type: "expected WHAT, got a string '1883'". */
static void report_type(struct loader *ld, const config_setting_t *s,
			const struct fg_config_row *row, const char *what)
{
	char got[GOT_BUF];

	describe(s, row->flags & FG_CONFIG_SECRET, got, sizeof(got));
	report(ld, FG_DIAG_ERROR, s, row->path, "expected %s, got %s", what, got);
}

/* A boolean: true or false, nothing else (no "yes", no 1). */
static void load_bool(struct loader *ld, const config_setting_t *s, const struct fg_config_row *row)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		report_type(ld, s, row, "true or false");
		return;
	}
	store_num(ld->cfg, row, config_setting_get_bool(s) ? 1 : 0);
}

/* An integer within the row's range, as written in the file. */
static void load_int(struct loader *ld, const config_setting_t *s, const struct fg_config_row *row)
{
	char what[64];
	struct intval v;

	(void) snprintf(what, sizeof(what), "an integer %" PRIu64 "..%" PRIu64, row->min, row->max);
	if (!get_int(s, &v)) {
		report_type(ld, s, row, what);
		return;
	}
	if (!int_in_range(&v, row->min, row->max)) {
		report(ld, FG_DIAG_ERROR, s, row->path, "expected %s, got %s", what, v.text);
		return;
	}
	store_num(ld->cfg, row, v.mag);
}

/* A number (integer or decimal, signed) within the row's real range. */
static void load_real(struct loader *ld, const config_setting_t *s, const struct fg_config_row *row)
{
	char what[96];
	double v;
	int t = config_setting_type(s);

	(void) snprintf(what, sizeof(what), "a number %g..%g", row->rmin, row->rmax);
	if (t == CONFIG_TYPE_FLOAT) {
		v = config_setting_get_float(s);
	} else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
		struct intval iv;

		if (!get_int(s, &iv) || iv.overflow) {
			report_type(ld, s, row, what);
			return;
		}
		v = iv.neg ? -(double) iv.mag : (double) iv.mag;
	} else {
		report_type(ld, s, row, what);
		return;
	}
	if (!(v >= row->rmin && v <= row->rmax)) {
		report(ld, FG_DIAG_ERROR, s, row->path, "expected %s, got %g", what, v);
		return;
	}
	memcpy(member(ld->cfg, row), &v, sizeof(v));
}

/* One of the row's names (or what its own parser accepts). */
static void load_enum(struct loader *ld, const config_setting_t *s, const struct fg_config_row *row)
{
	char what[256] = "one of ", q[GOT_BUF];
	const char *str;
	int value = -1;

	for (size_t i = 0; row->names[i]; i++) {
		if (i > 0)
			(void) strncat(what, ", ", sizeof(what) - strlen(what) - 1);
		(void) strncat(what, row->names[i], sizeof(what) - strlen(what) - 1);
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		report_type(ld, s, row, what);
		return;
	}
	str = config_setting_get_string(s);
	if (row->from_string) {
		value = row->from_string(str);
	} else {
		for (size_t i = 0; row->names[i]; i++)
			if (strcmp(str, row->names[i]) == 0)
				value = (int) i;
	}
	if (value < 0) {
		quote(str, q, sizeof(q));
		report(ld, FG_DIAG_ERROR, s, row->path, "expected %s, got %s", what, q);
		return;
	}
	store_num(ld->cfg, row, (uint64_t) value);
}

/*
 * Durations and sizes share one shape: an integer in a base unit (seconds,
 * bytes) or a string with a unit, then a range check.
 */
static void load_quantity(struct loader *ld, const config_setting_t *s,
			  const struct fg_config_row *row)
{
	bool duration = row->type == FG_CT_DURATION;
	const char *example =
		duration ? "a duration such as 30s, 5m, 1h" : "a size such as 64K, 256M, 1G";
	uint64_t base = duration ? 1000 : 1; /* an integer counts seconds or bytes */
	char got[GOT_BUF], lo[32], hi[32];
	struct intval iv;
	uint64_t v = 0;
	bool ok;

	if (get_int(s, &iv)) {
		(void) snprintf(got, sizeof(got), "%s %s", iv.text, duration ? "seconds" : "bytes");
		ok = !iv.neg && !iv.overflow && iv.mag <= UINT64_MAX / base;
		v = iv.mag * base;
	} else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *str = config_setting_get_string(s);
		int r = duration ? fg_parse_duration_ms(str, &v) : fg_parse_size(str, &v);

		quote(str, got, sizeof(got));
		if (r < 0 && r != -ERANGE) {
			report(ld, FG_DIAG_ERROR, s, row->path, "expected %s, got %s", example,
			       got);
			return;
		}
		ok = r == 0;
	} else {
		report_type(ld, s, row, example);
		return;
	}
	if (!ok || v < row->min || v > row->max) {
		if (duration) {
			fg_config_format_duration(row->min, lo, sizeof(lo));
			fg_config_format_duration(row->max, hi, sizeof(hi));
		} else {
			fg_config_format_size(row->min, lo, sizeof(lo));
			fg_config_format_size(row->max, hi, sizeof(hi));
		}
		report(ld, FG_DIAG_ERROR, s, row->path, "expected %s %s..%s, got %s",
		       duration ? "a duration" : "a size", lo, hi, got);
		return;
	}
	if (duration && row->unit_ms > 1 && v % row->unit_ms != 0) {
		report(ld, FG_DIAG_ERROR, s, row->path,
		       "expected a whole number of seconds, got %s", got);
		return;
	}
	store_num(ld->cfg, row, duration && row->unit_ms > 1 ? v / row->unit_ms : v);
}

/* Check a string against its row: type, length, validator. Returns it, or NULL after a report. */
static const char *get_string(struct loader *ld, const config_setting_t *s,
			      const struct fg_config_row *row)
{
	bool secret = row->flags & FG_CONFIG_SECRET;
	char detail[160] = "", q[GOT_BUF];
	const char *str;
	size_t len;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		report_type(ld, s, row, row->expect);
		return NULL;
	}
	str = config_setting_get_string(s);
	len = strlen(str);
	if (len >= row->min && len <= row->max &&
	    (!row->check || row->check(str, detail, sizeof(detail))))
		return str;

	if (len > row->max)
		(void) snprintf(detail, sizeof(detail), "longer than %" PRIu64 " bytes", row->max);
	if (secret)
		(void) snprintf(q, sizeof(q), "a string of %zu bytes", len);
	else
		quote(str, q, sizeof(q));
	report(ld, FG_DIAG_ERROR, s, row->path, "expected %s, got %s%s%s%s", row->expect, q,
	       detail[0] ? " (" : "", detail, detail[0] ? ")" : "");
	return NULL;
}

/* Whether other users may read the file a setting came from (an @include or the main file). */
static bool readable_by_others(const struct loader *ld, const config_setting_t *s)
{
	const char *f = config_setting_source_file(s);
	char buf[PATH_MAX];
	struct stat st;

	if (!f)
		return ld->st && (ld->st->st_mode & S_IROTH);
	return stat(include_path(ld->include_dir, f, buf, sizeof(buf)), &st) == 0 &&
	       (st.st_mode & S_IROTH);
}

/* A string that passes the row's checks; a literal secret is also checked for exposure. */
static void load_string(struct loader *ld, const config_setting_t *s,
			const struct fg_config_row *row)
{
	const char *str = get_string(ld, s, row);
	char *copy;

	if (!str)
		return;
	copy = strdup(str);
	if (!copy) {
		ld->oom = true;
		return;
	}
	store_str(ld->cfg, row, copy);
	if ((row->flags & FG_CONFIG_SECRET) && readable_by_others(ld, s))
		report(ld, FG_DIAG_WARNING, s, row->path,
		       "file is readable by other users; move the secret to %s_file or a systemd "
		       "credential, or chmod o-r",
		       row->path);
}

/* NAME_file and NAME_credential: read the secret from a file or a systemd credential. */
static void load_secret_source(struct loader *ld, const config_setting_t *s,
			       const struct fg_config_row *row)
{
	bool credential = row->type == FG_CT_SECRET_CREDENTIAL;
	char err[PATH_MAX + 128];
	const char *str, *dir;
	char *path = NULL, *secret = NULL;
	bool world = false;
	int r;

	str = get_string(ld, s, row);
	if (!str)
		return;
	if (credential) {
		dir = secure_getenv("CREDENTIALS_DIRECTORY");
		if (!dir || !*dir) {
			report(ld, FG_DIAG_ERROR, s, row->path,
			       "$CREDENTIALS_DIRECTORY is not set; credentials come from systemd "
			       "(LoadCredential= or SetCredential= in the unit)");
			return;
		}
		if (asprintf(&path, "%s/%s", dir, str) < 0) {
			ld->oom = true;
			return;
		}
	}
	r = fg_config_read_secret(path ? path : str, &secret, &world, err, sizeof(err));
	if (r == -ENOMEM)
		ld->oom = true;
	else if (r < 0)
		report(ld, FG_DIAG_ERROR, s, row->path, "%s", err);
	else
		store_str(ld->cfg, row, secret);
	if (r == 0 && world && !credential)
		report(ld, FG_DIAG_WARNING, s, row->path,
		       "'%s' is readable by other users; chmod o-r", str);
	free(path);
}

/* Decode one known leaf setting into the struct, reporting what is wrong with it. */
static void load_leaf(struct loader *ld, const config_setting_t *s, const struct fg_config_row *row)
{
	const struct fg_config_row *target =
		row->secret_of ? fg_config_row_find(row->secret_of) : row;
	struct seen *sn = &ld->seen[row_index(target)];

	assert(target);
	if (sn->setting) {
		/* Only secrets get here: libconfig itself refuses duplicate names. */
		report(ld, FG_DIAG_ERROR, s, row->path,
		       "cannot be combined with %s (line %u); give the secret one way only",
		       sn->via->path, config_setting_source_line(sn->setting));
		return;
	}
	*sn = (struct seen){ .setting = s, .via = row };

	switch (row->type) {
	case FG_CT_BOOL:
		load_bool(ld, s, row);
		break;
	case FG_CT_INT:
		load_int(ld, s, row);
		break;
	case FG_CT_ENUM:
		load_enum(ld, s, row);
		break;
	case FG_CT_DURATION:
	case FG_CT_SIZE:
		load_quantity(ld, s, row);
		break;
	case FG_CT_STRING:
		load_string(ld, s, row);
		break;
	case FG_CT_REAL:
		load_real(ld, s, row);
		break;
	case FG_CT_SECRET_FILE:
	case FG_CT_SECRET_CREDENTIAL:
		load_secret_source(ld, s, row);
		break;
	}
}

/* Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
static unsigned edit_distance(const char *a, size_t n, const char *b, size_t m)
{
	unsigned rows[3][SUGGEST_MAX + 1];
	unsigned *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *t;

	assert(n <= SUGGEST_MAX && m <= SUGGEST_MAX);
	for (size_t j = 0; j <= m; j++)
		r1[j] = (unsigned) j;
	for (size_t i = 1; i <= n; i++) {
		r2[0] = (unsigned) i;
		for (size_t j = 1; j <= m; j++) {
			unsigned v = r1[j - 1] + (a[i - 1] != b[j - 1]);

			if (r1[j] + 1 < v)
				v = r1[j] + 1;
			if (r2[j - 1] + 1 < v)
				v = r2[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    r0[j - 2] + 1 < v)
				v = r0[j - 2] + 1;
			r2[j] = v;
		}
		t = r0;
		r0 = r1;
		r1 = r2;
		r2 = t;
	}
	return r1[m];
}

/*
 * Find the name meant by an unknown one: the closest name of the same group
 * within about a third of its length (at least 2 edits), else the same name
 * in another group ("port" at the top means "mqtt.port").
 */
static bool suggest(const char *prefix, const char *name, char *buf, size_t len)
{
	size_t plen = prefix ? strlen(prefix) : 0, nlen = strlen(name);
	unsigned limit = nlen / 3 > 2 ? (unsigned) (nlen / 3) : 2, best = UINT_MAX;
	const char *best_path = NULL;
	size_t best_len = 0;

	if (nlen == 0 || nlen > SUGGEST_MAX)
		return false;
	for (size_t i = 0; i < fg_config_table_size; i++) {
		const char *path = fg_config_table[i].path, *rest = path;
		size_t clen;
		unsigned d;

		if (prefix) {
			if (strncmp(path, prefix, plen) != 0 || path[plen] != '.')
				continue;
			rest = path + plen + 1;
		}
		clen = strcspn(rest, ".");
		if (clen > SUGGEST_MAX)
			continue;
		d = edit_distance(name, nlen, rest, clen);
		if (d < best) {
			best = d;
			best_path = path;
			best_len = (size_t) (rest - path) + clen;
		}
	}
	if (best_path && best <= limit && best < nlen) {
		(void) snprintf(buf, len, "%.*s", (int) best_len, best_path);
		return true;
	}
	for (size_t i = 0; i < fg_config_table_size; i++) {
		const char *path = fg_config_table[i].path;

		for (const char *c = path; *c; c += strcspn(c, "."), c += *c == '.') {
			size_t clen = strcspn(c, ".");

			if (clen == nlen && strncmp(c, name, nlen) == 0) {
				(void) snprintf(buf, len, "%.*s", (int) (c - path) + (int) clen,
						path);
				return true;
			}
		}
	}
	return false;
}

/* Whether some row lies below this dotted path, i.e. it names a group. */
static bool is_group_path(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < fg_config_table_size; i++)
		if (strncmp(fg_config_table[i].path, path, n) == 0 &&
		    fg_config_table[i].path[n] == '.')
			return true;
	return false;
}

/* Walk one group of the file against the table. */
static void walk_group(struct loader *ld, const config_setting_t *group, const char *prefix)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned) i);
		const char *name = config_setting_name(s);
		const struct fg_config_row *row = NULL;
		char path[PATH_BUF], hint[PATH_BUF], got[GOT_BUF];
		int k;

		if (!name)
			continue;
		k = snprintf(path, sizeof(path), "%s%s%s", prefix ? prefix : "", prefix ? "." : "",
			     name);
		if (k > 0 && (size_t) k < sizeof(path) && fg_config_load_list(ld, s, path))
			continue;
		if (k > 0 && (size_t) k < sizeof(path))
			row = fg_config_row_find(path);
		if (row) {
			load_leaf(ld, s, row);
		} else if (k > 0 && (size_t) k < sizeof(path) && is_group_path(path)) {
			if (!config_setting_is_group(s)) {
				describe(s, false, got, sizeof(got));
				report(ld, FG_DIAG_ERROR, s, path,
				       "expected a group of settings { ... }, got %s", got);
				continue;
			}
			walk_group(ld, s, path);
		} else if (suggest(prefix, name, hint, sizeof(hint))) {
			report(ld, FG_DIAG_ERROR, s, path, "unknown setting, did you mean '%s'?",
			       hint);
		} else {
			report(ld, FG_DIAG_ERROR, s, path, "unknown setting");
		}
	}
}

/* Count the integers of the main file below s in document order; -1 when nested too deep. */
static long count_ints(const config_setting_t *s, int depth)
{
	long n = 0;

	if (depth > NEST_MAX)
		return -1;
	if (config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64)
		return config_setting_source_file(s) ? 0 : 1;
	if (!config_setting_is_aggregate(s))
		return 0;
	for (int i = 0; i < config_setting_length(s); i++) {
		long c = count_ints(config_setting_get_elem(s, (unsigned) i), depth + 1);

		if (c < 0)
			return -1;
		n += c;
	}
	return n;
}

/* Hang each literal on its integer setting, in document order. */
static void attach_ints(config_setting_t *s, const struct fg_int_literals *lits, size_t *next)
{
	if (config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64) {
		if (!config_setting_source_file(s) && *next < lits->n)
			config_setting_set_hook(s, &lits->v[(*next)++]);
		return;
	}
	if (!config_setting_is_aggregate(s))
		return;
	for (int i = 0; i < config_setting_length(s); i++)
		attach_ints(config_setting_get_elem(s, (unsigned) i), lits, next);
}

/* Whether libconfig agrees with each hung literal that fits 32 bits (it reads those right). */
static bool ints_agree(const config_setting_t *s)
{
	const struct fg_int_literal *lit;

	if (config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64) {
		lit = config_setting_get_hook(s);
		if (!lit || lit->overflow || lit->mag > (lit->neg ? 2147483648ULL : 2147483647ULL))
			return true;
		return config_setting_get_int64(s) ==
		       (lit->neg ? -(long long) lit->mag : (long long) lit->mag);
	}
	if (!config_setting_is_aggregate(s))
		return true;
	for (int i = 0; i < config_setting_length(s); i++)
		if (!ints_agree(config_setting_get_elem(s, (unsigned) i)))
			return false;
	return true;
}

/* Drop every literal hung on the tree. */
static void detach_ints(config_setting_t *s)
{
	config_setting_set_hook(s, NULL);
	if (!config_setting_is_aggregate(s))
		return;
	for (int i = 0; i < config_setting_length(s); i++)
		detach_ints(config_setting_get_elem(s, (unsigned) i));
}

/*
 * Pair the literals we scanned with libconfig's integer settings. When the
 * counts or any small value differ, our scanner misread the text; then
 * libconfig's values stand.
 */
static void attach_literals(config_setting_t *root, const struct fg_int_literals *lits)
{
	size_t next = 0;

	if (count_ints(root, 0) != (long) lits->n)
		return;
	attach_ints(root, lits, &next);
	if (!ints_agree(root))
		detach_ints(root);
}

/* Where a setting was given in the file, or NULL (also when there is no file). */
static const config_setting_t *seen_setting(const struct loader *ld, const char *path)
{
	const struct fg_config_row *row = fg_config_row_find(path);

	assert(row);
	return ld ? ld->seen[row_index(row)].setting : NULL;
}

/* The host name, reduced to the characters a gateway id may hold. */
static char *default_gateway_id(void)
{
	char host[256] = "";

	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	host[64] = '\0';
	for (char *p = host; *p; p++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-",
			    *p))
			*p = '-';
	return strdup(host[0] ? host : "fieldgate");
}

/* The name of the first TLS setting given, which makes the connection use TLS. */
static const char *tls_reason(const struct fg_config *cfg)
{
	if (cfg->mqtt.ca_file)
		return "mqtt.ca_file";
	if (cfg->mqtt.ca_path)
		return "mqtt.ca_path";
	if (cfg->mqtt.cert_file)
		return "mqtt.cert_file";
	if (cfg->mqtt.key_file)
		return "mqtt.key_file";
	if (cfg->mqtt.alpn)
		return "mqtt.alpn";
	if (cfg->mqtt.tls_insecure)
		return "mqtt.tls_insecure";
	return NULL;
}

/*
 * sources.sx130x: which settings the file gave, so that the source takes the
 * rest from the board preset, the region or lorawan.region (source/sx130x.h),
 * and the line to name when the binary cannot drive a concentrator.
 */
static void note_sx130x_given(struct fg_config *cfg, const struct loader *ld)
{
	struct fg_sx130x_config *x = &cfg->sources.sx130x;
	const config_setting_t *en = seen_setting(ld, "sources.sx130x.enabled");

	x->has_chip = seen_setting(ld, "sources.sx130x.chip");
	x->has_clock_source = seen_setting(ld, "sources.sx130x.clock_source");
	x->has_radio_type = seen_setting(ld, "sources.sx130x.radio_type");
	x->has_region = seen_setting(ld, "sources.sx130x.region");
	x->has_sub_band = seen_setting(ld, "sources.sx130x.sub_band");
	x->has_rssi_offset = seen_setting(ld, "sources.sx130x.rssi_offset");
	x->line = en ? (int) config_setting_source_line(en) : 0;
	if (!x->has_region)
		x->region = cfg->lorawan.region;
	/* The concentrator hears the sub-band the devices are told to use, unless told apart. */
	if (!x->has_sub_band)
		x->sub_band = cfg->lorawan.sub_band;
}

/* The line of a setting in the file, or 0. */
static int setting_line(const struct loader *ld, const char *path)
{
	const config_setting_t *s = seen_setting(ld, path);

	return s ? (int) config_setting_source_line(s) : 0;
}

/* Where the TLS files were named, for the sink's check of them (sink/mqtt.h). */
static void note_tls_lines(struct fg_config *cfg, const struct loader *ld)
{
	cfg->mqtt.ca_file_line = setting_line(ld, "mqtt.ca_file");
	cfg->mqtt.ca_path_line = setting_line(ld, "mqtt.ca_path");
	cfg->mqtt.cert_file_line = setting_line(ld, "mqtt.cert_file");
	cfg->mqtt.key_file_line = setting_line(ld, "mqtt.key_file");
}

/* Fill the defaults that depend on other settings. ld is NULL for a config of defaults only. */
static int derive_defaults(struct fg_config *cfg, const struct loader *ld)
{
	if (!cfg->gateway.id) {
		cfg->gateway.id = default_gateway_id();
		if (!cfg->gateway.id)
			return -ENOMEM;
		cfg->gateway.id_default = true;
	}
	if (!cfg->buffer.path && cfg->gateway.state_dir) {
		size_t n = strlen(cfg->gateway.state_dir);

		while (n > 0 && cfg->gateway.state_dir[n - 1] == '/')
			n--;
		if (asprintf(&cfg->buffer.path, "%.*s/buffer.db", (int) n, cfg->gateway.state_dir) <
		    0) {
			cfg->buffer.path = NULL;
			return -ENOMEM;
		}
	}
	if (!cfg->mqtt.client_id) {
		if (asprintf(&cfg->mqtt.client_id, "fieldgate-%s", cfg->gateway.id) < 0) {
			cfg->mqtt.client_id = NULL;
			return -ENOMEM;
		}
		cfg->mqtt.client_id_default = true;
	}
	if (!seen_setting(ld, "mqtt.tls"))
		cfg->mqtt.tls = tls_reason(cfg) != NULL;
	if (!seen_setting(ld, "mqtt.port") && cfg->mqtt.tls)
		cfg->mqtt.port = 8883;
	note_sx130x_given(cfg, ld);
	note_tls_lines(cfg, ld);
	cfg->commands.line = setting_line(ld, "commands.enabled");
	return 0;
}

/* tls = false next to a setting that only TLS uses is a contradiction. */
static void check_tls_off(struct loader *ld)
{
	const config_setting_t *s = seen_setting(ld, "mqtt.tls");
	const char *reason = tls_reason(ld->cfg);

	if (s && !ld->cfg->mqtt.tls && reason)
		report(ld, FG_DIAG_ERROR, s, "mqtt.tls",
		       "is false, but %s is set; remove one of them", reason);
}

/* A client certificate needs its private key, and the key its certificate. */
static void check_client_cert(struct loader *ld)
{
	const config_setting_t *cert = seen_setting(ld, "mqtt.cert_file");
	const config_setting_t *key = seen_setting(ld, "mqtt.key_file");

	if (cert && !key)
		report(ld, FG_DIAG_ERROR, cert, "mqtt.cert_file",
		       "is set without mqtt.key_file; a client certificate needs its private key");
	if (key && !cert)
		report(ld, FG_DIAG_ERROR, key, "mqtt.key_file",
		       "is set without mqtt.cert_file; a private key needs its client certificate");
}

/* MQTT 3.1.1 sends a password only after a user name (section 3.1.2.9); MQTT 5 does not care. */
static void check_password_user(struct loader *ld)
{
	const struct seen *pw = &ld->seen[row_index(fg_config_row_find("mqtt.password"))];

	if (pw->setting && ld->cfg->mqtt.password && !seen_setting(ld, "mqtt.username") &&
	    ld->cfg->mqtt.protocol == FG_MQTT_V311)
		report(ld, FG_DIAG_ERROR, pw->setting, pw->via->path,
		       "is set without mqtt.username; MQTT 3.1.1 sends a password only with a "
		       "user name");
}

/* Settings only MQTT 5 uses are ignored with 3.1.1: say so rather than ignore them silently. */
static void check_v5_only(struct loader *ld)
{
	static const char *const v5_only[] = { "mqtt.session_expiry", "mqtt.message_expiry" };

	if (ld->cfg->mqtt.protocol != FG_MQTT_V311)
		return;
	for (size_t i = 0; i < sizeof(v5_only) / sizeof(v5_only[0]); i++) {
		const config_setting_t *s = seen_setting(ld, v5_only[i]);

		if (s)
			report(ld, FG_DIAG_WARNING, s, v5_only[i],
			       "only used with mqtt.protocol \"v5\"; ignored with v311");
	}
}

/* Turning off the host name check is for tests; make sure nobody does it by accident. */
static void check_tls_insecure(struct loader *ld)
{
	if (ld->cfg->mqtt.tls_insecure)
		report(ld, FG_DIAG_WARNING, seen_setting(ld, "mqtt.tls_insecure"),
		       "mqtt.tls_insecure",
		       "the broker certificate's host name is not checked; any certificate from "
		       "the same CA can impersonate the broker");
}

/*
 * Whoever can publish on the command topics can open valves and send
 * downlinks. Without TLS anyone on the path can; without credentials
 * (a password or a client certificate) anyone who reaches the broker can,
 * unless its ACL says otherwise, which this gateway cannot see. Refuse
 * that, unless the file says it knows.
 */
static void check_commands_secure(struct loader *ld)
{
	const struct fg_config *cfg = ld->cfg;
	bool tls = cfg->mqtt.tls, creds = cfg->mqtt.password || cfg->mqtt.cert_file;
	const config_setting_t *s = seen_setting(ld, "commands.enabled");
	const char *lacks;

	if (!cfg->commands.enabled || (tls && creds))
		return;
	if (!tls && !creds)
		lacks = "neither TLS (mqtt.tls) nor credentials (mqtt.password or mqtt.cert_file)";
	else if (!tls)
		lacks = "no TLS (mqtt.tls)";
	else
		lacks = "no credentials (mqtt.password or mqtt.cert_file)";
	if (cfg->commands.allow_insecure)
		report(ld, FG_DIAG_WARNING, s, "commands.enabled",
		       "the MQTT connection has %s, and commands.allow_insecure is true: anyone "
		       "who can publish on the command topics can actuate devices",
		       lacks);
	else
		report(ld, FG_DIAG_ERROR, s, "commands.enabled",
		       "the MQTT connection has %s: anyone who can publish on the command topics "
		       "could actuate devices; configure TLS and a password or client certificate, "
		       "or set commands.allow_insecure = true",
		       lacks);
}

/* A topic template with {gateway} filled in, up to its first other placeholder. */
static char *topic_fixed_part(const char *tmpl, const char *gateway, bool *ret_whole)
{
	size_t cap = strlen(tmpl) * (strlen(gateway) + 1) + 1, o = 0;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	*ret_whole = true;
	for (const char *p = tmpl; *p;) {
		if (strncmp(p, "{gateway}", 9) == 0) {
			memcpy(out + o, gateway, strlen(gateway));
			o += strlen(gateway);
			p += 9;
		} else if (*p == '{') {
			*ret_whole = false;
			break;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	return out;
}

/*
 * Whether what the gateway publishes on tmpl would land in its own command
 * subscription, prefix + "#". That filter also matches the prefix without
 * its '/' (MQTT 3.1.1 section 4.7.1.2). A template with other placeholders
 * is judged by its part before them, so this finds the sure cases only.
 */
static int topic_under(const char *tmpl, const char *prefix, const char *gateway)
{
	bool whole, pwhole;
	char *t = topic_fixed_part(tmpl, gateway, &whole);
	char *p = topic_fixed_part(prefix, gateway, &pwhole);
	size_t pl;
	int r = 0;

	if (!t || !p) {
		r = -ENOMEM;
		goto out;
	}
	pl = strlen(p);
	if (strncmp(t, p, pl) == 0)
		r = 1;
	else if (whole && strlen(t) + 1 == pl && strncmp(t, p, pl - 1) == 0)
		r = 1;
out:
	free(t);
	free(p);
	return r;
}

/* The topics the gateway publishes on must not be commands to itself. */
static void check_command_topics(struct loader *ld)
{
	const struct fg_config *cfg = ld->cfg;
	const char *prefix = cfg->commands.topic, *gw = cfg->gateway.id;
	const config_setting_t *s;
	int r;

	if (!prefix || !gw || !cfg->commands.event_topic)
		return;
	r = topic_under(cfg->commands.event_topic, prefix, gw);
	if (r > 0) {
		s = seen_setting(ld, "commands.event_topic");
		report(ld, FG_DIAG_ERROR, s ? s : seen_setting(ld, "commands.topic"),
		       "commands.event_topic",
		       "'%s' lies under commands.topic '%s': the gateway would take its own "
		       "outcomes for commands",
		       cfg->commands.event_topic, prefix);
	}
	if (r < 0 || !cfg->commands.enabled)
		goto out;
	if (cfg->mqtt.stats_topic && (r = topic_under(cfg->mqtt.stats_topic, prefix, gw)) > 0) {
		s = seen_setting(ld, "mqtt.stats_topic");
		report(ld, FG_DIAG_ERROR, s ? s : seen_setting(ld, "commands.topic"),
		       "mqtt.stats_topic",
		       "'%s' lies under commands.topic '%s': the gateway would take its health "
		       "record for a command",
		       cfg->mqtt.stats_topic, prefix);
	}
	if (r >= 0 && cfg->mqtt.topic && (r = topic_under(cfg->mqtt.topic, prefix, gw)) > 0) {
		s = seen_setting(ld, "mqtt.topic");
		report(ld, FG_DIAG_ERROR, s ? s : seen_setting(ld, "commands.topic"), "mqtt.topic",
		       "'%s' lies under commands.topic '%s': the gateway would take its readings "
		       "for commands",
		       cfg->mqtt.topic, prefix);
	}
out:
	if (r < 0)
		ld->oom = true;
}

/* Rows marked required must be present. */
static void check_required(struct loader *ld)
{
	for (size_t i = 0; i < fg_config_table_size; i++)
		if ((fg_config_table[i].flags & FG_CONFIG_REQUIRED) && !ld->seen[i].setting)
			report(ld, FG_DIAG_ERROR, NULL, fg_config_table[i].path, "is required");
}

/* A config holding the table's own defaults (not yet the derived ones). */
static int config_alloc(const char *name, struct fg_config **ret_cfg)
{
	struct fg_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return -ENOMEM;
	if (name && !(cfg->path = strdup(name)))
		goto oom;
	for (size_t i = 0; i < fg_config_table_size; i++) {
		const struct fg_config_row *row = &fg_config_table[i];

		switch (row->type) {
		case FG_CT_BOOL:
		case FG_CT_INT:
		case FG_CT_ENUM:
		case FG_CT_SIZE:
			store_num(cfg, row, row->def);
			break;
		case FG_CT_DURATION:
			store_num(cfg, row, row->unit_ms > 1 ? row->def / row->unit_ms : row->def);
			break;
		case FG_CT_STRING:
			if (row->def_str) {
				char *s = strdup(row->def_str);

				if (!s)
					goto oom;
				store_str(cfg, row, s);
			}
			break;
		case FG_CT_REAL:
			assert(row->size == sizeof(double));
			memcpy(member(cfg, row), &row->rdef, sizeof(row->rdef));
			break;
		case FG_CT_SECRET_FILE:
		case FG_CT_SECRET_CREDENTIAL:
			break;
		}
	}
	*ret_cfg = cfg;
	return 0;
oom:
	fg_config_free(cfg);
	return -ENOMEM;
}

/* Parse, walk, derive and check; the common part of loading a file and a string. */
static int load_text(const char *text, const char *name, const struct stat *st,
		     const char *include_dir, struct fg_config **ret_cfg, struct fg_diags *diags)
{
	struct loader ld = { .name = name, .st = st, .include_dir = include_dir, .diags = diags };
	struct fg_int_literals lits = { 0 };
	config_t lc;
	int r;

	config_init(&lc);
	if (include_dir)
		config_set_include_dir(&lc, include_dir);
	if (!config_read_string(&lc, text)) {
		const char *file = config_error_file(&lc);
		const char *msg = config_error_text(&lc);
		char buf[PATH_MAX];

		r = fg_diags_add(diags, FG_DIAG_ERROR,
				 file ? include_path(include_dir, file, buf, sizeof(buf)) : name,
				 config_error_line(&lc), NULL, "%s", msg ? msg : "syntax error");
		if (r == 0)
			r = -EINVAL;
		goto out;
	}
	r = config_alloc(name, &ld.cfg);
	if (r < 0)
		goto out;
	ld.seen = calloc(fg_config_table_size, sizeof(*ld.seen));
	if (!ld.seen) {
		r = -ENOMEM;
		goto out;
	}
	r = fg_config_scan_literals(text, &lits);
	if (r < 0)
		goto out;
	attach_literals(config_root_setting(&lc), &lits);

	walk_group(&ld, config_root_setting(&lc), NULL);
	r = derive_defaults(ld.cfg, &ld);
	if (r < 0)
		goto out;
	check_required(&ld);
	check_tls_off(&ld);
	check_client_cert(&ld);
	check_password_user(&ld);
	check_v5_only(&ld);
	check_tls_insecure(&ld);
	check_commands_secure(&ld);
	check_command_topics(&ld);
	fg_config_check_lists(&ld);

	if (ld.oom) {
		r = -ENOMEM;
	} else if (ld.errors > 0) {
		r = -EINVAL;
	} else {
		*ret_cfg = ld.cfg;
		ld.cfg = NULL;
		r = 0;
	}
out:
	fg_config_free(ld.cfg);
	free(ld.seen);
	fg_config_literals_free(&lits);
	config_destroy(&lc);
	return r;
}

int fg_config_load_string(const char *text, const char *name, struct fg_config **ret_cfg,
			  struct fg_diags *diags)
{
	assert(text && ret_cfg && diags);
	return load_text(text, name, NULL, NULL, ret_cfg, diags);
}

/* Read a whole file of at most CONFIG_FILE_MAX bytes into a NUL-terminated buffer. */
static int read_text(int fd, char **ret_text)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len + 1 == cap) {
			char *b;

			if (cap > CONFIG_FILE_MAX) {
				free(buf);
				return -EFBIG;
			}
			b = realloc(buf, cap * 2);
			if (!b) {
				free(buf);
				return -ENOMEM;
			}
			buf = b;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t) n;
	}
	if (memchr(buf, '\0', len)) {
		free(buf);
		return -EBADMSG;
	}
	buf[len] = '\0';
	*ret_text = buf;
	return 0;
}

/* Read the file ourselves (one fstat for the permission check, no size surprises), then load. */
int fg_config_load(const char *path, struct fg_config **ret_cfg, struct fg_diags *diags)
{
	char *text = NULL, *dir = NULL, *slash;
	struct stat st;
	int fd, r;

	assert(path && ret_cfg && diags);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		goto fail;
	}
	r = read_text(fd, &text);
	if (r == -EBADMSG)
		r = -EINVAL; /* readable, but not a text file: an error of the file */
	if (r < 0)
		goto fail;
	(void) close(fd);
	fd = -1;

	/* @include paths are relative to the directory of this file. */
	slash = strrchr(path, '/');
	if (slash && !(dir = strndup(path, slash == path ? 1 : (size_t) (slash - path)))) {
		free(text);
		return -ENOMEM;
	}
	r = load_text(text, path, &st, dir, ret_cfg, diags);
	free(dir);
	free(text);
	return r;
fail:
	if (fd >= 0)
		(void) close(fd);
	if (r == -EFBIG)
		(void) fg_diags_add(diags, FG_DIAG_ERROR, path, 0, NULL,
				    "cannot read: larger than %d bytes", CONFIG_FILE_MAX);
	else if (r == -EINVAL)
		(void) fg_diags_add(diags, FG_DIAG_ERROR, path, 0, NULL,
				    "cannot read: contains a NUL byte, not a text file");
	else
		(void) fg_diags_add(diags, FG_DIAG_ERROR, path, 0, NULL, "cannot read: %s",
				    strerror(-r));
	return r;
}

int fg_config_new_default(struct fg_config **ret_cfg)
{
	struct fg_config *cfg;
	int r;

	r = config_alloc(NULL, &cfg);
	if (r < 0)
		return r;
	r = derive_defaults(cfg, NULL);
	if (r < 0) {
		fg_config_free(cfg);
		return r;
	}
	*ret_cfg = cfg;
	return 0;
}

void fg_config_free(struct fg_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < fg_config_table_size; i++) {
		const struct fg_config_row *row = &fg_config_table[i];

		if (row->type == FG_CT_STRING)
			free_str(*(char **) member(cfg, row), row->flags & FG_CONFIG_SECRET);
	}
	fg_config_lists_free(cfg);
	free(cfg->path);
	free(cfg);
}
