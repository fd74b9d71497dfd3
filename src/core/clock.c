/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

uint64_t fg_clock_mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * FG_USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t fg_clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool fg_clock_wall_known(bool trust)
{
	struct timex tx = { .modes = 0 };
	const char *sync_file;

	if (trust)
		return true;
	/*
	 * A seam for tests, whose machines' clocks are synchronized: with
	 * FIELDGATE_CLOCK_SYNC_FILE set, the clock is known exactly while that
	 * file exists.
	 */
	sync_file = getenv("FIELDGATE_CLOCK_SYNC_FILE");
	if (sync_file && *sync_file)
		return access(sync_file, F_OK) == 0;
	/* NTP daemons (chrony, ntpd, timesyncd) clear STA_UNSYNC once in sync. */
	if (adjtimex(&tx) >= 0 && !(tx.status & STA_UNSYNC))
		return true;
	return access("/run/systemd/timesync/synchronized", F_OK) == 0;
}

const char *fg_clock_boot_id(void)
{
	/* Read once: it cannot change while we run. */
	static char boot_id[33]; /* 32 hex digits */
	static bool loaded;
	char raw[64];
	size_t j = 0;
	ssize_t n;
	int fd;

	const char *file;

	if (loaded)
		return boot_id;
	loaded = true;
	file = getenv("FIELDGATE_BOOT_ID_FILE");
	fd = open(file && *file ? file : "/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return boot_id;
	n = read(fd, raw, sizeof(raw) - 1);
	close(fd);
	if (n <= 0)
		return boot_id;
	raw[n] = '\0';
	for (ssize_t i = 0; i < n && j < sizeof(boot_id) - 1; i++)
		if ((raw[i] >= '0' && raw[i] <= '9') || (raw[i] >= 'a' && raw[i] <= 'f'))
			boot_id[j++] = raw[i];
	boot_id[j] = '\0';
	if (j != 32)
		boot_id[0] = '\0';
	return boot_id;
}
