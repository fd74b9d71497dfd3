/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PLACEHOLDER: being written. */
#include <check.h>

#include "check-main.h"

int main(void)
{
	return fg_check_main(suite_create("lorawan"));
}
