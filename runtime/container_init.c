/* The container's init before execve: joins, mounts, pivot_root, terminal, wait for start. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/sched.h>

#include "common/cleanup.h"
#include "runtime/container_internal.h"
#include "runtime/hooks.h"
#include "runtime/rootfs.h"
#include "runtime/security.h"
#include "runtime/terminal.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int rt_sync_send(int fd, char type, const void *payload, size_t len)
{
        struct iovec iov[2] = {{.iov_base = &type, .iov_len = 1},
                               {.iov_base = (void *)payload, .iov_len = len}};
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len > 0 ? 2 : 1};
        ssize_t r;
        do
                r = sendmsg(fd, &msg, MSG_NOSIGNAL);
        while (r < 0 && errno == EINTR);
        return r < 0 ? -errno : 0;
}

int rt_sync_recv(int fd, char **payload)
{
        char buf[65536];
        ssize_t r;
        do
                r = recv(fd, buf, sizeof(buf) - 1, 0);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return -errno;
        if (r == 0)
                return 0;
        buf[r] = '\0';
        if (payload != NULL) {
                *payload = strdup(buf + 1);
                if (*payload == NULL)
                        return -ENOMEM;
        }
        return (unsigned char)buf[0];
}

int rt_sync_expect(int fd, char want, char **payload, struct gerr **err)
{
        char *p = NULL;
        int t = rt_sync_recv(fd, &p);
        if (t < 0)
                return gerr_set(err, -t, "read from container init");
        if (t == 0)
                return gerr_set(err, EPIPE, "container init exited before it was ready");
        if (t == RT_SYNC_ERROR) {
                gerr_set(err, 0, "%s", p ? p : "container init failed");
                free(p);
                return -EIO;
        }
        if (t != want) {
                free(p);
                return gerr_set(err, EPROTO, "container init: unexpected message '%c'", t);
        }
        if (payload != NULL)
                *payload = p;
        else
                free(p);
        return 0;
}

void rt_sync_send_error(int fd, const struct gerr *err)
{
        const char *m = err && err->msg ? err->msg : "container init failed";
        rt_sync_send(fd, RT_SYNC_ERROR, m, strlen(m));
}

pid_t rt_clone3(int flags, int *pidfd)
{
        struct clone_args ca = {
                .flags = (uint64_t)flags | CLONE_PIDFD,
                .pidfd = (uint64_t)(uintptr_t)pidfd,
                .exit_signal = SIGCHLD,
        };
        return (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
}

int rt_setns_path(const char *path, int type, struct gerr **err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return gerr_set(err, errno, "open namespace %s", path);
        if (setns(fd, type) < 0)
                return gerr_set(err, errno, "setns %s", path);
        return 0;
}

/* Joins that must happen inside the init: user first (it decides what the others may do),
 * then mount and cgroup, which would disturb the parent if it joined them itself. */
static int join_own_namespaces(const struct rt_spec *s, struct gerr **err)
{
        static const int order[] = {CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWCGROUP};
        for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
                const struct rt_namespace *ns = rt_spec_namespace(s, order[i]);
                if (ns == NULL || ns->path == NULL)
                        continue;
                int r = rt_setns_path(ns->path, order[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int open_exec_fifo(struct rt_init_args *a, int *fifo_fd, int *procfd, struct gerr **err)
{
        *fifo_fd = open(a->fifo_path, O_PATH | O_CLOEXEC);
        if (*fifo_fd < 0)
                return gerr_set(err, errno, "open exec fifo %s", a->fifo_path);
        /* After pivot_root the container may have no /proc: keep the host's. */
        *procfd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (*procfd < 0)
                return gerr_set(err, errno, "open /proc/self/fd");
        return 0;
}

/* Block until `start` opens the fifo for reading (runc's handshake). The write end stays open,
 * close-on-exec, so that `start` sees EOF only once the user process is executing: poststart
 * hooks must not run before that. */
static int wait_exec_fifo(int fifo_fd, int procfd, int *wfd, struct gerr **err)
{
        char name[16];
        snprintf(name, sizeof(name), "%d", fifo_fd);
        *wfd = openat(procfd, name, O_WRONLY | O_CLOEXEC);
        if (*wfd < 0)
                return gerr_set(err, errno, "open exec fifo for writing");
        if (write(*wfd, "0", 1) != 1)
                return gerr_set(err, errno, "write exec fifo");
        return 0;
}

int rt_init_finish_process(struct rt_init_args *a, bool do_terminal, struct gerr **err)
{
        const struct rt_process *p = a->process;
        int r;
        if (do_terminal && p->terminal) {
                if (a->console_fd < 0)
                        return gerr_set(err, EINVAL,
                                        "process.terminal is set but there is no console socket");
                int master = rt_terminal_setup(p->has_console_size ? p->console_height : 0,
                                               p->has_console_size ? p->console_width : 0, err);
                if (master < 0)
                        return master;
                r = rt_send_fd(a->console_fd, master, err);
                close(master);
                if (r < 0)
                        return r;
        }
        if (a->console_fd >= 0) {
                close(a->console_fd);
                a->console_fd = -1;
        }
        if (chdir(p->cwd ? p->cwd : "/") < 0)
                return gerr_set(err, errno, "chdir to cwd (\"%s\") set in config.json failed",
                                p->cwd ? p->cwd : "/");
        r = rt_rlimits_apply(p, err);
        if (r < 0)
                return r;
        return 0;
}

int rt_init_exec(struct rt_init_args *a, const char *exe, struct gerr **err)
{
        const struct rt_process *p = a->process;
        int r;
        /* Every fd we did not promise to pass on closes at execve (CVE-2024-21626). */
        syscall(SYS_close_range, 3 + a->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
        r = rt_lsm_apply(p, err);
        if (r < 0)
                return r;
        /* Loading a filter needs CAP_SYS_ADMIN unless no_new_privs is set: without nnp load it
         * while we still have every capability, with nnp after the drop (as runc does). */
        if (a->seccomp != NULL && !p->no_new_privileges) {
                r = rt_seccomp_load(a->seccomp, err);
                if (r < 0)
                        return r;
        }
        r = rt_identity_apply(p, err);
        if (r < 0)
                return r;
        /* A uid change resets dumpable to fs.suid_dumpable: keep /proc/<us>/exe closed to the
         * container until execve replaces our image. */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        if (a->seccomp != NULL && p->no_new_privileges) {
                r = rt_seccomp_load(a->seccomp, err);
                if (r < 0)
                        return r;
        }
        return rt_exec_resolved(p, exe, err);
}

struct go_wait {
        struct rt_init_args *a;
        char *state_json;
};

/* The parent has put us in our cgroup: now the cgroup namespace can be made, so that the
 * container sees its own cgroup as the root. */
static int wait_go(void *arg, struct gerr **err)
{
        struct go_wait *gw = arg;
        int r = rt_sync_expect(gw->a->sync_fd, RT_SYNC_GO, &gw->state_json, err);
        if (r < 0)
                return r;
        const struct rt_namespace *cgns = rt_spec_namespace(gw->a->spec, CLONE_NEWCGROUP);
        if (cgns != NULL && cgns->path == NULL && unshare(CLONE_NEWCGROUP) < 0)
                return gerr_set(err, errno, "unshare cgroup namespace");
        return 0;
}

/* Everything from the join of the container's cgroup to execve. */
static int init_run(struct rt_init_args *a, struct gerr **err)
{
        const struct rt_spec *s = a->spec;
        const struct rt_process *p = a->process;
        int r;

        if (a->new_ns_flags & CLONE_NEWUSER) {
                r = rt_sync_expect(a->sync_fd, RT_SYNC_MAPPED, NULL, err);
                if (r < 0)
                        return r;
                if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                        return gerr_set(err, errno, "become root in the user namespace");
        }
        r = join_own_namespaces(s, err);
        if (r < 0)
                return r;
        if (a->unshare_flags != 0 && unshare(a->unshare_flags) < 0)
                return gerr_set(err, errno, "unshare namespaces");
        if (setsid() < 0 && errno != EPERM)
                return gerr_set(err, errno, "setsid");
        if (!a->no_new_keyring) {
                /* A fresh session keyring so containers do not share the host's keys. */
                if (syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, a->id) < 0 &&
                    errno != ENOSYS && errno != EPERM)
                        return gerr_set(err, errno, "join session keyring");
        }

        /* The mounts go on while the parent makes our cgroup; we wait for it only where it
         * matters (a cgroup mount, the cgroup namespace), or after the mounts. */
        struct go_wait gw = {.a = a};
        struct rt_cgroup_barrier barrier = {.wait = wait_go, .arg = &gw};
        bool has_mntns = rt_spec_namespace(s, CLONE_NEWNS) != NULL;
        if (has_mntns) {
                r = rt_rootfs_prepare(s, &barrier, err);
                if (r < 0)
                        return r;
        }
        if (barrier.wait != NULL) {
                r = wait_go(&gw, err);
                if (r < 0)
                        return r;
        }
        const char *state_json = gw.state_json;
        if (s->hooks[RT_HOOK_PRESTART].n > 0 || s->hooks[RT_HOOK_CREATE_RUNTIME].n > 0) {
                if (rt_sync_send(a->sync_fd, RT_SYNC_HOOKS, NULL, 0) < 0)
                        return gerr_set(err, errno, "sync with runtime");
                r = rt_sync_expect(a->sync_fd, RT_SYNC_HOOKS_DONE, NULL, err);
                if (r < 0)
                        return r;
        }
        r = rt_hooks_run(&s->hooks[RT_HOOK_CREATE_CONTAINER], "createContainer",
                         state_json ? state_json : "", err);
        if (r < 0)
                return r;

        _cleanup_close_ int fifo_fd = -1, procfd = -1, fifo_wfd = -1;
        if (a->fifo_path != NULL) {
                r = open_exec_fifo(a, &fifo_fd, &procfd, err);
                if (r < 0)
                        return r;
        }
        if (has_mntns) {
                r = rt_rootfs_pivot(s, a->no_pivot, err);
                if (r < 0)
                        return r;
                r = rt_rootfs_finalize(s, err);
                if (r < 0)
                        return r;
        } else if (chroot(s->root_path) < 0) {
                return gerr_set(err, errno, "chroot %s", s->root_path);
        }
        r = rt_init_finish_process(a, true, err);
        if (r < 0)
                return r;
        char exe[4096];
        r = rt_exec_lookup(p, exe, sizeof(exe), err);
        if (r < 0)
                return r;
        r = rt_personality_apply(&s->linux, err);
        if (r < 0)
                return r;

        if (rt_sync_send(a->sync_fd, RT_SYNC_CREATED, NULL, 0) < 0)
                return gerr_set(err, errno, "sync with runtime");
        if (a->fifo_path != NULL) {
                r = wait_exec_fifo(fifo_fd, procfd, &fifo_wfd, err);
                if (r < 0)
                        return r;
        } else {
                r = rt_sync_expect(a->sync_fd, RT_SYNC_START, NULL, err);
                if (r < 0)
                        return r;
        }
        r = rt_hooks_run(&s->hooks[RT_HOOK_START_CONTAINER], "startContainer",
                         state_json ? state_json : "", err);
        if (r < 0)
                return r;
        return rt_init_exec(a, exe, err);
}

__attribute__((noreturn)) void rt_init_main(struct rt_init_args *a)
{
        struct gerr *err = NULL;
        init_run(a, &err);
        rt_sync_send_error(a->sync_fd, err);
        /* After start nobody may be reading the sync socket: say it where the user looks. */
        dprintf(STDERR_FILENO, "gantry-runtime: %s\n", err && err->msg ? err->msg : "init failed");
        _exit(err && err->errnum == ENOENT ? 127 : err && err->errnum == EACCES ? 126 : 1);
}
