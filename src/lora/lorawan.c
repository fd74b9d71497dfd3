/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * LoRaWAN 1.0.x uplinks: PHYPayload parsing, the MIC (section 4.4), the
 * FRMPayload cipher (section 4.3.3), the 32-bit frame counter, and the
 * data-frame builder behind the uplink builder the simulator and the tests
 * use and the downlink builder of join.c.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "lora/lorawan-internal.h"
#include "lora/lorawan.h"

#define BLOCK	 FG_LW_BLOCK
#define DATA_MIN 12 /* MHDR, DevAddr, FCtrl, FCnt, MIC */
#define MIC_LEN	 FG_LW_MIC_LEN

static const char *const reason_names[FG_LW_REASON__COUNT] = {
	[FG_LW_OK] = "ok",
	[FG_LW_TOO_SHORT] = "too-short",
	[FG_LW_TOO_LONG] = "too-long",
	[FG_LW_BAD_MAJOR] = "bad-major",
	[FG_LW_FOPTS_OVERRUN] = "fopts-overrun",
	[FG_LW_FOPTS_WITH_PORT0] = "fopts-with-port0",
	[FG_LW_UNKNOWN_DEVICE] = "unknown-device",
	[FG_LW_BAD_MIC] = "bad-mic",
	[FG_LW_REPLAY] = "replay",
	[FG_LW_FCNT_GAP] = "fcnt-gap",
	[FG_LW_DOWNLINK] = "downlink",
	[FG_LW_UNSUPPORTED] = "unsupported",
	[FG_LW_DEVNONCE_REUSED] = "devnonce-reused",
	[FG_LW_OFF_PLAN] = "off-plan",
};

/* clang-format off */
static const char *const mtype_names[8] = {
	[FG_LW_JOIN_REQUEST] = "join-request",
	[FG_LW_JOIN_ACCEPT] = "join-accept",
	[FG_LW_UNCONFIRMED_UP] = "unconfirmed-up",
	[FG_LW_UNCONFIRMED_DOWN] = "unconfirmed-down",
	[FG_LW_CONFIRMED_UP] = "confirmed-up",
	[FG_LW_CONFIRMED_DOWN] = "confirmed-down",
	[FG_LW_REJOIN_REQUEST] = "rejoin-request",
	[FG_LW_PROPRIETARY] = "proprietary",
};
/* clang-format on */

const char *fg_lw_reason_to_string(enum fg_lw_reason r)
{
	if ((unsigned) r >= FG_LW_REASON__COUNT)
		return "unknown";
	return reason_names[r];
}

const char *fg_lw_mtype_to_string(enum fg_lw_mtype t)
{
	if ((unsigned) t >= 8)
		return "unknown";
	return mtype_names[t];
}

/* FHDR, FPort and FRMPayload of a data frame (MType 2..5), len already >= DATA_MIN. */
static enum fg_lw_reason parse_data(const uint8_t *phy, size_t len, struct fg_lw_frame *f)
{
	size_t end = len - MIC_LEN, pos;
	bool up = f->mtype == FG_LW_UNCONFIRMED_UP || f->mtype == FG_LW_CONFIRMED_UP;

	f->dev_addr = get_le32(phy + 1);
	f->fctrl = phy[5];
	f->adr = f->fctrl & 0x80;
	f->adr_ack_req = up && (f->fctrl & 0x40);
	f->ack = f->fctrl & 0x20;
	f->class_b = f->fctrl & 0x10;
	f->fopts_len = f->fctrl & 0x0f;
	f->fcnt16 = get_le16(phy + 6);
	f->fopts = phy + 8;
	pos = 8 + (size_t) f->fopts_len;
	if (pos > end)
		return FG_LW_FOPTS_OVERRUN;
	if (pos < end) {
		f->has_port = true;
		f->fport = phy[pos++];
		/* 1.0.x section 4.3.1.6: MAC commands go in FOpts or in FPort 0, never both. */
		if (f->fport == 0 && f->fopts_len > 0)
			return FG_LW_FOPTS_WITH_PORT0;
	}
	/* Without an FPort, frm points at the MIC with length 0: still inside the input. */
	f->frm = phy + pos;
	f->frm_len = end - pos;
	return FG_LW_OK;
}

enum fg_lw_reason fg_lw_parse(const uint8_t *phy, size_t len, struct fg_lw_frame *ret)
{
	struct fg_lw_frame *f = ret;

	assert(ret);
	memset(f, 0, sizeof(*f));
	if (len > FG_LW_PHY_MAX)
		return FG_LW_TOO_LONG;
	if (len < 1 || !phy)
		return FG_LW_TOO_SHORT;
	f->phy = phy;
	f->phy_len = len;
	f->mhdr = phy[0];
	f->mtype = (enum fg_lw_mtype)(phy[0] >> 5);
	f->major = phy[0] & 0x03;
	if (f->major != 0)
		return FG_LW_BAD_MAJOR;

	switch (f->mtype) {
	case FG_LW_JOIN_REQUEST:
		/* MHDR, JoinEUI, DevEUI, DevNonce, MIC: exactly 23 bytes. */
		if (len < 23)
			return FG_LW_TOO_SHORT;
		if (len > 23)
			return FG_LW_TOO_LONG;
		f->join_eui = get_le64(phy + 1);
		f->dev_eui = get_le64(phy + 9);
		f->dev_nonce = get_le16(phy + 17);
		break;
	case FG_LW_JOIN_ACCEPT:
		/* Encrypted, so only its two lengths: without and with a CFList. */
		if (len < 17)
			return FG_LW_TOO_SHORT;
		if (len != 17 && len != 33)
			return FG_LW_TOO_LONG;
		break;
	case FG_LW_UNCONFIRMED_UP:
	case FG_LW_UNCONFIRMED_DOWN:
	case FG_LW_CONFIRMED_UP:
	case FG_LW_CONFIRMED_DOWN: {
		enum fg_lw_reason r;

		if (len < DATA_MIN)
			return FG_LW_TOO_SHORT;
		r = parse_data(phy, len, f);
		if (r != FG_LW_OK)
			return r;
		break;
	}
	case FG_LW_REJOIN_REQUEST:
	case FG_LW_PROPRIETARY:
		if (len < 1 + MIC_LEN)
			return FG_LW_TOO_SHORT;
		break;
	}
	f->mic = get_le32(phy + len - MIC_LEN);
	return FG_LW_OK;
}

/*
 * One CMAC context and one AES-128-ECB context for the process, made on first
 * use and kept until exit (reachable, so not a leak to LeakSanitizer), and
 * re-keyed on every call: no allocation per frame once warm. Not thread-safe;
 * the daemon runs one thread. Each call overwrites the key schedule left in
 * them by the previous one.
 */
static EVP_MAC_CTX *cmac_ctx;
static EVP_CIPHER_CTX *ecb_ctx;

/* The shared CMAC context, set to AES-128-CBC once; NULL when OpenSSL cannot make it. */
static EVP_MAC_CTX *cmac_context(void)
{
	static char cipher[] = "AES-128-CBC";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC_CTX *ctx;
	EVP_MAC *mac;

	if (cmac_ctx)
		return cmac_ctx;
	mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	if (!mac)
		return NULL;
	ctx = EVP_MAC_CTX_new(mac); /* holds its own reference to mac */
	EVP_MAC_free(mac);
	if (!ctx)
		return NULL;
	if (!EVP_MAC_CTX_set_params(ctx, params)) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	cmac_ctx = ctx;
	return ctx;
}

/*
 * The shared ECB context, keyed with key for encryption (enc 1) or decryption
 * (enc 0), padding off; NULL when OpenSSL fails.
 */
static EVP_CIPHER_CTX *ecb_context(const uint8_t key[FG_LW_KEY_LEN], int enc)
{
	if (!ecb_ctx) {
		EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
		EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
		int ok = ctx && cipher && EVP_CipherInit_ex2(ctx, cipher, NULL, NULL, 1, NULL);

		EVP_CIPHER_free(cipher); /* ctx keeps its own reference */
		if (!ok) {
			EVP_CIPHER_CTX_free(ctx);
			return NULL;
		}
		ecb_ctx = ctx;
	}
	/* A NULL cipher keeps the one set above and only changes the key and direction. */
	if (!EVP_CipherInit_ex2(ecb_ctx, NULL, key, NULL, enc, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(ecb_ctx, 0))
		return NULL;
	return ecb_ctx;
}

int fg_lw_aes_ecb(const uint8_t key[FG_LW_KEY_LEN], bool encrypt, const uint8_t *in, size_t len,
		  uint8_t *out)
{
	EVP_CIPHER_CTX *ctx;
	int outl = 0;

	if (len % BLOCK != 0 || len > INT_MAX)
		return -EINVAL;
	if (len == 0)
		return 0;
	ctx = ecb_context(key, encrypt ? 1 : 0);
	if (!ctx)
		return -EIO;
	/* Padding off: every whole block comes out of this one update, none is held back. */
	if (!EVP_CipherUpdate(ctx, out, &outl, in, (int) len) || outl != (int) len)
		return -EIO;
	return 0;
}

/* CMAC over a | b (b may be empty): the whole 16-byte tag. */
static int cmac2(const uint8_t key[FG_LW_KEY_LEN], const uint8_t *a, size_t alen, const uint8_t *b,
		 size_t blen, uint8_t out[BLOCK])
{
	EVP_MAC_CTX *ctx = cmac_context();
	size_t outl = 0;

	if (!ctx || !EVP_MAC_init(ctx, key, FG_LW_KEY_LEN, NULL))
		return -EIO;
	if ((alen > 0 && !EVP_MAC_update(ctx, a, alen)) ||
	    (blen > 0 && !EVP_MAC_update(ctx, b, blen)))
		return -EIO;
	if (!EVP_MAC_final(ctx, out, &outl, BLOCK) || outl != BLOCK)
		return -EIO;
	return 0;
}

int fg_lw_aes_cmac(const uint8_t key[FG_LW_KEY_LEN], const uint8_t *msg, size_t len,
		   uint8_t ret_mac[16])
{
	uint8_t mac[BLOCK];
	int r;

	r = cmac2(key, msg, len, NULL, 0, mac);
	if (r < 0)
		return r;
	memcpy(ret_mac, mac, BLOCK);
	return 0;
}

/*
 * The block both B0 (section 4.4) and A_i (section 4.3.3) are made of:
 * tag, 4 x 0x00, Dir, DevAddr, FCnt (32 bits), 0x00, last (len or i).
 */
static void put_block(uint8_t b[BLOCK], uint8_t tag, int dir, uint32_t dev_addr, uint32_t fcnt,
		      uint8_t last)
{
	b[0] = tag;
	memset(b + 1, 0, 4);
	b[5] = (uint8_t) dir;
	put_le32(b + 6, dev_addr);
	put_le32(b + 10, fcnt);
	b[14] = 0;
	b[15] = last;
}

int fg_lw_data_mic(const uint8_t nwk_s_key[FG_LW_KEY_LEN], int dir, uint32_t dev_addr,
		   uint32_t fcnt, const uint8_t *msg, size_t len, uint32_t *ret_mic)
{
	uint8_t b0[BLOCK], mac[BLOCK];
	int r;

	if ((dir != 0 && dir != 1) || len > FG_LW_PHY_MAX)
		return -EINVAL;
	put_block(b0, 0x49, dir, dev_addr, fcnt, (uint8_t) len);
	r = cmac2(nwk_s_key, b0, BLOCK, msg, len, mac);
	if (r < 0)
		return r;
	/* MIC = cmac[0..3], on air in that order: read it as fg_lw_frame.mic reads the air. */
	*ret_mic = get_le32(mac);
	return 0;
}

int fg_lw_crypt(const uint8_t key[FG_LW_KEY_LEN], int dir, uint32_t dev_addr, uint32_t fcnt,
		const uint8_t *in, size_t len, uint8_t *out)
{
	/* Key stream for up to 16 blocks per OpenSSL call: all of a 242-byte FRMPayload. */
	uint8_t a[16 * BLOCK], s[16 * BLOCK];
	EVP_CIPHER_CTX *ctx;
	unsigned i = 1;
	size_t done = 0;
	int r = 0;

	if ((dir != 0 && dir != 1) || len > 255 * BLOCK)
		return -EINVAL;
	if (len == 0)
		return 0;
	ctx = ecb_context(key, 1);
	if (!ctx)
		return -EIO;
	while (done < len) {
		size_t n = len - done < sizeof(a) ? len - done : sizeof(a);
		size_t blocks = (n + BLOCK - 1) / BLOCK;
		int outl = 0;

		for (size_t b = 0; b < blocks; b++)
			put_block(a + b * BLOCK, 0x01, dir, dev_addr, fcnt, (uint8_t) i++);
		if (!EVP_EncryptUpdate(ctx, s, &outl, a, (int) (blocks * BLOCK)) ||
		    outl != (int) (blocks * BLOCK)) {
			r = -EIO;
			break;
		}
		for (size_t k = 0; k < n; k++)
			out[done + k] = in[done + k] ^ s[k];
		done += n;
	}
	OPENSSL_cleanse(s, sizeof(s));
	return r;
}

uint32_t fg_lw_fcnt_expand(uint16_t fcnt16, uint32_t last, bool have_last)
{
	uint32_t c;

	if (!have_last)
		return fcnt16;
	c = (last & UINT32_C(0xffff0000)) | fcnt16;
	if (c < last && c <= UINT32_MAX - UINT32_C(0x10000))
		c += UINT32_C(0x10000);
	return c;
}

enum fg_lw_reason fg_lw_uplink_open(const struct fg_lw_session *s, const struct fg_lw_frame *f,
				    uint32_t last, bool have_last, uint32_t max_gap,
				    struct fg_lw_uplink *ret)
{
	uint8_t plain[FG_LW_FRM_MAX], want[MIC_LEN], got[MIC_LEN];
	size_t plain_len = 0;
	uint32_t fcnt, mic;
	int r;

	assert(f && ret);
	switch (f->mtype) {
	case FG_LW_UNCONFIRMED_UP:
	case FG_LW_CONFIRMED_UP:
		break;
	case FG_LW_UNCONFIRMED_DOWN:
	case FG_LW_CONFIRMED_DOWN:
		return FG_LW_DOWNLINK;
	default:
		return FG_LW_UNSUPPORTED;
	}
	if (!s || s->dev_addr != f->dev_addr)
		return FG_LW_UNKNOWN_DEVICE;
	assert(f->phy_len >= DATA_MIN && f->phy_len <= FG_LW_PHY_MAX);
	assert(f->frm_len <= FG_LW_FRM_MAX);

	fcnt = fg_lw_fcnt_expand(f->fcnt16, last, have_last);
	/* The MIC first: until it holds, nothing in the frame (FCnt included) is the device's. */
	r = fg_lw_data_mic(s->nwk_s_key, 0, f->dev_addr, fcnt, f->phy, f->phy_len - MIC_LEN, &mic);
	if (r < 0)
		return FG_LW_BAD_MIC;
	put_le32(want, mic);
	put_le32(got, f->mic);
	if (CRYPTO_memcmp(want, got, MIC_LEN) != 0) {
		/*
		 * The counter was expanded at or above the last one. A genuine
		 * frame from below it (a replay within the same 65536) fails the
		 * MIC there: try its own place once, to call it what it is.
		 */
		uint32_t below = (last & ~UINT32_C(0xffff)) | f->fcnt16;

		if (have_last && below < last &&
		    fg_lw_data_mic(s->nwk_s_key, 0, f->dev_addr, below, f->phy,
				   f->phy_len - MIC_LEN, &mic) == 0) {
			put_le32(want, mic);
			if (CRYPTO_memcmp(want, got, MIC_LEN) == 0)
				return FG_LW_REPLAY;
		}
		return FG_LW_BAD_MIC;
	}
	if (have_last) {
		if (fcnt <= last)
			return FG_LW_REPLAY;
		if (fcnt - last > max_gap)
			return FG_LW_FCNT_GAP;
	}
	if (f->has_port && f->frm_len > 0) {
		const uint8_t *key = f->fport == 0 ? s->nwk_s_key : s->app_s_key;

		if (fg_lw_crypt(key, 0, f->dev_addr, fcnt, f->frm, f->frm_len, plain) < 0)
			return FG_LW_BAD_MIC;
		plain_len = f->frm_len;
	}
	ret->f = *f;
	ret->fcnt = fcnt;
	memcpy(ret->payload, plain, plain_len);
	ret->payload_len = plain_len;
	OPENSSL_cleanse(plain, sizeof(plain));
	return FG_LW_OK;
}

int fg_lw_build_data(const struct fg_lw_session *s, enum fg_lw_mtype mtype, uint8_t fctrl,
		     uint32_t fcnt, const uint8_t *fopts, size_t fopts_len, int fport,
		     const uint8_t *payload, size_t len, uint8_t *buf, size_t size)
{
	int dir = mtype == FG_LW_UNCONFIRMED_DOWN || mtype == FG_LW_CONFIRMED_DOWN ? 1 : 0;
	size_t n, need;
	uint32_t mic;
	int r;

	if (!s || !buf || mtype < FG_LW_UNCONFIRMED_UP || mtype > FG_LW_CONFIRMED_DOWN)
		return -EINVAL;
	if (fopts_len > 15 || (fopts_len > 0 && !fopts) || (len > 0 && !payload))
		return -EINVAL;
	if (fport < -1 || fport > 255 || (fport < 0 && len > 0) || (fport == 0 && fopts_len > 0))
		return -EINVAL;
	need = 8 + fopts_len + (fport >= 0 ? 1 : 0) + len + MIC_LEN;
	if (need > FG_LW_PHY_MAX || need > size)
		return -EMSGSIZE;

	buf[0] = (uint8_t) (mtype << 5); /* Major 0: LoRaWAN R1 */
	put_le32(buf + 1, s->dev_addr);
	buf[5] = (uint8_t) ((fctrl & 0xf0) | fopts_len);
	put_le16(buf + 6, (uint16_t) fcnt);
	if (fopts_len > 0)
		memcpy(buf + 8, fopts, fopts_len);
	n = 8 + fopts_len;
	if (fport >= 0) {
		const uint8_t *key = fport == 0 ? s->nwk_s_key : s->app_s_key;

		buf[n++] = (uint8_t) fport;
		r = fg_lw_crypt(key, dir, s->dev_addr, fcnt, payload, len, buf + n);
		if (r < 0)
			return r;
		n += len;
	}
	r = fg_lw_data_mic(s->nwk_s_key, dir, s->dev_addr, fcnt, buf, n, &mic);
	if (r < 0)
		return r;
	put_le32(buf + n, mic);
	return (int) (n + MIC_LEN);
}

int fg_lw_build_uplink(const struct fg_lw_session *s, enum fg_lw_mtype mtype, uint8_t fctrl,
		       uint32_t fcnt, const uint8_t *fopts, size_t fopts_len, int fport,
		       const uint8_t *payload, size_t len, uint8_t *buf, size_t size)
{
	if (mtype != FG_LW_UNCONFIRMED_UP && mtype != FG_LW_CONFIRMED_UP)
		return -EINVAL;
	return fg_lw_build_data(s, mtype, fctrl, fcnt, fopts, fopts_len, fport, payload, len, buf,
				size);
}
