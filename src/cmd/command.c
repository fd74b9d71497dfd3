/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Command bodies from hostile JSON (util/json-read.h), the queue's binary
 * record of a command, and the outcome messages. The field names and
 * priorities follow The Things Stack's MQTT downlink API (f_port,
 * frm_payload as "data", confirmed, priority LOWEST..HIGHEST), so a sender
 * written for it needs few changes.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd/command.h"
#include "util/base64.h"
#include "util/json-read.h"
#include "util/json.h"

static const char *const kind_names[FG_CMD_KIND__COUNT] = {
	[FG_CMD_DOWN_PUSH] = "down/push",
	[FG_CMD_DOWN_REPLACE] = "down/replace",
	[FG_CMD_GPIO] = "gpio",
};

static const char *const outcome_names[FG_CMD_OUTCOME__COUNT] = {
	[FG_CMD_QUEUED] = "queued", [FG_CMD_SENT] = "sent",	  [FG_CMD_ACK] = "ack",
	[FG_CMD_NACK] = "nack",	    [FG_CMD_EXPIRED] = "expired", [FG_CMD_FAILED] = "failed",
};

static const char *const reason_names[FG_CMD_REASON__COUNT] = {
	[FG_CMD_R_NONE] = "",
	[FG_CMD_R_MALFORMED] = "malformed",
	[FG_CMD_R_TOO_LARGE] = "too-large",
	[FG_CMD_R_UNKNOWN_COMMAND] = "unknown-command",
	[FG_CMD_R_BAD_ID] = "bad-id",
	[FG_CMD_R_BAD_FIELD] = "bad-field",
	[FG_CMD_R_UNKNOWN_DEVICE] = "unknown-device",
	[FG_CMD_R_BAD_F_PORT] = "bad-f-port",
	[FG_CMD_R_BAD_DATA] = "bad-data",
	[FG_CMD_R_CANNOT_ENCODE] = "cannot-encode",
	[FG_CMD_R_TOO_LONG] = "payload-too-long",
	[FG_CMD_R_QUEUE_FULL] = "queue-full",
	[FG_CMD_R_DAILY_BUDGET] = "daily-budget",
	[FG_CMD_R_REPLACED] = "replaced",
	[FG_CMD_R_NOT_JOINED] = "not-joined",
	[FG_CMD_R_NO_ROUTE] = "no-route",
	[FG_CMD_R_RADIO] = "radio",
	[FG_CMD_R_GPIO_UNDECLARED] = "gpio-undeclared",
	[FG_CMD_R_GPIO_FAILED] = "gpio-failed",
	[FG_CMD_R_STORAGE] = "storage",
	[FG_CMD_R_REJOINED] = "rejoined",
};

/* The Things Stack's names (ttnpb.TxSchedulePriority), lowest first. */
static const char *const priority_names[FG_CMD_PRIORITY_MAX + 1] = {
	"LOWEST", "LOW", "BELOW_NORMAL", "NORMAL", "ABOVE_NORMAL", "HIGH", "HIGHEST",
};

const char *fg_cmd_kind_to_string(enum fg_cmd_kind k)
{
	return (unsigned) k < FG_CMD_KIND__COUNT ? kind_names[k] : "unknown";
}

const char *fg_cmd_outcome_to_string(enum fg_cmd_outcome o)
{
	return (unsigned) o < FG_CMD_OUTCOME__COUNT ? outcome_names[o] : "unknown";
}

const char *fg_cmd_reason_to_string(enum fg_cmd_reason r)
{
	return (unsigned) r < FG_CMD_REASON__COUNT ? reason_names[r] : "unknown";
}

int fg_cmd_kind_from_topic(const char *prefix, const char *topic, enum fg_cmd_kind *ret)
{
	size_t n;

	if (!prefix || !topic || !ret)
		return -EINVAL;
	n = strlen(prefix);
	if (n == 0 || strncmp(topic, prefix, n) != 0)
		return -EINVAL;
	for (int k = 0; k < FG_CMD_KIND__COUNT; k++)
		if (strcmp(topic + n, kind_names[k]) == 0) {
			*ret = (enum fg_cmd_kind) k;
			return 0;
		}
	return -ENOENT;
}

/* ------------------------------------------------------------------ parsing */

struct parse {
	struct fg_jr jr;
	uint64_t now_ms;
	char *detail;
	size_t detail_size;
};

/* Say why into detail and return the reason. */
__attribute__((format(printf, 3, 4))) static enum fg_cmd_reason
refuse(struct parse *ps, enum fg_cmd_reason reason, const char *fmt, ...)
{
	va_list ap;

	if (ps->detail && ps->detail_size > 0) {
		va_start(ap, fmt);
		(void) vsnprintf(ps->detail, ps->detail_size, fmt, ap);
		va_end(ap);
	}
	return reason;
}

/* A reader error: malformed text, or the type/range the caller names. */
static enum fg_cmd_reason jr_refuse(struct parse *ps, int r, enum fg_cmd_reason reason,
				    const char *field, const char *expected)
{
	if (r == -EBADMSG)
		return refuse(ps, FG_CMD_R_MALFORMED, "not valid JSON at byte %zu", ps->jr.pos);
	if (r == -ELOOP)
		return refuse(ps, FG_CMD_R_MALFORMED, "nested deeper than %d at byte %zu",
			      FG_JR_DEPTH_MAX, ps->jr.pos);
	return refuse(ps, reason, "%s: expected %s", field, expected);
}

/* Whether s (n bytes) is printable ASCII without '"' and '\\'. */
static bool plain_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

/* A string field of 1..size-1 bytes without control characters (NUL included). */
static enum fg_cmd_reason read_text(struct parse *ps, const char *field, char *buf, size_t size,
				    bool ascii, enum fg_cmd_reason reason)
{
	size_t n = 0;
	int r = fg_jr_string(&ps->jr, buf, size, &n);

	if (r == -ENOBUFS) {
		buf[0] = '\0';
		return refuse(ps, reason, "%s: longer than %zu bytes", field, size - 1);
	}
	if (r < 0)
		return jr_refuse(ps, r, reason, field, "a string");
	if (n == 0)
		return refuse(ps, reason, "%s: empty", field);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char) buf[i] < 0x20 || buf[i] == 0x7f) {
			buf[0] = '\0';
			return refuse(ps, reason, "%s: control character", field);
		}
	if (ascii && !plain_ascii(buf, n)) {
		buf[0] = '\0';
		return refuse(ps, reason, "%s: only printable ASCII without '\"' or '\\'", field);
	}
	return FG_CMD_R_NONE;
}

/* An integer field, min..max. */
static enum fg_cmd_reason read_int(struct parse *ps, const char *field, int64_t min, int64_t max,
				   int64_t *ret, enum fg_cmd_reason reason)
{
	int r = fg_jr_int(&ps->jr, min, max, ret);

	if (r == -ERANGE || r == -EDOM) {
		char want[64];

		(void) snprintf(want, sizeof(want), "an integer %" PRId64 "..%" PRId64, min, max);
		return refuse(ps, reason, "%s: expected %s", field, want);
	}
	if (r < 0)
		return jr_refuse(ps, r, reason, field, "an integer");
	return FG_CMD_R_NONE;
}

/*
 * Pass one: the whole text must be one JSON object, well formed, with
 * nothing after it; its "id" is read on the way, so that any failure later
 * can carry it. Returns the reason, with *ret_id_reason set when the id
 * itself is missing or bad (the text may still be fine).
 */
static enum fg_cmd_reason scan_id(struct parse *ps, const void *json, size_t len, char *id,
				  enum fg_cmd_reason *ret_id_reason, char *id_detail,
				  size_t id_detail_size)
{
	enum fg_cmd_reason idr = FG_CMD_R_NONE;
	unsigned ids = 0;
	char key[16];
	size_t klen;
	int r;

	fg_jr_init(&ps->jr, json, len);
	r = fg_jr_object_begin(&ps->jr);
	if (r == -EDOM)
		return refuse(ps, FG_CMD_R_MALFORMED, "not a JSON object");
	if (r < 0)
		return jr_refuse(ps, r, FG_CMD_R_MALFORMED, "", "");
	while ((r = fg_jr_member(&ps->jr, key, sizeof(key), &klen)) != 0) {
		if (r == 1 && klen == 2 && memcmp(key, "id", 2) == 0) {
			struct parse sub = *ps;
			char tmp[FG_CMD_ID_MAX + 1];

			sub.detail = id_detail;
			sub.detail_size = id_detail_size;
			ids++;
			memset(tmp, 0, sizeof(tmp));
			enum fg_cmd_reason e;

			if (fg_jr_peek(&sub.jr) != FG_JR_STRING) {
				/* Not a string: checked by the skip, refused as an id. */
				(void) snprintf(id_detail, id_detail_size, "id: expected a string");
				e = FG_CMD_R_BAD_ID;
				r = fg_jr_skip(&sub.jr, NULL, NULL);
				ps->jr = sub.jr;
				if (r < 0)
					return jr_refuse(ps, r, FG_CMD_R_MALFORMED, "", "");
			} else {
				e = read_text(&sub, "id", tmp, sizeof(tmp), true, FG_CMD_R_BAD_ID);
			}
			ps->jr = sub.jr;
			if (e == FG_CMD_R_MALFORMED)
				return refuse(ps, e, "%s", id_detail);
			if (ids == 1) {
				idr = e;
				if (e == FG_CMD_R_NONE)
					memcpy(id, tmp, sizeof(tmp));
			}
			continue;
		}
		if (r < 0 && r != -ENOBUFS)
			return jr_refuse(ps, r, FG_CMD_R_MALFORMED, "", "");
		r = fg_jr_skip(&ps->jr, NULL, NULL);
		if (r < 0)
			return jr_refuse(ps, r, FG_CMD_R_MALFORMED, "", "");
	}
	r = fg_jr_end(&ps->jr);
	if (r < 0)
		return refuse(ps, FG_CMD_R_MALFORMED, "bytes after the object at byte %zu",
			      ps->jr.pos);
	if (ids == 0) {
		idr = FG_CMD_R_BAD_ID;
		(void) snprintf(id_detail, id_detail_size, "id: missing");
	} else if (ids > 1) {
		/* Two ids: which one the sender meant is unknown, so neither is carried. */
		id[0] = '\0';
		idr = FG_CMD_R_BAD_ID;
		(void) snprintf(id_detail, id_detail_size, "id: given twice");
	}
	*ret_id_reason = idr;
	return FG_CMD_R_NONE;
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned) (y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t) doe - 719468;
}

static bool digits(const char *s, size_t n, unsigned *ret)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned) (s[i] - '0');
	}
	*ret = v;
	return true;
}

/*
 * RFC 3339 section 5.6 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM),
 * 'T' and 'Z' in either case; a leap second (:60) counts as the next
 * second. Returns 0 and wall ms (before 1970: -ERANGE), or -EINVAL.
 */
static int parse_rfc3339(const char *s, size_t n, int64_t *ret_ms)
{
	static const unsigned mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y, mo, d, h, mi, sec, oh = 0, om = 0, ms = 0;
	size_t i = 19;
	int sign = 0;
	int64_t t;

	if (n < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -EINVAL;
	if (s[i] == '.') {
		size_t k = 0;

		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (k < 3)
				ms = ms * 10 + (unsigned) (s[i] - '0');
			k++;
			i++;
		}
		if (k == 0)
			return -EINVAL;
		for (; k < 3; k++)
			ms *= 10;
	}
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		sign = s[i] == '+' ? 1 : -1;
		if (n - i < 6 || !digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
		    !digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
			return -EINVAL;
		i += 6;
	} else {
		return -EINVAL;
	}
	if (i != n)
		return -EINVAL;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= sign * (int64_t) (oh * 3600 + om * 60);
	if (t < 0)
		return -ERANGE;
	*ret_ms = t * 1000 + ms;
	return 0;
}

#define EXPIRES_WANTED                                                                             \
	"expires: expected an RFC 3339 time (2026-12-03T16:00:00Z) or seconds from now"
#define EXPIRES_MAX_S (10 * 366 * 86400.0) /* seconds from now: ten years at most */

static enum fg_cmd_reason read_expires(struct parse *ps, uint64_t *ret)
{
	char text[64];
	size_t n;
	double s;
	int64_t ms;
	int r;

	switch (fg_jr_peek(&ps->jr)) {
	case FG_JR_NULL:
		(void) fg_jr_null(&ps->jr);
		*ret = 0;
		return FG_CMD_R_NONE;
	case FG_JR_NUMBER:
		r = fg_jr_number(&ps->jr, &s);
		if (r < 0 && r != -ERANGE)
			return jr_refuse(ps, r, FG_CMD_R_BAD_FIELD, "expires", "a number");
		if (r < 0 || !(s > 0) || s > EXPIRES_MAX_S)
			return refuse(ps, FG_CMD_R_BAD_FIELD,
				      "expires: seconds from now must be > 0 and at most %.0f",
				      EXPIRES_MAX_S);
		ms = (int64_t) ceil(s * 1000);
		*ret = ps->now_ms + (uint64_t) ms;
		return FG_CMD_R_NONE;
	case FG_JR_STRING:
		r = fg_jr_string(&ps->jr, text, sizeof(text), &n);
		if (r < 0 && r != -ENOBUFS)
			return jr_refuse(ps, r, FG_CMD_R_BAD_FIELD, "expires", "a string");
		if (r == 0 && memchr(text, '\0', n) == NULL)
			r = parse_rfc3339(text, n, &ms);
		else
			r = -EINVAL;
		if (r == -ERANGE)
			ms = 1; /* before 1970: long expired; 0 would mean never */
		else if (r < 0)
			return refuse(ps, FG_CMD_R_BAD_FIELD, EXPIRES_WANTED);
		/* Already past is accepted: the queue gives it its "expired" outcome. */
		*ret = ms > 0 ? (uint64_t) ms : 1;
		return FG_CMD_R_NONE;
	default:
		if (fg_jr_peek(&ps->jr) == FG_JR_NONE)
			return jr_refuse(ps, -EBADMSG, FG_CMD_R_BAD_FIELD, "", "");
		return refuse(ps, FG_CMD_R_BAD_FIELD, EXPIRES_WANTED);
	}
}

static enum fg_cmd_reason read_priority(struct parse *ps, int *ret)
{
	char name[16];
	int64_t v;
	int r;

	if (fg_jr_peek(&ps->jr) == FG_JR_NUMBER) {
		r = fg_jr_int(&ps->jr, 0, FG_CMD_PRIORITY_MAX, &v);
		if (r == 0) {
			*ret = (int) v;
			return FG_CMD_R_NONE;
		}
	} else {
		r = fg_jr_string(&ps->jr, name, sizeof(name), NULL);
		if (r == 0)
			for (int p = 0; p <= FG_CMD_PRIORITY_MAX; p++)
				if (strcmp(name, priority_names[p]) == 0) {
					*ret = p;
					return FG_CMD_R_NONE;
				}
	}
	if (r == -EBADMSG || r == -ELOOP)
		return jr_refuse(ps, r, FG_CMD_R_BAD_FIELD, "priority", "");
	return refuse(ps, FG_CMD_R_BAD_FIELD,
		      "priority: expected 0..6 or LOWEST, LOW, BELOW_NORMAL, NORMAL, "
		      "ABOVE_NORMAL, HIGH, HIGHEST");
}

static int unhex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "data" (hex) or "data_base64" into c->data. */
static enum fg_cmd_reason read_data(struct parse *ps, bool base64, struct fg_command *c)
{
	const char *field = base64 ? "data_base64" : "data";
	/* Room for more than the largest payload, so "too long" is told apart from "bad". */
	char text[2 * FG_LW_FRM_MAX + 3];
	size_t n;
	int r = fg_jr_string(&ps->jr, text, sizeof(text), &n);

	if (r == -ENOBUFS)
		return refuse(ps, FG_CMD_R_TOO_LONG, "%s: more than %d bytes", field,
			      FG_LW_FRM_MAX);
	if (r < 0)
		return jr_refuse(ps, r, FG_CMD_R_BAD_DATA, field, "a string");
	if (base64) {
		uint8_t tmp[FG_LW_FRM_MAX + 3];

		r = fg_base64_decode(text, n, tmp, sizeof(tmp), &c->data_len);
		if (r == -ENOBUFS || (r == 0 && c->data_len > FG_LW_FRM_MAX))
			return refuse(ps, FG_CMD_R_TOO_LONG, "%s: more than %d bytes", field,
				      FG_LW_FRM_MAX);
		if (r < 0)
			return refuse(ps, FG_CMD_R_BAD_DATA, "%s: not valid base64", field);
		memcpy(c->data, tmp, c->data_len);
		return FG_CMD_R_NONE;
	}
	if (n % 2)
		return refuse(ps, FG_CMD_R_BAD_DATA, "data: odd number of hex digits");
	if (n / 2 > FG_LW_FRM_MAX)
		return refuse(ps, FG_CMD_R_TOO_LONG, "data: more than %d bytes", FG_LW_FRM_MAX);
	for (size_t i = 0; i < n; i += 2) {
		int hi = unhex_digit(text[i]), lo = unhex_digit(text[i + 1]);

		if (hi < 0 || lo < 0)
			return refuse(ps, FG_CMD_R_BAD_DATA, "data: not hex at character %zu",
				      hi < 0 ? i + 1 : i + 2);
		c->data[i / 2] = (uint8_t) (hi << 4 | lo);
	}
	c->data_len = n / 2;
	return FG_CMD_R_NONE;
}

/* Keys of each kind, as bits, so that a key given twice is noticed. */
enum {
	K_ID = 1 << 0,
	K_DEVICE = 1 << 1,
	K_F_PORT = 1 << 2,
	K_DATA = 1 << 3,
	K_DATA_BASE64 = 1 << 4,
	K_OBJECT = 1 << 5,
	K_CONFIRMED = 1 << 6,
	K_PRIORITY = 1 << 7,
	K_EXPIRES = 1 << 8,
	K_GPIO = 1 << 9,
	K_CHIP = 1 << 10,
	K_LINE = 1 << 11,
	K_VALUE = 1 << 12,
	K_PULSE_MS = 1 << 13,
	K_NAME = 1 << 14,
};

struct key {
	const char *name;
	unsigned bit;
};

static const struct key down_keys[] = {
	{ "id", K_ID },
	{ "device", K_DEVICE },
	{ "f_port", K_F_PORT },
	{ "data", K_DATA },
	{ "data_base64", K_DATA_BASE64 },
	{ "object", K_OBJECT },
	{ "confirmed", K_CONFIRMED },
	{ "priority", K_PRIORITY },
	{ "expires", K_EXPIRES },
}, gpio_keys[] = {
	{ "id", K_ID },
	{ "gpio", K_GPIO },
}, line_keys[] = {
	{ "chip", K_CHIP }, { "line", K_LINE },	  { "value", K_VALUE },
	{ "pulse_ms", K_PULSE_MS }, { "name", K_NAME },
};

/* The bit of key in one of the tables above, 0 if it has none. */
#define KEY_BIT(table, key) key_bit((table), sizeof(table) / sizeof((table)[0]), (key))

static unsigned key_bit(const struct key *t, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, key) == 0)
			return t[i].bit;
	return 0;
}

/*
 * The next member of the current object, checked against the kind's keys:
 * FG_CMD_R_NONE with *ret_bit (0 at the object's end), or a refusal.
 */
static enum fg_cmd_reason next_key(struct parse *ps, const char *where, unsigned allowed_bits,
				   unsigned *seen, char *key, size_t key_size, unsigned *ret_bit,
				   bool line)
{
	size_t n;
	int r = fg_jr_member(&ps->jr, key, key_size, &n);
	unsigned bit;

	if (r == 0) {
		*ret_bit = 0;
		return FG_CMD_R_NONE;
	}
	if (r == -ENOBUFS)
		return refuse(ps, FG_CMD_R_BAD_FIELD, "%sunknown field", where);
	if (r < 0)
		return jr_refuse(ps, r, FG_CMD_R_MALFORMED, "", "");
	bit = memchr(key, '\0', n)    ? 0
	      : line		      ? KEY_BIT(line_keys, key)
	      : allowed_bits & K_GPIO ? KEY_BIT(gpio_keys, key)
				      : KEY_BIT(down_keys, key);
	if (!bit || !(bit & allowed_bits)) {
		/* The key came from the sender: only its printable part goes into the detail. */
		if (!plain_ascii(key, n))
			return refuse(ps, FG_CMD_R_BAD_FIELD, "%sunknown field", where);
		return refuse(ps, FG_CMD_R_BAD_FIELD, "%sunknown field '%s'", where, key);
	}
	if (*seen & bit)
		return refuse(ps, FG_CMD_R_BAD_FIELD, "%s%s: given twice", where, key);
	*seen |= bit;
	*ret_bit = bit;
	return FG_CMD_R_NONE;
}

static enum fg_cmd_reason parse_down(struct parse *ps, struct fg_command *c)
{
	const unsigned allowed = K_ID | K_DEVICE | K_F_PORT | K_DATA | K_DATA_BASE64 | K_OBJECT |
				 K_CONFIRMED | K_PRIORITY | K_EXPIRES;
	unsigned seen = 0, bit;
	enum fg_cmd_reason e;
	char key[16];
	int64_t v;
	int r;

	(void) fg_jr_object_begin(&ps->jr);
	for (;;) {
		e = next_key(ps, "", allowed, &seen, key, sizeof(key), &bit, false);
		if (e != FG_CMD_R_NONE)
			return e;
		if (!bit)
			break;
		switch (bit) {
		case K_ID:
			r = fg_jr_skip(&ps->jr, NULL, NULL); /* read in pass one */
			e = r < 0 ? jr_refuse(ps, r, FG_CMD_R_MALFORMED, "", "") : FG_CMD_R_NONE;
			break;
		case K_DEVICE:
			e = read_text(ps, "device", c->device, sizeof(c->device), false,
				      FG_CMD_R_BAD_FIELD);
			break;
		case K_F_PORT:
			e = read_int(ps, "f_port", INT64_MIN, INT64_MAX, &v, FG_CMD_R_BAD_F_PORT);
			if (e == FG_CMD_R_NONE && v == 0)
				e = refuse(ps, FG_CMD_R_BAD_F_PORT,
					   "f_port: 0 is for MAC commands");
			else if (e == FG_CMD_R_NONE && (v < 1 || v > 223))
				e = refuse(ps, FG_CMD_R_BAD_F_PORT,
					   "f_port: expected an integer 1..223");
			else if (e == FG_CMD_R_BAD_F_PORT)
				(void) refuse(ps, e, "f_port: expected an integer 1..223");
			c->f_port = e == FG_CMD_R_NONE ? (int) v : 0;
			break;
		case K_DATA:
		case K_DATA_BASE64:
		case K_OBJECT:
			if (seen & (allowed & (K_DATA | K_DATA_BASE64 | K_OBJECT) & ~bit))
				return refuse(ps, FG_CMD_R_BAD_DATA,
					      "only one of data, data_base64 and object");
			if (bit != K_OBJECT) {
				e = read_data(ps, bit == K_DATA_BASE64, c);
				break;
			}
			if (fg_jr_peek(&ps->jr) != FG_JR_OBJECT) {
				r = fg_jr_peek(&ps->jr) == FG_JR_NONE ? -EBADMSG : -EDOM;
				e = jr_refuse(ps, r, FG_CMD_R_BAD_DATA, "object", "an object");
				break;
			}
			r = fg_jr_skip(&ps->jr, &c->object, &c->object_len);
			e = r < 0 ? jr_refuse(ps, r, FG_CMD_R_MALFORMED, "", "") : FG_CMD_R_NONE;
			break;
		case K_CONFIRMED:
			r = fg_jr_bool(&ps->jr, &c->confirmed);
			e = r < 0 ? jr_refuse(ps, r, FG_CMD_R_BAD_FIELD, "confirmed",
					      "true or false")
				  : FG_CMD_R_NONE;
			break;
		case K_PRIORITY:
			e = read_priority(ps, &c->priority);
			break;
		case K_EXPIRES:
			e = read_expires(ps, &c->expires_ms);
			break;
		}
		if (e != FG_CMD_R_NONE)
			return e;
	}
	if (!(seen & K_DEVICE))
		return refuse(ps, FG_CMD_R_BAD_FIELD, "device: missing");
	if (!(seen & K_F_PORT))
		return refuse(ps, FG_CMD_R_BAD_F_PORT, "f_port: missing");
	if (!(seen & (K_DATA | K_DATA_BASE64 | K_OBJECT)))
		return refuse(ps, FG_CMD_R_BAD_DATA,
			      "one of data, data_base64 or object is needed");
	return FG_CMD_R_NONE;
}

static enum fg_cmd_reason parse_line(struct parse *ps, struct fg_command *c)
{
	const unsigned allowed = K_CHIP | K_LINE | K_VALUE | K_PULSE_MS | K_NAME;
	unsigned seen = 0, bit;
	enum fg_cmd_reason e;
	char key[16];
	int64_t v;
	int r;

	r = fg_jr_object_begin(&ps->jr);
	if (r < 0)
		return jr_refuse(ps, r, FG_CMD_R_BAD_FIELD, "gpio", "an object");
	for (;;) {
		e = next_key(ps, "gpio: ", allowed, &seen, key, sizeof(key), &bit, true);
		if (e != FG_CMD_R_NONE)
			return e;
		if (!bit)
			break;
		switch (bit) {
		case K_CHIP:
			e = read_text(ps, "gpio: chip", c->chip, sizeof(c->chip), true,
				      FG_CMD_R_BAD_FIELD);
			break;
		case K_NAME:
			e = read_text(ps, "gpio: name", c->gpio_name, sizeof(c->gpio_name), false,
				      FG_CMD_R_BAD_FIELD);
			break;
		case K_LINE:
			e = read_int(ps, "gpio: line", 0, UINT16_MAX, &v, FG_CMD_R_BAD_FIELD);
			c->line = e == FG_CMD_R_NONE ? (unsigned) v : 0;
			break;
		case K_VALUE:
			e = read_int(ps, "gpio: value", 0, 1, &v, FG_CMD_R_BAD_FIELD);
			c->value = e == FG_CMD_R_NONE ? (int) v : 0;
			break;
		case K_PULSE_MS:
			e = read_int(ps, "gpio: pulse_ms", 1, UINT32_MAX, &v, FG_CMD_R_BAD_FIELD);
			c->pulse_ms = e == FG_CMD_R_NONE ? (uint32_t) v : 0;
			break;
		}
		if (e != FG_CMD_R_NONE)
			return e;
	}
	if ((seen & K_VALUE) && (seen & K_PULSE_MS))
		return refuse(ps, FG_CMD_R_BAD_FIELD, "gpio: value or pulse_ms, not both");
	if (!(seen & (K_VALUE | K_PULSE_MS)))
		return refuse(ps, FG_CMD_R_BAD_FIELD, "gpio: value or pulse_ms is needed");
	if ((seen & K_NAME) && (seen & (K_CHIP | K_LINE)))
		return refuse(ps, FG_CMD_R_BAD_FIELD, "gpio: name or chip and line, not both");
	if (!(seen & K_NAME) && (seen & (K_CHIP | K_LINE)) != (K_CHIP | K_LINE))
		return refuse(ps, FG_CMD_R_BAD_FIELD, "gpio: %s missing",
			      seen & K_CHIP   ? "line"
			      : seen & K_LINE ? "chip"
					      : "chip and line");
	if (seen & K_PULSE_MS)
		c->value = -1;
	return FG_CMD_R_NONE;
}

static enum fg_cmd_reason parse_gpio(struct parse *ps, struct fg_command *c)
{
	unsigned seen = 0, bit;
	enum fg_cmd_reason e;
	char key[16];
	int r;

	(void) fg_jr_object_begin(&ps->jr);
	for (;;) {
		e = next_key(ps, "", K_ID | K_GPIO, &seen, key, sizeof(key), &bit, false);
		if (e != FG_CMD_R_NONE)
			return e;
		if (!bit)
			break;
		if (bit == K_ID) {
			r = fg_jr_skip(&ps->jr, NULL, NULL);
			if (r < 0)
				return jr_refuse(ps, r, FG_CMD_R_MALFORMED, "", "");
			continue;
		}
		e = parse_line(ps, c);
		if (e != FG_CMD_R_NONE)
			return e;
	}
	if (!(seen & K_GPIO))
		return refuse(ps, FG_CMD_R_BAD_FIELD, "gpio: missing");
	return FG_CMD_R_NONE;
}

enum fg_cmd_reason fg_command_parse(enum fg_cmd_kind kind, const void *json, size_t len,
				    uint64_t now_ms, struct fg_command *ret, char *detail,
				    size_t detail_size)
{
	struct parse ps = { .now_ms = now_ms, .detail = detail, .detail_size = detail_size };
	char id_detail[96] = "";
	enum fg_cmd_reason e, idr = FG_CMD_R_NONE;
	struct fg_command c;

	if (detail && detail_size > 0)
		detail[0] = '\0';
	if (!ret || (!json && len > 0))
		return refuse(&ps, FG_CMD_R_MALFORMED, "no command");
	memset(ret, 0, sizeof(*ret));
	if ((unsigned) kind >= FG_CMD_KIND__COUNT)
		return refuse(&ps, FG_CMD_R_UNKNOWN_COMMAND, "unknown kind");
	memset(&c, 0, sizeof(c));
	c.kind = kind;
	c.priority = FG_CMD_PRIORITY_DEFAULT;

	e = scan_id(&ps, json, len, ret->id, &idr, id_detail, sizeof(id_detail));
	if (e != FG_CMD_R_NONE)
		return e;
	if (idr != FG_CMD_R_NONE)
		return refuse(&ps, idr, "%s", id_detail);
	memcpy(c.id, ret->id, sizeof(c.id));

	/* Pass two: the text is known to be one well-formed object. */
	fg_jr_init(&ps.jr, json, len);
	e = kind == FG_CMD_GPIO ? parse_gpio(&ps, &c) : parse_down(&ps, &c);
	if (e != FG_CMD_R_NONE)
		return e;
	*ret = c;
	return FG_CMD_R_NONE;
}

/* ---------------------------------------------------------- queue records */

/*
 * Version 1, all integers big endian:
 *   u8 version, u8 kind, str id, str device_name, u64 accepted_ms, u32 tries,
 *   u32 f_cnt_down, u8 flags (1 confirmed, 2 awaiting_ack), u8 priority,
 *   u64 expires_ms, u16-str response_topic, u16-str correlation, then by kind:
 *   downlinks: str device, u8 f_port, str data;
 *   gpio:      str chip, u32 line, u8 value (0xff: -1), u32 pulse_ms, str gpio_name.
 * "str" is a u8 length and the bytes. Only one kind's fields are kept, which
 * keeps any record within FG_COMMAND_PACK_MAX.
 */
#define PACK_VERSION 1

struct wbuf {
	uint8_t *p;
	size_t size, len;
	bool full;
};

static void w_bytes(struct wbuf *w, const void *s, size_t n)
{
	if (w->full || w->size - w->len < n) {
		w->full = true;
		return;
	}
	if (n)
		memcpy(w->p + w->len, s, n);
	w->len += n;
}

static void w_uint(struct wbuf *w, uint64_t v, unsigned bytes)
{
	uint8_t b[8];

	for (unsigned i = 0; i < bytes; i++)
		b[i] = (uint8_t) (v >> (8 * (bytes - 1 - i)));
	w_bytes(w, b, bytes);
}

/* A string of a fixed array, at most max bytes (its NUL, or max, ends it). */
static void w_str(struct wbuf *w, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	w_uint(w, n, 1);
	w_bytes(w, s, n);
}

int fg_command_pack(const struct fg_command *c, uint8_t *buf, size_t size)
{
	struct wbuf w = { .p = buf, .size = buf ? size : 0 };
	size_t corr;

	if (!c)
		return -EINVAL;
	corr = c->correlation_len;
	if ((unsigned) c->kind >= FG_CMD_KIND__COUNT || corr > sizeof(c->correlation) ||
	    c->data_len > sizeof(c->data) || c->priority < 0 || c->priority > FG_CMD_PRIORITY_MAX)
		return -EINVAL;
	w_uint(&w, PACK_VERSION, 1);
	w_uint(&w, (uint64_t) c->kind, 1);
	w_str(&w, c->id, FG_CMD_ID_MAX);
	w_str(&w, c->device_name, FG_CMD_DEVICE_MAX);
	w_uint(&w, c->accepted_ms, 8);
	w_uint(&w, c->tries, 4);
	w_uint(&w, c->f_cnt_down, 4);
	w_uint(&w, (c->confirmed ? 1u : 0u) | (c->awaiting_ack ? 2u : 0u), 1);
	w_uint(&w, (uint64_t) c->priority, 1);
	w_uint(&w, c->expires_ms, 8);
	size_t tn = strnlen(c->response_topic, FG_CMD_TOPIC_MAX);

	w_uint(&w, tn, 2);
	w_bytes(&w, c->response_topic, tn);
	w_uint(&w, corr, 2);
	w_bytes(&w, c->correlation, corr);
	if (c->kind == FG_CMD_GPIO) {
		w_str(&w, c->chip, FG_CMD_CHIP_MAX);
		w_uint(&w, c->line, 4);
		w_uint(&w, c->value < 0 ? 0xff : (uint64_t) c->value, 1);
		w_uint(&w, c->pulse_ms, 4);
		w_str(&w, c->gpio_name, FG_CMD_GPIO_NAME_MAX);
	} else {
		w_str(&w, c->device, FG_CMD_DEVICE_MAX);
		w_uint(&w, (uint64_t) (c->f_port & 0xff), 1);
		w_uint(&w, c->data_len, 1);
		w_bytes(&w, c->data, c->data_len);
	}
	if (w.full)
		return -ENOBUFS;
	return (int) w.len;
}

struct rbuf {
	const uint8_t *p;
	size_t len, pos;
	bool bad;
};

static uint64_t r_uint(struct rbuf *r, unsigned bytes)
{
	uint64_t v = 0;

	if (r->bad || r->len - r->pos < bytes) {
		r->bad = true;
		return 0;
	}
	for (unsigned i = 0; i < bytes; i++)
		v = v << 8 | r->p[r->pos++];
	return v;
}

static void r_bytes(struct rbuf *r, void *dst, size_t n)
{
	if (r->bad || r->len - r->pos < n) {
		r->bad = true;
		return;
	}
	if (n)
		memcpy(dst, r->p + r->pos, n);
	r->pos += n;
}

/* A string into dst (dst_size - 1 bytes at most, no NUL inside). */
static void r_str(struct rbuf *r, char *dst, size_t dst_size, unsigned len_bytes)
{
	size_t n = (size_t) r_uint(r, len_bytes);

	if (r->bad || n > dst_size - 1) {
		r->bad = true;
		return;
	}
	r_bytes(r, dst, n);
	if (r->bad)
		return;
	dst[n] = '\0';
	if (memchr(dst, '\0', n))
		r->bad = true;
}

int fg_command_unpack(const uint8_t *buf, size_t len, struct fg_command *ret)
{
	struct rbuf r = { .p = buf, .len = buf ? len : 0 };
	struct fg_command c;
	uint64_t v;
	unsigned flags;

	if (!ret)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	if (r_uint(&r, 1) != PACK_VERSION)
		return -EBADMSG;
	v = r_uint(&r, 1);
	if (v >= FG_CMD_KIND__COUNT)
		return -EBADMSG;
	c.kind = (enum fg_cmd_kind) v;
	r_str(&r, c.id, sizeof(c.id), 1);
	r_str(&r, c.device_name, sizeof(c.device_name), 1);
	c.accepted_ms = r_uint(&r, 8);
	c.tries = (unsigned) r_uint(&r, 4);
	c.f_cnt_down = (uint32_t) r_uint(&r, 4);
	flags = (unsigned) r_uint(&r, 1);
	c.confirmed = flags & 1;
	c.awaiting_ack = flags & 2;
	c.priority = (int) r_uint(&r, 1);
	c.expires_ms = r_uint(&r, 8);
	r_str(&r, c.response_topic, sizeof(c.response_topic), 2);
	c.correlation_len = (size_t) r_uint(&r, 2);
	if (c.correlation_len > sizeof(c.correlation))
		return -EBADMSG;
	r_bytes(&r, c.correlation, c.correlation_len);
	if (flags & ~3u || c.priority > FG_CMD_PRIORITY_MAX)
		return -EBADMSG;
	if (c.kind == FG_CMD_GPIO) {
		r_str(&r, c.chip, sizeof(c.chip), 1);
		c.line = (unsigned) r_uint(&r, 4);
		v = r_uint(&r, 1);
		if (v > 1 && v != 0xff)
			return -EBADMSG;
		c.value = v == 0xff ? -1 : (int) v;
		c.pulse_ms = (uint32_t) r_uint(&r, 4);
		r_str(&r, c.gpio_name, sizeof(c.gpio_name), 1);
		if ((c.pulse_ms != 0) != (c.value < 0))
			return -EBADMSG;
	} else {
		r_str(&r, c.device, sizeof(c.device), 1);
		c.f_port = (int) r_uint(&r, 1);
		c.data_len = (size_t) r_uint(&r, 1);
		if (c.data_len > sizeof(c.data))
			return -EBADMSG;
		r_bytes(&r, c.data, c.data_len);
	}
	if (r.bad || r.pos != r.len)
		return -EBADMSG;
	*ret = c;
	return 0;
}

/* ----------------------------------------------------------------- outcomes */

int fg_cmd_event_json(const struct fg_cmd_event *e, uint64_t seq, char *buf, size_t size)
{
	struct fg_json j;

	if (!e || !buf || size == 0)
		return -ENOBUFS;
	fg_json_init_fixed(&j, buf, size);
	fg_json_raw(&j, "{\"id\":", 6);
	if (e->id && e->id[0])
		fg_json_string_n(&j, e->id, FG_CMD_ID_MAX);
	else
		fg_json_raw(&j, "null", 4);
	fg_json_raw(&j, ",\"outcome\":", 11);
	fg_json_string(&j, fg_cmd_outcome_to_string(e->outcome));
	if (e->outcome == FG_CMD_FAILED) {
		fg_json_raw(&j, ",\"reason\":", 10);
		fg_json_string(&j, fg_cmd_reason_to_string(e->reason));
		if (e->detail && e->detail[0]) {
			fg_json_raw(&j, ",\"detail\":", 10);
			fg_json_string(&j, e->detail);
		}
	}
	if (e->device && e->device[0]) {
		fg_json_raw(&j, ",\"device\":", 10);
		fg_json_string_n(&j, e->device, FG_CMD_DEVICE_MAX);
	}
	if (e->has_f_cnt_down)
		fg_json_printf(&j, ",\"f_cnt_down\":%" PRIu32, e->f_cnt_down);
	if (e->time_ms)
		fg_json_printf(&j, ",\"time_ms\":%" PRIu64, e->time_ms);
	fg_json_printf(&j, ",\"seq\":%" PRIu64 "}", seq);
	if (j.err)
		return j.err;
	return (int) j.len;
}
