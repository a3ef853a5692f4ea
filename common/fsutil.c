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

static int read_all_fd(int fd, char **out, size_t *len)
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
        int r = read_all_fd(fd, out, len);
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
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
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

/* Walk path one component at a time below rootfd, creating directories; each step is resolved
 * with RESOLVE_IN_ROOT so a symlink component can never lead outside. */
static int walk_mkdir(int rootfd, const char *path, mode_t mode, bool last_is_file, mode_t fmode)
{
        _cleanup_free_ char *copy = strdup(path);
        if (copy == NULL)
                return -ENOMEM;
        _cleanup_close_ int cur = openat2_in_root(rootfd, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        if (cur < 0)
                return cur;
        char *save = NULL;
        char *tok = strtok_r(copy, "/", &save);
        while (tok != NULL) {
                char *next = strtok_r(NULL, "/", &save);
                bool last = next == NULL;
                if (last && last_is_file) {
                        int fd = openat2_in_root(cur, tok, O_PATH | O_CLOEXEC, 0);
                        if (fd == -ENOENT) {
                                int c = openat2_in_root(cur, tok,
                                                        O_CREAT | O_WRONLY | O_CLOEXEC | O_EXCL,
                                                        fmode);
                                if (c < 0 && c != -EEXIST)
                                        return c;
                                if (c >= 0)
                                        close(c);
                                fd = openat2_in_root(cur, tok, O_PATH | O_CLOEXEC, 0);
                        }
                        return fd;
                }
                int fd = openat2_in_root(cur, tok, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
                if (fd == -ENOENT) {
                        /* mkdirat on a dirfd that was itself resolved in root is safe: tok has no
                         * slash, and an existing symlink makes mkdirat fail with EEXIST. */
                        if (mkdirat(cur, tok, mode) < 0 && errno != EEXIST)
                                return -errno;
                        fd = openat2_in_root(cur, tok, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
                }
                if (fd < 0)
                        return fd;
                close(cur);
                cur = fd;
                tok = next;
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
