/* srv_api lifecycle: configuration, start, close. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "api/object/registry.h"
#include "api/server/discovery.h"
#include "api/server/internal.h"
#include "api/server/metrics.h"
#include "api/server/objects.h"
#include "lib/log.h"
#include "lib/mem.h"

/* The host admin.kubeconfig points at: the listen address, or loopback
 * when listening on every address. */
/* --service-cluster-ip-range: an IPv4 network with room for Services. */
static int parse_service_cidr(struct srv_api *api, const char *cidr,
                              struct err *e)
{
    char ip[32];
    const char *slash = strchr(cidr, '/');
    char *end;
    long bits;
    struct in_addr a;

    if (slash == NULL || (size_t)(slash - cidr) >= sizeof ip)
        return err_setf(e, -EINVAL, "--service-cluster-ip-range %s: not an "
                        "IPv4 CIDR such as 10.96.0.0/12", cidr);
    memcpy(ip, cidr, (size_t)(slash - cidr));
    ip[slash - cidr] = '\0';
    bits = strtol(slash + 1, &end, 10);
    if (inet_pton(AF_INET, ip, &a) != 1 || *end != '\0' || end == slash + 1)
        return err_setf(e, -EINVAL, "--service-cluster-ip-range %s: not an "
                        "IPv4 CIDR such as 10.96.0.0/12", cidr);
    if (bits < 8 || bits > 28)
        return err_setf(e, -EINVAL, "--service-cluster-ip-range %s: the "
                        "prefix must be between /8 and /28", cidr);
    api->svc_net = ntohl(a.s_addr);
    api->svc_bits = (unsigned)bits;
    if ((api->svc_net & (0xffffffffu >> bits)) != 0)
        return err_setf(e, -EINVAL, "--service-cluster-ip-range %s: host "
                        "bits are set (the network is %s/%ld?)", cidr, ip,
                        bits);
    a.s_addr = htonl(api->svc_net + 1);
    (void)inet_ntop(AF_INET, &a, api->kube_ip, sizeof api->kube_ip);
    (void)snprintf(api->svc_cidr, sizeof api->svc_cidr, "%s", cidr);
    return 0;
}

static int pick_host(struct srv_api *api, struct err *e)
{
    const char *colon = strrchr(api->listen, ':');
    size_t len = colon != NULL ? (size_t)(colon - api->listen) : 0;
    long port = colon != NULL ? strtol(colon + 1, NULL, 10) : 0;

    if (colon == NULL || len == 0 || len >= sizeof api->host || port <= 0 ||
        port > 65535)
        return err_setf(e, -EINVAL, "--api-listen '%s' is not IP:PORT with a "
                        "port from 1 to 65535", api->listen);
    memcpy(api->host, api->listen, len);
    api->host[len] = '\0';
    if (strcmp(api->host, "0.0.0.0") == 0)
        strcpy(api->host, "127.0.0.1");
    return 0;
}

int srv_api_start(uv_loop_t *loop, struct repl *repl,
                  const struct srv_api_config *cfg, struct srv_api **ret,
                  struct err *e)
{
    struct srv_api *api;
    int rv;

    if (cfg->listen == NULL || cfg->token == NULL || *cfg->token == '\0' ||
        cfg->data_dir == NULL)
        return err_setf(e, -EINVAL, "the API server needs --api-listen, a "
                        "token and a data dir");
    api = mem_calloc(1, sizeof *api);
    if (api == NULL)
        return err_setf(e, -ENOMEM, "out of memory");
    api->loop = loop;
    api->repl = repl;
    api->cfg = *cfg;
    (void)snprintf(api->listen, sizeof api->listen, "%s", cfg->listen);
    (void)snprintf(api->data_dir, sizeof api->data_dir, "%s", cfg->data_dir);
    api->token = mem_strdup(cfg->token);
    api->cfg.token = NULL; /* only api->token holds it, cleansed on free */
    rv = api->token == NULL ? err_setf(e, -ENOMEM, "out of memory")
                            : pick_host(api, e);
    if (rv == 0)
        rv = parse_service_cidr(api, cfg->service_cidr ? cfg->service_cidr
                                                       : "10.96.0.0/12",
                                e);
    if (rv == 0)
        rv = srv_atrest_init(&api->atrest, api->token, cfg->encryption_config,
                             e);
    api->cfg.encryption_config = NULL; /* read now; not kept */
    if (rv == 0)
        rv = srv_authn_init(&api->authn, cfg->token_auth_file,
                            !cfg->no_anonymous, e);
    api->cfg.token_auth_file = NULL;
    if (rv == 0 && cfg->audit_log_path != NULL)
        rv = srv_audit_open(cfg->audit_log_path, cfg->audit_policy_file,
                            &api->audit, e);
    api->cfg.audit_log_path = api->cfg.audit_policy_file = NULL;
    if (rv == 0)
        rv = obj_registry_new(NULL, 0, &api->reg, e);
    if (rv == 0)
        rv = srv_discovery_new(api->reg, api->listen, &api->disc, e);
    if (rv == 0 && (rv = srv_metrics_new(&api->metrics)) != 0)
        err_setf(e, rv, "out of memory");
    if (rv != 0) {
        srv_discovery_free(api->disc);
        obj_openapi_free(api->openapi);
        obj_registry_free(api->reg);
        srv_metrics_free(api->metrics);
        srv_atrest_done(&api->atrest);
        srv_authn_done(&api->authn);
        srv_audit_close(api->audit);
        mem_free(api->token);
        mem_free(api);
        return rv;
    }
    srv__boot_begin(api);
    *ret = api;
    return 0;
}

/* Namespaces every cluster has. Each member tries to create them once it
 * serves; all but the first get AlreadyExists, which is fine. */
static const char *const builtin_namespaces[] = {
    "default", "kube-system", "kube-public", "kube-node-lease",
};

static void ns_created(struct repl_req *req, const struct repl_result *res)
{
    struct srv_api *api = req->data;

    api->repl_busy--;
    if (res->code != 0 && res->code != -C8S_EEXISTS)
        log_warn("api", "creating a built-in namespace: %s, ignoring (the "
                 "next member start tries again)", err_str(res->code));
    if (api->closing)
        srv__work_done(api);
}

static int namespace_object(const char *name, struct obj_buf *out)
{
    char uid[37], ts[32];
    struct obj *ns = obj_map_new(), *meta = obj_map_new();
    struct obj *labels = obj_map_new(), *spec = obj_map_new();
    struct obj *fin = obj_array_new(), *status = obj_map_new();
    int rv = 0;

    srv__uuid(uid);
    srv__timestamp(ts);
    rv |= srv__set_str(ns, "apiVersion", "v1");
    rv |= srv__set_str(ns, "kind", "Namespace");
    rv |= srv__set_str(meta, "name", name);
    rv |= srv__set_str(meta, "uid", uid);
    rv |= srv__set_str(meta, "creationTimestamp", ts);
    rv |= srv__set_str(labels, "kubernetes.io/metadata.name", name);
    rv |= obj_map_set(meta, "labels", labels);
    rv |= obj_map_set(ns, "metadata", meta);
    rv |= obj_array_append(fin, obj_str_new_c("kubernetes"));
    rv |= obj_map_set(spec, "finalizers", fin);
    rv |= obj_map_set(ns, "spec", spec);
    rv |= srv__set_str(status, "phase", "Active");
    rv |= obj_map_set(ns, "status", status);
    if (rv == 0)
        rv = obj_msgpack_encode(ns, out, NULL);
    obj_unref(ns);
    return rv;
}

void srv__boot_done(struct srv_api *api)
{
    for (size_t i = 0; i < 4; i++) {
        struct store_op op = {.type = STORE_OP_CREATE,
                              .resource = "namespaces", .ns = "",
                              .name = builtin_namespaces[i]};
        struct obj_buf b;
        obj_buf_init(&b);
        if (namespace_object(builtin_namespaces[i], &b) == 0) {
            op.value = b.data;
            op.value_len = b.len;
            api->ns_reqs[i].data = api;
            api->ns_reqs[i].cb = ns_created;
            if (repl_submit(api->repl, &api->ns_reqs[i], &op, 1) == 0)
                api->repl_busy++;
        }
        obj_buf_done(&b);
    }
    /* Same batch, after the namespaces: "default" exists first. */
    srv__builtin_service(api);
    srv__authz_defaults(api);
}

bool srv_api_serving(const struct srv_api *api)
{
    return api->step == SRV_BOOT_SERVING;
}

int srv_api_port(const struct srv_api *api)
{
    return api->http != NULL ? srv_http_port(api->http) : 0;
}

void *srv_api_data(const struct srv_api *api)
{
    return api->cfg.data;
}

static void api_free(struct srv_api *api)
{
    void (*cb)(void *) = api->close_cb;
    void *data = api->close_data;

    if (api->tls != NULL)
        SSL_CTX_free(api->tls);
    srv_discovery_free(api->disc);
    obj_openapi_free(api->openapi);
    obj_registry_free(api->reg);
    srv__crd_free(api);
    srv__authz_free(api);
    srv_atrest_done(&api->atrest);
    srv_authn_done(&api->authn);
    srv_audit_close(api->audit);
    srv_metrics_free(api->metrics);
    srv_pki_member_done(&api->member);
    srv_satoken_done(&api->satoken);
    srv_pki_cred_free(api->ca);
    mem_free(api->sealed);
    OPENSSL_cleanse(api->token, strlen(api->token));
    mem_free(api->token);
    mem_free(api);
    if (cb != NULL)
        cb(data);
}

/* Handles still open: the HTTP server and the retry timer. */
static void maybe_free(struct srv_api *api)
{
    if (api->closing && api->http == NULL && !api->retry_open &&
        !api->work_busy && api->repl_busy == 0 && api->handles == 0)
        api_free(api);
}

void srv__work_done(struct srv_api *api)
{
    maybe_free(api);
}

static void http_closed(struct srv_http *srv)
{
    struct srv_api *api = srv_http_data(srv);

    api->http = NULL;
    maybe_free(api);
}

static void retry_closed(uv_handle_t *h)
{
    struct srv_api *api = h->data;

    api->retry_open = false;
    maybe_free(api);
}

static void hook_closed(uv_handle_t *h)
{
    struct srv_api *api = h->data;

    api->handles--;
    maybe_free(api);
}

static void close_hook(struct srv_api *api, uv_handle_t *h, bool *open)
{
    if (!*open)
        return;
    *open = false;
    h->data = api;
    api->handles++;
    uv_close(h, hook_closed);
}

void srv_api_close(struct srv_api *api, void (*cb)(void *data), void *data)
{
    api->closing = true;
    srv__watch_close_all(api);
    close_hook(api, (uv_handle_t *)&api->watch_drain, &api->watch_drain_open);
    close_hook(api, (uv_handle_t *)&api->bookmarks, &api->bookmarks_open);
    close_hook(api, (uv_handle_t *)&api->ep_timer, &api->ep_timer_open);
    close_hook(api, (uv_handle_t *)&api->crd_timer, &api->crd_timer_open);
    api->close_cb = cb;
    api->close_data = data;
    if (api->retry_open) {
        api->retry.data = api;
        uv_close((uv_handle_t *)&api->retry, retry_closed);
    }
    if (api->http != NULL)
        srv_http_close(api->http, http_closed);
    maybe_free(api);
}
