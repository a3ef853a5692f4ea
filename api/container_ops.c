/* Container routes beside the lifecycle: pause, unpause, rename, update. */
#include "api/http.h"
#include "api/schema.h"

#include "common/cleanup.h"
#include "engine/engine.h"

static enum MHD_Result pause_reply(struct api_req *r, bool pause)
{
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_container_pause(r->eng, r->caps[0], pause, &err) < 0)
                return api_reply_gerr(r, err);
        return api_reply_status(r, MHD_HTTP_NO_CONTENT);
}

enum MHD_Result api_container_pause(struct api_req *r)
{
        return pause_reply(r, true);
}

enum MHD_Result api_container_unpause(struct api_req *r)
{
        return pause_reply(r, false);
}

enum MHD_Result api_container_update(struct api_req *r)
{
        enum MHD_Result res = MHD_NO;
        _cleanup_json_ json_t *body = api_body_json_as(r, &api_schema_update, false, &res);
        if (body == NULL)
                return res;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_container_update(r->eng, r->caps[0], body, &err) < 0)
                return api_reply_gerr(r, err);
        return api_reply_json(r, MHD_HTTP_OK, json_pack("{s:[]}", "Warnings"));
}

enum MHD_Result api_container_rename(struct api_req *r)
{
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_container_rename(r->eng, r->caps[0], api_query(r, "name"), &err) < 0)
                return api_reply_gerr(r, err);
        return api_reply_status(r, MHD_HTTP_NO_CONTENT);
}
