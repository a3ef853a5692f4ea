/* Docker's default seccomp profile: a libseccomp compile against a load from the program cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "engine/spec_internal.h"
#include "runtime/security.h"

#define ROUNDS 100

static double now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

/* Median time of ROUNDS builds of sc with this root (NULL: compile every time). */
static double median_build_us(const struct rt_seccomp *sc, const char *root,
                              const struct rt_seccomp_prog *want)
{
        double t[ROUNDS];
        for (int i = 0; i < ROUNDS; i++) {
                struct rt_seccomp_prog *p = NULL;
                double t0 = now_us();
                assert_int_equal(rt_seccomp_build(sc, root, &p, NULL), 0);
                t[i] = now_us() - t0;
                assert_int_equal(p->len, want->len);
                assert_memory_equal(p->insns, want->insns, p->len * sizeof(struct sock_filter));
                rt_seccomp_prog_free(p);
        }
        qsort(t, ROUNDS, sizeof(t[0]), cmp_double);
        return t[ROUNDS / 2];
}

static void test_default_profile_cached(void **state)
{
        (void)state;
        /* The profile gantryd gives `docker run busybox`: docker's default capabilities. */
        _cleanup_json_ json_t *hc = json_object();
        _cleanup_json_ json_t *caps = json_pack(
                "[s,s,s,s,s,s,s,s,s,s,s,s,s,s]", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID",
                "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID",
                "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
                "CAP_KILL", "CAP_AUDIT_WRITE");
        json_t *profile = NULL;
        assert_int_equal(eng_seccomp_build(hc, caps, false, &profile, NULL), 0);
        _cleanup_json_ json_t *config = json_pack(
                "{s:s, s:{s:s}, s:{s:[s], s:s}, s:{s:o}}", "ociVersion", "1.0.2", "root", "path",
                "/", "process", "args", "true", "cwd", "/", "linux", "seccomp", profile);
        _cleanup_free_ char *text = json_dumps(config, 0);
        struct rt_spec *spec = NULL;
        assert_int_equal(rt_spec_parse(text, strlen(text), "/", &spec, NULL), 0);
        const struct rt_seccomp *sc = spec->linux.seccomp;
        assert_non_null(sc);

        char root[] = "/tmp/gantry-seccomp-bench-XXXXXX";
        assert_non_null(mkdtemp(root));
        /* A shim is a new process each start: time the first build of this process too, with
         * the file written by a child so that this process has not run libseccomp yet. */
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct rt_seccomp_prog *p = NULL;
                _exit(rt_seccomp_build(sc, root, &p, NULL) == 0 ? 0 : 1);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        struct rt_seccomp_prog *first = NULL, *fresh = NULL;
        double t0 = now_us();
        assert_int_equal(rt_seccomp_build(sc, root, &first, NULL), 0);
        double cached_cold = now_us() - t0;
        t0 = now_us();
        assert_int_equal(rt_seccomp_build(sc, NULL, &fresh, NULL), 0);
        double compile_cold = now_us() - t0;
        assert_int_equal(first->len, fresh->len);
        assert_memory_equal(first->insns, fresh->insns, fresh->len * sizeof(struct sock_filter));
        rt_seccomp_prog_free(first);

        double compile = median_build_us(sc, NULL, fresh);
        double cached = median_build_us(sc, root, fresh);
        printf("docker default profile (%zu rules, %u BPF instructions):\n"
               "                     first in a process   median of %d after\n"
               "  libseccomp compile %8.1f us          %8.1f us\n"
               "  program cache      %8.1f us          %8.1f us\n",
               sc->n_rules, fresh->len, ROUNDS, compile_cold, compile, cached_cold, cached);
        assert_true(cached_cold < compile_cold);
        assert_true(cached < compile);

        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        assert_int_equal(system(cmd), 0);
        rt_seccomp_prog_free(fresh);
        rt_spec_free(spec);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_default_profile_cached),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
