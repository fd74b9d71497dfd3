/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The MQTT sink: libmosquitto driven from the sd-event loop (its socket as an
 * io source, a prepare callback toggling EPOLLOUT from mosquitto_want_write,
 * a 1 s timer for mosquitto_loop_misc), never its own thread. It still sets
 * libmosquitto's "threaded" mode: then every packet is only queued by the
 * call that makes it and written from the EPOLLOUT handler, never inline,
 * which is what lets an incoming message be stored before its PUBACK leaves.
 *
 * It drains a queue (the store's outbox, through callbacks) in sequence
 * order with a window of mqtt.max_inflight messages, and acks each message
 * to the queue only when the broker has it (PUBACK for QoS 1, PUBCOMP for
 * QoS 2, handed to the socket for QoS 0). On reconnect, libmosquitto resends
 * what was in flight (clean session off), and nothing new is published
 * before it has; on a daemon restart everything not acked is peeked again:
 * delivery is at least once, in order of first arrival.
 *
 * Connection: non-blocking connect, reconnect with exponential backoff and
 * jitter (1 s to 60 s), slower (from 30 s) when the broker refuses us. The
 * gateway's retained status goes to fieldgate/{gateway}/status: "online"
 * JSON at connect, the Last Will "offline".
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config/config.h"
#include "core/outbox.h"

struct fg_mqtt;

/* Where messages come from and where deliveries are reported (the store, via the daemon). */
struct fg_mqtt_queue {
	/* Call fn for up to max messages with seq > after_seq, in order; return how many. */
	int (*peek)(void *userdata, uint64_t after_seq, size_t max, fg_outbox_fn fn,
		    void *fn_userdata);
	/* The broker has message seq. */
	int (*ack)(void *userdata, uint64_t seq);
	void *userdata;
};

enum fg_mqtt_state {
	FG_MQTT_IDLE,          /* not started */
	FG_MQTT_CONNECTING,
	FG_MQTT_CONNECTED,
	FG_MQTT_WAITING,       /* disconnected, reconnect timer armed */
	FG_MQTT_REFUSED,       /* the broker refused us; retrying slowly */
	FG_MQTT_STATE__COUNT,
};

struct fg_mqtt_stats {
	enum fg_mqtt_state state;
	uint64_t published;    /* handed to libmosquitto */
	uint64_t acked;        /* confirmed by the broker */
	uint64_t connects;     /* successful connections */
	uint64_t failures;     /* failed attempts and lost connections */
	uint64_t inflight;
	uint64_t last_acked_seq;
	uint64_t first_ack_mono_usec; /* CLOCK_MONOTONIC of the first PUBACK since start; 0: none */
	uint64_t last_ack_mono_usec;  /* of the latest PUBACK; 0: none */
	bool session_present;  /* the broker kept our session at the last CONNACK */
	uint64_t latency_count; /* acked messages whose creation time is known */
	uint64_t latency_p50_usec; /* oldest reading in a message -> its PUBACK, since start */
	uint64_t latency_p99_usec;
	uint64_t latency_max_usec;
	char last_error[160];  /* why the last attempt failed, "" if none */
};

/*
 * Create the sink and start connecting. The config is copied (strings too).
 * content_type is for MQTT v5's content type property (may be NULL).
 * Returns 0 or a negative errno; logs what it does (it is a wiring module).
 */
int fg_mqtt_new(const struct fg_mqtt_config *cfg, const char *gateway_id,
		const char *content_type, sd_event *loop, const struct fg_mqtt_queue *queue,
		struct fg_mqtt **ret_mqtt);

/*
 * Whether a sink made from these settings would be m: the broker, the
 * identity, the session and window settings, the TLS settings (and the
 * files they name, so a certificate renewed in place counts as a change),
 * the gateway id and the content type. A reload that changes none of them
 * keeps m, its connection, its window and its counters. Never logs.
 */
bool fg_mqtt_same_setup(const struct fg_mqtt *m, const struct fg_mqtt_config *cfg,
			const char *gateway_id, const char *content_type);

/* Publish "offline" as status, disconnect and free. NULL is fine. */
void fg_mqtt_free(struct fg_mqtt *m);

/* New messages may be in the queue: publish what the window allows. */
void fg_mqtt_kick(struct fg_mqtt *m);

/* Publish a message that is not in the queue (stats); QoS 0 unless qos given. Dropped when offline. */
int fg_mqtt_publish_direct(struct fg_mqtt *m, const char *topic, const char *payload, int qos,
			   bool retain);

/*
 * What an incoming PUBLISH carried besides its topic and payload. The MQTT 5
 * properties are NULL / 0 with 3.1.1 and when absent; pointers are valid
 * during the call only. (The DUP flag is not here: libmosquitto 2.0 keeps it
 * inside and does not give it to the message callback.)
 */
struct fg_mqtt_msg_info {
	int qos;                    /* as delivered: at most the subscription's */
	bool retain;
	const char *response_topic; /* MQTT 5 response topic, NUL-terminated */
	const void *correlation;    /* MQTT 5 correlation data */
	size_t correlation_len;
};

/*
 * A message on a subscribed topic: topic NUL-terminated, payload not (len
 * bytes), all valid during the call only. Called from the loop, and for a
 * QoS 1 message before our PUBACK leaves: the sink runs libmosquitto in its
 * "threaded" mode, in which packets are only queued and written from the
 * loop's EPOLLOUT handler, so whatever fn writes durably before it returns
 * is kept before the broker may forget the message.
 *
 * Return 0 when the message is dealt with (taken, or refused for what it
 * says: the broker must not send it again). Return a negative errno when it
 * could not be kept (the store failed) and should come again: the sink then
 * closes the connection without the PUBACK and reconnects after the backoff,
 * and the broker, holding our session, redelivers it and anything else not
 * acknowledged. Only QoS 1 messages are redelivered this way; with QoS 0 and
 * 2 the return value is ignored.
 */
typedef int (*fg_mqtt_message_fn)(const char *topic, const void *payload, size_t len,
				  const struct fg_mqtt_msg_info *info, void *userdata);
/*
 * Subscribe to the filter topic at qos, now when connected and again at every
 * connection (after the CONNACK and the resent window, before the status);
 * fn gets each message. A topic subscribed
 * before is updated (fn, qos), not doubled. At most 4 topics. Returns 0,
 * -EINVAL (bad filter or qos), -ENOSPC, -ENOMEM.
 *
 * Messages are given only to the filters held now: one that arrives on a
 * filter given up with fg_mqtt_unsubscribe (the broker may still send some,
 * and a persistent session keeps the subscription across our restarts) is
 * acknowledged and dropped. A message that matches two filters goes to both.
 */
int fg_mqtt_subscribe(struct fg_mqtt *m, const char *topic, int qos, fg_mqtt_message_fn fn,
		      void *userdata);

/* Give up the filter topic (UNSUBSCRIBE when connected). Returns 0, -ENOENT when not held. */
int fg_mqtt_unsubscribe(struct fg_mqtt *m, const char *topic);

/*
 * The MQTT 5 maximum packet size the sink announces in its CONNECT: the
 * broker discards (MQTT 5, 3.1.2.11.4) what would be larger rather than send
 * it, so a hostile or broken publisher on a subscribed topic cannot make the
 * gateway allocate hundreds of MiB (libmosquitto holds a whole packet, and
 * then a copy of its payload). Twice the largest commands.max_size (65536)
 * leaves room for the topic and the properties; what lies between a
 * command's max_size and this is received and refused by its reader, with an
 * outcome. Our own publishes are limited by the broker's maximum, not this.
 */
#define FG_MQTT_MAX_PACKET_IN (128 * 1024)

void fg_mqtt_get_stats(const struct fg_mqtt *m, struct fg_mqtt_stats *ret);
const char *fg_mqtt_state_to_string(enum fg_mqtt_state s);

/*
 * Refuse the TLS files of cfg->mqtt that the sink could not use: mqtt.ca_file,
 * cert_file or key_file missing, unreadable or not a regular file, ca_path
 * not a directory one can open, a ca_file without a PEM certificate, a
 * cert_file that is not a PEM certificate, a key_file that is not a PEM
 * private key or is encrypted, a key that does not belong to the certificate.
 * The files are loaded as libmosquitto loads them, by the user running the
 * check (which is why fieldgated repeats it at start and reload). When the
 * check runs as root and as_user names another user (the daemon's), a warning
 * for each file that user cannot open. Nothing is checked when mqtt.tls is
 * off. Findings go to diags, named by cfg->path, the line and the setting;
 * nothing is logged. Returns 0 (also with warnings), -EINVAL when it added an
 * error, or -ENOMEM.
 */
int fg_mqtt_check_tls(const struct fg_config *cfg, const char *as_user, struct fg_diags *diags);

/* The user the packaged unit runs fieldgated as (fieldgate.service's User=). */
#define FG_DAEMON_USER "_fieldgate"

/* Call once per process before any fg_mqtt_new, and its cleanup at exit. */
int fg_mqtt_lib_init(void);
void fg_mqtt_lib_cleanup(void);
