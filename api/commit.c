/* Routes of a container's filesystem changes: diff, commit, and container and image prune. */
#include "api/http.h"

#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "engine/engine.h"

enum MHD_Result api_container_changes(struct api_req *r)
{
        json_t *out = NULL;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_container_changes(r->eng, r->caps[0], &out, &err) < 0)
                return api_reply_gerr(r, err);
        /* dockerd's nil slice: no change is null, not []. */
        if (json_array_size(out) == 0) {
                json_decref(out);
                out = json_null();
        }
        return api_reply_json(r, MHD_HTTP_OK, out);
}

enum MHD_Result api_commit(struct api_req *r)
{
        const char *ref = api_query(r, "container");
        /* dockerd's DecodeConfig: no body (the CLI sends none) or null keeps the container's
         * config; an object ({} from docker-py) is the new Config, the rest merged in. */
        _cleanup_json_ json_t *body = NULL;
        if (r->body_len > 0 && !(r->body_len == 4 && memcmp(r->body, "null", 4) == 0)) {
                enum MHD_Result res = MHD_NO;
                body = api_body_json(r, false, &res);
                if (body == NULL)
                        return res;
        }
        /* Since API 1.13 an absent pause means pause. */
        const char *pause = api_query(r, "pause");
        size_t n = 0;
        _cleanup_free_ const char **changes = api_query_all(r, "changes", &n);
        struct eng_commit_opts o = {
            .ref = ref ? ref : "",
            .repo = api_query(r, "repo"),
            .tag = api_query(r, "tag"),
            .author = api_query(r, "author"),
            .comment = api_query(r, "comment"),
            .pause = pause == NULL || *pause == '\0' ? true : api_query_bool(r, "pause"),
            .changes = changes,
            .n_changes = n,
            .config = body,
        };
        _cleanup_free_ char *id = NULL;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_container_commit(r->eng, &o, &id, &err) < 0)
                return api_reply_gerr(r, err);
        return api_reply_json(r, MHD_HTTP_CREATED, json_pack("{s:s}", "Id", id));
}

enum MHD_Result api_reply_filtered(struct api_req *r,
                                   int (*fn)(struct eng *, json_t *, json_t **, struct gerr **))
{
        enum MHD_Result res = MHD_NO;
        _cleanup_json_ json_t *filters = api_parse_filters(r, &res);
        if (filters == NULL)
                return res;
        json_t *out = NULL;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (fn(r->eng, json_object_size(filters) ? filters : NULL, &out, &err) < 0)
                return api_reply_gerr(r, err);
        return api_reply_json(r, MHD_HTTP_OK, out);
}

enum MHD_Result api_containers_prune(struct api_req *r)
{
        return api_reply_filtered(r, eng_containers_prune);
}

enum MHD_Result api_images_prune(struct api_req *r)
{
        return api_reply_filtered(r, eng_images_prune);
}
