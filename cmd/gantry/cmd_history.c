/* gantry history: an image's layers and the instructions that made them, as docker prints them. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"

struct history_flags {
        bool quiet, no_trunc, human;
        const char *format;
};

static int history_opt(int c, const char *arg, void *ud)
{
        struct history_flags *f = ud;
        switch (c) {
        case 'q':
                f->quiet = true;
                break;
        case 'N':
                f->no_trunc = true;
                break;
        case 'F':
                f->format = arg;
                break;
        case 'H':
                if (arg != NULL && (strcasecmp(arg, "false") == 0 || strcmp(arg, "0") == 0))
                        f->human = false;
                else if (arg == NULL || strcasecmp(arg, "true") == 0 || strcmp(arg, "1") == 0)
                        f->human = true;
                else {
                        char msg[300];
                        snprintf(msg, sizeof(msg),
                                 "invalid argument \"%s\" for \"-H, --human\" flag: "
                                 "strconv.ParseBool: parsing \"%s\": invalid syntax",
                                 arg, arg);
                        cli_usage_error("history", msg);
                        return -1;
                }
                break;
        }
        return 0;
}

/* One display row of an /images/{name}/history entry (docker's historyContext). */
static json_t *history_row(json_t *h, const struct history_flags *f, time_t now)
{
        char buf[512];
        json_t *row = json_object();
        const char *id = json_string_value(json_object_get(h, "Id")) ?: "";
        if (!f->no_trunc && strcmp(id, "<missing>") != 0) {
                const char *hex = strncmp(id, "sha256:", 7) == 0 ? id + 7 : id;
                json_object_set_new(row, "ID",
                                    json_stringn(hex, strlen(hex) > 12 ? 12 : strlen(hex)));
        } else {
                json_object_set_new(row, "ID", json_string(id));
        }
        int64_t created = json_integer_value(json_object_get(h, "Created"));
        if (f->human) {
                char d[64];
                cli_human_duration((int64_t)now - created, d, sizeof(d));
                snprintf(buf, sizeof(buf), "%s ago", d);
        } else {
                struct tm tm;
                time_t t = (time_t)created;
                localtime_r(&t, &tm);
                strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S%z", &tm);
                /* Go's RFC 3339: "+01:00", "Z" for UTC. */
                size_t l = strlen(buf);
                if (strcmp(buf + l - 5, "+0000") == 0)
                        strcpy(buf + l - 5, "Z");
                else if (l >= 5 && l + 2 < sizeof(buf)) {
                        memmove(buf + l - 1, buf + l - 2, 3);
                        buf[l - 2] = ':';
                }
        }
        json_object_set_new(row, "CreatedSince", json_string(buf));
        json_object_set_new(row, "CreatedAt", json_string(buf));
        _cleanup_free_ char *by = strdup(json_string_value(json_object_get(h, "CreatedBy")) ?: "");
        for (char *p = by; p && *p; p++)
                if (*p == '\t')
                        *p = ' ';
        if (!f->no_trunc) {
                cli_ellipsis(by ? by : "", 45, buf, sizeof(buf));
                json_object_set_new(row, "CreatedBy", json_string(buf));
        } else {
                json_object_set_new(row, "CreatedBy", json_string(by ? by : ""));
        }
        json_int_t size = json_integer_value(json_object_get(h, "Size"));
        if (f->human)
                cli_human_size((double)size, buf, sizeof(buf));
        else
                snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, size);
        json_object_set_new(row, "Size", json_string(buf));
        json_object_set_new(row, "Comment",
                            json_string(json_string_value(json_object_get(h, "Comment")) ?: ""));
        return row;
}

int cmd_history(int argc, char **argv)
{
        static const struct option lo[] = {{"format", required_argument, NULL, 'F'},
                                           {"human", optional_argument, NULL, 'H'},
                                           {"no-trunc", no_argument, NULL, 'N'},
                                           {"quiet", no_argument, NULL, 'q'},
                                           {0}};
        struct history_flags f = {.human = true};
        int st = 0, first = cli_getopts("history", argc, argv, "Hq", lo, history_opt, &f, &st);
        if (first < 0)
                return st;
        if (argc - first != 1) {
                fprintf(stderr, "\"gantry history\" requires exactly 1 argument.\n"
                                "See 'gantry history --help'.\n\n"
                                "Usage:  gantry history [OPTIONS] IMAGE\n");
                return 1;
        }
        _cleanup_free_ char *n = cli_escape(argv[first]);
        _cleanup_free_ char *path = NULL;
        cli_appendf(&path, "/images/%s/history", n);
        _cleanup_jsonp_ json_t *list = NULL;
        if (cli_call_json("GET", path, NULL, 200, &list) < 0)
                return 1;
        _cleanup_jsonp_ json_t *rows = json_array();
        time_t now = time(NULL);
        size_t i;
        json_t *h;
        json_array_foreach(list, i, h) json_array_append_new(rows, history_row(h, &f, now));
        _cleanup_jsonp_ json_t *headers = json_pack(
            "{s:s,s:s,s:s,s:s,s:s,s:s}", "ID", "IMAGE", "CreatedSince", "CREATED", "CreatedAt",
            "CREATED AT", "CreatedBy", "CREATED BY", "Size", "SIZE", "Comment", "COMMENT");
        const char *format = f.format;
        if (f.quiet)
                format = "{{.ID}}";
        else if (format == NULL || format[0] == '\0' || strcmp(format, "table") == 0)
                format =
                    "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
        return cli_print_list(format, rows, headers);
}
