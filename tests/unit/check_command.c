/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/command.h"
#include "util/json-read.h"
#include "check-main.h"

#define NOW_MS UINT64_C(1764777600000) /* 2025-12-03T16:00:00Z */

static struct fg_command cmd;
static char detail[160];

static enum fg_cmd_reason parse_n(enum fg_cmd_kind k, const char *json, size_t len)
{
	memset(detail, 0x55, sizeof(detail));
	return fg_command_parse(k, json, len, NOW_MS, &cmd, detail, sizeof(detail));
}

static enum fg_cmd_reason parse(enum fg_cmd_kind k, const char *json)
{
	return parse_n(k, json, strlen(json));
}

/* Parse and expect a refusal with exactly this reason and detail. */
#define REFUSED(k, json, reason, text)                                                             \
	do {                                                                                       \
		enum fg_cmd_reason _r = parse(k, json);                                            \
		ck_assert_msg(_r == (reason), "%s: got %s (%s), expected %s", json,                \
			      fg_cmd_reason_to_string(_r), detail,                                 \
			      fg_cmd_reason_to_string(reason));                                    \
		ck_assert_str_eq(detail, text);                                                    \
	} while (0)

#define ACCEPTED(k, json)                                                                          \
	do {                                                                                       \
		enum fg_cmd_reason _r = parse(k, json);                                            \
		ck_assert_msg(_r == FG_CMD_R_NONE, "%s: %s (%s)", json,                            \
			      fg_cmd_reason_to_string(_r), detail);                                \
		ck_assert_str_eq(detail, "");                                                      \
	} while (0)

#define DOWN(fields) "{\"id\":\"c1\",\"device\":\"valve-1\",\"f_port\":10," fields "}"

START_TEST(down_every_field)
{
	ACCEPTED(FG_CMD_DOWN_PUSH,
		 "{\"id\":\"cmd-42\",\"device\":\"70B3D57ED0000001\",\"f_port\":223,"
		 "\"data\":\"01aBff\",\"confirmed\":true,\"priority\":\"HIGH\","
		 "\"expires\":\"2025-12-03T17:00:00Z\"}");
	ck_assert_int_eq(cmd.kind, FG_CMD_DOWN_PUSH);
	ck_assert_str_eq(cmd.id, "cmd-42");
	ck_assert_str_eq(cmd.device, "70B3D57ED0000001");
	ck_assert_int_eq(cmd.f_port, 223);
	ck_assert_uint_eq(cmd.data_len, 3);
	ck_assert_mem_eq(cmd.data, "\x01\xab\xff", 3);
	ck_assert(cmd.confirmed);
	ck_assert_int_eq(cmd.priority, 5);
	ck_assert_uint_eq(cmd.expires_ms, NOW_MS + 3600000);
	ck_assert_ptr_null(cmd.object);
	ck_assert_str_eq(cmd.chip, "");
}
END_TEST

START_TEST(down_defaults)
{
	ACCEPTED(FG_CMD_DOWN_REPLACE,
		 " {\"id\":\"a\",\"device\":\"x\",\"f_port\":1,\"data\":\"\"} \n");
	ck_assert_int_eq(cmd.kind, FG_CMD_DOWN_REPLACE);
	ck_assert_uint_eq(cmd.data_len, 0);
	ck_assert(!cmd.confirmed);
	ck_assert_int_eq(cmd.priority, FG_CMD_PRIORITY_DEFAULT);
	ck_assert_uint_eq(cmd.expires_ms, 0);
	ck_assert_uint_eq(cmd.pulse_ms, 0);
}
END_TEST

START_TEST(down_base64_and_object)
{
	ACCEPTED(FG_CMD_DOWN_PUSH, DOWN("\"data_base64\":\"AQID\""));
	ck_assert_uint_eq(cmd.data_len, 3);
	ck_assert_mem_eq(cmd.data, "\x01\x02\x03", 3);

	const char *j = DOWN("\"object\": {\"temperature_1\": 21.5, \"x\": [1, {\"y\": null}]} ");

	ACCEPTED(FG_CMD_DOWN_PUSH, j);
	ck_assert_ptr_eq(cmd.object, strstr(j, "{\"temperature_1\""));
	ck_assert_uint_eq(cmd.object_len,
			  strlen("{\"temperature_1\": 21.5, \"x\": [1, {\"y\": null}]}"));
	ck_assert_uint_eq(cmd.data_len, 0);
}
END_TEST

START_TEST(down_data_refusals)
{
	REFUSED(FG_CMD_DOWN_PUSH, "{\"id\":\"c1\",\"device\":\"d\",\"f_port\":1}",
		FG_CMD_R_BAD_DATA, "one of data, data_base64 or object is needed");
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"data\":\"00\",\"data_base64\":\"AA==\""),
		FG_CMD_R_BAD_DATA, "only one of data, data_base64 and object");
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"object\":{},\"data\":\"00\""), FG_CMD_R_BAD_DATA,
		"only one of data, data_base64 and object");
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"data\":\"abc\""), FG_CMD_R_BAD_DATA,
		"data: odd number of hex digits");
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"data\":\"0g\""), FG_CMD_R_BAD_DATA,
		"data: not hex at character 2");
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"data\":\" 00\""), FG_CMD_R_BAD_DATA,
		"data: odd number of hex digits");
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"data\":12"), FG_CMD_R_BAD_DATA,
		"data: expected a string");
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"data_base64\":\"AQIDB\""), FG_CMD_R_BAD_DATA,
		"data_base64: not valid base64");
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"data_base64\":\"AQ ID\""), FG_CMD_R_BAD_DATA,
		"data_base64: not valid base64");
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"object\":[1]"), FG_CMD_R_BAD_DATA,
		"object: expected an object");
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"object\":\"{}\""), FG_CMD_R_BAD_DATA,
		"object: expected an object");
}
END_TEST

START_TEST(down_data_length_limits)
{
	char json[1024], hex[2 * FG_LW_FRM_MAX + 3];

	for (size_t i = 0; i < 2 * FG_LW_FRM_MAX; i++)
		hex[i] = "0123456789abcdef"[i % 16];
	hex[2 * FG_LW_FRM_MAX] = '\0';
	snprintf(json, sizeof(json), DOWN("\"data\":\"%s\""), hex);
	ACCEPTED(FG_CMD_DOWN_PUSH, json);
	ck_assert_uint_eq(cmd.data_len, FG_LW_FRM_MAX);
	ck_assert_uint_eq(cmd.data[FG_LW_FRM_MAX - 1], 0x23);

	hex[2 * FG_LW_FRM_MAX] = 'a';
	hex[2 * FG_LW_FRM_MAX + 1] = 'a';
	hex[2 * FG_LW_FRM_MAX + 2] = '\0';
	snprintf(json, sizeof(json), DOWN("\"data\":\"%s\""), hex);
	REFUSED(FG_CMD_DOWN_PUSH, json, FG_CMD_R_TOO_LONG, "data: more than 242 bytes");

	/* 243 bytes in base64: 324 characters. */
	char b64[400];

	memset(b64, 'A', 324);
	b64[324] = '\0';
	snprintf(json, sizeof(json), DOWN("\"data_base64\":\"%s\""), b64);
	REFUSED(FG_CMD_DOWN_PUSH, json, FG_CMD_R_TOO_LONG, "data_base64: more than 242 bytes");
	b64[320] = '\0'; /* 240 bytes */
	snprintf(json, sizeof(json), DOWN("\"data_base64\":\"%s\""), b64);
	ACCEPTED(FG_CMD_DOWN_PUSH, json);
	ck_assert_uint_eq(cmd.data_len, 240);
}
END_TEST

START_TEST(down_f_port)
{
	REFUSED(FG_CMD_DOWN_PUSH, "{\"id\":\"c1\",\"device\":\"d\",\"data\":\"\"}",
		FG_CMD_R_BAD_F_PORT, "f_port: missing");
	REFUSED(FG_CMD_DOWN_PUSH, "{\"id\":\"c1\",\"device\":\"d\",\"f_port\":0,\"data\":\"\"}",
		FG_CMD_R_BAD_F_PORT, "f_port: 0 is for MAC commands");
	REFUSED(FG_CMD_DOWN_PUSH, "{\"id\":\"c1\",\"device\":\"d\",\"f_port\":224,\"data\":\"\"}",
		FG_CMD_R_BAD_F_PORT, "f_port: expected an integer 1..223");
	REFUSED(FG_CMD_DOWN_PUSH, "{\"id\":\"c1\",\"device\":\"d\",\"f_port\":-1,\"data\":\"\"}",
		FG_CMD_R_BAD_F_PORT, "f_port: expected an integer 1..223");
	REFUSED(FG_CMD_DOWN_PUSH, "{\"id\":\"c1\",\"device\":\"d\",\"f_port\":1.5,\"data\":\"\"}",
		FG_CMD_R_BAD_F_PORT, "f_port: expected an integer 1..223");
	REFUSED(FG_CMD_DOWN_PUSH, "{\"id\":\"c1\",\"device\":\"d\",\"f_port\":\"1\",\"data\":\"\"}",
		FG_CMD_R_BAD_F_PORT, "f_port: expected an integer 1..223");
	REFUSED(FG_CMD_DOWN_PUSH,
		"{\"id\":\"c1\",\"device\":\"d\",\"f_port\":99999999999999999999999,\"data\":\"\"}",
		FG_CMD_R_BAD_F_PORT, "f_port: expected an integer 1..223");
	ACCEPTED(FG_CMD_DOWN_PUSH, "{\"id\":\"c1\",\"device\":\"d\",\"f_port\":1,\"data\":\"\"}");
	ck_assert_int_eq(cmd.f_port, 1);
}
END_TEST

START_TEST(down_device)
{
	char json[256];

	REFUSED(FG_CMD_DOWN_PUSH, "{\"id\":\"c1\",\"f_port\":1,\"data\":\"\"}", FG_CMD_R_BAD_FIELD,
		"device: missing");
	REFUSED(FG_CMD_DOWN_PUSH, "{\"id\":\"c1\",\"device\":\"\",\"f_port\":1,\"data\":\"\"}",
		FG_CMD_R_BAD_FIELD, "device: empty");
	REFUSED(FG_CMD_DOWN_PUSH, "{\"id\":\"c1\",\"device\":7,\"f_port\":1,\"data\":\"\"}",
		FG_CMD_R_BAD_FIELD, "device: expected a string");
	REFUSED(FG_CMD_DOWN_PUSH,
		"{\"id\":\"c1\",\"device\":\"a\\u0000b\",\"f_port\":1,\"data\":\"\"}",
		FG_CMD_R_BAD_FIELD, "device: control character");
	snprintf(json, sizeof(json),
		 "{\"id\":\"c1\",\"device\":\"%065d\",\"f_port\":1,\"data\":\"\"}", 0);
	REFUSED(FG_CMD_DOWN_PUSH, json, FG_CMD_R_BAD_FIELD, "device: longer than 64 bytes");
	snprintf(json, sizeof(json),
		 "{\"id\":\"c1\",\"device\":\"%064d\",\"f_port\":1,\"data\":\"\"}", 0);
	ACCEPTED(FG_CMD_DOWN_PUSH, json);
	ck_assert_uint_eq(strlen(cmd.device), 64);
	/* A configured name may be UTF-8. */
	ACCEPTED(FG_CMD_DOWN_PUSH,
		 "{\"id\":\"c1\",\"device\":\"K\\u00fchlraum\",\"f_port\":1,\"data\":\"\"}");
	ck_assert_str_eq(cmd.device, "K\xc3\xbchlraum");
}
END_TEST

START_TEST(down_confirmed_and_priority)
{
	static const char *const names[] = { "LOWEST",	     "LOW",  "BELOW_NORMAL", "NORMAL",
					     "ABOVE_NORMAL", "HIGH", "HIGHEST" };
	char json[256];

	for (int p = 0; p <= FG_CMD_PRIORITY_MAX; p++) {
		snprintf(json, sizeof(json), DOWN("\"data\":\"\",\"priority\":\"%s\""), names[p]);
		ACCEPTED(FG_CMD_DOWN_PUSH, json);
		ck_assert_int_eq(cmd.priority, p);
		snprintf(json, sizeof(json), DOWN("\"data\":\"\",\"priority\":%d"), p);
		ACCEPTED(FG_CMD_DOWN_PUSH, json);
		ck_assert_int_eq(cmd.priority, p);
	}
	static const char *const bad[] = { "7",	  "-1",	  "\"normal\"", "\"URGENT\"",
					   "3.0", "null", "true" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json), DOWN("\"data\":\"\",\"priority\":%s"), bad[i]);
		REFUSED(FG_CMD_DOWN_PUSH, json, FG_CMD_R_BAD_FIELD,
			"priority: expected 0..6 or LOWEST, LOW, BELOW_NORMAL, NORMAL, "
			"ABOVE_NORMAL, HIGH, HIGHEST");
	}
	ACCEPTED(FG_CMD_DOWN_PUSH, DOWN("\"data\":\"\",\"confirmed\":false"));
	ck_assert(!cmd.confirmed);
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"data\":\"\",\"confirmed\":1"), FG_CMD_R_BAD_FIELD,
		"confirmed: expected true or false");
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"data\":\"\",\"confirmed\":\"true\""), FG_CMD_R_BAD_FIELD,
		"confirmed: expected true or false");
}
END_TEST

static uint64_t expires(const char *value)
{
	char json[256];

	snprintf(json, sizeof(json), DOWN("\"data\":\"\",\"expires\":%s"), value);
	enum fg_cmd_reason r = parse(FG_CMD_DOWN_PUSH, json);

	ck_assert_msg(r == FG_CMD_R_NONE, "%s: %s", value, detail);
	return cmd.expires_ms;
}

START_TEST(down_expires_forms)
{
	ck_assert_uint_eq(expires("\"2025-12-03T16:00:00Z\""), NOW_MS);
	ck_assert_uint_eq(expires("\"2025-12-03t16:00:00z\""), NOW_MS);
	ck_assert_uint_eq(expires("\"2025-12-03T17:30:00+01:30\""), NOW_MS);
	ck_assert_uint_eq(expires("\"2025-12-03T10:00:00-06:00\""), NOW_MS);
	ck_assert_uint_eq(expires("\"2025-12-03T16:00:00.5Z\""), NOW_MS + 500);
	ck_assert_uint_eq(expires("\"2025-12-03T16:00:00.123456789Z\""), NOW_MS + 123);
	ck_assert_uint_eq(expires("\"1970-01-01T00:00:00.001Z\""), 1);
	ck_assert_uint_eq(expires("\"2024-02-29T00:00:00Z\""), UINT64_C(1709164800000));
	ck_assert_uint_eq(expires("\"2016-12-31T23:59:60Z\""), UINT64_C(1483228800000));
	ck_assert_uint_eq(expires("\"9999-12-31T23:59:59Z\""), UINT64_C(253402300799000));
	/* In the past: accepted, the queue makes it "expired". */
	ck_assert_uint_eq(expires("\"2020-01-01T00:00:00Z\""), UINT64_C(1577836800000));
	ck_assert_uint_eq(expires("\"1969-12-31T23:59:59Z\""), 1);
	ck_assert_uint_eq(expires("60"), NOW_MS + 60000);
	ck_assert_uint_eq(expires("0.25"), NOW_MS + 250);
	ck_assert_uint_eq(expires("1e-4"), NOW_MS + 1);
	ck_assert_uint_eq(expires("null"), 0);
}
END_TEST

START_TEST(down_expires_refusals)
{
	static const char *const bad[] = {
		"\"2025-12-03T16:00:00\"",
		"\"2025-12-03 16:00:00Z\"",
		"\"2025-13-03T16:00:00Z\"",
		"\"2025-02-29T16:00:00Z\"",
		"\"2025-04-31T16:00:00Z\"",
		"\"2025-12-03T24:00:00Z\"",
		"\"2025-12-03T16:60:00Z\"",
		"\"2025-12-03T16:00:61Z\"",
		"\"2025-12-03T16:00:00.Z\"",
		"\"2025-12-03T16:00:00+0100\"",
		"\"2025-12-03T16:00:00+24:00\"",
		"\"2025-12-3T16:00:00Z\"",
		"\"2025-12-03T16:00:00Zjunk\"",
		"\"\"",
		"\"tomorrow\"",
		"\"2025-12-03T16:00:00\\u0000Z\"",
		"true",
		"[60]",
	};
	char json[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json), DOWN("\"data\":\"\",\"expires\":%s"), bad[i]);
		REFUSED(FG_CMD_DOWN_PUSH, json, FG_CMD_R_BAD_FIELD,
			"expires: expected an RFC 3339 time (2026-12-03T16:00:00Z) or seconds from "
			"now");
	}
	static const char *const bad_n[] = { "0", "-5", "1e300", "400000000" };

	for (size_t i = 0; i < sizeof(bad_n) / sizeof(bad_n[0]); i++) {
		snprintf(json, sizeof(json), DOWN("\"data\":\"\",\"expires\":%s"), bad_n[i]);
		REFUSED(FG_CMD_DOWN_PUSH, json, FG_CMD_R_BAD_FIELD,
			"expires: seconds from now must be > 0 and at most 316224000");
	}
}
END_TEST

START_TEST(down_unknown_and_duplicate_keys)
{
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"data\":\"\",\"fport\":2"), FG_CMD_R_BAD_FIELD,
		"unknown field 'fport'");
	ck_assert_str_eq(cmd.id, "c1");
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"data\":\"\",\"gpio\":{}"), FG_CMD_R_BAD_FIELD,
		"unknown field 'gpio'");
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"data\":\"\",\"a_very_long_unknown_key\":2"),
		FG_CMD_R_BAD_FIELD, "unknown field");
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"data\":\"\",\"d\\u00e9vice\":2"), FG_CMD_R_BAD_FIELD,
		"unknown field");
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"data\":\"\",\"f_port\\u0000\":2"), FG_CMD_R_BAD_FIELD,
		"unknown field");
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"data\":\"\",\"f_port\":2"), FG_CMD_R_BAD_FIELD,
		"f_port: given twice");
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"data\":\"\",\"device\":\"x\""), FG_CMD_R_BAD_FIELD,
		"device: given twice");
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"data\":\"\",\"data\":\"\""), FG_CMD_R_BAD_FIELD,
		"data: given twice");
	REFUSED(FG_CMD_DOWN_PUSH, DOWN("\"data\":\"\",\"id\":\"c1\""), FG_CMD_R_BAD_ID,
		"id: given twice");
	ck_assert_str_eq(cmd.id, "");
}
END_TEST

START_TEST(ids)
{
	char json[256];

	REFUSED(FG_CMD_DOWN_PUSH, "{\"device\":\"d\",\"f_port\":1,\"data\":\"\"}", FG_CMD_R_BAD_ID,
		"id: missing");
	/* Missing id wins over other errors: the outcome cannot be matched anyway. */
	REFUSED(FG_CMD_DOWN_PUSH, "{\"device\":7,\"f_port\":0,\"bogus\":1}", FG_CMD_R_BAD_ID,
		"id: missing");
	ck_assert_str_eq(cmd.id, "");
	REFUSED(FG_CMD_DOWN_PUSH, "{\"id\":\"\",\"device\":\"d\",\"f_port\":1,\"data\":\"\"}",
		FG_CMD_R_BAD_ID, "id: empty");
	REFUSED(FG_CMD_DOWN_PUSH, "{\"id\":42,\"device\":\"d\",\"f_port\":1,\"data\":\"\"}",
		FG_CMD_R_BAD_ID, "id: expected a string");
	REFUSED(FG_CMD_DOWN_PUSH, "{\"id\":null,\"device\":\"d\",\"f_port\":1,\"data\":\"\"}",
		FG_CMD_R_BAD_ID, "id: expected a string");
	REFUSED(FG_CMD_DOWN_PUSH, "{\"id\":{\"a\":1},\"device\":\"d\",\"f_port\":1,\"data\":\"\"}",
		FG_CMD_R_BAD_ID, "id: expected a string");
	REFUSED(FG_CMD_DOWN_PUSH, "{\"id\":\"a\\\"b\",\"device\":\"d\",\"f_port\":1,\"data\":\"\"}",
		FG_CMD_R_BAD_ID, "id: only printable ASCII without '\"' or '\\'");
	REFUSED(FG_CMD_DOWN_PUSH, "{\"id\":\"a\\\\b\",\"device\":\"d\",\"f_port\":1,\"data\":\"\"}",
		FG_CMD_R_BAD_ID, "id: only printable ASCII without '\"' or '\\'");
	REFUSED(FG_CMD_DOWN_PUSH,
		"{\"id\":\"a b\\u00e9\",\"device\":\"d\",\"f_port\":1,\"data\":\"\"}",
		FG_CMD_R_BAD_ID, "id: only printable ASCII without '\"' or '\\'");
	REFUSED(FG_CMD_DOWN_PUSH, "{\"id\":\"a\\tb\",\"device\":\"d\",\"f_port\":1,\"data\":\"\"}",
		FG_CMD_R_BAD_ID, "id: control character");
	snprintf(json, sizeof(json),
		 "{\"id\":\"%065d\",\"device\":\"d\",\"f_port\":1,\"data\":\"\"}", 0);
	REFUSED(FG_CMD_DOWN_PUSH, json, FG_CMD_R_BAD_ID, "id: longer than 64 bytes");
	ck_assert_str_eq(cmd.id, "");
	snprintf(json, sizeof(json),
		 "{\"device\":\"d\",\"f_port\":1,\"data\":\"\",\"id\":\"%064d\"}", 0);
	ACCEPTED(FG_CMD_DOWN_PUSH, json);
	ck_assert_uint_eq(strlen(cmd.id), 64);
	/* The id is read wherever it is, so a failure after it still carries it. */
	REFUSED(FG_CMD_DOWN_PUSH, "{\"f_port\":0,\"device\":\"d\",\"data\":\"\",\"id\":\"late\"}",
		FG_CMD_R_BAD_F_PORT, "f_port: 0 is for MAC commands");
	ck_assert_str_eq(cmd.id, "late");
	REFUSED(FG_CMD_GPIO, "{\"id\":\"g\\/1\",\"gpio\":{\"chip\":\"c\",\"line\":1}}",
		FG_CMD_R_BAD_FIELD, "gpio: value or pulse_ms is needed");
	ck_assert_str_eq(cmd.id, "g/1");
}
END_TEST

START_TEST(malformed_text)
{
	static const struct {
		const char *json;
		const char *detail;
	} cases[] = {
		{ "", "not valid JSON at byte 0" },
		{ "   ", "not valid JSON at byte 3" },
		{ "[{\"id\":\"a\"}]", "not a JSON object" },
		{ "\"id\"", "not a JSON object" },
		{ "42", "not a JSON object" },
		{ "null", "not a JSON object" },
		{ "{\"id\":\"a\"", "not valid JSON at byte 9" },
		{ "{\"id\":\"a\",}", "not valid JSON at byte 10" },
		{ "{\"id\" \"a\"}", "not valid JSON at byte 6" },
		{ "{'id':'a'}", "not valid JSON at byte 1" },
		{ "{\"id\":\"a\"} x", "bytes after the object at byte 11" },
		{ "{\"id\":\"a\"}{}", "bytes after the object at byte 10" },
		{ "{\"id\":\"a\",\"x\":01}", "not valid JSON at byte 15" },
		{ "{\"id\":\"a\",\"x\":1.}", "not valid JSON at byte 14" },
		{ "{\"id\":\"a\",\"x\":+1}", "not valid JSON at byte 14" },
		{ "{\"id\":\"a\",\"x\":NaN}", "not valid JSON at byte 14" },
		{ "{\"id\":\"a\",\"x\":tru}", "not valid JSON at byte 14" },
		{ "{\"id\":\"a\",\"x\":\"\\x\"}", "not valid JSON at byte 15" },
		{ "{\"id\":\"a\",\"x\":\"\\ud800\"}", "not valid JSON at byte 15" },
		{ "{\"id\":\"a\",\"x\":\"\\udc00\\ud800\"}", "not valid JSON at byte 15" },
		{ "{\"id\":\"a\",\"x\":\"\\ud800\\u0041\"}", "not valid JSON at byte 15" },
		{ "{\"id\":\"a\",\"x\":\"a\nb\"}", "not valid JSON at byte 16" },
		{ "{\"id\":\"a\xff\"}", "not valid JSON at byte 8" },
		{ "{\"id\":\"a\xc0\xaf\"}", "not valid JSON at byte 8" },
		{ "{\"id\":\"a\xed\xa0\x80\"}", "not valid JSON at byte 8" },
		{ "{\"id\":\"a\xe2\x82\"}", "not valid JSON at byte 8" },
		{ "\xef\xbb\xbf{\"id\":\"a\"}", "not valid JSON at byte 0" },
		{ "{\"id\":\"a\",\"x\":[1,]}", "not valid JSON at byte 17" },
		{ "{\"id\":\"a\",\"x\":}", "not valid JSON at byte 14" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		REFUSED(FG_CMD_DOWN_PUSH, cases[i].json, FG_CMD_R_MALFORMED, cases[i].detail);
		REFUSED(FG_CMD_GPIO, cases[i].json, FG_CMD_R_MALFORMED, cases[i].detail);
	}
}
END_TEST

START_TEST(malformed_embedded_nul_and_length)
{
	static const char j[] = "{\"id\":\"a\",\"device\":\"d\",\"f_port\":1,\"data\":\"\"}";

	/* A NUL after the object is a byte after it; len is honoured, not the NUL. */
	ck_assert_int_eq(parse_n(FG_CMD_DOWN_PUSH, j, sizeof(j)), FG_CMD_R_MALFORMED);
	ck_assert_str_eq(detail, "bytes after the object at byte 44");
	ck_assert_int_eq(parse_n(FG_CMD_DOWN_PUSH, j, sizeof(j) - 1), FG_CMD_R_NONE);
	ck_assert_int_eq(parse_n(FG_CMD_DOWN_PUSH, j, sizeof(j) - 2), FG_CMD_R_MALFORMED);
	ck_assert_str_eq(cmd.id, "a");
	ck_assert_int_eq(parse_n(FG_CMD_DOWN_PUSH, "{\"id\":\"a\0b\"}", 12), FG_CMD_R_MALFORMED);
	ck_assert_str_eq(detail, "not valid JSON at byte 8");
	ck_assert_int_eq(parse_n(FG_CMD_DOWN_PUSH, NULL, 0), FG_CMD_R_MALFORMED);
	/* Every prefix of a good command is refused as malformed, never read past. */
	for (size_t n = 0; n < sizeof(j) - 1; n++) {
		char *copy = malloc(n ? n : 1);

		memcpy(copy, j, n);
		ck_assert_int_eq(parse_n(FG_CMD_DOWN_PUSH, copy, n), FG_CMD_R_MALFORMED);
		free(copy);
	}
}
END_TEST

START_TEST(malformed_deep_nesting)
{
	char json[512];
	size_t n = 0;
	int depth;

	/* 31 levels inside the command object: 32 in all, the limit. */
	n += (size_t) snprintf(json, sizeof(json),
			       "{\"id\":\"c1\",\"device\":\"d\",\"f_port\":1,\"object\":");
	for (depth = 0; depth < 31; depth++)
		json[n++] = '[';
	for (depth = 0; depth < 31; depth++)
		json[n++] = ']';
	json[n++] = '}';
	json[n] = '\0';
	/* object is an array at its top: bad-data, but it was read (the depth was fine). */
	REFUSED(FG_CMD_DOWN_PUSH, json, FG_CMD_R_BAD_DATA, "object: expected an object");

	n = 0;
	n += (size_t) snprintf(json, sizeof(json), "{\"id\":\"a\",\"x\":");
	for (depth = 0; depth < 32; depth++)
		json[n++] = '[';
	for (depth = 0; depth < 32; depth++)
		json[n++] = ']';
	json[n++] = '}';
	json[n] = '\0';
	REFUSED(FG_CMD_DOWN_PUSH, json, FG_CMD_R_MALFORMED, "nested deeper than 32 at byte 45");

	memset(json, '[', 400);
	json[400] = '\0';
	REFUSED(FG_CMD_DOWN_PUSH, json, FG_CMD_R_MALFORMED, "not a JSON object");
	json[0] = '{';
	REFUSED(FG_CMD_DOWN_PUSH, json, FG_CMD_R_MALFORMED, "not valid JSON at byte 1");
}
END_TEST

START_TEST(gpio_fields)
{
	ACCEPTED(FG_CMD_GPIO,
		 "{\"id\":\"g1\",\"gpio\":{\"chip\":\"gpiochip0\",\"line\":17,\"value\":1}}");
	ck_assert_int_eq(cmd.kind, FG_CMD_GPIO);
	ck_assert_str_eq(cmd.chip, "gpiochip0");
	ck_assert_uint_eq(cmd.line, 17);
	ck_assert_int_eq(cmd.value, 1);
	ck_assert_uint_eq(cmd.pulse_ms, 0);
	ck_assert_str_eq(cmd.gpio_name, "");
	ACCEPTED(FG_CMD_GPIO, "{\"gpio\":{\"value\":0,\"line\":0,\"chip\":\"sim\"},\"id\":\"g2\"}");
	ck_assert_int_eq(cmd.value, 0);
	ck_assert_uint_eq(cmd.line, 0);
	ACCEPTED(FG_CMD_GPIO, "{\"id\":\"g3\",\"gpio\":{\"name\":\"valve\",\"pulse_ms\":1500}}");
	ck_assert_str_eq(cmd.gpio_name, "valve");
	ck_assert_str_eq(cmd.chip, "");
	ck_assert_int_eq(cmd.value, -1);
	ck_assert_uint_eq(cmd.pulse_ms, 1500);
	ACCEPTED(FG_CMD_GPIO,
		 "{\"id\":\"g4\",\"gpio\":{\"name\":\"valve\",\"pulse_ms\":4294967295}}");
	ck_assert_uint_eq(cmd.pulse_ms, UINT32_MAX);
}
END_TEST

START_TEST(gpio_refusals)
{
	static const struct {
		const char *gpio;
		const char *detail;
	} cases[] = {
		{ "{\"chip\":\"c\",\"line\":1,\"value\":1,\"pulse_ms\":5}",
		  "gpio: value or pulse_ms, not both" },
		{ "{\"chip\":\"c\",\"line\":1}", "gpio: value or pulse_ms is needed" },
		{ "{\"name\":\"v\",\"chip\":\"c\",\"value\":1}",
		  "gpio: name or chip and line, not both" },
		{ "{\"name\":\"v\",\"line\":3,\"value\":1}",
		  "gpio: name or chip and line, not both" },
		{ "{\"chip\":\"c\",\"value\":1}", "gpio: line missing" },
		{ "{\"line\":1,\"value\":1}", "gpio: chip missing" },
		{ "{\"value\":1}", "gpio: chip and line missing" },
		{ "{\"chip\":\"c\",\"line\":1,\"value\":2}",
		  "gpio: value: expected an integer 0..1" },
		{ "{\"chip\":\"c\",\"line\":1,\"value\":true}",
		  "gpio: value: expected an integer 0..1" },
		{ "{\"chip\":\"c\",\"line\":1,\"pulse_ms\":0}",
		  "gpio: pulse_ms: expected an integer 1..4294967295" },
		{ "{\"chip\":\"c\",\"line\":1,\"pulse_ms\":4294967296}",
		  "gpio: pulse_ms: expected an integer 1..4294967295" },
		{ "{\"chip\":\"c\",\"line\":-1,\"value\":1}",
		  "gpio: line: expected an integer 0..65535" },
		{ "{\"chip\":\"c\",\"line\":\"17\",\"value\":1}",
		  "gpio: line: expected an integer 0..65535" },
		{ "{\"chip\":\"\",\"line\":1,\"value\":1}", "gpio: chip: empty" },
		{ "{\"chip\":\"0123456789012345678901234567890123\",\"line\":1,\"value\":1}",
		  "gpio: chip: longer than 32 bytes" },
		{ "{\"chip\":\"c\\u00e9\",\"line\":1,\"value\":1}",
		  "gpio: chip: only printable ASCII without '\"' or '\\'" },
		{ "{\"chip\":\"c\",\"line\":1,\"value\":1,\"value\":0}",
		  "gpio: value: given twice" },
		{ "{\"chip\":\"c\",\"line\":1,\"value\":1,\"level\":0}",
		  "gpio: unknown field 'level'" },
		{ "[1]", "gpio: expected an object" },
		{ "\"valve\"", "gpio: expected an object" },
	};
	char json[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(json, sizeof(json), "{\"id\":\"g\",\"gpio\":%s}", cases[i].gpio);
		REFUSED(FG_CMD_GPIO, json, FG_CMD_R_BAD_FIELD, cases[i].detail);
		ck_assert_str_eq(cmd.id, "g");
	}
	REFUSED(FG_CMD_GPIO, "{\"id\":\"g\"}", FG_CMD_R_BAD_FIELD, "gpio: missing");
	REFUSED(FG_CMD_GPIO, "{\"id\":\"g\",\"gpio\":{\"name\":\"v\",\"value\":1},\"f_port\":1}",
		FG_CMD_R_BAD_FIELD, "unknown field 'f_port'");
	REFUSED(FG_CMD_GPIO, "{\"id\":\"g\",\"gpio\":{\"name\":\"v\",\"value\":1},\"gpio\":{}}",
		FG_CMD_R_BAD_FIELD, "gpio: given twice");
	/* A downlink body on the gpio topic. */
	REFUSED(FG_CMD_GPIO, DOWN("\"data\":\"\""), FG_CMD_R_BAD_FIELD, "unknown field 'device'");
}
END_TEST

START_TEST(pack_round_trip)
{
	uint8_t buf[FG_COMMAND_PACK_MAX];
	struct fg_command a, b;
	int n;

	ACCEPTED(FG_CMD_DOWN_REPLACE,
		 DOWN("\"data\":\"00ff10\",\"confirmed\":true,\"priority\":6,\"expires\":30"));
	a = cmd;
	snprintf(a.response_topic, sizeof(a.response_topic), "cloud/replies/7");
	memcpy(a.correlation, "\x00\x01\x02", 3);
	a.correlation_len = 3;
	a.accepted_ms = NOW_MS;
	a.tries = 2;
	a.f_cnt_down = 0xfffffffe;
	a.awaiting_ack = true;
	snprintf(a.device_name, sizeof(a.device_name), "valve-1");
	n = fg_command_pack(&a, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(fg_command_unpack(buf, (size_t) n, &b), 0);
	ck_assert_mem_eq(&a, &b, sizeof(a));

	ACCEPTED(FG_CMD_GPIO, "{\"id\":\"g3\",\"gpio\":{\"name\":\"valve\",\"pulse_ms\":1500}}");
	a = cmd;
	n = fg_command_pack(&a, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(fg_command_unpack(buf, (size_t) n, &b), 0);
	ck_assert_mem_eq(&a, &b, sizeof(a));
	ck_assert_int_eq(b.value, -1);

	ACCEPTED(FG_CMD_GPIO,
		 "{\"id\":\"g1\",\"gpio\":{\"chip\":\"gpiochip0\",\"line\":17,\"value\":1}}");
	a = cmd;
	n = fg_command_pack(&a, buf, sizeof(buf));
	ck_assert_int_eq(fg_command_unpack(buf, (size_t) n, &b), 0);
	ck_assert_mem_eq(&a, &b, sizeof(a));

	/* The object's text is not kept: it is encoded into data before queueing. */
	ACCEPTED(FG_CMD_DOWN_PUSH, DOWN("\"object\":{\"a\":1}"));
	n = fg_command_pack(&cmd, buf, sizeof(buf));
	ck_assert_int_eq(fg_command_unpack(buf, (size_t) n, &b), 0);
	ck_assert_ptr_null(b.object);
	ck_assert_uint_eq(b.object_len, 0);
}
END_TEST

START_TEST(pack_largest_fits)
{
	uint8_t buf[FG_COMMAND_PACK_MAX];
	struct fg_command a, b;
	int n;

	memset(&a, 0, sizeof(a));
	a.kind = FG_CMD_DOWN_PUSH;
	memset(a.id, 'i', FG_CMD_ID_MAX);
	memset(a.device, 'd', FG_CMD_DEVICE_MAX);
	memset(a.device_name, 'n', FG_CMD_DEVICE_MAX);
	memset(a.response_topic, 't', FG_CMD_TOPIC_MAX);
	a.correlation_len = FG_CMD_CORR_MAX;
	memset(a.correlation, 0xcc, FG_CMD_CORR_MAX);
	a.data_len = FG_LW_FRM_MAX;
	memset(a.data, 0xdd, FG_LW_FRM_MAX);
	a.f_port = 223;
	a.priority = 6;
	n = fg_command_pack(&a, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_int_le(n, FG_COMMAND_PACK_MAX);
	ck_assert_int_eq(fg_command_unpack(buf, (size_t) n, &b), 0);
	ck_assert_mem_eq(&a, &b, sizeof(a));
	ck_assert_int_eq(fg_command_pack(&a, buf, (size_t) n - 1), -ENOBUFS);

	a.kind = FG_CMD_GPIO;
	memset(a.chip, 'c', FG_CMD_CHIP_MAX);
	memset(a.gpio_name, 'g', FG_CMD_GPIO_NAME_MAX);
	a.value = 1;
	n = fg_command_pack(&a, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_int_le(n, FG_COMMAND_PACK_MAX);
	a.priority = 7;
	ck_assert_int_eq(fg_command_pack(&a, buf, sizeof(buf)), -EINVAL);
}
END_TEST

START_TEST(unpack_truncated_and_garbage)
{
	uint8_t buf[FG_COMMAND_PACK_MAX], junk[FG_COMMAND_PACK_MAX];
	struct fg_command b;
	int n;

	ACCEPTED(FG_CMD_DOWN_PUSH, DOWN("\"data\":\"0102\",\"expires\":5"));
	n = fg_command_pack(&cmd, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	for (int k = 0; k < n; k++) {
		memset(&b, 0x5a, sizeof(b));
		ck_assert_int_eq(fg_command_unpack(buf, (size_t) k, &b), -EBADMSG);
		ck_assert_uint_eq(((uint8_t *) &b)[0], 0x5a); /* untouched */
	}
	buf[n] = 0;
	ck_assert_int_eq(fg_command_unpack(buf, (size_t) n + 1, &b), -EBADMSG);
	buf[0] = 2;
	ck_assert_int_eq(fg_command_unpack(buf, (size_t) n, &b), -EBADMSG);
	buf[0] = 1;
	buf[1] = FG_CMD_KIND__COUNT;
	ck_assert_int_eq(fg_command_unpack(buf, (size_t) n, &b), -EBADMSG);
	buf[1] = 0;
	buf[2] = 200; /* id length beyond FG_CMD_ID_MAX */
	ck_assert_int_eq(fg_command_unpack(buf, (size_t) n, &b), -EBADMSG);
	ck_assert_int_eq(fg_command_unpack(NULL, 0, &b), -EBADMSG);

	/* Random bytes never crash; a few may even parse, which is fine. */
	srandom(14);
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t) random() % sizeof(junk);

		for (size_t i = 0; i < len; i++)
			junk[i] = (uint8_t) random();
		junk[0] = 1;
		if (len > 1)
			junk[1] %= 3;
		(void) fg_command_unpack(junk, len, &b);
	}
}
END_TEST

static char ev[512];

static const char *event(const struct fg_cmd_event *e, uint64_t seq)
{
	int n = fg_cmd_event_json(e, seq, ev, sizeof(ev));

	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(strlen(ev), (size_t) n);
	return ev;
}

START_TEST(event_json_exact_text)
{
	struct fg_cmd_event e = { .id = "cmd-42", .outcome = FG_CMD_QUEUED, .device = "valve-1" };

	ck_assert_str_eq(event(&e, 7),
			 "{\"id\":\"cmd-42\",\"outcome\":\"queued\",\"device\":\"valve-1\","
			 "\"seq\":7}");
	e.outcome = FG_CMD_SENT;
	e.has_f_cnt_down = true;
	e.f_cnt_down = 4294967295u;
	e.time_ms = NOW_MS;
	ck_assert_str_eq(event(&e, 8),
			 "{\"id\":\"cmd-42\",\"outcome\":\"sent\",\"device\":\"valve-1\","
			 "\"f_cnt_down\":4294967295,\"time_ms\":1764777600000,\"seq\":8}");
	/* reason and detail only for failed. */
	e.reason = FG_CMD_R_RADIO;
	e.detail = "ignored";
	e.outcome = FG_CMD_ACK;
	ck_assert_str_eq(event(&e, 9),
			 "{\"id\":\"cmd-42\",\"outcome\":\"ack\",\"device\":\"valve-1\","
			 "\"f_cnt_down\":4294967295,\"time_ms\":1764777600000,\"seq\":9}");
	struct fg_cmd_event f = { .id = "",
				  .outcome = FG_CMD_FAILED,
				  .reason = FG_CMD_R_BAD_ID,
				  .detail = "id: missing \"x\"" };

	ck_assert_str_eq(event(&f, 10), "{\"id\":null,\"outcome\":\"failed\",\"reason\":\"bad-id\","
					"\"detail\":\"id: missing \\\"x\\\"\",\"seq\":10}");
	f.id = NULL;
	f.detail = NULL;
	f.reason = FG_CMD_R_TOO_LONG;
	ck_assert_str_eq(event(&f, 0), "{\"id\":null,\"outcome\":\"failed\","
				       "\"reason\":\"payload-too-long\",\"seq\":0}");
	ck_assert_int_eq(fg_cmd_event_json(&f, 0, ev, 20), -ENOBUFS);
	ck_assert_int_eq(fg_cmd_event_json(&f, 0, ev, 0), -ENOBUFS);
}
END_TEST

START_TEST(names)
{
	static const char *const reasons[] = {
		"",
		"malformed",
		"too-large",
		"unknown-command",
		"bad-id",
		"bad-field",
		"unknown-device",
		"bad-f-port",
		"bad-data",
		"cannot-encode",
		"payload-too-long",
		"queue-full",
		"daily-budget",
		"replaced",
		"not-joined",
		"no-route",
		"radio",
		"gpio-undeclared",
		"gpio-failed",
		"storage",
		"rejoined",
	};
	static const char *const outcomes[] = {
		"queued", "sent", "ack", "nack", "expired", "failed"
	};

	ck_assert_uint_eq(sizeof(reasons) / sizeof(reasons[0]), FG_CMD_REASON__COUNT);
	for (int r = 0; r < FG_CMD_REASON__COUNT; r++)
		ck_assert_str_eq(fg_cmd_reason_to_string((enum fg_cmd_reason) r), reasons[r]);
	for (int o = 0; o < FG_CMD_OUTCOME__COUNT; o++)
		ck_assert_str_eq(fg_cmd_outcome_to_string((enum fg_cmd_outcome) o), outcomes[o]);
	ck_assert_str_eq(fg_cmd_kind_to_string(FG_CMD_DOWN_PUSH), "down/push");
	ck_assert_str_eq(fg_cmd_kind_to_string(FG_CMD_DOWN_REPLACE), "down/replace");
	ck_assert_str_eq(fg_cmd_kind_to_string(FG_CMD_GPIO), "gpio");
	ck_assert_str_eq(fg_cmd_reason_to_string(FG_CMD_REASON__COUNT), "unknown");
}
END_TEST

START_TEST(topic_kinds)
{
	const char *p = "fieldgate/gw1/command/";
	enum fg_cmd_kind k = FG_CMD_KIND__COUNT;

	ck_assert_int_eq(fg_cmd_kind_from_topic(p, "fieldgate/gw1/command/down/push", &k), 0);
	ck_assert_int_eq(k, FG_CMD_DOWN_PUSH);
	ck_assert_int_eq(fg_cmd_kind_from_topic(p, "fieldgate/gw1/command/down/replace", &k), 0);
	ck_assert_int_eq(k, FG_CMD_DOWN_REPLACE);
	ck_assert_int_eq(fg_cmd_kind_from_topic(p, "fieldgate/gw1/command/gpio", &k), 0);
	ck_assert_int_eq(k, FG_CMD_GPIO);
	k = FG_CMD_KIND__COUNT;
	ck_assert_int_eq(fg_cmd_kind_from_topic(p, "fieldgate/gw1/command/gpio/", &k), -ENOENT);
	ck_assert_int_eq(fg_cmd_kind_from_topic(p, "fieldgate/gw1/command/down", &k), -ENOENT);
	ck_assert_int_eq(fg_cmd_kind_from_topic(p, "fieldgate/gw1/command/", &k), -ENOENT);
	ck_assert_int_eq(fg_cmd_kind_from_topic(p, "fieldgate/gw1/command/DOWN/PUSH", &k), -ENOENT);
	ck_assert_int_eq(fg_cmd_kind_from_topic(p, "fieldgate/gw1/command/reboot", &k), -ENOENT);
	ck_assert_int_eq(k, FG_CMD_KIND__COUNT);
	ck_assert_int_eq(fg_cmd_kind_from_topic(p, "fieldgate/gw2/command/gpio", &k), -EINVAL);
	ck_assert_int_eq(fg_cmd_kind_from_topic(p, "fieldgate/gw1/command", &k), -EINVAL);
	ck_assert_int_eq(fg_cmd_kind_from_topic(p, "gpio", &k), -EINVAL);
	ck_assert_int_eq(fg_cmd_kind_from_topic(p, "", &k), -EINVAL);
	ck_assert_int_eq(fg_cmd_kind_from_topic(NULL, "gpio", &k), -EINVAL);
	ck_assert_int_eq(k, FG_CMD_KIND__COUNT);
}
END_TEST

/* The reader on its own: what the command parser does not reach. */
START_TEST(reader_values)
{
	struct fg_jr jr;
	char key[8], s[8];
	size_t n;
	double d;
	int64_t i;
	bool b;

	const char *t =
		"{\"k\":\"\\ud83d\\ude00\\u00e9\\\"\",\"n\":-1.5e2,\"i\":-9223372036854775808,"
		"\"b\":true,\"z\":null,\"long\":\"0123456789\"}";
	fg_jr_init(&jr, t, strlen(t));
	ck_assert_int_eq(fg_jr_object_begin(&jr), 0);
	ck_assert_int_eq(fg_jr_member(&jr, key, sizeof(key), &n), 1);
	ck_assert_str_eq(key, "k");
	ck_assert_int_eq(fg_jr_number(&jr, &d), -EDOM);
	ck_assert_int_eq(fg_jr_string(&jr, s, sizeof(s), &n), 0);
	ck_assert_uint_eq(n, 7);
	ck_assert_str_eq(s, "\xf0\x9f\x98\x80\xc3\xa9\"");
	ck_assert_int_eq(fg_jr_member(&jr, key, sizeof(key), &n), 1);
	ck_assert_int_eq(fg_jr_int(&jr, INT64_MIN, INT64_MAX, &i), -EDOM);
	ck_assert_int_eq(fg_jr_number(&jr, &d), 0);
	ck_assert(d == -150.0);
	ck_assert_int_eq(fg_jr_member(&jr, key, sizeof(key), &n), 1);
	ck_assert_int_eq(fg_jr_int(&jr, INT64_MIN, INT64_MAX, &i), 0);
	ck_assert(i == INT64_MIN);
	ck_assert_int_eq(fg_jr_member(&jr, key, sizeof(key), &n), 1);
	ck_assert_int_eq(fg_jr_bool(&jr, &b), 0);
	ck_assert(b);
	ck_assert_int_eq(fg_jr_member(&jr, key, sizeof(key), &n), 1);
	ck_assert_int_eq(fg_jr_null(&jr), 0);
	ck_assert_int_eq(fg_jr_member(&jr, key, sizeof(key), &n), 1);
	ck_assert_int_eq(fg_jr_string(&jr, s, sizeof(s), &n), -ENOBUFS);
	ck_assert_uint_eq(n, 10);
	ck_assert_str_eq(s, "0123456");
	ck_assert_int_eq(fg_jr_member(&jr, key, sizeof(key), &n), 0);
	ck_assert_int_eq(fg_jr_end(&jr), 0);

	t = "[9223372036854775808, 1e999, 5]";
	fg_jr_init(&jr, t, strlen(t));
	const char *start;

	ck_assert_int_eq(fg_jr_object_begin(&jr), -EDOM);
	ck_assert_int_eq(fg_jr_skip(&jr, &start, &n), 0);
	ck_assert_ptr_eq(start, t);
	ck_assert_uint_eq(n, strlen(t));
	ck_assert_int_eq(fg_jr_end(&jr), 0);

	t = "9223372036854775808";
	fg_jr_init(&jr, t, strlen(t));
	ck_assert_int_eq(fg_jr_int(&jr, INT64_MIN, INT64_MAX, &i), -ERANGE);
	t = "1e999";
	fg_jr_init(&jr, t, strlen(t));
	ck_assert_int_eq(fg_jr_number(&jr, &d), -ERANGE);
	ck_assert_int_eq(fg_jr_end(&jr), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("command");
	TCase *tc;

	tc = tcase_create("downlink");
	tcase_add_test(tc, down_every_field);
	tcase_add_test(tc, down_defaults);
	tcase_add_test(tc, down_base64_and_object);
	tcase_add_test(tc, down_data_refusals);
	tcase_add_test(tc, down_data_length_limits);
	tcase_add_test(tc, down_f_port);
	tcase_add_test(tc, down_device);
	tcase_add_test(tc, down_confirmed_and_priority);
	tcase_add_test(tc, down_expires_forms);
	tcase_add_test(tc, down_expires_refusals);
	tcase_add_test(tc, down_unknown_and_duplicate_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_add_test(tc, ids);
	tcase_add_test(tc, malformed_text);
	tcase_add_test(tc, malformed_embedded_nul_and_length);
	tcase_add_test(tc, malformed_deep_nesting);
	tcase_add_test(tc, reader_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("gpio");
	tcase_add_test(tc, gpio_fields);
	tcase_add_test(tc, gpio_refusals);
	suite_add_tcase(s, tc);

	tc = tcase_create("records");
	tcase_add_test(tc, pack_round_trip);
	tcase_add_test(tc, pack_largest_fits);
	tcase_add_test(tc, unpack_truncated_and_garbage);
	tcase_add_test(tc, event_json_exact_text);
	tcase_add_test(tc, names);
	tcase_add_test(tc, topic_kinds);
	suite_add_tcase(s, tc);
	return fg_check_main(s);
}
