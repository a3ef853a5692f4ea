/* network/: IPAM (prefixes, pools that skip used subnets, address picks, MACs), the rules' text, the DNS message parser. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "network/network.h"

static void test_prefix_parse(void **state)
{
        struct net_prefix p;
        assert_int_equal(net_prefix_parse("172.17.0.0/16", false, &p), 0);
        assert_int_equal(p.addr, 0xac110000);
        assert_int_equal(p.len, 16);
        assert_int_equal(net_prefix_parse("172.17.0.1/16", false, &p), -EINVAL);
        assert_int_equal(net_prefix_parse("172.17.0.1/16", true, &p), 0);
        assert_int_equal(p.addr, 0xac110000);
        assert_int_equal(net_prefix_parse("1.2.3.4/33", true, &p), -EINVAL);
        assert_int_equal(net_prefix_parse("1.2.3/8", true, &p), -EINVAL);
        assert_int_equal(net_prefix_parse("1.2.3.4", true, &p), -EINVAL);
        char buf[20];
        net_prefix_parse("10.1.0.0/20", false, &p);
        net_prefix_format(&p, buf);
        assert_string_equal(buf, "10.1.0.0/20");
}

static void test_pool_skips_used(void **state)
{
        struct net_prefix pool = {.addr = 0xac110000, .len = 16}, out;
        struct net_prefix used[] = {{.addr = 0xac110000, .len = 24}};
        /* the whole /16 overlaps the used /24: nothing of size 16 */
        assert_int_equal(net_pool_pick(&pool, 16, used, 1, &out), -ENOSPC);
        assert_int_equal(net_pool_pick(&pool, 24, used, 1, &out), 0);
        assert_int_equal(out.addr, 0xac110100);
        struct net_prefix big = {.addr = 0xc0a80000, .len = 16};
        struct net_prefix routed[] = {{.addr = 0xc0a80000, .len = 20}, {.addr = 0xc0a81000, .len = 24}};
        assert_int_equal(net_pool_pick(&big, 20, routed, 2, &out), 0);
        assert_int_equal(out.addr, 0xc0a82000);
        assert_int_equal(net_pool_pick(&big, 8, routed, 2, &out), -EINVAL);
}

static void test_addr_pick(void **state)
{
        struct net_prefix sub = {.addr = 0x0a000000, .len = 29}; /* .1-.6 usable */
        uint32_t used[] = {0x0a000001, 0x0a000002};
        uint32_t a;
        assert_int_equal(net_addr_pick(&sub, NULL, used, 2, &a), 0);
        assert_int_equal(a, 0x0a000003);
        uint32_t full[] = {1 + 0x0a000000, 2 + 0x0a000000, 3 + 0x0a000000, 4 + 0x0a000000,
                           5 + 0x0a000000, 6 + 0x0a000000};
        assert_int_equal(net_addr_pick(&sub, NULL, full, 6, &a), -ENOSPC);
        struct net_prefix big = {.addr = 0x0a000000, .len = 24};
        struct net_prefix range = {.addr = 0x0a000080, .len = 25};
        assert_int_equal(net_addr_pick(&big, &range, used, 2, &a), 0);
        assert_int_equal(a, 0x0a000080);
}

static void test_mac(void **state)
{
        uint8_t m[6];
        char buf[18];
        net_mac_from_addr(0xac110002, m);
        net_mac_format(m, buf);
        assert_string_equal(buf, "02:42:ac:11:00:02");
        assert_int_equal(net_mac_parse("02:00:00:aa:bb:cc", m), 0);
        assert_int_equal(m[3], 0xaa);
        assert_int_equal(net_mac_parse("02:00:00:aa:bb", m), -EINVAL);
        assert_int_equal(net_mac_parse("02:00:00:aa:bb:cc:dd", m), -EINVAL);
}

static void test_rules_script(void **state)
{
        struct net_rules_net n = {.bridge = "gt0", .port_glob = "ve12345*",
                                  .subnet = {.addr = 0xac110000, .len = 16}, .icc = false,
                                  .masq = true};
        struct net_rules_port p = {.proto = NET_PROTO_UDP, .host_port = 53,
                                   .addr = 0xac110002, .port = 5353};
        char *s = net_rules_script("gt", &n, 1, &p, 1);
        assert_non_null(strstr(s, "ip saddr 172.17.0.0/16 oifname != \"gt0\" masquerade"));
        assert_non_null(strstr(s, "udp . 53 : 172.17.0.2 . 5353"));
        assert_non_null(strstr(s, "iifname \"ve12345*\" oifname \"ve12345*\" drop"));
        assert_non_null(strstr(s, "delete table inet gt\n"));
        free(s);
}

static const uint8_t q_alpha[] = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0x01, /* one additional (EDNS) record follows */
                                  5, 'A', 'l', 'p', 'h', 'a', 4, 't', 'e', 's', 't', 0, 0x00,
                                  0x01, 0x00, 0x01, 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0};

static void test_dns_parse(void **state)
{
        struct net_dns_query q;
        assert_int_equal(net_dns_parse_query(q_alpha, sizeof(q_alpha), &q), 0);
        assert_string_equal(q.name, "alpha.test");
        assert_int_equal(q.id, 0x1234);
        assert_int_equal(q.qtype, NET_DNS_A);
        assert_true(q.rd);
        assert_int_equal(q.qend, 12 + 12 + 4);
        /* truncated anywhere: refused */
        for (size_t n = 0; n < q.qend; n++)
                assert_int_equal(net_dns_parse_query(q_alpha, n, &q), -EINVAL);
        uint8_t bad[sizeof(q_alpha)];
        memcpy(bad, q_alpha, sizeof(bad));
        bad[2] |= 0x80; /* a response, not a query */
        assert_int_equal(net_dns_parse_query(bad, sizeof(bad), &q), -EINVAL);
        memcpy(bad, q_alpha, sizeof(bad));
        bad[12] = 0xc0; /* a compression pointer in the question */
        assert_int_equal(net_dns_parse_query(bad, sizeof(bad), &q), -EINVAL);
        memcpy(bad, q_alpha, sizeof(bad));
        bad[5] = 2; /* two questions */
        assert_int_equal(net_dns_parse_query(bad, sizeof(bad), &q), -EINVAL);
        memcpy(bad, q_alpha, sizeof(bad));
        bad[12] = 64; /* a label longer than 63 */
        assert_int_equal(net_dns_parse_query(bad, sizeof(bad), &q), -EINVAL);
}

static void test_dns_answer(void **state)
{
        struct net_dns_query q;
        assert_int_equal(net_dns_parse_query(q_alpha, sizeof(q_alpha), &q), 0);
        uint8_t out[512];
        uint32_t a[2] = {0xac120002, 0xac120003};
        size_t n = net_dns_answer(q_alpha, &q, a, 2, 0, 600, out, sizeof(out));
        assert_int_equal(n, q.qend + 2 * 16);
        assert_int_equal(out[2], 0x81); /* QR, RD */
        assert_int_equal(out[3], 0x80); /* RA, NOERROR */
        assert_int_equal(out[7], 2);    /* two answers */
        assert_int_equal(out[11], 0);   /* the EDNS record is not echoed */
        assert_memory_equal(out + q.qend, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x02\x58\x00\x04\xac\x12\x00\x02", 16);
        n = net_dns_answer(q_alpha, &q, NULL, 0, NET_DNS_NXDOMAIN, 0, out, sizeof(out));
        assert_int_equal(n, q.qend);
        assert_int_equal(out[3] & 0xf, 3);
        assert_int_equal(net_dns_answer(q_alpha, &q, a, 2, 0, 600, out, 10), 0);
}

static void test_sublink_names(void **state)
{
        char base[16];
        int vid = 0;
        assert_true(net_vlan_split("eth0.100", base, &vid));
        assert_string_equal(base, "eth0");
        assert_int_equal(vid, 100);
        assert_true(net_vlan_split("br.ext.4094", base, &vid));
        assert_string_equal(base, "br.ext");
        assert_int_equal(vid, 4094);
        const char *bad[] = {"eth0", "eth0.", ".100", "eth0.0", "eth0.4095", "eth0.10a",
                             "eth0.-1", "eth0.00100"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_false(net_vlan_split(bad[i], base, &vid));
        assert_int_equal(net_macvlan_mode_parse("bridge"), 4);  /* MACVLAN_MODE_BRIDGE */
        assert_int_equal(net_macvlan_mode_parse("passthru"), 8);
        assert_int_equal(net_macvlan_mode_parse("l2"), -1);
        assert_int_equal(net_ipvlan_mode_parse("l2"), 0);
        assert_int_equal(net_ipvlan_mode_parse("l3s"), 2);
        assert_int_equal(net_ipvlan_mode_parse("bridge"), -1);
}

static void test_ipv6(void **state)
{
        struct net_prefix6 p;
        assert_int_equal(net_prefix6_parse("fd12:3456:789a::/64", false, &p), 0);
        assert_int_equal(p.len, 64);
        assert_int_equal(net_prefix6_parse("fd12:3456:789a::5/64", false, &p), -EINVAL);
        assert_int_equal(net_prefix6_parse("fd12:3456:789a::5/64", true, &p), 0);
        assert_int_equal(net_prefix6_parse("fd12::/129", true, &p), -EINVAL);
        assert_int_equal(net_prefix6_parse("10.0.0.0/8", true, &p), -EINVAL);
        char buf[46];
        net_addr6_format(&p.addr, buf);
        assert_string_equal(buf, "fd12:3456:789a::");
        struct net_addr6 used[2], a;
        assert_int_equal(net_addr6_parse("fd12:3456:789a::1", &used[0]), 0);
        assert_int_equal(net_addr6_parse("fd12:3456:789a::2", &used[1]), 0);
        assert_int_equal(net_addr6_pick(&p, used, 2, &a), 0);
        net_addr6_format(&a, buf);
        assert_string_equal(buf, "fd12:3456:789a::3");
        assert_true(net_prefix6_contains(&p, &a));
        struct net_prefix6 q;
        assert_int_equal(net_prefix6_parse("fd12:3456:789a::/48", false, &q), 0);
        assert_true(net_prefix6_overlap(&p, &q));
        assert_int_equal(net_prefix6_parse("fd12:3456:789b::/64", false, &q), 0);
        assert_false(net_prefix6_overlap(&p, &q));
        assert_false(net_prefix6_contains(&q, &a));
        /* a /127 has two addresses: index 1 is the last */
        assert_int_equal(net_prefix6_parse("fd00::/127", false, &q), 0);
        assert_int_equal(net_addr6_pick(&q, NULL, 0, &a), 0);
        assert_int_equal(net_addr6_pick(&q, &a, 1, &a), -ENOSPC);
}

static void test_dns_answer6(void **state)
{
        struct net_dns_query q;
        assert_int_equal(net_dns_parse_query(q_alpha, sizeof(q_alpha), &q), 0);
        uint8_t out[512];
        struct net_addr6 a;
        assert_int_equal(net_addr6_parse("fd00::a", &a), 0);
        size_t n = net_dns_answer6(q_alpha, &q, &a, 1, 600, out, sizeof(out));
        assert_int_equal(n, q.qend + 28);
        assert_int_equal(out[7], 1);
        assert_memory_equal(out + q.qend, "\xc0\x0c\x00\x1c\x00\x01\x00\x00\x02\x58\x00\x10\xfd",
                            13);
        assert_int_equal(out[q.qend + 27], 0x0a);
        assert_int_equal(net_dns_answer6(q_alpha, &q, &a, 1, 600, out, q.qend + 27), q.qend);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_prefix_parse), cmocka_unit_test(test_pool_skips_used),
                cmocka_unit_test(test_addr_pick), cmocka_unit_test(test_mac),
                cmocka_unit_test(test_rules_script), cmocka_unit_test(test_dns_parse),
                cmocka_unit_test(test_dns_answer), cmocka_unit_test(test_sublink_names),
                cmocka_unit_test(test_ipv6), cmocka_unit_test(test_dns_answer6),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
