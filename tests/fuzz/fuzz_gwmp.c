/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Any bytes as a datagram to fg_gwmp_handle(), under a config that takes any
 * gateway and one that lists a single EUI (the seeds' gateway) and accepts
 * frames without CRC, and as the body of a TX_ACK (fg_gwmp_tx_ack_parse). The handlers check what the contract promises and
 * abort() when it does not hold.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "source/gwmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct state {
	const struct fg_gwmp_config *cfg;
	uint64_t gateway; /* from the header, 0 when too short */
	size_t calls;
};

static bool bw_known(uint32_t bw)
{
	switch (bw) {
	case 125000:
	case 250000:
	case 500000:
	case 203125:
	case 406250:
	case 812500:
	case 1625000:
		return true;
	}
	return false;
}

static bool gateway_allowed(const struct fg_gwmp_config *cfg, uint64_t gw)
{
	if (cfg->n_gateways == 0)
		return true;
	for (size_t i = 0; i < cfg->n_gateways; i++)
		if (cfg->gateways[i] == gw)
			return true;
	return false;
}

static void on_rxpk(const struct fg_gwmp_rxpk *pk, void *userdata)
{
	struct state *st = userdata;

	st->calls++;
	if (pk->len > FG_LW_PHY_MAX || pk->sf < 5 || pk->sf > 12 || !bw_known(pk->bw_hz))
		abort();
	if (pk->freq_hz == 0 || pk->gateway != st->gateway ||
	    !gateway_allowed(st->cfg, pk->gateway))
		abort();
	if (pk->stat != 1 && !(pk->stat == 0 && st->cfg->accept_no_crc))
		abort();
	if (pk->chan < -1 || pk->chan > 255 || pk->rfch < -1 || pk->rfch > 255)
		abort();
	if (memchr(pk->codr, '\0', sizeof(pk->codr)) == NULL)
		abort();
	if (pk->has_lsnr && !(pk->lsnr >= -100 && pk->lsnr <= 100))
		abort();
	if (pk->has_rssi && (pk->rssi < -255 || pk->rssi > 255))
		abort();
	/* Years 1970..9999 only (a leap second at the very end reads one second on). */
	if (pk->has_time && pk->time_ms >= UINT64_C(253402300800000) + 1000)
		abort();
}

static void on_stat(const struct fg_gwmp_stat *s, void *userdata)
{
	struct state *st = userdata;

	st->calls++;
	if (s->gateway != st->gateway || !gateway_allowed(st->cfg, s->gateway))
		abort();
	if (s->has_position &&
	    (!(s->lat >= -90 && s->lat <= 90) || !(s->lon >= -180 && s->lon <= 180)))
		abort();
	if (s->has_ackr && !(s->ackr >= 0 && s->ackr <= 100))
		abort();
}

static void on_refused(uint64_t gateway, enum fg_gwmp_reason why, const char *detail,
		       void *userdata)
{
	struct state *st = userdata;
	size_t n;

	st->calls++;
	if (why <= FG_GWMP_OK || why >= FG_GWMP_REASON__COUNT || !detail)
		abort();
	if (gateway != 0 && gateway != st->gateway)
		abort();
	/* Details are short, printable ASCII: callers log them as they are. */
	n = strlen(detail);
	if (n >= 256)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char) detail[i] < 0x20 || (unsigned char) detail[i] >= 0x7f)
			abort();
	if (strcmp(fg_gwmp_reason_to_string(why), "unknown") == 0)
		abort();
}

static const struct fg_gwmp_handlers handlers = {
	.rxpk = on_rxpk,
	.stat = on_stat,
	.refused = on_refused,
};

/* The ack, if any, answers this very datagram: its version, its token, the matching type. */
static void check_ack(const struct fg_gwmp_config *cfg, const uint8_t *data, size_t size,
		      const uint8_t *ack, size_t n)
{
	uint64_t gw = 0;

	if (n == 0)
		return;
	if (n != 4 || size < 12 || (data[0] != 1 && data[0] != 2))
		abort();
	for (int i = 0; i < 8; i++)
		gw = gw << 8 | data[4 + i];
	if (!gateway_allowed(cfg, gw))
		abort();
	if (ack[0] != data[0] || ack[1] != data[1] || ack[2] != data[2])
		abort();
	if (!(data[3] == 0x00 && ack[3] == 0x01) && !(data[3] == 0x02 && ack[3] == 0x04))
		abort();
}

static void run(const struct fg_gwmp_config *cfg, const uint8_t *data, size_t size)
{
	struct state st = { .cfg = cfg };
	uint8_t ack[8] = { 0 };
	size_t n;

	if (size >= 12)
		for (int i = 0; i < 8; i++)
			st.gateway = st.gateway << 8 | data[4 + i];
	n = fg_gwmp_handle(cfg, data, size, &handlers, &st, ack, sizeof(ack));
	check_ack(cfg, data, size, ack, n);
	/* A well-formed PUSH_DATA or PULL_DATA of an allowed gateway is always acked. */
	if (size >= 12 && (data[0] == 1 || data[0] == 2) && (data[3] == 0x00 || data[3] == 0x02) &&
	    gateway_allowed(cfg, st.gateway) && n != 4)
		abort();
	/* The same bytes without handlers give the same answer. */
	if (fg_gwmp_handle(cfg, data, size, NULL, NULL, ack, sizeof(ack)) != n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fg_gwmp_config any = { .enabled = true, .listen = "127.0.0.1:0" };
	static const struct fg_gwmp_config listed = {
		.enabled = true,
		.listen = "127.0.0.1:0",
		.accept_no_crc = true,
		.gateways = { UINT64_C(0xaa555a0000000101) },
		.n_gateways = 1,
	};

	enum fg_gwmp_tx_error e;

	run(&any, data, size);
	run(&listed, data, size);
	/* The same bytes as a TX_ACK's body: always one of the verdicts, never a crash. */
	e = fg_gwmp_tx_ack_parse(data, size);
	if ((unsigned) e >= FG_GWMP_TX__COUNT || !strcmp(fg_gwmp_tx_error_to_string(e), "unknown"))
		abort();
	return 0;
}
