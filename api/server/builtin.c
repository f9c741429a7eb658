/* The `kubernetes` Service in `default`: how workloads find the API. The
 * first member to serve creates it (its ClusterIP is the first address of
 * --service-cluster-ip-range, kept for it by the allocator); its Endpoints
 * follow the serving members (endpoints.c). */
#include <stdio.h>
#include <string.h>

#include "api/server/objects.h"
#include "lib/container.h"
#include "lib/log.h"
#include "lib/mem.h"


/* {"name":"https","port":p,"protocol":"TCP"} */
static struct obj *https_port(int port)
{
    struct obj *p = obj_map_new();

    if (srv__set_str(p, "name", "https") != 0 ||
        obj_map_set(p, "port", obj_int_new(port)) != 0 ||
        srv__set_str(p, "protocol", "TCP") != 0)
        return obj_unref(p);
    return p;
}

struct obj *srv__builtin_object(const char *kind)
{
    char uid[37], ts[32];
    struct obj *o = obj_map_new(), *meta = obj_map_new();
    struct obj *labels = obj_map_new();
    int rv = 0;

    srv__uuid(uid);
    srv__timestamp(ts);
    rv |= srv__set_str(o, "apiVersion", "v1");
    rv |= srv__set_str(o, "kind", kind);
    rv |= srv__set_str(meta, "name", "kubernetes");
    rv |= srv__set_str(meta, "namespace", "default");
    rv |= srv__set_str(meta, "uid", uid);
    rv |= srv__set_str(meta, "creationTimestamp", ts);
    rv |= srv__set_str(labels, "component", "apiserver");
    rv |= srv__set_str(labels, "provider", "kubernetes");
    rv |= obj_map_set(meta, "labels", labels);
    rv |= obj_map_set(o, "metadata", meta);
    return rv == 0 ? o : obj_unref(o);
}

static struct obj *service_object(const struct srv_api *api, int port)
{
    struct obj *svc = srv__builtin_object("Service"), *spec = obj_map_new();
    struct obj *ips = obj_array_new(), *ports = obj_array_new();
    struct obj *p = https_port(443);
    int rv = svc == NULL || p == NULL;

    rv |= obj_map_set(p, "targetPort", obj_int_new(port));
    rv |= srv__set_str(spec, "type", "ClusterIP");
    rv |= srv__set_str(spec, "clusterIP", api->kube_ip);
    rv |= obj_array_append(ips, obj_str_new_c(api->kube_ip));
    rv |= obj_map_set(spec, "clusterIPs", ips);
    rv |= obj_array_append(ports, p);
    rv |= obj_map_set(spec, "ports", ports);
    rv |= srv__set_str(spec, "sessionAffinity", "None");
    rv |= obj_map_set(svc, "spec", spec);
    return rv == 0 ? svc : obj_unref(svc);
}

static void service_done(struct repl_req *req, const struct repl_result *res)
{
    struct srv_api *api = req->data;

    api->repl_busy--;
    if (res->code != 0 && res->code != -C8S_EEXISTS)
        log_warn("api", "creating the kubernetes Service: %s, ignoring",
                 err_str(res->code));
    if (api->closing) {
        srv__work_done(api);
        return;
    }
    srv__endpoints_start(api);
}

static void create_service(struct srv_api *api)
{
    struct obj *svc = service_object(api, srv_api_port(api));
    struct obj_buf b;
    const char *owner = "default/kubernetes";
    struct store_op ops[2] = {
        {.type = STORE_OP_CREATE, .resource = "~clusterip", .ns = "",
         .name = api->kube_ip, .value = owner, .value_len = strlen(owner)},
        {.type = STORE_OP_CREATE, .resource = "services", .ns = "default",
         .name = "kubernetes"},
    };

    obj_buf_init(&b);
    if (svc != NULL && obj_msgpack_encode(svc, &b, NULL) == 0) {
        ops[1].value = b.data;
        ops[1].value_len = b.len;
        api->svc_req.data = api;
        api->svc_req.cb = service_done;
        if (repl_submit(api->repl, &api->svc_req, ops, 2) == 0)
            api->repl_busy++;
    }
    obj_buf_done(&b);
    obj_unref(svc);
}

void srv__builtin_service(struct srv_api *api)
{
    create_service(api);
}
