/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The Xiaomi thermometer family: the two custom firmware formats of the
 * LYWSD03MMC (service data 0x181A) and Xiaomi's own MiBeacon (0xFE95).
 *
 * atc1441 (github.com/atc1441/ATC_MiThermometer README.md, "Advertising
 * format of the custom firmware"), 13 bytes, big endian:
 *   0..5 MAC, most significant byte first   6..7 temperature int16, 0.1 C
 *   8 humidity %   9 battery %   10..11 battery mV   12 frame counter
 * The README gives no unit for the temperature; 0.1 C is stated by the pvvx
 * README ("atc1441 format ... temperature in 0.1 °C, humidity in 1 %") and
 * agrees with the frames in ble_monitor's test_atc_parser.py.
 *
 * pvvx "Custom format" (github.com/pvvx/ATC_MiThermometer README.md, "Custom
 * format (all data little-endian)"), 15 bytes, little endian:
 *   0..5 MAC, least significant byte first   6..7 temperature int16, 0.01 C
 *   8..9 humidity uint16, 0.01 %   10..11 battery mV   12 battery %
 *   13 measurement counter   14 flags (reed switch, GPIO_TRG output, trigger
 *   events; not published: they mean something only on a modified device)
 *
 * The MAC inside either frame must be the advertiser's when the caller gives
 * keys (its address): a relay or a mix-up of devices would otherwise publish
 * one sensor's values under another's name.
 *
 * MiBeacon (pvvx/ATC_MiThermometer InfoMijiaBLE/"Mijia BLE MiBeacon protocol
 * v5.md", all fields little endian):
 *   frame control (2), product id (2), frame counter (1),
 *   [MAC (6), least significant first]          frame control bit 4
 *   [capability (1)]                            bit 5
 *   [I/O capability (2)]                        capability bit 5
 *   [objects]                                   bit 6
 *   [extended counter (3), MIC (4)]             bit 3, encrypted
 * Frame control bit 7 (mesh) and versions (bits 12..15) below 2 are refused,
 * as the xiaomi-ble library does; encryption is read for v4 and v5 only: the
 * v2/v3 ("legacy") scheme has no authentication tag, so a wrong bindkey
 * cannot be told from garbage, and it is refused. The I/O capability takes
 * two bytes as the specification says (xiaomi-ble and ble_monitor skip one;
 * it is sent only before binding, in frames that carry no objects).
 *
 * Encryption (as Bluetooth-Devices/xiaomi-ble parser.py,
 * _decrypt_mibeacon_v4_v5, and the pvvx firmware's src/mi_beacon.c):
 * AES-128-CCM with a 4-byte MIC, associated data the one byte 0x11, and a
 * 12-byte nonce: MAC least significant byte first (the advertiser's when the
 * frame does not carry it), product id and frame counter as in the frame,
 * then the 3-byte extended counter. The frame counter is the low byte and
 * the extended counter the upper three bytes of one little-endian 32-bit
 * counter (pvvx's nonce struct: cnt, ext_cnt[3] in a union with cnt32); that
 * counter is the replay guard. The frame control is not authenticated.
 * When the caller has a bindkey for the device, frames with plain objects
 * are refused (-EACCES): anyone could send them, and accepting them would
 * make the bindkey worthless (xiaomi-ble accepts them).
 *
 * Objects are [id (2)][length (1)][value]. Values are little endian:
 *
 * object  quantity         bytes  format unit        value out            SenML unit
 * 0x1004  temperature      2 s    0.1 C              raw / 10             Cel
 * 0x1006  humidity         2      0.1 %RH            raw / 10             %RH
 * 0x100D  temperature,     2 s,   0.1 C, 0.1 %RH     raw / 10 each        Cel, %RH
 *         humidity         2
 * 0x100A  battery          1      %                  raw                  %EL
 * 0x1007  illuminance      3      lx                 raw                  lx
 * 0x1008  moisture         1      % (soil)           raw / 100            /
 * 0x1009  conductivity     2      uS/cm (soil)       raw / 1e4            S/m
 * ("s" = signed.) A known object with another length is a bad frame; an
 * object of any other id is skipped by its length byte (xiaomi-ble decodes
 * many more, often per product; the newer 0x4Cxx/0x48xx properties of
 * e.g. CGDK3 and LYWSD02MMC are among the skipped). xiaomi-ble turns
 * 0x1007 into a light/dark flag for two products (MJYD02YL, MCCGQ02HL) and
 * truncates 0x1006 to whole percent for LYWSD03MMC and MHO-C401; here the
 * value is what the frame says, for every product.
 *
 * The formats' own units and SenML's (the rule is in core/units.h):
 * temperature as Cel, humidity as %RH, the battery charge as %EL (the
 * registered unit of a remaining battery level, 0..100, as BTHome has it),
 * soil moisture as a ratio "/" (0..1: RFC 8428's "%" is a NOT RECOMMENDED
 * name of that ratio, not a percentage), battery voltage converted from mV
 * to V and conductivity from uS/cm to S/m (1 uS/cm = 1e-4 S/m), since mV
 * and uS/cm are not registered units.
 *
 * Packet ids: the atc1441 frame counter, the pvvx measurement counter and the
 * MiBeacon frame counter are the formats' ids for repeats of one reading and
 * go to res->packet_id, not into the values; the authenticated 32-bit
 * MiBeacon counter goes to res->counter.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "codec/ble.h"

#define ATC1441_LEN 13
#define PVVX_LEN    15

#define MI_FC_ENCRYPTED	 0x0008
#define MI_FC_MAC	 0x0010
#define MI_FC_CAPABILITY 0x0020
#define MI_FC_OBJECTS	 0x0040
#define MI_FC_MESH	 0x0080
#define MI_CAP_IO	 0x20
#define MI_EXT_LEN	 3 /* extended counter */
#define MI_MIC_LEN	 4
#define MI_NONCE_LEN	 12
#define MI_KEY_LEN	 16
#define MI_CIPHER_MAX	 251 /* one AD structure holds 254 bytes: UUID and the header leave less */

/* Say why into the caller's buffer, if it gave one, and return err. */
__attribute__((format(printf, 4, 5))) static int fail(int err, char *why, size_t why_size,
						      const char *fmt, ...)
{
	va_list ap;

	if (why && why_size > 0) {
		va_start(ap, fmt);
		(void) vsnprintf(why, why_size, fmt, ap);
		va_end(ap);
	}
	return err;
}

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t) (p[0] | p[1] << 8);
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t) (p[0] << 8 | p[1]);
}

/* The common argument checks of the three decoders. */
static bool args_valid(const struct fg_ble_data *d, const struct fg_codec_value *out, size_t max,
		       const size_t *ret_n)
{
	return d && (d->p || d->n == 0) && (out || max == 0) && ret_n;
}

/* Append a number; -ENOBUFS when out is full. */
static int put(struct fg_codec_value *out, size_t max, size_t *k, const char *quantity,
	       const char *unit, double number)
{
	struct fg_codec_value *v;

	if (*k >= max)
		return -ENOBUFS;
	v = &out[(*k)++];
	memset(v, 0, sizeof(*v));
	(void) snprintf(v->quantity, sizeof(v->quantity), "%s", quantity);
	(void) snprintf(v->unit, sizeof(v->unit), "%s", unit);
	v->kind = FG_VALUE_NUMBER;
	v->number = number;
	return 0;
}

/* Report a decoded frame: its packet id (when it has one) and no counter. */
static void set_result(struct fg_ble_result *res, bool has_packet_id, uint32_t packet_id)
{
	if (!res)
		return;
	memset(res, 0, sizeof(*res));
	res->has_packet_id = has_packet_id;
	res->packet_id = packet_id;
}

/* The values both custom firmware formats carry, already scaled. */
static int put_custom(struct fg_codec_value *out, size_t max, size_t *k, double temperature,
		      double humidity, double battery, double battery_v)
{
	int r;

	r = put(out, max, k, "temperature", "Cel", temperature);
	if (r >= 0)
		r = put(out, max, k, "humidity", "%RH", humidity);
	if (r >= 0)
		r = put(out, max, k, "battery", "%EL", battery);
	if (r >= 0)
		r = put(out, max, k, "battery_voltage", "V", battery_v);
	return r;
}

int fg_ble_atc1441_decode(const struct fg_ble_data *d, const struct fg_ble_keys *keys,
			  struct fg_codec_value *out, size_t max, size_t *ret_n,
			  struct fg_ble_result *res, char *why, size_t why_size)
{
	const uint8_t *p;
	size_t k = 0;

	if (!args_valid(d, out, max, ret_n))
		return fail(-EINVAL, why, why_size, "invalid arguments");
	p = d->p;
	if (d->n != ATC1441_LEN)
		return fail(-EBADMSG, why, why_size, "atc1441 needs %d bytes, got %zu", ATC1441_LEN,
			    d->n);
	if (keys && memcmp(p, keys->address, 6) != 0)
		return fail(-EBADMSG, why, why_size, "MAC in payload differs from the advertiser");
	if (put_custom(out, max, &k, (int16_t) get_be16(p + 6) / 10.0, p[8], p[9],
		       get_be16(p + 10) / 1000.0) < 0)
		return fail(-ENOBUFS, why, why_size, "more than %zu values", max);
	set_result(res, true, p[12]);
	*ret_n = k;
	return 0;
}

int fg_ble_pvvx_decode(const struct fg_ble_data *d, const struct fg_ble_keys *keys,
		       struct fg_codec_value *out, size_t max, size_t *ret_n,
		       struct fg_ble_result *res, char *why, size_t why_size)
{
	const uint8_t *p;
	size_t k = 0;

	if (!args_valid(d, out, max, ret_n))
		return fail(-EINVAL, why, why_size, "invalid arguments");
	p = d->p;
	if (d->n != PVVX_LEN)
		return fail(-EBADMSG, why, why_size, "pvvx needs %d bytes, got %zu", PVVX_LEN,
			    d->n);
	if (keys) {
		for (int i = 0; i < 6; i++)
			if (p[i] != keys->address[5 - i])
				return fail(-EBADMSG, why, why_size,
					    "MAC in payload differs from the advertiser");
	}
	if (put_custom(out, max, &k, (int16_t) get_le16(p + 6) / 100.0, get_le16(p + 8) / 100.0,
		       p[12], get_le16(p + 10) / 1000.0) < 0)
		return fail(-ENOBUFS, why, why_size, "more than %zu values", max);
	set_result(res, true, p[13]);
	*ret_n = k;
	return 0;
}

/* One MiBeacon object of a known id: its quantities; unknown ids give 0 values. */
static int put_object(uint16_t id, const uint8_t *v, uint8_t len, struct fg_codec_value *out,
		      size_t max, size_t *k, char *why, size_t why_size)
{
	static const struct {
		uint16_t id;
		uint8_t len;
	} sizes[] = {
		{ 0x1004, 2 }, { 0x1006, 2 }, { 0x1007, 3 }, { 0x1008, 1 },
		{ 0x1009, 2 }, { 0x100A, 1 }, { 0x100D, 4 },
	};
	int r = 0;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (sizes[i].id == id && sizes[i].len != len)
			return fail(-EBADMSG, why, why_size, "object 0x%04x has %u bytes, not %u",
				    id, len, sizes[i].len);
	switch (id) {
	case 0x1004:
		r = put(out, max, k, "temperature", "Cel", (int16_t) get_le16(v) / 10.0);
		break;
	case 0x1006:
		r = put(out, max, k, "humidity", "%RH", get_le16(v) / 10.0);
		break;
	case 0x100D:
		r = put(out, max, k, "temperature", "Cel", (int16_t) get_le16(v) / 10.0);
		if (r >= 0)
			r = put(out, max, k, "humidity", "%RH", get_le16(v + 2) / 10.0);
		break;
	case 0x100A:
		r = put(out, max, k, "battery", "%EL", v[0]);
		break;
	case 0x1007:
		r = put(out, max, k, "illuminance", "lx", v[0] | v[1] << 8 | v[2] << 16);
		break;
	case 0x1008:
		r = put(out, max, k, "moisture", "/", v[0] / 100.0);
		break;
	case 0x1009:
		r = put(out, max, k, "conductivity", "S/m", get_le16(v) / 1e4);
		break;
	default:
		break; /* skipped: its length byte says where the next one starts */
	}
	if (r < 0)
		return fail(-ENOBUFS, why, why_size, "more than %zu values", max);
	return 0;
}

/* Walk the objects in p[0..n); every object must fit. */
static int put_objects(const uint8_t *p, size_t n, struct fg_codec_value *out, size_t max,
		       size_t *k, char *why, size_t why_size)
{
	size_t off = 0;

	while (off < n) {
		uint16_t id;
		uint8_t len;
		int r;

		if (n - off < 3)
			return fail(-EBADMSG, why, why_size,
				    "object header needs 3 bytes, %zu left", n - off);
		id = get_le16(p + off);
		len = p[off + 2];
		off += 3;
		if (n - off < len)
			return fail(-EBADMSG, why, why_size,
				    "object 0x%04x needs %u bytes, %zu left", id, len, n - off);
		r = put_object(id, p + off, len, out, max, k, why, why_size);
		if (r < 0)
			return r;
		off += len;
	}
	return 0;
}

/*
 * AES-128-CCM decryption with a 4-byte tag and associated data 0x11, as
 * MiBeacon v4/v5 uses it. Returns 0, -EACCES when the tag does not match, or
 * -EIO when OpenSSL cannot do it. A cipher and context per call: a few
 * microseconds, against frames that come at most a few times a second per
 * device, and no state to go wrong between a failed frame and the next.
 */
static int ccm_decrypt(const uint8_t key[MI_KEY_LEN], const uint8_t nonce[MI_NONCE_LEN],
		       const uint8_t *c, size_t n, const uint8_t mic[MI_MIC_LEN], uint8_t *plain)
{
	static const uint8_t aad = 0x11;
	uint8_t tag[MI_MIC_LEN];
	size_t ivlen = MI_NONCE_LEN;
	OSSL_PARAM params[3];
	EVP_CIPHER_CTX *ctx;
	EVP_CIPHER *cipher;
	int outl, r = -EIO;

	memcpy(tag, mic, sizeof(tag));
	params[0] = OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &ivlen);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, sizeof(tag));
	params[2] = OSSL_PARAM_construct_end();
	cipher = EVP_CIPHER_fetch(NULL, "AES-128-CCM", NULL);
	ctx = EVP_CIPHER_CTX_new();
	if (!cipher || !ctx)
		goto out;
	/* CCM wants the nonce length and the expected tag before key and nonce. */
	if (!EVP_DecryptInit_ex2(ctx, cipher, NULL, NULL, params) ||
	    !EVP_DecryptInit_ex2(ctx, NULL, key, nonce, NULL))
		goto out;
	/* Then the total length, the associated data, and the text in one go. */
	if (!EVP_DecryptUpdate(ctx, NULL, &outl, NULL, (int) n) ||
	    !EVP_DecryptUpdate(ctx, NULL, &outl, &aad, 1))
		goto out;
	if (EVP_DecryptUpdate(ctx, plain, &outl, c, (int) n) > 0 && (size_t) outl == n)
		r = 0;
	else
		r = -EACCES;
out:
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(cipher);
	return r;
}

int fg_ble_mibeacon_decode(const struct fg_ble_data *d, const struct fg_ble_keys *keys,
			   struct fg_codec_value *out, size_t max, size_t *ret_n,
			   struct fg_ble_result *res, char *why, size_t why_size)
{
	uint8_t nonce[MI_NONCE_LEN], plain[MI_CIPHER_MAX];
	const uint8_t *p, *mac = NULL, *objects;
	size_t n, off = 5, objects_len, k = 0;
	unsigned version;
	uint32_t counter = 0;
	uint16_t fc;
	int r;

	if (!args_valid(d, out, max, ret_n))
		return fail(-EINVAL, why, why_size, "invalid arguments");
	p = d->p;
	n = d->n;
	if (n < 5)
		return fail(-EBADMSG, why, why_size, "MiBeacon needs 5 bytes, got %zu", n);
	fc = get_le16(p);
	version = fc >> 12;
	if (fc & MI_FC_MESH)
		return fail(-EBADMSG, why, why_size, "mesh MiBeacon not supported");
	if (version < 2)
		return fail(-EBADMSG, why, why_size, "MiBeacon version %u not supported", version);
	if (fc & MI_FC_MAC) {
		if (n - off < 6)
			return fail(-EBADMSG, why, why_size, "MAC needs 6 bytes, %zu left",
				    n - off);
		mac = p + off;
		off += 6;
		if (keys) {
			for (int i = 0; i < 6; i++)
				if (mac[i] != keys->address[5 - i])
					return fail(-EBADMSG, why, why_size,
						    "MAC in payload differs from the advertiser");
		}
	}
	if (fc & MI_FC_CAPABILITY) {
		if (n - off < 1)
			return fail(-EBADMSG, why, why_size, "capability byte missing");
		if (p[off++] & MI_CAP_IO) {
			if (n - off < 2)
				return fail(-EBADMSG, why, why_size,
					    "I/O capability needs 2 bytes, %zu left", n - off);
			off += 2;
		}
	}
	if (!(fc & MI_FC_OBJECTS)) {
		/* Pairing and identification frames: nothing measured, nothing to repeat. */
		set_result(res, false, 0);
		*ret_n = 0;
		return 0;
	}
	objects = p + off;
	objects_len = n - off;
	if (fc & MI_FC_ENCRYPTED) {
		const uint8_t *ext, *mic;

		if (version < 4)
			return fail(-EBADMSG, why, why_size,
				    "MiBeacon v%u (legacy) encryption not supported", version);
		if (objects_len < 3 + MI_EXT_LEN + MI_MIC_LEN)
			return fail(-EBADMSG, why, why_size,
				    "encrypted objects need %d bytes, %zu left",
				    3 + MI_EXT_LEN + MI_MIC_LEN, objects_len);
		objects_len -= MI_EXT_LEN + MI_MIC_LEN;
		if (objects_len > sizeof(plain))
			return fail(-EBADMSG, why, why_size,
				    "encrypted objects longer than %zu bytes", sizeof(plain));
		if (!keys || !keys->bindkey)
			return fail(-EACCES, why, why_size, "encrypted and no bindkey");
		ext = objects + objects_len;
		mic = ext + MI_EXT_LEN;
		/* The nonce wants the MAC least significant byte first, as the frame has it. */
		if (mac)
			memcpy(nonce, mac, 6);
		else
			for (int i = 0; i < 6; i++)
				nonce[i] = keys->address[5 - i];
		memcpy(nonce + 6, p + 2, 3); /* product id, frame counter */
		memcpy(nonce + 9, ext, MI_EXT_LEN);
		r = ccm_decrypt(keys->bindkey, nonce, objects, objects_len, mic, plain);
		if (r == -EACCES)
			return fail(r, why, why_size, "bindkey does not authenticate the frame");
		if (r < 0)
			return fail(r, why, why_size, "AES-CCM unavailable");
		counter = (uint32_t) p[4] | (uint32_t) ext[0] << 8 | (uint32_t) ext[1] << 16 |
			  (uint32_t) ext[2] << 24;
		if (keys->have_counter && counter <= keys->last_counter)
			return fail(-ESTALE, why, why_size, "counter %u not above %u (replay)",
				    (unsigned) counter, (unsigned) keys->last_counter);
		objects = plain;
	} else if (keys && keys->bindkey) {
		/* Anyone can send plain objects: with a bindkey, only sealed ones count. */
		return fail(-EACCES, why, why_size,
			    "unencrypted objects from a device with a bindkey");
	}
	r = put_objects(objects, objects_len, out, max, &k, why, why_size);
	if (r < 0)
		return r;
	set_result(res, true, p[4]);
	if (res && (fc & MI_FC_ENCRYPTED)) {
		res->has_counter = true;
		res->counter = counter;
	}
	*ret_n = k;
	return 0;
}

int fg_ble_build_atc1441(const uint8_t mac[6], double temperature, double humidity,
			 uint8_t battery_pct, uint16_t battery_mv, uint8_t counter, uint8_t *buf,
			 size_t size, size_t *ret_len)
{
	double t = round(temperature * 10), h = round(humidity);

	if (!mac || !buf || !ret_len)
		return -EINVAL;
	/* Written so that NaN fails too. */
	if (!(t >= INT16_MIN && t <= INT16_MAX) || !(h >= 0 && h <= UINT8_MAX))
		return -ERANGE;
	if (size < ATC1441_LEN)
		return -EMSGSIZE;
	memcpy(buf, mac, 6);
	buf[6] = (uint8_t) ((uint16_t) (int16_t) t >> 8);
	buf[7] = (uint8_t) ((uint16_t) (int16_t) t & 0xFF);
	buf[8] = (uint8_t) h;
	buf[9] = battery_pct;
	buf[10] = (uint8_t) (battery_mv >> 8);
	buf[11] = (uint8_t) (battery_mv & 0xFF);
	buf[12] = counter;
	*ret_len = ATC1441_LEN;
	return 0;
}
