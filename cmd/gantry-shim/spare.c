/* A spare shim: started ahead by the engine, it waits for the arguments of its container. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd/gantry-shim/shim.h"

/* The arguments come as one SOCK_SEQPACKET message: NUL-terminated strings, with the engine's
 * readiness pipe as the one fd passed along. */
#define SPARE_MSG_MAX 16384
#define SPARE_ARGS_MAX 40

int shim_spare_wait(int sock, int ready_fd, int *argc, char ***argv)
{
        char *buf = malloc(SPARE_MSG_MAX);
        char **av = calloc(SPARE_ARGS_MAX + 1, sizeof(*av));
        if (buf == NULL || av == NULL)
                return -ENOMEM;
        union {
                struct cmsghdr h;
                char b[CMSG_SPACE(sizeof(int))];
        } ctl;
        struct iovec iov = {.iov_base = buf, .iov_len = SPARE_MSG_MAX};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                           .msg_controllen = sizeof(ctl.b)};
        ssize_t n;
        while ((n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
                ;
        /* 0: the engine closed our socket (it stopped, or has no use for us). */
        if (n <= 0)
                return n < 0 ? -errno : -ECANCELED;
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
            c->cmsg_len != CMSG_LEN(sizeof(int)) || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
            buf[n - 1] != '\0')
                return -EBADMSG;
        int fd;
        memcpy(&fd, CMSG_DATA(c), sizeof(fd));
        /* The pipe takes the place it has in a shim the engine spawned itself. */
        if (fd != ready_fd && (dup2(fd, ready_fd) < 0 || close(fd) < 0))
                return -errno;
        int k = 0;
        av[k++] = "gantry-shim";
        for (char *p = buf; p < buf + n && k < SPARE_ARGS_MAX; p += strlen(p) + 1)
                av[k++] = p;
        av[k] = NULL;
        *argc = k;
        *argv = av; /* kept for the shim's life: its options point into buf */
        return 0;
}

void shim_spare_retitle(char *area, size_t len, int argc, char **argv)
{
        size_t used = 0;
        for (int i = 0; i < argc; i++) {
                size_t n = strlen(argv[i]) + 1;
                if (used + n > len)
                        break;
                memcpy(area + used, argv[i], n);
                used += n;
        }
        memset(area + used, 0, len - used);
}
