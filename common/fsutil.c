/* File and path helpers: whole-file read/write, mkdir -p, confined opens below a root. */
#include "common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"

int fs_read_fd(int fd, char **out, size_t *len)
{
        size_t cap = 4096, n = 0;
        char *buf = malloc(cap);
        if (buf == NULL)
                return -ENOMEM;
        for (;;) {
                if (n + 1 >= cap) {
                        char *nb = realloc(buf, cap * 2);
                        if (nb == NULL) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = nb;
                        cap *= 2;
                }
                ssize_t r = read(fd, buf + n, cap - n - 1);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        int e = errno;
                        free(buf);
                        return -e;
                }
                if (r == 0)
                        break;
                n += (size_t)r;
        }
        buf[n] = '\0';
        *out = buf;
        if (len != NULL)
                *len = n;
        return 0;
}

int fs_read_file_at(int dirfd, const char *path, char **out, size_t *len, struct gerr **err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return gerr_set(err, errno, "open %s", path);
        int r = fs_read_fd(fd, out, len);
        if (r < 0)
                return gerr_set(err, -r, "read %s", path);
        return 0;
}

int fs_read_file(const char *path, char **out, size_t *len, struct gerr **err)
{
        return fs_read_file_at(AT_FDCWD, path, out, len, err);
}

static int write_all(int fd, const void *data, size_t len)
{
        const char *p = data;
        while (len > 0) {
                ssize_t w = write(fd, p, len);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += w;
                len -= (size_t)w;
        }
        return 0;
}

int fs_write_file_at(int dirfd, const char *path, const void *data, size_t len, struct gerr **err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return gerr_set(err, errno, "open %s", path);
        int r = write_all(fd, data, len);
        if (r < 0)
                return gerr_set(err, -r, "write %s", path);
        return 0;
}

int fs_write_file(const char *path, const void *data, size_t len, struct gerr **err)
{
        return fs_write_file_at(AT_FDCWD, path, data, len, err);
}

int fs_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         struct gerr **err)
{
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s.tmp", path) < 0)
                return gerr_set(err, ENOMEM, "write %s", path);
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, mode);
        if (fd < 0)
                return gerr_set(err, errno, "open %s", tmp);
        int r = write_all(fd, data, len);
        if (r < 0) {
                unlink(tmp);
                return gerr_set(err, -r, "write %s", tmp);
        }
        if (rename(tmp, path) < 0) {
                int e = errno;
                unlink(tmp);
                return gerr_set(err, e, "rename %s to %s", tmp, path);
        }
        return 0;
}

int fs_mkdir_p(const char *path, mode_t mode, struct gerr **err)
{
        if (mkdir(path, mode) == 0 || errno == EEXIST)
                return 0;
        if (errno != ENOENT)
                return gerr_set(err, errno, "mkdir %s", path);
        _cleanup_free_ char *copy = strdup(path);
        if (copy == NULL)
                return gerr_set(err, ENOMEM, "mkdir %s", path);
        for (char *p = copy + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(copy, mode) < 0 && errno != EEXIST)
                        return gerr_set(err, errno, "mkdir %s", copy);
                *p = '/';
        }
        if (mkdir(copy, mode) < 0 && errno != EEXIST)
                return gerr_set(err, errno, "mkdir %s", copy);
        return 0;
}

static int openat2_in_root(int rootfd, const char *path, uint64_t flags, uint64_t mode)
{
        struct open_how how = {
                .flags = flags,
                .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        while (*path == '/')
                path++;
        if (*path == '\0')
                path = ".";
        long fd;
        do
                fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        while (fd < 0 && errno == EAGAIN);
        return fd < 0 ? -errno : (int)fd;
}

int fs_open_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
        return openat2_in_root(rootfd, path, (uint64_t)(flags | O_CLOEXEC), mode);
}

/* Walk path one component at a time below rootfd, creating directories. Each prefix is resolved
 * from rootfd with RESOLVE_IN_ROOT, so an absolute symlink anywhere on the way (/var/run -> /run)
 * resolves as it would inside the container and never leads outside. */
static int walk_mkdir_depth(int rootfd, const char *path, mode_t mode, bool last_is_file,
                            mode_t fmode, int depth);

/* A dangling symlink on the way (/var/run -> /run with no /run yet): create its target inside
 * the root and carry on with the rest of the path from there. */
static int follow_dangling(int rootfd, int dirfd, const char *prefix, const char *name,
                           const char *rest, mode_t mode, bool last_is_file, mode_t fmode,
                           int depth)
{
        char target[4096];
        ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
        if (n < 0)
                return -errno;
        target[n] = '\0';
        _cleanup_free_ char *next = NULL;
        int r;
        if (target[0] == '/') {
                r = asprintf(&next, "%s/%s", target, rest);
        } else {
                /* Relative: from the directory holding the link (prefix minus its last name). */
                size_t plen = strlen(prefix) - strlen(name);
                r = asprintf(&next, "%.*s%s/%s", (int)plen, prefix, target, rest);
        }
        if (r < 0)
                return -ENOMEM;
        return walk_mkdir_depth(rootfd, next, mode, last_is_file, fmode, depth + 1);
}

static int walk_mkdir(int rootfd, const char *path, mode_t mode, bool last_is_file, mode_t fmode)
{
        return walk_mkdir_depth(rootfd, path, mode, last_is_file, fmode, 0);
}

static int walk_mkdir_depth(int rootfd, const char *path, mode_t mode, bool last_is_file,
                            mode_t fmode, int depth)
{
        if (depth > 40)
                return -ELOOP;
        _cleanup_free_ char *prefix = strdup(path);
        if (prefix == NULL)
                return -ENOMEM;
        _cleanup_close_ int cur = openat2_in_root(rootfd, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        if (cur < 0)
                return cur;
        char *p = prefix;
        while (*p == '/')
                p++;
        while (*p != '\0') {
                char *end = strchr(p, '/');
                bool last = end == NULL;
                while (end != NULL && end[1] == '/')
                        end++;
                if (end != NULL && end[1] == '\0')
                        last = true;
                char saved = end ? *end : '\0';
                if (end != NULL)
                        *end = '\0';
                /* prefix now names the path up to this component; p is the component. */
                int fd;
                if (last && last_is_file) {
                        fd = openat2_in_root(rootfd, prefix, O_PATH | O_CLOEXEC, 0);
                        if (fd == -ENOENT) {
                                int c = openat2_in_root(cur, p, O_CREAT | O_WRONLY | O_EXCL, fmode);
                                if (c < 0 && c != -EEXIST)
                                        return c;
                                if (c >= 0)
                                        close(c);
                                fd = openat2_in_root(rootfd, prefix, O_PATH | O_CLOEXEC, 0);
                        }
                        return fd;
                }
                fd = openat2_in_root(rootfd, prefix, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
                if (fd == -ENOENT) {
                        /* cur was itself resolved in root and p has no slash: safe. */
                        if (mkdirat(cur, p, mode) < 0) {
                                if (errno != EEXIST)
                                        return -errno;
                                struct stat st;
                                if (fstatat(cur, p, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                                    S_ISLNK(st.st_mode))
                                        return follow_dangling(rootfd, cur, prefix, p,
                                                               end ? end + 1 : "", mode,
                                                               last_is_file, fmode, depth);
                        }
                        fd = openat2_in_root(rootfd, prefix, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
                }
                if (fd < 0)
                        return fd;
                close(cur);
                cur = fd;
                if (end == NULL || last)
                        break;
                *end = saved;
                p = end + 1;
        }
        return TAKE_FD(cur);
}

int fs_mkdir_in_root(int rootfd, const char *path, mode_t mode)
{
        return walk_mkdir(rootfd, path, mode, false, 0);
}

int fs_touch_in_root(int rootfd, const char *path, mode_t mode)
{
        return walk_mkdir(rootfd, path, 0755, true, mode);
}

char *fs_fd_path(int fd, char *buf, size_t size)
{
        snprintf(buf, size, "/proc/self/fd/%d", fd);
        return buf;
}

static int rm_rf_at(int dirfd, const char *name, dev_t dev)
{
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        if (st.st_dev != dev)
                return -EXDEV;
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (d == NULL) {
                close(fd);
                return -errno;
        }
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                int q = rm_rf_at(fd, de->d_name, dev);
                if (q < 0 && r == 0)
                        r = q;
        }
        closedir(d);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = -errno;
        return r;
}

int fs_rm_rf(const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        return rm_rf_at(AT_FDCWD, path, st.st_dev);
}

bool fs_exists(const char *path)
{
        return access(path, F_OK) == 0;
}
