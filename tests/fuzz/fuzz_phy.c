/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer target for the LoRaWAN PHYPayload path: any bytes into
 * fg_lw_parse; a parsed frame must describe the input exactly. A data
 * uplink then goes through fg_lw_uplink_open with a fixed session, never
 * heard and heard, its FOpts through fg_lw_mac_describe, and it is rebuilt
 * with fg_lw_build_uplink under that session: the rebuilt frame must parse to
 * the same fields, open, and decrypt back to the FRMPayload that went in.
 * Data downlinks are rebuilt the same way with fg_lw_build_downlink. Joins:
 * a JoinRequest's MIC is checked and the frame rebuilt; a JoinAccept is
 * opened with a fixed AppKey (a real one's, so its seed opens), and any
 * input also serves as the fields of a JoinAccept that is built, must open
 * to the same fields, and must refuse a flipped bit.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lora/downlink.h"
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

/* The AppKey of the seeds avb-join-request.bin and avb-join-accept.bin (a real TTN join,
 * published by Arjan van Bentem; see tests/unit/check_downlink.c). */
static const uint8_t app_key[FG_LW_KEY_LEN] = { 0xb6, 0xb5, 0x3f, 0x4a, 0x16, 0x8a, 0x7a, 0x88,
						0xbd, 0xf7, 0xea, 0x13, 0x5c, 0xe9, 0xcf, 0xca };

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

/* Rebuild a data downlink under the fixed session; everything but MIC and RFU bits comes back. */
static void check_rebuild_downlink(const struct fg_lw_frame *f)
{
	struct fg_lw_session s = session;
	uint8_t plain[FG_LW_FRM_MAX], b[FG_LW_PHY_MAX];
	int n, fport = f->has_port ? f->fport : -1;
	const uint8_t *key;
	struct fg_lw_frame g;
	uint32_t mic;

	s.dev_addr = f->dev_addr;
	key = f->has_port && f->fport == 0 ? s.nwk_s_key : s.app_s_key;
	if (fg_lw_crypt(key, 1, f->dev_addr, f->fcnt16, f->frm, f->frm_len, plain) < 0)
		abort();
	n = fg_lw_build_downlink(&s, f->mtype == FG_LW_CONFIRMED_DOWN, f->fctrl, f->fcnt16,
				 f->fopts, f->fopts_len, fport, plain, f->frm_len, b, sizeof(b));
	if (n != (int) f->phy_len)
		abort();
	/* FCtrl bit 6 is RFU on a downlink: the builder sends it as 0. */
	if (b[0] != (f->mhdr & 0xe0) || memcmp(b + 1, f->phy + 1, 4) != 0 ||
	    b[5] != (f->fctrl & 0xbf) || memcmp(b + 6, f->phy + 6, f->phy_len - 10) != 0)
		abort();
	if (fg_lw_parse(b, (size_t) n, &g) != FG_LW_OK || g.mtype != f->mtype ||
	    g.fcnt16 != f->fcnt16 || g.frm_len != f->frm_len)
		abort();
	if (fg_lw_data_mic(s.nwk_s_key, 1, g.dev_addr, g.fcnt16, b, (size_t) n - 4, &mic) < 0 ||
	    mic != g.mic)
		abort();
}

/* A JoinRequest: its MIC holds or not, and it rebuilds to the same bytes but the MIC. */
static void check_join_request(const struct fg_lw_frame *f)
{
	uint8_t b[23];
	int r = fg_lw_join_request_verify(app_key, f);

	if (r != 0 && r != -EBADMSG)
		abort();
	if (fg_lw_join_request_build(app_key, f->join_eui, f->dev_eui, f->dev_nonce, b,
				     sizeof(b)) != 23)
		abort();
	if (b[0] != (f->mhdr & 0xe0) || memcmp(b + 1, f->phy + 1, 18) != 0)
		abort();
	/* With the MHDR's RFU bits clear the MIC is the only difference, and only if it failed. */
	if (f->mhdr == 0 && (memcmp(b + 19, f->phy + 19, 4) == 0) != (r == 0))
		abort();
}

/* A JoinAccept on the air: it opens (and then rebuilds to fields that open the same) or not. */
static void check_join_accept(const uint8_t *data, size_t size)
{
	struct fg_lw_join_accept ja, again;
	uint8_t b[33];
	int r = fg_lw_join_accept_open(app_key, data, size, &ja), n;

	if (r != 0 && r != -EBADMSG)
		abort();
	if (r < 0)
		return;
	if (ja.has_cflist != (size == 33) || ja.app_nonce > 0xffffff || ja.net_id > 0xffffff ||
	    ja.rx1_dr_offset > 7 || ja.rx2_dr > 15 || ja.rx_delay > 15)
		abort();
	n = fg_lw_join_accept_build(app_key, &ja, b, sizeof(b));
	if (n != (int) size || fg_lw_join_accept_open(app_key, b, size, &again) != 0 ||
	    memcmp(&ja, &again, sizeof(ja)) != 0)
		abort();
}

/* Any bytes as the fields of a JoinAccept: build, open, compare; a flipped bit is refused. */
static void check_join_accept_fields(const uint8_t *data, size_t size)
{
	struct fg_lw_join_accept ja = { 0 }, out;
	uint8_t in[30] = { 0 }, b[33];
	int n;
	size_t flip;

	memcpy(in, data, size < sizeof(in) ? size : sizeof(in));
	ja.app_nonce = (uint32_t) in[0] | (uint32_t) in[1] << 8 | (uint32_t) in[2] << 16;
	ja.net_id = (uint32_t) in[3] | (uint32_t) in[4] << 8 | (uint32_t) in[5] << 16;
	ja.dev_addr = le32(in + 6);
	ja.rx1_dr_offset = (in[10] >> 4) & 7;
	ja.rx2_dr = in[10] & 15;
	ja.rx_delay = in[11] & 15;
	ja.has_cflist = in[12] & 1;
	memcpy(ja.cflist, in + 13, sizeof(ja.cflist));
	n = fg_lw_join_accept_build(app_key, &ja, b, sizeof(b));
	if (n != (ja.has_cflist ? 33 : 17) || b[0] != 0x20)
		abort();
	memset(&out, 0, sizeof(out));
	if (fg_lw_join_accept_open(app_key, b, (size_t) n, &out) != 0)
		abort();
	if (out.app_nonce != ja.app_nonce || out.net_id != ja.net_id ||
	    out.dev_addr != ja.dev_addr || out.rx1_dr_offset != ja.rx1_dr_offset ||
	    out.rx2_dr != ja.rx2_dr || out.rx_delay != ja.rx_delay ||
	    out.has_cflist != ja.has_cflist ||
	    (ja.has_cflist && memcmp(out.cflist, ja.cflist, sizeof(ja.cflist)) != 0))
		abort();
	flip = 1 + in[29] % (size_t) (n - 1);
	b[flip] ^= (uint8_t) (1u << (in[28] & 7));
	if (fg_lw_join_accept_open(app_key, b, (size_t) n, &out) != -EBADMSG)
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

	check_join_accept_fields(data, size);
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
	if (f.mtype == FG_LW_JOIN_REQUEST)
		check_join_request(&f);
	if (f.mtype == FG_LW_JOIN_ACCEPT)
		check_join_accept(data, size);
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
		check_rebuild_downlink(&f);
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
