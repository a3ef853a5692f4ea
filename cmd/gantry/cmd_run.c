/* gantry CLI: `run` and `create`: docker's flags turned into a POST /containers/create body. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

enum {
        O_RM = 256, O_NAME, O_TMPFS, O_READ_ONLY, O_MEMORY_SWAP, O_CPUS, O_CPU_SHARES,
        O_CPUSET_CPUS, O_PIDS_LIMIT, O_CAP_ADD, O_CAP_DROP, O_PRIVILEGED, O_NETWORK,
        O_ENTRYPOINT, O_RESTART, O_INIT, O_STOP_SIGNAL, O_STOP_TIMEOUT, O_ULIMIT, O_SYSCTL,
        O_SECURITY_OPT, O_SHM_SIZE, O_GROUP_ADD, O_DEVICE, O_RUNTIME, O_HELP, O_SIG_PROXY,
        O_HEALTH_CMD, O_HEALTH_INTERVAL, O_HEALTH_TIMEOUT, O_HEALTH_RETRIES, O_HEALTH_START_PERIOD,
        O_HEALTH_START_INTERVAL, O_NO_HEALTHCHECK, O_EXPOSE, O_IP, O_MAC, O_DNS, O_DNS_SEARCH,
        O_DNS_OPTION, O_ADD_HOST, O_NET_ALIAS, O_LINK, O_DOMAIN, O_CPU_QUOTA, O_CPU_PERIOD,
        O_OOM_KILL_DISABLE, O_LOG_DRIVER, O_LOG_OPT, O_MOUNT, O_ENV_FILE, O_MEMORY_RESERVATION,
        O_CPUSET_MEMS, O_DETACH_KEYS,
};

static const struct option run_opts[] = {
        {"detach", no_argument, NULL, 'd'},
        {"interactive", no_argument, NULL, 'i'},
        {"tty", no_argument, NULL, 't'},
        {"rm", no_argument, NULL, O_RM},
        {"name", required_argument, NULL, O_NAME},
        {"env", required_argument, NULL, 'e'},
        {"workdir", required_argument, NULL, 'w'},
        {"user", required_argument, NULL, 'u'},
        {"volume", required_argument, NULL, 'v'},
        {"tmpfs", required_argument, NULL, O_TMPFS},
        {"read-only", no_argument, NULL, O_READ_ONLY},
        {"memory", required_argument, NULL, 'm'},
        {"memory-swap", required_argument, NULL, O_MEMORY_SWAP},
        {"cpus", required_argument, NULL, O_CPUS},
        {"cpu-shares", required_argument, NULL, O_CPU_SHARES},
        {"cpuset-cpus", required_argument, NULL, O_CPUSET_CPUS},
        {"cpuset-mems", required_argument, NULL, O_CPUSET_MEMS},
        {"cpu-quota", required_argument, NULL, O_CPU_QUOTA},
        {"cpu-period", required_argument, NULL, O_CPU_PERIOD},
        {"memory-reservation", required_argument, NULL, O_MEMORY_RESERVATION},
        {"oom-kill-disable", no_argument, NULL, O_OOM_KILL_DISABLE},
        {"log-driver", required_argument, NULL, O_LOG_DRIVER},
        {"log-opt", required_argument, NULL, O_LOG_OPT},
        {"mount", required_argument, NULL, O_MOUNT},
        {"env-file", required_argument, NULL, O_ENV_FILE},
        {"detach-keys", required_argument, NULL, O_DETACH_KEYS},
        {"pids-limit", required_argument, NULL, O_PIDS_LIMIT},
        {"cap-add", required_argument, NULL, O_CAP_ADD},
        {"cap-drop", required_argument, NULL, O_CAP_DROP},
        {"privileged", no_argument, NULL, O_PRIVILEGED},
        {"network", required_argument, NULL, O_NETWORK},
        {"net", required_argument, NULL, O_NETWORK},
        {"hostname", required_argument, NULL, 'h'},
        {"publish", required_argument, NULL, 'p'},
        {"publish-all", no_argument, NULL, 'P'},
        {"expose", required_argument, NULL, O_EXPOSE},
        {"ip", required_argument, NULL, O_IP},
        {"mac-address", required_argument, NULL, O_MAC},
        {"dns", required_argument, NULL, O_DNS},
        {"dns-search", required_argument, NULL, O_DNS_SEARCH},
        {"dns-option", required_argument, NULL, O_DNS_OPTION},
        {"add-host", required_argument, NULL, O_ADD_HOST},
        {"network-alias", required_argument, NULL, O_NET_ALIAS},
        {"link", required_argument, NULL, O_LINK},
        {"domainname", required_argument, NULL, O_DOMAIN},
        {"entrypoint", required_argument, NULL, O_ENTRYPOINT},
        {"label", required_argument, NULL, 'l'},
        {"restart", required_argument, NULL, O_RESTART},
        {"init", no_argument, NULL, O_INIT},
        {"stop-signal", required_argument, NULL, O_STOP_SIGNAL},
        {"stop-timeout", required_argument, NULL, O_STOP_TIMEOUT},
        {"ulimit", required_argument, NULL, O_ULIMIT},
        {"sysctl", required_argument, NULL, O_SYSCTL},
        {"security-opt", required_argument, NULL, O_SECURITY_OPT},
        {"shm-size", required_argument, NULL, O_SHM_SIZE},
        {"group-add", required_argument, NULL, O_GROUP_ADD},
        {"device", required_argument, NULL, O_DEVICE},
        {"runtime", required_argument, NULL, O_RUNTIME},
        {"sig-proxy", optional_argument, NULL, O_SIG_PROXY},
        {"health-cmd", required_argument, NULL, O_HEALTH_CMD},
        {"health-interval", required_argument, NULL, O_HEALTH_INTERVAL},
        {"health-timeout", required_argument, NULL, O_HEALTH_TIMEOUT},
        {"health-retries", required_argument, NULL, O_HEALTH_RETRIES},
        {"health-start-period", required_argument, NULL, O_HEALTH_START_PERIOD},
        {"health-start-interval", required_argument, NULL, O_HEALTH_START_INTERVAL},
        {"no-healthcheck", no_argument, NULL, O_NO_HEALTHCHECK},
        {"help", no_argument, NULL, O_HELP},
        {0},
};

/* The long name of the option whose getopt code is c. */
static const char *long_name(int c)
{
        for (const struct option *o = run_opts; o->name != NULL; o++)
                if (o->val == c)
                        return o->name;
        return "?";
}

/* "a" or "a-b" -> first and count; false when not ports. */
static bool port_range(const char *s, size_t len, unsigned *first, unsigned *count)
{
        char buf[32];
        if (len == 0 || len >= sizeof(buf))
                return false;
        memcpy(buf, s, len);
        buf[len] = '\0';
        char *end;
        unsigned long a = strtoul(buf, &end, 10), b = a;
        if (end == buf || (*end != '\0' && *end != '-'))
                return false;
        if (*end == '-') {
                char *e2;
                b = strtoul(end + 1, &e2, 10);
                if (e2 == end + 1 || *e2 != '\0')
                        return false;
        }
        if (a < 1 || b > 65535 || b < a)
                return false;
        *first = (unsigned)a;
        *count = (unsigned)(b - a + 1);
        return true;
}

/* docker's -p [ip:][hostPort:]containerPort[/proto], ranges on both sides, into ExposedPorts
 * and PortBindings. */
static int parse_publish(const char *spec, json_t *body, json_t *hc)
{
        _cleanup_free_ char *copy = strdup(spec);
        char *proto = strchr(copy, '/');
        if (proto)
                *proto++ = '\0';
        if (proto == NULL || *proto == '\0')
                proto = "tcp";
        if (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp"))
                return -1;
        char *parts[3] = {NULL, NULL, NULL};
        int n = 0;
        for (char *p = copy, *save = NULL, *t = strtok_r(p, ":", &save); t && n < 3;
             t = strtok_r(NULL, ":", &save))
                parts[n++] = t;
        const char *ip = n == 3 ? parts[0] : "";
        const char *host = n >= 2 ? parts[n - 2] : "";
        const char *ctr = parts[n - 1];
        if (n == 0 || ctr == NULL)
                return -1;
        unsigned cf, cc, hf = 0, hcnt = 0;
        if (!port_range(ctr, strlen(ctr), &cf, &cc))
                return -1;
        if (*host && (!port_range(host, strlen(host), &hf, &hcnt) || (hcnt != cc && hcnt != 1)))
                return -1;
        json_t *exposed = json_object_get(body, "ExposedPorts");
        if (exposed == NULL) {
                exposed = json_object();
                json_object_set_new(body, "ExposedPorts", exposed);
        }
        json_t *binds = json_object_get(hc, "PortBindings");
        if (binds == NULL) {
                binds = json_object();
                json_object_set_new(hc, "PortBindings", binds);
        }
        for (unsigned i = 0; i < cc; i++) {
                char key[32], hp[16] = "";
                snprintf(key, sizeof(key), "%u/%s", cf + i, proto);
                if (hcnt)
                        snprintf(hp, sizeof(hp), "%u", hcnt == 1 ? hf : hf + i);
                json_object_set_new(exposed, key, json_object());
                json_t *list = json_object_get(binds, key);
                if (list == NULL) {
                        list = json_array();
                        json_object_set_new(binds, key, list);
                }
                json_array_append_new(list, json_pack("{s:s, s:s}", "HostIp", ip, "HostPort", hp));
        }
        return 0;
}

/* The primary network's EndpointsConfig entry (created on first use). */
static json_t *endpoint_cfg(json_t *body, json_t *hc)
{
        json_t *nc = json_object_get(body, "NetworkingConfig");
        if (nc == NULL) {
                nc = json_pack("{s:{}}", "EndpointsConfig");
                json_object_set_new(body, "NetworkingConfig", nc);
        }
        json_t *eps = json_object_get(nc, "EndpointsConfig");
        const char *net = json_string_value(json_object_get(hc, "NetworkMode"));
        if (net == NULL)
                net = "default";
        json_t *ep = json_object_get(eps, net);
        if (ep == NULL) {
                ep = json_object();
                json_object_set_new(eps, net, ep);
        }
        return ep;
}

int cli_usage_error(const char *verb, const char *msg)
{
        fprintf(stderr, "%s\nSee 'gantry %s --help'.\n", msg, verb);
        return 125;
}

/* docker's RAMInBytes: "64m", "1g", "512k", "100" (bytes); binary multiples. */
int cli_parse_bytes(const char *s, int64_t *out)
{
        char *end;
        double v = strtod(s, &end);
        int64_t mult = 1;
        if (end == s || v < 0)
                return -1;
        switch (*end | 0x20) {
        case 'b': mult = 1; break;
        case 'k': mult = 1LL << 10; break;
        case 'm': mult = 1LL << 20; break;
        case 'g': mult = 1LL << 30; break;
        case 't': mult = 1LL << 40; break;
        case 'p': mult = 1LL << 50; break;
        default:
                if (*end != '\0')
                        return -1;
        }
        if (*end != '\0') {
                end++;
                if ((*end | 0x20) == 'b' && mult != 1)
                        end++;
                if ((*end | 0x20) == 'i')
                        end++;
                if (*end != '\0')
                        return -1;
        }
        *out = (int64_t)(v * (double)mult);
        return 0;
}

static json_t *arr(json_t *obj, const char *key)
{
        json_t *a = json_object_get(obj, key);
        if (a == NULL) {
                a = json_array();
                json_object_set_new(obj, key, a);
        }
        return a;
}

static json_t *objkey(json_t *obj, const char *key)
{
        json_t *a = json_object_get(obj, key);
        if (a == NULL) {
                a = json_object();
                json_object_set_new(obj, key, a);
        }
        return a;
}

/* "k=v" into obj[k] = v (v "" when absent). */
static void set_kv(json_t *obj, const char *s)
{
        const char *eq = strchr(s, '=');
        _cleanup_free_ char *k = eq ? strndup(s, (size_t)(eq - s)) : strdup(s);
        json_object_set_new(obj, k, json_string(eq ? eq + 1 : ""));
}

static int parse_ulimit(const char *s, json_t *out)
{
        const char *eq = strchr(s, '=');
        char *end;
        if (eq == NULL)
                return -1;
        long long soft = strtoll(eq + 1, &end, 10), hard = soft;
        if (*end == ':')
                hard = strtoll(end + 1, &end, 10);
        if (*end != '\0')
                return -1;
        json_array_append_new(out, json_pack("{s:s%,s:I,s:I}", "Name", s, (size_t)(eq - s),
                                             "Soft", (json_int_t)soft, "Hard", (json_int_t)hard));
        return 0;
}

static int parse_device(const char *s, json_t *out)
{
        _cleanup_free_ char *d = strdup(s);
        char *parts[3] = {d, NULL, NULL};
        char *c = strchr(d, ':');
        if (c != NULL) {
                *c = '\0';
                parts[1] = c + 1;
                c = strchr(parts[1], ':');
                if (c != NULL) {
                        *c = '\0';
                        parts[2] = c + 1;
                }
        }
        /* "/dev/x:rw" names permissions, not a path. */
        if (parts[1] && !parts[2] && parts[1][0] != '/') {
                parts[2] = parts[1];
                parts[1] = NULL;
        }
        json_array_append_new(out, json_pack("{s:s,s:s,s:s}", "PathOnHost", parts[0],
                                             "PathInContainer", parts[1] ? parts[1] : parts[0],
                                             "CgroupPermissions", parts[2] ? parts[2] : "rwm"));
        return 0;
}

/* Go's time.ParseDuration for the forms people write: "300ms", "2s", "1m30s", "1h"; ns. */
static int parse_duration(const char *s, int64_t *out)
{
        double total = 0;
        const char *p = s;
        if (*p == '\0')
                return -1;
        while (*p != '\0') {
                char *end;
                double v = strtod(p, &end);
                if (end == p || v < 0)
                        return -1;
                static const struct {
                        const char *unit;
                        double ns;
                } units[] = {{"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6},
                             {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
                size_t best = 0, blen = 0;
                for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                        size_t l = strlen(units[i].unit);
                        if (strncmp(end, units[i].unit, l) == 0 && l > blen) {
                                best = i;
                                blen = l;
                        }
                }
                if (blen == 0)
                        return v == 0 && *end == '\0' ? (*out = 0, 0) : -1;
                total += v * units[best].ns;
                p = end + blen;
        }
        *out = (int64_t)total;
        return 0;
}

static json_t *healthcheck(json_t *body)
{
        json_t *h = json_object_get(body, "Healthcheck");
        if (h == NULL) {
                h = json_object();
                json_object_set_new(body, "Healthcheck", h);
        }
        return h;
}

/* "KEY=VAL" as is, a bare "KEY" from our environment (dropped when unset), as docker does. */
static void env_add(json_t *env, const char *s)
{
        if (strchr(s, '=') != NULL) {
                json_array_append_new(env, json_string(s));
        } else if (getenv(s) != NULL) {
                _cleanup_free_ char *kv = NULL;
                if (asprintf(&kv, "%s=%s", s, getenv(s)) < 0)
                        abort();
                json_array_append_new(env, json_string(kv));
        }
}

/* docker's --env-file: one variable a line; blank lines and '#' comments skipped. */
static int read_env_file(const char *path, json_t *env, char *msg, size_t msglen)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (f == NULL) {
                snprintf(msg, msglen, "open %s: %s", path, strerror(errno));
                return -1;
        }
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, f)) >= 0) {
                while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                        line[--n] = '\0';
                const char *l = line;
                while (*l == ' ' || *l == '\t')
                        l++;
                if (*l == '\0' || *l == '#')
                        continue;
                if (*l == '=') {
                        snprintf(msg, msglen, "invalid environment variable: %s", l);
                        return -1;
                }
                env_add(env, l);
        }
        return 0;
}

static bool bool_word(const char *v, bool *out)
{
        if (v == NULL || strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0) {
                *out = true;
                return true;
        }
        if (strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0) {
                *out = false;
                return true;
        }
        return false;
}

/* docker's --mount: "type=bind|tmpfs|volume,source=..,target=..,readonly,..." into a Mounts
 * entry; false with msg naming the bad field. */
static bool parse_mount(const char *spec, json_t *mounts, char *msg, size_t msglen)
{
        _cleanup_free_ char *copy = strdup(spec);
        _cleanup_jsonp_ json_t *m = json_object();
        json_t *bind = NULL, *tmpfs = NULL, *vol = NULL;
        const char *type = "volume";
        for (char *save = NULL, *f = strtok_r(copy, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
                char *v = strchr(f, '=');
                if (v != NULL)
                        *v++ = '\0';
                bool b;
                if (strcasecmp(f, "readonly") == 0 || strcasecmp(f, "ro") == 0) {
                        if (!bool_word(v, &b)) {
                                snprintf(msg, msglen, "invalid value for %s: %s", f, v);
                                return false;
                        }
                        json_object_set_new(m, "ReadOnly", json_boolean(b));
                        continue;
                }
                if (v == NULL) {
                        snprintf(msg, msglen, "invalid field '%s' must be a key=value pair", f);
                        return false;
                }
                if (strcasecmp(f, "type") == 0) {
                        if (strcmp(v, "bind") && strcmp(v, "tmpfs") && strcmp(v, "volume")) {
                                snprintf(msg, msglen, "invalid mount type '%s' (bind, tmpfs or volume)", v);
                                return false;
                        }
                        type = strcmp(v, "bind") == 0 ? "bind" : strcmp(v, "tmpfs") == 0 ? "tmpfs" : "volume";
                } else if (strcasecmp(f, "source") == 0 || strcasecmp(f, "src") == 0) {
                        json_object_set_new(m, "Source", json_string(v));
                } else if (strcasecmp(f, "target") == 0 || strcasecmp(f, "destination") == 0 ||
                           strcasecmp(f, "dst") == 0) {
                        json_object_set_new(m, "Target", json_string(v));
                } else if (strcasecmp(f, "consistency") == 0) {
                        json_object_set_new(m, "Consistency", json_string(v));
                } else if (strcasecmp(f, "bind-propagation") == 0) {
                        if (bind == NULL)
                                bind = objkey(m, "BindOptions");
                        json_object_set_new(bind, "Propagation", json_string(v));
                } else if (strcasecmp(f, "tmpfs-size") == 0) {
                        int64_t n;
                        if (cli_parse_bytes(v, &n) < 0) {
                                snprintf(msg, msglen, "invalid value for tmpfs-size: %s", v);
                                return false;
                        }
                        if (tmpfs == NULL)
                                tmpfs = objkey(m, "TmpfsOptions");
                        json_object_set_new(tmpfs, "SizeBytes", json_integer(n));
                } else if (strcasecmp(f, "tmpfs-mode") == 0) {
                        char *end;
                        long mode = strtol(v, &end, 8);
                        if (*v == '\0' || *end != '\0' || mode < 0) {
                                snprintf(msg, msglen, "invalid value for tmpfs-mode: %s", v);
                                return false;
                        }
                        if (tmpfs == NULL)
                                tmpfs = objkey(m, "TmpfsOptions");
                        json_object_set_new(tmpfs, "Mode", json_integer(mode));
                } else if (strcasecmp(f, "volume-nocopy") == 0) {
                        if (!bool_word(v, &b)) {
                                snprintf(msg, msglen, "invalid value for volume-nocopy: %s", v);
                                return false;
                        }
                        if (vol == NULL)
                                vol = objkey(m, "VolumeOptions");
                        json_object_set_new(vol, "NoCopy", json_boolean(b));
                } else if (strcasecmp(f, "volume-driver") == 0 || strcasecmp(f, "volume-label") == 0 ||
                           strcasecmp(f, "volume-opt") == 0) {
                        snprintf(msg, msglen, "%s: named volumes are not supported yet", f);
                        return false;
                } else {
                        snprintf(msg, msglen, "unexpected key '%s' in '%s'", f, spec);
                        return false;
                }
        }
        if (json_object_get(m, "Target") == NULL) {
                snprintf(msg, msglen, "target is required");
                return false;
        }
        if (bind != NULL && strcmp(type, "bind") != 0) {
                snprintf(msg, msglen, "cannot mix 'bind-*' options with mount type '%s'", type);
                return false;
        }
        if (tmpfs != NULL && strcmp(type, "tmpfs") != 0) {
                snprintf(msg, msglen, "cannot mix 'tmpfs-*' options with mount type '%s'", type);
                return false;
        }
        if (strcmp(type, "tmpfs") == 0 && json_object_get(m, "Source") != NULL) {
                snprintf(msg, msglen, "source is not allowed for tmpfs mounts");
                return false;
        }
        if (strcmp(type, "bind") == 0 && json_object_get(m, "Source") == NULL) {
                snprintf(msg, msglen, "source is required when specifying bind mounts");
                return false;
        }
        json_object_set_new(m, "Type", json_string(type));
        json_array_append_new(mounts, TAKE_PTR(m));
        return true;
}

struct run_opts {
        bool detach, interactive, tty, rm;
        const char *name;
        const char *detach_keys;
};

/* Parses flags and the image/command; fills body (Config + HostConfig). Returns -1 with
 * the exit status in *st on a usage error. */
static int parse_run(const char *verb, int argc, char **argv, struct run_opts *ro, json_t *body,
                     int *st)
{
        /* As the docker CLI: "no" restart policy unless --restart says otherwise. */
        json_t *hc = json_pack("{s:{s:s, s:i}}", "RestartPolicy", "Name", "no",
                               "MaximumRetryCount", 0);
        _cleanup_jsonp_ json_t *file_env = json_array();
        int c;
        char msg[1024];
        json_object_set_new(body, "HostConfig", hc);
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:dite:w:u:v:m:h:l:p:P", run_opts, NULL)) != -1) {
                int64_t n;
                char *end;
                switch (c) {
                case 'd': ro->detach = true; break;
                case 'i': ro->interactive = true; break;
                case 't': ro->tty = true; break;
                case O_RM: ro->rm = true; break;
                case O_NAME: ro->name = optarg; break;
                case 'e': env_add(arr(body, "Env"), optarg); break;
                case O_ENV_FILE:
                        /* docker: the files' variables come before those of -e */
                        if (read_env_file(optarg, file_env, msg, sizeof(msg)) < 0) {
                                *st = cli_usage_error(verb, msg);
                                return -1;
                        }
                        break;
                case O_MOUNT: {
                        char why[256];
                        if (!parse_mount(optarg, arr(hc, "Mounts"), why, sizeof(why))) {
                                snprintf(msg, sizeof(msg), "invalid argument \"%s\" for \"--mount\" flag: %s", optarg, why);
                                *st = cli_usage_error(verb, msg);
                                return -1;
                        }
                        break;
                }
                case O_LOG_DRIVER:
                        json_object_set_new(objkey(hc, "LogConfig"), "Type", json_string(optarg));
                        break;
                case O_LOG_OPT:
                        if (strchr(optarg, '=') == NULL) {
                                snprintf(msg, sizeof(msg), "invalid argument \"%s\" for \"--log-opt\" flag: invalid key value pair format in logging opts", optarg);
                                *st = cli_usage_error(verb, msg);
                                return -1;
                        }
                        set_kv(objkey(objkey(hc, "LogConfig"), "Config"), optarg);
                        break;
                case O_OOM_KILL_DISABLE: json_object_set_new(hc, "OomKillDisable", json_true()); break;
                case O_DETACH_KEYS:
                        if (cli_detach_keys(optarg, (unsigned char[16]){0}, 16) < 0) {
                                snprintf(msg, sizeof(msg), "Invalid detach keys (%s) provided", optarg);
                                *st = cli_usage_error(verb, msg);
                                return -1;
                        }
                        ro->detach_keys = optarg;
                        break;
                case 'w': json_object_set_new(body, "WorkingDir", json_string(optarg)); break;
                case 'u': json_object_set_new(body, "User", json_string(optarg)); break;
                case 'v': json_array_append_new(arr(hc, "Binds"), json_string(optarg)); break;
                case O_TMPFS: {
                        const char *colon = strchr(optarg, ':');
                        _cleanup_free_ char *p = colon ? strndup(optarg, (size_t)(colon - optarg))
                                                       : strdup(optarg);
                        json_object_set_new(objkey(hc, "Tmpfs"), p, json_string(colon ? colon + 1 : ""));
                        break;
                }
                case O_READ_ONLY: json_object_set_new(hc, "ReadonlyRootfs", json_true()); break;
                case 'm':
                case O_MEMORY_SWAP:
                case O_SHM_SIZE:
                case O_MEMORY_RESERVATION:
                case O_CPUS:
                case O_CPU_SHARES:
                case O_PIDS_LIMIT:
                case O_CPU_QUOTA:
                case O_CPU_PERIOD:
                case O_CPUSET_CPUS:
                case O_CPUSET_MEMS: {
                        const char *flag = long_name(c);
                        char why[300];
                        if (cli_resource_flag(flag, optarg, hc, why, sizeof(why)) < 0) {
                                snprintf(msg, sizeof(msg), "invalid argument \"%s\" for \"%s%s\" flag: %s",
                                         optarg, c == 'm' ? "-m, --" : "--", flag, why);
                                *st = cli_usage_error(verb, msg);
                                return -1;
                        }
                        break;
                }
                case O_STOP_TIMEOUT:
                        n = strtoll(optarg, &end, 10);
                        if (*end != '\0' || end == optarg) {
                                snprintf(msg, sizeof(msg), "invalid argument \"%s\" for \"--stop-timeout\" flag: strconv.ParseInt: parsing \"%s\": invalid syntax",
                                         optarg, optarg);
                                *st = cli_usage_error(verb, msg);
                                return -1;
                        }
                        json_object_set_new(body, "StopTimeout", json_integer(n));
                        break;
                case O_CAP_ADD: json_array_append_new(arr(hc, "CapAdd"), json_string(optarg)); break;
                case O_CAP_DROP: json_array_append_new(arr(hc, "CapDrop"), json_string(optarg)); break;
                case O_PRIVILEGED: json_object_set_new(hc, "Privileged", json_true()); break;
                case O_NETWORK: json_object_set_new(hc, "NetworkMode", json_string(optarg)); break;
                case 'p':
                        if (parse_publish(optarg, body, hc) < 0) {
                                snprintf(msg, sizeof(msg), "invalid argument \"%s\" for \"-p, --publish\" flag: invalid port specification", optarg);
                                *st = cli_usage_error(verb, msg);
                                return -1;
                        }
                        break;
                case 'P': json_object_set_new(hc, "PublishAllPorts", json_true()); break;
                case O_EXPOSE: {
                        char key[40];
                        snprintf(key, sizeof(key), "%s%s", optarg, strchr(optarg, '/') ? "" : "/tcp");
                        json_object_set_new(objkey(body, "ExposedPorts"), key, json_object());
                        break;
                }
                case O_DNS: json_array_append_new(arr(hc, "Dns"), json_string(optarg)); break;
                case O_DNS_SEARCH: json_array_append_new(arr(hc, "DnsSearch"), json_string(optarg)); break;
                case O_DNS_OPTION: json_array_append_new(arr(hc, "DnsOptions"), json_string(optarg)); break;
                case O_ADD_HOST: json_array_append_new(arr(hc, "ExtraHosts"), json_string(optarg)); break;
                case O_LINK: json_array_append_new(arr(hc, "Links"), json_string(optarg)); break;
                case O_DOMAIN: json_object_set_new(body, "Domainname", json_string(optarg)); break;
                case O_IP: case O_MAC: case O_NET_ALIAS: {
                        /* after the loop: --network may come later on the line */
                        json_t *pend = objkey(body, "_pending_ep");
                        if (c == O_NET_ALIAS)
                                json_array_append_new(arr(pend, "Aliases"), json_string(optarg));
                        else if (c == O_IP)
                                json_object_set_new(pend, "IPAMConfig", json_pack("{s:s}", "IPv4Address", optarg));
                        else
                                json_object_set_new(pend, "MacAddress", json_string(optarg));
                        break;
                }
                case 'h': json_object_set_new(body, "Hostname", json_string(optarg)); break;
                case O_ENTRYPOINT: json_object_set_new(body, "Entrypoint", json_pack("[s]", optarg)); break;
                case 'l': set_kv(objkey(body, "Labels"), optarg); break;
                case O_RESTART: {
                        const char *colon = strchr(optarg, ':');
                        _cleanup_free_ char *name = colon ? strndup(optarg, (size_t)(colon - optarg)) : strdup(optarg);
                        json_object_set_new(hc, "RestartPolicy", json_pack("{s:s,s:I}", "Name", name,
                                            "MaximumRetryCount", (json_int_t)(colon ? atoll(colon + 1) : 0)));
                        break;
                }
                case O_INIT: json_object_set_new(hc, "Init", json_true()); break;
                case O_HEALTH_CMD:
                        json_object_set_new(healthcheck(body), "Test",
                                            json_pack("[ss]", "CMD-SHELL", optarg));
                        break;
                case O_NO_HEALTHCHECK:
                        json_object_set_new(healthcheck(body), "Test", json_pack("[s]", "NONE"));
                        break;
                case O_HEALTH_RETRIES:
                        json_object_set_new(healthcheck(body), "Retries",
                                            json_integer(atoi(optarg)));
                        break;
                case O_HEALTH_INTERVAL:
                case O_HEALTH_TIMEOUT:
                case O_HEALTH_START_PERIOD:
                case O_HEALTH_START_INTERVAL: {
                        int64_t ns = 0;
                        const char *key = c == O_HEALTH_INTERVAL       ? "Interval"
                                          : c == O_HEALTH_TIMEOUT      ? "Timeout"
                                          : c == O_HEALTH_START_PERIOD ? "StartPeriod"
                                                                       : "StartInterval";
                        const char *flag = c == O_HEALTH_INTERVAL       ? "health-interval"
                                           : c == O_HEALTH_TIMEOUT      ? "health-timeout"
                                           : c == O_HEALTH_START_PERIOD ? "health-start-period"
                                                                        : "health-start-interval";
                        if (parse_duration(optarg, &ns) < 0) {
                                snprintf(msg, sizeof(msg),
                                         "invalid argument \"%s\" for \"--%s\" flag: time: "
                                         "invalid duration \"%s\"",
                                         optarg, flag, optarg);
                                *st = cli_usage_error(verb, msg);
                                return -1;
                        }
                        json_object_set_new(healthcheck(body), key, json_integer(ns));
                        break;
                }
                case O_STOP_SIGNAL: json_object_set_new(body, "StopSignal", json_string(optarg)); break;
                case O_ULIMIT:
                        if (parse_ulimit(optarg, arr(hc, "Ulimits")) < 0) {
                                snprintf(msg, sizeof(msg), "invalid argument \"%s\" for \"--ulimit\" flag: invalid ulimit argument: %s", optarg, optarg);
                                *st = cli_usage_error(verb, msg);
                                return -1;
                        }
                        break;
                case O_SYSCTL: set_kv(objkey(hc, "Sysctls"), optarg); break;
                case O_SECURITY_OPT: json_array_append_new(arr(hc, "SecurityOpt"), json_string(optarg)); break;
                case O_GROUP_ADD: json_array_append_new(arr(hc, "GroupAdd"), json_string(optarg)); break;
                case O_DEVICE: parse_device(optarg, arr(hc, "Devices")); break;
                case O_RUNTIME: json_object_set_new(hc, "Runtime", json_string(optarg)); break;
                case O_SIG_PROXY: break;
                case O_HELP:
                        printf("Usage:  gantry %s [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
                               "Flags as docker %s (see README): -d -i -t --rm --name -e -w -u -v --tmpfs\n"
                               "--read-only -m --memory-swap --cpus --cpu-shares --cpuset-cpus --pids-limit\n"
                               "--cap-add --cap-drop --privileged --network -h --entrypoint -l --restart --init\n"
                               "--stop-signal --stop-timeout --ulimit --sysctl --security-opt --shm-size\n"
                               "--group-add --device --runtime --cpu-quota --cpu-period --cpuset-mems\n"
                               "--memory-reservation --oom-kill-disable --log-driver --log-opt --mount\n"
                               "--env-file --detach-keys\n", verb, verb);
                        *st = 0;
                        return -1;
                case ':':
                        snprintf(msg, sizeof(msg), "flag needs an argument: %s", argv[optind - 1]);
                        *st = cli_usage_error(verb, msg);
                        return -1;
                default:
                        if (optopt != 0 && optopt < 256)
                                snprintf(msg, sizeof(msg), "unknown shorthand flag: '%c' in %s", optopt, argv[optind - 1]);
                        else
                                snprintf(msg, sizeof(msg), "unknown flag: %s", argv[optind - 1]);
                        *st = cli_usage_error(verb, msg);
                        return -1;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "\"gantry %s\" requires at least 1 argument.\nSee 'gantry %s --help'.\n\n"
                                "Usage:  gantry %s [OPTIONS] IMAGE [COMMAND] [ARG...]\n", verb, verb, verb);
                *st = 125;
                return -1;
        }
        if (json_array_size(file_env) > 0) {
                json_array_extend(file_env, json_object_get(body, "Env"));
                json_object_set(body, "Env", file_env);
        }
        json_object_set_new(body, "Image", json_string(argv[optind]));
        if (optind + 1 < argc) {
                json_t *cmd = json_array();
                for (int i = optind + 1; i < argc; i++)
                        json_array_append_new(cmd, json_string(argv[i]));
                json_object_set_new(body, "Cmd", cmd);
        }
        bool attach = strcmp(verb, "run") == 0 && !ro->detach;
        json_object_set_new(body, "AttachStdin", json_boolean(attach && ro->interactive));
        json_object_set_new(body, "AttachStdout", json_boolean(attach));
        json_object_set_new(body, "AttachStderr", json_boolean(attach));
        json_object_set_new(body, "Tty", json_boolean(ro->tty));
        json_object_set_new(body, "OpenStdin", json_boolean(ro->interactive));
        json_object_set_new(body, "StdinOnce", json_boolean(attach && ro->interactive));
        if (ro->rm)
                json_object_set_new(hc, "AutoRemove", json_true());
        if (json_object_get(hc, "NetworkMode") == NULL)
                json_object_set_new(hc, "NetworkMode", json_string("default"));
        json_t *pend = json_object_get(body, "_pending_ep");
        if (pend != NULL) {
                json_object_update(endpoint_cfg(body, hc), pend);
                json_object_del(body, "_pending_ep");
        }
        return 0;
}

/* docker's message names the reference with its tag. */
static void print_unable_to_find(const char *image)
{
        const char *slash = strrchr(image, '/');
        const char *last = slash ? slash + 1 : image;
        bool tagged = strchr(last, ':') != NULL || strchr(image, '@') != NULL;
        fprintf(stderr, "Unable to find image '%s%s' locally\n", image, tagged ? "" : ":latest");
}

/* POST /containers/create; prints errors; returns the id (malloc'd) or NULL with *st set. */
static char *create(const char *verb, struct run_opts *ro, json_t *body, int *st)
{
        struct cli_resp r;
        _cleanup_free_ char *path = NULL;
        if (ro->name != NULL) {
                _cleanup_free_ char *n = cli_escape(ro->name);
                if (asprintf(&path, "/containers/create?name=%s", n) < 0)
                        abort();
        } else {
                path = strdup("/containers/create");
        }
        *st = 125;
        if (cli_call("POST", path, body, &r) < 0)
                return NULL;
        if (r.status != 201 && r.status != 200) {
                const char *msg = cli_resp_message(&r);
                if (r.status == 404 && strncasecmp(msg, "No such image", 13) == 0)
                        print_unable_to_find(json_string_value(json_object_get(body, "Image")));
                fprintf(stderr, "gantry: Error response from daemon: %s\n\n"
                                "Run 'gantry %s --help' for more information\n", msg, verb);
                cli_resp_free(&r);
                return NULL;
        }
        _cleanup_jsonp_ json_t *j = json_loadb(r.body, r.len, 0, NULL);
        cli_resp_free(&r);
        const char *id = json_string_value(json_object_get(j, "Id"));
        if (id == NULL) {
                fprintf(stderr, "gantry: daemon answered create without an Id\n");
                return NULL;
        }
        json_t *w;
        size_t i;
        json_array_foreach(json_object_get(j, "Warnings"), i, w)
                if (json_is_string(w))
                        fprintf(stderr, "WARNING: %s\n", json_string_value(w));
        *st = 0;
        return strdup(id);
}

int cmd_create(int argc, char **argv)
{
        struct run_opts ro = {0};
        _cleanup_jsonp_ json_t *body = json_object();
        int st = 0;
        if (parse_run("create", argc, argv, &ro, body, &st) < 0)
                return st;
        _cleanup_free_ char *id = create("create", &ro, body, &st);
        if (id == NULL)
                return st;
        printf("%s\n", id);
        return 0;
}

int cmd_run(int argc, char **argv)
{
        struct run_opts ro = {0};
        _cleanup_jsonp_ json_t *body = json_object();
        int st = 0;
        if (parse_run("run", argc, argv, &ro, body, &st) < 0)
                return st;
        if (ro.tty && ro.interactive && !ro.detach && !isatty(STDIN_FILENO)) {
                fprintf(stderr, "the input device is not a TTY\n");
                return 1;
        }
        _cleanup_free_ char *id = create("run", &ro, body, &st);
        if (id == NULL)
                return st;
        if (ro.detach) {
                struct cli_resp r;
                char path[256];
                snprintf(path, sizeof(path), "/containers/%s/start", id);
                if (cli_call("POST", path, NULL, &r) < 0)
                        return 125;
                if (r.status >= 300 && r.status != 304) {
                        const char *msg = cli_resp_message(&r);
                        st = cli_start_error_status(msg);
                        fprintf(stderr, "gantry: Error response from daemon: %s\n\n"
                                        "Run 'gantry run --help' for more information\n", msg);
                        cli_resp_free(&r);
                        return st;
                }
                cli_resp_free(&r);
                printf("%s\n", id);
                return 0;
        }
        struct cli_attach_opts ao = {.id = id, .verb = "run", .tty = ro.tty,
                                     .stdin_open = ro.interactive, .auto_remove = ro.rm,
                                     .start = true, .detach_keys = ro.detach_keys};
        return cli_attach_run(&ao);
}
