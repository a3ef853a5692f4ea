/* Network and volume routes until their drivers land: the built-in host and none networks, no volumes, 404s. */
#include "api/http.h"

#include <string.h>

/* Fixed ids, as dockerd gives each built-in network one id for its lifetime. */
static const struct builtin_net {
        const char *name, *id;
} builtin_nets[] = {
        {"host", "6f8a0b1c2d3e4f5061728394a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e"},
        {"none", "0e1d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100ff"},
};

static json_t *net_json(const struct builtin_net *n)
{
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:n, s:[]}, s:b, s:b, s:b,"
                         " s:{s:s}, s:b, s:{}, s:{}, s:{}}",
                         "Name", n->name, "Id", n->id, "Created", "0001-01-01T00:00:00Z", "Scope",
                         "local", "Driver", n->name, "EnableIPv6", 0, "IPAM", "Driver", "default",
                         "Options", "Config", "Internal", 0, "Attachable", 0, "Ingress", 0,
                         "ConfigFrom", "Network", "", "ConfigOnly", 0, "Containers", "Options",
                         "Labels");
}

/* By full name, full id or unique id prefix, as dockerd looks networks up. */
static const struct builtin_net *net_find(const char *ref)
{
        size_t len = strlen(ref);
        for (size_t i = 0; i < sizeof(builtin_nets) / sizeof(builtin_nets[0]); i++)
                if (strcmp(builtin_nets[i].name, ref) == 0 ||
                    (len > 0 && strncmp(builtin_nets[i].id, ref, len) == 0))
                        return &builtin_nets[i];
        return NULL;
}

enum MHD_Result api_networks_list(struct api_req *r)
{
        json_t *list = json_array();
        for (size_t i = 0; i < sizeof(builtin_nets) / sizeof(builtin_nets[0]); i++)
                json_array_append_new(list, net_json(&builtin_nets[i]));
        return api_reply_json(r, MHD_HTTP_OK, list);
}

enum MHD_Result api_network_inspect(struct api_req *r)
{
        const struct builtin_net *n = net_find(r->caps[0]);
        if (n == NULL)
                return api_reply_error(r, MHD_HTTP_NOT_FOUND, "network %s not found", r->caps[0]);
        return api_reply_json(r, MHD_HTTP_OK, net_json(n));
}

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

enum MHD_Result api_network_delete(struct api_req *r)
{
        const struct builtin_net *n = net_find(r->caps[0]);
        if (n == NULL)
                return api_reply_error(r, MHD_HTTP_NOT_FOUND, "network %s not found", r->caps[0]);
        return api_reply_error(r, MHD_HTTP_FORBIDDEN,
                               "%s is a pre-defined network and cannot be removed", n->name);
}

enum MHD_Result api_plugins_list(struct api_req *r)
{
        return api_reply_json(r, MHD_HTTP_OK, json_array());
}
