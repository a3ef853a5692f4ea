/* DNS messages for the embedded resolver: parse one question, build A answers (RFC 1035 4.1). */
#include <errno.h>
#include <string.h>

#include "network/network.h"

static uint16_t get16(const uint8_t *p)
{
        return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t)(v >> 8);
        p[1] = (uint8_t)v;
}

int net_dns_parse_query(const uint8_t *msg, size_t len, struct net_dns_query *q)
{
        if (len < 12)
                return -EINVAL;
        uint16_t flags = get16(msg + 2);
        /* A query (QR 0), standard opcode, one question. */
        if ((flags & 0x8000) || ((flags >> 11) & 0xf) != 0 || get16(msg + 4) != 1)
                return -EINVAL;
        q->id = get16(msg);
        q->rd = (flags & 0x0100) != 0;
        size_t off = 12, n = 0;
        for (;;) {
                if (off >= len)
                        return -EINVAL;
                uint8_t l = msg[off++];
                if (l == 0)
                        break;
                /* No compression in a question we answer: a pointer here is refused. */
                if (l > 63 || off + l > len || n + l + 1 >= sizeof(q->name))
                        return -EINVAL;
                if (n > 0)
                        q->name[n++] = '.';
                for (uint8_t i = 0; i < l; i++) {
                        char c = (char)msg[off + i];
                        if (c == '\0' || c == '.')
                                return -EINVAL;
                        q->name[n++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
                }
                off += l;
        }
        q->name[n] = '\0';
        if (off + 4 > len)
                return -EINVAL;
        q->qtype = get16(msg + off);
        q->qclass = get16(msg + off + 2);
        q->qend = off + 4;
        return 0;
}

size_t net_dns_answer(const uint8_t *query, const struct net_dns_query *q, const uint32_t *addrs,
                      size_t n, int rcode, uint32_t ttl, uint8_t *out, size_t cap)
{
        if (q->qend > cap)
                return 0;
        memcpy(out, query, q->qend);
        /* QR, the query's RD, RA, rcode; one question, n answers, nothing else. */
        put16(out + 2, (uint16_t)(0x8000 | (q->rd ? 0x0100 : 0) | 0x0080 | (rcode & 0xf)));
        put16(out + 6, 0);
        put16(out + 8, 0);
        put16(out + 10, 0);
        size_t off = q->qend, k = 0;
        for (size_t i = 0; i < n && off + 16 <= cap; i++, k++) {
                put16(out + off, 0xc00c); /* the name: the question's, at offset 12 */
                put16(out + off + 2, 1);  /* A */
                put16(out + off + 4, 1);  /* IN */
                put16(out + off + 6, (uint16_t)(ttl >> 16));
                put16(out + off + 8, (uint16_t)ttl);
                put16(out + off + 10, 4);
                out[off + 12] = (uint8_t)(addrs[i] >> 24);
                out[off + 13] = (uint8_t)(addrs[i] >> 16);
                out[off + 14] = (uint8_t)(addrs[i] >> 8);
                out[off + 15] = (uint8_t)addrs[i];
                off += 16;
        }
        put16(out + 6, (uint16_t)k);
        return off;
}

size_t net_dns_answer6(const uint8_t *query, const struct net_dns_query *q,
                       const struct net_addr6 *addrs, size_t n, uint32_t ttl, uint8_t *out,
                       size_t cap)
{
        size_t off = net_dns_answer(query, q, NULL, 0, 0, ttl, out, cap), k = 0;
        if (off == 0)
                return 0;
        for (size_t i = 0; i < n && off + 28 <= cap; i++, k++) {
                put16(out + off, 0xc00c);
                put16(out + off + 2, NET_DNS_AAAA);
                put16(out + off + 4, 1);
                put16(out + off + 6, (uint16_t)(ttl >> 16));
                put16(out + off + 8, (uint16_t)ttl);
                put16(out + off + 10, 16);
                memcpy(out + off + 12, addrs[i].b, 16);
                off += 28;
        }
        put16(out + 6, (uint16_t)k);
        return off;
}
