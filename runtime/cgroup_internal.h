/* Private to the cgroup module: host layout, the container's directories, the file writers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/gerr.h"
#include "runtime/cgroup.h"
#include "runtime/spec.h"

/* Controllers a cgroup2 tree can hold, as bits. */
enum {
        CG_CPU = 1u << 0,
        CG_CPUSET = 1u << 1,
        CG_IO = 1u << 2,
        CG_MEMORY = 1u << 3,
        CG_PIDS = 1u << 4,
        CG_HUGETLB = 1u << 5,
        CG_MISC = 1u << 6,
        CG_RDMA = 1u << 7,
};

/* One mounted v1 hierarchy. */
struct cg_mount {
        char *name; /* controllers as mounted: "cpu,cpuacct", "memory", "name=systemd" */
        char *mnt;  /* mount point */
        char *root; /* root of the mount inside the hierarchy ("/" on a host) */
};

/* What the host has, found once per process. */
struct cg_host {
        enum rt_cgroup_mode mode;
        bool fake;         /* a plain directory tree (tests): files are created when written */
        char *root;        /* /sys/fs/cgroup or $GANTRY_CGROUP_ROOT */
        char *unified;     /* cgroup2 mount point, NULL if none */
        char *unified_root;
        unsigned unified_avail; /* CG_* in the cgroup2 root's cgroup.controllers */
        struct cg_mount *v1;
        size_t n_v1;
};

/* The container's directory in one v1 hierarchy. */
struct cg_dir {
        char *name; /* hierarchy name, as struct cg_mount */
        char *dir;  /* absolute */
};

struct rt_cgroup {
        enum rt_cgroup_mode mode;
        char *path;    /* the cgroupsPath as resolved ("/gantry/<id>" or as given) */
        bool own_parent; /* path was ours ("/gantry/<id>" by default): its parent goes with it */
        char *unified; /* container directory in the cgroup2 tree, NULL if none */
        struct cg_dir *v1;
        size_t n_v1;
};

/* The cached host layout (NULL with *err set when it cannot be read). */
const struct cg_host *rt_cg_host(struct gerr **err);
/* Forget the cached layout (tests switch GANTRY_CGROUP_ROOT). */
void rt_cg_host_reset(void);

/* Write val to dir/file in one write(2); the error names the file and the value. */
int rt_cg_write(const char *dir, const char *file, const char *val, struct gerr **err);
/* The same, but a missing file gives -ENOENT with *err untouched (optional knobs). */
int rt_cg_write_opt(const char *dir, const char *file, const char *val, struct gerr **err);
/* Write each of n lines with its own write(2) on one open file (kernel parses one rule per write). */
int rt_cg_write_lines(const char *dir, const char *file, char **lines, size_t n, struct gerr **err);
/* Read dir/file into a NUL-terminated buffer with the trailing newline stripped. */
int rt_cg_read(const char *dir, const char *file, char **out, struct gerr **err);

/* The directory of the v1 hierarchy holding controller ctrl, or NULL. */
const char *rt_cg_v1_dir(const struct rt_cgroup *cg, const char *ctrl);

/* Per-controller appliers. `update` is true when the cgroup already ran (order matters then). */
int rt_cg_v1_memory(const char *dir, const struct rt_resources *r, bool update, struct gerr **err);
int rt_cg_v1_cpu(const char *dir, const struct rt_resources *r, struct gerr **err);
int rt_cg_v1_cpuset(const char *dir, const struct rt_resources *r, struct gerr **err);
int rt_cg_v1_pids(const char *dir, const struct rt_resources *r, struct gerr **err);
int rt_cg_v1_blkio(const char *dir, const struct rt_resources *r, struct gerr **err);
int rt_cg_v1_hugetlb(const char *dir, const struct rt_resources *r, struct gerr **err);
int rt_cg_v1_net_cls(const char *dir, const struct rt_resources *r, struct gerr **err);
int rt_cg_v1_net_prio(const char *dir, const struct rt_resources *r, struct gerr **err);
int rt_cg_v1_devices(const char *dir, const struct rt_device_rule *rules, size_t n,
                     struct gerr **err);
/* A new v1 cpuset level starts empty: copy cpuset.cpus/mems from the parent. */
int rt_cg_v1_cpuset_inherit(const char *parent, const char *dir, struct gerr **err);

int rt_cg_v2_memory(const char *dir, const struct rt_resources *r, struct gerr **err);
int rt_cg_v2_cpu(const char *dir, const struct rt_resources *r, struct gerr **err);
int rt_cg_v2_cpuset(const char *dir, const struct rt_resources *r, struct gerr **err);
int rt_cg_v2_pids(const char *dir, const struct rt_resources *r, struct gerr **err);
int rt_cg_v2_io(const char *dir, const struct rt_resources *r, struct gerr **err);
int rt_cg_v2_hugetlb(const char *dir, const struct rt_resources *r, struct gerr **err);
int rt_cg_v2_unified(const char *dir, json_t *unified, struct gerr **err);
/* Enable the controllers `want` (CG_*) in cgroup.subtree_control of every level from the mount
 * point mnt down to the parent of leaf (leaf is below mnt). */
int rt_cg_v2_enable(const char *mnt, const char *leaf, unsigned want, struct gerr **err);
unsigned rt_cg_v2_parse_controllers(const char *text);
/* runc's conversions. */
uint64_t rt_cg_shares_to_weight(uint64_t shares);
uint64_t rt_cg_blkio_to_io_weight(uint64_t weight);

/* The v2 device controller: build the eBPF program for rules (in order, last match wins,
 * default deny). Returns the number of instructions, or negative errno; *out is malloc'd. */
struct bpf_insn;
int rt_cg_bpf_build(const struct rt_device_rule *rules, size_t n, struct bpf_insn **out);
/* Load it and attach it to the cgroup2 directory dir (BPF_F_ALLOW_MULTI), replacing programs
 * a previous call attached there. */
int rt_cg_bpf_devices(const char *dir, const struct rt_device_rule *rules, size_t n,
                      struct gerr **err);
