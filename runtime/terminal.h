/* Container terminals: a pty made inside the container's devpts, its master handed out by
 * SCM_RIGHTS over --console-socket, and proxied when the runtime holds it itself. */
#pragma once

#include <stdbool.h>

#include "common/gerr.h"

/* Open a new pty (from /dev/ptmx of the current mount namespace), make the slave the calling
 * process's controlling terminal and stdin/stdout/stderr, apply size if h,w > 0.
 * Returns the master fd (>= 0) or a negative errno. */
int rt_terminal_setup(unsigned height, unsigned width, struct gerr **err);
/* Send fd over a connected unix socket with SCM_RIGHTS (name "/dev/ptmx" as runc does). */
int rt_send_fd(int sockfd, int fd, struct gerr **err);
int rt_recv_fd(int sockfd, struct gerr **err);
/* Connect to a --console-socket path. Returns fd or negative errno. */
int rt_console_socket_connect(const char *path, struct gerr **err);
/* Copy between our stdin/stdout and the pty master until the master hangs up or
 * child_pidfd becomes readable (terminated); raw mode on our stdin while copying if it is a tty;
 * SIGWINCH resizes. */
int rt_terminal_proxy(int master, int child_pidfd);
