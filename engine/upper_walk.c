/* The overlay upper dir walked as dockerd's pkg/archive walks it, the runtime's mount points left
 * out. */
#include "engine/upper_walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"

int eng_layers_open(const char *upper, char *const *lowers, struct eng_layers *l, struct gerr **err)
{
        l->n = 0;
        l->lower = NULL;
        l->upper = open(upper, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (l->upper < 0)
                return gerr_set(err, errno, "open %s", upper);
        size_t n = 0;
        while (lowers != NULL && lowers[n] != NULL)
                n++;
        l->lower = calloc(n + 1, sizeof(int));
        if (l->lower == NULL) {
                eng_layers_close(l);
                return gerr_set(err, ENOMEM, "layers");
        }
        for (size_t i = 0; i < n; i++) {
                l->lower[i] = open(lowers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (l->lower[i] < 0) {
                        int r = gerr_set(err, errno, "open %s", lowers[i]);
                        eng_layers_close(l);
                        return r;
                }
                l->n++;
        }
        return 0;
}

void eng_layers_close(struct eng_layers *l)
{
        if (l->upper >= 0)
                close(l->upper);
        for (size_t i = 0; i < l->n; i++)
                close(l->lower[i]);
        free(l->lower);
        l->upper = -1;
        l->lower = NULL;
        l->n = 0;
}

bool eng_layers_lower_stat(const struct eng_layers *l, const char *path, struct stat *st)
{
        for (size_t i = 0; i < l->n; i++) {
                _cleanup_close_ int fd = fs_open_in_root(l->lower[i], path, O_PATH, 0);
                if (fd >= 0 && fstat(fd, st) == 0)
                        return true;
        }
        return false;
}

/* dockerd's initlayer paths, and the directories holding them. */
static const char *const stub_files[] = {"/etc/hosts",   "/etc/hostname", "/etc/resolv.conf",
                                         "/dev/console", "/.dockerenv",   "/etc/mtab"};
static const char *const stub_dirs[] = {"/dev/pts", "/dev/shm", "/proc", "/sys", "/dev", "/etc"};

static bool in_list(const char *path, const char *const *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(path, v[i]) == 0)
                        return true;
        return false;
}

static bool stub_dir_only(const struct eng_layers *l, int parent, const char *name,
                          const char *path, int depth);

/* A mount point the runtime made: empty, in the list, and either absent below or a directory
 * that differs from the lower one only by holding such mount points. */
static bool is_stub(const struct eng_layers *l, int dirfd, const char *name, const char *path,
                    const struct stat *st, int depth)
{
        struct stat lst;
        bool below = eng_layers_lower_stat(l, path, &lst);
        if (S_ISDIR(st->st_mode)) {
                if (!in_list(path, stub_dirs, sizeof(stub_dirs) / sizeof(stub_dirs[0])))
                        return false;
                if (below && lst.st_mode != st->st_mode)
                        return false;
                return stub_dir_only(l, dirfd, name, path, depth);
        }
        if (below || !in_list(path, stub_files, sizeof(stub_files) / sizeof(stub_files[0])))
                return false;
        return (S_ISREG(st->st_mode) && st->st_size == 0) ||
               (S_ISLNK(st->st_mode) && strcmp(path, "/etc/mtab") == 0);
}

static bool stub_dir_only(const struct eng_layers *l, int parent, const char *name,
                          const char *path, int depth)
{
        if (depth > 4)
                return false;
        int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (d == NULL) {
                if (fd >= 0)
                        close(fd);
                return false;
        }
        bool only = true;
        struct dirent *de;
        while (only && (de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                struct stat st;
                _cleanup_free_ char *child = NULL;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    asprintf(&child, "%s/%s", path, de->d_name) < 0)
                        only = false;
                else
                        only = is_stub(l, dirfd(d), de->d_name, child, &st, depth + 1);
        }
        closedir(d);
        return only;
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

/* The names in dirfd, sorted. */
static int read_names(int dirfd, char ***out, size_t *n, struct gerr **err)
{
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (d == NULL) {
                int r = gerr_set(err, errno, "read directory");
                if (fd >= 0)
                        close(fd);
                return r;
        }
        char **v = NULL;
        size_t cnt = 0;
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                char **nv = realloc(v, (cnt + 1) * sizeof(*nv));
                if (nv == NULL || (nv[cnt] = strdup(de->d_name)) == NULL) {
                        v = nv ? nv : v;
                        r = gerr_set(err, ENOMEM, "read directory");
                        break;
                }
                v = nv;
                cnt++;
        }
        closedir(d);
        if (r < 0) {
                names_free(v, cnt);
                return r;
        }
        if (cnt > 1)
                qsort(v, cnt, sizeof(*v), cmp_names);
        *out = v;
        *n = cnt;
        return 0;
}

static int walk_dir(const struct eng_layers *l, int dirfd, const char *prefix, eng_upper_fn fn,
                    void *ud, struct gerr **err)
{
        char **names = NULL;
        size_t n = 0;
        int r = read_names(dirfd, &names, &n, err);
        if (r < 0)
                return gerr_wrap(err, "%s", *prefix ? prefix : "/");
        for (size_t i = 0; r == 0 && i < n; i++) {
                _cleanup_free_ char *path = NULL;
                struct stat st;
                if (asprintf(&path, "%s/%s", prefix, names[i]) < 0) {
                        r = gerr_set(err, ENOMEM, "walk");
                        break;
                }
                if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = gerr_set(err, errno, "stat %s", path);
                        break;
                }
                if (is_stub(l, dirfd, names[i], path, &st, 0))
                        continue;
                struct eng_upper_entry e = {
                    .path = path, .dirfd = dirfd, .name = names[i], .st = &st};
                e.whiteout =
                    S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0;
                _cleanup_close_ int sub = -1;
                if (S_ISDIR(st.st_mode)) {
                        sub = openat(dirfd, names[i],
                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0) {
                                r = gerr_set(err, errno, "open %s", path);
                                break;
                        }
                        char v[4], proc[64];
                        ssize_t vn = getxattr(fs_fd_path(sub, proc, sizeof(proc)),
                                              "trusted.overlay.opaque", v, sizeof(v));
                        e.opaque = vn == 1 && v[0] == 'y';
                }
                r = fn(&e, ud);
                if (r == 0 && sub >= 0)
                        r = walk_dir(l, sub, path, fn, ud, err);
        }
        names_free(names, n);
        return r;
}

int eng_upper_walk(const struct eng_layers *l, eng_upper_fn fn, void *ud, struct gerr **err)
{
        _cleanup_close_ int fd = openat(l->upper, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return gerr_set(err, errno, "open upper dir");
        return walk_dir(l, fd, "", fn, ud, err);
}
