/* Container operations beside the lifecycle: pause and unpause (the freezer), rename. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "engine/engine_internal.h"
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
