/* Unit tests for runtime/hooks: state on stdin, exact env/args, exit status, timeout, exec. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/gerr.h"
#include "runtime/hooks.h"

static char tmpdir[64];

static char *path_in(const char *name)
{
        char *p = NULL;
        assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
        return p;
}

/* Write an executable shell script; returns its path. */
static char *script(const char *name, const char *body)
{
        char *p = path_in(name);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fprintf(f, "#!/bin/sh\n%s\n", body);
        fclose(f);
        assert_int_equal(chmod(p, 0755), 0);
        return p;
}

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "r");
        if (f == NULL)
                return NULL;
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        char tmp[4096];
        size_t n;
        while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
                fwrite(tmp, 1, n, m);
        fclose(m);
        fclose(f);
        return buf;
}

static int setup(void **state)
{
        (void)state;
        strcpy(tmpdir, "/tmp/gantry-hooks-XXXXXX");
        return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
        (void)state;
        char *cmd = NULL;
        if (asprintf(&cmd, "rm -rf '%s'", tmpdir) > 0 && system(cmd) != 0)
                fprintf(stderr, "cleanup of %s failed\n", tmpdir);
        free(cmd);
        return 0;
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_state_on_stdin(void **state)
{
        (void)state;
        _cleanup_free_ char *out = path_in("stdin.out");
        _cleanup_free_ char *body = NULL;
        assert_true(asprintf(&body, "cat > '%s'", out) > 0);
        _cleanup_free_ char *hook = script("stdin.sh", body);
        struct rt_hook h = { .path = hook };
        struct rt_hook_list list = { .v = &h, .n = 1 };
        const char *js = "{\"ociVersion\":\"1.1.0\",\"id\":\"c1\",\"status\":\"creating\"}";
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(rt_hooks_run(&list, "prestart", js, &err), 0);
        _cleanup_free_ char *got = slurp(out);
        assert_non_null(got);
        assert_string_equal(got, js);
}

/* More than a pipe's capacity: the runtime must keep writing while the hook reads. */
static void test_big_state_read_whole(void **state)
{
        (void)state;
        _cleanup_free_ char *out = path_in("big.out");
        _cleanup_free_ char *body = NULL;
        assert_true(asprintf(&body, "cat > '%s'", out) > 0);
        _cleanup_free_ char *hook = script("big.sh", body);
        struct rt_hook h = { .path = hook, .timeout = 10 };
        struct rt_hook_list list = { .v = &h, .n = 1 };
        size_t big = 1 << 20;
        _cleanup_free_ char *js = malloc(big + 1);
        for (size_t i = 0; i < big; i++)
                js[i] = (char)('a' + i % 26);
        js[big] = '\0';
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(rt_hooks_run(&list, "prestart", js, &err), 0);
        _cleanup_free_ char *got = slurp(out);
        assert_non_null(got);
        assert_int_equal(strlen(got), big);
        assert_memory_equal(got, js, big);
}

static void test_exact_env_and_args(void **state)
{
        (void)state;
        _cleanup_free_ char *out = path_in("env.out");
        _cleanup_free_ char *body = NULL;
        /* /usr/bin/env, not a PATH lookup: the hook must see no PATH we did not give it */
        assert_true(asprintf(&body, "/usr/bin/env > '%s'; echo \"$0|$1|$2\" >> '%s'", out, out) >
                    0);
        _cleanup_free_ char *hook = script("env.sh", body);
        char *args[] = { "myhook", "one", "two", NULL };
        char *env[] = { "FOO=bar", "GANTRY_X=1", NULL };
        struct rt_hook h = { .path = hook, .args = args, .env = env };
        struct rt_hook_list list = { .v = &h, .n = 1 };
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(rt_hooks_run(&list, "createRuntime", "{}", &err), 0);
        _cleanup_free_ char *got = slurp(out);
        assert_non_null(got);
        /* dash adds PWD to the environment it exports; everything else must be ours */
        char *filtered = NULL;
        size_t flen = 0;
        FILE *m = open_memstream(&filtered, &flen);
        for (char *line = strtok(got, "\n"); line != NULL; line = strtok(NULL, "\n"))
                if (strncmp(line, "PWD=", 4) != 0 && strncmp(line, "OLDPWD=", 7) != 0)
                        fprintf(m, "%s\n", line);
        fclose(m);
        /* $0 of a script is its path (the kernel passes it to the interpreter), $1 $2 are ours */
        char *want = NULL;
        assert_true(asprintf(&want, "FOO=bar\nGANTRY_X=1\n%s|one|two\n", hook) > 0);
        assert_string_equal(filtered, want);
        free(want);
        free(filtered);
}

static void test_args_null_means_path(void **state)
{
        (void)state;
        _cleanup_free_ char *out = path_in("argv.out");
        _cleanup_free_ char *body = NULL;
        assert_true(asprintf(&body, "echo \"$#\" > '%s'", out) > 0);
        _cleanup_free_ char *hook = script("argv.sh", body);
        struct rt_hook h = { .path = hook };
        struct rt_hook_list list = { .v = &h, .n = 1 };
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(rt_hooks_run(&list, "poststart", "{}", &err), 0);
        _cleanup_free_ char *got = slurp(out);
        assert_non_null(got);
        assert_string_equal(got, "0\n");
}

/* busybox picks its applet from argv[0]: only a hook run with our args[0] touches the file. */
static void test_argv0_is_args0(void **state)
{
        (void)state;
        if (access("/bin/busybox", X_OK) != 0)
                skip();
        _cleanup_free_ char *out = path_in("argv0.out");
        char *args[] = { "touch", out, NULL };
        struct rt_hook h = { .path = "/bin/busybox", .args = args };
        struct rt_hook_list list = { .v = &h, .n = 1 };
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(rt_hooks_run(&list, "prestart", "{}", &err), 0);
        assert_int_equal(access(out, F_OK), 0);
}

static void test_exit_status(void **state)
{
        (void)state;
        _cleanup_free_ char *hook = script("exit3.sh", "exit 3");
        struct rt_hook h = { .path = hook };
        struct rt_hook_list list = { .v = &h, .n = 1 };
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_true(rt_hooks_run(&list, "prestart", "{}", &err) < 0);
        assert_non_null(err);
        char *want = NULL;
        assert_true(asprintf(&want, "hook prestart \"%s\": exit status 3", hook) > 0);
        assert_string_equal(err->msg, want);
        free(want);
}

static void test_killed_by_signal(void **state)
{
        (void)state;
        _cleanup_free_ char *hook = script("sig.sh", "kill -9 $$");
        struct rt_hook h = { .path = hook };
        struct rt_hook_list list = { .v = &h, .n = 1 };
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_true(rt_hooks_run(&list, "prestart", "{}", &err) < 0);
        assert_non_null(strstr(err->msg, ": killed by signal 9"));
}

static void test_timeout(void **state)
{
        (void)state;
        _cleanup_free_ char *hook = script("sleep.sh", "exec sleep 5");
        struct rt_hook h = { .path = hook, .timeout = 1 };
        struct rt_hook_list list = { .v = &h, .n = 1 };
        _cleanup_gerr_ struct gerr *err = NULL;
        double t0 = now_s();
        assert_true(rt_hooks_run(&list, "createRuntime", "{}", &err) < 0);
        double dt = now_s() - t0;
        assert_true(dt >= 0.9 && dt < 1.5);
        char *want = NULL;
        assert_true(asprintf(&want, "hook createRuntime \"%s\": timed out after 1 s", hook) > 0);
        assert_string_equal(err->msg, want);
        free(want);
}

static void test_missing_path(void **state)
{
        (void)state;
        _cleanup_free_ char *hook = path_in("does-not-exist");
        struct rt_hook h = { .path = hook };
        struct rt_hook_list list = { .v = &h, .n = 1 };
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(rt_hooks_run(&list, "prestart", "{}", &err), -ENOENT);
        char *want = NULL;
        assert_true(asprintf(&want, "hook prestart \"%s\": exec: No such file or directory",
                             hook) > 0);
        assert_string_equal(err->msg, want);
        free(want);
}

static void test_big_state_unread(void **state)
{
        (void)state;
        _cleanup_free_ char *hook = script("noread.sh", "exit 0");
        struct rt_hook h = { .path = hook };
        struct rt_hook_list list = { .v = &h, .n = 1 };
        size_t big = 1 << 20;
        _cleanup_free_ char *js = malloc(big + 1);
        memset(js, ' ', big);
        js[0] = '{';
        js[big - 1] = '}';
        js[big] = '\0';
        _cleanup_gerr_ struct gerr *err = NULL;
        /* SIGPIPE left at its default: if the runtime let it through, the test would die here */
        signal(SIGPIPE, SIG_DFL);
        assert_int_equal(rt_hooks_run(&list, "prestart", js, &err), 0);
        assert_null(err);
        sigset_t pending;
        sigpending(&pending);
        assert_false(sigismember(&pending, SIGPIPE));
}

static void test_stops_at_first_failure(void **state)
{
        (void)state;
        _cleanup_free_ char *out = path_in("second-strict.out");
        _cleanup_free_ char *body = NULL;
        assert_true(asprintf(&body, "touch '%s'", out) > 0);
        _cleanup_free_ char *fail = script("fail1.sh", "exit 1");
        _cleanup_free_ char *second = script("second-strict.sh", body);
        struct rt_hook hs[2] = { { .path = fail }, { .path = second } };
        struct rt_hook_list list = { .v = hs, .n = 2 };
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_true(rt_hooks_run(&list, "prestart", "{}", &err) < 0);
        assert_int_equal(access(out, F_OK), -1);
}

static void test_run_warn_runs_all(void **state)
{
        (void)state;
        _cleanup_free_ char *out = path_in("second.out");
        _cleanup_free_ char *body = NULL;
        assert_true(asprintf(&body, "touch '%s'", out) > 0);
        _cleanup_free_ char *fail = script("fail.sh", "exit 1");
        _cleanup_free_ char *second = script("second.sh", body);
        struct rt_hook hs[2] = { { .path = fail }, { .path = second } };
        struct rt_hook_list list = { .v = hs, .n = 2 };
        rt_hooks_run_warn(&list, "poststop", "{}");
        assert_int_equal(access(out, F_OK), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_state_on_stdin),
                cmocka_unit_test(test_big_state_read_whole),
                cmocka_unit_test(test_exact_env_and_args),
                cmocka_unit_test(test_args_null_means_path),
                cmocka_unit_test(test_argv0_is_args0),
                cmocka_unit_test(test_exit_status),
                cmocka_unit_test(test_killed_by_signal),
                cmocka_unit_test(test_timeout),
                cmocka_unit_test(test_missing_path),
                cmocka_unit_test(test_big_state_unread),
                cmocka_unit_test(test_stops_at_first_failure),
                cmocka_unit_test(test_run_warn_runs_all),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
