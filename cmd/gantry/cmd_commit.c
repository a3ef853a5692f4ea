/* gantry CLI: diff, commit, container prune and image prune, with docker's output and exit codes.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* docker 28's argument-count error. */
static int args_error(const char *verb, const char *what, const char *usage)
{
        fprintf(stderr,
                "gantry: 'gantry %s' %s\n\nUsage:  gantry %s %s\n\nRun 'gantry %s --help' "
                "for more information\n",
                verb, what, verb, usage, verb);
        return 1;
}

/* go-units HumanSize: four significant digits, decimal units. */
static void human_size(double size, char *buf, size_t n)
{
        static const char *units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
        size_t i = 0;
        while (size >= 1000.0 && i < ARRAY_SIZE(units) - 1) {
                size /= 1000.0;
                i++;
        }
        snprintf(buf, n, "%.4g%s", size, units[i]);
}

static int no_opt(int c, const char *arg, void *ud)
{
        return 0;
}

int cmd_diff(int argc, char **argv)
{
        static const struct option lo[] = {{0}};
        int st = 0, first = cli_getopts("diff", argc, argv, "", lo, no_opt, NULL, &st);
        if (first < 0)
                return st;
        if (argc - first != 1)
                return args_error("diff", "requires 1 argument", "CONTAINER");
        _cleanup_free_ char *n = cli_escape(argv[first]), *path = NULL;
        cli_appendf(&path, "/containers/%s/changes", n);
        _cleanup_jsonp_ json_t *j = NULL;
        if (cli_call_json("GET", path, NULL, 200, &j) < 0)
                return 1;
        size_t i;
        json_t *c;
        json_array_foreach(j, i, c)
        {
                static const char kinds[] = "CAD";
                json_int_t k = json_integer_value(json_object_get(c, "Kind"));
                printf("%c %s\n", k >= 0 && k < 3 ? kinds[k] : '?',
                       json_string_value(json_object_get(c, "Path")) ?: "");
        }
        return 0;
}

struct commit_flags {
        const char *author, *message;
        bool pause;
        char *changes; /* "&changes=..." query parts */
        int bad;
};

static int commit_opt(int c, const char *arg, void *ud)
{
        struct commit_flags *f = ud;
        switch (c) {
        case 'a':
                f->author = arg;
                break;
        case 'm':
                f->message = arg;
                break;
        case 'c': {
                _cleanup_free_ char *e = cli_escape(arg);
                cli_appendf(&f->changes, "&changes=%s", e);
                break;
        }
        case 'p':
                if (arg == NULL || strcmp(arg, "true") == 0 || strcmp(arg, "1") == 0)
                        f->pause = true;
                else if (strcmp(arg, "false") == 0 || strcmp(arg, "0") == 0)
                        f->pause = false;
                else {
                        fprintf(
                            stderr,
                            "invalid argument \"%s\" for \"-p, --pause\" flag: strconv.ParseBool: "
                            "parsing \"%s\": invalid syntax\n",
                            arg, arg);
                        return -1;
                }
                break;
        }
        return 0;
}

/* "repo[:tag]": a ':' after the last '/' starts the tag. */
static void split_ref(const char *ref, char **repo, char **tag)
{
        const char *slash = strrchr(ref, '/');
        const char *colon = strrchr(slash ? slash : ref, ':');
        *repo = colon ? strndup(ref, (size_t)(colon - ref)) : strdup(ref);
        *tag = colon ? strdup(colon + 1) : strdup("");
}

int cmd_commit(int argc, char **argv)
{
        static const struct option lo[] = {{"author", required_argument, NULL, 'a'},
                                           {"message", required_argument, NULL, 'm'},
                                           {"change", required_argument, NULL, 'c'},
                                           {"pause", optional_argument, NULL, 'p'},
                                           {0}};
        struct commit_flags f = {.pause = true};
        int st = 0, first = cli_getopts("commit", argc, argv, "a:m:c:p", lo, commit_opt, &f, &st);
        _cleanup_free_ char *changes = f.changes;
        if (first < 0)
                return st;
        if (argc - first < 1 || argc - first > 2)
                return args_error("commit", "requires at least 1 and at most 2 arguments",
                                  "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]");
        _cleanup_free_ char *ctr = cli_escape(argv[first]), *repo = NULL, *tag = NULL;
        _cleanup_free_ char *path = NULL;
        cli_appendf(&path, "/commit?container=%s&pause=%d", ctr, f.pause ? 1 : 0);
        if (argc - first == 2) {
                split_ref(argv[first + 1], &repo, &tag);
                _cleanup_free_ char *er = cli_escape(repo), *et = cli_escape(tag);
                cli_appendf(&path, "&repo=%s&tag=%s", er, et);
        }
        if (f.author != NULL) {
                _cleanup_free_ char *e = cli_escape(f.author);
                cli_appendf(&path, "&author=%s", e);
        }
        if (f.message != NULL) {
                _cleanup_free_ char *e = cli_escape(f.message);
                cli_appendf(&path, "&comment=%s", e);
        }
        if (changes != NULL)
                cli_appendf(&path, "%s", changes);
        _cleanup_jsonp_ json_t *j = NULL;
        if (cli_call_json("POST", path, NULL, 201, &j) < 0)
                return 1;
        printf("%s\n", json_string_value(json_object_get(j, "Id")) ?: "");
        return 0;
}

struct prune_flags {
        bool force, all;
        json_t *filters;
};

static int prune_opt(int c, const char *arg, void *ud)
{
        struct prune_flags *f = ud;
        if (c == 'f') {
                f->force = true;
        } else if (c == 'a') {
                f->all = true;
        } else if (c == 'F') {
                return cli_filter_add(f->filters, "--filter", arg);
        }
        return 0;
}

/* docker's PromptForConfirmation: only "y" or "Y" goes on. */
static bool confirm(const char *warning)
{
        printf("%s\nAre you sure you want to continue? [y/N] ", warning);
        fflush(stdout);
        char line[64] = "";
        if (fgets(line, sizeof(line), stdin) == NULL)
                return false;
        line[strcspn(line, "\r\n")] = '\0';
        return strcmp(line, "y") == 0 || strcmp(line, "Y") == 0;
}

static int prune(const char *verb, const char *route, int argc, char **argv, bool images)
{
        static const struct option lo[] = {{"force", no_argument, NULL, 'f'},
                                           {"all", no_argument, NULL, 'a'},
                                           {"filter", required_argument, NULL, 'F'},
                                           {0}};
        _cleanup_jsonp_ json_t *filters = json_object();
        struct prune_flags f = {.filters = filters};
        int st = 0,
            first = cli_getopts(verb, argc, argv, images ? "fa" : "f", lo, prune_opt, &f, &st);
        if (first < 0)
                return st;
        if (first < argc) {
                fprintf(stderr,
                        "gantry: 'gantry %s' accepts no arguments\n\nUsage:  gantry %s "
                        "[OPTIONS]\n\nRun 'gantry %s --help' for more information\n",
                        verb, verb, verb);
                return 1;
        }
        if (f.all && !images)
                return cli_usage_error(verb, "unknown flag: --all");
        const char *warning = !images ? "WARNING! This will remove all stopped containers."
                              : f.all ? "WARNING! This will remove all images without at least "
                                        "one container associated to them."
                                      : "WARNING! This will remove all dangling images.";
        if (images)
                json_object_set_new(filters, "dangling",
                                    json_pack("{s:b}", f.all ? "false" : "true", 1));
        if (!f.force && !confirm(warning))
                return 0;
        _cleanup_free_ char *path = NULL;
        cli_appendf(&path, "%s", route);
        cli_append_filters(&path, filters);
        _cleanup_jsonp_ json_t *j = NULL;
        if (cli_call_json("POST", path, NULL, 200, &j) < 0)
                return 1;
        json_t *list = json_object_get(j, images ? "ImagesDeleted" : "ContainersDeleted");
        double space = 0;
        if (json_array_size(list) > 0) {
                printf("Deleted %s:\n", images ? "Images" : "Containers");
                size_t i;
                json_t *v;
                json_array_foreach(list, i, v)
                {
                        const char *u = json_string_value(json_object_get(v, "Untagged"));
                        if (!images)
                                printf("%s\n", json_string_value(v) ?: "");
                        else if (u != NULL && *u != '\0')
                                printf("untagged: %s\n", u);
                        else
                                printf("deleted: %s\n",
                                       json_string_value(json_object_get(v, "Deleted")) ?: "");
                }
                printf("\n");
                space = (double)json_integer_value(json_object_get(j, "SpaceReclaimed"));
        }
        char buf[32];
        human_size(space, buf, sizeof(buf));
        printf("Total reclaimed space: %s\n", buf);
        return 0;
}

int cmd_container_prune(int argc, char **argv)
{
        return prune("container prune", "/containers/prune", argc, argv, false);
}

int cmd_image_prune(int argc, char **argv)
{
        return prune("image prune", "/images/prune", argc, argv, true);
}
