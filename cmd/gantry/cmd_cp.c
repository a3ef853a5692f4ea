/* gantry cp and gantry export: their flags, arguments and docker's usage errors; the copies
 * themselves are in cp_local.c. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cp.h"

static int usage_error(const char *verb, const char *what)
{
        fprintf(stderr, "\"gantry %s\" %s.\nSee 'gantry %s --help'.\n", verb, what, verb);
        return 1;
}

struct export_flags {
        const char *output;
};

static int export_opt(int c, const char *arg, void *ud)
{
        struct export_flags *f = ud;
        if (c == 'o')
                f->output = arg;
        return 0;
}

int cmd_export(int argc, char **argv)
{
        static const struct option lo[] = {{"output", required_argument, NULL, 'o'}, {0}};
        struct export_flags f = {0};
        int st = 0, first = cli_getopts("export", argc, argv, "o:", lo, export_opt, &f, &st);
        if (first < 0)
                return st;
        if (argc - first != 1)
                return usage_error("export", "requires exactly 1 argument");
        int fd = STDOUT_FILENO;
        if (f.output == NULL && isatty(STDOUT_FILENO)) {
                fprintf(stderr, "cowardly refusing to save to a terminal. Use the -o flag or "
                                "redirect\n");
                return 1;
        }
        if (f.output != NULL) {
                fd = open(f.output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0) {
                        fprintf(stderr, "failed to export container: %s: %m\n", f.output);
                        return 1;
                }
        }
        _cleanup_free_ char *id = cli_escape(argv[first]);
        char path[1024];
        snprintf(path, sizeof(path), "/containers/%s/export", id ? id : "");
        int rc = cli_stream_get(path, fd);
        if (fd != STDOUT_FILENO)
                close(fd);
        if (rc != 0 && f.output != NULL)
                unlink(f.output);
        return rc;
}

struct cp_flags {
        bool archive, follow;
};

static int cp_opt(int c, const char *arg, void *ud)
{
        struct cp_flags *f = ud;
        if (c == 'a')
                f->archive = true;
        else if (c == 'L')
                f->follow = true;
        return 0;
}

/* docker's splitCpArg: an absolute path, one without ':' or one starting with '.' ("./a:b") is
 * local, else "container:path". */
static bool split_arg(char *arg, char **ctr, char **path)
{
        *ctr = NULL;
        *path = arg;
        if (arg[0] == '/' || strcmp(arg, "-") == 0)
                return false;
        char *colon = strchr(arg, ':');
        if (colon == NULL || colon == arg || arg[0] == '.')
                return false;
        *colon = '\0';
        *ctr = arg;
        *path = colon + 1;
        return true;
}

int cmd_cp(int argc, char **argv)
{
        static const struct option lo[] = {{"archive", no_argument, NULL, 'a'},
                                           {"follow-link", no_argument, NULL, 'L'},
                                           {"quiet", no_argument, NULL, 'q'},
                                           {0}};
        struct cp_flags f = {0};
        int st = 0, first = cli_getopts("cp", argc, argv, "aLq", lo, cp_opt, &f, &st);
        if (first < 0)
                return st;
        if (argc - first != 2)
                return usage_error("cp", "requires exactly 2 arguments");
        if (argv[first][0] == '\0' || argv[first + 1][0] == '\0') {
                fprintf(stderr, "%s can not be empty\n",
                        argv[first][0] == '\0' ? "source" : "destination");
                return 1;
        }
        char *sc, *sp, *dc, *dp;
        bool src_ctr = split_arg(argv[first], &sc, &sp);
        bool dst_ctr = split_arg(argv[first + 1], &dc, &dp);
        if (src_ctr && dst_ctr) {
                fprintf(stderr, "copying between containers is not supported\n");
                return 1;
        }
        if (!src_ctr && !dst_ctr) {
                fprintf(stderr, "must specify at least one container source\n");
                return 1;
        }
        struct cp_opts o = {.follow = f.follow, .copy_uid_gid = f.archive};
        return src_ctr ? cp_from_container(sc, sp, dp, &o) : cp_to_container(sp, dc, dp, &o);
}
