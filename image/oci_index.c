/* OCI image layout reading: index.json to the images it names (nested and multi-platform
 * indexes resolved to this host's platform), manifests checked against their media types. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "image/image_internal.h"

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

/* containerd's limit for a manifest or index read into memory. */
#define MAX_MANIFEST (4u << 20)
/* index -> index -> ... -> manifest: deeper than this is a loop or an attack. */
#define MAX_DEPTH 4

#if defined(__x86_64__)
#define HOST_ARCH "amd64"
#elif defined(__aarch64__)
#define HOST_ARCH "arm64"
#elif defined(__i386__)
#define HOST_ARCH "386"
#else
#define HOST_ARCH "unknown"
#endif

static const char *const config_types[] = {
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
};

/* The layer types docker and containerd unpack; libarchive sniffs the compression itself. */
static const char *const layer_types[] = {
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.diff.tar.zstd",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
};

static bool one_of(const char *s, const char *const *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(s, v[i]) == 0)
                        return true;
        return false;
}

const char *img_oci_host_arch(void)
{
        return HOST_ARCH;
}

void img_oci_images_free(struct img_oci_image *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(v[i].layers);
                strv_free(v[i].names);
        }
        free(v);
}

/* A descriptor's digest, size and media type checked (OCI image-spec descriptor.md). */
static int parse_desc(json_t *j, const char *where, struct img_oci_desc *d, struct gerr **err)
{
        if (!json_is_object(j))
                return img_errf(err, EINVAL, "invalid archive: %s: descriptor is not an object",
                                where);
        const char *digest = json_string_value(json_object_get(j, "digest"));
        json_t *size = json_object_get(j, "size");
        const char *mt = json_string_value(json_object_get(j, "mediaType"));
        if (digest == NULL)
                return img_errf(err, EINVAL, "invalid archive: %s: descriptor without a digest",
                                where);
        if (strncmp(digest, "sha256:", 7) != 0) {
                const char *colon = strchr(digest, ':');
                if (colon != NULL && colon != digest)
                        return img_errf(err, EINVAL,
                                        "invalid archive: %s: unsupported digest algorithm %.*s "
                                        "(only sha256)",
                                        where, (int)(colon - digest), digest);
                return img_errf(err, EINVAL, "invalid archive: %s: invalid digest %.80s", where,
                                digest);
        }
        if (!img_is_hex(digest + 7, IMG_HEX_LEN, IMG_HEX_LEN))
                return img_errf(err, EINVAL, "invalid archive: %s: invalid digest %.80s", where,
                                digest);
        if (!json_is_integer(size) || json_integer_value(size) < 0)
                return img_errf(err, EINVAL, "invalid archive: %s: descriptor %s without a size",
                                where, digest);
        snprintf(d->digest, sizeof(d->digest), "%s", digest);
        d->size = json_integer_value(size);
        snprintf(d->media_type, sizeof(d->media_type), "%s", mt ? mt : "");
        if (mt != NULL && strlen(mt) >= sizeof(d->media_type))
                return img_errf(err, EINVAL, "invalid archive: %s: media type too long", where);
        return 0;
}

/* What a blob is: the descriptor's media type, else the document's own, else its shape. */
enum kind { K_INDEX, K_MANIFEST, K_SCHEMA1, K_UNKNOWN };

static enum kind kind_of(const char *mt)
{
        if (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0)
                return K_INDEX;
        if (strcmp(mt, MT_OCI_MANIFEST) == 0 || strcmp(mt, MT_DOCKER_MANIFEST) == 0)
                return K_MANIFEST;
        if (strcmp(mt, MT_DOCKER_SCHEMA1) == 0 || strcmp(mt, MT_DOCKER_SCHEMA1_SIGNED) == 0)
                return K_SCHEMA1;
        return K_UNKNOWN;
}

static int doc_kind(const struct img_oci_desc *d, json_t *doc, enum kind *out, struct gerr **err)
{
        const char *own = json_string_value(json_object_get(doc, "mediaType"));
        if (json_integer_value(json_object_get(doc, "schemaVersion")) == 1 ||
            (own != NULL && kind_of(own) == K_SCHEMA1) || kind_of(d->media_type) == K_SCHEMA1)
                return img_errf(err, EINVAL,
                                "invalid archive: manifest %s is Docker image manifest v2 schema "
                                "1, which is not supported (convert it to schema 2 or OCI)",
                                d->digest);
        if (d->media_type[0] != '\0') {
                *out = kind_of(d->media_type);
                if (*out == K_UNKNOWN)
                        return img_errf(err, EINVAL,
                                        "invalid archive: %s has unknown media type %s (not an "
                                        "image manifest or index)",
                                        d->digest, d->media_type);
                if (own != NULL && kind_of(own) != *out)
                        return img_errf(err, EINVAL,
                                        "invalid archive: %s is %s, its descriptor says %s",
                                        d->digest, own, d->media_type);
                return 0;
        }
        if (own != NULL) {
                *out = kind_of(own);
                if (*out == K_UNKNOWN)
                        return img_errf(err, EINVAL, "invalid archive: %s has unknown media type %s",
                                        d->digest, own);
                return 0;
        }
        /* Neither says: the OCI spec allows an index or manifest without mediaType. */
        if (json_is_array(json_object_get(doc, "manifests")))
                *out = K_INDEX;
        else if (json_is_object(json_object_get(doc, "config")))
                *out = K_MANIFEST;
        else
                return img_errf(err, EINVAL,
                                "invalid archive: %s is neither an image manifest nor an index",
                                d->digest);
        return 0;
}

static int fetch_json(const struct img_oci_src *src, const struct img_oci_desc *d, json_t **out,
                      struct gerr **err)
{
        if (d->size > (int64_t)MAX_MANIFEST)
                return img_errf(err, EINVAL,
                                "invalid archive: manifest %s is too large (%lld bytes, at most "
                                "%u)",
                                d->digest, (long long)d->size, MAX_MANIFEST);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = src->get(src->ud, d, MAX_MANIFEST, &buf, &len, err);
        if (r < 0)
                return r;
        json_error_t jerr;
        *out = json_loadb(buf, len, 0, &jerr);
        if (!json_is_object(*out)) {
                json_decref(*out);
                *out = NULL;
                return img_errf(err, EINVAL, "invalid archive: %s is not a JSON object: %s",
                                d->digest, jerr.text);
        }
        return 0;
}

/* How well a descriptor's platform fits this host: -1 not at all, higher is better. */
static int platform_score(json_t *p)
{
        const char *os = json_string_value(json_object_get(p, "os"));
        const char *arch = json_string_value(json_object_get(p, "architecture"));
        const char *variant = json_string_value(json_object_get(p, "variant"));
        if (os == NULL || arch == NULL || strcmp(os, "linux") != 0 || strcmp(arch, HOST_ARCH) != 0)
                return -1;
        if (variant == NULL || *variant == '\0')
                return 3;
        /* amd64 v1 runs everywhere; the higher levels only on newer CPUs, v8 is arm64's base. */
        if (strcmp(variant, "v1") == 0 || strcmp(variant, "v8") == 0)
                return 2;
        return 0;
}

/* The manifest of an index meant for this host (attestations have platform unknown/unknown and
 * never match). A descriptor without a platform is taken when nothing matches by platform. */
static int pick_platform(json_t *manifests, const char *where, json_t **out, struct gerr **err)
{
        json_t *best = NULL, *unplatformed = NULL, *m;
        int best_score = -1;
        size_t i;
        json_array_foreach(manifests, i, m)
        {
                json_t *p = json_object_get(m, "platform");
                if (p == NULL) {
                        if (unplatformed == NULL)
                                unplatformed = m;
                        continue;
                }
                int sc = platform_score(p);
                if (sc > best_score) {
                        best_score = sc;
                        best = m;
                }
        }
        *out = best ? best : unplatformed;
        if (*out == NULL) {
                json_t *p = json_object_get(json_array_get(manifests, 0), "platform");
                return img_errf(err, ENOENT,
                                "invalid archive: %s has no image for linux/%s (it has %s/%s%s)",
                                where, HOST_ARCH,
                                json_string_value(json_object_get(p, "os")) ?: "?",
                                json_string_value(json_object_get(p, "architecture")) ?: "?",
                                json_array_size(manifests) > 1 ? ", ..." : "");
        }
        return 0;
}

/* A manifest's config and layers, each descriptor checked. */
static int parse_manifest(const struct img_oci_desc *d, json_t *doc, struct img_oci_image *img,
                          struct gerr **err)
{
        char where[IMG_HEX_LEN + 32];
        snprintf(where, sizeof(where), "manifest %s", d->digest);
        int r = parse_desc(json_object_get(doc, "config"), where, &img->config, err);
        if (r < 0)
                return r;
        if (!one_of(img->config.media_type, config_types, ARRAY_SIZE(config_types)))
                return img_errf(err, EINVAL,
                                "invalid archive: %s has a config of unknown media type %s (not "
                                "a container image)",
                                where, img->config.media_type[0] ? img->config.media_type
                                                                 : "(none)");
        json_t *layers = json_object_get(doc, "layers");
        if (!json_is_array(layers))
                return img_errf(err, EINVAL, "invalid archive: %s has no layers array", where);
        size_t n = json_array_size(layers);
        img->layers = calloc(n + 1, sizeof(*img->layers));
        if (img->layers == NULL)
                return gerr_set(err, ENOMEM, "load");
        img->n_layers = n;
        for (size_t i = 0; i < n; i++) {
                struct img_oci_desc *l = &img->layers[i];
                r = parse_desc(json_array_get(layers, i), where, l, err);
                if (r < 0)
                        return r;
                if (!one_of(l->media_type, layer_types, ARRAY_SIZE(layer_types)))
                        return img_errf(err, EINVAL,
                                        "invalid archive: %s: layer %s has unknown media type %s",
                                        where, l->digest, l->media_type[0] ? l->media_type : "(none)");
        }
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
        _cleanup_json_ json_t *doc = NULL;
        int r = fetch_json(src, d, &doc, err);
        enum kind k = K_UNKNOWN;
        if (r >= 0)
                r = doc_kind(d, doc, &k, err);
        if (r < 0)
                return r;
        if (k == K_MANIFEST)
                return parse_manifest(d, doc, img, err);
        json_t *manifests = json_object_get(doc, "manifests");
        char where[IMG_HEX_LEN + 32];
        snprintf(where, sizeof(where), "index %s", d->digest);
        if (json_array_size(manifests) == 0)
                return img_errf(err, EINVAL, "invalid archive: %s lists no manifests", where);
        json_t *pick = NULL;
        r = pick_platform(manifests, where, &pick, err);
        struct img_oci_desc child;
        if (r >= 0)
                r = parse_desc(pick, where, &child, err);
        if (r < 0)
                return r;
        return resolve(src, &child, depth + 1, img, err);
}

/* The names a top-level descriptor gives its image: containerd's full name, else the OCI ref
 * name when it is a reference (a bare "latest" names no repository: the image loads untagged,
 * as containerd does without a prefix). Digest references tag nothing. */
static int names_of(json_t *desc, char ***out, struct gerr **err)
{
        json_t *ann = json_object_get(desc, "annotations");
        const char *name = json_string_value(json_object_get(ann, "io.containerd.image.name"));
        const char *ref = json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
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

int img_oci_read_index(const char *text, size_t len, const struct img_oci_src *src,
                       struct img_oci_image **out, size_t *n_out, struct gerr **err)
{
        json_error_t jerr;
        _cleanup_json_ json_t *idx = json_loadb(text, len, 0, &jerr);
        if (!json_is_object(idx))
                return img_errf(err, EINVAL, "invalid archive: index.json: %s",
                                idx ? "not a JSON object" : jerr.text);
        json_t *sv = json_object_get(idx, "schemaVersion");
        if (sv != NULL && json_integer_value(sv) != 2)
                return img_errf(err, EINVAL, "invalid archive: index.json: schemaVersion %lld, not 2",
                                (long long)json_integer_value(sv));
        const char *mt = json_string_value(json_object_get(idx, "mediaType"));
        if (mt != NULL && strcmp(mt, MT_OCI_INDEX) != 0)
                return img_errf(err, EINVAL, "invalid archive: index.json has media type %s", mt);
        json_t *manifests = json_object_get(idx, "manifests");
        if (!json_is_array(manifests))
                return img_errf(err, EINVAL, "invalid archive: index.json has no manifests array");
        size_t n = json_array_size(manifests);
        if (n == 0)
                return img_errf(err, EINVAL, "invalid archive: index.json lists no images");
        struct img_oci_image *v = calloc(n, sizeof(*v));
        if (v == NULL)
                return gerr_set(err, ENOMEM, "load");
        /* Top-level entries are images of their own (tags), but one for another platform is
         * skipped: a multi-platform layout may list its manifests here directly. */
        size_t k = 0, foreign = 0;
        int r = 0;
        json_t *m, *first_foreign = NULL;
        size_t i;
        json_array_foreach(manifests, i, m)
        {
                json_t *p = json_object_get(m, "platform");
                if (p != NULL && platform_score(p) < 0) {
                        foreign++;
                        first_foreign = first_foreign ? first_foreign : m;
                        continue;
                }
                struct img_oci_desc d;
                r = parse_desc(m, "index.json", &d, err);
                if (r >= 0)
                        r = names_of(m, &v[k].names, err);
                if (r >= 0)
                        r = resolve(src, &d, 0, &v[k], err);
                k++;
                if (r < 0)
                        break;
        }
        if (r >= 0 && k == 0) {
                json_t *p = json_object_get(first_foreign, "platform");
                r = img_errf(err, ENOENT,
                             "invalid archive: index.json has no image for linux/%s (it has "
                             "%s/%s%s)",
                             HOST_ARCH, json_string_value(json_object_get(p, "os")) ?: "?",
                             json_string_value(json_object_get(p, "architecture")) ?: "?",
                             foreign > 1 ? ", ..." : "");
        }
        if (r < 0) {
                img_oci_images_free(v, k);
                return r;
        }
        *out = v;
        *n_out = k;
        return 0;
}
