/* Timestamps as Docker and the OCI state write them: RFC 3339, UTC, nanoseconds. */
#pragma once

#include <time.h>

#define TIMEFMT_RFC3339_LEN 64

/* "2026-11-23T20:00:00.123456789Z" into buf (at least TIMEFMT_RFC3339_LEN bytes). */
char *timefmt_rfc3339(const struct timespec *ts, char *buf);
/* The same for the current CLOCK_REALTIME. */
char *timefmt_now(char *buf);
