/* Container to container on one bridge network without the bridge: a tcx program on each
 * host-side veth hands IPv4 frames for another container of the network straight to it. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "network/network.h"

/* enum bpf_attach_type's BPF_TCX_INGRESS (Linux 6.6), newer than Debian 12's headers. */
#define FAST_TCX_INGRESS 46
/* tcx verdict "go on to the next program, then the stack" (TC_ACT_UNSPEC). */
#define FAST_TCX_NEXT (-1)
#define FAST_MAX_ENTRIES 4096

/* The map's value: where the address lives (its host-side veth) and the MAC a frame for it
 * carries; a frame for the address with another MAC (sent to the gateway) takes the bridge. */
struct fast_value {
        uint32_t ifindex;
        uint8_t mac[6];
        uint16_t pad;
};

struct fast_link {
        uint32_t ip; /* network byte order */
        int link_fd;
};

struct net_fast {
        int map_fd, prog_fd;
        struct fast_link *links;
        size_t n, cap;
};

static int sys_bpf(int cmd, union bpf_attr *a)
{
        return (int)syscall(SYS_bpf, cmd, a, sizeof(*a));
}

#define INSN(c, d, s, o, i)                                                                    \
        ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define MOV_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define ADD_IMM(d, i) INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define LOAD(sz, d, s, o) INSN(BPF_LDX | (sz) | BPF_MEM, d, s, o, 0)
#define STORE(sz, d, s, o) INSN(BPF_STX | (sz) | BPF_MEM, d, s, o, 0)
#define CALL(f) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
/* Jumps to the "pass" label: the offset is filled in once the program is laid out. */
#define JGT_REG_PASS(d, s) INSN(BPF_JMP | BPF_JGT | BPF_X, d, s, -1, 0)
#define JNE_REG_PASS(d, s) INSN(BPF_JMP | BPF_JNE | BPF_X, d, s, -1, 0)
#define JNE_IMM_PASS(d, i) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, -1, i)
#define JEQ_IMM_PASS(d, i) INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, -1, i)

enum { R0, R1, R2, R3, R4, R5, R6, R10 = 10 };

/* r6 = skb; [r2, r3) the frame. IPv4 with room for its header, destination found in the map
 * with the frame's destination MAC: bpf_redirect_peer into that container's interface. */
static int prog_load(int map_fd, char *log, size_t log_len)
{
        const int data = offsetof(struct __sk_buff, data);
        const int end = offsetof(struct __sk_buff, data_end);
        struct bpf_insn p[] = {
                MOV_REG(R6, R1),
                LOAD(BPF_W, R2, R6, data),
                LOAD(BPF_W, R3, R6, end),
                MOV_REG(R4, R2),
                ADD_IMM(R4, 14 + 20),
                JGT_REG_PASS(R4, R3),
                LOAD(BPF_H, R5, R2, 12),
                JNE_IMM_PASS(R5, 0x0008), /* ethertype 0x0800, read little-endian */
                LOAD(BPF_W, R5, R2, 14 + 16), /* the IPv4 destination */
                STORE(BPF_W, R10, R5, -4),
                INSN(BPF_LD | BPF_DW | BPF_IMM, R1, BPF_PSEUDO_MAP_FD, 0, map_fd),
                INSN(0, 0, 0, 0, 0),
                MOV_REG(R2, R10),
                ADD_IMM(R2, -4),
                CALL(BPF_FUNC_map_lookup_elem),
                JEQ_IMM_PASS(R0, 0),
                LOAD(BPF_W, R2, R6, data),
                LOAD(BPF_W, R3, R6, end),
                MOV_REG(R4, R2),
                ADD_IMM(R4, 14),
                JGT_REG_PASS(R4, R3),
                LOAD(BPF_W, R4, R2, 0),
                LOAD(BPF_W, R5, R0, offsetof(struct fast_value, mac)),
                JNE_REG_PASS(R4, R5),
                LOAD(BPF_H, R4, R2, 4),
                LOAD(BPF_H, R5, R0, offsetof(struct fast_value, mac) + 4),
                JNE_REG_PASS(R4, R5),
                LOAD(BPF_W, R1, R0, offsetof(struct fast_value, ifindex)),
                MOV_IMM(R2, 0),
                CALL(BPF_FUNC_redirect_peer),
                EXIT,
                /* pass: */
                MOV_IMM(R0, FAST_TCX_NEXT),
                EXIT,
        };
        const int pass = (int)(sizeof(p) / sizeof(p[0])) - 2;
        for (int i = 0; i < pass; i++)
                if (BPF_CLASS(p[i].code) == BPF_JMP && BPF_OP(p[i].code) != BPF_CALL &&
                    BPF_OP(p[i].code) != BPF_EXIT)
                        p[i].off = (int16_t)(pass - (i + 1));
        union bpf_attr a = {0};
        a.prog_type = BPF_PROG_TYPE_SCHED_CLS;
        a.insns = (uintptr_t)p;
        a.insn_cnt = sizeof(p) / sizeof(p[0]);
        a.license = (uintptr_t) "GPL";
        a.log_buf = (uintptr_t)log;
        a.log_size = (uint32_t)log_len;
        a.log_level = log != NULL;
        memcpy(a.prog_name, "gantry_fast", sizeof("gantry_fast"));
        return sys_bpf(BPF_PROG_LOAD, &a);
}

int net_fast_open(struct net_fast **out, struct gerr **err)
{
        *out = NULL;
        struct net_fast *f = calloc(1, sizeof(*f));
        if (f == NULL)
                return gerr_set(err, ENOMEM, "fast path");
        union bpf_attr a = {0};
        a.map_type = BPF_MAP_TYPE_HASH;
        a.key_size = sizeof(uint32_t);
        a.value_size = sizeof(struct fast_value);
        a.max_entries = FAST_MAX_ENTRIES;
        a.map_flags = BPF_F_NO_PREALLOC;
        memcpy(a.map_name, "gantry_fast", sizeof("gantry_fast"));
        f->map_fd = sys_bpf(BPF_MAP_CREATE, &a);
        if (f->map_fd < 0) {
                int e = errno;
                free(f);
                return gerr_set(err, e, "fast path: BPF map");
        }
        f->prog_fd = prog_load(f->map_fd, NULL, 0);
        if (f->prog_fd < 0) {
                int e = errno;
                char log[1024] = "";
                int fd = prog_load(f->map_fd, log, sizeof(log));
                if (fd >= 0)
                        close(fd);
                close(f->map_fd);
                free(f);
                return gerr_set(err, e, "fast path: BPF program%s%.200s", *log ? ": " : "", log);
        }
        *out = f;
        return 0;
}

static void link_drop(struct net_fast *f, size_t i)
{
        close(f->links[i].link_fd);
        f->links[i] = f->links[--f->n];
}

void net_fast_remove(struct net_fast *f, uint32_t addr)
{
        if (f == NULL)
                return;
        uint32_t key = htonl(addr);
        union bpf_attr a = {0};
        a.map_fd = (uint32_t)f->map_fd;
        a.key = (uintptr_t)&key;
        sys_bpf(BPF_MAP_DELETE_ELEM, &a);
        for (size_t i = 0; i < f->n; i++)
                if (f->links[i].ip == key) {
                        link_drop(f, i);
                        break;
                }
}

int net_fast_add(struct net_fast *f, uint32_t addr, int host_ifindex, const uint8_t mac[6],
                 struct gerr **err)
{
        uint32_t key = htonl(addr);
        net_fast_remove(f, addr);
        if (f->n == f->cap) {
                size_t cap = f->cap ? f->cap * 2 : 8;
                struct fast_link *l = realloc(f->links, cap * sizeof(*l));
                if (l == NULL)
                        return gerr_set(err, ENOMEM, "fast path");
                f->links = l;
                f->cap = cap;
        }
        /* The link first: a container reached by the others before its own frames take the
         * fast path is still reached (and answers through the bridge) until then. */
        union bpf_attr a = {0};
        a.link_create.prog_fd = (uint32_t)f->prog_fd;
        a.link_create.target_ifindex = (uint32_t)host_ifindex;
        a.link_create.attach_type = FAST_TCX_INGRESS;
        int link = sys_bpf(BPF_LINK_CREATE, &a);
        if (link < 0)
                return gerr_set(err, errno, "fast path: attach to link %d", host_ifindex);
        struct fast_value v = {.ifindex = (uint32_t)host_ifindex};
        memcpy(v.mac, mac, 6);
        memset(&a, 0, sizeof(a));
        a.map_fd = (uint32_t)f->map_fd;
        a.key = (uintptr_t)&key;
        a.value = (uintptr_t)&v;
        a.flags = BPF_ANY;
        if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a) < 0) {
                int e = errno;
                close(link);
                return gerr_set(err, e, "fast path: map entry");
        }
        f->links[f->n++] = (struct fast_link){.ip = key, .link_fd = link};
        return 0;
}

void net_fast_close(struct net_fast *f)
{
        if (f == NULL)
                return;
        while (f->n > 0)
                link_drop(f, f->n - 1);
        free(f->links);
        close(f->prog_fd);
        close(f->map_fd);
        free(f);
}
