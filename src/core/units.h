/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The SenML units a published record may carry in "u", and the conversions
 * into them. One list for the whole daemon (units.c): the codecs, the layout
 * and rule settings of the configuration and the tests all ask here.
 *
 * Registered ("primary") units: RFC 8428 section 12.1 (Table 6) and the
 * additions of RFC 8798 section 2 (Table 1). RFC 8798 section 3 also created
 * a registry of "secondary units" (hPa, dBm, mV, kWh, ...), each a linear
 * transformation of a primary one; SenML version 10 packs may not use them
 * in "u" ("As of SenML version 10 [RFC8428], SenML packs are limited to using
 * primary units in 'u' fields"), so they are converted, never published.
 * Units IANA registered later by expert review are not listed: a consumer
 * that implements the two RFCs knows the units we send.
 *
 * The rule (fieldgate.conf(5), Units): a value goes out in a registered unit,
 * converted into one where the device's unit is not; where no registered
 * unit exists for the quantity (angular velocity: neither rad/s nor deg/s is
 * registered), the record has no "u" and the unit is in the name, as
 * "<quantity>_<unit>" with "/" spelled "_per_" (gyroscope_deg_per_s).
 */

#include <stdbool.h>
#include <stddef.h>

/* Whether u is a registered SenML unit (case matters: "Cel", not "cel"). "" and NULL are not. */
bool fg_unit_registered(const char *u);

/*
 * A secondary unit of RFC 8798 section 3 (Table 2): its primary unit, and
 * scale and offset such that value_in_primary = value * scale + offset.
 * Returns 0, or -ENOENT when u is not one (a primary unit is not either).
 */
int fg_unit_secondary(const char *u, const char **ret_unit, double *ret_scale, double *ret_offset);

/*
 * Check a unit the configuration gives (a layout field's, a rule's): "" (no
 * unit) and registered units are 0; anything else is -EINVAL with why saying
 * what to write instead ("'hPa' is not a SenML unit: it is 100 Pa; write unit
 * = \"Pa\" and multiply scale and add by 100"). why may be NULL.
 */
int fg_unit_check(const char *u, char *why, size_t why_size);

/* The registered units in the registry's order, NULL-terminated (for tests and documentation). */
extern const char *const fg_units_registered[];
