/* Parse config.json (OCI runtime-spec 1.1) into struct rt_spec: process, mounts, hooks, top. */
#include "runtime/spec.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runtime/spec_internal.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

/* ---------- process ---------- */


static const struct sp_name_val rlimit_names[] = {
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


static int parse_rlimit(struct sp_ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_process *p = arg;
        struct rt_rlimit *rl = &p->rlimits[i];
        json_t *t;
        int r = sp_get(c, e, "type", SP_STR, true, &t);
        if (r < 0)
                return r;
        const struct sp_name_val *nv = SP_LOOKUP(rlimit_names, json_string_value(t));
        size_t old = sp_jp_push(c, "type");
        if (nv == NULL)
                r = sp_perr(c, "unknown rlimit \"%s\"", json_string_value(t));
        for (size_t j = 0; r == 0 && j < i; j++)
                if (p->rlimits[j].resource == (int)nv->val)
                        r = sp_perr(c, "duplicate rlimit \"%s\"", nv->name);
        sp_jp_pop(c, old);
        if (r < 0)
                return r;
        rl->resource = (int)nv->val;
        r = sp_get_u64(c, e, "soft", true, &rl->soft);
        if (r == 0)
                r = sp_get_u64(c, e, "hard", true, &rl->hard);
        return r;
}

static int parse_caps(struct sp_ctx *c, json_t *o, struct rt_caps *caps)
{
        static const char *const sets[] = { "bounding", "effective", "inheritable", "permitted",
                                            "ambient" };
        uint64_t *masks[] = { &caps->bounding, &caps->effective, &caps->inheritable,
                              &caps->permitted, &caps->ambient };
        caps->present = true;
        for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
                json_t *a;
                int r = sp_get(c, o, sets[s], SP_ARR, false, &a);
                if (r < 0)
                        return r;
                if (a == NULL)
                        continue;
                size_t old = sp_jp_push(c, sets[s]);
                size_t i;
                json_t *e;
                json_array_foreach(a, i, e)
                {
                        size_t o2 = sp_jp_index(c, i);
                        r = sp_check_type(c, e, SP_STR);
                        int cap = r < 0 ? -1 : rt_cap_from_name(json_string_value(e));
                        if (r == 0 && cap < 0)
                                r = sp_perr(c, "unknown capability \"%s\"", json_string_value(e));
                        sp_jp_pop(c, o2);
                        if (r < 0)
                                break;
                        *masks[s] |= UINT64_C(1) << cap;
                }
                sp_jp_pop(c, old);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_user(struct sp_ctx *c, json_t *o, struct rt_process *p)
{
        uint32_t v = 0;
        bool present;
        int r = sp_get_u32(c, o, "uid", true, &v, NULL);
        if (r < 0)
                return r;
        p->uid = v;
        r = sp_get_u32(c, o, "gid", true, &v, NULL);
        if (r < 0)
                return r;
        p->gid = v;
        int64_t um;
        r = sp_get_int(c, o, "umask", false, 0, 07777, &um, &present);
        if (r < 0)
                return r;
        if (present) {
                p->has_umask = true;
                p->umask = (mode_t)um;
        }
        json_t *a;
        r = sp_get(c, o, "additionalGids", SP_ARR, false, &a);
        if (r < 0 || a == NULL)
                return r;
        p->additional_gids = sp_alloc_array(json_array_size(a), sizeof(gid_t));
        if (p->additional_gids == NULL)
                return sp_oom(c);
        size_t old = sp_jp_push(c, "additionalGids");
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e)
        {
                size_t o2 = sp_jp_index(c, i);
                r = sp_check_type(c, e, SP_INT);
                if (r == 0 && (json_integer_value(e) < 0 || json_integer_value(e) > UINT32_MAX))
                        r = sp_perr(c, "%" PRId64 " is not a valid gid",
                                    (int64_t)json_integer_value(e));
                sp_jp_pop(c, o2);
                if (r < 0)
                        break;
                p->additional_gids[i] = (gid_t)json_integer_value(e);
                p->n_additional_gids = i + 1;
        }
        sp_jp_pop(c, old);
        return r;
}

static void process_freep(struct rt_process **p)
{
        rt_process_free(*p);
}

static int parse_process(struct sp_ctx *c, json_t *o, struct rt_process **out)
{
        _cleanup_(process_freep) struct rt_process *p = calloc(1, sizeof(*p));
        if (p == NULL)
                return sp_oom(c);
        int r;
        json_t *v;

        if ((r = sp_get_bool(c, o, "terminal", false, &p->terminal)) < 0)
                return r;
        if ((r = sp_get(c, o, "consoleSize", SP_OBJ, false, &v)) < 0)
                return r;
        if (v != NULL) {
                size_t old = sp_jp_push(c, "consoleSize");
                uint32_t h = 0, w = 0;
                r = sp_get_u32(c, v, "height", true, &h, NULL);
                if (r == 0)
                        r = sp_get_u32(c, v, "width", true, &w, NULL);
                sp_jp_pop(c, old);
                if (r < 0)
                        return r;
                p->has_console_size = true;
                p->console_height = h;
                p->console_width = w;
        }
        if ((r = sp_get_str(c, o, "cwd", true, &p->cwd)) < 0)
                return r;
        if (p->cwd[0] != '/') {
                size_t old = sp_jp_push(c, "cwd");
                r = sp_perr(c, "\"%s\" is not an absolute path", p->cwd);
                sp_jp_pop(c, old);
                return r;
        }
        if ((r = sp_get_strv(c, o, "args", true, &p->args)) < 0)
                return r;
        if (p->args[0] == NULL) {
                size_t old = sp_jp_push(c, "args");
                r = sp_perr(c, "must not be empty");
                sp_jp_pop(c, old);
                return r;
        }
        if ((r = sp_get_strv(c, o, "env", false, &p->env)) < 0)
                return r;
        if (p->env == NULL && (p->env = calloc(1, sizeof(char *))) == NULL)
                return sp_oom(c);

        if ((r = sp_get(c, o, "user", SP_OBJ, false, &v)) < 0)
                return r;
        if (v != NULL) {
                size_t old = sp_jp_push(c, "user");
                r = parse_user(c, v, p);
                sp_jp_pop(c, old);
                if (r < 0)
                        return r;
        }
        if ((r = sp_get(c, o, "capabilities", SP_OBJ, false, &v)) < 0)
                return r;
        if (v != NULL) {
                size_t old = sp_jp_push(c, "capabilities");
                r = parse_caps(c, v, &p->caps);
                sp_jp_pop(c, old);
                if (r < 0)
                        return r;
        }
        p->n_rlimits = sp_arr_len(o, "rlimits");
        if ((p->rlimits = sp_alloc_array(p->n_rlimits, sizeof(*p->rlimits))) == NULL)
                return sp_oom(c);
        if ((r = sp_each_obj(c, o, "rlimits", parse_rlimit, p)) < 0)
                return r;
        if ((r = sp_get_bool(c, o, "noNewPrivileges", false, &p->no_new_privileges)) < 0)
                return r;
        if ((r = sp_get_int(c, o, "oomScoreAdj", false, -1000, 1000, &p->oom_score_adj.v,
                            &p->oom_score_adj.set)) < 0)
                return r;
        if ((r = sp_get_str(c, o, "apparmorProfile", false, &p->apparmor_profile)) < 0)
                return r;
        if ((r = sp_get_str(c, o, "selinuxLabel", false, &p->selinux_label)) < 0)
                return r;
        *out = TAKE_PTR(p);
        return 0;
}

int rt_process_parse(json_t *obj, struct rt_process **out, struct gerr **err)
{
        struct sp_ctx c = { .err = err, .file = "process.json" };
        *out = NULL;
        if (!json_is_object(obj))
                return sp_perr(&c, "must be an object, not %s", obj ? sp_type_name(obj) : "null");
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

static int parse_idmap(struct sp_ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_idmap *m = &((struct rt_idmap *)arg)[i];
        int r = sp_get_u32(c, e, "containerID", true, &m->container_id, NULL);
        if (r == 0)
                r = sp_get_u32(c, e, "hostID", true, &m->host_id, NULL);
        if (r == 0)
                r = sp_get_u32(c, e, "size", true, &m->size, NULL);
        return r;
}

int sp_parse_idmaps(struct sp_ctx *c, json_t *o, const char *key, struct rt_idmap **v, size_t *n)
{
        return SP_PARSE_ARRAY(c, o, key, *v, *n, parse_idmap);
}

/* Append one option to the comma-joined data string. */
static int data_append(struct sp_ctx *c, char **data, const char *opt)
{
        size_t old = *data ? strlen(*data) : 0, add = strlen(opt);
        char *n = realloc(*data, old + add + 2);
        if (n == NULL)
                return sp_oom(c);
        if (old > 0)
                n[old++] = ',';
        memcpy(n + old, opt, add + 1);
        *data = n;
        return 0;
}

static int mount_option(struct sp_ctx *c, struct rt_mount *m, const char *o)
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

static int parse_mount(struct sp_ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_mount *m = &((struct rt_mount *)arg)[i];
        _cleanup_free_ char *dst = NULL;
        int r = sp_get_str(c, e, "destination", true, &dst);
        if (r < 0)
                return r;
        if (dst[0] != '/') {
                /* runc takes a relative destination as relative to the container's "/". */
                char *abs = NULL;
                if (asprintf(&abs, "/%s", dst) < 0)
                        return sp_oom(c);
                free(dst);
                dst = abs;
        }
        sp_path_clean(dst);
        m->destination = TAKE_PTR(dst);
        if ((r = sp_get_str(c, e, "type", false, &m->type)) < 0)
                return r;
        if ((r = sp_get_str(c, e, "source", false, &m->source)) < 0)
                return r;
        _cleanup_strv_ char **opts = NULL;
        if ((r = sp_get_strv(c, e, "options", false, &opts)) < 0)
                return r;
        for (char **o = opts; o && *o; o++)
                if ((r = mount_option(c, m, *o)) < 0)
                        return r;
        if (m->type != NULL && strcmp(m->type, "bind") == 0)
                m->flags |= MS_BIND;
        if ((r = sp_parse_idmaps(c, e, "uidMappings", &m->uid_mappings, &m->n_uid_mappings)) < 0)
                return r;
        if ((r = sp_parse_idmaps(c, e, "gidMappings", &m->gid_mappings, &m->n_gid_mappings)) < 0)
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

static int parse_hook(struct sp_ctx *c, json_t *e, size_t i, void *arg)
{
        struct rt_hook *h = &((struct rt_hook *)arg)[i];
        int r = sp_get_str(c, e, "path", true, &h->path);
        if (r == 0)
                r = sp_get_strv(c, e, "args", false, &h->args);
        if (r == 0)
                r = sp_get_strv(c, e, "env", false, &h->env);
        int64_t t = 0;
        bool present;
        if (r == 0)
                r = sp_get_int(c, e, "timeout", false, INT64_MIN, INT64_MAX, &t, &present);
        if (r == 0 && present) {
                size_t old = sp_jp_push(c, "timeout");
                if (t <= 0 || t > INT_MAX)
                        r = sp_perr(c, "must be greater than zero");
                sp_jp_pop(c, old);
                h->timeout = (int)t;
        }
        return r;
}

static int parse_hooks(struct sp_ctx *c, json_t *o, struct rt_spec *s)
{
        for (int k = 0; k < RT_HOOK__MAX; k++) {
                int r = SP_PARSE_ARRAY(c, o, hook_keys[k], s->hooks[k].v, s->hooks[k].n,
                                       parse_hook);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---------- top level ---------- */

/* jansson holds integers as int64; runtime-spec has uint64 fields (rlimits, seccomp values,
 * memory limits) that tools fill with values up to UINT64_MAX. Rewrite such literals as the
 * int64 with the same bits so they parse; sp_get_u64 casts them back. */
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
        sp_resources_free(l->resources);
        json_decref(l->sysctl);
        strv_free(l->masked_paths);
        strv_free(l->readonly_paths);
        sp_seccomp_free(l->seccomp);
        free(l->mount_label);
        free(s);
}

static void spec_freep(struct rt_spec **s)
{
        rt_spec_free(*s);
}

static int resolve_root(struct sp_ctx *c, struct rt_spec *s, const char *bundle_dir)
{
        if (s->root_path[0] == '/') {
                sp_path_clean(s->root_path);
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
                return sp_oom(c);
        sp_path_clean(abs);
        free(s->root_path);
        s->root_path = abs;
        return 0;
}

static int process_cb(struct sp_ctx *c, json_t *o, void *arg)
{
        return parse_process(c, o, arg);
}

static int root_cb(struct sp_ctx *c, json_t *o, void *arg)
{
        struct rt_spec *s = arg;
        int r = sp_get_str(c, o, "path", true, &s->root_path);
        if (r == 0)
                r = sp_get_bool(c, o, "readonly", false, &s->root_readonly);
        return r;
}

/* A SemVer 2.0.0 numeric identifier: digits, no leading zero. */
static const char *semver_number(const char *p)
{
        if (*p < '0' || *p > '9')
                return NULL;
        if (*p == '0' && p[1] >= '0' && p[1] <= '9')
                return NULL;
        while (*p >= '0' && *p <= '9')
                p++;
        return p;
}

/* Dot-separated identifiers of [0-9A-Za-z-], none empty (pre-release or build metadata). */
static const char *semver_idents(const char *p)
{
        for (;;) {
                const char *q = p;
                while ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') ||
                       (*q >= 'A' && *q <= 'Z') || *q == '-')
                        q++;
                if (q == p)
                        return NULL;
                if (*q != '.')
                        return q;
                p = q + 1;
        }
}

/* config.md: ociVersion MUST be SemVer 2.0.0, and a runtime MUST generate an error for an
 * invalid or unsupported value; this runtime implements the 1.x series. */
static int check_oci_version(struct sp_ctx *c, const char *v)
{
        const char *p = semver_number(v);
        for (int i = 0; p != NULL && i < 2; i++)
                p = *p == '.' ? semver_number(p + 1) : NULL;
        if (p != NULL && *p == '-')
                p = semver_idents(p + 1);
        if (p != NULL && *p == '+')
                p = semver_idents(p + 1);
        int r = 0;
        size_t old = sp_jp_push(c, "ociVersion");
        if (p == NULL || *p != '\0')
                r = sp_perr(c, "\"%s\" is not a SemVer 2.0.0 version", v);
        else if (v[0] != '1' || v[1] != '.')
                r = sp_perr(c, "version %s is not supported (1.x is)", v);
        sp_jp_pop(c, old);
        return r;
}

int rt_spec_parse(const char *json_text, size_t len, const char *bundle_dir, struct rt_spec **out,
                  struct gerr **err)
{
        struct sp_ctx c = { .err = err, .file = "config.json" };
        *out = NULL;
        size_t flen = 0;
        _cleanup_free_ char *fixed = fix_bigints(json_text, len, &flen);
        if (fixed == NULL)
                return sp_oom(&c);
        json_error_t jerr;
        _cleanup_json_ json_t *root = json_loadb(fixed, flen, JSON_REJECT_DUPLICATES, &jerr);
        if (root == NULL)
                return sp_perr(&c, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                               jerr.text);
        if (!json_is_object(root))
                return sp_perr(&c, "must be an object, not %s", sp_type_name(root));

        _cleanup_(spec_freep) struct rt_spec *s = calloc(1, sizeof(*s));
        if (s == NULL)
                return sp_oom(&c);
        int r;
        json_t *v;
        if ((r = sp_get_str(&c, root, "ociVersion", true, &s->oci_version)) < 0 ||
            (r = check_oci_version(&c, s->oci_version)) < 0)
                return r;
        if ((r = sp_sub_obj(&c, root, "process", &s->process, process_cb)) < 0)
                return r;
        if ((r = sp_get(&c, root, "root", SP_OBJ, true, &v)) < 0 ||
            (r = sp_sub_obj(&c, root, "root", s, root_cb)) < 0 ||
            (r = resolve_root(&c, s, bundle_dir)) < 0)
                return r;
        if ((r = sp_get_str(&c, root, "hostname", false, &s->hostname)) < 0 ||
            (r = sp_get_str(&c, root, "domainname", false, &s->domainname)) < 0)
                return r;
        if ((r = SP_PARSE_ARRAY(&c, root, "mounts", s->mounts, s->n_mounts, parse_mount)) < 0)
                return r;
        if ((r = sp_get(&c, root, "hooks", SP_OBJ, false, &v)) < 0)
                return r;
        if (v != NULL) {
                size_t old = sp_jp_push(&c, "hooks");
                r = parse_hooks(&c, v, s);
                sp_jp_pop(&c, old);
                if (r < 0)
                        return r;
        }
        if ((r = sp_get_str_map(&c, root, "annotations", &s->annotations)) < 0)
                return r;
        if ((r = sp_sub_obj(&c, root, "linux", &s->linux, sp_parse_linux)) < 0)
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
