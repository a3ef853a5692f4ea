/* Timestamps as Docker and the OCI state write them: RFC 3339, UTC, nanoseconds. */
#include "common/timefmt.h"

#include <stdio.h>

char *timefmt_rfc3339(const struct timespec *ts, char *buf)
{
        struct tm tm;
        gmtime_r(&ts->tv_sec, &tm);
        snprintf(buf, TIMEFMT_RFC3339_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 ts->tv_nsec);
        return buf;
}

char *timefmt_now(char *buf)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return timefmt_rfc3339(&ts, buf);
}
