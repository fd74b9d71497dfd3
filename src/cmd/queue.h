/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The durable command queue: commands accepted from the cloud, kept in the
 * buffer (table command) until each ends in its one outcome, and those
 * outcomes published through the outbox (store-and-forward, with seq).
 *
 * Every change is one transaction of the buffer that writes the command's
 * row and its outcome message together, committed (synced) before the call
 * returns: a command is accepted (and acknowledged to the broker) only once
 * it is on disk, and it cannot end twice or not at all.
 *
 * Ids: a finished command's id is remembered for commands.keep_ids_s, so the
 * same id again (a QoS 1 redelivery, a sender's retry) is done once.
 *
 * Never logs; returns negative errno and keeps counters. The caller logs.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/command.h"
#include "config/config.h"
#include "store/store.h"

struct fg_cmdq;

struct fg_cmdq_stats {
	uint64_t received;		      /* command messages handed to the queue or failed at once */
	uint64_t duplicates;		      /* ids seen before: ignored */
	uint64_t outcomes[FG_CMD_OUTCOME__COUNT];
	uint64_t failed[FG_CMD_REASON__COUNT]; /* failed outcomes by reason */
	uint64_t pending;		      /* queued downlinks now */
};

/*
 * A queue over store s. event_topic is commands.event_topic with {gateway}
 * expanded (copied). qos of the outcome messages is 1. Returns 0 or -ENOMEM.
 */
int fg_cmdq_new(struct fg_store *s, const struct fg_commands_config *cfg, const char *event_topic,
		struct fg_cmdq **ret);
void fg_cmdq_free(struct fg_cmdq *q);

/*
 * Accept downlink c (kind push or replace; c->device_name resolved, data
 * encoded): in one transaction, a replace first ends every pending command
 * of the device as failed "replaced"; then the bounds (queue-full: failed),
 * then the row and its "queued" outcome. Returns 0 queued, 1 a duplicate id
 * (nothing written), 2 refused with a failed outcome (queue-full), or a
 * negative errno (nothing written).
 */
int fg_cmdq_accept(struct fg_cmdq *q, const struct fg_command *c, uint64_t now_ms);

/*
 * End a command that was never queued (refused at parse, a GPIO command
 * done or failed) with outcome o: the outcome message, and its id
 * remembered (when it has one) so a redelivery is not done again. Returns 0,
 * 1 for a duplicate id (nothing written), or a negative errno.
 */
int fg_cmdq_finish_now(struct fg_cmdq *q, const struct fg_command *c, enum fg_cmd_outcome o,
		       enum fg_cmd_reason r, const char *detail, uint64_t now_ms);

/* Whether id is known (pending or remembered): 1, 0, or a negative errno. */
int fg_cmdq_seen(struct fg_cmdq *q, const char *id);

/*
 * The next pending downlink of device (by name): highest priority first,
 * then in order of arrival; a command awaiting its ACK comes before all
 * others. Commands that expired by now_ms are ended as expired on the way.
 * Returns 0 and *ret, -ENOENT when none is pending, or a negative errno.
 */
int fg_cmdq_next(struct fg_cmdq *q, const char *device, uint64_t now_ms, struct fg_command *ret);
/* Pending downlinks of device (NULL: all). */
int fg_cmdq_pending(struct fg_cmdq *q, const char *device);

/* c was handed to the radio with f_cnt_down: tries + 1, awaiting_ack when confirmed. */
int fg_cmdq_sent(struct fg_cmdq *q, const char *id, uint32_t f_cnt_down, bool awaiting_ack);
/* End pending command id with o (sent, ack, nack, expired, failed with r). -ENOENT if not pending. */
int fg_cmdq_finish(struct fg_cmdq *q, const char *id, enum fg_cmd_outcome o, enum fg_cmd_reason r,
		   const char *detail, uint64_t now_ms);
/* End every pending command whose expiry is before now_ms as expired; returns how many. */
int fg_cmdq_expire(struct fg_cmdq *q, uint64_t now_ms);
/* Forget remembered ids older than keep_ids_s (at most 1000 a call); returns how many. */
int fg_cmdq_forget(struct fg_cmdq *q, uint64_t now_ms);

/* Call fn for each pending command of device (NULL: all), in send order. */
typedef int (*fg_cmdq_fn)(const struct fg_command *c, void *userdata);
int fg_cmdq_each(struct fg_cmdq *q, const char *device, fg_cmdq_fn fn, void *userdata);

void fg_cmdq_get_stats(const struct fg_cmdq *q, struct fg_cmdq_stats *ret);

/*
 * The answer of `fieldgatectl queue [DEVICE] --json` from a list of
 * commands: {"commands":[{"id","device","kind","f_port","size","confirmed",
 * "priority","state" ("queued"|"awaiting-ack"),"tries","f_cnt_down"?,
 * "accepted_ms","expires_ms"?}],"count":N,"truncated":bool}. The daemon and
 * fieldgatectl (reading the buffer file) both build it with these.
 */
struct fg_json;
void fg_cmdq_json_begin(struct fg_json *j);
void fg_cmdq_json_command(struct fg_json *j, const struct fg_command *c);
void fg_cmdq_json_end(struct fg_json *j, size_t count, bool truncated);

/* Read the pending commands of a buffer file read-only (fieldgatectl without a daemon). */
int fg_cmdq_read_file(const char *path, const char *device, fg_cmdq_fn fn, void *userdata);
