/* CustomResourceDefinitions (crd.h): checks, status, and the resources,
 * schemas and tables served for a set of definitions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/object/crd.h"
#include "api/object/schema.h"
#include "api/object/schema_internal.h"
#include "api/object/table.h"
#include "lib/mem.h"

/* Deepest schema nesting accepted: the passes recurse. */
#define MAX_DEPTH 48

/* obj_type() that takes an absent value (as null). */
static enum obj_type type_of(const struct obj *o)
{
    return o != NULL ? obj_type(o) : OBJ_NULL;
}

static const char *str_at(const struct obj *o, const char *path)
{
    return obj_str_or(obj_get_path(o, path), "");
}

/* ---- checks --------------------------------------------------------------*/

static void check_label(const char *s, const struct obj_fpath *at,
                        struct obj_ferrs *errs)
{
    struct obj_msgs m;

    obj_check_dns1123_label(s, strlen(s), &m);
    for (size_t i = 0; i < m.n; i++)
        obj_ferrs_add_str(errs, OBJ_FERR_INVALID, at, s, strlen(s), m.v[i]);
}

static void check_names(const struct obj *names, const struct obj_fpath *at,
                        struct obj_ferrs *errs)
{
    static const char *const keys[] = {"plural", "singular"};
    struct obj_fpath p;

    for (size_t i = 0; i < 2; i++) {
        const char *v = str_at(names, keys[i]);
        p = obj_fpath_child(at, keys[i]);
        if (v[0] != '\0')
            check_label(v, &p, errs);
    }
    const struct obj *sn = obj_map_get(names, "shortNames");
    struct obj_fpath sp = obj_fpath_child(at, "shortNames");
    for (size_t i = 0; i < obj_array_len(sn); i++) {
        struct obj_fpath ip = obj_fpath_index(&sp, i);
        check_label(obj_str_or(obj_array_get(sn, i), ""), &ip, errs);
    }
    const char *kind = str_at(names, "kind");
    p = obj_fpath_child(at, "kind");
    if (kind[0] != '\0' && (kind[0] < 'A' || kind[0] > 'Z'))
        obj_ferrs_add_str(errs, OBJ_FERR_INVALID, &p, kind, strlen(kind),
                          "may have mixed case, but should otherwise match: "
                          "[a-z]([-a-z0-9]*[a-z0-9])?, starting upper case");
}

/* A structural node: has a type (unless int-or-string or preserving
 * unknown fields), properties only on objects, items on arrays. */
static void check_node(const struct obj *n, const struct obj_fpath *at,
                       int depth, struct obj_ferrs *errs)
{
    const char *type = obj_str_or(obj_map_get(n, "type"), "");
    const struct obj *props = obj_map_get(n, "properties");
    const struct obj *items = obj_map_get(n, "items");
    const struct obj *addl = obj_map_get(n, "additionalProperties");
    bool loose = obj_bool_or(obj_map_get(n, "x-kubernetes-int-or-string"),
                             false) ||
                 obj_bool_or(obj_map_get(n, "x-kubernetes-preserve-unknown-fields"),
                             false);
    struct obj_fpath tp = obj_fpath_child(at, "type");

    if (type_of(n) != OBJ_MAP) {
        obj_ferrs_invalid(errs, at, n, "must be an object");
        return;
    }
    if (depth > MAX_DEPTH) {
        obj_ferrs_forbidden(errs, at, "schema nests too deeply");
        return;
    }
    if (type[0] == '\0' && !loose)
        obj_ferrs_required(errs, &tp, "must not be empty for specified "
                                      "object fields");
    if (props != NULL && (type_of(props) != OBJ_MAP ||
                          (type[0] != '\0' && strcmp(type, "object") != 0))) {
        struct obj_fpath pp = obj_fpath_child(at, "properties");
        obj_ferrs_forbidden(errs, &pp, "only allowed on objects");
    }
    if (props != NULL && addl != NULL && type_of(addl) == OBJ_MAP) {
        struct obj_fpath ap = obj_fpath_child(at, "additionalProperties");
        obj_ferrs_forbidden(errs, &ap, "additionalProperties and properties "
                                       "are mutual exclusive");
    }
    if (strcmp(type, "array") == 0 && type_of(items) != OBJ_MAP) {
        struct obj_fpath ip = obj_fpath_child(at, "items");
        obj_ferrs_required(errs, &ip, "must be specified for arrays");
    }
    if (type_of(props) == OBJ_MAP) {
        struct obj_fpath pp = obj_fpath_child(at, "properties");
        for (size_t i = 0; i < obj_map_len(props); i++) {
            const char *k = obj_map_key(props, i, NULL);
            struct obj_fpath kp = obj_fpath_key(&pp, k);
            check_node(obj_map_value(props, i), &kp, depth + 1, errs);
        }
    }
    if (type_of(items) == OBJ_MAP) {
        struct obj_fpath ip = obj_fpath_child(at, "items");
        check_node(items, &ip, depth + 1, errs);
    }
    if (type_of(addl) == OBJ_MAP) {
        struct obj_fpath ap = obj_fpath_child(at, "additionalProperties");
        check_node(addl, &ap, depth + 1, errs);
    }
}

static void check_schema(const struct obj *v, const struct obj_fpath *at,
                         struct obj_ferrs *errs)
{
    struct obj_fpath sp = obj_fpath_child(at, "schema");
    struct obj_fpath op = obj_fpath_child(&sp, "openAPIV3Schema");
    const struct obj *s = obj_get_path(v, "schema.openAPIV3Schema");

    if (s == NULL) {
        obj_ferrs_required(errs, &op, "schemas are required");
        return;
    }
    check_node(s, &op, 0, errs);
    if (strcmp(obj_str_or(obj_map_get(s, "type"), ""), "object") != 0) {
        struct obj_fpath tp = obj_fpath_child(&op, "type");
        obj_ferrs_invalid(errs, &tp, obj_map_get(s, "type"),
                          "must be object at the root");
    }
}

/* A path the scale subresource can follow: .spec.x or .status.x, dotted. */
static bool scale_path_ok(const char *p, const char *under)
{
    size_t n = strlen(under);

    if (strncmp(p, under, n) != 0 || p[n] != '.' || p[n + 1] == '\0')
        return false;
    for (const char *c = p + n; *c; c++)
        if (*c == '[' || (*c == '.' && (c[1] == '.' || c[1] == '\0')))
            return false;
    return true;
}

static void check_scale(const struct obj *scale, const struct obj_fpath *at,
                        struct obj_ferrs *errs)
{
    static const struct {
        const char *key, *under;
    } paths[] = {{"specReplicasPath", ".spec"},
                 {"statusReplicasPath", ".status"},
                 {"labelSelectorPath", ".status"}};

    for (size_t i = 0; i < 3; i++) {
        const struct obj *v = obj_map_get(scale, paths[i].key);
        struct obj_fpath p = obj_fpath_child(at, paths[i].key);
        const char *s = obj_str_or(v, NULL);
        if (s == NULL)
            continue;
        if (!scale_path_ok(s, paths[i].under) &&
            !(i == 2 && scale_path_ok(s, ".spec")))
            obj_ferrs_invalid(errs, &p, v, "should be a json path under "
                                           ".spec or .status, without arrays");
    }
}

static void check_columns(const struct obj *cols, const struct obj_fpath *at,
                          struct obj_ferrs *errs)
{
    for (size_t i = 0; i < obj_array_len(cols); i++) {
        const struct obj *c = obj_array_get(cols, i);
        struct obj_fpath ip = obj_fpath_index(at, i);
        struct obj_fpath jp = obj_fpath_child(&ip, "jsonPath");
        const struct obj *jv = obj_map_get(c, "jsonPath");

        /* As kube-apiserver: a path starting with a dot. Paths the
         * columns cannot follow ([*], unions) show <none>. */
        const char *path = obj_str_or(jv, "");
        if (jv != NULL && (path[0] != '.' || strlen(path) > 512))
            obj_ferrs_invalid(errs, &jp, jv,
                              "must be a simple json path starting with .");
    }
}

/* More versions than anyone writes; keeps the checks below cheap. */
#define MAX_VERSIONS 64

static void check_versions(const struct obj *vs, const struct obj_fpath *at,
                           struct obj_ferrs *errs)
{
    size_t stored = 0, served = 0;

    if (obj_array_len(vs) > MAX_VERSIONS) {
        obj_ferrs_too_many(errs, at, obj_array_len(vs), MAX_VERSIONS);
        return;
    }

    for (size_t i = 0; i < obj_array_len(vs); i++) {
        const struct obj *v = obj_array_get(vs, i);
        const char *name = str_at(v, "name");
        struct obj_fpath ip = obj_fpath_index(at, i);
        struct obj_fpath np = obj_fpath_child(&ip, "name");
        struct obj_msgs m;
        struct obj_fpath sub = obj_fpath_child(&ip, "subresources");
        struct obj_fpath scp = obj_fpath_child(&sub, "scale");
        struct obj_fpath cp = obj_fpath_child(&ip, "additionalPrinterColumns");

        obj_check_dns1035_label(name, strlen(name), &m);
        for (size_t k = 0; k < m.n; k++)
            obj_ferrs_add_str(errs, OBJ_FERR_INVALID, &np, name, strlen(name),
                              m.v[k]);
        for (size_t j = 0; j < i; j++)
            if (strcmp(str_at(obj_array_get(vs, j), "name"), name) == 0)
                obj_ferrs_duplicate(errs, &np, obj_map_get(v, "name"));
        stored += obj_bool_or(obj_map_get(v, "storage"), false);
        served += obj_bool_or(obj_map_get(v, "served"), false);
        check_schema(v, &ip, errs);
        check_scale(obj_get_path(v, "subresources.scale"), &scp, errs);
        check_columns(obj_map_get(v, "additionalPrinterColumns"), &cp, errs);
    }
    if (obj_array_len(vs) > 0 && stored != 1)
        obj_ferrs_invalid(errs, at, NULL, "must have exactly one version "
                                          "marked as storage version");
    if (obj_array_len(vs) > 0 && served == 0)
        obj_ferrs_invalid(errs, at, NULL, "must serve at least one version");
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0 &&
           (n == k || s[n - k - 1] == '.');
}

bool obj_crd_group_reserved(const char *group)
{
    size_t nb;
    const struct obj_resource *b = obj_registry_builtins(&nb);

    for (size_t i = 0; i < nb; i++)
        if (strcmp(b[i].group, group) == 0)
            return true;
    return ends_with(group, "k8s.io") || ends_with(group, "kubernetes.io");
}

int obj_crd_validate(const struct obj *crd, struct obj_ferrs *errs)
{
    const struct obj *spec = obj_map_get(crd, "spec");
    const char *group = str_at(spec, "group");
    const char *plural = str_at(spec, "names.plural");
    const char *name = str_at(crd, "metadata.name");
    struct obj_fpath sp = obj_fpath_child(NULL, "spec");
    struct obj_fpath gp = obj_fpath_child(&sp, "group");
    struct obj_fpath np = obj_fpath_child(&sp, "names");
    struct obj_fpath vp = obj_fpath_child(&sp, "versions");
    struct obj_fpath cp = obj_fpath_child(&sp, "conversion");
    struct obj_fpath csp = obj_fpath_child(&cp, "strategy");
    struct obj_fpath pp = obj_fpath_child(&sp, "preserveUnknownFields");
    struct obj_fpath mp = obj_fpath_child(NULL, "metadata");
    struct obj_fpath mnp = obj_fpath_child(&mp, "name");
    char want[600];
    struct obj_msgs m;

    (void)snprintf(want, sizeof want, "%s.%s", plural, group);
    if (plural[0] != '\0' && group[0] != '\0' && strcmp(want, name) != 0)
        obj_ferrs_add_str(errs, OBJ_FERR_INVALID, &mnp, name, strlen(name),
                          want[0] ? "must be spec.names.plural+\".\"+spec.group"
                                  : "");
    obj_check_dns1123_subdomain(group, strlen(group), &m);
    for (size_t i = 0; i < m.n && group[0] != '\0'; i++)
        obj_ferrs_add_str(errs, OBJ_FERR_INVALID, &gp, group, strlen(group),
                          m.v[i]);
    if (group[0] != '\0' && strchr(group, '.') == NULL)
        obj_ferrs_add_str(errs, OBJ_FERR_INVALID, &gp, group, strlen(group),
                          "should be a domain with at least one dot");
    else if (obj_crd_group_reserved(group))
        obj_ferrs_add_str(errs, OBJ_FERR_INVALID, &gp, group, strlen(group),
                          "groups under k8s.io and kubernetes.io are "
                          "reserved for Kubernetes' own APIs");
    check_names(obj_map_get(spec, "names"), &np, errs);
    check_versions(obj_map_get(spec, "versions"), &vp, errs);
    if (strcmp(str_at(spec, "conversion.strategy"), "Webhook") == 0)
        obj_ferrs_add_str(errs, OBJ_FERR_NOT_SUPPORTED, &csp, "Webhook", 7,
                          "c8s serves only the None strategy");
    if (obj_bool_or(obj_map_get(spec, "preserveUnknownFields"), false))
        obj_ferrs_invalid(errs, &pp, obj_map_get(spec, "preserveUnknownFields"),
                          "must be false in order to use defaults in the "
                          "schema");
    return errs->err;
}

/* ---- defaults and status -------------------------------------------------*/

static int set_str_new(struct obj *m, const char *key, const char *v)
{
    struct obj *s = obj_str_new_c(v);

    if (obj_map_set(m, key, s) != 0) {
        obj_unref(s);
        return -ENOMEM;
    }
    return 0;
}

int obj_crd_default(struct obj *crd)
{
    struct obj *spec = obj_map_get_mut(crd, "spec");
    struct obj *names = spec != NULL ? obj_map_get_mut(spec, "names") : NULL;
    const char *kind = str_at(names, "kind");
    char buf[300];

    if (names == NULL || kind[0] == '\0')
        return 0;
    if (str_at(names, "singular")[0] == '\0') {
        size_t i;
        for (i = 0; kind[i] != '\0' && i + 1 < sizeof buf; i++)
            buf[i] = (char)(kind[i] >= 'A' && kind[i] <= 'Z' ? kind[i] + 32
                                                              : kind[i]);
        buf[i] = '\0';
        if (set_str_new(names, "singular", buf) != 0)
            return -ENOMEM;
    }
    if (str_at(names, "listKind")[0] == '\0') {
        (void)snprintf(buf, sizeof buf, "%sList", kind);
        if (set_str_new(names, "listKind", buf) != 0)
            return -ENOMEM;
    }
    return 0;
}

static struct obj *condition(const char *type, bool ok, const char *reason,
                             const char *msg, const char *now)
{
    struct obj *c = obj_map_new();

    if (c == NULL || set_str_new(c, "type", type) != 0 ||
        set_str_new(c, "status", ok ? "True" : "False") != 0 ||
        set_str_new(c, "lastTransitionTime", now) != 0 ||
        set_str_new(c, "reason", reason) != 0 ||
        set_str_new(c, "message", msg) != 0)
        return obj_unref(c);
    return c;
}

/* obj_array_append that drops @v when the array cannot take it. */
static int append_new(struct obj *a, struct obj *v)
{
    if (obj_array_append(a, v) != 0) {
        obj_unref(v);
        return -ENOMEM;
    }
    return 0;
}

/* The storage version's name, or "". */
static const char *storage_version(const struct obj *crd)
{
    const struct obj *vs = obj_get_path(crd, "spec.versions");

    for (size_t i = 0; i < obj_array_len(vs); i++) {
        const struct obj *v = obj_array_get(vs, i);
        if (obj_bool_or(obj_map_get(v, "storage"), false))
            return str_at(v, "name");
    }
    return "";
}

/* storedVersions of the old status plus the storage version. */
static struct obj *stored_versions(const struct obj *crd)
{
    const struct obj *old = obj_get_path(crd, "status.storedVersions");
    const char *sv = storage_version(crd);
    struct obj *l = obj_array_new();
    bool have = false;

    for (size_t i = 0; l != NULL && i < obj_array_len(old); i++) {
        struct obj *e = obj_array_get(old, i);
        have |= strcmp(obj_str_or(e, ""), sv) == 0;
        if (append_new(l, obj_ref(e)) != 0)
            l = obj_unref(l);
    }
    if (l != NULL && !have && sv[0] != '\0' &&
        append_new(l, obj_str_new_c(sv)) != 0)
        l = obj_unref(l);
    return l;
}

int obj_crd_set_status(struct obj *crd, const char *conflict, const char *now)
{
    bool ok = conflict == NULL;
    struct obj *st = obj_map_new(), *conds = obj_array_new();
    struct obj *names = obj_get_path(crd, "spec.names");
    struct obj *stored = stored_versions(crd);
    int rv = st == NULL || conds == NULL || stored == NULL ? -ENOMEM : 0;

    if (rv == 0)
        rv = append_new(conds,
                              condition("NamesAccepted", ok,
                                        ok ? "NoConflicts" : "NameConflict",
                                        ok ? "no conflicts found" : conflict,
                                        now));
    if (rv == 0)
        rv = append_new(
            conds, condition("Established", ok,
                             ok ? "InitialNamesAccepted" : "NotAccepted",
                             ok ? "the initial names have been accepted"
                                : "not all names are accepted",
                             now));
    if (rv == 0 && (rv = obj_map_set(st, "conditions", conds)) == 0)
        conds = NULL;
    if (rv == 0 && ok && names != NULL &&
        (rv = obj_map_set(st, "acceptedNames", obj_ref(names))) != 0)
        obj_unref(names);
    if (rv == 0 && (rv = obj_map_set(st, "storedVersions", stored)) == 0)
        stored = NULL;
    if (rv == 0 && (rv = obj_map_set(crd, "status", st)) == 0)
        st = NULL;
    obj_unref(st);
    obj_unref(conds);
    obj_unref(stored);
    return rv != 0 ? -ENOMEM : 0;
}

/* @crd's status condition of @type, or NULL. */
static const struct obj *find_condition(const struct obj *crd,
                                        const char *type)
{
    const struct obj *conds = obj_get_path(crd, "status.conditions");

    for (size_t i = 0; i < obj_array_len(conds); i++) {
        const struct obj *c = obj_array_get(conds, i);
        if (strcmp(str_at(c, "type"), type) == 0)
            return c;
    }
    return NULL;
}

bool obj_crd_established(const struct obj *crd)
{
    const struct obj *c = find_condition(crd, "Established");

    return c != NULL && strcmp(str_at(c, "status"), "True") == 0;
}

/* @m's value under @key made private, set to @empty (taken) when absent;
 * NULL on -ENOMEM. */
static struct obj *child(struct obj *m, const char *key, struct obj *empty)
{
    struct obj *v = obj_map_get_mut(m, key);

    if (v != NULL || m == NULL) {
        obj_unref(empty);
        return v;
    }
    if (obj_map_set(m, key, empty) != 0) {
        obj_unref(empty);
        return NULL;
    }
    return obj_map_get_mut(m, key);
}

int obj_crd_set_terminating(struct obj *crd, const char *now)
{
    struct obj *conds;

    if (find_condition(crd, "Terminating") != NULL)
        return 0;
    conds = child(child(crd, "status", obj_map_new()), "conditions",
                  obj_array_new());
    if (conds == NULL)
        return -ENOMEM;
    return append_new(conds, condition("Terminating", true,
                                       "InstanceDeletionInProgress",
                                       "CustomResource deletion is in "
                                       "progress",
                                       now));
}

const char *obj_crd_conflict(const struct obj *crd,
                             const struct obj_registry *reg)
{
    const char *group = str_at(crd, "spec.group");
    const char *plural = str_at(crd, "spec.names.plural");
    const char *kind = str_at(crd, "spec.names.kind");
    const struct obj *vs = obj_get_path(crd, "spec.versions");

    const struct obj_api_group *g = obj_registry_find_group(reg, group);

    (void)vs;
    /* Any version of the group: a resource found with this plural is this
     * definition's own (served from an earlier version of it) unless it is
     * a built-in; another plural with this kind is another definition. */
    for (size_t i = 0; g != NULL && i < g->n_versions; i++) {
        const struct obj_api_version *v = &g->versions[i];
        for (size_t k = 0; k < v->n_resources; k++) {
            const struct obj_resource *r = v->resources[k];
            if (strcmp(r->resource, plural) == 0 && r->schema == NULL)
                return "the plural name is already in use by a built-in "
                       "resource";
            if (strcmp(r->kind, kind) == 0 && strcmp(r->resource, plural) != 0)
                return "the kind is already in use by another resource of "
                       "the group";
        }
    }
    return NULL;
}

/* ---- building the served resources ---------------------------------------*/

struct obj_crds {
    struct obj_resource *res; /* one per served version */
    size_t n_res, cap_res;
    void **allocs; /* everything else, freed one by one */
    size_t n_allocs, cap_allocs;
    struct obj **refs; /* defaults held by the schemas */
    size_t n_refs, cap_refs;
    struct obj_table **tables;
    size_t n_tables, cap_tables;
    const struct obj_sstruct *object_meta;
    size_t n_names; /* numbered struct names handed out */
};

static void *own(struct obj_crds *c, size_t size)
{
    void *p;

    if (mem_grow((void **)&c->allocs, &c->cap_allocs, c->n_allocs + 1,
             sizeof *c->allocs) != 0 ||
        (p = mem_calloc(1, size > 0 ? size : 1)) == NULL)
        return NULL;
    c->allocs[c->n_allocs++] = p;
    return p;
}

static const char *own_str(struct obj_crds *c, const char *s)
{
    size_t n = strlen(s);
    char *d = own(c, n + 1);

    if (d != NULL)
        memcpy(d, s, n + 1);
    return d;
}

static int keep_ref(struct obj_crds *c, struct obj *o)
{
    if (mem_grow((void **)&c->refs, &c->cap_refs, c->n_refs + 1,
             sizeof *c->refs) != 0)
        return -ENOMEM;
    c->refs[c->n_refs++] = obj_ref(o);
    return 0;
}

void obj_crds_free(struct obj_crds *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n_allocs; i++)
        mem_free(c->allocs[i]);
    for (size_t i = 0; i < c->n_refs; i++)
        obj_unref(c->refs[i]);
    for (size_t i = 0; i < c->n_tables; i++)
        obj_table_custom_free(c->tables[i]);
    mem_free(c->allocs);
    mem_free(c->refs);
    mem_free(c->tables);
    mem_free(c->res);
    mem_free(c);
}

const struct obj_resource *obj_crds_resources(const struct obj_crds *c,
                                              size_t *ret_n)
{
    *ret_n = c->n_res;
    return c->res;
}

/* The strings of @a (non-strings skipped) as a NULL-terminated array. */
static const char *const *own_strings(struct obj_crds *c, const struct obj *a)
{
    size_t n = obj_array_len(a), k = 0;
    const char **v = own(c, (n + 1) * sizeof *v);

    for (size_t i = 0; v != NULL && i < n; i++) {
        const char *s = obj_str_or(obj_array_get(a, i), NULL);
        if (s != NULL && (v[k++] = own_str(c, s)) == NULL)
            return NULL;
    }
    return v;
}

static int to_type(struct obj_crds *c, const struct obj *node,
                   const char *pkg, const char *name, int depth,
                   const struct obj_stype **ret);

static const struct obj_sstruct *to_struct(struct obj_crds *c,
                                           const struct obj *node,
                                           const char *pkg, const char *name,
                                           int depth);

static enum obj_stype_kind scalar_kind(const char *type)
{
    if (strcmp(type, "integer") == 0)
        return OBJ_ST_INT64;
    if (strcmp(type, "number") == 0)
        return OBJ_ST_DOUBLE;
    if (strcmp(type, "boolean") == 0)
        return OBJ_ST_BOOL;
    if (strcmp(type, "string") == 0)
        return OBJ_ST_STRING;
    return OBJ_ST_ANY;
}

static int to_type(struct obj_crds *c, const struct obj *node,
                   const char *pkg, const char *name, int depth,
                   const struct obj_stype **ret)
{
    struct obj_stype *t = own(c, sizeof *t);
    const char *type = obj_str_or(obj_map_get(node, "type"), "");
    const struct obj *props = obj_map_get(node, "properties");
    const struct obj *addl = obj_map_get(node, "additionalProperties");
    const struct obj *items = obj_map_get(node, "items");
    char sub[512];

    if (t == NULL)
        return -ENOMEM;
    *ret = t;
    t->kind = OBJ_ST_ANY;
    if (depth > MAX_DEPTH || type_of(node) != OBJ_MAP ||
        obj_bool_or(obj_map_get(node, "x-kubernetes-preserve-unknown-fields"),
                    false) ||
        obj_bool_or(obj_map_get(node, "x-kubernetes-embedded-resource"),
                    false))
        return 0;
    if (obj_bool_or(obj_map_get(node, "x-kubernetes-int-or-string"), false)) {
        t->kind = OBJ_ST_INTSTR;
        return 0;
    }
    if (strcmp(type, "object") == 0) {
        if (type_of(addl) == OBJ_MAP && props == NULL) {
            t->kind = OBJ_ST_MAP;
            (void)snprintf(sub, sizeof sub, "%s.value", name);
            return to_type(c, addl, pkg, sub, depth + 1, &t->elem);
        }
        if (obj_bool_or(addl, false))
            return 0; /* any keys, any values */
        t->kind = OBJ_ST_STRUCT;
        t->st = to_struct(c, node, pkg, name, depth + 1);
        return t->st != NULL ? 0 : -ENOMEM;
    }
    if (strcmp(type, "array") == 0) {
        t->kind = OBJ_ST_LIST;
        (void)snprintf(sub, sizeof sub, "%s.item", name);
        return to_type(c, items, pkg, sub, depth + 1, &t->elem);
    }
    t->kind = scalar_kind(type);
    return 0;
}

/* A schema node's required names, sorted for lookups (a hostile schema
 * may list many). */
struct names {
    const char **v;
    size_t n;
};

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int sorted_names(struct obj_crds *c, const struct obj *l,
                        struct names *ret)
{
    size_t n = obj_array_len(l);

    ret->n = 0;
    if ((ret->v = own(c, (n + 1) * sizeof *ret->v)) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *s = obj_str_or(obj_array_get(l, i), NULL);
        if (s != NULL)
            ret->v[ret->n++] = s; /* borrowed from the definition */
    }
    qsort(ret->v, ret->n, sizeof *ret->v, str_cmp);
    return 0;
}

static bool in_names(const struct names *l, const char *s)
{
    return bsearch(&s, l->v, l->n, sizeof *l->v, str_cmp) != NULL;
}

/* "a,b" from ["a","b"], or NULL for none. */
static const char *joined(struct obj_crds *c, const struct obj *l)
{
    char buf[512] = "";
    size_t used = 0;

    for (size_t i = 0; i < obj_array_len(l); i++) {
        const char *s = obj_str_or(obj_array_get(l, i), "");
        int n = snprintf(buf + used, sizeof buf - used, "%s%s", i ? "," : "",
                         s);
        if (n < 0 || (size_t)n >= sizeof buf - used)
            break;
        used += (size_t)n;
    }
    return used > 0 ? own_str(c, buf) : NULL;
}

static bool integral(const struct obj *v, int64_t *ret)
{
    if (type_of(v) == OBJ_INT) {
        *ret = obj_int_or(v, 0);
        return true;
    }
    return false;
}

/* One property of a struct from its schema node. */
static int to_field(struct obj_crds *c, struct obj_sfield *f, const char *key,
                    const struct obj *node, const struct names *required,
                    const char *pkg, const char *parent, int depth)
{
    const struct obj *def = obj_map_get(node, "default");
    const struct obj *en = obj_map_get(node, "enum");
    char sub[512];
    int rv;

    f->proto = -1;
    f->name = own_str(c, key);
    int len = snprintf(sub, sizeof sub, "%s.%s", parent, key);
    /* Struct names must be unique (OpenAPI names its schemas by them): a
     * key with a dot, or a name cut short, gets a number instead. */
    if (len < 0 || (size_t)len >= sizeof sub || strchr(key, '.') != NULL)
        (void)snprintf(sub, sizeof sub, "%.200s.~%zu", parent, ++c->n_names);
    if (f->name == NULL ||
        (rv = to_type(c, node, pkg, sub, depth, &f->type)) != 0)
        return -ENOMEM;
    f->required = in_names(required, key);
    f->present_only = true;
    if (def != NULL) {
        if (keep_ref(c, (struct obj *)def) != 0)
            return -ENOMEM;
        f->def = (struct obj *)def;
    }
    if (obj_array_len(en) > 0 && f->type->kind == OBJ_ST_STRING &&
        (f->enums = own_strings(c, en)) == NULL)
        return -ENOMEM;
    f->has_min = f->type->kind == OBJ_ST_INT64 &&
                 integral(obj_map_get(node, "minimum"), &f->min);
    f->has_max = f->type->kind == OBJ_ST_INT64 &&
                 integral(obj_map_get(node, "maximum"), &f->max);
    const char *lt = obj_str_or(obj_map_get(node, "x-kubernetes-list-type"),
                                NULL);
    if (lt != NULL && (f->list_type = own_str(c, lt)) == NULL)
        return -ENOMEM;
    f->list_keys = joined(c, obj_map_get(node, "x-kubernetes-list-map-keys"));
    const char *d = obj_str_or(obj_map_get(node, "description"), NULL);
    if (d != NULL && (f->desc = own_str(c, d)) == NULL)
        return -ENOMEM;
    return 0;
}

/* Fields sorted by name and defaults_below, once the fields are set. */
static int finish_struct(struct obj_crds *c, struct obj_sstruct *st,
                         struct obj_sfield *f, size_t n)
{
    const struct obj_sfield **by = own(c, (n + 1) * sizeof *by);

    if (by == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const struct obj_sstruct *sub = obj__struct_under(f[i].type);
        st->defaults_below |= f[i].def != NULL ||
                              (sub != NULL && sub->defaults_below);
    }
    obj__sstruct_index(f, n, by);
    st->fields = f;
    st->n_fields = n;
    st->by_name = by;
    return 0;
}

static const struct obj_sstruct *to_struct(struct obj_crds *c,
                                           const struct obj *node,
                                           const char *pkg, const char *name,
                                           int depth)
{
    const struct obj *props = obj_map_get(node, "properties");
    struct names required;
    size_t n = obj_map_len(props);
    struct obj_sstruct *st = own(c, sizeof *st);
    struct obj_sfield *f = own(c, (n + 1) * sizeof *f);
    const char *d = obj_str_or(obj_map_get(node, "description"), NULL);

    if (st == NULL || f == NULL ||
        sorted_names(c, obj_map_get(node, "required"), &required) != 0 ||
        (st->pkg = own_str(c, pkg)) == NULL ||
        (st->name = own_str(c, name)) == NULL ||
        (d != NULL && (st->desc = own_str(c, d)) == NULL))
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (to_field(c, &f[i], obj_map_key(props, i, NULL),
                     obj_map_value(props, i), &required, pkg, name,
                     depth) != 0)
            return NULL;
    return finish_struct(c, st, f, n) == 0 ? st : NULL;
}

/* The root of a kind: the schema's properties with metadata as
 * ObjectMeta, apiVersion and kind left to the passes (as for built-ins). */
static const struct obj_sstruct *to_root(struct obj_crds *c,
                                         const struct obj *node,
                                         const char *pkg, const char *kind)
{
    const struct obj *props = obj_map_get(node, "properties");
    struct names required;
    size_t n = obj_map_len(props), k = 0;
    struct obj_sstruct *st = own(c, sizeof *st);
    struct obj_sfield *f = own(c, (n + 2) * sizeof *f);
    const char *d = obj_str_or(obj_map_get(node, "description"), NULL);
    struct obj_stype *meta = own(c, sizeof *meta);

    if (st == NULL || f == NULL || meta == NULL ||
        sorted_names(c, obj_map_get(node, "required"), &required) != 0 ||
        (st->pkg = own_str(c, pkg)) == NULL ||
        (st->name = own_str(c, kind)) == NULL ||
        (d != NULL && (st->desc = own_str(c, d)) == NULL))
        return NULL;
    st->is_kind = true;
    *meta = (struct obj_stype){.kind = OBJ_ST_STRUCT, .st = c->object_meta};
    f[k++] = (struct obj_sfield){
        .name = "metadata", .type = meta, .proto = -1,
        .desc = "Standard object metadata: name, namespace, labels, "
                "annotations and other common fields."};
    for (size_t i = 0; i < n; i++) {
        const char *key = obj_map_key(props, i, NULL);
        if (strcmp(key, "metadata") == 0 || strcmp(key, "apiVersion") == 0 ||
            strcmp(key, "kind") == 0)
            continue;
        if (to_field(c, &f[k++], key, obj_map_value(props, i), &required,
                     pkg, kind, 1) != 0)
            return NULL;
    }
    return finish_struct(c, st, f, k) == 0 ? st : NULL;
}

static const struct obj_field_label meta_fields[] = {
    {"metadata.name", "metadata.name"},
    {"metadata.namespace", "metadata.namespace"},
    {NULL, NULL},
};

static int add_table(struct obj_crds *c, const struct obj *cols,
                     const struct obj_table **ret)
{
    size_t n = obj_array_len(cols);
    struct obj_table_column *tc = own(c, (n + 1) * sizeof *tc);
    struct obj_table *t;

    if (tc == NULL || mem_grow((void **)&c->tables, &c->cap_tables,
                           c->n_tables + 1, sizeof *c->tables) != 0)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const struct obj *col = obj_array_get(cols, i);
        tc[i] = (struct obj_table_column){
            .name = str_at(col, "name"),
            .type = str_at(col, "type"),
            .format = str_at(col, "format"),
            .description = str_at(col, "description"),
            .json_path = str_at(col, "jsonPath"),
            .priority = (int)obj_int_or(obj_map_get(col, "priority"), 0)};
    }
    if (obj_table_custom_new(tc, n, &t) != 0)
        return -ENOMEM;
    c->tables[c->n_tables++] = t;
    *ret = t;
    return 0;
}

static int add_subresources(struct obj_crds *c, struct obj_resource *r,
                            const struct obj *v)
{
    const struct obj *subs = obj_map_get(v, "subresources");
    const struct obj *scale = obj_map_get(subs, "scale");
    struct obj_subresource *s = own(c, 3 * sizeof *s);
    size_t k = 0;

    if (s == NULL)
        return -ENOMEM;
    if (obj_map_get(subs, "status") != NULL)
        s[k++] = (struct obj_subresource){
            "status", {r->group, r->version, r->kind}, OBJ_VERBS_SUB};
    /* Paths were checked when the definition was written; one that is
     * not even a path (a store written otherwise) serves no scale. */
    if (scale != NULL && str_at(scale, "specReplicasPath")[0] == '.' &&
        str_at(scale, "statusReplicasPath")[0] == '.') {
        struct obj_scale_paths *p = own(c, sizeof *p);
        const char *sel = obj_str_or(obj_map_get(scale, "labelSelectorPath"),
                                     NULL);
        if (p == NULL ||
            (p->spec_replicas = own_str(c, str_at(scale, "specReplicasPath") +
                                               1)) == NULL ||
            (p->status_replicas = own_str(
                 c, str_at(scale, "statusReplicasPath") + 1)) == NULL ||
            (sel != NULL && sel[0] == '.' &&
             (p->selector = own_str(c, sel + 1)) == NULL))
            return -ENOMEM;
        r->scale = p;
        s[k++] = (struct obj_subresource){
            "scale", {"autoscaling", "v1", "Scale"}, OBJ_VERBS_SUB};
    }
    r->subresources = s;
    return 0;
}

/* One served version of @crd as a resource. */
static int add_version(struct obj_crds *c, const struct obj *crd,
                       const struct obj *v)
{
    const struct obj *spec = obj_map_get(crd, "spec");
    const struct obj *names = obj_map_get(spec, "names");
    char prefix[600];
    struct obj_resource *r;

    if (mem_grow((void **)&c->res, &c->cap_res, c->n_res + 1, sizeof *c->res) != 0)
        return -ENOMEM;
    r = &c->res[c->n_res];
    memset(r, 0, sizeof *r);
    (void)snprintf(prefix, sizeof prefix, "%s/%s", str_at(spec, "group"),
                   str_at(names, "plural"));
    if ((r->group = own_str(c, str_at(spec, "group"))) == NULL ||
        (r->version = own_str(c, str_at(v, "name"))) == NULL ||
        (r->kind = own_str(c, str_at(names, "kind"))) == NULL ||
        (r->list_kind = own_str(c, str_at(names, "listKind"))) == NULL ||
        (r->resource = own_str(c, str_at(names, "plural"))) == NULL ||
        (r->singular = own_str(c, str_at(names, "singular"))) == NULL ||
        (r->store_prefix = own_str(c, prefix)) == NULL ||
        (r->short_names = own_strings(c, obj_map_get(names, "shortNames"))) ==
            NULL ||
        (r->categories = own_strings(c, obj_map_get(names, "categories"))) ==
            NULL)
        return -ENOMEM;
    r->namespaced = strcmp(str_at(spec, "scope"), "Namespaced") == 0;
    r->verbs = OBJ_VERBS_ALL;
    r->fields = meta_fields;
    (void)snprintf(prefix, sizeof prefix, "%s/%s", r->group, r->version);
    if ((r->schema = to_root(c, obj_get_path(v, "schema.openAPIV3Schema"),
                             prefix, r->kind)) == NULL ||
        add_table(c, obj_map_get(v, "additionalPrinterColumns"), &r->table) !=
            0 ||
        add_subresources(c, r, v) != 0)
        return -ENOMEM;
    c->n_res++;
    return 0;
}

/* Whether resource @r clashes with a built-in or with one already built. */
static bool clashes(const struct obj_crds *c, const struct obj_resource *r,
                    size_t upto)
{
    size_t nb;
    const struct obj_resource *b = obj_registry_builtins(&nb);

    if (obj_crd_group_reserved(r->group))
        return true; /* never over a built-in's keys */
    for (size_t i = 0; i < nb + upto; i++) {
        const struct obj_resource *x = i < nb ? &b[i] : &c->res[i - nb];
        bool same_v = strcmp(x->version, r->version) == 0;
        /* Another definition's plural or kind in any version; within
         * one version, anything the registry would refuse. */
        if (strcmp(x->group, r->group) == 0 &&
            ((strcmp(x->resource, r->resource) == 0 &&
              (same_v || strcmp(x->kind, r->kind) != 0 ||
               strcmp(x->store_prefix, r->store_prefix) != 0)) ||
             (strcmp(x->kind, r->kind) == 0 &&
              (same_v || strcmp(x->resource, r->resource) != 0))))
            return true;
    }
    return false;
}

/* Add the served versions of @crd, or none of them when one clashes or a
 * schema is missing (the definition was checked when written, but the
 * store may hold one written by another version of c8s). */
static int add_crd(struct obj_crds *c, const struct obj *crd, struct err *e)
{
    const struct obj *vs = obj_get_path(crd, "spec.versions");
    size_t first = c->n_res;
    int rv;

    for (size_t i = 0; i < obj_array_len(vs); i++) {
        const struct obj *v = obj_array_get(vs, i);
        if (!obj_bool_or(obj_map_get(v, "served"), false))
            continue;
        if (type_of(obj_get_path(v, "schema.openAPIV3Schema")) != OBJ_MAP)
            goto skip;
        if ((rv = add_version(c, crd, v)) != 0)
            return rv;
        if (clashes(c, &c->res[c->n_res - 1], c->n_res - 1))
            goto skip;
    }
    return 0;
skip:
    c->n_res = first; /* what they allocated is freed with the set */
    err_setf(e, 0, "customresourcedefinition %s is not served: its names "
                   "clash with another resource or a version has no schema",
             str_at(crd, "metadata.name"));
    return 0;
}

int obj_crds_build(struct obj *const *crds, size_t n, struct obj_crds **ret,
                   struct err *e)
{
    struct obj_crds *c = mem_calloc(1, sizeof *c);
    const struct obj_schemas *s = obj_schemas_builtin(e);
    int rv = 0;

    *ret = NULL;
    if (c == NULL)
        return err_setf(e, -ENOMEM, "out of memory");
    if (s == NULL ||
        (c->object_meta = obj_schemas_find(s, "meta/v1", "ObjectMeta")) ==
            NULL) {
        mem_free(c);
        return err_setf(e, -EINVAL, "built-in schemas missing");
    }
    for (size_t i = 0; i < n && rv == 0; i++)
        if (obj_crd_established(crds[i]))
            rv = add_crd(c, crds[i], e);
    if (rv != 0) {
        obj_crds_free(c);
        return err_setf(e, rv, "out of memory building custom resources");
    }
    *ret = c;
    return 0;
}
