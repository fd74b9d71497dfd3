/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Private to src/lora/: what lorawan.c shares with join.c and region.c —
 * little-endian field access, AES-128-ECB on the process's shared context,
 * and the data-frame builder behind fg_lw_build_uplink and
 * fg_lw_build_downlink. Nothing outside this directory includes this header.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lora/lorawan.h"

#define FG_LW_BLOCK   16
#define FG_LW_MIC_LEN 4

static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t) (p[0] | p[1] << 8);
}

static inline uint32_t get_le24(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16;
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return get_le24(p) | (uint32_t) p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t) get_le32(p) | (uint64_t) get_le32(p + 4) << 32;
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
}

static inline void put_le24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	put_le24(p, v);
	p[3] = (uint8_t) (v >> 24);
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t) v);
	put_le32(p + 4, (uint32_t) (v >> 32));
}

/*
 * AES-128-ECB over len bytes (whole 16-byte blocks), encrypting or
 * decrypting with key; out may equal in. Uses the shared context of
 * lorawan.c (not thread-safe). Returns 0, -EINVAL for a length that is not
 * whole blocks, or -EIO when OpenSSL fails.
 */
int fg_lw_aes_ecb(const uint8_t key[FG_LW_KEY_LEN], bool encrypt, const uint8_t *in, size_t len,
		  uint8_t *out);

/*
 * Build a data frame of MType 2..5 for session s: MHDR, FHDR (fctrl's low
 * nibble replaced by fopts_len), FPort and the encrypted payload, MIC with
 * the direction the MType implies. The rules and results of
 * fg_lw_build_uplink, which (with fg_lw_build_downlink) checks the MType
 * before calling this.
 */
int fg_lw_build_data(const struct fg_lw_session *s, enum fg_lw_mtype mtype, uint8_t fctrl,
		     uint32_t fcnt, const uint8_t *fopts, size_t fopts_len, int fport,
		     const uint8_t *payload, size_t len, uint8_t *buf, size_t size);
