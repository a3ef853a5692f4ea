/* docker commit: the container's changes as a new layer on its image, paused meanwhile as dockerd
 * does. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "engine/engine_internal.h"
#include "image/image.h"

struct writer {
        pthread_t thread;
        bool started;
        const char *upper;
        char **lowers;
        bool empty;
        int fd;
        int rc;
        struct gerr *err;
};

static void *writer_main(void *p)
{
        struct writer *w = p;
        w->rc = eng_layer_tar_write(w->upper, w->lowers, w->empty, w->fd, &w->err);
        close(w->fd);
        w->fd = -1;
        return NULL;
}

static int writer_done(void *arg, struct gerr **err)
{
        struct writer *w = arg;
        if (!w->started)
                return 0;
        pthread_join(w->thread, NULL);
        w->started = false;
        if (w->rc < 0 && err != NULL) {
                *err = TAKE_PTR(w->err);
                if (*err == NULL)
                        gerr_set(err, -w->rc, "write layer");
        }
        return w->rc;
}

/* The reference to tag, normalized (NULL when repo is empty, as dockerd ignores a lone tag). */
static int commit_name(const struct eng_commit_opts *o, char **name, struct gerr **err)
{
        *name = NULL;
        if (o->repo == NULL || *o->repo == '\0')
                return 0;
        _cleanup_free_ char *full = NULL;
        if (asprintf(&full, "%s%s%s", o->repo, o->tag && *o->tag ? ":" : "",
                     o->tag && *o->tag ? o->tag : "") < 0)
                return gerr_set(err, ENOMEM, "commit");
        int r = img_normalize(full, name, err);
        if (r >= 0 && strchr(*name, '@') != NULL) {
                free(*name);
                *name = NULL;
                return eng_err(err, EINVAL, "cannot commit to digest reference");
        }
        return r;
}

static char *created_by(json_t *cfg)
{
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);
        if (f == NULL)
                return NULL;
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(cfg, "Cmd"), i, v)
        {
                fprintf(f, "%s%s", i ? " " : "", json_string_value(v) ?: "");
        }
        fclose(f);
        return s;
}

/* The layer: written by a thread into a pipe that the image store reads and checks. */
static int make_image(struct eng *e, const char *id, struct img_commit_opts *io, char **id_out,
                      struct gerr **err)
{
        _cleanup_free_ char *image_id = NULL, *upper = NULL;
        _cleanup_strv_ char **lowers = NULL;
        char cid[65];
        int r = eng_ctr_layers(e, id, cid, &image_id, &upper, &lowers, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *changes = NULL;
        r = eng_changes_compute(upper, lowers, &changes, err);
        if (r < 0)
                return r;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return gerr_set(err, errno, "pipe");
        struct writer w = {
            .upper = upper, .lowers = lowers, .fd = p[1], .empty = json_array_size(changes) == 0};
        if ((r = pthread_create(&w.thread, NULL, writer_main, &w)) != 0) {
                close(p[0]);
                close(p[1]);
                return gerr_set(err, r, "commit thread");
        }
        w.started = true;
        io->parent_id = image_id;
        io->stream_done = writer_done;
        io->arg = &w;
        r = img_commit(e->images, io, p[0], id_out, err);
        /* A failure before the stream's end: the writer stops at its next write (EPIPE). */
        close(p[0]);
        writer_done(&w, NULL);
        gerr_free(w.err);
        return r;
}

int eng_container_commit(struct eng *e, const struct eng_commit_opts *o, char **id_out,
                         struct gerr **err)
{
        _cleanup_free_ char *name = NULL;
        int r = commit_name(o, &name, err);
        if (r < 0)
                return r;
        struct eng_ctr *c = NULL;
        pthread_mutex_lock(&e->lock);
        r = eng_ctr_find(e, o->ref, &c, err);
        if (r >= 0 && c->dead)
                r = eng_err(err, EBUSY, "You cannot commit container %s which is Dead", c->id);
        else if (r >= 0 && c->removing)
                r = eng_err(err, EBUSY, "You cannot commit container %s which is being removed",
                            c->id);
        _cleanup_json_ json_t *view = r >= 0 ? eng_ctr_inspect_json(e, c) : NULL;
        char id[65] = "";
        bool pause = false;
        if (r >= 0) {
                snprintf(id, sizeof(id), "%s", c->id);
                pause = o->pause && c->running && !c->paused;
        }
        pthread_mutex_unlock(&e->lock);
        if (r < 0) {
                pthread_mutex_lock(&e->lock);
                eng_ctr_unref(c);
                pthread_mutex_unlock(&e->lock);
                return r;
        }
        json_t *ccfg = json_object_get(view, "Config");
        _cleanup_json_ json_t *cfg =
            json_is_object(o->config) ? json_deep_copy(o->config) : json_deep_copy(ccfg);
        if (cfg == NULL)
                r = gerr_set(err, ENOMEM, "commit");
        if (r >= 0)
                r = eng_commit_changes(cfg, o->changes, o->n_changes, err);
        if (r >= 0)
                eng_commit_merge(cfg, ccfg);
        _cleanup_free_ char *by = r >= 0 ? created_by(ccfg) : NULL;
        /* dockerd pauses a running container for the copy and ignores a pause that fails. */
        if (r >= 0 && pause && eng_container_pause(e, id, true, NULL) < 0)
                pause = false;
        _cleanup_free_ char *new_id = NULL;
        if (r >= 0) {
                struct img_commit_opts io = {.config = cfg,
                                             .container_config = ccfg,
                                             .container_id = id,
                                             .author = o->author,
                                             .comment = o->comment,
                                             .created_by = by,
                                             .name = name};
                r = make_image(e, id, &io, &new_id, err);
        }
        if (pause)
                eng_container_pause(e, id, false, NULL);
        pthread_mutex_lock(&e->lock);
        if (r >= 0) {
                _cleanup_free_ char *fam = name ? img_familiar(name) : NULL;
                eng_event_ctr(e, c, "commit",
                              json_pack("{s:s, s:s, s:s}", "comment", o->comment ?: "", "imageID",
                                        new_id, "imageRef", fam ?: ""));
                if (fam != NULL)
                        eng_event(e, "image", "tag", new_id, json_pack("{s:s}", "name", fam));
        }
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        if (r < 0)
                return r;
        *id_out = TAKE_PTR(new_id);
        return 0;
}
