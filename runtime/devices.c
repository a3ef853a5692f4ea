/* /dev contents: default device nodes, linux.devices, /dev/ptmx and the /dev symlinks. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runtime/rootfs_internal.h"

/* runc's AllowedDevices that have a path: created in every container unless the spec lists
 * the same path itself. */
static const struct {
        const char *name;
        unsigned major, minor;
} default_devices[] = {
    {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

struct node {
        const char *path; /* as the spec names it: messages, and the host node to bind */
        mode_t fmt;       /* S_IFCHR, S_IFBLK, S_IFIFO */
        unsigned major, minor;
        mode_t mode;
        uid_t uid;
        gid_t gid;
        bool chown; /* the owner is not the creator (us) */
};

/* Without mknod (user namespace), the host's node is bind-mounted over an empty file. */
static int bind_host_node(int dirfd, const char *name, const struct node *n, struct gerr **err)
{
        if (mknodat(dirfd, name, S_IFREG | 0644, 0) < 0 && errno != EEXIST)
                return gerr_set(err, errno, "create %s", n->path);
        _cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return gerr_set(err, errno, "open %s", n->path);
        struct rt_fdpath fp;
        if (mount(n->path, rt_fdpath(&fp, fd), NULL, MS_BIND, NULL) < 0)
                return gerr_set(err, errno, "mount %s on %s (bind)", n->path, n->path);
        return 0;
}

static int create_node(int dirfd, const char *name, const struct node *n, bool bind,
                       struct gerr **err)
{
        if (bind)
                return bind_host_node(dirfd, name, n, err);
        if (mknodat(dirfd, name, n->fmt | n->mode, makedev(n->major, n->minor)) == 0) {
                if (n->chown && fchownat(dirfd, name, n->uid, n->gid, AT_SYMLINK_NOFOLLOW) < 0)
                        return gerr_set(err, errno, "chown %s", n->path);
                return 0;
        }
        if (errno == EEXIST)
                return 0;
        if (errno == EPERM)
                return bind_host_node(dirfd, name, n, err);
        return gerr_set(err, errno, "mknod %s", n->path);
}

static int spec_device(int rootfd, int devfd, const struct rt_device *d, bool bind, uid_t euid,
                       gid_t egid, struct gerr **err)
{
        struct node n = {
            .path = d->path,
            .major = (unsigned)d->major,
            .minor = (unsigned)d->minor,
            .mode = d->has_file_mode ? d->file_mode & 07777 : 0666,
            .uid = d->has_uid ? d->uid : 0,
            .gid = d->has_gid ? d->gid : 0,
        };
        n.chown = n.uid != euid || n.gid != egid;
        switch (d->type) {
        case 'c':
        case 'u':
                n.fmt = S_IFCHR;
                break;
        case 'b':
                n.fmt = S_IFBLK;
                break;
        case 'p':
                n.fmt = S_IFIFO;
                break;
        default:
                return gerr_set(err, EINVAL, "%c is not a valid device type for device %s", d->type,
                                d->path);
        }
        char clean[PATH_MAX];
        rt_path_clean(d->path, clean, sizeof(clean));
        char *slash = strrchr(clean, '/');
        const char *name = slash + 1;
        if (*name == '\0')
                return gerr_set(err, EINVAL, "mknod %s: not a device path", d->path);
        if (slash - clean == 4 && strncmp(clean, "/dev", 4) == 0)
                return create_node(devfd, name, &n, bind, err);
        *slash = '\0';
        _cleanup_close_ int dirfd = rt_mkdir_in_root(rootfd, clean[0] ? clean : "/", 0755);
        if (dirfd < 0)
                return gerr_set(err, -dirfd, "mknod %s: create parent", d->path);
        return create_node(dirfd, name, &n, bind, err);
}

static bool spec_has_path(const struct rt_spec *s, const char *name)
{
        char clean[PATH_MAX];
        for (size_t i = 0; i < s->linux.n_devices; i++) {
                rt_path_clean(s->linux.devices[i].path, clean, sizeof(clean));
                if (strncmp(clean, "/dev/", 5) == 0 && strcmp(clean + 5, name) == 0)
                        return true;
        }
        return false;
}

static int create_devices(int rootfd, int devfd, const struct rt_spec *s, struct gerr **err)
{
        bool bind = rt_spec_namespace(s, CLONE_NEWUSER) != NULL;
        uid_t euid = geteuid();
        gid_t egid = getegid();
        char path[32];
        for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
                if (spec_has_path(s, default_devices[i].name))
                        continue;
                snprintf(path, sizeof(path), "/dev/%s", default_devices[i].name);
                struct node n = {
                    .path = path,
                    .fmt = S_IFCHR,
                    .major = default_devices[i].major,
                    .minor = default_devices[i].minor,
                    .mode = 0666,
                    .chown = euid != 0 || egid != 0,
                };
                int r = create_node(devfd, default_devices[i].name, &n, bind, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < s->linux.n_devices; i++) {
                int r = spec_device(rootfd, devfd, &s->linux.devices[i], bind, euid, egid, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int dev_symlinks(int devfd, struct gerr **err)
{
        static const char *const links[][2] = {
            {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"},
            {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
            {"/proc/kcore", "core"},
        };
        /* kcore is optional (CONFIG_PROC_KCORE): link it only where the host has it. */
        size_t n = ARRAY_SIZE(links) - (access("/proc/kcore", F_OK) == 0 ? 0 : 1);
        for (size_t i = 0; i < n; i++)
                if (symlinkat(links[i][0], devfd, links[i][1]) < 0 && errno != EEXIST)
                        return gerr_set(err, errno, "symlink %s /dev/%s", links[i][0], links[i][1]);
        /* The devpts instance's ptmx replaces any node the image has. */
        if (symlinkat("pts/ptmx", devfd, "ptmx") < 0) {
                if (errno != EEXIST || unlinkat(devfd, "ptmx", 0) < 0 ||
                    symlinkat("pts/ptmx", devfd, "ptmx") < 0)
                        return gerr_set(err, errno, "symlink pts/ptmx /dev/ptmx");
        }
        return 0;
}

int rt_devices_setup(int rootfd, const struct rt_spec *s, struct gerr **err)
{
        /* runc: a bind-mounted /dev is the user's business; anything else gets populated. */
        if (rt_mounts_binds_dev(s))
                return 0;
        _cleanup_close_ int devfd = rt_mkdir_in_root(rootfd, "/dev", 0755);
        if (devfd < 0)
                return gerr_set(err, -devfd, "mkdir /dev");
        mode_t old = umask(0);
        int r = create_devices(rootfd, devfd, s, err);
        umask(old);
        if (r < 0)
                return r;
        return dev_symlinks(devfd, err);
}
