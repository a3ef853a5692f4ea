/* Read side of the store in Docker's API shapes: list, inspect, history, config, layer dirs. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/db.h"
#include "common/filters.h"
#include "common/timeparse.h"
#include "image/image_internal.h"
#include "image/registry.h"

struct img_row {
        char *id;
        json_t *config;
        int64_t size;
        char **tags;    /* normalized names */
        char **digests; /* repo digests: normalized name@sha256:... */
        json_t *layers; /* [{chain, diff, size}] bottom first */
};

static void img_row_clear(struct img_row *row)
{
        free(row->id);
        json_decref(row->config);
        strv_free(row->tags);
        strv_free(row->digests);
        json_decref(row->layers);
        memset(row, 0, sizeof(*row));
}

static int row_layers(struct img_store *s, struct img_row *row, struct gerr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s->db,
                           "SELECT chain_id, diff_id, size FROM image_layers WHERE image_id = ?"
                           " ORDER BY idx",
                           &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, row->id, -1, SQLITE_TRANSIENT);
        row->layers = json_array();
        while (sqlite3_step(st) == SQLITE_ROW)
                json_array_append_new(row->layers,
                                      json_pack("{s:s, s:s, s:I}", "chain",
                                                (const char *)sqlite3_column_text(st, 0), "diff",
                                                (const char *)sqlite3_column_text(st, 1), "size",
                                                (json_int_t)sqlite3_column_int64(st, 2)));
        return 0;
}

/* Fill row from the current statement row (id, config, size). */
static int row_fill(struct img_store *s, sqlite3_stmt *st, struct img_row *row, struct gerr **err)
{
        row->id = strdup((const char *)sqlite3_column_text(st, 0));
        const char *cfg = (const char *)sqlite3_column_text(st, 1);
        row->config = cfg ? json_loads(cfg, 0, NULL) : NULL;
        if (row->config == NULL)
                row->config = json_object();
        row->size = sqlite3_column_int64(st, 2);
        int r = img_tags_of(s, row->id, &row->tags, err);
        if (r < 0)
                return r;
        r = img_repo_digests_of(s, row->id, &row->digests, err);
        if (r < 0)
                return r;
        return row_layers(s, row, err);
}

static int row_get(struct img_store *s, const char *ref, struct img_row *row, struct gerr **err)
{
        _cleanup_free_ char *id = NULL;
        int r = img_resolve(s, ref, &id, err);
        if (r < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = db_prepare(s->db, "SELECT id, config, size FROM images WHERE id = ?", &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_ROW)
                return img_errf(err, ENOENT, "No such image: %s", ref);
        return row_fill(s, st, row, err);
}

int img_config(struct img_store *s, const char *id, json_t **out, struct gerr **err)
{
        struct img_row row = {0};
        int r = row_get(s, id, &row, err);
        if (r >= 0)
                *out = json_incref(row.config);
        img_row_clear(&row);
        return r;
}

int img_layer_dirs(struct img_store *s, const char *id, char ***out, struct gerr **err)
{
        struct img_row row = {0};
        int r = row_get(s, id, &row, err);
        if (r < 0) {
                img_row_clear(&row);
                return r;
        }
        size_t n = json_array_size(row.layers);
        char **v = calloc(n + 1, sizeof(char *));
        for (size_t i = 0; v != NULL && i < n; i++) {
                const char *chain = json_string_value(
                    json_object_get(json_array_get(row.layers, n - 1 - i), "chain"));
                v[i] = img_layer_path(s, chain);
                if (v[i] == NULL) {
                        strv_free(v);
                        v = NULL;
                }
        }
        img_row_clear(&row);
        if (v == NULL)
                return gerr_set(err, ENOMEM, "layer dirs");
        *out = v;
        return 0;
}

static json_t *familiar_tags(char **tags)
{
        json_t *a = json_array();
        for (char **t = tags; t && *t; t++) {
                _cleanup_free_ char *f = img_familiar(*t);
                json_array_append_new(a, json_string(f ? f : *t));
        }
        return a;
}

static bool ref_match(const char *pattern, const char *name)
{
        _cleanup_free_ char *fam = img_familiar(name);
        if (fam == NULL)
                return false;
        if (fnmatch(pattern, fam, 0) == 0 || fnmatch(pattern, name, 0) == 0)
                return true;
        char *colon = strrchr(fam, ':');
        if (colon != NULL && strchr(colon, '/') == NULL)
                *colon = '\0';
        return fnmatch(pattern, fam, 0) == 0;
}

static json_t *list_entry(struct img_row *row, const char **refs, size_t nrefs)
{
        json_t *tags = json_array();
        for (char **t = row->tags; *t; t++) {
                bool keep = nrefs == 0;
                for (size_t i = 0; i < nrefs && !keep; i++)
                        keep = ref_match(refs[i], *t);
                if (keep) {
                        _cleanup_free_ char *f = img_familiar(*t);
                        json_array_append_new(tags, json_string(f ? f : *t));
                }
        }
        if (nrefs > 0 && json_array_size(tags) == 0) {
                json_decref(tags);
                return NULL;
        }
        json_t *cfg = json_object_get(row->config, "config");
        json_t *labels = json_object_get(cfg, "Labels");
        int64_t created =
            img_parse_time(json_string_value(json_object_get(row->config, "created")));
        return json_pack("{s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:O, s:I}", "Id", row->id,
                         "ParentId", "", "RepoTags", tags, "RepoDigests",
                         familiar_tags(row->digests), "Created",
                         (json_int_t)created, "Size", (json_int_t)row->size, "SharedSize",
                         (json_int_t)-1, "VirtualSize", (json_int_t)row->size, "Labels",
                         json_is_object(labels) ? labels : json_null(), "Containers",
                         (json_int_t)-1);
}

static int by_created_desc(const void *a, const void *b)
{
        json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "Created"));
        json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "Created"));
        return x < y ? 1 : x > y ? -1 : 0;
}

/* The created time of the image ref names (filters before/since), or a negative errno. */
static int created_of(struct img_store *s, const char *ref, int64_t *out, struct gerr **err)
{
        struct img_row row = {0};
        int r = row_get(s, ref, &row, err);
        if (r >= 0)
                *out = img_parse_time(json_string_value(json_object_get(row.config, "created")));
        img_row_clear(&row);
        return r;
}

int img_list(struct img_store *s, bool all, json_t *filters, json_t **out, struct gerr **err)
{
        static const char *const known[] = {"dangling", "label", "before", "since",
                                            "reference", "until", NULL};
        const char *bad = filters_unknown(filters, known);
        if (bad != NULL)
                return gerr_set(err, EINVAL, "invalid filter '%s'", bad);
        const char *refs[16], *labels[16], *dangling[2], *before[2], *since[2], *until[2];
        size_t nrefs, nlabels, ndangling, nbefore, nsince, nuntil;
        nrefs = filters_values(filters, "reference", refs, 16);
        nlabels = filters_values(filters, "label", labels, 16);
        ndangling = filters_values(filters, "dangling", dangling, 2);
        nbefore = filters_values(filters, "before", before, 2);
        nsince = filters_values(filters, "since", since, 2);
        nuntil = filters_values(filters, "until", until, 2);
        int want_dangling = -1;
        if (ndangling > 0)
                want_dangling = strcmp(dangling[0], "true") == 0 || strcmp(dangling[0], "1") == 0;
        /* before/since name images (dockerd: by their created time); until is a time. */
        int64_t t_before = INT64_MAX, t_since = INT64_MIN;
        double t_until = 1e300;
        if (nbefore > 0 && created_of(s, before[0], &t_before, err) < 0)
                return -ENOENT;
        if (nsince > 0 && created_of(s, since[0], &t_since, err) < 0)
                return -ENOENT;
        if (nuntil > 0 && !timeparse_docker(until[0], (double)time(NULL), &t_until))
                return gerr_set(err, EINVAL, "failed to parse value %s as a time", until[0]);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s->db, "SELECT id, config, size FROM images", &st, err);
        if (r < 0)
                return r;
        _cleanup_free_ json_t **items = NULL;
        size_t n = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
                struct img_row row = {0};
                r = row_fill(s, st, &row, err);
                if (r < 0) {
                        img_row_clear(&row);
                        break;
                }
                bool keep = want_dangling < 0 || (row.tags[0] == NULL) == (want_dangling == 1);
                int64_t created =
                        img_parse_time(json_string_value(json_object_get(row.config, "created")));
                keep = keep && created < t_before && created > t_since &&
                       (double)created < t_until;
                json_t *lab = json_object_get(json_object_get(row.config, "config"), "Labels");
                keep = keep && filters_match_kv(lab, labels, nlabels);
                json_t *e = keep ? list_entry(&row, refs, nrefs) : NULL;
                img_row_clear(&row);
                if (e == NULL)
                        continue;
                json_t **ni = realloc(items, (n + 1) * sizeof(*ni));
                if (ni == NULL) {
                        json_decref(e);
                        r = gerr_set(err, ENOMEM, "list");
                        break;
                }
                items = ni;
                items[n++] = e;
        }
        if (n > 0)
                qsort(items, n, sizeof(*items), by_created_desc);
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(a, items[i]);
        if (r < 0) {
                json_decref(a);
                return r;
        }
        *out = a;
        return 0;
}

/* An image's config as dockerd shows it: every field of its container config type, zero where
 * the image has none (an image config JSON usually holds a few), then the image's own. */
static json_t *config_shape(json_t *cfg)
{
        json_t *out = json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:n, s:n, s:s, s:n,"
                                " s:s, s:n, s:n, s:n}",
                                "Hostname", "", "Domainname", "", "User", "", "AttachStdin", 0,
                                "AttachStdout", 0, "AttachStderr", 0, "Tty", 0, "OpenStdin", 0,
                                "StdinOnce", 0, "Env", "Cmd", "Image", "", "Volumes",
                                "WorkingDir", "", "Entrypoint", "OnBuild", "Labels");
        if (out != NULL && json_is_object(cfg))
                json_object_update(out, cfg);
        return out;
}

static json_t *str_or_empty(json_t *cfg, const char *key)
{
        json_t *v = json_object_get(cfg, key);
        return json_is_string(v) ? json_incref(v) : json_string("");
}

int img_inspect(struct img_store *s, const char *ref, json_t **out, struct gerr **err)
{
        struct img_row row = {0};
        int r = row_get(s, ref, &row, err);
        if (r < 0) {
                img_row_clear(&row);
                return r;
        }
        json_t *c = row.config;
        json_t *diffs = json_array();
        _cleanup_free_ char *lower = NULL, *upper = NULL;
        size_t n = json_array_size(row.layers);
        for (size_t i = 0; i < n; i++) {
                json_t *l = json_array_get(row.layers, i);
                json_array_append(diffs, json_object_get(l, "diff"));
                _cleanup_free_ char *dir =
                    img_layer_path(s, json_string_value(json_object_get(l, "chain")));
                if (i == n - 1) {
                        upper = TAKE_PTR(dir);
                } else {
                        char *nl = NULL;
                        if (asprintf(&nl, "%s%s%s", dir, lower ? ":" : "", lower ? lower : "") >=
                            0) {
                                free(lower);
                                lower = nl;
                        }
                }
        }
        json_t *data = json_object();
        if (lower != NULL)
                json_object_set_new(data, "LowerDir", json_string(lower));
        if (upper != NULL)
                json_object_set_new(data, "UpperDir", json_string(upper));
        json_t *ccfg = json_object_get(c, "container_config");
        json_t *cfg = json_object_get(c, "config");
        *out =
            json_pack("{s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
                      " s:I, s:I, s:{s:s, s:o}, s:{s:s, s:o}, s:{s:s}}",
                      "Id", row.id, "RepoTags", familiar_tags(row.tags), "RepoDigests",
                      familiar_tags(row.digests), "Parent",
                      "", "Comment", str_or_empty(c, "comment"), "Created",
                      str_or_empty(c, "created"), "Container", str_or_empty(c, "container"),
                      "ContainerConfig", config_shape(ccfg), "DockerVersion",
                      str_or_empty(c, "docker_version"), "Author", str_or_empty(c, "author"),
                      "Config", config_shape(cfg), "Architecture",
                      str_or_empty(c, "architecture"), "Os", str_or_empty(c, "os"), "Size",
                      (json_int_t)row.size, "VirtualSize", (json_int_t)row.size, "GraphDriver",
                      "Name", "overlay2", "Data", data, "RootFS", "Type", "layers", "Layers", diffs,
                      "Metadata", "LastTagTime", "0001-01-01T00:00:00Z");
        json_t *variant = json_object_get(c, "variant");
        if (*out != NULL && json_is_string(variant))
                json_object_set(*out, "Variant", variant);
        img_row_clear(&row);
        return *out ? 0 : gerr_set(err, ENOMEM, "inspect");
}

int img_history(struct img_store *s, const char *ref, json_t **out, struct gerr **err)
{
        struct img_row row = {0};
        int r = row_get(s, ref, &row, err);
        if (r < 0) {
                img_row_clear(&row);
                return r;
        }
        json_t *hist = json_object_get(row.config, "history");
        json_t *a = json_array();
        size_t layer = 0, i;
        json_t *h;
        json_array_foreach(hist, i, h)
        {
                bool empty = json_is_true(json_object_get(h, "empty_layer"));
                json_int_t size = 0;
                if (!empty) {
                        size = json_integer_value(
                            json_object_get(json_array_get(row.layers, layer), "size"));
                        layer++;
                }
                json_t *cb = json_object_get(h, "created_by"), *cm = json_object_get(h, "comment");
                json_array_insert_new(
                    a, 0,
                    json_pack("{s:s, s:I, s:s, s:n, s:I, s:s}", "Id", "<missing>", "Created",
                              (json_int_t)img_parse_time(
                                  json_string_value(json_object_get(h, "created"))),
                              "CreatedBy", json_is_string(cb) ? json_string_value(cb) : "", "Tags",
                              "Size", size, "Comment",
                              json_is_string(cm) ? json_string_value(cm) : ""));
        }
        if (json_array_size(a) == 0) {
                /* No history in the config: one line per layer, as Docker shows it. */
                for (i = 0; i < json_array_size(row.layers); i++)
                        json_array_insert_new(
                            a, 0,
                            json_pack("{s:s, s:I, s:s, s:n, s:I, s:s}", "Id", "<missing>",
                                      "Created",
                                      (json_int_t)img_parse_time(json_string_value(
                                          json_object_get(row.config, "created"))),
                                      "CreatedBy", "", "Tags", "Size",
                                      json_integer_value(
                                          json_object_get(json_array_get(row.layers, i), "size")),
                                      "Comment", ""));
        }
        json_t *top = json_array_get(a, 0);
        if (top != NULL) {
                json_object_set_new(top, "Id", json_string(row.id));
                json_object_set_new(top, "Tags", familiar_tags(row.tags));
        }
        img_row_clear(&row);
        *out = a;
        return 0;
}
