/* gantry CLI: container verbs other than run/create: start ps logs stop kill rm wait inspect. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cli_getopts(const char *verb, int argc, char **argv, const char *shortopts,
                   const struct option *longopts, int (*on)(int c, const char *arg, void *ud),
                   void *ud, int *st)
{
        int c;
        char msg[512];
        _cleanup_free_ char *so = NULL;
        if (asprintf(&so, "+:%s", shortopts) < 0)
                abort();
        static const struct option none[] = {{0}};
        if (longopts == NULL)
                longopts = none;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, so, longopts, NULL)) != -1) {
                if (c == ':') {
                        snprintf(msg, sizeof(msg), "flag needs an argument: %s", argv[optind - 1]);
                        *st = cli_usage_error(verb, msg);
                        return -1;
                }
                if (c == '?' && (strcmp(argv[optind - 1], "--help") == 0 ||
                                 (optopt == 'h' && strcmp(argv[optind - 1], "-h") == 0))) {
                        cli_print_verb_help(verb, shortopts, longopts);
                        *st = 0;
                        return -1;
                }
                if (c == '?') {
                        if (optopt != 0 && optopt < 256)
                                snprintf(msg, sizeof(msg), "unknown shorthand flag: '%c' in %s", optopt, argv[optind - 1]);
                        else
                                snprintf(msg, sizeof(msg), "unknown flag: %s", argv[optind - 1]);
                        *st = cli_usage_error(verb, msg);
                        return -1;
                }
                if (on(c, optarg, ud) < 0) {
                        *st = 125;
                        return -1;
                }
        }
        return optind;
}

int cli_need_args(const char *verb, int argc, int first, const char *usage)
{
        if (first < argc)
                return 0;
        fprintf(stderr, "\"gantry %s\" requires at least 1 argument.\nSee 'gantry %s --help'.\n\n"
                        "Usage:  gantry %s %s\n", verb, verb, verb, usage);
        return -1;
}

/* GET /containers/NAME/json (with the sizes when size); NULL (printed unless quiet) if none. */
static json_t *inspect_container(const char *name, bool quiet, bool size)
{
        _cleanup_free_ char *n = cli_escape(name);
        _cleanup_free_ char *path = NULL;
        struct cli_resp r;
        if (asprintf(&path, "/containers/%s/json%s", n, size ? "?size=1" : "") < 0)
                abort();
        if (cli_call("GET", path, NULL, &r) < 0)
                return NULL;
        if (r.status != 200) {
                if (!quiet)
                        cli_print_daemon_error(NULL, &r);
                cli_resp_free(&r);
                return NULL;
        }
        json_t *j = json_loadb(r.body, r.len, 0, NULL);
        cli_resp_free(&r);
        return j;
}

json_t *cli_inspect_container(const char *name, bool quiet)
{
        return inspect_container(name, quiet, false);
}

/* ---- start ---- */

struct start_flags {
        bool attach, interactive;
};

static int start_opt(int c, const char *arg, void *ud)
{
        struct start_flags *f = ud;
        if (c == 'a')
                f->attach = true;
        else if (c == 'i')
                f->interactive = true;
        return 0;
}

int cmd_start(int argc, char **argv)
{
        static const struct option lo[] = {{"attach", no_argument, NULL, 'a'},
                                           {"interactive", no_argument, NULL, 'i'}, {0}};
        struct start_flags f = {0};
        int st = 0, first = cli_getopts("start", argc, argv, "ai", lo, start_opt, &f, &st);
        if (first < 0)
                return st;
        if (cli_need_args("start", argc, first, "[OPTIONS] CONTAINER [CONTAINER...]") < 0)
                return 1;
        if (f.attach || f.interactive) {
                if (argc - first > 1) {
                        fprintf(stderr, "gantry: you cannot start and attach multiple containers at once\n");
                        return 1;
                }
                _cleanup_jsonp_ json_t *c = cli_inspect_container(argv[first], false);
                if (c == NULL)
                        return 1;
                json_t *cfg = json_object_get(c, "Config");
                struct cli_attach_opts o = {
                        .id = json_string_value(json_object_get(c, "Id")),
                        .verb = "start",
                        .tty = json_is_true(json_object_get(cfg, "Tty")),
                        .stdin_open = f.interactive && json_is_true(json_object_get(cfg, "OpenStdin")),
                        .auto_remove = json_is_true(json_object_get(json_object_get(c, "HostConfig"), "AutoRemove")),
                        .start = true,
                };
                return cli_attach_run(&o);
        }
        int rc = 0;
        for (int i = first; i < argc; i++) {
                _cleanup_free_ char *n = cli_escape(argv[i]);
                _cleanup_free_ char *path = NULL;
                struct cli_resp r;
                if (asprintf(&path, "/containers/%s/start", n) < 0)
                        abort();
                if (cli_call("POST", path, NULL, &r) < 0)
                        return 1;
                if (r.status >= 300 && r.status != 304) {
                        cli_print_daemon_error(NULL, &r);
                        fprintf(stderr, "Error: failed to start containers: %s\n", argv[i]);
                        rc = 1;
                } else {
                        printf("%s\n", argv[i]);
                }
                cli_resp_free(&r);
        }
        return rc;
}

/* ---- stop, kill, rm, wait: one request per name ---- */

struct each_flags {
        const char *t, *signal;
        bool force, volumes;
};

static int each_opt(int c, const char *arg, void *ud)
{
        struct each_flags *f = ud;
        switch (c) {
        case 't': f->t = arg; break;
        case 's': f->signal = arg; break;
        case 'f': f->force = true; break;
        case 'v': f->volumes = true; break;
        }
        return 0;
}

static int for_each(const char *verb, int argc, char **argv, int first, const char *method,
                    const char *fmt, const char *query)
{
        int rc = 0;
        for (int i = first; i < argc; i++) {
                _cleanup_free_ char *n = cli_escape(argv[i]);
                _cleanup_free_ char *path = NULL;
                struct cli_resp r;
                if (asprintf(&path, fmt, n) < 0)
                        abort();
                if (query && *query)
                        cli_appendf(&path, "%s", query);
                if (cli_call(method, path, NULL, &r) < 0)
                        return 1;
                if (r.status >= 300 && r.status != 304) {
                        cli_print_daemon_error(NULL, &r);
                        rc = 1;
                } else if (strcmp(verb, "wait") == 0) {
                        _cleanup_jsonp_ json_t *j = json_loadb(r.body, r.len, 0, NULL);
                        printf("%" JSON_INTEGER_FORMAT "\n",
                               json_integer_value(json_object_get(j, "StatusCode")));
                } else {
                        printf("%s\n", argv[i]);
                }
                fflush(stdout);
                cli_resp_free(&r);
        }
        return rc;
}

/* ?t=...&signal=... for stop and restart. */
static char *stop_query(const struct each_flags *f)
{
        char *q = NULL;
        cli_appendf(&q, "%s", "");
        if (f->t) {
                _cleanup_free_ char *t = cli_escape(f->t);
                cli_appendf(&q, "?t=%s", t);
        }
        if (f->signal) {
                _cleanup_free_ char *s = cli_escape(f->signal);
                cli_appendf(&q, "%csignal=%s", f->t ? '&' : '?', s);
        }
        return q;
}

int cmd_stop(int argc, char **argv)
{
        static const struct option lo[] = {{"time", required_argument, NULL, 't'},
                                           {"timeout", required_argument, NULL, 't'},
                                           {"signal", required_argument, NULL, 's'}, {0}};
        struct each_flags f = {0};
        int st = 0, first = cli_getopts("stop", argc, argv, "t:s:", lo, each_opt, &f, &st);
        if (first < 0)
                return st;
        if (cli_need_args("stop", argc, first, "[OPTIONS] CONTAINER [CONTAINER...]") < 0)
                return 1;
        _cleanup_free_ char *q = stop_query(&f);
        return for_each("stop", argc, argv, first, "POST", "/containers/%s/stop", q);
}

int cmd_restart(int argc, char **argv)
{
        static const struct option lo[] = {{"time", required_argument, NULL, 't'},
                                           {"timeout", required_argument, NULL, 't'},
                                           {"signal", required_argument, NULL, 's'},
                                           {0}};
        struct each_flags f = {0};
        int st = 0, first = cli_getopts("restart", argc, argv, "t:s:", lo, each_opt, &f, &st);
        if (first < 0)
                return st;
        if (cli_need_args("restart", argc, first, "[OPTIONS] CONTAINER [CONTAINER...]") < 0)
                return 1;
        _cleanup_free_ char *q = stop_query(&f);
        return for_each("restart", argc, argv, first, "POST", "/containers/%s/restart", q);
}

int cmd_kill(int argc, char **argv)
{
        static const struct option lo[] = {{"signal", required_argument, NULL, 's'}, {0}};
        struct each_flags f = {0};
        int st = 0, first = cli_getopts("kill", argc, argv, "s:", lo, each_opt, &f, &st);
        _cleanup_free_ char *q = NULL;
        if (first < 0)
                return st;
        if (cli_need_args("kill", argc, first, "[OPTIONS] CONTAINER [CONTAINER...]") < 0)
                return 1;
        cli_appendf(&q, "%s", "");
        if (f.signal) {
                _cleanup_free_ char *s = cli_escape(f.signal);
                cli_appendf(&q, "?signal=%s", s);
        }
        return for_each("kill", argc, argv, first, "POST", "/containers/%s/kill", q);
}

int cmd_rm(int argc, char **argv)
{
        static const struct option lo[] = {{"force", no_argument, NULL, 'f'},
                                           {"volumes", no_argument, NULL, 'v'}, {0}};
        struct each_flags f = {0};
        int st = 0, first = cli_getopts("rm", argc, argv, "fv", lo, each_opt, &f, &st);
        _cleanup_free_ char *q = NULL;
        if (first < 0)
                return st;
        if (cli_need_args("rm", argc, first, "[OPTIONS] CONTAINER [CONTAINER...]") < 0)
                return 1;
        cli_appendf(&q, "%s%s", f.force ? "?force=1" : "",
                    f.volumes ? (f.force ? "&v=1" : "?v=1") : "");
        return for_each("rm", argc, argv, first, "DELETE", "/containers/%s", q);
}

int cmd_wait(int argc, char **argv)
{
        static const struct option lo[] = {{0}};
        struct each_flags f = {0};
        int st = 0, first = cli_getopts("wait", argc, argv, "", lo, each_opt, &f, &st);
        if (first < 0)
                return st;
        if (cli_need_args("wait", argc, first, "CONTAINER [CONTAINER...]") < 0)
                return 1;
        return for_each("wait", argc, argv, first, "POST", "/containers/%s/wait", NULL);
}

/* ---- inspect ---- */

struct inspect_flags {
        const char *format, *type;
        bool size;
};

static int inspect_opt(int c, const char *arg, void *ud)
{
        struct inspect_flags *f = ud;
        if (c == 'f')
                f->format = arg;
        else if (c == 'T')
                f->type = arg;
        else if (c == 's')
                f->size = true;
        return 0;
}

/* Prints objects as docker does: a JSON array with 4-space indent, or one template line each. */
static int print_inspected(json_t *list, const char *format)
{
        if (format == NULL || format[0] == '\0') {
                _cleanup_free_ char *s = json_dumps(list, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
                printf("%s\n", s ? s : "[]");
                return 0;
        }
        struct cli_tmpl *t = cli_tmpl_parse(format);
        if (t == NULL)
                return -64; /* docker's status for a template that does not parse */
        size_t i;
        json_t *o;
        int rc = 0;
        json_array_foreach(list, i, o) {
                _cleanup_free_ char *out = NULL;
                if (cli_tmpl_exec(t, o, NULL, &out) < 0) {
                        rc = -1;
                        break;
                }
                printf("%s\n", out);
        }
        cli_tmpl_free(t);
        return rc;
}

int cli_inspect_objects(const char *verb, int argc, char **argv, const char *only)
{
        static const struct option lo[] = {{"format", required_argument, NULL, 'f'},
                                           {"type", required_argument, NULL, 'T'},
                                           {"size", no_argument, NULL, 's'}, {0}};
        struct inspect_flags f = {.type = only};
        int st = 0, first = cli_getopts(verb, argc, argv, "f:s", lo, inspect_opt, &f, &st);
        if (first < 0)
                return st;
        if (cli_need_args(verb, argc, first, "[OPTIONS] NAME|ID [NAME|ID...]") < 0)
                return 1;
        _cleanup_jsonp_ json_t *list = json_array();
        _cleanup_free_ char *errs = NULL;
        int rc = 0;
        for (int i = first; i < argc; i++) {
                json_t *o = NULL;
                if (f.type == NULL || strcmp(f.type, "container") == 0)
                        o = inspect_container(argv[i], true, f.size);
                if (o == NULL && (f.type == NULL || strcmp(f.type, "image") == 0)) {
                        _cleanup_free_ char *n = cli_escape(argv[i]);
                        _cleanup_free_ char *path = NULL;
                        struct cli_resp r;
                        if (asprintf(&path, "/images/%s/json", n) < 0)
                                abort();
                        if (cli_call("GET", path, NULL, &r) < 0)
                                return 1;
                        if (r.status == 200)
                                o = json_loadb(r.body, r.len, 0, NULL);
                        cli_resp_free(&r);
                }
                if (o == NULL) {
                        cli_appendf(&errs, "Error: No such %s: %s\n",
                                    f.type ? f.type : "object", argv[i]);
                        rc = 1;
                        continue;
                }
                json_array_append_new(list, o);
        }
        int pr = print_inspected(list, f.format);
        if (pr < 0)
                rc = pr == -64 ? 64 : 1;
        fflush(stdout);
        if (errs)
                fputs(errs, stderr);
        return rc;
}

int cmd_inspect(int argc, char **argv)
{
        return cli_inspect_objects("inspect", argc, argv, NULL);
}

int cmd_image_inspect(int argc, char **argv)
{
        return cli_inspect_objects("image inspect", argc, argv, "image");
}

/* A verb without flags that POSTs to fmt for each container named. */
static int plain_verb(const char *verb, int argc, char **argv, const char *fmt)
{
        int st = 0, first = cli_getopts(verb, argc, argv, "", NULL, each_opt, NULL, &st);
        if (first < 0)
                return st;
        if (cli_need_args(verb, argc, first, "CONTAINER [CONTAINER...]") < 0)
                return 1;
        return for_each(verb, argc, argv, first, "POST", fmt, NULL);
}

int cmd_pause(int argc, char **argv)
{
        return plain_verb("pause", argc, argv, "/containers/%s/pause");
}

int cmd_unpause(int argc, char **argv)
{
        return plain_verb("unpause", argc, argv, "/containers/%s/unpause");
}

int cmd_rename(int argc, char **argv)
{
        int st = 0, first = cli_getopts("rename", argc, argv, "", NULL, each_opt, NULL, &st);
        if (first < 0)
                return st;
        if (argc - first != 2) {
                fprintf(stderr, "\"gantry rename\" requires exactly 2 arguments.\n"
                                "See 'gantry rename --help'.\n\n"
                                "Usage:  gantry rename CONTAINER NEW_NAME\n");
                return 1;
        }
        _cleanup_free_ char *c = cli_escape(argv[first]), *n = cli_escape(argv[first + 1]);
        _cleanup_free_ char *path = NULL;
        cli_appendf(&path, "/containers/%s/rename?name=%s", c, n);
        struct cli_resp r;
        if (cli_call("POST", path, NULL, &r) < 0)
                return 1;
        int rc = r.status >= 300;
        if (rc)
                cli_print_daemon_error(NULL, &r);
        cli_resp_free(&r);
        return rc;
}
