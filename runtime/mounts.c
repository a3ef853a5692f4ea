/* config.json mounts: every type and option, confined to the rootfs (runc 1.1 semantics). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runtime/rootfs_internal.h"

static bool streq(const char *a, const char *b)
{
        return a != NULL && strcmp(a, b) == 0;
}

void rt_path_clean(const char *in, char *out, size_t size)
{
        size_t n = 0;
        out[n++] = '/';
        for (const char *p = in; *p != '\0';) {
                while (*p == '/')
                        p++;
                if (*p == '\0')
                        break;
                const char *e = strchrnul(p, '/');
                size_t len = (size_t)(e - p);
                if (len == 1 && p[0] == '.') {
                        /* nothing */
                } else if (len == 2 && p[0] == '.' && p[1] == '.') {
                        while (n > 0 && out[n - 1] != '/')
                                n--;
                        if (n > 1)
                                n--;
                } else if (n + len + 2 <= size) {
                        if (n > 1)
                                out[n++] = '/';
                        memcpy(out + n, p, len);
                        n += len;
                }
                p = e;
        }
        out[n] = '\0';
}

int rt_mount_setattr(int fd, bool recursive, uint64_t set, uint64_t clr, uint64_t propagation)
{
        struct mount_attr attr = {.attr_set = set, .attr_clr = clr, .propagation = propagation};
        unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
        if (syscall(SYS_mount_setattr, fd, "", flags, &attr, sizeof(attr)) < 0)
                return -errno;
        return 0;
}

bool rt_mounts_binds_dev(const struct rt_spec *s)
{
        char dest[PATH_MAX];
        for (size_t i = 0; i < s->n_mounts; i++) {
                const struct rt_mount *m = &s->mounts[i];
                bool bind =
                    (m->flags & MS_BIND) || streq(m->type, "bind") || streq(m->type, "rbind");
                if (!bind)
                        continue;
                rt_path_clean(m->destination, dest, sizeof(dest));
                if (strcmp(dest, "/dev") == 0)
                        return true;
        }
        return false;
}

/* One rt_mounts_apply run. */
struct mctx {
        int rootfd;
        const struct rt_spec *s;
        bool proc_seen; /* a procfs is mounted in the rootfs: destinations may resolve into it */
        struct rt_cgroup_barrier *barrier;
};

/* runc's checkProcMount: nothing may be mounted below /proc except the files lxcfs emulates,
 * and a bind on /proc itself must come from a procfs. */
static int check_proc_dest(const struct rt_mount *m, const char *dest, bool bind, struct gerr **err)
{
        static const char *const allowed[] = {
            "/proc/cpuinfo", "/proc/diskstats",
            "/proc/meminfo", "/proc/stat",
            "/proc/swaps",   "/proc/uptime",
            "/proc/loadavg", "/proc/slabinfo",
            "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
        };
        if (strncmp(dest, "/proc", 5) != 0 || (dest[5] != '\0' && dest[5] != '/'))
                return 0;
        if (dest[5] == '\0') {
                struct statfs sf;
                if (!bind || (m->source != NULL && statfs(m->source, &sf) == 0 &&
                              sf.f_type == PROC_SUPER_MAGIC))
                        return 0;
                return gerr_set(err, 0, "\"%s\" cannot be mounted because it is not of type proc",
                                dest);
        }
        for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
                if (strcmp(dest, allowed[i]) == 0)
                        return 0;
        return gerr_set(err, 0, "\"%s\" cannot be mounted because it is inside /proc", dest);
}

/* runc checks the destination with symlinks resolved: one outside /proc on paper may lead
 * into the procfs mounted earlier. fstatfs of the opened mount point tells, and is only
 * needed once a procfs is there. */
static int check_not_in_proc(const struct mctx *mc, int fd, const char *dest, struct gerr **err)
{
        struct statfs sf;
        if (!mc->proc_seen ||
            (strncmp(dest, "/proc", 5) == 0 && (dest[5] == '\0' || dest[5] == '/')))
                return 0;
        if (fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC)
                return gerr_set(err, 0, "\"%s\" cannot be mounted because it is inside /proc",
                                dest);
        return 0;
}

/* mkdir -p of a clean absolute path below rootfd. Every open resolves the whole path from
 * the rootfs (RESOLVE_IN_ROOT), so an absolute symlink deeper in the path (/var/run -> /run)
 * means what it means inside the container; the common case (it exists) is one openat2. */
/* Split a clean absolute path into its parent ("/" for top-level names) and last name. */
static int split_parent(const char *path, char parent[PATH_MAX], const char **name)
{
        const char *slash = strrchr(path, '/');
        if (slash == NULL || slash[1] == '\0')
                return -EINVAL;
        size_t plen = slash == path ? 1 : (size_t)(slash - path);
        if (plen >= PATH_MAX)
                return -ENAMETOOLONG;
        memcpy(parent, path, plen);
        parent[plen] = '\0';
        *name = slash + 1;
        return 0;
}

/* path is known to be missing: create it (and its missing parents). */
static int mkdir_missing(int rootfd, const char *path, mode_t mode)
{
        char parent[PATH_MAX];
        const char *name;
        int r = split_parent(path, parent, &name);
        if (r < 0)
                return r == -EINVAL ? -ENOENT : r;
        _cleanup_close_ int pfd = rt_mkdir_in_root(rootfd, parent, mode);
        if (pfd < 0)
                return pfd;
        if (mkdirat(pfd, name, mode) < 0 && errno != EEXIST)
                return -errno;
        return fs_open_in_root(rootfd, path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
}

int rt_mkdir_in_root(int rootfd, const char *path, mode_t mode)
{
        int fd = fs_open_in_root(rootfd, path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        if (fd != -ENOENT)
                return fd;
        return mkdir_missing(rootfd, path, mode);
}

/* An empty regular file at path (parents created); returns its O_PATH fd. */
static int touch_in_root(int rootfd, const char *path, mode_t mode)
{
        char parent[PATH_MAX];
        const char *name;
        int r = split_parent(path, parent, &name);
        if (r < 0)
                return r;
        _cleanup_close_ int pfd = rt_mkdir_in_root(rootfd, parent, 0755);
        if (pfd < 0)
                return pfd;
        /* mknod S_IFREG creates without opening: nothing that races in gets opened. */
        if (mknodat(pfd, name, S_IFREG | mode, 0) < 0 && errno != EEXIST)
                return -errno;
        return fs_open_in_root(rootfd, path, O_PATH | O_CLOEXEC, 0);
}

/* The mount point, created when missing: a directory, or an empty file for non-directory
 * bind sources. O_NOFOLLOW|O_DIRECTORY for proc/sysfs refuses a symlinked destination. */
static int open_dest(int rootfd, const char *dest, bool dir, int extra_flags)
{
        int fd = fs_open_in_root(rootfd, dest, O_PATH | O_CLOEXEC | extra_flags, 0);
        if (fd != -ENOENT)
                return fd;
        return dir ? mkdir_missing(rootfd, dest, 0755) : touch_in_root(rootfd, dest, 0644);
}

/* MS_REMOUNT replaces every per-mount flag; in a user namespace the kernel refuses to drop
 * flags locked by the parent, so retry with the ones the mount already has (as runc does). */
int rt_remount(const char *path, unsigned long flags)
{
        if (mount(NULL, path, NULL, flags | MS_REMOUNT, NULL) == 0)
                return 0;
        if (errno != EPERM)
                return -errno;
        struct statvfs sv;
        if (statvfs(path, &sv) < 0)
                return -EPERM;
        flags |= sv.f_flag & (ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NOATIME |
                              ST_NODIRATIME | ST_RELATIME);
        if (mount(NULL, path, NULL, flags | MS_REMOUNT, NULL) < 0)
                return -errno;
        return 0;
}

/* What the kernel applies only on an existing mount: bind flags, recursive attributes,
 * propagation. The destination is opened again so that the fd names the new mount's root. */
static int finish_mount(struct mctx *mc, const struct rt_mount *m, const char *dest,
                        unsigned long remount_flags, const char *what, struct gerr **err)
{
        if (remount_flags == 0 && m->propagation == 0 && m->rec_attr_set == 0 &&
            m->rec_attr_clr == 0)
                return 0;
        _cleanup_close_ int fd = fs_open_in_root(mc->rootfd, dest, O_PATH | O_CLOEXEC, 0);
        if (fd < 0)
                return gerr_set(err, -fd, "mount %s on %s%s", m->source ? m->source : m->type,
                                m->destination, what);
        struct rt_fdpath fp;
        const char *p = rt_fdpath(&fp, fd);
        int r;
        if (remount_flags != 0 && (r = rt_remount(p, remount_flags)) < 0)
                return gerr_set(err, -r, "remount %s%s", m->destination, what);
        if ((m->rec_attr_set | m->rec_attr_clr) != 0 &&
            (r = rt_mount_setattr(fd, true, m->rec_attr_set, m->rec_attr_clr, 0)) < 0)
                return gerr_set(err, -r, "set recursive attributes of %s", m->destination);
        if (m->propagation != 0 && mount(NULL, p, NULL, m->propagation, NULL) < 0)
                return gerr_set(err, errno, "set propagation of %s", m->destination);
        return 0;
}

static int mount_bind(struct mctx *mc, const struct rt_mount *m, const char *dest,
                      struct gerr **err)
{
        const char *src = m->source != NULL ? m->source : "";
        unsigned long rec = (m->flags & MS_REC) || streq(m->type, "rbind") ? MS_REC : 0;
        struct stat st;
        if (stat(src, &st) < 0)
                return gerr_set(err, errno, "mount %s on %s (bind)", src, m->destination);
        _cleanup_close_ int fd = open_dest(mc->rootfd, dest, S_ISDIR(st.st_mode), 0);
        if (fd < 0)
                return gerr_set(err, -fd, "mount %s on %s (bind)", src, m->destination);
        int r = check_not_in_proc(mc, fd, dest, err);
        if (r < 0)
                return r;
        struct rt_fdpath fp;
        if (mount(src, rt_fdpath(&fp, fd), NULL, MS_BIND | rec, NULL) < 0)
                return gerr_set(err, errno, "mount %s on %s (bind)", src, m->destination);
        /* A bind ignores every other flag: they take a remount (runc remounts only then). */
        unsigned long flags = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT | RT_PROPAGATION_MASK);
        if (m->nosymfollow)
                flags |= MS_NOSYMFOLLOW;
        return finish_mount(mc, m, dest, flags != 0 ? flags | MS_BIND : 0, " (bind)", err);
}

/* Copy the image directory's contents into the fresh tmpfs (tmpcopyup), keeping owners and
 * modes. src is a readable fd of the shadowed directory, dst of the tmpfs root. */
static int copy_tree(int src, int dst)
{
        int dfd = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        DIR *d = fdopendir(dfd);
        if (d == NULL) {
                close(dfd);
                return -errno;
        }
        int r = 0;
        struct dirent *de = NULL;
        while (r == 0 && (errno = 0, de = readdir(d)) != NULL) {
                const char *name = de->d_name;
                if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                        continue;
                struct stat st;
                if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        break;
                }
                mode_t mode = st.st_mode & 07777;
                if (S_ISDIR(st.st_mode)) {
                        if (mkdirat(dst, name, 0700) < 0 && errno != EEXIST) {
                                r = -errno;
                                break;
                        }
                        _cleanup_close_ int s2 =
                            openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        _cleanup_close_ int d2 =
                            openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (s2 < 0 || d2 < 0)
                                r = -errno;
                        else if ((r = copy_tree(s2, d2)) == 0 &&
                                 (fchown(d2, st.st_uid, st.st_gid) < 0 || fchmod(d2, mode) < 0))
                                r = -errno;
                } else if (S_ISREG(st.st_mode)) {
                        _cleanup_close_ int in =
                            openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        _cleanup_close_ int out = openat(
                            dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                        if (in < 0 || out < 0) {
                                r = -errno;
                                break;
                        }
                        bool cfr = true; /* copy_file_range refuses to cross filesystems */
                        for (off_t left = st.st_size; left > 0;) {
                                ssize_t n =
                                    cfr ? copy_file_range(in, NULL, out, NULL, (size_t)left, 0)
                                        : sendfile(out, in, NULL, (size_t)left);
                                if (n < 0 && errno == EINTR)
                                        continue;
                                if (n < 0 && cfr &&
                                    (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
                                     errno == EOPNOTSUPP)) {
                                        cfr = false;
                                        continue;
                                }
                                if (n <= 0) {
                                        r = n < 0 ? -errno : 0;
                                        break;
                                }
                                left -= n;
                        }
                        if (r == 0 &&
                            (fchown(out, st.st_uid, st.st_gid) < 0 || fchmod(out, mode) < 0))
                                r = -errno;
                } else if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);
                        if (n < 0) {
                                r = -errno;
                                break;
                        }
                        target[n] = '\0';
                        if (symlinkat(target, dst, name) < 0 ||
                            fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                                r = -errno;
                } else {
                        if (mknodat(dst, name, st.st_mode, st.st_rdev) < 0 ||
                            fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                            fchmodat(dst, name, mode, 0) < 0)
                                r = -errno;
                }
        }
        if (r == 0 && errno != 0 && de == NULL)
                r = -errno;
        closedir(d);
        return r;
}

/* Any filesystem type: proc, sysfs, tmpfs, devpts, mqueue, cgroup2, overlay, ... */
static int mount_fs(struct mctx *mc, const struct rt_mount *m, const char *dest, struct gerr **err)
{
        const char *type = m->type;
        const char *src = m->source != NULL ? m->source : type;
        bool procfs = streq(type, "proc") || streq(type, "sysfs");
        bool copyup = m->tmpcopyup && streq(type, "tmpfs");
        unsigned long flags = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT | RT_PROPAGATION_MASK);
        if (m->nosymfollow)
                flags |= MS_NOSYMFOLLOW;
        /* /dev stays writable until the device nodes exist; finalize makes it read-only. */
        if (strcmp(dest, "/dev") == 0)
                flags &= ~MS_RDONLY;

        int extra = procfs ? O_NOFOLLOW | O_DIRECTORY : 0;
        if (copyup)
                extra = O_RDONLY | O_DIRECTORY; /* readable: we list what the tmpfs hides */
        int fd0 = fs_open_in_root(mc->rootfd, dest, (copyup ? 0 : O_PATH) | O_CLOEXEC | extra, 0);
        bool existed = fd0 >= 0;
        if (fd0 == -ENOENT)
                fd0 = mkdir_missing(mc->rootfd, dest, 0755);
        _cleanup_close_ int fd = fd0;
        if (fd < 0) {
                if (procfs && fd == -ENOTDIR)
                        return gerr_set(err, 0,
                                        "mount %s on %s: filesystem %s must be mounted on an "
                                        "ordinary directory",
                                        src, m->destination, type);
                return gerr_set(err, -fd, "mount %s on %s", src, m->destination);
        }
        if (!streq(type, "proc")) {
                int r = check_not_in_proc(mc, fd, dest, err);
                if (r < 0)
                        return r;
        }

        /* runc: a tmpfs over an existing directory keeps that directory's mode unless the
         * options say otherwise (later mode= wins). */
        _cleanup_free_ char *data_buf = NULL;
        const char *data = m->data;
        if (streq(type, "tmpfs") && existed && (data == NULL || strstr(data, "mode=") == NULL)) {
                struct stat st;
                if (fstat(fd, &st) == 0 && asprintf(&data_buf, "mode=%04o%s%s", st.st_mode & 07777,
                                                    data ? "," : "", data ? data : "") >= 0)
                        data = data_buf;
        }

        struct rt_fdpath fp;
        if (mount(src, rt_fdpath(&fp, fd), type, flags, data) < 0) {
                int e = errno;
                if (e == EPERM && streq(type, "sysfs")) {
                        /* No sysfs of our own without owning the network namespace (a user
                         * namespace without a new netns): show the host's, as runc does. */
                        const struct rt_namespace *ns = rt_spec_namespace(mc->s, CLONE_NEWNET);
                        if (ns == NULL || ns->path != NULL) {
                                struct rt_mount b = *m;
                                b.source = (char *)"/sys";
                                b.type = (char *)"bind";
                                b.flags |= MS_BIND | MS_REC;
                                return mount_bind(mc, &b, dest, err);
                        }
                }
                return gerr_set(err, e, "mount %s on %s", src, m->destination);
        }
        if (copyup) {
                _cleanup_close_ int nfd =
                    fs_open_in_root(mc->rootfd, dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
                int r = nfd < 0 ? nfd : copy_tree(fd, nfd);
                if (r < 0)
                        return gerr_set(err, -r, "tmpcopyup %s", m->destination);
        }
        return finish_mount(mc, m, dest, 0, "", err);
}

/* The cgroup lines of /proc/self/cgroup ("N:controllers:/path"), in file order. */
struct cg_line {
        char *ctrls; /* "cpu,cpuacct", "name=systemd", "" for the unified hierarchy */
        char *path;
};

static int read_self_cgroup(char **buf, struct cg_line *lines, size_t max, size_t *n,
                            struct gerr **err)
{
        size_t len;
        int r = fs_read_file("/proc/self/cgroup", buf, &len, err);
        if (r < 0)
                return r;
        *n = 0;
        for (char *save = NULL, *l = strtok_r(*buf, "\n", &save); l != NULL && *n < max;
             l = strtok_r(NULL, "\n", &save)) {
                char *c = strchr(l, ':');
                char *p = c ? strchr(c + 1, ':') : NULL;
                if (p == NULL)
                        continue;
                *p = '\0';
                lines[*n].ctrls = c + 1;
                lines[(*n)++].path = p + 1;
        }
        return 0;
}

/* type "cgroup". v2 host: a cgroup2 mount (its root is our cgroup namespace's root), or a
 * bind of our own cgroup directory when the kernel refuses. v1/hybrid host (runc 1.1): a
 * tmpfs holding, per v1 hierarchy, a bind of the container's own cgroup directory (or a fresh
 * cgroup mount when the container has its own cgroup namespace), co-mounted controllers
 * reachable through symlinks, all read-only when the mount says "ro". The v2 tree of a
 * hybrid host is left out, as runc 1.1 does. */
static int mount_cgroup(struct mctx *mc, const struct rt_mount *m, const char *dest,
                        struct gerr **err)
{
        struct statfs sf;
        if (statfs("/sys/fs/cgroup", &sf) < 0)
                return gerr_set(err, errno, "mount cgroup on %s: statfs /sys/fs/cgroup",
                                m->destination);
        _cleanup_free_ char *buf = NULL;
        struct cg_line lines[32];
        size_t n = 0;
        char path[PATH_MAX];
        if (sf.f_type == CGROUP2_SUPER_MAGIC) {
                struct rt_mount c = *m;
                c.type = (char *)"cgroup2";
                c.source = (char *)"cgroup2";
                struct gerr *e = NULL;
                int r = mount_fs(mc, &c, dest, &e);
                if (r != -EPERM && r != -EBUSY) {
                        if (e != NULL)
                                *err = e;
                        return r;
                }
                gerr_free(e);
                if ((r = read_self_cgroup(&buf, lines, ARRAY_SIZE(lines), &n, err)) < 0)
                        return r;
                for (size_t i = 0; i < n; i++) {
                        if (lines[i].ctrls[0] != '\0')
                                continue;
                        int sn = snprintf(path, sizeof(path), "/sys/fs/cgroup%s", lines[i].path);
                        if (sn < 0 || (size_t)sn >= sizeof(path))
                                break;
                        struct rt_mount b = *m;
                        b.source = path;
                        b.flags |= MS_BIND | MS_REC;
                        return mount_bind(mc, &b, dest, err);
                }
                return gerr_set(err, ENOENT, "mount cgroup on %s: no unified cgroup",
                                m->destination);
        }

        struct rt_mount t = {
            .destination = m->destination,
            .type = (char *)"tmpfs",
            .source = (char *)"tmpfs",
            .flags = MS_NOSUID | MS_NODEV | MS_NOEXEC,
            .data = (char *)"mode=755",
            .propagation = m->propagation,
        };
        int r = mount_fs(mc, &t, dest, err);
        if (r < 0)
                return r;
        if ((r = read_self_cgroup(&buf, lines, ARRAY_SIZE(lines), &n, err)) < 0)
                return r;
        const struct rt_namespace *cgns = rt_spec_namespace(mc->s, CLONE_NEWCGROUP);
        _cleanup_close_ int cgfd =
            fs_open_in_root(mc->rootfd, dest, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        if (cgfd < 0)
                return gerr_set(err, -cgfd, "mount cgroup on %s", m->destination);
        for (size_t i = 0; i < n; i++) {
                const char *ctrls = lines[i].ctrls;
                if (ctrls[0] == '\0')
                        continue;
                const char *dir = strncmp(ctrls, "name=", 5) == 0 ? ctrls + 5 : ctrls;
                char sub[PATH_MAX];
                int sn = snprintf(sub, sizeof(sub), "%s/%s", dest, dir);
                if (sn < 0 || (size_t)sn >= sizeof(sub))
                        return gerr_set(err, ENAMETOOLONG, "mount cgroup on %s", m->destination);
                if (cgns != NULL) {
                        struct rt_mount c = {
                            .destination = sub,
                            .type = (char *)"cgroup",
                            .source = (char *)"cgroup",
                            .flags =
                                (m->flags & ~(MS_BIND | MS_REC)) | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                            .data = (char *)ctrls,
                            .propagation = m->propagation,
                        };
                        r = mount_fs(mc, &c, sub, err);
                } else {
                        sn =
                            snprintf(path, sizeof(path), "/sys/fs/cgroup/%s%s", dir, lines[i].path);
                        if (sn < 0 || (size_t)sn >= sizeof(path))
                                continue;
                        struct stat st;
                        if (stat(path, &st) < 0)
                                continue; /* hierarchy not mounted where the host keeps them */
                        struct rt_mount b = {
                            .destination = sub,
                            .source = path,
                            .flags = MS_BIND | MS_REC | m->flags,
                            .propagation = m->propagation,
                        };
                        r = mount_bind(mc, &b, sub, err);
                }
                if (r < 0)
                        return r;
                /* "cpu,cpuacct" is also reachable as cpu and cpuacct. */
                if (strchr(dir, ',') != NULL) {
                        _cleanup_free_ char *names = strdup(dir);
                        if (names == NULL)
                                return gerr_set(err, ENOMEM, "mount cgroup on %s", m->destination);
                        for (char *sv = NULL, *c = strtok_r(names, ",", &sv); c != NULL;
                             c = strtok_r(NULL, ",", &sv))
                                if (symlinkat(dir, cgfd, c) < 0 && errno != EEXIST)
                                        return gerr_set(err, errno, "symlink %s/%s", dest, c);
                }
        }
        if (m->flags & MS_RDONLY) {
                struct rt_fdpath fp;
                if ((r = rt_remount(rt_fdpath(&fp, cgfd),
                                    MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)) < 0)
                        return gerr_set(err, -r, "remount %s read-only", m->destination);
        }
        return 0;
}

static int mount_one(struct mctx *mc, const struct rt_mount *m, struct gerr **err)
{
        if (m->destination == NULL || m->destination[0] == '\0')
                return gerr_set(err, EINVAL, "mount without a destination");
        if (m->n_uid_mappings > 0 || m->n_gid_mappings > 0)
                return gerr_set(err, EOPNOTSUPP, "mount %s on %s: idmapped mounts",
                                m->source ? m->source : "", m->destination);
        char dest[PATH_MAX];
        rt_path_clean(m->destination, dest, sizeof(dest));
        bool bind = (m->flags & MS_BIND) || streq(m->type, "bind") || streq(m->type, "rbind");
        if (!streq(m->type, "proc")) {
                int r = check_proc_dest(m, dest, bind, err);
                if (r < 0)
                        return r;
        }
        if (bind)
                return mount_bind(mc, m, dest, err);
        if (m->type == NULL || m->type[0] == '\0')
                return gerr_set(err, EINVAL, "mount %s on %s: no type", m->source ? m->source : "",
                                m->destination);
        if (streq(m->type, "cgroup")) {
                if (mc->barrier != NULL && mc->barrier->wait != NULL) {
                        int r = mc->barrier->wait(mc->barrier->arg, err);
                        mc->barrier->wait = NULL;
                        if (r < 0)
                                return r;
                }
                return mount_cgroup(mc, m, dest, err);
        }
        int r = mount_fs(mc, m, dest, err);
        if (r == 0 && streq(m->type, "proc"))
                mc->proc_seen = true;
        return r;
}

int rt_mounts_apply(int rootfd, const struct rt_spec *s, struct rt_cgroup_barrier *b,
                    struct gerr **err)
{
        struct mctx mc = {.rootfd = rootfd, .s = s, .barrier = b};
        for (size_t i = 0; i < s->n_mounts; i++) {
                int r = mount_one(&mc, &s->mounts[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}
