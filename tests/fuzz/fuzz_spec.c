/* libFuzzer target: config.json bytes through rt_spec_parse and rt_spec_free. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "runtime/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct rt_spec *s = NULL;
        struct gerr *err = NULL;
        int r = rt_spec_parse((const char *)data, size, "/bundle", &s, &err);
        /* A success must come with a spec and no error; a failure with an error and no spec. */
        if ((r == 0) != (s != NULL) || (r == 0) == (err != NULL))
                __builtin_trap();
        if (s != NULL && (s->root_path == NULL || s->root_path[0] != '/'))
                __builtin_trap();
        if (err != NULL && (err->msg == NULL || strncmp(err->msg, "config.json: ", 13) != 0))
                __builtin_trap();
        rt_spec_free(s);
        gerr_free(err);
        return 0;
}
