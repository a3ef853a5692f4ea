/* gantry CLI: `ps` (docker's columns and --format fields) and `logs`. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cli_print_list(const char *format, json_t *rows, json_t *headers)
{
        /* docker's list formatters turn a typed "\t" or "\n" into the character. */
        _cleanup_free_ char *f = strdup(format);
        char *o = f;
        for (const char *p = format; *p; p++) {
                if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
                        *o++ = p[1] == 't' ? '\t' : '\n';
                        p++;
                } else {
                        *o++ = *p;
                }
        }
        *o = '\0';
        struct cli_tmpl *t = cli_tmpl_parse(f);
        size_t i;
        json_t *row;
        if (t == NULL)
                return 1;
        cli_tmpl_set_list(t);
        if (cli_tmpl_is_table(t)) {
                struct cli_table *tab = cli_table_new();
                _cleanup_free_ char *h = NULL;
                cli_tmpl_exec(t, NULL, headers, &h);
                cli_table_add(tab, h);
                json_array_foreach(rows, i, row) {
                        _cleanup_free_ char *line = NULL;
                        if (cli_tmpl_exec(t, row, NULL, &line) < 0) {
                                cli_tmpl_free(t);
                                cli_table_discard(tab); /* nothing printed, like docker */
                                return 1;
                        }
                        cli_table_add(tab, line);
                }
                cli_table_flush(tab, stdout);
        } else {
                json_array_foreach(rows, i, row) {
                        _cleanup_free_ char *line = NULL;
                        if (cli_tmpl_exec(t, row, NULL, &line) < 0) {
                                cli_tmpl_free(t);
                                return 1;
                        }
                        printf("%s\n", line);
                }
        }
        cli_tmpl_free(t);
        return 0;
}

void cli_go_time(int64_t secs, char *buf, size_t n)
{
        time_t t = (time_t)secs;
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(buf, n, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
}

/* strconv.Quote for the printable ASCII/UTF-8 text commands are. */
static void go_quote(const char *s, char **out)
{
        cli_appendf(out, "\"");
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\')
                        cli_appendf(out, "\\%c", c);
                else if (c == '\n')
                        cli_appendf(out, "\\n");
                else if (c == '\t')
                        cli_appendf(out, "\\t");
                else if (c < 0x20 || c == 0x7f)
                        cli_appendf(out, "\\x%02x", c);
                else
                        cli_appendf(out, "%c", c);
        }
        cli_appendf(out, "\"");
}

/* The row docker's formatter shows for one /containers/json entry. */
static json_t *ps_row(json_t *c, bool trunc, time_t now)
{
        json_t *row = json_object();
        const char *id = json_string_value(json_object_get(c, "Id"));
        char buf[256];
        id = id ? id : "";
        json_object_set_new(row, "ID", json_stringn(id, trunc && strlen(id) > 12 ? 12 : strlen(id)));

        const char *img = json_string_value(json_object_get(c, "Image"));
        img = img ? img : "";
        if (trunc && strncmp(img, "sha256:", 7) == 0)
                json_object_set_new(row, "Image", json_stringn(img + 7, strlen(img + 7) > 12 ? 12 : strlen(img + 7)));
        else
                json_object_set_new(row, "Image", json_string(img));

        const char *cmd = json_string_value(json_object_get(c, "Command"));
        char *q = NULL;
        if (trunc) {
                char el[256];
                cli_ellipsis(cmd ? cmd : "", 20, el, sizeof(el));
                go_quote(el, &q);
        } else {
                go_quote(cmd ? cmd : "", &q);
        }
        json_object_set_new(row, "Command", json_string(q));
        free(q);
        q = NULL;

        int64_t created = json_integer_value(json_object_get(c, "Created"));
        cli_go_time(created, buf, sizeof(buf));
        json_object_set_new(row, "CreatedAt", json_string(buf));
        cli_human_duration((int64_t)now - created, buf, sizeof(buf));
        cli_appendf(&q, "%s ago", buf);
        json_object_set_new(row, "RunningFor", json_string(q));
        free(q);
        q = NULL;

        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(c, "Ports"), i, e) {
                const char *ip = json_string_value(json_object_get(e, "IP"));
                json_int_t pub = json_integer_value(json_object_get(e, "PublicPort"));
                json_int_t priv = json_integer_value(json_object_get(e, "PrivatePort"));
                const char *type = json_string_value(json_object_get(e, "Type"));
                if (i > 0)
                        cli_appendf(&q, ", ");
                if (pub)
                        cli_appendf(&q, "%s:%" JSON_INTEGER_FORMAT "->%" JSON_INTEGER_FORMAT "/%s",
                                    ip ? ip : "0.0.0.0", pub, priv, type ? type : "tcp");
                else
                        cli_appendf(&q, "%" JSON_INTEGER_FORMAT "/%s", priv, type ? type : "tcp");
        }
        json_object_set_new(row, "Ports", json_string(q ? q : ""));
        free(q);
        q = NULL;

        json_object_set(row, "State", json_object_get(c, "State") ?: json_string(""));
        json_object_set(row, "Status", json_object_get(c, "Status") ?: json_string(""));
        /* docker's SizeRw and "(virtual SizeRootFs)", when ps -s asked the daemon for them */
        char rw[32], rootfs[32];
        cli_human_size((double)json_integer_value(json_object_get(c, "SizeRw")), rw, sizeof(rw));
        cli_human_size((double)json_integer_value(json_object_get(c, "SizeRootFs")), rootfs,
                       sizeof(rootfs));
        cli_appendf(&q, "%s (virtual %s)", rw, rootfs);
        json_object_set_new(row, "Size", json_string(q));
        free(q);
        q = NULL;

        json_array_foreach(json_object_get(c, "Names"), i, e) {
                const char *n = json_string_value(e);
                if (n == NULL)
                        continue;
                if (n[0] == '/')
                        n++;
                /* Link aliases ("other/name") are hidden like docker does when truncating. */
                if (trunc && strchr(n, '/'))
                        continue;
                cli_appendf(&q, "%s%s", q ? "," : "", n);
        }
        json_object_set_new(row, "Names", json_string(q ? q : ""));
        free(q);
        q = NULL;

        const char *k;
        json_object_foreach(json_object_get(c, "Labels"), k, e)
                cli_appendf(&q, "%s%s=%s", q ? "," : "", k, json_string_value(e) ?: "");
        json_object_set_new(row, "Labels", json_string(q ? q : ""));
        free(q);
        q = NULL;

        json_object_foreach(json_object_get(json_object_get(c, "NetworkSettings"), "Networks"), k, e)
                cli_appendf(&q, "%s%s", q ? "," : "", k);
        json_object_set_new(row, "Networks", json_string(q ? q : ""));
        free(q);
        q = NULL;

        json_array_foreach(json_object_get(c, "Mounts"), i, e) {
                const char *n = json_string_value(json_object_get(e, "Name"));
                if (n == NULL)
                        n = json_string_value(json_object_get(e, "Source"));
                cli_appendf(&q, "%s%s", q ? "," : "", n ? n : "");
        }
        json_object_set_new(row, "Mounts", json_string(q ? q : ""));
        free(q);
        json_object_set_new(row, "LocalVolumes", json_string("0"));
        return row;
}

struct ps_flags {
        bool all, quiet, no_trunc, latest, size;
        const char *format;
        json_t *filters;
        int last;
};

static int ps_opt(int c, const char *arg, void *ud)
{
        struct ps_flags *f = ud;
        switch (c) {
        case 'a': f->all = true; break;
        case 'q': f->quiet = true; break;
        case 'N': f->no_trunc = true; break;
        case 'l': f->latest = true; break;
        case 'n': f->last = atoi(arg); break;
        case 's': f->size = true; break;
        case 'F': f->format = arg; break;
        case 'f':
                return cli_filter_add(f->filters, "-f, --filter", arg);
        }
        return 0;
}

int cmd_ps(int argc, char **argv)
{
        static const struct option lo[] = {
                {"all", no_argument, NULL, 'a'},        {"quiet", no_argument, NULL, 'q'},
                {"no-trunc", no_argument, NULL, 'N'},   {"latest", no_argument, NULL, 'l'},
                {"last", required_argument, NULL, 'n'}, {"size", no_argument, NULL, 's'},
                {"format", required_argument, NULL, 'F'}, {"filter", required_argument, NULL, 'f'},
                {0}};
        _cleanup_jsonp_ json_t *filters = json_object();
        struct ps_flags f = {.filters = filters, .last = -1};
        int st = 0, first = cli_getopts("ps", argc, argv, "aqln:sf:", lo, ps_opt, &f, &st);
        if (first < 0)
                return st;
        if (first < argc) {
                fprintf(stderr, "\"gantry ps\" accepts no arguments.\nSee 'gantry ps --help'.\n");
                return 1;
        }
        _cleanup_free_ char *path = NULL;
        cli_appendf(&path, "/containers/json?all=%d", f.all ? 1 : 0);
        if (f.latest)
                f.last = 1;
        if (f.last > 0)
                cli_appendf(&path, "&limit=%d", f.last);
        if (f.size)
                cli_appendf(&path, "&size=1");
        cli_append_filters(&path, filters);
        _cleanup_jsonp_ json_t *list = NULL;
        if (cli_call_json("GET", path, NULL, 200, &list) < 0)
                return 1;
        _cleanup_jsonp_ json_t *rows = json_array();
        time_t now = time(NULL);
        size_t i;
        json_t *c;
        json_array_foreach(list, i, c)
                json_array_append_new(rows, ps_row(c, !f.no_trunc, now));
        _cleanup_jsonp_ json_t *headers = json_pack(
                "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "ID", "CONTAINER ID",
                "Image", "IMAGE", "Command", "COMMAND", "RunningFor", "CREATED", "CreatedAt",
                "CREATED AT", "Status", "STATUS", "Ports", "PORTS", "Names", "NAMES", "State",
                "STATE", "Labels", "LABELS", "Size", "SIZE", "Mounts", "MOUNTS", "Networks",
                "NETWORKS", "LocalVolumes", "LOCAL VOLUMES");
        const char *format = f.format;
        if (f.quiet)
                format = "{{.ID}}";
        else if (format == NULL || strcmp(format, "table") == 0 || format[0] == '\0')
                format = f.size ? "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Size}}"
                                : "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
        return cli_print_list(format, rows, headers);
}

/* ---- logs ---- */

int64_t cli_parse_time(const char *s)
{
        struct tm tm = {0};
        const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (end == NULL) {
                memset(&tm, 0, sizeof(tm));
                end = strptime(s, "%Y-%m-%d", &tm);
        }
        if (end == NULL)
                return 0;
        return (int64_t)timegm(&tm);
}

/* docker's timetypes.GetTimestamp: a duration ago ("10m"), a unix time or an RFC 3339 date. */
static int since_value(const char *s, char *buf, size_t n)
{
        char *end;
        double v = strtod(s, &end);
        if (end != s && *end == '\0') {
                snprintf(buf, n, "%s", s);
                return 0;
        }
        /* Go durations: sequences of <number><unit>. */
        double total = 0;
        const char *p = s;
        bool ok = *p != '\0';
        while (*p && ok) {
                v = strtod(p, &end);
                if (end == p) {
                        ok = false;
                        break;
                }
                if (strncmp(end, "ms", 2) == 0) { total += v / 1000; p = end + 2; }
                else if (*end == 's') { total += v; p = end + 1; }
                else if (*end == 'm') { total += v * 60; p = end + 1; }
                else if (*end == 'h') { total += v * 3600; p = end + 1; }
                else ok = false;
        }
        if (ok) {
                snprintf(buf, n, "%lld", (long long)(time(NULL) - (time_t)total));
                return 0;
        }
        int64_t t = cli_parse_time(s);
        if (t == 0)
                return -1;
        /* Keep the fraction of a time copied from logs -t: the daemon compares nanoseconds. */
        const char *frac = strchr(s, 'T') ? strchr(strchr(s, 'T'), '.') : NULL;
        long long ns = 0;
        int digits = 0;
        for (const char *d = frac ? frac + 1 : ""; *d >= '0' && *d <= '9'; d++)
                if (digits < 9) {
                        ns = ns * 10 + (*d - '0');
                        digits++;
                }
        for (; digits > 0 && digits < 9; digits++)
                ns *= 10;
        snprintf(buf, n, "%lld.%09lld", (long long)t, ns);
        return 0;
}

struct logs_flags {
        bool follow, timestamps, details;
        const char *tail, *since, *until;
};

static int logs_opt(int c, const char *arg, void *ud)
{
        struct logs_flags *f = ud;
        switch (c) {
        case 'f': f->follow = true; break;
        case 't': f->timestamps = true; break;
        case 'n': f->tail = arg; break;
        case 'S': f->since = arg; break;
        case 'U': f->until = arg; break;
        case 'D': f->details = true; break;
        }
        return 0;
}

int cmd_logs(int argc, char **argv)
{
        static const struct option lo[] = {
                {"follow", no_argument, NULL, 'f'},     {"timestamps", no_argument, NULL, 't'},
                {"tail", required_argument, NULL, 'n'}, {"since", required_argument, NULL, 'S'},
                {"until", required_argument, NULL, 'U'}, {"details", no_argument, NULL, 'D'},
                {0}};
        struct logs_flags f = {0};
        int st = 0, first = cli_getopts("logs", argc, argv, "ftn:", lo, logs_opt, &f, &st);
        char tbuf[64];
        if (first < 0)
                return st;
        if (first + 1 != argc) {
                fprintf(stderr, "\"gantry logs\" requires exactly 1 argument.\nSee 'gantry logs --help'.\n\n"
                                "Usage:  gantry logs [OPTIONS] CONTAINER\n");
                return 1;
        }
        _cleanup_jsonp_ json_t *c = cli_inspect_container(argv[first], false);
        if (c == NULL)
                return 1;
        bool tty = json_is_true(json_object_get(json_object_get(c, "Config"), "Tty"));
        _cleanup_free_ char *path = NULL;
        cli_appendf(&path, "/containers/%s/logs?stdout=1&stderr=1",
                    json_string_value(json_object_get(c, "Id")));
        if (f.follow)
                cli_appendf(&path, "&follow=1");
        if (f.timestamps)
                cli_appendf(&path, "&timestamps=1");
        if (f.details)
                cli_appendf(&path, "&details=1");
        if (f.tail) {
                _cleanup_free_ char *e = cli_escape(f.tail);
                cli_appendf(&path, "&tail=%s", e);
        }
        const char *tv[2] = {f.since, f.until};
        for (int k = 0; k < 2; k++) {
                if (tv[k] == NULL)
                        continue;
                if (since_value(tv[k], tbuf, sizeof(tbuf)) < 0) {
                        fprintf(stderr, "invalid value for \"%s\": failed to parse value as time or duration: \"%s\"\n",
                                k ? "until" : "since", tv[k]);
                        return 1;
                }
                cli_appendf(&path, "&%s=%s", k ? "until" : "since", tbuf);
        }
        struct cli_demux dm;
        cli_demux_init(&dm, tty);
        struct cli_req req = {.method = "GET", .path = path, .upload_fd = -1,
                              .sink = cli_demux_sink, .sink_ud = &dm};
        struct cli_resp r;
        if (cli_do(&req, &r) < 0)
                return 1;
        if (r.status != 200) {
                cli_print_daemon_error(NULL, &r);
                cli_resp_free(&r);
                return 1;
        }
        cli_resp_free(&r);
        return 0;
}
