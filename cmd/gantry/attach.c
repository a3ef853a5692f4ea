/* gantry CLI: attached runs as docker does them: hijacked attach stream, wait registered before
 * start, stdin forwarding, raw terminal with resizes, signal proxying, the container's exit code. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

static struct termios saved_tio;
static bool tio_saved;

void cli_restore_terminal(void)
{
        if (tio_saved) {
                tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
                tio_saved = false;
        }
}

void cli_raw_terminal(void)
{
        struct termios t;
        if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tio) < 0)
                return;
        t = saved_tio;
        cfmakeraw(&t);
        t.c_oflag = saved_tio.c_oflag; /* keep output processing like docker's MakeRaw on stdin */
        if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0) {
                tio_saved = true;
                atexit(cli_restore_terminal);
        }
}

static void resize(const char *id)
{
        struct winsize ws;
        char path[256];
        struct cli_resp r;
        int fd = isatty(STDOUT_FILENO) ? STDOUT_FILENO : STDIN_FILENO;
        if (ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
                return;
        snprintf(path, sizeof(path), "/containers/%s/resize?h=%u&w=%u", id, ws.ws_row, ws.ws_col);
        if (cli_call("POST", path, NULL, &r) == 0)
                cli_resp_free(&r);
}

static void proxy_signal(const char *id, int sig)
{
        char path[256];
        struct cli_resp r;
        snprintf(path, sizeof(path), "/containers/%s/kill?signal=%d", id, sig);
        if (cli_call("POST", path, NULL, &r) == 0)
                cli_resp_free(&r);
}

static void on_attach_signal(int sig, void *ud)
{
        const struct cli_attach_opts *o = ud;
        if (sig != SIGWINCH)
                proxy_signal(o->id, sig);
        else if (o->tty)
                resize(o->id);
}

int cli_detach_keys(const char *spec, unsigned char *out, size_t cap)
{
        static const char ctrl[] = "@abcdefghijklmnopqrstuvwxyz[\\]^_";
        if (spec == NULL || *spec == '\0')
                spec = "ctrl-p,ctrl-q";
        size_t n = 0;
        for (const char *p = spec;;) {
                const char *comma = strchr(p, ',');
                size_t len = comma ? (size_t)(comma - p) : strlen(p);
                const char *at =
                    len == 6 && strncmp(p, "ctrl-", 5) == 0 ? strchr(ctrl, p[5]) : NULL;
                int code = len == 1                                ? (unsigned char)p[0]
                           : at != NULL && p[5] != '\0'            ? (int)(at - ctrl)
                           : len == 3 && strncmp(p, "DEL", 3) == 0 ? 127
                                                                   : -1;
                if (code < 0 || n == cap)
                        return -1;
                out[n++] = (unsigned char)code;
                if (comma == NULL)
                        return (int)n;
                p = comma + 1;
        }
}

bool cli_stream_loop(int fd, int sfd, struct cli_demux *dm, bool stdin_open,
                     void (*on_signal)(int sig, void *ud), void *ud, const unsigned char *keys,
                     size_t nkeys)
{
        bool in_open = stdin_open;
        char buf[65536], fwd[65536 + 16];
        size_t matched = 0; /* keys typed so far, held back */
        for (;;) {
                struct pollfd p[3] = {{.fd = fd, .events = POLLIN},
                                      {.fd = sfd, .events = POLLIN},
                                      {.fd = in_open ? STDIN_FILENO : -1, .events = POLLIN}};
                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[0].revents) {
                        ssize_t n = read(fd, buf, sizeof(buf));
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                break;
                        cli_demux_feed(dm, buf, (size_t)n);
                }
                if (p[1].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof(si)) == sizeof(si))
                                on_signal((int)si.ssi_signo, ud);
                }
                if (in_open && p[2].revents) {
                        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
                        if (n < 0 && errno == EINTR)
                                continue;
                        size_t len = n > 0 ? (size_t)n : 0, out = 0;
                        const char *src = buf;
                        if (nkeys > 0 && n > 0) {
                                for (size_t i = 0; i < (size_t)n; i++) {
                                        unsigned char b = (unsigned char)buf[i];
                                        if (b != keys[matched]) {
                                                memcpy(fwd + out, keys, matched);
                                                out += matched;
                                                matched = 0;
                                        }
                                        if (b == keys[matched]) {
                                                if (++matched == nkeys)
                                                        return true;
                                        } else {
                                                fwd[out++] = (char)b;
                                        }
                                }
                                src = fwd;
                                len = out;
                        }
                        if (n <= 0 || (len > 0 && cli_write_all(fd, src, len) < 0)) {
                                in_open = false;
                                /* EOF on stdin: the other side's stdin closes. */
                                shutdown(fd, SHUT_WR);
                        }
                }
        }
        return false;
}

int cli_start_error_status(const char *msg)
{
        if (strstr(msg, "executable file not found") || strstr(msg, "no such file or directory"))
                return 127;
        if (strstr(msg, "permission denied") || strstr(msg, "is a directory"))
                return 126;
        return 125;
}

/* Prints the error of a failed upgrade/wait whose body may be in buf. */
static void print_raw_error(int fd, int status, char *buf, size_t len)
{
        char more[4096];
        ssize_t n = read(fd, more, sizeof(more) - 1 - (len < sizeof(more) ? len : 0));
        struct cli_resp r = {.status = status};
        r.body = malloc(len + (n > 0 ? (size_t)n : 0) + 1);
        if (r.body == NULL)
                abort();
        memcpy(r.body, buf, len);
        r.len = len;
        if (n > 0) {
                memcpy(r.body + len, more, (size_t)n);
                r.len += (size_t)n;
        }
        r.body[r.len] = '\0';
        /* Skip a chunk-size line if the body was chunked. */
        char *brace = strchr(r.body, '{');
        if (brace != NULL) {
                memmove(r.body, brace, strlen(brace) + 1);
                r.len = strlen(r.body);
        }
        cli_print_daemon_error(NULL, &r);
        cli_resp_free(&r);
}

/* Reads the rest of the wait response (the connection closes after it) and returns StatusCode. */
static int read_wait_result(int fd, char *buf, size_t len, bool chunked)
{
        size_t cap = len + 4096;
        _cleanup_free_ char *body = malloc(cap);
        if (body == NULL)
                abort();
        memcpy(body, buf, len);
        for (;;) {
                if (cap - len < 1024) {
                        cap *= 2;
                        char *n = realloc(body, cap);
                        if (n == NULL)
                                abort();
                        body = n;
                }
                body[len] = '\0';
                /* Like docker's json.Decoder: the first whole object is the answer, so do not
                 * wait for the chunked terminator or the close. */
                char *brace = strchr(body, '{');
                if (brace != NULL) {
                        json_t *j = json_loads(brace, JSON_DISABLE_EOF_CHECK, NULL);
                        if (j != NULL) {
                                json_decref(j);
                                memmove(body, brace, strlen(brace) + 1);
                                len = strlen(body);
                                chunked = false;
                                break;
                        }
                }
                ssize_t n = read(fd, body + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        body[len] = '\0';
        if (chunked) {
                /* De-chunk in place: "<hex>\r\n<data>\r\n" ... "0\r\n\r\n". */
                char *in = body, *out = body;
                for (;;) {
                        char *end;
                        unsigned long sz = strtoul(in, &end, 16);
                        char *nl = strstr(end, "\r\n");
                        if (sz == 0 || nl == NULL || (size_t)(nl + 2 - body) + sz > len)
                                break;
                        memmove(out, nl + 2, sz);
                        out += sz;
                        in = nl + 2 + sz;
                        if (strncmp(in, "\r\n", 2) == 0)
                                in += 2;
                }
                *out = '\0';
        }
        _cleanup_jsonp_ json_t *j = json_loads(body, JSON_DISABLE_EOF_CHECK, NULL);
        json_t *code = json_object_get(j, "StatusCode");
        json_t *err = json_object_get(json_object_get(j, "Error"), "Message");
        if (json_is_string(err) && json_string_length(err) > 0)
                fprintf(stderr, "gantry: %s\n", json_string_value(err));
        if (!json_is_integer(code)) {
                fprintf(stderr, "gantry: no exit status from the daemon\n");
                return 125;
        }
        return (int)json_integer_value(code);
}

static int start_container(const struct cli_attach_opts *o)
{
        char path[256];
        struct cli_resp r;
        snprintf(path, sizeof(path), "/containers/%s/start", o->id);
        if (cli_call("POST", path, NULL, &r) < 0)
                return 125;
        if (r.status >= 300 && r.status != 304) {
                const char *msg = cli_resp_message(&r);
                int st = cli_start_error_status(msg);
                if (strcmp(o->verb, "run") == 0) {
                        fprintf(stderr, "gantry: Error response from daemon: %s\n\n"
                                        "Run 'gantry run --help' for more information\n", msg);
                } else {
                        fprintf(stderr, "Error response from daemon: %s\n", msg);
                        fprintf(stderr, "Error: failed to start containers: %s\n", o->id);
                        st = 1;
                }
                cli_resp_free(&r);
                return st;
        }
        cli_resp_free(&r);
        return 0;
}

int cli_attach_run(const struct cli_attach_opts *o)
{
        char path[512], head[8192], abuf[8192], wbuf[8192];
        size_t alen = 0, wlen = 0;
        int status = 0, rc;
        _cleanup_close_ int afd = -1, wfd = -1, sfd = -1;
        sigset_t mask, oldmask;

        if (cli_negotiate() < 0)
                return 125;
        afd = cli_raw_connect();
        if (afd < 0)
                return 125;
        unsigned char keys[16];
        int nkeys = cli_detach_keys(o->detach_keys, keys, sizeof(keys));
        if (nkeys < 0) {
                fprintf(stderr, "gantry: Invalid detach keys (%s) provided\n", o->detach_keys);
                return 125;
        }
        _cleanup_free_ char *dk = o->detach_keys ? cli_escape(o->detach_keys) : NULL;
        snprintf(path, sizeof(path), "/containers/%s/attach?stream=1&stdout=1&stderr=1%s%s%s",
                 o->id, o->stdin_open ? "&stdin=1" : "", dk ? "&detachKeys=" : "", dk ? dk : "");
        if (cli_raw_send(afd, "POST", path,
                         "Content-Type: text/plain\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n") < 0 ||
            cli_raw_read_head(afd, &status, head, sizeof(head), abuf, &alen) < 0) {
                fprintf(stderr, "gantry: attach to %s: connection closed\n", o->id);
                return 125;
        }
        if (status != 101 && status != 200) {
                print_raw_error(afd, status, abuf, alen);
                return 125;
        }

        /* Registered before start so a container that exits at once is not missed; the
         * daemon sends the head once the wait is in place. */
        wfd = cli_raw_connect();
        if (wfd < 0)
                return 125;
        snprintf(path, sizeof(path), "/containers/%s/wait?condition=%s", o->id,
                 o->auto_remove ? "removed" : "next-exit");
        if (cli_raw_send(wfd, "POST", path, "Connection: close\r\n") < 0)
                return 125;
        struct pollfd wp = {.fd = wfd, .events = POLLIN};
        bool wait_head = false;
        if (poll(&wp, 1, 2000) > 0) {
                if (cli_raw_read_head(wfd, &status, head, sizeof(head), wbuf, &wlen) < 0) {
                        fprintf(stderr, "gantry: wait for %s: connection closed\n", o->id);
                        return 125;
                }
                if (status != 200) {
                        print_raw_error(wfd, status, wbuf, wlen);
                        return 125;
                }
                wait_head = true;
        }

        sigemptyset(&mask);
        if (o->no_sig_proxy)
                sigaddset(&mask, SIGWINCH);
        for (int s = 1; s < SIGRTMIN && !o->no_sig_proxy; s++)
                if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD && s != SIGPIPE && s != SIGURG &&
                    s != SIGTSTP && s != SIGTTIN && s != SIGTTOU && s != SIGCONT &&
                    s != SIGSEGV && s != SIGBUS && s != SIGILL && s != SIGFPE && s != SIGABRT)
                        sigaddset(&mask, s);
        sigprocmask(SIG_BLOCK, &mask, &oldmask);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        signal(SIGPIPE, SIG_IGN);

        if (o->start) {
                rc = start_container(o);
                if (rc != 0) {
                        sigprocmask(SIG_SETMASK, &oldmask, NULL);
                        return rc;
                }
        }
        if (o->tty) {
                cli_raw_terminal();
                resize(o->id);
        }

        struct cli_demux dm;
        cli_demux_init(&dm, o->tty);
        if (alen > 0)
                cli_demux_feed(&dm, abuf, alen);
        bool detached = cli_stream_loop(afd, sfd, &dm, o->stdin_open, on_attach_signal, (void *)o,
                                        keys, o->tty && o->stdin_open ? (size_t)nkeys : 0);
        cli_restore_terminal();
        if (detached) {
                /* docker: the container keeps running, and so does its wait for us no more. */
                sigprocmask(SIG_SETMASK, &oldmask, NULL);
                return 0;
        }

        if (!wait_head) {
                if (cli_raw_read_head(wfd, &status, head, sizeof(head), wbuf, &wlen) < 0) {
                        fprintf(stderr, "gantry: wait for %s: connection closed\n", o->id);
                        return 125;
                }
                if (status != 200) {
                        print_raw_error(wfd, status, wbuf, wlen);
                        return 125;
                }
        }
        bool chunked = strcasestr(head, "transfer-encoding: chunked") != NULL;
        rc = read_wait_result(wfd, wbuf, wlen, chunked);
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
        return rc;
}

/* ---- gantry attach ---- */

struct attach_flags {
        bool no_stdin, sig_proxy;
};

static int attach_opt(int c, const char *arg, void *ud)
{
        struct attach_flags *f = ud;
        if (c == 'n') {
                f->no_stdin = true;
        } else if (c == 'S') {
                if (arg == NULL || strcasecmp(arg, "true") == 0 || strcmp(arg, "1") == 0) {
                        f->sig_proxy = true;
                } else if (strcasecmp(arg, "false") == 0 || strcmp(arg, "0") == 0) {
                        f->sig_proxy = false;
                } else {
                        char msg[300];
                        snprintf(msg, sizeof(msg),
                                 "invalid argument \"%s\" for \"--sig-proxy\" flag: "
                                 "strconv.ParseBool: parsing \"%s\": invalid syntax",
                                 arg, arg);
                        cli_usage_error("attach", msg);
                        return -1;
                }
        }
        return 0;
}

int cmd_attach(int argc, char **argv)
{
        static const struct option lo[] = {
            {"no-stdin", no_argument, NULL, 'n'}, {"sig-proxy", optional_argument, NULL, 'S'}, {0}};
        struct attach_flags f = {.sig_proxy = true};
        int st = 0, first = cli_getopts("attach", argc, argv, "", lo, attach_opt, &f, &st);
        if (first < 0)
                return st;
        if (argc - first != 1) {
                fprintf(stderr, "\"gantry attach\" requires exactly 1 argument.\n"
                                "See 'gantry attach --help'.\n\n"
                                "Usage:  gantry attach [OPTIONS] CONTAINER\n");
                return 1;
        }
        _cleanup_jsonp_ json_t *c = cli_inspect_container(argv[first], false);
        if (c == NULL)
                return 1;
        json_t *state = json_object_get(c, "State");
        if (!json_is_true(json_object_get(state, "Running"))) {
                fprintf(stderr, "You cannot attach to a stopped container, start it first\n");
                return 1;
        }
        if (json_is_true(json_object_get(state, "Paused"))) {
                fprintf(stderr, "You cannot attach to a paused container, unpause it first\n");
                return 1;
        }
        if (json_is_true(json_object_get(state, "Restarting"))) {
                fprintf(stderr, "You cannot attach to a restarting container, wait until it is "
                                "running\n");
                return 1;
        }
        json_t *cfg = json_object_get(c, "Config");
        bool tty = json_is_true(json_object_get(cfg, "Tty"));
        struct cli_attach_opts o = {
            .id = json_string_value(json_object_get(c, "Id")),
            .verb = "attach",
            .tty = tty,
            .stdin_open = !f.no_stdin && json_is_true(json_object_get(cfg, "OpenStdin")),
            .auto_remove =
                json_is_true(json_object_get(json_object_get(c, "HostConfig"), "AutoRemove")),
            .start = false,
            /* docker proxies signals only without a tty: with one, ^C is a byte. */
            .no_sig_proxy = !f.sig_proxy || tty,
        };
        return cli_attach_run(&o);
}
