/* Health checks as dockerd runs them: a probe exec'd in the container every interval, State.Health, health_status events. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "engine/engine_internal.h"

/* dockerd's defaults and limits. */
#define DEFAULT_INTERVAL_NS 30000000000LL
#define DEFAULT_TIMEOUT_NS 30000000000LL
#define DEFAULT_START_INTERVAL_NS 5000000000LL
#define DEFAULT_RETRIES 3
#define LOG_KEEP 5

struct probe_cfg {
        json_t *cmd; /* the exec's argv */
        long long interval_ns, timeout_ns, start_period_ns, start_interval_ns;
        int retries;
};

static long long ns_or(json_t *hc, const char *key, long long dflt)
{
        json_int_t v = json_integer_value(json_object_get(hc, key));
        return v > 0 ? (long long)v : dflt;
}

/* Test: ["NONE"] off, ["CMD", args...], ["CMD-SHELL", "line"]; false when there is none. */
static bool probe_cfg(json_t *config, struct probe_cfg *p)
{
        json_t *h = json_object_get(config, "Healthcheck");
        json_t *test = json_object_get(h, "Test");
        const char *kind = json_string_value(json_array_get(test, 0));
        if (kind == NULL || strcmp(kind, "NONE") == 0 || json_array_size(test) < 2)
                return false;
        if (strcmp(kind, "CMD-SHELL") == 0)
                p->cmd = json_pack("[s, s, O]", "/bin/sh", "-c", json_array_get(test, 1));
        else if (strcmp(kind, "CMD") == 0) {
                p->cmd = json_array();
                for (size_t i = 1; i < json_array_size(test); i++)
                        json_array_append(p->cmd, json_array_get(test, i));
        } else {
                return false;
        }
        p->interval_ns = ns_or(h, "Interval", DEFAULT_INTERVAL_NS);
        p->timeout_ns = ns_or(h, "Timeout", DEFAULT_TIMEOUT_NS);
        p->start_period_ns = ns_or(h, "StartPeriod", 0);
        p->start_interval_ns = ns_or(h, "StartInterval", DEFAULT_START_INTERVAL_NS);
        json_int_t r = json_integer_value(json_object_get(h, "Retries"));
        p->retries = r > 0 ? (int)r : DEFAULT_RETRIES;
        return true;
}

static void add_ns(struct timespec *t, long long ns)
{
        t->tv_sec += ns / 1000000000LL;
        t->tv_nsec += ns % 1000000000LL;
        if (t->tv_nsec >= 1000000000L) {
                t->tv_sec++;
                t->tv_nsec -= 1000000000L;
        }
}

struct health_arg {
        struct eng *e;
        struct eng_ctr *c;
        unsigned gen; /* the start this monitor belongs to */
};

static bool still_on(const struct health_arg *a)
{
        return a->c->running && a->c->start_gen == a->gen && !a->c->removed && !a->c->removing;
}

/* Caller holds e->lock: record one probe's result in State.Health. */
static void record(struct eng *e, struct eng_ctr *c, const struct probe_cfg *p, bool in_start,
                   const char *start, int code, const char *output)
{
        json_t *h = c->health;
        const char *prev = json_string_value(json_object_get(h, "Status"));
        char end[TIMEFMT_RFC3339_LEN];
        timefmt_now(end);
        json_t *log = json_object_get(h, "Log");
        json_array_append_new(log, json_pack("{s:s, s:s, s:i, s:s}", "Start", start, "End", end,
                                             "ExitCode", code, "Output", output ? output : ""));
        while (json_array_size(log) > LOG_KEEP)
                json_array_remove(log, 0);
        json_int_t streak = json_integer_value(json_object_get(h, "FailingStreak"));
        const char *status = prev;
        if (code == 0) {
                streak = 0;
                status = "healthy";
        } else if (!in_start) {
                /* dockerd: failures in the start period do not count. */
                streak++;
                if (streak >= p->retries)
                        status = "unhealthy";
        }
        json_object_set_new(h, "FailingStreak", json_integer(streak));
        if (strcmp(status, prev ? prev : "") != 0) {
                json_object_set_new(h, "Status", json_string(status));
                char action[64];
                snprintf(action, sizeof(action), "health_status: %s", status);
                eng_event_ctr(e, c, action, NULL);
        }
}

static void *health_main(void *p)
{
        struct health_arg *a = p;
        struct eng *e = a->e;
        struct eng_ctr *c = a->c;
        struct probe_cfg cfg = {0};
        pthread_mutex_lock(&e->lock);
        bool on = probe_cfg(c->config, &cfg);
        char id[65];
        snprintf(id, sizeof(id), "%s", c->id);
        struct timespec started;
        clock_gettime(CLOCK_MONOTONIC, &started);
        while (on) {
                struct timespec now, next;
                clock_gettime(CLOCK_MONOTONIC, &now);
                long long since = (now.tv_sec - started.tv_sec) * 1000000000LL +
                                  (now.tv_nsec - started.tv_nsec);
                bool in_start = since < cfg.start_period_ns;
                next = now;
                add_ns(&next, in_start ? cfg.start_interval_ns : cfg.interval_ns);
                while (still_on(a) && pthread_cond_timedwait(&e->cond, &e->lock, &next) != ETIMEDOUT)
                        ;
                if (!still_on(a))
                        break;
                pthread_mutex_unlock(&e->lock);
                char start[TIMEFMT_RFC3339_LEN];
                timefmt_now(start);
                int code = -1;
                char *output = NULL;
                struct gerr *err = NULL;
                if (eng_exec_capture(e, id, cfg.cmd, cfg.timeout_ns / 1000000, &code, &output,
                                     &err) < 0) {
                        free(output);
                        output = strdup(err && err->msg ? err->msg : "probe failed");
                        code = -1;
                        gerr_free(err);
                }
                pthread_mutex_lock(&e->lock);
                clock_gettime(CLOCK_MONOTONIC, &now);
                since = (now.tv_sec - started.tv_sec) * 1000000000LL +
                        (now.tv_nsec - started.tv_nsec);
                if (still_on(a) && c->health != NULL)
                        record(e, c, &cfg, since < cfg.start_period_ns, start, code, output);
                free(output);
        }
        c->health_monitor = false;
        eng_ctr_unref(c);
        e->waiters--; /* counted so that eng_close leaves e to us */
        pthread_cond_broadcast(&e->cond);
        pthread_mutex_unlock(&e->lock);
        json_decref(cfg.cmd);
        free(a);
        return NULL;
}

void eng_health_start(struct eng *e, struct eng_ctr *c)
{
        struct probe_cfg cfg = {0};
        if (!probe_cfg(c->config, &cfg))
                return;
        json_decref(cfg.cmd);
        json_decref(c->health);
        c->health = json_pack("{s:s, s:i, s:[]}", "Status", "starting", "FailingStreak", 0, "Log");
        struct health_arg *a = malloc(sizeof(*a));
        if (a == NULL)
                return;
        *a = (struct health_arg){.e = e, .c = c, .gen = c->start_gen};
        c->refs++;
        e->waiters++;
        c->health_monitor = true;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 128 * 1024);
        pthread_t t;
        int r = pthread_create(&t, &attr, health_main, a);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                log_warn("container %s: health check thread: %s", c->id, strerror(r));
                c->refs--;
                e->waiters--;
                c->health_monitor = false;
                free(a);
        }
}
