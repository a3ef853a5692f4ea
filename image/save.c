/* docker save: a Docker archive (manifest.json, repositories, OCI layout) or a plain OCI image
 * layout archive (gantry save --format oci) written to an fd. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/db.h"
#include "image/image_internal.h"

/* A blob to write: opened while the store lock is held, so a concurrent rmi cannot pull it away
 * while it streams to a slow client. */
struct save_blob {
        char hex[IMG_HEX_LEN + 1];
        int fd;
        int64_t size;
};

struct save_ctx {
        struct save_blob *blobs;
        size_t n;
        json_t *images; /* [{id, names:[normalized]}] */
};

static void save_ctx_clear(struct save_ctx *c)
{
        for (size_t i = 0; i < c->n; i++)
                if (c->blobs[i].fd >= 0)
                        close(c->blobs[i].fd);
        free(c->blobs);
        json_decref(c->images);
}

static struct save_blob *find_blob(struct save_ctx *c, const char *hex)
{
        for (size_t i = 0; i < c->n; i++)
                if (strcmp(c->blobs[i].hex, img_hex(hex)) == 0)
                        return &c->blobs[i];
        return NULL;
}

static int open_blob(struct img_store *s, struct save_ctx *c, const char *hex, struct gerr **err)
{
        if (find_blob(c, hex) != NULL)
                return 0;
        struct save_blob *nb = realloc(c->blobs, (c->n + 1) * sizeof(*nb));
        if (nb == NULL)
                return gerr_set(err, ENOMEM, "save");
        c->blobs = nb;
        struct save_blob *b = &c->blobs[c->n];
        snprintf(b->hex, sizeof(b->hex), "%s", img_hex(hex));
        _cleanup_free_ char *p = img_blob_path(s, hex);
        b->fd = p ? open(p, O_RDONLY | O_CLOEXEC) : -1;
        c->n++;
        struct stat st;
        if (b->fd < 0 || fstat(b->fd, &st) < 0)
                return gerr_set(err, errno, "open blob %s", hex);
        b->size = st.st_size;
        return 0;
}

static int collect(struct img_store *s, const char *const *refs, size_t n, struct save_ctx *c,
                   struct gerr **err)
{
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *id = NULL, *name = NULL;
                bool by_name = false;
                int r = img_resolve_ex(s, refs[i], &id, &by_name, err);
                if (r < 0)
                        return r;
                if (by_name && (r = img_normalize(refs[i], &name, err)) < 0)
                        return r;
                json_t *img = NULL, *v;
                size_t j;
                json_array_foreach(c->images, j, v)
                {
                        if (strcmp(json_string_value(json_object_get(v, "id")), id) == 0)
                                img = v;
                }
                if (img == NULL) {
                        img = json_pack("{s:s, s:[], s:[]}", "id", id, "names", "layers");
                        json_array_append_new(c->images, img);
                        r = open_blob(s, c, id, err);
                        if (r < 0)
                                return r;
                        _cleanup_stmt_ sqlite3_stmt *st = NULL;
                        r = db_prepare(s->db,
                                       "SELECT diff_id FROM image_layers WHERE image_id = ?"
                                       " ORDER BY idx",
                                       &st, err);
                        if (r < 0)
                                return r;
                        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
                        while (sqlite3_step(st) == SQLITE_ROW) {
                                const char *d = (const char *)sqlite3_column_text(st, 0);
                                json_array_append_new(json_object_get(img, "layers"),
                                                      json_string(d));
                                r = open_blob(s, c, d, err);
                                if (r < 0)
                                        return r;
                        }
                }
                if (name != NULL)
                        json_array_append_new(json_object_get(img, "names"), json_string(name));
        }
        return 0;
}

static int write_entry(struct archive *a, const char *path, int type, int64_t size,
                       struct gerr **err)
{
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, path);
        archive_entry_set_filetype(e, (unsigned)type);
        archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
        archive_entry_set_size(e, type == AE_IFDIR ? 0 : size);
        archive_entry_set_mtime(e, 0, 0);
        int rc = archive_write_header(a, e);
        archive_entry_free(e);
        if (rc < ARCHIVE_WARN)
                return gerr_set(err, EIO, "save %s: %s", path, archive_error_string(a));
        return 0;
}

static int write_bytes(struct archive *a, const char *path, const char *data, struct gerr **err)
{
        size_t len = strlen(data);
        int r = write_entry(a, path, AE_IFREG, (int64_t)len, err);
        if (r >= 0 && len > 0 && archive_write_data(a, data, len) < 0)
                r = gerr_set(err, EIO, "save %s: %s", path, archive_error_string(a));
        return r;
}

static int write_blob(struct archive *a, struct save_blob *b, struct gerr **err)
{
        char path[96];
        snprintf(path, sizeof(path), "blobs/sha256/%s", b->hex);
        int r = write_entry(a, path, AE_IFREG, b->size, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *buf = malloc(256 * 1024);
        if (buf == NULL)
                return gerr_set(err, ENOMEM, "save");
        int64_t off = 0;
        while (off < b->size) {
                ssize_t n = pread(b->fd, buf, 256 * 1024, off);
                if (n <= 0)
                        return gerr_set(err, n < 0 ? errno : EIO, "read blob %s", b->hex);
                if (archive_write_data(a, buf, (size_t)n) < 0)
                        return gerr_set(err, EIO, "save: %s", archive_error_string(a));
                off += n;
        }
        return 0;
}

/* The OCI manifest of one image, as docker 25+ puts in its archives' index.json. */
static char *oci_manifest(struct save_ctx *c, json_t *img)
{
        const char *id = json_string_value(json_object_get(img, "id"));
        json_t *layers = json_array(), *l;
        size_t i;
        json_array_foreach(json_object_get(img, "layers"), i, l)
        {
                struct save_blob *b = find_blob(c, json_string_value(l));
                json_array_append_new(layers,
                                      json_pack("{s:s, s:O, s:I}", "mediaType",
                                                "application/vnd.oci.image.layer.v1.tar", "digest",
                                                l, "size", (json_int_t)(b ? b->size : 0)));
        }
        struct save_blob *cb = find_blob(c, id);
        _cleanup_json_ json_t *m =
            json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
                      "application/vnd.oci.image.manifest.v1+json", "config", "mediaType",
                      "application/vnd.oci.image.config.v1+json", "digest", id, "size",
                      (json_int_t)(cb ? cb->size : 0), "layers", layers);
        return m ? json_dumps(m, JSON_COMPACT) : NULL;
}

static int write_archive(struct save_ctx *c, int fd, enum img_save_format format,
                         struct gerr **err)
{
        struct archive *a = archive_write_new();
        if (a == NULL)
                return gerr_set(err, ENOMEM, "save");
        archive_write_set_format_pax_restricted(a);
        archive_write_set_bytes_in_last_block(a, 1);
        int r = 0;
        if (archive_write_open_fd(a, fd) != ARCHIVE_OK)
                r = gerr_set(err, EIO, "save: %s", archive_error_string(a));
        if (r >= 0)
                r = write_entry(a, "blobs", AE_IFDIR, 0, err);
        if (r >= 0)
                r = write_entry(a, "blobs/sha256", AE_IFDIR, 0, err);
        for (size_t i = 0; r >= 0 && i < c->n; i++)
                r = write_blob(a, &c->blobs[i], err);
        _cleanup_json_ json_t *manifest = json_array(), *repos = json_object(),
                              *index =
                                  json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType",
                                            "application/vnd.oci.image.index.v1+json", "manifests");
        size_t i;
        json_t *img;
        json_array_foreach(c->images, i, img)
        {
                if (r < 0)
                        break;
                const char *id = json_string_value(json_object_get(img, "id"));
                _cleanup_free_ char *m = oci_manifest(c, img);
                char mhex[IMG_HEX_LEN + 1], mpath[96], cpath[96];
                if (m == NULL) {
                        r = gerr_set(err, ENOMEM, "save");
                        break;
                }
                img_sha256_hex(m, strlen(m), mhex);
                snprintf(mpath, sizeof(mpath), "blobs/sha256/%s", mhex);
                snprintf(cpath, sizeof(cpath), "blobs/sha256/%s", img_hex(id));
                r = write_bytes(a, mpath, m, err);
                json_t *tags = json_array(), *layers = json_array(), *v;
                size_t j;
                json_array_foreach(json_object_get(img, "layers"), j, v) json_array_append_new(
                    layers, json_sprintf("blobs/sha256/%s", img_hex(json_string_value(v))));
                json_t *names = json_object_get(img, "names");
                json_array_foreach(names, j, v)
                {
                        const char *name = json_string_value(v);
                        _cleanup_free_ char *fam = img_familiar(name);
                        json_array_append_new(tags, json_string(fam));
                        /* docker names the tag alone; skopeo's oci-archive:FILE:NAME:TAG looks
                         * up NAME:TAG, so the OCI form names the image with it */
                        const char *tag = strrchr(name, ':');
                        json_array_append_new(
                            json_object_get(index, "manifests"),
                            json_pack("{s:s, s:s+, s:i, s:{s:s, s:s}}", "mediaType",
                                      "application/vnd.oci.image.manifest.v1+json", "digest",
                                      "sha256:", mhex, "size", (int)strlen(m), "annotations",
                                      "io.containerd.image.name", name,
                                      "org.opencontainers.image.ref.name",
                                      format == IMG_SAVE_OCI ? fam : tag ? tag + 1 : ""));
                        char *colon = strrchr(fam, ':');
                        if (colon != NULL) {
                                *colon = '\0';
                                json_t *repo = json_object_get(repos, fam);
                                if (repo == NULL)
                                        json_object_set_new(repos, fam, repo = json_object());
                                json_object_set_new(repo, colon + 1, json_string(img_hex(id)));
                        }
                }
                if (json_array_size(names) == 0)
                        json_array_append_new(
                            json_object_get(index, "manifests"),
                            json_pack("{s:s, s:s+, s:i}", "mediaType",
                                      "application/vnd.oci.image.manifest.v1+json", "digest",
                                      "sha256:", mhex, "size", (int)strlen(m)));
                json_array_append_new(
                    manifest,
                    json_pack("{s:s, s:o, s:o}", "Config", cpath, "RepoTags",
                              json_array_size(tags) ? tags : (json_decref(tags), json_null()),
                              "Layers", layers));
        }
        _cleanup_free_ char *mtext = json_dumps(manifest, JSON_COMPACT);
        _cleanup_free_ char *itext = json_dumps(index, JSON_COMPACT);
        _cleanup_free_ char *rtext = json_dumps(repos, JSON_COMPACT);
        if (r >= 0 && (mtext == NULL || itext == NULL || rtext == NULL))
                r = gerr_set(err, ENOMEM, "save");
        if (r >= 0)
                r = write_bytes(a, "index.json", itext, err);
        if (r >= 0 && format == IMG_SAVE_DOCKER)
                r = write_bytes(a, "manifest.json", mtext, err);
        if (r >= 0)
                r = write_bytes(a, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", err);
        if (r >= 0 && format == IMG_SAVE_DOCKER && json_object_size(repos) > 0)
                r = write_bytes(a, "repositories", rtext, err);
        if (r >= 0 && archive_write_close(a) != ARCHIVE_OK)
                r = gerr_set(err, EIO, "save: %s", archive_error_string(a));
        archive_write_free(a);
        return r;
}

int img_save(struct img_store *s, const char *const *refs, size_t n, enum img_save_format format,
             int fd, struct gerr **err)
{
        struct save_ctx c = {.images = json_array()};
        pthread_mutex_lock(&s->lock);
        int r = collect(s, refs, n, &c, err);
        pthread_mutex_unlock(&s->lock);
        if (r >= 0)
                r = write_archive(&c, fd, format, err);
        save_ctx_clear(&c);
        return r;
}
