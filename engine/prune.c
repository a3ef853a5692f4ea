/* docker container prune and docker image prune: what dockerd's daemon/prune.go removes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/filters.h"
#include "common/timeparse.h"
#include "engine/engine_internal.h"
#include "image/image.h"

int eng_prune_until(json_t *filters, double *until, struct gerr **err)
{
        const char *v[2];
        size_t n = filters_values(filters, "until", v, 2);
        *until = 0;
        if (n == 0)
                return 0;
        if (n > 1)
                return eng_err(err, EINVAL, "more than one until filter specified");
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        if (!timeparse_docker(v[0], (double)now.tv_sec + now.tv_nsec / 1e9, until))
                return eng_err(err, EINVAL, "failed to parse value as time or duration: \"%s\"",
                               v[0]);
        return 0;
}

static int check_filters(json_t *filters, const char *const *known, struct gerr **err)
{
        const char *bad = filters ? filters_unknown(filters, known) : NULL;
        return bad ? eng_err(err, EINVAL, "Invalid filter '%s'", bad) : 0;
}

int eng_containers_prune(struct eng *e, json_t *filters, json_t **out, struct gerr **err)
{
        static const char *const known[] = {"label", "label!", "until", NULL};
        double until = 0;
        int r = check_filters(filters, known, err);
        if (r >= 0)
                r = eng_prune_until(filters, &until, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *ids = json_array();
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        pthread_mutex_lock(&e->lock);
        for (struct eng_ctr *c = e->ctrs; c != NULL; c = c->next) {
                if (c->removed || c->removing || c->running || c->starting || c->restarting)
                        continue;
                double created = 0;
                if (until > 0 && timeparse_docker(c->created, (double)now.tv_sec, &created) &&
                    created > until)
                        continue;
                if (filters != NULL &&
                    !filters_match_labels(filters, json_object_get(c->config, "Labels")))
                        continue;
                json_array_append_new(ids, json_string(c->id));
        }
        pthread_mutex_unlock(&e->lock);
        json_t *deleted = json_array();
        long long reclaimed = 0;
        size_t i;
        json_t *v;
        json_array_foreach(ids, i, v)
        {
                const char *id = json_string_value(v);
                long long size = eng_ctr_size_rw(e, id);
                /* One that started or went meanwhile is skipped, as dockerd logs and goes on. */
                if (eng_container_remove(e, id, false, false, NULL) < 0)
                        continue;
                reclaimed += size;
                json_array_append(deleted, v);
        }
        char rec[32];
        snprintf(rec, sizeof(rec), "%lld", reclaimed);
        eng_event(e, "container", "prune", "", json_pack("{s:s}", "reclaimed", rec));
        *out = json_pack("{s:o, s:I}", "ContainersDeleted",
                         json_array_size(deleted) ? deleted : (json_decref(deleted), json_null()),
                         "SpaceReclaimed", (json_int_t)reclaimed);
        return 0;
}

static const char *image_user(const char *id, void *arg, bool *running)
{
        json_t *user = json_object_get(arg, id);
        *running = json_is_true(json_object_get(user, "Running"));
        return json_string_value(json_object_get(user, "Id"));
}

int eng_images_prune(struct eng *e, json_t *filters, json_t **out, struct gerr **err)
{
        static const char *const known[] = {"dangling", "label", "label!", "until", NULL};
        struct img_prune_opts o = {.dangling_only = true, .filters = filters};
        int r = check_filters(filters, known, err);
        if (r >= 0)
                r = eng_prune_until(filters, &o.until, err);
        if (r < 0)
                return r;
        const char *d[2];
        if (filters_values(filters, "dangling", d, 2) > 0) {
                if (strcmp(d[0], "true") == 0 || strcmp(d[0], "1") == 0)
                        o.dangling_only = true;
                else if (strcmp(d[0], "false") == 0 || strcmp(d[0], "0") == 0)
                        o.dangling_only = false;
                else
                        return eng_err(err, EINVAL, "Invalid filter 'dangling=%s'", d[0]);
        }
        /* Images some container uses (a running one first), gathered before the store locks. */
        _cleanup_json_ json_t *used = json_object();
        pthread_mutex_lock(&e->lock);
        for (struct eng_ctr *c = e->ctrs; c != NULL; c = c->next) {
                if (c->removed || c->image_id == NULL)
                        continue;
                json_t *prev = json_object_get(used, c->image_id);
                if (prev == NULL || (c->running && !json_is_true(json_object_get(prev, "Running"))))
                        json_object_set_new(
                            used, c->image_id,
                            json_pack("{s:s, s:b}", "Id", c->id, "Running", c->running));
        }
        pthread_mutex_unlock(&e->lock);
        json_t *deleted = NULL;
        long long reclaimed = 0;
        r = img_prune(e->images, &o, image_user, used, &deleted, &reclaimed, err);
        if (r < 0)
                return r;
        char rec[32];
        snprintf(rec, sizeof(rec), "%lld", reclaimed);
        eng_event(e, "image", "prune", "", json_pack("{s:s}", "reclaimed", rec));
        *out = json_pack("{s:o, s:I}", "ImagesDeleted",
                         json_array_size(deleted) ? deleted : (json_decref(deleted), json_null()),
                         "SpaceReclaimed", (json_int_t)reclaimed);
        return 0;
}
