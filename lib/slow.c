// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "slow.h"

int slow_factor(void)
{
	static int factor;	/* 0: the environment not read yet */

	if (!factor) {
		const char *v = getenv("KSFT_MACHINE_SLOW");

		factor = v && !strcmp(v, "yes") ? SLOW_FACTOR : 1;
	}
	return factor;
}
