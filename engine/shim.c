/* The engine's side of gantry-shim: spawn one per container, then talk to it on its socket. */
#include "engine/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/unixaddr.h"

/* How long a shim may take to create its container (hooks included) before we give up. */
#define SPAWN_TIMEOUT_MS 60000

char *eng_shim_socket_path(const char *exec_root, const char *id)
{
        char *p = NULL;
        if (asprintf(&p, "%s/shims/%s.sock", exec_root, id) < 0)
                return NULL;
        return p;
}

char *eng_find_program(const char *name, const char *env_var)
{
        const char *env = env_var ? getenv(env_var) : NULL;
        if (env != NULL && *env != '\0')
                return strdup(env);
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n > 0) {
                exe[n] = '\0';
                char *dir = dirname(exe);
                static const char *const rel[] = {"%s/%s", "%s/../%s/%s", "%s/../../cmd/%s/%s"};
                for (size_t i = 0; i < ARRAY_SIZE(rel); i++) {
                        char *p = NULL;
                        if ((i == 0 ? asprintf(&p, rel[i], dir, name)
                                    : asprintf(&p, rel[i], dir, name, name)) < 0)
                                return NULL;
                        if (access(p, X_OK) == 0)
                                return p;
                        free(p);
                }
        }
        char *p = NULL;
        return asprintf(&p, "/usr/local/bin/%s", name) < 0 ? NULL : p;
}

static char *find_shim(void)
{
        return eng_find_program("gantry-shim", "GANTRY_SHIM");
}

/* An error whose message is already complete (no strerror), carrying code as its errno. */
static int fail_msg(struct gerr **err, int code, const char *msg)
{
        gerr_set(err, 0, "%s", msg);
        if (err != NULL && *err != NULL && (*err)->errnum == 0)
                (*err)->errnum = code;
        return -code;
}

static int not_running(struct gerr **err, const char *id)
{
        char msg[512];
        snprintf(msg, sizeof(msg), "container %s is not running", id);
        return fail_msg(err, ESRCH, msg);
}

static int read_line_timeout(int fd, char *buf, size_t cap, int timeout_ms)
{
        size_t len = 0;
        while (len + 1 < cap) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                int r = poll(&p, 1, timeout_ms);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return r == 0 ? -ETIMEDOUT : -errno;
                ssize_t k = read(fd, buf + len, 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                if (buf[len] == '\n')
                        break;
                len++;
        }
        buf[len] = '\0';
        return (int)len;
}

/* posix_spawn clones with CLONE_VM|CLONE_VFORK: no copy of the daemon's page tables, the cost
 * that fork() paid on the start path. The shim forks once itself (--detach, --spare) and its
 * first process exits at once, so it belongs to no one of ours; fd3 becomes its fd 3. */
static int spawn_shim(const char *shim, const char *const *argv, int fd3, struct gerr **err)
{
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_adddup2(&fa, fd3, 3);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0);
        posix_spawn_file_actions_adddup2(&fa, 0, 1);
        posix_spawn_file_actions_adddup2(&fa, 0, 2);
        /* The daemon's signal mask and handled signals must not reach the container. */
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                                POSIX_SPAWN_SETSID);
        pid_t mid = 0;
        int sr = posix_spawn(&mid, shim, &fa, &attr, (char *const *)argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (sr != 0)
                return gerr_set(err, sr, "spawn %s", shim);
        int st;
        while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
                ;
        return 0;
}

/* One spare shim waits ahead of need (gantry-shim --spare, at the other end of spare_sock): a
 * start hands it its arguments and skips the spawn (exec, static start-up, detach fork). The
 * next spare is made by a thread out of the starts' way: at once after a container's exit (the
 * moment between one `run --rm` and the next), else a while after a start, when the starting
 * container has had the CPU to itself (on 2 cores a spawn beside a start slows both). */
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t spare_cond = PTHREAD_COND_INITIALIZER;
static int spare_sock = -1;
static bool spare_coming, spare_now, spares_closed;
static unsigned spare_delay_ms;

static void *refill_main(void *p)
{
        char *shim = p;
        pthread_mutex_lock(&spare_lock);
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += spare_delay_ms / 1000;
        dl.tv_nsec += (long)(spare_delay_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
                dl.tv_sec++;
                dl.tv_nsec -= 1000000000L;
        }
        while (!spare_now && !spares_closed &&
               pthread_cond_timedwait(&spare_cond, &spare_lock, &dl) != ETIMEDOUT)
                ;
        bool closed = spares_closed;
        pthread_mutex_unlock(&spare_lock);
        int sp[2] = {-1, -1};
        /* Room for the arguments the spare will show as its own (shim_spare_retitle). */
        static char room[4096];
        if (room[0] == '\0')
                memset(room, ' ', sizeof(room) - 1);
        const char *argv[] = {"gantry-shim", "--spare", room, NULL};
        if (!closed && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0 &&
            spawn_shim(shim, argv, sp[1], NULL) < 0) {
                close(sp[0]);
                sp[0] = -1;
        }
        if (sp[1] >= 0)
                close(sp[1]);
        pthread_mutex_lock(&spare_lock);
        spare_coming = spare_now = false;
        if (spare_sock < 0 && !spares_closed) {
                spare_sock = sp[0];
                sp[0] = -1;
        }
        pthread_mutex_unlock(&spare_lock);
        if (sp[0] >= 0)
                close(sp[0]); /* the spare reads EOF and exits */
        free(shim);
        return NULL;
}

void eng_shim_spare_refill(unsigned delay_ms)
{
        pthread_mutex_lock(&spare_lock);
        bool go = spare_sock < 0 && !spare_coming && !spares_closed;
        if (spare_coming && delay_ms == 0) {
                spare_now = true; /* the waiting one goes now */
                pthread_cond_broadcast(&spare_cond);
        }
        if (go) {
                spare_coming = true;
                spare_now = delay_ms == 0;
                spare_delay_ms = delay_ms;
        }
        pthread_mutex_unlock(&spare_lock);
        if (!go)
                return;
        char *arg = find_shim();
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&a, 64 * 1024);
        pthread_t t;
        if (arg == NULL || pthread_create(&t, &a, refill_main, arg) != 0) {
                free(arg);
                pthread_mutex_lock(&spare_lock);
                spare_coming = false;
                pthread_mutex_unlock(&spare_lock);
        }
        pthread_attr_destroy(&a);
}

/* The spare's arguments (argv without its name), NUL-terminated strings, and ready_fd with
 * them; false when there is no spare or it is gone (the caller spawns one then). */
static bool hand_to_spare(const char *const *argv, int ready_fd)
{
        pthread_mutex_lock(&spare_lock);
        int sock = spare_sock;
        spare_sock = -1;
        pthread_mutex_unlock(&spare_lock);
        if (sock < 0)
                return false;
        char buf[8192];
        size_t len = 0;
        for (const char *const *a = argv + 1; *a != NULL; a++) {
                size_t n = strlen(*a) + 1;
                if (len + n > sizeof(buf)) {
                        close(sock);
                        return false;
                }
                memcpy(buf + len, *a, n);
                len += n;
        }
        union {
                struct cmsghdr h;
                char b[CMSG_SPACE(sizeof(int))];
        } ctl;
        memset(&ctl, 0, sizeof(ctl));
        struct iovec iov = {.iov_base = buf, .iov_len = len};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                           .msg_controllen = sizeof(ctl.b)};
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &ready_fd, sizeof(int));
        ssize_t n;
        while ((n = sendmsg(sock, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
                ;
        close(sock);
        return n == (ssize_t)len;
}

void eng_shim_spares_close(void)
{
        pthread_mutex_lock(&spare_lock);
        spares_closed = true;
        pthread_cond_broadcast(&spare_cond);
        if (spare_sock >= 0)
                close(spare_sock);
        spare_sock = -1;
        pthread_mutex_unlock(&spare_lock);
}

int eng_shim_spawn(const struct eng_shim_spawn_opts *o, pid_t *shim_pid, pid_t *container_pid,
                   struct gerr **err)
{
        _cleanup_free_ char *shim = find_shim();
        if (shim == NULL)
                return gerr_set(err, ENOMEM, "spawn shim");
        char max_size[32], max_files[32];
        snprintf(max_size, sizeof(max_size), "%ld", o->log_max_size);
        snprintf(max_files, sizeof(max_files), "%d", o->log_max_files < 1 ? 1 : o->log_max_files);
        const char *argv[32];
        size_t n = 0;
        argv[n++] = "gantry-shim";
        const char *pairs[][2] = {{"--id", o->id},
                                  {"--bundle", o->bundle},
                                  {"--exec-root", o->exec_root},
                                  {"--runtime-root", o->runtime_root},
                                  {"--log-path", o->log_path},
                                  {"--exit-path", o->exit_path},
                                  {"--log-max-size", max_size},
                                  {"--log-max-files", max_files}};
        for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
                if (pairs[i][1] == NULL)
                        return gerr_set(err, EINVAL, "spawn shim: %s missing", pairs[i][0]);
                argv[n++] = pairs[i][0];
                argv[n++] = pairs[i][1];
        }
        if (o->tty)
                argv[n++] = "--tty";
        if (o->open_stdin)
                argv[n++] = "--open-stdin";
        if (o->stdin_once)
                argv[n++] = "--stdin-once";
        if (o->no_log)
                argv[n++] = "--no-log";
        argv[n] = NULL;

        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return gerr_set(err, errno, "pipe");
        _cleanup_close_ int rd = p[0];
        int r = 0;
        if (!hand_to_spare(argv, p[1])) {
                argv[n++] = "--detach";
                argv[n] = NULL;
                r = spawn_shim(shim, argv, p[1], err);
        }
        close(p[1]);
        if (r < 0)
                return r;
        char line[4096];
        r = read_line_timeout(rd, line, sizeof(line), SPAWN_TIMEOUT_MS);
        if (r < 0)
                return gerr_set(err, -r, "start shim %s for container %s", shim, o->id);
        int a = 0, b = 0, off = 0;
        if (sscanf(line, "ready %d %d", &a, &b) == 2) {
                *shim_pid = a;
                *container_pid = b;
                return 0;
        }
        if (sscanf(line, "error %d %n", &a, &off) == 1 && off > 0)
                return fail_msg(err, a > 0 ? a : EIO, line + off);
        return gerr_set(err, EIO, "shim %s for container %s exited before it was ready", shim,
                        o->id);
}

static int shim_connect(const char *exec_root, const char *id, struct gerr **err)
{
        _cleanup_free_ char *path = eng_shim_socket_path(exec_root, id);
        if (path == NULL)
                return gerr_set(err, ENOMEM, "shim socket of %s", id);
        _cleanup_(unix_addr_done) struct unix_addr ua = {.dirfd = -1};
        int r = unix_addr_init(&ua, path);
        if (r == -ENOENT)
                return not_running(err, id);
        if (r < 0)
                return gerr_set(err, -r, "shim socket %s", path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return gerr_set(err, errno, "socket");
        if (connect(fd, (struct sockaddr *)&ua.sa, ua.len) < 0) {
                if (errno == ENOENT || errno == ECONNREFUSED)
                        return not_running(err, id);
                return gerr_set(err, errno, "connect %s", path);
        }
        return TAKE_FD(fd);
}

/* Send one command line, read the reply line (byte by byte: a stream may follow it). */
static int shim_call(const char *exec_root, const char *id, const char *cmd, int *fd_out,
                     char *reply, size_t cap, struct gerr **err)
{
        _cleanup_close_ int fd = shim_connect(exec_root, id, err);
        if (fd < 0)
                return fd;
        size_t len = strlen(cmd);
        if (send(fd, cmd, len, MSG_NOSIGNAL) != (ssize_t)len)
                return gerr_set(err, errno ? errno : EIO, "send to shim of %s", id);
        int r = read_line_timeout(fd, reply, cap, -1);
        if (r < 0)
                return gerr_set(err, -r, "read from shim of %s", id);
        if (r == 0)
                /* The shim went away between accept and reply: the container is gone. */
                return not_running(err, id);
        int code = 0, off = 0;
        if (sscanf(reply, "error %d %n", &code, &off) == 1 && off > 0)
                return fail_msg(err, code > 0 ? code : EIO, reply + off);
        if (fd_out != NULL)
                *fd_out = TAKE_FD(fd);
        return 0;
}

static int shim_simple(const char *exec_root, const char *id, const char *cmd, struct gerr **err)
{
        char reply[1024];
        int r = shim_call(exec_root, id, cmd, NULL, reply, sizeof(reply), err);
        if (r < 0)
                return r;
        if (strcmp(reply, "ok") != 0)
                return gerr_set(err, EPROTO, "shim of %s: unexpected reply \"%s\"", id, reply);
        return 0;
}

int eng_shim_start(const char *exec_root, const char *id, struct gerr **err)
{
        return shim_simple(exec_root, id, "start\n", err);
}

int eng_shim_attach(const char *exec_root, const char *id, bool want_stdin, bool want_stdout,
                    bool want_stderr, int *fd_out, struct gerr **err)
{
        char cmd[64], reply[1024];
        snprintf(cmd, sizeof(cmd), "attach %d %d %d\n", want_stdin, want_stdout, want_stderr);
        int fd = -1;
        int r = shim_call(exec_root, id, cmd, &fd, reply, sizeof(reply), err);
        if (r < 0)
                return r;
        if (strcmp(reply, "ok") != 0) {
                close(fd);
                return gerr_set(err, EPROTO, "shim of %s: unexpected reply \"%s\"", id, reply);
        }
        *fd_out = fd;
        return 0;
}

int eng_shim_resize(const char *exec_root, const char *id, unsigned h, unsigned w,
                    struct gerr **err)
{
        char cmd[64];
        snprintf(cmd, sizeof(cmd), "resize %u %u\n", h, w);
        return shim_simple(exec_root, id, cmd, err);
}

int eng_shim_kill(const char *exec_root, const char *id, int sig, struct gerr **err)
{
        char cmd[64];
        snprintf(cmd, sizeof(cmd), "kill %d\n", sig);
        return shim_simple(exec_root, id, cmd, err);
}

int eng_shim_read_exit(const char *exit_path, struct eng_exit *out, struct gerr **err)
{
        json_error_t je;
        json_t *j = json_load_file(exit_path, 0, &je);
        if (j == NULL) {
                if (access(exit_path, F_OK) < 0)
                        return gerr_set(err, errno, "exit status %s", exit_path);
                return gerr_set(err, EINVAL, "exit status %s: %s", exit_path, je.text);
        }
        memset(out, 0, sizeof(*out));
        json_t *code = json_object_get(j, "ExitCode");
        json_t *at = json_object_get(j, "FinishedAt");
        out->code = json_is_integer(code) ? (int)json_integer_value(code) : 255;
        out->oom_killed = json_is_true(json_object_get(j, "OOMKilled"));
        if (json_is_string(at))
                snprintf(out->finished_at, sizeof(out->finished_at), "%s", json_string_value(at));
        json_decref(j);
        return 0;
}

int eng_shim_wait(const char *exec_root, const char *id, const char *exit_path,
                  struct eng_exit *out, struct gerr **err)
{
        char reply[256];
        struct gerr *e = NULL;
        int r = shim_call(exec_root, id, "wait\n", NULL, reply, sizeof(reply), &e);
        if (r == -ESRCH) {
                /* Shim gone (exited, or killed): its exit file is all there is. */
                gerr_free(e);
                return eng_shim_read_exit(exit_path, out, err);
        }
        if (r < 0) {
                if (err != NULL && *err == NULL)
                        *err = e;
                else
                        gerr_free(e);
                return r;
        }
        int code = 0, oom = 0, off = 0;
        if (sscanf(reply, "exit %d %d %n", &code, &oom, &off) < 2 || off == 0)
                return gerr_set(err, EPROTO, "shim of %s: unexpected reply \"%s\"", id, reply);
        memset(out, 0, sizeof(*out));
        out->code = code;
        out->oom_killed = oom != 0;
        snprintf(out->finished_at, sizeof(out->finished_at), "%s", reply + off);
        return 0;
}

int eng_shim_wait_send(const char *exec_root, const char *id, struct gerr **err)
{
        _cleanup_close_ int fd = shim_connect(exec_root, id, err);
        if (fd < 0)
                return fd;
        if (send(fd, "wait\n", 5, MSG_NOSIGNAL) != 5)
                return gerr_set(err, errno ? errno : EIO, "send to shim of %s", id);
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
                return gerr_set(err, errno, "shim socket of %s", id);
        return TAKE_FD(fd);
}

int eng_shim_wait_reply(const char *reply, const char *id, const char *exit_path,
                        struct eng_exit *out, struct gerr **err)
{
        if (reply == NULL)
                return eng_shim_read_exit(exit_path, out, err);
        int code = 0, oom = 0, off = 0;
        if (sscanf(reply, "error %d %n", &code, &off) == 1 && off > 0)
                return fail_msg(err, code > 0 ? code : EIO, reply + off);
        off = 0;
        if (sscanf(reply, "exit %d %d %n", &code, &oom, &off) < 2 || off == 0)
                return gerr_set(err, EPROTO, "shim of %s: unexpected reply \"%s\"", id, reply);
        memset(out, 0, sizeof(*out));
        out->code = code;
        out->oom_killed = oom != 0;
        snprintf(out->finished_at, sizeof(out->finished_at), "%s", reply + off);
        return 0;
}

int eng_shim_exec(const char *exec_root, const char *id, const struct eng_shim_exec_opts *o,
                  int *fd_out, pid_t *pid_out, struct gerr **err)
{
        char cmd[PATH_MAX + 256], reply[1024];
        int n = snprintf(cmd, sizeof(cmd), "exec %s %d %d %d %s\n", o->exec_id, o->tty,
                         o->want_stdin, o->detach, o->process_file);
        if (n >= (int)sizeof(cmd) || strchr(o->process_file, ' ') != NULL)
                return gerr_set(err, ENAMETOOLONG, "exec process file %s", o->process_file);
        int fd = -1;
        int r = shim_call(exec_root, id, cmd, o->detach ? NULL : &fd, reply, sizeof(reply), err);
        if (r < 0)
                return r;
        int pid = 0;
        if (sscanf(reply, "ok %d", &pid) != 1) {
                if (fd >= 0)
                        close(fd);
                return gerr_set(err, EPROTO, "shim of %s: unexpected reply \"%s\"", id, reply);
        }
        if (pid_out != NULL)
                *pid_out = pid;
        if (fd_out != NULL)
                *fd_out = fd;
        else if (fd >= 0)
                close(fd);
        return 0;
}

int eng_shim_exec_status(const char *exec_root, const char *id, const char *exec_id,
                         bool *running, int *code, struct gerr **err)
{
        char cmd[128], reply[256];
        snprintf(cmd, sizeof(cmd), "execstatus %s\n", exec_id);
        int r = shim_call(exec_root, id, cmd, NULL, reply, sizeof(reply), err);
        if (r < 0)
                return r;
        int v = 0;
        if (sscanf(reply, "exit %d", &v) == 1) {
                *running = false;
                *code = v;
        } else if (sscanf(reply, "running %d", &v) == 1) {
                *running = true;
        } else {
                return gerr_set(err, EPROTO, "shim of %s: unexpected reply \"%s\"", id, reply);
        }
        return 0;
}

int eng_shim_exec_resize(const char *exec_root, const char *id, const char *exec_id, unsigned h,
                         unsigned w, struct gerr **err)
{
        char cmd[160];
        snprintf(cmd, sizeof(cmd), "execresize %s %u %u\n", exec_id, h, w);
        return shim_simple(exec_root, id, cmd, err);
}
