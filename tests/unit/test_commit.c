/* docker commit's --change parser and config merge, the diff of an upper dir, prune's label
 * filters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/filters.h"
#include "common/fsutil.h"
#include "engine/engine_internal.h"

static json_t *apply(json_t *cfg, const char *change, int want)
{
        const char *v[] = {change};
        struct gerr *err = NULL;
        int r = eng_commit_changes(cfg, v, 1, &err);
        assert_int_equal(r, want);
        gerr_free(err);
        return cfg;
}

static const char *str(json_t *cfg, const char *key)
{
        return json_string_value(json_object_get(cfg, key));
}

static char *dump(json_t *j)
{
        return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

static void expect_json(json_t *j, const char *want)
{
        char *s = dump(j);
        assert_string_equal(s, want);
        free(s);
}

static void test_cmd_entrypoint(void **state)
{
        json_t *cfg = json_pack("{s:[s], s:[s]}", "Cmd", "sh", "Env", "PATH=/bin");
        expect_json(json_object_get(apply(cfg, "CMD [\"echo\",\"hi\"]", 0), "Cmd"),
                    "[\"echo\",\"hi\"]");
        expect_json(json_object_get(apply(cfg, "cmd echo $HOME", 0), "Cmd"),
                    "[\"/bin/sh\",\"-c\",\"echo $HOME\"]");
        /* dockerd: an ENTRYPOINT without a CMD of the same commit clears the CMD. */
        apply(cfg, "ENTRYPOINT [\"/bin/top\"]", 0);
        assert_true(json_is_null(json_object_get(cfg, "Cmd")));
        expect_json(json_object_get(cfg, "Entrypoint"), "[\"/bin/top\"]");
        json_decref(cfg);
}

static void test_env_label(void **state)
{
        json_t *cfg = json_pack("{s:[s, s]}", "Env", "PATH=/bin", "A=old");
        apply(cfg, "ENV A=1 B=\"x y\" C=$PATH:/x D='$PATH'", 0);
        expect_json(json_object_get(cfg, "Env"),
                    "[\"PATH=/bin\",\"A=1\",\"B=x y\",\"C=/bin:/x\",\"D=$PATH\"]");
        apply(cfg, "ENV E hello  world", 0);
        assert_string_equal(json_string_value(json_array_get(json_object_get(cfg, "Env"), 5)),
                            "E=hello world");
        apply(cfg, "LABEL a=b \"c d\"=e", 0);
        expect_json(json_object_get(cfg, "Labels"), "{\"a\":\"b\",\"c d\":\"e\"}");
        apply(cfg, "ENV", -EINVAL);
        apply(cfg, "LABEL =x", -EINVAL);
        json_decref(cfg);
}

static void test_workdir_expose_user(void **state)
{
        json_t *cfg = json_pack("{s:s, s:[s]}", "WorkingDir", "/app", "Env", "D=data");
        assert_string_equal(str(apply(cfg, "WORKDIR sub/../$D", 0), "WorkingDir"), "/app/data");
        assert_string_equal(str(apply(cfg, "WORKDIR /tmp", 0), "WorkingDir"), "/tmp");
        apply(cfg, "EXPOSE 80 53/udp 8000-8001", 0);
        expect_json(json_object_get(cfg, "ExposedPorts"),
                    "{\"80/tcp\":{},\"53/udp\":{},\"8000/tcp\":{},\"8001/tcp\":{}}");
        apply(cfg, "EXPOSE http", -EINVAL);
        assert_string_equal(str(apply(cfg, "USER nobody", 0), "User"), "nobody");
        assert_string_equal(str(apply(cfg, "STOPSIGNAL SIGINT", 0), "StopSignal"), "SIGINT");
        apply(cfg, "STOPSIGNAL NOPE", -EINVAL);
        apply(cfg, "VOLUME [\"/data\"]", 0);
        expect_json(json_object_get(cfg, "Volumes"), "{\"/data\":{}}");
        apply(cfg, "ONBUILD run echo", 0);
        expect_json(json_object_get(cfg, "OnBuild"), "[\"RUN echo\"]");
        apply(cfg, "HEALTHCHECK --interval=5s --retries=2 CMD true", 0);
        expect_json(json_object_get(cfg, "Healthcheck"),
                    "{\"Interval\":5000000000,\"Retries\":2,\"Test\":[\"CMD-SHELL\",\"true\"]}");
        json_decref(cfg);
}

static void test_invalid_command(void **state)
{
        json_t *cfg = json_object();
        const char *v[] = {"ENV A=1", "RUN echo x"};
        struct gerr *err = NULL;
        assert_int_equal(eng_commit_changes(cfg, v, 2, &err), -EINVAL);
        assert_string_equal(err->msg, "run is not a valid change command");
        /* Nothing is applied when one instruction is refused. */
        assert_null(json_object_get(cfg, "Env"));
        gerr_free(err);
        /* Continuation lines and comments, as in a Dockerfile. */
        apply(cfg, "# a comment\nENV X=1 \\\n Y=2", 0);
        expect_json(json_object_get(cfg, "Env"), "[\"X=1\",\"Y=2\"]");
        json_decref(cfg);
}

static void test_merge(void **state)
{
        json_t *ctr =
            json_pack("{s:[s, s], s:[s], s:s, s:{s:s}, s:{s:{}}}", "Env", "PATH=/bin", "A=1", "Cmd",
                      "sh", "User", "u", "Labels", "l", "1", "ExposedPorts", "80/tcp");
        json_t *user = json_pack("{s:[s], s:{s:s}}", "Env", "A=2", "Labels", "m", "2");
        eng_commit_merge(user, ctr);
        expect_json(json_object_get(user, "Env"), "[\"A=2\",\"PATH=/bin\"]");
        expect_json(json_object_get(user, "Cmd"), "[\"sh\"]");
        assert_string_equal(str(user, "User"), "u");
        expect_json(json_object_get(user, "Labels"), "{\"m\":\"2\",\"l\":\"1\"}");
        expect_json(json_object_get(user, "ExposedPorts"), "{\"80/tcp\":{}}");
        json_decref(user);
        /* An ENTRYPOINT of the commit keeps the container's CMD out. */
        user = json_pack("{s:[s]}", "Entrypoint", "top");
        eng_commit_merge(user, ctr);
        assert_null(json_object_get(user, "Cmd"));
        json_decref(user);
        json_decref(ctr);
}

static void test_filters(void **state)
{
        json_t *labels = json_pack("{s:s, s:s}", "a", "1", "b", "2");
        json_t *f = json_pack("{s:[s, s]}", "label", "a=1", "b");
        assert_true(filters_match_labels(f, labels));
        json_decref(f);
        f = json_pack("{s:{s:b}}", "label", "a=2", 1);
        assert_false(filters_match_labels(f, labels));
        json_decref(f);
        f = json_pack("{s:[s]}", "label!", "a");
        assert_false(filters_match_labels(f, labels));
        json_decref(f);
        f = json_pack("{s:[s]}", "label!", "c");
        assert_true(filters_match_labels(f, labels));
        json_decref(f);
        static const char *const known[] = {"label", "until", NULL};
        f = json_pack("{s:[], s:[]}", "label", "bogus");
        assert_string_equal(filters_unknown(f, known), "bogus");
        json_decref(f);
        json_decref(labels);
}

/* A lower layer and an upper dir with an addition, a change, a deletion and the runtime's
 * mount points, in a temp dir. */
static void put(const char *root, const char *rel, const char *data)
{
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", root, rel);
        assert_int_equal(fs_write_file(p, data, strlen(data), NULL), 0);
}

static void mkd(const char *root, const char *rel)
{
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", root, rel);
        assert_int_equal(fs_mkdir_p(p, 0755, NULL), 0);
}

static void old_time(const char *root, const char *rel)
{
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", root, rel);
        struct timeval tv[2] = {{1000, 0}, {1000, 0}};
        assert_int_equal(utimes(p, tv), 0);
}

static void test_changes(void **state)
{
        char tmpl[] = "/tmp/test-changes.XXXXXX";
        char *dir = mkdtemp(tmpl);
        assert_non_null(dir);
        char lower[256], upper[256];
        snprintf(lower, sizeof(lower), "%s/lower", dir);
        snprintf(upper, sizeof(upper), "%s/upper", dir);
        mkd(lower, "etc");
        mkd(lower, "usr/lib");
        mkd(lower, "bin");
        put(lower, "etc/passwd", "root\n");
        put(lower, "bin/ls", "x");
        old_time(lower, "etc");
        old_time(lower, "usr");
        old_time(lower, "usr/lib");
        old_time(lower, "bin");
        /* upper: etc/passwd changed, usr/lib/new added (usr and usr/lib copied up unchanged),
         * /etc/hosts a mount point the runtime made, /tmp/x new. */
        mkd(upper, "etc");
        put(upper, "etc/passwd", "root\nx\n");
        put(upper, "etc/hosts", "");
        old_time(upper, "etc");
        mkd(upper, "usr/lib");
        put(upper, "usr/lib/new", "n");
        old_time(upper, "usr/lib");
        old_time(upper, "usr");
        mkd(upper, "tmp");
        put(upper, "tmp/x", "x");
        bool root = geteuid() == 0;
        if (root) {
                mkd(upper, "bin");
                old_time(upper, "bin");
                char p[4096];
                snprintf(p, sizeof(p), "%s/bin/ls", upper);
                assert_int_equal(mknod(p, S_IFCHR | 0600, makedev(0, 0)), 0);
        }
        char *lowers[] = {lower, NULL};
        json_t *out = NULL;
        struct gerr *err = NULL;
        assert_int_equal(eng_changes_compute(upper, lowers, &out, &err), 0);
        char *s = dump(out);
        const char *rest = "{\"Path\":\"/etc/passwd\",\"Kind\":0},{\"Path\":\"/tmp\",\"Kind\":1},"
                           "{\"Path\":\"/tmp/x\",\"Kind\":1},{\"Path\":\"/usr/lib\",\"Kind\":0},"
                           "{\"Path\":\"/usr/lib/new\",\"Kind\":1}]";
        char want[1024];
        /* Unchanged /etc and /usr are not listed; /usr/lib is, as the parent of an addition;
         * the whiteout is a deletion, its directory modified. */
        snprintf(want, sizeof(want), "[%s%s",
                 root ? "{\"Path\":\"/bin\",\"Kind\":0},{\"Path\":\"/bin/ls\",\"Kind\":2}," : "",
                 rest);
        assert_string_equal(s, want);
        free(s);
        json_decref(out);
        /* Only the mount points: no change at all. */
        char up2[256];
        snprintf(up2, sizeof(up2), "%s/up2", dir);
        mkd(up2, "etc");
        put(up2, "etc/resolv.conf", "");
        put(up2, "etc/hostname", "");
        mkd(up2, "dev/pts");
        assert_int_equal(eng_changes_compute(up2, lowers, &out, &err), 0);
        assert_int_equal(json_array_size(out), 0);
        json_decref(out);
        assert_int_equal(fs_rm_rf(dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_cmd_entrypoint),
            cmocka_unit_test(test_env_label),
            cmocka_unit_test(test_workdir_expose_user),
            cmocka_unit_test(test_invalid_command),
            cmocka_unit_test(test_merge),
            cmocka_unit_test(test_filters),
            cmocka_unit_test(test_changes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
