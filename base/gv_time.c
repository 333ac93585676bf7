/* SPDX-License-Identifier: Apache-2.0 */
/* gv_time.c: the clocks (groved/gv_time.h). */
#include <stdio.h>

#include "groved/gv_time.h"

uint64_t gv_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t gv_now_ms(void)
{
	return gv_now_ns() / 1000000u;
}

struct timespec gv_timespec_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000u),
		.tv_nsec = (long)(ns % 1000000000u),
	};

	return ts;
}

void gv_time_utc(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "@%lld", (long long)t);
}
