/* The process identity in the container: rlimits, user and groups, capabilities, nnp, umask, LSM labels, personality, oom_score_adj. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <stdarg.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runtime/security.h"

#define SELINUX_MAGIC 0xf97cff8cU

/* Short reads and writes of /proc and /sys files; our own so this module needs nothing else. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = read(fd, buf, size - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return n;
}

static int write_small(const char *path, const char *data)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        size_t len = strlen(data);
        ssize_t n = write(fd, data, len);
        if (n < 0)
                return -errno;
        return (size_t)n == len ? 0 : -EIO;
}

static const char *rlimit_name(int resource)
{
        static const char *const names[] = {
                [RLIMIT_CPU] = "RLIMIT_CPU",         [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
                [RLIMIT_DATA] = "RLIMIT_DATA",       [RLIMIT_STACK] = "RLIMIT_STACK",
                [RLIMIT_CORE] = "RLIMIT_CORE",       [RLIMIT_RSS] = "RLIMIT_RSS",
                [RLIMIT_NPROC] = "RLIMIT_NPROC",     [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
                [RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK", [RLIMIT_AS] = "RLIMIT_AS",
                [RLIMIT_LOCKS] = "RLIMIT_LOCKS",     [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
                [RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
                [RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",   [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
        };
        if (resource >= 0 && (size_t)resource < ARRAY_SIZE(names) && names[resource] != NULL)
                return names[resource];
        return "RLIMIT_?";
}

static const char *rlim_str(uint64_t v, char *buf, size_t size)
{
        if (v == RLIM_INFINITY)
                return "unlimited";
        snprintf(buf, size, "%" PRIu64, v);
        return buf;
}

int rt_rlimits_apply(const struct rt_process *p, struct gerr **err)
{
        for (size_t i = 0; i < p->n_rlimits; i++) {
                const struct rt_rlimit *l = &p->rlimits[i];
                struct rlimit rl = { .rlim_cur = l->soft, .rlim_max = l->hard };
                if (setrlimit(l->resource, &rl) < 0) {
                        char s[24], h[24];
                        return gerr_set(err, errno, "setrlimit %s (soft %s, hard %s)",
                                        rlimit_name(l->resource), rlim_str(l->soft, s, sizeof(s)),
                                        rlim_str(l->hard, h, sizeof(h)));
                }
        }
        return 0;
}

/* In a user namespace whose gid_map was written unprivileged, setgroups(2) is refused for good. */
static bool setgroups_denied(void)
{
        char buf[16];
        return read_small("/proc/self/setgroups", buf, sizeof(buf)) > 0 &&
               strncmp(buf, "deny", 4) == 0;
}

static int set_user(const struct rt_process *p, struct gerr **err)
{
        /* runc clears the supplementary groups even when additionalGids is empty: the runtime's
         * own groups must not leak into the container. */
        if (!setgroups_denied() && setgroups(p->n_additional_gids, p->additional_gids) < 0)
                return gerr_set(err, errno, "setgroups");
        if (setresgid(p->gid, p->gid, p->gid) < 0)
                return gerr_set(err, errno, "setresgid %u", (unsigned)p->gid);
        if (setresuid(p->uid, p->uid, p->uid) < 0)
                return gerr_set(err, errno, "setresuid %u", (unsigned)p->uid);
        return 0;
}

static int set_caps(const struct rt_caps *c, struct gerr **err)
{
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct data[2] = {
                { (uint32_t)c->effective, (uint32_t)c->permitted, (uint32_t)c->inheritable },
                { (uint32_t)(c->effective >> 32), (uint32_t)(c->permitted >> 32),
                  (uint32_t)(c->inheritable >> 32) },
        };
        if (syscall(SYS_capset, &hdr, data) < 0)
                return gerr_set(err, errno,
                                "capset (effective 0x%" PRIx64 ", permitted 0x%" PRIx64
                                ", inheritable 0x%" PRIx64 ")",
                                c->effective, c->permitted, c->inheritable);
        return 0;
}

static const char *cap_label(int cap, char *buf, size_t size)
{
        const char *n = rt_cap_name(cap);
        if (n != NULL)
                return n;
        snprintf(buf, size, "capability %d", cap);
        return buf;
}

int rt_identity_apply(const struct rt_process *p, struct gerr **err)
{
        const struct rt_caps *c = &p->caps;
        int last = rt_cap_last();
        char buf[32];
        int r;

        umask(p->has_umask ? p->umask : 0022);

        /* Without a capabilities object runc leaves the sets alone; setresuid to a non-root
         * uid then clears them as the kernel does for any process. */
        if (c->present) {
                for (int cap = 0; cap <= last && cap < 64; cap++) {
                        if (c->bounding & (UINT64_C(1) << cap))
                                continue;
                        /* EINVAL: a capability this kernel does not have, nothing to drop. */
                        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                                return gerr_set(err, errno, "drop %s from the bounding set",
                                                cap_label(cap, buf, sizeof(buf)));
                }
                /* Keep the permitted set across setresuid so capset below can choose from it. */
                if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                        return gerr_set(err, errno, "prctl PR_SET_KEEPCAPS");
        }

        r = set_user(p, err);
        if (r < 0)
                return r;

        if (c->present) {
                if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                        return gerr_set(err, errno, "prctl PR_SET_KEEPCAPS");
                r = set_caps(c, err);
                if (r < 0)
                        return r;
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
                    errno != EINVAL)
                        return gerr_set(err, errno, "clear ambient capabilities");
                for (int cap = 0; cap <= last && cap < 64; cap++) {
                        if (!(c->ambient & (UINT64_C(1) << cap)))
                                continue;
                        /* The kernel wants it in permitted and inheritable too (capabilities(7));
                         * runc's default spec lists ambient caps without inheritable ones and
                         * runc ignores the refusal, so do we. */
                        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 &&
                            errno != EPERM)
                                return gerr_set(err, errno, "raise ambient %s",
                                                cap_label(cap, buf, sizeof(buf)));
                }
        }

        if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return gerr_set(err, errno, "prctl PR_SET_NO_NEW_PRIVS");
        return 0;
}

static bool apparmor_enabled(void)
{
        char buf[8];
        return read_small("/sys/module/apparmor/parameters/enabled", buf, sizeof(buf)) > 0 &&
               buf[0] == 'Y';
}

static bool selinux_enabled(void)
{
        struct statfs sfs;
        return statfs("/sys/fs/selinux", &sfs) == 0 && (uint32_t)sfs.f_type == SELINUX_MAGIC;
}

/* An error without the strerror suffix (the text says it all) that still carries errnum. */
static int __attribute__((format(printf, 3, 4)))
set_plain(struct gerr **err, int errnum, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        gerr_setv(err, 0, fmt, ap);
        va_end(ap);
        if (err != NULL && *err != NULL && (*err)->errnum == 0)
                (*err)->errnum = errnum;
        return -errnum;
}

int rt_lsm_check(const struct rt_process *p, struct gerr **err)
{
        if (p->apparmor_profile != NULL && p->apparmor_profile[0] != '\0' && !apparmor_enabled())
                return set_plain(err, EOPNOTSUPP,
                                 "apparmor profile \"%s\" requested but AppArmor is not enabled "
                                 "on this host",
                                 p->apparmor_profile);
        if (p->selinux_label != NULL && p->selinux_label[0] != '\0' && !selinux_enabled())
                return set_plain(err, EOPNOTSUPP,
                                 "selinux label \"%s\" requested but SELinux is not enabled on "
                                 "this host (no selinuxfs at /sys/fs/selinux)",
                                 p->selinux_label);
        return 0;
}

int rt_lsm_apply(const struct rt_process *p, struct gerr **err)
{
        int r = rt_lsm_check(p, err);
        if (r < 0)
                return r;
        if (p->apparmor_profile != NULL && p->apparmor_profile[0] != '\0') {
                _cleanup_free_ char *cmd = NULL;
                if (asprintf(&cmd, "exec %s", p->apparmor_profile) < 0)
                        return gerr_set(err, ENOMEM, "apparmor profile");
                /* Kernels with LSM stacking have the per-module directory; older ones only the
                 * shared attr file. */
                r = write_small("/proc/self/attr/apparmor/exec", cmd);
                if (r == -ENOENT)
                        r = write_small("/proc/self/attr/exec", cmd);
                if (r < 0)
                        return gerr_set(err, -r, "set apparmor profile \"%s\"",
                                        p->apparmor_profile);
        }
        if (p->selinux_label != NULL && p->selinux_label[0] != '\0') {
                r = write_small("/proc/self/attr/exec", p->selinux_label);
                if (r < 0)
                        return gerr_set(err, -r, "set selinux label \"%s\"", p->selinux_label);
        }
        return 0;
}

int rt_personality_apply(const struct rt_linux *l, struct gerr **err)
{
        if (!l->has_personality)
                return 0;
        if (personality(l->personality) < 0)
                return gerr_set(err, errno, "personality 0x%lx", l->personality);
        return 0;
}

int rt_oom_score_adj_apply(pid_t pid, const struct rt_process *p, struct gerr **err)
{
        if (p == NULL || !p->oom_score_adj.set)
                return 0;
        char path[64], val[32];
        snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
        snprintf(val, sizeof(val), "%" PRId64, p->oom_score_adj.v);
        int r = write_small(path, val);
        if (r < 0)
                return gerr_set(err, -r, "write oom_score_adj %s to %s", val, path);
        return 0;
}
