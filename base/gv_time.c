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

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era = 0;
	unsigned yoe = 0;
	unsigned doy = 0;
	unsigned doe = 0;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

bool gv_time_parse_utc(const char *s, time_t *out)
{
	int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, n = 0;
	int oh = 0, om = 0;
	const char *p = NULL;
	int64_t t = 0;

	if (!s ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
		   &n) != 6 ||
	    n != 19)
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || y < 0 || h < 0 || mi < 0 || sec < 0)
		return false;
	p = s + n;
	if (*p == '.') /* fractions of the second: dropped */
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 +
	    mi * 60 + sec;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') &&
		   sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 && n == 5) {
		t -= (*p == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
		p += 6;
	} else {
		return false;
	}
	if (*p)
		return false;
	*out = (time_t)t;
	return true;
}
