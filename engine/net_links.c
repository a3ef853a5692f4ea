/* dockerd's legacy links on the default bridge: checks at create and start, the /etc/hosts lines
 * and environment a link gives, HostConfig.Links as inspect shows it. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "engine/engine_internal.h"
#include "engine/net_internal.h"

static const char *str(json_t *o, const char *k)
{
        return json_string_value(json_object_get(o, k));
}

/* Whether config's container is on the default bridge, the one network where links do more
 * than name an alias for the resolver. */
static bool on_default_bridge(json_t *config)
{
        const char *nm = str(json_object_get(config, "HostConfig"), "NetworkMode");
        return nm == NULL || *nm == '\0' || strcmp(nm, "default") == 0 || strcmp(nm, "bridge") == 0;
}

/* "name[:alias]" split as dockerd's opts.ParseLink: the alias is the name when absent. */
static bool parse_link(const char *l, char *name, size_t nlen, char *alias, size_t alen)
{
        if (l == NULL || *l == '\0')
                return false;
        const char *colon = strchr(l, ':');
        size_t n = colon ? (size_t)(colon - l) : strlen(l);
        if (*l == '/') {
                l++;
                n--;
        }
        if (n == 0 || n >= nlen)
                return false;
        snprintf(name, nlen, "%.*s", (int)n, l);
        const char *a = colon ? colon + 1 : name;
        if (*a == '/')
                a++;
        if (*a == '\0')
                return false;
        snprintf(alias, alen, "%s", a);
        return true;
}

int eng_links_validate(struct eng *e, json_t *config, struct gerr **err)
{
        json_t *links = json_object_get(json_object_get(config, "HostConfig"), "Links");
        if (json_array_size(links) == 0 || !on_default_bridge(config))
                return 0;
        size_t i;
        json_t *v;
        int r = 0;
        pthread_mutex_lock(&e->lock);
        json_array_foreach (links, i, v) {
                char name[256], alias[256];
                if (!parse_link(json_string_value(v), name, sizeof(name), alias, sizeof(alias))) {
                        r = eng_err(err, EINVAL, "invalid link format: %s",
                                    json_string_value(v) ?: "");
                        break;
                }
                struct eng_ctr *t = NULL;
                if (eng_ctr_find(e, name, &t, NULL) < 0) {
                        r = eng_err(err, EINVAL,
                                    "could not get container for %s: No such container: %s", name,
                                    name);
                        break;
                }
                const char *tn = str(json_object_get(t->config, "HostConfig"), "NetworkMode");
                eng_ctr_unref(t);
                if (tn && strcmp(tn, "host") == 0) {
                        r = eng_err(err, EINVAL,
                                    "conflicting options: host type networking can't be used "
                                    "with links. This would result in undefined behavior");
                        break;
                }
        }
        pthread_mutex_unlock(&e->lock);
        return r;
}

struct port {
        int num;
        char proto[8];
};

static int port_cmp(const void *a, const void *b)
{
        const struct port *x = a, *y = b;
        if (x->num != y->num)
                return x->num - y->num;
        /* dockerd's nat.Sort: tcp first for one number */
        return strcmp(x->proto, "tcp") == 0 ? -1 : strcmp(y->proto, "tcp") == 0 ? 1 : 0;
}

static void add_env(json_t *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_env(json_t *env, const char *fmt, ...)
{
        char buf[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        json_array_append_new(env, json_string(buf));
}

/* The variables of one link, in the order of dockerd's links.Link.ToEnv. */
static void link_env(json_t *env, const char *alias, const char *link_name, const char *ip,
                     json_t *exposed, json_t *child_env)
{
        char A[256];
        size_t k = 0;
        for (; alias[k] && k < sizeof(A) - 1; k++)
                A[k] = alias[k] == '-' ? '_' : (char)toupper((unsigned char)alias[k]);
        A[k] = '\0';
        size_t np = json_object_size(exposed), n = 0;
        _cleanup_free_ struct port *p = calloc(np + 1, sizeof(*p));
        const char *key;
        json_t *v;
        json_object_foreach (exposed, key, v) {
                if (p == NULL)
                        break;
                const char *slash = strchr(key, '/');
                p[n].num = atoi(key);
                snprintf(p[n].proto, sizeof(p[n].proto), "%s", slash ? slash + 1 : "tcp");
                if (p[n].num > 0)
                        n++;
        }
        if (n > 0) {
                qsort(p, n, sizeof(*p), port_cmp);
                add_env(env, "%s_PORT=%s://%s:%d", A, p[0].proto, ip, p[0].num);
        }
        /* Runs of consecutive ports of one protocol also get _START/_END variables. */
        for (size_t i = 0; i < n;) {
                size_t j = i;
                while (j + 1 < n && p[j + 1].num == p[j].num + 1 &&
                       strcmp(p[j + 1].proto, p[i].proto) == 0)
                        j++;
                if (j > i) {
                        char U[8];
                        size_t q = 0;
                        for (; p[i].proto[q] && q < sizeof(U) - 1; q++)
                                U[q] = (char)toupper((unsigned char)p[i].proto[q]);
                        U[q] = '\0';
                        add_env(env, "%s_PORT_%d_%s_START=%s://%s:%d", A, p[i].num, U, p[i].proto,
                                ip, p[i].num);
                        add_env(env, "%s_PORT_%d_%s_ADDR=%s", A, p[i].num, U, ip);
                        add_env(env, "%s_PORT_%d_%s_PORT_START=%d", A, p[i].num, U, p[i].num);
                        add_env(env, "%s_PORT_%d_%s_PORT_END=%d", A, p[i].num, U, p[j].num);
                }
                i = j + 1;
        }
        for (size_t i = 0; i < n; i++) {
                char U[8];
                size_t q = 0;
                for (; p[i].proto[q] && q < sizeof(U) - 1; q++)
                        U[q] = (char)toupper((unsigned char)p[i].proto[q]);
                U[q] = '\0';
                add_env(env, "%s_PORT_%d_%s=%s://%s:%d", A, p[i].num, U, p[i].proto, ip, p[i].num);
                add_env(env, "%s_PORT_%d_%s_ADDR=%s", A, p[i].num, U, ip);
                add_env(env, "%s_PORT_%d_%s_PORT=%d", A, p[i].num, U, p[i].num);
                add_env(env, "%s_PORT_%d_%s_PROTO=%s", A, p[i].num, U, p[i].proto);
        }
        add_env(env, "%s_NAME=%s", A, link_name);
        size_t i;
        json_array_foreach (child_env, i, v) {
                const char *kv = json_string_value(v);
                const char *eq = kv ? strchr(kv, '=') : NULL;
                if (eq == NULL)
                        continue;
                size_t kl = (size_t)(eq - kv);
                /* dockerd leaves out what a build sets for every image */
                if ((kl == 4 && strncmp(kv, "HOME", 4) == 0) ||
                    (kl == 4 && strncmp(kv, "PATH", 4) == 0))
                        continue;
                add_env(env, "%s_ENV_%.*s=%s", A, (int)kl, kv, eq + 1);
        }
}

int eng_links_prepare(struct eng *e, struct eng_ctr *c, struct gerr **err)
{
        pthread_mutex_lock(&e->lock);
        json_t *config = c->config;
        json_t *links = json_object_get(json_object_get(config, "HostConfig"), "Links");
        bool had = json_object_get(config, LINK_ENV_KEY) != NULL;
        json_object_del(config, LINK_ENV_KEY);
        json_object_del(config, LINK_HOSTS_KEY);
        if (json_array_size(links) == 0 || !on_default_bridge(config)) {
                pthread_mutex_unlock(&e->lock);
                return had ? 1 : 0;
        }
        json_t *env = json_array(), *hosts = json_array();
        int r = 0;
        size_t i;
        json_t *v;
        json_array_foreach (links, i, v) {
                char name[256], alias[256];
                if (!parse_link(json_string_value(v), name, sizeof(name), alias, sizeof(alias)))
                        continue;
                char link_name[600];
                snprintf(link_name, sizeof(link_name), "/%s/%s", c->name, alias);
                struct eng_ctr *t = NULL;
                if (eng_ctr_find(e, name, &t, NULL) < 0) {
                        r = eng_err(err, EINVAL,
                                    "could not get container for %s: No such container: %s", name,
                                    name);
                        break;
                }
                json_t *tep = json_object_get(json_object_get(t->config, "_Endpoints"), "bridge");
                const char *ip = str(tep, "IPAddress");
                if (!t->running) {
                        r = eng_err(err, EINVAL,
                                    "Cannot link to a non running container: /%s AS %s", t->name,
                                    link_name);
                } else if (ip == NULL || *ip == '\0') {
                        r = eng_err(err, EINVAL,
                                    "container %s not attached to default bridge network", t->id);
                } else {
                        link_env(env, alias, link_name, ip,
                                 json_object_get(t->config, "ExposedPorts"),
                                 json_object_get(t->config, "Env"));
                        /* The alias, the target's hostname, and its name when not the alias. */
                        char line[1024];
                        const char *hn = str(t->config, "Hostname") ?: "";
                        int len = snprintf(line, sizeof(line), "%s\t%s %s", ip, alias, hn);
                        if (strcmp(alias, t->name) != 0 && len > 0 && (size_t)len < sizeof(line))
                                snprintf(line + len, sizeof(line) - (size_t)len, " %s", t->name);
                        json_array_append_new(hosts, json_string(line));
                }
                eng_ctr_unref(t);
                if (r < 0)
                        break;
        }
        if (r >= 0) {
                json_object_set_new(config, LINK_ENV_KEY, env);
                json_object_set_new(config, LINK_HOSTS_KEY, hosts);
        } else {
                json_decref(env);
                json_decref(hosts);
        }
        pthread_mutex_unlock(&e->lock);
        return r < 0 ? r : 1;
}

json_t *eng_links_inspect(struct eng *e, const struct eng_ctr *c)
{
        json_t *links = json_object_get(json_object_get(c->config, "HostConfig"), "Links");
        if (!json_is_array(links))
                return json_null();
        json_t *out = json_array();
        size_t i;
        json_t *v;
        json_array_foreach (links, i, v) {
                char name[256], alias[256], buf[800];
                if (!parse_link(json_string_value(v), name, sizeof(name), alias, sizeof(alias)))
                        continue;
                /* The target's current name, as dockerd's link index gives it. */
                struct eng_ctr *t = NULL;
                const char *tn = name;
                if (eng_ctr_find(e, name, &t, NULL) == 0)
                        tn = t->name;
                snprintf(buf, sizeof(buf), "/%s:/%s/%s", tn, c->name, alias);
                eng_ctr_unref(t);
                json_array_append_new(out, json_string(buf));
        }
        return out;
}
