/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The dry-run sink: every reading as one JSON object per line on a file
 * descriptor (standard output for `fieldgated --dry-run`).
 *
 * Lines are written in chunks of at most PIPE_BUF bytes, which a pipe takes
 * whole or not at all; so on a non-blocking pipe whose reader is not keeping
 * up, the rest of the batch is dropped cleanly (the caller counts it) instead
 * of blocking the event loop or leaving half a line.
 */

#include <stddef.h>

#include "core/reading.h"

/*
 * Write a batch. *ret_written is the number of readings written whatever the
 * outcome. Returns 0, -EAGAIN when a non-blocking fd was full, or another
 * negative errno (-EPIPE, ...). Never logs.
 */
int fg_jsonl_write(int fd, const struct fg_reading *r, size_t n, size_t *ret_written);

/* Make fd non-blocking if it is a pipe or socket (not a terminal or file); 1 if it did. */
int fg_jsonl_prepare_fd(int fd);
