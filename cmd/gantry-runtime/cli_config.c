/* gantry-runtime spec, features and update: the verbs about configuration. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/cleanup.h"

int cli_spec(struct cli_global *g, int argc, char **argv)
{
        (void)g;
        static const struct option opts[] = {{"bundle", required_argument, NULL, 'b'},
                                             {"rootless", no_argument, NULL, 'r'},
                                             {0}};
        const char *bundle = ".";
        bool rootless = false;
        int c;
        while ((c = getopt_long(argc, argv, "+b:", opts, NULL)) != -1) {
                if (c == 'b')
                        bundle = optarg;
                else if (c == 'r')
                        rootless = true;
                else
                        return cli_usage("spec", "bad flag");
        }
        char path[4096];
        snprintf(path, sizeof(path), "%s/config.json", bundle);
        if (access(path, F_OK) == 0) {
                fprintf(stderr, "gantry-runtime spec: %s exists: remove it first\n", path);
                return 1;
        }
        json_t *spec = rt_spec_default(rootless);
        int r = json_dump_file(spec, path, JSON_INDENT(8));
        json_decref(spec);
        if (r < 0) {
                fprintf(stderr, "gantry-runtime spec: write %s: %s\n", path, strerror(errno));
                return 1;
        }
        return 0;
}

int cli_features(struct cli_global *g, int argc, char **argv)
{
        (void)g;
        (void)argc;
        (void)argv;
        json_t *f = rt_features();
        cli_print_json(f, true);
        json_decref(f);
        return 0;
}

/* Individual update flags as runc's: each becomes a linux.resources field. */
static int set_flag(json_t *res, const char *section, const char *key, const char *value,
                    bool is_string)
{
        json_t *s = json_object_get(res, section);
        if (s == NULL) {
                s = json_object();
                json_object_set_new(res, section, s);
        }
        if (is_string) {
                json_object_set_new(s, key, json_string(value));
                return 0;
        }
        char *end = NULL;
        long long v = strtoll(value, &end, 10);
        if (end == value || *end != '\0') {
                fprintf(stderr, "gantry-runtime update: %s.%s: not a number: \"%s\"\n", section,
                        key, value);
                return -1;
        }
        json_object_set_new(s, key, json_integer(v));
        return 0;
}

int cli_update(struct cli_global *g, int argc, char **argv)
{
        static const struct option opts[] = {
                {"resources", required_argument, NULL, 'r'},
                {"memory", required_argument, NULL, 'm'},
                {"memory-reservation", required_argument, NULL, 'R'},
                {"memory-swap", required_argument, NULL, 'S'},
                {"pids-limit", required_argument, NULL, 'p'},
                {"cpu-shares", required_argument, NULL, 's'},
                {"cpu-quota", required_argument, NULL, 'q'},
                {"cpu-period", required_argument, NULL, 'P'},
                {"cpuset-cpus", required_argument, NULL, 'c'},
                {"cpuset-mems", required_argument, NULL, 'M'},
                {"blkio-weight", required_argument, NULL, 'b'},
                {0},
        };
        json_auto_t *res = json_object();
        const char *file = NULL;
        int c, bad = 0;
        while ((c = getopt_long(argc, argv, "+r:", opts, NULL)) != -1) {
                switch (c) {
                case 'r': file = optarg; break;
                case 'm': bad |= set_flag(res, "memory", "limit", optarg, false); break;
                case 'R': bad |= set_flag(res, "memory", "reservation", optarg, false); break;
                case 'S': bad |= set_flag(res, "memory", "swap", optarg, false); break;
                case 'p': bad |= set_flag(res, "pids", "limit", optarg, false); break;
                case 's': bad |= set_flag(res, "cpu", "shares", optarg, false); break;
                case 'q': bad |= set_flag(res, "cpu", "quota", optarg, false); break;
                case 'P': bad |= set_flag(res, "cpu", "period", optarg, false); break;
                case 'c': bad |= set_flag(res, "cpu", "cpus", optarg, true); break;
                case 'M': bad |= set_flag(res, "cpu", "mems", optarg, true); break;
                case 'b': bad |= set_flag(res, "blockIO", "weight", optarg, false); break;
                default: return cli_usage("update", "bad flag");
                }
        }
        if (bad)
                return 1;
        if (optind != argc - 1)
                return cli_usage("update", "want exactly one container id");
        if (file != NULL) {
                json_error_t je;
                json_t *from = strcmp(file, "-") == 0 ? json_loadf(stdin, 0, &je)
                                                      : json_load_file(file, 0, &je);
                if (from == NULL) {
                        fprintf(stderr, "gantry-runtime update: %s: %s\n", file, je.text);
                        return 1;
                }
                json_object_update(from, res);
                json_decref(res);
                res = from;
        }
        struct gerr *err = NULL;
        if (rt_container_update(&g->ctx, argv[optind], res, &err) < 0)
                return cli_fail(err);
        return 0;
}
