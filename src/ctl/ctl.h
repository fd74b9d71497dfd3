/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <stddef.h>

/* fieldgatectl's commands that live in files of their own. */

/*
 * Exit codes: 0 answered, EXIT_REFUSED an error, EXIT_USAGE a bad command
 * line, EXIT_NOT_RUNNING no daemon answered (3, as `systemctl is-active` and
 * LSB's "program is not running").
 */
enum { EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_NOT_RUNNING = 3 };

/* status [--json]: the daemon's health record, else the buffer file's part of it (exit 3). */
int fg_ctl_status(int argc, char **argv, const char *config_path, const char *socket_path);

/* metrics: the health record as Prometheus text, else the buffer file's part of it (exit 3). */
int fg_ctl_metrics(int argc, char **argv, const char *config_path, const char *socket_path);

/*
 * Ask the daemon command ("status" or "metrics") into answer: EXIT_SUCCESS;
 * else, when it does not answer, *ret_file_record is the health record from
 * the buffer file (malloc'd; "running" false) and EXIT_NOT_RUNNING is
 * returned; or another exit code, said on stderr.
 */
int fg_ctl_health(const char *config_path, const char *socket_path, const char *command,
		  char *answer, size_t size, char **ret_file_record, const char **ret_why);

/* buffer [--json]: what waits, per topic, asked of the daemon, else from the file (exit 3). */
int fg_ctl_buffer_command(int argc, char **argv, const char *config_path,
			  const char *socket_path);

/*
 * queue [DEVICE] [--json]: the downlinks waiting for their devices, asked of
 * the daemon, else read from the buffer file (exit 3).
 */
int fg_ctl_queue(int argc, char **argv, const char *config_path, const char *socket_path);

/* decode lorawan|ble ...: one frame through the daemon's decoders. */
int fg_ctl_decode(int argc, char **argv, const char *config_path);

/* rules test --config FILE READINGS.jsonl (config_path: the -c/--config given before it, or NULL). */
int fg_ctl_rules(int argc, char **argv, const char *config_path);

/*
 * devices [--json]: every source's devices, asked of the daemon's control
 * socket, else from the configuration and the buffer file (exit 3).
 */
int fg_ctl_devices(int argc, char **argv, const char *config_path, const char *socket_path);

/* The runtime directory when the configuration cannot be read (gateway.runtime_dir's default). */
#define FG_CTL_RUNTIME_DIR RUNSTATEDIR "/fieldgate"

struct fg_config;

/* The configuration at path, or NULL with the findings on stderr. */
struct fg_config *fg_ctl_load_quietly(const char *path);

/*
 * The control socket to ask, into buf: socket_path (--socket) when given, else
 * "control" in the runtime_dir of the configuration at config_path (NULL: the
 * default file), else in FG_CTL_RUNTIME_DIR when that file cannot be read: an
 * operator in the fieldgate group asks the daemon without reading its secrets.
 * A configuration with errors is reported on stderr; one refused for its
 * permissions silently. *ret_cfg: the configuration, or NULL. Returns 0 or
 * -ENAMETOOLONG.
 */
int fg_ctl_socket(const char *config_path, const char *socket_path, struct fg_config **ret_cfg,
		  char *buf, size_t size);

/*
 * No answer from the daemon on sock (r: fg_control_query's result), said on
 * stderr. Returns EXIT_NOT_RUNNING when nothing listens there (no socket
 * file, connection refused), else EXIT_REFUSED (a daemon may run but cannot
 * be asked: permission denied, no answer in time).
 */
int fg_ctl_not_answering(int r, const char *sock);

/*
 * Whether the daemon's answer is a refusal ({"error":...}, e.g. past its
 * client cap); if so it is said on stderr, naming the socket.
 */
int fg_ctl_refused(const char *answer, const char *sock);
