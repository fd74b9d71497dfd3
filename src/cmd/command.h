/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Commands from the cloud: what a command message says, parsed from hostile
 * JSON into a plain struct, and how its outcome is written. Pure: bytes in,
 * structs and text out; no I/O, no logging, no allocation.
 *
 * A command arrives on a topic under commands.topic ("fieldgate/{gateway}/
 * command/" by default): "down/push" and "down/replace" (LoRaWAN application
 * downlinks) or "gpio". Its body is one JSON object with an "id" chosen by
 * the sender. Every command ends in exactly one outcome (sent, ack, nack,
 * expired, failed), after "queued" when it was accepted into a queue.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lora/lorawan.h"

#define FG_CMD_ID_MAX	  64  /* bytes of an id: printable ASCII, no '"' or '\\' */
#define FG_CMD_DEVICE_MAX 64
#define FG_CMD_CHIP_MAX	  32
#define FG_CMD_GPIO_NAME_MAX 64 /* "name" of a commands.gpio line */
#define FG_CMD_TOPIC_MAX  256 /* MQTT 5 response topic */
#define FG_CMD_CORR_MAX	  256 /* MQTT 5 correlation data */

enum fg_cmd_kind {
	FG_CMD_DOWN_PUSH,    /* append to the device's queue */
	FG_CMD_DOWN_REPLACE, /* clear the device's queue, then append */
	FG_CMD_GPIO,
	FG_CMD_KIND__COUNT,
};

enum fg_cmd_outcome {
	FG_CMD_QUEUED, /* accepted into a queue; not an end */
	FG_CMD_SENT,   /* unconfirmed downlink handed to the radio, GPIO done */
	FG_CMD_ACK,    /* confirmed downlink acknowledged by the device */
	FG_CMD_NACK,   /* confirmed downlink not acknowledged after its retries */
	FG_CMD_EXPIRED,
	FG_CMD_FAILED, /* with a reason */
	FG_CMD_OUTCOME__COUNT,
};

/* Why a command failed (or was not taken): stable names for outcomes, logs and counters. */
enum fg_cmd_reason {
	FG_CMD_R_NONE = 0,
	FG_CMD_R_MALFORMED,	    /* "malformed": not a JSON object, bad UTF-8, trailing bytes */
	FG_CMD_R_TOO_LARGE,	    /* "too-large": over commands.max_size */
	FG_CMD_R_UNKNOWN_COMMAND,   /* "unknown-command": a topic under the prefix we do not know */
	FG_CMD_R_BAD_ID,	    /* "bad-id": missing, empty, too long, not a string */
	FG_CMD_R_BAD_FIELD,	    /* "bad-field": a field of the wrong type or range, or unknown */
	FG_CMD_R_UNKNOWN_DEVICE,    /* "unknown-device": no such LoRaWAN device */
	FG_CMD_R_BAD_F_PORT,	    /* "bad-f-port": missing, 0 (MAC commands), or above 223 */
	FG_CMD_R_BAD_DATA,	    /* "bad-data": none or more than one of data, data_base64, object; bad hex or base64 */
	FG_CMD_R_CANNOT_ENCODE,	    /* "cannot-encode": the device's codec cannot encode the object */
	FG_CMD_R_TOO_LONG,	    /* "payload-too-long": more than the data rate can carry */
	FG_CMD_R_QUEUE_FULL,	    /* "queue-full": commands.max_queue_per_device or max_queued */
	FG_CMD_R_DAILY_BUDGET,	    /* "daily-budget": lorawan.devices[].max_downlinks_per_day spent */
	FG_CMD_R_REPLACED,	    /* "replaced": cleared from the queue by a replace */
	FG_CMD_R_NOT_JOINED,	    /* "not-joined": an OTAA device without a session */
	FG_CMD_R_NO_ROUTE,	    /* "no-route": a class C device not heard through a radio that can send */
	FG_CMD_R_RADIO,		    /* "radio": the radio refused the transmission */
	FG_CMD_R_GPIO_UNDECLARED,   /* "gpio-undeclared": a line not in commands.gpio */
	FG_CMD_R_GPIO_FAILED,	    /* "gpio-failed": the line could not be driven */
	FG_CMD_R_STORAGE,	    /* "storage": the buffer could not keep it */
	FG_CMD_R_REJOINED,	    /* "rejoined": the device joined again, its queued FCntDown is void */
	FG_CMD_REASON__COUNT,
};

const char *fg_cmd_kind_to_string(enum fg_cmd_kind k);	     /* "down/push", "down/replace", "gpio" */
const char *fg_cmd_outcome_to_string(enum fg_cmd_outcome o); /* "queued", "sent", ... */
const char *fg_cmd_reason_to_string(enum fg_cmd_reason r);   /* "malformed", ...; "" for NONE */

/*
 * The kind a topic names under prefix (commands.topic, expanded, ending in
 * '/'): 0 and *ret, -ENOENT for a topic under prefix that names no kind
 * (unknown-command), -EINVAL for a topic not under prefix at all (never acted on).
 */
int fg_cmd_kind_from_topic(const char *prefix, const char *topic, enum fg_cmd_kind *ret);

/* Priorities, as The Things Stack names them; a number 0..6 is taken too. */
#define FG_CMD_PRIORITY_DEFAULT 3 /* "NORMAL" */
#define FG_CMD_PRIORITY_MAX	6 /* "HIGHEST" */

struct fg_command {
	enum fg_cmd_kind kind;
	char id[FG_CMD_ID_MAX + 1];	     /* "" when none could be read */
	/* LoRaWAN downlinks */
	char device[FG_CMD_DEVICE_MAX + 1];  /* as the sender named it: DevEUI, DevAddr or name */
	int f_port;			     /* 1..223 */
	uint8_t data[FG_LW_FRM_MAX];	     /* from "data" (hex) or "data_base64", or encoded from "object" */
	size_t data_len;
	const char *object;		     /* "object": its JSON text, in the parsed buffer; NULL: none */
	size_t object_len;
	bool confirmed;			     /* default false */
	int priority;			     /* 0..6, default FG_CMD_PRIORITY_DEFAULT */
	uint64_t expires_ms;		     /* wall ms; 0: never */
	/* GPIO */
	char chip[FG_CMD_CHIP_MAX + 1];
	unsigned line;
	int value;			     /* 0 or 1; -1 with pulse_ms */
	uint32_t pulse_ms;		     /* 0: set value; else drive 1 for pulse_ms, then 0 */
	char gpio_name[FG_CMD_GPIO_NAME_MAX + 1]; /* "name" given instead of chip+line ("" and */
						  /* chip, line given); resolved by the caller */
	/* MQTT 5: where the outcomes go too, and what they carry back */
	char response_topic[FG_CMD_TOPIC_MAX + 1]; /* "" none */
	uint8_t correlation[FG_CMD_CORR_MAX];
	size_t correlation_len;
	/* Queue state (cmd/queue.c): kept with the command */
	uint64_t accepted_ms;		     /* wall ms it was queued */
	unsigned tries;			     /* times sent */
	uint32_t f_cnt_down;		     /* of the last send */
	bool awaiting_ack;		     /* confirmed, sent, its ACK not yet seen */
	char device_name[FG_CMD_DEVICE_MAX + 1]; /* the configured device it resolved to */
};

/*
 * Parse a command body of kind. now_ms is the wall clock ("expires" in
 * seconds from now, or an RFC 3339 time). Returns FG_CMD_R_NONE and fills
 * *ret, or the reason it is refused, with detail (always NUL-terminated,
 * e.g. "f_port: 0 is for MAC commands") naming the field; *ret->id is then
 * filled if an id could be read, so the failed outcome can carry it. Never
 * reads past len, whatever the bytes. ret->object points into json.
 */
enum fg_cmd_reason fg_command_parse(enum fg_cmd_kind kind, const void *json, size_t len,
				    uint64_t now_ms, struct fg_command *ret, char *detail,
				    size_t detail_size);

/*
 * The command as the queue keeps it (a versioned binary record, the object
 * text left out: it is encoded into data before queueing): the bytes written
 * into buf, or -ENOBUFS. fg_command_unpack: 0, or -EBADMSG for a record it
 * cannot read.
 */
int fg_command_pack(const struct fg_command *c, uint8_t *buf, size_t size);
int fg_command_unpack(const uint8_t *buf, size_t len, struct fg_command *ret);
#define FG_COMMAND_PACK_MAX 1024 /* enough for any command */

/* One outcome message. */
struct fg_cmd_event {
	const char *id;		/* "" or NULL: null in the JSON */
	enum fg_cmd_outcome outcome;
	enum fg_cmd_reason reason; /* FAILED only */
	const char *detail;	/* may be NULL */
	const char *device;	/* the device as the command named it, NULL: none */
	bool has_f_cnt_down;
	uint32_t f_cnt_down;
	uint64_t time_ms;	/* wall ms, 0: unknown (left out) */
};

/*
 * The outcome as JSON: {"id","outcome","reason"?,"detail"?,"device"?,
 * "f_cnt_down"?,"time_ms"?,"seq"} into buf. Returns the length, or -ENOBUFS.
 */
int fg_cmd_event_json(const struct fg_cmd_event *e, uint64_t seq, char *buf, size_t size);
