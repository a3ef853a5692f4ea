/* Names and removal: docker tag, docker rmi, and the sweep of unused layers and blobs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/db.h"
#include "common/fsutil.h"
#include "image/image_internal.h"

int img_tag(struct img_store *s, const char *ref, const char *repo, const char *tag,
            struct gerr **err)
{
        _cleanup_free_ char *id = NULL, *full = NULL, *name = NULL;
        int r = img_resolve(s, ref, &id, err);
        if (r < 0)
                return r;
        if (repo == NULL || *repo == '\0')
                return img_errf(err, EINVAL, "invalid reference format");
        if (asprintf(&full, "%s%s%s", repo, tag && *tag ? ":" : "", tag && *tag ? tag : "") < 0)
                return gerr_set(err, ENOMEM, "tag");
        r = img_normalize(full, &name, err);
        if (r < 0)
                return r;
        if (strchr(name, '@') != NULL)
                return img_errf(err, EINVAL, "refusing to create a tag with a digest reference");
        pthread_mutex_lock(&s->lock);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = db_prepare(s->db, "INSERT OR REPLACE INTO tags (name, image_id) VALUES (?, ?)", &st,
                       err);
        if (r >= 0) {
                sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
                r = db_step_done(s->db, st, err);
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int count_of(struct img_store *s, const char *sql, const char *arg)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
                return -1;
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
        return sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
}

static void sweep_dir(struct img_store *s, const char *dir, const char *sql, json_t *deleted)
{
        DIR *d = opendir(dir);
        if (d == NULL)
                return;
        struct dirent *de;
        time_t now = time(NULL);
        while ((de = readdir(d)) != NULL) {
                _cleanup_free_ char *p = NULL;
                bool tmp = strncmp(de->d_name, ".tmp-", 5) == 0;
                bool partial = strncmp(de->d_name, ".partial-", 9) == 0;
                if (partial) {
                        /* A killed pull's blob: the next pull goes on from it (registry_pull.c). */
                        struct stat st;
                        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                            now - st.st_mtime < IMG_PULL_KEEP_S)
                                continue;
                        tmp = true;
                }
                if (!tmp && !img_is_hex(de->d_name, 64, 64))
                        continue;
                char digest[IMG_HEX_LEN + 8 + 256];
                snprintf(digest, sizeof(digest), "sha256:%s", de->d_name);
                if (!tmp &&
                    (count_of(s, sql, digest) != 0 ||
                     count_of(s, "SELECT COUNT(*) FROM pull_keep WHERE name = ?", digest) != 0))
                        continue;
                if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
                        continue;
                if (fs_rm_rf(p) < 0)
                        continue;
                if (!tmp && deleted != NULL)
                        json_array_append_new(deleted, json_pack("{s:s}", "Deleted", digest));
        }
        closedir(d);
}

void img_gc(struct img_store *s, json_t *deleted)
{
        _cleanup_free_ char *layers = NULL, *blobs = NULL;
        /* A pull or push writes blobs and layers without the lock: sweep after it. */
        if (s->pulls > 0)
                return;
        if (asprintf(&layers, "%s/layers", s->root) < 0 ||
            asprintf(&blobs, "%s/blobs/sha256", s->root) < 0)
                return;
        /* What a pull left unfinished is kept for a while (IMG_PULL_KEEP_S), then swept. */
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, "DELETE FROM pull_keep WHERE at < ?", -1, &st, NULL) ==
            SQLITE_OK) {
                sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL) - IMG_PULL_KEEP_S);
                sqlite3_step(st);
        }
        sweep_dir(s, layers, "SELECT COUNT(*) FROM image_layers WHERE chain_id = ?", deleted);
        sweep_dir(s, blobs,
                  "SELECT (SELECT COUNT(*) FROM images WHERE id = ?1) +"
                  " (SELECT COUNT(*) FROM image_layers WHERE diff_id = ?1) +"
                  " (SELECT COUNT(*) FROM layer_dist WHERE digest = ?1 AND diff_id IN"
                  " (SELECT diff_id FROM image_layers))",
                  NULL);
}

static int exec1(struct img_store *s, const char *sql, const char *arg, struct gerr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s->db, sql, &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
        return db_step_done(s->db, st, err);
}

static void add_untagged(json_t *deleted, const char *name)
{
        _cleanup_free_ char *fam = img_familiar(name);
        json_array_append_new(deleted, json_pack("{s:s}", "Untagged", fam ? fam : name));
}

/* Repository part of a normalized name ("docker.io/library/busybox:latest" -> its length). */
static size_t repo_len(const char *name)
{
        const char *at = strchr(name, '@');
        size_t n = at ? (size_t)(at - name) : strlen(name);
        const char *slash = memrchr(name, '/', n);
        const char *colon = memrchr(name, ':', n);
        if (colon != NULL && (slash == NULL || colon > slash))
                n = (size_t)(colon - name);
        return n;
}

int img_remove_locked(struct img_store *s, const char *ref, bool force, img_user_fn in_use,
                      void *arg, json_t *deleted, struct gerr **err)
{
        _cleanup_free_ char *id = NULL;
        bool by_name = false;
        int r = img_resolve_ex(s, ref, &id, &by_name, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **tags = NULL;
        r = img_tags_of(s, id, &tags, err);
        if (r < 0)
                return r;
        size_t ntags = 0;
        while (tags[ntags] != NULL)
                ntags++;
        bool running = false;
        const char *user = in_use != NULL ? in_use(id, arg, &running) : NULL;
        bool used = user != NULL;
        const char *hex = img_hex(id);
        if (by_name) {
                _cleanup_free_ char *name = NULL;
                r = img_normalize(ref, &name, err);
                if (r < 0)
                        return r;
                /* Docker: the last name of an image a container uses stays unless forced. */
                if (ntags == 1 && used && !force)
                        return img_errf(err, EBUSY,
                                        "conflict: unable to remove repository reference \"%s\" "
                                        "(must force) - container %.12s is using its referenced "
                                        "image %.12s",
                                        ref, user, hex);
                bool digest_ref = strchr(name, '@') != NULL;
                r = exec1(s,
                          digest_ref ? "DELETE FROM repo_digests WHERE name = ?"
                                     : "DELETE FROM tags WHERE name = ?",
                          name, err);
                if (r < 0)
                        return r;
                add_untagged(deleted, name);
                if ((digest_ref ? ntags > 0 : ntags > 1) || used)
                        return 0;
        } else {
                bool multi = false;
                for (size_t i = 1; i < ntags; i++)
                        if (repo_len(tags[i]) != repo_len(tags[0]) ||
                            strncmp(tags[i], tags[0], repo_len(tags[0])) != 0)
                                multi = true;
                if (multi && !force)
                        return img_errf(err, EBUSY,
                                        "conflict: unable to delete %.12s (must be forced) - image "
                                        "is referenced in multiple repositories",
                                        hex);
                if (used && (running || !force))
                        return img_errf(err, EBUSY,
                                        "conflict: unable to delete %.12s (%s) - image is being "
                                        "used by %s container %.12s",
                                        hex, running ? "cannot be forced" : "must be forced",
                                        running ? "running" : "stopped", user);
                for (size_t i = 0; i < ntags; i++) {
                        r = exec1(s, "DELETE FROM tags WHERE name = ?", tags[i], err);
                        if (r < 0)
                                return r;
                        add_untagged(deleted, tags[i]);
                }
                /* Forced past a container: the names go, the image stays for the container. */
                if (used)
                        return 0;
        }
        r = db_exec(s->db, "BEGIN IMMEDIATE", err);
        if (r < 0)
                return r;
        r = exec1(s, "DELETE FROM image_layers WHERE image_id = ?", id, err);
        if (r >= 0)
                r = exec1(s, "DELETE FROM images WHERE id = ?", id, err);
        if (r >= 0)
                r = exec1(s, "DELETE FROM tags WHERE image_id = ?", id, err);
        if (r >= 0)
                r = exec1(s, "DELETE FROM repo_digests WHERE image_id = ?", id, err);
        if (r < 0) {
                db_exec(s->db, "ROLLBACK", NULL);
                return r;
        }
        r = db_exec(s->db, "COMMIT", err);
        if (r < 0)
                return r;
        json_array_append_new(deleted, json_pack("{s:s}", "Deleted", id));
        img_gc(s, deleted);
        return 0;
}

int img_remove(struct img_store *s, const char *ref, bool force, img_user_fn in_use, void *arg,
               json_t **deleted, struct gerr **err)
{
        _cleanup_json_ json_t *out = json_array();
        pthread_mutex_lock(&s->lock);
        int r = img_remove_locked(s, ref, force, in_use, arg, out, err);
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
                return r;
        *deleted = TAKE_PTR(out);
        return 0;
}

int img_count(struct img_store *s, long *images, struct gerr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s->db, "SELECT COUNT(*) FROM images", &st, err);
        if (r < 0)
                return r;
        *images = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
        return 0;
}
