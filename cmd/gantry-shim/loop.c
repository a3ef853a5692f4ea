/* The shim's one poll() loop: container output to the log and attached clients, the control
 * socket's commands, and the init's exit (SIGCHLD through a signalfd; we are a subreaper). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cmd/gantry-shim/loop_internal.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "runtime/state.h"

/* After the init exits, how long other holders of the pipes may keep them open. */
#define DRAIN_MS 2000

static char iobuf[IO_BUF];

void client_append(struct client *c, const void *data, size_t n)
{
        if (c->out_len + n > CLIENT_MAX_PENDING) {
                log_warn("attached client too slow: dropped");
                c->dead = true;
                return;
        }
        if (c->out_len + n > c->out_cap) {
                size_t cap = c->out_cap ? c->out_cap : 16384;
                while (cap < c->out_len + n)
                        cap *= 2;
                char *b = realloc(c->out, cap);
                if (b == NULL) {
                        c->dead = true;
                        return;
                }
                c->out = b;
                c->out_cap = cap;
        }
        memcpy(c->out + c->out_len, data, n);
        c->out_len += n;
}

void client_flush(struct client *c)
{
        size_t off = 0;
        while (off < c->out_len) {
                ssize_t w = send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                c->dead = true;
                        break;
                }
                off += (size_t)w;
        }
        memmove(c->out, c->out + off, c->out_len - off);
        c->out_len -= off;
        if (c->out_len == 0 && c->close_after_flush)
                c->dead = true;
}

void client_send(struct client *c, const void *data, size_t n)
{
        if (c->dead)
                return;
        client_append(c, data, n);
        client_flush(c);
}

void client_reply(struct client *c, const char *fmt, ...)
{
        char line[1024];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        if (n >= (int)sizeof(line))
                n = sizeof(line) - 1;
        /* One line per reply: a multi-line error message must not end it early. */
        for (int i = 0; i < n - 1; i++)
                if (line[i] == '\n')
                        line[i] = ' ';
        client_send(c, line, (size_t)n);
}

void client_error(struct client *c, struct gerr *e)
{
        client_reply(c, "error %d %s\n", e && e->errnum ? e->errnum : EIO,
                     e && e->msg ? e->msg : "failed");
        c->close_after_flush = true;
        client_flush(c);
}

static void client_free(struct client *c)
{
        exec_client_gone(c);
        close(c->fd);
        free(c->out);
        free(c);
}

static bool streams_open(const struct shim *sh)
{
        return sh->s->out_fd >= 0 || sh->s->err_fd >= 0;
}

static void close_stdin(struct shim *sh)
{
        if (sh->s->in_fd < 0)
                return;
        if (sh->o->tty)
                /* The master is also our output: the container sees end-of-input as ^D. */
                (void)!write(sh->s->in_fd, "\x04", 1);
        else
                close(sh->s->in_fd);
        sh->s->in_fd = -1;
        sh->in_len = 0;
}

static void stdin_flush(struct shim *sh)
{
        while (sh->in_len > 0 && sh->s->in_fd >= 0) {
                ssize_t w = write(sh->s->in_fd, sh->in_buf, sh->in_len);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                close_stdin(sh);
                        break;
                }
                memmove(sh->in_buf, sh->in_buf + w, sh->in_len - (size_t)w);
                sh->in_len -= (size_t)w;
        }
        if (sh->in_len == 0 && sh->in_close_pending)
                close_stdin(sh);
}

static void to_clients(struct shim *sh, int stream, const char *data, size_t n)
{
        for (struct client *c = sh->clients; c != NULL; c = c->next) {
                if (c->kind != C_ATTACH || c->dead)
                        continue;
                if ((stream == 1 && !c->want_out) || (stream == 2 && !c->want_err))
                        continue;
                if (!sh->o->tty) {
                        unsigned char h[8] = {(unsigned char)stream,
                                              0,
                                              0,
                                              0,
                                              (unsigned char)(n >> 24),
                                              (unsigned char)(n >> 16),
                                              (unsigned char)(n >> 8),
                                              (unsigned char)n};
                        client_append(c, h, sizeof(h));
                }
                client_send(c, data, n);
        }
}

/* One read of a container stream; false at its end. */
static bool read_stream(struct shim *sh, int *fdp, int stream)
{
        ssize_t n = read(*fdp, iobuf, sizeof(iobuf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
        if (n <= 0) {
                /* A pty master reads EIO once the last slave is closed. */
                if (sh->o->tty && *fdp == sh->s->in_fd)
                        sh->s->in_fd = -1;
                close(*fdp);
                *fdp = -1;
                return false;
        }
        jsonlog_write(sh->log, stream, iobuf, (size_t)n);
        to_clients(sh, stream, iobuf, (size_t)n);
        return true;
}

static void reply_exit(struct shim *sh, struct client *c)
{
        client_reply(c, "exit %d %d %s\n", sh->exit_code, sh->oom ? 1 : 0, sh->finished_at);
        c->close_after_flush = true;
        client_flush(c);
}

static void do_command(struct shim *sh, struct client *c, char *line)
{
        const struct shim_opts *o = sh->o;
        struct gerr *e = NULL;
        unsigned a = 0, b = 0, d = 0;
        int sig = 0;
        if (strcmp(line, "start") == 0) {
                if (rt_container_start(&sh->s->ctx, o->id, &e) < 0)
                        client_error(c, e);
                else {
                        client_reply(c, "ok\n");
                        c->close_after_flush = true;
                        client_flush(c);
                }
        } else if (sscanf(line, "attach %u %u %u", &a, &b, &d) == 3) {
                c->kind = C_ATTACH;
                c->want_in = a;
                c->want_out = b;
                c->want_err = d && !o->tty;
                client_reply(c, "ok\n");
                if (sh->exited && !streams_open(sh)) {
                        c->close_after_flush = true;
                        client_flush(c);
                }
        } else if (sscanf(line, "resize %u %u", &a, &b) == 2) {
                struct winsize ws = {.ws_row = (unsigned short)a, .ws_col = (unsigned short)b};
                if (o->tty && sh->s->out_fd >= 0 && ioctl(sh->s->out_fd, TIOCSWINSZ, &ws) < 0) {
                        gerr_set(&e, errno, "resize terminal");
                        client_error(c, e);
                } else {
                        client_reply(c, "ok\n");
                        c->close_after_flush = true;
                        client_flush(c);
                }
        } else if (sscanf(line, "kill %d", &sig) == 1) {
                if (sh->exited) {
                        gerr_set(&e, ESRCH, "container %s is not running", o->id);
                        client_error(c, e);
                } else if (rt_container_kill(&sh->s->ctx, o->id, sig, false, &e) < 0) {
                        client_error(c, e);
                } else {
                        client_reply(c, "ok\n");
                        c->close_after_flush = true;
                        client_flush(c);
                }
        } else if (strncmp(line, "exec ", 5) == 0) {
                exec_start_command(sh, c, line + 5);
        } else if (strncmp(line, "execstatus ", 11) == 0) {
                exec_status_command(sh, c, line + 11);
        } else if (strncmp(line, "execresize ", 11) == 0) {
                exec_resize_command(sh, c, line + 11);
        } else if (strcmp(line, "wait") == 0) {
                c->kind = C_WAIT;
                if (sh->exited && !streams_open(sh))
                        reply_exit(sh, c);
        } else {
                gerr_set(&e, EINVAL, "unknown command \"%s\"", line);
                client_error(c, e);
        }
        gerr_free(e);
}

static void client_readable(struct shim *sh, struct client *c)
{
        if (c->kind == C_CMD) {
                ssize_t n = read(c->fd, c->line + c->line_len, sizeof(c->line) - 1 - c->line_len);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        return;
                if (n <= 0) {
                        c->dead = true;
                        return;
                }
                c->line_len += (size_t)n;
                c->line[c->line_len] = '\0';
                char *nl = strchr(c->line, '\n');
                if (nl == NULL) {
                        if (c->line_len == sizeof(c->line) - 1)
                                c->dead = true;
                        return;
                }
                *nl = '\0';
                /* Anything after the command line is stdin for an attach. */
                size_t rest = c->line_len - (size_t)(nl + 1 - c->line);
                char extra[sizeof(c->line)];
                memcpy(extra, nl + 1, rest);
                do_command(sh, c, c->line);
                if (c->kind == C_EXEC && rest > 0)
                        exec_client_input(sh, c, extra, (ssize_t)rest);
                if (c->kind == C_ATTACH && c->want_in && rest > 0 && sh->s->in_fd >= 0) {
                        sh->in_buf = realloc(sh->in_buf, sh->in_len + rest);
                        memcpy(sh->in_buf + sh->in_len, extra, rest);
                        sh->in_len += rest;
                        stdin_flush(sh);
                }
                return;
        }
        ssize_t n = read(c->fd, iobuf, sizeof(iobuf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (c->kind == C_EXEC) {
                exec_client_input(sh, c, iobuf, n);
                if (n <= 0)
                        c->read_closed = true;
                if (n < 0)
                        c->dead = true;
                return;
        }
        if (n <= 0) {
                c->read_closed = true;
                /* dockerd closes a tty's input on no client's EOF: a client that detached
                 * (ctrl-p ctrl-q) or went away leaves the shell running. */
                if (c->kind == C_ATTACH && c->want_in && sh->o->stdin_once && !sh->o->tty) {
                        sh->in_close_pending = true;
                        stdin_flush(sh);
                }
                if (c->kind != C_ATTACH || (!c->want_out && !c->want_err) || n < 0)
                        c->dead = true;
                return;
        }
        if (c->kind != C_ATTACH || !c->want_in || sh->s->in_fd < 0)
                return; /* nowhere to go: dropped, as Docker does without open_stdin */
        char *b = realloc(sh->in_buf, sh->in_len + (size_t)n);
        if (b == NULL)
                return;
        sh->in_buf = b;
        memcpy(sh->in_buf + sh->in_len, iobuf, (size_t)n);
        sh->in_len += (size_t)n;
        stdin_flush(sh);
}

static void accept_clients(struct shim *sh)
{
        for (;;) {
                int fd = accept4(sh->s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0)
                        return;
                struct client *c = calloc(1, sizeof(*c));
                if (c == NULL) {
                        close(fd);
                        return;
                }
                c->fd = fd;
                c->next = sh->clients;
                sh->clients = c;
        }
}

static void reap(struct shim *sh)
{
        struct signalfd_siginfo si;
        while (read(sh->sig_fd, &si, sizeof(si)) == sizeof(si))
                ;
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
                if (pid != sh->s->init_pid && exec_reaped(sh, pid, status))
                        continue;
                if (pid != sh->s->init_pid || sh->exited)
                        continue;
                sh->exited = true;
                sh->exit_code = WIFEXITED(status)     ? WEXITSTATUS(status)
                                : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                                      : 255;
                timefmt_now(sh->finished_at);
                clock_gettime(CLOCK_MONOTONIC, &sh->drain_until);
                sh->drain_until.tv_sec += DRAIN_MS / 1000;
        }
}

static int drain_timeout_ms(const struct shim *sh)
{
        if (!sh->exited)
                return -1;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (sh->drain_until.tv_sec - now.tv_sec) * 1000 +
                  (sh->drain_until.tv_nsec - now.tv_nsec) / 1000000;
        return ms < 0 ? 0 : (int)ms;
}

static void write_exit_file(struct shim *sh)
{
        char buf[256];
        int n =
            snprintf(buf, sizeof(buf), "{\"ExitCode\":%d,\"OOMKilled\":%s,\"FinishedAt\":\"%s\"}\n",
                     sh->exit_code, sh->oom ? "true" : "false", sh->finished_at);
        struct gerr *e = NULL;
        if (fs_write_file_atomic(sh->o->exit_path, buf, (size_t)n, 0644, &e) < 0)
                log_error("%s", e->msg);
        gerr_free(e);
}

/* The container is gone and its output drained: record, clean up, tell everyone, leave. */
static void finish(struct shim *sh)
{
        jsonlog_close(sh->log);
        if (sh->cgroup != NULL && rt_cgroup_oom_kills(sh->cgroup) > 0)
                sh->oom = true;
        write_exit_file(sh);
        struct gerr *e = NULL;
        if (rt_container_delete(&sh->s->ctx, sh->o->id, true, &e) < 0)
                log_warn("%s", e->msg);
        gerr_free(e);
        unlink(sh->s->sock_path);
        close(sh->s->listen_fd);
        /* Our own log goes with us unless it has something to say. */
        char own[PATH_MAX];
        struct stat st;
        snprintf(own, sizeof(own), "%s/shims/%s.log", sh->o->exec_root, sh->o->id);
        if (stat(own, &st) == 0 && st.st_size == 0)
                unlink(own);
        for (struct client *c = sh->clients; c != NULL; c = c->next) {
                if (c->dead)
                        continue;
                /* Last output first, then EOF; a stalled reader gets a second at most. */
                int flags = fcntl(c->fd, F_GETFL);
                fcntl(c->fd, F_SETFL, flags & ~O_NONBLOCK);
                struct timeval tv = {.tv_sec = 1};
                setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
                if (c->kind == C_WAIT)
                        client_reply(c, "exit %d %d %s\n", sh->exit_code, sh->oom ? 1 : 0,
                                     sh->finished_at);
                client_flush(c);
                shutdown(c->fd, SHUT_WR);
        }
}

static void load_cgroup(struct shim *sh)
{
        struct rt_state *st = NULL;
        if (rt_state_load(&sh->s->ctx, sh->o->id, &st, NULL) < 0)
                return;
        sh->cgroup = st->cgroup;
        st->cgroup = NULL;
        rt_state_free(st);
}

int shim_loop(const struct shim_opts *o, struct shim_setup *s, struct jsonlog *log)
{
        struct shim sh = {.o = o, .s = s, .log = log};
        load_cgroup(&sh);
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sh.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        /* Nothing may block the loop: a full stdin pipe or tty input queue waits for POLLOUT. */
        int fds[] = {s->out_fd, s->err_fd, s->in_fd};
        for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
                if (fds[i] >= 0)
                        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        reap(&sh); /* the init may have died before the mask was set */

        struct pollfd *pfd = NULL;
        size_t pfd_cap = 0;
        for (;;) {
                if (sh.exited && (!streams_open(&sh) || drain_timeout_ms(&sh) == 0))
                        break;
                size_t nclients = 0;
                for (struct client *c = sh.clients; c != NULL; c = c->next)
                        nclients++;
                size_t nexec = exec_count_fds(&sh);
                if (pfd_cap < nclients + nexec + 5) {
                        pfd_cap = nclients + nexec + 8;
                        pfd = realloc(pfd, pfd_cap * sizeof(*pfd));
                        if (pfd == NULL)
                                return 1;
                }
                enum { P_SIG, P_LISTEN, P_OUT, P_ERR, P_IN, P_CLIENTS };
                pfd[P_SIG] = (struct pollfd){.fd = sh.sig_fd, .events = POLLIN};
                pfd[P_LISTEN] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
                pfd[P_OUT] = (struct pollfd){.fd = s->out_fd, .events = POLLIN};
                pfd[P_ERR] = (struct pollfd){.fd = s->err_fd, .events = POLLIN};
                pfd[P_IN] = (struct pollfd){.fd = sh.in_len > 0 ? s->in_fd : -1, .events = POLLOUT};
                size_t i = P_CLIENTS;
                for (struct client *c = sh.clients; c != NULL; c = c->next, i++) {
                        short ev = c->out_len > 0 ? POLLOUT : 0;
                        /* Stdin backpressure: read no more while the container has not taken
                         * what came before. */
                        if (!c->read_closed && !(c->kind == C_ATTACH && sh.in_len > 0))
                                ev |= POLLIN;
                        pfd[i] = (struct pollfd){.fd = c->fd, .events = ev};
                }
                size_t exec_at = i;
                i += exec_poll_fill(&sh, pfd + exec_at, nexec);
                int timeout = drain_timeout_ms(&sh), xt = exec_timeout_ms(&sh);
                if (xt >= 0 && (timeout < 0 || xt < timeout))
                        timeout = xt;
                int r = poll(pfd, i, timeout);
                if (r < 0 && errno != EINTR) {
                        log_error("poll: %s", strerror(errno));
                        break;
                }
                if (r < 0)
                        continue;
                exec_poll_handle(&sh, pfd + exec_at, i - exec_at);
                if (r == 0)
                        continue;
                if (pfd[P_SIG].revents)
                        reap(&sh);
                if (pfd[P_OUT].revents && s->out_fd >= 0)
                        read_stream(&sh, &s->out_fd, 1);
                if (pfd[P_ERR].revents && s->err_fd >= 0)
                        read_stream(&sh, &s->err_fd, 2);
                if (pfd[P_IN].revents && s->in_fd >= 0)
                        stdin_flush(&sh);
                i = P_CLIENTS;
                for (struct client *c = sh.clients; c != NULL; c = c->next, i++) {
                        if (c->dead)
                                continue;
                        if (pfd[i].revents & POLLOUT)
                                client_flush(c);
                        /* poll reports HUP/ERR unasked: after our read side saw EOF, that is
                         * the peer gone for good (a half-close alone raises no POLLHUP). */
                        if (c->read_closed && (pfd[i].revents & (POLLHUP | POLLERR)))
                                c->dead = true;
                        else if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
                                client_readable(&sh, c);
                }
                for (struct client **pp = &sh.clients; *pp != NULL;) {
                        struct client *c = *pp;
                        if (c->dead) {
                                *pp = c->next;
                                client_free(c);
                        } else {
                                pp = &c->next;
                        }
                }
                /* Accept last: new clients join the next round with no stale revents. */
                if (pfd[P_LISTEN].revents)
                        accept_clients(&sh);
        }
        free(pfd);
        finish(&sh);
        exec_free_all(&sh);
        while (sh.clients != NULL) {
                struct client *c = sh.clients;
                sh.clients = c->next;
                client_free(c);
        }
        free(sh.in_buf);
        rt_cgroup_free(sh.cgroup);
        free(s->sock_path);
        return 0;
}
