/* Unix socket addresses for paths of any length: long ones go through /proc/self/fd/<dirfd>/. */
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

struct unix_addr {
        struct sockaddr_un sa;
        socklen_t len;
        int dirfd; /* O_PATH fd of the socket's directory while sa names it by /proc; else -1 */
};

/* Fill a for path. A path that fits sun_path (108 bytes) is used as is; a longer one is named
 * as /proc/self/fd/<fd of its directory>/<basename>, which bind(2) and connect(2) resolve like
 * any path (the magic link leads to the directory), so the socket file still lands at path.
 * Returns 0 or -errno (ENAMETOOLONG only when the basename alone does not fit). */
int unix_addr_init(struct unix_addr *a, const char *path);
/* Close the directory fd, if any. */
void unix_addr_done(struct unix_addr *a);
