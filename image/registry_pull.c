/* docker pull: manifest (index resolved to a platform), config, layers downloaded together with
 * curl multi, each unpacked by its own thread while it downloads and published once verified. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/db.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "image/registry_internal.h"

#define MAX_DOWNLOADS 6
#define MAX_ATTEMPTS 4
#define ERR_BODY_MAX (64 * 1024)

static const char accept_hdr[] =
    "Accept: " MT_OCI_INDEX ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST ", " MT_DOCKER_MANIFEST
    ", " MT_DOCKER_SCHEMA1_SIGNED ", " MT_DOCKER_SCHEMA1;

enum layer_state { L_NEED, L_DOWNLOADING, L_HAVE_BLOB, L_UNPACKING, L_DONE, L_FAILED };

struct pull;

struct layer {
        struct pull *p;
        const struct reg_desc *d;
        char diff[IMG_HEX_LEN + 1], chain[IMG_HEX_LEN + 1];
        char id[13]; /* the short id docker shows: 12 hex of the blob digest */
        int comp;
        enum layer_state state;
        /* download */
        CURL *h;
        struct curl_slist *hdrs;
        struct img_blob_writer w;
        bool w_open;
        int64_t got, last_report;
        struct timespec last_ts;
        struct reg_resp resp;
        char *err_body;
        size_t err_len;
        int attempts;
        double retry_at;
        int64_t range_from; /* this transfer asked for the bytes from here (Range) */
        int64_t skip;       /* a 200 to a Range request: bytes of it we already have */
        bool skip_known;
        /* between the transfer and the unpack thread: the blob file is the buffer (page cache),
         * so a slow unpack never stalls the other transfers of the multi loop */
        pthread_mutex_t mu;
        pthread_cond_t cv;
        int64_t avail, rpos; /* bytes in the blob file; bytes the unpack thread has read */
        int dl;              /* 0 downloading, 1 complete, -1 failed */
        bool waiting;        /* the unpack thread sleeps for more bytes */
        bool from_file;      /* a complete blob was there: unpacked from it */
        double waited;       /* seconds the unpack thread waited for the download */
        bool bad_digest;
        bool told_done;    /* "Download complete" was shown by the unpack thread */
        double extract_ts; /* when the last "Extracting" bar went out */
        /* unpack */
        pthread_t th;
        bool th_started;
        int64_t size;
        int rc;
        struct gerr *err;
};

struct pull {
        struct img_store *s;
        struct reg_client *c;
        struct reg_ref ref;
        const struct img_pull_opts *o;
        char *scope;
        struct layer *l;
        size_t n;
        pthread_mutex_t plock; /* one progress message at a time */
        bool upstream;         /* the registry itself, not a mirror */
};

/* Mark (keep true) or unmark the blobs and layers of this pull in pull_keep: until the image is
 * registered, img_gc leaves them for the next pull (IMG_PULL_KEEP_S). Caller holds s->lock. */
static int mark_keep(struct pull *p, bool keep, struct gerr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(p->s->db,
                           keep ? "INSERT OR REPLACE INTO pull_keep (name, at) VALUES (?, ?)"
                                : "DELETE FROM pull_keep WHERE name = ? AND ? IS NOT NULL",
                           &st, err);
        for (size_t i = 0; r >= 0 && i < p->n; i++) {
                const char *hex[3] = {img_hex(p->l[i].d->digest), p->l[i].diff, p->l[i].chain};
                for (size_t k = 0; r >= 0 && k < 3; k++) {
                        char name[8 + IMG_HEX_LEN + 1];
                        snprintf(name, sizeof(name), "sha256:%s", hex[k]);
                        sqlite3_reset(st);
                        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
                        sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
                        r = db_step_done(p->s->db, st, err);
                }
        }
        return r;
}

static void progress_cb(void *arg, json_t *msg)
{
        struct pull *p = arg;
        pthread_mutex_lock(&p->plock);
        p->o->progress(p->o->arg, msg);
        pthread_mutex_unlock(&p->plock);
}

static void prog(struct pull *p, const char *id, const char *status, int64_t cur, int64_t total)
{
        if (p->o->progress != NULL)
                reg_progress(progress_cb, p, id, status, cur, total);
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* GET a manifest (by tag or digest) or a blob into memory, at most max bytes. */
static int get_small(struct pull *p, const char *kind, const char *ref, size_t max,
                     struct reg_resp *resp, struct gerr **err)
{
        _cleanup_free_ char *url = NULL;
        if (asprintf(&url, "/v2/%s/%s/%s", p->ref.path, kind, ref) < 0)
                return gerr_set(err, ENOMEM, "url");
        const char *hdrs[] = {accept_hdr, NULL};
        struct reg_req q = {
            .url = url, .scope = p->scope, .headers = hdrs, .body_fd = -1, .max = max + 1};
        return reg_do(p->c, &q, resp, err);
}

static int fetch_manifest(struct pull *p, const char *ref, struct reg_resp *resp,
                          char digest[7 + IMG_HEX_LEN + 1], struct gerr **err)
{
        int r = get_small(p, "manifests", ref, REG_MANIFEST_MAX, resp, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *what = NULL;
        if (asprintf(&what, "%s%s%s", p->ref.name, strncmp(ref, "sha256:", 7) ? ":" : "@", ref) < 0)
                return gerr_set(err, ENOMEM, "manifest");
        if (resp->too_big)
                return img_errf(err, EINVAL, "manifest for %s too large: over %u bytes", what,
                                REG_MANIFEST_MAX);
        if (resp->status == 404) {
                _cleanup_gerr_ struct gerr *e = NULL;
                reg_error(resp, "manifest unknown", &e);
                return img_errf(err, ENOENT, "manifest for %s not found: %s", what,
                                e && e->msg ? e->msg : "manifest unknown");
        }
        if (resp->status != 200)
                return reg_error(resp, what, err);
        char hex[IMG_HEX_LEN + 1];
        img_sha256_hex(resp->body ? resp->body : "", resp->len, hex);
        snprintf(digest, 7 + IMG_HEX_LEN + 1, "sha256:%s", hex);
        if (strncmp(ref, "sha256:", 7) == 0 && strcmp(ref, digest) != 0)
                return img_errf(err, EINVAL,
                                "manifest verification failed for digest %s: its content has "
                                "digest %s",
                                ref, digest);
        return 0;
}

/* ---- layer downloads (curl multi) ---- */

static size_t on_blob(char *data, size_t sz, size_t n, void *u)
{
        struct layer *l = u;
        size_t len = sz * n;
        long status = 0;
        curl_easy_getinfo(l->h, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200 && status != 206) {
                /* An error body (distribution's JSON), kept for the message. */
                if (l->err_len + len > ERR_BODY_MAX)
                        return len;
                char *nb = realloc(l->err_body, l->err_len + len + 1);
                if (nb == NULL)
                        return 0;
                memcpy(nb + l->err_len, data, len);
                l->err_body = nb;
                l->err_len += len;
                nb[l->err_len] = '\0';
                return len;
        }
        if (!l->skip_known) {
                /* A registry without Range support sends it all again: skip what we have. */
                l->skip = status == 200 ? l->range_from : 0;
                l->skip_known = true;
        }
        if (l->skip > 0) {
                size_t k = (size_t)l->skip < len ? (size_t)l->skip : len;
                l->skip -= (int64_t)k;
                data += k;
                len -= k;
                if (len == 0)
                        return sz * n;
        }
        if (l->got + (int64_t)len > l->d->size) {
                if (l->err == NULL)
                        img_errf(&l->err, EINVAL,
                                 "layer %s: the registry sent more than its %lld bytes",
                                 l->d->digest, (long long)l->d->size);
                return 0;
        }
        if (img_blob_write(&l->w, data, len, &l->err) < 0)
                return 0;
        l->got += (int64_t)len;
        pthread_mutex_lock(&l->mu);
        l->avail = l->got;
        /* Wake the unpack thread for a useful amount, not for every few KiB. */
        if (l->waiting && (l->avail - l->rpos >= 128 * 1024 || l->got == l->d->size))
                pthread_cond_signal(&l->cv);
        pthread_mutex_unlock(&l->mu);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        long ms =
            (ts.tv_sec - l->last_ts.tv_sec) * 1000 + (ts.tv_nsec - l->last_ts.tv_nsec) / 1000000;
        if (ms >= 100 || l->got == l->d->size) {
                l->last_ts = ts;
                prog(l->p, l->id, "Downloading", l->got, l->d->size);
        }
        return sz * n;
}

static void set_dl(struct layer *l, int state)
{
        pthread_mutex_lock(&l->mu);
        l->dl = state;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
}

/* The unpack thread's reader: the blob file up to what has arrived, waiting for more. */
static ssize_t follow_read(void *arg, void *buf, size_t cap, struct gerr **err)
{
        struct layer *l = arg;
        pthread_mutex_lock(&l->mu);
        if (l->dl == 0 && l->avail - l->rpos < 128 * 1024) {
                double t0 = now_s();
                while (l->dl == 0 && l->avail - l->rpos < 128 * 1024) {
                        l->waiting = true;
                        pthread_cond_wait(&l->cv, &l->mu);
                        l->waiting = false;
                }
                l->waited += now_s() - t0;
        }
        int64_t have = l->avail - l->rpos;
        int dl = l->dl;
        pthread_mutex_unlock(&l->mu);
        if (have == 0)
                return dl > 0 ? 0 : img_errf(err, EIO, "layer %s: download failed", l->d->digest);
        size_t n = have < (int64_t)cap ? (size_t)have : cap;
        ssize_t got;
        do
                got = pread(l->w.fd, buf, n, l->rpos);
        while (got < 0 && errno == EINTR);
        if (got <= 0)
                return gerr_set(err, got < 0 ? errno : EIO, "read %s", l->w.tmp);
        pthread_mutex_lock(&l->mu);
        l->rpos += got;
        int64_t rpos = l->rpos;
        pthread_mutex_unlock(&l->mu);
        /* Once the download is over, the bar follows the compressed bytes the unpack took. */
        if (dl > 0) {
                double now = now_s();
                if (!l->told_done) {
                        l->told_done = true;
                        prog(l->p, l->id, "Verifying Checksum", -1, 0);
                        prog(l->p, l->id, "Download complete", -1, 0);
                }
                if (now - l->extract_ts >= 0.1) {
                        l->extract_ts = now;
                        prog(l->p, l->id, "Extracting", rpos, l->d->size);
                }
        }
        return got;
}

/* The blob's temp file: .partial-<hex>, kept by a pull that was killed so that the next one goes
 * on from it (its prefix hashed again), locked against a concurrent pull of the same layer (which
 * then takes a temp file of its own). */
static int open_partial(struct pull *p, struct layer *l, struct gerr **err)
{
        struct img_blob_writer *w = &l->w;
        snprintf(w->tmp, sizeof(w->tmp), "%s/blobs/sha256/.partial-%s", p->s->root,
                 img_hex(l->d->digest));
        int fd = open(w->tmp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
                close(fd);
                fd = -1;
        }
        if (fd < 0)
                return img_blob_begin(p->s, w, err);
        w->fd = fd;
        w->size = 0;
        sha256_init(&w->md);
        struct stat st;
        int64_t have = fstat(fd, &st) == 0 ? st.st_size : 0;
        if (have > l->d->size || ftruncate(fd, have) < 0)
                have = 0;
        _cleanup_free_ unsigned char *buf = have > 0 ? malloc(1 << 20) : NULL;
        int64_t off = 0;
        while (buf != NULL && off < have) {
                ssize_t n = pread(fd, buf, 1 << 20, off);
                if (n <= 0)
                        break;
                sha256_update(&w->md, (size_t)n, buf);
                off += n;
        }
        if (off != have || ftruncate(fd, off) < 0 || lseek(fd, off, SEEK_SET) < 0) {
                sha256_init(&w->md);
                off = 0;
                if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
                        return gerr_set(err, errno, "truncate %s", w->tmp);
        }
        w->size = (uint64_t)off;
        l->got = l->avail = off;
        if (off > 0)
                log_debug("pull %s: layer %s: going on from %lld bytes kept", p->ref.name,
                          l->d->digest, (long long)off);
        return 0;
}

static int start_unpack(struct layer *l, struct gerr **err);

static int start_download(struct pull *p, CURLM *m, struct layer *l, struct gerr **err)
{
        int r = 0;
        if (!l->w_open) {
                r = open_partial(p, l, err);
                if (r < 0)
                        return r;
                l->w_open = true;
        }
        l->range_from = l->got;
        l->skip = 0;
        l->skip_known = false;
        free(l->err_body);
        l->err_body = NULL;
        l->err_len = 0;
        reg_resp_clear(&l->resp);
        l->h = curl_easy_init();
        if (l->h == NULL)
                return gerr_set(err, ENOMEM, "curl");
        _cleanup_free_ char *url = reg_url(p->c, "/v2/%s/blobs/%s", p->ref.path, l->d->digest);
        if (url == NULL)
                return gerr_set(err, ENOMEM, "url");
        l->hdrs = NULL;
        r = reg_easy_setup(p->c, l->h, url, p->scope, &l->hdrs, err);
        if (r < 0)
                return r;
        curl_easy_setopt(l->h, CURLOPT_HTTPHEADER, l->hdrs);
        curl_easy_setopt(l->h, CURLOPT_WRITEFUNCTION, on_blob);
        curl_easy_setopt(l->h, CURLOPT_WRITEDATA, l);
        curl_easy_setopt(l->h, CURLOPT_HEADERFUNCTION, reg_header_cb);
        curl_easy_setopt(l->h, CURLOPT_HEADERDATA, &l->resp);
        curl_easy_setopt(l->h, CURLOPT_PRIVATE, l);
        curl_easy_setopt(l->h, CURLOPT_BUFFERSIZE, 512L * 1024);
        char range[32];
        snprintf(range, sizeof(range), "%lld-", (long long)l->got);
        if (l->got > 0)
                curl_easy_setopt(l->h, CURLOPT_RANGE, range);
        clock_gettime(CLOCK_MONOTONIC, &l->last_ts);
        l->state = L_DOWNLOADING;
        l->attempts++;
        if (curl_multi_add_handle(m, l->h) != CURLM_OK)
                return gerr_set(err, EIO, "curl multi");
        return l->th_started ? 0 : start_unpack(l, err);
}

static void end_download(CURLM *m, struct layer *l)
{
        if (l->h != NULL) {
                curl_multi_remove_handle(m, l->h);
                curl_easy_cleanup(l->h);
                l->h = NULL;
        }
        curl_slist_free_all(l->hdrs);
        l->hdrs = NULL;
}

/* The unpack thread's check once the tar is read: the whole blob came and has its digest. */
static int verify_blob(void *arg, bool unpack_failed, struct gerr **err)
{
        struct layer *l = arg;
        pthread_mutex_lock(&l->mu);
        double t0 = now_s();
        while (l->dl == 0)
                pthread_cond_wait(&l->cv, &l->mu);
        l->waited += now_s() - t0;
        int dl = l->dl;
        pthread_mutex_unlock(&l->mu);
        if (dl < 0) /* the download's own error is the pull's */
                return img_errf(err, EIO, "layer %s: download failed", l->d->digest);
        if (!l->told_done)
                prog(l->p, l->id, "Verifying Checksum", -1, 0);
        struct sha256_ctx md = l->w.md;
        unsigned char bin[SHA256_DIGEST_SIZE];
        sha256_digest(&md, sizeof(bin), bin);
        char hex[IMG_HEX_LEN + 1];
        for (size_t i = 0; i < sizeof(bin); i++)
                snprintf(hex + 2 * i, 3, "%02x", bin[i]);
        if (strcmp(hex, img_hex(l->d->digest)) != 0) {
                l->bad_digest = true;
                return img_errf(err, EINVAL, "filesystem layer verification failed for digest %s",
                                l->d->digest);
        }
        if (unpack_failed)
                return 0;
        _cleanup_gerr_ struct gerr *e = NULL;
        int r = img_blob_commit(l->p->s, &l->w, l->d->digest, true, hex, &e);
        if (r < 0)
                return img_errf(err, -r, "layer %s: %s", l->d->digest,
                                e && e->msg ? e->msg : "commit");
        if (!l->told_done) {
                prog(l->p, l->id, "Download complete", -1, 0);
                prog(l->p, l->id, "Extracting", l->rpos, l->d->size);
        }
        return 0;
}

static void *unpack_main(void *arg)
{
        struct layer *l = arg;
        double t0 = now_s();
        if (l->from_file) {
                /* With a bar, as dockerd: a terminal shows it, plain output leaves it out. */
                prog(l->p, l->id, "Extracting", 0, l->d->size);
                l->rc = img_layer_unpack_compressed(l->p->s, l->d->digest, l->comp, l->diff,
                                                    l->chain, &l->size, &l->err);
        } else {
                l->rc = img_layer_unpack_stream(l->p->s, follow_read, l, l->comp, verify_blob, l,
                                                l->d->digest, l->diff, l->chain, &l->size, &l->err);
        }
        double dt = now_s() - t0;
        if (l->rc < 0) {
                if (!l->bad_digest)
                        gerr_wrap(&l->err, "failed to register layer");
        } else {
                /* Its own work: the time it spent waiting for bytes is left out. */
                log_debug("pull %s: layer %s unpacked: %lld bytes of files in %.3f s "
                          "(and %.3f s waiting for the download)",
                          l->p->ref.name, l->d->digest, (long long)l->size, dt - l->waited,
                          l->waited);
                prog(l->p, l->id, "Extracting", l->d->size, l->d->size);
                prog(l->p, l->id, "Pull complete", -1, 0);
        }
        return NULL;
}

static int start_unpack(struct layer *l, struct gerr **err)
{
        int rc = pthread_create(&l->th, NULL, unpack_main, l);
        if (rc != 0)
                return gerr_set(err, rc, "thread");
        l->th_started = true;
        return 0;
}

/* A finished transfer: commit (digest checked), or retry, or fail. */
static int download_done(struct pull *p, CURLM *m, struct layer *l, CURLcode rc, struct gerr **err)
{
        long status = 0;
        curl_easy_getinfo(l->h, CURLINFO_RESPONSE_CODE, &status);
        if (l->err != NULL) {
                end_download(m, l);
                set_dl(l, -1);
                *err = TAKE_PTR(l->err);
                return -EINVAL;
        }
        /* Every byte came and the connection failed after: the digest check settles it (a
         * Range request for nothing more would get a 416). */
        if (rc != CURLE_OK && l->got == l->d->size && (status == 200 || status == 206))
                rc = CURLE_OK;
        bool retry = false;
        if (rc != CURLE_OK)
                retry = true;
        else if (status == 401 && l->attempts < 2) {
                reg_token_drop(p->c, p->scope);
                retry = true;
        } else if (status == 429 || status >= 500)
                retry = true;
        if (retry && l->attempts < MAX_ATTEMPTS) {
                log_debug("pull %s: %s: %s, retrying", p->ref.name, l->d->digest,
                          rc != CURLE_OK ? curl_easy_strerror(rc) : "server error");
                end_download(m, l);
                long ms = 250L << (l->attempts - 1);
                if (l->resp.retry_after > 0)
                        ms = l->resp.retry_after > 5 ? 5000 : l->resp.retry_after * 1000;
                l->retry_at = now_s() + (double)ms / 1000.0;
                l->state = L_NEED;
                prog(p, l->id, "Retrying", -1, 0);
                return 0;
        }
        if (rc != CURLE_OK) {
                int r = img_errf(err, EIO, "layer %s: %s%s", l->d->digest, curl_easy_strerror(rc),
                                 rc == CURLE_PARTIAL_FILE ? " (unexpected EOF)" : "");
                end_download(m, l);
                set_dl(l, -1);
                return r;
        }
        if (status != 200 && status != 206) {
                struct reg_resp er = {.status = status, .body = l->err_body, .len = l->err_len};
                _cleanup_free_ char *what = NULL;
                int r = asprintf(&what, "layer %s", l->d->digest) < 0
                            ? gerr_set(err, ENOMEM, "layer")
                            : reg_error(&er, what, err);
                end_download(m, l);
                set_dl(l, -1);
                return r;
        }
        if (l->got != l->d->size) {
                int r = img_errf(err, EINVAL, "layer %s: got %lld bytes of %lld (unexpected EOF)",
                                 l->d->digest, (long long)l->got, (long long)l->d->size);
                end_download(m, l);
                set_dl(l, -1);
                return r;
        }
        /* The digest check, fsync and rename are the unpack thread's: an fsync here would stall
         * every other transfer of the multi loop. */
        end_download(m, l);
        l->state = L_UNPACKING;
        pthread_mutex_lock(&l->mu);
        l->avail = l->got;
        pthread_mutex_unlock(&l->mu);
        set_dl(l, 1);
        return 0;
}

static int download_all(struct pull *p, struct gerr **err)
{
        CURLM *m = curl_multi_init();
        if (m == NULL)
                return gerr_set(err, ENOMEM, "curl multi");
        int r = 0;
        for (;;) {
                int active = 0, pending = 0;
                double now = now_s();
                for (size_t i = 0; i < p->n; i++) {
                        if (p->l[i].state == L_DOWNLOADING)
                                active++;
                        else if (p->l[i].state == L_NEED)
                                pending++;
                }
                for (size_t i = 0; r >= 0 && i < p->n && active < MAX_DOWNLOADS; i++) {
                        struct layer *l = &p->l[i];
                        if (l->state != L_NEED || l->retry_at > now)
                                continue;
                        r = start_download(p, m, l, err);
                        active++;
                        pending--;
                }
                if (r < 0 || (active == 0 && pending == 0))
                        break;
                int running = 0;
                curl_multi_perform(m, &running);
                CURLMsg *msg;
                int left;
                while (r >= 0 && (msg = curl_multi_info_read(m, &left)) != NULL) {
                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        struct layer *l = NULL;
                        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&l);
                        r = download_done(p, m, l, msg->data.result, err);
                }
                if (r < 0)
                        break;
                curl_multi_poll(m, NULL, 0, active ? 200 : 50, NULL);
        }
        for (size_t i = 0; i < p->n; i++) {
                if (p->l[i].h != NULL)
                        end_download(m, &p->l[i]);
                if (p->l[i].th_started && p->l[i].dl == 0)
                        set_dl(&p->l[i], -1); /* its thread stops and removes its temp dir */
        }
        curl_multi_cleanup(m);
        return r;
}

/* ---- the pull ---- */

static int parse_config(const char *body, size_t len, size_t n_layers, json_t **out,
                        struct gerr **err)
{
        json_error_t jerr;
        json_t *cfg = json_loadb(body, len, 0, &jerr);
        if (!json_is_object(cfg)) {
                json_decref(cfg);
                return img_errf(err, EINVAL, "invalid image config: %s", jerr.text);
        }
        json_t *ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
        if (!json_is_array(ids) || json_array_size(ids) != n_layers) {
                json_decref(cfg);
                return img_errf(err, EINVAL,
                                "invalid image config: %zu diff ids for %zu layers in the "
                                "manifest",
                                json_array_size(ids), n_layers);
        }
        for (size_t i = 0; i < n_layers; i++) {
                const char *d = json_string_value(json_array_get(ids, i));
                if (d == NULL || strncmp(d, "sha256:", 7) != 0 || !img_is_hex(d + 7, 64, 64)) {
                        json_decref(cfg);
                        return img_errf(err, EINVAL, "invalid image config: diff id %zu", i);
                }
        }
        *out = cfg;
        return 0;
}

static bool tag_points_at(struct img_store *s, const char *name, const char *id)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, "SELECT image_id FROM tags WHERE name = ?", -1, &st, NULL) !=
            SQLITE_OK)
                return false;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        return sqlite3_step(st) == SQLITE_ROW &&
               strcmp((const char *)sqlite3_column_text(st, 0), id) == 0;
}

static bool image_exists(struct img_store *s, const char *id)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM images WHERE id = ?", -1, &st, NULL) !=
            SQLITE_OK)
                return false;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        return sqlite3_step(st) == SQLITE_ROW;
}

static bool blob_complete(struct img_store *s, const char *digest, int64_t size)
{
        _cleanup_free_ char *path = img_blob_path(s, digest);
        struct stat st;
        return path != NULL && stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == size;
}

static int pull_layers(struct pull *p, const struct reg_manifest *man, json_t *cfg,
                       struct gerr **err)
{
        json_t *ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
        p->l = calloc(man->n ? man->n : 1, sizeof(*p->l));
        if (p->l == NULL)
                return gerr_set(err, ENOMEM, "pull");
        p->n = man->n;
        for (size_t i = 0; i < p->n; i++) {
                struct layer *l = &p->l[i];
                l->p = p;
                l->d = &man->descs[i];
                l->comp = reg_layer_compression(l->d->media_type);
                snprintf(l->diff, sizeof(l->diff), "%s",
                         img_hex(json_string_value(json_array_get(ids, i))));
                img_chain_id(i ? p->l[i - 1].chain : NULL, l->diff, l->chain);
                snprintf(l->id, sizeof(l->id), "%.12s", img_hex(l->d->digest));
                l->resp.retry_after = -1;
                l->w.fd = -1;
                pthread_mutex_init(&l->mu, NULL);
                pthread_cond_init(&l->cv, NULL);
        }
        pthread_mutex_lock(&p->s->lock);
        int r = mark_keep(p, true, err);
        pthread_mutex_unlock(&p->s->lock);
        for (size_t i = 0; r >= 0 && i < p->n; i++) {
                struct layer *l = &p->l[i];
                _cleanup_free_ char *dir = img_layer_path(p->s, l->chain);
                _cleanup_free_ char *diffp = img_blob_path(p->s, l->diff);
                if (dir && diffp && fs_exists(dir) && fs_exists(diffp)) {
                        l->state = L_DONE;
                        prog(p, l->id, "Already exists", -1, 0);
                } else if (blob_complete(p->s, l->d->digest, l->d->size)) {
                        /* Downloaded by a pull that stopped before its end. */
                        l->state = L_HAVE_BLOB;
                        prog(p, l->id, "Download complete", -1, 0);
                } else {
                        l->state = L_NEED;
                        prog(p, l->id, "Pulling fs layer", -1, 0);
                }
        }
        for (size_t i = 0; r >= 0 && i < p->n; i++) {
                if (p->l[i].state == L_HAVE_BLOB) {
                        p->l[i].from_file = true;
                        p->l[i].state = L_UNPACKING;
                        r = start_unpack(&p->l[i], err);
                }
        }
        if (r >= 0)
                r = download_all(p, err);
        for (size_t i = 0; i < p->n; i++) {
                struct layer *l = &p->l[i];
                if (l->th_started) {
                        if (l->dl == 0)
                                set_dl(l, -1);
                        pthread_join(l->th, NULL);
                        l->th_started = false;
                        if (l->rc < 0 && r >= 0) {
                                r = l->rc;
                                if (err != NULL && *err == NULL)
                                        *err = TAKE_PTR(l->err);
                        }
                        l->state = l->rc < 0 ? L_FAILED : L_DONE;
                }
                /* Not committed (a failure): its temp file goes. Only a killed pull leaves a
                 * .partial- file behind for the next one. */
                img_blob_abort(&l->w);
                if (l->state == L_DONE && l->size == 0) {
                        _cleanup_gerr_ struct gerr *e2 = NULL;
                        img_layer_unpack(p->s, l->diff, l->chain, &l->size, &e2);
                }
        }
        return r;
}

static void pull_free(struct pull *p)
{
        for (size_t i = 0; i < p->n; i++) {
                free(p->l[i].err_body);
                pthread_mutex_destroy(&p->l[i].mu);
                pthread_cond_destroy(&p->l[i].cv);
                reg_resp_clear(&p->l[i].resp);
                gerr_free(p->l[i].err);
        }
        free(p->l);
        reg_client_free(p->c);
        reg_ref_clear(&p->ref);
        free(p->scope);
        pthread_mutex_destroy(&p->plock);
}

static int do_pull(struct pull *p, char **id_out, struct gerr **err)
{
        const struct img_pull_opts *o = p->o;
        int r = reg_ref_parse(o->ref, &p->ref, err);
        if (r < 0)
                return r;
        const char *ref = p->ref.digest ? p->ref.digest : p->ref.tag;
        struct reg_platform want;
        if (o->platform != NULL && *o->platform) {
                r = reg_platform_parse(o->platform, &want, err);
                if (r < 0)
                        return r;
        } else {
                reg_platform_host(&want);
        }
        r = p->upstream ? reg_client_open_upstream(p->s, p->ref.domain, o->auth, &p->c, err)
                        : reg_client_open(p->s, p->ref.domain, o->auth, &p->c, err);
        if (r < 0)
                return r;
        if (asprintf(&p->scope, "repository:%s:pull", p->ref.path) < 0)
                return gerr_set(err, ENOMEM, "pull");
        struct reg_resp top = {.retry_after = -1};
        char top_digest[7 + IMG_HEX_LEN + 1];
        r = fetch_manifest(p, ref, &top, top_digest, err);
        struct reg_manifest man = {0};
        if (r >= 0)
                r = reg_manifest_parse(top.ctype, top.body, top.len, p->ref.name, &man, err);
        /* As dockerd: errors before this line are the request's status, after it the stream's. */
        if (r >= 0 && o->progress != NULL) {
                json_t *m =
                    json_pack("{s:s+, s:s}", "status", "Pulling from ", p->ref.path, "id", ref);
                if (m != NULL)
                        progress_cb(p, m);
                json_decref(m);
        }
        if (r >= 0 && man.kind == REG_INDEX) {
                int i = reg_index_choose(&man, &want);
                if (i < 0) {
                        r = img_errf(err, ENOENT,
                                     "no matching manifest for %s/%s%s%s in the manifest list "
                                     "entries",
                                     want.os, want.arch, want.variant[0] ? "/" : "", want.variant);
                } else {
                        char dg[7 + IMG_HEX_LEN + 1];
                        snprintf(dg, sizeof(dg), "%s", man.descs[i].digest);
                        struct reg_resp sub = {.retry_after = -1};
                        char sub_digest[7 + IMG_HEX_LEN + 1];
                        r = fetch_manifest(p, dg, &sub, sub_digest, err);
                        reg_manifest_clear(&man);
                        if (r >= 0)
                                r = reg_manifest_parse(sub.ctype, sub.body, sub.len, p->ref.name,
                                                       &man, err);
                        if (r >= 0 && man.kind != REG_MANIFEST)
                                r = img_errf(err, EINVAL,
                                             "invalid manifest: an index inside an index");
                        reg_resp_clear(&sub);
                }
        }
        reg_resp_clear(&top);
        if (r < 0) {
                reg_manifest_clear(&man);
                return r;
        }
        struct reg_resp cr = {.retry_after = -1};
        r = get_small(p, "blobs", man.config.digest, REG_CONFIG_MAX, &cr, err);
        if (r >= 0 && cr.too_big)
                r = img_errf(err, EINVAL, "image config %s too large", man.config.digest);
        else if (r >= 0 && cr.status != 200) {
                _cleanup_free_ char *what = NULL;
                r = asprintf(&what, "config %s", man.config.digest) < 0
                        ? gerr_set(err, ENOMEM, "pull")
                        : reg_error(&cr, what, err);
        }
        char cfg_hex[IMG_HEX_LEN + 1];
        if (r >= 0) {
                img_sha256_hex(cr.body ? cr.body : "", cr.len, cfg_hex);
                if (strcmp(cfg_hex, img_hex(man.config.digest)) != 0)
                        r = img_errf(err, EINVAL, "image config verification failed for digest %s",
                                     man.config.digest);
        }
        _cleanup_json_ json_t *cfg = NULL;
        if (r >= 0)
                r = parse_config(cr.body, cr.len, man.n, &cfg, err);
        char id[IMG_HEX_LEN + 8];
        snprintf(id, sizeof(id), "sha256:%s", cfg_hex);
        _cleanup_free_ char *tagname = NULL, *digname = NULL;
        if (r >= 0 && (asprintf(&digname, "%s@%s", p->ref.name, top_digest) < 0 ||
                       (p->ref.tag && asprintf(&tagname, "%s:%s", p->ref.name, p->ref.tag) < 0)))
                r = gerr_set(err, ENOMEM, "pull");
        bool up_to_date =
            r >= 0 && image_exists(p->s, id) && (tagname ? tag_points_at(p->s, tagname, id) : true);
        if (r >= 0)
                r = pull_layers(p, &man, cfg, err);
        if (r >= 0) {
                struct img_layer_ref *refs = calloc(p->n ? p->n : 1, sizeof(*refs));
                if (refs == NULL)
                        r = gerr_set(err, ENOMEM, "pull");
                for (size_t i = 0; refs && i < p->n; i++) {
                        memcpy(refs[i].diff, p->l[i].diff, sizeof(refs[i].diff));
                        memcpy(refs[i].chain, p->l[i].chain, sizeof(refs[i].chain));
                        refs[i].size = p->l[i].size;
                }
                /* One syncfs for the layers' files and diff blobs (written unsynced, in
                 * parallel) before any row points at them. */
                _cleanup_close_ int rootfd = open(p->s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (rootfd >= 0 && syncfs(rootfd) < 0)
                        r = gerr_set(err, errno, "syncfs %s", p->s->root);
                _cleanup_free_ char *text = refs ? strndup(cr.body, cr.len) : NULL;
                if (refs != NULL && text == NULL)
                        r = gerr_set(err, ENOMEM, "pull");
                pthread_mutex_lock(&p->s->lock);
                char hex[IMG_HEX_LEN + 1];
                if (r >= 0)
                        r = img_blob_put(p->s, cr.body, cr.len, hex, err);
                const char *names[] = {tagname};
                if (r >= 0)
                        r = img_register(p->s, cfg_hex, text, refs, p->n, names, tagname ? 1 : 0,
                                         err);
                if (r >= 0)
                        r = reg_record_repo_digest(p->s, digname, id, err);
                for (size_t i = 0; r >= 0 && i < p->n; i++)
                        r = reg_record_dist(p->s, p->l[i].diff, p->l[i].d->digest,
                                            p->l[i].d->media_type, p->l[i].d->size, p->ref.name,
                                            err);
                /* Registered: the image's rows hold its blobs and layers from now on. */
                if (r >= 0)
                        r = mark_keep(p, false, err);
                pthread_mutex_unlock(&p->s->lock);
                free(refs);
        }
        reg_resp_clear(&cr);
        reg_manifest_clear(&man);
        if (r < 0)
                return r;
        reg_progress_status(o->progress ? progress_cb : NULL, p, "Digest: %s", top_digest);
        _cleanup_free_ char *shown = img_familiar(tagname ? tagname : digname);
        reg_progress_status(o->progress ? progress_cb : NULL, p, "Status: %s for %s",
                            up_to_date ? "Image is up to date" : "Downloaded newer image",
                            shown ? shown : "");
        *id_out = strdup(id);
        return *id_out ? 0 : gerr_set(err, ENOMEM, "pull");
}

int img_pull(struct img_store *s, const struct img_pull_opts *o, char **id_out, struct gerr **err)
{
        struct pull p = {.s = s, .o = o};
        pthread_mutex_init(&p.plock, NULL);
        pthread_mutex_lock(&s->lock);
        s->pulls++;
        pthread_mutex_unlock(&s->lock);
        int r = do_pull(&p, id_out, err);
        if (r < 0 && p.c != NULL && p.c->is_mirror) {
                /* As dockerd: what a mirror lacks or fails to give comes from the registry
                 * itself; layers the mirror did give are complete blobs the retry reuses. */
                log_info("pull %s: mirror %s: %s; pulling from the registry", o->ref, p.c->host,
                         err && *err && (*err)->msg ? (*err)->msg : "failed");
                if (err != NULL) {
                        gerr_free(*err);
                        *err = NULL;
                }
                pull_free(&p);
                p = (struct pull){.s = s, .o = o, .upstream = true};
                pthread_mutex_init(&p.plock, NULL);
                r = do_pull(&p, id_out, err);
        }
        pthread_mutex_lock(&s->lock);
        s->pulls--;
        pthread_mutex_unlock(&s->lock);
        pull_free(&p);
        /* What completed stays (blobs, unpacked layers, marked in pull_keep) for the next pull;
         * img_gc sweeps it if no image used it within IMG_PULL_KEEP_S. A failed pull's temp
         * files went with their writers; a killed one's .partial- blob is gone on from. */
        return r;
}
