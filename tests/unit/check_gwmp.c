/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "core/log.h"
#include "source/gwmp.h"
#include "check-main.h"

#define EUI	 UINT64_C(0xaa555a0000000101)
#define OTHER	 UINT64_C(0x0102030405060708)
#define MAX_SEEN 8

/* What the handlers were given. */
struct seen {
	struct fg_gwmp_rxpk pk[MAX_SEEN];
	size_t n_pk;
	struct fg_gwmp_stat st[MAX_SEEN];
	size_t n_st;
	struct {
		uint64_t gateway;
		enum fg_gwmp_reason why;
		char detail[256];
	} ref[MAX_SEEN];
	size_t n_ref;
};

static void on_rxpk(const struct fg_gwmp_rxpk *pk, void *userdata)
{
	struct seen *s = userdata;

	ck_assert_uint_lt(s->n_pk, MAX_SEEN);
	s->pk[s->n_pk++] = *pk;
}

static void on_stat(const struct fg_gwmp_stat *st, void *userdata)
{
	struct seen *s = userdata;

	ck_assert_uint_lt(s->n_st, MAX_SEEN);
	s->st[s->n_st++] = *st;
}

static void on_refused(uint64_t gateway, enum fg_gwmp_reason why, const char *detail,
		       void *userdata)
{
	struct seen *s = userdata;

	ck_assert_uint_lt(s->n_ref, MAX_SEEN);
	ck_assert_ptr_nonnull(detail);
	s->ref[s->n_ref].gateway = gateway;
	s->ref[s->n_ref].why = why;
	snprintf(s->ref[s->n_ref].detail, sizeof(s->ref[0].detail), "%s", detail);
	s->n_ref++;
}

static const struct fg_gwmp_handlers handlers = {
	.rxpk = on_rxpk,
	.stat = on_stat,
	.refused = on_refused,
};

static struct fg_gwmp_config config(void)
{
	return (struct fg_gwmp_config){ .enabled = true, .listen = "127.0.0.1:0" };
}

/* A datagram: version, token (big-endian on the wire), identifier, EUI, then text. */
static size_t build(uint8_t *buf, size_t size, uint8_t version, uint16_t token, uint8_t type,
		    uint64_t eui, const char *json)
{
	size_t n = json ? strlen(json) : 0;

	ck_assert_uint_le(12 + n, size);
	buf[0] = version;
	buf[1] = (uint8_t) (token >> 8);
	buf[2] = (uint8_t) token;
	buf[3] = type;
	for (int i = 0; i < 8; i++)
		buf[4 + i] = (uint8_t) (eui >> (56 - 8 * i));
	if (n)
		memcpy(buf + 12, json, n);
	return 12 + n;
}

/* Handle a PUSH_DATA from EUI with token 0xabcd under cfg; returns the ack's length. */
static size_t push(const struct fg_gwmp_config *cfg, const char *json, struct seen *s,
		   uint8_t ack[4])
{
	uint8_t buf[4096];
	size_t n = build(buf, sizeof(buf), 2, 0xabcd, 0x00, EUI, json);

	return fg_gwmp_handle(cfg, buf, n, &handlers, s, ack, 4);
}

/* A PUSH_DATA with one rxpk whose members are `members` and gets the PUSH_ACK, whatever befalls it.
 */
static void push_one(const struct fg_gwmp_config *cfg, const char *members, struct seen *s)
{
	static const uint8_t push_ack[4] = { 2, 0xab, 0xcd, 0x01 };
	char json[2048];
	uint8_t ack[4] = { 0 };

	ck_assert_int_lt(snprintf(json, sizeof(json), "{\"rxpk\":[{%s}]}", members),
			 (int) sizeof(json));
	ck_assert_uint_eq(push(cfg, json, s, ack), 4);
	ck_assert_mem_eq(ack, push_ack, 4);
}

/* The good rxpk the tests vary: 15 bytes of an unconfirmed uplink. */
#define GOOD_MEMBERS                                                                               \
	"\"time\":\"2013-03-31T16:21:17.528002Z\",\"tmst\":3512348611,\"chan\":2,\"rfch\":0,"      \
	"\"freq\":868.1,\"stat\":1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"codr\":\"4/5\","      \
	"\"rssi\":-35,\"lsnr\":5.1,\"size\":15,\"data\":\"QBEiM0SAAAEBY7PB0uP0\""
static const uint8_t good_phy[15] = { 0x40, 0x11, 0x22, 0x33, 0x44, 0x80, 0x00, 0x01,
				      0x01, 0x63, 0xb3, 0xc1, 0xd2, 0xe3, 0xf4 };

/* Exactly one refusal, of this reason, whose detail contains `needle`. */
static void assert_refused(const struct seen *s, enum fg_gwmp_reason why, const char *needle)
{
	ck_assert_uint_eq(s->n_ref, 1);
	ck_assert_msg(s->ref[0].why == why, "reason %s, expected %s (detail '%s')",
		      fg_gwmp_reason_to_string(s->ref[0].why), fg_gwmp_reason_to_string(why),
		      s->ref[0].detail);
	ck_assert_msg(strstr(s->ref[0].detail, needle), "detail '%s' lacks '%s'", s->ref[0].detail,
		      needle);
}

START_TEST(push_data_one_rxpk_is_acked_and_parsed)
{
	struct fg_gwmp_config cfg = config();
	static struct seen s;
	const struct fg_gwmp_rxpk *pk = &s.pk[0];

	push_one(&cfg, GOOD_MEMBERS, &s);
	ck_assert_uint_eq(s.n_ref, 0);
	ck_assert_uint_eq(s.n_st, 0);
	ck_assert_uint_eq(s.n_pk, 1);
	ck_assert_uint_eq(pk->gateway, EUI);
	ck_assert(pk->has_time);
	/* 2013-03-31T16:21:17Z is 1364746877 s after the epoch; .528002 cut to ms. */
	ck_assert_uint_eq(pk->time_ms, UINT64_C(1364746877528));
	ck_assert(pk->has_tmst);
	ck_assert_uint_eq(pk->tmst, 3512348611u);
	ck_assert_uint_eq(pk->freq_hz, 868100000u);
	ck_assert_int_eq(pk->chan, 2);
	ck_assert_int_eq(pk->rfch, 0);
	ck_assert_int_eq(pk->stat, 1);
	ck_assert_uint_eq(pk->sf, 7);
	ck_assert_uint_eq(pk->bw_hz, 125000);
	ck_assert_str_eq(pk->codr, "4/5");
	ck_assert(pk->has_rssi);
	ck_assert_int_eq(pk->rssi, -35);
	ck_assert(pk->has_lsnr);
	ck_assert_float_eq_tol(pk->lsnr, 5.1f, 1e-6);
	ck_assert_uint_eq(pk->len, sizeof(good_phy));
	ck_assert_mem_eq(pk->data, good_phy, sizeof(good_phy));
}
END_TEST

START_TEST(push_data_several_rxpk_are_handed_over_in_order)
{
	struct fg_gwmp_config cfg = config();
	static struct seen s;
	uint8_t ack[4] = { 0 };
	static const uint8_t push_ack[4] = { 2, 0xab, 0xcd, 0x01 };
	const char *json =
		"{\"rxpk\":["
		"{\"tmst\":1,\"freq\":868.3,\"stat\":1,\"modu\":\"LORA\",\"datr\":\"SF12BW125\","
		"\"size\":1,\"data\":\"Zg==\",\"rssi\":-120,\"lsnr\":-17.5},"
		"{\"tmst\":2,\"freq\":867.5,\"stat\":1,\"modu\":\"LORA\",\"datr\":\"SF10BW250\","
		"\"size\":2,\"data\":\"Zm8=\"},"
		"{\"tmst\":4294967295,\"freq\":923.3,\"stat\":1,\"modu\":\"LORA\","
		"\"datr\":\"SF8BW500\",\"size\":3,\"data\":\"Zm9v\",\"time\":\"2024-02-29T23:59:"
		"59Z\"}"
		"]}";

	ck_assert_uint_eq(push(&cfg, json, &s, ack), 4);
	ck_assert_mem_eq(ack, push_ack, 4);
	ck_assert_uint_eq(s.n_ref, 0);
	ck_assert_uint_eq(s.n_pk, 3);
	ck_assert_uint_eq(s.pk[0].tmst, 1);
	ck_assert_uint_eq(s.pk[0].freq_hz, 868300000u);
	ck_assert_uint_eq(s.pk[0].sf, 12);
	ck_assert_uint_eq(s.pk[0].bw_hz, 125000);
	ck_assert_int_eq(s.pk[0].rssi, -120);
	ck_assert_float_eq_tol(s.pk[0].lsnr, -17.5f, 1e-6);
	ck_assert_mem_eq(s.pk[0].data, "f", 1);
	ck_assert(!s.pk[0].has_time);
	ck_assert_uint_eq(s.pk[1].tmst, 2);
	ck_assert_uint_eq(s.pk[1].freq_hz, 867500000u);
	ck_assert_uint_eq(s.pk[1].sf, 10);
	ck_assert_uint_eq(s.pk[1].bw_hz, 250000);
	ck_assert(!s.pk[1].has_rssi);
	ck_assert(!s.pk[1].has_lsnr);
	ck_assert_int_eq(s.pk[1].chan, -1);
	ck_assert_int_eq(s.pk[1].rfch, -1);
	ck_assert_str_eq(s.pk[1].codr, "");
	ck_assert_uint_eq(s.pk[1].len, 2);
	ck_assert_uint_eq(s.pk[2].tmst, 4294967295u);
	ck_assert_uint_eq(s.pk[2].freq_hz, 923300000u);
	ck_assert_uint_eq(s.pk[2].sf, 8);
	ck_assert_uint_eq(s.pk[2].bw_hz, 500000);
	ck_assert(s.pk[2].has_time);
	ck_assert_uint_eq(s.pk[2].time_ms, UINT64_C(1709251199000));
	ck_assert_mem_eq(s.pk[2].data, "foo", 3);
}
END_TEST

START_TEST(time_forms_are_parsed)
{
	static const struct {
		const char *time;
		uint64_t ms;
	} forms[] = {
		{ "2013-03-31T16:21:17Z", UINT64_C(1364746877000) },
		{ "2013-03-31T16:21:17.5Z", UINT64_C(1364746877500) },
		{ "2013-03-31T16:21:17.999999999Z", UINT64_C(1364746877999) },
		{ "1970-01-01T00:00:00.000Z", 0 },
		/* The leap second at the end of 2016 reads as the next day's first second. */
		{ "2016-12-31T23:59:60.25Z", UINT64_C(1483228800250) },
	};
	struct fg_gwmp_config cfg = config();

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct seen s = { 0 };
		char members[512];

		snprintf(members, sizeof(members), GOOD_MEMBERS ",\"tmms\":1,\"time\":\"%s\"",
			 forms[i].time);
		/* GOOD_MEMBERS has a "time" already: drop it, or the key is a duplicate. */
		memmove(members, strstr(members, "\"tmst\""),
			strlen(strstr(members, "\"tmst\"")) + 1);
		push_one(&cfg, members, &s);
		ck_assert_msg(s.n_pk == 1, "%s refused: %s", forms[i].time,
			      s.n_ref ? s.ref[0].detail : "");
		ck_assert(s.pk[0].has_time);
		ck_assert_uint_eq(s.pk[0].time_ms, forms[i].ms);
	}
}
END_TEST

START_TEST(push_data_stat_is_parsed)
{
	struct fg_gwmp_config cfg = config();
	static struct seen s;
	uint8_t ack[4];
	/* The example of PROTOCOL.TXT section 4. */
	const char *json = "{\"stat\":{\"time\":\"2014-01-12 08:59:28 GMT\",\"lati\":46.24000,"
			   "\"long\":3.25230,\"alti\":145,\"rxnb\":2,\"rxok\":2,\"rxfw\":2,"
			   "\"ackr\":100.0,\"dwnb\":2,\"txnb\":2}}";

	ck_assert_uint_eq(push(&cfg, json, &s, ack), 4);
	ck_assert_uint_eq(s.n_ref, 0);
	ck_assert_uint_eq(s.n_pk, 0);
	ck_assert_uint_eq(s.n_st, 1);
	ck_assert_uint_eq(s.st[0].gateway, EUI);
	ck_assert(s.st[0].has_position);
	ck_assert_double_eq_tol(s.st[0].lat, 46.24, 1e-9);
	ck_assert_double_eq_tol(s.st[0].lon, 3.2523, 1e-9);
	ck_assert_int_eq(s.st[0].alt, 145);
	ck_assert(s.st[0].has_rx);
	ck_assert_uint_eq(s.st[0].rxnb, 2);
	ck_assert_uint_eq(s.st[0].rxok, 2);
	ck_assert_uint_eq(s.st[0].rxfw, 2);
	ck_assert(s.st[0].has_ackr);
	ck_assert_double_eq_tol(s.st[0].ackr, 100.0, 1e-9);
	ck_assert(s.st[0].has_tx);
	ck_assert_uint_eq(s.st[0].dwnb, 2);
	ck_assert_uint_eq(s.st[0].txnb, 2);
}
END_TEST

START_TEST(push_data_stat_without_gps_has_no_position)
{
	struct fg_gwmp_config cfg = config();
	static struct seen s;
	uint8_t ack[4];

	ck_assert_uint_eq(push(&cfg, "{\"stat\":{\"rxnb\":7,\"rxok\":5,\"rxfw\":5}}", &s, ack), 4);
	ck_assert_uint_eq(s.n_st, 1);
	ck_assert(!s.st[0].has_position);
	ck_assert(s.st[0].has_rx);
	ck_assert_uint_eq(s.st[0].rxnb, 7);
	ck_assert_uint_eq(s.st[0].rxok, 5);
	ck_assert(!s.st[0].has_ackr);
	ck_assert(!s.st[0].has_tx);
}
END_TEST

START_TEST(pull_data_gets_pull_ack)
{
	struct fg_gwmp_config cfg = config();
	static struct seen s;
	static const uint8_t pull_ack[4] = { 2, 0x12, 0x34, 0x04 };
	uint8_t buf[64], ack[8] = { 0 };
	size_t n = build(buf, sizeof(buf), 2, 0x1234, 0x02, EUI, NULL);

	ck_assert_uint_eq(fg_gwmp_handle(&cfg, buf, n, &handlers, &s, ack, sizeof(ack)), 4);
	ck_assert_mem_eq(ack, pull_ack, 4);
	ck_assert_uint_eq(s.n_ref + s.n_pk + s.n_st, 0);
}
END_TEST

START_TEST(tx_ack_is_accepted_without_answer)
{
	struct fg_gwmp_config cfg = config();
	static struct seen s;
	uint8_t buf[128], ack[4] = { 0xee, 0xee, 0xee, 0xee };
	size_t n = build(buf, sizeof(buf), 2, 0x0042, 0x05, EUI, NULL);

	ck_assert_uint_eq(fg_gwmp_handle(&cfg, buf, n, &handlers, &s, ack, 4), 0);
	n = build(buf, sizeof(buf), 2, 0x0042, 0x05, EUI, "{\"txpk_ack\":{\"error\":\"NONE\"}}");
	ck_assert_uint_eq(fg_gwmp_handle(&cfg, buf, n, &handlers, &s, ack, 4), 0);
	ck_assert_uint_eq(s.n_ref + s.n_pk + s.n_st, 0);
	ck_assert_uint_eq(ack[0], 0xee);
}
END_TEST

START_TEST(version_1_is_acked_in_version_1)
{
	struct fg_gwmp_config cfg = config();
	static struct seen s;
	static const uint8_t push_ack_v1[4] = { 1, 0xff, 0x00, 0x01 };
	uint8_t buf[256], ack[4];
	size_t n = build(buf, sizeof(buf), 1, 0xff00, 0x00, EUI, "{\"rxpk\":[{" GOOD_MEMBERS "}]}");

	ck_assert_uint_eq(fg_gwmp_handle(&cfg, buf, n, &handlers, &s, ack, 4), 4);
	ck_assert_mem_eq(ack, push_ack_v1, 4);
	ck_assert_uint_eq(s.n_pk, 1);
}
END_TEST

START_TEST(handlers_may_be_null)
{
	struct fg_gwmp_config cfg = config();
	static const uint8_t push_ack[4] = { 2, 0xab, 0xcd, 0x01 };
	uint8_t buf[512], ack[4];
	size_t n = build(buf, sizeof(buf), 2, 0xabcd, 0x00, EUI,
			 "{\"rxpk\":[{" GOOD_MEMBERS "},{}],\"stat\":{}}");
	struct fg_gwmp_handlers none = { 0 };

	ck_assert_uint_eq(fg_gwmp_handle(&cfg, buf, n, NULL, NULL, ack, 4), 4);
	ck_assert_mem_eq(ack, push_ack, 4);
	ck_assert_uint_eq(fg_gwmp_handle(&cfg, buf, 3, &none, NULL, ack, 4), 0);
}
END_TEST

START_TEST(short_datagrams_are_refused)
{
	struct fg_gwmp_config cfg = config();
	static const uint8_t with_eui[] = { 0x02, 0x05 };
	uint8_t buf[64], ack[4];

	build(buf, sizeof(buf), 2, 0x0101, 0x00, EUI, NULL);
	for (size_t len = 0; len < 12; len++) {
		struct seen s = { 0 };

		ck_assert_uint_eq(fg_gwmp_handle(&cfg, buf, len, &handlers, &s, ack, 4), 0);
		assert_refused(&s, FG_GWMP_TOO_SHORT, "bytes");
		ck_assert_uint_eq(s.ref[0].gateway, 0);
	}
	/* PULL_DATA and TX_ACK carry the EUI too. */
	for (size_t i = 0; i < sizeof(with_eui); i++) {
		struct seen s = { 0 };

		build(buf, sizeof(buf), 2, 0x0101, with_eui[i], EUI, NULL);
		ck_assert_uint_eq(fg_gwmp_handle(&cfg, buf, 11, &handlers, &s, ack, 4), 0);
		assert_refused(&s, FG_GWMP_TOO_SHORT, "11 bytes");
	}
}
END_TEST

START_TEST(bad_version_is_refused)
{
	struct fg_gwmp_config cfg = config();
	static const uint8_t versions[] = { 0, 3, 0xff };

	for (size_t i = 0; i < sizeof(versions); i++) {
		struct seen s = { 0 };
		uint8_t buf[256], ack[4];
		size_t n = build(buf, sizeof(buf), versions[i], 1, 0x00, EUI,
				 "{\"rxpk\":[{" GOOD_MEMBERS "}]}");
		char want[16];

		ck_assert_uint_eq(fg_gwmp_handle(&cfg, buf, n, &handlers, &s, ack, 4), 0);
		snprintf(want, sizeof(want), "version %u", versions[i]);
		assert_refused(&s, FG_GWMP_BAD_VERSION, want);
		ck_assert_uint_eq(s.n_pk, 0);
	}
}
END_TEST

START_TEST(downlink_and_unknown_types_are_refused)
{
	struct fg_gwmp_config cfg = config();
	/* PUSH_ACK, PULL_RESP, PULL_ACK go to a gateway; 0x06 and up are not defined. */
	static const uint8_t types[] = { 0x01, 0x03, 0x04, 0x06, 0xff };

	for (size_t i = 0; i < sizeof(types); i++) {
		struct seen s = { 0 };
		uint8_t buf[64], ack[4];
		size_t n = build(buf, sizeof(buf), 2, 7, types[i], EUI, "{\"txpk\":{}}");
		char want[24];

		ck_assert_uint_eq(fg_gwmp_handle(&cfg, buf, n, &handlers, &s, ack, 4), 0);
		snprintf(want, sizeof(want), "identifier 0x%02x", types[i]);
		assert_refused(&s, FG_GWMP_UNKNOWN_TYPE, want);
		/* Even a 4-byte header is judged by its identifier. */
		s.n_ref = 0;
		ck_assert_uint_eq(fg_gwmp_handle(&cfg, buf, 4, &handlers, &s, ack, 4), 0);
		assert_refused(&s, FG_GWMP_UNKNOWN_TYPE, want);
	}
}
END_TEST

START_TEST(bad_json_is_refused_but_acked)
{
	static const struct {
		const char *json;
		const char *detail;
	} bad[] = {
		{ "", "line 1" },
		{ "{\"rxpk\":[", "line 1" },
		{ "not json", "line 1 column" },
		{ "{\"rxpk\":[]} trailing", "end of file expected" },
		{ "{\"stat\":{},\"stat\":{}}", "duplicate" },
		{ "[{\"rxpk\":[]}]", "not an object" },
		{ "{\"rxpk\":{}}", "'rxpk' is not an array" },
		{ "{\"stat\":[]}", "'stat' is not an object" },
	};
	struct fg_gwmp_config cfg = config();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		static const uint8_t push_ack[4] = { 2, 0xab, 0xcd, 0x01 };
		uint8_t ack[4] = { 0 };
		struct seen s = { 0 };

		ck_assert_uint_eq(push(&cfg, bad[i].json, &s, ack), 4);
		ck_assert_mem_eq(ack, push_ack, 4);
		assert_refused(&s, FG_GWMP_BAD_JSON, bad[i].detail);
		ck_assert_uint_eq(s.ref[0].gateway, EUI);
		ck_assert_uint_eq(s.n_pk + s.n_st, 0);
	}
}
END_TEST

START_TEST(empty_object_is_acked_quietly)
{
	struct fg_gwmp_config cfg = config();
	static struct seen s;
	uint8_t ack[4];

	ck_assert_uint_eq(push(&cfg, "{}", &s, ack), 4);
	ck_assert_uint_eq(push(&cfg, "{\"rxpk\":[]}", &s, ack), 4);
	ck_assert_uint_eq(push(&cfg, "{\"unknown\":1,\"rxpk\":[]}", &s, ack), 4);
	ck_assert_uint_eq(s.n_ref + s.n_pk + s.n_st, 0);
}
END_TEST

START_TEST(bad_rxpk_names_the_member)
{
	static const struct {
		const char *members;
		const char *detail;
	} bad[] = {
		{ "\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"stat\":1",
		  "no 'data'" },
		{ "\"data\":\"Zg==\",\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"stat\":1",
		  "no 'freq'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"datr\":\"SF7BW125\",\"stat\":1",
		  "no 'modu'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"modu\":\"LORA\",\"stat\":1", "no 'datr'" },
		{ GOOD_MEMBERS ",\"bad\":0,\"freq\":\"868.1\"", "duplicate" },
		{ "\"data\":\"Zg==\",\"freq\":\"868.1\",\"modu\":\"LORA\",\"datr\":\"SF7BW125\"",
		  "'freq'" },
		{ "\"data\":\"Zg==\",\"freq\":0,\"modu\":\"LORA\",\"datr\":\"SF7BW125\"",
		  "'freq'" },
		{ "\"data\":\"Zg==\",\"freq\":-868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\"",
		  "'freq'" },
		{ "\"data\":\"Zg==\",\"freq\":5000,\"modu\":\"LORA\",\"datr\":\"SF7BW125\"",
		  "'freq'" },
		{ "\"data\":12,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\"", "'data'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"modu\":1,\"datr\":\"SF7BW125\"", "'modu'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\","
		  "\"stat\":1,\"tmst\":-1",
		  "'tmst'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\","
		  "\"stat\":1,\"tmst\":4294967296",
		  "'tmst'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\","
		  "\"stat\":1,\"tmst\":1.5",
		  "'tmst'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\","
		  "\"stat\":2",
		  "'stat'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\","
		  "\"stat\":1,\"rssi\":\"-35\"",
		  "'rssi'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\","
		  "\"stat\":1,\"lsnr\":null",
		  "'lsnr'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\","
		  "\"stat\":1,\"chan\":-2",
		  "'chan'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\","
		  "\"stat\":1,\"rfch\":true",
		  "'rfch'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\","
		  "\"stat\":1,\"codr\":\"4/5-and-more\"",
		  "'codr'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\","
		  "\"stat\":1,\"size\":\"1\"",
		  "'size'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF13BW125\","
		  "\"stat\":1",
		  "'datr'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW126\","
		  "\"stat\":1",
		  "'datr'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125 "
		  "\",\"stat\":1",
		  "'datr'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"modu\":\"LORA\",\"datr\":50000,\"stat\":1",
		  "'datr'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\","
		  "\"stat\":1,"
		  "\"time\":\"2013-02-29T00:00:00Z\"",
		  "'time'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\","
		  "\"stat\":1,"
		  "\"time\":\"2013-03-31T16:21:17.528002\"",
		  "'time'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\","
		  "\"stat\":1,"
		  "\"time\":\"2014-01-12 08:59:28 GMT\"",
		  "'time'" },
		{ "\"data\":\"Zg==\",\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\","
		  "\"stat\":1,"
		  "\"time\":1364746877",
		  "'time'" },
	};
	struct fg_gwmp_config cfg = config();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct seen s = { 0 };

		push_one(&cfg, bad[i].members, &s);
		ck_assert_uint_eq(s.n_pk, 0);
		ck_assert_msg(s.n_ref == 1, "case %zu: %zu refusals", i, s.n_ref);
		/* A duplicate key spoils the whole JSON text, not one rxpk. */
		assert_refused(&s,
			       strcmp(bad[i].detail, "duplicate") ? FG_GWMP_BAD_RXPK
								  : FG_GWMP_BAD_JSON,
			       bad[i].detail);
	}
}
END_TEST

START_TEST(rxpk_that_is_not_an_object_is_refused)
{
	struct fg_gwmp_config cfg = config();
	static struct seen s;
	uint8_t ack[4];

	ck_assert_uint_eq(push(&cfg, "{\"rxpk\":[42]}", &s, ack), 4);
	assert_refused(&s, FG_GWMP_BAD_RXPK, "rxpk[0]: not an object");
	ck_assert_uint_eq(s.ref[0].gateway, EUI);
}
END_TEST

START_TEST(bad_rxpk_does_not_drop_its_siblings)
{
	struct fg_gwmp_config cfg = config();
	static struct seen s;
	uint8_t ack[4];
	const char *json = "{\"rxpk\":[{\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\"},"
			   "{" GOOD_MEMBERS "},"
			   "{\"freq\":868.5,\"stat\":-1,\"modu\":\"LORA\",\"datr\":\"SF9BW125\","
			   "\"data\":\"Zg==\"}],"
			   "\"stat\":{\"rxnb\":3}}";

	ck_assert_uint_eq(push(&cfg, json, &s, ack), 4);
	ck_assert_uint_eq(s.n_pk, 1);
	ck_assert_uint_eq(s.pk[0].freq_hz, 868100000u);
	ck_assert_mem_eq(s.pk[0].data, good_phy, sizeof(good_phy));
	ck_assert_uint_eq(s.n_ref, 2);
	ck_assert_int_eq(s.ref[0].why, FG_GWMP_BAD_RXPK);
	ck_assert_str_eq(s.ref[0].detail, "rxpk[0]: no 'data'");
	ck_assert_int_eq(s.ref[1].why, FG_GWMP_CRC_ERROR);
	ck_assert_str_eq(s.ref[1].detail, "rxpk[2]: stat -1");
	ck_assert_uint_eq(s.n_st, 1);
	ck_assert_uint_eq(s.st[0].rxnb, 3);
}
END_TEST

START_TEST(bad_base64_is_refused)
{
	static const char *const data[] = { "Zm9v YmFy", "Zm9vYg=", "Zh==", "-DS4CGaDCdG" };
	struct fg_gwmp_config cfg = config();

	for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
		struct seen s = { 0 };
		char members[256];

		snprintf(members, sizeof(members),
			 "\"freq\":868.1,\"stat\":1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\","
			 "\"data\":\"%s\"",
			 data[i]);
		push_one(&cfg, members, &s);
		assert_refused(&s, FG_GWMP_BAD_BASE64, "rxpk[0]: 'data' is not base64");
		ck_assert_uint_eq(s.n_pk, 0);
	}
}
END_TEST

START_TEST(payload_longer_than_a_phy_is_refused)
{
	struct fg_gwmp_config cfg = config();
	static struct seen s;
	char members[1024];
	int n;

	/* 256 bytes: 85 groups of "AAAA" (255 bytes) and "AA==" (1 more). */
	n = snprintf(
		members, sizeof(members),
		"\"freq\":868.1,\"stat\":1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"data\":\"");
	for (int i = 0; i < 85; i++)
		n += snprintf(members + n, sizeof(members) - (size_t) n, "AAAA");
	snprintf(members + n, sizeof(members) - (size_t) n, "AA==\"");
	push_one(&cfg, members, &s);
	assert_refused(&s, FG_GWMP_BAD_RXPK, "'data' is longer than 255 bytes");
}
END_TEST

START_TEST(size_mismatch_is_refused)
{
	struct fg_gwmp_config cfg = config();
	static struct seen s;

	push_one(&cfg,
		 "\"freq\":868.1,\"stat\":1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"size\":4,"
		 "\"data\":\"Zm9v\"",
		 &s);
	assert_refused(&s, FG_GWMP_SIZE_MISMATCH, "rxpk[0]: 'size' 4, data has 3 bytes");
	ck_assert_uint_eq(s.n_pk, 0);
}
END_TEST

START_TEST(crc_error_is_refused)
{
	struct fg_gwmp_config cfg = config();
	static struct seen s;

	cfg.accept_no_crc = true;
	push_one(&cfg,
		 "\"freq\":868.1,\"stat\":-1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\","
		 "\"data\":\"Zm9v\"",
		 &s);
	assert_refused(&s, FG_GWMP_CRC_ERROR, "stat -1");
	ck_assert_uint_eq(s.n_pk, 0);
}
END_TEST

START_TEST(no_crc_is_refused_unless_accepted)
{
	struct fg_gwmp_config cfg = config();
	static struct seen s;
	const char *stat0 = "\"freq\":868.1,\"stat\":0,\"modu\":\"LORA\",\"datr\":\"SF7BW125\","
			    "\"data\":\"Zm9v\"";
	const char *no_stat =
		"\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"data\":\"Zm9v\"";

	push_one(&cfg, stat0, &s);
	assert_refused(&s, FG_GWMP_NO_CRC, "rxpk[0]: stat 0");
	/* Without "stat" nothing vouches for the frame: treated as no CRC. */
	memset(&s, 0, sizeof(s));
	push_one(&cfg, no_stat, &s);
	assert_refused(&s, FG_GWMP_NO_CRC, "stat 0");
	ck_assert_uint_eq(s.n_pk, 0);

	memset(&s, 0, sizeof(s));
	cfg.accept_no_crc = true;
	push_one(&cfg, stat0, &s);
	push_one(&cfg, no_stat, &s);
	ck_assert_uint_eq(s.n_ref, 0);
	ck_assert_uint_eq(s.n_pk, 2);
	ck_assert_int_eq(s.pk[0].stat, 0);
	ck_assert_int_eq(s.pk[1].stat, 0);
	ck_assert_mem_eq(s.pk[0].data, "foo", 3);
}
END_TEST

START_TEST(fsk_is_not_lora)
{
	struct fg_gwmp_config cfg = config();
	static struct seen s;

	/* The FSK example of PROTOCOL.TXT section 4. */
	push_one(&cfg,
		 "\"time\":\"2013-03-31T16:21:17.530974Z\",\"tmst\":3512348514,\"chan\":9,"
		 "\"rfch\":1,\"freq\":869.1,\"stat\":1,\"modu\":\"FSK\",\"datr\":50000,"
		 "\"rssi\":-75,\"size\":16,\"data\":\"VEVTVF9QQUNLRVRfMTIzNA==\"",
		 &s);
	assert_refused(&s, FG_GWMP_NOT_LORA, "rxpk[0]: modu 'FSK'");
	ck_assert_uint_eq(s.n_pk, 0);
}
END_TEST

START_TEST(detail_quotes_the_peer_safely)
{
	struct fg_gwmp_config cfg = config();
	static struct seen s;

	push_one(&cfg,
		 "\"freq\":868.1,\"stat\":1,\"modu\":\"\\u001b[31m\\u00e9\",\"datr\":\"SF7BW125\","
		 "\"data\":\"Zm9v\"",
		 &s);
	/* ESC and the two bytes of U+00E9 are replaced: no control bytes reach a log line. */
	assert_refused(&s, FG_GWMP_NOT_LORA, "rxpk[0]: modu '?[31m?\?'");
}
END_TEST

START_TEST(bad_stat_is_refused_without_dropping_rxpk)
{
	static const struct {
		const char *stat;
		const char *detail;
	} bad[] = {
		{ "{\"lati\":200,\"long\":3.2}", "'lati'" },
		{ "{\"lati\":46.2,\"long\":-181}", "'long'" },
		{ "{\"lati\":46.2}", "'lati' and 'long'" },
		{ "{\"alti\":1.5}", "'alti'" },
		{ "{\"rxnb\":-1}", "'rxnb'" },
		{ "{\"rxok\":\"2\"}", "'rxok'" },
		{ "{\"rxfw\":4294967296}", "'rxfw'" },
		{ "{\"ackr\":101}", "'ackr'" },
		{ "{\"dwnb\":null}", "'dwnb'" },
		{ "{\"txnb\":1e3}", "'txnb'" },
		{ "{\"time\":0}", "'time'" },
	};
	struct fg_gwmp_config cfg = config();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct seen s = { 0 };
		uint8_t ack[4];
		char json[512];

		snprintf(json, sizeof(json), "{\"rxpk\":[{" GOOD_MEMBERS "}],\"stat\":%s}",
			 bad[i].stat);
		ck_assert_uint_eq(push(&cfg, json, &s, ack), 4);
		assert_refused(&s, FG_GWMP_BAD_STAT, bad[i].detail);
		ck_assert(strncmp(s.ref[0].detail, "stat: ", 6) == 0);
		ck_assert_uint_eq(s.n_st, 0);
		ck_assert_uint_eq(s.n_pk, 1);
	}
}
END_TEST

START_TEST(gateway_filter_refuses_unlisted_without_ack)
{
	struct fg_gwmp_config cfg = config();
	static const uint8_t pull_ack[4] = { 2, 0x00, 0x07, 0x04 };
	uint8_t buf[512], ack[4];
	struct seen s = { 0 };
	size_t n;

	cfg.gateways[0] = OTHER;
	cfg.gateways[1] = EUI;
	cfg.n_gateways = 2;
	/* Listed: acked and handed over. */
	n = build(buf, sizeof(buf), 2, 7, 0x00, EUI, "{\"rxpk\":[{" GOOD_MEMBERS "}]}");
	ck_assert_uint_eq(fg_gwmp_handle(&cfg, buf, n, &handlers, &s, ack, 4), 4);
	ck_assert_uint_eq(s.n_pk, 1);
	n = build(buf, sizeof(buf), 2, 7, 0x02, OTHER, NULL);
	ck_assert_uint_eq(fg_gwmp_handle(&cfg, buf, n, &handlers, &s, ack, 4), 4);
	ck_assert_mem_eq(ack, pull_ack, 4);
	ck_assert_uint_eq(s.n_ref, 0);

	/* Not listed: no ack, no frames, one refusal naming it. */
	cfg.n_gateways = 1;
	memset(&s, 0, sizeof(s));
	n = build(buf, sizeof(buf), 2, 7, 0x00, EUI, "{\"rxpk\":[{" GOOD_MEMBERS "}]}");
	ck_assert_uint_eq(fg_gwmp_handle(&cfg, buf, n, &handlers, &s, ack, 4), 0);
	assert_refused(&s, FG_GWMP_UNKNOWN_GATEWAY, "gateway aa555a0000000101 not listed");
	ck_assert_uint_eq(s.ref[0].gateway, EUI);
	ck_assert_uint_eq(s.n_pk, 0);
	memset(&s, 0, sizeof(s));
	n = build(buf, sizeof(buf), 2, 7, 0x02, EUI, NULL);
	ck_assert_uint_eq(fg_gwmp_handle(&cfg, buf, n, &handlers, &s, ack, 4), 0);
	assert_refused(&s, FG_GWMP_UNKNOWN_GATEWAY, "not listed");
	memset(&s, 0, sizeof(s));
	n = build(buf, sizeof(buf), 2, 7, 0x05, EUI, NULL);
	ck_assert_uint_eq(fg_gwmp_handle(&cfg, buf, n, &handlers, &s, ack, 4), 0);
	assert_refused(&s, FG_GWMP_UNKNOWN_GATEWAY, "not listed");
}
END_TEST

START_TEST(reasons_have_stable_names)
{
	ck_assert_str_eq(fg_gwmp_reason_to_string(FG_GWMP_OK), "ok");
	ck_assert_str_eq(fg_gwmp_reason_to_string(FG_GWMP_TOO_SHORT), "too-short");
	ck_assert_str_eq(fg_gwmp_reason_to_string(FG_GWMP_BAD_VERSION), "bad-version");
	ck_assert_str_eq(fg_gwmp_reason_to_string(FG_GWMP_UNKNOWN_TYPE), "unknown-type");
	ck_assert_str_eq(fg_gwmp_reason_to_string(FG_GWMP_UNKNOWN_GATEWAY), "unknown-gateway");
	ck_assert_str_eq(fg_gwmp_reason_to_string(FG_GWMP_BAD_JSON), "bad-json");
	ck_assert_str_eq(fg_gwmp_reason_to_string(FG_GWMP_BAD_RXPK), "bad-rxpk");
	ck_assert_str_eq(fg_gwmp_reason_to_string(FG_GWMP_BAD_BASE64), "bad-base64");
	ck_assert_str_eq(fg_gwmp_reason_to_string(FG_GWMP_SIZE_MISMATCH), "size-mismatch");
	ck_assert_str_eq(fg_gwmp_reason_to_string(FG_GWMP_CRC_ERROR), "crc-error");
	ck_assert_str_eq(fg_gwmp_reason_to_string(FG_GWMP_NO_CRC), "no-crc");
	ck_assert_str_eq(fg_gwmp_reason_to_string(FG_GWMP_NOT_LORA), "not-lora");
	ck_assert_str_eq(fg_gwmp_reason_to_string(FG_GWMP_BAD_STAT), "bad-stat");
	ck_assert_str_eq(fg_gwmp_reason_to_string(FG_GWMP_REASON__COUNT), "unknown");
}
END_TEST

/* ---------------------------------------------------------------- on a real socket */

/* Capture log lines in memory for the duration of a test. */
static char *log_text;
static size_t log_size;
static FILE *log_stream;

static void log_setup(void)
{
	log_stream = open_memstream(&log_text, &log_size);
	ck_assert_ptr_nonnull(log_stream);
	fg_log_set_stream(log_stream);
}

static void log_teardown(void)
{
	fg_log_set_stream(NULL);
	fclose(log_stream);
	free(log_text);
	log_text = NULL;
}

static const char *log_read(void)
{
	fflush(log_stream);
	return log_text ? log_text : "";
}

/* A client UDP socket, as a forwarder has. */
static int client_socket(int family)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	return fd;
}

/* Run the loop until the handlers saw `want` frames or a second passed. */
static void run_until(sd_event *loop, const struct seen *s, size_t want)
{
	for (int i = 0; i < 100 && s->n_pk < want; i++)
		ck_assert_int_ge(sd_event_run(loop, 10 * 1000), 0);
}

/* Wait for one datagram on fd (1 s at most); its length, or -1. */
static ssize_t recv_wait(int fd, uint8_t *buf, size_t size)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 1000) != 1)
		return -1;
	return recv(fd, buf, size, MSG_DONTWAIT);
}

START_TEST(server_acks_and_hands_over_on_a_real_socket)
{
	struct fg_gwmp_config cfg = config();
	static const uint8_t push_ack[4] = { 2, 0xab, 0xcd, 0x01 };
	static const uint8_t pull_ack[4] = { 2, 0x00, 0x09, 0x04 };
	static struct seen s;
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct fg_gwmp_stats st;
	struct fg_gwmp *g = NULL;
	sd_event *loop = NULL;
	uint8_t buf[1024], ack[16];
	size_t n;
	int fd;

	ck_assert_int_ge(sd_event_new(&loop), 0);
	ck_assert_int_eq(fg_gwmp_new(&cfg, loop, &handlers, &s, &g), 0);
	ck_assert_uint_ne(fg_gwmp_port(g), 0);
	to.sin_port = htons(fg_gwmp_port(g));
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = client_socket(AF_INET);

	n = build(buf, sizeof(buf), 2, 0xabcd, 0x00, EUI, "{\"rxpk\":[{" GOOD_MEMBERS "}]}");
	ck_assert_int_eq(sendto(fd, buf, n, 0, (struct sockaddr *) &to, sizeof(to)), (ssize_t) n);
	run_until(loop, &s, 1);
	ck_assert_uint_eq(s.n_pk, 1);
	ck_assert_uint_eq(s.pk[0].freq_hz, 868100000u);
	ck_assert_mem_eq(s.pk[0].data, good_phy, sizeof(good_phy));
	ck_assert_int_eq(recv_wait(fd, ack, sizeof(ack)), 4);
	ck_assert_mem_eq(ack, push_ack, 4);

	/* A PULL_DATA, a refused datagram and a TX_ACK: one answer only. */
	n = build(buf, sizeof(buf), 2, 0x0009, 0x02, EUI, NULL);
	ck_assert_int_eq(sendto(fd, buf, n, 0, (struct sockaddr *) &to, sizeof(to)), (ssize_t) n);
	ck_assert_int_eq(sendto(fd, buf, 3, 0, (struct sockaddr *) &to, sizeof(to)), 3);
	n = build(buf, sizeof(buf), 2, 0x0010, 0x05, EUI, NULL);
	ck_assert_int_eq(sendto(fd, buf, n, 0, (struct sockaddr *) &to, sizeof(to)), (ssize_t) n);
	for (int i = 0; i < 100; i++) {
		fg_gwmp_get_stats(g, &st);
		if (st.datagrams == 4)
			break;
		ck_assert_int_ge(sd_event_run(loop, 10 * 1000), 0);
	}
	ck_assert_int_eq(recv_wait(fd, ack, sizeof(ack)), 4);
	ck_assert_mem_eq(ack, pull_ack, 4);
	ck_assert_int_eq(recv(fd, ack, sizeof(ack), MSG_DONTWAIT), -1);

	fg_gwmp_get_stats(g, &st);
	ck_assert_uint_eq(st.datagrams, 4);
	ck_assert_uint_eq(st.push_data, 1);
	ck_assert_uint_eq(st.pull_data, 1);
	ck_assert_uint_eq(st.tx_ack, 1);
	ck_assert_uint_eq(st.rxpk, 1);
	ck_assert_uint_eq(st.stat, 0);
	ck_assert_uint_eq(st.refused[FG_GWMP_TOO_SHORT], 1);
	ck_assert_uint_eq(s.n_ref, 1);
	ck_assert_int_eq(s.ref[0].why, FG_GWMP_TOO_SHORT);

	close(fd);
	fg_gwmp_free(g);
	sd_event_unref(loop);
}
END_TEST

START_TEST(server_on_ipv6_any_takes_ipv4_too)
{
	struct fg_gwmp_config cfg = config();
	static const uint8_t pull_ack[4] = { 2, 0x00, 0x01, 0x04 };
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct fg_gwmp *g = NULL;
	sd_event *loop = NULL;
	uint8_t buf[64], ack[8];
	size_t n;
	int fd, r;

	ck_assert_int_ge(sd_event_new(&loop), 0);
	cfg.listen = "[::]:0";
	r = fg_gwmp_new(&cfg, loop, NULL, NULL, &g);
	if (r == -EAFNOSUPPORT || r == -EADDRNOTAVAIL) {
		/* A kernel or container without IPv6: nothing to test here. */
		sd_event_unref(loop);
		return;
	}
	ck_assert_int_eq(r, 0);
	to.sin_port = htons(fg_gwmp_port(g));
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = client_socket(AF_INET);
	n = build(buf, sizeof(buf), 2, 1, 0x02, EUI, NULL);
	ck_assert_int_eq(sendto(fd, buf, n, 0, (struct sockaddr *) &to, sizeof(to)), (ssize_t) n);
	for (int i = 0; i < 100; i++) {
		struct fg_gwmp_stats st;

		fg_gwmp_get_stats(g, &st);
		if (st.pull_data == 1)
			break;
		ck_assert_int_ge(sd_event_run(loop, 10 * 1000), 0);
	}
	ck_assert_int_eq(recv_wait(fd, ack, sizeof(ack)), 4);
	ck_assert_mem_eq(ack, pull_ack, 4);
	close(fd);
	fg_gwmp_free(g);
	sd_event_unref(loop);
}
END_TEST

START_TEST(server_refuses_bad_listen_addresses)
{
	static const char *const bad[] = {
		"1700",		"127.0.0.1",	  "127.0.0.1:",	    ":1700",
		"::1:1700",	"[::1]1700",	  "[::1:1700",	    "127.0.0.1:70000",
		"127.0.0.1:-1", "127.0.0.1:17x",  "localhost:1700", "127.0.0.1:+1700",
		"[]:1700",	"300.0.0.1:1700",
	};
	struct fg_gwmp_config cfg = config();
	sd_event *loop = NULL;

	ck_assert_int_ge(sd_event_new(&loop), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fg_gwmp *g = (struct fg_gwmp *) 0x1;

		cfg.listen = (char *) bad[i];
		ck_assert_msg(fg_gwmp_new(&cfg, loop, NULL, NULL, &g) == -EINVAL, "accepted '%s'",
			      bad[i]);
		ck_assert_ptr_eq(g, (struct fg_gwmp *) 0x1);
		ck_assert_msg(strstr(log_read(), bad[i]), "log does not name '%s': %s", bad[i],
			      log_read());
	}
	sd_event_unref(loop);
}
END_TEST

START_TEST(server_reports_address_in_use)
{
	struct fg_gwmp_config cfg = config();
	struct fg_gwmp *a = NULL, *b = NULL;
	sd_event *loop = NULL;
	char listen[32], want[64];

	ck_assert_int_ge(sd_event_new(&loop), 0);
	ck_assert_int_eq(fg_gwmp_new(&cfg, loop, NULL, NULL, &a), 0);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", fg_gwmp_port(a));
	cfg.listen = listen;
	ck_assert_int_eq(fg_gwmp_new(&cfg, loop, NULL, NULL, &b), -EADDRINUSE);
	ck_assert_ptr_null(b);
	snprintf(want, sizeof(want), "cannot bind to '%s'", listen);
	ck_assert_msg(strstr(log_read(), want), "log: %s", log_read());
	fg_gwmp_free(a);
	fg_gwmp_free(NULL);
	sd_event_unref(loop);
}
END_TEST

/* A LoRa RX1 downlink as the region code makes it. */
static struct fg_lw_txpk lora_tx(void)
{
	struct fg_lw_txpk tx = {
		.count_us = 3517348611u, .freq_hz = 868100000, .dr = 5,
		.rate = { .sf = 7, .bw_hz = 125000 }, .cr = 1, .power_dbm = 14,
		.preamble = 8, .invert_pol = true, .no_crc = true, .len = 3,
		.payload = { 0x60, 0x01, 0xff },
	};

	return tx;
}

/* The txpk object of a PULL_RESP, parsed. */
static json_t *txpk_of(const uint8_t *d, int n, uint16_t token)
{
	json_t *root;

	ck_assert_int_gt(n, 4);
	ck_assert_uint_eq(d[0], 2);
	ck_assert_uint_eq((unsigned) (d[1] << 8 | d[2]), token);
	ck_assert_uint_eq(d[3], 0x03);
	root = json_loadb((const char *) d + 4, (size_t) n - 4, JSON_REJECT_DUPLICATES, NULL);
	ck_assert_ptr_nonnull(root);
	ck_assert_int_eq(json_object_size(root), 1);
	return root;
}

START_TEST(pull_resp_carries_every_member_the_forwarder_needs)
{
	struct fg_lw_txpk tx = lora_tx();
	uint8_t d[1024];
	int n = fg_gwmp_pull_resp(&tx, 2, 0x1234, d, sizeof(d));
	json_t *root = txpk_of(d, n, 0x1234), *pk = json_object_get(root, "txpk");

	/* PROTOCOL.TXT section 6: the txpk members for a timed LoRa downlink. */
	ck_assert(json_is_false(json_object_get(pk, "imme")));
	ck_assert_int_eq(json_integer_value(json_object_get(pk, "tmst")), 3517348611);
	ck_assert_double_eq_tol(json_real_value(json_object_get(pk, "freq")), 868.1, 1e-9);
	ck_assert_int_eq(json_integer_value(json_object_get(pk, "rfch")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(pk, "powe")), 14);
	ck_assert_str_eq(json_string_value(json_object_get(pk, "modu")), "LORA");
	ck_assert_str_eq(json_string_value(json_object_get(pk, "datr")), "SF7BW125");
	ck_assert_str_eq(json_string_value(json_object_get(pk, "codr")), "4/5");
	ck_assert(json_is_true(json_object_get(pk, "ipol")));
	ck_assert_int_eq(json_integer_value(json_object_get(pk, "prea")), 8);
	ck_assert_int_eq(json_integer_value(json_object_get(pk, "size")), 3);
	ck_assert_str_eq(json_string_value(json_object_get(pk, "data")), "YAH/");
	ck_assert(json_is_true(json_object_get(pk, "ncrc")));
	json_decref(root);

	/* Immediate FSK: a numeric datr, fdev, no tmst to wait for. */
	tx.immediate = true;
	tx.rate = (struct fg_lw_dr){ .fsk = true, .bps = 50000 };
	n = fg_gwmp_pull_resp(&tx, 2, 7, d, sizeof(d));
	root = txpk_of(d, n, 7);
	pk = json_object_get(root, "txpk");
	ck_assert(json_is_true(json_object_get(pk, "imme")));
	ck_assert_str_eq(json_string_value(json_object_get(pk, "modu")), "FSK");
	ck_assert_int_eq(json_integer_value(json_object_get(pk, "datr")), 50000);
	ck_assert_int_eq(json_integer_value(json_object_get(pk, "fdev")), 25000);
	ck_assert_ptr_null(json_object_get(pk, "codr"));
	json_decref(root);
}
END_TEST

START_TEST(pull_resp_refuses_what_cannot_be_sent)
{
	struct fg_lw_txpk tx = lora_tx();
	uint8_t d[1024];

	tx.len = 0;
	ck_assert_int_eq(fg_gwmp_pull_resp(&tx, 2, 1, d, sizeof(d)), -EINVAL);
	tx = lora_tx();
	tx.rate.sf = 13;
	ck_assert_int_eq(fg_gwmp_pull_resp(&tx, 2, 1, d, sizeof(d)), -EINVAL);
	tx = lora_tx();
	tx.cr = 0;
	ck_assert_int_eq(fg_gwmp_pull_resp(&tx, 2, 1, d, sizeof(d)), -EINVAL);
	tx = lora_tx();
	ck_assert_int_eq(fg_gwmp_pull_resp(&tx, 2, 1, d, 40), -ENOBUFS);
	tx.len = FG_LW_PHY_MAX;
	ck_assert_int_gt(fg_gwmp_pull_resp(&tx, 2, 1, d, sizeof(d)), 300);
}
END_TEST

START_TEST(tx_ack_verdicts_are_read_and_hostile_ones_are_other)
{
	static const struct {
		const char *body;
		enum fg_gwmp_tx_error e;
	} cases[] = {
		{ "", FG_GWMP_TX_NONE },
		{ "{\"txpk_ack\":{\"error\":\"NONE\"}}", FG_GWMP_TX_NONE },
		{ "{\"txpk_ack\":{\"warn\":\"TX_POWER\",\"value\":20}}", FG_GWMP_TX_NONE },
		{ "{\"txpk_ack\":{\"error\":\"TOO_LATE\"}}", FG_GWMP_TX_TOO_LATE },
		{ "{\"txpk_ack\":{\"error\":\"TOO_EARLY\"}}", FG_GWMP_TX_TOO_EARLY },
		{ "{\"txpk_ack\":{\"error\":\"COLLISION_PACKET\"}}", FG_GWMP_TX_COLLISION_PACKET },
		{ "{\"txpk_ack\":{\"error\":\"COLLISION_BEACON\"}}", FG_GWMP_TX_COLLISION_BEACON },
		{ "{\"txpk_ack\":{\"error\":\"TX_FREQ\"}}", FG_GWMP_TX_FREQ },
		{ "{\"txpk_ack\":{\"error\":\"TX_POWER\"}}", FG_GWMP_TX_POWER },
		{ "{\"txpk_ack\":{\"error\":\"GPS_UNLOCKED\"}}", FG_GWMP_TX_GPS_UNLOCKED },
		{ "{\"txpk_ack\":{\"error\":\"MELTED\"}}", FG_GWMP_TX_OTHER },
		{ "{\"txpk_ack\":{\"error\":7}}", FG_GWMP_TX_OTHER },
		{ "{\"txpk_ack\":", FG_GWMP_TX_OTHER },
		{ "[1,2]", FG_GWMP_TX_OTHER },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(fg_gwmp_tx_ack_parse((const uint8_t *) cases[i].body,
						   strlen(cases[i].body)) == cases[i].e,
			      "case %zu: %s", i, cases[i].body);
	ck_assert_str_eq(fg_gwmp_tx_error_to_string(FG_GWMP_TX_TOO_LATE), "too-late");
	ck_assert_str_eq(fg_gwmp_tx_error_to_string(FG_GWMP_TX__COUNT), "unknown");
}
END_TEST

static int tx_acks;
static enum fg_gwmp_tx_error last_tx_error;

static void on_tx_ack(uint64_t gateway, uint16_t token, enum fg_gwmp_tx_error err, void *userdata)
{
	(void) gateway;
	(void) token;
	(void) userdata;
	tx_acks++;
	last_tx_error = err;
}

START_TEST(server_sends_pull_resp_to_where_pull_data_came_from)
{
	struct fg_gwmp_config cfg = config();
	struct fg_gwmp_handlers h = { .tx_ack = on_tx_ack };
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct fg_lw_txpk tx = lora_tx();
	struct fg_gwmp_stats st;
	struct fg_gwmp *g = NULL;
	sd_event *loop = NULL;
	uint8_t buf[1024];
	json_t *root;
	int fd, token, n;

	ck_assert_int_ge(sd_event_new(&loop), 0);
	ck_assert_int_eq(fg_gwmp_new(&cfg, loop, &h, NULL, &g), 0);
	to.sin_port = htons(fg_gwmp_port(g));
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = client_socket(AF_INET);
	/* No PULL_DATA yet: no way to the gateway. */
	ck_assert_int_eq(fg_gwmp_send(g, EUI, &tx), -ENOTCONN);
	n = (int) build(buf, sizeof(buf), 2, 0x0009, 0x02, EUI, NULL);
	ck_assert_int_eq(sendto(fd, buf, (size_t) n, 0, (struct sockaddr *) &to, sizeof(to)), n);
	for (int i = 0; i < 100 && (fg_gwmp_get_stats(g, &st), st.pull_data == 0); i++)
		ck_assert_int_ge(sd_event_run(loop, 10 * 1000), 0);
	ck_assert_int_eq(recv_wait(fd, buf, sizeof(buf)), 4); /* PULL_ACK */
	ck_assert_int_eq(fg_gwmp_send(g, EUI + 1, &tx), -ENOTCONN);
	token = fg_gwmp_send(g, EUI, &tx);
	ck_assert_int_ge(token, 0);
	n = recv_wait(fd, buf, sizeof(buf));
	root = txpk_of(buf, n, (uint16_t) token);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(root, "txpk"), "data")),
			 "YAH/");
	json_decref(root);
	/* The forwarder's verdict. */
	n = (int) build(buf, sizeof(buf), 2, (uint16_t) token, 0x05, EUI,
			"{\"txpk_ack\":{\"error\":\"TOO_LATE\"}}");
	ck_assert_int_eq(sendto(fd, buf, (size_t) n, 0, (struct sockaddr *) &to, sizeof(to)), n);
	for (int i = 0; i < 100 && !tx_acks; i++)
		ck_assert_int_ge(sd_event_run(loop, 10 * 1000), 0);
	ck_assert_int_eq(tx_acks, 1);
	ck_assert_int_eq(last_tx_error, FG_GWMP_TX_TOO_LATE);
	fg_gwmp_get_stats(g, &st);
	ck_assert_uint_eq(st.pull_resp, 1);
	ck_assert_uint_eq(st.tx_errors[FG_GWMP_TX_TOO_LATE], 1);
	close(fd);
	fg_gwmp_free(g);
	sd_event_unref(loop);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gwmp");
	TCase *tc;

	tc = tcase_create("protocol");
	tcase_add_test(tc, push_data_one_rxpk_is_acked_and_parsed);
	tcase_add_test(tc, push_data_several_rxpk_are_handed_over_in_order);
	tcase_add_test(tc, time_forms_are_parsed);
	tcase_add_test(tc, push_data_stat_is_parsed);
	tcase_add_test(tc, push_data_stat_without_gps_has_no_position);
	tcase_add_test(tc, pull_data_gets_pull_ack);
	tcase_add_test(tc, tx_ack_is_accepted_without_answer);
	tcase_add_test(tc, version_1_is_acked_in_version_1);
	tcase_add_test(tc, handlers_may_be_null);
	tcase_add_test(tc, empty_object_is_acked_quietly);
	tcase_add_test(tc, reasons_have_stable_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("refusals");
	tcase_add_test(tc, short_datagrams_are_refused);
	tcase_add_test(tc, bad_version_is_refused);
	tcase_add_test(tc, downlink_and_unknown_types_are_refused);
	tcase_add_test(tc, bad_json_is_refused_but_acked);
	tcase_add_test(tc, bad_rxpk_names_the_member);
	tcase_add_test(tc, rxpk_that_is_not_an_object_is_refused);
	tcase_add_test(tc, bad_rxpk_does_not_drop_its_siblings);
	tcase_add_test(tc, bad_base64_is_refused);
	tcase_add_test(tc, payload_longer_than_a_phy_is_refused);
	tcase_add_test(tc, size_mismatch_is_refused);
	tcase_add_test(tc, crc_error_is_refused);
	tcase_add_test(tc, no_crc_is_refused_unless_accepted);
	tcase_add_test(tc, fsk_is_not_lora);
	tcase_add_test(tc, detail_quotes_the_peer_safely);
	tcase_add_test(tc, bad_stat_is_refused_without_dropping_rxpk);
	tcase_add_test(tc, gateway_filter_refuses_unlisted_without_ack);
	suite_add_tcase(s, tc);

	tc = tcase_create("server");
	tcase_add_checked_fixture(tc, log_setup, log_teardown);
	tcase_add_test(tc, server_acks_and_hands_over_on_a_real_socket);
	tcase_add_test(tc, server_on_ipv6_any_takes_ipv4_too);
	tcase_add_test(tc, server_refuses_bad_listen_addresses);
	tcase_add_test(tc, server_reports_address_in_use);
	tcase_add_test(tc, pull_resp_carries_every_member_the_forwarder_needs);
	tcase_add_test(tc, pull_resp_refuses_what_cannot_be_sent);
	tcase_add_test(tc, tx_ack_verdicts_are_read_and_hostile_ones_are_other);
	tcase_add_test(tc, server_sends_pull_resp_to_where_pull_data_came_from);
	suite_add_tcase(s, tc);

	return fg_check_main(s);
}
