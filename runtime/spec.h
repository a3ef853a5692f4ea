/* The OCI runtime-spec 1.1 config.json, parsed and validated into C structs. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/gerr.h"

/* An optional integer: `set` is false when config.json did not give it. */
struct opt_i64 {
        bool set;
        int64_t v;
};

struct rt_rlimit {
        int resource; /* RLIMIT_* */
        uint64_t soft, hard;
};

/* Capability sets as bit masks (bit n = capability n). */
struct rt_caps {
        bool present; /* process.capabilities given at all */
        uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct rt_process {
        bool terminal;
        bool has_console_size;
        unsigned console_height, console_width;
        char *cwd;
        char **args; /* NULL-terminated */
        char **env;  /* NULL-terminated, may be empty */
        uid_t uid;
        gid_t gid;
        bool has_umask;
        mode_t umask;
        gid_t *additional_gids;
        size_t n_additional_gids;
        struct rt_caps caps;
        struct rt_rlimit *rlimits;
        size_t n_rlimits;
        bool no_new_privileges;
        struct opt_i64 oom_score_adj;
        char *apparmor_profile; /* NULL or "" when not given */
        char *selinux_label;
};

/* A mount entry; options are split into what mount(2)/mount_setattr(2) take. */
struct rt_mount {
        char *destination;
        char *type;   /* may be NULL (bind mounts) */
        char *source; /* may be NULL */
        unsigned long flags;       /* MS_* set by options (MS_RDONLY, MS_NOSUID, ..., MS_BIND, MS_REC) */
        unsigned long clear_flags; /* MS_* explicitly cleared (rw, suid, dev, exec, atime...) */
        unsigned long propagation; /* MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE, maybe |MS_REC */
        uint64_t rec_attr_set;     /* MOUNT_ATTR_* from rro, rnosuid, ... (recursive, mount_setattr) */
        uint64_t rec_attr_clr;     /* MOUNT_ATTR_* from rrw, rsuid, ... */
        bool tmpcopyup;
        bool nosymfollow;
        char *data; /* remaining fs-specific options joined with ',' (NULL if none) */
        struct rt_idmap *uid_mappings, *gid_mappings; /* idmapped mounts (may be absent) */
        size_t n_uid_mappings, n_gid_mappings;
};

struct rt_hook {
        char *path;
        char **args; /* NULL-terminated; may be NULL */
        char **env;  /* NULL-terminated; may be NULL */
        int timeout; /* seconds; 0 = none */
};

enum rt_hook_kind {
        RT_HOOK_PRESTART,
        RT_HOOK_CREATE_RUNTIME,
        RT_HOOK_CREATE_CONTAINER,
        RT_HOOK_START_CONTAINER,
        RT_HOOK_POSTSTART,
        RT_HOOK_POSTSTOP,
        RT_HOOK__MAX,
};

struct rt_hook_list {
        struct rt_hook *v;
        size_t n;
};

struct rt_namespace {
        int type;   /* CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUTS,
                       CLONE_NEWUSER, CLONE_NEWCGROUP, CLONE_NEWTIME */
        char *path; /* join this one instead of creating; NULL to create */
};

struct rt_idmap {
        uint32_t container_id, host_id, size;
};

struct rt_device {
        char type; /* 'c', 'b', 'u' or 'p' */
        int64_t major, minor;
        char *path;
        bool has_file_mode;
        mode_t file_mode;
        bool has_uid, has_gid;
        uid_t uid;
        gid_t gid;
};

struct rt_device_rule {
        bool allow;
        char type;           /* 'a', 'c' or 'b' */
        int64_t major, minor; /* -1 = any */
        char access[4];      /* subset of "rwm" */
};

struct rt_weight_device {
        int64_t major, minor;
        struct opt_i64 weight, leaf_weight;
};

struct rt_throttle_device {
        int64_t major, minor;
        uint64_t rate;
};

struct rt_hugepage_limit {
        char *pagesize; /* "2MB", "1GB" */
        uint64_t limit;
};

struct rt_resources {
        struct {
                struct opt_i64 limit, reservation, swap, kernel, kernel_tcp, swappiness;
                bool disable_oom_killer, use_hierarchy, check_before_update;
        } memory;
        struct {
                struct opt_i64 shares, quota, burst, period, realtime_runtime, realtime_period, idle;
                char *cpus, *mems; /* NULL when not given */
        } cpu;
        struct opt_i64 pids_limit;
        struct {
                struct opt_i64 weight, leaf_weight;
                struct rt_weight_device *weight_device;
                size_t n_weight_device;
                struct rt_throttle_device *throttle_read_bps, *throttle_write_bps,
                        *throttle_read_iops, *throttle_write_iops;
                size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops,
                        n_throttle_write_iops;
        } blkio;
        struct rt_hugepage_limit *hugepage_limits;
        size_t n_hugepage_limits;
        struct rt_device_rule *devices;
        size_t n_devices;
        struct {
                struct opt_i64 class_id;
                json_t *priorities; /* array of {name, priority} or NULL */
        } network;
        json_t *unified; /* object string -> string, or NULL */
};

struct rt_seccomp_arg {
        unsigned index;
        uint64_t value, value_two;
        int op; /* enum scmp_compare (SCMP_CMP_*) */
};

struct rt_seccomp_rule {
        char **names; /* NULL-terminated */
        uint32_t action; /* SCMP_ACT_* without errno bits */
        struct opt_i64 errno_ret;
        struct rt_seccomp_arg *args;
        size_t n_args;
};

struct rt_seccomp {
        uint32_t default_action;
        struct opt_i64 default_errno_ret;
        char **architectures; /* "SCMP_ARCH_X86_64", ... NULL-terminated, may be NULL */
        char **flags;         /* "SECCOMP_FILTER_FLAG_LOG", ... */
        char *listener_path;
        char *listener_metadata;
        struct rt_seccomp_rule *rules;
        size_t n_rules;
};

struct rt_linux {
        struct rt_namespace *namespaces;
        size_t n_namespaces;
        struct rt_idmap *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
        struct rt_device *devices;
        size_t n_devices;
        char *cgroups_path;           /* NULL when not given */
        struct rt_resources *resources; /* NULL when not given */
        json_t *sysctl;               /* object or NULL */
        char **masked_paths;          /* NULL-terminated or NULL */
        char **readonly_paths;
        unsigned long rootfs_propagation; /* 0 when not given */
        struct rt_seccomp *seccomp;   /* NULL when not given */
        bool has_personality;
        unsigned long personality;    /* PER_LINUX or PER_LINUX32 (| flags) */
        char *mount_label;
        struct {
                bool set;
                int64_t boottime_secs, monotonic_secs;
                uint32_t boottime_nsecs, monotonic_nsecs;
        } time_offsets;
};

struct rt_spec {
        char *oci_version;
        struct rt_process *process; /* NULL when not given (allowed only for create without start) */
        char *root_path;            /* absolute (resolved against the bundle) */
        bool root_readonly;
        char *hostname, *domainname;
        struct rt_mount *mounts;
        size_t n_mounts;
        struct rt_hook_list hooks[RT_HOOK__MAX];
        json_t *annotations; /* object or NULL */
        struct rt_linux linux;
};

/* Parse config.json text. bundle_dir resolves a relative root.path. */
int rt_spec_parse(const char *json_text, size_t len, const char *bundle_dir, struct rt_spec **out,
                  struct gerr **err);
/* Read and parse <bundle>/config.json. */
int rt_spec_load(const char *bundle_dir, struct rt_spec **out, struct gerr **err);
/* Parse a process object alone (exec --process FILE). */
int rt_process_parse(json_t *obj, struct rt_process **out, struct gerr **err);
void rt_process_free(struct rt_process *p);
void rt_spec_free(struct rt_spec *s);
/* Does the spec create (path == NULL) or join (path != NULL) this namespace? NULL if absent. */
const struct rt_namespace *rt_spec_namespace(const struct rt_spec *s, int type);
/* The default config.json that `spec` writes (runc's defaults); rootless variant with userns. */
json_t *rt_spec_default(bool rootless);
/* Capability name ("CAP_SYS_ADMIN") <-> number; -1 if unknown. */
int rt_cap_from_name(const char *name);
const char *rt_cap_name(int cap);
int rt_cap_last(void);
