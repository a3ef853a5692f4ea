/* gantry update: a running or stopped container's resources and restart policy, as docker's. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
        O_MEMORY_SWAP = 256,
        O_MEMORY_RESERVATION,
        O_CPUS,
        O_CPU_QUOTA,
        O_CPU_PERIOD,
        O_CPU_RT_PERIOD,
        O_CPU_RT_RUNTIME,
        O_CPUSET_CPUS,
        O_CPUSET_MEMS,
        O_PIDS_LIMIT,
        O_BLKIO_WEIGHT,
        O_RESTART,
};

static const struct option update_opts[] = {
    {"blkio-weight", required_argument, NULL, O_BLKIO_WEIGHT},
    {"cpu-period", required_argument, NULL, O_CPU_PERIOD},
    {"cpu-quota", required_argument, NULL, O_CPU_QUOTA},
    {"cpu-rt-period", required_argument, NULL, O_CPU_RT_PERIOD},
    {"cpu-rt-runtime", required_argument, NULL, O_CPU_RT_RUNTIME},
    {"cpu-shares", required_argument, NULL, 'c'},
    {"cpus", required_argument, NULL, O_CPUS},
    {"cpuset-cpus", required_argument, NULL, O_CPUSET_CPUS},
    {"cpuset-mems", required_argument, NULL, O_CPUSET_MEMS},
    {"memory", required_argument, NULL, 'm'},
    {"memory-reservation", required_argument, NULL, O_MEMORY_RESERVATION},
    {"memory-swap", required_argument, NULL, O_MEMORY_SWAP},
    {"pids-limit", required_argument, NULL, O_PIDS_LIMIT},
    {"restart", required_argument, NULL, O_RESTART},
    {0},
};

static const char *flag_name(int c)
{
        if (c == 'c')
                return "-c, --cpu-shares";
        if (c == 'm')
                return "-m, --memory";
        for (const struct option *o = update_opts; o->name != NULL; o++)
                if (o->val == c)
                        return o->name;
        return "?";
}

/* Prints docker's message for a flag value that does not parse; -1. */
static int bad_value(int c, const char *arg, const char *why)
{
        char msg[512];
        const char *name = flag_name(c);
        snprintf(msg, sizeof(msg), "invalid argument \"%s\" for \"%s%s\" flag: %s", arg,
                 name[0] == '-' ? "" : "--", name, why);
        cli_usage_error("update", msg);
        return -1;
}

struct update_flags {
        json_t *body;
        int n; /* flags given: docker refuses an update without any */
};

static int update_opt(int c, const char *arg, void *ud)
{
        struct update_flags *f = ud;
        json_t *b = f->body;
        f->n++;
        if (c == O_RESTART) {
                char *end = NULL;
                const char *colon = strchr(arg, ':');
                _cleanup_free_ char *name =
                    colon ? strndup(arg, (size_t)(colon - arg)) : strdup(arg);
                long long max = 0;
                if (colon != NULL) {
                        max = strtoll(colon + 1, &end, 10);
                        if (end == colon + 1 || *end != '\0') {
                                fprintf(stderr, "invalid restart policy format: maximum retry "
                                                "count must be an integer\n");
                                return -1;
                        }
                }
                json_object_set_new(
                    b, "RestartPolicy",
                    json_pack("{s:s, s:I}", "Name", name, "MaximumRetryCount", (json_int_t)max));
                return 0;
        }
        const char *name = flag_name(c);
        char why[300];
        /* (-c and -m: the long name after "-x, --") */
        if (cli_resource_flag(name[0] == '-' ? name + 6 : name, arg, b, why, sizeof(why)) < 0)
                return bad_value(c, arg, why);
        return 0;
}

int cmd_update(int argc, char **argv)
{
        _cleanup_jsonp_ json_t *body = json_object();
        struct update_flags f = {.body = body};
        int st = 0,
            first = cli_getopts("update", argc, argv, "c:m:", update_opts, update_opt, &f, &st);
        if (first < 0)
                return st;
        if (cli_need_args("update", argc, first, "[OPTIONS] CONTAINER [CONTAINER...]") < 0)
                return 1;
        if (f.n == 0) {
                fprintf(stderr, "you must provide one or more flags when using this command\n");
                return 1;
        }
        int rc = 0;
        for (int i = first; i < argc; i++) {
                _cleanup_free_ char *n = cli_escape(argv[i]);
                _cleanup_free_ char *path = NULL;
                cli_appendf(&path, "/containers/%s/update", n);
                struct cli_resp r;
                if (cli_call("POST", path, body, &r) < 0)
                        return 1;
                if (r.status >= 300) {
                        cli_print_daemon_error(NULL, &r);
                        rc = 1;
                } else {
                        _cleanup_jsonp_ json_t *j = json_loadb(r.body, r.len, 0, NULL);
                        size_t k;
                        json_t *w;
                        json_array_foreach(json_object_get(j, "Warnings"), k,
                                           w) if (json_is_string(w))
                            fprintf(stderr, "%s\n", json_string_value(w));
                        printf("%s\n", argv[i]);
                        fflush(stdout);
                }
                cli_resp_free(&r);
        }
        return rc;
}
