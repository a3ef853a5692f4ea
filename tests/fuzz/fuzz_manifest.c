/* libFuzzer target: registry manifest and index bytes through the parser and platform choice. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "image/registry_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* The first byte picks the Content-Type the registry would have sent. */
        static const char *const ctypes[] = {NULL, MT_DOCKER_MANIFEST, MT_OCI_MANIFEST, MT_OCI_INDEX,
                                             MT_DOCKER_LIST, MT_DOCKER_SCHEMA1_SIGNED,
                                             "application/json; charset=utf-8"};
        if (size == 0)
                return 0;
        const char *ct = ctypes[data[0] % (sizeof(ctypes) / sizeof(ctypes[0]))];
        struct reg_manifest m;
        struct gerr *err = NULL;
        if (reg_manifest_parse(ct, (const char *)data + 1, size - 1, "fuzz/x", &m, &err) == 0) {
                if (m.kind == REG_INDEX) {
                        static const char *const plats[] = {"linux/amd64", "linux/arm64",
                                                            "linux/arm/v7", "amd64/v3"};
                        for (size_t i = 0; i < 4; i++) {
                                struct reg_platform p;
                                if (reg_platform_parse(plats[i], &p, NULL) == 0) {
                                        int k = reg_index_choose(&m, &p);
                                        if (k >= (int)m.n)
                                                __builtin_trap();
                                }
                        }
                } else {
                        for (size_t i = 0; i < m.n; i++)
                                if (reg_layer_compression(m.descs[i].media_type) < 0)
                                        __builtin_trap(); /* the parser lets no unknown type by */
                }
                reg_manifest_clear(&m);
        } else if (err == NULL || err->msg == NULL) {
                __builtin_trap(); /* every refusal says why */
        }
        gerr_free(err);
        return 0;
}
