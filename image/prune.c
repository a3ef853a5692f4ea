/* docker image prune: dangling (or all) unused images go, with the layers only they held. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/db.h"
#include "common/filters.h"
#include "image/image_internal.h"

struct candidate {
        char *id;
        char **tags;
};

/* Images that pass the filters, with their names; sizes of every layer by chain id. */
static int gather(struct img_store *s, const struct img_prune_opts *o, struct candidate **out,
                  size_t *n, json_t *sizes, struct gerr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL, *ls = NULL;
        int r = db_prepare(s->db, "SELECT id, config FROM images", &st, err);
        if (r < 0)
                return r;
        while (sqlite3_step(st) == SQLITE_ROW) {
                const char *id = (const char *)sqlite3_column_text(st, 0);
                const char *text = (const char *)sqlite3_column_text(st, 1);
                _cleanup_json_ json_t *cfg = text ? json_loads(text, 0, NULL) : NULL;
                int64_t created =
                    img_parse_time(json_string_value(json_object_get(cfg, "created")));
                if (o->until > 0 && (double)created > o->until)
                        continue;
                json_t *labels = json_object_get(json_object_get(cfg, "config"), "Labels");
                if (o->filters != NULL && !filters_match_labels(o->filters, labels))
                        continue;
                char **tags = NULL;
                r = img_tags_of(s, id, &tags, err);
                if (r < 0)
                        return r;
                bool tagged = false;
                for (char **t = tags; *t; t++)
                        tagged = tagged || strchr(*t, '@') == NULL;
                if (o->dangling_only && tagged) {
                        strv_free(tags);
                        continue;
                }
                struct candidate *nv = realloc(*out, (*n + 1) * sizeof(*nv));
                if (nv == NULL) {
                        strv_free(tags);
                        return gerr_set(err, ENOMEM, "prune");
                }
                *out = nv;
                nv[*n].id = strdup(id);
                nv[*n].tags = tags;
                (*n)++;
        }
        r = db_prepare(s->db, "SELECT chain_id, size FROM image_layers", &ls, err);
        if (r < 0)
                return r;
        while (sqlite3_step(ls) == SQLITE_ROW)
                json_object_set_new(sizes, (const char *)sqlite3_column_text(ls, 0),
                                    json_integer(sqlite3_column_int64(ls, 1)));
        return 0;
}

int img_prune(struct img_store *s, const struct img_prune_opts *o, img_user_fn in_use, void *arg,
              json_t **deleted, long long *reclaimed, struct gerr **err)
{
        _cleanup_json_ json_t *out = json_array();
        _cleanup_json_ json_t *sizes = json_object();
        struct candidate *c = NULL;
        size_t n = 0;
        pthread_mutex_lock(&s->lock);
        int r = gather(s, o, &c, &n, sizes, err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                /* As dockerd: by each name when it has some, else by id; a conflict (a
                 * container uses it) or any other failure only skips the image. */
                if (c[i].tags[0] != NULL) {
                        for (char **t = c[i].tags; *t; t++)
                                if (img_remove_locked(s, *t, false, in_use, arg, out, NULL) < 0)
                                        break;
                } else {
                        img_remove_locked(s, c[i].id, false, in_use, arg, out, NULL);
                }
        }
        pthread_mutex_unlock(&s->lock);
        for (size_t i = 0; i < n; i++) {
                free(c[i].id);
                strv_free(c[i].tags);
        }
        free(c);
        if (r < 0)
                return r;
        long long total = 0;
        size_t i;
        json_t *d;
        json_array_foreach(out, i, d)
        {
                const char *del = json_string_value(json_object_get(d, "Deleted"));
                if (del != NULL)
                        total += json_integer_value(json_object_get(sizes, del));
        }
        *reclaimed = total;
        *deleted = TAKE_PTR(out);
        return 0;
}
