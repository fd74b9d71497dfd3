/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A test double of libloragw (SX1302 flavour, tests/loragw/inc/loragw_hal.h)
 * so that the SX130x source is built and tested on every `make check`
 * without a concentrator or Semtech's HAL.
 *
 * Environment:
 *   FG_LORAGW_SCRIPT  a file read at the first lgw_start(): one directive per
 *                     line, '#' starts a comment.
 *                       start_fail N     the next N lgw_start() calls fail
 *                       receive_fail N   the next N lgw_receive() calls fail
 *                       temperature C    what lgw_get_temperature() reports
 *                       counter_start N  the counter's value at lgw_start()
 *                                        (0 without it; e.g. 4294967000 to
 *                                        see it wrap)
 *                       tx_busy N        the next N lgw_status(TX_STATUS)
 *                                        calls say TX_EMITTING, whatever was
 *                                        sent
 *                       rx KEY=VALUE...  one received packet, handed out in
 *                                        file order: freq, if, rf, mod (lora,
 *                                        fsk), sf, bw (Hz), cr (4/5..4/8),
 *                                        rssi, snr, crc (ok, bad, none),
 *                                        count_us (a number, or +N / -N: the
 *                                        counter when lgw_receive() hands it
 *                                        out, plus or minus N), payload (hex)
 *                       pause MS         lgw_receive() returns nothing for MS
 *                                        milliseconds once the feed gets here
 *   FG_LORAGW_RECORD  a file to which every call that configures, starts,
 *                     stops or sends appends one line: the function's name
 *                     and its arguments as key=value; lgw_send's line ends
 *                     with the counter and the TX status at the call
 *                     (counter=, tx_status=). Each packet lgw_receive() hands
 *                     out adds a line too (lgw_receive count_us= size=).
 *   FG_LORAGW_EUI     the EUI lgw_get_eui() reports (16 hex digits); a fixed
 *                     one without it.
 *
 * Like the HAL, it holds one concentrator in static state, refuses
 * configuration while started, and refuses to receive, send or read the EUI
 * while stopped; it checks the arguments the real HAL checks, so a wrong
 * call fails here too. The counter (lgw_get_instcnt) runs at 1 MHz from
 * lgw_start() on CLOCK_MONOTONIC and wraps at 2^32, as the chip's does; the
 * TX status follows what was sent on it: TX_SCHEDULED until a timestamped
 * packet's count_us, then TX_EMITTING for its time on air (Semtech's
 * formula, lgw_time_on_air), then TX_FREE.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loragw_hal.h"

#define DOUBLE_EUI UINT64_C(0x0016C001F0000001)
#define RX_MAX	   256
#define PAUSE	   (-1)

struct rx_item {
	int kind; /* 0 packet, PAUSE */
	uint32_t pause_ms;
	bool relative; /* count_us=+N or -N: pkt.count_us is N, added to the counter */
	struct lgw_pkt_rx_s pkt;
};

static struct {
	bool loaded;
	bool started;
	unsigned start_fail;
	unsigned receive_fail;
	unsigned tx_busy;
	float temperature;
	struct rx_item *feed;
	size_t n, next;
	uint64_t pause_until_ms; /* 0: not pausing */
	uint64_t start_us;
	uint32_t counter_start;
	/* The last packet sent: TX_SCHEDULED before tx_at, TX_EMITTING until tx_end. */
	bool tx_pending;
	uint32_t tx_at, tx_end;
} hal = { .temperature = 25.0f };

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* Append one line to $FG_LORAGW_RECORD, written at once so a reader never sees half of it. */
static void record(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void record(const char *fmt, ...)
{
	const char *path = getenv("FG_LORAGW_RECORD");
	char line[1024];
	va_list ap;
	int fd, n;

	if (!path || !*path)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t) n > sizeof(line) - 2)
		n = (int) sizeof(line) - 2;
	line[n++] = '\n';
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	(void) !write(fd, line, (size_t) n);
	close(fd);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

static uint8_t bw_code(unsigned long hz)
{
	return hz == 125000   ? BW_125KHZ
	       : hz == 250000 ? BW_250KHZ
	       : hz == 500000 ? BW_500KHZ
			      : BW_UNDEFINED;
}

static unsigned long bw_hz(uint8_t code)
{
	return code == BW_125KHZ   ? 125000
	       : code == BW_250KHZ ? 250000
	       : code == BW_500KHZ ? 500000
				   : 0;
}

/* The counter now: 1 MHz since lgw_start(), from counter_start, wrapping at 2^32. */
static uint32_t counter(void)
{
	return hal.counter_start + (uint32_t) (now_us() - hal.start_us);
}

/* Whether counter value a is before b, wrapping at 2^32. */
static bool before(uint32_t a, uint32_t b)
{
	return (int32_t) (a - b) < 0;
}

/*
 * A packet's time on air in microseconds: LoRa by the formula of Semtech's
 * datasheets (SF5 and SF6 take a little less on an SX1302), FSK at its bit
 * rate with preamble, 3 sync bytes, length and CRC, as sx1302_hal's
 * lgw_time_on_air() reckons them.
 */
static uint32_t time_on_air_us(const struct lgw_pkt_tx_s *p)
{
	if (p->modulation == MOD_LORA) {
		double bw = (double) bw_hz(p->bandwidth), sf = p->datarate;
		double tsym = ldexp(1.0, (int) sf) / bw * 1e6;
		int de = sf >= 11 && bw == 125000 ? 1 : 0, h = p->no_header ? 1 : 0;
		double n = ceil((8.0 * p->size - 4 * sf + 28 + (p->no_crc ? 0 : 16) - 20 * h) /
				(4 * (sf - 2 * de)));

		if (n < 0)
			n = 0;
		n = n * (p->coderate + 4) + 8;
		return (uint32_t) ((p->preamble + 4.25) * tsym + n * tsym);
	}
	return (uint32_t) ((p->preamble + 3 + 1 + p->size + (p->no_crc ? 0 : 2)) * 8.0 /
			   p->datarate * 1e6);
}

/* The TX modem's state from what was sent last (TX_OFF while stopped). */
static uint8_t tx_status_now(void)
{
	uint32_t now = counter();

	if (!hal.started)
		return TX_OFF;
	if (hal.tx_pending && before(now, hal.tx_at))
		return TX_SCHEDULED;
	if (hal.tx_pending && before(now, hal.tx_end))
		return TX_EMITTING;
	hal.tx_pending = false;
	return TX_FREE;
}

/*
 * A decimal number 0..max into *ret, with an optional sign when signed_ok (a
 * negative one wraps, as a counter offset does); false on anything else.
 * strtoull and not strtol: a 32-bit counter value does not fit a long where
 * long has 32 bits (armhf), and strtol would saturate it at LONG_MAX.
 */
static bool parse_u32(const char *v, bool signed_ok, uint32_t max, uint32_t *ret)
{
	unsigned long long n;
	bool neg = false;
	char *end;

	if (signed_ok && (*v == '+' || *v == '-'))
		neg = *v++ == '-';
	if (*v < '0' || *v > '9')
		return false;
	errno = 0;
	n = strtoull(v, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	if (errno || *end || n > max)
		return false;
	*ret = neg ? (uint32_t) (0u - (uint32_t) n) : (uint32_t) n;
	return true;
}

/* One "rx" line's KEY=VALUE words into a packet; false on a word it does not know. */
static bool parse_rx(char *words, struct rx_item *it)
{
	struct lgw_pkt_rx_s *p = &it->pkt;

	memset(p, 0, sizeof(*p));
	p->modulation = MOD_LORA;
	p->bandwidth = BW_125KHZ;
	p->datarate = DR_LORA_SF7;
	p->coderate = CR_LORA_4_5;
	p->status = STAT_CRC_OK;
	p->freq_hz = 868100000;
	p->rssic = p->rssis = -60;
	for (char *w = strtok(words, " \t"); w; w = strtok(NULL, " \t")) {
		char *v = strchr(w, '=');
		uint32_t u;

		if (!v)
			return false;
		*v++ = '\0';
		if (!strcmp(w, "freq")) {
			if (!parse_u32(v, false, UINT32_MAX, &p->freq_hz))
				return false;
		} else if (!strcmp(w, "if")) {
			if (!parse_u32(v, false, UINT8_MAX, &u))
				return false;
			p->if_chain = (uint8_t) u;
		} else if (!strcmp(w, "rf")) {
			if (!parse_u32(v, false, UINT8_MAX, &u))
				return false;
			p->rf_chain = (uint8_t) u;
		} else if (!strcmp(w, "mod"))
			p->modulation = !strcmp(v, "fsk") ? MOD_FSK : MOD_LORA;
		else if (!strcmp(w, "sf") || !strcmp(w, "datarate")) {
			if (!parse_u32(v, false, UINT32_MAX, &p->datarate))
				return false;
		} else if (!strcmp(w, "bw")) {
			if (!parse_u32(v, false, UINT32_MAX, &u))
				return false;
			p->bandwidth = bw_code(u);
		} else if (!strcmp(w, "cr"))
			p->coderate = !strcmp(v, "4/5")	  ? CR_LORA_4_5
				      : !strcmp(v, "4/6") ? CR_LORA_4_6
				      : !strcmp(v, "4/7") ? CR_LORA_4_7
				      : !strcmp(v, "4/8") ? CR_LORA_4_8
							  : CR_UNDEFINED;
		else if (!strcmp(w, "rssi"))
			p->rssic = p->rssis = strtof(v, NULL);
		else if (!strcmp(w, "snr"))
			p->snr = p->snr_min = p->snr_max = strtof(v, NULL);
		else if (!strcmp(w, "crc"))
			p->status = !strcmp(v, "ok")	 ? STAT_CRC_OK
				    : !strcmp(v, "bad")	 ? STAT_CRC_BAD
				    : !strcmp(v, "none") ? STAT_NO_CRC
							 : STAT_UNDEFINED;
		else if (!strcmp(w, "count_us")) {
			it->relative = *v == '+' || *v == '-';
			if (!parse_u32(v, true, UINT32_MAX, &p->count_us))
				return false;
		} else if (!strcmp(w, "payload")) {
			size_t n = strlen(v);

			if (n % 2 || n / 2 > sizeof(p->payload))
				return false;
			for (size_t i = 0; i < n / 2; i++) {
				int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);

				if (hi < 0 || lo < 0)
					return false;
				p->payload[i] = (uint8_t) (hi << 4 | lo);
			}
			p->size = (uint16_t) (n / 2);
		} else
			return false;
	}
	return true;
}

/* Read $FG_LORAGW_SCRIPT once; a line it cannot read is reported on stderr and skipped. */
static void load_script(void)
{
	const char *path = getenv("FG_LORAGW_SCRIPT");
	char line[1200];
	unsigned lineno = 0;
	FILE *f;

	hal.loaded = true;
	if (!path || !*path)
		return;
	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "loragw-double: cannot open '%s': %s\n", path, strerror(errno));
		return;
	}
	hal.feed = calloc(RX_MAX, sizeof(*hal.feed));
	while (hal.feed && fgets(line, sizeof(line), f)) {
		char *p = line, *hash = strchr(line, '#');
		char word[32];
		int off = 0;

		lineno++;
		if (hash)
			*hash = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		if (sscanf(p, " %31s %n", word, &off) < 1)
			continue;
		p += off;
		if (!strcmp(word, "start_fail")) {
			hal.start_fail += (unsigned) strtoul(p, NULL, 10);
		} else if (!strcmp(word, "receive_fail")) {
			hal.receive_fail += (unsigned) strtoul(p, NULL, 10);
		} else if (!strcmp(word, "temperature")) {
			hal.temperature = strtof(p, NULL);
		} else if (!strcmp(word, "counter_start") &&
			   parse_u32(p, false, UINT32_MAX, &hal.counter_start)) {
		} else if (!strcmp(word, "tx_busy")) {
			hal.tx_busy += (unsigned) strtoul(p, NULL, 10);
		} else if (!strcmp(word, "pause") && hal.n < RX_MAX) {
			hal.feed[hal.n].kind = PAUSE;
			hal.feed[hal.n++].pause_ms = (uint32_t) strtoul(p, NULL, 10);
		} else if (!strcmp(word, "rx") && hal.n < RX_MAX && parse_rx(p, &hal.feed[hal.n])) {
			hal.feed[hal.n++].kind = 0;
		} else {
			fprintf(stderr, "loragw-double: %s:%u: cannot read this line\n", path,
				lineno);
		}
	}
	fclose(f);
}

int lgw_board_setconf(struct lgw_conf_board_s *conf)
{
	if (!conf || hal.started)
		return LGW_HAL_ERROR;
	record("lgw_board_setconf lorawan_public=%d clksrc=%u full_duplex=%d com_type=%s "
	       "com_path=%s",
	       conf->lorawan_public, conf->clksrc, conf->full_duplex,
	       conf->com_type == LGW_COM_SPI   ? "spi"
	       : conf->com_type == LGW_COM_USB ? "usb"
					       : "?",
	       conf->com_path);
	return LGW_HAL_SUCCESS;
}

int lgw_rxrf_setconf(uint8_t rf_chain, struct lgw_conf_rxrf_s *conf)
{
	static const char *const types[] = { "none",   "sx1255", "sx1257",
					     "sx1272", "sx1276", "sx1250" };

	if (!conf || hal.started || rf_chain >= LGW_RF_CHAIN_NB ||
	    (unsigned) conf->type >= sizeof(types) / sizeof(types[0]))
		return LGW_HAL_ERROR;
	record("lgw_rxrf_setconf rf_chain=%u enable=%d freq_hz=%" PRIu32
	       " rssi_offset=%.1f type=%s tx_enable=%d",
	       rf_chain, conf->enable, conf->freq_hz, (double) conf->rssi_offset, types[conf->type],
	       conf->tx_enable);
	return LGW_HAL_SUCCESS;
}

int lgw_rxif_setconf(uint8_t if_chain, struct lgw_conf_rxif_s *conf)
{
	if (!conf || hal.started || if_chain >= LGW_IF_CHAIN_NB ||
	    conf->rf_chain >= LGW_RF_CHAIN_NB)
		return LGW_HAL_ERROR;
	/* The LoRa service channel needs a LoRa bandwidth and spreading factor. */
	if (if_chain == 8 && conf->enable &&
	    (!bw_hz(conf->bandwidth) || conf->datarate < DR_LORA_SF5 ||
	     conf->datarate > DR_LORA_SF12))
		return LGW_HAL_ERROR;
	if (if_chain == 9 && conf->enable &&
	    (!bw_hz(conf->bandwidth) || conf->datarate < DR_FSK_MIN || conf->datarate > DR_FSK_MAX))
		return LGW_HAL_ERROR;
	/* sx1302_hal's radios hear 1.6 MHz, whatever the channel's bandwidth. */
	if (conf->enable &&
	    labs((long) conf->freq_hz) +
			    (long) (if_chain < 8 ? 125000 : bw_hz(conf->bandwidth)) / 2 >
		    800000)
		return LGW_HAL_ERROR;
	record("lgw_rxif_setconf if_chain=%u enable=%d rf_chain=%u freq_hz=%" PRId32
	       " bandwidth=%lu datarate=%" PRIu32,
	       if_chain, conf->enable, conf->rf_chain, conf->freq_hz, bw_hz(conf->bandwidth),
	       conf->datarate);
	return LGW_HAL_SUCCESS;
}

int lgw_txgain_setconf(uint8_t rf_chain, struct lgw_tx_gain_lut_s *conf)
{
	if (!conf || hal.started || rf_chain >= LGW_RF_CHAIN_NB || conf->size < 1 ||
	    conf->size > TX_GAIN_LUT_SIZE_MAX)
		return LGW_HAL_ERROR;
	/* The ranges sx1302_hal checks, for SX1250 tables too. */
	for (unsigned i = 0; i < conf->size; i++) {
		const struct lgw_tx_gain_s *g = &conf->lut[i];

		if (g->dig_gain > 3 || g->dac_gain > 3 || g->mix_gain < 5 || g->mix_gain > 15 ||
		    g->pa_gain > 3 || g->pwr_idx > 22)
			return LGW_HAL_ERROR;
	}
	record("lgw_txgain_setconf rf_chain=%u size=%u min_power=%d max_power=%d", rf_chain,
	       conf->size, conf->lut[0].rf_power, conf->lut[conf->size - 1].rf_power);
	return LGW_HAL_SUCCESS;
}

int lgw_start(void)
{
	if (!hal.loaded)
		load_script();
	if (hal.started)
		return LGW_HAL_ERROR;
	if (hal.start_fail > 0) {
		hal.start_fail--;
		record("lgw_start result=error");
		return LGW_HAL_ERROR;
	}
	hal.started = true;
	hal.start_us = now_us();
	hal.tx_pending = false;
	record("lgw_start result=ok");
	return LGW_HAL_SUCCESS;
}

int lgw_stop(void)
{
	record("lgw_stop was_started=%d", hal.started);
	hal.started = false;
	return LGW_HAL_SUCCESS;
}

int lgw_receive(uint8_t max_pkt, struct lgw_pkt_rx_s *pkt_data)
{
	int n = 0;

	if (!hal.started || !pkt_data)
		return LGW_HAL_ERROR;
	if (hal.receive_fail > 0) {
		hal.receive_fail--;
		return LGW_HAL_ERROR;
	}
	while (n < max_pkt && hal.next < hal.n) {
		struct rx_item *it = &hal.feed[hal.next];

		if (it->kind == PAUSE) {
			if (!hal.pause_until_ms)
				hal.pause_until_ms = now_ms() + it->pause_ms;
			if (now_ms() < hal.pause_until_ms)
				break;
			hal.pause_until_ms = 0;
			hal.next++;
			continue;
		}
		pkt_data[n] = it->pkt;
		if (it->relative)
			pkt_data[n].count_us += counter();
		record("lgw_receive count_us=%" PRIu32 " size=%u", pkt_data[n].count_us,
		       pkt_data[n].size);
		n++;
		hal.next++;
	}
	return n;
}

int lgw_send(struct lgw_pkt_tx_s *pkt_data)
{
	const struct lgw_pkt_tx_s *p = pkt_data;
	char hex[2 * sizeof(p->payload) + 1];
	static const char *const tx_status[] = { "unknown", "off", "free", "scheduled",
						 "emitting" };
	uint8_t status;
	uint32_t now;

	if (!hal.started || !p || p->rf_chain >= LGW_RF_CHAIN_NB || p->size > 255)
		return LGW_HAL_ERROR;
	if (p->tx_mode != IMMEDIATE && p->tx_mode != TIMESTAMPED && p->tx_mode != ON_GPS)
		return LGW_HAL_ERROR;
	if (p->modulation == MOD_LORA &&
	    (!bw_hz(p->bandwidth) || p->datarate < DR_LORA_SF5 || p->datarate > DR_LORA_SF12 ||
	     p->coderate < CR_LORA_4_5 || p->coderate > CR_LORA_4_8))
		return LGW_HAL_ERROR;
	if (p->modulation == MOD_FSK && (p->datarate < DR_FSK_MIN || p->datarate > DR_FSK_MAX))
		return LGW_HAL_ERROR;
	if (p->modulation != MOD_LORA && p->modulation != MOD_FSK)
		return LGW_HAL_ERROR;
	for (size_t i = 0; i < p->size; i++)
		snprintf(hex + 2 * i, 3, "%02x", p->payload[i]);
	hex[2 * p->size] = '\0';
	/* What the modem was doing when handed this one (it replaces a scheduled one). */
	status = tx_status_now();
	now = counter();
	record("lgw_send freq_hz=%" PRIu32 " tx_mode=%s count_us=%" PRIu32
	       " rf_chain=%u rf_power=%d "
	       "modulation=%s bandwidth=%lu datarate=%" PRIu32 " coderate=4/%u invert_pol=%d "
	       "preamble=%u no_crc=%d no_header=%d size=%u payload=%s counter=%" PRIu32
	       " tx_status=%s",
	       p->freq_hz,
	       p->tx_mode == IMMEDIATE	   ? "immediate"
	       : p->tx_mode == TIMESTAMPED ? "timestamped"
					   : "gps",
	       p->count_us, p->rf_chain, p->rf_power, p->modulation == MOD_LORA ? "lora" : "fsk",
	       bw_hz(p->bandwidth), p->datarate, 4u + p->coderate, p->invert_pol, p->preamble,
	       p->no_crc, p->no_header, p->size, hex, now,
	       status < sizeof(tx_status) / sizeof(tx_status[0]) ? tx_status[status] : "?");
	hal.tx_pending = true;
	hal.tx_at = p->tx_mode == TIMESTAMPED ? p->count_us : now;
	hal.tx_end = hal.tx_at + time_on_air_us(p);
	return LGW_HAL_SUCCESS;
}

int lgw_status(uint8_t rf_chain, uint8_t select, uint8_t *code)
{
	if (!code || rf_chain >= LGW_RF_CHAIN_NB)
		return LGW_HAL_ERROR;
	if (select == TX_STATUS && hal.started && hal.tx_busy > 0) {
		hal.tx_busy--;
		*code = TX_EMITTING;
	} else if (select == TX_STATUS)
		*code = tx_status_now();
	else if (select == RX_STATUS)
		*code = hal.started ? 2 /* RX_ON */ : 1 /* RX_OFF */;
	else
		return LGW_HAL_ERROR;
	return LGW_HAL_SUCCESS;
}

int lgw_get_instcnt(uint32_t *inst_cnt_us)
{
	if (!hal.started || !inst_cnt_us)
		return LGW_HAL_ERROR;
	*inst_cnt_us = counter();
	return LGW_HAL_SUCCESS;
}

int lgw_get_trigcnt(uint32_t *trig_cnt_us)
{
	return lgw_get_instcnt(trig_cnt_us);
}

int lgw_get_eui(uint64_t *eui)
{
	const char *s = getenv("FG_LORAGW_EUI");

	if (!hal.started || !eui)
		return LGW_HAL_ERROR;
	*eui = s && *s ? strtoull(s, NULL, 16) : DOUBLE_EUI;
	return LGW_HAL_SUCCESS;
}

int lgw_get_temperature(float *temperature)
{
	if (!hal.started || !temperature)
		return LGW_HAL_ERROR;
	*temperature = hal.temperature;
	return LGW_HAL_SUCCESS;
}

const char *lgw_version_info(void)
{
	return "fieldgate loragw test double (sx1302_hal interface)";
}
