/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Time. The Pi Zero has no RTC: after boot the wall clock is wrong until NTP
 * has synchronized it. Readings are stamped with the monotonic clock and the
 * boot id always, and with wall time only once the wall clock is known.
 */

#include <stdbool.h>
#include <stdint.h>

#define FG_USEC_PER_SEC  UINT64_C(1000000)
#define FG_USEC_PER_MSEC UINT64_C(1000)

/* CLOCK_MONOTONIC in microseconds. */
uint64_t fg_clock_mono_usec(void);
/* CLOCK_REALTIME in milliseconds since the epoch (UTC). */
uint64_t fg_clock_wall_ms(void);

/*
 * Whether the wall clock can be trusted: the kernel says it is synchronized
 * (adjtimex without STA_UNSYNC, as chrony and timesyncd leave it), or
 * systemd-timesyncd's /run/systemd/timesync/synchronized exists, or `trust`
 * is set (gateway.trust_system_clock). With FIELDGATE_CLOCK_SYNC_FILE set in
 * the environment (tests), it is known exactly while that file exists.
 */
bool fg_clock_wall_known(bool trust);

/*
 * This boot's id (32 lowercase hex digits) from the kernel, or "" if unknown;
 * read once. FIELDGATE_BOOT_ID_FILE in the environment names another file
 * to read it from (tests: a reboot).
 */
const char *fg_clock_boot_id(void);
