/* Container operations beside the lifecycle: pause and unpause (the freezer), rename, update. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "engine/engine_internal.h"
#include "engine/spec_internal.h"
#include "runtime/runtime.h"

int eng_container_pause(struct eng *e, const char *ref, bool pause, struct gerr **err)
{
        struct eng_ctr *c = NULL;
        pthread_mutex_lock(&e->lock);
        int r = eng_ctr_find(e, ref, &c, err);
        if (r >= 0 && !c->running)
                r = eng_err(err, EBUSY, "Container %s is not running", c->id);
        else if (r >= 0 && pause && c->paused)
                r = eng_err(err, EBUSY, "Container %s is already paused", c->id);
        else if (r >= 0 && !pause && !c->paused)
                r = eng_err(err, EBUSY, "Container %s is not paused", c->id);
        char id[65] = "";
        if (r >= 0)
                snprintf(id, sizeof(id), "%s", c->id);
        pthread_mutex_unlock(&e->lock);
        if (r >= 0) {
                struct rt_context ctx = {.root = e->runtime_root};
                r = rt_container_pause(&ctx, id, pause, err);
        }
        pthread_mutex_lock(&e->lock);
        if (r >= 0) {
                c->paused = pause;
                struct gerr *serr = NULL;
                if (eng_store_save_state(e, c, &serr) < 0) {
                        log_warn("container %s: %s", id, serr->msg);
                        gerr_free(serr);
                }
                eng_event_ctr(e, c, pause ? "pause" : "unpause", NULL);
                pthread_cond_broadcast(&e->cond);
        }
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        return r;
}

/* Caller holds e->lock: thaw a paused container so that a signal just sent reaches it, as
 * dockerd does for kill and stop. */
void eng_ctr_thaw_locked(struct eng *e, struct eng_ctr *c)
{
        if (!c->paused)
                return;
        struct rt_context ctx = {.root = e->runtime_root};
        struct gerr *err = NULL;
        if (rt_container_pause(&ctx, c->id, false, &err) < 0) {
                log_warn("container %s: %s", c->id, err->msg);
                gerr_free(err);
                return;
        }
        c->paused = false;
        eng_event_ctr(e, c, "unpause", NULL);
}

int eng_container_rename(struct eng *e, const char *ref, const char *name, struct gerr **err)
{
        if (name == NULL || *name == '\0')
                return eng_err(err, EINVAL, "Neither old nor new names may be empty");
        if (*name == '/')
                name++;
        if (!eng_name_valid(name))
                return eng_err(err, EINVAL,
                               "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                               "allowed",
                               name);
        struct eng_ctr *c = NULL;
        pthread_mutex_lock(&e->lock);
        int r = eng_ctr_find(e, ref, &c, err);
        if (r >= 0 && strcmp(c->name, name) == 0)
                r = eng_err(err, EINVAL, "Renaming a container with the same name as its current "
                                         "name");
        for (struct eng_ctr *o = e->ctrs; r >= 0 && o != NULL; o = o->next)
                if (o != c && !o->removed && strcmp(o->name, name) == 0)
                        r = eng_err(err, EEXIST,
                                    "Conflict. The container name \"/%s\" is already in use by "
                                    "container \"%s\". You have to remove (or rename) that "
                                    "container to be able to reuse that name.",
                                    name, o->id);
        _cleanup_free_ char *old = NULL;
        if (r >= 0) {
                old = c->name;
                c->name = strdup(name);
                r = eng_store_rename(e, c->id, c->name, err);
                if (r < 0) {
                        free(c->name);
                        c->name = TAKE_PTR(old);
                } else {
                        char prev[300];
                        snprintf(prev, sizeof(prev), "/%s", old);
                        eng_event_ctr(e, c, "rename", json_pack("{s:s}", "oldName", prev));
                }
        }
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        return r;
}

/* The HostConfig fields `docker update` may change. */
static const char *const updatable[] = {
        "Memory",    "MemorySwap", "MemoryReservation", "NanoCpus",   "CpuShares",
        "CpuQuota",  "CpuPeriod",  "CpusetCpus",        "CpusetMems", "PidsLimit",
        "BlkioWeight", "CpuRealtimePeriod", "CpuRealtimeRuntime",
};

int eng_container_update(struct eng *e, const char *ref, json_t *body, struct gerr **err)
{
        struct eng_ctr *c = NULL;
        pthread_mutex_lock(&e->lock);
        int r = eng_ctr_find(e, ref, &c, err);
        if (r < 0) {
                pthread_mutex_unlock(&e->lock);
                return r;
        }
        _cleanup_json_ json_t *hc = json_deep_copy(json_object_get(c->config, "HostConfig"));
        if (hc == NULL)
                hc = json_object();
        for (size_t i = 0; i < ARRAY_SIZE(updatable); i++) {
                json_t *v = json_object_get(body, updatable[i]);
                if (v == NULL || json_is_null(v))
                        continue;
                /* 0 keeps the current value, as dockerd reads an absent field. */
                if (json_is_integer(v) && json_integer_value(v) == 0 &&
                    strcmp(updatable[i], "PidsLimit") != 0)
                        continue;
                json_object_set(hc, updatable[i], v);
        }
        json_t *policy = json_object_get(body, "RestartPolicy");
        if (json_is_object(policy) && json_string_value(json_object_get(policy, "Name")) != NULL &&
            *json_string_value(json_object_get(policy, "Name")) != '\0')
                json_object_set(hc, "RestartPolicy", policy);
        _cleanup_json_ json_t *resources = NULL;
        json_int_t mem = json_integer_value(json_object_get(hc, "Memory"));
        if (mem > 0 && mem < 6 * 1024 * 1024)
                r = eng_err(err, EINVAL, "Minimum memory limit allowed is 6MB");
        if (r >= 0)
                r = eng_restart_validate(hc, err);
        if (r >= 0)
                r = eng_spec_resources(hc, &resources, err);
        bool running = r >= 0 && c->running;
        char id[65];
        snprintf(id, sizeof(id), "%s", c->id);
        pthread_mutex_unlock(&e->lock);
        if (running) {
                /* The running container's cgroup first: what fails there changes nothing. */
                struct rt_context ctx = {.root = e->runtime_root};
                json_object_del(resources, "devices");
                r = rt_container_update(&ctx, id, resources, err);
                if (r < 0)
                        gerr_wrap(err, "Cannot update container %s", id);
        }
        pthread_mutex_lock(&e->lock);
        if (r >= 0) {
                json_object_set(c->config, "HostConfig", hc);
                r = eng_store_save_config(e, c, err);
                /* The next start takes these values from the bundle. */
                if (r >= 0)
                        r = eng_ctr_rewrite_bundle(e, c->id, c->config, c->image_id, err);
                if (r >= 0)
                        eng_event_ctr(e, c, "update", NULL);
        }
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        return r;
}
