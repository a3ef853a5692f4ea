/* libFuzzer target: Docker-format seccomp profiles (--security-opt seccomp=...) turned into OCI's linux.seccomp. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "engine/engine_internal.h"
#include "engine/spec_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = malloc(size + 1);
        if (text == NULL)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        _cleanup_json_ json_t *caps = json_pack("[s, s]", "CAP_CHOWN", "CAP_SYS_ADMIN");
        json_t *out = NULL;
        struct gerr *err = NULL;
        if (eng_seccomp_from_docker(text, caps, &out, &err) == 0) {
                /* What comes out is what the runtime's parser reads: it must serialize. */
                char *s = json_dumps(out, JSON_COMPACT);
                if (s == NULL)
                        abort();
                free(s);
        }
        json_decref(out);
        gerr_free(err);
        free(text);
        return 0;
}
