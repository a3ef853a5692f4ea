/* IPAM arithmetic: IPv4 and IPv6 prefixes, subnet pools that skip what is in use, address picks. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network/network.h"

uint32_t net_prefix_mask(int len)
{
        return len <= 0 ? 0 : len >= 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1);
}

int net_addr_parse(const char *s, uint32_t *out)
{
        struct in_addr a;
        if (s == NULL || inet_pton(AF_INET, s, &a) != 1)
                return -EINVAL;
        *out = ntohl(a.s_addr);
        return 0;
}

void net_addr_format(uint32_t a, char buf[16])
{
        struct in_addr in = {.s_addr = htonl(a)};
        inet_ntop(AF_INET, &in, buf, 16);
}

void net_prefix_format(const struct net_prefix *p, char buf[20])
{
        char a[16];
        net_addr_format(p->addr, a);
        snprintf(buf, 20, "%s/%d", a, p->len);
}

int net_prefix_parse(const char *s, bool loose, struct net_prefix *out)
{
        if (s == NULL)
                return -EINVAL;
        const char *slash = strchr(s, '/');
        if (slash == NULL || slash - s >= 16 || slash[1] == '\0')
                return -EINVAL;
        char a[16];
        memcpy(a, s, (size_t)(slash - s));
        a[slash - s] = '\0';
        char *end;
        long len = strtol(slash + 1, &end, 10);
        if (*end != '\0' || len < 0 || len > 32)
                return -EINVAL;
        uint32_t addr;
        if (net_addr_parse(a, &addr) < 0)
                return -EINVAL;
        uint32_t m = net_prefix_mask((int)len);
        if (!loose && (addr & ~m) != 0)
                return -EINVAL;
        out->addr = addr & m;
        out->len = (int)len;
        return 0;
}

bool net_prefix_contains(const struct net_prefix *p, uint32_t a)
{
        return (a & net_prefix_mask(p->len)) == p->addr;
}

bool net_prefix_overlap(const struct net_prefix *a, const struct net_prefix *b)
{
        int len = a->len < b->len ? a->len : b->len;
        uint32_t m = net_prefix_mask(len);
        return (a->addr & m) == (b->addr & m);
}

int net_pool_pick(const struct net_prefix *pool, int size, const struct net_prefix *used,
                  size_t n_used, struct net_prefix *out)
{
        if (size < pool->len || size > 32)
                return -EINVAL;
        uint64_t step = 1ull << (32 - size);
        uint64_t end = (uint64_t)pool->addr + (1ull << (32 - pool->len));
        for (uint64_t a = pool->addr; a < end; a += step) {
                struct net_prefix cand = {.addr = (uint32_t)a, .len = size};
                bool busy = false;
                for (size_t i = 0; i < n_used && !busy; i++)
                        busy = used[i].len > 0 && net_prefix_overlap(&cand, &used[i]);
                if (!busy) {
                        *out = cand;
                        return 0;
                }
        }
        return -ENOSPC;
}

static int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

int net_addr_pick(const struct net_prefix *subnet, const struct net_prefix *range,
                  const uint32_t *used, size_t n_used, uint32_t *out)
{
        const struct net_prefix *r = range && range->len >= subnet->len ? range : subnet;
        if (!net_prefix_overlap(r, subnet) || subnet->len > 30)
                return -ENOSPC;
        uint32_t *sorted = NULL;
        if (n_used > 0) {
                sorted = malloc(n_used * sizeof(*sorted));
                if (sorted == NULL)
                        return -ENOMEM;
                memcpy(sorted, used, n_used * sizeof(*sorted));
                qsort(sorted, n_used, sizeof(*sorted), cmp_u32);
        }
        uint32_t net = subnet->addr, bcast = subnet->addr | ~net_prefix_mask(subnet->len);
        uint64_t first = r->addr, last = (uint64_t)r->addr | ~net_prefix_mask(r->len);
        size_t j = 0;
        int rc = -ENOSPC;
        for (uint64_t a = first; a <= last; a++) {
                if (a == net || a == bcast)
                        continue;
                while (j < n_used && sorted[j] < a)
                        j++;
                if (j < n_used && sorted[j] == a)
                        continue;
                *out = (uint32_t)a;
                rc = 0;
                break;
        }
        free(sorted);
        return rc;
}

void net_mac_from_addr(uint32_t a, uint8_t mac[6])
{
        mac[0] = 0x02;
        mac[1] = 0x42;
        mac[2] = (uint8_t)(a >> 24);
        mac[3] = (uint8_t)(a >> 16);
        mac[4] = (uint8_t)(a >> 8);
        mac[5] = (uint8_t)a;
}

int net_mac_parse(const char *s, uint8_t mac[6])
{
        unsigned v[6];
        char tail;
        if (s == NULL || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
                                &v[5], &tail) != 6)
                return -EINVAL;
        for (int i = 0; i < 6; i++)
                mac[i] = (uint8_t)v[i];
        return 0;
}

void net_mac_format(const uint8_t mac[6], char buf[18])
{
        snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
                 mac[5]);
}

int net_addr6_parse(const char *s, struct net_addr6 *out)
{
        return s && inet_pton(AF_INET6, s, out->b) == 1 ? 0 : -EINVAL;
}

void net_addr6_format(const struct net_addr6 *a, char buf[46])
{
        if (inet_ntop(AF_INET6, a->b, buf, 46) == NULL)
                buf[0] = '\0';
}

static void mask6(struct net_addr6 *a, int len)
{
        for (int i = 0; i < 16; i++) {
                int bits = len - i * 8;
                a->b[i] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
        }
}

int net_prefix6_parse(const char *s, bool loose, struct net_prefix6 *out)
{
        const char *slash = s ? strchr(s, '/') : NULL;
        if (slash == NULL || slash - s >= 46)
                return -EINVAL;
        char a[46];
        memcpy(a, s, (size_t)(slash - s));
        a[slash - s] = '\0';
        char *end;
        long len = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1 || len < 0 || len > 128 || net_addr6_parse(a, &out->addr) < 0)
                return -EINVAL;
        out->len = (int)len;
        struct net_addr6 m = out->addr;
        mask6(&m, out->len);
        if (!loose && memcmp(&m, &out->addr, sizeof(m)) != 0)
                return -EINVAL;
        out->addr = m;
        return 0;
}

bool net_prefix6_contains(const struct net_prefix6 *p, const struct net_addr6 *a)
{
        struct net_addr6 m = *a;
        mask6(&m, p->len);
        return memcmp(&m, &p->addr, sizeof(m)) == 0;
}

bool net_prefix6_overlap(const struct net_prefix6 *a, const struct net_prefix6 *b)
{
        return a->len <= b->len ? net_prefix6_contains(a, &b->addr)
                                : net_prefix6_contains(b, &a->addr);
}

int net_addr6_pick(const struct net_prefix6 *subnet, const struct net_addr6 *used, size_t n_used,
                   struct net_addr6 *out)
{
        for (uint32_t i = 1; i < 65536; i++) {
                struct net_addr6 c = subnet->addr;
                /* index i in the low bytes (carry into the prefix would leave the subnet) */
                uint32_t carry = i;
                for (int k = 15; k >= 0 && carry; k--) {
                        carry += c.b[k];
                        c.b[k] = (uint8_t)carry;
                        carry >>= 8;
                }
                if (!net_prefix6_contains(subnet, &c))
                        break;
                bool taken = false;
                for (size_t u = 0; u < n_used && !taken; u++)
                        taken = memcmp(&used[u], &c, sizeof(c)) == 0;
                if (!taken) {
                        *out = c;
                        return 0;
                }
        }
        return -ENOSPC;
}
