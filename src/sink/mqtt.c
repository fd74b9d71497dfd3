/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <mosquitto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <mqtt_protocol.h>

#include "core/clock.h"
#include "core/hist.h"
#include "core/log.h"
#include "sink/format.h"
#include "sink/mqtt.h"

#define MISC_PERIOD_USEC (1 * FG_USEC_PER_SEC)
#define BACKOFF_MIN_USEC (1 * FG_USEC_PER_SEC)
#define BACKOFF_MAX_USEC (60 * FG_USEC_PER_SEC)
#define LOOKUP_POLL_USEC (20 * FG_USEC_PER_MSEC)
#define LOOKUP_MAX_USEC  (30 * FG_USEC_PER_SEC)
#define REFUSED_MIN_USEC (30 * FG_USEC_PER_SEC)
#define REFUSED_MAX_USEC (300 * FG_USEC_PER_SEC)

/* Which file a TLS setting named when the sink was made: a renewed certificate is a change. */
struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	bool present;
};

enum { TLS_FILE_CA, TLS_FILE_CA_PATH, TLS_FILE_CERT, TLS_FILE_KEY, TLS_FILE__COUNT };

struct inflight {
	int mid;
	uint64_t seq;
	uint64_t created_mono_usec;
};

/*
 * One getaddrinfo_a(3) request. glibc's worker thread writes into it, so a
 * lookup that cannot be cancelled when the sink goes away is left to finish
 * on its own and never freed (at most one per sink).
 */
struct lookup {
	struct gaicb cb;
	struct gaicb *list[1];
	struct addrinfo hints;
	uint64_t started_usec;
	char host[];
};

/* A topic filter subscribed at every connection, and who gets its messages. */
struct subscription {
	char *topic;
	int qos;
	fg_mqtt_message_fn fn;
	void *userdata;
};

#define SUBSCRIPTIONS_MAX 4

struct fg_mqtt {
	struct fg_mqtt_config cfg; /* strings owned */
	char *gateway;
	char *content_type;
	char *status_topic;
	char endpoint[300];        /* "host:port" for log lines */
	sd_event *loop;
	struct mosquitto *mosq;
	sd_event_source *io;
	int io_fd;
	sd_event_source *misc_timer;
	sd_event_source *reconnect_timer;
	sd_event_source *lookup_timer;
	struct lookup *lookup;     /* the broker's name being resolved, or NULL */
	bool error_logged;         /* libmosquitto logged an error during the connect call */
	struct fg_mqtt_queue queue;
	struct inflight *window;
	size_t window_n;
	uint64_t last_published_seq;
	uint64_t backoff_usec;
	uint64_t lost_usec; /* when a connection that was up broke, until it is restored; 0: none */
	uint64_t rng;
	uint64_t start_wall_ms;
	bool connect_called;
	bool freeing;
	bool refill; /* PUBACKs freed room in the window: refill once per wake-up */
	bool reading;	 /* inside mosquitto_loop_read (its callbacks): no writes from here */
	size_t unwritten; /* messages queued in libmosquitto since the last write */
	bool resume; /* a CONNACK came: status and refill once libmosquitto has resent its window */
	int unkept;  /* a message callback could not keep a QoS 1 message (negative errno); 0: none */
	char unkept_topic[128];
	struct fg_mqtt_stats stats;
	struct fg_hist latency; /* reading created -> PUBACK */
	struct file_id tls_files[TLS_FILE__COUNT];
	struct subscription subs[SUBSCRIPTIONS_MAX];
	size_t n_subs;
};

static const char *const state_names[FG_MQTT_STATE__COUNT] = {
	[FG_MQTT_IDLE] = "idle",
	[FG_MQTT_CONNECTING] = "connecting",
	[FG_MQTT_CONNECTED] = "connected",
	[FG_MQTT_WAITING] = "waiting to reconnect",
	[FG_MQTT_REFUSED] = "refused by broker",
};

const char *fg_mqtt_state_to_string(enum fg_mqtt_state s)
{
	if ((unsigned)s >= FG_MQTT_STATE__COUNT)
		return "unknown";
	return state_names[s];
}

int fg_mqtt_lib_init(void)
{
	return mosquitto_lib_init() == MOSQ_ERR_SUCCESS ? 0 : -EIO;
}

void fg_mqtt_lib_cleanup(void)
{
	(void) mosquitto_lib_cleanup();
}

static void update_io(struct fg_mqtt *m);
static void schedule_reconnect(struct fg_mqtt *m);

/* Map a libmosquitto result to a negative errno. */
static int mosq_to_errno(int rc)
{
	switch (rc) {
	case MOSQ_ERR_SUCCESS:
		return 0;
	case MOSQ_ERR_NOMEM:
		return -ENOMEM;
	case MOSQ_ERR_INVAL:
	case MOSQ_ERR_MALFORMED_UTF8:
		return -EINVAL;
	case MOSQ_ERR_NO_CONN:
	case MOSQ_ERR_CONN_LOST:
		return -ENOTCONN;
	case MOSQ_ERR_PAYLOAD_SIZE:
	case MOSQ_ERR_OVERSIZE_PACKET:
		return -EMSGSIZE;
	case MOSQ_ERR_ERRNO:
		return errno ? -errno : -EIO;
	case MOSQ_ERR_CONN_REFUSED:
	case MOSQ_ERR_AUTH:
		return -ECONNREFUSED;
	case MOSQ_ERR_TLS:
		return -EPROTO;
	default:
		return -EIO;
	}
}

/* xorshift64 for jitter; seeded from the clock. */
static uint64_t jitter_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The next delay: double the last within [min, max], then +-20% jitter. */
static uint64_t next_backoff(struct fg_mqtt *m, bool refused)
{
	uint64_t lo = refused ? REFUSED_MIN_USEC : BACKOFF_MIN_USEC;
	uint64_t hi = refused ? REFUSED_MAX_USEC : BACKOFF_MAX_USEC;
	uint64_t d = m->backoff_usec ? m->backoff_usec * 2 : lo;
	uint64_t span;

	if (d < lo)
		d = lo;
	if (d > hi)
		d = hi;
	m->backoff_usec = d;
	span = d / 5;
	return d - span + jitter_next(&m->rng) % (2 * span + 1);
}

/* Publish our retained status (online at connect). */
static void publish_status(struct fg_mqtt *m, const char *state)
{
	char payload[512];
	int n;

	n = snprintf(payload, sizeof(payload),
		     "{\"state\":\"%s\",\"gateway\":\"%s\",\"version\":\"%s\",\"started\":%llu}",
		     state, m->gateway, PACKAGE_VERSION, (unsigned long long)m->start_wall_ms);
	if (n < 0 || (size_t)n >= sizeof(payload))
		return;
	(void) mosquitto_publish(m->mosq, NULL, m->status_topic, n, payload, 1, true);
}

/* Hand one outbox message to libmosquitto and remember it in the window. */
static int publish_one(const struct fg_outbox_msg *msg, void *userdata)
{
	struct fg_mqtt *m = userdata;
	mosquitto_property *props = NULL;
	char seqbuf[24];
	int mid = 0, rc;

	if (msg->seq <= m->last_published_seq)
		return 0; /* the queue gave us one we already have in flight */
	if (m->cfg.protocol == FG_MQTT_V5) {
		snprintf(seqbuf, sizeof(seqbuf), "%llu", (unsigned long long)msg->seq);
		(void) mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "seq",
							  seqbuf);
		if (m->content_type)
			(void) mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE,
							     m->content_type);
		if (m->cfg.message_expiry_s)
			(void) mosquitto_property_add_int32(&props,
							    MQTT_PROP_MESSAGE_EXPIRY_INTERVAL,
							    m->cfg.message_expiry_s);
		/*
		 * A command's outcome on the response topic its sender gave:
		 * the correlation data lets the sender match it to the request
		 * (MQTT 5, 4.10). Without it the message would still reach the
		 * topic but be useless, so a failure to add it is one for the
		 * message. 3.1.1 has no properties: the outcome's JSON names the
		 * command's id, which is all a 3.1.1 sender can go by.
		 */
		if (msg->correlation_len > 0) {
			rc = msg->correlation_len > UINT16_MAX
				     ? MOSQ_ERR_INVAL
				     : mosquitto_property_add_binary(&props,
								     MQTT_PROP_CORRELATION_DATA,
								     msg->correlation,
								     (uint16_t)msg->correlation_len);
			if (rc != MOSQ_ERR_SUCCESS) {
				mosquitto_property_free_all(&props);
				if (rc == MOSQ_ERR_NOMEM)
					return -ENOMEM;
				goto refused;
			}
		}
	}
	rc = mosquitto_publish_v5(m->mosq, &mid, msg->topic, (int)msg->payload_len, msg->payload,
				  msg->qos, msg->retain, props);
	mosquitto_property_free_all(&props);
	if (rc == MOSQ_ERR_PAYLOAD_SIZE || rc == MOSQ_ERR_OVERSIZE_PACKET ||
	    rc == MOSQ_ERR_MALFORMED_UTF8 || rc == MOSQ_ERR_INVAL) {
refused:
		/* This message can never be sent: drop it, counted and said, rather than stall. */
		fg_log_device(LOG_ERR, "mqtt", NULL, msg->topic,
			      "message %llu to '%s' refused by libmosquitto (%s), dropping it",
			      (unsigned long long)msg->seq, msg->topic, mosquitto_strerror(rc));
		m->last_published_seq = msg->seq;
		m->queue.ack(m->queue.userdata, msg->seq);
		return 0;
	}
	if (rc != MOSQ_ERR_SUCCESS)
		return mosq_to_errno(rc);
	m->window[m->window_n++] = (struct inflight){ .mid = mid, .seq = msg->seq,
						      .created_mono_usec = msg->created_mono_usec };
	m->last_published_seq = msg->seq;
	m->stats.published++;
	m->unwritten++;
	return 0;
}

/*
 * Write what libmosquitto has queued. libmosquitto writes each packet with
 * its own write(): corked, a refill of dozens of messages leaves in full
 * segments rather than one each, which halves the kernel's work per message
 * on both ends of a backlog drain; uncorking pushes out the tail. One or no
 * message goes uncorked (two setsockopt calls less). A full socket only says
 * EAGAIN: the rest goes at EPOLLOUT.
 */
static int write_queued(struct fg_mqtt *m, int fd)
{
	int on = 1, off = 0, rc;
	bool cork = m->unwritten > 1;

	if (cork)
		(void) setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
	rc = mosquitto_loop_write(m->mosq, 1);
	if (cork)
		(void) setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
	m->unwritten = 0;
	return rc;
}

void fg_mqtt_kick(struct fg_mqtt *m)
{
	if (!m || m->stats.state != FG_MQTT_CONNECTED)
		return;
	m->refill = false;
	/*
	 * Queued (threaded mode), then written at once, not at the next turn of
	 * the loop: that turn was an epoll_wait and two epoll_ctl for EPOLLOUT
	 * per commit. From inside libmosquitto's read (a command's outcome),
	 * on_io writes them when the read returns.
	 */
	while (m->window_n < m->cfg.max_inflight) {
		size_t room = m->cfg.max_inflight - m->window_n;
		size_t before = m->window_n;
		uint64_t before_seq = m->last_published_seq;
		int n = m->queue.peek(m->queue.userdata, m->last_published_seq, room, publish_one, m);

		if (n <= 0 || (m->window_n == before && m->last_published_seq == before_seq))
			break;
	}
	update_io(m);
	if (!m->reading && m->unwritten && m->io_fd >= 0 && mosquitto_socket(m->mosq) == m->io_fd &&
	    write_queued(m, m->io_fd) != MOSQ_ERR_SUCCESS) {
		/* The socket failed: on_io's next turn (EPOLLERR/HUP) reconnects. */
		m->unwritten = 0;
	}
}

/* PUBACK/PUBCOMP (or written, for QoS 0): the broker has it. */
static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
	struct fg_mqtt *m = obj;

	(void) mosq;
	for (size_t i = 0; i < m->window_n; i++) {
		if (m->window[i].mid != mid)
			continue;
		uint64_t c = m->window[i].created_mono_usec, now = fg_clock_mono_usec();

		m->queue.ack(m->queue.userdata, m->window[i].seq);
		/* 0: made in an earlier boot, whose monotonic clock means nothing now */
		if (c && c <= now)
			fg_hist_add(&m->latency, now - c);
		if (m->window[i].seq > m->stats.last_acked_seq)
			m->stats.last_acked_seq = m->window[i].seq;
		m->stats.acked++;
		if (!m->stats.first_ack_mono_usec)
			m->stats.first_ack_mono_usec = now;
		m->stats.last_ack_mono_usec = now;
		m->window[i] = m->window[--m->window_n];
		m->refill = true;
		break;
	}
	/*
	 * No refill here: one read can bring dozens of PUBACKs, and on_io refills
	 * the window once after it, with one outbox query instead of one per ack.
	 */
}

/* CONNACK: online, or refused with the broker's reason. */
static void on_log(struct mosquitto *mosq, void *obj, int level, const char *str);

/*
 * libmosquitto formats a debug line (malloc, vsnprintf, free) for every
 * packet it sends or reads whenever a log callback is set, whatever the
 * level: two per message, 8% of the daemon's instructions at 1,000
 * readings/s. What it says above debug (TLS and socket errors) comes while
 * connecting, so the callback is set from the connect attempt to the
 * CONNACK and again at any disconnection, and kept while connected only
 * when debug logging of "mqtt" is on. An error that ends a connected
 * session still shows: the disconnection is logged with its code.
 */
static void log_while_connected(struct fg_mqtt *m)
{
	mosquitto_log_callback_set(m->mosq, fg_log_enabled(LOG_DEBUG, "mqtt") ? on_log : NULL);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
		       const mosquitto_property *props)
{
	struct fg_mqtt *m = obj;
	char after[48] = "";
	uint64_t outage;

	(void) mosq;
	(void) props;
	if (rc != 0) {
		const char *why = m->cfg.protocol == FG_MQTT_V5 ? mosquitto_reason_string(rc)
								: mosquitto_connack_string(rc);

		m->stats.state = FG_MQTT_REFUSED;
		m->stats.failures++;
		snprintf(m->stats.last_error, sizeof(m->stats.last_error), "refused: %s (code %d)",
			 why, rc);
		fg_log_error("mqtt", "broker '%s' refused the connection: %s (code %d)",
			     m->endpoint, why, rc);
		return;
	}
	m->stats.state = FG_MQTT_CONNECTED;
	m->stats.connects++;
	m->stats.last_error[0] = '\0';
	m->backoff_usec = 0;
	m->stats.session_present = (flags & 1) != 0;
	outage = m->lost_usec ? (fg_clock_mono_usec() - m->lost_usec) / FG_USEC_PER_SEC : 0;
	if (m->lost_usec)
		snprintf(after, sizeof(after), "; back after %llus without the broker",
			 (unsigned long long) outage);
	fg_log_event(m->lost_usec ? LOG_NOTICE : LOG_INFO,
		     m->lost_usec ? FG_MESSAGE_BROKER_RESTORED : NULL, "mqtt",
		     FG_LOG_FIELDS(
			     FG_LOG_STR("FIELDGATE_BROKER", m->endpoint),
			     FG_LOG_STR("FIELDGATE_OUTAGE_SEC",
					m->lost_usec ? fg_log_u64((char[21]){ 0 }, outage) : NULL)),
		     "connected to '%s' as '%s'%s, %s%s", m->endpoint, m->cfg.client_id,
		     m->cfg.tls ? " over TLS" : "",
		     m->stats.session_present ? "session present (the broker kept our session)"
					      : "new session",
		     after);
	m->lost_usec = 0;
	log_while_connected(m);
	/*
	 * Nothing is published from here: libmosquitto 2.0 calls this from
	 * handle__connack before message__retry_check resends the window that
	 * was in flight when the connection broke. A message published now
	 * would overtake those, and a consumer keeping a high-water mark of
	 * seq would drop them. on_io publishes once mosquitto_loop_read has
	 * returned, behind the resent window. That holds whether the broker
	 * kept our session or lost it: libmosquitto resends the window either
	 * way (a broker without our session takes them as new messages), and
	 * messages beyond its send quota (the broker's receive maximum in
	 * MQTT 5) wait in its queue in the order they were published.
	 */
	m->resume = true;
}

/* Any disconnection: lost, refused, or ours. */
static void on_disconnect(struct mosquitto *mosq, void *obj, int rc, const mosquitto_property *p)
{
	struct fg_mqtt *m = obj;

	(void) mosq;
	(void) p;
	if (m->freeing)
		return;
	mosquitto_log_callback_set(m->mosq, on_log);
	/*
	 * While connecting too: the CONNECT is only queued (threaded mode), so
	 * a refused TCP connection shows here, at the first read or write,
	 * not in the connect call. What libmosquitto logged then says more.
	 */
	if (m->stats.state == FG_MQTT_CONNECTED ||
	    (m->stats.state == FG_MQTT_CONNECTING && !m->error_logged)) {
		int e = errno;

		m->stats.failures++;
		snprintf(m->stats.last_error, sizeof(m->stats.last_error), "%s",
			 rc == MOSQ_ERR_ERRNO && e ? strerror(e) : mosquitto_strerror(rc));
	} else if (m->stats.state == FG_MQTT_CONNECTING) {
		m->stats.failures++;
	}
	schedule_reconnect(m);
}

/*
 * Why the broker's certificate was refused ("certificate has expired",
 * "hostname mismatch", ...), or NULL. OpenSSL's error queue only says
 * "certificate verify failed"; the verification result is on the SSL
 * object, which libmosquitto still holds when it logs that error.
 */
static const char *tls_verify_cause(struct mosquitto *mosq, const char *str)
{
	SSL *ssl = strstr(str, "certificate verify failed") ? mosquitto_ssl_get(mosq) : NULL;
	long v;

	if (!ssl)
		return NULL;
	v = SSL_get_verify_result(ssl);
	return v == X509_V_OK ? NULL : X509_verify_cert_error_string(v);
}

/* libmosquitto's own errors (TLS verification, DNS) carry the cause: keep and log them. */
static void on_log(struct mosquitto *mosq, void *obj, int level, const char *str)
{
	struct fg_mqtt *m = obj;

	if (level == MOSQ_LOG_ERR || level == MOSQ_LOG_WARNING) {
		const char *cause = tls_verify_cause(mosq, str);

		snprintf(m->stats.last_error, sizeof(m->stats.last_error), "%s%s%s", str,
			 cause ? ": " : "", cause ? cause : "");
		m->error_logged = true;
		fg_log_device(LOG_WARNING, "mqtt", NULL, m->endpoint, "'%s': %s", m->endpoint,
			      m->stats.last_error);
	} else {
		fg_log_debug("mqtt", "libmosquitto: %s", str);
	}
}

/* (Re)subscribe: a clean-session-off broker may keep it, but one that lost our session does not. */
static void subscribe_one(struct fg_mqtt *m, const struct subscription *sub)
{
	int rc = mosquitto_subscribe(m->mosq, NULL, sub->topic, sub->qos);

	if (rc != MOSQ_ERR_SUCCESS)
		fg_log_warning("mqtt", "cannot subscribe to '%s': %s", sub->topic,
			       mosquitto_strerror(rc));
}

/*
 * A message on a subscribed topic: to every subscription whose filter matches
 * it, and only those held now. libmosquitto 2.0 calls this from
 * handle__publish after send__puback has queued the PUBACK of a QoS 1
 * message: in threaded mode it waits in the queue until on_io writes it, so
 * it leaves only after every fn here has returned. When one could not keep
 * the message, on_io closes the connection before that write.
 */
static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
		       const mosquitto_property *props)
{
	struct fg_mqtt *m = obj;
	struct fg_mqtt_msg_info info = { .qos = msg->qos, .retain = msg->retain };
	char *response_topic = NULL;
	void *correlation = NULL;
	uint16_t correlation_len = 0;

	(void) mosq;
	/*
	 * After a refusal, what follows in the same read is not given out
	 * either: its PUBACK would go with the connection, and the broker
	 * sends it again.
	 */
	if (m->unkept)
		return;
	if (props) {
		(void) mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC,
						      &response_topic, false);
		(void) mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA,
						      &correlation, &correlation_len, false);
		info.response_topic = response_topic;
		info.correlation = correlation;
		info.correlation_len = correlation ? correlation_len : 0;
	}
	for (size_t i = 0; i < m->n_subs; i++) {
		bool match = false;
		int r;

		if (mosquitto_topic_matches_sub(m->subs[i].topic, msg->topic, &match) !=
			    MOSQ_ERR_SUCCESS ||
		    !match)
			continue;
		r = m->subs[i].fn(msg->topic, msg->payload, (size_t) msg->payloadlen, &info,
				  m->subs[i].userdata);
		if (r < 0 && msg->qos == 1 && !m->unkept) {
			m->unkept = r;
			snprintf(m->unkept_topic, sizeof(m->unkept_topic), "%s", msg->topic);
		}
	}
	free(response_topic);
	free(correlation);
}

int fg_mqtt_subscribe(struct fg_mqtt *m, const char *topic, int qos, fg_mqtt_message_fn fn,
		      void *userdata)
{
	struct subscription *sub = NULL;

	if (!m || !topic || !fn || qos < 0 || qos > 2 ||
	    mosquitto_sub_topic_check(topic) != MOSQ_ERR_SUCCESS)
		return -EINVAL;
	for (size_t i = 0; i < m->n_subs && !sub; i++)
		if (strcmp(m->subs[i].topic, topic) == 0)
			sub = &m->subs[i];
	if (!sub) {
		char *t;

		if (m->n_subs == SUBSCRIPTIONS_MAX)
			return -ENOSPC;
		t = strdup(topic);
		if (!t)
			return -ENOMEM;
		sub = &m->subs[m->n_subs++];
		sub->topic = t;
	}
	sub->qos = qos;
	sub->fn = fn;
	sub->userdata = userdata;
	if (m->stats.state == FG_MQTT_CONNECTED && !m->resume) {
		subscribe_one(m, sub);
		update_io(m);
	}
	return 0;
}

int fg_mqtt_unsubscribe(struct fg_mqtt *m, const char *topic)
{
	size_t i;
	int rc;

	if (!m || !topic)
		return -EINVAL;
	for (i = 0; i < m->n_subs; i++)
		if (strcmp(m->subs[i].topic, topic) == 0)
			break;
	if (i == m->n_subs)
		return -ENOENT;
	/* From now on nothing on it is given out, whatever the broker still sends. */
	free(m->subs[i].topic);
	m->subs[i] = m->subs[--m->n_subs];
	if (m->stats.state == FG_MQTT_CONNECTED) {
		rc = mosquitto_unsubscribe(m->mosq, NULL, topic);
		if (rc != MOSQ_ERR_SUCCESS)
			fg_log_warning("mqtt", "cannot unsubscribe from '%s': %s", topic,
				       mosquitto_strerror(rc));
		update_io(m);
	}
	return 0;
}

/*
 * A message callback could not keep a QoS 1 message: close the connection
 * with its PUBACK still in libmosquitto's queue (mosquitto_reconnect_async
 * drops the queue), so the broker, which keeps our session, sends it again
 * after we reconnect. shutdown() rather than DISCONNECT, which would be
 * written behind the PUBACK; the broker publishes our Will, which is true.
 */
static void drop_unacked(struct fg_mqtt *m)
{
	int fd = mosquitto_socket(m->mosq);

	fg_log_errno(m->unkept, "mqtt",
		     "cannot keep a message on '%s' (%m): closing the connection before "
		     "acknowledging it, so the broker sends it again",
		     m->unkept_topic);
	/* Truncated if need be: the log line above has it all. */
	snprintf(m->stats.last_error, sizeof(m->stats.last_error),
		 "a message on '%.80s' could not be kept (%.40s)", m->unkept_topic,
		 strerror(-m->unkept));
	m->unkept = 0;
	m->resume = false;
	if (fd >= 0)
		(void) shutdown(fd, SHUT_RDWR);
	m->stats.failures++;
	schedule_reconnect(m);
}

static int on_io(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
	struct fg_mqtt *m = userdata;
	int rc = MOSQ_ERR_SUCCESS;

	(void) es;
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		m->reading = true;
		rc = mosquitto_loop_read(m->mosq, 1);
		m->reading = false;
	}
	if (m->unkept) {
		drop_unacked(m);
		return 0;
	}
	if (rc == MOSQ_ERR_SUCCESS && m->resume && m->stats.state == FG_MQTT_CONNECTED) {
		/* After the CONNACK and the resent window: status, then new messages. */
		m->resume = false;
		for (size_t i = 0; i < m->n_subs; i++)
			subscribe_one(m, &m->subs[i]);
		publish_status(m, "online");
		fg_mqtt_kick(m);
	} else if (rc == MOSQ_ERR_SUCCESS && m->refill) {
		m->refill = false;
		fg_mqtt_kick(m);
	}
	/*
	 * Everything queued so far goes now, the PUBACKs of what was just read
	 * (its callbacks have returned) and the refill with them, without
	 * waiting for another turn of the loop; a full socket only says EAGAIN.
	 */
	if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(m->mosq) == fd &&
	    ((revents & EPOLLOUT) || mosquitto_want_write(m->mosq)))
		rc = write_queued(m, fd);
	if (rc != MOSQ_ERR_SUCCESS)
		m->resume = false;
	if (rc != MOSQ_ERR_SUCCESS && m->stats.state != FG_MQTT_WAITING) {
		/* libmosquitto closed the socket; on_disconnect may not have run for a refused CONNACK. */
		if (m->stats.state == FG_MQTT_CONNECTING)
			m->stats.failures++;
		if (m->stats.last_error[0] == '\0')
			snprintf(m->stats.last_error, sizeof(m->stats.last_error), "%s",
				 mosquitto_strerror(rc));
		schedule_reconnect(m);
	}
	update_io(m);
	return 0;
}

/* Before each loop iteration: want EPOLLOUT only while libmosquitto has bytes to send. */
static int on_prepare(sd_event_source *es, void *userdata)
{
	struct fg_mqtt *m = userdata;
	uint32_t events = EPOLLIN | (mosquitto_want_write(m->mosq) ? EPOLLOUT : 0);

	(void) sd_event_source_set_io_events(es, events);
	return 0;
}

/* Follow libmosquitto's socket: it changes at every (re)connect. */
static void update_io(struct fg_mqtt *m)
{
	int fd = mosquitto_socket(m->mosq);
	int r;

	if (fd == m->io_fd)
		return;
	m->io = sd_event_source_disable_unref(m->io);
	m->io_fd = -1;
	if (fd < 0)
		return;
	r = sd_event_add_io(m->loop, &m->io, fd, EPOLLIN | EPOLLOUT, on_io, m);
	if (r < 0) {
		fg_log_errno(r, "mqtt", "cannot watch the broker socket: %m");
		return;
	}
	(void) sd_event_source_set_prepare(m->io, on_prepare);
	(void) sd_event_source_set_description(m->io, "mqtt-io");
	m->io_fd = fd;
}

/* Start a non-blocking (re)connect. */
/*
 * MQTT 5 CONNECT properties (the session expiry interval, the largest packet
 * we take: FG_MQTT_MAX_PACKET_IN) on a non-blocking
 * connect. libmosquitto 2.0 takes them only in the blocking
 * mosquitto_connect_bind_v5(), which stores them on the handle for every
 * later (re)connect before it validates the host. Called with no host it
 * stores them and returns MOSQ_ERR_INVAL without touching the network; the
 * async connect that follows sends them. Without a session expiry a v5
 * broker ends the session at the first disconnect, losing our QoS 1 state.
 * test_pipeline.py proves the broker keeps the session across a restart.
 */
static int set_connect_properties(struct fg_mqtt *m)
{
	mosquitto_property *props = NULL;
	int rc;

	rc = mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
					  m->cfg.session_expiry_s);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_property_add_int32(&props, MQTT_PROP_MAXIMUM_PACKET_SIZE,
						  FG_MQTT_MAX_PACKET_IN);
	if (rc == MOSQ_ERR_SUCCESS) {
		rc = mosquitto_connect_bind_v5(m->mosq, NULL, (int)m->cfg.port,
					       (int)m->cfg.keepalive_s, NULL, props);
		/* INVAL is the expected "no host" answer, after the properties are kept. */
		if (rc == MOSQ_ERR_INVAL)
			rc = MOSQ_ERR_SUCCESS;
	}
	mosquitto_property_free_all(&props);
	return rc;
}

static void mosq_connect(struct fg_mqtt *m);

/* Whether the host is an address already, which libmosquitto takes without a lookup. */
static bool host_is_numeric(const char *host)
{
	struct in6_addr a;

	return inet_pton(AF_INET, host, &a) == 1 || inet_pton(AF_INET6, host, &a) == 1;
}

/* Free a finished or cancelled lookup; one glibc still writes into is abandoned. */
static void lookup_drop(struct fg_mqtt *m)
{
	if (!m->lookup)
		return;
	if (gai_error(&m->lookup->cb) == EAI_INPROGRESS &&
	    gai_cancel(&m->lookup->cb) != EAI_CANCELED) {
		m->lookup = NULL; /* glibc still owns it */
		return;
	}
	if (m->lookup->cb.ar_result)
		freeaddrinfo(m->lookup->cb.ar_result);
	free(m->lookup);
	m->lookup = NULL;
}

static int on_lookup_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct fg_mqtt *m = userdata;
	int r = gai_error(&m->lookup->cb);

	if (r == EAI_INPROGRESS && usec - m->lookup->started_usec < LOOKUP_MAX_USEC) {
		(void) sd_event_source_set_time(es, usec + LOOKUP_POLL_USEC);
		(void) sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
		return 0;
	}
	lookup_drop(m);
	if (r == 0) {
		/*
		 * libmosquitto resolves the name again itself (TLS checks the
		 * certificate against it), at once now that it answers: the
		 * loop never waits on a resolver that does not.
		 */
		mosq_connect(m);
		return 0;
	}
	m->stats.failures++;
	snprintf(m->stats.last_error, sizeof(m->stats.last_error), "cannot resolve '%s': %s",
		 m->cfg.host,
		 r == EAI_INPROGRESS ? "no answer in 30 s" :
		 r == EAI_SYSTEM     ? strerror(errno) :
				       gai_strerror(r));
	schedule_reconnect(m);
	return 0;
}

/* Resolve the broker's name off the loop (getaddrinfo_a), then connect. */
static int lookup_start(struct fg_mqtt *m)
{
	size_t len = strlen(m->cfg.host);
	struct lookup *l = calloc(1, sizeof(*l) + len + 1);
	int r;

	if (!l)
		return -ENOMEM;
	memcpy(l->host, m->cfg.host, len + 1);
	l->hints.ai_socktype = SOCK_STREAM;
	l->hints.ai_family = AF_UNSPEC;
	l->cb.ar_name = l->host;
	l->cb.ar_request = &l->hints;
	l->list[0] = &l->cb;
	l->started_usec = fg_clock_mono_usec();
	r = getaddrinfo_a(GAI_NOWAIT, l->list, 1, NULL);
	if (r != 0) {
		free(l);
		return r == EAI_AGAIN || r == EAI_MEMORY ? -EAGAIN : -EIO;
	}
	m->lookup = l;
	r = sd_event_source_set_time(m->lookup_timer, l->started_usec + LOOKUP_POLL_USEC);
	if (r >= 0)
		r = sd_event_source_set_enabled(m->lookup_timer, SD_EVENT_ONESHOT);
	if (r < 0)
		lookup_drop(m);
	return r;
}

static void start_connect(struct fg_mqtt *m)
{
	int r;

	m->stats.state = FG_MQTT_CONNECTING;
	if (m->lookup)
		return;
	/* A name is looked up before each new connection; an address needs none. */
	if (!host_is_numeric(m->cfg.host)) {
		r = lookup_start(m);
		if (r < 0) {
			m->stats.failures++;
			snprintf(m->stats.last_error, sizeof(m->stats.last_error),
				 "cannot start resolving '%s': %s", m->cfg.host, strerror(-r));
			schedule_reconnect(m);
		}
		return;
	}
	mosq_connect(m);
}

static void mosq_connect(struct fg_mqtt *m)
{
	int rc;

	if (!m->connect_called && m->cfg.protocol == FG_MQTT_V5) {
		rc = set_connect_properties(m);
		if (rc != MOSQ_ERR_SUCCESS) {
			m->stats.failures++;
			snprintf(m->stats.last_error, sizeof(m->stats.last_error),
				 "cannot set the CONNECT properties: %s", mosquitto_strerror(rc));
			schedule_reconnect(m);
			return;
		}
	}
	m->error_logged = false;
	if (!m->connect_called) {
		rc = mosquitto_connect_bind_async(m->mosq, m->cfg.host, m->cfg.port,
						  (int)m->cfg.keepalive_s, NULL);
		m->connect_called = rc == MOSQ_ERR_SUCCESS;
	} else {
		rc = mosquitto_reconnect_async(m->mosq);
	}
	if (rc != MOSQ_ERR_SUCCESS) {
		m->stats.failures++;
		/*
		 * On loopback the TLS handshake can fail inside the call; what
		 * libmosquitto logged then (the verification cause) says more
		 * than its return code.
		 */
		if (!m->error_logged)
			snprintf(m->stats.last_error, sizeof(m->stats.last_error), "%s",
				 rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		schedule_reconnect(m);
		return;
	}
	update_io(m);
}

static int on_reconnect_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
	(void) es;
	(void) usec;
	start_connect(userdata);
	return 0;
}

/* Close what is left of the connection and try again after the backoff. */
static void schedule_reconnect(struct fg_mqtt *m)
{
	bool refused = m->stats.state == FG_MQTT_REFUSED;
	bool lost = m->stats.state == FG_MQTT_CONNECTED;
	uint64_t delay = next_backoff(m, refused);
	uint64_t retry = (delay + FG_USEC_PER_SEC / 2) / FG_USEC_PER_SEC;
	const char *why = m->stats.last_error[0] ? m->stats.last_error : "no reason given";
	int r;

	/* The first loss of a connection that was up: restored at the next CONNACK. */
	if (lost && !m->lost_usec)
		m->lost_usec = fg_clock_mono_usec();
	if (lost || m->stats.state == FG_MQTT_CONNECTING)
		fg_log_event(LOG_WARNING, lost ? FG_MESSAGE_BROKER_LOST : NULL, "mqtt",
			     FG_LOG_FIELDS(FG_LOG_STR("FIELDGATE_BROKER", m->endpoint),
					   FG_LOG_STR("FIELDGATE_REASON", why),
					   FG_LOG_U64("FIELDGATE_RETRY_SEC", retry)),
			     "connection to '%s' %s (%s), retrying in %llus", m->endpoint,
			     lost ? "lost" : "failed", why, (unsigned long long) retry);
	else if (refused)
		fg_log_warning("mqtt", "retrying '%s' in %llus", m->endpoint,
			       (unsigned long long)(delay / FG_USEC_PER_SEC));
	if (!refused)
		m->stats.state = FG_MQTT_WAITING;
	m->io = sd_event_source_disable_unref(m->io);
	m->io_fd = -1;
	r = sd_event_source_set_time_relative(m->reconnect_timer, delay);
	if (r >= 0)
		r = sd_event_source_set_enabled(m->reconnect_timer, SD_EVENT_ONESHOT);
	if (r < 0)
		fg_log_errno(r, "mqtt", "cannot arm the reconnect timer: %m");
}

static int on_misc_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct fg_mqtt *m = userdata;

	if (m->stats.state == FG_MQTT_CONNECTED || m->stats.state == FG_MQTT_CONNECTING) {
		int rc = mosquitto_loop_misc(m->mosq);

		if (rc != MOSQ_ERR_SUCCESS && m->stats.state != FG_MQTT_WAITING)
			schedule_reconnect(m);
		update_io(m);
	}
	(void) sd_event_source_set_time(es, usec + MISC_PERIOD_USEC);
	return 0;
}

void fg_mqtt_get_stats(const struct fg_mqtt *m, struct fg_mqtt_stats *ret)
{
	*ret = m->stats;
	ret->inflight = m->window_n;
	ret->latency_count = m->latency.count;
	ret->latency_p50_usec = fg_hist_percentile(&m->latency, 500);
	ret->latency_p99_usec = fg_hist_percentile(&m->latency, 990);
	ret->latency_max_usec = m->latency.max_usec;
}

/* The file path names now (all zero when unset or unreadable). */
static struct file_id file_id_of(const char *path)
{
	struct stat st;

	if (!path || stat(path, &st) < 0)
		return (struct file_id){ 0 };
	return (struct file_id){ .dev = st.st_dev, .ino = st.st_ino, .size = st.st_size,
				 .mtime = st.st_mtim, .present = true };
}

static bool file_id_equal(const struct file_id *a, const struct file_id *b)
{
	return a->present == b->present && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static void tls_files_of(const struct fg_mqtt_config *c, struct file_id ret[TLS_FILE__COUNT])
{
	ret[TLS_FILE_CA] = file_id_of(c->ca_file);
	ret[TLS_FILE_CA_PATH] = file_id_of(c->ca_path);
	ret[TLS_FILE_CERT] = file_id_of(c->cert_file);
	ret[TLS_FILE_KEY] = file_id_of(c->key_file);
}

static bool str_equal(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/*
 * Every setting of struct fg_mqtt_config that the connection uses is compared
 * here: one added to the sink must be added here too, or a reload that
 * changes it keeps the old connection.
 */
bool fg_mqtt_same_setup(const struct fg_mqtt *m, const struct fg_mqtt_config *cfg,
			const char *gateway_id, const char *content_type)
{
	const struct fg_mqtt_config *a = &m->cfg;
	struct file_id files[TLS_FILE__COUNT];

	if (!str_equal(a->host, cfg->host) || a->port != cfg->port ||
	    !str_equal(a->client_id, cfg->client_id) || a->protocol != cfg->protocol ||
	    a->keepalive_s != cfg->keepalive_s || a->session_expiry_s != cfg->session_expiry_s ||
	    !str_equal(a->username, cfg->username) || !str_equal(a->password, cfg->password) ||
	    a->max_inflight != cfg->max_inflight || a->message_expiry_s != cfg->message_expiry_s ||
	    a->tls != cfg->tls || !str_equal(a->ca_file, cfg->ca_file) ||
	    !str_equal(a->ca_path, cfg->ca_path) || !str_equal(a->cert_file, cfg->cert_file) ||
	    !str_equal(a->key_file, cfg->key_file) || !str_equal(a->alpn, cfg->alpn) ||
	    a->tls_insecure != cfg->tls_insecure || !str_equal(m->gateway, gateway_id) ||
	    !str_equal(m->content_type, content_type))
		return false;
	/* The same names, but perhaps a certificate or key renewed in place. */
	tls_files_of(cfg, files);
	for (size_t i = 0; i < TLS_FILE__COUNT; i++)
		if (!file_id_equal(&files[i], &m->tls_files[i]))
			return false;
	return true;
}

int fg_mqtt_publish_direct(struct fg_mqtt *m, const char *topic, const char *payload, int qos,
			   bool retain)
{
	int rc;

	if (m->stats.state != FG_MQTT_CONNECTED)
		return -ENOTCONN;
	rc = mosquitto_publish(m->mosq, NULL, topic, (int)strlen(payload), payload, qos, retain);
	update_io(m);
	return mosq_to_errno(rc);
}

/* Duplicate the config's strings so a reload can free the old config. */
static int copy_config(struct fg_mqtt_config *dst, const struct fg_mqtt_config *src)
{
	char **fields[] = { &dst->host, &dst->client_id, &dst->username, &dst->password,
			    &dst->topic, &dst->ca_file, &dst->ca_path, &dst->cert_file,
			    &dst->key_file, &dst->alpn };

	*dst = *src;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (!*fields[i])
			continue;
		*fields[i] = strdup(*fields[i]);
		if (!*fields[i])
			return -ENOMEM;
	}
	return 0;
}

static void free_config(struct fg_mqtt_config *c)
{
	free(c->host);
	free(c->client_id);
	free(c->username);
	if (c->password)
		explicit_bzero(c->password, strlen(c->password));
	free(c->password);
	free(c->topic);
	free(c->ca_file);
	free(c->ca_path);
	free(c->cert_file);
	free(c->key_file);
	free(c->alpn);
}

/*
 * The system's CA directory as OpenSSL sees it: $SSL_CERT_DIR when set (a
 * list, like OpenSSL's own lookup takes), else the directory OpenSSL was
 * built with (/usr/lib/ssl/certs on Debian, a link to /etc/ssl/certs).
 */
static const char *system_ca_dir(void)
{
	const char *env = secure_getenv(X509_get_default_cert_dir_env());

	return env && *env ? env : X509_get_default_cert_dir();
}

/* The system's CA file as OpenSSL sees it: $SSL_CERT_FILE when set, else its built-in one. */
static const char *system_ca_file(void)
{
	const char *env = secure_getenv(X509_get_default_cert_file_env());

	return env && *env ? env : X509_get_default_cert_file();
}

/*
 * TLS settings: TLS >= 1.2, peer and host name verified unless tls_insecure.
 *
 * Without mqtt.ca_file and ca_path the broker is verified against the
 * system's CA store: MOSQ_OPT_TLS_USE_OS_CERTS makes libmosquitto 2.0 call
 * SSL_CTX_set_default_verify_paths, which follows SSL_CERT_FILE and
 * SSL_CERT_DIR. That option alone is not enough in 2.0.11:
 * mosquitto_tls_set (the only way to give a client certificate) refuses a
 * NULL CA file and path, and every connection after the first refuses to
 * reuse its SSL_CTX without one ("MOSQ_OPT_SSL_CTX_WITH_DEFAULTS used without
 * specifying cafile, capath or psk"). So the system's CA directory is named
 * as ca_path too, which trusts nothing more than the system store already
 * does. In every case libmosquitto builds the SSL_CTX itself, with its verify
 * callback (peer, then host name unless tls_insecure), tls_opts_set's
 * version and the ALPN.
 */
static int setup_tls(struct fg_mqtt *m)
{
	const struct fg_mqtt_config *c = &m->cfg;
	const char *ca_path = c->ca_path;
	int rc;

	if (!c->ca_file && !c->ca_path) {
		rc = mosquitto_int_option(m->mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
		if (rc != MOSQ_ERR_SUCCESS)
			return mosq_to_errno(rc);
		ca_path = system_ca_dir();
		fg_log_info("mqtt",
			    "verifying '%s' against the system's CA certificates ('%s', '%s')",
			    m->endpoint, system_ca_file(), ca_path);
	}
	rc = mosquitto_tls_set(m->mosq, c->ca_file, ca_path, c->cert_file, c->key_file, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		/* fg_mqtt_check_tls passed them; they changed since, or cannot be read now. */
		fg_log_error("mqtt",
			     "TLS files not usable (ca_file '%s', ca_path '%s', cert_file "
			     "'%s', key_file '%s'): %s",
			     c->ca_file ? c->ca_file : "(none)", ca_path ? ca_path : "(none)",
			     c->cert_file ? c->cert_file : "(none)",
			     c->key_file ? c->key_file : "(none)", mosquitto_strerror(rc));
		return mosq_to_errno(rc);
	}
	rc = mosquitto_tls_opts_set(m->mosq, 1, "tlsv1.2", NULL);
	if (rc == MOSQ_ERR_SUCCESS && c->alpn)
		rc = mosquitto_string_option(m->mosq, MOSQ_OPT_TLS_ALPN, c->alpn);
	if (rc == MOSQ_ERR_SUCCESS && c->tls_insecure) {
		fg_log_warning("mqtt", "tls_insecure is set: the broker's host name is not checked "
			       "against its certificate");
		rc = mosquitto_tls_insecure_set(m->mosq, true);
	}
	return mosq_to_errno(rc);
}

int fg_mqtt_new(const struct fg_mqtt_config *cfg, const char *gateway_id,
		const char *content_type, sd_event *loop, const struct fg_mqtt_queue *queue,
		struct fg_mqtt **ret_mqtt)
{
	struct fg_mqtt *m;
	char will[256], status_topic[512];
	int r, rc, n;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->io_fd = -1;
	m->loop = sd_event_ref(loop);
	m->queue = *queue;
	m->start_wall_ms = fg_clock_wall_ms();
	m->rng = fg_clock_mono_usec() | 1;
	r = copy_config(&m->cfg, cfg);
	if (r < 0)
		goto fail;
	m->gateway = strdup(gateway_id);
	m->content_type = content_type ? strdup(content_type) : NULL;
	r = fg_format_gateway_topic(gateway_id, "status", status_topic, sizeof(status_topic));
	if (r < 0)
		goto fail;
	m->status_topic = strdup(status_topic);
	if (!m->status_topic || !m->gateway || (content_type && !m->content_type)) {
		r = -ENOMEM;
		goto fail;
	}
	m->window = calloc(m->cfg.max_inflight, sizeof(*m->window));
	if (!m->window) {
		r = -ENOMEM;
		goto fail;
	}
	snprintf(m->endpoint, sizeof(m->endpoint), "%s:%u", m->cfg.host, m->cfg.port);
	tls_files_of(&m->cfg, m->tls_files);

	/* Clean session off: the broker keeps our session, libmosquitto resends what was in flight. */
	m->mosq = mosquitto_new(m->cfg.client_id, false, m);
	if (!m->mosq) {
		r = errno == EINVAL ? -EINVAL : -ENOMEM;
		goto fail;
	}
	rc = mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION,
				  m->cfg.protocol == FG_MQTT_V5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_max_inflight_messages_set(m->mosq, m->cfg.max_inflight);
	/*
	 * No thread is started: "threaded" only makes packet__queue keep every
	 * packet for mosquitto_loop_write (on_io, at EPOLLOUT) instead of
	 * writing it inline. Without it the PUBACK of an incoming QoS 1 message
	 * would be on the wire before on_message runs, and a command the
	 * broker forgets could die with us before it is stored.
	 */
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_threaded_set(m->mosq, true);
	if (rc == MOSQ_ERR_SUCCESS && m->cfg.username)
		rc = mosquitto_username_pw_set(m->mosq, m->cfg.username, m->cfg.password);
	n = snprintf(will, sizeof(will), "{\"state\":\"offline\",\"gateway\":\"%s\"}", m->gateway);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_will_set(m->mosq, m->status_topic, n, will, 1, true);
	if (rc != MOSQ_ERR_SUCCESS) {
		r = mosq_to_errno(rc);
		goto fail;
	}
	if (m->cfg.tls) {
		r = setup_tls(m);
		if (r < 0)
			goto fail;
	} else if (m->cfg.password) {
		fg_log_warning("mqtt", "no TLS setting given: the password for '%s' travels in clear "
			       "text to '%s'", m->cfg.username, m->endpoint);
	}
	mosquitto_connect_v5_callback_set(m->mosq, on_connect);
	mosquitto_disconnect_v5_callback_set(m->mosq, on_disconnect);
	mosquitto_publish_callback_set(m->mosq, on_publish);
	mosquitto_message_v5_callback_set(m->mosq, on_message);
	mosquitto_log_callback_set(m->mosq, on_log);

	r = sd_event_add_time_relative(loop, &m->reconnect_timer, CLOCK_MONOTONIC, 0,
				       100 * FG_USEC_PER_MSEC, on_reconnect_timer, m);
	if (r < 0)
		goto fail;
	(void) sd_event_source_set_enabled(m->reconnect_timer, SD_EVENT_OFF);
	r = sd_event_add_time_relative(loop, &m->misc_timer, CLOCK_MONOTONIC, MISC_PERIOD_USEC,
				       100 * FG_USEC_PER_MSEC, on_misc_timer, m);
	if (r < 0)
		goto fail;
	(void) sd_event_source_set_enabled(m->misc_timer, SD_EVENT_ON);
	r = sd_event_add_time(loop, &m->lookup_timer, CLOCK_MONOTONIC, 0, 5 * FG_USEC_PER_MSEC,
			      on_lookup_timer, m);
	if (r < 0)
		goto fail;
	(void) sd_event_source_set_enabled(m->lookup_timer, SD_EVENT_OFF);

	fg_log_info("mqtt", "connecting to '%s' (MQTT %s%s)", m->endpoint,
		    m->cfg.protocol == FG_MQTT_V5 ? "5" : "3.1.1", m->cfg.tls ? ", TLS" : "");
	start_connect(m);
	*ret_mqtt = m;
	return 0;
fail:
	fg_mqtt_free(m);
	return r;
}

void fg_mqtt_free(struct fg_mqtt *m)
{
	if (!m)
		return;
	m->freeing = true;
	if (m->mosq && m->stats.state == FG_MQTT_CONNECTED) {
		/* A clean goodbye: the Will is not sent, so say offline ourselves. */
		char payload[256];
		int n = snprintf(payload, sizeof(payload), "{\"state\":\"offline\",\"gateway\":\"%s\"}",
				 m->gateway);

		(void) mosquitto_publish(m->mosq, NULL, m->status_topic, n, payload, 1, true);
		/* Bounded flush: a few writes, never a blocking wait on the network. */
		for (int i = 0; i < 10 && mosquitto_want_write(m->mosq); i++)
			(void) mosquitto_loop_write(m->mosq, 1);
		(void) mosquitto_disconnect(m->mosq);
		(void) mosquitto_loop_write(m->mosq, 1);
	}
	sd_event_source_disable_unref(m->io);
	sd_event_source_disable_unref(m->misc_timer);
	sd_event_source_disable_unref(m->reconnect_timer);
	sd_event_source_disable_unref(m->lookup_timer);
	lookup_drop(m);
	if (m->mosq)
		mosquitto_destroy(m->mosq);
	sd_event_unref(m->loop);
	free_config(&m->cfg);
	free(m->gateway);
	free(m->content_type);
	free(m->status_topic);
	for (size_t i = 0; i < m->n_subs; i++)
		free(m->subs[i].topic);
	free(m->window);
	free(m);
}
