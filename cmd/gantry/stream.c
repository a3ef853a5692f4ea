/* gantry CLI: Docker's multiplexed stdout/stderr stream (8-byte frame headers) and plain writes. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cli_write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

void cli_demux_init(struct cli_demux *d, bool raw)
{
        *d = (struct cli_demux){.raw = raw, .fd = STDOUT_FILENO};
}

bool cli_demux_feed(struct cli_demux *d, const char *buf, size_t len)
{
        if (d->raw)
                return cli_write_all(STDOUT_FILENO, buf, len) == 0;
        while (len > 0) {
                if (d->remaining == 0) {
                        size_t take = 8 - d->hdr_len;
                        if (take > len)
                                take = len;
                        memcpy(d->hdr + d->hdr_len, buf, take);
                        d->hdr_len += take;
                        buf += take;
                        len -= take;
                        if (d->hdr_len < 8)
                                return true;
                        d->hdr_len = 0;
                        /* Stream 0 is stdin (never sent), 1 stdout, 2 stderr (also used for
                         * the daemon's own errors in the stream). */
                        d->fd = d->hdr[0] == 2 ? STDERR_FILENO : STDOUT_FILENO;
                        d->remaining = (size_t)d->hdr[4] << 24 | (size_t)d->hdr[5] << 16 |
                                       (size_t)d->hdr[6] << 8 | d->hdr[7];
                        continue;
                }
                size_t take = d->remaining < len ? d->remaining : len;
                /* A reader that went away (| head) is not our error: keep draining. */
                (void)cli_write_all(d->fd, buf, take);
                buf += take;
                len -= take;
                d->remaining -= take;
        }
        return true;
}

bool cli_demux_sink(const char *buf, size_t len, void *ud)
{
        return cli_demux_feed(ud, buf, len);
}
