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

/* One binding's grant, filed under each subject it names. */
struct grant {
    const struct obj *binding; /* the binding (to count it once) */
    const char *ns;            /* its namespace; "" for a cluster binding */
    const struct obj *rules;   /* the rules of the role it refers to */
};

/* A slot of a string-keyed open-addressing table: roles by "C:name" and
 * "R:ns/name" (@rules), subjects by "U:user" and "G:group" (@grants). */
struct slot {
    char *key;                 /* NULL: empty */
    const struct obj *rules;
    struct grant *grants;
    size_t n, cap;
};

struct table {
    struct slot *slots;
    size_t cap, used;          /* cap: a power of two, or 0 */
};

struct obj_rbac {
    struct objs roles, croles, rbs, crbs;
    struct objs agg_rules; /* per ClusterRole (same index): the rules of an
                              aggregated role, or NULL */
    struct table role_index;    /* built by obj_rbac_finish() */
    struct table subject_index; /* built by obj_rbac_finish() */
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

/* ---- tables ---------------------------------------------------------------*/

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static struct slot *table_probe(const struct table *t, const char *key)
{
    size_t i = (size_t)hash_str(key) & (t->cap - 1);

    while (t->slots[i].key != NULL && strcmp(t->slots[i].key, key) != 0)
        i = (i + 1) & (t->cap - 1);
    return &t->slots[i];
}

static const struct slot *table_get(const struct table *t, const char *key)
{
    const struct slot *s = t->cap > 0 ? table_probe(t, key) : NULL;

    return s != NULL && s->key != NULL ? s : NULL;
}

static int table_grow(struct table *t)
{
    struct table n = {.cap = t->cap ? t->cap * 2 : 64};

    n.slots = mem_calloc(n.cap, sizeof *n.slots);
    if (n.slots == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].key != NULL)
            *table_probe(&n, t->slots[i].key) = t->slots[i];
    n.used = t->used;
    mem_free(t->slots);
    *t = n;
    return 0;
}

/* The slot of @key, added if missing; NULL when out of memory. */
static struct slot *table_put(struct table *t, const char *key)
{
    struct slot *s;

    if ((t->used + 1) * 2 > t->cap && table_grow(t) != 0)
        return NULL;
    s = table_probe(t, key);
    if (s->key == NULL) {
        size_t n = strlen(key) + 1;
        if ((s->key = mem_malloc(n)) == NULL)
            return NULL;
        memcpy(s->key, key, n);
        t->used++;
    }
    return s;
}

static void table_done(struct table *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        mem_free(t->slots[i].key);
        mem_free(t->slots[i].grants);
    }
    mem_free(t->slots);
    memset(t, 0, sizeof *t);
}

static int slot_add_grant(struct slot *s, const struct grant *g)
{
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 4;
        struct grant *v = mem_realloc(s->grants, ncap * sizeof *v);
        if (v == NULL)
            return -ENOMEM;
        s->grants = v;
        s->cap = ncap;
    }
    s->grants[s->n++] = *g;
    return 0;
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
    table_done(&r->role_index);
    table_done(&r->subject_index);
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

/* ---- indexes ----------------------------------------------------------------
 * Built once per rebuild, so a decision looks at the bindings naming the
 * user or one of its groups only, and finds roles by name in one probe. */

/* @out: "C:name" for a ClusterRole, "R:ns/name" for a Role. */
static void role_key(char *out, size_t size, bool cluster, const char *ns,
                     const char *name)
{
    if (cluster)
        (void)snprintf(out, size, "C:%s", name);
    else
        (void)snprintf(out, size, "R:%s/%s", ns, name);
}

static int index_roles(struct obj_rbac *r)
{
    char key[1200];
    struct slot *s;

    for (size_t i = 0; i < r->croles.n; i++) {
        role_key(key, sizeof key, true, "",
                 str_at(r->croles.v[i], "metadata.name"));
        if ((s = table_put(&r->role_index, key)) == NULL)
            return -ENOMEM;
        s->rules = i < r->agg_rules.n && r->agg_rules.v[i] != NULL
                       ? r->agg_rules.v[i]
                       : obj_map_get(r->croles.v[i], "rules");
    }
    for (size_t i = 0; i < r->roles.n; i++) {
        role_key(key, sizeof key, false,
                 str_at(r->roles.v[i], "metadata.namespace"),
                 str_at(r->roles.v[i], "metadata.name"));
        if ((s = table_put(&r->role_index, key)) == NULL)
            return -ENOMEM;
        s->rules = obj_map_get(r->roles.v[i], "rules");
    }
    return 0;
}

/* The rules of the role @binding (in @ns, "" for cluster) refers to. A
 * RoleBinding may name a Role of its namespace or a ClusterRole; a
 * ClusterRoleBinding only a ClusterRole. */
static const struct obj *binding_rules(const struct obj_rbac *r,
                                       const struct obj *binding,
                                       const char *ns)
{
    const char *kind = str_at(binding, "roleRef.kind");
    bool cluster = strcmp(kind, "ClusterRole") == 0;
    const struct slot *s;
    char key[1200];

    if (!cluster && (strcmp(kind, "Role") != 0 || ns[0] == '\0'))
        return NULL;
    role_key(key, sizeof key, cluster, ns, str_at(binding, "roleRef.name"));
    s = table_get(&r->role_index, key);
    return s != NULL ? s->rules : NULL;
}

/* The subject key of one entry of a binding's subjects: "U:user" (a
 * ServiceAccount is the user system:serviceaccount:NS:NAME, NS defaulting
 * to @binding_ns as in Kubernetes) or "G:group"; false for kinds that name
 * nobody. */
static bool subject_key(const struct obj *subject, const char *binding_ns,
                        char *out, size_t size)
{
    const char *kind = str_at(subject, "kind"), *name = str_at(subject, "name");
    const char *ns = str_at(subject, "namespace");

    if (strcmp(kind, "User") == 0)
        (void)snprintf(out, size, "U:%s", name);
    else if (strcmp(kind, "Group") == 0)
        (void)snprintf(out, size, "G:%s", name);
    else if (strcmp(kind, "ServiceAccount") == 0)
        (void)snprintf(out, size, "U:system:serviceaccount:%s:%s",
                       ns[0] != '\0' ? ns : binding_ns, name);
    else
        return false;
    return true;
}

static int index_bindings(struct obj_rbac *r, const struct objs *bindings,
                          bool namespaced)
{
    char key[1300];

    for (size_t i = 0; i < bindings->n; i++) {
        const struct obj *b = bindings->v[i];
        const char *ns = namespaced ? str_at(b, "metadata.namespace") : "";
        struct grant g = {b, ns, binding_rules(r, b, ns)};
        const struct obj *subs = obj_map_get(b, "subjects");
        struct slot *s;

        if (g.rules == NULL || (namespaced && ns[0] == '\0'))
            continue;
        for (size_t k = 0; k < obj_array_len(subs); k++) {
            if (!subject_key(obj_array_get(subs, k), ns, key, sizeof key))
                continue;
            if ((s = table_put(&r->subject_index, key)) == NULL)
                return -ENOMEM;
            /* A binding naming the same subject twice is filed once. */
            if (s->n > 0 && s->grants[s->n - 1].binding == b)
                continue;
            if (slot_add_grant(s, &g) != 0)
                return -ENOMEM;
        }
    }
    return 0;
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
    return index_roles(r) == 0 && index_bindings(r, &r->crbs, false) == 0 &&
                   index_bindings(r, &r->rbs, true) == 0
               ? 0
               : -ENOMEM;
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

const struct obj *obj_rbac_role_rules(const struct obj_rbac *r,
                                      const char *kind, const char *ns,
                                      const char *name)
{
    bool cluster = strcmp(kind, "ClusterRole") == 0;
    const struct slot *s;
    char key[1200];

    if (!cluster && strcmp(kind, "Role") != 0)
        return NULL;
    role_key(key, sizeof key, cluster, ns, name);
    s = table_get(&r->role_index, key);
    return s != NULL ? s->rules : NULL;
}

/* Whether @b was offered already by an earlier subject key of this call
 * (a binding naming both the user and one of its groups counts once). */
static bool seen_before(const struct slot *const *done, size_t n_done,
                        const struct obj *b)
{
    for (size_t i = 0; i < n_done; i++)
        for (size_t k = 0; k < done[i]->n; k++)
            if (done[i]->grants[k].binding == b)
                return true;
    return false;
}

/* Call @fn on the rules of every binding that applies to @a (cluster
 * bindings, and bindings in @a->ns); stops when it returns true. Only the
 * bindings naming the user or its groups are looked at. With @once, each
 * binding is offered once (for listing rules; costs a scan of the earlier
 * subjects' grants per grant, so a decision, which stops at the first
 * match anyway, does without). */
static bool each_rules(const struct obj_rbac *r, const struct obj_rbac_attrs *a,
                       bool once,
                       bool (*fn)(const struct obj *rules, void *arg),
                       void *arg)
{
    const struct slot *done[1 + 64];
    size_t n_done = 0;
    char key[1200];

    for (size_t k = 0; k <= a->n_groups && k < 1 + 64; k++) {
        const struct slot *s;
        if (k == 0)
            (void)snprintf(key, sizeof key, "U:%s", a->user);
        else
            (void)snprintf(key, sizeof key, "G:%s", a->groups[k - 1]);
        if ((s = table_get(&r->subject_index, key)) == NULL)
            continue;
        for (size_t i = 0; i < s->n; i++) {
            const struct grant *g = &s->grants[i];
            if ((g->ns[0] != '\0' && strcmp(g->ns, a->ns) != 0) ||
                (once && seen_before(done, n_done, g->binding)))
                continue;
            if (fn(g->rules, arg))
                return true;
        }
        done[n_done++] = s;
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
    return each_rules(r, &only, false, any_rule_matches, &only);
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

    (void)each_rules(r, a, true, collect_rules, &c);
    return c.rv;
}
