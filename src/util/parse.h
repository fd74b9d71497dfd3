/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Number parsing with range and trailing-junk checks. Return 0 or -errno, write only on success. */

#include <stdint.h>

/* Decimal unsigned integer, min..max inclusive. -EINVAL on junk, -ERANGE out of range. */
int fg_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);
/* Decimal signed integer. */
int fg_parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret);
/* A duration: digits with an optional unit ms, s, m, h, d (no unit: seconds), to milliseconds. */
int fg_parse_duration_ms(const char *s, uint64_t *ret_ms);
/* A size: digits with an optional unit K, M, G, T (powers of 1024; KiB/MiB.. too), to bytes. */
int fg_parse_size(const char *s, uint64_t *ret_bytes);
