/* Registry calls that keep nothing: login (/auth), distribution inspect, search (_catalog). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "image/registry_internal.h"

/* "https://localhost:5000/v1/", "localhost:5000", "" -> the registry's domain. */
static char *server_domain(const char *addr)
{
        if (addr == NULL || *addr == '\0')
                return strdup("docker.io");
        const char *p = addr;
        if (strncmp(p, "https://", 8) == 0)
                p += 8;
        else if (strncmp(p, "http://", 7) == 0)
                p += 7;
        char *d = strndup(p, strcspn(p, "/"));
        if (d != NULL && (strcmp(d, "index.docker.io") == 0 || strcmp(d, "registry-1.docker.io") == 0 ||
                          strcmp(d, "registry.hub.docker.com") == 0)) {
                free(d);
                d = strdup("docker.io");
        }
        return d;
}

int img_login(struct img_store *s, const struct img_auth *auth, char **status,
              char **identity_token, struct gerr **err)
{
        *status = NULL;
        *identity_token = NULL;
        _cleanup_free_ char *domain = server_domain(auth->serveraddress);
        if (domain == NULL)
                return gerr_set(err, ENOMEM, "login");
        struct reg_client *c = NULL;
        int r = reg_client_open(s, domain, auth, &c, err);
        if (r < 0)
                return r;
        struct reg_req q = {.url = "/v2/", .scope = "", .body_fd = -1};
        struct reg_resp resp = {.retry_after = -1};
        r = reg_do(c, &q, &resp, err);
        if (r >= 0 && resp.status == 401)
                r = img_errf(err, EACCES, "login attempt to %s/v2/ failed with status: 401 Unauthorized",
                             c->base);
        else if (r >= 0 && resp.status != 200)
                r = reg_error(&resp, "login", err);
        reg_resp_clear(&resp);
        if (r >= 0) {
                *status = strdup("Login Succeeded");
                if (c->refresh_token != NULL)
                        *identity_token = strdup(c->refresh_token);
        }
        reg_client_free(c);
        return r;
}

static json_t *platform_json(const struct reg_platform *p)
{
        json_t *j = json_pack("{s:s, s:s}", "architecture", p->arch, "os", p->os);
        if (j != NULL && p->variant[0])
                json_object_set_new(j, "variant", json_string(p->variant));
        return j;
}

int img_distribution(struct img_store *s, const char *ref, const struct img_auth *auth,
                     json_t **out, struct gerr **err)
{
        struct reg_ref rr;
        int r = reg_ref_parse(ref, &rr, err);
        if (r < 0)
                return r;
        struct reg_client *c = NULL;
        _cleanup_free_ char *scope = NULL, *url = NULL;
        r = reg_client_open(s, rr.domain, auth, &c, err);
        if (r >= 0 && (asprintf(&scope, "repository:%s:pull", rr.path) < 0 ||
                       asprintf(&url, "/v2/%s/manifests/%s", rr.path,
                                rr.digest ? rr.digest : rr.tag) < 0))
                r = gerr_set(err, ENOMEM, "distribution");
        static const char accept[] = "Accept: " MT_OCI_INDEX ", " MT_DOCKER_LIST
                                     ", " MT_OCI_MANIFEST ", " MT_DOCKER_MANIFEST;
        const char *hdrs[] = {accept, NULL};
        struct reg_req q = {.url = url, .scope = scope, .headers = hdrs, .body_fd = -1,
                            .max = REG_MANIFEST_MAX + 1};
        struct reg_resp resp = {.retry_after = -1};
        if (r >= 0)
                r = reg_do(c, &q, &resp, err);
        if (r >= 0 && resp.status != 200)
                r = reg_error(&resp, ref, err);
        if (r >= 0 && resp.too_big)
                r = img_errf(err, EINVAL, "manifest for %s too large", ref);
        struct reg_manifest m = {0};
        if (r >= 0)
                r = reg_manifest_parse(resp.ctype, resp.body, resp.len, rr.name, &m, err);
        json_t *plats = json_array();
        if (r >= 0 && m.kind == REG_INDEX) {
                for (size_t i = 0; i < m.n; i++)
                        if (m.descs[i].has_platform)
                                json_array_append_new(plats, platform_json(&m.descs[i].platform));
        } else if (r >= 0) {
                _cleanup_free_ char *curl = NULL;
                struct reg_resp cr = {.retry_after = -1};
                if (asprintf(&curl, "/v2/%s/blobs/%s", rr.path, m.config.digest) >= 0) {
                        struct reg_req cq = {.url = curl, .scope = scope, .body_fd = -1,
                                             .max = REG_CONFIG_MAX};
                        if (reg_do(c, &cq, &cr, NULL) >= 0 && cr.status == 200) {
                                _cleanup_json_ json_t *cfg = json_loadb(cr.body, cr.len, 0, NULL);
                                struct reg_platform p = {0};
                                snprintf(p.os, sizeof(p.os), "%s",
                                         json_string_value(json_object_get(cfg, "os")) ?: "");
                                snprintf(p.arch, sizeof(p.arch), "%s",
                                         json_string_value(json_object_get(cfg, "architecture"))
                                             ?: "");
                                snprintf(p.variant, sizeof(p.variant), "%s",
                                         json_string_value(json_object_get(cfg, "variant")) ?: "");
                                json_array_append_new(plats, platform_json(&p));
                        }
                }
                reg_resp_clear(&cr);
        }
        if (r >= 0) {
                char hex[IMG_HEX_LEN + 1];
                img_sha256_hex(resp.body, resp.len, hex);
                *out = json_pack("{s:{s:s, s:s+, s:I}, s:o}", "Descriptor", "mediaType",
                                 m.media_type, "digest", "sha256:", hex, "size",
                                 (json_int_t)resp.len, "Platforms", plats);
                plats = NULL;
                if (*out == NULL)
                        r = gerr_set(err, ENOMEM, "distribution");
        }
        json_decref(plats);
        reg_manifest_clear(&m);
        reg_resp_clear(&resp);
        reg_client_free(c);
        reg_ref_clear(&rr);
        return r;
}

int img_search(struct img_store *s, const char *term, long limit, const struct img_auth *auth,
               json_t **out, struct gerr **err)
{
        if (term == NULL || *term == '\0')
                return img_errf(err, EINVAL, "search term is required");
        _cleanup_free_ char *domain = NULL;
        const char *word = term;
        const char *slash = strchr(term, '/');
        if (slash != NULL && (memchr(term, '.', (size_t)(slash - term)) ||
                              memchr(term, ':', (size_t)(slash - term)) ||
                              strncmp(term, "localhost/", 10) == 0)) {
                domain = strndup(term, (size_t)(slash - term));
                word = slash + 1;
        } else {
                domain = strdup("docker.io");
        }
        if (domain == NULL)
                return gerr_set(err, ENOMEM, "search");
        struct reg_client *c = NULL;
        int r = reg_client_open(s, domain, auth, &c, err);
        if (r < 0)
                return r;
        struct reg_req q = {.url = "/v2/_catalog?n=1000", .scope = "registry:catalog:*",
                            .body_fd = -1, .max = 16u << 20};
        struct reg_resp resp = {.retry_after = -1};
        r = reg_do(c, &q, &resp, err);
        if (r >= 0 && resp.status != 200)
                r = reg_error(&resp, "search", err);
        _cleanup_json_ json_t *j = NULL;
        if (r >= 0) {
                j = json_loadb(resp.body ? resp.body : "", resp.len, 0, NULL);
                if (!json_is_array(json_object_get(j, "repositories")))
                        r = img_errf(err, EIO, "search: the registry's catalog is not valid");
        }
        if (r >= 0) {
                json_t *res = json_array();
                size_t i;
                json_t *v;
                json_array_foreach(json_object_get(j, "repositories"), i, v)
                {
                        const char *name = json_string_value(v);
                        if (name == NULL || strstr(name, word) == NULL)
                                continue;
                        if (limit > 0 && (long)json_array_size(res) >= limit)
                                break;
                        _cleanup_free_ char *full = NULL;
                        bool hub = strcmp(domain, "docker.io") == 0;
                        if (asprintf(&full, "%s%s%s", hub ? "" : domain, hub ? "" : "/", name) < 0)
                                continue;
                        json_array_append_new(res, json_pack("{s:s, s:s, s:i, s:b, s:b}", "name",
                                                             full, "description", "", "star_count",
                                                             0, "is_official", 0, "is_automated",
                                                             0));
                }
                *out = res;
        }
        reg_resp_clear(&resp);
        reg_client_free(c);
        return r;
}
