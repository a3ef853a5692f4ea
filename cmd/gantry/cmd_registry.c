/* gantry pull, push, login, logout, search: credentials in ~/.docker/config.json as docker keeps
 * them (credential helpers too), progress bars on a terminal and plain lines elsewhere. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define HUB_KEY "https://index.docker.io/v1/"

/* ---- ~/.docker/config.json ---- */

static char *config_path(void)
{
        const char *dir = getenv("DOCKER_CONFIG");
        char *p = NULL;
        if (dir != NULL && *dir != '\0') {
                if (asprintf(&p, "%s/config.json", dir) < 0)
                        return NULL;
        } else {
                const char *home = getenv("HOME");
                if (asprintf(&p, "%s/.docker/config.json", home ? home : "/root") < 0)
                        return NULL;
        }
        return p;
}

static json_t *config_load(void)
{
        _cleanup_free_ char *p = config_path();
        json_t *j = p ? json_load_file(p, 0, NULL) : NULL;
        if (!json_is_object(j)) {
                json_decref(j);
                j = json_object();
        }
        return j;
}

static int config_save(json_t *cfg)
{
        _cleanup_free_ char *p = config_path();
        if (p == NULL)
                return -1;
        _cleanup_free_ char *dir = strdup(p);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        if (slash != NULL) {
                *slash = '\0';
                mkdir(dir, 0700);
        }
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s.tmp-gantry", p) < 0)
                return -1;
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
                fprintf(stderr, "Error saving credentials: open %s: %s\n", tmp, strerror(errno));
                return -1;
        }
        char *out = json_dumps(cfg, JSON_INDENT(8));
        int rc = out ? cli_write_all(fd, out, strlen(out)) : -1;
        free(out);
        if (rc == 0)
                rc = cli_write_all(fd, "\n", 1);
        close(fd);
        if (rc < 0 || rename(tmp, p) < 0) {
                fprintf(stderr, "Error saving credentials: write %s: %s\n", p, strerror(errno));
                unlink(tmp);
                return -1;
        }
        return 0;
}

/* The key docker files a registry under: Docker Hub's is its v1 index URL. */
static char *server_key(const char *server)
{
        if (server == NULL || *server == '\0' || strcmp(server, "docker.io") == 0 ||
            strcmp(server, "index.docker.io") == 0 || strcmp(server, HUB_KEY) == 0 ||
            strcmp(server, "registry-1.docker.io") == 0)
                return strdup(HUB_KEY);
        const char *p = server;
        if (strncmp(p, "https://", 8) == 0)
                p += 8;
        else if (strncmp(p, "http://", 7) == 0)
                p += 7;
        return strndup(p, strcspn(p, "/"));
}

/* The registry of a reference: "localhost:5000/x" -> localhost:5000, "busybox" -> Hub. */
static char *ref_registry(const char *ref)
{
        const char *slash = strchr(ref, '/');
        if (slash != NULL) {
                size_t n = (size_t)(slash - ref);
                if (memchr(ref, '.', n) || memchr(ref, ':', n) ||
                    (n == 9 && strncmp(ref, "localhost", 9) == 0)) {
                        _cleanup_free_ char *host = strndup(ref, n);
                        return server_key(host ? host : "");
                }
        }
        return strdup(HUB_KEY);
}

static const char *helper_of(json_t *cfg, const char *key)
{
        const char *h = json_string_value(json_object_get(json_object_get(cfg, "credHelpers"), key));
        if (h == NULL || *h == '\0')
                h = json_string_value(json_object_get(cfg, "credsStore"));
        return h && *h ? h : NULL;
}

/* docker-credential-<name> <verb> with input on stdin; its stdout into *out (may be NULL). */
static int run_helper(const char *name, const char *verb, const char *input, char **out)
{
        _cleanup_free_ char *prog = NULL;
        if (asprintf(&prog, "docker-credential-%s", name) < 0)
                return -1;
        int in[2], outp[2];
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0)
                return -1;
        pid_t pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                dup2(in[0], 0);
                dup2(outp[1], 1);
                execlp(prog, prog, verb, (char *)NULL);
                fprintf(stderr, "exec %s: %s\n", prog, strerror(errno));
                _exit(127);
        }
        close(in[0]);
        close(outp[1]);
        (void)cli_write_all(in[1], input, strlen(input));
        close(in[1]);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        char tmp[4096];
        ssize_t n;
        while ((n = read(outp[0], tmp, sizeof(tmp))) > 0)
                fwrite(tmp, 1, (size_t)n, f);
        fclose(f);
        close(outp[0]);
        int st = 0;
        waitpid(pid, &st, 0);
        if (out != NULL)
                *out = buf;
        else
                free(buf);
        return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Credentials for key: {"username", "password"} or {"identitytoken"}; NULL when none. */
static json_t *creds_get(const char *key)
{
        _cleanup_jsonp_ json_t *cfg = config_load();
        const char *h = helper_of(cfg, key);
        if (h != NULL) {
                _cleanup_free_ char *out = NULL;
                if (run_helper(h, "get", key, &out) < 0)
                        return NULL;
                _cleanup_jsonp_ json_t *j = json_loads(out ? out : "", 0, NULL);
                const char *u = json_string_value(json_object_get(j, "Username"));
                const char *sec = json_string_value(json_object_get(j, "Secret"));
                if (sec == NULL)
                        return NULL;
                /* docker's helpers keep an identity token under the user "<token>". */
                if (u != NULL && strcmp(u, "<token>") == 0)
                        return json_pack("{s:s}", "identitytoken", sec);
                return json_pack("{s:s, s:s}", "username", u ? u : "", "password", sec);
        }
        json_t *e = json_object_get(json_object_get(cfg, "auths"), key);
        if (e == NULL)
                return NULL;
        const char *it = json_string_value(json_object_get(e, "identitytoken"));
        const char *a = json_string_value(json_object_get(e, "auth"));
        json_t *out = json_object();
        if (a != NULL && *a) {
                /* base64 of "user:password" */
                static const char tbl[] =
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                size_t n = strlen(a);
                _cleanup_free_ char *dec = malloc(n + 1);
                size_t o = 0;
                unsigned acc = 0;
                int bits = 0;
                for (size_t i = 0; dec && i < n && a[i] != '='; i++) {
                        const char *pos = strchr(tbl, a[i]);
                        if (pos == NULL)
                                break;
                        acc = (acc << 6) | (unsigned)(pos - tbl);
                        bits += 6;
                        if (bits >= 8) {
                                bits -= 8;
                                dec[o++] = (char)((acc >> bits) & 0xff);
                        }
                }
                if (dec != NULL) {
                        dec[o] = '\0';
                        char *colon = strchr(dec, ':');
                        if (colon != NULL) {
                                *colon = '\0';
                                json_object_set_new(out, "username", json_string(dec));
                                json_object_set_new(out, "password", json_string(colon + 1));
                        }
                }
        }
        if (it != NULL && *it)
                json_object_set_new(out, "identitytoken", json_string(it));
        return out;
}

static char *b64(const char *s, bool url)
{
        const char *tbl = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                              : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t len = strlen(s);
        const unsigned char *in = (const unsigned char *)s;
        char *out = malloc(4 * ((len + 2) / 3) + 1);
        if (out == NULL)
                return NULL;
        size_t o = 0;
        for (size_t i = 0; i < len; i += 3) {
                unsigned v = (unsigned)in[i] << 16;
                if (i + 1 < len)
                        v |= (unsigned)in[i + 1] << 8;
                if (i + 2 < len)
                        v |= in[i + 2];
                out[o++] = tbl[(v >> 18) & 63];
                out[o++] = tbl[(v >> 12) & 63];
                out[o++] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
                out[o++] = i + 2 < len ? tbl[v & 63] : '=';
        }
        out[o] = '\0';
        return out;
}

static int creds_store(const char *key, const char *user, const char *pass, const char *token)
{
        _cleanup_jsonp_ json_t *cfg = config_load();
        const char *h = helper_of(cfg, key);
        if (h != NULL) {
                _cleanup_jsonp_ json_t *in = json_pack("{s:s, s:s, s:s}", "ServerURL", key,
                                                       "Username", token ? "<token>" : user,
                                                       "Secret", token ? token : pass);
                _cleanup_free_ char *text = json_dumps(in, JSON_COMPACT);
                if (run_helper(h, "store", text, NULL) < 0) {
                        fprintf(stderr, "Error saving credentials: docker-credential-%s store "
                                        "failed\n", h);
                        return -1;
                }
                json_t *auths = json_object_get(cfg, "auths");
                if (!json_is_object(auths)) {
                        auths = json_object();
                        json_object_set_new(cfg, "auths", auths);
                }
                json_object_set_new(auths, key, json_object());
                return config_save(cfg);
        }
        json_t *auths = json_object_get(cfg, "auths");
        if (!json_is_object(auths)) {
                auths = json_object();
                json_object_set_new(cfg, "auths", auths);
        }
        _cleanup_free_ char *up = NULL;
        if (asprintf(&up, "%s:%s", user, token ? "" : pass) < 0)
                return -1;
        _cleanup_free_ char *enc = b64(up, false);
        json_t *e = json_pack("{s:s}", "auth", enc ? enc : "");
        if (token != NULL)
                json_object_set_new(e, "identitytoken", json_string(token));
        json_object_set_new(auths, key, e);
        return config_save(cfg);
}

/* "X-Registry-Auth: <base64url JSON>\r\n" for ref's registry, "" without credentials. */
static char *auth_header_for(const char *key)
{
        _cleanup_jsonp_ json_t *c = creds_get(key);
        if (c == NULL)
                return strdup("");
        json_object_set_new(c, "serveraddress", json_string(key));
        _cleanup_free_ char *text = json_dumps(c, JSON_COMPACT);
        _cleanup_free_ char *enc = text ? b64(text, true) : NULL;
        char *h = NULL;
        if (enc == NULL || asprintf(&h, "X-Registry-Auth: %s\r\n", enc) < 0)
                return strdup("");
        return h;
}

/* ---- the progress stream ---- */

/* One layer's line on a terminal; its speed counts from the start of its state. */
struct bar_line {
        char *id;
        char status[32];
        double t0;
        int64_t c0;
        bool printed;
};

struct progress {
        bool tty, quiet;
        char *buf;
        size_t len;
        struct bar_line *ids; /* lines on screen, in order */
        size_t n_ids;
        int rc;
        struct cli_resp *resp;
        json_t *aux;
};

/* docker's units: "12.3MB" (powers of 1000). */
static void human_bytes(double v, char *out, size_t n)
{
        static const char *const u[] = {"B", "kB", "MB", "GB", "TB"};
        int k = 0;
        while (v >= 1000 && k < 4) {
                v /= 1000;
                k++;
        }
        snprintf(out, n, "%.4g%s", v, u[k]);
}

static void show(struct progress *p, json_t *m)
{
        const char *err = json_string_value(json_object_get(m, "error"));
        if (err != NULL) {
                fprintf(stderr, "%s\n", err);
                p->rc = 1;
                return;
        }
        json_t *aux = json_object_get(m, "aux");
        if (aux != NULL) {
                json_decref(p->aux);
                p->aux = json_incref(aux);
                return;
        }
        if (p->quiet)
                return;
        const char *status = json_string_value(json_object_get(m, "status"));
        const char *id = json_string_value(json_object_get(m, "id"));
        const char *prog = json_string_value(json_object_get(m, "progress"));
        if (status == NULL)
                return;
        bool has_prog = prog != NULL && *prog;
        if (!p->tty) {
                /* As docker without a terminal: the bars are left out. */
                if (has_prog)
                        return;
                if (id != NULL)
                        printf("%s: %s\n", id, status);
                else
                        printf("%s\n", status);
                fflush(stdout);
                return;
        }
        if (id == NULL || json_object_get(m, "progressDetail") == NULL) {
                printf("%s%s%s\n", id ? id : "", id ? ": " : "", status);
                fflush(stdout);
                /* a line without a bar ends the block of bars above it */
                if (id == NULL) {
                        for (size_t i = 0; i < p->n_ids; i++)
                                free(p->ids[i].id);
                        p->n_ids = 0;
                }
                return;
        }
        size_t i = 0;
        while (i < p->n_ids && strcmp(p->ids[i].id, id) != 0)
                i++;
        if (i == p->n_ids) {
                struct bar_line *nv = realloc(p->ids, (p->n_ids + 1) * sizeof(*nv));
                if (nv == NULL)
                        return;
                p->ids = nv;
                memset(&p->ids[i], 0, sizeof(p->ids[i]));
                p->ids[i].id = strdup(id);
                if (p->ids[i].id == NULL)
                        return;
                p->n_ids++;
        }
        struct bar_line *b = &p->ids[i];
        json_t *detail = json_object_get(m, "progressDetail");
        int64_t cur = json_integer_value(json_object_get(detail, "current"));
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
        if (strncmp(b->status, status, sizeof(b->status) - 1) != 0) {
                snprintf(b->status, sizeof(b->status), "%s", status);
                b->t0 = now;
                b->c0 = cur;
        }
        char speed[48] = "";
        if (has_prog && now - b->t0 >= 0.2 && cur > b->c0) {
                char h[32];
                human_bytes((double)(cur - b->c0) / (now - b->t0), h, sizeof(h));
                snprintf(speed, sizeof(speed), "  %s/s", h);
        }
        if (!b->printed) {
                b->printed = true;
                printf("%s: %s %s%s\n", id, status, has_prog ? prog : "", speed);
        } else {
                size_t up = p->n_ids - i;
                /* docker's jsonmessage: cursor up, clear the line, write, cursor back down. */
                printf("\033[%zuA\r\033[2K%s: %s %s%s\r\033[%zuB", up, id, status,
                       has_prog ? prog : "", speed, up);
        }
        fflush(stdout);
}

static bool on_stream(const char *buf, size_t len, void *ud)
{
        struct progress *p = ud;
        char *nb = realloc(p->buf, p->len + len + 1);
        if (nb == NULL)
                return false;
        p->buf = nb;
        memcpy(p->buf + p->len, buf, len);
        p->len += len;
        p->buf[p->len] = '\0';
        char *start = p->buf, *nl;
        while ((nl = memchr(start, '\n', p->len - (size_t)(start - p->buf))) != NULL) {
                *nl = '\0';
                json_t *m = json_loads(start, 0, NULL);
                if (m != NULL)
                        show(p, m);
                json_decref(m);
                start = nl + 1;
        }
        size_t rest = p->len - (size_t)(start - p->buf);
        memmove(p->buf, start, rest);
        p->len = rest;
        return true;
}

static int stream_call(const char *path, const char *headers, bool quiet, json_t **aux)
{
        struct cli_resp r;
        struct progress p = {.tty = isatty(STDOUT_FILENO), .quiet = quiet, .resp = &r};
        struct cli_req req = {.method = "POST", .path = path, .headers = headers,
                              .sink = on_stream, .sink_ud = &p, .upload_fd = -1};
        if (cli_negotiate() < 0 || cli_do(&req, &r) < 0) {
                free(p.buf);
                return 1;
        }
        int rc = p.rc;
        if (r.status != 200) {
                cli_print_daemon_error(NULL, &r);
                rc = 1;
        }
        cli_resp_free(&r);
        free(p.buf);
        for (size_t i = 0; i < p.n_ids; i++)
                free(p.ids[i].id);
        free(p.ids);
        if (aux != NULL)
                *aux = p.aux;
        else
                json_decref(p.aux);
        return rc;
}

/* ---- verbs ---- */

struct reg_flags {
        const char *platform, *user, *password;
        bool quiet, password_stdin, all_tags;
        long limit;
        const char *format;
};

static int reg_opt(int c, const char *arg, void *ud)
{
        struct reg_flags *f = ud;
        switch (c) {
        case 'P': f->platform = arg; break;
        case 'q': f->quiet = true; break;
        case 'a': f->all_tags = true; break;
        case 'u': f->user = arg; break;
        case 'p': f->password = arg; break;
        case 'S': f->password_stdin = true; break;
        case 'l': f->limit = atol(arg); break;
        case 'f': f->format = arg; break;
        }
        return 0;
}

/* name and tag/digest of a reference, as the CLI splits it for the API. */
static void split(const char *ref, char **name, char **tag, bool *is_digest)
{
        const char *at = strchr(ref, '@');
        *is_digest = at != NULL;
        if (at != NULL) {
                *name = strndup(ref, (size_t)(at - ref));
                *tag = strdup(at + 1);
                return;
        }
        const char *colon = strrchr(ref, ':');
        if (colon != NULL && strchr(colon, '/') == NULL) {
                *name = strndup(ref, (size_t)(colon - ref));
                *tag = strdup(colon + 1);
                return;
        }
        *name = strdup(ref);
        *tag = NULL;
}

int cmd_pull(int argc, char **argv)
{
        static const struct option lo[] = {{"platform", required_argument, NULL, 'P'},
                                           {"quiet", no_argument, NULL, 'q'},
                                           {"all-tags", no_argument, NULL, 'a'},
                                           {"disable-content-trust", no_argument, NULL, 'D'},
                                           {0}};
        struct reg_flags f = {0};
        int st = 0, first = cli_getopts("pull", argc, argv, "qa", lo, reg_opt, &f, &st);
        if (first < 0)
                return st;
        if (first + 1 != argc) {
                fprintf(stderr, "\"gantry pull\" requires exactly 1 argument.\nSee 'gantry pull "
                                "--help'.\n\nUsage:  gantry pull [OPTIONS] NAME[:TAG|@DIGEST]\n\n"
                                "Download an image from a registry\n");
                return 1;
        }
        const char *ref = argv[first];
        _cleanup_free_ char *name = NULL, *tag = NULL;
        bool dig;
        split(ref, &name, &tag, &dig);
        if (tag == NULL && !f.quiet)
                printf("Using default tag: latest\n");
        _cleanup_free_ char *en = cli_escape(name);
        _cleanup_free_ char *et = cli_escape(tag ? tag : "latest");
        _cleanup_free_ char *path = NULL;
        cli_appendf(&path, "/images/create?fromImage=%s&tag=%s", en, et);
        if (f.platform != NULL) {
                _cleanup_free_ char *ep = cli_escape(f.platform);
                cli_appendf(&path, "&platform=%s", ep);
        }
        _cleanup_free_ char *key = ref_registry(name);
        _cleanup_free_ char *hdr = auth_header_for(key);
        int rc = stream_call(path, hdr, f.quiet, NULL);
        if (rc == 0) {
                /* docker prints the full name of what it pulled */
                const char *slash = strchr(name, '/');
                bool has_domain = key && strcmp(key, HUB_KEY) != 0;
                printf("%s%s%s%s%s\n", has_domain ? "" : "docker.io/",
                       !has_domain && slash == NULL ? "library/" : "", name, dig ? "@" : ":",
                       tag ? tag : "latest");
        }
        return rc;
}

int cmd_push(int argc, char **argv)
{
        static const struct option lo[] = {{"quiet", no_argument, NULL, 'q'},
                                           {"all-tags", no_argument, NULL, 'a'},
                                           {"disable-content-trust", no_argument, NULL, 'D'},
                                           {0}};
        struct reg_flags f = {0};
        int st = 0, first = cli_getopts("push", argc, argv, "qa", lo, reg_opt, &f, &st);
        if (first < 0)
                return st;
        if (first + 1 != argc) {
                fprintf(stderr, "\"gantry push\" requires exactly 1 argument.\nSee 'gantry push "
                                "--help'.\n\nUsage:  gantry push [OPTIONS] NAME[:TAG]\n\n"
                                "Upload an image to a registry\n");
                return 1;
        }
        _cleanup_free_ char *name = NULL, *tag = NULL;
        bool dig;
        split(argv[first], &name, &tag, &dig);
        if (dig) {
                fprintf(stderr, "cannot push a digest reference\n");
                return 1;
        }
        if (f.all_tags && tag != NULL) {
                fprintf(stderr, "tag can't be used with --all-tags/-a\n");
                return 1;
        }
        if (tag == NULL && !f.all_tags && !f.quiet)
                printf("Using default tag: latest\n");
        _cleanup_free_ char *et = cli_escape(tag ? tag : "latest");
        _cleanup_free_ char *path = NULL;
        /* Without a tag the daemon pushes every tag of the repository, as dockerd. */
        if (f.all_tags)
                cli_appendf(&path, "/images/%s/push", name);
        else
                cli_appendf(&path, "/images/%s/push?tag=%s", name, et);
        _cleanup_free_ char *key = ref_registry(name);
        _cleanup_free_ char *hdr = auth_header_for(key);
        json_t *aux = NULL;
        int rc = stream_call(path, hdr, f.quiet, &aux);
        if (rc == 0 && f.quiet && f.all_tags)
                printf("%s\n", name);
        else if (rc == 0 && f.quiet)
                printf("%s:%s\n", name, tag ? tag : "latest");
        json_decref(aux);
        return rc;
}

static char *read_password_stdin(void)
{
        char *line = NULL;
        size_t cap = 0;
        ssize_t n = getline(&line, &cap, stdin);
        if (n < 0) {
                free(line);
                return NULL;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = '\0';
        return line;
}

/* A line typed on the terminal after prompt, echoed or not (a password), as docker login. */
static char *prompt_line(const char *prompt, bool echo)
{
        struct termios old, quiet;
        bool restore = false;
        /* Echo goes off before the prompt shows: nothing typed after it is ever echoed. */
        if (!echo && tcgetattr(STDIN_FILENO, &old) == 0) {
                quiet = old;
                quiet.c_lflag &= ~(tcflag_t)ECHO;
                quiet.c_lflag |= ECHONL;
                restore = tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0;
        }
        fputs(prompt, stdout);
        fflush(stdout);
        char *line = read_password_stdin();
        if (restore)
                tcsetattr(STDIN_FILENO, TCSANOW, &old);
        return line;
}

int cmd_login(int argc, char **argv)
{
        static const struct option lo[] = {{"username", required_argument, NULL, 'u'},
                                           {"password", required_argument, NULL, 'p'},
                                           {"password-stdin", no_argument, NULL, 'S'},
                                           {0}};
        struct reg_flags f = {0};
        int st = 0, first = cli_getopts("login", argc, argv, "u:p:", lo, reg_opt, &f, &st);
        if (first < 0)
                return st;
        if (argc - first > 1) {
                fprintf(stderr, "\"gantry login\" requires at most 1 argument.\n");
                return 1;
        }
        const char *server = first < argc ? argv[first] : NULL;
        _cleanup_free_ char *key = server_key(server);
        _cleanup_free_ char *pw_stdin = NULL;
        const char *pass = f.password;
        if (f.password_stdin) {
                if (f.password != NULL) {
                        fprintf(stderr, "--password and --password-stdin are mutually exclusive\n");
                        return 1;
                }
                if (f.user == NULL) {
                        fprintf(stderr, "Must provide --username with --password-stdin\n");
                        return 1;
                }
                pw_stdin = read_password_stdin();
                pass = pw_stdin ? pw_stdin : "";
        } else if (f.password != NULL) {
                fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use "
                                "--password-stdin.\n");
        }
        _cleanup_jsonp_ json_t *stored = NULL;
        _cleanup_free_ char *typed_user = NULL, *typed_pass = NULL;
        if (f.user == NULL && pass == NULL)
                stored = creds_get(key);
        /* On a terminal what is missing is asked for: Username, then Password (not echoed). */
        if (stored == NULL && (f.user == NULL || pass == NULL) && isatty(STDIN_FILENO)) {
                if (f.user == NULL) {
                        typed_user = prompt_line("Username: ", true);
                        if (typed_user == NULL || *typed_user == '\0') {
                                fprintf(stderr, "Error: Non-null Username Required\n");
                                return 1;
                        }
                        f.user = typed_user;
                }
                if (pass == NULL) {
                        typed_pass = prompt_line("Password: ", false);
                        if (typed_pass == NULL || *typed_pass == '\0') {
                                fprintf(stderr, "Error: Password Required\n");
                                return 1;
                        }
                        pass = typed_pass;
                }
        }
        if (f.user == NULL || pass == NULL) {
                if (stored == NULL) {
                        fprintf(stderr, "Error: Cannot perform an interactive login from a "
                                        "non TTY device\n");
                        return 1;
                }
        }
        _cleanup_jsonp_ json_t *body =
            stored ? json_deep_copy(stored)
                   : json_pack("{s:s, s:s}", "username", f.user, "password", pass);
        json_object_set_new(body, "serveraddress", json_string(key));
        struct cli_resp r;
        if (cli_call("POST", "/auth", body, &r) < 0)
                return 1;
        if (r.status != 200) {
                cli_print_daemon_error(NULL, &r);
                cli_resp_free(&r);
                return 1;
        }
        _cleanup_jsonp_ json_t *res = json_loadb(r.body ? r.body : "", r.len, 0, NULL);
        cli_resp_free(&r);
        const char *token = json_string_value(json_object_get(res, "IdentityToken"));
        if (stored == NULL &&
            creds_store(key, f.user, pass, token && *token ? token : NULL) < 0)
                return 1;
        printf("Login Succeeded\n");
        return 0;
}

int cmd_logout(int argc, char **argv)
{
        if (argc > 2) {
                fprintf(stderr, "\"gantry logout\" requires at most 1 argument.\n");
                return 1;
        }
        _cleanup_free_ char *key = server_key(argc == 2 ? argv[1] : NULL);
        _cleanup_jsonp_ json_t *cfg = config_load();
        json_t *auths = json_object_get(cfg, "auths");
        const char *h = helper_of(cfg, key);
        if (json_object_get(auths, key) == NULL && h == NULL) {
                printf("Not logged in to %s\n", key);
                return 0;
        }
        printf("Removing login credentials for %s\n", key);
        if (h != NULL)
                (void)run_helper(h, "erase", key, NULL);
        json_object_del(auths, key);
        return config_save(cfg) < 0 ? 1 : 0;
}

int cmd_search(int argc, char **argv)
{
        static const struct option lo[] = {{"limit", required_argument, NULL, 'l'},
                                           {"format", required_argument, NULL, 'f'},
                                           {"no-trunc", no_argument, NULL, 'n'},
                                           {0}};
        struct reg_flags f = {.limit = 25};
        int st = 0, first = cli_getopts("search", argc, argv, "f:", lo, reg_opt, &f, &st);
        if (first < 0)
                return st;
        if (first + 1 != argc) {
                fprintf(stderr, "\"gantry search\" requires exactly 1 argument.\n");
                return 1;
        }
        _cleanup_free_ char *term = cli_escape(argv[first]);
        _cleanup_free_ char *path = NULL;
        cli_appendf(&path, "/images/search?term=%s&limit=%ld", term, f.limit);
        _cleanup_free_ char *key = ref_registry(argv[first]);
        _cleanup_free_ char *hdr = auth_header_for(key);
        struct cli_req req = {.method = "GET", .path = path, .headers = hdr, .upload_fd = -1};
        struct cli_resp r;
        if (cli_negotiate() < 0 || cli_do(&req, &r) < 0)
                return 1;
        if (r.status != 200) {
                cli_print_daemon_error(NULL, &r);
                cli_resp_free(&r);
                return 1;
        }
        _cleanup_jsonp_ json_t *list = json_loadb(r.body ? r.body : "", r.len, 0, NULL);
        cli_resp_free(&r);
        _cleanup_jsonp_ json_t *rows = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v)
        {
                char stars[32];
                snprintf(stars, sizeof(stars), "%lld",
                         (long long)json_integer_value(json_object_get(v, "star_count")));
                json_array_append_new(
                    rows, json_pack("{s:O, s:O, s:s, s:s}", "Name", json_object_get(v, "name"),
                                    "Description", json_object_get(v, "description"), "StarCount",
                                    stars, "IsOfficial",
                                    json_is_true(json_object_get(v, "is_official")) ? "[OK]"
                                                                                    : ""));
        }
        _cleanup_jsonp_ json_t *headers =
            json_pack("{s:s, s:s, s:s, s:s}", "Name", "NAME", "Description", "DESCRIPTION",
                      "StarCount", "STARS", "IsOfficial", "OFFICIAL");
        return cli_print_list(f.format ? f.format
                                       : "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t"
                                         "{{.IsOfficial}}",
                              rows, headers);
}
