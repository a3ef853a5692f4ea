/* What the registry code keeps in the store: references split, repo digests, layer digests,
 * and Docker's progress messages. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/db.h"
#include "image/registry_internal.h"

void reg_ref_clear(struct reg_ref *r)
{
        free(r->name);
        free(r->domain);
        free(r->path);
        free(r->tag);
        free(r->digest);
        memset(r, 0, sizeof(*r));
}

int reg_ref_parse(const char *ref, struct reg_ref *out, struct gerr **err)
{
        memset(out, 0, sizeof(*out));
        _cleanup_free_ char *norm = NULL;
        int r = img_normalize(ref, &norm, err);
        if (r < 0)
                return r;
        char *at = strchr(norm, '@');
        if (at != NULL) {
                out->digest = strdup(at + 1);
                *at = '\0';
        }
        char *slash = strchr(norm, '/');
        char *colon = strrchr(norm, ':');
        if (colon != NULL && colon > slash) {
                /* A digest with a tag ("x:t@sha256:..."): docker pulls by the digest. */
                if (out->digest == NULL)
                        out->tag = strdup(colon + 1);
                *colon = '\0';
        }
        out->name = strdup(norm);
        out->domain = strndup(norm, (size_t)(slash - norm));
        out->path = strdup(slash + 1);
        if (out->name == NULL || out->domain == NULL || out->path == NULL ||
            (at == NULL && out->tag == NULL)) {
                reg_ref_clear(out);
                return gerr_set(err, ENOMEM, "reference");
        }
        return 0;
}

int reg_record_dist(struct img_store *s, const char *diff_hex, const char *digest,
                    const char *media_type, int64_t size, const char *name, struct gerr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s->db,
                           "INSERT OR REPLACE INTO layer_dist (diff_id, digest, media_type, size,"
                           " repo) VALUES (?, ?, ?, ?, ?)",
                           &st, err);
        if (r < 0)
                return r;
        char diff[IMG_HEX_LEN + 8];
        snprintf(diff, sizeof(diff), "sha256:%s", img_hex(diff_hex));
        sqlite3_bind_text(st, 1, diff, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, digest, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, media_type, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, size);
        sqlite3_bind_text(st, 5, name, -1, SQLITE_TRANSIENT);
        return db_step_done(s->db, st, err);
}

int reg_record_repo_digest(struct img_store *s, const char *name_at_digest, const char *id,
                           struct gerr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s->db, "INSERT OR REPLACE INTO repo_digests (name, image_id) VALUES (?, ?)",
                           &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, name_at_digest, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
        return db_step_done(s->db, st, err);
}

int img_repo_digests_of(struct img_store *s, const char *id, char ***out, struct gerr **err)
{
        return img_names_query(s, "SELECT name FROM repo_digests WHERE image_id = ? ORDER BY name",
                               id, out, err);
}

/* go-units HumanSize: 3 significant digits, decimal units ("1.23MB"). */
static void human(double b, char *buf, size_t n)
{
        static const char *u[] = {"B", "kB", "MB", "GB", "TB"};
        int i = 0;
        while (b >= 1000 && i < 4) {
                b /= 1000;
                i++;
        }
        snprintf(buf, n, "%.4g%s", b, u[i]);
        /* %.4g may print 4 digits; docker's "%.4g" is the same format. */
}

/* Docker's JSONProgress.String() for a 50-column bar (what the daemon sends as "progress"). */
static void bar(int64_t cur, int64_t total, char *out, size_t n)
{
        char c[32], t[32];
        human((double)cur, c, sizeof(c));
        if (total <= 0) {
                snprintf(out, n, "%8s", c);
                return;
        }
        human((double)total, t, sizeof(t));
        int width = 50;
        int done = (int)(cur * width / (total ? total : 1));
        if (done > width)
                done = width;
        char b[64];
        int k = 0;
        for (int i = 0; i < done; i++)
                b[k++] = '=';
        if (done < width)
                b[k++] = '>';
        for (int i = done + 1; i < width; i++)
                b[k++] = ' ';
        b[k] = '\0';
        snprintf(out, n, "[%s] %8s/%s", b, c, t);
}

void reg_progress(img_progress_fn fn, void *arg, const char *id, const char *status,
                  int64_t current, int64_t total)
{
        if (fn == NULL)
                return;
        json_t *m;
        if (current >= 0) {
                char p[160];
                bar(current, total, p, sizeof(p));
                m = json_pack("{s:s, s:{s:I, s:I}, s:s, s:s}", "status", status, "progressDetail",
                              "current", (json_int_t)current, "total", (json_int_t)total,
                              "progress", p, "id", id);
        } else {
                m = json_pack("{s:s, s:{}, s:s}", "status", status, "progressDetail", "id", id);
        }
        if (m != NULL)
                fn(arg, m);
        json_decref(m);
}

void reg_progress_status(img_progress_fn fn, void *arg, const char *fmt, ...)
{
        if (fn == NULL)
                return;
        va_list ap;
        va_start(ap, fmt);
        char *s = NULL;
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        json_t *m = json_pack("{s:s}", "status", s);
        free(s);
        if (m != NULL)
                fn(arg, m);
        json_decref(m);
}
