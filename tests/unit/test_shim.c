/* gantry-shim through engine/shim.c: real containers (root), framed attach, tty, stdin, logs,
 * exit status, clean-up, and re-adoption after the spawning process dies. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "engine/shim.h"
#include "runtime/runtime.h"

static char tmp[] = "/tmp/gantry-shim-test.XXXXXX";
static char exec_root[256], runtime_root[256];
static bool ready, tmp_made;

/* Every shim and container a test starts, so that teardown can end them whatever happened. */
static struct {
        char id[64];
        pid_t shim;
} started[16];
static size_t n_started;

static int group_setup(void **state)
{
        if (geteuid() != 0)
                return 0;
        const char *mk = getenv("MAKE_BUNDLE");
        if (mk == NULL || mkdtemp(tmp) == NULL)
                return 0;
        tmp_made = true;
        snprintf(exec_root, sizeof(exec_root), "%s/run", tmp);
        snprintf(runtime_root, sizeof(runtime_root), "%s/run/runtime", tmp);
        char cmd[PATH_MAX * 2];
        snprintf(cmd, sizeof(cmd), "%s %s/base >/dev/null 2>&1", mk, tmp);
        ready = system(cmd) == 0;
        return 0;
}

static int group_teardown(void **state)
{
        if (tmp_made) {
                char cmd[PATH_MAX];
                snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
                (void)!system(cmd);
        }
        return 0;
}

static bool is_shim(pid_t pid)
{
        char path[64], comm[64] = "";
        snprintf(path, sizeof(path), "/proc/%d/comm", pid);
        FILE *f = fopen(path, "r");
        if (f == NULL)
                return false;
        bool ok = fgets(comm, sizeof(comm), f) != NULL && strncmp(comm, "gantry-shim", 11) == 0;
        fclose(f);
        return ok;
}

static int test_teardown(void **state)
{
        struct rt_context ctx = {.root = runtime_root};
        for (size_t i = 0; i < n_started; i++) {
                if (started[i].shim > 0 && is_shim(started[i].shim))
                        kill(started[i].shim, SIGKILL);
                rt_container_delete(&ctx, started[i].id, true, NULL);
        }
        n_started = 0;
        return 0;
}

static void need_root(void)
{
        if (!ready)
                skip();
}

static char *path_of(const char *id, const char *what)
{
        char *p = NULL;
        assert_true(asprintf(&p, "%s/%s/%s", tmp, id, what) > 0);
        return p;
}

/* A bundle of its own (config.json) over the shared busybox rootfs; memory limit if > 0. */
static void make_bundle_mem(const char *id, bool tty, const char *const *args, long mem)
{
        char dir[512], base[512], rootfs[512];
        snprintf(dir, sizeof(dir), "%s/%s", tmp, id);
        snprintf(base, sizeof(base), "%s/base/config.json", tmp);
        snprintf(rootfs, sizeof(rootfs), "%s/base/rootfs", tmp);
        assert_int_equal(fs_mkdir_p(dir, 0755, NULL), 0);
        json_t *cfg = json_load_file(base, 0, NULL);
        assert_non_null(cfg);
        json_t *a = json_array();
        for (size_t i = 0; args[i] != NULL; i++)
                json_array_append_new(a, json_string(args[i]));
        json_t *proc = json_object_get(cfg, "process");
        json_object_set_new(proc, "args", a);
        json_object_set_new(proc, "terminal", json_boolean(tty));
        json_object_set_new(json_object_get(cfg, "root"), "path", json_string(rootfs));
        if (mem > 0) {
                json_t *res = json_pack("{s:{s:I,s:I}}", "memory", "limit", (json_int_t)mem, "swap",
                                        (json_int_t)mem);
                json_object_set_new(json_object_get(cfg, "linux"), "resources", res);
        }
        char out[PATH_MAX];
        snprintf(out, sizeof(out), "%s/config.json", dir);
        assert_int_equal(json_dump_file(cfg, out, 0), 0);
        json_decref(cfg);
}

static void make_bundle(const char *id, bool tty, const char *const *args)
{
        make_bundle_mem(id, tty, args, 0);
}

struct spawned {
        pid_t shim, init;
};

static int spawn(const char *id, bool tty, bool open_stdin, bool stdin_once, long max_size,
                 int max_files, struct spawned *sp, struct gerr **err)
{
        _cleanup_free_ char *bundle = path_of(id, "");
        _cleanup_free_ char *log = path_of(id, "log.json");
        _cleanup_free_ char *exitp = path_of(id, "exit.json");
        struct eng_shim_spawn_opts o = {
            .id = id,
            .bundle = bundle,
            .exec_root = exec_root,
            .runtime_root = runtime_root,
            .log_path = log,
            .exit_path = exitp,
            .tty = tty,
            .open_stdin = open_stdin,
            .stdin_once = stdin_once,
            .log_max_size = max_size,
            .log_max_files = max_files,
        };
        snprintf(started[n_started].id, sizeof(started[0].id), "%s", id);
        started[n_started].shim = 0;
        n_started++;
        int r = eng_shim_spawn(&o, &sp->shim, &sp->init, err);
        if (r == 0)
                started[n_started - 1].shim = sp->shim;
        return r;
}

static void spawn_ok(const char *id, bool tty, bool open_stdin, bool stdin_once, struct spawned *sp)
{
        struct gerr *e = NULL;
        int r = spawn(id, tty, open_stdin, stdin_once, 0, 1, sp, &e);
        if (r < 0)
                fail_msg("spawn %s: %s", id, e ? e->msg : "?");
        assert_true(sp->shim > 0 && sp->init > 0);
}

/* Everything until EOF (10 s at most). */
static size_t read_all(int fd, char *buf, size_t cap)
{
        size_t len = 0;
        for (int i = 0; i < 100 && len < cap; i++) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, 100) <= 0)
                        continue;
                ssize_t n = read(fd, buf + len, cap - len);
                if (n <= 0)
                        return len;
                len += (size_t)n;
        }
        fail_msg("no EOF on the attach stream");
        return len;
}

static void assert_gone(const char *id)
{
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/shims/%s.sock", exec_root, id);
        assert_false(fs_exists(p));
        snprintf(p, sizeof(p), "%s/%s", runtime_root, id);
        assert_false(fs_exists(p));
}

static void wait_code(const char *id, int want)
{
        struct eng_exit ex;
        struct gerr *e = NULL;
        _cleanup_free_ char *exitp = path_of(id, "exit.json");
        if (eng_shim_wait(exec_root, id, exitp, &ex, &e) < 0)
                fail_msg("wait %s: %s", id, e ? e->msg : "?");
        assert_int_equal(ex.code, want);
        assert_true(strlen(ex.finished_at) > 20);
}

static void test_framed_output(void **state)
{
        need_root();
        const char *id = "shimt-framed";
        make_bundle(id, false,
                    (const char *[]){"sh", "-c", "echo out; echo err >&2; exit 3", NULL});
        struct spawned sp;
        spawn_ok(id, false, false, false, &sp);
        struct gerr *e = NULL;
        _cleanup_close_ int fd = -1;
        assert_int_equal(eng_shim_attach(exec_root, id, false, true, true, &fd, &e), 0);
        assert_int_equal(eng_shim_start(exec_root, id, &e), 0);
        char buf[4096];
        size_t n = read_all(fd, buf, sizeof(buf));
        /* Two frames: [1,0,0,0,0,0,0,4]"out\n" and [2,0,0,0,0,0,0,4]"err\n". */
        assert_int_equal(n, 24);
        const char *frames[2] = {buf, buf + 12};
        int seen = 0;
        for (int i = 0; i < 2; i++) {
                const unsigned char *h = (const unsigned char *)frames[i];
                assert_true(h[1] == 0 && h[2] == 0 && h[3] == 0 && h[4] == 0 && h[5] == 0 &&
                            h[6] == 0 && h[7] == 4);
                assert_memory_equal(frames[i] + 8, h[0] == 1 ? "out\n" : "err\n", 4);
                seen |= h[0];
        }
        assert_int_equal(seen, 3);
        wait_code(id, 3);
        assert_gone(id);

        _cleanup_free_ char *log = path_of(id, "log.json");
        _cleanup_free_ char *text = NULL;
        size_t len;
        assert_int_equal(fs_read_file(log, &text, &len, NULL), 0);
        char *nl = strchr(text, '\n');
        assert_non_null(nl);
        assert_int_equal(strchr(nl + 1, '\n') - text, (long)len - 1); /* two lines */
        assert_non_null(strstr(text, "{\"log\":\"out\\n\",\"stream\":\"stdout\",\"time\":\""));
        assert_non_null(strstr(text, "{\"log\":\"err\\n\",\"stream\":\"stderr\",\"time\":\""));
        /* The shim is gone: wait falls back to the exit file. */
        wait_code(id, 3);
        _cleanup_free_ char *exitp = path_of(id, "exit.json");
        struct eng_exit ex;
        assert_int_equal(eng_shim_read_exit(exitp, &ex, NULL), 0);
        assert_int_equal(ex.code, 3);
        assert_false(ex.oom_killed);
}

static void test_tty(void **state)
{
        need_root();
        const char *id = "shimt-tty";
        make_bundle(id, true, (const char *[]){"tty", NULL});
        struct spawned sp;
        spawn_ok(id, true, false, false, &sp);
        struct gerr *e = NULL;
        _cleanup_close_ int fd = -1;
        assert_int_equal(eng_shim_attach(exec_root, id, false, true, false, &fd, &e), 0);
        assert_int_equal(eng_shim_resize(exec_root, id, 30, 100, &e), 0);
        assert_int_equal(eng_shim_start(exec_root, id, &e), 0);
        char buf[4096];
        size_t n = read_all(fd, buf, sizeof(buf) - 1);
        buf[n] = '\0';
        assert_string_equal(buf, "/dev/pts/0\r\n");
        wait_code(id, 0);
        assert_gone(id);
}

static void test_stdin_once(void **state)
{
        need_root();
        const char *id = "shimt-stdin";
        make_bundle(id, false, (const char *[]){"cat", NULL});
        struct spawned sp;
        spawn_ok(id, false, true, true, &sp);
        struct gerr *e = NULL;
        _cleanup_close_ int fd = -1;
        assert_int_equal(eng_shim_attach(exec_root, id, true, true, true, &fd, &e), 0);
        assert_int_equal(eng_shim_start(exec_root, id, &e), 0);
        assert_int_equal(write(fd, "hello", 5), 5);
        assert_int_equal(shutdown(fd, SHUT_WR), 0);
        char buf[4096];
        size_t n = read_all(fd, buf, sizeof(buf));
        assert_int_equal(n, 13);
        assert_int_equal(buf[0], 1);
        assert_int_equal(buf[7], 5);
        assert_memory_equal(buf + 8, "hello", 5);
        wait_code(id, 0);
        assert_gone(id);
}

static void test_tty_stdin(void **state)
{
        need_root();
        const char *id = "shimt-ttyin";
        make_bundle(id, true, (const char *[]){"sh", "-c", "read x; echo got $x", NULL});
        struct spawned sp;
        spawn_ok(id, true, true, true, &sp);
        struct gerr *e = NULL;
        _cleanup_close_ int fd = -1;
        assert_int_equal(eng_shim_attach(exec_root, id, true, true, true, &fd, &e), 0);
        assert_int_equal(eng_shim_start(exec_root, id, &e), 0);
        assert_int_equal(write(fd, "hi\n", 3), 3);
        char buf[4096];
        size_t n = read_all(fd, buf, sizeof(buf) - 1);
        buf[n] = '\0';
        /* The tty echoes the input, then the answer. */
        assert_string_equal(buf, "hi\r\ngot hi\r\n");
        wait_code(id, 0);
}

/* Dispositions and mask of the engine (here: SIGPIPE ignored) must not reach the container. */
static void test_signals_default(void **state)
{
        need_root();
        const char *id = "shimt-sig";
        make_bundle(id, false,
                    (const char *[]){"grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status", NULL});
        struct spawned sp;
        spawn_ok(id, false, false, false, &sp);
        struct gerr *e = NULL;
        _cleanup_close_ int fd = -1;
        assert_int_equal(eng_shim_attach(exec_root, id, false, true, false, &fd, &e), 0);
        assert_int_equal(eng_shim_start(exec_root, id, &e), 0);
        char buf[4096];
        size_t n = read_all(fd, buf, sizeof(buf) - 1);
        buf[n] = '\0';
        assert_true(n > 8);
        assert_string_equal(buf + 8, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
        wait_code(id, 0);
}

static void test_oom(void **state)
{
        need_root();
        const char *id = "shimt-oom";
        make_bundle_mem(
            id, false,
            (const char *[]){"sh", "-c",
                             "x=$(head -c 300000000 /dev/zero | tr '\\0' a); echo survived", NULL},
            32 << 20);
        struct spawned sp;
        spawn_ok(id, false, false, false, &sp);
        struct gerr *e = NULL;
        assert_int_equal(eng_shim_start(exec_root, id, &e), 0);
        struct eng_exit ex;
        _cleanup_free_ char *exitp = path_of(id, "exit.json");
        assert_int_equal(eng_shim_wait(exec_root, id, exitp, &ex, &e), 0);
        assert_int_equal(ex.code, 137);
        assert_true(ex.oom_killed);
        assert_int_equal(eng_shim_read_exit(exitp, &ex, &e), 0);
        assert_true(ex.oom_killed);
        assert_gone(id);
}

/* utime + stime of pid, in clock ticks. */
static long cpu_ticks(pid_t pid)
{
        char path[64], buf[1024];
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        long ut = 0, st = 0;
        char *p = strrchr(buf, ')');
        assert_non_null(p);
        /* after "comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
         * utime stime */
        assert_int_equal(
            sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &ut, &st), 2);
        return ut + st;
}

/* The spawner (gantryd) dies by SIGKILL: the shim and its container live on, reachable by path. */
static void test_readopt(void **state)
{
        need_root();
        const char *id = "shimt-readopt";
        make_bundle(id, false, (const char *[]){"sh", "-c", "echo up; exec sleep 1000", NULL});
        int p[2];
        assert_int_equal(pipe(p), 0);
        snprintf(started[n_started].id, sizeof(started[0].id), "%s", id);
        started[n_started++].shim = 0;
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                struct spawned sp = {0};
                struct gerr *e = NULL;
                if (spawn(id, false, false, false, 0, 1, &sp, &e) < 0 ||
                    eng_shim_start(exec_root, id, &e) < 0)
                        sp.shim = 0;
                (void)!write(p[1], &sp, sizeof(sp));
                pause();
                _exit(0);
        }
        close(p[1]);
        struct spawned sp = {0};
        assert_int_equal(read(p[0], &sp, sizeof(sp)), (ssize_t)sizeof(sp));
        close(p[0]);
        started[n_started - 1].shim = sp.shim;
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        assert_true(sp.shim > 0);
        assert_int_equal(kill(sp.shim, 0), 0);
        assert_int_equal(kill(sp.init, 0), 0);

        struct gerr *e = NULL;
        /* A client that goes away entirely costs nothing afterwards (no spinning on HUP). */
        int gone = -1;
        assert_int_equal(eng_shim_attach(exec_root, id, true, true, true, &gone, &e), 0);
        close(gone);
        usleep(100000);
        long before = cpu_ticks(sp.shim);
        usleep(500000);
        assert_true(cpu_ticks(sp.shim) - before <= 2);

        _cleanup_close_ int fd = -1;
        assert_int_equal(eng_shim_attach(exec_root, id, false, true, true, &fd, &e), 0);
        assert_int_equal(eng_shim_kill(exec_root, id, SIGKILL, &e), 0);
        char buf[256];
        assert_int_equal(read_all(fd, buf, sizeof(buf)), 0); /* "up" came before we attached */
        wait_code(id, 137);
        assert_gone(id);
        _cleanup_free_ char *log = path_of(id, "log.json");
        _cleanup_free_ char *text = NULL;
        assert_int_equal(fs_read_file(log, &text, NULL, NULL), 0);
        assert_non_null(strstr(text, "\"log\":\"up\\n\""));
}

static void test_rotation(void **state)
{
        need_root();
        const char *id = "shimt-rotate";
        make_bundle(id, false,
                    (const char *[]){
                        "sh", "-c",
                        "i=0; while [ $i -lt 100 ]; do echo \"line $i <&>\"; i=$((i+1)); done; "
                        "printf 'no newline'",
                        NULL});
        struct spawned sp;
        struct gerr *e = NULL;
        assert_int_equal(spawn(id, false, false, false, 2000, 3, &sp, &e), 0);
        assert_int_equal(eng_shim_start(exec_root, id, &e), 0);
        wait_code(id, 0);
        _cleanup_free_ char *log = path_of(id, "log.json");
        _cleanup_free_ char *log1 = path_of(id, "log.json.1");
        _cleanup_free_ char *log2 = path_of(id, "log.json.2");
        _cleanup_free_ char *log3 = path_of(id, "log.json.3");
        assert_true(fs_exists(log1) && fs_exists(log2));
        assert_false(fs_exists(log3));
        /* The newest records are in log.json, or in log.json.1 when the last one filled
         * log.json and rotated it (where the files split depends on how the pipe's reads
         * fell). */
        _cleanup_free_ char *text = NULL, *text1 = NULL, *both = NULL;
        assert_int_equal(fs_read_file(log, &text, NULL, NULL), 0);
        assert_int_equal(fs_read_file(log1, &text1, NULL, NULL), 0);
        assert_true(asprintf(&both, "%s%s", text1, text) > 0);
        assert_non_null(strstr(both, "{\"log\":\"line 99 \\u003c\\u0026\\u003e\\n\","));
        assert_non_null(strstr(both, "{\"log\":\"no newline\",\"stream\":\"stdout\""));
        struct stat st;
        assert_int_equal(stat(log1, &st), 0);
        assert_true(st.st_size >= 2000 && st.st_size < 2200);
}

static void test_spawn_error(void **state)
{
        need_root();
        const char *id = "shimt-bad";
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s/%s", tmp, id);
        assert_int_equal(fs_mkdir_p(dir, 0755, NULL), 0); /* no config.json */
        struct spawned sp;
        struct gerr *e = NULL;
        assert_true(spawn(id, false, false, false, 0, 1, &sp, &e) < 0);
        assert_non_null(e);
        assert_non_null(strstr(e->msg, "config.json"));
        gerr_free(e);
        assert_gone(id);
        e = NULL;
        assert_int_equal(eng_shim_start(exec_root, id, &e), -ESRCH);
        gerr_free(e);
}

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_teardown(test_framed_output, test_teardown),
            cmocka_unit_test_teardown(test_tty, test_teardown),
            cmocka_unit_test_teardown(test_stdin_once, test_teardown),
            cmocka_unit_test_teardown(test_tty_stdin, test_teardown),
            cmocka_unit_test_teardown(test_signals_default, test_teardown),
            cmocka_unit_test_teardown(test_oom, test_teardown),
            cmocka_unit_test_teardown(test_readopt, test_teardown),
            cmocka_unit_test_teardown(test_rotation, test_teardown),
            cmocka_unit_test_teardown(test_spawn_error, test_teardown),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
