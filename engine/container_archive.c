/* Copy out of a container: the path's stat (Docker's ContainerPathStat), its tar, the export of the
 * whole filesystem. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "engine/engine_internal.h"

#define BLOCK (64 * 1024)

struct eng_archive {
        struct eng_cfs fs;
        int topfd;  /* O_PATH of what is archived (the root for an export) */
        char *name; /* its entry name; NULL for an export (entries relative, no root entry) */
};

/* Go's os.FileMode of a stat mode. */
static unsigned long go_mode(mode_t m)
{
        unsigned long g = m & 0777;
        switch (m & S_IFMT) {
        case S_IFBLK:
                g |= 1ul << 26;
                break;
        case S_IFCHR:
                g |= 1ul << 26 | 1ul << 21;
                break;
        case S_IFDIR:
                g |= 1ul << 31;
                break;
        case S_IFIFO:
                g |= 1ul << 25;
                break;
        case S_IFLNK:
                g |= 1ul << 27;
                break;
        case S_IFSOCK:
                g |= 1ul << 24;
                break;
        default:
                break;
        }
        if (m & S_ISUID)
                g |= 1ul << 23;
        if (m & S_ISGID)
                g |= 1ul << 22;
        if (m & S_ISVTX)
                g |= 1ul << 20;
        return g;
}

/* Go's RFC3339Nano: the fraction without trailing zeros, none when zero. */
static void go_time(const struct timespec *ts, char *buf)
{
        timefmt_rfc3339(ts, buf);
        char *dot = strchr(buf, '.');
        if (dot == NULL)
                return;
        char *z = strchr(dot, 'Z');
        char *end = z;
        while (end > dot + 1 && end[-1] == '0')
                end--;
        if (end == dot + 1)
                end = dot;
        memmove(end, z, strlen(z) + 1);
}

/* What a request's path names: dockerd's ResolvePath (the directory resolved in scope, the last
 * name not followed) and the name its entries carry (the base of absPath). */
struct target {
        char *abs, *resolved, *name;
};

static void target_done(struct target *t)
{
        free(t->abs);
        free(t->resolved);
        free(t->name);
}

static int resolve_target(int rootfd, const char *path, struct target *t)
{
        *t = (struct target){0};
        t->abs = eng_path_abs(path);
        if (t->abs == NULL)
                return -ENOMEM;
        char *slash = strrchr(t->abs, '/');
        _cleanup_free_ char *dir = strndup(t->abs, (size_t)(slash - t->abs) + 1);
        _cleanup_free_ char *rdir = NULL;
        int r = dir ? eng_path_resolve(rootfd, dir, &rdir) : -ENOMEM;
        if (r < 0)
                return r;
        if (asprintf(&t->resolved, "%s%s%s", rdir, strcmp(rdir, "/") ? "/" : "", slash + 1) < 0)
                return -ENOMEM;
        t->name = eng_path_base(t->abs);
        return t->name ? 0 : -ENOMEM;
}

static int not_found(struct gerr **err, const char *path, const char *ref)
{
        return eng_err(err, ENOENT, "Could not find the file %s in container %s", path, ref);
}

/* Open and stat the request's target; *stat_out gets Docker's ContainerPathStat. */
static int open_target(struct eng_cfs *fs, const char *ref, const char *path, int *fd_out,
                       char **name_out, json_t **stat_out, struct gerr **err)
{
        struct target t;
        int r = resolve_target(fs->rootfd, path, &t);
        if (r == -ENOENT)
                r = not_found(err, path, ref);
        else if (r < 0)
                r = gerr_set(err, -r, "resolve %s", path);
        if (r < 0) {
                target_done(&t);
                return r;
        }
        _cleanup_close_ int fd = fs_open_in_root(fs->rootfd, t.resolved, O_PATH | O_NOFOLLOW, 0);
        struct stat st;
        if (fd == -ENOENT)
                r = not_found(err, path, ref);
        else if (fd < 0)
                r = gerr_set(err, -fd, "lstat %s", t.resolved);
        else if (fstatat(fd, "", &st, AT_EMPTY_PATH) < 0)
                r = gerr_set(err, errno, "lstat %s", t.resolved);
        _cleanup_free_ char *link = NULL;
        if (r >= 0 && S_ISLNK(st.st_mode)) {
                r = eng_path_resolve(fs->rootfd, t.abs, &link);
                if (r < 0)
                        r = gerr_set(err, -r, "resolve %s", t.abs);
        }
        if (r < 0) {
                target_done(&t);
                return r;
        }
        char mtime[TIMEFMT_RFC3339_LEN];
        go_time(&st.st_mtim, mtime);
        *stat_out = json_pack("{s:s, s:I, s:I, s:s, s:s}", "name", t.name, "size",
                              (json_int_t)st.st_size, "mode", (json_int_t)go_mode(st.st_mode),
                              "mtime", mtime, "linkTarget", link ? link : "");
        if (name_out != NULL)
                *name_out = TAKE_PTR(t.name);
        if (fd_out != NULL)
                *fd_out = TAKE_FD(fd);
        target_done(&t);
        return *stat_out ? 0 : gerr_set(err, ENOMEM, "stat %s", path);
}

int eng_container_stat_path(struct eng *e, const char *ref, const char *path, json_t **out,
                            struct gerr **err)
{
        struct eng_cfs fs;
        int r = eng_cfs_open(e, ref, ENG_CFS_READ, &fs, err);
        if (r < 0)
                return r;
        r = open_target(&fs, ref, path, NULL, NULL, out, err);
        eng_cfs_close(&fs);
        return r;
}

static void event(struct eng_cfs *fs, const char *action)
{
        pthread_mutex_lock(&fs->e->lock);
        eng_event_ctr(fs->e, fs->c, action, NULL);
        pthread_mutex_unlock(&fs->e->lock);
}

int eng_container_archive_open(struct eng *e, const char *ref, const char *path,
                               struct eng_archive **out, json_t **stat, struct gerr **err)
{
        struct eng_archive *a = calloc(1, sizeof(*a));
        if (a == NULL)
                return gerr_set(err, ENOMEM, "archive");
        a->topfd = -1;
        int r = eng_cfs_open(e, ref, ENG_CFS_READ, &a->fs, err);
        if (r < 0) {
                free(a);
                return r;
        }
        r = open_target(&a->fs, ref, path, &a->topfd, &a->name, stat, err);
        if (r < 0) {
                eng_archive_close(a);
                return r;
        }
        event(&a->fs, "archive-path");
        *out = a;
        return 0;
}

int eng_container_export_open(struct eng *e, const char *ref, struct eng_archive **out,
                              struct gerr **err)
{
        struct eng_archive *a = calloc(1, sizeof(*a));
        if (a == NULL)
                return gerr_set(err, ENOMEM, "export");
        a->topfd = -1;
        int r = eng_cfs_open(e, ref, ENG_CFS_ROOTFS, &a->fs, err);
        if (r < 0) {
                free(a);
                return r;
        }
        a->topfd = dup(a->fs.rootfd);
        if (a->topfd < 0) {
                r = gerr_set(err, errno, "export %s", ref);
                eng_archive_close(a);
                return r;
        }
        event(&a->fs, "export");
        *out = a;
        return 0;
}

void eng_archive_close(struct eng_archive *a)
{
        if (a == NULL)
                return;
        if (a->topfd >= 0)
                close(a->topfd);
        free(a->name);
        eng_cfs_close(&a->fs);
        free(a);
}

/* ---- the tar writer ---- */

struct walker {
        struct archive *w;
        struct archive_entry_linkresolver *links;
        char *buf;
        struct gerr **err;
};

/* Kernel filesystems a running container has mounted: their directory, never their files
 * (dockerd's view has them as the empty mount points; /proc/kmsg would block a read). */
static bool pseudo_fs(int fd)
{
        struct statfs sf;
        if (fstatfs(fd, &sf) < 0)
                return false;
        switch ((unsigned long)sf.f_type) {
        case 0x9fa0:     /* proc */
        case 0x62656572: /* sysfs */
        case 0x27e0eb:   /* cgroup */
        case 0x63677270: /* cgroup2 */
        case 0x64626720: /* debugfs */
        case 0x74726163: /* tracefs */
        case 0x73636673: /* securityfs */
        case 0xcafe4a11: /* bpf */
        case 0x19800202: /* mqueue */
        case 0x1cd1:     /* devpts */
                return true;
        default:
                return false;
        }
}

static int reopen(int pathfd, int flags)
{
        char p[64];
        int fd = open(fs_fd_path(pathfd, p, sizeof(p)), flags | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static int write_err(struct walker *wk, const char *name)
{
        int en = archive_errno(wk->w);
        return gerr_set(wk->err, en > 0 ? en : EIO, "write %s: %s", name,
                        archive_error_string(wk->w) ?: "tar");
}

static int copy_file(struct walker *wk, int pathfd, int64_t size, const char *name)
{
        _cleanup_close_ int fd = reopen(pathfd, O_RDONLY | O_NONBLOCK);
        if (fd < 0)
                return gerr_set(wk->err, -fd, "open %s", name);
        /* A file that shrinks meanwhile is padded by libarchive, one that grows cut at size. */
        while (size > 0) {
                ssize_t n = read(fd, wk->buf, BLOCK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return gerr_set(wk->err, errno, "read %s", name);
                if (n == 0)
                        break;
                if (n > size)
                        n = (ssize_t)size;
                if (archive_write_data(wk->w, wk->buf, (size_t)n) < 0)
                        return write_err(wk, name);
                size -= n;
        }
        return 0;
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted as Go's filepath.Walk visits them. */
static int list_dir(int pathfd, char ***out, size_t *n_out)
{
        int fd = reopen(pathfd, O_RDONLY | O_DIRECTORY);
        if (fd < 0)
                return fd;
        DIR *d = fdopendir(fd);
        if (d == NULL) {
                close(fd);
                return -errno;
        }
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (n == cap) {
                        cap = cap ? cap * 2 : 32;
                        char **nn = realloc(names, cap * sizeof(*names));
                        if (nn == NULL) {
                                r = -ENOMEM;
                                break;
                        }
                        names = nn;
                }
                if ((names[n] = strdup(de->d_name)) == NULL) {
                        r = -ENOMEM;
                        break;
                }
                n++;
        }
        closedir(d);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        free(names[i]);
                free(names);
                return r;
        }
        if (n > 0)
                qsort(names, n, sizeof(*names), cmp_names);
        *out = names;
        *n_out = n;
        return 0;
}

static int add_children(struct walker *wk, int dirfd, const char *prefix);

/* One node and, for a directory, everything below it. name NULL: the export's root, not an
 * entry itself. */
static int add_node(struct walker *wk, int pathfd, const char *name)
{
        struct stat st;
        if (fstatat(pathfd, "", &st, AT_EMPTY_PATH) < 0)
                return gerr_set(wk->err, errno, "lstat %s", name ? name : "/");
        if (name == NULL)
                return add_children(wk, pathfd, "");
        struct archive_entry *en = archive_entry_new();
        if (en == NULL)
                return gerr_set(wk->err, ENOMEM, "tar");
        _cleanup_free_ char *dname = NULL;
        bool dir = S_ISDIR(st.st_mode);
        if (dir && strcmp(name, "/") != 0 && asprintf(&dname, "%s/", name) < 0) {
                archive_entry_free(en);
                return gerr_set(wk->err, ENOMEM, "tar");
        }
        archive_entry_copy_pathname(en, dname ? dname : name);
        archive_entry_copy_stat(en, &st);
        archive_entry_set_uname(en, NULL);
        archive_entry_set_gname(en, NULL);
        if (!S_ISREG(st.st_mode))
                archive_entry_set_size(en, 0);
        if (S_ISLNK(st.st_mode)) {
                char target[4096];
                ssize_t n = readlinkat(pathfd, "", target, sizeof(target) - 1);
                if (n < 0) {
                        archive_entry_free(en);
                        return gerr_set(wk->err, errno, "readlink %s", name);
                }
                target[n] = '\0';
                archive_entry_copy_symlink(en, target);
        }
        if (S_ISSOCK(st.st_mode)) { /* tar has no sockets: dockerd skips them too */
                archive_entry_free(en);
                return 0;
        }
        struct archive_entry *spare = NULL;
        archive_entry_linkify(wk->links, &en, &spare);
        archive_entry_free(spare);
        if (en == NULL)
                return 0;
        bool data = S_ISREG(st.st_mode) && archive_entry_hardlink(en) == NULL && st.st_size > 0;
        if (!data)
                archive_entry_set_size(en, 0);
        int r = 0;
        if (archive_write_header(wk->w, en) < ARCHIVE_WARN)
                r = write_err(wk, name);
        archive_entry_free(en);
        if (r >= 0 && data)
                r = copy_file(wk, pathfd, st.st_size, name);
        if (r >= 0 && archive_write_finish_entry(wk->w) < ARCHIVE_WARN)
                r = write_err(wk, name);
        if (r >= 0 && dir && !pseudo_fs(pathfd)) {
                _cleanup_free_ char *prefix = NULL;
                if (asprintf(&prefix, "%s%s", name, strcmp(name, "/") ? "/" : "") < 0)
                        return gerr_set(wk->err, ENOMEM, "tar");
                r = add_children(wk, pathfd, prefix);
        }
        return r;
}

static int add_children(struct walker *wk, int dirfd, const char *prefix)
{
        char **names = NULL;
        size_t n = 0;
        int r = list_dir(dirfd, &names, &n);
        if (r < 0)
                return gerr_set(wk->err, -r, "read directory %s", *prefix ? prefix : "/");
        for (size_t i = 0; i < n; i++) {
                if (r >= 0) {
                        /* One name, no symlink followed: it stays where dirfd is. */
                        int fd = openat(dirfd, names[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
                        _cleanup_free_ char *child = NULL;
                        if (fd < 0) {
                                if (errno != ENOENT) /* gone meanwhile: skipped */
                                        r = gerr_set(wk->err, errno, "open %s%s", prefix, names[i]);
                        } else if (asprintf(&child, "%s%s", prefix, names[i]) < 0) {
                                r = gerr_set(wk->err, ENOMEM, "tar");
                        } else {
                                r = add_node(wk, fd, child);
                        }
                        if (fd >= 0)
                                close(fd);
                }
                free(names[i]);
        }
        free(names);
        return r;
}

int eng_archive_write(struct eng_archive *a, int fd, struct gerr **err)
{
        struct walker wk = {.err = err};
        wk.w = archive_write_new();
        wk.links = archive_entry_linkresolver_new();
        wk.buf = malloc(BLOCK);
        int r = 0;
        if (wk.w == NULL || wk.links == NULL || wk.buf == NULL) {
                r = gerr_set(err, ENOMEM, "tar");
                goto out;
        }
        archive_write_set_format_pax_restricted(wk.w);
        archive_entry_linkresolver_set_strategy(wk.links, archive_format(wk.w));
        /* A stream: two zero blocks at the end and no padding to a record, as Go's tar. */
        archive_write_set_bytes_in_last_block(wk.w, 1);
        if (archive_write_open_fd(wk.w, fd) != ARCHIVE_OK) {
                r = write_err(&wk, "tar");
                goto out;
        }
        r = add_node(&wk, a->topfd, a->name);
        if (r >= 0 && archive_write_close(wk.w) != ARCHIVE_OK)
                r = write_err(&wk, "tar");
out:
        if (wk.links != NULL)
                archive_entry_linkresolver_free(wk.links);
        if (wk.w != NULL)
                archive_write_free(wk.w);
        free(wk.buf);
        return r;
}
