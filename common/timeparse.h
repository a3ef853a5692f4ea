/* Times as the docker CLI and API users give them: unix seconds, RFC 3339, Go durations. */
#pragma once

#include <stdbool.h>

/* s as Docker's timetypes.GetTimestamp accepts it: "1700000000[.123456789]", "2026-11-24",
 * "2026-11-24T02:00:00[.123][Z|+01:00]" (no zone: UTC) or a Go duration ("10m", "1h30m",
 * "1.5s") meaning that long before now. *out in unix seconds. false when s is none of these. */
bool timeparse_docker(const char *s, double now, double *out);
/* A Go duration ("300ms", "-1.5h", "2h45m") in seconds; false if s is not one. */
bool timeparse_go_duration(const char *s, double *out);
