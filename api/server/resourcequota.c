/* ResourceQuota admission: the ResourceQuotas of a namespace cap how many
 * objects it holds and how much CPU, memory and ephemeral storage its pods
 * request and limit, as kube-apiserver's ResourceQuota plugin does.
 *
 * For a create in a namespace with quotas, each quota's spec.hard is read:
 *   - object counts: "count/RESOURCE" ("count/RESOURCE.GROUP" outside the
 *     core group), and the core names pods, services, configmaps, secrets,
 *     persistentvolumeclaims, replicationcontrollers and resourcequotas;
 *   - for a Pod, "requests.X" (or plain "X") and "limits.X" for X cpu,
 *     memory and ephemeral-storage: the pod must then set that request or
 *     limit on every container.
 * Usage is counted from this member's store when the write is prepared
 * (pods that Succeeded or Failed do not count), and a create that would
 * go past a hard limit is 403 in kube-apiserver's words. There is no quota
 * controller yet: status.hard is the spec's, status.used is not kept, and
 * creates racing through different members may pass a limit by a few. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/object/obj.h"
#include "api/object/registry.h"
#include "api/server/internal.h"
#include "api/server/objects.h"
#include "raft/repl.h"
#include "store/store.h"

#define MAX_KEYS 32
#define NANO 1000000000LL

static bool is(const char *s, const char *want)
{
    return strcmp(s, want) == 0;
}

/* The compute resource a hard key constrains for pods, and whether it is
 * a limit; NULL when it is not one. */
static const char *compute_of(const char *key, bool *limit)
{
    static const char *const names[] = {"cpu", "memory", "ephemeral-storage"};
    const char *r = key;

    *limit = false;
    if (strncmp(key, "requests.", 9) == 0) {
        r = key + 9;
    } else if (strncmp(key, "limits.", 7) == 0) {
        r = key + 7;
        *limit = true;
    }
    for (size_t i = 0; i < 3; i++)
        if (is(r, names[i]))
            return names[i];
    return NULL;
}

/* Does hard key @key count objects of @res? */
static bool counts(const char *key, const struct obj_resource *res)
{
    static const char *const legacy[] = {
        "pods", "services", "configmaps", "secrets", "persistentvolumeclaims",
        "replicationcontrollers", "resourcequotas",
    };
    char name[300];

    if (res->group[0] == '\0') {
        for (size_t i = 0; i < sizeof legacy / sizeof legacy[0]; i++)
            if (is(key, legacy[i]) && is(res->resource, legacy[i]))
                return true;
        (void)snprintf(name, sizeof name, "count/%s", res->resource);
    } else {
        (void)snprintf(name, sizeof name, "count/%s.%s", res->resource,
                       res->group);
    }
    return is(key, name);
}

static bool terminal(const struct obj *pod)
{
    const char *phase = obj_str_or(obj_get_path(pod, "status.phase"), "");

    return is(phase, "Succeeded") || is(phase, "Failed");
}

/* How much of hard key @key the namespace uses now, @res being what is
 * created. */
static int used(struct srv_api *api, const char *ns, const char *key,
                const struct obj_resource *res, srv_qty *ret)
{
    const struct obj_resource *pods = obj_registry_find(api->reg, "", "v1",
                                                        "pods");
    const struct obj_resource *of = res;
    bool limit, all;
    const char *compute = compute_of(key, &limit);
    struct store_range q = {.ns = ns};
    struct store_list l = {0};
    int rv;

    if (compute != NULL || is(key, "pods"))
        of = pods;
    if (of == NULL)
        return -ENOENT;
    q.resource = of->store_prefix;
    if ((rv = store_list(repl_store(api->repl), &q, &l)) != 0)
        return rv;
    *ret = 0;
    if (of != pods) {
        *ret = (srv_qty)l.len * NANO;
    } else {
        for (size_t i = 0; i < l.len; i++) {
            struct obj *p = srv__obj_load(api, pods, l.items[i],
                                          l.items[i]->mod_rev);
            if (p != NULL && !terminal(p))
                *ret += compute != NULL
                            ? srv__pod_amount(obj_map_get(p, "spec"),
                                              limit ? "limits" : "requests",
                                              compute, &all)
                            : NANO;
            obj_unref(p);
        }
    }
    store_list_done(&l);
    return 0;
}

struct over {
    char key[MAX_KEYS][128];
    srv_qty requested[MAX_KEYS], used[MAX_KEYS], limited[MAX_KEYS];
    size_t n;
};

static int cmp_key(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* "key=value,..." of @o's keys with @values, appended to @out. */
static void append_list(char *out, size_t size, const struct over *o,
                        const srv_qty *values)
{
    size_t n = strlen(out);
    char v[48];

    for (size_t i = 0; i < o->n && n < size; i++) {
        srv_qty_format(values[i], v, sizeof v);
        n += (size_t)snprintf(out + n, size - n, "%s%s=%s", i ? "," : "",
                              o->key[i], v);
    }
}

static void exceeded(struct srv_call *c, const char *quota, struct over *o)
{
    char msg[2048] = "";
    struct over sorted = *o;
    char order[MAX_KEYS][128];

    /* Sort the keys (and their values with them). */
    memcpy(order, o->key, sizeof order);
    qsort(order, o->n, sizeof order[0], cmp_key);
    for (size_t i = 0; i < o->n; i++)
        for (size_t k = 0; k < o->n; k++)
            if (is(order[i], o->key[k])) {
                memcpy(sorted.key[i], o->key[k], sizeof sorted.key[i]);
                sorted.requested[i] = o->requested[k];
                sorted.used[i] = o->used[k];
                sorted.limited[i] = o->limited[k];
            }
    (void)snprintf(msg, sizeof msg, "exceeded quota: %s, requested: ", quota);
    append_list(msg, sizeof msg, &sorted, sorted.requested);
    (void)snprintf(msg + strlen(msg), sizeof msg - strlen(msg), ", used: ");
    append_list(msg, sizeof msg, &sorted, sorted.used);
    (void)snprintf(msg + strlen(msg), sizeof msg - strlen(msg), ", limited: ");
    append_list(msg, sizeof msg, &sorted, sorted.limited);
    srv__respond_bad(c->req, 403, "Forbidden", "%s \"%s\" is forbidden: %s",
                     c->res->resource, c->name, msg);
}

/* Check @o against one quota. 0, or -EACCES answered. */
static int check_quota(struct srv_call *c, const struct obj *quota,
                       const struct obj *o)
{
    const char *qname = obj_str_or(obj_get_path(quota, "metadata.name"), "");
    const struct obj *hard = obj_get_path(quota, "spec.hard");
    bool is_pod = is(c->res->group, "") && is(c->res->resource, "pods");
    struct over over = {.n = 0};

    for (size_t i = 0; i < obj_map_len(hard); i++) {
        size_t kl = 0;
        const char *key = obj_map_key(hard, i, &kl);
        bool limit, all = true;
        const char *compute = compute_of(key, &limit);
        srv_qty cap, now, want;

        if (!srv_qty_parse(obj_str_or(obj_map_getn(hard, key, kl), ""), &cap))
            continue;
        if (compute != NULL && is_pod) {
            want = srv__pod_amount(obj_map_get(o, "spec"),
                                   limit ? "limits" : "requests", compute,
                                   &all);
            if (!all) {
                srv__respond_bad(c->req, 403, "Forbidden",
                                 "pods \"%s\" is forbidden: failed quota: "
                                 "%s: must specify %s",
                                 c->name, qname, key);
                return -EACCES;
            }
        } else if (compute == NULL && counts(key, c->res)) {
            want = NANO;
        } else {
            continue;
        }
        if (used(c->api, c->ns, key, c->res, &now) != 0)
            continue;
        if (now + want > cap && over.n < MAX_KEYS) {
            (void)snprintf(over.key[over.n], sizeof over.key[0], "%.*s",
                           (int)kl, key);
            over.requested[over.n] = want;
            over.used[over.n] = now;
            over.limited[over.n] = cap;
            over.n++;
        }
    }
    if (over.n == 0)
        return 0;
    exceeded(c, qname, &over);
    return -EACCES;
}

/* A new quota's status.hard is its spec.hard (what the quota controller
 * would write first). */
static int quota_status(struct obj *quota)
{
    struct obj *hard = obj_get_path(quota, "spec.hard");
    struct obj *st;

    if (hard == NULL)
        return 0;
    if ((st = srv__map_at(quota, "status")) == NULL)
        return -ENOMEM;
    if (obj_map_set(st, "hard", obj_ref(hard)) != 0) {
        obj_unref(hard);
        return -ENOMEM;
    }
    return 0;
}

int srv__resource_quota(struct srv_call *c, struct obj *o)
{
    const struct obj_resource *res =
        obj_registry_find(c->api->reg, "", "v1", "resourcequotas");
    struct store_range q = {.resource = "resourcequotas", .ns = c->ns};
    struct store_list l = {0};
    int rv = 0;

    if (res == NULL || !c->res->namespaced)
        return 0;
    if (c->res == res && (rv = quota_status(o)) != 0) {
        srv__respond_code(c->req, c->res, c->name, rv);
        return rv;
    }
    if (store_list(repl_store(c->api->repl), &q, &l) != 0 || l.len == 0) {
        store_list_done(&l);
        return 0;
    }
    for (size_t i = 0; i < l.len && rv == 0; i++) {
        struct obj *quota = srv__obj_load(c->api, res, l.items[i],
                                          l.items[i]->mod_rev);
        if (quota != NULL)
            rv = check_quota(c, quota, o);
        obj_unref(quota);
    }
    store_list_done(&l);
    return rv;
}
