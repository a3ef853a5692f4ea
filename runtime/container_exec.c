/* exec: start another process inside a running container's namespaces and cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runtime/cgroup.h"
#include "runtime/container_internal.h"
#include "runtime/runtime.h"
#include "runtime/security.h"
#include "runtime/state.h"
#include "runtime/terminal.h"

static const struct {
        const char *name;
        int type;
} ns_files[] = {
        {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS},    {"net", CLONE_NEWNET},
        {"ipc", CLONE_NEWIPC},   {"uts", CLONE_NEWUTS},   {"cgroup", CLONE_NEWCGROUP},
        {"pid", CLONE_NEWPID},   {"time", 0x00000080 /* CLONE_NEWTIME */},
};

/* The namespaces where the container differs from us: joining the user namespace we are
 * already in is EINVAL, and the others would be no-ops. */
static int differing_namespaces(pid_t pid)
{
        int flags = 0;
        for (size_t i = 0; i < ARRAY_SIZE(ns_files); i++) {
                char a[64], b[64];
                struct stat sa, sb;
                snprintf(a, sizeof(a), "/proc/%d/ns/%s", pid, ns_files[i].name);
                snprintf(b, sizeof(b), "/proc/self/ns/%s", ns_files[i].name);
                if (stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_ino != sb.st_ino)
                        flags |= ns_files[i].type;
        }
        return flags;
}

static json_t *strv_json(char **v)
{
        json_t *a = json_array();
        for (; v != NULL && *v != NULL; v++)
                json_array_append_new(a, json_string(*v));
        return a;
}

/* Start from config.json's process (runc does the same) and apply the exec flags. */
static int build_process_json(const struct rt_state *st, const struct rt_exec_opts *o,
                              json_t **out, struct gerr **err)
{
        if (o->process_file != NULL) {
                json_error_t je;
                json_t *p = json_load_file(o->process_file, JSON_REJECT_DUPLICATES, &je);
                if (p == NULL)
                        return gerr_set(err, EINVAL, "%s: %s (line %d)", o->process_file, je.text,
                                        je.line);
                *out = p;
                return 0;
        }
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/config.json", st->bundle);
        json_error_t je;
        json_auto_t *cfg = json_load_file(path, 0, &je);
        if (cfg == NULL)
                return gerr_set(err, EINVAL, "%s: %s", path, je.text);
        json_t *p = json_deep_copy(json_object_get(cfg, "process"));
        if (p == NULL)
                p = json_object();
        if (o->args == NULL || o->args[0] == NULL) {
                json_decref(p);
                return gerr_set(err, EINVAL, "exec: no command given");
        }
        json_object_set_new(p, "args", strv_json(o->args));
        json_t *env = json_object_get(p, "env");
        if (!json_is_array(env)) {
                env = json_array();
                json_object_set_new(p, "env", env);
        }
        for (char **e = o->env; e != NULL && *e != NULL; e++)
                json_array_append_new(env, json_string(*e));
        if (o->cwd != NULL)
                json_object_set_new(p, "cwd", json_string(o->cwd));
        if (json_object_get(p, "cwd") == NULL)
                json_object_set_new(p, "cwd", json_string("/"));
        if (o->tty_set)
                json_object_set_new(p, "terminal", json_boolean(o->tty));
        if (o->no_new_privs_set)
                json_object_set_new(p, "noNewPrivileges", json_boolean(o->no_new_privs));
        if (o->apparmor != NULL)
                json_object_set_new(p, "apparmorProfile", json_string(o->apparmor));
        if (o->process_label != NULL)
                json_object_set_new(p, "selinuxLabel", json_string(o->process_label));
        if (o->user != NULL) {
                char *end = NULL;
                unsigned long uid = strtoul(o->user, &end, 10);
                unsigned long gid = 0;
                if (end == o->user || (*end != '\0' && *end != ':'))
                        goto bad_user;
                if (*end == ':') {
                        const char *g = end + 1;
                        gid = strtoul(g, &end, 10);
                        if (end == g || *end != '\0')
                                goto bad_user;
                }
                json_t *u = json_pack("{s:I,s:I}", "uid", (json_int_t)uid, "gid",
                                      (json_int_t)gid);
                json_object_set_new(p, "user", u);
        }
        if (o->n_additional_gids > 0) {
                json_t *u = json_object_get(p, "user");
                if (u == NULL) {
                        u = json_pack("{s:i,s:i}", "uid", 0, "gid", 0);
                        json_object_set_new(p, "user", u);
                }
                json_t *g = json_array();
                for (size_t i = 0; i < o->n_additional_gids; i++)
                        json_array_append_new(g, json_integer(o->additional_gids[i]));
                json_object_set_new(u, "additionalGids", g);
        }
        if (o->cap_add != NULL) {
                json_t *caps = json_object_get(p, "capabilities");
                if (caps == NULL) {
                        caps = json_object();
                        json_object_set_new(p, "capabilities", caps);
                }
                static const char *const sets[] = {"bounding", "effective", "permitted"};
                for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
                        json_t *s = json_object_get(caps, sets[i]);
                        if (s == NULL) {
                                s = json_array();
                                json_object_set_new(caps, sets[i], s);
                        }
                        for (char **c = o->cap_add; *c != NULL; c++)
                                json_array_append_new(s, json_string(*c));
                }
        }
        *out = p;
        return 0;
bad_user:
        json_decref(p);
        return gerr_set(err, EINVAL, "--user \"%s\": want uid[:gid]", o->user);
}

static int exec_child(struct rt_init_args *a, int container_pidfd, int ns_flags,
                      struct gerr **err)
{
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        int r = rt_sync_expect(a->sync_fd, RT_SYNC_GO, NULL, err);
        if (r < 0)
                return r;
        int join = ns_flags & ~(CLONE_NEWPID | 0x00000080);
        if (join != 0 && setns(container_pidfd, join) < 0)
                return gerr_set(err, errno, "join the container's namespaces");
        close(container_pidfd);
        if (setsid() < 0 && errno != EPERM)
                return gerr_set(err, errno, "setsid");
        r = rt_init_finish_process(a, true, err);
        if (r < 0)
                return r;
        char exe[PATH_MAX];
        r = rt_exec_lookup(a->process, exe, sizeof(exe), err);
        if (r < 0)
                return r;
        if (rt_sync_send(a->sync_fd, RT_SYNC_CREATED, NULL, 0) < 0)
                return gerr_set(err, errno, "sync with runtime");
        return rt_init_exec(a, exe, err);
}

struct exec_run {
        struct rt_state *st;
        struct rt_spec *spec;
        struct rt_process *process;
        struct rt_seccomp_prog *seccomp;
        int container_pidfd, sync_fd, console_fd, child_console, pidfd;
        pid_t pid;
};

static void exec_run_free(struct exec_run *x)
{
        int fds[] = {x->container_pidfd, x->sync_fd, x->console_fd, x->child_console, x->pidfd};
        for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        rt_seccomp_prog_free(x->seccomp);
        rt_process_free(x->process);
        rt_spec_free(x->spec);
        rt_state_free(x->st);
}

static int do_exec(const struct rt_context *ctx, const struct rt_exec_opts *o,
                   struct exec_run *x, int *status, struct gerr **err)
{
        int r = rt_state_load(ctx, o->id, &x->st, err);
        if (r < 0)
                return r;
        enum rt_status s = rt_state_status(x->st);
        if (s != RT_RUNNING && s != RT_CREATED)
                return gerr_set(err, EINVAL, "cannot exec in a %s container", rt_status_name(s));
        x->container_pidfd = rt_state_pidfd(x->st);
        if (x->container_pidfd < 0)
                return gerr_set(err, -x->container_pidfd, "container %s", o->id);
        r = rt_spec_load(x->st->bundle, &x->spec, err);
        if (r < 0)
                return r;
        json_auto_t *pj = NULL;
        r = build_process_json(x->st, o, &pj, err);
        if (r < 0)
                return r;
        r = rt_process_parse(pj, &x->process, err);
        if (r < 0)
                return r;
        r = rt_lsm_check(x->process, err);
        if (r < 0)
                return r;
        r = rt_seccomp_build(x->spec->linux.seccomp, ctx->root, &x->seccomp, err);
        if (r < 0)
                return r;
        if (o->console_socket != NULL) {
                if (!x->process->terminal)
                        return gerr_set(err, EINVAL,
                                        "--console-socket given but the process has no terminal");
                x->child_console = rt_console_socket_connect(o->console_socket, err);
                if (x->child_console < 0)
                        return x->child_console;
        } else if (x->process->terminal) {
                if (o->detach && o->master_out == NULL)
                        return gerr_set(err, EINVAL,
                                        "cannot allocate tty if the runtime will detach without "
                                        "setting console socket");
                int sv[2];
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                        return gerr_set(err, errno, "socketpair");
                x->console_fd = sv[0];
                x->child_console = sv[1];
        }
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return gerr_set(err, errno, "socketpair");
        x->sync_fd = sv[0];
        int child_sync = sv[1];
        int ns_flags = differing_namespaces(x->st->pid);

        struct rt_init_args a = {
                .spec = x->spec,
                .process = x->process,
                .sync_fd = child_sync,
                .console_fd = x->child_console,
                .preserve_fds = o->preserve_fds,
                .seccomp = x->seccomp,
                .id = o->id,
        };
        /* pid and time namespaces apply to children only: enter them for the clone. */
        int saved_pid = -1, saved_time = -1;
        if (ns_flags & CLONE_NEWPID) {
                saved_pid = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
                if (setns(x->container_pidfd, CLONE_NEWPID) < 0) {
                        close(child_sync);
                        close(saved_pid);
                        return gerr_set(err, errno, "join the pid namespace of %s", o->id);
                }
        }
        if (ns_flags & 0x00000080) {
                saved_time = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
                setns(x->container_pidfd, 0x00000080);
        }
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* the child must never be dumpable in there */
        pid_t pid = rt_clone3(0, &x->pidfd);
        if (pid == 0) {
                close(x->sync_fd);
                if (x->console_fd >= 0)
                        close(x->console_fd);
                struct gerr *e = NULL;
                exec_child(&a, x->container_pidfd, ns_flags, &e);
                rt_sync_send_error(child_sync, e);
                _exit(e && e->errnum == ENOENT ? 127 : e && e->errnum == EACCES ? 126 : 1);
        }
        int clone_errno = errno;
        if (saved_pid >= 0) {
                setns(saved_pid, CLONE_NEWPID);
                close(saved_pid);
        }
        if (saved_time >= 0) {
                setns(saved_time, 0x00000080);
                close(saved_time);
        }
        close(child_sync);
        if (pid < 0)
                return gerr_set(err, clone_errno, "clone3 exec process");
        x->pid = pid;
        if (x->st->cgroup != NULL) {
                r = rt_cgroup_enter(x->st->cgroup, pid, err);
                if (r < 0)
                        return r;
        }
        if (rt_sync_send(x->sync_fd, RT_SYNC_GO, NULL, 0) < 0)
                return gerr_set(err, errno, "sync with exec process");
        r = rt_sync_expect(x->sync_fd, RT_SYNC_CREATED, NULL, err);
        if (r < 0)
                return r;
        _cleanup_close_ int master = -1;
        if (x->console_fd >= 0) {
                master = rt_recv_fd(x->console_fd, err);
                if (master < 0)
                        return master;
        }
        if (o->pid_file != NULL) {
                char buf[32];
                int n = snprintf(buf, sizeof(buf), "%d", pid);
                _cleanup_free_ char *tmp = NULL;
                if (asprintf(&tmp, "%s.tmp-gantry", o->pid_file) < 0)
                        return -ENOMEM;
                r = fs_write_file(tmp, buf, (size_t)n, err);
                if (r < 0)
                        return r;
                if (rename(tmp, o->pid_file) < 0)
                        return gerr_set(err, errno, "rename pid file %s", o->pid_file);
        }
        if (o->detach) {
                if (o->pid_out != NULL)
                        *o->pid_out = pid;
                if (o->master_out != NULL)
                        *o->master_out = TAKE_FD(master);
                *status = 0;
                return 0;
        }
        *status = rt_wait_forwarding(pid, x->pidfd, master);
        x->pid = 0;
        return 0;
}

int rt_container_exec(const struct rt_context *ctx, const struct rt_exec_opts *o, int *status,
                      struct gerr **err)
{
        struct exec_run x = {.container_pidfd = -1,
                             .sync_fd = -1,
                             .console_fd = -1,
                             .child_console = -1,
                             .pidfd = -1};
        int r = do_exec(ctx, o, &x, status, err);
        if (r < 0) {
                if (x.pidfd >= 0 && x.pid > 0) {
                        syscall(SYS_pidfd_send_signal, x.pidfd, SIGKILL, NULL, 0);
                        waitpid(x.pid, NULL, 0);
                }
                gerr_wrap(err, "exec in container %s", o->id);
        }
        exec_run_free(&x);
        return r;
}
