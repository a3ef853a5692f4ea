/* Streams: chunked response bodies filled by a worker thread, request bodies drained into one. */
#include "api/http.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "engine/engine.h"

void api_busy_enter(struct api_server *srv)
{
        pthread_mutex_lock(&srv->lock);
        srv->busy++;
        pthread_mutex_unlock(&srv->lock);
}

void api_busy_leave(struct api_server *srv)
{
        pthread_mutex_lock(&srv->lock);
        srv->busy--;
        pthread_cond_broadcast(&srv->idle);
        pthread_mutex_unlock(&srv->lock);
}

int api_write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

/* The worker's half: it owns the write end and the argument. */
struct stream_work {
        struct api_server *srv;
        void (*fn)(struct api_server *srv, void *arg, int fd);
        void *arg;
        void (*free_arg)(void *);
        int wfd;
};

/* The response's half: it owns the read end. */
struct stream_out {
        struct api_server *srv;
        int rfd;
        int sock; /* the client's socket, watched for hang-up while the worker is silent */
        bool started;
};

static void *stream_main(void *p)
{
        struct stream_work *w = p;
        w->fn(w->srv, w->arg, w->wfd);
        close(w->wfd);
        if (w->free_arg != NULL)
                w->free_arg(w->arg);
        api_busy_leave(w->srv);
        free(w);
        return NULL;
}

/* Blocking is fine: each connection has its own thread. Ends on EOF from the worker, a client
 * that hung up, or the server stopping. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
        struct stream_out *s = cls;
        /* microhttpd holds the headers back until the first chunk; an empty first answer makes
         * it send them alone, as dockerd does (the next call blocks, so there is no spin). */
        if (!s->started) {
                s->started = true;
                return 0;
        }
        for (;;) {
                struct pollfd p[3] = {{.fd = s->rfd, .events = POLLIN},
                                      {.fd = s->srv->stop_fd, .events = POLLIN},
                                      {.fd = s->sock, .events = POLLRDHUP}};
                int n = poll(p, s->sock >= 0 ? 3 : 2, -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return MHD_CONTENT_READER_END_WITH_ERROR;
                }
                if (p[0].revents != 0) {
                        ssize_t k = read(s->rfd, buf, max);
                        if (k > 0)
                                return k;
                        if (k == 0)
                                return MHD_CONTENT_READER_END_OF_STREAM;
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return MHD_CONTENT_READER_END_WITH_ERROR;
                }
                if (p[1].revents != 0 || (s->sock >= 0 && p[2].revents != 0))
                        return MHD_CONTENT_READER_END_WITH_ERROR;
        }
}

static void stream_free(void *cls)
{
        struct stream_out *s = cls;
        close(s->rfd); /* the worker's next write fails with EPIPE and it ends */
        /* A worker waiting in the engine (a container wait) learns it now, not at its exit. */
        eng_wake(s->srv->eng);
        free(s);
}

enum MHD_Result api_reply_stream(struct api_req *r, unsigned status, const char *ctype,
                                 void (*fn)(struct api_server *srv, void *arg, int fd),
                                 void *arg, void (*free_arg)(void *))
{
        return api_reply_stream_headers(r, status, ctype, NULL, fn, arg, free_arg);
}

enum MHD_Result api_reply_stream_headers(struct api_req *r, unsigned status, const char *ctype,
                                         const char *const *headers,
                                         void (*fn)(struct api_server *srv, void *arg, int fd),
                                         void *arg, void (*free_arg)(void *))
{
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0) {
                if (free_arg != NULL)
                        free_arg(arg);
                return api_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "pipe: %m");
        }
        struct stream_out *s = calloc(1, sizeof(*s));
        struct stream_work *w = calloc(1, sizeof(*w));
        if (s == NULL || w == NULL) {
                free(s);
                free(w);
                close(fds[0]);
                close(fds[1]);
                if (free_arg != NULL)
                        free_arg(arg);
                return MHD_NO;
        }
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *s = (struct stream_out){.srv = r->srv, .rfd = fds[0], .sock = ci ? ci->connect_fd : -1};
        *w = (struct stream_work){.srv = r->srv, .fn = fn, .arg = arg, .free_arg = free_arg,
                                  .wfd = fds[1]};
        api_busy_enter(r->srv);
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&th, &attr, stream_main, w);
        pthread_attr_destroy(&attr);
        if (rc != 0) {
                api_busy_leave(r->srv);
                close(fds[1]);
                stream_free(s);
                if (free_arg != NULL)
                        free_arg(arg);
                free(w);
                return api_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "thread: %s",
                                       strerror(rc));
        }
        struct MHD_Response *resp =
                MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, stream_read, s,
                                                  stream_free);
        if (resp == NULL) {
                stream_free(s);
                return MHD_NO;
        }
        if (ctype != NULL)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
        for (size_t i = 0; headers != NULL && headers[i] != NULL && headers[i + 1] != NULL; i += 2)
                MHD_add_response_header(resp, headers[i], headers[i + 1]);
        return api_queue(r, status, resp);
}

static void *upload_main(void *p)
{
        struct api_req *r = p;
        struct api_upload *u = r->up;
        u->rc = u->fn(r, u->rfd, &u->err);
        /* Whatever the writer still sends now fails with EPIPE and is dropped. */
        close(u->rfd);
        u->rfd = -1;
        return NULL;
}

int api_upload_begin(struct api_req *r, int (*fn)(struct api_req *r, int rfd, struct gerr **err),
                     struct gerr **err)
{
        struct api_upload *u = calloc(1, sizeof(*u));
        if (u == NULL)
                return gerr_set(err, ENOMEM, "upload");
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0) {
                free(u);
                return gerr_set(err, errno, "pipe");
        }
        /* Bigger pipe: fewer wake-ups per MiB of archive. Best effort. */
        (void)fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
        u->rfd = fds[0];
        u->wfd = fds[1];
        u->fn = fn;
        r->up = u;
        int rc = pthread_create(&u->thread, NULL, upload_main, r);
        if (rc != 0) {
                close(fds[0]);
                close(fds[1]);
                free(u);
                r->up = NULL;
                return gerr_set(err, rc, "thread");
        }
        return 0;
}

void api_upload_feed(struct api_upload *u, const char *data, size_t len)
{
        if (u->broken || u->wfd < 0)
                return;
        if (api_write_all(u->wfd, data, len) < 0)
                u->broken = true;
}

void api_upload_finish(struct api_upload *u)
{
        if (u->wfd >= 0) {
                close(u->wfd);
                u->wfd = -1;
                pthread_join(u->thread, NULL);
        }
}

void api_upload_free(struct api_upload *u)
{
        if (u == NULL)
                return;
        api_upload_finish(u);
        gerr_free(u->err);
        json_decref(u->result);
        free(u);
}
