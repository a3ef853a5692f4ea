/* Unit tests for runtime/terminal: pty setup, SCM_RIGHTS passing, console socket, proxy loop. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/gerr.h"
#include "runtime/terminal.h"

/* Read from fd until `want` shows up in what was read, or 5 s pass. */
static bool read_until(int fd, const char *want, char *buf, size_t cap)
{
        size_t len = 0;
        buf[0] = '\0';
        for (int i = 0; i < 50 && strstr(buf, want) == NULL; i++) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                if (poll(&pfd, 1, 100) <= 0)
                        continue;
                ssize_t n = read(fd, buf + len, cap - 1 - len);
                if (n <= 0)
                        break;
                len += (size_t)n;
                buf[len] = '\0';
        }
        return strstr(buf, want) != NULL;
}

static int wait_exit_code(pid_t pid)
{
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The child makes its pty like the container init does and checks it from the inside. */
static int pty_child(int sock)
{
        alarm(10);
        struct gerr *err = NULL;
        int master = rt_terminal_setup(40, 120, &err);
        if (master < 0)
                return 10;
        if (!isatty(0) || !isatty(1) || !isatty(2))
                return 11;
        struct winsize ws;
        if (ioctl(0, TIOCGWINSZ, &ws) < 0 || ws.ws_row != 40 || ws.ws_col != 120)
                return 12;
        if (tcgetpgrp(0) != getpgrp())
                return 13; /* not our controlling terminal */
        if (write(1, "hello", 5) != 5)
                return 14;
        if (rt_send_fd(sock, master, &err) < 0)
                return 15;
        close(master);
        char line[16] = { 0 };
        ssize_t n = read(0, line, sizeof(line) - 1);
        if (n != 2 || strcmp(line, "x\n") != 0)
                return 16;
        return 0;
}

static void test_setup_send_recv(void **state)
{
        (void)state;
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(sv[0]);
                _exit(pty_child(sv[1]));
        }
        close(sv[1]);
        _cleanup_gerr_ struct gerr *err = NULL;
        _cleanup_close_ int master = rt_recv_fd(sv[0], &err);
        close(sv[0]);
        if (master < 0) {
                int code = wait_exit_code(pid);
                fail_msg("rt_recv_fd: %s (child exit %d)", err ? err->msg : "?", code);
        }
        char buf[256];
        assert_true(read_until(master, "hello", buf, sizeof(buf)));
        assert_int_equal(write(master, "x\n", 2), 2);
        assert_int_equal(wait_exit_code(pid), 0);
}

/* The payload is the name runc sends, which containerd's console receiver reads. */
static void test_send_fd_payload(void **state)
{
        (void)state;
        int sv[2], p[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(rt_send_fd(sv[0], p[1], &err), 0);
        close(p[1]);

        char name[64] = { 0 };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) - 1 };
        struct msghdr msg = { .msg_iov = &iov,
                              .msg_iovlen = 1,
                              .msg_control = u.buf,
                              .msg_controllen = sizeof(u.buf) };
        ssize_t n = recvmsg(sv[1], &msg, MSG_CMSG_CLOEXEC);
        assert_int_equal(n, 9);
        assert_string_equal(name, "/dev/ptmx");
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        assert_non_null(c);
        assert_int_equal(c->cmsg_type, SCM_RIGHTS);
        int fd;
        memcpy(&fd, CMSG_DATA(c), sizeof(int));
        assert_int_equal(write(fd, "z", 1), 1);
        char z = 0;
        assert_int_equal(read(p[0], &z, 1), 1);
        assert_int_equal(z, 'z');
        close(fd);
        close(p[0]);
        close(sv[0]);
        close(sv[1]);
}

static void test_recv_without_fd(void **state)
{
        (void)state;
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(write(sv[0], "plain", 5), 5);
        _cleanup_gerr_ struct gerr *err = NULL;
        assert_true(rt_recv_fd(sv[1], &err) < 0);
        assert_non_null(strstr(err->msg, "no file descriptor"));
        close(sv[0]);
        close(sv[1]);
}

static void test_console_socket(void **state)
{
        (void)state;
        char dir[] = "/tmp/gantry-term-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char path[128];
        snprintf(path, sizeof(path), "%s/console.sock", dir);

        _cleanup_gerr_ struct gerr *err = NULL;
        assert_int_equal(rt_console_socket_connect(path, &err), -ENOENT);
        char want[256];
        snprintf(want, sizeof(want), "connect to console socket %s: No such file or directory",
                 path);
        assert_string_equal(err->msg, want);

        int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        strcpy(sa.sun_path, path);
        assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(l, 1), 0);
        _cleanup_gerr_ struct gerr *err2 = NULL;
        int c = rt_console_socket_connect(path, &err2);
        assert_true(c >= 0);
        int a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        assert_true(a >= 0);
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        assert_int_equal(rt_send_fd(c, p[1], &err2), 0);
        int got = rt_recv_fd(a, &err2);
        assert_true(got >= 0);
        assert_int_equal(fcntl(got, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        assert_int_equal(write(got, "q", 1), 1);
        char q = 0;
        assert_int_equal(read(p[0], &q, 1), 1);
        assert_int_equal(q, 'q');
        close(got);
        close(p[0]);
        close(p[1]);
        close(a);
        close(c);
        close(l);
        unlink(path);
        rmdir(dir);
}

/* Run `script` on a fresh pty and rt_terminal_proxy in between: our stdin is `in`, stdout `out`. */
static int proxy_process(int in, int out, const char *script)
{
        alarm(10);
        if (dup2(in, 0) < 0 || dup2(out, 1) < 0)
                return 20;
        int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
                return 21;
        char *slave_name = ptsname(master);
        pid_t g = fork();
        if (g < 0)
                return 22;
        if (g == 0) {
                setsid();
                int s = open(slave_name, O_RDWR);
                if (s < 0 || ioctl(s, TIOCSCTTY, 0) < 0)
                        _exit(30);
                dup2(s, 0);
                dup2(s, 1);
                dup2(s, 2);
                if (s > 2)
                        close(s);
                execl("/bin/sh", "sh", "-c", script, (char *)NULL);
                _exit(31);
        }
        int pidfd = (int)syscall(SYS_pidfd_open, g, 0);
        if (pidfd < 0)
                return 23;
        int r = rt_terminal_proxy(master, pidfd);
        wait_exit_code(g);
        return r == 0 ? 0 : 24;
}

static void run_proxy(const char *input, const char *script, char *out_buf, size_t cap,
                      double *elapsed)
{
        int pin[2], pout[2];
        assert_int_equal(pipe2(pin, O_CLOEXEC), 0);
        assert_int_equal(pipe2(pout, O_CLOEXEC), 0);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(proxy_process(pin[0], pout[1], script));
        close(pin[0]);
        close(pout[1]);
        assert_int_equal(write(pin[1], input, strlen(input)), (ssize_t)strlen(input));
        close(pin[1]); /* stdin EOF must not end the session */
        size_t len = 0;
        ssize_t n;
        while (len + 1 < cap && (n = read(pout[0], out_buf + len, cap - 1 - len)) > 0)
                len += (size_t)n;
        out_buf[len] = '\0';
        close(pout[0]);
        assert_int_equal(wait_exit_code(pid), 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        *elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

static void test_proxy_copies_both_ways(void **state)
{
        (void)state;
        char out[4096];
        double dt;
        run_proxy("abc\n", "read x; echo got:$x", out, sizeof(out), &dt);
        assert_non_null(strstr(out, "got:abc"));
}

/* A background process keeps the slave open: the proxy must end on the child's exit, after
 * draining what the child wrote. */
static void test_proxy_ends_on_child_exit(void **state)
{
        (void)state;
        char tmpl[] = "/tmp/gantry-term-XXXXXX";
        assert_non_null(mkdtemp(tmpl));
        char pidfile[128], script[512];
        snprintf(pidfile, sizeof(pidfile), "%s/bg.pid", tmpl);
        snprintf(script, sizeof(script),
                 "sleep 4 </dev/null & echo $! > %s; i=0; while [ $i -lt 2000 ]; do "
                 "echo line$i; i=$((i+1)); done; echo last-line",
                 pidfile);
        static char out[1 << 16];
        double dt;
        run_proxy("", script, out, sizeof(out), &dt);
        FILE *f = fopen(pidfile, "r");
        int bg = 0;
        if (f != NULL) {
                if (fscanf(f, "%d", &bg) != 1)
                        bg = 0;
                fclose(f);
        }
        if (bg > 0)
                kill(bg, SIGKILL); /* the sleep our test started */
        unlink(pidfile);
        rmdir(tmpl);
        assert_non_null(strstr(out, "last-line"));
        assert_true(dt < 3.0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_setup_send_recv),
                cmocka_unit_test(test_send_fd_payload),
                cmocka_unit_test(test_recv_without_fd),
                cmocka_unit_test(test_console_socket),
                cmocka_unit_test(test_proxy_copies_both_ways),
                cmocka_unit_test(test_proxy_ends_on_child_exit),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
