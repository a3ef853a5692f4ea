/* Swarm routes until the cluster lands: dockerd's answer on a node outside any swarm. */
#include "api/http.h"

enum MHD_Result api_swarm_inactive(struct api_req *r)
{
        return api_reply_error(
            r, MHD_HTTP_SERVICE_UNAVAILABLE,
            "This node is not a swarm manager. Use \"docker swarm init\" or "
            "\"docker swarm join\" to connect this node to swarm and try again.");
}
