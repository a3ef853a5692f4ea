/* Unit tests for runtime/seccomp.c: filters built from config.json rules act on real syscalls. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "runtime/security.h"

struct results {
        int rc; /* 0 = the filter loaded */
        int mkdir_errno, mkdirat_errno, pers_errno, pers_ok, getpgid_a, getpgid_b, getpgid_ok;
};

static int call_errno(long r)
{
        return r < 0 ? errno : 0;
}

/* Load ctx in a child (so this process stays unfiltered) and report what the syscalls did. */
static struct results run_filtered(scmp_filter_ctx ctx)
{
        struct results res = { .rc = -1 };
        int pfd[2];
        assert_int_equal(pipe(pfd), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(pfd[0]);
                struct results c = { 0 };
                char dir[64];
                snprintf(dir, sizeof(dir), "/tmp/gantry-seccomp-test-%d", (int)getpid());
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
                    rt_seccomp_load(ctx, NULL, NULL) < 0) {
                        c.rc = -1;
                } else {
                        c.mkdir_errno = call_errno(mkdir(dir, 0700));
                        c.mkdirat_errno = call_errno(mkdirat(AT_FDCWD, dir, 0700));
                        c.pers_errno = call_errno(personality(0xffffffff));
                        c.pers_ok = call_errno(personality(PER_LINUX));
                        c.getpgid_a = call_errno(getpgid(12345));
                        c.getpgid_b = call_errno(getpgid(23456));
                        c.getpgid_ok = call_errno(getpgid(0));
                        rmdir(dir); /* in case the filter let it through */
                }
                if (write(pfd[1], &c, sizeof(c)) != sizeof(c))
                        _exit(2);
                _exit(0);
        }
        close(pfd[1]);
        ssize_t n = read(pfd[0], &res, sizeof(res));
        close(pfd[0]);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_int_equal(n, (ssize_t)sizeof(res));
        return res;
}

static void test_rules_act_on_syscalls(void **state)
{
        (void)state;
        char *mk_names[] = { "mkdir", "mkdirat", "no_such_syscall_in_any_kernel", NULL };
        char *pers_names[] = { "personality", NULL };
        char *allow_names[] = { "getpid", NULL };
        char *pgid_names[] = { "getpgid", NULL };
        char *archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL };
        struct rt_seccomp_arg pers_arg = { .index = 0, .value = 0xffffffff, .op = SCMP_CMP_EQ };
        struct rt_seccomp_arg pgid_args[] = {
                { .index = 0, .value = 12345, .op = SCMP_CMP_EQ },
                { .index = 0, .value = 23456, .op = SCMP_CMP_EQ },
        };
        struct rt_seccomp_rule rules[] = {
                { .names = mk_names, .action = SCMP_ACT_ERRNO(0), .errno_ret = { true, 38 } },
                { .names = pers_names, .action = SCMP_ACT_ERRNO(0), .args = &pers_arg,
                  .n_args = 1 },
                /* Same as the default action: libseccomp would refuse it, we skip it. */
                { .names = allow_names, .action = SCMP_ACT_ALLOW },
                /* One argument compared twice: an OR of two rules (runc/docker). */
                { .names = pgid_names, .action = SCMP_ACT_ERRNO(0), .errno_ret = { true, EPROTO },
                  .args = pgid_args, .n_args = 2 },
        };
        struct rt_seccomp sc = {
                .default_action = SCMP_ACT_ALLOW,
                .architectures = archs,
                .rules = rules,
                .n_rules = ARRAY_SIZE(rules),
        };
        _cleanup_gerr_ struct gerr *err = NULL;
        scmp_filter_ctx ctx = NULL;
        int r = rt_seccomp_build(&sc, &ctx, &err);
        assert_int_equal(r, 0);
        assert_null(err);
        assert_non_null(ctx);

        struct results res = run_filtered(ctx);
        seccomp_release(ctx);
        assert_int_equal(res.rc, 0);
        assert_int_equal(res.mkdir_errno, 38);
        assert_int_equal(res.mkdirat_errno, 38);
        assert_int_equal(res.pers_errno, EPERM);
        assert_int_equal(res.pers_ok, 0);
        assert_int_equal(res.getpgid_a, EPROTO);
        assert_int_equal(res.getpgid_b, EPROTO);
        assert_int_equal(res.getpgid_ok, 0);
}

static void test_default_errno_and_flags(void **state)
{
        (void)state;
        char *names[] = { "mkdir", "mkdirat", NULL };
        char *flags[] = { "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", NULL };
        /* The rule repeats the default action ERRNO(EACCES): skipped, not an error. */
        struct rt_seccomp_rule rules[] = {
                { .names = names, .action = SCMP_ACT_ERRNO(0), .errno_ret = { true, EACCES } },
        };
        struct rt_seccomp sc = {
                .default_action = SCMP_ACT_ERRNO(0),
                .default_errno_ret = { true, EACCES },
                .flags = flags,
                .rules = rules,
                .n_rules = 1,
        };
        _cleanup_gerr_ struct gerr *err = NULL;
        scmp_filter_ctx ctx = NULL;
        assert_int_equal(rt_seccomp_build(&sc, &ctx, &err), 0);
        assert_null(err);
        uint32_t def = 0, tsync = 0, log = 0, nnp = 1;
        seccomp_attr_get(ctx, SCMP_FLTATR_ACT_DEFAULT, &def);
        seccomp_attr_get(ctx, SCMP_FLTATR_CTL_TSYNC, &tsync);
        seccomp_attr_get(ctx, SCMP_FLTATR_CTL_LOG, &log);
        seccomp_attr_get(ctx, SCMP_FLTATR_CTL_NNP, &nnp);
        seccomp_release(ctx);
        assert_int_equal(def, SCMP_ACT_ERRNO(EACCES));
        assert_int_equal(tsync, 1);
        assert_int_equal(log, 1);
        assert_int_equal(nnp, 0);
}

static void test_bad_flag_named(void **state)
{
        (void)state;
        char *flags[] = { "SECCOMP_FILTER_FLAG_BOGUS", NULL };
        struct rt_seccomp sc = { .default_action = SCMP_ACT_ALLOW, .flags = flags };
        _cleanup_gerr_ struct gerr *err = NULL;
        scmp_filter_ctx ctx = NULL;
        assert_int_equal(rt_seccomp_build(&sc, &ctx, &err), -EINVAL);
        assert_null(ctx);
        assert_string_equal(err->msg,
                            "seccomp flag SECCOMP_FILTER_FLAG_BOGUS is not supported: "
                            "Invalid argument");
}

static void test_bad_arch_and_notify(void **state)
{
        (void)state;
        char *archs[] = { "SCMP_ARCH_VAX", NULL };
        struct rt_seccomp sc = { .default_action = SCMP_ACT_ALLOW, .architectures = archs };
        _cleanup_gerr_ struct gerr *err = NULL;
        scmp_filter_ctx ctx = NULL;
        assert_int_equal(rt_seccomp_build(&sc, &ctx, &err), -EINVAL);
        assert_string_equal(err->msg, "seccomp: unknown architecture SCMP_ARCH_VAX: Invalid argument");
        gerr_freep(&err);

        struct rt_seccomp sn = { .default_action = SCMP_ACT_ALLOW, .listener_path = "/run/x.sock" };
        assert_int_equal(rt_seccomp_build(&sn, &ctx, &err), -EOPNOTSUPP);
        assert_null(ctx);
        assert_non_null(strstr(err->msg, "seccomp notify (listenerPath) is not supported"));
}

static void test_null_spec(void **state)
{
        (void)state;
        scmp_filter_ctx ctx = (scmp_filter_ctx)1;
        assert_int_equal(rt_seccomp_build(NULL, &ctx, NULL), 0);
        assert_null(ctx);
        assert_int_equal(rt_seccomp_load(NULL, NULL, NULL), 0);
}

static bool has_string(json_t *arr, const char *s)
{
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
                if (strcmp(json_string_value(v), s) == 0)
                        return true;
        }
        return false;
}

static void test_features(void **state)
{
        (void)state;
        _cleanup_json_ json_t *f = rt_seccomp_features();
        assert_non_null(f);
        assert_true(json_is_true(json_object_get(f, "enabled")));
        assert_true(has_string(json_object_get(f, "actions"), "SCMP_ACT_ERRNO"));
        assert_true(has_string(json_object_get(f, "operators"), "SCMP_CMP_MASKED_EQ"));
        assert_true(has_string(json_object_get(f, "archs"), "SCMP_ARCH_X86_64"));
        assert_true(has_string(json_object_get(f, "knownFlags"), "SECCOMP_FILTER_FLAG_LOG"));
        /* Every kernel 5.x has TSYNC (3.17) and LOG (4.14). */
        assert_true(has_string(json_object_get(f, "supportedFlags"), "SECCOMP_FILTER_FLAG_TSYNC"));
        assert_true(has_string(json_object_get(f, "supportedFlags"), "SECCOMP_FILTER_FLAG_LOG"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rules_act_on_syscalls),
                cmocka_unit_test(test_default_errno_and_flags),
                cmocka_unit_test(test_bad_flag_named),
                cmocka_unit_test(test_bad_arch_and_notify),
                cmocka_unit_test(test_null_spec),
                cmocka_unit_test(test_features),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
