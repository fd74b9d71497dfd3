/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mkframe: print a LoRaWAN 1.0.x uplink PHYPayload as hex, for the
 * integration tests' packet forwarder and for trying fieldgatectl decode.
 *
 *   mkframe NWK_S_KEY APP_S_KEY DEV_ADDR FCNT FPORT HEX_PAYLOAD [confirmed]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(int argc, char **argv)
{
	struct fg_lw_session s = { 0 };
	uint8_t payload[FG_LW_FRM_MAX], phy[FG_LW_PHY_MAX];
	size_t klen, plen;
	int n;

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
