/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Uplink data rates of the regions we serve (LoRaWAN Regional Parameters,
 * EU863-870 and US902-928): the DR index of a frame's spreading factor and
 * bandwidth. FSK (EU868 DR7) and LR-FHSS rates have no SF and are not here.
 */
#include <errno.h>
#include <strings.h>

#include "lora/lorawan.h"

struct dr {
	uint8_t sf;
	uint32_t bw_hz;
};

/* Index = DR. */
static const struct dr eu868_dr[] = {
	{ 12, 125000 }, { 11, 125000 }, { 10, 125000 }, { 9, 125000 },
	{ 8, 125000 },	{ 7, 125000 },	{ 7, 250000 },
};

static const struct dr us915_dr[] = {
	{ 10, 125000 }, { 9, 125000 }, { 8, 125000 }, { 7, 125000 }, { 8, 500000 },
};

static const struct {
	const char *name;
	const struct dr *dr;
	size_t n;
} regions[FG_LW_REGION__COUNT] = {
	[FG_LW_EU868] = { "EU868", eu868_dr, sizeof(eu868_dr) / sizeof(eu868_dr[0]) },
	[FG_LW_US915] = { "US915", us915_dr, sizeof(us915_dr) / sizeof(us915_dr[0]) },
};

const char *fg_lw_region_to_string(enum fg_lw_region r)
{
	if ((unsigned) r >= FG_LW_REGION__COUNT)
		return "unknown";
	return regions[r].name;
}

int fg_lw_region_from_string(const char *s)
{
	for (int i = 0; s && i < FG_LW_REGION__COUNT; i++)
		if (strcasecmp(s, regions[i].name) == 0)
			return i;
	return -EINVAL;
}

int fg_lw_region_dr(enum fg_lw_region r, unsigned sf, uint32_t bw_hz)
{
	if ((unsigned) r >= FG_LW_REGION__COUNT)
		return -1;
	for (size_t i = 0; i < regions[r].n; i++)
		if (regions[r].dr[i].sf == sf && regions[r].dr[i].bw_hz == bw_hz)
			return (int) i;
	return -1;
}
