/* cgroup v1 controllers: one writer per controller, writing only the knobs the spec gives. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "runtime/cgroup_internal.h"

/* ENOTSUPP: the kernel-internal code some v1 knobs (kmem) return once deprecated. */
#define CG_ENOTSUPP 524

static bool nz(struct opt_i64 o)
{
        return o.set && o.v != 0;
}

static int write_i64(const char *dir, const char *file, int64_t v, struct gerr **err)
{
        char buf[32];
        snprintf(buf, sizeof(buf), "%" PRId64, v);
        return rt_cg_write(dir, file, buf, err);
}

/* The kernel checks memory.limit <= memory.memsw.limit on every write, so the order depends on
 * whether the limits grow or shrink: try the limit first, and on EINVAL raise memsw first. */
static int memory_and_swap(const char *dir, const struct rt_resources *r, struct gerr **err)
{
        const struct opt_i64 *lim = &r->memory.limit, *swap = &r->memory.swap;
        char lbuf[32], sbuf[32];
        snprintf(lbuf, sizeof(lbuf), "%" PRId64, lim->v);
        snprintf(sbuf, sizeof(sbuf), "%" PRId64, swap->v);
        if (!nz(*swap))
                return nz(*lim) ? rt_cg_write(dir, "memory.limit_in_bytes", lbuf, err) : 0;
        if (!nz(*lim))
                return rt_cg_write(dir, "memory.memsw.limit_in_bytes", sbuf, err);
        _cleanup_gerr_ struct gerr *first = NULL;
        int rc = rt_cg_write(dir, "memory.limit_in_bytes", lbuf, &first);
        if (rc == -EINVAL) {
                rc = rt_cg_write(dir, "memory.memsw.limit_in_bytes", sbuf, err);
                return rc < 0 ? rc : rt_cg_write(dir, "memory.limit_in_bytes", lbuf, err);
        }
        if (rc < 0) {
                if (err != NULL && *err == NULL)
                        *err = TAKE_PTR(first);
                return rc;
        }
        return rt_cg_write(dir, "memory.memsw.limit_in_bytes", sbuf, err);
}

int rt_cg_v1_memory(const char *dir, const struct rt_resources *r, bool update, struct gerr **err)
{
        const typeof(r->memory) *m = &r->memory;
        int rc;
        /* runc: lifting the memory limit without a swap value lifts memsw too. */
        if (update && m->limit.set && m->limit.v == -1 && !nz(m->swap)) {
                rc = rt_cg_write_opt(dir, "memory.memsw.limit_in_bytes", "-1", err);
                if (rc < 0 && rc != -ENOENT)
                        return rc;
        }
        if ((rc = memory_and_swap(dir, r, err)) < 0)
                return rc;
        if (nz(m->reservation) &&
            (rc = write_i64(dir, "memory.soft_limit_in_bytes", m->reservation.v, err)) < 0)
                return rc;
        /* Kernel memory limits are gone from recent kernels: absent or refused is not an error. */
        char buf[32];
        if (nz(m->kernel)) {
                snprintf(buf, sizeof(buf), "%" PRId64, m->kernel.v);
                _cleanup_gerr_ struct gerr *e = NULL;
                rc = rt_cg_write_opt(dir, "memory.kmem.limit_in_bytes", buf, &e);
                if (rc < 0 && rc != -ENOENT && rc != -EOPNOTSUPP && rc != -CG_ENOTSUPP) {
                        if (err != NULL && *err == NULL)
                                *err = TAKE_PTR(e);
                        return rc;
                }
        }
        if (nz(m->kernel_tcp)) {
                snprintf(buf, sizeof(buf), "%" PRId64, m->kernel_tcp.v);
                rc = rt_cg_write_opt(dir, "memory.kmem.tcp.limit_in_bytes", buf, err);
                if (rc < 0 && rc != -ENOENT)
                        return rc;
        }
        if (m->swappiness.set && m->swappiness.v != -1) {
                if (m->swappiness.v < 0 || m->swappiness.v > 100)
                        return gerr_set(err, EINVAL,
                                        "invalid memory swappiness %" PRId64 " (valid: 0-100)",
                                        m->swappiness.v);
                if ((rc = write_i64(dir, "memory.swappiness", m->swappiness.v, err)) < 0)
                        return rc;
        }
        if (m->disable_oom_killer && (rc = rt_cg_write(dir, "memory.oom_control", "1", err)) < 0)
                return rc;
        return 0;
}

int rt_cg_v1_cpu(const char *dir, const struct rt_resources *r, struct gerr **err)
{
        const typeof(r->cpu) *c = &r->cpu;
        int rc;
        if (nz(c->shares) && (rc = write_i64(dir, "cpu.shares", c->shares.v, err)) < 0)
                return rc;
        bool quota_done = false;
        if (nz(c->period)) {
                _cleanup_gerr_ struct gerr *e = NULL;
                rc = write_i64(dir, "cpu.cfs_period_us", c->period.v, &e);
                /* A shorter period can be refused until the quota fits it: quota first then. */
                if (rc == -EINVAL && nz(c->quota)) {
                        if ((rc = write_i64(dir, "cpu.cfs_quota_us", c->quota.v, err)) < 0)
                                return rc;
                        quota_done = true;
                        rc = write_i64(dir, "cpu.cfs_period_us", c->period.v, err);
                } else if (rc < 0 && err != NULL && *err == NULL) {
                        *err = TAKE_PTR(e);
                }
                if (rc < 0)
                        return rc;
        }
        if (nz(c->quota) && !quota_done &&
            (rc = write_i64(dir, "cpu.cfs_quota_us", c->quota.v, err)) < 0)
                return rc;
        if (c->burst.set && (rc = write_i64(dir, "cpu.cfs_burst_us", c->burst.v, err)) < 0)
                return rc;
        if (nz(c->realtime_period) &&
            (rc = write_i64(dir, "cpu.rt_period_us", c->realtime_period.v, err)) < 0)
                return rc;
        if (nz(c->realtime_runtime) &&
            (rc = write_i64(dir, "cpu.rt_runtime_us", c->realtime_runtime.v, err)) < 0)
                return rc;
        if (c->idle.set && (rc = write_i64(dir, "cpu.idle", c->idle.v, err)) < 0)
                return rc;
        return 0;
}

int rt_cg_v1_cpuset(const char *dir, const struct rt_resources *r, struct gerr **err)
{
        int rc;
        if (r->cpu.cpus != NULL && *r->cpu.cpus != '\0' &&
            (rc = rt_cg_write(dir, "cpuset.cpus", r->cpu.cpus, err)) < 0)
                return rc;
        if (r->cpu.mems != NULL && *r->cpu.mems != '\0' &&
            (rc = rt_cg_write(dir, "cpuset.mems", r->cpu.mems, err)) < 0)
                return rc;
        return 0;
}

int rt_cg_v1_cpuset_inherit(const char *parent, const char *dir, struct gerr **err)
{
        static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                _cleanup_free_ char *v = NULL;
                int rc = rt_cg_read(parent, files[i], &v, err);
                if (rc < 0)
                        return rc;
                if (*v == '\0')
                        continue;
                if ((rc = rt_cg_write(dir, files[i], v, err)) < 0)
                        return rc;
        }
        return 0;
}

int rt_cg_v1_pids(const char *dir, const struct rt_resources *r, struct gerr **err)
{
        if (r->pids_limit.v <= 0)
                return rt_cg_write(dir, "pids.max", "max", err);
        return write_i64(dir, "pids.max", r->pids_limit.v, err);
}

static int write_throttle(const char *dir, const char *file, const struct rt_throttle_device *t,
                          size_t n, struct gerr **err)
{
        if (n == 0)
                return 0;
        _cleanup_free_ char *buf = malloc(n * 64);
        _cleanup_free_ char **lines = malloc(n * sizeof(char *));
        if (buf == NULL || lines == NULL)
                return gerr_set(err, ENOMEM, "%s", file);
        for (size_t i = 0; i < n; i++) {
                lines[i] = buf + i * 64;
                snprintf(lines[i], 64, "%" PRId64 ":%" PRId64 " %" PRIu64 "\n", t[i].major,
                         t[i].minor, t[i].rate);
        }
        return rt_cg_write_lines(dir, file, lines, n, err);
}

int rt_cg_v1_blkio(const char *dir, const struct rt_resources *r, struct gerr **err)
{
        const typeof(r->blkio) *b = &r->blkio;
        char buf[64];
        int rc;
        /* BFQ exposes its own weight file; CFQ-era kernels have blkio.weight. */
        bool bfq = false;
        if (nz(b->weight)) {
                snprintf(buf, sizeof(buf), "%" PRId64, b->weight.v);
                rc = rt_cg_write_opt(dir, "blkio.bfq.weight", buf, err);
                if (rc == -ENOENT)
                        rc = rt_cg_write(dir, "blkio.weight", buf, err);
                else
                        bfq = true;
                if (rc < 0)
                        return rc;
        }
        if (nz(b->leaf_weight)) {
                snprintf(buf, sizeof(buf), "%" PRId64, b->leaf_weight.v);
                if ((rc = rt_cg_write(dir, "blkio.leaf_weight", buf, err)) < 0)
                        return rc;
        }
        for (size_t i = 0; i < b->n_weight_device; i++) {
                const struct rt_weight_device *w = &b->weight_device[i];
                if (w->weight.set) {
                        snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRId64, w->major,
                                 w->minor, w->weight.v);
                        rc = bfq ? -ENOENT
                                 : rt_cg_write_opt(dir, "blkio.bfq.weight_device", buf, err);
                        if (bfq || rc == -ENOENT)
                                rc = rt_cg_write(dir, bfq ? "blkio.bfq.weight_device"
                                                          : "blkio.weight_device",
                                                 buf, err);
                        if (rc < 0)
                                return rc;
                }
                if (w->leaf_weight.set) {
                        snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRId64, w->major,
                                 w->minor, w->leaf_weight.v);
                        if ((rc = rt_cg_write(dir, "blkio.leaf_weight_device", buf, err)) < 0)
                                return rc;
                }
        }
        if ((rc = write_throttle(dir, "blkio.throttle.read_bps_device", b->throttle_read_bps,
                                 b->n_throttle_read_bps, err)) < 0 ||
            (rc = write_throttle(dir, "blkio.throttle.write_bps_device", b->throttle_write_bps,
                                 b->n_throttle_write_bps, err)) < 0 ||
            (rc = write_throttle(dir, "blkio.throttle.read_iops_device", b->throttle_read_iops,
                                 b->n_throttle_read_iops, err)) < 0 ||
            (rc = write_throttle(dir, "blkio.throttle.write_iops_device", b->throttle_write_iops,
                                 b->n_throttle_write_iops, err)) < 0)
                return rc;
        return 0;
}

int rt_cg_v1_hugetlb(const char *dir, const struct rt_resources *r, struct gerr **err)
{
        for (size_t i = 0; i < r->n_hugepage_limits; i++) {
                const struct rt_hugepage_limit *h = &r->hugepage_limits[i];
                char file[96], val[32];
                snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes", h->pagesize);
                snprintf(val, sizeof(val), "%" PRIu64, h->limit);
                int rc = rt_cg_write(dir, file, val, err);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

int rt_cg_v1_net_cls(const char *dir, const struct rt_resources *r, struct gerr **err)
{
        return write_i64(dir, "net_cls.classid", r->network.class_id.v, err);
}

int rt_cg_v1_net_prio(const char *dir, const struct rt_resources *r, struct gerr **err)
{
        size_t i;
        json_t *e;
        json_array_foreach(r->network.priorities, i, e)
        {
                const char *name = json_string_value(json_object_get(e, "name"));
                json_t *prio = json_object_get(e, "priority");
                if (name == NULL || !json_is_integer(prio))
                        return gerr_set(err, EINVAL, "linux.resources.network.priorities[%zu]",
                                        i);
                char buf[128];
                snprintf(buf, sizeof(buf), "%s %" JSON_INTEGER_FORMAT, name,
                         json_integer_value(prio));
                int rc = rt_cg_write(dir, "net_prio.ifpriomap", buf, err);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

static void format_rule(char *buf, size_t size, const struct rt_device_rule *d)
{
        char maj[24] = "*", min[24] = "*";
        if (d->major >= 0)
                snprintf(maj, sizeof(maj), "%" PRId64, d->major);
        if (d->minor >= 0)
                snprintf(min, sizeof(min), "%" PRId64, d->minor);
        snprintf(buf, size, "%c %s:%s %s\n", d->type, maj, min,
                 d->access[0] != '\0' ? d->access : "rwm");
}

int rt_cg_v1_devices(const char *dir, const struct rt_device_rule *rules, size_t n,
                     struct gerr **err)
{
        /* Start from nothing, then each rule in order: the kernel keeps the v1 semantics. */
        _cleanup_free_ char *buf = malloc((n + 1) * 64);
        _cleanup_free_ char **allow = malloc((n + 1) * sizeof(char *));
        _cleanup_free_ char **deny = malloc((n + 1) * sizeof(char *));
        if (buf == NULL || allow == NULL || deny == NULL)
                return gerr_set(err, ENOMEM, "device rules");
        /* Allow and deny writes interleave, so each run of one kind is flushed before the next. */
        size_t na = 0, nd = 0;
        char *p = buf;
        strcpy(p, "a\n");
        deny[nd++] = p;
        p += 64;
        bool last_allow = false;
        int rc;
        for (size_t i = 0; i < n; i++, p += 64) {
                if (rules[i].allow != last_allow) {
                        if ((rc = rt_cg_write_lines(dir, last_allow ? "devices.allow"
                                                                    : "devices.deny",
                                                    last_allow ? allow : deny,
                                                    last_allow ? na : nd, err)) < 0)
                                return rc;
                        na = nd = 0;
                        last_allow = rules[i].allow;
                }
                format_rule(p, 64, &rules[i]);
                if (rules[i].allow)
                        allow[na++] = p;
                else
                        deny[nd++] = p;
        }
        return rt_cg_write_lines(dir, last_allow ? "devices.allow" : "devices.deny",
                                 last_allow ? allow : deny, last_allow ? na : nd, err);
}
