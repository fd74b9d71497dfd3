/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The SenML units registry as the RFCs define it (see units.h). Transcribed
 * from RFC 8428 section 12.1, Table 6, and RFC 8798 section 2, Table 1 (new
 * primary units) and section 3, Table 2 (secondary units). An asterisk in
 * the RFCs ("NOT RECOMMENDED to be produced by new implementations") does
 * not take a unit out of the registry; which of those we still produce is
 * the codecs' choice and is said in fieldgate.conf(5).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/units.h"

/* In the registry's order, several to a line. */
/* clang-format off */
const char *const fg_units_registered[] = {
	/* RFC 8428 section 12.1, Table 6 ("*": NOT RECOMMENDED for new producers) */
	"m", "kg", "g" /* * */, "s", "A", "K", "cd", "mol", "Hz", "rad", "sr", "N", "Pa", "J",
	"W", "C", "V", "F", "Ohm", "S", "Wb", "T", "H", "Cel", "lm", "lx", "Bq", "Gy", "Sv",
	"kat", "m2", "m3", "l" /* * */, "m/s", "m/s2", "m3/s", "l/s" /* * */, "W/m2", "cd/m2",
	"bit", "bit/s", "lat", "lon", "pH", "dB", "dBW", "Bspl" /* * */, "count", "/",
	"%" /* *, a ratio 0..1 like "/", not a percentage */, "%RH", "%EL", "EL", "1/s",
	"1/min" /* * */, "beat/min" /* * */, "beats" /* * */, "S/m",
	/* RFC 8798 section 2, Table 1 */
	"B", "VA", "VAs", "var", "vars", "J/m", "kg/m3", "deg" /* * */,
	NULL,
};
/* clang-format on */

/* RFC 8798 section 3, Table 2: primary = value * scale + offset. */
static const struct {
	const char *name;
	const char *unit;
	double scale;
	double offset;
} secondary[] = {
	{ "ms", "s", 1.0 / 1000, 0 },
	{ "min", "s", 60, 0 },
	{ "h", "s", 3600, 0 },
	{ "MHz", "Hz", 1000000, 0 },
	{ "kW", "W", 1000, 0 },
	{ "kVA", "VA", 1000, 0 },
	{ "kvar", "var", 1000, 0 },
	{ "Ah", "C", 3600, 0 },
	{ "Wh", "J", 3600, 0 },
	{ "kWh", "J", 3600000, 0 },
	{ "varh", "vars", 3600, 0 },
	{ "kvarh", "vars", 3600000, 0 },
	{ "kVAh", "VAs", 3600000, 0 },
	{ "Wh/km", "J/m", 3.6, 0 },
	{ "KiB", "B", 1024, 0 },
	{ "GB", "B", 1e9, 0 },
	{ "Mbit/s", "bit/s", 1000000, 0 },
	{ "B/s", "bit/s", 8, 0 },
	{ "MB/s", "bit/s", 8000000, 0 },
	{ "mV", "V", 1.0 / 1000, 0 },
	{ "mA", "A", 1.0 / 1000, 0 },
	{ "dBm", "dBW", 1, -30 },
	{ "ug/m3", "kg/m3", 1e-9, 0 },
	{ "mm/h", "m/s", 1.0 / 3600000, 0 },
	{ "m/h", "m/s", 1.0 / 3600, 0 },
	{ "ppm", "/", 1e-6, 0 },
	{ "/100", "/", 1.0 / 100, 0 },
	{ "/1000", "/", 1.0 / 1000, 0 },
	{ "hPa", "Pa", 100, 0 },
	{ "mm", "m", 1.0 / 1000, 0 },
	{ "cm", "m", 1.0 / 100, 0 },
	{ "km", "m", 1000, 0 },
	{ "km/h", "m/s", 1 / 3.6, 0 },
};

bool fg_unit_registered(const char *u)
{
	if (!u || !*u)
		return false;
	for (size_t i = 0; fg_units_registered[i]; i++)
		if (strcmp(u, fg_units_registered[i]) == 0)
			return true;
	return false;
}

int fg_unit_secondary(const char *u, const char **ret_unit, double *ret_scale, double *ret_offset)
{
	for (size_t i = 0; u && i < sizeof(secondary) / sizeof(secondary[0]); i++)
		if (strcmp(u, secondary[i].name) == 0) {
			if (ret_unit)
				*ret_unit = secondary[i].unit;
			if (ret_scale)
				*ret_scale = secondary[i].scale;
			if (ret_offset)
				*ret_offset = secondary[i].offset;
			return 0;
		}
	return -ENOENT;
}

int fg_unit_check(const char *u, char *why, size_t why_size)
{
	const char *primary;
	double scale, offset;
	int n;

	if (!u || !*u || fg_unit_registered(u))
		return 0;
	if (!why || why_size == 0)
		return -EINVAL;
	if (fg_unit_secondary(u, &primary, &scale, &offset) < 0) {
		(void) snprintf(
			why, why_size,
			"unit '%s' is not a registered SenML unit (RFC 8428, RFC 8798): give "
			"one, or no unit and the unit in the name (fieldgate.conf(5), Units)",
			u);
		return -EINVAL;
	}
	n = snprintf(why, why_size,
		     "unit '%s' is not a SenML unit (RFC 8798 secondary unit): write unit = "
		     "\"%s\" and multiply scale and add by %.10g",
		     u, primary, scale);
	if (offset != 0 && n >= 0 && (size_t) n < why_size)
		(void) snprintf(why + n, why_size - (size_t) n, ", then add %.10g to add", offset);
	return -EINVAL;
}
