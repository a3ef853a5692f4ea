/* Private to the registry files of image/: references, manifests, challenges, the HTTP client. */
#pragma once

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "image/image_internal.h"
#include "image/registry.h"

/* Manifests and indexes above this are refused (distribution's own limit is 4 MiB). */
#define REG_MANIFEST_MAX (4u << 20)
/* Image configs above this are refused. */
#define REG_CONFIG_MAX (8u << 20)

#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_LAYER_TAR "application/vnd.docker.image.rootfs.diff.tar"
#define MT_DOCKER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_OCI_NONDIST_GZIP "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"

/* ---- a reference split for the registry (reference.c of distribution) ---- */
struct reg_ref {
        char *name;   /* normalized repository: "docker.io/library/busybox" */
        char *domain; /* "docker.io", "localhost:5000" */
        char *path;   /* "library/busybox" */
        char *tag;    /* "latest", or NULL with a digest */
        char *digest; /* "sha256:...", or NULL */
};
/* ref as a user types it; a missing tag becomes "latest" unless a digest is given. */
int reg_ref_parse(const char *ref, struct reg_ref *out, struct gerr **err);
void reg_ref_clear(struct reg_ref *r);

/* ---- manifest.c ---- */
struct reg_platform {
        char os[32], arch[32], variant[16];
};
struct reg_desc {
        char *media_type;
        char digest[7 + IMG_HEX_LEN + 1]; /* "sha256:<hex>" */
        int64_t size;
        struct reg_platform platform; /* index entries */
        bool has_platform;
};
enum reg_kind { REG_MANIFEST, REG_INDEX };
struct reg_manifest {
        enum reg_kind kind;
        char *media_type;
        struct reg_desc config; /* REG_MANIFEST */
        struct reg_desc *descs; /* layers, or the index's manifests */
        size_t n;
};
/* Parse a manifest or index; ctype is the response's Content-Type (may be NULL: the body's
 * mediaType decides). Schema 1, unknown media types, bad digests and sizes are EINVAL with a
 * message naming what was wrong; schema1 is ENOTSUP with Docker's deprecation text. */
int reg_manifest_parse(const char *ctype, const char *body, size_t len, const char *name,
                       struct reg_manifest *out, struct gerr **err);
void reg_manifest_clear(struct reg_manifest *m);
/* "linux/amd64", "linux/arm64/v8", "amd64": os defaults to linux. EINVAL otherwise. */
int reg_platform_parse(const char *s, struct reg_platform *out, struct gerr **err);
/* The daemon's own platform (linux/amd64, or what uname says). */
void reg_platform_host(struct reg_platform *out);
/* Index of the best entry of an index for want (variant-aware: an exact variant first, then the
 * highest compatible one below it, arm64 "v8" and amd64 "v1" as empty); -1 when none fits. */
int reg_index_choose(const struct reg_manifest *ix, const struct reg_platform *want);
/* The layer's compression from its media type: 0 none, 1 gzip, 2 zstd, -1 unknown. */
int reg_layer_compression(const char *media_type);

/* ---- registry_auth.c ---- */
enum reg_scheme { REG_AUTH_NONE, REG_AUTH_BASIC, REG_AUTH_BEARER };
struct reg_challenge {
        enum reg_scheme scheme;
        char *realm, *service, *scope, *error;
};
/* WWW-Authenticate (RFC 7235): the first Basic or Bearer challenge, its parameters unquoted. */
int reg_challenge_parse(const char *hdr, struct reg_challenge *out);
void reg_challenge_clear(struct reg_challenge *c);
/* Standard base64 and its inverse (both alphabets, padding optional). */
char *reg_base64(const void *data, size_t len);
int reg_unbase64(const char *in, char **out, size_t *len);

/* ---- registry_http.c: one client per registry endpoint and credentials ---- */
struct reg_token {
        char *scope;
        char *token;
        time_t expires;
};

struct reg_client {
        struct img_store *s;
        char *domain;     /* the reference's domain ("docker.io") */
        char *host;       /* the endpoint's host:port ("registry-1.docker.io") */
        char *base;       /* "https://host" or "http://host" */
        bool plain_ok;    /* loopback or listed as insecure: plain HTTP after a TLS failure */
        bool skip_verify; /* listed as insecure (--insecure-registry): TLS not verified */
        char *ca_file, *cert_file, *key_file; /* certs.d/<host>/ files, or NULL */
        struct img_auth auth;
        struct reg_challenge ch; /* from the /v2/ ping */
        pthread_mutex_t lock;    /* tokens */
        struct reg_token *tokens;
        size_t n_tokens;
        char *refresh_token; /* identity token given by the token server */
        char *ca_blob;       /* system CAs plus certs.d's, PEM */
        size_t ca_len;
        bool is_mirror;
        CURLSH *share;
        pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
};

struct reg_resp {
        long status;
        char *body;
        size_t len;
        char *ctype, *location, *digest, *www_auth, *range;
        long retry_after; /* seconds, -1 when absent */
        bool too_big;
};
void reg_resp_clear(struct reg_resp *r);

/* Connect to the registry of domain (the mirror first for docker.io) and ping /v2/: https,
 * then http where allowed. auth may be NULL. */
int reg_client_open(struct img_store *s, const char *domain, const struct img_auth *auth,
                    struct reg_client **out, struct gerr **err);
/* The same without the mirrors: the registry itself (a pull falls back to it from a mirror). */
int reg_client_open_upstream(struct img_store *s, const char *domain, const struct img_auth *auth,
                             struct reg_client **out, struct gerr **err);
void reg_client_free(struct reg_client *c);

struct reg_req {
        const char *method;
        const char *url;            /* "/v2/..." (on base) or absolute */
        const char *scope;          /* "repository:x:pull" (space-separated for several) */
        const char *const *headers; /* "Name: value", NULL-terminated */
        const void *body;
        size_t body_len;
        int body_fd; /* >= 0: upload body_len bytes read from this fd at body_off */
        off_t body_off;
        size_t max; /* body kept up to this (0: 1 MiB); past it too_big */
        void (*xfer)(void *arg, int64_t sent, int64_t total); /* upload progress, or NULL */
        void *xfer_arg;
        bool no_retry; /* a 429/5xx is returned, not retried */
};
/* One request with auth (a 401 fetches a token for scope once and retries) and retries with
 * backoff on 429, 5xx and connection failures. 0 when an answer came, whatever its status. */
int reg_do(struct reg_client *c, const struct reg_req *q, struct reg_resp *out, struct gerr **err);
/* A status worth another try (429, 500, 502, 503, 504). */
bool reg_retryable(long status);
/* Sleep before try n + 1: 0.25 s doubling, or Retry-After (seconds, up to 5) when > 0. */
void reg_backoff(int n, long retry_after);
/* Set up an easy handle for url (TLS, share, auth header for scope); hdrs gets the list to free
 * after the transfer. For transfers the caller drives (curl multi). */
int reg_easy_setup(struct reg_client *c, CURL *h, const char *url, const char *scope,
                   struct curl_slist **hdrs, struct gerr **err);
/* An error for a registry answer: the registry's {"errors":[...]} words, errno from the status
 * (401/403 EACCES, 404 ENOENT, 429 EAGAIN, 5xx EIO). what names the object ("manifest x"). */
int reg_error(const struct reg_resp *r, const char *what, struct gerr **err);
/* CURLOPT_HEADERFUNCTION filling a struct reg_resp's headers. */
size_t reg_header_cb(char *data, size_t sz, size_t n, void *u);
/* Forget the token for scope (after a 401 on a transfer). */
void reg_token_drop(struct reg_client *c, const char *scope);
/* "https://host/v2/<path>..." */
char *reg_url(const struct reg_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The daemon's registry settings held by the store. */
struct reg_settings {
        char **insecure;
        char **mirrors;
        char *certs_dir;
};
const struct reg_settings *reg_settings(struct img_store *s);
/* Whether a registry may be used over plain HTTP (loopback, or listed); *listed tells whether
 * --insecure-registry named it (then TLS is not verified either, as docker does). */
bool reg_is_insecure(struct img_store *s, const char *host, bool *listed);

/* ---- registry_pull.c / registry_push.c shared: the layer records ---- */
/* Remember that diff_hex's compressed form is blob digest (media type, size) in repository
 * name (normalized, no tag). Caller holds s->lock. */
int reg_record_dist(struct img_store *s, const char *diff_hex, const char *digest,
                    const char *media_type, int64_t size, const char *name, struct gerr **err);
/* Point a name@digest at an image id. Caller holds s->lock. */
int reg_record_repo_digest(struct img_store *s, const char *name_at_digest, const char *id,
                           struct gerr **err);

/* Docker's progress line: {"status":..,"id":..,"progressDetail":{current,total},"progress":..}. */
void reg_progress(img_progress_fn fn, void *arg, const char *id, const char *status,
                  int64_t current, int64_t total);
void reg_progress_status(img_progress_fn fn, void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- layer_source.c: decompressing a blob file as a stream (ISA-L igzip, zstd, none) ---- */
struct img_layer_source;
/* comp: 1 gzip, 2 zstd, 0 none, -1 detect from the magic bytes. */
int img_layer_source_open(int fd, int comp, struct img_layer_source **out, struct gerr **err);
/* Reads up to cap bytes of the compressed blob: > 0, 0 at its end, < 0 -errno (err filled). */
typedef ssize_t (*img_layer_read_fn)(void *arg, void *buf, size_t cap, struct gerr **err);
int img_layer_source_open_fn(img_layer_read_fn rd, void *arg, int comp,
                             struct img_layer_source **out, struct gerr **err);
/* Next uncompressed bytes: > 0 count, 0 at the end, < 0 -errno (err filled). */
ssize_t img_layer_source_read(struct img_layer_source *src, const void **buf, struct gerr **err);
void img_layer_source_free(struct img_layer_source *src);
/* Unpack a compressed blob (blob_hex, comp as above) into layers/<chain_hex>: decompressed
 * once, the tar kept as blob diff_hex (verified against it), extracted on the way. */
int img_layer_unpack_compressed(struct img_store *s, const char *blob_hex, int comp,
                                const char *diff_hex, const char *chain_hex, int64_t *size,
                                struct gerr **err);
/* Called once the tar was read (unpack_failed: it could not be): waits for the compressed blob to
 * be complete and checks its digest; < 0 (err filled) stops the layer from being published. */
typedef int (*img_layer_verify_fn)(void *arg, bool unpack_failed, struct gerr **err);
/* The same as img_layer_unpack_compressed from a blob still arriving (rd), unpacked while it
 * downloads: layers/<chain_hex> and blob diff_hex appear only after verify passed. */
int img_layer_unpack_stream(struct img_store *s, img_layer_read_fn rd, void *rd_arg, int comp,
                            img_layer_verify_fn verify, void *varg, const char *blob_hex,
                            const char *diff_hex, const char *chain_hex, int64_t *size,
                            struct gerr **err);
/* gzip (igzip level 1) the uncompressed blob diff_hex into a new blob: hex_out, *size. */
int img_layer_compress(struct img_store *s, const char *diff_hex, char hex_out[IMG_HEX_LEN + 1],
                       int64_t *size, struct gerr **err);
