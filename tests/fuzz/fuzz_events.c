/* libFuzzer target: /events query input: a since/until time, then a filters JSON, on a fixed event.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeparse.h"
#include "engine/engine_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* first line: a time as ?since= carries it; the rest: ?filters= */
        const uint8_t *nl = memchr(data, '\n', size);
        size_t tlen = nl ? (size_t)(nl - data) : size;
        char *t = strndup((const char *)data, tlen);
        if (t == NULL)
                return 0;
        double out = 0;
        if (timeparse_docker(t, 1e9, &out) && out != out)
                __builtin_trap(); /* never NaN */
        timeparse_go_duration(t, &out);
        free(t);
        if (nl == NULL)
                return 0;
        json_t *filters = json_loadb((const char *)nl + 1, size - tlen - 1, 0, NULL);
        json_t *ev =
            json_pack("{s:s, s:s, s:{s:s, s:{s:s, s:s, s:s}}, s:s}", "Type", "container", "Action",
                      "health_status: healthy", "Actor", "ID", "abc", "Attributes", "name", "web",
                      "image", "busybox:latest", "l", "v", "scope", "local");
        eng_events_match(filters, ev);
        json_decref(ev);
        json_decref(filters);
        return 0;
}
