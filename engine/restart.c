/* Restart policies as dockerd applies them: no, always, unless-stopped, on-failure[:N], with its backoff. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "engine/engine_internal.h"

/* dockerd's restart manager: 100 ms, doubled at each restart, back to 100 ms once the container
 * ran for 10 s; at most a minute. */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 60000
#define BACKOFF_RESET_S 10

static long long now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec;
}

static json_t *policy_of(const struct eng_ctr *c)
{
        return json_object_get(json_object_get(c->config, "HostConfig"), "RestartPolicy");
}

static const char *policy_name(const struct eng_ctr *c)
{
        const char *n = json_string_value(json_object_get(policy_of(c), "Name"));
        return n != NULL ? n : "";
}

int eng_restart_validate(json_t *hc, struct gerr **err)
{
        json_t *p = json_object_get(hc, "RestartPolicy");
        const char *name = json_string_value(json_object_get(p, "Name"));
        if (name == NULL || *name == '\0' || strcmp(name, "no") == 0)
                return 0;
        json_int_t max = json_integer_value(json_object_get(p, "MaximumRetryCount"));
        if (strcmp(name, "always") != 0 && strcmp(name, "unless-stopped") != 0 &&
            strcmp(name, "on-failure") != 0)
                return eng_err(err, EINVAL, "invalid restart policy '%s'", name);
        if (max < 0)
                return eng_err(err, EINVAL, "invalid restart policy: maximum retry count cannot be "
                                            "negative");
        if (max > 0 && strcmp(name, "on-failure") != 0)
                return eng_err(err, EINVAL,
                               "maximum retry count cannot be used with restart policy '%s'",
                               name);
        if (json_is_true(json_object_get(hc, "AutoRemove")))
                return eng_err(err, EINVAL,
                               "conflicting options: cannot specify both --restart and --rm");
        return 0;
}

bool eng_restart_due(struct eng *e, struct eng_ctr *c, unsigned *delay_ms)
{
        const char *name = policy_name(c);
        if (c->manual_stop || c->removed || c->removing || c->dead)
                return false;
        bool due;
        if (strcmp(name, "always") == 0 || strcmp(name, "unless-stopped") == 0) {
                due = true;
        } else if (strcmp(name, "on-failure") == 0) {
                json_int_t max = json_integer_value(
                        json_object_get(policy_of(c), "MaximumRetryCount"));
                due = c->exit_code != 0 && (max <= 0 || c->restart_count < max);
        } else {
                due = false;
        }
        if (!due)
                return false;
        if (c->restart_delay_ms == 0 || now_s() - c->running_since >= BACKOFF_RESET_S)
                c->restart_delay_ms = BACKOFF_FIRST_MS;
        else if (c->restart_delay_ms < BACKOFF_MAX_MS)
                c->restart_delay_ms *= 2;
        *delay_ms = c->restart_delay_ms;
        c->restarting = true;
        return true;
}

void eng_restart_run(struct eng *e, struct eng_ctr *c, unsigned delay_ms)
{
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += delay_ms / 1000;
        deadline.tv_nsec += (long)(delay_ms % 1000) * 1000000;
        if (deadline.tv_nsec >= 1000000000) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&e->lock);
        while (!c->manual_stop && !c->removed && !c->removing &&
               pthread_cond_timedwait(&e->cond, &e->lock, &deadline) != ETIMEDOUT)
                ;
        bool go = !c->manual_stop && !c->removed && !c->removing && !c->running;
        char id[65];
        snprintf(id, sizeof(id), "%s", c->id);
        if (go) {
                c->restart_count++;
        } else {
                c->restarting = false;
                pthread_cond_broadcast(&e->cond);
        }
        pthread_mutex_unlock(&e->lock);
        if (!go)
                return;
        struct gerr *err = NULL;
        if (eng_container_start_policy(e, id, &err) < 0) {
                log_warn("container %s: restart: %s", id, err ? err->msg : "failed");
                gerr_free(err);
        }
        pthread_mutex_lock(&e->lock);
        c->restarting = false;
        eng_event_ctr(e, c, "restart", NULL);
        pthread_cond_broadcast(&e->cond);
        pthread_mutex_unlock(&e->lock);
}

void eng_restart_at_boot(struct eng *e)
{
        char ids[64][65];
        for (;;) {
                size_t n = 0;
                pthread_mutex_lock(&e->lock);
                for (struct eng_ctr *c = e->ctrs; c != NULL && n < 64; c = c->next) {
                        const char *name = policy_name(c);
                        bool back = strcmp(name, "always") == 0 ||
                                    (strcmp(name, "unless-stopped") == 0 && !c->manual_stop);
                        if (back && !c->running && !c->starting && !c->restarting &&
                            !c->removed && !c->boot_tried) {
                                c->boot_tried = true;
                                snprintf(ids[n++], sizeof(ids[0]), "%s", c->id);
                        }
                }
                pthread_mutex_unlock(&e->lock);
                if (n == 0)
                        return;
                for (size_t i = 0; i < n; i++) {
                        struct gerr *err = NULL;
                        if (eng_container_start_policy(e, ids[i], &err) < 0) {
                                log_warn("container %s: start at boot: %s", ids[i],
                                         err ? err->msg : "failed");
                                gerr_free(err);
                        }
                }
        }
}
