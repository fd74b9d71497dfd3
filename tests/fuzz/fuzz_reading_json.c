/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer target for readings read back from JSON lines (what
 * `fieldgatectl rules test` reads). The input is one line, handed over in a
 * buffer of exactly its size (not NUL-terminated), so a read past it is
 * caught. A refusal has a documented code and a one-line reason, and leaves
 * the outputs alone. An accepted reading is valid (names, sizes, finite
 * number), and writing it with fg_reading_to_json and reading that back
 * gives the same line again. A text buffer too small for the string value
 * refuses exactly those lines, and only those.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/reading-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TEXT_SIZE  4096
#define SMALL_TEXT 8

/* A string field: NUL-terminated within its array. */
static void check_field(const char *s, size_t size)
{
	if (!memchr(s, '\0', size))
		abort();
}

/* What every accepted reading must be. */
static void check_reading(const struct fg_reading *r, const char *text, size_t text_size)
{
	check_field(r->device_id, sizeof(r->device_id));
	check_field(r->device_name, sizeof(r->device_name));
	check_field(r->quantity, sizeof(r->quantity));
	check_field(r->unit, sizeof(r->unit));
	check_field(r->boot_id, sizeof(r->boot_id));
	if (!fg_reading_name_valid(r->device_id) || !fg_reading_name_valid(r->quantity))
		abort();
	if ((unsigned) r->source >= FG_SOURCE__COUNT || (unsigned) r->kind >= FG_VALUE__COUNT)
		abort();
	if (r->kind == FG_VALUE_NUMBER && !isfinite(r->number))
		abort();
	if (r->kind == FG_VALUE_STRING &&
	    (r->text != text || strnlen(text, text_size) >= text_size))
		abort();
	if (r->radio.dr < -1 ||
	    (!r->radio.present && (r->radio.rssi || r->radio.freq_hz || r->radio.sf ||
				   r->radio.bw_hz || r->radio.dr != -1)))
		abort();
}

/* A refusal: a known code, a one-line reason of a known shape, outputs untouched. */
static void check_refusal(int r, const char *err, size_t err_size, size_t len,
			  const unsigned char *out, size_t out_size)
{
	if (r != -EINVAL && r != -E2BIG && r != -ENOMEM)
		abort();
	if (!memchr(err, '\0', err_size) || !err[0])
		abort();
	for (const char *p = err; *p; p++)
		if ((unsigned char) *p < 0x20 || *p == 0x7f)
			abort();
	if (err[0] != '"' && strncmp(err, "not JSON: ", 10) &&
	    strcmp(err, "expected a JSON object") && strncmp(err, "line longer than ", 17))
		abort();
	if (r == -E2BIG && strncmp(err, "\"value\": ", 9) && len <= 64 * 1024)
		abort();
	for (size_t i = 0; i < out_size; i++)
		if (out[i] != 0xa5)
			abort();
}

/* Write r, read it back, write it again: the same line (a fixpoint after one write). */
static void check_round_trip(const struct fg_reading *r)
{
	static char first[96 * 1024], second[96 * 1024], text2[TEXT_SIZE], err[256];
	struct fg_reading back;
	int n, m;

	n = fg_reading_to_json(r, first, sizeof(first));
	if (n <= 0)
		abort();
	if (fg_reading_from_json(first, (size_t) n, &back, text2, sizeof(text2), err, sizeof(err)) <
	    0) {
		/*
		 * fg_reading_to_json's 10 digits round a number just under
		 * DBL_MAX up past it, which no JSON parser reads back.
		 */
		if (r->kind == FG_VALUE_NUMBER && fabs(r->number) > 1.7976931345e308 &&
		    strstr(err, "real number overflow"))
			return;
		abort();
	}
	m = fg_reading_to_json(&back, second, sizeof(second));
	/* "-0" comes back as the integer 0: the only value whose sign JSON integers lose. */
	if (r->kind == FG_VALUE_NUMBER && r->number == 0 && signbit(r->number))
		return;
	if (m != n || memcmp(first, second, (size_t) n) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[TEXT_SIZE], small[SMALL_TEXT];
	struct fg_reading r, r_small;
	char err[256], err_small[256];
	char *line;
	int e, e_small;

	/* Exactly size bytes: ASan sees any read past the line. */
	line = malloc(size ? size : 1);
	if (!line)
		return 0;
	memcpy(line, data, size);

	memset(&r, 0xa5, sizeof(r));
	memset(text, 0xa5, sizeof(text));
	memset(err, 0x55, sizeof(err));
	e = fg_reading_from_json(line, size, &r, text, sizeof(text), err, sizeof(err));
	if (e == 0) {
		if (err[0] != '\0')
			abort();
		check_reading(&r, text, sizeof(text));
		check_round_trip(&r);
	} else {
		check_refusal(e, err, sizeof(err), size, (const unsigned char *) &r, sizeof(r));
		if (text[0] != (char) 0xa5)
			abort();
	}

	/* The same line with a tiny text buffer: only a longer string value changes the answer. */
	memset(&r_small, 0xa5, sizeof(r_small));
	memset(small, 0xa5, sizeof(small));
	e_small = fg_reading_from_json(line, size, &r_small, small, sizeof(small), err_small,
				       sizeof(err_small));
	if (e == 0 && r.kind == FG_VALUE_STRING && strlen(text) >= sizeof(small)) {
		if (e_small != -E2BIG || strncmp(err_small, "\"value\": ", 9))
			abort();
		check_refusal(e_small, err_small, sizeof(err_small), size,
			      (const unsigned char *) &r_small, sizeof(r_small));
	} else if (e_small != e || (e < 0 && strcmp(err, err_small))) {
		abort();
	} else if (e == 0) {
		check_reading(&r_small, small, sizeof(small));
	}
	free(line);
	return 0;
}
