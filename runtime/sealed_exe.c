/* CVE-2019-5736: run the runtime from a sealed memfd copy, so no container can write our binary. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "runtime/runtime.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

static const unsigned int seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

int rt_sealed_exe_ensure(char **argv, char **envp)
{
        _cleanup_close_ int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (self < 0)
                return -errno;
        int have = fcntl(self, F_GET_SEALS);
        if (have >= 0 && (have & (int)seals) == (int)seals)
                return 0; /* already running from the sealed copy */
        struct stat st;
        if (fstat(self, &st) < 0)
                return -errno;
        int mfd = memfd_create("gantry-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
        if (mfd < 0 && errno == EINVAL)
                mfd = memfd_create("gantry-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0)
                return -errno;
        off_t off = 0;
        while (off < st.st_size) {
                ssize_t n = sendfile(mfd, self, &off, (size_t)(st.st_size - off));
                if (n <= 0) {
                        int e = n < 0 ? errno : EIO;
                        close(mfd);
                        return -e;
                }
        }
        if (fcntl(mfd, F_ADD_SEALS, seals) < 0) {
                int e = errno;
                close(mfd);
                return -e;
        }
        fexecve(mfd, argv, envp);
        int e = errno;
        close(mfd);
        return -e;
}
