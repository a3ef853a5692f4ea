/* One thread watches the wait sockets of every shim (epoll): a running container costs the daemon an fd, not a thread. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "engine/engine_internal.h"

/* One watched shim: its socket and the reply line as it arrives. */
struct watch_ent {
        struct eng_ctr *c;
        int fd;
        size_t len;
        char buf[256];
};

/* Reads what fd has; true once the line is complete or the shim hung up. */
static bool read_some(struct watch_ent *w)
{
        for (;;) {
                ssize_t k = read(w->fd, w->buf + w->len, sizeof(w->buf) - 1 - w->len);
                if (k > 0) {
                        w->len += (size_t)k;
                        if (memchr(w->buf, '\n', w->len) != NULL || w->len == sizeof(w->buf) - 1)
                                return true;
                        continue;
                }
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return false;
                return true; /* EOF or an error: the shim is gone */
        }
}

static void *watch_main(void *p)
{
        struct eng *e = p;
        struct epoll_event evs[32];
        for (;;) {
                int n = epoll_wait(e->watch_epfd, evs, 32, -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        log_error("exit watcher: epoll_wait: %m");
                        return NULL;
                }
                for (int i = 0; i < n; i++) {
                        struct watch_ent *w = evs[i].data.ptr;
                        if (w == NULL)
                                return NULL; /* eng_watch_stop */
                        if (!read_some(w))
                                continue;
                        epoll_ctl(e->watch_epfd, EPOLL_CTL_DEL, w->fd, NULL);
                        close(w->fd);
                        w->buf[w->len] = '\0';
                        char *nl = strchr(w->buf, '\n');
                        if (nl != NULL)
                                *nl = '\0';
                        eng_lifecycle_exited(e, w->c, nl != NULL ? w->buf : NULL);
                        free(w);
                }
        }
}

/* The thread and its epoll set, made at the first container. Called with e->lock held. */
static int watch_init(struct eng *e)
{
        if (e->watch_epfd >= 0)
                return 0;
        int ep = epoll_create1(EPOLL_CLOEXEC);
        int stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
        if (ep < 0 || stop < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, stop, &ev) < 0)
                goto fail;
        e->watch_epfd = ep;
        e->watch_stop_fd = stop;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 64 * 1024);
        int r = pthread_create(&e->watch_thread, &a, watch_main, e);
        pthread_attr_destroy(&a);
        if (r == 0) {
                pthread_setname_np(e->watch_thread, "exit-watch");
                return 0;
        }
        errno = r;
        e->watch_epfd = e->watch_stop_fd = -1;
fail:;
        int saved = errno;
        if (ep >= 0)
                close(ep);
        if (stop >= 0)
                close(stop);
        return -saved;
}

int eng_watch_add(struct eng *e, struct eng_ctr *c, int fd)
{
        int r = watch_init(e);
        if (r < 0)
                return r;
        struct watch_ent *w = calloc(1, sizeof(*w));
        if (w == NULL)
                return -ENOMEM;
        w->c = c;
        w->fd = fd;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = w};
        if (epoll_ctl(e->watch_epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                r = -errno;
                free(w);
                return r;
        }
        return 0;
}

void eng_watch_stop(struct eng *e)
{
        if (e->watch_epfd < 0)
                return;
        uint64_t one = 1;
        if (write(e->watch_stop_fd, &one, sizeof(one)) == sizeof(one))
                pthread_join(e->watch_thread, NULL);
        close(e->watch_epfd);
        close(e->watch_stop_fd);
        e->watch_epfd = e->watch_stop_fd = -1;
}
