/* The cgroup v2 device controller: an eBPF program written instruction by instruction, bpf(2). */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runtime/cgroup_internal.h"

#define INSN(c, d, s, o, i)                                                                        \
        ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(dst, src, off) INSN(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0)
#define ALU32_K(op, dst, imm) INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV32_X(dst, src) INSN(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_K(dst, imm) INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JMP_K(op, dst, imm) INSN(BPF_JMP | (op) | BPF_K, dst, 0, 0, imm)
#define JMP_X(op, dst, src) INSN(BPF_JMP | (op) | BPF_X, dst, src, 0, 0)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Registers after the prologue: R2 device type, R3 access, R4 major, R5 minor. */
enum { R0, R1, R2, R3, R4, R5 };

static int access_mask(const char *a)
{
        int m = 0;
        for (; *a != '\0'; a++)
                m |= *a == 'm' ? BPF_DEVCG_ACC_MKNOD
                     : *a == 'r' ? BPF_DEVCG_ACC_READ
                     : *a == 'w' ? BPF_DEVCG_ACC_WRITE
                                 : 0;
        return m;
}

/* Append one rule's block; returns true if it matches every request (nothing after it runs,
 * and the verifier refuses unreachable code). */
static bool emit_rule(const struct rt_device_rule *d, struct bpf_insn *p, size_t *n)
{
        const int full = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
        int acc = d->access[0] != '\0' ? access_mask(d->access) : full;
        size_t jumps[4], nj = 0;
        if (d->type == 'c' || d->type == 'b') {
                jumps[nj++] = *n;
                p[(*n)++] = JMP_K(BPF_JNE, R2,
                                  d->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
        }
        if (acc != full) {
                /* An allow rule covers a request only if it grants every asked bit; a deny rule
                 * refuses a request asking for any bit it names (as v1 would). */
                p[(*n)++] = MOV32_X(R1, R3);
                p[(*n)++] = ALU32_K(BPF_AND, R1, acc);
                jumps[nj++] = *n;
                p[(*n)++] = d->allow ? JMP_X(BPF_JNE, R1, R3) : JMP_K(BPF_JEQ, R1, 0);
        }
        if (d->major >= 0) {
                jumps[nj++] = *n;
                p[(*n)++] = JMP_K(BPF_JNE, R4, (int32_t)d->major);
        }
        if (d->minor >= 0) {
                jumps[nj++] = *n;
                p[(*n)++] = JMP_K(BPF_JNE, R5, (int32_t)d->minor);
        }
        p[(*n)++] = MOV64_K(R0, d->allow ? 1 : 0);
        p[(*n)++] = EXIT();
        for (size_t i = 0; i < nj; i++)
                p[jumps[i]].off = (int16_t)(*n - jumps[i] - 1);
        return nj == 0;
}

int rt_cg_bpf_build(const struct rt_device_rule *rules, size_t n, struct bpf_insn **out)
{
        /* 6 prologue + at most 8 per rule + 2 for the default. */
        struct bpf_insn *p = calloc(6 + 8 * n + 2, sizeof(*p));
        if (p == NULL)
                return -ENOMEM;
        size_t k = 0;
        p[k++] = LDX_W(R2, R1, 0); /* access_type: (access << 16) | type */
        p[k++] = ALU32_K(BPF_AND, R2, 0xffff);
        p[k++] = LDX_W(R3, R1, 0);
        p[k++] = ALU32_K(BPF_RSH, R3, 16);
        p[k++] = LDX_W(R4, R1, 4);
        p[k++] = LDX_W(R5, R1, 8);
        /* Last match wins: test the rules from the last one back, the first hit decides. */
        bool total = false;
        for (size_t i = n; i-- > 0 && !total;) {
                const struct rt_device_rule *d = &rules[i];
                if (d->type != 'a' && d->type != 'c' && d->type != 'b') {
                        free(p);
                        return -EINVAL;
                }
                if (d->access[0] != '\0' && access_mask(d->access) == 0)
                        continue; /* grants or refuses nothing */
                total = emit_rule(d, p, &k);
        }
        if (!total) {
                p[k++] = MOV64_K(R0, 0);
                p[k++] = EXIT();
        }
        *out = p;
        return (int)k;
}

static long sys_bpf(int cmd, union bpf_attr *a)
{
        return syscall(SYS_bpf, cmd, a, sizeof(*a));
}

static int load(const struct bpf_insn *insns, int n, struct gerr **err)
{
        union bpf_attr a;
        memset(&a, 0, sizeof(a));
        a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        a.insns = (uintptr_t)insns;
        a.insn_cnt = (uint32_t)n;
        a.license = (uintptr_t) "Apache";
        int fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
        if (fd >= 0)
                return fd;
        int e = errno;
        /* Load again with the verifier log only when it failed: the log says why. */
        char log[4096] = "";
        a.log_level = 1;
        a.log_buf = (uintptr_t)log;
        a.log_size = sizeof(log);
        fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
        if (fd >= 0)
                return fd;
        log[sizeof(log) - 1] = '\0';
        size_t len = strlen(log);
        while (len > 0 && log[len - 1] == '\n')
                log[--len] = '\0';
        char *last = strrchr(log, '\n');
        return gerr_set(err, e, "load device cgroup program%s%s", log[0] ? ": " : "",
                        last != NULL ? last + 1 : log);
}

int rt_cg_bpf_devices(const char *dir, const struct rt_device_rule *rules, size_t n,
                      struct gerr **err)
{
        _cleanup_free_ struct bpf_insn *insns = NULL;
        int ni = rt_cg_bpf_build(rules, n, &insns);
        if (ni < 0)
                return gerr_set(err, -ni, "device rules");
        _cleanup_close_ int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cgfd < 0)
                return gerr_set(err, errno, "open %s", dir);
        _cleanup_close_ int prog = load(insns, ni, err);
        if (prog < 0)
                return prog;

        /* Programs attached here before (an earlier update) are replaced, not stacked: with
         * BPF_F_ALLOW_MULTI every program must allow, so an old one would still deny. */
        uint32_t ids[64];
        union bpf_attr q;
        memset(&q, 0, sizeof(q));
        q.query.target_fd = (uint32_t)cgfd;
        q.query.attach_type = BPF_CGROUP_DEVICE;
        q.query.prog_ids = (uintptr_t)ids;
        q.query.prog_cnt = ARRAY_SIZE(ids);
        uint32_t n_old = sys_bpf(BPF_PROG_QUERY, &q) == 0 ? q.query.prog_cnt : 0;

        union bpf_attr at;
        memset(&at, 0, sizeof(at));
        at.target_fd = (uint32_t)cgfd;
        at.attach_bpf_fd = (uint32_t)prog;
        at.attach_type = BPF_CGROUP_DEVICE;
        at.attach_flags = BPF_F_ALLOW_MULTI;
        if (sys_bpf(BPF_PROG_ATTACH, &at) < 0)
                return gerr_set(err, errno, "attach device cgroup program to %s", dir);

        for (uint32_t i = 0; i < n_old && i < ARRAY_SIZE(ids); i++) {
                union bpf_attr g;
                memset(&g, 0, sizeof(g));
                g.prog_id = ids[i];
                _cleanup_close_ int old = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &g);
                if (old < 0)
                        continue;
                union bpf_attr dt;
                memset(&dt, 0, sizeof(dt));
                dt.target_fd = (uint32_t)cgfd;
                dt.attach_bpf_fd = (uint32_t)old;
                dt.attach_type = BPF_CGROUP_DEVICE;
                if (sys_bpf(BPF_PROG_DETACH, &dt) < 0 && errno != ENOENT)
                        return gerr_set(err, errno, "detach old device program from %s", dir);
        }
        return 0;
}
