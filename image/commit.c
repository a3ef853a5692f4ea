/* docker commit, image side: a layer tar streamed in on top of a parent image becomes an image. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/db.h"
#include "common/timefmt.h"
#include "image/image_internal.h"

/* sha256 of 1024 zero bytes, the tar of nothing: Docker's layer.DigestSHA256EmptyTar. */
#define EMPTY_TAR_HEX "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"

/* The parent's config text and layers, bottom first. */
static int parent_of(struct img_store *s, const char *id, json_t **cfg, struct img_layer_ref **out,
                     size_t *n, struct gerr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s->db, "SELECT config FROM images WHERE id = ?", &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_ROW)
                return img_errf(err, ENOENT, "No such image: %s", id);
        const char *text = (const char *)sqlite3_column_text(st, 0);
        *cfg = text ? json_loads(text, 0, NULL) : NULL;
        if (!json_is_object(*cfg)) {
                json_decref(*cfg);
                *cfg = json_object();
        }
        _cleanup_stmt_ sqlite3_stmt *ls = NULL;
        r = db_prepare(s->db,
                       "SELECT chain_id, diff_id, size FROM image_layers WHERE image_id = ?"
                       " ORDER BY idx",
                       &ls, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(ls, 1, id, -1, SQLITE_TRANSIENT);
        *n = 0;
        *out = NULL;
        while (sqlite3_step(ls) == SQLITE_ROW) {
                struct img_layer_ref *nv = realloc(*out, (*n + 2) * sizeof(**out));
                if (nv == NULL)
                        return gerr_set(err, ENOMEM, "commit");
                *out = nv;
                struct img_layer_ref *l = &nv[(*n)++];
                snprintf(l->chain, sizeof(l->chain), "%s",
                         img_hex((const char *)sqlite3_column_text(ls, 0)));
                snprintf(l->diff, sizeof(l->diff), "%s",
                         img_hex((const char *)sqlite3_column_text(ls, 1)));
                l->size = sqlite3_column_int64(ls, 2);
        }
        if (*out == NULL && (*out = calloc(1, sizeof(**out))) == NULL)
                return gerr_set(err, ENOMEM, "commit");
        return 0;
}

static void set_str(json_t *o, const char *key, const char *v)
{
        if (v != NULL && *v != '\0')
                json_object_set_new(o, key, json_string(v));
}

/* The child config as dockerd's image.NewChildImage writes it. */
static json_t *child_config(json_t *parent, const struct img_commit_opts *o, const char *now,
                            const struct img_layer_ref *layers, size_t n, bool empty)
{
        json_t *c = json_object();
        json_t *arch = json_object_get(parent, "architecture");
        json_object_set_new(c, "architecture",
                            json_is_string(arch) ? json_incref(arch) : json_string("amd64"));
        set_str(c, "author", o->author);
        set_str(c, "comment", o->comment);
        json_object_set(c, "config", o->config ? o->config : json_null());
        set_str(c, "container", o->container_id);
        if (o->container_config != NULL)
                json_object_set(c, "container_config", o->container_config);
        json_object_set_new(c, "created", json_string(now));
        json_t *hist = json_array();
        if (json_is_array(json_object_get(parent, "history")))
                json_array_extend(hist, json_object_get(parent, "history"));
        json_t *h = json_pack("{s:s}", "created", now);
        set_str(h, "author", o->author);
        set_str(h, "created_by", o->created_by);
        set_str(h, "comment", o->comment);
        if (empty)
                json_object_set_new(h, "empty_layer", json_true());
        json_array_append_new(hist, h);
        json_object_set_new(c, "history", hist);
        json_t *os = json_object_get(parent, "os");
        json_object_set_new(c, "os", json_is_string(os) ? json_incref(os) : json_string("linux"));
        static const char *const keep[] = {"variant", "os.version", "os.features"};
        for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
                if (json_object_get(parent, keep[i]) != NULL)
                        json_object_set(c, keep[i], json_object_get(parent, keep[i]));
        json_t *diffs = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(diffs, json_sprintf("sha256:%s", layers[i].diff));
        json_object_set_new(c, "rootfs",
                            json_pack("{s:s, s:o}", "type", "layers", "diff_ids", diffs));
        return c;
}

static int commit_locked(struct img_store *s, const struct img_commit_opts *o, int layer_fd,
                         char cfg_hex[IMG_HEX_LEN + 1], struct gerr **err)
{
        _cleanup_json_ json_t *parent = NULL;
        _cleanup_free_ struct img_layer_ref *layers = NULL;
        size_t n = 0;
        int r;
        if (o->parent_id != NULL) {
                r = parent_of(s, o->parent_id, &parent, &layers, &n, err);
                if (r < 0)
                        return r;
        } else {
                parent = json_object();
                layers = calloc(1, sizeof(*layers));
                if (layers == NULL)
                        return gerr_set(err, ENOMEM, "commit");
        }
        struct img_layer_ref top = {0};
        r = img_blob_from_stream(s, layer_fd, top.diff, err);
        if (o->stream_done != NULL) {
                struct gerr *werr = NULL;
                int w = o->stream_done(o->arg, r < 0 ? NULL : &werr);
                if (w < 0 && r >= 0) {
                        if (err != NULL) {
                                gerr_free(*err);
                                *err = TAKE_PTR(werr);
                        }
                        gerr_free(werr);
                        return w;
                }
                gerr_free(werr);
        }
        if (r < 0)
                return r;
        /* No change: no layer, an empty_layer history entry (dockerd's layer.IsEmpty). */
        bool empty = strcmp(top.diff, EMPTY_TAR_HEX) == 0;
        if (!empty) {
                img_chain_id(n ? layers[n - 1].chain : NULL, top.diff, top.chain);
                r = img_layer_unpack(s, top.diff, top.chain, &top.size, err);
                if (r < 0)
                        return r;
                layers[n++] = top;
        }
        char now[TIMEFMT_RFC3339_LEN];
        timefmt_now(now);
        _cleanup_json_ json_t *cfg = child_config(parent, o, now, layers, n, empty);
        _cleanup_free_ char *text = cfg ? json_dumps(cfg, JSON_COMPACT) : NULL;
        if (text == NULL)
                return gerr_set(err, ENOMEM, "commit");
        r = img_blob_put(s, text, strlen(text), cfg_hex, err);
        if (r < 0)
                return r;
        const char *names[] = {o->name};
        return img_register(s, cfg_hex, text, layers, n, names, o->name ? 1 : 0, err);
}

int img_commit(struct img_store *s, const struct img_commit_opts *o, int layer_fd, char **id_out,
               struct gerr **err)
{
        char cfg_hex[IMG_HEX_LEN + 1];
        pthread_mutex_lock(&s->lock);
        int r = commit_locked(s, o, layer_fd, cfg_hex, err);
        /* The empty tar's blob, or what a failure left: nothing refers to it. */
        img_gc(s, NULL);
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
                return gerr_wrap(err, "commit");
        if (asprintf(id_out, "sha256:%s", cfg_hex) < 0)
                return gerr_set(err, ENOMEM, "commit");
        return 0;
}
