/* Links over netlink (libnl-route-3): bridges, veth pairs into container namespaces, addresses, routes. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <sys/socket.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/inet6.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "network/network_internal.h"

/* libnl's codes mapped back to errno, so the API layer can tell EEXIST (409) and the rest. */
int net_nl_fail(struct gerr **err, int nlerr, const char *fmt, const char *obj)
{
        static const struct {
                int nl, e;
        } map[] = {{NLE_EXIST, EEXIST},   {NLE_OBJ_NOTFOUND, ENOENT}, {NLE_NODEV, ENODEV},
                   {NLE_PERM, EPERM},     {NLE_INVAL, EINVAL},        {NLE_BUSY, EBUSY},
                   {NLE_NOMEM, ENOMEM},   {NLE_RANGE, ERANGE},        {NLE_OPNOTSUPP, EOPNOTSUPP},
                   {NLE_NOADDR, EADDRNOTAVAIL}};
        int n = nlerr < 0 ? -nlerr : nlerr, code = EIO;
        for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                if (map[i].nl == n)
                        code = map[i].e;
        char what[256];
        snprintf(what, sizeof(what), fmt, obj);
        gerr_set(err, 0, "%s: %s", what, nl_geterror(n));
        if (err && *err)
                (*err)->errnum = code;
        return -code;
}

int net_host_open(struct net_host **out, struct gerr **err)
{
        struct net_host *h = calloc(1, sizeof(*h));
        if (h == NULL)
                return gerr_set(err, ENOMEM, "network");
        h->host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        h->sk = nl_socket_alloc();
        if (h->host_ns < 0 || h->sk == NULL) {
                int r = gerr_set(err, h->host_ns < 0 ? errno : ENOMEM, "netlink socket");
                net_host_close(h);
                return r;
        }
        int r = nl_connect(h->sk, NETLINK_ROUTE);
        if (r < 0) {
                r = net_nl_fail(err, r, "%s", "netlink connect");
                net_host_close(h);
                return r;
        }
        if ((r = net_nft_open(h, err)) < 0) {
                net_host_close(h);
                return r;
        }
        *out = h;
        return 0;
}

void net_host_close(struct net_host *h)
{
        if (h == NULL)
                return;
        if (h->sk)
                nl_socket_free(h->sk);
        if (h->host_ns >= 0)
                close(h->host_ns);
        net_nft_close(h);
        free(h);
}

int net_sysctl_write(const char *path, const char *value, struct gerr **err)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return gerr_set(err, errno, "open %s", path);
        size_t n = strlen(value);
        if (write(fd, value, n) != (ssize_t)n)
                return gerr_set(err, errno, "write %s", path);
        return 0;
}

static struct nl_addr *addr4(uint32_t a, int plen)
{
        uint32_t be = htonl(a);
        struct nl_addr *na = nl_addr_build(AF_INET, &be, 4);
        if (na)
                nl_addr_set_prefixlen(na, plen);
        return na;
}

static struct nl_addr *addr6(const struct net_addr6 *a, int plen)
{
        struct nl_addr *na = nl_addr_build(AF_INET6, a->b, 16);
        if (na)
                nl_addr_set_prefixlen(na, plen);
        return na;
}

/* A global IPv6 address, usable at once (no duplicate address detection: the addresses of a
 * network are handed out by us alone). */
static int add_addr6(struct nl_sock *sk, int ifindex, const struct net_addr6 *a, int plen,
                     const char *name, struct gerr **err)
{
        struct rtnl_addr *ad = rtnl_addr_alloc();
        struct nl_addr *local = addr6(a, plen);
        int r = -NLE_NOMEM;
        if (ad && local) {
                rtnl_addr_set_ifindex(ad, ifindex);
                rtnl_addr_set_local(ad, local);
                rtnl_addr_set_flags(ad, IFA_F_NODAD);
                r = rtnl_addr_add(sk, ad, 0);
        }
        nl_addr_put(local);
        rtnl_addr_put(ad);
        if (r == -NLE_EXIST)
                return 0;
        return r < 0 ? net_nl_fail(err, r, "add IPv6 address to %s", name) : 0;
}

/* A default route via gw (IPv4 when gw6 is NULL) in sk's namespace; with neither gateway, an
 * IPv4 route through the device itself (ipvlan l3). */
static int add_default_route(struct nl_sock *sk, int ifindex, uint32_t gw4,
                             const struct net_addr6 *gw6, struct gerr **err)
{
        struct rtnl_route *rt = rtnl_route_alloc();
        struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
        struct nl_addr *dst = gw6 ? addr6(&(struct net_addr6){{0}}, 0) : addr4(0, 0);
        struct nl_addr *gw = gw6 ? addr6(gw6, 128) : gw4 ? addr4(gw4, 32) : NULL;
        bool dev = gw6 == NULL && gw4 == 0;
        int nr = -NLE_NOMEM;
        if (rt && nh && dst && (gw || dev)) {
                rtnl_route_set_family(rt, gw6 ? AF_INET6 : AF_INET);
                rtnl_route_set_dst(rt, dst);
                if (gw)
                        rtnl_route_nh_set_gateway(nh, gw);
                else
                        rtnl_route_set_scope(rt, RT_SCOPE_LINK);
                rtnl_route_nh_set_ifindex(nh, ifindex);
                rtnl_route_add_nexthop(rt, TAKE_PTR(nh));
                nr = rtnl_route_add(sk, rt, NLM_F_CREATE | NLM_F_EXCL);
        }
        if (nh)
                rtnl_route_nh_free(nh);
        nl_addr_put(dst);
        nl_addr_put(gw);
        rtnl_route_put(rt);
        if (nr < 0)
                return net_nl_fail(err, nr, "%s default route in the container",
                                   gw6 ? "IPv6" : "IPv4");
        return 0;
}

int net_host_routes(struct net_host *h, struct net_prefix **out, size_t *n, struct gerr **err)
{
        struct nl_cache *cache = NULL;
        int r = rtnl_route_alloc_cache(h->sk, AF_INET, 0, &cache);
        if (r < 0)
                return net_nl_fail(err, r, "%s", "list routes");
        size_t cap = (size_t)nl_cache_nitems(cache) + 1, k = 0;
        struct net_prefix *v = calloc(cap, sizeof(*v));
        if (v == NULL) {
                nl_cache_free(cache);
                return gerr_set(err, ENOMEM, "list routes");
        }
        for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
                struct rtnl_route *rt = (struct rtnl_route *)o;
                if (rtnl_route_get_table(rt) != RT_TABLE_MAIN)
                        continue;
                struct nl_addr *d = rtnl_route_get_dst(rt);
                if (d == NULL || nl_addr_get_prefixlen(d) == 0 || nl_addr_get_len(d) != 4)
                        continue;
                uint32_t be;
                memcpy(&be, nl_addr_get_binary_addr(d), 4);
                v[k].len = (int)nl_addr_get_prefixlen(d);
                v[k].addr = ntohl(be) & net_prefix_mask(v[k].len);
                k++;
        }
        nl_cache_free(cache);
        *out = v;
        *n = k;
        return 0;
}

int net_bridges_named(struct net_host *h, const char *prefix, char ***out, struct gerr **err)
{
        struct nl_cache *cache = NULL;
        int r = rtnl_link_alloc_cache(h->sk, AF_UNSPEC, &cache);
        if (r < 0)
                return net_nl_fail(err, r, "%s", "list links");
        size_t cap = (size_t)nl_cache_nitems(cache) + 1, k = 0;
        char **v = calloc(cap, sizeof(*v));
        if (v == NULL) {
                nl_cache_free(cache);
                return gerr_set(err, ENOMEM, "list links");
        }
        for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
                struct rtnl_link *l = (struct rtnl_link *)o;
                const char *name = rtnl_link_get_name(l), *type = rtnl_link_get_type(l);
                if (name && type && strcmp(type, "bridge") == 0 &&
                    strncmp(name, prefix, strlen(prefix)) == 0 && k + 1 < cap)
                        v[k++] = strdup(name);
        }
        nl_cache_free(cache);
        *out = v;
        return (int)k;
}

bool net_link_exists(struct net_host *h, const char *name)
{
        struct rtnl_link *l = NULL;
        if (rtnl_link_get_kernel(h->sk, 0, name, &l) < 0)
                return false;
        rtnl_link_put(l);
        return true;
}

/* The link by name, or by index when name is NULL; one that is gone already is no error. */
static int link_delete(struct net_host *h, const char *name, int ifindex, struct gerr **err)
{
        char what[16];
        if (name == NULL)
                snprintf(what, sizeof(what), "%d", ifindex);
        struct rtnl_link *l = rtnl_link_alloc();
        if (l == NULL)
                return gerr_set(err, ENOMEM, "delete link %s", name ? name : what);
        if (name != NULL)
                rtnl_link_set_name(l, name);
        else
                rtnl_link_set_ifindex(l, ifindex);
        int r = rtnl_link_delete(h->sk, l);
        rtnl_link_put(l);
        if (r == -NLE_NODEV || r == -NLE_OBJ_NOTFOUND)
                return 0;
        return r < 0 ? net_nl_fail(err, r, "delete link %s", name ? name : what) : 0;
}

int net_link_delete(struct net_host *h, const char *name, struct gerr **err)
{
        return link_delete(h, name, 0, err);
}

int net_link_delete_index(struct net_host *h, int ifindex, struct gerr **err)
{
        return link_delete(h, NULL, ifindex, err);
}

int net_link_set_up(struct nl_sock *sk, int ifindex, const char *name, struct gerr **err)
{
        struct rtnl_link *orig = rtnl_link_alloc(), *chg = rtnl_link_alloc();
        int r = -NLE_NOMEM;
        if (orig && chg) {
                rtnl_link_set_ifindex(orig, ifindex);
                rtnl_link_set_flags(chg, IFF_UP);
                r = rtnl_link_change(sk, orig, chg, 0);
        }
        rtnl_link_put(orig);
        rtnl_link_put(chg);
        return r < 0 ? net_nl_fail(err, r, "set %s up", name) : 0;
}

/* An IPv4-only network: no IPv6 link-local address on the interface (set before it goes up,
 * which is when the kernel would make one), so no router solicitations and neighbour
 * discovery chatter from the container; dockerd disables IPv6 there too. */
static int no_ipv6_link_local(struct nl_sock *sk, int ifindex, const char *name,
                              struct gerr **err)
{
        struct rtnl_link *orig = rtnl_link_alloc(), *chg = rtnl_link_alloc();
        int r = -NLE_NOMEM;
        if (orig && chg) {
                rtnl_link_set_ifindex(orig, ifindex);
                r = rtnl_link_inet6_set_addr_gen_mode(chg, 1 /* IN6_ADDR_GEN_MODE_NONE */);
                if (r >= 0)
                        r = rtnl_link_change(sk, orig, chg, 0);
        }
        rtnl_link_put(orig);
        rtnl_link_put(chg);
        /* A kernel without IPv6 has nothing to turn off. */
        if (r == -NLE_OPNOTSUPP || r == -NLE_AF_NOSUPPORT)
                return 0;
        return r < 0 ? net_nl_fail(err, r, "addrgenmode none on %s", name) : 0;
}

static int add_addr(struct nl_sock *sk, int ifindex, uint32_t a, int plen, const char *name,
                    struct gerr **err)
{
        struct rtnl_addr *ad = rtnl_addr_alloc();
        struct nl_addr *local = addr4(a, plen);
        uint32_t bc = plen < 31 ? a | ~net_prefix_mask(plen) : 0;
        struct nl_addr *brd = bc ? addr4(bc, 32) : NULL;
        int r = -NLE_NOMEM;
        if (ad && local) {
                rtnl_addr_set_ifindex(ad, ifindex);
                rtnl_addr_set_local(ad, local);
                if (brd)
                        rtnl_addr_set_broadcast(ad, brd);
                r = rtnl_addr_add(sk, ad, 0);
        }
        nl_addr_put(local);
        nl_addr_put(brd);
        rtnl_addr_put(ad);
        if (r == -NLE_EXIST)
                return 0;
        return r < 0 ? net_nl_fail(err, r, "add address to %s", name) : 0;
}

int net_bridge_ensure(struct net_host *h, const char *name, uint32_t gw, int plen,
                      const struct net_addr6 *gw6, int plen6, int mtu, struct gerr **err)
{
        struct rtnl_link *l = NULL;
        int r = rtnl_link_get_kernel(h->sk, 0, name, &l);
        if (r < 0) {
                struct rtnl_link *br = rtnl_link_bridge_alloc();
                if (br == NULL)
                        return gerr_set(err, ENOMEM, "create bridge %s", name);
                rtnl_link_set_name(br, name);
                if (mtu > 0)
                        rtnl_link_set_mtu(br, (unsigned)mtu);
                r = rtnl_link_add(h->sk, br, NLM_F_CREATE | NLM_F_EXCL);
                rtnl_link_put(br);
                if (r < 0 && r != -NLE_EXIST)
                        return net_nl_fail(err, r, "create bridge %s", name);
                if ((r = rtnl_link_get_kernel(h->sk, 0, name, &l)) < 0)
                        return net_nl_fail(err, r, "find bridge %s", name);
        }
        int ifindex = rtnl_link_get_ifindex(l);
        bool was_up = (rtnl_link_get_flags(l) & IFF_UP) != 0;
        /* An adopted bridge takes the MTU asked now (gantryd --mtu changed across a restart). */
        if (mtu > 0 && rtnl_link_get_mtu(l) != (unsigned)mtu) {
                struct rtnl_link *chg = rtnl_link_alloc();
                if (chg == NULL) {
                        rtnl_link_put(l);
                        return gerr_set(err, ENOMEM, "bridge %s", name);
                }
                rtnl_link_set_mtu(chg, (unsigned)mtu);
                r = rtnl_link_change(h->sk, l, chg, 0);
                rtnl_link_put(chg);
                if (r < 0) {
                        rtnl_link_put(l);
                        return net_nl_fail(err, r, "set the MTU of bridge %s", name);
                }
        }
        rtnl_link_put(l);
        if (gw != 0 && (r = add_addr(h->sk, ifindex, gw, plen, name, err)) < 0)
                return r;
        char path[128];
        if (gw6 != NULL) {
                /* A dual-stack network: IPv6 on (a host may default it off), its gateway. */
                snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
                if ((r = net_sysctl_write(path, "0", err)) < 0 ||
                    (r = add_addr6(h->sk, ifindex, gw6, plen6, name, err)) < 0)
                        return r;
        } else if (!was_up && (r = no_ipv6_link_local(h->sk, ifindex, name, err)) < 0) {
                return r;
        }
        snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", name);
        if ((r = net_sysctl_write(path, "1", err)) < 0)
                return r;
        return net_link_set_up(h->sk, ifindex, name, err);
}

/* A netlink socket bound inside netns_fd: this thread enters it for the socket's creation. */
int net_netns_socket(int host_ns, int netns_fd, struct nl_sock **out, struct gerr **err)
{
        if (setns(netns_fd, CLONE_NEWNET) < 0)
                return gerr_set(err, errno, "enter the container's network namespace");
        struct nl_sock *sk = nl_socket_alloc();
        int r = sk ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;
        if (setns(host_ns, CLONE_NEWNET) < 0) {
                /* A thread left in the wrong namespace would plumb the next container wrong. */
                abort();
        }
        if (r < 0) {
                if (sk)
                        nl_socket_free(sk);
                return net_nl_fail(err, r, "%s", "netlink socket in the container's namespace");
        }
        *out = sk;
        return 0;
}

int net_netns_lo_up(int netns_fd, struct gerr **err)
{
        _cleanup_close_ int host_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (host_ns < 0)
                return gerr_set(err, errno, "open /proc/thread-self/ns/net");
        struct nl_sock *sk = NULL;
        int r = net_netns_socket(host_ns, netns_fd, &sk, err);
        if (r < 0)
                return r;
        r = net_link_set_up(sk, 1, "lo", err);
        nl_socket_free(sk);
        return r;
}

/* Inside netns_fd: ifname gets addr/plen, no IPv6 link-local, up, lo up, and a default route
 * via gateway (or, dev_route, straight out of ifname: ipvlan l3 has no neighbour to ask). */
int net_netns_configure(struct net_host *h, int netns_fd, const char *ifname, uint32_t addr,
                        int plen, uint32_t gateway, bool dev_route, const struct net_addr6 *addr6,
                        int plen6, const struct net_addr6 *gateway6, struct gerr **err)
{
        struct nl_sock *sk = NULL;
        int r = net_netns_socket(h->host_ns, netns_fd, &sk, err);
        struct rtnl_link *in = NULL;
        if (r >= 0 && (r = rtnl_link_get_kernel(sk, 0, ifname, &in)) < 0)
                r = net_nl_fail(err, r, "find %s in the container", ifname);
        if (r >= 0) {
                int ifindex = rtnl_link_get_ifindex(in);
                rtnl_link_put(in);
                r = add_addr(sk, ifindex, addr, plen, ifname, err);
                /* IPv6 (and its link-local address) only on a dual-stack network's endpoint. */
                if (r >= 0 && addr6 != NULL)
                        r = add_addr6(sk, ifindex, addr6, plen6, ifname, err);
                else if (r >= 0)
                        r = no_ipv6_link_local(sk, ifindex, ifname, err);
                if (r >= 0)
                        r = net_link_set_up(sk, ifindex, ifname, err);
                if (r >= 0)
                        r = net_link_set_up(sk, 1, "lo", err);
                if (r >= 0 && (gateway != 0 || dev_route))
                        r = add_default_route(sk, ifindex, gateway, NULL, err);
                if (r >= 0 && gateway6 != NULL)
                        r = add_default_route(sk, ifindex, 0, gateway6, err);
        }
        if (sk)
                nl_socket_free(sk);
        return r;
}

/* Hairpin on bridge port name, as dockerd sets it without its userland proxy: a container
 * reaching its own published port is DNAT'ed back to itself, and with br_netfilter the bridge
 * must send that frame out of the port it came in by. By netlink (what `bridge link set
 * hairpin on` sends), not sysfs: /sys shows the namespace it was mounted in, maybe not ours. */
static int set_hairpin(struct net_host *h, const char *name, struct gerr **err)
{
        unsigned idx = if_nametoindex(name);
        if (idx == 0)
                return gerr_set(err, errno, "bridge port %s", name);
        struct nl_msg *msg = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
        struct ifinfomsg ifi = {.ifi_family = AF_BRIDGE, .ifi_index = (int)idx};
        struct nlattr *nest = NULL;
        int r = -NLE_NOMEM;
        if (msg && nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) == 0 &&
            (nest = nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED)) != NULL &&
            nla_put_u8(msg, IFLA_BRPORT_MODE, 1) == 0) {
                nla_nest_end(msg, nest);
                r = nl_send_auto(h->sk, msg);
                if (r >= 0)
                        r = nl_wait_for_ack(h->sk);
        }
        nlmsg_free(msg);
        return r < 0 ? net_nl_fail(err, r, "hairpin mode on %s", name) : 0;
}

int net_veth_add(struct net_host *h, const struct net_veth *v, struct gerr **err)
{
        unsigned br = if_nametoindex(v->bridge);
        if (br == 0)
                return gerr_set(err, errno, "bridge %s", v->bridge);
        struct rtnl_link *veth = rtnl_link_veth_alloc();
        if (veth == NULL)
                return gerr_set(err, ENOMEM, "create veth %s", v->host_name);
        struct rtnl_link *peer = rtnl_link_veth_get_peer(veth);
        rtnl_link_set_name(veth, v->host_name);
        rtnl_link_set_master(veth, (int)br);
        rtnl_link_set_flags(veth, IFF_UP);
        rtnl_link_set_name(peer, v->ifname);
        rtnl_link_set_ns_fd(peer, v->netns_fd);
        struct nl_addr *mac = nl_addr_build(AF_LLC, v->mac, 6);
        rtnl_link_set_addr(peer, mac);
        nl_addr_put(mac);
        if (v->mtu > 0) {
                rtnl_link_set_mtu(veth, (unsigned)v->mtu);
                rtnl_link_set_mtu(peer, (unsigned)v->mtu);
        }
        /* One message: both ends, the peer inside the namespace, the host end on the bridge. */
        int r = rtnl_link_add(h->sk, veth, NLM_F_CREATE | NLM_F_EXCL);
        rtnl_link_put(peer);
        rtnl_link_veth_release(veth);
        if (r < 0)
                return net_nl_fail(err, r, "create veth %s", v->host_name);

        r = set_hairpin(h, v->host_name, err);
        if (r >= 0)
                r = net_netns_configure(h, v->netns_fd, v->ifname, v->addr, v->plen, v->gateway,
                                        false, v->has6 ? &v->addr6 : NULL, v->plen6,
                                        v->has6 && v->has_gw6 ? &v->gateway6 : NULL, err);
        if (r < 0)
                net_link_delete(h, v->host_name, NULL);
        return r;
}

int net_netns_udp_socket(int netns_fd, uint32_t addr, uint16_t port, struct gerr **err)
{
        _cleanup_close_ int host_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (host_ns < 0)
                return gerr_set(err, errno, "open /proc/thread-self/ns/net");
        if (setns(netns_fd, CLONE_NEWNET) < 0)
                return gerr_set(err, errno, "enter the container's network namespace");
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        int e = errno;
        if (fd >= 0) {
                struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port),
                                         .sin_addr.s_addr = htonl(addr)};
                if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                        e = errno;
                        close(fd);
                        fd = -1;
                }
        }
        if (setns(host_ns, CLONE_NEWNET) < 0)
                abort();
        if (fd < 0)
                return gerr_set(err, e, "DNS socket in the container");
        return fd;
}
