/* Unit tests for runtime/seccomp.c and seccomp_cache.c: filters built from config.json rules act
 * on real syscalls, and a cached program is the one a fresh compile gives. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "runtime/seccomp_cache.h"
#include "runtime/security.h"

struct results {
        int rc; /* 0 = the filter loaded */
        int mkdir_errno, mkdirat_errno, pers_errno, pers_ok, getpgid_a, getpgid_b, getpgid_ok;
};

static int call_errno(long r)
{
        return r < 0 ? errno : 0;
}

/* Load prog in a child (so this process stays unfiltered) and report what the syscalls did. */
static struct results run_filtered(const struct rt_seccomp_prog *prog)
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
                    rt_seccomp_load(prog, NULL) < 0) {
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
                /* exit_group itself, not _exit(): under ASan a noreturn call first runs the
                 * sanitizer's hook, whose sigaltstack the filter may refuse. */
                if (write(pfd[1], &c, sizeof(c)) != sizeof(c))
                        syscall(SYS_exit_group, 2);
                syscall(SYS_exit_group, 0);
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

/* The profile most tests use, in storage of its own so that a test can change one field. */
struct profile {
        char *mk_names[4], *pers_names[2], *allow_names[2], *pgid_names[2], *archs[4];
        struct rt_seccomp_arg pers_arg, pgid_args[2];
        struct rt_seccomp_rule rules[4];
        struct rt_seccomp sc;
};

static void profile_init(struct profile *p)
{
        *p = (struct profile){
                .mk_names = { "mkdir", "mkdirat", "no_such_syscall_in_any_kernel", NULL },
                .pers_names = { "personality", NULL },
                .allow_names = { "getpid", NULL },
                .pgid_names = { "getpgid", NULL },
                .archs = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL },
                .pers_arg = { .index = 0, .value = 0xffffffff, .op = SCMP_CMP_EQ },
                .pgid_args = {
                        { .index = 0, .value = 12345, .op = SCMP_CMP_EQ },
                        { .index = 0, .value = 23456, .op = SCMP_CMP_EQ },
                },
        };
        p->rules[0] = (struct rt_seccomp_rule){ .names = p->mk_names, .action = SCMP_ACT_ERRNO(0),
                                                .errno_ret = { true, 38 } };
        p->rules[1] = (struct rt_seccomp_rule){ .names = p->pers_names,
                                                .action = SCMP_ACT_ERRNO(0),
                                                .args = &p->pers_arg, .n_args = 1 };
        /* Same as the default action: libseccomp would refuse it, we skip it. */
        p->rules[2] = (struct rt_seccomp_rule){ .names = p->allow_names, .action = SCMP_ACT_ALLOW };
        /* One argument compared twice: an OR of two rules (runc/docker). */
        p->rules[3] = (struct rt_seccomp_rule){ .names = p->pgid_names,
                                                .action = SCMP_ACT_ERRNO(0),
                                                .errno_ret = { true, EPROTO },
                                                .args = p->pgid_args, .n_args = 2 };
        p->sc = (struct rt_seccomp){ .default_action = SCMP_ACT_ALLOW, .architectures = p->archs,
                                     .rules = p->rules, .n_rules = ARRAY_SIZE(p->rules) };
}

static struct rt_seccomp_prog *build_ok(const struct rt_seccomp *sc, const char *root)
{
        _cleanup_gerr_ struct gerr *err = NULL;
        struct rt_seccomp_prog *prog = NULL;
        assert_int_equal(rt_seccomp_build(sc, root, &prog, &err), 0);
        assert_null(err);
        assert_non_null(prog);
        assert_true(prog->len >= 1);
        return prog;
}

static void assert_profile_results(struct results res)
{
        assert_int_equal(res.rc, 0);
        assert_int_equal(res.mkdir_errno, 38);
        assert_int_equal(res.mkdirat_errno, 38);
        assert_int_equal(res.pers_errno, EPERM);
        assert_int_equal(res.pers_ok, 0);
        assert_int_equal(res.getpgid_a, EPROTO);
        assert_int_equal(res.getpgid_b, EPROTO);
        assert_int_equal(res.getpgid_ok, 0);
}

static void test_rules_act_on_syscalls(void **state)
{
        (void)state;
        struct profile p;
        profile_init(&p);
        struct rt_seccomp_prog *prog = build_ok(&p.sc, NULL);
        assert_int_equal(prog->flags, 0);
        struct results res = run_filtered(prog);
        rt_seccomp_prog_free(prog);
        assert_profile_results(res);
}

static bool prog_has_ret(const struct rt_seccomp_prog *prog, uint32_t k)
{
        for (unsigned i = 0; i < prog->len; i++)
                if (prog->insns[i].code == (BPF_RET | BPF_K) && prog->insns[i].k == k)
                        return true;
        return false;
}

static void test_default_errno_and_flags(void **state)
{
        (void)state;
        char *names[] = { "mkdir", "mkdirat", NULL };
        char *io_names[] = { "write", "exit_group", NULL };
        char *flags[] = { "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", NULL };
        /* The rule repeats the default action ERRNO(EACCES): skipped, not an error. */
        struct rt_seccomp_rule rules[] = {
                { .names = names, .action = SCMP_ACT_ERRNO(0), .errno_ret = { true, EACCES } },
                { .names = io_names, .action = SCMP_ACT_ALLOW },
        };
        struct rt_seccomp sc = {
                .default_action = SCMP_ACT_ERRNO(0),
                .default_errno_ret = { true, EACCES },
                .flags = flags,
                .rules = rules,
                .n_rules = ARRAY_SIZE(rules),
        };
        struct rt_seccomp_prog *prog = build_ok(&sc, NULL);
        /* What seccomp_load passes for these attributes. */
        assert_int_equal(prog->flags, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG);
        assert_true(prog_has_ret(prog, SECCOMP_RET_ERRNO | EACCES));
        /* The kernel takes the flags, and every syscall but write and exit_group fails. */
        struct results res = run_filtered(prog);
        rt_seccomp_prog_free(prog);
        assert_int_equal(res.rc, 0);
        assert_int_equal(res.mkdir_errno, EACCES);
        assert_int_equal(res.pers_ok, EACCES);
        assert_int_equal(res.getpgid_ok, EACCES);
}

static void test_bad_flag_named(void **state)
{
        (void)state;
        char *flags[] = { "SECCOMP_FILTER_FLAG_BOGUS", NULL };
        struct rt_seccomp sc = { .default_action = SCMP_ACT_ALLOW, .flags = flags };
        _cleanup_gerr_ struct gerr *err = NULL;
        struct rt_seccomp_prog *prog = NULL;
        assert_int_equal(rt_seccomp_build(&sc, NULL, &prog, &err), -EINVAL);
        assert_null(prog);
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
        struct rt_seccomp_prog *prog = NULL;
        assert_int_equal(rt_seccomp_build(&sc, NULL, &prog, &err), -EINVAL);
        assert_string_equal(err->msg, "seccomp: unknown architecture SCMP_ARCH_VAX: Invalid argument");
        gerr_freep(&err);

        struct rt_seccomp sn = { .default_action = SCMP_ACT_ALLOW, .listener_path = "/run/x.sock" };
        assert_int_equal(rt_seccomp_build(&sn, NULL, &prog, &err), -EOPNOTSUPP);
        assert_null(prog);
        assert_non_null(strstr(err->msg, "seccomp notify (listenerPath) is not supported"));
}

static void test_null_spec(void **state)
{
        (void)state;
        struct rt_seccomp_prog *prog = (struct rt_seccomp_prog *)1;
        assert_int_equal(rt_seccomp_build(NULL, "/nonexistent", &prog, NULL), 0);
        assert_null(prog);
        assert_int_equal(rt_seccomp_load(NULL, NULL), 0);
}

/* ---- the cache ---- */

static char *make_root(void)
{
        char *root = strdup("/tmp/gantry-seccomp-cache-XXXXXX");
        assert_non_null(root);
        assert_non_null(mkdtemp(root));
        return root;
}

static void remove_root(char *root)
{
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        assert_int_equal(system(cmd), 0);
        free(root);
}

/* <root>/seccomp cache/<hash>.bpf for this profile. */
static void cache_path(const char *root, const struct rt_seccomp *sc, char *path, size_t size)
{
        size_t len = 0;
        _cleanup_free_ char *key = rt_seccomp_cache_key(sc, &len);
        assert_non_null(key);
        char name[21];
        rt_seccomp_cache_name(key, len, name);
        snprintf(path, size, "%s/" RT_SECCOMP_CACHE_DIR "/%s", root, name);
}

static struct stat stat_ok(const char *path)
{
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        return st;
}

static size_t count_files(const char *root)
{
        char dir[256];
        snprintf(dir, sizeof(dir), "%s/" RT_SECCOMP_CACHE_DIR, root);
        DIR *d = opendir(dir);
        assert_non_null(d);
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
                n += de->d_name[0] != '.';
        closedir(d);
        return n;
}

static void assert_same_prog(const struct rt_seccomp_prog *a, const struct rt_seccomp_prog *b)
{
        assert_int_equal(a->len, b->len);
        assert_int_equal(a->flags, b->flags);
        assert_memory_equal(a->insns, b->insns, a->len * sizeof(struct sock_filter));
}

static bool same_prog(const struct rt_seccomp_prog *a, const struct rt_seccomp_prog *b)
{
        return a->len == b->len &&
               memcmp(a->insns, b->insns, a->len * sizeof(struct sock_filter)) == 0;
}

static void test_cache_hit_identical(void **state)
{
        (void)state;
        char *root = make_root();
        struct profile p;
        profile_init(&p);
        char path[512], dir[300];
        cache_path(root, &p.sc, path, sizeof(path));
        snprintf(dir, sizeof(dir), "%s/" RT_SECCOMP_CACHE_DIR, root);

        struct rt_seccomp_prog *fresh = build_ok(&p.sc, NULL);
        struct rt_seccomp_prog *miss = build_ok(&p.sc, root);
        struct stat st = stat_ok(path), dst = stat_ok(dir);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(dst.st_mode & 07777, 0700);
        assert_int_equal(count_files(root), 1);
        struct rt_seccomp_prog *hit = build_ok(&p.sc, root);
        /* A hit reads the file and leaves it alone (a miss would rename a new one in place). */
        assert_int_equal(stat_ok(path).st_ino, st.st_ino);
        assert_same_prog(miss, fresh);
        assert_same_prog(hit, fresh);
        struct results res = run_filtered(hit);
        assert_profile_results(res);
        rt_seccomp_prog_free(fresh);
        rt_seccomp_prog_free(miss);
        rt_seccomp_prog_free(hit);
        remove_root(root);
}

static void test_cache_key_changes(void **state)
{
        (void)state;
        char *root = make_root();
        struct profile base, errno_changed, arg_changed;
        profile_init(&base);
        profile_init(&errno_changed);
        profile_init(&arg_changed);
        errno_changed.rules[0].errno_ret.v = 39;
        arg_changed.pgid_args[1].value = 23457;
        struct rt_seccomp_prog *a = build_ok(&base.sc, root);
        struct rt_seccomp_prog *b = build_ok(&errno_changed.sc, root);
        struct rt_seccomp_prog *c = build_ok(&arg_changed.sc, root);
        assert_int_equal(count_files(root), 3);
        char pa[512], pb[512], pc[512];
        cache_path(root, &base.sc, pa, sizeof(pa));
        cache_path(root, &errno_changed.sc, pb, sizeof(pb));
        cache_path(root, &arg_changed.sc, pc, sizeof(pc));
        assert_string_not_equal(pa, pb);
        assert_string_not_equal(pa, pc);
        assert_false(same_prog(a, b));
        assert_false(same_prog(a, c));
        /* Each comes back from its own file as its own program. */
        struct rt_seccomp_prog *b2 = build_ok(&errno_changed.sc, root);
        struct rt_seccomp_prog *c2 = build_ok(&arg_changed.sc, root);
        assert_same_prog(b2, b);
        assert_same_prog(c2, c);
        struct rt_seccomp_prog *progs[] = { a, b, c, b2, c2 };
        for (size_t i = 0; i < ARRAY_SIZE(progs); i++)
                rt_seccomp_prog_free(progs[i]);
        remove_root(root);
}

static void write_file(const char *path, const void *buf, size_t len)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, buf, len), (ssize_t)len);
        close(fd);
}

static size_t read_file(const char *path, char *buf, size_t size)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        ssize_t n = read(fd, buf, size);
        close(fd);
        assert_true(n > 0 && (size_t)n < size);
        return (size_t)n;
}

/* Damage the cache file in one way, then a build must ignore it and write a good one. */
static void check_damage_ignored(const char *what, size_t len, const char *bytes)
{
        (void)what;
        char *root = make_root();
        struct profile p;
        profile_init(&p);
        char path[512];
        cache_path(root, &p.sc, path, sizeof(path));
        struct rt_seccomp_prog *fresh = build_ok(&p.sc, root);
        static char good[65536];
        size_t good_len = read_file(path, good, sizeof(good));
        write_file(path, bytes != NULL ? bytes : good, len);
        struct rt_seccomp_prog *again = build_ok(&p.sc, root);
        assert_same_prog(again, fresh);
        static char now[65536];
        assert_int_equal(read_file(path, now, sizeof(now)), good_len);
        assert_memory_equal(now, good, good_len);
        rt_seccomp_prog_free(fresh);
        rt_seccomp_prog_free(again);
        remove_root(root);
}

static void test_cache_damaged_ignored(void **state)
{
        (void)state;
        /* Learn the good file's bytes first, then replay each kind of damage on it. */
        char *root = make_root();
        struct profile p;
        profile_init(&p);
        char path[512];
        cache_path(root, &p.sc, path, sizeof(path));
        rt_seccomp_prog_free(build_ok(&p.sc, root));
        static char good[65536], bad[65536];
        size_t n = read_file(path, good, sizeof(good));
        remove_root(root);

        check_damage_ignored("truncated in the program", n - 3, NULL);
        check_damage_ignored("header only", 16, NULL);
        check_damage_ignored("empty", 0, NULL);
        memcpy(bad, good, n);
        bad[0] ^= 1;
        check_damage_ignored("bad magic", n, bad);
        memcpy(bad, good, n);
        bad[12] ^= 1; /* instruction count */
        check_damage_ignored("wrong count", n, bad);
        memcpy(bad, good, n);
        memset(bad + 12, 0, 4);
        check_damage_ignored("zero instructions", 16, bad);
        memcpy(bad, good, n);
        bad[n] = 0;
        check_damage_ignored("trailing byte", n + 1, bad);
}

static void test_cache_forged_key_ignored(void **state)
{
        (void)state;
        char *root = make_root();
        /* Two keys of the same length that differ in one byte (errno 38 vs 39): only the stored
         * key tells them apart once the file has the other one's name. */
        struct profile mine, other;
        profile_init(&mine);
        profile_init(&other);
        other.rules[0].errno_ret.v = 39;
        char mine_path[512], other_path[512];
        cache_path(root, &mine.sc, mine_path, sizeof(mine_path));
        cache_path(root, &other.sc, other_path, sizeof(other_path));
        struct rt_seccomp_prog *other_prog = build_ok(&other.sc, root);
        assert_int_equal(rename(other_path, mine_path), 0);
        struct rt_seccomp_prog *fresh = build_ok(&mine.sc, NULL);
        struct rt_seccomp_prog *got = build_ok(&mine.sc, root);
        assert_false(same_prog(other_prog, fresh));
        assert_same_prog(got, fresh);
        /* Rewritten: the next build is a hit on our own program. */
        struct stat st = stat_ok(mine_path);
        struct rt_seccomp_prog *hit = build_ok(&mine.sc, root);
        assert_int_equal(stat_ok(mine_path).st_ino, st.st_ino);
        assert_same_prog(hit, fresh);
        assert_profile_results(run_filtered(hit));
        struct rt_seccomp_prog *progs[] = { other_prog, fresh, got, hit };
        for (size_t i = 0; i < ARRAY_SIZE(progs); i++)
                rt_seccomp_prog_free(progs[i]);
        remove_root(root);
}

/* A cache directory others can write is not trusted: its programs are neither read nor added. */
static void test_cache_open_dir_untrusted(void **state)
{
        (void)state;
        char *root = make_root();
        struct profile mine, other;
        profile_init(&mine);
        profile_init(&other);
        other.rules[0].errno_ret.v = 39;
        char mine_path[512], other_path[512], dir[300];
        cache_path(root, &mine.sc, mine_path, sizeof(mine_path));
        cache_path(root, &other.sc, other_path, sizeof(other_path));
        snprintf(dir, sizeof(dir), "%s/" RT_SECCOMP_CACHE_DIR, root);
        struct rt_seccomp_prog *mine_prog = build_ok(&mine.sc, root);
        assert_int_equal(chmod(dir, 0777), 0);
        struct stat st = stat_ok(mine_path);
        struct rt_seccomp_prog *again = build_ok(&mine.sc, root);
        struct rt_seccomp_prog *o = build_ok(&other.sc, root);
        assert_same_prog(again, mine_prog);
        assert_int_equal(stat_ok(mine_path).st_ino, st.st_ino); /* not rewritten either */
        assert_int_equal(access(other_path, F_OK), -1);
        struct rt_seccomp_prog *progs[] = { mine_prog, again, o };
        for (size_t i = 0; i < ARRAY_SIZE(progs); i++)
                rt_seccomp_prog_free(progs[i]);
        remove_root(root);
}

static bool make_read_only(const char *root, const char *dir)
{
        if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
            mount(root, root, NULL, MS_BIND | MS_REC, NULL) == 0 &&
            mount(NULL, root, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) == 0)
                return true;
        return chmod(dir, 0555) == 0 && chmod(root, 0555) == 0;
}

/* root becomes a small tmpfs (in a mount namespace of our own) that a filler file fills. */
static bool make_full(const char *root, const char *dir)
{
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tmpfs", root, "tmpfs", 0, "size=64k,mode=0700") < 0 || mkdir(dir, 0700) < 0)
                return false;
        char filler[320];
        snprintf(filler, sizeof(filler), "%s/filler", root);
        int fd = open(filler, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        static char block[4096];
        while (fd >= 0 && write(fd, block, sizeof(block)) > 0)
                ;
        bool full = fd >= 0 && errno == ENOSPC;
        close(fd);
        return full;
}

static size_t dir_entries(const char *dir)
{
        DIR *d = opendir(dir);
        size_t n = 0;
        struct dirent *de;
        while (d != NULL && (de = readdir(d)) != NULL)
                n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
        if (d != NULL)
                closedir(d);
        return n;
}

/* In a child, make the cache unwritable (read-only: a read-only bind mount, as root ignores mode
 * bits, else mode 0555; full: ENOSPC), build, load the program and run the syscalls. Nothing may
 * be left in the cache directory, not even a temp file. */
static void check_unwritable(bool full)
{
        char *root = make_root();
        struct profile first, p;
        profile_init(&first);
        profile_init(&p);
        first.rules[0].errno_ret.v = 39;
        char path[512], dir[300];
        cache_path(root, &p.sc, path, sizeof(path));
        snprintf(dir, sizeof(dir), "%s/" RT_SECCOMP_CACHE_DIR, root);
        int pfd[2];
        assert_int_equal(pipe(pfd), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(pfd[0]);
                struct results res = { .rc = -2 };
                bool ready;
                if (full) {
                        ready = make_full(root, dir);
                } else {
                        rt_seccomp_prog_free(build_ok(&first.sc, root)); /* the dir exists */
                        ready = make_read_only(root, dir);
                }
                size_t before = dir_entries(dir);
                struct rt_seccomp_prog *prog = NULL;
                if (ready) {
                        res.rc = -1;
                        if (rt_seccomp_build(&p.sc, root, &prog, NULL) == 0 && prog != NULL &&
                            access(path, F_OK) < 0 && errno == ENOENT &&
                            dir_entries(dir) == before)
                                res = run_filtered(prog);
                }
                if (write(pfd[1], &res, sizeof(res)) != sizeof(res))
                        _exit(2);
                _exit(0);
        }
        close(pfd[1]);
        struct results res;
        assert_int_equal(read(pfd[0], &res, sizeof(res)), (ssize_t)sizeof(res));
        close(pfd[0]);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        chmod(root, 0700);
        chmod(dir, 0700);
        remove_root(root);
        if (res.rc == -2 && full)
                skip(); /* no mount namespace without root */
        assert_profile_results(res);
}

static void test_cache_read_only(void **state)
{
        (void)state;
        check_unwritable(false);
}

static void test_cache_full(void **state)
{
        (void)state;
        check_unwritable(true);
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
                cmocka_unit_test(test_cache_hit_identical),
                cmocka_unit_test(test_cache_key_changes),
                cmocka_unit_test(test_cache_damaged_ignored),
                cmocka_unit_test(test_cache_forged_key_ignored),
                cmocka_unit_test(test_cache_open_dir_untrusted),
                cmocka_unit_test(test_cache_read_only),
                cmocka_unit_test(test_cache_full),
                cmocka_unit_test(test_features),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
