/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* For the unit suites that check the JSON our code writes (check_format, check_homeassistant). */

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/*
 * A strict RFC 8259 validator, written here independently of util/json.c so
 * the payloads are checked by something other than the code that wrote them:
 * grammar, escapes, no raw control bytes in strings, well-formed UTF-8
 * everywhere, no duplicate keys in an object, nothing after the value.
 */
struct jv {
	const unsigned char *p;
	const unsigned char *end;
	int depth;
};

static bool jv_value(struct jv *v);

static void jv_ws(struct jv *v)
{
	while (v->p < v->end && (*v->p == ' ' || *v->p == '\t' || *v->p == '\n' || *v->p == '\r'))
		v->p++;
}

static bool jv_lit(struct jv *v, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t) (v->end - v->p) < n || memcmp(v->p, lit, n) != 0)
		return false;
	v->p += n;
	return true;
}

static bool jv_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* One well-formed UTF-8 sequence of 2..4 bytes (RFC 3629 table), advancing past it. */
static bool jv_utf8(struct jv *v)
{
	const unsigned char *p = v->p;
	size_t left = (size_t) (v->end - p), n;
	unsigned cp;

	if (p[0] >= 0xc0 && p[0] < 0xe0) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] < 0xf0) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] < 0xf8) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return false;
	}
	if (left < n)
		return false;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	v->p += n;
	return true;
}

static bool jv_string(struct jv *v)
{
	if (v->p >= v->end || *v->p != '"')
		return false;
	v->p++;
	while (v->p < v->end) {
		unsigned char c = *v->p;

		if (c == '"') {
			v->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (v->end - v->p < 2)
				return false;
			c = v->p[1];
			if (c == 'u') {
				if (v->end - v->p < 6)
					return false;
				for (int i = 2; i < 6; i++)
					if (!jv_hex(v->p[i]))
						return false;
				v->p += 6;
			} else if (strchr("\"\\/bfnrt", c) && c) {
				v->p += 2;
			} else {
				return false;
			}
		} else if (c >= 0x80) {
			if (!jv_utf8(v))
				return false;
		} else {
			v->p++;
		}
	}
	return false;
}

static bool jv_digits(struct jv *v)
{
	const unsigned char *s = v->p;

	while (v->p < v->end && *v->p >= '0' && *v->p <= '9')
		v->p++;
	return v->p > s;
}

static bool jv_number(struct jv *v)
{
	if (v->p < v->end && *v->p == '-')
		v->p++;
	if (v->p < v->end && *v->p == '0')
		v->p++;
	else if (v->p >= v->end || *v->p < '1' || *v->p > '9' || !jv_digits(v))
		return false;
	if (v->p < v->end && *v->p == '.') {
		v->p++;
		if (!jv_digits(v))
			return false;
	}
	if (v->p < v->end && (*v->p == 'e' || *v->p == 'E')) {
		v->p++;
		if (v->p < v->end && (*v->p == '+' || *v->p == '-'))
			v->p++;
		if (!jv_digits(v))
			return false;
	}
	return true;
}

static bool jv_object(struct jv *v)
{
	const unsigned char *keys[64];
	size_t lens[64], nkeys = 0;

	v->p++;
	jv_ws(v);
	if (v->p < v->end && *v->p == '}') {
		v->p++;
		return true;
	}
	for (;;) {
		const unsigned char *k;

		jv_ws(v);
		k = v->p;
		if (!jv_string(v))
			return false;
		/* Same spelling means same key here: the writer never escapes needlessly. */
		for (size_t i = 0; i < nkeys; i++)
			if (lens[i] == (size_t) (v->p - k) && memcmp(keys[i], k, lens[i]) == 0)
				return false;
		if (nkeys < 64) {
			keys[nkeys] = k;
			lens[nkeys++] = (size_t) (v->p - k);
		}
		jv_ws(v);
		if (v->p >= v->end || *v->p != ':')
			return false;
		v->p++;
		if (!jv_value(v))
			return false;
		jv_ws(v);
		if (v->p < v->end && *v->p == ',') {
			v->p++;
			continue;
		}
		if (v->p < v->end && *v->p == '}') {
			v->p++;
			return true;
		}
		return false;
	}
}

static bool jv_array(struct jv *v)
{
	v->p++;
	jv_ws(v);
	if (v->p < v->end && *v->p == ']') {
		v->p++;
		return true;
	}
	for (;;) {
		if (!jv_value(v))
			return false;
		jv_ws(v);
		if (v->p < v->end && *v->p == ',') {
			v->p++;
			continue;
		}
		if (v->p < v->end && *v->p == ']') {
			v->p++;
			return true;
		}
		return false;
	}
}

static bool jv_value(struct jv *v)
{
	bool ok;

	jv_ws(v);
	if (v->p >= v->end || ++v->depth > 32)
		return false;
	switch (*v->p) {
	case '{':
		ok = jv_object(v);
		break;
	case '[':
		ok = jv_array(v);
		break;
	case '"':
		ok = jv_string(v);
		break;
	case 't':
		ok = jv_lit(v, "true");
		break;
	case 'f':
		ok = jv_lit(v, "false");
		break;
	case 'n':
		ok = jv_lit(v, "null");
		break;
	default:
		ok = jv_number(v);
		break;
	}
	v->depth--;
	return ok;
}

/* Whether s[0..len) is exactly one valid JSON text. */
static bool json_valid(const char *s, size_t len)
{
	struct jv v = { .p = (const unsigned char *) s, .end = (const unsigned char *) s + len };

	if (!jv_value(&v))
		return false;
	jv_ws(&v);
	return v.p == v.end;
}
