/* Engine spec generation: Docker create body + image config -> merged config -> config.json. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "engine/engine_internal.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char rootdir[64];

static int setup_rootfs(void **state)
{
        snprintf(rootdir, sizeof(rootdir), "/tmp/test-engine-spec.XXXXXX");
        assert_non_null(mkdtemp(rootdir));
        char p[128];
        snprintf(p, sizeof(p), "%s/etc", rootdir);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof(p), "%s/etc/passwd", rootdir);
        const char *pw = "root:x:0:0:root:/root:/bin/sh\n"
                         "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
                         "app:x:1000:1001::/home/app:/bin/sh\n";
        assert_int_equal(fs_write_file(p, pw, strlen(pw), NULL), 0);
        snprintf(p, sizeof(p), "%s/etc/group", rootdir);
        const char *gr = "root:x:0:\nwheel:x:10:app,other\napp:x:1001:\naudio:x:29:\n";
        assert_int_equal(fs_write_file(p, gr, strlen(gr), NULL), 0);
        return 0;
}

static int teardown_rootfs(void **state)
{
        fs_rm_rf(rootdir);
        return 0;
}

static json_t *load(const char *text)
{
        json_error_t je;
        json_t *j = json_loads(text, 0, &je);
        if (j == NULL)
                fail_msg("bad test json: %s: %s", je.text, text);
        return j;
}

static json_t *merge(const char *body, const char *image)
{
        _cleanup_json_ json_t *b = load(body);
        _cleanup_json_ json_t *i = image ? load(image) : NULL;
        json_t *out = NULL;
        struct gerr *err = NULL;
        int r = eng_spec_merge(b, i, ID, "busybox", &out, &err);
        if (r < 0)
                fail_msg("merge: %s", err->msg);
        return out;
}

/* Build config.json; returns the errno (0 ok) and the spec in *out. */
static int build(const char *body, const char *image, const char *netns, json_t **out)
{
        _cleanup_json_ json_t *m = merge(body, image);
        const char *dirs[] = {rootdir, NULL};
        struct eng_spec_in in = {.id = ID, .config = m, .container_dir = "/c",
                                 .rootfs_dirs = dirs, .netns_path = netns};
        struct gerr *err = NULL;
        int r = eng_spec_build(&in, out, &err);
        gerr_free(err);
        return r < 0 ? -r : 0;
}

static json_t *build_ok(const char *body, const char *image)
{
        json_t *spec = NULL;
        assert_int_equal(build(body, image, NULL, &spec), 0);
        return spec;
}

static bool str_in(json_t *arr, const char *s)
{
        size_t i;
        json_t *v;
        json_array_foreach (arr, i, v)
                if (strcmp(json_string_value(v), s) == 0)
                        return true;
        return false;
}

static json_t *mount_at(json_t *spec, const char *dst)
{
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(spec, "mounts"), i, v)
                if (strcmp(json_string_value(json_object_get(v, "destination")), dst) == 0)
                        return v;
        return NULL;
}

static bool has_ns(json_t *spec, const char *type, const char **path)
{
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(json_object_get(spec, "linux"), "namespaces"), i, v)
                if (strcmp(json_string_value(json_object_get(v, "type")), type) == 0) {
                        if (path)
                                *path = json_string_value(json_object_get(v, "path"));
                        return true;
                }
        return false;
}

static const char *IMG = "{\"config\":{\"Env\":[\"PATH=/bin\",\"A=1\"],\"Cmd\":[\"sh\"],"
                         "\"WorkingDir\":\"/w\",\"Labels\":{\"a\":\"img\",\"b\":\"img\"}}}";

static void test_merge_image_defaults(void **state)
{
        _cleanup_json_ json_t *m =
                merge("{\"Image\":\"busybox\",\"Env\":[\"A=2\",\"B=3\"],\"Labels\":{\"b\":\"body\"}}",
                      IMG);
        /* dockerd's order: the user's variables first, then the image's not overridden */
        _cleanup_json_ json_t *want_env = load("[\"A=2\",\"B=3\",\"PATH=/bin\"]");
        assert_true(json_equal(json_object_get(m, "Env"), want_env));
        assert_string_equal(json_string_value(json_array_get(json_object_get(m, "Cmd"), 0)), "sh");
        assert_true(json_is_null(json_object_get(m, "Entrypoint")));
        assert_string_equal(json_string_value(json_object_get(m, "WorkingDir")), "/w");
        assert_string_equal(json_string_value(json_object_get(m, "Hostname")), "0123456789ab");
        assert_string_equal(json_string_value(json_object_get(m, "Image")), "busybox");
        json_t *labels = json_object_get(m, "Labels");
        assert_string_equal(json_string_value(json_object_get(labels, "a")), "img");
        assert_string_equal(json_string_value(json_object_get(labels, "b")), "body");
        json_t *hc = json_object_get(m, "HostConfig");
        assert_string_equal(json_string_value(json_object_get(hc, "NetworkMode")), "bridge");
        assert_int_equal(json_integer_value(json_object_get(hc, "ShmSize")), 67108864);
        /* no policy in the body: dockerd shows an empty name (the docker CLI sends "no") */
        assert_string_equal(json_string_value(json_object_get(
                                    json_object_get(hc, "RestartPolicy"), "Name")),
                            "");
        assert_int_equal(json_integer_value(json_object_get(hc, "KernelMemory")), 0);
        assert_true(json_is_null(json_object_get(hc, "CapAdd")));
        assert_true(str_in(json_object_get(hc, "MaskedPaths"), "/proc/kcore"));
}

static void test_merge_default_path(void **state)
{
        _cleanup_json_ json_t *m = merge("{\"Image\":\"x\",\"Cmd\":\"true\"}", "{\"config\":{}}");
        json_t *env = json_object_get(m, "Env");
        assert_int_equal(json_array_size(env), 1);
        assert_string_equal(json_string_value(json_array_get(env, 0)),
                            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        /* A string Cmd is Docker's one-element strslice. */
        assert_string_equal(json_string_value(json_array_get(json_object_get(m, "Cmd"), 0)),
                            "true");
}

static void test_merge_entrypoint_override(void **state)
{
        const char *img = "{\"config\":{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"x\"]}}";
        _cleanup_json_ json_t *a = merge("{\"Entrypoint\":[\"/b\"]}", img);
        assert_string_equal(json_string_value(json_array_get(json_object_get(a, "Entrypoint"), 0)),
                            "/b");
        assert_true(json_is_null(json_object_get(a, "Cmd")));
        _cleanup_json_ json_t *b = merge("{\"Cmd\":[\"y\"]}", img);
        assert_string_equal(json_string_value(json_array_get(json_object_get(b, "Entrypoint"), 0)),
                            "/ep");
        assert_string_equal(json_string_value(json_array_get(json_object_get(b, "Cmd"), 0)), "y");
        /* --entrypoint "" clears the image's entrypoint and keeps its Cmd. */
        _cleanup_json_ json_t *c = merge("{\"Entrypoint\":[\"\"]}", img);
        assert_true(json_is_null(json_object_get(c, "Entrypoint")));
        assert_string_equal(json_string_value(json_array_get(json_object_get(c, "Cmd"), 0)), "x");
}

static void test_merge_relative_workdir(void **state)
{
        _cleanup_json_ json_t *b = load("{\"WorkingDir\":\"rel\"}");
        json_t *out = NULL;
        struct gerr *err = NULL;
        assert_int_equal(eng_spec_merge(b, NULL, ID, "x", &out, &err), -EINVAL);
        gerr_free(err);
}

static void test_build_process(void **state)
{
        _cleanup_json_ json_t *s =
                build_ok("{\"Cmd\":[\"echo\",\"hi\"],\"Entrypoint\":[\"/bin/e\"],\"Tty\":true,"
                         "\"Env\":[\"X=1\"]}",
                         IMG);
        json_t *p = json_object_get(s, "process");
        _cleanup_json_ json_t *want_args = load("[\"/bin/e\",\"echo\",\"hi\"]");
        assert_true(json_equal(json_object_get(p, "args"), want_args));
        json_t *env = json_object_get(p, "env");
        assert_true(str_in(env, "PATH=/bin"));
        assert_true(str_in(env, "HOSTNAME=0123456789ab"));
        assert_true(str_in(env, "TERM=xterm"));
        assert_true(str_in(env, "X=1"));
        assert_true(str_in(env, "A=1"));
        assert_true(str_in(env, "HOME=/root"));
        assert_true(json_is_true(json_object_get(p, "terminal")));
        assert_string_equal(json_string_value(json_object_get(p, "cwd")), "/w");
        assert_string_equal(json_string_value(json_object_get(s, "hostname")), "0123456789ab");
        assert_string_equal(json_string_value(json_object_get(json_object_get(s, "root"), "path")),
                            "rootfs");
        json_t *lx = json_object_get(s, "linux");
        assert_string_equal(json_string_value(json_object_get(lx, "cgroupsPath")), "/gantry/" ID);
        assert_true(str_in(json_object_get(lx, "maskedPaths"), "/proc/kcore"));
        assert_true(str_in(json_object_get(lx, "readonlyPaths"), "/proc/sys"));
}

static void test_build_no_command(void **state)
{
        json_t *s = NULL;
        assert_int_equal(build("{}", "{\"config\":{}}", NULL, &s), EINVAL);
}

static void test_build_caps(void **state)
{
        _cleanup_json_ json_t *s = build_ok("{\"Cmd\":[\"x\"]}", NULL);
        json_t *b = json_object_get(json_object_get(json_object_get(s, "process"), "capabilities"),
                                    "bounding");
        assert_int_equal(json_array_size(b), 14);
        assert_true(str_in(b, "CAP_NET_BIND_SERVICE"));
        assert_false(str_in(b, "CAP_SYS_ADMIN"));

        _cleanup_json_ json_t *s2 = build_ok(
                "{\"Cmd\":[\"x\"],\"HostConfig\":{\"CapAdd\":[\"NET_ADMIN\"],\"CapDrop\":[\"chown\"]}}",
                NULL);
        json_t *e2 = json_object_get(
                json_object_get(json_object_get(s2, "process"), "capabilities"), "effective");
        assert_true(str_in(e2, "CAP_NET_ADMIN"));
        assert_false(str_in(e2, "CAP_CHOWN"));
        assert_int_equal(json_array_size(e2), 14);

        _cleanup_json_ json_t *s3 = build_ok(
                "{\"Cmd\":[\"x\"],\"HostConfig\":{\"CapAdd\":[\"KILL\"],\"CapDrop\":[\"ALL\"]}}", NULL);
        json_t *p3 = json_object_get(
                json_object_get(json_object_get(s3, "process"), "capabilities"), "permitted");
        assert_int_equal(json_array_size(p3), 1);
        assert_true(str_in(p3, "CAP_KILL"));

        json_t *bad = NULL;
        assert_int_equal(build("{\"Cmd\":[\"x\"],\"HostConfig\":{\"CapAdd\":[\"NOPE\"]}}", NULL,
                               NULL, &bad),
                         EINVAL);
}

static void test_build_privileged(void **state)
{
        _cleanup_json_ json_t *s =
                build_ok("{\"Cmd\":[\"x\"],\"HostConfig\":{\"Privileged\":true}}", NULL);
        json_t *b = json_object_get(json_object_get(json_object_get(s, "process"), "capabilities"),
                                    "bounding");
        assert_true(str_in(b, "CAP_SYS_ADMIN"));
        json_t *lx = json_object_get(s, "linux");
        assert_null(json_object_get(lx, "maskedPaths"));
        json_t *sys = mount_at(s, "/sys");
        assert_true(str_in(json_object_get(sys, "options"), "rw"));
}

static void test_build_user(void **state)
{
        _cleanup_json_ json_t *s = build_ok("{\"Cmd\":[\"x\"],\"User\":\"app\"}", NULL);
        json_t *u = json_object_get(json_object_get(s, "process"), "user");
        assert_int_equal(json_integer_value(json_object_get(u, "uid")), 1000);
        assert_int_equal(json_integer_value(json_object_get(u, "gid")), 1001);
        json_t *g = json_object_get(u, "additionalGids");
        assert_int_equal(json_array_size(g), 1);
        assert_int_equal(json_integer_value(json_array_get(g, 0)), 10);
        assert_true(str_in(json_object_get(json_object_get(s, "process"), "env"),
                           "HOME=/home/app"));

        _cleanup_json_ json_t *s2 = build_ok("{\"Cmd\":[\"x\"],\"User\":\"1000:audio\"}", NULL);
        u = json_object_get(json_object_get(s2, "process"), "user");
        assert_int_equal(json_integer_value(json_object_get(u, "uid")), 1000);
        assert_int_equal(json_integer_value(json_object_get(u, "gid")), 29);
        g = json_object_get(u, "additionalGids");
        assert_int_equal(json_array_size(g), 1);
        assert_int_equal(json_integer_value(json_array_get(g, 0)), 29);

        _cleanup_json_ json_t *s3 = build_ok("{\"Cmd\":[\"x\"],\"User\":\"4242:7\","
                                             "\"HostConfig\":{\"GroupAdd\":[\"wheel\",\"99\"]}}",
                                             NULL);
        u = json_object_get(json_object_get(s3, "process"), "user");
        assert_int_equal(json_integer_value(json_object_get(u, "uid")), 4242);
        assert_int_equal(json_integer_value(json_object_get(u, "gid")), 7);
        /* The primary group first, as dockerd's processes hold it, then GroupAdd. */
        g = json_object_get(u, "additionalGids");
        assert_int_equal(json_array_size(g), 3);
        assert_int_equal(json_integer_value(json_array_get(g, 0)), 7);

        json_t *bad = NULL;
        assert_int_equal(build("{\"Cmd\":[\"x\"],\"User\":\"ghost\"}", NULL, NULL, &bad), EINVAL);
}

static void test_build_resources(void **state)
{
        _cleanup_json_ json_t *s = build_ok(
                "{\"Cmd\":[\"x\"],\"HostConfig\":{\"Memory\":1073741824,\"NanoCpus\":1500000000,"
                "\"PidsLimit\":64,\"CpusetCpus\":\"0\",\"CpuShares\":512,"
                "\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":100,\"Hard\":200}],"
                "\"Sysctls\":{\"net.ipv4.ip_forward\":\"1\"}}}",
                NULL);
        json_t *res = json_object_get(json_object_get(s, "linux"), "resources");
        json_t *mem = json_object_get(res, "memory");
        assert_int_equal(json_integer_value(json_object_get(mem, "limit")), 1073741824);
        assert_int_equal(json_integer_value(json_object_get(mem, "swap")), 2147483648LL);
        json_t *cpu = json_object_get(res, "cpu");
        assert_int_equal(json_integer_value(json_object_get(cpu, "quota")), 150000);
        assert_int_equal(json_integer_value(json_object_get(cpu, "period")), 100000);
        assert_int_equal(json_integer_value(json_object_get(cpu, "shares")), 512);
        assert_string_equal(json_string_value(json_object_get(cpu, "cpus")), "0");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "pids"), "limit")),
                         64);
        json_t *rl = json_array_get(json_object_get(json_object_get(s, "process"), "rlimits"), 0);
        assert_string_equal(json_string_value(json_object_get(rl, "type")), "RLIMIT_NOFILE");
        assert_int_equal(json_integer_value(json_object_get(rl, "hard")), 200);
        assert_string_equal(json_string_value(json_object_get(
                                    json_object_get(json_object_get(s, "linux"), "sysctl"),
                                    "net.ipv4.ip_forward")),
                            "1");
        json_t *bad = NULL;
        assert_int_equal(build("{\"Cmd\":[\"x\"],\"HostConfig\":{\"NanoCpus\":1,\"CpuQuota\":5}}",
                               NULL, NULL, &bad),
                         EINVAL);
}

static void test_build_mounts(void **state)
{
        _cleanup_json_ json_t *s = build_ok(
                "{\"Cmd\":[\"x\"],\"HostConfig\":{\"Binds\":[\"/src:/dst:ro\"],"
                "\"Tmpfs\":{\"/run\":\"size=1m\"},\"ShmSize\":1048576}}",
                NULL);
        json_t *shm = mount_at(s, "/dev/shm");
        assert_true(str_in(json_object_get(shm, "options"), "size=1048576"));
        json_t *b = mount_at(s, "/dst");
        assert_string_equal(json_string_value(json_object_get(b, "source")), "/src");
        assert_true(str_in(json_object_get(b, "options"), "ro"));
        assert_true(str_in(json_object_get(b, "options"), "rbind"));
        json_t *t = mount_at(s, "/run");
        assert_true(str_in(json_object_get(t, "options"), "size=1m"));
        json_t *h = mount_at(s, "/etc/hostname");
        assert_string_equal(json_string_value(json_object_get(h, "source")), "/c/hostname");
        assert_non_null(mount_at(s, "/etc/resolv.conf"));
        assert_non_null(mount_at(s, "/proc"));
        assert_non_null(mount_at(s, "/sys/fs/cgroup"));
        assert_true(str_in(json_object_get(mount_at(s, "/sys"), "options"), "ro"));

        json_t *bad = NULL;
        assert_int_equal(build("{\"Cmd\":[\"x\"],\"HostConfig\":{\"Binds\":[\"/a:rel\"]}}", NULL,
                               NULL, &bad),
                         EINVAL);
}

static void test_build_network_modes(void **state)
{
        _cleanup_json_ json_t *def = build_ok("{\"Cmd\":[\"x\"]}", NULL);
        assert_true(has_ns(def, "network", NULL));
        assert_true(has_ns(def, "pid", NULL));
        _cleanup_json_ json_t *host =
                build_ok("{\"Cmd\":[\"x\"],\"HostConfig\":{\"NetworkMode\":\"host\"}}", NULL);
        assert_false(has_ns(host, "network", NULL));
        _cleanup_json_ json_t *none =
                build_ok("{\"Cmd\":[\"x\"],\"HostConfig\":{\"NetworkMode\":\"none\"}}", NULL);
        assert_true(has_ns(none, "network", NULL));
        json_t *other = NULL;
        assert_int_equal(build("{\"Cmd\":[\"x\"],\"HostConfig\":{\"NetworkMode\":\"container:a\"}}",
                               NULL, "/proc/42/ns/net", &other),
                         0);
        const char *path = NULL;
        assert_true(has_ns(other, "network", &path));
        assert_string_equal(path, "/proc/42/ns/net");
        json_decref(other);
}

static void test_build_security_opt(void **state)
{
        _cleanup_json_ json_t *s = build_ok(
                "{\"Cmd\":[\"x\"],\"HostConfig\":{\"SecurityOpt\":[\"seccomp=unconfined\","
                "\"no-new-privileges\"],\"ReadonlyRootfs\":true}}",
                NULL);
        assert_true(json_is_true(
                json_object_get(json_object_get(s, "process"), "noNewPrivileges")));
        assert_true(json_is_true(json_object_get(json_object_get(s, "root"), "readonly")));
        /* unconfined: no filter at all. */
        assert_null(json_object_get(json_object_get(s, "linux"), "seccomp"));

        /* Docker's default confinement: mount and unshare refused without CAP_SYS_ADMIN. */
        _cleanup_json_ json_t *d = build_ok("{\"Cmd\":[\"x\"]}", NULL);
        json_t *sc = json_object_get(json_object_get(d, "linux"), "seccomp");
        assert_string_equal(json_string_value(json_object_get(sc, "defaultAction")),
                            "SCMP_ACT_ALLOW");
        json_t *deny = json_object_get(json_array_get(json_object_get(sc, "syscalls"), 0), "names");
        assert_true(str_in(deny, "mount"));
        assert_true(str_in(deny, "unshare"));
        assert_true(str_in(deny, "keyctl"));
        /* ... and given back with the capability. */
        _cleanup_json_ json_t *a = build_ok(
                "{\"Cmd\":[\"x\"],\"HostConfig\":{\"CapAdd\":[\"SYS_ADMIN\"]}}", NULL);
        deny = json_object_get(
                json_array_get(json_object_get(json_object_get(json_object_get(a, "linux"),
                                                               "seccomp"),
                                               "syscalls"),
                               0),
                "names");
        assert_false(str_in(deny, "mount"));
        assert_true(str_in(deny, "keyctl"));
        /* Privileged: none. */
        _cleanup_json_ json_t *p = build_ok(
                "{\"Cmd\":[\"x\"],\"HostConfig\":{\"Privileged\":true}}", NULL);
        assert_null(json_object_get(json_object_get(p, "linux"), "seccomp"));

        /* A Docker-format profile: archMap for this machine, includes by capability. */
        _cleanup_json_ json_t *c = build_ok(
                "{\"Cmd\":[\"x\"],\"HostConfig\":{\"SecurityOpt\":[\"seccomp={"
                "\\\"defaultAction\\\":\\\"SCMP_ACT_ALLOW\\\",\\\"archMap\\\":[{"
                "\\\"architecture\\\":\\\"SCMP_ARCH_X86_64\\\",\\\"subArchitectures\\\":"
                "[\\\"SCMP_ARCH_X86\\\"]}],\\\"syscalls\\\":[{\\\"names\\\":[\\\"mkdir\\\"],"
                "\\\"action\\\":\\\"SCMP_ACT_ERRNO\\\"},{\\\"names\\\":[\\\"bpf\\\"],"
                "\\\"action\\\":\\\"SCMP_ACT_ALLOW\\\",\\\"includes\\\":{\\\"caps\\\":"
                "[\\\"CAP_BPF\\\"]}}]}\"]}}",
                NULL);
        sc = json_object_get(json_object_get(c, "linux"), "seccomp");
        assert_int_equal(json_array_size(json_object_get(sc, "syscalls")), 1);
        assert_true(str_in(json_object_get(sc, "architectures"), "SCMP_ARCH_X86"));

        json_t *bad = NULL;
        assert_int_equal(build("{\"Cmd\":[\"x\"],\"HostConfig\":{\"SecurityOpt\":"
                               "[\"seccomp={nope\"]}}",
                               NULL, NULL, &bad),
                         EINVAL);
}

static void test_write_etc(void **state)
{
        _cleanup_json_ json_t *m = merge(
                "{\"Hostname\":\"web\",\"HostConfig\":{\"Dns\":[\"9.9.9.9\"],"
                "\"ExtraHosts\":[\"db:10.0.0.2\"]}}",
                NULL);
        json_t *dns = json_object_get(json_object_get(m, "HostConfig"), "Dns");
        assert_int_equal(eng_spec_write_etc(m, dns, rootdir, NULL), 0);
        char p[128];
        _cleanup_free_ char *hn = NULL, *hosts = NULL, *resolv = NULL;
        snprintf(p, sizeof(p), "%s/hostname", rootdir);
        assert_int_equal(fs_read_file(p, &hn, NULL, NULL), 0);
        assert_string_equal(hn, "web\n");
        snprintf(p, sizeof(p), "%s/hosts", rootdir);
        assert_int_equal(fs_read_file(p, &hosts, NULL, NULL), 0);
        assert_non_null(strstr(hosts, "127.0.0.1\tlocalhost\n"));
        assert_non_null(strstr(hosts, "10.0.0.2\tdb\n"));
        snprintf(p, sizeof(p), "%s/resolv.conf", rootdir);
        assert_int_equal(fs_read_file(p, &resolv, NULL, NULL), 0);
        assert_non_null(strstr(resolv, "nameserver 9.9.9.9\n"));
        assert_null(strstr(resolv, "nameserver 127."));
        /* No Dns of its own: the daemon's --dns, and nothing of the host's nameservers. */
        _cleanup_json_ json_t *m2 = merge("{\"Hostname\":\"web\"}", NULL);
        _cleanup_json_ json_t *daemon_dns = json_pack("[s]", "192.0.2.53");
        assert_int_equal(eng_spec_write_etc(m2, daemon_dns, rootdir, NULL), 0);
        _cleanup_free_ char *resolv2 = NULL;
        assert_int_equal(fs_read_file(p, &resolv2, NULL, NULL), 0);
        assert_non_null(strstr(resolv2, "nameserver 192.0.2.53\n"));
        int n_ns = 0;
        for (const char *q = resolv2; (q = strstr(q, "nameserver")) != NULL; q++)
                n_ns++;
        assert_int_equal(n_ns, 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_merge_image_defaults),
                cmocka_unit_test(test_merge_default_path),
                cmocka_unit_test(test_merge_entrypoint_override),
                cmocka_unit_test(test_merge_relative_workdir),
                cmocka_unit_test(test_build_process),
                cmocka_unit_test(test_build_no_command),
                cmocka_unit_test(test_build_caps),
                cmocka_unit_test(test_build_privileged),
                cmocka_unit_test(test_build_user),
                cmocka_unit_test(test_build_resources),
                cmocka_unit_test(test_build_mounts),
                cmocka_unit_test(test_build_network_modes),
                cmocka_unit_test(test_build_security_opt),
                cmocka_unit_test(test_write_etc),
        };
        return cmocka_run_group_tests(tests, setup_rootfs, teardown_rootfs);
}
