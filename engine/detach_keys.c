/* Detach keys: docker's "ctrl-p,ctrl-q" syntax and the matcher that watches an attached tty's input
 * for them. */
#include <errno.h>
#include <string.h>

#include "engine/engine_internal.h"

/* moby/term ToBytes: single characters, "ctrl-@" .. "ctrl-_" (0 .. 31) and "DEL". */
int eng_detach_keys_parse(const char *spec, struct eng_detach_keys *out, struct gerr **err)
{
        *out = (struct eng_detach_keys){0};
        if (spec == NULL || *spec == '\0')
                spec = ENG_DETACH_KEYS_DEFAULT;
        const char *p = spec;
        for (;;) {
                const char *comma = strchr(p, ',');
                size_t n = comma ? (size_t)(comma - p) : strlen(p);
                int code = -1;
                static const char ctrl[] = "@abcdefghijklmnopqrstuvwxyz[\\]^_";
                const char *at = n == 6 && strncmp(p, "ctrl-", 5) == 0 ? strchr(ctrl, p[5]) : NULL;
                if (n == 1)
                        code = (unsigned char)p[0];
                else if (at != NULL && p[5] != '\0')
                        code = (int)(at - ctrl);
                else if (n == 3 && strncmp(p, "DEL", 3) == 0)
                        code = 127;
                if (code < 0 || out->len == sizeof(out->keys))
                        return eng_err(err, EINVAL, "Invalid detach keys (%s) provided", spec);
                out->keys[out->len++] = (unsigned char)code;
                if (comma == NULL)
                        break;
                p = comma + 1;
        }
        return 0;
}

size_t eng_detach_keys_filter(struct eng_detach_keys *k, const char *in, size_t n, char *out,
                              bool *detach)
{
        size_t o = 0;
        *detach = false;
        for (size_t i = 0; i < n; i++) {
                unsigned char b = (unsigned char)in[i];
                if (b == k->keys[k->matched]) {
                        if (++k->matched == k->len) {
                                *detach = true;
                                k->matched = 0;
                                return o;
                        }
                        continue;
                }
                /* Not the sequence after all: what was held back goes through, and this byte
                 * may start the sequence again. */
                memcpy(out + o, k->keys, k->matched);
                o += k->matched;
                k->matched = 0;
                if (b == k->keys[0]) {
                        k->matched = 1;
                        if (k->len == 1) {
                                *detach = true;
                                k->matched = 0;
                                return o;
                        }
                        continue;
                }
                out[o++] = (char)b;
        }
        return o;
}
