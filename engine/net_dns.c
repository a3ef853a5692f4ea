/* The embedded DNS resolver: one thread, a socket on 127.0.0.11:53 inside each container on a user network, names answered from the live container records, the rest forwarded upstream. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "engine/engine_internal.h"
#include "engine/net_internal.h"

#define DNS_ADDR 0x7f00000bu /* 127.0.0.11, where dockerd's resolver listens */
#define PENDING 512
#define PENDING_TTL_S 10

struct dns_sock {
        struct dns_sock *next;
        int fd;
        char ctr_id[65];
        struct sockaddr_in upstream; /* sin_port 0: none */
};

struct pending {
        bool used;
        uint16_t client_id;
        int client_fd;
        struct sockaddr_in client;
        time_t at;
};

struct eng_dns {
        struct eng *e;
        pthread_t thread;
        pthread_mutex_t lock;
        int epfd, upfd, wakefd;
        bool stop;
        struct dns_sock *socks;
        struct pending pend[PENDING];
        uint16_t next_id;
};

static const char *str(json_t *o, const char *k)
{
        return json_string_value(json_object_get(o, k));
}

/* The addresses name has for container id's networks (e->lock held). Docker's rules: names,
 * aliases and short ids of the containers on the same user-defined networks. */
static size_t lookup(struct eng *e, const char *id, const char *name, uint32_t *out, size_t cap,
                     struct net_addr6 *out6, size_t *n6, bool *known)
{
        *n6 = 0;
        struct eng_ctr *self = NULL;
        for (struct eng_ctr *c = e->ctrs; c; c = c->next)
                if (strcmp(c->id, id) == 0)
                        self = c;
        *known = false;
        if (self == NULL)
                return 0;
        size_t n = 0;
        const char *net;
        json_t *mine;
        json_object_foreach (json_object_get(self->config, "_Endpoints"), net, mine) {
                if (strcmp(net, "bridge") == 0)
                        continue; /* the default bridge has no name resolution */
                const char *nid = str(mine, "NetworkID");
                for (struct eng_ctr *c = e->ctrs; c; c = c->next) {
                        json_t *ep = json_object_get(json_object_get(c->config, "_Endpoints"), net);
                        if (ep == NULL || !c->running || strcmp(str(ep, "NetworkID") ?: "", nid))
                                continue;
                        bool hit = strcasecmp(c->name, name) == 0 ||
                                   (strlen(name) == 12 && strncmp(c->id, name, 12) == 0);
                        json_t *want = json_object_get(
                                json_object_get(json_object_get(c->config, "NetworkingConfig"),
                                                "EndpointsConfig"),
                                net);
                        size_t i;
                        json_t *a;
                        json_array_foreach (json_object_get(want, "Aliases"), i, a)
                                hit = hit || strcasecmp(json_string_value(a) ?: "", name) == 0;
                        /* --link alias:name on a user network */
                        json_array_foreach (json_object_get(json_object_get(self->config,
                                                                            "HostConfig"),
                                                            "Links"),
                                            i, a) {
                                const char *l = json_string_value(a) ?: "";
                                const char *colon = strchr(l, ':');
                                if (colon && strcasecmp(colon + 1, name) == 0 &&
                                    strncmp(l, c->name, (size_t)(colon - l)) == 0)
                                        hit = true;
                        }
                        uint32_t addr;
                        struct net_addr6 a6;
                        if (hit && *n6 < cap &&
                            net_addr6_parse(str(ep, "GlobalIPv6Address"), &a6) == 0) {
                                bool dup = false;
                                for (size_t k = 0; k < *n6; k++)
                                        dup = dup || memcmp(&out6[k], &a6, sizeof(a6)) == 0;
                                if (!dup)
                                        out6[(*n6)++] = a6;
                        }
                        if (hit && net_addr_parse(str(ep, "IPAddress"), &addr) == 0) {
                                *known = true;
                                bool dup = false;
                                for (size_t k = 0; k < n; k++)
                                        dup = dup || out[k] == addr;
                                if (!dup && n < cap)
                                        out[n++] = addr;
                        }
                }
        }
        return n;
}

static void answer(struct eng_dns *d, struct dns_sock *s, const uint8_t *msg, size_t len,
                   const struct sockaddr_in *from)
{
        struct net_dns_query q;
        if (net_dns_parse_query(msg, len, &q) < 0)
                return;
        uint32_t addrs[16];
        struct net_addr6 addrs6[16];
        bool known = false;
        size_t n = 0, n6 = 0;
        pthread_mutex_lock(&d->e->lock);
        n = lookup(d->e, s->ctr_id, q.name, addrs, 16, addrs6, &n6, &known);
        pthread_mutex_unlock(&d->e->lock);
        uint8_t out[1024];
        if (known && q.qtype == NET_DNS_AAAA) {
                size_t k = net_dns_answer6(msg, &q, addrs6, n6, 600, out, sizeof(out));
                if (k > 0)
                        sendto(s->fd, out, k, 0, (const struct sockaddr *)from, sizeof(*from));
                return;
        }
        if (known) {
                size_t k = net_dns_answer(msg, &q, addrs, q.qtype == NET_DNS_A || q.qtype == 255 ? n : 0,
                                          0, 600, out, sizeof(out));
                if (k > 0)
                        sendto(s->fd, out, k, 0, (const struct sockaddr *)from, sizeof(*from));
                return;
        }
        /* Not ours: to the upstream server, under an id of our own. */
        if (s->upstream.sin_port != 0 && d->upfd >= 0) {
                uint16_t id = d->next_id++;
                struct pending *p = &d->pend[id % PENDING];
                *p = (struct pending){.used = true, .client_id = q.id, .client_fd = s->fd,
                                      .client = *from, .at = time(NULL)};
                uint8_t fwd[4096];
                if (len > sizeof(fwd))
                        return;
                memcpy(fwd, msg, len);
                fwd[0] = (uint8_t)(id >> 8);
                fwd[1] = (uint8_t)id;
                /* pending slots are by id modulo PENDING: the id's high bits say which use */
                sendto(d->upfd, fwd, len, 0, (const struct sockaddr *)&s->upstream,
                       sizeof(s->upstream));
                return;
        }
        size_t k = net_dns_answer(msg, &q, NULL, 0, NET_DNS_SERVFAIL, 0, out, sizeof(out));
        if (k > 0)
                sendto(s->fd, out, k, 0, (const struct sockaddr *)from, sizeof(*from));
}

static void relay(struct eng_dns *d, uint8_t *msg, size_t len)
{
        if (len < 12)
                return;
        uint16_t id = (uint16_t)(msg[0] << 8 | msg[1]);
        struct pending *p = &d->pend[id % PENDING];
        if (!p->used || time(NULL) - p->at > PENDING_TTL_S)
                return;
        bool alive = false;
        for (struct dns_sock *s = d->socks; s; s = s->next)
                alive = alive || s->fd == p->client_fd;
        p->used = false;
        if (!alive)
                return;
        msg[0] = (uint8_t)(p->client_id >> 8);
        msg[1] = (uint8_t)p->client_id;
        sendto(p->client_fd, msg, len, 0, (const struct sockaddr *)&p->client, sizeof(p->client));
}

static void *dns_main(void *arg)
{
        struct eng_dns *d = arg;
        struct epoll_event evs[32];
        uint8_t buf[4096];
        for (;;) {
                int n = epoll_wait(d->epfd, evs, 32, -1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        break;
                pthread_mutex_lock(&d->lock);
                if (d->stop) {
                        pthread_mutex_unlock(&d->lock);
                        break;
                }
                for (int i = 0; i < n; i++) {
                        int fd = evs[i].data.fd;
                        if (fd == d->wakefd) {
                                uint64_t v;
                                (void)!read(d->wakefd, &v, sizeof(v));
                                continue;
                        }
                        for (;;) {
                                struct sockaddr_in from;
                                socklen_t fl = sizeof(from);
                                ssize_t k = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
                                                     (struct sockaddr *)&from, &fl);
                                if (k <= 0)
                                        break;
                                if (fd == d->upfd) {
                                        relay(d, buf, (size_t)k);
                                        continue;
                                }
                                struct dns_sock *s = d->socks;
                                while (s && s->fd != fd)
                                        s = s->next;
                                if (s == NULL)
                                        break;
                                answer(d, s, buf, (size_t)k, &from);
                        }
                }
                pthread_mutex_unlock(&d->lock);
        }
        return NULL;
}

/* The first IPv4 nameserver of dns (config's Dns, else the daemon's --dns), else of the host's
 * resolv.conf (loopback ones work: we forward from the host's namespace), else none. */
static void upstream_of(json_t *dns, struct sockaddr_in *out)
{
        memset(out, 0, sizeof(*out));
        out->sin_family = AF_INET;
        uint32_t a;
        size_t i;
        json_t *v;
        json_array_foreach (dns, i, v) {
                if (net_addr_parse(json_string_value(v), &a) == 0) {
                        out->sin_addr.s_addr = htonl(a);
                        out->sin_port = htons(53);
                        return;
                }
        }
        if (json_array_size(dns) > 0)
                return; /* IPv6 servers only: the forwarder speaks IPv4 */
        FILE *f = fopen("/etc/resolv.conf", "re");
        if (f == NULL)
                return;
        char line[512], ns[64];
        while (fgets(line, sizeof(line), f)) {
                if (sscanf(line, "nameserver %63s", ns) == 1 && net_addr_parse(ns, &a) == 0) {
                        out->sin_addr.s_addr = htonl(a);
                        out->sin_port = htons(53);
                        break;
                }
        }
        fclose(f);
}

static int dns_init(struct eng *e, struct gerr **err)
{
        if (e->net->dns)
                return 0;
        struct eng_dns *d = calloc(1, sizeof(*d));
        if (d == NULL)
                return gerr_set(err, ENOMEM, "resolver");
        d->e = e;
        pthread_mutex_init(&d->lock, NULL);
        d->epfd = epoll_create1(EPOLL_CLOEXEC);
        d->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        d->upfd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        d->next_id = (uint16_t)(time(NULL) * 2654435761u);
        struct epoll_event ev = {.events = EPOLLIN};
        ev.data.fd = d->wakefd;
        epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->wakefd, &ev);
        ev.data.fd = d->upfd;
        if (d->upfd >= 0)
                epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->upfd, &ev);
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 128 * 1024);
        int r = pthread_create(&d->thread, &a, dns_main, d);
        pthread_attr_destroy(&a);
        if (r != 0) {
                close(d->epfd);
                close(d->wakefd);
                if (d->upfd >= 0)
                        close(d->upfd);
                free(d);
                return gerr_set(err, r, "resolver thread");
        }
        e->net->dns = d;
        return 0;
}

void eng_dns_close(struct eng *e)
{
        struct eng_dns *d = e->net ? e->net->dns : NULL;
        if (d == NULL)
                return;
        pthread_mutex_lock(&d->lock);
        d->stop = true;
        pthread_mutex_unlock(&d->lock);
        uint64_t one = 1;
        (void)!write(d->wakefd, &one, sizeof(one));
        pthread_join(d->thread, NULL);
        while (d->socks) {
                struct dns_sock *s = d->socks;
                d->socks = s->next;
                close(s->fd);
                free(s);
        }
        close(d->epfd);
        close(d->wakefd);
        if (d->upfd >= 0)
                close(d->upfd);
        pthread_mutex_destroy(&d->lock);
        free(d);
        e->net->dns = NULL;
}

int eng_dns_add(struct eng *e, const char *id, json_t *config, int netns_fd, struct gerr **err)
{
        int r = dns_init(e, err);
        if (r < 0)
                return r;
        struct eng_dns *d = e->net->dns;
        pthread_mutex_lock(&d->lock);
        for (struct dns_sock *s = d->socks; s; s = s->next)
                if (strcmp(s->ctr_id, id) == 0) {
                        pthread_mutex_unlock(&d->lock);
                        return 0;
                }
        pthread_mutex_unlock(&d->lock);
        int fd = net_netns_udp_socket(netns_fd, DNS_ADDR, 53, err);
        if (fd < 0)
                return fd;
        struct dns_sock *s = calloc(1, sizeof(*s));
        if (s == NULL) {
                close(fd);
                return gerr_set(err, ENOMEM, "resolver");
        }
        s->fd = fd;
        snprintf(s->ctr_id, sizeof(s->ctr_id), "%s", id);
        upstream_of(eng_net_dns_servers(e, config), &s->upstream);
        pthread_mutex_lock(&d->lock);
        s->next = d->socks;
        d->socks = s;
        struct epoll_event ev = {.events = EPOLLIN};
        ev.data.fd = fd;
        epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
        pthread_mutex_unlock(&d->lock);
        return 0;
}

int eng_dns_netns(struct eng *e, const char *id)
{
        struct eng_dns *d = e->net ? e->net->dns : NULL;
        int fd = -1;
        if (d == NULL)
                return -1;
        pthread_mutex_lock(&d->lock);
        for (struct dns_sock *s = d->socks; s; s = s->next)
                if (strcmp(s->ctr_id, id) == 0) {
                        /* The socket's namespace (Linux 4.9): it outlives the container's
                         * processes as long as the socket does. */
                        fd = ioctl(s->fd, SIOCGSKNS);
                        break;
                }
        pthread_mutex_unlock(&d->lock);
        return fd;
}

void eng_dns_remove(struct eng *e, const char *id)
{
        struct eng_dns *d = e->net ? e->net->dns : NULL;
        if (d == NULL)
                return;
        pthread_mutex_lock(&d->lock);
        for (struct dns_sock **p = &d->socks; *p; p = &(*p)->next) {
                if (strcmp((*p)->ctr_id, id) != 0)
                        continue;
                struct dns_sock *s = *p;
                *p = s->next;
                epoll_ctl(d->epfd, EPOLL_CTL_DEL, s->fd, NULL);
                close(s->fd);
                free(s);
                break;
        }
        pthread_mutex_unlock(&d->lock);
}

void eng_dns_readopt(struct eng *e)
{
        pthread_mutex_lock(&e->lock);
        size_t n = 0;
        for (struct eng_ctr *c = e->ctrs; c; c = c->next)
                n++;
        struct {
                char id[65];
                pid_t pid;
                json_t *config;
        } *v = calloc(n + 1, sizeof(*v));
        size_t k = 0;
        for (struct eng_ctr *c = e->ctrs; c && v; c = c->next) {
                if (!c->running || c->pid <= 0)
                        continue;
                const char *key;
                json_t *ep;
                bool user = false;
                json_object_foreach (json_object_get(c->config, "_Endpoints"), key, ep)
                        user = user || strcmp(key, "bridge") != 0;
                if (!user)
                        continue;
                snprintf(v[k].id, sizeof(v[k].id), "%s", c->id);
                v[k].pid = c->pid;
                v[k].config = json_incref(c->config);
                k++;
        }
        pthread_mutex_unlock(&e->lock);
        for (size_t i = 0; i < k; i++) {
                char path[64];
                snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)v[i].pid);
                _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
                struct gerr *err = NULL;
                if (fd >= 0 && eng_dns_add(e, v[i].id, v[i].config, fd, &err) < 0) {
                        log_warn("container %.12s: resolver: %s", v[i].id, err->msg);
                        gerr_free(err);
                }
                json_decref(v[i].config);
        }
        free(v);
}
