/* gantry-runtime create, run, start, state, kill, delete, list, ps, pause, resume. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/cleanup.h"

enum { OPT_NO_PIVOT = 1000, OPT_NO_NEW_KEYRING, OPT_PRESERVE_FDS, OPT_KEEP, OPT_NO_SUBREAPER };

static int parse_create_flags(const char *verb, int argc, char **argv, struct rt_create_opts *o,
                              bool is_run)
{
        static const struct option opts[] = {
                {"bundle", required_argument, NULL, 'b'},
                {"pid-file", required_argument, NULL, 'p'},
                {"console-socket", required_argument, NULL, 'c'},
                {"no-pivot", no_argument, NULL, OPT_NO_PIVOT},
                {"no-new-keyring", no_argument, NULL, OPT_NO_NEW_KEYRING},
                {"preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS},
                {"detach", no_argument, NULL, 'd'},
                {"keep", no_argument, NULL, OPT_KEEP},
                {"no-subreaper", no_argument, NULL, OPT_NO_SUBREAPER},
                {0},
        };
        int c;
        while ((c = getopt_long(argc, argv, "+b:d", opts, NULL)) != -1) {
                switch (c) {
                case 'b': o->bundle = optarg; break;
                case 'p': o->pid_file = optarg; break;
                case 'c': o->console_socket = optarg; break;
                case OPT_NO_PIVOT: o->no_pivot = true; break;
                case OPT_NO_NEW_KEYRING: o->no_new_keyring = true; break;
                case OPT_PRESERVE_FDS: o->preserve_fds = atoi(optarg); break;
                case OPT_NO_SUBREAPER: break;
                case 'd':
                        if (!is_run)
                                return cli_usage(verb, "unknown flag --detach");
                        o->detach = true;
                        break;
                case OPT_KEEP:
                        if (!is_run)
                                return cli_usage(verb, "unknown flag --keep");
                        o->keep = true;
                        break;
                default: return cli_usage(verb, "bad flag");
                }
        }
        if (optind != argc - 1)
                return cli_usage(verb, "want exactly one container id");
        o->id = argv[optind];
        /* systemd socket activation fds pass through like runc does. */
        const char *listen = getenv("LISTEN_FDS");
        if (listen != NULL)
                o->preserve_fds += atoi(listen);
        return 0;
}

int cli_create(struct cli_global *g, int argc, char **argv)
{
        struct rt_create_opts o = {0};
        if (parse_create_flags("create", argc, argv, &o, false) != 0)
                return 1;
        struct gerr *err = NULL;
        if (rt_container_create(&g->ctx, &o, &err) < 0)
                return cli_fail(err);
        return 0;
}

int cli_run(struct cli_global *g, int argc, char **argv)
{
        struct rt_create_opts o = {0};
        if (parse_create_flags("run", argc, argv, &o, true) != 0)
                return 1;
        struct gerr *err = NULL;
        int status = 0;
        if (rt_container_run(&g->ctx, &o, &status, &err) < 0)
                return cli_fail(err);
        return status;
}

static const char *one_id(const char *verb, int argc, char **argv)
{
        static const struct option none[] = {{0}};
        while (getopt_long(argc, argv, "+", none, NULL) != -1)
                ;
        if (optind != argc - 1) {
                cli_usage(verb, "want exactly one container id");
                return NULL;
        }
        return argv[optind];
}

int cli_start(struct cli_global *g, int argc, char **argv)
{
        const char *id = one_id("start", argc, argv);
        if (id == NULL)
                return 1;
        struct gerr *err = NULL;
        if (rt_container_start(&g->ctx, id, &err) < 0)
                return cli_fail(err);
        return 0;
}

int cli_state(struct cli_global *g, int argc, char **argv)
{
        const char *id = one_id("state", argc, argv);
        if (id == NULL)
                return 1;
        struct gerr *err = NULL;
        json_t *j = NULL;
        if (rt_container_state(&g->ctx, id, &j, &err) < 0)
                return cli_fail(err);
        cli_print_json(j, true);
        json_decref(j);
        return 0;
}

int cli_kill(struct cli_global *g, int argc, char **argv)
{
        static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {0}};
        bool all = false;
        int c;
        while ((c = getopt_long(argc, argv, "+a", opts, NULL)) != -1) {
                if (c == 'a')
                        all = true;
                else
                        return cli_usage("kill", "bad flag");
        }
        if (optind != argc - 1 && optind != argc - 2)
                return cli_usage("kill", "want a container id and an optional signal");
        const char *id = argv[optind];
        int sig = 15;
        if (optind == argc - 2) {
                sig = rt_signal_parse(argv[optind + 1]);
                if (sig < 0) {
                        fprintf(stderr, "gantry-runtime kill: unknown signal \"%s\"\n",
                                argv[optind + 1]);
                        return 1;
                }
        }
        struct gerr *err = NULL;
        if (rt_container_kill(&g->ctx, id, sig, all, &err) < 0)
                return cli_fail(err);
        return 0;
}

int cli_delete(struct cli_global *g, int argc, char **argv)
{
        static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {0}};
        bool force = false;
        int c;
        while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
                if (c == 'f')
                        force = true;
                else
                        return cli_usage("delete", "bad flag");
        }
        if (optind >= argc)
                return cli_usage("delete", "want a container id");
        int rc = 0;
        for (int i = optind; i < argc; i++) {
                struct gerr *err = NULL;
                if (rt_container_delete(&g->ctx, argv[i], force, &err) < 0)
                        rc = cli_fail(err);
        }
        return rc;
}

int cli_list(struct cli_global *g, int argc, char **argv)
{
        static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {0}};
        const char *format = "table";
        bool quiet = false;
        int c;
        while ((c = getopt_long(argc, argv, "+f:q", opts, NULL)) != -1) {
                if (c == 'f')
                        format = optarg;
                else if (c == 'q')
                        quiet = true;
                else
                        return cli_usage("list", "bad flag");
        }
        struct gerr *err = NULL;
        json_t *arr = NULL;
        if (rt_container_list(&g->ctx, &arr, &err) < 0)
                return cli_fail(err);
        size_t i;
        json_t *s;
        if (strcmp(format, "json") == 0) {
                cli_print_json(arr, false);
        } else {
                if (!quiet)
                        printf("%-20s %-10s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE",
                               "CREATED");
                json_array_foreach(arr, i, s)
                {
                        const char *id = json_string_value(json_object_get(s, "id"));
                        if (quiet) {
                                printf("%s\n", id);
                                continue;
                        }
                        printf("%-20s %-10lld %-10s %-40s %s\n", id,
                               (long long)json_integer_value(json_object_get(s, "pid")),
                               json_string_value(json_object_get(s, "status")),
                               json_string_value(json_object_get(s, "bundle")),
                               json_string_value(json_object_get(s, "created")));
                }
        }
        json_decref(arr);
        return 0;
}

int cli_ps(struct cli_global *g, int argc, char **argv)
{
        static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {0}};
        const char *format = "table";
        int c;
        while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) != -1) {
                if (c == 'f')
                        format = optarg;
                else
                        return cli_usage("ps", "bad flag");
        }
        if (optind >= argc)
                return cli_usage("ps", "want a container id");
        const char *id = argv[optind];
        struct gerr *err = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        if (rt_container_pids(&g->ctx, id, &pids, &n, &err) < 0)
                return cli_fail(err);
        if (strcmp(format, "json") == 0) {
                json_t *a = json_array();
                for (size_t i = 0; i < n; i++)
                        json_array_append_new(a, json_integer(pids[i]));
                cli_print_json(a, false);
                json_decref(a);
                return 0;
        }
        printf("%-8s %s\n", "PID", "CMD");
        for (size_t i = 0; i < n; i++) {
                char path[64], cmd[4096] = "";
                snprintf(path, sizeof(path), "/proc/%d/cmdline", pids[i]);
                FILE *f = fopen(path, "re");
                if (f != NULL) {
                        size_t len = fread(cmd, 1, sizeof(cmd) - 1, f);
                        fclose(f);
                        for (size_t k = 0; k + 1 < len; k++)
                                if (cmd[k] == '\0')
                                        cmd[k] = ' ';
                        cmd[len] = '\0';
                }
                printf("%-8d %s\n", pids[i], cmd);
        }
        return 0;
}

static int pause_resume(struct cli_global *g, int argc, char **argv, bool pause)
{
        const char *id = one_id(pause ? "pause" : "resume", argc, argv);
        if (id == NULL)
                return 1;
        struct gerr *err = NULL;
        if (rt_container_pause(&g->ctx, id, pause, &err) < 0)
                return cli_fail(err);
        return 0;
}

int cli_pause(struct cli_global *g, int argc, char **argv)
{
        return pause_resume(g, argc, argv, true);
}

int cli_resume(struct cli_global *g, int argc, char **argv)
{
        return pause_resume(g, argc, argv, false);
}
