/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mkframe: print a LoRaWAN 1.0.x uplink PHYPayload as hex, for the
 * integration tests' packet forwarder and for trying fieldgatectl decode.
 *
 *   mkframe NWK_S_KEY APP_S_KEY DEV_ADDR FCNT FPORT HEX_PAYLOAD [confirmed]
 *   mkframe join APP_KEY JOIN_EUI DEV_EUI DEV_NONCE
 *                        a JoinRequest
 *   mkframe accept APP_KEY DEV_NONCE HEX_JOIN_ACCEPT
 *                        read a JoinAccept as the device would: prints
 *                        "DEV_ADDR NWK_S_KEY APP_S_KEY RX1_DR_OFFSET RX2_DR RX_DELAY"
 *   mkframe cflist APP_KEY HEX_JOIN_ACCEPT
 *                        the CFList of a JoinAccept, 32 hex digits, or "none"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lora/downlink.h"
#include "lora/lorawan.h"

static int hex(const char *s, uint8_t *out, size_t size, size_t *ret_len)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 > size)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	*ret_len = n / 2;
	return 0;
}

static void print_hex(const uint8_t *p, size_t n, const char *end)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("%s", end);
}

static int join(char **argv)
{
	uint8_t key[16], phy[64];
	size_t klen;
	int n;

	if (hex(argv[2], key, 16, &klen) || klen != 16)
		return 2;
	n = fg_lw_join_request_build(key, strtoull(argv[3], NULL, 16), strtoull(argv[4], NULL, 16),
				     (uint16_t) strtoul(argv[5], NULL, 0), phy, sizeof(phy));
	if (n < 0)
		return 1;
	print_hex(phy, (size_t) n, "\n");
	return 0;
}

static int accept(char **argv)
{
	uint8_t key[16], phy[64], nwk[16], app[16];
	struct fg_lw_join_accept ja;
	size_t klen, len;

	if (hex(argv[2], key, 16, &klen) || klen != 16 || hex(argv[4], phy, sizeof(phy), &len))
		return 2;
	if (fg_lw_join_accept_open(key, phy, len, &ja) < 0 ||
	    fg_lw_join_derive_keys(key, ja.app_nonce, ja.net_id, (uint16_t) strtoul(argv[3], NULL, 0),
				   nwk, app) < 0) {
		fprintf(stderr, "mkframe: not a JoinAccept under this key\n");
		return 1;
	}
	printf("%08X ", ja.dev_addr);
	print_hex(nwk, 16, " ");
	print_hex(app, 16, " ");
	printf("%u %u %u\n", ja.rx1_dr_offset, ja.rx2_dr, ja.rx_delay);
	return 0;
}

static int cflist(char **argv)
{
	uint8_t key[16], phy[64];
	struct fg_lw_join_accept ja;
	size_t klen, len;

	if (hex(argv[2], key, 16, &klen) || klen != 16 || hex(argv[3], phy, sizeof(phy), &len))
		return 2;
	if (fg_lw_join_accept_open(key, phy, len, &ja) < 0) {
		fprintf(stderr, "mkframe: not a JoinAccept under this key\n");
		return 1;
	}
	if (!ja.has_cflist) {
		printf("none\n");
		return 0;
	}
	print_hex(ja.cflist, sizeof(ja.cflist), "\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct fg_lw_session s = { 0 };
	uint8_t payload[FG_LW_FRM_MAX], phy[FG_LW_PHY_MAX];
	size_t klen, plen;
	int n;

	if (argc == 6 && !strcmp(argv[1], "join"))
		return join(argv);
	if (argc == 5 && !strcmp(argv[1], "accept"))
		return accept(argv);
	if (argc == 4 && !strcmp(argv[1], "cflist"))
		return cflist(argv);
	if (argc != 7 && argc != 8) {
		fprintf(stderr, "usage: mkframe NWK_S_KEY APP_S_KEY DEV_ADDR FCNT FPORT HEX [confirmed]\n");
		return 2;
	}
	if (hex(argv[1], s.nwk_s_key, 16, &klen) || klen != 16 ||
	    hex(argv[2], s.app_s_key, 16, &klen) || klen != 16 ||
	    hex(argv[6], payload, sizeof(payload), &plen)) {
		fprintf(stderr, "mkframe: keys are 32 hex digits, the payload hex\n");
		return 2;
	}
	s.dev_addr = (uint32_t)strtoul(argv[3], NULL, 16);
	n = fg_lw_build_uplink(&s, argc == 8 ? FG_LW_CONFIRMED_UP : FG_LW_UNCONFIRMED_UP, 0,
			       (uint32_t)strtoul(argv[4], NULL, 0), NULL, 0, atoi(argv[5]), payload,
			       plen, phy, sizeof(phy));
	if (n < 0) {
		fprintf(stderr, "mkframe: %s\n", strerror(-n));
		return 1;
	}
	for (int i = 0; i < n; i++)
		printf("%02x", phy[i]);
	printf("\n");
	return 0;
}
