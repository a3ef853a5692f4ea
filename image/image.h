/* Local images: content store, unpacked layers shared by chain id, names, Docker archive I/O. */
#pragma once

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>

#include "common/gerr.h"

struct img_store;

/* root: /var/lib/gantry (blobs/sha256/, layers/<chainid>/ live below it). The store creates its
 * tables in db if missing. Safe to call from several threads (it serializes writes itself). */
int img_store_open(sqlite3 *db, const char *root, struct img_store **out, struct gerr **err);
void img_store_close(struct img_store *s);

/* Normalize a reference as Docker does: "busybox" -> "docker.io/library/busybox:latest",
 * "localhost:5000/x" -> "localhost:5000/x:latest", digests kept. EINVAL names a bad ref. */
int img_normalize(const char *ref, char **out, struct gerr **err);
/* Docker's short display form of a normalized name ("busybox:latest"). */
char *img_familiar(const char *normalized);

/* POST /images/load: a Docker archive (docker save format, legacy manifest.json and the OCI
 * layout docker 25+ writes) or a plain OCI image layout archive (skopeo's oci-archive: names from
 * the io.containerd.image.name or org.opencontainers.image.ref.name annotations, indexes resolved
 * to linux/<host arch>) read from fd. Nothing is registered unless every image of it loads.
 * *loaded gets Docker's lines, e.g. ["Loaded image: busybox:latest"] or
 * ["Loaded image ID: sha256:..."]. */
int img_load(struct img_store *s, int fd, json_t **loaded, struct gerr **err);
/* POST /images/create?fromSrc=-: a rootfs tar (maybe gzip/zstd) from fd becomes a one-layer
 * image; repo_tag may be NULL (untagged), config (the image's "config", may be NULL) is
 * copied, comment (NULL: "Imported from -") is its history's. *id_out = "sha256:...". */
int img_import(struct img_store *s, int fd, const char *repo_tag, json_t *config,
               const char *comment, char **id_out, struct gerr **err);
/* GET /images/get: the refs written to fd as docker save's archive (manifest.json and the OCI
 * layout docker 25+ writes, ref.name annotations naming the tag), or as a plain OCI image layout
 * (no manifest.json; ref.name annotations "name:tag", as skopeo's oci-archive:FILE:NAME:TAG
 * reads them). */
enum img_save_format { IMG_SAVE_DOCKER, IMG_SAVE_OCI };
int img_save(struct img_store *s, const char *const *refs, size_t n, enum img_save_format format,
             int fd, struct gerr **err);

/* A name, short id, full id or digest to the full image id ("sha256:<64 hex>").
 * ENOENT: "No such image: <ref>". */
int img_resolve(struct img_store *s, const char *ref, char **id_out, struct gerr **err);
/* The image config JSON (Docker/OCI image config: .config.Env, .config.Cmd, ...). */
int img_config(struct img_store *s, const char *id, json_t **out, struct gerr **err);
/* Unpacked layer directories of the image, top layer first (overlayfs lowerdir order),
 * NULL-terminated; caller frees with strv_free. */
int img_layer_dirs(struct img_store *s, const char *id, char ***out, struct gerr **err);

/* Docker API shapes. */
int img_list(struct img_store *s, bool all, json_t *filters, json_t **out, struct gerr **err);
int img_inspect(struct img_store *s, const char *ref, json_t **out, struct gerr **err);
int img_history(struct img_store *s, const char *ref, json_t **out, struct gerr **err);
int img_tag(struct img_store *s, const char *ref, const char *repo, const char *tag,
            struct gerr **err);
/* Which container uses image id (a running one first), or NULL; *running tells its state. */
typedef const char *(*img_user_fn)(const char *id, void *arg, bool *running);
/* DELETE /images/{name}: untag, or delete when the last name goes (or ref is an id).
 * A user found by in_use gives EBUSY with dockerd's conflict message naming the container; a
 * running user cannot be forced past. *deleted gets [{"Untagged":..}, {"Deleted":..}]. */
int img_remove(struct img_store *s, const char *ref, bool force, img_user_fn in_use, void *arg,
               json_t **deleted, struct gerr **err);
/* docker commit: the layer tar read from layer_fd (the container's changes, whiteouts as .wh.
 * entries) on top of parent_id; the config is the parent's with one more history entry, as
 * dockerd's image.NewChildImage writes it. An empty tar adds no layer (empty_layer history). */
struct img_commit_opts {
        const char *parent_id;    /* "sha256:...", or NULL */
        json_t *config;           /* the new image's Config */
        json_t *container_config; /* the container's config at commit (ContainerConfig) */
        const char *container_id;
        const char *author, *comment; /* may be NULL */
        const char *created_by;       /* the history entry's created_by */
        const char *name;             /* normalized name to tag, or NULL */
        /* Called once layer_fd is read to its end, before anything is registered: the writer's
         * verdict (a cut stream is no layer). Negative aborts the commit. May be NULL. */
        int (*stream_done)(void *arg, struct gerr **err);
        void *arg;
};
int img_commit(struct img_store *s, const struct img_commit_opts *o, int layer_fd, char **id_out,
               struct gerr **err);

/* POST /images/prune: dangling_only (dockerd's default) removes the untagged images, otherwise
 * every image; in both cases only those no container uses (in_use), created before until
 * (unix seconds, 0 = any) and whose labels match filters' label/label! values. *deleted gets
 * the Untagged/Deleted entries, *reclaimed the bytes of the layers that went. */
struct img_prune_opts {
        bool dangling_only;
        double until;
        json_t *filters; /* Docker's filters object (label, label!), or NULL */
};
int img_prune(struct img_store *s, const struct img_prune_opts *o, img_user_fn in_use, void *arg,
              json_t **deleted, long long *reclaimed, struct gerr **err);
/* Images, layers and bytes for /system/df and /info. */
int img_count(struct img_store *s, long *images, struct gerr **err);
