/* Private glue between rootfs.c, mounts.c and devices.c (not part of the runtime's API). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/gerr.h"
#include "runtime/rootfs.h"
#include "runtime/spec.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

#define RT_PROPAGATION_MASK (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)

/* "/proc/self/fd/N": mounting onto it pins the exact inode an O_PATH fd resolved to, so a
 * symlink swapped into the rootfs afterwards cannot redirect the mount (CVE-2021-30465). */
struct rt_fdpath {
        char s[32];
};
static inline const char *rt_fdpath(struct rt_fdpath *p, int fd)
{
        snprintf(p->s, sizeof(p->s), "/proc/self/fd/%d", fd);
        return p->s;
}

/* Lexically clean an absolute container path ("//a/./b/../c/" -> "/a/c") into out. */
void rt_path_clean(const char *in, char *out, size_t size);

/* mkdir -p of a clean absolute path below rootfd, each step confined (RESOLVE_IN_ROOT from
 * rootfd); returns an O_PATH|O_DIRECTORY fd or -errno. */
int rt_mkdir_in_root(int rootfd, const char *path, mode_t mode);

/* mount_setattr(2) on fd (AT_EMPTY_PATH), recursive or not; -errno on failure. */
int rt_mount_setattr(int fd, bool recursive, uint64_t set, uint64_t clr, uint64_t propagation);

/* mount(MS_REMOUNT|flags) of path; on EPERM (flags locked by a user namespace's parent) again
 * with the flags the mount already has added. -errno on failure. */
int rt_remount(const char *path, unsigned long flags);

/* Perform every config.json mount below rootfd, in order. */
int rt_mounts_apply(int rootfd, const struct rt_spec *s, struct rt_cgroup_barrier *b,
                    struct gerr **err);
/* Does the spec bind-mount /dev itself (then runc creates no device nodes)? */
bool rt_mounts_binds_dev(const struct rt_spec *s);

/* Default devices, linux.devices, /dev/ptmx and the /dev symlinks below rootfd. */
int rt_devices_setup(int rootfd, const struct rt_spec *s, struct gerr **err);
