/* Images from registries (OCI distribution spec with Docker's extensions): pull, push, login. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "common/gerr.h"
#include "image/image.h"

/* The daemon's registry settings (--insecure-registry, --registry-mirror, --certs-dir). */
struct img_registry_config {
        const char *const *insecure; /* "host:port" or CIDR ("10.0.0.0/8"), NULL-terminated */
        const char *const *mirrors;  /* "https://mirror:5000" for docker.io, NULL-terminated */
        const char *certs_dir;       /* default /etc/docker/certs.d */
};
/* Copies c into the store (the lists and strings too). */
int img_registry_configure(struct img_store *s, const struct img_registry_config *c,
                           struct gerr **err);

/* Credentials for one registry: the X-Registry-Auth JSON or a /auth body (Docker's AuthConfig). */
struct img_auth {
        char *username, *password, *identitytoken, *registrytoken, *serveraddress;
};
void img_auth_clear(struct img_auth *a);
/* Parse Docker's AuthConfig JSON object (keys are case-insensitive, "auth" is base64 user:pw). */
int img_auth_from_json(json_t *j, struct img_auth *out, struct gerr **err);
/* X-Registry-Auth: base64url (or standard base64) of the AuthConfig JSON. Empty: no creds. */
int img_auth_from_header(const char *hdr, struct img_auth *out, struct gerr **err);

/* Progress in Docker's JSON message shape ({"status":..,"id":..,"progressDetail":..}); called
 * from the worker's thread, one message at a time. The callee owns nothing (no steal). */
typedef void (*img_progress_fn)(void *arg, json_t *msg);

struct img_pull_opts {
        const char *ref;      /* "localhost:5000/x:tag" or "...@sha256:..." */
        const char *platform; /* "linux/amd64[/v2]", NULL = the daemon's */
        const struct img_auth *auth;
        img_progress_fn progress;
        void *arg;
};
/* Pull ref into the store: manifest (index resolved to the platform), config, layers (several at
 * once, verified while they stream, those present skipped), then the tag or repo digest.
 * *id_out = "sha256:<config>". Errors carry the registry's words (ENOENT for "manifest unknown",
 * EACCES for 401/403). */
int img_pull(struct img_store *s, const struct img_pull_opts *o, char **id_out, struct gerr **err);

struct img_push_opts {
        const char *ref; /* a local name; pushed to its registry under its tag */
        bool all_tags;   /* every local tag of ref's repository instead (ref's tag ignored) */
        const struct img_auth *auth;
        img_progress_fn progress;
        void *arg;
};
int img_push(struct img_store *s, const struct img_push_opts *o, struct gerr **err);

/* POST /auth: check the credentials against the registry. *status = "Login Succeeded";
 * *identity_token the registry's refresh token when it gave one (else NULL). */
int img_login(struct img_store *s, const struct img_auth *auth, char **status,
              char **identity_token, struct gerr **err);

/* GET /distribution/{name}/json: {"Descriptor":{mediaType,digest,size},"Platforms":[...]}. */
int img_distribution(struct img_store *s, const char *ref, const struct img_auth *auth,
                     json_t **out, struct gerr **err);

/* GET /images/search: term "host:port/word" or "word" (docker.io); registry v2 _catalog filtered
 * by the word where there is no search service. Docker's [{name, description, star_count, ...}]. */
int img_search(struct img_store *s, const char *term, long limit, const struct img_auth *auth,
               json_t **out, struct gerr **err);

/* The repo digests ("name@sha256:...") of an image, NULL-terminated. */
int img_repo_digests_of(struct img_store *s, const char *id, char ***out, struct gerr **err);
