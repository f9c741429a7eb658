/* The API verbs (c8s/verbs.h) on top of c8s_request. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <c8s/verbs.h>

#include "lib/mem.h"

#define CORE(var, res, kind_, ns_)                                             \
    const struct c8s_resource var = {.group = "", .version = "v1",            \
                                     .resource = res, .kind = kind_,          \
                                     .namespaced = ns_}
#define GROUP(var, grp, ver, res, kind_)                                       \
    const struct c8s_resource var = {.group = grp, .version = ver,            \
                                     .resource = res, .kind = kind_,          \
                                     .namespaced = true}

CORE(c8s_res_namespaces, "namespaces", "Namespace", false);
CORE(c8s_res_pods, "pods", "Pod", true);
CORE(c8s_res_services, "services", "Service", true);
CORE(c8s_res_endpoints, "endpoints", "Endpoints", true);
CORE(c8s_res_configmaps, "configmaps", "ConfigMap", true);
CORE(c8s_res_secrets, "secrets", "Secret", true);
CORE(c8s_res_serviceaccounts, "serviceaccounts", "ServiceAccount", true);
CORE(c8s_res_nodes, "nodes", "Node", false);
CORE(c8s_res_events, "events", "Event", true);
CORE(c8s_res_persistentvolumes, "persistentvolumes", "PersistentVolume",
     false);
CORE(c8s_res_persistentvolumeclaims, "persistentvolumeclaims",
     "PersistentVolumeClaim", true);
GROUP(c8s_res_deployments, "apps", "v1", "deployments", "Deployment");
GROUP(c8s_res_replicasets, "apps", "v1", "replicasets", "ReplicaSet");
GROUP(c8s_res_daemonsets, "apps", "v1", "daemonsets", "DaemonSet");
GROUP(c8s_res_statefulsets, "apps", "v1", "statefulsets", "StatefulSet");
GROUP(c8s_res_jobs, "batch", "v1", "jobs", "Job");
GROUP(c8s_res_cronjobs, "batch", "v1", "cronjobs", "CronJob");
GROUP(c8s_res_leases, "coordination.k8s.io", "v1", "leases", "Lease");
GROUP(c8s_res_endpointslices, "discovery.k8s.io", "v1", "endpointslices",
      "EndpointSlice");

static int too_long(struct c8s_error *err)
{
    if (err != NULL) {
        memset(err, 0, sizeof *err);
        err->code = -ENAMETOOLONG;
        snprintf(err->message, sizeof err->message, "object path too long");
    }
    return -ENAMETOOLONG;
}

/* Send and decode the answer into *@ret when asked for. */
static int exchange(struct c8s_client *c, const char *method,
                    const char *path, const char *type, const void *body,
                    size_t len, struct c8s_obj **ret, struct c8s_error *err)
{
    struct c8s_response r = {0};
    int rv = c8s_request(c, method, path, type, body, len, &r, err);

    if (rv == 0 && ret != NULL)
        rv = c8s_obj_from_json(r.body, r.body_len, ret, err);
    c8s_response_clear(&r);
    return rv;
}

int c8s_get(struct c8s_client *c, const struct c8s_resource *r,
            const char *ns, const char *name, struct c8s_obj **ret,
            struct c8s_error *err)
{
    char path[1024];

    *ret = NULL;
    if (c8s_resource_path(r, ns, name, path, sizeof path) != 0)
        return too_long(err);
    return exchange(c, "GET", path, NULL, NULL, 0, ret, err);
}

/* Append "?key=value" (or "&key=value") with the value percent-encoded;
 * false if it does not fit. */
static bool add_query(char *q, size_t size, const char *key, const char *v)
{
    size_t n = strlen(q);
    int m = snprintf(q + n, size - n, "%c%s=",
                     strchr(q, '?') != NULL ? '&' : '?', key);

    if (m < 0 || (size_t)m >= size - n)
        return false;
    n += (size_t)m;
    return c8s_url_escape(v != NULL ? v : "", q + n, size - n) >= 0;
}

int c8s_list(struct c8s_client *c, const struct c8s_resource *r,
             const char *ns, const struct c8s_list_opts *o,
             int (*fn)(void *data, const struct c8s_obj *obj), void *data,
             char *rv, size_t rv_size, struct c8s_error *err)
{
    static const struct c8s_list_opts none = {0};
    char cont[4096] = "", path[1024];
    size_t qsize = 8192;
    char *q = mem_malloc(qsize);
    int rc = 0;

    if (q == NULL)
        return -ENOMEM;
    if (o == NULL)
        o = &none;
    if (c8s_resource_path(r, ns, NULL, path, sizeof path) != 0) {
        mem_free(q);
        return too_long(err);
    }
    do {
        struct c8s_obj *list = NULL;
        const struct c8s_obj *items;

        snprintf(q, qsize, "%s?limit=%d", path, o->limit > 0 ? o->limit : 500);
        if ((o->label_selector != NULL &&
             !add_query(q, qsize, "labelSelector", o->label_selector)) ||
            (o->field_selector != NULL &&
             !add_query(q, qsize, "fieldSelector", o->field_selector)) ||
            (cont[0] != '\0' && !add_query(q, qsize, "continue", cont))) {
            rc = too_long(err);
            break;
        }
        if ((rc = exchange(c, "GET", q, NULL, NULL, 0, &list, err)) != 0)
            break;
        items = c8s_obj_path(list, "items");
        for (size_t i = 0; rc == 0 && i < c8s_obj_len(items); i++)
            rc = fn(data, c8s_obj_at(items, i));
        if (rv != NULL)
            snprintf(rv, rv_size, "%s",
                     c8s_obj_str(c8s_obj_path(list, "metadata.resourceVersion"),
                                 ""));
        snprintf(cont, sizeof cont, "%s",
                 c8s_obj_str(c8s_obj_path(list, "metadata.continue"), ""));
        c8s_obj_free(list);
    } while (rc == 0 && cont[0] != '\0');
    mem_free(q);
    return rc;
}

static const char *ns_of(const struct c8s_obj *o, const char *ns)
{
    const char *own = c8s_obj_str(c8s_obj_path(o, "metadata.namespace"), "");

    return own[0] != '\0' ? own : ns;
}

static int send_obj(struct c8s_client *c, const char *method,
                    const char *path, const struct c8s_obj *o,
                    struct c8s_obj **ret, struct c8s_error *err)
{
    char *body = NULL;
    size_t len;
    int rv;

    if (ret != NULL)
        *ret = NULL;
    if ((rv = c8s_obj_to_json(o, &body, &len)) != 0)
        return rv;
    rv = exchange(c, method, path, "application/json", body, len, ret, err);
    free(body);
    return rv;
}

int c8s_create(struct c8s_client *c, const struct c8s_resource *r,
               const char *ns, const struct c8s_obj *o, struct c8s_obj **ret,
               struct c8s_error *err)
{
    char path[1024];

    if (c8s_resource_path(r, ns_of(o, ns), NULL, path, sizeof path) != 0)
        return too_long(err);
    return send_obj(c, "POST", path, o, ret, err);
}

int c8s_update(struct c8s_client *c, const struct c8s_resource *r,
               const char *ns, const struct c8s_obj *o, struct c8s_obj **ret,
               struct c8s_error *err)
{
    char path[1024];

    if (c8s_resource_path(r, ns_of(o, ns),
                          c8s_obj_str(c8s_obj_path(o, "metadata.name"), ""),
                          path, sizeof path) != 0)
        return too_long(err);
    return send_obj(c, "PUT", path, o, ret, err);
}

int c8s_patch(struct c8s_client *c, const struct c8s_resource *r,
              const char *ns, const char *name, enum c8s_patch_type type,
              const char *patch, size_t len, const char *field_manager,
              struct c8s_obj **ret, struct c8s_error *err)
{
    static const char *const types[] = {
        "application/json-patch+json", "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        "application/apply-patch+yaml"};
    char path[1200];

    if (ret != NULL)
        *ret = NULL;
    if ((unsigned)type > C8S_PATCH_APPLY)
        return -EINVAL;
    if (c8s_resource_path(r, ns, name, path, sizeof path - 160) != 0)
        return too_long(err);
    if (field_manager != NULL &&
        !add_query(path, sizeof path, "fieldManager", field_manager))
        return too_long(err);
    return exchange(c, "PATCH", path, types[type], patch, len, ret, err);
}

int c8s_delete(struct c8s_client *c, const struct c8s_resource *r,
               const char *ns, const char *name, const char *propagation,
               struct c8s_error *err)
{
    char path[1024], body[128];

    if (c8s_resource_path(r, ns, name, path, sizeof path) != 0)
        return too_long(err);
    if (propagation == NULL)
        return exchange(c, "DELETE", path, NULL, NULL, 0, NULL, err);
    snprintf(body, sizeof body,
             "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\","
             "\"propagationPolicy\":\"%.20s\"}",
             propagation);
    return exchange(c, "DELETE", path, "application/json", body,
                    strlen(body), NULL, err);
}
