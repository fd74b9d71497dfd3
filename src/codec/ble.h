/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * BLE advertisement decoders: one piece of advertising data (a service data
 * entry or a manufacturer data entry, as BlueZ reports them) in, named values
 * with SenML units out. Pure: no I/O, no logging, no allocation. Values use
 * struct fg_codec_value (codec/codec.h); quantities are plain names
 * ("temperature", "humidity", "battery", "rssi_1m", ...) as one advertiser is
 * one device.
 *
 * Errors: -EBADMSG (wrong length, bad field: `why` says which), -EACCES
 * (encrypted and no bindkey, or the bindkey does not authenticate it),
 * -ESTALE (an encrypted frame whose counter is not above the last accepted
 * one: a replay), -ENOBUFS (more values than max), -EINVAL (NULL arguments).
 * Nothing is written to *ret_n or *res on failure.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/codec.h"

enum fg_ble_format {
	FG_BLE_BTHOME,	      /* BTHome v2, service data 0xFCD2, plain or encrypted */
	FG_BLE_RUUVI_V5,      /* RuuviTag RAWv2, manufacturer 0x0499, first byte 0x05 */
	FG_BLE_RUUVI_V3,      /* RuuviTag RAWv1, manufacturer 0x0499, first byte 0x03 */
	FG_BLE_ATC1441,	      /* LYWSD03MMC custom firmware, service data 0x181A, 13 bytes */
	FG_BLE_PVVX,	      /* LYWSD03MMC pvvx custom format, service data 0x181A, 15 bytes */
	FG_BLE_MIBEACON,      /* Xiaomi MiBeacon, service data 0xFE95, plain or v4/v5 encrypted */
	FG_BLE_GOVEE,	      /* Govee H5075/H5072 family, manufacturer 0xEC88 */
	FG_BLE_IBEACON,	      /* Apple iBeacon, manufacturer 0x004C, 0x02 0x15 ... */
	FG_BLE_EDDYSTONE_TLM, /* Eddystone TLM, service data 0xFEAA, frame type 0x20 */
	FG_BLE_FORMAT__COUNT,
};

/* "bthome", "ruuvi5", "ruuvi3", "atc1441", "pvvx", "mibeacon", "govee", "ibeacon", "eddystone-tlm" */
const char *fg_ble_format_to_string(enum fg_ble_format f);
/* Returns the format, or -EINVAL. */
int fg_ble_format_from_string(const char *s);

/* One element of an advertisement. */
struct fg_ble_data {
	bool service;	  /* service data: id is the 16-bit UUID; else manufacturer data: company id */
	uint16_t id;
	const uint8_t *p; /* for manufacturer data: without the company id (as BlueZ gives it) */
	size_t n;
};

/* What a decoder may need beyond the bytes. */
struct fg_ble_keys {
	const uint8_t *bindkey; /* 16 bytes, or NULL */
	uint8_t address[6];	/* the advertiser, most significant byte first (A4:C1:... -> 0xA4) */
	bool have_counter;	/* encrypted formats: the last accepted counter */
	uint32_t last_counter;
};

/* What a decoder says about the frame besides values. */
struct fg_ble_result {
	bool has_counter; /* an encrypted frame: persist counter as the new last one */
	uint32_t counter;
	bool has_packet_id; /* a format's own packet/measurement id (duplicates of one reading) */
	uint32_t packet_id;
};

/*
 * Which format the data is in, from its UUID or company id and its shape
 * (length, first bytes): the format, or -ENOENT when none of ours.
 */
int fg_ble_detect(const struct fg_ble_data *d);

/* Decode d as format f (see the errors above). keys may be NULL for plain formats. */
int fg_ble_decode(enum fg_ble_format f, const struct fg_ble_data *d, const struct fg_ble_keys *keys,
		  struct fg_codec_value *out, size_t max, size_t *ret_n, struct fg_ble_result *res,
		  char *why, size_t why_size);

/*
 * Encoders, for the simulator and the tests: write the service or
 * manufacturer data payload (without UUID or company id) into buf.
 * Return 0 and *ret_len, -EMSGSIZE, -ERANGE (a value the format cannot
 * carry) or -EINVAL.
 */
/* BTHome v2, unencrypted: temperature 0.01 C (0x02), humidity 0.01 % (0x03), battery % (0x01). */
int fg_ble_build_bthome(uint8_t packet_id, double temperature, double humidity, double battery,
			uint8_t *buf, size_t size, size_t *ret_len);
/* RuuviTag RAWv2: acceleration in g, battery in V, tx power in dBm, mac most significant first. */
int fg_ble_build_ruuvi5(double temperature, double humidity, double pressure_pa, double ax,
			double ay, double az, double battery_v, int tx_dbm, uint8_t movements,
			uint16_t sequence, const uint8_t mac[6], uint8_t *buf, size_t size,
			size_t *ret_len);
/* ATC1441: mac, temperature 0.1 C, humidity %, battery % and mV, frame counter. */
int fg_ble_build_atc1441(const uint8_t mac[6], double temperature, double humidity,
			 uint8_t battery_pct, uint16_t battery_mv, uint8_t counter, uint8_t *buf,
			 size_t size, size_t *ret_len);

/*
 * Per-format entry points behind fg_ble_decode (codec/ble.c dispatches);
 * same contract, one file each: ble-bthome.c, ble-ruuvi.c, ble-xiaomi.c
 * (atc1441, pvvx, mibeacon), ble-govee.c, ble-beacon.c (ibeacon,
 * eddystone-tlm).
 */
typedef int (*fg_ble_decode_fn)(const struct fg_ble_data *d, const struct fg_ble_keys *keys,
				struct fg_codec_value *out, size_t max, size_t *ret_n,
				struct fg_ble_result *res, char *why, size_t why_size);
int fg_ble_bthome_decode(const struct fg_ble_data *d, const struct fg_ble_keys *keys,
			 struct fg_codec_value *out, size_t max, size_t *ret_n,
			 struct fg_ble_result *res, char *why, size_t why_size);
int fg_ble_ruuvi5_decode(const struct fg_ble_data *d, const struct fg_ble_keys *keys,
			 struct fg_codec_value *out, size_t max, size_t *ret_n,
			 struct fg_ble_result *res, char *why, size_t why_size);
int fg_ble_ruuvi3_decode(const struct fg_ble_data *d, const struct fg_ble_keys *keys,
			 struct fg_codec_value *out, size_t max, size_t *ret_n,
			 struct fg_ble_result *res, char *why, size_t why_size);
int fg_ble_atc1441_decode(const struct fg_ble_data *d, const struct fg_ble_keys *keys,
			  struct fg_codec_value *out, size_t max, size_t *ret_n,
			  struct fg_ble_result *res, char *why, size_t why_size);
int fg_ble_pvvx_decode(const struct fg_ble_data *d, const struct fg_ble_keys *keys,
		       struct fg_codec_value *out, size_t max, size_t *ret_n,
		       struct fg_ble_result *res, char *why, size_t why_size);
int fg_ble_mibeacon_decode(const struct fg_ble_data *d, const struct fg_ble_keys *keys,
			   struct fg_codec_value *out, size_t max, size_t *ret_n,
			   struct fg_ble_result *res, char *why, size_t why_size);
int fg_ble_govee_decode(const struct fg_ble_data *d, const struct fg_ble_keys *keys,
			struct fg_codec_value *out, size_t max, size_t *ret_n,
			struct fg_ble_result *res, char *why, size_t why_size);
int fg_ble_ibeacon_decode(const struct fg_ble_data *d, const struct fg_ble_keys *keys,
			  struct fg_codec_value *out, size_t max, size_t *ret_n,
			  struct fg_ble_result *res, char *why, size_t why_size);
int fg_ble_eddystone_tlm_decode(const struct fg_ble_data *d, const struct fg_ble_keys *keys,
				struct fg_codec_value *out, size_t max, size_t *ret_n,
				struct fg_ble_result *res, char *why, size_t why_size);
