/* The image store handle and its content-addressed blob store (blobs/sha256/<hex>). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
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
#include "image/registry_internal.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS images (id TEXT PRIMARY KEY, config TEXT, created TEXT,"
    " size INTEGER);"
    "CREATE TABLE IF NOT EXISTS image_layers (image_id TEXT, idx INTEGER, chain_id TEXT,"
    " diff_id TEXT, size INTEGER);"
    "CREATE INDEX IF NOT EXISTS image_layers_image ON image_layers(image_id);"
    "CREATE INDEX IF NOT EXISTS image_layers_chain ON image_layers(chain_id);"
    "CREATE TABLE IF NOT EXISTS tags (name TEXT PRIMARY KEY, image_id TEXT);"
    /* Registries: name@digest of pulled and pushed images, and the compressed blob each
     * layer has in a repository (for pushes: existence checks, mounts, no re-compression). */
    "CREATE TABLE IF NOT EXISTS repo_digests (name TEXT PRIMARY KEY, image_id TEXT);"
    "CREATE INDEX IF NOT EXISTS repo_digests_image ON repo_digests(image_id);"
    "CREATE TABLE IF NOT EXISTS layer_dist (diff_id TEXT, digest TEXT, media_type TEXT,"
    " size INTEGER, repo TEXT, PRIMARY KEY (diff_id, digest, repo));"
    "CREATE INDEX IF NOT EXISTS layer_dist_digest ON layer_dist(digest);"
    /* Blobs ("sha256:<hex>") and layers ("sha256:<chainid>") of a pull not finished yet (killed,
     * failed): img_gc leaves them for the next pull until IMG_PULL_KEEP_S after "at". */
    "CREATE TABLE IF NOT EXISTS pull_keep (name TEXT PRIMARY KEY, at INTEGER);";

int img_errf(struct gerr **err, int errnum, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        gerr_setv(err, 0, fmt, ap);
        va_end(ap);
        if (err != NULL && *err != NULL && (*err)->errnum == 0)
                (*err)->errnum = errnum;
        return -errnum;
}

int img_store_open(sqlite3 *db, const char *root, struct img_store **out, struct gerr **err)
{
        _cleanup_free_ char *blobs = NULL, *layers = NULL;
        if (asprintf(&blobs, "%s/blobs/sha256", root) < 0 ||
            asprintf(&layers, "%s/layers", root) < 0)
                return gerr_set(err, ENOMEM, "image store");
        int r = fs_mkdir_p(blobs, 0700, err);
        if (r < 0)
                return r;
        r = fs_mkdir_p(layers, 0700, err);
        if (r < 0)
                return r;
        r = db_exec(db, schema, err);
        if (r < 0)
                return gerr_wrap(err, "image store");
        struct img_store *s = calloc(1, sizeof(*s));
        if (s == NULL)
                return gerr_set(err, ENOMEM, "image store");
        /* libarchive's symlink checks walk every component of the paths we give it: resolve the
         * root once so that a symlinked /var/lib does not make every entry look unsafe. */
        s->root = realpath(root, NULL);
        if (s->root == NULL) {
                free(s);
                return gerr_set(err, errno, "realpath %s", root);
        }
        s->db = db;
        pthread_mutex_init(&s->lock, NULL);
        *out = s;
        return 0;
}

void img_store_close(struct img_store *s)
{
        if (s == NULL)
                return;
        pthread_mutex_destroy(&s->lock);
        if (s->registry != NULL) {
                strv_free(s->registry->insecure);
                strv_free(s->registry->mirrors);
                free(s->registry->certs_dir);
                free(s->registry);
        }
        free(s->root);
        free(s);
}

const char *img_hex(const char *digest)
{
        return strncmp(digest, "sha256:", 7) == 0 ? digest + 7 : digest;
}

bool img_is_hex(const char *s, size_t min, size_t max)
{
        size_t n = strlen(s);
        if (n < min || n > max)
                return false;
        return strspn(s, "0123456789abcdef") == n;
}

char *img_blob_path(const struct img_store *s, const char *hex)
{
        char *p = NULL;
        if (asprintf(&p, "%s/blobs/sha256/%s", s->root, img_hex(hex)) < 0)
                return NULL;
        return p;
}

char *img_layer_path(const struct img_store *s, const char *hex)
{
        char *p = NULL;
        if (asprintf(&p, "%s/layers/%s", s->root, img_hex(hex)) < 0)
                return NULL;
        return p;
}

static void to_hex(const unsigned char *md, char out[IMG_HEX_LEN + 1])
{
        static const char digits[] = "0123456789abcdef";
        for (int i = 0; i < 32; i++) {
                out[2 * i] = digits[md[i] >> 4];
                out[2 * i + 1] = digits[md[i] & 15];
        }
        out[IMG_HEX_LEN] = '\0';
}

void img_sha256_hex(const void *data, size_t len, char hex_out[IMG_HEX_LEN + 1])
{
        struct sha256_ctx ctx;
        unsigned char md[SHA256_DIGEST_SIZE];
        sha256_init(&ctx);
        sha256_update(&ctx, len, data);
        sha256_digest(&ctx, sizeof(md), md);
        to_hex(md, hex_out);
}

void img_chain_id(const char *prev_hex, const char *diff_hex, char out[IMG_HEX_LEN + 1])
{
        if (prev_hex == NULL) {
                snprintf(out, IMG_HEX_LEN + 1, "%s", img_hex(diff_hex));
                return;
        }
        char buf[2 * (IMG_HEX_LEN + 7) + 2];
        int n =
            snprintf(buf, sizeof(buf), "sha256:%s sha256:%s", img_hex(prev_hex), img_hex(diff_hex));
        img_sha256_hex(buf, (size_t)n, out);
}

int img_blob_begin(struct img_store *s, struct img_blob_writer *w, struct gerr **err)
{
        w->fd = -1;
        w->size = 0;
        sha256_init(&w->md);
        snprintf(w->tmp, sizeof(w->tmp), "%s/blobs/sha256/.tmp-XXXXXX", s->root);
        w->fd = mkostemp(w->tmp, O_CLOEXEC);
        if (w->fd < 0)
                return gerr_set(err, errno, "create temp blob in %s/blobs/sha256", s->root);
        return 0;
}

int img_blob_write(struct img_blob_writer *w, const void *buf, size_t len, struct gerr **err)
{
        sha256_update(&w->md, len, buf);
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(w->fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return gerr_set(err, errno, "write %s", w->tmp);
                }
                p += n;
                len -= (size_t)n;
                w->size += (uint64_t)n;
        }
        return 0;
}

void img_blob_abort(struct img_blob_writer *w)
{
        if (w->fd >= 0) {
                close(w->fd);
                unlink(w->tmp);
                w->fd = -1;
        }
}

int img_blob_commit(struct img_store *s, struct img_blob_writer *w, const char *expect_hex,
                    bool durable, char hex_out[IMG_HEX_LEN + 1], struct gerr **err)
{
        unsigned char md[SHA256_DIGEST_SIZE];
        sha256_digest(&w->md, sizeof(md), md);
        char hex[IMG_HEX_LEN + 1];
        to_hex(md, hex);
        if (expect_hex != NULL && strcmp(img_hex(expect_hex), hex) != 0) {
                img_blob_abort(w);
                return img_errf(err, EINVAL, "invalid archive: blob sha256:%s has digest sha256:%s",
                                img_hex(expect_hex), hex);
        }
        if (durable && fsync(w->fd) < 0) {
                int r = gerr_set(err, errno, "fsync %s", w->tmp);
                img_blob_abort(w);
                return r;
        }
        fchmod(w->fd, 0644);
        _cleanup_free_ char *dst = img_blob_path(s, hex);
        /* Renaming over an existing blob replaces a copy a crash may have left un-synced. */
        if (dst == NULL || rename(w->tmp, dst) < 0) {
                int r = gerr_set(err, dst ? errno : ENOMEM, "rename blob to %s", dst ? dst : hex);
                img_blob_abort(w);
                return r;
        }
        close(w->fd);
        w->fd = -1;
        memcpy(hex_out, hex, IMG_HEX_LEN + 1);
        return 0;
}

int img_blob_put(struct img_store *s, const void *data, size_t len, char hex_out[IMG_HEX_LEN + 1],
                 struct gerr **err)
{
        struct img_blob_writer w;
        int r = img_blob_begin(s, &w, err);
        if (r < 0)
                return r;
        r = img_blob_write(&w, data, len, err);
        if (r < 0) {
                img_blob_abort(&w);
                return r;
        }
        return img_blob_commit(s, &w, NULL, true, hex_out, err);
}

int64_t img_parse_time(const char *s)
{
        if (s == NULL)
                return 0;
        struct tm tm = {0};
        const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (rest == NULL)
                return 0;
        int64_t t = (int64_t)timegm(&tm);
        while (*rest == '.' || (*rest >= '0' && *rest <= '9'))
                rest++;
        int hh = 0, mm = 0;
        if ((*rest == '+' || *rest == '-') && sscanf(rest + 1, "%d:%d", &hh, &mm) == 2)
                t -= (*rest == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
        return t;
}
