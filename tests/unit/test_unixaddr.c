/* common/unixaddr.c: sockets at paths longer than sun_path bind and connect where they are. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/unixaddr.h"

static void roundtrip(const char *path, bool via_proc)
{
        struct unix_addr a;
        assert_int_equal(unix_addr_init(&a, path), 0);
        assert_int_equal(a.dirfd >= 0, via_proc);
        int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(l >= 0);
        assert_int_equal(bind(l, (struct sockaddr *)&a.sa, a.len), 0);
        assert_int_equal(listen(l, 1), 0);
        unix_addr_done(&a);
        assert_int_equal(a.dirfd, -1);
        struct stat st;
        assert_int_equal(stat(path, &st), 0); /* the file is where the path says */
        assert_true(S_ISSOCK(st.st_mode));
        assert_int_equal(unix_addr_init(&a, path), 0);
        int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(connect(c, (struct sockaddr *)&a.sa, a.len), 0);
        unix_addr_done(&a);
        close(c);
        close(l);
        unlink(path);
}

static void test_short_and_long(void **state)
{
        (void)state;
        char tmpl[] = "/tmp/unixaddr.XXXXXX";
        assert_non_null(mkdtemp(tmpl));
        char dir[512], path[640];
        snprintf(dir, sizeof(dir), "%s/%0150d", tmpl, 0);
        assert_int_equal(fs_mkdir_p(dir, 0700, NULL), 0);
        snprintf(path, sizeof(path), "%s/s.sock", tmpl);
        roundtrip(path, false);
        /* A shim socket under a long exec root: <dir>/<64 hex>.sock, 220 bytes. */
        snprintf(path, sizeof(path), "%s/%064d.sock", dir, 7);
        assert_true(strlen(path) > 108);
        roundtrip(path, true);
        struct unix_addr a;
        snprintf(path, sizeof(path), "%s/%0120d", tmpl, 1);
        assert_int_equal(unix_addr_init(&a, path), -ENAMETOOLONG); /* the name alone is too long */
        snprintf(path, sizeof(path), "%s/no/such/dir/%0100d", tmpl, 1);
        assert_int_equal(unix_addr_init(&a, path), -ENOENT);
        rmdir(dir);
        rmdir(tmpl);
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_short_and_long)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
