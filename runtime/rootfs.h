/* The container's filesystem view: rootfs, mounts, devices, pivot_root, masked/readonly paths. */
#pragma once

#include "common/gerr.h"
#include "runtime/spec.h"

/* Called in the container's new mount namespace, before pivot_root:
 * make mounts private (or linux.rootfsPropagation), bind the rootfs onto itself, perform every
 * config.json mount with its options (confined to the rootfs: openat2 RESOLVE_IN_ROOT for
 * destinations, no symlink escapes), create linux.devices and the default devices
 * (/dev/null zero full random urandom tty, /dev/ptmx -> pts/ptmx, /dev/fd, stdin, stdout, stderr,
 * /dev/core where kcore exists, /dev/shm, /dev/pts) by mknod, or bind mounts from the host when
 * mknod is not allowed (user namespaces). */
struct rt_cgroup_barrier {
        /* Called once, before the first thing that needs the process in its cgroup (a "cgroup"
         * mount), so that the caller can create the cgroup while the mounts go on. */
        int (*wait)(void *arg, struct gerr **err);
        void *arg;
};
int rt_rootfs_prepare(const struct rt_spec *s, struct rt_cgroup_barrier *b, struct gerr **err);
/* pivot_root into the rootfs (or chroot with MS_MOVE when no_pivot) and detach the old root. */
int rt_rootfs_pivot(const struct rt_spec *s, bool no_pivot, struct gerr **err);
/* After pivot_root: sysctls, masked paths (/dev/null bind or empty ro tmpfs for dirs),
 * readonly paths, root.readonly remount, rootfsPropagation of "/", hostname/domainname. */
int rt_rootfs_finalize(const struct rt_spec *s, struct gerr **err);
/* Sysctl key validation for the namespaces the container has (the kernel only allows some in
 * a non-init netns/ipcns/utsns): error text names the key. */
int rt_sysctl_check(const struct rt_spec *s, struct gerr **err);
