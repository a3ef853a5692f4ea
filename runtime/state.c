/* Per-container state kept under the runtime root: state.json, exec fifo, status. */
#include "runtime/state.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/timefmt.h"

static const char *const status_names[] = {"creating", "created", "running", "paused", "stopped"};

const char *rt_status_name(enum rt_status s)
{
        return status_names[s];
}

bool rt_id_valid(const char *id)
{
        if (id == NULL || *id == '\0' || strcmp(id, ".") == 0 || strcmp(id, "..") == 0 ||
            strlen(id) > 1024)
                return false;
        for (const char *p = id; *p; p++)
                if (*p == '/' || (unsigned char)*p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}

char *rt_state_dir(const struct rt_context *ctx, const char *id)
{
        char *s = NULL;
        if (asprintf(&s, "%s/%s", ctx->root, id) < 0)
                return NULL;
        return s;
}

int rt_state_mkdir(const struct rt_context *ctx, const char *id, struct gerr **err)
{
        if (!rt_id_valid(id))
                return gerr_set(err, EINVAL, "invalid container id \"%s\"", id ? id : "");
        if (mkdir(ctx->root, 0711) < 0 && errno != EEXIST) {
                int r = fs_mkdir_p(ctx->root, 0711, err);
                if (r < 0)
                        return r;
        }
        _cleanup_free_ char *dir = rt_state_dir(ctx, id);
        if (dir == NULL)
                return gerr_set(err, ENOMEM, "state dir");
        if (mkdir(dir, 0711) < 0) {
                if (errno == EEXIST) {
                        gerr_set(err, 0, "container \"%s\" already exists", id);
                        return -EEXIST;
                }
                return gerr_set(err, errno, "mkdir %s", dir);
        }
        return 0;
}

unsigned long long rt_proc_start_time(pid_t pid)
{
        char path[64], buf[1024];
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        /* comm may hold spaces and ')': fields restart after the last ')'. */
        char *p = strrchr(buf, ')');
        if (p == NULL)
                return 0;
        p += 2; /* field 3, the state */
        if (*p == 'Z' || *p == 'X')
                return 0;
        for (int field = 3; field < 22 && p != NULL; field++) {
                p = strchr(p, ' ');
                if (p != NULL)
                        p++;
        }
        return p ? strtoull(p, NULL, 10) : 0;
}

int rt_state_pidfd(const struct rt_state *st)
{
        if (st->pid <= 0)
                return -ESRCH;
        int fd = (int)syscall(SYS_pidfd_open, st->pid, 0);
        if (fd < 0)
                return -errno;
        /* The pidfd pins the process; check after opening that it is still ours. */
        if (rt_proc_start_time(st->pid) != st->pid_start) {
                close(fd);
                return -ESRCH;
        }
        return fd;
}

enum rt_status rt_state_status(const struct rt_state *st)
{
        if (st->pid <= 0)
                return RT_CREATING;
        if (rt_proc_start_time(st->pid) != st->pid_start)
                return RT_STOPPED;
        char fifo[4096];
        snprintf(fifo, sizeof(fifo), "%s/exec.fifo", st->dir);
        if (access(fifo, F_OK) == 0)
                return RT_CREATED;
        if (st->cgroup != NULL && rt_cgroup_is_frozen(st->cgroup))
                return RT_PAUSED;
        return RT_RUNNING;
}

char *rt_now_rfc3339(void)
{
        char buf[TIMEFMT_RFC3339_LEN];
        return strdup(timefmt_now(buf));
}

json_t *rt_hooks_to_json(const struct rt_hook_list *l)
{
        json_t *arr = json_array();
        for (size_t i = 0; i < l->n; i++) {
                const struct rt_hook *h = &l->v[i];
                json_t *o = json_pack("{s:s}", "path", h->path);
                if (h->args != NULL) {
                        json_t *a = json_array();
                        for (char **p = h->args; *p; p++)
                                json_array_append_new(a, json_string(*p));
                        json_object_set_new(o, "args", a);
                }
                if (h->env != NULL) {
                        json_t *a = json_array();
                        for (char **p = h->env; *p; p++)
                                json_array_append_new(a, json_string(*p));
                        json_object_set_new(o, "env", a);
                }
                if (h->timeout > 0)
                        json_object_set_new(o, "timeout", json_integer(h->timeout));
                json_array_append_new(arr, o);
        }
        return arr;
}

static char **strv_from_json(json_t *a)
{
        if (!json_is_array(a))
                return NULL;
        char **v = calloc(json_array_size(a) + 1, sizeof(char *));
        if (v == NULL)
                return NULL;
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e) v[i] = strdup(json_is_string(e) ? json_string_value(e) : "");
        return v;
}

void rt_hook_list_clear(struct rt_hook_list *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].path);
                strv_free(l->v[i].args);
                strv_free(l->v[i].env);
        }
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

int rt_hooks_from_json(json_t *arr, struct rt_hook_list *out)
{
        out->n = 0;
        out->v = calloc(json_array_size(arr) + 1, sizeof(struct rt_hook));
        if (out->v == NULL)
                return -ENOMEM;
        size_t i;
        json_t *o;
        json_array_foreach(arr, i, o)
        {
                struct rt_hook *h = &out->v[out->n++];
                h->path = strdup(json_string_value(json_object_get(o, "path")) ?: "");
                h->args = strv_from_json(json_object_get(o, "args"));
                h->env = strv_from_json(json_object_get(o, "env"));
                h->timeout = (int)json_integer_value(json_object_get(o, "timeout"));
        }
        return 0;
}

int rt_state_save(const struct rt_state *st, struct gerr **err)
{
        json_auto_t *o = json_pack("{s:s,s:I,s:I,s:s,s:s,s:s,s:I,s:b}", "id", st->id, "pid",
                                   (json_int_t)st->pid, "pid_start", (json_int_t)st->pid_start,
                                   "bundle", st->bundle, "rootfs", st->rootfs ? st->rootfs : "",
                                   "created", st->created ? st->created : "", "owner",
                                   (json_int_t)st->owner, "userns", st->has_ns_user);
        if (o == NULL)
                return gerr_set(err, ENOMEM, "state of %s", st->id);
        if (st->annotations != NULL)
                json_object_set(o, "annotations", st->annotations);
        if (st->poststart != NULL)
                json_object_set(o, "poststart", st->poststart);
        if (st->poststop != NULL)
                json_object_set(o, "poststop", st->poststop);
        if (st->cgroup != NULL)
                json_object_set_new(o, "cgroup", rt_cgroup_to_json(st->cgroup));
        _cleanup_free_ char *text = json_dumps(o, JSON_COMPACT);
        if (text == NULL)
                return gerr_set(err, ENOMEM, "state of %s", st->id);
        /* tmpfs: rename gives atomicity, fsync would buy nothing. */
        char tmp[4096], path[4096];
        snprintf(tmp, sizeof(tmp), "%s/state.json.tmp", st->dir);
        snprintf(path, sizeof(path), "%s/state.json", st->dir);
        int r = fs_write_file(tmp, text, strlen(text), err);
        if (r < 0)
                return r;
        if (rename(tmp, path) < 0)
                return gerr_set(err, errno, "rename %s", tmp);
        return 0;
}

void rt_state_free(struct rt_state *st)
{
        if (st == NULL)
                return;
        free(st->id);
        free(st->dir);
        free(st->bundle);
        free(st->rootfs);
        free(st->created);
        json_decref(st->annotations);
        json_decref(st->poststart);
        json_decref(st->poststop);
        rt_cgroup_free(st->cgroup);
        free(st);
}

static char *dup_field(json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));
        return strdup(s ? s : "");
}

int rt_state_load(const struct rt_context *ctx, const char *id, struct rt_state **out,
                  struct gerr **err)
{
        if (!rt_id_valid(id))
                return gerr_set(err, EINVAL, "invalid container id \"%s\"", id ? id : "");
        _cleanup_free_ char *dir = rt_state_dir(ctx, id);
        char path[4096];
        snprintf(path, sizeof(path), "%s/state.json", dir);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        struct gerr *e = NULL;
        if (fs_read_file(path, &text, &len, &e) < 0) {
                int code = e->errnum;
                gerr_free(e);
                if (code == ENOENT) {
                        if (access(dir, F_OK) == 0) {
                                /* The directory without state.json: create is still running. */
                                struct rt_state *st = calloc(1, sizeof(*st));
                                if (st == NULL)
                                        return -ENOMEM;
                                st->id = strdup(id);
                                st->dir = TAKE_PTR(dir);
                                st->bundle = strdup("");
                                *out = st;
                                return 0;
                        }
                        gerr_set(err, 0, "container \"%s\" does not exist", id);
                        return -ENOENT;
                }
                return gerr_set(err, code, "read %s", path);
        }
        json_error_t jerr;
        json_auto_t *o = json_loadb(text, len, 0, &jerr);
        if (o == NULL)
                return gerr_set(err, EINVAL, "%s: %s", path, jerr.text);
        struct rt_state *st = calloc(1, sizeof(*st));
        if (st == NULL)
                return -ENOMEM;
        st->id = strdup(id);
        st->dir = TAKE_PTR(dir);
        st->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
        st->pid_start = (unsigned long long)json_integer_value(json_object_get(o, "pid_start"));
        st->bundle = dup_field(o, "bundle");
        st->rootfs = dup_field(o, "rootfs");
        st->created = dup_field(o, "created");
        st->owner = (uid_t)json_integer_value(json_object_get(o, "owner"));
        st->has_ns_user = json_is_true(json_object_get(o, "userns"));
        st->annotations = json_incref(json_object_get(o, "annotations"));
        st->poststart = json_incref(json_object_get(o, "poststart"));
        st->poststop = json_incref(json_object_get(o, "poststop"));
        json_t *cg = json_object_get(o, "cgroup");
        if (cg != NULL) {
                int r = rt_cgroup_from_json(cg, &st->cgroup, err);
                if (r < 0) {
                        rt_state_free(st);
                        return r;
                }
        }
        *out = st;
        return 0;
}

json_t *rt_state_json(const struct rt_state *st, enum rt_status status)
{
        json_t *o = json_pack("{s:s,s:s,s:s}", "ociVersion", "1.1.0", "id", st->id, "status",
                              rt_status_name(status));
        /* Hooks run while creating also need the pid (runtime-spec: createRuntime hooks). */
        if (status != RT_STOPPED && st->pid > 0)
                json_object_set_new(o, "pid", json_integer(st->pid));
        else
                json_object_set_new(o, "pid", json_integer(0));
        json_object_set_new(o, "bundle", json_string(st->bundle ? st->bundle : ""));
        json_object_set_new(o, "rootfs", json_string(st->rootfs ? st->rootfs : ""));
        json_object_set_new(o, "created", json_string(st->created ? st->created : ""));
        json_object_set_new(o, "owner", json_string(""));
        if (st->annotations != NULL && json_object_size(st->annotations) > 0)
                json_object_set(o, "annotations", st->annotations);
        return o;
}

char *rt_state_json_string(const struct rt_state *st, enum rt_status status)
{
        json_auto_t *o = rt_state_json(st, status);
        return json_dumps(o, JSON_COMPACT);
}
