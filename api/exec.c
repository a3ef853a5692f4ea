/* Exec routes: create an exec instance, inspect it, resize its terminal (start is in io.c, beside attach). */
#include "api/http.h"
#include "api/schema.h"

#include <errno.h>
#include <stdlib.h>

#include "common/cleanup.h"
#include "engine/engine.h"

enum MHD_Result api_exec_create(struct api_req *r)
{
        enum MHD_Result res = MHD_NO;
        _cleanup_json_ json_t *body = api_body_json_as(r, &api_schema_exec, false, &res);
        if (body == NULL)
                return res;
        _cleanup_free_ char *id = NULL;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_exec_create(r->eng, r->caps[0], body, &id, &err) < 0)
                return api_reply_gerr(r, err);
        return api_reply_json(r, MHD_HTTP_CREATED, json_pack("{s:s}", "Id", id));
}

enum MHD_Result api_exec_inspect(struct api_req *r)
{
        json_t *out = NULL;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_exec_inspect(r->eng, r->caps[0], &out, &err) < 0)
                return api_reply_gerr(r, err);
        return api_reply_json(r, MHD_HTTP_OK, out);
}

enum MHD_Result api_exec_resize(struct api_req *r)
{
        bool ok = true;
        long long h = api_query_int(r, "h", 0, &ok);
        long long w = api_query_int(r, "w", 0, &ok);
        if (!ok || h < 0 || w < 0 || h > 65535 || w > 65535)
                return api_reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid height or width");
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_exec_resize(r->eng, r->caps[0], (unsigned)h, (unsigned)w, &err) < 0)
                return api_reply_gerr(r, err);
        return api_reply_status(r, MHD_HTTP_OK);
}
