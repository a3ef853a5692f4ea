/* Container terminals: pty setup in the container, fd passing over --console-socket, proxy. */
#include "runtime/terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

#define PROXY_BUF 32768

/* runc sends the pty master under this name; containerd's and runc's recvtty read it as data. */
static const char PTMX_NAME[] = "/dev/ptmx";

static int open_slave(int master, struct gerr **err)
{
        /* TIOCGPTPEER (Linux 4.13) opens the peer without a path lookup, so a hostile /dev/pts in
         * the container cannot substitute another file. */
        int fd = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd >= 0)
                return fd;
        if (errno != EINVAL && errno != ENOTTY)
                return gerr_set(err, errno, "ioctl TIOCGPTPEER");
        char name[64];
        int r = ptsname_r(master, name, sizeof(name));
        if (r != 0)
                return gerr_set(err, r, "ptsname");
        fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return gerr_set(err, errno, "open %s", name);
        return fd;
}

int rt_terminal_setup(unsigned height, unsigned width, struct gerr **err)
{
        _cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return gerr_set(err, errno, "open /dev/ptmx");
        if (unlockpt(master) < 0)
                return gerr_set(err, errno, "unlockpt");
        _cleanup_close_ int slave = open_slave(master, err);
        if (slave < 0)
                return slave;

        /* EPERM: we already lead a session (or a process group); TIOCSCTTY says if it matters. */
        if (setsid() < 0 && errno != EPERM)
                return gerr_set(err, errno, "setsid");
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return gerr_set(err, errno, "ioctl TIOCSCTTY");
        if (height > 0 && width > 0) {
                struct winsize ws = { .ws_row = (unsigned short)height,
                                      .ws_col = (unsigned short)width };
                if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
                        return gerr_set(err, errno, "ioctl TIOCSWINSZ");
        }
        for (int fd = 0; fd < 3; fd++) {
                /* dup2 onto itself would keep O_CLOEXEC and lose the tty at execve */
                int r = fd == slave ? fcntl(fd, F_SETFD, 0) : dup2(slave, fd);
                if (r < 0)
                        return gerr_set(err, errno, "dup2 pty slave to %d", fd);
        }
        if (slave <= 2)
                slave = -1; /* it is now one of our stdio fds: keep it */
        return TAKE_FD(master);
}

int rt_send_fd(int sockfd, int fd, struct gerr **err)
{
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        memset(&u, 0, sizeof(u));
        struct iovec iov = { .iov_base = (void *)PTMX_NAME, .iov_len = sizeof(PTMX_NAME) - 1 };
        struct msghdr msg = { .msg_iov = &iov,
                              .msg_iovlen = 1,
                              .msg_control = u.buf,
                              .msg_controllen = sizeof(u.buf) };
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        for (;;) {
                if (sendmsg(sockfd, &msg, MSG_NOSIGNAL) >= 0)
                        return 0;
                if (errno != EINTR)
                        return gerr_set(err, errno, "send terminal fd");
        }
}

int rt_recv_fd(int sockfd, struct gerr **err)
{
        char name[4096];
        union {
                char buf[CMSG_SPACE(sizeof(int) * 4)];
                struct cmsghdr align;
        } u;
        struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) };
        struct msghdr msg = { .msg_iov = &iov,
                              .msg_iovlen = 1,
                              .msg_control = u.buf,
                              .msg_controllen = sizeof(u.buf) };
        ssize_t n;
        do
                n = recvmsg(sockfd, &msg, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return gerr_set(err, errno, "receive terminal fd");

        int got = -1;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < nfds; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        if (got < 0)
                                got = fd;
                        else
                                close(fd); /* a well-behaved peer sends exactly one */
                }
        }
        if (got < 0)
                return gerr_set(err, n == 0 ? ECONNRESET : EBADMSG,
                                "receive terminal fd: no file descriptor in message");
        return got;
}

int rt_console_socket_connect(const char *path, struct gerr **err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(sa.sun_path))
                return gerr_set(err, ENAMETOOLONG, "console socket %s", path);
        strcpy(sa.sun_path, path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return gerr_set(err, errno, "console socket %s: socket", path);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return gerr_set(err, errno, "connect to console socket %s", path);
        return TAKE_FD(fd);
}

/* ---- proxy ---- */

static void copy_winsize(int master)
{
        struct winsize ws;
        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
                ioctl(master, TIOCSWINSZ, &ws);
}

/* Blocking write of everything; stdout's pace is the child's pace. */
static int write_all(int fd, const char *p, size_t len)
{
        while (len > 0) {
                ssize_t w = write(fd, p, len);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                struct pollfd pfd = { .fd = fd, .events = POLLOUT };
                                poll(&pfd, 1, -1);
                                continue;
                        }
                        return -errno;
                }
                p += w;
                len -= (size_t)w;
        }
        return 0;
}

/* Read what the master holds into stdout. Returns 1 while the slave is open, 0 when it hung up
 * (EIO/EOF), negative errno on a real error. If stdout fails, output is dropped so the child is
 * never blocked on us. */
static int pump_master(int master, char *buf, bool *stdout_ok)
{
        for (;;) {
                ssize_t n = read(master, buf, PROXY_BUF);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 1;
                        if (errno == EIO)
                                return 0;
                        return -errno;
                }
                if (n == 0)
                        return 0;
                if (*stdout_ok && write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
                        *stdout_ok = false;
        }
}

struct proxy_restore {
        bool raw;
        struct termios tio;
        bool mask_set;
        sigset_t old_mask;
        int master_flags;
        int master;
};

static void proxy_restorep(struct proxy_restore *r)
{
        if (r->raw)
                tcsetattr(STDIN_FILENO, TCSANOW, &r->tio);
        if (r->mask_set)
                pthread_sigmask(SIG_SETMASK, &r->old_mask, NULL);
        if (r->master_flags >= 0)
                fcntl(r->master, F_SETFL, r->master_flags);
}

int rt_terminal_proxy(int master, int child_pidfd)
{
        _cleanup_(proxy_restorep) struct proxy_restore rs = { .master_flags = -1,
                                                              .master = master };

        rs.master_flags = fcntl(master, F_GETFL);
        if (rs.master_flags < 0)
                return -errno;
        if (fcntl(master, F_SETFL, rs.master_flags | O_NONBLOCK) < 0)
                return -errno;

        sigset_t winch;
        sigemptyset(&winch);
        sigaddset(&winch, SIGWINCH);
        if (pthread_sigmask(SIG_BLOCK, &winch, &rs.old_mask) != 0)
                return -EINVAL;
        rs.mask_set = true;
        _cleanup_close_ int sfd = signalfd(-1, &winch, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0)
                return -errno;

        if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &rs.tio) == 0) {
                struct termios raw = rs.tio;
                cfmakeraw(&raw);
                if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
                        rs.raw = true;
        }
        copy_winsize(master);

        _cleanup_free_ char *out = malloc(PROXY_BUF);
        _cleanup_free_ char *in = malloc(PROXY_BUF);
        if (out == NULL || in == NULL)
                return -ENOMEM;
        size_t in_len = 0, in_off = 0;
        bool stdin_open = true, stdout_ok = true;

        for (;;) {
                enum { P_MASTER, P_STDIN, P_SIG, P_CHILD, P_N };
                struct pollfd pfd[P_N] = {
                        [P_MASTER] = { .fd = master,
                                       .events = POLLIN | (in_len > 0 ? POLLOUT : 0) },
                        /* a negative fd is ignored by poll */
                        [P_STDIN] = { .fd = stdin_open && in_len == 0 ? STDIN_FILENO : -1,
                                      .events = POLLIN },
                        [P_SIG] = { .fd = sfd, .events = POLLIN },
                        [P_CHILD] = { .fd = child_pidfd, .events = POLLIN },
                };
                if (poll(pfd, P_N, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }

                if (pfd[P_SIG].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) > 0)
                                ;
                        copy_winsize(master);
                }

                if (pfd[P_STDIN].revents != 0) {
                        ssize_t n = read(STDIN_FILENO, in, PROXY_BUF);
                        if (n > 0) {
                                in_len = (size_t)n;
                                in_off = 0;
                        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                                stdin_open = false; /* EOF: stop reading, leave the pty alone */
                        }
                }

                if (in_len > 0 && (pfd[P_MASTER].revents & POLLOUT || pfd[P_STDIN].revents)) {
                        ssize_t w = write(master, in + in_off, in_len);
                        if (w > 0) {
                                in_off += (size_t)w;
                                in_len -= (size_t)w;
                        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                                in_len = 0; /* the slave is gone; the read side will notice */
                        }
                }

                if (pfd[P_MASTER].revents & (POLLIN | POLLHUP | POLLERR)) {
                        int r = pump_master(master, out, &stdout_ok);
                        if (r <= 0)
                                return r;
                }

                if (child_pidfd >= 0 && (pfd[P_CHILD].revents & (POLLIN | POLLHUP | POLLERR))) {
                        /* The child is gone but others may hold the slave: take what it left
                         * and stop. */
                        int r = pump_master(master, out, &stdout_ok);
                        return r < 0 ? r : 0;
                }
        }
}
