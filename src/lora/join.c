/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * LoRaWAN 1.0.x over-the-air activation (section 6.2): the JoinRequest MIC,
 * the JoinAccept and its odd encryption, the session keys of a join; and the
 * downlink data frame builder (section 4), which shares lorawan.c's.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lora/downlink.h"
#include "lora/lorawan-internal.h"

#define JOIN_REQUEST_LEN   23 /* MHDR, JoinEUI, DevEUI, DevNonce, MIC */
#define JOIN_ACCEPT_LEN	   17 /* MHDR, AppNonce, NetID, DevAddr, DLSettings, RxDelay, MIC */
#define JOIN_ACCEPT_CF_LEN 33 /* ... with the 16-byte CFList before the MIC */
#define JOIN_ACCEPT_MHDR   (FG_LW_JOIN_ACCEPT << 5)
#define JOIN_REQUEST_MHDR  (FG_LW_JOIN_REQUEST << 5)
#define MAX24		   UINT32_C(0xffffff)

int fg_lw_join_request_verify(const uint8_t app_key[FG_LW_KEY_LEN], const struct fg_lw_frame *f)
{
	uint8_t mac[FG_LW_BLOCK];
	int r;

	assert(app_key);
	if (!f || f->mtype != FG_LW_JOIN_REQUEST || !f->phy || f->phy_len != JOIN_REQUEST_LEN)
		return -EINVAL;
	/* cmac = aes128_cmac(AppKey, MHDR | AppEUI | DevEUI | DevNonce), MIC = cmac[0..3] */
	r = fg_lw_aes_cmac(app_key, f->phy, JOIN_REQUEST_LEN - FG_LW_MIC_LEN, mac);
	if (r < 0)
		return r;
	if (CRYPTO_memcmp(mac, f->phy + JOIN_REQUEST_LEN - FG_LW_MIC_LEN, FG_LW_MIC_LEN) != 0)
		return -EBADMSG;
	return 0;
}

int fg_lw_join_request_build(const uint8_t app_key[FG_LW_KEY_LEN], uint64_t join_eui,
			     uint64_t dev_eui, uint16_t dev_nonce, uint8_t *buf, size_t size)
{
	uint8_t mac[FG_LW_BLOCK];
	int r;

	assert(app_key);
	if (!buf)
		return -EINVAL;
	if (size < JOIN_REQUEST_LEN)
		return -EMSGSIZE;
	buf[0] = JOIN_REQUEST_MHDR; /* Major 0: LoRaWAN R1 */
	put_le64(buf + 1, join_eui);
	put_le64(buf + 9, dev_eui);
	put_le16(buf + 17, dev_nonce);
	r = fg_lw_aes_cmac(app_key, buf, JOIN_REQUEST_LEN - FG_LW_MIC_LEN, mac);
	if (r < 0)
		return r;
	memcpy(buf + JOIN_REQUEST_LEN - FG_LW_MIC_LEN, mac, FG_LW_MIC_LEN);
	return JOIN_REQUEST_LEN;
}

int fg_lw_join_accept_build(const uint8_t app_key[FG_LW_KEY_LEN],
			    const struct fg_lw_join_accept *ja, uint8_t *buf, size_t size)
{
	uint8_t plain[JOIN_ACCEPT_CF_LEN], mac[FG_LW_BLOCK];
	size_t len, n;
	int r;

	assert(app_key);
	if (!ja || !buf)
		return -EINVAL;
	/* DLSettings: RFU (7), RX1DROffset (6..4), RX2DataRate (3..0); RxDelay: RFU, Del (3..0). */
	if (ja->app_nonce > MAX24 || ja->net_id > MAX24 || ja->rx1_dr_offset > 7 ||
	    ja->rx2_dr > 15 || ja->rx_delay > 15)
		return -EINVAL;
	len = ja->has_cflist ? JOIN_ACCEPT_CF_LEN : JOIN_ACCEPT_LEN;
	if (size < len)
		return -EMSGSIZE;

	plain[0] = JOIN_ACCEPT_MHDR;
	put_le24(plain + 1, ja->app_nonce);
	put_le24(plain + 4, ja->net_id);
	put_le32(plain + 7, ja->dev_addr);
	plain[11] = (uint8_t) (ja->rx1_dr_offset << 4 | ja->rx2_dr);
	plain[12] = ja->rx_delay;
	n = 13;
	if (ja->has_cflist) {
		memcpy(plain + n, ja->cflist, sizeof(ja->cflist));
		n += sizeof(ja->cflist);
	}
	/* cmac = aes128_cmac(AppKey, MHDR | AppNonce | NetID | DevAddr | DLSettings | RxDelay
	 *                    | CFList) */
	r = fg_lw_aes_cmac(app_key, plain, n, mac);
	if (r < 0)
		goto out;
	memcpy(plain + n, mac, FG_LW_MIC_LEN);
	/*
	 * Section 6.2.5: the network *decrypts* payload | MIC (ECB, one or two
	 * blocks) so that the device, which may only have AES encryption, reads
	 * it by encrypting. The MHDR stays in the clear.
	 */
	buf[0] = plain[0];
	r = fg_lw_aes_ecb(app_key, false, plain + 1, len - 1, buf + 1);
	if (r == 0)
		r = (int) len;
out:
	OPENSSL_cleanse(plain, sizeof(plain));
	return r;
}

int fg_lw_join_accept_open(const uint8_t app_key[FG_LW_KEY_LEN], const uint8_t *phy, size_t len,
			   struct fg_lw_join_accept *ret)
{
	uint8_t plain[JOIN_ACCEPT_CF_LEN], mac[FG_LW_BLOCK];
	struct fg_lw_join_accept ja = { 0 };
	size_t n;
	int r;

	assert(app_key);
	if (!phy || !ret)
		return -EINVAL;
	/* MType 1 and Major 0; RFU bits ignored, as fg_lw_parse does (the MIC covers them). */
	if (len < 1 || (phy[0] & 0xe3) != JOIN_ACCEPT_MHDR)
		return -EINVAL;
	if (len != JOIN_ACCEPT_LEN && len != JOIN_ACCEPT_CF_LEN)
		return -EBADMSG;

	plain[0] = phy[0];
	r = fg_lw_aes_ecb(app_key, true, phy + 1, len - 1, plain + 1);
	if (r < 0)
		goto out;
	n = len - FG_LW_MIC_LEN;
	r = fg_lw_aes_cmac(app_key, plain, n, mac);
	if (r < 0)
		goto out;
	if (CRYPTO_memcmp(mac, plain + n, FG_LW_MIC_LEN) != 0) {
		r = -EBADMSG;
		goto out;
	}
	ja.app_nonce = get_le24(plain + 1);
	ja.net_id = get_le24(plain + 4);
	ja.dev_addr = get_le32(plain + 7);
	ja.rx1_dr_offset = (plain[11] >> 4) & 0x07;
	ja.rx2_dr = plain[11] & 0x0f;
	ja.rx_delay = plain[12] & 0x0f; /* the high nibble is RFU */
	ja.has_cflist = len == JOIN_ACCEPT_CF_LEN;
	if (ja.has_cflist)
		memcpy(ja.cflist, plain + 13, sizeof(ja.cflist));
	ja.mic = get_le32(plain + n);
	*ret = ja;
	r = 0;
out:
	OPENSSL_cleanse(plain, sizeof(plain));
	OPENSSL_cleanse(&ja, sizeof(ja));
	return r;
}

int fg_lw_join_derive_keys(const uint8_t app_key[FG_LW_KEY_LEN], uint32_t app_nonce,
			   uint32_t net_id, uint16_t dev_nonce, uint8_t nwk_s_key[FG_LW_KEY_LEN],
			   uint8_t app_s_key[FG_LW_KEY_LEN])
{
	uint8_t in[2 * FG_LW_BLOCK] = { 0 }, out[2 * FG_LW_BLOCK];
	int r;

	assert(app_key && nwk_s_key && app_s_key);
	if (app_nonce > MAX24 || net_id > MAX24)
		return -EINVAL;
	/* 0x01 | AppNonce | NetID | DevNonce | pad16, then the same with 0x02; one ECB call. */
	for (int i = 0; i < 2; i++) {
		uint8_t *b = in + i * FG_LW_BLOCK;

		b[0] = (uint8_t) (i + 1);
		put_le24(b + 1, app_nonce);
		put_le24(b + 4, net_id);
		put_le16(b + 7, dev_nonce);
	}
	r = fg_lw_aes_ecb(app_key, true, in, sizeof(in), out);
	if (r == 0) {
		memcpy(nwk_s_key, out, FG_LW_KEY_LEN);
		memcpy(app_s_key, out + FG_LW_BLOCK, FG_LW_KEY_LEN);
	}
	OPENSSL_cleanse(out, sizeof(out));
	return r;
}

int fg_lw_build_downlink(const struct fg_lw_session *s, bool confirmed, uint8_t fctrl,
			 uint32_t fcnt_down, const uint8_t *fopts, size_t fopts_len, int fport,
			 const uint8_t *payload, size_t len, uint8_t *buf, size_t size)
{
	enum fg_lw_mtype mtype = confirmed ? FG_LW_CONFIRMED_DOWN : FG_LW_UNCONFIRMED_DOWN;

	/* FCtrl bit 6 is ADRACKReq on an uplink and RFU on a downlink: sent as 0. */
	return fg_lw_build_data(s, mtype, fctrl & (uint8_t) ~0x40, fcnt_down, fopts, fopts_len,
				fport, payload, len, buf, size);
}
