/* Copy and export routes: HEAD/GET/PUT /containers/{id}/archive and GET /containers/{id}/export. */
#include "api/http.h"

#include <errno.h>
#include <nettle/base64.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "engine/engine.h"

#define REF(r) ((r)->caps[0])

/* dockerd's ArchiveFormValues: a missing or empty path is a 400 (its message has no space). */
static const char *path_param(struct api_req *r)
{
        const char *p = api_query(r, "path");
        return p != NULL && *p != '\0' ? p : NULL;
}

static enum MHD_Result no_path(struct api_req *r)
{
        return api_reply_error(r, MHD_HTTP_BAD_REQUEST, "bad parameter: pathcannot be empty");
}

/* X-Docker-Container-Path-Stat: the stat JSON, base64. */
static char *stat_header(json_t *stat)
{
        _cleanup_free_ char *text = json_dumps(stat, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (text == NULL)
                return NULL;
        size_t n = strlen(text);
        char *out = malloc(BASE64_ENCODE_RAW_LENGTH(n) + 1);
        if (out != NULL) {
                base64_encode_raw(out, n, (const uint8_t *)text);
                out[BASE64_ENCODE_RAW_LENGTH(n)] = '\0';
        }
        return out;
}

enum MHD_Result api_container_archive_head(struct api_req *r)
{
        const char *path = path_param(r);
        if (path == NULL)
                return no_path(r);
        _cleanup_gerr_ struct gerr *err = NULL;
        _cleanup_json_ json_t *stat = NULL;
        if (eng_container_stat_path(r->eng, REF(r), path, &stat, &err) < 0)
                return api_reply_gerr(r, err);
        _cleanup_free_ char *hdr = stat_header(stat);
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (resp == NULL || hdr == NULL) {
                if (resp != NULL)
                        MHD_destroy_response(resp);
                return MHD_NO;
        }
        MHD_add_response_header(resp, "X-Docker-Container-Path-Stat", hdr);
        return api_queue(r, MHD_HTTP_OK, resp);
}

struct tar_arg {
        struct eng_archive *a;
        char *what;
};

static void tar_free(void *p)
{
        struct tar_arg *t = p;
        eng_archive_close(t->a);
        free(t->what);
        free(t);
}

static void tar_run(struct api_server *srv, void *p, int fd)
{
        struct tar_arg *t = p;
        _cleanup_gerr_ struct gerr *err = NULL;
        /* Headers are out already: a failure can only cut the stream short, as with dockerd. */
        if (eng_archive_write(t->a, fd, &err) < 0)
                log_debug("api: %s: %s", t->what, err && err->msg ? err->msg : "failed");
}

static enum MHD_Result reply_tar(struct api_req *r, struct eng_archive *a, const char *what,
                                 const char *const *headers)
{
        struct tar_arg *t = calloc(1, sizeof(*t));
        if (t == NULL || (t->what = strdup(what)) == NULL) {
                free(t);
                eng_archive_close(a);
                return MHD_NO;
        }
        t->a = a;
        return api_reply_stream_headers(r, MHD_HTTP_OK, "application/x-tar", headers, tar_run, t,
                                        tar_free);
}

enum MHD_Result api_container_archive_get(struct api_req *r)
{
        const char *path = path_param(r);
        if (path == NULL)
                return no_path(r);
        _cleanup_gerr_ struct gerr *err = NULL;
        _cleanup_json_ json_t *stat = NULL;
        struct eng_archive *a = NULL;
        if (eng_container_archive_open(r->eng, REF(r), path, &a, &stat, &err) < 0)
                return api_reply_gerr(r, err);
        _cleanup_free_ char *hdr = stat_header(stat);
        if (hdr == NULL) {
                eng_archive_close(a);
                return MHD_NO;
        }
        const char *headers[] = {"X-Docker-Container-Path-Stat", hdr, NULL};
        return reply_tar(r, a, "archive", headers);
}

enum MHD_Result api_container_export(struct api_req *r)
{
        _cleanup_gerr_ struct gerr *err = NULL;
        struct eng_archive *a = NULL;
        if (eng_container_export_open(r->eng, REF(r), &a, &err) < 0)
                return api_reply_gerr(r, err);
        return reply_tar(r, a, "export", NULL);
}

static int extract_fn(struct api_req *r, int rfd, struct gerr **err)
{
        struct eng_extract_opts o = {
            .no_overwrite_dir_non_dir = api_query_bool(r, "noOverwriteDirNonDir"),
            .copy_uid_gid = api_query_bool(r, "copyUIDGID"),
        };
        return eng_container_extract(r->eng, REF(r), path_param(r), &o, rfd, err);
}

enum MHD_Result api_container_archive_put_begin(struct api_req *r)
{
        if (path_param(r) == NULL)
                return no_path(r);
        _cleanup_gerr_ struct gerr *err = NULL;
        if (api_upload_begin(r, extract_fn, &err) < 0)
                return api_reply_gerr(r, err);
        return MHD_YES;
}

enum MHD_Result api_container_archive_put(struct api_req *r)
{
        struct api_upload *u = r->up;
        if (u->rc < 0)
                return api_reply_gerr(r, u->err);
        return api_reply_status(r, MHD_HTTP_OK);
}
