/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The control socket: a Unix stream socket (mode 0660) in the runtime
 * directory. A client connects and writes one command line ("status"); the
 * daemon answers with one JSON document and closes. Connections are served
 * from the event loop, each bounded in size and time:
 *
 * - at most FG_CONTROL_CLIENTS_MAX at once; one more is accepted, told
 *   {"error":"too many clients"} in one line and closed (counted: refused);
 * - a client without a complete command line FG_CONTROL_TIMEOUT_MS after
 *   its connect is closed without an answer (counted: timeouts);
 * - when accept4 fails for want of descriptors or memory (EMFILE, ENFILE,
 *   ENOBUFS, ENOMEM) the socket stops listening for FG_CONTROL_PAUSE_MS
 *   instead of spinning on a connection it cannot take (counted:
 *   accept_failed).
 *
 * Each of these logs a rate-limited warning.
 */

#include <stddef.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#define FG_CONTROL_CLIENTS_MAX 32
#define FG_CONTROL_TIMEOUT_MS  2000
#define FG_CONTROL_PAUSE_MS    250

struct fg_control;

struct fg_control_stats {
	unsigned clients;		  /* connected now, waiting for their command */
	unsigned long long refused;	  /* past FG_CONTROL_CLIENTS_MAX */
	unsigned long long timeouts;	  /* no command in time */
	unsigned long long accept_failed; /* accept4 out of descriptors or memory */
};

/* Write the answer to a command into buf (NUL-terminated); return its length or a negative errno. */
typedef int (*fg_control_fn)(const char *command, char *buf, size_t size, void *userdata);

/* Listen on path (an existing socket file is replaced). Returns 0 or a negative errno. */
int fg_control_new(const char *path, sd_event *loop, fg_control_fn fn, void *userdata,
		   struct fg_control **ret);
/*
 * The group whose members may use the control socket (fieldgatectl status,
 * buffer, devices) without reading the configuration; the package creates it.
 */
#define FG_CONTROL_GROUP "fieldgate"

/*
 * Give the socket file to the group named group (its mode stays 0660).
 * Returns 0, -ENOENT when no such group exists, or a negative errno (-EPERM
 * when the daemon is neither root nor a member of the group). Never logs.
 */
int fg_control_set_group(struct fg_control *c, const char *group);
/* A group's id (getgrnam in a child, so no NSS module stays loaded); -ENOENT for none. */
int fg_control_lookup_group(const char *group, gid_t *ret);

/* Stop listening, close every client and remove the socket file. NULL is fine. */
void fg_control_free(struct fg_control *c);
void fg_control_get_stats(const struct fg_control *c, struct fg_control_stats *ret);

/*
 * Client side (fieldgatectl): send command to the socket at path and read the
 * answer into buf. Returns its length, or a negative errno (-ENOENT,
 * -ECONNREFUSED when no daemon listens).
 */
int fg_control_query(const char *path, const char *command, char *buf, size_t size);
