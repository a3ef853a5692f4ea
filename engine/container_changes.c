/* docker diff: the changes of a container's upper dir against its image, as dockerd's
 * OverlayChanges. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "engine/engine_internal.h"
#include "engine/upper_walk.h"
#include "image/image.h"

enum { KIND_MODIFY = 0, KIND_ADD = 1, KIND_DELETE = 2 };

struct changes {
        const struct eng_layers *l;
        json_t *out;
        json_t *dirs; /* changedDirs: directories already listed */
};

static bool same_time(const struct timespec *a, const struct timespec *b)
{
        return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static int on_entry(const struct eng_upper_entry *e, void *ud)
{
        struct changes *c = ud;
        /* AUFS metadata at the top, as dockerd skips it. */
        if (strncmp(e->path, "/.wh..wh.", 9) == 0 && strchr(e->path + 1, '/') == NULL)
                return 0;
        struct stat lst;
        bool below = eng_layers_lower_stat(c->l, e->path, &lst);
        int kind;
        if (e->whiteout || (e->opaque && below)) {
                kind = KIND_DELETE;
        } else if (!below) {
                kind = KIND_ADD;
        } else {
                /* A directory that is only there as the parent of a change is no change. */
                if (S_ISDIR(lst.st_mode) && S_ISDIR(e->st->st_mode) &&
                    lst.st_size == e->st->st_size && lst.st_mode == e->st->st_mode &&
                    same_time(&lst.st_mtim, &e->st->st_mtim))
                        return 0;
                kind = KIND_MODIFY;
        }
        if (S_ISDIR(e->st->st_mode))
                json_object_set_new(c->dirs, e->path, json_true());
        /* dockerd lists the parent of an addition or a deletion as modified (moby#13590). */
        if (kind != KIND_MODIFY) {
                _cleanup_free_ char *parent = strdup(e->path);
                if (parent == NULL)
                        return -ENOMEM;
                char *slash = strrchr(parent, '/');
                *slash = '\0';
                if (*parent != '\0' && json_object_get(c->dirs, parent) == NULL) {
                        json_array_append_new(
                            c->out, json_pack("{s:s, s:i}", "Path", parent, "Kind", KIND_MODIFY));
                        json_object_set_new(c->dirs, parent, json_true());
                }
        }
        json_array_append_new(c->out, json_pack("{s:s, s:i}", "Path", e->path, "Kind", kind));
        return 0;
}

int eng_changes_compute(const char *upper, char *const *lowers, json_t **out, struct gerr **err)
{
        struct eng_layers l;
        int r = eng_layers_open(upper, lowers, &l, err);
        if (r < 0)
                return r;
        struct changes c = {.l = &l, .out = json_array(), .dirs = json_object()};
        r = eng_upper_walk(&l, on_entry, &c, err);
        eng_layers_close(&l);
        json_decref(c.dirs);
        if (r < 0) {
                json_decref(c.out);
                return r == -ENOMEM ? gerr_set(err, ENOMEM, "changes") : r;
        }
        *out = c.out;
        return 0;
}

int eng_ctr_layers(struct eng *e, const char *ref, char id[65], char **image_id, char **upper,
                   char ***lowers, struct gerr **err)
{
        struct eng_ctr *c = NULL;
        pthread_mutex_lock(&e->lock);
        int r = eng_ctr_find(e, ref, &c, err);
        if (r >= 0) {
                snprintf(id, 65, "%s", c->id);
                *image_id = strdup(c->image_id);
        }
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        if (r < 0)
                return r;
        if (*image_id == NULL || asprintf(upper, "%s/%s/upper", e->containers_dir, id) < 0) {
                free(*image_id);
                return gerr_set(err, ENOMEM, "container layers");
        }
        r = img_layer_dirs(e->images, *image_id, lowers, err);
        if (r < 0) {
                free(*image_id);
                free(*upper);
        }
        return r;
}

int eng_container_changes(struct eng *e, const char *ref, json_t **out, struct gerr **err)
{
        char id[65];
        _cleanup_free_ char *image_id = NULL, *upper = NULL;
        _cleanup_strv_ char **lowers = NULL;
        int r = eng_ctr_layers(e, ref, id, &image_id, &upper, &lowers, err);
        if (r < 0)
                return r;
        return eng_changes_compute(upper, lowers, out, err);
}
