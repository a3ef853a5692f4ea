/* gantry CLI: observing verbs: events, stats, top, system df. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define S(o, k) (json_string_value(json_object_get((o), (k))) ?: "")
#define I(o, k) ((double)json_integer_value(json_object_get((o), (k))))

/* A GET whose reply must be a 200 with a JSON body; 1 after printing the error. */
static int get_json(const char *path, json_t **out)
{
        return cli_call_json("GET", path, NULL, 200, out) < 0 || *out == NULL ? 1 : 0;
}

/* go-units: "%.4g" with decimal (HumanSize) or binary (BytesSize) steps. */
static void units_size(double size, bool binary, const char *fmt, char *buf, size_t n)
{
        static const char *dec[] = {"B", "kB", "MB", "GB", "TB", "PB"};
        static const char *bin[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        double base = binary ? 1024.0 : 1000.0;
        size_t i = 0;
        while (size >= base && i < 5) {
                size /= base;
                i++;
        }
        char num[24];
        snprintf(num, sizeof(num), fmt, size);
        snprintf(buf, n, "%.23s%s", num, binary ? bin[i] : dec[i]);
}

/* ---- events ---- */

struct events_flags {
        const char *since, *until, *format;
        json_t *filters;
        bool bad;
};

static int events_opt(int c, const char *arg, void *ud)
{
        struct events_flags *f = ud;
        switch (c) {
        case 'S':
                f->since = arg;
                break;
        case 'U':
                f->until = arg;
                break;
        case 'F':
                f->format = arg;
                break;
        case 'f':
                return cli_filter_add(f->filters, "-f, --filter", arg);
        }
        return 0;
}

struct events_sink {
        char *buf;
        size_t len;
        struct cli_tmpl *tmpl;
        bool failed;
};

/* docker's line: "2026-11-24T02:00:00.000000000Z container start <id> (image=busybox, name=x)". */
static void print_event(json_t *ev)
{
        long long tn = (long long)json_integer_value(json_object_get(ev, "timeNano"));
        time_t secs = (time_t)(tn / 1000000000LL);
        struct tm tm;
        localtime_r(&secs, &tm);
        char ts[64], zone[32] = "Z";
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
        if (tm.tm_gmtoff != 0)
                snprintf(zone, sizeof(zone), "%+03d:%02d", (int)(tm.tm_gmtoff / 3600),
                         (int)(labs(tm.tm_gmtoff % 3600) / 60));
        json_t *actor = json_object_get(ev, "Actor");
        printf("%s.%09lld%s %s %s %s", ts, tn % 1000000000LL, zone, S(ev, "Type"), S(ev, "Action"),
               S(actor, "ID"));
        json_t *attrs = json_object_get(actor, "Attributes");
        size_t n = json_object_size(attrs);
        if (n > 0) {
                /* sorted keys, as the CLI prints them */
                const char **keys = calloc(n, sizeof(*keys));
                size_t k = 0;
                const char *key;
                json_t *v;
                json_object_foreach(attrs, key, v) keys[k++] = key;
                for (size_t a = 1; a < n; a++)
                        for (size_t b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) {
                                const char *t = keys[b];
                                keys[b] = keys[b - 1];
                                keys[b - 1] = t;
                        }
                printf(" (");
                for (size_t a = 0; a < n; a++)
                        printf("%s%s=%s", a ? ", " : "", keys[a], S(attrs, keys[a]));
                printf(")");
                free(keys);
        }
        printf("\n");
}

static bool events_feed(const char *buf, size_t len, void *ud)
{
        struct events_sink *s = ud;
        char *nb = realloc(s->buf, s->len + len + 1);
        if (nb == NULL)
                return false;
        s->buf = nb;
        memcpy(s->buf + s->len, buf, len);
        s->len += len;
        s->buf[s->len] = '\0';
        char *nl;
        while ((nl = memchr(s->buf, '\n', s->len)) != NULL) {
                *nl = '\0';
                json_t *ev = json_loads(s->buf, 0, NULL);
                if (ev != NULL) {
                        if (s->tmpl != NULL) {
                                _cleanup_free_ char *out = NULL;
                                if (cli_tmpl_exec(s->tmpl, ev, NULL, &out) < 0) {
                                        json_decref(ev);
                                        s->failed = true;
                                        return false;
                                }
                                printf("%s\n", out);
                        } else {
                                print_event(ev);
                        }
                        fflush(stdout);
                        json_decref(ev);
                }
                size_t used = (size_t)(nl - s->buf) + 1;
                memmove(s->buf, nl + 1, s->len - used + 1);
                s->len -= used;
        }
        return true;
}

int cmd_events(int argc, char **argv)
{
        static const struct option lo[] = {{"since", required_argument, NULL, 'S'},
                                           {"until", required_argument, NULL, 'U'},
                                           {"filter", required_argument, NULL, 'f'},
                                           {"format", required_argument, NULL, 'F'},
                                           {0}};
        _cleanup_jsonp_ json_t *filters = json_object();
        struct events_flags f = {.filters = filters};
        int st = 0, first = cli_getopts("events", argc, argv, "f:", lo, events_opt, &f, &st);
        if (first < 0)
                return st;
        if (first < argc)
                return cli_usage_error("events", "accepts no arguments");
        _cleanup_free_ char *path = strdup("/events?");
        if (f.since) {
                _cleanup_free_ char *e = cli_escape(f.since);
                cli_appendf(&path, "since=%s&", e);
        }
        if (f.until) {
                _cleanup_free_ char *e = cli_escape(f.until);
                cli_appendf(&path, "until=%s&", e);
        }
        if (json_object_size(filters) > 0) {
                _cleanup_free_ char *js = json_dumps(filters, JSON_COMPACT);
                _cleanup_free_ char *e = cli_escape(js);
                cli_appendf(&path, "filters=%s&", e);
        }
        path[strlen(path) - 1] = '\0';
        struct events_sink s = {0};
        if (f.format != NULL && strcmp(f.format, "json") == 0)
                f.format = "{{json .}}";
        if (f.format != NULL && (s.tmpl = cli_tmpl_parse(f.format)) == NULL)
                return 1;
        struct cli_req req = {
            .method = "GET", .path = path, .upload_fd = -1, .sink = events_feed, .sink_ud = &s};
        struct cli_resp r;
        int rc = cli_do(&req, &r);
        free(s.buf);
        cli_tmpl_free(s.tmpl);
        if (rc < 0)
                return 1;
        if (r.status != 200) {
                cli_print_daemon_error(NULL, &r);
                cli_resp_free(&r);
                return 1;
        }
        cli_resp_free(&r);
        return s.failed ? 1 : 0;
}

/* ---- stats ---- */

struct stats_flags {
        bool no_stream, no_trunc, all;
        const char *format;
};

static int stats_opt(int c, const char *arg, void *ud)
{
        struct stats_flags *f = ud;
        switch (c) {
        case 'N':
                f->no_stream = true;
                break;
        case 'T':
                f->no_trunc = true;
                break;
        case 'a':
                f->all = true;
                break;
        case 'F':
                f->format = arg;
                break;
        }
        return 0;
}

/* One row of docker stats from a sample and the one before it (as the CLI computes it). */
static json_t *stats_row(json_t *cur, json_t *prev, bool no_trunc)
{
        json_t *cpu = json_object_get(cur, "cpu_stats");
        json_t *pcpu = json_object_get(prev ? prev : cur, "cpu_stats");
        double cpu_delta = I(json_object_get(cpu, "cpu_usage"), "total_usage") -
                           I(json_object_get(pcpu, "cpu_usage"), "total_usage");
        double sys_delta = I(cpu, "system_cpu_usage") - I(pcpu, "system_cpu_usage");
        double online = I(cpu, "online_cpus");
        if (online == 0)
                online = (double)json_array_size(
                    json_object_get(json_object_get(cpu, "cpu_usage"), "percpu_usage"));
        double cpu_pct =
            prev && sys_delta > 0 && cpu_delta > 0 ? cpu_delta / sys_delta * online * 100 : 0;
        json_t *mem = json_object_get(cur, "memory_stats");
        json_t *ms = json_object_get(mem, "stats");
        double usage = I(mem, "usage"), limit = I(mem, "limit");
        /* v1: total_inactive_file, v2: inactive_file is the page cache the kernel can drop. */
        double inactive = json_object_get(ms, "total_inactive_file") ? I(ms, "total_inactive_file")
                                                                     : I(ms, "inactive_file");
        if (inactive < usage)
                usage -= inactive;
        double mem_pct = limit > 0 ? usage / limit * 100 : 0;
        double rx = 0, tx = 0, rd = 0, wr = 0;
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(cur, "networks"), k, v)
        {
                rx += I(v, "rx_bytes");
                tx += I(v, "tx_bytes");
        }
        size_t i;
        json_array_foreach(
            json_object_get(json_object_get(cur, "blkio_stats"), "io_service_bytes_recursive"), i,
            v)
        {
                const char *op = S(v, "op");
                if (strcasecmp(op, "read") == 0)
                        rd += I(v, "value");
                else if (strcasecmp(op, "write") == 0)
                        wr += I(v, "value");
        }
        char cpu_s[32], mem_s[96], memp_s[32], net_s[96], blk_s[96], pids_s[32], a[40], b[40];
        snprintf(cpu_s, sizeof(cpu_s), "%.2f%%", cpu_pct);
        units_size(usage, true, "%.4g", a, sizeof(a));
        units_size(limit, true, "%.4g", b, sizeof(b));
        snprintf(mem_s, sizeof(mem_s), "%s / %s", a, b);
        snprintf(memp_s, sizeof(memp_s), "%.2f%%", mem_pct);
        units_size(rx, false, "%.3g", a, sizeof(a));
        units_size(tx, false, "%.3g", b, sizeof(b));
        snprintf(net_s, sizeof(net_s), "%s / %s", a, b);
        units_size(rd, false, "%.3g", a, sizeof(a));
        units_size(wr, false, "%.3g", b, sizeof(b));
        snprintf(blk_s, sizeof(blk_s), "%s / %s", a, b);
        snprintf(pids_s, sizeof(pids_s), "%.0f", I(json_object_get(cur, "pids_stats"), "current"));
        const char *id = S(cur, "id"), *name = S(cur, "name");
        if (*name == '/')
                name++;
        char sid[13];
        snprintf(sid, sizeof(sid), "%s", id);
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Container",
                         no_trunc ? id : sid, "ID", no_trunc ? id : sid, "Name", name, "CPUPerc",
                         cpu_s, "MemUsage", mem_s, "MemPerc", memp_s, "NetIO", net_s, "BlockIO",
                         blk_s, "PIDs", pids_s);
}

/* Samples every container in ids once (one-shot); NULL entries for the ones that failed. */
static json_t *sample_all(json_t *ids, bool *err)
{
        json_t *out = json_array();
        size_t i;
        json_t *id;
        json_array_foreach(ids, i, id)
        {
                _cleanup_free_ char *path = NULL;
                cli_appendf(&path, "/containers/%s/stats?stream=false&one-shot=true",
                            json_string_value(id));
                json_t *j = NULL;
                if (get_json(path, &j) != 0)
                        *err = true;
                json_array_append_new(out, j ? j : json_null());
        }
        return out;
}

int cmd_stats(int argc, char **argv)
{
        static const struct option lo[] = {{"no-stream", no_argument, NULL, 'N'},
                                           {"no-trunc", no_argument, NULL, 'T'},
                                           {"all", no_argument, NULL, 'a'},
                                           {"format", required_argument, NULL, 'F'},
                                           {0}};
        struct stats_flags f = {0};
        int st = 0, first = cli_getopts("stats", argc, argv, "a", lo, stats_opt, &f, &st);
        if (first < 0)
                return st;
        _cleanup_jsonp_ json_t *ids = json_array();
        if (first < argc) {
                for (int k = first; k < argc; k++) {
                        json_t *c = cli_inspect_container(argv[k], false);
                        if (c == NULL)
                                return 1;
                        json_array_append(ids, json_object_get(c, "Id"));
                        json_decref(c);
                }
        } else {
                _cleanup_jsonp_ json_t *list = NULL;
                if (get_json(f.all ? "/containers/json?all=1" : "/containers/json", &list) != 0)
                        return 1;
                size_t i;
                json_t *c;
                json_array_foreach(list, i, c) json_array_append(ids, json_object_get(c, "Id"));
        }
        const char *format = f.format ? f.format
                                      : "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t"
                                        "{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";
        _cleanup_jsonp_ json_t *headers = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Container", "CONTAINER", "ID",
            "CONTAINER ID", "Name", "NAME", "CPUPerc", "CPU %", "MemUsage", "MEM USAGE / LIMIT",
            "MemPerc", "MEM %", "NetIO", "NET I/O", "BlockIO", "BLOCK I/O", "PIDs", "PIDS");
        bool err = false;
        _cleanup_jsonp_ json_t *prev = sample_all(ids, &err);
        if (err)
                return 1;
        for (;;) {
                sleep(1);
                json_t *cur = sample_all(ids, &err);
                _cleanup_jsonp_ json_t *rows = json_array();
                size_t i;
                json_t *s;
                json_array_foreach(cur, i, s)
                {
                        if (json_is_object(s))
                                json_array_append_new(
                                    rows, stats_row(s, json_array_get(prev, i), f.no_trunc));
                }
                json_decref(prev);
                prev = cur;
                if (!f.no_stream)
                        printf("\033[2J\033[H"); /* redraw in place, as docker stats does */
                int rc = cli_print_list(format, rows, headers);
                fflush(stdout);
                if (rc != 0 || f.no_stream)
                        return rc;
        }
}

/* ---- top ---- */

int cmd_top(int argc, char **argv)
{
        /* Everything after the container is ps's: no getopt past it. */
        if (argc < 2) {
                fprintf(stderr,
                        "\"gantry top\" requires at least 1 argument.\nSee 'gantry top --help'.\n\n"
                        "Usage:  gantry top CONTAINER [ps OPTIONS]\n");
                return 1;
        }
        _cleanup_free_ char *ps = NULL;
        for (int k = 2; k < argc; k++)
                cli_appendf(&ps, "%s%s", k > 2 ? " " : "", argv[k]);
        _cleanup_free_ char *ref = cli_escape(argv[1]);
        _cleanup_free_ char *path = NULL;
        cli_appendf(&path, "/containers/%s/top", ref);
        if (ps != NULL) {
                _cleanup_free_ char *e = cli_escape(ps);
                cli_appendf(&path, "?ps_args=%s", e);
        }
        _cleanup_jsonp_ json_t *top = NULL;
        if (get_json(path, &top) != 0)
                return 1;
        /* docker top's tabwriter: minwidth 20, padding 3 (not the lists' 10). */
        json_t *titles = json_object_get(top, "Titles"), *procs = json_object_get(top, "Processes");
        size_t ncol = json_array_size(titles), i, k;
        if (ncol == 0)
                return 0;
        size_t *w = calloc(ncol, sizeof(*w));
        json_t *row;
        for (i = 0; i < ncol; i++)
                w[i] = strlen(json_string_value(json_array_get(titles, i)) ?: "") + 3;
        json_array_foreach(procs, k, row)
        {
                for (i = 0; i < ncol; i++) {
                        size_t n = strlen(json_string_value(json_array_get(row, i)) ?: "") + 3;
                        if (n > w[i])
                                w[i] = n;
                }
        }
        for (k = 0; k <= json_array_size(procs); k++) {
                row = k == 0 ? titles : json_array_get(procs, k - 1);
                for (i = 0; i < ncol; i++) {
                        const char *c = json_string_value(json_array_get(row, i)) ?: "";
                        if (i + 1 == ncol)
                                printf("%s\n", c);
                        else
                                printf("%-*s", (int)(w[i] < 20 ? 20 : w[i]), c);
                }
        }
        free(w);
        return 0;
}

/* ---- system df ---- */

static int df_opt(int c, const char *arg, void *ud)
{
        const char **fmt = ud;
        if (c == 'F')
                *fmt = arg;
        if (c == 'v')
                fmt[1] = "v";
        return 0;
}

static void df_cell(double size, double reclaim, char sz[40], char rc[64])
{
        units_size(size, false, "%.4g", sz, 40);
        char r[40];
        units_size(reclaim, false, "%.4g", r, sizeof(r));
        if (size > 0)
                snprintf(rc, 64, "%s (%d%%)", r, (int)(reclaim * 100 / size));
        else
                snprintf(rc, 64, "%s", r);
}

int cmd_system_df(int argc, char **argv)
{
        static const struct option lo[] = {
            {"format", required_argument, NULL, 'F'}, {"verbose", no_argument, NULL, 'v'}, {0}};
        const char *fl[2] = {NULL, NULL};
        int st = 0, first = cli_getopts("system df", argc, argv, "v", lo, df_opt, fl, &st);
        if (first < 0)
                return st;
        _cleanup_jsonp_ json_t *df = NULL;
        if (get_json("/system/df", &df) != 0)
                return 1;
        if (fl[0] != NULL && strstr(fl[0], "json") != NULL && fl[1] != NULL) {
                _cleanup_free_ char *s = json_dumps(df, JSON_COMPACT);
                printf("%s\n", s);
                return 0;
        }
        double isize = 0, ireclaim = 0, csize = 0, creclaim = 0;
        long iactive = 0, cactive = 0;
        size_t i;
        json_t *v;
        json_t *imgs = json_object_get(df, "Images"), *ctrs = json_object_get(df, "Containers");
        json_array_foreach(imgs, i, v)
        {
                isize += I(v, "Size");
                if (I(v, "Containers") > 0)
                        iactive++;
                else
                        ireclaim += I(v, "Size");
        }
        isize = I(df, "LayersSize") > 0 ? I(df, "LayersSize") : isize;
        json_array_foreach(ctrs, i, v)
        {
                csize += I(v, "SizeRw");
                if (strcmp(S(v, "State"), "running") == 0)
                        cactive++;
                else
                        creclaim += I(v, "SizeRw");
        }
        char sz[4][40], rc[4][64];
        df_cell(isize, ireclaim, sz[0], rc[0]);
        df_cell(csize, creclaim, sz[1], rc[1]);
        df_cell(0, 0, sz[2], rc[2]);
        df_cell(0, 0, sz[3], rc[3]);
        _cleanup_jsonp_ json_t *rows = json_pack(
            "[{s:s, s:I, s:I, s:s, s:s}, {s:s, s:I, s:I, s:s, s:s}, {s:s, s:s, s:s, s:s, s:s},"
            " {s:s, s:s, s:s, s:s, s:s}]",
            "Type", "Images", "TotalCount", (json_int_t)json_array_size(imgs), "Active",
            (json_int_t)iactive, "Size", sz[0], "Reclaimable", rc[0], "Type", "Containers",
            "TotalCount", (json_int_t)json_array_size(ctrs), "Active", (json_int_t)cactive, "Size",
            sz[1], "Reclaimable", rc[1], "Type", "Local Volumes", "TotalCount", "0", "Active", "0",
            "Size", sz[2], "Reclaimable", rc[2], "Type", "Build Cache", "TotalCount", "0", "Active",
            "0", "Size", sz[3], "Reclaimable", rc[3]);
        /* Counts as strings, so the template prints them alike. */
        json_array_foreach(rows, i, v)
        {
                json_t *tc = json_object_get(v, "TotalCount"), *ac = json_object_get(v, "Active");
                if (json_is_integer(tc))
                        json_object_set_new(
                            v, "TotalCount",
                            json_sprintf("%lld", (long long)json_integer_value(tc)));
                if (json_is_integer(ac))
                        json_object_set_new(
                            v, "Active", json_sprintf("%lld", (long long)json_integer_value(ac)));
        }
        _cleanup_jsonp_ json_t *headers =
            json_pack("{s:s, s:s, s:s, s:s, s:s}", "Type", "TYPE", "TotalCount", "TOTAL", "Active",
                      "ACTIVE", "Size", "SIZE", "Reclaimable", "RECLAIMABLE");
        return cli_print_list(fl[0] ? fl[0]
                                    : "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t"
                                      "{{.Reclaimable}}",
                              rows, headers);
}
