/* Unit tests for common/gerr: messages name the object and carry the errno text. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/gerr.h"

static void test_set_appends_strerror(void **state)
{
        (void)state;
        _cleanup_gerr_ struct gerr *err = NULL;
        int r = gerr_set(&err, EPERM, "mount %s on %s", "proc", "/proc");
        assert_int_equal(r, -EPERM);
        assert_string_equal(err->msg, "mount proc on /proc: Operation not permitted");
        assert_int_equal(gerr_code(err), -EPERM);
}

static void test_first_error_wins_and_wrap_prefixes(void **state)
{
        (void)state;
        _cleanup_gerr_ struct gerr *err = NULL;
        gerr_set(&err, ENOENT, "open %s", "config.json");
        gerr_set(&err, EINVAL, "second");
        gerr_wrap(&err, "create container %s", "c1");
        assert_string_equal(err->msg,
                            "create container c1: open config.json: No such file or directory");
}

static void test_no_errno(void **state)
{
        (void)state;
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(gerr_set(&err, 0, "bad %s", "value"), -EIO);
        assert_string_equal(err->msg, "bad value");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_set_appends_strerror),
                cmocka_unit_test(test_first_error_wins_and_wrap_prefixes),
                cmocka_unit_test(test_no_errno),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
