/* docker load and docker import: archives in, images registered in the store. */
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
#include "common/fsutil.h"
#include "common/timefmt.h"
#include "image/image_internal.h"

/* A file of the archive stashed in the content store, or a link to another one. */
struct stash {
        char *path;
        char *link; /* symlink or hardlink target, as an archive path */
        char hex[IMG_HEX_LEN + 1];
};

struct stash_set {
        struct stash *v;
        size_t n;
        char *manifest;   /* manifest.json (docker save) */
        char *index;      /* index.json (OCI image layout) */
        char *oci_layout; /* oci-layout */
};

static void stash_set_free(struct stash_set *ss)
{
        for (size_t i = 0; i < ss->n; i++) {
                free(ss->v[i].path);
                free(ss->v[i].link);
        }
        free(ss->v);
        free(ss->manifest);
        free(ss->index);
        free(ss->oci_layout);
}

/* "a/b/../c/./d" -> "a/c/d" (archive-internal paths only; never used on the filesystem).
 * *escaped tells whether a ".." climbed above the archive's root (or rel was absolute). */
static char *join_clean(const char *dir, const char *rel, bool *escaped)
{
        _cleanup_free_ char *joined = NULL;
        bool esc = rel[0] == '/';
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
                        if (len == 0)
                                esc = true;
                        while (len > 0 && out[len - 1] != '/')
                                len--;
                        if (len > 0)
                                len--;
                        out[len] = '\0';
                        continue;
                }
                len += (size_t)sprintf(out + len, "%s%s", len ? "/" : "", c);
        }
        if (escaped != NULL)
                *escaped = esc;
        return out;
}

static const char *stash_find(const struct stash_set *ss, const char *path, int depth)
{
        _cleanup_free_ char *clean = join_clean("", path, NULL);
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
        st->path = strdup(path);
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
        return strcmp(path, "repositories") == 0 || strcmp(base, "VERSION") == 0 ||
               strcmp(base, "json") == 0;
}

/* The small JSON files of the archive's top directory, read to memory (at most 16 MiB). */
static char **small_file(struct stash_set *ss, const char *path)
{
        if (strcmp(path, "manifest.json") == 0)
                return &ss->manifest;
        if (strcmp(path, "index.json") == 0)
                return &ss->index;
        if (strcmp(path, "oci-layout") == 0)
                return &ss->oci_layout;
        return NULL;
}

static int read_small(struct archive *a, const char *path, char **out, struct gerr **err)
{
        size_t cap = 0, len = 0;
        ssize_t n;
        free(*out);
        *out = NULL;
        do {
                if (len + 65536 + 1 > cap) {
                        char *nm = realloc(*out, cap = len + 65536 + 1);
                        if (nm == NULL)
                                return gerr_set(err, ENOMEM, "load");
                        *out = nm;
                }
                n = archive_read_data(a, *out + len, 65536);
                if (n > 0)
                        len += (size_t)n;
        } while (n > 0 && len < (16u << 20));
        (*out)[len] = '\0';
        if (n < 0)
                return img_errf(err, EINVAL, "invalid archive: %s", archive_error_string(a));
        if (n > 0)
                return img_errf(err, EINVAL, "invalid archive: %s is larger than 16 MiB", path);
        return 0;
}

/* A symlink (relative to its directory) or hardlink (relative to the archive's root) entry:
 * recorded so that lookups follow it, refused when it points out of the archive. */
static int stash_link(struct stash_set *ss, struct archive_entry *e, const char *path,
                      struct gerr **err)
{
        const char *hard = archive_entry_hardlink(e);
        const char *target = hard ? hard : archive_entry_symlink(e) ?: "";
        _cleanup_free_ char *dir = strdup(hard ? "" : path);
        if (dir == NULL)
                return gerr_set(err, ENOMEM, "load");
        char *slash = strrchr(dir, '/');
        *(slash ? slash : dir) = '\0';
        bool escaped = false;
        _cleanup_free_ char *to = join_clean(dir, target, &escaped);
        if (to == NULL)
                return gerr_set(err, ENOMEM, "load");
        /* A hardlink's name is an archive path: a leading "/" is only tar's absolute form. */
        if (escaped && !(hard != NULL && target[0] == '/' && strstr(target, "..") == NULL))
                return img_errf(err, EINVAL,
                                "invalid archive: %s %s points outside the archive (%s)",
                                hard ? "hardlink" : "symlink", path, target);
        struct stash *st = stash_add(ss, path);
        if (st == NULL)
                return gerr_set(err, ENOMEM, "load");
        st->link = TAKE_PTR(to);
        return 0;
}

/* One regular file to the content store; a blobs/sha256/<hex> path names its digest, which is
 * checked as it is written. */
static int stash_file(struct img_store *s, struct stash_set *ss, struct archive *a,
                      const char *path, char *buf, struct gerr **err)
{
        const char *expect = NULL;
        if (strncmp(path, "blobs/sha256/", 13) == 0 && img_is_hex(path + 13, 64, 64))
                expect = path + 13;
        struct img_blob_writer w;
        int r = img_blob_begin(s, &w, err);
        if (r < 0)
                return r;
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
                return r;
        }
        r = img_blob_commit(s, &w, expect, false, st->hex, err);
        if (r < 0) {
                ss->n--;
                free(st->path);
        }
        return r;
}

/* Read the archive once: every file goes to the content store (not yet synced: only the blobs
 * an image ends up using are), manifest.json, index.json and oci-layout to memory. */
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
                const char *raw = archive_entry_pathname(e) ?: "";
                bool escaped = false;
                /* tar's leading "/" means the archive's root, not the host's */
                _cleanup_free_ char *path =
                    join_clean("", raw[0] == '/' ? raw + strspn(raw, "/") : raw, &escaped);
                if (path == NULL) {
                        r = gerr_set(err, ENOMEM, "load");
                        break;
                }
                if (escaped) {
                        r = img_errf(err, EINVAL,
                                     "invalid archive: entry %s is outside the archive", raw);
                        break;
                }
                char **small;
                if (archive_entry_filetype(e) == AE_IFLNK || archive_entry_hardlink(e) != NULL)
                        r = stash_link(ss, e, path, err);
                else if (archive_entry_filetype(e) != AE_IFREG || skip_entry(path))
                        continue;
                else if ((small = small_file(ss, path)) != NULL)
                        r = read_small(a, path, small, err);
                else
                        r = stash_file(s, ss, a, path, buf, err);
                if (r < 0)
                        break;
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

/* One image to load: where its config and layers are in the content store (as stashed, maybe
 * compressed) and what to call them in messages; filled in by prepare_image. */
struct plan_layer {
        char hex[IMG_HEX_LEN + 1];
        char *what; /* "layer.tar path" or "sha256:..." */
};

struct plan {
        char cfg_hex[IMG_HEX_LEN + 1];
        char *cfg_what;
        struct plan_layer *layers;
        size_t n;
        char **names; /* normalized, NULL-terminated */
        /* prepare_image's results */
        char *cfg_text;
        struct img_layer_ref *refs;
};

struct plan_set {
        struct plan *v;
        size_t n;
};

static void plan_set_free(struct plan_set *ps)
{
        for (size_t i = 0; i < ps->n; i++) {
                struct plan *p = &ps->v[i];
                for (size_t j = 0; j < p->n; j++)
                        free(p->layers[j].what);
                free(p->layers);
                free(p->cfg_what);
                strv_free(p->names);
                free(p->cfg_text);
                free(p->refs);
        }
        free(ps->v);
}

static struct plan *plan_add(struct plan_set *ps, size_t n_layers)
{
        struct plan *nv = realloc(ps->v, (ps->n + 1) * sizeof(*nv));
        if (nv == NULL)
                return NULL;
        ps->v = nv;
        struct plan *p = &ps->v[ps->n];
        memset(p, 0, sizeof(*p));
        p->layers = calloc(n_layers + 1, sizeof(*p->layers));
        if (p->layers == NULL)
                return NULL;
        ps->n++;
        return p;
}

/* Verify the layers against the config and unpack them; nothing is registered yet. */
static int prepare_image(struct img_store *s, struct plan *p, struct gerr **err)
{
        _cleanup_free_ char *cfg_file = img_blob_path(s, p->cfg_hex);
        size_t cfg_len = 0;
        int r = fs_read_file(cfg_file, &p->cfg_text, &cfg_len, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *cfg = json_loadb(p->cfg_text, cfg_len, 0, NULL);
        if (!json_is_object(cfg))
                return img_errf(err, EINVAL, "invalid archive: config %s is not JSON", p->cfg_what);
        json_t *diff_ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
        if (json_is_array(diff_ids) && json_array_size(diff_ids) != p->n)
                return img_errf(err, EINVAL, "invalid archive: %zu layers but %zu diff_ids", p->n,
                                json_array_size(diff_ids));
        p->refs = calloc(p->n + 1, sizeof(*p->refs));
        if (p->refs == NULL)
                return gerr_set(err, ENOMEM, "load");
        for (size_t i = 0; i < p->n; i++) {
                struct img_layer_ref *l = &p->refs[i];
                r = img_blob_uncompressed(s, p->layers[i].hex, l->diff, err);
                if (r < 0)
                        return gerr_wrap(err, "invalid archive: layer %s", p->layers[i].what);
                const char *want = json_string_value(json_array_get(diff_ids, i));
                if (want != NULL && strcmp(img_hex(want), l->diff) != 0)
                        return img_errf(err, EINVAL,
                                        "invalid archive: layer %s has diff id sha256:%s, the "
                                        "config says %s",
                                        p->layers[i].what, l->diff, want);
                img_chain_id(i ? p->refs[i - 1].chain : NULL, l->diff, l->chain);
                r = img_layer_unpack(s, l->diff, l->chain, &l->size, err);
                if (r < 0)
                        return r;
                sync_blob(s, l->diff);
        }
        sync_blob(s, p->cfg_hex);
        return 0;
}

static int register_rows(struct img_store *s, const char *config_hex, const char *config_text,
                         const struct img_layer_ref *layers, size_t n, const char *const *names,
                         size_t n_names, struct gerr **err);

static size_t count_names(char **v)
{
        size_t n = 0;
        while (v != NULL && v[n] != NULL)
                n++;
        return n;
}

/* Every image of the archive is checked and unpacked before the first is registered, and all
 * are registered in one transaction: a bad archive loads nothing. */
static int load_plans(struct img_store *s, struct plan_set *ps, json_t *loaded, struct gerr **err)
{
        int r = 0;
        for (size_t i = 0; r >= 0 && i < ps->n; i++)
                r = prepare_image(s, &ps->v[i], err);
        if (r < 0 || (r = db_exec(s->db, "BEGIN IMMEDIATE", err)) < 0)
                return r;
        for (size_t i = 0; r >= 0 && i < ps->n; i++) {
                struct plan *p = &ps->v[i];
                r = register_rows(s, p->cfg_hex, p->cfg_text, p->refs, p->n,
                                  (const char *const *)p->names, count_names(p->names), err);
        }
        if (r >= 0)
                r = db_exec(s->db, "COMMIT", err);
        if (r < 0) {
                db_exec(s->db, "ROLLBACK", NULL);
                return r;
        }
        for (size_t i = 0; i < ps->n; i++) {
                struct plan *p = &ps->v[i];
                for (char **n = p->names; *n; n++) {
                        _cleanup_free_ char *fam = img_familiar(*n);
                        json_array_append_new(loaded, json_sprintf("Loaded image: %s", fam));
                }
                if (p->names[0] == NULL)
                        json_array_append_new(
                            loaded, json_sprintf("Loaded image ID: sha256:%s", p->cfg_hex));
        }
        return 0;
}

/* docker save's manifest.json: [{Config, RepoTags, Layers}], paths into the archive. */
static int plan_docker(const struct stash_set *ss, struct plan_set *ps, struct gerr **err)
{
        json_error_t jerr;
        _cleanup_json_ json_t *man = json_loads(ss->manifest, 0, &jerr);
        if (!json_is_array(man))
                return img_errf(err, EINVAL, "invalid archive: manifest.json: %s",
                                man ? "not an array" : jerr.text);
        size_t i;
        json_t *m;
        json_array_foreach(man, i, m)
        {
                const char *cfg_path = json_string_value(json_object_get(m, "Config"));
                json_t *jlayers = json_object_get(m, "Layers");
                const char *cfg_hex = cfg_path ? stash_find(ss, cfg_path, 0) : NULL;
                if (cfg_hex == NULL || !json_is_array(jlayers))
                        return img_errf(err, EINVAL, "invalid archive: config %s not found",
                                        cfg_path ? cfg_path : "(none)");
                size_t n = json_array_size(jlayers);
                struct plan *p = plan_add(ps, n);
                if (p == NULL || (p->cfg_what = strdup(cfg_path)) == NULL)
                        return gerr_set(err, ENOMEM, "load");
                snprintf(p->cfg_hex, sizeof(p->cfg_hex), "%s", cfg_hex);
                for (size_t j = 0; j < n; j++, p->n++) {
                        const char *lp = json_string_value(json_array_get(jlayers, j));
                        const char *hex = lp ? stash_find(ss, lp, 0) : NULL;
                        if (hex == NULL)
                                return img_errf(err, EINVAL, "invalid archive: layer %s not found",
                                                lp ? lp : "(none)");
                        snprintf(p->layers[j].hex, sizeof(p->layers[j].hex), "%s", hex);
                        if ((p->layers[j].what = strdup(lp)) == NULL)
                                return gerr_set(err, ENOMEM, "load");
                }
                json_t *tags = json_object_get(m, "RepoTags");
                size_t nt = json_array_size(tags);
                p->names = calloc(nt + 1, sizeof(char *));
                if (p->names == NULL)
                        return gerr_set(err, ENOMEM, "load");
                for (size_t j = 0; j < nt; j++) {
                        const char *t = json_string_value(json_array_get(tags, j));
                        int r = 0;
                        if (t == NULL || (r = img_normalize(t, &p->names[j], err)) < 0)
                                return r < 0
                                           ? r
                                           : img_errf(err, EINVAL, "invalid archive: bad RepoTags");
                }
        }
        return 0;
}

/* The stashed blob of a descriptor: present under blobs/sha256/<hex>, with that digest (a
 * symlink to another blob does not pass) and the descriptor's size. */
static int oci_blob(const struct stash_set *ss, struct img_store *s, const struct img_oci_desc *d,
                    const char *role, char hex_out[IMG_HEX_LEN + 1], struct gerr **err)
{
        char path[IMG_HEX_LEN + 16];
        snprintf(path, sizeof(path), "blobs/sha256/%s", img_hex(d->digest));
        const char *hex = stash_find(ss, path, 0);
        if (hex == NULL)
                return img_errf(err, ENOENT, "invalid archive: %s %s not found (no %s)", role,
                                d->digest, path);
        if (strcmp(hex, img_hex(d->digest)) != 0)
                return img_errf(err, EINVAL, "invalid archive: blob %s has digest sha256:%s",
                                d->digest, hex);
        _cleanup_free_ char *file = img_blob_path(s, hex);
        struct stat st;
        if (file == NULL || stat(file, &st) < 0)
                return gerr_set(err, file ? errno : ENOMEM, "stat blob %s", d->digest);
        if (st.st_size != d->size)
                return img_errf(err, EINVAL,
                                "invalid archive: %s %s is %lld bytes, its descriptor says %lld",
                                role, d->digest, (long long)st.st_size, (long long)d->size);
        snprintf(hex_out, IMG_HEX_LEN + 1, "%s", hex);
        return 0;
}

struct oci_get_ctx {
        const struct stash_set *ss;
        struct img_store *s;
};

static int oci_get(void *ud, const struct img_oci_desc *d, size_t max, char **buf, size_t *len,
                   struct gerr **err)
{
        struct oci_get_ctx *c = ud;
        char hex[IMG_HEX_LEN + 1];
        int r = oci_blob(c->ss, c->s, d, "manifest", hex, err);
        if (r < 0)
                return r;
        if ((uint64_t)d->size > max)
                return img_errf(err, EINVAL, "invalid archive: manifest %s is too large",
                                d->digest);
        _cleanup_free_ char *file = img_blob_path(c->s, hex);
        return fs_read_file(file, buf, len, err);
}

/* An OCI image layout (oci-layout, index.json, blobs/sha256/), as skopeo's oci-archive, buildx's
 * type=oci and containerd's export write it. */
static int plan_oci(const struct stash_set *ss, struct img_store *s, struct plan_set *ps,
                    struct gerr **err)
{
        if (ss->oci_layout != NULL) {
                _cleanup_json_ json_t *l = json_loads(ss->oci_layout, 0, NULL);
                const char *v = json_string_value(json_object_get(l, "imageLayoutVersion"));
                if (v == NULL || strncmp(v, "1.", 2) != 0)
                        return img_errf(err, EINVAL,
                                        "invalid archive: oci-layout: unsupported image layout "
                                        "version %s",
                                        v ? v : "(none)");
        }
        struct oci_get_ctx c = {ss, s};
        const struct img_oci_src src = {oci_get, &c};
        struct img_oci_image *imgs = NULL;
        size_t n = 0;
        int r = img_oci_read_index(ss->index, strlen(ss->index), &src, &imgs, &n, err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                struct img_oci_image *im = &imgs[i];
                struct plan *p = plan_add(ps, im->n_layers);
                if (p == NULL || (p->cfg_what = strdup(im->config.digest)) == NULL) {
                        r = gerr_set(err, ENOMEM, "load");
                        break;
                }
                p->names = TAKE_PTR(im->names);
                r = oci_blob(ss, s, &im->config, "config", p->cfg_hex, err);
                for (size_t j = 0; r >= 0 && j < im->n_layers; j++, p->n++) {
                        r = oci_blob(ss, s, &im->layers[j], "layer", p->layers[j].hex, err);
                        if (r >= 0 && (p->layers[j].what = strdup(im->layers[j].digest)) == NULL)
                                r = gerr_set(err, ENOMEM, "load");
                }
        }
        img_oci_images_free(imgs, n);
        return r;
}

/* A manifest.json entry without RepoTags (containerd's export writes them so) takes the names
 * index.json gives the same config, as docker with the containerd store reads them. Best effort:
 * an index.json this cannot read leaves the images untagged, as before. */
static void names_from_index(const struct stash_set *ss, struct img_store *s, struct plan_set *ps)
{
        struct oci_get_ctx c = {ss, s};
        const struct img_oci_src src = {oci_get, &c};
        struct img_oci_image *imgs = NULL;
        size_t n = 0;
        if (img_oci_read_index(ss->index, strlen(ss->index), &src, &imgs, &n, NULL) < 0)
                return;
        for (size_t i = 0; i < ps->n; i++) {
                struct plan *p = &ps->v[i];
                if (p->names[0] != NULL)
                        continue;
                size_t k = 0;
                char **names = calloc(n + 1, sizeof(char *));
                for (size_t j = 0; names != NULL && j < n; j++)
                        if (strcmp(img_hex(imgs[j].config.digest), p->cfg_hex) == 0 &&
                            imgs[j].names[0] != NULL)
                                names[k++] = TAKE_PTR(imgs[j].names[0]);
                if (k == 0) {
                        free(names);
                        continue;
                }
                strv_free(p->names);
                p->names = names;
        }
        img_oci_images_free(imgs, n);
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
        struct plan_set ps = {0};
        _cleanup_json_ json_t *out = json_array();
        pthread_mutex_lock(&s->lock);
        int r = stash_archive(s, fd, &ss, err);
        /* docker 25+ writes both: its manifest.json is what docker load reads */
        if (r >= 0 && ss.manifest != NULL) {
                r = plan_docker(&ss, &ps, err);
                if (r >= 0 && ss.index != NULL)
                        names_from_index(&ss, s, &ps);
        } else if (r >= 0 && ss.index != NULL)
                r = plan_oci(&ss, s, &ps, err);
        else if (r >= 0)
                r = img_errf(err, EINVAL,
                             "invalid archive: neither manifest.json (docker save) nor index.json "
                             "(OCI image layout) found");
        if (r >= 0)
                r = load_plans(s, &ps, out, err);
        drop_unreferenced(s, &ss);
        if (r < 0)
                img_gc(s, NULL); /* layers unpacked before the failure */
        pthread_mutex_unlock(&s->lock);
        plan_set_free(&ps);
        stash_set_free(&ss);
        if (r < 0)
                return r;
        *loaded = TAKE_PTR(out);
        return 0;
}

int img_import(struct img_store *s, int fd, const char *repo_tag, json_t *config,
               const char *comment, char **id_out, struct gerr **err)
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
                /* dockerd: the --change config, and the message (else "Imported from -") as
                 * the one history entry's comment. */
                cfg = json_pack("{s:s, s:s, s:o, s:s, s:{s:s, s:[s+]}, s:[{s:s, s:s}]}",
                                "architecture", "amd64", "os", "linux", "config",
                                json_is_object(config) ? json_deep_copy(config) : json_object(),
                                "created", tsbuf, "rootfs", "type", "layers", "diff_ids",
                                "sha256:", layer.diff, "history", "created", tsbuf, "comment",
                                comment && *comment ? comment : "Imported from -");
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
        int r = db_exec(s->db, "BEGIN IMMEDIATE", err);
        if (r < 0)
                return r;
        r = register_rows(s, config_hex, config_text, layers, n, names, n_names, err);
        if (r >= 0)
                return db_exec(s->db, "COMMIT", err);
        db_exec(s->db, "ROLLBACK", NULL);
        return r;
}

/* The rows of one image, inside the caller's transaction. */
static int register_rows(struct img_store *s, const char *config_hex, const char *config_text,
                         const struct img_layer_ref *layers, size_t n, const char *const *names,
                         size_t n_names, struct gerr **err)
{
        char id[IMG_HEX_LEN + 8];
        snprintf(id, sizeof(id), "sha256:%s", img_hex(config_hex));
        _cleanup_json_ json_t *cfg = json_loads(config_text, 0, NULL);
        int64_t total = 0;
        for (size_t i = 0; i < n; i++)
                total += layers[i].size;
        int r = 0;
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
        return r;
}
