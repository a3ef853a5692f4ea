/* Copy into a container: a tar stream unpacked below a directory, every entry confined to the
 * container's root. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "engine/engine_internal.h"
#include "engine/spec_internal.h"

#define BLOCK (256 * 1024)

struct dir_time {
        char *path;
        struct timespec times[2];
};

struct extract {
        int rootfd;
        const char *dest; /* the extraction point, resolved: a clean absolute container path */
        const struct eng_extract_opts *o;
        bool chown_set;
        uid_t uid;
        gid_t gid;
        struct dir_time *dirs; /* directory times, set at the end as dockerd does */
        size_t n_dirs, cap_dirs;
        struct gerr **err;
};

/* dockerd's wording for anything that fails while unpacking (a 500). */
__attribute__((format(printf, 2, 3))) static int tar_fail(struct extract *x, const char *fmt, ...)
{
        char msg[4096];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return eng_err(x->err, EIO, "Error processing tar file(exit status 1): %s", msg);
}

static bool inside(const char *path, const char *dir)
{
        size_t n = strlen(dir);
        if (strcmp(dir, "/") == 0)
                return true;
        return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static char *join(const char *dir, const char *name)
{
        _cleanup_free_ char *j = NULL;
        if (asprintf(&j, "%s/%s", dir, name) < 0)
                return NULL;
        return eng_path_clean(j);
}

/* Remove what is at base in pfd (a tree too: rm -rf through the fd, never following links). */
static int remove_existing(int pfd, const char *base, bool is_dir)
{
        if (!is_dir)
                return unlinkat(pfd, base, 0) < 0 && errno != ENOENT ? -errno : 0;
        char p[4096];
        char fdp[64];
        snprintf(p, sizeof(p), "%s/%s", fs_fd_path(pfd, fdp, sizeof(fdp)), base);
        return fs_rm_rf(p);
}

static int write_data(struct extract *x, struct archive *a, int fd, const char *path)
{
        const void *buf;
        size_t size;
        la_int64_t off;
        for (;;) {
                int rc = archive_read_data_block(a, &buf, &size, &off);
                if (rc == ARCHIVE_EOF)
                        return 0;
                if (rc < ARCHIVE_WARN)
                        return tar_fail(x, "%s", archive_error_string(a) ?: "unexpected EOF");
                const char *p = buf;
                while (size > 0) {
                        ssize_t n = pwrite(fd, p, size, off);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return tar_fail(x, "write %s: %s", path, strerror(errno));
                        p += n;
                        off += n;
                        size -= (size_t)n;
                }
        }
}

/* Owner, mode and (except directories) times of what was just created at base. */
static int set_meta(struct extract *x, int pfd, const char *base, struct archive_entry *en,
                    const char *path)
{
        uid_t uid = x->chown_set ? x->uid : (uid_t)archive_entry_uid(en);
        gid_t gid = x->chown_set ? x->gid : (gid_t)archive_entry_gid(en);
        struct timespec ts[2] = {
            {archive_entry_atime(en), archive_entry_atime_nsec(en)},
            {archive_entry_mtime(en), archive_entry_mtime_nsec(en)},
        };
        if (!archive_entry_atime_is_set(en))
                ts[0] = ts[1];
        mode_t type = archive_entry_filetype(en);
        if (type == AE_IFLNK) {
                if (fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                    utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
                        return tar_fail(x, "lchown %s: %s", path, strerror(errno));
                return 0;
        }
        /* Through an fd of the very node: a symlink put there meanwhile is never followed. */
        _cleanup_close_ int fd = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return tar_fail(x, "open %s: %s", path, strerror(errno));
        if ((st.st_mode & S_IFMT) != type)
                return tar_fail(x, "%s changed during the copy", path);
        char p[64];
        fs_fd_path(fd, p, sizeof(p));
        if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
                return tar_fail(x, "lchown %s: %s", path, strerror(errno));
        if (chmod(p, archive_entry_perm(en) | (archive_entry_mode(en) & 07000)) < 0)
                return tar_fail(x, "chmod %s: %s", path, strerror(errno));
        if (type == AE_IFDIR) {
                if (x->n_dirs == x->cap_dirs) {
                        size_t cap = x->cap_dirs ? x->cap_dirs * 2 : 16;
                        struct dir_time *nd = realloc(x->dirs, cap * sizeof(*nd));
                        if (nd == NULL)
                                return gerr_set(x->err, ENOMEM, "extract");
                        x->dirs = nd;
                        x->cap_dirs = cap;
                }
                x->dirs[x->n_dirs] = (struct dir_time){.path = strdup(path)};
                memcpy(x->dirs[x->n_dirs].times, ts, sizeof(ts));
                if (x->dirs[x->n_dirs].path != NULL)
                        x->n_dirs++;
                return 0;
        }
        if (utimensat(AT_FDCWD, p, ts, 0) < 0)
                return tar_fail(x, "chtimes %s: %s", path, strerror(errno));
        return 0;
}

static int create_node(struct extract *x, struct archive *a, struct archive_entry *en, int pfd,
                       const char *base, const char *path)
{
        mode_t type = archive_entry_filetype(en);
        const char *hard = archive_entry_hardlink(en);
        if (hard != NULL) {
                /* The target is a name in the archive: below the extraction point. */
                _cleanup_free_ char *target = join(x->dest, hard);
                if (target == NULL)
                        return gerr_set(x->err, ENOMEM, "extract");
                if (!inside(target, x->dest))
                        return tar_fail(x, "invalid hardlink \"%s\" -> \"%s\"", target, hard);
                _cleanup_close_ int tfd =
                    fs_open_in_root(x->rootfd, target, O_PATH | O_NOFOLLOW, 0);
                if (tfd < 0 || linkat(tfd, "", pfd, base, AT_EMPTY_PATH) < 0)
                        return tar_fail(x, "link %s %s: %s", target, path,
                                        strerror(tfd < 0 ? -tfd : errno));
                return 0;
        }
        mode_t perm = archive_entry_perm(en);
        switch (type) {
        case AE_IFDIR:
                if (mkdirat(pfd, base, perm | 0700) < 0 && errno != EEXIST)
                        return tar_fail(x, "mkdir %s: %s", path, strerror(errno));
                break;
        case AE_IFREG: {
                _cleanup_close_ int fd = openat(
                    pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perm | 0600);
                if (fd < 0)
                        return tar_fail(x, "open %s: %s", path, strerror(errno));
                int r = write_data(x, a, fd, path);
                if (r < 0)
                        return r;
                if (ftruncate(fd, archive_entry_size(en)) < 0)
                        return tar_fail(x, "truncate %s: %s", path, strerror(errno));
                break;
        }
        case AE_IFLNK: {
                const char *target = archive_entry_symlink(en);
                if (target == NULL)
                        target = "";
                /* dockerd refuses a relative link that points above the extraction point; an
                 * absolute one means the container's own path (resolved in its root later). */
                _cleanup_free_ char *dir = strdup(path);
                char *slash = dir ? strrchr(dir, '/') : NULL;
                if (slash != NULL)
                        slash[slash == dir ? 1 : 0] = '\0';
                _cleanup_free_ char *to = dir ? join(dir, target) : NULL;
                if (to == NULL)
                        return gerr_set(x->err, ENOMEM, "extract");
                if (target[0] != '/' && !inside(to, x->dest))
                        return tar_fail(x, "invalid symlink \"%s\" -> \"%s\"", path, target);
                if (symlinkat(target, pfd, base) < 0)
                        return tar_fail(x, "symlink %s %s: %s", target, path, strerror(errno));
                break;
        }
        case AE_IFCHR:
        case AE_IFBLK:
        case AE_IFIFO:
                if (mknodat(pfd, base, type | perm, archive_entry_rdev(en)) < 0)
                        return tar_fail(x, "mknod %s: %s", path, strerror(errno));
                break;
        default:
                return 0; /* sockets and the unknown: skipped, as dockerd does */
        }
        return set_meta(x, pfd, base, en, path);
}

static int extract_entry(struct extract *x, struct archive *a, struct archive_entry *en)
{
        const char *name = archive_entry_pathname(en);
        if (name == NULL)
                name = "";
        _cleanup_free_ char *path = join(x->dest, name);
        if (path == NULL)
                return gerr_set(x->err, ENOMEM, "extract");
        if (!inside(path, x->dest))
                return tar_fail(x, "\"%s\" is outside of \"%s\"", name, x->dest);
        if (strcmp(path, x->dest) == 0)
                return 0; /* the extraction point itself: dockerd leaves it as it is */
        char *slash = strrchr(path, '/');
        _cleanup_free_ char *parent = strndup(path, slash == path ? 1 : (size_t)(slash - path));
        const char *base = slash + 1;
        if (parent == NULL)
                return gerr_set(x->err, ENOMEM, "extract");
        /* Parents as the container resolves them: a symlink on the way stays in its root. */
        _cleanup_close_ int pfd = fs_mkdir_in_root(x->rootfd, parent, 0755);
        if (pfd < 0)
                return tar_fail(x, "mkdir %s: %s", parent, strerror(-pfd));
        mode_t type = archive_entry_filetype(en);
        bool want_dir = type == AE_IFDIR && archive_entry_hardlink(en) == NULL;
        struct stat st;
        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                bool is_dir = S_ISDIR(st.st_mode);
                if (x->o->no_overwrite_dir_non_dir && is_dir && !want_dir)
                        return tar_fail(
                            x, "cannot overwrite directory \"%s\" with non-directory \"%s\"", path,
                            x->dest);
                if (x->o->no_overwrite_dir_non_dir && !is_dir && want_dir)
                        return tar_fail(
                            x, "cannot overwrite non-directory \"%s\" with directory \"%s\"", path,
                            x->dest);
                if (!(is_dir && want_dir)) {
                        int r = remove_existing(pfd, base, is_dir);
                        if (r < 0)
                                return tar_fail(x, "remove %s: %s", path, strerror(-r));
                }
        }
        return create_node(x, a, en, pfd, base, path);
}

static void set_dir_times(struct extract *x)
{
        for (size_t i = x->n_dirs; i-- > 0;) {
                _cleanup_close_ int fd = fs_open_in_root(x->rootfd, x->dirs[i].path,
                                                         O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
                char p[64];
                if (fd >= 0)
                        (void)utimensat(AT_FDCWD, fs_fd_path(fd, p, sizeof(p)), x->dirs[i].times,
                                        0);
        }
}

static void archive_freep(struct archive **a)
{
        if (*a != NULL)
                archive_read_free(*a);
}

static int unpack(struct extract *x, int fd)
{
        _cleanup_(archive_freep) struct archive *a = archive_read_new();
        if (a == NULL)
                return gerr_set(x->err, ENOMEM, "extract");
        /* dockerd decompresses what it is given. */
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_empty(a);
        if (archive_read_open_fd(a, fd, BLOCK) != ARCHIVE_OK)
                return tar_fail(x, "%s", archive_error_string(a) ?: "unexpected EOF");
        struct archive_entry *en;
        int rc;
        while ((rc = archive_read_next_header(a, &en)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
                int r = extract_entry(x, a, en);
                if (r < 0)
                        return r;
        }
        if (rc != ARCHIVE_EOF)
                return tar_fail(x, "%s", archive_error_string(a) ?: "unexpected EOF");
        set_dir_times(x);
        return 0;
}

/* dockerd's read-only checks: the rootfs of a ReadonlyRootfs container, a read-only volume. */
static int check_writable(struct eng_cfs *fs, int destfd, struct gerr **err)
{
        struct stat root, dst;
        struct statvfs sv;
        if (fstat(fs->rootfd, &root) < 0 || fstat(destfd, &dst) < 0 || fstatvfs(destfd, &sv) < 0)
                return gerr_set(err, errno, "stat extraction point");
        bool on_root = root.st_dev == dst.st_dev;
        json_t *hc = json_object_get(fs->config, "HostConfig");
        if (on_root && json_is_true(json_object_get(hc, "ReadonlyRootfs")))
                return eng_err(err, EINVAL, "container rootfs is marked read-only");
        if (!on_root && (sv.f_flag & ST_RDONLY))
                return eng_err(err, EINVAL, "mounted volume is marked read-only");
        return 0;
}

int eng_container_extract(struct eng *e, const char *ref, const char *path,
                          const struct eng_extract_opts *o, int fd, struct gerr **err)
{
        struct eng_cfs fs;
        int r = eng_cfs_open(e, ref, ENG_CFS_WRITE, &fs, err);
        if (r < 0)
                return r;
        struct extract x = {.rootfd = fs.rootfd, .o = o, .err = err};
        _cleanup_free_ char *abs = eng_path_abs(path);
        _cleanup_free_ char *dest = NULL;
        /* The last name is followed too: a symlink to a directory is a fine extraction point. */
        r = abs ? eng_path_resolve(fs.rootfd, abs, &dest) : -ENOMEM;
        _cleanup_close_ int dfd = -1;
        struct stat st;
        if (r >= 0)
                dfd = r = fs_open_in_root(fs.rootfd, dest, O_PATH | O_NOFOLLOW, 0);
        if (r >= 0 && fstat(dfd, &st) < 0)
                r = -errno;
        if (r == -ENOENT)
                r = eng_err(err, ENOENT, "Could not find the file %s in container %s", path, ref);
        else if (r < 0)
                r = gerr_set(err, -r, "lstat %s", dest ? dest : path);
        else if (!S_ISDIR(st.st_mode))
                r = eng_err(err, EINVAL, "extraction point is not a directory");
        if (r >= 0)
                r = check_writable(&fs, dfd, err);
        const char *user = json_string_value(json_object_get(fs.config, "User"));
        if (r >= 0 && o->copy_uid_gid && user != NULL && *user != '\0') {
                char root[64];
                const char *dirs[] = {fs_fd_path(fs.rootfd, root, sizeof(root)), NULL};
                struct eng_user u = {0};
                r = eng_user_resolve(user, NULL, dirs, &u, err);
                x.chown_set = r >= 0;
                x.uid = u.uid;
                x.gid = u.gid;
        }
        if (r >= 0) {
                x.dest = dest;
                r = unpack(&x, fd);
        }
        for (size_t i = 0; i < x.n_dirs; i++)
                free(x.dirs[i].path);
        free(x.dirs);
        if (r >= 0) {
                pthread_mutex_lock(&e->lock);
                eng_event_ctr(e, fs.c, "extract-to-dir", NULL);
                pthread_mutex_unlock(&e->lock);
        }
        eng_cfs_close(&fs);
        return r;
}
