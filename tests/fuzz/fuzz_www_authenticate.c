/* libFuzzer target: WWW-Authenticate challenges and X-Registry-Auth headers from outside. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/registry_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);
        if (s == NULL)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';
        struct reg_challenge c;
        if (reg_challenge_parse(s, &c) == 0) {
                if (c.scheme == REG_AUTH_BEARER && c.realm == NULL)
                        __builtin_trap(); /* a bearer challenge needs its realm */
                reg_challenge_clear(&c);
        }
        struct img_auth a;
        struct gerr *err = NULL;
        if (img_auth_from_header(s, &a, &err) == 0)
                img_auth_clear(&a);
        gerr_free(err);
        char *dec;
        size_t n;
        if (reg_unbase64(s, &dec, &n) == 0) {
                char *again = reg_base64(dec, n);
                free(again);
                free(dec);
        }
        free(s);
        return 0;
}
