/* The event bus: Docker-shaped events in a bounded ring, streamed to /events subscribers. */
#include <errno.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "engine/engine_internal.h"

/* dockerd keeps 1024 events for `since` in the past; so do we. */
#define EVENTS_RING 1024

/* Kept as the line a stream writes (~400 bytes; the object it came from takes ~4 times that):
 * a full ring of 1024 stays well under 1 MiB of the daemon's heap. */
struct ev_slot {
        char *text;
        long long tn; /* timeNano */
        unsigned long long seq;
};

struct eng_events {
        pthread_mutex_t lock;
        pthread_cond_t cond; /* CLOCK_MONOTONIC; broadcast on every event */
        struct ev_slot ring[EVENTS_RING];
        size_t head;  /* next slot to write */
        size_t count; /* slots in use */
        unsigned long long seq;
        int listeners; /* streams in eng_events_stream */
};

int eng_events_init(struct eng *e)
{
        struct eng_events *ev = calloc(1, sizeof(*ev));
        if (ev == NULL)
                return -ENOMEM;
        pthread_mutex_init(&ev->lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&ev->cond, &ca);
        pthread_condattr_destroy(&ca);
        e->events = ev;
        return 0;
}

void eng_events_free(struct eng *e)
{
        struct eng_events *ev = e->events;
        if (ev == NULL)
                return;
        for (size_t i = 0; i < EVENTS_RING; i++)
                free(ev->ring[i].text);
        pthread_cond_destroy(&ev->cond);
        pthread_mutex_destroy(&ev->lock);
        free(ev);
        e->events = NULL;
}

void eng_event(struct eng *e, const char *type, const char *action, const char *id, json_t *attrs)
{
        struct eng_events *ev = e ? e->events : NULL;
        if (attrs == NULL || !json_is_object(attrs)) {
                json_decref(attrs);
                attrs = json_object();
        }
        if (ev == NULL || type == NULL || action == NULL || attrs == NULL) {
                json_decref(attrs);
                return;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long long tn = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
        json_t *j = json_object();
        if (j == NULL) {
                json_decref(attrs);
                return;
        }
        /* API < 1.52 clients still read the pre-1.22 fields for containers and images. */
        if (strcmp(type, "container") == 0 || strcmp(type, "image") == 0) {
                json_object_set_new(j, "status", json_string(action));
                json_object_set_new(j, "id", json_string(id ? id : ""));
                json_t *from = json_object_get(attrs, "image");
                if (json_is_string(from))
                        json_object_set(j, "from", from);
        }
        json_object_set_new(j, "Type", json_string(type));
        json_object_set_new(j, "Action", json_string(action));
        json_object_set_new(j, "Actor",
                            json_pack("{s:s, s:o}", "ID", id ? id : "", "Attributes", attrs));
        json_object_set_new(j, "scope", json_string("local"));
        json_object_set_new(j, "time", json_integer(ts.tv_sec));
        json_object_set_new(j, "timeNano", json_integer(tn));
        char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(j);
        if (text == NULL)
                return;

        pthread_mutex_lock(&ev->lock);
        struct ev_slot *s = &ev->ring[ev->head];
        free(s->text);
        s->text = text;
        s->tn = tn;
        s->seq = ++ev->seq;
        ev->head = (ev->head + 1) % EVENTS_RING;
        if (ev->count < EVENTS_RING)
                ev->count++;
        pthread_cond_broadcast(&ev->cond);
        pthread_mutex_unlock(&ev->lock);
}

void eng_event_ctr(struct eng *e, const struct eng_ctr *c, const char *action, json_t *attrs)
{
        if (attrs == NULL || !json_is_object(attrs)) {
                json_decref(attrs);
                attrs = json_object();
        }
        if (attrs == NULL)
                return;
        /* dockerd: the labels first, then name and image win over a label of the same key. */
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(c->config, "Labels"), k, v)
        {
                if (json_is_string(v) && json_object_get(attrs, k) == NULL)
                        json_object_set(attrs, k, v);
        }
        const char *img = json_string_value(json_object_get(c->config, "Image"));
        if (img == NULL)
                img = c->image_ref ? c->image_ref : c->image_id;
        json_object_set_new(attrs, "image", json_string(img ? img : ""));
        json_object_set_new(attrs, "name", json_string(c->name ? c->name : ""));
        eng_event(e, "container", action, c->id, attrs);
}

void eng_event_ctr_signal(struct eng *e, const struct eng_ctr *c, int sig)
{
        char num[16];
        snprintf(num, sizeof(num), "%d", sig);
        eng_event_ctr(e, c, "kill", json_pack("{s:s}", "signal", num));
}

/* ---- filters, as dockerd's daemon/events/filter.go applies them ---- */

/* Docker's filters arrive as {"key":["v",...]} or the older {"key":{"v":true}}; call fn on each
 * value of key. Returns -1 when key is absent, else whether fn matched any. */
static int each_value(json_t *filters, const char *key, bool (*fn)(const char *v, void *arg),
                      void *arg)
{
        json_t *vals = json_object_get(filters, key);
        if (vals == NULL)
                return -1;
        if (json_is_array(vals)) {
                size_t i;
                json_t *x;
                json_array_foreach(vals, i, x)
                {
                        if (json_is_string(x) && fn(json_string_value(x), arg))
                                return 1;
                }
        } else if (json_is_object(vals)) {
                const char *k;
                json_t *x;
                json_object_foreach(vals, k, x)
                {
                        if (json_is_true(x) && fn(k, arg))
                                return 1;
                }
        } else if (json_is_string(vals)) {
                return fn(json_string_value(vals), arg);
        }
        return 0;
}

static bool eq(const char *v, void *arg)
{
        return arg != NULL && strcmp(v, arg) == 0;
}

static bool prefix(const char *v, void *arg)
{
        return arg != NULL && strncmp(arg, v, strlen(v)) == 0;
}

/* "health_status" matches "health_status: healthy": a value without a colon matches the action
 * up to its colon (moby #25798). */
static bool event_eq(const char *v, void *arg)
{
        const char *a = arg;
        if (strcmp(v, a) == 0)
                return true;
        size_t n = strlen(v);
        return strchr(v, ':') == NULL && strncmp(a, v, n) == 0 && a[n] == ':';
}

static bool label_eq(const char *v, void *arg)
{
        json_t *attrs = arg;
        const char *eqs = strchr(v, '=');
        if (eqs == NULL)
                return json_object_get(attrs, v) != NULL;
        _cleanup_free_ char *k = strndup(v, (size_t)(eqs - v));
        const char *have = json_string_value(json_object_get(attrs, k));
        return have != NULL && strcmp(have, eqs + 1) == 0;
}

static bool ok(int r)
{
        return r != 0; /* absent (-1) or matched (1) */
}

/* "busybox:latest" -> "busybox" (a registry port's colon is not a tag). */
static char *strip_tag(const char *s)
{
        if (s == NULL)
                return NULL;
        const char *colon = strrchr(s, ':');
        const char *slash = strrchr(s, '/');
        if (colon == NULL || (slash != NULL && colon < slash) || strncmp(s, "sha256:", 7) == 0)
                return strdup(s);
        return strndup(s, (size_t)(colon - s));
}

bool eng_events_match(json_t *filters, json_t *ev)
{
        if (filters == NULL || json_object_size(filters) == 0)
                return true;
        const char *type = json_string_value(json_object_get(ev, "Type"));
        const char *action = json_string_value(json_object_get(ev, "Action"));
        json_t *actor = json_object_get(ev, "Actor");
        const char *id = json_string_value(json_object_get(actor, "ID"));
        json_t *attrs = json_object_get(actor, "Attributes");
        const char *name = json_string_value(json_object_get(attrs, "name"));
        if (!ok(each_value(filters, "event", event_eq, (void *)(action ? action : ""))) ||
            !ok(each_value(filters, "type", eq, (void *)type)) ||
            !ok(each_value(filters, "scope", eq, "local")))
                return false;
        /* Every kind of actor filter: the key excludes events of other actors too. */
        static const char *const kinds[] = {"container", "daemon",  "network", "volume", "plugin",
                                            "node",      "service", "secret",  "config"};
        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
                if (json_object_get(filters, kinds[i]) == NULL)
                        continue;
                if (each_value(filters, kinds[i], prefix, (void *)id) != 1 &&
                    each_value(filters, kinds[i], prefix, (void *)name) != 1)
                        return false;
        }
        if (json_object_get(filters, "image") != NULL) {
                const char *img = json_string_value(
                    json_object_get(attrs, type && strcmp(type, "image") == 0 ? "name" : "image"));
                _cleanup_free_ char *sid = strip_tag(id);
                _cleanup_free_ char *simg = strip_tag(img);
                if (each_value(filters, "image", eq, (void *)id) != 1 &&
                    each_value(filters, "image", eq, (void *)img) != 1 &&
                    each_value(filters, "image", eq, sid) != 1 &&
                    each_value(filters, "image", eq, simg) != 1)
                        return false;
        }
        /* Every label filter must match (MatchKVList). */
        json_t *labels = json_object_get(filters, "label");
        if (labels != NULL) {
                size_t i;
                json_t *x;
                const char *k;
                if (json_is_array(labels)) {
                        json_array_foreach(labels, i, x)
                        {
                                if (json_is_string(x) && !label_eq(json_string_value(x), attrs))
                                        return false;
                        }
                } else if (json_is_object(labels)) {
                        json_object_foreach(labels, k, x)
                        {
                                if (json_is_true(x) && !label_eq(k, attrs))
                                        return false;
                        }
                }
        }
        return true;
}

static int write_event(int fd, const char *s)
{
        size_t n = strlen(s);
        _cleanup_free_ char *line = malloc(n + 2);
        if (line == NULL)
                return -ENOMEM;
        memcpy(line, s, n);
        line[n++] = '\n'; /* one object a line, as Go's json.Encoder writes */
        for (const char *p = line; n > 0;) {
                ssize_t w = write(fd, p, n);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

static double now_real(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Take the events after *seq that pass the filters and time bounds, with a reference each. */
static json_t *collect(struct eng_events *ev, unsigned long long *seq,
                       const struct eng_events_opts *o, long long since_ns, long long until_ns)
{
        json_t *out = json_array();
        size_t start = (ev->head + EVENTS_RING - ev->count) % EVENTS_RING;
        for (size_t i = 0; i < ev->count; i++) {
                struct ev_slot *s = &ev->ring[(start + i) % EVENTS_RING];
                if (s->seq <= *seq)
                        continue;
                *seq = s->seq;
                if (since_ns > 0 && s->tn < since_ns)
                        continue;
                if (until_ns > 0 && s->tn > until_ns)
                        continue;
                bool pass = json_object_size(o->filters) == 0;
                if (!pass) {
                        _cleanup_json_ json_t *j = json_loads(s->text, 0, NULL);
                        pass = j != NULL && eng_events_match(o->filters, j);
                }
                if (pass)
                        json_array_append_new(out, json_string(s->text));
        }
        return out;
}

int eng_events_listeners(struct eng *e)
{
        struct eng_events *ev = e->events;
        pthread_mutex_lock(&ev->lock);
        int n = ev->listeners;
        pthread_mutex_unlock(&ev->lock);
        return n;
}

static int stream(struct eng *e, const struct eng_events_opts *o, int fd, struct gerr **err);

int eng_events_stream(struct eng *e, const struct eng_events_opts *o, int fd, struct gerr **err)
{
        struct eng_events *ev = e->events;
        pthread_mutex_lock(&ev->lock);
        ev->listeners++;
        pthread_mutex_unlock(&ev->lock);
        int r = stream(e, o, fd, err);
        pthread_mutex_lock(&ev->lock);
        ev->listeners--;
        pthread_mutex_unlock(&ev->lock);
        return r;
}

static int stream(struct eng *e, const struct eng_events_opts *o, int fd, struct gerr **err)
{
        struct eng_events *ev = e->events;
        long long since_ns = o->since > 0 ? (long long)(o->since * 1e9) : 0;
        long long until_ns = o->until > 0 ? (long long)(o->until * 1e9) : 0;
        unsigned long long seq = 0;
        pthread_mutex_lock(&ev->lock);
        if (o->since <= 0)
                seq = ev->seq; /* no since: only what happens from now on */
        pthread_mutex_unlock(&ev->lock);
        for (;;) {
                pthread_mutex_lock(&ev->lock);
                if (ev->seq == seq) {
                        struct timespec dl;
                        clock_gettime(CLOCK_MONOTONIC, &dl);
                        dl.tv_nsec += 250 * 1000000L;
                        if (dl.tv_nsec >= 1000000000L) {
                                dl.tv_sec++;
                                dl.tv_nsec -= 1000000000L;
                        }
                        pthread_cond_timedwait(&ev->cond, &ev->lock, &dl);
                }
                _cleanup_json_ json_t *batch = collect(ev, &seq, o, since_ns, until_ns);
                pthread_mutex_unlock(&ev->lock);
                size_t i;
                json_t *j;
                json_array_foreach(batch, i, j)
                {
                        int r = write_event(fd, json_string_value(j));
                        if (r < 0)
                                return r == -EPIPE ? 0 : gerr_set(err, -r, "write events");
                }
                if (o->until > 0 && now_real() >= o->until)
                        return 0;
                /* The reader closed its end: the client went away. */
                struct pollfd p = {.fd = fd, .events = 0};
                if (poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
                        return 0;
        }
}
