/* libFuzzer target: request bodies checked against Docker's Go types (api/schema.c). */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        json_t *j = json_loadb((const char *)data, size, 0, NULL);
        if (j == NULL)
                return 0;
        const struct api_schema *all[] = {&api_schema_create, &api_schema_update, &api_schema_exec,
                                          &api_schema_exec_start};
        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
                char msg[512];
                if (api_schema_check(all[i], j, msg, sizeof(msg)) < 0 &&
                    (msg[0] == '\0' || strlen(msg) >= sizeof(msg)))
                        abort(); /* a refusal always says why */
        }
        json_decref(j);
        return 0;
}
