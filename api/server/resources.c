/* The /api and /apis trees: discovery and resources. */
#include "api/server/internal.h"

bool srv__serve_api(struct srv_api *api, struct srv_req *req)
{
    (void)api;
    (void)req;
    return false;
}
