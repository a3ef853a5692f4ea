/* Container I/O routes: logs (chunked) and attach (hijacked raw socket, or chunked without). */
#include "api/http.h"
#include "api/schema.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "engine/engine.h"

#define REF(r) ((r)->caps[0])

/* The container's full id and whether it has a tty (framing and content type depend on it);
 * *no_log (optional) when its log driver keeps nothing to read. */
static int container_tty(struct api_req *r, char **id, bool *tty, bool *no_log, struct gerr **err)
{
        _cleanup_json_ json_t *j = NULL;
        int rc = eng_container_inspect(r->eng, REF(r), &j, err);
        if (rc < 0)
                return rc;
        *tty = json_is_true(json_object_get(json_object_get(j, "Config"), "Tty"));
        if (no_log != NULL) {
                json_t *lc = json_object_get(json_object_get(j, "HostConfig"), "LogConfig");
                const char *type = json_string_value(json_object_get(lc, "Type"));
                *no_log = type != NULL && strcmp(type, "none") == 0;
        }
        const char *s = json_string_value(json_object_get(j, "Id"));
        *id = strdup(s ? s : REF(r));
        return *id ? 0 : gerr_set(err, ENOMEM, "inspect");
}

/* API 1.42 named the multiplexed framing; older clients were told "raw-stream" for both. */
static const char *stream_type(struct api_req *r, bool tty)
{
        return !tty && r->api_minor >= 42 ? "application/vnd.docker.multiplexed-stream"
                                          : "application/vnd.docker.raw-stream";
}

/* Docker sends times as "seconds[.nanoseconds]"; *out in unix nanoseconds. */
static bool parse_time(const char *s, long long *out)
{
        *out = 0;
        if (s == NULL || *s == '\0')
                return true;
        long long sec = 0, ns = 0;
        const char *p = s;
        if (*p < '0' || *p > '9')
                return false;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (sec > 9000000000LL)
                        return false;
                sec = sec * 10 + (*p - '0');
        }
        if (*p == '.') {
                int digits = 0;
                for (p++; *p >= '0' && *p <= '9'; p++)
                        if (digits < 9) {
                                ns = ns * 10 + (*p - '0');
                                digits++;
                        }
                for (; digits < 9; digits++)
                        ns *= 10;
        }
        if (*p != '\0')
                return false;
        *out = sec * 1000000000LL + ns;
        return true;
}

struct logs_arg {
        struct eng *eng;
        char *id;
        struct eng_logs_opts o;
};

static void logs_free(void *p)
{
        struct logs_arg *a = p;
        free(a->id);
        free(a);
}

static void logs_run(struct api_server *srv, void *p, int fd)
{
        struct logs_arg *a = p;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_container_logs(a->eng, a->id, &a->o, fd, &err) < 0)
                log_debug("api: logs of %s: %s", a->id, err && err->msg ? err->msg : "failed");
}

enum MHD_Result api_container_logs(struct api_req *r)
{
        struct eng_logs_opts o = {
                .follow = api_query_bool(r, "follow"),
                .stdout_ = api_query_bool(r, "stdout"),
                .stderr_ = api_query_bool(r, "stderr"),
                .timestamps = api_query_bool(r, "timestamps"),
                .tail = -1,
        };
        if (!o.stdout_ && !o.stderr_)
                return api_reply_error(r, MHD_HTTP_BAD_REQUEST,
                                       "Bad parameters: you must choose at least one stream");
        if (!parse_time(api_query(r, "since"), &o.since) ||
            !parse_time(api_query(r, "until"), &o.until))
                return api_reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid since or until time");
        const char *tail = api_query(r, "tail");
        if (tail != NULL && *tail != '\0' && strcmp(tail, "all") != 0) {
                char *end = NULL;
                long n = strtol(tail, &end, 10);
                if (end == tail || *end != '\0')
                        return api_reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid tail: %s", tail);
                o.tail = n < 0 ? -1 : n;
        }
        _cleanup_gerr_ struct gerr *err = NULL;
        _cleanup_free_ char *id = NULL;
        bool tty = false, no_log = false;
        if (container_tty(r, &id, &tty, &no_log, &err) < 0)
                return api_reply_gerr(r, err);
        if (no_log) /* dockerd: logger.ErrReadLogsNotSupported, a NotImplemented error */
                return api_reply_error(r, MHD_HTTP_NOT_IMPLEMENTED,
                                       "configured logging driver does not support reading");
        struct logs_arg *a = calloc(1, sizeof(*a));
        if (a == NULL)
                return MHD_NO;
        *a = (struct logs_arg){.eng = r->eng, .id = TAKE_PTR(id), .o = o};
        return api_reply_stream(r, MHD_HTTP_OK, stream_type(r, tty), logs_run, a, logs_free);
}

/* ---- attach ---- */

struct api_hijack;
static enum MHD_Result hijack_reply(struct api_req *r, struct api_hijack *h, bool tty);

struct api_hijack {
        struct api_hijack *next;
        struct api_server *srv;
        struct eng *eng;
        char *id;
        struct eng_attach_opts o;
        char *detach_keys; /* o.detach_keys points here */
        bool exec; /* an exec's stdio (xo) rather than the container's (o) */
        struct eng_exec_start_opts xo;
        int sock;
        struct MHD_UpgradeResponseHandle *urh;
};

static void hijack_free(void *p)
{
        struct api_hijack *h = p;
        free(h->id);
        free(h->detach_keys);
        free(h);
}

static void hijack_unlink(struct api_hijack *h)
{
        struct api_server *srv = h->srv;
        pthread_mutex_lock(&srv->lock);
        for (struct api_hijack **pp = &srv->hijacks; *pp != NULL; pp = &(*pp)->next) {
                if (*pp == h) {
                        *pp = h->next;
                        break;
                }
        }
        pthread_mutex_unlock(&srv->lock);
}

void api_hijacks_shutdown(struct api_server *srv)
{
        pthread_mutex_lock(&srv->lock);
        for (struct api_hijack *h = srv->hijacks; h != NULL; h = h->next)
                shutdown(h->sock, SHUT_RDWR);
        pthread_mutex_unlock(&srv->lock);
}

static void hijack_run(struct api_hijack *h, int fd)
{
        _cleanup_gerr_ struct gerr *err = NULL;
        int r = h->exec ? eng_exec_start(h->eng, h->id, &h->xo, fd, &err)
                        : eng_container_attach(h->eng, h->id, &h->o, fd, &err);
        if (r < 0)
                log_debug("api: %s %s: %s", h->exec ? "exec" : "attach to", h->id,
                          err && err->msg ? err->msg : "failed");
}

static void *hijack_main(void *p)
{
        struct api_hijack *h = p;
        hijack_run(h, h->sock);
        hijack_unlink(h);
        /* EOF to the client, then read what it still sends (stdin, a last resize) until it
         * closes: closing with unread bytes would reset the connection under its last read. */
        shutdown(h->sock, SHUT_WR);
        char buf[4096];
        struct pollfd pfd = {.fd = h->sock, .events = POLLIN};
        while (poll(&pfd, 1, 2000) > 0 && read(h->sock, buf, sizeof(buf)) > 0)
                ;
        MHD_upgrade_action(h->urh, MHD_UPGRADE_ACTION_CLOSE);
        struct api_server *srv = h->srv;
        hijack_free(h);
        api_busy_leave(srv);
        return NULL;
}

/* Runs in the connection's thread once "101" is on the wire; the attach itself gets its own
 * thread so that this one returns to microhttpd at once. */
static void on_upgraded(void *cls, struct MHD_Connection *conn, void *con_cls,
                        const char *extra_in, size_t extra_in_size, MHD_socket sock,
                        struct MHD_UpgradeResponseHandle *urh)
{
        struct api_hijack *h = cls;
        if (extra_in_size > 0)
                log_warn("api: attach to %s: %zu byte(s) sent before the upgrade were dropped",
                         h->id, extra_in_size);
        int fl = fcntl(sock, F_GETFL);
        if (fl >= 0 && (fl & O_NONBLOCK))
                (void)fcntl(sock, F_SETFL, fl & ~O_NONBLOCK);
        h->sock = sock;
        h->urh = urh;
        struct api_server *srv = h->srv;
        pthread_mutex_lock(&srv->lock);
        h->next = srv->hijacks;
        srv->hijacks = h;
        srv->busy++;
        pthread_mutex_unlock(&srv->lock);
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&th, &attr, hijack_main, h);
        pthread_attr_destroy(&attr);
        if (rc != 0) {
                log_error("api: attach thread: %s", strerror(rc));
                hijack_unlink(h);
                MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
                hijack_free(h);
                api_busy_leave(srv);
        }
}

static void attach_stream_run(struct api_server *srv, void *p, int fd)
{
        hijack_run(p, fd);
}

static bool wants_upgrade(struct api_req *r)
{
        const char *up = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Upgrade");
        const char *conn = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Connection");
        return up != NULL && *up != '\0' && conn != NULL && strcasestr(conn, "upgrade") != NULL;
}

enum MHD_Result api_container_attach(struct api_req *r)
{
        _cleanup_gerr_ struct gerr *err = NULL;
        _cleanup_free_ char *id = NULL;
        bool tty = false;
        if (container_tty(r, &id, &tty, NULL, &err) < 0)
                return api_reply_gerr(r, err);
        struct api_hijack *h = calloc(1, sizeof(*h));
        if (h == NULL)
                return MHD_NO;
        h->srv = r->srv;
        h->eng = r->eng;
        h->id = TAKE_PTR(id);
        h->sock = -1;
        h->o = (struct eng_attach_opts){
                .stream = api_query_bool(r, "stream"),
                .logs = api_query_bool(r, "logs"),
                .stdin_ = api_query_bool(r, "stdin"),
                .stdout_ = api_query_bool(r, "stdout"),
                .stderr_ = api_query_bool(r, "stderr"),
        };
        const char *keys = api_query(r, "detachKeys");
        struct eng_detach_keys dk;
        if (eng_detach_keys_parse(keys, &dk, &err) < 0) {
                hijack_free(h);
                return api_reply_gerr(r, err);
        }
        h->detach_keys = keys && *keys ? strdup(keys) : NULL;
        h->o.detach_keys = h->detach_keys;
        return hijack_reply(r, h, tty);
}

/* 101 and the hijacked connection when the client asks for an upgrade, else the output alone
 * as a chunked body. h is taken. */
static enum MHD_Result hijack_reply(struct api_req *r, struct api_hijack *h, bool tty)
{
        const char *ctype = tty ? "application/vnd.docker.raw-stream"
                                : "application/vnd.docker.multiplexed-stream";
        if (!wants_upgrade(r)) {
                h->o.stdin_ = false;
                return api_reply_stream(r, MHD_HTTP_OK, ctype, attach_stream_run, h, hijack_free);
        }
        struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgraded, h);
        if (resp == NULL) {
                hijack_free(h);
                return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "Upgrade");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "tcp");
        return api_queue(r, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
}

/* ---- exec start: the exec's stdio over the same hijack as attach ---- */

enum MHD_Result api_exec_start(struct api_req *r)
{
        enum MHD_Result res = MHD_NO;
        _cleanup_json_ json_t *body = api_body_json_as(r, &api_schema_exec_start, true, &res);
        if (body == NULL)
                return res;
        _cleanup_gerr_ struct gerr *err = NULL;
        bool tty = false;
        if (eng_exec_tty(r->eng, r->caps[0], &tty, &err) < 0)
                return api_reply_gerr(r, err);
        struct eng_exec_start_opts xo = {.detach = json_is_true(json_object_get(body, "Detach"))};
        json_t *t = json_object_get(body, "Tty");
        if (json_is_boolean(t)) {
                xo.tty_set = true;
                xo.tty = tty = json_is_true(t);
        }
        if (xo.detach) {
                if (eng_exec_start(r->eng, r->caps[0], &xo, -1, &err) < 0)
                        return api_reply_gerr(r, err);
                return api_reply_status(r, MHD_HTTP_OK);
        }
        struct api_hijack *h = calloc(1, sizeof(*h));
        if (h == NULL || (h->id = strdup(r->caps[0])) == NULL) {
                free(h);
                return MHD_NO;
        }
        h->srv = r->srv;
        h->eng = r->eng;
        h->sock = -1;
        h->exec = true;
        h->xo = xo;
        return hijack_reply(r, h, tty);
}
