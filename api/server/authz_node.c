/* The Node authorizer: what a node agent may do, decided from the pods
 * bound to its node, before RBAC (kube-apiserver's --authorization-mode
 * Node,RBAC, in small).
 *
 * A node agent is the user system:node:NAME in the group system:nodes (a
 * certificate CN=system:node:NAME, O=system:nodes, or a token for that
 * user). It may:
 *   - read nodes, pods, services, endpoints and endpointslices (it needs
 *     them to run its pods and program the service proxy);
 *   - create its Node (NodeRestriction checks the name), update and
 *     patch its own Node and its status;
 *   - update and patch the status of pods bound to it, and delete them;
 *   - get the Secrets, ConfigMaps, PersistentVolumeClaims and
 *     ServiceAccounts that pods bound to it name (volumes, projected
 *     sources, env, envFrom, imagePullSecrets, serviceAccountName), one by
 *     one: never list or watch them, never anything of other nodes' pods;
 *   - get, create, update, patch and delete its Lease in kube-node-lease;
 *   - create, update and patch Events.
 * Anything else gets no opinion here and goes to RBAC (which grants a node
 * nothing unless a binding says so). "Bound" is read from this member's
 * store when the request arrives.
 *
 * NodeRestriction admission (srv__node_restriction) adds what a request's
 * attributes cannot say: a node agent creates or writes only the Node and
 * the Lease named after it (names come with the body on a create), and no
 * pods (there are no mirror pods). */
#include <string.h>

#include "api/object/obj.h"
#include "api/object/rbac.h"
#include "api/object/registry.h"
#include "api/server/internal.h"
#include "api/server/objects.h"
#include "raft/repl.h"
#include "store/store.h"

#define NODE_USER_PREFIX "system:node:"
#define NODE_LEASE_NS "kube-node-lease"

/* The node @u is the agent of, or NULL. */
static const char *node_of(const struct srv_user *u)
{
    bool in_nodes = false;

    for (size_t i = 0; i < u->n_groups; i++)
        in_nodes |= strcmp(u->groups[i], "system:nodes") == 0;
    if (!in_nodes || strncmp(u->name, NODE_USER_PREFIX,
                             strlen(NODE_USER_PREFIX)) != 0 ||
        u->name[strlen(NODE_USER_PREFIX)] == '\0')
        return NULL;
    return u->name + strlen(NODE_USER_PREFIX);
}

static bool is(const char *s, const char *want)
{
    return strcmp(s, want) == 0;
}

static bool reads(const char *verb)
{
    return is(verb, "get") || is(verb, "list") || is(verb, "watch");
}

static bool writes(const char *verb)
{
    return is(verb, "update") || is(verb, "patch");
}

static bool path_is(const struct obj *o, const char *path, const char *want)
{
    return is(obj_str_or(obj_get_path(o, path), ""), want);
}

/* Does one of @list's elements have @want at @path? */
static bool any_at(const struct obj *list, const char *path, const char *want)
{
    for (size_t i = 0; i < obj_array_len(list); i++)
        if (path_is(obj_array_get(list, i), path, want))
            return true;
    return false;
}

/* The env and envFrom references of one container. */
static bool container_refers(const struct obj *c, bool secret,
                             const char *name)
{
    const struct obj *env = obj_map_get(c, "env");
    const struct obj *from = obj_map_get(c, "envFrom");

    return any_at(env, secret ? "valueFrom.secretKeyRef.name"
                              : "valueFrom.configMapKeyRef.name",
                  name) ||
           any_at(from, secret ? "secretRef.name" : "configMapRef.name", name);
}

static bool containers_refer(const struct obj *spec, bool secret,
                             const char *name)
{
    static const char *const lists[] = {"containers", "initContainers",
                                        "ephemeralContainers"};

    for (size_t l = 0; l < 3; l++) {
        const struct obj *cs = obj_map_get(spec, lists[l]);
        for (size_t i = 0; i < obj_array_len(cs); i++)
            if (container_refers(obj_array_get(cs, i), secret, name))
                return true;
    }
    return false;
}

/* The volume references, projected sources included. */
static bool volumes_refer(const struct obj *spec, const char *resource,
                          const char *name)
{
    const struct obj *vols = obj_map_get(spec, "volumes");
    bool secret = is(resource, "secrets");

    for (size_t i = 0; i < obj_array_len(vols); i++) {
        const struct obj *v = obj_array_get(vols, i);
        if ((secret && path_is(v, "secret.secretName", name)) ||
            (is(resource, "configmaps") && path_is(v, "configMap.name", name)) ||
            (is(resource, "persistentvolumeclaims") &&
             path_is(v, "persistentVolumeClaim.claimName", name)) ||
            ((secret || is(resource, "configmaps")) &&
             any_at(obj_get_path(v, "projected.sources"),
                    secret ? "secret.name" : "configMap.name", name)))
            return true;
    }
    return false;
}

/* Does @pod need @resource @name to run? */
static bool pod_refers(const struct obj *pod, const char *resource,
                       const char *name)
{
    const struct obj *spec = obj_map_get(pod, "spec");

    if (is(resource, "serviceaccounts"))
        return is(obj_str_or(obj_map_get(spec, "serviceAccountName"),
                             "default"),
                  name);
    if (volumes_refer(spec, resource, name))
        return true;
    if (is(resource, "secrets") &&
        any_at(obj_map_get(spec, "imagePullSecrets"), "name", name))
        return true;
    return (is(resource, "secrets") || is(resource, "configmaps")) &&
           containers_refer(spec, is(resource, "secrets"), name);
}

static const struct obj_resource *pods_of(struct srv_api *api)
{
    return obj_registry_find(api->reg, "", "v1", "pods");
}

/* Is a pod bound to @node (in @ns) referring to @resource @name? */
static bool node_needs(struct srv_api *api, const char *node, const char *ns,
                       const char *resource, const char *name)
{
    const struct obj_resource *pods = pods_of(api);
    struct store_range q = {.resource = "pods", .ns = ns, .field = node};
    struct store_list l = {0};
    bool found = false;

    if (pods == NULL || store_list(repl_store(api->repl), &q, &l) != 0)
        return false;
    for (size_t i = 0; !found && i < l.len; i++) {
        struct obj *p = srv__obj_load(api, pods, l.items[i],
                                      l.items[i]->mod_rev);
        found = p != NULL && path_is(p, "spec.nodeName", node) &&
                pod_refers(p, resource, name);
        obj_unref(p);
    }
    store_list_done(&l);
    return found;
}

/* Is pod @ns/@name bound to @node? */
static bool bound_here(struct srv_api *api, const char *node, const char *ns,
                       const char *name)
{
    struct obj *p = srv__obj_local(api, "pods", ns, name);
    bool here = path_is(p, "spec.nodeName", node);

    obj_unref(p);
    return here;
}

static bool core(struct srv_api *api, const char *node,
                 const struct obj_rbac_attrs *a)
{
    const char *r = a->resource, *sub = a->subresource, *v = a->verb;

    if (is(r, "nodes")) /* create: its own, NodeRestriction checks */
        return ((reads(v) || is(v, "create")) && is(sub, "")) ||
               (writes(v) && is(a->name, node) &&
                (is(sub, "") || is(sub, "status")));
    if (is(r, "pods"))
        return (reads(v) && is(sub, "")) ||
               (((writes(v) && is(sub, "status")) ||
                 (is(v, "delete") && is(sub, ""))) &&
                bound_here(api, node, a->ns, a->name));
    if (is(r, "services") || is(r, "endpoints"))
        return reads(v) && is(sub, "");
    if (is(r, "events"))
        return is(v, "create") || writes(v);
    if (is(r, "secrets") || is(r, "configmaps") ||
        is(r, "persistentvolumeclaims") || is(r, "serviceaccounts"))
        return is(v, "get") && is(sub, "") && a->name[0] != '\0' &&
               node_needs(api, node, a->ns, r, a->name);
    return false;
}

bool srv__authz_node(struct srv_api *api, const struct srv_user *u,
                     const struct obj_rbac_attrs *a)
{
    const char *node = node_of(u);
    const char *g = a->api_group, *r = a->resource, *v = a->verb;

    if (node == NULL || !a->resource_request)
        return false;
    if (is(g, ""))
        return core(api, node, a);
    if (is(g, "coordination.k8s.io") && is(r, "leases"))
        return is(a->ns, NODE_LEASE_NS) && is(a->subresource, "") &&
               ((is(v, "create") && a->name[0] == '\0') ||
                ((is(v, "get") || writes(v) || is(v, "delete")) &&
                 is(a->name, node)));
    if (is(g, "discovery.k8s.io") && is(r, "endpointslices"))
        return reads(v);
    if (is(g, "events.k8s.io") && is(r, "events"))
        return is(v, "create") || writes(v);
    return false;
}

/* ---- NodeRestriction admission --------------------------------------------*/

int srv__node_restriction(struct srv_call *c, const struct obj *o,
                          const struct obj *old)
{
    const char *r = c->res->resource, *g = c->res->group;
    bool node_obj = is(g, "") && is(r, "nodes");
    bool lease = is(g, "coordination.k8s.io") && is(r, "leases") &&
                 is(c->ns, NODE_LEASE_NS);
    bool pod = is(g, "") && is(r, "pods") && old == NULL;
    struct srv_user u;
    const char *node;

    (void)o;
    if (!node_obj && !lease && !pod)
        return 0;
    /* As the Node authorizer saw the request: after impersonation. */
    if (srv__user(c->api, c->req, &u) != 0)
        return 0;
    if (!srv__impersonate(c->api, c->req, &u))
        return -EACCES; /* answered (it was allowed a moment ago) */
    if ((node = node_of(&u)) == NULL)
        return 0; /* not a node agent: RBAC had its say */
    if (pod) {
        srv__respond_bad(c->req, 403, "Forbidden",
                         "pods \"%s\" is forbidden: node \"%s\" can not "
                         "create pods", c->name, node);
        return -EACCES;
    }
    if (!is(c->name, node)) {
        srv__respond_bad(c->req, 403, "Forbidden",
                         "%s \"%s\" is forbidden: node \"%s\" is not allowed "
                         "to modify %s \"%s\"",
                         node_obj ? "nodes" : "leases", c->name, node,
                         node_obj ? "node" : "lease", c->name);
        return -EACCES;
    }
    return 0;
}
