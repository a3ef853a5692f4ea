/* linux.seccomp: config.json rules compiled to a BPF program (or taken from the cache), loading
 * it, features. */
#include <ctype.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runtime/seccomp_cache.h"
#include "runtime/security.h"

#define ARCH_PREFIX "SCMP_ARCH_"

struct flag_map {
        const char *name;
        enum scmp_filter_attr attr;
        unsigned kernel_flag; /* SECCOMP_FILTER_FLAG_*, to probe the kernel */
};

static const struct flag_map known_flags[] = {
        { "SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC, SECCOMP_FILTER_FLAG_TSYNC },
        { "SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG, SECCOMP_FILTER_FLAG_LOG },
        { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB, SECCOMP_FILTER_FLAG_SPEC_ALLOW },
};

/* The archs the spec names (config-linux.md#seccomp) that libseccomp 2.5 knows. */
static const char *const known_archs[] = {
        "SCMP_ARCH_X86",      "SCMP_ARCH_X86_64",    "SCMP_ARCH_X32",     "SCMP_ARCH_ARM",
        "SCMP_ARCH_AARCH64",  "SCMP_ARCH_MIPS",      "SCMP_ARCH_MIPS64",  "SCMP_ARCH_MIPS64N32",
        "SCMP_ARCH_MIPSEL",   "SCMP_ARCH_MIPSEL64",  "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
        "SCMP_ARCH_PPC64",    "SCMP_ARCH_PPC64LE",   "SCMP_ARCH_S390",    "SCMP_ARCH_S390X",
        "SCMP_ARCH_PARISC",   "SCMP_ARCH_PARISC64",  "SCMP_ARCH_RISCV64",
};

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
        if (*ctx != NULL)
                seccomp_release(*ctx);
}

/* A config.json action plus its errnoRet as the 32-bit value libseccomp takes. runc gives
 * ERRNO and TRACE EPERM when errnoRet is absent. */
static uint32_t full_action(uint32_t action, const struct opt_i64 *errno_ret)
{
        uint32_t base = action & 0xffff0000U;
        uint32_t ret = errno_ret->set ? (uint32_t)errno_ret->v : EPERM;
        if (base == SCMP_ACT_ERRNO(0))
                return SCMP_ACT_ERRNO(ret);
        if (base == SCMP_ACT_TRACE(0))
                return SCMP_ACT_TRACE(ret);
        return base;
}

/* "SCMP_ARCH_X86_64" -> libseccomp's token (its own names are "x86_64"); 0 if unknown. */
static uint32_t arch_token(const char *name)
{
        char lower[32];
        if (strncmp(name, ARCH_PREFIX, strlen(ARCH_PREFIX)) != 0)
                return 0;
        const char *s = name + strlen(ARCH_PREFIX);
        size_t n = strlen(s);
        if (n == 0 || n >= sizeof(lower))
                return 0;
        for (size_t i = 0; i <= n; i++)
                lower[i] = (char)tolower((unsigned char)s[i]);
        return seccomp_arch_resolve_name(lower);
}

static bool has_duplicate_index(const struct rt_seccomp_rule *r)
{
        for (size_t i = 0; i < r->n_args; i++)
                for (size_t j = i + 1; j < r->n_args; j++)
                        if (r->args[i].index == r->args[j].index)
                                return true;
        return false;
}

static struct scmp_arg_cmp to_cmp(const struct rt_seccomp_arg *a)
{
        return (struct scmp_arg_cmp){
                .arg = a->index,
                .op = (enum scmp_compare)a->op,
                .datum_a = a->value,
                .datum_b = a->value_two,
        };
}

static int add_rule(scmp_filter_ctx ctx, const struct rt_seccomp_rule *r, uint32_t action,
                    const char *name, int nr, struct gerr **err)
{
        int rc;
        if (r->n_args == 0) {
                rc = seccomp_rule_add_array(ctx, action, nr, 0, NULL);
        } else if (has_duplicate_index(r)) {
                /* runc/docker: conditions on the same argument are alternatives (OR), and
                 * libseccomp refuses one rule comparing an argument twice. */
                rc = 0;
                for (size_t i = 0; i < r->n_args && rc == 0; i++) {
                        struct scmp_arg_cmp c = to_cmp(&r->args[i]);
                        rc = seccomp_rule_add_array(ctx, action, nr, 1, &c);
                }
        } else {
                if (r->n_args > 6)
                        return gerr_set(err, EINVAL, "seccomp rule for %s: %zu arguments",
                                        name, r->n_args);
                struct scmp_arg_cmp c[6];
                for (size_t i = 0; i < r->n_args; i++)
                        c[i] = to_cmp(&r->args[i]);
                rc = seccomp_rule_add_array(ctx, action, nr, (unsigned)r->n_args, c);
        }
        if (rc < 0)
                return gerr_set(err, -rc, "seccomp rule for syscall %s", name);
        return 0;
}

static const struct flag_map *find_flag(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(known_flags); i++)
                if (strcmp(name, known_flags[i].name) == 0)
                        return &known_flags[i];
        return NULL;
}

/* The SECCOMP_FILTER_FLAG_* set that seccomp_load would pass for these attributes (the filter
 * never asks for no_new_privs, so there is no prctl to mirror). */
static int kernel_flags(char **flags, unsigned *out, struct gerr **err)
{
        *out = 0;
        for (char **f = flags; f != NULL && *f != NULL; f++) {
                const struct flag_map *m = find_flag(*f);
                if (m == NULL)
                        return gerr_set(err, EINVAL, "seccomp flag %s is not supported", *f);
                *out |= m->kernel_flag;
        }
        return 0;
}

/* libseccomp also checks that the kernel has each flag. */
static int set_flags(scmp_filter_ctx ctx, char **flags, struct gerr **err)
{
        for (char **f = flags; f != NULL && *f != NULL; f++) {
                int rc = seccomp_attr_set(ctx, find_flag(*f)->attr, 1);
                if (rc < 0)
                        return gerr_set(err, -rc, "seccomp flag %s", *f);
        }
        return 0;
}

static int build_ctx(const struct rt_seccomp *sc, scmp_filter_ctx *out, struct gerr **err)
{
        uint32_t def = full_action(sc->default_action, &sc->default_errno_ret);
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = seccomp_init(def);
        if (ctx == NULL)
                return gerr_set(err, EINVAL, "seccomp: invalid default action 0x%x", def);

        /* no_new_privs is process.noNewPrivileges' business, not the filter's. */
        int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (rc < 0)
                return gerr_set(err, -rc, "seccomp: clear no_new_privs attribute");
        /* A binary tree keeps long profiles (docker's ~350 syscalls) cheap per syscall;
         * older libseccomp lacks it, which only costs speed. */
        (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);

        for (char **a = sc->architectures; a != NULL && *a != NULL; a++) {
                uint32_t tok = arch_token(*a);
                if (tok == 0)
                        return gerr_set(err, EINVAL, "seccomp: unknown architecture %s", *a);
                rc = seccomp_arch_add(ctx, tok);
                if (rc < 0 && rc != -EEXIST)
                        return gerr_set(err, -rc, "seccomp: add architecture %s", *a);
        }

        rc = set_flags(ctx, sc->flags, err);
        if (rc < 0)
                return rc;

        for (size_t i = 0; i < sc->n_rules; i++) {
                const struct rt_seccomp_rule *r = &sc->rules[i];
                uint32_t action = full_action(r->action, &r->errno_ret);
                /* libseccomp answers -EACCES to a rule that repeats the default action. */
                if (action == def)
                        continue;
                for (char **name = r->names; name != NULL && *name != NULL; name++) {
                        int nr = seccomp_syscall_resolve_name(*name);
                        /* Profiles name syscalls newer than this kernel or libseccomp. */
                        if (nr == __NR_SCMP_ERROR)
                                continue;
                        rc = add_rule(ctx, r, action, *name, nr, err);
                        if (rc < 0)
                                return rc;
                }
        }
        *out = TAKE_PTR(ctx);
        return 0;
}

/* libseccomp 2.5 exports only to an fd: the program is what seccomp_load would load. */
static int compile(const struct rt_seccomp *sc, struct rt_seccomp_prog *p, struct gerr **err)
{
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        int r = build_ctx(sc, &ctx, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
        if (fd < 0)
                return gerr_set(err, errno, "seccomp: memfd for the compiled filter");
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return gerr_set(err, -r, "seccomp: compile filter");
        off_t size = lseek(fd, 0, SEEK_END);
        if (size <= 0 || size % sizeof(struct sock_filter) != 0 ||
            size / sizeof(struct sock_filter) > BPF_MAXINSNS)
                return gerr_set(err, E2BIG, "seccomp: compiled filter of %lld bytes",
                                (long long)size);
        p->insns = malloc((size_t)size);
        if (p->insns == NULL)
                return gerr_set(err, ENOMEM, "seccomp: compiled filter");
        if (pread(fd, p->insns, (size_t)size, 0) != size)
                return gerr_set(err, EIO, "seccomp: read back the compiled filter");
        p->len = (unsigned short)(size / sizeof(struct sock_filter));
        return 0;
}

void rt_seccomp_prog_free(struct rt_seccomp_prog *p)
{
        if (p == NULL)
                return;
        free(p->insns);
        free(p);
}

static void prog_freep(struct rt_seccomp_prog **p)
{
        rt_seccomp_prog_free(*p);
}

int rt_seccomp_build(const struct rt_seccomp *sc, const char *state_root,
                     struct rt_seccomp_prog **out, struct gerr **err)
{
        *out = NULL;
        if (sc == NULL)
                return 0;
        /* The notify protocol sends the container state with the fd; we do not have it here. */
        if (sc->listener_path != NULL && sc->listener_path[0] != '\0')
                return gerr_set(err, EOPNOTSUPP, "seccomp notify (listenerPath) is not supported");
        for (size_t i = 0; i < sc->n_rules; i++)
                if ((sc->rules[i].action & 0xffff0000U) == SCMP_ACT_NOTIFY)
                        return gerr_set(err, EOPNOTSUPP,
                                        "seccomp notify (SCMP_ACT_NOTIFY) is not supported");
        _cleanup_(prog_freep) struct rt_seccomp_prog *p = calloc(1, sizeof(*p));
        if (p == NULL)
                return gerr_set(err, ENOMEM, "seccomp");
        int r = kernel_flags(sc->flags, &p->flags, err);
        if (r < 0)
                return r;
        size_t key_len = 0;
        _cleanup_free_ char *key = state_root ? rt_seccomp_cache_key(sc, &key_len) : NULL;
        if (key == NULL || rt_seccomp_cache_read(state_root, key, key_len, p) < 0) {
                r = compile(sc, p, err);
                if (r < 0)
                        return r;
                /* A full or read-only root only costs the next start this compile again. */
                if (key != NULL)
                        (void)rt_seccomp_cache_write(state_root, key, key_len, p);
        }
        *out = TAKE_PTR(p);
        return 0;
}

int rt_seccomp_load(const struct rt_seccomp_prog *p, struct gerr **err)
{
        if (p == NULL)
                return 0;
        struct sock_fprog prog = { .len = p->len, .filter = p->insns };
        long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->flags, &prog);
        /* With TSYNC the kernel names a thread it could not move onto the filter. */
        if (rc > 0)
                return gerr_set(err, ESRCH, "load seccomp filter: thread %ld not synchronized",
                                rc);
        if (rc < 0 && errno == EACCES)
                return gerr_set(err, EACCES,
                                "load seccomp filter (without noNewPrivileges it needs "
                                "CAP_SYS_ADMIN: load it before dropping capabilities)");
        if (rc < 0)
                return gerr_set(err, errno, "load seccomp filter");
        return 0;
}

/* The kernel answers EFAULT to a known flag with a NULL program and EINVAL to an unknown one. */
static bool kernel_has_flag(unsigned flag)
{
        long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL);
        return r < 0 && errno == EFAULT;
}

static json_t *str_array(const char *const *v, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

json_t *rt_seccomp_features(void)
{
        static const char *const actions[] = {
                "SCMP_ACT_ALLOW",     "SCMP_ACT_ERRNO",        "SCMP_ACT_KILL",
                "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
                "SCMP_ACT_TRACE",     "SCMP_ACT_TRAP",
        };
        static const char *const operators[] = {
                "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",        "SCMP_CMP_LE",
                "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
        };
        json_t *archs = json_array();
        for (size_t i = 0; i < ARRAY_SIZE(known_archs); i++)
                if (arch_token(known_archs[i]) != 0)
                        json_array_append_new(archs, json_string(known_archs[i]));
        json_t *known = json_array(), *supported = json_array();
        for (size_t i = 0; i < ARRAY_SIZE(known_flags); i++) {
                json_array_append_new(known, json_string(known_flags[i].name));
                if (kernel_has_flag(known_flags[i].kernel_flag))
                        json_array_append_new(supported, json_string(known_flags[i].name));
        }
        return json_pack("{s:b, s:o, s:o, s:o, s:o, s:o}", "enabled", 1, "actions",
                         str_array(actions, ARRAY_SIZE(actions)), "operators",
                         str_array(operators, ARRAY_SIZE(operators)), "archs", archs,
                         "knownFlags", known, "supportedFlags", supported);
}
