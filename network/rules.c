/* The nftables text of Gantry's rules: masquerade, published ports as DNAT maps, isolation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network/network.h"

const char *net_proto_name(int proto)
{
        return proto == NET_PROTO_UDP ? "udp" : proto == NET_PROTO_SCTP ? "sctp" : "tcp";
}

int net_proto_parse(const char *s)
{
        if (s == NULL || *s == '\0' || strcmp(s, "tcp") == 0)
                return NET_PROTO_TCP;
        if (strcmp(s, "udp") == 0)
                return NET_PROTO_UDP;
        if (strcmp(s, "sctp") == 0)
                return NET_PROTO_SCTP;
        return -1;
}

static void elements(FILE *f, const struct net_rules_port *p, size_t n, bool with_ip)
{
        bool first = true;
        for (size_t i = 0; i < n; i++) {
                if ((p[i].host_ip != 0) != with_ip)
                        continue;
                char hip[16], a[16];
                net_addr_format(p[i].host_ip, hip);
                net_addr_format(p[i].addr, a);
                fprintf(f, "%s", first ? "" : ", ");
                if (with_ip)
                        fprintf(f, "%s . ", hip);
                fprintf(f, "%s . %u : %s . %u", net_proto_name(p[i].proto), p[i].host_port, a,
                        p[i].port);
                first = false;
        }
}

static void elements6(FILE *f, const struct net_rules_port *p, size_t n)
{
        bool first = true;
        for (size_t i = 0; i < n; i++) {
                if (!p[i].has6)
                        continue;
                char a[46];
                net_addr6_format(&p[i].addr6, a);
                fprintf(f, "%s%s . %u : %s . %u", first ? "" : ", ", net_proto_name(p[i].proto),
                        p[i].host_port, a, p[i].port);
                first = false;
        }
}

static size_t count6(const struct net_rules_port *p, size_t n)
{
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                k += p[i].has6;
        return k;
}

static size_t count_ip(const struct net_rules_port *p, size_t n, bool with_ip)
{
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                k += (p[i].host_ip != 0) == with_ip;
        return k;
}

char *net_rules_delete_script(const char *table)
{
        char *s = NULL;
        if (asprintf(&s, "table inet %s {}\ndelete table inet %s\ntable bridge %s {}\n"
                         "delete table bridge %s\n",
                     table, table, table, table) < 0)
                return NULL;
        return s;
}

char *net_rules_script(const char *table, const struct net_rules_net *nets, size_t n_nets,
                       const struct net_rules_port *ports, size_t n_ports)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        if (f == NULL)
                return NULL;
        fprintf(f, "table inet %s {}\ndelete table inet %s\n", table, table);
        fprintf(f, "table bridge %s {}\ndelete table bridge %s\n", table, table);
        fprintf(f, "table inet %s {\n", table);
        fprintf(f, " set bridges {\n  type ifname\n");
        if (n_nets) {
                fprintf(f, "  elements = { ");
                for (size_t i = 0; i < n_nets; i++)
                        fprintf(f, "%s\"%s\"", i ? ", " : "", nets[i].bridge);
                fprintf(f, " }\n");
        }
        fprintf(f, " }\n");
        fprintf(f, " map pub4 {\n  type inet_proto . inet_service : ipv4_addr . inet_service\n");
        if (count_ip(ports, n_ports, false)) {
                fprintf(f, "  elements = { ");
                elements(f, ports, n_ports, false);
                fprintf(f, " }\n");
        }
        fprintf(f, " }\n map pubip4 {\n  type ipv4_addr . inet_proto . inet_service : "
                   "ipv4_addr . inet_service\n");
        if (count_ip(ports, n_ports, true)) {
                fprintf(f, "  elements = { ");
                elements(f, ports, n_ports, true);
                fprintf(f, " }\n");
        }
        fprintf(f,
                " }\n map pub6 {\n  type inet_proto . inet_service : ipv6_addr . inet_service\n");
        if (count6(ports, n_ports)) {
                fprintf(f, "  elements = { ");
                elements6(f, ports, n_ports);
                fprintf(f, " }\n");
        }
        fprintf(f, " }\n");
        /* Container to container on one bridge needs no connection tracking: nothing NATs
         * it and the bridge's own rules (icc) go by port. Where br_netfilter is loaded (as
         * dockerd does) every bridged frame would otherwise take a conntrack lookup and TCP
         * state update. The gateway is left out either way: host services and the masqueraded
         * hairpin of a published port answer through it, and those are tracked. */
        fprintf(f, " chain raw {\n  type filter hook prerouting priority raw; policy accept;\n");
        for (size_t i = 0; i < n_nets; i++) {
                char sub[20], gw[16];
                net_prefix_format(&nets[i].subnet, sub);
                net_addr_format(nets[i].gateway, gw);
                fprintf(f, "  iifname \"%s\" ip saddr %s ip daddr %s ip saddr != %s ip daddr != %s "
                           "notrack\n", nets[i].bridge, sub, sub, gw, gw);
                if (nets[i].has6) {
                        char a6[46], g6[46];
                        net_addr6_format(&nets[i].subnet6.addr, a6);
                        net_addr6_format(&nets[i].gateway6, g6);
                        fprintf(f, "  iifname \"%s\" ip6 saddr %s/%d ip6 daddr %s/%d ip6 saddr != %s "
                                   "ip6 daddr != %s notrack\n", nets[i].bridge, a6,
                                nets[i].subnet6.len, a6, nets[i].subnet6.len, g6, g6);
                }
        }
        fprintf(f, " }\n");
        /* DNAT for new connections to a local address: from outside (prerouting) and from the
         * host itself, 127.0.0.1 included (output). No userland proxy. */
        fprintf(f, " chain prerouting {\n  type nat hook prerouting priority dstnat; policy accept;\n"
                   "  fib daddr type local jump publish\n }\n");
        fprintf(f, " chain output {\n  type nat hook output priority -100; policy accept;\n"
                   "  fib daddr type local jump publish\n }\n");
        fprintf(f, " chain publish {\n"
                   "  dnat ip to ip daddr . meta l4proto . th dport map @pubip4\n"
                   "  dnat ip to meta l4proto . th dport map @pub4\n"
                   "  dnat ip6 to meta l4proto . th dport map @pub6\n }\n");
        fprintf(f, " chain postrouting {\n  type nat hook postrouting priority srcnat; policy accept;\n");
        for (size_t i = 0; i < n_nets; i++) {
                if (!nets[i].masq)
                        continue;
                char sub[20];
                net_prefix_format(&nets[i].subnet, sub);
                fprintf(f, "  ip saddr %s oifname != \"%s\" masquerade\n", sub, nets[i].bridge);
                if (nets[i].has6) {
                        char a6[46];
                        net_addr6_format(&nets[i].subnet6.addr, a6);
                        fprintf(f, "  ip6 saddr %s/%d oifname != \"%s\" masquerade\n", a6,
                                nets[i].subnet6.len, nets[i].bridge);
                }
        }
        /* 127.0.0.1 to a published port: the container must answer the gateway, not its own
         * loopback; a container to a published port (hairpin): the answer must come back
         * through the host's conntrack, not straight over the bridge or to itself. Matched on
         * the source subnet: with br_netfilter a DNAT back onto the bridge is bridged, and the
         * bridge's postrouting hook has no input interface. */
        fprintf(f, "  ct status dnat oifname @bridges ip saddr 127.0.0.0/8 masquerade\n");
        fprintf(f, "  ct status dnat iifname @bridges oifname @bridges masquerade\n");
        for (size_t i = 0; i < n_nets; i++) {
                char sub[20];
                net_prefix_format(&nets[i].subnet, sub);
                fprintf(f, "  ct status dnat oifname @bridges ip saddr %s masquerade\n", sub);
                if (nets[i].has6) {
                        char a6[46];
                        net_addr6_format(&nets[i].subnet6.addr, a6);
                        fprintf(f, "  ct status dnat oifname @bridges ip6 saddr %s/%d masquerade\n",
                                a6, nets[i].subnet6.len);
                }
        }
        fprintf(f, " }\n");
        fprintf(f, " chain forward {\n  type filter hook forward priority filter; policy accept;\n");
        /* Within one bridge first, in one lookup: with br_netfilter every bridged frame comes
         * through here (icc=false is the bridge family's business, below). */
        if (n_nets > 0) {
                fprintf(f, "  iifname . oifname { ");
                for (size_t i = 0; i < n_nets; i++)
                        fprintf(f, "%s\"%s\" . \"%s\"", i ? ", " : "", nets[i].bridge,
                                nets[i].bridge);
                fprintf(f, " } accept\n");
        }
        for (size_t i = 0; i < n_nets; i++) {
                const char *b = nets[i].bridge;
                if (nets[i].internal) {
                        fprintf(f, "  iifname \"%s\" oifname != \"%s\" drop\n", b, b);
                        fprintf(f, "  oifname \"%s\" iifname != \"%s\" drop\n", b, b);
                } else {
                        /* Networks do not reach each other. */
                        fprintf(f, "  iifname \"%s\" oifname @bridges oifname != \"%s\" drop\n", b,
                                b);
                        /* From elsewhere only answers and published ports get in. */
                        fprintf(f, "  oifname \"%s\" iifname != \"%s\" ct state "
                                   "established,related accept\n", b, b);
                        fprintf(f, "  oifname \"%s\" iifname != \"%s\" ct status dnat accept\n", b, b);
                        fprintf(f, "  oifname \"%s\" iifname != \"%s\" drop\n", b, b);
                }
        }
        fprintf(f, " }\n}\n");
        /* The bridge family's hook only when a network has icc=false: a hooked chain, even an
         * empty one, costs every bridged frame a call. */
        size_t no_icc = 0;
        for (size_t i = 0; i < n_nets; i++)
                no_icc += !nets[i].icc && nets[i].port_glob;
        fprintf(f, "table bridge %s {\n", table);
        if (no_icc > 0) {
                fprintf(f, " chain forward {\n  type filter hook forward priority filter; "
                           "policy accept;\n");
                for (size_t i = 0; i < n_nets; i++)
                        if (!nets[i].icc && nets[i].port_glob)
                                fprintf(f, "  iifname \"%s\" oifname \"%s\" drop\n",
                                        nets[i].port_glob, nets[i].port_glob);
                fprintf(f, " }\n");
        }
        fprintf(f, "}\n");
        fclose(f);
        return out;
}

char *net_rules_ports_script(const char *table, bool add, const struct net_rules_port *ports,
                             size_t n_ports)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        if (f == NULL)
                return NULL;
        for (int with_ip = 0; with_ip < 2; with_ip++) {
                if (count_ip(ports, n_ports, with_ip) == 0)
                        continue;
                fprintf(f, "%s element inet %s %s { ", add ? "add" : "delete", table,
                        with_ip ? "pubip4" : "pub4");
                elements(f, ports, n_ports, with_ip);
                fprintf(f, " }\n");
        }
        if (count6(ports, n_ports)) {
                fprintf(f, "%s element inet %s pub6 { ", add ? "add" : "delete", table);
                elements6(f, ports, n_ports);
                fprintf(f, " }\n");
        }
        fclose(f);
        return out;
}
