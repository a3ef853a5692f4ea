/* Unix socket addresses for paths of any length: long ones go through /proc/self/fd/<dirfd>/. */
#include "common/unixaddr.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int unix_addr_init(struct unix_addr *a, const char *path)
{
        memset(a, 0, sizeof(*a));
        a->dirfd = -1;
        a->sa.sun_family = AF_UNIX;
        size_t len = strlen(path);
        if (len == 0)
                return -EINVAL;
        if (len < sizeof(a->sa.sun_path)) {
                memcpy(a->sa.sun_path, path, len + 1);
                a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
                return 0;
        }
        /* An abstract socket would fit too, but it has no file mode: anything in the network
         * namespace (a --network host container) could connect. The directory's fd keeps the
         * file's permissions and its place on disk. */
        const char *slash = strrchr(path, '/');
        if (slash == NULL || slash[1] == '\0')
                return -ENAMETOOLONG;
        char *dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
        if (dir == NULL)
                return -ENOMEM;
        int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int e = errno;
        free(dir);
        if (fd < 0)
                return -e;
        int n =
            snprintf(a->sa.sun_path, sizeof(a->sa.sun_path), "/proc/self/fd/%d/%s", fd, slash + 1);
        if (n < 0 || (size_t)n >= sizeof(a->sa.sun_path)) {
                close(fd);
                return -ENAMETOOLONG;
        }
        a->dirfd = fd;
        a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
        return 0;
}

void unix_addr_done(struct unix_addr *a)
{
        if (a->dirfd >= 0)
                close(a->dirfd);
        a->dirfd = -1;
}
