/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The dry-run sink: every reading as one JSON object per line on a stream
 * (standard output for `fieldgated --dry-run`). One flush per batch.
 */

#include <stddef.h>
#include <stdio.h>

#include "core/reading.h"

/* Write a batch; returns the number written or a negative errno (-EPIPE, ...). Never logs. */
int fg_jsonl_write(FILE *f, const struct fg_reading *r, size_t n);
