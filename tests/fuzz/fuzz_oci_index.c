/* libFuzzer target: index.json and the manifests and indexes it leads to through
 * img_oci_read_index. Input: NUL-separated chunks, the first index.json, the others blobs; a
 * digest picks the blob numbered by its first hex byte (mod the count), so that the fuzzer need
 * not forge sha256 sums to reach nested indexes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "image/image_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct chunks {
        const char *v[16];
        size_t len[16];
        size_t n;
};

static int get(void *ud, const struct img_oci_desc *d, size_t max, char **buf, size_t *len,
               struct gerr **err)
{
        struct chunks *c = ud;
        if (c->n < 2)
                return gerr_set(err, 2, "blob %s not found", d->digest);
        const char *hex = img_hex(d->digest);
        unsigned pick = (unsigned)strtoul((char[]){hex[0], hex[1], 0}, NULL, 16);
        size_t i = 1 + pick % (c->n - 1);
        if (c->len[i] > max || (int64_t)c->len[i] != d->size)
                return gerr_set(err, 22, "blob %s: wrong size", d->digest);
        *buf = malloc(c->len[i] + 1);
        if (*buf == NULL)
                abort();
        memcpy(*buf, c->v[i], c->len[i]);
        *len = c->len[i];
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct chunks c = {0};
        const char *p = (const char *)data, *end = p + size;
        while (c.n < 16) {
                const char *nul = memchr(p, '\0', (size_t)(end - p));
                c.v[c.n] = p;
                c.len[c.n] = (size_t)((nul ? nul : end) - p);
                c.n++;
                if (nul == NULL)
                        break;
                p = nul + 1;
        }
        const struct img_oci_src src = {get, &c};
        struct img_oci_image *imgs = NULL;
        size_t n = 0;
        struct gerr *err = NULL;
        int r = img_oci_read_index(c.v[0], c.len[0], &src, &imgs, &n, &err);
        if ((r == 0) == (err != NULL) || (r == 0 && n == 0))
                __builtin_trap();
        for (size_t i = 0; i < n; i++) {
                /* what load relies on: sha256 digests of 64 hex digits, sizes not negative */
                if (strncmp(imgs[i].config.digest, "sha256:", 7) != 0 ||
                    !img_is_hex(imgs[i].config.digest + 7, 64, 64) || imgs[i].config.size < 0)
                        __builtin_trap();
                for (size_t j = 0; j < imgs[i].n_layers; j++)
                        if (!img_is_hex(img_hex(imgs[i].layers[j].digest), 64, 64) ||
                            imgs[i].layers[j].size < 0)
                                __builtin_trap();
                if (imgs[i].names == NULL)
                        __builtin_trap();
        }
        img_oci_images_free(imgs, n);
        gerr_free(err);
        return 0;
}
