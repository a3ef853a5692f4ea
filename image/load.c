/* docker load and docker import: archives in, images registered in the store. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/db.h"
#include "common/fsutil.h"
#include "common/timefmt.h"
#include "image/image_internal.h"

/* A file of the archive stashed in the content store, or a symlink to another one. */
struct stash {
        char *path;
        char *link; /* symlink target, already joined to the entry's directory */
        char hex[IMG_HEX_LEN + 1];
};

struct stash_set {
        struct stash *v;
        size_t n;
        char *manifest;
};

static void stash_set_free(struct stash_set *ss)
{
        for (size_t i = 0; i < ss->n; i++) {
                free(ss->v[i].path);
                free(ss->v[i].link);
        }
        free(ss->v);
        free(ss->manifest);
}

/* "a/b/../c/./d" -> "a/c/d" (archive-internal paths only; never used on the filesystem). */
static char *join_clean(const char *dir, const char *rel)
{
        _cleanup_free_ char *joined = NULL;
        if (rel[0] == '/' ? asprintf(&joined, "%s", rel) < 0
                          : asprintf(&joined, "%s/%s", dir, rel) < 0)
                return NULL;
        char *out = calloc(1, strlen(joined) + 1);
        if (out == NULL)
                return NULL;
        size_t len = 0;
        for (char *save = NULL, *c = strtok_r(joined, "/", &save); c;
             c = strtok_r(NULL, "/", &save)) {
                if (strcmp(c, ".") == 0)
                        continue;
                if (strcmp(c, "..") == 0) {
                        while (len > 0 && out[len - 1] != '/')
                                len--;
                        if (len > 0)
                                len--;
                        out[len] = '\0';
                        continue;
                }
                len += (size_t)sprintf(out + len, "%s%s", len ? "/" : "", c);
        }
        return out;
}

static const char *stash_find(const struct stash_set *ss, const char *path, int depth)
{
        _cleanup_free_ char *clean = join_clean("", path);
        if (clean == NULL || depth > 8)
                return NULL;
        for (size_t i = 0; i < ss->n; i++) {
                if (strcmp(ss->v[i].path, clean) != 0)
                        continue;
                if (ss->v[i].link != NULL)
                        return stash_find(ss, ss->v[i].link, depth + 1);
                return ss->v[i].hex;
        }
        return NULL;
}

static struct stash *stash_add(struct stash_set *ss, const char *path)
{
        struct stash *nv = realloc(ss->v, (ss->n + 1) * sizeof(*nv));
        if (nv == NULL)
                return NULL;
        ss->v = nv;
        struct stash *st = &ss->v[ss->n];
        memset(st, 0, sizeof(*st));
        st->path = join_clean("", path);
        if (st->path == NULL)
                return NULL;
        ss->n++;
        return st;
}

/* Metadata Docker writes that the load does not need. */
static bool skip_entry(const char *path)
{
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        return strcmp(path, "repositories") == 0 || strcmp(path, "oci-layout") == 0 ||
               strcmp(path, "index.json") == 0 || strcmp(base, "VERSION") == 0 ||
               strcmp(base, "json") == 0;
}

/* Read the archive once: every file goes to the content store (not yet synced: only the blobs
 * an image ends up using are), manifest.json to memory. */
static int stash_archive(struct img_store *s, int fd, struct stash_set *ss, struct gerr **err)
{
        struct archive *a = archive_read_new();
        if (a == NULL)
                return gerr_set(err, ENOMEM, "archive");
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        int r = 0;
        _cleanup_free_ char *buf = malloc(256 * 1024);
        if (buf == NULL || archive_read_open_fd(a, fd, 256 * 1024) != ARCHIVE_OK) {
                r = img_errf(err, EINVAL, "invalid archive: %s",
                             buf ? archive_error_string(a) : "out of memory");
                archive_read_free(a);
                return r;
        }
        struct archive_entry *e;
        int rc;
        while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
                _cleanup_free_ char *path = join_clean("", archive_entry_pathname(e) ?: "");
                if (path == NULL) {
                        r = gerr_set(err, ENOMEM, "load");
                        break;
                }
                if (archive_entry_filetype(e) == AE_IFLNK) {
                        _cleanup_free_ char *dir = strdup(path);
                        char *slash = dir ? strrchr(dir, '/') : NULL;
                        if (dir != NULL)
                                *(slash ? slash : dir) = '\0';
                        struct stash *st = dir ? stash_add(ss, path) : NULL;
                        if (st == NULL ||
                            (st->link = join_clean(dir, archive_entry_symlink(e) ?: "")) == NULL) {
                                r = gerr_set(err, ENOMEM, "load");
                                break;
                        }
                        continue;
                }
                if (archive_entry_filetype(e) != AE_IFREG || skip_entry(path))
                        continue;
                if (strcmp(path, "manifest.json") == 0) {
                        size_t cap = 0, len = 0;
                        ssize_t n;
                        free(ss->manifest);
                        ss->manifest = NULL;
                        do {
                                if (len + 65536 + 1 > cap) {
                                        char *nm = realloc(ss->manifest, cap = len + 65536 + 1);
                                        if (nm == NULL)
                                                return archive_read_free(a),
                                                       gerr_set(err, ENOMEM, "load");
                                        ss->manifest = nm;
                                }
                                n = archive_read_data(a, ss->manifest + len, 65536);
                                if (n > 0)
                                        len += (size_t)n;
                        } while (n > 0 && len < (16u << 20));
                        ss->manifest[len] = '\0';
                        if (n < 0) {
                                r = img_errf(err, EINVAL, "invalid archive: %s",
                                             archive_error_string(a));
                                break;
                        }
                        continue;
                }
                /* A blobs/sha256/<hex> path names its digest: check it as it is written. */
                const char *expect = NULL;
                if (strncmp(path, "blobs/sha256/", 13) == 0 && img_is_hex(path + 13, 64, 64))
                        expect = path + 13;
                struct img_blob_writer w;
                r = img_blob_begin(s, &w, err);
                if (r < 0)
                        break;
                ssize_t n;
                while ((n = archive_read_data(a, buf, 256 * 1024)) > 0) {
                        r = img_blob_write(&w, buf, (size_t)n, err);
                        if (r < 0)
                                break;
                }
                if (r >= 0 && n < 0)
                        r = img_errf(err, EINVAL, "invalid archive: %s", archive_error_string(a));
                struct stash *st = r >= 0 ? stash_add(ss, path) : NULL;
                if (r >= 0 && st == NULL)
                        r = gerr_set(err, ENOMEM, "load");
                if (r < 0) {
                        img_blob_abort(&w);
                        break;
                }
                r = img_blob_commit(s, &w, expect, false, st->hex, err);
                if (r < 0) {
                        ss->n--;
                        free(st->path);
                        break;
                }
        }
        if (r >= 0 && rc != ARCHIVE_EOF)
                r = img_errf(err, EINVAL, "invalid archive: %s", archive_error_string(a));
        archive_read_free(a);
        return r;
}

static int sync_blob(struct img_store *s, const char *hex)
{
        _cleanup_free_ char *p = img_blob_path(s, hex);
        _cleanup_close_ int fd = p ? open(p, O_RDONLY | O_CLOEXEC) : -1;
        return fd >= 0 && fsync(fd) == 0 ? 0 : -errno;
}

/* One manifest.json entry: verify the layers against the config, unpack, register. */
static int load_one(struct img_store *s, const struct stash_set *ss, json_t *m, json_t *loaded,
                    struct gerr **err)
{
        const char *cfg_path = json_string_value(json_object_get(m, "Config"));
        json_t *jlayers = json_object_get(m, "Layers");
        const char *cfg_hex = cfg_path ? stash_find(ss, cfg_path, 0) : NULL;
        if (cfg_hex == NULL || !json_is_array(jlayers))
                return img_errf(err, EINVAL, "invalid archive: config %s not found",
                                cfg_path ? cfg_path : "(none)");
        _cleanup_free_ char *cfg_file = img_blob_path(s, cfg_hex);
        _cleanup_free_ char *cfg_text = NULL;
        size_t cfg_len = 0;
        int r = fs_read_file(cfg_file, &cfg_text, &cfg_len, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *cfg = json_loadb(cfg_text, cfg_len, 0, NULL);
        json_t *diff_ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
        if (!json_is_object(cfg))
                return img_errf(err, EINVAL, "invalid archive: config %s is not JSON", cfg_path);
        size_t n = json_array_size(jlayers);
        if (json_is_array(diff_ids) && json_array_size(diff_ids) != n)
                return img_errf(err, EINVAL, "invalid archive: %zu layers but %zu diff_ids", n,
                                json_array_size(diff_ids));
        _cleanup_free_ struct img_layer_ref *layers = calloc(n + 1, sizeof(*layers));
        if (layers == NULL)
                return gerr_set(err, ENOMEM, "load");
        for (size_t i = 0; i < n; i++) {
                const char *lp = json_string_value(json_array_get(jlayers, i));
                const char *hex = lp ? stash_find(ss, lp, 0) : NULL;
                if (hex == NULL)
                        return img_errf(err, EINVAL, "invalid archive: layer %s not found",
                                        lp ? lp : "(none)");
                r = img_blob_uncompressed(s, hex, layers[i].diff, err);
                if (r < 0)
                        return r;
                const char *want = json_string_value(json_array_get(diff_ids, i));
                if (want != NULL && strcmp(img_hex(want), layers[i].diff) != 0)
                        return img_errf(err, EINVAL,
                                        "invalid archive: layer %s has diff id sha256:%s, the "
                                        "config says %s",
                                        lp, layers[i].diff, want);
                img_chain_id(i ? layers[i - 1].chain : NULL, layers[i].diff, layers[i].chain);
                r = img_layer_unpack(s, layers[i].diff, layers[i].chain, &layers[i].size, err);
                if (r < 0)
                        return r;
                sync_blob(s, layers[i].diff);
        }
        sync_blob(s, cfg_hex);
        json_t *tags = json_object_get(m, "RepoTags");
        size_t nt = json_array_size(tags);
        _cleanup_strv_ char **names = calloc(nt + 1, sizeof(char *));
        if (names == NULL)
                return gerr_set(err, ENOMEM, "load");
        for (size_t i = 0; i < nt; i++) {
                const char *t = json_string_value(json_array_get(tags, i));
                if (t == NULL || (r = img_normalize(t, &names[i], err)) < 0)
                        return r < 0 ? r : img_errf(err, EINVAL, "invalid archive: bad RepoTags");
        }
        r = img_register(s, cfg_hex, cfg_text, layers, n, (const char *const *)names, nt, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < nt; i++) {
                _cleanup_free_ char *fam = img_familiar(names[i]);
                json_array_append_new(loaded, json_sprintf("Loaded image: %s", fam));
        }
        if (nt == 0)
                json_array_append_new(loaded, json_sprintf("Loaded image ID: sha256:%s", cfg_hex));
        return 0;
}

/* Blobs of this load that no image refers to (manifests, compressed copies) go away. */
static void drop_unreferenced(struct img_store *s, const struct stash_set *ss)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (db_prepare(s->db,
                       "SELECT (SELECT COUNT(*) FROM images WHERE id = ?1) +"
                       " (SELECT COUNT(*) FROM image_layers WHERE diff_id = ?1)",
                       &st, NULL) < 0)
                return;
        for (size_t i = 0; i < ss->n; i++) {
                if (ss->v[i].link != NULL)
                        continue;
                char d[IMG_HEX_LEN + 8];
                snprintf(d, sizeof(d), "sha256:%s", ss->v[i].hex);
                sqlite3_reset(st);
                sqlite3_bind_text(st, 1, d, -1, SQLITE_TRANSIENT);
                if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) == 0) {
                        _cleanup_free_ char *p = img_blob_path(s, ss->v[i].hex);
                        if (p != NULL)
                                unlink(p);
                }
        }
}

int img_load(struct img_store *s, int fd, json_t **loaded, struct gerr **err)
{
        struct stash_set ss = {0};
        _cleanup_json_ json_t *out = json_array();
        pthread_mutex_lock(&s->lock);
        int r = stash_archive(s, fd, &ss, err);
        if (r >= 0 && ss.manifest == NULL)
                r = img_errf(err, EINVAL, "invalid archive: no manifest.json");
        if (r >= 0) {
                json_error_t jerr;
                _cleanup_json_ json_t *man = json_loads(ss.manifest, 0, &jerr);
                if (!json_is_array(man))
                        r = img_errf(err, EINVAL, "invalid archive: manifest.json: %s", jerr.text);
                size_t i;
                json_t *m;
                json_array_foreach(man, i, m)
                {
                        if (r < 0)
                                break;
                        r = load_one(s, &ss, m, out, err);
                }
        }
        drop_unreferenced(s, &ss);
        if (r < 0)
                img_gc(s, NULL); /* layers unpacked before the failure */
        pthread_mutex_unlock(&s->lock);
        stash_set_free(&ss);
        if (r < 0)
                return r;
        *loaded = TAKE_PTR(out);
        return 0;
}

int img_import(struct img_store *s, int fd, const char *repo_tag, char **id_out, struct gerr **err)
{
        _cleanup_free_ char *name = NULL;
        int r;
        if (repo_tag != NULL && (r = img_normalize(repo_tag, &name, err)) < 0)
                return r;
        char tsbuf[TIMEFMT_RFC3339_LEN];
        timefmt_now(tsbuf);
        pthread_mutex_lock(&s->lock);
        struct img_layer_ref layer;
        r = img_blob_from_stream(s, fd, layer.diff, err);
        if (r >= 0) {
                img_chain_id(NULL, layer.diff, layer.chain);
                r = img_layer_unpack(s, layer.diff, layer.chain, &layer.size, err);
        }
        _cleanup_json_ json_t *cfg = NULL;
        _cleanup_free_ char *text = NULL;
        char cfg_hex[IMG_HEX_LEN + 1];
        if (r >= 0) {
                cfg = json_pack("{s:s, s:s, s:{}, s:s, s:{s:s, s:[s+]}, s:[{s:s, s:s}]}",
                                "architecture", "amd64", "os", "linux", "config", "created", tsbuf,
                                "rootfs", "type", "layers", "diff_ids", "sha256:", layer.diff,
                                "history", "created", tsbuf, "comment", "Imported from -");
                text = cfg ? json_dumps(cfg, JSON_COMPACT) : NULL;
                r = text ? img_blob_put(s, text, strlen(text), cfg_hex, err)
                         : gerr_set(err, ENOMEM, "import");
        }
        if (r >= 0) {
                const char *names[] = {name};
                r = img_register(s, cfg_hex, text, &layer, 1, names, name ? 1 : 0, err);
        }
        if (r < 0)
                img_gc(s, NULL);
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
                return gerr_wrap(err, "import");
        if (asprintf(id_out, "sha256:%s", cfg_hex) < 0)
                return gerr_set(err, ENOMEM, "import");
        return 0;
}

int img_register(struct img_store *s, const char *config_hex, const char *config_text,
                 const struct img_layer_ref *layers, size_t n, const char *const *names,
                 size_t n_names, struct gerr **err)
{
        char id[IMG_HEX_LEN + 8];
        snprintf(id, sizeof(id), "sha256:%s", img_hex(config_hex));
        _cleanup_json_ json_t *cfg = json_loads(config_text, 0, NULL);
        int64_t total = 0;
        for (size_t i = 0; i < n; i++)
                total += layers[i].size;
        int r = db_exec(s->db, "BEGIN IMMEDIATE", err);
        if (r < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *img = NULL, *del = NULL, *lay = NULL, *tag = NULL;
        r = db_prepare(
            s->db, "INSERT OR REPLACE INTO images (id, config, created, size) VALUES (?, ?, ?, ?)",
            &img, err);
        if (r >= 0) {
                sqlite3_bind_text(img, 1, id, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(img, 2, config_text, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(img, 3, json_string_value(json_object_get(cfg, "created")), -1,
                                  SQLITE_TRANSIENT);
                sqlite3_bind_int64(img, 4, total);
                r = db_step_done(s->db, img, err);
        }
        if (r >= 0 && (r = db_prepare(s->db, "DELETE FROM image_layers WHERE image_id = ?", &del,
                                      err)) >= 0) {
                sqlite3_bind_text(del, 1, id, -1, SQLITE_TRANSIENT);
                r = db_step_done(s->db, del, err);
        }
        if (r >= 0)
                r = db_prepare(s->db,
                               "INSERT INTO image_layers (image_id, idx, chain_id, diff_id, size)"
                               " VALUES (?, ?, ?, ?, ?)",
                               &lay, err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                char chain[IMG_HEX_LEN + 8], diff[IMG_HEX_LEN + 8];
                snprintf(chain, sizeof(chain), "sha256:%s", layers[i].chain);
                snprintf(diff, sizeof(diff), "sha256:%s", layers[i].diff);
                sqlite3_reset(lay);
                sqlite3_bind_text(lay, 1, id, -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(lay, 2, (sqlite3_int64)i);
                sqlite3_bind_text(lay, 3, chain, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(lay, 4, diff, -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(lay, 5, layers[i].size);
                r = db_step_done(s->db, lay, err);
        }
        if (r >= 0)
                r = db_prepare(s->db, "INSERT OR REPLACE INTO tags (name, image_id) VALUES (?, ?)",
                               &tag, err);
        for (size_t i = 0; r >= 0 && i < n_names; i++) {
                sqlite3_reset(tag);
                sqlite3_bind_text(tag, 1, names[i], -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(tag, 2, id, -1, SQLITE_TRANSIENT);
                r = db_step_done(s->db, tag, err);
        }
        if (r >= 0)
                return db_exec(s->db, "COMMIT", err);
        db_exec(s->db, "ROLLBACK", NULL);
        return r;
}
