/* What the network library's files share: the host handle. */
#pragma once

#include <netlink/netlink.h>

#include "network/network.h"

struct nft_worker;

struct net_host {
        struct nl_sock *sk; /* NETLINK_ROUTE in the daemon's namespace */
        int host_ns;        /* the daemon's network namespace, to come back to */
        struct nft_worker *nft; /* nft.c: the context and its thread */
};

int net_nft_open(struct net_host *h, struct gerr **err);
void net_nft_close(struct net_host *h);

/* link.c, for the other link files */
/* A libnl error as errno plus a message ("<fmt with obj>: <libnl's text>"). */
int net_nl_fail(struct gerr **err, int nlerr, const char *fmt, const char *obj);
int net_link_set_up(struct nl_sock *sk, int ifindex, const char *name, struct gerr **err);
/* A netlink socket bound inside netns_fd (the calling thread enters it and comes back). */
int net_netns_socket(int host_ns, int netns_fd, struct nl_sock **out, struct gerr **err);
/* Inside netns_fd: ifname gets addr/plen, up (lo too), a default route via gateway, or out
 * of ifname itself when dev_route; with addr6 also that IPv6 address (and a default IPv6 route
 * via gateway6 when given), else no IPv6 at all on ifname. */
int net_netns_configure(struct net_host *h, int netns_fd, const char *ifname, uint32_t addr,
                        int plen, uint32_t gateway, bool dev_route, const struct net_addr6 *addr6,
                        int plen6, const struct net_addr6 *gateway6, struct gerr **err);
