/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Configuration: libconfig text in, a plain, fully-defaulted struct out.
 * This module is the only one that includes <libconfig.h>. The same
 * fg_config_load() serves the daemon at start, SIGHUP reload and
 * `fieldgatectl check-config`.
 *
 * Every setting is a row of one table (config-table.c): path, type, default,
 * range or enum names, whether it is a secret, where it lands in the struct,
 * and one line of help. The walk over that table gives defaults, type and
 * range checks, unknown-key errors with "did you mean", and the list the
 * documentation test compares with conf/fieldgate.conf and the man page.
 *
 * Secrets (FG_CONFIG_SECRET rows, e.g. mqtt.password) can be given three
 * ways, at most one of them: the value itself (`password = "..."`), a file
 * holding it (`password_file = "/etc/fieldgate/mqtt.pass"`), or a systemd
 * credential name (`password_credential = "mqtt-password"`, read from
 * $CREDENTIALS_DIRECTORY/mqtt-password). A trailing newline in a file is
 * dropped. A literal secret in a file that others can read gives a warning.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "codec/codec.h"

#define FG_CONFIG_DEFAULT_PATH SYSCONFDIR "/fieldgate/fieldgate.conf"

enum fg_diag_severity {
	FG_DIAG_ERROR,
	FG_DIAG_WARNING,
};

/* One finding about a configuration file. line is 0 when not tied to a line. */
struct fg_diag {
	enum fg_diag_severity severity;
	char *file;
	int line;
	char *setting; /* dotted path, e.g. "mqtt.port"; NULL for file-level problems */
	char *message;
};

/* A growable list of findings; zero-initialise, then fg_diags_clear() to free. */
struct fg_diags {
	struct fg_diag *v;
	size_t n;
	size_t cap;
};

void fg_diags_clear(struct fg_diags *d);
/* Append a finding; returns 0 or -ENOMEM. */
int fg_diags_add(struct fg_diags *d, enum fg_diag_severity sev, const char *file, int line,
		 const char *setting, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
size_t fg_diags_count(const struct fg_diags *d, enum fg_diag_severity sev);
/*
 * Format one finding as
 *   "FILE:LINE: SETTING: MESSAGE"            (errors)
 *   "FILE:LINE: warning: SETTING: MESSAGE"   (warnings)
 * leaving out ":LINE" when line is 0 and "SETTING: " when there is none.
 * Returns a malloc'd string or NULL.
 */
char *fg_diag_format(const struct fg_diag *d);
/* Print every finding, one per line. */
void fg_diags_print(const struct fg_diags *d, FILE *f);

enum fg_buffer_overflow {
	FG_OVERFLOW_DROP_OLDEST,
	FG_OVERFLOW_DROP_NEWEST,
};

enum fg_mqtt_protocol {
	FG_MQTT_V311,
	FG_MQTT_V5,
};

struct fg_gateway_config {
	char *id;                 /* default: the host name; [A-Za-z0-9_.-], 1..64 */
	bool id_default;          /* id is the host name: the file gave none */
	char *state_dir;          /* default: LOCALSTATEDIR "/lib/fieldgate" */
	char *runtime_dir;        /* control socket; default: RUNSTATEDIR "/fieldgate" */
	int log_level;            /* syslog level, default LOG_INFO */
	bool trust_system_clock;  /* default false */
};

struct fg_buffer_config {
	char *path;               /* default: state_dir + "/buffer.db" */
	uint32_t commit_interval_ms; /* 10..10000, default 100 */
	uint32_t sync_interval_ms; /* 0..60000, default 1000: WAL syncs (0: every commit) */
	uint32_t commit_batch;    /* 1..100000, default 1000 */
	uint64_t max_rows;        /* 1000..100000000, default 1000000 */
	uint64_t max_bytes;       /* 1 MiB..1 TiB, default 256 MiB (database and WAL) */
	uint64_t min_free;        /* 0..1 TiB, default 32 MiB: left free on the filesystem */
	uint64_t max_age_s;       /* 0 (no limit)..10 years, default 30 days */
	enum fg_buffer_overflow overflow; /* default drop_oldest */
};

struct fg_mqtt_config {
	char *host;               /* default "localhost" */
	uint16_t port;            /* default 1883, or 8883 when TLS is configured */
	char *client_id;          /* default "fieldgate-" + gateway.id */
	bool client_id_default;   /* client_id is derived: the file gave none */
	enum fg_mqtt_protocol protocol; /* default v311 */
	uint32_t keepalive_s;     /* 5..3600, default 60 */
	uint32_t session_expiry_s;/* v5 only, default 86400 */
	char *username;           /* NULL: none */
	char *password;           /* NULL: none; secret */
	int qos;                  /* 0..2, default 1 */
	uint32_t max_inflight;    /* 1..65535, default 100 */
	char *topic;              /* template, default "fieldgate/{gateway}/{source}/{device}" */
	uint32_t message_expiry_s;/* v5 only, 0 = none */
	int format;               /* enum fg_format of sink/format.h: 0 senml (default), 1 json */
	uint32_t stats_interval_s;/* 0 = no stats messages, default 60 */
	char *stats_topic;        /* the health record's topic, default "fieldgate/{gateway}/stats" */
	bool homeassistant;       /* publish discovery configs, default false */
	char *homeassistant_prefix; /* default "homeassistant" */
	bool tls;                 /* derived: any TLS setting given, or tls = true */
	char *ca_file;
	char *ca_path;
	char *cert_file;
	char *key_file;
	char *alpn;
	bool tls_insecure;        /* default false */
	/* Where the TLS files were set, for fg_mqtt_check_tls(); 0 when not in the file. */
	int ca_file_line;
	int ca_path_line;
	int cert_file_line;
	int key_file_line;
};

struct fg_metrics_config {
	char *textfile;           /* NULL: none; the Prometheus text, for node_exporter */
	uint32_t interval_s;      /* how often the textfile is written, default 15 */
};

struct fg_sim_config {
	bool enabled;             /* default false */
	uint32_t devices;         /* 1..10000, default 3 */
	uint32_t interval_ms;     /* per device, 1..86400000, default 10000 */
	uint64_t seed;            /* 0: seeded from the clock */
	char *name_prefix;        /* default "sim-" */
	bool lorawan;             /* also frames for lorawan.devices through the decoder */
	bool ble;                 /* also advertisements for ble.devices through the decoders */
};

#define FG_GWMP_GATEWAYS_MAX 32

struct fg_gwmp_config {
	bool enabled;             /* default false */
	char *listen;             /* "HOST:PORT", "[V6]:PORT"; default "127.0.0.1:1700" */
	bool accept_no_crc;       /* frames with stat 0 (no CRC); default false */
	uint64_t gateways[FG_GWMP_GATEWAYS_MAX]; /* accepted gateway EUIs; none: any */
	size_t n_gateways;
};

enum fg_ble_mode {
	FG_BLE_MODE_AUTO,    /* passive where BlueZ offers it, else active */
	FG_BLE_MODE_PASSIVE, /* AdvertisementMonitor: no scan requests */
	FG_BLE_MODE_ACTIVE,  /* SetDiscoveryFilter + StartDiscovery */
};

struct fg_ble_source_config {
	bool enabled;             /* default false */
	char *adapter;            /* default "hci0" */
	int mode;                 /* enum fg_ble_mode, default auto */
	char *bus;                /* D-Bus address of bluetoothd's bus; NULL: the system bus */
};

enum fg_sx130x_chip {
	FG_SX130X_SX1301,
	FG_SX130X_SX1302,
	FG_SX130X_SX1303,
};

/* Concentrator boards whose wiring fieldgate knows (source/sx130x-conf.c has the facts). */
enum fg_sx130x_board {
	FG_SX130X_BOARD_NONE,     /* no preset: nothing is driven unless reset_gpio/power_gpio say */
	FG_SX130X_BOARD_RAK2245,
	FG_SX130X_BOARD_RAK2287,
	FG_SX130X_BOARD_RAK5146,
	FG_SX130X_BOARD_WM1302,
	FG_SX130X_BOARD_IC880A,
	FG_SX130X_BOARD_CORECELL,
	FG_SX130X_BOARD__COUNT,
};

enum fg_sx130x_radio {
	FG_SX130X_RADIO_SX1250,
	FG_SX130X_RADIO_SX1255,
	FG_SX130X_RADIO_SX1257,
};

/* IF chains of the concentrator: 0..7 multi-SF, then the LoRa service channel and FSK. */
#define FG_SX130X_CHAIN_LORA_STD 8
#define FG_SX130X_CHAIN_FSK	 9
#define FG_SX130X_CHAINS	 10

/* One entry of sources.sx130x.channels: what it changes in the region's channel plan. */
struct fg_sx130x_channel {
	unsigned chain;           /* 0..7, FG_SX130X_CHAIN_LORA_STD or FG_SX130X_CHAIN_FSK */
	int line;
	bool has_enable, enable;
	bool has_radio;
	uint8_t radio;            /* 0 or 1 */
	bool has_if;
	int32_t if_hz;            /* offset from the radio's centre frequency */
	bool has_sf;
	uint8_t sf;               /* lora_std: 5..12 */
	bool has_bandwidth;
	uint32_t bw_hz;           /* lora_std: 125/250/500 kHz; fsk */
	bool has_datarate;
	uint32_t bps;             /* fsk */
};

struct fg_sx130x_config {
	bool enabled;             /* default false */
	char *spi;                /* default "/dev/spidev0.0" */
	int board;                /* enum fg_sx130x_board, default none */
	int chip;                 /* enum fg_sx130x_chip; unless has_chip: the board's (sx1302) */
	char *reset_gpio;         /* "CHIP:LINE", "LINE" (gpiochip0) or "none"; NULL: the board's */
	char *power_gpio;         /* as reset_gpio */
	uint32_t clock_source;    /* RF chain clocking the concentrator; unless given: the board's */
	int radio_type;           /* enum fg_sx130x_radio; unless given: the board's */
	int region;               /* enum fg_lw_region; unless given: lorawan.region */
	uint32_t sub_band;        /* US915/AU915: 1..8, default 2 */
	uint32_t radio_0_freq;    /* Hz, 0: the region plan's */
	uint32_t radio_1_freq;
	double rssi_offset;       /* dB; unless given: the radio type's */
	double antenna_gain;      /* dBi, default 0: subtracted from the TX power asked for */
	uint32_t stat_interval_s; /* gateway readings; 0: none; default 60 */
	struct fg_sx130x_channel channels[FG_SX130X_CHAINS];
	size_t n_channels;
	/* Which of the settings above the file gave: the others come from the board or region. */
	bool has_chip, has_clock_source, has_radio_type, has_region, has_sub_band,
		has_rssi_offset;
	int line;                 /* of sources.sx130x.enabled; 0 when not in the file */
};

struct fg_sources_config {
	struct fg_sim_config sim;
	struct fg_gwmp_config gwmp;
	struct fg_ble_source_config ble;
	struct fg_sx130x_config sx130x;
};

enum fg_ble_unknown {
	FG_BLE_UNKNOWN_IGNORE, /* only configured devices */
	FG_BLE_UNKNOWN_DECODE, /* any advertiser in a recognised format, by address */
};

/* One BLE device (ble.devices). */
struct fg_ble_device {
	char *name;
	uint8_t address[6];       /* most significant first */
	char address_text[18];    /* "A4:C1:38:00:11:22" */
	int codec;                /* enum fg_ble_format (codec/ble.h), or -1 for auto */
	bool has_bindkey;
	uint8_t bindkey[16];      /* secret */
	uint32_t min_interval_s;  /* 0: ble.min_interval */
	int line;
};

struct fg_ble_config {
	enum fg_ble_unknown unknown;  /* default ignore */
	uint32_t min_interval_s;      /* one reading per device per interval; default 60 s */
	uint32_t forget_after_s;      /* drop unwanted devices from bluetoothd after; default 10 min */
	struct fg_ble_device *devices;
	size_t n_devices;
};

enum fg_lorawan_unknown {
	FG_LORAWAN_UNKNOWN_DROP,    /* frames from DevAddrs without a session: counted, dropped */
	FG_LORAWAN_UNKNOWN_FORWARD, /* published raw with their radio metadata */
};

/* One ABP device (lorawan.devices). */
struct fg_lorawan_device {
	char *name;               /* device name, [A-Za-z0-9_.-] */
	uint64_t dev_eui;         /* 16 hex digits */
	bool otaa;                /* joins with app_key (else ABP: dev_addr and session keys) */
	uint32_t dev_addr;        /* ABP: 8 hex digits */
	uint8_t nwk_s_key[16];    /* ABP secret: 32 hex digits, from the value, a file or a credential */
	uint8_t app_s_key[16];
	uint64_t join_eui;        /* OTAA: JoinEUI (AppEUI), 16 hex digits, default 0 */
	uint8_t app_key[16];      /* OTAA secret, as the session keys */
	char *codec;              /* "cayenne", "raw" or a name under codecs; default "raw" */
	bool class_c;             /* class = "C": downlinks at once on RX2 parameters; default "A" */
	uint32_t max_downlinks_per_day; /* application downlinks per UTC day; 0 (default): no limit */
	int line;                 /* where it was defined, for messages */
};

struct fg_lorawan_config {
	int region;               /* enum fg_lw_region (lora/lorawan.h); default EU868 */
	uint32_t net_id;          /* 24-bit NetID: the DevAddr prefix of joined devices; default 0 */
	uint32_t max_fcnt_gap;    /* 1..65535... default 16384 */
	enum fg_lorawan_unknown unknown; /* default drop */
	uint32_t sub_band;        /* US915/AU915: 1..8, default 2; sources.sx130x.sub_band follows it */
	uint32_t confirmed_retries; /* a confirmed downlink is resent this many times, then nack; 0..15, default 3 */
	struct fg_lorawan_device *devices;
	size_t n_devices;
};

/* One GPIO line the cloud may drive (commands.gpio). */
struct fg_command_gpio {
	char *name;               /* optional label, NULL: none */
	char *chip;               /* as gpio/gpio.h names chips, or "sim" */
	unsigned line;
	int initial;              /* level driven at start, 0 or 1, default 0 */
	uint32_t max_pulse_ms;    /* the longest pulse_ms accepted, default 60000 */
	int line_no;              /* where it was defined, for messages */
};

/* Commands from the cloud (the top-level group commands). */
struct fg_commands_config {
	bool enabled;             /* default false */
	char *topic;              /* prefix, default "fieldgate/{gateway}/command/" (ends in '/') */
	char *event_topic;        /* outcomes, default "fieldgate/{gateway}/event/command" */
	bool allow_insecure;      /* accept commands without TLS or credentials; default false */
	uint32_t max_size;        /* bytes of a command message, 256..65536, default 4096 */
	uint32_t max_queue_per_device; /* queued downlinks per device, 1..1000, default 16 */
	uint32_t max_queued;      /* queued downlinks in all, 1..100000, default 1024 */
	uint32_t keep_ids_s;      /* how long a finished command's id is remembered, default 7 days */
	struct fg_command_gpio *gpio;
	size_t n_gpio;
	int line;                 /* of commands.enabled, 0 when not in the file */
};

enum fg_rule_emit {
	FG_RULE_EMIT_MEAN = 1 << 0,
	FG_RULE_EMIT_MIN = 1 << 1,
	FG_RULE_EMIT_MAX = 1 << 2,
	FG_RULE_EMIT_SUM = 1 << 3,
	FG_RULE_EMIT_COUNT = 1 << 4,
	FG_RULE_EMIT_LAST = 1 << 5,
};

struct fg_expr; /* rules/expr.h */

/* One rule (rules), expressions compiled at load. */
struct fg_rule_config {
	char *name;               /* unique */
	char *match;              /* glob on "source/device/quantity" */
	int line;
	struct fg_expr *drop_if;  /* condition: drop the reading */
	struct fg_expr *set;      /* number: the new value */
	char *unit;               /* new unit, NULL: unchanged */
	char *quantity;           /* new quantity, NULL: unchanged */
	double deadband;          /* report by exception: 0 off */
	bool deadband_percent;    /* deadband is a percentage of the last published value */
	uint32_t heartbeat_s;     /* publish anyway after this long; 0 never */
	uint32_t window_s;        /* tumbling window aggregation; 0 off */
	unsigned emit;            /* enum fg_rule_emit bits; default mean */
	struct fg_expr *when;     /* condition: raise the alert / drive the GPIO */
	struct fg_expr *clear_when; /* condition: clear; default !when */
	char *alert_topic;        /* NULL: no alert message */
	char *severity;           /* default "warning" */
	bool has_gpio;
	char *gpio_chip;
	unsigned gpio_line;
	int gpio_on, gpio_off;    /* levels on raise and on clear */
};

/* One declarative layout (codecs.NAME.fields). */
struct fg_codec_config {
	char *name;
	struct fg_layout_field *fields; /* codec/codec.h */
	size_t n_fields;
};

struct fg_config {
	char *path;               /* the file this was loaded from */
	struct fg_gateway_config gateway;
	struct fg_buffer_config buffer;
	struct fg_mqtt_config mqtt;
	struct fg_metrics_config metrics;
	struct fg_sources_config sources;
	struct fg_lorawan_config lorawan;
	struct fg_ble_config ble;
	struct fg_commands_config commands;
	struct fg_codec_config *codecs;
	size_t n_codecs;
	struct fg_rule_config *rules;
	size_t n_rules;
};

/*
 * Load and validate a configuration file. All problems are appended to
 * diags (it may hold warnings even on success). Returns 0 and a new config,
 * -EINVAL when the file has errors (every one of them is in diags), or
 * another negative errno when the file cannot be read (also in diags).
 * Never logs.
 */
int fg_config_load(const char *path, struct fg_config **ret_cfg, struct fg_diags *diags);

/* As fg_config_load, from text in memory; `name` is used in diagnostics. */
int fg_config_load_string(const char *text, const char *name, struct fg_config **ret_cfg,
			  struct fg_diags *diags);

/* A config holding only defaults (for tests and for tools without a file). */
int fg_config_new_default(struct fg_config **ret_cfg);

void fg_config_free(struct fg_config *cfg);

/* Names of every setting in the table, dotted ("mqtt.port"), NULL-terminated. */
const char *const *fg_config_setting_names(void);
