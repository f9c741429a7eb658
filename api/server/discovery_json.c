/* Object trees of the discovery documents.
 *
 * Building is written as chains, m = put(m, key, value): put() and push()
 * take ownership of both arguments and return NULL (having dropped both)
 * when either is NULL or the insertion fails, so the first allocation
 * failure falls through the rest of the chain and comes out as NULL. */
#include <stdio.h>
#include <string.h>

#include "api/server/discovery_internal.h"

static struct obj *str(const char *s)
{
    return obj_str_new_c(s);
}

static struct obj *put(struct obj *m, const char *key, struct obj *v)
{
    if (m != NULL && v != NULL && obj_map_set(m, key, v) == 0)
        return m;
    obj_unref(v);
    return obj_unref(m);
}

static struct obj *push(struct obj *a, struct obj *v)
{
    if (a != NULL && v != NULL && obj_array_append(a, v) == 0)
        return a;
    obj_unref(v);
    return obj_unref(a);
}

/* A NULL-terminated string list as an array. */
static struct obj *str_array(const char *const *list)
{
    struct obj *a = obj_array_new();

    for (; a != NULL && *list != NULL; list++)
        a = push(a, str(*list));
    return a;
}

/* Verb bits as Kubernetes lists them (alphabetically = bit order). */
static struct obj *verbs_array(unsigned verbs)
{
    struct obj *a = obj_array_new();

    for (unsigned i = 0; a != NULL && i < OBJ_VERB_COUNT; i++)
        if (verbs & (1u << i))
            a = push(a, str(obj_verb_name(1u << i)));
    return a;
}

static struct obj *gvk(const struct obj_gvk *k)
{
    struct obj *m = obj_map_new();

    m = put(m, "group", str(k->group));
    m = put(m, "version", str(k->version));
    return put(m, "kind", str(k->kind));
}

/* "apps/v1", or "v1" for the core group, into @buf. */
static const char *group_version(const char *group,
                                 const char *version,
                                 char *buf,
                                 size_t cap)
{
    if (group[0] == '\0')
        return version;
    (void)snprintf(buf, cap, "%s/%s", group, version);
    return buf;
}

/* ---- aggregated (apidiscovery.k8s.io) -------------------------------------*/

static struct obj *agg_subresource(const struct obj_subresource *s)
{
    struct obj *m = obj_map_new();

    m = put(m, "subresource", str(s->name));
    m = put(m, "responseKind", gvk(&s->kind));
    return put(m, "verbs", verbs_array(s->verbs));
}

static struct obj *agg_subresources(const struct obj_subresource *s)
{
    struct obj *a = obj_array_new();

    for (; a != NULL && s->name != NULL; s++)
        a = push(a, agg_subresource(s));
    return a;
}

/* One APIResourceDiscovery. responseKind carries the full group and
 * version (what KUBECTL-WIRE.md 2.2 shows working; kube-apiserver itself
 * leaves them empty when they equal the enclosing group-version, which
 * clients read the same way). Empty lists are left out, as Go's omitempty
 * does. */
static struct obj *agg_resource(const struct obj_resource *r)
{
    struct obj_gvk k = {r->group, r->version, r->kind};
    struct obj *m = obj_map_new();

    m = put(m, "resource", str(r->resource));
    m = put(m, "responseKind", gvk(&k));
    m = put(m, "scope", str(r->namespaced ? "Namespaced" : "Cluster"));
    m = put(m, "singularResource", str(r->singular));
    m = put(m, "verbs", verbs_array(r->verbs));
    if (r->short_names[0] != NULL)
        m = put(m, "shortNames", str_array(r->short_names));
    if (r->categories[0] != NULL)
        m = put(m, "categories", str_array(r->categories));
    if (r->subresources[0].name != NULL)
        m = put(m, "subresources", agg_subresources(r->subresources));
    return m;
}

static struct obj *agg_version(const struct obj_api_version *v)
{
    struct obj *m = obj_map_new();
    struct obj *res = obj_array_new();

    for (size_t i = 0; res != NULL && i < v->n_resources; i++)
        res = push(res, agg_resource(v->resources[i]));
    m = put(m, "version", str(v->version));
    m = put(m, "resources", res);
    return put(m, "freshness", str("Current"));
}

static struct obj *agg_group(const struct obj_api_group *g)
{
    struct obj *m = obj_map_new();
    struct obj *meta = put(obj_map_new(), "name", str(g->name));
    struct obj *vers = obj_array_new();

    for (size_t i = 0; vers != NULL && i < g->n_versions; i++)
        vers = push(vers, agg_version(&g->versions[i]));
    m = put(m, "metadata", meta);
    return put(m, "versions", vers);
}

struct obj *srv__disc_aggregated(const struct obj_registry *reg, bool core)
{
    struct obj *m = obj_map_new();
    struct obj *items = obj_array_new();

    for (size_t i = 0; items != NULL && i < obj_registry_n_groups(reg); i++) {
        const struct obj_api_group *g = obj_registry_group(reg, i);

        if ((g->name[0] == '\0') == core)
            items = push(items, agg_group(g));
    }
    m = put(m, "kind", str("APIGroupDiscoveryList"));
    m = put(m, "apiVersion", str(SRV_DISC_AV_V2));
    m = put(m, "metadata", obj_map_new());
    return put(m, "items", items);
}

/* ---- legacy (meta/v1) ----------------------------------------------------*/

struct obj *srv__disc_api_versions(const struct obj_registry *reg,
                                   const char *server_address)
{
    const struct obj_api_group *core = obj_registry_find_group(reg, "");
    struct obj *m = obj_map_new();
    struct obj *vers = obj_array_new();
    struct obj *addrs = obj_array_new();

    for (size_t i = 0; core != NULL && i < core->n_versions; i++)
        vers = push(vers, str(core->versions[i].version));
    if (server_address != NULL) {
        struct obj *a = put(obj_map_new(), "clientCIDR", str("0.0.0.0/0"));

        a = put(a, "serverAddress", str(server_address));
        addrs = push(addrs, a);
    }
    m = put(m, "kind", str("APIVersions"));
    m = put(m, "versions", vers);
    return put(m, "serverAddressByClientCIDRs", addrs);
}

/* A GroupVersionForDiscovery: {"groupVersion":"apps/v1","version":"v1"}. */
static struct obj *gv_for_discovery(const char *group, const char *version)
{
    char buf[320];
    struct obj *m = obj_map_new();

    m = put(m, "groupVersion",
            str(group_version(group, version, buf, sizeof buf)));
    return put(m, "version", str(version));
}

/* The fields of an APIGroup after its TypeMeta, appended to @m. */
static struct obj *group_fields(struct obj *m, const struct obj_api_group *g)
{
    struct obj *vers = obj_array_new();

    for (size_t i = 0; vers != NULL && i < g->n_versions; i++)
        vers = push(vers, gv_for_discovery(g->name, g->versions[i].version));
    m = put(m, "name", str(g->name));
    m = put(m, "versions", vers);
    /* Versions are in priority order: the first is the preferred one. */
    return put(m, "preferredVersion",
               gv_for_discovery(g->name, g->versions[0].version));
}

struct obj *srv__disc_group_list(const struct obj_registry *reg)
{
    struct obj *m = obj_map_new();
    struct obj *groups = obj_array_new();

    for (size_t i = 0; groups != NULL && i < obj_registry_n_groups(reg); i++) {
        const struct obj_api_group *g = obj_registry_group(reg, i);

        if (g->name[0] != '\0')
            groups = push(groups, group_fields(obj_map_new(), g));
    }
    m = put(m, "kind", str("APIGroupList"));
    m = put(m, "apiVersion", str("v1"));
    return put(m, "groups", groups);
}

struct obj *srv__disc_group(const struct obj_api_group *g)
{
    struct obj *m = obj_map_new();

    m = put(m, "kind", str("APIGroup"));
    m = put(m, "apiVersion", str("v1"));
    return group_fields(m, g);
}

/* One legacy APIResource for a resource. group and version are left out:
 * they are the list's own (omitempty in Go). */
static struct obj *legacy_resource(const struct obj_resource *r)
{
    struct obj *m = obj_map_new();

    m = put(m, "name", str(r->resource));
    m = put(m, "singularName", str(r->singular));
    m = put(m, "namespaced", obj_bool_new(r->namespaced));
    m = put(m, "kind", str(r->kind));
    m = put(m, "verbs", verbs_array(r->verbs));
    if (r->short_names[0] != NULL)
        m = put(m, "shortNames", str_array(r->short_names));
    if (r->categories[0] != NULL)
        m = put(m, "categories", str_array(r->categories));
    return m;
}

/* A subresource entry, "deployments/scale"; group and version only when
 * they differ from the resource's (Scale is autoscaling/v1). */
static struct obj *legacy_subresource(const struct obj_resource *r,
                                      const struct obj_subresource *s)
{
    char name[256];
    struct obj *m = obj_map_new();
    bool other = strcmp(s->kind.group, r->group) != 0 ||
                 strcmp(s->kind.version, r->version) != 0;

    (void)snprintf(name, sizeof name, "%s/%s", r->resource, s->name);
    m = put(m, "name", str(name));
    m = put(m, "singularName", str(""));
    m = put(m, "namespaced", obj_bool_new(r->namespaced));
    if (other) {
        m = put(m, "group", str(s->kind.group));
        m = put(m, "version", str(s->kind.version));
    }
    m = put(m, "kind", str(s->kind.kind));
    return put(m, "verbs", verbs_array(s->verbs));
}

/* A resource followed by its subresources (sorted by name in the table
 * order, which is alphabetical: "scale" before "status"). */
static struct obj *push_resource(struct obj *a, const struct obj_resource *r)
{
    a = push(a, legacy_resource(r));
    for (const struct obj_subresource *s = r->subresources;
         a != NULL && s->name != NULL; s++)
        a = push(a, legacy_subresource(r, s));
    return a;
}

struct obj *srv__disc_resource_list(const struct obj_api_group *g,
                                    const struct obj_api_version *v)
{
    char buf[320];
    struct obj *m = obj_map_new();
    struct obj *res = obj_array_new();

    for (size_t i = 0; res != NULL && i < v->n_resources; i++)
        res = push_resource(res, v->resources[i]);
    m = put(m, "kind", str("APIResourceList"));
    m = put(m, "apiVersion", str("v1"));
    m = put(m, "groupVersion",
            str(group_version(g->name, v->version, buf, sizeof buf)));
    return put(m, "resources", res);
}
