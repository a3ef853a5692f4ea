/* The HTTP server: Unix socket, libmicrohttpd daemon, /v1.NN prefixes, request bodies, stop. */
#include "api/api.h"
#include "api/http.h"

#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/unixaddr.h"
#include "engine/engine.h"

/* Headers plus the read buffer of one connection: a 100 KiB header is refused (431) with this. */
#define API_CONN_MEMORY (64u * 1024)
#define API_MIN_MINOR 24
#define API_MAX_MINOR 44

/* "/v1.44/containers/json" -> minor 44, rest "/containers/json". Returns 1 when a prefix was
 * found (*rest after it), 0 when none, -1 (reply queued) when its version is refused. */
static int strip_version(struct api_req *r, const char *url, const char **rest)
{
        if (url[0] != '/' || url[1] != 'v' || !isdigit((unsigned char)url[2]))
                return 0;
        const char *p = url + 2;
        char *end = NULL;
        unsigned long major = strtoul(p, &end, 10);
        unsigned long minor = 0;
        if (*end == '.') {
                const char *m = end + 1;
                if (!isdigit((unsigned char)*m))
                        return 0;
                minor = strtoul(m, &end, 10);
        }
        if (*end != '/' && *end != '\0')
                return 0;
        size_t vlen = (size_t)(end - p);
        char ver[32];
        snprintf(ver, sizeof(ver), "%.*s", (int)(vlen < 20 ? vlen : 20), p);
        if (major < 1 || (major == 1 && minor < API_MIN_MINOR)) {
                api_reply_error(r, MHD_HTTP_BAD_REQUEST,
                                "client version %s is too old. Minimum supported API version is "
                                "%s, please upgrade your client to a newer version",
                                ver, API_MIN_VERSION);
                return -1;
        }
        if (major > 1 || minor > API_MAX_MINOR) {
                api_reply_error(r, MHD_HTTP_BAD_REQUEST,
                                "client version %s is too new. Maximum supported API version is "
                                "%s",
                                ver, API_VERSION);
                return -1;
        }
        r->api_minor = (unsigned)minor;
        *rest = end;
        return 1;
}

static void body_append(struct api_req *r, const char *data, size_t len)
{
        if (r->too_big)
                return;
        if (r->body_len + len > API_BODY_MAX) {
                r->too_big = true;
                free(r->body);
                r->body = NULL;
                r->body_len = r->body_cap = 0;
                return;
        }
        if (r->body_len + len + 1 > r->body_cap) {
                size_t cap = r->body_cap ? r->body_cap : 4096;
                while (cap < r->body_len + len + 1)
                        cap *= 2;
                char *b = realloc(r->body, cap);
                if (b == NULL) {
                        r->too_big = true;
                        return;
                }
                r->body = b;
                r->body_cap = cap;
        }
        memcpy(r->body + r->body_len, data, len);
        r->body_len += len;
        r->body[r->body_len] = '\0';
}

static enum MHD_Result first_call(struct api_req *r, const char *url)
{
        const char *path = url;
        int v = strip_version(r, url, &path);
        if (v < 0)
                return MHD_YES;
        if (*path == '\0')
                path = "/";
        r->path = strdup(path);
        if (r->path == NULL)
                return MHD_NO;
        log_debug("api: %s %s", r->method, url);
        r->route = api_route_match(r->method, r->path, r->caps);
        if (r->route == NULL)
                return api_reply_error(r, MHD_HTTP_NOT_FOUND, "page not found");
        if (r->route->begin != NULL)
                return r->route->begin(r);
        const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL && strtoull(cl, NULL, 10) > API_BODY_MAX)
                return api_reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
                                       "request body too large (limit %u MiB)", API_BODY_MAX >> 20);
        return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
        struct api_server *srv = cls;
        struct api_req *r = *con_cls;
        if (r == NULL) {
                r = calloc(1, sizeof(*r));
                if (r == NULL)
                        return MHD_NO;
                r->srv = srv;
                r->eng = srv->eng;
                r->conn = conn;
                r->method = method;
                r->api_minor = API_MAX_MINOR;
                *con_cls = r;
                return first_call(r, url);
        }
        if (*upload_data_size > 0) {
                if (r->up != NULL)
                        api_upload_feed(r->up, upload_data, *upload_data_size);
                else if (!r->replied)
                        body_append(r, upload_data, *upload_data_size);
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (r->replied)
                return MHD_YES;
        if (r->up != NULL)
                api_upload_finish(r->up);
        if (r->too_big)
                return api_reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
                                       "request body too large (limit %u MiB)", API_BODY_MAX >> 20);
        return r->route->handler(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        struct api_req *r = *con_cls;
        if (r == NULL)
                return;
        *con_cls = NULL;
        api_upload_free(r->up); /* joins its worker (EOF on its pipe if the client went away) */
        for (size_t i = 0; i < API_MAX_CAPS; i++)
                free(r->caps[i]);
        free(r->path);
        free(r->body);
        free(r);
        /* A request's JSON and SQLite work leaves free pages in the heap: give them back now,
         * so that an idle daemon's PSS is what it holds, not what its busiest request used. */
        malloc_trim(0);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
        char msg[512];
        vsnprintf(msg, sizeof(msg), fmt, ap);
        size_t n = strlen(msg);
        while (n > 0 && msg[n - 1] == '\n')
                msg[--n] = '\0';
        log_debug("microhttpd: %s", msg);
}

/* A socket file someone still accepts on is a live daemon: never take it over. */
static int listen_unix(const char *path, struct gerr **err)
{
        _cleanup_(unix_addr_done) struct unix_addr ua = {.dirfd = -1};
        int ur = unix_addr_init(&ua, path);
        if (ur < 0)
                return gerr_set(err, -ur, "socket path %s", path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return gerr_set(err, errno, "socket");
        struct stat st;
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return gerr_set(err, EEXIST, "%s exists and is not a socket", path);
                _cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (probe >= 0 && connect(probe, (struct sockaddr *)&ua.sa, ua.len) == 0)
                        return gerr_set(err, EADDRINUSE, "a daemon already listens on %s", path);
                if (unlink(path) < 0 && errno != ENOENT)
                        return gerr_set(err, errno, "remove stale socket %s", path);
        }
        if (bind(fd, (struct sockaddr *)&ua.sa, ua.len) < 0)
                return gerr_set(err, errno, "bind %s", path);
        if (chmod(path, 0660) < 0) {
                int e = errno;
                unlink(path);
                return gerr_set(err, e, "chmod %s", path);
        }
        if (listen(fd, 128) < 0) {
                int e = errno;
                unlink(path);
                return gerr_set(err, e, "listen %s", path);
        }
        return TAKE_FD(fd);
}

static void server_free(struct api_server *s)
{
        if (s->stop_fd >= 0)
                close(s->stop_fd);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->idle);
        free(s->socket_path);
        free(s);
}

int api_start(struct eng *e, const char *socket_path, struct api_server **out, struct gerr **err)
{
        struct api_server *s = calloc(1, sizeof(*s));
        if (s == NULL)
                return gerr_set(err, ENOMEM, "api server");
        s->eng = e;
        s->listen_fd = -1;
        pthread_mutex_init(&s->lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&s->idle, &ca);
        pthread_condattr_destroy(&ca);
        s->stop_fd = eventfd(0, EFD_CLOEXEC);
        s->socket_path = strdup(socket_path);
        if (s->stop_fd < 0 || s->socket_path == NULL) {
                int r = gerr_set(err, errno ? errno : ENOMEM, "api server");
                server_free(s);
                return r;
        }
        int fd = listen_unix(socket_path, err);
        if (fd < 0) {
                server_free(s);
                return fd;
        }
        s->listen_fd = fd;
        /* A thread per connection: wait, attach and logs -f block for as long as they last.
         * poll(), not MHD's default select(): with ~500 containers the daemon holds more than
         * FD_SETSIZE (1024) fds and select() refuses every new client. */
        s->mhd = MHD_start_daemon(
                MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD |
                        MHD_ALLOW_UPGRADE | MHD_USE_ITC | MHD_USE_ERROR_LOG,
                0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                (size_t)API_CONN_MEMORY, MHD_OPTION_CONNECTION_TIMEOUT, 0u, MHD_OPTION_END);
        if (s->mhd == NULL) {
                close(fd);
                unlink(socket_path);
                server_free(s);
                return gerr_set(err, EIO, "start the HTTP server on %s", socket_path);
        }
        log_info("api: listening on %s", socket_path);
        *out = s;
        return 0;
}

bool api_stop(struct api_server *s)
{
        if (s == NULL)
                return true;
        /* No new connections from here on. */
        MHD_socket lfd = MHD_quiesce_daemon(s->mhd);
        if (lfd != MHD_INVALID_SOCKET)
                close(lfd);
        unlink(s->socket_path);
        uint64_t one = 1;
        if (write(s->stop_fd, &one, sizeof(one)) < 0)
                log_warn("api: wake streams: %m");
        eng_shutdown(s->eng);
        api_hijacks_shutdown(s);

        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += 3;
        pthread_mutex_lock(&s->lock);
        while (s->busy > 0) {
                if (pthread_cond_timedwait(&s->idle, &s->lock, &deadline) == ETIMEDOUT)
                        break;
        }
        int busy = s->busy;
        pthread_mutex_unlock(&s->lock);
        if (busy > 0) {
                /* Workers still inside the engine (a wait on a running container) hold s: leave
                 * it and the daemon to process exit. */
                log_warn("api: %d request(s) still running at shutdown", busy);
                return false;
        }
        MHD_stop_daemon(s->mhd);
        server_free(s);
        return true;
}
