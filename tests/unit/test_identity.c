/* Unit tests for runtime/identity.c and exec_path.c: user, groups, caps, rlimits, LSM, PATH. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "runtime/security.h"

#define BIT(c) (UINT64_C(1) << (c))

/* Run fn in a child; its stdout-like output comes back through a pipe, its exit code too. */
static char *run_child(int (*fn)(int fd, void *arg), void *arg, int *code)
{
        int pfd[2];
        assert_int_equal(pipe(pfd), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(pfd[0]);
                _exit(fn(pfd[1], arg));
        }
        close(pfd[1]);
        size_t cap = 16384, len = 0;
        char *buf = calloc(1, cap);
        ssize_t n;
        while ((n = read(pfd[0], buf + len, cap - 1 - len)) > 0)
                len += (size_t)n;
        close(pfd[0]);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        *code = WEXITSTATUS(status);
        return buf;
}

static void put(int fd, const char *s)
{
        if (write(fd, s, strlen(s)) < 0)
                _exit(3);
}

/* The value after "Key:" in /proc/self/status text, whitespace squeezed to single spaces. */
static char *status_field(const char *text, const char *key, char *out, size_t size)
{
        char needle[32];
        snprintf(needle, sizeof(needle), "\n%s:", key);
        const char *p = strstr(text, needle);
        if (p == NULL)
                return NULL;
        p += strlen(needle);
        size_t n = 0;
        bool space = false;
        for (; *p != '\0' && *p != '\n' && n + 1 < size; p++) {
                if (*p == ' ' || *p == '\t') {
                        space = n > 0;
                        continue;
                }
                if (space)
                        out[n++] = ' ';
                space = false;
                out[n++] = *p;
        }
        out[n] = '\0';
        return out;
}

static int identity_child(int fd, void *arg)
{
        struct rt_process *p = arg;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (rt_identity_apply(p, &err) < 0) {
                put(fd, err->msg);
                return 1;
        }
        char buf[8192];
        int sfd = open("/proc/self/status", O_RDONLY);
        ssize_t n = read(sfd, buf + 1, sizeof(buf) - 2);
        if (n <= 0)
                return 2;
        buf[0] = '\n';
        buf[n + 1] = '\0';
        put(fd, buf);
        return 0;
}

static void test_identity_user_and_caps(void **state)
{
        (void)state;
        if (geteuid() != 0)
                skip();
        gid_t groups[] = { 10, 20 };
        struct rt_process p = {
                .uid = 1000,
                .gid = 1000,
                .additional_gids = groups,
                .n_additional_gids = 2,
                .has_umask = true,
                .umask = 0027,
                .no_new_privileges = true,
                .caps = {
                        .present = true,
                        .bounding = BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_CHOWN),
                        .effective = BIT(CAP_NET_BIND_SERVICE),
                        .permitted = BIT(CAP_NET_BIND_SERVICE),
                        .inheritable = BIT(CAP_NET_BIND_SERVICE),
                        .ambient = BIT(CAP_NET_BIND_SERVICE),
                },
        };
        int code = -1;
        _cleanup_free_ char *out = run_child(identity_child, &p, &code);
        assert_int_equal(code, 0);
        char v[256];
        assert_string_equal(status_field(out, "Uid", v, sizeof(v)), "1000 1000 1000 1000");
        assert_string_equal(status_field(out, "Gid", v, sizeof(v)), "1000 1000 1000 1000");
        assert_string_equal(status_field(out, "Groups", v, sizeof(v)), "10 20");
        assert_string_equal(status_field(out, "CapEff", v, sizeof(v)), "0000000000000400");
        assert_string_equal(status_field(out, "CapPrm", v, sizeof(v)), "0000000000000400");
        assert_string_equal(status_field(out, "CapInh", v, sizeof(v)), "0000000000000400");
        assert_string_equal(status_field(out, "CapBnd", v, sizeof(v)), "0000000000000401");
        assert_string_equal(status_field(out, "CapAmb", v, sizeof(v)), "0000000000000400");
        assert_string_equal(status_field(out, "NoNewPrivs", v, sizeof(v)), "1");
        assert_string_equal(status_field(out, "Umask", v, sizeof(v)), "0027");
}

static void test_identity_without_caps_object(void **state)
{
        (void)state;
        if (geteuid() != 0)
                skip();
        /* No capabilities object: root stays root with its caps; default umask 0022. */
        struct rt_process p = { .uid = 0, .gid = 0 };
        int code = -1;
        _cleanup_free_ char *out = run_child(identity_child, &p, &code);
        assert_int_equal(code, 0);
        char v[256], mine[256];
        assert_string_equal(status_field(out, "Groups", v, sizeof(v)), "");
        assert_string_equal(status_field(out, "Umask", v, sizeof(v)), "0022");
        assert_string_equal(status_field(out, "NoNewPrivs", v, sizeof(v)), "0");
        char self[8192] = "\n";
        int fd = open("/proc/self/status", O_RDONLY);
        ssize_t n = read(fd, self + 1, sizeof(self) - 2);
        close(fd);
        assert_true(n > 0);
        self[n + 1] = '\0';
        assert_string_equal(status_field(out, "CapBnd", v, sizeof(v)),
                            status_field(self, "CapBnd", mine, sizeof(mine)));
}

static int rlimit_child(int fd, void *arg)
{
        (void)arg;
        struct rt_rlimit l = { .resource = RLIMIT_NOFILE, .soft = 1048576, .hard = 1048576 };
        struct rt_process p = { .rlimits = &l, .n_rlimits = 1 };
        _cleanup_gerr_ struct gerr *err = NULL;
        if (rt_rlimits_apply(&p, &err) < 0) {
                put(fd, err->msg);
                return 1;
        }
        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        char buf[64];
        snprintf(buf, sizeof(buf), "%llu %llu", (unsigned long long)rl.rlim_cur,
                 (unsigned long long)rl.rlim_max);
        put(fd, buf);
        return 0;
}

static void test_rlimit_nofile(void **state)
{
        (void)state;
        struct rlimit hard;
        getrlimit(RLIMIT_NOFILE, &hard);
        int code = -1;
        _cleanup_free_ char *out = run_child(rlimit_child, NULL, &code);
        if (code == 1) {
                assert_true(hard.rlim_max < 1048576);
                assert_string_equal(out, "setrlimit RLIMIT_NOFILE (soft 1048576, hard 1048576): "
                                         "Operation not permitted");
        } else {
                assert_int_equal(code, 0);
                assert_string_equal(out, "1048576 1048576");
        }
}

static void test_rlimit_lower_ok(void **state)
{
        (void)state;
        struct rt_rlimit l = { .resource = RLIMIT_CORE, .soft = 0, .hard = 0 };
        struct rt_process p = { .rlimits = &l, .n_rlimits = 1 };
        struct rlimit old;
        getrlimit(RLIMIT_CORE, &old);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct rlimit rl;
                if (rt_rlimits_apply(&p, NULL) < 0 || getrlimit(RLIMIT_CORE, &rl) < 0)
                        _exit(1);
                _exit(rl.rlim_cur == 0 && rl.rlim_max == 0 ? 0 : 2);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_lsm_errors(void **state)
{
        (void)state;
        if (access("/sys/module/apparmor/parameters/enabled", F_OK) == 0 ||
            access("/sys/fs/selinux", F_OK) == 0)
                skip(); /* the error paths are what this host can test */
        _cleanup_gerr_ struct gerr *err = NULL;
        struct rt_process p = { .apparmor_profile = "docker-default" };
        assert_int_equal(rt_lsm_check(&p, &err), -EOPNOTSUPP);
        assert_string_equal(err->msg, "apparmor profile \"docker-default\" requested but "
                                      "AppArmor is not enabled on this host");
        gerr_freep(&err);

        struct rt_process s = { .selinux_label = "system_u:system_r:container_t:s0" };
        assert_int_equal(rt_lsm_apply(&s, &err), -EOPNOTSUPP);
        assert_non_null(strstr(err->msg, "selinux label \"system_u:system_r:container_t:s0\" "
                                         "requested but SELinux is not enabled on this host"));
        gerr_freep(&err);

        struct rt_process none = { .apparmor_profile = "", .selinux_label = NULL };
        assert_int_equal(rt_lsm_check(&none, &err), 0);
        assert_int_equal(rt_lsm_apply(&none, &err), 0);
        assert_null(err);
}

static int oom_child(int fd, void *arg)
{
        (void)arg;
        struct rt_process p = { .oom_score_adj = { true, 321 } };
        if (rt_oom_score_adj_apply(getpid(), &p, NULL) < 0)
                return 1;
        char buf[32] = "";
        int f = open("/proc/self/oom_score_adj", O_RDONLY);
        if (read(f, buf, sizeof(buf) - 1) < 0)
                return 2;
        put(fd, buf);
        return 0;
}

static void test_oom_score_adj(void **state)
{
        (void)state;
        int code = -1;
        _cleanup_free_ char *out = run_child(oom_child, NULL, &code);
        assert_int_equal(code, 0);
        assert_string_equal(out, "321\n");
}

static int exec_child(int fd, void *arg)
{
        (void)arg;
        char *args[] = { "sh", "-c", "exit 7", NULL };
        char *env[] = { "HOME=/", "PATH=:/nonexistent-dir:/etc:/bin:/usr/bin", NULL };
        struct rt_process p = { .args = args, .env = env };
        _cleanup_gerr_ struct gerr *err = NULL;
        rt_exec_process(&p, &err);
        put(fd, err != NULL ? err->msg : "no error");
        return 1;
}

static void test_exec_path_search(void **state)
{
        (void)state;
        int code = -1;
        _cleanup_free_ char *out = run_child(exec_child, NULL, &code);
        assert_string_equal(out, "");
        assert_int_equal(code, 7);
}

static void test_exec_errors(void **state)
{
        (void)state;
        _cleanup_gerr_ struct gerr *err = NULL;
        char *missing[] = { "gantry-no-such-binary", NULL };
        char *env[] = { "PATH=/bin:/usr/bin", NULL };
        struct rt_process p = { .args = missing, .env = env };
        assert_int_equal(rt_exec_process(&p, &err), -ENOENT);
        assert_string_equal(err->msg,
                            "exec: \"gantry-no-such-binary\": executable file not found in $PATH");
        gerr_freep(&err);

        /* A directory on PATH with the name is not an executable (Go's LookPath). */
        char *dir[] = { "etc", NULL };
        char *env_etc[] = { "PATH=/", NULL };
        struct rt_process d = { .args = dir, .env = env_etc };
        assert_int_equal(rt_exec_process(&d, &err), -ENOENT);
        gerr_freep(&err);

        char *noexec[] = { "/etc/passwd", NULL };
        struct rt_process n = { .args = noexec, .env = env };
        assert_int_equal(rt_exec_process(&n, &err), -EACCES);
        assert_string_equal(err->msg, "exec: \"/etc/passwd\": permission denied");
        gerr_freep(&err);

        /* A missing absolute path fails the lookup (before create completes), in Go's words. */
        char *gone[] = { "/no/such/binary", NULL };
        struct rt_process g = { .args = gone, .env = env };
        assert_int_equal(rt_exec_process(&g, &err), -ENOENT);
        assert_string_equal(err->msg,
                            "exec: \"/no/such/binary\": stat /no/such/binary: no such file or "
                            "directory");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_identity_user_and_caps),
                cmocka_unit_test(test_identity_without_caps_object),
                cmocka_unit_test(test_rlimit_nofile),
                cmocka_unit_test(test_rlimit_lower_ok),
                cmocka_unit_test(test_lsm_errors),
                cmocka_unit_test(test_oom_score_adj),
                cmocka_unit_test(test_exec_path_search),
                cmocka_unit_test(test_exec_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
