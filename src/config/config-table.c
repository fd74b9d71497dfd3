/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "config/config-internal.h"
#include "config/config.h"
#include "core/log.h"
#include "gpio/gpio.h"

#define MSEC   1000ULL
#define MINUTE (60 * MSEC)
#define HOUR   (60 * MINUTE)
#define DAY    (24 * HOUR)
#define KIB    1024ULL
#define MIB    (1024 * KIB)
#define GIB    (1024 * MIB)
#define TIB    (1024 * GIB)

#define FIELD(member)                                                                              \
	.offset = offsetof(struct fg_config, member),                                              \
	.size = sizeof(((struct fg_config *) 0)->member)

#define NAME_CHARS "A-Z a-z 0-9 _ . -"

static const char *const log_level_names[] = {
	"error", "warning", "notice", "info", "debug", NULL
};
static const char *const overflow_names[] = {
	[FG_OVERFLOW_DROP_OLDEST] = "drop_oldest",
	[FG_OVERFLOW_DROP_NEWEST] = "drop_newest",
	NULL,
};
/* In the order of enum fg_format (sink/format.h). */
static const char *const format_names[] = {
	"senml",
	"json",
	NULL,
};
static const char *const region_names[] = {
	"EU868",
	"US915",
	"AS923",
	"AU915",
	NULL,
};
/* In the order of the enums in config.h. */
static const char *const sx130x_chip_names[] = {
	[FG_SX130X_SX1301] = "sx1301",
	[FG_SX130X_SX1302] = "sx1302",
	[FG_SX130X_SX1303] = "sx1303",
	NULL,
};
static const char *const sx130x_board_names[] = {
	[FG_SX130X_BOARD_NONE] = "none",
	[FG_SX130X_BOARD_RAK2245] = "rak2245",
	[FG_SX130X_BOARD_RAK2287] = "rak2287",
	[FG_SX130X_BOARD_RAK5146] = "rak5146",
	[FG_SX130X_BOARD_WM1302] = "wm1302",
	[FG_SX130X_BOARD_IC880A] = "ic880a",
	[FG_SX130X_BOARD_CORECELL] = "corecell",
	NULL,
};
static const char *const sx130x_radio_names[] = {
	[FG_SX130X_RADIO_SX1250] = "sx1250",
	[FG_SX130X_RADIO_SX1255] = "sx1255",
	[FG_SX130X_RADIO_SX1257] = "sx1257",
	NULL,
};
static const char *const unknown_names[] = {
	[FG_LORAWAN_UNKNOWN_DROP] = "drop",
	[FG_LORAWAN_UNKNOWN_FORWARD] = "forward",
	NULL,
};
static const char *const ble_mode_names[] = {
	[FG_BLE_MODE_AUTO] = "auto",
	[FG_BLE_MODE_PASSIVE] = "passive",
	[FG_BLE_MODE_ACTIVE] = "active",
	NULL,
};
static const char *const ble_unknown_names[] = {
	[FG_BLE_UNKNOWN_IGNORE] = "ignore",
	[FG_BLE_UNKNOWN_DECODE] = "decode",
	NULL,
};
static const char *const protocol_names[] = {
	[FG_MQTT_V311] = "v311",
	[FG_MQTT_V5] = "v5",
	NULL,
};

/* The placeholders a topic template may use; the MQTT sink fills them in. */
static const char *const topic_placeholders[] = { "gateway", "source",	 "device",
						  "name",    "quantity", NULL };

/* Only A-Z a-z 0-9 _ . - (gateway ids and device name prefixes end up in topics and file names). */
static bool check_name_chars(const char *s, char *detail, size_t len)
{
	return s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")] ==
	       '\0';
}

/* "IPv4:PORT" or "[IPv6]:PORT", numeric: a UDP listen address. */
static bool check_listen(const char *s, char *detail, size_t len)
{
	const char *colon = strrchr(s, ':');
	char host[64];
	unsigned char addr[16];
	size_t hl;
	char *end;
	unsigned long port;

	if (!colon || colon == s || !colon[1])
		return false;
	port = strtoul(colon + 1, &end, 10);
	if (*end || port > 65535 || colon[1] == '-' || colon[1] == '+')
		return false;
	hl = (size_t) (colon - s);
	if (s[0] == '[') {
		if (hl < 3 || s[hl - 1] != ']' || hl - 2 >= sizeof(host))
			return false;
		memcpy(host, s + 1, hl - 2);
		host[hl - 2] = '\0';
		return inet_pton(AF_INET6, host, addr) == 1;
	}
	if (hl >= sizeof(host))
		return false;
	memcpy(host, s, hl);
	host[hl] = '\0';
	return inet_pton(AF_INET, host, addr) == 1;
}

/* An absolute path: relative ones would depend on the daemon's working directory. */
static bool check_absolute_path(const char *s, char *detail, size_t len)
{
	return s[0] == '/';
}

/* Host names, IPv4 and IPv6 addresses (with an optional %zone). */
static bool check_host(const char *s, char *detail, size_t len)
{
	return s[strspn(s,
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-:%")] ==
	       '\0';
}

/* No ASCII control characters (they would corrupt log lines and protocol fields). */
static bool check_no_control(const char *s, char *detail, size_t len)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* Printable, no spaces: an ALPN protocol id such as "mqtt" or "x-amzn-mqtt-ca". */
static bool check_token(const char *s, char *detail, size_t len)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return false;
	return true;
}

/* Home Assistant's discovery prefix: a plain topic, no wildcards, no empty level at the end. */
static bool check_ha_prefix(const char *s, char *detail, size_t len)
{
	(void) detail;
	(void) len;
	return !strpbrk(s, "+#") && s[strlen(s) - 1] != '/' && s[0] != '/';
}

/* A publish topic template: known {placeholders} only, no MQTT wildcards. */
bool fg_config_check_topic(const char *s, char *detail, size_t len)
{
	for (const char *p = s; *p; p++) {
		if (*p == '+' || *p == '#') {
			(void) snprintf(detail, len, "the MQTT wildcard '%c' is not allowed", *p);
			return false;
		}
		if (*p == '}') {
			(void) snprintf(detail, len, "'}' without '{'");
			return false;
		}
		if (*p != '{')
			continue;

		const char *end = strpbrk(p + 1, "{}");
		bool known = false;

		if (!end || *end != '}') {
			(void) snprintf(detail, len, "'{' without '}'");
			return false;
		}
		for (size_t i = 0; topic_placeholders[i]; i++)
			if ((size_t) (end - p - 1) == strlen(topic_placeholders[i]) &&
			    strncmp(p + 1, topic_placeholders[i], (size_t) (end - p - 1)) == 0)
				known = true;
		if (!known) {
			(void) snprintf(
				detail, len,
				"unknown placeholder '%.*s'; use {gateway}, {source}, {device}, "
				"{name} or {quantity}",
				(int) (end - p + 1 > 40 ? 40 : end - p + 1), p);
			return false;
		}
		p = end;
	}
	return true;
}

/* A topic whose only placeholder is {gateway}: it belongs to the gateway, not to a reading. */
static bool check_gateway_topic(const char *s, char *detail, size_t len, const char *what)
{
	if (!fg_config_check_topic(s, detail, len))
		return false;
	for (const char *p = strchr(s, '{'); p; p = strchr(p + 1, '{'))
		if (strncmp(p, "{gateway}", 9) != 0) {
			(void) snprintf(detail, len, "only {gateway} may be used in the %s", what);
			return false;
		}
	return true;
}

/*
 * The command topic prefix: {gateway} only, no wildcards, and a '/' at the
 * end, since the sink subscribes to the prefix followed by '#' and names the
 * commands below it (down/push, down/replace, gpio).
 */
static bool check_command_topic(const char *s, char *detail, size_t len)
{
	if (!check_gateway_topic(s, detail, len, "command topic"))
		return false;
	if (s[strlen(s) - 1] != '/') {
		(void) snprintf(detail, len, "it must end in '/'");
		return false;
	}
	return true;
}

/* The topic of command outcomes: a plain topic of this gateway. */
static bool check_event_topic(const char *s, char *detail, size_t len)
{
	return check_gateway_topic(s, detail, len, "event topic");
}

/* The stats topic: a topic template with no placeholder but {gateway} (it is no reading's). */
static bool check_stats_topic(const char *s, char *detail, size_t len)
{
	return check_gateway_topic(s, detail, len, "stats topic");
}

/* A GPIO line: "CHIP:LINE", "LINE" (on gpiochip0) or "none" (gpio/gpio.h). */
static bool check_gpio_spec(const char *s, char *detail, size_t len)
{
	char chip[64];
	unsigned line;

	return fg_gpio_spec_parse(s, chip, sizeof(chip), &line) >= 0;
}

/* A systemd credential name: a file name in $CREDENTIALS_DIRECTORY. */
static bool check_credential_name(const char *s, char *detail, size_t len)
{
	return !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
	       check_no_control(s, detail, len);
}

const struct fg_config_row fg_config_table[] = {
	/* gateway */
	{ .path = "gateway.id",
	  .type = FG_CT_STRING,
	  FIELD(gateway.id),
	  .min = 1,
	  .max = 64,
	  .check = check_name_chars,
	  .expect = "1..64 characters from " NAME_CHARS,
	  .help = "name of this gateway in topics, the MQTT client id and logs; default: the "
		  "host name, or the concentrator's EUI" },
	{ .path = "gateway.state_dir",
	  .type = FG_CT_STRING,
	  FIELD(gateway.state_dir),
	  .min = 1,
	  .max = 4095,
	  .check = check_absolute_path,
	  .expect = "an absolute path",
	  .def_str = LOCALSTATEDIR "/lib/fieldgate",
	  .help = "directory for the buffer and other state" },
	{ .path = "gateway.runtime_dir",
	  .type = FG_CT_STRING,
	  FIELD(gateway.runtime_dir),
	  .min = 1,
	  .max = 80,
	  .check = check_absolute_path,
	  .expect = "an absolute path of at most 80 bytes",
	  .def_str = RUNSTATEDIR "/fieldgate",
	  .help = "directory of the control socket that fieldgatectl talks to" },
	{ .path = "gateway.log_level",
	  .type = FG_CT_ENUM,
	  FIELD(gateway.log_level),
	  .names = log_level_names,
	  .from_string = fg_log_level_from_string,
	  .def = LOG_INFO,
	  .help = "most verbose level logged" },
	{ .path = "gateway.trust_system_clock",
	  .type = FG_CT_BOOL,
	  FIELD(gateway.trust_system_clock),
	  .def = false,
	  .help = "take the system clock as correct without waiting for time synchronization" },

	/* buffer */
	{ .path = "buffer.path",
	  .type = FG_CT_STRING,
	  FIELD(buffer.path),
	  .min = 1,
	  .max = 4095,
	  .check = check_absolute_path,
	  .expect = "an absolute path",
	  .help = "SQLite database holding readings until delivered; default: "
		  "state_dir/buffer.db" },
	{ .path = "buffer.commit_interval_ms",
	  .type = FG_CT_INT,
	  FIELD(buffer.commit_interval_ms),
	  .min = 10,
	  .max = 10000,
	  .def = 100,
	  .help = "milliseconds between commits; a crash of the daemon loses at most this much" },
	{ .path = "buffer.sync_interval_ms",
	  .type = FG_CT_INT,
	  FIELD(buffer.sync_interval_ms),
	  .min = 0,
	  .max = 60000,
	  .def = 1000,
	  .help = "milliseconds a commit may wait before it is synced to the disk (0: at once); "
		  "a power cut loses at most commit_interval_ms plus this" },
	{ .path = "buffer.commit_batch",
	  .type = FG_CT_INT,
	  FIELD(buffer.commit_batch),
	  .min = 1,
	  .max = 100000,
	  .def = 1000,
	  .help = "readings that force a commit before the interval" },
	{ .path = "buffer.max_rows",
	  .type = FG_CT_INT,
	  FIELD(buffer.max_rows),
	  .min = 1000,
	  .max = 100000000,
	  .def = 1000000,
	  .help = "readings kept before evicting" },
	{ .path = "buffer.max_bytes",
	  .type = FG_CT_SIZE,
	  FIELD(buffer.max_bytes),
	  .min = MIB,
	  .max = TIB,
	  .def = 256 * MIB,
	  .help = "database size, WAL included, kept before evicting" },
	{ .path = "buffer.min_free",
	  .type = FG_CT_SIZE,
	  FIELD(buffer.min_free),
	  .min = 0,
	  .max = TIB,
	  .def = 32 * MIB,
	  .help = "free space left on the buffer's filesystem; below it the buffer evicts" },
	{ .path = "buffer.max_age",
	  .type = FG_CT_DURATION,
	  FIELD(buffer.max_age_s),
	  .min = 0,
	  .max = 3650 * DAY,
	  .def = 30 * DAY,
	  .unit_ms = 1000,
	  .help = "age after which undelivered readings are evicted; 0: no limit" },
	{ .path = "buffer.overflow",
	  .type = FG_CT_ENUM,
	  FIELD(buffer.overflow),
	  .names = overflow_names,
	  .def = FG_OVERFLOW_DROP_OLDEST,
	  .help = "which readings to evict when a bound is reached" },

	/* mqtt */
	{ .path = "mqtt.host",
	  .type = FG_CT_STRING,
	  FIELD(mqtt.host),
	  .min = 1,
	  .max = 253,
	  .check = check_host,
	  .expect = "a host name or IP address",
	  .def_str = "localhost",
	  .help = "broker host name or address" },
	{ .path = "mqtt.port",
	  .type = FG_CT_INT,
	  FIELD(mqtt.port),
	  .min = 1,
	  .max = 65535,
	  .def = 1883,
	  .help = "broker port; default: 1883, or 8883 with TLS" },
	{ .path = "mqtt.client_id",
	  .type = FG_CT_STRING,
	  FIELD(mqtt.client_id),
	  .min = 1,
	  .max = 128,
	  .check = check_no_control,
	  .expect = "1..128 characters without control characters",
	  .help = "MQTT client identifier; default: \"fieldgate-\" and gateway.id" },
	{ .path = "mqtt.protocol",
	  .type = FG_CT_ENUM,
	  FIELD(mqtt.protocol),
	  .names = protocol_names,
	  .def = FG_MQTT_V311,
	  .help = "MQTT protocol version" },
	{ .path = "mqtt.keepalive",
	  .type = FG_CT_DURATION,
	  FIELD(mqtt.keepalive_s),
	  .min = 5 * MSEC,
	  .max = HOUR,
	  .def = 60 * MSEC,
	  .unit_ms = 1000,
	  .help = "interval of keepalive pings" },
	{ .path = "mqtt.session_expiry",
	  .type = FG_CT_DURATION,
	  FIELD(mqtt.session_expiry_s),
	  .min = 0,
	  .max = UINT32_MAX * MSEC,
	  .def = DAY,
	  .unit_ms = 1000,
	  .help = "MQTT 5: how long the broker keeps the session while disconnected" },
	{ .path = "mqtt.username",
	  .type = FG_CT_STRING,
	  FIELD(mqtt.username),
	  .min = 1,
	  .max = 65535,
	  .check = check_no_control,
	  .expect = "a non-empty name without control characters",
	  .help = "user name to log in with; default: none" },
	{ .path = "mqtt.password",
	  .type = FG_CT_STRING,
	  .flags = FG_CONFIG_SECRET,
	  FIELD(mqtt.password),
	  .min = 1,
	  .max = FG_CONFIG_SECRET_MAX,
	  .expect = "a non-empty secret of at most 4096 bytes",
	  .help = "password to log in with; default: none" },
	{ .path = "mqtt.password_file",
	  .type = FG_CT_SECRET_FILE,
	  FIELD(mqtt.password),
	  .min = 1,
	  .max = 4095,
	  .check = check_absolute_path,
	  .expect = "an absolute path",
	  .secret_of = "mqtt.password",
	  .help = "file holding mqtt.password" },
	{ .path = "mqtt.password_credential",
	  .type = FG_CT_SECRET_CREDENTIAL,
	  FIELD(mqtt.password),
	  .min = 1,
	  .max = 255,
	  .check = check_credential_name,
	  .expect = "a credential name without '/'",
	  .secret_of = "mqtt.password",
	  .help = "systemd credential holding mqtt.password" },
	{ .path = "mqtt.qos",
	  .type = FG_CT_INT,
	  FIELD(mqtt.qos),
	  .min = 0,
	  .max = 2,
	  .def = 1,
	  .help = "QoS of published readings" },
	{ .path = "mqtt.max_inflight",
	  .type = FG_CT_INT,
	  FIELD(mqtt.max_inflight),
	  .min = 1,
	  .max = 65535,
	  .def = 100,
	  .help = "messages published but not yet acknowledged" },
	{ .path = "mqtt.topic",
	  .type = FG_CT_STRING,
	  FIELD(mqtt.topic),
	  .min = 1,
	  .max = 1024,
	  .check = fg_config_check_topic,
	  .expect = "a topic such as 'fieldgate/{gateway}/{source}/{device}'",
	  .def_str = "fieldgate/{gateway}/{source}/{device}",
	  .help = "topic template for readings" },
	{ .path = "mqtt.message_expiry",
	  .type = FG_CT_DURATION,
	  FIELD(mqtt.message_expiry_s),
	  .min = 0,
	  .max = UINT32_MAX * MSEC,
	  .def = 0,
	  .unit_ms = 1000,
	  .help = "MQTT 5: how long the broker keeps an undelivered message; 0: for ever" },
	{ .path = "mqtt.format",
	  .type = FG_CT_ENUM,
	  FIELD(mqtt.format),
	  .names = format_names,
	  .def = 0,
	  .help = "payload format: SenML JSON (RFC 8428) or a flat JSON object per frame" },
	{ .path = "mqtt.stats_interval",
	  .type = FG_CT_DURATION,
	  FIELD(mqtt.stats_interval_s),
	  .min = 0,
	  .max = 86400 * MSEC,
	  .def = 60 * MSEC,
	  .unit_ms = 1000,
	  .help = "how often the gateway's health record is published; 0: never" },
	{ .path = "mqtt.stats_topic",
	  .type = FG_CT_STRING,
	  FIELD(mqtt.stats_topic),
	  .min = 1,
	  .max = 1024,
	  .check = check_stats_topic,
	  .expect = "a topic such as 'fieldgate/{gateway}/stats'",
	  .def_str = "fieldgate/{gateway}/stats",
	  .help = "topic of the health record (retained, QoS 1); {gateway} is the gateway id" },
	{ .path = "mqtt.homeassistant",
	  .type = FG_CT_BOOL,
	  FIELD(mqtt.homeassistant),
	  .def = false,
	  .help = "publish Home Assistant MQTT discovery configs (retained) for each sensor" },
	{ .path = "mqtt.homeassistant_prefix",
	  .type = FG_CT_STRING,
	  FIELD(mqtt.homeassistant_prefix),
	  .min = 1,
	  .max = 255,
	  .check = check_ha_prefix,
	  .expect = "a topic prefix without wildcards or a trailing '/'",
	  .def_str = "homeassistant",
	  .help = "Home Assistant's discovery prefix" },
	{ .path = "mqtt.tls",
	  .type = FG_CT_BOOL,
	  FIELD(mqtt.tls),
	  .def = false,
	  .help = "connect with TLS; default: true when any other TLS setting is given" },
	{ .path = "mqtt.ca_file",
	  .type = FG_CT_STRING,
	  FIELD(mqtt.ca_file),
	  .min = 1,
	  .max = 4095,
	  .check = check_absolute_path,
	  .expect = "an absolute path",
	  .help = "PEM file of CA certificates to verify the broker" },
	{ .path = "mqtt.ca_path",
	  .type = FG_CT_STRING,
	  FIELD(mqtt.ca_path),
	  .min = 1,
	  .max = 4095,
	  .check = check_absolute_path,
	  .expect = "an absolute path",
	  .help = "directory of hashed CA certificates to verify the broker" },
	{ .path = "mqtt.cert_file",
	  .type = FG_CT_STRING,
	  FIELD(mqtt.cert_file),
	  .min = 1,
	  .max = 4095,
	  .check = check_absolute_path,
	  .expect = "an absolute path",
	  .help = "PEM client certificate; needs mqtt.key_file" },
	{ .path = "mqtt.key_file",
	  .type = FG_CT_STRING,
	  FIELD(mqtt.key_file),
	  .min = 1,
	  .max = 4095,
	  .check = check_absolute_path,
	  .expect = "an absolute path",
	  .help = "PEM private key of the client certificate; needs mqtt.cert_file" },
	{ .path = "mqtt.alpn",
	  .type = FG_CT_STRING,
	  FIELD(mqtt.alpn),
	  .min = 1,
	  .max = 255,
	  .check = check_token,
	  .expect = "1..255 printable characters without spaces",
	  .help = "ALPN protocol to offer in the TLS handshake" },
	{ .path = "mqtt.tls_insecure",
	  .type = FG_CT_BOOL,
	  FIELD(mqtt.tls_insecure),
	  .def = false,
	  .help = "do not check that the broker's certificate names mqtt.host" },

	/* sources.sim */
	/* metrics */
	{ .path = "metrics.textfile",
	  .type = FG_CT_STRING,
	  FIELD(metrics.textfile),
	  .min = 1,
	  .max = 4095,
	  .check = check_absolute_path,
	  .expect = "an absolute path",
	  .help = "write the metrics (Prometheus text) to this file for node_exporter's textfile "
		  "collector; default: none" },
	{ .path = "metrics.interval",
	  .type = FG_CT_DURATION,
	  FIELD(metrics.interval_s),
	  .min = 5 * MSEC,
	  .max = 86400 * MSEC,
	  .def = 15 * MSEC,
	  .unit_ms = 1000,
	  .help = "how often metrics.textfile is written" },
	{ .path = "sources.sim.enabled",
	  .type = FG_CT_BOOL,
	  FIELD(sources.sim.enabled),
	  .def = false,
	  .help = "run the simulated source" },
	{ .path = "sources.sim.devices",
	  .type = FG_CT_INT,
	  FIELD(sources.sim.devices),
	  .min = 1,
	  .max = 10000,
	  .def = 3,
	  .help = "number of simulated devices" },
	{ .path = "sources.sim.interval_ms",
	  .type = FG_CT_INT,
	  FIELD(sources.sim.interval_ms),
	  .min = 1,
	  .max = 86400000,
	  .def = 10000,
	  .help = "milliseconds between two reports of one device" },
	{ .path = "sources.sim.seed",
	  .type = FG_CT_INT,
	  FIELD(sources.sim.seed),
	  .min = 0,
	  .max = UINT64_MAX,
	  .def = 0,
	  .help = "random seed for reproducible values; 0: from the clock" },
	{ .path = "sources.sim.name_prefix",
	  .type = FG_CT_STRING,
	  FIELD(sources.sim.name_prefix),
	  .min = 0,
	  .max = 32,
	  .check = check_name_chars,
	  .expect = "0..32 characters from " NAME_CHARS,
	  .def_str = "sim-",
	  .help = "prefix of the simulated devices' names" },
	{ .path = "sources.sim.lorawan",
	  .type = FG_CT_BOOL,
	  FIELD(sources.sim.lorawan),
	  .def = false,
	  .help = "also send encrypted LoRaWAN frames for lorawan.devices through the decoder" },
	{ .path = "sources.sim.ble",
	  .type = FG_CT_BOOL,
	  FIELD(sources.sim.ble),
	  .def = false,
	  .help = "also send BLE advertisements for ble.devices through the decoders" },

	/* sources.gwmp */
	{ .path = "sources.gwmp.enabled",
	  .type = FG_CT_BOOL,
	  FIELD(sources.gwmp.enabled),
	  .def = false,
	  .help = "listen for a Semtech UDP packet forwarder" },
	{ .path = "sources.gwmp.listen",
	  .type = FG_CT_STRING,
	  FIELD(sources.gwmp.listen),
	  .min = 3,
	  .max = 64,
	  .check = check_listen,
	  .expect = "a numeric address and port, \"127.0.0.1:1700\" or \"[::1]:1700\"",
	  .def_str = "127.0.0.1:1700",
	  .help = "UDP address the packet forwarder sends to" },
	{ .path = "sources.gwmp.accept_no_crc",
	  .type = FG_CT_BOOL,
	  FIELD(sources.gwmp.accept_no_crc),
	  .def = false,
	  .help = "take frames the concentrator received without a CRC (stat 0)" },

	/* sources.sx130x (board facts and their sources: src/source/sx130x-conf.c) */
	{ .path = "sources.sx130x.enabled",
	  .type = FG_CT_BOOL,
	  FIELD(sources.sx130x.enabled),
	  .def = false,
	  .help = "drive an SX1301/SX1302/SX1303 concentrator on SPI (needs a build with "
		  "libloragw)" },
	{ .path = "sources.sx130x.spi",
	  .type = FG_CT_STRING,
	  FIELD(sources.sx130x.spi),
	  .min = 1,
	  .max = 63,
	  .check = check_absolute_path,
	  .expect = "an absolute device path such as \"/dev/spidev0.0\"",
	  .def_str = "/dev/spidev0.0",
	  .help = "SPI device of the concentrator (the SX1301 HAL always opens /dev/spidev0.0)" },
	{ .path = "sources.sx130x.board",
	  .type = FG_CT_ENUM,
	  FIELD(sources.sx130x.board),
	  .names = sx130x_board_names,
	  .def = FG_SX130X_BOARD_NONE,
	  .help = "board preset: reset and power lines, clock source, radio type and chip" },
	{ .path = "sources.sx130x.chip",
	  .type = FG_CT_ENUM,
	  FIELD(sources.sx130x.chip),
	  .names = sx130x_chip_names,
	  .def = FG_SX130X_SX1302,
	  .help = "concentrator chip; default: the board's, else sx1302" },
	{ .path = "sources.sx130x.reset_gpio",
	  .type = FG_CT_STRING,
	  FIELD(sources.sx130x.reset_gpio),
	  .min = 1,
	  .max = 64,
	  .check = check_gpio_spec,
	  .expect =
		  "\"CHIP:LINE\" (e.g. \"gpiochip0:17\"), a line number on gpiochip0, or \"none\"",
	  .help = "GPIO line of the concentrator's reset (active high); default: the board's" },
	{ .path = "sources.sx130x.power_gpio",
	  .type = FG_CT_STRING,
	  FIELD(sources.sx130x.power_gpio),
	  .min = 1,
	  .max = 64,
	  .check = check_gpio_spec,
	  .expect =
		  "\"CHIP:LINE\" (e.g. \"gpiochip0:18\"), a line number on gpiochip0, or \"none\"",
	  .help = "GPIO line enabling the concentrator's power (driven high); default: the "
		  "board's" },
	{ .path = "sources.sx130x.clock_source",
	  .type = FG_CT_INT,
	  FIELD(sources.sx130x.clock_source),
	  .min = 0,
	  .max = 1,
	  .def = 0,
	  .help = "radio (0 or 1) that clocks the concentrator; default: the board's" },
	{ .path = "sources.sx130x.radio_type",
	  .type = FG_CT_ENUM,
	  FIELD(sources.sx130x.radio_type),
	  .names = sx130x_radio_names,
	  .def = FG_SX130X_RADIO_SX1250,
	  .help = "type of both radios; default: the board's" },
	{ .path = "sources.sx130x.region",
	  .type = FG_CT_ENUM,
	  FIELD(sources.sx130x.region),
	  .names = region_names,
	  .def = 0,
	  .help = "region whose channel plan the concentrator listens on; default: "
		  "lorawan.region" },
	{ .path = "sources.sx130x.sub_band",
	  .type = FG_CT_INT,
	  FIELD(sources.sx130x.sub_band),
	  .min = 1,
	  .max = 8,
	  .def = 2,
	  .help = "US915 and AU915: the sub-band of 8 channels (and its 500 kHz channel) heard" },
	{ .path = "sources.sx130x.radio_0_freq",
	  .type = FG_CT_INT,
	  FIELD(sources.sx130x.radio_0_freq),
	  .min = 0,
	  .max = 1020000000,
	  .def = 0,
	  .help = "centre frequency of radio 0 in Hz; 0: the region plan's" },
	{ .path = "sources.sx130x.radio_1_freq",
	  .type = FG_CT_INT,
	  FIELD(sources.sx130x.radio_1_freq),
	  .min = 0,
	  .max = 1020000000,
	  .def = 0,
	  .help = "centre frequency of radio 1 in Hz; 0: the region plan's" },
	{ .path = "sources.sx130x.rssi_offset",
	  .type = FG_CT_REAL,
	  FIELD(sources.sx130x.rssi_offset),
	  .rmin = -300,
	  .rmax = 300,
	  .rdef = -215.4,
	  .help = "RSSI correction of the board in dB; default: the radio type's (SX1250 -215.4, "
		  "SX1255/SX1257 -166)" },
	{ .path = "sources.sx130x.antenna_gain",
	  .type = FG_CT_REAL,
	  FIELD(sources.sx130x.antenna_gain),
	  .rmin = -20,
	  .rmax = 30,
	  .rdef = 0,
	  .help = "antenna gain in dBi, taken off the power of each transmission" },
	{ .path = "sources.sx130x.stat_interval",
	  .type = FG_CT_DURATION,
	  FIELD(sources.sx130x.stat_interval_s),
	  .min = 0,
	  .max = 86400 * MSEC,
	  .def = 60 * MSEC,
	  .unit_ms = 1000,
	  .help = "how often the concentrator's counters become gateway readings; 0: never" },

	/* sources.ble */
	{ .path = "sources.ble.enabled",
	  .type = FG_CT_BOOL,
	  FIELD(sources.ble.enabled),
	  .def = false,
	  .help = "listen to BLE advertisements through BlueZ" },
	{ .path = "sources.ble.adapter",
	  .type = FG_CT_STRING,
	  FIELD(sources.ble.adapter),
	  .min = 1,
	  .max = 16,
	  .check = check_name_chars,
	  .expect = "an adapter name such as \"hci0\"",
	  .def_str = "hci0",
	  .help = "the Bluetooth adapter" },
	{ .path = "sources.ble.mode",
	  .type = FG_CT_ENUM,
	  FIELD(sources.ble.mode),
	  .names = ble_mode_names,
	  .def = FG_BLE_MODE_AUTO,
	  .help = "passive scanning (AdvertisementMonitor), active (discovery), or auto" },
	{ .path = "sources.ble.bus",
	  .type = FG_CT_STRING,
	  FIELD(sources.ble.bus),
	  .min = 1,
	  .max = 255,
	  .expect = "a D-Bus address such as \"unix:path=/run/dbus/system_bus_socket\"",
	  .help = "D-Bus address of bluetoothd's bus; default the system bus" },

	/* ble */
	{ .path = "ble.unknown",
	  .type = FG_CT_ENUM,
	  FIELD(ble.unknown),
	  .names = ble_unknown_names,
	  .def = FG_BLE_UNKNOWN_IGNORE,
	  .help = "advertisers not in ble.devices: ignore, or decode those in a known format" },
	{ .path = "ble.min_interval",
	  .type = FG_CT_DURATION,
	  FIELD(ble.min_interval_s),
	  .min = 0,
	  .max = 24 * HOUR,
	  .def = 60 * MSEC,
	  .unit_ms = 1000,
	  .help = "at most one reading per device per interval" },
	{ .path = "ble.forget_after",
	  .type = FG_CT_DURATION,
	  FIELD(ble.forget_after_s),
	  .min = 60 * MSEC,
	  .max = 7 * 24 * HOUR,
	  .def = 10 * MINUTE,
	  .unit_ms = 1000,
	  .help = "remove devices we do not use from bluetoothd after this long unseen" },

	/* lorawan */
	{ .path = "lorawan.region",
	  .type = FG_CT_ENUM,
	  FIELD(lorawan.region),
	  .names = region_names,
	  .def = 0,
	  .help = "region whose data-rate table names a frame's DR" },
	{ .path = "lorawan.max_fcnt_gap",
	  .type = FG_CT_INT,
	  FIELD(lorawan.max_fcnt_gap),
	  .min = 1,
	  .max = 2147483647,
	  .def = 16384,
	  .help = "largest jump of a device's frame counter that is accepted" },
	{ .path = "lorawan.unknown",
	  .type = FG_CT_ENUM,
	  FIELD(lorawan.unknown),
	  .names = unknown_names,
	  .def = FG_LORAWAN_UNKNOWN_DROP,
	  .help = "frames from DevAddrs without a session: drop, or forward raw" },
	{ .path = "lorawan.net_id",
	  .type = FG_CT_INT,
	  FIELD(lorawan.net_id),
	  .min = 0,
	  .max = 0xFFFFFF,
	  .def = 0,
	  .help = "24-bit NetID whose DevAddr prefix joined devices get" },
	{ .path = "lorawan.sub_band",
	  .type = FG_CT_INT,
	  FIELD(lorawan.sub_band),
	  .min = 1,
	  .max = 8,
	  .def = 2,
	  .help = "US915 and AU915: the sub-band of 8 channels devices are told to use (CFList, "
		  "LinkADRReq); the default of sources.sx130x.sub_band" },
	{ .path = "lorawan.confirmed_retries",
	  .type = FG_CT_INT,
	  FIELD(lorawan.confirmed_retries),
	  .min = 0,
	  .max = 15,
	  .def = 3,
	  .help = "times a confirmed downlink without ACK is sent again before its outcome is "
		  "nack" },

	/* commands (from the cloud; the list commands.gpio is in config-lists.c) */
	{ .path = "commands.enabled",
	  .type = FG_CT_BOOL,
	  FIELD(commands.enabled),
	  .def = false,
	  .help = "act on commands published under commands.topic (needs TLS and credentials "
		  "unless commands.allow_insecure)" },
	{ .path = "commands.topic",
	  .type = FG_CT_STRING,
	  FIELD(commands.topic),
	  .min = 1,
	  .max = 1024,
	  .check = check_command_topic,
	  .expect = "a topic prefix ending in '/' such as 'fieldgate/{gateway}/command/'",
	  .def_str = "fieldgate/{gateway}/command/",
	  .help = "prefix of the command topics (down/push, down/replace, gpio); {gateway} is the "
		  "gateway id" },
	{ .path = "commands.event_topic",
	  .type = FG_CT_STRING,
	  FIELD(commands.event_topic),
	  .min = 1,
	  .max = 1024,
	  .check = check_event_topic,
	  .expect = "a topic such as 'fieldgate/{gateway}/event/command'",
	  .def_str = "fieldgate/{gateway}/event/command",
	  .help = "topic of the commands' outcomes (QoS 1, through the buffer); not under "
		  "commands.topic" },
	{ .path = "commands.allow_insecure",
	  .type = FG_CT_BOOL,
	  FIELD(commands.allow_insecure),
	  .def = false,
	  .help = "take commands over a connection without TLS or without credentials (a warning "
		  "instead of an error)" },
	{ .path = "commands.max_size",
	  .type = FG_CT_SIZE,
	  FIELD(commands.max_size),
	  .min = 256,
	  .max = 64 * KIB,
	  .def = 4 * KIB,
	  .help = "largest command message; a longer one fails as too-large" },
	{ .path = "commands.max_queue_per_device",
	  .type = FG_CT_INT,
	  FIELD(commands.max_queue_per_device),
	  .min = 1,
	  .max = 1000,
	  .def = 16,
	  .help = "downlinks queued for one device; one more fails as queue-full" },
	{ .path = "commands.max_queued",
	  .type = FG_CT_INT,
	  FIELD(commands.max_queued),
	  .min = 1,
	  .max = 100000,
	  .def = 1024,
	  .help = "downlinks queued for all devices together" },
	{ .path = "commands.keep_ids_s",
	  .type = FG_CT_INT,
	  FIELD(commands.keep_ids_s),
	  .min = 60,
	  .max = 31536000,
	  .def = 604800,
	  .help = "seconds a finished command's id is remembered, so that a redelivery is not done "
		  "again" },
};

const size_t fg_config_table_size = sizeof(fg_config_table) / sizeof(fg_config_table[0]);

/*
 * The same paths as the table, in the same order (C cannot take them from the
 * table in a constant initializer); the unit test compares the two.
 */
static const char *const setting_names[] = {
	"gateway.id",
	"gateway.state_dir",
	"gateway.runtime_dir",
	"gateway.log_level",
	"gateway.trust_system_clock",
	"buffer.path",
	"buffer.commit_interval_ms",
	"buffer.sync_interval_ms",
	"buffer.commit_batch",
	"buffer.max_rows",
	"buffer.max_bytes",
	"buffer.min_free",
	"buffer.max_age",
	"buffer.overflow",
	"mqtt.host",
	"mqtt.port",
	"mqtt.client_id",
	"mqtt.protocol",
	"mqtt.keepalive",
	"mqtt.session_expiry",
	"mqtt.username",
	"mqtt.password",
	"mqtt.password_file",
	"mqtt.password_credential",
	"mqtt.qos",
	"mqtt.max_inflight",
	"mqtt.topic",
	"mqtt.message_expiry",
	"mqtt.format",
	"mqtt.stats_interval",
	"mqtt.stats_topic",
	"mqtt.homeassistant",
	"mqtt.homeassistant_prefix",
	"mqtt.tls",
	"mqtt.ca_file",
	"mqtt.ca_path",
	"mqtt.cert_file",
	"mqtt.key_file",
	"mqtt.alpn",
	"mqtt.tls_insecure",
	"metrics.textfile",
	"metrics.interval",
	"sources.sim.enabled",
	"sources.sim.devices",
	"sources.sim.interval_ms",
	"sources.sim.seed",
	"sources.sim.name_prefix",
	"sources.sim.lorawan",
	"sources.sim.ble",
	"sources.gwmp.enabled",
	"sources.gwmp.listen",
	"sources.gwmp.accept_no_crc",
	"sources.sx130x.enabled",
	"sources.sx130x.spi",
	"sources.sx130x.board",
	"sources.sx130x.chip",
	"sources.sx130x.reset_gpio",
	"sources.sx130x.power_gpio",
	"sources.sx130x.clock_source",
	"sources.sx130x.radio_type",
	"sources.sx130x.region",
	"sources.sx130x.sub_band",
	"sources.sx130x.radio_0_freq",
	"sources.sx130x.radio_1_freq",
	"sources.sx130x.rssi_offset",
	"sources.sx130x.antenna_gain",
	"sources.sx130x.stat_interval",
	"sources.ble.enabled",
	"sources.ble.adapter",
	"sources.ble.mode",
	"sources.ble.bus",
	"ble.unknown",
	"ble.min_interval",
	"ble.forget_after",
	"lorawan.region",
	"lorawan.max_fcnt_gap",
	"lorawan.unknown",
	"lorawan.net_id",
	"lorawan.sub_band",
	"lorawan.confirmed_retries",
	"commands.enabled",
	"commands.topic",
	"commands.event_topic",
	"commands.allow_insecure",
	"commands.max_size",
	"commands.max_queue_per_device",
	"commands.max_queued",
	"commands.keep_ids_s",
	NULL,
};

_Static_assert(sizeof(setting_names) / sizeof(setting_names[0]) ==
		       sizeof(fg_config_table) / sizeof(fg_config_table[0]) + 1,
	       "setting_names must list every row of fg_config_table");

const char *const *fg_config_setting_names(void)
{
	return setting_names;
}

const struct fg_config_row *fg_config_row_find(const char *path)
{
	for (size_t i = 0; i < fg_config_table_size; i++)
		if (strcmp(fg_config_table[i].path, path) == 0)
			return &fg_config_table[i];
	return NULL;
}

/* Print a value in the largest unit that divides it exactly. */
static void format_units(uint64_t v, const uint64_t *mult, const char *const *unit, size_t n,
			 char *buf, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (v == 0 || v % mult[i] == 0) {
			(void) snprintf(buf, len, "%" PRIu64 "%s", v / mult[i], v ? unit[i] : "");
			return;
		}
}

void fg_config_format_duration(uint64_t ms, char *buf, size_t len)
{
	static const uint64_t mult[] = { DAY, HOUR, MINUTE, MSEC, 1 };
	static const char *const unit[] = { "d", "h", "m", "s", "ms" };

	format_units(ms, mult, unit, 5, buf, len);
}

void fg_config_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const uint64_t mult[] = { TIB, GIB, MIB, KIB, 1 };
	static const char *const unit[] = { "T", "G", "M", "K", "" };

	format_units(bytes, mult, unit, 5, buf, len);
}
