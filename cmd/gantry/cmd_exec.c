/* gantry exec: run a process in a running container as docker exec does (-i, -t, -d, -u, -w, -e), exit with its code. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

struct exec_flags {
        bool interactive, tty, detach, privileged;
        const char *user, *workdir;
        json_t *env;
};

static int exec_opt(int c, const char *arg, void *ud)
{
        struct exec_flags *f = ud;
        switch (c) {
        case 'i': f->interactive = true; break;
        case 't': f->tty = true; break;
        case 'd': f->detach = true; break;
        case 'u': f->user = arg; break;
        case 'w': f->workdir = arg; break;
        case 'e': json_array_append_new(f->env, json_string(arg)); break;
        case 'P': f->privileged = true; break;
        }
        return 0;
}

static void resize_exec(const char *id)
{
        struct winsize ws;
        int fd = isatty(STDOUT_FILENO) ? STDOUT_FILENO : STDIN_FILENO;
        if (ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
                return;
        char path[256];
        snprintf(path, sizeof(path), "/exec/%s/resize?h=%u&w=%u", id, ws.ws_row, ws.ws_col);
        struct cli_resp r;
        if (cli_call("POST", path, NULL, &r) == 0)
                cli_resp_free(&r);
}

/* POST /exec/{id}/start with its JSON body on a raw connection that the daemon hijacks. */
static int start_hijacked(const char *id, bool tty, char *leftover, size_t *leftover_len)
{
        int fd = cli_raw_connect();
        if (fd < 0)
                return -1;
        char body[64], head[1024], resp_head[8192];
        int blen = snprintf(body, sizeof(body), "{\"Detach\":false,\"Tty\":%s}",
                            tty ? "true" : "false");
        int n = snprintf(head, sizeof(head),
                         "POST /v%s/exec/%s/start HTTP/1.1\r\nHost: docker\r\n"
                         "User-Agent: gantry-cli/" CLI_VERSION "\r\n"
                         "Content-Type: application/json\r\nConnection: Upgrade\r\n"
                         "Upgrade: tcp\r\nContent-Length: %d\r\n\r\n%s",
                         cli_api_version(), id, blen, body);
        int status = 0;
        if (cli_write_all(fd, head, (size_t)n) < 0 ||
            cli_raw_read_head(fd, &status, resp_head, sizeof(resp_head), leftover,
                              leftover_len) < 0) {
                fprintf(stderr, "gantry: exec %s: connection closed\n", id);
                close(fd);
                return -1;
        }
        if (status != 101 && status != 200) {
                struct cli_resp r = {.status = status, .body = strndup(leftover, *leftover_len),
                                     .len = *leftover_len};
                cli_print_daemon_error(NULL, &r);
                cli_resp_free(&r);
                close(fd);
                return -1;
        }
        return fd;
}

static void on_exec_signal(int sig, void *ud)
{
        if (sig == SIGWINCH)
                resize_exec(ud);
}

/* Streams the exec's output (and our stdin with -i) until it ends; true when the user typed
 * the detach keys. */
static bool stream(int fd, const char *id, const struct exec_flags *f, const char *first,
                   size_t first_len)
{
        sigset_t mask, old;
        sigemptyset(&mask);
        sigaddset(&mask, SIGWINCH);
        sigprocmask(SIG_BLOCK, &mask, &old);
        int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        signal(SIGPIPE, SIG_IGN);
        if (f->tty) {
                cli_raw_terminal();
                resize_exec(id);
        }
        struct cli_demux dm;
        cli_demux_init(&dm, f->tty);
        if (first_len > 0)
                cli_demux_feed(&dm, first, first_len);
        unsigned char keys[16];
        int nkeys = cli_detach_keys(NULL, keys, sizeof(keys));
        bool detached =
            cli_stream_loop(fd, sfd, &dm, f->interactive, on_exec_signal, (void *)id, keys,
                            f->tty && f->interactive && nkeys > 0 ? (size_t)nkeys : 0);
        cli_restore_terminal();
        if (sfd >= 0)
                close(sfd);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return detached;
}

static int exit_code(const char *id)
{
        char path[256];
        snprintf(path, sizeof(path), "/exec/%s/json", id);
        struct cli_resp r;
        if (cli_call("GET", path, NULL, &r) < 0)
                return 1;
        int rc = 1;
        json_t *j = r.status < 300 ? json_loadb(r.body, r.len, 0, NULL) : NULL;
        if (j != NULL && json_is_integer(json_object_get(j, "ExitCode")))
                rc = (int)json_integer_value(json_object_get(j, "ExitCode"));
        json_decref(j);
        cli_resp_free(&r);
        return rc;
}

int cmd_exec(int argc, char **argv)
{
        static const struct option lo[] = {{"interactive", no_argument, NULL, 'i'},
                                           {"tty", no_argument, NULL, 't'},
                                           {"detach", no_argument, NULL, 'd'},
                                           {"user", required_argument, NULL, 'u'},
                                           {"workdir", required_argument, NULL, 'w'},
                                           {"env", required_argument, NULL, 'e'},
                                           {"privileged", no_argument, NULL, 'P'},
                                           {0}};
        _cleanup_jsonp_ json_t *env = json_array();
        struct exec_flags f = {.env = env};
        int st = 0;
        /* "+": options end at the container name; the command's own flags are its own. */
        int first = cli_getopts("exec", argc, argv, "+itdu:w:e:", lo, exec_opt, &f, &st);
        if (first < 0)
                return st;
        if (argc - first < 2) {
                fprintf(stderr, "\"gantry exec\" requires at least 2 arguments.\n"
                                "See 'gantry exec --help'.\n\n"
                                "Usage:  gantry exec [OPTIONS] CONTAINER COMMAND [ARG...]\n");
                return 1;
        }
        if (cli_negotiate() < 0)
                return 1;
        json_t *cmd = json_array();
        for (int i = first + 1; i < argc; i++)
                json_array_append_new(cmd, json_string(argv[i]));
        _cleanup_jsonp_ json_t *body = json_pack(
                "{s:o, s:O, s:b, s:b, s:b, s:b, s:b, s:s, s:s}", "Cmd", cmd, "Env", env, "Tty",
                f.tty, "AttachStdin", f.interactive && !f.detach, "AttachStdout", !f.detach,
                "AttachStderr", !f.detach, "Privileged", f.privileged, "User",
                f.user ? f.user : "", "WorkingDir", f.workdir ? f.workdir : "");
        _cleanup_free_ char *ctr = cli_escape(argv[first]), *path = NULL;
        cli_appendf(&path, "/containers/%s/exec", ctr);
        struct cli_resp r;
        if (cli_call("POST", path, body, &r) < 0)
                return 1;
        if (r.status >= 300) {
                cli_print_daemon_error(NULL, &r);
                cli_resp_free(&r);
                return 1;
        }
        json_t *created = json_loadb(r.body, r.len, 0, NULL);
        cli_resp_free(&r);
        const char *xid = json_string_value(json_object_get(created, "Id"));
        _cleanup_free_ char *id = xid ? strdup(xid) : NULL;
        json_decref(created);
        if (id == NULL) {
                fprintf(stderr, "gantry: exec: the daemon answered no exec id\n");
                return 1;
        }
        if (f.detach) {
                _cleanup_jsonp_ json_t *sb = json_pack("{s:b, s:b}", "Detach", 1, "Tty", f.tty);
                _cleanup_free_ char *spath = NULL;
                cli_appendf(&spath, "/exec/%s/start", id);
                if (cli_call("POST", spath, sb, &r) < 0)
                        return 1;
                int rc = r.status >= 300;
                if (rc)
                        cli_print_daemon_error(NULL, &r);
                cli_resp_free(&r);
                return rc;
        }
        char leftover[8192];
        size_t leftover_len = 0;
        int fd = start_hijacked(id, f.tty, leftover, &leftover_len);
        if (fd < 0)
                return 1;
        if (stream(fd, id, &f, leftover, leftover_len)) {
                /* docker exec reports the detach as its error; the exec keeps running. */
                close(fd);
                fprintf(stderr, "read escape sequence\n");
                return 1;
        }
        close(fd);
        return exit_code(id);
}
