/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Beacons: Apple iBeacon (presence) and Eddystone TLM (a beacon's own
 * telemetry). Every multi-byte field is big endian.
 *
 * iBeacon: manufacturer data of company 0x004C, exactly 23 bytes after the
 * company id (Apple, "Proximity Beacon Specification", release R1):
 * off  field                           quantity   value                        unit
 * 0    0x02 (type: proximity beacon)
 * 1    0x15 (21 bytes follow)
 * 2    proximity UUID, 16 bytes        uuid       "fda50693-a4e2-4fb1-..." (s) ""
 * 18   major, u16                      major      raw                          ""
 * 20   minor, u16                      minor      raw                          ""
 * 22   measured power at 1 m, i8, dBm  tx_power   raw - 30                     dBW
 *                                      present    true (boolean)               ""
 * The UUID is the canonical 8-4-4-4-12 lowercase form of RFC 9562. The
 * measured power is what a receiver 1 m away sees, the reference for a
 * distance estimate; it is published as "tx_power" like the
 * RuuviTag's, converted to the registered dBW (-59 dBm is -89 dBW; dBm is
 * an RFC 8798 secondary unit, which "u" may not carry).
 * "present" says that the beacon was heard, for rules that track presence.
 *
 * Eddystone TLM: service data of UUID 0xFEAA, frame type 0x20
 * (github.com/google/eddystone eddystone-tlm/tlm-plain.md and
 * tlm-encrypted.md):
 * off  field                           quantity         value            unit
 * 0    0x20 (frame type TLM)
 * 1    version: 0x00 plain, 0x01 encrypted (eTLM)
 * 2    battery, u16, mV                battery_voltage  raw / 1000       V
 * 4    temperature, i16, 8.8 fixed     temperature      raw / 256        Cel
 * 6    advertising PDU count, u32      adv_count        raw              count
 * 10   time since boot, u32, 0.1 s     uptime           raw / 10         s
 * A plain TLM frame is exactly 14 bytes ("must be truncated after the
 * time since power-on bytes"). A battery of 0 ("not supported, e.g. a USB
 * powered beacon") and a temperature of 0x8000 ("not supported") are left
 * out. Encrypted TLM (18 bytes: 12 bytes of AES-EAX ciphertext, salt, MIC)
 * needs the beacon's EID identity key and clock, which we do not have:
 * -EACCES. Any other version is -EBADMSG.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec/ble-internal.h"

#define IBEACON_LEN	  23
#define TLM_PLAIN_LEN	  14
#define TLM_ENCRYPTED_LEN 18


int fg_ble_ibeacon_decode(const struct fg_ble_data *d, const struct fg_ble_keys *keys,
			  struct fg_codec_value *out, size_t max, size_t *ret_n,
			  struct fg_ble_result *res, char *why, size_t why_size)
{
	struct values vs = { .v = out, .max = max };
	struct fg_codec_value *v;
	const uint8_t *p;
	int r;

	(void) keys;
	r = check_args(d, out, max, ret_n, why, why_size);
	if (r < 0)
		return r;
	if (d->n != IBEACON_LEN)
		return fail(-EBADMSG, why, why_size, "ibeacon: expected %d bytes, got %zu",
			    IBEACON_LEN, d->n);
	p = d->p;
	if (p[0] != 0x02 || p[1] != 0x15)
		return fail(-EBADMSG, why, why_size,
			    "ibeacon: header is 0x%02x 0x%02x, expected 0x02 0x15", p[0], p[1]);

	v = next_value(&vs, "uuid", "");
	if (v) {
		v->kind = FG_VALUE_STRING;
		(void) snprintf(v->text, sizeof(v->text),
				"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
				"%02x%02x%02x%02x%02x%02x",
				p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12],
				p[13], p[14], p[15], p[16], p[17]);
	}
	add_number(&vs, "major", "", get_u16(p + 18));
	add_number(&vs, "minor", "", get_u16(p + 20));
	add_number(&vs, "tx_power", "dBW", (int8_t) p[22] - 30.0);
	v = next_value(&vs, "present", "");
	if (v) {
		v->kind = FG_VALUE_BOOL;
		v->boolean = true;
	}
	if (vs.overflow)
		return fail(-ENOBUFS, why, why_size, "more than %zu values", max);

	*ret_n = vs.n;
	if (res)
		*res = (struct fg_ble_result){ .has_packet_id = false };
	return 0;
}

int fg_ble_eddystone_tlm_decode(const struct fg_ble_data *d, const struct fg_ble_keys *keys,
				struct fg_codec_value *out, size_t max, size_t *ret_n,
				struct fg_ble_result *res, char *why, size_t why_size)
{
	struct values vs = { .v = out, .max = max };
	const uint8_t *p;
	uint16_t battery;
	int16_t temperature;
	int r;

	(void) keys;
	r = check_args(d, out, max, ret_n, why, why_size);
	if (r < 0)
		return r;
	p = d->p;
	if (d->n < 2)
		return fail(-EBADMSG, why, why_size, "eddystone tlm: expected %d bytes, got %zu",
			    TLM_PLAIN_LEN, d->n);
	if (p[0] != 0x20)
		return fail(-EBADMSG, why, why_size,
			    "eddystone tlm: frame type 0x%02x, expected 0x20", p[0]);
	if (p[1] == 0x01) {
		if (d->n != TLM_ENCRYPTED_LEN)
			return fail(-EBADMSG, why, why_size,
				    "eddystone tlm: encrypted frame: expected %d bytes, got %zu",
				    TLM_ENCRYPTED_LEN, d->n);
		return fail(-EACCES, why, why_size, "encrypted TLM not supported");
	}
	if (p[1] != 0x00)
		return fail(-EBADMSG, why, why_size, "eddystone tlm: version 0x%02x unknown", p[1]);
	if (d->n != TLM_PLAIN_LEN)
		return fail(-EBADMSG, why, why_size, "eddystone tlm: expected %d bytes, got %zu",
			    TLM_PLAIN_LEN, d->n);

	battery = get_u16(p + 2);
	if (battery != 0)
		add_number(&vs, "battery_voltage", "V", battery / 1000.0);
	temperature = (int16_t) get_u16(p + 4);
	if (temperature != INT16_MIN)
		add_number(&vs, "temperature", "Cel", temperature / 256.0);
	add_number(&vs, "adv_count", "count", get_u32(p + 6));
	add_number(&vs, "uptime", "s", get_u32(p + 10) / 10.0);
	if (vs.overflow)
		return fail(-ENOBUFS, why, why_size, "more than %zu values", max);

	*ret_n = vs.n;
	if (res)
		*res = (struct fg_ble_result){ .has_packet_id = false };
	return 0;
}
