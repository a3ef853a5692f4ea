/* Layer tars: decompression into the content store and unpacking into layers/<chainid>/. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "image/image_internal.h"

#define BLOCK (256 * 1024)

static void archive_freep(struct archive **a)
{
        if (*a != NULL)
                archive_read_free(*a);
}
static void archive_wfreep(struct archive **a)
{
        if (*a != NULL)
                archive_write_free(*a);
}
#define _cleanup_archive_ _cleanup_(archive_freep)
#define _cleanup_warchive_ _cleanup_(archive_wfreep)

int img_blob_from_stream(struct img_store *s, int fd, char hex_out[IMG_HEX_LEN + 1],
                         struct gerr **err)
{
        _cleanup_archive_ struct archive *a = archive_read_new();
        if (a == NULL)
                return gerr_set(err, ENOMEM, "archive");
        /* The raw format takes the stream as one entry: libarchive only strips compression. */
        archive_read_support_filter_all(a);
        archive_read_support_format_raw(a);
        archive_read_support_format_empty(a);
        if (archive_read_open_fd(a, fd, BLOCK) != ARCHIVE_OK)
                return img_errf(err, EINVAL, "read layer: %s", archive_error_string(a));
        struct img_blob_writer w;
        int r = img_blob_begin(s, &w, err);
        if (r < 0)
                return r;
        struct archive_entry *e;
        int rc = archive_read_next_header(a, &e);
        if (rc == ARCHIVE_OK) {
                _cleanup_free_ char *buf = malloc(BLOCK);
                if (buf == NULL) {
                        img_blob_abort(&w);
                        return gerr_set(err, ENOMEM, "read layer");
                }
                ssize_t n;
                while ((n = archive_read_data(a, buf, BLOCK)) > 0) {
                        r = img_blob_write(&w, buf, (size_t)n, err);
                        if (r < 0) {
                                img_blob_abort(&w);
                                return r;
                        }
                }
                if (n < 0) {
                        img_blob_abort(&w);
                        return img_errf(err, EINVAL, "read layer: %s", archive_error_string(a));
                }
        } else if (rc != ARCHIVE_EOF) {
                img_blob_abort(&w);
                return img_errf(err, EINVAL, "read layer: %s", archive_error_string(a));
        }
        return img_blob_commit(s, &w, NULL, true, hex_out, err);
}

static bool is_compressed(const unsigned char *m, ssize_t n)
{
        static const unsigned char gz[] = {0x1f, 0x8b}, zst[] = {0x28, 0xb5, 0x2f, 0xfd},
                                   xz[] = {0xfd, '7', 'z', 'X', 'Z'}, bz[] = {'B', 'Z', 'h'};
        return (n >= 2 && memcmp(m, gz, 2) == 0) || (n >= 4 && memcmp(m, zst, 4) == 0) ||
               (n >= 5 && memcmp(m, xz, 5) == 0) || (n >= 3 && memcmp(m, bz, 3) == 0);
}

int img_blob_uncompressed(struct img_store *s, const char *blob_hex, char diff_hex[IMG_HEX_LEN + 1],
                          struct gerr **err)
{
        _cleanup_free_ char *path = img_blob_path(s, blob_hex);
        _cleanup_close_ int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        if (fd < 0)
                return gerr_set(err, errno, "open blob %s", blob_hex);
        unsigned char magic[8];
        ssize_t n = pread(fd, magic, sizeof(magic), 0);
        if (!is_compressed(magic, n)) {
                snprintf(diff_hex, IMG_HEX_LEN + 1, "%s", img_hex(blob_hex));
                return 0;
        }
        return img_blob_from_stream(s, fd, diff_hex, err);
}

/* An archive path made relative and checked: leading "/" and "./" dropped, ".." refused. */
static int clean_path(const char *in, char **out)
{
        _cleanup_free_ char *res = malloc(strlen(in) + 1);
        if (res == NULL)
                return -ENOMEM;
        size_t len = 0;
        const char *p = in;
        while (*p != '\0') {
                while (*p == '/')
                        p++;
                const char *end = strchrnul(p, '/');
                size_t n = (size_t)(end - p);
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return -EINVAL;
                if (n > 0 && !(n == 1 && p[0] == '.')) {
                        if (len > 0)
                                res[len++] = '/';
                        memcpy(res + len, p, n);
                        len += n;
                }
                p = end;
        }
        res[len] = '\0';
        *out = TAKE_PTR(res);
        return 0;
}

/* overlayfs whiteouts: ".wh.x" becomes a 0:0 char device x, ".wh..wh..opq" an opaque xattr on
 * its directory. The parent is reached with RESOLVE_IN_ROOT so a symlink cannot lead out. */
static int whiteout(int rootfd, const char *rel, struct gerr **err)
{
        _cleanup_free_ char *parent = strdup(rel);
        if (parent == NULL)
                return gerr_set(err, ENOMEM, "whiteout");
        char *slash = strrchr(parent, '/');
        const char *base = slash ? slash + 1 : parent;
        base = rel + (base - parent);
        if (slash != NULL)
                *slash = '\0';
        else
                strcpy(parent, ".");
        _cleanup_close_ int dfd = fs_mkdir_in_root(rootfd, parent, 0755);
        if (dfd < 0)
                return gerr_set(err, -dfd, "whiteout %s", rel);
        char proc[64];
        if (strcmp(base, ".wh..wh..opq") == 0) {
                if (setxattr(fs_fd_path(dfd, proc, sizeof(proc)), "trusted.overlay.opaque", "y", 1,
                             0) < 0)
                        return gerr_set(err, errno, "opaque %s", rel);
                return 0;
        }
        const char *name = base + 4;
        if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return img_errf(err, EINVAL, "invalid whiteout %s", rel);
        if (mknodat(dfd, name, S_IFCHR | 0, makedev(0, 0)) < 0) {
                if (errno != EEXIST)
                        return gerr_set(err, errno, "whiteout %s", rel);
                /* The layer also carries the path: the whiteout wins, as in Docker. */
                if (unlinkat(dfd, name, 0) < 0 && fs_rm_rf(fs_fd_path(dfd, proc, sizeof(proc))) < 0)
                        return gerr_set(err, errno, "whiteout %s", rel);
                if (mknodat(dfd, name, S_IFCHR | 0, makedev(0, 0)) < 0)
                        return gerr_set(err, errno, "whiteout %s", rel);
        }
        return 0;
}

static int copy_data(struct archive *a, struct archive *w, struct gerr **err)
{
        const void *buf;
        size_t size;
        la_int64_t off;
        for (;;) {
                int rc = archive_read_data_block(a, &buf, &size, &off);
                if (rc == ARCHIVE_EOF)
                        return 0;
                if (rc < ARCHIVE_WARN)
                        return img_errf(err, EINVAL, "read layer: %s", archive_error_string(a));
                if (archive_write_data_block(w, buf, size, off) < ARCHIVE_WARN)
                        return img_errf(err, EIO, "write layer: %s", archive_error_string(w));
        }
}

static int unpack_into(struct archive *a, const char *dir, int64_t *size, struct gerr **err)
{
        _cleanup_close_ int rootfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return gerr_set(err, errno, "open %s", dir);
        _cleanup_warchive_ struct archive *w = archive_write_disk_new();
        if (w == NULL)
                return gerr_set(err, ENOMEM, "archive");
        /* Absolute paths are ours (dir + cleaned entry path), so NOABSOLUTEPATHS cannot be on;
         * clean_path already refuses ".." and SECURE_SYMLINKS refuses writes through symlinks
         * (no EXTRACT_UNLINK: with it libarchive would silently replace the symlink instead). */
        archive_write_disk_set_options(w, ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                              ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                              ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
                                              ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_TIME);
        int64_t total = 0;
        struct archive_entry *e;
        int rc;
        while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
                const char *raw = archive_entry_pathname(e);
                if (raw == NULL)
                        raw = archive_entry_pathname_utf8(e);
                /* Our own copy: setting the pathname below frees libarchive's. */
                _cleanup_free_ char *rel = NULL, *full = NULL, *name = strdup(raw ? raw : "");
                if (name == NULL)
                        return gerr_set(err, ENOMEM, "layer");
                if (raw == NULL || clean_path(name, &rel) < 0)
                        return img_errf(err, EINVAL, "layer entry %s escapes the layer", name);
                const char *base = strrchr(rel, '/');
                base = base ? base + 1 : rel;
                if (strncmp(base, ".wh.", 4) == 0) {
                        int r = whiteout(rootfd, rel, err);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (asprintf(&full, "%s%s%s", dir, *rel ? "/" : "", rel) < 0)
                        return gerr_set(err, ENOMEM, "layer");
                archive_entry_copy_pathname(e, full);
                const char *link = archive_entry_hardlink(e);
                if (link != NULL) {
                        _cleanup_free_ char *lrel = NULL, *lfull = NULL;
                        if (clean_path(link, &lrel) < 0 || *lrel == '\0')
                                return img_errf(err, EINVAL,
                                                "layer hardlink %s -> %s escapes the layer", name,
                                                link);
                        if (asprintf(&lfull, "%s/%s", dir, lrel) < 0)
                                return gerr_set(err, ENOMEM, "layer");
                        archive_entry_copy_hardlink(e, lfull);
                }
                if (archive_write_header(w, e) < ARCHIVE_WARN)
                        return img_errf(err, EINVAL, "layer entry %s refused: %s", name,
                                        archive_error_string(w));
                if (archive_entry_size(e) > 0 && link == NULL) {
                        total += archive_entry_size(e);
                        int r = copy_data(a, w, err);
                        if (r < 0)
                                return r;
                }
                if (archive_write_finish_entry(w) < ARCHIVE_WARN)
                        return img_errf(err, EIO, "layer entry %s: %s", name,
                                        archive_error_string(w));
        }
        if (rc != ARCHIVE_EOF)
                return img_errf(err, EINVAL, "read layer: %s", archive_error_string(a));
        /* Directory modes and times are applied at close. */
        if (archive_write_close(w) != ARCHIVE_OK)
                return img_errf(err, EIO, "write layer: %s", archive_error_string(w));
        *size = total;
        return 0;
}

/* The size of a layer already on disk: the sum of its tar's regular files, headers only. */
static int64_t tar_size(const char *blob)
{
        _cleanup_archive_ struct archive *a = archive_read_new();
        archive_read_support_format_tar(a);
        if (archive_read_open_filename(a, blob, BLOCK) != ARCHIVE_OK)
                return 0;
        int64_t total = 0;
        struct archive_entry *e;
        while (archive_read_next_header(a, &e) == ARCHIVE_OK)
                if (archive_entry_hardlink(e) == NULL)
                        total += archive_entry_size(e);
        return total;
}

int img_layer_unpack_archive_tmp(struct img_store *s, struct archive *a, int64_t *size,
                                 char tmp[IMG_LAYER_TMP_MAX], struct gerr **err)
{
        snprintf(tmp, IMG_LAYER_TMP_MAX, "%s/layers/.tmp-XXXXXX", s->root);
        if (mkdtemp(tmp) == NULL)
                return gerr_set(err, errno, "mkdtemp %s", tmp);
        chmod(tmp, 0755);
        int r = unpack_into(a, tmp, size, err);
        if (r < 0)
                fs_rm_rf(tmp);
        return r;
}

int img_layer_publish(struct img_store *s, const char *tmp, const char *chain_hex,
                      struct gerr **err)
{
        _cleanup_free_ char *dst = img_layer_path(s, chain_hex);
        int r = dst == NULL ? gerr_set(err, ENOMEM, "layer") : 0;
        if (r >= 0 && rename(tmp, dst) < 0) {
                /* Another pull of the same layer got there first: its copy is as good. */
                if ((errno == ENOTEMPTY || errno == EEXIST) && fs_exists(dst))
                        fs_rm_rf(tmp);
                else
                        r = gerr_set(err, errno, "rename %s", dst);
        }
        if (r < 0)
                fs_rm_rf(tmp);
        return r;
}

int img_layer_unpack_archive(struct img_store *s, struct archive *a, const char *chain_hex,
                             int64_t *size, struct gerr **err)
{
        char tmp[IMG_LAYER_TMP_MAX];
        int r = img_layer_unpack_archive_tmp(s, a, size, tmp, err);
        return r < 0 ? r : img_layer_publish(s, tmp, chain_hex, err);
}

int img_layer_unpack(struct img_store *s, const char *diff_hex, const char *chain_hex,
                     int64_t *size, struct gerr **err)
{
        _cleanup_free_ char *blob = img_blob_path(s, diff_hex);
        _cleanup_free_ char *dst = img_layer_path(s, chain_hex);
        if (blob == NULL || dst == NULL)
                return gerr_set(err, ENOMEM, "layer");
        if (fs_exists(dst)) {
                *size = tar_size(blob);
                return 0;
        }
        _cleanup_archive_ struct archive *a = archive_read_new();
        if (a == NULL)
                return gerr_set(err, ENOMEM, "archive");
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_empty(a);
        int r;
        if (archive_read_open_filename(a, blob, BLOCK) != ARCHIVE_OK)
                r = img_errf(err, EINVAL, "read layer: %s", archive_error_string(a));
        else
                r = img_layer_unpack_archive(s, a, chain_hex, size, err);
        if (r < 0)
                return gerr_wrap(err, "unpack layer sha256:%s", img_hex(diff_hex));
        return 0;
}

int img_unpack_layers(struct img_store *s, const char *const *diffs, size_t n,
                      struct img_layer_ref *layers, struct gerr **err)
{
        for (size_t i = 0; i < n; i++) {
                snprintf(layers[i].diff, sizeof(layers[i].diff), "%s", img_hex(diffs[i]));
                img_chain_id(i ? layers[i - 1].chain : NULL, layers[i].diff, layers[i].chain);
                int r = img_layer_unpack(s, layers[i].diff, layers[i].chain, &layers[i].size, err);
                if (r < 0)
                        return r;
        }
        return 0;
}
