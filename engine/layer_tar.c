/* The layer tar of a container's upper dir: overlay whiteouts as .wh. entries, streamed to an fd.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "engine/engine_internal.h"
#include "engine/upper_walk.h"

#define BLOCK (128 * 1024)

struct hardlink {
        dev_t dev;
        ino_t ino;
        char *path;
};

struct tarw {
        struct archive *a;
        struct gerr **err;
        char *buf;
        struct hardlink *links;
        size_t nlinks;
};

static int werr(struct tarw *t, const char *path)
{
        return gerr_set(t->err, EIO, "write layer entry %s: %s", path, archive_error_string(t->a));
}

/* An entry without atime/ctime, as Docker's tar writer leaves them (stable digests). */
static struct archive_entry *entry_for(const char *name, const struct stat *st)
{
        struct archive_entry *ae = archive_entry_new();
        if (ae == NULL)
                return NULL;
        archive_entry_copy_stat(ae, st);
        archive_entry_unset_atime(ae);
        archive_entry_unset_ctime(ae);
        archive_entry_unset_birthtime(ae);
        archive_entry_set_uname(ae, "");
        archive_entry_set_gname(ae, "");
        archive_entry_copy_pathname(ae, name);
        return ae;
}

static int put_whiteout(struct tarw *t, const char *name, const struct stat *like, mode_t mode)
{
        struct stat st = *like;
        st.st_mode = S_IFREG | mode;
        st.st_size = 0;
        st.st_rdev = 0;
        st.st_nlink = 1;
        struct archive_entry *ae = entry_for(name, &st);
        if (ae == NULL)
                return gerr_set(t->err, ENOMEM, "layer");
        int rc = archive_write_header(t->a, ae);
        archive_entry_free(ae);
        return rc < ARCHIVE_WARN ? werr(t, name) : 0;
}

static int copy_data(struct tarw *t, const struct eng_upper_entry *e)
{
        _cleanup_close_ int fd = openat(e->dirfd, e->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return gerr_set(t->err, errno, "open %s", e->path);
        off_t left = e->st->st_size;
        while (left > 0) {
                ssize_t n = read(fd, t->buf, left < BLOCK ? (size_t)left : BLOCK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return gerr_set(t->err, errno, "read %s", e->path);
                if (n == 0) /* shrank meanwhile: the header's size is padded with zeros */
                        break;
                if (archive_write_data(t->a, t->buf, (size_t)n) < 0)
                        return werr(t, e->path);
                left -= n;
        }
        return 0;
}

/* security.capability, the one xattr Docker's layer tars carry. */
static void add_caps(struct archive_entry *ae, const struct eng_upper_entry *e)
{
        _cleanup_close_ int fd = openat(e->dirfd, e->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        char proc[64], v[256];
        if (fd < 0)
                return;
        ssize_t n =
            getxattr(fs_fd_path(fd, proc, sizeof(proc)), "security.capability", v, sizeof(v));
        if (n > 0)
                archive_entry_xattr_add_entry(ae, "security.capability", v, (size_t)n);
}

static int on_entry(const struct eng_upper_entry *e, void *ud)
{
        struct tarw *t = ud;
        const char *rel = e->path + 1;
        if (e->whiteout) {
                /* dockerd's overlay whiteout converter: the device becomes ".wh.<name>". */
                _cleanup_free_ char *wh = NULL;
                const char *slash = strrchr(rel, '/');
                int dlen = slash ? (int)(slash - rel + 1) : 0;
                if (asprintf(&wh, "%.*s.wh.%s", dlen, rel, e->name) < 0)
                        return gerr_set(t->err, ENOMEM, "layer");
                return put_whiteout(t, wh, e->st, 0600);
        }
        if (S_ISSOCK(e->st->st_mode))
                return 0; /* tar has no sockets */
        _cleanup_free_ char *name = NULL;
        if (asprintf(&name, "%s%s", rel, S_ISDIR(e->st->st_mode) ? "/" : "") < 0)
                return gerr_set(t->err, ENOMEM, "layer");
        struct archive_entry *ae = entry_for(name, e->st);
        if (ae == NULL)
                return gerr_set(t->err, ENOMEM, "layer");
        bool data = S_ISREG(e->st->st_mode) && e->st->st_size > 0;
        if (S_ISLNK(e->st->st_mode)) {
                char target[4096];
                ssize_t n = readlinkat(e->dirfd, e->name, target, sizeof(target) - 1);
                if (n < 0) {
                        archive_entry_free(ae);
                        return gerr_set(t->err, errno, "readlink %s", e->path);
                }
                target[n] = '\0';
                archive_entry_copy_symlink(ae, target);
        } else if (S_ISREG(e->st->st_mode) && e->st->st_nlink > 1) {
                bool linked = false;
                for (size_t i = 0; !linked && i < t->nlinks; i++)
                        if (t->links[i].dev == e->st->st_dev && t->links[i].ino == e->st->st_ino) {
                                archive_entry_copy_hardlink(ae, t->links[i].path);
                                archive_entry_set_size(ae, 0);
                                data = false;
                                linked = true;
                        }
                struct hardlink *nl =
                    linked ? NULL : realloc(t->links, (t->nlinks + 1) * sizeof(*nl));
                if (nl != NULL) {
                        t->links = nl;
                        nl[t->nlinks] =
                            (struct hardlink){e->st->st_dev, e->st->st_ino, strdup(rel)};
                        if (nl[t->nlinks].path != NULL)
                                t->nlinks++;
                }
        }
        if (!S_ISLNK(e->st->st_mode))
                add_caps(ae, e);
        int rc = archive_write_header(t->a, ae);
        archive_entry_free(ae);
        if (rc < ARCHIVE_WARN)
                return werr(t, e->path);
        int r = data ? copy_data(t, e) : 0;
        if (r < 0)
                return r;
        /* An opaque directory: ".wh..wh..opq" right after it, as dockerd writes it. */
        if (e->opaque) {
                _cleanup_free_ char *opq = NULL;
                if (asprintf(&opq, "%s.wh..wh..opq", name) < 0)
                        return gerr_set(t->err, ENOMEM, "layer");
                return put_whiteout(t, opq, e->st, e->st->st_mode & 0777);
        }
        return 0;
}

int eng_layer_tar_write(const char *upper, char *const *lowers, bool empty, int fd,
                        struct gerr **err)
{
        struct eng_layers l;
        int r = eng_layers_open(upper, lowers, &l, err);
        if (r < 0)
                return r;
        struct tarw t = {.a = archive_write_new(), .err = err, .buf = malloc(BLOCK)};
        if (t.a == NULL || t.buf == NULL) {
                r = gerr_set(err, ENOMEM, "layer");
                goto out;
        }
        /* pax only where ustar cannot say it; the end is the two zero blocks and no padding,
         * so that no change gives Docker's empty-layer digest. */
        archive_write_set_format_pax_restricted(t.a);
        archive_write_set_bytes_per_block(t.a, 10240);
        archive_write_set_bytes_in_last_block(t.a, 1);
        if (archive_write_open_fd(t.a, fd) != ARCHIVE_OK) {
                r = gerr_set(err, EIO, "layer: %s", archive_error_string(t.a));
                goto out;
        }
        if (!empty)
                r = eng_upper_walk(&l, on_entry, &t, err);
        if (archive_write_close(t.a) != ARCHIVE_OK && r >= 0)
                r = gerr_set(err, EIO, "layer: %s", archive_error_string(t.a));
out:
        if (t.a != NULL)
                archive_write_free(t.a);
        for (size_t i = 0; i < t.nlinks; i++)
                free(t.links[i].path);
        free(t.links);
        free(t.buf);
        eng_layers_close(&l);
        return r;
}
