/* config.json "linux" section: namespaces, devices, resources, seccomp, personality, time. */
#include "runtime/spec_internal.h"

#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>

#include "common/cleanup.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct sp_name_val ns_names[] = {
        { "pid", CLONE_NEWPID },       { "network", CLONE_NEWNET }, { "mount", CLONE_NEWNS },
        { "ipc", CLONE_NEWIPC },       { "uts", CLONE_NEWUTS },     { "user", CLONE_NEWUSER },
        { "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
};

static int parse_namespace(struct sp_ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_namespace *v = arg;
        json_t *t;
        int r = sp_get(c, e, "type", SP_STR, true, &t);
        if (r < 0)
                return r;
        const struct sp_name_val *nv = SP_LOOKUP(ns_names, json_string_value(t));
        size_t old = sp_jp_push(c, "type");
        if (nv == NULL)
                r = sp_perr(c, "unknown namespace type \"%s\"", json_string_value(t));
        for (size_t j = 0; r == 0 && j < i; j++)
                if (v[j].type == nv->val)
                        r = sp_perr(c, "duplicate namespace type \"%s\"", nv->name);
        sp_jp_pop(c, old);
        if (r < 0)
                return r;
        v[i].type = (int)nv->val;
        return sp_get_str(c, e, "path", false, &v[i].path);
}

static int parse_device(struct sp_ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_device *d = &((struct rt_device *)arg)[i];
        json_t *t;
        int r = sp_get_str(c, e, "path", true, &d->path);
        if (r < 0)
                return r;
        if ((r = sp_get(c, e, "type", SP_STR, true, &t)) < 0)
                return r;
        const char *ts = json_string_value(t);
        if (strlen(ts) != 1 || strchr("cbup", ts[0]) == NULL) {
                size_t old = sp_jp_push(c, "type");
                r = sp_perr(c, "unknown device type \"%s\"", ts);
                sp_jp_pop(c, old);
                return r;
        }
        d->type = ts[0];
        bool need_nums = d->type != 'p';
        if ((r = sp_get_int(c, e, "major", need_nums, INT64_MIN, INT64_MAX, &d->major, NULL)) < 0)
                return r;
        if ((r = sp_get_int(c, e, "minor", need_nums, INT64_MIN, INT64_MAX, &d->minor, NULL)) < 0)
                return r;
        int64_t mode;
        if ((r = sp_get_int(c, e, "fileMode", false, 0, 07777, &mode, &d->has_file_mode)) < 0)
                return r;
        d->file_mode = (mode_t)mode;
        uint32_t id = 0;
        if ((r = sp_get_u32(c, e, "uid", false, &id, &d->has_uid)) < 0)
                return r;
        d->uid = id;
        if ((r = sp_get_u32(c, e, "gid", false, &id, &d->has_gid)) < 0)
                return r;
        d->gid = id;
        return 0;
}

static int parse_device_rule(struct sp_ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_device_rule *d = &((struct rt_device_rule *)arg)[i];
        int r = sp_get_bool(c, e, "allow", true, &d->allow);
        if (r < 0)
                return r;
        d->type = 'a';
        d->major = d->minor = -1;
        json_t *t;
        if ((r = sp_get(c, e, "type", SP_STR, false, &t)) < 0)
                return r;
        if (t != NULL) {
                const char *ts = json_string_value(t);
                if (strlen(ts) != 1 || strchr("acb", ts[0]) == NULL) {
                        size_t old = sp_jp_push(c, "type");
                        r = sp_perr(c, "unknown device type \"%s\"", ts);
                        sp_jp_pop(c, old);
                        return r;
                }
                d->type = ts[0];
        }
        if ((r = sp_get_int(c, e, "major", false, -1, INT64_MAX, &d->major, NULL)) < 0)
                return r;
        if ((r = sp_get_int(c, e, "minor", false, -1, INT64_MAX, &d->minor, NULL)) < 0)
                return r;
        if ((r = sp_get(c, e, "access", SP_STR, false, &t)) < 0)
                return r;
        /* crun's default: a rule without access covers everything. */
        const char *a = t ? json_string_value(t) : "rwm";
        size_t n = strlen(a);
        bool ok = n <= 3;
        for (size_t j = 0; ok && j < n; j++)
                ok = strchr("rwm", a[j]) != NULL && memchr(a, a[j], j) == NULL;
        if (!ok) {
                size_t old = sp_jp_push(c, "access");
                r = sp_perr(c, "invalid access \"%s\" (a subset of \"rwm\")", a);
                sp_jp_pop(c, old);
                return r;
        }
        memcpy(d->access, a, n + 1);
        return 0;
}

static int parse_weight_device(struct sp_ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_weight_device *d = &((struct rt_weight_device *)arg)[i];
        int r = sp_get_int(c, e, "major", true, INT64_MIN, INT64_MAX, &d->major, NULL);
        if (r == 0)
                r = sp_get_int(c, e, "minor", true, INT64_MIN, INT64_MAX, &d->minor, NULL);
        if (r == 0)
                r = sp_get_int(c, e, "weight", false, 0, UINT16_MAX, &d->weight.v, &d->weight.set);
        if (r == 0)
                r = sp_get_int(c, e, "leafWeight", false, 0, UINT16_MAX, &d->leaf_weight.v,
                               &d->leaf_weight.set);
        return r;
}

static int parse_throttle_device(struct sp_ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_throttle_device *d = &((struct rt_throttle_device *)arg)[i];
        int r = sp_get_int(c, e, "major", true, INT64_MIN, INT64_MAX, &d->major, NULL);
        if (r == 0)
                r = sp_get_int(c, e, "minor", true, INT64_MIN, INT64_MAX, &d->minor, NULL);
        if (r == 0)
                r = sp_get_u64(c, e, "rate", true, &d->rate);
        return r;
}

static int parse_hugepage(struct sp_ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_hugepage_limit *h = &((struct rt_hugepage_limit *)arg)[i];
        int r = sp_get_str(c, e, "pageSize", true, &h->pagesize);
        if (r == 0)
                r = sp_get_u64(c, e, "limit", true, &h->limit);
        return r;
}

static int parse_net_priority(struct sp_ctx *c, json_t *e, size_t i, void *arg)
{
        json_t *v;
        int r = sp_get(c, e, "name", SP_STR, true, &v);
        uint32_t prio;
        if (r == 0)
                r = sp_get_u32(c, e, "priority", true, &prio, NULL);
        return r;
}

static int parse_memory(struct sp_ctx *c, json_t *o, struct rt_resources *res)
{
        int r;
        if ((r = sp_get_opt(c, o, "limit", &res->memory.limit)) < 0 ||
            (r = sp_get_opt(c, o, "reservation", &res->memory.reservation)) < 0 ||
            (r = sp_get_opt(c, o, "swap", &res->memory.swap)) < 0 ||
            (r = sp_get_opt(c, o, "kernel", &res->memory.kernel)) < 0 ||
            (r = sp_get_opt(c, o, "kernelTCP", &res->memory.kernel_tcp)) < 0 ||
            (r = sp_get_opt(c, o, "swappiness", &res->memory.swappiness)) < 0 ||
            (r = sp_get_bool(c, o, "disableOOMKiller", false,
                             &res->memory.disable_oom_killer)) < 0 ||
            (r = sp_get_bool(c, o, "useHierarchy", false, &res->memory.use_hierarchy)) < 0 ||
            (r = sp_get_bool(c, o, "checkBeforeUpdate", false,
                             &res->memory.check_before_update)) < 0)
                return r;
        return 0;
}

static int parse_cpu(struct sp_ctx *c, json_t *o, struct rt_resources *res)
{
        int r;
        if ((r = sp_get_opt(c, o, "shares", &res->cpu.shares)) < 0 ||
            (r = sp_get_opt(c, o, "quota", &res->cpu.quota)) < 0 ||
            (r = sp_get_opt(c, o, "burst", &res->cpu.burst)) < 0 ||
            (r = sp_get_opt(c, o, "period", &res->cpu.period)) < 0 ||
            (r = sp_get_opt(c, o, "realtimeRuntime", &res->cpu.realtime_runtime)) < 0 ||
            (r = sp_get_opt(c, o, "realtimePeriod", &res->cpu.realtime_period)) < 0 ||
            (r = sp_get_opt(c, o, "idle", &res->cpu.idle)) < 0 ||
            (r = sp_get_str(c, o, "cpus", false, &res->cpu.cpus)) < 0 ||
            (r = sp_get_str(c, o, "mems", false, &res->cpu.mems)) < 0)
                return r;
        return 0;
}

static int parse_blkio(struct sp_ctx *c, json_t *o, struct rt_resources *res)
{
        int r;
        if ((r = sp_get_int(c, o, "weight", false, 0, UINT16_MAX, &res->blkio.weight.v,
                            &res->blkio.weight.set)) < 0 ||
            (r = sp_get_int(c, o, "leafWeight", false, 0, UINT16_MAX, &res->blkio.leaf_weight.v,
                            &res->blkio.leaf_weight.set)) < 0)
                return r;
        if ((r = SP_PARSE_ARRAY(c, o, "weightDevice", res->blkio.weight_device,
                                res->blkio.n_weight_device, parse_weight_device)) < 0 ||
            (r = SP_PARSE_ARRAY(c, o, "throttleReadBpsDevice", res->blkio.throttle_read_bps,
                                res->blkio.n_throttle_read_bps, parse_throttle_device)) < 0 ||
            (r = SP_PARSE_ARRAY(c, o, "throttleWriteBpsDevice", res->blkio.throttle_write_bps,
                                res->blkio.n_throttle_write_bps, parse_throttle_device)) < 0 ||
            (r = SP_PARSE_ARRAY(c, o, "throttleReadIOPSDevice", res->blkio.throttle_read_iops,
                                res->blkio.n_throttle_read_iops, parse_throttle_device)) < 0 ||
            (r = SP_PARSE_ARRAY(c, o, "throttleWriteIOPSDevice", res->blkio.throttle_write_iops,
                                res->blkio.n_throttle_write_iops, parse_throttle_device)) < 0)
                return r;
        return 0;
}


static int parse_pids(struct sp_ctx *c, json_t *o, void *arg)
{
        struct rt_resources *res = arg;
        return sp_get_opt(c, o, "limit", &res->pids_limit);
}

static int parse_network(struct sp_ctx *c, json_t *o, void *arg)
{
        struct rt_resources *res = arg;
        int64_t v = 0;
        int r = sp_get_int(c, o, "classID", false, 0, UINT32_MAX, &v, &res->network.class_id.set);
        if (r < 0)
                return r;
        res->network.class_id.v = v;
        if ((r = sp_each_obj(c, o, "priorities", parse_net_priority, NULL)) < 0)
                return r;
        json_t *p = json_object_get(o, "priorities");
        if (json_is_array(p))
                res->network.priorities = json_incref(p);
        return 0;
}

static int memory_cb(struct sp_ctx *c, json_t *o, void *arg)
{
        return parse_memory(c, o, arg);
}
static int cpu_cb(struct sp_ctx *c, json_t *o, void *arg)
{
        return parse_cpu(c, o, arg);
}
static int blkio_cb(struct sp_ctx *c, json_t *o, void *arg)
{
        return parse_blkio(c, o, arg);
}

void sp_resources_free(struct rt_resources *res)
{
        if (res == NULL)
                return;
        free(res->cpu.cpus);
        free(res->cpu.mems);
        free(res->blkio.weight_device);
        free(res->blkio.throttle_read_bps);
        free(res->blkio.throttle_write_bps);
        free(res->blkio.throttle_read_iops);
        free(res->blkio.throttle_write_iops);
        for (size_t i = 0; i < res->n_hugepage_limits; i++)
                free(res->hugepage_limits[i].pagesize);
        free(res->hugepage_limits);
        free(res->devices);
        json_decref(res->network.priorities);
        json_decref(res->unified);
        free(res);
}

static int parse_resources(struct sp_ctx *c, json_t *o, void *arg)
{
        struct rt_resources *res = arg;
        int r;
        if ((r = sp_sub_obj(c, o, "memory", res, memory_cb)) < 0 ||
            (r = sp_sub_obj(c, o, "cpu", res, cpu_cb)) < 0 ||
            (r = sp_sub_obj(c, o, "pids", res, parse_pids)) < 0 ||
            (r = sp_sub_obj(c, o, "blockIO", res, blkio_cb)) < 0 ||
            (r = sp_sub_obj(c, o, "network", res, parse_network)) < 0)
                return r;
        if ((r = SP_PARSE_ARRAY(c, o, "hugepageLimits", res->hugepage_limits,
                                res->n_hugepage_limits, parse_hugepage)) < 0 ||
            (r = SP_PARSE_ARRAY(c, o, "devices", res->devices, res->n_devices,
                                parse_device_rule)) < 0)
                return r;
        return sp_get_str_map(c, o, "unified", &res->unified);
}

static const char *const seccomp_archs[] = {
        "SCMP_ARCH_NATIVE",     "SCMP_ARCH_X86",         "SCMP_ARCH_X86_64",
        "SCMP_ARCH_X32",        "SCMP_ARCH_ARM",         "SCMP_ARCH_AARCH64",
        "SCMP_ARCH_MIPS",       "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
        "SCMP_ARCH_MIPSEL",     "SCMP_ARCH_MIPSEL64",    "SCMP_ARCH_MIPSEL64N32",
        "SCMP_ARCH_PPC",        "SCMP_ARCH_PPC64",       "SCMP_ARCH_PPC64LE",
        "SCMP_ARCH_S390",       "SCMP_ARCH_S390X",       "SCMP_ARCH_PARISC",
        "SCMP_ARCH_PARISC64",   "SCMP_ARCH_RISCV64",     "SCMP_ARCH_LOONGARCH64",
        "SCMP_ARCH_M68K",       "SCMP_ARCH_SH",          "SCMP_ARCH_SHEB",
};

static const char *const seccomp_flags[] = {
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

static const struct sp_name_val seccomp_actions[] = {
        { "SCMP_ACT_KILL", SCMP_ACT_KILL },
        { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS },
        { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD },
        { "SCMP_ACT_TRAP", SCMP_ACT_TRAP },
        { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0) },
        { "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0) },
        { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW },
        { "SCMP_ACT_LOG", SCMP_ACT_LOG },
        { "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY },
};

static const struct sp_name_val seccomp_ops[] = {
        { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
        { "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
        { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
        { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};


/* errnoRet only makes sense for actions that carry a value (runtime-spec: MUST error). */
static int check_errno_ret(struct sp_ctx *c, const char *key, uint32_t action, struct opt_i64 *v)
{
        if (!v->set || action == SCMP_ACT_ERRNO(0) || action == SCMP_ACT_TRACE(0))
                return 0;
        size_t old = sp_jp_push(c, key);
        int r = sp_perr(c, "is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
        sp_jp_pop(c, old);
        return r;
}

static int parse_seccomp_arg(struct sp_ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_seccomp_arg *a = &((struct rt_seccomp_arg *)arg)[i];
        int64_t idx = 0;
        long op = 0;
        int r = sp_get_int(c, e, "index", true, 0, 5, &idx, NULL);
        if (r < 0)
                return r;
        a->index = (unsigned)idx;
        if ((r = sp_get_u64(c, e, "value", true, &a->value)) < 0 ||
            (r = sp_get_u64(c, e, "valueTwo", false, &a->value_two)) < 0 ||
            (r = sp_get_enum(c, e, "op", true, seccomp_ops, ARRAY_SIZE(seccomp_ops),
                             "seccomp operator", &op, NULL)) < 0)
                return r;
        a->op = (int)op;
        return 0;
}

static int parse_seccomp_rule(struct sp_ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_seccomp_rule *s = &((struct rt_seccomp_rule *)arg)[i];
        int r = sp_get_strv(c, e, "names", true, &s->names);
        if (r < 0)
                return r;
        if (s->names[0] == NULL) {
                size_t old = sp_jp_push(c, "names");
                r = sp_perr(c, "must not be empty");
                sp_jp_pop(c, old);
                return r;
        }
        long act;
        if ((r = sp_get_enum(c, e, "action", true, seccomp_actions, ARRAY_SIZE(seccomp_actions),
                             "seccomp action", &act, NULL)) < 0)
                return r;
        s->action = (uint32_t)act;
        if ((r = sp_get_int(c, e, "errnoRet", false, 0, UINT32_MAX, &s->errno_ret.v,
                            &s->errno_ret.set)) < 0 ||
            (r = check_errno_ret(c, "errnoRet", s->action, &s->errno_ret)) < 0)
                return r;
        return SP_PARSE_ARRAY(c, e, "args", s->args, s->n_args, parse_seccomp_arg);
}

void sp_seccomp_free(struct rt_seccomp *s)
{
        if (s == NULL)
                return;
        strv_free(s->architectures);
        strv_free(s->flags);
        free(s->listener_path);
        free(s->listener_metadata);
        for (size_t i = 0; i < s->n_rules; i++) {
                strv_free(s->rules[i].names);
                free(s->rules[i].args);
        }
        free(s->rules);
        free(s);
}

static int parse_seccomp(struct sp_ctx *c, json_t *o, void *arg)
{
        struct rt_seccomp *s = arg;
        long act;
        int r;
        if ((r = sp_get_enum(c, o, "defaultAction", true, seccomp_actions,
                             ARRAY_SIZE(seccomp_actions), "seccomp action", &act, NULL)) < 0)
                return r;
        s->default_action = (uint32_t)act;
        if ((r = sp_get_int(c, o, "defaultErrnoRet", false, 0, UINT32_MAX, &s->default_errno_ret.v,
                            &s->default_errno_ret.set)) < 0 ||
            (r = check_errno_ret(c, "defaultErrnoRet", s->default_action,
                                 &s->default_errno_ret)) < 0 ||
            (r = sp_get_strv_in(c, o, "architectures", seccomp_archs, ARRAY_SIZE(seccomp_archs),
                                "seccomp architecture", &s->architectures)) < 0 ||
            (r = sp_get_strv_in(c, o, "flags", seccomp_flags, ARRAY_SIZE(seccomp_flags),
                                "seccomp flag", &s->flags)) < 0 ||
            (r = sp_get_str(c, o, "listenerPath", false, &s->listener_path)) < 0 ||
            (r = sp_get_str(c, o, "listenerMetadata", false, &s->listener_metadata)) < 0)
                return r;
        return SP_PARSE_ARRAY(c, o, "syscalls", s->rules, s->n_rules, parse_seccomp_rule);
}

static const struct sp_name_val personality_flags[] = {
        { "UNAME26", UNAME26 },
        { "ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE },
        { "FDPIC_FUNCPTRS", FDPIC_FUNCPTRS },
        { "MMAP_PAGE_ZERO", MMAP_PAGE_ZERO },
        { "ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT },
        { "READ_IMPLIES_EXEC", READ_IMPLIES_EXEC },
        { "ADDR_LIMIT_32BIT", ADDR_LIMIT_32BIT },
        { "SHORT_INODE", SHORT_INODE },
        { "WHOLE_SECONDS", WHOLE_SECONDS },
        { "STICKY_TIMEOUTS", STICKY_TIMEOUTS },
        { "ADDR_LIMIT_3GB", ADDR_LIMIT_3GB },
};

static const struct sp_name_val personality_domains[] = {
        { "LINUX", PER_LINUX },
        { "LINUX32", PER_LINUX32 },
};

static int parse_personality(struct sp_ctx *c, json_t *o, void *arg)
{
        struct rt_linux *l = arg;
        long dom = 0;
        int r = sp_get_enum(c, o, "domain", true, personality_domains,
                            ARRAY_SIZE(personality_domains), "personality domain", &dom, NULL);
        if (r < 0)
                return r;
        l->has_personality = true;
        l->personality = (unsigned long)dom;
        json_t *a;
        if ((r = sp_get(c, o, "flags", SP_ARR, false, &a)) < 0 || a == NULL)
                return r;
        size_t old = sp_jp_push(c, "flags");
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e)
        {
                size_t o2 = sp_jp_index(c, i);
                r = sp_check_type(c, e, SP_STR);
                const struct sp_name_val *nv =
                        r < 0 ? NULL : SP_LOOKUP(personality_flags, json_string_value(e));
                if (r == 0 && nv == NULL)
                        r = sp_perr(c, "unknown personality flag \"%s\"", json_string_value(e));
                sp_jp_pop(c, o2);
                if (r < 0)
                        break;
                l->personality |= (unsigned long)nv->val;
        }
        sp_jp_pop(c, old);
        return r;
}

static int parse_time_offset(struct sp_ctx *c, json_t *o, const char *key, int64_t *secs,
                             uint32_t *nsecs)
{
        json_t *v;
        int r = sp_get(c, o, key, SP_OBJ, false, &v);
        if (r < 0 || v == NULL)
                return r;
        size_t old = sp_jp_push(c, key);
        int64_t ns = 0;
        r = sp_get_int(c, v, "secs", false, INT64_MIN, INT64_MAX, secs, NULL);
        if (r == 0)
                r = sp_get_int(c, v, "nanosecs", false, 0, 999999999, &ns, NULL);
        *nsecs = (uint32_t)ns;
        sp_jp_pop(c, old);
        return r;
}

static int parse_time_offsets(struct sp_ctx *c, json_t *o, void *arg)
{
        struct rt_linux *l = arg;
        l->time_offsets.set = true;
        int r = parse_time_offset(c, o, "boottime", &l->time_offsets.boottime_secs,
                                  &l->time_offsets.boottime_nsecs);
        if (r == 0)
                r = parse_time_offset(c, o, "monotonic", &l->time_offsets.monotonic_secs,
                                      &l->time_offsets.monotonic_nsecs);
        return r;
}

static const struct sp_name_val rootfs_propagations[] = {
        { "private", MS_PRIVATE },
        { "rprivate", MS_PRIVATE | MS_REC },
        { "shared", MS_SHARED },
        { "rshared", MS_SHARED | MS_REC },
        { "slave", MS_SLAVE },
        { "rslave", MS_SLAVE | MS_REC },
        { "unbindable", MS_UNBINDABLE },
        { "runbindable", MS_UNBINDABLE | MS_REC },
};

int sp_parse_linux(struct sp_ctx *c, json_t *o, void *arg)
{
        struct rt_linux *l = arg;
        int r;
        if ((r = SP_PARSE_ARRAY(c, o, "namespaces", l->namespaces, l->n_namespaces,
                                parse_namespace)) < 0)
                return r;
        if ((r = sp_parse_idmaps(c, o, "uidMappings", &l->uid_mappings, &l->n_uid_mappings)) < 0 ||
            (r = sp_parse_idmaps(c, o, "gidMappings", &l->gid_mappings, &l->n_gid_mappings)) < 0)
                return r;
        if ((r = SP_PARSE_ARRAY(c, o, "devices", l->devices, l->n_devices, parse_device)) < 0)
                return r;
        if ((r = sp_get_str(c, o, "cgroupsPath", false, &l->cgroups_path)) < 0)
                return r;
        json_t *v;
        if ((r = sp_get(c, o, "resources", SP_OBJ, false, &v)) < 0)
                return r;
        if (v != NULL) {
                if ((l->resources = calloc(1, sizeof(*l->resources))) == NULL)
                        return sp_oom(c);
                if ((r = sp_sub_obj(c, o, "resources", l->resources, parse_resources)) < 0)
                        return r;
        }
        if ((r = sp_get_str_map(c, o, "sysctl", &l->sysctl)) < 0 ||
            (r = sp_get_strv(c, o, "maskedPaths", false, &l->masked_paths)) < 0 ||
            (r = sp_get_strv(c, o, "readonlyPaths", false, &l->readonly_paths)) < 0)
                return r;
        long prop = 0;
        bool has_prop;
        if ((r = sp_get_enum(c, o, "rootfsPropagation", false, rootfs_propagations,
                             ARRAY_SIZE(rootfs_propagations), "rootfs propagation", &prop,
                             &has_prop)) < 0)
                return r;
        if (has_prop)
                l->rootfs_propagation = (unsigned long)prop;
        if ((r = sp_get(c, o, "seccomp", SP_OBJ, false, &v)) < 0)
                return r;
        if (v != NULL) {
                if ((l->seccomp = calloc(1, sizeof(*l->seccomp))) == NULL)
                        return sp_oom(c);
                if ((r = sp_sub_obj(c, o, "seccomp", l->seccomp, parse_seccomp)) < 0)
                        return r;
        }
        if ((r = sp_sub_obj(c, o, "personality", l, parse_personality)) < 0 ||
            (r = sp_get_str(c, o, "mountLabel", false, &l->mount_label)) < 0 ||
            (r = sp_sub_obj(c, o, "timeOffsets", l, parse_time_offsets)) < 0)
                return r;
        return 0;
}

