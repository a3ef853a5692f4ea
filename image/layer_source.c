/* A compressed layer blob read as its tar stream (ISA-L igzip for gzip, libzstd, plain), and the
 * one-pass unpack of a pulled layer: decompressed once, kept as its diff blob, extracted. */
#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "image/registry_internal.h"

#define IN_SIZE (256 * 1024)
#define OUT_SIZE (1024 * 1024)

enum { SRC_PLAIN, SRC_GZIP_ISAL, SRC_GZIP_ZLIB, SRC_ZSTD };

struct img_layer_source {
        int fd;
        img_layer_read_fn rd; /* instead of fd: a blob still being downloaded */
        void *rd_arg;
        int kind;
        unsigned char *in, *out;
        size_t in_len, in_pos;
        bool in_eof, done;
        struct inflate_state isal;
        z_stream z;
        bool z_init;
        ZSTD_DStream *zs;
};

/* GANTRY_INFLATE=zlib takes zlib instead of igzip (to measure one against the other). */
static bool use_zlib(void)
{
        const char *e = getenv("GANTRY_INFLATE");
        return e != NULL && strcmp(e, "zlib") == 0;
}

static int fill(struct img_layer_source *s, struct gerr **err)
{
        if (s->in_pos < s->in_len || s->in_eof)
                return 0;
        ssize_t n;
        if (s->rd != NULL) {
                n = s->rd(s->rd_arg, s->in, IN_SIZE, err);
                if (n < 0)
                        return (int)n;
        } else {
                do
                        n = read(s->fd, s->in, IN_SIZE);
                while (n < 0 && errno == EINTR);
                if (n < 0)
                        return gerr_set(err, errno, "read layer blob");
        }
        s->in_len = (size_t)n;
        s->in_pos = 0;
        if (n == 0)
                s->in_eof = true;
        return 0;
}

static int source_open(int fd, img_layer_read_fn rd, void *rd_arg, int comp,
                       struct img_layer_source **out, struct gerr **err)
{
        struct img_layer_source *s = calloc(1, sizeof(*s));
        if (s == NULL)
                return gerr_set(err, ENOMEM, "layer source");
        s->fd = fd;
        s->rd = rd;
        s->rd_arg = rd_arg;
        s->in = malloc(IN_SIZE);
        s->out = malloc(OUT_SIZE);
        if (s->in == NULL || s->out == NULL) {
                img_layer_source_free(s);
                return gerr_set(err, ENOMEM, "layer source");
        }
        int r = fill(s, err);
        if (r < 0) {
                img_layer_source_free(s);
                return r;
        }
        if (comp < 0) {
                static const unsigned char gz[] = {0x1f, 0x8b}, zst[] = {0x28, 0xb5, 0x2f, 0xfd};
                comp = s->in_len >= 2 && memcmp(s->in, gz, 2) == 0    ? 1
                       : s->in_len >= 4 && memcmp(s->in, zst, 4) == 0 ? 2
                                                                      : 0;
        }
        if (comp == 1 && !use_zlib()) {
                s->kind = SRC_GZIP_ISAL;
                isal_inflate_init(&s->isal);
                s->isal.crc_flag = ISAL_GZIP;
        } else if (comp == 1) {
                s->kind = SRC_GZIP_ZLIB;
                if (inflateInit2(&s->z, 15 + 16) != Z_OK) {
                        img_layer_source_free(s);
                        return gerr_set(err, ENOMEM, "zlib");
                }
                s->z_init = true;
        } else if (comp == 2) {
                s->kind = SRC_ZSTD;
                s->zs = ZSTD_createDStream();
                if (s->zs == NULL) {
                        img_layer_source_free(s);
                        return gerr_set(err, ENOMEM, "zstd");
                }
                ZSTD_initDStream(s->zs);
        } else {
                s->kind = SRC_PLAIN;
        }
        *out = s;
        return 0;
}

int img_layer_source_open(int fd, int comp, struct img_layer_source **out, struct gerr **err)
{
        return source_open(fd, NULL, NULL, comp, out, err);
}

int img_layer_source_open_fn(img_layer_read_fn rd, void *arg, int comp,
                             struct img_layer_source **out, struct gerr **err)
{
        return source_open(-1, rd, arg, comp, out, err);
}

void img_layer_source_free(struct img_layer_source *s)
{
        if (s == NULL)
                return;
        if (s->z_init)
                inflateEnd(&s->z);
        if (s->zs != NULL)
                ZSTD_freeDStream(s->zs);
        free(s->in);
        free(s->out);
        free(s);
}

static bool gzip_magic_next(struct img_layer_source *s)
{
        return s->in_len - s->in_pos >= 2 && s->in[s->in_pos] == 0x1f &&
               s->in[s->in_pos + 1] == 0x8b;
}

static ssize_t read_isal(struct img_layer_source *s, struct gerr **err)
{
        for (;;) {
                int r = fill(s, err);
                if (r < 0)
                        return r;
                if (s->isal.block_state == ISAL_BLOCK_FINISH) {
                        /* Concatenated gzip members form one stream (RFC 1952 2.2). */
                        if (s->in_pos < s->in_len && gzip_magic_next(s)) {
                                isal_inflate_reset(&s->isal);
                                s->isal.crc_flag = ISAL_GZIP;
                        } else if (s->in_pos == s->in_len && !s->in_eof) {
                                continue;
                        } else {
                                s->done = true;
                                return 0;
                        }
                }
                if (s->in_pos == s->in_len && s->in_eof)
                        return img_errf(err, EINVAL, "layer: unexpected end of gzip stream");
                s->isal.next_in = s->in + s->in_pos;
                s->isal.avail_in = (uint32_t)(s->in_len - s->in_pos);
                s->isal.next_out = s->out;
                s->isal.avail_out = OUT_SIZE;
                int rc = isal_inflate(&s->isal);
                s->in_pos = s->in_len - s->isal.avail_in;
                if (rc != ISAL_DECOMP_OK)
                        return img_errf(err, EINVAL, "layer: invalid gzip data (igzip %d)", rc);
                size_t got = OUT_SIZE - s->isal.avail_out;
                if (got > 0)
                        return (ssize_t)got;
        }
}

static ssize_t read_zlib(struct img_layer_source *s, struct gerr **err)
{
        for (;;) {
                int r = fill(s, err);
                if (r < 0)
                        return r;
                if (s->in_pos == s->in_len && s->in_eof)
                        return img_errf(err, EINVAL, "layer: unexpected end of gzip stream");
                s->z.next_in = s->in + s->in_pos;
                s->z.avail_in = (uInt)(s->in_len - s->in_pos);
                s->z.next_out = s->out;
                s->z.avail_out = OUT_SIZE;
                int rc = inflate(&s->z, Z_NO_FLUSH);
                s->in_pos = s->in_len - s->z.avail_in;
                size_t got = OUT_SIZE - s->z.avail_out;
                if (rc == Z_STREAM_END) {
                        fill(s, NULL);
                        if (s->in_pos < s->in_len && gzip_magic_next(s))
                                inflateReset(&s->z);
                        else
                                s->done = true;
                } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                        return img_errf(err, EINVAL, "layer: invalid gzip data (%s)",
                                        s->z.msg ? s->z.msg : "zlib");
                }
                if (got > 0 || s->done)
                        return (ssize_t)got;
        }
}

static ssize_t read_zstd(struct img_layer_source *s, struct gerr **err)
{
        for (;;) {
                int r = fill(s, err);
                if (r < 0)
                        return r;
                if (s->in_pos == s->in_len && s->in_eof) {
                        if (s->done)
                                return 0;
                        return img_errf(err, EINVAL, "layer: unexpected end of zstd stream");
                }
                ZSTD_inBuffer ib = {s->in, s->in_len, s->in_pos};
                ZSTD_outBuffer ob = {s->out, OUT_SIZE, 0};
                size_t rc = ZSTD_decompressStream(s->zs, &ob, &ib);
                s->in_pos = ib.pos;
                if (ZSTD_isError(rc))
                        return img_errf(err, EINVAL, "layer: invalid zstd data (%s)",
                                        ZSTD_getErrorName(rc));
                /* rc == 0: a frame ended; another may follow. */
                s->done = rc == 0;
                if (ob.pos > 0)
                        return (ssize_t)ob.pos;
        }
}

ssize_t img_layer_source_read(struct img_layer_source *s, const void **buf, struct gerr **err)
{
        *buf = s->out;
        if (s->done && s->kind != SRC_ZSTD)
                return 0;
        switch (s->kind) {
        case SRC_GZIP_ISAL:
                return read_isal(s, err);
        case SRC_GZIP_ZLIB:
                return read_zlib(s, err);
        case SRC_ZSTD:
                return read_zstd(s, err);
        default: {
                if (s->in_pos == s->in_len) {
                        s->in_pos = s->in_len = 0;
                        if (s->in_eof)
                                return 0;
                        int r = fill(s, err);
                        if (r < 0)
                                return r;
                }
                *buf = s->in + s->in_pos;
                size_t n = s->in_len - s->in_pos;
                s->in_pos = s->in_len;
                return (ssize_t)n;
        }
        }
}

/* libarchive pulls the tar from here; every byte also goes into the diff blob (hashed). */
struct tee {
        struct img_layer_source *src;
        struct img_blob_writer *w;
        struct gerr *err;
};

static la_ssize_t tee_read(struct archive *a, void *u, const void **buf)
{
        struct tee *t = u;
        ssize_t n = img_layer_source_read(t->src, buf, &t->err);
        if (n < 0) {
                archive_set_error(a, EINVAL, "%s", t->err && t->err->msg ? t->err->msg : "read");
                return -1;
        }
        if (n > 0 && img_blob_write(t->w, *buf, (size_t)n, &t->err) < 0) {
                archive_set_error(a, EIO, "%s", t->err->msg);
                return -1;
        }
        return n;
}

static void archive_freep(struct archive **a)
{
        if (*a != NULL)
                archive_read_free(*a);
}

/* Unpack the tar of src into a temp dir, keeping it as blob diff_hex; then verify (may be NULL)
 * says whether what was read is what was meant (told whether the unpack itself failed, whose
 * error counts only if verify finds nothing worse); only then is anything made visible. */
static int unpack_source(struct img_store *s, struct img_layer_source *src, const char *blob_hex,
                         const char *diff_hex, const char *chain_hex, img_layer_verify_fn verify,
                         void *varg, int64_t *size, struct gerr **err)
{
        struct img_blob_writer w;
        int r = img_blob_begin(s, &w, err);
        if (r < 0)
                return r;
        struct tee t = {.src = src, .w = &w};
        char tmp[IMG_LAYER_TMP_MAX];
        bool have_tmp = false;
        {
                __attribute__((cleanup(archive_freep))) struct archive *a = archive_read_new();
                if (a == NULL) {
                        r = gerr_set(err, ENOMEM, "archive");
                } else {
                        archive_read_support_format_tar(a);
                        archive_read_support_format_empty(a);
                        if (archive_read_open(a, &t, NULL, tee_read, NULL) != ARCHIVE_OK)
                                r = img_errf(err, EINVAL, "read layer: %s",
                                             archive_error_string(a));
                        else
                                r = img_layer_unpack_archive_tmp(s, a, size, tmp, err);
                        have_tmp = r >= 0;
                }
        }
        /* The tar's end blocks and padding past what libarchive read belong to the blob. */
        while (r >= 0) {
                const void *buf;
                ssize_t n = img_layer_source_read(src, &buf, err);
                if (n < 0)
                        r = (int)n;
                else if (n == 0)
                        break;
                else
                        r = img_blob_write(&w, buf, (size_t)n, err);
        }
        if (r < 0 && t.err != NULL && err != NULL && *err != NULL && t.err->msg != NULL) {
                /* The source's own words say more than libarchive's wrapper of them. */
                gerr_free(*err);
                *err = TAKE_PTR(t.err);
        }
        gerr_free(t.err);
        if (verify != NULL) {
                struct gerr *verr = NULL;
                int vr = verify(varg, r < 0, &verr);
                if (vr < 0) {
                        if (err != NULL) {
                                gerr_free(*err);
                                *err = verr;
                        } else {
                                gerr_free(verr);
                        }
                        r = vr;
                }
        }
        char got[IMG_HEX_LEN + 1];
        if (r >= 0) {
                /* Not synced here: the pull syncs the store once before it registers the image
                 * (img_pull), which also covers the unpacked files. */
                r = img_blob_commit(s, &w, diff_hex, false, got, err);
                if (r < 0) {
                        gerr_free(err ? *err : NULL);
                        if (err != NULL)
                                *err = NULL;
                        r = img_errf(err, EINVAL,
                                     "layer %s: its uncompressed content does not match "
                                     "diff id sha256:%s from the image config",
                                     blob_hex, img_hex(diff_hex));
                }
        } else {
                img_blob_abort(&w);
        }
        if (r >= 0)
                return img_layer_publish(s, tmp, chain_hex, err);
        if (have_tmp)
                fs_rm_rf(tmp);
        return r;
}

int img_layer_unpack_compressed(struct img_store *s, const char *blob_hex, int comp,
                                const char *diff_hex, const char *chain_hex, int64_t *size,
                                struct gerr **err)
{
        _cleanup_free_ char *path = img_blob_path(s, blob_hex);
        _cleanup_close_ int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        if (fd < 0)
                return gerr_set(err, errno, "open blob %s", blob_hex);
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        struct img_layer_source *src = NULL;
        int r = img_layer_source_open(fd, comp, &src, err);
        if (r < 0)
                return r;
        r = unpack_source(s, src, blob_hex, diff_hex, chain_hex, NULL, NULL, size, err);
        img_layer_source_free(src);
        return r;
}

int img_layer_unpack_stream(struct img_store *s, img_layer_read_fn rd, void *rd_arg, int comp,
                            img_layer_verify_fn verify, void *varg, const char *blob_hex,
                            const char *diff_hex, const char *chain_hex, int64_t *size,
                            struct gerr **err)
{
        struct img_layer_source *src = NULL;
        int r = img_layer_source_open_fn(rd, rd_arg, comp, &src, err);
        if (r < 0) {
                /* Nothing read: still let verify name a worse cause (a digest mismatch). */
                struct gerr *verr = NULL;
                if (verify(varg, true, &verr) < 0 && err != NULL) {
                        gerr_free(*err);
                        *err = verr;
                } else {
                        gerr_free(verr);
                }
                return r;
        }
        r = unpack_source(s, src, blob_hex, diff_hex, chain_hex, verify, varg, size, err);
        img_layer_source_free(src);
        return r;
}

int img_layer_compress(struct img_store *s, const char *diff_hex, char hex_out[IMG_HEX_LEN + 1],
                       int64_t *size, struct gerr **err)
{
        _cleanup_free_ char *path = img_blob_path(s, diff_hex);
        _cleanup_close_ int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        if (fd < 0)
                return gerr_set(err, errno, "open blob %s", diff_hex);
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        _cleanup_free_ unsigned char *in = malloc(IN_SIZE), *out = malloc(OUT_SIZE);
        _cleanup_free_ unsigned char *lvl = malloc(ISAL_DEF_LVL1_DEFAULT);
        if (in == NULL || out == NULL || lvl == NULL)
                return gerr_set(err, ENOMEM, "compress");
        /* igzip level 1: several times zlib's speed at a ratio close to gzip -6's on layers. */
        struct isal_zstream z;
        isal_deflate_init(&z);
        z.level = 1;
        z.level_buf = lvl;
        z.level_buf_size = ISAL_DEF_LVL1_DEFAULT;
        z.gzip_flag = IGZIP_GZIP;
        struct img_blob_writer w;
        int r = img_blob_begin(s, &w, err);
        if (r < 0)
                return r;
        bool eof = false;
        while (r >= 0 && z.internal_state.state != ZSTATE_END) {
                if (z.avail_in == 0 && !eof) {
                        ssize_t n;
                        do
                                n = read(fd, in, IN_SIZE);
                        while (n < 0 && errno == EINTR);
                        if (n < 0) {
                                r = gerr_set(err, errno, "read blob %s", diff_hex);
                                break;
                        }
                        eof = n == 0;
                        z.next_in = in;
                        z.avail_in = (uint32_t)n;
                        z.end_of_stream = eof;
                }
                z.next_out = out;
                z.avail_out = OUT_SIZE;
                if (isal_deflate(&z) != COMP_OK) {
                        r = img_errf(err, EIO, "compress blob %s", diff_hex);
                        break;
                }
                size_t got = OUT_SIZE - z.avail_out;
                if (got > 0)
                        r = img_blob_write(&w, out, got, err);
        }
        if (r < 0) {
                img_blob_abort(&w);
                return r;
        }
        *size = (int64_t)w.size;
        return img_blob_commit(s, &w, NULL, true, hex_out, err);
}
