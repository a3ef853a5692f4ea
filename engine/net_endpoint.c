/* Endpoints: a container's networks validated at create, addresses and ports at start, veths after the shim created it, all released at exit. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "engine/engine_internal.h"
#include "engine/net_internal.h"

/* Private keys of the container record (never shown: inspect picks its Config keys). */
#define EPS_KEY "_Endpoints"
#define PORTS_KEY "_Ports"

static const char *str(json_t *o, const char *k)
{
        return json_string_value(json_object_get(o, k));
}

/* "80/tcp" -> port and protocol. */
static int parse_port_key(const char *key, uint16_t *port, int *proto)
{
        char *end;
        long p = strtol(key, &end, 10);
        if (end == key || p < 1 || p > 65535 || (*end != '\0' && *end != '/'))
                return -EINVAL;
        *proto = net_proto_parse(*end == '/' ? end + 1 : "tcp");
        if (*proto < 0)
                return -EINVAL;
        *port = (uint16_t)p;
        return 0;
}

static int validate_ports(json_t *hc, struct gerr **err)
{
        const char *key;
        json_t *v;
        json_object_foreach (json_object_get(hc, "PortBindings"), key, v) {
                uint16_t port;
                int proto;
                if (parse_port_key(key, &port, &proto) < 0)
                        return eng_err(err, EINVAL, "invalid port specification: \"%s\"", key);
                size_t i;
                json_t *b;
                json_array_foreach (v, i, b) {
                        const char *hp = str(b, "HostPort"), *hip = str(b, "HostIp");
                        char *end;
                        if (hp && *hp) {
                                long n = strtol(hp, &end, 10);
                                if (*end != '\0' || n < 0 || n > 65535)
                                        return eng_err(err, EINVAL,
                                                       "invalid port specification: \"%s\"", hp);
                        }
                        uint32_t a;
                        if (hip && *hip && strcmp(hip, "0.0.0.0") != 0 &&
                            net_addr_parse(hip, &a) < 0)
                                return eng_err(err, EINVAL, "invalid IP address: %s", hip);
                }
        }
        return 0;
}

int eng_net_validate(struct eng *e, json_t *config, struct gerr **err)
{
        json_t *hc = json_object_get(config, "HostConfig");
        const char *nm = str(hc, "NetworkMode");
        if (nm == NULL)
                nm = "bridge";
        json_t *ncfg = json_object_get(config, "NetworkingConfig");
        if (!json_is_object(ncfg)) {
                ncfg = json_object();
                json_object_set_new(config, "NetworkingConfig", ncfg);
        }
        json_t *eps = json_object_get(ncfg, "EndpointsConfig");
        if (!json_is_object(eps)) {
                eps = json_object();
                json_object_set_new(ncfg, "EndpointsConfig", eps);
        }
        int r = validate_ports(hc, err);
        if (r < 0)
                return r;
        if (strncmp(nm, "container:", 10) == 0) {
                json_object_clear(eps);
                return 0;
        }
        struct eng_netmgr *m = e->net;
        _cleanup_json_ json_t *norm = json_object();
        pthread_mutex_lock(&m->lock);
        struct eng_net *primary = eng_net_find_locked(m, nm);
        if (primary == NULL)
                r = eng_err(err, ENOENT, "network %s not found", nm);
        const char *key;
        json_t *v;
        json_object_foreach (eps, key, v) {
                if (r < 0)
                        break;
                struct eng_net *n = eng_net_find_locked(m, strcmp(key, "default") ? key
                                                                                 : "bridge");
                if (n == NULL) {
                        r = eng_err(err, ENOENT, "network %s not found", key);
                        break;
                }
                json_object_set(norm, n->name, json_is_object(v) ? v : json_object());
        }
        if (r >= 0 && json_object_get(norm, primary->name) == NULL)
                json_object_set_new(norm, primary->name, json_object());
        if (r >= 0 && (strcmp(primary->driver, "host") == 0 ||
                       strcmp(primary->driver, "null") == 0) &&
            json_object_size(norm) > 1)
                r = eng_err(err, EINVAL,
                            "container cannot be disconnected from host network or connected "
                            "to host network");
        /* The old API's Config.MacAddress belongs to the primary endpoint. */
        const char *mac = str(config, "MacAddress");
        if (r >= 0 && mac && *mac) {
                json_t *pe = json_object_get(norm, primary->name);
                if (str(pe, "MacAddress") == NULL || *str(pe, "MacAddress") == '\0')
                        json_object_set_new(pe, "MacAddress", json_string(mac));
        }
        json_object_foreach (norm, key, v) {
                if (r < 0)
                        break;
                struct eng_net *n = eng_net_find_locked(m, key);
                const char *ip = str(json_object_get(v, "IPAMConfig"), "IPv4Address");
                const char *ip6 = str(json_object_get(v, "IPAMConfig"), "IPv6Address");
                const char *mc = str(v, "MacAddress");
                uint8_t macb[6];
                if (mc && *mc && net_mac_parse(mc, macb) < 0) {
                        r = eng_err(err, EINVAL, "invalid MAC address: %s", mc);
                        break;
                }
                if (ip && *ip) {
                        uint32_t a;
                        if (n->is_default || !eng_net_has_ipam(n))
                                r = eng_err(err, EINVAL,
                                            "user specified IP address is supported on user "
                                            "defined networks only");
                        else if (net_addr_parse(ip, &a) < 0)
                                r = eng_err(err, EINVAL, "invalid IPv4 address: %s", ip);
                        else if (!net_prefix_contains(n->has_range ? &n->range : &n->subnet, a))
                                r = eng_err(err, EINVAL,
                                            "no configured subnet or ip-range contain the IP "
                                            "address %s",
                                            ip);
                }
                if (r >= 0 && ip6 && *ip6) {
                        struct net_addr6 a6;
                        if (n->is_default || strcmp(n->driver, "bridge") != 0)
                                r = eng_err(err, EINVAL,
                                            "user specified IP address is supported on user "
                                            "defined networks only");
                        else if (net_addr6_parse(ip6, &a6) < 0)
                                r = eng_err(err, EINVAL, "invalid IPv6 address: %s", ip6);
                        else if (!n->ipv6 || !net_prefix6_contains(&n->subnet6, &a6))
                                r = eng_err(err, EINVAL,
                                            "no configured subnet or ip-range contain the IP "
                                            "address %s",
                                            ip6);
                }
        }
        pthread_mutex_unlock(&m->lock);
        if (r >= 0)
                json_object_set(ncfg, "EndpointsConfig", norm);
        return r;
}

/* ---- allocation at start ---- */

static void used_addrs(struct eng *e, const struct eng_net *n, uint32_t **out, size_t *cnt)
{
        size_t cap = 16, k = 0;
        uint32_t *v = malloc(cap * sizeof(*v));
        if (v == NULL) {
                *out = NULL;
                *cnt = 0;
                return;
        }
        v[k++] = n->gateway;
        for (struct eng_ctr *c = e->ctrs; c; c = c->next) {
                const char *key;
                json_t *ep;
                json_object_foreach (json_object_get(c->config, EPS_KEY), key, ep) {
                        uint32_t a;
                        if (strcmp(str(ep, "NetworkID") ?: "", n->id) != 0 ||
                            net_addr_parse(str(ep, "IPAddress"), &a) < 0)
                                continue;
                        if (k == cap) {
                                uint32_t *nv = realloc(v, (cap *= 2) * sizeof(*v));
                                if (nv == NULL)
                                        break;
                                v = nv;
                        }
                        v[k++] = a;
                }
        }
        *out = v;
        *cnt = k;
}

static bool port_taken(struct eng *e, int proto, uint32_t hip, uint16_t hport,
                       const struct net_rules_port *mine, size_t n_mine)
{
        for (size_t i = 0; i < n_mine; i++)
                if (mine[i].proto == proto && mine[i].host_port == hport &&
                    (mine[i].host_ip == 0 || hip == 0 || mine[i].host_ip == hip))
                        return true;
        _cleanup_free_ struct net_rules_port *all = NULL;
        size_t n = 0;
        eng_net_ports_all(e, &all, &n);
        for (size_t i = 0; i < n; i++)
                if (all[i].proto == proto && all[i].host_port == hport &&
                    (all[i].host_ip == 0 || hip == 0 || all[i].host_ip == hip))
                        return true;
        return false;
}

/* A port nothing listens on now: bind a socket to it for a moment. */
static bool port_free_on_host(int proto, uint16_t port)
{
        int type = proto == NET_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
        _cleanup_close_ int fd = socket(AF_INET, type | SOCK_CLOEXEC,
                                        proto == NET_PROTO_SCTP ? IPPROTO_SCTP : 0);
        if (fd < 0)
                return true;
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
        return bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

static int random_port(struct eng *e, int proto, uint32_t hip, const struct net_rules_port *mine,
                       size_t n_mine, uint16_t *out)
{
        unsigned lo = 32768, hi = 60999;
        FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
        if (f) {
                if (fscanf(f, "%u %u", &lo, &hi) != 2 || lo == 0 || hi < lo || hi > 65535)
                        lo = 32768, hi = 60999;
                fclose(f);
        }
        unsigned start;
        getrandom(&start, sizeof(start), 0);
        unsigned span = hi - lo + 1;
        for (unsigned i = 0; i < span; i++) {
                uint16_t p = (uint16_t)(lo + (start + i) % span);
                if (!port_taken(e, proto, hip, p, mine, n_mine) && port_free_on_host(proto, p)) {
                        *out = p;
                        return 0;
                }
        }
        return -ENOSPC;
}

static void add_port(json_t *arr, const struct net_rules_port *p)
{
        json_t *j = json_pack("{s:i, s:I, s:i, s:I, s:i}", "Proto", p->proto, "HostIp",
                              (json_int_t)p->host_ip, "HostPort", p->host_port, "Addr",
                              (json_int_t)p->addr, "Port", p->port);
        if (j && p->has6) {
                char a6[46];
                net_addr6_format(&p->addr6, a6);
                json_object_set_new(j, "Addr6", json_string(a6));
        }
        json_array_append_new(arr, j);
}

static int ports_of(json_t *arr, struct net_rules_port **out, size_t *n)
{
        size_t k = json_array_size(arr);
        struct net_rules_port *v = calloc(k + 1, sizeof(*v));
        if (v == NULL)
                return -ENOMEM;
        size_t i;
        json_t *p;
        json_array_foreach (arr, i, p) {
                v[i].proto = (int)json_integer_value(json_object_get(p, "Proto"));
                v[i].host_ip = (uint32_t)json_integer_value(json_object_get(p, "HostIp"));
                v[i].host_port = (uint16_t)json_integer_value(json_object_get(p, "HostPort"));
                v[i].addr = (uint32_t)json_integer_value(json_object_get(p, "Addr"));
                v[i].port = (uint16_t)json_integer_value(json_object_get(p, "Port"));
                v[i].has6 = net_addr6_parse(str(p, "Addr6"), &v[i].addr6) == 0;
        }
        *out = v;
        *n = k;
        return 0;
}

/* PortBindings and (-P) ExposedPorts as rules toward addr (and addr6 unless NULL, for the
 * bindings on every address) (e->lock held). */
static int plan_ports(struct eng *e, json_t *config, uint32_t addr, const char *addr6, json_t **out,
                      struct gerr **err)
{
        json_t *hc = json_object_get(config, "HostConfig");
        json_t *binds = json_object_get(hc, "PortBindings");
        bool all = json_is_true(json_object_get(hc, "PublishAllPorts"));
        json_t *arr = json_array();
        struct net_rules_port mine[256];
        size_t n = 0;
        _cleanup_json_ json_t *todo = json_object();
        const char *key;
        json_t *v;
        json_object_foreach (binds, key, v)
                json_object_set(todo, key, v);
        if (all)
                json_object_foreach (json_object_get(config, "ExposedPorts"), key, v)
                        if (json_array_size(json_object_get(todo, key)) == 0)
                                json_object_set_new(todo, key, json_pack("[{s:s, s:s}]",
                                                                         "HostIp", "",
                                                                         "HostPort", ""));
        json_object_foreach (todo, key, v) {
                uint16_t port;
                int proto;
                if (parse_port_key(key, &port, &proto) < 0)
                        continue;
                size_t i;
                json_t *b;
                json_array_foreach (v, i, b) {
                        if (n == ARRAY_SIZE(mine)) {
                                json_decref(arr);
                                return eng_err(err, E2BIG, "too many published ports");
                        }
                        const char *hp = str(b, "HostPort"), *hips = str(b, "HostIp");
                        uint32_t hip = 0;
                        if (hips && *hips)
                                net_addr_parse(hips, &hip);
                        struct net_rules_port p = {.host_ip = hip, .proto = proto, .addr = addr,
                                                   .port = port};
                        p.has6 = hip == 0 && net_addr6_parse(addr6, &p.addr6) == 0;
                        long want = hp && *hp ? strtol(hp, NULL, 10) : 0;
                        char hipbuf[16];
                        net_addr_format(hip, hipbuf);
                        if (want > 0) {
                                p.host_port = (uint16_t)want;
                                if (port_taken(e, proto, hip, p.host_port, mine, n)) {
                                        json_decref(arr);
                                        return eng_err(err, EBUSY,
                                                       "driver failed programming external "
                                                       "connectivity on endpoint: Bind for "
                                                       "%s:%ld failed: port is already allocated",
                                                       hipbuf, want);
                                }
                        } else if (random_port(e, proto, hip, mine, n, &p.host_port) < 0) {
                                json_decref(arr);
                                return eng_err(err, ENOSPC, "no free host port for %s", key);
                        }
                        mine[n++] = p;
                        add_port(arr, &p);
                }
        }
        *out = arr;
        return 0;
}

/* The IPv6 addresses taken on n: its gateway's and its endpoints' (e->lock held). */
static void used_addrs6(struct eng *e, const struct eng_net *n, struct net_addr6 **out, size_t *cnt)
{
        size_t k = 0, cap = 1;
        for (struct eng_ctr *c = e->ctrs; c; c = c->next)
                cap += json_object_size(json_object_get(c->config, EPS_KEY));
        struct net_addr6 *v = calloc(cap, sizeof(*v));
        if (v != NULL) {
                v[k++] = n->gateway6;
                for (struct eng_ctr *c = e->ctrs; c; c = c->next) {
                        const char *key;
                        json_t *ep;
                        json_object_foreach (json_object_get(c->config, EPS_KEY), key, ep) {
                                if (k < cap && strcmp(str(ep, "NetworkID") ?: "", n->id) == 0 &&
                                    net_addr6_parse(str(ep, "GlobalIPv6Address"), &v[k]) == 0)
                                        k++;
                        }
                }
        }
        *out = v;
        *cnt = v ? k : 0;
}

static void veth_name(const char *net_id, const char *ctr_id, char out[16])
{
        snprintf(out, 16, "ve%.5s%.8s", net_id, ctr_id);
}

/* Whether one of the endpoints is on a user-defined network (those have the resolver). */
static bool has_user_network(json_t *eps)
{
        const char *key;
        json_t *v;
        json_object_foreach (eps, key, v)
                if (strcmp(key, "bridge") != 0)
                        return true;
        return false;
}

/* An address (the wanted one or the first free), a MAC and names for c on n (e->lock held). */
static int alloc_endpoint(struct eng *e, struct eng_ctr *c, struct eng_net *n, json_t *cfg,
                          const char *ifname, bool primary, json_t **out, struct gerr **err)
{
        int r = 0;
        const char *ip = str(json_object_get(cfg, "IPAMConfig"), "IPv4Address");
        _cleanup_free_ uint32_t *used = NULL;
        size_t nu = 0;
        used_addrs(e, n, &used, &nu);
        uint32_t a = 0;
        if (ip && *ip) {
                net_addr_parse(ip, &a);
                for (size_t k = 0; k < nu; k++)
                        if (used[k] == a)
                                return eng_err(err, EEXIST,
                                               "Address already in use: %s on network %s", ip,
                                               n->name);
        } else if (net_addr_pick(&n->subnet, n->has_range ? &n->range : NULL, used, nu, &a) < 0) {
                return eng_err(err, ENOSPC, "no available IPv4 addresses on network %s", n->name);
        }
        uint8_t mac[6];
        const char *mc = str(cfg, "MacAddress");
        if (mc == NULL || *mc == '\0' || net_mac_parse(mc, mac) < 0)
                net_mac_from_addr(a, mac);
        char ips[16], gws[16], macs[18], hif[16], epid[65];
        net_addr_format(a, ips);
        net_addr_format(n->gateway, gws);
        net_mac_format(mac, macs);
        bool sub = eng_net_is_sublink(n);
        bool ipvlan = strcmp(n->driver, "ipvlan") == 0;
        if (sub)
                hif[0] = '\0'; /* the link lives in the container only */
        else
                veth_name(n->id, c->id, hif);
        eng_gen_id(epid);
        *out =
            json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:i, s:b}", "NetworkID", n->id,
                      "EndpointID", epid, "IPAddress", ips, "IPPrefixLen", n->subnet.len, "Gateway",
                      gws, "MacAddress", ipvlan ? "" : macs, "HostIf", hif, "IfName", ifname,
                      "Bridge", n->bridge, "Mtu", n->mtu, "DefaultRoute", primary && !n->internal);
        if (*out && sub)
                json_object_update_new(*out, json_pack("{s:s, s:s, s:i}", "Driver", n->driver,
                                                       "Parent", n->parent, "Mode", n->mode));
        if (*out == NULL)
                return gerr_set(err, ENOMEM, "endpoint");
        if (!n->ipv6)
                return r;
        /* Dual stack: an IPv6 address too (--ip6 or the first free one). */
        const char *ip6 = str(json_object_get(cfg, "IPAMConfig"), "IPv6Address");
        _cleanup_free_ struct net_addr6 *used6 = NULL;
        struct net_addr6 a6;
        used_addrs6(e, n, &used6, &nu);
        if (ip6 && *ip6) {
                net_addr6_parse(ip6, &a6);
                for (size_t k = 0; k < nu; k++)
                        if (memcmp(&used6[k], &a6, sizeof(a6)) == 0)
                                r = eng_err(err, EEXIST, "Address already in use: %s on network %s",
                                            ip6, n->name);
        } else if (net_addr6_pick(&n->subnet6, used6, nu, &a6) < 0) {
                r = eng_err(err, ENOSPC, "no available IPv6 addresses on network %s", n->name);
        }
        if (r < 0) {
                json_decref(*out);
                *out = NULL;
                return r;
        }
        char ip6s[46], gw6s[46];
        net_addr6_format(&a6, ip6s);
        net_addr6_format(&n->gateway6, gw6s);
        json_object_set_new(*out, "GlobalIPv6Address", json_string(ip6s));
        json_object_set_new(*out, "GlobalIPv6PrefixLen", json_integer(n->subnet6.len));
        json_object_set_new(*out, "IPv6Gateway", json_string(gw6s));
        return r;
}

int eng_net_prepare(struct eng *e, struct eng_ctr *c, json_t **plan_out, struct gerr **err)
{
        struct eng_netmgr *m = e->net;
        *plan_out = NULL;
        json_t *hc = json_object_get(c->config, "HostConfig");
        const char *nm = str(hc, "NetworkMode") ?: "bridge";
        if (strncmp(nm, "container:", 10) == 0 || strcmp(nm, "host") == 0)
                return 0;
        pthread_mutex_lock(&m->lock);
        pthread_mutex_lock(&e->lock);
        json_t *want = json_object_get(json_object_get(c->config, "NetworkingConfig"),
                                       "EndpointsConfig");
        json_t *eps = json_object();
        json_t *order = json_array();
        json_t *ports = NULL;
        json_t *self_ips = json_array();
        int r = 0, ifn = 0;
        struct eng_net *primary = eng_net_find_locked(m, nm);
        if (primary == NULL)
                r = eng_err(err, ENOENT, "network %s not found", nm);
        /* The primary network first: it is eth0 and has the default route and the ports. */
        const char *names[64];
        size_t nn = 0;
        if (primary)
                names[nn++] = primary->name;
        const char *key;
        json_t *v;
        json_object_foreach (want, key, v)
                if (nn < ARRAY_SIZE(names) && (primary == NULL || strcmp(key, primary->name)))
                        names[nn++] = key;
        for (size_t i = 0; i < nn && r >= 0; i++) {
                struct eng_net *n = eng_net_find_locked(m, names[i]);
                if (n == NULL) {
                        r = eng_err(err, ENOENT, "network %s not found", names[i]);
                        break;
                }
                if (!eng_net_has_ipam(n))
                        continue;
                if (m->host == NULL) {
                        r = eng_err(err, ENOTSUP, "network %s: no netlink here", n->name);
                        break;
                }
                json_t *cfg = json_object_get(want, n->name);
                char ifname[16];
                snprintf(ifname, sizeof(ifname), "eth%d", ifn++);
                json_t *ep = NULL;
                if ((r = alloc_endpoint(e, c, n, cfg, ifname, primary == n, &ep, err)) < 0)
                        break;
                char ips[16];
                snprintf(ips, sizeof(ips), "%s", str(ep, "IPAddress"));
                json_object_set_new(eps, n->name, ep);
                json_array_append_new(order, json_string(n->name));
                json_array_append_new(self_ips, json_string(ips));
                if (str(ep, "GlobalIPv6Address"))
                        json_array_append_new(self_ips, json_string(str(ep, "GlobalIPv6Address")));
                /* No NAT on macvlan/ipvlan: dockerd publishes nothing there either. */
                if (n == primary && !eng_net_is_sublink(n)) {
                        uint32_t a = 0;
                        net_addr_parse(ips, &a);
                        r = plan_ports(e, c->config, a, str(ep, "GlobalIPv6Address"), &ports, err);
                }
        }
        if (r >= 0) {
                json_object_set(c->config, EPS_KEY, eps);
                json_object_set_new(c->config, PORTS_KEY, ports ? ports : json_array());
                ports = NULL;
                json_object_set_new(c->config, "_EndpointOrder", json_incref(order));
                eng_store_save_config(e, c, NULL);
        }
        json_decref(ports);
        char id[65];
        snprintf(id, sizeof(id), "%s", c->id);
        _cleanup_json_ json_t *config = json_incref(c->config);
        pthread_mutex_unlock(&e->lock);
        pthread_mutex_unlock(&m->lock);
        if (r >= 0 && json_array_size(self_ips) > 0) {
                _cleanup_free_ char *dir = eng_ctr_dir(e, id);
                r = eng_spec_write_hosts(config, dir, self_ips, err);
                if (r >= 0)
                        r = eng_spec_write_resolv(config, eng_net_dns_servers(e, config), dir,
                                                  has_user_network(eps), err);
        }
        json_decref(self_ips);
        if (r < 0) {
                json_decref(eps);
                json_decref(order);
                eng_net_release(e, c, NULL);
                return r;
        }
        *plan_out = json_pack("{s:o, s:o}", "eps", eps, "order", order);
        return 0;
}

/* A macvlan/ipvlan endpoint: its link made on the parent inside the container. */
static int plumb_sublink(struct eng_netmgr *m, json_t *ep, int nsfd, struct gerr **err)
{
        const char *drv = str(ep, "Driver");
        struct net_sublink s = {.kind = strcmp(drv, "ipvlan") == 0 ? NET_IPVLAN : NET_MACVLAN,
                                .parent = str(ep, "Parent"),
                                .mode = (int)json_integer_value(json_object_get(ep, "Mode")),
                                .ifname = str(ep, "IfName"),
                                .netns_fd = nsfd,
                                .plen = (int)json_integer_value(json_object_get(ep, "IPPrefixLen")),
                                .mtu = (int)json_integer_value(json_object_get(ep, "Mtu"))};
        net_addr_parse(str(ep, "IPAddress"), &s.addr);
        if (json_is_true(json_object_get(ep, "DefaultRoute")))
                net_addr_parse(str(ep, "Gateway"), &s.gateway);
        if (s.kind == NET_MACVLAN)
                net_mac_parse(str(ep, "MacAddress"), s.mac);
        return net_sublink_add(m->host, &s, err);
}

static int plumb_endpoint(struct eng_netmgr *m, json_t *ep, int nsfd, struct gerr **err)
{
        if (str(ep, "Driver") != NULL)
                return plumb_sublink(m, ep, nsfd, err);
        struct net_veth v = {.host_name = str(ep, "HostIf"), .bridge = str(ep, "Bridge"),
                             .ifname = str(ep, "IfName"), .netns_fd = nsfd,
                             .plen = (int)json_integer_value(json_object_get(ep, "IPPrefixLen")),
                             .mtu = (int)json_integer_value(json_object_get(ep, "Mtu"))};
        net_addr_parse(str(ep, "IPAddress"), &v.addr);
        if (json_is_true(json_object_get(ep, "DefaultRoute")))
                net_addr_parse(str(ep, "Gateway"), &v.gateway);
        net_mac_parse(str(ep, "MacAddress"), v.mac);
        if (net_addr6_parse(str(ep, "GlobalIPv6Address"), &v.addr6) == 0) {
                v.has6 = true;
                v.plen6 = (int)json_integer_value(json_object_get(ep, "GlobalIPv6PrefixLen"));
                v.has_gw6 = json_is_true(json_object_get(ep, "DefaultRoute")) &&
                            net_addr6_parse(str(ep, "IPv6Gateway"), &v.gateway6) == 0;
        }
        int r = net_veth_add(m->host, &v, err);
        if (r == -EEXIST) {
                /* The last run's veth, not yet gone with its namespace. */
                if (err && *err) {
                        gerr_free(*err);
                        *err = NULL;
                }
                net_link_delete(m->host, v.host_name, NULL);
                r = net_veth_add(m->host, &v, err);
        }
        return r;
}

/* ep's container on the fast path of its network, made at its first endpoint (m->lock held).
 * Best effort: without it the bridge carries the container's traffic, as it always can. */
static void fast_add(struct eng_netmgr *m, json_t *ep)
{
        const char *hif = str(ep, "HostIf");
        struct eng_net *n = eng_net_find_locked(m, str(ep, "NetworkID"));
        if (m->no_fast || n == NULL || !n->icc || strcmp(n->driver, "bridge") != 0 ||
            str(ep, "Driver") != NULL || hif == NULL || *hif == '\0')
                return;
        struct gerr *err = NULL;
        if (n->fast == NULL && net_fast_open(&n->fast, &err) < 0) {
                log_info("no fast path between containers (%s): bridges carry all", err->msg);
                gerr_free(err);
                m->no_fast = true;
                return;
        }
        uint32_t addr = 0;
        uint8_t mac[6];
        unsigned idx = if_nametoindex(hif);
        if (idx == 0 || net_addr_parse(str(ep, "IPAddress"), &addr) < 0 ||
            net_mac_parse(str(ep, "MacAddress"), mac) < 0)
                return;
        if (net_fast_add(n->fast, addr, (int)idx, mac, &err) < 0) {
                log_warn("network %s: %s", n->name, err->msg);
                gerr_free(err);
        }
}

static void fast_remove(struct eng_netmgr *m, json_t *ep)
{
        struct eng_net *n = eng_net_find_locked(m, str(ep, "NetworkID"));
        uint32_t addr = 0;
        if (n != NULL && n->fast != NULL && net_addr_parse(str(ep, "IPAddress"), &addr) == 0)
                net_fast_remove(n->fast, addr);
}

void eng_net_fast_readopt(struct eng *e)
{
        struct eng_netmgr *m = e->net;
        pthread_mutex_lock(&e->lock);
        for (struct eng_ctr *c = e->ctrs; c; c = c->next) {
                const char *key;
                json_t *ep;
                if (c->running)
                        json_object_foreach (json_object_get(c->config, EPS_KEY), key, ep)
                                fast_add(m, ep);
        }
        pthread_mutex_unlock(&e->lock);
}

int eng_net_plumb(struct eng *e, struct eng_ctr *c, json_t *plan, pid_t pid, struct gerr **err)
{
        struct eng_netmgr *m = e->net;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
        _cleanup_close_ int nsfd = -1;
        json_t *hc = json_object_get(c->config, "HostConfig");
        const char *nm = str(hc, "NetworkMode") ?: "bridge";
        if (strncmp(nm, "container:", 10) == 0 || strcmp(nm, "host") == 0)
                return 0;
        nsfd = open(path, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0)
                return gerr_set(err, errno, "open %s", path);
        json_t *eps = json_object_get(plan, "eps");
        size_t i;
        json_t *name;
        int r = 0;
        json_array_foreach (json_object_get(plan, "order"), i, name) {
                json_t *ep = json_object_get(eps, json_string_value(name));
                r = plumb_endpoint(m, ep, nsfd, err);
                if (r < 0)
                        return gerr_wrap(err, "network %s", json_string_value(name));
                pthread_mutex_lock(&m->lock);
                fast_add(m, ep);
                pthread_mutex_unlock(&m->lock);
        }
        if (json_array_size(json_object_get(plan, "order")) == 0)
                r = net_netns_lo_up(nsfd, err);
        if (r < 0)
                return r;
        if (has_user_network(eps) && (r = eng_dns_add(e, c->id, c->config, nsfd, err)) < 0)
                return r;
        pthread_mutex_lock(&e->lock);
        _cleanup_free_ struct net_rules_port *ports = NULL;
        size_t np = 0;
        ports_of(json_object_get(c->config, PORTS_KEY), &ports, &np);
        pthread_mutex_unlock(&e->lock);
        if (np > 0 && m->host) {
                _cleanup_free_ char *s = net_rules_ports_script(m->table, true, ports, np);
                pthread_mutex_lock(&m->lock);
                r = s ? net_nft_run(m->host, s, err) : gerr_set(err, ENOMEM, "ports");
                pthread_mutex_unlock(&m->lock);
        }
        return r;
}

/* Take c's endpoints out of its record (e->lock held); the caller undoes them in the kernel. */
static void detach_locked(struct eng *e, struct eng_ctr *c, json_t **eps, json_t **ports)
{
        *eps = json_incref(json_object_get(c->config, EPS_KEY));
        *ports = json_incref(json_object_get(c->config, PORTS_KEY));
        bool had = *eps || *ports;
        json_object_del(c->config, EPS_KEY);
        json_object_del(c->config, PORTS_KEY);
        json_object_del(c->config, "_EndpointOrder");
        if (had && !c->removed)
                eng_store_save_config(e, c, NULL);
}

/* The host end hif left to the kernel: noted in left by its index, which no later link gets
 * (a restart of the same container makes a veth of the same name). */
static bool leave_to_kernel(struct eng_net_leftover *left, const char *hif)
{
        unsigned idx = if_nametoindex(hif);
        if (idx == 0)
                return true;
        int *a = realloc(left->ifindex, (left->n + 1) * sizeof(*a));
        if (a == NULL)
                return false;
        left->ifindex = a;
        a[left->n++] = (int)idx;
        return true;
}

static void undo(struct eng *e, json_t *eps, json_t *ports, struct eng_net_leftover *left)
{
        struct eng_netmgr *m = e->net;
        if (m->host == NULL)
                return;
        const char *key;
        json_t *ep;
        json_object_foreach (eps, key, ep) {
                struct gerr *err = NULL;
                /* macvlan/ipvlan links live in the container's namespace: they go with it
                 * (or, on disconnect, by sublink_delete). */
                const char *hif = str(ep, "HostIf");
                if (hif == NULL || *hif == '\0')
                        continue;
                fast_remove(m, ep);
                if (left != NULL && leave_to_kernel(left, hif))
                        continue;
                if (net_link_delete(m->host, hif, &err) < 0) {
                        log_warn("network %s: %s", key, err->msg);
                        gerr_free(err);
                }
        }
        _cleanup_free_ struct net_rules_port *p = NULL;
        size_t np = 0;
        if (json_array_size(ports) > 0 && ports_of(ports, &p, &np) == 0) {
                _cleanup_free_ char *s = net_rules_ports_script(m->table, false, p, np);
                struct gerr *err = NULL;
                if (s && net_nft_run(m->host, s, &err) < 0) {
                        log_debug("ports: %s", err->msg);
                        gerr_free(err);
                }
        }
}

/* macvlan/ipvlan links of eps out of the namespace nsfd, while it still exists: the kernel
 * would remove them only when it frees the namespace, at some later moment. */
static void sublinks_delete(struct eng_netmgr *m, int nsfd, json_t *eps)
{
        const char *key;
        json_t *ep;
        json_object_foreach (eps, key, ep) {
                struct gerr *err = NULL;
                if (m->host == NULL || str(ep, "Driver") == NULL)
                        continue;
                if (net_netns_link_delete(m->host, nsfd, str(ep, "IfName"), &err) < 0) {
                        log_warn("network %s: %s", key, err->msg);
                        gerr_free(err);
                }
        }
}

void eng_net_release(struct eng *e, struct eng_ctr *c, struct eng_net_leftover *left)
{
        struct eng_netmgr *m = e->net;
        json_t *eps = NULL, *ports = NULL;
        pthread_mutex_lock(&m->lock);
        pthread_mutex_lock(&e->lock);
        detach_locked(e, c, &eps, &ports);
        pthread_mutex_unlock(&e->lock);
        /* The resolver's socket holds the namespace of a container on a user network, which
         * macvlan/ipvlan ones always are: the way back in after its processes are gone. */
        _cleanup_close_ int nsfd = eng_dns_netns(e, c->id);
        if (nsfd >= 0)
                sublinks_delete(m, nsfd, eps);
        eng_dns_remove(e, c->id);
        undo(e, eps, ports, left);
        pthread_mutex_unlock(&m->lock);
        json_decref(eps);
        json_decref(ports);
}

void eng_net_reap(struct eng *e, struct eng_net_leftover *left)
{
        char name[IF_NAMESIZE];
        for (int waited_ms = 0;; waited_ms += 10) {
                size_t alive = 0;
                for (size_t i = 0; i < left->n; i++)
                        if (left->ifindex[i] > 0 && if_indextoname((unsigned)left->ifindex[i], name))
                                alive++;
                        else
                                left->ifindex[i] = 0;
                if (alive == 0 || waited_ms >= 3000)
                        break;
                nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        }
        struct eng_netmgr *m = e->net;
        for (size_t i = 0; i < left->n; i++) {
                if (left->ifindex[i] == 0 || m->host == NULL)
                        continue;
                struct gerr *err = NULL;
                pthread_mutex_lock(&m->lock);
                if (net_link_delete_index(m->host, left->ifindex[i], &err) < 0) {
                        log_warn("%s", err->msg);
                        gerr_free(err);
                } else {
                        log_info("link %d outlived its container's namespace: deleted",
                                 left->ifindex[i]);
                }
                pthread_mutex_unlock(&m->lock);
        }
        free(left->ifindex);
        *left = (struct eng_net_leftover){0};
}

void eng_net_release_stale(struct eng *e)
{
        pthread_mutex_lock(&e->lock);
        for (struct eng_ctr *c = e->ctrs; c; c = c->next) {
                if (c->running)
                        continue;
                json_t *eps = NULL, *ports = NULL;
                detach_locked(e, c, &eps, &ports);
                if (eps || ports) {
                        pthread_mutex_unlock(&e->lock);
                        /* Ports are not in the rules being rebuilt: only links to go. */
                        json_decref(ports);
                        undo(e, eps, NULL, NULL);
                        json_decref(eps);
                        pthread_mutex_lock(&e->lock);
                }
        }
        pthread_mutex_unlock(&e->lock);
}

void eng_net_ports_all(struct eng *e, struct net_rules_port **out, size_t *n)
{
        size_t cap = 0, k = 0;
        for (struct eng_ctr *c = e->ctrs; c; c = c->next)
                cap += json_array_size(json_object_get(c->config, PORTS_KEY));
        struct net_rules_port *v = calloc(cap + 1, sizeof(*v));
        for (struct eng_ctr *c = e->ctrs; c && v; c = c->next) {
                _cleanup_free_ struct net_rules_port *p = NULL;
                size_t np = 0;
                if (ports_of(json_object_get(c->config, PORTS_KEY), &p, &np) < 0)
                        continue;
                for (size_t i = 0; i < np && k < cap; i++)
                        v[k++] = p[i];
        }
        *out = v;
        *n = v ? k : 0;
}

bool eng_net_in_use(struct eng *e, const struct eng_net *n)
{
        for (struct eng_ctr *c = e->ctrs; c; c = c->next) {
                const char *key;
                json_t *ep;
                json_object_foreach (json_object_get(c->config, EPS_KEY), key, ep)
                        if (strcmp(str(ep, "NetworkID") ?: "", n->id) == 0)
                                return true;
        }
        return false;
}

void eng_net_containers_json(struct eng *e, const struct eng_net *n, json_t *obj)
{
        for (struct eng_ctr *c = e->ctrs; c; c = c->next) {
                const char *key;
                json_t *ep;
                json_object_foreach (json_object_get(c->config, EPS_KEY), key, ep) {
                        if (strcmp(str(ep, "NetworkID") ?: "", n->id) != 0)
                                continue;
                        char cidr[24];
                        snprintf(cidr, sizeof(cidr), "%s/%d", str(ep, "IPAddress"),
                                 (int)json_integer_value(json_object_get(ep, "IPPrefixLen")));
                        char cidr6[56] = "";
                        if (str(ep, "GlobalIPv6Address"))
                                snprintf(cidr6, sizeof(cidr6), "%s/%d",
                                         str(ep, "GlobalIPv6Address"),
                                         (int)json_integer_value(
                                             json_object_get(ep, "GlobalIPv6PrefixLen")));
                        json_object_set_new(obj, c->id,
                                            json_pack("{s:s, s:s, s:s, s:s, s:s}", "Name", c->name,
                                                      "EndpointID", str(ep, "EndpointID"),
                                                      "MacAddress", str(ep, "MacAddress"),
                                                      "IPv4Address", cidr, "IPv6Address", cidr6));
                }
        }
}

/* ---- the container's NetworkSettings (e->lock held) ---- */

static json_t *endpoint_json(struct eng *e, const char *name, json_t *want, json_t *ep)
{
        struct eng_netmgr *m = e->net;
        /* m->lock is not held here: the id is read from the endpoint or the list as is. */
        struct eng_net *n = NULL;
        for (struct eng_net *x = m->nets; x; x = x->next)
                if (strcmp(x->name, name) == 0)
                        n = x;
        json_t *ipam = json_object_get(want, "IPAMConfig");
        json_t *aliases = json_object_get(want, "Aliases");
        const char *mac = ep ? str(ep, "MacAddress") : str(want, "MacAddress");
        return json_pack(
            "{s:O, s:n, s:O, s:s, s:n, s:i, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i,"
            " s:n}",
            "IPAMConfig", json_is_object(ipam) ? ipam : json_null(), "Links", "Aliases",
            json_is_array(aliases) ? aliases : json_null(), "MacAddress", mac ?: "", "DriverOpts",
            "GwPriority", 0, "NetworkID",
            ep  ? str(ep, "NetworkID")
            : n ? n->id
                : "",
            "EndpointID", ep ? str(ep, "EndpointID") : "", "Gateway", ep ? str(ep, "Gateway") : "",
            "IPAddress", ep ? str(ep, "IPAddress") : "", "IPPrefixLen",
            ep ? (int)json_integer_value(json_object_get(ep, "IPPrefixLen")) : 0, "IPv6Gateway",
            ep ? str(ep, "IPv6Gateway") ?: "" : "", "GlobalIPv6Address",
            ep ? str(ep, "GlobalIPv6Address") ?: "" : "", "GlobalIPv6PrefixLen",
            ep ? (int)json_integer_value(json_object_get(ep, "GlobalIPv6PrefixLen")) : 0,
            "DNSNames");
}

/* dockerd's DNSNames of an endpoint on a user network: name, short id, aliases. */
static void dns_names(const struct eng_ctr *c, const char *net, json_t *want, json_t *j)
{
        if (strcmp(net, "bridge") == 0 || strcmp(net, "host") == 0 || strcmp(net, "none") == 0)
                return;
        char sid[13];
        snprintf(sid, sizeof(sid), "%.12s", c->id);
        json_t *names = json_pack("[ss]", c->name, sid);
        size_t i;
        json_t *a;
        json_array_foreach (json_object_get(want, "Aliases"), i, a)
                json_array_append(names, a);
        json_object_set_new(j, "DNSNames", names);
}

static json_t *ports_json(const struct eng_ctr *c)
{
        json_t *out = json_object();
        if (!c->running)
                return out;
        const char *key;
        json_t *v;
        json_object_foreach (json_object_get(c->config, "ExposedPorts"), key, v)
                json_object_set_new(out, key, json_null());
        size_t i;
        json_t *p;
        json_array_foreach (json_object_get(c->config, PORTS_KEY), i, p) {
                char k[32], hip[16], hp[8];
                snprintf(k, sizeof(k), "%d/%s", (int)json_integer_value(json_object_get(p, "Port")),
                         net_proto_name((int)json_integer_value(json_object_get(p, "Proto"))));
                net_addr_format((uint32_t)json_integer_value(json_object_get(p, "HostIp")), hip);
                snprintf(hp, sizeof(hp), "%d",
                         (int)json_integer_value(json_object_get(p, "HostPort")));
                json_t *arr = json_object_get(out, k);
                if (!json_is_array(arr)) {
                        arr = json_array();
                        json_object_set_new(out, k, arr);
                }
                json_array_append_new(arr, json_pack("{s:s, s:s}", "HostIp", hip, "HostPort", hp));
        }
        return out;
}

json_t *eng_net_settings(struct eng *e, const struct eng_ctr *c)
{
        json_t *want = json_object_get(json_object_get(c->config, "NetworkingConfig"),
                                       "EndpointsConfig");
        json_t *eps = json_object_get(c->config, EPS_KEY);
        json_t *nets = json_object();
        const char *key;
        json_t *v;
        json_object_foreach (want, key, v) {
                json_t *j = endpoint_json(e, key, v, c->running ? json_object_get(eps, key) : NULL);
                dns_names(c, key, v, j);
                json_object_set_new(nets, key, j);
        }
        json_t *def = c->running ? json_object_get(eps, "bridge") : NULL;
        char sandbox[64] = "";
        if (c->running && c->pid > 0 &&
            strcmp(str(json_object_get(c->config, "HostConfig"), "NetworkMode") ?: "", "host"))
                snprintf(sandbox, sizeof(sandbox), "/proc/%d/ns/net", (int)c->pid);
        return json_pack("{s:s, s:s, s:s, s:o, s:b, s:s, s:i, s:n, s:n, s:s, s:s, s:s, s:i, s:s,"
                         " s:i, s:s, s:s, s:o}",
                         "Bridge", "", "SandboxID", c->running ? c->id : "", "SandboxKey",
                         sandbox, "Ports", ports_json(c), "HairpinMode", 0,
                         "LinkLocalIPv6Address", "", "LinkLocalIPv6PrefixLen", 0,
                         "SecondaryIPAddresses", "SecondaryIPv6Addresses", "EndpointID",
                         def ? str(def, "EndpointID") : "", "Gateway",
                         def ? str(def, "Gateway") : "", "GlobalIPv6Address", "",
                         "GlobalIPv6PrefixLen", 0, "IPAddress", def ? str(def, "IPAddress") : "",
                         "IPPrefixLen",
                         def ? (int)json_integer_value(json_object_get(def, "IPPrefixLen")) : 0,
                         "IPv6Gateway", "", "MacAddress", def ? str(def, "MacAddress") : "",
                         "Networks", nets);
}

json_t *eng_net_ps_ports(const struct eng_ctr *c)
{
        json_t *out = json_array();
        const char *key;
        json_t *v;
        json_object_foreach (json_object_get(c->config, "ExposedPorts"), key, v) {
                uint16_t port;
                int proto;
                bool published = false;
                if (parse_port_key(key, &port, &proto) < 0)
                        continue;
                size_t i;
                json_t *p;
                json_array_foreach (c->running ? json_object_get(c->config, PORTS_KEY) : NULL, i,
                                    p)
                        if (json_integer_value(json_object_get(p, "Port")) == port &&
                            json_integer_value(json_object_get(p, "Proto")) == proto)
                                published = true;
                if (!published)
                        json_array_append_new(out, json_pack("{s:i, s:s}", "PrivatePort", port,
                                                             "Type", net_proto_name(proto)));
        }
        size_t i;
        json_t *p;
        json_array_foreach (c->running ? json_object_get(c->config, PORTS_KEY) : NULL, i, p) {
                char hip[16];
                net_addr_format((uint32_t)json_integer_value(json_object_get(p, "HostIp")), hip);
                json_array_append_new(
                        out, json_pack("{s:s, s:I, s:I, s:s}", "IP", hip, "PrivatePort",
                                       json_integer_value(json_object_get(p, "Port")),
                                       "PublicPort", json_integer_value(json_object_get(p, "HostPort")),
                                       "Type",
                                       net_proto_name((int)json_integer_value(
                                               json_object_get(p, "Proto")))));
        }
        return out;
}

/* ---- connect, disconnect ---- */

static int find_both(struct eng *e, const char *net_ref, const char *ctr_ref,
                     struct eng_net **n, struct eng_ctr **c, struct gerr **err)
{
        *n = eng_net_find_locked(e->net, net_ref);
        if (*n == NULL)
                return eng_err(err, ENOENT, "network %s not found", net_ref);
        if (ctr_ref == NULL || *ctr_ref == '\0')
                return eng_err(err, EINVAL, "no container given");
        return eng_ctr_find(e, ctr_ref, c, err);
}

/* A running container's hosts (and resolv.conf) again after a connect or disconnect, in place
 * (they are bind-mounted): its addresses, and after a connect the resolver once it is on a user
 * network, as dockerd (which leaves resolv.conf alone on disconnect). */
static void rewrite_etc(struct eng *e, struct eng_ctr *c, bool resolv)
{
        pthread_mutex_lock(&e->lock);
        json_t *eps = json_object_get(c->config, EPS_KEY);
        json_t *order = json_object_get(c->config, "_EndpointOrder");
        _cleanup_json_ json_t *self_ips = json_array();
        size_t i;
        json_t *v;
        /* The networks of the start first (eth0 is the hostname's), then the connected ones. */
        json_array_foreach (order, i, v) {
                json_t *ep = json_object_get(eps, json_string_value(v) ?: "");
                if (ep)
                        json_array_append_new(self_ips, json_string(str(ep, "IPAddress") ?: ""));
        }
        const char *key;
        json_object_foreach (eps, key, v) {
                bool listed = false;
                json_t *o;
                json_array_foreach (order, i, o)
                        listed = listed || strcmp(json_string_value(o) ?: "", key) == 0;
                if (!listed)
                        json_array_append_new(self_ips, json_string(str(v, "IPAddress") ?: ""));
        }
        bool embedded = has_user_network(eps);
        _cleanup_json_ json_t *config = json_incref(c->config);
        _cleanup_free_ char *dir = eng_ctr_dir(e, c->id);
        pthread_mutex_unlock(&e->lock);
        struct gerr *err = NULL;
        if (eng_spec_write_hosts(config, dir, self_ips, &err) < 0 ||
            (resolv && eng_spec_write_resolv(config, eng_net_dns_servers(e, config), dir,
                                             embedded, &err) < 0)) {
                log_warn("container %.12s: %s", c->id, err->msg);
                gerr_free(err);
        }
}

int eng_network_connect(struct eng *e, const char *ref, json_t *body, struct gerr **err)
{
        struct eng_netmgr *m = e->net;
        json_t *cfg = json_object_get(body, "EndpointConfig");
        cfg = json_is_object(cfg) ? json_deep_copy(cfg) : json_object();
        pthread_mutex_lock(&m->lock);
        pthread_mutex_lock(&e->lock);
        struct eng_net *n = NULL;
        struct eng_ctr *c = NULL;
        int r = find_both(e, ref, str(body, "Container"), &n, &c, err);
        json_t *want = NULL;
        const char *nm = "";
        if (r >= 0) {
                nm = str(json_object_get(c->config, "HostConfig"), "NetworkMode") ?: "bridge";
                want = json_object_get(json_object_get(c->config, "NetworkingConfig"),
                                       "EndpointsConfig");
        }
        if (r >= 0 && (!eng_net_has_ipam(n) || strcmp(nm, "host") == 0))
                r = eng_err(err, EPERM,
                            "container cannot be disconnected from host network or connected to "
                            "host network");
        else if (r >= 0 && (strcmp(nm, "none") == 0 || strncmp(nm, "container:", 10) == 0))
                r = eng_err(err, EPERM,
                            "container sharing network namespace with another container or host "
                            "cannot be connected to any other network");
        else if (r >= 0 && json_object_get(want, n->name))
                r = eng_err(err, EPERM, "endpoint with name %s already exists in network %s",
                            c->name, n->name);
        const char *ip = str(json_object_get(cfg, "IPAMConfig"), "IPv4Address");
        uint32_t a;
        if (r >= 0 && ip && *ip &&
            (n->is_default || net_addr_parse(ip, &a) < 0 ||
             !net_prefix_contains(n->has_range ? &n->range : &n->subnet, a)))
                r = eng_err(err, EINVAL, n->is_default ? "user specified IP address is "
                                                         "supported on user defined networks only"
                                                       : "no configured subnet or ip-range "
                                                         "contain the IP address %s",
                            ip);
        json_t *ep = NULL;
        pid_t pid = 0;
        if (r >= 0 && c->running) {
                json_t *eps = json_object_get(c->config, EPS_KEY);
                char ifname[16];
                snprintf(ifname, sizeof(ifname), "eth%zu", json_object_size(eps));
                r = alloc_endpoint(e, c, n, cfg, ifname, false, &ep, err);
                if (r >= 0) {
                        if (!json_is_object(eps)) {
                                eps = json_object();
                                json_object_set_new(c->config, EPS_KEY, eps);
                        }
                        json_object_set(eps, n->name, ep);
                        pid = c->pid;
                }
        }
        if (r >= 0) {
                json_object_set(want, n->name, cfg);
                eng_store_save_config(e, c, NULL);
        }
        pthread_mutex_unlock(&e->lock);
        if (r >= 0 && ep != NULL) {
                char path[64];
                snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
                _cleanup_close_ int nsfd = open(path, O_RDONLY | O_CLOEXEC);
                r = nsfd < 0 ? gerr_set(err, errno, "open %s", path)
                             : plumb_endpoint(m, ep, nsfd, err);
                if (r >= 0)
                        fast_add(m, ep);
                if (r >= 0 && !n->is_default)
                        r = eng_dns_add(e, c->id, c->config, nsfd, err);
                if (r < 0) {
                        pthread_mutex_lock(&e->lock);
                        json_object_del(json_object_get(c->config, EPS_KEY), n->name);
                        json_object_del(want, n->name);
                        eng_store_save_config(e, c, NULL);
                        pthread_mutex_unlock(&e->lock);
                }
                if (r >= 0)
                        rewrite_etc(e, c, true);
        }
        if (r >= 0)
                eng_event(e, "network", "connect", n->id,
                          json_pack("{s:s, s:s, s:s}", "container", c->id, "name", n->name,
                                    "type", n->driver));
        json_decref(ep);
        json_decref(cfg);
        pthread_mutex_unlock(&m->lock);
        pthread_mutex_lock(&e->lock);
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        return r;
}

/* A macvlan/ipvlan link out of a running container (a stopped one's went with its namespace). */
static void sublink_delete(struct eng_netmgr *m, pid_t pid, const char *ifname)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
        _cleanup_close_ int nsfd = open(path, O_RDONLY | O_CLOEXEC);
        struct gerr *err = NULL;
        if (m->host == NULL || nsfd < 0 || ifname == NULL)
                return;
        if (net_netns_link_delete(m->host, nsfd, ifname, &err) < 0) {
                log_warn("disconnect: %s", err->msg);
                gerr_free(err);
        }
}

int eng_network_disconnect(struct eng *e, const char *ref, json_t *body, struct gerr **err)
{
        struct eng_netmgr *m = e->net;
        pthread_mutex_lock(&m->lock);
        pthread_mutex_lock(&e->lock);
        struct eng_net *n = NULL;
        struct eng_ctr *c = NULL;
        int r = find_both(e, ref, str(body, "Container"), &n, &c, err);
        json_t *want = r >= 0 ? json_object_get(json_object_get(c->config, "NetworkingConfig"),
                                                "EndpointsConfig")
                              : NULL;
        if (r >= 0 && json_object_get(want, n->name) == NULL)
                r = eng_err(err, EPERM, "container %s is not connected to network %s", c->id,
                            n->name);
        if (r >= 0 && (strcmp(n->driver, "host") == 0))
                r = eng_err(err, EPERM,
                            "container cannot be disconnected from host network or connected to "
                            "host network");
        json_t *ep = NULL, *ports = NULL;
        pid_t pid = 0;
        if (r >= 0) {
                pid = c->running ? c->pid : 0;
                json_t *eps = json_object_get(c->config, EPS_KEY);
                ep = json_incref(json_object_get(eps, n->name));
                json_object_del(eps, n->name);
                json_object_del(want, n->name);
                /* The ports went to the primary network's address: gone with it. */
                const char *nm = str(json_object_get(c->config, "HostConfig"), "NetworkMode");
                if (nm && strcmp(nm, n->name) == 0) {
                        ports = json_incref(json_object_get(c->config, PORTS_KEY));
                        json_object_del(c->config, PORTS_KEY);
                }
                eng_store_save_config(e, c, NULL);
        }
        pthread_mutex_unlock(&e->lock);
        if (r >= 0) {
                _cleanup_json_ json_t *one = json_object();
                if (ep)
                        json_object_set(one, n->name, ep);
                undo(e, one, ports, NULL);
                if (ep && str(ep, "Driver") && pid > 0)
                        sublink_delete(m, pid, str(ep, "IfName"));
                if (pid > 0)
                        rewrite_etc(e, c, false);
                eng_event(e, "network", "disconnect", n->id,
                          json_pack("{s:s, s:s, s:s}", "container", c->id, "name", n->name,
                                    "type", n->driver));
        }
        json_decref(ep);
        json_decref(ports);
        pthread_mutex_unlock(&m->lock);
        pthread_mutex_lock(&e->lock);
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        return r;
}
