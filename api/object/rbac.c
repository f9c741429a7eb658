/* RBAC decisions (rbac.h). */
#include "api/object/rbac.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/object/selector.h"
#include "lib/mem.h"

/* A list of object references. */
struct objs {
    struct obj **v;
    size_t n, cap;
};

struct obj_rbac {
    struct objs roles, croles, rbs, crbs;
    struct objs agg_rules; /* per ClusterRole (same index): the rules of an
                              aggregated role, or NULL */
};

static int objs_push(struct objs *l, struct obj *o)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        void *v = mem_realloc(l->v, ncap * sizeof *l->v);
        if (v == NULL)
            return -ENOMEM;
        l->v = v;
        l->cap = ncap;
    }
    l->v[l->n++] = o != NULL ? obj_ref(o) : NULL;
    return 0;
}

static void objs_done(struct objs *l)
{
    for (size_t i = 0; i < l->n; i++)
        obj_unref(l->v[i]);
    mem_free(l->v);
}

struct obj_rbac *obj_rbac_new(void)
{
    return mem_calloc(1, sizeof(struct obj_rbac));
}

void obj_rbac_free(struct obj_rbac *r)
{
    if (r == NULL)
        return;
    objs_done(&r->roles);
    objs_done(&r->croles);
    objs_done(&r->rbs);
    objs_done(&r->crbs);
    objs_done(&r->agg_rules);
    mem_free(r);
}

int obj_rbac_add(struct obj_rbac *r, const char *kind, struct obj *o)
{
    if (strcmp(kind, "Role") == 0)
        return objs_push(&r->roles, o);
    if (strcmp(kind, "ClusterRole") == 0)
        return objs_push(&r->croles, o);
    if (strcmp(kind, "RoleBinding") == 0)
        return objs_push(&r->rbs, o);
    if (strcmp(kind, "ClusterRoleBinding") == 0)
        return objs_push(&r->crbs, o);
    return 0;
}

static const char *str_at(const struct obj *o, const char *path)
{
    return obj_str_or(obj_get_path(o, path), "");
}

/* The rules of every ClusterRole an aggregated role's selectors match. */
static struct obj *aggregate(const struct obj_rbac *r, const struct obj *role)
{
    const struct obj *sels =
        obj_get_path(role, "aggregationRule.clusterRoleSelectors");
    struct obj *rules = obj_array_new();

    for (size_t s = 0; rules != NULL && s < obj_array_len(sels); s++) {
        struct obj_lsel *sel = NULL;
        if (obj_lsel_from_obj(obj_array_get(sels, s), &sel, NULL) != 0)
            continue; /* a bad selector selects nothing */
        for (size_t i = 0; i < r->croles.n && rules != NULL; i++) {
            const struct obj *c = r->croles.v[i];
            const struct obj *cr = obj_map_get(c, "rules");
            if (c == role || obj_get_path(c, "aggregationRule") != NULL ||
                !obj_lsel_match_obj(sel, c))
                continue;
            for (size_t k = 0; k < obj_array_len(cr); k++)
                if (obj_array_append(rules, obj_ref(obj_array_get(cr, k))) !=
                    0) {
                    obj_unref(obj_array_get(cr, k));
                    rules = obj_unref(rules);
                    break;
                }
        }
        obj_lsel_free(sel);
    }
    return rules;
}

int obj_rbac_finish(struct obj_rbac *r)
{
    for (size_t i = 0; i < r->croles.n; i++) {
        struct obj *rules = NULL;
        if (obj_get_path(r->croles.v[i], "aggregationRule") != NULL &&
            (rules = aggregate(r, r->croles.v[i])) == NULL)
            return -ENOMEM;
        int rv = objs_push(&r->agg_rules, rules);
        obj_unref(rules); /* the list holds its own */
        if (rv != 0)
            return rv;
    }
    return 0;
}

/* ---- matching ------------------------------------------------------------*/

static bool list_has(const struct obj *l, const char *s)
{
    for (size_t i = 0; i < obj_array_len(l); i++) {
        const char *e = obj_str_or(obj_array_get(l, i), "");
        if (strcmp(e, "*") == 0 || strcmp(e, s) == 0)
            return true;
    }
    return false;
}

static bool path_matches(const struct obj *urls, const char *path)
{
    for (size_t i = 0; i < obj_array_len(urls); i++) {
        const char *u = obj_str_or(obj_array_get(urls, i), "");
        size_t n = strlen(u);
        if (strcmp(u, path) == 0 ||
            (n > 0 && u[n - 1] == '*' && strncmp(u, path, n - 1) == 0))
            return true;
    }
    return false;
}

static bool resource_matches(const struct obj *res,
                             const struct obj_rbac_attrs *a)
{
    char both[512];

    if (a->subresource[0] == '\0')
        return list_has(res, a->resource);
    (void)snprintf(both, sizeof both, "%s/%s", a->resource, a->subresource);
    /* A star alone is every resource and subresource; star, slash,
     * status: the status of every resource (Kubernetes has no
     * resource-slash-star). */
    for (size_t i = 0; i < obj_array_len(res); i++) {
        const char *e = obj_str_or(obj_array_get(res, i), "");
        if (strcmp(e, "*") == 0 || strcmp(e, both) == 0 ||
            (e[0] == '*' && e[1] == '/' && strcmp(e + 2, a->subresource) == 0))
            return true;
    }
    return false;
}

static bool rule_matches(const struct obj *rule, const struct obj_rbac_attrs *a)
{
    const struct obj *names = obj_map_get(rule, "resourceNames");

    if (!list_has(obj_map_get(rule, "verbs"), a->verb))
        return false;
    if (!a->resource_request)
        return path_matches(obj_map_get(rule, "nonResourceURLs"), a->path);
    if (!list_has(obj_map_get(rule, "apiGroups"), a->api_group) ||
        !resource_matches(obj_map_get(rule, "resources"), a))
        return false;
    return obj_array_len(names) == 0 ||
           (a->name[0] != '\0' && list_has(names, a->name) &&
            strcmp(a->verb, "list") != 0 && strcmp(a->verb, "watch") != 0 &&
            strcmp(a->verb, "create") != 0 &&
            strcmp(a->verb, "deletecollection") != 0);
}

/* Whether a binding's subjects name the user or one of its groups. */
static bool names_user(const struct obj *binding, const struct obj_rbac_attrs *a)
{
    const struct obj *subs = obj_map_get(binding, "subjects");

    for (size_t i = 0; i < obj_array_len(subs); i++) {
        const struct obj *s = obj_array_get(subs, i);
        const char *kind = str_at(s, "kind"), *name = str_at(s, "name");
        char sa[600];

        if (strcmp(kind, "User") == 0 && strcmp(name, a->user) == 0)
            return true;
        if (strcmp(kind, "Group") == 0)
            for (size_t g = 0; g < a->n_groups; g++)
                if (strcmp(name, a->groups[g]) == 0)
                    return true;
        if (strcmp(kind, "ServiceAccount") == 0) {
            (void)snprintf(sa, sizeof sa, "system:serviceaccount:%s:%s",
                           str_at(s, "namespace"), name);
            if (strcmp(sa, a->user) == 0)
                return true;
        }
    }
    return false;
}

/* The rules of the role a binding in @ns ("" for cluster) refers to. */
static const struct obj *rules_of(const struct obj_rbac *r,
                                  const struct obj *binding, const char *ns)
{
    const char *kind = str_at(binding, "roleRef.kind");
    const char *name = str_at(binding, "roleRef.name");

    if (strcmp(kind, "ClusterRole") == 0) {
        for (size_t i = 0; i < r->croles.n; i++)
            if (strcmp(str_at(r->croles.v[i], "metadata.name"), name) == 0)
                return i < r->agg_rules.n && r->agg_rules.v[i] != NULL
                           ? r->agg_rules.v[i]
                           : obj_map_get(r->croles.v[i], "rules");
        return NULL;
    }
    if (strcmp(kind, "Role") == 0 && ns[0] != '\0')
        for (size_t i = 0; i < r->roles.n; i++)
            if (strcmp(str_at(r->roles.v[i], "metadata.name"), name) == 0 &&
                strcmp(str_at(r->roles.v[i], "metadata.namespace"), ns) == 0)
                return obj_map_get(r->roles.v[i], "rules");
    return NULL;
}

const struct obj *obj_rbac_role_rules(const struct obj_rbac *r,
                                      const char *kind, const char *ns,
                                      const char *name)
{
    for (size_t i = 0; strcmp(kind, "ClusterRole") == 0 && i < r->croles.n;
         i++)
        if (strcmp(str_at(r->croles.v[i], "metadata.name"), name) == 0)
            return i < r->agg_rules.n && r->agg_rules.v[i] != NULL
                       ? r->agg_rules.v[i]
                       : obj_map_get(r->croles.v[i], "rules");
    for (size_t i = 0; strcmp(kind, "Role") == 0 && i < r->roles.n; i++)
        if (strcmp(str_at(r->roles.v[i], "metadata.name"), name) == 0 &&
            strcmp(str_at(r->roles.v[i], "metadata.namespace"), ns) == 0)
            return obj_map_get(r->roles.v[i], "rules");
    return NULL;
}

/* Call @fn on the rules of every binding that applies to @a; stops when it
 * returns true. */
static bool each_rules(const struct obj_rbac *r, const struct obj_rbac_attrs *a,
                       bool (*fn)(const struct obj *rules, void *arg),
                       void *arg)
{
    for (size_t i = 0; i < r->crbs.n; i++) {
        const struct obj *b = r->crbs.v[i];
        const struct obj *rules;
        if (names_user(b, a) &&
            strcmp(str_at(b, "roleRef.kind"), "ClusterRole") == 0 &&
            (rules = rules_of(r, b, "")) != NULL && fn(rules, arg))
            return true;
    }
    for (size_t i = 0; a->ns[0] != '\0' && i < r->rbs.n; i++) {
        const struct obj *b = r->rbs.v[i];
        const struct obj *rules;
        if (strcmp(str_at(b, "metadata.namespace"), a->ns) == 0 &&
            names_user(b, a) && (rules = rules_of(r, b, a->ns)) != NULL &&
            fn(rules, arg))
            return true;
    }
    return false;
}

static bool any_rule_matches(const struct obj *rules, void *arg)
{
    const struct obj_rbac_attrs *a = arg;

    for (size_t i = 0; i < obj_array_len(rules); i++)
        if (rule_matches(obj_array_get(rules, i), a))
            return true;
    return false;
}

bool obj_rbac_allows(const struct obj_rbac *r, const struct obj_rbac_attrs *a)
{
    /* A RoleBinding grants nothing on non-resource paths or outside its
     * namespace: each_rules only offers it for a->ns. */
    struct obj_rbac_attrs only = *a;

    if (!a->resource_request)
        only.ns = "";
    return each_rules(r, &only, any_rule_matches, &only);
}

struct collect {
    struct obj *out;
    int rv;
};

static bool collect_rules(const struct obj *rules, void *arg)
{
    struct collect *c = arg;

    for (size_t i = 0; i < obj_array_len(rules) && c->rv == 0; i++) {
        struct obj *rule = obj_array_get(rules, i);
        if (obj_array_append(c->out, obj_ref(rule)) != 0) {
            obj_unref(rule);
            c->rv = -ENOMEM;
        }
    }
    return c->rv != 0;
}

int obj_rbac_rules_for(const struct obj_rbac *r, const struct obj_rbac_attrs *a,
                       struct obj *rules)
{
    struct collect c = {rules, 0};

    (void)each_rules(r, a, collect_rules, &c);
    return c.rv;
}
