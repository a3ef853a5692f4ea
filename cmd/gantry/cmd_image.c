/* gantry CLI: image verbs (images load import tag rmi) and version/info. */
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static int fmt_opt(int c, const char *arg, void *ud);

/* Splits "repo[:tag]" (a ':' before the last '/' is a registry port). */
static void split_ref(const char *ref, char **repo, char **tag)
{
        const char *slash = strrchr(ref, '/');
        const char *colon = strrchr(slash ? slash : ref, ':');
        const char *at = strchr(ref, '@');
        if (at != NULL) {
                *repo = strndup(ref, (size_t)(at - ref));
                *tag = NULL;
        } else if (colon != NULL) {
                *repo = strndup(ref, (size_t)(colon - ref));
                *tag = strdup(colon + 1);
        } else {
                *repo = strdup(ref);
                *tag = NULL;
        }
}

static json_t *image_row(json_t *img, const char *repotag, bool trunc, time_t now)
{
        json_t *row = json_object();
        char buf[128];
        const char *id = json_string_value(json_object_get(img, "Id"));
        id = id ? id : "";
        if (trunc && strncmp(id, "sha256:", 7) == 0)
                json_object_set_new(row, "ID", json_stringn(id + 7, strlen(id + 7) > 12 ? 12 : strlen(id + 7)));
        else
                json_object_set_new(row, "ID", json_string(id));
        _cleanup_free_ char *repo = NULL, *tag = NULL;
        split_ref(repotag, &repo, &tag);
        json_object_set_new(row, "Repository", json_string(repo));
        json_object_set_new(row, "Tag", json_string(tag ? tag : "<none>"));
        /* The digest docker shows: the repo digest of this row's repository, if the image has one. */
        const char *digest = "<none>";
        size_t k;
        json_t *rd;
        json_array_foreach (json_object_get(img, "RepoDigests"), k, rd) {
                const char *d = json_string_value(rd), *at = d ? strchr(d, '@') : NULL;
                if (at && repo && strlen(repo) == (size_t)(at - d) && strncmp(d, repo, (size_t)(at - d)) == 0)
                        digest = at + 1;
        }
        json_object_set_new(row, "Digest", json_string(digest));
        int64_t created = json_integer_value(json_object_get(img, "Created"));
        char *s = NULL;
        cli_human_duration((int64_t)now - created, buf, sizeof(buf));
        cli_appendf(&s, "%s ago", buf);
        json_object_set_new(row, "CreatedSince", json_string(s));
        free(s);
        cli_go_time(created, buf, sizeof(buf));
        json_object_set_new(row, "CreatedAt", json_string(buf));
        cli_human_size((double)json_integer_value(json_object_get(img, "Size")), buf, sizeof(buf));
        json_object_set_new(row, "Size", json_string(buf));
        json_int_t nc = json_integer_value(json_object_get(img, "Containers"));
        if (nc < 0)
                json_object_set_new(row, "Containers", json_string("N/A"));
        else
                json_object_set_new(row, "Containers", json_integer(nc));
        return row;
}

struct images_flags {
        bool all, quiet, no_trunc, digests;
        const char *format;
        json_t *filters;
};

static int images_opt(int c, const char *arg, void *ud)
{
        struct images_flags *f = ud;
        switch (c) {
        case 'a': f->all = true; break;
        case 'q': f->quiet = true; break;
        case 'N': f->no_trunc = true; break;
        case 'F': f->format = arg; break;
        case 'D': f->digests = true; break;
        case 'f': return cli_filter_add(f->filters, "-f, --filter", arg);
        }
        return 0;
}

int cmd_images(int argc, char **argv)
{
        static const struct option lo[] = {
                {"all", no_argument, NULL, 'a'},      {"quiet", no_argument, NULL, 'q'},
                {"no-trunc", no_argument, NULL, 'N'}, {"format", required_argument, NULL, 'F'},
                {"digests", no_argument, NULL, 'D'},  {"filter", required_argument, NULL, 'f'},
                {0}};
        _cleanup_jsonp_ json_t *filters = json_object();
        struct images_flags f = {.filters = filters};
        int st = 0, first = cli_getopts("images", argc, argv, "aqf:", lo, images_opt, &f, &st);
        if (first < 0)
                return st;
        _cleanup_free_ char *path = NULL;
        cli_appendf(&path, "/images/json%s", f.all ? "?all=1" : "");
        if (first < argc) { /* images REPOSITORY[:TAG]: docker's reference filter */
                json_t *ref = json_object_get(filters, "reference");
                if (ref == NULL)
                        json_object_set_new(filters, "reference", ref = json_object());
                json_object_set_new(ref, argv[first], json_true());
        }
        cli_append_filters(&path, filters);
        _cleanup_jsonp_ json_t *list = NULL;
        if (cli_call_json("GET", path, NULL, 200, &list) < 0)
                return 1;
        _cleanup_jsonp_ json_t *rows = json_array();
        time_t now = time(NULL);
        size_t i, k;
        json_t *img, *tag;
        json_array_foreach(list, i, img) {
                json_t *tags = json_object_get(img, "RepoTags");
                bool any = false;
                json_array_foreach(tags, k, tag) {
                        if (!json_is_string(tag))
                                continue;
                        json_array_append_new(rows, image_row(img, json_string_value(tag), !f.no_trunc, now));
                        any = true;
                }
                if (!any)
                        json_array_append_new(rows, image_row(img, "<none>:<none>", !f.no_trunc, now));
        }
        if (f.quiet) {
                /* One line per image, not per tag. */
                const char *prev = NULL;
                json_array_foreach(rows, i, img) {
                        const char *id = json_string_value(json_object_get(img, "ID"));
                        if (prev == NULL || strcmp(prev, id) != 0)
                                printf("%s\n", id);
                        prev = id;
                }
                return 0;
        }
        _cleanup_jsonp_ json_t *headers = json_pack(
                "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "Repository", "REPOSITORY", "Tag", "TAG", "ID",
                "IMAGE ID", "CreatedSince", "CREATED", "CreatedAt", "CREATED AT", "Size", "SIZE",
                "Digest", "DIGEST", "Containers", "CONTAINERS");
        const char *format = f.format;
        if (format == NULL || format[0] == '\0' || strcmp(format, "table") == 0)
                format = f.digests ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
                                   : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
        return cli_print_list(format, rows, headers);
}

/* Prints a JSON message stream (load/import answers); 1 when it carries an error. */
static int print_json_stream(const char *body, size_t len)
{
        size_t off = 0;
        int rc = 0;
        while (off < len) {
                json_error_t e;
                while (off < len && (body[off] == '\n' || body[off] == '\r' || body[off] == ' '))
                        off++;
                if (off >= len)
                        break;
                json_t *m = json_loadb(body + off, len - off, JSON_DISABLE_EOF_CHECK, &e);
                if (m == NULL)
                        break;
                off += (size_t)e.position;
                const char *s;
                if ((s = json_string_value(json_object_get(m, "error"))) != NULL) {
                        fprintf(stderr, "%s\n", s);
                        rc = 1;
                } else if ((s = json_string_value(json_object_get(m, "stream"))) != NULL) {
                        fputs(s, stdout);
                } else if ((s = json_string_value(json_object_get(m, "status"))) != NULL) {
                        printf("%s\n", s);
                }
                json_decref(m);
        }
        return rc;
}

static int upload(const char *path, const char *ctype, int fd)
{
        struct cli_req req = {.method = "POST", .path = path, .ctype = ctype, .upload_fd = fd};
        struct cli_resp r;
        if (cli_negotiate() < 0 || cli_do(&req, &r) < 0)
                return 1;
        if (r.status != 200) {
                cli_print_daemon_error(NULL, &r);
                cli_resp_free(&r);
                return 1;
        }
        int rc = print_json_stream(r.body ? r.body : "", r.len);
        cli_resp_free(&r);
        return rc;
}

struct load_flags {
        const char *input, *message;
        bool quiet;
        char *changes;
};

static int load_opt(int c, const char *arg, void *ud)
{
        struct load_flags *f = ud;
        switch (c) {
        case 'i': f->input = arg; break;
        case 'q': f->quiet = true; break;
        case 'm': f->message = arg; break;
        case 'c': {
                _cleanup_free_ char *e = cli_escape(arg);
                cli_appendf(&f->changes, "&changes=%s", e);
                break;
        }
        }
        return 0;
}

static int open_input(const char *file)
{
        if (file == NULL || strcmp(file, "-") == 0) {
                if (isatty(STDIN_FILENO)) {
                        fprintf(stderr, "requested load from stdin, but stdin is empty\n");
                        return -1;
                }
                return STDIN_FILENO;
        }
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                fprintf(stderr, "open %s: %m\n", file);
        return fd;
}

int cmd_load(int argc, char **argv)
{
        static const struct option lo[] = {{"input", required_argument, NULL, 'i'},
                                           {"quiet", no_argument, NULL, 'q'}, {0}};
        struct load_flags f = {0};
        int st = 0, first = cli_getopts("load", argc, argv, "i:q", lo, load_opt, &f, &st);
        if (first < 0)
                return st;
        if (first < argc) {
                fprintf(stderr, "\"gantry load\" accepts no arguments.\nSee 'gantry load --help'.\n");
                return 1;
        }
        int fd = open_input(f.input);
        if (fd < 0)
                return 1;
        int rc = upload("/images/load?quiet=1", "application/x-tar", fd);
        if (fd != STDIN_FILENO)
                close(fd);
        return rc;
}

int cmd_import(int argc, char **argv)
{
        static const struct option lo[] = {{"change", required_argument, NULL, 'c'},
                                           {"message", required_argument, NULL, 'm'},
                                           {"platform", required_argument, NULL, 'p'}, {0}};
        struct load_flags f = {0};
        int st = 0, first = cli_getopts("import", argc, argv, "c:m:", lo, load_opt, &f, &st);
        _cleanup_free_ char *changes = f.changes;
        if (first < 0)
                return st;
        if (cli_need_args("import", argc, first, "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]") < 0)
                return 1;
        _cleanup_free_ char *path = NULL;
        cli_appendf(&path, "/images/create?fromSrc=-");
        if (first + 1 < argc) {
                _cleanup_free_ char *repo = NULL, *tag = NULL;
                split_ref(argv[first + 1], &repo, &tag);
                _cleanup_free_ char *er = cli_escape(repo);
                cli_appendf(&path, "&repo=%s", er);
                if (tag) {
                        _cleanup_free_ char *et = cli_escape(tag);
                        cli_appendf(&path, "&tag=%s", et);
                }
        }
        if (f.message) {
                _cleanup_free_ char *em = cli_escape(f.message);
                cli_appendf(&path, "&message=%s", em);
        }
        if (changes)
                cli_appendf(&path, "%s", changes);
        int fd = open_input(argv[first]);
        if (fd < 0)
                return 1;
        int rc = upload(path, "application/x-tar", fd);
        if (fd != STDIN_FILENO)
                close(fd);
        return rc;
}

int cmd_tag(int argc, char **argv)
{
        static const struct option lo[] = {{0}};
        int st = 0, first = cli_getopts("tag", argc, argv, "", lo, fmt_opt, NULL, &st);
        if (first < 0)
                return st;
        if (argc - first != 2) {
                fprintf(stderr, "\"gantry tag\" requires exactly 2 arguments.\nSee 'gantry tag --help'.\n\n"
                                "Usage:  gantry tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n");
                return 1;
        }
        _cleanup_free_ char *repo = NULL, *tag = NULL, *path = NULL;
        _cleanup_free_ char *src = cli_escape(argv[first]);
        split_ref(argv[first + 1], &repo, &tag);
        _cleanup_free_ char *er = cli_escape(repo), *et = cli_escape(tag ? tag : "latest");
        cli_appendf(&path, "/images/%s/tag?repo=%s&tag=%s", src, er, et);
        struct cli_resp r;
        if (cli_call("POST", path, NULL, &r) < 0)
                return 1;
        int rc = 0;
        if (r.status >= 300) {
                cli_print_daemon_error(NULL, &r);
                rc = 1;
        }
        cli_resp_free(&r);
        return rc;
}

struct rmi_flags {
        bool force, no_prune;
};

static int rmi_opt(int c, const char *arg, void *ud)
{
        struct rmi_flags *f = ud;
        if (c == 'f')
                f->force = true;
        else if (c == 'P')
                f->no_prune = true;
        return 0;
}

int cmd_rmi(int argc, char **argv)
{
        static const struct option lo[] = {{"force", no_argument, NULL, 'f'},
                                           {"no-prune", no_argument, NULL, 'P'}, {0}};
        struct rmi_flags f = {0};
        int st = 0, first = cli_getopts("rmi", argc, argv, "f", lo, rmi_opt, &f, &st);
        if (first < 0)
                return st;
        if (cli_need_args("rmi", argc, first, "[OPTIONS] IMAGE [IMAGE...]") < 0)
                return 1;
        int rc = 0;
        for (int i = first; i < argc; i++) {
                _cleanup_free_ char *n = cli_escape(argv[i]), *path = NULL;
                cli_appendf(&path, "/images/%s?force=%d&noprune=%d", n, f.force, f.no_prune);
                struct cli_resp r;
                if (cli_call("DELETE", path, NULL, &r) < 0)
                        return 1;
                if (r.status != 200) {
                        cli_print_daemon_error(NULL, &r);
                        rc = 1;
                } else {
                        _cleanup_jsonp_ json_t *j = json_loadb(r.body, r.len, 0, NULL);
                        size_t k;
                        json_t *e;
                        json_array_foreach(j, k, e) {
                                const char *s;
                                if ((s = json_string_value(json_object_get(e, "Untagged"))))
                                        printf("Untagged: %s\n", s);
                                if ((s = json_string_value(json_object_get(e, "Deleted"))))
                                        printf("Deleted: %s\n", s);
                        }
                }
                cli_resp_free(&r);
        }
        return rc;
}

/* ---- version, info ---- */

static int fmt_opt(int c, const char *arg, void *ud)
{
        if (c == 'f')
                *(const char **)ud = arg;
        return 0;
}

/* Parses [-f|--format FMT]; returns -1 with *st on a usage error. */
static int format_flag(const char *verb, int argc, char **argv, const char **fmt, int *st)
{
        static const struct option lo[] = {{"format", required_argument, NULL, 'f'}, {0}};
        *fmt = NULL;
        return cli_getopts(verb, argc, argv, "f:", lo, fmt_opt, fmt, st) < 0 ? -1 : 0;
}

static int print_template(const char *fmt, json_t *dot)
{
        struct cli_tmpl *t = cli_tmpl_parse(fmt);
        _cleanup_free_ char *out = NULL;
        if (t == NULL || cli_tmpl_exec(t, dot, NULL, &out) < 0) {
                cli_tmpl_free(t);
                return 1;
        }
        cli_tmpl_free(t);
        printf("%s\n", out);
        return 0;
}


#define S(o, k) (json_string_value(json_object_get((o), (k))) ?: "")

int cmd_version(int argc, char **argv)
{
        int st = 0;
        const char *fmt;
        if (format_flag("version", argc, argv, &fmt, &st) < 0)
                return st;
        _cleanup_jsonp_ json_t *server = NULL;
        int rc = (cli_call_json("GET", "/version", NULL, 200, &server) < 0);
        _cleanup_jsonp_ json_t *all = json_pack("{s:{s:s,s:s,s:s,s:s}}", "Client", "Version", CLI_VERSION,
                                                "ApiVersion", cli_api_version(), "Os", "linux",
                                                "Arch", "amd64");
        if (server)
                json_object_set(all, "Server", server);
        if (fmt)
                return print_template(fmt, all) | rc;
        printf("Client:\n Version:           %s\n API version:       %s%s\n OS/Arch:           linux/amd64\n",
               CLI_VERSION, cli_api_version(),
               strcmp(cli_api_version(), CLI_API_VERSION) ? " (downgraded from " CLI_API_VERSION ")" : "");
        if (server == NULL)
                return 1;
        printf("\nServer:\n Engine:\n  Version:          %s\n  API version:      %s (minimum version %s)\n"
               "  Git commit:       %s\n  OS/Arch:          %s/%s\n",
               S(server, "Version"), S(server, "ApiVersion"), S(server, "MinAPIVersion"),
               S(server, "GitCommit"), S(server, "Os"), S(server, "Arch"));
        return rc;
}

int cmd_info(int argc, char **argv)
{
        int st = 0;
        const char *fmt;
        if (format_flag("info", argc, argv, &fmt, &st) < 0)
                return st;
        _cleanup_jsonp_ json_t *i = NULL;
        if (cli_call_json("GET", "/info", NULL, 200, &i) < 0)
                return 1;
        if (fmt)
                return print_template(fmt, i);
        char mem[32];
        cli_human_size((double)json_integer_value(json_object_get(i, "MemTotal")), mem, sizeof(mem));
#define I(k) json_integer_value(json_object_get(i, (k)))
        printf("Server:\n Containers: %" JSON_INTEGER_FORMAT "\n  Running: %" JSON_INTEGER_FORMAT
               "\n  Paused: %" JSON_INTEGER_FORMAT "\n  Stopped: %" JSON_INTEGER_FORMAT
               "\n Images: %" JSON_INTEGER_FORMAT "\n Server Version: %s\n Storage Driver: %s\n"
               " Cgroup Driver: %s\n Cgroup Version: %s\n Kernel Version: %s\n Operating System: %s\n"
               " CPUs: %" JSON_INTEGER_FORMAT "\n Total Memory: %s\n Name: %s\n Docker Root Dir: %s\n",
               I("Containers"), I("ContainersRunning"), I("ContainersPaused"), I("ContainersStopped"),
               I("Images"), S(i, "ServerVersion"), S(i, "Driver"), S(i, "CgroupDriver"),
               S(i, "CgroupVersion"), S(i, "KernelVersion"), S(i, "OperatingSystem"), I("NCPU"), mem,
               S(i, "Name"), S(i, "DockerRootDir"));
#undef I
        return 0;
}
