/* The container's root: propagation, rootfs bind, pivot_root, sysctl, masked/readonly paths. */
#include "runtime/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runtime/rootfs_internal.h"

/* pivot_root(2) refuses a new root whose parent mount is shared, and a bind under a shared
 * parent would propagate to the host: make the mount holding the rootfs private. Only
 * reachable with a shared or non-recursive rootfsPropagation (after the default rslave no
 * mount is shared), so the mount is found with statx instead of reading mountinfo. */
static int parent_mount_private(const char *root, struct gerr **err)
{
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s", root);
        for (;;) {
                struct statx stx;
                bool top = strcmp(p, "/") == 0;
                if (!top && statx(AT_FDCWD, p, 0, STATX_TYPE, &stx) < 0)
                        return gerr_set(err, errno, "statx %s", p);
                if (top ||
                    (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT & stx.stx_attributes) != 0) {
                        if (mount(NULL, p, NULL, MS_PRIVATE, NULL) < 0)
                                return gerr_set(err, errno, "make %s private", p);
                        return 0;
                }
                char *slash = strrchr(p, '/');
                if (slash == p)
                        slash[1] = '\0';
                else
                        *slash = '\0';
        }
}

int rt_rootfs_prepare(const struct rt_spec *s, struct rt_cgroup_barrier *b, struct gerr **err)
{
        const char *root = s->root_path;
        if (root == NULL || root[0] != '/')
                return gerr_set(err, EINVAL, "root path %s is not absolute",
                                root ? root : "(none)");
        unsigned long prop = s->linux.rootfs_propagation;
        if (prop == 0)
                prop = MS_SLAVE | MS_REC;
        if (mount(NULL, "/", NULL, prop, NULL) < 0)
                return gerr_set(err, errno, "set propagation of /");
        if ((prop & MS_SHARED) || !(prop & MS_REC)) {
                int r = parent_mount_private(root, err);
                if (r < 0)
                        return r;
        }
        /* pivot_root needs the new root to be a mount point. */
        if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
                return gerr_set(err, errno, "mount %s on %s (bind)", root, root);
        _cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return gerr_set(err, errno, "open %s", root);
        int r = rt_mounts_apply(rootfd, s, b, err);
        if (r < 0)
                return r;
        return rt_devices_setup(rootfd, s, err);
}

/* Undo C-style escapes (\040) of a mountinfo field in place. */
static void unescape(char *s)
{
        char *w = s;
        for (char *r = s; *r != '\0'; r++) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
                    r[3] >= '0' && r[3] <= '7') {
                        *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 3;
                } else {
                        *w++ = *r;
                }
        }
        *w = '\0';
}

/* runc's msMoveRoot: with chroot the host's full proc and sysfs mounts stay in the mount
 * namespace, and the kernel's "may this proc be mounted" check looks at all of them, so they
 * are detached (or covered) before the rootfs is moved onto "/". */
static int move_root(const char *root, struct gerr **err)
{
        if (chdir(root) < 0)
                return gerr_set(err, errno, "chdir %s", root);
        _cleanup_free_ char *info = NULL;
        size_t len;
        int r = fs_read_file("/proc/self/mountinfo", &info, &len, err);
        if (r < 0)
                return r;
        size_t rootlen = strlen(root);
        for (char *sv = NULL, *l = strtok_r(info, "\n", &sv); l != NULL;
             l = strtok_r(NULL, "\n", &sv)) {
                char *f[5] = {0};
                char *p = l;
                for (int i = 0; i < 5 && p != NULL; i++) {
                        f[i] = strsep(&p, " ");
                }
                char *sep = p ? strstr(p, " - ") : NULL;
                if (f[4] == NULL || sep == NULL)
                        continue;
                char *fstype = sep + 3;
                char *end = strchr(fstype, ' ');
                if (end != NULL)
                        *end = '\0';
                if (strcmp(f[3], "/") != 0 ||
                    (strcmp(fstype, "proc") != 0 && strcmp(fstype, "sysfs") != 0))
                        continue;
                char *mp = f[4];
                unescape(mp);
                if (strncmp(mp, root, rootlen) == 0 && (mp[rootlen] == '/' || mp[rootlen] == '\0'))
                        continue;
                if (mount(NULL, mp, NULL, MS_SLAVE | MS_REC, NULL) < 0) {
                        if (errno == ENOENT || errno == EINVAL)
                                continue; /* already gone with a detached parent */
                        return gerr_set(err, errno, "make %s slave", mp);
                }
                if (umount2(mp, MNT_DETACH) < 0) {
                        if (errno != EINVAL && errno != EPERM)
                                return gerr_set(err, errno, "umount %s", mp);
                        if (mount("tmpfs", mp, "tmpfs", 0, NULL) < 0)
                                return gerr_set(err, errno, "mount tmpfs on %s", mp);
                }
        }
        if (mount(root, "/", NULL, MS_MOVE, NULL) < 0)
                return gerr_set(err, errno, "move %s to /", root);
        if (chroot(".") < 0)
                return gerr_set(err, errno, "chroot %s", root);
        if (chdir("/") < 0)
                return gerr_set(err, errno, "chdir /");
        return 0;
}

int rt_rootfs_pivot(const struct rt_spec *s, bool no_pivot, struct gerr **err)
{
        if (no_pivot)
                return move_root(s->root_path, err);
        _cleanup_close_ int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (oldroot < 0)
                return gerr_set(err, errno, "open /");
        _cleanup_close_ int newroot = open(s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (newroot < 0)
                return gerr_set(err, errno, "open %s", s->root_path);
        /* pivot_root(".", ".") stacks the old root on the new one: no put_old directory has
         * to exist in the image. */
        if (fchdir(newroot) < 0)
                return gerr_set(err, errno, "chdir %s", s->root_path);
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return gerr_set(err, errno, "pivot_root %s", s->root_path);
        if (fchdir(oldroot) < 0)
                return gerr_set(err, errno, "chdir to the old root");
        /* rslave, so that detaching the old root does not unmount anything on the host. */
        if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                return gerr_set(err, errno, "make the old root slave");
        if (umount2(".", MNT_DETACH) < 0)
                return gerr_set(err, errno, "unmount the old root");
        if (chdir("/") < 0)
                return gerr_set(err, errno, "chdir /");
        return 0;
}

/* Make the mount at path read-only and keep its other flags: mount_setattr changes just that
 * one; kernels without it get runc's statvfs + remount. */
static int make_readonly(const char *path)
{
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
        if (syscall(SYS_mount_setattr, AT_FDCWD, path, 0, &attr, sizeof(attr)) == 0)
                return 0;
        if (errno != ENOSYS)
                return -errno;
        struct statvfs sv;
        if (statvfs(path, &sv) < 0)
                return -errno;
        unsigned long keep = sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC);
        if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
                return -errno;
        return 0;
}

static int write_sysctl(const char *key, const char *value, struct gerr **err)
{
        char path[PATH_MAX];
        int n = snprintf(path, sizeof(path), "/proc/sys/%s", key);
        if (n < 0 || (size_t)n >= sizeof(path))
                return gerr_set(err, ENAMETOOLONG, "write sysctl %s", key);
        for (char *p = path + 10; *p != '\0'; p++)
                if (*p == '.')
                        *p = '/';
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return gerr_set(err, errno, "write sysctl %s", key);
        size_t len = strlen(value);
        ssize_t w = write(fd, value, len);
        if (w < 0 || (size_t)w != len)
                return gerr_set(err, w < 0 ? errno : EIO, "write sysctl %s", key);
        return 0;
}

int rt_rootfs_finalize(const struct rt_spec *s, struct gerr **err)
{
        int r;
        if (s->linux.rootfs_propagation != 0 &&
            mount(NULL, "/", NULL, s->linux.rootfs_propagation, NULL) < 0)
                return gerr_set(err, errno, "set propagation of /");

        /* /dev was kept writable for the device nodes (mount_fs); now honour its "ro". */
        char dest[PATH_MAX];
        for (size_t i = 0; i < s->n_mounts; i++) {
                const struct rt_mount *m = &s->mounts[i];
                rt_path_clean(m->destination, dest, sizeof(dest));
                if (strcmp(dest, "/dev") != 0)
                        continue;
                if ((m->flags & MS_RDONLY) && !(m->flags & MS_BIND) &&
                    (r = make_readonly("/dev")) < 0)
                        return gerr_set(err, -r, "remount /dev read-only");
                break;
        }
        if (s->root_readonly && (r = make_readonly("/")) < 0)
                return gerr_set(err, -r, "remount / read-only");

        if (s->hostname != NULL && s->hostname[0] != '\0' &&
            sethostname(s->hostname, strlen(s->hostname)) < 0)
                return gerr_set(err, errno, "sethostname %s", s->hostname);
        if (s->domainname != NULL && s->domainname[0] != '\0' &&
            setdomainname(s->domainname, strlen(s->domainname)) < 0)
                return gerr_set(err, errno, "setdomainname %s", s->domainname);

        if (s->linux.sysctl != NULL) {
                const char *key;
                json_t *val;
                json_object_foreach(s->linux.sysctl, key, val)
                {
                        const char *v = json_string_value(val);
                        if (v == NULL)
                                return gerr_set(err, EINVAL, "sysctl %s: value is not a string",
                                                key);
                        if ((r = write_sysctl(key, v, err)) < 0)
                                return r;
                }
        }

        for (char **p = s->linux.readonly_paths; p != NULL && *p != NULL; p++) {
                if (mount(*p, *p, NULL, MS_BIND | MS_REC, NULL) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return gerr_set(err, errno, "mount %s on %s (bind)", *p, *p);
                }
                if ((r = make_readonly(*p)) < 0)
                        return gerr_set(err, -r, "remount %s read-only", *p);
        }
        for (char **p = s->linux.masked_paths; p != NULL && *p != NULL; p++) {
                if (mount("/dev/null", *p, NULL, MS_BIND, NULL) == 0 || errno == ENOENT)
                        continue;
                /* A directory gets an empty read-only tmpfs instead. */
                if (errno != ENOTDIR)
                        return gerr_set(err, errno, "mask %s", *p);
                if (mount("tmpfs", *p, "tmpfs", MS_RDONLY, NULL) < 0)
                        return gerr_set(err, errno, "mask %s", *p);
        }
        return 0;
}

/* Is the network namespace at path the one we are in? (runc's isHostNetNS) */
static int is_current_netns(const char *path, bool *out, struct gerr **err)
{
        struct stat a, b;
        if (stat(path, &a) < 0)
                return gerr_set(err, errno, "stat %s", path);
        if (stat("/proc/self/ns/net", &b) < 0)
                return gerr_set(err, errno, "stat /proc/self/ns/net");
        *out = a.st_dev == b.st_dev && a.st_ino == b.st_ino;
        return 0;
}

int rt_sysctl_check(const struct rt_spec *s, struct gerr **err)
{
        static const char *const ipc_keys[] = {
            "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
            "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
        };
        if (s->linux.sysctl == NULL)
                return 0;
        int hostnet = -1; /* computed at the first net.* key */
        const char *key;
        json_t *val;
        json_object_foreach(s->linux.sysctl, key, val)
        {
                bool ipc = strncmp(key, "fs.mqueue.", 10) == 0;
                for (size_t i = 0; !ipc && i < ARRAY_SIZE(ipc_keys); i++)
                        ipc = strcmp(key, ipc_keys[i]) == 0;
                if (ipc) {
                        if (rt_spec_namespace(s, CLONE_NEWIPC) != NULL)
                                continue;
                        gerr_set(err, 0, "sysctl \"%s\" is not allowed in the hosts ipc namespace",
                                 key);
                        return -EINVAL;
                }
                if (strncmp(key, "net.", 4) == 0) {
                        if (hostnet < 0) {
                                const struct rt_namespace *ns = rt_spec_namespace(s, CLONE_NEWNET);
                                bool h = ns == NULL;
                                if (ns != NULL && ns->path != NULL) {
                                        int r = is_current_netns(ns->path, &h, err);
                                        if (r < 0)
                                                return r;
                                }
                                hostnet = h;
                        }
                        if (!hostnet)
                                continue;
                        gerr_set(err, 0, "sysctl \"%s\" not allowed in host network namespace",
                                 key);
                        return -EINVAL;
                }
                if (rt_spec_namespace(s, CLONE_NEWUTS) != NULL) {
                        if (strcmp(key, "kernel.domainname") == 0)
                                continue;
                        if (strcmp(key, "kernel.hostname") == 0) {
                                gerr_set(err, 0,
                                         "sysctl \"%s\" is not allowed as it conflicts with the "
                                         "OCI \"hostname\" field",
                                         key);
                                return -EINVAL;
                        }
                }
                gerr_set(err, 0, "sysctl \"%s\" is not in a separate kernel namespace", key);
                return -EINVAL;
        }
        return 0;
}
