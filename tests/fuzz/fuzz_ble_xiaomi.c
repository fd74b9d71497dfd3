/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer target for the atc1441, pvvx and MiBeacon decoders: any bytes
 * as service data, to each decoder without keys, with an advertiser address
 * only, and with a fixed bindkey (and a last counter, by the input's
 * length). What they return must be usable as is: a documented error with
 * *ret_n and res untouched and a reason, or at most max values with names
 * fg_reading_name_valid accepts, NUL-terminated units and finite numbers.
 *
 * Random bytes almost never carry a valid MIC, so the input is also sealed:
 * taken as MiBeacon objects, encrypted here with the fixed bindkey into a v5
 * frame, which must then authenticate, so that the object walk behind the
 * decryption is fuzzed too. The first byte also picks a small max, to reach
 * -ENOBUFS.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "codec/ble.h"
#include "core/units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t bindkey[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
				     0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF };
static const uint8_t address[6] = { 0xA4, 0xC1, 0x38, 0x02, 0x83, 0xF4 };

static struct fg_codec_value out[FG_CODEC_VALUES_MAX];

/* Decode and check the invariants; returns the decoder's result. */
static int check(fg_ble_decode_fn fn, const uint8_t *p, size_t n, const struct fg_ble_keys *keys,
		 size_t max, struct fg_ble_result *ret_res)
{
	struct fg_ble_data d = { .service = true, .p = p, .n = n };
	struct fg_ble_result res, untouched;
	char why[96];
	size_t k = SIZE_MAX;
	int r;

	memset(why, 0x55, sizeof(why));
	memset(&res, 0xA5, sizeof(res));
	memset(&untouched, 0xA5, sizeof(untouched));
	r = fn(&d, keys, out, max, &k, &res, why, sizeof(why));
	if (r < 0) {
		if (r != -EBADMSG && r != -ENOBUFS && r != -EACCES && r != -ESTALE)
			abort();
		if (k != SIZE_MAX || memcmp(&res, &untouched, sizeof(res)) != 0)
			abort();
		if (!memchr(why, '\0', sizeof(why)) || why[0] == '\0')
			abort();
		/* Only an encrypted frame can be refused for its key or counter. */
		if ((r == -EACCES || r == -ESTALE) && fn != fg_ble_mibeacon_decode)
			abort();
		return r;
	}
	if (r != 0 || k > max)
		abort();
	for (size_t i = 0; i < k; i++) {
		const struct fg_codec_value *v = &out[i];

		if (!memchr(v->quantity, '\0', sizeof(v->quantity)) ||
		    !fg_reading_name_valid(v->quantity) || !memchr(v->unit, '\0', sizeof(v->unit)) ||
		    (v->unit[0] && !fg_unit_registered(v->unit)))
			abort();
		if (v->kind != FG_VALUE_NUMBER || !isfinite(v->number))
			abort();
	}
	if (res.has_counter && (!keys || !keys->bindkey))
		abort();
	if (res.has_counter && keys->have_counter && res.counter <= keys->last_counter)
		abort();
	if (ret_res)
		*ret_res = res;
	return r;
}

/* Encrypt the input as the objects of a v5 MiBeacon with our bindkey; returns the length or 0. */
static size_t seal(const uint8_t *data, size_t size, uint8_t *frame, size_t frame_size)
{
	static const uint8_t aad = 0x11;
	uint8_t nonce[12], tag[4];
	size_t n, ivlen = sizeof(nonce), off = 0;
	bool with_mac;
	OSSL_PARAM params[3];
	EVP_CIPHER_CTX *ctx = NULL;
	EVP_CIPHER *cipher = NULL;
	int outl, ok = 0;

	if (size < 1 || size - 1 + 5 + 6 + 7 > frame_size)
		return 0;
	n = size - 1;
	with_mac = data[0] & 1;
	frame[off++] = with_mac ? 0x58 : 0x48; /* encrypted, objects, MAC or not */
	frame[off++] = 0x58;		       /* v5, auth mode 2 */
	frame[off++] = 0x5B;		       /* product id 0x055B */
	frame[off++] = 0x05;
	frame[off++] = data[0]; /* frame counter */
	for (int i = 0; i < 6; i++)
		nonce[i] = address[5 - i];
	if (with_mac) {
		memcpy(frame + off, nonce, 6);
		off += 6;
	}
	memcpy(nonce + 6, frame + 2, 3);
	nonce[9] = 0x01; /* extended counter 01 00 00 */
	nonce[10] = 0x00;
	nonce[11] = 0x00;
	/* CCM: nonce length and tag length (a tag without data) before key and nonce. */
	params[0] = OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &ivlen);
	params[1] =
		OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, NULL, sizeof(tag));
	params[2] = OSSL_PARAM_construct_end();
	cipher = EVP_CIPHER_fetch(NULL, "AES-128-CCM", NULL);
	ctx = EVP_CIPHER_CTX_new();
	if (!cipher || !ctx || !EVP_EncryptInit_ex2(ctx, cipher, NULL, NULL, params))
		goto out;
	if (!EVP_EncryptInit_ex2(ctx, NULL, bindkey, nonce, NULL) ||
	    !EVP_EncryptUpdate(ctx, NULL, &outl, NULL, (int) n) ||
	    !EVP_EncryptUpdate(ctx, NULL, &outl, &aad, 1) ||
	    !EVP_EncryptUpdate(ctx, frame + off, &outl, data + 1, (int) n) ||
	    !EVP_EncryptFinal_ex(ctx, frame + off + n, &outl))
		goto out;
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, sizeof(tag));
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_CIPHER_CTX_get_params(ctx, params))
		goto out;
	off += n;
	memcpy(frame + off, nonce + 9, 3);
	memcpy(frame + off + 3, tag, 4);
	ok = 1;
out:
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(cipher);
	if (!ok)
		abort(); /* OpenSSL itself failed: nothing to fuzz */
	return off + 7;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fg_ble_decode_fn fns[] = { fg_ble_atc1441_decode, fg_ble_pvvx_decode,
						fg_ble_mibeacon_decode };
	struct fg_ble_keys plain = { 0 }, bound = { 0 };
	struct fg_ble_result res;
	uint8_t frame[300];
	size_t len;
	int r;

	memcpy(plain.address, address, 6);
	bound = plain;
	bound.bindkey = bindkey;
	bound.have_counter = size & 1;
	bound.last_counter = 0x100;
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		(void) check(fns[i], data, size, NULL, FG_CODEC_VALUES_MAX, NULL);
		(void) check(fns[i], data, size, &plain, FG_CODEC_VALUES_MAX, NULL);
		(void) check(fns[i], data, size, &bound, FG_CODEC_VALUES_MAX, NULL);
		if (size > 0)
			(void) check(fns[i], data, size, NULL, data[0] % 8, NULL);
	}
	if (size < 1)
		return 0;
	len = seal(data, size, frame, sizeof(frame));
	if (len == 0)
		return 0;
	bound.have_counter = false;
	r = check(fg_ble_mibeacon_decode, frame, len, &bound, FG_CODEC_VALUES_MAX, &res);
	/* It was sealed with this key: never refused for it, and its counter comes back. */
	if (r == -EACCES || r == -ESTALE)
		abort();
	if (r == 0 && (!res.has_counter || res.counter != (0x100u | data[0])))
		abort();
	/* The same frame with a counter already seen. */
	bound.have_counter = true;
	bound.last_counter = 0x100u | data[0];
	r = check(fg_ble_mibeacon_decode, frame, len, &bound, FG_CODEC_VALUES_MAX, NULL);
	if (r == 0 || r == -EACCES)
		abort();
	return 0;
}
