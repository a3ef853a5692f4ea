/* Observing containers: stats from cgroups v1/v2 and /proc, top through ps, disk usage. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "engine/engine_internal.h"
#include "image/image.h"
#include "runtime/cgroup.h"

/* What a stats sample needs from the record, copied under the lock. */
struct ctr_snap {
        char id[65];
        char *name;
        bool running;
        pid_t pid;
};

static int snap(struct eng *e, const char *ref, struct ctr_snap *s, struct gerr **err)
{
        struct eng_ctr *c = NULL;
        pthread_mutex_lock(&e->lock);
        int r = eng_ctr_find(e, ref, &c, err);
        if (r >= 0) {
                snprintf(s->id, sizeof(s->id), "%s", c->id);
                s->name = strdup(c->name ? c->name : "");
                s->running = c->running;
                s->pid = c->pid;
        }
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        return r;
}

/* The cgroup dirs the runtime recorded in its state.json ({"unified":..., "v1":{...}}). */
static json_t *cgroup_of(struct eng *e, const char *id)
{
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s/state.json", e->runtime_root, id) < 0)
                return NULL;
        _cleanup_free_ char *s = NULL;
        if (fs_read_file(path, &s, NULL, NULL) < 0)
                return NULL;
        _cleanup_json_ json_t *st = json_loads(s, 0, NULL);
        json_t *cg = json_object_get(st, "cgroup");
        return cg ? json_incref(cg) : NULL;
}

/* The v1 directory of controller ctrl ("memory" in "memory", "cpuacct" in "cpu,cpuacct"). */
static const char *v1_dir(json_t *cg, const char *ctrl)
{
        const char *k;
        json_t *v;
        size_t n = strlen(ctrl);
        json_object_foreach(json_object_get(cg, "v1"), k, v)
        {
                for (const char *p = k; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
                        if (strncmp(p, ctrl, n) == 0 && (p[n] == ',' || p[n] == '\0'))
                                return json_string_value(v);
        }
        return NULL;
}

/* dir/file if it exists, else NULL (caller frees). */
static char *read_cg(const char *dir, const char *file)
{
        if (dir == NULL)
                return NULL;
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, file) < 0)
                return NULL;
        char *s = NULL;
        if (fs_read_file(p, &s, NULL, NULL) < 0)
                return NULL;
        return s;
}

static bool read_u64(const char *dir, const char *file, unsigned long long *v)
{
        _cleanup_free_ char *s = read_cg(dir, file);
        if (s == NULL)
                return false;
        char *end = NULL;
        *v = strtoull(s, &end, 10);
        return end != s;
}

/* "key value" lines into an object of integers. */
static json_t *kv_file(const char *dir, const char *file)
{
        _cleanup_free_ char *s = read_cg(dir, file);
        json_t *o = json_object();
        if (s == NULL)
                return o;
        char *save = NULL;
        for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char key[128];
                unsigned long long v;
                if (sscanf(line, "%127s %llu", key, &v) == 2)
                        json_object_set_new(o, key, json_integer((json_int_t)v));
        }
        return o;
}

static unsigned long long kv_get(json_t *o, const char *k)
{
        return (unsigned long long)json_integer_value(json_object_get(o, k));
}

static long long mem_total(void)
{
        struct sysinfo si;
        return sysinfo(&si) == 0 ? (long long)si.totalram * si.mem_unit : 0;
}

/* The host's CPU time in nanoseconds, as dockerd's system_cpu_usage (from /proc/stat). */
static unsigned long long system_cpu_ns(void)
{
        _cleanup_free_ char *s = NULL;
        if (fs_read_file("/proc/stat", &s, NULL, NULL) < 0 || strncmp(s, "cpu ", 4) != 0)
                return 0;
        unsigned long long sum = 0, v;
        const char *p = s + 4;
        int n = 0, used;
        /* user nice system idle iowait irq softirq steal */
        while (n < 8 && sscanf(p, " %llu%n", &v, &used) == 1) {
                sum += v;
                p += used;
                n++;
        }
        long hz = sysconf(_SC_CLK_TCK);
        return sum * (1000000000ULL / (unsigned long long)(hz > 0 ? hz : 100));
}

static json_t *blkio_v1(const char *dir, const char *file)
{
        _cleanup_free_ char *s = read_cg(dir, file);
        json_t *a = json_array();
        if (s == NULL)
                return a;
        char *save = NULL;
        for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                unsigned maj, min;
                char op[32];
                unsigned long long v;
                if (sscanf(line, "%u:%u %31s %llu", &maj, &min, op, &v) == 4)
                        json_array_append_new(a, json_pack("{s:i, s:i, s:s, s:I}", "major", maj,
                                                           "minor", min, "op", op, "value",
                                                           (json_int_t)v));
        }
        return a;
}

/* io.stat "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." into the bytes and ios arrays. */
static void blkio_v2(const char *dir, json_t *bytes, json_t *ios)
{
        _cleanup_free_ char *s = read_cg(dir, "io.stat");
        if (s == NULL)
                return;
        char *save = NULL;
        for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                unsigned maj, min;
                int used;
                if (sscanf(line, "%u:%u%n", &maj, &min, &used) != 2)
                        continue;
                char *save2 = NULL;
                for (char *f = strtok_r(line + used, " ", &save2); f;
                     f = strtok_r(NULL, " ", &save2)) {
                        char k[32];
                        unsigned long long v;
                        if (sscanf(f, "%31[^=]=%llu", k, &v) != 2)
                                continue;
                        json_t *to = NULL;
                        const char *op = NULL;
                        if (strcmp(k, "rbytes") == 0)
                                to = bytes, op = "read";
                        else if (strcmp(k, "wbytes") == 0)
                                to = bytes, op = "write";
                        else if (strcmp(k, "rios") == 0)
                                to = ios, op = "read";
                        else if (strcmp(k, "wios") == 0)
                                to = ios, op = "write";
                        if (to)
                                json_array_append_new(to, json_pack("{s:i, s:i, s:s, s:I}", "major",
                                                                    maj, "minor", min, "op", op,
                                                                    "value", (json_int_t)v));
                }
        }
}

/* Interfaces of the container's network namespace but lo, from /proc/<pid>/net/dev. */
static json_t *networks(pid_t pid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/net/dev", (int)pid);
        _cleanup_free_ char *s = NULL;
        if (pid <= 0 || fs_read_file(path, &s, NULL, NULL) < 0)
                return NULL;
        json_t *o = json_object();
        char *save = NULL;
        int line_no = 0;
        for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (line_no++ < 2)
                        continue; /* two header lines */
                char *colon = strchr(line, ':');
                if (colon == NULL)
                        continue;
                *colon = '\0';
                char *name = line;
                while (*name == ' ')
                        name++;
                if (strcmp(name, "lo") == 0)
                        continue;
                unsigned long long f[16] = {0};
                if (sscanf(colon + 1,
                           "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
                           "%llu %llu %llu",
                           &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9],
                           &f[10], &f[11], &f[12], &f[13], &f[14], &f[15]) < 12)
                        continue;
                json_object_set_new(
                    o, name,
                    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rx_bytes",
                              (json_int_t)f[0], "rx_packets", (json_int_t)f[1], "rx_errors",
                              (json_int_t)f[2], "rx_dropped", (json_int_t)f[3], "tx_bytes",
                              (json_int_t)f[8], "tx_packets", (json_int_t)f[9], "tx_errors",
                              (json_int_t)f[10], "tx_dropped", (json_int_t)f[11]));
        }
        if (json_object_size(o) == 0) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static json_t *empty_cpu(void)
{
        return json_pack("{s:{s:i, s:i, s:i}, s:{s:i, s:i, s:i}}", "cpu_usage", "total_usage", 0,
                         "usage_in_kernelmode", 0, "usage_in_usermode", 0, "throttling_data",
                         "periods", 0, "throttled_periods", 0, "throttled_time", 0);
}

/* One sample: dockerd's shape without precpu_stats/preread (the caller pairs samples). */
static json_t *sample(struct eng *e, const struct ctr_snap *s)
{
        char now[TIMEFMT_RFC3339_LEN];
        json_t *st = json_object();
        json_object_set_new(st, "name", json_sprintf("/%s", s->name));
        json_object_set_new(st, "id", json_string(s->id));
        if (!s->running) {
                /* dockerd answers a stopped container with zeros and a zero read time. */
                json_object_set_new(st, "read", json_string("0001-01-01T00:00:00Z"));
                json_object_set_new(st, "pids_stats", json_object());
                json_object_set_new(st, "blkio_stats",
                                    json_pack("{s:[], s:[], s:[], s:[], s:[], s:[], s:[], s:[]}",
                                              "io_service_bytes_recursive", "io_serviced_recursive",
                                              "io_queue_recursive", "io_service_time_recursive",
                                              "io_wait_time_recursive", "io_merged_recursive",
                                              "io_time_recursive", "sectors_recursive"));
                json_object_set_new(st, "num_procs", json_integer(0));
                json_object_set_new(st, "storage_stats", json_object());
                json_object_set_new(st, "cpu_stats", empty_cpu());
                json_object_set_new(st, "memory_stats", json_object());
                return st;
        }
        json_object_set_new(st, "read", json_string(timefmt_now(now)));
        _cleanup_json_ json_t *cg = cgroup_of(e, s->id);
        const char *uni = json_string_value(json_object_get(cg, "unified"));
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        long long host_mem = mem_total();
        unsigned long long v = 0;

        /* A controller lives in v1 when a v1 hierarchy has it (hybrid hosts keep an empty v2
         * tree whose cpu.stat exists but is not what dockerd reads), else in the v2 tree. */
        bool v2mem = v1_dir(cg, "memory") == NULL && uni != NULL;
        bool v2cpu = v1_dir(cg, "cpuacct") == NULL && uni != NULL;

        /* pids */
        const char *pdir = v1_dir(cg, "pids");
        if (pdir == NULL)
                pdir = uni;
        json_t *pids = json_object();
        if (read_u64(pdir, "pids.current", &v))
                json_object_set_new(pids, "current", json_integer((json_int_t)v));
        if (read_u64(pdir, "pids.max", &v))
                json_object_set_new(pids, "limit", json_integer((json_int_t)v));
        json_object_set_new(st, "pids_stats", pids);

        /* blkio */
        json_t *blk =
            json_pack("{s:[], s:[], s:[], s:[], s:[], s:[], s:[], s:[]}",
                      "io_service_bytes_recursive", "io_serviced_recursive", "io_queue_recursive",
                      "io_service_time_recursive", "io_wait_time_recursive", "io_merged_recursive",
                      "io_time_recursive", "sectors_recursive");
        if (v1_dir(cg, "blkio") == NULL && uni != NULL) {
                json_t *b = json_array(), *i = json_array();
                blkio_v2(uni, b, i);
                json_object_set_new(blk, "io_service_bytes_recursive", b);
                json_object_set_new(blk, "io_serviced_recursive", i);
        } else {
                const char *bdir = v1_dir(cg, "blkio");
                json_object_set_new(blk, "io_service_bytes_recursive",
                                    blkio_v1(bdir, "blkio.throttle.io_service_bytes_recursive"));
                json_object_set_new(blk, "io_serviced_recursive",
                                    blkio_v1(bdir, "blkio.throttle.io_serviced_recursive"));
        }
        json_object_set_new(st, "blkio_stats", blk);
        json_object_set_new(st, "num_procs", json_integer(0));
        json_object_set_new(st, "storage_stats", json_object());

        /* cpu */
        json_t *cpu = empty_cpu();
        json_t *usage = json_object_get(cpu, "cpu_usage");
        json_t *thr = json_object_get(cpu, "throttling_data");
        if (v2cpu) {
                _cleanup_json_ json_t *cs = kv_file(uni, "cpu.stat");
                json_object_set_new(usage, "total_usage",
                                    json_integer((json_int_t)(kv_get(cs, "usage_usec") * 1000)));
                json_object_set_new(usage, "usage_in_kernelmode",
                                    json_integer((json_int_t)(kv_get(cs, "system_usec") * 1000)));
                json_object_set_new(usage, "usage_in_usermode",
                                    json_integer((json_int_t)(kv_get(cs, "user_usec") * 1000)));
                json_object_set_new(thr, "periods",
                                    json_integer((json_int_t)kv_get(cs, "nr_periods")));
                json_object_set_new(thr, "throttled_periods",
                                    json_integer((json_int_t)kv_get(cs, "nr_throttled")));
                json_object_set_new(
                    thr, "throttled_time",
                    json_integer((json_int_t)(kv_get(cs, "throttled_usec") * 1000)));
        } else {
                const char *adir = v1_dir(cg, "cpuacct");
                if (read_u64(adir, "cpuacct.usage", &v))
                        json_object_set_new(usage, "total_usage", json_integer((json_int_t)v));
                _cleanup_free_ char *pc = read_cg(adir, "cpuacct.usage_percpu");
                if (pc) {
                        json_t *a = json_array();
                        char *p = pc, *end = NULL;
                        for (;;) {
                                unsigned long long x = strtoull(p, &end, 10);
                                if (end == p)
                                        break;
                                json_array_append_new(a, json_integer((json_int_t)x));
                                p = end;
                        }
                        json_object_set_new(usage, "percpu_usage", a);
                }
                /* cpuacct.stat counts USER_HZ ticks; dockerd reports nanoseconds. */
                _cleanup_json_ json_t *as = kv_file(adir, "cpuacct.stat");
                long hz = sysconf(_SC_CLK_TCK);
                unsigned long long tick = 1000000000ULL / (unsigned long long)(hz > 0 ? hz : 100);
                json_object_set_new(usage, "usage_in_kernelmode",
                                    json_integer((json_int_t)(kv_get(as, "system") * tick)));
                json_object_set_new(usage, "usage_in_usermode",
                                    json_integer((json_int_t)(kv_get(as, "user") * tick)));
                _cleanup_json_ json_t *cs = kv_file(v1_dir(cg, "cpu"), "cpu.stat");
                json_object_set_new(thr, "periods",
                                    json_integer((json_int_t)kv_get(cs, "nr_periods")));
                json_object_set_new(thr, "throttled_periods",
                                    json_integer((json_int_t)kv_get(cs, "nr_throttled")));
                json_object_set_new(thr, "throttled_time",
                                    json_integer((json_int_t)kv_get(cs, "throttled_time")));
        }
        json_object_set_new(cpu, "system_cpu_usage", json_integer((json_int_t)system_cpu_ns()));
        json_object_set_new(cpu, "online_cpus", json_integer(ncpu));
        json_object_set_new(st, "cpu_stats", cpu);

        /* memory */
        json_t *mem = json_object();
        if (v2mem) {
                if (read_u64(uni, "memory.current", &v))
                        json_object_set_new(mem, "usage", json_integer((json_int_t)v));
                json_object_set_new(mem, "stats", kv_file(uni, "memory.stat"));
                unsigned long long lim = 0;
                if (!read_u64(uni, "memory.max", &lim) || lim == 0)
                        lim = (unsigned long long)host_mem; /* "max" */
                json_object_set_new(mem, "limit", json_integer((json_int_t)lim));
        } else {
                const char *mdir = v1_dir(cg, "memory");
                if (read_u64(mdir, "memory.usage_in_bytes", &v))
                        json_object_set_new(mem, "usage", json_integer((json_int_t)v));
                if (read_u64(mdir, "memory.max_usage_in_bytes", &v))
                        json_object_set_new(mem, "max_usage", json_integer((json_int_t)v));
                json_object_set_new(mem, "stats", kv_file(mdir, "memory.stat"));
                if (read_u64(mdir, "memory.failcnt", &v) && v > 0)
                        json_object_set_new(mem, "failcnt", json_integer((json_int_t)v));
                unsigned long long lim = 0;
                read_u64(mdir, "memory.limit_in_bytes", &lim);
                /* An unlimited v1 cgroup says 2^63 rounded to pages; dockerd shows the host's. */
                if (lim == 0 || (host_mem > 0 && lim > (unsigned long long)host_mem))
                        lim = (unsigned long long)host_mem;
                json_object_set_new(mem, "limit", json_integer((json_int_t)lim));
        }
        json_object_set_new(st, "memory_stats", mem);
        json_t *net = networks(s->pid);
        if (net)
                json_object_set_new(st, "networks", net);
        return st;
}

int eng_container_stats(struct eng *e, const char *ref, json_t **out, struct gerr **err)
{
        struct ctr_snap s = {0};
        int r = snap(e, ref, &s, err);
        if (r < 0)
                return r;
        *out = sample(e, &s);
        free(s.name);
        return 0;
}

/* ---- top ---- */

static int ctr_pids(struct eng *e, const char *id, pid_t **pids, size_t *n, struct gerr **err)
{
        _cleanup_json_ json_t *cg = cgroup_of(e, id);
        if (cg == NULL)
                return eng_err(err, ENOENT, "cannot find the cgroup of container %s", id);
        struct rt_cgroup *rc = NULL;
        int r = rt_cgroup_from_json(cg, &rc, err);
        if (r < 0)
                return r;
        r = rt_cgroup_pids(rc, pids, n, err);
        rt_cgroup_free(rc);
        return r;
}

/* Split on blanks; at most max fields, the last taking the rest of the line as is. */
static json_t *fields(char *line, size_t max)
{
        json_t *a = json_array();
        char *p = line;
        while (*p) {
                while (*p == ' ' || *p == '\t')
                        p++;
                if (*p == '\0')
                        break;
                if (max > 0 && json_array_size(a) == max - 1) {
                        size_t n = strlen(p);
                        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                                p[--n] = '\0';
                        json_array_append_new(a, json_string(p));
                        break;
                }
                char *start = p;
                while (*p && *p != ' ' && *p != '\t')
                        p++;
                char c = *p;
                *p = '\0';
                json_array_append_new(a, json_string(start));
                if (c == '\0')
                        break;
                p++;
        }
        return a;
}

/* ps argv from ps_args as dockerd splits it (on spaces, no shell). */
static int run_ps(const char *ps_args, char **out, struct gerr **err)
{
        _cleanup_free_ char *args = strdup(ps_args && *ps_args ? ps_args : "-ef");
        char *argv[64] = {"ps"};
        size_t n = 1;
        char *save = NULL;
        for (char *t = strtok_r(args, " ", &save); t && n < 63; t = strtok_r(NULL, " ", &save))
                argv[n++] = t;
        argv[n] = NULL;
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return gerr_set(err, errno, "pipe");
        /* ps's complaint, whose first line dockerd returns; small, so a temp file will do. */
        _cleanup_fclose_ FILE *errf = tmpfile();
        pid_t pid = fork();
        if (pid < 0) {
                close(pfd[0]);
                close(pfd[1]);
                return gerr_set(err, errno, "fork ps");
        }
        if (pid == 0) {
                dup2(pfd[1], 1);
                if (errf != NULL)
                        dup2(fileno(errf), 2);
                execvp("ps", argv);
                _exit(127);
        }
        close(pfd[1]);
        size_t len = 0;
        int r = fs_read_fd(pfd[0], out, &len);
        close(pfd[0]);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (r < 0)
                return gerr_set(err, -r, "read ps output");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                free(*out);
                *out = NULL;
                char line[256] = "";
                if (errf != NULL) {
                        rewind(errf);
                        if (fgets(line, sizeof(line), errf) == NULL)
                                line[0] = '\0';
                        line[strcspn(line, "\n")] = '\0';
                }
                if (line[0] != '\0')
                        return eng_err(err, EIO, "ps: %s", line);
                return eng_err(err, EIO, "ps: exit status %d",
                               WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        }
        return 0;
}

int eng_container_top(struct eng *e, const char *ref, const char *ps_args, json_t **out,
                      struct gerr **err)
{
        struct ctr_snap s = {0};
        int r = snap(e, ref, &s, err);
        if (r < 0)
                return r;
        free(s.name);
        if (!s.running)
                return eng_err(err, EBUSY, "Container %s is not running", s.id);
        _cleanup_free_ pid_t *pids = NULL;
        size_t np = 0;
        if ((r = ctr_pids(e, s.id, &pids, &np, err)) < 0)
                return r;
        _cleanup_free_ char *text = NULL;
        if ((r = run_ps(ps_args, &text, err)) < 0)
                return r;
        char *save = NULL;
        char *header = strtok_r(text, "\n", &save);
        if (header == NULL)
                return eng_err(err, EINVAL, "Error running ps: no output");
        json_t *titles = fields(header, 0);
        ssize_t pid_col = -1;
        size_t i;
        json_t *t;
        json_array_foreach(titles, i, t)
        {
                if (strcmp(json_string_value(t), "PID") == 0)
                        pid_col = (ssize_t)i;
        }
        if (pid_col < 0) {
                json_decref(titles);
                return eng_err(err, EINVAL, "Couldn't find PID field in ps output");
        }
        json_t *procs = json_array();
        for (char *line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                json_t *f = fields(line, json_array_size(titles));
                const char *ps = json_string_value(json_array_get(f, (size_t)pid_col));
                long p = ps ? strtol(ps, NULL, 10) : -1;
                bool mine = false;
                for (size_t k = 0; k < np && !mine; k++)
                        mine = pids[k] == (pid_t)p;
                if (mine)
                        json_array_append_new(procs, f);
                else
                        json_decref(f);
        }
        *out = json_pack("{s:o, s:o}", "Titles", titles, "Processes", procs);
        struct eng_ctr *c = NULL;
        pthread_mutex_lock(&e->lock);
        if (eng_ctr_find(e, s.id, &c, NULL) == 0)
                eng_event_ctr(e, c, "top", NULL);
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        return 0;
}

/* ---- disk usage ---- */

static long long du(int dfd)
{
        long long sum = 0;
        DIR *d = fdopendir(dfd);
        if (d == NULL) {
                close(dfd);
                return 0;
        }
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                struct stat sb;
                if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(sb.st_mode)) {
                        int fd = openat(dirfd(d), de->d_name,
                                        O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        if (fd >= 0)
                                sum += du(fd);
                } else if (S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode)) {
                        sum += sb.st_size;
                }
        }
        closedir(d);
        return sum;
}

/* The size of the container's writable layer. */
long long eng_ctr_size_rw(struct eng *e, const char *id)
{
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s/%s/upper", e->containers_dir, id) < 0)
                return 0;
        int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? 0 : du(fd);
}

void eng_container_add_sizes(struct eng *e, json_t *ctr)
{
        const char *id = json_string_value(json_object_get(ctr, "Id"));
        const char *image = json_string_value(json_object_get(ctr, "ImageID"));
        if (image == NULL)
                image = json_string_value(json_object_get(ctr, "Image"));
        if (id == NULL)
                return;
        long long rw = eng_ctr_size_rw(e, id), base = 0;
        _cleanup_json_ json_t *img = NULL;
        if (image != NULL && img_inspect(e->images, image, &img, NULL) == 0)
                base = json_integer_value(json_object_get(img, "Size"));
        json_object_set_new(ctr, "SizeRw", json_integer(rw));
        json_object_set_new(ctr, "SizeRootFs", json_integer(rw + base));
}

int eng_system_df(struct eng *e, json_t **out, struct gerr **err)
{
        _cleanup_json_ json_t *images = NULL;
        int r = img_list(e->images, false, NULL, &images, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *ctrs = NULL;
        if ((r = eng_container_list(e, true, NULL, &ctrs, err)) < 0)
                return r;
        long long layers = 0;
        size_t i, k;
        json_t *img, *c;
        json_array_foreach(images, i, img)
        {
                const char *iid = json_string_value(json_object_get(img, "Id"));
                long users = 0;
                json_array_foreach(ctrs, k, c)
                {
                        const char *cid = json_string_value(json_object_get(c, "ImageID"));
                        users += iid && cid && strcmp(iid, cid) == 0;
                }
                json_object_set_new(img, "Containers", json_integer(users));
                json_object_set_new(img, "SharedSize", json_integer(0));
                layers += json_integer_value(json_object_get(img, "Size"));
        }
        json_array_foreach(ctrs, k, c)
        {
                const char *cid = json_string_value(json_object_get(c, "Id"));
                /* dockerd leaves both out when zero (omitempty). */
                long long rw = cid ? eng_ctr_size_rw(e, cid) : 0;
                if (rw > 0)
                        json_object_set_new(c, "SizeRw", json_integer(rw));
        }
        *out = json_pack("{s:I, s:O, s:O, s:[], s:[], s:i}", "LayersSize", (json_int_t)layers,
                         "Images", images, "Containers", ctrs, "Volumes", "BuildCache",
                         "BuilderSize", 0);
        return 0;
}
