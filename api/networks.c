/* Volume and plugin routes until their drivers land: no volumes, no plugins, 404s. */
#include "api/http.h"

enum MHD_Result api_volumes_list(struct api_req *r)
{
        return api_reply_json(r, MHD_HTTP_OK, json_pack("{s:[], s:[]}", "Volumes", "Warnings"));
}

enum MHD_Result api_volume_inspect(struct api_req *r)
{
        return api_reply_error(r, MHD_HTTP_NOT_FOUND, "get %s: no such volume", r->caps[0]);
}

/* Plugins: none are installed. */
enum MHD_Result api_plugin_inspect(struct api_req *r)
{
        return api_reply_error(r, MHD_HTTP_NOT_FOUND, "plugin \"%s\" not found", r->caps[0]);
}

enum MHD_Result api_plugins_list(struct api_req *r)
{
        return api_reply_json(r, MHD_HTTP_OK, json_array());
}
