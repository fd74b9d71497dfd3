/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The strict JSON reader of json-read.h; the grammar is RFC 8259's, section by section. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/json-read.h"
#include "util/json.h"

void fg_jr_init(struct fg_jr *jr, const void *p, size_t len)
{
	*jr = (struct fg_jr){ .p = p, .len = p ? len : 0 };
}

/* Mark the reader stuck at its position. */
static int jr_fail(struct fg_jr *jr, int err)
{
	if (!jr->err)
		jr->err = err;
	return jr->err;
}

/* Section 2: whitespace is space, tab, LF and CR only. */
static void skip_ws(struct fg_jr *jr)
{
	while (jr->pos < jr->len) {
		char c = jr->p[jr->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		jr->pos++;
	}
}

enum fg_jr_type fg_jr_peek(struct fg_jr *jr)
{
	if (jr->err)
		return FG_JR_NONE;
	skip_ws(jr);
	if (jr->pos >= jr->len)
		return FG_JR_NONE;
	switch (jr->p[jr->pos]) {
	case '{':
		return FG_JR_OBJECT;
	case '[':
		return FG_JR_ARRAY;
	case '"':
		return FG_JR_STRING;
	case 't':
	case 'f':
		return FG_JR_BOOL;
	case 'n':
		return FG_JR_NULL;
	case '-':
	case '0' ... '9':
		return FG_JR_NUMBER;
	default:
		return FG_JR_NONE;
	}
}

/* Whether the literal word is next; consumed if so. */
static bool take_word(struct fg_jr *jr, const char *w)
{
	size_t n = strlen(w);

	if (jr->len - jr->pos < n || memcmp(jr->p + jr->pos, w, n) != 0)
		return false;
	jr->pos += n;
	return true;
}

static int hex4(const char *p, unsigned *ret)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned) (c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned) (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned) (c - 'A' + 10);
		else
			return -EBADMSG;
	}
	*ret = v;
	return 0;
}

/* Append bytes to the caller's buffer while they fit; the length counts all of them. */
static void put(char *buf, size_t size, size_t *n, const char *s, size_t k)
{
	if (buf && size > 0 && *n < size - 1) {
		size_t room = size - 1 - *n;

		memcpy(buf + *n, s, k < room ? k : room);
	}
	*n += k;
}

static size_t utf8_encode(unsigned cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char) cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char) (0xc0 | cp >> 6);
		o[1] = (char) (0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char) (0xe0 | cp >> 12);
		o[1] = (char) (0x80 | (cp >> 6 & 0x3f));
		o[2] = (char) (0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char) (0xf0 | cp >> 18);
	o[1] = (char) (0x80 | (cp >> 12 & 0x3f));
	o[2] = (char) (0x80 | (cp >> 6 & 0x3f));
	o[3] = (char) (0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Section 7: a string at the cursor (its opening quote), unescaped into buf
 * (NULL: only checked). Returns 0 or -EBADMSG; *ret_len is the full length.
 */
static int read_string(struct fg_jr *jr, char *buf, size_t size, size_t *ret_len)
{
	size_t n = 0;

	if (jr->pos >= jr->len || jr->p[jr->pos] != '"')
		return jr_fail(jr, -EBADMSG);
	jr->pos++;
	for (;;) {
		const unsigned char *c = (const unsigned char *) jr->p + jr->pos;
		size_t avail = jr->len - jr->pos;

		if (avail == 0)
			return jr_fail(jr, -EBADMSG);
		if (*c == '"') {
			jr->pos++;
			break;
		}
		if (*c < 0x20)
			return jr_fail(jr, -EBADMSG);
		if (*c == '\\') {
			char o[4];
			unsigned cp, lo;

			if (avail < 2)
				return jr_fail(jr, -EBADMSG);
			switch (c[1]) {
			case '"':
			case '\\':
			case '/':
				o[0] = (char) c[1];
				break;
			case 'b':
				o[0] = '\b';
				break;
			case 'f':
				o[0] = '\f';
				break;
			case 'n':
				o[0] = '\n';
				break;
			case 'r':
				o[0] = '\r';
				break;
			case 't':
				o[0] = '\t';
				break;
			case 'u':
				if (avail < 6 || hex4((const char *) c + 2, &cp) < 0)
					return jr_fail(jr, -EBADMSG);
				/* A high surrogate must be followed by a low one (RFC 8259 section
				 * 7). */
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return jr_fail(jr, -EBADMSG);
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (avail < 12 || c[6] != '\\' || c[7] != 'u' ||
					    hex4((const char *) c + 8, &lo) < 0 || lo < 0xdc00 ||
					    lo > 0xdfff)
						return jr_fail(jr, -EBADMSG);
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					jr->pos += 6;
				}
				jr->pos += 6;
				put(buf, size, &n, o, utf8_encode(cp, o));
				continue;
			default:
				return jr_fail(jr, -EBADMSG);
			}
			jr->pos += 2;
			put(buf, size, &n, o, 1);
			continue;
		}
		if (*c < 0x80) {
			put(buf, size, &n, (const char *) c, 1);
			jr->pos++;
			continue;
		}
		size_t k = fg_utf8_seq_len(c, avail);

		if (k == 0)
			return jr_fail(jr, -EBADMSG);
		put(buf, size, &n, (const char *) c, k);
		jr->pos += k;
	}
	if (buf && size > 0)
		buf[n < size ? n : size - 1] = '\0';
	if (ret_len)
		*ret_len = n;
	return 0;
}

/*
 * Section 6: the length of the number at the cursor (0: not one), and
 * whether it has a fraction or an exponent. Nothing is consumed.
 */
static size_t scan_number(const struct fg_jr *jr, bool *ret_integer)
{
	const char *p = jr->p + jr->pos;
	size_t n = jr->len - jr->pos, i = 0;
	bool integer = true;

	if (i < n && p[i] == '-')
		i++;
	if (i < n && p[i] == '0')
		i++;
	else if (i < n && p[i] >= '1' && p[i] <= '9')
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
	else
		return 0;
	if (i < n && p[i] == '.') {
		integer = false;
		i++;
		if (!(i < n && p[i] >= '0' && p[i] <= '9'))
			return 0;
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		integer = false;
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		if (!(i < n && p[i] >= '0' && p[i] <= '9'))
			return 0;
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
	}
	*ret_integer = integer;
	return i;
}

static int skip_value(struct fg_jr *jr, unsigned depth);

/* The rest of an array or object after its opening bracket. */
static int skip_container(struct fg_jr *jr, unsigned depth, bool object)
{
	char close = object ? '}' : ']';
	bool first = true;
	int r;

	if (depth >= FG_JR_DEPTH_MAX)
		return jr_fail(jr, -ELOOP);
	jr->pos++;
	for (;;) {
		skip_ws(jr);
		if (jr->pos >= jr->len)
			return jr_fail(jr, -EBADMSG);
		if (jr->p[jr->pos] == close && first) {
			jr->pos++;
			return 0;
		}
		if (!first) {
			if (jr->p[jr->pos] == close) {
				jr->pos++;
				return 0;
			}
			if (jr->p[jr->pos] != ',')
				return jr_fail(jr, -EBADMSG);
			jr->pos++;
			skip_ws(jr);
		}
		first = false;
		if (object) {
			r = read_string(jr, NULL, 0, NULL);
			if (r < 0)
				return r;
			skip_ws(jr);
			if (jr->pos >= jr->len || jr->p[jr->pos] != ':')
				return jr_fail(jr, -EBADMSG);
			jr->pos++;
		}
		r = skip_value(jr, depth + 1);
		if (r < 0)
			return r;
	}
}

static int skip_value(struct fg_jr *jr, unsigned depth)
{
	bool integer;
	size_t n;

	switch (fg_jr_peek(jr)) {
	case FG_JR_OBJECT:
		return skip_container(jr, depth, true);
	case FG_JR_ARRAY:
		return skip_container(jr, depth, false);
	case FG_JR_STRING:
		return read_string(jr, NULL, 0, NULL);
	case FG_JR_NUMBER:
		n = scan_number(jr, &integer);
		if (n == 0)
			return jr_fail(jr, -EBADMSG);
		jr->pos += n;
		return 0;
	case FG_JR_BOOL:
		if (take_word(jr, "true") || take_word(jr, "false"))
			return 0;
		return jr_fail(jr, -EBADMSG);
	case FG_JR_NULL:
		if (take_word(jr, "null"))
			return 0;
		return jr_fail(jr, -EBADMSG);
	default:
		return jr_fail(jr, -EBADMSG);
	}
}

int fg_jr_skip(struct fg_jr *jr, const char **ret_start, size_t *ret_len)
{
	size_t start;
	int r;

	if (jr->err)
		return jr->err;
	skip_ws(jr);
	start = jr->pos;
	r = skip_value(jr, jr->depth);
	if (r < 0)
		return r;
	if (ret_start)
		*ret_start = jr->p + start;
	if (ret_len)
		*ret_len = jr->pos - start;
	return 0;
}

int fg_jr_object_begin(struct fg_jr *jr)
{
	enum fg_jr_type t = fg_jr_peek(jr);

	if (jr->err)
		return jr->err;
	if (t != FG_JR_OBJECT)
		return t == FG_JR_NONE ? jr_fail(jr, -EBADMSG) : -EDOM;
	if (jr->depth >= FG_JR_DEPTH_MAX)
		return jr_fail(jr, -ELOOP);
	jr->pos++;
	jr->depth++;
	jr->members &= ~(UINT64_C(1) << jr->depth);
	return 0;
}

int fg_jr_member(struct fg_jr *jr, char *key, size_t key_size, size_t *ret_key_len)
{
	uint64_t bit = UINT64_C(1) << jr->depth;
	size_t n;
	int r;

	if (jr->err)
		return jr->err;
	if (jr->depth == 0)
		return jr_fail(jr, -EBADMSG);
	skip_ws(jr);
	if (jr->pos >= jr->len)
		return jr_fail(jr, -EBADMSG);
	if (jr->p[jr->pos] == '}') {
		jr->pos++;
		jr->depth--;
		return 0;
	}
	if (jr->members & bit) {
		if (jr->p[jr->pos] != ',')
			return jr_fail(jr, -EBADMSG);
		jr->pos++;
		skip_ws(jr);
	}
	jr->members |= bit;
	r = read_string(jr, key, key_size, &n);
	if (r < 0)
		return r;
	skip_ws(jr);
	if (jr->pos >= jr->len || jr->p[jr->pos] != ':')
		return jr_fail(jr, -EBADMSG);
	jr->pos++;
	skip_ws(jr);
	/* A member must have a value: "a": } is malformed, whatever the caller does next. */
	if (fg_jr_peek(jr) == FG_JR_NONE)
		return jr_fail(jr, -EBADMSG);
	if (ret_key_len)
		*ret_key_len = n;
	if (key_size == 0 || n > key_size - 1)
		return -ENOBUFS;
	return 1;
}

int fg_jr_string(struct fg_jr *jr, char *buf, size_t size, size_t *ret_len)
{
	enum fg_jr_type t = fg_jr_peek(jr);
	size_t n;
	int r;

	if (jr->err)
		return jr->err;
	if (t != FG_JR_STRING)
		return t == FG_JR_NONE ? jr_fail(jr, -EBADMSG) : -EDOM;
	r = read_string(jr, buf, size, &n);
	if (r < 0)
		return r;
	if (ret_len)
		*ret_len = n;
	return size == 0 || n > size - 1 ? -ENOBUFS : 0;
}

int fg_jr_number(struct fg_jr *jr, double *ret)
{
	enum fg_jr_type t = fg_jr_peek(jr);
	char tmp[321];
	bool integer;
	double d;
	size_t n;

	if (jr->err)
		return jr->err;
	if (t != FG_JR_NUMBER)
		return t == FG_JR_NONE ? jr_fail(jr, -EBADMSG) : -EDOM;
	n = scan_number(jr, &integer);
	if (n == 0)
		return jr_fail(jr, -EBADMSG);
	jr->pos += n;
	/* Longer than any double needs (17 significant digits, an exponent): refused, not guessed.
	 */
	if (n >= sizeof(tmp))
		return -ERANGE;
	memcpy(tmp, jr->p + jr->pos - n, n);
	tmp[n] = '\0';
	/* The grammar was checked above, so strtod reads all of it (decimal point: the C locale's).
	 */
	d = strtod(tmp, NULL);
	if (!isfinite(d))
		return -ERANGE;
	*ret = d;
	return 0;
}

int fg_jr_int(struct fg_jr *jr, int64_t min, int64_t max, int64_t *ret)
{
	enum fg_jr_type t = fg_jr_peek(jr);
	const char *p;
	bool integer, neg;
	uint64_t v = 0, lim;
	size_t n, i;

	if (jr->err)
		return jr->err;
	if (t != FG_JR_NUMBER)
		return t == FG_JR_NONE ? jr_fail(jr, -EBADMSG) : -EDOM;
	n = scan_number(jr, &integer);
	if (n == 0)
		return jr_fail(jr, -EBADMSG);
	if (!integer)
		return -EDOM;
	p = jr->p + jr->pos;
	jr->pos += n;
	neg = p[0] == '-';
	lim = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
	for (i = neg ? 1 : 0; i < n; i++) {
		unsigned d = (unsigned) (p[i] - '0');

		if (v > (lim - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	int64_t x = neg ? (v == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) v) : (int64_t) v;

	if (x < min || x > max)
		return -ERANGE;
	*ret = x;
	return 0;
}

int fg_jr_bool(struct fg_jr *jr, bool *ret)
{
	enum fg_jr_type t = fg_jr_peek(jr);

	if (jr->err)
		return jr->err;
	if (t != FG_JR_BOOL)
		return t == FG_JR_NONE ? jr_fail(jr, -EBADMSG) : -EDOM;
	if (take_word(jr, "true"))
		*ret = true;
	else if (take_word(jr, "false"))
		*ret = false;
	else
		return jr_fail(jr, -EBADMSG);
	return 0;
}

int fg_jr_null(struct fg_jr *jr)
{
	enum fg_jr_type t = fg_jr_peek(jr);

	if (jr->err)
		return jr->err;
	if (t != FG_JR_NULL)
		return t == FG_JR_NONE ? jr_fail(jr, -EBADMSG) : -EDOM;
	if (!take_word(jr, "null"))
		return jr_fail(jr, -EBADMSG);
	return 0;
}

int fg_jr_end(struct fg_jr *jr)
{
	if (jr->err)
		return jr->err;
	skip_ws(jr);
	if (jr->depth != 0 || jr->pos != jr->len)
		return jr_fail(jr, -EBADMSG);
	return 0;
}
