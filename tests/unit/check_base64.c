/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "util/base64.h"
#include "check-main.h"

/* RFC 4648 section 10, "Test Vectors", BASE64 column. */
static const struct {
	const char *plain;
	const char *encoded;
} rfc4648[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

#define N_VECTORS (sizeof(rfc4648) / sizeof(rfc4648[0]))

/* Decode a NUL-terminated string; the result's error or length. */
static int decode(const char *s, uint8_t *out, size_t size, size_t *len)
{
	return fg_base64_decode(s, strlen(s), out, size, len);
}

START_TEST(encode_rfc4648_vectors)
{
	for (size_t i = 0; i < N_VECTORS; i++) {
		char out[16];
		size_t n = strlen(rfc4648[i].plain);

		memset(out, 'x', sizeof(out));
		ck_assert_uint_eq(
			fg_base64_encode((const uint8_t *) rfc4648[i].plain, n, out, sizeof(out)),
			strlen(rfc4648[i].encoded));
		ck_assert_str_eq(out, rfc4648[i].encoded);
	}
}
END_TEST

START_TEST(decode_rfc4648_vectors)
{
	for (size_t i = 0; i < N_VECTORS; i++) {
		uint8_t out[16];
		size_t len = 99;

		ck_assert_int_eq(decode(rfc4648[i].encoded, out, sizeof(out), &len), 0);
		ck_assert_uint_eq(len, strlen(rfc4648[i].plain));
		ck_assert_mem_eq(out, rfc4648[i].plain, len);
	}
}
END_TEST

START_TEST(decode_rfc4648_vectors_without_padding)
{
	static const char *const unpadded[] = { "",	  "Zg",	     "Zm8",	"Zm9v",
						"Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };

	for (size_t i = 0; i < N_VECTORS; i++) {
		uint8_t out[16];
		size_t len = 99;

		ck_assert_int_eq(decode(unpadded[i], out, sizeof(out), &len), 0);
		ck_assert_uint_eq(len, strlen(rfc4648[i].plain));
		ck_assert_mem_eq(out, rfc4648[i].plain, len);
	}
}
END_TEST

START_TEST(every_byte_value_round_trips)
{
	uint8_t in[256], back[256];
	char text[4 * ((256 + 2) / 3) + 1];
	size_t len = 0;

	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t) (255 - i);
	/* Every length 0..256, so each tail (0, 1, 2 bytes) and all 64 letters occur. */
	for (size_t n = 0; n <= sizeof(in); n++) {
		size_t t = fg_base64_encode(in, n, text, sizeof(text));

		ck_assert_uint_eq(t, 4 * ((n + 2) / 3));
		ck_assert_uint_eq(strlen(text), t);
		ck_assert_int_eq(fg_base64_decode(text, t, back, n, &len), 0);
		ck_assert_uint_eq(len, n);
		ck_assert_mem_eq(back, in, n);
	}
	/* 0xfb 0xff 0xbf is "+/+/": both non-alphanumeric letters of the standard alphabet. */
	ck_assert_uint_eq(fg_base64_encode((const uint8_t *) "\xfb\xff\xbf", 3, text, sizeof(text)),
			  4);
	ck_assert_str_eq(text, "+/+/");
}
END_TEST

START_TEST(decode_refuses_malformed_text)
{
	static const struct {
		const char *s;
		size_t len; /* 0: strlen */
		const char *why;
	} bad[] = {
		{ "Zm9v YmFy", 0, "space" },
		{ "Zm9vYmFy\n", 0, "trailing newline" },
		{ "\tZm9v", 0, "leading tab" },
		{ "Zm9v\r\nYmFy", 0, "CRLF" },
		{ "Zm9-", 0, "URL-safe '-'" },
		{ "Zm9_", 0, "URL-safe '_'" },
		{ "Zm9v\xff", 0, "non-ASCII byte" },
		{ "Zm9v\0Zg==", 9, "NUL inside" },
		{ "Zm9vY", 0, "length 4k+1" },
		{ "Z", 0, "length 1" },
		{ "Zm9vY===", 0, "three '=' (4k+1 data)" },
		{ "====", 0, "padding only" },
		{ "=", 0, "a lone '='" },
		{ "Zg=", 0, "padding that does not complete the group" },
		{ "Zg===", 0, "one '=' too many" },
		{ "Zg==Zg==", 0, "padding in the middle" },
		{ "Zm=v", 0, "'=' inside a group" },
		{ "=m9v", 0, "'=' first" },
		{ "Zh==", 0, "nonzero unused bits, 1-byte tail" },
		{ "Zm9=", 0, "nonzero unused bits, 2-byte tail" },
		{ "Zh", 0, "nonzero unused bits, unpadded" },
		{ "Zm9", 0, "nonzero unused bits, unpadded 2-byte tail" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t out[16];
		size_t len = 12345;
		size_t n = bad[i].len ? bad[i].len : strlen(bad[i].s);

		ck_assert_msg(fg_base64_decode(bad[i].s, n, out, sizeof(out), &len) == -EBADMSG,
			      "accepted: %s", bad[i].why);
		ck_assert_msg(len == 12345, "ret_len written on failure: %s", bad[i].why);
	}
}
END_TEST

START_TEST(decode_reports_small_buffer)
{
	uint8_t out[6];
	size_t len = 7;

	ck_assert_int_eq(decode("Zm9vYmFy", out, 5, &len), -ENOBUFS);
	ck_assert_uint_eq(len, 7);
	ck_assert_int_eq(decode("Zm9vYmE=", out, 4, &len), -ENOBUFS);
	ck_assert_int_eq(decode("Zg", out, 0, &len), -ENOBUFS);
	/* Exactly large enough is enough. */
	ck_assert_int_eq(decode("Zm9vYmFy", out, 6, &len), 0);
	ck_assert_uint_eq(len, 6);
	ck_assert_mem_eq(out, "foobar", 6);
	ck_assert_int_eq(decode("", out, 0, &len), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(fg_base64_decode(NULL, 0, NULL, 0, &len), 0);
	ck_assert_uint_eq(len, 0);
	/* Malformed text wins over a small buffer: it is wrong whatever the size. */
	ck_assert_int_eq(decode("Zm9v Zm9v", out, 1, &len), -EBADMSG);
}
END_TEST

START_TEST(encode_refuses_small_buffer)
{
	char out[9];

	memset(out, 'x', sizeof(out));
	/* "foobar" needs 8 characters and the NUL. */
	ck_assert_uint_eq(fg_base64_encode((const uint8_t *) "foobar", 6, out, 8), 0);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(fg_base64_encode((const uint8_t *) "foobar", 6, out, 9), 8);
	ck_assert_str_eq(out, "Zm9vYmFy");
	ck_assert_uint_eq(fg_base64_encode((const uint8_t *) "f", 1, out, 0), 0);
	ck_assert_uint_eq(fg_base64_encode(NULL, 0, out, 1), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("base64");
	TCase *tc;

	tc = tcase_create("rfc4648");
	tcase_add_test(tc, encode_rfc4648_vectors);
	tcase_add_test(tc, decode_rfc4648_vectors);
	tcase_add_test(tc, decode_rfc4648_vectors_without_padding);
	tcase_add_test(tc, every_byte_value_round_trips);
	suite_add_tcase(s, tc);

	tc = tcase_create("refusals");
	tcase_add_test(tc, decode_refuses_malformed_text);
	tcase_add_test(tc, decode_reports_small_buffer);
	tcase_add_test(tc, encode_refuses_small_buffer);
	suite_add_tcase(s, tc);

	return fg_check_main(s);
}
