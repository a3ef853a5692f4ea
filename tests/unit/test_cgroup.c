/* Unit tests for runtime/cgroup: knob files written in fake v1/v2 trees, the device eBPF
 * program's verdicts, and (as root) real cgroups on this host. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/bpf.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "runtime/cgroup.h"
#include "runtime/cgroup_internal.h"

/* ---- helpers ---- */

static void put(const char *dir, const char *file, const char *text)
{
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", dir, file);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

/* The whole file, or NULL if it does not exist. */
static char *get(const char *dir, const char *file)
{
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", dir, file);
        FILE *f = fopen(p, "r");
        if (f == NULL)
                return NULL;
        char *buf = calloc(1, 65536);
        size_t n = fread(buf, 1, 65535, f);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

#define assert_file(dir, file, want)                                                               \
        do {                                                                                       \
                _cleanup_free_ char *got_ = get(dir, file);                                        \
                if (got_ == NULL)                                                                  \
                        fail_msg("%s/%s missing", dir, file);                                      \
                size_t l_ = strlen(got_);                                                          \
                if (l_ > 0 && got_[l_ - 1] == '\n' && strchr(want, '\n') == NULL)                  \
                        got_[l_ - 1] = '\0';                                                       \
                assert_string_equal(got_, want);                                                   \
        } while (0)

static bool exists(const char *dir, const char *file)
{
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", dir, file);
        struct stat st;
        return stat(p, &st) == 0;
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(p);
}

static void rm_rf(const char *p)
{
        nftw(p, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static char *sub(const char *a, const char *b)
{
        char *s;
        assert_true(asprintf(&s, "%s/%s", a, b) > 0);
        return s;
}

/* The fake tree of the running test, removed by its teardown even when an assert fails. */
static char fake_root[64];

static char *make_fake_root(const char *kind)
{
        snprintf(fake_root, sizeof(fake_root), "/tmp/gantry-cg-%s-XXXXXX", kind);
        assert_non_null(mkdtemp(fake_root));
        return fake_root;
}

static void use_root(const char *root);

static int fake_teardown(void **state)
{
        (void)state;
        if (fake_root[0] != '\0')
                rm_rf(fake_root);
        fake_root[0] = '\0';
        use_root(NULL);
        return 0;
}

static void use_root(const char *root)
{
        if (root != NULL)
                setenv("GANTRY_CGROUP_ROOT", root, 1);
        else
                unsetenv("GANTRY_CGROUP_ROOT");
        rt_cg_host_reset();
}

static struct opt_i64 val(int64_t v)
{
        return (struct opt_i64){ .set = true, .v = v };
}

static struct rt_device_rule rule(bool allow, char type, int64_t maj, int64_t min, const char *acc)
{
        struct rt_device_rule r = { .allow = allow, .type = type, .major = maj, .minor = min };
        snprintf(r.access, sizeof(r.access), "%s", acc);
        return r;
}

/* ---- fake cgroup2 tree ---- */

static void test_fake_v2_writes(void **state)
{
        (void)state;
        const char *root = make_fake_root("v2");
        put(root, "cgroup.controllers", "cpu memory pids io\n");
        put(root, "cgroup.subtree_control", "");
        use_root(root);
        assert_int_equal(rt_cgroup_mode(), RT_CGROUP_V2);

        struct rt_throttle_device rbps = { .major = 8, .minor = 0, .rate = 1048576 };
        struct rt_hugepage_limit huge = { .pagesize = "2MB", .limit = 4194304 };
        struct rt_resources res = { 0 };
        res.memory.limit = val(64 << 20);
        res.memory.reservation = val(32 << 20);
        res.memory.swap = val(96 << 20);
        res.cpu.shares = val(1024);
        res.cpu.quota = val(50000);
        res.cpu.period = val(100000);
        res.pids_limit = val(0);
        res.blkio.weight = val(500);
        res.blkio.throttle_read_bps = &rbps;
        res.blkio.n_throttle_read_bps = 1;
        res.hugepage_limits = &huge;
        res.n_hugepage_limits = 1;
        res.unified = json_pack("{s:s}", "memory.high", "50000000");

        _cleanup_gerr_ struct gerr *err = NULL;
        struct rt_cgroup *cg = NULL;
        int r = rt_cgroup_create("/gantry/c1", "c1", &res, 4242, &cg, &err);
        if (r < 0)
                fail_msg("%s", err->msg);
        _cleanup_free_ char *leaf = sub(root, "gantry/c1");
        _cleanup_free_ char *mid = sub(root, "gantry");
        assert_file(root, "cgroup.subtree_control", "+cpu +io +memory +pids");
        assert_file(mid, "cgroup.subtree_control", "+cpu +io +memory +pids");
        assert_false(exists(leaf, "cgroup.subtree_control"));
        assert_file(leaf, "memory.max", "67108864");
        assert_file(leaf, "memory.low", "33554432");
        assert_file(leaf, "memory.swap.max", "33554432");
        assert_file(leaf, "cpu.weight", "39");
        assert_file(leaf, "cpu.max", "50000 100000");
        assert_false(exists(leaf, "cpu.max.burst"));
        assert_file(leaf, "pids.max", "max");
        assert_file(leaf, "io.weight", "4950");
        assert_file(leaf, "io.max", "8:0 rbps=1048576\n");
        assert_false(exists(leaf, "hugetlb.2MB.max")); /* controller absent: skipped */
        assert_file(leaf, "memory.high", "50000000");
        assert_file(leaf, "cgroup.procs", "4242");

        json_t *j = rt_cgroup_to_json(cg);
        assert_string_equal(json_string_value(json_object_get(j, "mode")), "v2");
        assert_string_equal(json_string_value(json_object_get(j, "path")), "/gantry/c1");
        assert_string_equal(json_string_value(json_object_get(j, "unified")), leaf);
        json_decref(j);

        /* A refused write names the file and the value. */
        _cleanup_free_ char *knob = sub(leaf, "memory.max");
        unlink(knob);
        mkdir(knob, 0755);
        struct rt_resources upd = { 0 };
        upd.memory.limit = val(1234);
        r = rt_cgroup_update(cg, &upd, &err);
        assert_int_equal(r, -EISDIR);
        char want[4200];
        snprintf(want, sizeof(want), "update cgroup /gantry/c1: write %s \"1234\": Is a directory",
                 knob);
        assert_string_equal(err->msg, want);
        rmdir(knob);

        assert_int_equal(rt_cgroup_destroy(cg, NULL), 0);
        assert_false(exists(leaf, ""));
        assert_true(exists(mid, ""));
        rt_cgroup_free(cg);
        json_decref(res.unified);
}

static void test_fake_v2_cpuset_missing_is_an_error_and_nothing_is_left(void **state)
{
        (void)state;
        const char *root = make_fake_root("v2");
        put(root, "cgroup.controllers", "cpu memory pids io\n");
        use_root(root);
        struct rt_resources res = { 0 };
        res.pids_limit = val(5);
        res.cpu.cpus = "0-1";
        _cleanup_gerr_ struct gerr *err = NULL;
        struct rt_cgroup *cg = NULL;
        assert_int_equal(rt_cgroup_create("/fail/c9", "c9", &res, 1, &cg, &err), -EOPNOTSUPP);
        assert_string_equal(err->msg, "create cgroup /fail/c9: cgroup controller cpuset is not "
                                      "available on this host: Operation not supported");
        assert_false(exists(root, "fail"));
        gerr_free(err);
        err = NULL;

        /* swap below the memory limit is refused before anything is written */
        struct rt_resources bad = { 0 };
        bad.memory.limit = val(100 << 20);
        bad.memory.swap = val(10 << 20);
        assert_int_equal(rt_cgroup_create("/fail/c9", "c9", &bad, 1, &cg, &err), -EINVAL);
        assert_false(exists(root, "fail"));
}

static void test_paths(void **state)
{
        (void)state;
        const char *root = make_fake_root("v2");
        put(root, "cgroup.controllers", "pids\n");
        use_root(root);
        _cleanup_gerr_ struct gerr *err = NULL;
        struct rt_cgroup *cg = NULL;
        assert_int_equal(rt_cgroup_create("system.slice:docker:abc", "abc", NULL, 0, &cg, &err),
                         -EINVAL);
        assert_non_null(strstr(err->msg, "systemd cgroup paths (slice:prefix:name) are not "
                                         "supported"));
        gerr_free(err);
        err = NULL;
        assert_int_equal(rt_cgroup_create("/a/../../etc", "x", NULL, 0, &cg, &err), -EINVAL);
        assert_non_null(strstr(err->msg, "\"..\" is not allowed"));
        gerr_free(err);
        err = NULL;

        /* NULL: /gantry/<id>; "//" and "." collapse. */
        assert_int_equal(rt_cgroup_create(NULL, "c2", NULL, 0, &cg, &err), 0);
        json_t *j = rt_cgroup_to_json(cg);
        assert_string_equal(json_string_value(json_object_get(j, "path")), "/gantry/c2");
        json_decref(j);
        assert_int_equal(rt_cgroup_destroy(cg, NULL), 0);
        rt_cgroup_free(cg);
        assert_int_equal(rt_cgroup_create("//x/./y/", "c3", NULL, 0, &cg, &err), 0);
        j = rt_cgroup_to_json(cg);
        assert_string_equal(json_string_value(json_object_get(j, "path")), "/x/y");
        json_decref(j);
        assert_true(exists(root, "x/y"));
        assert_int_equal(rt_cgroup_destroy(cg, NULL), 0);
        assert_false(exists(root, "x/y"));
        rt_cgroup_free(cg);
}

/* ---- fake v1 tree ---- */

static void test_fake_v1_writes(void **state)
{
        (void)state;
        const char *root = make_fake_root("v1");
        const char *hier[] = { "cpu,cpuacct", "cpuset", "memory", "devices", "pids",
                               "freezer",     "blkio",  "systemd", "net_cls" };
        for (size_t i = 0; i < ARRAY_SIZE(hier); i++) {
                _cleanup_free_ char *d = sub(root, hier[i]);
                assert_int_equal(mkdir(d, 0755), 0);
        }
        _cleanup_free_ char *cpuset_root = sub(root, "cpuset");
        put(cpuset_root, "cpuset.cpus", "0-3\n");
        put(cpuset_root, "cpuset.mems", "0\n");
        use_root(root);
        assert_int_equal(rt_cgroup_mode(), RT_CGROUP_V1);

        struct rt_device_rule rules[] = { rule(false, 'a', -1, -1, "rwm"),
                                          rule(true, 'c', 1, 3, "rw") };
        struct rt_resources res = { 0 };
        res.memory.limit = val(64 << 20);
        res.memory.swap = val(128 << 20);
        res.memory.reservation = val(32 << 20);
        res.memory.kernel = val(1 << 20);
        res.memory.swappiness = val(10);
        res.memory.disable_oom_killer = true;
        res.cpu.shares = val(512);
        res.cpu.quota = val(50000);
        res.cpu.period = val(100000);
        res.cpu.cpus = "0-1";
        res.pids_limit = val(10);
        res.blkio.weight = val(300);
        res.network.class_id = val(0x100001);
        res.devices = rules;
        res.n_devices = ARRAY_SIZE(rules);

        _cleanup_gerr_ struct gerr *err = NULL;
        struct rt_cgroup *cg = NULL;
        if (rt_cgroup_create("/gantry/c1", "c1", &res, 4242, &cg, &err) < 0)
                fail_msg("%s", err->msg);
        _cleanup_free_ char *cpu = sub(root, "cpu,cpuacct/gantry/c1");
        _cleanup_free_ char *cs_mid = sub(root, "cpuset/gantry");
        _cleanup_free_ char *cs = sub(root, "cpuset/gantry/c1");
        _cleanup_free_ char *mem = sub(root, "memory/gantry/c1");
        _cleanup_free_ char *dev = sub(root, "devices/gantry/c1");
        _cleanup_free_ char *pids = sub(root, "pids/gantry/c1");
        _cleanup_free_ char *sd = sub(root, "systemd/gantry/c1");
        _cleanup_free_ char *blk = sub(root, "blkio/gantry/c1");
        _cleanup_free_ char *cls = sub(root, "net_cls/gantry/c1");
        assert_file(cpu, "cpu.shares", "512");
        assert_file(cpu, "cpu.cfs_period_us", "100000");
        assert_file(cpu, "cpu.cfs_quota_us", "50000");
        assert_file(cs_mid, "cpuset.cpus", "0-3");
        assert_file(cs_mid, "cpuset.mems", "0");
        assert_file(cs, "cpuset.cpus", "0-1");
        assert_file(cs, "cpuset.mems", "0");
        assert_file(mem, "memory.limit_in_bytes", "67108864");
        assert_file(mem, "memory.memsw.limit_in_bytes", "134217728");
        assert_file(mem, "memory.soft_limit_in_bytes", "33554432");
        assert_file(mem, "memory.swappiness", "10");
        assert_file(mem, "memory.oom_control", "1");
        assert_false(exists(mem, "memory.kmem.limit_in_bytes")); /* absent knob: skipped */
        _cleanup_free_ char *deny = get(dev, "devices.deny");
        _cleanup_free_ char *allow = get(dev, "devices.allow");
        assert_non_null(deny);
        assert_non_null(allow);
        assert_string_equal(deny, "a\na *:* rwm\n");
        assert_true(strncmp(allow, "c 1:3 rw\nc *:* m\nb *:* m\nc 1:3 rwm\n", 35) == 0);
        assert_file(pids, "pids.max", "10");
        assert_file(blk, "blkio.weight", "300");
        assert_file(cls, "net_cls.classid", "1048577");
        assert_file(sd, "cgroup.procs", "4242");
        assert_file(pids, "cgroup.procs", "4242");

        /* Found again from its JSON, as another process would. */
        json_t *j = rt_cgroup_to_json(cg);
        assert_string_equal(json_string_value(json_object_get(j, "mode")), "v1");
        assert_null(json_object_get(j, "unified"));
        assert_string_equal(
                json_string_value(json_object_get(json_object_get(j, "v1"), "name=systemd")), sd);
        struct rt_cgroup *cg2 = NULL;
        assert_int_equal(rt_cgroup_from_json(j, &cg2, &err), 0);
        json_t *j2 = rt_cgroup_to_json(cg2);
        assert_true(json_equal(j, j2));
        json_decref(j);
        json_decref(j2);

        pid_t *pv = NULL;
        size_t n = 0;
        assert_int_equal(rt_cgroup_pids(cg2, &pv, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_int_equal(pv[0], 4242);
        free(pv);

        assert_int_equal(rt_cgroup_freeze(cg2, true, &err), 0);
        assert_true(rt_cgroup_is_frozen(cg2));
        assert_int_equal(rt_cgroup_freeze(cg2, false, &err), 0);
        assert_false(rt_cgroup_is_frozen(cg2));

        assert_int_equal(rt_cgroup_oom_kills(cg2), -1);
        put(mem, "memory.oom_control", "oom_kill_disable 1\nunder_oom 0\noom_kill 3\n");
        assert_int_equal(rt_cgroup_oom_kills(cg2), 3);

        /* unified keys need a cgroup2 tree; the error names the key */
        struct rt_resources upd = { 0 };
        upd.unified = json_pack("{s:s}", "memory.high", "1");
        assert_int_equal(rt_cgroup_update(cg2, &upd, &err), -EOPNOTSUPP);
        assert_string_equal(err->msg, "update cgroup /gantry/c1: unified resource "
                                      "\"memory.high\": this host has no cgroup v2 tree: "
                                      "Operation not supported");
        json_decref(upd.unified);

        assert_int_equal(rt_cgroup_destroy(cg2, NULL), 0);
        for (size_t i = 0; i < ARRAY_SIZE(hier); i++) {
                char p[256];
                snprintf(p, sizeof(p), "%s/gantry/c1", hier[i]);
                assert_false(exists(root, p));
        }
        /* destroy twice is fine */
        assert_int_equal(rt_cgroup_destroy(cg2, NULL), 0);
        rt_cgroup_free(cg2);
        rt_cgroup_free(cg);

        /* A failed create leaves no directory in any hierarchy. */
        struct rt_resources bad = { 0 };
        bad.cpu.shares = val(100);
        bad.memory.swappiness = val(200);
        gerr_free(err);
        err = NULL;
        assert_int_equal(rt_cgroup_create("/f/c", "c", &bad, 4242, &cg, &err), -EINVAL);
        assert_non_null(strstr(err->msg, "invalid memory swappiness 200"));
        for (size_t i = 0; i < ARRAY_SIZE(hier); i++) {
                char p[256];
                snprintf(p, sizeof(p), "%s/f", hier[i]);
                assert_false(exists(root, p));
        }
}

static void test_conversions(void **state)
{
        (void)state;
        assert_int_equal(rt_cg_shares_to_weight(2), 1);
        assert_int_equal(rt_cg_shares_to_weight(1024), 39);
        assert_int_equal(rt_cg_shares_to_weight(262144), 10000);
        assert_int_equal(rt_cg_blkio_to_io_weight(10), 1);
        assert_int_equal(rt_cg_blkio_to_io_weight(1000), 10000);
        assert_int_equal(rt_cg_v2_parse_controllers("cpuset cpu io memory hugetlb pids rdma misc"),
                         CG_CPU | CG_CPUSET | CG_IO | CG_MEMORY | CG_HUGETLB | CG_PIDS | CG_RDMA |
                                 CG_MISC);
}

/* ---- device program, run by a tiny interpreter of the instructions it uses ---- */

static int run_prog(const struct bpf_insn *p, int n, uint32_t type, uint32_t acc, uint32_t maj,
                    uint32_t min)
{
        uint64_t r[11] = { 0 };
        uint32_t ctx[3] = { (acc << 16) | type, maj, min };
        for (int pc = 0; pc < n; pc++) {
                const struct bpf_insn *i = &p[pc];
                uint64_t imm = (uint64_t)(int64_t)i->imm;
                switch (i->code) {
                case BPF_LDX | BPF_W | BPF_MEM:
                        assert_int_equal(i->src_reg, 1);
                        r[i->dst_reg] = ctx[i->off / 4];
                        break;
                case BPF_ALU | BPF_AND | BPF_K:
                        r[i->dst_reg] = (uint32_t)(r[i->dst_reg] & (uint32_t)i->imm);
                        break;
                case BPF_ALU | BPF_RSH | BPF_K:
                        r[i->dst_reg] = (uint32_t)r[i->dst_reg] >> i->imm;
                        break;
                case BPF_ALU | BPF_MOV | BPF_X:
                        r[i->dst_reg] = (uint32_t)r[i->src_reg];
                        break;
                case BPF_ALU64 | BPF_MOV | BPF_K:
                        r[i->dst_reg] = imm;
                        break;
                case BPF_JMP | BPF_JNE | BPF_K:
                        pc += r[i->dst_reg] != imm ? i->off : 0;
                        break;
                case BPF_JMP | BPF_JEQ | BPF_K:
                        pc += r[i->dst_reg] == imm ? i->off : 0;
                        break;
                case BPF_JMP | BPF_JNE | BPF_X:
                        pc += r[i->dst_reg] != r[i->src_reg] ? i->off : 0;
                        break;
                case BPF_JMP | BPF_EXIT:
                        return (int)r[0];
                default:
                        fail_msg("unexpected insn %#x", i->code);
                }
        }
        fail_msg("fell off the end");
        return -1;
}

enum { C = BPF_DEVCG_DEV_CHAR, B = BPF_DEVCG_DEV_BLOCK };
enum { M = BPF_DEVCG_ACC_MKNOD, RD = BPF_DEVCG_ACC_READ, WR = BPF_DEVCG_ACC_WRITE };

static void test_bpf_program_verdicts(void **state)
{
        (void)state;
        struct rt_device_rule rules[] = {
                rule(false, 'a', -1, -1, "rwm"), rule(true, 'c', 1, 3, "rwm"),
                rule(true, 'c', 1, 5, "rw"),     rule(false, 'c', 1, 5, "w"),
                rule(true, 'b', 8, -1, "r"),
        };
        struct bpf_insn *p = NULL;
        int n = rt_cg_bpf_build(rules, ARRAY_SIZE(rules), &p);
        assert_true(n > 0);
        assert_int_equal(run_prog(p, n, C, RD | WR, 1, 3), 1);
        assert_int_equal(run_prog(p, n, B, RD, 1, 3), 0);  /* type differs */
        assert_int_equal(run_prog(p, n, C, RD, 1, 5), 1);  /* the later deny names only w */
        assert_int_equal(run_prog(p, n, C, WR, 1, 5), 0);  /* last match wins */
        assert_int_equal(run_prog(p, n, C, RD | WR, 1, 5), 0);
        assert_int_equal(run_prog(p, n, C, M, 1, 5), 0);   /* not granted by "rw" */
        assert_int_equal(run_prog(p, n, C, RD, 1, 7), 0);  /* default deny */
        assert_int_equal(run_prog(p, n, B, RD, 8, 17), 1); /* any minor */
        assert_int_equal(run_prog(p, n, B, WR, 8, 17), 0);
        free(p);

        /* A rule matching everything ends the program: no unreachable code for the verifier. */
        struct rt_device_rule all[] = { rule(false, 'c', 1, 3, "rwm"), rule(true, 'a', -1, -1, "") };
        n = rt_cg_bpf_build(all, 2, &p);
        assert_int_equal(n, 8);
        assert_int_equal(run_prog(p, n, C, RD, 1, 3), 1);
        free(p);
        n = rt_cg_bpf_build(NULL, 0, &p);
        assert_int_equal(n, 8);
        assert_int_equal(run_prog(p, n, C, RD, 1, 3), 0);
        free(p);
}

/* ---- real cgroups (root) ---- */

static bool have_v1_memory(void)
{
        return access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0;
}

static bool have_unified(void)
{
        return access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0;
}

struct real {
        struct rt_cgroup *cg;
        pid_t child;
        int go[2];
        char parent[64];
        char *unified_dir;
        char *saved_subtree;
};

static int real_setup(void **state)
{
        struct real *s = calloc(1, sizeof(*s));
        s->go[0] = s->go[1] = -1;
        snprintf(s->parent, sizeof(s->parent), "gantry-test-%d", (int)getpid());
        *state = s;
        return 0;
}

static int real_teardown(void **state)
{
        struct real *s = *state;
        if (s->child > 0) {
                kill(s->child, SIGKILL);
                waitpid(s->child, NULL, 0);
        }
        if (s->cg != NULL) {
                rt_cgroup_destroy(s->cg, NULL);
                rt_cgroup_free(s->cg);
        }
        if (s->unified_dir != NULL) {
                rmdir(s->unified_dir);
                free(s->unified_dir);
        }
        const struct cg_host *h = rt_cg_host(NULL);
        for (size_t i = 0; h != NULL && i <= h->n_v1; i++) {
                const char *mnt = i < h->n_v1 ? h->v1[i].mnt : h->unified;
                if (mnt == NULL)
                        continue;
                char p[512];
                snprintf(p, sizeof(p), "%s/%s", mnt, s->parent);
                rmdir(p);
        }
        if (s->saved_subtree != NULL) {
                /* Give the host back the unified root's delegation as we found it. */
                if (strstr(s->saved_subtree, "hugetlb") == NULL)
                        put("/sys/fs/cgroup/unified", "cgroup.subtree_control", "-hugetlb");
                free(s->saved_subtree);
        }
        if (s->go[0] >= 0)
                close(s->go[0]);
        if (s->go[1] >= 0)
                close(s->go[1]);
        free(s);
        use_root(NULL);
        return 0;
}

/* A child that waits for a byte on the pipe, then runs fn and exits with its result. */
static pid_t spawn(struct real *s, int (*fn)(void))
{
        assert_int_equal(pipe2(s->go, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char c;
                close(s->go[1]);
                if (read(s->go[0], &c, 1) != 1)
                        _exit(100);
                _exit(fn());
        }
        close(s->go[0]);
        s->go[0] = -1;
        s->child = pid;
        return pid;
}

static void release(struct real *s)
{
        assert_int_equal(write(s->go[1], "x", 1), 1);
}

static int child_sleep(void)
{
        for (;;)
                pause();
        return 0;
}

static int child_true(void)
{
        execl("/bin/busybox", "busybox", "true", (char *)NULL);
        return 127;
}

static bool proc_cgroup_has(pid_t pid, const char *needle)
{
        char p[64];
        snprintf(p, sizeof(p), "/proc/%d", (int)pid);
        _cleanup_free_ char *text = get(p, "cgroup");
        return text != NULL && strstr(text, needle) != NULL;
}

static void test_real_hybrid(void **state)
{
        struct real *s = *state;
        if (geteuid() != 0 || !have_v1_memory())
                skip();
        use_root(NULL);
        assert_true(rt_cgroup_mode() != RT_CGROUP_V2);

        struct rt_device_rule rules[] = { rule(false, 'a', -1, -1, "rwm"),
                                          rule(true, 'c', 1, 3, "rwm") };
        struct rt_resources res = { 0 };
        res.memory.limit = val(64 << 20);
        res.pids_limit = val(10);
        res.cpu.shares = val(512);
        res.cpu.quota = val(50000);
        res.cpu.period = val(100000);
        res.devices = rules;
        res.n_devices = ARRAY_SIZE(rules);
        pid_t pid = spawn(s, child_sleep);
        char path[128];
        snprintf(path, sizeof(path), "/%s/c1", s->parent);
        _cleanup_gerr_ struct gerr *err = NULL;
        if (rt_cgroup_create(path, "c1", &res, pid, &s->cg, &err) < 0)
                fail_msg("%s", err->msg);
        release(s);

        char d[512];
        snprintf(d, sizeof(d), "/sys/fs/cgroup/memory%s", path);
        assert_file(d, "memory.limit_in_bytes", "67108864");
        snprintf(d, sizeof(d), "/sys/fs/cgroup/pids%s", path);
        assert_file(d, "pids.max", "10");
        snprintf(d, sizeof(d), "%s%s", rt_cg_v1_dir(s->cg, "cpu"), "");
        assert_file(d, "cpu.shares", "512");
        assert_file(d, "cpu.cfs_quota_us", "50000");
        assert_file(d, "cpu.cfs_period_us", "100000");
        _cleanup_free_ char *list = get(rt_cg_v1_dir(s->cg, "devices"), "devices.list");
        assert_non_null(list);
        assert_non_null(strstr(list, "c 1:3 rwm"));
        assert_null(strstr(list, "a *:* rwm"));

        char needle[160];
        snprintf(needle, sizeof(needle), ":memory:%s\n", path);
        assert_true(proc_cgroup_has(pid, needle));
        snprintf(needle, sizeof(needle), ":name=systemd:%s\n", path);
        assert_true(proc_cgroup_has(pid, needle));
        if (have_unified()) {
                snprintf(needle, sizeof(needle), "0::%s\n", path);
                assert_true(proc_cgroup_has(pid, needle));
        }

        /* Growing past the old memsw limit and shrinking again both need the right order. */
        const char *mem = rt_cg_v1_dir(s->cg, "memory");
        if (access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0) {
                struct rt_resources upd = { 0 };
                upd.memory.limit = val(256 << 20);
                upd.memory.swap = val(512 << 20);
                if (rt_cgroup_update(s->cg, &upd, &err) < 0)
                        fail_msg("%s", err->msg);
                assert_file(mem, "memory.limit_in_bytes", "268435456");
                assert_file(mem, "memory.memsw.limit_in_bytes", "536870912");
                upd.memory.limit = val(32 << 20);
                upd.memory.swap = val(48 << 20);
                if (rt_cgroup_update(s->cg, &upd, &err) < 0)
                        fail_msg("%s", err->msg);
                assert_file(mem, "memory.limit_in_bytes", "33554432");
                assert_file(mem, "memory.memsw.limit_in_bytes", "50331648");
        }
        /* A value the kernel refuses: the error names the file and the value. */
        struct rt_resources bad = { 0 };
        bad.cpu.quota = val(500); /* below the kernel's 1 ms minimum */
        assert_int_equal(rt_cgroup_update(s->cg, &bad, &err), -EINVAL);
        char want[600];
        snprintf(want, sizeof(want),
                 "update cgroup %s: write %s/cpu.cfs_quota_us \"500\": Invalid argument", path,
                 rt_cg_v1_dir(s->cg, "cpu"));
        assert_string_equal(err->msg, want);
        gerr_free(err);
        err = NULL;

        pid_t *pv = NULL;
        size_t n = 0;
        assert_int_equal(rt_cgroup_pids(s->cg, &pv, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_int_equal(pv[0], pid);
        free(pv);

        if (rt_cgroup_freeze(s->cg, true, &err) < 0)
                fail_msg("%s", err->msg);
        assert_true(rt_cgroup_is_frozen(s->cg));
        assert_int_equal(rt_cgroup_freeze(s->cg, false, &err), 0);
        assert_false(rt_cgroup_is_frozen(s->cg));

        /* kill + destroy from the state JSON, as `delete` in another process does */
        json_t *j = rt_cgroup_to_json(s->cg);
        struct rt_cgroup *again = NULL;
        assert_int_equal(rt_cgroup_from_json(j, &again, &err), 0);
        assert_int_equal(rt_cgroup_kill_all(again, SIGKILL, &err), 0);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        s->child = 0;
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        if (rt_cgroup_destroy(again, &err) < 0)
                fail_msg("%s", err->msg);
        rt_cgroup_free(again);
        const char *key;
        json_t *v;
        json_object_foreach(json_object_get(j, "v1"), key, v)
        {
                struct stat sb;
                assert_int_equal(stat(json_string_value(v), &sb), -1);
                assert_int_equal(errno, ENOENT);
        }
        if (json_object_get(j, "unified") != NULL) {
                struct stat sb;
                assert_int_equal(stat(json_string_value(json_object_get(j, "unified")), &sb), -1);
        }
        json_decref(j);
}

static void test_real_512k_memory(void **state)
{
        struct real *s = *state;
        if (geteuid() != 0 || !have_v1_memory() || access("/bin/busybox", X_OK) != 0)
                skip();
        use_root(NULL);
        struct rt_resources res = { 0 };
        res.memory.limit = val(512 << 10);
        pid_t pid = spawn(s, child_true);
        char path[128];
        snprintf(path, sizeof(path), "/%s/small", s->parent);
        _cleanup_gerr_ struct gerr *err = NULL;
        if (rt_cgroup_create(path, "small", &res, pid, &s->cg, &err) < 0)
                fail_msg("%s", err->msg);
        release(s);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        s->child = 0;
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        assert_int_equal(rt_cgroup_destroy(s->cg, &err), 0);
}

static int child_open_null_zero(void)
{
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0 || errno != EPERM)
                return 1;
        fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
        return fd >= 0 ? 0 : 2;
}

static uint32_t attached_programs(const char *dir)
{
        uint32_t ids[8];
        union bpf_attr q;
        memset(&q, 0, sizeof(q));
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        q.query.target_fd = (uint32_t)fd;
        q.query.attach_type = BPF_CGROUP_DEVICE;
        q.query.prog_ids = (uintptr_t)ids;
        q.query.prog_cnt = 8;
        assert_int_equal(syscall(SYS_bpf, BPF_PROG_QUERY, &q, sizeof(q)), 0);
        return q.query.prog_cnt;
}

static void test_real_bpf_denies_dev_null(void **state)
{
        struct real *s = *state;
        if (geteuid() != 0 || !have_unified())
                skip();
        assert_int_not_equal(asprintf(&s->unified_dir, "/sys/fs/cgroup/unified/%s", s->parent), -1);
        assert_int_equal(mkdir(s->unified_dir, 0755), 0);
        struct rt_device_rule rules[] = { rule(true, 'a', -1, -1, "rwm"),
                                          rule(false, 'c', 1, 3, "rwm") };
        _cleanup_gerr_ struct gerr *err = NULL;
        /* Loaded twice: the second replaces the first rather than stacking. */
        for (int i = 0; i < 2; i++)
                if (rt_cg_bpf_devices(s->unified_dir, rules, 2, &err) < 0)
                        fail_msg("%s", err->msg);
        assert_int_equal(attached_programs(s->unified_dir), 1);
        pid_t pid = spawn(s, child_open_null_zero);
        char buf[24];
        snprintf(buf, sizeof(buf), "%d", (int)pid);
        put(s->unified_dir, "cgroup.procs", buf);
        release(s);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        s->child = 0;
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
}

static char node_path[64];

static int child_open_node(void)
{
        if (open("/dev/null", O_RDWR | O_CLOEXEC) < 0)
                return 1;
        int fd = open(node_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd >= 0 || errno != EPERM)
                return 2;
        for (;;)
                pause();
        return 0;
}

/* The unified tree alone, as a pure v2 host: the default rules as an eBPF program, the v2
 * freezer, cgroup.kill. */
static void test_real_v2_on_unified(void **state)
{
        struct real *s = *state;
        if (geteuid() != 0 || !have_unified())
                skip();
        s->saved_subtree = get("/sys/fs/cgroup/unified", "cgroup.subtree_control");
        use_root("/sys/fs/cgroup/unified");
        assert_int_equal(rt_cgroup_mode(), RT_CGROUP_V2);
        const struct cg_host *h = rt_cg_host(NULL);
        assert_false(h->fake);

        snprintf(node_path, sizeof(node_path), "/tmp/gantry-kmsg-%d", (int)getpid());
        unlink(node_path);
        assert_int_equal(mknod(node_path, S_IFCHR | 0600, makedev(1, 11)), 0);
        pid_t pid = spawn(s, child_open_node);
        char path[128];
        snprintf(path, sizeof(path), "/%s/v2", s->parent);
        _cleanup_gerr_ struct gerr *err = NULL;
        int r = rt_cgroup_create(path, "v2", NULL, pid, &s->cg, &err);
        if (r < 0) {
                unlink(node_path);
                fail_msg("%s", err->msg);
        }
        release(s);
        usleep(100000);
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        unlink(node_path);
        if (w == pid) {
                s->child = 0;
                fail_msg("child exited early with %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        }
        assert_int_equal(rt_cgroup_freeze(s->cg, true, &err), 0);
        assert_true(rt_cgroup_is_frozen(s->cg));
        assert_int_equal(rt_cgroup_kill_all(s->cg, SIGKILL, &err), 0);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        s->child = 0;
        assert_true(WIFSIGNALED(st));
        char leaf[256];
        snprintf(leaf, sizeof(leaf), "/sys/fs/cgroup/unified%s", path);
        assert_int_equal(rt_cgroup_destroy(s->cg, &err), 0);
        assert_false(exists(leaf, ""));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_fake_v2_writes, fake_teardown),
                cmocka_unit_test_teardown(test_fake_v2_cpuset_missing_is_an_error_and_nothing_is_left, fake_teardown),
                cmocka_unit_test_teardown(test_paths, fake_teardown),
                cmocka_unit_test_teardown(test_fake_v1_writes, fake_teardown),
                cmocka_unit_test(test_conversions),
                cmocka_unit_test(test_bpf_program_verdicts),
                cmocka_unit_test_setup_teardown(test_real_hybrid, real_setup, real_teardown),
                cmocka_unit_test_setup_teardown(test_real_512k_memory, real_setup, real_teardown),
                cmocka_unit_test_setup_teardown(test_real_bpf_denies_dev_null, real_setup,
                                                real_teardown),
                cmocka_unit_test_setup_teardown(test_real_v2_on_unified, real_setup,
                                                real_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
