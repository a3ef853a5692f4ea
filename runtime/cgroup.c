/* Container cgroups: host layout detection, path resolution, create/destroy, dispatch, state JSON. */
#include "runtime/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runtime/cgroup_internal.h"

static struct cg_host *host_cache;

/* v1 controllers we put containers in (runc's list); other mount options are not controllers. */
static const char *const v1_controllers[] = {
        "cpu",     "cpuacct", "cpuset",  "memory",     "devices", "freezer", "blkio",
        "pids",    "hugetlb", "net_cls", "net_prio",   "perf_event", "rdma", "misc",
};

static void sleep_us(long us)
{
        struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };
        nanosleep(&ts, NULL);
}

static long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int join_path(char *buf, size_t size, const char *dir, const char *file)
{
        int n = snprintf(buf, size, "%s/%s", dir, file);
        return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
}

/* Read a whole (proc or cgroup) file; those report size 0, so read until EOF. */
static int read_path(const char *path, char **out)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return fs_read_fd(fd, out, NULL);
}

int rt_cg_read(const char *dir, const char *file, char **out, struct gerr **err)
{
        char path[PATH_MAX];
        if (join_path(path, sizeof(path), dir, file) < 0)
                return gerr_set(err, ENAMETOOLONG, "read %s/%s", dir, file);
        int r = read_path(path, out);
        if (r < 0)
                return gerr_set(err, -r, "read %s", path);
        size_t len = strlen(*out);
        while (len > 0 && (*out)[len - 1] == '\n')
                (*out)[--len] = '\0';
        return 0;
}

/* In a fake tree a knob is a plain file: created on write, replaced, or appended to for
 * line-per-write files. */
static int open_knob(const char *path, bool may_create, bool append)
{
        int flags = O_WRONLY | O_CLOEXEC;
        if (may_create && host_cache != NULL && host_cache->fake)
                flags |= O_CREAT | (append ? O_APPEND : O_TRUNC);
        return open(path, flags, 0644);
}

static int write_knob(const char *dir, const char *file, const char *val, bool optional,
                      struct gerr **err)
{
        char path[PATH_MAX];
        if (join_path(path, sizeof(path), dir, file) < 0)
                return gerr_set(err, ENAMETOOLONG, "write %s/%s", dir, file);
        _cleanup_close_ int fd = open_knob(path, !optional, false);
        if (fd < 0) {
                if (optional && errno == ENOENT)
                        return -ENOENT;
                return gerr_set(err, errno, "write %s \"%s\"", path, val);
        }
        size_t len = strlen(val);
        ssize_t n = write(fd, val, len);
        if (n < 0)
                return gerr_set(err, errno, "write %s \"%s\"", path, val);
        if ((size_t)n != len)
                return gerr_set(err, EIO, "write %s \"%s\": short write", path, val);
        return 0;
}

int rt_cg_write(const char *dir, const char *file, const char *val, struct gerr **err)
{
        return write_knob(dir, file, val, false, err);
}

int rt_cg_write_opt(const char *dir, const char *file, const char *val, struct gerr **err)
{
        return write_knob(dir, file, val, true, err);
}

int rt_cg_write_lines(const char *dir, const char *file, char **lines, size_t n, struct gerr **err)
{
        if (n == 0)
                return 0;
        char path[PATH_MAX];
        if (join_path(path, sizeof(path), dir, file) < 0)
                return gerr_set(err, ENAMETOOLONG, "write %s/%s", dir, file);
        _cleanup_close_ int fd = open_knob(path, true, true);
        if (fd < 0)
                return gerr_set(err, errno, "write %s \"%s\"", path, lines[0]);
        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(lines[i]);
                if (write(fd, lines[i], len) != (ssize_t)len)
                        return gerr_set(err, errno ? errno : EIO, "write %s \"%s\"", path,
                                        lines[i]);
        }
        return 0;
}

/* ---- host layout ---- */

static const char *root_path(void)
{
        const char *e = getenv("GANTRY_CGROUP_ROOT");
        return (e != NULL && *e != '\0') ? e : "/sys/fs/cgroup";
}

static void host_free(struct cg_host *h)
{
        if (h == NULL)
                return;
        free(h->root);
        free(h->unified);
        free(h->unified_root);
        for (size_t i = 0; i < h->n_v1; i++) {
                free(h->v1[i].name);
                free(h->v1[i].mnt);
                free(h->v1[i].root);
        }
        free(h->v1);
        free(h);
}

void rt_cg_host_reset(void)
{
        host_free(host_cache);
        host_cache = NULL;
}

static bool under(const char *path, const char *root)
{
        size_t n = strlen(root);
        return strncmp(path, root, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* "rw,cpu,cpuacct" -> "cpu,cpuacct"; NULL when no controller is named. */
static char *v1_name_from_opts(const char *opts)
{
        _cleanup_free_ char *copy = strdup(opts);
        if (copy == NULL)
                return NULL;
        char out[256] = "";
        char *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
                bool is_ctrl = strncmp(t, "name=", 5) == 0;
                for (size_t i = 0; !is_ctrl && i < ARRAY_SIZE(v1_controllers); i++)
                        is_ctrl = strcmp(t, v1_controllers[i]) == 0;
                if (!is_ctrl)
                        continue;
                if (out[0] != '\0')
                        strncat(out, ",", sizeof(out) - strlen(out) - 1);
                strncat(out, t, sizeof(out) - strlen(out) - 1);
        }
        return out[0] != '\0' ? strdup(out) : NULL;
}

static int add_v1(struct cg_host *h, const char *name, const char *mnt, const char *root)
{
        for (size_t i = 0; i < h->n_v1; i++)
                if (strcmp(h->v1[i].name, name) == 0)
                        return 0; /* the same hierarchy mounted twice: the first one serves */
        struct cg_mount *v = realloc(h->v1, (h->n_v1 + 1) * sizeof(*v));
        if (v == NULL)
                return -ENOMEM;
        h->v1 = v;
        struct cg_mount *m = &v[h->n_v1];
        m->name = strdup(name);
        m->mnt = strdup(mnt);
        m->root = strdup(root);
        h->n_v1++;
        return (m->name && m->mnt && m->root) ? 0 : -ENOMEM;
}

/* One pass over /proc/self/mountinfo: cgroup and cgroup2 mounts below the root. */
static int parse_mountinfo(struct cg_host *h, struct gerr **err)
{
        _cleanup_free_ char *text = NULL;
        int r = read_path("/proc/self/mountinfo", &text);
        if (r < 0)
                return gerr_set(err, -r, "read /proc/self/mountinfo");
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line != NULL;
             line = strtok_r(NULL, "\n", &save)) {
                /* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
                char *sep = strstr(line, " - ");
                if (sep == NULL)
                        continue;
                *sep = '\0';
                char *fields[5] = { 0 };
                char *fs = NULL;
                char *p = line;
                for (int i = 0; i < 5 && p != NULL; i++)
                        fields[i] = strsep(&p, " ");
                p = sep + 3;
                fs = strsep(&p, " ");
                strsep(&p, " "); /* source */
                char *superopts = p;
                if (fields[4] == NULL || fs == NULL || superopts == NULL)
                        continue;
                const char *mroot = fields[3], *mnt = fields[4];
                if (!under(mnt, h->root))
                        continue;
                if (strcmp(fs, "cgroup2") == 0) {
                        if (h->unified == NULL) {
                                h->unified = strdup(mnt);
                                h->unified_root = strdup(mroot);
                                if (h->unified == NULL || h->unified_root == NULL)
                                        return gerr_set(err, ENOMEM, "cgroup mounts");
                        }
                } else if (strcmp(fs, "cgroup") == 0) {
                        _cleanup_free_ char *name = v1_name_from_opts(superopts);
                        if (name != NULL && add_v1(h, name, mnt, mroot) < 0)
                                return gerr_set(err, ENOMEM, "cgroup mounts");
                }
        }
        return 0;
}

/* A plain directory standing in for /sys/fs/cgroup (tests): each subdirectory is a v1
 * hierarchy named after it ("cpu,cpuacct", "systemd" = name=systemd), "unified" a cgroup2. */
static int scan_fake_root(struct cg_host *h, struct gerr **err)
{
        DIR *d = opendir(h->root);
        if (d == NULL)
                return gerr_set(err, errno, "open cgroup root %s", h->root);
        struct dirent *de;
        int r = 0;
        while (r == 0 && (de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.')
                        continue;
                char path[PATH_MAX];
                if (join_path(path, sizeof(path), h->root, de->d_name) < 0)
                        continue;
                struct stat st;
                if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                if (strcmp(de->d_name, "unified") == 0) {
                        h->unified = strdup(path);
                        h->unified_root = strdup("/");
                        if (h->unified == NULL || h->unified_root == NULL)
                                r = -ENOMEM;
                        continue;
                }
                char name[NAME_MAX + 8];
                snprintf(name, sizeof(name), "%s%s",
                         strcmp(de->d_name, "systemd") == 0 ? "name=" : "", de->d_name);
                r = add_v1(h, name, path, "/");
        }
        closedir(d);
        if (r < 0)
                return gerr_set(err, -r, "scan cgroup root %s", h->root);
        return 0;
}

unsigned rt_cg_v2_parse_controllers(const char *text)
{
        static const struct {
                const char *name;
                unsigned bit;
        } map[] = {
                { "cpu", CG_CPU },         { "cpuset", CG_CPUSET }, { "io", CG_IO },
                { "memory", CG_MEMORY },   { "pids", CG_PIDS },     { "hugetlb", CG_HUGETLB },
                { "misc", CG_MISC },       { "rdma", CG_RDMA },
        };
        unsigned bits = 0;
        const char *p = text;
        while (p != NULL && *p != '\0') {
                p += strspn(p, " \t\n");
                size_t len = strcspn(p, " \t\n");
                if (len == 0)
                        break;
                if (*p == '+' || *p == '-') { /* subtree_control echoes no sign, but be lenient */
                        p++;
                        len--;
                }
                for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                        if (strlen(map[i].name) == len && strncmp(p, map[i].name, len) == 0)
                                bits |= map[i].bit;
                p += len;
        }
        return bits;
}

const struct cg_host *rt_cg_host(struct gerr **err)
{
        if (host_cache != NULL)
                return host_cache;
        struct cg_host *h = calloc(1, sizeof(*h));
        if (h == NULL) {
                gerr_set(err, ENOMEM, "cgroup host");
                return NULL;
        }
        h->root = strdup(root_path());
        char probe[PATH_MAX];
        struct statfs sfs;
        int r = 0;
        if (h->root == NULL)
                r = gerr_set(err, ENOMEM, "cgroup host");
        else if (join_path(probe, sizeof(probe), h->root, "cgroup.controllers") == 0 &&
                 access(probe, F_OK) == 0) {
                /* Pure v2: no need to look at the mount table at all. */
                h->mode = RT_CGROUP_V2;
                h->unified = strdup(h->root);
                h->unified_root = strdup("/");
                h->fake = statfs(h->root, &sfs) == 0 && sfs.f_type != CGROUP2_SUPER_MAGIC;
                if (h->unified == NULL || h->unified_root == NULL)
                        r = gerr_set(err, ENOMEM, "cgroup host");
        } else {
                r = parse_mountinfo(h, err);
                if (r == 0 && h->n_v1 == 0 && h->unified == NULL) {
                        h->fake = true;
                        r = scan_fake_root(h, err);
                }
                if (r == 0 && h->n_v1 == 0 && h->unified == NULL)
                        r = gerr_set(err, ENOENT, "no cgroup hierarchy found below %s", h->root);
                if (r == 0)
                        h->mode = h->n_v1 == 0 ? RT_CGROUP_V2
                                  : h->unified != NULL ? RT_CGROUP_HYBRID
                                                       : RT_CGROUP_V1;
        }
        if (r == 0 && h->unified != NULL) {
                _cleanup_free_ char *ctl = NULL;
                if (rt_cg_read(h->unified, "cgroup.controllers", &ctl, NULL) == 0)
                        h->unified_avail = rt_cg_v2_parse_controllers(ctl);
        }
        if (r < 0) {
                host_free(h);
                return NULL;
        }
        host_cache = h;
        return h;
}

enum rt_cgroup_mode rt_cgroup_mode(void)
{
        const struct cg_host *h = rt_cg_host(NULL);
        return h != NULL ? h->mode : RT_CGROUP_V2;
}

/* ---- paths ---- */

/* Clean cgroupsPath: "//" and "." collapse, ".." (which could climb out of the hierarchy) and
 * systemd's "slice:prefix:name" are refused. Keeps the leading '/' of an absolute path. */
static int normalize_path(const char *in, char **out, struct gerr **err)
{
        if (strchr(in, ':') != NULL)
                return gerr_set(err, EINVAL,
                                "cgroupsPath \"%s\": systemd cgroup paths (slice:prefix:name) are "
                                "not supported",
                                in);
        size_t len = strlen(in);
        _cleanup_free_ char *buf = malloc(len + 2);
        _cleanup_free_ char *copy = strdup(in);
        if (buf == NULL || copy == NULL)
                return gerr_set(err, ENOMEM, "cgroupsPath");
        size_t n = 0;
        bool abs = in[0] == '/';
        char *save = NULL;
        for (char *t = strtok_r(copy, "/", &save); t != NULL; t = strtok_r(NULL, "/", &save)) {
                if (strcmp(t, ".") == 0)
                        continue;
                if (strcmp(t, "..") == 0)
                        return gerr_set(err, EINVAL, "cgroupsPath \"%s\": \"..\" is not allowed",
                                        in);
                if (n > 0 || abs)
                        buf[n++] = '/';
                size_t tl = strlen(t);
                memcpy(buf + n, t, tl);
                n += tl;
        }
        buf[n] = '\0';
        if (n == 0 || strcmp(buf, "/") == 0)
                return gerr_set(err, EINVAL, "cgroupsPath \"%s\": names no cgroup", in);
        *out = TAKE_PTR(buf);
        return 0;
}

static bool list_has(const char *list, const char *item)
{
        size_t n = strlen(item);
        for (const char *p = list; p != NULL && *p != '\0';) {
                size_t len = strcspn(p, ",");
                if (len == n && strncmp(p, item, n) == 0)
                        return true;
                p += len;
                if (*p == ',')
                        p++;
        }
        return false;
}

/* The calling process's cgroup in the v1 hierarchy `name`, or in the cgroup2 tree (name NULL). */
static int self_cgroup(const char *name, char **out, struct gerr **err)
{
        _cleanup_free_ char *text = NULL;
        int r = read_path("/proc/self/cgroup", &text);
        if (r < 0)
                return gerr_set(err, -r, "read /proc/self/cgroup");
        char first[64] = "";
        if (name != NULL)
                snprintf(first, sizeof(first), "%.*s", (int)strcspn(name, ","), name);
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line != NULL;
             line = strtok_r(NULL, "\n", &save)) {
                char *c1 = strchr(line, ':');
                char *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
                if (c2 == NULL)
                        continue;
                *c2 = '\0';
                const char *list = c1 + 1;
                bool match = name == NULL ? (strcmp(line, "0:") == 0 && *list == '\0')
                                          : list_has(list, first);
                if (match) {
                        *out = strdup(c2 + 1);
                        return *out != NULL ? 0 : gerr_set(err, ENOMEM, "cgroup path");
                }
        }
        return gerr_set(err, ENOENT, "no %s entry in /proc/self/cgroup",
                        name != NULL ? name : "cgroup2");
}

/* Where path lives under the mount mnt: an absolute path starts at the hierarchy's root (the
 * mount's root here), a relative one below the caller's own cgroup, as runc does. */
static int hier_dir(const char *mnt, const char *mroot, const char *name, const char *path,
                    char **out, struct gerr **err)
{
        int n;
        if (path[0] == '/') {
                n = asprintf(out, "%s%s", mnt, path);
        } else {
                _cleanup_free_ char *self = NULL;
                int r = self_cgroup(name, &self, err);
                if (r < 0)
                        return r;
                const char *base = self;
                if (strcmp(mroot, "/") != 0 && under(self, mroot))
                        base = self + strlen(mroot);
                if (strcmp(base, "/") == 0)
                        base = "";
                n = asprintf(out, "%s%s/%s", mnt, base, path);
        }
        return n < 0 ? gerr_set(err, ENOMEM, "cgroup path") : 0;
}

const char *rt_cg_v1_dir(const struct rt_cgroup *cg, const char *ctrl)
{
        for (size_t i = 0; i < cg->n_v1; i++)
                if (list_has(cg->v1[i].name, ctrl))
                        return cg->v1[i].dir;
        return NULL;
}

/* Every directory of the container: the v1 ones, then the cgroup2 one. */
static size_t n_dirs(const struct rt_cgroup *cg)
{
        return cg->n_v1 + (cg->unified != NULL ? 1 : 0);
}

static const char *dir_at(const struct rt_cgroup *cg, size_t i)
{
        return i < cg->n_v1 ? cg->v1[i].dir : cg->unified;
}

void rt_cgroup_free(struct rt_cgroup *cg)
{
        if (cg == NULL)
                return;
        free(cg->path);
        free(cg->unified);
        for (size_t i = 0; i < cg->n_v1; i++) {
                free(cg->v1[i].name);
                free(cg->v1[i].dir);
        }
        free(cg->v1);
        free(cg);
}

static void rt_cgroup_freep(struct rt_cgroup **cg)
{
        rt_cgroup_free(*cg);
}

/* ---- directories ---- */

/* mkdir dir and whichever parents below mnt are missing; *created counts the new levels (they
 * form the chain ending at dir). A new v1 cpuset level gets its parent's cpus and mems. */
static int make_levels(const char *mnt, char *dir, bool cpuset, int *created, struct gerr **err)
{
        for (int attempt = 0;; attempt++) {
                if (mkdir(dir, 0755) == 0) {
                        (*created)++;
                        if (!cpuset)
                                return 0;
                        char *slash = strrchr(dir, '/');
                        *slash = '\0';
                        _cleanup_free_ char *parent = strdup(dir);
                        *slash = '/';
                        if (parent == NULL)
                                return gerr_set(err, ENOMEM, "mkdir %s", dir);
                        return rt_cg_v1_cpuset_inherit(parent, dir, err);
                }
                if (errno == EEXIST)
                        return 0;
                if (errno != ENOENT || attempt > 0 || strlen(dir) <= strlen(mnt))
                        return gerr_set(err, errno, "mkdir %s", dir);
                char *slash = strrchr(dir, '/');
                if (slash == NULL || (size_t)(slash - dir) < strlen(mnt))
                        return gerr_set(err, ENOENT, "mkdir %s", dir);
                *slash = '\0';
                int r = make_levels(mnt, dir, cpuset, created, err);
                *slash = '/';
                if (r < 0)
                        return r;
        }
}

/* rmdir dir, children first. Killed tasks take a moment to leave, so EBUSY is retried until the
 * deadline. A fake tree holds plain files, which go too. */
static int rm_tree(const char *dir, long deadline, struct gerr **err)
{
        bool fake = host_cache != NULL && host_cache->fake;
        for (;;) {
                if (rmdir(dir) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY && errno != ENOTEMPTY)
                        return gerr_set(err, errno, "rmdir %s", dir);
                DIR *d = opendir(dir);
                if (d == NULL)
                        return errno == ENOENT ? 0 : gerr_set(err, errno, "open %s", dir);
                struct dirent *de;
                int r = 0;
                while (r == 0 && (de = readdir(d)) != NULL) {
                        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                                continue;
                        char sub[PATH_MAX];
                        if (join_path(sub, sizeof(sub), dir, de->d_name) < 0)
                                continue;
                        if (de->d_type == DT_DIR)
                                r = rm_tree(sub, deadline, err);
                        else if (fake)
                                unlink(sub);
                }
                closedir(d);
                if (r < 0)
                        return r;
                if (rmdir(dir) == 0 || errno == ENOENT)
                        return 0;
                if ((errno != EBUSY && errno != ENOTEMPTY) || now_ms() > deadline)
                        return gerr_set(err, errno, "rmdir %s", dir);
                sleep_us(1000);
        }
}

static void pid_str(char *buf, size_t size, pid_t pid)
{
        snprintf(buf, size, "%d", (int)pid);
}

static int join_all(const struct rt_cgroup *cg, pid_t pid, size_t *joined, struct gerr **err)
{
        char buf[24];
        pid_str(buf, sizeof(buf), pid);
        for (size_t i = 0; i < n_dirs(cg); i++) {
                int r = rt_cg_write(dir_at(cg, i), "cgroup.procs", buf, err);
                if (r < 0)
                        return r;
                if (joined != NULL)
                        (*joined)++;
        }
        return 0;
}

/* Undo a failed create: hand the process back to each hierarchy's root, remove new levels. */
static void undo_create(const struct cg_host *h, const struct rt_cgroup *cg, const int *created,
                        size_t joined, pid_t pid)
{
        char buf[24];
        pid_str(buf, sizeof(buf), pid);
        for (size_t i = 0; i < joined; i++)
                rt_cg_write(i < h->n_v1 ? h->v1[i].mnt : h->unified, "cgroup.procs", buf, NULL);
        long deadline = now_ms() + 200;
        for (size_t i = 0; i < n_dirs(cg); i++) {
                if (created[i] == 0)
                        continue;
                _cleanup_free_ char *d = strdup(dir_at(cg, i));
                if (d == NULL)
                        continue;
                for (int level = 0; level < created[i]; level++) {
                        if (rm_tree(d, deadline, NULL) < 0)
                                break;
                        char *slash = strrchr(d, '/');
                        if (slash == NULL)
                                break;
                        *slash = '\0';
                }
        }
}

/* ---- resources ---- */

static bool nz(struct opt_i64 o)
{
        return o.set && o.v != 0;
}

static bool want_memory(const struct rt_resources *r)
{
        return nz(r->memory.limit) || nz(r->memory.reservation) || nz(r->memory.swap) ||
               r->memory.swappiness.set || r->memory.disable_oom_killer;
}

static bool want_cpu(const struct rt_resources *r)
{
        return nz(r->cpu.shares) || nz(r->cpu.quota) || nz(r->cpu.period) || r->cpu.burst.set ||
               nz(r->cpu.realtime_runtime) || nz(r->cpu.realtime_period) || r->cpu.idle.set;
}

static bool want_cpuset(const struct rt_resources *r)
{
        return (r->cpu.cpus != NULL && *r->cpu.cpus != '\0') ||
               (r->cpu.mems != NULL && *r->cpu.mems != '\0');
}

static bool want_io(const struct rt_resources *r)
{
        return nz(r->blkio.weight) || nz(r->blkio.leaf_weight) || r->blkio.n_weight_device ||
               r->blkio.n_throttle_read_bps || r->blkio.n_throttle_write_bps ||
               r->blkio.n_throttle_read_iops || r->blkio.n_throttle_write_iops;
}

/* Controllers (CG_*) the resources need in the cgroup2 tree: those no v1 hierarchy holds. */
static unsigned v2_needed(const struct cg_host *h, const struct rt_cgroup *cg,
                          const struct rt_resources *r)
{
        if (r == NULL || cg->unified == NULL)
                return 0;
        unsigned want = 0;
        if (want_memory(r) && rt_cg_v1_dir(cg, "memory") == NULL)
                want |= CG_MEMORY;
        if (want_cpu(r) && rt_cg_v1_dir(cg, "cpu") == NULL)
                want |= CG_CPU;
        if (want_cpuset(r) && rt_cg_v1_dir(cg, "cpuset") == NULL)
                want |= CG_CPUSET;
        if (r->pids_limit.set && rt_cg_v1_dir(cg, "pids") == NULL)
                want |= CG_PIDS;
        if (want_io(r) && rt_cg_v1_dir(cg, "blkio") == NULL)
                want |= CG_IO;
        if (r->n_hugepage_limits > 0 && rt_cg_v1_dir(cg, "hugetlb") == NULL)
                want |= CG_HUGETLB;
        return want & h->unified_avail;
}

static int no_controller(const char *ctrl, struct gerr **err)
{
        return gerr_set(err, EOPNOTSUPP, "cgroup controller %s is not available on this host",
                        ctrl);
}

/* Each resource group goes to the v1 hierarchy holding its controller, else to the cgroup2 tree
 * if it has the controller. Missing blkio/hugetlb/net_* are skipped as runc does. */
static int apply(const struct cg_host *h, const struct rt_cgroup *cg, const struct rt_resources *r,
                 bool update, struct gerr **err)
{
        const char *d;
        unsigned avail = cg->unified != NULL ? h->unified_avail : 0;
        int rc = 0;
        if (want_memory(r)) {
                if ((d = rt_cg_v1_dir(cg, "memory")) != NULL)
                        rc = rt_cg_v1_memory(d, r, update, err);
                else if (avail & CG_MEMORY)
                        rc = rt_cg_v2_memory(cg->unified, r, err);
                else
                        rc = no_controller("memory", err);
                if (rc < 0)
                        return rc;
        }
        if (want_cpuset(r)) {
                if ((d = rt_cg_v1_dir(cg, "cpuset")) != NULL)
                        rc = rt_cg_v1_cpuset(d, r, err);
                else if (avail & CG_CPUSET)
                        rc = rt_cg_v2_cpuset(cg->unified, r, err);
                else
                        rc = no_controller("cpuset", err);
                if (rc < 0)
                        return rc;
        }
        if (want_cpu(r)) {
                if ((d = rt_cg_v1_dir(cg, "cpu")) != NULL)
                        rc = rt_cg_v1_cpu(d, r, err);
                else if (avail & CG_CPU)
                        rc = rt_cg_v2_cpu(cg->unified, r, err);
                else
                        rc = no_controller("cpu", err);
                if (rc < 0)
                        return rc;
        }
        if (r->pids_limit.set) {
                if ((d = rt_cg_v1_dir(cg, "pids")) != NULL)
                        rc = rt_cg_v1_pids(d, r, err);
                else if (avail & CG_PIDS)
                        rc = rt_cg_v2_pids(cg->unified, r, err);
                else
                        rc = no_controller("pids", err);
                if (rc < 0)
                        return rc;
        }
        if (want_io(r)) {
                if ((d = rt_cg_v1_dir(cg, "blkio")) != NULL)
                        rc = rt_cg_v1_blkio(d, r, err);
                else if (avail & CG_IO)
                        rc = rt_cg_v2_io(cg->unified, r, err);
                if (rc < 0)
                        return rc;
        }
        if (r->n_hugepage_limits > 0) {
                if ((d = rt_cg_v1_dir(cg, "hugetlb")) != NULL)
                        rc = rt_cg_v1_hugetlb(d, r, err);
                else if (avail & CG_HUGETLB)
                        rc = rt_cg_v2_hugetlb(cg->unified, r, err);
                if (rc < 0)
                        return rc;
        }
        if (r->network.class_id.set && (d = rt_cg_v1_dir(cg, "net_cls")) != NULL) {
                rc = rt_cg_v1_net_cls(d, r, err);
                if (rc < 0)
                        return rc;
        }
        if (json_array_size(r->network.priorities) > 0 &&
            (d = rt_cg_v1_dir(cg, "net_prio")) != NULL) {
                rc = rt_cg_v1_net_prio(d, r, err);
                if (rc < 0)
                        return rc;
        }
        if (json_object_size(r->unified) > 0) {
                if (cg->unified == NULL) {
                        const char *key = json_object_iter_key(json_object_iter(r->unified));
                        return gerr_set(err, EOPNOTSUPP,
                                        "unified resource \"%s\": this host has no cgroup v2 tree",
                                        key);
                }
                rc = rt_cg_v2_unified(cg->unified, r->unified, err);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

#define R_DEV(t, ma, mi, acc) { .allow = true, .type = (t), .major = (ma), .minor = (mi), .access = acc }

/* runc appends these to every container's rules (specconv.AllowedDevices). */
static const struct rt_device_rule default_rules[] = {
        R_DEV('c', -1, -1, "m"),    R_DEV('b', -1, -1, "m"),
        R_DEV('c', 1, 3, "rwm"),    /* null */
        R_DEV('c', 1, 8, "rwm"),    /* random */
        R_DEV('c', 1, 7, "rwm"),    /* full */
        R_DEV('c', 5, 0, "rwm"),    /* tty */
        R_DEV('c', 1, 5, "rwm"),    /* zero */
        R_DEV('c', 1, 9, "rwm"),    /* urandom */
        R_DEV('c', 136, -1, "rwm"), /* pts */
        R_DEV('c', 5, 2, "rwm"),    /* ptmx */
        R_DEV('c', 10, 200, "rwm"), /* tun */
};

static int apply_devices(const struct cg_host *h, const struct rt_cgroup *cg,
                         const struct rt_device_rule *user, size_t n_user, struct gerr **err)
{
        size_t n = n_user + ARRAY_SIZE(default_rules);
        _cleanup_free_ struct rt_device_rule *all = malloc(n * sizeof(*all));
        if (all == NULL)
                return gerr_set(err, ENOMEM, "device rules");
        if (n_user > 0)
                memcpy(all, user, n_user * sizeof(*all));
        memcpy(all + n_user, default_rules, sizeof(default_rules));
        const char *d = rt_cg_v1_dir(cg, "devices");
        if (d != NULL)
                return rt_cg_v1_devices(d, all, n, err);
        if (cg->unified != NULL && !h->fake)
                return rt_cg_bpf_devices(cg->unified, all, n, err);
        return 0;
}

/* ---- API ---- */

int rt_cgroup_create(const char *cgroups_path, const char *id, const struct rt_resources *res,
                     pid_t pid, struct rt_cgroup **out, struct gerr **err)
{
        const struct cg_host *h = rt_cg_host(err);
        if (h == NULL)
                return gerr_code(err != NULL ? *err : NULL);
        _cleanup_(rt_cgroup_freep) struct rt_cgroup *cg = calloc(1, sizeof(*cg));
        if (cg == NULL)
                return gerr_set(err, ENOMEM, "cgroup");
        cg->mode = h->mode;
        int r;
        if (cgroups_path == NULL || *cgroups_path == '\0') {
                if (id == NULL || *id == '\0' || strchr(id, '/') != NULL || strcmp(id, "..") == 0 ||
                    strcmp(id, ".") == 0)
                        return gerr_set(err, EINVAL, "cgroup for container id \"%s\"",
                                        id != NULL ? id : "");
                if (asprintf(&cg->path, "/gantry/%s", id) < 0)
                        return gerr_set(err, ENOMEM, "cgroup path");
                cg->own_parent = true;
        } else if ((r = normalize_path(cgroups_path, &cg->path, err)) < 0) {
                return r;
        }
        cg->v1 = calloc(h->n_v1 + 1, sizeof(*cg->v1));
        if (cg->v1 == NULL)
                return gerr_set(err, ENOMEM, "cgroup");
        for (size_t i = 0; i < h->n_v1; i++) {
                cg->v1[i].name = strdup(h->v1[i].name);
                cg->n_v1++;
                if (cg->v1[i].name == NULL)
                        return gerr_set(err, ENOMEM, "cgroup");
                r = hier_dir(h->v1[i].mnt, h->v1[i].root, h->v1[i].name, cg->path,
                             &cg->v1[i].dir, err);
                if (r < 0)
                        return r;
        }
        if (h->unified != NULL) {
                r = hier_dir(h->unified, h->unified_root, NULL, cg->path, &cg->unified, err);
                if (r < 0)
                        return r;
        }

        size_t nd = n_dirs(cg);
        _cleanup_free_ int *created = calloc(nd, sizeof(int));
        if (created == NULL)
                return gerr_set(err, ENOMEM, "cgroup");
        size_t joined = 0;
        r = 0;
        for (size_t i = 0; r == 0 && i < nd; i++) {
                const char *mnt = i < h->n_v1 ? h->v1[i].mnt : h->unified;
                bool cpuset = i < h->n_v1 && list_has(h->v1[i].name, "cpuset");
                _cleanup_free_ char *d = strdup(dir_at(cg, i));
                r = d != NULL ? make_levels(mnt, d, cpuset, &created[i], err)
                              : gerr_set(err, ENOMEM, "cgroup");
        }
        if (r == 0 && cg->unified != NULL) {
                /* Pure v2 enables everything (stats need it); hybrid only what v1 lacks. */
                unsigned want = h->mode == RT_CGROUP_V2 ? h->unified_avail : v2_needed(h, cg, res);
                if (want != 0)
                        r = rt_cg_v2_enable(h->unified, cg->unified, want, err);
        }
        if (r == 0 && res != NULL)
                r = apply(h, cg, res, false, err);
        if (r == 0)
                r = apply_devices(h, cg, res != NULL ? res->devices : NULL,
                                  res != NULL ? res->n_devices : 0, err);
        if (r == 0 && pid > 0)
                r = join_all(cg, pid, &joined, err);
        if (r < 0) {
                undo_create(h, cg, created, joined, pid);
                return gerr_wrap(err, "create cgroup %s", cg->path);
        }
        *out = TAKE_PTR(cg);
        return 0;
}

int rt_cgroup_enter(const struct rt_cgroup *cg, pid_t pid, struct gerr **err)
{
        return join_all(cg, pid, NULL, err);
}

int rt_cgroup_update(const struct rt_cgroup *cg, const struct rt_resources *res,
                     struct gerr **err)
{
        if (res == NULL)
                return 0;
        const struct cg_host *h = rt_cg_host(err);
        if (h == NULL)
                return gerr_code(err != NULL ? *err : NULL);
        int r = 0;
        unsigned want = v2_needed(h, cg, res);
        if (want != 0 && h->unified != NULL)
                r = rt_cg_v2_enable(h->unified, cg->unified, want, err);
        if (r == 0)
                r = apply(h, cg, res, true, err);
        if (r == 0 && res->n_devices > 0)
                r = apply_devices(h, cg, res->devices, res->n_devices, err);
        return r < 0 ? gerr_wrap(err, "update cgroup %s", cg->path) : 0;
}

/* Where the processes are listed: pids (or memory) in v1, the cgroup2 directory otherwise. */
static const char *procs_dir(const struct rt_cgroup *cg)
{
        const char *d = NULL;
        if (cg->mode != RT_CGROUP_V2) {
                d = rt_cg_v1_dir(cg, "pids");
                if (d == NULL)
                        d = rt_cg_v1_dir(cg, "memory");
        }
        if (d == NULL)
                d = cg->unified;
        if (d == NULL && cg->n_v1 > 0)
                d = cg->v1[0].dir;
        return d;
}

static int collect_pids(const char *dir, bool top, pid_t **v, size_t *n, size_t *cap,
                        struct gerr **err)
{
        _cleanup_free_ char *text = NULL;
        int r = rt_cg_read(dir, "cgroup.procs", &text, NULL);
        if (r == -ENOENT && top)
                return 0; /* already gone */
        if (r < 0)
                return gerr_set(err, -r, "read %s/cgroup.procs", dir);
        for (char *p = text; *p != '\0';) {
                char *end;
                long pid = strtol(p, &end, 10);
                if (end == p)
                        break;
                if (*n == *cap) {
                        size_t nc = *cap ? *cap * 2 : 16;
                        pid_t *nv = realloc(*v, nc * sizeof(pid_t));
                        if (nv == NULL)
                                return gerr_set(err, ENOMEM, "pids");
                        *v = nv;
                        *cap = nc;
                }
                (*v)[(*n)++] = (pid_t)pid;
                p = end + strspn(end, "\n");
        }
        DIR *d = opendir(dir);
        if (d == NULL)
                return 0;
        struct dirent *de;
        r = 0;
        while (r == 0 && (de = readdir(d)) != NULL) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                char sub[PATH_MAX];
                if (join_path(sub, sizeof(sub), dir, de->d_name) == 0)
                        r = collect_pids(sub, false, v, n, cap, err);
        }
        closedir(d);
        return r;
}

int rt_cgroup_pids(const struct rt_cgroup *cg, pid_t **pids, size_t *n, struct gerr **err)
{
        *pids = NULL;
        *n = 0;
        const char *d = procs_dir(cg);
        if (d == NULL)
                return 0;
        size_t cap = 0;
        int r = collect_pids(d, true, pids, n, &cap, err);
        if (r < 0) {
                free(*pids);
                *pids = NULL;
                *n = 0;
        }
        return r;
}

static bool v1_freezing(const struct rt_cgroup *cg)
{
        const char *d = rt_cg_v1_dir(cg, "freezer");
        _cleanup_free_ char *s = NULL;
        return d != NULL && rt_cg_read(d, "freezer.state", &s, NULL) == 0 &&
               strcmp(s, "THAWED") != 0;
}

static int signal_pids(const struct rt_cgroup *cg, int sig, struct gerr **err)
{
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r = rt_cgroup_pids(cg, &pids, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (kill(pids[i], sig) < 0 && errno != ESRCH)
                        return gerr_set(err, errno, "kill %d", (int)pids[i]);
        return (int)n;
}

int rt_cgroup_kill_all(const struct rt_cgroup *cg, int sig, struct gerr **err)
{
        if (host_cache != NULL && host_cache->fake)
                return 0; /* the pids in a fake tree are not ours to signal */
        /* A v1-frozen task only dies once thawed. */
        bool thaw = sig == SIGKILL && v1_freezing(cg);
        int r = 0;
        if (!(sig == SIGKILL && cg->unified != NULL &&
              rt_cg_write_opt(cg->unified, "cgroup.kill", "1", NULL) == 0))
                r = signal_pids(cg, sig, err);
        if (thaw)
                rt_cg_write(rt_cg_v1_dir(cg, "freezer"), "freezer.state", "THAWED", NULL);
        return r < 0 ? r : 0;
}

/* After cgroup.kill the tasks exit asynchronously: re-read cgroup.events until "populated 0".
 * Not poll(): the kernel rate-limits that notification to one per 10 ms. */
static void wait_unpopulated(const char *dir, long deadline)
{
        char path[PATH_MAX];
        if (join_path(path, sizeof(path), dir, "cgroup.events") < 0)
                return;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        for (long us = 20;; us = us < 1000 ? us * 2 : us) {
                char buf[256];
                ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
                if (n <= 0)
                        return;
                buf[n] = '\0';
                const char *p = strstr(buf, "populated ");
                if (p == NULL || p[10] == '0' || now_ms() > deadline)
                        return;
                sleep_us(us);
        }
}

int rt_cgroup_destroy(const struct rt_cgroup *cg, struct gerr **err)
{
        bool fake = host_cache != NULL && host_cache->fake;
        long deadline = now_ms() + 1000;
        if (!fake) {
                bool thaw = v1_freezing(cg);
                bool killed = cg->unified != NULL &&
                              rt_cg_write_opt(cg->unified, "cgroup.kill", "1", NULL) == 0;
                if (thaw)
                        rt_cg_write(rt_cg_v1_dir(cg, "freezer"), "freezer.state", "THAWED", NULL);
                if (killed)
                        wait_unpopulated(cg->unified, deadline);
                /* Without cgroup.kill, new children can appear while we signal: loop. */
                while (!killed && signal_pids(cg, SIGKILL, NULL) > 0 && now_ms() < deadline)
                        sleep_us(1000);
        }
        int r = 0;
        for (size_t i = 0; i < n_dirs(cg); i++) {
                int rr = rm_tree(dir_at(cg, i), deadline, err);
                if (rr < 0 && r == 0)
                        r = rr;
        }
        /* The default parent "/gantry", when the path was ours, goes with its last container,
         * so that nothing of ours stays on the host; a create racing with this re-makes it
         * (make_levels retries). A given path's parents are its caller's (gantryd keeps its
         * "/gantry" while it runs: a cpuset directory costs milliseconds to make). */
        if (r == 0 && cg->own_parent) {
                for (size_t i = 0; i < n_dirs(cg); i++) {
                        char parent[PATH_MAX];
                        snprintf(parent, sizeof(parent), "%s", dir_at(cg, i));
                        char *slash = strrchr(parent, '/');
                        if (slash != NULL) {
                                *slash = '\0';
                                rmdir(parent);
                        }
                }
        }
        return r < 0 ? gerr_wrap(err, "remove cgroup %s", cg->path) : 0;
}

void rt_cgroup_remove_empty(const char *path)
{
        const struct cg_host *h = rt_cg_host(NULL);
        if (h == NULL || path == NULL || path[0] != '/' || strstr(path, "/..") != NULL)
                return;
        char dir[PATH_MAX];
        for (size_t i = 0; i < h->n_v1; i++)
                if (snprintf(dir, sizeof(dir), "%s%s", h->v1[i].mnt, path) < (int)sizeof(dir))
                        rmdir(dir);
        if (h->unified != NULL &&
            snprintf(dir, sizeof(dir), "%s%s", h->unified, path) < (int)sizeof(dir))
                rmdir(dir);
}

/* Poll file in dir until its line starting with `key` (or the whole file if key is NULL)
 * reads `want`. */
static bool settled(const char *dir, const char *file, const char *key, const char *want)
{
        _cleanup_free_ char *s = NULL;
        if (rt_cg_read(dir, file, &s, NULL) < 0)
                return false;
        if (key == NULL)
                return strcmp(s, want) == 0;
        size_t kl = strlen(key);
        for (char *line = s; line != NULL && *line != '\0';) {
                char *nl = strchr(line, '\n');
                if (nl != NULL)
                        *nl = '\0';
                if (strncmp(line, key, kl) == 0 && line[kl] == ' ')
                        return strcmp(line + kl + 1, want) == 0;
                line = nl != NULL ? nl + 1 : NULL;
        }
        return false;
}

int rt_cgroup_freeze(const struct rt_cgroup *cg, bool frozen, struct gerr **err)
{
        const char *d = rt_cg_v1_dir(cg, "freezer");
        const char *file, *val, *key, *want;
        if (d != NULL) {
                file = "freezer.state";
                val = want = frozen ? "FROZEN" : "THAWED";
                key = NULL;
        } else if (cg->unified != NULL) {
                d = cg->unified;
                file = "cgroup.freeze";
                val = want = frozen ? "1" : "0";
                key = "frozen";
        } else {
                return gerr_set(err, EOPNOTSUPP, "freeze cgroup %s: no freezer", cg->path);
        }
        const char *state_file = key != NULL ? "cgroup.events" : file;
        long deadline = now_ms() + 2000;
        for (int i = 0;; i++) {
                /* The v1 freezer can stall in FREEZING; asking again nudges it (runc does). */
                if (i % 50 == 0) {
                        int r = rt_cg_write(d, file, val, err);
                        if (r < 0)
                                return r;
                }
                if (settled(d, state_file, key, want))
                        return 0;
                if (now_ms() > deadline) {
                        if (frozen)
                                rt_cg_write(d, file, key != NULL ? "0" : "THAWED", NULL);
                        return gerr_set(err, EBUSY, "%s cgroup %s: state did not settle",
                                        frozen ? "freeze" : "thaw", cg->path);
                }
                sleep_us(i < 10 ? 100 : 1000);
        }
}

bool rt_cgroup_is_frozen(const struct rt_cgroup *cg)
{
        const char *d = rt_cg_v1_dir(cg, "freezer");
        if (d != NULL)
                return settled(d, "freezer.state", NULL, "FROZEN");
        return cg->unified != NULL && settled(cg->unified, "cgroup.freeze", NULL, "1");
}

long rt_cgroup_oom_kills(const struct rt_cgroup *cg)
{
        const char *d = rt_cg_v1_dir(cg, "memory");
        const char *file = "memory.oom_control";
        if (d == NULL) {
                d = cg->unified;
                file = "memory.events";
        }
        _cleanup_free_ char *s = NULL;
        if (d == NULL || rt_cg_read(d, file, &s, NULL) < 0)
                return -1;
        for (char *line = s; line != NULL && *line != '\0';) {
                if (strncmp(line, "oom_kill ", 9) == 0)
                        return strtol(line + 9, NULL, 10);
                line = strchr(line, '\n');
                if (line != NULL)
                        line++;
        }
        return -1;
}

static const char *mode_names[] = {
        [RT_CGROUP_V1] = "v1",
        [RT_CGROUP_HYBRID] = "hybrid",
        [RT_CGROUP_V2] = "v2",
};

json_t *rt_cgroup_to_json(const struct rt_cgroup *cg)
{
        json_t *v1 = json_object();
        for (size_t i = 0; i < cg->n_v1; i++)
                json_object_set_new(v1, cg->v1[i].name, json_string(cg->v1[i].dir));
        return json_pack("{s:s, s:s, s:b, s:s*, s:o}", "mode", mode_names[cg->mode], "path",
                         cg->path, "ownParent", cg->own_parent, "unified", cg->unified, "v1", v1);
}

int rt_cgroup_from_json(json_t *j, struct rt_cgroup **out, struct gerr **err)
{
        const char *mode = NULL, *path = NULL, *unified = NULL;
        int own_parent = 0;
        json_t *v1 = NULL;
        json_error_t jerr;
        if (json_unpack_ex(j, &jerr, 0, "{s:s, s:s, s?b, s?s, s:o}", "mode", &mode, "path", &path,
                           "ownParent", &own_parent, "unified", &unified, "v1", &v1) < 0 ||
            !json_is_object(v1))
                return gerr_set(err, EINVAL, "cgroup state: %s", jerr.text);
        _cleanup_(rt_cgroup_freep) struct rt_cgroup *cg = calloc(1, sizeof(*cg));
        if (cg == NULL)
                return gerr_set(err, ENOMEM, "cgroup state");
        size_t m;
        for (m = 0; m < ARRAY_SIZE(mode_names); m++)
                if (strcmp(mode, mode_names[m]) == 0)
                        break;
        if (m == ARRAY_SIZE(mode_names))
                return gerr_set(err, EINVAL, "cgroup state: unknown mode \"%s\"", mode);
        cg->mode = (enum rt_cgroup_mode)m;
        cg->path = strdup(path);
        cg->own_parent = own_parent;
        cg->unified = unified != NULL ? strdup(unified) : NULL;
        cg->v1 = calloc(json_object_size(v1) + 1, sizeof(*cg->v1));
        if (cg->path == NULL || (unified != NULL && cg->unified == NULL) || cg->v1 == NULL)
                return gerr_set(err, ENOMEM, "cgroup state");
        const char *key;
        json_t *val;
        json_object_foreach(v1, key, val)
        {
                if (!json_is_string(val) || json_string_value(val)[0] != '/')
                        return gerr_set(err, EINVAL, "cgroup state: bad path for %s", key);
                cg->v1[cg->n_v1].name = strdup(key);
                cg->v1[cg->n_v1].dir = strdup(json_string_value(val));
                cg->n_v1++;
                if (cg->v1[cg->n_v1 - 1].name == NULL || cg->v1[cg->n_v1 - 1].dir == NULL)
                        return gerr_set(err, ENOMEM, "cgroup state");
        }
        *out = TAKE_PTR(cg);
        return 0;
}
