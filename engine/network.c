/* Networks: records in the db, the built-in bridge/host/none, create/list/inspect/remove/prune, the rule set. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/db.h"
#include "common/filters.h"
#include "common/log.h"
#include "common/timeparse.h"
#include "engine/engine_internal.h"
#include "engine/net_internal.h"

/* Fixed ids, as dockerd gives each built-in network one id for its lifetime. */
#define HOST_ID "6f8a0b1c2d3e4f5061728394a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e"
#define NONE_ID "0e1d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100ff"

bool eng_net_is_sublink(const struct eng_net *n)
{
        return strcmp(n->driver, "macvlan") == 0 || strcmp(n->driver, "ipvlan") == 0;
}

bool eng_net_has_ipam(const struct eng_net *n)
{
        return strcmp(n->driver, "bridge") == 0 || eng_net_is_sublink(n);
}

static void net_free(struct eng_net *n)
{
        if (n == NULL)
                return;
        net_fast_close(n->fast);
        json_decref(n->j);
        free(n);
}

/* Parse the cached fields of a record from its Docker-shaped JSON. */
static int net_from_json(json_t *j, struct eng_net **out, struct gerr **err)
{
        struct eng_net *n = calloc(1, sizeof(*n));
        if (n == NULL)
                return gerr_set(err, ENOMEM, "network");
        n->j = json_incref(j);
        snprintf(n->id, sizeof(n->id), "%s", json_string_value(json_object_get(j, "Id")) ?: "");
        snprintf(n->name, sizeof(n->name), "%s",
                 json_string_value(json_object_get(j, "Name")) ?: "");
        snprintf(n->driver, sizeof(n->driver), "%s",
                 json_string_value(json_object_get(j, "Driver")) ?: "");
        json_t *opts = json_object_get(j, "Options");
        /* The bridge's name: the option when the user gave one, else ours, kept privately
         * (dockerd shows no option it did not get). */
        const char *br = json_string_value(json_object_get(opts, "com.docker.network.bridge.name"));
        if (br == NULL || *br == '\0')
                br = json_string_value(json_object_get(j, "_Bridge"));
        snprintf(n->bridge, sizeof(n->bridge), "%s", br ?: "");
        n->internal = json_is_true(json_object_get(j, "Internal"));
        const char *icc = json_string_value(
                json_object_get(opts, "com.docker.network.bridge.enable_icc"));
        n->icc = icc == NULL || strcmp(icc, "false") != 0;
        const char *masq = json_string_value(
                json_object_get(opts, "com.docker.network.bridge.enable_ip_masquerade"));
        n->masquerade = masq == NULL || strcmp(masq, "false") != 0;
        const char *mtu = json_string_value(json_object_get(opts, "com.docker.network.driver.mtu"));
        n->mtu = mtu ? atoi(mtu) : 0;
        n->is_default = json_is_string(
                json_object_get(opts, "com.docker.network.bridge.default_bridge"));
        n->builtin = n->is_default;
        if (eng_net_is_sublink(n)) {
                bool ipv = strcmp(n->driver, "ipvlan") == 0;
                const char *mode =
                    json_string_value(json_object_get(opts, ipv ? "ipvlan_mode" : "macvlan_mode"));
                snprintf(n->parent, sizeof(n->parent), "%s",
                         json_string_value(json_object_get(opts, "parent")) ?: "");
                n->mode = ipv ? net_ipvlan_mode_parse(mode ?: "l2")
                              : net_macvlan_mode_parse(mode ?: "bridge");
                n->parent_created = json_is_true(json_object_get(j, "_ParentCreated"));
        }
        json_t *cfg = json_array_get(json_object_get(json_object_get(j, "IPAM"), "Config"), 0);
        if (eng_net_has_ipam(n)) {
                /* A macvlan/ipvlan network shows a gateway only when given one (as dockerd);
                 * the one picked is kept privately. */
                const char *gw = json_string_value(json_object_get(cfg, "Gateway"))
                                     ?: json_string_value(json_object_get(j, "_Gateway"));
                if (net_prefix_parse(json_string_value(json_object_get(cfg, "Subnet")), false,
                                     &n->subnet) < 0 ||
                    net_addr_parse(gw, &n->gateway) < 0) {
                        net_free(n);
                        return gerr_set(err, EINVAL, "network %s: bad IPAM record", n->name);
                }
                const char *rg = json_string_value(json_object_get(cfg, "IPRange"));
                n->has_range = rg && *rg && net_prefix_parse(rg, false, &n->range) == 0;
                size_t i;
                json_t *c6;
                json_array_foreach (json_object_get(json_object_get(j, "IPAM"), "Config"), i, c6) {
                        const char *s6 = json_string_value(json_object_get(c6, "Subnet"));
                        if (!json_is_true(json_object_get(j, "EnableIPv6")) || !s6 ||
                            !strchr(s6, ':'))
                                continue;
                        if (net_prefix6_parse(s6, false, &n->subnet6) < 0 ||
                            net_addr6_parse(json_string_value(json_object_get(c6, "Gateway")),
                                            &n->gateway6) < 0) {
                                net_free(n);
                                return gerr_set(err, EINVAL, "network %s: bad IPv6 IPAM record",
                                                n->name);
                        }
                        n->ipv6 = true;
                        break;
                }
        }
        *out = n;
        return 0;
}

static int db_save(struct eng *e, struct eng_net *n, struct gerr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(e->db, "INSERT OR REPLACE INTO networks (id, name, config) VALUES (?, ?, ?)",
                           &st, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *text = json_dumps(n->j, JSON_COMPACT);
        sqlite3_bind_text(st, 1, n->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, n->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
        return db_step_done(e->db, st, err);
}

static int db_delete(struct eng *e, const char *id, struct gerr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(e->db, "DELETE FROM networks WHERE id = ?", &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        return db_step_done(e->db, st, err);
}

static json_t *net_json_new(const char *name, const char *id, const char *driver,
                            const char *created, json_t *ipam_cfg, json_t *options,
                            json_t *labels, bool internal, bool attachable, bool ipv6,
                            json_t *ipam_options)
{
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:o, s:o}, s:b, s:b, s:b,"
                         " s:{s:s}, s:b, s:o, s:o}",
                         "Name", name, "Id", id, "Created", created, "Scope", "local", "Driver",
                         driver, "EnableIPv6", ipv6, "IPAM", "Driver", "default", "Options",
                         ipam_options ? ipam_options : json_null(), "Config",
                         ipam_cfg ? ipam_cfg : json_array(), "Internal", internal, "Attachable",
                         attachable, "Ingress", 0, "ConfigFrom", "Network", "", "ConfigOnly", 0,
                         "Options", options ? options : json_object(), "Labels",
                         labels ? labels : json_object());
}

static void list_add(struct eng_netmgr *m, struct eng_net *n)
{
        struct eng_net **p = &m->nets;
        while (*p)
                p = &(*p)->next;
        *p = n;
}

/* Subnets not to hand out: the host's routes and our networks. Caller holds m->lock. */
static int used_subnets(struct eng_netmgr *m, struct net_prefix **out, size_t *n,
                        struct gerr **err)
{
        struct net_prefix *routes = NULL;
        size_t nr = 0;
        int r = net_host_routes(m->host, &routes, &nr, err);
        if (r < 0)
                return r;
        size_t cnt = 0;
        for (struct eng_net *x = m->nets; x; x = x->next)
                cnt++;
        struct net_prefix *v = realloc(routes, (nr + cnt + 1) * sizeof(*v));
        if (v == NULL) {
                free(routes);
                return gerr_set(err, ENOMEM, "subnets");
        }
        for (struct eng_net *x = m->nets; x; x = x->next)
                if (x->subnet.len > 0)
                        v[nr++] = x->subnet;
        *out = v;
        *n = nr;
        return 0;
}

/* The pools of --default-address-pool, or dockerd's defaults: 172.17-31.0.0/16, then
 * 192.168.0.0/16 in /20s. */
static int pick_subnet(struct eng_netmgr *m, struct net_prefix *out, struct gerr **err)
{
        _cleanup_free_ struct net_prefix *used = NULL;
        size_t n = 0;
        int r = used_subnets(m, &used, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_pools; i++)
                if (net_pool_pick(&m->pools[i], m->pool_size[i], used, n, out) == 0)
                        return 0;
        if (m->n_pools > 0)
                return eng_err(err, ENOSPC,
                               "could not find an available, non-overlapping IPv4 address pool "
                               "among the defaults to assign to the network");
        struct net_prefix p172 = {.addr = 0xac110000, .len = 16};
        for (int i = 0; i < 15; i++, p172.addr += 0x10000)
                if (net_pool_pick(&p172, 16, used, n, out) == 0)
                        return 0;
        struct net_prefix p192 = {.addr = 0xc0a80000, .len = 16};
        if (net_pool_pick(&p192, 20, used, n, out) == 0)
                return 0;
        return eng_err(err, ENOSPC,
                       "could not find an available, non-overlapping IPv4 address pool among the "
                       "defaults to assign to the network");
}

static int ensure_bridge(struct eng_netmgr *m, struct eng_net *n, struct gerr **err)
{
        if (m->host == NULL)
                return 0;
        if (eng_net_is_sublink(n) && n->parent_created) {
                /* Our VLAN link, gone with a reboot: made again as at create. */
                bool made = false;
                return net_parent_ensure(m->host, n->parent, &made, err);
        }
        if (strcmp(n->driver, "bridge") != 0)
                return 0;
        return net_bridge_ensure(m->host, n->bridge, n->gateway, n->subnet.len,
                                 n->ipv6 ? &n->gateway6 : NULL, n->subnet6.len, n->mtu, err);
}

void eng_net_port_glob(const struct eng_net *n, char out[16])
{
        snprintf(out, 16, "ve%.5s*", n->id);
}

/* The whole rule set again, in one transaction (caller holds m->lock, not e->lock). */
int eng_net_rules_apply(struct eng *e, struct gerr **err)
{
        struct eng_netmgr *m = e->net;
        if (m->host == NULL)
                return 0;
        size_t nn = 0;
        for (struct eng_net *x = m->nets; x; x = x->next)
                nn += strcmp(x->driver, "bridge") == 0;
        _cleanup_free_ struct net_rules_net *nets = calloc(nn + 1, sizeof(*nets));
        _cleanup_free_ char(*globs)[16] = calloc(nn + 1, 16);
        if (nets == NULL || globs == NULL)
                return gerr_set(err, ENOMEM, "rules");
        size_t k = 0;
        for (struct eng_net *x = m->nets; x; x = x->next) {
                if (strcmp(x->driver, "bridge") != 0 || x->bridge[0] == '\0')
                        continue;
                eng_net_port_glob(x, globs[k]);
                nets[k] = (struct net_rules_net){.bridge = x->bridge,
                                                 .port_glob = globs[k],
                                                 .subnet = x->subnet,
                                                 .gateway = x->gateway,
                                                 .gateway6 = x->gateway6,
                                                 .internal = x->internal,
                                                 .icc = x->icc,
                                                 .masq = x->masquerade && !x->internal,
                                                 .has6 = x->ipv6,
                                                 .subnet6 = x->subnet6};
                k++;
        }
        struct net_rules_port *ports = NULL;
        size_t np = 0;
        pthread_mutex_lock(&e->lock);
        eng_net_ports_all(e, &ports, &np);
        pthread_mutex_unlock(&e->lock);
        _cleanup_free_ char *script = net_rules_script(m->table, nets, k, ports, np);
        free(ports);
        if (script == NULL)
                return gerr_set(err, ENOMEM, "rules");
        int r = net_nft_run(m->host, script, err);
        if (r < 0)
                return r;
        const char *brs[k + 1];
        for (size_t i = 0; i < k; i++)
                brs[i] = nets[i].bridge;
        return net_docker_user_sync(m->host, m->table, brs, k, err);
}

struct eng_net *eng_net_find_locked(struct eng_netmgr *m, const char *ref)
{
        if (ref == NULL || *ref == '\0')
                return NULL;
        for (struct eng_net *x = m->nets; x; x = x->next)
                if (strcmp(x->name, ref) == 0 || strcmp(x->id, ref) == 0)
                        return x;
        struct eng_net *hit = NULL;
        size_t len = strlen(ref);
        for (struct eng_net *x = m->nets; x; x = x->next)
                if (strncmp(x->id, ref, len) == 0) {
                        if (hit)
                                return NULL;
                        hit = x;
                }
        return hit;
}

static int not_found(struct gerr **err, const char *ref)
{
        return eng_err(err, ENOENT, "network %s not found", ref);
}

int eng_net_mtu_parse(const char *s, int *out, struct gerr **err)
{
        char *end = NULL;
        errno = 0;
        long v = s && *s ? strtol(s, &end, 10) : -1;
        if (end == NULL || *end != '\0' || errno || v < 68 || v > 65535)
                return eng_err(err, EINVAL, "invalid MTU number %s: want 68 to 65535", s ? s : "");
        *out = (int)v;
        return 0;
}

/* "base=A.B.C.D/N,size=M" (either order) into m's pools. */
static int pool_parse(struct eng_netmgr *m, const char *spec, struct gerr **err)
{
        if (m->n_pools >= ARRAY_SIZE(m->pools))
                return gerr_set(err, EINVAL, "--default-address-pool: more than %zu pools",
                                ARRAY_SIZE(m->pools));
        _cleanup_free_ char *copy = strdup(spec);
        if (copy == NULL)
                return gerr_set(err, ENOMEM, "--default-address-pool");
        const char *base = NULL, *size = NULL;
        for (char *save = NULL, *f = strtok_r(copy, ",", &save); f;
             f = strtok_r(NULL, ",", &save)) {
                if (strncmp(f, "base=", 5) == 0)
                        base = f + 5;
                else if (strncmp(f, "size=", 5) == 0)
                        size = f + 5;
                else
                        return gerr_set(err, EINVAL,
                                        "--default-address-pool %s: unknown field %s (want "
                                        "base=A.B.C.D/N,size=M)",
                                        spec, f);
        }
        struct net_prefix p;
        if (base == NULL || size == NULL)
                return gerr_set(err, EINVAL,
                                "--default-address-pool %s: want base=A.B.C.D/N,size=M", spec);
        if (net_prefix_parse(base, false, &p) < 0)
                return gerr_set(err, EINVAL,
                                "--default-address-pool %s: base %s is not an IPv4 prefix "
                                "(a.b.c.d/n, no host bits)",
                                spec, base);
        char *end = NULL;
        long sz = strtol(size, &end, 10);
        if (*size == '\0' || *end != '\0' || sz < p.len || sz > 30)
                return gerr_set(err, EINVAL,
                                "--default-address-pool %s: size %s must be a prefix length "
                                "from the base's (%d) to 30",
                                spec, size, p.len);
        m->pools[m->n_pools] = p;
        m->pool_size[m->n_pools++] = (int)sz;
        return 0;
}

static int create_default_bridge(struct eng *e, struct gerr **err)
{
        struct eng_netmgr *m = e->net;
        struct net_prefix sub;
        int r = 0;
        if (m->bip_set) {
                sub.len = m->bip.len;
                sub.addr = m->bip.addr & net_prefix_mask(m->bip.len);
        } else if ((r = pick_subnet(m, &sub, err)) < 0) {
                return r;
        }
        uint32_t gw = m->bip_set && m->bip.addr != sub.addr ? m->bip.addr : sub.addr + 1;
        char subs[20], gws[16], id[65], now[TIMEFMT_RFC3339_LEN];
        net_prefix_format(&sub, subs);
        net_addr_format(gw, gws);
        eng_gen_id(id);
        timefmt_now(now);
        json_t *opts = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
                                 "com.docker.network.bridge.default_bridge", "true",
                                 "com.docker.network.bridge.enable_icc", "true",
                                 "com.docker.network.bridge.enable_ip_masquerade", "true",
                                 "com.docker.network.bridge.host_binding_ipv4", "0.0.0.0",
                                 "com.docker.network.bridge.name", m->bridge,
                                 "com.docker.network.driver.mtu", "1500");
        if (m->mtu > 0)
                json_object_set_new(opts, "com.docker.network.driver.mtu",
                                    json_sprintf("%d", m->mtu));
        _cleanup_json_ json_t *j = net_json_new("bridge", id, "bridge", now,
                                                json_pack("[{s:s, s:s}]", "Subnet", subs,
                                                          "Gateway", gws),
                                                opts, NULL, false, false, false, NULL);
        struct eng_net *n = NULL;
        if ((r = net_from_json(j, &n, err)) < 0)
                return r;
        if ((r = db_save(e, n, err)) < 0) {
                net_free(n);
                return r;
        }
        list_add(m, n);
        return 0;
}

int eng_net_open(struct eng *e, const struct eng_config *cfg, struct gerr **err)
{
        struct eng_netmgr *m = calloc(1, sizeof(*m));
        if (m == NULL)
                return gerr_set(err, ENOMEM, "networks");
        pthread_mutex_init(&m->lock, NULL);
        e->net = m;
        const char *prefix = cfg->network_prefix && *cfg->network_prefix ? cfg->network_prefix
                                                                          : "gantry";
        if (strlen(prefix) > 8 || strspn(prefix, "abcdefghijklmnopqrstuvwxyz0123456789") !=
                                          strlen(prefix) ||
            prefix[0] < 'a' || prefix[0] > 'z')
                return gerr_set(err, EINVAL,
                                "--network-prefix %s: 1 to 8 lower-case letters and digits, a "
                                "letter first",
                                prefix);
        snprintf(m->prefix, sizeof(m->prefix), "%s", prefix);
        snprintf(m->table, sizeof(m->table), "%s", prefix);
        if (cfg->bridge && *cfg->bridge) {
                if (strlen(cfg->bridge) > 15)
                        return gerr_set(err, EINVAL, "--bridge %s: longer than 15 characters",
                                        cfg->bridge);
                snprintf(m->bridge, sizeof(m->bridge), "%s", cfg->bridge);
        } else {
                snprintf(m->bridge, sizeof(m->bridge), "%s0", prefix);
        }
        m->dns_servers = json_array();
        for (const char *const *d = cfg->dns; d && *d; d++) {
                unsigned char buf[16];
                if (inet_pton(AF_INET, *d, buf) != 1 && inet_pton(AF_INET6, *d, buf) != 1)
                        return gerr_set(err, EINVAL, "--dns %s: not an IP address", *d);
                json_array_append_new(m->dns_servers, json_string(*d));
        }
        if (cfg->bip && *cfg->bip) {
                if (net_prefix_parse(cfg->bip, true, &m->bip) < 0 || m->bip.len > 30)
                        return gerr_set(err, EINVAL, "--bip %s: not an IPv4 address/prefix",
                                        cfg->bip);
                struct net_prefix p;
                net_prefix_parse(cfg->bip, true, &p);
                /* loose parse masked it: keep the given address as the gateway */
                char *slash = strchr(cfg->bip, '/');
                _cleanup_free_ char *a = strndup(cfg->bip, (size_t)(slash - cfg->bip));
                net_addr_parse(a, &m->bip.addr);
                m->bip_set = true;
        }
        if (cfg->mtu && eng_net_mtu_parse(cfg->mtu, &m->mtu, err) < 0)
                return gerr_wrap(err, "--mtu");
        m->no_fast = cfg->no_fast_path;
        for (size_t i = 0; cfg->address_pools && cfg->address_pools[i]; i++)
                if (pool_parse(m, cfg->address_pools[i], err) < 0)
                        return -EINVAL;
        int r = db_exec(e->db,
                        "CREATE TABLE IF NOT EXISTS networks (id TEXT PRIMARY KEY, name TEXT "
                        "UNIQUE, config TEXT);",
                        err);
        if (r < 0)
                return r;
        struct gerr *herr = NULL;
        if (net_host_open(&m->host, &herr) < 0) {
                log_warn("networks: %s; only host and none networks work", herr->msg);
                gerr_free(herr);
                m->host = NULL;
        }
        /* Built-ins first, in dockerd's list order for the ones everybody knows. */
        char now[TIMEFMT_RFC3339_LEN];
        timefmt_now(now);
        static const struct {
                const char *name, *id, *driver;
        } builtin[] = {{"host", HOST_ID, "host"}, {"none", NONE_ID, "null"}};
        for (size_t i = 0; i < ARRAY_SIZE(builtin); i++) {
                _cleanup_json_ json_t *j =
                        net_json_new(builtin[i].name, builtin[i].id, builtin[i].driver, now,
                                     NULL, NULL, NULL, false, false, false, NULL);
                struct eng_net *n = NULL;
                if ((r = net_from_json(j, &n, err)) < 0)
                        return r;
                n->builtin = true;
                list_add(m, n);
        }
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if ((r = db_prepare(e->db, "SELECT config FROM networks", &st, err)) < 0)
                return r;
        bool have_default = false;
        while (sqlite3_step(st) == SQLITE_ROW) {
                const char *text = (const char *)sqlite3_column_text(st, 0);
                _cleanup_json_ json_t *j = text ? json_loads(text, 0, NULL) : NULL;
                struct eng_net *n = NULL;
                struct gerr *lerr = NULL;
                if (j == NULL || net_from_json(j, &n, &lerr) < 0) {
                        log_warn("networks: skipping a bad record: %s",
                                 lerr ? lerr->msg : "not JSON");
                        gerr_free(lerr);
                        continue;
                }
                if (n->is_default) {
                        have_default = true;
                        n->builtin = true;
                        /* --bridge given now wins over the one recorded. */
                        if (strcmp(n->bridge, m->bridge) != 0) {
                                json_object_set_new(json_object_get(n->j, "Options"),
                                                    "com.docker.network.bridge.name",
                                                    json_string(m->bridge));
                                snprintf(n->bridge, sizeof(n->bridge), "%s", m->bridge);
                                db_save(e, n, NULL);
                        }
                        /* So does --mtu: net_bridge_ensure sets it on the adopted bridge. */
                        if (m->mtu > 0 && n->mtu != m->mtu) {
                                json_object_set_new(json_object_get(n->j, "Options"),
                                                    "com.docker.network.driver.mtu",
                                                    json_sprintf("%d", m->mtu));
                                n->mtu = m->mtu;
                                db_save(e, n, NULL);
                        }
                }
                list_add(m, n);
        }
        if (!have_default && m->host != NULL && (r = create_default_bridge(e, err)) < 0)
                return r;
        return 0;
}

/* Bridges named <prefix>-* with no network record: a kill -9 between the creation of a
 * network's bridge and the saving of its record leaves one. Only ours, only bridges. */
static void remove_orphan_bridges(struct eng_netmgr *m)
{
        char pfx[20];
        snprintf(pfx, sizeof(pfx), "%s-", m->prefix);
        _cleanup_strv_ char **names = NULL;
        struct gerr *err = NULL;
        if (net_bridges_named(m->host, pfx, &names, &err) < 0) {
                log_warn("networks: %s", err->msg);
                gerr_free(err);
                return;
        }
        for (size_t i = 0; names && names[i]; i++) {
                bool known = false;
                for (struct eng_net *n = m->nets; n && !known; n = n->next)
                        known = strcmp(n->bridge, names[i]) == 0;
                if (known)
                        continue;
                log_info("networks: removing bridge %s, which no network has", names[i]);
                if (net_link_delete(m->host, names[i], &err) < 0) {
                        log_warn("networks: %s", err->msg);
                        gerr_free(err);
                        err = NULL;
                }
        }
}

void eng_net_start(struct eng *e)
{
        struct eng_netmgr *m = e->net;
        if (m->host == NULL)
                return;
        struct gerr *err = NULL;
        pthread_mutex_lock(&m->lock);
        remove_orphan_bridges(m);
        bool outbound = false;
        for (struct eng_net *n = m->nets; n; n = n->next) {
                if (ensure_bridge(m, n, &err) < 0) {
                        log_warn("network %s: %s", n->name, err->msg);
                        gerr_free(err);
                        err = NULL;
                }
                outbound = outbound || (strcmp(n->driver, "bridge") == 0 && !n->internal);
        }
        eng_net_release_stale(e);
        eng_net_fast_readopt(e);
        eng_dns_readopt(e);
        if (eng_net_rules_apply(e, &err) < 0) {
                log_warn("networks: %s", err->msg);
                gerr_free(err);
                err = NULL;
        }
        if (outbound && net_sysctl_write("/proc/sys/net/ipv4/ip_forward", "1", &err) < 0) {
                log_warn("networks: %s", err->msg);
                gerr_free(err);
        }
        pthread_mutex_unlock(&m->lock);
}

json_t *eng_net_dns_servers(struct eng *e, json_t *config)
{
        json_t *dns = json_object_get(json_object_get(config, "HostConfig"), "Dns");
        if (json_array_size(dns) > 0 || e->net == NULL)
                return dns;
        return e->net->dns_servers;
}

void eng_net_close(struct eng *e)
{
        struct eng_netmgr *m = e->net;
        if (m == NULL)
                return;
        eng_dns_close(e);
        while (m->nets) {
                struct eng_net *n = m->nets;
                m->nets = n->next;
                net_free(n);
        }
        net_host_close(m->host);
        json_decref(m->dns_servers);
        pthread_mutex_destroy(&m->lock);
        free(m);
        e->net = NULL;
}

/* ---- API ---- */

static json_t *net_inspect_json(struct eng *e, struct eng_net *n, bool verbose)
{
        json_t *j = json_deep_copy(n->j);
        json_object_del(j, "_Bridge");
        json_object_del(j, "_ParentCreated");
        json_object_del(j, "_Gateway");
        json_t *ctrs = json_object();
        pthread_mutex_lock(&e->lock);
        eng_net_containers_json(e, n, ctrs);
        pthread_mutex_unlock(&e->lock);
        json_object_set_new(j, "Containers", ctrs);
        (void)verbose;
        return j;
}

static bool match_filters(struct eng *e, struct eng_net *n, json_t *filters)
{
        const char *vals[32];
        size_t k = filters_values(filters, "name", vals, 32);
        bool ok = k == 0;
        for (size_t i = 0; i < k; i++)
                ok = ok || strstr(n->name, vals[i]) != NULL;
        if (!ok)
                return false;
        k = filters_values(filters, "id", vals, 32);
        ok = k == 0;
        for (size_t i = 0; i < k; i++)
                ok = ok || strncmp(n->id, vals[i], strlen(vals[i])) == 0;
        if (!ok)
                return false;
        k = filters_values(filters, "driver", vals, 32);
        ok = k == 0;
        for (size_t i = 0; i < k; i++)
                ok = ok || strcmp(n->driver, vals[i]) == 0;
        if (!ok)
                return false;
        k = filters_values(filters, "type", vals, 32);
        ok = k == 0;
        for (size_t i = 0; i < k; i++)
                ok = ok || (strcmp(vals[i], "builtin") == 0) == n->builtin;
        if (!ok)
                return false;
        k = filters_values(filters, "scope", vals, 32);
        ok = k == 0;
        for (size_t i = 0; i < k; i++)
                ok = ok || strcmp(vals[i], "local") == 0;
        if (!ok)
                return false;
        k = filters_values(filters, "dangling", vals, 32);
        if (k > 0) {
                pthread_mutex_lock(&e->lock);
                bool used = eng_net_in_use(e, n);
                pthread_mutex_unlock(&e->lock);
                bool want = strcmp(vals[0], "true") == 0 || strcmp(vals[0], "1") == 0;
                if (n->builtin || used == want)
                        return false;
        }
        k = filters_values(filters, "label", vals, 32);
        return filters_match_kv(json_object_get(n->j, "Labels"), vals, k);
}

static const char *const list_filters[] = {"name", "id", "driver", "type", "scope", "label",
                                           "dangling", NULL};

int eng_network_list(struct eng *e, json_t *filters, json_t **out, struct gerr **err)
{
        const char *bad = filters_unknown(filters, list_filters);
        if (bad)
                return eng_err(err, EINVAL, "invalid filter '%s'", bad);
        struct eng_netmgr *m = e->net;
        json_t *list = json_array();
        pthread_mutex_lock(&m->lock);
        for (struct eng_net *n = m->nets; n; n = n->next)
                if (match_filters(e, n, filters))
                        json_array_append_new(list, net_inspect_json(e, n, false));
        pthread_mutex_unlock(&m->lock);
        *out = list;
        return 0;
}

int eng_network_inspect(struct eng *e, const char *ref, json_t **out, struct gerr **err)
{
        struct eng_netmgr *m = e->net;
        pthread_mutex_lock(&m->lock);
        struct eng_net *n = eng_net_find_locked(m, ref);
        if (n)
                *out = net_inspect_json(e, n, false);
        pthread_mutex_unlock(&m->lock);
        return n ? 0 : not_found(err, ref);
}

static int parse_ipam(struct eng_netmgr *m, json_t *ipam, struct net_prefix *sub, uint32_t *gw,
                      struct net_prefix *range, bool *has_range, json_t **cfg_out,
                      struct gerr **err)
{
        json_t *cfgs = json_object_get(ipam, "Config");
        *has_range = false;
        json_t *c0 = NULL;
        size_t i;
        json_t *c;
        json_array_foreach (cfgs, i, c) {
                const char *s = json_string_value(json_object_get(c, "Subnet"));
                if (s && strchr(s, ':'))
                        continue; /* IPv6 pools are not handled yet */
                c0 = c;
                break;
        }
        const char *s = json_string_value(json_object_get(c0, "Subnet"));
        const char *g = json_string_value(json_object_get(c0, "Gateway"));
        const char *rg = json_string_value(json_object_get(c0, "IPRange"));
        int r;
        if (s && *s) {
                if (net_prefix_parse(s, true, sub) < 0)
                        return eng_err(err, EINVAL, "invalid CIDR address: %s", s);
                if (sub->len > 30)
                        return eng_err(err, EINVAL, "subnet %s is too small", s);
                _cleanup_free_ struct net_prefix *used = NULL;
                size_t n = 0;
                if ((r = used_subnets(m, &used, &n, err)) < 0)
                        return r;
                for (struct eng_net *x = m->nets; x; x = x->next)
                        if (x->subnet.len > 0 && net_prefix_overlap(&x->subnet, sub))
                                return eng_err(err, EEXIST,
                                               "invalid pool request: Pool overlaps with other "
                                               "one on this address space");
        } else if ((g && *g) || (rg && *rg)) {
                return eng_err(err, EINVAL, "ipam config has gateway or ip range but no subnet");
        } else if ((r = pick_subnet(m, sub, err)) < 0) {
                return r;
        }
        if (rg && *rg) {
                if (net_prefix_parse(rg, true, range) < 0)
                        return eng_err(err, EINVAL, "invalid CIDR address: %s", rg);
                if (range->len < sub->len || !net_prefix_overlap(range, sub))
                        return eng_err(err, EINVAL, "invalid pool request: ip range %s is not "
                                                    "within the subnet", rg);
                *has_range = true;
        }
        if (g && *g) {
                if (net_addr_parse(g, gw) < 0)
                        return eng_err(err, EINVAL, "invalid gateway address: %s", g);
                if (!net_prefix_contains(sub, *gw))
                        return eng_err(err, EINVAL, "gateway %s is not in subnet", g);
        } else {
                *gw = sub->addr + 1;
        }
        char subs[20], gws[16];
        net_prefix_format(sub, subs);
        net_addr_format(*gw, gws);
        json_t *out = json_pack("{s:s, s:s}", "Subnet", subs, "Gateway", gws);
        if (*has_range) {
                char rs[20];
                net_prefix_format(range, rs);
                json_object_set_new(out, "IPRange", json_string(rs));
        }
        *cfg_out = json_pack("[o]", out);
        return 0;
}

/* macvlan/ipvlan options as dockerd checks them: a parent (one network per parent), a known
 * mode. Caller holds m->lock. */
static int check_sublink_options(struct eng_netmgr *m, const char *driver, json_t *opts,
                                 struct gerr **err)
{
        bool ipv = strcmp(driver, "ipvlan") == 0;
        const char *mode =
            json_string_value(json_object_get(opts, ipv ? "ipvlan_mode" : "macvlan_mode"));
        if (mode && *mode && (ipv ? net_ipvlan_mode_parse(mode) : net_macvlan_mode_parse(mode)) < 0)
                return eng_err(err, EINVAL,
                               ipv ? "requested ipvlan mode '%s' is not valid, 'l2' mode is the "
                                     "ipvlan driver default"
                                   : "requested macvlan mode '%s' is not valid, 'bridge' mode is "
                                     "the macvlan driver default",
                               mode);
        const char *parent = json_string_value(json_object_get(opts, "parent"));
        /* dockerd makes a dummy link when there is none; here a parent is required. */
        if (parent == NULL || *parent == '\0')
                return eng_err(err, EINVAL,
                               "%s network needs a parent interface: -o parent=IFACE "
                               "or -o parent=IFACE.VLAN",
                               driver);
        if (strlen(parent) > 15)
                return eng_err(err, EINVAL,
                               "parent interface name %s is longer than 15 "
                               "characters",
                               parent);
        for (struct eng_net *x = m->nets; x; x = x->next)
                if (eng_net_is_sublink(x) && strcmp(x->parent, parent) == 0)
                        return eng_err(err, EEXIST,
                                       "network %s is already using parent interface %s", x->name,
                                       parent);
        return 0;
}

/* Whether the request names a gateway for its (IPv4) pool. */
static bool gateway_given(json_t *body)
{
        size_t i;
        json_t *c;
        json_array_foreach (json_object_get(json_object_get(body, "IPAM"), "Config"), i, c) {
                const char *g = json_string_value(json_object_get(c, "Gateway"));
                if (g && *g && strchr(g, ':') == NULL)
                        return true;
        }
        return false;
}

/* A new macvlan/ipvlan network: its parent there (the VLAN link made if need be), the record
 * saved. No rules: dockerd programs none for these drivers. Caller holds m->lock. */
static int sublink_create(struct eng *e, struct eng_net *n, struct gerr **err)
{
        struct eng_netmgr *m = e->net;
        bool made = false;
        int r = net_parent_ensure(m->host, n->parent, &made, err);
        if (r < 0)
                return r;
        n->parent_created = made;
        if (made)
                json_object_set_new(n->j, "_ParentCreated", json_true());
        if ((r = db_save(e, n, err)) < 0) {
                if (made)
                        net_link_delete(m->host, n->parent, NULL);
                return r;
        }
        list_add(m, n);
        return 0;
}

/* EnableIPv6: the first IPv6 Subnet of the IPAM config (there is no default IPv6 pool) and its
 * Gateway (default: the subnet's first address), appended to cfg. */
static int parse_ipam6(struct eng_netmgr *m, json_t *ipam, json_t *cfg, struct gerr **err)
{
        json_t *c, *c6 = NULL;
        size_t i;
        json_array_foreach (json_object_get(ipam, "Config"), i, c) {
                const char *s = json_string_value(json_object_get(c, "Subnet"));
                if (s && strchr(s, ':')) {
                        c6 = c;
                        break;
                }
        }
        if (c6 == NULL)
                return eng_err(err, EINVAL,
                               "could not find an available, non-overlapping IPv6 address pool "
                               "among the defaults to assign to the network: give --subnet with "
                               "an IPv6 prefix");
        const char *s = json_string_value(json_object_get(c6, "Subnet"));
        const char *g = json_string_value(json_object_get(c6, "Gateway"));
        struct net_prefix6 sub;
        struct net_addr6 gw;
        if (net_prefix6_parse(s, true, &sub) < 0)
                return eng_err(err, EINVAL, "invalid CIDR address: %s", s);
        if (sub.len > 126)
                return eng_err(err, EINVAL, "subnet %s is too small", s);
        for (struct eng_net *x = m->nets; x; x = x->next)
                if (x->ipv6 && net_prefix6_overlap(&x->subnet6, &sub))
                        return eng_err(err, EEXIST,
                                       "invalid pool request: Pool overlaps with "
                                       "other one on this address space");
        if (g && *g) {
                if (net_addr6_parse(g, &gw) < 0)
                        return eng_err(err, EINVAL, "invalid gateway address: %s", g);
                if (!net_prefix6_contains(&sub, &gw))
                        return eng_err(err, EINVAL, "gateway %s is not in subnet", g);
        } else if (net_addr6_pick(&sub, NULL, 0, &gw) < 0) {
                return eng_err(err, EINVAL, "subnet %s is too small", s);
        }
        char subs[64], gws[46], plen[8];
        net_addr6_format(&sub.addr, subs);
        snprintf(plen, sizeof(plen), "/%d", sub.len);
        strcat(subs, plen);
        net_addr6_format(&gw, gws);
        json_array_append_new(cfg, json_pack("{s:s, s:s}", "Subnet", subs, "Gateway", gws));
        return 0;
}

int eng_network_create(struct eng *e, json_t *body, char **id_out, struct gerr **err)
{
        struct eng_netmgr *m = e->net;
        const char *name = json_string_value(json_object_get(body, "Name"));
        if (name == NULL || *name == '\0')
                return eng_err(err, EINVAL, "network name must not be empty");
        if (!eng_name_valid(name))
                return eng_err(err, EINVAL,
                               "invalid network name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                               "allowed", name);
        const char *driver = json_string_value(json_object_get(body, "Driver"));
        if (driver == NULL || *driver == '\0')
                driver = "bridge";
        bool sublink = strcmp(driver, "macvlan") == 0 || strcmp(driver, "ipvlan") == 0;
        if (strcmp(driver, "bridge") != 0 && !sublink)
                return eng_err(err, ENOENT,
                               "could not find plugin %s in v1 plugin registry: plugin not found",
                               driver);
        if (m->host == NULL)
                return eng_err(err, ENOTSUP, "%s networks need netlink and nftables here", driver);
        json_t *opts_in = json_object_get(body, "Options");
        if (opts_in != NULL && !json_is_object(opts_in) && !json_is_null(opts_in))
                return eng_err(err, EINVAL, "Options must be an object");
        json_t *labels = json_object_get(body, "Labels");
        pthread_mutex_lock(&m->lock);
        int r = 0;
        for (struct eng_net *x = m->nets; x; x = x->next)
                if (strcmp(x->name, name) == 0) {
                        r = eng_err(err, EEXIST, "network with name %s already exists", name);
                        break;
                }
        if (r >= 0 && sublink)
                r = check_sublink_options(m, driver, opts_in, err);
        const char *mtu_opt =
            json_string_value(json_object_get(opts_in, "com.docker.network.driver.mtu"));
        int mtu_v = 0;
        if (r >= 0 && json_object_get(opts_in, "com.docker.network.driver.mtu") &&
            eng_net_mtu_parse(mtu_opt, &mtu_v, err) < 0)
                r = gerr_wrap(err, "com.docker.network.driver.mtu");
        struct net_prefix sub = {0}, range = {0};
        uint32_t gw = 0;
        bool has_range = false;
        json_t *ipam_cfg = NULL;
        if (r >= 0)
                r = parse_ipam(m, json_object_get(body, "IPAM"), &sub, &gw, &range, &has_range,
                               &ipam_cfg, err);
        if (r >= 0 && sublink && json_is_true(json_object_get(body, "EnableIPv6")))
                r = eng_err(err, ENOTSUP, "IPv6 on %s networks is not supported yet", driver);
        if (r >= 0 && json_is_true(json_object_get(body, "EnableIPv6")))
                r = parse_ipam6(m, json_object_get(body, "IPAM"), ipam_cfg, err);
        char id[65], now[TIMEFMT_RFC3339_LEN];
        eng_gen_id(id);
        timefmt_now(now);
        json_t *opts = json_is_object(opts_in) ? json_deep_copy(opts_in) : json_object();
        const char *br = json_string_value(json_object_get(opts, "com.docker.network.bridge.name"));
        char brname[16] = "";
        if (sublink) {
                /* no bridge */
        } else if (br && *br) {
                if (strlen(br) > 15 && r >= 0)
                        r = eng_err(err, EINVAL, "bridge name %s is longer than 15 characters",
                                    br);
                snprintf(brname, sizeof(brname), "%s", br);
        } else {
                /* <prefix>-<as much of the id as fits in IFNAMSIZ> */
                size_t pl = strlen(m->prefix);
                memcpy(brname, m->prefix, pl);
                brname[pl] = '-';
                memcpy(brname + pl + 1, id, 14 - pl);
                brname[15] = '\0';
        }
        for (struct eng_net *x = m->nets; x && r >= 0 && !sublink; x = x->next)
                if (strcmp(x->bridge, brname) == 0)
                        r = eng_err(err, EEXIST, "bridge %s is used by network %s", brname,
                                    x->name);
        struct eng_net *n = NULL;
        if (r >= 0) {
                /* What dockerd keeps of the options, the bridge name as given only. */
                _cleanup_json_ json_t *j = net_json_new(
                        name, id, driver, now, ipam_cfg, opts,
                        json_is_object(labels) ? json_deep_copy(labels) : json_object(),
                        json_is_true(json_object_get(body, "Internal")),
                        json_is_true(json_object_get(body, "Attachable")),
                        json_is_true(json_object_get(body, "EnableIPv6")),
                        json_is_object(json_object_get(json_object_get(body, "IPAM"), "Options"))
                                ? json_deep_copy(json_object_get(json_object_get(body, "IPAM"),
                                                                 "Options"))
                                : json_object());
                ipam_cfg = NULL;
                opts = NULL;
                json_t *cfg0 = json_array_get(json_object_get(json_object_get(j, "IPAM"),
                                                              "Config"),
                                              0);
                if (sublink && !gateway_given(body)) {
                        json_object_set(j, "_Gateway", json_object_get(cfg0, "Gateway"));
                        json_object_del(cfg0, "Gateway");
                }
                r = net_from_json(j, &n, err);
        }
        json_decref(ipam_cfg);
        json_decref(opts);
        if (r >= 0 && sublink) {
                r = sublink_create(e, n, err);
                if (r < 0)
                        net_free(n);
        } else if (r >= 0) {
                snprintf(n->bridge, sizeof(n->bridge), "%s", brname);
                json_object_set_new(n->j, "_Bridge", json_string(brname));
                if ((r = ensure_bridge(m, n, err)) >= 0) {
                        list_add(m, n);
                        r = eng_net_rules_apply(e, err);
                        if (r >= 0)
                                r = db_save(e, n, err);
                        if (r < 0) {
                                struct eng_net **p = &m->nets;
                                while (*p != n)
                                        p = &(*p)->next;
                                *p = n->next;
                                net_link_delete(m->host, n->bridge, NULL);
                                eng_net_rules_apply(e, NULL);
                        }
                }
                if (r < 0)
                        net_free(n);
        }
        if (r >= 0 && !n->internal && !sublink)
                net_sysctl_write("/proc/sys/net/ipv4/ip_forward", "1", NULL);
        pthread_mutex_unlock(&m->lock);
        if (r < 0)
                return r;
        eng_event(e, "network", "create", id,
                  json_pack("{s:s, s:s}", "name", name, "type", driver));
        *id_out = strdup(id);
        return 0;
}

/* Caller holds m->lock. */
static int remove_locked(struct eng *e, struct eng_net *n, struct gerr **err)
{
        struct eng_netmgr *m = e->net;
        if (n->builtin)
                return eng_err(err, EPERM, "%s is a pre-defined network and cannot be removed",
                               n->name);
        pthread_mutex_lock(&e->lock);
        bool used = eng_net_in_use(e, n);
        pthread_mutex_unlock(&e->lock);
        if (used)
                return eng_err(err, EPERM,
                               "error while removing network: network %s id %s has active "
                               "endpoints",
                               n->name, n->id);
        int r = db_delete(e, n->id, err);
        if (r < 0)
                return r;
        struct eng_net **p = &m->nets;
        while (*p != n)
                p = &(*p)->next;
        *p = n->next;
        struct gerr *lerr = NULL;
        /* A macvlan/ipvlan network's parent goes only when we made it (a VLAN link). */
        const char *link = eng_net_is_sublink(n) ? (n->parent_created ? n->parent : "") : n->bridge;
        if ((*link && net_link_delete(m->host, link, &lerr) < 0) ||
            (!eng_net_is_sublink(n) && eng_net_rules_apply(e, &lerr) < 0)) {
                log_warn("network %s: %s", n->name, lerr->msg);
                gerr_free(lerr);
        }
        eng_event(e, "network", "destroy", n->id,
                  json_pack("{s:s, s:s}", "name", n->name, "type", n->driver));
        net_free(n);
        return 0;
}

int eng_network_remove(struct eng *e, const char *ref, struct gerr **err)
{
        struct eng_netmgr *m = e->net;
        pthread_mutex_lock(&m->lock);
        struct eng_net *n = eng_net_find_locked(m, ref);
        int r = n ? remove_locked(e, n, err) : not_found(err, ref);
        pthread_mutex_unlock(&m->lock);
        return r;
}

int eng_network_prune(struct eng *e, json_t *filters, json_t **out, struct gerr **err)
{
        static const char *const known[] = {"until", "label", "label!", NULL};
        const char *bad = filters_unknown(filters, known);
        if (bad)
                return eng_err(err, EINVAL, "invalid filter '%s'", bad);
        double until = 0;
        int r = eng_prune_until(filters, &until, err);
        if (r < 0)
                return r;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        struct eng_netmgr *m = e->net;
        json_t *deleted = json_array();
        pthread_mutex_lock(&m->lock);
        for (struct eng_net *n = m->nets, *next; n; n = next) {
                next = n->next;
                if (n->builtin || !filters_match_labels(filters, json_object_get(n->j, "Labels")))
                        continue;
                /* dockerd: networks created after until stay. */
                double created = 0;
                if (until > 0 &&
                    timeparse_docker(json_string_value(json_object_get(n->j, "Created")),
                                     (double)now.tv_sec, &created) &&
                    created > until)
                        continue;
                pthread_mutex_lock(&e->lock);
                bool used = eng_net_in_use(e, n);
                pthread_mutex_unlock(&e->lock);
                if (used)
                        continue;
                char name[128];
                snprintf(name, sizeof(name), "%s", n->name);
                if (remove_locked(e, n, NULL) == 0)
                        json_array_append_new(deleted, json_string(name));
        }
        pthread_mutex_unlock(&m->lock);
        *out = json_pack("{s:o}", "NetworksDeleted",
                         json_array_size(deleted) ? deleted : (json_decref(deleted), json_null()));
        return 0;
}
