/* HostConfig.LogConfig: the drivers gantryd has (json-file, none) and their options, checked as
 * dockerd does. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "engine/engine_internal.h"

/* go-units RAMInBytes: "<number>[ ][kmgtp][i][b]", binary multiples; -1 when malformed. */
static long long ram_in_bytes(const char *s)
{
        char *end = NULL;
        if (!isdigit((unsigned char)*s))
                return -1;
        errno = 0;
        double v = strtod(s, &end);
        if (errno != 0 || end == s)
                return -1;
        if (*end == ' ')
                end++;
        static const char units[] = "kmgtp";
        const char *u = *end ? strchr(units, tolower((unsigned char)*end)) : NULL;
        if (u != NULL) {
                for (const char *k = units; k <= u; k++)
                        v *= 1024;
                end++;
                if (tolower((unsigned char)*end) == 'i')
                        end++;
        }
        if (tolower((unsigned char)*end) == 'b')
                end++;
        if (*end != '\0' || v > (double)LLONG_MAX)
                return -1;
        return (long long)v;
}

static const char *opt(json_t *cfg, const char *key)
{
        return json_string_value(json_object_get(cfg, key));
}

int eng_log_config_get(json_t *hc, struct eng_log_config *out, struct gerr **err)
{
        json_t *lc = json_object_get(hc, "LogConfig");
        const char *type = json_string_value(json_object_get(lc, "Type"));
        json_t *cfg = json_object_get(lc, "Config");
        *out = (struct eng_log_config){.max_files = 1};
        /* moby ValidateLogOpts: the delivery mode, whatever the driver. */
        const char *mode = opt(cfg, "mode");
        if (mode != NULL && *mode && strcmp(mode, "blocking") && strcmp(mode, "non-blocking"))
                return eng_err(err, EINVAL, "logger: logging mode not supported: %s", mode);
        if (opt(cfg, "max-buffer-size") != NULL && (mode == NULL || strcmp(mode, "non-blocking")))
                return eng_err(err, EINVAL,
                               "logger: max-buffer-size option is only supported with "
                               "'mode=non-blocking'");
        if (type == NULL || *type == '\0' || strcmp(type, "json-file") == 0) {
                /* the json-file driver's options (moby daemon/logger/jsonfilelog) */
                static const char *const known[] = {
                    "max-file", "max-size",  "compress", "labels", "labels-regex",
                    "env",      "env-regex", "tag",      "mode",   "max-buffer-size"};
                const char *key;
                json_t *v;
                json_object_foreach(cfg, key, v)
                {
                        size_t k = 0;
                        while (k < ARRAY_SIZE(known) && strcmp(known[k], key) != 0)
                                k++;
                        if (k == ARRAY_SIZE(known))
                                return eng_err(err, EINVAL,
                                               "unknown log opt '%s' for json-file log driver",
                                               key);
                        if (!json_is_string(v))
                                return eng_err(err, EINVAL, "log opt '%s' must be a string", key);
                }
                const char *ms = opt(cfg, "max-size");
                if (ms != NULL) {
                        long long n = ram_in_bytes(ms);
                        if (n < 0)
                                return eng_err(err, EINVAL, "invalid max-size '%s': invalid size",
                                               ms);
                        if (n == 0)
                                return eng_err(err, EINVAL,
                                               "invalid max-size '%s': max-size must be a "
                                               "positive number",
                                               ms);
                        out->max_size = n;
                }
                const char *mf = opt(cfg, "max-file");
                if (mf != NULL) {
                        char *end = NULL;
                        errno = 0;
                        long n = strtol(mf, &end, 10);
                        if (*mf == '\0' || *end != '\0' || errno != 0 || n > INT_MAX)
                                return eng_err(err, EINVAL, "invalid max-file '%s': not an integer",
                                               mf);
                        if (n < 1)
                                return eng_err(err, EINVAL,
                                               "invalid max-file '%s': max-file cannot be less "
                                               "than 1",
                                               mf);
                        out->max_files = (int)n;
                }
                const char *cz = opt(cfg, "compress");
                if (cz != NULL && strcmp(cz, "true") && strcmp(cz, "false"))
                        return eng_err(err, EINVAL, "invalid compress '%s': want true or false",
                                       cz);
                return 0;
        }
        if (strcmp(type, "none") == 0) {
                out->none = true;
                return 0;
        }
        return eng_err(err, EINVAL,
                       "logger: no log driver named '%s' is registered (gantryd has json-file "
                       "and none)",
                       type);
}
