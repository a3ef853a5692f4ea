/* Tests for runtime rootfs/mounts/devices: a real busybox rootfs set up in private namespaces. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runtime/rootfs.h"
#include "runtime/rootfs_internal.h"

#define S(x) ((char *)(x))

static char tmpdir[64];
static char rootdir[128];
static char datadir[128];

/* Copy /bin/busybox into <tmp>/rootfs/bin and lay out a few files the tests look for. */
static int setup_tree(void **state)
{
        (void)state;
        if (geteuid() != 0)
                return 0;
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/gantry-rootfs-XXXXXX");
        if (mkdtemp(tmpdir) == NULL)
                return -1;
        snprintf(rootdir, sizeof(rootdir), "%s/rootfs", tmpdir);
        snprintf(datadir, sizeof(datadir), "%s/data", tmpdir);
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/bin", rootdir);
        if (fs_mkdir_p(p, 0755, NULL) < 0 || fs_mkdir_p(datadir, 0755, NULL) < 0)
                return -1;
        snprintf(p, sizeof(p), "%s/etc", rootdir);
        mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/opt/seed", rootdir);
        fs_mkdir_p(p, 0750, NULL);
        snprintf(p, sizeof(p), "%s/opt/seed/hello.txt", rootdir);
        fs_write_file(p, "seeded", 6, NULL);
        snprintf(p, sizeof(p), "%s/opt/seed/link", rootdir);
        if (symlink("hello.txt", p) < 0)
                return -1;
        /* The CVE-2021-30465 shape: a destination through a symlink aiming out of the rootfs. */
        snprintf(p, sizeof(p), "%s/evil", rootdir);
        if (symlink("/../../etc", p) < 0)
                return -1;
        snprintf(p, sizeof(p), "%s/procsys", rootdir);
        if (symlink("/proc/sys", p) < 0)
                return -1;
        snprintf(p, sizeof(p), "%s/file.txt", datadir);
        fs_write_file(p, "data", 4, NULL);

        _cleanup_free_ char *bb = NULL;
        size_t len = 0;
        if (fs_read_file("/bin/busybox", &bb, &len, NULL) < 0)
                return -1;
        snprintf(p, sizeof(p), "%s/bin/busybox", rootdir);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0755);
        if (fd < 0 || write(fd, bb, len) != (ssize_t)len)
                return -1;
        return 0;
}

static int teardown_tree(void **state)
{
        (void)state;
        if (tmpdir[0] != '\0')
                fs_rm_rf(tmpdir);
        return 0;
}

/* ---- helpers running inside the container child; failures become "FAIL" lines ---- */

static int report_fd = -1;
static int fails;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
        if (ok)
                return;
        fails++;
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n > sizeof(buf) - 2)
                n = sizeof(buf) - 2;
        buf[n++] = '\n';
        if (write(report_fd, "FAIL ", 5) < 0 || write(report_fd, buf, (size_t)n) < 0)
                _exit(99);
}

/* The topmost mount at mp: its per-mount options and fstype. */
static bool find_mount(const char *mp, char *opts, char *fstype, size_t size)
{
        _cleanup_free_ char *info = NULL;
        size_t len;
        if (fs_read_file("/proc/self/mountinfo", &info, &len, NULL) < 0)
                return false;
        bool found = false;
        for (char *sv = NULL, *l = strtok_r(info, "\n", &sv); l; l = strtok_r(NULL, "\n", &sv)) {
                char *f[6] = {0};
                char *p = l;
                for (int i = 0; i < 6 && p; i++)
                        f[i] = strsep(&p, " ");
                /* p: "[optional fields ]- fstype source superopts" */
                char *sep = p == NULL ? NULL : strncmp(p, "- ", 2) == 0 ? p - 1 : strstr(p, " - ");
                if (f[5] == NULL || sep == NULL || strcmp(f[4], mp) != 0)
                        continue;
                char *t = sep + 3;
                char *e = strchr(t, ' ');
                if (e)
                        *e = '\0';
                snprintf(opts, size, ",%s,", f[5]);
                snprintf(fstype, size, "%s", t);
                found = true;
        }
        return found;
}

static void check_mount(const char *mp, const char *fstype, const char *const *want)
{
        char opts[512], type[512];
        if (!find_mount(mp, opts, type, sizeof(opts))) {
                check(false, "no mount at %s", mp);
                return;
        }
        check(fstype == NULL || strcmp(type, fstype) == 0, "%s is %s, want %s", mp, type, fstype);
        for (; want && *want; want++) {
                char o[64];
                snprintf(o, sizeof(o), ",%s,", *want);
                check(strstr(opts, o) != NULL, "%s options %s lack %s", mp, opts, *want);
        }
}

static void check_errno(int r, int want, const char *what)
{
        check(r < 0 && errno == want, "%s: got %d errno %s, want %s", what, r, strerror(errno),
              strerror(want));
}

/* ---- the spec the tests use (built by hand, like config.json would give it) ---- */

static struct rt_namespace full_ns[] = {
    {CLONE_NEWNS, NULL},  {CLONE_NEWPID, NULL}, {CLONE_NEWUTS, NULL},
    {CLONE_NEWIPC, NULL}, {CLONE_NEWNET, NULL},
};

static void base_spec(struct rt_spec *s, struct rt_mount *mounts, size_t n)
{
        memset(s, 0, sizeof(*s));
        s->root_path = rootdir;
        s->mounts = mounts;
        s->n_mounts = n;
        s->linux.namespaces = full_ns;
        s->linux.n_namespaces = ARRAY_SIZE(full_ns);
}

/* Run fn in a child with private namespaces (pid 1 of a new pid namespace); returns its exit
 * status and what it reported. */
static int run_in_ns(int flags, void (*fn)(void *), void *arg, char *out, size_t size)
{
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                if (unshare(flags) < 0)
                        _exit(90);
                /* Nothing the child mounts may propagate back, whatever the host's setup. */
                if ((flags & CLONE_NEWNS) && mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                        _exit(91);
                pid_t c = fork();
                if (c < 0)
                        _exit(92);
                if (c == 0) {
                        report_fd = p[1];
                        fn(arg);
                        _exit(fails == 0 ? 0 : 1);
                }
                int st;
                if (waitpid(c, &st, 0) < 0)
                        _exit(93);
                _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 94);
        }
        close(p[1]);
        size_t n = 0;
        ssize_t r;
        while ((r = read(p[0], out + n, size - 1 - n)) > 0)
                n += (size_t)r;
        out[n] = '\0';
        close(p[0]);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void fail_gerr(const char *step, struct gerr *err)
{
        check(false, "%s: %s", step, err && err->msg ? err->msg : "(no message)");
        _exit(1);
}

/* ---- full container: default runc mounts and paths, extra binds, devices ---- */

static void full_container(void *arg)
{
        long mode = (long)arg; /* 0 pivot_root, 1 no_pivot (MS_MOVE + chroot), 2 rshared */
        bool no_pivot = mode == 1;
        static struct rt_mount mounts[] = {
            {.destination = S("/proc"), .type = S("proc"), .source = S("proc")},
            {.destination = S("/dev"),
             .type = S("tmpfs"),
             .source = S("tmpfs"),
             .flags = MS_NOSUID | MS_STRICTATIME,
             .data = S("mode=755,size=65536k")},
            {.destination = S("/dev/pts"),
             .type = S("devpts"),
             .source = S("devpts"),
             .flags = MS_NOSUID | MS_NOEXEC,
             .data = S("newinstance,ptmxmode=0666,mode=0620,gid=5")},
            {.destination = S("/dev/shm"),
             .type = S("tmpfs"),
             .source = S("shm"),
             .flags = MS_NOSUID | MS_NOEXEC | MS_NODEV,
             .data = S("mode=1777,size=65536k")},
            {.destination = S("/dev/mqueue"),
             .type = S("mqueue"),
             .source = S("mqueue"),
             .flags = MS_NOSUID | MS_NOEXEC | MS_NODEV},
            {.destination = S("/sys"),
             .type = S("sysfs"),
             .source = S("sysfs"),
             .flags = MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY},
            {.destination = S("/sys/fs/cgroup"),
             .type = S("cgroup"),
             .source = S("cgroup"),
             .flags = MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY},
            {.destination = S("/data"),
             .source = datadir,
             .flags = MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID,
             .propagation = MS_PRIVATE},
            {.destination = S("/data-file"), .type = S("bind"), .flags = MS_BIND},
            {.destination = S("/evil"),
             .type = S("tmpfs"),
             .source = S("tmpfs"),
             .flags = MS_NODEV},
            {.destination = S("/opt/seed"),
             .type = S("tmpfs"),
             .source = S("tmpfs"),
             .tmpcopyup = true},
        };
        static char datafile[160];
        snprintf(datafile, sizeof(datafile), "%s/file.txt", datadir);
        mounts[8].source = datafile;

        static struct rt_device devs[] = {
            {.type = 'c',
             .major = 10,
             .minor = 200,
             .path = S("/dev/net/tun"),
             .has_file_mode = true,
             .file_mode = 0620,
             .has_gid = true,
             .gid = 5},
            {.type = 'c',
             .major = 1,
             .minor = 3,
             .path = S("/dev/null"),
             .has_file_mode = true,
             .file_mode = 0666},
        };
        static char *masked[] = {S("/proc/kcore"), S("/proc/keys"), S("/sys/firmware"),
                                 S("/proc/does-not-exist"), NULL};
        static char *ro[] = {S("/proc/sys"), S("/proc/sysrq-trigger"), S("/nope"), NULL};

        struct rt_spec s;
        base_spec(&s, mounts, ARRAY_SIZE(mounts));
        s.linux.devices = devs;
        s.linux.n_devices = ARRAY_SIZE(devs);
        s.linux.masked_paths = masked;
        s.linux.readonly_paths = ro;
        s.hostname = S("rootfs-test");
        s.domainname = S("example.org");
        s.root_readonly = true;
        if (mode == 2)
                s.linux.rootfs_propagation = MS_SHARED | MS_REC;
        json_t *sysctl = json_pack("{s:s}", "kernel.shmmni", "4000");
        s.linux.sysctl = sysctl;

        struct gerr *err = NULL;
        if (rt_sysctl_check(&s, &err) < 0)
                fail_gerr("sysctl check", err);
        if (rt_rootfs_prepare(&s, NULL, &err) < 0)
                fail_gerr("prepare", err);

        /* Before the pivot the host's tree is still visible: the symlinked destination must
         * have landed in the rootfs, never on the host's /etc. */
        char opts[512], type[512], p[PATH_MAX];
        check(!find_mount("/etc", opts, type, sizeof(opts)), "a mount appeared on the host's /etc");
        snprintf(p, sizeof(p), "%s/etc", rootdir);
        check(find_mount(p, opts, type, sizeof(opts)) && strcmp(type, "tmpfs") == 0,
              "no tmpfs at %s", p);

        if (rt_rootfs_pivot(&s, no_pivot, &err) < 0)
                fail_gerr("pivot", err);
        if (rt_rootfs_finalize(&s, &err) < 0)
                fail_gerr("finalize", err);

        /* We are inside: / is the rootfs. */
        struct stat st;
        check(stat("/bin/busybox", &st) == 0, "no /bin/busybox in the new root");
        check(stat(tmpdir, &st) < 0, "the host's %s is still reachable", tmpdir);

        check_mount("/", NULL, (const char *const[]){"ro", NULL});
        check_mount("/proc", "proc", NULL);
        check_mount("/dev", "tmpfs", (const char *const[]){"rw", "nosuid", NULL});
        check_mount("/dev/pts", "devpts", (const char *const[]){"nosuid", "noexec", NULL});
        check_mount("/dev/shm", "tmpfs", (const char *const[]){"nosuid", "nodev", "noexec", NULL});
        check_mount("/dev/mqueue", "mqueue", (const char *const[]){"nosuid", "nodev", NULL});
        check_mount("/sys", "sysfs",
                    (const char *const[]){"ro", "nosuid", "nodev", "noexec", NULL});
        check_mount("/data", NULL, (const char *const[]){"ro", "nosuid", NULL});
        check_mount("/data-file", NULL, NULL);
        check_mount("/etc", "tmpfs", (const char *const[]){"nodev", NULL});
        check_mount("/opt/seed", "tmpfs", NULL);
        struct statfs sf;
        check(statfs("/sys/fs/cgroup", &sf) == 0, "statfs /sys/fs/cgroup");
        if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) {
                check_mount("/sys/fs/cgroup", NULL, (const char *const[]){"ro", NULL});
        } else {
                check_mount("/sys/fs/cgroup", "tmpfs", (const char *const[]){"ro", NULL});
                check_mount("/sys/fs/cgroup/memory", "cgroup",
                            (const char *const[]){"ro", "nosuid", "nodev", "noexec", NULL});
                check(mkdir("/sys/fs/cgroup/memory/x", 0755) < 0 && errno == EROFS,
                      "cgroup memory hierarchy is writable");
        }

        /* Devices. */
        check(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
                  minor(st.st_rdev) == 3 && (st.st_mode & 07777) == 0666,
              "/dev/null is not c 1:3 0666");
        check(stat("/dev/tty", &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 5,
              "/dev/tty missing");
        check(stat("/dev/net/tun", &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 10 &&
                  minor(st.st_rdev) == 200 && (st.st_mode & 07777) == 0620 && st.st_gid == 5,
              "/dev/net/tun is wrong");
        char link[64] = "";
        ssize_t n = readlink("/dev/ptmx", link, sizeof(link) - 1);
        check(n == 8 && memcmp(link, "pts/ptmx", 8) == 0, "/dev/ptmx -> %.*s", (int)n, link);
        n = readlink("/dev/fd", link, sizeof(link) - 1);
        check(n == 13 && memcmp(link, "/proc/self/fd", 13) == 0, "/dev/fd link");
        check(readlink("/dev/stderr", link, sizeof(link)) == 15, "/dev/stderr link");
        _cleanup_close_ int nul = open("/dev/null", O_WRONLY);
        check(nul >= 0 && write(nul, "x", 1) == 1, "cannot write /dev/null");

        /* Masked and read-only paths. */
        char buf[64];
        if (access("/proc/kcore", F_OK) == 0) {
                _cleanup_close_ int k = open("/proc/kcore", O_RDONLY);
                check(k >= 0 && read(k, buf, sizeof(buf)) == 0, "/proc/kcore not masked");
        }
        _cleanup_close_ int keys = open("/proc/keys", O_RDONLY);
        check(keys >= 0 && read(keys, buf, sizeof(buf)) == 0, "/proc/keys not masked");
        check_mount("/sys/firmware", "tmpfs", (const char *const[]){"ro", NULL});
        check_errno(mkdir("/sys/firmware/x", 0755), EROFS, "mkdir in masked /sys/firmware");
        _cleanup_close_ int hn = open("/proc/sys/kernel/hostname", O_WRONLY);
        check_errno(hn, EROFS, "open /proc/sys/kernel/hostname for writing");
        check_mount("/proc/sys", "proc", (const char *const[]){"ro", NULL});

        /* Sysctl written before /proc/sys went read-only. */
        _cleanup_free_ char *v = NULL;
        size_t len;
        check(fs_read_file("/proc/sys/kernel/shmmni", &v, &len, NULL) == 0 &&
                  strcmp(v, "4000\n") == 0,
              "kernel.shmmni = %s", v ? v : "?");

        /* The read-only bind and the read-only root. */
        _cleanup_free_ char *d = NULL;
        check(fs_read_file("/data/file.txt", &d, &len, NULL) == 0 && strcmp(d, "data") == 0,
              "bind /data content");
        _cleanup_close_ int w = open("/data/new", O_WRONLY | O_CREAT, 0644);
        check_errno(w, EROFS, "create in ro bind /data");
        _cleanup_close_ int w2 = open("/newfile", O_WRONLY | O_CREAT, 0644);
        check_errno(w2, EROFS, "create in the read-only root");
        _cleanup_close_ int w3 = open("/dev/shm/ok", O_WRONLY | O_CREAT, 0644);
        check(w3 >= 0, "/dev/shm not writable: %s", strerror(errno));

        /* tmpcopyup kept the image's files, links and directory mode. */
        _cleanup_free_ char *seed = NULL;
        check(fs_read_file("/opt/seed/link", &seed, &len, NULL) == 0 && strcmp(seed, "seeded") == 0,
              "tmpcopyup content");
        check(stat("/opt/seed", &st) == 0 && (st.st_mode & 07777) == 0750, "tmpcopyup mode %o",
              st.st_mode & 07777);

        struct utsname u;
        check(uname(&u) == 0 && strcmp(u.nodename, "rootfs-test") == 0, "hostname %s", u.nodename);
        check(strcmp(u.domainname, "example.org") == 0, "domainname %s", u.domainname);
        json_decref(sysctl);
}

static void run_full(long mode)
{
        if (geteuid() != 0)
                skip();
        char out[8192];
        int st = run_in_ns(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET,
                           full_container, (void *)mode, out, sizeof(out));
        if (out[0] != '\0')
                print_message("%s", out);
        assert_string_equal(out, "");
        assert_int_equal(st, 0);
}

static void test_full_container(void **state)
{
        (void)state;
        run_full(0);
}

static void test_full_container_no_pivot(void **state)
{
        (void)state;
        run_full(1);
}

/* A shared rootfsPropagation: pivot_root only works once the rootfs' parent is private. */
static void test_full_container_rshared(void **state)
{
        (void)state;
        run_full(2);
}

/* ---- the default config.json (`spec`), through the real parser ---- */

static void default_spec_container(void *arg)
{
        (void)arg;
        json_t *cfg = rt_spec_default(false);
        _cleanup_free_ char *text = json_dumps(cfg, 0);
        json_decref(cfg);
        struct rt_spec *s = NULL;
        struct gerr *err = NULL;
        if (text == NULL || rt_spec_parse(text, strlen(text), tmpdir, &s, &err) < 0)
                fail_gerr("parse the default spec", err);
        check(strcmp(s->root_path, rootdir) == 0, "root path %s", s->root_path);
        if (rt_rootfs_prepare(s, NULL, &err) < 0)
                fail_gerr("prepare", err);
        if (rt_rootfs_pivot(s, false, &err) < 0)
                fail_gerr("pivot", err);
        if (rt_rootfs_finalize(s, &err) < 0)
                fail_gerr("finalize", err);
        check_mount("/", NULL, (const char *const[]){"ro", NULL}); /* root.readonly: true */
        check_mount("/sys", "sysfs", (const char *const[]){"ro", "nosuid", NULL});
        check_mount("/dev/pts", "devpts", (const char *const[]){"nosuid", "noexec", NULL});
        check_mount("/proc/sys", "proc", (const char *const[]){"ro", NULL});
        struct stat st;
        check(stat("/dev/urandom", &st) == 0 && S_ISCHR(st.st_mode) && minor(st.st_rdev) == 9,
              "/dev/urandom");
        char buf[8];
        _cleanup_close_ int keys = open("/proc/keys", O_RDONLY);
        check(keys >= 0 && read(keys, buf, sizeof(buf)) == 0, "/proc/keys not masked");
        struct utsname u;
        check(uname(&u) == 0 && strcmp(u.nodename, "runc") == 0, "hostname %s", u.nodename);
        rt_spec_free(s);
}

static void test_default_spec(void **state)
{
        (void)state;
        if (geteuid() != 0)
                skip();
        char out[4096];
        int st = run_in_ns(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET,
                           default_spec_container, NULL, out, sizeof(out));
        if (out[0] != '\0')
                print_message("%s", out);
        assert_string_equal(out, "");
        assert_int_equal(st, 0);
}

/* ---- errors name the mount ---- */

static void bad_bind(void *arg)
{
        (void)arg;
        static struct rt_mount mounts[] = {
            {.destination = S("/data"), .source = S("/nonexistent"), .flags = MS_BIND},
        };
        struct rt_spec s;
        base_spec(&s, mounts, ARRAY_SIZE(mounts));
        struct gerr *err = NULL;
        int r = rt_rootfs_prepare(&s, NULL, &err);
        check(r == -ENOENT, "prepare returned %d", r);
        check(err != NULL &&
                  strcmp(err->msg,
                         "mount /nonexistent on /data (bind): No such file or directory") == 0,
              "message: %s", err ? err->msg : "(none)");
}

static void bad_proc_dest(void *arg)
{
        (void)arg;
        static struct rt_mount mounts[] = {
            {.destination = S("/proc/sys/x"), .type = S("tmpfs"), .source = S("tmpfs")},
        };
        struct rt_spec s;
        base_spec(&s, mounts, ARRAY_SIZE(mounts));
        struct gerr *err = NULL;
        int r = rt_rootfs_prepare(&s, NULL, &err);
        check(r < 0 && err != NULL &&
                  strcmp(err->msg,
                         "\"/proc/sys/x\" cannot be mounted because it is inside /proc") == 0,
              "message: %s", err ? err->msg : "(none)");
}

/* A destination that only a symlink leads into /proc is refused like a direct one. */
static void proc_via_symlink(void *arg)
{
        (void)arg;
        static struct rt_mount mounts[] = {
            {.destination = S("/proc"), .type = S("proc"), .source = S("proc")},
            {.destination = S("/procsys"), .type = S("tmpfs"), .source = S("tmpfs")},
        };
        struct rt_spec s;
        base_spec(&s, mounts, ARRAY_SIZE(mounts));
        struct gerr *err = NULL;
        int r = rt_rootfs_prepare(&s, NULL, &err);
        check(r < 0 && err != NULL &&
                  strcmp(err->msg, "\"/procsys\" cannot be mounted because it is inside /proc") ==
                      0,
              "message: %s", err ? err->msg : "(none)");
}

static void test_errors_name_the_mount(void **state)
{
        (void)state;
        if (geteuid() != 0)
                skip();
        char out[4096];
        assert_int_equal(run_in_ns(CLONE_NEWNS, bad_bind, NULL, out, sizeof(out)), 0);
        assert_string_equal(out, "");
        assert_int_equal(run_in_ns(CLONE_NEWNS, bad_proc_dest, NULL, out, sizeof(out)), 0);
        assert_string_equal(out, "");
        assert_int_equal(
            run_in_ns(CLONE_NEWNS | CLONE_NEWPID, proc_via_symlink, NULL, out, sizeof(out)), 0);
        assert_string_equal(out, "");
}

/* ---- user namespace: no mknod, so device nodes are binds of the host's ---- */

static void userns_container(void *arg)
{
        (void)arg;
        static struct rt_namespace ns[] = {{CLONE_NEWNS, NULL}, {CLONE_NEWUSER, NULL}};
        static struct rt_mount mounts[] = {
            {.destination = S("/dev"),
             .type = S("tmpfs"),
             .source = S("tmpfs"),
             .flags = MS_NOSUID,
             .data = S("mode=755")},
        };
        /* Map our own uid/gid (root) into a fresh user namespace, then own a mount namespace. */
        if (unshare(CLONE_NEWUSER) < 0 ||
            fs_write_file("/proc/self/setgroups", "deny", 4, NULL) < 0 ||
            fs_write_file("/proc/self/uid_map", "0 0 1", 5, NULL) < 0 ||
            fs_write_file("/proc/self/gid_map", "0 0 1", 5, NULL) < 0 || unshare(CLONE_NEWNS) < 0) {
                check(false, "user namespace setup: %s", strerror(errno));
                return;
        }
        struct rt_spec s;
        base_spec(&s, mounts, ARRAY_SIZE(mounts));
        s.linux.namespaces = ns;
        s.linux.n_namespaces = ARRAY_SIZE(ns);
        struct gerr *err = NULL;
        if (rt_rootfs_prepare(&s, NULL, &err) < 0)
                fail_gerr("prepare", err);
        if (rt_rootfs_pivot(&s, false, &err) < 0)
                fail_gerr("pivot", err);
        if (rt_rootfs_finalize(&s, &err) < 0)
                fail_gerr("finalize", err);
        struct stat st;
        check(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
                  minor(st.st_rdev) == 3,
              "/dev/null is not the host's node");
        check(stat("/dev/urandom", &st) == 0 && S_ISCHR(st.st_mode) && minor(st.st_rdev) == 9,
              "/dev/urandom missing");
        _cleanup_close_ int fd = open("/dev/zero", O_RDONLY);
        char b[4] = "xxx";
        check(fd >= 0 && read(fd, b, 3) == 3 && b[0] == 0, "/dev/zero unreadable");
}

static void test_userns_binds_devices(void **state)
{
        (void)state;
        if (geteuid() != 0)
                skip();
        char out[4096];
        int st = run_in_ns(0, userns_container, NULL, out, sizeof(out));
        if (out[0] != '\0')
                print_message("%s", out);
        assert_string_equal(out, "");
        assert_int_equal(st, 0);
}

/* ---- no root needed ---- */

static void expect_sysctl(const char *key, const struct rt_namespace *ns, size_t n, const char *msg)
{
        struct rt_spec s;
        memset(&s, 0, sizeof(s));
        s.linux.namespaces = (struct rt_namespace *)ns;
        s.linux.n_namespaces = n;
        s.linux.sysctl = json_pack("{s:s}", key, "1");
        struct gerr *err = NULL;
        int r = rt_sysctl_check(&s, &err);
        if (msg == NULL) {
                assert_int_equal(r, 0);
        } else {
                assert_true(r < 0);
                assert_non_null(err);
                assert_string_equal(err->msg, msg);
        }
        gerr_free(err);
        json_decref(s.linux.sysctl);
}

static void test_sysctl_check(void **state)
{
        (void)state;
        static const struct rt_namespace ipc[] = {{CLONE_NEWIPC, NULL}};
        static const struct rt_namespace net[] = {{CLONE_NEWNET, NULL}};
        static const struct rt_namespace hostnet[] = {{CLONE_NEWNET, S("/proc/self/ns/net")}};
        static const struct rt_namespace uts[] = {{CLONE_NEWUTS, NULL}};
        expect_sysctl("kernel.shmmax", ipc, 1, NULL);
        expect_sysctl("fs.mqueue.msg_max", ipc, 1, NULL);
        expect_sysctl("kernel.shmmax", net, 1,
                      "sysctl \"kernel.shmmax\" is not allowed in the hosts ipc namespace");
        expect_sysctl("net.ipv4.ip_forward", net, 1, NULL);
        expect_sysctl("net.ipv4.ip_forward", ipc, 1,
                      "sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace");
        expect_sysctl("net.ipv4.ip_forward", hostnet, 1,
                      "sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace");
        expect_sysctl("kernel.domainname", uts, 1, NULL);
        expect_sysctl("kernel.hostname", uts, 1,
                      "sysctl \"kernel.hostname\" is not allowed as it conflicts with the OCI "
                      "\"hostname\" field");
        expect_sysctl("vm.swappiness", net, 1,
                      "sysctl \"vm.swappiness\" is not in a separate kernel namespace");
}

static void test_path_clean(void **state)
{
        (void)state;
        char out[64];
        static const char *const cases[][2] = {
            {"/", "/"},
            {"//dev//", "/dev"},
            {"/a/./b/../c", "/a/c"},
            {"/../../etc", "/etc"},
            {"dev/pts", "/dev/pts"},
            {"/a/..", "/"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                rt_path_clean(cases[i][0], out, sizeof(out));
                assert_string_equal(out, cases[i][1]);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_path_clean),
            cmocka_unit_test(test_sysctl_check),
            cmocka_unit_test(test_full_container),
            cmocka_unit_test(test_full_container_no_pivot),
            cmocka_unit_test(test_full_container_rshared),
            cmocka_unit_test(test_default_spec),
            cmocka_unit_test(test_errors_name_the_mount),
            cmocka_unit_test(test_userns_binds_devices),
        };
        return cmocka_run_group_tests(tests, setup_tree, teardown_tree);
}
