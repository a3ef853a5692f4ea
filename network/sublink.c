/* macvlan and ipvlan endpoints on a parent link, and the 802.1q sub-interfaces they may sit on. */
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netlink/route/link.h>
#include <netlink/route/link/ipvlan.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/vlan.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "network/network_internal.h"

int net_macvlan_mode_parse(const char *s)
{
        static const struct {
                const char *name;
                int mode;
        } modes[] = {{"bridge", MACVLAN_MODE_BRIDGE},
                     {"private", MACVLAN_MODE_PRIVATE},
                     {"vepa", MACVLAN_MODE_VEPA},
                     {"passthru", MACVLAN_MODE_PASSTHRU}};
        for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
                if (strcmp(s, modes[i].name) == 0)
                        return modes[i].mode;
        return -1;
}

int net_ipvlan_mode_parse(const char *s)
{
        if (strcmp(s, "l2") == 0)
                return IPVLAN_MODE_L2;
        if (strcmp(s, "l3") == 0)
                return IPVLAN_MODE_L3;
        if (strcmp(s, "l3s") == 0)
                return IPVLAN_MODE_L3S;
        return -1;
}

bool net_vlan_split(const char *name, char base[16], int *vid)
{
        const char *dot = strrchr(name, '.');
        if (dot == NULL || dot == name || dot[1] == '\0' ||
            strspn(dot + 1, "0123456789") != strlen(dot + 1) || strlen(dot + 1) > 4)
                return false;
        *vid = atoi(dot + 1);
        if (*vid < 1 || *vid > 4094 || (size_t)(dot - name) >= IFNAMSIZ)
                return false;
        snprintf(base, IFNAMSIZ, "%.*s", (int)(dot - name), name);
        return true;
}

int net_parent_ensure(struct net_host *h, const char *parent, bool *created, struct gerr **err)
{
        *created = false;
        if (parent == NULL || *parent == '\0' || strlen(parent) >= IFNAMSIZ)
                return gerr_set(err, EINVAL, "invalid parent interface name \"%s\"", parent ?: "");
        if (net_link_exists(h, parent))
                return 0;
        char base[IFNAMSIZ];
        int vid = 0;
        if (!net_vlan_split(parent, base, &vid) || !net_link_exists(h, base))
                return gerr_set(err, EINVAL, "-o parent interface was not found on the host: %s",
                                parent);
        unsigned bidx = if_nametoindex(base);
        if (bidx == 0)
                return gerr_set(err, EINVAL, "-o parent interface was not found on the host: %s",
                                base);
        struct rtnl_link *l = rtnl_link_vlan_alloc();
        if (l == NULL)
                return gerr_set(err, ENOMEM, "create VLAN link %s", parent);
        rtnl_link_set_name(l, parent);
        rtnl_link_set_link(l, (int)bidx);
        rtnl_link_set_flags(l, IFF_UP);
        int r = rtnl_link_vlan_set_id(l, (uint16_t)vid);
        if (r >= 0)
                r = rtnl_link_add(h->sk, l, NLM_F_CREATE | NLM_F_EXCL);
        rtnl_link_put(l);
        if (r == -NLE_OPNOTSUPP)
                return gerr_set(err, ENOTSUP,
                                "create VLAN link %s: this kernel has no 802.1q VLAN support "
                                "(CONFIG_VLAN_8021Q)",
                                parent);
        if (r < 0)
                return net_nl_fail(err, r, "create VLAN link %s", parent);
        *created = true;
        return 0;
}

int net_sublink_add(struct net_host *h, const struct net_sublink *s, struct gerr **err)
{
        const char *kind = s->kind == NET_IPVLAN ? "ipvlan" : "macvlan";
        unsigned pidx = if_nametoindex(s->parent);
        if (pidx == 0)
                return gerr_set(err, EINVAL, "%s parent interface %s: not found", kind, s->parent);
        struct rtnl_link *l =
            s->kind == NET_IPVLAN ? rtnl_link_ipvlan_alloc() : rtnl_link_macvlan_alloc();
        if (l == NULL)
                return gerr_set(err, ENOMEM, "create %s link", kind);
        int r = 0;
        if (s->kind == NET_IPVLAN) {
                r = rtnl_link_ipvlan_set_mode(l, (uint16_t)s->mode);
        } else {
                r = rtnl_link_macvlan_set_mode(l, (uint32_t)s->mode);
                /* ipvlan links share the parent's address: only macvlan ones get their own. */
                struct nl_addr *mac = nl_addr_build(AF_LLC, s->mac, 6);
                rtnl_link_set_addr(l, mac);
                nl_addr_put(mac);
        }
        /* Made straight inside the container under its final name: IFLA_LINK is resolved in
         * our namespace, the new link registered in the target's, so no name is ever taken on
         * the host. */
        rtnl_link_set_link(l, (int)pidx);
        rtnl_link_set_name(l, s->ifname);
        rtnl_link_set_ns_fd(l, s->netns_fd);
        if (s->mtu > 0)
                rtnl_link_set_mtu(l, (unsigned)s->mtu);
        if (r >= 0)
                r = rtnl_link_add(h->sk, l, NLM_F_CREATE | NLM_F_EXCL);
        rtnl_link_put(l);
        if (r == -NLE_OPNOTSUPP)
                return gerr_set(err, ENOTSUP, "create %s link on %s: this kernel has no %s support",
                                kind, s->parent, kind);
        if (r < 0) {
                char what[64];
                snprintf(what, sizeof(what), "create %s link on %%s", kind);
                return net_nl_fail(err, r, what, s->parent);
        }
        /* ipvlan l3 has no neighbours (no ARP on the link): the default route goes out of
         * the link itself, as dockerd's does, not via the gateway's address. */
        bool l3 = s->kind == NET_IPVLAN && s->mode != IPVLAN_MODE_L2;
        r = net_netns_configure(h, s->netns_fd, s->ifname, s->addr, s->plen, l3 ? 0 : s->gateway,
                                s->dev_route || (l3 && s->gateway), NULL, 0, NULL, err);
        if (r < 0)
                net_netns_link_delete(h, s->netns_fd, s->ifname, NULL);
        return r;
}

int net_netns_link_delete(struct net_host *h, int netns_fd, const char *name, struct gerr **err)
{
        struct nl_sock *sk = NULL;
        int r = net_netns_socket(h->host_ns, netns_fd, &sk, err);
        if (r < 0)
                return r;
        struct rtnl_link *l = rtnl_link_alloc();
        if (l == NULL) {
                nl_socket_free(sk);
                return gerr_set(err, ENOMEM, "delete link %s", name);
        }
        rtnl_link_set_name(l, name);
        r = rtnl_link_delete(sk, l);
        rtnl_link_put(l);
        nl_socket_free(sk);
        if (r == -NLE_NODEV || r == -NLE_OBJ_NOTFOUND)
                return 0;
        return r < 0 ? net_nl_fail(err, r, "delete link %s in the container", name) : 0;
}
