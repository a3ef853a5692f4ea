/* Unit tests for the registry code of image/: manifests, platform choice, challenges, refs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "image/registry_internal.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static int parse(const char *ctype, const char *body, struct reg_manifest *m, struct gerr **err)
{
        return reg_manifest_parse(ctype, body, strlen(body), "docker.io/library/x", m, err);
}

static void test_docker_manifest(void **state)
{
        const char *body = "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\","
                           "\"config\":{\"mediaType\":\"" MT_DOCKER_CONFIG "\",\"size\":7,"
                           "\"digest\":\"" D1 "\"},\"layers\":[{\"mediaType\":\"" MT_DOCKER_LAYER_GZIP
                           "\",\"size\":100,\"digest\":\"" D2 "\"},{\"mediaType\":\"" MT_OCI_LAYER_ZSTD
                           "\",\"size\":5,\"digest\":\"" D3 "\"}]}";
        struct reg_manifest m;
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(parse(MT_DOCKER_MANIFEST, body, &m, &err), 0);
        assert_int_equal(m.kind, REG_MANIFEST);
        assert_string_equal(m.config.digest, D1);
        assert_int_equal(m.n, 2);
        assert_int_equal(m.descs[0].size, 100);
        assert_int_equal(reg_layer_compression(m.descs[0].media_type), 1);
        assert_int_equal(reg_layer_compression(m.descs[1].media_type), 2);
        reg_manifest_clear(&m);
}

static void test_oci_without_media_type(void **state)
{
        /* OCI manifests may leave mediaType out; the Content-Type then decides. */
        const char *body = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_OCI_CONFIG
                           "\",\"size\":7,\"digest\":\"" D1 "\"},\"layers\":[]}";
        struct reg_manifest m;
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(parse(MT_OCI_MANIFEST "; charset=utf-8", body, &m, &err), 0);
        assert_string_equal(m.media_type, MT_OCI_MANIFEST);
        assert_int_equal(m.n, 0);
        reg_manifest_clear(&m);
}

static void test_bad_manifests(void **state)
{
        struct reg_manifest m;
        static const struct {
                const char *body, *want;
                int errnum;
        } cases[] = {
                {"{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}", "schema 1 support has been removed",
                 ENOTSUP},
                {"{\"schemaVersion\":2,\"mediaType\":\"application/x-weird\"}",
                 "unsupported manifest media type application/x-weird", EINVAL},
                {"{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"config\":{\"mediaType\":\""
                 MT_DOCKER_CONFIG "\",\"size\":1,\"digest\":\"sha256:abc\"},\"layers\":[]}",
                 "has digest sha256:abc", EINVAL},
                {"{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"config\":{\"mediaType\":\""
                 MT_DOCKER_CONFIG "\",\"size\":1,\"digest\":\"" D1 "\"},\"layers\":[{\"mediaType\":"
                 "\"application/x-tar+lz4\",\"size\":1,\"digest\":\"" D2 "\"}]}",
                 "unsupported layer media type application/x-tar+lz4", EINVAL},
                {"{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"config\":{\"mediaType\":"
                 "\"application/vnd.cncf.helm.config.v1+json\",\"size\":1,\"digest\":\"" D1
                 "\"},\"layers\":[]}",
                 "not a container image", EINVAL},
                {"[1,2]", "invalid manifest", EINVAL},
                {"{\"schemaVersion\":2,\"schemaVersion\":2}", "invalid manifest", EINVAL},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_gerr_ struct gerr *err = NULL;
                int r = parse(NULL, cases[i].body, &m, &err);
                assert_int_equal(r, -cases[i].errnum);
                assert_non_null(strstr(err->msg, cases[i].want));
        }
        /* Over the limit: refused before parsing. */
        size_t n = REG_MANIFEST_MAX + 1;
        char *big = malloc(n);
        memset(big, ' ', n);
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(reg_manifest_parse(NULL, big, n, "x", &m, &err), -EINVAL);
        assert_non_null(strstr(err->msg, "manifest too large"));
        free(big);
}

static void index_of(const char *entries, struct reg_manifest *m)
{
        char body[4096];
        snprintf(body, sizeof(body), "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX
                                     "\",\"manifests\":[%s]}", entries);
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(parse(NULL, body, m, &err), 0);
        assert_int_equal(m->kind, REG_INDEX);
}

#define ENTRY(d, os, arch, variant)                                                                \
        "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"size\":10,\"digest\":\"" d                     \
        "\",\"platform\":{\"os\":\"" os "\",\"architecture\":\"" arch "\"" variant "}}"

static int choose(const struct reg_manifest *m, const char *platform)
{
        struct reg_platform p;
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(reg_platform_parse(platform, &p, &err), 0);
        return reg_index_choose(m, &p);
}

static void test_platform_choice(void **state)
{
        struct reg_manifest m;
        index_of(ENTRY(D1, "linux", "arm64", ",\"variant\":\"v8\"") ","
                 ENTRY(D2, "linux", "amd64", "") "," ENTRY(D3, "windows", "amd64", ""), &m);
        assert_int_equal(choose(&m, "linux/amd64"), 1);
        assert_int_equal(choose(&m, "amd64"), 1);
        assert_int_equal(choose(&m, "linux/arm64"), 0);   /* v8 is arm64's default */
        assert_int_equal(choose(&m, "linux/aarch64"), 0); /* uname's name */
        assert_int_equal(choose(&m, "windows/amd64"), 2);
        assert_int_equal(choose(&m, "linux/s390x"), -1);
        reg_manifest_clear(&m);

        index_of(ENTRY(D1, "linux", "arm", ",\"variant\":\"v6\"") ","
                 ENTRY(D2, "linux", "arm", ",\"variant\":\"v7\""), &m);
        assert_int_equal(choose(&m, "linux/arm/v7"), 1);
        assert_int_equal(choose(&m, "linux/arm/v6"), 0);
        assert_int_equal(choose(&m, "linux/arm/v8"), 1); /* the highest below wins */
        assert_int_equal(choose(&m, "linux/arm/v5"), -1);
        reg_manifest_clear(&m);

        struct reg_platform p;
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(reg_platform_parse("linux/amd64/v2/extra", &p, &err), -EINVAL);
        gerr_free(err);
        err = NULL;
        assert_int_equal(reg_platform_parse("linux/am d64", &p, &err), -EINVAL);
        reg_platform_host(&p);
        assert_string_equal(p.os, "linux");
}

static void test_challenges(void **state)
{
        struct reg_challenge c;
        assert_int_equal(reg_challenge_parse("Bearer realm=\"https://auth.example/token\","
                                             "service=\"registry.example\",scope=\"repository:a/b:pull,push\"",
                                             &c),
                         0);
        assert_int_equal(c.scheme, REG_AUTH_BEARER);
        assert_string_equal(c.realm, "https://auth.example/token");
        assert_string_equal(c.service, "registry.example");
        assert_string_equal(c.scope, "repository:a/b:pull,push");
        reg_challenge_clear(&c);

        assert_int_equal(reg_challenge_parse("Basic realm=\"Registry Realm\"", &c), 0);
        assert_int_equal(c.scheme, REG_AUTH_BASIC);
        assert_string_equal(c.realm, "Registry Realm");
        reg_challenge_clear(&c);

        /* An unknown scheme first, then ours; tokens unquoted; escapes. */
        assert_int_equal(reg_challenge_parse("Negotiate abc, bearer realm=http://t/x, "
                                             "service=\"a\\\"b\", error=\"insufficient_scope\"",
                                             &c),
                         0);
        assert_int_equal(c.scheme, REG_AUTH_BEARER);
        assert_string_equal(c.realm, "http://t/x");
        assert_string_equal(c.service, "a\"b");
        assert_string_equal(c.error, "insufficient_scope");
        reg_challenge_clear(&c);

        assert_true(reg_challenge_parse("Bearer service=\"x\"", &c) < 0); /* no realm */
        assert_true(reg_challenge_parse("", &c) < 0);
        assert_true(reg_challenge_parse("Bearer realm=\"unterminated", &c) < 0);
        assert_true(reg_challenge_parse(NULL, &c) < 0);
}

static void test_refs(void **state)
{
        struct reg_ref r;
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(reg_ref_parse("busybox", &r, &err), 0);
        assert_string_equal(r.domain, "docker.io");
        assert_string_equal(r.path, "library/busybox");
        assert_string_equal(r.tag, "latest");
        assert_null(r.digest);
        reg_ref_clear(&r);
        assert_int_equal(reg_ref_parse("127.0.0.1:5000/a/b:v1", &r, &err), 0);
        assert_string_equal(r.domain, "127.0.0.1:5000");
        assert_string_equal(r.path, "a/b");
        assert_string_equal(r.name, "127.0.0.1:5000/a/b");
        assert_string_equal(r.tag, "v1");
        reg_ref_clear(&r);
        assert_int_equal(reg_ref_parse("localhost:5000/x:t@" D1, &r, &err), 0);
        assert_string_equal(r.domain, "localhost:5000");
        assert_string_equal(r.digest, D1);
        assert_null(r.tag); /* a digest wins over the tag, as docker pulls */
        reg_ref_clear(&r);
        assert_int_equal(reg_ref_parse("Upper/Case", &r, &err), -EINVAL);
}

static void test_auth(void **state)
{
        char *enc = reg_base64("alice:s3cret", 12);
        assert_string_equal(enc, "YWxpY2U6czNjcmV0");
        char *dec;
        size_t n;
        assert_int_equal(reg_unbase64(enc, &dec, &n), 0);
        assert_string_equal(dec, "alice:s3cret");
        free(dec);
        free(enc);
        /* X-Registry-Auth: base64url of {"username","password"} (here with - and _). */
        const char *json = "{\"Username\":\"u?>\",\"password\":\"p\",\"serveraddress\":\"h:1\"}";
        char *b = reg_base64(json, strlen(json));
        for (char *p = b; *p; p++)
                *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
        struct img_auth a;
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(img_auth_from_header(b, &a, &err), 0);
        assert_string_equal(a.username, "u?>");
        assert_string_equal(a.password, "p");
        assert_string_equal(a.serveraddress, "h:1");
        img_auth_clear(&a);
        free(b);
        assert_int_equal(img_auth_from_header("", &a, &err), 0);
        assert_null(a.username);
        assert_int_equal(img_auth_from_header("e30=", &a, &err), 0); /* {} */
        assert_null(a.username);
        assert_int_equal(img_auth_from_header("!!!", &a, &err), -EINVAL);
        assert_non_null(strstr(err->msg, "X-Registry-Auth"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_docker_manifest), cmocka_unit_test(test_oci_without_media_type),
                cmocka_unit_test(test_bad_manifests),   cmocka_unit_test(test_platform_choice),
                cmocka_unit_test(test_challenges),      cmocka_unit_test(test_refs),
                cmocka_unit_test(test_auth),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
