/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* fieldgatectl's commands that live in files of their own. */

/* rules test --config FILE READINGS.jsonl (config_path: the -c/--config given before it, or NULL). */
int fg_ctl_rules(int argc, char **argv, const char *config_path);

/* devices [--json]: the daemon's LoRaWAN devices, asked of its control socket. */
int fg_ctl_devices(int argc, char **argv, const char *config_path);
