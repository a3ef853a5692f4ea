/* gantry CLI: docker's resource flags (run, create, update) turned into HostConfig fields. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum kind { BYTES, BYTES_OR_UNLIMITED, RATIONAL, INTEGER, STRING };

static const struct {
        const char *flag, *key;
        enum kind kind;
} resource_flags[] = {
        {"memory", "Memory", BYTES},
        {"memory-swap", "MemorySwap", BYTES_OR_UNLIMITED},
        {"memory-reservation", "MemoryReservation", BYTES},
        {"shm-size", "ShmSize", BYTES},
        {"cpus", "NanoCpus", RATIONAL},
        {"cpu-shares", "CpuShares", INTEGER},
        {"cpu-quota", "CpuQuota", INTEGER},
        {"cpu-period", "CpuPeriod", INTEGER},
        {"cpu-rt-period", "CpuRealtimePeriod", INTEGER},
        {"cpu-rt-runtime", "CpuRealtimeRuntime", INTEGER},
        {"pids-limit", "PidsLimit", INTEGER},
        {"blkio-weight", "BlkioWeight", INTEGER},
        {"cpuset-cpus", "CpusetCpus", STRING},
        {"cpuset-mems", "CpusetMems", STRING},
};

int cli_resource_flag(const char *flag, const char *arg, json_t *hc, char *why, size_t n)
{
        size_t i = 0;
        while (i < ARRAY_SIZE(resource_flags) && strcmp(resource_flags[i].flag, flag) != 0)
                i++;
        if (i == ARRAY_SIZE(resource_flags))
                return 0;
        const char *key = resource_flags[i].key;
        char *end = NULL;
        int64_t v = 0;
        switch (resource_flags[i].kind) {
        case BYTES_OR_UNLIMITED:
                if (strcmp(arg, "-1") == 0) {
                        v = -1;
                        break;
                }
                /* fall through */
        case BYTES:
                if (cli_parse_bytes(arg, &v) < 0) {
                        snprintf(why, n, "invalid size: '%s'", arg);
                        return -1;
                }
                break;
        case RATIONAL: {
                double d = strtod(arg, &end);
                if (end == arg || *end != '\0' || d < 0) {
                        snprintf(why, n, "failed to parse %s as a rational number", arg);
                        return -1;
                }
                v = (int64_t)(d * 1e9 + 0.5);
                break;
        }
        case INTEGER:
                errno = 0;
                v = strtoll(arg, &end, 10);
                if (end == arg || *end != '\0' || errno != 0) {
                        snprintf(why, n, "strconv.ParseInt: parsing \"%s\": invalid syntax", arg);
                        return -1;
                }
                break;
        case STRING:
                json_object_set_new(hc, key, json_string(arg));
                return 1;
        }
        json_object_set_new(hc, key, json_integer(v));
        return 1;
}
