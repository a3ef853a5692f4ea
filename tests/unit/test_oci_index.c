/* image/oci_index.c: index.json to images (platform picks, names, refusals) over in-memory blobs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "image/image_internal.h"

/* Blobs by digest: the real sha256 of each text. */
struct blobs {
        char digest[8][IMG_HEX_LEN + 8];
        char *text[8];
        size_t n;
};

static const char *add(struct blobs *b, const char *text)
{
        char hex[IMG_HEX_LEN + 1];
        img_sha256_hex(text, strlen(text), hex);
        snprintf(b->digest[b->n], sizeof(b->digest[b->n]), "sha256:%s", hex);
        b->text[b->n] = strdup(text);
        return b->digest[b->n++];
}

static void blobs_free(struct blobs *b)
{
        for (size_t i = 0; i < b->n; i++)
                free(b->text[i]);
}

static int get(void *ud, const struct img_oci_desc *d, size_t max, char **buf, size_t *len,
               struct gerr **err)
{
        struct blobs *b = ud;
        for (size_t i = 0; i < b->n; i++) {
                if (strcmp(b->digest[i], d->digest) != 0)
                        continue;
                if (strlen(b->text[i]) > max || (int64_t)strlen(b->text[i]) != d->size)
                        return gerr_set(err, EINVAL, "size of %s", d->digest);
                *buf = strdup(b->text[i]);
                *len = strlen(b->text[i]);
                return 0;
        }
        return gerr_set(err, ENOENT, "blob %s not found", d->digest);
}

/* A manifest of one gzip layer whose config digest ends in c. */
static const char *manifest(struct blobs *b, char c)
{
        char text[1024];
        snprintf(text, sizeof(text),
                 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                 "\"digest\":\"sha256:%063d%c\",\"size\":10},\"layers\":[{\"mediaType\":"
                 "\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:%064d\","
                 "\"size\":20}]}",
                 0, c, 0);
        return add(b, text);
}

static size_t size_of(struct blobs *b, const char *digest)
{
        for (size_t i = 0; i < b->n; i++)
                if (strcmp(b->digest[i], digest) == 0)
                        return strlen(b->text[i]);
        return 0;
}

static int read_index(struct blobs *b, const char *index, struct img_oci_image **imgs, size_t *n,
                      struct gerr **err)
{
        const struct img_oci_src src = {get, b};
        return img_oci_read_index(index, strlen(index), &src, imgs, n, err);
}

static void nested_index_picks_host_platform(void **state)
{
        (void)state;
        struct blobs b = {0};
        const char *arm = manifest(&b, 'a'), *amd = manifest(&b, 'b');
        char text[2048];
        snprintf(text, sizeof(text),
                 "{\"schemaVersion\":2,\"manifests\":["
                 "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\","
                 "\"size\":%zu,\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}},"
                 "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\","
                 "\"size\":%zu,\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"}}]}",
                 arm, size_of(&b, arm), amd, size_of(&b, amd), img_oci_host_arch());
        const char *nested = add(&b, text);
        snprintf(text, sizeof(text),
                 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image."
                 "index.v1+json\",\"digest\":\"%s\",\"size\":%zu,\"annotations\":{"
                 "\"org.opencontainers.image.ref.name\":\"multi:1\"}}]}",
                 nested, size_of(&b, nested));
        struct img_oci_image *imgs = NULL;
        size_t n = 0;
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(read_index(&b, text, &imgs, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_string_equal(imgs[0].manifest, amd);
        assert_string_equal(imgs[0].names[0], "docker.io/library/multi:1");
        assert_int_equal(imgs[0].n_layers, 1);
        assert_string_equal(imgs[0].layers[0].media_type,
                            "application/vnd.oci.image.layer.v1.tar+gzip");
        img_oci_images_free(imgs, n);
        blobs_free(&b);
}

static void names_from_annotations(void **state)
{
        (void)state;
        struct blobs b = {0};
        const char *m = manifest(&b, 'c');
        size_t sz = size_of(&b, m);
        char text[2048];
        snprintf(text, sizeof(text),
                 "{\"schemaVersion\":2,\"manifests\":["
                 "{\"digest\":\"%s\",\"size\":%zu,\"annotations\":{\"io.containerd.image.name\":"
                 "\"localhost:5000/a/b:v1\",\"org.opencontainers.image.ref.name\":\"v1\"}},"
                 "{\"digest\":\"%s\",\"size\":%zu,\"annotations\":{"
                 "\"org.opencontainers.image.ref.name\":\"latest\"}},"
                 "{\"digest\":\"%s\",\"size\":%zu}]}",
                 m, sz, m, sz, m, sz);
        struct img_oci_image *imgs = NULL;
        size_t n = 0;
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(read_index(&b, text, &imgs, &n, &err), 0);
        assert_int_equal(n, 3);
        assert_string_equal(imgs[0].names[0], "localhost:5000/a/b:v1");
        assert_null(imgs[1].names[0]); /* a bare tag names no repository */
        assert_null(imgs[2].names[0]);
        img_oci_images_free(imgs, n);
        blobs_free(&b);
}

/* index.json text (with %s for one blob's digest and %zu its size) refused with needle. */
static void refused(struct blobs *b, const char *fmt, const char *digest, const char *needle)
{
        char text[4096];
        snprintf(text, sizeof(text), fmt, digest, size_of(b, digest));
        struct img_oci_image *imgs = NULL;
        size_t n = 0;
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_true(read_index(b, text, &imgs, &n, &err) < 0);
        assert_non_null(err);
        if (strstr(err->msg, needle) == NULL)
                fail_msg("'%s' not in '%s'", needle, err->msg);
        assert_null(imgs);
}

static void bad_layouts_refused(void **state)
{
        (void)state;
        struct blobs b = {0};
        const char *m = manifest(&b, 'd');
        const char *s1 = add(&b, "{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}");
        const char *self = "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"%s\",\"size\":%zu}]}";
        refused(&b, self, s1, "schema 1, which is not supported");
        refused(&b,
                "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/x-unknown\","
                "\"digest\":\"%s\",\"size\":%zu}]}",
                m, "has unknown media type application/x-unknown");
        refused(&b,
                "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"sha512:%s\",\"size\":%zu}]}", m,
                "unsupported digest algorithm sha512");
        refused(&b,
                "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"%s\",\"size\":%zu,"
                "\"platform\":{\"os\":\"linux\",\"architecture\":\"s390x\"}}]}",
                m, "has no image for linux/");
        refused(&b,
                "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"%s\",\"size\":%zu,"
                "\"annotations\":{\"io.containerd.image.name\":\"Bad Name!\"}}]}",
                m, "image name Bad Name! in index.json");
        refused(&b, "{\"schemaVersion\":3,\"manifests\":[{\"digest\":\"%s\",\"size\":%zu}]}", m,
                "schemaVersion 3");
        /* a nested index with nothing in it */
        const char *idx = add(&b, "{\"schemaVersion\":2,\"manifests\":[]}");
        refused(&b, "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image."
                    "index.v1+json\",\"digest\":\"%s\",\"size\":%zu}]}",
                idx, "lists no manifests");
        blobs_free(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(nested_index_picks_host_platform),
            cmocka_unit_test(names_from_annotations),
            cmocka_unit_test(bad_layouts_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
