/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The Semtech packet forwarder protocol, upstream side. Facts from Semtech's
 * PROTOCOL.TXT (Lora-net/packet_forwarder, protocol version 2): sections 3
 * (PUSH_DATA, PUSH_ACK), 4 (the rxpk and stat objects) and 5 (PULL_DATA,
 * PULL_ACK, PULL_RESP, TX_ACK).
 */
#include <assert.h>
#include <errno.h>
#include <linux/sock_diag.h>
#include <math.h>
#include <stdarg.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "core/clock.h"
#include "core/log.h"
#include "source/gwmp.h"
#include "util/base64.h"

enum {
	GWMP_PUSH_DATA = 0x00,
	GWMP_PUSH_ACK = 0x01,
	GWMP_PULL_DATA = 0x02,
	GWMP_PULL_RESP = 0x03,
	GWMP_PULL_ACK = 0x04,
	GWMP_TX_ACK = 0x05,
};

#define GWMP_HEADER_LEN	    4  /* version, token (2), identifier */
#define GWMP_EUI_HEADER_LEN 12 /* ... and the gateway's 8-byte EUI */
#define GWMP_ACK_LEN	    4
#define GWMP_DETAIL_MAX	    128
/* Larger than any UDP payload (65507 over IPv4, 65527 over IPv6): nothing is ever truncated. */
#define GWMP_DGRAM_MAX 65536
#define GWMP_PEERS_MAX 16 /* forwarders whose PULL_DATA address is kept */
/* Datagrams read per wake-up, so that a flood does not starve the loop's other sources. */
#define GWMP_READS_PER_WAKEUP 64
/*
 * Receive buffer asked for: a forwarder flushing a backlog sends datagrams of
 * up to 64 KB back to back, and the default buffer (net.core.rmem_default,
 * about 200 KB) holds three of them while the loop is busy with a commit.
 * Linux doubles a granted 2 MB for its bookkeeping, which holds some 60 of
 * them; an unprivileged process gets at most net.core.rmem_max.
 */
#define GWMP_RCVBUF_WANT (2 * 1024 * 1024)

static const char *const reason_names[FG_GWMP_REASON__COUNT] = {
	[FG_GWMP_OK] = "ok",
	[FG_GWMP_TOO_SHORT] = "too-short",
	[FG_GWMP_BAD_VERSION] = "bad-version",
	[FG_GWMP_UNKNOWN_TYPE] = "unknown-type",
	[FG_GWMP_UNKNOWN_GATEWAY] = "unknown-gateway",
	[FG_GWMP_BAD_JSON] = "bad-json",
	[FG_GWMP_BAD_RXPK] = "bad-rxpk",
	[FG_GWMP_BAD_BASE64] = "bad-base64",
	[FG_GWMP_SIZE_MISMATCH] = "size-mismatch",
	[FG_GWMP_CRC_ERROR] = "crc-error",
	[FG_GWMP_NO_CRC] = "no-crc",
	[FG_GWMP_NOT_LORA] = "not-lora",
	[FG_GWMP_BAD_STAT] = "bad-stat",
};

const char *fg_gwmp_reason_to_string(enum fg_gwmp_reason r)
{
	if ((unsigned) r >= FG_GWMP_REASON__COUNT)
		return "unknown";
	return reason_names[r];
}

/*
 * Report one refusal. The detail may quote what the peer sent, so it is
 * bounded and every byte outside printable ASCII becomes '?': callers put it
 * in log lines as is.
 */
static void refuse(const struct fg_gwmp_handlers *h, void *userdata, uint64_t gateway,
		   enum fg_gwmp_reason why, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void refuse(const struct fg_gwmp_handlers *h, void *userdata, uint64_t gateway,
		   enum fg_gwmp_reason why, const char *fmt, ...)
{
	char detail[GWMP_DETAIL_MAX];
	va_list ap;
	int n;

	if (!h || !h->refused)
		return;
	va_start(ap, fmt);
	n = vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (n < 0)
		detail[0] = '\0';
	for (char *p = detail; *p; p++)
		if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f)
			*p = '?';
	h->refused(gateway, why, detail, userdata);
}

/* Big-endian, as lora_pkt_fwd writes its EUI (and as it is printed). */
static uint64_t read_eui(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static bool gateway_listed(const struct fg_gwmp_config *cfg, uint64_t gw)
{
	if (cfg->n_gateways == 0)
		return true;
	for (size_t i = 0; i < cfg->n_gateways && i < FG_GWMP_GATEWAYS_MAX; i++)
		if (cfg->gateways[i] == gw)
			return true;
	return false;
}

/* An integer member in min..max: 1 and *ret when present, 0 when absent, -EINVAL otherwise. */
static int get_int(const json_t *o, const char *key, int64_t min, int64_t max, int64_t *ret)
{
	const json_t *v = json_object_get(o, key);
	json_int_t i;

	if (!v)
		return 0;
	if (!json_is_integer(v))
		return -EINVAL;
	i = json_integer_value(v);
	if (i < min || i > max)
		return -EINVAL;
	*ret = i;
	return 1;
}

/* A number member (integer or real) in min..max, as get_int. */
static int get_num(const json_t *o, const char *key, double min, double max, double *ret)
{
	const json_t *v = json_object_get(o, key);
	double d;

	if (!v)
		return 0;
	if (!json_is_number(v))
		return -EINVAL;
	d = json_number_value(v);
	if (!isfinite(d) || d < min || d > max)
		return -EINVAL;
	*ret = d;
	return 1;
}

/* A string member, as get_int. */
static int get_str(const json_t *o, const char *key, const char **ret, size_t *ret_len)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_string(v))
		return -EINVAL;
	*ret = json_string_value(v);
	*ret_len = json_string_length(v);
	return 1;
}

/* n decimal digits at s, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Days from 1970-01-01 to a proleptic Gregorian date (the usual era-based computation). */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * "2013-03-31T16:21:17.528002Z" or "2013-03-31T16:21:17Z" (ISO 8601, UTC,
 * the forwarder's "compact" form) to ms since the epoch; the fraction is cut
 * to ms. -EINVAL for anything else.
 */
static int parse_time(const char *s, size_t len, uint64_t *ret_ms)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, ms = 0;
	uint64_t secs;
	size_t i = 19;
	bool leap;

	if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
		return -EINVAL;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return -EINVAL;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && d == 29 && !leap)
		return -EINVAL;
	if (s[i] == '.') {
		size_t first = ++i;

		for (int scale = 100; i < len && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
			ms += (s[i] - '0') * scale;
		if (i == first || i - first > 9)
			return -EINVAL;
	}
	if (i + 1 != len || s[i] != 'Z')
		return -EINVAL;
	/* A leap second, 23:59:60, reads as 00:00:00 of the next day rather than as an error. */
	secs = (uint64_t) days_from_civil(y, mo, d) * 86400 + (uint64_t) (h * 3600 + mi * 60 + sec);
	*ret_ms = secs * 1000 + (uint64_t) ms;
	return 0;
}

/* "SF7BW125": spreading factor 5..12, bandwidth in kHz (sub-GHz and 2.4 GHz chips), to Hz. */
static int parse_datr(const char *s, size_t len, unsigned *ret_sf, uint32_t *ret_bw)
{
	static const struct {
		unsigned khz;
		uint32_t hz;
	} bws[] = {
		{ 125, 125000 }, { 250, 250000 }, { 500, 500000 },   { 203, 203125 },
		{ 406, 406250 }, { 812, 812500 }, { 1625, 1625000 },
	};
	size_t i = 2, start;
	unsigned sf = 0, khz = 0;

	if (len < 6 || s[0] != 'S' || s[1] != 'F')
		return -EINVAL;
	for (start = i; i < len && i - start < 2 && s[i] >= '0' && s[i] <= '9'; i++)
		sf = sf * 10 + (unsigned) (s[i] - '0');
	if (i == start || sf < 5 || sf > 12 || i + 2 >= len || s[i] != 'B' || s[i + 1] != 'W')
		return -EINVAL;
	for (i += 2, start = i; i < len && i - start < 4 && s[i] >= '0' && s[i] <= '9'; i++)
		khz = khz * 10 + (unsigned) (s[i] - '0');
	if (i == start || i != len)
		return -EINVAL;
	for (size_t k = 0; k < sizeof(bws) / sizeof(bws[0]); k++) {
		if (bws[k].khz == khz) {
			*ret_sf = sf;
			*ret_bw = bws[k].hz;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * Judge one rxpk object. The order decides which reason a frame with several
 * faults gets: member types and required members first (BAD_RXPK), then the
 * modulation (NOT_LORA) and the CRC status, then datr, then the payload
 * (BAD_BASE64, SIZE_MISMATCH). Returns FG_GWMP_OK and a filled *pk, or the
 * reason with a detail naming the member.
 */
static enum fg_gwmp_reason rxpk_parse(const struct fg_gwmp_config *cfg, const json_t *o,
				      struct fg_gwmp_rxpk *pk, char *detail, size_t dsize)
{
	const char *time = NULL, *modu = NULL, *codr = NULL, *data = NULL;
	size_t time_len = 0, modu_len = 0, codr_len = 0, data_len = 0;
	int64_t tmst = 0, chan = -1, rfch = -1, stat = 0, size = 0;
	double freq = 0, rssi = 0, lsnr = 0;
	int has_tmst = 0, has_rssi = 0, has_lsnr = 0, has_size = 0, r;
	const json_t *datr_v;
	const char *bad = NULL;

	if (!json_is_object(o)) {
		snprintf(detail, dsize, "not an object");
		return FG_GWMP_BAD_RXPK;
	}
	if (get_str(o, "time", &time, &time_len) < 0)
		bad = "'time' is not a string";
	else if ((has_tmst = get_int(o, "tmst", 0, UINT32_MAX, &tmst)) < 0)
		bad = "'tmst' is not an integer 0..4294967295";
	else if (get_num(o, "freq", 0.000001, 4294.967295, &freq) < 0)
		bad = "'freq' is not a frequency in MHz";
	else if (get_int(o, "chan", 0, 255, &chan) < 0)
		bad = "'chan' is not an integer 0..255";
	else if (get_int(o, "rfch", 0, 255, &rfch) < 0)
		bad = "'rfch' is not an integer 0..255";
	else if (get_int(o, "stat", -1, 1, &stat) < 0)
		bad = "'stat' is not -1, 0 or 1";
	else if (get_str(o, "modu", &modu, &modu_len) < 0)
		bad = "'modu' is not a string";
	else if (get_str(o, "codr", &codr, &codr_len) < 0 || codr_len >= sizeof(pk->codr))
		bad = "'codr' is not a short string";
	else if ((has_rssi = get_num(o, "rssi", -255, 255, &rssi)) < 0)
		bad = "'rssi' is not a number -255..255";
	else if ((has_lsnr = get_num(o, "lsnr", -100, 100, &lsnr)) < 0)
		bad = "'lsnr' is not a number -100..100";
	else if ((has_size = get_int(o, "size", 0, 65535, &size)) < 0)
		bad = "'size' is not an integer 0..65535";
	else if (get_str(o, "data", &data, &data_len) < 0)
		bad = "'data' is not a string";
	else if (!json_object_get(o, "freq"))
		bad = "no 'freq'";
	else if (!modu)
		bad = "no 'modu'";
	else if (!json_object_get(o, "datr"))
		bad = "no 'datr'";
	else if (!data)
		bad = "no 'data'";
	if (bad) {
		snprintf(detail, dsize, "%s", bad);
		return FG_GWMP_BAD_RXPK;
	}
	if (modu_len != 4 || memcmp(modu, "LORA", 4) != 0) {
		/* "FSK", or a modulation newer than this code: either way not ours to decode. */
		snprintf(detail, dsize, "modu '%.16s'", modu);
		return FG_GWMP_NOT_LORA;
	}
	/*
	 * A missing "stat" is taken as 0, no CRC: we cannot tell the frame is
	 * intact, so it passes only where frames without a CRC are accepted.
	 */
	if (stat == -1) {
		snprintf(detail, dsize, "stat -1");
		return FG_GWMP_CRC_ERROR;
	}
	if (stat == 0 && !cfg->accept_no_crc) {
		snprintf(detail, dsize, "stat 0");
		return FG_GWMP_NO_CRC;
	}
	datr_v = json_object_get(o, "datr");
	if (!json_is_string(datr_v) ||
	    parse_datr(json_string_value(datr_v), json_string_length(datr_v), &pk->sf, &pk->bw_hz) <
		    0) {
		snprintf(detail, dsize, "'datr' is not a LoRa data rate like \"SF7BW125\"");
		return FG_GWMP_BAD_RXPK;
	}
	if (time) {
		if (parse_time(time, time_len, &pk->time_ms) < 0) {
			snprintf(detail, dsize, "'time' is not an ISO 8601 UTC time");
			return FG_GWMP_BAD_RXPK;
		}
		pk->has_time = true;
	}
	r = fg_base64_decode(data, data_len, pk->data, sizeof(pk->data), &pk->len);
	if (r == -ENOBUFS) {
		snprintf(detail, dsize, "'data' is longer than %d bytes", FG_LW_PHY_MAX);
		return FG_GWMP_BAD_RXPK;
	}
	if (r < 0) {
		snprintf(detail, dsize, "'data' is not base64");
		return FG_GWMP_BAD_BASE64;
	}
	if (has_size && (size_t) size != pk->len) {
		snprintf(detail, dsize, "'size' %lld, data has %zu bytes", (long long) size,
			 pk->len);
		return FG_GWMP_SIZE_MISMATCH;
	}
	pk->has_tmst = has_tmst > 0;
	pk->tmst = (uint32_t) tmst;
	/* MHz with Hz precision: round, 868.1 is 868099999.99... in binary. */
	pk->freq_hz = (uint32_t) llround(freq * 1e6);
	pk->chan = (int) chan;
	pk->rfch = (int) rfch;
	pk->stat = (int) stat;
	if (codr)
		memcpy(pk->codr, codr, codr_len + 1);
	pk->has_rssi = has_rssi > 0;
	pk->rssi = (int) lround(rssi);
	pk->has_lsnr = has_lsnr > 0;
	pk->lsnr = (float) lsnr;
	return FG_GWMP_OK;
}

/* Judge the stat object into *st; FG_GWMP_OK, or FG_GWMP_BAD_STAT with a detail. */
static enum fg_gwmp_reason stat_parse(const json_t *o, struct fg_gwmp_stat *st, char *detail,
				      size_t dsize)
{
	const char *time;
	size_t time_len;
	double lat = 0, lon = 0, ackr = 0;
	int64_t alt = 0, rxnb = 0, rxok = 0, rxfw = 0, dwnb = 0, txnb = 0;
	int has_lat = 0, has_lon = 0, has_alt = 0, has_rxnb = 0, has_rxok = 0, has_rxfw = 0;
	int has_ackr = 0, has_dwnb = 0, has_txnb = 0;
	const char *bad = NULL;

	/* "time" is the gateway's system clock ("2014-01-12 08:59:28 GMT"): checked, not kept. */
	if (get_str(o, "time", &time, &time_len) < 0)
		bad = "'time' is not a string";
	else if ((has_lat = get_num(o, "lati", -90, 90, &lat)) < 0)
		bad = "'lati' is not a latitude";
	else if ((has_lon = get_num(o, "long", -180, 180, &lon)) < 0)
		bad = "'long' is not a longitude";
	else if ((has_alt = get_int(o, "alti", -100000, 100000, &alt)) < 0)
		bad = "'alti' is not an integer -100000..100000";
	else if (has_lat != has_lon)
		bad = "'lati' and 'long' come together";
	else if ((has_rxnb = get_int(o, "rxnb", 0, UINT32_MAX, &rxnb)) < 0)
		bad = "'rxnb' is not an integer 0..4294967295";
	else if ((has_rxok = get_int(o, "rxok", 0, UINT32_MAX, &rxok)) < 0)
		bad = "'rxok' is not an integer 0..4294967295";
	else if ((has_rxfw = get_int(o, "rxfw", 0, UINT32_MAX, &rxfw)) < 0)
		bad = "'rxfw' is not an integer 0..4294967295";
	else if ((has_ackr = get_num(o, "ackr", 0, 100, &ackr)) < 0)
		bad = "'ackr' is not a percentage";
	else if ((has_dwnb = get_int(o, "dwnb", 0, UINT32_MAX, &dwnb)) < 0)
		bad = "'dwnb' is not an integer 0..4294967295";
	else if ((has_txnb = get_int(o, "txnb", 0, UINT32_MAX, &txnb)) < 0)
		bad = "'txnb' is not an integer 0..4294967295";
	if (bad) {
		snprintf(detail, dsize, "%s", bad);
		return FG_GWMP_BAD_STAT;
	}
	st->has_position = has_lat > 0;
	st->lat = lat;
	st->lon = lon;
	/* Without a fix, lora_pkt_fwd sends no position at all; an altitude alone means nothing. */
	st->alt = has_lat > 0 && has_alt > 0 ? (int) alt : 0;
	/* The counters come in groups; a member missing from its group counts as 0. */
	st->has_rx = has_rxnb > 0 || has_rxok > 0 || has_rxfw > 0;
	st->rxnb = (uint32_t) rxnb;
	st->rxok = (uint32_t) rxok;
	st->rxfw = (uint32_t) rxfw;
	st->has_ackr = has_ackr > 0;
	st->ackr = ackr;
	st->has_tx = has_dwnb > 0 || has_txnb > 0;
	st->dwnb = (uint32_t) dwnb;
	st->txnb = (uint32_t) txnb;
	return FG_GWMP_OK;
}

/* The JSON of a PUSH_DATA: every rxpk and the stat, each judged on its own. */
static void push_body(const struct fg_gwmp_config *cfg, uint64_t gw, const uint8_t *p, size_t len,
		      const struct fg_gwmp_handlers *h, void *userdata)
{
	char detail[GWMP_DETAIL_MAX];
	json_error_t err;
	json_t *root, *rxpk, *stat;

	root = json_loadb((const char *) p, len, JSON_REJECT_DUPLICATES, &err);
	if (!root) {
		refuse(h, userdata, gw, FG_GWMP_BAD_JSON, "line %d column %d: %s", err.line,
		       err.column, err.text);
		return;
	}
	if (!json_is_object(root)) {
		refuse(h, userdata, gw, FG_GWMP_BAD_JSON, "not an object");
		goto out;
	}
	rxpk = json_object_get(root, "rxpk");
	if (rxpk && !json_is_array(rxpk)) {
		refuse(h, userdata, gw, FG_GWMP_BAD_JSON, "'rxpk' is not an array");
	} else if (rxpk) {
		for (size_t i = 0; i < json_array_size(rxpk); i++) {
			struct fg_gwmp_rxpk pk = { .gateway = gw };
			enum fg_gwmp_reason why;

			why = rxpk_parse(cfg, json_array_get(rxpk, i), &pk, detail, sizeof(detail));
			if (why != FG_GWMP_OK)
				refuse(h, userdata, gw, why, "rxpk[%zu]: %s", i, detail);
			else if (h && h->rxpk)
				h->rxpk(&pk, userdata);
		}
	}
	stat = json_object_get(root, "stat");
	if (stat && !json_is_object(stat)) {
		refuse(h, userdata, gw, FG_GWMP_BAD_JSON, "'stat' is not an object");
	} else if (stat) {
		struct fg_gwmp_stat st = { .gateway = gw };

		if (stat_parse(stat, &st, detail, sizeof(detail)) != FG_GWMP_OK)
			refuse(h, userdata, gw, FG_GWMP_BAD_STAT, "stat: %s", detail);
		else if (h && h->stat)
			h->stat(&st, userdata);
	}
out:
	json_decref(root);
}

/*
 * Judge the header: returns the identifier, with the gateway in *ret_gw and
 * the ack due (0 or 4 bytes) in ack, or -1 when the datagram is refused (and
 * reported).
 */
static int header(const struct fg_gwmp_config *cfg, const uint8_t *d, size_t len,
		  const struct fg_gwmp_handlers *h, void *userdata, uint64_t *ret_gw, uint8_t *ack,
		  size_t *ret_ack_len)
{
	uint64_t gw;
	uint8_t type;

	*ret_ack_len = 0;
	if (len < GWMP_HEADER_LEN) {
		refuse(h, userdata, 0, FG_GWMP_TOO_SHORT, "%zu bytes", len);
		return -1;
	}
	/* Version 1 forwarders speak the same upstream protocol, only without TX_ACK. */
	if (d[0] != 1 && d[0] != 2) {
		refuse(h, userdata, 0, FG_GWMP_BAD_VERSION, "version %u", d[0]);
		return -1;
	}
	type = d[3];
	if (type != GWMP_PUSH_DATA && type != GWMP_PULL_DATA && type != GWMP_TX_ACK) {
		/* PUSH_ACK, PULL_RESP, PULL_ACK travel to the gateway, never from it. */
		refuse(h, userdata, 0, FG_GWMP_UNKNOWN_TYPE, "identifier 0x%02x", type);
		return -1;
	}
	if (len < GWMP_EUI_HEADER_LEN) {
		refuse(h, userdata, 0, FG_GWMP_TOO_SHORT, "%zu bytes", len);
		return -1;
	}
	gw = read_eui(d + 4);
	/*
	 * A gateway we were not told about gets no ack either: we do not take
	 * its frames, so its ack ratio should show it is not served here, and
	 * we do not answer whoever forges a source address.
	 */
	if (!gateway_listed(cfg, gw)) {
		refuse(h, userdata, gw, FG_GWMP_UNKNOWN_GATEWAY, "gateway %016llx not listed",
		       (unsigned long long) gw);
		return -1;
	}
	if (type == GWMP_PUSH_DATA || type == GWMP_PULL_DATA) {
		ack[0] = d[0]; /* the forwarder ignores acks of another version */
		ack[1] = d[1];
		ack[2] = d[2];
		ack[3] = type == GWMP_PUSH_DATA ? GWMP_PUSH_ACK : GWMP_PULL_ACK;
		*ret_ack_len = GWMP_ACK_LEN;
	}
	*ret_gw = gw;
	return type;
}

size_t fg_gwmp_handle(const struct fg_gwmp_config *cfg, const uint8_t *dgram, size_t len,
		      const struct fg_gwmp_handlers *h, void *userdata, uint8_t *ack,
		      size_t ack_size)
{
	uint64_t gw = 0;
	size_t ack_len;
	int type;

	assert(cfg && (dgram || len == 0) && ack && ack_size >= GWMP_ACK_LEN);
	(void) ack_size;
	type = header(cfg, dgram, len, h, userdata, &gw, ack, &ack_len);
	/*
	 * A PUSH_DATA whose JSON is bad is acked all the same: the network did
	 * deliver it. Without an ack, Semtech's forwarder counts it lost (its
	 * "ackr" drops; PROTOCOL.TXT section 1: acks only measure the network,
	 * no retries), and a forwarder that does resend unacked datagrams would
	 * send the same bad JSON again and again.
	 */
	if (type == GWMP_PUSH_DATA)
		push_body(cfg, gw, dgram + GWMP_EUI_HEADER_LEN, len - GWMP_EUI_HEADER_LEN, h,
			  userdata);
	return ack_len;
}

/* ------------------------------------------------------------------ downlinks */

static const char *const tx_error_names[FG_GWMP_TX__COUNT] = {
	[FG_GWMP_TX_NONE] = "none",
	[FG_GWMP_TX_TOO_LATE] = "too-late",
	[FG_GWMP_TX_TOO_EARLY] = "too-early",
	[FG_GWMP_TX_COLLISION_PACKET] = "collision-packet",
	[FG_GWMP_TX_COLLISION_BEACON] = "collision-beacon",
	[FG_GWMP_TX_FREQ] = "tx-freq",
	[FG_GWMP_TX_POWER] = "tx-power",
	[FG_GWMP_TX_GPS_UNLOCKED] = "gps-unlocked",
	[FG_GWMP_TX_OTHER] = "other",
};

/* The names the forwarder writes (PROTOCOL.TXT 5.5), in enum order from TOO_LATE. */
static const char *const tx_error_wire[] = {
	"TOO_LATE", "TOO_EARLY", "COLLISION_PACKET", "COLLISION_BEACON",
	"TX_FREQ", "TX_POWER", "GPS_UNLOCKED",
};

const char *fg_gwmp_tx_error_to_string(enum fg_gwmp_tx_error e)
{
	return (unsigned) e < FG_GWMP_TX__COUNT ? tx_error_names[e] : "unknown";
}

enum fg_gwmp_tx_error fg_gwmp_tx_ack_parse(const uint8_t *body, size_t len)
{
	enum fg_gwmp_tx_error e = FG_GWMP_TX_OTHER;
	const json_t *ack, *err;
	json_t *root;

	/* A version 1 forwarder, or a version 2 one with nothing to say: accepted. */
	if (len == 0 || (len == 1 && body[0] == 0))
		return FG_GWMP_TX_NONE;
	root = json_loadb((const char *) body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
	ack = json_object_get(root, "txpk_ack");
	err = json_object_get(ack, "error");
	if (json_is_object(ack) && !err)
		e = FG_GWMP_TX_NONE; /* {"txpk_ack":{"warn":...}}: sent, with a remark */
	else if (json_is_string(err) && !strcmp(json_string_value(err), "NONE"))
		e = FG_GWMP_TX_NONE;
	for (size_t i = 0; json_is_string(err) && i < sizeof(tx_error_wire) / sizeof(tx_error_wire[0]);
	     i++)
		if (!strcmp(json_string_value(err), tx_error_wire[i]))
			e = (enum fg_gwmp_tx_error) (FG_GWMP_TX_TOO_LATE + i);
	json_decref(root);
	return e;
}

int fg_gwmp_pull_resp(const struct fg_lw_txpk *tx, uint8_t version, uint16_t token,
		      uint8_t *buf, size_t size)
{
	char data[((FG_LW_PHY_MAX + 2) / 3) * 4 + 1], rate[80], *p = (char *) buf + GWMP_HEADER_LEN;
	size_t room = size > GWMP_HEADER_LEN ? size - GWMP_HEADER_LEN : 0;
	int n;

	if (!tx || tx->len == 0 || tx->len > FG_LW_PHY_MAX ||
	    (!tx->rate.fsk && (tx->rate.sf < 5 || tx->rate.sf > 12 || !tx->rate.bw_hz)) ||
	    (tx->rate.fsk && !tx->rate.bps) || tx->cr < 1 || tx->cr > 4)
		return -EINVAL;
	if (size < GWMP_HEADER_LEN)
		return -ENOBUFS;
	buf[0] = version;
	buf[1] = (uint8_t) (token >> 8);
	buf[2] = (uint8_t) token;
	buf[3] = GWMP_PULL_RESP;
	fg_base64_encode(tx->payload, tx->len, data, sizeof(data));
	if (tx->rate.fsk)
		snprintf(rate, sizeof(rate), "\"FSK\",\"datr\":%u,\"fdev\":%u", tx->rate.bps,
			 tx->rate.bps / 2);
	else
		snprintf(rate, sizeof(rate), "\"LORA\",\"datr\":\"SF%uBW%u\",\"codr\":\"4/%u\"",
			 tx->rate.sf, tx->rate.bw_hz / 1000, 4 + tx->cr);
	n = snprintf(p, room,
		     "{\"txpk\":{\"imme\":%s,\"tmst\":%u,\"freq\":%.6f,\"rfch\":0,\"powe\":%d,"
		     "\"modu\":%s,\"ipol\":%s,\"prea\":%u,\"size\":%zu,\"data\":\"%s\","
		     "\"ncrc\":%s}}",
		     tx->immediate ? "true" : "false", tx->immediate ? 0 : tx->count_us,
		     tx->freq_hz / 1e6, tx->power_dbm, rate, tx->invert_pol ? "true" : "false",
		     tx->preamble, tx->len, data, tx->no_crc ? "true" : "false");
	if (n < 0 || (size_t) n >= room)
		return -ENOBUFS;
	return GWMP_HEADER_LEN + n;
}

/* Where a forwarder's PULL_DATA came from: the way back to it. */
struct peer {
	uint64_t gateway;
	uint8_t version;
	uint64_t seen_usec;
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

struct fg_gwmp {
	struct fg_gwmp_config cfg;
	struct fg_gwmp_handlers h;
	void *userdata;
	int fd;
	uint16_t port;
	sd_event_source *io;
	struct fg_gwmp_stats stats;
	uint32_t drops_seen; /* the socket's cumulative drop count at the last datagram */
	uint8_t *buf; /* GWMP_DGRAM_MAX */
	struct peer peers[GWMP_PEERS_MAX];
	uint16_t next_token;
};

/* Remember the address a gateway pulls from; the least recently seen makes room. */
static void peer_seen(struct fg_gwmp *g, uint64_t gw, uint8_t version, const struct sockaddr *from,
		      socklen_t fromlen)
{
	struct peer *p = &g->peers[0];

	for (size_t i = 0; i < GWMP_PEERS_MAX; i++) {
		if (g->peers[i].gateway == gw && g->peers[i].seen_usec) {
			p = &g->peers[i];
			break;
		}
		if (g->peers[i].seen_usec < p->seen_usec)
			p = &g->peers[i];
	}
	if ((size_t) fromlen > sizeof(p->addr))
		return;
	p->gateway = gw;
	p->version = version;
	p->seen_usec = fg_clock_mono_usec();
	memcpy(&p->addr, from, fromlen);
	p->addr_len = fromlen;
}

int fg_gwmp_send(struct fg_gwmp *g, uint64_t gateway, const struct fg_lw_txpk *tx)
{
	uint8_t dgram[1024];
	uint64_t now = fg_clock_mono_usec();
	const struct peer *p = NULL;
	uint16_t token;
	int n;

	for (size_t i = 0; i < GWMP_PEERS_MAX; i++)
		if (g->peers[i].seen_usec && g->peers[i].gateway == gateway)
			p = &g->peers[i];
	if (!p || now - p->seen_usec > FG_GWMP_PULL_STALE_S * FG_USEC_PER_SEC)
		return -ENOTCONN;
	token = g->next_token++;
	n = fg_gwmp_pull_resp(tx, p->version, token, dgram, sizeof(dgram));
	if (n < 0)
		return n;
	if (sendto(g->fd, dgram, (size_t) n, MSG_DONTWAIT | MSG_NOSIGNAL,
		   (const struct sockaddr *) &p->addr, p->addr_len) < 0)
		return -errno;
	g->stats.pull_resp++;
	return token;
}

/* The handlers fg_gwmp_handle calls in the server: count, then pass on. */
static void count_rxpk(const struct fg_gwmp_rxpk *pk, void *userdata)
{
	struct fg_gwmp *g = userdata;

	g->stats.rxpk++;
	if (g->h.rxpk)
		g->h.rxpk(pk, g->userdata);
}

static void count_stat(const struct fg_gwmp_stat *st, void *userdata)
{
	struct fg_gwmp *g = userdata;

	g->stats.stat++;
	if (g->h.stat)
		g->h.stat(st, g->userdata);
}

static void count_refused(uint64_t gateway, enum fg_gwmp_reason why, const char *detail,
			  void *userdata)
{
	struct fg_gwmp *g = userdata;

	if ((unsigned) why < FG_GWMP_REASON__COUNT)
		g->stats.refused[why]++;
	if (g->h.refused)
		g->h.refused(gateway, why, detail, g->userdata);
}

static const struct fg_gwmp_handlers counting = {
	.rxpk = count_rxpk,
	.stat = count_stat,
	.refused = count_refused,
};

/* One datagram from a forwarder: ack first, then hand over its frames (PROTOCOL.TXT 3.1). */
static void serve(struct fg_gwmp *g, size_t len, const struct sockaddr *from, socklen_t fromlen)
{
	uint8_t ack[GWMP_ACK_LEN];
	uint64_t gw = 0;
	size_t ack_len;
	int type;

	g->stats.datagrams++;
	type = header(&g->cfg, g->buf, len, &counting, g, &gw, ack, &ack_len);
	if (type < 0)
		return;
	/*
	 * A lost ack is what UDP allows and what the forwarder counts; nothing
	 * to retry and nothing to log per datagram.
	 */
	if (ack_len > 0)
		(void) sendto(g->fd, ack, ack_len, MSG_DONTWAIT | MSG_NOSIGNAL, from, fromlen);
	switch (type) {
	case GWMP_PUSH_DATA:
		g->stats.push_data++;
		push_body(&g->cfg, gw, g->buf + GWMP_EUI_HEADER_LEN, len - GWMP_EUI_HEADER_LEN,
			  &counting, g);
		break;
	case GWMP_PULL_DATA:
		g->stats.pull_data++;
		peer_seen(g, gw, g->buf[0], from, fromlen);
		break;
	case GWMP_TX_ACK: {
		enum fg_gwmp_tx_error e = fg_gwmp_tx_ack_parse(g->buf + GWMP_EUI_HEADER_LEN,
							       len - GWMP_EUI_HEADER_LEN);

		g->stats.tx_ack++;
		g->stats.tx_errors[e]++;
		if (g->h.tx_ack)
			g->h.tx_ack(gw, (uint16_t) (g->buf[1] << 8 | g->buf[2]), e, g->userdata);
		break;
	}
	}
}

/*
 * The kernel's count of datagrams dropped on the socket (receive buffer full),
 * cumulative since it was opened, from the SO_RXQ_OVFL message of a datagram;
 * it wraps at 2^32, so the difference is taken modulo that.
 */
static void count_kernel_drops(struct fg_gwmp *g, uint32_t drops)
{
	uint32_t new_drops = drops - g->drops_seen;

	if (new_drops == 0)
		return;
	g->drops_seen = drops;
	g->stats.kernel_drops += new_drops;
	fg_log_device(LOG_WARNING, "gwmp", "gwmp", NULL,
		      "the kernel dropped %u datagrams: the receive buffer (%d bytes) was full",
		      new_drops, g->stats.receive_buffer);
}

/* Readable socket: serve a bounded number of datagrams, the rest on the next iteration. */
static int on_io(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
	struct fg_gwmp *g = userdata;

	(void) es;
	(void) revents;
	for (int i = 0; i < GWMP_READS_PER_WAKEUP; i++) {
		struct sockaddr_storage from;
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(uint32_t))];
		} control;
		struct iovec iov = { .iov_base = g->buf, .iov_len = GWMP_DGRAM_MAX };
		struct msghdr msg = {
			.msg_name = &from,
			.msg_namelen = sizeof(from),
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = control.buf,
			.msg_controllen = sizeof(control.buf),
		};
		ssize_t n;

		n = recvmsg(fd, &msg, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				fg_log_device(LOG_WARNING, "gwmp", "gwmp", NULL,
					      "cannot receive: %s, retrying", strerror(errno));
			/* Returning 0 keeps the source: a negative return would disable it. */
			return 0;
		}
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL &&
			    c->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
				uint32_t drops;

				memcpy(&drops, CMSG_DATA(c), sizeof(drops));
				count_kernel_drops(g, drops);
			}
		serve(g, (size_t) n, (struct sockaddr *) &from, msg.msg_namelen);
	}
	return 0;
}

/*
 * Split "HOST:PORT" or "[V6]:PORT" into host and port. The port is 0..65535
 * in decimal (0: any free port); a bare IPv6 address needs its brackets.
 */
static int split_listen(const char *listen, char *host, size_t host_size, char *port,
			size_t port_size)
{
	const char *colon, *h = listen, *h_end;
	size_t n;
	unsigned long v = 0;

	if (listen[0] == '[') {
		h = listen + 1;
		h_end = strchr(h, ']');
		if (!h_end || h_end[1] != ':')
			return -EINVAL;
		colon = h_end + 1;
	} else {
		colon = strrchr(listen, ':');
		if (!colon || memchr(listen, ':', (size_t) (colon - listen)))
			return -EINVAL;
		h_end = colon;
	}
	n = (size_t) (h_end - h);
	if (n == 0 || n >= host_size)
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	n = strlen(colon + 1);
	if (n == 0 || n > 5 || n >= port_size)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (colon[1 + i] < '0' || colon[1 + i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long) (colon[1 + i] - '0');
	}
	if (v > 65535)
		return -EINVAL;
	memcpy(port, colon + 1, n + 1);
	return 0;
}

/*
 * Ask for a receive buffer that holds a burst (GWMP_RCVBUF_WANT) and for the
 * kernel's drop count on each datagram (SO_RXQ_OVFL). An unprivileged daemon
 * gets at most net.core.rmem_max: say so when that is less, and carry on.
 */
static int size_receive_buffer(int fd, const char *listen, int *ret_rcvbuf)
{
	int want = GWMP_RCVBUF_WANT, got = 0, on = 1;
	socklen_t len = sizeof(got);

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want)) < 0)
		fg_log_level_errno(
			LOG_WARNING, -errno, "gwmp",
			"cannot size the receive buffer of '%s': %m, keeping the default", listen);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) < 0)
		return fg_log_errno(-errno, "gwmp", "cannot read the receive buffer of '%s': %m",
				    listen);
	/* Linux doubles what it grants, for its bookkeeping, and reports the doubled size. */
	if (got / 2 < want)
		fg_log_warning(
			"gwmp",
			"receive buffer of '%s' is %d bytes, not the %d asked for "
			"(raise net.core.rmem_max): a burst of large datagrams may be dropped "
			"(counted in gwmp_kernel_drops)",
			listen, got / 2, want);
	/*
	 * Not every kernel or emulator (qemu-user) knows SO_RXQ_OVFL: without it
	 * the drops are still read from SO_MEMINFO when the stats are asked for.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on)) < 0)
		fg_log_level_errno(LOG_WARNING, -errno, "gwmp",
				   "cannot ask for the drop count of '%s' on each datagram: %m; "
				   "gwmp_kernel_drops is read from the socket's counter only",
				   listen);
	*ret_rcvbuf = got / 2;
	return 0;
}

/* Create, configure and bind the socket for listen; logs why when it cannot. */
static int open_socket(const char *listen, int *ret_fd, uint16_t *ret_port, int *ret_rcvbuf)
{
	struct addrinfo hints = {
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_DGRAM,
	};
	struct addrinfo *ai = NULL;
	struct sockaddr_storage bound;
	socklen_t bound_len = sizeof(bound);
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2], port[8];
	int fd = -1, r, off = 0;

	if (split_listen(listen, host, sizeof(host), port, sizeof(port)) < 0)
		return fg_log_errno(-EINVAL, "gwmp",
				    "listen address '%s' is not HOST:PORT or [IPV6]:PORT", listen);
	r = getaddrinfo(host, port, &hints, &ai);
	if (r != 0) {
		if (r == EAI_MEMORY)
			return fg_log_errno(-ENOMEM, "gwmp", "cannot parse '%s': %m", listen);
		if (r == EAI_SYSTEM)
			return fg_log_errno(-errno, "gwmp", "cannot parse '%s': %m", listen);
		return fg_log_errno(-EINVAL, "gwmp", "listen address '%s' is not numeric: %s",
				    listen, gai_strerror(r));
	}
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = fg_log_errno(-errno, "gwmp", "cannot create a UDP socket for '%s': %m", listen);
		goto fail;
	}
	/* "[::]:1700" takes IPv4 forwarders too, whatever net.ipv6.bindv6only says. */
	if (ai->ai_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0) {
		r = fg_log_errno(-errno, "gwmp", "cannot clear IPV6_V6ONLY for '%s': %m", listen);
		goto fail;
	}
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		r = fg_log_errno(-errno, "gwmp", "cannot bind to '%s': %m", listen);
		goto fail;
	}
	r = size_receive_buffer(fd, listen, ret_rcvbuf);
	if (r < 0)
		goto fail;
	if (getsockname(fd, (struct sockaddr *) &bound, &bound_len) < 0) {
		r = fg_log_errno(-errno, "gwmp", "cannot read the port bound for '%s': %m", listen);
		goto fail;
	}
	if (bound.ss_family == AF_INET6)
		*ret_port = ntohs(((struct sockaddr_in6 *) &bound)->sin6_port);
	else
		*ret_port = ntohs(((struct sockaddr_in *) &bound)->sin_port);
	freeaddrinfo(ai);
	*ret_fd = fd;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return r;
}

int fg_gwmp_new(const struct fg_gwmp_config *cfg, sd_event *loop, const struct fg_gwmp_handlers *h,
		void *userdata, struct fg_gwmp **ret)
{
	struct fg_gwmp *g;
	int r;

	if (!cfg->listen)
		return fg_log_errno(-EINVAL, "gwmp", "no listen address");
	if (cfg->n_gateways > FG_GWMP_GATEWAYS_MAX)
		return fg_log_errno(-EINVAL, "gwmp", "more than %d gateways", FG_GWMP_GATEWAYS_MAX);
	g = calloc(1, sizeof(*g));
	if (!g)
		return fg_log_errno(-ENOMEM, "gwmp", "cannot start: %m");
	g->fd = -1;
	g->cfg = *cfg;
	g->next_token = (uint16_t) fg_clock_mono_usec();
	g->cfg.listen = NULL; /* not owned; only used here */
	if (h)
		g->h = *h;
	g->userdata = userdata;
	g->buf = malloc(GWMP_DGRAM_MAX);
	if (!g->buf) {
		r = fg_log_errno(-ENOMEM, "gwmp", "cannot start: %m");
		goto fail;
	}
	r = open_socket(cfg->listen, &g->fd, &g->port, &g->stats.receive_buffer);
	if (r < 0)
		goto fail;
	r = sd_event_add_io(loop, &g->io, g->fd, EPOLLIN, on_io, g);
	if (r < 0) {
		fg_log_errno(r, "gwmp", "cannot watch the socket of '%s': %m", cfg->listen);
		goto fail;
	}
	(void) sd_event_source_set_description(g->io, "gwmp");
	fg_log_debug("gwmp", "listening on '%s', port %u", cfg->listen, g->port);
	*ret = g;
	return 0;
fail:
	fg_gwmp_free(g);
	return r;
}

void fg_gwmp_free(struct fg_gwmp *g)
{
	if (!g)
		return;
	sd_event_source_disable_unref(g->io);
	if (g->fd >= 0)
		close(g->fd);
	free(g->buf);
	free(g);
}

void fg_gwmp_get_stats(const struct fg_gwmp *g, struct fg_gwmp_stats *ret)
{
	uint32_t meminfo[SK_MEMINFO_VARS] = { 0 };
	socklen_t len = sizeof(meminfo);

	*ret = g->stats;
	/*
	 * SO_RXQ_OVFL tells of drops only with the next datagram that gets in;
	 * the socket's counter itself is current (the same sk_drops).
	 */
	if (getsockopt(g->fd, SOL_SOCKET, SO_MEMINFO, meminfo, &len) == 0 &&
	    len > SK_MEMINFO_DROPS * sizeof(uint32_t))
		ret->kernel_drops += (uint32_t) (meminfo[SK_MEMINFO_DROPS] - g->drops_seen);
}

uint16_t fg_gwmp_port(const struct fg_gwmp *g)
{
	return g->port;
}
