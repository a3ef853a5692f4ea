/* OCI image layout reading: index.json to the images it names, nested and multi-platform
 * indexes resolved to this host's platform. Manifests, indexes and the platform choice are
 * manifest.c's, as for a pull; what is the layout's own is here: names, blobs, nesting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "image/registry_internal.h"

/* index -> index -> ... -> manifest: deeper than this is a loop or an attack. */
#define MAX_DEPTH 4

void img_oci_images_free(struct img_oci_image *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(v[i].layers);
                strv_free(v[i].names);
        }
        free(v);
}

static void to_desc(const struct reg_desc *r, struct img_oci_desc *d)
{
        snprintf(d->digest, sizeof(d->digest), "%s", r->digest);
        d->size = r->size;
        snprintf(d->media_type, sizeof(d->media_type), "%s", r->media_type ? r->media_type : "");
}

static bool is_index_type(const char *mt)
{
        return strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0;
}

/* A descriptor's blob parsed as a manifest or index. The descriptor's media type is taken as the
 * Content-Type a registry would send (schema 1 is refused by it too); a known one must agree
 * with the document's kind, an unknown one is refused. */
static int fetch(const struct img_oci_src *src, const struct img_oci_desc *d,
                 struct reg_manifest *m, struct gerr **err)
{
        const char *mt = d->media_type;
        bool known = *mt == '\0' || is_index_type(mt) || strcmp(mt, MT_OCI_MANIFEST) == 0 ||
                     strcmp(mt, MT_DOCKER_MANIFEST) == 0 || strcmp(mt, MT_DOCKER_SCHEMA1) == 0 ||
                     strcmp(mt, MT_DOCKER_SCHEMA1_SIGNED) == 0;
        if (!known)
                return img_errf(err, EINVAL,
                                "invalid archive: %s has unknown media type %s (not an image "
                                "manifest or index)",
                                d->digest, mt);
        if (d->size > (int64_t)REG_MANIFEST_MAX)
                return img_errf(err, EINVAL,
                                "invalid archive: manifest %s is too large (%lld bytes, at most "
                                "%u)",
                                d->digest, (long long)d->size, REG_MANIFEST_MAX);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = src->get(src->ud, d, REG_MANIFEST_MAX, &buf, &len, err);
        if (r < 0)
                return r;
        r = reg_manifest_parse(*mt ? mt : NULL, buf, len, NULL, m, err);
        if (r < 0)
                return gerr_wrap(err, "invalid archive: manifest %s", d->digest);
        if (*mt != '\0' && is_index_type(mt) != (m->kind == REG_INDEX)) {
                r = img_errf(err, EINVAL, "invalid archive: %s is %s, its descriptor says %s",
                             d->digest, m->media_type, mt);
                reg_manifest_clear(m);
        }
        return r;
}

/* The entry of an index for this host; one without a platform when none has a fitting one
 * (attestations have platform unknown/unknown and never fit). */
static int pick(const struct reg_manifest *ix, const char *where, size_t *out, struct gerr **err)
{
        struct reg_platform host;
        reg_platform_host(&host);
        int i = reg_index_choose(ix, &host);
        for (size_t j = 0; i < 0 && j < ix->n; j++)
                if (!ix->descs[j].has_platform)
                        i = (int)j;
        if (i < 0)
                return img_errf(err, ENOENT,
                                "invalid archive: %s has no image for %s/%s (it has %s/%s%s)",
                                where, host.os, host.arch, ix->descs[0].platform.os,
                                ix->descs[0].platform.arch, ix->n > 1 ? ", ..." : "");
        *out = (size_t)i;
        return 0;
}

static int take_manifest(const struct img_oci_desc *d, const struct reg_manifest *m,
                         struct img_oci_image *img, struct gerr **err)
{
        img->layers = calloc(m->n + 1, sizeof(*img->layers));
        if (img->layers == NULL)
                return gerr_set(err, ENOMEM, "load");
        img->n_layers = m->n;
        for (size_t i = 0; i < m->n; i++)
                to_desc(&m->descs[i], &img->layers[i]);
        to_desc(&m->config, &img->config);
        snprintf(img->manifest, sizeof(img->manifest), "%s", d->digest);
        return 0;
}

/* A descriptor down to one image manifest for this host. */
static int resolve(const struct img_oci_src *src, const struct img_oci_desc *d, int depth,
                   struct img_oci_image *img, struct gerr **err)
{
        if (depth > MAX_DEPTH)
                return img_errf(err, ELOOP,
                                "invalid archive: indexes nested more than %d deep at %s",
                                MAX_DEPTH, d->digest);
        struct reg_manifest m;
        int r = fetch(src, d, &m, err);
        if (r < 0)
                return r;
        if (m.kind == REG_MANIFEST) {
                r = take_manifest(d, &m, img, err);
                reg_manifest_clear(&m);
                return r;
        }
        char where[IMG_HEX_LEN + 32];
        snprintf(where, sizeof(where), "index %s", d->digest);
        size_t i = 0;
        r = m.n == 0 ? img_errf(err, EINVAL, "invalid archive: %s lists no manifests", where)
                     : pick(&m, where, &i, err);
        struct img_oci_desc child;
        if (r >= 0)
                to_desc(&m.descs[i], &child);
        reg_manifest_clear(&m);
        return r < 0 ? r : resolve(src, &child, depth + 1, img, err);
}

/* The names a top-level descriptor gives its image: containerd's full name, else the OCI ref
 * name when it is a reference (a bare "latest" names no repository: the image loads untagged,
 * as containerd does without a prefix). Digest references tag nothing. */
static int names_of(json_t *desc, char ***out, struct gerr **err)
{
        json_t *ann = json_object_get(desc, "annotations");
        const char *name = json_string_value(json_object_get(ann, "io.containerd.image.name"));
        const char *ref =
            json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
        if (name == NULL && ref != NULL && strpbrk(ref, "/:@") != NULL)
                name = ref;
        *out = calloc(2, sizeof(char *));
        if (*out == NULL)
                return gerr_set(err, ENOMEM, "load");
        if (name == NULL || strchr(name, '@') != NULL)
                return 0;
        int r = img_normalize(name, &(*out)[0], err);
        if (r < 0)
                return gerr_wrap(err, "invalid archive: image name %.200s in index.json", name);
        return 0;
}

/* Whether a top-level entry is for this host (or says no platform). */
static bool fits_host(const struct reg_desc *d)
{
        if (!d->has_platform)
                return true;
        struct reg_platform host;
        reg_platform_host(&host);
        const struct reg_manifest one = {.kind = REG_INDEX, .descs = (struct reg_desc *)d, .n = 1};
        return reg_index_choose(&one, &host) == 0;
}

int img_oci_read_index(const char *text, size_t len, const struct img_oci_src *src,
                       struct img_oci_image **out, size_t *n_out, struct gerr **err)
{
        /* index.json is an image index whose entries carry the names (annotations), which the
         * parsed descriptors do not keep: the JSON is read beside them, entry for entry. */
        struct reg_manifest idx;
        int r = reg_manifest_parse(MT_OCI_INDEX, text, len, "index.json", &idx, err);
        if (r >= 0 && idx.kind != REG_INDEX)
                r = img_errf(err, EINVAL, "invalid archive: index.json is %s, not an image index",
                             idx.media_type);
        else if (r < 0)
                r = gerr_wrap(err, "invalid archive: index.json");
        if (r >= 0 && idx.n == 0)
                r = img_errf(err, EINVAL, "invalid archive: index.json lists no images");
        _cleanup_json_ json_t *doc = r >= 0 ? json_loadb(text, len, 0, NULL) : NULL;
        json_t *entries = json_object_get(doc, "manifests");
        struct img_oci_image *v = r >= 0 ? calloc(idx.n, sizeof(*v)) : NULL;
        if (r >= 0 && v == NULL)
                r = gerr_set(err, ENOMEM, "load");
        /* Top-level entries are images of their own (tags), but one for another platform is
         * skipped: a multi-platform layout may list its manifests here directly. */
        size_t k = 0, foreign = 0;
        const struct reg_desc *first_foreign = NULL;
        for (size_t i = 0; r >= 0 && i < idx.n; i++) {
                if (!fits_host(&idx.descs[i])) {
                        foreign++;
                        first_foreign = first_foreign ? first_foreign : &idx.descs[i];
                        continue;
                }
                struct img_oci_desc d;
                to_desc(&idx.descs[i], &d);
                r = names_of(json_array_get(entries, i), &v[k].names, err);
                if (r >= 0)
                        r = resolve(src, &d, 0, &v[k], err);
                k++;
        }
        if (r >= 0 && k == 0) {
                struct reg_platform host;
                reg_platform_host(&host);
                r = img_errf(err, ENOENT,
                             "invalid archive: index.json has no image for %s/%s (it has %s/%s%s)",
                             host.os, host.arch, first_foreign->platform.os,
                             first_foreign->platform.arch, foreign > 1 ? ", ..." : "");
        }
        reg_manifest_clear(&idx);
        if (r < 0) {
                img_oci_images_free(v, k);
                return r;
        }
        *out = v;
        *n_out = k;
        return 0;
}
