/* The resource registry: every kind c8s serves, with what discovery, the
 * store and the request router need to know about it (no I/O).
 *
 * The built-in resources live in one static table (registry.c), written
 * from the facts of the Kubernetes API: names, scope, short names,
 * categories, verbs, subresources and field-selector labels are what a real
 * kube-apiserver reports, so kubectl behaves the same against c8s.
 *
 * A struct obj_registry is an immutable, ordered view of the built-ins plus
 * any extra resources the caller passes in. The extras are the hook for
 * CustomResourceDefinitions (issue 7): when the set of CRDs changes, the
 * server builds a new registry with obj_registry_new(), rebuilds discovery
 * from it and swaps the two in; readers of the old one finish undisturbed.
 *
 * Order: groups as kube-apiserver lists them in /apis (highest group
 * priority first, ties by name; the core group "" first of all), versions
 * within a group by Kubernetes version priority (v1 > v1beta2 > v1beta1 >
 * v1alpha1, others last by name), resources within a version by plural.
 *
 * Strings in the table are static; a registry only borrows the extras'
 * strings and arrays, which must outlive it. */
#ifndef C8S_API_OBJECT_REGISTRY_H
#define C8S_API_OBJECT_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"

struct obj_sstruct;
struct obj_table;

/* Verbs as bits; the bit order is the alphabetical order in which
 * Kubernetes lists them in discovery. */
enum {
    OBJ_VERB_CREATE = 1u << 0,
    OBJ_VERB_DELETE = 1u << 1,
    OBJ_VERB_DELETECOLLECTION = 1u << 2,
    OBJ_VERB_GET = 1u << 3,
    OBJ_VERB_LIST = 1u << 4,
    OBJ_VERB_PATCH = 1u << 5,
    OBJ_VERB_UPDATE = 1u << 6,
    OBJ_VERB_WATCH = 1u << 7,
};
#define OBJ_VERB_COUNT 8
/* What the generic REST storage of a collection offers. */
#define OBJ_VERBS_ALL 0xffu
/* What a status or scale subresource offers. */
#define OBJ_VERBS_SUB (OBJ_VERB_GET | OBJ_VERB_PATCH | OBJ_VERB_UPDATE)

/* Group priority that kube-apiserver gives a CRD's group (its APIService
 * groupPriorityMinimum): below every built-in group. */
#define OBJ_GROUP_PRIORITY_CRD 1000

/* Name of verb bit @bit ("create"), or NULL if @bit is not one verb. */
const char *obj_verb_name(unsigned bit);

/* A group, version and kind. */
struct obj_gvk {
    const char *group;   /* "" for the core group */
    const char *version; /* "v1" */
    const char *kind;    /* "Deployment" */
};

/* A subresource served under a resource, e.g. deployments/scale. */
struct obj_subresource {
    const char *name;    /* "status", "scale" */
    struct obj_gvk kind; /* what it returns: the parent's kind for
                            status, autoscaling/v1 Scale for scale */
    unsigned verbs;      /* OBJ_VERB_* bits */
};

/* A field-selector label a resource accepts, and where its value is found
 * in the stored object. */
struct obj_field_label {
    const char *label; /* as written in ?fieldSelector= */
    const char *path;  /* dotted path in the object (obj_get_path), or
                          NULL when the value is computed, not read (see
                          the comment at the resource in registry.c) */
};

/* One resource of one group-version. Arrays of strings end with NULL;
 * subresources and fields end with an entry whose name/label is NULL. */
struct obj_resource {
    const char *group;              /* "" for core */
    const char *version;            /* "v1" */
    const char *kind;               /* "Pod" */
    const char *list_kind;          /* "PodList" */
    const char *resource;           /* plural, the URL segment: "pods" */
    const char *singular;           /* "pod" */
    bool namespaced;                /* scope Namespaced (else Cluster) */
    const char *const *short_names; /* {"po", NULL}; never NULL */
    const char *const *categories;  /* {"all", NULL}; never NULL */
    unsigned verbs;                 /* OBJ_VERB_* bits of the collection */
    const struct obj_subresource *subresources; /* never NULL */
    const char *store_prefix;             /* key prefix in the store: "pods" for
                                             core, "GROUP/resource" otherwise */
    const char *index_field;              /* the one field the store indexes for
                                             list/watch ("spec.nodeName"), or NULL */
    const struct obj_field_label *fields; /* accepted field-selector
                                             labels; never NULL */
    /* Custom resources only (NULL for built-ins, which find theirs by
     * kind): the schema of the objects, the columns of their tables and
     * the paths their scale subresource reads and writes. */
    const struct obj_sstruct *schema;
    const struct obj_table *table;
    const struct obj_scale_paths *scale;
};

/* Where a custom resource's scale subresource finds its values: dotted
 * paths without the leading dot ("spec.replicas"); selector may be NULL. */
struct obj_scale_paths {
    const char *spec_replicas;
    const char *status_replicas;
    const char *selector;
};

/* One version of a group in a registry. */
struct obj_api_version {
    const char *version;                         /* "v1" */
    const struct obj_resource *const *resources; /* sorted by plural */
    size_t n_resources;                          /* entries in resources */
};

/* One group in a registry. */
struct obj_api_group {
    const char *name;                       /* "" for core (under /api) */
    int priority;                           /* kube-apiserver group
                                               priority; higher first */
    const struct obj_api_version *versions; /* preferred first */
    size_t n_versions;                      /* entries in versions */
};

struct obj_registry;

/* The built-in table itself, in table order (for tests and tools). */
const struct obj_resource *obj_registry_builtins(size_t *ret_n);

/* Priority of group @name in /apis: kube-apiserver's value for a
 * Kubernetes group, OBJ_GROUP_PRIORITY_CRD for any other. */
int obj_group_priority(const char *name);

/* Compare two version strings by Kubernetes version priority: negative
 * when @a is preferred over @b. "v2" < "v1" < "v1beta2" < "v1beta1" <
 * "v1alpha1" < "foo" (non-Kubernetes-like versions last, by name). */
int obj_version_cmp(const char *a, const char *b);

/* Build a registry of the built-ins plus @n_extra resources at @extra
 * (may be NULL when @n_extra is 0), borrowed. Fails with -EEXIST (and a
 * message) when a resource duplicates another's group/version/resource or
 * group/version/kind, -EINVAL when one is incomplete, -ENOMEM. */
int obj_registry_new(const struct obj_resource *extra,
                     size_t n_extra,
                     struct obj_registry **ret,
                     struct err *e);

/* Free a registry; accepts NULL. */
void obj_registry_free(struct obj_registry *r);

/* Groups in order (index 0 is the core group). */
size_t obj_registry_n_groups(const struct obj_registry *r);
const struct obj_api_group *obj_registry_group(const struct obj_registry *r,
                                               size_t i);
/* The group named @name ("" for core), or NULL. */
const struct obj_api_group *obj_registry_find_group(
    const struct obj_registry *r,
    const char *name);

/* The resource served at @group/@version/@resource (the plural), or
 * NULL. */
const struct obj_resource *obj_registry_find(const struct obj_registry *r,
                                             const char *group,
                                             const char *version,
                                             const char *resource);

/* The resource of kind @kind in @group; @version NULL means the group's
 * preferred version that has the kind. NULL if none. */
const struct obj_resource *obj_registry_find_kind(const struct obj_registry *r,
                                                  const char *group,
                                                  const char *version,
                                                  const char *kind);

/* Same from an object's apiVersion ("apps/v1", "v1") and kind. */
const struct obj_resource *obj_registry_find_api_kind(
    const struct obj_registry *r,
    const char *api_version,
    const char *kind);

/* Resolve a name as a person types it: the plural, the singular or a
 * short name, case-sensitive, in @group (NULL: any group, in registry
 * order, so core wins as it does for kubectl: "ev" is core events).
 * Preferred versions come first. NULL if nothing matches. */
const struct obj_resource *obj_registry_resolve(const struct obj_registry *r,
                                                const char *name,
                                                const char *group);

/* Subresource @name of @res, or NULL. */
const struct obj_subresource *obj_resource_subresource(
    const struct obj_resource *res,
    const char *name);

/* Field label @label of @res, or NULL when the resource does not support
 * selecting on it. */
const struct obj_field_label *obj_resource_field(const struct obj_resource *res,
                                                 const char *label);

#endif /* C8S_API_OBJECT_REGISTRY_H */
