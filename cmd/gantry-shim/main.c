/* gantry-shim: creates one container through the runtime library and monitors it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cmd/gantry-shim/shim.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/unixaddr.h"
#include "runtime/state.h"
#include "runtime/terminal.h"

/* The engine passes the write end of its readiness pipe as fd 3. */
#define READY_FD 3

static void usage(void)
{
        fprintf(stderr,
                "usage: gantry-shim --id ID --bundle DIR --exec-root DIR --runtime-root DIR "
                "--log-path FILE --exit-path FILE [--tty] [--open-stdin] [--stdin-once] "
                "[--log-max-size N] [--log-max-files N] [--no-log] [--detach]\n"
                "       gantry-shim --spare   (the engine sends the arguments on fd 3)\n");
        exit(2);
}

static void parse_args(int argc, char **argv, struct shim_opts *o)
{
        static const struct option longopts[] = {
            {"id", required_argument, NULL, 'i'},
            {"bundle", required_argument, NULL, 'b'},
            {"exec-root", required_argument, NULL, 'e'},
            {"runtime-root", required_argument, NULL, 'r'},
            {"log-path", required_argument, NULL, 'l'},
            {"exit-path", required_argument, NULL, 'x'},
            {"tty", no_argument, NULL, 't'},
            {"open-stdin", no_argument, NULL, 'I'},
            {"stdin-once", no_argument, NULL, 'O'},
            {"log-max-size", required_argument, NULL, 'S'},
            {"log-max-files", required_argument, NULL, 'F'},
            {"no-log", no_argument, NULL, 'N'},
            {"detach", no_argument, NULL, 'D'},
            {0},
        };
        memset(o, 0, sizeof(*o));
        o->log_max_files = 1;
        int c;
        while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                switch (c) {
                case 'i':
                        o->id = optarg;
                        break;
                case 'b':
                        o->bundle = optarg;
                        break;
                case 'e':
                        o->exec_root = optarg;
                        break;
                case 'r':
                        o->runtime_root = optarg;
                        break;
                case 'l':
                        o->log_path = optarg;
                        break;
                case 'x':
                        o->exit_path = optarg;
                        break;
                case 'N':
                        o->no_log = true;
                        break;
                case 'D':
                        o->detach = true;
                        break;
                case 't':
                        o->tty = true;
                        break;
                case 'I':
                        o->open_stdin = true;
                        break;
                case 'O':
                        o->stdin_once = true;
                        break;
                case 'S':
                        o->log_max_size = strtol(optarg, NULL, 10);
                        break;
                case 'F':
                        o->log_max_files = (int)strtol(optarg, NULL, 10);
                        break;
                default:
                        usage();
                }
        }
        if (o->id == NULL || o->bundle == NULL || o->exec_root == NULL || o->runtime_root == NULL ||
            o->log_path == NULL || o->exit_path == NULL)
                usage();
}

static int listen_unix(const char *path, struct gerr **err)
{
        _cleanup_(unix_addr_done) struct unix_addr ua = {.dirfd = -1};
        int r = unix_addr_init(&ua, path);
        if (r < 0)
                return gerr_set(err, -r, "socket path %s", path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return gerr_set(err, errno, "socket");
        unlink(path);
        if (bind(fd, (struct sockaddr *)&ua.sa, ua.len) < 0)
                return gerr_set(err, errno, "bind %s", path);
        if (listen(fd, 64) < 0)
                return gerr_set(err, errno, "listen %s", path);
        return TAKE_FD(fd);
}

/* The init inherits our 0/1/2 at clone: give it the container ends for the call's duration. */
static int create_with_stdio(const struct shim_opts *o, struct shim_setup *s, struct gerr **err)
{
        _cleanup_close_ int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull < 0)
                return gerr_set(err, errno, "open /dev/null");
        int out[2] = {-1, -1}, errp[2] = {-1, -1}, in[2] = {-1, -1};
        _cleanup_free_ char *console = NULL;
        _cleanup_close_ int console_fd = -1;
        int r = 0;
        if (o->tty) {
                if (asprintf(&console, "%s/shims/%s.console", o->exec_root, o->id) < 0)
                        return gerr_set(err, ENOMEM, "console path");
                console_fd = listen_unix(console, err);
                if (console_fd < 0)
                        return console_fd;
        } else {
                if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
                    (o->open_stdin && pipe2(in, O_CLOEXEC) < 0)) {
                        r = gerr_set(err, errno, "pipe");
                        goto out;
                }
                if (dup2(in[0] >= 0 ? in[0] : devnull, 0) < 0 || dup2(out[1], 1) < 0 ||
                    dup2(errp[1], 2) < 0) {
                        r = gerr_set(err, errno, "dup2");
                        goto out;
                }
        }
        struct rt_create_opts co = {.id = o->id, .bundle = o->bundle, .console_socket = console};
        r = rt_container_create(&s->ctx, &co, err);
        /* Never again write to the container's stdio by accident. */
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
        if (r < 0)
                goto out;
        if (o->tty) {
                /* The runtime connected and the init sent the master before create returned. */
                _cleanup_close_ int conn = accept4(console_fd, NULL, NULL, SOCK_CLOEXEC);
                if (conn < 0) {
                        r = gerr_set(err, errno, "accept on %s", console);
                        goto out;
                }
                int flags = fcntl(conn, F_GETFL);
                fcntl(conn, F_SETFL, flags & ~O_NONBLOCK);
                int master = rt_recv_fd(conn, err);
                if (master < 0) {
                        r = master;
                        goto out;
                }
                fcntl(master, F_SETFD, FD_CLOEXEC);
                s->out_fd = master;
                s->in_fd = o->open_stdin ? master : -1;
        } else {
                s->out_fd = TAKE_FD(out[0]);
                s->err_fd = TAKE_FD(errp[0]);
                s->in_fd = TAKE_FD(in[1]);
        }
out:
        if (console != NULL)
                unlink(console);
        int all[] = {out[0], out[1], errp[0], errp[1], in[0], in[1]};
        for (size_t i = 0; i < ARRAY_SIZE(all); i++)
                if (all[i] >= 0)
                        close(all[i]);
        return r;
}

/* true if the engine got the line */
static bool report(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool report(int fd, const char *fmt, ...)
{
        if (fd < 0)
                return false;
        char line[4096];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        if (n >= (int)sizeof(line)) {
                n = sizeof(line) - 1;
                line[n - 1] = '\n';
        }
        /* One line: the engine reads up to the first newline. */
        for (int i = 0; i < n - 1; i++)
                if (line[i] == '\n')
                        line[i] = ' ';
        return write(fd, line, (size_t)n) == n;
}

/* Everything up to "ready": on failure, nothing of the container stays behind. */
static int setup(const struct shim_opts *o, struct shim_setup *s, struct jsonlog *log,
                 struct gerr **err)
{
        int r =
            jsonlog_open(log, o->no_log ? NULL : o->log_path, o->log_max_size, o->log_max_files);
        if (r < 0)
                return gerr_set(err, -r, "open %s", o->log_path);
        r = create_with_stdio(o, s, err);
        if (r < 0)
                return r;
        if (chdir("/") < 0)
                log_warn("chdir /: %s", strerror(errno));
        struct rt_state *st = NULL;
        r = rt_state_load(&s->ctx, o->id, &st, err);
        if (r == 0) {
                s->init_pid = st->pid;
                rt_state_free(st);
                if (asprintf(&s->sock_path, "%s/shims/%s.sock", o->exec_root, o->id) < 0)
                        r = gerr_set(err, ENOMEM, "socket path");
        }
        if (r == 0) {
                s->listen_fd = listen_unix(s->sock_path, err);
                if (s->listen_fd < 0)
                        r = s->listen_fd;
        }
        if (r < 0)
                rt_container_delete(&s->ctx, o->id, true, NULL);
        return r;
}

/* posix_spawn leaves glibc's two internal signals (32, 33) ignored in a child of a threaded
 * spawner; the container must start with every signal at its default, as dockerd's do. The
 * libc wrapper refuses those numbers: the raw system call does not. */
static void default_signals(void)
{
        struct {
                void *handler;
                unsigned long flags;
                void *restorer;
                unsigned long mask;
        } dfl = {.handler = SIG_DFL};
        for (int sig = 1; sig <= 64; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask));
}

int main(int argc, char **argv)
{
        /* One arena, and its free pages handed back once the container runs (below): the
         * shim lives as long as its container, so what setup left in the heap is PSS for that
         * long (283 -> 204 KiB per shim). */
        mallopt(M_ARENA_MAX, 1);
        default_signals();
        /* A spare the engine started ahead of need: out of the engine's way at once (as
         * --detach), then the arguments of our container arrive on fd 3, and the readiness
         * pipe with them takes its place. */
        if (argc >= 2 && strcmp(argv[1], "--spare") == 0) {
                pid_t pid = fork();
                if (pid != 0)
                        _exit(pid < 0);
                char *area = argv[0];
                size_t area_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - area);
                int sock = fcntl(READY_FD, F_DUPFD_CLOEXEC, 10);
                close(READY_FD);
                if (sock < 0 || shim_spare_wait(sock, READY_FD, &argc, &argv) < 0)
                        _exit(0);
                close(sock);
                shim_spare_retitle(area, area_len, argc, argv);
        }
        struct shim_opts o;
        parse_args(argc, argv, &o);
        /* --detach: the engine spawned us as its child (vfork-cheap); one fork of this small
         * process leaves us to nobody, so we outlive the engine, and the engine reaps the parent. */
        if (o.detach) {
                pid_t pid = fork();
                if (pid < 0)
                        return 1;
                if (pid > 0)
                        _exit(0);
        }
        int ready = fcntl(READY_FD, F_GETFD) >= 0 ? READY_FD : -1;
        if (ready >= 0)
                fcntl(ready, F_SETFD, FD_CLOEXEC);
        _cleanup_gerr_ struct gerr *err = NULL;
        _cleanup_free_ char *dir = NULL, *logfile = NULL;
        if (asprintf(&dir, "%s/shims", o.exec_root) < 0 ||
            asprintf(&logfile, "%s/%s.log", dir, o.id) < 0)
                return 1;
        if (fs_mkdir_p(dir, 0700, &err) < 0) {
                report(ready, "error %d %s\n", err->errnum, err->msg);
                return 1;
        }
        /* Our own messages (and the runtime library's) never reach the container's log. */
        if (log_init(logfile, false, LOG_LVL_WARN) < 0)
                log_init("/dev/null", false, LOG_LVL_WARN);
        prctl(PR_SET_CHILD_SUBREAPER, 1);

        struct shim_setup s = {.ctx = {.root = o.runtime_root},
                               .out_fd = -1,
                               .err_fd = -1,
                               .in_fd = -1,
                               .listen_fd = -1};
        struct jsonlog log;
        if (setup(&o, &s, &log, &err) < 0) {
                signal(SIGPIPE, SIG_IGN); /* the container is gone: nothing inherits it */
                /* Our log keeps the error only if the engine did not get it. */
                if (report(ready, "error %d %s\n", err->errnum, err->msg))
                        unlink(logfile);
                else
                        log_error("%s", err->msg);
                return 1;
        }
        /* Only now: the init, cloned from us, must not inherit an ignored SIGPIPE. */
        signal(SIGPIPE, SIG_IGN);
        report(ready, "ready %d %d\n", (int)getpid(), (int)s.init_pid);
        if (ready >= 0)
                close(ready);
        malloc_trim(0);
        return shim_loop(&o, &s, &log);
}
