/* gantry-runtime exec: flags as runc's, then rt_container_exec. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/cleanup.h"

enum {
        OPT_CWD = 1000,
        OPT_PID_FILE,
        OPT_CONSOLE_SOCKET,
        OPT_NNP,
        OPT_PRESERVE_FDS,
        OPT_APPARMOR,
        OPT_LABEL,
        OPT_IGNORE_ARG,
        OPT_IGNORE,
};

static char **strv_push(char **v, size_t *n, const char *s)
{
        char **nv = realloc(v, (*n + 2) * sizeof(char *));
        if (nv == NULL)
                return v;
        nv[(*n)++] = (char *)s;
        nv[*n] = NULL;
        return nv;
}

int cli_exec(struct cli_global *g, int argc, char **argv)
{
        static const struct option opts[] = {
                {"process", required_argument, NULL, 'p'},
                {"tty", no_argument, NULL, 't'},
                {"cwd", required_argument, NULL, OPT_CWD},
                {"env", required_argument, NULL, 'e'},
                {"user", required_argument, NULL, 'u'},
                {"additional-gids", required_argument, NULL, 'g'},
                {"cap", required_argument, NULL, 'c'},
                {"detach", no_argument, NULL, 'd'},
                {"pid-file", required_argument, NULL, OPT_PID_FILE},
                {"console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET},
                {"no-new-privs", no_argument, NULL, OPT_NNP},
                {"preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS},
                {"apparmor", required_argument, NULL, OPT_APPARMOR},
                {"process-label", required_argument, NULL, OPT_LABEL},
                {"cgroup", required_argument, NULL, OPT_IGNORE_ARG},
                {"ignore-paused", no_argument, NULL, OPT_IGNORE},
                {0},
        };
        struct rt_exec_opts o = {0};
        _cleanup_free_ char **env = NULL, **caps = NULL;
        _cleanup_free_ gid_t *gids = NULL;
        size_t n_env = 0, n_caps = 0;
        int c;
        while ((c = getopt_long(argc, argv, "+p:te:u:g:c:d", opts, NULL)) != -1) {
                switch (c) {
                case 'p': o.process_file = optarg; break;
                case 't': o.tty = o.tty_set = true; break;
                case OPT_CWD: o.cwd = optarg; break;
                case 'e': env = strv_push(env, &n_env, optarg); break;
                case 'u': o.user = optarg; break;
                case 'g': {
                        gid_t *ng = realloc(gids, (o.n_additional_gids + 1) * sizeof(gid_t));
                        if (ng == NULL)
                                return 1;
                        gids = ng;
                        gids[o.n_additional_gids++] = (gid_t)strtoul(optarg, NULL, 10);
                        break;
                }
                case 'c': caps = strv_push(caps, &n_caps, optarg); break;
                case 'd': o.detach = true; break;
                case OPT_PID_FILE: o.pid_file = optarg; break;
                case OPT_CONSOLE_SOCKET: o.console_socket = optarg; break;
                case OPT_NNP: o.no_new_privs = o.no_new_privs_set = true; break;
                case OPT_PRESERVE_FDS: o.preserve_fds = atoi(optarg); break;
                case OPT_APPARMOR: o.apparmor = optarg; break;
                case OPT_LABEL: o.process_label = optarg; break;
                case OPT_IGNORE_ARG: case OPT_IGNORE: break;
                default: return cli_usage("exec", "bad flag");
                }
        }
        if (optind >= argc)
                return cli_usage("exec", "want a container id");
        o.id = argv[optind];
        o.args = argv + optind + 1;
        if (o.process_file == NULL && o.args[0] == NULL)
                return cli_usage("exec", "want a command (or --process FILE)");
        o.env = env;
        o.cap_add = caps;
        o.additional_gids = gids;
        struct gerr *err = NULL;
        int status = 0;
        if (rt_container_exec(&g->ctx, &o, &status, &err) < 0)
                return cli_fail(err);
        return status;
}
