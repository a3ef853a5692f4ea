/* What the engine's network files share: network records, the manager, endpoint hooks. */
#pragma once

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

#include "network/network.h"

struct eng;
struct eng_ctr;
struct eng_config;

struct eng_net {
        struct eng_net *next;
        json_t *j; /* dockerd's shape of the network, without Containers */
        char id[65], name[128], driver[16], bridge[16];
        struct net_prefix subnet, range;
        uint32_t gateway;
        bool ipv6; /* EnableIPv6: subnet6 and gateway6 too */
        struct net_prefix6 subnet6;
        struct net_addr6 gateway6;
        bool has_range, internal, icc, masquerade, builtin, is_default;
        int mtu;
        /* macvlan and ipvlan: the parent link, its mode (kernel value), and whether we made
         * the parent (an 802.1q sub-interface), which network rm then removes. */
        char parent[16];
        int mode;
        bool parent_created;
        /* bridge with icc: its containers reach each other past the bridge (made at the
         * first endpoint, NULL until then or where the kernel has no tcx) */
        struct net_fast *fast;
};

/* Drivers whose endpoints get addresses from the network's IPAM. */
bool eng_net_has_ipam(const struct eng_net *n);
/* macvlan or ipvlan: a link on a parent per endpoint, no bridge, no rules. */
bool eng_net_is_sublink(const struct eng_net *n);

/* Lock order: m->lock, then e->lock. */
struct eng_netmgr {
        pthread_mutex_t lock;
        struct net_host *host; /* NULL: no netlink/nftables here, only host and none work */
        char prefix[16], table[16], bridge[16];
        struct net_prefix bip;
        bool bip_set;
        json_t *dns_servers; /* --dns: the daemon's nameservers (an array, maybe empty) */
        int mtu; /* --mtu, 0: not given */
        /* --default-address-pool: subnets of pool_size[i] carved from pools[i] */
        struct net_prefix pools[16];
        int pool_size[16];
        size_t n_pools;
        struct eng_net *nets;
        struct eng_dns *dns; /* net_dns.c: the embedded resolver, started on first use */
        bool no_fast;        /* --no-fast-path, or the kernel refused one: bridges carry all */
};

/* network.c */
/* The nameservers of a container: HostConfig.Dns, else the daemon's --dns (may be empty). */
json_t *eng_net_dns_servers(struct eng *e, json_t *config);
int eng_net_open(struct eng *e, const struct eng_config *cfg, struct gerr **err);
/* An MTU option value (--mtu, com.docker.network.driver.mtu): 68 to 65535, else EINVAL. */
int eng_net_mtu_parse(const char *s, int *out, struct gerr **err);
/* After adoption: bridges up, stale endpoints gone, the whole rule set rebuilt. */
void eng_net_start(struct eng *e);
void eng_net_close(struct eng *e);
struct eng_net *eng_net_find_locked(struct eng_netmgr *m, const char *ref);
int eng_net_rules_apply(struct eng *e, struct gerr **err);
void eng_net_port_glob(const struct eng_net *n, char out[16]);

/* net_endpoint.c (e->lock held where noted) */
/* Running containers' published ports (e->lock held); *out is malloc'd. */
void eng_net_ports_all(struct eng *e, struct net_rules_port **out, size_t *n);
/* Whether a running container has an endpoint on n (e->lock held). */
bool eng_net_in_use(struct eng *e, const struct eng_net *n);
/* network inspect's Containers (e->lock held). */
void eng_net_containers_json(struct eng *e, const struct eng_net *n, json_t *obj);
/* Endpoints of containers that are not running any more (m->lock held). */
void eng_net_release_stale(struct eng *e);
/* The fast path of every running container's bridge endpoints, after adoption (m->lock held). */
void eng_net_fast_readopt(struct eng *e);
/* At create: the networks exist, EndpointsConfig keyed by their names with the primary one in
 * it, addresses and ports well-formed. */
int eng_net_validate(struct eng *e, json_t *config, struct gerr **err);
/* At start, before the shim: addresses and host ports chosen and recorded in c, /etc/hosts
 * written; *plan what eng_net_plumb does (NULL: nothing). */
int eng_net_prepare(struct eng *e, struct eng_ctr *c, json_t **plan, struct gerr **err);
/* Once the container is created (pid's namespace exists): veths, addresses, routes, ports. */
int eng_net_plumb(struct eng *e, struct eng_ctr *c, json_t *plan, pid_t pid, struct gerr **err);
/* Host ends of veths whose container's namespace is going: the kernel deletes them with it. */
struct eng_net_leftover {
        int *ifindex;
        size_t n;
};
/* At exit or after a failed start: links, ports and addresses of c released. With left, the
 * container's processes are gone: its veths are not deleted (a synchronous RTM_DELLINK waits
 * out RCU grace periods, ~10 ms) but noted in left, for eng_net_reap after the reply. */
void eng_net_release(struct eng *e, struct eng_ctr *c, struct eng_net_leftover *left);
/* Waits up to 3 s for left's links to go with their namespace; deletes what outlived it
 * (a namespace kept by some other process), then frees left. */
void eng_net_reap(struct eng *e, struct eng_net_leftover *left);
/* NetworkSettings of container inspect, Ports of the container list (e->lock held). */
json_t *eng_net_settings(struct eng *e, const struct eng_ctr *c);
json_t *eng_net_ps_ports(const struct eng_ctr *c);

/* net_links.c: dockerd's legacy links on the default bridge. At create: the targets exist. At
 * start (before the bundle): the targets run; LINK_ENV_KEY and LINK_HOSTS_KEY set in c's config;
 * 1 when the bundle must be written again. HostConfig.Links as inspect shows it (e->lock held). */
int eng_links_validate(struct eng *e, json_t *config, struct gerr **err);
int eng_links_prepare(struct eng *e, struct eng_ctr *c, struct gerr **err);
json_t *eng_links_inspect(struct eng *e, const struct eng_ctr *c);

/* net_dns.c: the embedded resolver. A socket on 127.0.0.11:53 in the namespace of container
 * id (on a user network), answered from the engine's live records; idempotent. */
int eng_dns_add(struct eng *e, const char *id, json_t *config, int netns_fd, struct gerr **err);
void eng_dns_remove(struct eng *e, const char *id);
/* A new fd of the network namespace container id's resolver socket is in (-1: none): it
 * reaches the namespace after the container's last process is gone. */
int eng_dns_netns(struct eng *e, const char *id);
void eng_dns_close(struct eng *e);
/* At daemon start: the sockets of the running containers again. */
void eng_dns_readopt(struct eng *e);
