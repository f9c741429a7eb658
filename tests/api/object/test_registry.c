/* The resource registry: the built-in table's facts and invariants, the
 * order of groups and versions, lookups, and the hook for extra (CRD)
 * resources. */
#include <errno.h>
#include <string.h>

#include "api/object/registry.h"
#include "lib/mem.h"
#include "tests/lib/unit.h"

static void free_registry(void *r)
{
    obj_registry_free(r);
}

static struct obj_registry *new_registry(void)
{
    struct obj_registry *r = NULL;
    struct err e = {0};

    ASSERT_MSG(obj_registry_new(NULL, 0, &r, &e) == 0, "%s", e.msg);
    unit_defer(free_registry, r);
    return r;
}

static bool in_list(const char *const *list, const char *s)
{
    for (; *list != NULL; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

/* What kube-apiserver reports for each kind c8s serves. */
static const struct {
    const char *group;      /* API group */
    const char *resource;   /* plural */
    const char *kind;       /* kind */
    bool namespaced;        /* scope */
    const char *short_name; /* the one short name, or NULL */
    bool all;               /* in category "all" */
} expected[] = {
    {"", "namespaces", "Namespace", false, "ns", false},
    {"", "pods", "Pod", true, "po", true},
    {"", "nodes", "Node", false, "no", false},
    {"", "services", "Service", true, "svc", true},
    {"", "endpoints", "Endpoints", true, "ep", false},
    {"", "limitranges", "LimitRange", true, "limits", false},
    {"", "resourcequotas", "ResourceQuota", true, "quota", false},
    {"", "configmaps", "ConfigMap", true, "cm", false},
    {"", "secrets", "Secret", true, NULL, false},
    {"", "serviceaccounts", "ServiceAccount", true, "sa", false},
    {"", "events", "Event", true, "ev", false},
    {"", "persistentvolumes", "PersistentVolume", false, "pv", false},
    {"", "persistentvolumeclaims", "PersistentVolumeClaim", true, "pvc", false},
    {"apps", "deployments", "Deployment", true, "deploy", true},
    {"apps", "replicasets", "ReplicaSet", true, "rs", true},
    {"apps", "daemonsets", "DaemonSet", true, "ds", true},
    {"apps", "statefulsets", "StatefulSet", true, "sts", true},
    {"apps", "controllerrevisions", "ControllerRevision", true, NULL, false},
    {"batch", "jobs", "Job", true, NULL, true},
    {"batch", "cronjobs", "CronJob", true, "cj", true},
    {"coordination.k8s.io", "leases", "Lease", true, NULL, false},
    {"discovery.k8s.io", "endpointslices", "EndpointSlice", true, NULL, false},
    {"storage.k8s.io", "storageclasses", "StorageClass", false, "sc", false},
    {"events.k8s.io", "events", "Event", true, "ev", false},
    {"authorization.k8s.io", "selfsubjectaccessreviews",
     "SelfSubjectAccessReview", false, NULL, false},
    {"authorization.k8s.io", "selfsubjectrulesreviews",
     "SelfSubjectRulesReview", false, NULL, false},
    {"rbac.authorization.k8s.io", "clusterrolebindings",
     "ClusterRoleBinding", false, NULL, false},
    {"rbac.authorization.k8s.io", "clusterroles", "ClusterRole", false, NULL,
     false},
    {"rbac.authorization.k8s.io", "rolebindings", "RoleBinding", true, NULL,
     false},
    {"rbac.authorization.k8s.io", "roles", "Role", true, NULL, false},
    {"apiextensions.k8s.io", "customresourcedefinitions",
     "CustomResourceDefinition", false, "crd", false},
};
#define N_EXPECTED (sizeof expected / sizeof expected[0])

TEST(registry, table_matches_kubernetes)
{
    struct obj_registry *r = new_registry();
    size_t n;

    (void)obj_registry_builtins(&n);
    ASSERT_EQ(n, N_EXPECTED);
    for (size_t i = 0; i < N_EXPECTED; i++) {
        const struct obj_resource *res =
            obj_registry_find(r, expected[i].group, "v1", expected[i].resource);

        ASSERT_MSG(res != NULL, "%s/%s missing", expected[i].group,
                   expected[i].resource);
        ASSERT_STR_EQ(res->kind, expected[i].kind);
        ASSERT_EQ(res->namespaced, expected[i].namespaced);
        if (expected[i].short_name != NULL) {
            ASSERT_STR_EQ(res->short_names[0], expected[i].short_name);
            /* Only definitions have two: crd and crds. */
            if (strcmp(res->resource, "customresourcedefinitions") == 0)
                ASSERT_STR_EQ(res->short_names[1], "crds");
            else
                ASSERT(res->short_names[1] == NULL);
        } else {
            ASSERT(res->short_names[0] == NULL);
        }
        ASSERT_EQ(in_list(res->categories, "all"), expected[i].all);
    }
}

TEST(registry, names_derive_from_kind)
{
    size_t n;
    const struct obj_resource *b = obj_registry_builtins(&n);

    for (size_t i = 0; i < n; i++) {
        char list_kind[128], lower[128];
        size_t k;

        (void)snprintf(list_kind, sizeof list_kind, "%sList", b[i].kind);
        ASSERT_STR_EQ(b[i].list_kind, list_kind);
        for (k = 0; b[i].kind[k] != '\0'; k++)
            lower[k] = (char)(b[i].kind[k] | 0x20);
        lower[k] = '\0';
        ASSERT_STR_EQ(b[i].singular, lower);
        ASSERT_STR_EQ(b[i].version, "v1");
    }
}

TEST(registry, kinds_resources_and_prefixes_unique)
{
    size_t n;
    const struct obj_resource *b = obj_registry_builtins(&n);

    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            bool same_group = strcmp(b[i].group, b[j].group) == 0;

            ASSERT_MSG(!same_group || strcmp(b[i].kind, b[j].kind) != 0,
                       "kind %s twice", b[i].kind);
            ASSERT_MSG(!same_group || strcmp(b[i].resource, b[j].resource) != 0,
                       "resource %s twice", b[i].resource);
            ASSERT_MSG(strcmp(b[i].store_prefix, b[j].store_prefix) != 0,
                       "prefix %s twice", b[i].store_prefix);
        }
}

TEST(registry, store_prefixes)
{
    size_t n;
    const struct obj_resource *b = obj_registry_builtins(&n);

    for (size_t i = 0; i < n; i++) {
        char want[128];

        if (b[i].group[0] == '\0')
            (void)snprintf(want, sizeof want, "%s", b[i].resource);
        else
            (void)snprintf(want, sizeof want, "%s/%s", b[i].group,
                           b[i].resource);
        ASSERT_STR_EQ(b[i].store_prefix, want);
    }
}

/* Short names are unique, except that both Event kinds answer to "ev"
 * (as in Kubernetes); the core one wins. */
TEST(registry, short_names_unique_but_events)
{
    size_t n;
    const struct obj_resource *b = obj_registry_builtins(&n);

    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            for (const char *const *s = b[i].short_names; *s != NULL; s++) {
                if (!in_list(b[j].short_names, *s))
                    continue;
                ASSERT_STR_EQ(*s, "ev");
                ASSERT_STR_EQ(b[i].kind, "Event");
                ASSERT_STR_EQ(b[j].kind, "Event");
            }
}

TEST(registry, verbs_complete)
{
    size_t n;
    const struct obj_resource *b = obj_registry_builtins(&n);

    for (size_t i = 0; i < n; i++) {
        unsigned want = OBJ_VERBS_ALL;

        if (strcmp(b[i].resource, "namespaces") == 0)
            want &= ~(unsigned)OBJ_VERB_DELETECOLLECTION;
        if (strcmp(b[i].group, "authorization.k8s.io") == 0)
            want = OBJ_VERB_CREATE; /* reviews: asked, never stored */
        ASSERT_MSG(b[i].verbs == want, "%s: verbs %#x", b[i].resource,
                   b[i].verbs);
    }
    ASSERT_STR_EQ(obj_verb_name(OBJ_VERB_CREATE), "create");
    ASSERT_STR_EQ(obj_verb_name(OBJ_VERB_DELETECOLLECTION), "deletecollection");
    ASSERT_STR_EQ(obj_verb_name(OBJ_VERB_WATCH), "watch");
    ASSERT(obj_verb_name(0) == NULL);
    ASSERT(obj_verb_name(OBJ_VERB_GET | OBJ_VERB_LIST) == NULL);
    ASSERT(obj_verb_name(1u << OBJ_VERB_COUNT) == NULL);
}

static bool has_scale(const char *resource)
{
    return strcmp(resource, "deployments") == 0 ||
           strcmp(resource, "replicasets") == 0 ||
           strcmp(resource, "statefulsets") == 0;
}

static bool has_status(const char *resource)
{
    static const char *const with[] = {
        "namespaces",
        "pods",
        "nodes",
        "services",
        "persistentvolumes",
        "persistentvolumeclaims",
        "resourcequotas",
        "deployments",
        "replicasets",
        "daemonsets",
        "statefulsets",
        "jobs",
        "cronjobs",
        "customresourcedefinitions",
        NULL,
    };

    return in_list(with, resource);
}

TEST(registry, subresources)
{
    size_t n;
    const struct obj_resource *b = obj_registry_builtins(&n);

    for (size_t i = 0; i < n; i++) {
        const struct obj_subresource *st =
            obj_resource_subresource(&b[i], "status");
        const struct obj_subresource *sc =
            obj_resource_subresource(&b[i], "scale");

        ASSERT_EQ(st != NULL, has_status(b[i].resource));
        ASSERT_EQ(sc != NULL, has_scale(b[i].resource));
        if (st != NULL) {
            ASSERT_STR_EQ(st->kind.group, b[i].group);
            ASSERT_STR_EQ(st->kind.version, b[i].version);
            ASSERT_STR_EQ(st->kind.kind, b[i].kind);
            ASSERT_EQ(st->verbs, OBJ_VERBS_SUB);
        }
        if (sc != NULL) {
            ASSERT_STR_EQ(sc->kind.group, "autoscaling");
            ASSERT_STR_EQ(sc->kind.version, "v1");
            ASSERT_STR_EQ(sc->kind.kind, "Scale");
            ASSERT_EQ(sc->verbs, OBJ_VERBS_SUB);
        }
        /* Discovery lists them in table order, which must be by name. */
        for (const struct obj_subresource *s = b[i].subresources;
             s->name != NULL && s[1].name != NULL; s++)
            ASSERT(strcmp(s->name, s[1].name) < 0);
    }
    ASSERT(obj_resource_subresource(&b[0], "nosuch") == NULL);
}

TEST(registry, index_field_only_pods)
{
    size_t n;
    const struct obj_resource *b = obj_registry_builtins(&n);

    for (size_t i = 0; i < n; i++) {
        if (strcmp(b[i].resource, "pods") == 0)
            ASSERT_STR_EQ(b[i].index_field, "spec.nodeName");
        else
            ASSERT(b[i].index_field == NULL);
    }
}

static void assert_field(struct obj_registry *r,
                         const char *group,
                         const char *resource,
                         const char *label,
                         const char *path)
{
    const struct obj_resource *res =
        obj_registry_find(r, group, "v1", resource);
    const struct obj_field_label *f;

    ASSERT(res != NULL);
    f = obj_resource_field(res, label);
    ASSERT_MSG(f != NULL, "%s: no field label %s", resource, label);
    if (path == NULL)
        ASSERT(f->path == NULL);
    else
        ASSERT_STR_EQ(f->path, path);
}

TEST(registry, field_labels)
{
    struct obj_registry *r = new_registry();
    size_t n;
    const struct obj_resource *b = obj_registry_builtins(&n);
    static const char *const pod[] = {
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
        NULL,
    };
    static const char *const event[] = {
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "type",
        NULL,
    };

    /* metadata.name everywhere; metadata.namespace everywhere but the two
     * kinds whose conversion refuses it. */
    for (size_t i = 0; i < n; i++) {
        bool own = strcmp(b[i].resource, "nodes") == 0 ||
                   (strcmp(b[i].resource, "namespaces") == 0);

        ASSERT(obj_resource_field(&b[i], "metadata.name") != NULL);
        ASSERT_EQ(obj_resource_field(&b[i], "metadata.namespace") != NULL,
                  !own);
        ASSERT(obj_resource_field(&b[i], "spec.nosuch") == NULL);
    }
    for (const char *const *f = pod; *f != NULL; f++)
        assert_field(r, "", "pods", *f, *f);
    for (const char *const *f = event; *f != NULL; f++)
        assert_field(r, "", "events", *f, *f);
    assert_field(r, "", "events", "source", NULL);
    assert_field(r, "events.k8s.io", "events", "regarding.kind",
                 "regarding.kind");
    assert_field(r, "events.k8s.io", "events", "reportingController",
                 "reportingController");
    assert_field(r, "", "secrets", "type", "type");
    assert_field(r, "", "namespaces", "status.phase", "status.phase");
    assert_field(r, "", "nodes", "spec.unschedulable", "spec.unschedulable");
    assert_field(r, "", "services", "spec.clusterIP", "spec.clusterIP");
    assert_field(r, "batch", "jobs", "status.successful", "status.succeeded");
    assert_field(r, "apps", "replicasets", "status.replicas",
                 "status.replicas");
}

TEST(registry, group_order)
{
    struct obj_registry *r = new_registry();
    static const char *const order[] = {
        "",
        "apps",
        "events.k8s.io",
        "authorization.k8s.io",
        "batch",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "apiextensions.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
    };

    ASSERT_EQ(obj_registry_n_groups(r), sizeof order / sizeof order[0]);
    for (size_t i = 0; i < obj_registry_n_groups(r); i++) {
        const struct obj_api_group *g = obj_registry_group(r, i);

        ASSERT_STR_EQ(g->name, order[i]);
        ASSERT_EQ(g->priority, obj_group_priority(order[i]));
        ASSERT(i == 0 || obj_registry_group(r, i - 1)->priority > g->priority);
        ASSERT_EQ(g->n_versions, 1);
        ASSERT_STR_EQ(g->versions[0].version, "v1");
        for (size_t k = 1; k < g->versions[0].n_resources; k++)
            ASSERT(strcmp(g->versions[0].resources[k - 1]->resource,
                          g->versions[0].resources[k]->resource) < 0);
    }
    ASSERT(obj_registry_group(r, 99) == NULL);
    ASSERT_EQ(obj_group_priority("example.com"), OBJ_GROUP_PRIORITY_CRD);
    ASSERT_EQ(obj_registry_find_group(r, "apps"), obj_registry_group(r, 1));
    ASSERT(obj_registry_find_group(r, "nosuch") == NULL);
}

TEST(registry, version_order)
{
    /* Kubernetes' own example of version priority. */
    static const char *const order[] = {
        "v10",       "v2",        "v1",   "v11beta2", "v10beta3", "v3beta1",
        "v12alpha1", "v11alpha2", "foo1", "foo10",    "v01",      "v1beta",
    };
    const size_t n = sizeof order / sizeof order[0];

    for (size_t i = 0; i < n; i++) {
        ASSERT_EQ(obj_version_cmp(order[i], order[i]), 0);
        for (size_t j = i + 1; j < n; j++)
            ASSERT_MSG(obj_version_cmp(order[i], order[j]) < 0 &&
                           obj_version_cmp(order[j], order[i]) > 0,
                       "%s should come before %s", order[i], order[j]);
    }
}

TEST(registry, lookups)
{
    struct obj_registry *r = new_registry();
    const struct obj_resource *core_ev, *ev;

    ASSERT_STR_EQ(obj_registry_find(r, "", "v1", "pods")->kind, "Pod");
    ASSERT_STR_EQ(obj_registry_find(r, "apps", "v1", "deployments")->kind,
                  "Deployment");
    ASSERT(obj_registry_find(r, "apps", "v2", "deployments") == NULL);
    ASSERT(obj_registry_find(r, "", "v1", "deployments") == NULL);
    ASSERT(obj_registry_find(r, "nosuch", "v1", "pods") == NULL);
    ASSERT(obj_registry_find(r, "", "v1", "zzz") == NULL);
    ASSERT(obj_registry_find(r, "", "v1", "a") == NULL);

    core_ev = obj_registry_find_kind(r, "", "v1", "Event");
    ev = obj_registry_find_kind(r, "events.k8s.io", NULL, "Event");
    ASSERT(core_ev != NULL && ev != NULL && core_ev != ev);
    ASSERT_STR_EQ(ev->store_prefix, "events.k8s.io/events");
    ASSERT_STR_EQ(core_ev->store_prefix, "events");
    ASSERT(obj_registry_find_kind(r, "apps", "v1", "Pod") == NULL);
    ASSERT(obj_registry_find_kind(r, "nosuch", NULL, "Pod") == NULL);

    ASSERT(obj_registry_find_api_kind(r, "v1", "Event") == core_ev);
    ASSERT(obj_registry_find_api_kind(r, "events.k8s.io/v1", "Event") == ev);
    ASSERT_STR_EQ(
        obj_registry_find_api_kind(r, "apps/v1", "Deployment")->resource,
        "deployments");
    ASSERT(obj_registry_find_api_kind(r, "apps/v1beta1", "Deployment") == NULL);
    ASSERT(obj_registry_find_api_kind(r, "/v1", "Pod") == NULL);
    ASSERT(obj_registry_find_api_kind(r, "apps", "Deployment") == NULL);
}

TEST(registry, resolve_names)
{
    struct obj_registry *r = new_registry();

    ASSERT_STR_EQ(obj_registry_resolve(r, "po", NULL)->resource, "pods");
    ASSERT_STR_EQ(obj_registry_resolve(r, "pod", NULL)->resource, "pods");
    ASSERT_STR_EQ(obj_registry_resolve(r, "pods", NULL)->resource, "pods");
    ASSERT_STR_EQ(obj_registry_resolve(r, "deploy", NULL)->group, "apps");
    ASSERT_STR_EQ(obj_registry_resolve(r, "endpoints", NULL)->kind,
                  "Endpoints");
    ASSERT_STR_EQ(obj_registry_resolve(r, "sc", NULL)->kind, "StorageClass");
    /* Core wins for the names both Event resources share. */
    ASSERT_STR_EQ(obj_registry_resolve(r, "ev", NULL)->group, "");
    ASSERT_STR_EQ(obj_registry_resolve(r, "events", NULL)->group, "");
    ASSERT_STR_EQ(obj_registry_resolve(r, "ev", "events.k8s.io")->group,
                  "events.k8s.io");
    ASSERT(obj_registry_resolve(r, "po", "apps") == NULL);
    ASSERT(obj_registry_resolve(r, "Pod", NULL) == NULL);
    ASSERT(obj_registry_resolve(r, "nosuch", NULL) == NULL);
}

/* ---- extra resources (the CRD hook) --------------------------------------*/

#define CRD(ver, plural, kind_)                                               \
    {                                                                         \
        .group = "stable.example.com", .version = ver, .kind = kind_,         \
        .list_kind = kind_ "List", .resource = plural, .singular = "crontab", \
        .namespaced = true, .short_names = (const char *const[]){"ct", NULL}, \
        .categories = (const char *const[]){"all", NULL},                     \
        .verbs = OBJ_VERBS_ALL,                                               \
        .subresources = (const struct obj_subresource[]){{.name = NULL}},     \
        .store_prefix = "stable.example.com/" plural,                         \
        .fields = (const struct obj_field_label[])                            \
        {                                                                     \
            {"metadata.name", "metadata.name"},                               \
            {                                                                 \
                .label = NULL                                                 \
            }                                                                 \
        }                                                                     \
    }

/* File scope: compound literals in a function are not constants. */
static const struct obj_resource crds[] = {
    CRD("v1beta1", "crontabs", "CronTab"),
    CRD("v1", "crontabs", "CronTab"),
    CRD("v2alpha1", "crontabs", "CronTab"),
};

TEST(registry, extra_resources)
{
    struct obj_registry *r = NULL;
    const struct obj_api_group *g;
    struct err e = {0};

    ASSERT_EQ(obj_registry_new(crds, 3, &r, &e), 0);
    unit_defer(free_registry, r);
    /* After every built-in group; versions by priority. */
    ASSERT_EQ(obj_registry_n_groups(r), 11);
    g = obj_registry_group(r, 10);
    ASSERT_STR_EQ(g->name, "stable.example.com");
    ASSERT_EQ(g->priority, OBJ_GROUP_PRIORITY_CRD);
    ASSERT_EQ(g->n_versions, 3);
    ASSERT_STR_EQ(g->versions[0].version, "v1");
    ASSERT_STR_EQ(g->versions[1].version, "v1beta1");
    ASSERT_STR_EQ(g->versions[2].version, "v2alpha1");
    ASSERT(obj_registry_find_kind(r, "stable.example.com", NULL, "CronTab") ==
           &crds[1]);
    ASSERT(obj_registry_find(r, "stable.example.com", "v2alpha1", "crontabs") ==
           &crds[2]);
    /* Built-ins still come first by name. */
    ASSERT_STR_EQ(obj_registry_resolve(r, "ct", NULL)->version, "v1");
    ASSERT_STR_EQ(obj_registry_resolve(r, "po", NULL)->resource, "pods");
}

TEST(registry, extra_resources_rejected)
{
    size_t n;
    const struct obj_resource *b = obj_registry_builtins(&n);
    struct obj_resource dup = b[1], bad = b[1], kind_dup = b[1];
    struct obj_registry *r = NULL;
    struct err e = {0};

    ASSERT_EQ(obj_registry_new(&dup, 1, &r, &e), -EEXIST);
    ASSERT_STR_CONTAINS(e.msg, "pods");
    kind_dup.resource = "pods2";
    ASSERT_EQ(obj_registry_new(&kind_dup, 1, &r, &e), -EEXIST);
    bad.store_prefix = NULL;
    ASSERT_EQ(obj_registry_new(&bad, 1, &r, &e), -EINVAL);
    bad = b[1];
    bad.version = "";
    ASSERT_EQ(obj_registry_new(&bad, 1, &r, &e), -EINVAL);
    ASSERT(r == NULL);
}

TEST(registry, out_of_memory)
{
    for (int k = 0; k < 8; k++) {
        struct obj_registry *r = NULL;
        int rc;

        mem_fault_arm(k, 1);
        rc = obj_registry_new(NULL, 0, &r, NULL);
        mem_fault_arm(-1, 0);
        if (rc == 0) {
            ASSERT(k >= 4);
            obj_registry_free(r);
            continue;
        }
        ASSERT_EQ(rc, -ENOMEM);
        ASSERT(r == NULL);
    }
}

UNIT_MAIN()
