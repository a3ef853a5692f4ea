/* A container's streams: json-file logs (with follow), attach through the shim, tty resize. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "engine/engine_internal.h"
#include "engine/shim.h"

/* Write everything, waiting on a non-blocking fd; -EPIPE etc. when the client is gone. */
static int write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
                if (n < 0 && errno == ENOTSOCK)
                        n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                struct pollfd pf = {.fd = fd, .events = POLLOUT};
                                poll(&pf, 1, -1);
                                continue;
                        }
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

struct log_ctx {
        const struct eng_logs_opts *o;
        bool tty;
        int fd;
};

/* A json-file "time" (RFC 3339, nanoseconds, UTC) as unix nanoseconds; 0 when unreadable. */
static long long entry_time(const char *t)
{
        struct tm tm = {0};
        const char *rest = t ? strptime(t, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
        if (rest == NULL)
                return 0;
        long long ns = 0;
        if (*rest == '.') {
                int digits = 0;
                for (rest++; *rest >= '0' && *rest <= '9'; rest++)
                        if (digits < 9) {
                                ns = ns * 10 + (*rest - '0');
                                digits++;
                        }
                for (; digits < 9; digits++)
                        ns *= 10;
        }
        return (long long)timegm(&tm) * 1000000000LL + ns;
}

/* One json-file line to the client; 1 = the line is past `until` (stop), <0 = client gone. */
static int emit_line(struct log_ctx *lc, const char *line, size_t len)
{
        _cleanup_json_ json_t *j = json_loadb(line, len, 0, NULL);
        if (j == NULL)
                return 0;
        const char *stream = json_string_value(json_object_get(j, "stream"));
        const char *time = json_string_value(json_object_get(j, "time"));
        json_t *log = json_object_get(j, "log");
        bool is_err = stream && strcmp(stream, "stderr") == 0;
        if ((is_err && !lc->o->stderr_) || (!is_err && !lc->o->stdout_))
                return 0;
        long long t = entry_time(time);
        if (lc->o->since > 0 && t < lc->o->since)
                return 0;
        if (lc->o->until > 0 && t > lc->o->until)
                return 1;
        const char *text = json_string_value(log);
        size_t tlen = json_string_length(log);
        size_t tslen = lc->o->timestamps && time ? strlen(time) + 1 : 0;
        _cleanup_free_ char *buf = malloc(8 + tslen + tlen);
        if (buf == NULL)
                return -ENOMEM;
        size_t off = lc->tty ? 0 : 8;
        if (tslen) {
                memcpy(buf + off, time, tslen - 1);
                buf[off + tslen - 1] = ' ';
        }
        memcpy(buf + off + tslen, text ? text : "", tlen);
        size_t payload = tslen + tlen;
        if (!lc->tty) {
                buf[0] = is_err ? 2 : 1;
                buf[1] = buf[2] = buf[3] = 0;
                buf[4] = (char)(payload >> 24);
                buf[5] = (char)(payload >> 16);
                buf[6] = (char)(payload >> 8);
                buf[7] = (char)payload;
        }
        return write_all(lc->fd, buf, off + payload);
}

/* Whether a log line passes the stream filter (for counting the tail). */
static bool line_selected(const struct eng_logs_opts *o, const char *line, size_t len)
{
        bool is_err = memmem(line, len, "\"stream\":\"stderr\"", 17) != NULL;
        return is_err ? o->stderr_ : o->stdout_;
}

/* Send the complete lines of buf; returns the bytes consumed (up to the last newline), or <0. */
static long emit_lines(struct log_ctx *lc, const char *buf, size_t len, long *skip, bool *done)
{
        size_t pos = 0;
        while (pos < len && !*done) {
                const char *nl = memchr(buf + pos, '\n', len - pos);
                if (nl == NULL)
                        break;
                size_t l = (size_t)(nl - (buf + pos));
                if (*skip > 0 && line_selected(lc->o, buf + pos, l)) {
                        (*skip)--;
                } else if (*skip <= 0 || !line_selected(lc->o, buf + pos, l)) {
                        int r = emit_line(lc, buf + pos, l);
                        if (r < 0)
                                return r;
                        if (r == 1)
                                *done = true;
                }
                pos += l + 1;
        }
        return (long)pos;
}

static long count_selected(const struct eng_logs_opts *o, const char *buf, size_t len)
{
        long n = 0;
        for (size_t pos = 0; pos < len;) {
                const char *nl = memchr(buf + pos, '\n', len - pos);
                if (nl == NULL)
                        break;
                n += line_selected(o, buf + pos, (size_t)(nl - (buf + pos)));
                pos = (size_t)(nl - buf) + 1;
        }
        return n;
}

static bool still_running(struct eng *e, struct eng_ctr *c)
{
        pthread_mutex_lock(&e->lock);
        bool r = (c->running || c->starting) && !c->removed;
        pthread_mutex_unlock(&e->lock);
        return r;
}

int eng_container_logs(struct eng *e, const char *ref, const struct eng_logs_opts *o, int fd,
                       struct gerr **err)
{
        struct eng_ctr *c = NULL;
        pthread_mutex_lock(&e->lock);
        int r = eng_ctr_find(e, ref, &c, err);
        bool tty = r >= 0 && json_is_true(json_object_get(c->config, "Tty"));
        char id[65] = "";
        if (r >= 0)
                snprintf(id, sizeof(id), "%s", c->id);
        pthread_mutex_unlock(&e->lock);
        if (r < 0)
                return r;
        struct log_ctx lc = {.o = o, .tty = tty, .fd = fd};
        _cleanup_free_ char *path = eng_ctr_log_path(e, id);

        /* Rotated files (<log>.N, oldest highest) come before the live one. */
        int nfiles = 0;
        char rot[4200];
        for (nfiles = 0; nfiles < 100; nfiles++) {
                snprintf(rot, sizeof(rot), "%s.%d", path, nfiles + 1);
                if (!fs_exists(rot))
                        break;
        }
        char **bufs = calloc((size_t)nfiles + 1, sizeof(char *));
        size_t *lens = calloc((size_t)nfiles + 1, sizeof(size_t));
        long total = 0;
        for (int i = 0; bufs && lens && i <= nfiles; i++) {
                if (i < nfiles)
                        snprintf(rot, sizeof(rot), "%s.%d", path, nfiles - i);
                if (fs_read_file(i < nfiles ? rot : path, &bufs[i], &lens[i], NULL) < 0) {
                        bufs[i] = NULL;
                        lens[i] = 0;
                }
                total += count_selected(o, bufs[i], lens[i]);
        }
        long skip = o->tail >= 0 && o->tail < total ? total - o->tail : 0;
        bool done = false;
        off_t live_off = 0;
        r = 0;
        for (int i = 0; bufs && lens && i <= nfiles; i++) {
                if (r >= 0 && bufs[i]) {
                        long used = emit_lines(&lc, bufs[i], lens[i], &skip, &done);
                        if (used < 0)
                                r = (int)used;
                        else if (i == nfiles)
                                live_off = used;
                }
                free(bufs[i]);
        }
        free(bufs);
        free(lens);
        if (r < 0 || done || !o->follow) {
                pthread_mutex_lock(&e->lock);
                eng_ctr_unref(c);
                pthread_mutex_unlock(&e->lock);
                return 0;
        }

        /* Follow: inotify on the directory sees the live file grow, rotate or appear. */
        _cleanup_free_ char *dir = eng_ctr_dir(e, id);
        _cleanup_close_ int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (ino >= 0)
                inotify_add_watch(ino, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE);
        _cleanup_close_ int lfd = open(path, O_RDONLY | O_CLOEXEC);
        if (lfd >= 0)
                lseek(lfd, live_off, SEEK_SET);
        char *pend = NULL;
        size_t plen = 0;
        for (;;) {
                bool running = still_running(e, c);
                struct stat ps, fs;
                if (lfd < 0 || (stat(path, &ps) == 0 && fstat(lfd, &fs) == 0 &&
                                 ps.st_ino != fs.st_ino)) {
                        /* Rotated: finish the old file below, then continue with the new. */
                        int nfd = open(path, O_RDONLY | O_CLOEXEC);
                        if (nfd >= 0) {
                                if (lfd >= 0) {
                                        char chunk[65536];
                                        ssize_t n;
                                        while ((n = read(lfd, chunk, sizeof(chunk))) > 0) {
                                                pend = realloc(pend, plen + (size_t)n);
                                                memcpy(pend + plen, chunk, (size_t)n);
                                                plen += (size_t)n;
                                        }
                                        close(lfd);
                                }
                                lfd = nfd;
                        }
                }
                char chunk[65536];
                ssize_t n;
                while (lfd >= 0 && (n = read(lfd, chunk, sizeof(chunk))) > 0) {
                        pend = realloc(pend, plen + (size_t)n);
                        memcpy(pend + plen, chunk, (size_t)n);
                        plen += (size_t)n;
                }
                long zero = 0;
                long used = pend ? emit_lines(&lc, pend, plen, &zero, &done) : 0;
                if (used < 0 || done)
                        break;
                memmove(pend, pend + used, plen - (size_t)used);
                plen -= (size_t)used;
                if (!running)
                        break;
                /* The client's hangup ends the follow; so does the container's exit, which
                 * the short timeout notices (logs -f is not on a hot path). */
                struct pollfd pf[2] = {{.fd = ino, .events = POLLIN},
                                       {.fd = fd, .events = POLLRDHUP}};
                int pr = poll(pf, 2, 250);
                if (pr > 0 && (pf[1].revents & (POLLHUP | POLLERR | POLLRDHUP)))
                        break;
                if (pr > 0 && (pf[0].revents & POLLIN)) {
                        char ev[4096];
                        while (read(ino, ev, sizeof(ev)) > 0) {
                        }
                }
        }
        free(pend);
        pthread_mutex_lock(&e->lock);
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        return 0;
}

/* Copy both ways until the container's side ends, the client goes away or types the detach
 * keys. */
int eng_io_pump(int client, int shim, bool want_stdin, struct eng_detach_keys *dk)
{
        char buf[65536], fwd[sizeof(buf) + sizeof(dk->keys)];
        bool in_open = want_stdin;
        for (;;) {
                struct pollfd pf[2] = {{.fd = shim, .events = POLLIN},
                                       {.fd = client, .events = in_open ? POLLIN : 0}};
                if (poll(pf, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return 0;
                }
                if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        ssize_t n = read(shim, buf, sizeof(buf));
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n <= 0 || write_all(client, buf, (size_t)n) < 0)
                                return 0;
                        continue;
                }
                if (pf[1].revents & POLLIN) {
                        ssize_t n = read(client, buf, sizeof(buf));
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        const char *out = buf;
                        size_t len = n > 0 ? (size_t)n : 0;
                        bool detach = false;
                        if (n > 0 && dk != NULL) {
                                len = eng_detach_keys_filter(dk, buf, (size_t)n, fwd, &detach);
                                out = fwd;
                        }
                        if (n <= 0) {
                                /* stdin ended: the container sees EOF, its output still flows. */
                                shutdown(shim, SHUT_WR);
                                in_open = false;
                        } else if (len > 0 && write_all(shim, out, len) < 0) {
                                in_open = false;
                        }
                        if (detach)
                                return 1;
                        continue;
                }
                /* POLLHUP on the client: it closed both ways (a half-close only gives
                 * POLLRDHUP), so nobody is left to read. */
                if (pf[1].revents & (POLLHUP | POLLERR))
                        return 0;
        }
}

int eng_container_attach(struct eng *e, const char *ref, const struct eng_attach_opts *o, int fd,
                         struct gerr **err)
{
        struct eng_ctr *c = NULL;
        pthread_mutex_lock(&e->lock);
        int r = eng_ctr_find(e, ref, &c, err);
        if (r < 0) {
                pthread_mutex_unlock(&e->lock);
                return r;
        }
        char id[65];
        snprintf(id, sizeof(id), "%s", c->id);
        /* dockerd watches for the detach keys on a tty only. */
        bool tty = json_is_true(json_object_get(c->config, "Tty"));
        struct eng_detach_keys keys;
        if ((r = eng_detach_keys_parse(o->detach_keys, &keys, err)) < 0) {
                eng_ctr_unref(c);
                pthread_mutex_unlock(&e->lock);
                return r;
        }
        eng_event_ctr(e, c, "attach", NULL);
        if (o->logs) {
                pthread_mutex_unlock(&e->lock);
                struct eng_logs_opts lo = {.stdout_ = o->stdout_, .stderr_ = o->stderr_,
                                           .tail = -1};
                eng_container_logs(e, id, &lo, fd, NULL);
                pthread_mutex_lock(&e->lock);
        }
        bool registered = false;
        if (o->stream && !c->shim_up) {
                /* docker run attaches before it starts: wait for the shim, and make start
                 * wait for us to connect so the first byte reaches the client. */
                unsigned gen = c->start_gen;
                c->pending_attaches++;
                registered = true;
                while (!c->shim_up && c->start_gen == gen && !c->removed && !e->closing)
                        pthread_cond_wait(&e->cond, &e->lock);
        }
        bool go = o->stream && c->shim_up;
        if (!go && registered) {
                c->pending_attaches--;
                pthread_cond_broadcast(&e->cond);
        }
        pthread_mutex_unlock(&e->lock);
        int sfd = -1;
        if (go) {
                r = eng_shim_attach(e->exec_root, id, o->stdin_, o->stdout_, o->stderr_, &sfd,
                                    err);
                if (registered) {
                        pthread_mutex_lock(&e->lock);
                        c->pending_attaches--;
                        pthread_cond_broadcast(&e->cond);
                        pthread_mutex_unlock(&e->lock);
                }
        }
        if (go && r >= 0) {
                eng_io_pump(fd, sfd, o->stdin_, tty && o->stdin_ ? &keys : NULL);
                close(sfd);
        }
        pthread_mutex_lock(&e->lock);
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        return go ? r : 0;
}

int eng_container_resize(struct eng *e, const char *ref, unsigned h, unsigned w,
                         struct gerr **err)
{
        struct eng_ctr *c = NULL;
        pthread_mutex_lock(&e->lock);
        int r = eng_ctr_find(e, ref, &c, err);
        if (r >= 0 && !c->shim_up)
                r = eng_err(err, EBUSY, "Container %s is not running", c->id);
        char id[65] = "";
        if (r >= 0) {
                snprintf(id, sizeof(id), "%s", c->id);
                char hs[16], ws[16];
                snprintf(hs, sizeof(hs), "%u", h);
                snprintf(ws, sizeof(ws), "%u", w);
                eng_event_ctr(e, c, "resize", json_pack("{s:s, s:s}", "height", hs, "width", ws));
        }
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        if (r < 0)
                return r;
        return eng_shim_resize(e->exec_root, id, h, w, err);
}
