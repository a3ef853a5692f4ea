/* Private to image/: the store handle, the content store writer and helpers shared by its files. */
#pragma once

/* SHA-256 through nettle, not OpenSSL's libcrypto (DESIGN.md's first choice), for a measured
 * reason: libcrypto left about 2 MiB resident in an idle gantryd (1908 KiB of its PSS, mostly
 * its relocated data and init-time tables), while nettle is mapped anyway (libarchive and
 * GnuTLS link it) and costs nothing more. */
#include <nettle/sha2.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "image/image.h"

#define IMG_HEX_LEN 64

/* How long img_gc leaves what an unfinished pull wrote (complete blobs and layers, a .partial-
 * blob) for the next pull of the same image to go on from. */
#define IMG_PULL_KEEP_S (24 * 3600)

struct img_store {
        sqlite3 *db;
        char *root;                    /* realpath of the store root */
        pthread_mutex_t lock;          /* serializes every write (blobs, layers, rows) */
        struct reg_settings *registry; /* image/registry_http.c; NULL: docker's defaults */
        int pulls;                     /* pulls writing blobs and layers unlocked: img_gc waits */
};

/* A blob being written: temp file in blobs/sha256/, hashed as it is written. */
struct img_blob_writer {
        int fd;
        char tmp[4096];
        struct sha256_ctx md;
        uint64_t size;
};

/* Error with Docker's exact message (no strerror suffix) but a meaningful errno. */
int img_errf(struct gerr **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "<root>/blobs/sha256/<hex>" and "<root>/layers/<hex>" (hex may carry "sha256:"). */
char *img_blob_path(const struct img_store *s, const char *hex);
char *img_layer_path(const struct img_store *s, const char *hex);
/* Strip an optional "sha256:" prefix. */
const char *img_hex(const char *digest);
bool img_is_hex(const char *s, size_t min, size_t max);

int img_blob_begin(struct img_store *s, struct img_blob_writer *w, struct gerr **err);
int img_blob_write(struct img_blob_writer *w, const void *buf, size_t len, struct gerr **err);
/* Check the digest against expect_hex (if not NULL; a mismatch removes the temp file and fails
 * with EINVAL), fsync when durable, rename to blobs/sha256/<hex>. hex_out gets the digest. */
int img_blob_commit(struct img_store *s, struct img_blob_writer *w, const char *expect_hex,
                    bool durable, char hex_out[IMG_HEX_LEN + 1], struct gerr **err);
void img_blob_abort(struct img_blob_writer *w);
/* Whole-buffer variant. */
int img_blob_put(struct img_store *s, const void *data, size_t len, char hex_out[IMG_HEX_LEN + 1],
                 struct gerr **err);
/* sha256 of a buffer as hex. */
void img_sha256_hex(const void *data, size_t len, char hex_out[IMG_HEX_LEN + 1]);

/* Copy the blob (maybe compressed) to an uncompressed blob if it is compressed; diff_hex gets
 * the digest of the uncompressed tar (the blob's own digest when it already is one). */
int img_blob_uncompressed(struct img_store *s, const char *blob_hex, char diff_hex[IMG_HEX_LEN + 1],
                          struct gerr **err);
/* Decompress (libarchive auto-detects) the stream read from fd into a new blob. */
int img_blob_from_stream(struct img_store *s, int fd, char hex_out[IMG_HEX_LEN + 1],
                         struct gerr **err);

/* chain(prev, diff) per the OCI image spec; prev NULL for the bottom layer. Hex in and out. */
void img_chain_id(const char *prev_hex, const char *diff_hex, char out[IMG_HEX_LEN + 1]);
/* Unpack the uncompressed tar blob diff_hex into layers/<chain_hex> unless it is there already;
 * *size gets the bytes of its regular files. */
int img_layer_unpack(struct img_store *s, const char *diff_hex, const char *chain_hex,
                     int64_t *size, struct gerr **err);

/* The same from a tar opened for reading (the caller's source: a pull's stream). */
struct archive;
int img_layer_unpack_archive(struct img_store *s, struct archive *a, const char *chain_hex,
                             int64_t *size, struct gerr **err);
/* The same in two steps: unpack into a hidden temp dir (tmp gets its path; removed on failure),
 * then publish it as layers/<chain_hex> (removed if that fails). Between the two the caller
 * verifies what it must before the layer becomes visible. */
#define IMG_LAYER_TMP_MAX 4096
int img_layer_unpack_archive_tmp(struct img_store *s, struct archive *a, int64_t *size,
                                 char tmp[IMG_LAYER_TMP_MAX], struct gerr **err);
int img_layer_publish(struct img_store *s, const char *tmp, const char *chain_hex,
                      struct gerr **err);

/* One layer of an image being registered. */
struct img_layer_ref {
        char diff[IMG_HEX_LEN + 1];
        char chain[IMG_HEX_LEN + 1];
        int64_t size;
};
/* Insert (or replace) the image row and its layer rows, then point each normalized name in
 * names at it; one transaction. Caller holds s->lock. */
int img_register(struct img_store *s, const char *config_hex, const char *config_text,
                 const struct img_layer_ref *layers, size_t n, const char *const *names,
                 size_t n_names, struct gerr **err);
/* Unpack the layers of a config whose layer blobs (uncompressed) are diffs[]; fills layers[]. */
int img_unpack_layers(struct img_store *s, const char *const *diffs, size_t n,
                      struct img_layer_ref *layers, struct gerr **err);

/* Resolve without the caller holding the lock. by_name tells whether ref named a tag. */
int img_resolve_ex(struct img_store *s, const char *ref, char **id_out, bool *by_name,
                   struct gerr **err);
/* Tags (normalized names) of an image, NULL-terminated. */
int img_tags_of(struct img_store *s, const char *id, char ***out, struct gerr **err);
/* The names column of sql ("SELECT name ... WHERE image_id = ?") for image id, a NULL-ended list.
 */
int img_names_query(struct img_store *s, const char *sql, const char *id, char ***out,
                    struct gerr **err);
/* Remove layer dirs and blobs no image refers to any more; removed chain ids appended to
 * deleted (as {"Deleted": "sha256:..."}) when not NULL. Caller holds s->lock. */
void img_gc(struct img_store *s, json_t *deleted);
/* img_remove with s->lock held: Untagged/Deleted entries appended to deleted. */
int img_remove_locked(struct img_store *s, const char *ref, bool force, img_user_fn in_use,
                      void *arg, json_t *deleted, struct gerr **err);
/* Unix seconds of an RFC 3339 time ("2024-01-02T03:04:05.123Z"), 0 if unparsable. */
int64_t img_parse_time(const char *s);

/* ---- oci_index.c: an OCI image layout's index.json down to image manifests ---- */

/* A descriptor (OCI image-spec descriptor.md): digest "sha256:<hex>", size, media type. */
struct img_oci_desc {
        char digest[IMG_HEX_LEN + 8];
        int64_t size;
        char media_type[128]; /* "" when the descriptor has none */
};
/* One image of a layout: its manifest, config and layers, and the names (normalized) that the
 * index.json entry gives it (NULL-terminated, maybe empty). */
struct img_oci_image {
        char manifest[IMG_HEX_LEN + 8];
        struct img_oci_desc config;
        struct img_oci_desc *layers;
        size_t n_layers;
        char **names;
};
/* Where the layout's blobs come from: get fills *buf (malloc'd, at most max bytes) with the blob
 * of d, checked against d's digest and size; a missing or wrong blob is an error naming it. */
struct img_oci_src {
        int (*get)(void *ud, const struct img_oci_desc *d, size_t max, char **buf, size_t *len,
                   struct gerr **err);
        void *ud;
};
/* index.json (text) to its images: each top-level entry is one image (an entry for another
 * platform is skipped), a nested or multi-platform index resolves to linux/<host arch> (as a
 * pull does: manifest.c parses and chooses). Schema 1, unknown media types, other digest
 * algorithms and loops are refused (EINVAL/ENOTSUP/ELOOP, ENOENT when no manifest fits the
 * platform), the message naming the digest. */
int img_oci_read_index(const char *text, size_t len, const struct img_oci_src *src,
                       struct img_oci_image **out, size_t *n, struct gerr **err);
void img_oci_images_free(struct img_oci_image *v, size_t n);
