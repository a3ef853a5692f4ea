/* Image routes: list, inspect, history, tag, remove, save, load and import (streamed bodies). */
#include "api/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "engine/engine.h"
#include "image/image.h"

#define NAME(r) ((r)->caps[0])

enum MHD_Result api_images_list(struct api_req *r)
{
        enum MHD_Result res = MHD_NO;
        _cleanup_json_ json_t *filters = api_parse_filters(r, &res);
        if (filters == NULL)
                return res;
        json_t *out = NULL;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (img_list(eng_images(r->eng), api_query_bool(r, "all"),
                     json_object_size(filters) ? filters : NULL, &out, &err) < 0)
                return api_reply_gerr(r, err);
        return api_reply_json(r, MHD_HTTP_OK, out ? out : json_array());
}

enum MHD_Result api_image_inspect(struct api_req *r)
{
        json_t *out = NULL;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (img_inspect(eng_images(r->eng), NAME(r), &out, &err) < 0)
                return api_reply_gerr(r, err);
        return api_reply_json(r, MHD_HTTP_OK, out);
}

enum MHD_Result api_image_history(struct api_req *r)
{
        json_t *out = NULL;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (img_history(eng_images(r->eng), NAME(r), &out, &err) < 0)
                return api_reply_gerr(r, err);
        return api_reply_json(r, MHD_HTTP_OK, out);
}

enum MHD_Result api_image_tag(struct api_req *r)
{
        _cleanup_gerr_ struct gerr *err = NULL;
        if (img_tag(eng_images(r->eng), NAME(r), api_query(r, "repo"), api_query(r, "tag"),
                    &err) < 0)
                return api_reply_gerr(r, err);
        const char *tag = api_query(r, "tag");
        const char *repo = api_query(r, "repo") ?: "";
        /* the familiar form, as dockerd names it in the event */
        if (strncmp(repo, "docker.io/library/", 18) == 0)
                repo += 18;
        else if (strncmp(repo, "docker.io/", 10) == 0)
                repo += 10;
        _cleanup_free_ char *tagged = NULL;
        if (asprintf(&tagged, "%s:%s", repo, tag && *tag ? tag : "latest") >= 0)
                api_image_event(r->eng, "tag", NAME(r), tagged);
        return api_reply_status(r, MHD_HTTP_CREATED);
}

/* Image id -> {Id, Running} of a container using it (a running one first), gathered before the
 * image store takes its lock. */
static const char *image_user(const char *id, void *arg, bool *running)
{
        json_t *user = json_object_get(arg, id);
        *running = json_is_true(json_object_get(user, "Running"));
        return json_string_value(json_object_get(user, "Id"));
}

enum MHD_Result api_image_delete(struct api_req *r)
{
        _cleanup_json_ json_t *used = json_object();
        _cleanup_json_ json_t *list = NULL;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_container_list(r->eng, true, NULL, &list, &err) < 0)
                return api_reply_gerr(r, err);
        size_t i;
        json_t *c;
        json_array_foreach(list, i, c) {
                const char *img = json_string_value(json_object_get(c, "ImageID"));
                bool running = strcmp(json_string_value(json_object_get(c, "State")) ?: "",
                                      "running") == 0;
                json_t *prev = img != NULL ? json_object_get(used, img) : NULL;
                if (img != NULL && (prev == NULL || (running && !json_is_true(json_object_get(
                                                                     prev, "Running")))))
                        json_object_set_new(used, img,
                                            json_pack("{s:O?,s:b}", "Id", json_object_get(c, "Id"),
                                                      "Running", running));
        }
        json_t *deleted = NULL;
        _cleanup_free_ char *img_id = NULL;
        img_resolve(eng_images(r->eng), NAME(r), &img_id, NULL);
        if (img_remove(eng_images(r->eng), NAME(r), api_query_bool(r, "force"), image_user,
                       used, &deleted, &err) < 0)
                return api_reply_gerr(r, err);
        json_array_foreach(deleted, i, c) {
                const char *d = json_string_value(json_object_get(c, "Deleted"));
                if (img_id != NULL && json_object_get(c, "Untagged") != NULL)
                        api_image_event(r->eng, "untag", img_id, NULL);
                /* the layers deleted with it get no event of their own */
                if (d != NULL && img_id != NULL && strcmp(d, img_id) == 0)
                        api_image_event(r->eng, "delete", d, NULL);
        }
        return api_reply_json(r, MHD_HTTP_OK, deleted ? deleted : json_array());
}

struct save_arg {
        struct eng *eng;
        char **refs;
        size_t n;
        enum img_save_format format;
};

static void save_free(void *p)
{
        struct save_arg *a = p;
        for (size_t i = 0; i < a->n; i++)
                free(a->refs[i]);
        free(a->refs);
        free(a);
}

static void save_run(struct api_server *srv, void *p, int fd)
{
        struct save_arg *a = p;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (img_save(eng_images(a->eng), (const char *const *)a->refs, a->n, a->format, fd, &err) <
            0) {
                log_warn("api: save: %s", err && err->msg ? err->msg : "failed");
                return;
        }
        for (size_t i = 0; i < a->n; i++)
                api_image_event(a->eng, "save", a->refs[i], NULL);
}

/* Unknown names are refused before the first byte: after it only a cut archive can tell.
 * format=oci (a gantry extension; dockerd has no such parameter) asks for a plain OCI image
 * layout instead of docker's archive. */
static enum MHD_Result save(struct api_req *r, const char **names, size_t n)
{
        if (n == 0)
                return api_reply_error(r, MHD_HTTP_BAD_REQUEST, "no image names given");
        const char *format = api_query(r, "format");
        enum img_save_format fmt = IMG_SAVE_DOCKER;
        if (format != NULL && strcmp(format, "oci") == 0)
                fmt = IMG_SAVE_OCI;
        else if (format != NULL && *format != '\0' && strcmp(format, "docker") != 0)
                return api_reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid format %s: docker or oci",
                                       format);
        struct save_arg *a = calloc(1, sizeof(*a));
        if (a == NULL)
                return MHD_NO;
        a->eng = r->eng;
        a->format = fmt;
        a->refs = calloc(n, sizeof(char *));
        if (a->refs == NULL) {
                save_free(a);
                return MHD_NO;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_gerr_ struct gerr *err = NULL;
                _cleanup_free_ char *id = NULL;
                if (img_resolve(eng_images(r->eng), names[i], &id, &err) < 0) {
                        save_free(a);
                        return api_reply_gerr(r, err);
                }
                a->refs[a->n] = strdup(names[i]);
                if (a->refs[a->n] == NULL) {
                        save_free(a);
                        return MHD_NO;
                }
                a->n++;
        }
        return api_reply_stream(r, MHD_HTTP_OK, "application/x-tar", save_run, a, save_free);
}

enum MHD_Result api_images_save(struct api_req *r)
{
        size_t n = 0;
        _cleanup_free_ const char **names = api_query_all(r, "names", &n);
        return save(r, names, n);
}

enum MHD_Result api_image_save(struct api_req *r)
{
        const char *names[] = {NAME(r)};
        return save(r, names, 1);
}

/* ---- load and import: the body streams into the image store, never whole in memory ---- */

static int load_fn(struct api_req *r, int rfd, struct gerr **err)
{
        return img_load(eng_images(r->eng), rfd, &r->up->result, err);
}

enum MHD_Result api_images_load_begin(struct api_req *r)
{
        _cleanup_gerr_ struct gerr *err = NULL;
        if (api_upload_begin(r, load_fn, &err) < 0)
                return api_reply_gerr(r, err);
        return MHD_YES;
}

/* A body of JSON lines, as dockerd's progress stream (the CLI prints "stream"/"status"). */
static enum MHD_Result reply_lines(struct api_req *r, json_t *lines)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (f == NULL)
                return MHD_NO;
        size_t i;
        json_t *l;
        json_array_foreach(lines, i, l) {
                char *s = json_dumps(l, JSON_COMPACT);
                if (s != NULL)
                        fprintf(f, "%s\n", s);
                free(s);
        }
        fclose(f);
        enum MHD_Result ret = api_reply_buf(r, MHD_HTTP_OK, "application/json", buf, len);
        free(buf);
        return ret;
}

enum MHD_Result api_images_load(struct api_req *r)
{
        struct api_upload *u = r->up;
        _cleanup_json_ json_t *lines = json_array();
        if (u->rc < 0) {
                /* dockerd answers 200 and ends its stream with the error (FormatError). */
                const char *m = u->err && u->err->msg ? u->err->msg : "load failed";
                json_array_append_new(lines, json_pack("{s:{s:s}, s:s}", "errorDetail", "message",
                                                       m, "error", m));
                return reply_lines(r, lines);
        }
        size_t i;
        json_t *l;
        json_array_foreach(u->result, i, l) {
                const char *s = json_string_value(l);
                if (s == NULL)
                        continue;
                if (strncmp(s, "Loaded image ID: ", 17) == 0)
                        api_image_event(r->eng, "load", s + 17, NULL);
                else if (strncmp(s, "Loaded image: ", 14) == 0)
                        api_image_event(r->eng, "load", s + 14, NULL);
                _cleanup_free_ char *line = NULL;
                if (asprintf(&line, "%s\n", s) >= 0)
                        json_array_append_new(lines, json_pack("{s:s}", "stream", line));
        }
        return reply_lines(r, lines);
}

static int import_fn(struct api_req *r, int rfd, struct gerr **err)
{
        const char *repo = api_query(r, "repo");
        const char *tag = api_query(r, "tag");
        _cleanup_free_ char *repo_tag = NULL;
        if (repo != NULL && *repo != '\0') {
                if (asprintf(&repo_tag, "%s%s%s", repo, tag && *tag ? ":" : "",
                             tag && *tag ? tag : "") < 0)
                        return gerr_set(err, ENOMEM, "import");
        }
        size_t n = 0;
        _cleanup_free_ const char **changes = api_query_all(r, "changes", &n);
        _cleanup_free_ char *id = NULL;
        int rc =
            eng_image_import(r->eng, rfd, repo_tag, changes, n, api_query(r, "message"), &id, err);
        if (rc >= 0)
                r->up->result = json_string(id);
        return rc;
}

enum MHD_Result api_images_create_begin(struct api_req *r)
{
        const char *from_image = api_query(r, "fromImage");
        const char *from_src = api_query(r, "fromSrc");
        /* A pull has no body: the handler starts it once the (empty) body is in. */
        if (from_image != NULL && *from_image != '\0')
                return MHD_YES;
        if (from_src == NULL || *from_src == '\0')
                return api_reply_error(r, MHD_HTTP_BAD_REQUEST, "fromImage or fromSrc is required");
        if (strcmp(from_src, "-") != 0)
                return api_reply_error(r, MHD_HTTP_NOT_IMPLEMENTED,
                                       "not implemented: import from a URL (%s)", from_src);
        _cleanup_gerr_ struct gerr *err = NULL;
        if (api_upload_begin(r, import_fn, &err) < 0)
                return api_reply_gerr(r, err);
        return MHD_YES;
}

enum MHD_Result api_images_create(struct api_req *r)
{
        const char *from_image = api_query(r, "fromImage");
        if (from_image != NULL && *from_image != '\0')
                return api_image_pull(r);
        struct api_upload *u = r->up;
        if (u->rc < 0)
                return api_reply_gerr(r, u->err);
        const char *id = json_string_value(u->result);
        if (id != NULL)
                api_image_event(r->eng, "import", id, NULL);
        _cleanup_json_ json_t *lines = json_pack("[{s:s}]", "status", id ? id : "");
        return reply_lines(r, lines);
}
