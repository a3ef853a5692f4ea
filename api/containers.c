/* Container routes: create, start, stop, restart, kill, remove, list, inspect, resize, wait. */
#include "api/http.h"
#include "api/schema.h"

#include <errno.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "engine/engine.h"
#include "runtime/runtime.h"

#define REF(r) ((r)->caps[0])

enum MHD_Result api_container_create(struct api_req *r)
{
        if (r->body_len == 0)
                return api_reply_error(r, MHD_HTTP_BAD_REQUEST,
                                       "config cannot be empty in order to create a container");
        enum MHD_Result res = MHD_NO;
        _cleanup_json_ json_t *body = api_body_json_as(r, &api_schema_create, false, &res);
        if (body == NULL)
                return res;
        const char *name = api_query(r, "name");
        if (name != NULL && *name == '\0')
                name = NULL;
        _cleanup_free_ char *id = NULL;
        json_t *warnings = NULL;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_container_create(r->eng, name, body, &id, &warnings, &err) < 0)
                return api_reply_gerr(r, err);
        if (!json_is_array(warnings)) {
                json_decref(warnings);
                warnings = json_array();
        }
        return api_reply_json(r, MHD_HTTP_CREATED,
                              json_pack("{s:s, s:o}", "Id", id, "Warnings", warnings));
}

enum MHD_Result api_container_start(struct api_req *r)
{
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_container_start(r->eng, REF(r), &err) < 0)
                return api_reply_gerr(r, err); /* EALREADY: 304, already started */
        return api_reply_status(r, MHD_HTTP_NO_CONTENT);
}

/* ?t= (seconds; absent: the container's own StopTimeout). */
static bool stop_timeout(struct api_req *r, int *t)
{
        bool ok = true;
        long long v = api_query_int(r, "t", -1, &ok);
        if (!ok || v < -1 || v > 1000000000)
                return false;
        *t = (int)v;
        return true;
}

/* ?t= and ?signal= (a name, with or without SIG, or a number; absent: the StopSignal). */
static bool stop_args(struct api_req *r, int *t, int *sig, enum MHD_Result *res)
{
        if (!stop_timeout(r, t)) {
                *res = api_reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid value for t: %s",
                                       api_query(r, "t"));
                return false;
        }
        const char *s = api_query(r, "signal");
        *sig = 0;
        if (s != NULL && *s != '\0' && (*sig = rt_signal_parse(s)) <= 0) {
                *res = api_reply_error(r, MHD_HTTP_BAD_REQUEST, "Invalid signal: %s", s);
                return false;
        }
        return true;
}

enum MHD_Result api_container_stop(struct api_req *r)
{
        int t = -1, sig = 0;
        enum MHD_Result res = MHD_NO;
        if (!stop_args(r, &t, &sig, &res))
                return res;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_container_stop(r->eng, REF(r), t, sig, &err) < 0)
                return api_reply_gerr(r, err); /* EALREADY: 304, already stopped */
        return api_reply_status(r, MHD_HTTP_NO_CONTENT);
}

enum MHD_Result api_container_restart(struct api_req *r)
{
        int t = -1, sig = 0;
        enum MHD_Result res = MHD_NO;
        if (!stop_args(r, &t, &sig, &res))
                return res;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_container_restart(r->eng, REF(r), t, sig, &err) < 0)
                return api_reply_gerr(r, err);
        return api_reply_status(r, MHD_HTTP_NO_CONTENT);
}

enum MHD_Result api_container_kill(struct api_req *r)
{
        const char *s = api_query(r, "signal");
        int sig = SIGKILL;
        if (s != NULL && *s != '\0') {
                sig = rt_signal_parse(s);
                if (sig < 0)
                        return api_reply_error(r, MHD_HTTP_BAD_REQUEST, "Invalid signal: %s", s);
        }
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_container_kill(r->eng, REF(r), sig, &err) < 0)
                return api_reply_gerr(r, err);
        return api_reply_status(r, MHD_HTTP_NO_CONTENT);
}

enum MHD_Result api_container_delete(struct api_req *r)
{
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_container_remove(r->eng, REF(r), api_query_bool(r, "force"),
                                 api_query_bool(r, "v"), &err) < 0)
                return api_reply_gerr(r, err);
        return api_reply_status(r, MHD_HTTP_NO_CONTENT);
}

/* ?filters= is a JSON object of arrays (or of {value:true} maps, the older form). */
json_t *api_parse_filters(struct api_req *r, enum MHD_Result *res)
{
        const char *f = api_query(r, "filters");
        if (f == NULL || *f == '\0')
                return json_object();
        json_error_t jerr;
        json_t *j = json_loads(f, 0, &jerr);
        if (!json_is_object(j)) {
                json_decref(j);
                *res = api_reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid filter '%s'", f);
                return NULL;
        }
        return j;
}

enum MHD_Result api_containers_list(struct api_req *r)
{
        bool ok = true;
        long long limit = api_query_int(r, "limit", -1, &ok);
        if (!ok)
                return api_reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid limit: %s",
                                       api_query(r, "limit"));
        enum MHD_Result res = MHD_NO;
        _cleanup_json_ json_t *filters = api_parse_filters(r, &res);
        if (filters == NULL)
                return res;
        /* dockerd's acceptedPsFilterTags: any other key is a 400. */
        static const char *const known[] = {"ancestor", "before",  "exited",  "health",
                                            "id",       "label",   "name",    "status",
                                            "since",    "volume",  "network", "is-task",
                                            "publish",  "expose",  "isolation"};
        const char *key;
        json_t *val;
        json_object_foreach(filters, key, val) {
                size_t i = 0;
                while (i < sizeof(known) / sizeof(known[0]) && strcmp(known[i], key) != 0)
                        i++;
                if (i == sizeof(known) / sizeof(known[0]))
                        return api_reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid filter '%s'",
                                               key);
        }
        /* A limit counts stopped containers too (the n most recently created). */
        bool all = api_query_bool(r, "all") || limit > 0;
        json_t *list = NULL;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_container_list(r->eng, all, json_object_size(filters) ? filters : NULL, &list,
                               &err) < 0)
                return api_reply_gerr(r, err);
        if (limit > 0)
                while (json_array_size(list) > (size_t)limit)
                        json_array_remove(list, json_array_size(list) - 1);
        if (api_query_bool(r, "size")) {
                size_t i;
                json_t *c;
                json_array_foreach (list, i, c)
                        eng_container_add_sizes(r->eng, c);
        }
        return api_reply_json(r, MHD_HTTP_OK, list ? list : json_array());
}

enum MHD_Result api_container_inspect(struct api_req *r)
{
        json_t *out = NULL;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_container_inspect(r->eng, REF(r), &out, &err) < 0)
                return api_reply_gerr(r, err);
        if (api_query_bool(r, "size"))
                eng_container_add_sizes(r->eng, out);
        return api_reply_json(r, MHD_HTTP_OK, out);
}

enum MHD_Result api_container_resize(struct api_req *r)
{
        bool ok = true;
        long long h = api_query_int(r, "h", 0, &ok);
        long long w = api_query_int(r, "w", 0, &ok);
        if (!ok || h < 0 || w < 0 || h > 65535 || w > 65535)
                return api_reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid height or width");
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_container_resize(r->eng, REF(r), (unsigned)h, (unsigned)w, &err) < 0)
                return api_reply_gerr(r, err);
        return api_reply_status(r, MHD_HTTP_OK);
}

struct wait_arg {
        struct eng *eng;
        char *id;
        char *condition;
        sem_t *ready;  /* posted once the wait is about to register (or will never run) */
        bool posted;
};

static void wait_ready(struct wait_arg *a)
{
        if (!a->posted) {
                a->posted = true;
                sem_post(a->ready);
        }
}

static void wait_free(void *p)
{
        struct wait_arg *a = p;
        wait_ready(a);
        free(a->id);
        free(a->condition);
        free(a);
}

/* The reader of our pipe (the client's response) is gone: `docker run -d` opens a wait and
 * hangs up once the container started; without this its thread and fds stayed until the
 * container exited (two threads and four fds per detached container). */
static bool reader_gone(void *p)
{
        struct pollfd pfd = {.fd = *(int *)p, .events = POLLOUT};
        return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP)) != 0;
}

static void wait_run(struct api_server *srv, void *p, int fd)
{
        struct wait_arg *a = p;
        int code = -1;
        _cleanup_gerr_ struct gerr *err = NULL;
        json_t *reply;
        wait_ready(a);
        if (eng_container_wait(a->eng, a->id, a->condition, &code, reader_gone, &fd, &err) < 0)
                reply = json_pack("{s:i, s:{s:s}}", "StatusCode", -1, "Error", "Message",
                                  err && err->msg ? err->msg : "wait failed");
        else
                reply = json_pack("{s:i, s:n}", "StatusCode", code, "Error");
        _cleanup_free_ char *s = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
        json_decref(reply);
        if (s != NULL) {
                size_t n = strlen(s);
                s[n] = '\n'; /* replaces the NUL: written by length */
                (void)api_write_all(fd, s, n + 1);
        }
}

enum MHD_Result api_container_wait(struct api_req *r)
{
        const char *cond = api_query(r, "condition");
        if (cond == NULL || *cond == '\0')
                cond = "not-running";
        if (strcmp(cond, "not-running") != 0 && strcmp(cond, "next-exit") != 0 &&
            strcmp(cond, "removed") != 0)
                return api_reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid condition: \"%s\"",
                                       cond);
        _cleanup_gerr_ struct gerr *err = NULL;
        _cleanup_free_ char *id = NULL;
        if (eng_container_resolve(r->eng, REF(r), &id, &err) < 0)
                return api_reply_gerr(r, err);
        struct wait_arg *a = calloc(1, sizeof(*a));
        if (a == NULL)
                return MHD_NO;
        a->eng = r->eng;
        a->id = TAKE_PTR(id);
        a->condition = strdup(cond);
        sem_t ready;
        sem_init(&ready, 0, 0);
        a->ready = &ready;
        /* The headers go out when this returns, the body when the container is done: `docker
         * run` sends this before start and takes the headers as "the wait is registered" (a
         * next-exit wait counts exits from the moment it is entered), so the worker must be at
         * the engine's door first. */
        enum MHD_Result ret =
                api_reply_stream(r, MHD_HTTP_OK, "application/json", wait_run, a, wait_free);
        while (sem_wait(&ready) < 0 && errno == EINTR)
                ;
        sem_destroy(&ready);
        return ret;
}
