/* gantry-runtime: the OCI runtime CLI (runc's verbs and flags), global options and dispatch. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/log.h"

#define VERSION "0.1.0"

static const struct {
        const char *name;
        cli_verb_fn fn;
        bool sealed; /* enters a running container: always run from the sealed copy */
} verbs[] = {
        {"create", cli_create, false}, {"run", cli_run, false},     {"exec", cli_exec, true},
        {"start", cli_start, false},  {"state", cli_state, false},  {"kill", cli_kill, false},
        {"delete", cli_delete, false}, {"list", cli_list, false},   {"ps", cli_ps, false},
        {"pause", cli_pause, false},  {"resume", cli_resume, false}, {"update", cli_update, false},
        {"spec", cli_spec, false},    {"features", cli_features, false},
};

static void usage(FILE *f)
{
        fprintf(f, "usage: gantry-runtime [global options] COMMAND [options] [args]\n\n"
                   "An OCI runtime (runtime-spec 1.1) usable in place of runc.\n\n"
                   "commands:\n"
                   "  create   create a container from a bundle\n"
                   "  start    run the user process of a created container\n"
                   "  run      create and start a container\n"
                   "  exec     run a new process inside a container\n"
                   "  state    print the state of a container\n"
                   "  kill     send a signal to a container's init (or all processes)\n"
                   "  delete   delete a container and everything it holds\n"
                   "  list     list containers\n"
                   "  ps       list the processes of a container\n"
                   "  pause, resume, update, spec, features\n\n"
                   "global options:\n"
                   "  --root DIR         state directory (default " RT_DEFAULT_ROOT ")\n"
                   "  --log FILE         write log lines to FILE\n"
                   "  --log-format text|json\n"
                   "  --debug            log debug messages\n"
                   "  --systemd-cgroup   not supported: gives an error\n"
                   "  --version\n");
}

int main(int argc, char **argv, char **envp)
{
        struct cli_global g = {.ctx = {.root = RT_DEFAULT_ROOT, .argv = argv, .envp = envp}};
        const char *log_path = NULL, *log_format = "text";
        static const struct option opts[] = {
                {"root", required_argument, NULL, 'r'},
                {"log", required_argument, NULL, 'l'},
                {"log-format", required_argument, NULL, 'f'},
                {"debug", no_argument, NULL, 'd'},
                {"systemd-cgroup", no_argument, NULL, 's'},
                {"rootless", required_argument, NULL, 'R'},
                {"criu", required_argument, NULL, 'C'},
                {"version", no_argument, NULL, 'v'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        int c;
        while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
                switch (c) {
                case 'r': g.ctx.root = optarg; break;
                case 'l': log_path = optarg; break;
                case 'f': log_format = optarg; break;
                case 'd': g.debug = true; break;
                case 's': g.systemd_cgroup = true; break;
                case 'R': case 'C': break;
                case 'v':
                        printf("gantry-runtime version " VERSION "\nspec: 1.1.0\n");
                        return 0;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 1;
                }
        }
        if (strcmp(log_format, "json") != 0 && strcmp(log_format, "text") != 0) {
                fprintf(stderr, "gantry-runtime: --log-format: want text or json, not \"%s\"\n",
                        log_format);
                return 1;
        }
        if (log_init(log_path, strcmp(log_format, "json") == 0,
                     g.debug ? LOG_LVL_DEBUG : LOG_LVL_WARN) < 0) {
                fprintf(stderr, "gantry-runtime: open log file %s: %m\n", log_path);
                return 1;
        }
        if (optind >= argc) {
                usage(stderr);
                return 1;
        }
        const char *verb = argv[optind];
        for (size_t i = 0; i < sizeof(verbs) / sizeof(*verbs); i++) {
                if (strcmp(verbs[i].name, verb) != 0)
                        continue;
                if (g.systemd_cgroup) {
                        log_error("--systemd-cgroup is not supported: use cgroupfs paths");
                        return 1;
                }
                if (verbs[i].sealed) {
                        int r = rt_sealed_exe_ensure(argv, envp);
                        if (r < 0)
                                log_warn("cannot re-execute from a sealed copy: %s",
                                         strerror(-r));
                }
                /* getopt in the verb starts over at the verb's own arguments. */
                int vargc = argc - optind;
                char **vargv = argv + optind;
                optind = 0;
                return verbs[i].fn(&g, vargc, vargv);
        }
        fprintf(stderr, "gantry-runtime: unknown command \"%s\"\n", verb);
        usage(stderr);
        return 1;
}
