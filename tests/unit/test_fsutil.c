/* Unit tests for common/fsutil: confined mkdir/touch below a root, whole-file helpers. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/fsutil.h"

static char root[64];

static int setup(void **state)
{
        (void)state;
        strcpy(root, "/tmp/gantry-fsutil.XXXXXX");
        if (mkdtemp(root) == NULL)
                return -1;
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        return fs_rm_rf(root);
}

static bool is_dir(const char *rel)
{
        char p[256];
        struct stat st;
        snprintf(p, sizeof(p), "%s/%s", root, rel);
        return lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_absolute_symlink_resolves_inside_root(void **state)
{
        (void)state;
        char p[256];
        snprintf(p, sizeof(p), "%s/var", root);
        mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/var/run", root);
        assert_int_equal(symlink("/run", p), 0);
        _cleanup_close_ int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int fd = fs_mkdir_in_root(rfd, "/var/run/x/y", 0755);
        assert_true(fd >= 0);
        close(fd);
        assert_true(is_dir("run/x/y"));
}

static void test_escaping_symlink_stays_inside(void **state)
{
        (void)state;
        char p[256];
        snprintf(p, sizeof(p), "%s/evil", root);
        assert_int_equal(symlink("/../../../../etc", p), 0);
        _cleanup_close_ int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int fd = fs_mkdir_in_root(rfd, "evil/gantry-test-dir", 0755);
        assert_true(fd >= 0);
        close(fd);
        assert_true(is_dir("etc/gantry-test-dir"));
        assert_int_equal(access("/etc/gantry-test-dir", F_OK), -1);
        fd = fs_touch_in_root(rfd, "/evil/../evil/file", 0644);
        assert_true(fd >= 0);
        close(fd);
        snprintf(p, sizeof(p), "%s/etc/file", root);
        assert_int_equal(access(p, F_OK), 0);
}

static void test_write_read_atomic(void **state)
{
        (void)state;
        char p[256];
        snprintf(p, sizeof(p), "%s/f.json", root);
        assert_int_equal(fs_write_file_atomic(p, "{}", 2, 0600, NULL), 0);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        assert_int_equal(fs_read_file(p, &text, &len, NULL), 0);
        assert_int_equal(len, 2);
        assert_string_equal(text, "{}");
        snprintf(p, sizeof(p), "%s/f.json.tmp", root);
        assert_int_equal(access(p, F_OK), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_absolute_symlink_resolves_inside_root, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_escaping_symlink_stays_inside, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_write_read_atomic, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
