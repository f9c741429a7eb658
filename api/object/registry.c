/* The built-in resource table and the ordered registry built from it.
 *
 * Facts (scope, short names, categories, verbs, subresources, field labels)
 * follow kube-apiserver 1.33: its discovery documents and, for field
 * selectors, the field-label conversions and "selectable fields" of each
 * kind. Missing values compare as Kubernetes' zero values: "" for strings,
 * "false" for booleans, "0" for numbers. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/object/registry.h"
#include "lib/mem.h"

/* ---- table helpers ------------------------------------------------------ */

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE ((const char *const[]){NULL})
#define SUBS(...) \
    ((const struct obj_subresource[]){__VA_ARGS__, {.name = NULL}})
#define NOSUBS ((const struct obj_subresource[]){{.name = NULL}})
#define STATUS(g, v, k)                                             \
    {                                                               \
        .name = "status", .kind = {g, v, k}, .verbs = OBJ_VERBS_SUB \
    }
/* Scale subresources answer with autoscaling/v1 Scale whatever the parent
 * (this is what kubectl scale and the HPA expect). */
#define SCALE                                                    \
    {                                                            \
        .name = "scale", .kind = {"autoscaling", "v1", "Scale"}, \
        .verbs = OBJ_VERBS_SUB                                   \
    }
#define FIELDS(...) \
    ((const struct obj_field_label[]){__VA_ARGS__, {.label = NULL}})
#define F(label)     \
    {                \
        label, label \
    }
/* Every kind without its own conversion accepts both metadata labels
 * (kube-apiserver's default field-label conversion), cluster-scoped ones
 * included, where metadata.namespace is always "". */
#define META F("metadata.name"), F("metadata.namespace")
#define META_ONLY FIELDS(META)

/* ---- the built-in resources ----------------------------------------------*/

static const struct obj_resource builtins[] = {
    /* core/v1 */
    {.group = "",
     .version = "v1",
     .kind = "Namespace",
     .list_kind = "NamespaceList",
     .resource = "namespaces",
     .singular = "namespace",
     .namespaced = false,
     .short_names = NAMES("ns"),
     .categories = NONE,
     /* No deletecollection: deleting every namespace at once is refused. */
     .verbs = OBJ_VERBS_ALL & ~OBJ_VERB_DELETECOLLECTION,
     /* finalize: how the namespace controller lifts spec.finalizers. */
     .subresources = SUBS({.name = "finalize",
                           .kind = {"", "v1", "Namespace"},
                           .verbs = OBJ_VERB_UPDATE},
                          STATUS("", "v1", "Namespace")),
     .store_prefix = "namespaces",
     /* Namespace has its own conversion: no metadata.namespace. */
     .fields = FIELDS(F("metadata.name"), F("status.phase"))},
    {.group = "",
     .version = "v1",
     .kind = "Pod",
     .list_kind = "PodList",
     .resource = "pods",
     .singular = "pod",
     .namespaced = true,
     .short_names = NAMES("po"),
     .categories = NAMES("all"),
     .verbs = OBJ_VERBS_ALL,
     .subresources = SUBS(STATUS("", "v1", "Pod")),
     .store_prefix = "pods",
     /* Kubelets watch their own pods: spec.nodeName=<node>. */
     .index_field = "spec.nodeName",
     /* spec.hostNetwork defaults to "false"; status.podIP is the first
      * entry of status.podIPs, which v1 mirrors in status.podIP. The
      * conversion also accepts status.podIPs, but no pod ever carries a
      * value for it, so it is left out; spec.host is an old alias of
      * spec.nodeName that the router may map. */
     .fields = FIELDS(META,
                      F("spec.nodeName"),
                      F("spec.restartPolicy"),
                      F("spec.schedulerName"),
                      F("spec.serviceAccountName"),
                      F("spec.hostNetwork"),
                      F("status.phase"),
                      F("status.podIP"),
                      F("status.nominatedNodeName"))},
    {.group = "",
     .version = "v1",
     .kind = "Node",
     .list_kind = "NodeList",
     .resource = "nodes",
     .singular = "node",
     .namespaced = false,
     .short_names = NAMES("no"),
     .categories = NONE,
     .verbs = OBJ_VERBS_ALL,
     .subresources = SUBS(STATUS("", "v1", "Node")),
     .store_prefix = "nodes",
     /* Node has its own conversion: no metadata.namespace. */
     .fields = FIELDS(F("metadata.name"), F("spec.unschedulable"))},
    {.group = "",
     .version = "v1",
     .kind = "Service",
     .list_kind = "ServiceList",
     .resource = "services",
     .singular = "service",
     .namespaced = true,
     .short_names = NAMES("svc"),
     .categories = NAMES("all"),
     .verbs = OBJ_VERBS_ALL,
     .subresources = SUBS(STATUS("", "v1", "Service")),
     .store_prefix = "services",
     .fields = FIELDS(META, F("spec.clusterIP"), F("spec.type"))},
    {.group = "",
     .version = "v1",
     .kind = "Endpoints",
     .list_kind = "EndpointsList",
     .resource = "endpoints",
     .singular = "endpoints",
     .namespaced = true,
     .short_names = NAMES("ep"),
     .categories = NONE,
     .verbs = OBJ_VERBS_ALL,
     .subresources = NOSUBS,
     .store_prefix = "endpoints",
     .fields = META_ONLY},
    {.group = "",
     .version = "v1",
     .kind = "LimitRange",
     .list_kind = "LimitRangeList",
     .resource = "limitranges",
     .singular = "limitrange",
     .namespaced = true,
     .short_names = NAMES("limits"),
     .categories = NONE,
     .verbs = OBJ_VERBS_ALL,
     .subresources = NOSUBS,
     .store_prefix = "limitranges",
     .fields = META_ONLY},
    {.group = "",
     .version = "v1",
     .kind = "ResourceQuota",
     .list_kind = "ResourceQuotaList",
     .resource = "resourcequotas",
     .singular = "resourcequota",
     .namespaced = true,
     .short_names = NAMES("quota"),
     .categories = NONE,
     .verbs = OBJ_VERBS_ALL,
     .subresources = SUBS(STATUS("", "v1", "ResourceQuota")),
     .store_prefix = "resourcequotas",
     .fields = META_ONLY},
    {.group = "",
     .version = "v1",
     .kind = "ConfigMap",
     .list_kind = "ConfigMapList",
     .resource = "configmaps",
     .singular = "configmap",
     .namespaced = true,
     .short_names = NAMES("cm"),
     .categories = NONE,
     .verbs = OBJ_VERBS_ALL,
     .subresources = NOSUBS,
     .store_prefix = "configmaps",
     .fields = META_ONLY},
    {.group = "",
     .version = "v1",
     .kind = "Secret",
     .list_kind = "SecretList",
     .resource = "secrets",
     .singular = "secret",
     .namespaced = true,
     .short_names = NONE,
     .categories = NONE,
     .verbs = OBJ_VERBS_ALL,
     .subresources = NOSUBS,
     .store_prefix = "secrets",
     .fields = FIELDS(META, F("type"))},
    {.group = "",
     .version = "v1",
     .kind = "ServiceAccount",
     .list_kind = "ServiceAccountList",
     .resource = "serviceaccounts",
     .singular = "serviceaccount",
     .namespaced = true,
     .short_names = NAMES("sa"),
     .categories = NONE,
     .verbs = OBJ_VERBS_ALL,
     /* TokenRequest: a token is created, never stored. */
     .subresources = SUBS({.name = "token",
                           .kind = {"authentication.k8s.io", "v1",
                                    "TokenRequest"},
                           .verbs = OBJ_VERB_CREATE}),
     .store_prefix = "serviceaccounts",
     .fields = META_ONLY},
    {.group = "",
     .version = "v1",
     .kind = "Event",
     .list_kind = "EventList",
     .resource = "events",
     .singular = "event",
     .namespaced = true,
     .short_names = NAMES("ev"),
     .categories = NONE,
     .verbs = OBJ_VERBS_ALL,
     .subresources = NOSUBS,
     .store_prefix = "events",
     /* source is computed: source.component, or reportingComponent when
      * that is empty. */
     .fields = FIELDS(META,
                      F("involvedObject.kind"),
                      F("involvedObject.namespace"),
                      F("involvedObject.name"),
                      F("involvedObject.uid"),
                      F("involvedObject.apiVersion"),
                      F("involvedObject.resourceVersion"),
                      F("involvedObject.fieldPath"),
                      F("reason"),
                      F("reportingComponent"),
                      {"source", NULL},
                      F("type"))},
    {.group = "",
     .version = "v1",
     .kind = "PersistentVolume",
     .list_kind = "PersistentVolumeList",
     .resource = "persistentvolumes",
     .singular = "persistentvolume",
     .namespaced = false,
     .short_names = NAMES("pv"),
     .categories = NONE,
     .verbs = OBJ_VERBS_ALL,
     .subresources = SUBS(STATUS("", "v1", "PersistentVolume")),
     .store_prefix = "persistentvolumes",
     .fields = META_ONLY},
    {.group = "",
     .version = "v1",
     .kind = "PersistentVolumeClaim",
     .list_kind = "PersistentVolumeClaimList",
     .resource = "persistentvolumeclaims",
     .singular = "persistentvolumeclaim",
     .namespaced = true,
     .short_names = NAMES("pvc"),
     .categories = NONE,
     .verbs = OBJ_VERBS_ALL,
     .subresources = SUBS(STATUS("", "v1", "PersistentVolumeClaim")),
     .store_prefix = "persistentvolumeclaims",
     .fields = META_ONLY},

    /* apps/v1 */
    {.group = "apps",
     .version = "v1",
     .kind = "Deployment",
     .list_kind = "DeploymentList",
     .resource = "deployments",
     .singular = "deployment",
     .namespaced = true,
     .short_names = NAMES("deploy"),
     .categories = NAMES("all"),
     .verbs = OBJ_VERBS_ALL,
     .subresources = SUBS(SCALE, STATUS("apps", "v1", "Deployment")),
     .store_prefix = "apps/deployments",
     .fields = META_ONLY},
    {.group = "apps",
     .version = "v1",
     .kind = "ReplicaSet",
     .list_kind = "ReplicaSetList",
     .resource = "replicasets",
     .singular = "replicaset",
     .namespaced = true,
     .short_names = NAMES("rs"),
     .categories = NAMES("all"),
     .verbs = OBJ_VERBS_ALL,
     .subresources = SUBS(SCALE, STATUS("apps", "v1", "ReplicaSet")),
     .store_prefix = "apps/replicasets",
     .fields = FIELDS(META, F("status.replicas"))},
    {.group = "apps",
     .version = "v1",
     .kind = "DaemonSet",
     .list_kind = "DaemonSetList",
     .resource = "daemonsets",
     .singular = "daemonset",
     .namespaced = true,
     .short_names = NAMES("ds"),
     .categories = NAMES("all"),
     .verbs = OBJ_VERBS_ALL,
     .subresources = SUBS(STATUS("apps", "v1", "DaemonSet")),
     .store_prefix = "apps/daemonsets",
     .fields = META_ONLY},
    {.group = "apps",
     .version = "v1",
     .kind = "StatefulSet",
     .list_kind = "StatefulSetList",
     .resource = "statefulsets",
     .singular = "statefulset",
     .namespaced = true,
     .short_names = NAMES("sts"),
     .categories = NAMES("all"),
     .verbs = OBJ_VERBS_ALL,
     .subresources = SUBS(SCALE, STATUS("apps", "v1", "StatefulSet")),
     .store_prefix = "apps/statefulsets",
     .fields = META_ONLY},
    {.group = "apps",
     .version = "v1",
     .kind = "ControllerRevision",
     .list_kind = "ControllerRevisionList",
     .resource = "controllerrevisions",
     .singular = "controllerrevision",
     .namespaced = true,
     .short_names = NONE,
     .categories = NONE,
     .verbs = OBJ_VERBS_ALL,
     .subresources = NOSUBS,
     .store_prefix = "apps/controllerrevisions",
     .fields = META_ONLY},

    /* batch/v1 */
    {.group = "batch",
     .version = "v1",
     .kind = "Job",
     .list_kind = "JobList",
     .resource = "jobs",
     .singular = "job",
     .namespaced = true,
     .short_names = NONE,
     .categories = NAMES("all"),
     .verbs = OBJ_VERBS_ALL,
     .subresources = SUBS(STATUS("batch", "v1", "Job")),
     .store_prefix = "batch/jobs",
     /* The label says "successful", the field is status.succeeded. */
     .fields = FIELDS(META, {"status.successful", "status.succeeded"})},
    {.group = "batch",
     .version = "v1",
     .kind = "CronJob",
     .list_kind = "CronJobList",
     .resource = "cronjobs",
     .singular = "cronjob",
     .namespaced = true,
     .short_names = NAMES("cj"),
     .categories = NAMES("all"),
     .verbs = OBJ_VERBS_ALL,
     .subresources = SUBS(STATUS("batch", "v1", "CronJob")),
     .store_prefix = "batch/cronjobs",
     .fields = META_ONLY},

    /* coordination.k8s.io/v1 */
    {.group = "coordination.k8s.io",
     .version = "v1",
     .kind = "Lease",
     .list_kind = "LeaseList",
     .resource = "leases",
     .singular = "lease",
     .namespaced = true,
     .short_names = NONE,
     .categories = NONE,
     .verbs = OBJ_VERBS_ALL,
     .subresources = NOSUBS,
     .store_prefix = "coordination.k8s.io/leases",
     .fields = META_ONLY},

    /* discovery.k8s.io/v1 */
    {.group = "discovery.k8s.io",
     .version = "v1",
     .kind = "EndpointSlice",
     .list_kind = "EndpointSliceList",
     .resource = "endpointslices",
     .singular = "endpointslice",
     .namespaced = true,
     .short_names = NONE,
     .categories = NONE,
     .verbs = OBJ_VERBS_ALL,
     .subresources = NOSUBS,
     .store_prefix = "discovery.k8s.io/endpointslices",
     .fields = META_ONLY},

    /* storage.k8s.io/v1 */
    {.group = "storage.k8s.io",
     .version = "v1",
     .kind = "StorageClass",
     .list_kind = "StorageClassList",
     .resource = "storageclasses",
     .singular = "storageclass",
     .namespaced = false,
     .short_names = NAMES("sc"),
     .categories = NONE,
     .verbs = OBJ_VERBS_ALL,
     .subresources = NOSUBS,
     .store_prefix = "storage.k8s.io/storageclasses",
     .fields = META_ONLY},

    /* events.k8s.io/v1: kube-apiserver keeps these in the same storage as
     * core events (one object, two shapes); c8s keeps them apart under
     * their own prefix. Field labels use this version's names; source is
     * computed: deprecatedSource.component, or reportingController when
     * that is empty. */
    {.group = "events.k8s.io",
     .version = "v1",
     .kind = "Event",
     .list_kind = "EventList",
     .resource = "events",
     .singular = "event",
     .namespaced = true,
     .short_names = NAMES("ev"),
     .categories = NONE,
     .verbs = OBJ_VERBS_ALL,
     .subresources = NOSUBS,
     .store_prefix = "events.k8s.io/events",
     .fields = FIELDS(META,
                      F("regarding.kind"),
                      F("regarding.namespace"),
                      F("regarding.name"),
                      F("regarding.uid"),
                      F("regarding.apiVersion"),
                      F("regarding.resourceVersion"),
                      F("regarding.fieldPath"),
                      F("reason"),
                      F("reportingController"),
                      {"source", NULL},
                      F("type"))},
    /* authorization.k8s.io/v1 */
    {.group = "authorization.k8s.io",
     .version = "v1",
     .kind = "SelfSubjectAccessReview",
     .list_kind = "SelfSubjectAccessReviewList",
     .resource = "selfsubjectaccessreviews",
     .singular = "selfsubjectaccessreview",
     .namespaced = false,
     .short_names = NONE,
     .categories = NONE,
     /* Asked and answered, never stored. */
     .verbs = OBJ_VERB_CREATE,
     .subresources = NOSUBS,
     .store_prefix = "authorization.k8s.io/selfsubjectaccessreviews",
     .fields = META_ONLY},
    {.group = "authorization.k8s.io",
     .version = "v1",
     .kind = "SelfSubjectRulesReview",
     .list_kind = "SelfSubjectRulesReviewList",
     .resource = "selfsubjectrulesreviews",
     .singular = "selfsubjectrulesreview",
     .namespaced = false,
     .short_names = NONE,
     .categories = NONE,
     /* Asked and answered, never stored. */
     .verbs = OBJ_VERB_CREATE,
     .subresources = NOSUBS,
     .store_prefix = "authorization.k8s.io/selfsubjectrulesreviews",
     .fields = META_ONLY},
    /* rbac.authorization.k8s.io/v1 */
    {.group = "rbac.authorization.k8s.io",
     .version = "v1",
     .kind = "ClusterRoleBinding",
     .list_kind = "ClusterRoleBindingList",
     .resource = "clusterrolebindings",
     .singular = "clusterrolebinding",
     .namespaced = false,
     .short_names = NONE,
     .categories = NONE,
     .verbs = OBJ_VERBS_ALL,
     .subresources = NOSUBS,
     .store_prefix = "rbac.authorization.k8s.io/clusterrolebindings",
     .fields = META_ONLY},
    {.group = "rbac.authorization.k8s.io",
     .version = "v1",
     .kind = "ClusterRole",
     .list_kind = "ClusterRoleList",
     .resource = "clusterroles",
     .singular = "clusterrole",
     .namespaced = false,
     .short_names = NONE,
     .categories = NONE,
     .verbs = OBJ_VERBS_ALL,
     .subresources = NOSUBS,
     .store_prefix = "rbac.authorization.k8s.io/clusterroles",
     .fields = META_ONLY},
    {.group = "rbac.authorization.k8s.io",
     .version = "v1",
     .kind = "RoleBinding",
     .list_kind = "RoleBindingList",
     .resource = "rolebindings",
     .singular = "rolebinding",
     .namespaced = true,
     .short_names = NONE,
     .categories = NONE,
     .verbs = OBJ_VERBS_ALL,
     .subresources = NOSUBS,
     .store_prefix = "rbac.authorization.k8s.io/rolebindings",
     .fields = META_ONLY},
    {.group = "rbac.authorization.k8s.io",
     .version = "v1",
     .kind = "Role",
     .list_kind = "RoleList",
     .resource = "roles",
     .singular = "role",
     .namespaced = true,
     .short_names = NONE,
     .categories = NONE,
     .verbs = OBJ_VERBS_ALL,
     .subresources = NOSUBS,
     .store_prefix = "rbac.authorization.k8s.io/roles",
     .fields = META_ONLY},
    /* apiextensions.k8s.io/v1 */
    {.group = "apiextensions.k8s.io",
     .version = "v1",
     .kind = "CustomResourceDefinition",
     .list_kind = "CustomResourceDefinitionList",
     .resource = "customresourcedefinitions",
     .singular = "customresourcedefinition",
     .namespaced = false,
     .short_names = NAMES("crd", "crds"),
     .categories = NAMES("api-extensions"),
     .verbs = OBJ_VERBS_ALL,
     .subresources = SUBS(STATUS("apiextensions.k8s.io", "v1",
                                 "CustomResourceDefinition")),
     .store_prefix = "apiextensions.k8s.io/customresourcedefinitions",
     .fields = META_ONLY},
};

#define N_BUILTINS (sizeof builtins / sizeof builtins[0])

const struct obj_resource *obj_registry_builtins(size_t *ret_n)
{
    *ret_n = N_BUILTINS;
    return builtins;
}

/* ---- groups and versions -------------------------------------------------*/

/* kube-apiserver's group priorities (its APIService groupPriorityMinimum
 * for built-in groups): /apis lists groups from the highest down. Groups
 * c8s does not serve are listed too, so that adding one later keeps the
 * real order. */
static const struct {
    const char *name; /* group */
    int priority;     /* higher is listed first */
} group_priorities[] = {
    {"", 18000},
    {"apps", 17800},
    {"events.k8s.io", 17750},
    {"authentication.k8s.io", 17700},
    {"authorization.k8s.io", 17600},
    {"autoscaling", 17500},
    {"batch", 17400},
    {"certificates.k8s.io", 17300},
    {"networking.k8s.io", 17200},
    {"policy", 17100},
    {"rbac.authorization.k8s.io", 17000},
    {"storage.k8s.io", 16800},
    {"admissionregistration.k8s.io", 16700},
    {"apiextensions.k8s.io", 16700},
    {"scheduling.k8s.io", 16600},
    {"coordination.k8s.io", 16500},
    {"node.k8s.io", 16300},
    {"discovery.k8s.io", 16200},
    {"flowcontrol.apiserver.k8s.io", 16100},
    {"internal.apiserver.k8s.io", 16000},
    {"resource.k8s.io", 15900},
    {"storagemigration.k8s.io", 15800},
};

int obj_group_priority(const char *name)
{
    for (size_t i = 0; i < sizeof group_priorities / sizeof group_priorities[0];
         i++)
        if (strcmp(group_priorities[i].name, name) == 0)
            return group_priorities[i].priority;
    return OBJ_GROUP_PRIORITY_CRD;
}

/* A version string split the Kubernetes way: v<major>[(alpha|beta)<minor>]. */
struct kube_version {
    bool kube_like;      /* matched the pattern at all */
    int stage;           /* 2 GA, 1 beta, 0 alpha */
    unsigned long major; /* the number after "v" */
    unsigned long minor; /* the number after alpha/beta (0 for GA) */
};

/* Parse a run of digits at *@s (at least one, no leading zero, bounded). */
static bool parse_num(const char **s, unsigned long *ret)
{
    const char *p = *s;
    unsigned long v = 0;

    if (*p < '1' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9') {
        if (v > 100000000ul)
            return false;
        v = v * 10 + (unsigned long)(*p++ - '0');
    }
    *s = p;
    *ret = v;
    return true;
}

static struct kube_version kube_version_parse(const char *s)
{
    struct kube_version kv = {.kube_like = false};
    const char *p = s;

    if (*p++ != 'v' || !parse_num(&p, &kv.major))
        return kv;
    kv.stage = 2;
    if (strncmp(p, "alpha", 5) == 0 || strncmp(p, "beta", 4) == 0) {
        kv.stage = *p == 'a' ? 0 : 1;
        p += kv.stage == 0 ? 5 : 4;
        if (!parse_num(&p, &kv.minor))
            return kv;
    }
    kv.kube_like = *p == '\0';
    return kv;
}

/* Descending order of an unsigned pair, as a comparison result. */
static int cmp_desc(unsigned long a, unsigned long b)
{
    return a > b ? -1 : a < b ? 1 : 0;
}

int obj_version_cmp(const char *a, const char *b)
{
    struct kube_version va = kube_version_parse(a);
    struct kube_version vb = kube_version_parse(b);

    if (va.kube_like != vb.kube_like)
        return va.kube_like ? -1 : 1;
    if (!va.kube_like)
        return strcmp(a, b);
    if (va.stage != vb.stage)
        return va.stage > vb.stage ? -1 : 1;
    if (va.major != vb.major)
        return cmp_desc(va.major, vb.major);
    return cmp_desc(va.minor, vb.minor);
}

/* ---- building a registry -------------------------------------------------*/

struct obj_registry {
    const struct obj_resource **res;  /* every resource, in registry order */
    size_t n_res;                     /* entries in res */
    struct obj_api_group *groups;     /* in /apis order, core first */
    size_t n_groups;                  /* entries in groups */
    struct obj_api_version *versions; /* all groups' versions, in order;
                                         groups point into this */
    size_t n_versions;                /* entries in versions */
};

/* Registry order: group priority, group name, version priority, plural. */
static int res_order(const void *pa, const void *pb)
{
    const struct obj_resource *a = *(const struct obj_resource *const *)pa;
    const struct obj_resource *b = *(const struct obj_resource *const *)pb;
    int pa_ = obj_group_priority(a->group), pb_ = obj_group_priority(b->group);
    int c;

    if (pa_ != pb_)
        return pa_ > pb_ ? -1 : 1;
    if ((c = strcmp(a->group, b->group)) != 0)
        return c;
    if ((c = obj_version_cmp(a->version, b->version)) != 0)
        return c;
    return strcmp(a->resource, b->resource);
}

static bool str_set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* A resource the registry can serve: every name present, arrays given. */
static int res_check(const struct obj_resource *r, struct err *e)
{
    if (r->group == NULL || !str_set(r->version) || !str_set(r->kind) ||
        !str_set(r->list_kind) || !str_set(r->resource) ||
        !str_set(r->singular) || !str_set(r->store_prefix) ||
        r->short_names == NULL || r->categories == NULL ||
        r->subresources == NULL || r->fields == NULL)
        return err_setf(e, -EINVAL, "resource %s: incomplete entry",
                        r->resource != NULL ? r->resource : "(null)");
    return 0;
}

static bool same_gv(const struct obj_resource *a, const struct obj_resource *b)
{
    return strcmp(a->group, b->group) == 0 &&
           strcmp(a->version, b->version) == 0;
}

/* After sorting, equal group/version/resource are neighbours; equal kinds
 * within a group-version need a scan of the run. */
static int res_check_dups(const struct obj_resource **res,
                          size_t n,
                          struct err *e)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n && same_gv(res[i], res[j]); j++) {
            if (strcmp(res[i]->resource, res[j]->resource) == 0 ||
                strcmp(res[i]->kind, res[j]->kind) == 0)
                return err_setf(e, -EEXIST, "%s/%s %s (%s) is registered twice",
                                res[i]->group, res[i]->version,
                                res[j]->resource, res[j]->kind);
        }
    }
    return 0;
}

/* Count the distinct groups and group-versions of the sorted array. */
static void count_runs(const struct obj_resource **res,
                       size_t n,
                       size_t *ret_groups,
                       size_t *ret_versions)
{
    size_t g = 0, v = 0;

    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(res[i]->group, res[i - 1]->group) != 0)
            g++;
        if (i == 0 || !same_gv(res[i], res[i - 1]))
            v++;
    }
    *ret_groups = g;
    *ret_versions = v;
}

/* Fill groups and versions from the sorted resources. */
static void fill_runs(struct obj_registry *r)
{
    struct obj_api_group *g = NULL;
    struct obj_api_version *v = NULL;

    for (size_t i = 0; i < r->n_res; i++) {
        const struct obj_resource *x = r->res[i];

        if (g == NULL || strcmp(g->name, x->group) != 0) {
            g = &r->groups[r->n_groups++];
            *g =
                (struct obj_api_group){.name = x->group,
                                       .priority = obj_group_priority(x->group),
                                       .versions = &r->versions[r->n_versions]};
            v = NULL;
        }
        if (v == NULL || strcmp(v->version, x->version) != 0) {
            v = &r->versions[r->n_versions++];
            *v = (struct obj_api_version){.version = x->version,
                                          .resources = &r->res[i]};
            g->n_versions++;
        }
        v->n_resources++;
    }
}

/* Collect built-ins and extras into r->res, checked and sorted. */
static int collect(struct obj_registry *r,
                   const struct obj_resource *extra,
                   size_t n_extra,
                   struct err *e)
{
    size_t n = N_BUILTINS + n_extra;
    int rc;

    r->res = mem_calloc(n, sizeof *r->res);
    if (r->res == NULL)
        return err_setf(e, -ENOMEM, "registry: out of memory");
    for (size_t i = 0; i < n; i++) {
        r->res[i] = i < N_BUILTINS ? &builtins[i] : &extra[i - N_BUILTINS];
        if ((rc = res_check(r->res[i], e)) < 0)
            return rc;
    }
    r->n_res = n;
    qsort(r->res, n, sizeof *r->res, res_order);
    return res_check_dups(r->res, n, e);
}

int obj_registry_new(const struct obj_resource *extra,
                     size_t n_extra,
                     struct obj_registry **ret,
                     struct err *e)
{
    struct obj_registry *r = mem_calloc(1, sizeof *r);
    size_t ng, nv;
    int rc;

    if (r == NULL)
        return err_setf(e, -ENOMEM, "registry: out of memory");
    if ((rc = collect(r, extra, n_extra, e)) < 0)
        goto err;
    count_runs(r->res, r->n_res, &ng, &nv);
    r->groups = mem_calloc(ng, sizeof *r->groups);
    r->versions = mem_calloc(nv, sizeof *r->versions);
    if (r->groups == NULL || r->versions == NULL) {
        rc = err_setf(e, -ENOMEM, "registry: out of memory");
        goto err;
    }
    fill_runs(r);
    *ret = r;
    return 0;
err:
    obj_registry_free(r);
    return rc;
}

void obj_registry_free(struct obj_registry *r)
{
    if (r == NULL)
        return;
    mem_free(r->res);
    mem_free(r->groups);
    mem_free(r->versions);
    mem_free(r);
}

/* ---- lookups
 * ---------------------------------------------------------------*/

const char *obj_verb_name(unsigned bit)
{
    static const char *const names[OBJ_VERB_COUNT] = {
        "create", "delete", "deletecollection", "get",
        "list",   "patch",  "update",           "watch",
    };

    for (unsigned i = 0; i < OBJ_VERB_COUNT; i++)
        if (bit == 1u << i)
            return names[i];
    return NULL;
}

size_t obj_registry_n_groups(const struct obj_registry *r)
{
    return r->n_groups;
}

const struct obj_api_group *obj_registry_group(const struct obj_registry *r,
                                               size_t i)
{
    return i < r->n_groups ? &r->groups[i] : NULL;
}

const struct obj_api_group *obj_registry_find_group(
    const struct obj_registry *r,
    const char *name)
{
    for (size_t i = 0; i < r->n_groups; i++)
        if (strcmp(r->groups[i].name, name) == 0)
            return &r->groups[i];
    return NULL;
}

static const struct obj_api_version *find_version(const struct obj_api_group *g,
                                                  const char *version)
{
    for (size_t i = 0; i < g->n_versions; i++)
        if (strcmp(g->versions[i].version, version) == 0)
            return &g->versions[i];
    return NULL;
}

static int res_key_cmp(const void *key, const void *elem)
{
    const struct obj_resource *r = *(const struct obj_resource *const *)elem;

    return strcmp(key, r->resource);
}

const struct obj_resource *obj_registry_find(const struct obj_registry *r,
                                             const char *group,
                                             const char *version,
                                             const char *resource)
{
    const struct obj_api_group *g = obj_registry_find_group(r, group);
    const struct obj_api_version *v = g ? find_version(g, version) : NULL;
    const struct obj_resource *const *hit;

    if (v == NULL)
        return NULL;
    /* Resources of a version are sorted by plural (the request hot path). */
    hit = bsearch(resource, v->resources, v->n_resources, sizeof *hit,
                  res_key_cmp);
    return hit != NULL ? *hit : NULL;
}

static const struct obj_resource *version_find_kind(
    const struct obj_api_version *v,
    const char *kind)
{
    for (size_t i = 0; i < v->n_resources; i++)
        if (strcmp(v->resources[i]->kind, kind) == 0)
            return v->resources[i];
    return NULL;
}

const struct obj_resource *obj_registry_find_kind(const struct obj_registry *r,
                                                  const char *group,
                                                  const char *version,
                                                  const char *kind)
{
    const struct obj_api_group *g = obj_registry_find_group(r, group);
    const struct obj_resource *hit = NULL;

    if (g == NULL)
        return NULL;
    for (size_t i = 0; i < g->n_versions && hit == NULL; i++)
        if (version == NULL || strcmp(g->versions[i].version, version) == 0)
            hit = version_find_kind(&g->versions[i], kind);
    return hit;
}

const struct obj_resource *obj_registry_find_api_kind(
    const struct obj_registry *r,
    const char *api_version,
    const char *kind)
{
    const char *slash = strchr(api_version, '/');
    char group[256];
    size_t glen;

    if (slash == NULL)
        return obj_registry_find_kind(r, "", api_version, kind);
    glen = (size_t)(slash - api_version);
    /* A group name is a DNS subdomain: at most 253 characters. */
    if (glen == 0 || glen >= sizeof group)
        return NULL;
    memcpy(group, api_version, glen);
    group[glen] = '\0';
    return obj_registry_find_kind(r, group, slash + 1, kind);
}

static bool res_has_name(const struct obj_resource *res, const char *name)
{
    if (strcmp(res->resource, name) == 0 || strcmp(res->singular, name) == 0)
        return true;
    for (const char *const *s = res->short_names; *s != NULL; s++)
        if (strcmp(*s, name) == 0)
            return true;
    return false;
}

const struct obj_resource *obj_registry_resolve(const struct obj_registry *r,
                                                const char *name,
                                                const char *group)
{
    /* r->res is in registry order: groups by priority, preferred
     * versions first. */
    for (size_t i = 0; i < r->n_res; i++) {
        if (group != NULL && strcmp(r->res[i]->group, group) != 0)
            continue;
        if (res_has_name(r->res[i], name))
            return r->res[i];
    }
    return NULL;
}

const struct obj_subresource *obj_resource_subresource(
    const struct obj_resource *res,
    const char *name)
{
    for (const struct obj_subresource *s = res->subresources; s->name != NULL;
         s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

const struct obj_field_label *obj_resource_field(const struct obj_resource *res,
                                                 const char *label)
{
    for (const struct obj_field_label *f = res->fields; f->label != NULL; f++)
        if (strcmp(f->label, label) == 0)
            return f;
    return NULL;
}
