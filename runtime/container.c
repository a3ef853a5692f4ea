/* Container lifecycle: create, start, run, state, kill, delete, pause, update. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "runtime/cgroup.h"
#include "runtime/container_internal.h"
#include "runtime/hooks.h"
#include "runtime/rootfs.h"
#include "runtime/runtime.h"
#include "runtime/security.h"
#include "runtime/state.h"
#include "runtime/terminal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Everything a create makes, so that a failure can take it all back. */
struct creation {
        struct rt_spec *spec;
        struct rt_state *st;
        struct rt_seccomp_prog *seccomp;
        int pidfd;
        int sync_fd;
        int console_fd;  /* our end: where the pty master arrives in foreground runs */
        pid_t pid;
        bool dir_made;
};

static void creation_undo(struct creation *c)
{
        if (c->pidfd >= 0) {
                syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
                waitpid(c->pid, NULL, 0);
        }
        if (c->st != NULL && c->st->cgroup != NULL)
                rt_cgroup_destroy(c->st->cgroup, NULL);
        if (c->dir_made && c->st != NULL)
                fs_rm_rf(c->st->dir);
}

static void creation_free(struct creation *c)
{
        if (c->pidfd >= 0)
                close(c->pidfd);
        if (c->sync_fd >= 0)
                close(c->sync_fd);
        if (c->console_fd >= 0)
                close(c->console_fd);
        rt_seccomp_prog_free(c->seccomp);
        rt_state_free(c->st);
        rt_spec_free(c->spec);
}

static int write_pid_file(const char *path, pid_t pid, struct gerr **err)
{
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%d", pid);
        _cleanup_free_ char *abs = NULL;
        if (path[0] != '/') {
                char cwd[PATH_MAX];
                if (getcwd(cwd, sizeof(cwd)) == NULL)
                        return gerr_set(err, errno, "getcwd");
                if (asprintf(&abs, "%s/%s", cwd, path) < 0)
                        return gerr_set(err, ENOMEM, "pid file");
                path = abs;
        }
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s.tmp-gantry", path) < 0)
                return gerr_set(err, ENOMEM, "pid file");
        int r = fs_write_file(tmp, buf, (size_t)n, err);
        if (r < 0)
                return r;
        if (rename(tmp, path) < 0) {
                unlink(tmp);
                return gerr_set(err, errno, "rename pid file %s", path);
        }
        return 0;
}

static int write_id_maps(pid_t pid, const char *file, const struct rt_idmap *m, size_t n,
                         struct gerr **err)
{
        char path[64], buf[4096];
        size_t off = 0;
        for (size_t i = 0; i < n && off < sizeof(buf); i++)
                off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%u %u %u\n",
                                        m[i].container_id, m[i].host_id, m[i].size);
        snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
        return fs_write_file(path, buf, off, err);
}

static int write_time_offsets(const struct rt_spec *s, struct gerr **err)
{
        char buf[128];
        int n = snprintf(buf, sizeof(buf), "monotonic %lld %u\nboottime %lld %u\n",
                         (long long)s->linux.time_offsets.monotonic_secs,
                         s->linux.time_offsets.monotonic_nsecs,
                         (long long)s->linux.time_offsets.boottime_secs,
                         s->linux.time_offsets.boottime_nsecs);
        return fs_write_file("/proc/self/timens_offsets", buf, (size_t)n, err);
}

/* Namespaces joined by path that the init can inherit rather than join itself: the parent
 * enters them for the clone and goes back right after, so that the hooks it runs stay in the
 * runtime's own. pid and time only take effect for children anyway; net, ipc and uts are joined
 * here rather than in the init because a init in a fresh user namespace has no CAP_SYS_ADMIN
 * over namespaces the host's user namespace owns (setns would fail with EPERM), which is why
 * runc joins every path before it unshares. */
static const struct {
        int type;
        const char *self;
} parent_joined[] = {
        {CLONE_NEWNET, "/proc/self/ns/net"},
        {CLONE_NEWIPC, "/proc/self/ns/ipc"},
        {CLONE_NEWUTS, "/proc/self/ns/uts"},
        {CLONE_NEWPID, "/proc/self/ns/pid"},
};

struct parent_ns {
        int saved[ARRAY_SIZE(parent_joined)];
        int saved_time;
};

static int parent_ns_enter(const struct rt_spec *s, struct parent_ns *pn, struct gerr **err)
{
        for (size_t i = 0; i < ARRAY_SIZE(parent_joined); i++)
                pn->saved[i] = -1;
        pn->saved_time = -1;
        for (size_t i = 0; i < ARRAY_SIZE(parent_joined); i++) {
                const struct rt_namespace *ns = rt_spec_namespace(s, parent_joined[i].type);
                if (ns == NULL || ns->path == NULL)
                        continue;
                pn->saved[i] = open(parent_joined[i].self, O_RDONLY | O_CLOEXEC);
                if (pn->saved[i] < 0)
                        return gerr_set(err, errno, "open %s", parent_joined[i].self);
                int r = rt_setns_path(ns->path, parent_joined[i].type, err);
                if (r < 0)
                        return r;
        }
        const struct rt_namespace *tns = rt_spec_namespace(s, CLONE_NEWTIME);
        if (tns != NULL) {
                pn->saved_time = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
                if (tns->path != NULL)
                        return rt_setns_path(tns->path, CLONE_NEWTIME, err);
                if (unshare(CLONE_NEWTIME) < 0)
                        return gerr_set(err, errno, "unshare time namespace");
                if (s->linux.time_offsets.set)
                        return write_time_offsets(s, err);
        }
        return 0;
}

static void parent_ns_leave(struct parent_ns *pn)
{
        for (size_t i = 0; i < ARRAY_SIZE(parent_joined); i++) {
                if (pn->saved[i] < 0)
                        continue;
                setns(pn->saved[i], parent_joined[i].type);
                close(pn->saved[i]);
                pn->saved[i] = -1;
        }
        if (pn->saved_time >= 0) {
                setns(pn->saved_time, CLONE_NEWTIME);
                close(pn->saved_time);
        }
        pn->saved_time = -1;
}

static int namespace_flags(const struct rt_spec *s, int *clone_flags, int *unshare_flags,
                           struct gerr **err)
{
        int fresh = 0;
        for (size_t i = 0; i < s->linux.n_namespaces; i++) {
                const struct rt_namespace *ns = &s->linux.namespaces[i];
                if (ns->path == NULL && ns->type != CLONE_NEWCGROUP && ns->type != CLONE_NEWTIME)
                        fresh |= ns->type;
        }
        const struct rt_namespace *user = rt_spec_namespace(s, CLONE_NEWUSER);
        if (user != NULL && user->path != NULL) {
                /* Created after joining the user namespace, so that it owns them. */
                if (fresh & CLONE_NEWPID)
                        return gerr_set(err, EOPNOTSUPP,
                                        "a new pid namespace inside a joined user namespace is "
                                        "not supported");
                *clone_flags = 0;
                *unshare_flags = fresh;
        } else {
                *clone_flags = fresh;
                *unshare_flags = 0;
        }
        return 0;
}

static int prepare_console(const struct rt_create_opts *o, const struct rt_process *p,
                           bool foreground, int *child_fd, int *our_fd, struct gerr **err)
{
        *child_fd = *our_fd = -1;
        if (o->console_socket != NULL) {
                if (!p->terminal)
                        return gerr_set(err, EINVAL,
                                        "--console-socket given but process.terminal is false");
                int fd = rt_console_socket_connect(o->console_socket, err);
                if (fd < 0)
                        return fd;
                *child_fd = fd;
                return 0;
        }
        if (!p->terminal)
                return 0;
        if (!foreground)
                return gerr_set(err, EINVAL,
                                "cannot allocate tty if the runtime will detach without setting "
                                "console socket");
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return gerr_set(err, errno, "socketpair");
        *our_fd = sv[0];
        *child_fd = sv[1];
        return 0;
}

static int run_create_hooks(struct creation *c, const char *state_json, struct gerr **err)
{
        int r = rt_hooks_run(&c->spec->hooks[RT_HOOK_PRESTART], "prestart", state_json, err);
        if (r < 0)
                return r;
        return rt_hooks_run(&c->spec->hooks[RT_HOOK_CREATE_RUNTIME], "createRuntime",
                            state_json, err);
}

static bool spec_has_hooks(const struct rt_spec *s)
{
        for (int k = 0; k < RT_HOOK__MAX; k++)
                if (k != RT_HOOK_POSTSTOP && s->hooks[k].n > 0)
                        return true;
        return false;
}

/* CVE-2019-5736: no process in the container may ever open our binary for writing through
 * /proc/<pid>/exe. The init is made non-dumpable before it is cloned, which denies that to every
 * process without CAP_SYS_PTRACE over the runtime; a fresh pid namespace holds no other process
 * until start anyway. When the pid namespace is shared (host's, or joined by path), other
 * processes can see the init: then we run from a sealed memfd copy, as exec always does. */
static int ensure_sealed(const struct rt_context *ctx, const struct rt_spec *s)
{
        const struct rt_namespace *pidns = rt_spec_namespace(s, CLONE_NEWPID);
        if (pidns != NULL && pidns->path == NULL)
                return 0;
        if (ctx->argv == NULL)
                return 0;
        return rt_sealed_exe_ensure(ctx->argv, ctx->envp);
}

/* Host id that container id 0 maps to, or -1 when the mappings have none. */
static long long host_root_id(const struct rt_idmap *m, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (m[i].container_id == 0 && m[i].size > 0)
                        return m[i].host_id;
        return -1;
}

/* The init reopens the fifo for writing after it entered its user namespace, where our uid 0
 * is nobody: like runc, the fifo is 0622 whatever the umask and belongs to the container's
 * root. */
static int exec_fifo_own(const char *fifo, const struct rt_spec *s, struct gerr **err)
{
        if (chmod(fifo, 0622) < 0)
                return gerr_set(err, errno, "chmod %s", fifo);
        const struct rt_namespace *user = rt_spec_namespace(s, CLONE_NEWUSER);
        if (user == NULL || user->path != NULL)
                return 0;
        long long uid = host_root_id(s->linux.uid_mappings, s->linux.n_uid_mappings);
        long long gid = host_root_id(s->linux.gid_mappings, s->linux.n_gid_mappings);
        if (uid < 0 && gid < 0)
                return 0;
        if (chown(fifo, uid < 0 ? (uid_t)-1 : (uid_t)uid, gid < 0 ? (gid_t)-1 : (gid_t)gid) < 0)
                return gerr_set(err, errno, "chown %s", fifo);
        return 0;
}

/* create proper: on return 0 the init waits for start (fifo, or RT_SYNC_START if !use_fifo). */
static int do_create(const struct rt_context *ctx, const struct rt_create_opts *o, bool use_fifo,
                     bool foreground, struct creation *c, struct gerr **err)
{
        log_debug("create %s: begin", o->id);
        if (!rt_id_valid(o->id))
                return gerr_set(err, EINVAL, "invalid container id \"%s\"", o->id ? o->id : "");
        char bundle[PATH_MAX];
        if (realpath(o->bundle ? o->bundle : ".", bundle) == NULL)
                return gerr_set(err, errno, "bundle %s", o->bundle ? o->bundle : ".");
        int r = rt_spec_load(bundle, &c->spec, err);
        if (r < 0)
                return r;
        const struct rt_spec *s = c->spec;
        if (s->process == NULL)
                return gerr_set(err, EINVAL, "config.json: process is required");
        r = ensure_sealed(ctx, s);
        if (r < 0)
                return gerr_set(err, -r, "re-execute from a sealed copy");
        r = rt_state_mkdir(ctx, o->id, err);
        if (r < 0)
                return r;
        c->dir_made = true;
        c->st = calloc(1, sizeof(*c->st));
        if (c->st == NULL)
                return gerr_set(err, ENOMEM, "create");
        c->st->id = strdup(o->id);
        c->st->dir = rt_state_dir(ctx, o->id);
        c->st->owner = getuid();
        if (chdir(bundle) < 0)
                return gerr_set(err, errno, "chdir to bundle %s", bundle);
        c->st->bundle = strdup(bundle);
        c->st->rootfs = strdup(s->root_path);
        if (s->annotations != NULL)
                c->st->annotations = json_incref(s->annotations);
        if (s->hooks[RT_HOOK_POSTSTART].n > 0)
                c->st->poststart = rt_hooks_to_json(&s->hooks[RT_HOOK_POSTSTART]);
        if (s->hooks[RT_HOOK_POSTSTOP].n > 0)
                c->st->poststop = rt_hooks_to_json(&s->hooks[RT_HOOK_POSTSTOP]);
        c->st->has_ns_user = rt_spec_namespace(s, CLONE_NEWUSER) != NULL;
        r = rt_sysctl_check(s, err);
        if (r < 0)
                return r;
        r = rt_lsm_check(s->process, err);
        if (r < 0)
                return r;
        r = rt_seccomp_build(s->linux.seccomp, ctx->root, &c->seccomp, err);
        if (r < 0)
                return r;
        int clone_flags = 0, unshare_flags = 0;
        r = namespace_flags(s, &clone_flags, &unshare_flags, err);
        if (r < 0)
                return r;

        _cleanup_free_ char *fifo = NULL;
        if (use_fifo) {
                if (asprintf(&fifo, "%s/exec.fifo", c->st->dir) < 0)
                        return gerr_set(err, ENOMEM, "create");
                if (mkfifo(fifo, 0622) < 0)
                        return gerr_set(err, errno, "mkfifo %s", fifo);
                r = exec_fifo_own(fifo, s, err);
                if (r < 0)
                        return r;
        }
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return gerr_set(err, errno, "socketpair");
        c->sync_fd = sv[0];
        _cleanup_close_ int child_sync = sv[1];
        _cleanup_close_ int child_console = -1;
        r = prepare_console(o, s->process, foreground, &child_console, &c->console_fd, err);
        if (r < 0)
                return r;

        struct rt_init_args a = {
                .spec = s,
                .process = s->process,
                .sync_fd = child_sync,
                .console_fd = child_console,
                .fifo_path = fifo,
                .no_pivot = o->no_pivot,
                .no_new_keyring = o->no_new_keyring,
                .preserve_fds = o->preserve_fds,
                .new_ns_flags = clone_flags,
                .unshare_flags = unshare_flags,
                .seccomp = c->seccomp,
                .id = o->id,
        };
        struct parent_ns pn;
        r = parent_ns_enter(s, &pn, err);
        if (r < 0) {
                parent_ns_leave(&pn);
                return r;
        }
        int pidfd = -1;
        log_debug("create %s: spec loaded, cloning init", o->id);
        pid_t pid = rt_clone3(clone_flags, &pidfd);
        if (pid == 0) {
                close(c->sync_fd);
                if (c->console_fd >= 0)
                        close(c->console_fd);
                rt_init_main(&a);
        }
        int clone_errno = errno;
        parent_ns_leave(&pn);
        if (pid < 0)
                return gerr_set(err, clone_errno, "clone3 container init");
        c->pid = pid;
        c->pidfd = pidfd;
        c->st->pid = pid;
        c->st->pid_start = rt_proc_start_time(pid);

        if (clone_flags & CLONE_NEWUSER) {
                r = write_id_maps(pid, "uid_map", s->linux.uid_mappings, s->linux.n_uid_mappings,
                                  err);
                if (r == 0)
                        r = write_id_maps(pid, "gid_map", s->linux.gid_mappings,
                                          s->linux.n_gid_mappings, err);
                if (r < 0)
                        return gerr_wrap(err, "user namespace mappings");
                if (rt_sync_send(c->sync_fd, RT_SYNC_MAPPED, NULL, 0) < 0)
                        return gerr_set(err, errno, "sync with container init");
        }
        log_debug("create %s: init %d cloned", o->id, pid);
        r = rt_cgroup_create(s->linux.cgroups_path, o->id, s->linux.resources, pid,
                             &c->st->cgroup, err);
        if (r < 0)
                return r;
        r = rt_oom_score_adj_apply(pid, s->process, err);
        if (r < 0)
                return r;

        _cleanup_free_ char *state_json = NULL;
        if (spec_has_hooks(s))
                /* The create hooks run after the environment is made (lifecycle step 2), when
                 * the spec's state says "created", not "creating". */
                state_json = rt_state_json_string(c->st, RT_CREATED);
        log_debug("create %s: cgroup ready", o->id);
        if (rt_sync_send(c->sync_fd, RT_SYNC_GO, state_json,
                         state_json ? strlen(state_json) : 0) < 0)
                return gerr_set(err, errno, "sync with container init");
        for (;;) {
                char *payload = NULL;
                int t = rt_sync_recv(c->sync_fd, &payload);
                if (t == RT_SYNC_CREATED) {
                        free(payload);
                        break;
                }
                if (t == RT_SYNC_HOOKS) {
                        free(payload);
                        r = run_create_hooks(c, state_json ? state_json : "", err);
                        if (r < 0)
                                return r;
                        rt_sync_send(c->sync_fd, RT_SYNC_HOOKS_DONE, NULL, 0);
                        continue;
                }
                if (t == RT_SYNC_ERROR) {
                        gerr_set(err, 0, "%s", payload ? payload : "container init failed");
                        free(payload);
                        return -EIO;
                }
                free(payload);
                return gerr_set(err, t < 0 ? -t : EPIPE,
                                "container init exited before it was ready");
        }
        log_debug("create %s: init ready", o->id);
        c->st->created = rt_now_rfc3339();
        r = rt_state_save(c->st, err);
        if (r < 0)
                return r;
        if (o->pid_file != NULL) {
                r = write_pid_file(o->pid_file, pid, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void creation_init(struct creation *c)
{
        memset(c, 0, sizeof(*c));
        c->pidfd = c->sync_fd = c->console_fd = -1;
}

int rt_container_create(const struct rt_context *ctx, const struct rt_create_opts *o,
                        struct gerr **err)
{
        struct creation c;
        creation_init(&c);
        int r = do_create(ctx, o, true, false, &c, err);
        if (r < 0) {
                creation_undo(&c);
                gerr_wrap(err, "create container %s", o->id);
        }
        creation_free(&c);
        return r;
}

/* Poststart hooks were kept in the state at create; a failure only warns (runtime-spec). */
static void run_poststart(const struct rt_state *st)
{
        if (st->poststart == NULL)
                return;
        struct rt_hook_list l = {0};
        if (rt_hooks_from_json(st->poststart, &l) == 0) {
                _cleanup_free_ char *json = rt_state_json_string(st, RT_RUNNING);
                rt_hooks_run_warn(&l, "poststart", json);
        }
        rt_hook_list_clear(&l);
}

int rt_container_start(const struct rt_context *ctx, const char *id, struct gerr **err)
{
        struct rt_state *st = NULL;
        int r = rt_state_load(ctx, id, &st, err);
        if (r < 0)
                return r;
        enum rt_status status = rt_state_status(st);
        if (status != RT_CREATED) {
                r = gerr_set(err, EINVAL, "cannot start a container in the %s state",
                             rt_status_name(status));
                rt_state_free(st);
                return r;
        }
        char fifo[PATH_MAX];
        snprintf(fifo, sizeof(fifo), "%s/exec.fifo", st->dir);
        _cleanup_close_ int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                r = gerr_set(err, errno, "open %s", fifo);
                rt_state_free(st);
                return r;
        }
        _cleanup_close_ int pidfd = rt_state_pidfd(st);
        /* One byte: the init is past the handshake. Then EOF: its user process is executing
         * (the write end closes on exec) or it died; poststart hooks come after that. */
        char byte;
        size_t got = 0;
        for (;;) {
                /* No read before poll: a fifo whose writer has not opened it yet reads as EOF. */
                struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN},
                                        {.fd = pidfd, .events = POLLIN}};
                if (poll(pfd, pidfd >= 0 ? 2 : 1, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (pfd[0].revents & POLLIN) {
                        ssize_t n = read(fd, &byte, 1);
                        if (n == 1) {
                                got++;
                                continue;
                        }
                        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                                continue;
                        break;
                }
                if (pfd[0].revents & (POLLHUP | POLLERR))
                        break;
                if (pidfd >= 0 && pfd[1].revents)
                        break;
        }
        unlink(fifo);
        if (got == 0) {
                r = gerr_set(err, 0, "cannot start container %s: its init has exited", id);
                rt_state_free(st);
                return r;
        }
        run_poststart(st);
        rt_state_free(st);
        return 0;
}

static void container_cleanup(struct rt_state *st)
{
        if (st->cgroup != NULL) {
                struct gerr *e = NULL;
                if (rt_cgroup_destroy(st->cgroup, &e) < 0)
                        log_warn("%s", e->msg);
                gerr_free(e);
        }
        if (st->poststop != NULL) {
                struct rt_hook_list l = {0};
                if (rt_hooks_from_json(st->poststop, &l) == 0) {
                        _cleanup_free_ char *json = rt_state_json_string(st, RT_STOPPED);
                        rt_hooks_run_warn(&l, "poststop", json);
                }
                rt_hook_list_clear(&l);
        }
        fs_rm_rf(st->dir);
}

int rt_wait_forwarding(pid_t pid, int pidfd, int tty_master)
{
        sigset_t all, old;
        sigfillset(&all);
        sigdelset(&all, SIGSEGV);
        sigdelset(&all, SIGBUS);
        sigdelset(&all, SIGILL);
        sigdelset(&all, SIGFPE);
        sigprocmask(SIG_BLOCK, &all, &old);
        if (tty_master >= 0) {
                rt_terminal_proxy(tty_master, pidfd);
        } else {
                int sfd = signalfd(-1, &all, SFD_CLOEXEC);
                struct pollfd pfd[2] = {{.fd = pidfd, .events = POLLIN},
                                        {.fd = sfd, .events = POLLIN}};
                for (;;) {
                        if (poll(pfd, sfd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
                                break;
                        if (pfd[0].revents)
                                break;
                        struct signalfd_siginfo si;
                        if (sfd >= 0 && (pfd[1].revents & POLLIN) &&
                            read(sfd, &si, sizeof(si)) == sizeof(si)) {
                                int sig = (int)si.ssi_signo;
                                if (sig != SIGCHLD && sig != SIGWINCH && sig != SIGURG)
                                        syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
                        }
                }
                if (sfd >= 0)
                        close(sfd);
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return 255;
}

int rt_container_run(const struct rt_context *ctx, const struct rt_create_opts *o, int *status,
                     struct gerr **err)
{
        struct creation c;
        creation_init(&c);
        int r = do_create(ctx, o, false, !o->detach, &c, err);
        if (r < 0) {
                creation_undo(&c);
                gerr_wrap(err, "run container %s", o->id);
                creation_free(&c);
                return r;
        }
        _cleanup_close_ int master = -1;
        if (c.console_fd >= 0) {
                master = rt_recv_fd(c.console_fd, err);
                if (master < 0) {
                        r = master;
                        creation_undo(&c);
                        creation_free(&c);
                        return r;
                }
        }
        rt_sync_send(c.sync_fd, RT_SYNC_START, NULL, 0);
        /* EOF on the sync socket: the init's end closed on execve. A message: it failed. */
        char *failure = NULL;
        if (rt_sync_recv(c.sync_fd, &failure) == RT_SYNC_ERROR) {
                gerr_set(err, 0, "%s", failure ? failure : "container init failed");
                free(failure);
                gerr_wrap(err, "run container %s", o->id);
                creation_undo(&c);
                creation_free(&c);
                return -EIO;
        }
        free(failure);
        if (c.spec->hooks[RT_HOOK_POSTSTART].n > 0) {
                _cleanup_free_ char *json = rt_state_json_string(c.st, RT_RUNNING);
                rt_hooks_run_warn(&c.spec->hooks[RT_HOOK_POSTSTART], "poststart", json);
        }
        if (o->detach) {
                *status = 0;
                creation_free(&c);
                return 0;
        }
        log_debug("run %s: started", o->id);
        *status = rt_wait_forwarding(c.pid, c.pidfd, master);
        close(c.pidfd);
        c.pidfd = -1;
        log_debug("run %s: exited with %d", o->id, *status);
        if (!o->keep)
                container_cleanup(c.st);
        log_debug("run %s: deleted", o->id);
        creation_free(&c);
        return 0;
}

int rt_container_state(const struct rt_context *ctx, const char *id, json_t **out,
                       struct gerr **err)
{
        struct rt_state *st = NULL;
        int r = rt_state_load(ctx, id, &st, err);
        if (r < 0)
                return r;
        *out = rt_state_json(st, rt_state_status(st));
        rt_state_free(st);
        return 0;
}

int rt_container_list(const struct rt_context *ctx, json_t **out, struct gerr **err)
{
        json_t *arr = json_array();
        DIR *d = opendir(ctx->root);
        if (d == NULL) {
                if (errno == ENOENT) {
                        *out = arr;
                        return 0;
                }
                json_decref(arr);
                return gerr_set(err, errno, "open %s", ctx->root);
        }
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.')
                        continue;
                struct rt_state *st = NULL;
                struct gerr *e = NULL;
                if (rt_state_load(ctx, de->d_name, &st, &e) < 0) {
                        gerr_free(e);
                        continue;
                }
                json_array_append_new(arr, rt_state_json(st, rt_state_status(st)));
                rt_state_free(st);
        }
        closedir(d);
        *out = arr;
        return 0;
}

int rt_container_kill(const struct rt_context *ctx, const char *id, int sig, bool all,
                      struct gerr **err)
{
        struct rt_state *st = NULL;
        int r = rt_state_load(ctx, id, &st, err);
        if (r < 0)
                return r;
        enum rt_status status = rt_state_status(st);
        if (status == RT_STOPPED || status == RT_CREATING) {
                r = gerr_set(err, 0, "container \"%s\" is not running", id);
                rt_state_free(st);
                return -ESRCH;
        }
        if (all && st->cgroup != NULL) {
                r = rt_cgroup_kill_all(st->cgroup, sig, err);
        } else {
                int pidfd = rt_state_pidfd(st);
                if (pidfd < 0) {
                        r = gerr_set(err, -pidfd, "signal container %s", id);
                } else {
                        r = 0;
                        if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
                                r = gerr_set(err, errno, "signal %d to container %s", sig, id);
                        close(pidfd);
                }
        }
        rt_state_free(st);
        return r;
}

/* Wait until the process behind pidfd is gone, up to timeout_ms. */
static bool wait_gone(int pidfd, int timeout_ms)
{
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        return poll(&p, 1, timeout_ms) > 0;
}

int rt_container_delete(const struct rt_context *ctx, const char *id, bool force,
                        struct gerr **err)
{
        struct rt_state *st = NULL;
        struct gerr *e = NULL;
        int r = rt_state_load(ctx, id, &st, &e);
        if (r < 0) {
                if (r == -ENOENT && force) {
                        gerr_free(e);
                        return 0;
                }
                if (err != NULL && *err == NULL)
                        *err = e;
                else
                        gerr_free(e);
                return r;
        }
        enum rt_status status = rt_state_status(st);
        /* runtime-spec runtime.md "delete": deleting a container that is not stopped MUST
         * generate an error, and a created one is not stopped (runc kills it; crun refuses). */
        if ((status == RT_CREATED || status == RT_RUNNING || status == RT_PAUSED) && !force) {
                r = gerr_set(err, 0, "cannot delete container %s that is not stopped: %s", id,
                             rt_status_name(status));
                rt_state_free(st);
                return -EBUSY;
        }
        if (status != RT_STOPPED && status != RT_CREATING) {
                int pidfd = rt_state_pidfd(st);
                if (pidfd >= 0) {
                        if (status == RT_PAUSED)
                                rt_cgroup_freeze(st->cgroup, false, NULL);
                        syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                        wait_gone(pidfd, 10000);
                        close(pidfd);
                }
        }
        container_cleanup(st);
        rt_state_free(st);
        return 0;
}

int rt_container_pids(const struct rt_context *ctx, const char *id, pid_t **pids, size_t *n,
                      struct gerr **err)
{
        struct rt_state *st = NULL;
        int r = rt_state_load(ctx, id, &st, err);
        if (r < 0)
                return r;
        if (st->cgroup == NULL) {
                *pids = NULL;
                *n = 0;
        } else {
                r = rt_cgroup_pids(st->cgroup, pids, n, err);
        }
        rt_state_free(st);
        return r;
}

int rt_container_pause(const struct rt_context *ctx, const char *id, bool pause,
                       struct gerr **err)
{
        struct rt_state *st = NULL;
        int r = rt_state_load(ctx, id, &st, err);
        if (r < 0)
                return r;
        enum rt_status status = rt_state_status(st);
        if (pause && status != RT_RUNNING)
                r = gerr_set(err, EINVAL, "container %s is not running", id);
        else if (!pause && status != RT_PAUSED)
                r = gerr_set(err, EINVAL, "container %s is not paused", id);
        else
                r = rt_cgroup_freeze(st->cgroup, pause, err);
        rt_state_free(st);
        return r;
}

int rt_container_update(const struct rt_context *ctx, const char *id, json_t *resources,
                        struct gerr **err)
{
        struct rt_state *st = NULL;
        int r = rt_state_load(ctx, id, &st, err);
        if (r < 0)
                return r;
        /* Reuse the config.json parser's validation of linux.resources. */
        json_auto_t *doc = json_pack("{s:s,s:{s:s},s:{s:O}}", "ociVersion", "1.1.0", "root",
                                     "path", "/", "linux", "resources", resources);
        _cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT);
        struct rt_spec *s = NULL;
        r = rt_spec_parse(text, strlen(text), "/", &s, err);
        if (r == 0 && st->cgroup != NULL && s->linux.resources != NULL)
                r = rt_cgroup_update(st->cgroup, s->linux.resources, err);
        rt_spec_free(s);
        rt_state_free(st);
        return r;
}
