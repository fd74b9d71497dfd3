/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer target for the LoRaWAN PHYPayload path: any bytes into
 * fg_lw_parse; a parsed frame must describe the input exactly. A data
 * uplink then goes through fg_lw_uplink_open with a fixed session, never
 * heard and heard, its FOpts through fg_lw_mac_describe, and it is rebuilt
 * with fg_lw_build_uplink under that session: the rebuilt frame must parse to
 * the same fields, open, and decrypt back to the FRMPayload that went in.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lora/lorawan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The keys of the seed frames (lora-packet's test vectors), so those open. */
static const struct fg_lw_session session = {
	.dev_addr = 0x49be7df1,
	.nwk_s_key = { 0x44, 0x02, 0x42, 0x41, 0xed, 0x4c, 0xe9, 0xa6, 0x8c, 0x6a, 0x8b, 0xc0, 0x55,
		       0x23, 0x3f, 0xd3 },
	.app_s_key = { 0xec, 0x92, 0x58, 0x02, 0xae, 0x43, 0x0c, 0xa7, 0x7f, 0xd3, 0xdd, 0x73, 0xcb,
		       0x2c, 0xc5, 0x88 },
};

#define MAX_GAP 16384

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
	       (uint32_t) p[3] << 24;
}

/* Whatever the commands, the text is NUL-terminated inside buf and the result is sane. */
static void check_describe(const uint8_t *cmds, size_t len)
{
	char big[512], small[9];
	int r, r2;

	memset(big, 0x7f, sizeof(big));
	memset(small, 0x7f, sizeof(small));
	r = fg_lw_mac_describe(cmds, len, big, sizeof(big));
	r2 = fg_lw_mac_describe(cmds, len, small, sizeof(small));
	if (r != r2 || (r < 0 && r != -EBADMSG) || r > (int) len)
		abort();
	if (!memchr(big, '\0', sizeof(big)) || !memchr(small, '\0', sizeof(small)))
		abort();
	if (strncmp(big, small, strlen(small)) != 0)
		abort();
	if (len == 0 && (r != 0 || big[0] != '\0'))
		abort();
}

/* An accepted uplink agrees with its frame and with last. */
static void check_opened(const struct fg_lw_frame *f, const struct fg_lw_uplink *up, uint32_t last,
			 bool have_last)
{
	if ((up->fcnt & 0xffff) != f->fcnt16 || up->f.dev_addr != f->dev_addr)
		abort();
	if (up->payload_len != (f->has_port ? f->frm_len : 0) || up->payload_len > FG_LW_FRM_MAX)
		abort();
	if (!have_last && up->fcnt > 0xffff)
		abort();
	if (have_last && (up->fcnt <= last || up->fcnt - last > MAX_GAP))
		abort();
}

/* Rebuild f under the fixed session from its decrypted payload; it must come back the same. */
static void check_rebuild(const struct fg_lw_frame *f)
{
	struct fg_lw_session s = session;
	uint8_t plain[FG_LW_FRM_MAX], b[FG_LW_PHY_MAX];
	struct fg_lw_uplink up;
	struct fg_lw_frame g;
	int n, fport = f->has_port ? f->fport : -1;
	const uint8_t *key;

	s.dev_addr = f->dev_addr;
	key = f->has_port && f->fport == 0 ? s.nwk_s_key : s.app_s_key;
	if (fg_lw_crypt(key, 0, f->dev_addr, f->fcnt16, f->frm, f->frm_len, plain) < 0)
		abort();
	n = fg_lw_build_uplink(&s, f->mtype, f->fctrl, f->fcnt16, f->fopts, f->fopts_len, fport,
			       plain, f->frm_len, b, sizeof(b));
	if (n != (int) f->phy_len)
		abort();
	/*
	 * Everything but the MIC is the input again (FRMPayload re-encrypts to the same
	 * bytes), except the MHDR's RFU bits, which parsing ignores and building leaves 0.
	 */
	if (b[0] != (f->mhdr & 0xe0) || memcmp(b + 1, f->phy + 1, f->phy_len - 5) != 0)
		abort();
	if (fg_lw_parse(b, (size_t) n, &g) != FG_LW_OK || g.fctrl != f->fctrl ||
	    g.fcnt16 != f->fcnt16 || g.has_port != f->has_port || g.fport != f->fport ||
	    g.frm_len != f->frm_len)
		abort();
	if (fg_lw_uplink_open(&s, &g, 0, false, MAX_GAP, &up) != FG_LW_OK)
		abort();
	check_opened(&g, &up, 0, false);
	if (memcmp(up.payload, plain, up.payload_len) != 0)
		abort();
	/* The same frame once more is a replay; one counter behind it is fine. */
	if (fg_lw_uplink_open(&s, &g, up.fcnt, true, MAX_GAP, &up) != FG_LW_REPLAY)
		abort();
	if (g.fcnt16 > 0 &&
	    fg_lw_uplink_open(&s, &g, (uint32_t) g.fcnt16 - 1, true, MAX_GAP, &up) != FG_LW_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t lasts[] = { 0, 1, 0xfff0, 0x1ffff, 0xfffffff0 };
	struct fg_lw_session s = session;
	struct fg_lw_uplink up;
	struct fg_lw_frame f;
	enum fg_lw_reason r;
	bool data_frame;

	r = fg_lw_parse(data, size, &f);
	if ((unsigned) r >= FG_LW_REASON__COUNT)
		abort();
	if (r != FG_LW_OK) {
		if (r != FG_LW_TOO_SHORT && r != FG_LW_TOO_LONG && r != FG_LW_BAD_MAJOR &&
		    r != FG_LW_FOPTS_OVERRUN && r != FG_LW_FOPTS_WITH_PORT0)
			abort();
		if ((size > FG_LW_PHY_MAX && r != FG_LW_TOO_LONG) ||
		    (size == 0 && r != FG_LW_TOO_SHORT))
			abort();
		/* Below the limit only a join of the wrong length is too long. */
		if (r == FG_LW_TOO_LONG && size <= FG_LW_PHY_MAX &&
		    (data[0] >> 5) > FG_LW_JOIN_ACCEPT)
			abort();
		if ((r == FG_LW_FOPTS_OVERRUN || r == FG_LW_FOPTS_WITH_PORT0) &&
		    ((data[0] >> 5) < FG_LW_UNCONFIRMED_UP ||
		     (data[0] >> 5) > FG_LW_CONFIRMED_DOWN))
			abort();
		return 0;
	}

	/* Every frame: within the input, MHDR and MIC as on air. */
	if (size < 5 || size > FG_LW_PHY_MAX || f.phy != data || f.phy_len != size)
		abort();
	if (f.mhdr != data[0] || f.mtype != (data[0] >> 5) || f.major != 0 || (data[0] & 3) != 0)
		abort();
	if (f.mic != le32(data + size - 4))
		abort();
	data_frame = f.mtype >= FG_LW_UNCONFIRMED_UP && f.mtype <= FG_LW_CONFIRMED_DOWN;
	if (f.mtype == FG_LW_JOIN_REQUEST && size != 23)
		abort();
	if (f.mtype == FG_LW_JOIN_ACCEPT && size != 17 && size != 33)
		abort();
	if (!data_frame)
		goto open;

	/* Data frames: the pieces tile the input exactly. */
	if (size < 12 || f.fopts_len > 15 || f.fopts_len != (data[5] & 0x0f) || f.fopts != data + 8)
		abort();
	if (f.frm < data || f.frm > data + size - 4 ||
	    f.frm_len > (size_t) (data + size - 4 - f.frm))
		abort();
	if (8 + f.fopts_len + (f.has_port ? 1u : 0u) + f.frm_len + 4 != size)
		abort();
	if (f.frm_len > FG_LW_FRM_MAX || (f.has_port && f.fport == 0 && f.fopts_len > 0))
		abort();
	if (f.has_port && f.fport != data[8 + f.fopts_len])
		abort();
	if (!f.has_port && f.frm_len != 0)
		abort();
	if (f.dev_addr != le32(data + 1) || f.fctrl != data[5] ||
	    f.fcnt16 != (uint16_t) (data[6] | data[7] << 8))
		abort();
	check_describe(f.fopts, f.fopts_len);
	if (f.has_port && f.fport == 0)
		check_describe(f.frm, f.frm_len);

open:
	/* Another device's session first, then one for this DevAddr. */
	s.dev_addr = f.dev_addr ^ 1;
	r = fg_lw_uplink_open(&s, &f, 0, false, MAX_GAP, &up);
	if (f.mtype == FG_LW_UNCONFIRMED_DOWN || f.mtype == FG_LW_CONFIRMED_DOWN) {
		if (r != FG_LW_DOWNLINK)
			abort();
		return 0;
	}
	if (!data_frame) {
		if (r != FG_LW_UNSUPPORTED)
			abort();
		return 0;
	}
	if (r != FG_LW_UNKNOWN_DEVICE)
		abort();
	s.dev_addr = f.dev_addr;
	r = fg_lw_uplink_open(&s, &f, 0, false, MAX_GAP, &up);
	if (r != FG_LW_OK && r != FG_LW_BAD_MIC)
		abort();
	if (r == FG_LW_OK)
		check_opened(&f, &up, 0, false);
	for (size_t i = 0; i < sizeof(lasts) / sizeof(lasts[0]); i++) {
		r = fg_lw_uplink_open(&s, &f, lasts[i], true, MAX_GAP, &up);
		if (r != FG_LW_OK && r != FG_LW_BAD_MIC && r != FG_LW_REPLAY && r != FG_LW_FCNT_GAP)
			abort();
		if (r == FG_LW_OK)
			check_opened(&f, &up, lasts[i], true);
	}
	if (f.mtype == FG_LW_UNCONFIRMED_UP || f.mtype == FG_LW_CONFIRMED_UP)
		check_rebuild(&f);
	return 0;
}
