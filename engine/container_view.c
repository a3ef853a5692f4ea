/* Containers as the Docker API shows them: inspect and list (with filters). */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "engine/engine_internal.h"
#include "engine/net_internal.h"
#include "image/image.h"

static const char *const config_keys[] = {
        "Hostname",   "Domainname", "User",       "AttachStdin", "AttachStdout", "AttachStderr",
        "ExposedPorts", "Tty",      "OpenStdin",  "StdinOnce",   "Env",          "Cmd",
        "Healthcheck", "ArgsEscaped", "Image",    "Volumes",     "WorkingDir",   "Entrypoint",
        "NetworkDisabled", "MacAddress", "OnBuild", "Labels",    "StopSignal",   "StopTimeout",
        "Shell",
};

static const char *status_of(const struct eng_ctr *c)
{
        if (c->removing)
                return "removing";
        if (c->paused)
                return "paused";
        if (c->running)
                return "running";
        if (c->restarting)
                return "restarting";
        return c->status;
}

static json_t *mounts_of(json_t *hc)
{
        json_t *out = json_array();
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(hc, "Binds"), i, v) {
                const char *s = json_string_value(v);
                if (s == NULL)
                        continue;
                _cleanup_free_ char *copy = strdup(s);
                char *src = copy, *dst = strchr(copy, ':'), *mode = NULL;
                if (dst == NULL)
                        continue;
                *dst++ = '\0';
                if ((mode = strchr(dst, ':')) != NULL)
                        *mode++ = '\0';
                bool ro = mode && strstr(mode, "ro") && !strstr(mode, "rw");
                json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type",
                                                     "bind", "Source", src, "Destination", dst,
                                                     "Mode", mode ? mode : "", "RW", !ro,
                                                     "Propagation", "rprivate"));
        }
        /* --mount: binds and tmpfs, as dockerd lists them (Mode empty; a tmpfs has no source
         * nor propagation). --tmpfs (HostConfig.Tmpfs) is not listed, as in dockerd. */
        json_array_foreach (json_object_get(hc, "Mounts"), i, v) {
                const char *type = json_string_value(json_object_get(v, "Type"));
                const char *src = json_string_value(json_object_get(v, "Source"));
                const char *dst = json_string_value(json_object_get(v, "Target"));
                bool bind = type && strcmp(type, "bind") == 0;
                if (dst == NULL || type == NULL || (!bind && strcmp(type, "tmpfs") != 0))
                        continue;
                json_array_append_new(
                        out, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", type, "Source",
                                       bind && src ? src : "", "Destination", dst, "Mode", "",
                                       "RW", !json_is_true(json_object_get(v, "ReadOnly")),
                                       "Propagation", bind ? "rprivate" : ""));
        }
        return out;
}

static char *ctr_path(struct eng *e, const char *id, const char *name)
{
        char *s = NULL;
        return asprintf(&s, "%s/%s/%s", e->containers_dir, id, name) < 0 ? NULL : s;
}

json_t *eng_ctr_inspect_json(struct eng *e, const struct eng_ctr *c)
{
        json_t *cfg = c->config, *hc = json_object_get(cfg, "HostConfig");
        _cleanup_json_ json_t *cmd = eng_spec_command(cfg);
        json_t *args = json_array();
        for (size_t i = 1; i < json_array_size(cmd); i++)
                json_array_append(args, json_array_get(cmd, i));
        json_t *config = json_object();
        for (size_t k = 0; k < ARRAY_SIZE(config_keys); k++) {
                json_t *v = json_object_get(cfg, config_keys[k]);
                if (v)
                        json_object_set(config, config_keys[k], v);
        }
        if (json_object_get(config, "Volumes") == NULL)
                json_object_set_new(config, "Volumes", json_null());
        _cleanup_free_ char *resolv = ctr_path(e, c->id, "resolv.conf");
        _cleanup_free_ char *hostname = ctr_path(e, c->id, "hostname");
        _cleanup_free_ char *hosts = ctr_path(e, c->id, "hosts");
        _cleanup_free_ char *logp = eng_ctr_log_path(e, c->id);
        /* dockerd: no LogPath for a driver that keeps no file (none). */
        struct eng_log_config lcfg;
        bool log_kept =
            eng_log_config_get(json_object_get(c->config, "HostConfig"), &lcfg, NULL) < 0 ||
            !lcfg.none;
        _cleanup_free_ char *merged = ctr_path(e, c->id, "rootfs");
        _cleanup_free_ char *upper = ctr_path(e, c->id, "upper");
        _cleanup_free_ char *work = ctr_path(e, c->id, "work");
        char name[300];
        snprintf(name, sizeof(name), "/%s", c->name);
        json_t *state = json_pack(
                "{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:s, s:s}", "Status", status_of(c),
                "Running", c->running, "Paused", c->paused, "Restarting", c->restarting,
                "OOMKilled", c->oom_killed, "Dead", c->dead, "Pid", c->running ? (int)c->pid : 0,
                "ExitCode", c->exit_code, "Error", c->error ? c->error : "", "StartedAt",
                c->started_at[0] ? c->started_at : "0001-01-01T00:00:00Z", "FinishedAt",
                c->finished_at[0] ? c->finished_at : "0001-01-01T00:00:00Z");
        if (c->health != NULL)
                json_object_set(state, "Health", c->health);
        json_t *netset = eng_net_settings(e, c);
        /* Links as dockerd shows them: "/target:/container/alias". */
        _cleanup_json_ json_t *hcv = json_copy(hc);
        if (hcv && json_array_size(json_object_get(hc, "Links")) > 0) {
                json_object_set_new(hcv, "Links", eng_links_inspect(e, c));
                hc = hcv;
        }
        return json_pack(
                "{s:s, s:s, s:O, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s,"
                " s:s, s:s, s:o, s:O, s:{s:{s:s, s:s, s:s}, s:s}, s:o, s:o, s:o}",
                "Id", c->id, "Created", c->created, "Path",
                json_array_size(cmd) ? json_array_get(cmd, 0) : json_string(""), "Args", args,
                "State", state, "Image", c->image_id, "ResolvConfPath", resolv, "HostnamePath",
                hostname, "HostsPath", hosts, "LogPath", log_kept ? logp : "", "Name", name,
                "RestartCount", c->restart_count, "Driver", "overlay2", "Platform", "linux",
                "MountLabel", "", "ProcessLabel", "", "AppArmorProfile", "", "ExecIDs",
                eng_exec_ids(e, c->id), "HostConfig", hc, "GraphDriver", "Data", "MergedDir",
                merged, "UpperDir", upper, "WorkDir", work, "Name", "overlay2", "Mounts",
                mounts_of(hc), "Config", config,
                "NetworkSettings", netset);
}

int eng_container_inspect(struct eng *e, const char *ref, json_t **out, struct gerr **err)
{
        struct eng_ctr *c = NULL;
        pthread_mutex_lock(&e->lock);
        int r = eng_ctr_find(e, ref, &c, err);
        json_t *j = r >= 0 ? eng_ctr_inspect_json(e, c) : NULL;
        char *image_id = r >= 0 ? strdup(c->image_id) : NULL;
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        if (r < 0)
                return r;
        if (j == NULL) {
                free(image_id);
                return gerr_set(err, ENOMEM, "inspect %s", ref);
        }
        /* The image store has its own lock: query it without ours. */
        _cleanup_strv_ char **layers = NULL;
        if (img_layer_dirs(e->images, image_id, &layers, NULL) == 0) {
                size_t len = 1;
                for (char **l = layers; *l; l++)
                        len += strlen(*l) + 1;
                _cleanup_free_ char *lower = calloc(1, len);
                for (char **l = layers; lower && *l; l++) {
                        if (l != layers)
                                strcat(lower, ":");
                        strcat(lower, *l);
                }
                json_object_set_new(json_object_get(json_object_get(j, "GraphDriver"), "Data"),
                                    "LowerDir", json_string(lower ? lower : ""));
        }
        free(image_id);
        *out = j;
        return 0;
}

/* ---- list ---- */

static long long parse_time(const char *s)
{
        struct tm tm = {0};
        if (s == NULL || strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
                return 0;
        return (long long)timegm(&tm);
}

/* go-units HumanDuration, which `docker ps` shows. */
static void human_duration(long long secs, char *buf, size_t n)
{
        long long minutes = secs / 60, hours = (secs + 1800) / 3600;
        if (secs < 1)
                snprintf(buf, n, "Less than a second");
        else if (secs == 1)
                snprintf(buf, n, "1 second");
        else if (secs < 60)
                snprintf(buf, n, "%lld seconds", secs);
        else if (minutes == 1)
                snprintf(buf, n, "About a minute");
        else if (minutes < 60)
                snprintf(buf, n, "%lld minutes", minutes);
        else if (hours == 1)
                snprintf(buf, n, "About an hour");
        else if (hours < 48)
                snprintf(buf, n, "%lld hours", hours);
        else if (hours < 24 * 7 * 2)
                snprintf(buf, n, "%lld days", hours / 24);
        else if (hours < 24 * 30 * 2)
                snprintf(buf, n, "%lld weeks", hours / 24 / 7);
        else if (hours < 24 * 365 * 2)
                snprintf(buf, n, "%lld months", hours / 24 / 30);
        else
                snprintf(buf, n, "%lld years", hours / 24 / 365);
}

static void status_text(const struct eng_ctr *c, char *buf, size_t n)
{
        long long now = (long long)time(NULL);
        char d[64];
        if (c->removing) {
                snprintf(buf, n, "Removal In Progress");
        } else if (c->running) {
                human_duration(now - parse_time(c->started_at), d, sizeof(d));
                const char *h = json_string_value(json_object_get(c->health, "Status"));
                char hs[40] = "";
                if (h != NULL && strcmp(h, "starting") == 0)
                        snprintf(hs, sizeof(hs), " (health: starting)");
                else if (h != NULL)
                        snprintf(hs, sizeof(hs), " (%s)", h);
                snprintf(buf, n, "Up %s%s", d, c->paused ? " (Paused)" : hs);
        } else if (c->restarting) {
                human_duration(now - parse_time(c->finished_at), d, sizeof(d));
                snprintf(buf, n, "Restarting (%d) %s ago", c->exit_code, d);
        } else if (strcmp(c->status, "exited") == 0) {
                human_duration(now - parse_time(c->finished_at), d, sizeof(d));
                snprintf(buf, n, "Exited (%d) %s ago", c->exit_code, d);
        } else if (c->dead) {
                snprintf(buf, n, "Dead");
        } else {
                snprintf(buf, n, "Created");
        }
}

/* Docker filter values: {"k":{"v":true}} or {"k":["v"]}; calls fn on each value, any match. */
typedef bool (*match_fn)(const struct eng_ctr *c, const char *value, void *arg);
static bool filter_any(json_t *filters, const char *key, const struct eng_ctr *c, match_fn fn,
                       void *arg)
{
        json_t *f = json_object_get(filters, key);
        if (f == NULL)
                return true;
        const char *k;
        json_t *v;
        size_t i;
        if (json_is_object(f)) {
                json_object_foreach (f, k, v)
                        if (fn(c, k, arg))
                                return true;
        } else if (json_is_array(f)) {
                json_array_foreach (f, i, v)
                        if (json_is_string(v) && fn(c, json_string_value(v), arg))
                                return true;
        } else {
                return true;
        }
        return false;
}

static bool m_status(const struct eng_ctr *c, const char *v, void *arg)
{
        return strcmp(status_of(c), v) == 0;
}

static bool m_id(const struct eng_ctr *c, const char *v, void *arg)
{
        return strncmp(c->id, v, strlen(v)) == 0;
}

static bool m_name(const struct eng_ctr *c, const char *v, void *arg)
{
        regex_t re;
        if (regcomp(&re, v[0] == '/' ? v + 1 : v, REG_EXTENDED | REG_NOSUB) != 0)
                return strstr(c->name, v) != NULL;
        bool hit = regexec(&re, c->name, 0, NULL, 0) == 0;
        regfree(&re);
        return hit;
}

static bool m_label(const struct eng_ctr *c, const char *v, void *arg)
{
        json_t *labels = json_object_get(c->config, "Labels");
        const char *eq = strchr(v, '=');
        if (eq == NULL)
                return json_object_get(labels, v) != NULL;
        _cleanup_free_ char *k = strndup(v, (size_t)(eq - v));
        const char *have = json_string_value(json_object_get(labels, k));
        return have && strcmp(have, eq + 1) == 0;
}

static bool m_exited(const struct eng_ctr *c, const char *v, void *arg)
{
        return strcmp(c->status, "exited") == 0 && !c->running && atoi(v) == c->exit_code;
}

static bool m_ancestor(const struct eng_ctr *c, const char *v, void *arg)
{
        json_t *resolved = arg; /* value -> image id */
        const char *id = json_string_value(json_object_get(resolved, v));
        return strcmp(c->image_ref, v) == 0 || (id && strcmp(c->image_id, id) == 0);
}

static bool m_health(const struct eng_ctr *c, const char *v, void *arg)
{
        const char *h = json_string_value(json_object_get(c->health, "Status"));
        return strcmp(h ? h : "none", v) == 0;
}

static bool m_network(const struct eng_ctr *c, const char *v, void *arg)
{
        json_t *nets = json_object_get(json_object_get(arg, c->id), "Networks");
        if (json_object_get(nets, v) != NULL)
                return true;
        const char *k;
        json_t *n;
        json_object_foreach(nets, k, n)
        {
                const char *nid = json_string_value(json_object_get(n, "NetworkID"));
                if (nid != NULL && *v != '\0' && strncmp(nid, v, strlen(v)) == 0)
                        return true;
        }
        return false;
}

static bool m_volume(const struct eng_ctr *c, const char *v, void *arg)
{
        _cleanup_json_ json_t *mounts = mounts_of(json_object_get(c->config, "HostConfig"));
        size_t i;
        json_t *m;
        json_array_foreach(mounts, i, m)
        {
                const char *name = json_string_value(json_object_get(m, "Name"));
                const char *src = json_string_value(json_object_get(m, "Source"));
                const char *dst = json_string_value(json_object_get(m, "Destination"));
                if ((name && strcmp(name, v) == 0) || (!name && src && strcmp(src, v) == 0) ||
                    (dst && strcmp(dst, v) == 0))
                        return true;
        }
        return false;
}

/* A publish/expose value: "80", "80/udp", "8000-8080[/proto]" (dockerd's portOp). */
struct port_range {
        unsigned long lo, hi;
        char proto[16];
};

/* One bound of a port range as Go's strconv.ParseUint(s, 10, 16); the reason on failure. */
static const char *port_parse(const char *s, unsigned long *out)
{
        if (*s == '\0' || strspn(s, "0123456789") != strlen(s))
                return "invalid syntax";
        errno = 0;
        *out = strtoul(s, NULL, 10);
        return errno != 0 || *out > 65535 ? "value out of range" : NULL;
}

static int port_range_parse(const char *key, const char *v, struct port_range *pr,
                            struct gerr **err)
{
        if (strchr(v, ':') != NULL)
                return eng_err(err, EINVAL, "filter for '%s' should not contain ':': %s", key, v);
        const char *slash = strchr(v, '/');
        snprintf(pr->proto, sizeof(pr->proto), "%s", slash ? slash + 1 : "tcp");
        _cleanup_free_ char *num = strndup(v, slash ? (size_t)(slash - v) : strlen(v));
        if (num == NULL)
                return gerr_set(err, ENOMEM, "filter");
        if (*num == '\0')
                return eng_err(err, EINVAL,
                               "error while looking up for %s %s: Empty string "
                               "specified for ports.",
                               key, v);
        /* nat.ParsePortRange: "N" or "N-M", each a 16-bit number, M >= N. */
        char *dash = strchr(num, '-');
        if (dash != NULL)
                *dash = '\0';
        const char *bad = NULL, *what = num;
        if ((bad = port_parse(num, &pr->lo)) == NULL) {
                pr->hi = pr->lo;
                if (dash != NULL && (bad = port_parse(dash + 1, &pr->hi)) != NULL)
                        what = dash + 1;
        }
        if (bad != NULL)
                return eng_err(err, EINVAL,
                               "error while looking up for %s %s: strconv.ParseUint: parsing "
                               "\"%s\": %s",
                               key, v, what, bad);
        if (pr->hi < pr->lo)
                return eng_err(err, EINVAL,
                               "error while looking up for %s %s: Invalid range specified for "
                               "the Port: %.*s",
                               key, v, (int)(slash ? slash - v : (long)strlen(v)), v);
        return 0;
}

/* Any "port/proto" key of ports inside the filter value's range. */
static bool ports_match(json_t *ports, const char *v)
{
        struct port_range pr;
        if (port_range_parse("", v, &pr, NULL) < 0)
                return false;
        const char *k;
        json_t *x;
        json_object_foreach(ports, k, x)
        {
                char *end = NULL;
                unsigned long p = strtoul(k, &end, 10);
                const char *proto = *end == '/' ? end + 1 : "tcp";
                if (p >= pr.lo && p <= pr.hi && strcmp(proto, pr.proto) == 0)
                        return true;
        }
        return false;
}

static bool m_publish(const struct eng_ctr *c, const char *v, void *arg)
{
        json_t *hc = json_object_get(c->config, "HostConfig");
        return ports_match(json_object_get(hc, "PortBindings"), v);
}

static bool m_expose(const struct eng_ctr *c, const char *v, void *arg)
{
        return ports_match(json_object_get(c->config, "ExposedPorts"), v);
}

static void keys_of(json_t *f, json_t *out)
{
        const char *k;
        json_t *v;
        size_t i;
        if (json_is_object(f))
                json_object_foreach (f, k, v)
                        json_array_append_new(out, json_string(k));
        else
                json_array_foreach (f, i, v)
                        json_array_append(out, v);
}

int eng_container_list(struct eng *e, bool all, json_t *filters, json_t **out,
                       struct gerr **err)
{
        /* Resolve ancestors first: the image store is not called under our lock. */
        _cleanup_json_ json_t *ancestors = json_object();
        _cleanup_json_ json_t *avals = json_array();
        keys_of(json_object_get(filters, "ancestor"), avals);
        size_t i;
        json_t *v;
        json_array_foreach (avals, i, v) {
                _cleanup_free_ char *id = NULL;
                if (json_is_string(v) &&
                    img_resolve(e->images, json_string_value(v), &id, NULL) == 0)
                        json_object_set_new(ancestors, json_string_value(v), json_string(id));
        }
        if (json_object_get(filters, "status") || json_object_get(filters, "exited"))
                all = true;
        /* Values checked before any container is, as dockerd's foldFilter does. */
        _cleanup_json_ json_t *fv = json_array();
        keys_of(json_object_get(filters, "health"), fv);
        json_array_foreach(fv, i, v)
        {
                const char *h = json_string_value(v) ?: "";
                if (strcmp(h, "starting") != 0 && strcmp(h, "healthy") != 0 &&
                    strcmp(h, "unhealthy") != 0 && strcmp(h, "none") != 0)
                        return eng_err(err, EINVAL, "Unrecognised filter value for health: %s", h);
        }
        static const char *const port_keys[] = {"publish", "expose"};
        for (size_t k = 0; k < 2; k++) {
                json_array_clear(fv);
                keys_of(json_object_get(filters, port_keys[k]), fv);
                struct port_range pr;
                json_array_foreach(fv, i,
                                   v) if (port_range_parse(port_keys[k], json_string_value(v) ?: "",
                                                           &pr, err) < 0) return -EINVAL;
        }
        json_t *list = json_array();
        pthread_mutex_lock(&e->lock);
        /* before/since: by creation, which is the list's order (newest first). */
        const struct eng_ctr *bound[2] = {NULL, NULL};
        static const char *const bound_keys[] = {"before", "since"};
        for (size_t k = 0; k < 2; k++) {
                json_array_clear(fv);
                keys_of(json_object_get(filters, bound_keys[k]), fv);
                json_array_foreach(fv, i, v)
                {
                        struct eng_ctr *b = NULL;
                        int r = eng_ctr_find(e, json_string_value(v) ?: "", &b, err);
                        if (r < 0) {
                                pthread_mutex_unlock(&e->lock);
                                json_decref(list);
                                return r;
                        }
                        bound[k] = b;
                        eng_ctr_unref(b); /* e->ctrs keeps it while the lock is held */
                }
        }
        /* network: each container's networks, read once. */
        _cleanup_json_ json_t *nets = json_object();
        if (json_object_get(filters, "network") != NULL)
                for (struct eng_ctr *c = e->ctrs; c; c = c->next)
                        json_object_set_new(nets, c->id, eng_net_settings(e, c));
        bool before_seen = false, since_seen = false;
        for (struct eng_ctr *c = e->ctrs; c; c = c->next) {
                if (c == bound[1])
                        since_seen = true;
                bool older = before_seen;
                if (c == bound[0])
                        before_seen = true;
                if ((bound[0] && !older) || (bound[1] && since_seen))
                        continue;
                if (!all && !c->running)
                        continue;
                if (!filter_any(filters, "health", c, m_health, NULL) ||
                    !filter_any(filters, "network", c, m_network, nets) ||
                    !filter_any(filters, "volume", c, m_volume, NULL) ||
                    !filter_any(filters, "publish", c, m_publish, NULL) ||
                    !filter_any(filters, "expose", c, m_expose, NULL) ||
                    !filter_any(filters, "status", c, m_status, NULL) ||
                    !filter_any(filters, "id", c, m_id, NULL) ||
                    !filter_any(filters, "name", c, m_name, NULL) ||
                    !filter_any(filters, "exited", c, m_exited, NULL) ||
                    !filter_any(filters, "ancestor", c, m_ancestor, ancestors))
                        continue;
                /* docker ps requires every label filter, not any. */
                json_t *lf = json_object_get(filters, "label");
                _cleanup_json_ json_t *lv = json_array();
                keys_of(lf, lv);
                bool labels_ok = true;
                json_array_foreach (lv, i, v)
                        labels_ok = labels_ok && m_label(c, json_string_value(v) ?: "", NULL);
                if (!labels_ok)
                        continue;
                _cleanup_json_ json_t *cmd = eng_spec_command(c->config);
                char *command = NULL;
                size_t clen = 0;
                FILE *f = open_memstream(&command, &clen);
                /* dockerd: Path, then the args, those holding a space in single quotes. */
                json_array_foreach (cmd, i, v) {
                        const char *a = json_string_value(v) ?: "";
                        bool quote = i > 0 && strchr(a, ' ') != NULL;
                        fprintf(f, i ? (quote ? " '%s'" : " %s") : "%s", a);
                }
                fclose(f);
                char status[128], name[300];
                status_text(c, status, sizeof(status));
                snprintf(name, sizeof(name), "/%s", c->name);
                json_t *hc = json_object_get(c->config, "HostConfig");
                json_t *ns = eng_net_settings(e, c);
                json_t *labels = json_object_get(c->config, "Labels");
                labels = json_is_object(labels) ? json_incref(labels) : json_object();
                json_array_append_new(
                        list,
                        json_pack("{s:s, s:[s], s:s, s:s, s:s, s:I, s:o, s:o, s:s, s:s,"
                                  " s:{s:s}, s:{s:o}, s:o}",
                                  "Id", c->id, "Names", name, "Image", c->image_ref, "ImageID",
                                  c->image_id, "Command", command ? command : "", "Created",
                                  (json_int_t)parse_time(c->created), "Ports", eng_net_ps_ports(c), "Labels",
                                  labels, "State", status_of(c),
                                  "Status", status, "HostConfig", "NetworkMode",
                                  json_string_value(json_object_get(hc, "NetworkMode")) ?: "bridge",
                                  "NetworkSettings", "Networks",
                                  json_incref(json_object_get(ns, "Networks")), "Mounts",
                                  mounts_of(hc)));
                json_decref(ns);
                free(command);
        }
        pthread_mutex_unlock(&e->lock);
        *out = list;
        return 0;
}

int eng_container_resolve(struct eng *e, const char *ref, char **id_out, struct gerr **err)
{
        struct eng_ctr *c = NULL;
        pthread_mutex_lock(&e->lock);
        int r = eng_ctr_find(e, ref, &c, err);
        if (r >= 0) {
                *id_out = strdup(c->id);
                eng_ctr_unref(c);
        }
        pthread_mutex_unlock(&e->lock);
        return r;
}
