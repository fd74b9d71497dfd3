/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config-internal.h"
#include "config/config.h"

void fg_diags_clear(struct fg_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].setting);
		free(d->v[i].message);
	}
	free(d->v);
	*d = (struct fg_diags){ 0 };
}

/* Append a finding with a va_list message; the list is unchanged on failure. */
int fg_diags_addv(struct fg_diags *d, enum fg_diag_severity sev, const char *file, int line,
		  const char *setting, const char *fmt, va_list ap)
{
	struct fg_diag g = { .severity = sev, .line = line };

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct fg_diag *v = reallocarray(d->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	if (vasprintf(&g.message, fmt, ap) < 0)
		return -ENOMEM;
	if (file && !(g.file = strdup(file)))
		goto oom;
	if (setting && !(g.setting = strdup(setting)))
		goto oom;
	d->v[d->n++] = g;
	return 0;
oom:
	free(g.file);
	free(g.message);
	return -ENOMEM;
}

int fg_diags_add(struct fg_diags *d, enum fg_diag_severity sev, const char *file, int line,
		 const char *setting, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = fg_diags_addv(d, sev, file, line, setting, fmt, ap);
	va_end(ap);
	return r;
}

size_t fg_diags_count(const struct fg_diags *d, enum fg_diag_severity sev)
{
	size_t n = 0;

	for (size_t i = 0; d && i < d->n; i++)
		if (d->v[i].severity == sev)
			n++;
	return n;
}

/* "FILE:LINE: [warning: ]SETTING: MESSAGE", leaving out the parts a finding lacks. */
char *fg_diag_format(const struct fg_diag *d)
{
	char line[24] = "";
	char *s;

	if (d->line > 0)
		(void) snprintf(line, sizeof(line), ":%d", d->line);
	if (asprintf(&s, "%s%s%s%s%s%s%s", d->file ? d->file : "", d->file ? line : "",
		     d->file ? ": " : "", d->severity == FG_DIAG_WARNING ? "warning: " : "",
		     d->setting ? d->setting : "", d->setting ? ": " : "",
		     d->message ? d->message : "") < 0)
		return NULL;
	return s;
}

void fg_diags_print(const struct fg_diags *d, FILE *f)
{
	for (size_t i = 0; d && i < d->n; i++) {
		char *s = fg_diag_format(&d->v[i]);

		/* Out of memory: the bare message still says what is wrong. */
		fprintf(f, "%s\n", s ? s : d->v[i].message ? d->v[i].message : "out of memory");
		free(s);
	}
}
