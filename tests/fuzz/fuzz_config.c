/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer target for the configuration loader: any bytes as a config file.
 * Every finding is formatted (as the daemon prints them) and everything is
 * freed, so leaks and overruns in the loader and the diagnostics show up.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_diags diags = { 0 };
	struct fg_config *cfg = NULL;
	char *text;

	/* The loader takes a C string: the input up to its end or its first NUL. */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	if (fg_config_load_string(text, "fuzz.conf", &cfg, &diags) == 0 && !cfg)
		abort();
	for (size_t i = 0; i < diags.n; i++)
		free(fg_diag_format(&diags.v[i]));
	fg_config_free(cfg);
	fg_diags_clear(&diags);
	free(text);
	return 0;
}
