/* cgroup v2 controllers: knob writers, controller delegation (subtree_control), runc's conversions. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runtime/cgroup_internal.h"

static bool nz(struct opt_i64 o)
{
        return o.set && o.v != 0;
}

/* -1 means no limit: "max" in v2. */
static const char *fmt_limit(char *buf, size_t size, int64_t v)
{
        if (v < 0)
                return "max";
        snprintf(buf, size, "%" PRId64, v);
        return buf;
}

uint64_t rt_cg_shares_to_weight(uint64_t shares)
{
        if (shares == 0)
                return 0;
        if (shares < 2)
                shares = 2;
        if (shares > 262144)
                shares = 262144;
        return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t rt_cg_blkio_to_io_weight(uint64_t weight)
{
        if (weight == 0)
                return 0;
        if (weight < 10)
                weight = 10;
        if (weight > 1000)
                weight = 1000;
        return 1 + ((weight - 10) * 9999) / 990;
}

int rt_cg_v2_memory(const char *dir, const struct rt_resources *r, struct gerr **err)
{
        const typeof(r->memory) *m = &r->memory;
        char buf[32], sbuf[32];
        int rc;
        int64_t limit = nz(m->limit) ? m->limit.v : 0;
        /* memory.swap.max is swap alone, the spec's swap is memory+swap (runc's conversion). */
        const char *swap = NULL;
        if (limit == -1 && !nz(m->swap)) {
                swap = "max";
        } else if (nz(m->swap)) {
                if (m->swap.v == -1) {
                        swap = "max";
                } else {
                        if (limit <= 0)
                                return gerr_set(err, EINVAL,
                                                "memory.swap %" PRId64 " needs a memory limit",
                                                m->swap.v);
                        if (m->swap.v < limit)
                                return gerr_set(err, EINVAL,
                                                "memory.swap %" PRId64
                                                " is below memory.limit %" PRId64,
                                                m->swap.v, limit);
                        snprintf(sbuf, sizeof(sbuf), "%" PRId64, m->swap.v - limit);
                        swap = sbuf;
                }
        }
        if (swap != NULL) {
                rc = rt_cg_write_opt(dir, "memory.swap.max", swap, err);
                /* Without swap accounting only an actual limit is an error. */
                if (rc == -ENOENT && (strcmp(swap, "max") == 0 || strcmp(swap, "0") == 0))
                        rc = 0;
                else if (rc == -ENOENT)
                        rc = rt_cg_write(dir, "memory.swap.max", swap, err);
                if (rc < 0)
                        return rc;
        }
        if (limit != 0 &&
            (rc = rt_cg_write(dir, "memory.max", fmt_limit(buf, sizeof(buf), limit), err)) < 0)
                return rc;
        if (nz(m->reservation) &&
            (rc = rt_cg_write(dir, "memory.low", fmt_limit(buf, sizeof(buf), m->reservation.v),
                              err)) < 0)
                return rc;
        return 0;
}

int rt_cg_v2_cpu(const char *dir, const struct rt_resources *r, struct gerr **err)
{
        const typeof(r->cpu) *c = &r->cpu;
        char buf[64];
        int rc;
        if (nz(c->realtime_runtime) || nz(c->realtime_period))
                return gerr_set(err, EOPNOTSUPP,
                                "cpu realtimeRuntime/realtimePeriod are not supported on cgroup v2");
        if (c->idle.set) {
                snprintf(buf, sizeof(buf), "%" PRId64, c->idle.v);
                if ((rc = rt_cg_write(dir, "cpu.idle", buf, err)) < 0)
                        return rc;
        }
        /* An idle cgroup has no weight. */
        if (nz(c->shares) && !(c->idle.set && c->idle.v == 1)) {
                snprintf(buf, sizeof(buf), "%" PRIu64,
                         rt_cg_shares_to_weight((uint64_t)c->shares.v));
                if ((rc = rt_cg_write(dir, "cpu.weight", buf, err)) < 0)
                        return rc;
        }
        if (nz(c->quota) || nz(c->period)) {
                int n = (nz(c->quota) && c->quota.v > 0)
                                ? snprintf(buf, sizeof(buf), "%" PRId64, c->quota.v)
                                : snprintf(buf, sizeof(buf), "max");
                if (nz(c->period))
                        snprintf(buf + n, sizeof(buf) - (size_t)n, " %" PRId64, c->period.v);
                if ((rc = rt_cg_write(dir, "cpu.max", buf, err)) < 0)
                        return rc;
        }
        if (c->burst.set) {
                snprintf(buf, sizeof(buf), "%" PRId64, c->burst.v);
                if ((rc = rt_cg_write(dir, "cpu.max.burst", buf, err)) < 0)
                        return rc;
        }
        return 0;
}

int rt_cg_v2_cpuset(const char *dir, const struct rt_resources *r, struct gerr **err)
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

int rt_cg_v2_pids(const char *dir, const struct rt_resources *r, struct gerr **err)
{
        char buf[32];
        return rt_cg_write(dir, "pids.max",
                           r->pids_limit.v <= 0 ? "max"
                                                : fmt_limit(buf, sizeof(buf), r->pids_limit.v),
                           err);
}

struct io_key {
        const char *key;
        const struct rt_throttle_device *v;
        size_t n;
};

int rt_cg_v2_io(const char *dir, const struct rt_resources *r, struct gerr **err)
{
        const typeof(r->blkio) *b = &r->blkio;
        char buf[96];
        int rc;
        /* io.bfq.weight takes the blkio scale (Docker writes it so); io.weight needs converting. */
        char bfq_path[PATH_MAX];
        snprintf(bfq_path, sizeof(bfq_path), "%s/io.bfq.weight", dir);
        bool bfq = access(bfq_path, F_OK) == 0;
        if (nz(b->weight)) {
                snprintf(buf, sizeof(buf), "%" PRIu64,
                         bfq ? (uint64_t)b->weight.v
                             : rt_cg_blkio_to_io_weight((uint64_t)b->weight.v));
                if ((rc = rt_cg_write(dir, bfq ? "io.bfq.weight" : "io.weight", buf, err)) < 0)
                        return rc;
        }
        for (size_t i = 0; i < b->n_weight_device; i++) {
                const struct rt_weight_device *w = &b->weight_device[i];
                if (!w->weight.set)
                        continue;
                snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRIu64, w->major, w->minor,
                         bfq ? (uint64_t)w->weight.v
                             : rt_cg_blkio_to_io_weight((uint64_t)w->weight.v));
                if ((rc = rt_cg_write(dir, bfq ? "io.bfq.weight" : "io.weight", buf, err)) < 0)
                        return rc;
        }
        const struct io_key keys[] = {
                { "rbps", b->throttle_read_bps, b->n_throttle_read_bps },
                { "wbps", b->throttle_write_bps, b->n_throttle_write_bps },
                { "riops", b->throttle_read_iops, b->n_throttle_read_iops },
                { "wiops", b->throttle_write_iops, b->n_throttle_write_iops },
        };
        size_t total = 0;
        for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
                total += keys[k].n;
        if (total == 0)
                return 0;
        _cleanup_free_ char *lines = malloc(total * 96);
        _cleanup_free_ char **v = malloc(total * sizeof(char *));
        if (lines == NULL || v == NULL)
                return gerr_set(err, ENOMEM, "io.max");
        size_t n = 0;
        /* io.max keeps the keys a line leaves out, so one line per device and key is enough. */
        for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
                for (size_t i = 0; i < keys[k].n; i++, n++) {
                        v[n] = lines + n * 96;
                        snprintf(v[n], 96, "%" PRId64 ":%" PRId64 " %s=%" PRIu64 "\n",
                                 keys[k].v[i].major, keys[k].v[i].minor, keys[k].key,
                                 keys[k].v[i].rate);
                }
        return rt_cg_write_lines(dir, "io.max", v, n, err);
}

int rt_cg_v2_hugetlb(const char *dir, const struct rt_resources *r, struct gerr **err)
{
        for (size_t i = 0; i < r->n_hugepage_limits; i++) {
                const struct rt_hugepage_limit *h = &r->hugepage_limits[i];
                char file[96], val[32];
                snprintf(file, sizeof(file), "hugetlb.%s.max", h->pagesize);
                snprintf(val, sizeof(val), "%" PRIu64, h->limit);
                int rc = rt_cg_write(dir, file, val, err);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

int rt_cg_v2_unified(const char *dir, json_t *unified, struct gerr **err)
{
        const char *key;
        json_t *val;
        json_object_foreach(unified, key, val)
        {
                /* A key is a file in the container's own directory, nothing else. */
                if (*key == '\0' || strchr(key, '/') != NULL || key[0] == '.')
                        return gerr_set(err, EINVAL, "unified resource \"%s\": not a file name",
                                        key);
                if (!json_is_string(val))
                        return gerr_set(err, EINVAL, "unified resource \"%s\": not a string",
                                        key);
                int rc = rt_cg_write(dir, key, json_string_value(val), err);
                if (rc < 0)
                        return gerr_wrap(err, "unified resource \"%s\"", key);
        }
        return 0;
}

static const struct {
        unsigned bit;
        const char *name;
} ctrl_names[] = {
        { CG_CPU, "cpu" },       { CG_CPUSET, "cpuset" }, { CG_IO, "io" },
        { CG_MEMORY, "memory" }, { CG_PIDS, "pids" },     { CG_HUGETLB, "hugetlb" },
        { CG_MISC, "misc" },     { CG_RDMA, "rdma" },
};

static int enable_level(const char *dir, unsigned want)
{
        _cleanup_free_ char *have_s = NULL;
        unsigned have = 0;
        if (rt_cg_read(dir, "cgroup.subtree_control", &have_s, NULL) == 0)
                have = rt_cg_v2_parse_controllers(have_s);
        unsigned missing = want & ~have;
        if (missing == 0)
                return 0;
        char buf[128] = "";
        for (size_t i = 0; i < ARRAY_SIZE(ctrl_names); i++)
                if (missing & ctrl_names[i].bit) {
                        if (buf[0] != '\0')
                                strcat(buf, " ");
                        strcat(buf, "+");
                        strcat(buf, ctrl_names[i].name);
                }
        if (rt_cg_write(dir, "cgroup.subtree_control", buf, NULL) == 0)
                return 0;
        /* One refused controller fails the whole write: enable the rest one by one (runc). A
         * controller left out shows up later as a missing knob, with the file named. */
        for (size_t i = 0; i < ARRAY_SIZE(ctrl_names); i++)
                if (missing & ctrl_names[i].bit) {
                        char one[16];
                        snprintf(one, sizeof(one), "+%s", ctrl_names[i].name);
                        rt_cg_write(dir, "cgroup.subtree_control", one, NULL);
                }
        return 0;
}

int rt_cg_v2_enable(const char *mnt, const char *leaf, unsigned want, struct gerr **err)
{
        size_t ml = strlen(mnt);
        if (strncmp(leaf, mnt, ml) != 0 || (leaf[ml] != '/' && leaf[ml] != '\0'))
                return gerr_set(err, EINVAL, "cgroup %s is not below %s", leaf, mnt);
        _cleanup_free_ char *buf = strdup(leaf);
        if (buf == NULL)
                return gerr_set(err, ENOMEM, "cgroup");
        /* Each level from the mount down to the leaf's parent delegates to the one below. */
        char *last = strrchr(buf, '/');
        for (char *p = buf + ml; p != NULL && p <= last;) {
                char saved = *p;
                *p = '\0';
                enable_level(buf[0] != '\0' ? buf : "/", want);
                *p = saved;
                if (p == last)
                        break;
                p = strchr(p + 1, '/');
        }
        return 0;
}
