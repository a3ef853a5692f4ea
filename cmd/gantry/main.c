/* gantry: the Docker-like CLI; global flags (-H/--host, GANTRY_HOST) and verb dispatch. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef int (*verb_fn)(int argc, char **argv);

static const struct verb {
        const char *name;
        verb_fn fn;
        const char *help;
} verbs[] = {
        {"run", cmd_run, "Create and run a new container from an image"},
        {"create", cmd_create, "Create a new container"},
        {"start", cmd_start, "Start one or more stopped containers"},
        {"ps", cmd_ps, "List containers"},
        {"logs", cmd_logs, "Fetch the logs of a container"},
        {"stop", cmd_stop, "Stop one or more running containers"},
        {"restart", cmd_restart, "Restart one or more containers"},
        {"kill", cmd_kill, "Kill one or more running containers"},
        {"rm", cmd_rm, "Remove one or more containers"},
        {"wait", cmd_wait, "Block until containers stop, then print their exit codes"},
        {"inspect", cmd_inspect, "Return low-level information on containers or images"},
        {"images", cmd_images, "List images"},
        {"load", cmd_load, "Load an image from a tar archive or STDIN"},
        {"import", cmd_import, "Import the contents from a tarball to create an image"},
        {"save", cmd_save, "Save one or more images to a tar archive (or an OCI layout)"},
        {"tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"},
        {"rmi", cmd_rmi, "Remove one or more images"},
        {"history", cmd_history, "Show the history of an image"},
        {"version", cmd_version, "Show the gantry version information"},
        {"info", cmd_info, "Display system-wide information"},
        {"events", cmd_events, "Get real time events from the server"},
        {"stats", cmd_stats, "Display a live stream of container(s) resource usage statistics"},
        {"top", cmd_top, "Display the running processes of a container"},
        {"exec", cmd_exec, "Execute a command in a running container"},
        {"attach", cmd_attach, "Attach local standard input, output, and error streams to a running container"},
        {"update", cmd_update, "Update configuration of one or more containers"},
        {"pause", cmd_pause, "Pause all processes within one or more containers"},
        {"unpause", cmd_unpause, "Unpause all processes within one or more containers"},
        {"rename", cmd_rename, "Rename a container"},
        {"cp", cmd_cp, "Copy files/folders between a container and the local filesystem"},
        {"export", cmd_export, "Export a container's filesystem as a tar archive"},
        {"diff", cmd_diff, "Inspect changes to files or directories on a container's filesystem"},
        {"commit", cmd_commit, "Create a new image from a container's changes"},
        {"pull", cmd_pull, "Download an image from a registry"},
        {"push", cmd_push, "Upload an image to a registry"},
        {"login", cmd_login, "Authenticate to a registry"},
        {"logout", cmd_logout, "Log out from a registry"},
        {"search", cmd_search, "Search a registry for images"},
        {"network", cmd_network, "Manage networks"},
        {"port", cmd_port, "List port mappings or a specific mapping for the container"},
};

const char *cli_verb_summary(const char *verb)
{
        for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
                if (strcmp(verb, verbs[i].name) == 0)
                        return verbs[i].help;
        return NULL;
}

/* Docker's verbs that come later: a clear message instead of "unknown command". */
static const char *later[] = {
        "build", "volume", "compose",
        "service", "swarm", "node", "secret", "config", "stack", "builder", "buildx", "context",
        "plugin", "trust", "manifest",
};

static const struct {
        const char *group, *sub, *verb;
} aliases[] = {
        {"container", "run", "run"},       {"container", "create", "create"},
        {"container", "start", "start"},   {"container", "ls", "ps"},
        {"container", "list", "ps"},       {"container", "ps", "ps"},
        {"container", "logs", "logs"},     {"container", "stop", "stop"},
        {"container", "kill", "kill"},     {"container", "rm", "rm"},
        {"container", "remove", "rm"},     {"container", "wait", "wait"},
        {"container", "inspect", "inspect"}, {"image", "ls", "images"},
        {"image", "list", "images"},       {"image", "rm", "rmi"},
        {"image", "remove", "rmi"},        {"image", "load", "load"},
        {"image", "import", "import"},     {"image", "tag", "tag"},
        {"image", "save", "save"},
        {"image", "inspect", "image-inspect"},
        {"container", "stats", "stats"},   {"container", "top", "top"},
        {"system", "df", "system-df"},     {"system", "info", "info"},
        {"system", "events", "events"},
        {"container", "cp", "cp"},         {"container", "export", "export"},
        {"container", "diff", "diff"},     {"container", "commit", "commit"},
        {"container", "prune", "container-prune"}, {"image", "prune", "image-prune"},
        {"image", "pull", "pull"},         {"image", "push", "push"},
        {"container", "exec", "exec"},     {"container", "attach", "attach"},
        {"container", "pause", "pause"},   {"container", "unpause", "unpause"},
        {"container", "rename", "rename"}, {"container", "port", "port"},
        {"container", "restart", "restart"}, {"container", "update", "update"},
        {"image", "history", "history"},
};

static void usage(FILE *f)
{
        fprintf(f, "Usage:  gantry [OPTIONS] COMMAND\n\nA container engine with Docker's verbs.\n\n"
                   "Options:\n  -H, --host string   Daemon socket to connect to (default %s,\n"
                   "                      or $GANTRY_HOST)\n  -v, --version       Print version information and quit\n\n"
                   "Commands:\n", CLI_DEFAULT_HOST);
        for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
                fprintf(f, "  %-9s %s\n", verbs[i].name, verbs[i].help);
        fprintf(f, "\nManagement commands: container (run create start ls logs stop restart kill rm wait\n"
                   "inspect exec attach pause unpause rename port update stats top cp export diff\n"
                   "commit prune), image (ls rm load save import tag inspect history prune pull push)\n");
}

static int dispatch(const char *name, int argc, char **argv)
{
        if (strcmp(name, "image-inspect") == 0)
                return cmd_image_inspect(argc, argv);
        if (strcmp(name, "system-df") == 0)
                return cmd_system_df(argc, argv);
        if (strcmp(name, "container-prune") == 0)
                return cmd_container_prune(argc, argv);
        if (strcmp(name, "image-prune") == 0)
                return cmd_image_prune(argc, argv);
        /* Verbs that take their operands verbatim (top's ps options) parse no flags of their own. */
        static const char *const verbatim[] = {"top", "port", "logout"};
        for (size_t i = 0; i < ARRAY_SIZE(verbatim); i++)
                if (strcmp(name, verbatim[i]) == 0 && argc == 2 && strcmp(argv[1], "--help") == 0) {
                        cli_print_verb_help(name, "", NULL);
                        return 0;
                }
        for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
                if (strcmp(name, verbs[i].name) == 0)
                        return verbs[i].fn(argc, argv);
        for (size_t i = 0; i < ARRAY_SIZE(later); i++)
                if (strcmp(name, later[i]) == 0) {
                        fprintf(stderr, "gantry: '%s' is not yet supported\n", name);
                        return 1;
                }
        fprintf(stderr, "gantry: '%s' is not a gantry command.\nSee 'gantry --help'\n", name);
        return 1;
}

int main(int argc, char **argv)
{
        const char *host = getenv("GANTRY_HOST");
        int i = 1;
        for (; i < argc && argv[i][0] == '-'; i++) {
                const char *a = argv[i];
                if (strcmp(a, "-H") == 0 || strcmp(a, "--host") == 0) {
                        if (i + 1 >= argc) {
                                fprintf(stderr, "flag needs an argument: %s\nSee 'gantry --help'.\n", a);
                                return 125;
                        }
                        host = argv[++i];
                } else if (strncmp(a, "--host=", 7) == 0) {
                        host = a + 7;
                } else if (strncmp(a, "-H", 2) == 0) {
                        host = a + 2;
                } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
                        usage(stdout);
                        return 0;
                } else if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
                        printf("Gantry version %s\n", CLI_VERSION);
                        return 0;
                } else if (strcmp(a, "-D") == 0 || strcmp(a, "--debug") == 0) {
                        continue;
                } else {
                        fprintf(stderr, "unknown flag: %s\nSee 'gantry --help'.\n", a);
                        return 125;
                }
        }
        if (host != NULL && host[0] != '\0' && cli_set_host(host) < 0)
                return 1;
        if (i >= argc) {
                usage(stdout);
                return 0;
        }
        const char *name = argv[i];
        argc -= i;
        argv += i;
        if (strcmp(name, "container") == 0 || strcmp(name, "image") == 0 ||
            strcmp(name, "system") == 0) {
                if (argc < 2) {
                        fprintf(stderr, "Usage:  gantry %s COMMAND\n", name);
                        return 1;
                }
                for (size_t k = 0; k < ARRAY_SIZE(aliases); k++)
                        if (strcmp(name, aliases[k].group) == 0 && strcmp(argv[1], aliases[k].sub) == 0)
                                return dispatch(aliases[k].verb, argc - 1, argv + 1);
                fprintf(stderr, "gantry: '%s %s' is not yet supported\n", name, argv[1]);
                return 1;
        }
        return dispatch(name, argc, argv);
}
