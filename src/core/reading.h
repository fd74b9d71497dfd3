/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The normalized reading: one measured quantity of one device at one time.
 * Every source emits batches of these through one callback; nothing after
 * the source sees frames or adverts.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fg_source_kind {
	FG_SOURCE_SIM,
	FG_SOURCE_LORA,
	FG_SOURCE_BLE,
	FG_SOURCE_GATEWAY, /* the gateway's own measurements (packet forwarder stats, ...) */
	FG_SOURCE__COUNT,
};

enum fg_value_kind {
	FG_VALUE_NUMBER,
	FG_VALUE_STRING,
	FG_VALUE_BOOL,
	FG_VALUE__COUNT,
};

#define FG_DEVICE_ID_MAX 40   /* DevEUI (16 hex), MAC (17), sim ids */
#define FG_DEVICE_NAME_MAX 64
#define FG_QUANTITY_MAX 32
#define FG_UNIT_MAX 16
#define FG_BOOT_ID_MAX 33

/* Radio metadata; fields are meaningful only when `present` is set. */
struct fg_radio_meta {
	bool present;
	int16_t rssi;        /* dBm */
	float snr;           /* dB */
	uint32_t freq_hz;
	uint8_t sf;          /* LoRa spreading factor, 0 if not LoRa */
	uint32_t bw_hz;
	int8_t dr;           /* region data-rate index, -1 if unknown */
	uint32_t tmst;       /* concentrator timestamp, usec */
};

struct fg_reading {
	char device_id[FG_DEVICE_ID_MAX];
	char device_name[FG_DEVICE_NAME_MAX];
	enum fg_source_kind source;
	char quantity[FG_QUANTITY_MAX];
	enum fg_value_kind kind;
	double number;          /* FG_VALUE_NUMBER */
	bool boolean;           /* FG_VALUE_BOOL */
	const char *text;       /* FG_VALUE_STRING: borrowed, valid during the callback only */
	char unit[FG_UNIT_MAX]; /* SenML unit symbol (core/units.h), "" for none */
	uint64_t time_ms;       /* UTC wall time in ms, 0 while the wall clock is not known */
	uint64_t mono_usec;     /* CLOCK_MONOTONIC when it was received */
	char boot_id[FG_BOOT_ID_MAX]; /* boot the monotonic stamp belongs to */
	uint64_t frame_id;      /* readings from one frame share it */
	struct fg_radio_meta radio;
};

/* How a source hands over readings: a batch, borrowed for the call only. */
typedef void (*fg_reading_fn)(const struct fg_reading *r, size_t n, void *userdata);

const char *fg_source_kind_to_string(enum fg_source_kind k);
/* Returns the kind, or -EINVAL for an unknown name. */
int fg_source_kind_from_string(const char *s);
const char *fg_value_kind_to_string(enum fg_value_kind k);

/* Fill the identity fields; strings that do not fit return -ENAMETOOLONG. */
int fg_reading_init(struct fg_reading *r, enum fg_source_kind source, const char *device_id,
		    const char *device_name, const char *quantity, const char *unit);
void fg_reading_set_number(struct fg_reading *r, double v);
void fg_reading_set_bool(struct fg_reading *r, bool v);
void fg_reading_set_text(struct fg_reading *r, const char *text);

/* Whether a quantity/device id is safe in topics and JSON keys: [A-Za-z0-9_.:-]+. */
bool fg_reading_name_valid(const char *s);

/*
 * Write the reading as one JSON object (no newline) into buf. Returns the
 * length written, or -ENOBUFS if it does not fit.
 */
int fg_reading_to_json(const struct fg_reading *r, char *buf, size_t size);
