/* docker push: each layer checked (HEAD), mounted from another repository or uploaded
 * (monolithic or chunked), several at once; then the config and the manifest PUT. */
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
#include "common/log.h"
#include "image/registry_internal.h"

#define MAX_UPLOADS 5
#define DEFAULT_CHUNK (64LL << 20)
#define PUSH_ATTEMPTS 4

struct push;

struct pblob {
        struct push *p;
        char diff[IMG_HEX_LEN + 1];
        char digest[7 + IMG_HEX_LEN + 1];
        char *media_type;
        int64_t size;
        char *mount_from; /* repository path on the same registry that has it */
        char id[13];
        bool is_config;
        const char *data; /* config: in memory */
        pthread_t th;
        bool th_started;
        int rc;
        struct gerr *err;
        struct timespec last;
        bool again;       /* the upload's PATCH or PUT failed in a way worth a new session */
        long retry_after; /* of that answer, -1 when none */
};

struct push {
        struct img_store *s;
        struct reg_client *c;
        struct reg_ref ref;
        const struct img_push_opts *o;
        char *scope;
        pthread_mutex_t plock;
        pthread_mutex_t slot_lock;
        pthread_cond_t slot_cond;
        int slots;
};

static void progress_cb(void *arg, json_t *msg)
{
        struct push *p = arg;
        pthread_mutex_lock(&p->plock);
        p->o->progress(p->o->arg, msg);
        pthread_mutex_unlock(&p->plock);
}

static void prog(struct push *p, const char *id, const char *status, int64_t cur, int64_t total)
{
        if (p->o->progress != NULL)
                reg_progress(progress_cb, p, id, status, cur, total);
}

static void on_sent(void *arg, int64_t sent, int64_t total)
{
        struct pblob *b = arg;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        long ms = (ts.tv_sec - b->last.tv_sec) * 1000 + (ts.tv_nsec - b->last.tv_nsec) / 1000000;
        if (ms < 100 && sent != total)
                return;
        b->last = ts;
        if (!b->is_config)
                prog(b->p, b->id, "Pushing", sent, total);
}

/* Location of an upload session made absolute; with extra query appended. */
static char *session_url(struct push *p, const char *loc, const char *extra)
{
        char *u = NULL;
        int n;
        const char *sep = strchr(loc, '?') ? "&" : "?";
        if (strncmp(loc, "http://", 7) == 0 || strncmp(loc, "https://", 8) == 0)
                n = asprintf(&u, "%s%s%s", loc, extra ? sep : "", extra ? extra : "");
        else
                n = asprintf(&u, "%s%s%s%s", p->c->base, loc, extra ? sep : "",
                             extra ? extra : "");
        return n < 0 ? NULL : u;
}

static int blob_exists(struct push *p, const char *digest, bool *yes, struct gerr **err)
{
        _cleanup_free_ char *url = NULL;
        if (asprintf(&url, "/v2/%s/blobs/%s", p->ref.path, digest) < 0)
                return gerr_set(err, ENOMEM, "push");
        struct reg_req q = {.method = "HEAD", .url = url, .scope = p->scope, .body_fd = -1};
        struct reg_resp r = {.retry_after = -1};
        int rc = reg_do(p->c, &q, &r, err);
        long st = r.status;
        reg_resp_clear(&r);
        if (rc < 0)
                return rc;
        *yes = st == 200;
        if (st != 200 && st != 404) {
                struct reg_resp er = {.status = st};
                return reg_error(&er, "blob check", err);
        }
        return 0;
}

/* b's layer compressed now from its unpacked directory (igzip), kept as a local blob. */
static int layer_compress(struct push *p, struct pblob *b, struct gerr **err)
{
        char hex[IMG_HEX_LEN + 1];
        int64_t size;
        int r = img_layer_compress(p->s, b->diff, hex, &size, err);
        if (r < 0)
                return r;
        snprintf(b->digest, sizeof(b->digest), "sha256:%s", hex);
        free(b->media_type);
        b->media_type = strdup(MT_DOCKER_LAYER_GZIP);
        if (b->media_type == NULL)
                return gerr_set(err, ENOMEM, "push");
        b->size = size;
        pthread_mutex_lock(&p->s->lock);
        r = reg_record_dist(p->s, b->diff, b->digest, b->media_type, size, "", err);
        pthread_mutex_unlock(&p->s->lock);
        return r;
}

/* Note whether a PATCH or PUT of b's session failed for a reason a new session may not have
 * (429, 5xx, a dropped connection). */
static void note_again(struct pblob *b, int rc, const struct reg_resp *r)
{
        b->again = rc < 0 ? rc == -EIO : reg_retryable(r->status);
        b->retry_after = rc < 0 ? -1 : r->retry_after;
}

/* Upload b: a session (POST, maybe a mount), then PATCH chunks and the final PUT. A failed
 * PATCH or PUT sets b->again: the caller starts a new session (the spec lets a client drop a
 * session and begin again; the registry keeps nothing of it). */
static int upload(struct push *p, struct pblob *b, struct gerr **err)
{
        b->again = false;
        _cleanup_free_ char *url = NULL, *scope = NULL;
        const char *sc = p->scope;
        if (b->mount_from != NULL) {
                if (asprintf(&url, "/v2/%s/blobs/uploads/?mount=%s&from=%s", p->ref.path,
                             b->digest, b->mount_from) < 0 ||
                    asprintf(&scope, "%s repository:%s:pull", p->scope, b->mount_from) < 0)
                        return gerr_set(err, ENOMEM, "push");
                sc = scope;
        } else if (asprintf(&url, "/v2/%s/blobs/uploads/", p->ref.path) < 0) {
                return gerr_set(err, ENOMEM, "push");
        }
        struct reg_req q = {.method = "POST", .url = url, .scope = sc, .body_fd = -1};
        struct reg_resp r = {.retry_after = -1};
        int rc = reg_do(p->c, &q, &r, err);
        if (rc < 0) {
                reg_resp_clear(&r);
                return rc;
        }
        if (r.status == 201 && b->mount_from != NULL) {
                reg_resp_clear(&r);
                if (!b->is_config) {
                        _cleanup_free_ char *m = NULL;
                        if (asprintf(&m, "Mounted from %s", b->mount_from) >= 0)
                                prog(p, b->id, m, -1, 0);
                }
                return 1;
        }
        if (r.status != 202 || r.location == NULL) {
                rc = reg_error(&r, "blob upload", err);
                reg_resp_clear(&r);
                return rc < 0 ? rc : -EIO;
        }
        _cleanup_free_ char *loc = TAKE_PTR(r.location);
        reg_resp_clear(&r);
        _cleanup_close_ int fd = -1;
        if (!b->is_config) {
                _cleanup_free_ char *path = img_blob_path(p->s, b->digest);
                fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
                /* A copy chosen for a mount that did not happen may not be here: a new one. */
                if (fd < 0 && errno == ENOENT) {
                        rc = layer_compress(p, b, err);
                        if (rc < 0)
                                return rc;
                        free(path);
                        path = img_blob_path(p->s, b->digest);
                        fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
                }
                if (fd < 0)
                        return gerr_set(err, errno, "open blob %s", b->digest);
        }
        int64_t chunk = DEFAULT_CHUNK;
        const char *env = getenv("GANTRY_PUSH_CHUNK");
        if (env != NULL && atoll(env) > 0)
                chunk = atoll(env);
        int64_t off = 0;
        clock_gettime(CLOCK_MONOTONIC, &b->last);
        /* Chunked (PATCH with Content-Range) when the blob is bigger than a chunk. */
        while (b->size > chunk && off < b->size) {
                int64_t n = b->size - off < chunk ? b->size - off : chunk;
                char range[96];
                snprintf(range, sizeof(range), "Content-Range: %lld-%lld", (long long)off,
                         (long long)(off + n - 1));
                const char *hdrs[] = {"Content-Type: application/octet-stream", range, NULL};
                _cleanup_free_ char *u = session_url(p, loc, NULL);
                if (u == NULL)
                        return gerr_set(err, ENOMEM, "push");
                struct reg_req pq = {.method = "PATCH", .url = u, .scope = p->scope,
                                     .headers = hdrs, .body_fd = fd, .body_off = off,
                                     .body_len = (size_t)n, .no_retry = true};
                rc = reg_do(p->c, &pq, &r, err);
                note_again(b, rc, &r);
                if (rc >= 0 && (r.status != 202 || r.location == NULL))
                        rc = reg_error(&r, "blob upload chunk", err);
                if (rc < 0) {
                        reg_resp_clear(&r);
                        return rc;
                }
                free(loc);
                loc = TAKE_PTR(r.location);
                reg_resp_clear(&r);
                off += n;
                if (!b->is_config)
                        prog(p, b->id, "Pushing", off, b->size);
        }
        char dq[7 + 7 + IMG_HEX_LEN + 1];
        snprintf(dq, sizeof(dq), "digest=%s", b->digest);
        _cleanup_free_ char *u = session_url(p, loc, dq);
        if (u == NULL)
                return gerr_set(err, ENOMEM, "push");
        const char *hdrs[] = {"Content-Type: application/octet-stream", NULL};
        struct reg_req pq = {.method = "PUT", .url = u, .scope = p->scope, .headers = hdrs,
                             .body_fd = -1, .no_retry = true};
        if (off < b->size) {
                if (b->is_config) {
                        pq.body = b->data;
                } else {
                        pq.body_fd = fd;
                        pq.body_off = off;
                }
                pq.body_len = (size_t)(b->size - off);
                pq.xfer = on_sent;
                pq.xfer_arg = b;
        }
        rc = reg_do(p->c, &pq, &r, err);
        note_again(b, rc, &r);
        if (rc >= 0 && r.status != 201)
                rc = reg_error(&r, "blob upload", err);
        reg_resp_clear(&r);
        return rc < 0 ? rc : 0;
}

static void slot_take(struct push *p)
{
        pthread_mutex_lock(&p->slot_lock);
        while (p->slots == 0)
                pthread_cond_wait(&p->slot_cond, &p->slot_lock);
        p->slots--;
        pthread_mutex_unlock(&p->slot_lock);
}

static void slot_give(struct push *p)
{
        pthread_mutex_lock(&p->slot_lock);
        p->slots++;
        pthread_cond_signal(&p->slot_cond);
        pthread_mutex_unlock(&p->slot_lock);
}

static void *push_blob_main(void *arg)
{
        struct pblob *b = arg;
        struct push *p = b->p;
        slot_take(p);
        bool yes = false;
        b->rc = blob_exists(p, b->digest, &yes, &b->err);
        if (b->rc >= 0 && yes) {
                if (!b->is_config)
                        prog(p, b->id, "Layer already exists", -1, 0);
        } else if (b->rc >= 0) {
                int r = upload(p, b, &b->err);
                if (r == -EACCES && b->mount_from != NULL) {
                        /* No pull right on the source repository: a plain upload. */
                        gerr_free(b->err);
                        b->err = NULL;
                        free(b->mount_from);
                        b->mount_from = NULL;
                        r = upload(p, b, &b->err);
                }
                /* A 429/5xx or a cut on PATCH/PUT: a new session, after a backoff. */
                for (int n = 0; r < 0 && b->again && n + 1 < PUSH_ATTEMPTS; n++) {
                        log_debug("push: %s: %s, starting a new upload", b->digest,
                                  b->err ? b->err->msg : "");
                        gerr_free(b->err);
                        b->err = NULL;
                        reg_backoff(n, b->retry_after);
                        r = upload(p, b, &b->err);
                }
                b->rc = r < 0 ? r : 0;
                if (r == 0 && !b->is_config)
                        prog(p, b->id, "Pushed", -1, 0);
        }
        slot_give(p);
        return NULL;
}

/* The compressed form of a layer this registry may have, or one made now (igzip). */
static int layer_blob(struct push *p, struct pblob *b, struct gerr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char diff[IMG_HEX_LEN + 8];
        snprintf(diff, sizeof(diff), "sha256:%s", b->diff);
        int r = db_prepare(p->s->db,
                           "SELECT digest, media_type, size, repo FROM layer_dist WHERE diff_id = ?",
                           &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, diff, -1, SQLITE_TRANSIENT);
        size_t dlen = strlen(p->ref.domain);
        int best = -1;
        while (sqlite3_step(st) == SQLITE_ROW) {
                const char *dg = (const char *)sqlite3_column_text(st, 0);
                const char *mt = (const char *)sqlite3_column_text(st, 1);
                int64_t size = sqlite3_column_int64(st, 2);
                const char *repo = (const char *)sqlite3_column_text(st, 3);
                _cleanup_free_ char *path = img_blob_path(p->s, dg);
                struct stat sb;
                bool local = path && stat(path, &sb) == 0 && sb.st_size == size;
                bool same_reg = repo && strncmp(repo, p->ref.domain, dlen) == 0 &&
                                repo[dlen] == '/';
                bool here = same_reg && strcmp(repo + dlen + 1, p->ref.path) == 0;
                /* The target repository's own copy first, then a mount from a sibling
                 * repository of the same registry, then an upload of the local blob. */
                int score = (here ? 4 : 0) + (same_reg ? 2 : 0) + (local ? 1 : 0);
                if ((!local && !same_reg) || score <= best)
                        continue;
                best = score;
                snprintf(b->digest, sizeof(b->digest), "%s", dg);
                free(b->media_type);
                b->media_type = strdup(mt && *mt ? mt : MT_DOCKER_LAYER_GZIP);
                b->size = size;
                free(b->mount_from);
                b->mount_from = same_reg && !here ? strdup(repo + dlen + 1) : NULL;
        }
        if (b->media_type != NULL)
                return 0;
        return layer_compress(p, b, err);
}

static int push_tag(struct push *p, const char *id, const char *tag, struct gerr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(p->s->db, "SELECT config FROM images WHERE id = ?", &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_ROW)
                return img_errf(err, ENOENT, "No such image: %s", id);
        _cleanup_free_ char *config = strdup((const char *)sqlite3_column_text(st, 0));
        if (config == NULL)
                return gerr_set(err, ENOMEM, "push");
        /* The config's bytes are the blob named by the id; the row may hold a re-dump. */
        _cleanup_free_ char *cpath = img_blob_path(p->s, id);
        _cleanup_free_ char *cblob = NULL;
        size_t clen = 0;
        if (cpath != NULL && fs_read_file(cpath, &cblob, &clen, NULL) == 0) {
                char hex[IMG_HEX_LEN + 1];
                img_sha256_hex(cblob, clen, hex);
                if (strcmp(hex, img_hex(id)) == 0) {
                        free(config);
                        config = TAKE_PTR(cblob);
                }
        }
        clen = strlen(config);
        _cleanup_stmt_ sqlite3_stmt *ls = NULL;
        r = db_prepare(p->s->db, "SELECT diff_id FROM image_layers WHERE image_id = ? ORDER BY idx",
                       &ls, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(ls, 1, id, -1, SQLITE_TRANSIENT);
        size_t n = 0;
        struct pblob *bl = NULL;
        while (sqlite3_step(ls) == SQLITE_ROW) {
                struct pblob *nb = realloc(bl, (n + 2) * sizeof(*bl));
                if (nb == NULL) {
                        free(bl);
                        return gerr_set(err, ENOMEM, "push");
                }
                bl = nb;
                memset(&bl[n], 0, sizeof(bl[n]));
                snprintf(bl[n].diff, sizeof(bl[n].diff), "%s",
                         img_hex((const char *)sqlite3_column_text(ls, 0)));
                n++;
        }
        if (bl == NULL && (bl = calloc(1, sizeof(*bl))) == NULL)
                return gerr_set(err, ENOMEM, "push");
        struct pblob *cfg = &bl[n];
        memset(cfg, 0, sizeof(*cfg));
        cfg->is_config = true;
        cfg->data = config;
        cfg->size = (int64_t)strlen(config);
        snprintf(cfg->digest, sizeof(cfg->digest), "sha256:%s", img_hex(id));
        cfg->media_type = strdup(MT_DOCKER_CONFIG);
        /* Docker lists the top layer first. */
        for (size_t i = n; i-- > 0;) {
                bl[i].p = p;
                snprintf(bl[i].id, sizeof(bl[i].id), "%.12s", bl[i].diff);
                prog(p, bl[i].id, "Preparing", -1, 0);
        }
        cfg->p = p;
        for (size_t i = n; r >= 0 && i-- > 0;) {
                r = layer_blob(p, &bl[i], err);
                /* Docker's short id is the diff id's; the bar follows the same id. */
                if (r >= 0)
                        prog(p, bl[i].id, "Waiting", -1, 0);
        }
        for (size_t i = 0; r >= 0 && i <= n; i++) {
                int rc = pthread_create(&bl[i].th, NULL, push_blob_main, &bl[i]);
                if (rc != 0)
                        r = gerr_set(err, rc, "thread");
                else
                        bl[i].th_started = true;
        }
        for (size_t i = 0; i <= n; i++) {
                if (bl[i].th_started)
                        pthread_join(bl[i].th, NULL);
                if (r >= 0 && bl[i].rc < 0) {
                        r = bl[i].rc;
                        if (err != NULL && *err == NULL)
                                *err = TAKE_PTR(bl[i].err);
                }
        }
        bool oci = false;
        for (size_t i = 0; i < n; i++)
                if (bl[i].media_type && strncmp(bl[i].media_type, "application/vnd.oci.", 20) == 0)
                        oci = true;
        _cleanup_free_ char *body = NULL;
        if (r >= 0) {
                json_t *layers = json_array();
                for (size_t i = 0; i < n; i++) {
                        const char *mt = bl[i].media_type;
                        if (oci && strcmp(mt, MT_DOCKER_LAYER_GZIP) == 0)
                                mt = MT_OCI_LAYER_GZIP;
                        else if (oci && strcmp(mt, MT_DOCKER_LAYER_TAR) == 0)
                                mt = MT_OCI_LAYER_TAR;
                        json_array_append_new(layers,
                                              json_pack("{s:s, s:I, s:s}", "mediaType", mt,
                                                        "size", (json_int_t)bl[i].size, "digest",
                                                        bl[i].digest));
                }
                json_t *m = json_pack("{s:i, s:s, s:{s:s, s:I, s:s}, s:o}", "schemaVersion", 2,
                                      "mediaType", oci ? MT_OCI_MANIFEST : MT_DOCKER_MANIFEST,
                                      "config", "mediaType", oci ? MT_OCI_CONFIG : MT_DOCKER_CONFIG,
                                      "size", (json_int_t)cfg->size, "digest", cfg->digest,
                                      "layers", layers);
                body = m ? json_dumps(m, JSON_INDENT(3) | JSON_PRESERVE_ORDER) : NULL;
                json_decref(m);
                if (body == NULL)
                        r = gerr_set(err, ENOMEM, "push");
        }
        char digest[7 + IMG_HEX_LEN + 1];
        if (r >= 0) {
                char hex[IMG_HEX_LEN + 1];
                img_sha256_hex(body, strlen(body), hex);
                snprintf(digest, sizeof(digest), "sha256:%s", hex);
                _cleanup_free_ char *url = NULL, *ct = NULL;
                if (asprintf(&url, "/v2/%s/manifests/%s", p->ref.path, tag) < 0 ||
                    asprintf(&ct, "Content-Type: %s", oci ? MT_OCI_MANIFEST : MT_DOCKER_MANIFEST) <
                        0)
                        r = gerr_set(err, ENOMEM, "push");
                const char *hdrs[] = {ct, NULL};
                struct reg_req q = {.method = "PUT", .url = url, .scope = p->scope,
                                    .headers = hdrs, .body = body, .body_len = strlen(body),
                                    .body_fd = -1};
                struct reg_resp resp = {.retry_after = -1};
                if (r >= 0)
                        r = reg_do(p->c, &q, &resp, err);
                if (r >= 0 && resp.status != 201)
                        r = reg_error(&resp, "manifest", err);
                reg_resp_clear(&resp);
        }
        if (r >= 0) {
                _cleanup_free_ char *dn = NULL;
                pthread_mutex_lock(&p->s->lock);
                if (asprintf(&dn, "%s@%s", p->ref.name, digest) >= 0)
                        r = reg_record_repo_digest(p->s, dn, id, err);
                for (size_t i = 0; r >= 0 && i < n; i++)
                        r = reg_record_dist(p->s, bl[i].diff, bl[i].digest, bl[i].media_type,
                                            bl[i].size, p->ref.name, err);
                pthread_mutex_unlock(&p->s->lock);
        }
        if (r >= 0) {
                size_t sz = strlen(body);
                reg_progress_status(p->o->progress ? progress_cb : NULL, p,
                                    "%s: digest: %s size: %zu", tag, digest, sz);
                if (p->o->progress != NULL) {
                        json_t *aux = json_pack("{s:{}, s:{s:s, s:s, s:I}}", "progressDetail",
                                                "aux", "Tag", tag, "Digest", digest, "Size",
                                                (json_int_t)sz);
                        if (aux != NULL)
                                progress_cb(p, aux);
                        json_decref(aux);
                }
        }
        for (size_t i = 0; i <= n; i++) {
                free(bl[i].media_type);
                free(bl[i].mount_from);
                gerr_free(bl[i].err);
        }
        free(bl);
        return r;
}

/* docker push --all-tags: each local tag of the repository, in name order. */
static int push_all_tags(struct push *p, struct gerr **err)
{
        _cleanup_free_ char *prefix = NULL;
        if (asprintf(&prefix, "%s:", p->ref.name) < 0)
                return gerr_set(err, ENOMEM, "push");
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        pthread_mutex_lock(&p->s->lock);
        int r = db_prepare(p->s->db,
                           "SELECT name, image_id FROM tags WHERE substr(name, 1, ?) = ? "
                           "ORDER BY name",
                           &st, err);
        size_t n = 0;
        char **tags = NULL, **ids = NULL;
        if (r >= 0) {
                sqlite3_bind_int(st, 1, (int)strlen(prefix));
                sqlite3_bind_text(st, 2, prefix, -1, SQLITE_TRANSIENT);
        }
        while (r >= 0 && sqlite3_step(st) == SQLITE_ROW) {
                const char *tag = (const char *)sqlite3_column_text(st, 0) + strlen(prefix);
                if (strchr(tag, '/') != NULL || strchr(tag, ':') != NULL)
                        continue; /* a longer repository name sharing the prefix */
                char **nt = realloc(tags, (n + 1) * sizeof(*nt));
                if (nt != NULL)
                        tags = nt;
                char **ni = realloc(ids, (n + 1) * sizeof(*ni));
                if (ni != NULL)
                        ids = ni;
                if (nt == NULL || ni == NULL) {
                        r = gerr_set(err, ENOMEM, "push");
                        break;
                }
                tags[n] = strdup(tag);
                ids[n] = strdup((const char *)sqlite3_column_text(st, 1));
                n++;
        }
        pthread_mutex_unlock(&p->s->lock);
        if (r >= 0 && n == 0) {
                _cleanup_free_ char *fam = img_familiar(p->ref.name);
                r = img_errf(err, ENOENT, "An image does not exist locally with the tag: %s",
                             fam ? fam : p->ref.name);
        }
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = tags[i] && ids[i] ? push_tag(p, ids[i], tags[i], err)
                                      : gerr_set(err, ENOMEM, "push");
        for (size_t i = 0; i < n; i++) {
                free(tags[i]);
                free(ids[i]);
        }
        free(tags);
        free(ids);
        return r;
}

int img_push(struct img_store *s, const struct img_push_opts *o, struct gerr **err)
{
        struct push p = {.s = s, .o = o, .slots = MAX_UPLOADS};
        pthread_mutex_init(&p.plock, NULL);
        pthread_mutex_init(&p.slot_lock, NULL);
        pthread_cond_init(&p.slot_cond, NULL);
        int r = reg_ref_parse(o->ref, &p.ref, err);
        _cleanup_free_ char *id = NULL;
        if (r >= 0 && p.ref.digest != NULL)
                r = img_errf(err, EINVAL, "cannot push a digest reference");
        if (r >= 0) {
                _cleanup_free_ char *name = NULL;
                if (asprintf(&name, "%s:%s", p.ref.name, p.ref.tag) < 0)
                        r = gerr_set(err, ENOMEM, "push");
                else if (!o->all_tags && img_resolve(s, name, &id, NULL) < 0) {
                        _cleanup_free_ char *fam = img_familiar(name);
                        r = img_errf(err, ENOENT, "An image does not exist locally with the tag: %s",
                                     fam ? fam : name);
                }
        }
        if (r >= 0 && asprintf(&p.scope, "repository:%s:pull,push", p.ref.path) < 0)
                r = gerr_set(err, ENOMEM, "push");
        if (r >= 0) {
                reg_progress_status(o->progress ? progress_cb : NULL, &p,
                                    "The push refers to repository [%s]", p.ref.name);
                r = reg_client_open(s, p.ref.domain, o->auth, &p.c, err);
        }
        pthread_mutex_lock(&s->lock);
        s->pulls++;
        pthread_mutex_unlock(&s->lock);
        if (r >= 0 && !o->all_tags)
                r = push_tag(&p, id, p.ref.tag, err);
        else if (r >= 0)
                r = push_all_tags(&p, err);
        pthread_mutex_lock(&s->lock);
        s->pulls--;
        pthread_mutex_unlock(&s->lock);
        reg_client_free(p.c);
        reg_ref_clear(&p.ref);
        free(p.scope);
        pthread_mutex_destroy(&p.plock);
        pthread_mutex_destroy(&p.slot_lock);
        pthread_cond_destroy(&p.slot_cond);
        return r;
}
