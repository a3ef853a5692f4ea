/* Observation routes: /events, /containers/{id}/stats and /top, /system/df. */
#include "api/http.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/timeparse.h"
#include "engine/engine.h"
#include "image/image.h"

#define REF(r) ((r)->caps[0])


static double now_real(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- events ---- */

struct events_arg {
        struct eng *eng;
        struct eng_events_opts o;
};

static void events_free(void *p)
{
        struct events_arg *a = p;
        json_decref(a->o.filters);
        free(a);
}

static void events_run(struct api_server *srv, void *p, int fd)
{
        struct events_arg *a = p;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_events_stream(a->eng, &a->o, fd, &err) < 0)
                log_debug("api: events: %s", err && err->msg ? err->msg : "failed");
}

enum MHD_Result api_events(struct api_req *r)
{
        double now = now_real();
        struct eng_events_opts o = {0};
        const char *since = api_query(r, "since"), *until = api_query(r, "until");
        if (since && *since && !timeparse_docker(since, now, &o.since))
                return api_reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid value for since: %s",
                                       since);
        if (until && *until && !timeparse_docker(until, now, &o.until))
                return api_reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid value for until: %s",
                                       until);
        /* "since" of 0 means from the beginning of what we keep. */
        if (since && *since && o.since <= 0)
                o.since = 1e-9;
        if (o.until > 0 && o.since > o.until)
                return api_reply_error(r, MHD_HTTP_BAD_REQUEST,
                                       "`since` time (%s) cannot be after `until` time (%s)", since,
                                       until);
        enum MHD_Result res = MHD_NO;
        json_t *filters = api_parse_filters(r, &res);
        if (filters == NULL)
                return res;
        static const char *const keys[] = {"container", "daemon", "event",  "image", "label",
                                           "network",   "node",   "plugin", "scope", "secret",
                                           "service",   "type",   "volume", "config"};
        const char *k;
        json_t *v;
        json_object_foreach(filters, k, v)
        {
                bool known = false;
                for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                        known = known || strcmp(k, keys[i]) == 0;
                if (!known) {
                        json_decref(filters);
                        return api_reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid filter '%s'", k);
                }
        }
        o.filters = filters;
        struct events_arg *a = calloc(1, sizeof(*a));
        if (a == NULL) {
                json_decref(filters);
                return MHD_NO;
        }
        a->eng = r->eng;
        a->o = o;
        return api_reply_stream(r, MHD_HTTP_OK, "application/json", events_run, a, events_free);
}

/* An image event as dockerd logs it: Actor.ID the image id, Attributes.name the given name
 * (or the id). ref is resolved to the id unless it is one already. */
void api_image_event(struct eng *e, const char *action, const char *ref, const char *name)
{
        _cleanup_free_ char *id = NULL;
        if (ref == NULL)
                return;
        if (strncmp(ref, "sha256:", 7) == 0 && strlen(ref) == 71)
                id = strdup(ref);
        else if (img_resolve(eng_images(e), ref, &id, NULL) < 0)
                return;
        if (id == NULL)
                return;
        eng_event(e, "image", action, id, json_pack("{s:s}", "name", name ? name : id));
}

/* ---- stats ---- */

struct stats_arg {
        struct eng *eng;
        char *ref;
        bool stream, one_shot;
};

static void stats_free(void *p)
{
        struct stats_arg *a = p;
        free(a->ref);
        free(a);
}

static json_t *empty_pre(void)
{
        return json_pack("{s:{s:i, s:i, s:i}, s:{s:i, s:i, s:i}}", "cpu_usage", "total_usage", 0,
                         "usage_in_kernelmode", 0, "usage_in_usermode", 0, "throttling_data",
                         "periods", 0, "throttled_periods", 0, "throttled_time", 0);
}

static int write_json_line(int fd, json_t *j)
{
        _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
        if (s == NULL)
                return -ENOMEM;
        int r = api_write_all(fd, s, strlen(s));
        return r < 0 ? r : api_write_all(fd, "\n", 1);
}

/* Wait up to ms for the reader to hang up; true if it did. */
static bool reader_gone(int fd, int ms)
{
        struct pollfd p = {.fd = fd, .events = 0};
        int n = poll(&p, 1, ms);
        return n > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL));
}

static void stats_run(struct api_server *srv, void *p, int fd)
{
        struct stats_arg *a = p;
        _cleanup_json_ json_t *prev = NULL;
        bool first = true;
        for (;;) {
                _cleanup_gerr_ struct gerr *err = NULL;
                json_t *cur = NULL;
                if (eng_container_stats(a->eng, a->ref, &cur, &err) < 0) {
                        log_debug("api: stats of %s: %s", a->ref, err && err->msg ? err->msg : "");
                        return;
                }
                /* dockerd's non-streamed answer (unless one-shot) pairs two samples a second
                 * apart, so that the client can compute a CPU percentage. */
                if (first && !a->stream && !a->one_shot) {
                        prev = cur;
                        first = false;
                        if (reader_gone(fd, 1000))
                                return;
                        continue;
                }
                if (prev != NULL) {
                        json_object_set(cur, "preread", json_object_get(prev, "read"));
                        json_object_set(cur, "precpu_stats", json_object_get(prev, "cpu_stats"));
                } else {
                        json_object_set_new(cur, "preread", json_string("0001-01-01T00:00:00Z"));
                        json_object_set_new(cur, "precpu_stats", empty_pre());
                }
                int r = write_json_line(fd, cur);
                json_decref(prev);
                prev = cur;
                if (r < 0 || !a->stream)
                        return;
                if (reader_gone(fd, 1000))
                        return;
        }
}

enum MHD_Result api_container_stats(struct api_req *r)
{
        const char *s = api_query(r, "stream");
        bool stream = s == NULL || *s == '\0' || api_query_bool(r, "stream");
        _cleanup_gerr_ struct gerr *err = NULL;
        _cleanup_json_ json_t *probe = NULL;
        /* A missing container is a 404 before the stream starts. */
        if (eng_container_stats(r->eng, REF(r), &probe, &err) < 0)
                return api_reply_gerr(r, err);
        struct stats_arg *a = calloc(1, sizeof(*a));
        if (a == NULL)
                return MHD_NO;
        a->eng = r->eng;
        a->ref = strdup(json_string_value(json_object_get(probe, "id")));
        a->stream = stream;
        a->one_shot = api_query_bool(r, "one-shot");
        return api_reply_stream(r, MHD_HTTP_OK, "application/json", stats_run, a, stats_free);
}

/* ---- top, df ---- */

enum MHD_Result api_container_top(struct api_req *r)
{
        _cleanup_gerr_ struct gerr *err = NULL;
        json_t *out = NULL;
        if (eng_container_top(r->eng, REF(r), api_query(r, "ps_args"), &out, &err) < 0)
                return api_reply_gerr(r, err);
        return api_reply_json(r, MHD_HTTP_OK, out);
}

enum MHD_Result api_system_df(struct api_req *r)
{
        _cleanup_gerr_ struct gerr *err = NULL;
        json_t *out = NULL;
        if (eng_system_df(r->eng, &out, &err) < 0)
                return api_reply_gerr(r, err);
        return api_reply_json(r, MHD_HTTP_OK, out);
}
