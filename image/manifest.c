/* Manifests and indexes (Docker schema 2, OCI image spec 1.1) and platform choice in an index. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/cleanup.h"
#include "image/registry_internal.h"

void reg_manifest_clear(struct reg_manifest *m)
{
        free(m->media_type);
        free(m->config.media_type);
        for (size_t i = 0; i < m->n; i++)
                free(m->descs[i].media_type);
        free(m->descs);
        memset(m, 0, sizeof(*m));
}

int reg_layer_compression(const char *mt)
{
        if (mt == NULL)
                return -1;
        if (strcmp(mt, MT_DOCKER_LAYER_GZIP) == 0 || strcmp(mt, MT_OCI_LAYER_GZIP) == 0 ||
            strcmp(mt, MT_DOCKER_FOREIGN) == 0 || strcmp(mt, MT_OCI_NONDIST_GZIP) == 0)
                return 1;
        if (strcmp(mt, MT_OCI_LAYER_ZSTD) == 0)
                return 2;
        if (strcmp(mt, MT_DOCKER_LAYER_TAR) == 0 || strcmp(mt, MT_OCI_LAYER_TAR) == 0)
                return 0;
        return -1;
}

static bool copy_str(char *dst, size_t n, json_t *v)
{
        const char *s = json_string_value(v);
        if (s == NULL)
                return v == NULL;
        if (strlen(s) >= n)
                return false;
        strcpy(dst, s);
        return true;
}

/* One descriptor: mediaType, digest (sha256 only: the store is sha256), size, platform. */
static int parse_desc(json_t *j, const char *what, size_t i, struct reg_desc *d, struct gerr **err)
{
        if (!json_is_object(j))
                return img_errf(err, EINVAL, "invalid manifest: %s %zu is not an object", what, i);
        const char *mt = json_string_value(json_object_get(j, "mediaType"));
        const char *dg = json_string_value(json_object_get(j, "digest"));
        json_t *size = json_object_get(j, "size");
        if (dg == NULL || strncmp(dg, "sha256:", 7) != 0 || !img_is_hex(dg + 7, 64, 64))
                return img_errf(err, EINVAL, "invalid manifest: %s %zu has digest %s", what, i,
                                dg ? dg : "(none)");
        if (!json_is_integer(size) || json_integer_value(size) < 0)
                return img_errf(err, EINVAL, "invalid manifest: %s %zu has no valid size", what,
                                i);
        snprintf(d->digest, sizeof(d->digest), "%s", dg);
        d->size = json_integer_value(size);
        d->media_type = strdup(mt ? mt : "");
        if (d->media_type == NULL)
                return gerr_set(err, ENOMEM, "manifest");
        json_t *p = json_object_get(j, "platform");
        if (json_is_object(p)) {
                if (!copy_str(d->platform.os, sizeof(d->platform.os), json_object_get(p, "os")) ||
                    !copy_str(d->platform.arch, sizeof(d->platform.arch),
                              json_object_get(p, "architecture")) ||
                    !copy_str(d->platform.variant, sizeof(d->platform.variant),
                              json_object_get(p, "variant")))
                        return img_errf(err, EINVAL, "invalid manifest: %s %zu: bad platform",
                                        what, i);
                d->has_platform = true;
        }
        return 0;
}

static int parse_descs(json_t *arr, const char *what, struct reg_manifest *m, struct gerr **err)
{
        if (!json_is_array(arr))
                return img_errf(err, EINVAL, "invalid manifest: no %ss", what);
        size_t n = json_array_size(arr);
        if (n > 1000)
                return img_errf(err, EINVAL, "invalid manifest: %zu %ss", n, what);
        m->descs = calloc(n ? n : 1, sizeof(*m->descs));
        if (m->descs == NULL)
                return gerr_set(err, ENOMEM, "manifest");
        for (size_t i = 0; i < n; i++) {
                int r = parse_desc(json_array_get(arr, i), what, i, &m->descs[i], err);
                m->n = i + 1;
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool is_schema1(const char *mt)
{
        return mt != NULL && (strcmp(mt, MT_DOCKER_SCHEMA1) == 0 ||
                              strcmp(mt, MT_DOCKER_SCHEMA1_SIGNED) == 0 ||
                              strcmp(mt, "application/json") == 0);
}

static int parse(const char *ctype, const char *body, size_t len, const char *name,
                 struct reg_manifest *m, struct gerr **err)
{
        if (len > REG_MANIFEST_MAX)
                return img_errf(err, EINVAL, "manifest too large: %zu bytes (limit %u)", len,
                                REG_MANIFEST_MAX);
        json_error_t jerr;
        _cleanup_json_ json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(j))
                return img_errf(err, EINVAL, "invalid manifest: %s", j ? "not an object"
                                                                       : jerr.text);
        const char *mt = json_string_value(json_object_get(j, "mediaType"));
        json_t *sv = json_object_get(j, "schemaVersion");
        /* A registry's Content-Type may carry parameters ("; charset=utf-8"). */
        _cleanup_free_ char *ct = ctype ? strndup(ctype, strcspn(ctype, "; ")) : NULL;
        if ((json_is_integer(sv) && json_integer_value(sv) == 1) || is_schema1(mt) ||
            (ct != NULL && strcmp(ct, "application/json") != 0 && is_schema1(ct)))
                return img_errf(err, ENOTSUP,
                                "Docker Image Format v1 and Docker Image manifest version 2, "
                                "schema 1 support has been removed. Suggest the author of %s to "
                                "upgrade the image to the OCI Format or Docker Image manifest "
                                "v2, schema 2. More information at "
                                "https://docs.docker.com/go/deprecated-image-specs/",
                                name ? name : "the image");
        if (!json_is_integer(sv) || json_integer_value(sv) != 2)
                return img_errf(err, EINVAL, "invalid manifest: schemaVersion is not 2");
        /* OCI manifests may leave mediaType out: the Content-Type, then the shape, decide. */
        if (mt == NULL && ct != NULL && strcmp(ct, "application/json") != 0 &&
            strcmp(ct, "application/octet-stream") != 0)
                mt = ct;
        if (mt == NULL)
                mt = json_object_get(j, "manifests") ? MT_OCI_INDEX : MT_OCI_MANIFEST;
        m->media_type = strdup(mt);
        if (m->media_type == NULL)
                return gerr_set(err, ENOMEM, "manifest");
        if (strcmp(mt, MT_DOCKER_LIST) == 0 || strcmp(mt, MT_OCI_INDEX) == 0) {
                m->kind = REG_INDEX;
                return parse_descs(json_object_get(j, "manifests"), "manifest", m, err);
        }
        if (strcmp(mt, MT_DOCKER_MANIFEST) != 0 && strcmp(mt, MT_OCI_MANIFEST) != 0)
                return img_errf(err, EINVAL, "unsupported manifest media type %s", mt);
        m->kind = REG_MANIFEST;
        int r = parse_desc(json_object_get(j, "config"), "config", 0, &m->config, err);
        if (r < 0)
                return r;
        const char *cmt = m->config.media_type;
        if (strcmp(cmt, MT_DOCKER_CONFIG) != 0 && strcmp(cmt, MT_OCI_CONFIG) != 0)
                return img_errf(err, EINVAL,
                                "unsupported config media type %s: not a container image",
                                *cmt ? cmt : "(none)");
        r = parse_descs(json_object_get(j, "layers"), "layer", m, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n; i++)
                if (reg_layer_compression(m->descs[i].media_type) < 0)
                        return img_errf(err, EINVAL, "unsupported layer media type %s",
                                        *m->descs[i].media_type ? m->descs[i].media_type
                                                                : "(none)");
        return 0;
}

int reg_manifest_parse(const char *ctype, const char *body, size_t len, const char *name,
                       struct reg_manifest *out, struct gerr **err)
{
        memset(out, 0, sizeof(*out));
        int r = parse(ctype, body, len, name, out, err);
        if (r < 0)
                reg_manifest_clear(out);
        return r;
}

static void normalize_arch(struct reg_platform *p)
{
        static const struct {
                const char *from, *to, *variant;
        } map[] = {{"x86_64", "amd64", ""}, {"x86-64", "amd64", ""}, {"aarch64", "arm64", ""},
                   {"armhf", "arm", "v7"},   {"armel", "arm", "v6"},  {"i386", "386", ""}};
        for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                if (strcmp(p->arch, map[i].from) == 0) {
                        snprintf(p->arch, sizeof(p->arch), "%s", map[i].to);
                        if (p->variant[0] == '\0')
                                snprintf(p->variant, sizeof(p->variant), "%s", map[i].variant);
                }
        /* containerd's normalization: arm64's only variant is v8, amd64's default is v1. */
        if ((strcmp(p->arch, "arm64") == 0 && strcmp(p->variant, "v8") == 0) ||
            (strcmp(p->arch, "amd64") == 0 && strcmp(p->variant, "v1") == 0))
                p->variant[0] = '\0';
}

int reg_platform_parse(const char *s, struct reg_platform *out, struct gerr **err)
{
        memset(out, 0, sizeof(*out));
        char parts[3][32] = {{0}};
        size_t n = 0;
        const char *p = s;
        while (p != NULL && *p != '\0') {
                const char *end = strchrnul(p, '/');
                size_t len = (size_t)(end - p);
                if (n == 3 || len == 0 || len >= sizeof(parts[0]))
                        return img_errf(err, EINVAL, "invalid platform %s", s);
                memcpy(parts[n], p, len);
                for (size_t i = 0; i < len; i++)
                        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
                                    parts[n][i]))
                                return img_errf(err, EINVAL, "invalid platform %s", s);
                n++;
                p = *end ? end + 1 : NULL;
        }
        if (n == 0)
                return img_errf(err, EINVAL, "invalid platform %s", s);
        for (size_t i = 0; i < n; i++)
                for (char *c = parts[i]; *c; c++)
                        if (*c >= 'A' && *c <= 'Z')
                                *c = (char)(*c - 'A' + 'a');
        if (n == 1) {
                /* "amd64" alone is an architecture on linux; "linux" alone is the host's. */
                if (strcmp(parts[0], "linux") == 0) {
                        reg_platform_host(out);
                        return 0;
                }
                snprintf(out->os, sizeof(out->os), "linux");
                snprintf(out->arch, sizeof(out->arch), "%s", parts[0]);
        } else {
                snprintf(out->os, sizeof(out->os), "%s", parts[0]);
                snprintf(out->arch, sizeof(out->arch), "%s", parts[1]);
                if (n == 3)
                        snprintf(out->variant, sizeof(out->variant), "%.15s", parts[2]);
        }
        normalize_arch(out);
        return 0;
}

void reg_platform_host(struct reg_platform *out)
{
        memset(out, 0, sizeof(*out));
        struct utsname u;
        snprintf(out->os, sizeof(out->os), "linux");
        snprintf(out->arch, sizeof(out->arch), "%.31s", uname(&u) == 0 ? u.machine : "amd64");
        normalize_arch(out);
}

/* "v7" -> 7; 0 for none or unparsable. */
static int variant_num(const char *v)
{
        return v[0] == 'v' ? atoi(v + 1) : 0;
}

int reg_index_choose(const struct reg_manifest *ix, const struct reg_platform *want)
{
        int best = -1, best_score = -1;
        for (size_t i = 0; i < ix->n; i++) {
                const struct reg_desc *d = &ix->descs[i];
                if (!d->has_platform)
                        continue;
                struct reg_platform p = d->platform;
                normalize_arch(&p);
                if (strcmp(p.os, want->os) != 0 || strcmp(p.arch, want->arch) != 0)
                        continue;
                int score;
                if (strcmp(p.variant, want->variant) == 0)
                        score = 1000;
                else if (want->variant[0] == '\0' || p.variant[0] == '\0')
                        /* An unqualified request takes any variant (the lowest is the safest);
                         * an entry without a variant fits every request, but after exact ones. */
                        score = p.variant[0] == '\0' ? 500 : 400 - variant_num(p.variant);
                else if (variant_num(p.variant) > 0 &&
                         variant_num(p.variant) < variant_num(want->variant))
                        /* A lower variant runs on a higher one (v6 on v7, v2 on v3). */
                        score = 100 + variant_num(p.variant);
                else
                        continue;
                if (score > best_score) {
                        best_score = score;
                        best = (int)i;
                }
        }
        return best;
}
