/* exec in the shim: processes started in the running container, their stdio served on one client each. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cmd/gantry-shim/loop_internal.h"
#include "common/cleanup.h"
#include "common/log.h"

/* Finished execs kept for "execstatus"; older ones are forgotten, as dockerd forgets them. */
#define EXEC_KEEP_FINISHED 32
/* After an exec exits, how long its orphans may keep its pipes open. */
#define EXEC_DRAIN_MS 2000

struct shim_exec {
        char id[65];
        pid_t pid;
        bool tty, exited;
        int code;
        int out_fd, err_fd, in_fd; /* the pty master is out_fd and in_fd with a tty */
        char *in_buf;
        size_t in_len;
        bool in_close_pending;
        struct timespec drain_until;
        struct client *client;
        struct shim_exec *next;
};

static struct shim_exec *exec_find(struct shim *sh, const char *id)
{
        for (struct shim_exec *x = sh->execs; x != NULL; x = x->next)
                if (strcmp(x->id, id) == 0)
                        return x;
        return NULL;
}

static void close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

static bool exec_streams_open(const struct shim_exec *x)
{
        return x->out_fd >= 0 || x->err_fd >= 0;
}

static void exec_free(struct shim_exec *x)
{
        if (x->client != NULL)
                x->client->exec = NULL;
        if (x->in_fd == x->out_fd)
                x->in_fd = -1;
        close_fd(&x->out_fd);
        close_fd(&x->err_fd);
        close_fd(&x->in_fd);
        free(x->in_buf);
        free(x);
}

/* Output done and process gone: the client gets EOF; the record stays for execstatus. */
static void exec_maybe_done(struct shim_exec *x)
{
        if (!x->exited || exec_streams_open(x))
                return;
        struct client *c = x->client;
        if (c != NULL && !c->dead) {
                c->close_after_flush = true;
                client_flush(c);
                if (!c->dead && c->out_len == 0)
                        shutdown(c->fd, SHUT_WR);
        }
}

static void forget_old(struct shim *sh)
{
        size_t finished = 0;
        for (struct shim_exec **pp = &sh->execs; *pp != NULL;) {
                struct shim_exec *x = *pp;
                if (x->exited && !exec_streams_open(x) && ++finished > EXEC_KEEP_FINISHED) {
                        *pp = x->next;
                        exec_free(x);
                } else {
                        pp = &x->next;
                }
        }
}

/* Make fd the target's fd number for the duration of the library call (restored by the caller). */
static int swap_fd(int fd, int target, int *saved)
{
        *saved = fcntl(target, F_DUPFD_CLOEXEC, 10);
        if (dup2(fd, target) < 0)
                return -errno;
        return 0;
}

static void restore_fd(int saved, int target)
{
        if (saved >= 0) {
                dup2(saved, target);
                close(saved);
        } else {
                close(target);
        }
}

static int start_process(struct shim *sh, struct shim_exec *x, const char *process_file,
                         bool want_stdin, struct gerr **err)
{
        int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
        int null_fd = -1;
        int r = 0;
        if (!x->tty) {
                if ((want_stdin && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
                    pipe2(errp, O_CLOEXEC) < 0) {
                        r = gerr_set(err, errno, "exec pipes");
                        goto out;
                }
                if (!want_stdin)
                        null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        } else {
                null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        }
        /* The library's exec child inherits fds 0-2 (a terminal replaces them in the child). */
        int saved[3] = {-1, -1, -1};
        int child[3] = {x->tty ? null_fd : (want_stdin ? in[0] : null_fd),
                        x->tty ? null_fd : out[1], x->tty ? null_fd : errp[1]};
        for (int i = 0; i < 3; i++)
                swap_fd(child[i], i, &saved[i]);
        int master = -1, status = 0;
        pid_t pid = 0;
        struct rt_exec_opts eo = {
                .id = sh->o->id,
                .process_file = process_file,
                .detach = true,
                .pid_out = &pid,
                .master_out = x->tty ? &master : NULL,
        };
        r = rt_container_exec(&sh->s->ctx, &eo, &status, err);
        for (int i = 0; i < 3; i++)
                restore_fd(saved[i], i);
        if (r < 0)
                goto out;
        x->pid = pid;
        if (x->tty) {
                x->out_fd = master;
                x->in_fd = want_stdin ? master : -1;
        } else {
                x->out_fd = TAKE_FD(out[0]);
                x->err_fd = TAKE_FD(errp[0]);
                x->in_fd = want_stdin ? TAKE_FD(in[1]) : -1;
        }
        int fds[] = {x->out_fd, x->err_fd, x->in_fd};
        for (size_t i = 0; i < 3; i++)
                if (fds[i] >= 0)
                        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
out:;
        int all[] = {in[0], in[1], out[0], out[1], errp[0], errp[1], null_fd};
        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
                if (all[i] >= 0)
                        close(all[i]);
        return r;
}

void exec_start_command(struct shim *sh, struct client *c, const char *args)
{
        char id[65], path[PATH_MAX];
        int tty = 0, want_stdin = 0, detach = 0;
        struct gerr *e = NULL;
        if (sscanf(args, "%64s %d %d %d %4095s", id, &tty, &want_stdin, &detach, path) != 5) {
                gerr_set(&e, EINVAL, "exec: bad request \"%s\"", args);
                goto fail;
        }
        if (sh->exited) {
                gerr_set(&e, EBUSY, "container %s is not running", sh->o->id);
                goto fail;
        }
        if (exec_find(sh, id) != NULL) {
                gerr_set(&e, EEXIST, "exec %s already started", id);
                goto fail;
        }
        struct shim_exec *x = calloc(1, sizeof(*x));
        if (x == NULL) {
                gerr_set(&e, ENOMEM, "exec");
                goto fail;
        }
        snprintf(x->id, sizeof(x->id), "%s", id);
        x->tty = tty;
        x->out_fd = x->err_fd = x->in_fd = -1;
        if (start_process(sh, x, path, want_stdin && !detach, &e) < 0) {
                free(x);
                goto fail;
        }
        forget_old(sh);
        x->next = sh->execs;
        sh->execs = x;
        client_reply(c, "ok %d\n", (int)x->pid);
        if (detach) {
                /* Docker drops a detached exec's output. */
                if (x->in_fd == x->out_fd)
                        x->in_fd = -1;
                close_fd(&x->out_fd);
                close_fd(&x->err_fd);
                close_fd(&x->in_fd);
                c->close_after_flush = true;
                client_flush(c);
                return;
        }
        c->kind = C_EXEC;
        c->exec = x;
        x->client = c;
        return;
fail:
        client_error(c, e);
        gerr_free(e);
}

void exec_status_command(struct shim *sh, struct client *c, const char *args)
{
        struct shim_exec *x = exec_find(sh, args);
        if (x == NULL) {
                struct gerr *e = NULL;
                gerr_set(&e, ENOENT, "No such exec instance: %s", args);
                client_error(c, e);
                gerr_free(e);
                return;
        }
        if (x->exited)
                client_reply(c, "exit %d\n", x->code);
        else
                client_reply(c, "running %d\n", (int)x->pid);
        c->close_after_flush = true;
        client_flush(c);
}

void exec_resize_command(struct shim *sh, struct client *c, const char *args)
{
        char id[65];
        unsigned h = 0, w = 0;
        struct gerr *e = NULL;
        struct shim_exec *x = NULL;
        if (sscanf(args, "%64s %u %u", id, &h, &w) != 3)
                gerr_set(&e, EINVAL, "execresize: bad request \"%s\"", args);
        else if ((x = exec_find(sh, id)) == NULL)
                gerr_set(&e, ENOENT, "No such exec instance: %s", id);
        else if (x->tty && x->out_fd >= 0) {
                struct winsize ws = {.ws_row = (unsigned short)h, .ws_col = (unsigned short)w};
                if (ioctl(x->out_fd, TIOCSWINSZ, &ws) < 0)
                        gerr_set(&e, errno, "resize exec %s", id);
        }
        if (e != NULL) {
                client_error(c, e);
                gerr_free(e);
                return;
        }
        client_reply(c, "ok\n");
        c->close_after_flush = true;
        client_flush(c);
}

static void exec_close_stdin(struct shim_exec *x)
{
        if (x->in_fd < 0)
                return;
        if (x->tty)
                (void)!write(x->in_fd, "\x04", 1); /* end of input on a terminal */
        else
                close(x->in_fd);
        x->in_fd = -1;
        x->in_len = 0;
}

static void exec_stdin_flush(struct shim_exec *x)
{
        while (x->in_len > 0 && x->in_fd >= 0) {
                ssize_t w = write(x->in_fd, x->in_buf, x->in_len);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                exec_close_stdin(x);
                        break;
                }
                memmove(x->in_buf, x->in_buf + w, x->in_len - (size_t)w);
                x->in_len -= (size_t)w;
        }
        if (x->in_len == 0 && x->in_close_pending)
                exec_close_stdin(x);
}

void exec_client_input(struct shim *sh, struct client *c, const char *data, ssize_t n)
{
        struct shim_exec *x = c->exec;
        if (x == NULL)
                return;
        if (n <= 0) {
                /* As dockerd: a terminal's input stays open when the client's ends (it may have
                 * detached with ctrl-p ctrl-q); a pipe's is closed. */
                if (!x->tty) {
                        x->in_close_pending = true;
                        exec_stdin_flush(x);
                }
                return;
        }
        if (x->in_fd < 0)
                return;
        char *b = realloc(x->in_buf, x->in_len + (size_t)n);
        if (b == NULL)
                return;
        x->in_buf = b;
        memcpy(x->in_buf + x->in_len, data, (size_t)n);
        x->in_len += (size_t)n;
        exec_stdin_flush(x);
}

void exec_client_gone(struct client *c)
{
        if (c->exec != NULL)
                c->exec->client = NULL;
        c->exec = NULL;
}

size_t exec_count_fds(const struct shim *sh)
{
        size_t n = 0;
        for (const struct shim_exec *x = sh->execs; x != NULL; x = x->next)
                n += 3;
        return n;
}

size_t exec_poll_fill(struct shim *sh, struct pollfd *pfd, size_t max)
{
        size_t n = 0;
        for (struct shim_exec *x = sh->execs; x != NULL && n + 3 <= max; x = x->next) {
                /* No reading while the client has not taken what came before. */
                bool slow = x->client != NULL && x->client->out_len > 0;
                pfd[n++] = (struct pollfd){.fd = slow ? -1 : x->out_fd, .events = POLLIN};
                pfd[n++] = (struct pollfd){.fd = slow ? -1 : x->err_fd, .events = POLLIN};
                pfd[n++] = (struct pollfd){.fd = x->in_len > 0 && x->in_fd != x->out_fd
                                                         ? x->in_fd
                                                         : -1,
                                           .events = POLLOUT};
        }
        return n;
}

static void exec_to_client(struct shim_exec *x, int stream, const char *data, size_t n)
{
        struct client *c = x->client;
        if (c == NULL || c->dead)
                return;
        if (!x->tty) {
                unsigned char h[8] = {(unsigned char)stream,    0, 0, 0,
                                      (unsigned char)(n >> 24), (unsigned char)(n >> 16),
                                      (unsigned char)(n >> 8),  (unsigned char)n};
                client_append(c, h, sizeof(h));
        }
        client_send(c, data, n);
}

static void exec_read(struct shim_exec *x, int *fdp, int stream)
{
        static char buf[IO_BUF];
        ssize_t n = read(*fdp, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n <= 0) {
                /* A pty master reads EIO once the last slave is closed. */
                if (*fdp == x->in_fd)
                        x->in_fd = -1;
                close_fd(fdp);
                exec_maybe_done(x);
                return;
        }
        exec_to_client(x, stream, buf, (size_t)n);
}

void exec_poll_handle(struct shim *sh, const struct pollfd *pfd, size_t n)
{
        size_t i = 0;
        for (struct shim_exec *x = sh->execs; x != NULL && i + 3 <= n; x = x->next, i += 3) {
                if (pfd[i].fd >= 0 && pfd[i].fd == x->out_fd && pfd[i].revents)
                        exec_read(x, &x->out_fd, 1);
                if (pfd[i + 1].fd >= 0 && pfd[i + 1].fd == x->err_fd && pfd[i + 1].revents)
                        exec_read(x, &x->err_fd, 2);
                if (pfd[i + 2].fd >= 0 && pfd[i + 2].fd == x->in_fd && pfd[i + 2].revents)
                        exec_stdin_flush(x);
        }
        /* Drains that ran out: the orphans holding the pipes lose their reader. */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        for (struct shim_exec *x = sh->execs; x != NULL; x = x->next) {
                if (!x->exited || !exec_streams_open(x))
                        continue;
                if (now.tv_sec > x->drain_until.tv_sec ||
                    (now.tv_sec == x->drain_until.tv_sec &&
                     now.tv_nsec >= x->drain_until.tv_nsec)) {
                        if (x->in_fd == x->out_fd)
                                x->in_fd = -1;
                        close_fd(&x->out_fd);
                        close_fd(&x->err_fd);
                        exec_maybe_done(x);
                }
        }
}

int exec_timeout_ms(const struct shim *sh)
{
        int best = -1;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        for (const struct shim_exec *x = sh->execs; x != NULL; x = x->next) {
                if (!x->exited || !exec_streams_open(x))
                        continue;
                long ms = (x->drain_until.tv_sec - now.tv_sec) * 1000 +
                          (x->drain_until.tv_nsec - now.tv_nsec) / 1000000;
                int v = ms < 0 ? 0 : (int)ms;
                if (best < 0 || v < best)
                        best = v;
        }
        return best;
}

bool exec_reaped(struct shim *sh, pid_t pid, int status)
{
        for (struct shim_exec *x = sh->execs; x != NULL; x = x->next) {
                if (x->pid != pid || x->exited)
                        continue;
                x->exited = true;
                x->code = WIFEXITED(status)     ? WEXITSTATUS(status)
                          : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                                : 255;
                clock_gettime(CLOCK_MONOTONIC, &x->drain_until);
                x->drain_until.tv_sec += EXEC_DRAIN_MS / 1000;
                exec_maybe_done(x);
                return true;
        }
        return false;
}

void exec_free_all(struct shim *sh)
{
        while (sh->execs != NULL) {
                struct shim_exec *x = sh->execs;
                sh->execs = x->next;
                exec_free(x);
        }
}
