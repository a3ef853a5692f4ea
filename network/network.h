/* The network library: IPAM, links over netlink (libnl-route-3) and rules (libnftables). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/gerr.h"

/* ---- ipam.c: IPv4 and IPv6 prefixes and allocation (pure functions) ---- */

struct net_prefix {
        uint32_t addr; /* host byte order, masked to len */
        int len;       /* 0..32 */
};

/* "a.b.c.d/len" (host bits must be zero unless loose) -> EINVAL naming s. */
int net_prefix_parse(const char *s, bool loose, struct net_prefix *out);
/* "a.b.c.d" -> host order address. */
int net_addr_parse(const char *s, uint32_t *out);
void net_addr_format(uint32_t a, char buf[16]);
void net_prefix_format(const struct net_prefix *p, char buf[20]);
uint32_t net_prefix_mask(int len);
bool net_prefix_contains(const struct net_prefix *p, uint32_t a);
bool net_prefix_overlap(const struct net_prefix *a, const struct net_prefix *b);
/* The first subnet of length size inside pool that overlaps none of used[]; ENOSPC if none. */
int net_pool_pick(const struct net_prefix *pool, int size, const struct net_prefix *used,
                  size_t n_used, struct net_prefix *out);
/* The first free host address in range (inside subnet), past the network address, not the
 * broadcast, not in used[] (which holds the gateway too); ENOSPC if none. */
int net_addr_pick(const struct net_prefix *subnet, const struct net_prefix *range,
                  const uint32_t *used, size_t n_used, uint32_t *out);
/* IPv6: an address in network byte order, a prefix of one. */
struct net_addr6 {
        uint8_t b[16];
};
struct net_prefix6 {
        struct net_addr6 addr; /* masked to len */
        int len;               /* 0..128 */
};
int net_addr6_parse(const char *s, struct net_addr6 *out);
void net_addr6_format(const struct net_addr6 *a, char buf[46]);
/* "addr/len": host bits must be zero unless loose (they are masked off then). */
int net_prefix6_parse(const char *s, bool loose, struct net_prefix6 *out);
bool net_prefix6_contains(const struct net_prefix6 *p, const struct net_addr6 *a);
bool net_prefix6_overlap(const struct net_prefix6 *a, const struct net_prefix6 *b);
/* The lowest address of subnet past the network address (index 1, 2, ...) not in used[];
 * ENOSPC after 65535 tries. */
int net_addr6_pick(const struct net_prefix6 *subnet, const struct net_addr6 *used, size_t n_used,
                   struct net_addr6 *out);
/* Docker's MAC for an address: 02:42 then the four address bytes. */
void net_mac_from_addr(uint32_t a, uint8_t mac[6]);
int net_mac_parse(const char *s, uint8_t mac[6]);
void net_mac_format(const uint8_t mac[6], char buf[18]);

/* ---- link.c: bridges, veth pairs, addresses, routes ---- */

struct net_host;

/* One per daemon: a netlink socket in the daemon's network namespace and an nftables
 * context; calls on it are serialized by the caller. */
int net_host_open(struct net_host **out, struct gerr **err);
void net_host_close(struct net_host *h);

/* The IPv4 prefixes routed on the host (main table), for the default pools to avoid. */
int net_host_routes(struct net_host *h, struct net_prefix **out, size_t *n, struct gerr **err);
/* Create (or adopt) bridge name with gw/plen (and gw6/plen6 unless NULL: IPv6 on; else no
 * IPv6 link-local address) on it, up, MTU mtu (0: the default).
 * route_localnet lets 127.0.0.1 reach a DNATed container. */
int net_bridge_ensure(struct net_host *h, const char *name, uint32_t gw, int plen,
                      const struct net_addr6 *gw6, int plen6, int mtu, struct gerr **err);
/* The names of the bridges whose names start with prefix (NULL-terminated, strv); the count. */
int net_bridges_named(struct net_host *h, const char *prefix, char ***out, struct gerr **err);
/* Remove a link if it exists (0 when absent). */
int net_link_delete(struct net_host *h, const char *name, struct gerr **err);
int net_link_delete_index(struct net_host *h, int ifindex, struct gerr **err);
bool net_link_exists(struct net_host *h, const char *name);

struct net_veth {
        const char *host_name; /* the host side, a port of bridge */
        const char *bridge;
        const char *ifname;    /* inside the container: eth0 ... */
        int netns_fd;          /* the container's network namespace */
        uint8_t mac[6];
        uint32_t addr;
        int plen;
        uint32_t gateway; /* 0: no default route */
        int mtu;
        bool has6, has_gw6; /* a dual-stack network: addr6/plen6, a route via gateway6 */
        struct net_addr6 addr6, gateway6;
        int plen6;
};
/* A veth pair: one end a port of v->bridge, the other in the namespace as v->ifname with its
 * address, up, and a default route via v->gateway. Nothing left behind on error. */
int net_veth_add(struct net_host *h, const struct net_veth *v, struct gerr **err);
/* Loopback up inside the namespace. */
int net_netns_lo_up(int netns_fd, struct gerr **err);

/* ---- sublink.c: macvlan and ipvlan endpoints, 802.1q parents ---- */

/* parent exists: nothing to do. "IFACE.VID" whose IFACE exists: the 802.1q link made and up,
 * *created set. Otherwise EINVAL naming parent; ENOTSUP when the kernel has no 802.1q. */
int net_parent_ensure(struct net_host *h, const char *parent, bool *created, struct gerr **err);
/* "eth0.100" -> "eth0" and 100; false unless name ends in ".<1..4094>" after a base name. */
bool net_vlan_split(const char *name, char base[16], int *vid);
/* Kernel mode values of "bridge|private|vepa|passthru" and "l2|l3|l3s"; -1 when unknown. */
int net_macvlan_mode_parse(const char *s);
int net_ipvlan_mode_parse(const char *s);

enum { NET_MACVLAN, NET_IPVLAN };
struct net_sublink {
        int kind;            /* NET_MACVLAN or NET_IPVLAN */
        const char *parent;  /* the link it hangs off, in the daemon's namespace */
        int mode;            /* from net_*_mode_parse */
        const char *ifname;  /* inside the container */
        int netns_fd;
        uint8_t mac[6];      /* macvlan only: ipvlan links share the parent's */
        uint32_t addr;
        int plen;
        uint32_t gateway;    /* 0: no default route (ipvlan l3: one out of ifname instead) */
        bool dev_route;      /* a default route out of ifname whatever the mode */
        int mtu;
};
/* The link made on s->parent directly inside the namespace as s->ifname, with its address and
 * routes. Nothing left behind on error. */
int net_sublink_add(struct net_host *h, const struct net_sublink *s, struct gerr **err);
/* Remove link name inside netns_fd (0 when absent). */
int net_netns_link_delete(struct net_host *h, int netns_fd, const char *name, struct gerr **err);

/* ---- nft.c: rules through libnftables ---- */

/* Run an nft script atomically (one transaction). */
int net_nft_run(struct net_host *h, const char *script, struct gerr **err);
/* Whether an nft list command succeeds (quietly). */
bool net_nft_ok(struct net_host *h, const char *cmd);
/* A list command's JSON output with handles, NULL when it fails. */
char *net_nft_json(struct net_host *h, const char *cmd);

/* ---- docker_user.c: living beside dockerd ---- */
/* dockerd sets the iptables FORWARD policy to DROP (and loads br_netfilter, so bridged frames
 * pass FORWARD too): a drop in any base chain is final, so an accept in our own table cannot
 * let our bridges' traffic through. The one place dockerd keeps for rules of others, ahead of
 * its own, is the DOCKER-USER chain of table ip filter: our accepts for bridges go there,
 * marked with comment "gantry:<table>", replaced whole on every sync. No-op without dockerd
 * (no such chain). */
int net_docker_user_sync(struct net_host *h, const char *table, const char *const *bridges,
                         size_t n, struct gerr **err);

/* ---- sysctl ---- */
int net_sysctl_write(const char *path, const char *value, struct gerr **err);

/* ---- rules.c: the nftables script of a daemon's networks and published ports ---- */

struct net_rules_net {
        const char *bridge;
        const char *port_glob; /* "ve12345*": the host ends of its veths (icc=false) */
        struct net_prefix subnet;
        uint32_t gateway; /* the bridge's own address in subnet */
        bool internal, icc, masq;
        bool has6; /* dual stack: subnet6 and gateway6 too */
        struct net_prefix6 subnet6;
        struct net_addr6 gateway6;
};
enum { NET_PROTO_TCP = 6, NET_PROTO_UDP = 17, NET_PROTO_SCTP = 132 };
struct net_rules_port {
        uint32_t host_ip; /* 0: every local address */
        int proto;
        uint16_t host_port;
        uint32_t addr; /* the container's */
        uint16_t port;
        bool has6; /* host_ip 0 on a dual-stack network: IPv6 too, toward addr6 */
        struct net_addr6 addr6;
};
/* The whole tables (inet and bridge family, both named table) rebuilt in one transaction:
 * replaces whatever was there, so a restart never duplicates rules. */
char *net_rules_script(const char *table, const struct net_rules_net *nets, size_t n_nets,
                       const struct net_rules_port *ports, size_t n_ports);
/* Add or delete the map elements of ports. */
char *net_rules_ports_script(const char *table, bool add, const struct net_rules_port *ports,
                             size_t n_ports);
const char *net_proto_name(int proto);
int net_proto_parse(const char *s);
/* Delete both tables (absent ones too). */
char *net_rules_delete_script(const char *table);

/* ---- dns.c: the embedded resolver's messages ---- */
enum { NET_DNS_A = 1, NET_DNS_AAAA = 28, NET_DNS_NXDOMAIN = 3, NET_DNS_SERVFAIL = 2 };
struct net_dns_query {
        uint16_t id, qtype, qclass;
        bool rd;
        char name[256]; /* lower case, no trailing dot */
        size_t qend;    /* offset just past the question */
};
/* One standard query with one question; EINVAL for anything else or anything malformed. */
int net_dns_parse_query(const uint8_t *msg, size_t len, struct net_dns_query *q);
/* The response to query: its question, the n A records (or none), rcode. Returns its length,
 * 0 when cap is too small. */
size_t net_dns_answer(const uint8_t *query, const struct net_dns_query *q, const uint32_t *addrs,
                      size_t n, int rcode, uint32_t ttl, uint8_t *out, size_t cap);

/* The same with the n AAAA records of addrs. */
size_t net_dns_answer6(const uint8_t *query, const struct net_dns_query *q,
                       const struct net_addr6 *addrs, size_t n, uint32_t ttl, uint8_t *out,
                       size_t cap);

/* A UDP socket bound to addr:port inside the network namespace netns_fd (the calling thread
 * enters it for the socket's creation and comes back). */
int net_netns_udp_socket(int netns_fd, uint32_t addr, uint16_t port, struct gerr **err);

/* fastpath.c: container to container on one bridge network without the bridge. A BPF hash map
 * (address -> host-side veth, MAC) and a tcx program on every host-side veth of the network
 * that redirects an IPv4 frame for a listed address with its MAC into that container
 * (bpf_redirect_peer); everything else goes on to the bridge. Links are held by fds: they
 * go with the daemon, and the bridge carries everything again. */
struct net_fast;
/* The map and program; fails (EPERM, EINVAL, ENOSYS) where the kernel lacks BPF or tcx. */
int net_fast_open(struct net_fast **out, struct gerr **err);
/* addr (host byte order) lives behind host_ifindex with mac: listed, and the program attached
 * to host_ifindex for its own frames. */
int net_fast_add(struct net_fast *f, uint32_t addr, int host_ifindex, const uint8_t mac[6],
                 struct gerr **err);
void net_fast_remove(struct net_fast *f, uint32_t addr);
void net_fast_close(struct net_fast *f);
