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
