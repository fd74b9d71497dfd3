/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* The main() of every unit suite: run it in Check's fork mode, honouring CK_RUN_CASE etc. */

#include <check.h>
#include <stdlib.h>

static inline int fg_check_main(Suite *suite)
{
	SRunner *sr = srunner_create(suite);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
