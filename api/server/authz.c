/* Authorization: RBAC over the Roles, ClusterRoles and bindings in this
 * member's store (api/object/rbac.h), and the default roles every cluster
 * starts with.
 *
 * The decision data is rebuilt on the first request after any of the four
 * kinds changed (a store watch per kind notices). The group system:masters
 * (the admin kubeconfig, c8s's own components) may do everything without a
 * lookup, as kube-apiserver's privileged group. Denials are 403 Forbidden
 * worded as kube-apiserver words them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/object/codec.h"
#include "api/object/rbac.h"
#include "api/server/objects.h"
#include "lib/log.h"
#include "lib/mem.h"

static const char *const kinds[4][2] = {
    {"rbac.authorization.k8s.io/roles", "Role"},
    {"rbac.authorization.k8s.io/clusterroles", "ClusterRole"},
    {"rbac.authorization.k8s.io/rolebindings", "RoleBinding"},
    {"rbac.authorization.k8s.io/clusterrolebindings", "ClusterRoleBinding"},
};

/* ---- following the store ---------------------------------------------*/

static void on_change(struct store_watch *w, void *arg)
{
    struct srv_api *api = arg;
    struct store_event ev;
    int rv;

    /* Allowed inside the store's apply: take this watcher's events. */
    while ((rv = store_watch_next(w, &ev)) == 0) {
        if (ev.type != STORE_EV_PROGRESS)
            api->rbac_dirty = true;
        store_event_done(&ev);
    }
    if (rv != -EAGAIN)
        api->rbac_dirty = api->rbac_reopen = true; /* closed: slow, restore */
}

static int open_watches(struct srv_api *api)
{
    for (size_t i = 0; i < 4; i++) {
        struct store_watch_opts o = {.resource = kinds[i][0],
                                     .from_current = true,
                                     .cb = on_change,
                                     .arg = api};
        if (api->rbac_watch[i] != NULL)
            store_watch_close(api->rbac_watch[i]);
        api->rbac_watch[i] = NULL;
        int rv = store_watch_open(repl_store(api->repl), &o,
                                  &api->rbac_watch[i]);
        if (rv != 0)
            return rv;
    }
    api->rbac_reopen = false;
    return 0;
}

static int load_kind(struct srv_api *api, struct obj_rbac *r, size_t k)
{
    const struct obj_resource *res =
        obj_registry_find(api->reg, "rbac.authorization.k8s.io", "v1",
                          kinds[k][0] + strlen("rbac.authorization.k8s.io/"));
    struct store_range q = {.resource = kinds[k][0]};
    struct store_list l = {0};
    int rv = res == NULL ? -ENOENT : store_list(repl_store(api->repl), &q, &l);

    for (size_t i = 0; rv == 0 && i < l.len; i++) {
        struct obj *o = srv__obj_load(api, res, l.items[i], l.items[i]->mod_rev);
        if (o != NULL)
            rv = obj_rbac_add(r, kinds[k][1], o);
        obj_unref(o);
    }
    store_list_done(&l);
    return rv;
}

/* The decision data, rebuilt when stale; NULL when it cannot be. */
static const struct obj_rbac *rbac_of(struct srv_api *api)
{
    struct obj_rbac *r;
    int rv = 0;

    if (api->rbac_reopen && open_watches(api) != 0)
        log_warn("api", "RBAC: cannot watch the roles; rebuilding on every "
                 "request until it can");
    if (api->rbac != NULL && !api->rbac_dirty && !api->rbac_reopen)
        return api->rbac;
    /* From here on the old rules are out of date: a failure denies (all
     * but system:masters) rather than keep granting what was revoked. */
    if ((r = obj_rbac_new()) == NULL)
        return NULL;
    for (size_t k = 0; k < 4 && rv == 0; k++)
        rv = load_kind(api, r, k);
    if (rv == 0)
        rv = obj_rbac_finish(r);
    if (rv != 0) {
        obj_rbac_free(r);
        log_warn("api", "RBAC: rebuilding the rules: %s; denying until it "
                 "works", err_str(rv));
        return NULL;
    }
    obj_rbac_free(api->rbac);
    api->rbac = r;
    api->rbac_dirty = false;
    return r;
}

int srv__authz_start(struct srv_api *api, struct err *e)
{
    int rv = open_watches(api);

    api->rbac_dirty = true;
    if (rv != 0)
        return err_setf(e, rv, "watching RBAC objects: %s", err_str(rv));
    return 0;
}

void srv__authz_free(struct srv_api *api)
{
    for (size_t i = 0; i < 4; i++)
        if (api->rbac_watch[i] != NULL)
            store_watch_close(api->rbac_watch[i]);
    obj_rbac_free(api->rbac);
    api->rbac = NULL;
}

/* ---- decisions ------------------------------------------------------------*/

static bool is_master(const struct srv_user *u)
{
    for (size_t i = 0; i < u->n_groups; i++)
        if (strcmp(u->groups[i], "system:masters") == 0)
            return true;
    return false;
}

/* The Kubernetes verb of a request on a resource: the one the handlers
 * serve it as (resources.c dispatches a collection GET with any watch flag
 * but false or 0 as a watch, and a GET of one object as a get). */
static const char *resource_verb(const struct srv_req *req,
                                 const struct srv_route *r)
{
    const char *m = req->method;
    char w[64] = "";
    bool found;

    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) {
        if (r->name[0] != '\0')
            return "get";
        found = srv_query_get(req->query, "watch", w, sizeof w, NULL);
        if (r->legacy_watch ||
            (found && strcmp(w, "false") != 0 && strcmp(w, "0") != 0))
            return "watch";
        return "list";
    }
    if (strcmp(m, "POST") == 0)
        return "create";
    if (strcmp(m, "PUT") == 0)
        return "update";
    if (strcmp(m, "PATCH") == 0)
        return "patch";
    if (strcmp(m, "DELETE") == 0)
        return r->name[0] != '\0' ? "delete" : "deletecollection";
    return "unknown";
}

static void lower(const char *in, char *out, size_t size)
{
    size_t i;

    for (i = 0; in[i] != '\0' && i + 1 < size; i++)
        out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
    out[i] = '\0';
}

static void forbid(struct srv_req *req, const struct srv_user *u,
                   const struct obj_rbac_attrs *a)
{
    char what[600], where[400];

    if (!a->resource_request) {
        srv__respond_bad(req, 403, "Forbidden",
                         "forbidden: User \"%s\" cannot %s path \"%s\"",
                         u->name, a->verb, a->path);
        return;
    }
    (void)snprintf(what, sizeof what, "%s%s%s%s%s", a->resource,
                   a->api_group[0] ? "." : "", a->api_group,
                   a->name[0] ? " \"" : "", a->name);
    if (a->name[0] != '\0')
        (void)snprintf(what + strlen(what), sizeof what - strlen(what), "\"");
    if (a->ns[0] != '\0')
        (void)snprintf(where, sizeof where, "in the namespace \"%s\"", a->ns);
    else
        (void)snprintf(where, sizeof where, "at the cluster scope");
    srv__respond_bad(req, 403, "Forbidden",
                     "%s is forbidden: User \"%s\" cannot %s resource "
                     "\"%s%s%s\" in API group \"%s\" %s",
                     what, u->name, a->verb, a->resource,
                     a->subresource[0] ? "/" : "", a->subresource,
                     a->api_group, where);
}

/* @a as asked by @u: its name, and its groups (pointed to from @groups,
 * SRV_USER_GROUPS_MAX entries). */
static void as_user(struct obj_rbac_attrs *a, const struct srv_user *u,
                    const char **groups)
{
    for (size_t i = 0; i < u->n_groups; i++)
        groups[i] = u->groups[i];
    a->user = u->name;
    a->groups = groups;
    a->n_groups = u->n_groups;
}

static bool decide(struct srv_api *api, struct srv_req *req,
                   const struct srv_user *u, struct obj_rbac_attrs *a)
{
    const char *groups[SRV_USER_GROUPS_MAX];
    const struct obj_rbac *r;

    if (is_master(u))
        return true;
    as_user(a, u, groups);
    if (srv__authz_node(api, u, a) ||
        ((r = rbac_of(api)) != NULL && obj_rbac_allows(r, a)))
        return true;
    forbid(req, u, a);
    return false;
}

bool srv__authz_verb(struct srv_api *api, struct srv_req *req,
                     const struct srv_user *u, const struct srv_route *r,
                     const char *verb)
{
    struct obj_rbac_attrs a = {
        .verb = verb,
        .resource_request = true,
        .api_group = r->group,
        .resource = r->resource,
        .subresource = r->sub,
        .name = r->name,
        .ns = r->ns,
    };

    return decide(api, req, u, &a);
}

bool srv__authz_call(struct srv_call *c, const char *verb)
{
    struct srv_user u;

    if (srv__user(c->api, c->req, &u) != 0) {
        (void)srv_respond_status(c->req, 401, "Unauthorized", "Unauthorized",
                                 0);
        return false;
    }
    return srv__impersonate(c->api, c->req, &u) &&
           srv__authz_verb(c->api, c->req, &u, &c->route, verb);
}

bool srv__authz_resource(struct srv_api *api, struct srv_req *req,
                         const struct srv_user *u, const struct srv_route *r)
{
    return srv__authz_verb(api, req, u, r, resource_verb(req, r));
}

bool srv__authz_path(struct srv_api *api, struct srv_req *req,
                     const struct srv_user *u)
{
    char verb[16];
    struct obj_rbac_attrs a = {.verb = verb, .path = req->path};

    lower(req->method, verb, sizeof verb);
    return decide(api, req, u, &a);
}

/* Act as the user of the Impersonate-User and Impersonate-Group headers
 * when @u may impersonate them (verb impersonate on users and groups, as
 * kubectl --as and --as-group ask). false: answered 403. */
bool srv__impersonate(struct srv_api *api, struct srv_req *req,
                      struct srv_user *u)
{
    const char *as = srv_req_header(req, "Impersonate-User");
    struct srv_user to = {0};
    struct srv_route r = {.kind = SRV_ROUTE_RESOURCE};

    if (as == NULL) {
        if (srv_req_header(req, "Impersonate-Group") == NULL)
            return true;
        srv__respond_bad(req, 400, "BadRequest", "requested impersonation "
                         "of groups without a user");
        return false;
    }
    /* What is checked must be what is granted: no name cut to fit. */
    for (size_t i = 0; i < req->n_headers; i++)
        if (strncasecmp(req->headers[i].name, "Impersonate-", 12) == 0 &&
            strlen(req->headers[i].value) >= sizeof r.name) {
            srv__respond_bad(req, 400, "BadRequest", "%s: longer than %zu "
                             "bytes", req->headers[i].name,
                             sizeof r.name - 1);
            return false;
        }
    (void)snprintf(r.resource, sizeof r.resource, "users");
    (void)snprintf(r.name, sizeof r.name, "%s", as);
    if (!srv__authz_verb(api, req, u, &r, "impersonate"))
        return false;
    (void)snprintf(to.name, sizeof to.name, "%s", as);
    for (size_t i = 0; i < req->n_headers; i++) {
        const char *g = req->headers[i].value;
        if (strcasecmp(req->headers[i].name, "Impersonate-Group") != 0)
            continue;
        (void)snprintf(r.resource, sizeof r.resource, "groups");
        (void)snprintf(r.name, sizeof r.name, "%s", g);
        if (!srv__authz_verb(api, req, u, &r, "impersonate"))
            return false;
        if (to.n_groups + 1 < SRV_USER_GROUPS_MAX)
            (void)snprintf(to.groups[to.n_groups++], sizeof to.groups[0],
                           "%s", g);
    }
    (void)snprintf(to.groups[to.n_groups++], sizeof to.groups[0],
                   "system:authenticated");
    *u = to;
    return true;
}

/* ---- the default roles ------------------------------------------------------*/

#define CORE_READ                                                            \
    "\"pods\",\"pods/log\",\"pods/status\",\"services\",\"services/status\"," \
    "\"endpoints\",\"configmaps\",\"persistentvolumeclaims\","               \
    "\"persistentvolumeclaims/status\",\"serviceaccounts\",\"events\","       \
    "\"namespaces\",\"namespaces/status\",\"replicationcontrollers\","        \
    "\"limitranges\",\"resourcequotas\",\"bindings\""
#define WORKLOAD_GROUPS                                                      \
    "\"apps\",\"batch\",\"autoscaling\",\"policy\",\"networking.k8s.io\","    \
    "\"discovery.k8s.io\",\"events.k8s.io\",\"coordination.k8s.io\""
#define READ "\"get\",\"list\",\"watch\""
#define WRITE                                                                \
    "\"create\",\"delete\",\"deletecollection\",\"patch\",\"update\""

/* Kubernetes' bootstrap policy, in short: the user-facing roles written
 * out (kube-apiserver builds admin, edit and view by aggregation). */
static const char *const defaults[][2] = {
    {"clusterroles", "{\"metadata\":{\"name\":\"cluster-admin\"},\"rules\":["
                     "{\"apiGroups\":[\"*\"],\"resources\":[\"*\"],"
                     "\"verbs\":[\"*\"]},{\"nonResourceURLs\":[\"*\"],"
                     "\"verbs\":[\"*\"]}]}"},
    {"clusterroles", "{\"metadata\":{\"name\":\"admin\"},\"rules\":["
                     "{\"apiGroups\":[\"*\"],\"resources\":[\"*\"],"
                     "\"verbs\":[\"*\"]}]}"},
    {"clusterroles", "{\"metadata\":{\"name\":\"edit\"},\"rules\":["
                     "{\"apiGroups\":[\"\"],\"resources\":[" CORE_READ
                     ",\"secrets\",\"pods/exec\",\"pods/attach\"],\"verbs\":["
                     READ "," WRITE "]},{\"apiGroups\":[" WORKLOAD_GROUPS
                     "],\"resources\":[\"*\"],\"verbs\":[" READ "," WRITE
                     "]}]}"},
    {"clusterroles", "{\"metadata\":{\"name\":\"view\"},\"rules\":["
                     "{\"apiGroups\":[\"\"],\"resources\":[" CORE_READ
                     "],\"verbs\":[" READ "]},{\"apiGroups\":["
                     WORKLOAD_GROUPS "],\"resources\":[\"*\"],\"verbs\":["
                     READ "]}]}"},
    {"clusterroles", "{\"metadata\":{\"name\":\"system:discovery\"},"
                     "\"rules\":[{\"nonResourceURLs\":[\"/api\",\"/api/*\","
                     "\"/apis\",\"/apis/*\",\"/healthz\",\"/livez\","
                     "\"/readyz\",\"/openapi\",\"/openapi/*\","
                     "\"/swagger-2.0.0.pb-v1\",\"/version\",\"/version/\"],"
                     "\"verbs\":[\"get\"]}]}"},
    {"clusterroles", "{\"metadata\":{\"name\":\"system:public-info-viewer\"},"
                     "\"rules\":[{\"nonResourceURLs\":[\"/healthz\","
                     "\"/livez\",\"/readyz\",\"/version\",\"/version/\"],"
                     "\"verbs\":[\"get\"]}]}"},
    {"clusterroles", "{\"metadata\":{\"name\":\"system:basic-user\"},"
                     "\"rules\":[{\"apiGroups\":[\"authorization.k8s.io\"],"
                     "\"resources\":[\"selfsubjectaccessreviews\","
                     "\"selfsubjectrulesreviews\"],\"verbs\":[\"create\"]}]}"},
    {"clusterrolebindings",
     "{\"metadata\":{\"name\":\"cluster-admin\"},\"roleRef\":{\"apiGroup\":"
     "\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\",\"name\":"
     "\"cluster-admin\"},\"subjects\":[{\"apiGroup\":"
     "\"rbac.authorization.k8s.io\",\"kind\":\"Group\",\"name\":"
     "\"system:masters\"}]}"},
    {"clusterrolebindings",
     "{\"metadata\":{\"name\":\"system:discovery\"},\"roleRef\":{\"apiGroup\":"
     "\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\",\"name\":"
     "\"system:discovery\"},\"subjects\":[{\"apiGroup\":"
     "\"rbac.authorization.k8s.io\",\"kind\":\"Group\",\"name\":"
     "\"system:authenticated\"}]}"},
    {"clusterrolebindings",
     "{\"metadata\":{\"name\":\"system:basic-user\"},\"roleRef\":{\"apiGroup\":"
     "\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\",\"name\":"
     "\"system:basic-user\"},\"subjects\":[{\"apiGroup\":"
     "\"rbac.authorization.k8s.io\",\"kind\":\"Group\",\"name\":"
     "\"system:authenticated\"}]}"},
    {"clusterrolebindings",
     "{\"metadata\":{\"name\":\"system:public-info-viewer\"},\"roleRef\":{"
     "\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\","
     "\"name\":\"system:public-info-viewer\"},\"subjects\":[{\"apiGroup\":"
     "\"rbac.authorization.k8s.io\",\"kind\":\"Group\",\"name\":"
     "\"system:authenticated\"},{\"apiGroup\":\"rbac.authorization.k8s.io\","
     "\"kind\":\"Group\",\"name\":\"system:unauthenticated\"}]}"},
};
#define N_DEFAULTS (sizeof defaults / sizeof defaults[0])

static void default_created(struct repl_req *req, const struct repl_result *res)
{
    struct srv_api *api = req->data;

    api->repl_busy--;
    if (res->code != 0 && res->code != -C8S_EEXISTS)
        log_warn("api", "creating the default RBAC roles: %s (the next "
                 "member start tries again)", err_str(res->code));
    if (api->closing)
        srv__work_done(api);
}

/* One default object, with what a create gives it, encoded. */
static int default_object(const char *json, struct obj_buf *out,
                          char *name, size_t size)
{
    struct obj *o = NULL, *meta, *labels = obj_map_new();
    char uid[37], ts[32];
    int rv = obj_json_decode(json, strlen(json), NULL, &o, NULL);

    srv__uuid(uid);
    srv__timestamp(ts);
    if (rv == 0 && (meta = obj_map_get_mut(o, "metadata")) != NULL &&
        labels != NULL) {
        (void)snprintf(name, size, "%s", srv__str(meta, "name"));
        rv = srv__set_str(meta, "uid", uid);
        rv = rv || srv__set_str(meta, "creationTimestamp", ts);
        rv = rv || srv__set_str(labels, "kubernetes.io/bootstrapping",
                                "rbac-defaults");
        rv = rv || obj_map_set(meta, "labels", labels);
        if (rv == 0)
            labels = NULL;
        rv = rv || obj_msgpack_encode(o, out, NULL);
    } else {
        rv = -ENOMEM;
    }
    obj_unref(labels);
    obj_unref(o);
    return rv != 0 ? -ENOMEM : 0;
}

void srv__authz_defaults(struct srv_api *api)
{
    struct store_op ops[N_DEFAULTS];
    struct obj_buf bufs[N_DEFAULTS];
    char names[N_DEFAULTS][64], prefixes[N_DEFAULTS][64];
    size_t n = 0;

    for (size_t i = 0; i < N_DEFAULTS; i++) {
        obj_buf_init(&bufs[i]);
        if (default_object(defaults[i][1], &bufs[i], names[i],
                           sizeof names[i]) != 0)
            continue;
        (void)snprintf(prefixes[i], sizeof prefixes[i],
                       "rbac.authorization.k8s.io/%s", defaults[i][0]);
        /* One txn each: most exist already after the first start. */
        ops[n] = (struct store_op){.type = STORE_OP_CREATE,
                                   .resource = prefixes[i], .ns = "",
                                   .name = names[i], .value = bufs[i].data,
                                   .value_len = bufs[i].len};
        api->rbac_reqs[n].data = api;
        api->rbac_reqs[n].cb = default_created;
        if (repl_submit(api->repl, &api->rbac_reqs[n], &ops[n], 1) == 0) {
            api->repl_busy++;
            n++;
        }
    }
    for (size_t i = 0; i < N_DEFAULTS; i++)
        obj_buf_done(&bufs[i]);
}

/* ---- SelfSubjectAccessReview, SelfSubjectRulesReview ----------------------*/

static const char *spec_str(const struct obj *o, const char *path)
{
    return obj_str_or(obj_get_path(o, path), "");
}

static int set_new(struct obj *m, const char *key, struct obj *v)
{
    if (obj_map_set(m, key, v) != 0) {
        obj_unref(v);
        return -ENOMEM;
    }
    return 0;
}

/* allowed: would @u be allowed what the review's spec says? */
static bool review_allows(struct srv_api *api, const struct srv_user *u,
                          const struct obj *review)
{
    const char *groups[SRV_USER_GROUPS_MAX];
    const struct obj *ra = obj_get_path(review, "spec.resourceAttributes");
    struct obj_rbac_attrs a = {0};
    const struct obj_rbac *r;

    if (is_master(u))
        return true;
    as_user(&a, u, groups);
    if (ra != NULL) {
        a.resource_request = true;
        a.verb = spec_str(ra, "verb");
        a.api_group = spec_str(ra, "group");
        a.resource = spec_str(ra, "resource");
        a.subresource = spec_str(ra, "subresource");
        a.name = spec_str(ra, "name");
        a.ns = spec_str(ra, "namespace");
    } else {
        a.verb = spec_str(review, "spec.nonResourceAttributes.verb");
        a.path = spec_str(review, "spec.nonResourceAttributes.path");
        a.ns = "";
    }
    return srv__authz_node(api, u, &a) ||
           ((r = rbac_of(api)) != NULL && obj_rbac_allows(r, &a));
}

/* The status of a rules review: the user's rules split in two lists. */
static struct obj *rules_status(struct srv_api *api, const struct srv_user *u,
                                const char *ns)
{
    const char *groups[SRV_USER_GROUPS_MAX];
    struct obj_rbac_attrs a = {.ns = ns};
    struct obj *all = obj_array_new(), *res = obj_array_new();
    struct obj *paths = obj_array_new(), *st = obj_map_new();
    const struct obj_rbac *r = rbac_of(api);
    int rv = all && res && paths && st ? 0 : -ENOMEM;

    as_user(&a, u, groups);
    if (rv == 0 && r != NULL)
        rv = obj_rbac_rules_for(r, &a, all);
    for (size_t i = 0; rv == 0 && i < obj_array_len(all); i++) {
        struct obj *rule = obj_array_get(all, i);
        struct obj *to = obj_map_get(rule, "nonResourceURLs") != NULL ? paths
                                                                      : res;
        if (obj_array_append(to, obj_ref(rule)) != 0) {
            obj_unref(rule);
            rv = -ENOMEM;
        }
    }
    obj_unref(all);
    if (rv == 0 && (rv = set_new(st, "resourceRules", res)) == 0)
        res = NULL;
    if (rv == 0 && (rv = set_new(st, "nonResourceRules", paths)) == 0)
        paths = NULL;
    if (rv == 0)
        rv = set_new(st, "incomplete", obj_bool_new(false));
    obj_unref(res);
    obj_unref(paths);
    if (rv != 0)
        return obj_unref(st);
    return st;
}

void srv__authz_review(struct srv_call *c, struct obj *body)
{
    struct srv_user u;
    struct obj *st = NULL;
    bool rules = strcmp(c->res->resource, "selfsubjectrulesreviews") == 0;
    int rv = srv__user(c->api, c->req, &u);

    /* (authenticate() allowed the impersonation already: no answer here) */
    if (rv == 0 && !srv__impersonate(c->api, c->req, &u)) {
        obj_unref(body);
        srv__call_free(c);
        return;
    }

    if (rv == 0 && rules) {
        st = rules_status(c->api, &u, spec_str(body, "spec.namespace"));
    } else if (rv == 0) {
        bool ok = review_allows(c->api, &u, body);
        st = obj_map_new();
        if (st != NULL && (set_new(st, "allowed", obj_bool_new(ok)) != 0 ||
                           (ok && set_new(st, "reason",
                                          obj_str_new_c(is_master(&u)
                                                            ? "system:masters"
                                                            : "RBAC: allowed")) != 0)))
            st = obj_unref(st);
    }
    if (st == NULL || set_new(body, "status", st) != 0) {
        srv__respond_code(c->req, c->res, NULL, rv != 0 ? rv : -ENOMEM);
        obj_unref(body);
        srv__call_free(c);
        return;
    }
    srv__respond_call_obj(c, 201, body);
    obj_unref(body);
    srv__call_free(c);
}

/* ---- no escalation through roles and bindings -------------------------------
 * As kube-apiserver: a Role or ClusterRole may only grant what its writer
 * holds (or the writer has escalate on it), a binding only a role whose
 * rules its writer holds (or the writer has bind on it); an aggregated
 * ClusterRole needs escalate; a binding's roleRef never changes. */

/* Does @u hold every permission of @rules, in @ns ("" cluster-wide)? */
static bool holds(const struct obj_rbac *r, const struct srv_user *u,
                  const struct obj *rules, const char *ns)
{
    const char *groups[SRV_USER_GROUPS_MAX];
    struct obj_rbac_attrs a = {0};

    as_user(&a, u, groups);
    for (size_t i = 0; i < obj_array_len(rules); i++) {
        const struct obj *rule = obj_array_get(rules, i);
        const struct obj *verbs = obj_map_get(rule, "verbs");
        const struct obj *urls = obj_map_get(rule, "nonResourceURLs");
        const struct obj *gs = obj_map_get(rule, "apiGroups");
        const struct obj *rs = obj_map_get(rule, "resources");
        const struct obj *ns_ = obj_map_get(rule, "resourceNames");

        for (size_t v = 0; v < obj_array_len(verbs); v++) {
            a.verb = obj_str_or(obj_array_get(verbs, v), "");
            a.resource_request = false;
            a.ns = "";
            for (size_t k = 0; k < obj_array_len(urls); k++) {
                a.path = obj_str_or(obj_array_get(urls, k), "");
                if (!obj_rbac_allows(r, &a))
                    return false;
            }
            a.resource_request = true;
            a.ns = ns;
            for (size_t g = 0; g < obj_array_len(gs); g++)
                for (size_t k = 0; k < obj_array_len(rs); k++) {
                    char res[256];
                    const char *slash;
                    (void)snprintf(res, sizeof res, "%s",
                                   obj_str_or(obj_array_get(rs, k), ""));
                    slash = strchr(res, '/');
                    a.subresource = slash != NULL ? slash + 1 : "";
                    if (slash != NULL)
                        res[slash - res] = '\0';
                    a.api_group = obj_str_or(obj_array_get(gs, g), "");
                    a.resource = res;
                    size_t nn = obj_array_len(ns_) ? obj_array_len(ns_) : 1;
                    for (size_t n = 0; n < nn; n++) {
                        a.name = obj_array_len(ns_)
                                     ? obj_str_or(obj_array_get(ns_, n), "")
                                     : "";
                        if (!obj_rbac_allows(r, &a))
                            return false;
                    }
                }
        }
    }
    return true;
}

/* Has @u @verb on the RBAC resource of @c named @name? */
static bool may(struct srv_call *c, const struct srv_user *u, const char *res,
                const char *name, const char *verb)
{
    const char *groups[SRV_USER_GROUPS_MAX];
    const struct obj_rbac *r = rbac_of(c->api);
    struct obj_rbac_attrs a = {.verb = verb,
                               .resource_request = true,
                               .api_group = "rbac.authorization.k8s.io",
                               .resource = res, .subresource = "",
                               .name = name, .ns = c->route.ns};

    as_user(&a, u, groups);
    return r != NULL && obj_rbac_allows(r, &a);
}

int srv__authz_escalation(struct srv_call *c, const struct obj *o,
                          const struct obj *old)
{
    const char *res = c->res->resource;
    bool binding = strcmp(res, "rolebindings") == 0 ||
                   strcmp(res, "clusterrolebindings") == 0;
    const char *ns = c->res->namespaced ? c->route.ns : "";
    const struct obj_rbac *r;
    struct srv_user u;

    if (strcmp(c->res->group, "rbac.authorization.k8s.io") != 0 ||
        c->res->schema != NULL)
        return 0;
    if (binding && old != NULL &&
        !obj_equal(obj_map_get(o, "roleRef"), obj_map_get(old, "roleRef"))) {
        srv__respond_bad(c->req, 422, "Invalid", "%s.rbac.authorization.k8s.io"
                         " \"%s\" is invalid: roleRef: Invalid value: cannot "
                         "change roleRef", res, c->name);
        return -EINVAL;
    }
    if (srv__user(c->api, c->req, &u) != 0 ||
        !srv__impersonate(c->api, c->req, &u))
        return -EACCES; /* answered by authenticate() before; cannot be */
    if (is_master(&u))
        return 0;
    if (binding) {
        const char *kind = obj_str_or(obj_get_path(o, "roleRef.kind"), "");
        const char *name = obj_str_or(obj_get_path(o, "roleRef.name"), "");
        const struct obj *rules;
        if (may(c, &u, strcmp(kind, "Role") == 0 ? "roles" : "clusterroles",
                name, "bind") ||
            ((r = rbac_of(c->api)) != NULL &&
             (rules = obj_rbac_role_rules(r, kind, ns, name)) != NULL &&
             holds(r, &u, rules, ns)))
            return 0;
    } else if (may(c, &u, res, c->name, "escalate") ||
               (obj_map_get(o, "aggregationRule") == NULL &&
                (r = rbac_of(c->api)) != NULL &&
                holds(r, &u, obj_map_get(o, "rules"), ns))) {
        return 0;
    }
    srv__respond_bad(c->req, 403, "Forbidden",
                     "%s.rbac.authorization.k8s.io \"%s\" is forbidden: user "
                     "\"%s\" is attempting to grant RBAC permissions not "
                     "currently held",
                     res, c->name, u.name);
    return -EACCES;
}
