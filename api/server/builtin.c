/* The `kubernetes` Service in `default` and its Endpoints: how workloads
 * find the API. The first member to serve creates the Service (its
 * ClusterIP is the first address of --service-cluster-ip-range, kept for
 * it by the allocator); every member adds its own address to the
 * Endpoints with a compare-and-set update. Removing members
 * that went away is not done yet (Kubernetes uses a lease-based
 * reconciler). */
#include <stdio.h>
#include <string.h>

#include "api/server/objects.h"
#include "lib/container.h"
#include "lib/log.h"
#include "lib/mem.h"

#define MAX_TRIES 10

static void endpoints_step(struct srv_api *api);

static int api_port(const struct srv_api *api)
{
    const char *colon = strrchr(api->listen, ':');

    return colon != NULL ? atoi(colon + 1) : 0;
}

/* {"ip": host} / {"name":"https","port":p,"protocol":"TCP"} */
static struct obj *address(const char *ip)
{
    struct obj *a = obj_map_new();

    if (srv__set_str(a, "ip", ip) != 0)
        return obj_unref(a);
    return a;
}

static struct obj *https_port(int port)
{
    struct obj *p = obj_map_new();

    if (srv__set_str(p, "name", "https") != 0 ||
        obj_map_set(p, "port", obj_int_new(port)) != 0 ||
        srv__set_str(p, "protocol", "TCP") != 0)
        return obj_unref(p);
    return p;
}

static struct obj *base_object(const char *kind)
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
    struct obj *svc = base_object("Service"), *spec = obj_map_new();
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
    endpoints_step(api);
}

static void create_service(struct srv_api *api)
{
    struct obj *svc = service_object(api, api_port(api));
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

/* ---- Endpoints: add this member, compare-and-set -------------------------*/

/* Does @ep already list this member (its host and port)? */
static bool listed(const struct obj *ep, const char *host, int port)
{
    const struct obj *subsets = obj_map_get(ep, "subsets");

    for (size_t i = 0; i < obj_array_len(subsets); i++) {
        const struct obj *s = obj_array_get(subsets, i);
        const char *ip = srv__str(obj_array_get(obj_map_get(s, "addresses"), 0),
                                  "ip");
        int64_t p = obj_int_or(
            obj_map_get(obj_array_get(obj_map_get(s, "ports"), 0), "port"), 0);
        if (strcmp(ip, host) == 0 && p == port)
            return true;
    }
    return false;
}

/* A subset for this member: {addresses: [{ip}], ports: [{https, port}]} */
static struct obj *own_subset(struct srv_api *api)
{
    struct obj *s = obj_map_new(), *addrs = obj_array_new();
    struct obj *ports = obj_array_new();
    int rv = 0;

    rv |= obj_array_append(addrs, address(api->host));
    rv |= obj_array_append(ports, https_port(api_port(api)));
    rv |= obj_map_set(s, "addresses", addrs);
    rv |= obj_map_set(s, "ports", ports);
    return rv == 0 ? s : obj_unref(s);
}

static void endpoints_written(struct repl_req *req,
                              const struct repl_result *res)
{
    struct srv_api *api = req->data;

    api->repl_busy--;
    if (api->closing) {
        srv__work_done(api);
        return;
    }
    if (res->code == 0) {
        log_info("api", "listed in the kubernetes Endpoints at %s:%d",
                 api->host, api_port(api));
        return;
    }
    if (api->ep_tries < MAX_TRIES)
        endpoints_step(api); /* raced another member: read and try again */
    else
        log_warn("api", "cannot add this member to the kubernetes "
                 "Endpoints: %s, ignoring", err_str(res->code));
}

/* Build the new Endpoints from the current one (or none) and propose it. */
static void endpoints_write(struct srv_api *api, const struct store_kv *kv)
{
    struct obj *ep = NULL, *subsets;
    struct obj_buf b;
    struct store_op op = {.resource = "endpoints", .ns = "default",
                          .name = "kubernetes"};

    if (kv != NULL &&
        obj_msgpack_decode(kv->value->data, kv->value->len, NULL, &ep, NULL) != 0)
        return;
    if (ep != NULL && listed(ep, api->host, api_port(api))) {
        obj_unref(ep);
        return;
    }
    if (ep == NULL)
        ep = base_object("Endpoints");
    if (ep == NULL)
        return;
    if (obj_map_get(ep, "subsets") == NULL)
        (void)obj_map_set(ep, "subsets", obj_array_new());
    subsets = obj_map_get_mut(ep, "subsets");
    obj_buf_init(&b);
    if (subsets != NULL && obj_array_append(subsets, own_subset(api)) == 0 &&
        obj_msgpack_encode(ep, &b, NULL) == 0) {
        op.type = kv != NULL ? STORE_OP_UPDATE : STORE_OP_CREATE;
        op.expect_rev = kv != NULL ? kv->mod_rev : 0;
        op.value = b.data;
        op.value_len = b.len;
        api->ep_req.data = api;
        api->ep_req.cb = endpoints_written;
        if (repl_submit(api->repl, &api->ep_req, &op, 1) == 0)
            api->repl_busy++;
    }
    obj_buf_done(&b);
    obj_unref(ep);
}

static void endpoints_read(struct repl_req *req, const struct repl_result *res)
{
    struct srv_api *api = req->data;
    const struct store_kv *kv = NULL;

    api->repl_busy--;
    if (api->closing) {
        srv__work_done(api);
        return;
    }
    if (res->code != 0)
        return;
    if (store_get(repl_store(api->repl), "endpoints", "default", "kubernetes",
                  0, &kv) == 0)
        endpoints_write(api, kv);
    else
        endpoints_write(api, NULL);
    store_kv_unref(kv);
}

static void endpoints_step(struct srv_api *api)
{
    api->ep_tries++;
    api->ep_req.data = api;
    api->ep_req.cb = endpoints_read;
    if (repl_read_index(api->repl, &api->ep_req) == 0)
        api->repl_busy++;
}

void srv__builtin_service(struct srv_api *api)
{
    create_service(api);
}
