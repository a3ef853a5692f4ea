/* gantry network create/ls/inspect/rm/connect/disconnect/prune and gantry port, docker's output. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct net_flags {
        json_t *body, *filters, *ipam, *aliases;
        bool quiet, no_trunc, force;
        const char *ip, *format;
};

static json_t *ipam_cfg(struct net_flags *f)
{
        json_t *cfgs = json_object_get(json_object_get(f->body, "IPAM"), "Config");
        if (json_array_size(cfgs) == 0)
                json_array_append_new(cfgs, json_object());
        return json_array_get(cfgs, json_array_size(cfgs) - 1);
}

static void set_kv(json_t *obj, const char *s)
{
        const char *eq = strchr(s, '=');
        _cleanup_free_ char *k = eq ? strndup(s, (size_t)(eq - s)) : strdup(s);
        json_object_set_new(obj, k, json_string(eq ? eq + 1 : ""));
}

static int create_opt(int c, const char *arg, void *ud)
{
        struct net_flags *f = ud;
        switch (c) {
        case 'd': json_object_set_new(f->body, "Driver", json_string(arg)); break;
        case 'S': {
                /* each --subnet starts a pool; --gateway and --ip-range go to the last one */
                json_t *cfgs = json_object_get(json_object_get(f->body, "IPAM"), "Config");
                json_array_append_new(cfgs, json_pack("{s:s}", "Subnet", arg));
                break;
        }
        case 'G': json_object_set_new(ipam_cfg(f), "Gateway", json_string(arg)); break;
        case 'R': json_object_set_new(ipam_cfg(f), "IPRange", json_string(arg)); break;
        case 'I': json_object_set_new(f->body, "Internal", json_true()); break;
        case 'A': json_object_set_new(f->body, "Attachable", json_true()); break;
        case '6': json_object_set_new(f->body, "EnableIPv6", json_true()); break;
        case 'l': set_kv(json_object_get(f->body, "Labels"), arg); break;
        case 'o': set_kv(json_object_get(f->body, "Options"), arg); break;
        default: break;
        }
        return 0;
}

static int net_create(int argc, char **argv)
{
        static const struct option lo[] = {
                {"driver", required_argument, NULL, 'd'},  {"subnet", required_argument, NULL, 'S'},
                {"gateway", required_argument, NULL, 'G'}, {"ip-range", required_argument, NULL, 'R'},
                {"internal", no_argument, NULL, 'I'},      {"attachable", no_argument, NULL, 'A'},
                {"ipv6", no_argument, NULL, '6'},          {"label", required_argument, NULL, 'l'},
                {"opt", required_argument, NULL, 'o'},     {0}};
        _cleanup_jsonp_ json_t *body = json_pack("{s:s, s:{s:s, s:[]}, s:{}, s:{}}", "Driver",
                                                 "bridge", "IPAM", "Driver", "default", "Config",
                                                 "Labels", "Options");
        struct net_flags f = {.body = body};
        int st = 0, first = cli_getopts("network create", argc, argv, "d:o:", lo, create_opt, &f, &st);
        if (first < 0)
                return st;
        if (argc - first != 1) {
                fprintf(stderr, "gantry: 'gantry network create' requires exactly 1 argument.\n");
                return 1;
        }
        json_object_set_new(body, "Name", json_string(argv[first]));
        _cleanup_jsonp_ json_t *out = NULL;
        if (cli_call_json("POST", "/networks/create", body, 201, &out) < 0)
                return 1;
        printf("%s\n", json_string_value(json_object_get(out, "Id")) ?: "");
        return 0;
}

static int ls_opt(int c, const char *arg, void *ud)
{
        struct net_flags *f = ud;
        if (c == 'q')
                f->quiet = true;
        else if (c == 'N')
                f->no_trunc = true;
        else if (c == 'F' || c == 'f')
                return cli_filter_add(f->filters, "--filter", arg);
        else if (c == 'T')
                f->format = arg;
        return 0;
}

static int cmp_name(const void *a, const void *b)
{
        json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
        return strcmp(json_string_value(json_object_get(x, "Name")) ?: "",
                      json_string_value(json_object_get(y, "Name")) ?: "");
}

static int net_ls(int argc, char **argv)
{
        static const struct option lo[] = {{"quiet", no_argument, NULL, 'q'},
                                           {"no-trunc", no_argument, NULL, 'N'},
                                           {"filter", required_argument, NULL, 'F'},
                                           {"format", required_argument, NULL, 'T'},
                                           {0}};
        _cleanup_jsonp_ json_t *filters = json_object();
        struct net_flags f = {.filters = filters};
        int st = 0, first = cli_getopts("network ls", argc, argv, "qf:", lo, ls_opt, &f, &st);
        if (first < 0)
                return st;
        _cleanup_free_ char *path = NULL;
        cli_appendf(&path, "/networks");
        cli_append_filters(&path, filters);
        _cleanup_jsonp_ json_t *list = NULL;
        if (cli_call_json("GET", path, NULL, 200, &list) < 0)
                return 1;
        size_t n = json_array_size(list);
        json_t **v = calloc(n + 1, sizeof(*v));
        for (size_t i = 0; i < n; i++)
                v[i] = json_array_get(list, i);
        qsort(v, n, sizeof(*v), cmp_name);
        _cleanup_jsonp_ json_t *rows = json_array();
        for (size_t i = 0; i < n; i++) {
                const char *id = json_string_value(json_object_get(v[i], "Id")) ?: "";
                char sid[65];
                snprintf(sid, sizeof(sid), "%.*s", f.no_trunc ? 64 : 12, id);
                json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s}", "ID", sid, "Name",
                                                      json_string_value(json_object_get(v[i], "Name")) ?: "",
                                                      "Driver",
                                                      json_string_value(json_object_get(v[i], "Driver")) ?: "",
                                                      "Scope",
                                                      json_string_value(json_object_get(v[i], "Scope")) ?: ""));
        }
        free(v);
        if (f.quiet) {
                size_t i;
                json_t *r;
                json_array_foreach (rows, i, r)
                        printf("%s\n", json_string_value(json_object_get(r, "ID")));
                return 0;
        }
        _cleanup_jsonp_ json_t *headers = json_pack("{s:s, s:s, s:s, s:s}", "ID", "NETWORK ID",
                                                    "Name", "NAME", "Driver", "DRIVER", "Scope",
                                                    "SCOPE");
        return cli_print_list(f.format ? f.format
                                       : "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
                              rows, headers);
}

static int net_inspect(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "gantry: 'gantry network inspect' requires at least 1 argument.\n");
                return 1;
        }
        _cleanup_jsonp_ json_t *all = json_array();
        int rc = 0;
        for (int i = 1; i < argc; i++) {
                _cleanup_free_ char *esc = cli_escape(argv[i]);
                _cleanup_free_ char *path = NULL;
                cli_appendf(&path, "/networks/%s", esc);
                json_t *j = NULL;
                if (cli_call_json("GET", path, NULL, 200, &j) < 0) {
                        rc = 1;
                        continue;
                }
                json_array_append_new(all, j);
        }
        char *s = json_dumps(all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
        printf("%s\n", s ? s : "[]");
        free(s);
        return rc;
}

static int net_rm(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "gantry: 'gantry network rm' requires at least 1 argument.\n");
                return 1;
        }
        int rc = 0;
        for (int i = 1; i < argc; i++) {
                _cleanup_free_ char *esc = cli_escape(argv[i]);
                _cleanup_free_ char *path = NULL;
                cli_appendf(&path, "/networks/%s", esc);
                if (cli_call_json("DELETE", path, NULL, 204, NULL) < 0)
                        rc = 1;
                else
                        printf("%s\n", argv[i]);
        }
        return rc;
}

static int connect_opt(int c, const char *arg, void *ud)
{
        struct net_flags *f = ud;
        if (c == 'i')
                f->ip = arg;
        else if (c == 'a')
                json_array_append_new(f->aliases, json_string(arg));
        else if (c == 'f')
                f->force = true;
        return 0;
}

static int net_connect(int argc, char **argv, bool connect)
{
        static const struct option lo[] = {{"ip", required_argument, NULL, 'i'},
                                           {"alias", required_argument, NULL, 'a'},
                                           {"force", no_argument, NULL, 'f'},
                                           {0}};
        _cleanup_jsonp_ json_t *aliases = json_array();
        struct net_flags f = {.aliases = aliases};
        const char *verb = connect ? "network connect" : "network disconnect";
        int st = 0, first = cli_getopts(verb, argc, argv, "f", lo, connect_opt, &f, &st);
        if (first < 0)
                return st;
        if (argc - first != 2) {
                fprintf(stderr, "gantry: 'gantry %s' requires exactly 2 arguments.\n", verb);
                return 1;
        }
        _cleanup_jsonp_ json_t *body = json_pack("{s:s}", "Container", argv[first + 1]);
        if (connect) {
                json_t *ep = json_object();
                if (f.ip)
                        json_object_set_new(ep, "IPAMConfig", json_pack("{s:s}", "IPv4Address", f.ip));
                if (json_array_size(aliases))
                        json_object_set(ep, "Aliases", aliases);
                json_object_set_new(body, "EndpointConfig", ep);
        } else {
                json_object_set_new(body, "Force", json_boolean(f.force));
        }
        _cleanup_free_ char *esc = cli_escape(argv[first]);
        _cleanup_free_ char *path = NULL;
        cli_appendf(&path, "/networks/%s/%s", esc, connect ? "connect" : "disconnect");
        return cli_call_json("POST", path, body, 200, NULL) < 0 ? 1 : 0;
}

static int prune_opt(int c, const char *arg, void *ud)
{
        struct net_flags *f = ud;
        if (c == 'f')
                f->force = true;
        else if (c == 'F')
                return cli_filter_add(f->filters, "--filter", arg);
        return 0;
}

static int net_prune(int argc, char **argv)
{
        static const struct option lo[] = {{"force", no_argument, NULL, 'f'},
                                           {"filter", required_argument, NULL, 'F'},
                                           {0}};
        _cleanup_jsonp_ json_t *filters = json_object();
        struct net_flags f = {.filters = filters};
        int st = 0, first = cli_getopts("network prune", argc, argv, "f", lo, prune_opt, &f, &st);
        if (first < 0)
                return st;
        if (!f.force) {
                printf("WARNING! This will remove all custom networks not used by at least one "
                       "container.\nAre you sure you want to continue? [y/N] ");
                fflush(stdout);
                char line[64] = "";
                if (fgets(line, sizeof(line), stdin) == NULL ||
                    (strncmp(line, "y", 1) != 0 && strncmp(line, "Y", 1) != 0))
                        return 0;
        }
        _cleanup_free_ char *path = NULL;
        cli_appendf(&path, "/networks/prune");
        cli_append_filters(&path, filters);
        _cleanup_jsonp_ json_t *out = NULL;
        if (cli_call_json("POST", path, NULL, 200, &out) < 0)
                return 1;
        json_t *del = json_object_get(out, "NetworksDeleted");
        if (json_array_size(del)) {
                printf("Deleted Networks:\n");
                size_t i;
                json_t *v;
                json_array_foreach (del, i, v)
                        printf("%s\n", json_string_value(v));
        }
        return 0;
}

int cmd_network(int argc, char **argv)
{
        bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
        if (argc < 2 || help) {
                fprintf(help ? stdout : stderr,
                        "Usage:  gantry network COMMAND\n\nManage networks\n\nCommands:\n"
                        "  connect     Connect a container to a network\n"
                        "  create      Create a network\n"
                        "  disconnect  Disconnect a container from a network\n"
                        "  inspect     Display detailed information on one or more networks\n"
                        "  ls          List networks\n"
                        "  prune       Remove all unused networks\n"
                        "  rm          Remove one or more networks\n");
                return help ? 0 : 1;
        }
        const char *sub = argv[1];
        argc--;
        argv++;
        if (strcmp(sub, "create") == 0)
                return net_create(argc, argv);
        if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0)
                return net_ls(argc, argv);
        if (strcmp(sub, "inspect") == 0)
                return net_inspect(argc, argv);
        if (strcmp(sub, "rm") == 0 || strcmp(sub, "remove") == 0)
                return net_rm(argc, argv);
        if (strcmp(sub, "connect") == 0)
                return net_connect(argc, argv, true);
        if (strcmp(sub, "disconnect") == 0)
                return net_connect(argc, argv, false);
        if (strcmp(sub, "prune") == 0)
                return net_prune(argc, argv);
        fprintf(stderr, "gantry: 'network %s' is not a gantry command.\n", sub);
        return 1;
}

/* docker port CONTAINER [PRIVATE_PORT[/PROTO]] */
int cmd_port(int argc, char **argv)
{
        if (argc < 2 || argc > 3) {
                fprintf(stderr, "gantry: 'gantry port' requires 1 or 2 arguments.\n");
                return 1;
        }
        _cleanup_jsonp_ json_t *c = cli_inspect_container(argv[1], false);
        if (c == NULL)
                return 1;
        json_t *ports = json_object_get(json_object_get(c, "NetworkSettings"), "Ports");
        char want[64] = "";
        if (argc == 3)
                snprintf(want, sizeof(want), "%s%s", argv[2], strchr(argv[2], '/') ? "" : "/tcp");
        const char *key;
        json_t *v;
        bool any = false;
        json_object_foreach (ports, key, v) {
                if (*want && strcmp(key, want) != 0)
                        continue;
                size_t i;
                json_t *b;
                json_array_foreach (v, i, b) {
                        const char *hip = json_string_value(json_object_get(b, "HostIp")) ?: "";
                        const char *hp = json_string_value(json_object_get(b, "HostPort")) ?: "";
                        if (*want)
                                printf("%s:%s\n", hip, hp);
                        else
                                printf("%s -> %s:%s\n", key, hip, hp);
                        any = true;
                }
        }
        if (*want && !any) {
                fprintf(stderr, "Error: No public port '%s' published for %s\n", want, argv[1]);
                return 1;
        }
        return 0;
}
