/* Registry auth: WWW-Authenticate challenges, Docker's AuthConfig, bearer tokens cached per scope. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nettle/base64.h>

#include "common/cleanup.h"
#include "image/registry_internal.h"

void reg_challenge_clear(struct reg_challenge *c)
{
        free(c->realm);
        free(c->service);
        free(c->scope);
        free(c->error);
        memset(c, 0, sizeof(*c));
}

static const char *skip_ws(const char *p)
{
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

static bool is_token_char(char c)
{
        return c != '\0' && (isalnum((unsigned char)c) || strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* auth-param = token "=" ( token / quoted-string ); *p is left after it. NULL on bad syntax. */
static bool parse_param(const char **pp, char **key, char **val)
{
        const char *p = skip_ws(*pp);
        const char *k = p;
        while (is_token_char(*p))
                p++;
        if (p == k)
                return false;
        size_t klen = (size_t)(p - k);
        p = skip_ws(p);
        if (*p != '=')
                return false;
        p = skip_ws(p + 1);
        char *v = malloc(strlen(p) + 1);
        if (v == NULL)
                return false;
        size_t n = 0;
        if (*p == '"') {
                p++;
                while (*p != '"') {
                        if (*p == '\0') {
                                free(v);
                                return false;
                        }
                        if (*p == '\\' && p[1] != '\0')
                                p++;
                        v[n++] = *p++;
                }
                p++;
        } else {
                while (is_token_char(*p) || *p == '/' || *p == ':' || *p == '=')
                        v[n++] = *p++;
        }
        v[n] = '\0';
        *key = strndup(k, klen);
        if (*key == NULL) {
                free(v);
                return false;
        }
        *val = v;
        *pp = p;
        return true;
}

int reg_challenge_parse(const char *hdr, struct reg_challenge *out)
{
        memset(out, 0, sizeof(*out));
        if (hdr == NULL)
                return -EINVAL;
        const char *p = hdr;
        while (*p != '\0') {
                p = skip_ws(p);
                while (*p == ',')
                        p = skip_ws(p + 1);
                const char *s = p;
                while (is_token_char(*p))
                        p++;
                size_t slen = (size_t)(p - s);
                if (slen == 0)
                        return -EINVAL;
                enum reg_scheme scheme = REG_AUTH_NONE;
                if (slen == 5 && strncasecmp(s, "basic", 5) == 0)
                        scheme = REG_AUTH_BASIC;
                else if (slen == 6 && strncasecmp(s, "bearer", 6) == 0)
                        scheme = REG_AUTH_BEARER;
                struct reg_challenge c = {.scheme = scheme};
                /* Parameters until one that is not "k=v" (the next challenge's scheme). */
                for (;;) {
                        const char *save = p;
                        char *k = NULL, *v = NULL;
                        if (!parse_param(&p, &k, &v)) {
                                p = save;
                                break;
                        }
                        char **slot = strcasecmp(k, "realm") == 0     ? &c.realm
                                      : strcasecmp(k, "service") == 0 ? &c.service
                                      : strcasecmp(k, "scope") == 0   ? &c.scope
                                      : strcasecmp(k, "error") == 0   ? &c.error
                                                                      : NULL;
                        if (slot != NULL && *slot == NULL)
                                *slot = v;
                        else
                                free(v);
                        free(k);
                        p = skip_ws(p);
                        if (*p == ',')
                                p++;
                }
                if (scheme != REG_AUTH_NONE && (scheme != REG_AUTH_BEARER || c.realm != NULL)) {
                        *out = c;
                        return 0;
                }
                reg_challenge_clear(&c);
                p = skip_ws(p);
                if (*p != '\0' && !is_token_char(*p) && *p != ',')
                        return -EINVAL;
        }
        return -ENOENT;
}

char *reg_base64(const void *data, size_t len)
{
        char *out = malloc(BASE64_ENCODE_RAW_LENGTH(len) + 1);
        if (out == NULL)
                return NULL;
        base64_encode_raw(out, len, data);
        out[BASE64_ENCODE_RAW_LENGTH(len)] = '\0';
        return out;
}

static int b64val(char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+' || c == '-')
                return 62;
        if (c == '/' || c == '_')
                return 63;
        return -1;
}

int reg_unbase64(const char *in, char **out, size_t *len)
{
        size_t n = strlen(in);
        while (n > 0 && (in[n - 1] == '=' || in[n - 1] == '\n' || in[n - 1] == ' '))
                n--;
        char *buf = malloc(n * 3 / 4 + 4);
        if (buf == NULL)
                return -ENOMEM;
        size_t o = 0;
        unsigned acc = 0;
        int bits = 0;
        for (size_t i = 0; i < n; i++) {
                int v = b64val(in[i]);
                if (v < 0) {
                        free(buf);
                        return -EINVAL;
                }
                acc = (acc << 6) | (unsigned)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        buf[o++] = (char)((acc >> bits) & 0xff);
                }
        }
        if (bits >= 6) {
                free(buf);
                return -EINVAL;
        }
        buf[o] = '\0';
        *out = buf;
        *len = o;
        return 0;
}

void img_auth_clear(struct img_auth *a)
{
        free(a->username);
        free(a->password);
        free(a->identitytoken);
        free(a->registrytoken);
        free(a->serveraddress);
        memset(a, 0, sizeof(*a));
}

/* Docker decodes AuthConfig with Go's case-insensitive field match. */
static const char *get_ci(json_t *j, const char *key)
{
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v)
        {
                if (strcasecmp(k, key) == 0 && json_is_string(v) && *json_string_value(v))
                        return json_string_value(v);
        }
        return NULL;
}

static int dup_opt(char **dst, const char *src)
{
        if (src == NULL)
                return 0;
        *dst = strdup(src);
        return *dst ? 0 : -ENOMEM;
}

int img_auth_from_json(json_t *j, struct img_auth *out, struct gerr **err)
{
        memset(out, 0, sizeof(*out));
        if (!json_is_object(j))
                return img_errf(err, EINVAL, "invalid auth configuration: not an object");
        if (dup_opt(&out->username, get_ci(j, "username")) < 0 ||
            dup_opt(&out->password, get_ci(j, "password")) < 0 ||
            dup_opt(&out->identitytoken, get_ci(j, "identitytoken")) < 0 ||
            dup_opt(&out->registrytoken, get_ci(j, "registrytoken")) < 0 ||
            dup_opt(&out->serveraddress, get_ci(j, "serveraddress")) < 0) {
                img_auth_clear(out);
                return gerr_set(err, ENOMEM, "auth");
        }
        const char *b = get_ci(j, "auth");
        if (b != NULL && out->username == NULL) {
                _cleanup_free_ char *dec = NULL;
                size_t n;
                char *colon;
                if (reg_unbase64(b, &dec, &n) < 0 || (colon = strchr(dec, ':')) == NULL) {
                        img_auth_clear(out);
                        return img_errf(err, EINVAL, "invalid auth configuration: bad auth");
                }
                *colon = '\0';
                out->username = strdup(dec);
                out->password = strdup(colon + 1);
        }
        return 0;
}

int img_auth_from_header(const char *hdr, struct img_auth *out, struct gerr **err)
{
        memset(out, 0, sizeof(*out));
        if (hdr == NULL || *hdr == '\0')
                return 0;
        _cleanup_free_ char *dec = NULL;
        size_t n;
        if (reg_unbase64(hdr, &dec, &n) < 0)
                return img_errf(err, EINVAL, "invalid X-Registry-Auth header: not base64");
        json_error_t jerr;
        _cleanup_json_ json_t *j = json_loadb(dec, n, 0, &jerr);
        if (j == NULL)
                return img_errf(err, EINVAL, "invalid X-Registry-Auth header: %s", jerr.text);
        /* The CLI sends "{}" (or null) when it has no credentials. */
        if (json_is_null(j))
                return 0;
        return img_auth_from_json(j, out, err);
}
