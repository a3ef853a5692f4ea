/* /networks routes: list, inspect, create, remove, prune, connect, disconnect. */
#include "api/http.h"

#include "common/cleanup.h"
#include "engine/engine.h"

enum MHD_Result api_networks_list(struct api_req *r)
{
        return api_reply_filtered(r, eng_network_list);
}

enum MHD_Result api_network_inspect(struct api_req *r)
{
        json_t *out = NULL;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_network_inspect(r->eng, r->caps[0], &out, &err) < 0)
                return api_reply_gerr(r, err);
        return api_reply_json(r, MHD_HTTP_OK, out);
}

enum MHD_Result api_network_create(struct api_req *r)
{
        enum MHD_Result res = MHD_NO;
        _cleanup_json_ json_t *body = api_body_json(r, false, &res);
        if (body == NULL)
                return res;
        _cleanup_free_ char *id = NULL;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_network_create(r->eng, body, &id, &err) < 0)
                return api_reply_gerr(r, err);
        return api_reply_json(r, MHD_HTTP_CREATED, json_pack("{s:s, s:s}", "Id", id, "Warning", ""));
}

enum MHD_Result api_network_delete(struct api_req *r)
{
        _cleanup_gerr_ struct gerr *err = NULL;
        if (eng_network_remove(r->eng, r->caps[0], &err) < 0)
                return api_reply_gerr(r, err);
        return api_reply_status(r, MHD_HTTP_NO_CONTENT);
}

enum MHD_Result api_networks_prune(struct api_req *r)
{
        return api_reply_filtered(r, eng_network_prune);
}

static enum MHD_Result connect_or_not(struct api_req *r, bool connect)
{
        enum MHD_Result res = MHD_NO;
        _cleanup_json_ json_t *body = api_body_json(r, false, &res);
        if (body == NULL)
                return res;
        _cleanup_gerr_ struct gerr *err = NULL;
        int rc = connect ? eng_network_connect(r->eng, r->caps[0], body, &err)
                         : eng_network_disconnect(r->eng, r->caps[0], body, &err);
        if (rc < 0)
                return api_reply_gerr(r, err);
        return api_reply_status(r, MHD_HTTP_OK);
}

enum MHD_Result api_network_connect(struct api_req *r)
{
        return connect_or_not(r, true);
}

enum MHD_Result api_network_disconnect(struct api_req *r)
{
        return connect_or_not(r, false);
}
