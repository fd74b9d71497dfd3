/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The BLE formats' names, detection and dispatch; the decoders are in ble-*.c. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "codec/ble.h"

static const struct {
	const char *name;
	fg_ble_decode_fn decode;
} formats[FG_BLE_FORMAT__COUNT] = {
	[FG_BLE_BTHOME] = { "bthome", fg_ble_bthome_decode },
	[FG_BLE_RUUVI_V5] = { "ruuvi5", fg_ble_ruuvi5_decode },
	[FG_BLE_RUUVI_V3] = { "ruuvi3", fg_ble_ruuvi3_decode },
	[FG_BLE_ATC1441] = { "atc1441", fg_ble_atc1441_decode },
	[FG_BLE_PVVX] = { "pvvx", fg_ble_pvvx_decode },
	[FG_BLE_MIBEACON] = { "mibeacon", fg_ble_mibeacon_decode },
	[FG_BLE_GOVEE] = { "govee", fg_ble_govee_decode },
	[FG_BLE_IBEACON] = { "ibeacon", fg_ble_ibeacon_decode },
	[FG_BLE_EDDYSTONE_TLM] = { "eddystone-tlm", fg_ble_eddystone_tlm_decode },
};

const char *fg_ble_format_to_string(enum fg_ble_format f)
{
	return (unsigned) f < FG_BLE_FORMAT__COUNT ? formats[f].name : "unknown";
}

int fg_ble_format_from_string(const char *s)
{
	for (int i = 0; s && i < FG_BLE_FORMAT__COUNT; i++)
		if (!strcasecmp(s, formats[i].name))
			return i;
	return -EINVAL;
}

int fg_ble_detect(const struct fg_ble_data *d)
{
	if (!d || (!d->p && d->n))
		return -EINVAL;
	if (d->service) {
		switch (d->id) {
		case 0xFCD2:
			return FG_BLE_BTHOME;
		case 0xFE95:
			return FG_BLE_MIBEACON;
		case 0x181A:
			/* The two custom firmware formats differ by length. */
			if (d->n == 13)
				return FG_BLE_ATC1441;
			if (d->n == 15)
				return FG_BLE_PVVX;
			return -ENOENT;
		case 0xFEAA:
			return d->n >= 1 && d->p[0] == 0x20 ? FG_BLE_EDDYSTONE_TLM : -ENOENT;
		default:
			return -ENOENT;
		}
	}
	switch (d->id) {
	case 0x0499:
		if (d->n >= 1 && d->p[0] == 0x05)
			return FG_BLE_RUUVI_V5;
		if (d->n >= 1 && d->p[0] == 0x03)
			return FG_BLE_RUUVI_V3;
		return -ENOENT;
	case 0xEC88:
		/* Other Govee models (H5074, H5051) share the company id with other layouts. */
		return d->n == 6 ? FG_BLE_GOVEE : -ENOENT;
	case 0x004C:
		return d->n >= 2 && d->p[0] == 0x02 && d->p[1] == 0x15 ? FG_BLE_IBEACON : -ENOENT;
	default:
		return -ENOENT;
	}
}

int fg_ble_decode(enum fg_ble_format f, const struct fg_ble_data *d, const struct fg_ble_keys *keys,
		  struct fg_codec_value *out, size_t max, size_t *ret_n, struct fg_ble_result *res,
		  char *why, size_t why_size)
{
	if ((unsigned) f >= FG_BLE_FORMAT__COUNT || !d || (!d->p && d->n) || !out || !ret_n)
		return -EINVAL;
	return formats[f].decode(d, keys, out, max, ret_n, res, why, why_size);
}
