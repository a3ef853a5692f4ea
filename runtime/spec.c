/* Parse and validate config.json (OCI runtime-spec 1.1, Linux) into struct rt_spec. */
#include "runtime/spec.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

/* Parsing context: where errors go and the JSON path of the value being looked at. */
struct ctx {
        struct gerr **err;
        const char *file;
        size_t len;
        char path[512];
};

enum kind { K_OBJ, K_ARR, K_STR, K_BOOL, K_INT };

static size_t jp_push(struct ctx *c, const char *key)
{
        size_t old = c->len;
        int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "%s%s", c->len ? "." : "",
                         key);
        if (n > 0)
                c->len = c->len + (size_t)n < sizeof(c->path) ? c->len + (size_t)n
                                                             : sizeof(c->path) - 1;
        return old;
}

static size_t jp_index(struct ctx *c, size_t i)
{
        size_t old = c->len;
        int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "[%zu]", i);
        if (n > 0)
                c->len = c->len + (size_t)n < sizeof(c->path) ? c->len + (size_t)n
                                                             : sizeof(c->path) - 1;
        return old;
}

static void jp_pop(struct ctx *c, size_t old)
{
        c->len = old;
        c->path[old] = '\0';
}

/* Validation errors carry EINVAL but no ": Invalid argument" tail: the text says what is wrong. */
static int set_einval(struct gerr **err, char *msg)
{
        if (err == NULL || *err != NULL || msg == NULL) {
                free(msg);
                return -EINVAL;
        }
        struct gerr *e = calloc(1, sizeof(*e));
        if (e == NULL) {
                free(msg);
                return -ENOMEM;
        }
        e->errnum = EINVAL;
        e->msg = msg;
        *err = e;
        return -EINVAL;
}

static int perr(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(struct ctx *c, const char *fmt, ...)
{
        _cleanup_free_ char *what = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        char *msg = NULL;
        if (c->len > 0)
                n = asprintf(&msg, "%s: %s: %s", c->file, c->path, what);
        else
                n = asprintf(&msg, "%s: %s", c->file, what);
        if (n < 0)
                return -ENOMEM;
        return set_einval(c->err, msg);
}

static int oom(struct ctx *c)
{
        return gerr_set(c->err, ENOMEM, "parse %s", c->file);
}

static char *xstrdup(struct ctx *c, const char *s, int *r)
{
        char *d = strdup(s);
        if (d == NULL)
                *r = oom(c);
        return d;
}

static const char *type_name(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "an object";
        case JSON_ARRAY:
                return "an array";
        case JSON_STRING:
                return "a string";
        case JSON_INTEGER:
                return "an integer";
        case JSON_REAL:
                return "a real number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "a boolean";
        default:
                return "null";
        }
}

static int check_type(struct ctx *c, const json_t *v, enum kind k)
{
        static const char *const want[] = {
                [K_OBJ] = "an object",   [K_ARR] = "an array",   [K_STR] = "a string",
                [K_BOOL] = "a boolean", [K_INT] = "an integer",
        };
        bool ok = false;
        switch (k) {
        case K_OBJ:
                ok = json_is_object(v);
                break;
        case K_ARR:
                ok = json_is_array(v);
                break;
        case K_STR:
                ok = json_is_string(v);
                break;
        case K_BOOL:
                ok = json_is_boolean(v);
                break;
        case K_INT:
                ok = json_is_integer(v);
                break;
        }
        if (!ok)
                return perr(c, "must be %s, not %s", want[k], type_name(v));
        return 0;
}

/* A member of obj; JSON null counts as absent, as Go's encoding/json treats it. */
static int get(struct ctx *c, json_t *obj, const char *key, enum kind k, bool required,
               json_t **out)
{
        json_t *v = json_object_get(obj, key);
        if (json_is_null(v))
                v = NULL;
        *out = NULL;
        size_t old = jp_push(c, key);
        int r = 0;
        if (v == NULL) {
                if (required)
                        r = perr(c, "is required");
        } else {
                r = check_type(c, v, k);
        }
        jp_pop(c, old);
        if (r == 0)
                *out = v;
        return r;
}

static int get_str(struct ctx *c, json_t *obj, const char *key, bool required, char **dst)
{
        json_t *v;
        int r = get(c, obj, key, K_STR, required, &v);
        if (r < 0 || v == NULL)
                return r;
        free(*dst);
        *dst = xstrdup(c, json_string_value(v), &r);
        return r;
}

static int get_bool(struct ctx *c, json_t *obj, const char *key, bool required, bool *dst)
{
        json_t *v;
        int r = get(c, obj, key, K_BOOL, required, &v);
        if (r == 0 && v != NULL)
                *dst = json_is_true(v);
        return r;
}

/* An integer within [min, max]; *present (may be NULL) says whether it was given. */
static int get_int(struct ctx *c, json_t *obj, const char *key, bool required, int64_t min,
                   int64_t max, int64_t *dst, bool *present)
{
        json_t *v;
        int r = get(c, obj, key, K_INT, required, &v);
        if (present != NULL)
                *present = false;
        if (r < 0 || v == NULL)
                return r;
        int64_t x = json_integer_value(v);
        if (x < min || x > max) {
                size_t old = jp_push(c, key);
                r = perr(c, "%" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]", x, min, max);
                jp_pop(c, old);
                return r;
        }
        *dst = x;
        if (present != NULL)
                *present = true;
        return 0;
}

static int get_opt(struct ctx *c, json_t *obj, const char *key, struct opt_i64 *dst)
{
        return get_int(c, obj, key, false, INT64_MIN, INT64_MAX, &dst->v, &dst->set);
}

static int get_u32(struct ctx *c, json_t *obj, const char *key, bool required, uint32_t *dst,
                   bool *present)
{
        int64_t v;
        bool p;
        int r = get_int(c, obj, key, required, 0, UINT32_MAX, &v, &p);
        if (present != NULL)
                *present = p;
        if (r == 0 && p)
                *dst = (uint32_t)v;
        return r;
}

/* uint64 fields: jansson holds int64, so values above INT64_MAX arrive wrapped (see fix_bigints). */
static int get_u64(struct ctx *c, json_t *obj, const char *key, bool required, uint64_t *dst)
{
        int64_t v;
        bool present;
        int r = get_int(c, obj, key, required, INT64_MIN, INT64_MAX, &v, &present);
        if (r == 0 && present)
                *dst = (uint64_t)v;
        return r;
}

/* An array of strings into a NULL-terminated vector (NULL when absent). */
static int get_strv(struct ctx *c, json_t *obj, const char *key, bool required, char ***dst)
{
        json_t *a;
        int r = get(c, obj, key, K_ARR, required, &a);
        if (r < 0 || a == NULL)
                return r;
        size_t n = json_array_size(a);
        _cleanup_strv_ char **v = calloc(n + 1, sizeof(char *));
        if (v == NULL)
                return oom(c);
        size_t old = jp_push(c, key);
        for (size_t i = 0; i < n; i++) {
                json_t *e = json_array_get(a, i);
                size_t o2 = jp_index(c, i);
                r = check_type(c, e, K_STR);
                jp_pop(c, o2);
                if (r < 0)
                        break;
                v[i] = xstrdup(c, json_string_value(e), &r);
                if (r < 0)
                        break;
        }
        jp_pop(c, old);
        if (r < 0)
                return r;
        strv_free(*dst);
        *dst = TAKE_PTR(v);
        return 0;
}

/* An object whose values must all be strings, kept as a jansson reference (NULL when absent). */
static int get_str_map(struct ctx *c, json_t *obj, const char *key, json_t **dst)
{
        json_t *o;
        int r = get(c, obj, key, K_OBJ, false, &o);
        if (r < 0 || o == NULL)
                return r;
        size_t old = jp_push(c, key);
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v)
        {
                size_t o2 = jp_push(c, k);
                r = check_type(c, v, K_STR);
                jp_pop(c, o2);
                if (r < 0)
                        break;
        }
        jp_pop(c, old);
        if (r < 0)
                return r;
        json_decref(*dst);
        *dst = json_incref(o);
        return 0;
}

/* Iterate the objects of an optional array member: calls fn(c, element, i, arg) with the path set. */
typedef int (*elem_fn)(struct ctx *c, json_t *e, size_t i, void *arg);
static int each_obj(struct ctx *c, json_t *obj, const char *key, elem_fn fn, void *arg)
{
        json_t *a;
        int r = get(c, obj, key, K_ARR, false, &a);
        if (r < 0 || a == NULL)
                return r;
        size_t old = jp_push(c, key);
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e)
        {
                size_t o2 = jp_index(c, i);
                r = check_type(c, e, K_OBJ);
                if (r == 0)
                        r = fn(c, e, i, arg);
                jp_pop(c, o2);
                if (r < 0)
                        break;
        }
        jp_pop(c, old);
        return r;
}

/* calloc for n elements that also works for n == 0 (returns a valid pointer). */
static void *alloc_array(size_t n, size_t size)
{
        return calloc(n ? n : 1, size);
}

static size_t arr_len(json_t *obj, const char *key)
{
        json_t *a = json_object_get(obj, key);
        return json_is_array(a) ? json_array_size(a) : 0;
}

/* Allocate v for the array at key (zeroed, n set up front so that a failure half-way still frees
 * every entry), then parse its objects with fn. */
#define PARSE_ARRAY(c, o, key, v, n, fn)                                                           \
        ({                                                                                         \
                int _r;                                                                            \
                (n) = arr_len(o, key);                                                             \
                (v) = alloc_array((n), sizeof(*(v)));                                              \
                if ((v) == NULL) {                                                                 \
                        (n) = 0;                                                                   \
                        _r = oom(c);                                                               \
                } else {                                                                           \
                        _r = each_obj(c, o, key, fn, (v));                                         \
                }                                                                                  \
                _r;                                                                                \
        })

/* Lexical cleanup: collapse "//", drop "." components and a trailing "/". Keeps "..". */
static void path_clean(char *p)
{
        char *w = p;
        const char *r = p;
        bool abs = *r == '/';
        if (abs)
                *w++ = '/';
        while (*r != '\0') {
                while (*r == '/')
                        r++;
                const char *s = r;
                while (*r != '\0' && *r != '/')
                        r++;
                size_t n = (size_t)(r - s);
                if (n == 0 || (n == 1 && s[0] == '.'))
                        continue;
                if (w > p && w[-1] != '/')
                        *w++ = '/';
                memmove(w, s, n);
                w += n;
        }
        if (w == p)
                *w++ = abs ? '/' : '.';
        *w = '\0';
}

/* ---------- process ---------- */

struct name_val {
        const char *name;
        long val;
};

static const struct name_val rlimit_names[] = {
        { "RLIMIT_AS", RLIMIT_AS },
        { "RLIMIT_CORE", RLIMIT_CORE },
        { "RLIMIT_CPU", RLIMIT_CPU },
        { "RLIMIT_DATA", RLIMIT_DATA },
        { "RLIMIT_FSIZE", RLIMIT_FSIZE },
        { "RLIMIT_LOCKS", RLIMIT_LOCKS },
        { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
        { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
        { "RLIMIT_NICE", RLIMIT_NICE },
        { "RLIMIT_NOFILE", RLIMIT_NOFILE },
        { "RLIMIT_NPROC", RLIMIT_NPROC },
        { "RLIMIT_RSS", RLIMIT_RSS },
        { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
        { "RLIMIT_RTTIME", RLIMIT_RTTIME },
        { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
        { "RLIMIT_STACK", RLIMIT_STACK },
};

static const struct name_val *lookup(const struct name_val *t, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(t[i].name, name) == 0)
                        return &t[i];
        return NULL;
}
#define LOOKUP(table, name) lookup(table, ARRAY_SIZE(table), name)

static int parse_rlimit(struct ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_process *p = arg;
        struct rt_rlimit *rl = &p->rlimits[i];
        json_t *t;
        int r = get(c, e, "type", K_STR, true, &t);
        if (r < 0)
                return r;
        const struct name_val *nv = LOOKUP(rlimit_names, json_string_value(t));
        size_t old = jp_push(c, "type");
        if (nv == NULL)
                r = perr(c, "unknown rlimit \"%s\"", json_string_value(t));
        for (size_t j = 0; r == 0 && j < i; j++)
                if (p->rlimits[j].resource == (int)nv->val)
                        r = perr(c, "duplicate rlimit \"%s\"", nv->name);
        jp_pop(c, old);
        if (r < 0)
                return r;
        rl->resource = (int)nv->val;
        r = get_u64(c, e, "soft", true, &rl->soft);
        if (r == 0)
                r = get_u64(c, e, "hard", true, &rl->hard);
        return r;
}

static int parse_caps(struct ctx *c, json_t *o, struct rt_caps *caps)
{
        static const char *const sets[] = { "bounding", "effective", "inheritable", "permitted",
                                            "ambient" };
        uint64_t *masks[] = { &caps->bounding, &caps->effective, &caps->inheritable,
                              &caps->permitted, &caps->ambient };
        caps->present = true;
        for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
                json_t *a;
                int r = get(c, o, sets[s], K_ARR, false, &a);
                if (r < 0)
                        return r;
                if (a == NULL)
                        continue;
                size_t old = jp_push(c, sets[s]);
                size_t i;
                json_t *e;
                json_array_foreach(a, i, e)
                {
                        size_t o2 = jp_index(c, i);
                        r = check_type(c, e, K_STR);
                        int cap = r < 0 ? -1 : rt_cap_from_name(json_string_value(e));
                        if (r == 0 && cap < 0)
                                r = perr(c, "unknown capability \"%s\"", json_string_value(e));
                        jp_pop(c, o2);
                        if (r < 0)
                                break;
                        *masks[s] |= UINT64_C(1) << cap;
                }
                jp_pop(c, old);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_user(struct ctx *c, json_t *o, struct rt_process *p)
{
        uint32_t v = 0;
        bool present;
        int r = get_u32(c, o, "uid", true, &v, NULL);
        if (r < 0)
                return r;
        p->uid = v;
        r = get_u32(c, o, "gid", true, &v, NULL);
        if (r < 0)
                return r;
        p->gid = v;
        int64_t um;
        r = get_int(c, o, "umask", false, 0, 07777, &um, &present);
        if (r < 0)
                return r;
        if (present) {
                p->has_umask = true;
                p->umask = (mode_t)um;
        }
        json_t *a;
        r = get(c, o, "additionalGids", K_ARR, false, &a);
        if (r < 0 || a == NULL)
                return r;
        p->additional_gids = alloc_array(json_array_size(a), sizeof(gid_t));
        if (p->additional_gids == NULL)
                return oom(c);
        size_t old = jp_push(c, "additionalGids");
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e)
        {
                size_t o2 = jp_index(c, i);
                r = check_type(c, e, K_INT);
                if (r == 0 && (json_integer_value(e) < 0 || json_integer_value(e) > UINT32_MAX))
                        r = perr(c, "%" PRId64 " is not a valid gid",
                                 (int64_t)json_integer_value(e));
                jp_pop(c, o2);
                if (r < 0)
                        break;
                p->additional_gids[i] = (gid_t)json_integer_value(e);
                p->n_additional_gids = i + 1;
        }
        jp_pop(c, old);
        return r;
}

static void process_freep(struct rt_process **p)
{
        rt_process_free(*p);
}

static int parse_process(struct ctx *c, json_t *o, struct rt_process **out)
{
        _cleanup_(process_freep) struct rt_process *p = calloc(1, sizeof(*p));
        if (p == NULL)
                return oom(c);
        int r;
        json_t *v;

        if ((r = get_bool(c, o, "terminal", false, &p->terminal)) < 0)
                return r;
        if ((r = get(c, o, "consoleSize", K_OBJ, false, &v)) < 0)
                return r;
        if (v != NULL) {
                size_t old = jp_push(c, "consoleSize");
                uint32_t h = 0, w = 0;
                r = get_u32(c, v, "height", true, &h, NULL);
                if (r == 0)
                        r = get_u32(c, v, "width", true, &w, NULL);
                jp_pop(c, old);
                if (r < 0)
                        return r;
                p->has_console_size = true;
                p->console_height = h;
                p->console_width = w;
        }
        if ((r = get_str(c, o, "cwd", true, &p->cwd)) < 0)
                return r;
        if (p->cwd[0] != '/') {
                size_t old = jp_push(c, "cwd");
                r = perr(c, "\"%s\" is not an absolute path", p->cwd);
                jp_pop(c, old);
                return r;
        }
        if ((r = get_strv(c, o, "args", true, &p->args)) < 0)
                return r;
        if (p->args[0] == NULL) {
                size_t old = jp_push(c, "args");
                r = perr(c, "must not be empty");
                jp_pop(c, old);
                return r;
        }
        if ((r = get_strv(c, o, "env", false, &p->env)) < 0)
                return r;
        if (p->env == NULL && (p->env = calloc(1, sizeof(char *))) == NULL)
                return oom(c);

        if ((r = get(c, o, "user", K_OBJ, false, &v)) < 0)
                return r;
        if (v != NULL) {
                size_t old = jp_push(c, "user");
                r = parse_user(c, v, p);
                jp_pop(c, old);
                if (r < 0)
                        return r;
        }
        if ((r = get(c, o, "capabilities", K_OBJ, false, &v)) < 0)
                return r;
        if (v != NULL) {
                size_t old = jp_push(c, "capabilities");
                r = parse_caps(c, v, &p->caps);
                jp_pop(c, old);
                if (r < 0)
                        return r;
        }
        p->n_rlimits = arr_len(o, "rlimits");
        if ((p->rlimits = alloc_array(p->n_rlimits, sizeof(*p->rlimits))) == NULL)
                return oom(c);
        if ((r = each_obj(c, o, "rlimits", parse_rlimit, p)) < 0)
                return r;
        if ((r = get_bool(c, o, "noNewPrivileges", false, &p->no_new_privileges)) < 0)
                return r;
        if ((r = get_int(c, o, "oomScoreAdj", false, -1000, 1000, &p->oom_score_adj.v,
                         &p->oom_score_adj.set)) < 0)
                return r;
        if ((r = get_str(c, o, "apparmorProfile", false, &p->apparmor_profile)) < 0)
                return r;
        if ((r = get_str(c, o, "selinuxLabel", false, &p->selinux_label)) < 0)
                return r;
        *out = TAKE_PTR(p);
        return 0;
}

int rt_process_parse(json_t *obj, struct rt_process **out, struct gerr **err)
{
        struct ctx c = { .err = err, .file = "process.json" };
        *out = NULL;
        if (!json_is_object(obj))
                return perr(&c, "must be an object, not %s", obj ? type_name(obj) : "null");
        return parse_process(&c, obj, out);
}

void rt_process_free(struct rt_process *p)
{
        if (p == NULL)
                return;
        free(p->cwd);
        strv_free(p->args);
        strv_free(p->env);
        free(p->additional_gids);
        free(p->rlimits);
        free(p->apparmor_profile);
        free(p->selinux_label);
        free(p);
}

/* ---------- mounts ---------- */

struct mount_flag {
        const char *name;
        bool clear;
        unsigned long flag;
};

/* The mount(8) option names runc understands, as MS_* flags set or cleared. */
static const struct mount_flag mount_flags[] = {
        { "defaults", false, 0 },
        { "ro", false, MS_RDONLY },
        { "rw", true, MS_RDONLY },
        { "nosuid", false, MS_NOSUID },
        { "suid", true, MS_NOSUID },
        { "nodev", false, MS_NODEV },
        { "dev", true, MS_NODEV },
        { "noexec", false, MS_NOEXEC },
        { "exec", true, MS_NOEXEC },
        { "sync", false, MS_SYNCHRONOUS },
        { "async", true, MS_SYNCHRONOUS },
        { "dirsync", false, MS_DIRSYNC },
        { "remount", false, MS_REMOUNT },
        { "mand", false, MS_MANDLOCK },
        { "nomand", true, MS_MANDLOCK },
        { "noatime", false, MS_NOATIME },
        { "atime", true, MS_NOATIME },
        { "nodiratime", false, MS_NODIRATIME },
        { "diratime", true, MS_NODIRATIME },
        { "relatime", false, MS_RELATIME },
        { "norelatime", true, MS_RELATIME },
        { "strictatime", false, MS_STRICTATIME },
        { "nostrictatime", true, MS_STRICTATIME },
        { "silent", false, MS_SILENT },
        { "loud", true, MS_SILENT },
        { "iversion", false, MS_I_VERSION },
        { "noiversion", true, MS_I_VERSION },
        { "lazytime", false, MS_LAZYTIME },
        { "nolazytime", true, MS_LAZYTIME },
        { "bind", false, MS_BIND },
        { "rbind", false, MS_BIND | MS_REC },
};

static const struct mount_flag mount_propagation[] = {
        { "private", false, MS_PRIVATE },
        { "rprivate", false, MS_PRIVATE | MS_REC },
        { "shared", false, MS_SHARED },
        { "rshared", false, MS_SHARED | MS_REC },
        { "slave", false, MS_SLAVE },
        { "rslave", false, MS_SLAVE | MS_REC },
        { "unbindable", false, MS_UNBINDABLE },
        { "runbindable", false, MS_UNBINDABLE | MS_REC },
};

/* Recursive attributes applied with mount_setattr(AT_RECURSIVE) (runtime-spec 1.1). */
static const struct mount_flag mount_rec_attrs[] = {
        { "rro", false, MOUNT_ATTR_RDONLY },
        { "rrw", true, MOUNT_ATTR_RDONLY },
        { "rnosuid", false, MOUNT_ATTR_NOSUID },
        { "rsuid", true, MOUNT_ATTR_NOSUID },
        { "rnodev", false, MOUNT_ATTR_NODEV },
        { "rdev", true, MOUNT_ATTR_NODEV },
        { "rnoexec", false, MOUNT_ATTR_NOEXEC },
        { "rexec", true, MOUNT_ATTR_NOEXEC },
        { "rnodiratime", false, MOUNT_ATTR_NODIRATIME },
        { "rdiratime", true, MOUNT_ATTR_NODIRATIME },
        { "rrelatime", false, MOUNT_ATTR_RELATIME },
        { "rnorelatime", true, MOUNT_ATTR_RELATIME },
        { "rnoatime", false, MOUNT_ATTR_NOATIME },
        { "ratime", true, MOUNT_ATTR_NOATIME },
        { "rstrictatime", false, MOUNT_ATTR_STRICTATIME },
        { "rnostrictatime", true, MOUNT_ATTR_STRICTATIME },
        { "rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW },
        { "rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW },
};

static const struct mount_flag *find_flag(const struct mount_flag *t, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(t[i].name, name) == 0)
                        return &t[i];
        return NULL;
}

static int parse_idmap(struct ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_idmap *m = &((struct rt_idmap *)arg)[i];
        int r = get_u32(c, e, "containerID", true, &m->container_id, NULL);
        if (r == 0)
                r = get_u32(c, e, "hostID", true, &m->host_id, NULL);
        if (r == 0)
                r = get_u32(c, e, "size", true, &m->size, NULL);
        return r;
}

static int parse_idmaps(struct ctx *c, json_t *o, const char *key, struct rt_idmap **v, size_t *n)
{
        return PARSE_ARRAY(c, o, key, *v, *n, parse_idmap);
}

/* Append one option to the comma-joined data string. */
static int data_append(struct ctx *c, char **data, const char *opt)
{
        size_t old = *data ? strlen(*data) : 0, add = strlen(opt);
        char *n = realloc(*data, old + add + 2);
        if (n == NULL)
                return oom(c);
        if (old > 0)
                n[old++] = ',';
        memcpy(n + old, opt, add + 1);
        *data = n;
        return 0;
}

static int mount_option(struct ctx *c, struct rt_mount *m, const char *o)
{
        const struct mount_flag *f;
        if ((f = find_flag(mount_flags, ARRAY_SIZE(mount_flags), o)) != NULL) {
                if (f->clear) {
                        m->clear_flags |= f->flag;
                        m->flags &= ~f->flag;
                } else {
                        m->flags |= f->flag;
                        m->clear_flags &= ~f->flag;
                }
        } else if ((f = find_flag(mount_propagation, ARRAY_SIZE(mount_propagation), o)) != NULL) {
                m->propagation = f->flag;
        } else if ((f = find_flag(mount_rec_attrs, ARRAY_SIZE(mount_rec_attrs), o)) != NULL) {
                if (f->clear) {
                        m->rec_attr_clr |= f->flag;
                        m->rec_attr_set &= ~(uint64_t)f->flag;
                } else {
                        m->rec_attr_set |= f->flag;
                        /* mount_setattr(2): an atime mode in attr_set needs MOUNT_ATTR__ATIME in
                         * attr_clr. */
                        if ((f->flag & MOUNT_ATTR__ATIME) == f->flag)
                                m->rec_attr_clr |= MOUNT_ATTR__ATIME;
                        else
                                m->rec_attr_clr &= ~(uint64_t)f->flag;
                }
        } else if (strcmp(o, "tmpcopyup") == 0) {
                m->tmpcopyup = true;
        } else if (strcmp(o, "nosymfollow") == 0) {
                m->nosymfollow = true;
        } else if (strcmp(o, "symfollow") == 0) {
                m->nosymfollow = false;
        } else if (strcmp(o, "idmap") == 0 || strcmp(o, "ridmap") == 0) {
                /* Idmapped-ness comes from uid/gidMappings; the option itself is not fs data. */
        } else {
                return data_append(c, &m->data, o);
        }
        return 0;
}

static void mount_clear(struct rt_mount *m)
{
        free(m->destination);
        free(m->type);
        free(m->source);
        free(m->data);
        free(m->uid_mappings);
        free(m->gid_mappings);
}

static int parse_mount(struct ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_mount *m = &((struct rt_mount *)arg)[i];
        _cleanup_free_ char *dst = NULL;
        int r = get_str(c, e, "destination", true, &dst);
        if (r < 0)
                return r;
        if (dst[0] != '/') {
                /* runc takes a relative destination as relative to the container's "/". */
                char *abs = NULL;
                if (asprintf(&abs, "/%s", dst) < 0)
                        return oom(c);
                free(dst);
                dst = abs;
        }
        path_clean(dst);
        m->destination = TAKE_PTR(dst);
        if ((r = get_str(c, e, "type", false, &m->type)) < 0)
                return r;
        if ((r = get_str(c, e, "source", false, &m->source)) < 0)
                return r;
        _cleanup_strv_ char **opts = NULL;
        if ((r = get_strv(c, e, "options", false, &opts)) < 0)
                return r;
        for (char **o = opts; o && *o; o++)
                if ((r = mount_option(c, m, *o)) < 0)
                        return r;
        if (m->type != NULL && strcmp(m->type, "bind") == 0)
                m->flags |= MS_BIND;
        if ((r = parse_idmaps(c, e, "uidMappings", &m->uid_mappings, &m->n_uid_mappings)) < 0)
                return r;
        if ((r = parse_idmaps(c, e, "gidMappings", &m->gid_mappings, &m->n_gid_mappings)) < 0)
                return r;
        if (m->n_uid_mappings == 0 && m->n_gid_mappings == 0) {
                free(m->uid_mappings);
                free(m->gid_mappings);
                m->uid_mappings = m->gid_mappings = NULL;
        }
        return 0;
}

/* ---------- hooks ---------- */

static const char *const hook_keys[RT_HOOK__MAX] = {
        [RT_HOOK_PRESTART] = "prestart",
        [RT_HOOK_CREATE_RUNTIME] = "createRuntime",
        [RT_HOOK_CREATE_CONTAINER] = "createContainer",
        [RT_HOOK_START_CONTAINER] = "startContainer",
        [RT_HOOK_POSTSTART] = "poststart",
        [RT_HOOK_POSTSTOP] = "poststop",
};

static int parse_hook(struct ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_hook *h = &((struct rt_hook *)arg)[i];
        int r = get_str(c, e, "path", true, &h->path);
        if (r == 0)
                r = get_strv(c, e, "args", false, &h->args);
        if (r == 0)
                r = get_strv(c, e, "env", false, &h->env);
        int64_t t = 0;
        bool present;
        if (r == 0)
                r = get_int(c, e, "timeout", false, INT64_MIN, INT64_MAX, &t, &present);
        if (r == 0 && present) {
                size_t old = jp_push(c, "timeout");
                if (t <= 0 || t > INT_MAX)
                        r = perr(c, "must be greater than zero");
                jp_pop(c, old);
                h->timeout = (int)t;
        }
        return r;
}

static int parse_hooks(struct ctx *c, json_t *o, struct rt_spec *s)
{
        for (int k = 0; k < RT_HOOK__MAX; k++) {
                int r = PARSE_ARRAY(c, o, hook_keys[k], s->hooks[k].v, s->hooks[k].n, parse_hook);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---------- linux ---------- */

static const struct name_val ns_names[] = {
        { "pid", CLONE_NEWPID },       { "network", CLONE_NEWNET }, { "mount", CLONE_NEWNS },
        { "ipc", CLONE_NEWIPC },       { "uts", CLONE_NEWUTS },     { "user", CLONE_NEWUSER },
        { "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
};

static int parse_namespace(struct ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_namespace *v = arg;
        json_t *t;
        int r = get(c, e, "type", K_STR, true, &t);
        if (r < 0)
                return r;
        const struct name_val *nv = LOOKUP(ns_names, json_string_value(t));
        size_t old = jp_push(c, "type");
        if (nv == NULL)
                r = perr(c, "unknown namespace type \"%s\"", json_string_value(t));
        for (size_t j = 0; r == 0 && j < i; j++)
                if (v[j].type == nv->val)
                        r = perr(c, "duplicate namespace type \"%s\"", nv->name);
        jp_pop(c, old);
        if (r < 0)
                return r;
        v[i].type = (int)nv->val;
        return get_str(c, e, "path", false, &v[i].path);
}

static int parse_device(struct ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_device *d = &((struct rt_device *)arg)[i];
        json_t *t;
        int r = get_str(c, e, "path", true, &d->path);
        if (r < 0)
                return r;
        if ((r = get(c, e, "type", K_STR, true, &t)) < 0)
                return r;
        const char *ts = json_string_value(t);
        if (strlen(ts) != 1 || strchr("cbup", ts[0]) == NULL) {
                size_t old = jp_push(c, "type");
                r = perr(c, "unknown device type \"%s\"", ts);
                jp_pop(c, old);
                return r;
        }
        d->type = ts[0];
        bool need_nums = d->type != 'p';
        if ((r = get_int(c, e, "major", need_nums, INT64_MIN, INT64_MAX, &d->major, NULL)) < 0)
                return r;
        if ((r = get_int(c, e, "minor", need_nums, INT64_MIN, INT64_MAX, &d->minor, NULL)) < 0)
                return r;
        int64_t mode;
        if ((r = get_int(c, e, "fileMode", false, 0, 07777, &mode, &d->has_file_mode)) < 0)
                return r;
        d->file_mode = (mode_t)mode;
        uint32_t id = 0;
        if ((r = get_u32(c, e, "uid", false, &id, &d->has_uid)) < 0)
                return r;
        d->uid = id;
        if ((r = get_u32(c, e, "gid", false, &id, &d->has_gid)) < 0)
                return r;
        d->gid = id;
        return 0;
}

static int parse_device_rule(struct ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_device_rule *d = &((struct rt_device_rule *)arg)[i];
        int r = get_bool(c, e, "allow", true, &d->allow);
        if (r < 0)
                return r;
        d->type = 'a';
        d->major = d->minor = -1;
        json_t *t;
        if ((r = get(c, e, "type", K_STR, false, &t)) < 0)
                return r;
        if (t != NULL) {
                const char *ts = json_string_value(t);
                if (strlen(ts) != 1 || strchr("acb", ts[0]) == NULL) {
                        size_t old = jp_push(c, "type");
                        r = perr(c, "unknown device type \"%s\"", ts);
                        jp_pop(c, old);
                        return r;
                }
                d->type = ts[0];
        }
        if ((r = get_int(c, e, "major", false, -1, INT64_MAX, &d->major, NULL)) < 0)
                return r;
        if ((r = get_int(c, e, "minor", false, -1, INT64_MAX, &d->minor, NULL)) < 0)
                return r;
        if ((r = get(c, e, "access", K_STR, false, &t)) < 0)
                return r;
        /* crun's default: a rule without access covers everything. */
        const char *a = t ? json_string_value(t) : "rwm";
        size_t n = strlen(a);
        bool ok = n <= 3;
        for (size_t j = 0; ok && j < n; j++)
                ok = strchr("rwm", a[j]) != NULL && memchr(a, a[j], j) == NULL;
        if (!ok) {
                size_t old = jp_push(c, "access");
                r = perr(c, "invalid access \"%s\" (a subset of \"rwm\")", a);
                jp_pop(c, old);
                return r;
        }
        memcpy(d->access, a, n + 1);
        return 0;
}

static int parse_weight_device(struct ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_weight_device *d = &((struct rt_weight_device *)arg)[i];
        int r = get_int(c, e, "major", true, INT64_MIN, INT64_MAX, &d->major, NULL);
        if (r == 0)
                r = get_int(c, e, "minor", true, INT64_MIN, INT64_MAX, &d->minor, NULL);
        if (r == 0)
                r = get_int(c, e, "weight", false, 0, UINT16_MAX, &d->weight.v, &d->weight.set);
        if (r == 0)
                r = get_int(c, e, "leafWeight", false, 0, UINT16_MAX, &d->leaf_weight.v,
                            &d->leaf_weight.set);
        return r;
}

static int parse_throttle_device(struct ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_throttle_device *d = &((struct rt_throttle_device *)arg)[i];
        int r = get_int(c, e, "major", true, INT64_MIN, INT64_MAX, &d->major, NULL);
        if (r == 0)
                r = get_int(c, e, "minor", true, INT64_MIN, INT64_MAX, &d->minor, NULL);
        if (r == 0)
                r = get_u64(c, e, "rate", true, &d->rate);
        return r;
}

static int parse_hugepage(struct ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_hugepage_limit *h = &((struct rt_hugepage_limit *)arg)[i];
        int r = get_str(c, e, "pageSize", true, &h->pagesize);
        if (r == 0)
                r = get_u64(c, e, "limit", true, &h->limit);
        return r;
}

static int parse_net_priority(struct ctx *c, json_t *e, size_t i, void *arg)
{
        json_t *v;
        int r = get(c, e, "name", K_STR, true, &v);
        uint32_t prio;
        if (r == 0)
                r = get_u32(c, e, "priority", true, &prio, NULL);
        return r;
}

static int parse_memory(struct ctx *c, json_t *o, struct rt_resources *res)
{
        int r;
        if ((r = get_opt(c, o, "limit", &res->memory.limit)) < 0 ||
            (r = get_opt(c, o, "reservation", &res->memory.reservation)) < 0 ||
            (r = get_opt(c, o, "swap", &res->memory.swap)) < 0 ||
            (r = get_opt(c, o, "kernel", &res->memory.kernel)) < 0 ||
            (r = get_opt(c, o, "kernelTCP", &res->memory.kernel_tcp)) < 0 ||
            (r = get_opt(c, o, "swappiness", &res->memory.swappiness)) < 0 ||
            (r = get_bool(c, o, "disableOOMKiller", false, &res->memory.disable_oom_killer)) < 0 ||
            (r = get_bool(c, o, "useHierarchy", false, &res->memory.use_hierarchy)) < 0 ||
            (r = get_bool(c, o, "checkBeforeUpdate", false, &res->memory.check_before_update)) < 0)
                return r;
        return 0;
}

static int parse_cpu(struct ctx *c, json_t *o, struct rt_resources *res)
{
        int r;
        if ((r = get_opt(c, o, "shares", &res->cpu.shares)) < 0 ||
            (r = get_opt(c, o, "quota", &res->cpu.quota)) < 0 ||
            (r = get_opt(c, o, "burst", &res->cpu.burst)) < 0 ||
            (r = get_opt(c, o, "period", &res->cpu.period)) < 0 ||
            (r = get_opt(c, o, "realtimeRuntime", &res->cpu.realtime_runtime)) < 0 ||
            (r = get_opt(c, o, "realtimePeriod", &res->cpu.realtime_period)) < 0 ||
            (r = get_opt(c, o, "idle", &res->cpu.idle)) < 0 ||
            (r = get_str(c, o, "cpus", false, &res->cpu.cpus)) < 0 ||
            (r = get_str(c, o, "mems", false, &res->cpu.mems)) < 0)
                return r;
        return 0;
}

static int parse_blkio(struct ctx *c, json_t *o, struct rt_resources *res)
{
        int r;
        if ((r = get_int(c, o, "weight", false, 0, UINT16_MAX, &res->blkio.weight.v,
                         &res->blkio.weight.set)) < 0 ||
            (r = get_int(c, o, "leafWeight", false, 0, UINT16_MAX, &res->blkio.leaf_weight.v,
                         &res->blkio.leaf_weight.set)) < 0)
                return r;
        if ((r = PARSE_ARRAY(c, o, "weightDevice", res->blkio.weight_device,
                             res->blkio.n_weight_device, parse_weight_device)) < 0 ||
            (r = PARSE_ARRAY(c, o, "throttleReadBpsDevice", res->blkio.throttle_read_bps,
                             res->blkio.n_throttle_read_bps, parse_throttle_device)) < 0 ||
            (r = PARSE_ARRAY(c, o, "throttleWriteBpsDevice", res->blkio.throttle_write_bps,
                             res->blkio.n_throttle_write_bps, parse_throttle_device)) < 0 ||
            (r = PARSE_ARRAY(c, o, "throttleReadIOPSDevice", res->blkio.throttle_read_iops,
                             res->blkio.n_throttle_read_iops, parse_throttle_device)) < 0 ||
            (r = PARSE_ARRAY(c, o, "throttleWriteIOPSDevice", res->blkio.throttle_write_iops,
                             res->blkio.n_throttle_write_iops, parse_throttle_device)) < 0)
                return r;
        return 0;
}

/* Parse a sub-object at key with fn, path pushed; absent is fine. */
static int sub_obj(struct ctx *c, json_t *o, const char *key, void *arg,
                   int (*fn)(struct ctx *, json_t *, void *))
{
        json_t *v;
        int r = get(c, o, key, K_OBJ, false, &v);
        if (r < 0 || v == NULL)
                return r;
        size_t old = jp_push(c, key);
        r = fn(c, v, arg);
        jp_pop(c, old);
        return r;
}

static int parse_pids(struct ctx *c, json_t *o, void *arg)
{
        struct rt_resources *res = arg;
        return get_opt(c, o, "limit", &res->pids_limit);
}

static int parse_network(struct ctx *c, json_t *o, void *arg)
{
        struct rt_resources *res = arg;
        int64_t v = 0;
        int r = get_int(c, o, "classID", false, 0, UINT32_MAX, &v, &res->network.class_id.set);
        if (r < 0)
                return r;
        res->network.class_id.v = v;
        if ((r = each_obj(c, o, "priorities", parse_net_priority, NULL)) < 0)
                return r;
        json_t *p = json_object_get(o, "priorities");
        if (json_is_array(p))
                res->network.priorities = json_incref(p);
        return 0;
}

static int memory_cb(struct ctx *c, json_t *o, void *arg)
{
        return parse_memory(c, o, arg);
}
static int cpu_cb(struct ctx *c, json_t *o, void *arg)
{
        return parse_cpu(c, o, arg);
}
static int blkio_cb(struct ctx *c, json_t *o, void *arg)
{
        return parse_blkio(c, o, arg);
}

static void resources_free(struct rt_resources *res)
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

static int parse_resources(struct ctx *c, json_t *o, void *arg)
{
        struct rt_resources *res = arg;
        int r;
        if ((r = sub_obj(c, o, "memory", res, memory_cb)) < 0 ||
            (r = sub_obj(c, o, "cpu", res, cpu_cb)) < 0 ||
            (r = sub_obj(c, o, "pids", res, parse_pids)) < 0 ||
            (r = sub_obj(c, o, "blockIO", res, blkio_cb)) < 0 ||
            (r = sub_obj(c, o, "network", res, parse_network)) < 0)
                return r;
        if ((r = PARSE_ARRAY(c, o, "hugepageLimits", res->hugepage_limits,
                             res->n_hugepage_limits, parse_hugepage)) < 0 ||
            (r = PARSE_ARRAY(c, o, "devices", res->devices, res->n_devices,
                             parse_device_rule)) < 0)
                return r;
        return get_str_map(c, o, "unified", &res->unified);
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

static const struct name_val seccomp_actions[] = {
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

static const struct name_val seccomp_ops[] = {
        { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
        { "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
        { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
        { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

/* A string member whose value must be one of a table's names. */
static int get_enum(struct ctx *c, json_t *o, const char *key, bool required,
                    const struct name_val *t, size_t n, const char *what, long *dst, bool *present)
{
        json_t *v;
        int r = get(c, o, key, K_STR, required, &v);
        if (present != NULL)
                *present = v != NULL;
        if (r < 0 || v == NULL)
                return r;
        const struct name_val *nv = lookup(t, n, json_string_value(v));
        if (nv == NULL) {
                size_t old = jp_push(c, key);
                r = perr(c, "unknown %s \"%s\"", what, json_string_value(v));
                jp_pop(c, old);
                return r;
        }
        *dst = nv->val;
        return 0;
}

/* A string array member whose entries must all be in names. */
static int get_strv_in(struct ctx *c, json_t *o, const char *key, const char *const *names,
                       size_t n, const char *what, char ***dst)
{
        int r = get_strv(c, o, key, false, dst);
        if (r < 0 || *dst == NULL)
                return r;
        for (size_t i = 0; (*dst)[i] != NULL; i++) {
                bool ok = false;
                for (size_t j = 0; j < n && !ok; j++)
                        ok = strcmp(names[j], (*dst)[i]) == 0;
                if (!ok) {
                        size_t old = jp_push(c, key);
                        jp_index(c, i);
                        r = perr(c, "unknown %s \"%s\"", what, (*dst)[i]);
                        jp_pop(c, old);
                        return r;
                }
        }
        return 0;
}

/* errnoRet only makes sense for actions that carry a value (runtime-spec: MUST error). */
static int check_errno_ret(struct ctx *c, const char *key, uint32_t action, struct opt_i64 *v)
{
        if (!v->set || action == SCMP_ACT_ERRNO(0) || action == SCMP_ACT_TRACE(0))
                return 0;
        size_t old = jp_push(c, key);
        int r = perr(c, "is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
        jp_pop(c, old);
        return r;
}

static int parse_seccomp_arg(struct ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_seccomp_arg *a = &((struct rt_seccomp_arg *)arg)[i];
        int64_t idx = 0;
        long op = 0;
        int r = get_int(c, e, "index", true, 0, 5, &idx, NULL);
        if (r < 0)
                return r;
        a->index = (unsigned)idx;
        if ((r = get_u64(c, e, "value", true, &a->value)) < 0 ||
            (r = get_u64(c, e, "valueTwo", false, &a->value_two)) < 0 ||
            (r = get_enum(c, e, "op", true, seccomp_ops, ARRAY_SIZE(seccomp_ops),
                          "seccomp operator", &op, NULL)) < 0)
                return r;
        a->op = (int)op;
        return 0;
}

static int parse_seccomp_rule(struct ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_seccomp_rule *s = &((struct rt_seccomp_rule *)arg)[i];
        int r = get_strv(c, e, "names", true, &s->names);
        if (r < 0)
                return r;
        if (s->names[0] == NULL) {
                size_t old = jp_push(c, "names");
                r = perr(c, "must not be empty");
                jp_pop(c, old);
                return r;
        }
        long act;
        if ((r = get_enum(c, e, "action", true, seccomp_actions, ARRAY_SIZE(seccomp_actions),
                          "seccomp action", &act, NULL)) < 0)
                return r;
        s->action = (uint32_t)act;
        if ((r = get_int(c, e, "errnoRet", false, 0, UINT32_MAX, &s->errno_ret.v,
                         &s->errno_ret.set)) < 0 ||
            (r = check_errno_ret(c, "errnoRet", s->action, &s->errno_ret)) < 0)
                return r;
        return PARSE_ARRAY(c, e, "args", s->args, s->n_args, parse_seccomp_arg);
}

static void seccomp_free(struct rt_seccomp *s)
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

static int parse_seccomp(struct ctx *c, json_t *o, void *arg)
{
        struct rt_seccomp *s = arg;
        long act;
        int r;
        if ((r = get_enum(c, o, "defaultAction", true, seccomp_actions,
                          ARRAY_SIZE(seccomp_actions), "seccomp action", &act, NULL)) < 0)
                return r;
        s->default_action = (uint32_t)act;
        if ((r = get_int(c, o, "defaultErrnoRet", false, 0, UINT32_MAX, &s->default_errno_ret.v,
                         &s->default_errno_ret.set)) < 0 ||
            (r = check_errno_ret(c, "defaultErrnoRet", s->default_action,
                                 &s->default_errno_ret)) < 0 ||
            (r = get_strv_in(c, o, "architectures", seccomp_archs, ARRAY_SIZE(seccomp_archs),
                             "seccomp architecture", &s->architectures)) < 0 ||
            (r = get_strv_in(c, o, "flags", seccomp_flags, ARRAY_SIZE(seccomp_flags),
                             "seccomp flag", &s->flags)) < 0 ||
            (r = get_str(c, o, "listenerPath", false, &s->listener_path)) < 0 ||
            (r = get_str(c, o, "listenerMetadata", false, &s->listener_metadata)) < 0)
                return r;
        return PARSE_ARRAY(c, o, "syscalls", s->rules, s->n_rules, parse_seccomp_rule);
}

static const struct name_val personality_flags[] = {
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

static const struct name_val personality_domains[] = {
        { "LINUX", PER_LINUX },
        { "LINUX32", PER_LINUX32 },
};

static int parse_personality(struct ctx *c, json_t *o, void *arg)
{
        struct rt_linux *l = arg;
        long dom = 0;
        int r = get_enum(c, o, "domain", true, personality_domains,
                         ARRAY_SIZE(personality_domains), "personality domain", &dom, NULL);
        if (r < 0)
                return r;
        l->has_personality = true;
        l->personality = (unsigned long)dom;
        json_t *a;
        if ((r = get(c, o, "flags", K_ARR, false, &a)) < 0 || a == NULL)
                return r;
        size_t old = jp_push(c, "flags");
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e)
        {
                size_t o2 = jp_index(c, i);
                r = check_type(c, e, K_STR);
                const struct name_val *nv =
                        r < 0 ? NULL : LOOKUP(personality_flags, json_string_value(e));
                if (r == 0 && nv == NULL)
                        r = perr(c, "unknown personality flag \"%s\"", json_string_value(e));
                jp_pop(c, o2);
                if (r < 0)
                        break;
                l->personality |= (unsigned long)nv->val;
        }
        jp_pop(c, old);
        return r;
}

static int parse_time_offset(struct ctx *c, json_t *o, const char *key, int64_t *secs,
                             uint32_t *nsecs)
{
        json_t *v;
        int r = get(c, o, key, K_OBJ, false, &v);
        if (r < 0 || v == NULL)
                return r;
        size_t old = jp_push(c, key);
        int64_t ns = 0;
        r = get_int(c, v, "secs", false, INT64_MIN, INT64_MAX, secs, NULL);
        if (r == 0)
                r = get_int(c, v, "nanosecs", false, 0, 999999999, &ns, NULL);
        *nsecs = (uint32_t)ns;
        jp_pop(c, old);
        return r;
}

static int parse_time_offsets(struct ctx *c, json_t *o, void *arg)
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

static const struct name_val rootfs_propagations[] = {
        { "private", MS_PRIVATE },
        { "rprivate", MS_PRIVATE | MS_REC },
        { "shared", MS_SHARED },
        { "rshared", MS_SHARED | MS_REC },
        { "slave", MS_SLAVE },
        { "rslave", MS_SLAVE | MS_REC },
        { "unbindable", MS_UNBINDABLE },
        { "runbindable", MS_UNBINDABLE | MS_REC },
};

static int parse_linux(struct ctx *c, json_t *o, void *arg)
{
        struct rt_linux *l = arg;
        int r;
        if ((r = PARSE_ARRAY(c, o, "namespaces", l->namespaces, l->n_namespaces,
                             parse_namespace)) < 0)
                return r;
        if ((r = parse_idmaps(c, o, "uidMappings", &l->uid_mappings, &l->n_uid_mappings)) < 0 ||
            (r = parse_idmaps(c, o, "gidMappings", &l->gid_mappings, &l->n_gid_mappings)) < 0)
                return r;
        if ((r = PARSE_ARRAY(c, o, "devices", l->devices, l->n_devices, parse_device)) < 0)
                return r;
        if ((r = get_str(c, o, "cgroupsPath", false, &l->cgroups_path)) < 0)
                return r;
        json_t *v;
        if ((r = get(c, o, "resources", K_OBJ, false, &v)) < 0)
                return r;
        if (v != NULL) {
                if ((l->resources = calloc(1, sizeof(*l->resources))) == NULL)
                        return oom(c);
                if ((r = sub_obj(c, o, "resources", l->resources, parse_resources)) < 0)
                        return r;
        }
        if ((r = get_str_map(c, o, "sysctl", &l->sysctl)) < 0 ||
            (r = get_strv(c, o, "maskedPaths", false, &l->masked_paths)) < 0 ||
            (r = get_strv(c, o, "readonlyPaths", false, &l->readonly_paths)) < 0)
                return r;
        long prop = 0;
        bool has_prop;
        if ((r = get_enum(c, o, "rootfsPropagation", false, rootfs_propagations,
                          ARRAY_SIZE(rootfs_propagations), "rootfs propagation", &prop,
                          &has_prop)) < 0)
                return r;
        if (has_prop)
                l->rootfs_propagation = (unsigned long)prop;
        if ((r = get(c, o, "seccomp", K_OBJ, false, &v)) < 0)
                return r;
        if (v != NULL) {
                if ((l->seccomp = calloc(1, sizeof(*l->seccomp))) == NULL)
                        return oom(c);
                if ((r = sub_obj(c, o, "seccomp", l->seccomp, parse_seccomp)) < 0)
                        return r;
        }
        if ((r = sub_obj(c, o, "personality", l, parse_personality)) < 0 ||
            (r = get_str(c, o, "mountLabel", false, &l->mount_label)) < 0 ||
            (r = sub_obj(c, o, "timeOffsets", l, parse_time_offsets)) < 0)
                return r;
        return 0;
}

/* ---------- top level ---------- */

/* jansson holds integers as int64; runtime-spec has uint64 fields (rlimits, seccomp values,
 * memory limits) that tools fill with values up to UINT64_MAX. Rewrite such literals as the
 * int64 with the same bits so they parse; get_u64 casts them back. */
static char *fix_bigints(const char *text, size_t len, size_t *out_len)
{
        /* A 19-digit value above INT64_MAX comes out as "-" plus 19 digits: one byte longer. */
        char *out = malloc(len + len / 19 + 2);
        if (out == NULL)
                return NULL;
        size_t o = 0;
        for (size_t i = 0; i < len;) {
                char ch = text[i];
                if (ch == '"') {
                        out[o++] = text[i++];
                        while (i < len && text[i] != '"') {
                                if (text[i] == '\\' && i + 1 < len)
                                        out[o++] = text[i++];
                                out[o++] = text[i++];
                        }
                        if (i < len)
                                out[o++] = text[i++];
                        continue;
                }
                if (ch != '-' && (ch < '0' || ch > '9')) {
                        out[o++] = text[i++];
                        continue;
                }
                /* A whole number token; only a plain unsigned integer is rewritten. */
                size_t s = i;
                bool plain = ch != '-';
                while (i < len && strchr("0123456789.eE+-", text[i]) != NULL && text[i] != '\0') {
                        if (text[i] < '0' || text[i] > '9')
                                plain = false;
                        i++;
                }
                size_t n = i - s;
                if (plain && n >= 19 && n <= 20) {
                        char buf[21];
                        memcpy(buf, text + s, n);
                        buf[n] = '\0';
                        errno = 0;
                        unsigned long long v = strtoull(buf, NULL, 10);
                        if (errno == 0 && v > (unsigned long long)INT64_MAX) {
                                o += (size_t)sprintf(out + o, "%lld", (long long)v);
                                continue;
                        }
                }
                memcpy(out + o, text + s, n);
                o += n;
        }
        out[o] = '\0';
        *out_len = o;
        return out;
}

void rt_spec_free(struct rt_spec *s)
{
        if (s == NULL)
                return;
        free(s->oci_version);
        rt_process_free(s->process);
        free(s->root_path);
        free(s->hostname);
        free(s->domainname);
        for (size_t i = 0; i < s->n_mounts; i++)
                mount_clear(&s->mounts[i]);
        free(s->mounts);
        for (int k = 0; k < RT_HOOK__MAX; k++) {
                for (size_t i = 0; i < s->hooks[k].n; i++) {
                        free(s->hooks[k].v[i].path);
                        strv_free(s->hooks[k].v[i].args);
                        strv_free(s->hooks[k].v[i].env);
                }
                free(s->hooks[k].v);
        }
        json_decref(s->annotations);
        struct rt_linux *l = &s->linux;
        for (size_t i = 0; i < l->n_namespaces; i++)
                free(l->namespaces[i].path);
        free(l->namespaces);
        free(l->uid_mappings);
        free(l->gid_mappings);
        for (size_t i = 0; i < l->n_devices; i++)
                free(l->devices[i].path);
        free(l->devices);
        free(l->cgroups_path);
        resources_free(l->resources);
        json_decref(l->sysctl);
        strv_free(l->masked_paths);
        strv_free(l->readonly_paths);
        seccomp_free(l->seccomp);
        free(l->mount_label);
        free(s);
}

static void spec_freep(struct rt_spec **s)
{
        rt_spec_free(*s);
}

static int resolve_root(struct ctx *c, struct rt_spec *s, const char *bundle_dir)
{
        if (s->root_path[0] == '/') {
                path_clean(s->root_path);
                return 0;
        }
        _cleanup_free_ char *cwd = NULL;
        if (bundle_dir == NULL || bundle_dir[0] != '/') {
                cwd = getcwd(NULL, 0);
                if (cwd == NULL)
                        return gerr_set(c->err, errno, "getcwd");
        }
        char *abs = NULL;
        int n;
        if (cwd != NULL && bundle_dir != NULL)
                n = asprintf(&abs, "%s/%s/%s", cwd, bundle_dir, s->root_path);
        else
                n = asprintf(&abs, "%s/%s", cwd ? cwd : bundle_dir, s->root_path);
        if (n < 0)
                return oom(c);
        path_clean(abs);
        free(s->root_path);
        s->root_path = abs;
        return 0;
}

static int process_cb(struct ctx *c, json_t *o, void *arg)
{
        return parse_process(c, o, arg);
}

static int root_cb(struct ctx *c, json_t *o, void *arg)
{
        struct rt_spec *s = arg;
        int r = get_str(c, o, "path", true, &s->root_path);
        if (r == 0)
                r = get_bool(c, o, "readonly", false, &s->root_readonly);
        return r;
}

int rt_spec_parse(const char *json_text, size_t len, const char *bundle_dir, struct rt_spec **out,
                  struct gerr **err)
{
        struct ctx c = { .err = err, .file = "config.json" };
        *out = NULL;
        size_t flen = 0;
        _cleanup_free_ char *fixed = fix_bigints(json_text, len, &flen);
        if (fixed == NULL)
                return oom(&c);
        json_error_t jerr;
        _cleanup_json_ json_t *root = json_loadb(fixed, flen, JSON_REJECT_DUPLICATES, &jerr);
        if (root == NULL)
                return perr(&c, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                            jerr.text);
        if (!json_is_object(root))
                return perr(&c, "must be an object, not %s", type_name(root));

        _cleanup_(spec_freep) struct rt_spec *s = calloc(1, sizeof(*s));
        if (s == NULL)
                return oom(&c);
        int r;
        json_t *v;
        if ((r = get_str(&c, root, "ociVersion", true, &s->oci_version)) < 0)
                return r;
        if ((r = sub_obj(&c, root, "process", &s->process, process_cb)) < 0)
                return r;
        if ((r = get(&c, root, "root", K_OBJ, true, &v)) < 0 ||
            (r = sub_obj(&c, root, "root", s, root_cb)) < 0 ||
            (r = resolve_root(&c, s, bundle_dir)) < 0)
                return r;
        if ((r = get_str(&c, root, "hostname", false, &s->hostname)) < 0 ||
            (r = get_str(&c, root, "domainname", false, &s->domainname)) < 0)
                return r;
        if ((r = PARSE_ARRAY(&c, root, "mounts", s->mounts, s->n_mounts, parse_mount)) < 0)
                return r;
        if ((r = get(&c, root, "hooks", K_OBJ, false, &v)) < 0)
                return r;
        if (v != NULL) {
                size_t old = jp_push(&c, "hooks");
                r = parse_hooks(&c, v, s);
                jp_pop(&c, old);
                if (r < 0)
                        return r;
        }
        if ((r = get_str_map(&c, root, "annotations", &s->annotations)) < 0)
                return r;
        if ((r = sub_obj(&c, root, "linux", &s->linux, parse_linux)) < 0)
                return r;
        *out = TAKE_PTR(s);
        return 0;
}

int rt_spec_load(const char *bundle_dir, struct rt_spec **out, struct gerr **err)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        *out = NULL;
        if (asprintf(&path, "%s/config.json", bundle_dir) < 0)
                return gerr_set(err, ENOMEM, "load config.json");
        int r = fs_read_file(path, &text, &len, err);
        if (r < 0)
                return r;
        return rt_spec_parse(text, len, bundle_dir, out, err);
}

const struct rt_namespace *rt_spec_namespace(const struct rt_spec *s, int type)
{
        for (size_t i = 0; i < s->linux.n_namespaces; i++)
                if (s->linux.namespaces[i].type == type)
                        return &s->linux.namespaces[i];
        return NULL;
}
