/* libFuzzer target: the embedded resolver's query parser and answer builder (network/dns.c). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "network/network.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct net_dns_query q;
        if (net_dns_parse_query(data, size, &q) < 0)
                return 0;
        if (q.qend > size || strlen(q.name) >= sizeof(q.name))
                __builtin_trap();
        uint8_t out[1024];
        uint32_t addrs[3] = {0x0a000001, 0x0a000002, 0x0a000003};
        size_t n = net_dns_answer(data, &q, addrs, 3, 0, 60, out, sizeof(out));
        if (n > sizeof(out))
                __builtin_trap();
        return 0;
}
