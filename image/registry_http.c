/* The registry HTTP client (libcurl): endpoints, TLS with certs.d, auth headers, retries. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "image/registry_internal.h"

#define USER_AGENT "docker/28.0.0 gantry/0.1.0"
#define SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"
#define MAX_ATTEMPTS 4

static void curl_easy_cleanupp(CURL **h)
{
        if (*h != NULL)
                curl_easy_cleanup(*h);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
        curl_global_init(CURL_GLOBAL_ALL);
}

static char **strv_dup(const char *const *v)
{
        size_t n = 0;
        while (v != NULL && v[n] != NULL)
                n++;
        char **out = calloc(n + 1, sizeof(char *));
        for (size_t i = 0; out != NULL && i < n; i++)
                if ((out[i] = strdup(v[i])) == NULL) {
                        strv_free(out);
                        return NULL;
                }
        return out;
}

int img_registry_configure(struct img_store *s, const struct img_registry_config *c,
                           struct gerr **err)
{
        struct reg_settings *st = calloc(1, sizeof(*st));
        if (st == NULL)
                return gerr_set(err, ENOMEM, "registry settings");
        st->insecure = strv_dup(c->insecure);
        st->mirrors = strv_dup(c->mirrors);
        st->certs_dir = strdup(c->certs_dir ? c->certs_dir : "/etc/docker/certs.d");
        if (st->insecure == NULL || st->mirrors == NULL || st->certs_dir == NULL) {
                strv_free(st->insecure);
                strv_free(st->mirrors);
                free(st->certs_dir);
                free(st);
                return gerr_set(err, ENOMEM, "registry settings");
        }
        struct reg_settings *old = s->registry;
        s->registry = st;
        if (old != NULL) {
                strv_free(old->insecure);
                strv_free(old->mirrors);
                free(old->certs_dir);
                free(old);
        }
        return 0;
}

const struct reg_settings *reg_settings(struct img_store *s)
{
        static char *none[] = {NULL};
        static struct reg_settings defaults = {none, none, "/etc/docker/certs.d"};
        return s->registry ? s->registry : &defaults;
}

/* host without its port (and brackets). */
static void host_only(const char *host, char *out, size_t n)
{
        if (host[0] == '[') {
                const char *end = strchr(host, ']');
                snprintf(out, n, "%.*s", end ? (int)(end - host - 1) : 0, host + 1);
                return;
        }
        const char *colon = strrchr(host, ':');
        snprintf(out, n, "%.*s", colon ? (int)(colon - host) : (int)strlen(host), host);
}

static bool in_cidr(const char *ip, const char *cidr)
{
        char net[64];
        const char *slash = strchr(cidr, '/');
        if (slash == NULL || (size_t)(slash - cidr) >= sizeof(net))
                return false;
        snprintf(net, sizeof(net), "%.*s", (int)(slash - cidr), cidr);
        int bits = atoi(slash + 1);
        struct in_addr a, b;
        if (inet_pton(AF_INET, ip, &a) != 1 || inet_pton(AF_INET, net, &b) != 1 || bits < 0 ||
            bits > 32)
                return false;
        uint32_t mask = bits == 0 ? 0 : htonl(~0u << (32 - bits));
        return (a.s_addr & mask) == (b.s_addr & mask);
}

bool reg_is_insecure(struct img_store *s, const char *host, bool *listed)
{
        char h[256];
        host_only(host, h, sizeof(h));
        *listed = false;
        for (char **p = reg_settings(s)->insecure; p && *p; p++) {
                const char *e = *p;
                if (strncmp(e, "http://", 7) == 0)
                        e += 7;
                else if (strncmp(e, "https://", 8) == 0)
                        e += 8;
                if (strcmp(e, host) == 0 || strcmp(e, h) == 0 || in_cidr(h, e)) {
                        *listed = true;
                        return true;
                }
        }
        /* Docker's defaults: localhost and 127.0.0.0/8 may speak plain HTTP. Unlike docker,
         * TLS to them is still verified (certs.d applies): only a listed registry skips it. */
        return strcmp(h, "localhost") == 0 || strcmp(h, "::1") == 0 || in_cidr(h, "127.0.0.0/8");
}

void reg_resp_clear(struct reg_resp *r)
{
        free(r->body);
        free(r->ctype);
        free(r->location);
        free(r->digest);
        free(r->www_auth);
        free(r->range);
        memset(r, 0, sizeof(*r));
        r->retry_after = -1;
}

char *reg_url(const struct reg_client *c, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *tail = NULL;
        int n = vasprintf(&tail, fmt, ap);
        va_end(ap);
        if (n < 0)
                return NULL;
        char *url = NULL;
        if (strncmp(tail, "http://", 7) == 0 || strncmp(tail, "https://", 8) == 0)
                return tail;
        n = asprintf(&url, "%s%s", c->base, tail);
        free(tail);
        return n < 0 ? NULL : url;
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access a, void *u)
{
        struct reg_client *c = u;
        pthread_mutex_lock(&c->share_lock[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *u)
{
        struct reg_client *c = u;
        pthread_mutex_unlock(&c->share_lock[data]);
}

void reg_client_free(struct reg_client *c)
{
        if (c == NULL)
                return;
        if (c->share != NULL)
                curl_share_cleanup(c->share);
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
                pthread_mutex_destroy(&c->share_lock[i]);
        pthread_mutex_destroy(&c->lock);
        for (size_t i = 0; i < c->n_tokens; i++) {
                free(c->tokens[i].scope);
                free(c->tokens[i].token);
        }
        free(c->tokens);
        free(c->refresh_token);
        free(c->ca_blob);
        reg_challenge_clear(&c->ch);
        img_auth_clear(&c->auth);
        free(c->domain);
        free(c->host);
        free(c->base);
        free(c->ca_file);
        free(c->cert_file);
        free(c->key_file);
        free(c);
}

static bool has_suffix(const char *name, const char *suf)
{
        size_t n = strlen(name), k = strlen(suf);
        return n > k && strcmp(name + n - k, suf) == 0;
}

/* certs.d/<host>/, as docker reads it (in name order): every *.crt is a CA (added to the
 * system's), every *.cert a client certificate whose key is the *.key of the same name and every
 * *.key needs its *.cert. curl takes one client pair: the first. */
static int load_certs(struct reg_client *c, struct gerr **err)
{
        _cleanup_free_ char *dir = NULL;
        if (asprintf(&dir, "%s/%s", reg_settings(c->s)->certs_dir, c->host) < 0)
                return gerr_set(err, ENOMEM, "certs");
        struct dirent **ents = NULL;
        int n = scandir(dir, &ents, NULL, alphasort);
        if (n < 0)
                return 0; /* no directory for this host */
        _cleanup_free_ char *cas = NULL;
        size_t cl = 0;
        int r = 0;
        for (int i = 0; i < n && r >= 0; i++) {
                const char *name = ents[i]->d_name;
                _cleanup_free_ char *path = NULL, *other = NULL;
                if (asprintf(&path, "%s/%s", dir, name) < 0) {
                        r = gerr_set(err, ENOMEM, "certs");
                        break;
                }
                if (has_suffix(name, ".crt")) {
                        _cleanup_free_ char *pem = NULL;
                        size_t pl = 0;
                        r = fs_read_file(path, &pem, &pl, err);
                        if (r < 0) {
                                r = gerr_wrap(err, "registry %s", c->host);
                                break;
                        }
                        char *nc = realloc(cas, cl + pl + 2);
                        if (nc == NULL) {
                                r = gerr_set(err, ENOMEM, "certs");
                                break;
                        }
                        cas = nc;
                        memcpy(cas + cl, pem, pl);
                        cl += pl;
                        cas[cl++] = '\n';
                        if (c->ca_file == NULL)
                                c->ca_file = TAKE_PTR(path);
                } else if (has_suffix(name, ".cert")) {
                        if (asprintf(&other, "%.*s.key", (int)(strlen(path) - 5), path) < 0) {
                                r = gerr_set(err, ENOMEM, "certs");
                                break;
                        }
                        if (!fs_exists(other)) {
                                r = img_errf(err, EINVAL,
                                             "missing key %s for client certificate %s. CA "
                                             "certificates must use the extension .crt",
                                             other, path);
                                break;
                        }
                        if (c->cert_file == NULL) {
                                c->cert_file = TAKE_PTR(path);
                                c->key_file = TAKE_PTR(other);
                        }
                } else if (has_suffix(name, ".key")) {
                        if (asprintf(&other, "%.*s.cert", (int)(strlen(path) - 4), path) < 0) {
                                r = gerr_set(err, ENOMEM, "certs");
                                break;
                        }
                        if (!fs_exists(other))
                                r = img_errf(err, EINVAL,
                                             "missing client certificate %s for key %s", other,
                                             path);
                }
        }
        for (int i = 0; i < n; i++)
                free(ents[i]);
        free(ents);
        if (r < 0 || cas == NULL)
                return r;
        _cleanup_free_ char *sys = NULL;
        size_t sl = 0;
        if (fs_read_file(SYSTEM_CA, &sys, &sl, NULL) < 0)
                sl = 0;
        c->ca_blob = malloc(sl + cl + 2);
        if (c->ca_blob == NULL)
                return gerr_set(err, ENOMEM, "certs");
        if (sl)
                memcpy(c->ca_blob, sys, sl);
        c->ca_blob[sl] = '\n';
        memcpy(c->ca_blob + sl + 1, cas, cl);
        c->ca_len = sl + cl + 1;
        return 0;
}

/* ---- tokens ---- */

static const char *cached_token(struct reg_client *c, const char *scope)
{
        time_t now = time(NULL);
        for (size_t i = 0; i < c->n_tokens; i++)
                if (strcmp(c->tokens[i].scope, scope) == 0 && c->tokens[i].expires > now + 5)
                        return c->tokens[i].token;
        return NULL;
}

void reg_token_drop(struct reg_client *c, const char *scope)
{
        pthread_mutex_lock(&c->lock);
        for (size_t i = 0; i < c->n_tokens; i++)
                if (strcmp(c->tokens[i].scope, scope ? scope : "") == 0)
                        c->tokens[i].expires = 0;
        pthread_mutex_unlock(&c->lock);
}

struct buf {
        char *p;
        size_t len, max;
        bool too_big;
};

static size_t on_write(char *data, size_t sz, size_t n, void *u)
{
        struct buf *b = u;
        size_t len = sz * n;
        if (b->len + len > b->max) {
                b->too_big = true;
                return 0;
        }
        char *np = realloc(b->p, b->len + len + 1);
        if (np == NULL)
                return 0;
        memcpy(np + b->len, data, len);
        b->p = np;
        b->len += len;
        b->p[b->len] = '\0';
        return len;
}

static void tls_setup(struct reg_client *c, CURL *h)
{
        if (c->skip_verify) {
                curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
                curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (c->ca_blob != NULL) {
                struct curl_blob blob = {.data = c->ca_blob, .len = c->ca_len,
                                         .flags = CURL_BLOB_NOCOPY};
                curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
        }
        if (c->cert_file != NULL) {
                curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file);
                curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file);
        }
}

static void common_setup(struct reg_client *c, CURL *h, const char *url)
{
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
        curl_easy_setopt(h, CURLOPT_SHARE, c->share);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
        /* A stalled registry: under 1 KiB/s for 60 s ends the transfer. */
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        tls_setup(c, h);
}

/* The token server (distribution's token spec): GET realm?service=&scope= with basic creds, or
 * POST grant_type=refresh_token with an identity token (OAuth2). */
static int fetch_token(struct reg_client *c, const char *scope, char **tok, time_t *expires,
                       struct gerr **err)
{
        _cleanup_(curl_easy_cleanupp) CURL *h = curl_easy_init();
        if (h == NULL)
                return gerr_set(err, ENOMEM, "curl");
        _cleanup_free_ char *url = NULL, *post = NULL;
        char *q = NULL;
        size_t qlen = 0;
        FILE *f = open_memstream(&q, &qlen);
        if (f == NULL)
                return gerr_set(err, ENOMEM, "token");
        const char *sep = "";
        if (c->ch.service != NULL) {
                char *e = curl_easy_escape(h, c->ch.service, 0);
                fprintf(f, "service=%s", e);
                curl_free(e);
                sep = "&";
        }
        const char *sc = scope && *scope ? scope : c->ch.scope;
        for (const char *p = sc; p && *p;) {
                size_t n = strcspn(p, " ");
                if (n > 0) {
                        char *e = curl_easy_escape(h, p, (int)n);
                        fprintf(f, "%sscope=%s", sep, e);
                        curl_free(e);
                        sep = "&";
                }
                p += n;
                while (*p == ' ')
                        p++;
        }
        const char *refresh = c->auth.identitytoken ? c->auth.identitytoken : c->refresh_token;
        if (refresh != NULL) {
                char *e = curl_easy_escape(h, refresh, 0);
                fprintf(f, "%sgrant_type=refresh_token&client_id=docker&refresh_token=%s", sep, e);
                curl_free(e);
        } else if (c->auth.username != NULL) {
                fprintf(f, "%sclient_id=docker&offline_token=true", sep);
        }
        fclose(f);
        _cleanup_free_ char *query = q;
        if (refresh != NULL) {
                url = strdup(c->ch.realm);
                post = TAKE_PTR(query);
        } else if (asprintf(&url, "%s%s%s", c->ch.realm, strchr(c->ch.realm, '?') ? "&" : "?",
                            query) < 0) {
                url = NULL;
        }
        if (url == NULL)
                return gerr_set(err, ENOMEM, "token");
        common_setup(c, h, url);
        /* The realm is another host: the certs.d CAs of the registry still apply (docker uses
         * the registry's transport for its token server). */
        if (post != NULL)
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
        else if (c->auth.username != NULL) {
                curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
                curl_easy_setopt(h, CURLOPT_USERNAME, c->auth.username);
                curl_easy_setopt(h, CURLOPT_PASSWORD, c->auth.password ? c->auth.password : "");
        }
        struct buf b = {.max = 1 << 20};
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
        CURLcode rc = curl_easy_perform(h);
        _cleanup_free_ char *body = b.p;
        if (rc != CURLE_OK)
                return img_errf(err, EIO, "Get \"%s\": %s", c->ch.realm, curl_easy_strerror(rc));
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (status == 401 || status == 403)
                return img_errf(err, EACCES, "%s",
                                c->auth.username || refresh
                                    ? "unauthorized: incorrect username or password"
                                    : "unauthorized: authentication required");
        if (status != 200)
                return img_errf(err, EIO, "token server %s answered %ld", c->ch.realm, status);
        _cleanup_json_ json_t *j = json_loads(body ? body : "", 0, NULL);
        const char *t = json_string_value(json_object_get(j, "token"));
        if (t == NULL || *t == '\0')
                t = json_string_value(json_object_get(j, "access_token"));
        if (t == NULL || *t == '\0')
                return img_errf(err, EIO, "token server %s gave no token", c->ch.realm);
        json_int_t exp = json_integer_value(json_object_get(j, "expires_in"));
        /* The token spec's minimum lifetime is 60 s. */
        *expires = time(NULL) + (exp >= 60 ? exp : 60);
        const char *rt = json_string_value(json_object_get(j, "refresh_token"));
        if (rt != NULL && *rt) {
                pthread_mutex_lock(&c->lock);
                free(c->refresh_token);
                c->refresh_token = strdup(rt);
                pthread_mutex_unlock(&c->lock);
        }
        *tok = strdup(t);
        return *tok ? 0 : gerr_set(err, ENOMEM, "token");
}

static int token_for(struct reg_client *c, const char *scope, char **out, struct gerr **err)
{
        const char *key = scope ? scope : "";
        pthread_mutex_lock(&c->lock);
        const char *t = cached_token(c, key);
        if (t != NULL) {
                *out = strdup(t);
                pthread_mutex_unlock(&c->lock);
                return *out ? 0 : gerr_set(err, ENOMEM, "token");
        }
        pthread_mutex_unlock(&c->lock);
        _cleanup_free_ char *tok = NULL;
        time_t exp = 0;
        int r = fetch_token(c, scope, &tok, &exp, err);
        if (r < 0)
                return r;
        pthread_mutex_lock(&c->lock);
        bool stored = false;
        for (size_t i = 0; i < c->n_tokens; i++)
                if (strcmp(c->tokens[i].scope, key) == 0) {
                        free(c->tokens[i].token);
                        c->tokens[i].token = strdup(tok);
                        c->tokens[i].expires = exp;
                        stored = true;
                }
        if (!stored) {
                struct reg_token *nt = realloc(c->tokens, (c->n_tokens + 1) * sizeof(*nt));
                if (nt != NULL) {
                        c->tokens = nt;
                        nt[c->n_tokens].scope = strdup(key);
                        nt[c->n_tokens].token = strdup(tok);
                        nt[c->n_tokens].expires = exp;
                        c->n_tokens++;
                }
        }
        pthread_mutex_unlock(&c->lock);
        *out = TAKE_PTR(tok);
        return 0;
}

/* The Authorization header for scope, or NULL for none. */
static int auth_header(struct reg_client *c, const char *scope, char **out, struct gerr **err)
{
        *out = NULL;
        if (c->auth.registrytoken != NULL)
                return asprintf(out, "Authorization: Bearer %s", c->auth.registrytoken) < 0
                           ? gerr_set(err, ENOMEM, "auth")
                           : 0;
        if (c->ch.scheme == REG_AUTH_BEARER) {
                _cleanup_free_ char *tok = NULL;
                int r = token_for(c, scope, &tok, err);
                if (r < 0)
                        return r;
                return asprintf(out, "Authorization: Bearer %s", tok) < 0
                           ? gerr_set(err, ENOMEM, "auth")
                           : 0;
        }
        if (c->ch.scheme == REG_AUTH_BASIC && c->auth.username != NULL) {
                _cleanup_free_ char *up = NULL, *b = NULL;
                if (asprintf(&up, "%s:%s", c->auth.username,
                             c->auth.password ? c->auth.password : "") < 0 ||
                    (b = reg_base64(up, strlen(up))) == NULL ||
                    asprintf(out, "Authorization: Basic %s", b) < 0)
                        return gerr_set(err, ENOMEM, "auth");
        }
        return 0;
}

int reg_easy_setup(struct reg_client *c, CURL *h, const char *url, const char *scope,
                   struct curl_slist **hdrs, struct gerr **err)
{
        common_setup(c, h, url);
        _cleanup_free_ char *ah = NULL;
        int r = auth_header(c, scope, &ah, err);
        if (r < 0)
                return r;
        if (ah != NULL)
                *hdrs = curl_slist_append(*hdrs, ah);
        return 0;
}

struct hdr_ctx {
        struct reg_resp *r;
};

static char *hdr_value(const char *line, size_t len, const char *name)
{
        size_t nl = strlen(name);
        if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
                return NULL;
        const char *v = line + nl + 1;
        const char *end = line + len;
        while (v < end && (*v == ' ' || *v == '\t'))
                v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
                end--;
        return strndup(v, (size_t)(end - v));
}

static size_t on_header(char *data, size_t sz, size_t n, void *u)
{
        struct reg_resp *r = u;
        size_t len = sz * n;
        /* A redirect's headers come first: start over at each status line. */
        if (len > 5 && strncmp(data, "HTTP/", 5) == 0) {
                free(r->ctype);
                free(r->location);
                free(r->digest);
                free(r->www_auth);
                free(r->range);
                r->ctype = r->location = r->digest = r->www_auth = r->range = NULL;
                r->retry_after = -1;
                return len;
        }
        char *v;
        if ((v = hdr_value(data, len, "Content-Type")) != NULL) {
                free(r->ctype);
                r->ctype = v;
        } else if ((v = hdr_value(data, len, "Location")) != NULL) {
                free(r->location);
                r->location = v;
        } else if ((v = hdr_value(data, len, "Docker-Content-Digest")) != NULL) {
                free(r->digest);
                r->digest = v;
        } else if ((v = hdr_value(data, len, "WWW-Authenticate")) != NULL) {
                free(r->www_auth);
                r->www_auth = v;
        } else if ((v = hdr_value(data, len, "Range")) != NULL) {
                free(r->range);
                r->range = v;
        } else if ((v = hdr_value(data, len, "Retry-After")) != NULL) {
                r->retry_after = atol(v);
                free(v);
        }
        return len;
}

size_t reg_header_cb(char *data, size_t sz, size_t n, void *u)
{
        return on_header(data, sz, n, u);
}

struct fd_body {
        int fd;
        off_t off, end;
};

static size_t on_read(char *buf, size_t sz, size_t n, void *u)
{
        struct fd_body *b = u;
        size_t want = sz * n;
        if ((off_t)want > b->end - b->off)
                want = (size_t)(b->end - b->off);
        if (want == 0)
                return 0;
        ssize_t k = pread(b->fd, buf, want, b->off);
        if (k < 0)
                return CURL_READFUNC_ABORT;
        b->off += k;
        return (size_t)k;
}

static int on_xfer(void *u, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
        const struct reg_req *q = u;
        if (ult > 0)
                q->xfer(q->xfer_arg, (int64_t)uln, (int64_t)ult);
        return 0;
}

/* One attempt; CURLcode in *crc. */
static int attempt(struct reg_client *c, const struct reg_req *q, const char *url,
                   struct reg_resp *out, CURLcode *crc, struct gerr **err)
{
        _cleanup_(curl_easy_cleanupp) CURL *h = curl_easy_init();
        if (h == NULL)
                return gerr_set(err, ENOMEM, "curl");
        struct curl_slist *hdrs = NULL;
        int r = reg_easy_setup(c, h, url, q->scope, &hdrs, err);
        if (r < 0) {
                curl_slist_free_all(hdrs);
                return r;
        }
        for (size_t i = 0; q->headers != NULL && q->headers[i] != NULL; i++)
                hdrs = curl_slist_append(hdrs, q->headers[i]);
        hdrs = curl_slist_append(hdrs, "Expect:");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        const char *m = q->method ? q->method : "GET";
        struct fd_body fb = {.fd = q->body_fd, .off = q->body_off,
                             .end = q->body_off + (off_t)q->body_len};
        if (strcmp(m, "HEAD") == 0) {
                curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (q->body_fd >= 0) {
                curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
                curl_easy_setopt(h, CURLOPT_READDATA, &fb);
                curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->body_len);
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
        } else if (q->body != NULL || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 ||
                   strcmp(m, "PATCH") == 0) {
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->body ? q->body : "");
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
        } else if (strcmp(m, "GET") != 0) {
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
        }
        /* A POST's 202 Location is followed by hand: no redirects for writes. */
        if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0)
                curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        struct buf b = {.max = q->max ? q->max : (1u << 20)};
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
        if (q->xfer != NULL) {
                curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_xfer);
                curl_easy_setopt(h, CURLOPT_XFERINFODATA, q);
                curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        }
        *crc = curl_easy_perform(h);
        curl_slist_free_all(hdrs);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
        out->body = b.p;
        out->len = b.len;
        out->too_big = b.too_big;
        if (b.too_big && *crc == CURLE_WRITE_ERROR)
                *crc = CURLE_OK;
        return 0;
}

bool reg_retryable(long status)
{
        return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

void reg_backoff(int n, long retry_after)
{
        /* 0.25 s, 0.5 s, 1 s; a Retry-After up to 5 s is honoured. */
        long ms = 250L << n;
        if (retry_after > 0)
                ms = retry_after > 5 ? 5000 : retry_after * 1000;
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

int reg_do(struct reg_client *c, const struct reg_req *q, struct reg_resp *out, struct gerr **err)
{
        _cleanup_free_ char *url = reg_url(c, "%s", q->url);
        if (url == NULL)
                return gerr_set(err, ENOMEM, "url");
        bool reauth = false;
        for (int n = 0;; n++) {
                reg_resp_clear(out);
                CURLcode crc;
                int r = attempt(c, q, url, out, &crc, err);
                if (r < 0)
                        return r;
                if (crc != CURLE_OK) {
                        if (n + 1 < MAX_ATTEMPTS && !q->no_retry &&
                            crc != CURLE_SSL_CACERT && crc != CURLE_PEER_FAILED_VERIFICATION) {
                                reg_backoff(n, -1);
                                continue;
                        }
                        /* Go's url.Error: "Get \"https://...\": <cause>". */
                        char verb[16];
                        snprintf(verb, sizeof(verb), "%s", q->method ? q->method : "GET");
                        for (char *v = verb + 1; *v; v++)
                                *v = (char)(*v >= 'A' && *v <= 'Z' ? *v - 'A' + 'a' : *v);
                        return img_errf(err, EIO, "%s \"%s\": %s", verb, url,
                                        curl_easy_strerror(crc));
                }
                if (out->status == 401 && !reauth) {
                        struct reg_challenge ch;
                        if (reg_challenge_parse(out->www_auth, &ch) == 0) {
                                reauth = true;
                                bool changed = ch.scheme != c->ch.scheme;
                                pthread_mutex_lock(&c->lock);
                                if (c->ch.scheme == REG_AUTH_NONE || changed) {
                                        reg_challenge_clear(&c->ch);
                                        c->ch = ch;
                                } else {
                                        reg_challenge_clear(&ch);
                                }
                                pthread_mutex_unlock(&c->lock);
                                if (c->ch.scheme == REG_AUTH_BEARER) {
                                        reg_token_drop(c, q->scope);
                                        n--;
                                        continue;
                                }
                                if (c->ch.scheme == REG_AUTH_BASIC && c->auth.username &&
                                    changed) {
                                        n--;
                                        continue;
                                }
                        }
                }
                if (reg_retryable(out->status) && !q->no_retry && n + 1 < MAX_ATTEMPTS) {
                        log_debug("registry: %s %s: %ld, retrying", q->method ? q->method : "GET",
                                  url, out->status);
                        reg_backoff(n, out->retry_after);
                        continue;
                }
                return 0;
        }
}

int reg_error(const struct reg_resp *r, const char *what, struct gerr **err)
{
        int e = r->status == 401 || r->status == 403 ? EACCES
                : r->status == 404                   ? ENOENT
                : r->status == 429                   ? EAGAIN
                : r->status == 400                   ? EINVAL
                                                     : EIO;
        /* distribution's errcode body: {"errors":[{"code":"MANIFEST_UNKNOWN","message":..}]} */
        _cleanup_json_ json_t *j = r->body && r->len ? json_loadb(r->body, r->len, 0, NULL) : NULL;
        json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
        const char *msg = json_string_value(json_object_get(e0, "message"));
        const char *code = json_string_value(json_object_get(e0, "code"));
        if (msg != NULL && *msg) {
                /* Docker prints errcode errors as "<code lowercased>: <message>" only for auth. */
                if (code != NULL && (strcmp(code, "UNAUTHORIZED") == 0 ||
                                     strcmp(code, "DENIED") == 0))
                        return img_errf(err, e, "%s: %s",
                                        strcmp(code, "DENIED") == 0 ? "denied" : "unauthorized",
                                        msg);
                return img_errf(err, e, "%s: %s", what, msg);
        }
        switch (r->status) {
        case 401:
                return img_errf(err, e, "unauthorized: authentication required");
        case 403:
                return img_errf(err, e, "denied: requested access to the resource is denied");
        case 404:
                return img_errf(err, e, "%s: not found", what);
        case 429:
                return img_errf(err, e, "toomanyrequests: %s: too many requests (429)", what);
        default:
                return img_errf(err, e, "%s: registry answered %ld%s", what, r->status,
                                r->status >= 500 ? " (server error)" : "");
        }
}

/* docker.io means registry-1.docker.io (or a mirror); GANTRY_DOCKER_IO_ENDPOINT (host:port)
 * stands in for it in the tests, which reach nothing but loopback. */
static const char *endpoint_host(const char *domain)
{
        if (strcmp(domain, "docker.io") != 0)
                return domain;
        const char *e = getenv("GANTRY_DOCKER_IO_ENDPOINT");
        return e != NULL && *e ? e : "registry-1.docker.io";
}

static int client_new(struct img_store *s, const char *domain, const char *host,
                      const struct img_auth *auth, struct reg_client **out, struct gerr **err)
{
        pthread_once(&curl_once, curl_init_once);
        struct reg_client *c = calloc(1, sizeof(*c));
        if (c == NULL)
                return gerr_set(err, ENOMEM, "registry");
        c->s = s;
        pthread_mutex_init(&c->lock, NULL);
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
                pthread_mutex_init(&c->share_lock[i], NULL);
        c->domain = strdup(domain);
        c->host = strdup(host);
        if (c->domain == NULL || c->host == NULL) {
                reg_client_free(c);
                return gerr_set(err, ENOMEM, "registry");
        }
        c->share = curl_share_init();
        curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
        curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
        curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
        if (auth != NULL) {
                c->auth.username = auth->username ? strdup(auth->username) : NULL;
                c->auth.password = auth->password ? strdup(auth->password) : NULL;
                c->auth.identitytoken = auth->identitytoken ? strdup(auth->identitytoken) : NULL;
                c->auth.registrytoken = auth->registrytoken ? strdup(auth->registrytoken) : NULL;
        }
        c->plain_ok = reg_is_insecure(s, host, &c->skip_verify);
        int r = load_certs(c, err);
        if (r < 0) {
                reg_client_free(c);
                return r;
        }
        *out = c;
        return 0;
}

/* GET /v2/ on scheme: 200 or 401 (its challenge kept) makes the endpoint good. */
static int ping(struct reg_client *c, const char *scheme, CURLcode *crc, struct gerr **err)
{
        free(c->base);
        if (asprintf(&c->base, "%s://%s", scheme, c->host) < 0) {
                c->base = NULL;
                return gerr_set(err, ENOMEM, "registry");
        }
        struct reg_req q = {.url = "/v2/", .body_fd = -1, .no_retry = true};
        struct reg_resp resp = {.retry_after = -1};
        struct reg_challenge none = {0};
        reg_challenge_clear(&c->ch);
        c->ch = none;
        _cleanup_free_ char *url = reg_url(c, "/v2/");
        int r = url ? attempt(c, &q, url, &resp, crc, err) : gerr_set(err, ENOMEM, "url");
        if (r < 0) {
                reg_resp_clear(&resp);
                return r;
        }
        if (*crc != CURLE_OK) {
                reg_resp_clear(&resp);
                return img_errf(err, EIO, "Get \"%s\": %s", url, curl_easy_strerror(*crc));
        }
        if (resp.status == 401 && resp.www_auth != NULL)
                reg_challenge_parse(resp.www_auth, &c->ch);
        long st = resp.status;
        if (st != 200 && st != 401) {
                r = reg_error(&resp, "ping", err);
                reg_resp_clear(&resp);
                return r;
        }
        reg_resp_clear(&resp);
        return 0;
}

static int open_endpoint(struct img_store *s, const char *domain, const char *host, bool plain,
                         const struct img_auth *auth, struct reg_client **out, struct gerr **err)
{
        struct reg_client *c = NULL;
        int r = client_new(s, domain, host, auth, &c, err);
        if (r < 0)
                return r;
        /* A mirror given as http:// may be plain HTTP whatever its address. */
        if (plain)
                c->plain_ok = true;
        CURLcode crc = CURLE_OK;
        _cleanup_gerr_ struct gerr *first = NULL;
        r = ping(c, "https", &crc, &first);
        if (r < 0 && c->plain_ok && crc != CURLE_OK) {
                /* Docker's fallback for insecure registries: plain HTTP after a TLS failure.
                 * When that fails too, the TLS error is the one that tells. */
                _cleanup_gerr_ struct gerr *second = NULL;
                r = ping(c, "http", &crc, &second);
                if (r < 0 && err != NULL && *err == NULL)
                        *err = TAKE_PTR(first);
        } else if (r < 0) {
                if (err != NULL && *err == NULL)
                        *err = TAKE_PTR(first);
        }
        if (r < 0) {
                reg_client_free(c);
                return r;
        }
        *out = c;
        return 0;
}

int reg_client_open(struct img_store *s, const char *domain, const struct img_auth *auth,
                    struct reg_client **out, struct gerr **err)
{
        if (strcmp(domain, "docker.io") == 0) {
                for (char **m = reg_settings(s)->mirrors; m && *m; m++) {
                        const char *h = *m;
                        bool plain = strncmp(h, "http://", 7) == 0;
                        if (plain)
                                h += 7;
                        else if (strncmp(h, "https://", 8) == 0)
                                h += 8;
                        _cleanup_free_ char *host = strndup(h, strcspn(h, "/"));
                        if (host == NULL)
                                return gerr_set(err, ENOMEM, "mirror");
                        _cleanup_gerr_ struct gerr *merr = NULL;
                        if (open_endpoint(s, domain, host, plain, auth, out, &merr) == 0) {
                                (*out)->is_mirror = true;
                                return 0;
                        }
                        log_warn("registry mirror %s: %s", *m, merr ? merr->msg : "failed");
                }
        }
        return open_endpoint(s, domain, endpoint_host(domain), false, auth, out, err);
}

int reg_client_open_upstream(struct img_store *s, const char *domain, const struct img_auth *auth,
                             struct reg_client **out, struct gerr **err)
{
        return open_endpoint(s, domain, endpoint_host(domain), false, auth, out, err);
}
